#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "client.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "pdclient.h"
#include "proto.h"
#include "region.h"
#include "regioncache.h"
#include "xmalloc.h"

#define BACKOFF_MIN_MS		2
#define BACKOFF_MAX_MS		500
/* One call to a store waits at most a quarter of the timeout (but 1 s at
 * least), so a dead leader leaves time to try the other peers. */
#define ATTEMPT_MIN_MS		1000
/* Nor less than this, even when the timeout is nearly spent. */
#define ATTEMPT_FLOOR_MS	200
#define SCAN_PAGE		256
#define PD_SCAN_PAGE		256
/* A batch line stays well inside PROTO_MAX_ARGS tokens and PROTO_MAX_LINE
 * bytes (tokens escape to at most 4 bytes a byte), and a message inside
 * the transport's limit. */
#define BATCH_LINE_KEYS		500
#define BATCH_LINE_BYTES	(192 * 1024)
#define BATCH_MSG_BYTES		(4 * 1024 * 1024)
#define REASON_LINE_MAX		300

struct store_addr {
	uint64_t id;
	char addr[256];
};

struct conn {
	char *addr;
	struct net_client *nc;
};

struct client {
	struct pdclient *pd;
	int timeout_ms;
	pthread_mutex_t mu;		/* the cache, stores and conns */
	struct regioncache *cache;
	struct store_addr *stores;
	size_t nstores;
	size_t capstores;
	struct conn *conns;		/* never freed before client_close */
	size_t nconns;
	size_t capconns;
};

/* Where one attempt goes: a copy of the region, its leader, the store. */
struct route {
	struct region region;
	uint64_t leader;		/* peer id */
	uint64_t store_id;
	struct net_client *nc;
};

struct retry {
	struct client *c;
	uint64_t deadline;
	int backoff;
	char last[512];			/* the last retryable failure */
};

/* One reply line after another of a reply message. */
struct reader {
	const uint8_t *msg;
	size_t len;
	size_t pos;
	struct proto_args *a;
	struct buf err;
	struct buf line;		/* the line as printable text */
};

#define READ_EOF	(-2)
#define READ_BAD	(-3)

enum batch_op { BATCH_GET, BATCH_PUT, BATCH_DELETE };

struct bitem {
	struct bytes key;
	size_t idx;
};

/* --- time and retries ---------------------------------------------------- */

static void
retry_init(struct retry *r, struct client *c)
{
	r->c = c;
	r->deadline = clock_mono_ms() + (uint64_t)c->timeout_ms;
	r->backoff = BACKOFF_MIN_MS;
	strlcpy(r->last, "no attempt made", sizeof(r->last));
}

/* A step of a long call succeeded: the timeout starts again. */
static void
retry_progress(struct retry *r)
{
	r->deadline = clock_mono_ms() + (uint64_t)r->c->timeout_ms;
	r->backoff = BACKOFF_MIN_MS;
}

static void retry_note(struct retry *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
retry_note(struct retry *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->last, sizeof(r->last), fmt, ap);
	va_end(ap);
}

/* Sleeps before the next attempt; -1 with log_reason() when time is up. */
static int
retry_wait(struct retry *r)
{
	uint64_t now = clock_mono_ms(), ms = (uint64_t)r->backoff;

	if (now >= r->deadline) {
		log_setreason("%s (gave up after %d ms of retries)", r->last,
		    r->c->timeout_ms);
		return -1;
	}
	if (ms > r->deadline - now)
		ms = r->deadline - now;
	clock_sleep_ms(ms);
	r->backoff = r->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    r->backoff * 2;
	return 0;
}

/* How long one call may wait: all that is left when it cannot be retried
 * (whole), else a share of the timeout. */
static int
attempt_timeout(const struct retry *r, int whole)
{
	uint64_t now = clock_mono_ms(), left, cap;

	left = r->deadline > now ? r->deadline - now : 0;
	cap = (uint64_t)r->c->timeout_ms / 4;
	if (cap < ATTEMPT_MIN_MS)
		cap = ATTEMPT_MIN_MS;
	if (!whole && left > cap)
		left = cap;
	if (left < ATTEMPT_FLOOR_MS)
		left = ATTEMPT_FLOOR_MS;
	return (int)left;
}

/* --- reasons ------------------------------------------------------------- */

/* Puts "prefix: " before the current log_reason(). */
static void reason_prefix(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static void
reason_prefix(const char *fmt, ...)
{
	char old[512], pre[256];
	va_list ap;

	strlcpy(old, log_reason(), sizeof(old));
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	log_setreason("%s: %s", pre, old);
}

static void
reason_unknown(void)
{
	char old[512];

	strlcpy(old, log_reason(), sizeof(old));
	log_setreason("%s: outcome unknown", old);
}

/* --- open and close ------------------------------------------------------ */

struct client *
client_open(char *const *endpoints, size_t n, int timeout_ms)
{
	struct client *c;
	struct pdclient *pd;

	if (timeout_ms <= 0)
		timeout_ms = CLIENT_DEFAULT_TIMEOUT_MS;
	if ((pd = pdclient_open(endpoints, n, timeout_ms)) == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->pd = pd;
	c->timeout_ms = timeout_ms;
	c->cache = regioncache_new();
	if (pthread_mutex_init(&c->mu, NULL) != 0)
		fatalx("client: cannot create a mutex");
	return c;
}

void
client_close(struct client *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nconns; i++) {
		net_client_close(c->conns[i].nc);
		free(c->conns[i].addr);
	}
	free(c->conns);
	free(c->stores);
	regioncache_free(c->cache);
	pdclient_close(c->pd);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

struct pdclient *
client_pd(struct client *c)
{
	return c->pd;
}

/* --- stores and connections ---------------------------------------------- */

/* With c->mu held. */
static struct store_addr *
store_find(struct client *c, uint64_t id)
{
	size_t i;

	for (i = 0; i < c->nstores; i++)
		if (c->stores[i].id == id)
			return &c->stores[i];
	return NULL;
}

/* With c->mu held. */
static void
store_set(struct client *c, uint64_t id, const char *addr)
{
	struct store_addr *s;

	if ((s = store_find(c, id)) == NULL) {
		if (c->nstores == c->capstores) {
			c->capstores = c->capstores ? c->capstores * 2 : 8;
			c->stores = xreallocarray(c->stores, c->capstores,
			    sizeof(c->stores[0]));
		}
		s = &c->stores[c->nstores++];
		s->id = id;
	}
	strlcpy(s->addr, addr, sizeof(s->addr));
}

/* With c->mu held. */
static void
store_forget(struct client *c, uint64_t id)
{
	struct store_addr *s;

	if ((s = store_find(c, id)) != NULL)
		*s = c->stores[--c->nstores];
}

/* The store's address, from the cache or PD.  -1 with log_reason(). */
static int
store_addr(struct client *c, uint64_t id, char *addr, size_t size)
{
	struct store_addr *s;
	struct pd_store st;

	pthread_mutex_lock(&c->mu);
	if ((s = store_find(c, id)) != NULL) {
		strlcpy(addr, s->addr, size);
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	pthread_mutex_unlock(&c->mu);
	memset(&st, 0, sizeof(st));
	if (pdclient_get_store(c->pd, id, &st) == -1) {
		reason_prefix("store %" PRIu64, id);
		return -1;
	}
	if (st.addr[0] == '\0') {
		log_setreason("pd: store %" PRIu64 " has no address", id);
		return -1;
	}
	pthread_mutex_lock(&c->mu);
	store_set(c, id, st.addr);
	pthread_mutex_unlock(&c->mu);
	strlcpy(addr, st.addr, size);
	return 0;
}

/* The net client of an address, opened on first use.  NULL on error. */
static struct net_client *
conn_get(struct client *c, const char *addr)
{
	struct net_client *nc;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->nconns; i++)
		if (strcmp(c->conns[i].addr, addr) == 0) {
			nc = c->conns[i].nc;
			pthread_mutex_unlock(&c->mu);
			return nc;
		}
	/* The dial runs in the background: this does not block. */
	if ((nc = net_client_open(addr, NET_DEFAULT_MAXMSG)) != NULL) {
		if (c->nconns == c->capconns) {
			c->capconns = c->capconns ? c->capconns * 2 : 8;
			c->conns = xreallocarray(c->conns, c->capconns,
			    sizeof(c->conns[0]));
		}
		c->conns[c->nconns].addr = xstrdup(addr);
		c->conns[c->nconns].nc = nc;
		c->nconns++;
	}
	pthread_mutex_unlock(&c->mu);
	return nc;
}

/* --- routing ------------------------------------------------------------- */

static void
route_init(struct route *rt)
{
	memset(rt, 0, sizeof(*rt));
	region_init(&rt->region);
}

static void
route_free(struct route *rt)
{
	region_free(&rt->region);
}

static int
is_voter(const struct region_peer *p)
{
	return p->role == REGION_VOTER || p->role == REGION_INCOMING_VOTER;
}

/* The voter after peer_id in the region's peer list, round the end. */
static uint64_t
next_voter(const struct region *r, uint64_t peer_id)
{
	size_t i, k, at = r->npeers;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].id == peer_id)
			at = i;
	for (k = 1; k <= r->npeers; k++) {
		i = (at + k) % r->npeers;
		if (is_voter(&r->peers[i]))
			return r->peers[i].id;
	}
	return 0;
}

