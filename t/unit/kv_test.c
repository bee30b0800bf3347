/* The KV engine: families, bounds, batches, checkpoints, snapshots, faults. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"
#include "kv.h"
#include "log.h"
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
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	rm_rf(path);
	mkdir(path, 0755);
	return path;
}

static struct kv *
xopen(const char *dir, const struct kv_options *o)
{
	struct kv *kv;

	kv = kv_open(dir, o);
	if (kv == NULL) {
		diag("kv_open: %s", log_reason());
		exit(1);
	}
	return kv;
}

static int
get_is(struct kv *kv, enum kv_cf cf, const char *k, size_t klen,
    const char *want)
{
	struct buf v = BUF_INIT;
	int r, good;

	r = kv_get(kv, cf, k, klen, &v);
	if (want == NULL)
		good = r == 0;
	else
		good = r == 1 && v.len == strlen(want) &&
		    memcmp(v.data, want, v.len) == 0;
	buf_free(&v);
	return good;
}

static int
count_cf(struct kv *kv, enum kv_cf cf)
{
	struct kv_iter *it;
	int n = 0, r;

	it = kv_iter_new(kv, cf, "", 0, "", 0);
	for (r = kv_iter_first(it); r == 1; r = kv_iter_next(it))
		n++;
	kv_iter_free(it);
	return r == -1 ? -1 : n;
}

static void
test_basic(void)
{
	struct kv *kv;
	const char *d = newdir("basic");
	struct buf v = BUF_INIT;
	int cf;

	kv = xopen(d, NULL);
	ok(kv_put(kv, KV_CF_DEFAULT, "a", 1, "1", 1) == 0, "put");
	ok(get_is(kv, KV_CF_DEFAULT, "a", 1, "1"), "get what was put");
	ok(get_is(kv, KV_CF_DEFAULT, "b", 1, NULL), "absent key is 0");
	ok(kv_put(kv, KV_CF_DEFAULT, "a", 1, "22", 2) == 0 &&
	    get_is(kv, KV_CF_DEFAULT, "a", 1, "22"), "put overwrites");
	ok(kv_delete(kv, KV_CF_DEFAULT, "a", 1) == 0 &&
	    get_is(kv, KV_CF_DEFAULT, "a", 1, NULL), "delete");
	ok(kv_delete(kv, KV_CF_DEFAULT, "zz", 2) == 0,
	    "deleting an absent key is fine");
	for (cf = 0; cf < KV_CF_COUNT; cf++) {
		char val[2] = { 'A' + cf, 0 };

		kv_put(kv, cf, "same", 4, val, 1);
	}
	for (cf = 0; cf < KV_CF_COUNT; cf++) {
		char val[2] = { 'A' + cf, 0 };

		ok(get_is(kv, cf, "same", 4, val), "family %d keeps its own "
		    "value", cf);
		is_int(count_cf(kv, cf), 1, "family %d holds one key", cf);
	}
	ok(kv_put(kv, KV_CF_RAW, "", 0, "empty", 5) == 0 &&
	    get_is(kv, KV_CF_RAW, "", 0, "empty"), "empty key");
	ok(kv_put(kv, KV_CF_RAW, "\0", 1, "nul", 3) == 0 &&
	    kv_put(kv, KV_CF_RAW, "\0\0", 2, "nulnul", 6) == 0 &&
	    kv_put(kv, KV_CF_RAW, "a\0b", 3, "anb", 3) == 0 &&
	    kv_put(kv, KV_CF_RAW, "a", 1, "", 0) == 0, "binary keys");
	ok(get_is(kv, KV_CF_RAW, "\0", 1, "nul") &&
	    get_is(kv, KV_CF_RAW, "\0\0", 2, "nulnul") &&
	    get_is(kv, KV_CF_RAW, "a\0b", 3, "anb") &&
	    get_is(kv, KV_CF_RAW, "a", 1, ""), "binary keys read back");
	{
		static const struct { const char *k; size_t n; } order[] = {
			{ "", 0 }, { "\0", 1 }, { "\0\0", 2 }, { "a", 1 },
			{ "a\0b", 3 }, { "same", 4 }
		};
		struct kv_iter *it;
		struct bytes k;
		size_t i = 0;
		int r, good = 1;

		it = kv_iter_new(kv, KV_CF_RAW, "", 0, "", 0);
		for (r = kv_iter_first(it); r == 1; r = kv_iter_next(it), i++) {
			k = kv_iter_key(it);
			if (i >= 6 || k.len != order[i].n ||
			    memcmp(k.ptr, order[i].k, k.len) != 0)
				good = 0;
		}
		ok(good && i == 6 && r == 0, "binary keys in byte order");
		kv_iter_free(it);
	}
	ok(kv_get(kv, KV_CF_RAW, "\0", 1, &v) == 1 && v.len == 3,
	    "get replaces the buffer");
	buf_free(&v);
	ok(kv_close(kv) == 0, "close");
}

static void
test_bounds(void)
{
	struct kv *kv;
	struct kv_iter *it;
	struct kv_batch *b;
	char k[8];
	int i, n, r;
	struct bytes key;

	kv = xopen(newdir("bounds"), NULL);
	b = kv_batch_new();
	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "k%02d", i);
		kv_batch_put(b, KV_CF_WRITE, k, 3, k, 3);
	}
	kv_batch_put(b, KV_CF_LOCK, "k50", 3, "lock", 4);
	kv_batch_put(b, KV_CF_RAW, "k00", 3, "raw", 3);
	ok(kv_batch_commit(kv, b) == 0, "batch of 102 puts");
	kv_batch_free(b);

	it = kv_iter_new(kv, KV_CF_WRITE, "k10", 3, "k20", 3);
	ok(kv_iter_valid(it) == 0, "a new iterator is not positioned");
	r = kv_iter_first(it);
	key = kv_iter_key(it);
	ok(r == 1 && key.len == 3 && memcmp(key.ptr, "k10", 3) == 0,
	    "first is the lower bound, inclusive");
	for (n = 1; kv_iter_next(it) == 1; n++)
		key = kv_iter_key(it);
	ok(n == 10 && memcmp(key.ptr, "k19", 3) == 0,
	    "forward stops before the upper bound");
	ok(kv_iter_valid(it) == 0 && kv_iter_next(it) == 0,
	    "exhausted iterator stays exhausted");
	r = kv_iter_last(it);
	key = kv_iter_key(it);
	ok(r == 1 && memcmp(key.ptr, "k19", 3) == 0,
	    "last is below the upper bound");
	for (n = 1; kv_iter_prev(it) == 1; n++)
		key = kv_iter_key(it);
	ok(n == 10 && memcmp(key.ptr, "k10", 3) == 0,
	    "reverse stops at the lower bound");
	r = kv_iter_seek(it, "k155", 4);
	key = kv_iter_key(it);
	ok(r == 1 && memcmp(key.ptr, "k16", 3) == 0, "seek goes to next key");
	r = kv_iter_seek_prev(it, "k155", 4);
	key = kv_iter_key(it);
	ok(r == 1 && memcmp(key.ptr, "k15", 3) == 0,
	    "seek_prev goes to the previous key");
	r = kv_iter_seek_prev(it, "k15", 3);
	key = kv_iter_key(it);
	ok(r == 1 && memcmp(key.ptr, "k15", 3) == 0,
	    "seek_prev on an existing key stays");
	r = kv_iter_seek(it, "a", 1);
	key = kv_iter_key(it);
	ok(r == 1 && memcmp(key.ptr, "k10", 3) == 0,
	    "seek below the bounds clamps to lower");
	r = kv_iter_seek_prev(it, "z", 1);
	key = kv_iter_key(it);
	ok(r == 1 && memcmp(key.ptr, "k19", 3) == 0,
	    "seek_prev above the bounds clamps to upper");
	ok(kv_iter_seek(it, "k20", 3) == 0, "seek at the upper bound is out");
	ok(kv_iter_seek_prev(it, "k0", 2) == 0,
	    "seek_prev below lower is out");
	kv_iter_free(it);

	it = kv_iter_new(kv, KV_CF_WRITE, "k95", 3, "", 0);
	for (n = 0, r = kv_iter_first(it); r == 1; r = kv_iter_next(it))
		n++;
	ok(n == 5, "empty upper runs to the family end, not into others");
	r = kv_iter_last(it);
	key = kv_iter_key(it);
	ok(r == 1 && memcmp(key.ptr, "k99", 3) == 0,
	    "last with empty upper is the family's last key");
	kv_iter_free(it);
	it = kv_iter_new(kv, KV_CF_WRITE, "", 0, "k03", 3);
	for (n = 0, r = kv_iter_last(it); r == 1; r = kv_iter_prev(it))
		n++;
	ok(n == 3, "reverse with empty lower runs to the family start");
	kv_iter_free(it);
	it = kv_iter_new(kv, KV_CF_DEFAULT, "", 0, "", 0);
	ok(kv_iter_first(it) == 0 && kv_iter_last(it) == 0,
	    "an empty family has no keys either way");
	kv_iter_free(it);
	it = kv_iter_new(kv, KV_CF_WRITE, "k30", 3, "k30", 3);
	ok(kv_iter_first(it) == 0 && kv_iter_last(it) == 0,
	    "an empty range has no keys");
	kv_iter_free(it);

	/* Iterators survive writes under them. */
	it = kv_iter_new(kv, KV_CF_WRITE, "", 0, "", 0);
	kv_iter_first(it);
	for (n = 1, r = 0; kv_iter_next(it) == 1; n++) {
		key = kv_iter_key(it);
		if (key.len == 3 && memcmp(key.ptr, "k21", 3) == 0)
			r |= 1;
		if (key.len == 4 && memcmp(key.ptr, "k22a", 4) == 0)
			r |= 2;
		if (n == 20) {
			kv_delete(kv, KV_CF_WRITE, "k20", 3);
			kv_delete(kv, KV_CF_WRITE, "k21", 3);
			kv_put(kv, KV_CF_WRITE, "k22a", 4, "x", 1);
		}
	}
	ok(n == 100 && r == 2,
	    "a scan sees deletes and inserts ahead of it (%d)", n);
	kv_iter_free(it);
	kv_close(kv);
}

