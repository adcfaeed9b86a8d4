/*-------------------------------------------------------------------------
 *
 * kmeans.c
 *	  K-Means math: scaling, greedy k-means++ seeding, Lloyd iterations with
 *	  Hamerly's bounds, restarts, canonical cluster numbering, silhouette.
 *
 * Points are rows of one contiguous row-major array of doubles (n * d); no
 * per-point allocation.  Hamerly's algorithm keeps, per point, an upper
 * bound on the distance to its own centroid and a lower bound on the
 * distance to every other centroid; after the centroids move, the bounds
 * are shifted by the movements, and only points whose bounds overlap are
 * looked at again.  On well-clustered data most points are skipped in most
 * iterations.  The result is the same as plain Lloyd's from the same seeds.
 * While the bounds decide fewer than half of the points (early iterations
 * on overlapping clusters) a branch-free pass over every point is used
 * instead.  The hot loops are specialised for small d (kmeans_restart) and
 * take two points at a time with SSE2 where available; every distance is
 * summed in the same order either way, so results do not depend on it.
 *
 * Tier: core (palloc, ereport, CHECK_FOR_INTERRUPTS; no fmgr, no SPI).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "kmeans.h"

/* Points between interrupt checks in the O(n) loops. */
#define KMEANS_CHECK_EVERY 65536

/* palloc an array of n elements of size sz, huge allocations allowed. */
static void *
kmeans_alloc(int64 n, Size sz)
{
	Size		bytes = mul_size((Size) Max(n, 1), sz);

	return MemoryContextAllocHuge(CurrentMemoryContext, bytes);
}

/*
 * Branch-free minimum and maximum (minsd/maxsd on x86-64, where compilers
 * will not if-convert the plain comparison without -ffinite-math-only).
 * Same result as the comparison: the second argument when either is NaN.
 */
static inline double
dmin(double a, double b)
{
#ifdef __SSE2__
	return _mm_cvtsd_f64(_mm_min_sd(_mm_set_sd(a), _mm_set_sd(b)));
#else
	return (a < b) ? a : b;
#endif
}

static inline double
dmax(double a, double b)
{
#ifdef __SSE2__
	return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(a), _mm_set_sd(b)));
#else
	return (a > b) ? a : b;
#endif
}

/*
 * Squared Euclidean distance.  Written out for d <= 8: callers are
 * specialised for a compile-time d (kmeans_restart), and compilers do not
 * completely unroll a loop at -O2; summation order is that of the loop.
 */
#define SQ(j) ((a[j] - b[j]) * (a[j] - b[j]))
static pg_attribute_always_inline double
sqdist(const double *a, const double *b, int d)
{
	double		s = 0.0;

	switch (d)
	{
		case 1:
			return SQ(0);
		case 2:
			return SQ(0) + SQ(1);
		case 3:
			return SQ(0) + SQ(1) + SQ(2);
		case 4:
			return SQ(0) + SQ(1) + SQ(2) + SQ(3);
		case 5:
			return SQ(0) + SQ(1) + SQ(2) + SQ(3) + SQ(4);
		case 6:
			return SQ(0) + SQ(1) + SQ(2) + SQ(3) + SQ(4) + SQ(5);
		case 7:
			return SQ(0) + SQ(1) + SQ(2) + SQ(3) + SQ(4) + SQ(5) + SQ(6);
		case 8:
			return SQ(0) + SQ(1) + SQ(2) + SQ(3) + SQ(4) + SQ(5) + SQ(6) + SQ(7);
		default:
			for (int j = 0; j < d; j++)
				s += SQ(j);
			return s;
	}
}
#undef SQ

#ifdef __SSE2__
/*
 * Squared distances of the two points p and p + d to c, one per lane, each
 * summed in the same order as sqdist (so with the same value).
 */
static pg_attribute_always_inline __m128d
sqdist_pair(const double *p, const double *c, int d)
{
	__m128d		acc = _mm_setzero_pd();

#pragma GCC unroll 8
	for (int j = 0; j < d; j++)
	{
		__m128d		t = _mm_sub_pd(_mm_set_pd(p[d + j], p[j]), _mm_set1_pd(c[j]));

		acc = _mm_add_pd(acc, _mm_mul_pd(t, t));
	}
	return acc;
}
#endif

/* State of the canonical sort: the row width, comparisons since a check. */
typedef struct KMeansRowOrder
{
	int			d;
	uint32		calls;
} KMeansRowOrder;