/* Fills the store and connection of rt's leader (a voter if unknown). */
static int
route_resolve(struct client *c, struct route *rt)
{
	const struct region_peer *p;
	char addr[256];

	p = rt->leader ? region_peer_by_id(&rt->region, rt->leader) : NULL;
	if (p == NULL) {
		rt->leader = next_voter(&rt->region, 0);
		p = region_peer_by_id(&rt->region, rt->leader);
	}
	if (p == NULL) {
		log_setreason("region %" PRIu64 " has no voter",
		    rt->region.id);
		return -1;
	}
	rt->store_id = p->store_id;
	if (store_addr(c, rt->store_id, addr, sizeof(addr)) == -1)
		return -1;
	if ((rt->nc = conn_get(c, addr)) == NULL)
		return -1;
	return 0;
}

static void
cache_insert(struct client *c, const struct region *r, uint64_t leader)
{
	pthread_mutex_lock(&c->mu);
	regioncache_insert(c->cache, r, leader);
	pthread_mutex_unlock(&c->mu);
}

/*
 * The region holding the keys just below end (start < end <= region end;
 * an empty end is the end of the key space), from PD.  lo bounds the
 * regions listed: the caller's scan goes no lower.
 */
static int
pd_locate_prev(struct client *c, const void *end, size_t endlen,
    const void *lo, size_t lolen, struct route *rt)
{
	struct bytes e = { end, endlen };
	struct pd_region pr, *v;
	struct buf cur = BUF_INIT;
	const struct region *r;
	size_t n, i;
	int found = 0, rc = -1;

	if (endlen > 0) {
		/* Usually the region holding end itself. */
		region_init(&pr.region);
		if (pdclient_get_region(c->pd, end, endlen, &pr) == 0 &&
		    bytes_cmp(buf_bytes(&pr.region.start), e) < 0) {
			cache_insert(c, &pr.region, pr.leader_peer_id);
			region_copy(&rt->region, &pr.region);
			rt->leader = pr.leader_peer_id;
			region_free(&pr.region);
			return 0;
		}
		region_free(&pr.region);
	}
	buf_add(&cur, lo, lolen);
	while (!found) {
		if (pdclient_scan_regions(c->pd, cur.data, cur.len, end,
		    endlen, PD_SCAN_PAGE, &v, &n) == -1) {
			reason_prefix("regions before a key");
			break;
		}
		for (i = 0; i < n; i++) {
			r = &v[i].region;
			cache_insert(c, r, v[i].leader_peer_id);
			if (endlen == 0 ? r->end.len == 0 :
			    bytes_cmp(buf_bytes(&r->start), e) < 0 &&
			    (r->end.len == 0 ||
			    bytes_cmp(e, buf_bytes(&r->end)) <= 0)) {
				region_copy(&rt->region, r);
				rt->leader = v[i].leader_peer_id;
				found = 1;
			}
		}
		if (!found && (n == 0 || v[n - 1].region.end.len == 0 ||
		    bytes_cmp(buf_bytes(&v[n - 1].region.end), buf_bytes(&cur))
		    <= 0)) {
			log_setreason("pd: no region below the key");
			pdclient_regions_free(v, n);
			break;
		}
		if (!found) {
			buf_reset(&cur);
			buf_add(&cur, v[n - 1].region.end.data,
			    v[n - 1].region.end.len);
		}
		pdclient_regions_free(v, n);
	}
	if (found)
		rc = 0;
	buf_free(&cur);
	return rc;
}

/*
 * The region holding key, or with prev the region holding the keys just
 * below it (lo: see pd_locate_prev), and its leader, into rt.  -1 with
 * log_reason() (PD unreachable: the caller retries).
 */