static void
test_limits(void)
{
	struct kv_options o;
	struct kv *kv;
	struct kv_batch *b;
	struct buf v = BUF_INIT;
	char *big;
	size_t max = 1 << 20;

	kv_options_init(&o);
	o.max_value_size = max;
	o.max_key_size = 100;
	kv = xopen(newdir("limits"), &o);
	big = malloc(max + 1);
	memset(big, 'v', max + 1);
	big[0] = '\0';
	big[max - 1] = 'e';
	ok(kv_put(kv, KV_CF_DEFAULT, "big", 3, big, max) == 0,
	    "a value of the maximum size is taken");
	ok(kv_get(kv, KV_CF_DEFAULT, "big", 3, &v) == 1 && v.len == max &&
	    memcmp(v.data, big, max) == 0, "and read back intact");
	ok(kv_put(kv, KV_CF_DEFAULT, "big2", 4, big, max + 1) == -1,
	    "one byte over is rejected");
	ok(strstr(log_reason(), "exceeds the maximum") != NULL,
	    "with a clear reason: %s", log_reason());
	ok(kv_put(kv, KV_CF_DEFAULT, big, 101, "v", 1) == -1 &&
	    strstr(log_reason(), "key of 101 bytes") != NULL,
	    "an oversized key is rejected: %s", log_reason());
	b = kv_batch_new();
	kv_batch_put(b, KV_CF_DEFAULT, "ok1", 3, "v", 1);
	kv_batch_put(b, KV_CF_DEFAULT, "big3", 4, big, max + 1);
	ok(kv_batch_commit(kv, b) == -1 &&
	    get_is(kv, KV_CF_DEFAULT, "ok1", 3, NULL),
	    "a batch with one oversized value applies nothing");
	kv_batch_free(b);
	ok(kv_put(kv, KV_CF_DEFAULT, "after", 5, "v", 1) == 0,
	    "the handle still works after a rejected batch");
	kv_close(kv);
	free(big);
	buf_free(&v);
}

