/*
 * Percolator transactions over the KV engine (DESIGN.md section 7): the
 * records of the three transaction families, readers at a timestamp, and
 * the actions of two-phase commit.
 *
 * Records (keys are memcomparable-encoded user keys, codec.h, so every
 * version of a key sorts together and newer versions first):
 *	KV_CF_LOCK	enc(key) -> lock: the key is being written by the
 *			transaction start_ts, whose primary key is primary
 *	KV_CF_WRITE	enc(key) + desc(commit_ts) -> write: the transaction
 *			start_ts committed (or rolled back) this key
 *	KV_CF_DEFAULT	enc(key) + desc(start_ts) -> the value, unless it is
 *			short: values of at most MVCC_SHORT_VALUE_MAX bytes
 *			live inside the lock and then the write record
 * A rollback is a write record of type MVCC_ROLLBACK at commit_ts =
 * start_ts, so a prewrite that arrives after its transaction was rolled
 * back finds it and fails.  Timestamps come from PD's TSO: physical
 * milliseconds << 18 | logical (MVCC_TS_PHYSICAL).
 *
 * Actions read the committed state of kv and add their writes to batch,
 * which the caller commits.  Every replica of a region runs the same
 * action on the same state (tikvd evaluates them at apply), so their
 * conditions need no latches: the apply thread runs one at a time, after
 * committing the batch of the entries before it.  An action over several
 * keys is all or nothing: on a key error nothing is added to batch.
 * Every action is idempotent: running it twice gives the same state and
 * the same answer, so a client may resend one whose reply it lost.
 *
 * Readers take no kv_read_lock: they expect no writer between their
 * reads, as on tikvd's apply thread (the only writer of these families);
 * another thread brackets them with kv_read_lock itself.  err must not
 * be NULL; the other out-parameters documented "may be NULL" may.
 *
 * Return values: actions 0 (done) or MVCC_KEY_ERROR (err filled,
 * nothing added to batch); readers 1 (found), 0 (not found) or
 * MVCC_KEY_ERROR; -1 with log_reason() when kv fails or holds a record
 * that does not decode.
 */
#ifndef MVCC_H
#define MVCC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct kv;
struct kv_batch;

#define MVCC_KEY_ERROR		2
#define MVCC_SHORT_VALUE_MAX	255
#define MVCC_TS_PHYSICAL(ts)	((ts) >> 18)

/* Record types (one byte in the lock and write records). */
enum mvcc_type {
	MVCC_PUT = 'P',
	MVCC_DELETE = 'D',
	MVCC_LOCK = 'L',		/* read lock: locks without writing */
	MVCC_ROLLBACK = 'R'		/* write records only */
};

/* A prewrite mutation. */
struct mvcc_mutation {
	int type;			/* MVCC_PUT, MVCC_DELETE, MVCC_LOCK */
	int insert;			/* PUT only: fail if the key exists */
	struct bytes key;
	struct bytes value;		/* PUT */
};

struct mvcc_lock {
	int type;			/* MVCC_PUT, MVCC_DELETE, MVCC_LOCK */
	uint64_t start_ts;
	uint64_t ttl_ms;		/* from the physical part of start_ts */
	struct buf primary;
	int has_value;			/* a short value rides in the lock */
	struct buf value;
};

void mvcc_lock_init(struct mvcc_lock *);
void mvcc_lock_free(struct mvcc_lock *);
/* Whether the lock's TTL ran out by current_ts (physical parts). */
int mvcc_lock_expired(const struct mvcc_lock *, uint64_t current_ts);

/*
 * A key error, and its reply line (man/tikv-protocol.7):
 *	LOCKED key primary lock_ts ttl_ms PUT|DELETE|LOCK
 *	WRITE_CONFLICT key start_ts conflict_start_ts conflict_commit_ts
 *	ALREADY_EXIST key
 *	TXN_NOT_FOUND key start_ts	(commit: no lock, not committed)
 *	CLIENT_ERROR text		(rollback of a committed key, ...)
 */
struct mvcc_err {
	int word;			/* enum proto_word */
	struct buf key;
	struct mvcc_lock lock;		/* LOCKED */
	uint64_t start_ts;
	uint64_t conflict_start_ts;	/* WRITE_CONFLICT */
	uint64_t conflict_commit_ts;
	struct buf text;		/* CLIENT_ERROR */
};

void mvcc_err_init(struct mvcc_err *);
void mvcc_err_free(struct mvcc_err *);
/* Appends the error's reply line, LF included. */
void mvcc_err_reply(const struct mvcc_err *, struct buf *line);

/* --- readers ------------------------------------------------------------ */