static int
locate_region(struct client *c, const void *key, size_t len, int prev,
    const void *lo, size_t lolen, struct route *rt)
{
	struct pd_region pr;
	int hit;

	pthread_mutex_lock(&c->mu);
	if (prev)
		hit = regioncache_lookup_prev(c->cache, key, len, &rt->region,
		    &rt->leader);
	else
		hit = regioncache_lookup(c->cache, key, len, &rt->region,
		    &rt->leader);
	pthread_mutex_unlock(&c->mu);
	if (!hit && prev) {
		if (pd_locate_prev(c, key, len, lo, lolen, rt) == -1)
			return -1;
	} else if (!hit) {
		region_init(&pr.region);
		if (pdclient_get_region(c->pd, key, len, &pr) == -1) {
			reason_prefix("region of a key");
			region_free(&pr.region);
			return -1;
		}
		if (!region_contains(&pr.region, key, len)) {
			log_setreason("pd: region %" PRIu64 " does not hold "
			    "the key", pr.region.id);
			region_free(&pr.region);
			return -1;
		}
		/* Used even if the cache refuses it as stale: the store
		 * will say which region is current. */
		cache_insert(c, &pr.region, pr.leader_peer_id);
		region_copy(&rt->region, &pr.region);
		rt->leader = pr.leader_peer_id;
		region_free(&pr.region);
	}
	return 0;
}

/* Where to send a command for key: see locate_region. */
static int
locate(struct client *c, const void *key, size_t len, int prev,
    const void *lo, size_t lolen, struct route *rt)
{
	if (locate_region(c, key, len, prev, lo, lolen, rt) == -1)
		return -1;
	return route_resolve(c, rt);
}

int
client_locate(struct client *c, const void *key, size_t keylen,
    struct region *region)
{
	struct route rt;
	struct retry r;
	int rc;

	retry_init(&r, c);
	route_init(&rt);
	while ((rc = locate_region(c, key, keylen, 0, NULL, 0, &rt)) == -1) {
		retry_note(&r, "%s", log_reason());
		if (retry_wait(&r) == -1)
			break;
	}
	if (rc == 0)
		region_copy(region, &rt.region);
	route_free(&rt);
	return rc;
}

int
client_timeout_ms(const struct client *c)
{
	return c->timeout_ms;
}

static void
add_ctx(struct buf *b, const struct region *r)
{
	if (b->len > 0 && b->data[b->len - 1] != '\n')
		buf_addc(b, ' ');
	buf_printf(b, "%" PRIu64 ":%" PRIu64 ":%" PRIu64, r->id,
	    r->epoch.conf_ver, r->epoch.version);
}

/* No reply from the leader's store: try its next peer; ask PD for the
 * store's address again. */
static void
on_transport_error(struct client *c, const struct route *rt)
{
	pthread_mutex_lock(&c->mu);
	store_forget(c, rt->store_id);
	regioncache_set_leader(c->cache, rt->region.id,
	    next_voter(&rt->region, rt->leader));
	pthread_mutex_unlock(&c->mu);
}

/* --- replies ------------------------------------------------------------- */

static void
reader_init(struct reader *rd, const struct buf *reply)
{
	rd->msg = reply->data;
	rd->len = reply->len;
	rd->pos = 0;
	rd->a = xmalloc(sizeof(*rd->a));
	proto_args_init(rd->a);
	buf_init(&rd->err);
	buf_init(&rd->line);
}

static void
reader_reset(struct reader *rd, const struct buf *reply)
{
	rd->msg = reply->data;
	rd->len = reply->len;
	rd->pos = 0;
}

static void
reader_free(struct reader *rd)
{
	proto_args_free(rd->a);
	free(rd->a);
	buf_free(&rd->err);
	buf_free(&rd->line);
}

/* Words whose fields the client reads; other lines are taken as text. */
static int
word_has_fields(int w)
{
	switch (w) {
	case PROTO_OK:
	case PROTO_VALUE:
	case PROTO_NOT_FOUND:
	case PROTO_END:
	case PROTO_NOT_LEADER:
	case PROTO_EPOCH_NOT_MATCH:
	case PROTO_KEY_NOT_IN_REGION:
	case PROTO_REGION_NOT_FOUND:
		return 1;
	}
	return 0;
}

/*
 * The next reply line: returns its status word (-1: not a status word),
 * with rd->a holding its tokens for words the client reads, and rd->line
 * its text; READ_EOF past the last line, READ_BAD for a malformed one,
 * both with log_reason().
 */
static int
reader_next(struct reader *rd)
{
	size_t start, eol, i;
	int w;

	rd->a->argc = 0;
	while (rd->pos < rd->len && (rd->msg[rd->pos] == ' ' ||
	    rd->msg[rd->pos] == '\t' || rd->msg[rd->pos] == '\r' ||
	    rd->msg[rd->pos] == '\n'))
		rd->pos++;
	if (rd->pos == rd->len) {
		log_setreason("the reply has fewer lines than the request");
		return READ_EOF;
	}
	start = rd->pos;
	for (eol = start; eol < rd->len && rd->msg[eol] != '\n'; eol++)
		;
	buf_reset(&rd->line);
	for (i = start; i < eol && i - start < REASON_LINE_MAX; i++)
		buf_addc(&rd->line, rd->msg[i] >= 0x20 && rd->msg[i] < 0x7f ?
		    rd->msg[i] : '?');
	w = proto_word_parse(rd->msg + start, eol - start);
	if (w >= 0 && word_has_fields(w)) {
		buf_reset(&rd->err);
		if (proto_parse(rd->msg, rd->len, &rd->pos, rd->a,
		    &rd->err) != 1) {
			log_setreason("malformed reply '%s': %s",
			    (const char *)rd->line.data,
			    rd->err.len ? (const char *)rd->err.data : "empty");
			return READ_BAD;
		}
		return w;
	}
	rd->pos = eol < rd->len ? eol + 1 : eol;
	return w;
}

static int
is_region_error(int w)
{
	switch (w) {
	case PROTO_NOT_LEADER:
	case PROTO_EPOCH_NOT_MATCH:
	case PROTO_KEY_NOT_IN_REGION:
	case PROTO_REGION_NOT_FOUND:
	case PROTO_SERVER_IS_BUSY:
	case PROTO_STALE_COMMAND:
		return 1;
	}
	return 0;
}

