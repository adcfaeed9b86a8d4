/*-------------------------------------------------------------------------
 *
 * simulate.h
 *	  Drawing customers from the BTYD purchase processes (BG/NBD, MBG/NBD,
 *	  Pareto/NBD, BG/BB) and the Gamma-Gamma spend process.
 *
 * Pure math on top of GSL's random number generators: no fmgr, no Datums.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_SIMULATE_H
#define CLV_SIMULATE_H

#include <gsl/gsl_rng.h>

#include "btyd.h"

typedef struct ClvSimParams
{
	ClvModelKind process;		/* any transaction model (not gamma_gamma) */
	double		tx[4];			/* its parameters, in btyd.h's param_names order */
	bool		has_spend;		/* Gamma-Gamma p, q, gamma present */
	double		spend[3];		/* p, q, gamma */
} ClvSimParams;

/* Receives one purchase: time since acquisition (model units) and amount (NaN without spend). */
typedef void (*ClvSimEmit) (void *arg, double t, double amount);

/*
 * Draws one customer observed for T time units after acquisition and emits
 * its purchases in time order, the acquisition purchase at t = 0 first.
 * BG/BB: T is the number of opportunities and purchases happen at integer
 * t = 1..floor(T).  Returns the number of purchases emitted.
 */
extern long clv_sim_customer(gsl_rng *rng, const ClvSimParams *params, double T,
							 ClvSimEmit emit, void *arg);

#endif							/* CLV_SIMULATE_H */
