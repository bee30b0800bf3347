/*
 * Raft consensus as a pure state machine, in the design of etcd/raft and
 * raft-rs: no I/O, no threads, no clock, no randomness of its own.
 *
 * The caller drives one struct raft per group:
 *
 *	raft_tick()		on every logical clock tick
 *	raft_step()		with every message received from a peer
 *	raft_propose()		and the other requests below
 *	while (raft_has_ready(r)) {
 *		raft_ready(r, &rd);
 *		persist rd.snapshot, rd.entries, rd.hs (fsync: rd.must_sync)
 *		send rd.msgs
 *		apply rd.committed, hand out rd.read_states
 *		raft_advance(r, &rd);
 *	}
 *
 * Between raft_ready() and raft_advance() the caller may only call
 * raft_apply_conf_change*() (for the ready's committed entries) and the
 * read-only functions (raft_status, raft_progress, raft_conf_state...).
 * Everything a ready points to is owned by the library and stays valid
 * until raft_advance().
 *
 * Conf changes take effect when applied.  With synchronous apply, as
 * above, raft_apply_conf_change*() is called for a committed conf change
 * entry while its ready is handled, between raft_ready() and
 * raft_advance().  A caller that applies asynchronously acknowledges the
 * ready with raft_advance_append() instead, and calls
 * raft_apply_conf_change*() later, from the thread that owns the group,
 * when its apply thread reaches the entry, in log order, followed by
 * raft_applied_to().
 *
 * The transport reports what it could not deliver: a message that
 * cannot be sent to a peer with raft_report_unreachable(), and a
 * snapshot that did not get through with raft_report_snapshot(r, id, 1).
 * Without the report the leader waits for an answer that never comes
 * (a snapshot in flight holds back everything else for its follower).
 *
 * The log lives in two parts: the stable part behind struct raft_storage
 * (the caller's WAL or memory), and the unstable tail inside the library
 * (entries handed out in a ready but not yet acknowledged by advance).
 *
 * Errors: functions that can fail return 0 or a negative RAFT_ERR_* code
 * and leave a reason in log_setreason().  The library never exits except
 * on out-of-memory.
 */
#ifndef RAFT_H
#define RAFT_H

#include <stddef.h>
#include <stdint.h>

#define RAFT_NONE	0	/* no node: node ids are never 0 */
#define RAFT_CTX_TRANSFER	"transfer"

enum raft_error {
	RAFT_OK = 0,
	/* A proposal or request was dropped: no leader, not leader and
	 * forwarding disabled, leadership transfer in progress, or the
	 * uncommitted log is over its cap.  The caller retries later. */
	RAFT_ERR_DROPPED = -1,
	/* An entry is larger than max_entry_size. */
	RAFT_ERR_TOO_LARGE = -2,
	/* Storage: the index is compacted away (below first_index). */
	RAFT_ERR_COMPACTED = -3,
	/* Storage: the index is beyond last_index. */
	RAFT_ERR_UNAVAILABLE = -4,
	/* Storage: no snapshot right now; the library retries later. */
	RAFT_ERR_SNAP_TEMP_UNAVAILABLE = -5,
	/* Bad argument, configuration or message. */
	RAFT_ERR_INVALID = -6,
	/* A conf change is refused: another one is pending (proposed and
	 * not yet applied), or it would be unsafe (see raft_propose_conf_
	 * change). */
	RAFT_ERR_CONF_PENDING = -7,
	/* A request that only a leader or follower can serve (e.g. leader
	 * transfer to a learner, or a request of the wrong role). */
	RAFT_ERR_REFUSED = -8
};

enum raft_role {
	RAFT_FOLLOWER,
	RAFT_CANDIDATE,
	RAFT_LEADER,
	RAFT_PRECANDIDATE
};

