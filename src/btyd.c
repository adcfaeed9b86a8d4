/*-------------------------------------------------------------------------
 *
 * btyd.c
 *	  The model registry (the tables of operations of the model files) and
 *	  the kind-based entry points of btyd.h.
 *
 * Plain C like the model files, so that the math can be linked into a
 * standalone test program.
 *
 * Tier: math (plain C, libm and GSL; no PostgreSQL header: make check-tiers).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "btyd.h"
#include "specfun.h"

/* The registry, built from CLV_MODEL_LIST: indexed by ClvModelKind */
#define CLV_MODEL_ENTRY(kind, table) [kind] = &table,
static const ClvModelType *const clv_model_types[CLV_N_MODELS] = {
	CLV_MODEL_LIST(CLV_MODEL_ENTRY)
};
#undef CLV_MODEL_ENTRY

/* Model names come from SQL; matching is case-sensitive like identifiers. */
const ClvModelType *
clv_model_info_by_name(const char *name)
{
	for (int i = 0; i < CLV_N_MODELS; i++)
		if (strcmp(name, clv_model_types[i]->name) == 0)
			return clv_model_types[i];
	return NULL;
}

const ClvModelType *
clv_model_info(ClvModelKind kind)
{
	if ((int) kind < 0 || kind >= CLV_N_MODELS)
		return NULL;
	return clv_model_types[kind];
}

/* The valid-name lists of error hints, in registry order */
char *
clv_model_names(bool is_spend, char *buf, size_t len)
{
	size_t		used = 0;

	if (len > 0)
		buf[0] = '\0';
	for (int i = 0; i < CLV_N_MODELS && used < len; i++)
		if (clv_model_types[i]->is_spend == is_spend)
			used += snprintf(buf + used, len - used, "%s%s",
							 used > 0 ? ", " : "", clv_model_types[i]->name);
	return buf;
}

/*
 * The kind-based entry points: thin lookups into the table.  A model
 * without the operation (a spend model asked for purchases) gives NaN like
 * any other failure.
 */
double
clv_loglik_grad(ClvModelKind kind, const double *params,
				const ClvObs *obs, size_t nobs, double *grad)
{
	const ClvModelType *m = clv_model_info(kind);

	if (m == NULL)
		return NAN;
	return m->loglik_grad(m, params, obs, nobs, grad);
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
	const ClvModelType *m = clv_model_info(kind);

	if (m == NULL || m->expected == NULL)
		return NAN;
	return m->expected(m, params, x, tx, T, horizon);
}

double
clv_p_alive(ClvModelKind kind, const double *params, double x, double tx, double T)
{
	const ClvModelType *m = clv_model_info(kind);

	if (m == NULL || m->p_alive == NULL)
		return NAN;
	return m->p_alive(m, params, x, tx, T);
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
	const ClvModelType *m = clv_model_info(kind);

	if (m == NULL || m->prob_n == NULL)
		return NAN;
	return m->prob_n(m, params, n, horizon);
}

double
clv_expected_purchases_lifted(ClvModelKind kind, const double *params,
							  double x, double tx, double T, double horizon,
							  double k, double c)
{
	const ClvModelType *m = clv_model_info(kind);

	if (k == 1.0 && c == 1.0)
		return clv_expected_purchases(kind, params, x, tx, T, horizon);
	if (m == NULL || m->expected_lifted == NULL)
		return NAN;
	return m->expected_lifted(m, params, x, tx, T, horizon, k, c);
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