/* Acts on a region error: fixes the cache so the retry goes elsewhere. */
static void
on_region_error(struct client *c, const struct route *rt, int w,
    const struct reader *rd, struct retry *r)
{
	const struct proto_args *a = rd->a;
	const struct region_peer *p;
	struct region theirs;
	uint64_t store_id;
	char addr[256];

	retry_note(r, "region %" PRIu64 " on store %" PRIu64 ": %s",
	    rt->region.id, rt->store_id, (const char *)rd->line.data);
	switch (w) {
	case PROTO_NOT_LEADER:
		if (a->argc < 3 || proto_bytes_u64(a->argv[2], &store_id) == -1)
			store_id = 0;
		pthread_mutex_lock(&c->mu);
		p = store_id ? region_peer_on_store(&rt->region, store_id) :
		    NULL;
		if (p != NULL) {
			if (a->argc >= 4 && a->argv[3].len > 0 &&
			    a->argv[3].len < sizeof(addr)) {
				memcpy(addr, a->argv[3].ptr, a->argv[3].len);
				addr[a->argv[3].len] = '\0';
				store_set(c, store_id, addr);
			}
			if (!regioncache_set_leader(c->cache, rt->region.id,
			    p->id))
				regioncache_insert(c->cache, &rt->region,
				    p->id);
		} else if (store_id != 0) {
			/* A leader we do not know of: membership changed. */
			regioncache_remove(c->cache, rt->region.id);
		} else {
			regioncache_set_leader(c->cache, rt->region.id,
			    next_voter(&rt->region, rt->leader));
		}
		pthread_mutex_unlock(&c->mu);
		break;
	case PROTO_EPOCH_NOT_MATCH:
		region_init(&theirs);
		pthread_mutex_lock(&c->mu);
		if (a->argc < 1 + REGION_WIRE_TOKENS ||
		    region_parse(a->argv + 1, REGION_WIRE_TOKENS,
		    &theirs) == -1 ||
		    region_epoch_eq(theirs.epoch, rt->region.epoch)) {
			regioncache_remove(c->cache, rt->region.id);
		} else if (!region_epoch_stale(theirs.epoch,
		    rt->region.epoch)) {
			/* The store knows better (a split, a merge). */
			regioncache_remove(c->cache, rt->region.id);
			p = region_peer_on_store(&theirs, rt->store_id);
			regioncache_insert(c->cache, &theirs, p ? p->id : 0);
		}
		/* else the store lags behind our copy: wait for it. */
		pthread_mutex_unlock(&c->mu);
		region_free(&theirs);
		break;
	case PROTO_KEY_NOT_IN_REGION:
	case PROTO_REGION_NOT_FOUND:
		pthread_mutex_lock(&c->mu);
		regioncache_remove(c->cache, rt->region.id);
		pthread_mutex_unlock(&c->mu);
		break;
	default:
		/* SERVER_IS_BUSY, STALE_COMMAND: the wait is the cure. */
		break;
	}
}

static int
bad_reply(const struct route *rt, const struct reader *rd)
{
	log_setreason("store %" PRIu64 ": region %" PRIu64 ": %s",
	    rt->store_id, rt->region.id, (const char *)rd->line.data);
	return -1;
}

/*
 * Sends msg to rt's store.  -1 on a transport error, noted in r: the
 * store may have run the commands.  NET_NOT_SENT when they surely never
 * left (no connection to the store at all), so even a write can go again.
 */
static int
store_call(struct route *rt, const struct buf *msg, struct buf *reply,
    struct retry *r, int whole)
{
	int rc;

	rc = net_client_call(rt->nc, msg->data, msg->len, reply,
	    attempt_timeout(r, whole));
	if (rc != 0)
		retry_note(r, "store %" PRIu64 ": %s", rt->store_id,
		    log_reason());
	return rc;
}

/* --- single-key commands ------------------------------------------------- */

/*
 * Sends "cmd ctx REST" to the leader of key's region until the reply is
 * not a region error, and returns its status word, error words included,
 * with its tokens in rd.  flags as for client_call: CLIENT_CALL_UNSAFE,
 * the command must not run twice (a CAS, a split), so a lost reply or
 * STALE_COMMAND gives CLIENT_UNKNOWN; CLIENT_CALL_REGION_ERRORS, a
 * region error fixes the cache and gives CLIENT_REGION_ERROR.  A reply
 * that is no status word gives -1.  rt (route_init'ed) is where the
 * reply came from; rd must be freed.
 */
static int
region_call(struct client *c, const char *cmd, const void *key, size_t len,
    const struct buf *rest, int flags, struct route *rt, struct reader *rd,
    struct buf *reply)
{
	struct buf msg = BUF_INIT;
	struct retry r;
	int w, unsafe = flags & CLIENT_CALL_UNSAFE;

	retry_init(&r, c);
	reader_init(rd, reply);
	for (;; buf_reset(&msg)) {
		if (locate(c, key, len, 0, NULL, 0, rt) == -1) {
			retry_note(&r, "%s", log_reason());
			goto again;
		}
		buf_addstr(&msg, cmd);
		add_ctx(&msg, &rt->region);
		buf_addc(&msg, ' ');
		buf_add(&msg, rest->data, rest->len);
		buf_addc(&msg, '\n');
		if ((w = store_call(rt, &msg, reply, &r, unsafe)) != 0) {
			if (unsafe && w != NET_NOT_SENT) {
				log_setreason("%s: outcome unknown", r.last);
				buf_free(&msg);
				return CLIENT_UNKNOWN;
			}
			on_transport_error(c, rt);
			goto again;
		}
		reader_reset(rd, reply);
		w = reader_next(rd);
		if (w == PROTO_STALE_COMMAND && unsafe) {
			log_setreason("store %" PRIu64 ": region %" PRIu64
			    ": %s: outcome unknown", rt->store_id,
			    rt->region.id, (const char *)rd->line.data);
			buf_free(&msg);
			return CLIENT_UNKNOWN;
		}
		if (is_region_error(w)) {
			on_region_error(c, rt, w, rd, &r);
			if (flags & CLIENT_CALL_REGION_ERRORS) {
				log_setreason("%s", r.last);
				buf_free(&msg);
				return CLIENT_REGION_ERROR;
			}
			goto again;
		}
		buf_free(&msg);
		if (w == READ_EOF || w == READ_BAD) {
			reason_prefix("store %" PRIu64, rt->store_id);
			return -1;
		}
		if (w < 0)
			return bad_reply(rt, rd);
		return w;
again:
		if (retry_wait(&r) == -1) {
			buf_free(&msg);
			return -1;
		}
	}
}

/* region_call for the raw commands, whose error replies are failures. */
static int
keyed_call(struct client *c, const char *cmd, const void *key, size_t len,
    const struct buf *rest, int unsafe, struct route *rt,
    struct reader *rd, struct buf *reply)
{
	int w;

	w = region_call(c, cmd, key, len, rest,
	    unsafe ? CLIENT_CALL_UNSAFE : 0, rt, rd, reply);
	if (w >= 0 && proto_word_is_error(w))
		return bad_reply(rt, rd);
	return w;
}

int
client_call(struct client *c, const char *cmd, const void *route_key,
    size_t keylen, const struct buf *rest, int flags, struct buf *reply,
    struct region *region)
{
	struct route rt;
	struct reader rd;
	int w;

	route_init(&rt);
	w = region_call(c, cmd, route_key, keylen, rest, flags, &rt, &rd,
	    reply);
	if (w >= 0) {
		/* The caller acts on the word; the line is its reason. */
		if (proto_word_is_error(w))
			bad_reply(&rt, &rd);
		if (region != NULL)
			region_copy(region, &rt.region);
	}
	reader_free(&rd);
	route_free(&rt);
	return w;
}

/* Runs a single-key command; see keyed_call.  Frees what it used. */
struct keyed {
	struct route rt;
	struct reader rd;
	struct buf reply;
	struct buf rest;
};

