/*-------------------------------------------------------------------------
 *
 * options.h
 *	  One table-driven parser for the jsonb options of every clv function.
 *
 * A function with options declares a table with one ClvOption per key --
 * its type, its range or allowed values, its default and where the value
 * goes -- and calls clv_parse_options once.  The parser fills in every
 * default, then checks the object and raises 22023
 * (ERRCODE_INVALID_PARAMETER_VALUE) for
 *
 *	  - options that are not an object: "options must be a jsonb object",
 *		HINT listing the valid keys;
 *	  - an unknown key: unknown option "penalty", HINT "Valid options are:
 *		time_unit, penalizer, ..." (from the table, in its order);
 *	  - a value of the wrong type: option "verbose" must be a boolean, not
 *		a string;
 *	  - a value out of range: option "n_draws" must be a whole number from
 *		10 to 100000, not 5 (the value as written in the jsonb);
 *	  - a string that is not one of the values: invalid value "fortnight"
 *		for option "time_unit", HINT "Valid values are: day, week, ...".
 *
 * Example (a function with options {"n_draws": 1000, "seed": 1,
 * "method": "fast", "verbose": false}):
 *
 *	  typedef struct MyOptions
 *	  {
 *		  int		n_draws;
 *		  int64		seed;
 *		  int		method;			(an index into my_methods)
 *		  bool		verbose;
 *	  } MyOptions;
 *
 *	  static const char *const my_methods[] = {"fast", "exact", NULL};
 *
 *	  static const ClvOption my_options[] = {
 *		  {.key = "n_draws", .type = CLV_OPTION_INT, .min = 10, .max = 100000,
 *		   .def = 1000, .offset = offsetof(MyOptions, n_draws)},
 *		  {.key = "seed", .type = CLV_OPTION_INT64, .min = 0, .max = PG_UINT32_MAX,
 *		   .def = 1, .offset = offsetof(MyOptions, seed)},
 *		  {.key = "method", .type = CLV_OPTION_ENUM, .values = my_methods,
 *		   .def = 0, .offset = offsetof(MyOptions, method)},
 *		  {.key = "verbose", .type = CLV_OPTION_BOOL, .def = false,
 *		   .offset = offsetof(MyOptions, verbose)},
 *	  };
 *
 *	  MyOptions	o;
 *
 *	  clv_parse_options(PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2),
 *						my_options, lengthof(my_options), &o);
 *
 * Numeric types must give both ends of the range (-INFINITY / INFINITY for
 * an open end; CLV_OPTION_MIN_OPEN / MAX_OPEN exclude an end itself).  A
 * field that is not a plain int/int64/double/bool can take a setter instead
 * of an offset: it is called with the checked value (defaults included).
 *
 * fmgr-level glue (it raises errors); no math.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_OPTIONS_H
#define CLV_OPTIONS_H

#include "postgres.h"

#include "utils/jsonb.h"

typedef enum ClvOptionType
{
	CLV_OPTION_NUMBER,			/* a number in [min, max], stored as double */
	CLV_OPTION_INT,				/* a whole number in [min, max], as int */
	CLV_OPTION_INT64,			/* a whole number in [min, max], as int64 */
	CLV_OPTION_BOOL,			/* true or false, as bool */
	CLV_OPTION_ENUM,			/* one of values (a string): its index, as int */
	CLV_OPTION_OBJECT			/* a jsonb object, as JsonbContainer * (points
								 * into the options; NULL by default) */
} ClvOptionType;

/* ClvOption.flags */
#define CLV_OPTION_MIN_OPEN 0x01	/* min itself is out of range (> min) */
#define CLV_OPTION_MAX_OPEN 0x02	/* max itself is out of range (< max) */
#define CLV_OPTION_ICASE	0x04	/* ENUM: values compare case-insensitively */

/* A checked value, as a setter receives it. */
typedef union ClvOptionValue
{
	double		number;			/* NUMBER */
	int64		integer;		/* INT, INT64 */
	bool		boolean;		/* BOOL */
	int			index;			/* ENUM */
	JsonbContainer *object;		/* OBJECT */
} ClvOptionValue;

typedef void (*ClvOptionSetter) (void *dest, const ClvOptionValue *value);

typedef struct ClvOption
{
	const char *key;
	ClvOptionType type;
	double		min;			/* NUMBER, INT, INT64: the range */
	double		max;
	int			flags;			/* CLV_OPTION_* above */
	double		def;			/* the default: a number, 0/1 for BOOL, the
								 * index for ENUM (OBJECT: always NULL) */
	const char *const *values;	/* ENUM: the names, NULL-terminated */
	size_t		offset;			/* offsetof the field in dest */
	ClvOptionSetter set;		/* instead of offset, if not NULL */
	const char *hint;			/* HINT for a bad value, if not NULL */
} ClvOption;

/*
 * Fills dest with the defaults of every option in table (n entries), then
 * with the values of options (NULL: defaults only), raising 22023 as above.
 */
extern void clv_parse_options(Jsonb *options, const ClvOption *table, int n,
							  void *dest);

/*
 * The same for any jsonb object of keys (an offer): what names the object
 * in messages ("offer") and item one key ("offer key").
 */
extern void clv_parse_object(Jsonb *object, const char *what, const char *item,
							 const ClvOption *table, int n, void *dest);

/* "a, b, c": the keys of table (for a caller's own hints). */
extern char *clv_option_keys(const ClvOption *table, int n);

#endif							/* CLV_OPTIONS_H */
