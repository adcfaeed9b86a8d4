/*-------------------------------------------------------------------------
 *
 * interval_fmgr.c
 *	  clv_predict_interval() and the aggregate clv_predict_interval_total():
 *	  the glue between SQL and the interval math of interval.c.
 *
 * The parameter draws of a (model, options) pair are made once per call
 * site and query and kept in fn_extra, so that every row sees the same
 * draws: intervals are reproducible row by row, and a total summed draw by
 * draw over a group is coherent (the same model uncertainty for everybody).
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
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "clv_json.h"
#include "catalog.h"
#include "interval.h"
#include "options.h"
#include "predict.h"

PG_FUNCTION_INFO_V1(clv_predict_interval_params);
PG_FUNCTION_INFO_V1(clv_predict_interval_by_name);
PG_FUNCTION_INFO_V1(clv_predict_interval_total_trans_params);
PG_FUNCTION_INFO_V1(clv_predict_interval_total_trans_by_name);
PG_FUNCTION_INFO_V1(clv_predict_interval_total_combine);
PG_FUNCTION_INFO_V1(clv_predict_interval_total_final);

#define CLV_INTERVAL_DEFAULT_DRAWS 1000
#define CLV_INTERVAL_MIN_DRAWS 10
#define CLV_INTERVAL_MAX_DRAWS 100000
#define CLV_INTERVAL_DEFAULT_SEED 1
#define CLV_INTERVAL_MAX_SEED 9007199254740992.0	/* 2^53: exact in jsonb */

/* the aggregate's state: a header, then per-draw sums */
#define ST_DRAWS 0
#define ST_LEVEL 1
#define ST_HAS_SPEND 2
#define ST_COUNT 3
#define ST_EP 4					/* sum of the point expected purchases */
#define ST_CLV 5				/* sum of the point CLVs */
#define ST_HEADER 6

/*
 * The elements of a state array (one dimension, no nulls: checked by
 * state_values or made so), without ARR_DATA_PTR's signed/unsigned mix.
 */
#define STATE_DATA(a) ((double *) (((char *) (a)) + ARR_OVERHEAD_NONULLS(1)))

/* The draws of one model under one set of options, and scratch space. */
typedef struct IntervalDraws
{
	ClvModelSpec spec;
	int			n_draws;
	double	   *tx_draws;		/* n_draws x tx nparams */
	double	   *sp_draws;		/* n_draws x spend nparams, or NULL */
	double	   *work;			/* 4 x n_draws */
} IntervalDraws;

/*
 * fn_extra: the draws seen last, in a slot keyed on the bytes of argument
 * 0 and the options (and, for a name, the snapshot).
 */
typedef struct IntervalCache
{
	ClvCacheSlot slot;
	Jsonb	   *empty_options;	/* '{}' for the short aggregate */
} IntervalCache;

/* The options of an interval, parsed. */
typedef struct IntervalOptions
{
	int			n_draws;
	int64		seed;
	JsonbContainer *covariance; /* NULL: the catalog's */
} IntervalOptions;

static const ClvOption interval_options[] = {
	{.key = "n_draws", .type = CLV_OPTION_INT, .min = CLV_INTERVAL_MIN_DRAWS,
		.max = CLV_INTERVAL_MAX_DRAWS, .def = CLV_INTERVAL_DEFAULT_DRAWS,
	.offset = offsetof(IntervalOptions, n_draws)},
	{.key = "seed", .type = CLV_OPTION_INT64, .min = 0, .max = CLV_INTERVAL_MAX_SEED,
		.def = CLV_INTERVAL_DEFAULT_SEED,
	.offset = offsetof(IntervalOptions, seed)},
	{.key = "covariance", .type = CLV_OPTION_OBJECT,
		.hint = "Pass the covariance column of clv_models.",
	.offset = offsetof(IntervalOptions, covariance)},
};

/*
 * The Cholesky factor of one fit's log-scale covariance, from an object
 * {"names": [...], "log_scale": [[...]], ...} whose names are the model's
 * parameters in order.
 */
