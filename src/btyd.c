/*-------------------------------------------------------------------------
 *
 * btyd.c
 *	  Model registry and dispatch to the per-model math.
 *
 * Plain C like the model files, so that the math can be linked into a
 * standalone test program.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "bgbb.h"
#include "bgnbd.h"
#include "btyd.h"
#include "gamma_gamma.h"
#include "mbgnbd.h"
#include "pareto_nbd.h"
#include "specfun.h"

static const ClvModelInfo clv_model_infos[CLV_N_MODELS] = {
	[CLV_MODEL_BGNBD] = {CLV_MODEL_BGNBD, "bgnbd", false, 4, {"r", "alpha", "a", "b"}},
	[CLV_MODEL_PARETO_NBD] = {CLV_MODEL_PARETO_NBD, "pareto_nbd", false, 4, {"r", "alpha", "s", "beta"}},
	[CLV_MODEL_MBGNBD] = {CLV_MODEL_MBGNBD, "mbgnbd", false, 4, {"r", "alpha", "a", "b"}},
	[CLV_MODEL_BGBB] = {CLV_MODEL_BGBB, "bgbb", false, 4, {"alpha", "beta", "gamma", "delta"}},
	[CLV_MODEL_GAMMA_GAMMA] = {CLV_MODEL_GAMMA_GAMMA, "gamma_gamma", true, 3, {"p", "q", "gamma", NULL}},
};

/* Model names come from SQL; matching is case-sensitive like identifiers. */
const ClvModelInfo *
clv_model_info_by_name(const char *name)
{
	for (int i = 0; i < CLV_N_MODELS; i++)
		if (strcmp(name, clv_model_infos[i].name) == 0)
			return &clv_model_infos[i];
	return NULL;
}

const ClvModelInfo *
clv_model_info(ClvModelKind kind)
{
	if (kind < 0 || kind >= CLV_N_MODELS)
		return NULL;
	return &clv_model_infos[kind];
}

double
clv_loglik_grad(ClvModelKind kind, const double *params,
				const ClvObs *obs, size_t nobs, double *grad)
{
	switch (kind)
	{
		case CLV_MODEL_BGNBD:
			return clv_bgnbd_loglik(params, obs, nobs, grad);
		case CLV_MODEL_PARETO_NBD:
			return clv_pareto_nbd_loglik(params, obs, nobs, grad);
		case CLV_MODEL_MBGNBD:
			return clv_mbgnbd_loglik(params, obs, nobs, grad);
		case CLV_MODEL_BGBB:
			return clv_bgbb_loglik(params, obs, nobs, grad);
		case CLV_MODEL_GAMMA_GAMMA:
			return clv_gamma_gamma_loglik(params, obs, nobs, grad);
	}
	return NAN;
}

double
clv_loglik(ClvModelKind kind, const double *params, const ClvObs *obs, size_t nobs)
{
	return clv_loglik_grad(kind, params, obs, nobs, NULL);
}

double
clv_expected_purchases(ClvModelKind kind, const double *params,
					   double x, double tx, double T, double horizon)
{
	switch (kind)
	{
		case CLV_MODEL_BGNBD:
			return clv_bgnbd_expected(params, x, tx, T, horizon);
		case CLV_MODEL_PARETO_NBD:
			return clv_pareto_nbd_expected(params, x, tx, T, horizon);
		case CLV_MODEL_MBGNBD:
			return clv_mbgnbd_expected(params, x, tx, T, horizon);
		case CLV_MODEL_BGBB:
			return clv_bgbb_expected(params, x, tx, T, horizon);
		case CLV_MODEL_GAMMA_GAMMA:
			break;
	}
	return NAN;
}

double
clv_p_alive(ClvModelKind kind, const double *params, double x, double tx, double T)
{
	switch (kind)
	{
		case CLV_MODEL_BGNBD:
			return clv_bgnbd_p_alive(params, x, tx, T);
		case CLV_MODEL_PARETO_NBD:
			return clv_pareto_nbd_p_alive(params, x, tx, T);
		case CLV_MODEL_MBGNBD:
			return clv_mbgnbd_p_alive(params, x, tx, T);
		case CLV_MODEL_BGBB:
			return clv_bgbb_p_alive(params, x, tx, T);
		case CLV_MODEL_GAMMA_GAMMA:
			break;
	}
	return NAN;
}

/*
 * A new customer is one observed for no time at all (x = tx = T = 0): every
 * model's conditional expectation reduces to its E[X(t)] there.
 */
double
clv_expected_purchases_new(ClvModelKind kind, const double *params, double horizon)
{
	return clv_expected_purchases(kind, params, 0.0, 0.0, 0.0, horizon);
}

double
clv_purchase_probability(ClvModelKind kind, const double *params, int n, double horizon)
{
	switch (kind)
	{
		case CLV_MODEL_BGNBD:
			return clv_bgnbd_prob_n(params, n, horizon);
		case CLV_MODEL_PARETO_NBD:
			return clv_pareto_nbd_prob_n(params, n, horizon);
		case CLV_MODEL_MBGNBD:
			return clv_mbgnbd_prob_n(params, n, horizon);
		case CLV_MODEL_BGBB:
			return clv_bgbb_prob_n(params, n, horizon);
		case CLV_MODEL_GAMMA_GAMMA:
			break;
	}
	return NAN;
}

double
clv_expected_purchases_lifted(ClvModelKind kind, const double *params,
							  double x, double tx, double T, double horizon,
							  double k, double c)
{
	if (k == 1.0 && c == 1.0)
		return clv_expected_purchases(kind, params, x, tx, T, horizon);
	switch (kind)
	{
		case CLV_MODEL_BGNBD:
			return clv_bgnbd_expected_lifted(params, x, tx, T, horizon, k, c);
		case CLV_MODEL_PARETO_NBD:
			return clv_pareto_nbd_expected_lifted(params, x, tx, T, horizon, k, c);
		case CLV_MODEL_MBGNBD:
			return clv_mbgnbd_expected_lifted(params, x, tx, T, horizon, k, c);
		case CLV_MODEL_BGBB:
			return clv_bgbb_expected_lifted(params, x, tx, T, horizon, k, c);
		case CLV_MODEL_GAMMA_GAMMA:
			break;
	}
	return NAN;
}

/*
 * Discounting per unit period: the purchases expected in period i are
 * discounted by (1 + rate)^i.  rate = 0 needs a single evaluation.
 */
double
clv_discounted_purchases_lifted(ClvModelKind kind, const double *params,
								double x, double tx, double T, double horizon,
								double rate, double k, double c)
{
	double		total = 0.0,
				prev = 0.0,
				disc = 1.0;
	double		nper;

	if (!(horizon >= 0) || !(rate > -1.0) || !isfinite(horizon))
		return NAN;
	if (rate == 0.0 || horizon == 0.0)
		return clv_expected_purchases_lifted(kind, params, x, tx, T, horizon, k, c);
	nper = ceil(horizon);
	for (double i = 1; i <= nper; i++)
	{
		double		cur;

		CLV_CHECK_INTERRUPTS();
		cur = clv_expected_purchases_lifted(kind, params, x, tx, T, fmin(i, horizon),
											k, c);

		if (isnan(cur))
			return NAN;
		disc /= (1.0 + rate);
		total += (cur - prev) * disc;
		prev = cur;
	}
	return total;
}

/* The ordinary discounted purchases: no lift. */
double
clv_discounted_purchases(ClvModelKind kind, const double *params,
						 double x, double tx, double T, double horizon, double rate)
{
	return clv_discounted_purchases_lifted(kind, params, x, tx, T, horizon, rate,
										   1.0, 1.0);
}
