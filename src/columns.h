/*-------------------------------------------------------------------------
 *
 * columns.h
 *	  Reading numeric columns of a user source: the column-name arrays the
 *	  training functions take, the numeric types they accept, and running
 *	  the SELECT into a DestReceiver.  Shared by K-Means and the regressors.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_COLUMNS_H
#define CLV_COLUMNS_H

#include "tcop/dest.h"
#include "utils/array.h"

/* Names from a text[]: one-dimensional, 1..max names, no NULLs, no duplicates. */
extern char **clv_feature_names(ArrayType *arr, int max, int *n);

/* Whether the type (or a domain's base type) is one of the numeric types read. */
extern bool clv_numeric_type(Oid typ);

/* A value of such a base type as a double (numeric beyond float8: 22003). */
extern double clv_numeric_datum(Datum v, Oid basetyp);

/*
 * Runs sql (inside SPI_connect, read-only) with its rows going to dest; an
 * error naming source if it does not return rows.
 */
extern void clv_execute_into(const char *sql, const char *source, DestReceiver *dest);

#endif							/* CLV_COLUMNS_H */
