/*
 * Region metadata: a contiguous key range [start, end) replicated by a
 * Raft group, its epoch, and its peers.  Shared by pdd (routing), tikvd
 * (one Raft group per region) and the client (routing cache).
 *
 * The epoch has two counters, as in TiKV: conf_ver grows with every
 * membership change, version with every split or merge.  A request or a
 * heartbeat carrying an older epoch than the current one is stale.
 *
 * An empty end key means "to the end of the key space"; an empty start
 * key is the beginning.
 *
 * On the wire a region is six tokens:
 *	id start end conf_ver version peers
 * where peers is "peer_id:store_id:role,..." and role is v (voter),
 * l (learner), i (incoming voter) or d (demoting voter) -- the last two
 * only inside a joint configuration.  Example:
 *	2 "" m 1 3 3:1:v,7:2:v,9:3:l
 */
#ifndef REGION_H
#define REGION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define REGION_MAX_PEERS	8
#define REGION_WIRE_TOKENS	6

enum region_role {
	REGION_VOTER,
	REGION_LEARNER,
	REGION_INCOMING_VOTER,
	REGION_DEMOTING_VOTER
};

struct region_peer {
	uint64_t id;
	uint64_t store_id;
	enum region_role role;
};

struct region_epoch {
	uint64_t conf_ver;
	uint64_t version;
};

struct region {
	uint64_t id;
	struct buf start;
	struct buf end;
	struct region_epoch epoch;
	size_t npeers;
	struct region_peer peers[REGION_MAX_PEERS];
};

void region_init(struct region *);
void region_free(struct region *);
void region_copy(struct region *dst, const struct region *src);

/* Whether key lies in [start, end). */
int region_contains(const struct region *, const void *key, size_t len);
/*
 * [start, end) within the region (empty end: unbounded) as *lo, *hi
 * (empty *hi: unbounded); 0 when nothing of it is left.
 */
int region_clamp(const struct region *, struct bytes start,
    struct bytes end, struct bytes *lo, struct bytes *hi);
/* The peer of a store, or NULL. */
const struct region_peer *region_peer_on_store(const struct region *,
    uint64_t store_id);
const struct region_peer *region_peer_by_id(const struct region *,
    uint64_t peer_id);
int region_add_peer(struct region *, uint64_t peer_id, uint64_t store_id,
    enum region_role);
int region_remove_peer(struct region *, uint64_t peer_id);

/* Whether epoch a is older than b in either counter. */
int region_epoch_stale(struct region_epoch a, struct region_epoch b);
int region_epoch_eq(struct region_epoch a, struct region_epoch b);

/* Appends the six wire tokens (preceded by a space unless at a line
 * start). */
void region_format(const struct region *, struct buf *);
/* Parses six tokens; -1 with log_reason() on malformed input. */
int region_parse(const struct bytes *argv, size_t argc, struct region *);

/* Compact binary form, for the metadata stored on disk. */
void region_encode(const struct region *, struct buf *);
int region_decode(const uint8_t *, size_t, struct region *);

const char *region_role_name(enum region_role);

#endif
