/*
 * The raw API as a state machine over the KV engine's KV_CF_RAW family.
 *
 * A raw key is stored as itself; its value is a flag byte, then (with
 * RAW_F_TTL) the expiry as milliseconds since the epoch, 8 bytes
 * big-endian, then the user's value.  A key whose expiry is <= now is
 * absent for every operation (and the background sweep deletes it).
 *
 * raw_apply runs on the apply thread for a committed write cmd; raw_read
 * runs there too, for a read cmd at its read index.  Both work within the
 * region's range: the caller has checked that point keys lie in it;
 * ranges are clamped to it.
 *
 * Reply lines (man/tikv-protocol.7):
 *	PUT, DELETE, DELETE_RANGE	OK (one line for the whole write cmd)
 *	CAS	OK SWAPPED|FAILED ABSENT  or  OK SWAPPED|FAILED VALUE prev
 *	GET	VALUE v  or  NOT_FOUND
 *	BATCH_GET	VALUE k v ... then END (found keys only, in key order
 *			of the request)
 *	SCAN	VALUE k v (or VALUE k with KEY_ONLY) ... then END
 *	GET_TTL	VALUE seconds_left (0: no TTL)  or  NOT_FOUND
 *	CHECKSUM	OK count bytes checksum (checksum: XOR over the pairs
 *			of the first 8 bytes, big-endian, of BLAKE2b-64 of
 *			varint(keylen) key value; bytes = sum of key and
 *			value lengths)
 */
#ifndef RAW_H
#define RAW_H

#include <stdint.h>

#include "buf.h"

struct kv;
struct kv_batch;
struct cmd;
struct region;

#define RAW_F_TTL	0x01

/*
 * Adds a write cmd's effect to batch and appends its reply line.  A CAS
 * reads the current value from kv, so the caller commits the batch first
 * when it holds earlier writes (raw_needs_flush says when).  now_ms is
 * the cmd's own (c->now_ms).  -1 with log_reason() on a KV read error.
 */
int raw_apply(struct kv *, const struct region *, const struct cmd *c,
    struct kv_batch *batch, struct buf *reply);
/* Whether c reads the KV state at apply (a CAS, an IF_EXPIRED delete). */
int raw_needs_flush(const struct cmd *c);

/* Runs a read cmd at the current state and appends its reply. */
void raw_read(struct kv *, const struct region *, const struct cmd *c,
    uint64_t now_ms, struct buf *reply);

/*
 * Fills out (reset first) with a write cmd of IF_EXPIRED deletes of up to
 * limit keys of the region whose TTL expired by now_ms; returns how many
 * (0: none).
 */
int raw_collect_expired(struct kv *, const struct region *,
    uint64_t now_ms, int limit, struct cmd *out);

#endif
