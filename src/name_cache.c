/*-------------------------------------------------------------------------
 *
 * name_cache.c
 *	  Per-query model caches, one value or one per name (see name_cache.h).
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
#include "utils/snapmgr.h"

#include "name_cache.h"

/* Zero-filled first so that the keys compare with memcmp, padding included. */
void
clv_snapshot_key(ClvSnapshotKey *key)
{
	memset(key, 0, sizeof(*key));
	if (ActiveSnapshotSet())
	{
		Snapshot	snap = GetActiveSnapshot();

		key->xmin = snap->xmin;
		key->xmax = snap->xmax;
		key->curcid = snap->curcid;
		key->completions = snap->snapXactCompletionCount;
	}
}

/*
 * Runs build; on error cxt is deleted (with the caller's
 * context current again: the build may have failed with cxt current).
 */
static void *
build_or_delete(MemoryContext cxt, ClvCacheBuild build, void *arg)
{
	MemoryContext callercxt = CurrentMemoryContext;
	void	   *value = NULL;

	PG_TRY();
	{
		value = build(arg, cxt);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(callercxt);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return value;
}

/*
 * The value is built into a context of its own before the slot is
 * touched: if the build fails the new context goes and the slot keeps its
 * old value (still right for its own key and snapshot); if it succeeds the
 * old value's context goes.
 */
void *
clv_cache_slot_get(ClvCacheSlot *slot, MemoryContext parent,
				   const void *key, Size keylen, bool by_snapshot,
				   ClvCacheBuild build, void *arg)
{
	ClvSnapshotKey now;
	MemoryContext cxt;
	void	   *value;
	char	   *keycopy = NULL;

	memset(&now, 0, sizeof(now));
	if (by_snapshot)
		clv_snapshot_key(&now);
	if (slot->cxt != NULL && slot->keylen == keylen &&
		(keylen == 0 || memcmp(slot->key, key, keylen) == 0) &&
		memcmp(&slot->seen, &now, sizeof(now)) == 0)
		return slot->value;

	cxt = AllocSetContextCreate(parent, "clv cached model", ALLOCSET_SMALL_SIZES);
	value = build_or_delete(cxt, build, arg);
	if (keylen > 0)
	{
		keycopy = MemoryContextAlloc(cxt, keylen);
		memcpy(keycopy, key, keylen);
	}
	if (slot->cxt != NULL)
		MemoryContextDelete(slot->cxt);
	slot->cxt = cxt;
	slot->value = value;
	slot->seen = now;
	slot->key = keycopy;
	slot->keylen = keylen;
	return value;
}

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

/* A dynahash in mcxt, so that it goes with the FmgrInfo. */
HTAB *
clv_name_cache_create(MemoryContext mcxt, const char *what)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ClvNameCacheKey);
	ctl.entrysize = sizeof(ClvNameCacheEntry);
	ctl.hash = name_cache_hash;
	ctl.match = name_cache_compare;
	ctl.hcxt = mcxt;
	return hash_create(what, 16, &ctl,
					   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

/*
 * A known name refreshes its own slot; a new name is built in a slot on
 * the stack and enters the table only once the build has succeeded.
 */
void *
clv_name_cache_get(HTAB *cache, MemoryContext mcxt, const char *name,
				   ClvCacheBuild build, void *arg)
{
	ClvNameCacheKey key = {name};
	ClvNameCacheEntry *entry = hash_search(cache, &key, HASH_FIND, NULL);
	ClvCacheSlot fresh;
	bool		found;
	void	   *value;

	if (entry != NULL)
		return clv_cache_slot_get(&entry->slot, mcxt, NULL, 0, true, build, arg);

	memset(&fresh, 0, sizeof(fresh));
	value = clv_cache_slot_get(&fresh, mcxt, NULL, 0, true, build, arg);
	key.name = MemoryContextStrdup(mcxt, name);
	entry = hash_search(cache, &key, HASH_ENTER, &found);
	Assert(!found);
	entry->slot = fresh;
	return value;
}
