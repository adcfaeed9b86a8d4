/*-------------------------------------------------------------------------
 *
 * regressor.c
 *	  The XGBoost side of the supervised models: handles owned by memory
 *	  contexts, training rounds, prediction, (de)serialisation, feature
 *	  importance, and the pure bookkeeping around them (canonical row
 *	  order, the seeded shuffle of folds and validation rows, metrics).
 *
 * Tier: core (palloc, ereport, CHECK_FOR_INTERRUPTS; no fmgr, no SPI).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <xgboost/c_api.h>

#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "interval.h"
#include "regressor.h"

/*
 * XGBoost's text of the last error, without the stack trace of the
 * library's frames it appends (addresses inside libxgboost tell the user
 * nothing).
 */
static char *
clv_xgb_last_error(void)
{
	char	   *text = pstrdup(XGBGetLastError());
	char	   *trace = strstr(text, "\nStack trace:");

	if (trace)
		*trace = '\0';
	return text;
}

/*
 * Every failed XGBoost call is an ERROR with the library's own text; the
 * C API catches its C++ exceptions, so nothing unwinds through our frames.
 */
static void
clv_xgb_check(int rc, const char *what)
{
	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("XGBoost %s failed", what),
				 errdetail("%s", clv_xgb_last_error())));
}

/* libgomp's, declared here: clv does not otherwise use OpenMP (no omp.h needed). */
extern void omp_set_num_threads(int num_threads);

/*
 * Done once, on first use (never in _PG_init, so that loading clv.so costs
 * nothing): XGBoost logs to stderr (and may do so from its worker threads),
 * but clv checks every return code instead, so the library is silenced;
 * and OpenMP's default team size is set to one thread, because XGBoost
 * runs parts of a model load (before the booster's nthread is configured)
 * with the default team, which would start a thread per core in the
 * backend.  An explicit nthread still gets its threads.
 */
static void
clv_xgb_configure(void)
{
	static bool configured = false;

	if (configured)
		return;
	omp_set_num_threads(1);
	clv_xgb_check(XGBSetGlobalConfig("{\"verbosity\": 0}"), "configuration");
	configured = true;
}

const char *
clv_xgb_version(void)
{
	int			major,
				minor,
				patch;

	XGBoostVersion(&major, &minor, &patch);
	return psprintf("%d.%d.%d", major, minor, patch);
}

/* Frees the handle now (idempotent); the context's callback then does nothing. */
void
clv_xgb_free(ClvXgbHandle *h)
{
	if (h == NULL || h->handle == NULL)
		return;
	if (h->is_booster)
		(void) XGBoosterFree(h->handle);
	else
		(void) XGDMatrixFree(h->handle);
	h->handle = NULL;
}

static void
clv_xgb_reset_callback(void *arg)
{
	clv_xgb_free((ClvXgbHandle *) arg);
}

/*
 * The owner record comes first, registered with the context before the
 * handle exists, so that no allocation can fail between creating a handle
 * and making its context responsible for it.
 */
static ClvXgbHandle *
clv_xgb_owned(MemoryContext owner, bool is_booster)
{
	ClvXgbHandle *h = MemoryContextAllocZero(owner, sizeof(ClvXgbHandle));

	h->is_booster = is_booster;
	h->cb.func = clv_xgb_reset_callback;
	h->cb.arg = h;
	MemoryContextRegisterResetCallback(owner, &h->cb);
	return h;
}

/* Rows compare feature by feature (a missing value after every number), then by target. */
typedef struct RegRowOrder
{
	const float *x;
	const double *y;
	int			d;
} RegRowOrder;

static int
reg_row_cmp(const void *a, const void *b, void *arg)
{
	const RegRowOrder *o = arg;
	int64		i = *(const int64 *) a;
	int64		k = *(const int64 *) b;
	const float *ri = o->x + i * o->d;
	const float *rk = o->x + k * o->d;

	for (int j = 0; j < o->d; j++)
	{
		bool		ni = isnan(ri[j]);
		bool		nk = isnan(rk[j]);

		if (ni != nk)
			return ni ? 1 : -1;
		if (!ni && ri[j] != rk[j])
			return ri[j] < rk[j] ? -1 : 1;
	}
	if (o->y[i] != o->y[k])
		return o->y[i] < o->y[k] ? -1 : 1;
	return 0;
}

