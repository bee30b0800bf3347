/*
 * The store's ordered key-value engine: one tkrzw TreeDBM file (kv.tkt in
 * the store's data directory) holding every region's applied data.
 *
 * Column families are key prefixes: each family owns one prefix byte, so
 * families never mix and a scan never leaves its family.  Keys and values
 * are byte strings (NUL and the empty key included).  Keys are ordered by
 * unsigned byte comparison, shorter first on a common prefix.
 *
 * Durability (DESIGN.md sections 2 and 5).  Writes are NOT synced: the Raft
 * WAL carries durability between checkpoints.  kv_checkpoint() makes the
 * whole current state durable with one hard sync.  Whatever the caller
 * wants recovery to know (each region's applied index) it writes into
 * KV_CF_META with the data it covers, in the same batch.
 *
 * Crash atomicity.  After kill -9 (or a crash during a checkpoint), the
 * next kv_open() restores the file to the state of the last completed
 * checkpoint: every batch committed before that kv_checkpoint() returned
 * is present in full, no batch committed after it is present at all, and
 * kv_checkpoint_id() tells which checkpoint it was.  No batch is ever
 * visible half-applied.  (tkrzw settings: the file is append-only between
 * rebuilds and restored to the last synchronized size on open; see kv.c
 * and t/unit/kv_crash.c, which checks this under SIGKILL.)  A power loss
 * gives the same guarantee when the device honours fdatasync.
 *
 * Threads.  Any number of reader threads may call kv_get, the iterator
 * functions, kv_range_stats and kv_snapshot_range concurrently with each
 * other and with one writer.  Write calls (kv_put, kv_delete,
 * kv_batch_commit, kv_ingest), kv_checkpoint and kv_rebuild may come from
 * any thread; they are serialized inside, in the order they take the
 * write lock.  The intended use is one apply thread writing, a timer
 * checkpointing, a housekeeping thread rebuilding.  kv_close must not
 * overlap any other call.
 *
 * Read consistency.  Each single call sees whole batches: kv_get, one
 * iterator step, and kv_snapshot_range never observe a batch half-applied.
 * Separate calls may see different states; a thread that must read several
 * keys from one state (a Percolator read: lock, write, then data) brackets
 * them with kv_read_lock()/kv_read_unlock(), which holds batch commits off
 * meanwhile.  Iterators are not snapshots: a long scan sees every batch
 * committed behind its position, never a half one at any single step.
 *
 * Errors.  Functions return -1 (or NULL) and set log_reason().  A failed
 * write (ENOSPC, EIO) leaves the handle failed: every later write and
 * checkpoint fails, nothing more becomes durable, and kv_close does not
 * persist the in-memory state; reopening restores the last checkpoint.
 * A failed sync in kv_checkpoint is fatal to the process (fatalx), since
 * the kernel may have dropped the dirty pages it could not write.
 *
 * Test hooks (environment, read by kv_open): TIKV_KV_FAILPOINT=op:ERR:n
 * with op "write" or "sync" and ERR "ENOSPC" or "EIO" fails that kind of
 * operation after n successful ones; TIKV_KV_TKRZW_PARAMS replaces the
 * tkrzw settings (for comparing them in t/unit/kv_crash.c only).
 */
#ifndef KV_H
#define KV_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct kv;
struct kv_batch;
struct kv_iter;

enum kv_cf {
	KV_CF_DEFAULT,		/* transaction data: key + start_ts -> value */
	KV_CF_LOCK,		/* transaction locks: key -> lock */
	KV_CF_WRITE,		/* transaction commits: key + commit_ts */
	KV_CF_RAW,		/* raw API data */
	KV_CF_META,		/* local metadata: apply state, region meta */
	KV_CF_COUNT
};

/* Family masks for kv_snapshot_range and kv_ingest. */
#define KV_CFMASK(cf)	(1u << (cf))
#define KV_CFMASK_DATA	(KV_CFMASK(KV_CF_DEFAULT) | KV_CFMASK(KV_CF_LOCK) | \
			 KV_CFMASK(KV_CF_WRITE) | KV_CFMASK(KV_CF_RAW))

