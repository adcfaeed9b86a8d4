/*-------------------------------------------------------------------------
 *
 * bgbb.c
 *	  BG/BB (Fader, Hardie & Shang 2010), the model of discrete transaction
 *	  opportunities: likelihood, gradient, predictions, starting points,
 *	  simulation and its table.  x = transactions in n opportunities, tx =
 *	  opportunity of the last one (0 if none), T = n.  Parameters: alpha,
 *	  beta, gamma, delta.
 *
 * Per customer (FHS 2010, eq. 5; the published -33225.58 on the donations
 * data uses this sequence likelihood, without binomial coefficients):
 *	 L = B(al+x, be+n-x)/B(al,be) * B(ga, de+n)/B(ga,de)
 *	   + sum_{i=0}^{n-tx-1} B(al+x, be+tx-x+i)/B(al,be)
 *							* B(ga+1, de+tx+i)/B(ga,de)
 * summed with log-sum-exp.  Inputs are whole numbers of opportunities.
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
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>

#include "btyd.h"
#include "simulate.h"
#include "specfun.h"

/*
 * The BG/BB likelihood sums one term per opportunity after the last
 * transaction, and P(X(n) = k) one per opportunity: work grows with n, so n
 * is bounded (the table's max_periods: the SQL glue refuses more with
 * 22023, the math returns NaN).  A few seconds of CPU per 10^7
 * opportunities; the loops check for interrupts every
 * BGBB_INTERRUPT_EVERY terms, often enough to cancel within milliseconds
 * and rarely enough to cost nothing.
 */
#define BGBB_MAX_PERIODS 2147483647.0
#define BGBB_INTERRUPT_EVERY 4096

static bool
bgbb_params_ok(const double *p)
{
	for (int i = 0; i < 4; i++)
		if (!(p[i] > 0) || !isfinite(p[i]))
			return false;
	return true;
}

/*
 * One term of the likelihood: log of
 *	 B(al+x, be+y)/B(al,be) * B(ga+g1, de+dd)/B(ga,de)
 * and, if wanted, its gradient; the constant digammas come in cst.
 */
typedef struct BgbbConst
{
	double		lb_ab,
				lb_gd,
				ps_a,
				ps_b,
				ps_ab,
				ps_g,
				ps_g1,
				ps_d,
				ps_gd;
} BgbbConst;

static double
bgbb_term(const double *p, const BgbbConst *k, double x, double y, int g1,
		  double dd, double *d)
{
	double		al = p[0],
				be = p[1],
				ga = p[2],
				de = p[3];
	double		v = clv_lbeta(al + x, be + y) - k->lb_ab +
		clv_lbeta(ga + g1, de + dd) - k->lb_gd;

	if (d)
	{
		double		ps_xy = clv_digamma(al + be + x + y);
		double		ps_gd = clv_digamma(ga + g1 + de + dd);

		d[0] = clv_digamma(al + x) - ps_xy - k->ps_a + k->ps_ab;
		d[1] = clv_digamma(be + y) - ps_xy - k->ps_b + k->ps_ab;
		d[2] = (g1 ? k->ps_g1 : k->ps_g) - ps_gd - k->ps_g + k->ps_gd;
		d[3] = clv_digamma(de + dd) - ps_gd - k->ps_d + k->ps_gd;
	}
	return v;
}

static void
bgbb_const(const double *p, BgbbConst *k, bool derivs)
{
	k->lb_ab = clv_lbeta(p[0], p[1]);
	k->lb_gd = clv_lbeta(p[2], p[3]);
	if (derivs)
	{
		k->ps_a = clv_digamma(p[0]);
		k->ps_b = clv_digamma(p[1]);
		k->ps_ab = clv_digamma(p[0] + p[1]);
		k->ps_g = clv_digamma(p[2]);
		k->ps_g1 = clv_digamma(p[2] + 1);
		k->ps_d = clv_digamma(p[3]);
		k->ps_gd = clv_digamma(p[2] + p[3]);
	}
}

/*
 * Log-likelihood of one customer, with the gradient as the softmax-weighted
 * average of the term gradients.  n - tx + 1 terms (NaN beyond
 * BGBB_MAX_PERIODS opportunities), with interrupt checks: n comes from
 * the user.
 */
