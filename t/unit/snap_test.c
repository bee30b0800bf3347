/*
 * Region snapshots: built from a real KV engine, verified, ingested into
 * a second engine with the same contents; every truncation and every
 * single-byte flip refused; the snapshot files; empty regions and binary
 * keys.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "kv.h"
#include "log.h"
#include "region.h"
#include "snap.h"
#include "tap.h"

static char tmpdir[256];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *
newdir(const char *name)
{
	static char path[4][512];
	static int which;
	char *p = path[which++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	rm_rf(p);
	mkdir(p, 0755);
	return p;
}

static struct kv *
xopen(const char *dir)
{
	struct kv *kv;

	if ((kv = kv_open(dir, NULL)) == NULL) {
		diag("kv_open: %s", log_reason());
		exit(1);
	}
	return kv;
}

/* ok() that shows the library's reason when it fails. */
static int
check(int cond, const char *name)
{
	if (!ok(cond, "%s", name))
		diag("reason: %s", log_reason());
	return cond;
}

/* Puts a user key: the transaction families store it encoded. */
static void
xput(struct kv *kv, enum kv_cf cf, const void *k, size_t kl, const void *v,
    size_t vl)
{
	struct buf ek = BUF_INIT, hi = BUF_INIT;

	kv_cf_bounds(cf, k, kl, "", 0, &ek, &hi);
	if (kv_put(kv, cf, ek.data, ek.len, v, vl) == -1) {
		diag("kv_put: %s", log_reason());
		exit(1);
	}
	buf_free(&ek);
	buf_free(&hi);
}

/* kv_get of a user key, as xput stores it. */
static int
xget(struct kv *kv, enum kv_cf cf, const void *k, size_t kl,
    struct buf *val)
{
	struct buf ek = BUF_INIT, hi = BUF_INIT;
	int r;

	kv_cf_bounds(cf, k, kl, "", 0, &ek, &hi);
	r = kv_get(kv, cf, ek.data, ek.len, val);
	buf_free(&ek);
	buf_free(&hi);
	return r;
}

static void
make_region(struct region *r, uint64_t id, const void *s, size_t sl,
    const void *e, size_t el)
{
	region_init(r);
	r->id = id;
	buf_add(&r->start, s, sl);
	buf_add(&r->end, e, el);
	r->epoch.conf_ver = 3;
	r->epoch.version = 7;
	region_add_peer(r, 11, 1, REGION_VOTER);
	region_add_peer(r, 12, 2, REGION_VOTER);
	region_add_peer(r, 13, 3, REGION_LEARNER);
}

static int
same_region(const struct region *a, const struct region *b)
{
	size_t i;

	if (a->id != b->id || !bytes_eq(buf_bytes(&a->start),
	    buf_bytes(&b->start)) || !bytes_eq(buf_bytes(&a->end),
	    buf_bytes(&b->end)) || !region_epoch_eq(a->epoch, b->epoch) ||
	    a->npeers != b->npeers)
		return 0;
	for (i = 0; i < a->npeers; i++)
		if (a->peers[i].id != b->peers[i].id ||
		    a->peers[i].store_id != b->peers[i].store_id ||
		    a->peers[i].role != b->peers[i].role)
			return 0;
	return 1;
}

/* Every pair of [start, end) in the data families, as one byte string. */
static void
dump(struct kv *kv, const struct region *r, struct buf *out)
{
	struct buf lo = BUF_INIT, hi = BUF_INIT;
	struct kv_iter *it;
	struct bytes k, v;
	int cf, rc;

	buf_reset(out);
	for (cf = 0; cf < KV_CF_COUNT; cf++) {
		if (!(KV_CFMASK_DATA & KV_CFMASK(cf)))
			continue;
		kv_cf_bounds(cf, r->start.data, r->start.len, r->end.data,
		    r->end.len, &lo, &hi);
		it = kv_iter_new(kv, cf, lo.data, lo.len, hi.data, hi.len);
		for (rc = kv_iter_first(it); rc == 1; rc = kv_iter_next(it)) {
			k = kv_iter_key(it);
			v = kv_iter_value(it);
			buf_printf(out, "%d:%zu:", cf, k.len);
			buf_add(out, k.ptr, k.len);
			buf_printf(out, ":%zu:", v.len);
			buf_add(out, v.ptr, v.len);
		}
		if (rc == -1)
			buf_addstr(out, "ERROR");
		kv_iter_free(it);
	}
	buf_free(&lo);
	buf_free(&hi);
}

static size_t
count_cf(struct kv *kv, enum kv_cf cf)
{
	struct kv_iter *it = kv_iter_new(kv, cf, NULL, 0, NULL, 0);
	size_t n = 0;
	int rc;

	for (rc = kv_iter_first(it); rc == 1; rc = kv_iter_next(it))
		n++;
	kv_iter_free(it);
	return n;
}

