/*
 * tikvd's dealings with PD (pdd(8)), on a thread of their own so nothing
 * else ever waits for PD.
 *
 * Joining (pdworker_join, from main before the raftstore starts): the
 * store id is read from KV_CF_META, or allocated by PD (ALLOC_ID) and
 * persisted (checkpointed) before use.  If the cluster is not
 * bootstrapped, this store creates the first region (ids from ALLOC_ID,
 * range everything, one voter: itself), writes it locally
 * (raftstore_bootstrap_region) and sends BOOTSTRAP; if another store won
 * the race, the local region is dropped again.  Then PUT_STORE registers
 * the store's address.
 *
 * Then the thread sends STORE_HEARTBEAT every
 * pd-store-heartbeat-tick-interval, REGION_HEARTBEAT for every region
 * this store leads every pd-heartbeat-tick-interval and whenever the
 * raftstore reports a change (pdworker_region_changed), and carries out
 * the operator in each heartbeat reply through raftstore_change_peer /
 * raftstore_transfer_leader.  Every split-region-check-tick-interval it
 * measures each led region (kv_range_stats); one past region-max-size or
 * region-max-keys is split at its middle key: ASK_SPLIT for ids, a
 * CMD_SPLIT through raftstore_propose, and REPORT_SPLIT once the split
 * applied (pdworker_split_done).  The same path serves manual splits.
 */
#ifndef PDWORKER_H
#define PDWORKER_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct region;
struct slot;
struct pdworker;

/* Store id and bootstrap; fills st->store_id.  -1 with log_reason(). */
int pdworker_join(struct store *);

struct pdworker *pdworker_start(struct store *);
void pdworker_stop(struct pdworker *);

/*
 * From the raftstore: this store's peer became leader, or its region
 * changed (split, membership) while leading.  Never blocks.
 */
void pdworker_region_changed(struct pdworker *, uint64_t region_id);
/* From the apply thread: a split applied; report both sides to PD. */
void pdworker_split_done(struct pdworker *, const struct region *left,
    const struct region *right);
/*
 * A manual split (tikv-ctl split-region): the region holding key (or
 * region_id when not 0, at epoch when not NULL) splits at key.  The slot
 * gets "OK left_region right_region" (six tokens each) or the error
 * (EPOCH_NOT_MATCH when the region has moved past epoch).
 */
struct region_epoch;
void pdworker_split(struct pdworker *, uint64_t region_id,
    const struct region_epoch *epoch, const void *key, size_t len,
    struct slot *);

#endif
