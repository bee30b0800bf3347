/*
 * Unit tests of the WAL (and of crc32c): appends and reads over many
 * groups, conflicts, compaction, snapshots, segment rotation and deletion,
 * recovery; with -f, the fault tests: torn tails, bit flips, ENOSPC and
 * EIO on write, a failing sync (fatal, in a child).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "tap.h"
#include "wal.h"
#include "xmalloc.h"

static char tmpdir[64];
static char waldir[128];
static int prealloc;		/* enum wal_prealloc */
static int expect_fail;		/* fault tests: quiet about refusals */

static void
rmtree(const char *dir)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == -1)
			rmtree(path);
	}
	closedir(d);
	rmdir(dir);
}

/* A fresh, empty WAL directory for each test. */
static void
fresh(void)
{
	rmtree(waldir);
}

/* Deterministic entry data: its length and bytes follow from the key. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static size_t
gen(uint64_t g, uint64_t idx, uint64_t term, uint8_t *out, size_t max)
{
	uint64_t h = mix(g * 1000003 + idx * 7919 + term * 104729 + 1);
	size_t len, i;

	len = h % 5 == 0 ? 0 : (h >> 8) % 300;
	if (h % 61 == 0)
		len = 5000 + h % 3000;
	if (len > max)
		len = max;
	for (i = 0; i < len; i++) {
		if ((i & 7) == 0)
			h = mix(h + i);
		out[i] = h >> ((i & 7) * 8);
	}
	return len;
}

static uint8_t genbuf[1 << 20];

static int
append(struct wal *w, uint64_t g, uint64_t lo, uint64_t hi, uint64_t term)
{
	struct wal_entry *e;
	uint8_t *data;
	size_t n = hi - lo, i, at = 0;
	int r;

	e = xcalloc(n, sizeof(*e));
	data = xmalloc(n * 8192);
	for (i = 0; i < n; i++) {
		e[i].index = lo + i;
		e[i].term = term;
		e[i].type = (lo + i) % 3;
		e[i].data = data + at;
		e[i].len = gen(g, lo + i, term, data + at, 8192);
		at += e[i].len;
	}
	r = wal_append_entries(w, g, e, n);
	free(e);
	free(data);
	return r;
}

/* Checks entries against gen(); term[i] is the expected term of lo + i. */
struct check {
	uint64_t g;
	uint64_t next;
	const uint64_t *terms;
	uint64_t lo;
	int bad;
	size_t bytes;
};

static int
check_fn(void *arg, const struct wal_entry *e)
{
	struct check *c = arg;
	uint64_t term = c->terms[e->index - c->lo];
	size_t len;

	len = gen(c->g, e->index, term, genbuf, sizeof(genbuf));
	if (e->index != c->next || e->term != term ||
	    e->type != e->index % 3 || e->len != len ||
	    (len > 0 && memcmp(e->data, genbuf, len) != 0)) {
		if (c->bad++ == 0)
			diag("group %" PRIu64 " entry %" PRIu64 " (term %"
			    PRIu64 ", len %zu) wrong", c->g, e->index,
			    e->term, e->len);
	}
	c->next++;
	c->bytes += e->len;
	return 0;
}

/* All of [lo, hi) of group g, in pieces of at most max bytes. */
static int
check_range(struct wal *w, uint64_t g, uint64_t lo, uint64_t hi,
    const uint64_t *terms, uint64_t max)
{
	struct check c = { g, lo, terms, lo, 0, 0 };
	int n;

	while (c.next < hi) {
		n = wal_entries(w, g, c.next, hi, max, check_fn, &c);
		if (n <= 0) {
			diag("wal_entries(%" PRIu64 ", %" PRIu64 ") = %d: %s",
			    g, c.next, n, log_reason());
			return 0;
		}
	}
	return c.bad == 0;
}

static uint64_t *
terms_of(uint64_t n, uint64_t term)
{
	uint64_t *t = xcalloc(n + 1, sizeof(*t));
	uint64_t i;

	for (i = 0; i <= n; i++)
		t[i] = term;
	return t;
}

/* Expected warnings (a torn tail cut) would drown the TAP output. */
static void
quiet(int on)
{
	static int saved = -1;
	int fd;

	fflush(stderr);
	if (on && saved == -1) {
		saved = dup(2);
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, 2);
			close(fd);
		}
	} else if (!on && saved != -1) {
		dup2(saved, 2);
		close(saved);
		saved = -1;
	}
}

