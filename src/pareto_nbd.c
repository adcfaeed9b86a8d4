/*-------------------------------------------------------------------------
 *
 * pareto_nbd.c
 *	  Pareto/NBD (Schmittlein, Morrison & Colombo 1987) in the formulation
 *	  of Fader & Hardie (2005): likelihood, gradient, predictions, starting
 *	  points, simulation and its table.  Parameters: r, alpha, s, beta.
 *
 * Per customer (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD
 * Model and Related Expressions"; BTYD's pnbd.LL, no x! term):
 *	 L = Gamma(r+x) alpha^r beta^s / Gamma(r)
 *		 * [ (alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A0 ]
 *	 A0 = F(tx) - F(T),  F(u) = 2F1(r+s+x, b; r+s+x+1; d/(m+u)) / (m+u)^(r+s+x)
 * with m = max(alpha, beta), d = |alpha - beta|, b = s+1 if alpha >= beta
 * else r+x.  Everything is carried in logs; 2F1 goes through the Euler
 * transformation (specfun.c), whose series also yields the derivatives, so
 * the gradient is analytic.
 *
 * Recency beyond T (rows like (254, 97.43, 97.29) from rounded summaries):
 * the math takes the data as given.  A0 = integral from tx to T then is
 * negative and is carried with its sign (the analytic continuation of the
 * likelihood); P(alive) is clamped to [0, 1].  The SQL glue rejects
 * recency > t before it gets here (see fit.c / predict.c).
 *
 * Tier: math (plain C, libm and GSL; no PostgreSQL header: make check-tiers).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "btyd.h"
#include "simulate.h"
#include "specfun.h"

static bool
pnbd_params_ok(const double *p)
{
	for (int i = 0; i < 4; i++)
		if (!(p[i] > 0) || !isfinite(p[i]))
			return false;
	return true;
}

/*
 * log F(u) and its gradient with respect to (r, alpha, s, beta) for the
 * A0 term, u = tx or T.
 */
static double
pnbd_log_f(const double *p, double x, double u, double *dlf)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	bool		alpha_ge = (alpha >= beta);
	double		m = alpha_ge ? alpha : beta;
	double		d = alpha_ge ? alpha - beta : beta - alpha;
	double		aa = r + s + x;
	double		bb = alpha_ge ? s + 1.0 : r + x;
	double		mu = m + u;
	double		z = d / mu;
	double		fa,
				fb,
				fz,
				lf,
				lmu = log(mu);

	lf = clv_log_hyp2f1_a1(aa, bb, z, dlf ? &fa : NULL, dlf ? &fb : NULL,
						   dlf ? &fz : NULL);
	if (isnan(lf))
		return NAN;
	if (dlf)
	{
		double		dz_alpha,
					dz_beta;

		if (alpha_ge)
		{
			dz_alpha = (beta + u) / (mu * mu);
			dz_beta = -1.0 / mu;
		}
		else
		{
			dz_beta = (alpha + u) / (mu * mu);
			dz_alpha = -1.0 / mu;
		}
		dlf[0] = fa + (alpha_ge ? 0.0 : fb) - lmu;
		dlf[2] = fa + (alpha_ge ? fb : 0.0) - lmu;
		dlf[1] = fz * dz_alpha - (alpha_ge ? aa / mu : 0.0);
		dlf[3] = fz * dz_beta - (alpha_ge ? 0.0 : aa / mu);
	}
	return lf - aa * lmu;
}

/*
 * log(s/(r+s+x) |A0|) with its sign and gradient; *sign = 0 when A0 = 0
 * (tx == T), in which case the term drops out.
 */
