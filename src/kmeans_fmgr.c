/*-------------------------------------------------------------------------
 *
 * kmeans_fmgr.c
 *	  SQL interface of the K-Means segmentation: reading features through
 *	  SPI, options, the model catalog, progress NOTICEs and scoring.  The
 *	  math is in kmeans.c.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
#include "columns.h"
#include "clv_json.h"
#include "kmeans.h"
#include "name_cache.h"
#include "options.h"
#include "source.h"

PG_FUNCTION_INFO_V1(clv_kmeans_train);
PG_FUNCTION_INFO_V1(clv_kmeans_scan);
PG_FUNCTION_INFO_V1(clv_cluster);
PG_FUNCTION_INFO_V1(clv_cluster_params);

/* Rows read between interrupt checks. */
#define KMEANS_CHECK_ROWS 10000
/* Sanity bounds on options. */
#define KMEANS_MAX_FEATURES 1000
#define KMEANS_MAX_K 10000

static int	kmeans_max_rows = 5000000;

/*
 * The features are clustered in memory (8 bytes per value plus 40
 * bytes of bounds and scratch per row), so the number of rows one training
 * reads is capped by a setting; only a superuser may raise it (or
 * ALTER ROLE ... SET it for a role), since it bounds what any role can
 * make the backend allocate.
 */
void
clv_kmeans_init(void)
{
	DefineCustomIntVariable("clv.kmeans_max_rows",
							"Maximum number of rows clv_kmeans_train and clv_kmeans_scan read into memory.",
							"Each row takes about 8 * (features + 5) bytes while clustering.",
							&kmeans_max_rows,
							5000000, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* Options of a training or a scan, after defaults. */
typedef struct KMeansOptions
{
	int			n_init;
	int			max_iter;
	double		tol;
	int64		seed;
	KMeansScaling scaling;
	bool		verbose;
	int64		sample_size;	/* scan only */
} KMeansOptions;

/* The scalings by enum value, NULL-terminated (an options ENUM). */
static const char *const kmeans_scaling_names[] = {
	[KMEANS_SCALE_NONE] = "none",
	[KMEANS_SCALE_ZSCORE] = "zscore",
	[KMEANS_SCALE_LOG_ZSCORE] = "log_zscore",
	NULL
};

StaticAssertDecl(sizeof(KMeansScaling) == sizeof(int),
				 "an options ENUM stores an int");

/* The scaling of a stored model's params; 22023 listing the valid ones. */
static KMeansScaling
kmeans_parse_scaling(const char *s)
{
	for (int i = 0; kmeans_scaling_names[i] != NULL; i++)
	{
		if (strcmp(s, kmeans_scaling_names[i]) == 0)
			return (KMeansScaling) i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid scaling \"%s\"", s),
			 errhint("Valid scalings are: %s.", KMEANS_VALID_SCALINGS)));
	pg_unreachable();
}

/*
 * The options of a training; a scan takes the same (so that its numbers
 * match a model trained with them) and its sample_size.  An unknown key is
 * an error: a typo would otherwise silently train with a default.
 */
#define KMEANS_TRAIN_OPTIONS \
	{.key = "n_init", .type = CLV_OPTION_INT, .min = 1, .max = 1000, .def = 10, \
	.offset = offsetof(KMeansOptions, n_init)}, \
	{.key = "max_iter", .type = CLV_OPTION_INT, .min = 1, .max = 100000, .def = 300, \
	.offset = offsetof(KMeansOptions, max_iter)}, \
	{.key = "tol", .type = CLV_OPTION_NUMBER, .min = 0, .max = INFINITY, .def = 1e-4, \
	.offset = offsetof(KMeansOptions, tol)}, \
	{.key = "seed", .type = CLV_OPTION_INT64, .min = 0, .max = PG_UINT32_MAX, .def = 0, \
	.offset = offsetof(KMeansOptions, seed)}, \
	{.key = "scaling", .type = CLV_OPTION_ENUM, .values = kmeans_scaling_names, \
		.def = KMEANS_SCALE_ZSCORE, \
	.offset = offsetof(KMeansOptions, scaling)}, \
	{.key = "verbose", .type = CLV_OPTION_BOOL, .def = false, \
	.offset = offsetof(KMeansOptions, verbose)}

static const ClvOption kmeans_train_options[] = {KMEANS_TRAIN_OPTIONS};

