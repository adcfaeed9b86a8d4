/*-------------------------------------------------------------------------
 *
 * summary.c
 *	  Day-level state of the clv_summary aggregate and its final fields.
 *
 * Nothing here knows about fmgr: the aggregate's support functions in
 * summary_fmgr.c parse arguments and call these.
 *
 * Tier: core (palloc, ereport, CHECK_FOR_INTERRUPTS; no fmgr, no SPI).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

#include "summary.h"

#define CLV_SUMMARY_MIN_CAPACITY 4

/*
 * A new state is allocated in the current memory context; the aggregate
 * machinery copies it into the aggregate's context when it is returned.
 */
ClvSummaryState *
clv_summary_state_new(int32 capacity, ClvTimeUnit unit, bool holdout,
					  TimestampTz cal_end, TimestampTz obs_end,
					  DateADT cal_end_day, DateADT obs_end_day)
{
	ClvSummaryState *state;
	Size		size;

	capacity = Max(capacity, CLV_SUMMARY_MIN_CAPACITY);
	size = add_size(CLV_SUMMARY_HDRSZ, mul_size(capacity, sizeof(ClvDay)));
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("customer summary state would need %zu bytes", size),
				 errdetail("A customer has more than %d distinct purchase days.",
						   (int) ((MaxAllocSize - CLV_SUMMARY_HDRSZ) / sizeof(ClvDay)))));
	state = palloc0(size);
	SET_VARSIZE(state, size);
	state->version = CLV_SUMMARY_STATE_VERSION;
	state->unit = (uint8) unit;
	state->flags = CLV_SUMMARY_SORTED | (holdout ? CLV_SUMMARY_HOLDOUT : 0);
	state->cal_end = cal_end;
	state->obs_end = obs_end;
	state->cal_end_day = cal_end_day;
	state->obs_end_day = obs_end_day;
	state->ndays = 0;
	return state;
}

static void
clv_summary_amount_overflow(DateADT day)
{
	int			y,
				m,
				d;

	j2date(day + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("sum of amounts on %04d-%02d-%02d is out of range for float8", y, m, d)));
}

/* A sum of finite amounts over many days can still overflow float8. */
static void
clv_summary_check_sum(double sum, const char *field)
{
	if (!isfinite(sum))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s of the customer summary is out of range for float8", field),
				 errdetail("The sum of the amounts of the days it covers overflows.")));
}

static int
clv_day_cmp(const void *a, const void *b)
{
	DateADT		da = ((const ClvDay *) a)->day;
	DateADT		db = ((const ClvDay *) b)->day;

	return (da > db) - (da < db);
}

/*
 * Sorting and merging equal days is deferred until the state is full (or
 * final), so unsorted input costs O(n log n) overall rather than O(n^2).
 */
void
clv_summary_compact(ClvSummaryState *state)
{
	int32		out = 0;

	if (state->flags & CLV_SUMMARY_SORTED)
		return;
	qsort(state->days, state->ndays, sizeof(ClvDay), clv_day_cmp);
	for (int32 i = 0; i < state->ndays; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (out > 0 && state->days[out - 1].day == state->days[i].day)
		{
			state->days[out - 1].amount += state->days[i].amount;
			state->days[out - 1].purchase |= state->days[i].purchase;
			if (isinf(state->days[out - 1].amount))
				clv_summary_amount_overflow(state->days[out - 1].day);
		}
		else
			state->days[out++] = state->days[i];
	}
	state->ndays = out;
	state->flags |= CLV_SUMMARY_SORTED;
}

/*
 * Make room for "extra" more entries.  Returns either the same state or a
 * larger copy in the current memory context (the caller's aggregate
 * machinery takes ownership of a returned new pointer and frees the old).
 */
static ClvSummaryState *
clv_summary_reserve(ClvSummaryState *state, int32 extra)
{
	ClvSummaryState *bigger;
	int32		capacity = CLV_SUMMARY_CAPACITY(state);

	if (state->ndays + extra <= capacity)
		return state;
	clv_summary_compact(state);
	/* grow unless compaction left a quarter of the space free */
	if (state->ndays + extra <= capacity - capacity / 4)
		return state;
	if (state->ndays + extra > (int32) ((MaxAllocSize - CLV_SUMMARY_HDRSZ) / sizeof(ClvDay) / 2))
		capacity = state->ndays + extra;	/* state_new reports the limit */
	else
		capacity = 2 * (state->ndays + extra);
	bigger = clv_summary_state_new(capacity, (ClvTimeUnit) state->unit,
								   (state->flags & CLV_SUMMARY_HOLDOUT) != 0,
								   state->cal_end, state->obs_end,
								   state->cal_end_day, state->obs_end_day);
	bigger->flags = state->flags;
	bigger->ndays = state->ndays;
	memcpy(bigger->days, state->days, state->ndays * sizeof(ClvDay));
	return bigger;
}