/*
 * Lexicographic order of two rows by their values, -0 before +0 on a tie
 * (the only two finite doubles that are equal without being the same bits),
 * so rows that compare equal are byte-identical.  Checks for interrupts
 * every 2^16 comparisons: pg's qsort_arg sorts in place and allocates
 * nothing, so an error may leave it at any point.
 */
static int
kmeans_row_cmp(const void *pa, const void *pb, void *arg)
{
	KMeansRowOrder *ord = arg;
	const double *a = pa;
	const double *b = pb;

	if ((++ord->calls & 0xFFFF) == 0)
		CHECK_FOR_INTERRUPTS();
	for (int j = 0; j < ord->d; j++)
	{
		if (a[j] < b[j])
			return -1;
		if (a[j] > b[j])
			return 1;
		if (signbit(a[j]) != signbit(b[j]))
			return signbit(a[j]) ? -1 : 1;
	}
	return 0;
}

/*
 * Puts the rows of x (finite values) into one canonical order, ascending
 * lexicographically.  Everything after it (scaling, seeding, Lloyd, the
 * sums behind centroids and inertia, the silhouette sample) is a function
 * of the array alone, so any order of the same multiset of rows, as a
 * source without ORDER BY or a distributed table delivers them, gives the
 * same model byte for byte.  O(n log n) comparisons, in place.
 */
void
clv_kmeans_sort_rows(double *x, int64 n, int d)
{
	KMeansRowOrder ord = {d, 0};

	CHECK_FOR_INTERRUPTS();
	qsort_arg(x, (size_t) n, sizeof(double) * d, kmeans_row_cmp, &ord);
	CHECK_FOR_INTERRUPTS();
}

/*
 * Scaling is fitted on the training data and stored with the model, so that
 * a customer scored later is transformed exactly as the training rows were.
 * The population standard deviation (ddof = 0, as scikit-learn's
 * StandardScaler) is used.  A constant feature carries no information and
 * would divide by zero, so it is reported rather than silently dropped.
 */
KMeansStatus
clv_kmeans_scale(KMeansScaling method, double *x, int64 n, int d,
				 double *center, double *scale, int *bad_feature)
{
	for (int j = 0; j < d; j++)
	{
		double		mean = 0.0;
		double		ss = 0.0;
		bool		constant = true;

		center[j] = 0.0;
		scale[j] = 1.0;
		if (method == KMEANS_SCALE_NONE)
			continue;

		for (int64 i = 0; i < n; i++)
		{
			double	   *v = &x[i * d + j];

			if (method == KMEANS_SCALE_LOG_ZSCORE)
			{
				if (!(*v > -1.0))
				{
					*bad_feature = j;
					return KMEANS_LOG_DOMAIN;
				}
				*v = log1p(*v);
			}
			if (*v != x[j])
				constant = false;
			mean += *v;
		}
		mean /= (double) n;
		for (int64 i = 0; i < n; i++)
		{
			double		t = x[i * d + j] - mean;

			ss += t * t;
		}
		if (constant || ss <= 0.0)
		{
			*bad_feature = j;
			return KMEANS_CONSTANT_FEATURE;
		}
		center[j] = mean;
		scale[j] = sqrt(ss / (double) n);
		for (int64 i = 0; i < n; i++)
			x[i * d + j] = (x[i * d + j] - mean) / scale[j];
		CHECK_FOR_INTERRUPTS();
	}
	return KMEANS_OK;
}

/* One value through a stored scaling (for scoring single customers). */
double
clv_kmeans_scale_value(KMeansScaling method, double v, double center, double scale)
{
	if (method == KMEANS_SCALE_LOG_ZSCORE)
		v = log1p(v);
	return (v - center) / scale;
}

/* Back to original units (centroids are reported in both). */
double
clv_kmeans_unscale_value(KMeansScaling method, double v, double center, double scale)
{
	v = v * scale + center;
	if (method == KMEANS_SCALE_LOG_ZSCORE)
		v = expm1(v);
	return v;
}

/* Index of the nearest centroid; ties go to the lower index. */
static pg_attribute_always_inline int
nearest_one(const double *centroids, int k, int d, const double *point)
{
	int			best = 0;
	double		bestd = DBL_MAX;

	for (int c = 0; c < k; c++)
	{
		double		dd = sqdist(point, centroids + (Size) c * d, d);

		if (dd < bestd)
		{
			bestd = dd;
			best = c;
		}
	}
	return best;
}

int
clv_kmeans_nearest(const double *centroids, int k, int d, const double *point)
{
	return nearest_one(centroids, k, d, point);
}

