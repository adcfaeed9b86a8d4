/*-------------------------------------------------------------------------
 *
 * source.h
 *	  The one reader contract of every `source` argument: a table or view
 *	  name, or exactly one read-only query.
 *
 * Every function that reads a user source (clv_fit, clv_train,
 * clv_kmeans_train, clv_kmeans_scan, and the SQL functions through
 * clv_source_sql) turns it into FROM-clause text here, so that the checks
 * cannot drift apart.  A query is parsed (not run) first: anything but a
 * single SELECT / VALUES / TABLE / WITH ... SELECT without SELECT INTO,
 * row locks or data-modifying WITH queries is a 42601 before any SQL runs.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_SOURCE_H
#define CLV_SOURCE_H

/*
 * FROM-clause text for source (palloc'd): for a table or view name the
 * quoted, schema-qualified name resolved under the caller's search_path
 * (42P01 if missing, 42809 if not something rows can be read from), with
 * its OID in *relid; for a query the query parenthesised, without its
 * trailing semicolon, with InvalidOid in *relid.  relid may be NULL.  The
 * text needs an alias after it (PostgreSQL 15 requires one for a subquery).
 */
extern char *clv_source_from_clause(const char *source, Oid *relid);

#endif							/* CLV_SOURCE_H */
