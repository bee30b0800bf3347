/*
 * Region snapshots: what a Raft snapshot's data holds for tikvd, and the
 * files that keep a received snapshot until the KV engine has it.
 *
 * The data of a snapshot: a header (magic, version), the region's
 * metadata (region_encode), the Raft index and term it was taken at, the
 * length and BLAKE2b-256 of the payload, then the payload: the region's
 * data families as a kv_snapshot_write() stream, zstd-compressed (level
 * 1).  snap_open verifies everything before a caller touches the KV
 * engine, so a damaged snapshot is refused, never half-applied.
 *
 * Files: dir/snap/REGION.snap (REGION in decimal), written to a temporary
 * name, fdatasync'd, renamed, the directory fsync'd.  A follower saves
 * the snapshot it received before the WAL records it as applied, and
 * removes it after the KV checkpoint that covers its ingest; a restart
 * that finds one re-ingests it.
 */
#ifndef SNAP_H
#define SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct kv;
struct region;

/* A consistent copy of the region's data at (index, term), into out. */
int snap_build(struct kv *, const struct region *, uint64_t index,
    uint64_t term, struct buf *out);
/*
 * Verifies a snapshot and decodes it: the region (region_init'ed by the
 * caller), index, term, and the decompressed stream for kv_ingest (any
 * out-pointer may be NULL).  -1 with log_reason() when damaged.
 */
int snap_open(const uint8_t *, size_t, struct region *, uint64_t *index,
    uint64_t *term, struct buf *stream);

/* Files under data_dir/snap/.  -1 with log_reason() on I/O errors. */
int snap_save(const char *data_dir, uint64_t region_id, const void *,
    size_t);
/* 1 and the bytes when the file exists, 0 when not, -1 on error. */
int snap_load(const char *data_dir, uint64_t region_id, struct buf *);
int snap_remove(const char *data_dir, uint64_t region_id);
/* Region ids that have a snapshot file (free() the array). */
uint64_t *snap_list(const char *data_dir, size_t *n);

#endif
