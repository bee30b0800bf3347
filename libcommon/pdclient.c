/*
 * The client of pdd(8): one request line per call, its reply parsed.
 *
 * Each endpoint has its own net client, dialled in the background by nng.
 * A call goes to the endpoint that answered last; when that one does not
 * answer (connection error or timeout) the others are tried in turn, and
 * the first that answers becomes the one to ask next.  An error reply is
 * an answer: it is returned, never retried elsewhere.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "pdclient.h"
#include "proto.h"
#include "region.h"
#include "xmalloc.h"

#define PDCLIENT_DEFAULT_TIMEOUT_MS	3000

struct pdclient {
	pthread_mutex_t mu;
	size_t cur;			/* the endpoint that answered last */
	size_t n;
	int timeout_ms;
	char **urls;
	struct net_client **nc;
};

/* One call: the request, the reply message and its current line. */
struct reply {
	struct buf req;
	struct buf msg;
	struct buf err;
	struct proto_args *a;		/* large: kept off the stack */
	size_t pos;
	int word;			/* status word of the current line */
	int errnum;			/* errno for a failure */
};

static const char *const op_names[] = {
	[PD_OP_ADD_LEARNER] = "ADD_LEARNER",
	[PD_OP_PROMOTE_LEARNER] = "PROMOTE_LEARNER",
	[PD_OP_REMOVE_PEER] = "REMOVE_PEER",
	[PD_OP_TRANSFER_LEADER] = "TRANSFER_LEADER"
};

struct pdclient *
pdclient_open(char *const *endpoints, size_t n, int timeout_ms)
{
	struct pdclient *pd;
	struct buf url = BUF_INIT;
	size_t i;

	if (n == 0) {
		log_setreason("no PD endpoints");
		return NULL;
	}
	pd = xcalloc(1, sizeof(*pd));
	pthread_mutex_init(&pd->mu, NULL);
	pd->n = n;
	pd->timeout_ms = timeout_ms > 0 ? timeout_ms :
	    PDCLIENT_DEFAULT_TIMEOUT_MS;
	pd->urls = xcalloc(n, sizeof(*pd->urls));
	pd->nc = xcalloc(n, sizeof(*pd->nc));
	for (i = 0; i < n; i++) {
		/* "host:port" as TiKV's pd.endpoints spell it is TCP. */
		buf_reset(&url);
		if (strstr(endpoints[i], "://") == NULL)
			buf_addstr(&url, "tcp://");
		buf_addstr(&url, endpoints[i]);
		pd->urls[i] = xstrdup((const char *)url.data);
		if ((pd->nc[i] = net_client_open(pd->urls[i],
		    NET_DEFAULT_MAXMSG)) == NULL) {
			buf_free(&url);
			pdclient_close(pd);
			return NULL;
		}
	}
	buf_free(&url);
	return pd;
}

void
pdclient_close(struct pdclient *pd)
{
	size_t i;

	if (pd == NULL)
		return;
	for (i = 0; i < pd->n; i++) {
		net_client_close(pd->nc[i]);
		free(pd->urls[i]);
	}
	free(pd->nc);
	free(pd->urls);
	pthread_mutex_destroy(&pd->mu);
	free(pd);
}

const char *
pdclient_endpoint(struct pdclient *pd)
{
	size_t k;

	pthread_mutex_lock(&pd->mu);
	k = pd->cur;
	pthread_mutex_unlock(&pd->mu);
	return pd->urls[k];
}

int
pdclient_call(struct pdclient *pd, const void *req, size_t len,
    struct buf *reply)
{
	char last[512];
	size_t start, i, k;

	pthread_mutex_lock(&pd->mu);
	start = pd->cur;
	pthread_mutex_unlock(&pd->mu);
	for (i = 0; i < pd->n; i++) {
		k = (start + i) % pd->n;
		if (net_client_call(pd->nc[k], req, len, reply,
		    pd->timeout_ms) == 0) {
			if (k != start) {
				pthread_mutex_lock(&pd->mu);
				pd->cur = k;
				pthread_mutex_unlock(&pd->mu);
			}
			return 0;
		}
		strlcpy(last, log_reason(), sizeof(last));
	}
	if (pd->n == 1)
		log_setreason("pd: %s", last);
	else
		log_setreason("pd: none of %zu endpoints answered; last: %s",
		    pd->n, last);
	errno = ETIMEDOUT;
	return -1;
}