struct kv_options {
	size_t max_key_size;	/* bytes; larger keys are rejected */
	size_t max_value_size;	/* bytes; larger values are rejected */
	int64_t cache_pages;	/* tkrzw max_cached_pages (about 8 KiB each) */
	/* kv_rebuild_needed(): file larger than both of these */
	int64_t rebuild_min_bytes;
	double rebuild_ratio;	/* file size / size after the last rebuild */
};

/* Defaults: 8 KiB keys, 8 MiB values, 65536 pages, rebuild at 2x / 64 MiB. */
void kv_options_init(struct kv_options *);

/*
 * Opens (creating if needed) dir/kv.tkt.  If the last process did not
 * close it, the file is first restored to its last checkpoint, which takes
 * time proportional to the file size.  opts may be NULL for the defaults.
 */
struct kv *kv_open(const char *dir, const struct kv_options *opts);

/*
 * Checkpoints (unless the handle failed) and closes.  Free every iterator
 * first.  Returns -1 if the final sync or close failed, or if the handle
 * had failed (its partial state is then left unwritten: the next open
 * restores the last checkpoint).  The handle is gone in every case.
 */
int kv_close(struct kv *);

/* The path of the file, for messages. */
const char *kv_path(const struct kv *);

/* Returns 1 and the value in *val (replaced), 0 if absent, -1 on error. */
int kv_get(struct kv *, enum kv_cf, const void *key, size_t keylen,
    struct buf *val);

/* One-operation batches. */
int kv_put(struct kv *, enum kv_cf, const void *key, size_t keylen,
    const void *val, size_t vallen);
int kv_delete(struct kv *, enum kv_cf, const void *key, size_t keylen);

/*
 * Write batches: operations apply in order, all or nothing.  The batch
 * copies the bytes it is given.  Sizes are checked at commit, which
 * rejects the whole batch (nothing applied) when a key or value is too
 * large.  A range [start, end) covers keys k with start <= k < end within
 * the family; an empty end means the end of the family.
 */
struct kv_batch *kv_batch_new(void);
void kv_batch_free(struct kv_batch *);
void kv_batch_clear(struct kv_batch *);
void kv_batch_put(struct kv_batch *, enum kv_cf, const void *key,
    size_t keylen, const void *val, size_t vallen);
void kv_batch_delete(struct kv_batch *, enum kv_cf, const void *key,
    size_t keylen);
void kv_batch_delete_range(struct kv_batch *, enum kv_cf,
    const void *start, size_t startlen, const void *end, size_t endlen);
size_t kv_batch_count(const struct kv_batch *);
/* Approximate bytes held: keys, values and per-operation overhead. */
size_t kv_batch_bytes(const struct kv_batch *);
/* Applies the batch; it is left intact (clear or free it after). */
int kv_batch_commit(struct kv *, struct kv_batch *);

/*
 * A consistent multi-key read: between these, no batch is committed, so
 * every read by this thread sees one state.  Keep it short (point reads,
 * a bounded scan): the writer waits.  Not recursive; make no write call
 * while holding it.
 */
void kv_read_lock(struct kv *);
void kv_read_unlock(struct kv *);

/*
 * Makes every committed batch durable with one hard sync and returns the
 * new checkpoint id (ids count up from 1 over the file's life), or -1 if
 * the handle has failed.  A sync failure is fatal.
 */
int64_t kv_checkpoint(struct kv *);
/* The id of the last completed checkpoint (0 for a new file). */
int64_t kv_checkpoint_id(struct kv *);

/*
 * Ordered iteration over [lower, upper) of one family; an empty upper
 * means the end of the family.  A new iterator is not positioned.  Each
 * positioning call returns 1 if it landed on a key, 0 if it ran out of the
 * bounds (the iterator is then invalid), -1 on error.  kv_iter_key and
 * kv_iter_value return the family-less key and the value of the current
 * entry; they stay valid until the next call on the iterator.  One
 * iterator belongs to one thread at a time.
 */
struct kv_iter *kv_iter_new(struct kv *, enum kv_cf, const void *lower,
    size_t lowerlen, const void *upper, size_t upperlen);