/*
 * The value of key as of ts: the newest PUT or DELETE committed at or
 * before ts.  A lock of another transaction with start_ts <= ts (other
 * than a MVCC_LOCK lock) may hide a commit before ts: LOCKED.
 */
int mvcc_get(struct kv *, const void *key, size_t keylen, uint64_t ts,
    struct buf *value, struct mvcc_err *err);

/*
 * The pairs visible at ts in [start, end) (user keys; empty end: no
 * bound), in key order, at most limit (0: no limit).  fn returns 0 to go
 * on, -1 to stop with an error.  A blocking lock on a key the scan
 * reaches before its limit gives LOCKED (pairs before it were given to
 * fn).  *count (may be NULL) gets the number of pairs given.
 */
typedef int mvcc_scan_fn(void *arg, struct bytes key, struct bytes value);
int mvcc_scan(struct kv *, const void *start, size_t startlen,
    const void *end, size_t endlen, uint64_t ts, uint64_t limit,
    int key_only, mvcc_scan_fn *fn, void *arg, size_t *count,
    struct mvcc_err *err);

/* --- actions ------------------------------------------------------------ */

/*
 * Prewrite: lock every key for the transaction start_ts.  Fails with
 * LOCKED if another transaction holds a key's lock, WRITE_CONFLICT if a
 * key has a write record (a commit or a rollback) at or after start_ts,
 * ALREADY_EXIST for an insert of a key whose newest version is a PUT.
 * Keys this transaction has locked already are locked again unchanged.
 */
int mvcc_prewrite(struct kv *, struct kv_batch *,
    const struct mvcc_mutation *, size_t n, struct bytes primary,
    uint64_t start_ts, uint64_t ttl_ms, struct mvcc_err *err);

/*
 * Commit: replace each key's lock of start_ts by a write record at
 * commit_ts (> start_ts).  A key already committed by start_ts is fine;
 * a key with neither (rolled back, or never prewritten) fails with
 * TXN_NOT_FOUND.
 */
int mvcc_commit(struct kv *, struct kv_batch *, const struct bytes *keys,
    size_t n, uint64_t start_ts, uint64_t commit_ts, struct mvcc_err *err);

/*
 * Rollback: remove each key's lock of start_ts (and its value) and leave a
 * rollback record, also on keys never prewritten, so a late prewrite
 * fails.  A key committed by start_ts fails with CLIENT_ERROR.
 */
int mvcc_rollback(struct kv *, struct kv_batch *, const struct bytes *keys,
    size_t n, uint64_t start_ts, struct mvcc_err *err);

/*
 * The status of the transaction lock_ts, from its primary key, as a
 * client that met one of its locks asks it at current_ts:
 *	MVCC_TXN_LOCKED		alive: *ttl_ms is its lock's TTL
 *	MVCC_TXN_COMMITTED	*commit_ts
 *	MVCC_TXN_ROLLED_BACK	rolled back before, or now: a lock whose TTL
 *				ran out by current_ts is rolled back, and so is
 *				a missing lock when rollback_if_missing
 * A primary with no lock and no record, without rollback_if_missing, is
 * TXN_NOT_FOUND (the prewrite may still be on its way).
 */
enum mvcc_txn_state {
	MVCC_TXN_LOCKED = 1,
	MVCC_TXN_COMMITTED,
	MVCC_TXN_ROLLED_BACK
};

struct mvcc_txn_status {
	int state;			/* enum mvcc_txn_state */
	uint64_t ttl_ms;
	uint64_t commit_ts;
};

int mvcc_check_txn_status(struct kv *, struct kv_batch *,
    struct bytes primary, uint64_t lock_ts, uint64_t current_ts,
    int rollback_if_missing, struct mvcc_txn_status *,
    struct mvcc_err *err);

/*
 * Resolve: every lock of the transaction start_ts in [start, end) (user
 * keys, empty end: no bound) is committed at commit_ts, or rolled back
 * when commit_ts is 0.  *resolved (may be NULL) counts the keys.
 */
int mvcc_resolve_lock(struct kv *, struct kv_batch *, const void *start,
    size_t startlen, const void *end, size_t endlen, uint64_t start_ts,
    uint64_t commit_ts, size_t *resolved);

/*
 * Heartbeat: raise the TTL of the primary's lock of start_ts to ttl_ms
 * if it is lower; *ttl_out gets the TTL now.  No such lock: TXN_NOT_FOUND.
 */
int mvcc_heartbeat(struct kv *, struct kv_batch *, struct bytes primary,
    uint64_t start_ts, uint64_t ttl_ms, uint64_t *ttl_out,
    struct mvcc_err *err);

#endif