/* Reply handling. */

static void
reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	r->a = xmalloc(sizeof(*r->a));
	proto_args_init(r->a);
	r->errnum = EPROTO;
}

/* Frees r and returns rc; errno is that of the failure when rc is -1. */
static int
reply_done(struct reply *r, int rc)
{
	int e = r->errnum;

	buf_free(&r->req);
	buf_free(&r->msg);
	buf_free(&r->err);
	proto_args_free(r->a);
	free(r->a);
	if (rc == -1)
		errno = e;
	return rc;
}

static int
bad_reply(struct reply *r, const char *what)
{
	log_setreason("pd: bad reply: %s", what);
	r->errnum = EPROTO;
	return -1;
}

/*
 * Parses the next line of the reply into r->a and r->word.  1 for a line,
 * 0 at the end of the message, -1 for a malformed line.
 */
static int
reply_next(struct reply *r)
{
	int rc;

	rc = proto_parse(r->msg.data, r->msg.len, &r->pos, r->a, &r->err);
	if (rc == -1)
		return bad_reply(r, r->err.len ? (const char *)r->err.data :
		    "malformed line");
	if (rc == 0)
		return 0;
	r->word = proto_word_parse(r->a->argv[0].ptr, r->a->argv[0].len);
	if (r->word == -1)
		return bad_reply(r, "no status word");
	return 1;
}

/* Sends r->req and parses the first reply line. */
static int
rpc(struct pdclient *pd, struct reply *r)
{
	int rc;

	if (pdclient_call(pd, r->req.data, r->req.len, &r->msg) == -1) {
		r->errnum = errno;
		return -1;
	}
	r->pos = 0;
	if ((rc = reply_next(r)) == 0)
		return bad_reply(r, "empty");
	return rc == 1 ? 0 : -1;
}

/* An answer that is not the one wanted: its first line is the reason. */
static int
refused(struct reply *r)
{
	const uint8_t *p = r->msg.data, *nl;
	size_t len = r->msg.len;

	while (len && (*p == '\n' || *p == '\r' || *p == ' ')) {
		p++;
		len--;
	}
	if ((nl = memchr(p, '\n', len)) != NULL)
		len = nl - p;
	if (len && p[len - 1] == '\r')
		len--;
	log_setreason("%.*s", (int)len, (const char *)p);
	r->errnum = r->word == PROTO_NOT_FOUND ? ENOENT : EPROTO;
	return -1;
}

/* The first line must start with word. */
static int
call_expect(struct pdclient *pd, struct reply *r, int word)
{
	if (rpc(pd, r) == -1)
		return -1;
	return r->word == word ? 0 : refused(r);
}

static int
arg_u64(struct reply *r, size_t i, uint64_t *v)
{
	if (i >= r->a->argc)
		return bad_reply(r, "too few tokens");
	if (proto_bytes_u64(r->a->argv[i], v) == -1)
		return bad_reply(r, "not a number");
	return 0;
}

static int
arg_is(struct reply *r, size_t i, const char *s)
{
	return i < r->a->argc && bytes_eq(r->a->argv[i], bytes_str(s));
}

static int
want_args(struct reply *r, size_t n)
{
	return r->a->argc == n ? 0 : bad_reply(r, "wrong number of tokens");
}

/* region and leader from argv[1..7] */
static int
arg_region(struct reply *r, size_t i, struct region *reg, uint64_t *leader)
{
	char why[512];

	if (r->a->argc < i + REGION_WIRE_TOKENS)
		return bad_reply(r, "too few tokens");
	if (region_parse(&r->a->argv[i], REGION_WIRE_TOKENS, reg) == -1) {
		strlcpy(why, log_reason(), sizeof(why));
		return bad_reply(r, why);
	}
	if (leader != NULL)
		return arg_u64(r, i + REGION_WIRE_TOKENS, leader);
	return 0;
}

static void
req_word(struct reply *r, const char *word)
{
	buf_addstr(&r->req, word);
}

static void
req_end(struct reply *r)
{
	proto_end_line(&r->req);
}

