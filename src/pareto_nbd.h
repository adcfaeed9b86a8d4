/*-------------------------------------------------------------------------
 *
 * pareto_nbd.h
 *	  Pareto/NBD (Schmittlein, Morrison & Colombo 1987) in the formulation
 *	  of Fader & Hardie (2005).  Parameters: r, alpha, s, beta.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_PARETO_NBD_H
#define CLV_PARETO_NBD_H

#include "btyd.h"

extern double clv_pareto_nbd_loglik(const double *p, const ClvObs *obs,
									size_t nobs, double *grad);
extern double clv_pareto_nbd_p_alive(const double *p, double x, double tx,
									 double T);
extern double clv_pareto_nbd_expected(const double *p, double x, double tx,
									  double T, double t);
extern double clv_pareto_nbd_prob_n(const double *p, int n, double t);
extern double clv_pareto_nbd_expected_lifted(const double *p, double x,
											 double tx, double T, double t,
											 double purchase_factor,
											 double dropout_factor);

#endif							/* CLV_PARETO_NBD_H */