enum raft_entry_type {
	RAFT_ENTRY_NORMAL = 0,
	/* data is a struct raft_conf_change encoded by raftwire. */
	RAFT_ENTRY_CONF_CHANGE = 1
};

/*
 * A log entry.  data is borrowed: in what the library hands out it stays
 * valid until raft_advance(); in what the caller hands in it only needs
 * to live for the call (the library copies).  A leader appends an empty
 * normal entry when it takes office.
 */
struct raft_entry {
	uint64_t term;
	uint64_t index;
	int type;		/* enum raft_entry_type */
	const uint8_t *data;
	size_t len;
};

/* What must be persisted with the log (and restored on restart). */
struct raft_hard_state {
	uint64_t term;
	uint64_t vote;
	uint64_t commit;
};

/*
 * Membership.  Outside joint consensus only voters and learners are set.
 * In a joint configuration voters is the incoming and voters_outgoing the
 * outgoing majority config; learners_next are voters of the outgoing
 * config that become learners when the joint config is left (a node is
 * never a voter and a learner at once).  Arrays are borrowed like entry
 * data.  Ids in each array are distinct; order does not matter.
 */
struct raft_conf_state {
	const uint64_t *voters;
	size_t n_voters;
	const uint64_t *voters_outgoing;
	size_t n_voters_outgoing;
	const uint64_t *learners;
	size_t n_learners;
	const uint64_t *learners_next;
	size_t n_learners_next;
	int auto_leave;
};

enum raft_conf_change_type {
	RAFT_CC_ADD_NODE = 0,		/* add a voter, or promote a learner */
	RAFT_CC_REMOVE_NODE = 1,
	RAFT_CC_ADD_LEARNER = 2		/* add a learner, or demote a voter */
};

enum raft_conf_change_transition {
	/* One change: applied in one step.  Several: joint consensus, left
	 * automatically once the joint config is applied. */
	RAFT_CC_TRANSITION_AUTO = 0,
	/* Always joint; left automatically. */
	RAFT_CC_TRANSITION_JOINT_IMPLICIT = 1,
	/* Always joint; the caller leaves it with an empty conf change. */
	RAFT_CC_TRANSITION_JOINT_EXPLICIT = 2
};

struct raft_conf_change_single {
	int type;		/* enum raft_conf_change_type */
	uint64_t node_id;
};

/*
 * A membership change.  With n_changes == 0 it leaves a joint config.
 * context is opaque to the library (tikvd puts the peer's address there)
 * and is carried through the log.
 */
struct raft_conf_change {
	int transition;		/* enum raft_conf_change_transition */
	const struct raft_conf_change_single *changes;
	size_t n_changes;
	const uint8_t *context;
	size_t context_len;
};

struct raft_snapshot_meta {
	uint64_t index;		/* last index the snapshot covers */
	uint64_t term;		/* term of that entry */
	struct raft_conf_state conf_state;
};

/* A snapshot: metadata and opaque data (for tikvd, a descriptor). */
struct raft_snapshot {
	struct raft_snapshot_meta meta;
	const uint8_t *data;
	size_t len;
};

enum raft_msg_type {
	RAFT_MSG_APPEND = 1,		/* leader -> follower: entries */
	RAFT_MSG_APPEND_RESP = 2,
	RAFT_MSG_VOTE = 3,
	RAFT_MSG_VOTE_RESP = 4,
	RAFT_MSG_PREVOTE = 5,
	RAFT_MSG_PREVOTE_RESP = 6,
	RAFT_MSG_SNAPSHOT = 7,		/* leader -> follower: install */
	RAFT_MSG_HEARTBEAT = 8,
	RAFT_MSG_HEARTBEAT_RESP = 9,
	RAFT_MSG_PROPOSE = 10,		/* follower -> leader: forwarded */
	RAFT_MSG_TRANSFER_LEADER = 11,	/* forwarded to the leader */
	RAFT_MSG_TIMEOUT_NOW = 12,	/* leader -> transferee: campaign */
	RAFT_MSG_READ_INDEX = 13,	/* follower -> leader: forwarded */
	RAFT_MSG_READ_INDEX_RESP = 14,
	RAFT_MSG_TYPE_MAX = 14
};

