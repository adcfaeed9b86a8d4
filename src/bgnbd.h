/*-------------------------------------------------------------------------
 *
 * bgnbd.h
 *	  BG/NBD (Fader, Hardie & Lee 2005) and the shared "BG family" core
 *	  that MBG/NBD (mbgnbd.c) also uses.
 *
 * The BG family differs only in whether a customer may drop out right at
 * the first purchase: shift = 0 for BG/NBD (no), 1 for MBG/NBD (yes).
 * Parameters: r, alpha, a, b.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_BGNBD_H
#define CLV_BGNBD_H

#include "btyd.h"

extern double clv_bg_family_loglik(int shift, const double *p, const ClvObs *obs,
								   size_t nobs, double *grad);
extern double clv_bg_family_p_alive(int shift, const double *p,
									double x, double tx, double T);
extern double clv_bg_family_expected(int shift, const double *p,
									 double x, double tx, double T, double t);
extern double clv_bg_family_prob_n(int shift, const double *p, int n, double t);
extern double clv_bg_family_expected_lifted(int shift, const double *p,
											double x, double tx, double T,
											double t, double purchase_factor,
											double dropout_factor);

#define clv_bgnbd_loglik(p, obs, nobs, grad) clv_bg_family_loglik(0, p, obs, nobs, grad)
#define clv_bgnbd_p_alive(p, x, tx, T) clv_bg_family_p_alive(0, p, x, tx, T)
#define clv_bgnbd_expected(p, x, tx, T, t) clv_bg_family_expected(0, p, x, tx, T, t)
#define clv_bgnbd_prob_n(p, n, t) clv_bg_family_prob_n(0, p, n, t)
#define clv_bgnbd_expected_lifted(p, x, tx, T, t, k, c) \
	clv_bg_family_expected_lifted(0, p, x, tx, T, t, k, c)

#endif							/* CLV_BGNBD_H */
