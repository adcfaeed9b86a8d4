/*-------------------------------------------------------------------------
 *
 * regressor_fmgr.c
 *	  SQL interface of the supervised models: options, reading the training
 *	  rows through SPI, cross-validation and early stopping around the
 *	  XGBoost calls of regressor.c, the catalog, and the name-based
 *	  prediction with its per-query booster cache.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "catalog.h"
#include "clv_json.h"
#include "columns.h"
#include "name_cache.h"
#include "options.h"
#include "regressor.h"
#include "source.h"

PG_FUNCTION_INFO_V1(clv_regressor_train);
PG_FUNCTION_INFO_V1(clv_regressor_predict);

/* Rows read between interrupt checks. */
#define REG_CHECK_ROWS 10000
#define REG_MAX_FEATURES 1000

static int	regressor_max_values = 20000000;

/*
 * The training matrix is held as float32 (4 bytes per value) and XGBoost
 * builds its own copies of it (about 8 more bytes per value, plus one per
 * value for the histogram index), so what one training may read is capped
 * in values (rows x features); only a superuser may raise it.
 */
void
clv_regressor_init(void)
{
	DefineCustomIntVariable("clv.regressor_max_values",
							"Maximum number of values (rows x features) clv_regressor_train reads into memory.",
							"Each value takes about 13 bytes while training.",
							&regressor_max_values,
							20000000, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------------
 * Options: the table of the shared parser (options.h) says what each key
 * is, its range, its default and where it goes.
 * ---------------------------------------------------------------------------
 */
static const char *const reg_objectives[] = {"reg:squarederror", "reg:tweedie",
"reg:pseudohubererror", NULL};
static const char *const reg_modes[] = {"gradient_boosting", "random_forest", NULL};
static const char *const reg_tree_methods[] = {"hist", "exact", "approx", NULL};

/* The string options keep XGBoost's own spelling in ClvRegOptions. */
static void
reg_set_objective(void *dest, const ClvOptionValue *v)
{
	((ClvRegOptions *) dest)->objective = reg_objectives[v->index];
}

static void
reg_set_tree_method(void *dest, const ClvOptionValue *v)
{
	((ClvRegOptions *) dest)->tree_method = reg_tree_methods[v->index];
}

static void
reg_set_mode(void *dest, const ClvOptionValue *v)
{
	((ClvRegOptions *) dest)->mode = (ClvRegMode) v->index;
}

#define REG_NUM(k, lo, hi, fl, d, f) \
	{.key = k, .type = CLV_OPTION_NUMBER, .min = lo, .max = hi, .flags = fl, .def = d, \
	 .offset = offsetof(ClvRegOptions, f)}
#define REG_INT(k, lo, hi, d, f) \
	{.key = k, .type = CLV_OPTION_INT, .min = lo, .max = hi, .def = d, \
	 .offset = offsetof(ClvRegOptions, f)}

/* XGBoost's defaults, but one thread: one backend, one core */
static const ClvOption reg_options[] = {
	{.key = "objective", .type = CLV_OPTION_ENUM, .values = reg_objectives, .set = reg_set_objective},
	{.key = "mode", .type = CLV_OPTION_ENUM, .values = reg_modes, .set = reg_set_mode},
	{.key = "tree_method", .type = CLV_OPTION_ENUM, .values = reg_tree_methods, .set = reg_set_tree_method},
	REG_INT("n_rounds", 1, 100000, 100, n_rounds),
	REG_INT("n_trees", 1, 1000, 1, n_trees),
	REG_INT("max_depth", 1, 30, 6, max_depth),
	REG_NUM("eta", 0, 1, CLV_OPTION_MIN_OPEN, 0.3, eta),
	REG_NUM("subsample", 0, 1, CLV_OPTION_MIN_OPEN, 1.0, subsample),
	REG_NUM("colsample_bytree", 0, 1, CLV_OPTION_MIN_OPEN, 1.0, colsample_bytree),
	REG_NUM("colsample_bynode", 0, 1, CLV_OPTION_MIN_OPEN, 1.0, colsample_bynode),
	REG_NUM("min_child_weight", 0, 1e12, 0, 1.0, min_child_weight),
	REG_NUM("lambda", 0, 1e12, 0, 1.0, lambda),
	REG_NUM("alpha", 0, 1e12, 0, 0.0, alpha),
	REG_NUM("tweedie_variance_power", 1, 2, CLV_OPTION_MIN_OPEN | CLV_OPTION_MAX_OPEN, 1.5,
			tweedie_variance_power),
	REG_NUM("huber_slope", 0, 1e12, CLV_OPTION_MIN_OPEN, 1.0, huber_slope),
	{.key = "seed", .type = CLV_OPTION_INT64, .min = 0, .max = PG_INT32_MAX, .def = 0,
	.offset = offsetof(ClvRegOptions, seed)},
	REG_INT("nthread", 1, 256, 1, nthread),
	REG_INT("early_stopping_rounds", 1, 100000, 0, early_stopping_rounds),
	REG_NUM("validation_fraction", 0, 1, CLV_OPTION_MIN_OPEN | CLV_OPTION_MAX_OPEN, 0.2,
			validation_fraction),
	REG_INT("cv_folds", 2, 100, 0, cv_folds),
};

static void
reg_option_conflict(const char *key, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("option \"%s\" %s", key, why)));
}

