/*-------------------------------------------------------------------------
 *
 * summary_fmgr.c
 *	  SQL interface of the clv_summary aggregate: transition, combine and
 *	  final functions, and I/O of its state type clv_summary_state.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "summary.h"

PG_FUNCTION_INFO_V1(clv_summary_transfn);
PG_FUNCTION_INFO_V1(clv_summary_combinefn);
PG_FUNCTION_INFO_V1(clv_summary_finalfn);
PG_FUNCTION_INFO_V1(clv_summary_state_in);
PG_FUNCTION_INFO_V1(clv_summary_state_out);
PG_FUNCTION_INFO_V1(clv_summary_state_recv);
PG_FUNCTION_INFO_V1(clv_summary_state_send);

#define CLV_SUMMARY_NATTS 12

/*
 * Purchases are counted per calendar day of the session's time zone, as
 * analysts read dates; this mirrors timestamptz::date.
 */
static DateADT
clv_local_day(TimestampTz ts, const char *what)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, &tz, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite timestamp, got %s",
						what, timestamptz_to_str(ts))));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
}

static TimestampTz
clv_arg_timestamp(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
	return PG_GETARG_TIMESTAMPTZ(argno);
}

/* timestamptz_to_str returns a static buffer: copy when two go in one message */
static char *
clv_ts_str(TimestampTz ts)
{
	return pstrdup(timestamptz_to_str(ts));
}

static void
clv_not_aggregate(const char *fn)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s can only be called as part of the clv_summary aggregate", fn)));
}

/*
 * Partial states from parallel workers may arrive with a short varlena
 * header; anything we modify in place must be a plain, aligned copy.
 */
static ClvSummaryState *
clv_summary_writable(Datum d)
{
	if (VARATT_IS_EXTENDED(DatumGetPointer(d)))
		return (ClvSummaryState *) PG_DETOAST_DATUM_COPY(d);
	return (ClvSummaryState *) DatumGetPointer(d);
}

/*
 * Transition for all three forms of the aggregate:
 *	(purchased_at, amount, observation_end)
 *	(purchased_at, amount, observation_end, time_unit)
 *	(purchased_at, amount, calibration_end, observation_end, time_unit)
 * The end dates and unit are per-row arguments in SQL but must be constant
 * within a group; the first row fixes them and later rows are checked.
 */
Datum
clv_summary_transfn(PG_FUNCTION_ARGS)
{
	ClvSummaryState *state;
	bool		holdout = PG_NARGS() == 6;
	int			obs_arg = holdout ? 4 : 3;
	TimestampTz obs_end;
	TimestampTz cal_end;
	ClvTimeUnit unit = CLV_UNIT_WEEK;
	TimestampTz ts;
	DateADT		day;
	bool		purchase = true;
	float8		amount = 0.0;

	if (!AggCheckCallContext(fcinfo, NULL))
		clv_not_aggregate("clv_summary_transfn");

	obs_end = clv_arg_timestamp(fcinfo, obs_arg, "observation_end");
	cal_end = holdout ? clv_arg_timestamp(fcinfo, 3, "calibration_end") : obs_end;
	if (PG_NARGS() >= 5)
	{
		if (PG_ARGISNULL(PG_NARGS() - 1))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("time_unit must not be NULL"),
					 errhint("Valid time units are: %s.", CLV_VALID_TIME_UNITS)));
		unit = clv_parse_time_unit_text(PG_GETARG_TEXT_PP(PG_NARGS() - 1));
	}

	if (PG_ARGISNULL(0))
	{
		DateADT		obs_day = clv_local_day(obs_end, "observation_end");
		DateADT		cal_day = clv_local_day(cal_end, "calibration_end");

		if (cal_end > obs_end)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("calibration_end %s is after observation_end %s",
							clv_ts_str(cal_end), clv_ts_str(obs_end)),
					 errhint("The holdout period runs from calibration_end to observation_end.")));
		state = clv_summary_state_new(0, unit, holdout, cal_end, obs_end,
									  cal_day, obs_day);
	}
	else
	{
		state = clv_summary_writable(PG_GETARG_DATUM(0));
		if (state->obs_end != obs_end || state->cal_end != cal_end)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s %s differs from %s in another row of the same group",
							holdout && state->cal_end != cal_end ? "calibration_end" : "observation_end",
							clv_ts_str(state->cal_end != cal_end ? cal_end : obs_end),
							clv_ts_str(state->cal_end != cal_end ? state->cal_end : state->obs_end)),
					 errhint("Pass the same end date for every row, e.g. a constant.")));
		if (state->unit != unit)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time_unit \"%s\" differs from \"%s\" in another row of the same group",
							clv_time_unit_name(unit),
							clv_time_unit_name((ClvTimeUnit) state->unit))));
	}

	/* rows without a purchase time carry no information */
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);
	ts = PG_GETARG_TIMESTAMPTZ(1);
	day = clv_local_day(ts, "purchased_at");
	if (day > state->obs_end_day)
		PG_RETURN_POINTER(state);

	if (!PG_ARGISNULL(2))
	{
		amount = PG_GETARG_FLOAT8(2);
		if (isnan(amount) || isinf(amount))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("amount must be finite, got %s for the purchase at %s",
							float8out_internal(amount), timestamptz_to_str(ts))));
		purchase = amount >= 0.0;
	}

	PG_RETURN_POINTER(clv_summary_add_day(state, day, purchase, amount));
}