/*
 * The rows are put in one canonical order, lexicographic on the float32
 * features (missing last) and then the target, so that the model, its
 * folds and its validation rows do not depend on the order in which the
 * executor delivered the rows; rows equal in that order are identical.
 */
void
clv_reg_sort_rows(ClvRegData *data)
{
	int64		n = data->n;
	int			d = data->d;
	int64	   *idx = palloc_extended(mul_size(n, sizeof(int64)), MCXT_ALLOC_HUGE);
	float	   *x = palloc_extended(mul_size(mul_size(n, d), sizeof(float)), MCXT_ALLOC_HUGE);
	double	   *y = palloc_extended(mul_size(n, sizeof(double)), MCXT_ALLOC_HUGE);
	RegRowOrder ord = {data->x, data->y, d};

	for (int64 i = 0; i < n; i++)
		idx[i] = i;
	CHECK_FOR_INTERRUPTS();
	qsort_arg(idx, (size_t) n, sizeof(int64), reg_row_cmp, &ord);
	CHECK_FOR_INTERRUPTS();
	for (int64 i = 0; i < n; i++)
	{
		CLV_REG_CHECK_ROW(i);
		memcpy(x + i * d, data->x + idx[i] * d, sizeof(float) * d);
		y[i] = data->y[idx[i]];
	}
	pfree(data->x);
	pfree(data->y);
	pfree(idx);
	data->x = x;
	data->y = y;
}

typedef struct ShuffleKey
{
	uint64		key;
	int64		row;
} ShuffleKey;

static int
shuffle_cmp(const void *a, const void *b)
{
	const ShuffleKey *p = a;
	const ShuffleKey *q = b;

	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	return p->row < q->row ? -1 : (p->row > q->row ? 1 : 0);
}

/*
 * Row i of the canonical order gets the i-th output of splitmix64 seeded
 * with seed as its key; the rows sorted by (key, i) are the shuffled order.
 * Fold f is then the positions p with p mod k = f, the validation set the
 * first positions: documented in the README so that an oracle can rebuild
 * both.
 */
int64 *
clv_reg_shuffle(int64 n, uint64 seed)
{
	ShuffleKey *keys = palloc_extended(mul_size(n, sizeof(ShuffleKey)), MCXT_ALLOC_HUGE);
	int64	   *perm = palloc_extended(mul_size(n, sizeof(int64)), MCXT_ALLOC_HUGE);
	uint64_t	state = seed;

	for (int64 i = 0; i < n; i++)
	{
		CLV_REG_CHECK_ROW(i);
		keys[i].key = clv_splitmix64(&state);
		keys[i].row = i;
	}
	qsort(keys, (size_t) n, sizeof(ShuffleKey), shuffle_cmp);
	for (int64 i = 0; i < n; i++)
		perm[i] = keys[i].row;
	pfree(keys);
	return perm;
}

ClvRegData *
clv_reg_subset(const ClvRegData *data, const int64 *idx, int64 m)
{
	ClvRegData *s = palloc(sizeof(ClvRegData));
	int			d = data->d;

	s->n = m;
	s->d = d;
	s->features = data->features;
	s->x = palloc_extended(mul_size(mul_size(Max(m, 1), d), sizeof(float)), MCXT_ALLOC_HUGE);
	s->y = palloc_extended(mul_size(Max(m, 1), sizeof(double)), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < m; i++)
	{
		CLV_REG_CHECK_ROW(i);
		memcpy(s->x + i * d, data->x + idx[i] * d, sizeof(float) * d);
		s->y[i] = data->y[idx[i]];
	}
	return s;
}

/* A DMatrix of the rows with their labels and the feature names, owned by owner. */
ClvXgbHandle *
clv_xgb_dmatrix(const ClvRegData *data, MemoryContext owner)
{
	ClvXgbHandle *h;
	float	   *label = palloc_extended(mul_size(Max(data->n, 1), sizeof(float)), MCXT_ALLOC_HUGE);

	clv_xgb_configure();
	for (int64 i = 0; i < data->n; i++)
		label[i] = (float) data->y[i];
	h = clv_xgb_owned(owner, false);
	/* XGDMatrixCreateFromMat builds with one thread */
	clv_xgb_check(XGDMatrixCreateFromMat(data->x, (bst_ulong) data->n, (bst_ulong) data->d,
										 NAN, &h->handle),
				  "matrix creation");
	clv_xgb_check(XGDMatrixSetFloatInfo(h->handle, "label", label, (bst_ulong) data->n),
				  "setting the labels");
	clv_xgb_check(XGDMatrixSetStrFeatureInfo(h->handle, "feature_name",
											 (const char **) data->features,
											 (bst_ulong) data->d),
				  "setting the feature names");
	pfree(label);
	return h;
}

