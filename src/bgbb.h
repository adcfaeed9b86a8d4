/*-------------------------------------------------------------------------
 *
 * bgbb.h
 *	  BG/BB (Fader, Hardie & Shang 2010): discrete transaction
 *	  opportunities.  x = transactions in n opportunities, tx = opportunity
 *	  of the last one (0 if none), T = n.  Parameters: alpha, beta, gamma,
 *	  delta.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_BGBB_H
#define CLV_BGBB_H

#include "btyd.h"

/*
 * The BG/BB likelihood sums one term per opportunity after the last
 * transaction, and P(X(n) = k) one per opportunity: work grows with n, so n
 * is bounded (the SQL glue refuses more with 22023, the math returns NaN).
 * A few seconds of CPU per 10^7 opportunities; the loops check for
 * interrupts.
 */
#define CLV_BGBB_MAX_PERIODS 2147483647.0

extern double clv_bgbb_loglik(const double *p, const ClvObs *obs, size_t nobs,
							  double *grad);
extern double clv_bgbb_p_alive(const double *p, double x, double tx, double n);
extern double clv_bgbb_expected(const double *p, double x, double tx, double n,
								double nstar);
extern double clv_bgbb_prob_n(const double *p, int k, double n);
extern double clv_bgbb_expected_lifted(const double *p, double x, double tx,
									   double n, double nstar,
									   double purchase_factor,
									   double dropout_factor);

#endif							/* CLV_BGBB_H */
