/*-------------------------------------------------------------------------
 *
 * specfun.c
 *	  Special functions in log space for the BTYD models.
 *
 * Tier: math (plain C, libm and GSL; no PostgreSQL header: make check-tiers).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>

#include "specfun.h"

/* Upper bound on series terms: beyond it the answer is reported as NaN. */
#define CLV_SERIES_MAX_TERMS 5000000
/* series terms between two interrupt checks */
#define CLV_SERIES_CHECK_EVERY 4096

/*
 * clv_log_hyp2f1 divides its running sum and term by CLV_SERIES_RESCALE
 * (and adds its log to the scale) once either passes it: 1e250 leaves a
 * factor 1e58 below DBL_MAX (1.8e308) for the next term's ratio.
 */
#define CLV_SERIES_RESCALE 1e250

/*
 * A series has converged when its term is below CLV_SERIES_REL_TOL of the
 * sum (for good: the ratio is below 1 and stays so): such a term no longer
 * changes the double sum, half an ulp being 1.1e-16 of it.
 */
#define CLV_SERIES_REL_TOL 1e-17

/*
 * clv_hyp2f1_eps_quotient stops when a bound on its whole remaining tail
 * is below CLV_SERIES_TAIL_TOL of the sum: about the rounding of the sum.
 */
#define CLV_SERIES_TAIL_TOL 1e-16

void		(*clv_interrupt_hook) (void) = NULL;

double
clv_logaddexp(double a, double b)
{
	double		m;

	if (isinf(a) && a < 0)
		return b;
	if (isinf(b) && b < 0)
		return a;
	m = a > b ? a : b;
	return m + log1p(exp(-fabs(a - b)));
}

double
clv_logsubexp(double a, double b)
{
	if (isinf(b) && b < 0)
		return a;
	if (a < b)
		return NAN;
	if (a == b)
		return -INFINITY;
	/* log(e^a - e^b) = a + log(1 - e^(b-a)); log(-expm1) keeps precision */
	return a + log(-expm1(b - a));
}

double
clv_inv_1p_exp(double v)
{
	if (v > 0)
	{
		double		e = exp(-v);

		return e / (1.0 + e);
	}
	return 1.0 / (1.0 + exp(v));
}

/* GSL status is checked rather than trusting the value (handler is off). */
double
clv_lgamma(double x)
{
	gsl_sf_result r;

	if (!(x > 0) || gsl_sf_lngamma_e(x, &r) != GSL_SUCCESS || !isfinite(r.val))
		return NAN;
	return r.val;
}

double
clv_digamma(double x)
{
	gsl_sf_result r;

	if (!(x > 0) || gsl_sf_psi_e(x, &r) != GSL_SUCCESS || !isfinite(r.val))
		return NAN;
	return r.val;
}

double
clv_lbeta(double a, double b)
{
	gsl_sf_result r;

	if (!(a > 0) || !(b > 0) || gsl_sf_lnbeta_e(a, b, &r) != GSL_SUCCESS ||
		!isfinite(r.val))
		return NAN;
	return r.val;
}

/*
 * The series is summed in plain doubles but rescaled whenever the running
 * sum grows large, the scale being kept as a log offset; that is what lets
 * heavy-buyer parameters (a, b in the thousands) through without overflow.
 */
double
clv_log_hyp2f1(double a, double b, double c, double z, int *sign)
{
	double		term = 1.0;
	double		sum = 1.0;
	double		logscale = 0.0;
	long		k;

	*sign = 1;
	if (!(z >= 0 && z < 1) || (c <= 0 && c == floor(c)) || !isfinite(a) ||
		!isfinite(b) || !isfinite(c))
		return NAN;
	if (z == 0)
		return 0.0;
	for (k = 0; k < CLV_SERIES_MAX_TERMS; k++)
	{
		double		ratio = (a + k) * (b + k) / ((c + k) * (k + 1)) * z;

		if (k % CLV_SERIES_CHECK_EVERY == CLV_SERIES_CHECK_EVERY - 1)
			CLV_CHECK_INTERRUPTS();

		term *= ratio;
		sum += term;
		if (fabs(sum) > CLV_SERIES_RESCALE || fabs(term) > CLV_SERIES_RESCALE)
		{
			logscale += log(CLV_SERIES_RESCALE);
			sum /= CLV_SERIES_RESCALE;
			term /= CLV_SERIES_RESCALE;
		}
		/* converged once terms are negligible and shrinking for good */
		if (term == 0.0 ||
			(fabs(term) <= CLV_SERIES_REL_TOL * fabs(sum) && fabs(ratio) < 1.0 &&
			 (a + k + 1) * (b + k + 1) / ((c + k + 1) * (k + 2)) * z < 1.0))
			break;
	}
	if (k >= CLV_SERIES_MAX_TERMS || !isfinite(sum) || sum == 0.0)
		return NAN;
	if (sum < 0)
	{
		*sign = -1;
		sum = -sum;
	}
	return logscale + log(sum);
}