static const ClvOption kmeans_scan_options[] = {
	KMEANS_TRAIN_OPTIONS,
	{.key = "sample_size", .type = CLV_OPTION_INT64, .min = 2, .max = 100000,
		.def = 10000,
	.offset = offsetof(KMeansOptions, sample_size)},
};

/* The options of a training or (scan) of clv_kmeans_scan. */
static void
kmeans_parse_options(Jsonb *jb, bool scan, KMeansOptions *o)
{
	memset(o, 0, sizeof(*o));
	if (scan)
		clv_parse_options(jb, kmeans_scan_options, lengthof(kmeans_scan_options), o);
	else
		clv_parse_options(jb, kmeans_train_options, lengthof(kmeans_train_options), o);
}

/*
 * The SELECT that reads the features.  The source is a table or view name
 * or one read-only query (source.c checks it before anything runs); for a
 * relation, missing columns are a 42703 naming the column, for a query the
 * parser reports them.
 */
static char *
kmeans_source_sql(const char *source, char **features, int d)
{
	StringInfoData sql;
	Oid			relid;
	char	   *from = clv_source_from_clause(source, &relid);

	if (OidIsValid(relid))
	{
		for (int j = 0; j < d; j++)
		{
			AttrNumber	att = get_attnum(relid, features[j]);

			if (att <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" does not exist in \"%s\"", features[j], source)));
		}
	}
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int j = 0; j < d; j++)
		appendStringInfo(&sql, "%ss.%s", j ? ", " : "", quote_identifier(features[j]));
	appendStringInfo(&sql, " FROM %s AS s", from);
	return sql.data;
}

/* Numeric column types the features may have (domains over them too). */
static void
check_feature_type(TupleDesc desc, int j, const char *name)
{
	if (!clv_numeric_type(TupleDescAttr(desc, j)->atttypid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("feature \"%s\" has type %s, not a number", name,
						format_type_be(TupleDescAttr(desc, j)->atttypid)),
				 errhint("Features must be smallint, integer, bigint, real, double precision or numeric; cast other columns in a SELECT source.")));
}

/* Features read into memory, with what was skipped. */
typedef struct KMeansData
{
	int			d;
	char	  **features;
	int64		n;
	double	   *x;				/* n * d, row-major */
	int64		skipped_null;
} KMeansData;

/*
 * Rows arrive in a DestReceiver straight from the executor: no tuple is
 * copied, each row's values go into one growing row-major array.
 */
typedef struct KMeansReceiver
{
	DestReceiver pub;
	KMeansData *data;
	const char *source;
	Oid		   *types;
	int64		cap;
} KMeansReceiver;

/*
 * The statement selects exactly the d features, so a descriptor of another
 * width means the statement is not the one built: an internal error, never
 * a read past the descriptor.
 */
static void
kmeans_check_width(TupleDesc desc, int d)
{
	if (desc->natts != d)
		elog(ERROR, "K-Means source returned %d columns, expected %d", desc->natts, d);
}

static void
kmeans_receive_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	KMeansReceiver *r = (KMeansReceiver *) self;

	kmeans_check_width(desc, r->data->d);
	for (int j = 0; j < r->data->d; j++)
	{
		check_feature_type(desc, j, r->data->features[j]);
		r->types[j] = getBaseType(TupleDescAttr(desc, j)->atttypid);
	}
}

/*
 * Rows with a NULL feature are skipped and counted; NaN or infinite values
 * are an error naming the column, as is going past clv.kmeans_max_rows.
 */
static bool
kmeans_receive_slot(TupleTableSlot *slot, DestReceiver *self)
{
	KMeansReceiver *r = (KMeansReceiver *) self;
	KMeansData *data = r->data;
	int			d = data->d;
	double	   *row;

	kmeans_check_width(slot->tts_tupleDescriptor, d);
	slot_getallattrs(slot);
	for (int j = 0; j < d; j++)
	{
		if (slot->tts_isnull[j])
		{
			data->skipped_null++;
			return true;
		}
	}
	if (data->n >= kmeans_max_rows)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("source \"%s\" has more than %d rows, the limit clv.kmeans_max_rows",
						r->source, kmeans_max_rows),
				 errhint("Train on a sample, e.g. a source like 'SELECT * FROM t TABLESAMPLE SYSTEM (10) REPEATABLE (1)', or raise clv.kmeans_max_rows (about 8 * (features + 5) bytes per row).")));
	if (data->n >= r->cap)
	{
		r->cap = Min(r->cap * 2, (int64) kmeans_max_rows);
		data->x = repalloc_huge(data->x, mul_size(r->cap, sizeof(double) * d));
	}
	row = data->x + data->n * d;
	for (int j = 0; j < d; j++)
	{
		row[j] = clv_numeric_datum(slot->tts_values[j], r->types[j]);
		if (!isfinite(row[j]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" contains %s", data->features[j],
							isnan(row[j]) ? "NaN" : "an infinite value"),
					 errhint("Filter or replace such values in a SELECT source.")));
	}
	data->n++;
	if ((data->n % KMEANS_CHECK_ROWS) == 0)
		CHECK_FOR_INTERRUPTS();
	return true;
}