static void
test_batch_range(void)
{
	struct kv *kv;
	struct kv_batch *b;
	char k[8];
	int i;

	kv = xopen(newdir("batch"), NULL);
	b = kv_batch_new();
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "%04d", i);
		kv_batch_put(b, KV_CF_RAW, k, 4, k, 4);
		kv_batch_put(b, KV_CF_META, k, 4, k, 4);
	}
	ok(kv_batch_count(b) == 2000 && kv_batch_bytes(b) >= 16000,
	    "batch counts operations and bytes");
	ok(kv_batch_commit(kv, b) == 0, "commit 2000 puts");
	kv_batch_clear(b);
	ok(kv_batch_count(b) == 0, "clear empties a batch");
	kv_batch_delete_range(b, KV_CF_RAW, "0100", 4, "0200", 4);
	kv_batch_put(b, KV_CF_RAW, "0150", 4, "back", 4);
	kv_batch_delete(b, KV_CF_RAW, "0999", 4);
	ok(kv_batch_commit(kv, b) == 0, "range delete, put, delete in order");
	is_int(count_cf(kv, KV_CF_RAW), 1000 - 100 + 1 - 1,
	    "range delete removed [0100, 0200)");
	ok(get_is(kv, KV_CF_RAW, "0099", 4, "0099") &&
	    get_is(kv, KV_CF_RAW, "0200", 4, "0200") &&
	    get_is(kv, KV_CF_RAW, "0150", 4, "back") &&
	    get_is(kv, KV_CF_RAW, "0100", 4, NULL),
	    "range delete bounds: start inclusive, end exclusive");
	kv_batch_clear(b);
	kv_batch_delete_range(b, KV_CF_RAW, "0500", 4, "", 0);
	ok(kv_batch_commit(kv, b) == 0 && count_cf(kv, KV_CF_RAW) == 401 &&
	    count_cf(kv, KV_CF_META) == 1000,
	    "empty end deletes to the family end and no further");
	kv_batch_free(b);
	kv_close(kv);
}