/*
 * The potential if candidate cx joined the centres: cand[i] becomes
 * min(closest[i], |x_i - cx|^2), the sum is returned.  The seeding's inner
 * loop, so with SSE2 two points go at a time (each point's distance summed
 * in the same order as sqdist, so the values are the same).
 */
static pg_attribute_always_inline double
candidate_pass(const double *x, int64 n, int d, const double *cx,
			   const double *closest, double *cand)
{
	double		cpot = 0.0;
	int64		i = 0;

#ifdef __SSE2__
	__m128d		pot2 = _mm_setzero_pd();

	for (; i + 1 < n; i += 2)
	{
		__m128d		m = _mm_min_pd(sqdist_pair(x + i * d, cx, d),
								   _mm_loadu_pd(closest + i));
		_mm_storeu_pd(cand + i, m);
		pot2 = _mm_add_pd(pot2, m);
	}
	cpot = _mm_cvtsd_f64(pot2) + _mm_cvtsd_f64(_mm_unpackhi_pd(pot2, pot2));
#endif
	for (; i < n; i++)
	{
		cand[i] = dmin(sqdist(x + i * d, cx, d), closest[i]);
		cpot += cand[i];
	}
	return cpot;
}

/*
 * Greedy k-means++ (Arthur & Vassilvitskii 2007, as in scikit-learn): each
 * new centre is the best of 2 + floor(ln k) candidates drawn with
 * probability proportional to the squared distance to the nearest centre
 * so far, "best" meaning the lowest resulting potential.  A point already
 * at distance zero is never drawn, so if the potential reaches zero before
 * k centres are chosen the data have fewer than k distinct points.
 */
static pg_attribute_always_inline bool
kmeans_plusplus(const double *x, int64 n, int d, int k, gsl_rng *rng,
				double *centers, double *closest, double *cand, double *best,
				double *cumsum)
{
	int			trials = 2 + (int) floor(log((double) k));
	int64		first = (int64) gsl_rng_uniform_int(rng, (unsigned long) n);
	double		pot = 0.0;

	memcpy(centers, x + first * d, sizeof(double) * d);
	for (int64 i = 0; i < n; i++)
	{
		closest[i] = sqdist(x + i * d, centers, d);
		pot += closest[i];
	}

	for (int c = 1; c < k; c++)
	{
		double		best_pot = DBL_MAX;
		int64		best_id = -1;

		CHECK_FOR_INTERRUPTS();
		/* cumulative sum of the current potential, for sampling */
		pot = 0.0;
		for (int64 i = 0; i < n; i++)
		{
			pot += closest[i];
			cumsum[i] = pot;
		}
		if (!(pot > 0.0))
			return false;

		for (int t = 0; t < trials; t++)
		{
			double		r = gsl_rng_uniform(rng) * pot;
			int64		lo = 0,
						hi = n - 1;
			double		cpot;
			const double *cx;

			/* first index with cumsum > r: a point at positive distance */
			while (lo < hi)
			{
				int64		mid = lo + (hi - lo) / 2;

				if (cumsum[mid] > r)
					hi = mid;
				else
					lo = mid + 1;
			}
			while (lo > 0 && closest[lo] == 0.0)
				lo--;			/* only if r rounded up to pot */

			cx = x + lo * d;
			cpot = candidate_pass(x, n, d, cx, closest, cand);
			if (cpot < best_pot)
			{
				double	   *tmp = best;

				best = cand;
				cand = tmp;
				best_pot = cpot;
				best_id = lo;
			}
		}
		memcpy(centers + (Size) c * d, x + best_id * d, sizeof(double) * d);
		{
			double	   *tmp = closest;

			closest = best;
			best = tmp;
		}
	}
	return true;
}

/* Workspace of one restart, allocated once for all restarts. */
typedef struct KMeansWork
{
	double	   *centers;		/* k * d */
	double	   *sums;			/* k * d */
	int64	   *counts;			/* k */
	double	   *move;			/* k: distance each centroid moved */
	double	   *half;			/* k: half distance to nearest other centroid */
	double	   *drop;			/* k: how far the lower bounds fall */
	double	   *moved;			/* k: total of move since the bounds were set */
	double	   *dropped;		/* k: total of drop since the bounds were set */
	double	   *upper;			/* n */
	double	   *lower;			/* n */
	int		   *labels;			/* n */
	double	   *buf[2];			/* n each: seeding scratch */
} KMeansWork;

/*
 * Exact nearest and second-nearest centroid of one point: the full scan
 * Hamerly's algorithm falls back to when the bounds do not decide.  Branch
 * free (min/max and conditional moves): which centroid wins is
 * unpredictable, and a mispredicted branch costs more than a distance.
 */