static void
set_param(BoosterHandle b, const char *key, const char *value)
{
	int			rc = XGBoosterSetParam(b, key, value);

	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("XGBoost rejected parameter %s = %s", key, value),
				 errdetail("%s", clv_xgb_last_error())));
}

static char *
num_text(double v)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(v, buf);
	return pstrdup(buf);
}

static void
set_param_threads(BoosterHandle b, int nthread)
{
	set_param(b, "nthread", psprintf("%d", nthread));
}

/*
 * The booster's parameters as XGBoost takes them (text), in the order set;
 * nthread first, so that no later call runs with XGBoost's default (every
 * core).  The same list is stored with the model (clv_xgb_params_json), so
 * that the training can be repeated elsewhere.
 */
#define CLV_XGB_MAX_PARAMS 16

static int
booster_params(const ClvRegOptions *o, const char **keys, char **values)
{
	int			n = 0;

#define PARAM(k, v) (keys[n] = (k), values[n] = (v), n++)
	PARAM("nthread", psprintf("%d", o->nthread));
	PARAM("verbosity", pstrdup("0"));
	PARAM("objective", pstrdup(o->objective));
	PARAM("tree_method", pstrdup(o->tree_method));
	PARAM("seed", psprintf(INT64_FORMAT, o->seed));
	PARAM("max_depth", psprintf("%d", o->max_depth));
	PARAM("eta", num_text(o->eta));
	PARAM("subsample", num_text(o->subsample));
	PARAM("colsample_bytree", num_text(o->colsample_bytree));
	PARAM("colsample_bynode", num_text(o->colsample_bynode));
	PARAM("min_child_weight", num_text(o->min_child_weight));
	PARAM("lambda", num_text(o->lambda));
	PARAM("alpha", num_text(o->alpha));
	PARAM("num_parallel_tree", psprintf("%d", o->n_trees));
	if (strcmp(o->objective, "reg:tweedie") == 0)
		PARAM("tweedie_variance_power", num_text(o->tweedie_variance_power));
	if (strcmp(o->objective, "reg:pseudohubererror") == 0)
		PARAM("huber_slope", num_text(o->huber_slope));
#undef PARAM
	Assert(n <= CLV_XGB_MAX_PARAMS);
	return n;
}

static void
set_booster_params(BoosterHandle b, const ClvRegOptions *o)
{
	const char *keys[CLV_XGB_MAX_PARAMS];
	char	   *values[CLV_XGB_MAX_PARAMS];
	int			n = booster_params(o, keys, values);

	for (int i = 0; i < n; i++)
		set_param(b, keys[i], values[i]);
}

/* The parameters as a JSON object of strings, e.g. for xgboost.train(). */
char *
clv_xgb_params_json(const ClvRegOptions *o)
{
	const char *keys[CLV_XGB_MAX_PARAMS];
	char	   *values[CLV_XGB_MAX_PARAMS];
	int			n = booster_params(o, keys, values);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, keys[i]);
		appendStringInfoString(&buf, ": ");
		escape_json(&buf, values[i]);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* The score of "[i]\tvalid-metric:score": the text after the last colon. */
static double
parse_eval(const char *s, char **metric)
{
	const char *colon = strrchr(s, ':');
	const char *dash = strchr(s, '-');
	char	   *end;
	double		v;

	if (colon == NULL || dash == NULL || dash > colon)
		elog(ERROR, "unexpected XGBoost evaluation text \"%s\"", s);
	errno = 0;
	v = strtod(colon + 1, &end);
	if (end == colon + 1 || errno != 0)
		elog(ERROR, "unexpected XGBoost evaluation text \"%s\"", s);
	if (metric && *metric == NULL)
		*metric = pnstrdup(dash + 1, colon - dash - 1);
	return v;
}