/* Whether the options object names key. */
static bool
reg_given(Jsonb *jb, const char *key)
{
	return getKeyJsonValueFromContainer(&jb->root, key, strlen(key), NULL) != NULL;
}

/*
 * Options are a flat jsonb object (options.h checks keys, types and
 * ranges); options that would be ignored in combination with others are
 * errors too (a typo or a misunderstanding would otherwise train silently
 * with a default).
 */
static void
reg_parse_options(Jsonb *jb, ClvRegOptions *o)
{
#define GIVEN(f) reg_given(jb, #f)

	memset(o, 0, sizeof(*o));
	clv_parse_options(jb, reg_options, lengthof(reg_options), o);

	if (o->mode == CLV_REG_RANDOM_FOREST)
	{
		if (GIVEN(n_rounds))
			reg_option_conflict("n_rounds", "does not apply to mode random_forest (one round of n_trees trees)");
		if (GIVEN(eta))
			reg_option_conflict("eta", "does not apply to mode random_forest (eta is 1)");
		if (GIVEN(early_stopping_rounds))
			reg_option_conflict("early_stopping_rounds", "does not apply to mode random_forest");
		/* the defaults of XGBoost's XGBRFRegressor */
		o->n_rounds = 1;
		o->eta = 1.0;
		if (!GIVEN(n_trees))
			o->n_trees = 100;
		if (!GIVEN(subsample))
			o->subsample = 0.8;
		if (!GIVEN(colsample_bynode))
			o->colsample_bynode = 0.8;
		if (!GIVEN(lambda))
			o->lambda = 1e-5;
	}
	else if (GIVEN(n_trees))
		reg_option_conflict("n_trees", "applies to mode random_forest only");
	if (GIVEN(tweedie_variance_power) && strcmp(o->objective, "reg:tweedie") != 0)
		reg_option_conflict("tweedie_variance_power", "applies to objective reg:tweedie only");
	if (GIVEN(huber_slope) && strcmp(o->objective, "reg:pseudohubererror") != 0)
		reg_option_conflict("huber_slope", "applies to objective reg:pseudohubererror only");
	if (GIVEN(validation_fraction) && !GIVEN(early_stopping_rounds))
		reg_option_conflict("validation_fraction", "applies with early_stopping_rounds only");
	if (GIVEN(cv_folds) && GIVEN(early_stopping_rounds))
		reg_option_conflict("cv_folds", "cannot be combined with early_stopping_rounds");
#undef GIVEN
}

