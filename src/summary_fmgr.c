/*-------------------------------------------------------------------------
 *
 * summary_fmgr.c
 *	  SQL interface of the clv_summary aggregate: transition, combine and
 *	  final functions, and I/O of its state type clv_summary_state.
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
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "summary.h"

PG_FUNCTION_INFO_V1(clv_summary_transfn);
PG_FUNCTION_INFO_V1(clv_summary_date_transfn);
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

static void clv_not_aggregate(const char *fn) pg_attribute_noreturn();

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
 * The two ways a row names its purchase day and the group its end dates:
 * timestamptz values, cut into days in the session's time zone (STABLE),
 * or dates the caller has already cut (IMMUTABLE: the day does not depend
 * on where the aggregate runs, which matters on Citus, whose workers do
 * not see the session's TimeZone).
 */
typedef struct ClvSummaryInput
{
	bool		by_date;
	TimestampTz cal_end;		/* as stored in the state, to compare rows */
	TimestampTz obs_end;
	DateADT		cal_day;
	DateADT		obs_day;
} ClvSummaryInput;

/* A date as the user reads it, for messages. */
static char *
clv_date_str(DateADT d)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)));
}

/* A date argument, finite and not NULL. */
static DateADT
clv_arg_date(FunctionCallInfo fcinfo, int argno, const char *what)
{
	DateADT		d;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
	d = PG_GETARG_DATEADT(argno);
	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite date, got %s", what, clv_date_str(d))));
	return d;
}

/*
 * The date form keeps its end days in the state's timestamp fields too, as
 * midnight UTC: a fixed encoding, so that rows and partial states compare
 * equal on every node whatever its TimeZone.
 */
static TimestampTz
clv_day_key(DateADT d)
{
	return (TimestampTz) d * USECS_PER_DAY;
}

/* An end value of the state as the user wrote it, for messages. */
static char *
clv_end_str(const ClvSummaryInput *in, TimestampTz v)
{
	if (in->by_date)
		return clv_date_str((DateADT) (v / USECS_PER_DAY));
	return clv_ts_str(v);
}

/*
 * Transition for the three forms of the aggregate, by timestamp or by date:
 *	(purchased, amount, observation_end)
 *	(purchased, amount, observation_end, time_unit)
 *	(purchased, amount, calibration_end, observation_end, time_unit)
 * The end dates and unit are per-row arguments in SQL but must be constant
 * within a group; the first row fixes them and later rows are checked.
 */
static Datum
clv_summary_transition(FunctionCallInfo fcinfo, bool by_date)
{
	ClvSummaryState *state;
	bool		holdout = PG_NARGS() == 6;
	int			obs_arg = holdout ? 4 : 3;
	ClvSummaryInput in;
	ClvTimeUnit unit = CLV_UNIT_WEEK;
	DateADT		day;
	bool		purchase = true;
	float8		amount = 0.0;

	if (!AggCheckCallContext(fcinfo, NULL))
		clv_not_aggregate(by_date ? "clv_summary_date_transfn" : "clv_summary_transfn");

	in.by_date = by_date;
	if (by_date)
	{
		in.obs_day = clv_arg_date(fcinfo, obs_arg, "observation_end");
		in.cal_day = holdout ? clv_arg_date(fcinfo, 3, "calibration_end") : in.obs_day;
		in.obs_end = clv_day_key(in.obs_day);
		in.cal_end = clv_day_key(in.cal_day);
	}
	else
	{
		in.obs_end = clv_arg_timestamp(fcinfo, obs_arg, "observation_end");
		in.cal_end = holdout ? clv_arg_timestamp(fcinfo, 3, "calibration_end") : in.obs_end;
	}
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
		if (!by_date)
		{
			in.obs_day = clv_local_day(in.obs_end, "observation_end");
			in.cal_day = clv_local_day(in.cal_end, "calibration_end");
		}
		if (in.cal_end > in.obs_end)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("calibration_end %s is after observation_end %s",
							clv_end_str(&in, in.cal_end), clv_end_str(&in, in.obs_end)),
					 errhint("The holdout period runs from calibration_end to observation_end.")));
		state = clv_summary_state_new(0, unit, holdout, in.cal_end, in.obs_end,
									  in.cal_day, in.obs_day);
	}
	else
	{
		state = clv_summary_writable(PG_GETARG_DATUM(0));
		if (state->obs_end != in.obs_end || state->cal_end != in.cal_end)
		{
			bool		cal = holdout && state->cal_end != in.cal_end;

			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s %s differs from %s in another row of the same group",
							cal ? "calibration_end" : "observation_end",
							clv_end_str(&in, cal ? in.cal_end : in.obs_end),
							clv_end_str(&in, cal ? state->cal_end : state->obs_end)),
					 errhint("Pass the same end date for every row, e.g. a constant.")));
		}
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
	if (by_date)
		day = clv_arg_date(fcinfo, 1, "purchased_on");
	else
		day = clv_local_day(PG_GETARG_TIMESTAMPTZ(1), "purchased_at");
	if (day > state->obs_end_day)
		PG_RETURN_POINTER(state);

	if (!PG_ARGISNULL(2))
	{
		amount = PG_GETARG_FLOAT8(2);
		if (isnan(amount) || isinf(amount))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("amount must be finite, got %s for the purchase at %s",
							float8out_internal(amount),
							by_date ? clv_date_str(day)
							: timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(1)))));
		purchase = amount >= 0.0;
	}

	PG_RETURN_POINTER(clv_summary_add_day(state, day, purchase, amount));
}

