/*-------------------------------------------------------------------------
 *
 * clv.c
 *	  Module initialisation and helpers shared by all clv modules.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <gsl/gsl_errno.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "clv.h"
#include "kmeans.h"
#include "regressor.h"
#include "specfun.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* The model math is server-agnostic; this is how its long loops get cancelled. */
static void
clv_check_for_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/*
 * GSL's default error handler calls abort(), which would take the whole
 * backend down; every GSL call in clv checks the returned status instead.
 */
void
_PG_init(void)
{
	gsl_set_error_handler_off();
	clv_interrupt_hook = clv_check_for_interrupts;
	clv_kmeans_init();
	/* a GUC only: XGBoost is first touched by a training or a prediction */
	clv_regressor_init();
	/* after every clv.* setting: a misspelt one is an error, not a placeholder */
	MarkGUCPrefixReserved("clv");
}

/* The spellings of the time units, in enum order (NULL-terminated). */
const char *const clv_time_unit_names[] = {
	[CLV_UNIT_DAY] = "day",
	[CLV_UNIT_WEEK] = "week",
	[CLV_UNIT_MONTH] = "month",
	[CLV_UNIT_YEAR] = "year",
	NULL
};

/* Their lengths in days: a month and a year are calendar averages. */
static const double clv_time_unit_lengths[] = {
	[CLV_UNIT_DAY] = 1.0,
	[CLV_UNIT_WEEK] = 7.0,
	[CLV_UNIT_MONTH] = 30.4375,
	[CLV_UNIT_YEAR] = 365.25,
};

/*
 * Time units are spelled out in SQL; an unknown one is a user error that
 * lists the accepted spellings.
 */
ClvTimeUnit
clv_parse_time_unit(const char *name)
{
	for (int i = 0; i < (int) lengthof(clv_time_unit_lengths); i++)
	{
		if (pg_strcasecmp(name, clv_time_unit_names[i]) == 0)
			return (ClvTimeUnit) i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid time unit \"%s\"", name),
			 errhint("Valid time units are: %s.", CLV_VALID_TIME_UNITS)));
	pg_unreachable();
}

/*
 * The same for a text argument without copying it: aggregates see the unit
 * once per input row.
 */
ClvTimeUnit
clv_parse_time_unit_text(const text *name)
{
	const char *s = VARDATA_ANY(name);
	int			len = VARSIZE_ANY_EXHDR(name);

	for (int i = 0; i < (int) lengthof(clv_time_unit_lengths); i++)
	{
		if (strlen(clv_time_unit_names[i]) == (size_t) len &&
			pg_strncasecmp(s, clv_time_unit_names[i], len) == 0)
			return (ClvTimeUnit) i;
	}
	return clv_parse_time_unit(text_to_cstring(name));
}

/* The spelling of a unit, as stored in clv_models.time_unit. */
const char *
clv_time_unit_name(ClvTimeUnit unit)
{
	Assert(unit >= 0 && unit < lengthof(clv_time_unit_lengths));
	return clv_time_unit_names[unit];
}

/* Days per unit, to convert durations between units. */
double
clv_time_unit_days(ClvTimeUnit unit)
{
	Assert(unit >= 0 && unit < lengthof(clv_time_unit_lengths));
	return clv_time_unit_lengths[unit];
}
