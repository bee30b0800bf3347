/*
 * codec: memcomparable encodings keep the order of their inputs, varints
 * round-trip, and decoders refuse malformed input without overreading.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "tap.h"
#include "xmalloc.h"

static size_t
random_bytes(uint8_t *p, size_t max)
{
	size_t n = tap_rand_below(max + 1), i;
	/* A small alphabet makes shared prefixes and equal strings common. */
	int narrow = tap_rand_below(2);

	for (i = 0; i < n; i++)
		p[i] = narrow ? (uint8_t)tap_rand_below(3) : (uint8_t)tap_rand();
	return n;
}

static int
sign(int x)
{
	return (x > 0) - (x < 0);
}

static void
test_bytes_order(void)
{
	uint8_t a[40], b[40];
	struct buf ea = BUF_INIT, eb = BUF_INIT, dec = BUF_INIT;
	int i, bad_order = 0, bad_trip = 0;

	for (i = 0; i < 20000; i++) {
		size_t na = random_bytes(a, sizeof(a));
		size_t nb = random_bytes(b, sizeof(b));
		struct bytes ba = { a, na }, bb = { b, nb };
		const uint8_t *p;

		buf_reset(&ea);
		buf_reset(&eb);
		codec_encode_bytes(&ea, a, na);
		codec_encode_bytes(&eb, b, nb);
		if (sign(bytes_cmp(ba, bb)) !=
		    sign(bytes_cmp(buf_bytes(&ea), buf_bytes(&eb))))
			bad_order++;
		/* Appending a suffix must not change the order either. */
		buf_add(&ea, "\xff", 1);
		buf_add(&eb, "\x00", 1);
		if (bytes_cmp(ba, bb) < 0 &&
		    bytes_cmp(buf_bytes(&ea), buf_bytes(&eb)) >= 0)
			bad_order++;
		buf_reset(&dec);
		p = ea.data;
		if (codec_decode_bytes(&p, ea.data + ea.len, &dec) == -1 ||
		    !bytes_eq(buf_bytes(&dec), ba) ||
		    p != ea.data + ea.len - 1)
			bad_trip++;
	}
	is_int(bad_order, 0, "memcomparable bytes keep order (20000 pairs)");
	is_int(bad_trip, 0, "memcomparable bytes round-trip");
	buf_free(&ea);
	buf_free(&eb);
	buf_free(&dec);
}

static void
test_bytes_known(void)
{
	struct buf e = BUF_INIT, d = BUF_INIT;
	const uint8_t *p;
	static const uint8_t empty[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xf7 };
	static const uint8_t eight[] = { '1', '2', '3', '4', '5', '6', '7',
	    '8', 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0xf7 };
	static const uint8_t bad_pad[] = { 'a', 0, 0, 0, 0, 0, 0, 1, 0xf9 };

	codec_encode_bytes(&e, "", 0);
	is_mem(e.data, e.len, empty, sizeof(empty), "empty string encodes "
	    "as one all-pad group");
	buf_reset(&e);
	codec_encode_bytes(&e, "12345678", 8);
	is_mem(e.data, e.len, eight, sizeof(eight), "a full group is followed "
	    "by an empty group");
	is_int(codec_encoded_bytes_len(8), 18, "encoded length of 8 bytes");
	p = eight;
	ok(codec_decode_bytes(&p, eight + 17, &d) == -1, "truncated encoding "
	    "is refused");
	is_int((long long)d.len, 0, "a refused decode leaves no output");
	p = bad_pad;
	ok(codec_decode_bytes(&p, bad_pad + sizeof(bad_pad), &d) == -1,
	    "non-zero padding is refused");
	buf_free(&e);
	buf_free(&d);
}

