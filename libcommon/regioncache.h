/*
 * The client's routing cache: the regions it knows, sorted by start key,
 * each with the peer it believes leads it.  Pure bookkeeping: no locks,
 * no I/O (client.c holds the lock and asks PD on a miss).
 *
 * Cached regions never overlap.  Inserting a region evicts every cached
 * region it overlaps and any older copy of the same id, unless the
 * newcomer is stale: a copy of the same id with an older epoch, or a
 * region overlapping a cached one of a higher version (versions grow
 * with every split and merge, so of two overlapping regions the lower
 * version is the older).  A stale newcomer is refused and the cache is
 * left as it was.
 *
 * Lookups copy the region out; out must be region_init'ed.
 */
#ifndef REGIONCACHE_H
#define REGIONCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "region.h"

struct regioncache;

struct regioncache *regioncache_new(void);
void regioncache_free(struct regioncache *);

/* 1: inserted; 0: refused as stale. */
int regioncache_insert(struct regioncache *, const struct region *,
    uint64_t leader_peer_id);

/* The region holding key: 1 found (copied to out), 0 not cached. */
int regioncache_lookup(const struct regioncache *, const void *key,
    size_t len, struct region *out, uint64_t *leader_peer_id);
/*
 * For reverse scans: the region holding the keys just below end, that is
 * start < end <= region end.  An empty end means the end of the key
 * space: the region whose end is empty.
 */
int regioncache_lookup_prev(const struct regioncache *, const void *end,
    size_t len, struct region *out, uint64_t *leader_peer_id);
int regioncache_get(const struct regioncache *, uint64_t region_id,
    struct region *out, uint64_t *leader_peer_id);

/* 1 if the region was cached and is now gone, else 0. */
int regioncache_remove(struct regioncache *, uint64_t region_id);
/* 1 if the region is cached (its leader is now peer_id), else 0. */
int regioncache_set_leader(struct regioncache *, uint64_t region_id,
    uint64_t leader_peer_id);
size_t regioncache_count(const struct regioncache *);
void regioncache_clear(struct regioncache *);

#endif
