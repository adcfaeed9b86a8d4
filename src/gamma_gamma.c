/*-------------------------------------------------------------------------
 *
 * gamma_gamma.c
 *	  Gamma-Gamma spend model (Fader, Hardie & Lee 2005 note; Colombo &
 *	  Jiang 1999): likelihood, gradient, expected spend, starting points and
 *	  its table.  Rows: x = repeat purchases (> 0), tx = their mean spend.
 *	  Parameters: p, q, gamma.
 *
 * Density of the mean mx of x spends (BTYD's spend.LL, which gives the
 * published -4055.92 on CDNOW):
 *	 lgamma(px+q) - lgamma(px) - lgamma(q) + q log(gamma) + (px-1) log(mx)
 *	 + px log(x) - (px+q) log(gamma + x mx)
 *
 * Tier: math (plain C, libm and GSL; no PostgreSQL header: make check-tiers).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "btyd.h"
#include "specfun.h"

/*
 * lgamma/digamma depend on x only and are recomputed when x changes (rows
 * come ordered by frequency); per row only two logs remain.
 */
static double
gg_loglik(const ClvModelType *m, const double *p, const ClvObs *obs,
		  size_t nobs, double *grad)
{
	double		pp = p[0],
				q = p[1],
				ga = p[2];
	double		lg_q,
				ps_q,
				lga;
	double		ll = 0.0;
	double		g[3] = {0, 0, 0};
	double		prev_x = -1.0,
				cx = 0,
				dpx = 0,
				dqx = 0,
				lx = 0;

	for (int i = 0; i < 3; i++)
		if (!(p[i] > 0) || !isfinite(p[i]))
			return NAN;
	lg_q = clv_lgamma(q);
	ps_q = clv_digamma(q);
	lga = log(ga);
	for (size_t i = 0; i < nobs; i++)
	{
		double		x = obs[i].x,
					mx = obs[i].tx,
					w = obs[i].w;
		double		lmx = log(mx),
					lgx = log(ga + x * mx);

		if (x <= 0 || !(mx > 0))
			return NAN;
		if (x != prev_x)
		{
			double		ps_pxq = clv_digamma(pp * x + q);

			lx = log(x);
			cx = clv_lgamma(pp * x + q) - clv_lgamma(pp * x) - lg_q + q * lga +
				pp * x * lx;
			dpx = x * (ps_pxq - clv_digamma(pp * x) + lx);
			dqx = ps_pxq - ps_q + lga;
			prev_x = x;
		}
		ll += w * (cx + (pp * x - 1) * lmx - (pp * x + q) * lgx);
		if (grad)
		{
			g[0] += w * (dpx + x * lmx - x * lgx);
			g[1] += w * (dqx - lgx);
			g[2] += w * (q / ga - (pp * x + q) / (ga + x * mx));
		}
	}
	if (!isfinite(ll))
		return NAN;
	if (grad)
		for (int k = 0; k < 3; k++)
		{
			if (!isfinite(g[k]))
				return NAN;
			grad[k] = g[k];
		}
	return ll;
}

/*
 * E[M | x, mx] = (gamma + x mx) p / (p x + q - 1): a weighted average of
 * the population mean p gamma/(q-1) and the customer's own mean.  NaN where
 * the denominator is not positive (q <= 1 with few purchases).
 */
static double
gg_expected_spend(const ClvModelType *m, const double *gg, double x, double mx)
{
	double		den = gg[0] * x + gg[1] - 1.0;

	if (!(den > 0) || !(x >= 0))
		return NAN;
	if (x == 0)
		return gg[0] * gg[2] / den;
	return (gg[2] + x * mx) * gg[0] / den;
}

/*
 * Starting points: the neutral (1, 1, 1) first, then ones with gamma, the
 * spend scale, near the mean spend (spend rows carry it in tx).
 */
static int
gg_starts(const ClvObsMeans *mean, double s[CLV_MAX_STARTS][CLV_MAX_PARAMS])
{
	const double st[][CLV_MAX_PARAMS] = {
		{1.0, 1.0, 1.0, 0.0},
		{2.0, 3.0, mean->tx, 0.0},
		{6.0, 4.0, 2.0 * mean->tx, 0.0},
	};

	memcpy(s, st, sizeof(st));
	return clv_lengthof(st);
}

/* q <= 1: the mixing Gamma of the spend rate has no finite mean spend */
static const ClvCaveat gg_caveats[] = {
	{1, 1.0, "q_le_1",
		"q <= 1: the population mean spend p*gamma/(q-1) is undefined",
		"expected spend is undefined for customers without repeat purchases",
	"Check monetary_value for extreme values or try a penalizer."},
};

/* A spend model: no purchase predictions, no purchase process */
const ClvModelType clv_gamma_gamma_type = {
	.kind = CLV_MODEL_GAMMA_GAMMA,
	.name = "gamma_gamma",
	.label = "Gamma-Gamma",
	.is_spend = true,
	.nparams = 3,
	.param_names = {"p", "q", "gamma"},
	.infer_rank = 1,
	.infer_keys = {"p", "q"},
	.loglik_grad = gg_loglik,
	.starts = gg_starts,
	.caveats = gg_caveats,
	.ncaveats = clv_lengthof(gg_caveats),
	.expected_spend = gg_expected_spend,
};

/* The Gamma-Gamma entry point of btyd.h, for callers without the table */
double
clv_expected_spend(const double *gg_params, double x, double mx)
{
	return gg_expected_spend(&clv_gamma_gamma_type, gg_params, x, mx);
}
