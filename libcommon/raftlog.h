/*
 * The Raft log of one group (internal to the raft module): the caller's
 * stable storage plus the unstable tail the library holds until a ready
 * is acknowledged (etcd's raftLog and unstable), with the committed,
 * handed-out (applying) and applied indexes.
 */
#ifndef RAFTLOG_H
#define RAFTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "raft.h"
#include "raftents.h"

struct raftlog;

struct raftlog *raftlog_new(const struct raft_storage *);
void raftlog_free(struct raftlog *);
size_t raftlog_memsize(const struct raftlog *);

uint64_t raftlog_first_index(const struct raftlog *);
uint64_t raftlog_last_index(const struct raftlog *);
uint64_t raftlog_last_term(const struct raftlog *);
/* 0, RAFT_ERR_COMPACTED or RAFT_ERR_UNAVAILABLE. */
int raftlog_term(const struct raftlog *, uint64_t i, uint64_t *term);
/* The term at i, 0 when unknown. */
uint64_t raftlog_term_or0(const struct raftlog *, uint64_t i);
int raftlog_match_term(const struct raftlog *, uint64_t i, uint64_t term);
int raftlog_is_up_to_date(const struct raftlog *, uint64_t lasti,
    uint64_t term);

uint64_t raftlog_committed(const struct raftlog *);
uint64_t raftlog_applying(const struct raftlog *);
uint64_t raftlog_applied(const struct raftlog *);
void raftlog_commit_to(struct raftlog *, uint64_t i);
/* Commits i if it is of term (the leader's rule); 1 if it advanced. */
int raftlog_maybe_commit(struct raftlog *, uint64_t i, uint64_t term);
void raftlog_applying_to(struct raftlog *, uint64_t i);
void raftlog_applied_to(struct raftlog *, uint64_t i);
/* Sets all three for a restart. */
void raftlog_set_indexes(struct raftlog *, uint64_t committed,
    uint64_t applied);

/*
 * A follower's append: 1 and *lastnew if the entry at index has
 * log_term (entries are then merged, a conflicting tail replaced, and
 * commit advanced to min(committed, *lastnew)); 0 on mismatch; -1 if
 * it would overwrite committed entries (reason set, nothing changed).
 */
int raftlog_maybe_append(struct raftlog *, uint64_t index, uint64_t log_term,
    uint64_t committed, const struct raft_entry *ents, size_t n,
    uint64_t *lastnew);
/* Appends (truncating any tail at ents[0].index); returns last index. */
uint64_t raftlog_append(struct raftlog *, const struct raft_entry *ents,
    size_t n);
/* The last index <= index whose term is <= term, and its term. */
uint64_t raftlog_find_conflict_by_term(const struct raftlog *, uint64_t index,
    uint64_t term, uint64_t *found_term);

/* Appends entries [lo, hi) within max_bytes (at least one) to out. */
int raftlog_entries(const struct raftlog *, uint64_t lo, uint64_t hi,
    uint64_t max_bytes, struct raftents *out);
/* Committed entries not yet handed out, within max_bytes (0: all). */
int raftlog_has_next_committed(const struct raftlog *);
int raftlog_next_committed(const struct raftlog *, uint64_t max_bytes,
    struct raftents *out);

/* The unstable part, for a ready. */
const struct raft_entry *raftlog_unstable_entries(const struct raftlog *,
    size_t *n);
const struct raft_snapshot *raftlog_unstable_snapshot(const struct raftlog *);
void raftlog_stable_to(struct raftlog *, uint64_t i, uint64_t term);
void raftlog_stable_snap_to(struct raftlog *, uint64_t i);

/*
 * Installs a snapshot from the leader (copied).  When the log holds the
 * snapshot's (index, term), the entries after it stay, as unstable
 * entries to be written again after the snapshot.  Fails (nothing
 * changed, reason set) only if those entries cannot be read.
 */
int raftlog_restore(struct raftlog *, const struct raft_snapshot *);
/* The snapshot to send: the unstable one or storage's.  Pointers are
 * borrowed until the next call; 0 or RAFT_ERR_SNAP_TEMP_UNAVAILABLE. */
int raftlog_snapshot(const struct raftlog *, uint64_t request_index,
    struct raft_snapshot *out);

/* A copy of a snapshot in one allocation (release with free()). */
struct raft_snapshot *raftlog_snapshot_dup(const struct raft_snapshot *);

#endif