/* The options as used, defaults filled in. */
static char *
reg_options_json(const ClvRegOptions *o)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"objective\": \"%s\", \"mode\": \"%s\", \"tree_method\": \"%s\", "
					 "\"n_rounds\": %d, \"n_trees\": %d, \"max_depth\": %d, \"eta\": ",
					 o->objective, reg_modes[o->mode], o->tree_method, o->n_rounds,
					 o->n_trees, o->max_depth);
	clv_json_number(&buf, o->eta);
	appendStringInfoString(&buf, ", \"subsample\": ");
	clv_json_number(&buf, o->subsample);
	appendStringInfoString(&buf, ", \"colsample_bytree\": ");
	clv_json_number(&buf, o->colsample_bytree);
	appendStringInfoString(&buf, ", \"colsample_bynode\": ");
	clv_json_number(&buf, o->colsample_bynode);
	appendStringInfoString(&buf, ", \"min_child_weight\": ");
	clv_json_number(&buf, o->min_child_weight);
	appendStringInfoString(&buf, ", \"lambda\": ");
	clv_json_number(&buf, o->lambda);
	appendStringInfoString(&buf, ", \"alpha\": ");
	clv_json_number(&buf, o->alpha);
	if (strcmp(o->objective, "reg:tweedie") == 0)
	{
		appendStringInfoString(&buf, ", \"tweedie_variance_power\": ");
		clv_json_number(&buf, o->tweedie_variance_power);
	}
	if (strcmp(o->objective, "reg:pseudohubererror") == 0)
	{
		appendStringInfoString(&buf, ", \"huber_slope\": ");
		clv_json_number(&buf, o->huber_slope);
	}
	appendStringInfo(&buf, ", \"seed\": " INT64_FORMAT ", \"nthread\": %d", o->seed, o->nthread);
	if (o->early_stopping_rounds > 0)
	{
		appendStringInfo(&buf, ", \"early_stopping_rounds\": %d, \"validation_fraction\": ",
						 o->early_stopping_rounds);
		clv_json_number(&buf, o->validation_fraction);
	}
	if (o->cv_folds > 0)
		appendStringInfo(&buf, ", \"cv_folds\": %d", o->cv_folds);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* ---------------------------------------------------------------------------
 * Reading the training rows.
 * ---------------------------------------------------------------------------
 */

/* Feature names, none of them the target. */
static char **
reg_feature_names(ArrayType *arr, const char *target, int *d)
{
	char	  **names = clv_feature_names(arr, REG_MAX_FEATURES, d);

	for (int j = 0; j < *d; j++)
	{
		if (strcmp(names[j], target) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the target \"%s\" is also listed as a feature", target)));
	}
	return names;
}

/* A key rather than a measurement: "id" or a name ending in "_id". */
static bool
reg_key_like(const char *name)
{
	size_t		len = strlen(name);

	return pg_strcasecmp(name, "id") == 0 ||
		(len > 3 && pg_strcasecmp(name + len - 3, "_id") == 0);
}

/*
 * features NULL: every numeric column of the source, in its order, but the
 * target and id-like keys.  The columns come from the source's row type
 * (a query is planned and run with LIMIT 0, which reads no row).
 */
static char **
reg_default_features(const char *from, const char *source, const char *target, int *d)
{
	char	  **names;
	TupleDesc	desc;
	int			n = 0;
	int			rc;

	rc = SPI_execute(psprintf("SELECT * FROM %s AS s LIMIT 0", from), true, 0);
	if (rc != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" is not a query returning rows", source)));
	desc = SPI_tuptable->tupdesc;
	names = palloc(sizeof(char *) * Max(desc->natts, 1));
	for (int j = 0; j < desc->natts; j++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, j);
		const char *col = NameStr(att->attname);

		if (att->attisdropped || strcmp(col, target) == 0 || reg_key_like(col) ||
			!clv_numeric_type(att->atttypid))
			continue;
		for (int k = 0; k < n; k++)
		{
			if (strcmp(names[k], col) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("source \"%s\" has two columns named \"%s\"", source, col),
						 errhint("Name the features explicitly.")));
		}
		names[n++] = pstrdup(col);
	}
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" has no numeric column to use as a feature", source),
				 errdetail("Without a features list, every numeric column but the target \"%s\" and id-like keys (\"id\", \"..._id\") is a feature.",
						   target)));
	if (n > REG_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" has %d numeric columns, too many features (at most %d)",
						source, n, REG_MAX_FEATURES)));
	SPI_freetuptable(SPI_tuptable);
	*d = n;
	return names;
}

/* The rows as read, and what was skipped. */
typedef struct RegRead
{
	ClvRegData	data;
	const char *target;
	const char *source;
	Oid		   *types;			/* base types: target, then the features */
	int64		cap;
	int64		skipped_null_target;
	int64		missing_values;
} RegRead;

typedef struct RegReceiver
{
	DestReceiver pub;
	RegRead    *r;
} RegReceiver;

static void
reg_check_width(TupleDesc desc, int d)
{
	if (desc->natts != d + 1)
		elog(ERROR, "regressor source returned %d columns, expected %d", desc->natts, d + 1);
}

static void
reg_receive_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	RegRead    *r = ((RegReceiver *) self)->r;

	reg_check_width(desc, r->data.d);
	for (int j = 0; j <= r->data.d; j++)
	{
		Oid			typ = TupleDescAttr(desc, j)->atttypid;

		if (!clv_numeric_type(typ))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("%s \"%s\" has type %s, not a number", j == 0 ? "target" : "feature",
							j == 0 ? r->target : r->data.features[j - 1], format_type_be(typ)),
					 errhint("Targets and features must be smallint, integer, bigint, real, double precision or numeric; cast other columns in a SELECT source.")));
		r->types[j] = getBaseType(typ);
	}
}