static void
keyed_init(struct keyed *k)
{
	route_init(&k->rt);
	buf_init(&k->reply);
	buf_init(&k->rest);
}

static void
keyed_free(struct keyed *k)
{
	route_free(&k->rt);
	reader_free(&k->rd);
	buf_free(&k->reply);
	buf_free(&k->rest);
}

int
client_get(struct client *c, const void *key, size_t keylen,
    struct buf *value)
{
	struct keyed k;
	int w, rc;

	keyed_init(&k);
	proto_add_token(&k.rest, key, keylen);
	w = keyed_call(c, "RAW_GET", key, keylen, &k.rest, 0, &k.rt, &k.rd,
	    &k.reply);
	if (w == PROTO_VALUE && k.rd.a->argc >= 2) {
		buf_reset(value);
		buf_add(value, k.rd.a->argv[1].ptr, k.rd.a->argv[1].len);
		rc = 1;
	} else if (w == PROTO_NOT_FOUND) {
		rc = 0;
	} else {
		rc = w < 0 ? w : bad_reply(&k.rt, &k.rd);
	}
	keyed_free(&k);
	return rc;
}

/* A write whose reply is a bare OK. */
static int
write_ok(struct client *c, const char *cmd, const void *key, size_t keylen,
    struct keyed *k)
{
	int w, rc;

	/* Not resent after a lost reply: the first copy may still apply,
	 * after other clients' writes. */
	w = keyed_call(c, cmd, key, keylen, &k->rest, 1, &k->rt, &k->rd,
	    &k->reply);
	if (w == PROTO_OK)
		rc = 0;
	else
		rc = w < 0 ? -1 : bad_reply(&k->rt, &k->rd);
	keyed_free(k);
	return rc;
}

int
client_put(struct client *c, const void *key, size_t keylen,
    const void *value, size_t valuelen, uint64_t ttl)
{
	struct keyed k;

	keyed_init(&k);
	proto_add_token(&k.rest, key, keylen);
	proto_add_token(&k.rest, value, valuelen);
	if (ttl)
		proto_add_u64(&k.rest, ttl);
	return write_ok(c, "RAW_PUT", key, keylen, &k);
}

int
client_delete(struct client *c, const void *key, size_t keylen)
{
	struct keyed k;

	keyed_init(&k);
	proto_add_token(&k.rest, key, keylen);
	return write_ok(c, "RAW_DELETE", key, keylen, &k);
}

int
client_cas(struct client *c, const void *key, size_t keylen,
    const struct client_cas *cas, int *swapped, int *prev_found,
    struct buf *prev)
{
	const struct proto_args *a;
	struct keyed k;
	int w, rc = -1;

	keyed_init(&k);
	proto_add_token(&k.rest, key, keylen);
	if (cas->expect_absent) {
		proto_add_str(&k.rest, "ABSENT");
	} else {
		proto_add_str(&k.rest, "EQ");
		proto_add_token(&k.rest, cas->expect.ptr, cas->expect.len);
	}
	if (cas->del) {
		proto_add_str(&k.rest, "DELETE");
	} else {
		proto_add_str(&k.rest, "PUT");
		proto_add_token(&k.rest, cas->value.ptr, cas->value.len);
		if (cas->ttl)
			proto_add_u64(&k.rest, cas->ttl);
	}
	w = keyed_call(c, "RAW_CAS", key, keylen, &k.rest, 1, &k.rt, &k.rd,
	    &k.reply);
	a = k.rd.a;
	if (w < 0) {
		rc = w;
	} else if (w != PROTO_OK || a->argc < 3 ||
	    (!bytes_eq(a->argv[1], bytes_str("SWAPPED")) &&
	    !bytes_eq(a->argv[1], bytes_str("FAILED"))) ||
	    (!bytes_eq(a->argv[2], bytes_str("ABSENT")) &&
	    !(bytes_eq(a->argv[2], bytes_str("VALUE")) && a->argc >= 4))) {
		/* The store answered, but not in a way we can read: the
		 * swap may have happened. */
		bad_reply(&k.rt, &k.rd);
		reason_unknown();
		rc = CLIENT_UNKNOWN;
	} else {
		*swapped = bytes_eq(a->argv[1], bytes_str("SWAPPED"));
		*prev_found = bytes_eq(a->argv[2], bytes_str("VALUE"));
		if (prev != NULL) {
			buf_reset(prev);
			if (*prev_found)
				buf_add(prev, a->argv[3].ptr, a->argv[3].len);
		}
		rc = 0;
	}
	keyed_free(&k);
	return rc;
}

int
client_get_ttl(struct client *c, const void *key, size_t keylen,
    uint64_t *ttl)
{
	struct keyed k;
	int w, rc;

	keyed_init(&k);
	proto_add_token(&k.rest, key, keylen);
	w = keyed_call(c, "RAW_GET_TTL", key, keylen, &k.rest, 0, &k.rt,
	    &k.rd, &k.reply);
	if (w == PROTO_VALUE && k.rd.a->argc >= 2 &&
	    proto_bytes_u64(k.rd.a->argv[1], ttl) == 0)
		rc = 1;
	else if (w == PROTO_NOT_FOUND)
		rc = 0;
	else
		rc = w < 0 ? -1 : bad_reply(&k.rt, &k.rd);
	keyed_free(&k);
	return rc;
}

int
client_split_region(struct client *c, const void *key, size_t keylen,
    struct region *left, struct region *right)
{
	const struct region_peer *p;
	struct region l, r;
	struct keyed k;
	int w, rc = -1;

	keyed_init(&k);
	region_init(&l);
	region_init(&r);
	proto_add_token(&k.rest, key, keylen);
	w = keyed_call(c, "SPLIT_REGION", key, keylen, &k.rest, 1, &k.rt,
	    &k.rd, &k.reply);
	if (w < 0) {
		rc = w;
	} else if (w != PROTO_OK || k.rd.a->argc < 1 + 2 * REGION_WIRE_TOKENS ||
	    region_parse(k.rd.a->argv + 1, REGION_WIRE_TOKENS, &l) == -1 ||
	    region_parse(k.rd.a->argv + 1 + REGION_WIRE_TOKENS,
	    REGION_WIRE_TOKENS, &r) == -1) {
		bad_reply(&k.rt, &k.rd);
		reason_unknown();
		rc = CLIENT_UNKNOWN;
	} else {
		/* Both halves start with the old leader's store leading. */
		pthread_mutex_lock(&c->mu);
		regioncache_remove(c->cache, k.rt.region.id);
		p = region_peer_on_store(&l, k.rt.store_id);
		regioncache_insert(c->cache, &l, p ? p->id : 0);
		p = region_peer_on_store(&r, k.rt.store_id);
		regioncache_insert(c->cache, &r, p ? p->id : 0);
		pthread_mutex_unlock(&c->mu);
		if (left != NULL)
			region_copy(left, &l);
		if (right != NULL)
			region_copy(right, &r);
		rc = 0;
	}
	region_free(&l);
	region_free(&r);
	keyed_free(&k);
	return rc;
}

