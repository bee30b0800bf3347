/*
 * pdclient against a real pdd: every call, its replies and its errors.
 *
 *	pdclient_test PD_URL [DEAD_URL]
 *
 * PD_URL is a fresh pdd (not bootstrapped) with max-replicas 3; DEAD_URL
 * is an address nothing listens on (default: a loopback port this
 * program binds and closes).  Prints TAP.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "pdclient.h"
#include "region.h"
#include "tap.h"

#define NTHREADS	4
#define PER_THREAD	200

static const char *pd_url;

static int
has(const char *s, const char *sub)
{
	if (strstr(s, sub) != NULL)
		return 1;
	diag("  '%s' does not contain '%s'", s, sub);
	return 0;
}

/* Whether a call failed with errno e and a reason holding sub. */
static int
failed(int rc, int e, const char *sub)
{
	int saved = errno;

	if (rc != -1) {
		diag("  the call succeeded");
		return 0;
	}
	if (saved != e) {
		diag("  errno %d (%s), want %d; reason '%s'", saved,
		    strerror(saved), e, log_reason());
		return 0;
	}
	return has(log_reason(), sub);
}

static int
call_ok(int rc)
{
	if (rc == 0)
		return 1;
	diag("  failed: %s", log_reason());
	return 0;
}

static void
make_region(struct region *r, uint64_t id, const char *start,
    const char *end, uint64_t conf_ver, uint64_t version)
{
	region_init(r);
	r->id = id;
	buf_addstr(&r->start, start);
	buf_addstr(&r->end, end);
	r->epoch.conf_ver = conf_ver;
	r->epoch.version = version;
}

static int
same_region(const struct region *a, const struct region *b)
{
	struct buf x = BUF_INIT, y = BUF_INIT;
	int eq;

	region_format(a, &x);
	region_format(b, &y);
	eq = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
	if (!eq)
		diag("  region %s, want %s", (const char *)x.data,
		    (const char *)y.data);
	buf_free(&x);
	buf_free(&y);
	return eq;
}

/* A URL nothing listens on: a port the kernel gave us, closed again. */
static char *
dead_url(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char *url;
	int s;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return NULL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		close(s);
		return NULL;
	}
	close(s);
	if (asprintf(&url, "tcp://127.0.0.1:%u", ntohs(sin.sin_port)) == -1)
		return NULL;
	return url;
}

static void
test_before_bootstrap(struct pdclient *pd)
{
	struct pd_region pr;
	struct pd_store *v = NULL;
	size_t n = 99;
	int yes = -1;

	ok(call_ok(pdclient_is_bootstrapped(pd, &yes)) && yes == 0,
	    "IS_BOOTSTRAPPED: a fresh pdd is not bootstrapped");
	ok(failed(pdclient_put_store(pd, 40, "tcp://127.0.0.1:20140"),
	    EPROTO, "CLIENT_ERROR cluster is not bootstrapped"),
	    "PUT_STORE before the bootstrap: the error reply is the reason");
	region_init(&pr.region);
	ok(failed(pdclient_get_region(pd, "a", 1, &pr), ENOENT, "NOT_FOUND"),
	    "GET_REGION before the bootstrap: NOT_FOUND, errno ENOENT");
	region_free(&pr.region);
	ok(call_ok(pdclient_list_stores(pd, &v, &n)) && n == 0,
	    "LIST_STORES before the bootstrap: none");
	free(v);
}

static void
test_ids(struct pdclient *pd)
{
	uint64_t a, b, first;

	ok(call_ok(pdclient_alloc_id(pd, &a)) &&
	    call_ok(pdclient_alloc_id(pd, &b)) && a >= 1 && b > a,
	    "ALLOC_ID: ids start at 1 and grow");
	ok(call_ok(pdclient_alloc_ids(pd, 5, &first)) && first > b,
	    "ALLOC_ID 5: a range after the ids before");
	ok(failed(pdclient_alloc_ids(pd, 0, &first), EPROTO,
	    "CLIENT_ERROR"), "ALLOC_ID 0 is refused");
}