struct atom {
	struct kv *kv;
	volatile int stop;
	int bad, reads;
};

static void *
atom_writer(void *arg)
{
	struct atom *a = arg;
	struct kv_batch *b;
	char k[8], v[16];
	int i, j;

	b = kv_batch_new();
	for (i = 0; i < 300; i++) {
		kv_batch_clear(b);
		snprintf(v, sizeof(v), "%08d", i);
		for (j = 0; j < 50; j++) {
			snprintf(k, sizeof(k), "a%02d", j);
			kv_batch_put(b, j % 2 ? KV_CF_LOCK : KV_CF_WRITE, k, 3,
			    v, 8);
		}
		kv_batch_commit(a->kv, b);
	}
	a->stop = 1;
	kv_batch_free(b);
	return NULL;
}

static int
atom_snap(void *arg, enum kv_cf cf, struct bytes k, struct bytes v)
{
	struct buf *first = arg;

	(void)cf;
	(void)k;
	if (first->len == 0)
		buf_add(first, v.ptr, v.len);
	else if (v.len != first->len || memcmp(v.ptr, first->data, v.len))
		return -1;
	return 0;
}

static void *
atom_reader(void *arg)
{
	struct atom *a = arg;
	struct buf v = BUF_INIT, first = BUF_INIT;
	char k[8];
	int j;

	while (!a->stop) {
		kv_read_lock(a->kv);
		buf_reset(&first);
		for (j = 0; j < 50; j++) {
			snprintf(k, sizeof(k), "a%02d", j);
			if (kv_get(a->kv, j % 2 ? KV_CF_LOCK : KV_CF_WRITE, k,
			    3, &v) != 1)
				continue;
			if (first.len == 0)
				buf_add(&first, v.data, v.len);
			else if (v.len != first.len ||
			    memcmp(v.data, first.data, v.len))
				a->bad++;
		}
		kv_read_unlock(a->kv);
		buf_reset(&first);
		if (kv_snapshot_range(a->kv, KV_CFMASK_DATA, "", 0, "", 0,
		    atom_snap, &first) == -1)
			a->bad++;
		a->reads++;
	}
	buf_free(&v);
	buf_free(&first);
	return NULL;
}