/*
 * Trains o->n_rounds rounds on dtrain (the interrupt is checked before each
 * round, so a cancel waits for one round at most).  With dvalid, the
 * validation metric (the objective's default) is evaluated after every
 * round and training stops after early_stopping_rounds rounds without a
 * strict improvement, as XGBoost's Python EarlyStopping does; the stored
 * booster is then cut to the best round.
 */
void
clv_xgb_train(const ClvRegOptions *o, ClvXgbHandle *dtrain, ClvXgbHandle *dvalid,
			  MemoryContext owner, ClvRegFit *fit)
{
	ClvXgbHandle *b;
	DMatrixHandle cache[2];
	int			ncache = 0;
	int			best = -1;
	int			since = 0;
	double		best_score = NAN;
	char	   *metric = NULL;
	int			i;

	clv_xgb_configure();
	cache[ncache++] = dtrain->handle;
	if (dvalid)
		cache[ncache++] = dvalid->handle;
	b = clv_xgb_owned(owner, true);
	clv_xgb_check(XGBoosterCreate(cache, (bst_ulong) ncache, &b->handle), "booster creation");
	set_booster_params(b->handle, o);

	for (i = 0; i < o->n_rounds; i++)
	{
		CHECK_FOR_INTERRUPTS();
		clv_xgb_check(XGBoosterUpdateOneIter(b->handle, i, dtrain->handle), "boosting round");
		if (dvalid)
		{
			const char *names[1] = {"valid"};
			const char *out;
			double		score;

			clv_xgb_check(XGBoosterEvalOneIter(b->handle, i, &dvalid->handle, names, 1, &out),
						  "evaluation");
			score = parse_eval(out, &metric);
			if (best < 0 || best_score - score > 0)
			{
				best = i;
				best_score = score;
				since = 0;
			}
			else if (++since >= o->early_stopping_rounds)
			{
				i++;
				break;
			}
		}
	}
	fit->rounds_run = i;
	fit->rounds = dvalid ? best + 1 : i;
	fit->best_score = best_score;
	fit->eval_metric = metric;
	if (dvalid && fit->rounds < fit->rounds_run)
	{
		ClvXgbHandle *cut = clv_xgb_owned(owner, true);

		clv_xgb_check(XGBoosterSlice(b->handle, 0, fit->rounds, 1, &cut->handle),
					  "cutting the booster to its best round");
		set_param_threads(cut->handle, o->nthread);
		clv_xgb_free(b);
		b = cut;
	}
	fit->booster = b;
}

static const char *const predict_config =
"{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
"\"strict_shape\": false}";

/* Predictions for the n rows of dm (palloc'd). */
float *
clv_xgb_predict_dmatrix(ClvXgbHandle *booster, ClvXgbHandle *dm, int64 n)
{
	const bst_ulong *shape;
	bst_ulong	dim;
	const float *res;
	float	   *out;

	clv_xgb_check(XGBoosterPredictFromDMatrix(booster->handle, dm->handle, predict_config,
											  &shape, &dim, &res),
				  "prediction");
	if (dim < 1 || shape[0] != (bst_ulong) n || (dim > 1 && shape[1] != 1))
		elog(ERROR, "XGBoost returned predictions of an unexpected shape");
	out = palloc_extended(mul_size(Max(n, 1), sizeof(float)), MCXT_ALLOC_HUGE);
	memcpy(out, res, sizeof(float) * n);
	return out;
}

/* The booster in XGBoost's Universal Binary JSON model format. */
bytea *
clv_xgb_save(ClvXgbHandle *booster)
{
	bst_ulong	len;
	const char *buf;
	bytea	   *out;

	clv_xgb_check(XGBoosterSaveModelToBuffer(booster->handle, "{\"format\": \"ubj\"}", &len, &buf),
				  "saving the model");
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the trained model takes %llu bytes, more than a bytea can hold",
						(unsigned long long) len),
				 errhint("Use fewer rounds, trees or a smaller max_depth.")));
	out = palloc(VARHDRSZ + len);
	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(VARDATA(out), buf, len);
	return out;
}