static void
test_tso(struct pdclient *pd)
{
	uint64_t t1, t2, t3;

	ok(call_ok(pdclient_tso(pd, 1, &t1)) &&
	    call_ok(pdclient_tso(pd, 1, &t2)) && t2 > t1,
	    "TSO: a second timestamp is greater");
	ok(call_ok(pdclient_tso(pd, 100, &t3)) && t3 > t2,
	    "TSO 100: the batch starts past the last timestamp");
	ok(call_ok(pdclient_tso(pd, 1, &t1)) && t1 >= t3 + 100,
	    "TSO after a batch of 100: past the whole batch");
	ok(failed(pdclient_tso(pd, 0, &t1), EPROTO, "CLIENT_ERROR"),
	    "TSO 0 is refused");
}

struct worker {
	struct pdclient *pd;
	uint64_t ids[PER_THREAD];
	uint64_t ts[PER_THREAD];
	int failures;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++)
		if (pdclient_alloc_id(w->pd, &w->ids[i]) == -1 ||
		    pdclient_tso(w->pd, 1, &w->ts[i]) == -1)
			w->failures++;
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
all_distinct(uint64_t *v, size_t n)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 1; i < n; i++)
		if (v[i] == v[i - 1])
			return 0;
	return 1;
}

static void
test_threads(struct pdclient *pd)
{
	static struct worker w[NTHREADS];
	static uint64_t ids[NTHREADS * PER_THREAD], ts[NTHREADS * PER_THREAD];
	pthread_t t[NTHREADS];
	int i, fails = 0, mono = 1, j;

	for (i = 0; i < NTHREADS; i++) {
		w[i].pd = pd;
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		fails += w[i].failures;
		for (j = 0; j < PER_THREAD; j++) {
			if (j && (w[i].ts[j] <= w[i].ts[j - 1] ||
			    w[i].ids[j] <= w[i].ids[j - 1]))
				mono = 0;
			ids[i * PER_THREAD + j] = w[i].ids[j];
			ts[i * PER_THREAD + j] = w[i].ts[j];
		}
	}
	is_int(fails, 0, "%d threads on one client: every call answered",
	    NTHREADS);
	ok(mono, "each thread sees its ids and timestamps increase");
	ok(all_distinct(ids, NTHREADS * PER_THREAD),
	    "ALLOC_ID from %d threads: %d ids, all unique", NTHREADS,
	    NTHREADS * PER_THREAD);
	ok(all_distinct(ts, NTHREADS * PER_THREAD),
	    "TSO from %d threads: %d timestamps, all unique", NTHREADS,
	    NTHREADS * PER_THREAD);
}