static double
bgbb_row(const double *p, const BgbbConst *k, double x, double tx, double n,
		 double *grad)
{
	long		nterms;
	double		lmax = -INFINITY,
				acc = 0.0,
				gacc[4] = {0, 0, 0, 0};
	double		ll;

	if (!(n - tx >= 0) || n > BGBB_MAX_PERIODS)
		return NAN;
	nterms = (long) (n - tx) + 1;
	/* two passes: the first finds the largest term for a stable sum */
	for (int pass = 0; pass < 2; pass++)
	{
		for (long j = 0; j < nterms; j++)
		{
			double		d[4];
			double		v;

			if (j % BGBB_INTERRUPT_EVERY == BGBB_INTERRUPT_EVERY - 1)
				CLV_CHECK_INTERRUPTS();
			if (j == 0)
				v = bgbb_term(p, k, x, n - x, 0, n, (pass && grad) ? d : NULL);
			else
				v = bgbb_term(p, k, x, tx - x + (j - 1), 1, tx + (j - 1),
							  (pass && grad) ? d : NULL);
			if (isnan(v))
				return NAN;
			if (pass == 0)
				lmax = fmax(lmax, v);
			else
			{
				double		e = exp(v - lmax);

				acc += e;
				if (grad)
					for (int q = 0; q < 4; q++)
						gacc[q] += e * d[q];
			}
		}
	}
	ll = lmax + log(acc);
	if (grad)
		for (int q = 0; q < 4; q++)
			grad[q] = gacc[q] / acc;
	return ll;
}

static double
bgbb_loglik(const ClvModelType *m, const double *p, const ClvObs *obs,
			size_t nobs, double *grad)
{
	BgbbConst	k;
	double		ll = 0.0;
	double		g[4] = {0, 0, 0, 0};

	if (!bgbb_params_ok(p))
		return NAN;
	bgbb_const(p, &k, grad != NULL);
	for (size_t i = 0; i < nobs; i++)
	{
		double		gr[4];
		double		v = bgbb_row(p, &k, obs[i].x, obs[i].tx, obs[i].T,
								 grad ? gr : NULL);

		if (isnan(v))
			return NAN;
		ll += obs[i].w * v;
		if (grad)
			for (int q = 0; q < 4; q++)
				g[q] += obs[i].w * gr[q];
	}
	if (!isfinite(ll))
		return NAN;
	if (grad)
		for (int q = 0; q < 4; q++)
		{
			if (!isfinite(g[q]))
				return NAN;
			grad[q] = g[q];
		}
	return ll;
}

/* P(alive in period n+1 | x, tx, n) = B(.., be+n-x) B(ga, de+n+1) / L */
static double
bgbb_p_alive(const ClvModelType *m, const double *p, double x, double tx,
			 double n)
{
	BgbbConst	k;
	double		ll,
				v;

	if (!bgbb_params_ok(p))
		return NAN;
	bgbb_const(p, &k, false);
	ll = bgbb_row(p, &k, x, tx, n, NULL);
	v = bgbb_term(p, &k, x, n - x, 0, n + 1, NULL);
	if (isnan(ll) || isnan(v))
		return NAN;
	return fmin(1.0, exp(v - ll));
}

/*
 * E[X(n, n+nstar) | x, tx, n]
 *	 = B(al+x+1, be+n-x)/B(al,be) / L * sum_{k=1..nstar} B(ga,de+n+k)/B(ga,de)
 * where the sum telescopes to
 *	 Gamma(ga+de)/Gamma(de) [f(n) - f(n+nstar)]/(ga-1),
 *	 f(m) = Gamma(de+m+1)/Gamma(ga+de+m),
 * evaluated with expm1, and within BGBB_NEAR_G1 of ga = 1 (ga = 1
 * included, where the quotient is 0/0) by its digamma limit, which differs
 * from it by O(|ga - 1|).
 */
#define BGBB_NEAR_G1 1e-10

