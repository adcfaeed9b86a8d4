/*-------------------------------------------------------------------------
 *
 * specfun.h
 *	  Special functions in log space for the BTYD models.
 *
 * Plain C (no PostgreSQL headers) so that the model math can also be
 * compiled into a standalone test program.  Every function returns NaN when
 * it cannot produce a finite, trustworthy value; callers propagate that.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_SPECFUN_H
#define CLV_SPECFUN_H

/*
 * Long series and sums call CLV_CHECK_INTERRUPTS() so that the server can
 * cancel them (statement_timeout, Ctrl-C).  The math stays free of server
 * headers: _PG_init points the hook at CHECK_FOR_INTERRUPTS, while the
 * standalone math check (test/c) leaves it NULL.  Code that calls into the
 * math must free any malloc'ed resources on error (PG_TRY), as optim.c does.
 */
extern void (*clv_interrupt_hook) (void);

#define CLV_CHECK_INTERRUPTS() \
	do { \
		if (clv_interrupt_hook) \
			clv_interrupt_hook(); \
	} while (0)

/* log(exp(a) + exp(b)), exact for -inf arguments */
extern double clv_logaddexp(double a, double b);

/* log(exp(a) - exp(b)) for a >= b; -inf when a == b, NaN when a < b */
extern double clv_logsubexp(double a, double b);

/* 1 / (1 + exp(v)) without overflow */
extern double clv_inv_1p_exp(double v);

/* log Gamma(x), digamma(x) and log Beta(a, b) via GSL's _e functions */
extern double clv_lgamma(double x);
extern double clv_digamma(double x);
extern double clv_lbeta(double a, double b);

/*
 * log |2F1(a, b; c; z)| by its power series (0 <= z < 1, c not a non-positive
 * integer), summed
 * with rescaling so that huge intermediate terms do not overflow; *sign
 * receives the sign of the sum.  Callers apply the Euler or Pfaff
 * transformation beforehand where the parameters call for it.
 */
extern double clv_log_hyp2f1(double a, double b, double c, double z, int *sign);

/*
 * log 2F1(a, b; a + 1; z) for a > 0, b > 0, 0 <= z < 1, the function of
 * the Pareto/NBD likelihood, evaluated through the Euler transformation
 *	 2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z)
 * whose series has positive terms with ratio below z even when a is huge
 * (heavy buyers).  Optionally returns the partial derivatives of the log
 * with respect to a, b and z (pass NULL to skip).
 */
extern double clv_log_hyp2f1_a1(double a, double b, double z,
								double *d_a, double *d_b, double *d_z);

/*
 * G = [1 - (1-z)^eps 2F1(c-m, eps; c; z)] / eps for c > 0, eps > -1,
 * 0 <= z < 1, and its limit at eps = 0, summed as one series whose terms do
 * not cancel as eps -> 0 (the BG/NBD and MBG/NBD expectations near a = 1,
 * eps = a - 1, m = r + x).  NaN when the series fails.
 */
extern double clv_hyp2f1_eps_quotient(double c, double m, double eps,
									  double z);

#endif							/* CLV_SPECFUN_H */
