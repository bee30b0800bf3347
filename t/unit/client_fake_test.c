/*
 * The raw client against fake stores (fakestore.h) and a real pdd whose
 * URL is the first argument: routing over split regions, batches of one
 * message per region, scans both ways across regions, and the region
 * errors and faults it must ride out or report.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "client.h"
#include "fakestore.h"
#include "log.h"
#include "pdclient.h"
#include "tap.h"

#define TIMEOUT_MS	3000
#define NKEYS		900

static struct fake *f;
static struct client *c;

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
get_is(const char *key, size_t klen, const char *want, size_t wlen)
{
	struct buf v = BUF_INIT;
	int r = client_get(c, key, klen, &v), same;

	if (r == -1)
		diag("get: %s", log_reason());
	same = want == NULL ? r == 0 : r == 1 && v.len == wlen &&
	    memcmp(v.data, want, wlen) == 0;
	buf_free(&v);
	return same;
}

static uint64_t
messages(void)
{
	struct fake_stats st;
	uint64_t n = 0;
	int i;

	for (i = 1; i <= 3; i++) {
		fake_get_stats(f, i, &st);
		n += st.messages;
	}
	return n;
}

static uint64_t
writes(void)
{
	struct fake_stats st;
	uint64_t n = 0;
	int i;

	for (i = 1; i <= 3; i++) {
		fake_get_stats(f, i, &st);
		n += st.writes;
	}
	return n;
}

static void
test_basic(void)
{
	uint64_t ttl = 99;
	int r;

	ok(client_put(c, "k", 1, "v", 1, 0) == 0 && get_is("k", 1, "v", 1),
	    "put then get");
	ok(client_put(c, "a\0 b\n", 5, "", 0, 0) == 0 &&
	    get_is("a\0 b\n", 5, "", 0), "a key with NUL, space and newline "
	    "holds the empty value");
	ok(client_put(c, "", 0, "e", 1, 0) == 0 && get_is("", 0, "e", 1),
	    "the empty key");
	ok(get_is("nope", 4, NULL, 0), "a missing key is not found");
	ok(client_delete(c, "k", 1) == 0 && get_is("k", 1, NULL, 0),
	    "delete");
	r = client_put(c, "t", 1, "v", 1, 100) == 0 &&
	    client_get_ttl(c, "t", 1, &ttl) == 1;
	ok(r && ttl > 90 && ttl <= 100, "a ttl counts down from what was put "
	    "(%llu)", (unsigned long long)ttl);
	ok(client_get_ttl(c, "a\0 b\n", 5, &ttl) == 1 && ttl == 0,
	    "no ttl reads as 0");
	ok(client_get_ttl(c, "nope", 4, &ttl) == 0, "ttl of a missing key");
}

static int
cas(const char *key, int absent, const char *expect, int del,
    const char *value, int *swapped, int *found, struct buf *prev)
{
	struct client_cas a;

	memset(&a, 0, sizeof(a));
	a.expect_absent = absent;
	a.expect = bytes_str(expect ? expect : "");
	a.del = del;
	a.value = bytes_str(value ? value : "");
	return client_cas(c, key, strlen(key), &a, swapped, found, prev);
}

static void
test_cas(void)
{
	struct buf prev = BUF_INIT;
	int sw = -1, found = -1;

	ok(cas("c", 1, NULL, 0, "one", &sw, &found, &prev) == 0 && sw &&
	    !found, "cas on an absent key swaps");
	ok(cas("c", 1, NULL, 0, "two", &sw, &found, &prev) == 0 && !sw &&
	    found && prev.len == 3 && memcmp(prev.data, "one", 3) == 0 &&
	    get_is("c", 1, "one", 3), "expecting absent fails when present, "
	    "with the value");
	ok(cas("c", 0, "uno", 0, "two", &sw, &found, &prev) == 0 && !sw &&
	    found && get_is("c", 1, "one", 3), "a wrong expectation fails");
	ok(cas("c", 0, "one", 0, "two", &sw, &found, &prev) == 0 && sw &&
	    found && get_is("c", 1, "two", 3), "the right one swaps");
	ok(cas("c", 0, "two", 1, NULL, &sw, &found, &prev) == 0 && sw &&
	    get_is("c", 1, NULL, 0), "and deletes");
	buf_free(&prev);
}

static void
key_of(char *k, int i)
{
	snprintf(k, 8, "k%03d", i);
}

static void
test_batches(void)
{
	static char kb[NKEYS + 2][8], vb[NKEYS][8];
	struct bytes keys[NKEYS + 2], vals[NKEYS];
	struct buf *out;
	int found[NKEYS + 2], i, r, bad = 0;
	uint64_t lid, rid, m;

	ok(fake_split(f, "k300", 4, 1, &lid, &rid) == 0 &&
	    fake_split(f, "k600", 4, 1, &lid, &rid) == 0,
	    "the region splits in three behind the client's back");
	for (i = 0; i < NKEYS; i++) {
		key_of(kb[i], i);
		snprintf(vb[i], sizeof(vb[i]), "v%d", i);
		keys[i] = bytes_str(kb[i]);
		vals[i] = bytes_str(vb[i]);
	}
	ok(client_batch_put(c, keys, vals, NKEYS, 0) == 0,
	    "a batch put over three regions with a stale cache");
	m = messages();
	r = client_batch_put(c, keys, vals, NKEYS, 0);
	m = messages() - m;
	ok(r == 0 && m == 3, "with a fresh cache: one message per region "
	    "(%llu)", (unsigned long long)m);

	memcpy(kb[NKEYS], "zz", 3);
	memcpy(kb[NKEYS + 1], "k007", 5);
	keys[NKEYS] = bytes_str(kb[NKEYS]);
	keys[NKEYS + 1] = bytes_str(kb[NKEYS + 1]);
	out = calloc(NKEYS + 2, sizeof(*out));
	ok(client_batch_get(c, keys, NKEYS + 2, found, out) == 0,
	    "batch get of every key, a missing one and a repeated one");
	for (i = 0; i < NKEYS; i++)
		bad += !found[i] || out[i].len != strlen(vb[i]) ||
		    memcmp(out[i].data, vb[i], out[i].len) != 0;
	ok(bad == 0 && !found[NKEYS] && found[NKEYS + 1] &&
	    out[NKEYS + 1].len == 2, "each found with its value");
	for (i = 0; i < NKEYS + 2; i++)
		buf_free(&out[i]);
	free(out);
}

/* Whether a scan gave keys k<from>, k<from+step>, ... n of them. */
static int
scan_is(const char *start, const char *end, size_t limit, int flags,
    int from, int step, size_t n)
{
	struct client_pair *v;
	size_t got, i;
	char k[8], val[8];
	int same;

	if (client_scan(c, start, strlen(start), end, strlen(end), limit,
	    flags, &v, &got) == -1) {
		diag("scan: %s", log_reason());
		return 0;
	}
	same = got == n;
	for (i = 0; same && i < n; i++) {
		key_of(k, from + (int)i * step);
		snprintf(val, sizeof(val), "v%d", from + (int)i * step);
		same = v[i].key.len == 4 && memcmp(v[i].key.data, k, 4) == 0 &&
		    (flags & CLIENT_KEY_ONLY ? v[i].value.len == 0 :
		    v[i].value.len == strlen(val) &&
		    memcmp(v[i].value.data, val, v[i].value.len) == 0);
	}
	if (!same)
		diag("scan [%s, %s) gave %zu pairs, first '%s'", start, end,
		    got, got ? (const char *)v[0].key.data : "");
	client_pairs_free(v, got);
	return same;
}