static void
kmeans_receive_noop(DestReceiver *self)
{
}

/*
 * Reads the features of source into data (current memory context), the
 * rows in the canonical order of clv_kmeans_sort_rows, so that nothing
 * after it depends on the order the executor delivered them in; a NOTICE
 * counts the rows skipped for a NULL feature.  Must be called inside
 * SPI_connect.
 */
static void
kmeans_read(const char *source, KMeansData *data)
{
	KMeansReceiver r;
	char	   *sql = kmeans_source_sql(source, data->features, data->d);

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = kmeans_receive_slot;
	r.pub.rStartup = kmeans_receive_startup;
	r.pub.rShutdown = kmeans_receive_noop;
	r.pub.rDestroy = kmeans_receive_noop;
	r.pub.mydest = DestNone;
	r.data = data;
	r.source = source;
	r.types = palloc(sizeof(Oid) * data->d);
	r.cap = Min(1024, (int64) kmeans_max_rows);

	data->n = 0;
	data->skipped_null = 0;
	data->x = MemoryContextAllocHuge(CurrentMemoryContext,
									 mul_size(r.cap, sizeof(double) * data->d));

	clv_execute_into(sql, source, &r.pub);

	if (data->skipped_null > 0)
		ereport(NOTICE,
				(errmsg("skipped " INT64_FORMAT " rows with a NULL feature", data->skipped_null)));
	if (data->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" has no rows with all features non-NULL", source)));
	clv_kmeans_sort_rows(data->x, data->n, data->d);
}

/* Scaling errors name the feature. */
static void
kmeans_scale_or_error(KMeansData *data, KMeansScaling method,
					  double *center, double *scale)
{
	int			bad = -1;

	switch (clv_kmeans_scale(method, data->x, data->n, data->d, center, scale, &bad))
	{
		case KMEANS_OK:
			break;
		case KMEANS_CONSTANT_FEATURE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" is constant (zero variance) and cannot be scaled by %s",
							data->features[bad], kmeans_scaling_names[method]),
					 errhint("Leave the feature out, or use scaling 'none'.")));
			break;
		case KMEANS_LOG_DOMAIN:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" has a value <= -1, outside the domain of log_zscore (ln(1 + x))",
							data->features[bad]),
					 errhint("Use scaling 'zscore' for features that can be negative.")));
			break;
		default:
			elog(ERROR, "unexpected k-means scaling status");
	}
}

/* k within bounds: checked before the source is read. */
static void
kmeans_check_k_range(int k)
{
	if (k < 1 || k > KMEANS_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k = %d is out of range", k),
				 errhint("k must be between 1 and %d.", KMEANS_MAX_K)));
}

/* k no more than the rows read. */
static void
kmeans_check_k(int k, int64 n)
{
	kmeans_check_k_range(k);
	if (k > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k = %d exceeds the number of rows (" INT64_FORMAT ")", k, n)));
}

typedef struct ProgressArg
{
	int			k;
	bool		scan;
} ProgressArg;

static void
kmeans_progress(void *arg, int restart, int n_init, double inertia,
				int iterations, bool converged)
{
	ProgressArg *p = arg;

	ereport(NOTICE,
			(errmsg("%srestart %d of %d: inertia %.6g (%d iterations%s)",
					p->scan ? psprintf("k = %d, ", p->k) : "",
					restart, n_init, inertia, iterations,
					converged ? "" : ", not converged")));
}

static void
kmeans_fit_or_error(KMeansData *data, int k, const KMeansOptions *o,
					bool scan, KMeansFit *fit)
{
	KMeansParams p;
	ProgressArg pa = {k, scan};

	p.k = k;
	p.n_init = o->n_init;
	p.max_iter = o->max_iter;
	p.tol = o->tol;
	p.seed = (uint64) o->seed;
	p.progress = o->verbose ? kmeans_progress : NULL;
	p.progress_arg = &pa;
	if (clv_kmeans_fit(data->x, data->n, data->d, &p, fit) == KMEANS_TOO_FEW_DISTINCT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k = %d exceeds the number of distinct points", k),
				 errhint("Choose a smaller k.")));
}