static double
bgbb_expected(const ClvModelType *m, const double *p, double x, double tx,
			  double n, double nstar)
{
	BgbbConst	k;
	double		ga = p[2],
				de = p[3];
	double		ll,
				f0,
				f1,
				ld;

	if (!bgbb_params_ok(p) || !(nstar >= 0))
		return NAN;
	if (nstar == 0)
		return 0.0;
	bgbb_const(p, &k, false);
	ll = bgbb_row(p, &k, x, tx, n, NULL);
	f0 = clv_lgamma(de + n + 1) - clv_lgamma(ga + de + n);
	f1 = clv_lgamma(de + n + nstar + 1) - clv_lgamma(ga + de + n + nstar);
	if (isnan(ll) || isnan(f0) || isnan(f1))
		return NAN;
	if (fabs(ga - 1.0) < BGBB_NEAR_G1)
		ld = log(clv_digamma(de + n + nstar + 1) - clv_digamma(de + n + 1));
	else
		ld = log(-expm1(f1 - f0) / (ga - 1.0));
	return exp(clv_lbeta(p[0] + x + 1, p[1] + n - x) - k.lb_ab - ll +
			   clv_lgamma(ga + de) - clv_lgamma(de) + f0 + ld);
}

/*
 * P(X(n) = k) for a new customer over n (rounded to whole) opportunities,
 * n at most BGBB_MAX_PERIODS:
 *	 C(n,k) B(al+k, be+n-k)/B(al,be) B(ga, de+n)/B(ga,de)
 *	 + sum_{i=k}^{n-1} C(i,k) B(al+k, be+i-k)/B(al,be) B(ga+1, de+i)/B(ga,de)
 */
static double
bgbb_prob_n(const ClvModelType *m, const double *p, int kk, double horizon)
{
	BgbbConst	k;
	long		n;
	double		lsum;

	if (!bgbb_params_ok(p) || kk < 0 || !(horizon >= 0) ||
		floor(horizon + 0.5) > BGBB_MAX_PERIODS)
		return NAN;
	n = (long) floor(horizon + 0.5);
	if (kk > n)
		return 0.0;
	bgbb_const(p, &k, false);
	lsum = clv_lgamma(n + 1.0) - clv_lgamma(kk + 1.0) - clv_lgamma(n - kk + 1.0) +
		bgbb_term(p, &k, kk, n - kk, 0, n, NULL);
	for (long i = kk; i < n; i++)
	{
		if (i % BGBB_INTERRUPT_EVERY == BGBB_INTERRUPT_EVERY - 1)
			CLV_CHECK_INTERRUPTS();
		lsum = clv_logaddexp(lsum,
							 clv_lgamma(i + 1.0) - clv_lgamma(kk + 1.0) -
							 clv_lgamma(i - kk + 1.0) +
							 bgbb_term(p, &k, kk, i - kk, 1, i, NULL));
	}
	if (isnan(lsum))
		return NAN;
	return fmin(1.0, exp(lsum));
}

/*
 * Whole numbers of opportunities with frequency <= recency <= t, recency 0
 * when frequency is 0 (on top of the common checks).
 */
static bool
bgbb_row_ok(double x, double rec, double T)
{
	return !(x != floor(x) || rec != floor(rec) || T != floor(T) || x > rec ||
			 (x == 0 && rec != 0));
}

/* Starting points: the neutral (1, 1, 1, 1) first, then other Beta shapes */
static int
bgbb_starts(const ClvObsMeans *mean, double s[CLV_MAX_STARTS][CLV_MAX_PARAMS])
{
	static const double st[][CLV_MAX_PARAMS] = {
		{1.0, 1.0, 1.0, 1.0},
		{0.5, 0.5, 0.5, 2.0},
		{2.0, 1.0, 0.3, 3.0},
	};

	memcpy(s, st, sizeof(st));
	return clv_lengthof(st);
}

/*
 * Simulation (FHS 2010's story): p ~ Beta(alpha, beta) purchase
 * probability, theta ~ Beta(gamma, delta) drop-out at the start of each
 * opportunity; purchases happen at integer t = 1..floor(T).
 */