static void
test_atomic_readers(void)
{
	struct atom a;
	pthread_t w, r[2];

	memset(&a, 0, sizeof(a));
	a.kv = xopen(newdir("atomic"), NULL);
	pthread_create(&r[0], NULL, atom_reader, &a);
	pthread_create(&r[1], NULL, atom_reader, &a);
	pthread_create(&w, NULL, atom_writer, &a);
	pthread_join(w, NULL);
	pthread_join(r[0], NULL);
	pthread_join(r[1], NULL);
	ok(a.bad == 0 && a.reads > 0, "readers never see half a batch "
	    "(%d reads, %d torn)", a.reads, a.bad);
	kv_close(a.kv);
}

static void
test_checkpoint_reopen(void)
{
	struct kv *kv;
	const char *d = newdir("reopen");
	char dir[512];
	pid_t pid;
	int st;

	snprintf(dir, sizeof(dir), "%s", d);
	kv = xopen(dir, NULL);
	is_int(kv_checkpoint_id(kv), 0, "a new file has checkpoint 0");
	kv_put(kv, KV_CF_META, "applied", 7, "10", 2);
	is_int(kv_checkpoint(kv), 1, "first checkpoint is 1");
	kv_put(kv, KV_CF_META, "applied", 7, "11", 2);
	ok(kv_close(kv) == 0, "clean close");
	kv = xopen(dir, NULL);
	is_int(kv_checkpoint_id(kv), 2, "close made checkpoint 2");
	ok(get_is(kv, KV_CF_META, "applied", 7, "11"),
	    "recovery after clean close keeps every write");
	ok(kv_open(dir, NULL) == NULL && strstr(log_reason(), "in use"),
	    "a second open of the same store is refused: %s", log_reason());
	kv_close(kv);

	/* A process that dies without closing: back to its checkpoint. */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		kv = kv_open(dir, NULL);
		kv_put(kv, KV_CF_META, "applied", 7, "12", 2);
		kv_put(kv, KV_CF_RAW, "r1", 2, "x", 1);
		kv_checkpoint(kv);
		kv_put(kv, KV_CF_META, "applied", 7, "13", 2);
		kv_put(kv, KV_CF_RAW, "r2", 2, "x", 1);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	kv = xopen(dir, NULL);
	is_int(kv_checkpoint_id(kv), 4, "after a crash: the last checkpoint");
	ok(get_is(kv, KV_CF_META, "applied", 7, "12") &&
	    get_is(kv, KV_CF_RAW, "r1", 2, "x") &&
	    get_is(kv, KV_CF_RAW, "r2", 2, NULL),
	    "its writes are there, later ones are not");
	kv_close(kv);
}

static void
fill_keys(struct kv *kv, const char *pfx, int n, enum kv_cf cf, int user)
{
	struct kv_batch *b;
	struct buf ek = BUF_INIT;
	char k[32];
	int i;

	b = kv_batch_new();
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%s%04d", pfx, i);
		buf_reset(&ek);
		if (user && kv_cf_encodes_keys(cf))
			codec_encode_bytes(&ek, k, strlen(k));
		else
			buf_add(&ek, k, strlen(k));
		kv_batch_put(b, cf, ek.data, ek.len, k, strlen(k));
	}
	kv_batch_commit(kv, b);
	kv_batch_free(b);
	buf_free(&ek);
}

/* Keys stored as they are. */
static void
fill(struct kv *kv, const char *pfx, int n, enum kv_cf cf)
{
	fill_keys(kv, pfx, n, cf, 0);
}

/* User keys, which the transaction families store encoded (kv_cf_bounds):
 * what snapshots of a region's range hold. */
static void
fill_user(struct kv *kv, const char *pfx, int n, enum kv_cf cf)
{
	fill_keys(kv, pfx, n, cf, 1);
}

