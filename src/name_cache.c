/*-------------------------------------------------------------------------
 *
 * name_cache.c
 *	  Per-query caches keyed by model name (see name_cache.h).
 *
 * Tier: core (palloc, ereport, CHECK_FOR_INTERRUPTS; no fmgr, no SPI).
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "name_cache.h"

/* The key is a pointer; the hash and the equality are of the string. */
static uint32
name_cache_hash(const void *key, Size keysize)
{
	const char *name = ((const ClvNameCacheKey *) key)->name;

	return hash_bytes((const unsigned char *) name, (int) strlen(name));
}

static int
name_cache_compare(const void *a, const void *b, Size keysize)
{
	return strcmp(((const ClvNameCacheKey *) a)->name,
				  ((const ClvNameCacheKey *) b)->name);
}

HTAB *
clv_name_cache_create(MemoryContext mcxt, const char *what, Size entrysize)
{
	HASHCTL		ctl;

	Assert(entrysize >= sizeof(ClvNameCacheKey));
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ClvNameCacheKey);
	ctl.entrysize = entrysize;
	ctl.hash = name_cache_hash;
	ctl.match = name_cache_compare;
	ctl.hcxt = mcxt;
	return hash_create(what, 16, &ctl,
					   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

void *
clv_name_cache_find(HTAB *cache, const char *name)
{
	ClvNameCacheKey key = {name};

	return hash_search(cache, &key, HASH_FIND, NULL);
}

void *
clv_name_cache_insert(HTAB *cache, MemoryContext mcxt, const char *name)
{
	ClvNameCacheKey key = {MemoryContextStrdup(mcxt, name)};
	bool		found;
	void	   *entry = hash_search(cache, &key, HASH_ENTER, &found);

	Assert(!found);
	return entry;
}
