/*-------------------------------------------------------------------------
 *
 * simulate.h
 *	  Drawing customers from the BTYD purchase processes (BG/NBD, MBG/NBD,
 *	  Pareto/NBD, BG/BB) and the Gamma-Gamma spend process.
 *
 * The customer's story of each process is its model file's sim_begin and
 * sim_next (see ClvModelType in btyd.h); simulate.c drives them.  This
 * header is plain C (the model files include it); simulate.c is in the
 * server tier only for its error report.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_SIMULATE_H
#define CLV_SIMULATE_H

#include <math.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "btyd.h"

typedef struct ClvSimParams
{
	ClvModelKind process;		/* any transaction model (not gamma_gamma) */
	double		tx[4];			/* its parameters, in btyd.h's param_names order */
	bool		has_spend;		/* Gamma-Gamma p, q, gamma present */
	double		spend[3];		/* p, q, gamma */
} ClvSimParams;

/*
 * One customer being drawn, a purchase at a time, so that a caller can hand
 * out rows as they are asked for (memory does not grow with the number of
 * purchases).  Filled by clv_sim_begin(); opaque to the caller (the model
 * hooks keep their state in the fields below).
 */
typedef struct ClvSimCustomer
{
	gsl_rng    *rng;
	const ClvSimParams *params;
	const ClvModelType *model;	/* of params->process */
	double		T;				/* observed for T time units */
	double		end;			/* Pareto/NBD: min(T, lifetime) */
	double		lambda;			/* purchase rate; BG/BB: theta */
	double		p;				/* drop-out or purchase probability */
	double		nu;				/* Gamma-Gamma spend rate */
	double		t;				/* time of the last purchase */
	double		i;				/* BG/BB: next opportunity */
	bool		alive;			/* BG/NBD, MBG/NBD */
	int			state;			/* see simulate.c */
} ClvSimCustomer;

/*
 * Draws a customer observed for T time units after acquisition (its
 * heterogeneity: the draws that come before any purchase).  BG/BB: T is the
 * number of opportunities and purchases happen at integer t = 1..floor(T).
 */
extern void clv_sim_begin(ClvSimCustomer *c, gsl_rng *rng,
						  const ClvSimParams *params, double T);

/*
 * The customer's next purchase in time order, the acquisition purchase at
 * t = 0 first: its time since acquisition (model units) and amount (NaN
 * without a spend model).  False when there is none left.  The draws come
 * in the same order whether the purchases are taken one by one or all at
 * once, so one seed always gives the same customers.
 */
extern bool clv_sim_next(ClvSimCustomer *c, double *t, double *amount);

/*
 * Gamma with shape and RATE, as the BTYD papers write it (GSL takes a
 * scale); for the model files' sim hooks.
 */
static inline double
clv_sim_gamma_rate(gsl_rng *rng, double shape, double rate)
{
	return gsl_ran_gamma(rng, shape, 1.0 / rate);
}

/* The amount of a purchase, drawn as the purchase is made (NaN: no spend) */
static inline double
clv_sim_amount(ClvSimCustomer *c)
{
	return c->params->has_spend ?
		clv_sim_gamma_rate(c->rng, c->params->spend[0], c->nu) : NAN;
}

#endif							/* CLV_SIMULATE_H */