static double
pnbd_log_a0(const double *p, double x, double tx, double T,
			const double *lf2, const double *dlf2, int *sign, double *dla0)
{
	double		r = p[0],
				s = p[2];
	double		lf1,
				dlf1[4],
				q,
				la0;

	*sign = 0;
	if (tx == T)
		return -INFINITY;
	lf1 = pnbd_log_f(p, x, tx, dla0 ? dlf1 : NULL);
	if (isnan(lf1) || isnan(*lf2))
		return NAN;
	/* q = F2/F1 serves both the log-difference and its gradient */
	q = exp(*lf2 - lf1);
	if (q == 1.0)
		return -INFINITY;
	*sign = q < 1.0 ? 1 : -1;
	la0 = q < 1.0 ? lf1 + log1p(-q) : *lf2 + log1p(-1.0 / q);
	if (!isfinite(la0))
	{
		*sign = 0;
		return -INFINITY;
	}
	if (dla0)
	{
		/* d log|F1 - F2| = (dF1 - q dF2) / (1 - q) */
		for (int k = 0; k < 4; k++)
			dla0[k] = (dlf1[k] - q * dlf2[k]) / (1.0 - q);
		dla0[0] -= 1.0 / (r + s + x);
		dla0[2] += 1.0 / s - 1.0 / (r + s + x);
	}
	return log(s) - log(r + s + x) + la0;
}

/*
 * Rows come ordered by (frequency, t): lgamma/digamma of r+x are computed
 * once per distinct frequency and F(T) once per distinct (frequency, t).
 */
static double
pnbd_loglik(const ClvModelType *m, const double *p, const ClvObs *obs,
			size_t nobs, double *grad)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	double		lg_r,
				ps_r,
				la,
				lb;
	double		ll = 0.0;
	double		g[4] = {0, 0, 0, 0};
	double		prev_x = -1.0,
				prev_T = -1.0,
				lat = 0.0,
				lbt = 0.0;
	double		a1x = 0,
				d1x_r = 0,
				lf2 = 0,
				dlf2[4] = {0, 0, 0, 0};

	if (!pnbd_params_ok(p))
		return NAN;
	lg_r = clv_lgamma(r);
	ps_r = clv_digamma(r);
	la = log(alpha);
	lb = log(beta);

	for (size_t i = 0; i < nobs; i++)
	{
		double		x = obs[i].x,
					tx = obs[i].tx,
					T = obs[i].T,
					w = obs[i].w;
		double		a3;
		double		la0,
					dla0[4],
					lik,
					w3,
					w0;
		int			sign;

		if (x != prev_x)
		{
			a1x = clv_lgamma(r + x) - lg_r;
			d1x_r = clv_digamma(r + x) - ps_r;
			prev_T = -1.0;
			prev_x = x;
		}
		if (T != prev_T)
		{
			lf2 = pnbd_log_f(p, x, T, grad ? dlf2 : NULL);
			lat = log(alpha + T);
			lbt = log(beta + T);
			prev_T = T;
		}
		a3 = -(r + x) * lat - s * lbt;
		la0 = pnbd_log_a0(p, x, tx, T, &lf2, dlf2, &sign, grad ? dla0 : NULL);
		if (isnan(la0))
			return NAN;
		if (sign == 0)
		{
			lik = a3;
			w3 = 1.0;
			w0 = 0.0;
		}
		else
		{
			/*
			 * L = e^a3 + sign e^la0 and its weights from one exp of the
			 * smaller minus the larger exponent
			 */
			if (la0 <= a3)
			{
				double		v = sign * exp(la0 - a3);

				if (!(1.0 + v > 0))
					return NAN;
				lik = a3 + log1p(v);
				w3 = 1.0 / (1.0 + v);
				w0 = v * w3;
			}
			else
			{
				double		e = exp(a3 - la0);

				if (sign < 0)
					return NAN;
				lik = la0 + log1p(e);
				w0 = 1.0 / (1.0 + e);
				w3 = e * w0;
			}
		}
		if (isnan(lik))
			return NAN;
		ll += w * (a1x + r * la + s * lb + lik);
		if (grad)
		{
			g[0] += w * (d1x_r + la + w3 * (-lat) + (w0 ? w0 * dla0[0] : 0));
			g[1] += w * (r / alpha + w3 * (-(r + x) / (alpha + T)) +
						 (w0 ? w0 * dla0[1] : 0));
			g[2] += w * (lb + w3 * (-lbt) + (w0 ? w0 * dla0[2] : 0));
			g[3] += w * (s / beta + w3 * (-s / (beta + T)) +
						 (w0 ? w0 * dla0[3] : 0));
		}
	}
	if (!isfinite(ll))
		return NAN;
	if (grad)
	{
		for (int k = 0; k < 4; k++)
		{
			if (!isfinite(g[k]))
				return NAN;
			grad[k] = g[k];
		}
	}
	return ll;
}