/* Merging partial states makes the aggregate parallel- and Citus-safe. */
Datum
clv_summary_combinefn(PG_FUNCTION_ARGS)
{
	ClvSummaryState *into;
	ClvSummaryState *from;

	if (!AggCheckCallContext(fcinfo, NULL))
		clv_not_aggregate("clv_summary_combinefn");

	into = clv_summary_writable(PG_GETARG_DATUM(0));
	from = (ClvSummaryState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	if (into->unit != from->unit || into->obs_end != from->obs_end ||
		into->cal_end != from->cal_end ||
		(into->flags & CLV_SUMMARY_HOLDOUT) != (from->flags & CLV_SUMMARY_HOLDOUT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine customer summaries with different end dates or time units")));
	PG_RETURN_POINTER(clv_summary_merge(into, from));
}

Datum
clv_summary_finalfn(PG_FUNCTION_ARGS)
{
	ClvSummaryState *state;
	ClvSummaryResult r;
	TupleDesc	tupdesc;
	Datum		values[CLV_SUMMARY_NATTS];
	bool		nulls[CLV_SUMMARY_NATTS];

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = clv_summary_writable(PG_GETARG_DATUM(0));
	if (!clv_summary_compute(state, &r))
		PG_RETURN_NULL();

	/* the blessed descriptor is kept across groups */
	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	if (tupdesc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "clv_summary_finalfn must return a composite type");
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = tupdesc;
	}
	if (tupdesc->natts != CLV_SUMMARY_NATTS)
		elog(ERROR, "type clv_summary has %d attributes, expected %d",
			 tupdesc->natts, CLV_SUMMARY_NATTS);

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int32GetDatum(r.frequency);
	values[1] = Float8GetDatum(r.recency);
	values[2] = Float8GetDatum(r.t);
	values[3] = Float8GetDatum(r.monetary_value);
	nulls[3] = !r.has_monetary;
	values[4] = Int32GetDatum(r.n_purchases);
	values[5] = Float8GetDatum(r.total_amount);
	values[6] = DateADTGetDatum(r.first_purchase);
	values[7] = DateADTGetDatum(r.last_purchase);
	values[8] = Int32GetDatum(r.days_since_last);
	values[9] = Int32GetDatum(r.frequency_holdout);
	nulls[9] = !r.has_holdout;
	values[10] = Float8GetDatum(r.monetary_holdout);
	nulls[10] = !r.has_monetary_holdout;
	values[11] = Float8GetDatum(r.duration_holdout);
	nulls[11] = !r.has_holdout;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * Text form, used by Citus to ship partial states between nodes:
 *	  v<version> <unit> <holdout 0|1> <cal_end> <obs_end> <cal_end_day> <obs_end_day> <ndays>
 *	  then per day: <day>:<purchase 0|1>:<amount>
 * Timestamps are microseconds and days are PostgreSQL day numbers, so the
 * state means the same on every node whatever its TimeZone.
 */
Datum
clv_summary_state_out(PG_FUNCTION_ARGS)
{
	ClvSummaryState *state = (ClvSummaryState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "v%d %s %d " INT64_FORMAT " " INT64_FORMAT " %d %d %d",
					 state->version, clv_time_unit_name((ClvTimeUnit) state->unit),
					 (state->flags & CLV_SUMMARY_HOLDOUT) ? 1 : 0,
					 (int64) state->cal_end, (int64) state->obs_end,
					 state->cal_end_day, state->obs_end_day, state->ndays);
	for (int32 i = 0; i < state->ndays; i++)
		appendStringInfo(&buf, " %d:%d:%.17g", state->days[i].day,
						 state->days[i].purchase, state->days[i].amount);
	PG_RETURN_CSTRING(buf.data);
}

static void
clv_summary_bad_input(const char *input)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type clv_summary_state: \"%s\"", input)));
}

