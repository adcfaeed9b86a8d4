/*-------------------------------------------------------------------------
 *
 * columns.c
 *	  Numeric columns of a user source (see columns.h).
 *
 * Tier: glue (fmgr, SPI and PostgreSQL types around the math and core files).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "columns.h"

/* Feature names are checked before any SQL runs, with errors naming them. */
char **
clv_feature_names(ArrayType *arr, int max, int *d)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	char	  **names;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a one-dimensional array of column names")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must name at least one column")));
	if (n > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d features are too many (at most %d)", n, max)));
	names = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("feature name %d is NULL", i + 1)));
		names[i] = TextDatumGetCString(elems[i]);
		for (int j = 0; j < i; j++)
		{
			if (strcmp(names[i], names[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("feature \"%s\" is listed twice", names[i])));
		}
	}
	*d = n;
	return names;
}

/* The numeric types a feature or target may have: integers, floats, numeric. */
bool
clv_numeric_type(Oid typ)
{
	typ = getBaseType(typ);
	return typ == INT2OID || typ == INT4OID || typ == INT8OID ||
		typ == FLOAT4OID || typ == FLOAT8OID || typ == NUMERICOID;
}

double
clv_numeric_datum(Datum v, Oid typ)
{
	switch (typ)
	{
		case INT2OID:
			return (double) DatumGetInt16(v);
		case INT4OID:
			return (double) DatumGetInt32(v);
		case INT8OID:
			return (double) DatumGetInt64(v);
		case FLOAT4OID:
			return (double) DatumGetFloat4(v);
		case FLOAT8OID:
			return DatumGetFloat8(v);
		default:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8, v));
	}
}

/* Rows go straight from the executor to dest: no tuple is copied. */
void
clv_execute_into(const char *sql, const char *source, DestReceiver *dest)
{
	SPIExecuteOptions opts;
	int			rc;

	memset(&opts, 0, sizeof(opts));
	opts.read_only = true;
	opts.dest = dest;
	/* with a DestNone receiver a SELECT reports SPI_OK_UTILITY */
	rc = SPI_execute_extended(sql, &opts);
	if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" is not a query returning rows", source)));
}