/* Segments of 1 MiB unless told: opening scans the preallocated tail. */
static struct wal *
open_wal(uint64_t segsize, uint64_t cache)
{
	struct wal_opts o = { segsize ? segsize : 1 << 20, cache, prealloc };
	struct wal *w;

	quiet(expect_fail);
	w = wal_open(waldir, &o);
	quiet(0);
	if (w == NULL && !expect_fail)
		diag("wal_open: %s", log_reason());
	return w;
}

static int
count_segments(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(waldir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strlen(de->d_name) == 20 &&
		    strcmp(de->d_name + 16, ".wal") == 0)
			n++;
	closedir(d);
	return n;
}

static void
test_crc32c(void)
{
	static const struct {
		const char *what;
		uint32_t want;
	} v[] = {
		{ "zeros", 0x8a9136aa },
		{ "ones", 0x62a8ab43 },
		{ "ascending", 0x46dd794e },
		{ "descending", 0x113fdb5c },
	};
	uint8_t b[32], *big;
	uint32_t a, c;
	size_t i, j, len, off, split;
	int bad = 0;

	is_int(crc32c(0, "123456789", 9), 0xe3069283, "crc32c check value");
	is_int(crc32c(0, "", 0), 0, "crc32c of nothing is 0");
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 32; j++)
			b[j] = i == 0 ? 0 : i == 1 ? 0xff : i == 2 ? j : 31 - j;
		is_int(crc32c_sw(0, b, 32), v[i].want,
		    "crc32c software, RFC 3720 %s", v[i].what);
		if (crc32c_hw_available())
			is_int(crc32c_hw(0, b, 32), v[i].want,
			    "crc32c sse4.2, RFC 3720 %s", v[i].what);
		else
			ok(1, "# SKIP no sse4.2");
	}
	diag("crc32c: sse4.2 %s", crc32c_hw_available() ? "used" :
	    "not available");
	big = xmalloc(70000);
	for (i = 0; i < 70000; i++)
		big[i] = tap_rand();
	for (i = 0; i < 2000; i++) {
		off = tap_rand_below(64);
		len = tap_rand_below(i < 1000 ? 100 : 70000 - off);
		split = len ? tap_rand_below(len) : 0;
		a = crc32c_sw(0, big + off, len);
		c = crc32c(crc32c(0, big + off, split), big + off + split,
		    len - split);
		if (a != c)
			bad++;
		if (crc32c_hw_available() &&
		    crc32c_hw(0, big + off, len) != a)
			bad++;
	}
	is_int(bad, 0, "crc32c: software, sse4.2 and chained agree on "
	    "2000 random buffers");
	free(big);
}

static void
test_basic(void)
{
	struct wal_hardstate hs = { 7, 3, 150 }, got;
	struct wal *w;
	uint64_t *t, *ids, term, g, i;
	size_t n;
	int good;

	fresh();
	w = open_wal(0, 0);
	ok(w != NULL, "open creates an empty log");
	ids = wal_groups(w, &n);
	is_int(n, 0, "no groups in a new log");
	free(ids);
	is_int(wal_first_index(w, 9), 1, "unknown group: first index 1");
	is_int(wal_last_index(w, 9), 0, "unknown group: last index 0");
	is_int(wal_term(w, 9, 0, &term), 0, "unknown group: term of 0");
	is_int(wal_term(w, 9, 1, &term), WAL_UNAVAILABLE,
	    "unknown group: term of 1 unavailable");
	is_int(wal_hardstate(w, 9, &got), 0, "unknown group: no hard state");

	/* 50 groups, 200 entries each, interleaved in batches of 10. */
	for (i = 0; i < 20; i++) {
		for (g = 1; g <= 50; g++)
			if (append(w, g * 11, 1 + i * 10, 11 + i * 10, 1) == -1)
				diag("append: %s", log_reason());
		if (wal_sync(w) == -1)
			diag("sync: %s", log_reason());
	}
	wal_set_hardstate(w, 11, &hs);
	t = terms_of(300, 1);
	good = 1;
	for (g = 1; g <= 50; g++)
		good &= wal_last_index(w, g * 11) == 200 &&
		    check_range(w, g * 11, 1, 201, t, UINT64_MAX);
	ok(good, "50 groups x 200 entries read back (staged and synced)");
	is_int(wal_close(w), 0, "close syncs what is staged");

	w = open_wal(0, 0);
	ok(w != NULL, "reopen after a clean close");
	ids = wal_groups(w, &n);
	good = n == 50;
	for (i = 0; good && i < n; i++)
		good = ids[i] == (i + 1) * 11;
	ok(good, "wal_groups lists the 50 groups in order");
	free(ids);
	good = 1;
	for (g = 1; g <= 50; g++)
		good &= wal_first_index(w, g * 11) == 1 &&
		    wal_last_index(w, g * 11) == 200 &&
		    check_range(w, g * 11, 1, 201, t, 1000);
	ok(good, "every entry survives the reopen, read in 1000-byte pieces");
	is_int(wal_hardstate(w, 11, &got), 1, "hard state survives");
	ok(got.term == 7 && got.vote == 3 && got.commit == 150,
	    "hard state is (7, 3, 150)");
	is_int(wal_hardstate(w, 22, &got), 0, "no hard state for group 22");
	wal_close(w);
	free(t);
}