/* Binary keys around the region [k\0, m\xff): NUL, 0xff, empty. */
static void
fill(struct kv *kv)
{
	uint8_t key[16], val[64];
	int i, j;

	for (i = 0; i < 300; i++) {
		key[0] = (uint8_t)('j' + i % 5);	/* j k l m n */
		key[1] = (uint8_t)i;
		key[2] = 0;
		key[3] = 0xff;
		key[4] = (uint8_t)(i >> 8);
		for (j = 0; j < (int)sizeof(val); j++)
			val[j] = (uint8_t)(i * 7 + j);
		xput(kv, KV_CF_RAW, key, 5, val, (size_t)(i % 64));
		xput(kv, (enum kv_cf)(i % 3), key, 2 + (size_t)(i % 3), val,
		    8);
	}
	xput(kv, KV_CF_RAW, "", 0, "empty key", 9);
	xput(kv, KV_CF_RAW, "k\0", 2, "region start", 12);
	xput(kv, KV_CF_RAW, "m\xff", 2, "region end", 10);
	xput(kv, KV_CF_META, "k\0meta", 6, "not data", 8);
}

static void
test_round_trip(void)
{
	struct kv *a, *b;
	struct region r, got;
	struct buf snap = BUF_INIT, stream = BUF_INIT;
	struct buf da = BUF_INIT, db = BUF_INIT, full = BUF_INIT;
	struct region all;
	uint64_t index = 0, term = 0;
	size_t meta_b, raw_b;

	a = xopen(newdir("a"));
	b = xopen(newdir("b"));
	fill(a);
	/* b holds other data in the range (to be replaced) and outside. */
	xput(b, KV_CF_RAW, "k\x01stale", 7, "old", 3);
	xput(b, KV_CF_LOCK, "l", 1, "old lock", 8);
	xput(b, KV_CF_RAW, "a outside", 9, "kept", 4);
	xput(b, KV_CF_RAW, "m\xff", 2, "kept too", 8);
	xput(b, KV_CF_META, "k\0meta", 6, "b's own", 7);
	meta_b = count_cf(b, KV_CF_META);

	make_region(&r, 42, "k\0", 2, "m\xff", 2);
	check(snap_build(a, &r, 1234, 56, &snap) == 0, "snap_build");
	region_init(&got);
	check(snap_open(snap.data, snap.len, &got, &index, &term, &stream) ==
	    0, "snap_open accepts it");
	ok(same_region(&got, &r), "the region comes back");
	ok(index == 1234 && term == 56, "index and term come back");
	check(kv_ingest(b, stream.data, stream.len) == 0, "kv_ingest");
	dump(a, &r, &da);
	dump(b, &r, &db);
	ok(da.len > 1000 && da.len == db.len &&
	    memcmp(da.data, db.data, da.len) == 0,
	    "the second KV holds the same data in the region (%zu bytes)",
	    da.len);
	ok(kv_get(b, KV_CF_RAW, "k\x01stale", 7, NULL) == 0 &&
	    xget(b, KV_CF_LOCK, "l", 1, NULL) == 0,
	    "its old data in the range is gone");
	ok(kv_get(b, KV_CF_RAW, "a outside", 9, NULL) == 1 &&
	    kv_get(b, KV_CF_RAW, "m\xff", 2, &full) == 1 &&
	    full.len == 8 && memcmp(full.data, "kept too", 8) == 0,
	    "its data outside the range is untouched (end is exclusive)");
	ok(kv_get(b, KV_CF_RAW, "k\0", 2, &full) == 1 && full.len == 12,
	    "the start key is in the snapshot");
	ok(count_cf(b, KV_CF_META) == meta_b &&
	    kv_get(b, KV_CF_META, "k\0meta", 6, &full) == 1 &&
	    full.len == 7, "local metadata is not part of a snapshot");
	raw_b = stream.len;
	ok(snap.len < raw_b, "the payload is compressed (%zu < %zu)",
	    snap.len, raw_b);

	/* Every out-pointer may be NULL. */
	ok(snap_open(snap.data, snap.len, NULL, NULL, NULL, NULL) == 0,
	    "snap_open verifies with no outputs");
	/* It appends to the caller's stream buffer. */
	buf_reset(&stream);
	buf_addstr(&stream, "xy");
	ok(snap_open(snap.data, snap.len, NULL, NULL, NULL, &stream) == 0 &&
	    stream.len == raw_b + 2 && memcmp(stream.data, "xy", 2) == 0,
	    "the stream is appended to what the buffer held");

	/* The whole key space: empty start and end. */
	region_init(&all);
	all.id = 1;
	buf_reset(&full);
	ok(snap_build(a, &all, 6, 6, &full) == 0 &&
	    snap_open(full.data, full.len, NULL, NULL, NULL, NULL) == 0,
	    "a region covering every key");
	buf_reset(&stream);
	ok(snap_open(full.data, full.len, NULL, NULL, NULL, &stream) == 0 &&
	    kv_ingest(b, stream.data, stream.len) == 0, "ingested");
	dump(a, &all, &da);
	dump(b, &all, &db);
	ok(da.len == db.len && memcmp(da.data, db.data, da.len) == 0 &&
	    kv_get(b, KV_CF_RAW, "", 0, NULL) == 1 &&
	    kv_get(b, KV_CF_RAW, "a outside", 9, NULL) == 0,
	    "and both KVs agree on every data key, the empty key included");

	region_free(&r);
	region_free(&got);
	region_free(&all);
	buf_free(&snap);
	buf_free(&stream);
	buf_free(&da);
	buf_free(&db);
	buf_free(&full);
	kv_close(a);
	kv_close(b);
}

