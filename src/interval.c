/*-------------------------------------------------------------------------
 *
 * interval.c
 *	  Prediction intervals from parameter uncertainty (see interval.h).
 *
 * The estimates are asymptotically normal on the log scale the fit works
 * on, with the inverted observed information as covariance (optim.c), so
 * parameter vectors are drawn as exp(log p + L z).  A prediction's
 * interval is the spread of the prediction over the draws: it carries the
 * nonlinearity of the model (no linearisation, unlike the delta method),
 * and a total over customers is summed draw by draw.
 *
 * Tier: math (plain C, libm and GSL; no PostgreSQL header: make check-tiers).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>

#include "interval.h"
#include "specfun.h"

uint64_t
clv_splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/*
 * A small generator of our own (not GSL's, which mallocs) keeps the draws
 * identical on every platform and leaves nothing to free on a cancel.
 */
void
clv_interval_rng_seed(ClvIntervalRng *rng, uint64_t seed)
{
	uint64_t	x = seed;

	for (int i = 0; i < 4; i++)
		rng->s[i] = clv_splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(ClvIntervalRng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* uniform on (0, 1): 53 random bits, never 0 */
static double
rng_uniform(ClvIntervalRng *rng)
{
	return ((double) (rng_next(rng) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* standard normal by Box-Muller (one value per call, the pair's cosine) */
static double
rng_normal(ClvIntervalRng *rng)
{
	double		u1 = rng_uniform(rng);
	double		u2 = rng_uniform(rng);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

bool
clv_interval_cholesky(double *a, int np)
{
	for (int i = 0; i < np; i++)
		for (int j = 0; j < np; j++)
			if (!isfinite(a[i * np + j]) || a[i * np + j] != a[j * np + i])
				return false;
	for (int j = 0; j < np; j++)
	{
		double		d = a[j * np + j];

		for (int k = 0; k < j; k++)
			d -= a[j * np + k] * a[j * np + k];
		if (!(d > 0))
			return false;
		d = sqrt(d);
		a[j * np + j] = d;
		for (int i = j + 1; i < np; i++)
		{
			double		v = a[i * np + j];

			for (int k = 0; k < j; k++)
				v -= a[i * np + k] * a[j * np + k];
			a[i * np + j] = v / d;
		}
		for (int i = 0; i < j; i++)
			a[i * np + j] = 0;
	}
	return true;
}

bool
clv_interval_draw(ClvIntervalRng *rng, const double *params, const double *chol,
				  int np, int n_draws, double *out)
{
	for (int d = 0; d < n_draws; d++)
	{
		double		z[CLV_MAX_PARAMS];

		CLV_CHECK_INTERRUPTS();
		for (int i = 0; i < np; i++)
			z[i] = rng_normal(rng);
		for (int i = 0; i < np; i++)
		{
			double		lp = log(params[i]);
			double		v;

			for (int k = 0; k <= i; k++)
				lp += chol[i * np + k] * z[k];
			v = exp(lp);
			if (!(v > 0) || !isfinite(v))
				return false;
			out[d * np + i] = v;
		}
	}
	return true;
}

int
clv_interval_predict(ClvModelKind kind, const double *tx_draws, int ntx,
					 const double *sp_draws, int nsp, int n_draws,
					 const ClvIntervalCustomer *c,
					 double *ep, double *pa, double *es, double *clv)
{
	for (int d = 0; d < n_draws; d++)
	{
		const double *p = tx_draws + (size_t) d * ntx;

		CLV_CHECK_INTERRUPTS();
		ep[d] = clv_expected_purchases(kind, p, c->x, c->tx, c->T, c->horizon);
		pa[d] = clv_p_alive(kind, p, c->x, c->tx, c->T);
		if (!isfinite(ep[d]) || !isfinite(pa[d]))
			return d;
		if (sp_draws)
		{
			const double *s = sp_draws + (size_t) d * nsp;
			double		disc;

			es[d] = c->m_known ? clv_expected_spend(s, c->x, c->m) :
				clv_expected_spend(s, 0, 0);
			disc = c->rate == 0 ? ep[d] :
				clv_discounted_purchases(kind, p, c->x, c->tx, c->T, c->horizon, c->rate);
			clv[d] = c->margin * es[d] * disc;
			if (!isfinite(es[d]) || !isfinite(clv[d]))
				return d;
		}
	}
	return -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

static double
quantile_sorted(const double *v, int n, double q)
{
	double		h = (n - 1) * q;
	int			lo = (int) floor(h);

	if (lo >= n - 1)
		return v[n - 1];
	return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

void
clv_interval_bounds(double *v, int n, double level, double *lower, double *upper)
{
	qsort(v, n, sizeof(double), cmp_double);
	*lower = quantile_sorted(v, n, (1 - level) / 2);
	*upper = quantile_sorted(v, n, (1 + level) / 2);
}
