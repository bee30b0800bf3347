/*
 * Byte encodings shared by the wire, the WAL and the KV engine.
 *
 * - Fixed-width big-endian integers: compare as bytes in numeric order.
 * - Varints (unsigned LEB128, at most 10 bytes) for compact lengths.
 * - Memcomparable bytes (TiKV's group encoding): the encoding of a byte
 *   string a sorts before that of b exactly when a < b, and the encoding
 *   is self-delimiting, so encoded keys can be followed by more fields.
 *   Each group of 8 bytes is followed by a marker 255 - (pad count).
 * - MVCC keys: memcomparable(key) followed by the timestamp big-endian and
 *   bit-inverted, so newer versions of a key sort first.
 *
 * Decoders take a cursor (*p) and an end, advance the cursor on success,
 * and return -1 without reading past end on malformed input.
 */
#ifndef CODEC_H
#define CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CODEC_VARINT_MAX	10
#define CODEC_GROUP_SIZE	8

void codec_put_u16be(uint8_t *, uint16_t);
void codec_put_u32be(uint8_t *, uint32_t);
void codec_put_u64be(uint8_t *, uint64_t);
uint16_t codec_get_u16be(const uint8_t *);
uint32_t codec_get_u32be(const uint8_t *);
uint64_t codec_get_u64be(const uint8_t *);

void codec_add_u32be(struct buf *, uint32_t);
void codec_add_u64be(struct buf *, uint64_t);
int codec_read_u32be(const uint8_t **p, const uint8_t *end, uint32_t *);
int codec_read_u64be(const uint8_t **p, const uint8_t *end, uint64_t *);

size_t codec_varint_len(uint64_t);
/* Writes at most CODEC_VARINT_MAX bytes at p; returns the count. */
size_t codec_put_varint(uint8_t *p, uint64_t);
void codec_add_varint(struct buf *, uint64_t);
/* Rejects truncated and over-long (more than 64 bits) varints. */
int codec_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *);

/* A varint length followed by the bytes. */
void codec_add_lenbytes(struct buf *, const void *, size_t);
int codec_read_lenbytes(const uint8_t **p, const uint8_t *end,
    struct bytes *out);

size_t codec_encoded_bytes_len(size_t len);
void codec_encode_bytes(struct buf *, const void *, size_t);
int codec_decode_bytes(const uint8_t **p, const uint8_t *end, struct buf *);

/* Memcomparable u64, ascending (big-endian) and descending (inverted). */
void codec_encode_u64(struct buf *, uint64_t);
void codec_encode_u64_desc(struct buf *, uint64_t);
int codec_decode_u64(const uint8_t **p, const uint8_t *end, uint64_t *);
int codec_decode_u64_desc(const uint8_t **p, const uint8_t *end, uint64_t *);

void codec_mvcc_key(struct buf *, const void *key, size_t len, uint64_t ts);
/* Splits an MVCC key into its user key (decoded into out) and timestamp. */
int codec_mvcc_split(const void *mkey, size_t len, struct buf *out,
    uint64_t *ts);

#endif