static void
test_scans(void)
{
	struct client_checksum a, b, sum;
	int r;

	ok(scan_is("k", "l", 0, 0, 0, 1, NKEYS), "a scan of everything "
	    "crosses the regions, in pages");
	ok(scan_is("k100", "", 350, 0, 100, 1, 350), "a limit that ends in "
	    "the second region");
	ok(scan_is("k", "l", 350, CLIENT_REVERSE, NKEYS - 1, -1, 350),
	    "reverse from the end with a limit");
	ok(scan_is("k250", "k650", 0, CLIENT_REVERSE | CLIENT_KEY_ONLY, 649,
	    -1, 400), "reverse over three regions, keys only");
	ok(scan_is("k300", "k300", 0, 0, 0, 1, 0) &&
	    scan_is("k300", "k300", 0, CLIENT_REVERSE, 0, 1, 0),
	    "an empty range is empty both ways");
	ok(scan_is("k299", "k301", 0, CLIENT_REVERSE, 300, -1, 2),
	    "reverse across a boundary");
	ok(client_scan(c, "b", 1, "a", 1, 0, 0, &(struct client_pair *){ 0 },
	    &(size_t){ 0 }) == -1, "a range that starts after its end is "
	    "refused");

	memset(&sum, 0, sizeof(sum));
	r = client_checksum(c, "k", 1, "l", 1, &sum);
	ok(r == 0 && sum.count == NKEYS, "checksum counts every pair (%llu)",
	    (unsigned long long)sum.count);
	ok(client_checksum(c, "k", 1, "k450", 4, &a) == 0 &&
	    client_checksum(c, "k450", 4, "l", 1, &b) == 0 &&
	    a.count + b.count == sum.count && a.bytes + b.bytes == sum.bytes &&
	    (a.checksum ^ b.checksum) == sum.checksum,
	    "two halves combine to the whole");
	ok(client_delete_range(c, "k250", 4, "k650", 4) == 0 &&
	    scan_is("k", "k650", 0, CLIENT_KEY_ONLY, 0, 1, 250) &&
	    scan_is("k650", "l", 0, 0, 650, 1, 250),
	    "delete-range over three regions");
	ok(client_checksum(c, "k", 1, "l", 1, &sum) == 0 && sum.count == 500,
	    "checksum agrees");
}