static void
test_empty_region(void)
{
	struct kv *a, *b;
	struct region r, got;
	struct buf snap = BUF_INIT, stream = BUF_INIT;
	uint64_t index, term;

	a = xopen(newdir("ea"));
	b = xopen(newdir("eb"));
	xput(a, KV_CF_RAW, "z", 1, "outside", 7);
	xput(b, KV_CF_RAW, "q", 1, "inside", 6);
	xput(b, KV_CF_WRITE, "r", 1, "inside", 6);
	xput(b, KV_CF_RAW, "z", 1, "outside", 7);
	make_region(&r, 9, "p", 1, "s", 1);
	region_init(&got);
	ok(snap_build(a, &r, 5, 5, &snap) == 0 &&
	    snap_open(snap.data, snap.len, &got, &index, &term, &stream) ==
	    0 && same_region(&r, &got) && index == 5 && term == 5,
	    "an empty region builds and opens");
	ok(kv_ingest(b, stream.data, stream.len) == 0 &&
	    kv_get(b, KV_CF_RAW, "q", 1, NULL) == 0 &&
	    xget(b, KV_CF_WRITE, "r", 1, NULL) == 0 &&
	    kv_get(b, KV_CF_RAW, "z", 1, NULL) == 1,
	    "ingesting it empties the range and only the range");
	region_free(&r);
	region_free(&got);
	buf_free(&snap);
	buf_free(&stream);
	kv_close(a);
	kv_close(b);
}

static void
test_damage(void)
{
	struct kv *a;
	struct region r, got;
	struct buf snap = BUF_INIT, stream = BUF_INIT;
	uint8_t *copy;
	size_t i, accepted, bit;
	uint64_t index, term;

	a = xopen(newdir("d"));
	fill(a);
	make_region(&r, 77, "l", 1, "m", 1);
	if (snap_build(a, &r, 100, 9, &snap) == -1) {
		diag("snap_build: %s", log_reason());
		exit(1);
	}
	diag("snapshot of %zu bytes", snap.len);
	copy = malloc(snap.len);

	/* Each prefix in its own allocation, so ASan sees any overread. */
	accepted = 0;
	for (i = 0; i < snap.len; i++) {
		uint8_t *p = malloc(i ? i : 1);

		memcpy(p, snap.data, i);
		region_init(&got);
		buf_reset(&stream);
		if (snap_open(p, i, &got, &index, &term, &stream) == 0)
			accepted++;
		region_free(&got);
		free(p);
	}
	is_int((long long)accepted, 0, "every truncation is refused");

	accepted = 0;
	for (i = 0; i < snap.len; i++) {
		for (bit = 0; bit < 2; bit++) {
			memcpy(copy, snap.data, snap.len);
			copy[i] ^= bit ? 0xff : (uint8_t)(1u << (i % 8));
			region_init(&got);
			buf_reset(&stream);
			if (snap_open(copy, snap.len, &got, &index, &term,
			    &stream) == 0) {
				diag("flip at %zu accepted", i);
				accepted++;
			}
			region_free(&got);
		}
	}
	is_int((long long)accepted, 0,
	    "every single-byte change (2 per byte) is refused");

	memcpy(copy, snap.data, snap.len);
	ok(snap_open(copy, snap.len, NULL, NULL, NULL, NULL) == 0,
	    "the undamaged copy still opens");
	buf_reset(&stream);
	buf_add(&stream, snap.data, snap.len);
	buf_addc(&stream, 0);
	ok(snap_open(stream.data, stream.len, NULL, NULL, NULL, NULL) == -1 &&
	    strstr(log_reason(), "snapshot") != NULL,
	    "a trailing byte is refused (%s)", log_reason());
	free(copy);
	region_free(&r);
	buf_free(&snap);
	buf_free(&stream);
	kv_close(a);
}

