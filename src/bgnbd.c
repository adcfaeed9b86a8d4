/*-------------------------------------------------------------------------
 *
 * bgnbd.c
 *	  The BG family: BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD
 *	  (Batislam, Denizel & Filiztekin 2007) -- likelihood, gradient,
 *	  predictions, starting points and simulation, and their two tables.
 *
 * The two differ only in whether a customer may drop out right at the
 * first purchase: shift = 0 for BG/NBD (no), 1 for MBG/NBD (yes, so that
 * customers without repeat purchases are not all "alive"; BTYDplus's
 * mbgnbd.LL convention).  The shift is the table's variant, so every
 * function here serves both.  Parameters: r, alpha, a, b.
 *
 * Plain C (the math tier): no PostgreSQL headers.
 *
 * Log-likelihood per customer (FHL 2005, eq. 6; the published -9582.43 on
 * CDNOW uses exactly this, without x! terms):
 *	 A1 = lgamma(r+x) - lgamma(r) + r log(alpha)
 *	 A2 = lbeta(a, b+x+shift) - lbeta(a, b)
 *	 A3 = -(r+x) log(alpha+T)
 *	 A4 = log(a) - log(b+x-1+shift) - (r+x) log(alpha+tx)  [x > 0 or shift]
 *	 LL = A1 + A2 + log(exp(A3) + exp(A4))
 *
 * Tier: math (plain C, libm and GSL; no PostgreSQL header: make check-tiers).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>

#include "btyd.h"
#include "simulate.h"
#include "specfun.h"

static bool
bg_params_ok(const double *p)
{
	for (int i = 0; i < 4; i++)
		if (!(p[i] > 0) || !isfinite(p[i]))
			return false;
	return true;
}

/*
 * Terms that depend on x alone are recomputed only when x changes: the fit
 * path hands rows ordered by frequency, so the special functions run once
 * per distinct frequency instead of once per row.
 */