/* "key": [[...], ...]: k rows of d numbers. */
static void
kmeans_json_matrix(StringInfo buf, const char *key, const double *m, int k, int d)
{
	clv_json_key(buf, key);
	appendStringInfoChar(buf, '[');
	for (int c = 0; c < k; c++)
	{
		if (c)
			appendStringInfoString(buf, ", ");
		clv_json_numbers(buf, m + c * d, d);
	}
	appendStringInfoChar(buf, ']');
}

/*
 * The params of a trained model: everything clv_cluster needs to score a
 * customer without the training data (features, scaling, scaled centroids)
 * and, for people, the centroids in the features' own units, the cluster
 * sizes and the inertia.
 */
static Jsonb *
kmeans_params_jsonb(const KMeansData *data, const KMeansOptions *o,
					const KMeansFit *fit, const double *center,
					const double *scale)
{
	int			k = fit->k;
	int			d = data->d;
	double	   *orig = palloc(mul_size(mul_size(k, d), sizeof(double)));
	StringInfoData buf,
				sub;

	for (int c = 0; c < k; c++)
		for (int j = 0; j < d; j++)
			orig[c * d + j] = clv_kmeans_unscale_value(o->scaling, fit->centroids[c * d + j],
												   center[j], scale[j]);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	clv_json_num(&buf, "k", k);
	clv_json_key(&buf, "features");
	appendStringInfoChar(&buf, '[');
	for (int j = 0; j < d; j++)
	{
		if (j)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, data->features[j]);
	}
	appendStringInfoChar(&buf, ']');
	initStringInfo(&sub);
	appendStringInfoChar(&sub, '{');
	clv_json_str(&sub, "method", kmeans_scaling_names[o->scaling]);
	clv_json_key(&sub, "center");
	clv_json_numbers(&sub, center, d);
	clv_json_key(&sub, "scale");
	clv_json_numbers(&sub, scale, d);
	appendStringInfoChar(&sub, '}');
	clv_json_raw(&buf, "scaling", sub.data);
	kmeans_json_matrix(&buf, "centroids", orig, k, d);
	kmeans_json_matrix(&buf, "centroids_scaled", fit->centroids, k, d);
	clv_json_key(&buf, "sizes");
	appendStringInfoChar(&buf, '[');
	for (int c = 0; c < k; c++)
		appendStringInfo(&buf, "%s" INT64_FORMAT, c ? ", " : "", fit->sizes[c]);
	appendStringInfoChar(&buf, ']');
	clv_json_key(&buf, "inertia");
	clv_json_number(&buf, fit->inertia);
	appendStringInfoChar(&buf, '}');
	pfree(orig);
	return clv_json_finish(&buf);
}

/* The options as used, defaults filled in (verbose is not stored). */
static Jsonb *
kmeans_options_jsonb(const KMeansOptions *o)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	clv_json_num(&buf, "n_init", o->n_init);
	clv_json_num(&buf, "max_iter", o->max_iter);
	clv_json_num(&buf, "tol", o->tol);
	clv_json_num(&buf, "seed", (double) o->seed);
	clv_json_str(&buf, "scaling", kmeans_scaling_names[o->scaling]);
	appendStringInfoChar(&buf, '}');
	return clv_json_finish(&buf);
}

/* The restarts (inertia and iterations of each) and the rows skipped. */
static Jsonb *
kmeans_diagnostics_jsonb(const KMeansData *data, const KMeansOptions *o,
						 const KMeansFit *fit)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	clv_json_num(&buf, "best_restart", fit->best_restart);
	clv_json_num(&buf, "skipped_null_rows", (double) data->skipped_null);
	clv_json_key(&buf, "restart_inertia");
	clv_json_numbers(&buf, fit->restart_inertia, o->n_init);
	clv_json_key(&buf, "restart_iterations");
	appendStringInfoChar(&buf, '[');
	for (int r = 0; r < o->n_init; r++)
		appendStringInfo(&buf, "%s%d", r ? ", " : "", fit->restart_iterations[r]);
	appendStringInfoString(&buf, "]}");
	return clv_json_finish(&buf);
}