/*
 * A message between peers.  Field use by type (etcd's conventions):
 *  APPEND: index/log_term = entry before entries; commit = leader commit.
 *  APPEND_RESP: index = last index matched, or on reject the rejected
 *    index with reject_hint/log_term = follower's hint (its last index
 *    whose term is <= log_term) so the leader skips a term in one round;
 *    request_snapshot != 0: the follower asks for a snapshot.
 *  VOTE, PREVOTE: index/log_term = the candidate's last entry;
 *    context = RAFT_CTX_TRANSFER for a leader-transfer campaign (it
 *    overrides the leader lease of the voters).
 *    PREVOTE and its response carry the term the sender would campaign
 *    at, without changing anyone's term.
 *  HEARTBEAT: commit = min(leader commit, follower match); context =
 *    the heartbeat round number (8 bytes, big-endian).  HEARTBEAT_RESP
 *    echoes context: it confirms the leadership for ReadIndex and
 *    renews the lease.
 *  SNAPSHOT: snapshot is set.
 *  READ_INDEX: context = request context.  READ_INDEX_RESP: index and
 *    context.
 *  TRANSFER_LEADER: index = the transferee (forwarded by a follower).
 *  PROPOSE, READ_INDEX and TRANSFER_LEADER travel with term 0.
 * Pointers are borrowed, like entry data.
 */
struct raft_msg {
	int type;		/* enum raft_msg_type */
	uint64_t to;
	uint64_t from;
	uint64_t term;
	uint64_t log_term;
	uint64_t index;
	uint64_t commit;
	int reject;
	uint64_t reject_hint;
	uint64_t request_snapshot;
	const struct raft_entry *entries;
	size_t n_entries;
	const struct raft_snapshot *snapshot;	/* NULL unless SNAPSHOT */
	const uint8_t *context;
	size_t context_len;
};

/*
 * The caller's stable log.  Indexes start at 1; an empty log has
 * first_index 1 and last_index 0.  After compaction or a snapshot, term()
 * must still answer for first_index - 1 (the snapshot's index), like
 * etcd's dummy entry.  Storage must not fail except with the codes named
 * here: an I/O error is the storage's own to handle (tikvd: fatal).
 */
struct raft_storage {
	void *arg;
	/* Hard state and membership at startup (membership from the last
	 * applied snapshot or conf change, or the bootstrap peers). */
	int (*initial_state)(void *arg, struct raft_hard_state *hs,
	    struct raft_conf_state *cs);
	uint64_t (*first_index)(void *arg);
	uint64_t (*last_index)(void *arg);
	/* 0, RAFT_ERR_COMPACTED or RAFT_ERR_UNAVAILABLE. */
	int (*term)(void *arg, uint64_t index, uint64_t *term);
	/*
	 * Entries [lo, hi), at least one if any, then more while the total
	 * data size stays within max_bytes.  Calls add(ctx, &e) for each in
	 * order (add copies e).  0, RAFT_ERR_COMPACTED or _UNAVAILABLE.
	 */
	int (*entries)(void *arg, uint64_t lo, uint64_t hi, uint64_t max_bytes,
	    void (*add)(void *ctx, const struct raft_entry *), void *ctx);
	/*
	 * A snapshot to send to a follower that needs entries compacted
	 * away or asked for one.  Its index must be >= request_index: one
	 * generated for this request or later, of the state applied then,
	 * never a stale one cached from an earlier request with a lower
	 * index (a follower that asked at request_index cannot install
	 * anything older).  Pointers in *snap stay valid until the next
	 * storage call (the library copies).  0 or
	 * RAFT_ERR_SNAP_TEMP_UNAVAILABLE (being generated; the library
	 * asks again later, and meanwhile replicates as it can).
	 */
	int (*snapshot)(void *arg, uint64_t request_index,
	    struct raft_snapshot *snap);
};