static void
bgbb_sim_begin(const ClvModelType *m, ClvSimCustomer *c, const double *k)
{
	c->p = gsl_ran_beta(c->rng, k[0], k[1]);
	c->lambda = gsl_ran_beta(c->rng, k[2], k[3]);	/* theta */
}

/* Opportunities without a purchase: as many as T, so interruptible */
static bool
bgbb_sim_next(const ClvModelType *m, ClvSimCustomer *c, bool first,
			  double *t, double *amount)
{
	for (; c->i <= c->T; c->i++)
	{
		CLV_CHECK_INTERRUPTS();
		if (gsl_rng_uniform(c->rng) < c->lambda)
			break;
		if (gsl_rng_uniform(c->rng) < c->p)
		{
			*t = c->i++;
			*amount = clv_sim_amount(c);
			return true;
		}
	}
	return false;
}

/*
 * E[min(1, k p)] for p ~ Beta(a, b): k E[p] for k <= 1, otherwise
 * k E[p; p < 1/k] + P(p >= 1/k) with regularised incomplete betas
 * (E[p; p < u] = a/(a+b) I_u(a+1, b)).
 */
static double
bgbb_capped_mean(double a, double b, double k)
{
	gsl_sf_result lo,
				hi;
	double		u;

	if (k <= 1)
		return k * a / (a + b);
	u = 1.0 / k;
	if (gsl_sf_beta_inc_e(a + 1, b, u, &lo) != GSL_SUCCESS ||
		gsl_sf_beta_inc_e(b, a, 1.0 - u, &hi) != GSL_SUCCESS)
		return NAN;
	return fmin(1.0, k * a / (a + b) * lo.val + hi.val);
}

typedef struct BgbbRetention
{
	double		c;				/* dropout factor */
	double		nstar;			/* future opportunities */
	double		dexp;			/* exponent of (1 - theta) left in the
								 * integrand */
	double		lnorm;			/* log B(ga, de+n) */
} BgbbRetention;

/*
 * The integrand of G (bgbb_retained_sum) without the QAWS weight:
 * sum_{i=1..N} q^i = q (1 - q^N) / (1 - q), q = 1 - c theta, which is N at
 * theta = 0 and is also defined for a fractional N, times the rest of the
 * Beta density.
 */
static double
bgbb_retention_integrand(double th, void *arg)
{
	BgbbRetention *r = (BgbbRetention *) arg;
	double		u = r->c * th;
	double		h;

	if (u <= 0)
		h = r->nstar;
	else
		h = (1.0 - u) * -expm1(r->nstar * log1p(-u)) / u;
	return exp(r->dexp * log1p(-th) - r->lnorm) * h;
}

/*
 * G(N) = E[sum_{i=1..N} (1 - c theta)^i], theta ~ Beta(ga, d): the expected
 * number of the next N opportunities that a customer alive now is still
 * alive for, when each dropout probability is multiplied by c.  Adaptive
 * Gauss-Kronrod for algebraic endpoint singularities (QAWS) with the weight
 * theta^(ga-1), and (1-theta)^(d-1) in the weight as well when d < 1 (else
 * in the integrand, where a large d only sharpens the peak at 0, which the
 * bisection follows).  The workspace is malloc'ed and freed here, with no
 * interrupt check in between (the callers check between evaluations).
 */
#define CLV_BGBB_QUAD_LIMIT 1000

static double
bgbb_retained_sum(double ga, double d, double c, double nstar)
{
	BgbbRetention arg;
	gsl_function f;
	gsl_integration_workspace *w;
	gsl_integration_qaws_table *tab;
	double		res = NAN,
				err;
	int			rc;

	arg.c = c;
	arg.nstar = nstar;
	arg.dexp = d < 1 ? 0.0 : d - 1.0;
	arg.lnorm = clv_lbeta(ga, d);
	if (!isfinite(arg.lnorm))
		return NAN;
	f.function = bgbb_retention_integrand;
	f.params = &arg;
	tab = gsl_integration_qaws_table_alloc(ga - 1.0, d < 1 ? d - 1.0 : 0.0, 0, 0);
	w = gsl_integration_workspace_alloc(CLV_BGBB_QUAD_LIMIT);
	if (tab && w)
	{
		rc = gsl_integration_qaws(&f, 0.0, 1.0, tab, 0.0, 1e-10,
								  CLV_BGBB_QUAD_LIMIT, w, &res, &err);
		if (rc != GSL_SUCCESS && !(rc == GSL_EROUND && err <= 1e-8 * fabs(res)))
			res = NAN;
	}
	if (w)
		gsl_integration_workspace_free(w);
	if (tab)
		gsl_integration_qaws_table_free(tab);
	return res;
}

