/*-------------------------------------------------------------------------
 *
 * predict.h
 *	  The prediction core shared by the params-jsonb functions (predict.c)
 *	  and the name-based ones (catalog.c): a parsed model specification
 *	  and one fmgr-level entry per SQL function.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_PREDICT_H
#define CLV_PREDICT_H

#include "clv.h"
#include "btyd.h"
#include "fmgr.h"
#include "utils/jsonb.h"

typedef struct ClvModelSpec
{
	const ClvModelInfo *tx_model;	/* NULL when there is no transaction model */
	double		tx_params[CLV_MAX_PARAMS];
	const ClvModelInfo *spend_model;	/* NULL when there is no spend model */
	double		spend_params[CLV_MAX_PARAMS];
} ClvModelSpec;

/*
 * Parses a self-describing params object (see README); 22023 on anything
 * malformed.  The spec holds no pointers into the jsonb, so it can be cached
 * (e.g. in fn_extra) by copying the struct.
 */
extern void clv_spec_from_jsonb(Jsonb *params, ClvModelSpec *spec);

/*
 * One entry per SQL prediction function.  Each reads its arguments from
 * fcinfo starting at argument 1 (argument 0 is the params jsonb or the
 * model name, already resolved into spec) with exactly the argument lists
 * of sql/ext/30_predict.sql, and returns the SQL result.  NULL handling:
 * clv_predict and clv_value accept a NULL monetary_value (no repeat spend
 * known); any other NULL argument yields NULL.
 */
/*
 * The four values of clv_predict from arguments 1..7 (validated as
 * clv_predict does; expected_spend and clv NaN without a spend model);
 * false when an argument other than monetary_value is NULL.
 */
extern bool clv_spec_predict_values(FunctionCallInfo fcinfo, const ClvModelSpec *spec,
									double *out);
extern Datum clv_spec_predict(FunctionCallInfo fcinfo, const ClvModelSpec *spec);
extern Datum clv_spec_expected_purchases(FunctionCallInfo fcinfo, const ClvModelSpec *spec);
extern Datum clv_spec_p_alive(FunctionCallInfo fcinfo, const ClvModelSpec *spec);
extern Datum clv_spec_expected_spend(FunctionCallInfo fcinfo, const ClvModelSpec *spec);
extern Datum clv_spec_value(FunctionCallInfo fcinfo, const ClvModelSpec *spec);
extern Datum clv_spec_expected_purchases_new(FunctionCallInfo fcinfo, const ClvModelSpec *spec);
extern Datum clv_spec_purchase_probability(FunctionCallInfo fcinfo, const ClvModelSpec *spec);

#endif							/* CLV_PREDICT_H */