/* OK first count */
static int
call_range(struct pdclient *pd, struct reply *r, uint64_t count,
    uint64_t *first)
{
	uint64_t n;

	if (call_expect(pd, r, PROTO_OK) == -1 ||
	    want_args(r, 3) == -1 || arg_u64(r, 1, first) == -1 ||
	    arg_u64(r, 2, &n) == -1)
		return -1;
	if (n != count)
		return bad_reply(r, "wrong count");
	return 0;
}

int
pdclient_tso(struct pdclient *pd, uint32_t count, uint64_t *first)
{
	struct reply r;

	reply_init(&r);
	req_word(&r, "TSO");
	proto_add_u64(&r.req, count);
	req_end(&r);
	return reply_done(&r, call_range(pd, &r, count, first));
}

int
pdclient_alloc_ids(struct pdclient *pd, uint64_t count, uint64_t *first)
{
	struct reply r;

	reply_init(&r);
	req_word(&r, "ALLOC_ID");
	proto_add_u64(&r.req, count);
	req_end(&r);
	return reply_done(&r, call_range(pd, &r, count, first));
}

int
pdclient_alloc_id(struct pdclient *pd, uint64_t *id)
{
	return pdclient_alloc_ids(pd, 1, id);
}

int
pdclient_is_bootstrapped(struct pdclient *pd, int *yes)
{
	struct reply r;
	uint64_t v;
	int rc = -1;

	reply_init(&r);
	req_word(&r, "IS_BOOTSTRAPPED");
	req_end(&r);
	if (call_expect(pd, &r, PROTO_OK) == 0 && want_args(&r, 2) == 0 &&
	    arg_u64(&r, 1, &v) == 0) {
		if (v > 1)
			bad_reply(&r, "not 0 or 1");
		else {
			*yes = (int)v;
			rc = 0;
		}
	}
	return reply_done(&r, rc);
}

int
pdclient_bootstrap(struct pdclient *pd, uint64_t store_id, const char *addr,
    const struct region *region)
{
	struct reply r;

	reply_init(&r);
	req_word(&r, "BOOTSTRAP");
	proto_add_u64(&r.req, store_id);
	proto_add_str(&r.req, addr);
	region_format(region, &r.req);
	req_end(&r);
	return reply_done(&r, call_expect(pd, &r, PROTO_OK));
}

/* Stores. */

int
pdclient_put_store(struct pdclient *pd, uint64_t id, const char *addr)
{
	struct reply r;

	reply_init(&r);
	req_word(&r, "PUT_STORE");
	proto_add_u64(&r.req, id);
	proto_add_str(&r.req, addr);
	req_end(&r);
	return reply_done(&r, call_expect(pd, &r, PROTO_OK));
}

static int
copy_token(struct reply *r, size_t i, char *dst, size_t size)
{
	struct bytes t = r->a->argv[i];

	if (t.len >= size || memchr(t.ptr, '\0', t.len) != NULL)
		return bad_reply(r, "store address or state too long");
	memcpy(dst, t.ptr, t.len);
	dst[t.len] = '\0';
	return 0;
}

/* WORD id addr state region_count leader_count capacity available last */
static int
arg_store(struct reply *r, struct pd_store *s)
{
	memset(s, 0, sizeof(*s));
	if (want_args(r, 9) == -1 || arg_u64(r, 1, &s->id) == -1 ||
	    copy_token(r, 2, s->addr, sizeof(s->addr)) == -1 ||
	    copy_token(r, 3, s->state, sizeof(s->state)) == -1 ||
	    arg_u64(r, 4, &s->region_count) == -1 ||
	    arg_u64(r, 5, &s->leader_count) == -1 ||
	    arg_u64(r, 6, &s->capacity) == -1 ||
	    arg_u64(r, 7, &s->available) == -1 ||
	    arg_u64(r, 8, &s->last_heartbeat_ms) == -1)
		return -1;
	return 0;
}

int
pdclient_get_store(struct pdclient *pd, uint64_t id, struct pd_store *s)
{
	struct reply r;
	int rc = -1;

	reply_init(&r);
	req_word(&r, "GET_STORE");
	proto_add_u64(&r.req, id);
	req_end(&r);
	if (call_expect(pd, &r, PROTO_OK) == 0)
		rc = arg_store(&r, s);
	return reply_done(&r, rc);
}