static pg_attribute_always_inline void
nearest_two(const double *p, const double *centers, int k, int d,
			int *a, double *d1, double *d2)
{
	double		b1 = DBL_MAX,
				b2 = DBL_MAX;
	int			i1 = 0;

	for (int c = 0; c < k; c++)
	{
		double		dd = sqdist(p, centers + (Size) c * d, d);

		b2 = dmin(b2, dmax(b1, dd));
		i1 = (dd < b1) ? c : i1;
		b1 = dmin(dd, b1);
	}
	*a = i1;
	*d1 = sqrt(b1);
	*d2 = (k > 1) ? sqrt(b2) : DBL_MAX;
}

/*
 * nearest_two for the two points p and p + d at once (SSE2: one point per
 * lane, the same operations as nearest_two, so the same results).
 */
static pg_attribute_always_inline void
nearest_two_pair(const double *p, const double *centers, int k, int d,
				 int *a, double *d1, double *d2)
{
#ifdef __SSE2__
	__m128d		b1 = _mm_set1_pd(DBL_MAX),
				b2 = _mm_set1_pd(DBL_MAX),
				i1 = _mm_setzero_pd();

	for (int c = 0; c < k; c++)
	{
		__m128d		acc = sqdist_pair(p, centers + (Size) c * d, d);
		__m128d		closer;

		b2 = _mm_min_pd(b2, _mm_max_pd(b1, acc));
		closer = _mm_cmplt_pd(acc, b1);
		i1 = _mm_or_pd(_mm_and_pd(closer, _mm_set1_pd((double) c)),
					   _mm_andnot_pd(closer, i1));
		b1 = _mm_min_pd(acc, b1);
	}
	a[0] = (int) _mm_cvtsd_f64(i1);
	a[1] = (int) _mm_cvtsd_f64(_mm_unpackhi_pd(i1, i1));
	b1 = _mm_sqrt_pd(b1);
	d1[0] = _mm_cvtsd_f64(b1);
	d1[1] = _mm_cvtsd_f64(_mm_unpackhi_pd(b1, b1));
	if (k > 1)
	{
		b2 = _mm_sqrt_pd(b2);
		d2[0] = _mm_cvtsd_f64(b2);
		d2[1] = _mm_cvtsd_f64(_mm_unpackhi_pd(b2, b2));
	}
	else
		d2[0] = d2[1] = DBL_MAX;
#else
	nearest_two(p, centers, k, d, &a[0], &d1[0], &d2[0]);
	nearest_two(p + d, centers, k, d, &a[1], &d1[1], &d2[1]);
#endif
}

/* Per-cluster sums and counts from scratch (then kept up to date). */
static pg_attribute_always_inline void
cluster_sums(const double *x, int64 n, int d, int k, KMeansWork *w)
{
	memset(w->sums, 0, sizeof(double) * k * d);
	memset(w->counts, 0, sizeof(int64) * k);
	for (int64 i = 0; i < n; i++)
	{
		double	   *s = w->sums + (Size) w->labels[i] * d;
		const double *p = x + i * d;

		for (int j = 0; j < d; j++)
			s[j] += p[j];
		w->counts[w->labels[i]]++;
	}
}

/* A point changes cluster: the sums follow, so no pass over all points. */
static pg_attribute_always_inline void
move_point(const double *p, int d, int from, int to, KMeansWork *w)
{
	double	   *sf = w->sums + (Size) from * d;
	double	   *st = w->sums + (Size) to * d;

	for (int j = 0; j < d; j++)
	{
		sf[j] -= p[j];
		st[j] += p[j];
	}
	w->counts[from]--;
	w->counts[to]++;
}

/*
 * Centroids as the means of their points, from the maintained sums.  An
 * empty cluster (possible when a centroid loses all its points) gets the
 * point farthest from its own centroid, as scikit-learn does; the caller
 * then resets the bounds.
 */
static pg_attribute_always_inline bool
update_centers(const double *x, int64 n, int d, int k, KMeansWork *w)
{
	bool		relocated = false;

	for (int c = 0; c < k; c++)
	{
		int64		far = -1;
		double		fard = -1.0;

		if (w->counts[c] > 0)
			continue;
		for (int64 i = 0; i < n; i++)
		{
			double		dd;

			if (w->counts[w->labels[i]] <= 1)
				continue;
			dd = sqdist(x + i * d, w->centers + (Size) w->labels[i] * d, d);
			if (dd > fard)
			{
				fard = dd;
				far = i;
			}
		}
		Assert(far >= 0);
		move_point(x + far * d, d, w->labels[far], c, w);
		w->labels[far] = c;
		relocated = true;
	}

	for (int c = 0; c < k; c++)
	{
		double	   *cc = w->centers + (Size) c * d;
		double		m = 0.0;

		for (int j = 0; j < d; j++)
		{
			double		v = w->sums[(Size) c * d + j] / (double) w->counts[c];

			m += (v - cc[j]) * (v - cc[j]);
			cc[j] = v;
		}
		w->move[c] = sqrt(m);
	}
	return relocated;
}