enum raft_read_only_option {
	/* ReadIndex: confirm leadership with a heartbeat round. */
	RAFT_READ_SAFE = 0,
	/*
	 * Lease: answer from the leader's commit index without a round
	 * while a quorum echoed a heartbeat sent less than the lease ago
	 * (election_tick - max(1, election_tick / 10) ticks); otherwise
	 * fall back to a round.  Requires check_quorum (voters then refuse
	 * votes for an election timeout after hearing from the leader).
	 * Void for the rest of a term once a leader transfer sent
	 * TimeoutNow.  Assumes tick rates drift less than the margin.  A
	 * node started with this option refuses votes until an election
	 * timeout has passed (it may have been in a lease before a
	 * restart), so a new group elects after its first timeout.
	 */
	RAFT_READ_LEASE_BASED = 1
};

/* Zero is a valid default for every field but id and seed. */
struct raft_config {
	uint64_t id;
	uint64_t seed;		/* seeds the randomized election timeouts */
	int election_tick;	/* default 10; must be > heartbeat_tick */
	int heartbeat_tick;	/* default 1 */
	/*
	 * Last applied index on restart: committed entries are handed out
	 * from here on.  0 means first_index - 1 (the snapshot index of the
	 * storage), as does anything below it.  It may be above the stored
	 * commit index (the commit index is not always synced; see
	 * must_sync): raft_new raises the commit index to
	 * max(commit, first_index - 1, applied).  It must not be beyond
	 * last_index.
	 */
	uint64_t applied;
	/* Max bytes of entry data per append message; at least one entry
	 * is always sent.  0 = 1 MiB. */
	uint64_t max_size_per_msg;
	/* Max bytes of committed entries per ready.  0 = unlimited. */
	uint64_t max_committed_size_per_ready;
	/* A leader drops proposals while its uncommitted entries hold more
	 * than this many bytes of data.  0 = unlimited. */
	uint64_t max_uncommitted_size;
	/* A proposal with more data than this fails RAFT_ERR_TOO_LARGE.
	 * 0 = 8 MiB. */
	uint64_t max_entry_size;
	/* Append messages in flight per follower.  0 = 256. */
	int max_inflight_msgs;
	/* Bytes of entry data in flight per follower.  0 = unlimited. */
	uint64_t max_inflight_bytes;
	int check_quorum;
	int pre_vote;
	int read_only_option;	/* enum raft_read_only_option */
	int disable_proposal_forwarding;
	/*
	 * The group is new on this node (tikvd: a region created by a split
	 * here): it cannot have been in a leader's lease, so with lease
	 * reads it votes at once instead of sitting out an election timeout.
	 */
	int new_group;
};

struct raft;

/*
 * Fails (NULL, reason set) on a bad config, unreadable storage, or a
 * stored commit index or cfg.applied beyond the stored log.
 */
struct raft *raft_new(const struct raft_config *,
    const struct raft_storage *);
void raft_free(struct raft *);

/* One logical clock tick: election timeout, heartbeats, quorum checks. */
void raft_tick(struct raft *);

/*
 * A message from a peer.  Messages of a stale term are ignored (0);
 * malformed ones fail RAFT_ERR_INVALID.  A forwarded proposal that the
 * leader cannot take returns RAFT_ERR_DROPPED.
 */
int raft_step(struct raft *, const struct raft_msg *);

/* Start an election now (etcd's MsgHup); PreVote first if enabled. */
int raft_campaign(struct raft *);