static double
bg_loglik(const ClvModelType *m, const double *p, const ClvObs *obs,
		  size_t nobs, double *grad)
{
	int			sh = m->variant;
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];
	double		lg_r,
				ps_r,
				lb_ab,
				ps_ab,
				ps_b,
				log_alpha;
	double		ll = 0.0;
	double		g[4] = {0, 0, 0, 0};
	double		prev_x = -1.0,
				prev_T = -1.0,
				lat = 0.0,
				inv_at = 0.0;
	double		a12 = 0,
				d12_r = 0,
				d12_a = 0,
				d12_b = 0,
				la4c = 0,
				bx = 0;
	bool		has4 = false;

	if (!bg_params_ok(p))
		return NAN;
	lg_r = clv_lgamma(r);
	ps_r = clv_digamma(r);
	lb_ab = clv_lbeta(a, b);
	ps_ab = clv_digamma(a + b);
	ps_b = clv_digamma(b);
	log_alpha = log(alpha);

	for (size_t i = 0; i < nobs; i++)
	{
		double		x = obs[i].x,
					w = obs[i].w;
		double		a3,
					lik,
					w3 = 1.0,
					w4 = 0.0,
					lax = 0.0,
					inv_ax = 0.0;

		if (x != prev_x)
		{
			double		ps_abx = clv_digamma(a + b + x + sh);

			a12 = clv_lgamma(r + x) - lg_r + r * log_alpha +
				clv_lbeta(a, b + x + sh) - lb_ab;
			d12_r = clv_digamma(r + x) - ps_r + log_alpha;
			d12_a = ps_ab - ps_abx;
			d12_b = clv_digamma(b + x + sh) - ps_abx - ps_b + ps_ab;
			has4 = (x > 0 || sh);
			bx = b + x - 1 + sh;
			la4c = has4 ? log(a) - log(bx) : 0.0;
			prev_x = x;
		}
		/* rows come ordered by t within a frequency: reuse log(alpha+T) */
		if (obs[i].T != prev_T)
		{
			prev_T = obs[i].T;
			lat = log(alpha + prev_T);
			inv_at = 1.0 / (alpha + prev_T);
		}
		a3 = -(r + x) * lat;
		if (has4)
		{
			double		a4,
						d,
						e,
						inv;

			lax = log(alpha + obs[i].tx);
			inv_ax = 1.0 / (alpha + obs[i].tx);
			a4 = la4c - (r + x) * lax;
			/* log-sum-exp of (a3, a4) and its softmax weights from one exp */
			d = a4 - a3;
			e = exp(-fabs(d));
			inv = 1.0 / (1.0 + e);
			if (d <= 0)
			{
				lik = a3 + log1p(e);
				w3 = inv;
				w4 = e * inv;
			}
			else
			{
				lik = a4 + log1p(e);
				w4 = inv;
				w3 = e * inv;
			}
		}
		else
			lik = a3;
		ll += w * (a12 + lik);
		if (grad)
		{
			g[0] += w * (d12_r - w3 * lat - w4 * lax);
			g[1] += w * (r / alpha - (r + x) * (w3 * inv_at + w4 * inv_ax));
			g[2] += w * (d12_a + w4 / a);
			/* w4 is 0 without the A4 term, where bx may be 0 (b = 1, x = 0) */
			g[3] += w * (has4 ? d12_b - w4 / bx : d12_b);
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

/* Logistic in log space: P(alive) stays in [0, 1] for any heavy row. */
static double
bg_p_alive(const ClvModelType *m, const double *p, double x, double tx, double T)
{
	int			sh = m->variant;
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];
	double		lt;

	if (!bg_params_ok(p))
		return NAN;
	if (x == 0 && !sh)
		return 1.0;
	lt = log(a) - log(b + x - 1 + sh) +
		(r + x) * log1p((T - tx) / (alpha + tx));
	return clv_inv_1p_exp(lt);
}

/*
 * E[X(T, T+t) | x, tx, T]
 *	 = (a+b+x-1+sh)/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, b+x+sh; a+b+x-1+sh; z)]
 *	   * P(alive),	 z = t / (alpha+T+t).
 * The Euler transformation turns the bracketed product into
 *	 (1-z)^(a-1) 2F1(a+b-1+sh-r, a-1; a+b+x-1+sh; z),
 * whose series converges fast for heavy buyers (large c) and never
 * overflows, unlike the untransformed one whose terms grow like x^k.
 *
 * Both factors of c/(a-1) [1 - ...] vanish at a = 1, and for a near 1 the
 * bracket loses about -log10|a-1| digits to cancellation.  The limit is
 * finite, so within CLV_BG_NEAR_A1 of a = 1 the quotient
 * [1 - ...]/(a-1) comes from clv_hyp2f1_eps_quotient, a series that is
 * exact for every a and accurate uniformly as a -> 1 (a = 1 included).
 * Measured against the 90-digit oracle of test/oracle/bg_a_near_1.py,
 * the generic formula's relative error is about 1e-16 K / |a-1|, K up to
 * about 1e5 when r << b (r = 0.01, b = 100, x = 0): up to 5e-10 at
 * |a-1| = 1e-2 but 1e-8 at 1e-3, while the series stays below 3e-13 at
 * 1e-2 (1e-15 for everyday parameters).  Switching at 1e-2 keeps both
 * sides within 1e-9 of the true value.
 */
#define CLV_BG_NEAR_A1 1e-2

static double
bg_expected(const ClvModelType *m, const double *p, double x, double tx,
			double T, double t)
{
	int			sh = m->variant;
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];
	double		c = a + b + x - 1 + sh;
	double		l1mz,
				lf,
				term,
				pa;
	int			sign;

	if (!bg_params_ok(p) || !(t >= 0))
		return NAN;
	if (t == 0)
		return 0.0;
	if (fabs(a - 1.0) < CLV_BG_NEAR_A1 && c > 0)
	{
		double		q = clv_hyp2f1_eps_quotient(c, r + x, a - 1.0,
												t / (alpha + T + t));

		if (isnan(q))
			return NAN;
		pa = bg_p_alive(m, p, x, tx, T);
		return fmax(0.0, c * q * pa);
	}
	l1mz = -log1p(t / (alpha + T));
	lf = clv_log_hyp2f1(a + b - 1 + sh - r, a - 1, c, t / (alpha + T + t), &sign);
	if (isnan(lf))
		return NAN;
	term = sign * exp((a - 1) * l1mz + lf);
	pa = bg_p_alive(m, p, x, tx, T);
	return fmax(0.0, c / (a - 1) * (1.0 - term) * pa);
}