struct limit {
	size_t n;
	size_t bytes;
	int stop_after;
};

static int
limit_fn(void *arg, const struct wal_entry *e)
{
	struct limit *l = arg;

	l->n++;
	l->bytes += e->len;
	return l->stop_after && (int)l->n >= l->stop_after;
}

static void
test_limits_and_payloads(void)
{
	struct wal_entry e[6];
	struct limit l;
	uint8_t *big, bin[] = { 0, '\n', 0xff, ' ', 0, '\r' };
	struct wal *w;
	uint64_t *t;
	int i;

	fresh();
	w = wal_open(waldir, NULL);	/* default 128 MiB segments */
	big = xmalloc(1 << 20);
	for (i = 0; i < (1 << 20); i++)
		big[i] = i * 7;
	memset(e, 0, sizeof(e));
	for (i = 0; i < 6; i++) {
		e[i].index = i + 1;
		e[i].term = 2;
	}
	e[0].len = 0;
	e[1].data = bin;
	e[1].len = sizeof(bin);
	e[2].data = big;
	e[2].len = 1 << 20;
	e[3].data = bin;
	e[3].len = 1;
	e[4].data = big;
	e[4].len = 100;
	e[5].data = big;
	e[5].len = 100;
	is_int(wal_append_entries(w, 5, e, 6), 0, "append empty, binary and "
	    "1 MiB entries");
	wal_close(w);
	w = open_wal(0, 0);
	memset(&l, 0, sizeof(l));
	is_int(wal_entries(w, 5, 1, 7, 0, limit_fn, &l), 1,
	    "max_bytes 0 still gives one entry");
	memset(&l, 0, sizeof(l));
	is_int(wal_entries(w, 5, 2, 7, 10, limit_fn, &l), 1,
	    "max_bytes 10: one 6-byte entry, the 1 MiB one does not fit");
	memset(&l, 0, sizeof(l));
	is_int(wal_entries(w, 5, 3, 7, 10, limit_fn, &l), 1,
	    "an entry over the limit is given when it is the first");
	memset(&l, 0, sizeof(l));
	is_int(wal_entries(w, 5, 4, 7, 101, limit_fn, &l), 2,
	    "max_bytes 101: entries of 1 and 100 bytes, not the next 100");
	memset(&l, 0, sizeof(l));
	is_int(wal_entries(w, 5, 1, 7, UINT64_MAX, limit_fn, &l), 6,
	    "no limit: all six");
	is_int(l.bytes, 6 + (1 << 20) + 201, "and all their bytes");
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	is_int(wal_entries(w, 5, 1, 7, UINT64_MAX, limit_fn, &l), 2,
	    "the callback can stop the read");
	is_int(wal_entries(w, 5, 1, 8, UINT64_MAX, limit_fn, &l),
	    WAL_UNAVAILABLE, "reading past the last index is unavailable");
	is_int(wal_entries(w, 5, 3, 3, UINT64_MAX, limit_fn, &l), 0,
	    "an empty range gives nothing");
	wal_close(w);

	/* Data round trip through disk reads with no cache. */
	fresh();
	w = open_wal(0, 1);
	for (i = 0; i < 300; i += 30)
		append(w, 1, i + 1, i + 31, 3);
	wal_sync(w);
	t = terms_of(300, 3);
	ok(check_range(w, 1, 1, 301, t, 5000), "entries read from disk "
	    "(cache too small to hold a batch) match");
	wal_close(w);
	free(t);
	free(big);
}