/*
 * Propose a normal entry.  A leader appends it and, when index is not
 * NULL, stores its index there; a follower forwards it to the leader
 * (index 0).  RAFT_ERR_DROPPED or RAFT_ERR_TOO_LARGE on failure.  The
 * entry is committed when it shows up in a ready's committed entries
 * with the same index and term; a proposal can be lost silently (leader
 * change), so callers match committed entries by (index, term).  A
 * leader whose log holds a conf change that removes it or makes it a
 * learner drops proposals until it steps down (it applies the change),
 * so that the voters left hold all of its log and can elect a leader.
 */
int raft_propose(struct raft *, const void *data, size_t len,
    uint64_t *index);

/*
 * Propose a membership change (encoded into a RAFT_ENTRY_CONF_CHANGE
 * entry).  Only a leader takes it; refused with RAFT_ERR_CONF_PENDING
 * while an earlier conf change is unapplied, when entering a joint
 * config from a joint config, when leaving a joint config that is not
 * joint, or RAFT_ERR_INVALID if it would leave no voter.
 */
int raft_propose_conf_change(struct raft *, const struct raft_conf_change *,
    uint64_t *index);

/*
 * Apply a committed conf change (decoded from its entry) to the
 * membership; call it when the entry is applied.  Fills *cs (pointers
 * valid until the next mutating call) when cs is not NULL.
 */
int raft_apply_conf_change(struct raft *, const struct raft_conf_change *,
    struct raft_conf_state *cs);
/* The same, decoding the entry itself. */
int raft_apply_conf_change_entry(struct raft *, const struct raft_entry *,
    struct raft_conf_state *cs);

/*
 * Transfer leadership to a voter: the leader catches it up, then sends
 * TimeoutNow.  Proposals are dropped while transferring; the transfer
 * is abandoned after an election timeout.  On a follower the request is
 * forwarded to the leader.  RAFT_ERR_REFUSED for a learner or self.
 */
int raft_transfer_leader(struct raft *, uint64_t to);

/*
 * Request a linearizable read.  When leadership is confirmed a read
 * state with this context (copied; up to 64 bytes typically) and the
 * read index shows up in a ready; the read may be served once the
 * applied index reaches it.  Followers forward to the leader.
 * RAFT_ERR_DROPPED when there is no leader or the leader has not yet
 * committed an entry of its term.
 */
int raft_read_index(struct raft *, const void *ctx, size_t len);

/*
 * The transport could not deliver to this peer (it must say so when a
 * send fails): back off to probing.
 */
void raft_report_unreachable(struct raft *, uint64_t id);
/*
 * A snapshot sent to id was applied (failed = 0) or failed.  The
 * transport must report a failed send: until then the leader sends that
 * follower nothing else.
 */
void raft_report_snapshot(struct raft *, uint64_t id, int failed);
/*
 * A follower asks its leader for a snapshot covering at least
 * request_index (e.g. after failing to apply), raised to its commit
 * index (a snapshot below it cannot be installed).  Until one arrives
 * the follower still stores and acknowledges entries (the leader may
 * need them to commit up to the index asked for), but hands out no
 * more committed entries; it repeats the request with its heartbeat
 * responses.  The leader sends the snapshot once it has applied up to
 * the index asked for.  Entries the follower holds after the snapshot
 * that follow its (index, term) are kept (see struct raft_ready).
 * RAFT_ERR_REFUSED when not a follower with a known leader.
 */
int raft_request_snapshot(struct raft *, uint64_t request_index);

struct raft_read_state {
	uint64_t index;
	const uint8_t *ctx;
	size_t len;
};