int
client_transfer_leader(struct client *c, uint64_t region_id,
    uint64_t store_id)
{
	const struct region_peer *target;
	struct buf msg = BUF_INIT, reply = BUF_INIT;
	struct pd_region pr;
	struct reader rd;
	struct route rt;
	struct retry r;
	int hit, w, rc = -1;

	retry_init(&r, c);
	route_init(&rt);
	reader_init(&rd, &reply);
	for (;;) {
		pthread_mutex_lock(&c->mu);
		hit = regioncache_get(c->cache, region_id, &rt.region,
		    &rt.leader);
		pthread_mutex_unlock(&c->mu);
		if (!hit) {
			region_init(&pr.region);
			if (pdclient_get_region_by_id(c->pd, region_id,
			    &pr) == -1) {
				reason_prefix("region %" PRIu64, region_id);
				region_free(&pr.region);
				break;
			}
			cache_insert(c, &pr.region, pr.leader_peer_id);
			region_copy(&rt.region, &pr.region);
			rt.leader = pr.leader_peer_id;
			region_free(&pr.region);
		}
		target = region_peer_on_store(&rt.region, store_id);
		if (target == NULL) {
			log_setreason("region %" PRIu64 " has no peer on store "
			    "%" PRIu64, region_id, store_id);
			break;
		}
		if (route_resolve(c, &rt) == -1) {
			retry_note(&r, "%s", log_reason());
			goto again;
		}
		buf_reset(&msg);
		buf_printf(&msg, "TRANSFER_LEADER %" PRIu64 " %" PRIu64 "\n",
		    region_id, target->id);
		if (store_call(&rt, &msg, &reply, &r, 0) != 0) {
			on_transport_error(c, &rt);
			goto again;
		}
		reader_reset(&rd, &reply);
		w = reader_next(&rd);
		if (w == PROTO_OK) {
			rc = 0;
			break;
		}
		if (is_region_error(w)) {
			on_region_error(c, &rt, w, &rd, &r);
			goto again;
		}
		if (w == READ_EOF || w == READ_BAD)
			reason_prefix("store %" PRIu64, rt.store_id);
		else
			bad_reply(&rt, &rd);
		break;
again:
		if (retry_wait(&r) == -1)
			break;
	}
	reader_free(&rd);
	route_free(&rt);
	buf_free(&msg);
	buf_free(&reply);
	return rc;
}

/* --- batches ------------------------------------------------------------- */

static int
bitem_cmp(const void *x, const void *y)
{
	const struct bitem *a = x, *b = y;
	int c = bytes_cmp(a->key, b->key);

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

struct batch {
	struct client *c;
	enum batch_op op;
	const struct bytes *values;
	uint64_t ttl;
	int *found;
	struct buf *out;
	struct bitem *retry;		/* items to send again */
	size_t nretry;
	struct retry r;
};

/* Adds one line for items [i, j) (all of one region) to msg. */
static void
batch_line(struct batch *b, const struct route *rt, const struct bitem *it,
    size_t i, size_t j, struct buf *msg)
{
	static const char *const cmds[] = { "RAW_BATCH_GET", "RAW_BATCH_PUT",
	    "RAW_BATCH_DELETE" };
	size_t k;

	buf_addstr(msg, cmds[b->op]);
	add_ctx(msg, &rt->region);
	if (b->op == BATCH_PUT)
		proto_add_u64(msg, b->ttl);
	for (k = i; k < j; k++) {
		proto_add_token(msg, it[k].key.ptr, it[k].key.len);
		if (b->op == BATCH_PUT)
			proto_add_token(msg, b->values[it[k].idx].ptr,
			    b->values[it[k].idx].len);
	}
	buf_addc(msg, '\n');
}

/* Where the line of items from i on ends. */
static size_t
batch_line_end(const struct batch *b, const struct bitem *it, size_t i,
    size_t j)
{
	size_t k, bytes = 0, max;

	max = b->op == BATCH_PUT ? BATCH_LINE_KEYS : 2 * BATCH_LINE_KEYS;
	for (k = i; k < j && k - i < max; k++) {
		bytes += it[k].key.len;
		if (b->op == BATCH_PUT)
			bytes += b->values[it[k].idx].len;
		if (k > i && bytes > BATCH_LINE_BYTES)
			break;
	}
	return k;
}

/* A VALUE k v of a batch get: marks every item of [i, j) with key k. */
static void
batch_found(struct batch *b, const struct bitem *it, size_t i, size_t j,
    struct bytes k, struct bytes v)
{
	size_t lo = i, hi = j, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (bytes_cmp(it[mid].key, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < j && bytes_eq(it[lo].key, k); lo++) {
		b->found[it[lo].idx] = 1;
		buf_reset(&b->out[it[lo].idx]);
		buf_add(&b->out[it[lo].idx], v.ptr, v.len);
	}
}

static void
batch_requeue(struct batch *b, const struct bitem *it, size_t i, size_t j)
{
	memcpy(b->retry + b->nretry, it + i, (j - i) * sizeof(*it));
	b->nretry += j - i;
}

/*
 * Sends items [i, j), all in rt's region, as one message (more when they
 * are many megabytes).  Items that met a region error or a transport
 * error go to b->retry.  -1 with log_reason() on an error reply.
 */
static int
batch_send(struct batch *b, struct route *rt, const struct bitem *it,
    size_t i, size_t j)
{
	struct buf msg = BUF_INIT, reply = BUF_INIT;
	struct reader rd;
	size_t first, k, e, ends[64], nlines;
	int w, rc = 0;

	reader_init(&rd, &reply);
	while (i < j && rc == 0) {
		/* One message: lines of items from i up to ends[]. */
		buf_reset(&msg);
		first = i;
		for (nlines = 0; i < j && nlines < 64 &&
		    (nlines == 0 || msg.len < BATCH_MSG_BYTES); nlines++) {
			e = batch_line_end(b, it, i, j);
			batch_line(b, rt, it, i, e, &msg);
			ends[nlines] = e;
			i = e;
		}
		if ((w = store_call(rt, &msg, &reply, &b->r, 0)) != 0) {
			on_transport_error(b->c, rt);
			if (b->op != BATCH_GET && w != NET_NOT_SENT) {
				/* Writes are not resent: see write_ok. */
				log_setreason("%s: outcome unknown",
				    b->r.last);
				rc = CLIENT_UNKNOWN;
				break;
			}
			batch_requeue(b, it, first, j);
			break;
		}
		reader_reset(&rd, &reply);
		for (k = 0, e = first; k < nlines && rc == 0; k++) {
			w = reader_next(&rd);
			while (b->op == BATCH_GET && w == PROTO_VALUE) {
				if (rd.a->argc < 3) {
					rc = bad_reply(rt, &rd);
					break;
				}
				batch_found(b, it, e, ends[k], rd.a->argv[1],
				    rd.a->argv[2]);
				w = reader_next(&rd);
			}
			if (rc != 0)
				break;
			if (w == (b->op == BATCH_GET ? PROTO_END : PROTO_OK)) {
				e = ends[k];
				continue;
			}
			if (is_region_error(w)) {
				on_region_error(b->c, rt, w, &rd, &b->r);
				batch_requeue(b, it, e, ends[k]);
				e = ends[k];
				continue;
			}
			if (w == READ_EOF || w == READ_BAD) {
				reason_prefix("store %" PRIu64,
				    rt->store_id);
				rc = -1;
			} else {
				rc = bad_reply(rt, &rd);
			}
		}
	}
	reader_free(&rd);
	buf_free(&msg);
	buf_free(&reply);
	return rc;
}

static int
batch_run(struct batch *b, const struct bytes *keys, size_t n)
{
	struct bitem *it, *tmp;
	struct route rt;
	size_t i, j, nit;
	int rc = 0;

	if (n == 0)
		return 0;
	it = xreallocarray(NULL, n, sizeof(*it));
	b->retry = xreallocarray(NULL, n, sizeof(*it));
	for (i = 0; i < n; i++) {
		it[i].key = keys[i];
		it[i].idx = i;
	}
	/* Sorted, so each region's keys are one run. */
	qsort(it, n, sizeof(*it), bitem_cmp);
	nit = n;
	retry_init(&b->r, b->c);
	route_init(&rt);
	while (nit > 0) {
		b->nretry = 0;
		for (i = 0; i < nit; i = j) {
			if (locate(b->c, it[i].key.ptr, it[i].key.len, 0,
			    NULL, 0, &rt) == -1) {
				retry_note(&b->r, "%s", log_reason());
				batch_requeue(b, it, i, nit);
				break;
			}
			for (j = i + 1; j < nit && region_contains(&rt.region,
			    it[j].key.ptr, it[j].key.len); j++)
				;
			if ((rc = batch_send(b, &rt, it, i, j)) != 0)
				goto out;
		}
		tmp = it;
		it = b->retry;
		b->retry = tmp;
		if (b->nretry > 0 && b->nretry < nit)
			retry_progress(&b->r);
		nit = b->nretry;
		if (nit > 0 && (rc = retry_wait(&b->r)) == -1)
			goto out;
	}
out:
	route_free(&rt);
	free(it);
	free(b->retry);
	return rc;
}

int
client_batch_get(struct client *c, const struct bytes *keys, size_t n,
    int *found, struct buf *values)
{
	struct batch b;
	size_t i;

	memset(&b, 0, sizeof(b));
	b.c = c;
	b.op = BATCH_GET;
	b.found = found;
	b.out = values;
	for (i = 0; i < n; i++) {
		found[i] = 0;
		buf_reset(&values[i]);
	}
	return batch_run(&b, keys, n);
}

int
client_batch_put(struct client *c, const struct bytes *keys,
    const struct bytes *values, size_t n, uint64_t ttl)
{
	struct batch b;

	memset(&b, 0, sizeof(b));
	b.c = c;
	b.op = BATCH_PUT;
	b.values = values;
	b.ttl = ttl;
	return batch_run(&b, keys, n);
}

int
client_batch_delete(struct client *c, const struct bytes *keys, size_t n)
{
	struct batch b;

	memset(&b, 0, sizeof(b));
	b.c = c;
	b.op = BATCH_DELETE;
	return batch_run(&b, keys, n);
}

/* --- ranges -------------------------------------------------------------- */

struct pairs {
	struct client_pair *v;
	size_t n;
	size_t cap;
};

static void
pairs_add(struct pairs *p, struct bytes k, struct bytes v)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xreallocarray(p->v, p->cap, sizeof(p->v[0]));
	}
	buf_init(&p->v[p->n].key);
	buf_init(&p->v[p->n].value);
	buf_add(&p->v[p->n].key, k.ptr, k.len);
	buf_add(&p->v[p->n].value, v.ptr, v.len);
	p->n++;
}