/*
 * Stores the trained model as the next version of name (clv_catalog_store
 * numbers it); the row is returned in the caller's context, since
 * it must outlive the SPI connection the training runs in.
 */
static Datum
kmeans_store(FunctionCallInfo fcinfo, MemoryContext fncxt, const char *name,
			 const char *source, const KMeansData *data,
			 const KMeansOptions *o, const KMeansFit *fit,
			 const double *center, const double *scale)
{
	static const char *const columns[7] = {"params", "n_customers",
		"converged", "iterations", "source", "options", "diagnostics"};
	Oid			argtypes[7] = {JSONBOID, INT8OID, BOOLOID, INT4OID, TEXTOID,
		JSONBOID, JSONBOID};
	Datum		args[7];
	MemoryContext spicxt;
	Datum		result;

	args[0] = JsonbPGetDatum(kmeans_params_jsonb(data, o, fit, center, scale));
	args[1] = Int64GetDatum(data->n);
	args[2] = BoolGetDatum(fit->converged);
	args[3] = Int32GetDatum(fit->iterations);
	args[4] = CStringGetTextDatum(source);
	args[5] = JsonbPGetDatum(kmeans_options_jsonb(o));
	args[6] = JsonbPGetDatum(kmeans_diagnostics_jsonb(data, o, fit));
	spicxt = MemoryContextSwitchTo(fncxt);
	result = clv_catalog_store(fcinfo, name, "kmeans", 7, columns, argtypes,
							   args, "       ");
	MemoryContextSwitchTo(spicxt);
	return result;
}

/*
 * Trains a K-Means segmentation and stores it as the next version of name
 * in clv_models (kind 'kmeans'); returns the stored row.  The steps: check
 * the name, features, options and k before reading anything; read the
 * features (sorted, so the model does not depend on row order); scale;
 * fit; store.
 */
Datum
clv_kmeans_train(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			k = PG_GETARG_INT32(3);
	MemoryContext fncxt = CurrentMemoryContext;
	KMeansOptions o;
	KMeansData	data;
	KMeansFit	fit;
	double	   *center,
			   *scale;
	Datum		result;

	clv_catalog_check_trainable(fcinfo, name, "kmeans");
	data.features = clv_feature_names(PG_GETARG_ARRAYTYPE_P(2), KMEANS_MAX_FEATURES, &data.d);
	kmeans_parse_options(PG_GETARG_JSONB_P(4), false, &o);
	kmeans_check_k_range(k);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	kmeans_read(source, &data);
	kmeans_check_k(k, data.n);
	center = palloc(sizeof(double) * data.d);
	scale = palloc(sizeof(double) * data.d);
	kmeans_scale_or_error(&data, o.scaling, center, scale);
	kmeans_fit_or_error(&data, k, &o, false, &fit);
	result = kmeans_store(fcinfo, fncxt, name, source, &data, &o, &fit,
						  center, scale);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * Elbow and silhouette per k: the features are read and scaled once, each
 * k is fitted as clv_kmeans_train would with the same options (so the
 * numbers match a model trained with that k and seed).  The silhouette is
 * exact on all rows up to sample_size rows, and beyond that computed on a
 * sample of sample_size rows drawn without replacement with the seed.
 */
Datum
clv_kmeans_scan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *source = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			k_min = PG_GETARG_INT32(2);
	int			k_max = PG_GETARG_INT32(3);
	Jsonb	   *opts = PG_GETARG_JSONB_P(4);
	KMeansOptions o;
	KMeansData	data;
	double	   *center,
			   *scale,
			   *sx = NULL;
	int64	   *sample = NULL;
	int64		m;
	int		   *slabels;

	data.features = clv_feature_names(PG_GETARG_ARRAYTYPE_P(1), KMEANS_MAX_FEATURES, &data.d);
	kmeans_parse_options(opts, true, &o);
	kmeans_check_k_range(k_min);
	if (k_max < k_min)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_max = %d is less than k_min = %d", k_max, k_min)));
	kmeans_check_k_range(k_max);
	InitMaterializedSRF(fcinfo, 0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	kmeans_read(source, &data);
	kmeans_check_k(k_max, data.n);
	center = palloc(sizeof(double) * data.d);
	scale = palloc(sizeof(double) * data.d);
	kmeans_scale_or_error(&data, o.scaling, center, scale);

	m = Min(data.n, o.sample_size);
	if (m < data.n)
	{
		sample = clv_kmeans_sample_indices(data.n, m, (uint64) o.seed);
		sx = palloc(mul_size(m, sizeof(double) * data.d));
		for (int64 i = 0; i < m; i++)
			memcpy(sx + i * data.d, data.x + sample[i] * data.d, sizeof(double) * data.d);
	}
	slabels = palloc(sizeof(int) * m);

	for (int k = k_min; k <= k_max; k++)
	{
		KMeansFit	fit;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		kmeans_fit_or_error(&data, k, &o, true, &fit);
		values[0] = Int32GetDatum(k);
		values[1] = Float8GetDatum(fit.inertia);
		if (k == 1)
			nulls[2] = true;
		else
		{
			for (int64 i = 0; i < m; i++)
				slabels[i] = fit.labels[sample ? sample[i] : i];
			values[2] = Float8GetDatum(clv_kmeans_silhouette(sample ? sx : data.x, m,
														 data.d, slabels, k));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pfree(fit.labels);
		pfree(fit.centroids);
	}
	SPI_finish();
	return (Datum) 0;
}

/* A model ready for scoring. */
typedef struct KMeansModel
{
	int			k;
	int			d;
	KMeansScaling scaling;
	double	   *center;
	double	   *scale;
	double	   *centroids;		/* k * d, scaled */
} KMeansModel;

static void bad_params(const char *what) pg_attribute_noreturn();

/* 22023 for params that are not those of a trained K-Means model. */
static void
bad_params(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid K-Means model parameters: %s", what),
			 errhint("Use the params of a clv_models row of kind 'kmeans'.")));
}