/* A finite value that float32 cannot hold is an error naming its column. */
static void
reg_check_float32(double v, const char *what, const char *name)
{
	if (fabs(v) > FLT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s \"%s\" has the value %g, out of range for XGBoost's float32", what, name, v),
				 errhint("Rescale the column in a SELECT source.")));
}

/*
 * Rows with a NULL target are skipped and counted; NULL and NaN features
 * are missing values; infinite values are an error naming the column, as
 * is going past clv.regressor_max_values.
 */
static bool
reg_receive_slot(TupleTableSlot *slot, DestReceiver *self)
{
	RegRead    *r = ((RegReceiver *) self)->r;
	ClvRegData *data = &r->data;
	int			d = data->d;
	float	   *row;
	double		y;

	reg_check_width(slot->tts_tupleDescriptor, d);
	slot_getallattrs(slot);
	if (slot->tts_isnull[0])
	{
		r->skipped_null_target++;
		return true;
	}
	if ((data->n + 1) * (int64) d > (int64) regressor_max_values)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("source \"%s\" has more than %d values (rows x %d features), the limit clv.regressor_max_values",
						r->source, regressor_max_values, d),
				 errhint("Train on a sample, e.g. a source like 'SELECT * FROM t TABLESAMPLE SYSTEM (10) REPEATABLE (1)', or raise clv.regressor_max_values (about 13 bytes per value).")));
	if (data->n >= r->cap)
	{
		r->cap = Min(r->cap * 2, (int64) regressor_max_values / d + 1);
		data->x = repalloc_huge(data->x, mul_size(mul_size(r->cap, d), sizeof(float)));
		data->y = repalloc_huge(data->y, mul_size(r->cap, sizeof(double)));
	}
	y = clv_numeric_datum(slot->tts_values[0], r->types[0]);
	if (!isfinite(y))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target \"%s\" contains %s", r->target, isnan(y) ? "NaN" : "an infinite value"),
				 errhint("Filter such rows in a SELECT source (a NULL target is skipped).")));
	reg_check_float32(y, "target", r->target);
	row = data->x + data->n * d;
	for (int j = 0; j < d; j++)
	{
		double		v;

		if (slot->tts_isnull[j + 1])
		{
			row[j] = NAN;
			r->missing_values++;
			continue;
		}
		v = clv_numeric_datum(slot->tts_values[j + 1], r->types[j + 1]);
		if (isinf(v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" contains an infinite value", data->features[j]),
					 errhint("Replace it in a SELECT source; NULL and NaN are missing values.")));
		if (isnan(v))
			r->missing_values++;
		else
			reg_check_float32(v, "feature", data->features[j]);
		row[j] = (float) v;
	}
	data->y[data->n] = y;
	data->n++;
	if ((data->n % REG_CHECK_ROWS) == 0)
		CHECK_FOR_INTERRUPTS();
	return true;
}

static void
reg_receive_noop(DestReceiver *self)
{
}

/*
 * Reads target and features of source (inside SPI_connect) into r, in the
 * canonical order of clv_reg_sort_rows.  The source is a relation name or
 * one read-only query (source.c), read in the caller's search_path; for a
 * relation, a missing column is a 42703 naming it, for a query the parser
 * says so.
 */
