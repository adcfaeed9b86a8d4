/*-------------------------------------------------------------------------
 *
 * kmeans_fmgr.c
 *	  SQL interface of the K-Means segmentation: reading features through
 *	  SPI, options, the model catalog, progress NOTICEs and scoring.  The
 *	  math is in kmeans.c.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
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
#include "kmeans.h"
#include "name_cache.h"
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

static const char *const kmeans_scaling_names[] = {
	[KMEANS_SCALE_NONE] = "none",
	[KMEANS_SCALE_ZSCORE] = "zscore",
	[KMEANS_SCALE_LOG_ZSCORE] = "log_zscore",
};

static KMeansScaling
kmeans_parse_scaling(const char *s)
{
	for (int i = 0; i < (int) lengthof(kmeans_scaling_names); i++)
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

/* A jsonb number as a double (NaN and infinities cannot occur in jsonb). */
static double
jbv_double(JsonbValue *v)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8,
											  NumericGetDatum(v->val.numeric)));
}

static const char *
jbv_type_name(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		default:
			return "an array or object";
	}
}

/* An integer option within [lo, hi]; the message names option and value. */
static int64
option_int(const char *key, JsonbValue *v, int64 lo, int64 hi)
{
	double		d;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be an integer, not %s", key, jbv_type_name(v))));
	d = jbv_double(v);
	if (d != floor(d) || d < (double) lo || d > (double) hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" = %g is invalid", key, d),
				 errhint("\"%s\" must be an integer from " INT64_FORMAT " to " INT64_FORMAT ".",
						 key, lo, hi)));
	return (int64) d;
}

/*
 * Options are a flat jsonb object; an unknown key is an error (a typo would
 * otherwise silently train with a default).
 */
static void
kmeans_parse_options(Jsonb *jb, bool scan, KMeansOptions *o)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	o->n_init = 10;
	o->max_iter = 300;
	o->tol = 1e-4;
	o->seed = 0;
	o->scaling = KMEANS_SCALE_ZSCORE;
	o->verbose = false;
	o->sample_size = 10000;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a jsonb object")));

	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (strcmp(key, "n_init") == 0)
			o->n_init = (int) option_int(key, &v, 1, 1000);
		else if (strcmp(key, "max_iter") == 0)
			o->max_iter = (int) option_int(key, &v, 1, 100000);
		else if (strcmp(key, "seed") == 0)
			o->seed = option_int(key, &v, 0, PG_UINT32_MAX);
		else if (scan && strcmp(key, "sample_size") == 0)
			o->sample_size = option_int(key, &v, 2, 100000);
		else if (strcmp(key, "tol") == 0)
		{
			if (v.type != jbvNumeric || jbv_double(&v) < 0.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"tol\" must be a number >= 0")));
			o->tol = jbv_double(&v);
		}
		else if (strcmp(key, "scaling") == 0)
		{
			if (v.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"scaling\" must be a string, not %s", jbv_type_name(&v)),
						 errhint("Valid scalings are: %s.", KMEANS_VALID_SCALINGS)));
			o->scaling = kmeans_parse_scaling(pnstrdup(v.val.string.val,
													   v.val.string.len));
		}
		else if (strcmp(key, "verbose") == 0)
		{
			if (v.type != jbvBool)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"verbose\" must be a boolean, not %s", jbv_type_name(&v))));
			o->verbose = v.val.boolean;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown option \"%s\"", key),
					 errhint("Valid options are: n_init, max_iter, tol, seed, scaling, verbose%s.",
							 scan ? ", sample_size" : "")));
	}
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

	switch (kmeans_scale(method, data->x, data->n, data->d, center, scale, &bad))
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
	if (kmeans_fit(data->x, data->n, data->d, &p, fit) == KMEANS_TOO_FEW_DISTINCT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k = %d exceeds the number of distinct points", k),
				 errhint("Choose a smaller k.")));
}

/* JSON output helpers: shortest round-trip doubles. */
static void
json_double(StringInfo buf, double v)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

	Assert(isfinite(v));
	double_to_shortest_decimal_buf(v, tmp);
	appendStringInfoString(buf, tmp);
}

static void
json_doubles(StringInfo buf, const double *v, int n)
{
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoString(buf, ", ");
		json_double(buf, v[i]);
	}
	appendStringInfoChar(buf, ']');
}

