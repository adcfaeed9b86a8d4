/*-------------------------------------------------------------------------
 *
 * btyd.c
 *	  Model registry and dispatch to the per-model math.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "btyd.h"

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
	Assert(kind >= 0 && kind < CLV_N_MODELS);
	return &clv_model_infos[kind];
}

/* Temporary stubs until the model files land. */
bool
clv_fit(ClvModelKind kind, const ClvObs *obs, size_t nobs,
		const ClvFitOptions *opt, ClvFitResult *res)
{
	memset(res, 0, sizeof(*res));
	snprintf(res->message, sizeof(res->message), "not implemented yet");
	return false;
}

double
clv_loglik_grad(ClvModelKind kind, const double *params,
				const ClvObs *obs, size_t nobs, double *grad)
{
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
	return NAN;
}

double
clv_p_alive(ClvModelKind kind, const double *params, double x, double tx, double T)
{
	return NAN;
}

double
clv_expected_purchases_new(ClvModelKind kind, const double *params, double horizon)
{
	return NAN;
}

double
clv_purchase_probability(ClvModelKind kind, const double *params, int n, double horizon)
{
	return NAN;
}

double
clv_expected_spend(const double *gg_params, double x, double mx)
{
	return NAN;
}

double
clv_discounted_purchases(ClvModelKind kind, const double *params,
						 double x, double tx, double T, double horizon, double rate)
{
	return NAN;
}