static void
reg_read(const char *source, const char *target, ArrayType *features, RegRead *r)
{
	RegReceiver recv;
	StringInfoData sql;
	Oid			relid;
	char	   *from = clv_source_from_clause(source, &relid);
	ClvRegData *data = &r->data;

	memset(r, 0, sizeof(*r));
	r->target = target;
	r->source = source;
	if (features)
		data->features = reg_feature_names(features, target, &data->d);
	if (OidIsValid(relid))
	{
		for (int j = -1; j < data->d; j++)
		{
			const char *col = j < 0 ? target : data->features[j];

			if (get_attnum(relid, col) <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" does not exist in \"%s\"", col, source)));
		}
	}
	if (!features)
		data->features = reg_default_features(from, source, target, &data->d);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT s.%s", quote_identifier(target));
	for (int j = 0; j < data->d; j++)
		appendStringInfo(&sql, ", s.%s", quote_identifier(data->features[j]));
	appendStringInfo(&sql, " FROM %s AS s", from);

	r->types = palloc(sizeof(Oid) * (data->d + 1));
	r->cap = Min(1024, (int64) regressor_max_values / data->d + 1);
	data->x = MemoryContextAllocHuge(CurrentMemoryContext,
									 mul_size(mul_size(r->cap, data->d), sizeof(float)));
	data->y = MemoryContextAllocHuge(CurrentMemoryContext, mul_size(r->cap, sizeof(double)));

	memset(&recv, 0, sizeof(recv));
	recv.pub.receiveSlot = reg_receive_slot;
	recv.pub.rStartup = reg_receive_startup;
	recv.pub.rShutdown = reg_receive_noop;
	recv.pub.rDestroy = reg_receive_noop;
	recv.pub.mydest = DestNone;
	recv.r = r;
	clv_execute_into(sql.data, source, &recv.pub);

	if (r->skipped_null_target > 0)
		ereport(NOTICE,
				(errmsg("skipped " INT64_FORMAT " rows with a NULL target", r->skipped_null_target)));
	if (data->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" has no rows with a non-NULL target \"%s\"", source, target)));
	clv_reg_sort_rows(data);
}

/* ---------------------------------------------------------------------------
 * Training.
 * ---------------------------------------------------------------------------
 */

static void
json_metrics(StringInfo buf, const ClvRegMetrics *m, int64 n)
{
	appendStringInfoString(buf, "{\"r2\": ");
	clv_json_number(buf, m->r2);
	appendStringInfoString(buf, ", \"rmse\": ");
	clv_json_number(buf, m->rmse);
	appendStringInfoString(buf, ", \"mae\": ");
	clv_json_number(buf, m->mae);
	appendStringInfo(buf, ", \"n\": " INT64_FORMAT "}", n);
}

/* Mean, population sd (null if a fold's value is null) and the folds' values. */
static void
json_spread(StringInfo buf, const char *key, const double *v, int k)
{
	double		mean = 0.0,
				ss = 0.0;

	for (int f = 0; f < k; f++)
		mean += v[f];
	mean /= k;
	for (int f = 0; f < k; f++)
		ss += (v[f] - mean) * (v[f] - mean);
	appendStringInfo(buf, "\"%s\": {\"mean\": ", key);
	clv_json_number(buf, mean);
	appendStringInfoString(buf, ", \"sd\": ");
	clv_json_number(buf, sqrt(ss / k));
	appendStringInfoString(buf, ", \"folds\": [");
	for (int f = 0; f < k; f++)
	{
		if (f)
			appendStringInfoString(buf, ", ");
		clv_json_number(buf, v[f]);
	}
	appendStringInfoString(buf, "]}");
}

/* Metrics of a booster on a data set. */
static void
reg_evaluate(ClvXgbHandle *booster, const ClvRegData *data, ClvRegMetrics *m)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "clv regressor evaluation",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ClvXgbHandle *dm = clv_xgb_dmatrix(data, cxt);
	float	   *pred = clv_xgb_predict_dmatrix(booster, dm, data->n);

	clv_reg_metrics(data->y, pred, data->n, m);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * k-fold cross-validation: the rows at positions p of the seeded shuffle
 * with p mod k = f are fold f; each fold is predicted by a booster trained
 * with the same options on the other rows (both in the canonical order).
 * Each fold's XGBoost handles go with its memory context.
 */
