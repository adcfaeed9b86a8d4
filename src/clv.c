/*-------------------------------------------------------------------------
 *
 * clv.c
 *	  Module initialisation and helpers shared by all clv modules.
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
}

static const struct
{
	const char *name;
	double		days;
}			clv_time_units[] =
{
	[CLV_UNIT_DAY] = {"day", 1.0},
	[CLV_UNIT_WEEK] = {"week", 7.0},
	[CLV_UNIT_MONTH] = {"month", 30.4375},
	[CLV_UNIT_YEAR] = {"year", 365.25},
};

/*
 * Time units are spelled out in SQL; an unknown one is a user error that
 * lists the accepted spellings.
 */
ClvTimeUnit
clv_parse_time_unit(const char *name)
{
	for (int i = 0; i < (int) lengthof(clv_time_units); i++)
	{
		if (pg_strcasecmp(name, clv_time_units[i].name) == 0)
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

	for (int i = 0; i < (int) lengthof(clv_time_units); i++)
	{
		if (strlen(clv_time_units[i].name) == (size_t) len &&
			pg_strncasecmp(s, clv_time_units[i].name, len) == 0)
			return (ClvTimeUnit) i;
	}
	return clv_parse_time_unit(text_to_cstring(name));
}

const char *
clv_time_unit_name(ClvTimeUnit unit)
{
	Assert(unit >= 0 && unit < lengthof(clv_time_units));
	return clv_time_units[unit].name;
}

double
clv_time_unit_days(ClvTimeUnit unit)
{
	Assert(unit >= 0 && unit < lengthof(clv_time_units));
	return clv_time_units[unit].days;
}
