/*-------------------------------------------------------------------------
 *
 * kmeans.h
 *	  K-Means segmentation: feature scaling, greedy k-means++ seeding,
 *	  Lloyd iterations accelerated with Hamerly's bounds, restarts and the
 *	  silhouette coefficient.  Pure math on contiguous row-major double
 *	  arrays; the SQL glue lives in kmeans_fmgr.c.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_KMEANS_H
#define CLV_KMEANS_H

#include "postgres.h"

/* How features are scaled before clustering (stored with the model). */
typedef enum KMeansScaling
{
	KMEANS_SCALE_NONE = 0,
	KMEANS_SCALE_ZSCORE,		/* (x - mean) / population sd */
	KMEANS_SCALE_LOG_ZSCORE		/* zscore of ln(1 + x) */
} KMeansScaling;

#define KMEANS_VALID_SCALINGS "zscore, log_zscore, none"

/* What can go wrong with the data itself (the caller names the culprit). */
typedef enum KMeansStatus
{
	KMEANS_OK = 0,
	KMEANS_CONSTANT_FEATURE,	/* zero variance under (log_)zscore */
	KMEANS_LOG_DOMAIN,			/* value <= -1 under log_zscore */
	KMEANS_TOO_FEW_DISTINCT		/* fewer distinct points than k */
} KMeansStatus;

/* Progress report after each restart (NOTICE lines in the glue). */
typedef void (*KMeansProgress) (void *arg, int restart, int n_init,
								double inertia, int iterations, bool converged);

typedef struct KMeansParams
{
	int			k;
	int			n_init;			/* restarts; the lowest inertia wins */
	int			max_iter;		/* Lloyd iterations per restart */
	double		tol;			/* relative to the mean feature variance */
	uint64		seed;			/* gsl_rng_mt19937 seed */
	KMeansProgress progress;	/* may be NULL */
	void	   *progress_arg;
} KMeansParams;

/*
 * A fitted model.  Clusters are numbered canonically: by size descending,
 * ties by the scaled centroid in lexicographic order, so the numbering only
 * depends on the data, k and the seed.
 */
typedef struct KMeansFit
{
	int			k;
	int			d;
	double	   *centroids;		/* k * d, scaled space, canonical order */
	int		   *labels;			/* n, 0-based canonical cluster index */
	int64	   *sizes;			/* k */
	double		inertia;		/* sum of squared distances, scaled space */
	int			iterations;		/* of the best restart */
	bool		converged;		/* of the best restart */
	int			best_restart;	/* 1-based */
	double	   *restart_inertia;	/* n_init */
	int		   *restart_iterations; /* n_init */
} KMeansFit;

/* Canonical row order: the glue sorts the rows read before anything else. */
extern void clv_kmeans_sort_rows(double *x, int64 n, int d);
extern KMeansStatus clv_kmeans_scale(KMeansScaling method, double *x, int64 n,
									 int d, double *center, double *scale,
									 int *bad_feature);
extern double clv_kmeans_scale_value(KMeansScaling method, double v,
									 double center, double scale);
extern double clv_kmeans_unscale_value(KMeansScaling method, double v,
									   double center, double scale);
extern KMeansStatus clv_kmeans_fit(const double *x, int64 n, int d,
								   const KMeansParams *params, KMeansFit *fit);
extern int	clv_kmeans_nearest(const double *centroids, int k, int d,
							   const double *point);
extern double clv_kmeans_silhouette(const double *x, int64 n, int d,
									const int *labels, int k);
extern int64 *clv_kmeans_sample_indices(int64 n, int64 m, uint64 seed);

/* SQL glue (kmeans_fmgr.c): GUCs, called from _PG_init. */
extern void clv_kmeans_init(void);

#endif							/* CLV_KMEANS_H */
