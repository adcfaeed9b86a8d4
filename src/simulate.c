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
 * Tier: core (palloc, ereport, CHECK_FOR_INTERRUPTS; no fmgr, no SPI).
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

/* Where a customer is: before its acquisition purchase, buying, done */
#define SIM_START	0
#define SIM_FIRST	1			/* the acquisition purchase handed out */
#define SIM_BUYING	2
#define SIM_DONE	3

/*
 * The processes follow the papers' stories:
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
 *
 * The heterogeneity is drawn here, in this order, then nu.
 */
void
clv_sim_begin(ClvSimCustomer *c, gsl_rng *rng, const ClvSimParams *params,
			  double T)
{
	const double *k = params->tx;

	memset(c, 0, sizeof(*c));
	c->rng = rng;
	c->params = params;
	c->T = T;
	c->end = T;
	c->i = 1;
	c->alive = true;
	c->state = SIM_START;
	switch (params->process)
	{
		case CLV_MODEL_BGNBD:
		case CLV_MODEL_MBGNBD:
			c->lambda = draw_gamma_rate(rng, k[0], k[1]);
			c->p = gsl_ran_beta(rng, k[2], k[3]);
			break;
		case CLV_MODEL_PARETO_NBD:
			{
				double		mu;
				double		lifetime;

				c->lambda = draw_gamma_rate(rng, k[0], k[1]);
				mu = draw_gamma_rate(rng, k[2], k[3]);
				lifetime = gsl_ran_exponential(rng, 1.0 / mu);
				c->end = Min(T, lifetime);
				break;
			}
		case CLV_MODEL_BGBB:
			c->p = gsl_ran_beta(rng, k[0], k[1]);
			c->lambda = gsl_ran_beta(rng, k[2], k[3]);	/* theta */
			break;
		case CLV_MODEL_GAMMA_GAMMA:
			elog(ERROR, "gamma_gamma is not a purchase process");
	}
	if (params->has_spend)
		c->nu = draw_gamma_rate(rng, params->spend[1], params->spend[2]);
}

/* The amount of a purchase, drawn as the purchase is made */
static inline double
sim_amount(ClvSimCustomer *c)
{
	return c->params->has_spend ?
		draw_gamma_rate(c->rng, c->params->spend[0], c->nu) : NAN;
}

/*
 * Each purchase draws its amount right away; BG/NBD then draws whether the
 * customer drops out, before the next purchase is asked for (MBG/NBD also
 * after the acquisition purchase).  The draws that end a customer (the
 * inter-purchase time past the horizon, the BG/BB drop-out) happen in the
 * call that returns false.
 */
bool
clv_sim_next(ClvSimCustomer *c, double *t, double *amount)
{
	gsl_rng    *rng = c->rng;

	if (c->state == SIM_START)
	{
		c->state = SIM_FIRST;
		*t = 0.0;
		*amount = sim_amount(c);
		return true;
	}
	if (c->state == SIM_DONE)
		return false;
	if (c->state == SIM_FIRST)
	{
		c->state = SIM_BUYING;
		if (c->params->process == CLV_MODEL_MBGNBD)
			c->alive = gsl_rng_uniform(rng) >= c->p;
	}

	switch (c->params->process)
	{
		case CLV_MODEL_BGNBD:
		case CLV_MODEL_MBGNBD:
			if (!c->alive)
				break;
			c->t += gsl_ran_exponential(rng, 1.0 / c->lambda);
			if (!(c->t <= c->T))
				break;
			*t = c->t;
			*amount = sim_amount(c);
			c->alive = gsl_rng_uniform(rng) >= c->p;
			return true;
		case CLV_MODEL_PARETO_NBD:
			c->t += gsl_ran_exponential(rng, 1.0 / c->lambda);
			if (!(c->t <= c->end))
				break;
			*t = c->t;
			*amount = sim_amount(c);
			return true;
		case CLV_MODEL_BGBB:
			/* opportunities without a purchase: as many as T */
			for (; c->i <= c->T; c->i++)
			{
				CHECK_FOR_INTERRUPTS();
				if (gsl_rng_uniform(rng) < c->lambda)
					break;
				if (gsl_rng_uniform(rng) < c->p)
				{
					*t = c->i++;
					*amount = sim_amount(c);
					return true;
				}
			}
			break;
		case CLV_MODEL_GAMMA_GAMMA:
			break;
	}
	c->state = SIM_DONE;
	return false;
}
