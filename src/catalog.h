/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  The model catalog (clv_models): training into it and resolving a
 *	  model name into a prediction spec.
 *
 * clv_train() stores what the shared fit path (fit.h) computes; the
 * name-based prediction functions resolve the newest version of a name
 * once per query (fn_extra) and hand the spec to the prediction core
 * (predict.h).  No math lives here.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_CATALOG_H
#define CLV_CATALOG_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "name_cache.h"
#include "predict.h"

/*
 * The spec of the newest version of the model named by argument 0 of the
 * calling SQL function, cached in fcinfo->flinfo->fn_extra for the rest of
 * the query (read again in a new snapshot, see name_cache.h).  Text that
 * is a JSON object is parsed as inline params.  Errors: 42704 unknown name,
 * 42501 a model the caller may not read, 42809 not a BTYD model.
 */
extern const ClvModelSpec *clv_catalog_spec(FunctionCallInfo fcinfo);

/* Whether a "name" argument is really inline params (a JSON literal). */
extern bool clv_name_is_json(const char *name);

/*
 * 22023 unless name is a valid name to train: not empty, not starting with
 * "{" or "[" (see clv_name_is_json).
 */
extern void clv_check_model_name(const char *name);

/*
 * The schema-qualified, quoted name of the catalog table, found in the
 * schema of the calling SQL function (the extension's schema).
 */
extern char *clv_catalog_table(FunctionCallInfo fcinfo);

/* The same for another object of the extension's schema. */
extern char *clv_catalog_relation(FunctionCallInfo fcinfo, const char *relname);

/*
 * Catalog access shared by every model kind.  The catalog's own queries run
 * with search_path pinned (clv_catalog_pin / clv_catalog_unpin).
 *
 * clv_catalog_check_trainable: before training, a valid name that may take
 * a version of this kind from the current role (22023, 42809, 42501).
 * clv_catalog_store: stores a new version (numbered and stamped under the
 * name's row lock) and returns the row as the caller's clv_models result.
 * clv_catalog_newest_params: the params of the newest readable version of
 * a model of this kind (42704, 42501, 42809).
 */
extern int	clv_catalog_pin(void);
extern void clv_catalog_unpin(int nestlevel);
extern void clv_catalog_check_trainable(FunctionCallInfo fcinfo, const char *name,
										const char *kind);
extern Datum clv_catalog_store(FunctionCallInfo fcinfo, const char *name,
							   const char *kind, int ncols,
							   const char *const *columns, const Oid *types,
							   const Datum *values, const char *nulls);
extern Jsonb *clv_catalog_newest_params(FunctionCallInfo fcinfo,
											   const char *name,
											   const char *kind);

/* The same with the row's covariance column (NULL when null). */
extern Jsonb *clv_catalog_newest_params_covariance(FunctionCallInfo fcinfo,
												   const char *name,
												   const char *kind,
												   Jsonb **covariance);

/*
 * The same with the covariance and artifact columns of the row (each out
 * argument may be NULL; NULL is returned in it when the column is null).
 */
extern Jsonb *clv_catalog_newest_row(FunctionCallInfo fcinfo, const char *name,
									 const char *kind, Jsonb **covariance,
									 bytea **artifact);

#endif							/* CLV_CATALOG_H */