/*
 * E[X(T, T+t) | x, tx, T] when, from T on, the purchase rate of an alive
 * customer is k lambda (k = purchase_factor) and the dropout probability
 * after each purchase is c p (c = dropout_factor, 0 < c <= 1).
 *
 * Given alive at T the posterior is lambda ~ Gamma(r+x, alpha+T) and
 * p ~ Beta(a, b+x+variant), independent, and an alive customer's purchases over
 * the next t form a Poisson process that stops after each purchase with
 * probability p: E[X(t) | lambda, p] = (1/p)(1 - exp(-lambda p t)).  Under
 * the lift this is (1/(c p))(1 - exp(-lambda p (k c t))), so
 *	 E_lifted(t) = (1/c) E(k c t)
 * with E the ordinary conditional expectation (P(alive) does not depend on
 * t, and the posterior of lambda enters only through lambda t): a purchase
 * lift is a faster clock (more purchases also mean more chances to drop
 * out, as the model says), and a retention factor both slows dropout per
 * purchase and adds purchases.  Same as replacing alpha+T by
 * (alpha+T)/(k c) in the closed form and scaling by 1/c.
 */
static double
bg_expected_lifted(const ClvModelType *m, const double *p, double x, double tx,
				   double T, double t, double k, double c)
{
	double		e;

	if (!(k > 0) || !(c > 0) || !(c <= 1) || !isfinite(k))
		return NAN;
	e = bg_expected(m, p, x, tx, T, k * c * t);
	return e / c;
}

/*
 * P(X(t) = n) for a new customer: alive throughout with n purchases, or
 * dropped out right after the n-th (BG) / at the n-th event counting the
 * first purchase (MBG) having made at least n purchases by t.  The NBD tail
 * P(N(t) >= n) is the regularised incomplete beta I_{t/(alpha+t)}(n, r).
 */
static double
bg_prob_n(const ClvModelType *m, const double *p, int n, double t)
{
	int			sh = m->variant;
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];
	double		lb_ab,
				lnb,
				res;

	if (!bg_params_ok(p) || n < 0 || !(t >= 0))
		return NAN;
	lb_ab = clv_lbeta(a, b);
	if (t == 0)
		lnb = (n == 0) ? 0.0 : -INFINITY;
	else
		lnb = clv_lgamma(r + n) - clv_lgamma(r) - clv_lgamma(n + 1.0) +
			r * log(alpha / (alpha + t)) + n * log(t / (alpha + t));
	res = exp(clv_lbeta(a, b + n + sh) - lb_ab + lnb);
	if (n > 0 || sh)
	{
		double		tail;

		if (n == 0)
			tail = 1.0;
		else if (t == 0)
			tail = 0.0;
		else
		{
			gsl_sf_result gr;

			if (gsl_sf_beta_inc_e(n, r, t / (alpha + t), &gr) != GSL_SUCCESS)
				return NAN;
			tail = gr.val;
		}
		res += exp(clv_lbeta(a + 1, b + n - 1 + sh) - lb_ab) * tail;
	}
	if (!isfinite(res))
		return NAN;
	return fmin(1.0, fmax(0.0, res));
}

