/*-------------------------------------------------------------------------
 *
 * simulate_fmgr.c
 *	  SQL glue for clv_simulate and clv_simulate_transactions: parses the
 *	  self-describing params jsonb, validates the arguments and streams the
 *	  simulated purchases into a tuplestore.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <gsl/gsl_rng.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "clv.h"
#include "simulate.h"

PG_FUNCTION_INFO_V1(clv_simulate);
PG_FUNCTION_INFO_V1(clv_simulate_transactions);

/* Looks up key in a jsonb object; NULL when absent or JSON null. */
static JsonbValue *
sim_jsonb_get(JsonbContainer *obj, const char *key)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(obj, JB_FOBJECT, &k);
	if (v != NULL && v->type == jbvNull)
		return NULL;
	return v;
}

static char *
sim_jsonb_text(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = sim_jsonb_get(obj, key);

	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params key \"%s\" must be a string", key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * A model parameter must be a finite positive number: the Gamma and Beta
 * mixing distributions are undefined otherwise.
 */
static double
sim_jsonb_param(JsonbContainer *obj, const char *model, const char *key)
{
	JsonbValue *v = sim_jsonb_get(obj, key);
	double		d;

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params of a %s model lack \"%s\"", model, key)));
	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params key \"%s\" must be a number", key)));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(v->val.numeric)));
	if (!(d > 0.0) || isinf(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s parameter %s = %g must be positive and finite", model, key, d)));
	return d;
}

static bool
sim_has(JsonbContainer *obj, const char *key)
{
	return sim_jsonb_get(obj, key) != NULL;
}

/*
 * Reads the params object the way the prediction functions do: an explicit
 * "transaction_model", or the model inferred from the keys.  The output of
 * clv_fit ({"params": {...}, ...}) is accepted as well.
 */
static void
sim_parse_params(Jsonb *jb, ClvSimParams *out)
{
	JsonbContainer *obj = &jb->root;
	JsonbValue *inner;
	char	   *model;
	char	   *spend;
	int			i;

	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a jsonb object")));
	inner = sim_jsonb_get(obj, "params");
	if (inner != NULL && inner->type == jbvBinary &&
		JsonContainerIsObject(inner->val.binary.data))
		obj = inner->val.binary.data;

	memset(out, 0, sizeof(*out));
	model = sim_jsonb_text(obj, "transaction_model");
	if (model == NULL)
	{
		if (sim_has(obj, "s") && sim_has(obj, "beta"))
			model = "pareto_nbd";
		else if (sim_has(obj, "r") && sim_has(obj, "a") && sim_has(obj, "b"))
			model = "bgnbd";
		else if (!sim_has(obj, "r") && sim_has(obj, "alpha") && sim_has(obj, "beta") &&
				 sim_has(obj, "gamma") && sim_has(obj, "delta"))
			model = "bgbb";
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot tell the transaction model from the params keys"),
					 errhint("Add \"transaction_model\": one of bgnbd, mbgnbd, pareto_nbd, bgbb.")));
	}
	for (i = 0; i <= CLV_SIM_BGBB; i++)
	{
		if (strcmp(model, clv_sim_process_name((ClvSimProcess) i)) == 0)
			break;
	}
	if (i > CLV_SIM_BGBB)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown transaction model \"%s\"", model),
				 errhint("Valid transaction models are: bgnbd, mbgnbd, pareto_nbd, bgbb.")));
	out->process = (ClvSimProcess) i;
	for (i = 0; i < 4; i++)
		out->tx[i] = sim_jsonb_param(obj, model, clv_sim_param_name(out->process, i));

	spend = sim_jsonb_text(obj, "spend_model");
	if (spend == NULL && out->process != CLV_SIM_BGBB &&
		sim_has(obj, "p") && sim_has(obj, "q") && sim_has(obj, "gamma"))
		spend = "gamma_gamma";
	if (spend != NULL)
	{
		if (strcmp(spend, "gamma_gamma") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown spend model \"%s\"", spend),
					 errhint("The only spend model is gamma_gamma.")));
		if (out->process == CLV_SIM_BGBB)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a bgbb model has no spend model")));
		out->has_spend = true;
		out->spend[0] = sim_jsonb_param(obj, spend, "p");
		out->spend[1] = sim_jsonb_param(obj, spend, "q");
		out->spend[2] = sim_jsonb_param(obj, spend, "gamma");
	}
}