static void
covariance_factor(JsonbContainer *cov, const char *part, const ClvModelInfo *mi,
				  double *chol)
{
	JsonbValue	pv;
	JsonbValue *names,
			   *ls;
	int			np = mi->nparams;

	if (getKeyJsonValueFromContainer(cov, part, strlen(part), &pv) == NULL ||
		pv.type == jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the covariance has no \"%s\" part for model %s", part, mi->name),
				 errdetail("A fit whose information matrix is singular has no covariance."),
				 errhint("Check the model's std_errors and diagnostics->'flags'; retrain with more data or a penalizer.")));
	if (pv.type != jbvBinary || !JsonContainerIsObject(pv.val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("covariance \"%s\" must be an object, not %s", part,
						clv_jsonb_type_name(&pv))));
	names = getKeyJsonValueFromContainer(pv.val.binary.data, "names", 5, NULL);
	ls = getKeyJsonValueFromContainer(pv.val.binary.data, "log_scale", 9, NULL);
	if (names == NULL || ls == NULL || names->type != jbvBinary || ls->type != jbvBinary ||
		!JsonContainerIsArray(names->val.binary.data) ||
		!JsonContainerIsArray(ls->val.binary.data) ||
		JsonContainerSize(names->val.binary.data) != (uint32) np ||
		JsonContainerSize(ls->val.binary.data) != (uint32) np)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("covariance \"%s\" must have \"names\" and a %d x %d \"log_scale\" for model %s",
						part, np, np, mi->name)));
	for (int i = 0; i < np; i++)
	{
		JsonbValue *n = getIthJsonbValueFromContainer(names->val.binary.data, i);
		JsonbValue *row = getIthJsonbValueFromContainer(ls->val.binary.data, i);

		if (n->type != jbvString || strlen(mi->param_names[i]) != (size_t) n->val.string.len ||
			strncmp(n->val.string.val, mi->param_names[i], n->val.string.len) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("covariance \"%s\" names do not match the parameters of model %s",
							part, mi->name),
					 errdetail("Parameter %d must be \"%s\".", i + 1, mi->param_names[i])));
		if (row->type != jbvBinary || !JsonContainerIsArray(row->val.binary.data) ||
			JsonContainerSize(row->val.binary.data) != (uint32) np)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("row %d of covariance \"%s\" log_scale must be an array of %d numbers",
							i + 1, part, np)));
		for (int j = 0; j < np; j++)
			chol[i * np + j] = clv_jsonb_number(getIthJsonbValueFromContainer(row->val.binary.data, j),
												"a covariance entry");
	}
	if (!clv_interval_cholesky(chol, np))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("covariance \"%s\" of model %s is not symmetric positive definite",
						part, mi->name)));
}

static double *
make_draws(MemoryContext mcxt, ClvIntervalRng *rng, const ClvModelInfo *mi,
		   const double *params, JsonbContainer *cov, const char *part, int n_draws)
{
	double		chol[CLV_MAX_PARAMS * CLV_MAX_PARAMS];
	double	   *out;

	covariance_factor(cov, part, mi, chol);
	out = MemoryContextAlloc(mcxt, mul_size(mul_size(n_draws, mi->nparams), sizeof(double)));
	if (!clv_interval_draw(rng, params, chol, mi->nparams, n_draws, out))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("a draw of the %s parameters is beyond the range of float8", mi->name),
				 errhint("The covariance is too wide to draw from; check the model's std_errors.")));
	return out;
}

/* What a build of the draws needs. */
typedef struct DrawsBuild
{
	FunctionCallInfo fcinfo;
	bool		by_name;
	struct varlena *a0;			/* argument 0: params or name */
	Jsonb	   *options;
} DrawsBuild;

/*
 * Parses the options and the model (from the catalog for a name, with its
 * stored covariance) and makes the draws, in cxt.
 */
