/*-------------------------------------------------------------------------
 *
 * simulate_fmgr.c
 *	  SQL glue for clv_simulate and clv_simulate_transactions: parses the
 *	  self-describing params jsonb, validates the arguments and returns the
 *	  simulated purchases a row per call (ValuePerCall), drawn as they are
 *	  asked for.  In FROM, PostgreSQL would still collect every row of a C
 *	  set-returning function into a tuplestore before the first reaches a
 *	  LIMIT; the SQL-language clv_simulate and clv_simulate_transactions
 *	  (sql/ext/50_simulate.sql) are inlined into the query and call these in
 *	  a select list, where rows are pulled one at a time.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
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
	{
		char		names[CLV_NAME_LIST_LEN];

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params has no transaction model to simulate"),
				 errhint("Give transaction_model (%s) with its parameters.",
						 clv_model_names(false, names, sizeof(names)))));
	}

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

/*
 * The state of one call, in the SRF's multi_call_memory_ctx: rows are made
 * one at a time as the executor asks for them, so a LIMIT stops the drawing
 * and memory does not grow with n_customers or with a customer's purchases.
 */
typedef struct SimState
{
	ClvSimParams params;
	gsl_rng    *rng;
	ClvSimCustomer customer;
	int32		n_customers;
	int32		customer_id;	/* 0 before the first customer */
	double		horizon;
	bool		timestamps;
	TimestampTz start;
	TimestampTz base;			/* acquisition time of this customer */
	double		acquisition_days;
	double		unit_days;
	double		usecs_per_unit; /* unit_days * USECS_PER_DAY */
} SimState;

/*
 * A Mersenne Twister whose state lives in palloc'd memory (gsl_rng_alloc
 * would malloc it, and nothing frees that when a LIMIT, an error or a
 * cancel ends the call early); gsl_rng_set initialises all of it.
 */
static gsl_rng *
sim_rng_palloc(MemoryContext cxt, int32 seed)
{
	gsl_rng    *rng = MemoryContextAlloc(cxt, sizeof(gsl_rng));

	rng->type = gsl_rng_mt19937;
	rng->state = MemoryContextAllocZero(cxt, gsl_rng_mt19937->size);
	gsl_rng_set(rng, (unsigned long) (uint32) seed);
	return rng;
}

/*
 * First call: the state from the checked arguments in *init, in the SRF's
 * memory context.
 */
static void
sim_first_call(FunctionCallInfo fcinfo, const SimState *init, int32 seed)
{
	FuncCallContext *funcctx = SRF_FIRSTCALL_INIT();
	MemoryContext oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
	TupleDesc	desc;
	SimState   *st;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	funcctx->tuple_desc = BlessTupleDesc(desc);
	st = palloc(sizeof(SimState));
	*st = *init;
	st->rng = sim_rng_palloc(funcctx->multi_call_memory_ctx, seed);
	st->customer_id = 0;
	funcctx->user_fctx = st;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * The next row: customers 1..n from one generator, each drawn a purchase at
 * a time.  With timestamps, each customer's acquisition is spread uniformly
 * over acquisition_days after start and observed until start + horizon time
 * units.
 */
static Datum
sim_next_row(FunctionCallInfo fcinfo)
{
	FuncCallContext *funcctx = SRF_PERCALL_SETUP();
	SimState   *st = (SimState *) funcctx->user_fctx;

	for (;;)
	{
		double		t,
					amount,
					T;

		CHECK_FOR_INTERRUPTS();
		if (st->customer_id > 0 && clv_sim_next(&st->customer, &t, &amount))
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			/*
			 * Every simulated row passes here, so this is where a non-finite
			 * draw is caught: extreme spend parameters (q near 0) can draw a
			 * spend rate that underflows to 0, and every amount of that
			 * customer would be Infinity.
			 */
			if (!isfinite(t) || (st->params.has_spend && !isfinite(amount)))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("simulated %s %s of customer %d is out of range",
								isfinite(t) ? "amount" : "purchase time",
								float8out_internal(isfinite(t) ? amount : t),
								st->customer_id),
						 errhint("The parameters are too extreme to simulate (e.g. Gamma-Gamma q or gamma close to 0).")));

			values[0] = Int64GetDatum((int64) st->customer_id);
			if (st->timestamps)
				values[1] = TimestampTzGetDatum(st->base +
												(TimestampTz) llround(t * st->usecs_per_unit));
			else
				values[1] = Float8GetDatum(t);
			if (isnan(amount))
				nulls[2] = true;
			else
				values[2] = Float8GetDatum(amount);
			SRF_RETURN_NEXT(funcctx,
							HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
		}
		if (st->customer_id >= st->n_customers)
			break;
		st->customer_id++;
		T = st->horizon;
		if (st->timestamps)
		{
			double		birth_days = st->acquisition_days * gsl_rng_uniform(st->rng);

			st->base = st->start + (TimestampTz) llround(birth_days * USECS_PER_DAY);
			T = st->horizon - birth_days / st->unit_days;
		}
		clv_sim_begin(&st->customer, st->rng, &st->params, T);
	}
	SRF_RETURN_DONE(funcctx);
}