/* Adds to the last day if it is the same day; false if it is not. */
static bool
clv_summary_add_to_last(ClvSummaryState *state, DateADT day, bool purchase,
						float8 amount)
{
	ClvDay	   *last;

	if (state->ndays == 0)
		return false;
	last = &state->days[state->ndays - 1];
	if (last->day != day)
		return false;
	last->amount += amount;
	last->purchase |= purchase ? 1 : 0;
	if (isinf(last->amount))
		clv_summary_amount_overflow(day);
	return true;
}

/*
 * Input sorted by time (the common case) stays sorted and merges same-day
 * rows on the spot; anything else is appended and compacted later.
 */
ClvSummaryState *
clv_summary_add_day(ClvSummaryState *state, DateADT day, bool purchase,
					float8 amount)
{
	ClvDay	   *next;

	if (clv_summary_add_to_last(state, day, purchase, amount))
		return state;
	state = clv_summary_reserve(state, 1);
	/* making room may have compacted the days, so look again */
	if (clv_summary_add_to_last(state, day, purchase, amount))
		return state;
	if (state->ndays > 0 && state->days[state->ndays - 1].day > day)
		state->flags &= ~CLV_SUMMARY_SORTED;
	next = &state->days[state->ndays++];
	next->day = day;
	next->purchase = purchase ? 1 : 0;
	next->amount = amount;
	return state;
}

/* Combine two partial states of the same group. */
ClvSummaryState *
clv_summary_merge(ClvSummaryState *into, const ClvSummaryState *from)
{
	into = clv_summary_reserve(into, from->ndays);
	memcpy(into->days + into->ndays, from->days, from->ndays * sizeof(ClvDay));
	into->ndays += from->ndays;
	into->flags &= ~CLV_SUMMARY_SORTED;
	clv_summary_compact(into);
	return into;
}

/*
 * A day counts as a purchase day when it holds a purchase (an amount >= 0
 * or NULL) and its net amount is not negative: a day whose refunds exceed
 * its purchases is a net refund, like a day of refunds only.  So
 * monetary_value, a mean of purchase days, is never negative, and no
 * summary row can make a spend prediction fail.  A $0 day stays a purchase
 * day (BTYD's CDNOW summary counts them).  Decided here, on the merged day,
 * so that the order of rows and partial states does not matter.
 */
static inline bool
clv_is_purchase_day(const ClvDay *d)
{
	return d->purchase && d->amount >= 0.0;
}

/*
 * The summary fields of a compacted state (see clv_summary_compact; the
 * state is read, never written).  Calibration covers days up to cal_end_day
 * (equal to obs_end_day without a split), the holdout the days after it.
 * Returns false when the customer has no purchase day in the calibration
 * period.  Every day lies within the timestamp range (the input functions
 * check it), so differences of days fit easily in int32; sums of amounts
 * are checked, each day's amount being finite.
 */
bool
clv_summary_compute(const ClvSummaryState *state, ClvSummaryResult *r)
{
	double		unit_days = clv_time_unit_days((ClvTimeUnit) state->unit);
	bool		holdout = (state->flags & CLV_SUMMARY_HOLDOUT) != 0;
	bool		have_first = false;
	double		repeat_sum = 0.0;
	double		holdout_sum = 0.0;
	int32		holdout_n = 0;

	if (!(state->flags & CLV_SUMMARY_SORTED))
		elog(ERROR, "clv_summary_compute needs a compacted state");
	memset(r, 0, sizeof(*r));

	for (int32 i = 0; i < state->ndays; i++)
	{
		const ClvDay *d = &state->days[i];

		CHECK_FOR_INTERRUPTS();
		if (d->day <= state->cal_end_day)
		{
			r->total_amount += d->amount;
			if (!clv_is_purchase_day(d))
				continue;
			if (!have_first)
			{
				have_first = true;
				r->first_purchase = d->day;
			}
			else
				repeat_sum += d->amount;
			r->last_purchase = d->day;
			r->n_purchases++;
		}
		else if (holdout && clv_is_purchase_day(d))
		{
			holdout_n++;
			holdout_sum += d->amount;
		}
	}
	if (!have_first)
		return false;
	clv_summary_check_sum(r->total_amount, "total_amount");
	clv_summary_check_sum(repeat_sum, "monetary_value");
	clv_summary_check_sum(holdout_sum, "monetary_holdout");

	r->frequency = r->n_purchases - 1;
	r->recency = (double) (r->last_purchase - r->first_purchase) / unit_days;
	r->t = (double) (state->cal_end_day - r->first_purchase) / unit_days;
	r->has_monetary = r->frequency > 0;
	r->monetary_value = r->has_monetary ? repeat_sum / r->frequency : 0.0;
	r->days_since_last = state->cal_end_day - r->last_purchase;
	r->has_holdout = holdout;
	if (holdout)
	{
		r->frequency_holdout = holdout_n;
		r->has_monetary_holdout = holdout_n > 0;
		r->monetary_holdout = holdout_n > 0 ? holdout_sum / holdout_n : 0.0;
		r->duration_holdout = (double) (state->obs_end_day - state->cal_end_day) / unit_days;
	}
	return true;
}
