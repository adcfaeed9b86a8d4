/*-------------------------------------------------------------------------
 *
 * btyd_json.h
 *	  Small jsonb helpers for the BTYD glue: building objects as text and
 *	  reading numbers and strings out of flat objects.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_BTYD_JSON_H
#define CLV_BTYD_JSON_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* Object building: "key": value pairs appended with a separating comma. */
extern void clv_json_key(StringInfo buf, const char *key);
extern void clv_json_num(StringInfo buf, const char *key, double v);	/* NaN/Inf -> null */
extern void clv_json_str(StringInfo buf, const char *key, const char *v);	/* NULL -> null */
extern void clv_json_bool(StringInfo buf, const char *key, bool v);
extern void clv_json_raw(StringInfo buf, const char *key, const char *json);
extern Jsonb *clv_json_finish(StringInfo buf);	/* buf holds "{...}" */

/*
 * Reading: the value's type name for messages, a jsonb number as a double
 * (22023 naming `what` if it is not a finite number), a string (palloc'd).
 */
extern const char *clv_jsonb_type_name(const JsonbValue *v);
extern double clv_jsonb_number(const JsonbValue *v, const char *what);
extern char *clv_jsonb_string(const JsonbValue *v, const char *what);

#endif							/* CLV_BTYD_JSON_H */