static void
test_files(void)
{
	const char *dir = newdir("files");
	struct buf b = BUF_INIT, big = BUF_INIT;
	char path[600];
	uint64_t *ids;
	size_t n, i;
	int fd;

	ids = snap_list(dir, &n);
	ok(n == 0, "no snap directory: no snapshots");
	free(ids);
	ok(snap_load(dir, 5, &b) == 0, "loading a missing snapshot gives 0");
	ok(snap_remove(dir, 5) == 0, "removing a missing one is not an error");

	for (i = 0; i < 300000; i++)
		buf_addc(&big, (int)(i * 31 % 251));
	check(snap_save(dir, 1000, big.data, big.len) == 0 &&
	    snap_save(dir, 7, "seven", 5) == 0 &&
	    snap_save(dir, 30, "", 0) == 0, "snap_save creates the directory "
	    "and three files");
	/* Overwriting replaces the whole file. */
	ok(snap_save(dir, 7, "7", 1) == 0, "saving again replaces");
	/* Junk the list must skip. */
	snprintf(path, sizeof(path), "%s/snap/12.snap.tmp", dir);
	if ((fd = open(path, O_CREAT | O_WRONLY, 0644)) != -1)
		close(fd);
	snprintf(path, sizeof(path), "%s/snap/012.snap", dir);
	if ((fd = open(path, O_CREAT | O_WRONLY, 0644)) != -1)
		close(fd);
	snprintf(path, sizeof(path), "%s/snap/13.snapx", dir);
	if ((fd = open(path, O_CREAT | O_WRONLY, 0644)) != -1)
		close(fd);

	ids = snap_list(dir, &n);
	ok(n == 3 && ids[0] == 7 && ids[1] == 30 && ids[2] == 1000,
	    "snap_list gives the ids in order, skipping other names "
	    "(%zu ids)", n);
	free(ids);

	ok(snap_load(dir, 1000, &b) == 1 && b.len == big.len &&
	    memcmp(b.data, big.data, b.len) == 0, "a large file reads back");
	buf_reset(&b);
	ok(snap_load(dir, 7, &b) == 1 && b.len == 1 && b.data[0] == '7',
	    "the replaced file holds the new bytes");
	buf_reset(&b);
	ok(snap_load(dir, 30, &b) == 1 && b.len == 0, "an empty file loads");
	snprintf(path, sizeof(path), "%s/snap/7.snap.tmp", dir);
	ok(access(path, F_OK) == -1, "no temporary file is left behind");

	ok(snap_remove(dir, 7) == 0 && snap_load(dir, 7, &b) == 0,
	    "snap_remove removes");
	ids = snap_list(dir, &n);
	ok(n == 2 && ids[0] == 30 && ids[1] == 1000, "and the list shrinks");
	free(ids);

	ok(snap_save("/nonexistent/dir", 1, "x", 1) == -1 &&
	    strstr(log_reason(), "/nonexistent/dir/snap") != NULL,
	    "an unwritable data directory fails (%s)", log_reason());
	buf_free(&b);
	buf_free(&big);
}

/* A snapshot saved and loaded opens and ingests like the original. */
static void
test_save_open(void)
{
	const char *dir = newdir("so");
	struct kv *a, *b;
	struct region r;
	struct buf snap = BUF_INIT, back = BUF_INIT, stream = BUF_INIT;
	struct buf da = BUF_INIT, db = BUF_INIT;

	a = xopen(newdir("soa"));
	b = xopen(newdir("sob"));
	fill(a);
	make_region(&r, 3, "j", 1, "", 0);
	check(snap_build(a, &r, 10, 2, &snap) == 0 &&
	    snap_save(dir, 3, snap.data, snap.len) == 0 &&
	    snap_load(dir, 3, &back) == 1 &&
	    snap_open(back.data, back.len, NULL, NULL, NULL, &stream) == 0 &&
	    kv_ingest(b, stream.data, stream.len) == 0,
	    "build, save, load, open, ingest");
	dump(a, &r, &da);
	dump(b, &r, &db);
	ok(da.len > 0 && da.len == db.len &&
	    memcmp(da.data, db.data, da.len) == 0,
	    "a region open at the end arrives whole");
	region_free(&r);
	buf_free(&snap);
	buf_free(&back);
	buf_free(&stream);
	buf_free(&da);
	buf_free(&db);
	kv_close(a);
	kv_close(b);
}

int
main(void)
{
	const char *t;

	log_init("snap_test", LOG_LEVEL_WARN, 0);
	t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/snap_test.XXXXXX",
	    t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_round_trip();
	test_empty_region();
	test_damage();
	test_files();
	test_save_open();
	rm_rf(tmpdir);
	return done_testing();
}