/* Transition of the timestamptz forms: days in the session's time zone. */
Datum
clv_summary_transfn(PG_FUNCTION_ARGS)
{
	return clv_summary_transition(fcinfo, false);
}

/* Transition of the date forms: the caller's days, whatever the zone. */
Datum
clv_summary_date_transfn(PG_FUNCTION_ARGS)
{
	return clv_summary_transition(fcinfo, true);
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

	/*
	 * The same end instants cut into other days: the states were made under
	 * different TimeZone settings (Citus workers do not see the session's),
	 * so their purchase days disagree too.  Refuse rather than mix them.
	 */
	if (into->obs_end_day != from->obs_end_day || into->cal_end_day != from->cal_end_day)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine customer summaries whose days were cut in different time zones"),
				 errdetail("The calibration and observation end days are %s and %s in one partial state, %s and %s in another.",
						   clv_date_str(into->cal_end_day), clv_date_str(into->obs_end_day),
						   clv_date_str(from->cal_end_day), clv_date_str(from->obs_end_day)),
				 errhint("Give clv_summary the purchase day as a date, e.g. "
						 "clv_summary((purchased_at AT TIME ZONE 'UTC')::date, amount, DATE '...'), "
						 "so that every node cuts the same days.")));
	PG_RETURN_POINTER(clv_summary_merge(into, from));
}

/*
 * The final function never writes on its argument: called directly on a
 * stored state that argument is the shared buffer page, and the aggregates
 * declare FINALFUNC_MODIFY = READ_ONLY (so they also run as window
 * functions).  A state whose days still need sorting is sorted in a copy.
 */
Datum
clv_summary_finalfn(PG_FUNCTION_ARGS)
{
	Datum		arg;
	ClvSummaryState *state;
	ClvSummaryResult r;
	TupleDesc	tupdesc;
	Datum		values[CLV_SUMMARY_NATTS];
	bool		nulls[CLV_SUMMARY_NATTS];

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	arg = PG_GETARG_DATUM(0);
	state = (ClvSummaryState *) PG_DETOAST_DATUM(arg);
	if (!(state->flags & CLV_SUMMARY_SORTED))
	{
		if ((Pointer) state == DatumGetPointer(arg))
			state = (ClvSummaryState *) PG_DETOAST_DATUM_COPY(arg);
		clv_summary_compact(state);
	}
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
	{
		CHECK_FOR_INTERRUPTS();
		appendStringInfo(&buf, " %d:%d:%.17g", state->days[i].day,
						 state->days[i].purchase, state->days[i].amount);
	}
	PG_RETURN_CSTRING(buf.data);
}

/*
 * Days are local days of timestamps, so they lie within the timestamp range
 * (a day of slack for the time zone): from the first day of the range up to
 * obs_end_day, itself within a day of a valid timestamp.  Checking that on
 * input keeps every later difference of days far from int32 overflow.
 */
#define CLV_STATE_DAY_MIN	(-POSTGRES_EPOCH_JDATE - 1)
/* the shortest text of one day, " 0:0:0", and the binary size of one day */
#define CLV_STATE_MIN_DAY_TEXT	6
#define CLV_STATE_DAY_BINARY	13

/* What a state claims before its days are read (from text or binary). */
typedef struct ClvStateHeader
{
	int64		version;
	int64		unit;
	int64		holdout;
	int64		cal_end;
	int64		obs_end;
	int64		cal_day;
	int64		obs_day;
	int64		ndays;
} ClvStateHeader;

static void clv_summary_bad_syntax(const char *input, const char *field) pg_attribute_noreturn();

