/*-------------------------------------------------------------------------
 *
 * mbgnbd.h
 *	  MBG/NBD (Batislam, Denizel & Filiztekin 2007): the BG/NBD in which a
 *	  customer may also drop out right after the first purchase, so that
 *	  customers without repeat purchases are not all "alive".
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_MBGNBD_H
#define CLV_MBGNBD_H

#include "btyd.h"

extern double clv_mbgnbd_loglik(const double *p, const ClvObs *obs, size_t nobs,
								double *grad);
extern double clv_mbgnbd_p_alive(const double *p, double x, double tx, double T);
extern double clv_mbgnbd_expected(const double *p, double x, double tx, double T,
								  double t);
extern double clv_mbgnbd_prob_n(const double *p, int n, double t);
extern double clv_mbgnbd_expected_lifted(const double *p, double x, double tx,
										 double T, double t,
										 double purchase_factor,
										 double dropout_factor);

#endif							/* CLV_MBGNBD_H */