static void *
build_draws(void *arg, MemoryContext cxt)
{
	DrawsBuild *b = arg;
	IntervalDraws *dr = MemoryContextAllocZero(cxt, sizeof(IntervalDraws));
	IntervalOptions opt;
	Jsonb	   *catalog_cov = NULL;
	JsonbContainer *cov;
	ClvIntervalRng rng;

	clv_parse_options(b->options, interval_options, lengthof(interval_options), &opt);
	if (b->by_name)
	{
		char	   *name = text_to_cstring((text *) b->a0);

		if (clv_name_is_json(name))
			clv_spec_from_jsonb(DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																   CStringGetDatum(name))),
								&dr->spec);
		else
			clv_spec_from_jsonb(clv_catalog_newest_params_covariance(b->fcinfo, name, "btyd",
																	 &catalog_cov),
								&dr->spec);
	}
	else
		clv_spec_from_jsonb((Jsonb *) PG_DETOAST_DATUM(PointerGetDatum(b->a0)), &dr->spec);
	if (dr->spec.tx_model == NULL)
	{
		char		names[CLV_NAME_LIST_LEN];

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model has no transaction model"),
				 errhint("clv_predict_interval needs one of %s.",
						 clv_model_names(false, names, sizeof(names)))));
	}
	cov = opt.covariance ? opt.covariance : catalog_cov ? &catalog_cov->root : NULL;
	if (cov == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no covariance for the model's parameters"),
				 b->by_name ?
				 errdetail("The model was stored without a covariance.") :
				 errdetail("Inline params carry no covariance."),
				 errhint("Pass options {\"covariance\": ...} with the covariance column of clv_models, or use the model's name.")));

	clv_interval_rng_seed(&rng, (uint64) opt.seed);
	dr->tx_draws = make_draws(cxt, &rng, dr->spec.tx_model, dr->spec.tx_params, cov,
							  "transaction", opt.n_draws);
	if (dr->spec.spend_model)
		dr->sp_draws = make_draws(cxt, &rng, dr->spec.spend_model, dr->spec.spend_params,
								  cov, "spend", opt.n_draws);
	dr->work = MemoryContextAlloc(cxt, mul_size(mul_size(4, opt.n_draws), sizeof(double)));
	dr->n_draws = opt.n_draws;
	return dr;
}

/* The cache in fn_extra, made on first use. */
static IntervalCache *
interval_cache(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(IntervalCache));
	return fcinfo->flinfo->fn_extra;
}

/*
 * The draws for argument 0 (params or name) and the options, from the
 * cache when the same pair (and, for a name, the same snapshot) was seen
 * last; made afresh otherwise.  One slot: a model that changes per row
 * draws again per row (documented).
 */
static IntervalDraws *
interval_model(FunctionCallInfo fcinfo, bool by_name, Jsonb *options)
{
	IntervalCache *c = interval_cache(fcinfo);
	DrawsBuild	b = {fcinfo, by_name, PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0)), options};
	Size		l0 = VARSIZE_ANY(b.a0),
				lo = VARSIZE(options);
	char	   *key = palloc(add_size(l0, lo));
	IntervalDraws *dr;

	memcpy(key, b.a0, l0);
	memcpy(key + l0, options, lo);
	dr = clv_cache_slot_get(&c->slot, fcinfo->flinfo->fn_mcxt, key, l0 + lo, by_name,
							build_draws, &b);
	pfree(key);
	return dr;
}

static double
level_arg(FunctionCallInfo fcinfo, int i)
{
	double		level = PG_GETARG_FLOAT8(i);

	if (!(level > 0 && level < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("level must be between 0 and 1 (exclusive), not %g", level),
				 errhint("For a 90%% interval, pass 0.9.")));
	return level;
}

/*
 * The point predictions of the row (validated as clv_predict) and its
 * predictions under every draw, in c->work: ep, pa, es, clv, n_draws
 * each.  False for a row with a NULL argument (the result is NULL).
 */