/* get_is for a user key of cf. */
static int
get_user_is(struct kv *kv, enum kv_cf cf, const char *k, const char *want)
{
	struct buf ek = BUF_INIT, hi = BUF_INIT;
	int r;

	kv_cf_bounds(cf, k, strlen(k), "", 0, &ek, &hi);
	r = get_is(kv, cf, (const char *)ek.data, ek.len, want);
	buf_free(&ek);
	buf_free(&hi);
	return r;
}

/*
 * Enough keys for many leaves, in the last family, then a reopen: the
 * reverse scan must start at the greatest key, not at the end of the
 * first leaf (tkrzw 1.0 does that when nothing sorts after the family).
 */
static void
test_reverse_after_reopen(void)
{
	const char *dir = newdir("reverse");
	struct kv_batch *b = kv_batch_new();
	struct kv_iter *it;
	struct kv *kv;
	char k[16];
	int i;

	kv = xopen(dir, NULL);
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "rkey%03d", i);
		kv_batch_put(b, KV_CF_RAW, k, 7, "v", 1);
	}
	kv_batch_commit(kv, b);
	kv_batch_free(b);
	kv_close(kv);
	kv = xopen(dir, NULL);
	it = kv_iter_new(kv, KV_CF_RAW, "", 0, "", 0);
	ok(kv_iter_last(it) == 1 && kv_iter_key(it).len == 7 &&
	    memcmp(kv_iter_key(it).ptr, "rkey999", 7) == 0,
	    "after a reopen the last key of the last family is found");
	ok(kv_iter_seek_prev(it, "rkez", 4) == 1 &&
	    memcmp(kv_iter_key(it).ptr, "rkey999", 7) == 0,
	    "and a seek below a bound past every key lands on it too");
	kv_iter_free(it);
	kv_close(kv);
}

static void
test_snapshot_ingest(void)
{
	struct kv *src, *dst;
	struct buf s = BUF_INIT;
	char sd[512];

	snprintf(sd, sizeof(sd), "%s", newdir("snapsrc"));
	src = xopen(sd, NULL);
	dst = xopen(newdir("snapdst"), NULL);
	fill_user(src, "a", 10, KV_CF_DEFAULT);
	fill_user(src, "b", 20, KV_CF_DEFAULT);
	fill_user(src, "b", 5, KV_CF_LOCK);
	fill_user(src, "b", 7, KV_CF_WRITE);
	fill_user(src, "b", 3, KV_CF_META);
	fill_user(src, "c", 10, KV_CF_WRITE);
	fill_user(dst, "a", 4, KV_CF_DEFAULT);
	fill_user(dst, "bx", 9, KV_CF_DEFAULT);
	fill_user(dst, "bx", 9, KV_CF_RAW);
	fill_user(dst, "c", 2, KV_CF_WRITE);
	ok(kv_snapshot_write(src, KV_CFMASK_DATA, "b", 1, "c", 1, &s) == 0 &&
	    s.len > 32 * 10, "snapshot of [b, c) written");
	ok(kv_ingest(dst, s.data, s.len - 1) == -1 &&
	    count_cf(dst, KV_CF_DEFAULT) == 13,
	    "a truncated stream is refused and changes nothing");
	s.data[s.len - 1] ^= 0x55;
	ok(kv_ingest(dst, s.data, s.len) == -1, "a damaged stream is refused");
	s.data[s.len - 1] ^= 0x55;
	ok(kv_ingest(dst, s.data, s.len) == 0, "ingest");
	is_int(count_cf(dst, KV_CF_DEFAULT), 4 + 20,
	    "range replaced, outside kept (default)");
	is_int(count_cf(dst, KV_CF_LOCK), 5, "lock family copied");
	is_int(count_cf(dst, KV_CF_WRITE), 7 + 2, "write family copied");
	is_int(count_cf(dst, KV_CF_RAW), 0, "stale raw keys in range gone");
	is_int(count_cf(dst, KV_CF_META), 0, "meta is local, never copied");
	ok(get_user_is(dst, KV_CF_DEFAULT, "b0019", "b0019") &&
	    get_user_is(dst, KV_CF_DEFAULT, "bx0001", NULL) &&
	    get_user_is(dst, KV_CF_DEFAULT, "a0003", "a0003") &&
	    get_user_is(dst, KV_CF_RAW, "b0002", NULL),
	    "contents match the source");
	buf_free(&s);
	kv_close(src);
	kv_close(dst);
}