/*
 * E[X(n, n+nstar) | x, tx, n] when, from n on, the purchase probability of
 * an alive customer in each opportunity is min(1, k p) (k =
 * purchase_factor; the cap keeps it a probability) and the dropout
 * probability before each is c theta (c = dropout_factor, 0 < c <= 1).
 *
 * Given alive through opportunity n, p ~ Beta(al+x, be+n-x) and
 * theta ~ Beta(ga, de+n), independent, so the closed form of
 * clv_bgbb_expected factors into
 *	 P(alive through n) E[p] sum_{i=1..nstar} E[(1-theta)^i]
 * and the lifted expectation is
 *	 P(alive through n) E[min(1, k p)] G(nstar),
 *	 G(N) = E[(1 - c theta)(1 - (1 - c theta)^N) / (c theta)].
 * At c = 1 G is the telescoped sum of the closed form, which is used
 * (scaled by E[min(1, k p)] / E[p]); for c < 1 G comes from quadrature.
 */
static double
bgbb_expected_lifted(const ClvModelType *m, const double *p, double x, double tx,
					 double n, double nstar, double kf, double c)
{
	BgbbConst	k;
	double		a1 = p[0] + x,
				b1 = p[1] + n - x;
	double		ll,
				la,
				pk,
				g;

	if (!bgbb_params_ok(p) || !(nstar >= 0) || !(kf > 0) || !isfinite(kf) ||
		!(c > 0) || !(c <= 1))
		return NAN;
	if (nstar == 0)
		return 0.0;
	pk = bgbb_capped_mean(a1, b1, kf);
	if (c == 1)
		return bgbb_expected(m, p, x, tx, n, nstar) * pk / (a1 / (a1 + b1));
	bgbb_const(p, &k, false);
	ll = bgbb_row(p, &k, x, tx, n, NULL);
	la = bgbb_term(p, &k, x, n - x, 0, n, NULL) - ll;
	g = bgbb_retained_sum(p[2], p[3] + n, c, nstar);
	if (isnan(ll) || isnan(la) || isnan(g) || isnan(pk))
		return NAN;
	return fmin(1.0, exp(la)) * pk * g;
}

/*
 * BG/BB fits alone: its "gamma" parameter would clash with Gamma-Gamma's
 * in a params object, and spend per opportunity is not what Gamma-Gamma
 * models.
 */
const ClvModelType clv_bgbb_type = {
	.kind = CLV_MODEL_BGBB,
	.name = "bgbb",
	.label = "BG/BB",
	.nparams = 4,
	.param_names = {"alpha", "beta", "gamma", "delta"},
	.infer_rank = 3,
	.infer_keys = {"alpha", "beta", "gamma", "delta"},
	.infer_unless = "r",
	.takes_spend_model = false,
	.max_periods = BGBB_MAX_PERIODS,
	.row_ok = bgbb_row_ok,
	.row_rule = "whole numbers with frequency <= recency <= t (recency 0 when frequency is 0)",
	.row_rule_sql = "s.frequency <> floor(s.frequency) OR s.recency <> floor(s.recency) "
	"OR s.t <> floor(s.t) OR s.frequency > s.recency "
	"OR (s.frequency = 0 AND s.recency <> 0)",
	.loglik_grad = bgbb_loglik,
	.starts = bgbb_starts,
	.expected = bgbb_expected,
	.expected_lifted = bgbb_expected_lifted,
	.p_alive = bgbb_p_alive,
	.prob_n = bgbb_prob_n,
	.sim_begin = bgbb_sim_begin,
	.sim_next = bgbb_sim_next,
};