/*
 * clv_simulate(params jsonb, n_customers int, horizon float8, seed int)
 *	  Every customer acquired at time 0 and observed for horizon time units;
 *	  purchased_at in time units since acquisition.
 */
Datum
clv_simulate(PG_FUNCTION_ARGS)
{
	if (SRF_IS_FIRSTCALL())
	{
		Jsonb	   *jb = PG_GETARG_JSONB_P(0);
		SimState	init;

		memset(&init, 0, sizeof(init));
		init.n_customers = PG_GETARG_INT32(1);
		init.horizon = PG_GETARG_FLOAT8(2);
		init.unit_days = 1.0;
		sim_parse_params(jb, &init.params);
		sim_check_common(init.n_customers, init.horizon);
		sim_first_call(fcinfo, &init, PG_GETARG_INT32(3));
	}
	return sim_next_row(fcinfo);
}

/*
 * clv_simulate_transactions(params jsonb, n_customers int, start timestamptz,
 *		acquisition_days float8, horizon float8, time_unit text, seed int)
 *	  Real timestamps, so that the output feeds clv_summary directly.
 */
Datum
clv_simulate_transactions(PG_FUNCTION_ARGS)
{
	if (SRF_IS_FIRSTCALL())
	{
		Jsonb	   *jb = PG_GETARG_JSONB_P(0);
		char	   *unit_name = text_to_cstring(PG_GETARG_TEXT_PP(5));
		SimState	init;
		double		end_usecs;

		memset(&init, 0, sizeof(init));
		init.n_customers = PG_GETARG_INT32(1);
		init.start = PG_GETARG_TIMESTAMPTZ(2);
		init.acquisition_days = PG_GETARG_FLOAT8(3);
		init.horizon = PG_GETARG_FLOAT8(4);
		init.unit_days = clv_time_unit_days(clv_parse_time_unit(unit_name));
		init.usecs_per_unit = init.unit_days * USECS_PER_DAY;
		init.timestamps = true;
		sim_parse_params(jb, &init.params);
		sim_check_common(init.n_customers, init.horizon);
		if (TIMESTAMP_NOT_FINITE(init.start))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("start must be a finite timestamp")));
		if (!(init.acquisition_days >= 0.0) ||
			!(init.acquisition_days < init.horizon * init.unit_days))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("acquisition_days = %g must be at least 0 and shorter than the horizon (%g days)",
							init.acquisition_days, init.horizon * init.unit_days)));
		end_usecs = (double) init.start + init.horizon * init.unit_days * USECS_PER_DAY;
		if (!(end_usecs < (double) END_TIMESTAMP))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("start + horizon is out of the timestamp range")));
		sim_first_call(fcinfo, &init, PG_GETARG_INT32(6));
	}
	return sim_next_row(fcinfo);
}
