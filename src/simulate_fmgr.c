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
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "clv.h"
#include "predict.h"
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

/*
 * Reads the params object with the prediction functions' parser, so that
 * the same object means the same model everywhere; the output of clv_fit
 * ({"params": {...}, "std_errors": ...}) is accepted as well.
 */
static void
sim_parse_params(Jsonb *jb, ClvSimParams *out)
{
	ClvModelSpec spec;
	JsonbValue *inner = NULL;

	if (JB_ROOT_IS_OBJECT(jb))
		inner = sim_jsonb_get(&jb->root, "params");
	if (inner != NULL && inner->type == jbvBinary &&
		JsonContainerIsObject(inner->val.binary.data))
		jb = JsonbValueToJsonb(inner);
	clv_spec_from_jsonb(jb, &spec);
	if (spec.tx_model == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params has no transaction model to simulate"),
				 errhint("Give transaction_model (bgnbd, pareto_nbd, mbgnbd, bgbb) with its parameters.")));

	memset(out, 0, sizeof(*out));
	out->process = spec.tx_model->kind;
	memcpy(out->tx, spec.tx_params, sizeof(out->tx));
	out->has_spend = (spec.spend_model != NULL);
	if (out->has_spend)
		memcpy(out->spend, spec.spend_params, sizeof(out->spend));
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
	bool		has_spend;		/* amounts drawn (else NaN, emitted as NULL) */
	bool		timestamps;
	TimestampTz base;			/* acquisition time of this customer */
	double		usecs_per_unit;
} SimSink;

/*
 * Every simulated row passes here, so this is where a non-finite draw is
 * caught: extreme spend parameters (q near 0) can draw a spend rate that
 * underflows to 0, and every amount of that customer would be Infinity.
 */
static void
sim_emit(void *arg, double t, double amount)
{
	SimSink    *sink = (SimSink *) arg;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (!isfinite(t) || (sink->has_spend && !isfinite(amount)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("simulated %s %s of customer " INT64_FORMAT " is out of range",
						isfinite(t) ? "amount" : "purchase time",
						float8out_internal(isfinite(t) ? amount : t),
						sink->customer_id),
				 errhint("The parameters are too extreme to simulate (e.g. Gamma-Gamma q or gamma close to 0).")));

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
	sink.has_spend = params->has_spend;
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
