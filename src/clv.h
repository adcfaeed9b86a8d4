/*-------------------------------------------------------------------------
 *
 * clv.h
 *	  Definitions shared by every clv module: time units and small helpers.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_H
#define CLV_H

#include "postgres.h"

/*
 * The model's time unit.  Durations (recency, t, horizon) are expressed in
 * these units; a month is 30.4375 days and a year 365.25 days.
 */
typedef enum ClvTimeUnit
{
	CLV_UNIT_DAY = 0,
	CLV_UNIT_WEEK,
	CLV_UNIT_MONTH,
	CLV_UNIT_YEAR
} ClvTimeUnit;

#define CLV_VALID_TIME_UNITS "day, week, month, year"

/* "day", "week", ... in enum order, NULL-terminated (an options ENUM). */
extern const char *const clv_time_unit_names[];

extern ClvTimeUnit clv_parse_time_unit(const char *name);
extern ClvTimeUnit clv_parse_time_unit_text(const text *name);
extern const char *clv_time_unit_name(ClvTimeUnit unit);
extern double clv_time_unit_days(ClvTimeUnit unit);

#endif							/* CLV_H */
