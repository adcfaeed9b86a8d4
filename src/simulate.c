/*-------------------------------------------------------------------------
 *
 * simulate.c
 *	  Drawing customers from the BTYD purchase processes and the Gamma-Gamma
 *	  spend process, for parameter-recovery tests, benchmarks and what-if
 *	  questions.
 *
 * Each customer is drawn in a fixed order of random draws (heterogeneity
 * first, then purchases), so one seed always gives the same customers.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <gsl/gsl_randist.h>

#include "miscadmin.h"

#include "simulate.h"

/*
 * Gamma with shape and RATE, as the BTYD papers write it (GSL takes a scale).
 */
static inline double
draw_gamma_rate(gsl_rng *rng, double shape, double rate)
{
	return gsl_ran_gamma(rng, shape, 1.0 / rate);
}

/*
 * Draws one customer.  The processes follow the papers' stories:
 *
 * BG/NBD (Fader, Hardie & Lee 2005): lambda ~ Gamma(r, alpha), p ~ Beta(a, b);
 * exponential inter-purchase times; after each REPEAT purchase the customer
 * drops out with probability p.  MBG/NBD (Batislam et al. 2007) also allows
 * the drop-out right after the first purchase.  Pareto/NBD (Schmittlein et
 * al. 1987): lambda ~ Gamma(r, alpha), lifetime ~ Exp(mu), mu ~ Gamma(s,
 * beta).  BG/BB (Fader, Hardie & Shang 2010): p ~ Beta(alpha, beta) purchase
 * probability, theta ~ Beta(gamma, delta) drop-out at the start of each
 * opportunity.  Gamma-Gamma spend: nu ~ Gamma(q, gamma) per customer, each
 * amount ~ Gamma(p, nu).
 */
long
clv_sim_customer(gsl_rng *rng, const ClvSimParams *params, double T,
				 ClvSimEmit emit, void *arg)
{
	const double *k = params->tx;
	double		nu = 0.0;
	double		lambda = 0.0;
	double		p = 0.0;
	double		end = T;
	double		t = 0.0;
	long		n = 0;
	bool		alive = true;

	switch (params->process)
	{
		case CLV_MODEL_BGNBD:
		case CLV_MODEL_MBGNBD:
			lambda = draw_gamma_rate(rng, k[0], k[1]);
			p = gsl_ran_beta(rng, k[2], k[3]);
			break;
		case CLV_MODEL_PARETO_NBD:
			{
				double		mu;
				double		lifetime;

				lambda = draw_gamma_rate(rng, k[0], k[1]);
				mu = draw_gamma_rate(rng, k[2], k[3]);
				lifetime = gsl_ran_exponential(rng, 1.0 / mu);
				end = Min(T, lifetime);
				break;
			}
		case CLV_MODEL_BGBB:
			p = gsl_ran_beta(rng, k[0], k[1]);
			lambda = gsl_ran_beta(rng, k[2], k[3]);	/* theta */
			break;
		case CLV_MODEL_GAMMA_GAMMA:
			elog(ERROR, "gamma_gamma is not a purchase process");
	}
	if (params->has_spend)
		nu = draw_gamma_rate(rng, params->spend[1], params->spend[2]);

#define EMIT_AT(time) \
	do { \
		emit(arg, (time), params->has_spend ? \
			 draw_gamma_rate(rng, params->spend[0], nu) : NAN); \
		n++; \
	} while (0)

	/* The acquisition purchase. */
	EMIT_AT(0.0);

	switch (params->process)
	{
		case CLV_MODEL_BGNBD:
		case CLV_MODEL_MBGNBD:
			if (params->process == CLV_MODEL_MBGNBD)
				alive = gsl_rng_uniform(rng) >= p;
			while (alive)
			{
				CHECK_FOR_INTERRUPTS();
				t += gsl_ran_exponential(rng, 1.0 / lambda);
				if (!(t <= T))
					break;
				EMIT_AT(t);
				alive = gsl_rng_uniform(rng) >= p;
			}
			break;
		case CLV_MODEL_PARETO_NBD:
			for (;;)
			{
				CHECK_FOR_INTERRUPTS();
				t += gsl_ran_exponential(rng, 1.0 / lambda);
				if (!(t <= end))
					break;
				EMIT_AT(t);
			}
			break;
		case CLV_MODEL_BGBB:
			for (double i = 1; i <= T; i++)
			{
				CHECK_FOR_INTERRUPTS();
				if (gsl_rng_uniform(rng) < lambda)
					break;
				if (gsl_rng_uniform(rng) < p)
					EMIT_AT(i);
			}
			break;
		case CLV_MODEL_GAMMA_GAMMA:
			break;
	}
#undef EMIT_AT
	return n;
}