/* Everything is borrowed from the library until raft_advance(). */
struct raft_ready {
	/* Soft state: who leads and this node's role, when it changed. */
	int soft_state_changed;
	uint64_t leader;
	int role;		/* enum raft_role */
	/* Persist when changed. */
	int hard_state_changed;
	struct raft_hard_state hs;
	/*
	 * A snapshot received from the leader: persist and apply it
	 * (storage: drop the log, first_index = meta.index + 1, keep the
	 * term of meta.index, take meta.conf_state) before the entries.
	 * The entries may then start at meta.index + 1: those of the old
	 * log after a matching (meta.index, meta.term), which this node
	 * may have acknowledged and so must keep.  Persist both before the
	 * one fsync, so that a crash cannot leave the log dropped and the
	 * entries not yet written.
	 */
	const struct raft_snapshot *snapshot;
	/* Append to the stable log, replacing any entries at or after
	 * entries[0].index (a conflict truncated the tail). */
	const struct raft_entry *entries;
	size_t n_entries;
	/*
	 * Whether what was written must be fsync'd before the messages are
	 * sent and the committed entries applied: the hard state, entries
	 * or snapshot, and any commit index written earlier without sync.
	 * False if only the commit index changed, unless the committed
	 * entries hold a conf change: a node must not restart in a
	 * membership older than one it applied.
	 */
	int must_sync;
	/* Send after persisting the above. */
	const struct raft_msg *msgs;
	size_t n_msgs;
	/* Apply in order (after persisting); conf change entries by
	 * raft_apply_conf_change_entry(). */
	const struct raft_entry *committed;
	size_t n_committed;
	const struct raft_read_state *read_states;
	size_t n_read_states;
};

int raft_has_ready(const struct raft *);
/* Fills *rd; call raft_advance() with it after handling it. */
void raft_ready(struct raft *, struct raft_ready *rd);
/*
 * The ready was persisted and sent, and its committed entries applied:
 * the same as raft_advance_append() followed by raft_applied_to() of
 * the last committed entry.
 */
void raft_advance(struct raft *, const struct raft_ready *rd);
/*
 * For callers that apply asynchronously (tikvd's apply thread): the
 * ready was persisted and sent, its committed entries handed out (the
 * next ready starts after them), but not yet applied.  The entries'
 * data is released here: copy what the apply thread needs first.
 * Report applying progress with raft_applied_to() (and membership with
 * raft_apply_conf_change*()) from the thread that owns the group.
 */
void raft_advance_append(struct raft *, const struct raft_ready *rd);
/* Entries up to index are applied (gates conf changes, auto-leave). */
void raft_applied_to(struct raft *, uint64_t index);

enum raft_progress_state {
	RAFT_PROGRESS_PROBE,
	RAFT_PROGRESS_REPLICATE,
	RAFT_PROGRESS_SNAPSHOT
};

struct raft_status {
	uint64_t id;
	int role;		/* enum raft_role */
	uint64_t leader;
	struct raft_hard_state hs;
	uint64_t applied;
	uint64_t first_index;	/* of the whole log (storage + unstable) */
	uint64_t last_index;
	uint64_t last_term;
	uint64_t lead_transferee;	/* RAFT_NONE when not transferring */
	uint64_t pending_conf_index;	/* leader: last conf change index */
	uint64_t uncommitted_size;	/* leader: bytes not yet committed */
	int joint;			/* membership is joint */
	int randomized_election_timeout;
};

struct raft_progress_info {
	uint64_t match;
	uint64_t next;
	int state;		/* enum raft_progress_state */
	uint64_t pending_snapshot;
	int recent_active;
	int learner;
	size_t inflight;	/* append messages in flight */
};

void raft_status(const struct raft *, struct raft_status *);
/* Leader only: progress of peer id; -1 when unknown or not leader. */
int raft_progress(const struct raft *, uint64_t id,
    struct raft_progress_info *);
/* Current membership; borrowed until the next mutating call. */
void raft_conf_state(const struct raft *, struct raft_conf_state *);
/* Term of the entry at index in the whole log; 0 when unknown. */
uint64_t raft_term_at(const struct raft *, uint64_t index);

/* Bytes the group holds on the heap, itself included (memory reports). */
size_t raft_memsize(const struct raft *);

const char *raft_role_name(int role);
const char *raft_msg_type_name(int type);

#endif