static void
sim_check_common(int32 n_customers, double horizon)
{
	if (n_customers < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_customers = %d must not be negative", n_customers)));
	if (!(horizon > 0.0) || isinf(horizon))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon = %g must be positive and finite", horizon)));
}

/* Where the emit callback puts rows: the tuplestore plus per-customer state. */
typedef struct SimSink
{
	Tuplestorestate *store;
	TupleDesc	desc;
	int64		customer_id;
	bool		timestamps;
	TimestampTz base;			/* acquisition time of this customer */
	double		usecs_per_unit;
} SimSink;

static void
sim_emit(void *arg, double t, double amount)
{
	SimSink    *sink = (SimSink *) arg;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = Int64GetDatum(sink->customer_id);
	if (sink->timestamps)
		values[1] = TimestampTzGetDatum(sink->base +
										(TimestampTz) llround(t * sink->usecs_per_unit));
	else
		values[1] = Float8GetDatum(t);
	if (isnan(amount))
		nulls[2] = true;
	else
		values[2] = Float8GetDatum(amount);
	tuplestore_putvalues(sink->store, sink->desc, values, nulls);
}

/*
 * Shared driver: one GSL generator for the whole call (freed on error or
 * cancel), customers 1..n.  With timestamps, each customer's acquisition is
 * spread uniformly over acquisition_days after start and observed until
 * start + horizon time units.
 */
static void
sim_run(FunctionCallInfo fcinfo, const ClvSimParams *params, int32 n_customers,
		double horizon, int32 seed, bool timestamps, TimestampTz start,
		double acquisition_days, double unit_days)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SimSink		sink;
	gsl_rng    *volatile rng;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	sink.store = rsinfo->setResult;
	sink.desc = rsinfo->setDesc;
	sink.timestamps = timestamps;
	sink.usecs_per_unit = unit_days * USECS_PER_DAY;
	sink.base = start;

	rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (rng == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory allocating the random number generator")));
	gsl_rng_set(rng, (unsigned long) (uint32) seed);

	PG_TRY();
	{
		for (int32 i = 1; i <= n_customers; i++)
		{
			double		T = horizon;

			CHECK_FOR_INTERRUPTS();
			sink.customer_id = i;
			if (timestamps)
			{
				double		birth_days = acquisition_days * gsl_rng_uniform(rng);

				sink.base = start + (TimestampTz) llround(birth_days * USECS_PER_DAY);
				T = horizon - birth_days / unit_days;
			}
			clv_sim_customer(rng, params, T, sim_emit, &sink);
		}
	}
	PG_FINALLY();
	{
		gsl_rng_free(rng);
	}
	PG_END_TRY();
}

/*
 * clv_simulate(params jsonb, n_customers int, horizon float8, seed int)
 *	  Every customer acquired at time 0 and observed for horizon time units;
 *	  purchased_at in time units since acquisition.
 */
Datum
clv_simulate(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	int32		n_customers = PG_GETARG_INT32(1);
	double		horizon = PG_GETARG_FLOAT8(2);
	int32		seed = PG_GETARG_INT32(3);
	ClvSimParams params;

	sim_parse_params(jb, &params);
	sim_check_common(n_customers, horizon);
	sim_run(fcinfo, &params, n_customers, horizon, seed, false, 0, 0.0, 1.0);
	return (Datum) 0;
}

/*
 * clv_simulate_transactions(params jsonb, n_customers int, start timestamptz,
 *		acquisition_days float8, horizon float8, time_unit text, seed int)
 *	  Real timestamps, so that the output feeds clv_summary directly.
 */
Datum
clv_simulate_transactions(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	int32		n_customers = PG_GETARG_INT32(1);
	TimestampTz start = PG_GETARG_TIMESTAMPTZ(2);
	double		acquisition_days = PG_GETARG_FLOAT8(3);
	double		horizon = PG_GETARG_FLOAT8(4);
	char	   *unit_name = text_to_cstring(PG_GETARG_TEXT_PP(5));
	int32		seed = PG_GETARG_INT32(6);
	double		unit_days = clv_time_unit_days(clv_parse_time_unit(unit_name));
	ClvSimParams params;
	double		end_usecs;

	sim_parse_params(jb, &params);
	sim_check_common(n_customers, horizon);
	if (TIMESTAMP_NOT_FINITE(start))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start must be a finite timestamp")));
	if (!(acquisition_days >= 0.0) || !(acquisition_days < horizon * unit_days))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("acquisition_days = %g must be at least 0 and shorter than the horizon (%g days)",
						acquisition_days, horizon * unit_days)));
	end_usecs = (double) start + horizon * unit_days * USECS_PER_DAY;
	if (!(end_usecs < (double) END_TIMESTAMP))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("start + horizon is out of the timestamp range")));
	sim_run(fcinfo, &params, n_customers, horizon, seed, true, start,
			acquisition_days, unit_days);
	return (Datum) 0;
}