static void
pairs_truncate(struct pairs *p, size_t n)
{
	while (p->n > n) {
		p->n--;
		buf_free(&p->v[p->n].key);
		buf_free(&p->v[p->n].value);
	}
}

void
client_pairs_free(struct client_pair *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		buf_free(&v[i].key);
		buf_free(&v[i].value);
	}
	free(v);
}

/* Whether the region reaches end (empty: the end of the key space). */
static int
region_reaches(const struct region *r, struct bytes end)
{
	if (r->end.len == 0)
		return 1;
	return end.len > 0 && bytes_cmp(end, buf_bytes(&r->end)) <= 0;
}

/* A bad range: -1 with log_reason(); empty ranges are fine. */
static int
check_range(struct bytes start, struct bytes end)
{
	if (end.len > 0 && bytes_cmp(start, end) > 0) {
		log_setreason("the range starts after its end");
		return -1;
	}
	return 0;
}

/* Reads the VALUE lines of a scan reply into out; returns the closing
 * word (END, or an error) and how many pairs it read. */
static int
scan_reply(struct reader *rd, int key_only, struct pairs *out, size_t *got)
{
	static const uint8_t none[1];
	struct bytes empty = { none, 0 };
	int w;

	*got = 0;
	while ((w = reader_next(rd)) == PROTO_VALUE) {
		if (rd->a->argc < (key_only ? 2u : 3u))
			return READ_BAD;
		pairs_add(out, rd->a->argv[1], key_only ? empty :
		    rd->a->argv[2]);
		(*got)++;
	}
	return w;
}

