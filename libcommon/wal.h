/*
 * The store's Raft log engine: one write-ahead log for every Raft group
 * (region) on a store, in the manner of TiKV's raft-engine.
 *
 * Layout.  A directory of segment files 0000000000000001.wal, ...,
 * numbered without gaps.  Each begins with a checksummed header and holds
 * batches; a batch is what one wal_sync() wrote: a header (sequence
 * number, length, crc32c) and records, each with its own crc32c.  A record
 * is one entry (group, index, term, data), a hard state, a compaction
 * point, a snapshot point or the removal of a group.  A new segment is
 * started once the current one passes opts.segment_size; it is made under
 * a temporary name, synced and renamed into place.
 *
 * Durability.  The append and set calls only stage records in memory (and
 * are visible to reads at once); wal_sync() writes everything staged as
 * one batch and makes it durable with one fdatasync: the raftstore loop
 * stages the Ready of every region and syncs once.  A batch is all or
 * nothing after a crash.  A failed fsync or fdatasync is fatal to the
 * process (fatal()): the page cache can no longer be trusted.  A failed
 * write (ENOSPC, EIO) makes wal_sync() return -1 with a reason; the staged
 * records stay staged, nothing of them is durable, and a later wal_sync()
 * tries the whole batch again.
 *
 * Recovery.  wal_open() replays every segment to rebuild the in-memory
 * index.  A torn or corrupt batch at the end of the last segment (a write
 * that was never synced) is cut off; any other damage makes wal_open()
 * fail with a reason naming the file and offset, and nothing is changed.
 *
 * Space.  A segment is deleted once nothing in it is needed: no entry
 * still in a group's log, no group's current hard state or compaction
 * point.  Segments go oldest first.  When a segment is finished, the state
 * of every group is written again into the next, so only entries of
 * lagging groups keep old segments alive.
 *
 * Threads.  Every call takes the log's mutex, so any thread may call any
 * function, but the intended use is one raftstore thread that appends,
 * syncs and reads; wal_sync() holds the mutex across its write and
 * fdatasync.  Callbacks run with the mutex held and must not call back
 * into the log.
 *
 * Errors.  Functions returning int return 0 (or a count) on success and
 * -1 with log_setreason() on failure; reads of indices the log does not
 * hold return WAL_COMPACTED or WAL_UNAVAILABLE, which Raft expects.
 */
#ifndef WAL_H
#define WAL_H

#include <stddef.h>
#include <stdint.h>

struct wal;

#define WAL_COMPACTED	(-2)	/* index <= the compaction point */
#define WAL_UNAVAILABLE	(-3)	/* index > the last index */

#define WAL_SEGMENT_SIZE	(128u << 20)
#define WAL_CACHE_SIZE		(32u << 20)
#define WAL_MAX_ENTRY		(64u << 20)	/* data of one entry */

/*
 * How a segment gets its space.  FALLOCATE (the default) reserves the
 * whole segment when it is made.  NONE appends, growing the file with
 * every batch, so each fdatasync also commits the new size.  ZERO writes
 * zeroes a little ahead of the batches, so most batches overwrite blocks
 * that are already allocated and written and their fdatasync writes data
 * only, at the price of writing the log twice.  Measured here (with other
 * work on the disk, so roughly): single-entry syncs ran 4,500-6,000/s
 * appending, 6,700-9,300/s fallocated, 6,500-10,500/s zeroed ahead;
 * 16 x 64 KiB batches lost 40% zeroed ahead.
 */
enum wal_prealloc {
	WAL_PREALLOC_FALLOCATE,
	WAL_PREALLOC_NONE,
	WAL_PREALLOC_ZERO
};

/* Zeroed fields take the defaults above. */
struct wal_opts {
	uint64_t segment_size;
	uint64_t cache_size;		/* recent batches kept in memory */
	int prealloc;			/* enum wal_prealloc */
};

/* One entry; data is borrowed (valid only during the call). */
struct wal_entry {
	uint64_t index;
	uint64_t term;
	uint32_t type;			/* the caller's, kept as is */
	const void *data;
	size_t len;
};

