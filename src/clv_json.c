/*-------------------------------------------------------------------------
 *
 * clv_json.c
 *	  The jsonb helpers of every model kind (see clv_json.h).
 *
 * Results are few and small, so objects are written as JSON text (with
 * shortest round-trip numbers) and parsed once by jsonb_in; that keeps the
 * builders trivial.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/numeric.h"

#include "clv_json.h"

/* A key after a comma unless it is the first in the object. */
void
clv_json_key(StringInfo buf, const char *key)
{
	if (buf->len > 1)
		appendStringInfoChar(buf, ',');
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
}

/* A number under key (non-finite: null, see clv_json_number). */
void
clv_json_num(StringInfo buf, const char *key, double v)
{
	clv_json_key(buf, key);
	clv_json_number(buf, v);
}

/* A NULL string is JSON null (e.g. no spend model). */
void
clv_json_str(StringInfo buf, const char *key, const char *v)
{
	clv_json_key(buf, key);
	if (v == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, v);
}

/* A boolean member. */
void
clv_json_bool(StringInfo buf, const char *key, bool v)
{
	clv_json_key(buf, key);
	appendStringInfoString(buf, v ? "true" : "false");
}

/* A member whose value is JSON text built elsewhere (a nested object). */
void
clv_json_raw(StringInfo buf, const char *key, const char *json)
{
	clv_json_key(buf, key);
	appendStringInfoString(buf, json);
}

/* Parses the text once into jsonb. */
Jsonb *
clv_json_finish(StringInfo buf)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data)));
}

/*
 * A bare number, shortest round-trip.  Non-finite numbers have no JSON
 * spelling: they are written as null.
 */
void
clv_json_number(StringInfo buf, double v)
{
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (!isfinite(v))
	{
		appendStringInfoString(buf, "null");
		return;
	}
	double_to_shortest_decimal_buf(v, num);
	appendStringInfoString(buf, num);
}

/* A bare array of n numbers, as centroids and scalings are stored. */
void
clv_json_numbers(StringInfo buf, const double *v, int n)
{
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		clv_json_number(buf, v[i]);
	}
	appendStringInfoChar(buf, ']');
}

/*
 * What a value is, with its article, for "must be a number, not %s"
 * messages.  Values from an iterator with skipNested are jbvBinary for
 * arrays and objects.
 */
const char *
clv_jsonb_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvArray:
			return "an array";
		case jbvObject:
			return "an object";
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data) ? "an object" : "an array";
		default:
			return "an unknown value";
	}
}

/*
 * A number as a double.  jsonb has no NaN or infinity, but a numeric beyond
 * float8 (1e400) makes numeric_float8 raise 22003 itself.
 */
double
clv_jsonb_number(const JsonbValue *v, const char *what)
{
	double		d;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a number, not %s", what, clv_jsonb_type_name(v))));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(v->val.numeric)));
	if (!isfinite(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be finite, not %g", what, d)));
	return d;
}

/* A string value, copied and NUL-terminated. */
char *
clv_jsonb_string(const JsonbValue *v, const char *what)
{
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a string, not %s", what, clv_jsonb_type_name(v))));
	return pnstrdup(v->val.string.val, v->val.string.len);
}
