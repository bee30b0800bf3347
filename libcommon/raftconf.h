/*
 * Membership and replication progress of a Raft group (internal to the
 * raft module): who votes in which majority config, who learns, quorum
 * arithmetic for commit, votes and liveness, the conf change rules
 * (simple, enter joint, leave joint), and per-peer flow control
 * (probe / replicate / snapshot states and the in-flight window).
 *
 * Every member of the configuration has one progress record; records
 * are kept sorted by id.  Pointers to records are invalidated by
 * raftconf_restore() and raftconf_apply_change().
 */
#ifndef RAFTCONF_H
#define RAFTCONF_H

#include <stddef.h>
#include <stdint.h>

#include "raft.h"

/* Membership flags of a progress record. */
#define RAFTCONF_VOTER_IN	0x01	/* voter of the incoming config */
#define RAFTCONF_VOTER_OUT	0x02	/* voter of the outgoing config */
#define RAFTCONF_LEARNER	0x04
#define RAFTCONF_LEARNER_NEXT	0x08	/* learner once joint is left */

struct raftconf_inflights;

struct raftconf_progress {
	uint64_t id;
	uint64_t match;
	uint64_t next;
	uint64_t pending_snapshot;	/* index of the snapshot in flight */
	uint64_t request_snapshot;	/* the follower asked for one */
	uint64_t acked_seq;		/* last heartbeat round echoed */
	uint64_t ack_tick;		/* its send tick (leader ticks) */
	struct raftconf_inflights *ifl;	/* NULL until something is sent */
	uint8_t flags;
	uint8_t state;			/* enum raft_progress_state */
	uint8_t recent_active;
	uint8_t probe_sent;		/* probe: paused until a response */
	int8_t vote;			/* 1 granted, -1 rejected, 0 none */
};

enum raftconf_result {
	RAFTCONF_PENDING,
	RAFTCONF_WON,
	RAFTCONF_LOST
};

struct raftconf *raftconf_new(size_t max_inflight,
    uint64_t max_inflight_bytes);
void raftconf_free(struct raftconf *);
size_t raftconf_memsize(const struct raftconf *);

/* Replaces the membership (from storage or a snapshot); all progress is
 * reset with next as the next index.  RAFT_ERR_INVALID if malformed. */
int raftconf_restore(struct raftconf *, const struct raft_conf_state *,
    uint64_t next);
/* Builds the membership into *cs (borrowed until the next change). */
void raftconf_conf_state(struct raftconf *, struct raft_conf_state *cs);

size_t raftconf_count(const struct raftconf *);
struct raftconf_progress *raftconf_at(struct raftconf *, size_t i);
struct raftconf_progress *raftconf_get(struct raftconf *, uint64_t id);
int raftconf_is_voter(const struct raftconf_progress *);
int raftconf_joint(const struct raftconf *);
int raftconf_auto_leave(const struct raftconf *);
/* The only voter is id (a one-node group commits by itself). */
int raftconf_single_voter(const struct raftconf *, uint64_t id);
/* Voters in the incoming config (for validating transfers). */
int raftconf_is_incoming_voter(const struct raftconf *, uint64_t id);

/* The largest index a quorum (of both configs when joint) has matched. */
uint64_t raftconf_committed(const struct raftconf *);
/* Outcome of an election counted from the vote fields. */
int raftconf_vote_result(const struct raftconf *);
/* Outcome of a poll: yes(arg, id) returns 1 yes, 0 no, -1 not heard. */
int raftconf_poll(const struct raftconf *,
    int (*yes)(void *arg, uint64_t id), void *arg);
void raftconf_reset_votes(struct raftconf *);
/* Whether a quorum was recently active (self counts); then clears the
 * recent_active marks of the others for the next round. */
int raftconf_quorum_active(struct raftconf *, uint64_t self);

/* Validates a change against the current membership (no effect). */
int raftconf_check_change(const struct raftconf *,
    const struct raft_conf_change *);
/* Applies a validated change; new members start probing at next. */
int raftconf_apply_change(struct raftconf *, const struct raft_conf_change *,
    uint64_t next);

/* Flow control, following etcd's progress.go. */
void raftconf_pr_reset(struct raftconf_progress *, uint64_t match,
    uint64_t next);
void raftconf_pr_become_probe(struct raftconf_progress *);
void raftconf_pr_become_replicate(struct raftconf_progress *);
void raftconf_pr_become_snapshot(struct raftconf_progress *, uint64_t snapi);
int raftconf_pr_maybe_update(struct raftconf_progress *, uint64_t n);
void raftconf_pr_optimistic_update(struct raftconf_progress *, uint64_t n);
int raftconf_pr_maybe_decr_to(struct raftconf_progress *, uint64_t rejected,
    uint64_t match_hint);
int raftconf_pr_is_paused(const struct raftconf *,
    const struct raftconf_progress *);
void raftconf_pr_inflight_add(struct raftconf *, struct raftconf_progress *,
    uint64_t index, uint64_t bytes);
void raftconf_pr_inflight_free_le(struct raftconf_progress *, uint64_t index);
void raftconf_pr_inflight_free_first(struct raftconf_progress *);
size_t raftconf_pr_inflight_count(const struct raftconf_progress *);
/* Releases every in-flight window (the node is no longer leader). */
void raftconf_release_inflights(struct raftconf *);

#endif
