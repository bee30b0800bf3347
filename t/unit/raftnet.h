/*
 * A small in-process network of Raft nodes for the raft unit tests:
 * memory storage per node, a message queue that every message crosses
 * encoded by raftwire (so every test also exercises the codec), cuts
 * between nodes, held delivery for tests that reorder, drop or duplicate
 * messages by hand, and a record of what each node applied.
 */
#ifndef RAFTNET_H
#define RAFTNET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "raft.h"
#include "raftents.h"

#define RAFTNET_MAX	9

struct raftnet_store {
	struct raft_hard_state hs;
	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t *cs_ids;		/* backs cs */
	struct raft_conf_state cs;	/* membership as applied */
	uint64_t *snap_ids;		/* backs snap_cs */
	struct raft_conf_state snap_cs;	/* membership at the snapshot */
	struct buf snap_data;
	struct raftents ents;		/* from snap_index + 1 */
	int snap_unavailable;		/* snapshot() answers "try later" */
	int snap_calls;
};

struct raftnet_node {
	uint64_t id;
	struct raft *r;
	struct raftnet_store st;
	struct raft_config cfg;
	int down;
	/* The state machine: a hash chain over applied normal entries. */
	uint64_t applied;
	uint64_t hash;
	uint64_t napplied;
	struct raftents log;		/* applied entries (for checks) */
	/* Read states seen, in order. */
	uint64_t read_index[64];
	char read_ctx[64][16];
	size_t nreads;
	size_t nsnaps_applied;
	int auto_apply_conf;		/* apply conf changes (default 1) */
	int async_apply;		/* leave applying to the test */
	/* The last ready handled. */
	struct {
		int must_sync;
		int hs_changed;
		int ss_changed;
		size_t n_entries;
		size_t n_committed;
		size_t n_msgs;
		int snapshot;
	} last;
	size_t nready;
	size_t max_committed;		/* most committed entries in a ready */
};

struct raftnet_msg {
	uint64_t from;
	uint64_t to;
	int type;
	struct buf wire;
};

struct raftnet {
	struct raftnet_node nodes[RAFTNET_MAX];
	int n;
	int cut[RAFTNET_MAX + 1][RAFTNET_MAX + 1];
	int drop_type[RAFT_MSG_TYPE_MAX + 1];
	int hold;			/* keep messages in pending */
	struct raftnet_msg *pending;
	size_t npending;
	size_t cap;
	uint64_t delivered;
	uint64_t dropped;
	/* Counts of messages sent by type, and of rejections. */
	uint64_t sent[RAFT_MSG_TYPE_MAX + 1];
	uint64_t rejects[RAFT_MSG_TYPE_MAX + 1];
	/* Largest number of entries in one append, and of data bytes. */
	size_t max_append_ents;
	size_t max_append_bytes;
};

/* n nodes, ids 1..n; voters 1..nvoters, learners the rest. */
/* The config every test starts from: election 10 ticks, heartbeat 1. */
struct raft_config raftnet_config(void);
struct raftnet *raftnet_new(int n, int nvoters, const struct raft_config *);
/* The same, with the membership given (node ids are still 1..n). */
struct raftnet *raftnet_new_cs(int n, const struct raft_config *,
    const struct raft_conf_state *);
void raftnet_free(struct raftnet *);
struct raftnet_node *raftnet_node(struct raftnet *, uint64_t id);
struct raft *raftnet_raft(struct raftnet *, uint64_t id);

/* Handles node id's ready: persist, queue messages, apply, advance. */
void raftnet_ready(struct raftnet *, uint64_t id);
/* Readies every node; then delivers pending messages (unless held)
 * until quiet.  Returns the number of messages delivered. */
size_t raftnet_run(struct raftnet *);
/* Deliver pending message i (decoded from its wire form). */
int raftnet_deliver(struct raftnet *, size_t i);
/* Deliver the first pending message of type from -> to; -1 if none. */
int raftnet_deliver_first(struct raftnet *, int type, uint64_t from,
    uint64_t to);
void raftnet_drop(struct raftnet *, size_t i);
void raftnet_dup(struct raftnet *, size_t i);
/* Decode pending message i into *m (free with raftwire_msg_free). */
int raftnet_peek(struct raftnet *, size_t i, struct raft_msg *m);
/* Index of the first pending message of type (from/to 0: any); -1. */
long raftnet_find(struct raftnet *, int type, uint64_t from, uint64_t to);
size_t raftnet_count(struct raftnet *, int type);
void raftnet_clear(struct raftnet *);
/* Step a message into its destination and run. */
int raftnet_send(struct raftnet *, const struct raft_msg *);

void raftnet_tick(struct raftnet *, uint64_t id, int n);
/* Tick every live node n times, running the network after each. */
void raftnet_tick_all(struct raftnet *, int n);
int raftnet_campaign(struct raftnet *, uint64_t id);
int raftnet_propose(struct raftnet *, uint64_t id, const char *data);
int raftnet_propose_n(struct raftnet *, uint64_t id, int n, size_t size);
/* Propose a one-step conf change and run. */
int raftnet_conf_change(struct raftnet *, uint64_t id, int type,
    uint64_t node);

void raftnet_isolate(struct raftnet *, uint64_t id);
void raftnet_cut(struct raftnet *, uint64_t a, uint64_t b);
void raftnet_heal(struct raftnet *);
/* Crash: lose everything not persisted; restart from the store. */
void raftnet_crash(struct raftnet *, uint64_t id);
void raftnet_restart(struct raftnet *, uint64_t id);

uint64_t raftnet_leader(struct raftnet *);
int raftnet_role(struct raftnet *, uint64_t id);
uint64_t raftnet_term(struct raftnet *, uint64_t id);
uint64_t raftnet_commit(struct raftnet *, uint64_t id);
uint64_t raftnet_last(struct raftnet *, uint64_t id);
uint64_t raftnet_lead_of(struct raftnet *, uint64_t id);

/* Storage helpers. */
void raftnet_store_append(struct raftnet_store *, const struct raft_entry *,
    size_t n);
/* Take a snapshot of node id's state at its applied index, and
 * compact the log up to it. */
void raftnet_compact(struct raftnet *, uint64_t id, uint64_t index);
void raftnet_store_set_cs(struct raftnet_store *,
    const struct raft_conf_state *);
void raftnet_store_iface(struct raftnet_store *, struct raft_storage *);

/* Whether every live node has applied the same entries as node a. */
int raftnet_same_applied(struct raftnet *, uint64_t a, uint64_t b);

#endif