/* A numeric jsonb array of exactly n elements into out. */
static void
params_doubles(JsonbValue *v, int n, double *out, const char *what)
{
	JsonbContainer *c;

	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerSize(v->val.binary.data) != (uint32) n)
		bad_params(what);
	c = v->val.binary.data;
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(c, i);

		if (e == NULL || e->type != jbvNumeric)
			bad_params(what);
		out[i] = clv_jsonb_number(e, what);
	}
}

/* Parses params into a scoring model allocated in mcxt. */
static KMeansModel *
kmeans_model_from_params(Jsonb *jb, MemoryContext mcxt)
{
	MemoryContext old = MemoryContextSwitchTo(mcxt);
	KMeansModel *m = palloc0(sizeof(KMeansModel));
	JsonbValue *v,
			   *sc,
			   *cs;
	char	   *method;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		bad_params("not an object");
	v = getKeyJsonValueFromContainer(&jb->root, "features", 8, NULL);
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		bad_params("\"features\" is missing");
	m->d = JsonContainerSize(v->val.binary.data);
	cs = getKeyJsonValueFromContainer(&jb->root, "centroids_scaled", 16, NULL);
	if (cs == NULL || cs->type != jbvBinary || !JsonContainerIsArray(cs->val.binary.data))
		bad_params("\"centroids_scaled\" is missing");
	m->k = JsonContainerSize(cs->val.binary.data);
	if (m->k < 1 || m->d < 1)
		bad_params("no centroids or features");
	sc = getKeyJsonValueFromContainer(&jb->root, "scaling", 7, NULL);
	if (sc == NULL || sc->type != jbvBinary || !JsonContainerIsObject(sc->val.binary.data))
		bad_params("\"scaling\" is missing");
	v = getKeyJsonValueFromContainer(sc->val.binary.data, "method", 6, NULL);
	if (v == NULL || v->type != jbvString)
		bad_params("\"scaling\".\"method\" is missing");
	method = pnstrdup(v->val.string.val, v->val.string.len);
	m->scaling = kmeans_parse_scaling(method);
	m->center = palloc(sizeof(double) * m->d);
	m->scale = palloc(sizeof(double) * m->d);
	m->centroids = palloc(sizeof(double) * m->k * m->d);
	params_doubles(getKeyJsonValueFromContainer(sc->val.binary.data, "center", 6, NULL),
				   m->d, m->center, "\"scaling\".\"center\"");
	params_doubles(getKeyJsonValueFromContainer(sc->val.binary.data, "scale", 5, NULL),
				   m->d, m->scale, "\"scaling\".\"scale\"");
	for (int j = 0; j < m->d; j++)
	{
		if (!(m->scale[j] > 0.0))
			bad_params("a scale is not positive");
	}
	for (int c = 0; c < m->k; c++)
		params_doubles(getIthJsonbValueFromContainer(cs->val.binary.data, c),
					   m->d, m->centroids + c * m->d, "\"centroids_scaled\"");
	MemoryContextSwitchTo(old);
	return m;
}