/*
 * After the Euler transformation the k-th term is
 *	 prod_{j<k} (a+1-b+j) / (a+1+j) * z^k,
 * so the derivatives of the sum follow term by term from running sums of
 * 1/(a+1-b+j) and 1/(a+1+j); no extra special-function calls are needed.
 */
double
clv_log_hyp2f1_a1(double a, double b, double z,
				  double *d_a, double *d_b, double *d_z)
{
	double		e = a + 1.0 - b;
	double		term = 1.0;
	double		sum = 1.0;
	double		s_ta = 0.0,
				s_tb = 0.0,
				s_tz = 0.0;		/* sums of term * dlog(term)/d. */
	double		acc_e = 0.0,
				acc_c = 0.0;	/* running sums of 1/(e+j), 1/(a+1+j) */
	double		logf;
	long		k;

	if (!(a > 0) || !(b > 0) || !(z >= 0 && z < 1) || !(e > 0))
		return NAN;
	for (k = 0; k < CLV_SERIES_MAX_TERMS && z > 0; k++)
	{
		double		ratio = (e + k) / (a + 1.0 + k) * z;

		if (k % CLV_SERIES_CHECK_EVERY == CLV_SERIES_CHECK_EVERY - 1)
			CLV_CHECK_INTERRUPTS();

		acc_e += 1.0 / (e + k);
		acc_c += 1.0 / (a + 1.0 + k);
		term *= ratio;
		sum += term;
		s_ta += term * (acc_e - acc_c);
		s_tb -= term * acc_e;
		s_tz += term * (k + 1);
		if (term <= CLV_SERIES_REL_TOL * sum)
			break;
	}
	if (k >= CLV_SERIES_MAX_TERMS || !isfinite(sum))
		return NAN;
	logf = (1.0 - b) * log1p(-z) + log(sum);
	if (d_a)
		*d_a = s_ta / sum;
	if (d_b)
		*d_b = -log1p(-z) + s_tb / sum;
	if (d_z)
		*d_z = (z > 0 ? s_tz / (z * sum) : 1.0 * e / (a + 1.0)) + (b - 1.0) / (1.0 - z);
	return logf;
}

/*
 * With F = 2F1(c-m, eps; c; z) = 1 + eps S, S = sum_{n>=1} z^n rho_n P_n,
 * rho_n = (1+eps)_{n-1}/n!, P_n = (c-m)_n/(c)_n, and the binomial series
 * (1 - (1-z)^eps)/eps = sum_{n>=1} z^n q_n, q_n = (1-eps)_{n-1}/n!,
 *	 G = sum_{n>=1} z^n (q_n - rho_n P_n) - expm1(eps log(1-z)) S.
 * The difference q_n - rho_n P_n = delta_n + rho_n D_n is carried by
 * recurrences instead of being formed: delta_n = q_n - rho_n (O(eps)) and
 * D_n = 1 - P_n (D_{n+1} = D_n + P_n m/(c+n), a sum of positive terms when
 * c - m > 0).  At eps = 0 every term is positive, so nothing cancels; for
 * small eps the only subtraction is of O(eps) terms.  The terms shrink like
 * z^n/n, as those of the generic 2F1 series do.
 */
double
clv_hyp2f1_eps_quotient(double c, double m, double eps, double z)
{
	double		zn = 1.0,
				rho = 1.0,
				q = 1.0,
				delta = 0.0,
				P,
				D,
				sum = 0.0,
				s = 0.0,
				res;
	long		n;

	if (!(c > 0) || !(m > 0) || !(eps > -1.0) || !(z >= 0 && z < 1) ||
		!isfinite(c) || !isfinite(m) || !isfinite(eps))
		return NAN;
	if (z == 0)
		return 0.0;
	P = (c - m) / c;
	D = m / c;
	for (n = 1; n < CLV_SERIES_MAX_TERMS; n++)
	{
		double		term,
					bound,
					dn = (double) n;

		if (n % CLV_SERIES_CHECK_EVERY == 0)
			CLV_CHECK_INTERRUPTS();

		zn *= z;
		term = zn * (delta + rho * D);
		sum += term;
		s += zn * rho * P;
		/* what is left is below bound / (1 - z) */
		bound = zn * (fabs(delta) + rho * (fabs(D) + fabs(P)));
		if (bound == 0.0 || bound <= CLV_SERIES_TAIL_TOL * (1.0 - z) * fabs(sum))
			break;
		delta = (dn * delta - eps * (q + rho)) / (dn + 1.0);
		q *= (dn - eps) / (dn + 1.0);
		rho *= (dn + eps) / (dn + 1.0);
		D += P * m / (c + dn);
		P *= (c - m + dn) / (c + dn);
	}
	if (n >= CLV_SERIES_MAX_TERMS)
		return NAN;
	res = sum - expm1(eps * log1p(-z)) * s;
	if (!isfinite(res))
		return NAN;
	return res;
}
