/*-------------------------------------------------------------------------
 *
 * name_cache.h
 *	  Per-query caches keyed by model name (dynahash in fn_mcxt).
 *
 * The name-based functions resolve a model once per query and name; a
 * name taken from a column can bring many distinct names, so the cache is
 * a hash table (a list would make the query quadratic in them).  Names of
 * any length are keys: the table stores a pointer to a copy of the name
 * and hashes and compares the strings.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_NAME_CACHE_H
#define CLV_NAME_CACHE_H

#include "utils/hsearch.h"

/* Every entry starts with this key; the rest is the caller's. */
typedef struct ClvNameCacheKey
{
	const char *name;			/* NUL-terminated, owned by the cache */
} ClvNameCacheKey;

/* A cache whose entries take entrysize bytes, living in mcxt. */
extern HTAB *clv_name_cache_create(MemoryContext mcxt, const char *what,
								   Size entrysize);

/* The entry of name, or NULL. */
extern void *clv_name_cache_find(HTAB *cache, const char *name);

/*
 * A new entry for name (not in the cache yet), the copy of the name in
 * mcxt; the caller fills the rest at once.  Insert only once the value is
 * known, so that no half-made entry survives an error.
 */
extern void *clv_name_cache_insert(HTAB *cache, MemoryContext mcxt,
								   const char *name);

#endif							/* CLV_NAME_CACHE_H */
