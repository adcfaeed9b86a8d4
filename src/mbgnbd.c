/*-------------------------------------------------------------------------
 *
 * mbgnbd.c
 *	  MBG/NBD: the BG family core with shift = 1 (dropout possible at the
 *	  first purchase; BTYDplus's mbgnbd.LL convention).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "bgnbd.h"
#include "mbgnbd.h"

double
clv_mbgnbd_loglik(const double *p, const ClvObs *obs, size_t nobs, double *grad)
{
	return clv_bg_family_loglik(1, p, obs, nobs, grad);
}

double
clv_mbgnbd_p_alive(const double *p, double x, double tx, double T)
{
	return clv_bg_family_p_alive(1, p, x, tx, T);
}

double
clv_mbgnbd_expected(const double *p, double x, double tx, double T, double t)
{
	return clv_bg_family_expected(1, p, x, tx, T, t);
}

double
clv_mbgnbd_prob_n(const double *p, int n, double t)
{
	return clv_bg_family_prob_n(1, p, n, t);
}

/*
 * As BG/NBD (clv_bg_family_expected_lifted): an alive MBG/NBD customer
 * also drops out only right after a purchase, so (1/c) E(k c t).
 */
double
clv_mbgnbd_expected_lifted(const double *p, double x, double tx, double T,
						   double t, double k, double c)
{
	return clv_bg_family_expected_lifted(1, p, x, tx, T, t, k, c);
}