static void
test_stats(void)
{
	struct kv *kv;
	struct kv_range_stats st;
	struct kv_batch *b;
	char k[16], v[100];
	int i, mid;

	kv = xopen(newdir("stats"), NULL);
	b = kv_batch_new();
	memset(v, 'v', sizeof(v));
	for (i = 0; i < 10000; i++) {
		snprintf(k, sizeof(k), "k%05d", i);
		kv_batch_put(b, KV_CF_WRITE, k, 6, v, sizeof(v));
	}
	kv_batch_commit(kv, b);
	kv_batch_free(b);
	memset(&st, 0, sizeof(st));
	ok(kv_range_stats(kv, KV_CF_WRITE, "k02000", 6, "k06000", 6,
	    &st) == 0, "range stats");
	ok(st.keys == 4000 && st.bytes == 4000 * 106,
	    "count %llu and bytes %llu", (unsigned long long)st.keys,
	    (unsigned long long)st.bytes);
	mid = st.middle.len == 6 ? atoi((char *)st.middle.data + 1) : -1;
	ok(mid > 4000 - 4000 / 32 && mid < 4000 + 4000 / 32,
	    "middle key %d is near k04000", mid);
	ok(kv_range_stats(kv, KV_CF_WRITE, "k00001", 6, "k00002", 6,
	    &st) == 0 && st.keys == 1 && st.middle.len == 0,
	    "one key has no middle");
	buf_free(&st.middle);
	kv_close(kv);
}

struct rb {
	struct kv *kv;
	volatile int stop;
	int bad, writes, reads;
};

static void *
rb_writer(void *arg)
{
	struct rb *r = arg;
	char k[16];
	int i = 0;

	/*
	 * Paced and capped, so the writes span the rebuild on any machine
	 * while adding too little data to hide whether the rebuild shrank
	 * the file.
	 */
	while (!r->stop && i < 2000) {
		snprintf(k, sizeof(k), "w%07d", i);
		if (kv_put(r->kv, KV_CF_RAW, k, 8, k, 8) == -1)
			r->bad++;
		i++;
		usleep(100);
	}
	r->writes = i;
	return NULL;
}

static void *
rb_reader(void *arg)
{
	struct rb *r = arg;
	struct kv_iter *it;
	struct bytes k, v;
	int n, rc;

	while (!r->stop) {
		it = kv_iter_new(r->kv, KV_CF_DEFAULT, "", 0, "", 0);
		for (n = 0, rc = kv_iter_first(it); rc == 1;
		    rc = kv_iter_next(it), n++) {
			k = kv_iter_key(it);
			v = kv_iter_value(it);
			if (k.len != v.len || memcmp(k.ptr, v.ptr, k.len))
				r->bad++;
		}
		if (rc == -1 || n != 20000)
			r->bad++;
		kv_iter_free(it);
		r->reads++;
	}
	return NULL;
}