/*
 * Starting points: the neutral (1, 1, 1, 1) first, then ones with alpha,
 * the time scale, near the mean age (a bad scale is the usual reason BFGS
 * stalls), and a drop-out Beta of different shapes.
 */
static int
bg_starts(const ClvObsMeans *mean, double s[CLV_MAX_STARTS][CLV_MAX_PARAMS])
{
	const double st[][CLV_MAX_PARAMS] = {
		{1.0, 1.0, 1.0, 1.0},
		{0.5, mean->T / 4.0, 1.0, 3.0},
		{0.2, mean->T, 0.5, 5.0},
		{2.0, mean->T / (mean->x + 1.0), 2.0, 2.0},
	};

	memcpy(s, st, sizeof(st));
	return clv_lengthof(st);
}

/*
 * Simulation (FHL 2005's story): lambda ~ Gamma(r, alpha), p ~ Beta(a, b);
 * exponential inter-purchase times; after each repeat purchase the
 * customer drops out with probability p (MBG/NBD: also right after the
 * acquisition purchase).
 */
static void
bg_sim_begin(const ClvModelType *m, ClvSimCustomer *c, const double *k)
{
	c->lambda = clv_sim_gamma_rate(c->rng, k[0], k[1]);
	c->p = gsl_ran_beta(c->rng, k[2], k[3]);
}

/*
 * Each purchase draws its amount right away, then whether the customer
 * drops out, before the next purchase is asked for.
 */
static bool
bg_sim_next(const ClvModelType *m, ClvSimCustomer *c, bool first, double *t,
			double *amount)
{
	if (first && m->variant)
		c->alive = gsl_rng_uniform(c->rng) >= c->p;
	if (!c->alive)
		return false;
	c->t += gsl_ran_exponential(c->rng, 1.0 / c->lambda);
	if (!(c->t <= c->T))
		return false;
	*t = c->t;
	*amount = clv_sim_amount(c);
	c->alive = gsl_rng_uniform(c->rng) >= c->p;
	return true;
}

/*
 * a <= 1: the drop-out probability's Beta puts so much mass near p = 0
 * that E[lifetime purchases] diverges; finite horizons stay finite.
 */
static const ClvCaveat bg_caveats[] = {
	{2, 1.0, "a_le_1",
	"note: a <= 1, so expected lifetime purchases are unbounded (finite horizons are fine)",
	NULL, NULL},
};

const ClvModelType clv_bgnbd_type = {
	.kind = CLV_MODEL_BGNBD,
	.name = "bgnbd",
	.label = "BG/NBD",
	.nparams = 4,
	.param_names = {"r", "alpha", "a", "b"},
	.variant = 0,
	.infer_rank = 2,
	.infer_keys = {"r", "a", "b"},
	.takes_spend_model = true,
	.loglik_grad = bg_loglik,
	.starts = bg_starts,
	.caveats = bg_caveats,
	.ncaveats = clv_lengthof(bg_caveats),
	.expected = bg_expected,
	.expected_lifted = bg_expected_lifted,
	.p_alive = bg_p_alive,
	.prob_n = bg_prob_n,
	.sim_begin = bg_sim_begin,
	.sim_next = bg_sim_next,
};

/* MBG/NBD: never inferred from the keys alone (they are BG/NBD's) */
const ClvModelType clv_mbgnbd_type = {
	.kind = CLV_MODEL_MBGNBD,
	.name = "mbgnbd",
	.label = "MBG/NBD",
	.nparams = 4,
	.param_names = {"r", "alpha", "a", "b"},
	.variant = 1,
	.takes_spend_model = true,
	.loglik_grad = bg_loglik,
	.starts = bg_starts,
	.caveats = bg_caveats,
	.ncaveats = clv_lengthof(bg_caveats),
	.expected = bg_expected,
	.expected_lifted = bg_expected_lifted,
	.p_alive = bg_p_alive,
	.prob_n = bg_prob_n,
	.sim_begin = bg_sim_begin,
	.sim_next = bg_sim_next,
};
