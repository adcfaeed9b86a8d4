/*-------------------------------------------------------------------------
 *
 * fit.h
 *	  The shared fit path: read a source through SPI, validate, fit the
 *	  BTYD models and describe the result as jsonb.
 *
 * Used by clv_fit() (stateless, here) and by clv_train() (catalog.c).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_FIT_H
#define CLV_FIT_H

#include "clv.h"
#include "btyd.h"
#include "utils/jsonb.h"

typedef struct ClvTrainResult
{
	const ClvModelInfo *tx_model;	/* NULL when no transaction model */
	const ClvModelInfo *spend_model;	/* NULL when no spend model */
	ClvFitResult tx;			/* valid when tx_model != NULL */
	ClvFitResult spend;			/* valid when spend_model != NULL */
	int64		n_customers;	/* rows of the source (sum of weights) */
	int64		n_spend_customers;	/* repeat buyers used by the spend model */
	int64		n_spend_excluded;	/* repeat buyers left out of it:
									 * monetary_value <= 0 */
	int64		n_unique;		/* unique (frequency, recency, t) rows */
	ClvTimeUnit unit;
	ClvFitOptions options;
	bool		converged;		/* every fitted model converged */
} ClvTrainResult;

/*
 * Resolves a model name given in SQL; 22023 naming it and listing the valid
 * names if it is unknown or of the wrong kind (want_spend).  NULL name gives
 * NULL.
 */
extern const ClvModelInfo *clv_lookup_model(const char *name, bool want_spend);

/*
 * Validates one customer's frequency, recency, t for transaction model tx
 * (may be NULL): 22023 naming the values (non-finite, negative, recency > t,
 * BG/BB not whole or inconsistent).  source, if not NULL, goes in the DETAIL;
 * from, the FROM-clause text of the source, if not NULL, gives a HINT with
 * the query that finds the offending rows.
 */
extern void clv_validate_customer(const ClvModelInfo *tx, double x, double rec,
								  double T, const char *source,
								  const char *from);

/*
 * Parses the options jsonb (time_unit, penalizer, max_iterations,
 * tolerance, nonpositive_spend, verbose) with the options parser of
 * options.h: unknown keys, wrong types and values out of range are 22023.
 * NULL options give the defaults.
 */
extern void clv_parse_fit_options(Jsonb *options, ClvFitOptions *opt,
								  ClvTimeUnit *unit);

/*
 * Reads `source` (a table/view name or a SELECT) through SPI as ONE
 * aggregated query, validates, fits, and fills *out.  Errors: 42P01 missing
 * relation, 42703 missing column, 22023 negative frequency, recency > t,
 * non-finite values, empty source, nobody repeats (spend model), both models
 * NULL, BG/BB with a spend model.  Manages its own SPI connection.
 */
extern void clv_fit_source(const char *source, const ClvModelInfo *tx_model,
						   const ClvModelInfo *spend_model,
						   const ClvFitOptions *opt, ClvTimeUnit unit,
						   ClvTrainResult *out);

/*
 * Raises a WARNING with a HINT for each model that did not converge or
 * carries a caveat (stuck at start values, q <= 1, a <= 1).
 */
extern void clv_train_result_warn(const ClvTrainResult *res);

/* Pieces of the result as jsonb, as stored in the catalog columns. */
extern Jsonb *clv_result_params_jsonb(const ClvTrainResult *res);	/* self-describing params */
extern Jsonb *clv_result_std_errors_jsonb(const ClvTrainResult *res);
extern Jsonb *clv_result_covariance_jsonb(const ClvTrainResult *res);	/* {"transaction": {names, log_scale, natural} | null, "spend": ...} */
extern Jsonb *clv_result_loglik_jsonb(const ClvTrainResult *res);	/* {"transaction":..,"spend":..} */
extern Jsonb *clv_result_diagnostics_jsonb(const ClvTrainResult *res);
extern Jsonb *clv_result_options_jsonb(const ClvTrainResult *res);
extern int	clv_result_iterations(const ClvTrainResult *res);	/* sum over models */

/* The whole clv_fit() answer. */
extern Jsonb *clv_result_jsonb(const ClvTrainResult *res);

#endif							/* CLV_FIT_H */
