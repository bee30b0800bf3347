/*
 * The raftstore: one thread drives the Raft group of every region on this
 * store (DESIGN.md section 2).
 *
 * Each loop iteration takes everything posted to its mailbox (peer
 * messages, proposals, reads, apply results, operator requests), ticks
 * the groups whose tick is due, then collects the ready of every group:
 * all their entries and hard states go to the WAL and ONE wal_sync()
 * makes them durable; then their messages go to the transport (batched
 * per store) and their committed entries to the apply thread.
 *
 * Every function here may be called from any thread and never blocks: it
 * posts to the mailbox.  Errors a client can act on (NOT_LEADER with the
 * leader's store and address, EPOCH_NOT_MATCH with the current region,
 * KEY_NOT_IN_REGION, REGION_NOT_FOUND, SERVER_IS_BUSY,
 * RAFT_ENTRY_TOO_LARGE) are written to the command's slot.
 */
#ifndef RAFTSTORE_H
#define RAFTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "region.h"

struct store;
struct cmd;
struct slot;
struct peer_msg;

struct raftstore *raftstore_new(struct store *);
/*
 * Recovers every region from KV_CF_META and the WAL (re-ingesting a
 * snapshot whose apply the last run did not checkpoint) and starts the
 * loop.  -1 with log_reason() when the stores disagree beyond repair.
 */
int raftstore_start(struct raftstore *);
/* Stops the loop; pending commands get SERVER_ERROR. */
void raftstore_stop(struct raftstore *);
void raftstore_free(struct raftstore *);

/*
 * Creates the first region of a new cluster on this store (bootstrap):
 * writes its metadata and initial Raft state.  Before raftstore_start.
 */
int raftstore_bootstrap_region(struct store *, const struct region *);
/* Undoes it when another store bootstrapped the cluster first. */
int raftstore_unbootstrap_region(struct store *, uint64_t region_id);

/*
 * A client's write (CMD_WRITE) or admin (CMD_SPLIT) cmd, or a read
 * (CMD_READ).  c->region_id names the region the client meant, with
 * c->epoch; region_id 0 routes by the first key and skips the epoch
 * check.  Takes ownership of c.  The reply goes to slot.
 */
void raftstore_propose(struct raftstore *, struct cmd *c, struct slot *);
void raftstore_read(struct raftstore *, struct cmd *c, struct slot *);

/* What the apply thread did (apply.h); takes ownership. */
struct apply_result;
void raftstore_applied(struct raftstore *, struct apply_result *);

/* A message from a peer on another store; takes ownership. */
void raftstore_deliver(struct raftstore *, struct peer_msg *);
/* The transport could not deliver a message to peer_id of region_id. */
void raftstore_report_unreachable(struct raftstore *, uint64_t region_id,
    uint64_t peer_id);
/* A snapshot sent to peer_id was received (failed = 0) or lost. */
void raftstore_report_snapshot(struct raftstore *, uint64_t region_id,
    uint64_t peer_id, int failed);

/*
 * Operators (from PD's heartbeat replies and from tikv-ctl).  A change
 * that does not apply (not leader, epoch moved, change pending) is
 * dropped and logged: PD sends it again.  slot may be NULL; when given it
 * gets OK once the change is proposed (or transferred), or the error.
 */
void raftstore_change_peer(struct raftstore *, uint64_t region_id,
    int cc_type, uint64_t peer_id, uint64_t store_id, struct slot *);
void raftstore_transfer_leader(struct raftstore *, uint64_t region_id,
    uint64_t peer_id, struct slot *);

/* A region as this store sees it, for STATUS, REGIONS and the PD worker. */
struct region_info {
	struct region region;		/* region_free() it */
	int initialized;		/* has data and a range */
	int role;			/* enum raft_role */
	uint64_t peer_id;		/* this store's peer */
	uint64_t leader_peer_id;	/* 0: unknown */
	uint64_t term;
	uint64_t commit;
	uint64_t applied;
	uint64_t first_index;
	uint64_t last_index;
	/* leader only: peers lagging behind (learners not caught up) */
	uint64_t pending_peers[REGION_MAX_PEERS];
	size_t n_pending;
};

/*
 * A copy of every region (or the one holding key, or region id), made by
 * the loop at its next round.  raftstore_info_free() frees the regions
 * in the array; the caller frees the array from raftstore_regions().
 * -1 when the raftstore has stopped (or no such region).
 */
int raftstore_regions(struct raftstore *, struct region_info **, size_t *n);
int raftstore_region_by_id(struct raftstore *, uint64_t id,
    struct region_info *);
int raftstore_region_by_key(struct raftstore *, const void *key, size_t len,
    struct region_info *);
void raftstore_info_free(struct region_info *, size_t n);

#endif