static void
test_u64_order(void)
{
	int i, bad_asc = 0, bad_desc = 0, bad_trip = 0;
	struct buf a = BUF_INIT, b = BUF_INIT;

	for (i = 0; i < 20000; i++) {
		uint64_t x = tap_rand() >> tap_rand_below(64);
		uint64_t y = tap_rand() >> tap_rand_below(64), r;
		const uint8_t *p;

		buf_reset(&a);
		buf_reset(&b);
		codec_encode_u64(&a, x);
		codec_encode_u64(&b, y);
		if (sign(bytes_cmp(buf_bytes(&a), buf_bytes(&b))) !=
		    (x > y) - (x < y))
			bad_asc++;
		buf_reset(&a);
		buf_reset(&b);
		codec_encode_u64_desc(&a, x);
		codec_encode_u64_desc(&b, y);
		if (sign(bytes_cmp(buf_bytes(&a), buf_bytes(&b))) !=
		    (x < y) - (x > y))
			bad_desc++;
		p = a.data;
		if (codec_decode_u64_desc(&p, a.data + a.len, &r) == -1 ||
		    r != x)
			bad_trip++;
	}
	is_int(bad_asc, 0, "ascending u64 encoding keeps order");
	is_int(bad_desc, 0, "descending u64 encoding reverses order");
	is_int(bad_trip, 0, "descending u64 round-trips");
	buf_free(&a);
	buf_free(&b);
}

static void
test_mvcc_keys(void)
{
	struct buf k1 = BUF_INIT, k2 = BUF_INIT, k3 = BUF_INIT, out = BUF_INIT;
	uint64_t ts;

	codec_mvcc_key(&k1, "key", 3, 100);
	codec_mvcc_key(&k2, "key", 3, 50);
	codec_mvcc_key(&k3, "key\0", 4, 1000);
	ok(bytes_cmp(buf_bytes(&k1), buf_bytes(&k2)) < 0, "newer version of "
	    "a key sorts first");
	ok(bytes_cmp(buf_bytes(&k2), buf_bytes(&k3)) < 0, "every version of "
	    "a key sorts before a longer key");
	ok(codec_mvcc_split(k3.data, k3.len, &out, &ts) == 0 && ts == 1000 &&
	    out.len == 4 && memcmp(out.data, "key\0", 4) == 0,
	    "mvcc key splits into key and ts");
	ok(codec_mvcc_split(k3.data, k3.len - 1, &out, &ts) == -1,
	    "short mvcc key is refused");
	buf_free(&k1);
	buf_free(&k2);
	buf_free(&k3);
	buf_free(&out);
}

static void
test_varints(void)
{
	uint8_t tmp[CODEC_VARINT_MAX];
	int i, bad = 0, badlen = 0;
	static const uint8_t overlong[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0x02 };
	static const uint8_t trunc[] = { 0x80, 0x80 };
	const uint8_t *p;
	uint64_t v;
	struct buf b = BUF_INIT;
	struct bytes s;

	for (i = 0; i < 20000; i++) {
		uint64_t x = tap_rand() >> tap_rand_below(64), y;
		size_t n = codec_put_varint(tmp, x);

		p = tmp;
		if (codec_read_varint(&p, tmp + n, &y) == -1 || y != x ||
		    p != tmp + n)
			bad++;
		if (n != codec_varint_len(x))
			badlen++;
	}
	is_int(bad, 0, "varints round-trip");
	is_int(badlen, 0, "varint_len matches the bytes written");
	is_int((long long)codec_put_varint(tmp, UINT64_MAX), 10,
	    "UINT64_MAX takes ten bytes");
	p = overlong;
	ok(codec_read_varint(&p, overlong + sizeof(overlong), &v) == -1,
	    "a varint over 64 bits is refused");
	p = trunc;
	ok(codec_read_varint(&p, trunc + sizeof(trunc), &v) == -1 &&
	    p == trunc, "a truncated varint is refused and the cursor kept");
	codec_add_lenbytes(&b, "ab\0c", 4);
	p = b.data;
	ok(codec_read_lenbytes(&p, b.data + b.len, &s) == 0 && s.len == 4 &&
	    memcmp(s.ptr, "ab\0c", 4) == 0, "length-prefixed bytes round-trip");
	p = b.data;
	ok(codec_read_lenbytes(&p, b.data + b.len - 1, &s) == -1,
	    "length past the end is refused");
	buf_free(&b);
}

int
main(void)
{
	tap_seed();
	test_bytes_known();
	test_bytes_order();
	test_u64_order();
	test_mvcc_keys();
	test_varints();
	return done_testing();
}
