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

#include "simulate.h"

/* Where a customer is: before its acquisition purchase, buying, done */
#define SIM_START	0
#define SIM_FIRST	1			/* the acquisition purchase handed out */
#define SIM_BUYING	2
#define SIM_DONE	3

/*
 * The processes follow the papers' stories (each model file's sim_begin and
 * sim_next; BG/NBD, MBG/NBD, Pareto/NBD, BG/BB).  Gamma-Gamma spend: nu ~
 * Gamma(q, gamma) per customer, each amount ~ Gamma(p, nu).
 *
 * The heterogeneity of the purchase process is drawn first, then nu.
 */
void
clv_sim_begin(ClvSimCustomer *c, gsl_rng *rng, const ClvSimParams *params,
			  double T)
{
	const ClvModelType *m = clv_model_info(params->process);

	memset(c, 0, sizeof(*c));
	c->rng = rng;
	c->params = params;
	c->model = m;
	c->T = T;
	c->end = T;
	c->i = 1;
	c->alive = true;
	c->state = SIM_START;
	if (m == NULL || m->sim_begin == NULL)
		elog(ERROR, "model %d is not a purchase process", (int) params->process);
	m->sim_begin(m, c, params->tx);
	if (params->has_spend)
		c->nu = clv_sim_gamma_rate(rng, params->spend[1], params->spend[2]);
}

/*
 * The acquisition purchase at t = 0 comes first; then the model's
 * sim_next.  The draws that end a customer (the inter-purchase time past
 * the horizon, the BG/BB drop-out) happen in the call that returns false.
 */
bool
clv_sim_next(ClvSimCustomer *c, double *t, double *amount)
{
	bool		first;

	if (c->state == SIM_START)
	{
		c->state = SIM_FIRST;
		*t = 0.0;
		*amount = clv_sim_amount(c);
		return true;
	}
	if (c->state == SIM_DONE)
		return false;
	first = (c->state == SIM_FIRST);
	c->state = SIM_BUYING;
	if (c->model->sim_next(c->model, c, first, t, amount))
		return true;
	c->state = SIM_DONE;
	return false;
}
