/*-------------------------------------------------------------------------
 *
 * clv_json.h
 *	  The jsonb helpers of every model kind (BTYD, K-Means): building
 *	  objects as JSON text and reading numbers and strings out of jsonb.
 *
 * fmgr-level glue (it raises ereport errors); no math.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_JSON_H
#define CLV_JSON_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/*
 * Object building: "key": value pairs appended with a separating comma to a
 * buffer that starts with "{" (the caller writes the braces).  Numbers are
 * written as shortest round-trip decimals.
 */
extern void clv_json_key(StringInfo buf, const char *key);
extern void clv_json_num(StringInfo buf, const char *key, double v);	/* NaN/Inf -> null */
extern void clv_json_str(StringInfo buf, const char *key, const char *v);	/* NULL -> null */
extern void clv_json_bool(StringInfo buf, const char *key, bool v);
extern void clv_json_raw(StringInfo buf, const char *key, const char *json);
extern Jsonb *clv_json_finish(StringInfo buf);	/* buf holds "{...}" */

/* Bare values: a finite number, an array of n finite numbers. */
extern void clv_json_number(StringInfo buf, double v);
extern void clv_json_numbers(StringInfo buf, const double *v, int n);

/*
 * Reading: the value's type with its article ("a string", "an array") for
 * messages such as "must be a number, not %s"; a jsonb number as a double
 * (22023 naming `what` if it is not a number, 22003 if it is beyond
 * float8); a string (palloc'd).
 */
extern const char *clv_jsonb_type_name(const JsonbValue *v);
extern double clv_jsonb_number(const JsonbValue *v, const char *what);
extern char *clv_jsonb_string(const JsonbValue *v, const char *what);

#endif							/* CLV_JSON_H */