static bool
interval_row(FunctionCallInfo fcinfo, bool by_name, IntervalDraws **cp,
			 double *point, double *level)
{
	IntervalDraws *c;
	ClvIntervalCustomer cu;
	const ClvModelInfo *tx;
	int			bad;
	int			n;

	for (int i = 0; i < 10; i++)
		if (i != 4 && PG_ARGISNULL(i))
			return false;
	*level = level_arg(fcinfo, 8);
	c = interval_model(fcinfo, by_name, PG_GETARG_JSONB_P(9));
	if (!clv_spec_predict_values(fcinfo, &c->spec, point))
		return false;
	tx = c->spec.tx_model;
	n = c->n_draws;
	cu.x = PG_GETARG_FLOAT8(1);
	cu.tx = PG_GETARG_FLOAT8(2);
	cu.T = PG_GETARG_FLOAT8(3);
	cu.m_known = !PG_ARGISNULL(4) && cu.x > 0;
	cu.m = cu.m_known ? PG_GETARG_FLOAT8(4) : 0;
	cu.horizon = PG_GETARG_FLOAT8(5);
	cu.rate = PG_GETARG_FLOAT8(6);
	cu.margin = PG_GETARG_FLOAT8(7);
	bad = clv_interval_predict(tx->kind, c->tx_draws, tx->nparams, c->sp_draws,
							   c->spec.spend_model ? c->spec.spend_model->nparams : 0,
							   n, &cu, c->work, c->work + n, c->work + 2 * n,
							   c->work + 3 * n);
	if (bad >= 0)
	{
		StringInfoData d;

		initStringInfo(&d);
		for (int i = 0; i < tx->nparams; i++)
			appendStringInfo(&d, "%s%s = %g", i ? ", " : "", tx->param_names[i],
							 c->tx_draws[bad * tx->nparams + i]);
		for (int i = 0; c->sp_draws && i < c->spec.spend_model->nparams; i++)
			appendStringInfo(&d, ", %s = %g", c->spec.spend_model->param_names[i],
							 c->sp_draws[bad * c->spec.spend_model->nparams + i]);
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("could not compute the prediction under draw %d of the %s parameters for frequency %g, recency %g, t %g, horizon %g",
						bad + 1, tx->name, cu.x, cu.tx, cu.T, cu.horizon),
				 errdetail("The draw is %s.", d.data),
				 errhint("The estimates are uncertain enough that some draws are extreme (e.g. a or q near 1); check the model's std_errors.")));
	}
	*cp = c;
	return true;
}