int
pdclient_list_stores(struct pdclient *pd, struct pd_store **out, size_t *n)
{
	struct reply r;
	struct pd_store *v = NULL;
	size_t nv = 0;
	int rc = -1, more;

	reply_init(&r);
	req_word(&r, "LIST_STORES");
	req_end(&r);
	if (rpc(pd, &r) == -1)
		goto out;
	for (more = 1; more == 1 && r.word == PROTO_VALUE;
	    more = reply_next(&r)) {
		v = xreallocarray(v, nv + 1, sizeof(*v));
		if (arg_store(&r, &v[nv++]) == -1)
			goto out;
	}
	if (more == -1)
		goto out;
	if (more == 0) {
		bad_reply(&r, "no END");
		goto out;
	}
	if (r.word != PROTO_END) {
		refused(&r);
		goto out;
	}
	*out = v;
	*n = nv;
	v = NULL;
	rc = 0;
out:
	free(v);
	return reply_done(&r, rc);
}

int
pdclient_store_heartbeat(struct pdclient *pd, uint64_t id,
    uint64_t capacity, uint64_t available, uint64_t region_count,
    uint64_t leader_count)
{
	struct reply r;

	reply_init(&r);
	req_word(&r, "STORE_HEARTBEAT");
	proto_add_u64(&r.req, id);
	proto_add_u64(&r.req, capacity);
	proto_add_u64(&r.req, available);
	proto_add_u64(&r.req, region_count);
	proto_add_u64(&r.req, leader_count);
	req_end(&r);
	return reply_done(&r, call_expect(pd, &r, PROTO_OK));
}

/* Regions. */