/*
 * P(alive) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0), in logs;
 * clamped to [0, 1] (A0 < 0 only when tx > T).
 */
static double
pnbd_p_alive(const ClvModelType *m, const double *p, double x, double tx,
			 double T)
{
	double		r = p[0],
				s = p[2];
	double		a3,
				lf2,
				la0;
	int			sign;

	if (!pnbd_params_ok(p))
		return NAN;
	a3 = -(r + x) * log(p[1] + T) - s * log(p[3] + T);
	lf2 = pnbd_log_f(p, x, T, NULL);
	la0 = pnbd_log_a0(p, x, tx, T, &lf2, NULL, &sign, NULL);
	if (isnan(la0))
		return NAN;
	if (sign == 0)
		return 1.0;
	if (sign > 0)
		return clv_inv_1p_exp(la0 - a3);
	/* negative A0: 1 / (1 - e^v), at least 1, so alive for sure */
	return 1.0;
}

/*
 * E[X(T, T+t) | x, tx, T]
 *	 = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]
 *	   * P(alive),
 * with the bracket over (s-1) written through expm1/log1p so that s near 1
 * (where it tends to log(1 + t/(beta+T))) stays exact.  Within
 * PNBD_NEAR_S1 of s = 1 (s = 1 included, where the quotient is 0/0) the
 * limit l itself is taken; it differs from the bracket by a relative
 * |s - 1| l / 2, so by less than 1e-12 l there.
 */
#define PNBD_NEAR_S1 1e-12

static double
pnbd_expected(const ClvModelType *m, const double *p, double x, double tx,
			  double T, double t)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	double		l,
				g,
				pa;

	if (!pnbd_params_ok(p) || !(t >= 0))
		return NAN;
	if (t == 0)
		return 0.0;
	l = log1p(t / (beta + T));
	g = fabs(s - 1.0) < PNBD_NEAR_S1 ? l : -expm1(-(s - 1.0) * l) / (s - 1.0);
	pa = pnbd_p_alive(m, p, x, tx, T);
	return fmax(0.0, (r + x) * (beta + T) / (alpha + T) * g * pa);
}

/*
 * E[X(T, T+t) | x, tx, T] when, from T on, an alive customer purchases at
 * rate k lambda (k = purchase_factor) and drops out at rate c mu
 * (c = dropout_factor, 0 < c <= 1).
 *
 * Given alive at T, lambda ~ Gamma(r+x, alpha+T) and mu ~ Gamma(s, beta+T)
 * are independent and E[X(t) | lambda, mu] = (lambda/mu)(1 - exp(-mu t)).
 * Under the lift, (k lambda / (c mu))(1 - exp(-mu c t)), so
 *	 E_lifted(t) = (k/c) E(c t)
 * with E the ordinary conditional expectation: the standard formula with
 * beta+T replaced by (beta+T)/c, times k.
 */
static double
pnbd_expected_lifted(const ClvModelType *m, const double *p, double x, double tx,
					 double T, double t, double k, double c)
{
	if (!(k > 0) || !(c > 0) || !(c <= 1) || !isfinite(k))
		return NAN;
	return k / c * pnbd_expected(m, p, x, tx, T, c * t);
}

/*
 * P(X(t) = n) for a new customer (Fader, Hardie & Lee 2006 note):
 *	 NBD term * (beta/(beta+t))^s
 *	 + alpha^r beta^s B(r+n, s+1)/B(r, s)
 *	   * [B1 - sum_{i=0..n} Gamma(r+s+i)/(Gamma(r+s) i!) t^i B2_i]
 * the bracket being evaluated in log space; rounding below zero is 0.
 */