static void
test_leaders(void)
{
	struct fake_stats before, after;
	uint64_t lid, rid;

	fake_get_stats(f, 2, &before);
	ok(fake_set_leader(f, 2, 2, 0) == 0 && get_is("k000", 4, "v0", 2),
	    "a leader PD has not heard of is found from the hint");
	fake_get_stats(f, 2, &after);
	ok(after.messages > before.messages, "store 2 served it");
	fake_hide_leader(f, 1);
	ok(fake_set_leader(f, 2, 3, 0) == 0 && get_is("k001", 4, "v1", 2),
	    "with no hint, the client tries the other peers");
	fake_hide_leader(f, 0);
	fake_busy(f, 3);
	ok(get_is("k002", 4, "v2", 2), "a busy store is waited for");
	ok(fake_split(f, "k100", 4, 0, &lid, &rid) == 0 &&
	    get_is("k050", 4, "v50", 3), "a split PD has not heard of: the "
	    "left side is found from EPOCH_NOT_MATCH");
}

static void
test_unknown(void)
{
	struct buf prev = BUF_INIT;
	uint64_t w, t0;
	int sw, found, r;

	w = writes();
	fake_stale(f, 1);
	r = client_put(c, "s", 1, "1", 1, 0);
	w = writes() - w;
	ok(r == 0 && get_is("s", 1, "1", 1) && w == 1,
	    "a put dropped as STALE_COMMAND is retried");
	fake_stale(f, 1);
	r = cas("s", 0, "1", 0, "2", &sw, &found, &prev);
	ok(r == CLIENT_UNKNOWN && get_is("s", 1, "1", 1),
	    "a CAS that meets STALE_COMMAND is unknown, not retried");
	diag("%s", log_reason());

	w = writes();
	fake_late(f, 1, 1500);
	r = client_put(c, "s", 1, "3", 1, 0);
	w = writes() - w;
	ok(r == 0 && w == 2 && get_is("s", 1, "3", 1),
	    "a put whose reply is late is sent again");
	w = writes();
	fake_late(f, 1, TIMEOUT_MS + 500);
	r = cas("s", 0, "3", 0, "4", &sw, &found, &prev);
	w = writes() - w;
	ok(r == CLIENT_UNKNOWN && w == 1 && get_is("s", 1, "4", 1),
	    "a CAS whose reply is lost is unknown, ran once");
	diag("%s", log_reason());

	fake_busy(f, 1000000);
	t0 = mono_ms();
	r = get_is("s", 1, "4", 1);
	t0 = mono_ms() - t0;
	ok(!r && strstr(log_reason(), "SERVER_IS_BUSY"),
	    "a store busy for good: the call gives up: %s", log_reason());
	ok(t0 >= TIMEOUT_MS - 100 && t0 < 3 * TIMEOUT_MS,
	    "after the timeout (%llu ms)", (unsigned long long)t0);
	fake_busy(f, 0);
	buf_free(&prev);
}