static void
reg_cross_validate(const ClvRegData *data, const ClvRegOptions *o, StringInfo buf)
{
	int			k = o->cv_folds;
	int64		n = data->n;
	int64	   *perm = clv_reg_shuffle(n, (uint64) o->seed);
	int		   *fold = palloc_extended(mul_size(n, sizeof(int)), MCXT_ALLOC_HUGE);
	int64	   *train_idx = palloc_extended(mul_size(n, sizeof(int64)), MCXT_ALLOC_HUGE);
	int64	   *test_idx = palloc_extended(mul_size(n, sizeof(int64)), MCXT_ALLOC_HUGE);
	double	   *r2 = palloc(sizeof(double) * k);
	double	   *rmse = palloc(sizeof(double) * k);
	double	   *mae = palloc(sizeof(double) * k);

	for (int64 p = 0; p < n; p++)
		fold[perm[p]] = (int) (p % k);
	for (int f = 0; f < k; f++)
	{
		MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "clv regressor fold",
												  ALLOCSET_DEFAULT_SIZES);
		MemoryContext old = MemoryContextSwitchTo(cxt);
		int64		ntrain = 0,
					ntest = 0;
		ClvRegFit	fit;
		ClvRegMetrics m;

		for (int64 i = 0; i < n; i++)
		{
			CLV_REG_CHECK_ROW(i);
			if (fold[i] == f)
				test_idx[ntest++] = i;
			else
				train_idx[ntrain++] = i;
		}
		clv_xgb_train(o, clv_xgb_dmatrix(clv_reg_subset(data, train_idx, ntrain), cxt), NULL,
					  cxt, &fit);
		reg_evaluate(fit.booster, clv_reg_subset(data, test_idx, ntest), &m);
		r2[f] = m.r2;
		rmse[f] = m.rmse;
		mae[f] = m.mae;
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
	}
	appendStringInfo(buf, "{\"folds\": %d, \"fold_assignment\": \"splitmix64(seed) shuffle, position mod folds\", ", k);
	json_spread(buf, "r2", r2, k);
	appendStringInfoString(buf, ", ");
	json_spread(buf, "rmse", rmse, k);
	appendStringInfoString(buf, ", ");
	json_spread(buf, "mae", mae, k);
	appendStringInfoChar(buf, '}');
	pfree(perm);
	pfree(fold);
	pfree(train_idx);
	pfree(test_idx);
}

static void
json_importance(StringInfo buf, ClvXgbHandle *booster, const ClvRegData *data)
{
	static const char *const types[] = {"gain", "cover", "weight"};
	double	   *v = palloc(sizeof(double) * data->d);

	appendStringInfoChar(buf, '{');
	for (int t = 0; t < (int) lengthof(types); t++)
	{
		clv_xgb_importance(booster, types[t], data->features, data->d, v);
		appendStringInfo(buf, "%s\"%s\": {", t ? ", " : "", types[t]);
		for (int j = 0; j < data->d; j++)
		{
			if (j)
				appendStringInfoString(buf, ", ");
			escape_json(buf, data->features[j]);
			appendStringInfoString(buf, ": ");
			clv_json_number(buf, v[j]);
		}
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, '}');
	pfree(v);
}

static char *
text_arg(FunctionCallInfo fcinfo, int argno, const char *what, const char *hint)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what),
				 hint ? errhint("%s", hint) : 0));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * Trains a regressor and stores it as the next version of name in
 * clv_models (kind 'regressor'); returns the stored row.  The booster goes
 * into the artifact column, everything needed to use and judge it into
 * params.
 */