static Datum
predict_interval(FunctionCallInfo fcinfo, bool by_name)
{
	IntervalDraws *c;
	double		point[4],
				level;
	TupleDesc	desc;
	Datum		values[12];
	bool		nulls[12];

	if (!interval_row(fcinfo, by_name, &c, point, &level))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "clv_predict_interval must return a composite type");
	desc = BlessTupleDesc(desc);
	for (int q = 0; q < 4; q++)
	{
		double		lo,
					hi;
		bool		null = q >= 2 && c->spec.spend_model == NULL;

		if (!null)
			clv_interval_bounds(c->work + q * c->n_draws, c->n_draws, level, &lo, &hi);
		else
			lo = hi = 0;
		values[3 * q] = Float8GetDatum(point[q]);
		values[3 * q + 1] = Float8GetDatum(lo);
		values[3 * q + 2] = Float8GetDatum(hi);
		nulls[3 * q] = nulls[3 * q + 1] = nulls[3 * q + 2] = null;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

Datum
clv_predict_interval_params(PG_FUNCTION_ARGS)
{
	return predict_interval(fcinfo, false);
}

Datum
clv_predict_interval_by_name(PG_FUNCTION_ARGS)
{
	return predict_interval(fcinfo, true);
}

/*
 * The state array, checked: a header, then n_draws sums of expected
 * purchases and n_draws of CLV.  The support functions can be called
 * directly, so anything else is 22023, not a crash.
 */
static double *
state_values(ArrayType *a, int *n_draws)
{
	double	   *v;
	int			n;

	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != FLOAT8OID ||
		ARR_DIMS(a)[0] < ST_HEADER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a clv_predict_interval_total state")));
	v = STATE_DATA(a);
	n = ARR_DIMS(a)[0];
	if (!(v[ST_DRAWS] >= CLV_INTERVAL_MIN_DRAWS && v[ST_DRAWS] <= CLV_INTERVAL_MAX_DRAWS) ||
		v[ST_DRAWS] != floor(v[ST_DRAWS]) || n != ST_HEADER + 2 * (int) v[ST_DRAWS] ||
		!(v[ST_LEVEL] > 0 && v[ST_LEVEL] < 1) || !(v[ST_COUNT] >= 1) ||
		(v[ST_HAS_SPEND] != 0 && v[ST_HAS_SPEND] != 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a clv_predict_interval_total state")));
	for (int i = 0; i < n; i++)
		if (!isfinite(v[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("not a clv_predict_interval_total state"),
					 errdetail("Element %d is %g.", i + 1, v[i])));
	*n_draws = (int) v[ST_DRAWS];
	return v;
}

/* 22003 once a running sum leaves the range of float8. */
static void
check_sums(const double *v, int n)
{
	for (int i = ST_COUNT; i < ST_HEADER + 2 * n; i++)
		if (!isfinite(v[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the total over %.0f customers is beyond the range of float8",
							v[ST_COUNT])));
}

static void
state_match(const double *a, const double *b)
{
	if (a[ST_DRAWS] != b[ST_DRAWS] || a[ST_LEVEL] != b[ST_LEVEL] ||
		a[ST_HAS_SPEND] != b[ST_HAS_SPEND])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clv_predict_interval_total needs the same model, level and n_draws on every row"),
				 errdetail("Rows with n_draws %g, level %g and with n_draws %g, level %g.",
						   a[ST_DRAWS], a[ST_LEVEL], b[ST_DRAWS], b[ST_LEVEL])));
}

/*
 * Transition: arguments 1.. are those of clv_predict_interval (the short
 * form lacks discount_rate, margin, level, options: their defaults).  The
 * state, made in the aggregate's context at the first row, is updated in
 * place, as float8_accum does.
 */
static Datum
total_trans(FunctionCallInfo fcinfo, bool by_name)
{
	MemoryContext aggcxt;
	ArrayType  *state = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	LOCAL_FCINFO(sub, 10);
	IntervalDraws *c;
	double		point[4],
				level;
	double	   *v;
	int			n;
	int			nargs = PG_NARGS() - 1;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("clv_predict_interval_total's transition function called outside an aggregate")));
	if (nargs != 6 && nargs != 10)
		elog(ERROR, "clv_predict_interval_total: unexpected number of arguments %d", nargs);
	InitFunctionCallInfoData(*sub, fcinfo->flinfo, 10, fcinfo->fncollation, NULL, NULL);
	for (int i = 0; i < nargs; i++)
		sub->args[i] = fcinfo->args[i + 1];
	if (nargs == 6)
	{
		IntervalCache *cache = interval_cache(fcinfo);

		if (cache->empty_options == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

			cache->empty_options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																	  CStringGetDatum("{}")));
			MemoryContextSwitchTo(old);
		}
		sub->args[6].value = Float8GetDatum(0.0);
		sub->args[7].value = Float8GetDatum(1.0);
		sub->args[8].value = Float8GetDatum(0.9);
		sub->args[9].value = JsonbPGetDatum(cache->empty_options);
		for (int i = 6; i < 10; i++)
			sub->args[i].isnull = false;
	}
	if (!interval_row(sub, by_name, &c, point, &level))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_ARRAYTYPE_P(state);
	}
	n = c->n_draws;
	if (state == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);
		Size		len = add_size(ST_HEADER, mul_size(2, n));
		Datum	   *zeros = palloc0(mul_size(len, sizeof(Datum)));

		for (Size i = 0; i < len; i++)
			zeros[i] = Float8GetDatum(0.0);
		state = construct_array(zeros, (int) len, FLOAT8OID, sizeof(float8),
								FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
		pfree(zeros);
		MemoryContextSwitchTo(old);
		v = STATE_DATA(state);
		v[ST_DRAWS] = n;
		v[ST_LEVEL] = level;
		v[ST_HAS_SPEND] = c->spec.spend_model != NULL;
	}
	else
	{
		double		h[ST_HEADER];
		int			sn;

		v = state_values(state, &sn);
		h[ST_DRAWS] = n;
		h[ST_LEVEL] = level;
		h[ST_HAS_SPEND] = c->spec.spend_model != NULL;
		state_match(v, h);
	}
	v[ST_COUNT] += 1;
	v[ST_EP] += point[0];
	for (int d = 0; d < n; d++)
		v[ST_HEADER + d] += c->work[d];
	if (c->spec.spend_model)
	{
		v[ST_CLV] += point[3];
		for (int d = 0; d < n; d++)
			v[ST_HEADER + n + d] += c->work[3 * n + d];
	}
	check_sums(v, n);
	PG_RETURN_ARRAYTYPE_P(state);
}