/* Text that is not a state at all: 22P02 naming the field that failed. */
static void
clv_summary_bad_syntax(const char *input, const char *field)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type clv_summary_state: \"%s\"", input),
			 errdetail("Field %s is missing or malformed.", field)));
}

/* A field outside its range: 22003 naming the field, its value and the range. */
static void
clv_summary_field_range(const char *field, int64 v, int64 lo, int64 hi)
{
	if (v < lo || v > hi)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("field %s of clv_summary_state is out of range: " INT64_FORMAT,
						field, v),
				 errdetail("%s must lie between " INT64_FORMAT " and " INT64_FORMAT ".",
						   field, lo, hi)));
}

/* The UTC day of a timestamp (floor division). */
static int64
clv_utc_day(int64 ts)
{
	int64		d = ts / USECS_PER_DAY;

	if (ts % USECS_PER_DAY < 0)
		d--;
	return d;
}

/*
 * Checks every header field of a state before anything is allocated for
 * it: max_ndays is what the rest of the input can hold, so the allocation
 * is bounded by the input's own size.
 */
static void
clv_summary_check_header(const ClvStateHeader *h, int64 max_ndays,
						 const char *input)
{
	if (h->version != CLV_SUMMARY_STATE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("unsupported clv_summary_state version " INT64_FORMAT, h->version),
				 errdetail("This version of clv reads version %d.", CLV_SUMMARY_STATE_VERSION)));
	clv_summary_field_range("unit", h->unit, CLV_UNIT_DAY, CLV_UNIT_YEAR);
	clv_summary_field_range("holdout", h->holdout, 0, 1);
	clv_summary_field_range("cal_end", h->cal_end, MIN_TIMESTAMP, END_TIMESTAMP - 1);
	clv_summary_field_range("obs_end", h->obs_end, MIN_TIMESTAMP, END_TIMESTAMP - 1);
	/* a local day is within one day of the UTC day in any time zone */
	clv_summary_field_range("cal_end_day", h->cal_day, clv_utc_day(h->cal_end) - 1,
							clv_utc_day(h->cal_end) + 1);
	clv_summary_field_range("obs_end_day", h->obs_day, clv_utc_day(h->obs_end) - 1,
							clv_utc_day(h->obs_end) + 1);
	if (h->cal_end > h->obs_end || h->cal_day > h->obs_day)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid clv_summary_state: cal_end is after obs_end"),
				 errdetail("State: \"%s\".", input)));
	if (h->ndays < 0)
		clv_summary_field_range("ndays", h->ndays, 0, PG_INT32_MAX);
	if (h->ndays > max_ndays)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid clv_summary_state: it declares " INT64_FORMAT " days but holds at most " INT64_FORMAT,
						h->ndays, max_ndays)));
}

/* Checks one day as read; days after obs_end_day never enter a state. */
static void
clv_summary_check_day(const ClvSummaryState *state, int64 day, int64 purchase,
					  double amount)
{
	clv_summary_field_range("day", day, CLV_STATE_DAY_MIN, state->obs_end_day);
	clv_summary_field_range("purchase", purchase, 0, 1);
	if (!isfinite(amount))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("field amount of clv_summary_state must be finite, got %s for day " INT64_FORMAT,
						float8out_internal(amount), day)));
}

static ClvSummaryState *
clv_summary_from_header(const ClvStateHeader *h)
{
	return clv_summary_state_new((int32) h->ndays, (ClvTimeUnit) h->unit,
								 h->holdout == 1, h->cal_end, h->obs_end,
								 (DateADT) h->cal_day, (DateADT) h->obs_day);
}

/*
 * Reads an integer field of the text form followed by sep (' ' accepts any
 * white space or the end of the input); out-of-range text is 22003.
 */
static int64
clv_state_text_int(char **p, char sep, const char *field, const char *input)
{
	char	   *start = *p;
	char	   *end;
	int64		v;

	while (isspace((unsigned char) *start))
		start++;
	errno = 0;
	v = strtoi64(start, &end, 10);
	if (end == start)
		clv_summary_bad_syntax(input, field);
	if (errno == ERANGE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("field %s of clv_summary_state is out of range: %.*s",
						field, (int) (end - start), start)));
	if (sep == ' ' ? (*end != '\0' && !isspace((unsigned char) *end)) : *end != sep)
		clv_summary_bad_syntax(input, field);
	*p = sep == ' ' ? end : end + 1;
	return v;
}

