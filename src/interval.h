/*-------------------------------------------------------------------------
 *
 * interval.h
 *	  Prediction intervals from parameter uncertainty: seeded draws from
 *	  the asymptotic normal of the log-parameters, the predictions of one
 *	  customer under every draw, and their quantiles.
 *
 * Pure math (no fmgr): the glue is interval_fmgr.c.  Long loops call
 * CLV_CHECK_INTERRUPTS(); nothing here allocates, so a cancel leaks
 * nothing.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_INTERVAL_H
#define CLV_INTERVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "btyd.h"

/* The state of the draws' generator (xoshiro256**), seeded by splitmix64. */
typedef struct ClvIntervalRng
{
	uint64_t	s[4];
} ClvIntervalRng;

extern void clv_interval_rng_seed(ClvIntervalRng *rng, uint64_t seed);

/*
 * splitmix64: advances *state and returns its next output.  It seeds the
 * draws' generator, and it is the regressor's documented shuffle (an
 * oracle rebuilds both), so there is one copy.
 */
extern uint64_t clv_splitmix64(uint64_t *state);

/*
 * In place: the lower Cholesky factor of the np x np row-major matrix a.
 * False unless a is symmetric positive definite (and finite).
 */
extern bool clv_interval_cholesky(double *a, int np);

/*
 * n_draws parameter vectors exp(log(params) + L z), z standard normal, L
 * the Cholesky factor of the log-scale covariance (from
 * clv_interval_cholesky), into out (n_draws x np, row-major).  False if a
 * drawn parameter over- or underflows (not positive and finite).
 */
extern bool clv_interval_draw(ClvIntervalRng *rng, const double *params,
							  const double *chol, int np, int n_draws,
							  double *out);

/* One customer and the prediction's settings, as clv_predict takes them. */
typedef struct ClvIntervalCustomer
{
	double		x;				/* frequency */
	double		tx;				/* recency */
	double		T;				/* t */
	bool		m_known;		/* monetary_value given and x > 0 */
	double		m;				/* monetary_value */
	double		horizon;
	double		rate;			/* discount_rate per time unit */
	double		margin;
} ClvIntervalCustomer;

/*
 * The predictions of customer c under every draw: expected purchases,
 * P(alive) and, when sp_draws is not NULL, expected spend and CLV (as
 * clv_predict computes them) into ep, pa, es, clv (n_draws each; es and
 * clv untouched without a spend model).  Returns -1, or the index of the
 * first draw whose predictions are not all finite.
 */
extern int	clv_interval_predict(ClvModelKind kind, const double *tx_draws, int ntx,
								 const double *sp_draws, int nsp, int n_draws,
								 const ClvIntervalCustomer *c,
								 double *ep, double *pa, double *es, double *clv);

/*
 * The (1 - level) / 2 and (1 + level) / 2 quantiles of v[0..n-1] (sorted
 * in place), linearly interpolated between order statistics (R's type 7).
 */
extern void clv_interval_bounds(double *v, int n, double level,
								double *lower, double *upper);

#endif							/* CLV_INTERVAL_H */