static void
test_rebuild(void)
{
	struct kv_options o;
	struct rb r;
	pthread_t w, rd;
	int64_t before, after;
	struct kv_iter *it;
	int i, n;
	char dir[512];

	kv_options_init(&o);
	o.rebuild_min_bytes = 1 << 20;
	snprintf(dir, sizeof(dir), "%s", newdir("rebuild"));
	memset(&r, 0, sizeof(r));
	r.kv = xopen(dir, &o);
	fill(r.kv, "d", 20000, KV_CF_DEFAULT);
	for (i = 0; i < 30; i++) {
		fill(r.kv, "u", 2000, KV_CF_WRITE);
		kv_checkpoint(r.kv);
	}
	before = kv_file_size(r.kv);
	ok(kv_rebuild_needed(r.kv), "file grew to %lld bytes: rebuild due",
	    (long long)before);
	pthread_create(&w, NULL, rb_writer, &r);
	pthread_create(&rd, NULL, rb_reader, &r);
	usleep(20000);
	ok(kv_rebuild(r.kv) == 0, "rebuild while reading and writing");
	usleep(20000);
	r.stop = 1;
	pthread_join(w, NULL);
	pthread_join(rd, NULL);
	ok(r.bad == 0 && r.writes > 0 && r.reads > 0,
	    "%d writes and %d scans went on, %d errors", r.writes, r.reads,
	    r.bad);
	n = count_cf(r.kv, KV_CF_RAW);
	ok(n == r.writes, "every write is there (%d of %d)", n, r.writes);
	it = kv_iter_new(r.kv, KV_CF_DEFAULT, "", 0, "", 0);
	kv_iter_first(it);
	for (i = 1; i < 5000; i++)
		kv_iter_next(it);
	ok(kv_rebuild(r.kv) == 0, "rebuild again, idle");
	for (; kv_iter_next(it) == 1; i++)
		;
	ok(i == 20000, "an iterator moves to the rebuilt file (%d keys)", i);
	kv_iter_free(it);
	after = kv_file_size(r.kv);
	ok(after < before && !kv_rebuild_needed(r.kv),
	    "file shrank from %lld to %lld bytes", (long long)before,
	    (long long)after);
	kv_close(r.kv);
	r.kv = xopen(dir, &o);
	ok(count_cf(r.kv, KV_CF_RAW) == n &&
	    count_cf(r.kv, KV_CF_DEFAULT) == 20000 &&
	    count_cf(r.kv, KV_CF_WRITE) == 2000, "and after reopening");
	kv_close(r.kv);
}

static void
test_faults(void)
{
	struct kv *kv;
	char dir[512];
	pid_t pid;
	int st, i, rc;

	snprintf(dir, sizeof(dir), "%s", newdir("faults"));
	kv = xopen(dir, NULL);
	fill(kv, "base", 100, KV_CF_RAW);
	kv_checkpoint(kv);
	kv_close(kv);

	setenv("TIKV_KV_FAILPOINT", "write:ENOSPC:10", 1);
	kv = xopen(dir, NULL);
	unsetenv("TIKV_KV_FAILPOINT");
	for (i = 0, rc = 0; i < 20 && rc == 0; i++)
		rc = kv_put(kv, KV_CF_RAW, "late", 4, "x", 1);
	ok(rc == -1 && i == 11, "the 11th write fails (%d)", i);
	ok(strstr(log_reason(), "No space left on device") != NULL &&
	    strstr(log_reason(), "kv.tkt") != NULL, "clearly: %s",
	    log_reason());
	ok(kv_put(kv, KV_CF_RAW, "x", 1, "x", 1) == -1 &&
	    strstr(log_reason(), "failed earlier") != NULL,
	    "later writes are refused: %s", log_reason());
	ok(kv_checkpoint(kv) == -1, "and so are checkpoints");
	ok(kv_close(kv) == -1, "close reports the failure");
	kv = xopen(dir, NULL);
	ok(get_is(kv, KV_CF_RAW, "late", 4, NULL) &&
	    count_cf(kv, KV_CF_RAW) == 100,
	    "reopened at the last checkpoint: nothing unsynced became durable");
	kv_close(kv);

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setenv("TIKV_KV_FAILPOINT", "sync:EIO:0", 1);
		freopen("/dev/null", "w", stderr);
		kv = kv_open(dir, NULL);
		kv_put(kv, KV_CF_RAW, "unsynced", 8, "x", 1);
		kv_checkpoint(kv);
		_exit(0);	/* not reached: a failed sync is fatal */
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) != 0, "a failed sync is fatal");
	kv = xopen(dir, NULL);
	ok(get_is(kv, KV_CF_RAW, "unsynced", 8, NULL) &&
	    count_cf(kv, KV_CF_RAW) == 100,
	    "and what it would have covered is not there");
	kv_close(kv);
}

int
main(void)
{
	const char *t;

	t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/kv_test.XXXXXX",
	    t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_basic();
	test_bounds();
	test_limits();
	test_batch_range();
	test_atomic_readers();
	test_checkpoint_reopen();
	test_reverse_after_reopen();
	test_snapshot_ingest();
	test_stats();
	test_rebuild();
	test_faults();
	rm_rf(tmpdir);
	return done_testing();
}