static void
test_conflicts(void)
{
	struct wal *w;
	uint64_t t[40], term;
	int i;

	fresh();
	w = open_wal(0, 0);
	append(w, 3, 1, 21, 1);
	wal_sync(w);
	append(w, 3, 11, 16, 2);	/* conflict: 11..20 replaced */
	for (i = 0; i < 40; i++)
		t[i] = i + 1 < 11 ? 1 : 2;
	is_int(wal_last_index(w, 3), 15, "appending at 11 cuts 16..20");
	ok(check_range(w, 3, 1, 16, t, UINT64_MAX), "1..10 term 1, "
	    "11..15 term 2");
	append(w, 3, 14, 18, 3);	/* conflict inside the staged batch */
	for (i = 13; i < 40; i++)
		t[i] = 3;
	is_int(wal_last_index(w, 3), 17, "a conflict on staged entries");
	ok(check_range(w, 3, 1, 18, t, UINT64_MAX), "reads see the new "
	    "terms at once");
	is_int(append(w, 3, 19, 20, 3), -1, "a gap is refused");
	ok(strstr(log_reason(), "do not follow") != NULL,
	    "with a reason: %s", log_reason());
	is_int(wal_last_index(w, 3), 17, "and changes nothing");
	wal_close(w);
	w = open_wal(0, 0);
	is_int(wal_last_index(w, 3), 17, "conflicts replay on reopen");
	ok(check_range(w, 3, 1, 18, t, UINT64_MAX), "with the right terms "
	    "and data");
	is_int(wal_term(w, 3, 14, &term), 0, "term of 14");
	is_int(term, 3, "is 3");
	wal_close(w);
}

static void
test_compaction(void)
{
	struct wal_hardstate hs = { 4, 1, 30 }, got;
	struct limit l;
	struct wal *w;
	uint64_t *t, term, idx;
	size_t n;
	uint64_t *ids;

	fresh();
	w = open_wal(0, 0);
	append(w, 8, 1, 51, 4);
	wal_set_hardstate(w, 8, &hs);
	wal_sync(w);
	is_int(wal_compact(w, 8, 20), 0, "compact to 20");
	is_int(wal_first_index(w, 8), 21, "first index is 21");
	is_int(wal_term(w, 8, 20, &term), 0, "the term of the compaction "
	    "point is kept");
	is_int(term, 4, "as 4");
	is_int(wal_term(w, 8, 19, &term), WAL_COMPACTED, "term of 19: "
	    "compacted");
	is_int(wal_entries(w, 8, 20, 30, 0, limit_fn, &l), WAL_COMPACTED,
	    "entries from 20: compacted");
	is_int(wal_compact(w, 8, 10), 0, "compacting below the point is a "
	    "no-op");
	is_int(wal_compact(w, 8, 51), -1, "compacting past the last index "
	    "fails");
	wal_close(w);
	w = open_wal(0, 0);
	is_int(wal_first_index(w, 8), 21, "compaction survives a reopen");
	wal_snapshot_point(w, 8, &idx, &term);
	ok(idx == 20 && term == 4, "snapshot point (20, 4)");
	t = terms_of(60, 4);
	ok(check_range(w, 8, 21, 51, t, UINT64_MAX), "21..50 intact");
	free(t);

	is_int(wal_set_snapshot(w, 8, 100, 6), 0, "apply a snapshot at "
	    "(100, 6)");
	is_int(wal_first_index(w, 8), 101, "first index 101");
	is_int(wal_last_index(w, 8), 100, "last index 100");
	append(w, 8, 101, 111, 6);
	is_int(wal_remove_group(w, 9), 0, "removing an unknown group");
	append(w, 9, 1, 5, 1);
	wal_set_hardstate(w, 9, &hs);
	wal_sync(w);
	is_int(wal_remove_group(w, 9), 0, "remove group 9");
	is_int(wal_last_index(w, 9), 0, "it is gone");
	wal_close(w);
	w = open_wal(0, 0);
	wal_snapshot_point(w, 8, &idx, &term);
	ok(idx == 100 && term == 6 && wal_last_index(w, 8) == 110,
	    "snapshot and later entries survive a reopen");
	ids = wal_groups(w, &n);
	ok(n == 1 && ids[0] == 8, "the removed group stays removed");
	free(ids);
	is_int(wal_hardstate(w, 9, &got), 0, "with its hard state");
	wal_close(w);
}