Datum
clv_regressor_train(PG_FUNCTION_ARGS)
{
	static const char *const columns[8] = {"params", "n_customers", "iterations",
	"source", "options", "diagnostics", "artifact", "converged"};
	Oid			argtypes[8] = {JSONBOID, INT8OID, INT4OID, TEXTOID, JSONBOID, JSONBOID,
	BYTEAOID, BOOLOID};
	Datum		args[8];
	char	   *name = text_arg(fcinfo, 0, "model name", NULL);
	char	   *source = text_arg(fcinfo, 1, "source", "Give a table or view name, or a SELECT.");
	char	   *target = text_arg(fcinfo, 2, "target", "Name the column to predict.");
	ArrayType  *features = PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3);
	ClvRegOptions o;
	RegRead		r;
	ClvRegData *data = &r.data;
	ClvRegData *train = data;
	ClvRegData *valid = NULL;
	ClvRegFit	fit;
	ClvRegMetrics train_m;
	ClvRegMetrics valid_m;
	StringInfoData params,
				diag;
	MemoryContext fncxt = CurrentMemoryContext;
	MemoryContext spicxt;
	Datum		result;

	clv_catalog_check_trainable(fcinfo, name, "regressor");
	reg_parse_options(PG_ARGISNULL(4) ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")))
					  : PG_GETARG_JSONB_P(4), &o);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	reg_read(source, target, features, &r);

	if (strcmp(o.objective, "reg:tweedie") == 0)
	{
		for (int64 i = 0; i < data->n; i++)
		{
			CLV_REG_CHECK_ROW(i);
			if (data->y[i] < 0.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("objective reg:tweedie needs a target >= 0, and \"%s\" has %g",
								target, data->y[i])));
		}
	}
	if (o.cv_folds > data->n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cv_folds = %d exceeds the number of rows (" INT64_FORMAT ")",
						o.cv_folds, data->n)));

	initStringInfo(&params);
	appendStringInfoString(&params, "{\"features\": [");
	for (int j = 0; j < data->d; j++)
	{
		if (j)
			appendStringInfoString(&params, ", ");
		escape_json(&params, data->features[j]);
	}
	appendStringInfoString(&params, "], \"target\": ");
	escape_json(&params, target);
	appendStringInfo(&params, ", \"format\": \"xgboost-ubj\", \"xgboost_version\": \"%s\", "
					 "\"xgboost_params\": %s, \"metrics\": {",
					 clv_xgb_version(), clv_xgb_params_json(&o));

	if (o.cv_folds > 0)
	{
		appendStringInfoString(&params, "\"cv\": ");
		reg_cross_validate(data, &o, &params);
		appendStringInfoString(&params, ", ");
	}

	if (o.early_stopping_rounds > 0)
	{
		int64		nvalid = (int64) floor(o.validation_fraction * data->n + 0.5);
		int64	   *perm;
		bool	   *is_valid;
		int64	   *tidx,
				   *vidx;
		int64		nt = 0,
					nv = 0;

		if (nvalid < 1 || nvalid >= data->n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("validation_fraction = %g of " INT64_FORMAT " rows leaves " INT64_FORMAT
							" validation and " INT64_FORMAT " training rows",
							o.validation_fraction, data->n, nvalid, data->n - nvalid),
					 errhint("Early stopping needs at least one row of each.")));
		perm = clv_reg_shuffle(data->n, (uint64) o.seed);
		is_valid = palloc_extended(mul_size(data->n, sizeof(bool)), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		for (int64 p = 0; p < nvalid; p++)
			is_valid[perm[p]] = true;
		tidx = palloc_extended(mul_size(data->n, sizeof(int64)), MCXT_ALLOC_HUGE);
		vidx = palloc_extended(mul_size(nvalid, sizeof(int64)), MCXT_ALLOC_HUGE);
		for (int64 i = 0; i < data->n; i++)
		{
			CLV_REG_CHECK_ROW(i);
			if (is_valid[i])
				vidx[nv++] = i;
			else
				tidx[nt++] = i;
		}
		train = clv_reg_subset(data, tidx, nt);
		valid = clv_reg_subset(data, vidx, nv);
		pfree(perm);
		pfree(is_valid);
		pfree(tidx);
		pfree(vidx);
	}

	clv_xgb_train(&o, clv_xgb_dmatrix(train, CurrentMemoryContext),
				  valid ? clv_xgb_dmatrix(valid, CurrentMemoryContext) : NULL,
				  CurrentMemoryContext, &fit);
	reg_evaluate(fit.booster, train, &train_m);
	appendStringInfoString(&params, "\"training\": ");
	json_metrics(&params, &train_m, train->n);
	if (valid)
	{
		reg_evaluate(fit.booster, valid, &valid_m);
		appendStringInfoString(&params, ", \"validation\": ");
		json_metrics(&params, &valid_m, valid->n);
		appendStringInfoString(&params, ", \"early_stopping\": {\"metric\": ");
		escape_json(&params, fit.eval_metric ? fit.eval_metric : "");
		appendStringInfoString(&params, ", \"best_score\": ");
		clv_json_number(&params, fit.best_score);
		appendStringInfo(&params, ", \"best_iteration\": %d, \"rounds_run\": %d}",
						 fit.rounds - 1, fit.rounds_run);
	}
	appendStringInfo(&params, "}, \"n_rounds\": %d, \"importance\": ", fit.rounds);
	json_importance(&params, fit.booster, data);
	appendStringInfoChar(&params, '}');

	initStringInfo(&diag);
	appendStringInfo(&diag, "{\"rows\": " INT64_FORMAT ", \"training_rows\": " INT64_FORMAT
					 ", \"validation_rows\": " INT64_FORMAT ", \"skipped_null_target_rows\": " INT64_FORMAT
					 ", \"missing_values\": " INT64_FORMAT ", \"rounds_run\": %d}",
					 data->n, train->n, valid ? valid->n : 0, r.skipped_null_target,
					 r.missing_values, fit.rounds_run);

	args[0] = DirectFunctionCall1(jsonb_in, CStringGetDatum(params.data));
	args[1] = Int64GetDatum(data->n);
	args[2] = Int32GetDatum(fit.rounds);
	args[3] = CStringGetTextDatum(source);
	args[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(reg_options_json(&o)));
	args[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(diag.data));
	args[6] = PointerGetDatum(clv_xgb_save(fit.booster));
	args[7] = BoolGetDatum(true);
	clv_xgb_free(fit.booster);

	/* the stored row must outlive this SPI connection */
	spicxt = MemoryContextSwitchTo(fncxt);
	result = clv_catalog_store(fcinfo, name, "regressor", 8, columns, argtypes, args,
							   "        ");
	MemoryContextSwitchTo(spicxt);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* ---------------------------------------------------------------------------
 * Prediction.
 * ---------------------------------------------------------------------------
 */

