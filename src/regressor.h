/*-------------------------------------------------------------------------
 *
 * regressor.h
 *	  Supervised models (gradient-boosted trees and random forests) on
 *	  XGBoost's C API: the training set, its canonical order, folds, the
 *	  booster calls and the metrics.  No fmgr here; regressor_fmgr.c reads
 *	  the source, parses the options and talks to the catalog.
 *
 * Every XGBoost handle is owned by a memory context (ClvXgbHandle): it is
 * freed when that context is reset or deleted, so an ERROR anywhere (a
 * cancel between boosting rounds included) leaks nothing.  No XGBoost call
 * is made from a thread of XGBoost's (the library logs nothing: verbosity
 * 0), and with nthread = 1 (the default) XGBoost starts no thread at all.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_REGRESSOR_H
#define CLV_REGRESSOR_H

#include "utils/palloc.h"

/* An interrupt check every 2^20 rows of a loop over the training rows. */
#define CLV_REG_CHECK_ROW(i) \
	do { \
		if (((i) & 0xFFFFF) == 0) \
			CHECK_FOR_INTERRUPTS(); \
	} while (0)

/* What the boosting rounds build. */
typedef enum ClvRegMode
{
	CLV_REG_GRADIENT_BOOSTING,
	CLV_REG_RANDOM_FOREST,
} ClvRegMode;

/* Options of a training, after defaults (see regressor_fmgr.c). */
typedef struct ClvRegOptions
{
	const char *objective;		/* reg:squarederror | reg:tweedie | reg:pseudohubererror */
	ClvRegMode	mode;
	const char *tree_method;	/* hist | exact | approx */
	int			max_depth;
	double		eta;
	int			n_rounds;		/* boosting rounds (1 in random_forest mode) */
	int			n_trees;		/* trees per round (1 unless random_forest) */
	double		subsample;
	double		colsample_bytree;
	double		colsample_bynode;
	double		min_child_weight;
	double		lambda;
	double		alpha;
	double		tweedie_variance_power;
	double		huber_slope;
	int64		seed;
	int			nthread;
	int			early_stopping_rounds;	/* 0: none */
	double		validation_fraction;
	int			cv_folds;		/* 0: none */
} ClvRegOptions;

/*
 * A training set: n rows of d features (float32, row-major, NaN is a
 * missing value, as XGBoost takes them) and their targets.
 */
typedef struct ClvRegData
{
	int64		n;
	int			d;
	char	  **features;
	float	   *x;
	double	   *y;
} ClvRegData;

/* An XGBoost handle owned by a memory context. */
typedef struct ClvXgbHandle
{
	MemoryContextCallback cb;
	void	   *handle;			/* DMatrixHandle or BoosterHandle; NULL once freed */
	bool		is_booster;
} ClvXgbHandle;

/* Regression metrics of predictions against targets. */
typedef struct ClvRegMetrics
{
	double		r2;				/* NaN when the targets are constant */
	double		rmse;
	double		mae;
} ClvRegMetrics;

/* Training result of one booster. */
typedef struct ClvRegFit
{
	ClvXgbHandle *booster;
	int			rounds;			/* rounds the stored booster has */
	int			rounds_run;		/* rounds trained (more with early stopping) */
	double		best_score;		/* validation metric at the best round, or NaN */
	char	   *eval_metric;	/* its name, or NULL */
} ClvRegFit;

/* The GUC clv.regressor_max_values (regressor_fmgr.c); called by _PG_init. */
extern void clv_regressor_init(void);

extern void clv_xgb_free(ClvXgbHandle *h);
extern const char *clv_xgb_version(void);

/* Canonical row order (see regressor.c); the model does not depend on the order read. */
extern void clv_reg_sort_rows(ClvRegData *data);

/*
 * The seeded shuffle behind folds and the validation set: position p of
 * the result is a row of the canonical order.
 */
extern int64 *clv_reg_shuffle(int64 n, uint64 seed);

/* The rows idx[0..m) of data, as a new data set (current context). */
extern ClvRegData *clv_reg_subset(const ClvRegData *data, const int64 *idx, int64 m);

extern char *clv_xgb_params_json(const ClvRegOptions *o);
extern ClvXgbHandle *clv_xgb_dmatrix(const ClvRegData *data, MemoryContext owner);
extern void clv_xgb_train(const ClvRegOptions *o, ClvXgbHandle *dtrain,
						  ClvXgbHandle *dvalid, MemoryContext owner,
						  ClvRegFit *fit);
extern float *clv_xgb_predict_dmatrix(ClvXgbHandle *booster, ClvXgbHandle *dm,
									  int64 n);
extern bytea *clv_xgb_save(ClvXgbHandle *booster);
extern ClvXgbHandle *clv_xgb_load(const char *buf, Size len, int nthread,
								  MemoryContext owner);
extern int	clv_xgb_num_features(ClvXgbHandle *booster);

/* Feature importance of type (gain, cover, weight) per feature, 0 if unused. */
extern void clv_xgb_importance(ClvXgbHandle *booster, const char *type,
							   char **features, int d, double *out);

/*
 * A prepared single-row predictor: the array interface of a d-float
 * buffer, built once, so that a row costs one copy and one call.
 */
typedef struct ClvXgbRowPredictor
{
	ClvXgbHandle *booster;
	int			d;
	float	   *row;
	char	   *array_interface;
	char	   *config;
} ClvXgbRowPredictor;

extern ClvXgbRowPredictor *clv_xgb_row_predictor(ClvXgbHandle *booster, int d);
extern double clv_xgb_predict_row(ClvXgbRowPredictor *p);

extern void clv_reg_metrics(const double *y, const float *pred, int64 n,
							ClvRegMetrics *m);

#endif							/* CLV_REGRESSOR_H */