static void
test_segments(void)
{
	struct wal_hardstate hs = { 2, 2, 2 }, got;
	struct wal_stats st;
	struct wal *w;
	uint64_t *t, g, i;
	int good;

	fresh();
	w = open_wal(64 << 10, 16 << 10);
	/* Group 1 only has a hard state: rotation must carry it along. */
	wal_set_hardstate(w, 1, &hs);
	append(w, 2, 1, 11, 1);		/* group 2 lags in segment 1 */
	wal_sync(w);
	for (i = 0; i < 100; i++) {
		for (g = 3; g <= 5; g++)
			append(w, g, 1 + i * 20, 21 + i * 20, 1);
		wal_sync(w);
		for (g = 3; g <= 5; g++)
			if (i >= 5)
				wal_compact(w, g, (i - 4) * 20);
	}
	wal_stats(w, &st);
	ok(st.last_segment > 5, "segments rotate at 64 KiB (%" PRIu64 ")",
	    st.last_segment);
	is_int(st.first_segment, 1, "segment 1 is kept: group 2 needs it");
	is_int(count_segments(), st.last_segment, "all segment files there");
	is_int(wal_compact(w, 2, 10), 0, "compact group 2");
	wal_sync(w);
	wal_stats(w, &st);
	ok(st.first_segment >= st.last_segment - 2, "now old segments are "
	    "deleted (%" PRIu64 "..%" PRIu64 ")", st.first_segment,
	    st.last_segment);
	is_int(count_segments(), st.last_segment - st.first_segment + 1,
	    "and their files are gone");
	ok(st.disk_reads == 0, "no disk reads yet");
	t = terms_of(2100, 1);
	good = 1;
	for (g = 3; g <= 5; g++)
		good &= check_range(w, g, 1901, 2001, t, 4096);
	ok(good, "live entries read back");
	wal_close(w);

	w = open_wal(64 << 10, 16 << 10);
	ok(w != NULL, "reopen after segments were deleted");
	is_int(wal_hardstate(w, 1, &got), 1, "a hard state from the deleted "
	    "first segment survives");
	is_int(wal_first_index(w, 2), 11, "group 2 compacted, empty");
	is_int(wal_term(w, 2, 10, &g), 0, "its compaction point");
	good = 1;
	for (g = 3; g <= 5; g++)
		good &= wal_first_index(w, g) == 1901 &&
		    wal_last_index(w, g) == 2000 &&
		    check_range(w, g, 1901, 2001, t, 4096);
	ok(good, "the other groups are whole after the reopen");
	wal_stats(w, &st);
	ok(st.disk_reads > 0, "and were read from disk (%" PRIu64 ")",
	    st.disk_reads);
	wal_close(w);
	free(t);
}

static void
test_lock(void)
{
	struct wal *w, *w2;

	fresh();
	w = open_wal(0, 0);
	w2 = wal_open(waldir, NULL);
	ok(w2 == NULL, "a second open of the same directory fails");
	ok(strstr(log_reason(), "in use") != NULL, "because: %s",
	    log_reason());
	wal_close(w2);
	wal_close(w);
}

struct reader {
	struct wal *w;
	_Atomic int stop;
	int bad;
	long reads;
};

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct limit l;
	uint64_t first, last, term;
	int n;

	while (!r->stop) {
		first = wal_first_index(r->w, 1);
		last = wal_last_index(r->w, 1);
		if (last < first)
			continue;
		memset(&l, 0, sizeof(l));
		n = wal_entries(r->w, 1, first, last + 1, 4096, limit_fn, &l);
		/* Compaction may overtake us; a wrong answer may not. */
		if (n == -1 || n == WAL_UNAVAILABLE)
			r->bad++;
		if (wal_term(r->w, 1, last, &term) == 0 && term != 1)
			r->bad++;
		r->reads++;
	}
	return NULL;
}

static void
test_threads(void)
{
	struct reader r = { NULL, 0, 0, 0 };
	pthread_t t;
	uint64_t i;

	fresh();
	r.w = open_wal(64 << 10, 8 << 10);
	pthread_create(&t, NULL, reader_main, &r);
	for (i = 0; i < 300; i++) {
		append(r.w, 1, i * 10 + 1, i * 10 + 11, 1);
		wal_sync(r.w);
		if (i > 10)
			wal_compact(r.w, 1, (i - 10) * 10);
	}
	r.stop = 1;
	pthread_join(t, NULL);
	ok(r.bad == 0 && r.reads > 0, "a reader thread beside appends, "
	    "syncs and compactions sees only whole answers (%ld reads)",
	    r.reads);
	wal_close(r.w);
}

/* Fault tests. */

struct fault {
	enum wal_io op;
	int err;
	size_t keep;		/* shorten writes to this (SIZE_MAX: no) */
	int count;		/* faults to inject, then pass */
	int seen;
};