/* What the by-name build needs: the call (for the catalog) and the name. */
typedef struct KMeansBuild
{
	FunctionCallInfo fcinfo;
	const char *name;
	Jsonb	   *params;			/* the params form: the params */
} KMeansBuild;

/* The newest version of a named model, parsed into cxt. */
static void *
kmeans_build_by_name(void *arg, MemoryContext cxt)
{
	KMeansBuild *b = arg;

	return kmeans_model_from_params(clv_catalog_newest_params(b->fcinfo, b->name,
															  "kmeans"),
									cxt);
}

/* A model given as params, parsed into cxt. */
static void *
kmeans_build_from_params(void *arg, MemoryContext cxt)
{
	return kmeans_model_from_params(((KMeansBuild *) arg)->params, cxt);
}

/*
 * The newest version of a K-Means model, read once per query and name (and
 * again in a new snapshot, as the BTYD functions do): the cache lives in
 * fn_extra, so a newly trained version serves the next query or the next
 * statement of a PL/pgSQL loop; it is a hash table, so a name taken from a
 * column costs one catalog read per distinct name, not one per row.
 */
static KMeansModel *
kmeans_model_by_name(FunctionCallInfo fcinfo, const char *name)
{
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	KMeansBuild b = {fcinfo, name, NULL};

	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = clv_name_cache_create(mcxt, "clv K-Means models");
	return clv_name_cache_get(fcinfo->flinfo->fn_extra, mcxt, name,
							  kmeans_build_by_name, &b);
}

/* Nearest centroid of one customer, 1-based canonical cluster number. */
static int32
kmeans_assign(KMeansModel *m, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	double	   *p;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a one-dimensional array")));
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &n);
	if (n != m->d)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model has %d features, the array has %d", m->d, n)));
	p = palloc(sizeof(double) * n);
	for (int j = 0; j < n; j++)
	{
		double		v;

		if (nulls[j])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("feature %d is NULL", j + 1)));
		v = DatumGetFloat8(elems[j]);
		if (!isfinite(v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature %d is %s", j + 1, isnan(v) ? "NaN" : "infinite")));
		if (m->scaling == KMEANS_SCALE_LOG_ZSCORE && !(v > -1.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature %d = %g is outside the domain of log_zscore (> -1)", j + 1, v)));
		p[j] = clv_kmeans_scale_value(m->scaling, v, m->center[j], m->scale[j]);
	}
	n = clv_kmeans_nearest(m->centroids, m->k, m->d, p);
	pfree(p);
	pfree(elems);
	pfree(nulls);
	return n + 1;
}

/* clv_cluster(name, features): STABLE, the model is read once per query. */
Datum
clv_cluster(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	KMeansModel *m = kmeans_model_by_name(fcinfo, name);

	PG_RETURN_INT32(kmeans_assign(m, PG_GETARG_ARRAYTYPE_P(1)));
}

/*
 * clv_cluster(params, features): IMMUTABLE, for a model inlined in a view
 * or shipped elsewhere.  fn_extra holds the model of the params seen last
 * (one slot keyed on their bytes), so params are parsed once per query
 * unless they change, and params that change per row cost a parse per row
 * but no memory.
 */
Datum
clv_cluster_params(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	KMeansBuild b = {fcinfo, NULL, jb};
	KMeansModel *m;

	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(ClvCacheSlot));
	m = clv_cache_slot_get(fcinfo->flinfo->fn_extra, fcinfo->flinfo->fn_mcxt,
						   jb, VARSIZE(jb), false, kmeans_build_from_params, &b);
	PG_RETURN_INT32(kmeans_assign(m, PG_GETARG_ARRAYTYPE_P(1)));
}