ClvXgbHandle *
clv_xgb_load(const char *buf, Size len, int nthread, MemoryContext owner)
{
	ClvXgbHandle *b;

	clv_xgb_configure();
	b = clv_xgb_owned(owner, true);
	clv_xgb_check(XGBoosterCreate(NULL, 0, &b->handle), "booster creation");
	set_param_threads(b->handle, nthread);
	clv_xgb_check(XGBoosterLoadModelFromBuffer(b->handle, buf, (bst_ulong) len),
				  "loading the model");
	set_param_threads(b->handle, nthread);
	return b;
}

int
clv_xgb_num_features(ClvXgbHandle *booster)
{
	bst_ulong	n;

	clv_xgb_check(XGBoosterGetNumFeature(booster->handle, &n), "reading the feature count");
	return (int) n;
}

void
clv_xgb_importance(ClvXgbHandle *booster, const char *type, char **features, int d,
				   double *out)
{
	bst_ulong	nf;
	const char **names;
	bst_ulong	dim;
	const bst_ulong *shape;
	const float *scores;
	StringInfoData cfg;

	initStringInfo(&cfg);
	appendStringInfo(&cfg, "{\"importance_type\": \"%s\", \"feature_names\": [", type);
	for (int j = 0; j < d; j++)
	{
		if (j)
			appendStringInfoString(&cfg, ", ");
		escape_json(&cfg, features[j]);
	}
	appendStringInfoString(&cfg, "]}");
	clv_xgb_check(XGBoosterFeatureScore(booster->handle, cfg.data, &nf, &names, &dim, &shape,
										&scores),
				  "feature importance");
	for (int j = 0; j < d; j++)
		out[j] = 0.0;
	for (bst_ulong f = 0; f < nf; f++)
	{
		for (int j = 0; j < d; j++)
		{
			if (strcmp(names[f], features[j]) == 0)
			{
				out[j] = scores[f];
				break;
			}
		}
	}
	pfree(cfg.data);
}

/*
 * In-place prediction reads the row through an array interface whose
 * address is fixed: the buffer lives as long as the predictor, so the JSON
 * is written once.
 */
ClvXgbRowPredictor *
clv_xgb_row_predictor(ClvXgbHandle *booster, int d)
{
	ClvXgbRowPredictor *p = palloc0(sizeof(ClvXgbRowPredictor));

	p->booster = booster;
	p->d = d;
	p->row = palloc0(sizeof(float) * Max(d, 1));
	p->array_interface = psprintf("{\"data\": [%llu, true], \"shape\": [1, %d], "
								  "\"typestr\": \"<f4\", \"version\": 3}",
								  (unsigned long long) (uintptr_t) p->row, d);
	p->config = pstrdup("{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
						"\"iteration_end\": 0, \"strict_shape\": false, "
						"\"missing\": NaN, \"cache_id\": 0}");
	return p;
}

/* The prediction for p->row (NaN entries are missing values). */
double
clv_xgb_predict_row(ClvXgbRowPredictor *p)
{
	const bst_ulong *shape;
	bst_ulong	dim;
	const float *res;

	bst_ulong	size = 1;

	clv_xgb_check(XGBoosterPredictFromDense(p->booster->handle, p->array_interface, p->config,
											NULL, &shape, &dim, &res),
				  "prediction");
	for (bst_ulong i = 0; i < dim; i++)
		size *= shape[i];
	/* a booster from elsewhere may be a classifier with one output per class */
	if (size != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the booster predicts %llu values per row, not one",
						(unsigned long long) size),
				 errhint("clv predicts with regression boosters (one output).")));
	return (double) res[0];
}

/* R^2 (NaN for constant targets), RMSE and MAE, in double precision. */
void
clv_reg_metrics(const double *y, const float *pred, int64 n, ClvRegMetrics *m)
{
	double		mean = 0.0,
				ss_tot = 0.0,
				ss_res = 0.0,
				abs_sum = 0.0;

	Assert(n > 0);
	for (int64 i = 0; i < n; i++)
		mean += y[i];
	mean /= n;
	for (int64 i = 0; i < n; i++)
	{
		double		e = y[i] - (double) pred[i];

		CLV_REG_CHECK_ROW(i);
		ss_tot += (y[i] - mean) * (y[i] - mean);
		ss_res += e * e;
		abs_sum += fabs(e);
	}
	m->r2 = ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : NAN;
	m->rmse = sqrt(ss_res / n);
	m->mae = abs_sum / n;
}