static struct fault fault;

static int
fault_fn(void *arg, enum wal_io op, const char *path, size_t *len)
{
	struct fault *f = arg;

	if (op != f->op || f->count == 0)
		return 0;
	f->count--;
	f->seen++;
	if (len != NULL && f->keep != SIZE_MAX && *len > f->keep)
		*len = f->keep;
	return f->err;
}

static void
fault_set(enum wal_io op, int err, size_t keep, int count)
{
	fault.op = op;
	fault.err = err;
	fault.keep = keep;
	fault.count = count;
	fault.seen = 0;
	wal_set_faulthook(fault_fn, &fault);
}

static char *
segpath(uint64_t n)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%016" PRIx64 ".wal", waldir, n);
	return p;
}

static void
poke(const char *path, uint64_t off, int xor)
{
	uint8_t b;
	int fd;

	fd = open(path, O_RDWR);
	if (pread(fd, &b, 1, off) != 1)
		diag("poke: cannot read %s at %" PRIu64, path, off);
	b ^= xor;
	if (pwrite(fd, &b, 1, off) != 1)
		diag("poke: cannot write %s", path);
	close(fd);
}

static void
zero_from(const char *path, uint64_t off, uint64_t len)
{
	uint8_t z[4096] = { 0 };
	int fd = open(path, O_RDWR);
	size_t n;

	while (len > 0) {
		n = len < sizeof(z) ? len : sizeof(z);
		if (pwrite(fd, z, n, off) != (ssize_t)n)
			diag("zero_from: write failed");
		off += n;
		len -= n;
	}
	close(fd);
}

/*
 * Three batches of group 1: entries 1..10, 11..20, 21..30.  Returns the
 * offsets where batches 2 and 3 start and where 3 ends.
 */
static void
three_batches(uint64_t *b2, uint64_t *b3, uint64_t *end)
{
	struct wal_stats st;
	struct wal *w;

	fresh();
	w = open_wal(0, 0);
	append(w, 1, 1, 11, 1);
	wal_sync(w);
	wal_stats(w, &st);
	*b2 = st.synced_offset;
	append(w, 1, 11, 21, 1);
	wal_sync(w);
	wal_stats(w, &st);
	*b3 = st.synced_offset;
	append(w, 1, 21, 31, 1);
	wal_sync(w);
	wal_stats(w, &st);
	*end = st.synced_offset;
	wal_close(w);
}

static void
test_torn_tail(void)
{
	struct wal_stats st;
	struct wal *w;
	uint64_t b2, b3, end, off, *t = terms_of(40, 1);
	int i, good = 1, trials = 40, mask;

	for (i = 0; i < trials; i++) {
		three_batches(&b2, &b3, &end);
		/* Tear the last batch: zero it from a random offset. */
		off = b3 + tap_rand_below(end - b3);
		zero_from(segpath(1), off, end - off);
		w = open_wal(0, 0);
		if (w == NULL || wal_last_index(w, 1) != 20 ||
		    !check_range(w, 1, 1, 21, t, UINT64_MAX)) {
			diag("torn at %" PRIu64 " (batch %" PRIu64 "..%"
			    PRIu64 ")", off, b3, end);
			good = 0;
		}
		wal_close(w);
	}
	ok(good, "a last batch torn at %d random offsets is cut; the "
	    "batches before it stay", trials);

	for (i = 0, good = 1; i < trials; i++) {
		three_batches(&b2, &b3, &end);
		off = b3 + tap_rand_below(end - b3);
		poke(segpath(1), off, 1 << tap_rand_below(8));
		if ((w = open_wal(0, 0)) == NULL) {
			good = 0;
			continue;
		}
		wal_stats(w, &st);
		good &= wal_last_index(w, 1) == 20 &&
		    check_range(w, 1, 1, 21, t, UINT64_MAX);
		/* The log goes on after the cut, and the cut stays cut. */
		append(w, 1, 21, 26, 2);
		wal_close(w);
		w = open_wal(0, 0);
		good &= w != NULL && wal_last_index(w, 1) == 25;
		wal_close(w);
	}
	ok(good, "a bit flipped in the last batch: cut as a torn write, and "
	    "new batches follow the cut");
	ok(st.truncated_tail > 0, "wal_stats reports the cut bytes");

	for (i = 0, good = 1; i < trials; i++) {
		three_batches(&b2, &b3, &end);
		off = b2 + tap_rand_below(b3 - b2);
		mask = 1 << tap_rand_below(8);
		poke(segpath(1), off, mask);
		w = open_wal(0, 0);
		if (w != NULL || strstr(log_reason(), segpath(1)) == NULL ||
		    strstr(log_reason(), "offset") == NULL) {
			diag("flip at %" PRIu64 ": %s", off,
			    w ? "opened" : log_reason());
			good = 0;
		}
		wal_close(w);
		/* Refusing changed nothing: the flip undone, all is there. */
		poke(segpath(1), off, mask);
		if ((w = open_wal(0, 0)) == NULL ||
		    wal_last_index(w, 1) != 30) {
			diag("after undoing the flip: %s", log_reason());
			good = 0;
		}
		wal_close(w);
	}
	ok(good, "a bit flipped in a middle batch: open refuses, naming the "
	    "file and offset");
	diag("e.g. %s", log_reason());

	three_batches(&b2, &b3, &end);
	zero_from(segpath(1), b2, 24);
	w = open_wal(0, 0);
	ok(w == NULL && strstr(log_reason(), "good batch follows"),
	    "a zeroed middle batch header is corruption, not the end: %s",
	    log_reason());
	wal_close(w);
	free(t);
}

