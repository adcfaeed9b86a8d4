/*-------------------------------------------------------------------------
 *
 * options.c
 *	  The table-driven jsonb options parser (see options.h).
 *
 * Every function with options used to walk its jsonb with its own loop and
 * its own wording of the same four errors; the table keeps the keys, their
 * checks and the valid-key hints in one place, so that they cannot drift.
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "clv_json.h"
#include "options.h"

/* "a, b, c" from a NULL-terminated list of names. */
static char *
join_names(const char *const *names)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; names[i] != NULL; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", names[i]);
	return buf.data;
}

/* The keys of a table, in its order, for the valid-options hint. */
char *
clv_option_keys(const ClvOption *table, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", table[i].key);
	return buf.data;
}

/* What the option must be, for the type error: "a whole number". */
static const char *
type_noun(const ClvOption *o)
{
	switch (o->type)
	{
		case CLV_OPTION_NUMBER:
			return "a number";
		case CLV_OPTION_INT:
		case CLV_OPTION_INT64:
			return "a whole number";
		case CLV_OPTION_BOOL:
			return "a boolean";
		case CLV_OPTION_ENUM:
			return "a string";
		case CLV_OPTION_OBJECT:
			return "an object";
	}
	return "a value";
}

/* One end of a range as text: whole numbers without an exponent. */
static char *
bound_text(const ClvOption *o, double v)
{
	if (o->type == CLV_OPTION_NUMBER)
		return psprintf("%g", v);
	return psprintf(INT64_FORMAT, (int64) v);
}

/* The range of a numeric option in words: "from 1 to 1000", ">= 0". */
static char *
range_text(const ClvOption *o)
{
	bool		lo = isfinite(o->min);
	bool		hi = isfinite(o->max);
	bool		lo_open = (o->flags & CLV_OPTION_MIN_OPEN) != 0;
	bool		hi_open = (o->flags & CLV_OPTION_MAX_OPEN) != 0;

	if (lo && hi && !lo_open && !hi_open)
		return psprintf("from %s to %s", bound_text(o, o->min), bound_text(o, o->max));
	if (lo && hi)
		return psprintf("%s %s and %s %s", lo_open ? ">" : ">=", bound_text(o, o->min),
						hi_open ? "<" : "<=", bound_text(o, o->max));
	if (lo)
		return psprintf("%s %s", lo_open ? ">" : ">=", bound_text(o, o->min));
	if (hi)
		return psprintf("%s %s", hi_open ? "<" : "<=", bound_text(o, o->max));
	return pstrdup("");
}

/* Writes one value where the table says (or hands it to the setter). */
static void
store(const ClvOption *o, void *dest, const ClvOptionValue *v)
{
	char	   *p = (char *) dest + o->offset;

	if (o->set)
	{
		o->set(dest, v);
		return;
	}
	switch (o->type)
	{
		case CLV_OPTION_NUMBER:
			*(double *) p = v->number;
			break;
		case CLV_OPTION_INT:
			*(int *) p = (int) v->integer;
			break;
		case CLV_OPTION_INT64:
			*(int64 *) p = v->integer;
			break;
		case CLV_OPTION_BOOL:
			*(bool *) p = v->boolean;
			break;
		case CLV_OPTION_ENUM:
			*(int *) p = v->index;
			break;
		case CLV_OPTION_OBJECT:
			*(JsonbContainer **) p = v->object;
			break;
	}
}

/* The default of an entry as a value. */
static void
default_value(const ClvOption *o, ClvOptionValue *v)
{
	memset(v, 0, sizeof(*v));
	switch (o->type)
	{
		case CLV_OPTION_NUMBER:
			v->number = o->def;
			break;
		case CLV_OPTION_INT:
		case CLV_OPTION_INT64:
			v->integer = (int64) o->def;
			break;
		case CLV_OPTION_BOOL:
			v->boolean = o->def != 0;
			break;
		case CLV_OPTION_ENUM:
			v->index = (int) o->def;
			break;
		case CLV_OPTION_OBJECT:
			v->object = NULL;
			break;
	}
}

static void wrong_type(const char *item, const ClvOption *o, const JsonbValue *jv) pg_attribute_noreturn();

/* 22023 for a value of the wrong jsonb type, naming the key and the type. */
static void
wrong_type(const char *item, const ClvOption *o, const JsonbValue *jv)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s \"%s\" must be %s, not %s",
					item, o->key, type_noun(o), clv_jsonb_type_name(jv)),
			 o->type == CLV_OPTION_ENUM ?
			 errhint("Valid values are: %s.", join_names(o->values)) :
			 o->hint ? errhint("%s", o->hint) : 0));
	pg_unreachable();
}

/*
 * The value as written, for messages: jsonb keeps numbers as numeric, so
 * 1e400 is a valid option value that float8 cannot hold; long ones are
 * shown in scientific notation.
 */
