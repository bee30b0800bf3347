/*
 * One region's peer on this store, as the raftstore loop sees it: its
 * Raft group, the WAL behind that group's log (the struct raft_storage),
 * the snapshot it is building for a follower, and the client commands
 * waiting for their entries or read index.  Only the loop thread touches
 * a peer.
 */
#ifndef PEER_H
#define PEER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "raft.h"
#include "region.h"

struct store;
struct slot;
struct cmd;

/* A proposal waiting for its entry to be committed and applied. */
struct proposal {
	uint64_t index;
	uint64_t term;
	struct slot *slot;
};

/* A read waiting for its read index, then for that index to be handed to
 * the apply thread. */
struct pending_read {
	uint64_t id;
	uint64_t index;			/* 0 until Raft confirmed it */
	struct cmd *cmd;
	struct slot *slot;
};

enum peer_snap_state {
	PEER_SNAP_NONE,
	PEER_SNAP_BUILDING,		/* asked the apply thread */
	PEER_SNAP_READY,		/* built, not yet given to Raft */
	PEER_SNAP_GIVEN			/* Raft has copied it; free next call */
};

struct peer {
	struct store *st;
	uint64_t region_id;
	uint64_t peer_id;
	struct region region;		/* empty range until initialized */
	int initialized;
	struct raft *raft;
	int role;			/* enum raft_role */
	uint64_t leader;		/* peer id; 0 unknown */

	uint64_t handed;		/* last index handed to apply */
	uint64_t applied;		/* as the apply thread reported */
	uint64_t durable_applied;	/* covered by a KV checkpoint */

	/* conf state arrays for raft_storage.initial_state */
	uint64_t voters[REGION_MAX_PEERS], learners[REGION_MAX_PEERS];

	int snap_state;			/* enum peer_snap_state */
	struct buf snap;
	struct region snap_region;
	uint64_t snap_index;
	uint64_t snap_term;

	struct proposal *props;		/* FIFO: props[props_head..nprops) */
	size_t props_head, nprops, capprops;
	struct pending_read *reads;
	size_t nreads, capreads;

	/* stores of peers the region meta does not list yet */
	uint64_t known_peer[REGION_MAX_PEERS], known_store[REGION_MAX_PEERS];
	size_t nknown;

	/* ticks until a split's new peer on the parent's leader campaigns
	 * again (the first campaign reached followers that had not yet
	 * applied the split, so had no peer to vote) */
	int campaign_retry;

	int dirty;			/* on the loop's list for this round */
	struct peer *next_dirty;
};

/*
 * A peer for region r (initialized when r has peers: recovery, split) or
 * an uninitialized one (r with only its id: created by a message).
 * applied is the KV engine's applied index; new_group says the group is
 * new on this store (a split), so it can vote at once.  NULL with
 * log_reason().
 */
struct peer *peer_new(struct store *, const struct region *r,
    uint64_t peer_id, uint64_t applied, int new_group);
void peer_free(struct peer *);

/* Sets the region (after apply changed it) and the conf state arrays. */
void peer_set_region(struct peer *, const struct region *);
/* The store of a peer id of this region, or 0. */
uint64_t peer_store_of(const struct peer *, uint64_t peer_id);
void peer_learn_store(struct peer *, uint64_t peer_id, uint64_t store_id);

void peer_add_proposal(struct peer *, uint64_t index, uint64_t term,
    struct slot *);
/*
 * The slot waiting for the committed entry (index, term), or NULL;
 * proposals the entry overtook get STALE_COMMAND.
 */
struct slot *peer_take_proposal(struct peer *, uint64_t index,
    uint64_t term);
/* Every waiting command gets this error (leader lost, peer removed). */
void peer_fail_all(struct peer *, int word, const char *text);
void peer_fail_reads(struct peer *, int word, const char *text);

#endif