/*
 * Trains a K-Means segmentation and stores it as the next version of name
 * in clv_models (kind 'kmeans'); returns the stored row.  params holds
 * everything needed to score a customer without the training data.
 */
Datum
clv_kmeans_train(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	char	   *source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			k = PG_GETARG_INT32(3);
	Jsonb	   *opts = PG_GETARG_JSONB_P(4);
	KMeansOptions o;
	KMeansData	data;
	KMeansFit	fit;
	double	   *center,
			   *scale,
			   *orig;
	StringInfoData params,
				options,
				diag;
	static const char *const columns[7] = {"params", "n_customers",
		"converged", "iterations", "source", "options", "diagnostics"};
	MemoryContext fncxt = CurrentMemoryContext;
	MemoryContext spicxt;
	Datum		args[7];
	Oid			argtypes[7] = {JSONBOID, INT8OID, BOOLOID, INT4OID, TEXTOID,
		JSONBOID, JSONBOID};
	Datum		result;
	int			d;

	clv_catalog_check_trainable(fcinfo, text_to_cstring(name), "kmeans");
	data.features = clv_feature_names(PG_GETARG_ARRAYTYPE_P(2), KMEANS_MAX_FEATURES, &data.d);
	d = data.d;
	kmeans_parse_options(opts, false, &o);
	kmeans_check_k_range(k);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	kmeans_read(source, &data);
	kmeans_check_k(k, data.n);
	center = palloc(sizeof(double) * d);
	scale = palloc(sizeof(double) * d);
	kmeans_scale_or_error(&data, o.scaling, center, scale);
	kmeans_fit_or_error(&data, k, &o, false, &fit);

	orig = palloc(sizeof(double) * k * d);
	for (int c = 0; c < k; c++)
		for (int j = 0; j < d; j++)
			orig[c * d + j] = kmeans_unscale_value(o.scaling, fit.centroids[c * d + j],
												   center[j], scale[j]);

	initStringInfo(&params);
	appendStringInfo(&params, "{\"k\": %d, \"features\": [", k);
	for (int j = 0; j < d; j++)
	{
		if (j)
			appendStringInfoString(&params, ", ");
		escape_json(&params, data.features[j]);
	}
	appendStringInfo(&params, "], \"scaling\": {\"method\": \"%s\", \"center\": ",
					 kmeans_scaling_names[o.scaling]);
	json_doubles(&params, center, d);
	appendStringInfoString(&params, ", \"scale\": ");
	json_doubles(&params, scale, d);
	appendStringInfoString(&params, "}, \"centroids\": [");
	for (int c = 0; c < k; c++)
	{
		if (c)
			appendStringInfoString(&params, ", ");
		json_doubles(&params, orig + c * d, d);
	}
	appendStringInfoString(&params, "], \"centroids_scaled\": [");
	for (int c = 0; c < k; c++)
	{
		if (c)
			appendStringInfoString(&params, ", ");
		json_doubles(&params, fit.centroids + c * d, d);
	}
	appendStringInfoString(&params, "], \"sizes\": [");
	for (int c = 0; c < k; c++)
		appendStringInfo(&params, "%s" INT64_FORMAT, c ? ", " : "", fit.sizes[c]);
	appendStringInfoString(&params, "], \"inertia\": ");
	json_double(&params, fit.inertia);
	appendStringInfoChar(&params, '}');

	initStringInfo(&options);
	appendStringInfo(&options,
					 "{\"n_init\": %d, \"max_iter\": %d, \"tol\": ",
					 o.n_init, o.max_iter);
	json_double(&options, o.tol);
	appendStringInfo(&options, ", \"seed\": " INT64_FORMAT ", \"scaling\": \"%s\"}",
					 o.seed, kmeans_scaling_names[o.scaling]);

	initStringInfo(&diag);
	appendStringInfo(&diag, "{\"best_restart\": %d, \"skipped_null_rows\": " INT64_FORMAT
					 ", \"restart_inertia\": ", fit.best_restart, data.skipped_null);
	json_doubles(&diag, fit.restart_inertia, o.n_init);
	appendStringInfoString(&diag, ", \"restart_iterations\": [");
	for (int r = 0; r < o.n_init; r++)
		appendStringInfo(&diag, "%s%d", r ? ", " : "", fit.restart_iterations[r]);
	appendStringInfoString(&diag, "]}");

	args[0] = DirectFunctionCall1(jsonb_in, CStringGetDatum(params.data));
	args[1] = Int64GetDatum(data.n);
	args[2] = BoolGetDatum(fit.converged);
	args[3] = Int32GetDatum(fit.iterations);
	args[4] = CStringGetTextDatum(source);
	args[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(options.data));
	args[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(diag.data));
	/* the stored row must outlive this SPI connection */
	spicxt = MemoryContextSwitchTo(fncxt);
	result = clv_catalog_store(fcinfo, text_to_cstring(name), "kmeans", 7,
							   columns, argtypes, args, "       ");
	MemoryContextSwitchTo(spicxt);
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
		sample = kmeans_sample_indices(data.n, m, (uint64) o.seed);
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
			values[2] = Float8GetDatum(kmeans_silhouette(sample ? sx : data.x, m,
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

/* clv_cluster(name, ...): fn_extra is a name cache of these. */
typedef struct KMeansNamedModel
{
	ClvNameCacheKey key;		/* the model name */
	KMeansModel *model;
	ClvSnapshotKey seen;		/* the snapshot the model was read in */
	MemoryContext cxt;			/* holds the model; reset on a reread */
} KMeansNamedModel;

/*
 * clv_cluster(params, ...): fn_extra holds the model of the params seen
 * last, in a context of its own that is reset when the params change, so
 * params that change per row cost a parse per row but no memory.
 */
typedef struct KMeansParamsCache
{
	MemoryContext cxt;
	Jsonb	   *params;			/* copy in cxt, or NULL */
	KMeansModel *model;
} KMeansParamsCache;

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
		out[i] = jbv_double(e);
	}
}

/* Parses params (in fn_mcxt) into a scoring model. */
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

/*
 * The newest version of a K-Means model, read once per query and name:
 * the cache lives in fn_extra, so a newly trained version serves the next
 * query; it is a hash table, so a name taken from a column costs one
 * catalog read per distinct name, not one per row.
 */
static KMeansModel *
kmeans_model_by_name(FunctionCallInfo fcinfo, const char *name)
{
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	HTAB	   *cache = fcinfo->flinfo->fn_extra;
	KMeansNamedModel *entry;
	ClvSnapshotKey now;
	MemoryContext cxt;
	KMeansModel *m;
	Jsonb	   *jb;

	if (cache == NULL)
	{
		cache = clv_name_cache_create(mcxt, "clv K-Means models",
									  sizeof(KMeansNamedModel));
		fcinfo->flinfo->fn_extra = cache;
	}
	clv_snapshot_key(&now);
	entry = clv_name_cache_find(cache, name);
	if (entry != NULL && memcmp(&entry->seen, &now, sizeof(now)) == 0)
		return entry->model;

	/*
	 * Build the model in a context of its own before touching the entry, so
	 * that an error leaves no half-made entry; a reread frees the old one.
	 */
	jb = clv_catalog_newest_params(fcinfo, name, "kmeans");
	cxt = AllocSetContextCreate(mcxt, "clv K-Means model", ALLOCSET_SMALL_SIZES);
	m = kmeans_model_from_params(jb, cxt);
	if (entry == NULL)
		entry = clv_name_cache_insert(cache, mcxt, name);
	else
		MemoryContextDelete(entry->cxt);
	entry->cxt = cxt;
	entry->model = m;
	entry->seen = now;
	return m;
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
		p[j] = kmeans_scale_value(m->scaling, v, m->center[j], m->scale[j]);
	}
	n = kmeans_nearest(m->centroids, m->k, m->d, p);
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
 * or shipped elsewhere; params are parsed once per query unless they change.
 */
Datum
clv_cluster_params(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	KMeansParamsCache *c = fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(KMeansParamsCache));
		c->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "clv K-Means params",
									   ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = c;
	}
	if (c->params == NULL || VARSIZE(c->params) != VARSIZE(jb) ||
		memcmp(c->params, jb, VARSIZE(jb)) != 0)
	{
		MemoryContextReset(c->cxt);
		c->params = NULL;
		c->model = kmeans_model_from_params(jb, c->cxt);
		c->params = MemoryContextAlloc(c->cxt, VARSIZE(jb));
		memcpy(c->params, jb, VARSIZE(jb));
	}
	PG_RETURN_INT32(kmeans_assign(c->model, PG_GETARG_ARRAYTYPE_P(1)));
}