static int
parse_operator(struct reply *r, struct pd_operator *op)
{
	size_t i;

	memset(op, 0, sizeof(*op));
	op->type = PD_OP_NONE;
	if (r->a->argc == 1)
		return 0;
	for (i = 1; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (arg_is(r, 1, op_names[i]))
			break;
	if (i == sizeof(op_names) / sizeof(op_names[0])) {
		log_setreason("pd: unknown operator '%.*s'",
		    (int)r->a->argv[1].len, (const char *)r->a->argv[1].ptr);
		r->errnum = EPROTO;
		return -1;
	}
	if (want_args(r, i == PD_OP_ADD_LEARNER ? 4 : 3) == -1 ||
	    arg_u64(r, 2, &op->peer_id) == -1 ||
	    (i == PD_OP_ADD_LEARNER && arg_u64(r, 3, &op->store_id) == -1))
		return -1;
	op->type = (int)i;
	return 0;
}

int
pdclient_region_heartbeat(struct pdclient *pd, const struct region *region,
    uint64_t leader_peer_id, uint64_t approx_size, uint64_t approx_keys,
    const uint64_t *pending, size_t npending, struct pd_operator *op,
    int *stale, struct region *newer)
{
	struct reply r;
	struct buf list = BUF_INIT;
	struct region tmp;
	size_t i;
	int rc = -1;

	if (stale != NULL)
		*stale = 0;
	memset(op, 0, sizeof(*op));
	op->type = PD_OP_NONE;
	reply_init(&r);
	req_word(&r, "REGION_HEARTBEAT");
	region_format(region, &r.req);
	proto_add_u64(&r.req, leader_peer_id);
	proto_add_u64(&r.req, approx_size);
	proto_add_u64(&r.req, approx_keys);
	for (i = 0; i < npending; i++)
		buf_printf(&list, "%s%" PRIu64, i ? "," : "", pending[i]);
	proto_add_token(&r.req, list.data, list.len);
	buf_free(&list);
	req_end(&r);
	if (rpc(pd, &r) == -1)
		goto out;
	if (r.word == PROTO_OK) {
		rc = parse_operator(&r, op);
		goto out;
	}
	if (r.word == PROTO_EPOCH_NOT_MATCH) {
		region_init(&tmp);
		if (want_args(&r, 1 + REGION_WIRE_TOKENS) == 0 &&
		    arg_region(&r, 1, &tmp, NULL) == 0) {
			if (stale != NULL)
				*stale = 1;
			if (newer != NULL)
				region_copy(newer, &tmp);
			refused(&r);
		}
		region_free(&tmp);
		goto out;
	}
	refused(&r);
out:
	return reply_done(&r, rc);
}

/* OK region leader */
static int
call_region(struct pdclient *pd, struct reply *r, struct pd_region *out)
{
	if (call_expect(pd, r, PROTO_OK) == -1 ||
	    want_args(r, 2 + REGION_WIRE_TOKENS) == -1)
		return -1;
	return arg_region(r, 1, &out->region, &out->leader_peer_id);
}

int
pdclient_get_region(struct pdclient *pd, const void *key, size_t len,
    struct pd_region *out)
{
	struct reply r;

	reply_init(&r);
	req_word(&r, "GET_REGION");
	proto_add_token(&r.req, key, len);
	req_end(&r);
	return reply_done(&r, call_region(pd, &r, out));
}

int
pdclient_get_region_by_id(struct pdclient *pd, uint64_t id,
    struct pd_region *out)
{
	struct reply r;

	reply_init(&r);
	req_word(&r, "GET_REGION_BY_ID");
	proto_add_u64(&r.req, id);
	req_end(&r);
	return reply_done(&r, call_region(pd, &r, out));
}

int
pdclient_scan_regions(struct pdclient *pd, const void *start,
    size_t startlen, const void *end, size_t endlen, size_t limit,
    struct pd_region **out, size_t *n)
{
	struct reply r;
	struct pd_region *v = NULL;
	size_t nv = 0;
	int rc = -1, more;

	reply_init(&r);
	req_word(&r, "SCAN_REGIONS");
	proto_add_token(&r.req, start, startlen);
	proto_add_token(&r.req, end, endlen);
	if (limit)
		proto_add_u64(&r.req, limit);
	req_end(&r);
	if (rpc(pd, &r) == -1)
		goto out;
	for (more = 1; more == 1 && r.word == PROTO_VALUE;
	    more = reply_next(&r)) {
		v = xreallocarray(v, nv + 1, sizeof(*v));
		region_init(&v[nv].region);
		v[nv].leader_peer_id = 0;
		nv++;
		if (want_args(&r, 2 + REGION_WIRE_TOKENS) == -1 ||
		    arg_region(&r, 1, &v[nv - 1].region,
		    &v[nv - 1].leader_peer_id) == -1)
			goto out;
	}
	if (more == -1)
		goto out;
	if (more == 0) {
		bad_reply(&r, "no END");
		goto out;
	}
	if (r.word != PROTO_END) {
		refused(&r);
		goto out;
	}
	*out = v;
	*n = nv;
	v = NULL;
	nv = 0;
	rc = 0;
out:
	pdclient_regions_free(v, nv);
	return reply_done(&r, rc);
}

void
pdclient_regions_free(struct pd_region *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		region_free(&v[i].region);
	free(v);
}

/* Splits. */

int
pdclient_ask_split(struct pdclient *pd, uint64_t region_id,
    uint64_t *new_region_id, uint64_t *peer_ids, size_t npeers)
{
	struct reply r;
	size_t i;
	int rc = -1;

	reply_init(&r);
	req_word(&r, "ASK_SPLIT");
	proto_add_u64(&r.req, region_id);
	req_end(&r);
	if (call_expect(pd, &r, PROTO_OK) == -1 ||
	    arg_u64(&r, 1, new_region_id) == -1)
		goto out;
	/* PD gives one id per peer of its copy, which may lag ours. */
	if (r.a->argc < 2 + npeers) {
		log_setreason("pd: ASK_SPLIT %" PRIu64 " gave %zu peer ids, "
		    "not %zu: PD's copy of the region differs", region_id,
		    r.a->argc - 2, npeers);
		r.errnum = ERANGE;
		goto out;
	}
	for (i = 0; i < npeers; i++)
		if (arg_u64(&r, 2 + i, &peer_ids[i]) == -1)
			goto out;
	rc = 0;
out:
	return reply_done(&r, rc);
}

int
pdclient_report_split(struct pdclient *pd, const struct region *left,
    const struct region *right)
{
	struct reply r;

	reply_init(&r);
	req_word(&r, "REPORT_SPLIT");
	region_format(left, &r.req);
	region_format(right, &r.req);
	req_end(&r);
	return reply_done(&r, call_expect(pd, &r, PROTO_OK));
}