/* Checks what a state may claim, whatever its origin (text or binary). */
static void
clv_summary_check_state(ClvSummaryState *state, const char *input)
{
	if (state->cal_end > state->obs_end || state->cal_end_day > state->obs_end_day)
		clv_summary_bad_input(input);
	for (int32 i = 0; i < state->ndays; i++)
		if (!isfinite(state->days[i].amount) || state->days[i].purchase < 0 ||
			state->days[i].purchase > 1)
			clv_summary_bad_input(input);
	state->flags &= ~CLV_SUMMARY_SORTED;
	clv_summary_compact(state);
}

Datum
clv_summary_state_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	char		unitname[16];
	int			version,
				holdout,
				cal_day,
				obs_day,
				ndays,
				consumed;
	int64		cal_end,
				obs_end;
	ClvSummaryState *state;
	char	   *p;

	if (sscanf(input, "v%d %15s %d " INT64_FORMAT " " INT64_FORMAT " %d %d %d%n",
			   &version, unitname, &holdout, &cal_end, &obs_end,
			   &cal_day, &obs_day, &ndays, &consumed) != 8 ||
		version != CLV_SUMMARY_STATE_VERSION || (holdout != 0 && holdout != 1) ||
		ndays < 0)
		clv_summary_bad_input(input);
	state = clv_summary_state_new(ndays, clv_parse_time_unit(unitname), holdout == 1,
								  cal_end, obs_end, cal_day, obs_day);
	p = input + consumed;
	for (int32 i = 0; i < ndays; i++)
	{
		ClvDay	   *d = &state->days[i];
		char	   *end;

		d->day = (DateADT) strtol(p, &end, 10);
		if (end == p || *end != ':')
			clv_summary_bad_input(input);
		p = end + 1;
		d->purchase = (int32) strtol(p, &end, 10);
		if (end == p || *end != ':')
			clv_summary_bad_input(input);
		p = end + 1;
		d->amount = strtod(p, &end);
		if (end == p || (*end != ' ' && *end != '\0'))
			clv_summary_bad_input(input);
		p = end;
	}
	while (*p == ' ')
		p++;
	if (*p != '\0')
		clv_summary_bad_input(input);
	state->ndays = ndays;
	clv_summary_check_state(state, input);
	PG_RETURN_POINTER(state);
}

Datum
clv_summary_state_send(PG_FUNCTION_ARGS)
{
	ClvSummaryState *state = (ClvSummaryState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, state->version);
	pq_sendbyte(&buf, state->unit);
	pq_sendbyte(&buf, (state->flags & CLV_SUMMARY_HOLDOUT) ? 1 : 0);
	pq_sendint64(&buf, state->cal_end);
	pq_sendint64(&buf, state->obs_end);
	pq_sendint32(&buf, state->cal_end_day);
	pq_sendint32(&buf, state->obs_end_day);
	pq_sendint32(&buf, state->ndays);
	for (int32 i = 0; i < state->ndays; i++)
	{
		pq_sendint32(&buf, state->days[i].day);
		pq_sendbyte(&buf, state->days[i].purchase);
		pq_sendfloat8(&buf, state->days[i].amount);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
clv_summary_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	int			unit = pq_getmsgbyte(buf);
	int			holdout = pq_getmsgbyte(buf);
	int64		cal_end = pq_getmsgint64(buf);
	int64		obs_end = pq_getmsgint64(buf);
	int32		cal_day = pq_getmsgint(buf, 4);
	int32		obs_day = pq_getmsgint(buf, 4);
	int32		ndays = pq_getmsgint(buf, 4);
	ClvSummaryState *state;

	if (version != CLV_SUMMARY_STATE_VERSION || unit < CLV_UNIT_DAY ||
		unit > CLV_UNIT_YEAR || holdout > 1 || ndays < 0 ||
		ndays > (buf->len - buf->cursor) / 13)
		clv_summary_bad_input("(binary)");
	state = clv_summary_state_new(ndays, (ClvTimeUnit) unit, holdout == 1,
								  cal_end, obs_end, cal_day, obs_day);
	for (int32 i = 0; i < ndays; i++)
	{
		state->days[i].day = pq_getmsgint(buf, 4);
		state->days[i].purchase = pq_getmsgbyte(buf);
		state->days[i].amount = pq_getmsgfloat8(buf);
	}
	state->ndays = ndays;
	clv_summary_check_state(state, "(binary)");
	PG_RETURN_POINTER(state);
}