/*
 * Exact nearest and second-nearest centroid of every point, two points at
 * a time, with bounds set from them.  With track, the labels were valid
 * before: cluster sums follow the points that change cluster, and
 * *unsettled counts the points the bounds would not have decided.
 * Returns the number of points that changed cluster.
 */
static pg_attribute_always_inline int64
dense_pass(const double *x, int64 n, int d, int k, KMeansWork *w, bool track,
		   int64 *unsettled)
{
	int64		changed = 0;

	for (int64 i = 0; i < n; i += 2)
	{
		int			m = (i + 1 < n) ? 2 : 1;
		int			na[2];
		double		u[2],
					l[2];

		if ((i % KMEANS_CHECK_EVERY) == 0)
			CHECK_FOR_INTERRUPTS();
		if (m == 2)
			nearest_two_pair(x + i * d, w->centers, k, d, na, u, l);
		else
			nearest_two(x + i * d, w->centers, k, d, &na[0], &u[0], &l[0]);
		for (int q = 0; q < m; q++)
		{
			int64		pi = i + q;
			int			a = w->labels[pi];

			if (track)
			{
				double		bound = Max(w->half[a], w->lower[pi] - w->dropped[a]);

				*unsettled += (w->upper[pi] + w->moved[a] > bound);
				if (na[q] != a)
				{
					move_point(x + pi * d, d, a, na[q], w);
					changed++;
				}
			}
			w->labels[pi] = na[q];
			w->upper[pi] = u[q] - w->moved[na[q]];
			w->lower[pi] = l[q] + w->dropped[na[q]];
		}
	}
	return changed;
}

/*
 * One restart: seeds, then Lloyd iterations with Hamerly's bounds until no
 * label changes, the squared centroid shift falls below tol_abs, or
 * max_iter.  Ends with an exact assignment step so that labels and inertia
 * belong to the final centroids.
 */