static void
test_damaged_segments(void)
{
	struct wal_stats st;
	struct wal *w;
	uint64_t g;
	char tmp[320];
	int fd;

	fresh();
	w = open_wal(16 << 10, 0);
	for (g = 0; g < 100; g++)
		append(w, 1, g * 10 + 1, g * 10 + 11, 1);
	wal_sync(w);
	for (g = 0; g < 10; g++) {
		append(w, 2, g * 10 + 1, g * 10 + 11, 1);
		wal_sync(w);
	}
	wal_stats(w, &st);
	wal_close(w);
	ok(st.last_segment >= 3, "three segments or more");

	/* A flip in a finished segment is never a torn tail. */
	poke(segpath(st.last_segment - 1), 40, 4);
	w = open_wal(16 << 10, 0);
	ok(w == NULL && strstr(log_reason(), segpath(st.last_segment - 1)),
	    "damage in a finished segment refuses: %s", log_reason());
	poke(segpath(st.last_segment - 1), 40, 4);

	poke(segpath(1), 3, 1);
	w = open_wal(16 << 10, 0);
	ok(w == NULL && strstr(log_reason(), "segment header"),
	    "a bad segment header refuses: %s", log_reason());
	poke(segpath(1), 3, 1);

	snprintf(tmp, sizeof(tmp), "%s.moved", segpath(2));
	rename(segpath(2), tmp);
	w = open_wal(16 << 10, 0);
	ok(w == NULL && strstr(log_reason(), "missing"),
	    "a missing segment refuses: %s", log_reason());
	rename(tmp, segpath(2));

	snprintf(tmp, sizeof(tmp), "%s/%016" PRIx64 ".wal.tmp", waldir,
	    st.last_segment + 1);
	fd = open(tmp, O_CREAT | O_WRONLY, 0644);
	close(fd);
	w = open_wal(16 << 10, 0);
	ok(w != NULL && access(tmp, F_OK) == -1, "after all that, it opens; "
	    "a leftover temporary segment is removed");
	is_int(w ? wal_last_index(w, 2) : 0, 100, "nothing was lost");
	wal_close(w);
}

