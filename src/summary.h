/*-------------------------------------------------------------------------
 *
 * summary.h
 *	  The per-customer summary (RFM in the BTYD sense): the transition state
 *	  of the clv_summary aggregate and the computation of its fields.
 *
 * The state keeps one entry per distinct purchase day, so its size grows
 * with the number of distinct days, not with the number of purchases, and
 * two partial states merge exactly (parallel query, Citus).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_SUMMARY_H
#define CLV_SUMMARY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/date.h"

#include "clv.h"

/* One calendar day of a customer's history. */
typedef struct ClvDay
{
	DateADT		day;
	int32		purchase;		/* 1 if any row of the day is a purchase, 0 if
								 * the day holds refunds only (a purchase
								 * day also needs a net amount >= 0) */
	float8		amount;			/* net money of the day */
} ClvDay;

#define CLV_SUMMARY_STATE_VERSION 1
#define CLV_SUMMARY_SORTED	0x01	/* days[] sorted and free of duplicates */
#define CLV_SUMMARY_HOLDOUT	0x02	/* calibration/holdout split requested */

/*
 * The aggregate's transition state, a plain varlena (type clv_summary_state).
 * Capacity is implied by the varlena size; entries past ndays are slack.
 */
typedef struct ClvSummaryState
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;
	uint8		unit;			/* ClvTimeUnit */
	uint8		flags;
	uint8		padding;
	int32		ndays;			/* entries in use */
	TimestampTz cal_end;		/* as given, to check rows agree */
	TimestampTz obs_end;
	DateADT		cal_end_day;	/* the same in the session's time zone */
	DateADT		obs_end_day;
	ClvDay		days[FLEXIBLE_ARRAY_MEMBER];
} ClvSummaryState;

#define CLV_SUMMARY_HDRSZ offsetof(ClvSummaryState, days)
#define CLV_SUMMARY_CAPACITY(s) \
	((int32) ((VARSIZE(s) - CLV_SUMMARY_HDRSZ) / sizeof(ClvDay)))

/* The fields of the composite type clv_summary; has_* false means NULL. */
typedef struct ClvSummaryResult
{
	int32		frequency;
	float8		recency;
	float8		t;
	bool		has_monetary;
	float8		monetary_value;
	int32		n_purchases;
	float8		total_amount;
	DateADT		first_purchase;
	DateADT		last_purchase;
	int32		days_since_last;
	bool		has_holdout;
	int32		frequency_holdout;
	bool		has_monetary_holdout;
	float8		monetary_holdout;
	float8		duration_holdout;
} ClvSummaryResult;

extern ClvSummaryState *clv_summary_state_new(int32 capacity, ClvTimeUnit unit,
											  bool holdout, TimestampTz cal_end,
											  TimestampTz obs_end,
											  DateADT cal_end_day,
											  DateADT obs_end_day);
extern ClvSummaryState *clv_summary_add_day(ClvSummaryState *state, DateADT day,
											bool purchase, float8 amount);
extern ClvSummaryState *clv_summary_merge(ClvSummaryState *into,
										  const ClvSummaryState *from);
extern void clv_summary_compact(ClvSummaryState *state);
extern bool clv_summary_compute(const ClvSummaryState *state,
								ClvSummaryResult *result);

#endif							/* CLV_SUMMARY_H */