Datum
clv_predict_interval_total_trans_params(PG_FUNCTION_ARGS)
{
	return total_trans(fcinfo, false);
}

Datum
clv_predict_interval_total_trans_by_name(PG_FUNCTION_ARGS)
{
	return total_trans(fcinfo, true);
}

/* Combines two partial states (parallel workers, Citus): sums add up. */
Datum
clv_predict_interval_total_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	double	   *va,
			   *vb;
	int			na,
				nb;

	va = state_values(a, &na);
	vb = state_values(b, &nb);
	state_match(va, vb);
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		a = DatumGetArrayTypePCopy(PointerGetDatum(a));
		va = STATE_DATA(a);
	}
	for (int i = ST_COUNT; i < ST_HEADER + 2 * na; i++)
		if (i != ST_LEVEL && i != ST_HAS_SPEND)
			va[i] += vb[i];
	check_sums(va, na);
	PG_RETURN_ARRAYTYPE_P(a);
}

/*
 * The total and the mean over the group of expected purchases and CLV,
 * with the quantiles of the per-draw totals (the state is left as it is).
 */
Datum
clv_predict_interval_total_final(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	double	   *v;
	double	   *work;
	int			n;
	double		count;
	TupleDesc	desc;
	Datum		values[13];
	bool		nulls[13];

	v = state_values(a, &n);
	count = v[ST_COUNT];
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "clv_predict_interval_total must return a composite type");
	desc = BlessTupleDesc(desc);
	work = palloc(mul_size(n, sizeof(double)));
	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum((int64) count);
	for (int q = 0; q < 2; q++)
	{
		double		lo,
					hi,
					tot = v[q == 0 ? ST_EP : ST_CLV];
		bool		null = q == 1 && v[ST_HAS_SPEND] == 0;

		memcpy(work, v + ST_HEADER + q * n, n * sizeof(double));
		clv_interval_bounds(work, n, v[ST_LEVEL], &lo, &hi);
		if (!null && !(isfinite(tot) && isfinite(lo) && isfinite(hi)))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the total %s of %.0f customers is beyond the range of float8",
							q == 0 ? "expected purchases" : "clv", count)));
		values[1 + 3 * q] = Float8GetDatum(tot);
		values[2 + 3 * q] = Float8GetDatum(lo);
		values[3 + 3 * q] = Float8GetDatum(hi);
		values[7 + 3 * q] = Float8GetDatum(tot / count);
		values[8 + 3 * q] = Float8GetDatum(lo / count);
		values[9 + 3 * q] = Float8GetDatum(hi / count);
		for (int k = 0; k < 3; k++)
			nulls[1 + 3 * q + k] = nulls[7 + 3 * q + k] = null;
	}
	pfree(work);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