static char *
value_text(const JsonbValue *jv)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out,
														NumericGetDatum(jv->val.numeric)));

	if (strlen(s) > 32)
		s = numeric_out_sci(jv->val.numeric, 6);
	return s;
}

/*
 * A number in range (and whole for the integer types).  A numeric beyond
 * float8 becomes an infinity, which no range admits.
 */
static void
check_number(const char *item, const ClvOption *o, const JsonbValue *jv, ClvOptionValue *v)
{
	double		d;
	bool		ok;

	if (jv->type != jbvNumeric)
		wrong_type(item, o, jv);
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
										   NumericGetDatum(jv->val.numeric)));
	ok = isfinite(d);
	ok &= (o->flags & CLV_OPTION_MIN_OPEN) ? d > o->min : d >= o->min;
	ok &= (o->flags & CLV_OPTION_MAX_OPEN) ? d < o->max : d <= o->max;
	if (o->type != CLV_OPTION_NUMBER)
		ok &= d == floor(d);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be %s %s, not %s", item, o->key, type_noun(o),
						range_text(o), value_text(jv)),
				 o->hint ? errhint("%s", o->hint) : 0));
	if (o->type == CLV_OPTION_NUMBER)
		v->number = d;
	else
		v->integer = (int64) d;
}

/* The index of a string among the values of an ENUM entry. */
static int
check_enum(const char *item, const ClvOption *o, const JsonbValue *jv)
{
	char	   *s;

	if (jv->type != jbvString)
		wrong_type(item, o, jv);
	s = pnstrdup(jv->val.string.val, jv->val.string.len);
	for (int i = 0; o->values[i] != NULL; i++)
	{
		if ((o->flags & CLV_OPTION_ICASE) ? pg_strcasecmp(s, o->values[i]) == 0 :
			strcmp(s, o->values[i]) == 0)
			return i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value \"%s\" for %s \"%s\"", s, item, o->key),
			 errhint("Valid values are: %s.", join_names(o->values))));
	pg_unreachable();
}

/* Checks one value against its entry and converts it. */
static void
check_value(const char *item, const ClvOption *o, const JsonbValue *jv, ClvOptionValue *v)
{
	memset(v, 0, sizeof(*v));
	switch (o->type)
	{
		case CLV_OPTION_NUMBER:
		case CLV_OPTION_INT:
		case CLV_OPTION_INT64:
			check_number(item, o, jv, v);
			break;
		case CLV_OPTION_BOOL:
			if (jv->type != jbvBool)
				wrong_type(item, o, jv);
			v->boolean = jv->val.boolean;
			break;
		case CLV_OPTION_ENUM:
			v->index = check_enum(item, o, jv);
			break;
		case CLV_OPTION_OBJECT:
			if (jv->type != jbvBinary || !JsonContainerIsObject(jv->val.binary.data))
				wrong_type(item, o, jv);
			v->object = jv->val.binary.data;
			break;
	}
}

/*
 * Defaults first, so that a caller sees a complete struct whatever the
 * object holds; then each key of the object, in the object's order.  The
 * iteration skips nested containers: only the top level holds options.
 * what names the object in messages ("options", "offer") and item one key
 * of it ("option", "offer key").
 */
void
clv_parse_object(Jsonb *options, const char *what, const char *item,
				 const ClvOption *table, int n, void *dest)
{
	JsonbIterator *it;
	JsonbValue	jv;
	JsonbIteratorToken tok;
	const ClvOption *o = NULL;

	for (int i = 0; i < n; i++)
	{
		ClvOptionValue v;

		Assert(table[i].type != CLV_OPTION_ENUM || table[i].values != NULL);
		Assert(table[i].type != CLV_OPTION_INT ||
			   (table[i].min >= INT_MIN && table[i].max <= INT_MAX));
		default_value(&table[i], &v);
		store(&table[i], dest, &v);
	}
	if (options == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a jsonb object", what),
				 errhint("Valid %ss are: %s.", item, clv_option_keys(table, n))));

	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &jv, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			o = NULL;
			for (int i = 0; i < n && o == NULL; i++)
			{
				if (strlen(table[i].key) == (size_t) jv.val.string.len &&
					memcmp(table[i].key, jv.val.string.val, jv.val.string.len) == 0)
					o = &table[i];
			}
			if (o == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown %s \"%s\"", item,
								pnstrdup(jv.val.string.val, jv.val.string.len)),
						 errhint("Valid %ss are: %s.", item, clv_option_keys(table, n))));
		}
		else if (tok == WJB_VALUE)
		{
			ClvOptionValue v;

			Assert(o != NULL);
			check_value(item, o, &jv, &v);
			store(o, dest, &v);
		}
	}
}

/* The options argument of a function: clv_parse_object for "options". */
void
clv_parse_options(Jsonb *options, const ClvOption *table, int n, void *dest)
{
	clv_parse_object(options, "options", "option", table, n, dest);
}