/* One scan over the regions of [start, end), upwards or downwards. */
static int
scan_run(struct client *c, struct bytes start, struct bytes end,
    size_t limit, int flags, struct pairs *out)
{
	struct buf cur = BUF_INIT, msg = BUF_INIT, reply = BUF_INIT;
	int rev = flags & CLIENT_REVERSE, key_only = flags & CLIENT_KEY_ONLY;
	struct bytes lo, hi;
	struct reader rd;
	struct route rt;
	struct retry r;
	size_t page, got, before;
	int w, rc = -1, last;

	retry_init(&r, c);
	route_init(&rt);
	reader_init(&rd, &reply);
	/* cur: the next key up, or the end (exclusive) going down. */
	if (rev)
		buf_add(&cur, end.ptr, end.len);
	else
		buf_add(&cur, start.ptr, start.len);
	for (;;) {
		if (limit && out->n >= limit)
			break;
		if (rev ? cur.len > 0 &&
		    bytes_cmp(buf_bytes(&cur), start) <= 0 :
		    end.len > 0 && bytes_cmp(buf_bytes(&cur), end) >= 0)
			break;
		if (locate(c, cur.data, cur.len, rev, start.ptr, start.len,
		    &rt) == -1) {
			retry_note(&r, "%s", log_reason());
			goto again;
		}
		if (rev) {
			last = bytes_cmp(buf_bytes(&rt.region.start),
			    start) <= 0;
			lo = last ? start : buf_bytes(&rt.region.start);
			hi = buf_bytes(&cur);
		} else {
			last = region_reaches(&rt.region, end);
			lo = buf_bytes(&cur);
			hi = last ? end : buf_bytes(&rt.region.end);
		}
		page = SCAN_PAGE;
		if (limit && limit - out->n < page)
			page = limit - out->n;
		buf_reset(&msg);
		buf_addstr(&msg, "RAW_SCAN");
		add_ctx(&msg, &rt.region);
		proto_add_token(&msg, lo.ptr, lo.len);
		proto_add_token(&msg, hi.ptr, hi.len);
		proto_add_u64(&msg, page);
		if (key_only)
			proto_add_str(&msg, "KEY_ONLY");
		if (rev)
			proto_add_str(&msg, "REVERSE");
		buf_addc(&msg, '\n');
		if (store_call(&rt, &msg, &reply, &r, 0) != 0) {
			on_transport_error(c, &rt);
			goto again;
		}
		reader_reset(&rd, &reply);
		before = out->n;
		w = scan_reply(&rd, key_only, out, &got);
		if (w == PROTO_END) {
			retry_progress(&r);
			if (got >= page && got > 0) {
				/* A full page: more may follow here. */
				buf_reset(&cur);
				buf_add(&cur, out->v[out->n - 1].key.data,
				    out->v[out->n - 1].key.len);
				if (!rev)
					buf_addc(&cur, '\0');
				else if (cur.len == 0)
					break;
				continue;
			}
			if (last)
				break;
			buf_reset(&cur);
			if (rev)
				buf_add(&cur, rt.region.start.data,
				    rt.region.start.len);
			else
				buf_add(&cur, rt.region.end.data,
				    rt.region.end.len);
			continue;
		}
		pairs_truncate(out, before);
		if (is_region_error(w)) {
			on_region_error(c, &rt, w, &rd, &r);
			goto again;
		}
		if (w == READ_EOF || w == READ_BAD)
			log_setreason("store %" PRIu64 ": bad scan reply: %s",
			    rt.store_id, (const char *)rd.line.data);
		else
			bad_reply(&rt, &rd);
		goto out;
again:
		if (retry_wait(&r) == -1)
			goto out;
	}
	if (limit && out->n > limit)
		pairs_truncate(out, limit);
	rc = 0;
out:
	reader_free(&rd);
	route_free(&rt);
	buf_free(&cur);
	buf_free(&msg);
	buf_free(&reply);
	return rc;
}

int
client_scan(struct client *c, const void *start, size_t startlen,
    const void *end, size_t endlen, size_t limit, int flags,
    struct client_pair **out, size_t *n)
{
	struct bytes s = { start, startlen }, e = { end, endlen };
	struct pairs p = { NULL, 0, 0 };

	*out = NULL;
	*n = 0;
	if (check_range(s, e) == -1)
		return -1;
	if (scan_run(c, s, e, limit, flags, &p) == -1) {
		client_pairs_free(p.v, p.n);
		return -1;
	}
	*out = p.v;
	*n = p.n;
	return 0;
}

/* delete-range and checksum: one command for each region of the range. */
static int
range_walk(struct client *c, const char *cmd, struct bytes start,
    struct bytes end, struct client_checksum *sum)
{
	struct buf cur = BUF_INIT, msg = BUF_INIT, reply = BUF_INIT;
	uint64_t v[3];
	struct reader rd;
	struct route rt;
	struct retry r;
	struct bytes hi;
	int w, rc = -1, last, k;

	if (check_range(start, end) == -1)
		return -1;
	retry_init(&r, c);
	route_init(&rt);
	reader_init(&rd, &reply);
	buf_add(&cur, start.ptr, start.len);
	for (;;) {
		if (end.len > 0 && bytes_cmp(buf_bytes(&cur), end) >= 0)
			break;
		if (locate(c, cur.data, cur.len, 0, NULL, 0, &rt) == -1) {
			retry_note(&r, "%s", log_reason());
			goto again;
		}
		last = region_reaches(&rt.region, end);
		hi = last ? end : buf_bytes(&rt.region.end);
		buf_reset(&msg);
		buf_addstr(&msg, cmd);
		add_ctx(&msg, &rt.region);
		proto_add_token(&msg, cur.data, cur.len);
		proto_add_token(&msg, hi.ptr, hi.len);
		buf_addc(&msg, '\n');
		if ((w = store_call(&rt, &msg, &reply, &r, 0)) != 0) {
			on_transport_error(c, &rt);
			if (sum == NULL && w != NET_NOT_SENT) {
				/* A delete-range is not resent: see
				 * write_ok. */
				log_setreason("%s: outcome unknown", r.last);
				rc = CLIENT_UNKNOWN;
				goto out;
			}
			goto again;
		}
		reader_reset(&rd, &reply);
		w = reader_next(&rd);
		if (w == PROTO_OK) {
			if (sum != NULL) {
				for (k = 0; k < 3; k++)
					if ((size_t)k + 1 >= rd.a->argc ||
					    proto_bytes_u64(rd.a->argv[k + 1],
					    &v[k]) == -1)
						break;
				if (k < 3) {
					bad_reply(&rt, &rd);
					goto out;
				}
				sum->count += v[0];
				sum->bytes += v[1];
				sum->checksum ^= v[2];
			}
			retry_progress(&r);
			if (last)
				break;
			buf_reset(&cur);
			buf_add(&cur, rt.region.end.data, rt.region.end.len);
			continue;
		}
		if (is_region_error(w)) {
			on_region_error(c, &rt, w, &rd, &r);
			goto again;
		}
		if (w == READ_EOF || w == READ_BAD)
			reason_prefix("store %" PRIu64, rt.store_id);
		else
			bad_reply(&rt, &rd);
		goto out;
again:
		if (retry_wait(&r) == -1)
			goto out;
	}
	rc = 0;
out:
	reader_free(&rd);
	route_free(&rt);
	buf_free(&cur);
	buf_free(&msg);
	buf_free(&reply);
	return rc;
}

int
client_delete_range(struct client *c, const void *start, size_t startlen,
    const void *end, size_t endlen)
{
	struct bytes s = { start, startlen }, e = { end, endlen };

	return range_walk(c, "RAW_DELETE_RANGE", s, e, NULL);
}

int
client_checksum(struct client *c, const void *start, size_t startlen,
    const void *end, size_t endlen, struct client_checksum *sum)
{
	struct bytes s = { start, startlen }, e = { end, endlen };

	memset(sum, 0, sizeof(*sum));
	return range_walk(c, "RAW_CHECKSUM", s, e, sum);
}
