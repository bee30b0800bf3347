/*
 * The apply thread: the only writer of region data into the KV engine.
 *
 * The raftstore hands it tasks in one queue, in order: committed entries
 * of a region (each with the slot of the client waiting for it, if this
 * store proposed it), reads that waited for their read index, snapshot
 * generation and installation.  Tasks of one region run in the order
 * given, so a read runs after every entry the raftstore handed over
 * before it.  The thread keeps its own copy of every region's metadata
 * and applied index, writes them in the same KV batch as the data, and
 * checkpoints the KV engine about once a second; what it learns (applied
 * index, membership and range changes, snapshots built or installed,
 * checkpoints) goes back with raftstore_applied().
 */
#ifndef APPLY_H
#define APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "localmeta.h"
#include "region.h"

struct store;
struct slot;
struct cmd;
struct apply;

/* A committed entry, copied out of the ready. */
struct apply_entry {
	uint64_t index;
	uint64_t term;
	int type;			/* enum raft_entry_type */
	struct buf data;
	struct slot *slot;		/* NULL: nobody here waits */
};

struct apply *apply_start(struct store *);
void apply_stop(struct apply *);

/*
 * Registers a region the apply thread will see entries for, with its
 * applied state (recovery, bootstrap, a split's new region is registered
 * by the apply thread itself).
 */
void apply_add_region(struct apply *, const struct region *,
    const struct apply_state *);

/* Takes ownership of ents (an array of n, and their data). */
void apply_entries(struct apply *, uint64_t region_id,
    struct apply_entry *ents, size_t n);
/* Takes ownership of c. */
void apply_read(struct apply *, uint64_t region_id, struct cmd *c,
    struct slot *);
/* Build a snapshot of the region at its applied index. */
void apply_gen_snapshot(struct apply *, uint64_t region_id);
/* Install a received snapshot (saved in data_dir/snap/ already). */
void apply_install_snapshot(struct apply *, uint64_t region_id,
    struct buf *data);
/* The peer is gone (tombstoned by a conf change or replaced). */
void apply_drop_region(struct apply *, uint64_t region_id);

/* What the raftstore hears back. */
enum apply_result_kind {
	APPLY_RES_APPLIED,	/* applied index moved; maybe region changed */
	APPLY_RES_SNAP_BUILT,	/* snap holds a snapshot at (index, term) */
	APPLY_RES_SNAP_INSTALLED,
	APPLY_RES_CHECKPOINT	/* every region's applied index is durable */
};

struct apply_result {
	int kind;
	uint64_t region_id;
	uint64_t applied;
	uint64_t term;
	/* APPLIED: the region's new metadata when it changed, else NULL */
	struct region *region;
	int removed;			/* this store's peer was removed */
	struct region *split_new;	/* the right side of a split */
	/* APPLIED: conf change entries applied, for raft_apply_conf_change */
	struct buf *cc_entries;
	size_t n_cc;
	/* SNAP_BUILT: the data; region is the snapshot's region */
	struct buf snap;
	/* CHECKPOINT: (region id, applied) pairs */
	uint64_t *ckpt;
	size_t n_ckpt;
};

void apply_result_free(struct apply_result *);

/*
 * Installs a snapshot's data into the KV engine now, on the calling
 * thread: the range's data, the region and apply state, a checkpoint,
 * then the saved file goes.  Recovery uses it for a snapshot the last run
 * received but did not checkpoint.  Fills *out (region_init'ed) and *as.
 */
int apply_install(struct store *, uint64_t region_id, const struct buf *data,
    struct region *out, struct apply_state *as);

#endif