static double
pnbd_prob_n(const ClvModelType *model, const double *p, int n, double t)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	bool		alpha_ge = (alpha >= beta);
	double		m = alpha_ge ? alpha : beta;
	double		d = fabs(alpha - beta);
	double		b2 = alpha_ge ? s + 1.0 : r + n;
	double		c = r + s + n + 1.0;
	double		lnb,
				lpre,
				lb1,
				lsum = -INFINITY,
				lbr,
				res;
	int			sign;

	if (!pnbd_params_ok(p) || n < 0 || !(t >= 0))
		return NAN;
	if (t == 0)
		return n == 0 ? 1.0 : 0.0;
	lnb = clv_lgamma(r + n) - clv_lgamma(r) - clv_lgamma(n + 1.0) +
		r * log(alpha / (alpha + t)) + n * log(t / (alpha + t)) +
		s * log(beta / (beta + t));
	lpre = r * log(alpha) + s * log(beta) + clv_lbeta(r + n, s + 1.0) -
		clv_lbeta(r, s);
	lb1 = clv_log_hyp2f1(r + s, b2, c, d / m, &sign) - (r + s) * log(m);
	for (long i = 0; i <= n; i++)	/* long: n may be INT_MAX */
	{
		double		lt;

		CLV_CHECK_INTERRUPTS();
		lt = clv_lgamma(r + s + i) - clv_lgamma(r + s) -
			clv_lgamma(i + 1.0) + i * log(t) +
			clv_log_hyp2f1(r + s + i, b2, c, d / (m + t), &sign) -
			(r + s + i) * log(m + t);

		lsum = clv_logaddexp(lsum, lt);
	}
	if (isnan(lb1) || isnan(lsum) || isnan(lnb) || isnan(lpre))
		return NAN;
	lbr = lb1 > lsum ? clv_logsubexp(lb1, lsum) : -INFINITY;
	res = exp(lnb) + exp(lpre + lbr);
	if (!isfinite(res))
		return NAN;
	return fmin(1.0, fmax(0.0, res));
}

/*
 * Starting points: the neutral (1, 1, 1, 1) first, then ones with the time
 * scales alpha and beta near the mean age (a bad scale is the usual reason
 * BFGS stalls).
 */
static int
pnbd_starts(const ClvObsMeans *mean, double s[CLV_MAX_STARTS][CLV_MAX_PARAMS])
{
	const double st[][CLV_MAX_PARAMS] = {
		{1.0, 1.0, 1.0, 1.0},
		{0.5, mean->T / 4.0, 0.5, mean->T / 4.0},
		{0.2, mean->T, 1.0, mean->T},
		{2.0, mean->T / (mean->x + 1.0), 0.5, 2.0 * mean->T},
	};

	memcpy(s, st, sizeof(st));
	return clv_lengthof(st);
}

/*
 * Simulation (Schmittlein et al. 1987's story): lambda ~ Gamma(r, alpha),
 * lifetime ~ Exp(mu), mu ~ Gamma(s, beta); purchases at exponential
 * intervals until min(T, lifetime).
 */
static void
pnbd_sim_begin(const ClvModelType *m, ClvSimCustomer *c, const double *k)
{
	double		mu;
	double		lifetime;

	c->lambda = clv_sim_gamma_rate(c->rng, k[0], k[1]);
	mu = clv_sim_gamma_rate(c->rng, k[2], k[3]);
	lifetime = gsl_ran_exponential(c->rng, 1.0 / mu);
	c->end = c->T < lifetime ? c->T : lifetime;
}

static bool
pnbd_sim_next(const ClvModelType *m, ClvSimCustomer *c, bool first,
			  double *t, double *amount)
{
	c->t += gsl_ran_exponential(c->rng, 1.0 / c->lambda);
	if (!(c->t <= c->end))
		return false;
	*t = c->t;
	*amount = clv_sim_amount(c);
	return true;
}

const ClvModelType clv_pareto_nbd_type = {
	.kind = CLV_MODEL_PARETO_NBD,
	.name = "pareto_nbd",
	.label = "Pareto/NBD",
	.nparams = 4,
	.param_names = {"r", "alpha", "s", "beta"},
	.infer_rank = 1,
	.infer_keys = {"r", "s", "beta"},
	.takes_spend_model = true,
	.loglik_grad = pnbd_loglik,
	.starts = pnbd_starts,
	.expected = pnbd_expected,
	.expected_lifted = pnbd_expected_lifted,
	.p_alive = pnbd_p_alive,
	.prob_n = pnbd_prob_n,
	.sim_begin = pnbd_sim_begin,
	.sim_next = pnbd_sim_next,
};