/* The text form's unit field: a unit name, as clv_time_unit_name spells it. */
static int64
clv_state_text_unit(char **p, const char *input)
{
	char	   *start = *p;
	int			len;

	while (isspace((unsigned char) *start))
		start++;
	for (len = 0; start[len] != '\0' && !isspace((unsigned char) start[len]); len++)
		;
	for (int u = CLV_UNIT_DAY; u <= CLV_UNIT_YEAR; u++)
	{
		const char *name = clv_time_unit_name((ClvTimeUnit) u);

		if (strlen(name) == (size_t) len && pg_strncasecmp(start, name, len) == 0)
		{
			*p = start + len;
			return u;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type clv_summary_state: \"%s\"", input),
			 errdetail("Field unit is \"%.*s\", not one of %s.", len, start,
					   CLV_VALID_TIME_UNITS)));
	pg_unreachable();
}

/*
 * Sorts the days and merges same-day entries of a freshly read state: the
 * input need not be in order, and the SORTED flag is never taken on trust.
 */
static void
clv_summary_finish_input(ClvSummaryState *state)
{
	state->flags &= ~CLV_SUMMARY_SORTED;
	clv_summary_compact(state);
}

Datum
clv_summary_state_in(PG_FUNCTION_ARGS)
{
	char	   *input = PG_GETARG_CSTRING(0);
	char	   *p = input;
	ClvStateHeader h;
	ClvSummaryState *state;

	while (isspace((unsigned char) *p))
		p++;
	if (*p++ != 'v')
		clv_summary_bad_syntax(input, "version");
	h.version = clv_state_text_int(&p, ' ', "version", input);
	h.unit = clv_state_text_unit(&p, input);
	h.holdout = clv_state_text_int(&p, ' ', "holdout", input);
	h.cal_end = clv_state_text_int(&p, ' ', "cal_end", input);
	h.obs_end = clv_state_text_int(&p, ' ', "obs_end", input);
	h.cal_day = clv_state_text_int(&p, ' ', "cal_end_day", input);
	h.obs_day = clv_state_text_int(&p, ' ', "obs_end_day", input);
	h.ndays = clv_state_text_int(&p, ' ', "ndays", input);
	clv_summary_check_header(&h, (int64) (strlen(p) / CLV_STATE_MIN_DAY_TEXT), input);

	state = clv_summary_from_header(&h);
	for (int32 i = 0; i < h.ndays; i++)
	{
		ClvDay	   *d = &state->days[i];
		int64		day = clv_state_text_int(&p, ':', "day", input);
		int64		purchase = clv_state_text_int(&p, ':', "purchase", input);
		char	   *end;
		double		amount;

		CHECK_FOR_INTERRUPTS();
		amount = strtod(p, &end);
		if (end == p || (*end != '\0' && !isspace((unsigned char) *end)))
			clv_summary_bad_syntax(input, "amount");
		p = end;
		clv_summary_check_day(state, day, purchase, amount);
		d->day = (DateADT) day;
		d->purchase = (int32) purchase;
		d->amount = amount;
		state->ndays = i + 1;
	}
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type clv_summary_state: \"%s\"", input),
				 errdetail("Text after the " INT64_FORMAT " declared days.", h.ndays)));
	clv_summary_finish_input(state);
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
		CHECK_FOR_INTERRUPTS();
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
	ClvStateHeader h;
	ClvSummaryState *state;

	h.version = pq_getmsgbyte(buf);
	h.unit = pq_getmsgbyte(buf);
	h.holdout = pq_getmsgbyte(buf);
	h.cal_end = pq_getmsgint64(buf);
	h.obs_end = pq_getmsgint64(buf);
	h.cal_day = (int32) pq_getmsgint(buf, 4);
	h.obs_day = (int32) pq_getmsgint(buf, 4);
	h.ndays = (int32) pq_getmsgint(buf, 4);
	clv_summary_check_header(&h, (buf->len - buf->cursor) / CLV_STATE_DAY_BINARY,
							 "(binary)");
	state = clv_summary_from_header(&h);
	for (int32 i = 0; i < h.ndays; i++)
	{
		int64		day = (int32) pq_getmsgint(buf, 4);
		int64		purchase = pq_getmsgbyte(buf);
		double		amount = pq_getmsgfloat8(buf);

		CHECK_FOR_INTERRUPTS();
		clv_summary_check_day(state, day, purchase, amount);
		state->days[i].day = (DateADT) day;
		state->days[i].purchase = (int32) purchase;
		state->days[i].amount = amount;
		state->ndays = i + 1;
	}
	clv_summary_finish_input(state);
	PG_RETURN_POINTER(state);
}
