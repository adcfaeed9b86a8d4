/*-------------------------------------------------------------------------
 *
 * name_cache.h
 *	  The per-query model caches of the prediction and scoring functions:
 *	  one value, or one value per model name, kept in fn_extra and rebuilt
 *	  when the snapshot changes.
 *
 * A name-based function resolves a model once per query and name; a name
 * taken from a column can bring many distinct names, so the per-name cache
 * is a hash table (a list would make the query quadratic in them).  Names
 * of any length are keys: the table stores a pointer to a copy of the name
 * and hashes and compares the strings.
 *
 * Each cached value lives in a memory context of its own, built by the
 * caller's build function.  A value is built in full before it replaces
 * the old one or enters the table, and its context is deleted if the build
 * fails, so an error never leaves a half-made entry behind; a rebuild frees
 * the value it replaces.
 *
 * fmgr-level glue; no math.
 *
 * Copyright (C) 2026 the clv developers; GPL-3.0-or-later.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CLV_NAME_CACHE_H
#define CLV_NAME_CACHE_H

#include "utils/hsearch.h"

/*
 * What a catalog lookup saw: the identity of the active snapshot.  It is
 * constant for the whole of an ordinary query (and in its parallel
 * workers), but changes between the statements of a PL/pgSQL function,
 * which keeps the FmgrInfo of a simple expression for a whole transaction:
 * a model trained by an earlier statement of the same loop must be seen.
 */
typedef struct ClvSnapshotKey
{
	TransactionId xmin;
	TransactionId xmax;
	CommandId	curcid;
	uint64		completions;
} ClvSnapshotKey;

/* The identity of the active snapshot (all zero without one). */
extern void clv_snapshot_key(ClvSnapshotKey *key);

/*
 * Builds a cached value: everything that must outlive the call goes in
 * cxt (scratch allocations may use the current context).
 */
typedef void *(*ClvCacheBuild) (void *arg, MemoryContext cxt);

/* One cached value; zero-filled means empty. */
typedef struct ClvCacheSlot
{
	MemoryContext cxt;			/* holds value and key; NULL when empty */
	void	   *value;
	ClvSnapshotKey seen;		/* by_snapshot: the snapshot of the build */
	char	   *key;			/* the bytes the value was built for */
	Size		keylen;
} ClvCacheSlot;

/*
 * The value of slot for key (keylen bytes; 0 for none), built by
 * build(arg, cxt) in a new child context of parent when the slot is empty,
 * was built for other bytes or (by_snapshot) in another snapshot.  One
 * slot: values that change per row are rebuilt per row but cost no memory.
 */
extern void *clv_cache_slot_get(ClvCacheSlot *slot, MemoryContext parent,
								const void *key, Size keylen, bool by_snapshot,
								ClvCacheBuild build, void *arg);

/* Every entry of a name cache; the name is the hash key. */
typedef struct ClvNameCacheKey
{
	const char *name;			/* NUL-terminated, owned by the cache */
} ClvNameCacheKey;

typedef struct ClvNameCacheEntry
{
	ClvNameCacheKey key;
	ClvCacheSlot slot;
} ClvNameCacheEntry;

/* An empty name cache living in mcxt (what names it for debugging). */
extern HTAB *clv_name_cache_create(MemoryContext mcxt, const char *what);

/*
 * The value of name, read in the current snapshot: from the cache, or
 * built by build(arg, cxt) (see clv_cache_slot_get); a name enters the
 * cache only once its value is built.
 */
extern void *clv_name_cache_get(HTAB *cache, MemoryContext mcxt,
								const char *name, ClvCacheBuild build,
								void *arg);

#endif							/* CLV_NAME_CACHE_H */