static void
test_admin(void)
{
	struct region l, r;
	struct pd_region pr;

	region_init(&l);
	region_init(&r);
	ok(client_split_region(c, "k500", 4, &l, &r) == 0 &&
	    l.end.len == 4 && memcmp(l.end.data, "k500", 4) == 0 &&
	    r.start.len == 4, "split-region gives both sides");
	ok(get_is("k499", 4, NULL, 0) && get_is("k700", 4, "v700", 4),
	    "keys on both sides still route");
	ok(client_transfer_leader(c, r.id, 3) == 0, "transfer leader");
	region_init(&pr.region);
	ok(pdclient_get_region_by_id(client_pd(c), r.id, &pr) == 0 &&
	    pr.leader_peer_id == region_peer_on_store(&pr.region, 3)->id,
	    "PD sees the new leader");
	ok(client_transfer_leader(c, r.id, 9) == -1 &&
	    strstr(log_reason(), "no peer on store 9"),
	    "a store without a peer: %s", log_reason());
	region_free(&pr.region);
	region_free(&l);
	region_free(&r);
}

#define NTHREADS	8
#define NOPS		100

static void *
worker(void *arg)
{
	long id = (long)arg, bad = 0;
	char k[32], v[32];
	int i;

	for (i = 0; i < NOPS; i++) {
		snprintf(k, sizeof(k), "t%02ld-%03d", id, i);
		snprintf(v, sizeof(v), "%d", i * (int)id);
		if (client_put(c, k, strlen(k), v, strlen(v), 0) == -1 ||
		    !get_is(k, strlen(k), v, strlen(v)))
			bad++;
	}
	return (void *)bad;
}

static void
test_threads(void)
{
	pthread_t t[NTHREADS];
	long i, bad = 0;
	void *r;

	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (i = 0; i < 6; i++) {
		fake_set_leader(f, 2, 1 + (uint64_t)i % 3, i % 2);
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	ok(bad == 0, "%d threads share one client while leaders move",
	    NTHREADS);
}

int
main(int argc, char *argv[])
{
	log_init("client_fake_test", LOG_LEVEL_WARN, 0);
	if (argc != 2)
		skip_all("usage: client_fake_test pd_url");
	if ((f = fake_start(argv[1], 3)) == NULL) {
		diag("fake stores: %s", log_reason());
		return 1;
	}
	if ((c = client_open(&argv[1], 1, TIMEOUT_MS)) == NULL) {
		diag("client: %s", log_reason());
		return 1;
	}
	test_basic();
	test_cas();
	test_batches();
	test_scans();
	test_leaders();
	test_unknown();
	test_admin();
	test_threads();
	client_close(c);
	fake_stop(f);
	return done_testing();
}