/* clv_regressor_predict(name, ...): fn_extra is a name cache of these. */

static void
reg_bad_model(const char *name, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("clv model \"%s\" is not a usable regressor: %s", name, what),
			 errhint("Train it again with clv_regressor_train().")));
}

/*
 * The booster of a catalog row and its row predictor, all in cxt (which
 * owns the handle): they live as long as the cache entry.
 */
static ClvXgbRowPredictor *
reg_model_load(const char *name, Jsonb *params, bytea *artifact, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	JsonbValue *v;
	ClvXgbHandle *booster;
	ClvXgbRowPredictor *p;
	int			d;

	v = getKeyJsonValueFromContainer(&params->root, "features", 8, NULL);
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		reg_bad_model(name, "params has no \"features\" array");
	d = JsonContainerSize(v->val.binary.data);
	if (artifact == NULL)
		reg_bad_model(name, "the artifact column is NULL");
	booster = clv_xgb_load(VARDATA_ANY(artifact), VARSIZE_ANY_EXHDR(artifact), 1, cxt);
	if (clv_xgb_num_features(booster) != d)
		reg_bad_model(name, psprintf("the booster has %d features, params lists %d",
									 clv_xgb_num_features(booster), d));
	p = clv_xgb_row_predictor(booster, d);
	MemoryContextSwitchTo(old);
	return p;
}

/* What the by-name build needs: the call (for the catalog) and the name. */
typedef struct RegBuild
{
	FunctionCallInfo fcinfo;
	const char *name;
} RegBuild;

/*
 * The newest version of a named regressor, loaded into cxt; on error the
 * name cache deletes cxt, and the booster with it (its reset callback).
 */
static void *
reg_build_by_name(void *arg, MemoryContext cxt)
{
	RegBuild   *b = arg;
	bytea	   *artifact;
	Jsonb	   *params = clv_catalog_newest_row(b->fcinfo, b->name, "regressor",
												NULL, &artifact);

	return reg_model_load(b->name, params, artifact, cxt);
}

/*
 * The newest version of a regressor, loaded once per query and name (the
 * snapshot-keyed name cache of name_cache.c, as K-Means and the BTYD
 * functions use it): a newer version is seen by the next query, and the
 * booster is freed with its entry's context.
 */
static ClvXgbRowPredictor *
reg_model_by_name(FunctionCallInfo fcinfo, const char *name)
{
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	RegBuild	b = {fcinfo, name};

	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = clv_name_cache_create(mcxt, "clv regressors");
	return clv_name_cache_get(fcinfo->flinfo->fn_extra, mcxt, name,
							  reg_build_by_name, &b);
}

/*
 * One row of features into the predictor's buffer and its prediction: NULL
 * and NaN elements are XGBoost's missing values.
 */
static double
reg_predict_array(ClvXgbRowPredictor *p, ArrayType *arr, const char *what)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	double		result;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a one-dimensional array")));
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &n);
	if (n != p->d)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model has %d features, the array has %d", p->d, n),
				 errhint("Pass the features in the order of the model's params->'features'.")));
	for (int j = 0; j < n; j++)
	{
		double		v = nulls[j] ? NAN : DatumGetFloat8(elems[j]);

		if (isinf(v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature %d is infinite", j + 1),
					 errhint("NULL and NaN are missing values; infinities are not.")));
		if (!isnan(v) && fabs(v) > FLT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("feature %d = %g is out of range for XGBoost's float32", j + 1, v)));
		p->row[j] = (float) v;
	}
	result = clv_xgb_predict_row(p);
	if (!isfinite(result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the prediction of %s is not finite (%g)", what, result)));
	pfree(elems);
	pfree(nulls);
	return result;
}

/* clv_regressor_predict(name, features): STABLE, the booster is loaded once per query. */
Datum
clv_regressor_predict(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ClvXgbRowPredictor *p = reg_model_by_name(fcinfo, name);

	PG_RETURN_FLOAT8(reg_predict_array(p, PG_GETARG_ARRAYTYPE_P(1),
									   psprintf("clv model \"%s\"", name)));
}