static pg_attribute_always_inline bool
kmeans_single(const double *x, int64 n, int d, int k, int max_iter,
			  double tol_abs, gsl_rng *rng, KMeansWork *w,
			  double *inertia, int *iterations, bool *converged)
{
	int			iter;
	double		total;
	int64		unsettled = n;	/* points the bounds did not decide */

	/* the bounds are not in use yet: they serve as seeding scratch */
	if (!kmeans_plusplus(x, n, d, k, rng, w->centers, w->buf[0], w->buf[1],
						 w->upper, w->lower))
		return false;

	memset(w->moved, 0, sizeof(double) * k);
	memset(w->dropped, 0, sizeof(double) * k);
	dense_pass(x, n, d, k, w, false, NULL);
	cluster_sums(x, n, d, k, w);

	*converged = false;
	for (iter = 1;; iter++)
	{
		double		shift = 0.0,
					m1 = 0.0,
					m2 = 0.0;
		int			r1 = 0;
		int64		changed = 0;
		bool		reset,
					small_shift,
					dense;

		CHECK_FOR_INTERRUPTS();
		reset = update_centers(x, n, d, k, w);
		for (int c = 0; c < k; c++)
		{
			shift += w->move[c] * w->move[c];
			if (w->move[c] > m1)
			{
				m2 = m1;
				m1 = w->move[c];
				r1 = c;
			}
			else if (w->move[c] > m2)
				m2 = w->move[c];
		}
		small_shift = !reset && shift <= tol_abs;

		for (int c = 0; c < k; c++)
		{
			double		m = DBL_MAX;

			for (int c2 = 0; c2 < k; c2++)
			{
				if (c2 != c)
				{
					double		dd = sqdist(w->centers + (Size) c * d,
											w->centers + (Size) c2 * d, d);

					m = Min(m, dd);
				}
			}
			w->half[c] = (k > 1) ? 0.5 * sqrt(m) : DBL_MAX;
			/* the lower bound drops by the largest move of another centroid */
			w->drop[c] = (c == r1) ? m2 : m1;
		}

		/*
		 * Assignment step; the bounds decide most points without any
		 * distance.  Bounds are stored relative to their cluster's total
		 * movement so far (upper[i] + moved[a] is the upper bound, lower[i]
		 * - dropped[a] the lower one): a point the bounds decide is only
		 * read, never written.
		 */
		if (reset)
		{
			for (int64 i = 0; i < n; i++)
			{
				w->upper[i] = DBL_MAX;
				w->lower[i] = 0.0;
			}
			memset(w->moved, 0, sizeof(double) * k);
			memset(w->dropped, 0, sizeof(double) * k);
		}
		else
		{
			for (int c = 0; c < k; c++)
			{
				w->moved[c] += w->move[c];
				w->dropped[c] += w->drop[c];
			}
		}
		/*
		 * While more than half of the points fail their bounds (early
		 * iterations, overlapping clusters), a branch-free scan of every
		 * point is cheaper than testing bounds point by point; the scan
		 * still counts how many points the bounds would have let through.
		 */
		dense = reset || unsettled > n / 2;
		unsettled = 0;
		if (dense)
			changed = dense_pass(x, n, d, k, w, true, &unsettled);
		else
		{
			for (int64 i = 0; i < n; i++)
			{
				int			a = w->labels[i];
				double		bound,
							own,
							u,
							l;

				if ((i % KMEANS_CHECK_EVERY) == 0)
					CHECK_FOR_INTERRUPTS();
				bound = Max(w->half[a], w->lower[i] - w->dropped[a]);
				if (w->upper[i] + w->moved[a] <= bound)
					continue;
				unsettled++;
				own = sqdist(x + i * d, w->centers + (Size) a * d, d);
				if (own <= bound * bound)	/* bound >= 0 */
				{
					w->upper[i] = sqrt(own) - w->moved[a];
					continue;
				}
				nearest_two(x + i * d, w->centers, k, d, &w->labels[i], &u, &l);
				w->upper[i] = u - w->moved[w->labels[i]];
				w->lower[i] = l + w->dropped[w->labels[i]];
				if (w->labels[i] != a)
				{
					move_point(x + i * d, d, a, w->labels[i], w);
					changed++;
				}
			}
		}

		/*
		 * Converged when no label changed, or when the centroids hardly
		 * moved (scikit-learn's tolerance); in the latter case the
		 * assignment step just done plays the final E-step, so labels and
		 * inertia always belong to the final centroids.
		 */
		if (small_shift || (changed == 0 && !reset))
		{
			*converged = true;
			break;
		}
		if (iter >= max_iter)
			break;
	}
	*iterations = iter;

	total = 0.0;
	for (int64 i = 0; i < n; i++)
	{
		total += sqdist(x + i * d, w->centers + (Size) w->labels[i] * d, d);
		if ((i % KMEANS_CHECK_EVERY) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	*inertia = total;
	return true;
}

/*
 * One copy of the restart per small dimension, so that the distance loops
 * are unrolled for a compile-time d.  Kept out of clv_kmeans_fit because the
 * compiler optimises functions that call setjmp (PG_TRY) conservatively.
 */
static pg_noinline bool
kmeans_restart(const double *x, int64 n, int d, int k, int max_iter,
			   double tol_abs, gsl_rng *rng, KMeansWork *w,
			   double *inertia, int *iterations, bool *converged)
{
#define KMEANS_SINGLE(D) kmeans_single(x, n, (D), k, max_iter, tol_abs, rng, \
									   w, inertia, iterations, converged)
	switch (d)
	{
		case 1:
			return KMEANS_SINGLE(1);
		case 2:
			return KMEANS_SINGLE(2);
		case 3:
			return KMEANS_SINGLE(3);
		case 4:
			return KMEANS_SINGLE(4);
		case 5:
			return KMEANS_SINGLE(5);
		case 6:
			return KMEANS_SINGLE(6);
		case 7:
			return KMEANS_SINGLE(7);
		case 8:
			return KMEANS_SINGLE(8);
		default:
			return KMEANS_SINGLE(d);
	}
#undef KMEANS_SINGLE
}

/* Canonical order: bigger clusters first, then by centroid coordinates. */
typedef struct ClusterKey
{
	int			index;
	int64		size;
	const double *centroid;
	int			d;
} ClusterKey;

static int
cluster_key_cmp(const void *pa, const void *pb)
{
	const ClusterKey *a = pa;
	const ClusterKey *b = pb;

	if (a->size != b->size)
		return (a->size > b->size) ? -1 : 1;
	for (int j = 0; j < a->d; j++)
	{
		if (a->centroid[j] != b->centroid[j])
			return (a->centroid[j] < b->centroid[j]) ? -1 : 1;
	}
	return a->index - b->index;
}

/*
 * n_init restarts from one mt19937 stream seeded with params->seed; the
 * restart with the lowest inertia is kept (the first one on ties), so the
 * same array, k and seed always give the same model.  The result depends on
 * the order of the rows (the seeds are row indices, the sums run in row
 * order): callers put x through clv_kmeans_sort_rows first.
 */
KMeansStatus
clv_kmeans_fit(const double *x, int64 n, int d, const KMeansParams *params,
			   KMeansFit *fit)
{
	int			k = params->k;
	KMeansWork	w;
	double		tol_abs;
	double	   *best_centers = kmeans_alloc((int64) k * d, sizeof(double));
	int		   *best_labels = kmeans_alloc(n, sizeof(int));
	double		best_inertia = DBL_MAX;
	gsl_rng    *volatile rng = NULL;
	KMeansStatus status = KMEANS_OK;

	Assert(k >= 1 && n >= k && d >= 1);

	/* tolerance as in scikit-learn: relative to the mean feature variance */
	{
		double		vsum = 0.0;

		for (int j = 0; j < d; j++)
		{
			double		mean = 0.0,
						ss = 0.0;

			for (int64 i = 0; i < n; i++)
				mean += x[i * d + j];
			mean /= (double) n;
			for (int64 i = 0; i < n; i++)
				ss += (x[i * d + j] - mean) * (x[i * d + j] - mean);
			vsum += ss / (double) n;
		}
		tol_abs = params->tol * vsum / (double) d;
	}

	w.centers = kmeans_alloc((int64) k * d, sizeof(double));
	w.sums = kmeans_alloc((int64) k * d, sizeof(double));
	w.counts = kmeans_alloc(k, sizeof(int64));
	w.move = kmeans_alloc(k, sizeof(double));
	w.half = kmeans_alloc(k, sizeof(double));
	w.drop = kmeans_alloc(k, sizeof(double));
	w.moved = kmeans_alloc(k, sizeof(double));
	w.dropped = kmeans_alloc(k, sizeof(double));
	w.upper = kmeans_alloc(n, sizeof(double));
	w.lower = kmeans_alloc(n, sizeof(double));
	w.labels = kmeans_alloc(n, sizeof(int));
	for (int b = 0; b < (int) lengthof(w.buf); b++)
		w.buf[b] = kmeans_alloc(n, sizeof(double));

	memset(fit, 0, sizeof(*fit));
	fit->k = k;
	fit->d = d;
	fit->restart_inertia = palloc(sizeof(double) * params->n_init);
	fit->restart_iterations = palloc(sizeof(int) * params->n_init);

	PG_TRY();
	{
		rng = gsl_rng_alloc(gsl_rng_mt19937);
		if (rng == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory allocating the random number generator")));
		gsl_rng_set(rng, (unsigned long) params->seed);

		for (int r = 0; r < params->n_init; r++)
		{
			double		inertia;
			int			iters;
			bool		conv;
			bool		found;

			found = kmeans_restart(x, n, d, k, params->max_iter, tol_abs, rng,
								   &w, &inertia, &iters, &conv);
			if (!found)
			{
				status = KMEANS_TOO_FEW_DISTINCT;
				break;
			}
			fit->restart_inertia[r] = inertia;
			fit->restart_iterations[r] = iters;
			if (inertia < best_inertia)
			{
				best_inertia = inertia;
				memcpy(best_centers, w.centers, sizeof(double) * k * d);
				memcpy(best_labels, w.labels, sizeof(int) * n);
				fit->iterations = iters;
				fit->converged = conv;
				fit->best_restart = r + 1;
			}
			if (params->progress)
				params->progress(params->progress_arg, r + 1, params->n_init,
								 inertia, iters, conv);
		}
	}
	PG_FINALLY();
	{
		if (rng)
			gsl_rng_free(rng);
	}
	PG_END_TRY();

	for (int b = 0; b < (int) lengthof(w.buf); b++)
		pfree(w.buf[b]);
	pfree(w.upper);
	pfree(w.lower);
	pfree(w.labels);
	if (status != KMEANS_OK)
		return status;

	/* canonical numbering */
	{
		ClusterKey *keys = palloc(sizeof(ClusterKey) * k);
		int		   *rank = palloc(sizeof(int) * k);
		int64	   *sizes = palloc0(sizeof(int64) * k);

		for (int64 i = 0; i < n; i++)
			sizes[best_labels[i]]++;
		for (int c = 0; c < k; c++)
		{
			keys[c].index = c;
			keys[c].size = sizes[c];
			keys[c].centroid = best_centers + (Size) c * d;
			keys[c].d = d;
		}
		qsort(keys, k, sizeof(ClusterKey), cluster_key_cmp);

		fit->centroids = palloc(sizeof(double) * k * d);
		fit->sizes = palloc(sizeof(int64) * k);
		for (int c = 0; c < k; c++)
		{
			rank[keys[c].index] = c;
			memcpy(fit->centroids + (Size) c * d, keys[c].centroid,
				   sizeof(double) * d);
			fit->sizes[c] = keys[c].size;
		}
		for (int64 i = 0; i < n; i++)
			best_labels[i] = rank[best_labels[i]];
		fit->labels = best_labels;
		fit->inertia = best_inertia;
		pfree(keys);
		pfree(rank);
		pfree(sizes);
	}
	pfree(best_centers);
	return KMEANS_OK;
}

/* Largest n * k for which all per-point cluster sums are kept at once. */
#define KMEANS_SIL_MATRIX_MAX (16 * 1024 * 1024)

/*
 * Mean silhouette coefficient (Rousseeuw 1987) with Euclidean distances, as
 * scikit-learn's silhouette_score: a point alone in its cluster scores 0.
 * Exact, O(n^2 d).  When the n * k per-cluster distance sums fit in
 * KMEANS_SIL_MATRIX_MAX doubles each pair is visited once and its distance
 * added to both points' sums; otherwise (large k) each point's row of sums
 * is computed on its own, twice the distances but O(k) memory.  Callers
 * sample beforehand for large n.
 */
double
clv_kmeans_silhouette(const double *x, int64 n, int d, const int *labels, int k)
{
	bool		matrix = (double) n * k <= KMEANS_SIL_MATRIX_MAX;
	double	   *sums = kmeans_alloc(matrix ? (int64) n * k : k, sizeof(double));
	int64	   *sizes = palloc0(sizeof(int64) * k);
	double		total = 0.0;

	for (int64 i = 0; i < n; i++)
		sizes[labels[i]]++;
	if (matrix)
	{
		memset(sums, 0, sizeof(double) * n * k);
		for (int64 i = 0; i < n; i++)
		{
			const double *p = x + i * d;
			double	   *si = sums + i * k;
			int			li = labels[i];

			CHECK_FOR_INTERRUPTS();
			for (int64 j = i + 1; j < n; j++)
			{
				double		dd = sqrt(sqdist(p, x + j * d, d));

				si[labels[j]] += dd;
				sums[j * k + li] += dd;
			}
		}
	}
	for (int64 i = 0; i < n; i++)
	{
		int			li = labels[i];
		double	   *si = matrix ? sums + i * k : sums;
		double		a,
					b = DBL_MAX;

		if (sizes[li] <= 1)
			continue;
		if (!matrix)
		{
			CHECK_FOR_INTERRUPTS();
			memset(si, 0, sizeof(double) * k);
			for (int64 j = 0; j < n; j++)
				si[labels[j]] += sqrt(sqdist(x + i * d, x + j * d, d));
		}
		a = si[li] / (double) (sizes[li] - 1);
		for (int c = 0; c < k; c++)
		{
			if (c != li && sizes[c] > 0)
				b = Min(b, si[c] / (double) sizes[c]);
		}
		if (b == DBL_MAX)
			continue;			/* a single cluster: silhouette undefined */
		if (Max(a, b) > 0.0)
			total += (b - a) / Max(a, b);
	}
	pfree(sums);
	pfree(sizes);
	return total / (double) n;
}

/*
 * m of n row indices without replacement, in increasing order (GSL's
 * selection sampling), from an mt19937 stream seeded with seed: the
 * documented sample behind the silhouette of large data sets.
 */
int64 *
clv_kmeans_sample_indices(int64 n, int64 m, uint64 seed)
{
	int64	   *out = kmeans_alloc(m, sizeof(int64));
	gsl_rng    *volatile rng = NULL;

	PG_TRY();
	{
		int64		chosen = 0;

		rng = gsl_rng_alloc(gsl_rng_mt19937);
		if (rng == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory allocating the random number generator")));
		gsl_rng_set(rng, (unsigned long) seed);
		/* Knuth's algorithm S, as gsl_ran_choose, without the memcpy */
		for (int64 i = 0; i < n && chosen < m; i++)
		{
			if ((double) (n - i) * gsl_rng_uniform(rng) < (double) (m - chosen))
				out[chosen++] = i;
			if ((i % KMEANS_CHECK_EVERY) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}
	PG_FINALLY();
	{
		if (rng)
			gsl_rng_free(rng);
	}
	PG_END_TRY();
	return out;
}
