/*-------------------------------------------------------------------------
 *
 * btyd_json.c
 *	  Small jsonb helpers for the BTYD glue.
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

#include "btyd_json.h"

void
clv_json_key(StringInfo buf, const char *key)
{
	if (buf->len > 1)
		appendStringInfoChar(buf, ',');
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
}

void
clv_json_num(StringInfo buf, const char *key, double v)
{
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	clv_json_key(buf, key);
	if (!isfinite(v))
		appendStringInfoString(buf, "null");
	else
	{
		double_to_shortest_decimal_buf(v, num);
		appendStringInfoString(buf, num);
	}
}

void
clv_json_str(StringInfo buf, const char *key, const char *v)
{
	clv_json_key(buf, key);
	if (v == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, v);
}

void
clv_json_bool(StringInfo buf, const char *key, bool v)
{
	clv_json_key(buf, key);
	appendStringInfoString(buf, v ? "true" : "false");
}

void
clv_json_raw(StringInfo buf, const char *key, const char *json)
{
	clv_json_key(buf, key);
	appendStringInfoString(buf, json);
}

Jsonb *
clv_json_finish(StringInfo buf)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data)));
}

const char *
clv_jsonb_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		default:
			return "array or object";
	}
}

double
clv_jsonb_number(const JsonbValue *v, const char *what)
{
	double		d;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a number, not a %s", what, clv_jsonb_type_name(v))));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   NumericGetDatum(v->val.numeric)));
	if (!isfinite(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be finite, not %g", what, d)));
	return d;
}

char *
clv_jsonb_string(const JsonbValue *v, const char *what)
{
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a string, not a %s", what, clv_jsonb_type_name(v))));
	return pnstrdup(v->val.string.val, v->val.string.len);
}
