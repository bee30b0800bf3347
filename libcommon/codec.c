#include <string.h>

#include "codec.h"

void
codec_put_u16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
codec_put_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
codec_put_u64be(uint8_t *p, uint64_t v)
{
	codec_put_u32be(p, (uint32_t)(v >> 32));
	codec_put_u32be(p + 4, (uint32_t)v);
}

uint16_t
codec_get_u16be(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t
codec_get_u32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint64_t
codec_get_u64be(const uint8_t *p)
{
	return (uint64_t)codec_get_u32be(p) << 32 | codec_get_u32be(p + 4);
}

void
codec_add_u32be(struct buf *b, uint32_t v)
{
	uint8_t tmp[4];

	codec_put_u32be(tmp, v);
	buf_add(b, tmp, sizeof(tmp));
}

void
codec_add_u64be(struct buf *b, uint64_t v)
{
	uint8_t tmp[8];

	codec_put_u64be(tmp, v);
	buf_add(b, tmp, sizeof(tmp));
}

int
codec_read_u32be(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	if (end - *p < 4)
		return -1;
	*v = codec_get_u32be(*p);
	*p += 4;
	return 0;
}

int
codec_read_u64be(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	if (end - *p < 8)
		return -1;
	*v = codec_get_u64be(*p);
	*p += 8;
	return 0;
}

size_t
codec_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t
codec_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void
codec_add_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[CODEC_VARINT_MAX];

	buf_add(b, tmp, codec_put_varint(tmp, v));
}

int
codec_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t r = 0;
	unsigned shift = 0;

	for (;;) {
		if (q == end || shift > 63)
			return -1;
		/* The tenth byte may carry only the top bit of a uint64. */
		if (shift == 63 && (*q & 0xfe))
			return -1;
		r |= (uint64_t)(*q & 0x7f) << shift;
		if ((*q++ & 0x80) == 0)
			break;
		shift += 7;
	}
	*v = r;
	*p = q;
	return 0;
}

void
codec_add_lenbytes(struct buf *b, const void *data, size_t len)
{
	codec_add_varint(b, len);
	buf_add(b, data, len);
}

int
codec_read_lenbytes(const uint8_t **p, const uint8_t *end, struct bytes *out)
{
	const uint8_t *q = *p;
	uint64_t len;

	if (codec_read_varint(&q, end, &len) == -1 ||
	    len > (uint64_t)(end - q))
		return -1;
	out->ptr = q;
	out->len = (size_t)len;
	*p = q + len;
	return 0;
}

size_t
codec_encoded_bytes_len(size_t len)
{
	return (len / CODEC_GROUP_SIZE + 1) * (CODEC_GROUP_SIZE + 1);
}

void
codec_encode_bytes(struct buf *b, const void *data, size_t len)
{
	const uint8_t *s = data;
	uint8_t group[CODEC_GROUP_SIZE + 1];
	size_t i, n, pad;

	buf_grow(b, codec_encoded_bytes_len(len));
	for (i = 0;; i += CODEC_GROUP_SIZE) {
		n = len - i < CODEC_GROUP_SIZE ? len - i : CODEC_GROUP_SIZE;
		pad = CODEC_GROUP_SIZE - n;
		if (n)
			memcpy(group, s + i, n);
		memset(group + n, 0, pad);
		group[CODEC_GROUP_SIZE] = (uint8_t)(0xff - pad);
		buf_add(b, group, sizeof(group));
		if (pad)
			break;
	}
}

int
codec_decode_bytes(const uint8_t **p, const uint8_t *end, struct buf *out)
{
	const uint8_t *q = *p;
	size_t start = out->len, pad, i;
	uint8_t marker;

	for (;;) {
		if (end - q < CODEC_GROUP_SIZE + 1)
			goto bad;
		marker = q[CODEC_GROUP_SIZE];
		pad = 0xff - marker;
		if (pad > CODEC_GROUP_SIZE)
			goto bad;
		/* Padding must be zeros, or two spellings would decode alike. */
		for (i = CODEC_GROUP_SIZE - pad; i < CODEC_GROUP_SIZE; i++)
			if (q[i] != 0)
				goto bad;
		buf_add(out, q, CODEC_GROUP_SIZE - pad);
		q += CODEC_GROUP_SIZE + 1;
		if (pad)
			break;
	}
	*p = q;
	return 0;
bad:
	buf_truncate(out, start);
	return -1;
}

void
codec_encode_u64(struct buf *b, uint64_t v)
{
	codec_add_u64be(b, v);
}

void
codec_encode_u64_desc(struct buf *b, uint64_t v)
{
	codec_add_u64be(b, ~v);
}

int
codec_decode_u64(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	return codec_read_u64be(p, end, v);
}

int
codec_decode_u64_desc(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	if (codec_read_u64be(p, end, v) == -1)
		return -1;
	*v = ~*v;
	return 0;
}

void
codec_mvcc_key(struct buf *b, const void *key, size_t len, uint64_t ts)
{
	codec_encode_bytes(b, key, len);
	codec_encode_u64_desc(b, ts);
}

int
codec_mvcc_split(const void *mkey, size_t len, struct buf *out, uint64_t *ts)
{
	const uint8_t *p = mkey, *end = p + len;

	if (codec_decode_bytes(&p, end, out) == -1)
		return -1;
	if (codec_decode_u64_desc(&p, end, ts) == -1 || p != end)
		return -1;
	return 0;
}