static void
test_write_errors(void)
{
	struct wal_stats st;
	struct wal *w;
	uint64_t *t = terms_of(100, 1);
	int errs[2] = { ENOSPC, EIO }, i;

	for (i = 0; i < 2; i++) {
		fresh();
		w = open_wal(0, 0);
		append(w, 1, 1, 11, 1);
		wal_sync(w);
		append(w, 1, 11, 21, 1);
		fault_set(WAL_IO_WRITE, errs[i], SIZE_MAX, 1);
		is_int(wal_sync(w), -1, "%s on write: wal_sync fails",
		    strerror(errs[i]));
		ok(strstr(log_reason(), strerror(errs[i])) &&
		    strstr(log_reason(), segpath(1)), "saying so: %s",
		    log_reason());
		wal_stats(w, &st);
		ok(st.staged_bytes > 0, "the batch stays staged");
		ok(check_range(w, 1, 1, 21, t, UINT64_MAX), "and readable");
		is_int(wal_sync(w), 0, "the next wal_sync writes it");
		wal_close(w);
		w = open_wal(0, 0);
		is_int(wal_last_index(w, 1), 20, "all 20 entries are there");
		wal_close(w);

		/* A torn write, then the process gives up (close fails). */
		fresh();
		w = open_wal(0, 0);
		append(w, 1, 1, 11, 1);
		wal_sync(w);
		append(w, 1, 11, 21, 1);
		fault_set(WAL_IO_WRITE, errs[i], 37, 2);
		is_int(wal_sync(w), -1, "%s after 37 bytes: wal_sync fails",
		    strerror(errs[i]));
		is_int(wal_close(w), -1, "close cannot write it either");
		wal_set_faulthook(NULL, NULL);
		w = open_wal(0, 0);
		ok(w != NULL && wal_last_index(w, 1) == 10 &&
		    check_range(w, 1, 1, 11, t, UINT64_MAX),
		    "reopen: the torn batch is cut, the synced one is whole");
		wal_close(w);
	}

	/* No space for a new segment: go on in the old one. */
	fresh();
	w = open_wal(16 << 10, 0);
	fault_set(WAL_IO_CREATE, ENOSPC, SIZE_MAX, 1000);
	quiet(1);
	for (i = 0; i < 10; i++) {
		append(w, 1, i * 10 + 1, i * 10 + 11, 1);
		if (wal_sync(w) == -1)
			break;
	}
	quiet(0);
	wal_stats(w, &st);
	ok(i == 10 && st.last_segment == 1 && fault.seen > 1,
	    "a segment that cannot be created: syncs go on in the last one");
	wal_set_faulthook(NULL, NULL);
	append(w, 1, 101, 102, 1);
	wal_sync(w);
	wal_stats(w, &st);
	is_int(st.last_segment, 2, "and rotate once there is space");
	wal_close(w);
	w = open_wal(16 << 10, 0);
	ok(check_range(w, 1, 1, 102, t, UINT64_MAX), "nothing lost");
	wal_close(w);
	free(t);
}

/* A failed fsync kills the process: run it in a child. */
static void
test_sync_fatal(void)
{
	struct wal *w;
	char msg[1024];
	ssize_t n;
	int fds[2], status, returned;
	pid_t pid;

	fresh();
	if (pipe(fds) == -1)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		dup2(fds[1], 1);
		log_init("wal_test", LOG_LEVEL_WARN, 0);
		w = open_wal(0, 0);
		append(w, 1, 1, 11, 1);
		fault_set(WAL_IO_SYNC, EIO, SIZE_MAX, 1);
		wal_sync(w);
		printf("RETURNED\n");
		fflush(stdout);
		_exit(0);
	}
	close(fds[1]);
	n = 0;
	while (n < (ssize_t)sizeof(msg) - 1) {
		ssize_t r = read(fds[0], msg + n, sizeof(msg) - 1 - n);
		if (r <= 0)
			break;
		n += r;
	}
	msg[n] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	returned = strstr(msg, "RETURNED") != NULL;
	ok(WIFEXITED(status) && WEXITSTATUS(status) != 0 && !returned,
	    "a failed fdatasync is fatal to the process");
	msg[strcspn(msg, "\n")] = 0;
	ok(strstr(msg, "cannot sync") && strstr(msg, "Input/output error"),
	    "with a message: %s", msg);
	wal_set_faulthook(NULL, NULL);
	w = open_wal(0, 0);
	ok(w != NULL, "the log opens after the fatal sync");
	wal_close(w);
}

int
main(int argc, char **argv)
{
	int faults = argc > 1 && strcmp(argv[1], "-f") == 0;

	log_init("wal_test", LOG_LEVEL_WARN, 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wal_test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(waldir, sizeof(waldir), "%s/wal", tmpdir);
	if (faults) {
		expect_fail = 1;
		for (prealloc = 0; prealloc < 3; prealloc++) {
			diag("segment space: %s", prealloc == 0 ?
			    "fallocated" : prealloc == 1 ? "appended" :
			    "zeroed ahead");
			test_torn_tail();
			test_damaged_segments();
			test_write_errors();
		}
		test_sync_fatal();
	} else {
		test_crc32c();
		for (prealloc = 0; prealloc < 3; prealloc++) {
			diag("segment space: %s", prealloc == 0 ?
			    "fallocated" : prealloc == 1 ? "appended" :
			    "zeroed ahead");
			test_basic();
			test_limits_and_payloads();
			test_conflicts();
			test_compaction();
			test_segments();
		}
		test_lock();
		test_threads();
	}
	rmtree(tmpdir);
	return done_testing();
}
