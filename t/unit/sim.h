/*
 * Internals of the deterministic Raft simulator (raft_sim): its PRNG, the
 * in-memory durable storage of a node (sim_store.c) and the simulated
 * network (sim_net.c).  Nothing here is used outside t/unit/raft_sim*.
 */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "raft.h"

/* splitmix64: one 64-bit state, every seed is a good seed. */
struct sim_rng {
	uint64_t s;
};

static inline uint64_t
sim_rand(struct sim_rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static inline uint64_t
sim_below(struct sim_rng *g, uint64_t n)
{
	return n ? sim_rand(g) % n : 0;
}

/* True with probability pm / 1000. */
static inline int
sim_chance(struct sim_rng *g, unsigned pm)
{
	return sim_below(g, 1000) < pm;
}

/* An owned copy of a membership (struct raft_conf_state is borrowed). */
struct sim_conf {
	uint64_t *ids[4];	/* voters, outgoing, learners, learners_next */
	size_t n[4];
	int auto_leave;
};

enum { SIM_NOT_MEMBER, SIM_VOTER, SIM_LEARNER };

/* An owned log entry. */
struct sim_ent {
	uint64_t term;
	int type;
	uint8_t *data;
	size_t len;
};

/*
 * What a node keeps across a crash.  Everything written is durable except
 * a hard state written without sync (only its commit may change so), which
 * a crash reverts to the last synced one.
 */
struct sim_store {
	struct raft_hard_state hs;		/* as written */
	struct raft_hard_state hs_synced;	/* what survives a crash */
	uint64_t first;		/* index of ents[0] */
	uint64_t prev_term;	/* term of first - 1 */
	struct sim_ent *ents;
	size_t n;
	size_t cap;
	/* The last snapshot (index 0: none) and the membership at it. */
	uint64_t snap_index;
	uint64_t snap_term;
	struct sim_conf conf;
	struct buf snap_data;
	/* Makes a fresher snapshot on a leader's request; may be NULL. */
	int (*make_snap)(void *arg, uint64_t request_index);
	void *make_snap_arg;
	int no_sync_on_snapshot;	/* -U: a snapshot leaves hs unsynced */
	int no_vote_sync;		/* planted bug: term, vote not synced */
	/* Backs the pointers handed out by the snapshot callback. */
	struct raft_conf_state view;
};

void sim_store_conf_set(struct sim_conf *, const struct raft_conf_state *);
void sim_store_conf_copy(struct sim_conf *, const struct sim_conf *);
void sim_store_conf_view(const struct sim_conf *, struct raft_conf_state *);
void sim_store_conf_free(struct sim_conf *);
int sim_store_conf_role(const struct sim_conf *, uint64_t id);
void sim_store_conf_fmt(struct buf *, const struct sim_conf *);

/* An empty store (a new peer), or one bootstrapped at index 1, term 1. */
void sim_store_init(struct sim_store *);
void sim_store_bootstrap(struct sim_store *, const struct sim_conf *,
    const void *data, size_t len);
void sim_store_free(struct sim_store *);
void sim_store_iface(struct sim_store *, struct raft_storage *);
uint64_t sim_store_last(const struct sim_store *);
/* 0, or -1 when index is compacted or beyond the log. */
int sim_store_term(const struct sim_store *, uint64_t index, uint64_t *term);
/* Append, replacing a conflicting tail; -1 (reason set) on a gap. */
int sim_store_append(struct sim_store *, const struct raft_entry *, size_t);
void sim_store_set_hard_state(struct sim_store *,
    const struct raft_hard_state *, int sync);
/* Install a received snapshot: the log is dropped. */
void sim_store_apply_snapshot(struct sim_store *, const struct raft_snapshot *);
/* Record a snapshot taken at index of the node's own state. */
void sim_store_set_snapshot(struct sim_store *, uint64_t index, uint64_t term,
    const struct sim_conf *, const void *data, size_t len);
/* Drop entries up to index (at most the snapshot index). */
void sim_store_compact(struct sim_store *, uint64_t index);
/* Lose what was not synced. */
void sim_store_crash(struct sim_store *);

/* A message in flight: its encoding, decoded when delivered. */
struct sim_msg {
	uint64_t at;		/* delivery step */
	uint64_t seq;		/* tie-break: sending order */
	uint64_t from;
	uint64_t to;
	int type;
	struct buf wire;
};

/* The network: a queue of messages ordered by delivery step. */
struct sim_net {
	struct sim_msg *heap;
	size_t n;
	size_t cap;
	uint64_t seq;
	uint64_t sent;
	uint64_t delivered;
	uint64_t dropped;
};

void sim_net_init(struct sim_net *);
void sim_net_free(struct sim_net *);
/* Queue an encoded message (the buffer is taken over). */
void sim_net_push(struct sim_net *, uint64_t at, uint64_t from, uint64_t to,
    int type, struct buf *wire);
/* Pop the next message due at or before now into *m; 0 if none. */
int sim_net_pop(struct sim_net *, uint64_t now, struct sim_msg *m);

/*
 * The simulation: up to SIM_MAXNODES processes ("slots"), each running at
 * most one Raft peer; a peer removed from the group is destroyed and a
 * peer added later gets a new id, as tikvd does.
 */
#define SIM_MAXNODES	7
#define SIM_KEYS	4
#define SIM_CLIENTS	5
#define SIM_MAXREADS	32

/* Bugs planted in the simulator to show its checks catch them. */
enum {
	SIM_MUT_NONE,
	SIM_MUT_STALE_READ,	/* serve reads at once, from any node */
	SIM_MUT_EARLY_ACK,	/* acknowledge writes when proposed */
	SIM_MUT_SKIP_APPLY,	/* node 2 skips some writes */
	SIM_MUT_FORGET_VOTE,	/* a crash forgets the vote */
	SIM_MUT_NO_FSYNC,	/* term and vote are never synced */
	SIM_MUT_MAX
};

/* An entry's payload: one client operation (little-endian fields). */
enum { SIM_OP_PUT = 1, SIM_OP_GET, SIM_OP_DEL, SIM_OP_CAS };
#define SIM_OPSIZE	32

struct sim_read {
	uint64_t client;
	uint64_t opid;
	uint64_t index;		/* read index, once known */
	int ready;
};

struct sim_node {
	uint64_t id;		/* 0: the slot is empty */
	int up;
	uint64_t life;		/* restarts */
	uint64_t born;		/* step it was created */
	uint64_t down_until;	/* when a crashed node restarts */
	struct raft *r;
	struct sim_store st;
	struct raft_storage rs;
	int lease;		/* this life reads by lease */
	/* The state machine: volatile, rebuilt from the snapshot. */
	uint64_t applied;
	uint64_t chain;		/* hash of every entry applied so far */
	uint64_t kv[SIM_KEYS];	/* value ids, 0 is absent */
	uint64_t last_op[SIM_CLIENTS];	/* session dedup */
	struct sim_conf conf;	/* applied membership */
	struct sim_read reads[SIM_MAXREADS];
	size_t nreads;
	/* Checks. */
	int torn;		/* crash while handling the next ready */
	uint64_t snap_requested;	/* asked the leader for a snapshot */
	uint64_t lc_term;	/* leader completeness checked in this term */
	uint64_t lc_upto;	/* ... up to this index */
	uint64_t commit_seen;
};

/* One client operation, as the checker will see it. */
struct sim_hist {
	int client;
	int type;		/* SIM_OP_* */
	int key;
	uint64_t value;		/* put, cas: new value (cas: 0 deletes) */
	uint64_t expect;	/* cas */
	uint64_t opid;
	uint64_t invoke;
	uint64_t ret;		/* LINCHECK_PENDING until it returns */
	uint64_t result;	/* get: the value; cas: the value found */
	int ok;			/* cas */
	/* When a node first persisted it: it cannot take effect before. */
	int persisted;
	uint64_t persist_time;
	/* Where and when it first took effect (from the apply). */
	int applied;
	uint64_t index;
	uint64_t apply_time;
	uint64_t apply_prev;
	int apply_ok;
};

struct sim_client {
	int busy;
	size_t hist;
	uint64_t opid;
	uint64_t node;
	uint64_t deadline;
	uint64_t seen[SIM_KEYS];	/* last value seen per key */
};

/* What is known about one log index across the whole cluster. */
struct sim_index {
	uint64_t term;		/* of the committed entry, 0 if unknown */
	uint64_t cterm;		/* term in which it was first committed */
	uint64_t hash;		/* of the applied entry */
	uint64_t chain;		/* state hash after applying it */
	int applied;
};

struct sim_lm {			/* log matching: (index, term) -> entry */
	uint64_t index;
	uint64_t term;
	uint64_t hash;
	uint64_t prev_term;
};

struct sim {
	uint64_t seed;
	int nnodes;
	uint64_t steps;
	int verbose;
	int bench;
	int unsynced_snap;	/* snapshots do not sync the hard state */
	int mutation;		/* SIM_MUT_*: a planted bug, for -K */
	int no_request_snap;	/* -S: never call raft_request_snapshot */
	struct sim_rng rng;
	uint64_t step;
	uint64_t now;		/* event clock of the client history */
	struct sim_node nodes[SIM_MAXNODES];
	uint64_t next_id;
	struct sim_net net;
	/* This run's knobs, drawn from the seed. */
	int election_tick;
	int heartbeat_tick;
	int pre_vote;
	int check_quorum;
	int lease_pm;
	unsigned drop_pm, dup_pm, long_pm, crash_pm, torn_pm, part_pm;
	unsigned conf_pm, transfer_pm, campaign_pm, issue_pm;
	int delay_max, long_max;
	uint64_t compact_every;
	int min_voters;
	int settling;
	/* Links between slots: cut[a][b] drops messages from a to b. */
	int cut[SIM_MAXNODES][SIM_MAXNODES];
	int partitioned;
	uint64_t heal_at;
	/* Clients and their history. */
	struct sim_client clients[SIM_CLIENTS];
	struct sim_hist *hist;
	size_t nhist;
	size_t histcap;
	/* What the checks know. */
	struct sim_index *idx;
	size_t idxcap;
	uint64_t commit;	/* highest index known committed */
	uint64_t *leaders;	/* leader id by term */
	size_t nleaders;
	struct sim_lm *lm;
	size_t nlm;
	size_t lmcap;
	/* The first failure. */
	int failed;
	struct buf why;
	/* Counters. */
	uint64_t n_acked, n_reads, n_crashes, n_partitions, n_conf,
	    n_transfers, n_snapshots, n_elections, n_timeouts;
};

/* sim.c */
void sim_fail(struct sim *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_trace(struct sim *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
uint64_t sim_time(struct sim *);
struct sim_node *sim_node_byid(struct sim *, uint64_t id);
int sim_slot(const struct sim *, const struct sim_node *);
uint64_t sim_hash(const void *, size_t, uint64_t);
struct sim_hist *sim_hist_new(struct sim *);

/* sim_check.c: the invariants, checked as the run goes */
struct sim_index *sim_check_index(struct sim *, uint64_t index);
void sim_check_append(struct sim *, struct sim_node *,
    const struct raft_entry *, size_t);
void sim_check_hard_state(struct sim *, struct sim_node *,
    const struct raft_hard_state *, int must_sync, int has_entries);
void sim_check_apply(struct sim *, struct sim_node *, uint64_t index,
    uint64_t term, uint64_t hash);
void sim_check_snapshot(struct sim *, struct sim_node *, uint64_t index,
    uint64_t chain);
void sim_check_leader_term(struct sim *, struct sim_node *, uint64_t term);
void sim_check_step(struct sim *);
void sim_check_free(struct sim *);

/* sim_node.c: a peer, its storage and state machine */
void sim_node_create(struct sim *, struct sim_node *, uint64_t id,
    const struct sim_conf *bootstrap);
void sim_node_start(struct sim *, struct sim_node *);
void sim_node_crash(struct sim *, struct sim_node *);
void sim_node_destroy(struct sim *, struct sim_node *);
/* Handle readies until none; torn: crash after persisting one. */
void sim_node_ready(struct sim *, struct sim_node *, int torn);
void sim_node_deliver(struct sim *, struct sim_node *, struct sim_msg *);
void sim_node_compact(struct sim *, struct sim_node *);
void sim_node_encode_state(const struct sim_node *, struct buf *);
void sim_node_encode_op(const struct sim_hist *, size_t hist, uint8_t *out);
uint64_t sim_node_kvhash(const struct sim_node *);

#endif
