/*
 * Transactions for clients: snapshot isolation across the whole cluster,
 * by Percolator two-phase commit over tikvd's TXN_* commands
 * (man/tikv-protocol.7; the server side is libcommon/mvcc.h).
 *
 * txn_begin takes a start timestamp from PD.  Reads see what was
 * committed before it, plus the transaction's own writes.  Writes are
 * buffered in the transaction until txn_commit, which:
 *  1. sorts the keys; the first is the primary;
 *  2. prewrites every key, the primary's region first, then the rest, in
 *     TXN_PREWRITE messages per region of at most 300 mutations (a
 *     region error regroups the keys);
 *  3. takes a commit timestamp from PD;
 *  4. commits the primary: from that reply on, the transaction is
 *     committed;
 *  5. commits the other keys (a failure here is only logged: a reader
 *     that meets such a lock finds the primary committed and resolves it).
 *
 * A read or prewrite that meets another transaction's lock asks for that
 * transaction's status at its primary (TXN_CHECK_STATUS) and resolves
 * the lock (TXN_RESOLVE_LOCK) once the owner committed or rolled back, or
 * after its TTL ran out (the owner is presumed dead and is rolled back).
 * While the owner is alive it waits, backing off, up to the client's
 * timeout.
 *
 * Every TXN_* command is idempotent on the server, so a call whose reply
 * was lost is sent again; a retry thus first learns the transaction's
 * state, never re-applies a write blindly.
 *
 * Failures: -1 with log_reason(); txn_commit returns TXN_CONFLICT when
 * another transaction wrote one of the keys after start_ts (or rolled
 * this one back): begin again and redo the work.  TXN_ALREADY_EXIST: a
 * txn_insert key exists.  In both cases this transaction's locks are
 * rolled back before the call returns.  CLIENT_UNKNOWN (client.h): the
 * primary's commit could not be confirmed either way in time.
 *
 * Transactions send no heartbeats (TXN_HEARTBEAT): one whose commit takes
 * longer than its lock TTL may be rolled back by a reader, and its commit
 * then returns TXN_CONFLICT.
 *
 * A struct txn belongs to one thread; many threads may each run their own
 * over one struct client.
 *
 * Test hook (environment, read by txn_commit): TIKV_TXN_FAILPOINT=
 * after-prewrite stops txn_commit (returning -1) after step 2, and
 * after-primary after step 4 (returning 0), leaving locks behind as a
 * crashed client would.
 */
#ifndef TXN_H
#define TXN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "client.h"

#define TXN_CONFLICT		(-10)
#define TXN_ALREADY_EXIST	(-11)

/* Default lock TTL: how long a silent owner is presumed alive. */
#define TXN_DEFAULT_TTL_MS	3000

struct txn;

/* NULL with log_reason() if PD gives no timestamp. */
struct txn *txn_begin(struct client *);
/* Frees the transaction; uncommitted writes are dropped (nothing was
 * sent for them before txn_commit). */
void txn_free(struct txn *);

uint64_t txn_start_ts(const struct txn *);
/* The lock TTL of this transaction's prewrites (ms; 0: the default). */
void txn_set_ttl(struct txn *, uint64_t ttl_ms);

/* 1 found (value filled), 0 not found, -1. */
int txn_get(struct txn *, const void *key, size_t keylen,
    struct buf *value);
/* found[i] and values[i] for keys[i]: 0 or -1. */
int txn_batch_get(struct txn *, const struct bytes *keys, size_t n,
    int *found, struct buf *values);
/*
 * The pairs of [start, end) (empty end: to the end of the key space) in
 * key order, at most limit (0: no limit), this transaction's own writes
 * included.  CLIENT_KEY_ONLY leaves values empty; CLIENT_REVERSE is not
 * supported (-1).  *out: client_pairs_free.
 */
int txn_scan(struct txn *, const void *start, size_t startlen,
    const void *end, size_t endlen, size_t limit, int flags,
    struct client_pair **out, size_t *n);

/* Buffered writes; the last write of a key wins. */
void txn_put(struct txn *, const void *key, size_t keylen,
    const void *value, size_t valuelen);
/* A put that fails the commit with TXN_ALREADY_EXIST if the key exists. */
void txn_insert(struct txn *, const void *key, size_t keylen,
    const void *value, size_t valuelen);
void txn_delete(struct txn *, const void *key, size_t keylen);
/* Locks a key without writing it: a concurrent writer of it conflicts. */
void txn_lock_key(struct txn *, const void *key, size_t keylen);

/*
 * Two-phase commit of the buffered writes (none: nothing to do, 0).
 * *commit_ts (may be NULL) gets the commit timestamp.  0, -1,
 * TXN_CONFLICT, TXN_ALREADY_EXIST or CLIENT_UNKNOWN.  The transaction
 * cannot be used after, except for txn_free.
 */
int txn_commit(struct txn *, uint64_t *commit_ts);

#endif