void kv_iter_free(struct kv_iter *);
int kv_iter_first(struct kv_iter *);	/* smallest key >= lower */
int kv_iter_last(struct kv_iter *);	/* largest key < upper */
int kv_iter_seek(struct kv_iter *, const void *key, size_t keylen);
					/* smallest key >= key */
int kv_iter_seek_prev(struct kv_iter *, const void *key, size_t keylen);
					/* largest key <= key */
int kv_iter_next(struct kv_iter *);
int kv_iter_prev(struct kv_iter *);
int kv_iter_valid(const struct kv_iter *);
struct bytes kv_iter_key(const struct kv_iter *);
struct bytes kv_iter_value(const struct kv_iter *);

/*
 * Size of [start, end) in one family: keys, key+value bytes, and a key
 * near the middle by bytes (empty if the range has fewer than two keys).
 * It scans the range without holding writers off, so under concurrent
 * writes the figures are approximate; the middle key is within about
 * 1/32 of the range's bytes of the true middle.
 */
struct kv_range_stats {
	uint64_t keys;
	uint64_t bytes;
	struct buf middle;	/* caller frees */
};
int kv_range_stats(struct kv *, enum kv_cf, const void *start,
    size_t startlen, const void *end, size_t endlen,
    struct kv_range_stats *);

/*
 * The stored-key bounds, in family cf, of the user keys [start, end) (a
 * region's range; an empty end: no bound).  The transaction families
 * (DEFAULT, LOCK, WRITE) store memcomparable-encoded user keys (codec.h,
 * mvcc.h), so their bounds are the encodings; RAW and META store keys as
 * they are.  lo and hi are reset first.
 */
int kv_cf_encodes_keys(enum kv_cf);
void kv_cf_bounds(enum kv_cf, const void *start, size_t startlen,
    const void *end, size_t endlen, struct buf *lo, struct buf *hi);

/*
 * A consistent copy of the user keys [start, end) (kv_cf_bounds) in every
 * family of cfmask (a region's
 * data for a Raft snapshot), from one point in time: batch commits wait
 * while it runs, so the callback must be quick (append to a buffer or a
 * file) and make no kv call.  The callback returns 0 to go on, -1 to stop
 * (kv_snapshot_range then returns -1 with the reason it set).  Families go
 * in enum order, keys ascending.
 */
typedef int kv_snapshot_fn(void *arg, enum kv_cf, struct bytes key,
    struct bytes val);
int kv_snapshot_range(struct kv *, unsigned cfmask, const void *start,
    size_t startlen, const void *end, size_t endlen, kv_snapshot_fn *,
    void *arg);

/*
 * The same copy as a self-describing byte stream appended to out: a header
 * naming the user-key range and families, the pairs, and a trailer with the pair
 * count.  Transport checksums and compression are the caller's.
 */
int kv_snapshot_write(struct kv *, unsigned cfmask, const void *start,
    size_t startlen, const void *end, size_t endlen, struct buf *out);

/*
 * Replaces the contents of the stream's range, in the stream's families,
 * with the stream's pairs, as one batch: readers and a crash see the old
 * contents or the new, never a mix.  A malformed stream, or a pair outside
 * the range or families, is rejected before anything is written.
 */
int kv_ingest(struct kv *, const void *stream, size_t len);

/*
 * Rebuilding rewrites the file compactly (the append-only file grows with
 * every checkpoint).  kv_rebuild_needed is cheap.  kv_rebuild runs for a
 * time proportional to the data, from a housekeeping thread, while readers
 * and the writer go on: it copies every record into kv.tkt.rebuild and
 * syncs it, replays the batches committed meanwhile, and then, holding
 * writers off only for the last of those (milliseconds, not a whole-file
 * sync), makes the copy a new checkpoint and renames it over kv.tkt.  A crash at any point reopens at a checkpoint.
 * It needs free disk space for a second copy of the live data.  Open
 * iterators move to the new file at their next call (the old file is
 * closed when the last one has); keep iterators short-lived.  Returns 0,
 * or -1 (the old file stays in use; the handle has not failed).
 */
int kv_rebuild_needed(struct kv *);
int kv_rebuild(struct kv *);

/* Whole-file figures, for status pages. */
int64_t kv_file_size(struct kv *);
int64_t kv_count(struct kv *);

#endif