struct wal_hardstate {
	uint64_t term;
	uint64_t vote;
	uint64_t commit;
};

struct wal_stats {
	uint64_t first_segment;		/* oldest segment number */
	uint64_t last_segment;		/* the one being written */
	uint64_t synced_offset;		/* its durable end */
	uint64_t groups;
	uint64_t staged_bytes;		/* waiting for wal_sync() */
	uint64_t syncs;			/* fdatasyncs of batches */
	uint64_t bytes_written;
	uint64_t disk_reads;		/* entries read from segments */
	uint64_t truncated_tail;	/* bytes cut off at open */
};

/* Creates dir if missing; takes an exclusive lock on it. */
struct wal *wal_open(const char *dir, const struct wal_opts *);
/* Syncs what is staged (returns -1 if that fails), then frees all. */
int wal_close(struct wal *);

/*
 * Stages entries ents[0..n) of one group, with consecutive indices.  The
 * first index may be anywhere in (compaction point, last index + 1]; the
 * log's entries from it on are replaced (a Raft conflict).
 */
int wal_append_entries(struct wal *, uint64_t group,
    const struct wal_entry *ents, size_t n);
int wal_set_hardstate(struct wal *, uint64_t group,
    const struct wal_hardstate *);
/*
 * Drops the entries up to index, which must be in the log, and makes it
 * the compaction point.  Below the current compaction point it does
 * nothing.
 */
int wal_compact(struct wal *, uint64_t group, uint64_t index);
/* A snapshot was applied: drops every entry; (index, term) is the point. */
int wal_set_snapshot(struct wal *, uint64_t group, uint64_t index,
    uint64_t term);
/* Forgets a group: its entries, hard state and compaction point. */
int wal_remove_group(struct wal *, uint64_t group);
/* Writes everything staged as one batch and fdatasyncs it. */
int wal_sync(struct wal *);

/*
 * Reads.  A group the log has never seen has first index 1, last index 0,
 * a zero hard state and compaction point (0, 0).
 */
uint64_t wal_first_index(struct wal *, uint64_t group);
uint64_t wal_last_index(struct wal *, uint64_t group);
/* The term of an entry, or of the compaction point. */
int wal_term(struct wal *, uint64_t group, uint64_t index, uint64_t *term);
/* Returns 1 if the group has a hard state, 0 if not (and zeroes *hs). */
int wal_hardstate(struct wal *, uint64_t group, struct wal_hardstate *hs);
void wal_snapshot_point(struct wal *, uint64_t group, uint64_t *index,
    uint64_t *term);
/*
 * Calls fn for the entries [lo, hi) in order, stopping before the total
 * data size would pass max_bytes (but always giving at least one), or when
 * fn returns non-zero.  Returns the number of entries given, or -1,
 * WAL_COMPACTED (lo <= compaction point) or WAL_UNAVAILABLE (hi > last
 * index + 1).  Entries read from disk are checked against their checksum
 * and a mismatch is an error, never wrong data.
 */
int wal_entries(struct wal *, uint64_t group, uint64_t lo, uint64_t hi,
    uint64_t max_bytes, int (*fn)(void *arg, const struct wal_entry *),
    void *arg);
/* The groups the log holds, ascending; free() the array. */
uint64_t *wal_groups(struct wal *, size_t *n);
void wal_stats(struct wal *, struct wal_stats *);

/*
 * Fault injection, for tests.  Before every write and sync of a WAL file
 * and every creation of one, the hook is called with the operation and
 * the path (len is NULL but for writes).  For a write, *len is the byte
 * count and the hook may lower it: only that much is written.  A non-zero
 * return is an errno value: the operation then fails with it, after the
 * shortened write if any.  A shortened write with 0 returned counts as
 * whole, which is only sound if the process dies before the sync (a torn
 * write and a crash).  NULL removes the hook.  The hook is process-wide.
 */
enum wal_io { WAL_IO_WRITE, WAL_IO_SYNC, WAL_IO_CREATE };
void wal_set_faulthook(int (*fn)(void *arg, enum wal_io, const char *path,
    size_t *len), void *arg);

#endif