int
main(int argc, char *argv[])
{
	struct pdclient *pd, *pd2;
	struct region r, other, newer, left, right;
	struct pd_region pr;
	struct pd_region *regs;
	struct pd_store s, *stores;
	struct pd_operator op;
	struct buf reply = BUF_INIT;
	char *eps[2], *dead;
	uint64_t ids[8], store1, store2, store3, peer1, learner, pa, pb;
	uint64_t new_id, split_peers[REGION_MAX_PEERS], pending[1], t;
	size_t n;
	int yes, stale;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: pdclient_test pd_url [dead_url]\n");
		return 2;
	}
	pd_url = argv[1];
	dead = argc == 3 ? strdup(argv[2]) : dead_url();
	if (dead == NULL)
		skip_all("no loopback port for a dead endpoint");
	log_init("pdclient_test", LOG_LEVEL_WARN, 0);

	eps[0] = (char *)"bogus://nowhere";
	ok(pdclient_open(eps, 1, 0) == NULL && has(log_reason(), "bogus"),
	    "an endpoint that is not an nng URL is refused at open");
	ok(pdclient_open(eps, 0, 0) == NULL, "no endpoints: refused");

	eps[0] = argv[1];
	if ((pd = pdclient_open(eps, 1, 5000)) == NULL) {
		diag("pdclient_open: %s", log_reason());
		return 1;
	}

	ok(call_ok(pdclient_call(pd, "PING\nVERSION\n", 13, &reply)) &&
	    reply.len > 3 && memcmp(reply.data, "OK\nOK pdd ", 10) == 0,
	    "pdclient_call: two lines, two replies");
	buf_free(&reply);

	test_before_bootstrap(pd);
	test_ids(pd);
	test_tso(pd);

	/* Bootstrap: ids for the store, the region and its peer. */
	ok(call_ok(pdclient_alloc_ids(pd, 3, &ids[0])), "ALLOC_ID 3");
	store1 = ids[0];
	peer1 = ids[0] + 2;
	make_region(&r, ids[0] + 1, "", "", 1, 1);
	region_add_peer(&r, peer1, store1, REGION_VOTER);
	ok(call_ok(pdclient_bootstrap(pd, store1, "tcp://127.0.0.1:20161",
	    &r)), "BOOTSTRAP with the first store and region");
	yes = 0;
	ok(call_ok(pdclient_is_bootstrapped(pd, &yes)) && yes == 1,
	    "IS_BOOTSTRAPPED after the bootstrap");
	ok(call_ok(pdclient_alloc_ids(pd, 3, &ids[0])), "ALLOC_ID 3 more");
	make_region(&other, ids[1], "", "", 1, 1);
	region_add_peer(&other, ids[2], ids[0], REGION_VOTER);
	ok(failed(pdclient_bootstrap(pd, ids[0], "tcp://127.0.0.1:20171",
	    &other), EPROTO, "CLIENT_ERROR cluster is already bootstrapped"),
	    "a second BOOTSTRAP, by another store, is refused");
	region_free(&other);

	/* Stores. */
	ok(call_ok(pdclient_alloc_ids(pd, 2, &store2)), "ALLOC_ID 2");
	store3 = store2 + 1;
	ok(call_ok(pdclient_put_store(pd, store2, "tcp://127.0.0.1:20162")),
	    "PUT_STORE a second store");
	ok(failed(pdclient_put_store(pd, store3, "tcp://127.0.0.1:20162"),
	    EPROTO, "duplicated store address"),
	    "PUT_STORE with another store's address is refused");
	memset(&s, 0, sizeof(s));
	ok(call_ok(pdclient_get_store(pd, store1, &s)) && s.id == store1 &&
	    strcmp(s.addr, "tcp://127.0.0.1:20161") == 0 &&
	    strcmp(s.state, "up") == 0 && s.capacity == 0 &&
	    s.last_heartbeat_ms == 0,
	    "GET_STORE: the bootstrap store, up, no heartbeat yet");
	ok(failed(pdclient_get_store(pd, store3, &s), ENOENT, "NOT_FOUND"),
	    "GET_STORE of an unknown store: ENOENT");
	ok(call_ok(pdclient_store_heartbeat(pd, store1, 1000000, 400000, 1,
	    1)), "STORE_HEARTBEAT");
	ok(call_ok(pdclient_get_store(pd, store1, &s)) &&
	    s.capacity == 1000000 && s.available == 400000 &&
	    s.region_count == 1 && s.leader_count == 1 &&
	    s.last_heartbeat_ms > 0,
	    "GET_STORE shows the heartbeat's figures and time");
	ok(failed(pdclient_store_heartbeat(pd, store3, 1, 1, 0, 0), ENOENT,
	    "NOT_FOUND"), "STORE_HEARTBEAT of an unknown store: ENOENT");
	stores = NULL;
	n = 0;
	ok(call_ok(pdclient_list_stores(pd, &stores, &n)) && n == 2 &&
	    stores[0].id == store1 && stores[1].id == store2 &&
	    strcmp(stores[1].addr, "tcp://127.0.0.1:20162") == 0 &&
	    stores[0].capacity == 1000000,
	    "LIST_STORES: both stores in id order");
	free(stores);

	/* Region heartbeats and operators (max-replicas 3). */
	stale = -1;
	ok(call_ok(pdclient_region_heartbeat(pd, &r, peer1, 4096, 10, NULL,
	    0, &op, &stale, NULL)) && stale == 0 &&
	    op.type == PD_OP_ADD_LEARNER && op.store_id == store2 &&
	    op.peer_id > store2,
	    "REGION_HEARTBEAT of 1 replica of 3: ADD_LEARNER on the other "
	    "store, with a new peer id");
	learner = op.peer_id;
	r.epoch.conf_ver = 2;
	region_add_peer(&r, learner, store2, REGION_LEARNER);
	pending[0] = learner;
	ok(call_ok(pdclient_region_heartbeat(pd, &r, peer1, 4096, 10,
	    pending, 1, &op, &stale, NULL)) && op.type == PD_OP_NONE,
	    "a pending learner is left alone: no operator");
	ok(call_ok(pdclient_region_heartbeat(pd, &r, peer1, 4096, 10, NULL,
	    0, &op, &stale, NULL)) && op.type == PD_OP_PROMOTE_LEARNER &&
	    op.peer_id == learner,
	    "a learner that caught up: PROMOTE_LEARNER");
	r.epoch.conf_ver = 3;
	r.peers[1].role = REGION_VOTER;
	ok(call_ok(pdclient_region_heartbeat(pd, &r, peer1, 4096, 10, NULL,
	    0, &op, &stale, NULL)) && op.type == PD_OP_NONE,
	    "no store left for a third replica: no operator");
	/* Four voters, two on stores PD does not know (healthy). */
	ok(call_ok(pdclient_alloc_ids(pd, 2, &pa)), "ALLOC_ID 2");
	pb = pa + 1;
	r.epoch.conf_ver = 4;
	region_add_peer(&r, pa, store3 + 100, REGION_VOTER);
	region_add_peer(&r, pb, store3 + 101, REGION_VOTER);
	pending[0] = pb;
	ok(call_ok(pdclient_region_heartbeat(pd, &r, peer1, 4096, 10,
	    pending, 1, &op, &stale, NULL)) && op.type == PD_OP_REMOVE_PEER &&
	    op.peer_id == pb,
	    "four voters of 3: REMOVE_PEER of the pending one");

	/* A heartbeat from an older epoch. */
	region_copy(&other, &r);
	other.epoch.conf_ver = 3;
	region_init(&newer);
	stale = 0;
	ok(failed(pdclient_region_heartbeat(pd, &other, peer1, 0, 0, NULL, 0,
	    &op, &stale, &newer), EPROTO, "EPOCH_NOT_MATCH") && stale == 1 &&
	    same_region(&newer, &r),
	    "a stale heartbeat: stale = 1 and PD's newer region");
	region_free(&other);
	region_free(&newer);

	/* Routing. */
	region_init(&pr.region);
	ok(call_ok(pdclient_get_region(pd, "k", 1, &pr)) &&
	    same_region(&pr.region, &r) && pr.leader_peer_id == peer1,
	    "GET_REGION: the region and its leader");
	ok(call_ok(pdclient_get_region_by_id(pd, r.id, &pr)) &&
	    same_region(&pr.region, &r) && pr.leader_peer_id == peer1,
	    "GET_REGION_BY_ID: the same");
	ok(failed(pdclient_get_region_by_id(pd, r.id + 100000, &pr), ENOENT,
	    "NOT_FOUND"), "GET_REGION_BY_ID of an unknown region: ENOENT");

	/* Splits. */
	ok(call_ok(pdclient_ask_split(pd, r.id, &new_id, split_peers, 4)) &&
	    new_id > pb && split_peers[0] == new_id + 1 &&
	    split_peers[3] == new_id + 4,
	    "ASK_SPLIT: a new region id and one peer id per peer");
	ok(failed(pdclient_ask_split(pd, r.id, &t, ids, 5), ERANGE,
	    "gave 4 peer ids, not 5"),
	    "ASK_SPLIT for more peers than PD's copy has: ERANGE");
	ok(failed(pdclient_ask_split(pd, r.id + 100000, &t, ids, 1), ENOENT,
	    "NOT_FOUND"), "ASK_SPLIT of an unknown region: ENOENT");
	make_region(&left, r.id, "", "m", 4, 2);
	make_region(&right, new_id, "m", "", 4, 2);
	for (n = 0; n < 4; n++) {
		region_add_peer(&left, r.peers[n].id, r.peers[n].store_id,
		    REGION_VOTER);
		region_add_peer(&right, split_peers[n], r.peers[n].store_id,
		    REGION_VOTER);
	}
	ok(call_ok(pdclient_report_split(pd, &left, &right)),
	    "REPORT_SPLIT at m");
	ok(call_ok(pdclient_get_region(pd, "z", 1, &pr)) &&
	    same_region(&pr.region, &right) && pr.leader_peer_id == 0,
	    "GET_REGION past the split key: the new region, leader unknown");
	ok(call_ok(pdclient_get_region(pd, "", 0, &pr)) &&
	    same_region(&pr.region, &left) && pr.leader_peer_id == peer1,
	    "GET_REGION of the empty key: the left side keeps its leader");
	region_free(&pr.region);
	regs = NULL;
	n = 0;
	ok(call_ok(pdclient_scan_regions(pd, "", 0, "", 0, 0, &regs, &n)) &&
	    n == 2 && same_region(&regs[0].region, &left) &&
	    same_region(&regs[1].region, &right) &&
	    regs[0].leader_peer_id == peer1,
	    "SCAN_REGIONS of all keys: both sides in key order");
	pdclient_regions_free(regs, n);
	ok(call_ok(pdclient_scan_regions(pd, "", 0, "", 0, 1, &regs, &n)) &&
	    n == 1 && regs[0].region.id == left.id,
	    "SCAN_REGIONS with limit 1");
	pdclient_regions_free(regs, n);
	ok(call_ok(pdclient_scan_regions(pd, "n", 1, "p", 1, 0, &regs, &n)) &&
	    n == 1 && regs[0].region.id == right.id,
	    "SCAN_REGIONS of [n, p): the right side only");
	pdclient_regions_free(regs, n);
	ok(call_ok(pdclient_scan_regions(pd, "p", 1, "n", 1, 0, &regs, &n)) &&
	    n == 0, "SCAN_REGIONS of an empty range: none");
	pdclient_regions_free(regs, n);
	left.epoch.version = 1;
	right.epoch.version = 1;
	ok(failed(pdclient_report_split(pd, &left, &right), EPROTO,
	    "EPOCH_NOT_MATCH"), "REPORT_SPLIT with an older version: refused");
	r.epoch.version = 1;
	ok(failed(pdclient_region_heartbeat(pd, &r, peer1, 0, 0, NULL, 0,
	    &op, NULL, NULL), EPROTO, "EPOCH_NOT_MATCH"),
	    "a heartbeat from before the split is stale");

	test_threads(pd);
	pdclient_close(pd);

	/* Failover: the first endpoint is dead, the second is pdd. */
	eps[0] = dead;
	eps[1] = argv[1];
	if ((pd2 = pdclient_open(eps, 2, 300)) == NULL) {
		diag("pdclient_open: %s", log_reason());
		return 1;
	}
	ok(strcmp(pdclient_endpoint(pd2), dead) == 0,
	    "a new client asks the first endpoint first");
	ok(call_ok(pdclient_tso(pd2, 1, &t)) &&
	    call_ok(pdclient_alloc_id(pd2, &ids[0])),
	    "a dead first endpoint: calls go to the second");
	ok(strcmp(pdclient_endpoint(pd2), argv[1]) == 0,
	    "the second endpoint, which answered, is asked first from now");
	ok(call_ok(pdclient_is_bootstrapped(pd2, &yes)) && yes == 1,
	    "and it answers");
	pdclient_close(pd2);
	eps[0] = dead;
	if ((pd2 = pdclient_open(eps, 1, 200)) == NULL) {
		diag("pdclient_open: %s", log_reason());
		return 1;
	}
	ok(failed(pdclient_tso(pd2, 1, &t), ETIMEDOUT, "pd: cannot connect to"),
	    "only a dead endpoint: ETIMEDOUT");
	pdclient_close(pd2);
	eps[1] = dead;
	if ((pd2 = pdclient_open(eps, 2, 200)) == NULL) {
		diag("pdclient_open: %s", log_reason());
		return 1;
	}
	ok(failed(pdclient_alloc_id(pd2, &t), ETIMEDOUT,
	    "none of 2 endpoints answered"), "two dead endpoints: ETIMEDOUT");
	pdclient_close(pd2);

	region_free(&r);
	region_free(&left);
	region_free(&right);
	free(dead);
	return done_testing();
}
