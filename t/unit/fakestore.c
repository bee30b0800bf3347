/* A fake of tikvd's raw service for client tests: see fakestore.h. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "fakestore.h"
#include "log.h"
#include "net.h"
#include "pdclient.h"
#include "proto.h"
#include "region.h"
#include "xmalloc.h"

#define FAKE_MAX_STORES	8

struct kvent {
	struct buf key;
	struct buf val;
	uint64_t expire_ms;		/* 0: never */
};

struct fregion {
	struct region r;
	uint64_t leader_store;
};

struct fstore {
	struct fake *f;
	uint64_t id;
	struct net_server *srv;
	char url[256];
	struct fake_stats st;
};

struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pdclient *pd;
	struct fstore stores[FAKE_MAX_STORES];
	int nstores;
	struct fregion *regs;
	size_t nregs;
	struct kvent *kv;		/* sorted by key */
	size_t nkv;
	size_t capkv;
	int busy;
	int stale;
	int late;
	int late_ms;
	int hide_leader;
	int nlate;			/* late replies not sent yet */
	uint64_t next_id;		/* ids of split regions and peers */
	/*
	 * What PD must hear, queued under mu and sent without it: a PD call
	 * from nng's callback thread while others wait for mu could starve
	 * nng of the threads that complete it.
	 */
	struct report *reports;
	size_t nreports;
	pthread_mutex_t flush_mu;
};

struct report {
	struct region r[2];		/* r[1] set for a split */
	uint64_t leader[2];
	int split;
};

struct late_reply {
	struct fake *f;
	struct net_req *req;
	struct buf reply;
	int ms;
};

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- the map ------------------------------------------------------------- */

/* The index of key, or where it would go (*found 0). */
static size_t
kv_find(struct fake *f, struct bytes key, int *found)
{
	size_t lo = 0, hi = f->nkv, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = bytes_cmp(buf_bytes(&f->kv[mid].key), key);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
kv_live(const struct kvent *e)
{
	return e->expire_ms == 0 || e->expire_ms > wall_ms();
}

static struct kvent *
kv_get(struct fake *f, struct bytes key)
{
	int found;
	size_t i = kv_find(f, key, &found);

	return found && kv_live(&f->kv[i]) ? &f->kv[i] : NULL;
}

static void
kv_put(struct fake *f, struct bytes key, struct bytes val, uint64_t ttl)
{
	int found;
	size_t i = kv_find(f, key, &found);

	if (!found) {
		if (f->nkv == f->capkv) {
			f->capkv = f->capkv ? f->capkv * 2 : 64;
			f->kv = xreallocarray(f->kv, f->capkv,
			    sizeof(f->kv[0]));
		}
		memmove(&f->kv[i + 1], &f->kv[i],
		    (f->nkv - i) * sizeof(f->kv[0]));
		f->nkv++;
		buf_init(&f->kv[i].key);
		buf_init(&f->kv[i].val);
		buf_add(&f->kv[i].key, key.ptr, key.len);
	}
	buf_reset(&f->kv[i].val);
	buf_add(&f->kv[i].val, val.ptr, val.len);
	f->kv[i].expire_ms = ttl ? wall_ms() + ttl * 1000 : 0;
}

static void
kv_del_at(struct fake *f, size_t i)
{
	buf_free(&f->kv[i].key);
	buf_free(&f->kv[i].val);
	memmove(&f->kv[i], &f->kv[i + 1], (f->nkv - i - 1) * sizeof(f->kv[0]));
	f->nkv--;
}

static void
kv_del(struct fake *f, struct bytes key)
{
	int found;
	size_t i = kv_find(f, key, &found);

	if (found)
		kv_del_at(f, i);
}

/* --- regions ------------------------------------------------------------- */

static struct fregion *
region_by_id(struct fake *f, uint64_t id)
{
	size_t i;

	for (i = 0; i < f->nregs; i++)
		if (f->regs[i].r.id == id)
			return &f->regs[i];
	return NULL;
}

static struct fregion *
region_by_key(struct fake *f, struct bytes key)
{
	size_t i;

	for (i = 0; i < f->nregs; i++)
		if (region_contains(&f->regs[i].r, key.ptr, key.len))
			return &f->regs[i];
	return NULL;
}

static uint64_t
leader_peer(const struct fregion *x)
{
	const struct region_peer *p = region_peer_on_store(&x->r,
	    x->leader_store);

	return p ? p->id : 0;
}

/* With mu held: queue a heartbeat of x, or of a split (x and right). */
static void
report(struct fake *f, const struct fregion *x, const struct fregion *right)
{
	struct report *rp;

	f->reports = xreallocarray(f->reports, f->nreports + 1,
	    sizeof(f->reports[0]));
	rp = &f->reports[f->nreports++];
	memset(rp, 0, sizeof(*rp));
	region_init(&rp->r[0]);
	region_init(&rp->r[1]);
	region_copy(&rp->r[0], &x->r);
	rp->leader[0] = leader_peer(x);
	if (right != NULL) {
		region_copy(&rp->r[1], &right->r);
		rp->leader[1] = leader_peer(right);
		rp->split = 1;
	}
}

static void
send_report(struct fake *f, struct report *rp)
{
	struct pd_operator op;
	int i, stale = 0;

	if (rp->split && pdclient_report_split(f->pd, &rp->r[0],
	    &rp->r[1]) == -1)
		log_warnx("fake: report split: %s", log_reason());
	for (i = 0; i < 1 + rp->split; i++)
		if (pdclient_region_heartbeat(f->pd, &rp->r[i], rp->leader[i],
		    0, 0, NULL, 0, &op, &stale, NULL) == -1)
			log_warnx("fake: heartbeat of region %" PRIu64 ": %s",
			    rp->r[i].id, log_reason());
	region_free(&rp->r[0]);
	region_free(&rp->r[1]);
}

/* Sends the queued reports, in order, unless another thread is at it. */
static void
flush_reports(struct fake *f)
{
	struct report *v;
	size_t n, i;

	for (;;) {
		if (pthread_mutex_trylock(&f->flush_mu) != 0)
			return;
		for (;;) {
			pthread_mutex_lock(&f->mu);
			v = f->reports;
			n = f->nreports;
			f->reports = NULL;
			f->nreports = 0;
			pthread_mutex_unlock(&f->mu);
			if (n == 0)
				break;
			for (i = 0; i < n; i++)
				send_report(f, &v[i]);
			free(v);
		}
		pthread_mutex_unlock(&f->flush_mu);
		pthread_mutex_lock(&f->mu);
		n = f->nreports;
		pthread_mutex_unlock(&f->mu);
		if (n == 0)
			return;
	}
}

static int
do_split(struct fake *f, struct bytes key, int tell_pd, uint64_t *lid,
    uint64_t *rid)
{
	struct fregion *x = region_by_key(f, key), *right;
	size_t i;

	if (x == NULL || key.len == 0 ||
	    bytes_eq(buf_bytes(&x->r.start), key)) {
		log_setreason("cannot split at that key");
		return -1;
	}
	f->regs = xreallocarray(f->regs, f->nregs + 1, sizeof(f->regs[0]));
	x = region_by_key(f, key);
	right = &f->regs[f->nregs++];
	region_init(&right->r);
	/* PD reserves the ids a client picks. */
	right->r.id = f->next_id++;
	buf_add(&right->r.start, key.ptr, key.len);
	buf_add(&right->r.end, x->r.end.data, x->r.end.len);
	for (i = 0; i < x->r.npeers; i++)
		region_add_peer(&right->r, f->next_id++,
		    x->r.peers[i].store_id, x->r.peers[i].role);
	buf_reset(&x->r.end);
	buf_add(&x->r.end, key.ptr, key.len);
	x->r.epoch.version++;
	right->r.epoch = x->r.epoch;
	right->leader_store = x->leader_store;
	if (tell_pd)
		report(f, x, right);
	*lid = x->r.id;
	*rid = right->r.id;
	return 0;
}

/* --- the service --------------------------------------------------------- */

static struct fake *
call_fake(struct proto_call *c)
{
	return ((struct fstore *)c->ctx)->f;
}

static int
word_is(struct bytes b, const char *w)
{
	return bytes_eq(b, bytes_str(w));
}

/*
 * Checks the context of argument 0 for this store and the keys of
 * arguments k0, k0 + step, ... below k1: the region must exist here,
 * with that epoch, be led from here, and hold the keys.  Replies with
 * the error and returns NULL otherwise.  A write also meets the injected
 * STALE_COMMAND and counts as applied.
 */
static struct fregion *
check(struct proto_call *c, size_t k0, size_t k1, size_t step, int write)
{
	struct fstore *s = c->ctx;
	struct fake *f = s->f;
	struct fregion *x;
	struct fstore *ls;
	struct bytes t = c->argv[0];
	uint64_t v[3];
	struct bytes part;
	size_t i, k = 0, start = 0;

	for (i = 0; i <= t.len && k < 3; i++) {
		if (i < t.len && t.ptr[i] != ':')
			continue;
		part.ptr = t.ptr + start;
		part.len = i - start;
		if (proto_bytes_u64(part, &v[k]) == -1)
			break;
		k++;
		start = i + 1;
	}
	if (k != 3) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR, "bad ctx");
		return NULL;
	}
	if (f->busy > 0) {
		f->busy--;
		proto_reply_error(c->reply, PROTO_SERVER_IS_BUSY, "fake");
		return NULL;
	}
	x = region_by_id(f, v[0]);
	if (x == NULL || region_peer_on_store(&x->r, s->id) == NULL) {
		proto_reply_error(c->reply, PROTO_REGION_NOT_FOUND, "%" PRIu64,
		    v[0]);
		return NULL;
	}
	if (x->leader_store != s->id) {
		ls = &f->stores[x->leader_store - 1];
		buf_addstr(c->reply, "NOT_LEADER");
		proto_add_u64(c->reply, v[0]);
		proto_add_u64(c->reply, f->hide_leader ? 0 : ls->id);
		proto_add_str(c->reply, f->hide_leader ? "" : ls->url);
		proto_end_line(c->reply);
		return NULL;
	}
	if (x->r.epoch.conf_ver != v[1] || x->r.epoch.version != v[2]) {
		buf_addstr(c->reply, "EPOCH_NOT_MATCH");
		region_format(&x->r, c->reply);
		proto_end_line(c->reply);
		return NULL;
	}
	for (i = k0; i < k1; i += step)
		if (!region_contains(&x->r, c->argv[i].ptr, c->argv[i].len)) {
			buf_addstr(c->reply, "KEY_NOT_IN_REGION");
			proto_add_token(c->reply, c->argv[i].ptr,
			    c->argv[i].len);
			proto_add_u64(c->reply, x->r.id);
			proto_add_token(c->reply, x->r.start.data,
			    x->r.start.len);
			proto_add_token(c->reply, x->r.end.data, x->r.end.len);
			proto_end_line(c->reply);
			return NULL;
		}
	if (write && f->stale > 0) {
		f->stale--;
		proto_reply_word(c->reply, PROTO_STALE_COMMAND);
		return NULL;
	}
	if (write)
		s->st.writes++;
	return x;
}

static uint64_t
arg_u64(struct proto_call *c, size_t i)
{
	uint64_t v = 0;

	proto_bytes_u64(c->argv[i], &v);
	return v;
}

static void
fake_raw_get(struct proto_call *c)
{
	struct kvent *e;

	if (check(c, 1, 2, 1, 0) == NULL)
		return;
	if ((e = kv_get(call_fake(c), c->argv[1])) == NULL)
		proto_reply_word(c->reply, PROTO_NOT_FOUND);
	else
		proto_reply_value(c->reply, e->val.data, e->val.len);
}

static void
fake_raw_batch_get(struct proto_call *c)
{
	struct kvent *e;
	size_t i;

	if (check(c, 1, c->argc, 1, 0) == NULL)
		return;
	for (i = 1; i < c->argc; i++) {
		if ((e = kv_get(call_fake(c), c->argv[i])) == NULL)
			continue;
		buf_addstr(c->reply, "VALUE");
		proto_add_token(c->reply, c->argv[i].ptr, c->argv[i].len);
		proto_add_token(c->reply, e->val.data, e->val.len);
		proto_end_line(c->reply);
	}
	proto_reply_word(c->reply, PROTO_END);
}

static void
fake_raw_put(struct proto_call *c)
{
	if (check(c, 1, 2, 1, 1) == NULL)
		return;
	kv_put(call_fake(c), c->argv[1], c->argv[2],
	    c->argc > 3 ? arg_u64(c, 3) : 0);
	proto_reply_ok(c->reply);
}

static void
fake_raw_batch_put(struct proto_call *c)
{
	size_t i;

	if ((c->argc - 2) % 2) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR, "odd pairs");
		return;
	}
	if (check(c, 2, c->argc, 2, 1) == NULL)
		return;
	for (i = 2; i < c->argc; i += 2)
		kv_put(call_fake(c), c->argv[i], c->argv[i + 1],
		    arg_u64(c, 1));
	proto_reply_ok(c->reply);
}

static void
fake_raw_delete(struct proto_call *c)
{
	size_t i;

	if (check(c, 1, c->argc, 1, 1) == NULL)
		return;
	for (i = 1; i < c->argc; i++)
		kv_del(call_fake(c), c->argv[i]);
	proto_reply_ok(c->reply);
}

/* [lo, hi) of the range of arguments 1 and 2 within the region. */
static void
clamp(const struct fregion *x, struct proto_call *c, struct bytes *lo,
    struct bytes *hi)
{
	struct bytes rend = buf_bytes(&x->r.end);

	*lo = c->argv[1];
	*hi = c->argv[2];
	if (hi->len == 0 || (rend.len > 0 && bytes_cmp(*hi, rend) > 0))
		*hi = rend;
}

static int
in_range(struct bytes k, struct bytes lo, struct bytes hi)
{
	return bytes_cmp(k, lo) >= 0 && (hi.len == 0 || bytes_cmp(k, hi) < 0);
}

static void
fake_raw_scan(struct proto_call *c)
{
	struct fake *f = call_fake(c);
	struct fregion *x;
	struct bytes lo, hi, k;
	uint64_t limit, n = 0;
	int key_only = 0, rev = 0, found;
	size_t i, j, a, b;

	if ((x = check(c, 1, 2, 1, 0)) == NULL)
		return;
	limit = arg_u64(c, 3);
	for (i = 4; i < c->argc; i++) {
		key_only |= word_is(c->argv[i], "KEY_ONLY");
		rev |= word_is(c->argv[i], "REVERSE");
	}
	clamp(x, c, &lo, &hi);
	a = kv_find(f, lo, &found);
	b = hi.len ? kv_find(f, hi, &found) : f->nkv;
	for (j = 0; a + j < b && n < limit; j++) {
		i = rev ? b - 1 - j : a + j;
		k = buf_bytes(&f->kv[i].key);
		if (!kv_live(&f->kv[i]))
			continue;
		buf_addstr(c->reply, "VALUE");
		proto_add_token(c->reply, k.ptr, k.len);
		if (!key_only)
			proto_add_token(c->reply, f->kv[i].val.data,
			    f->kv[i].val.len);
		proto_end_line(c->reply);
		n++;
	}
	proto_reply_word(c->reply, PROTO_END);
}

static void
fake_raw_delete_range(struct proto_call *c)
{
	struct fake *f = call_fake(c);
	struct fregion *x;
	struct bytes lo, hi;
	size_t i;
	int found;

	if ((x = check(c, 1, 2, 1, 1)) == NULL)
		return;
	clamp(x, c, &lo, &hi);
	i = kv_find(f, lo, &found);
	while (i < f->nkv && in_range(buf_bytes(&f->kv[i].key), lo, hi))
		kv_del_at(f, i);
	proto_reply_ok(c->reply);
}

static void
fake_raw_cas(struct proto_call *c)
{
	struct fake *f = call_fake(c);
	struct kvent *e;
	struct buf prev = BUF_INIT;
	size_t i = 2;
	int had, ok;

	if (check(c, 1, 2, 1, 1) == NULL)
		return;
	e = kv_get(f, c->argv[1]);
	had = e != NULL;
	if (had)
		buf_add(&prev, e->val.data, e->val.len);
	if (word_is(c->argv[i], "ABSENT")) {
		ok = !had;
		i++;
	} else {
		ok = had && bytes_eq(buf_bytes(&prev), c->argv[i + 1]);
		i += 2;
	}
	if (ok && word_is(c->argv[i], "DELETE"))
		kv_del(f, c->argv[1]);
	else if (ok)
		kv_put(f, c->argv[1], c->argv[i + 1], i + 2 < c->argc ?
		    arg_u64(c, i + 2) : 0);
	buf_addstr(c->reply, ok ? "OK SWAPPED" : "OK FAILED");
	if (had) {
		proto_add_str(c->reply, "VALUE");
		proto_add_token(c->reply, prev.data, prev.len);
	} else {
		proto_add_str(c->reply, "ABSENT");
	}
	proto_end_line(c->reply);
	buf_free(&prev);
}

static void
fake_raw_get_ttl(struct proto_call *c)
{
	struct kvent *e;
	uint64_t now = wall_ms();

	if (check(c, 1, 2, 1, 0) == NULL)
		return;
	if ((e = kv_get(call_fake(c), c->argv[1])) == NULL) {
		proto_reply_word(c->reply, PROTO_NOT_FOUND);
		return;
	}
	buf_printf(c->reply, "VALUE %" PRIu64 "\n", e->expire_ms ?
	    (e->expire_ms - now + 999) / 1000 : 0);
}

/* FNV-1a of length, key and value: any function both sides agree on. */
static uint64_t
pair_hash(struct bytes k, struct bytes v)
{
	uint64_t h = 14695981039346656037ull;
	size_t i;

	h = (h ^ k.len) * 1099511628211ull;
	for (i = 0; i < k.len; i++)
		h = (h ^ k.ptr[i]) * 1099511628211ull;
	for (i = 0; i < v.len; i++)
		h = (h ^ v.ptr[i]) * 1099511628211ull;
	return h;
}

static void
fake_raw_checksum(struct proto_call *c)
{
	struct fake *f = call_fake(c);
	struct fregion *x;
	struct bytes lo, hi, k, v;
	uint64_t n = 0, bytes = 0, sum = 0;
	size_t i;
	int found;

	if ((x = check(c, 1, 2, 1, 0)) == NULL)
		return;
	clamp(x, c, &lo, &hi);
	for (i = kv_find(f, lo, &found); i < f->nkv; i++) {
		k = buf_bytes(&f->kv[i].key);
		v = buf_bytes(&f->kv[i].val);
		if (!in_range(k, lo, hi))
			break;
		if (!kv_live(&f->kv[i]))
			continue;
		n++;
		bytes += k.len + v.len;
		sum ^= pair_hash(k, v);
	}
	buf_printf(c->reply, "OK %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", n,
	    bytes, sum);
}

static void
fake_split_region(struct proto_call *c)
{
	struct fake *f = call_fake(c);
	uint64_t lid, rid;

	if (check(c, 1, 2, 1, 0) == NULL)
		return;
	if (do_split(f, c->argv[1], 1, &lid, &rid) == -1) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR, "%s",
		    log_reason());
		return;
	}
	buf_addstr(c->reply, "OK");
	region_format(&region_by_id(f, lid)->r, c->reply);
	region_format(&region_by_id(f, rid)->r, c->reply);
	proto_end_line(c->reply);
}

static void
fake_transfer_leader(struct proto_call *c)
{
	struct fstore *s = c->ctx;
	struct fake *f = s->f;
	const struct region_peer *p;
	struct fregion *x = region_by_id(f, arg_u64(c, 0));

	if (x == NULL || region_peer_on_store(&x->r, s->id) == NULL) {
		proto_reply_error(c->reply, PROTO_REGION_NOT_FOUND, "%" PRIu64,
		    arg_u64(c, 0));
		return;
	}
	if (x->leader_store != s->id) {
		buf_printf(c->reply, "NOT_LEADER %" PRIu64 " %" PRIu64 " %s\n",
		    x->r.id, x->leader_store,
		    f->stores[x->leader_store - 1].url);
		return;
	}
	if ((p = region_peer_by_id(&x->r, arg_u64(c, 1))) == NULL) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR, "no such peer");
		return;
	}
	x->leader_store = p->store_id;
	report(f, x, NULL);
	proto_reply_ok(c->reply);
}

static void
fake_ctl_leader(struct proto_call *c)
{
	struct fake *f = call_fake(c);
	struct fregion *x = region_by_id(f, arg_u64(c, 0));
	uint64_t st = arg_u64(c, 1);

	if (x == NULL || region_peer_on_store(&x->r, st) == NULL) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR, "no such peer");
		return;
	}
	x->leader_store = st;
	if (arg_u64(c, 2))
		report(f, x, NULL);
	proto_reply_ok(c->reply);
}

static void
fake_ctl_split(struct proto_call *c)
{
	uint64_t lid, rid;

	if (do_split(call_fake(c), c->argv[0], arg_u64(c, 1) != 0, &lid,
	    &rid) == -1) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR, "%s",
		    log_reason());
		return;
	}
	buf_printf(c->reply, "OK %" PRIu64 " %" PRIu64 "\n", lid, rid);
}

static void
fake_ctl_knob(struct proto_call *c)
{
	struct fake *f = call_fake(c);

	if (strcmp(c->cmd->name, "FAKE_BUSY") == 0)
		f->busy = (int)arg_u64(c, 0);
	else if (strcmp(c->cmd->name, "FAKE_STALE") == 0)
		f->stale = (int)arg_u64(c, 0);
	else if (c->argc == 2) {
		f->late = (int)arg_u64(c, 0);
		f->late_ms = (int)arg_u64(c, 1);
	}
	proto_reply_ok(c->reply);
}

static void
fake_ctl_stats(struct proto_call *c)
{
	struct fstore *s = c->ctx;

	buf_printf(c->reply, "OK %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
	    s->st.messages, s->st.commands, s->st.writes);
}

static const struct proto_cmd fake_cmds[] = {
	{ "FAKE_BUSY", 1, 1, "FAKE_BUSY n", "", fake_ctl_knob },
	{ "FAKE_LATE", 2, 2, "FAKE_LATE n ms", "", fake_ctl_knob },
	{ "FAKE_LEADER", 3, 3, "FAKE_LEADER region store tell", "",
	    fake_ctl_leader },
	{ "FAKE_SPLIT", 2, 2, "FAKE_SPLIT key tell", "", fake_ctl_split },
	{ "FAKE_STALE", 1, 1, "FAKE_STALE n", "", fake_ctl_knob },
	{ "FAKE_STATS", 0, 0, "FAKE_STATS", "", fake_ctl_stats },
	{ "RAW_BATCH_DELETE", 2, -1, "", "", fake_raw_delete },
	{ "RAW_BATCH_GET", 2, -1, "", "", fake_raw_batch_get },
	{ "RAW_BATCH_PUT", 2, -1, "", "", fake_raw_batch_put },
	{ "RAW_CAS", 4, 7, "", "", fake_raw_cas },
	{ "RAW_CHECKSUM", 3, 3, "", "", fake_raw_checksum },
	{ "RAW_DELETE", 2, 2, "", "", fake_raw_delete },
	{ "RAW_DELETE_RANGE", 3, 3, "", "", fake_raw_delete_range },
	{ "RAW_GET", 2, 2, "", "", fake_raw_get },
	{ "RAW_GET_TTL", 2, 2, "", "", fake_raw_get_ttl },
	{ "RAW_PUT", 3, 4, "", "", fake_raw_put },
	{ "RAW_SCAN", 4, 6, "", "", fake_raw_scan },
	{ "SPLIT_REGION", 2, 2, "", "", fake_split_region },
	{ "TRANSFER_LEADER", 2, 2, "", "", fake_transfer_leader },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static void *
late_main(void *arg)
{
	struct late_reply *l = arg;
	struct timespec ts = { l->ms / 1000, (long)(l->ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
	net_req_reply_buf(l->req, &l->reply);
	buf_free(&l->reply);
	pthread_mutex_lock(&l->f->mu);
	l->f->nlate--;
	pthread_cond_broadcast(&l->f->cv);
	pthread_mutex_unlock(&l->f->mu);
	free(l);
	return NULL;
}

static size_t
count_lines(const uint8_t *p, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

static void
handle(struct net_req *req, void *arg)
{
	struct fstore *s = arg;
	struct fake *f = s->f;
	struct late_reply *l = NULL;
	struct buf reply = BUF_INIT;
	pthread_t t;
	const void *data;
	size_t len;

	data = net_req_data(req, &len);
	pthread_mutex_lock(&f->mu);
	s->st.messages++;
	s->st.commands += count_lines(data, len);
	proto_dispatch(fake_cmds, s, data, len, &reply);
	if (f->late > 0) {
		f->late--;
		l = xcalloc(1, sizeof(*l));
		l->f = f;
		l->req = req;
		l->reply = reply;
		l->ms = f->late_ms;
		f->nlate++;
	}
	pthread_mutex_unlock(&f->mu);
	flush_reports(f);
	if (l == NULL) {
		net_req_reply_buf(req, &reply);
		buf_free(&reply);
		return;
	}
	if (pthread_create(&t, NULL, late_main, l) != 0)
		fatalx("fake: cannot start a thread");
	pthread_detach(t);
}

/* --- start, stop, knobs -------------------------------------------------- */

struct fake *
fake_start(const char *pd_url, int n)
{
	char *ep = xstrdup(pd_url);
	struct fake *f = xcalloc(1, sizeof(*f));
	struct region first;
	struct fstore *s;
	int i;

	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->flush_mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->next_id = 1000000;
	if (n < 1 || n > FAKE_MAX_STORES)
		fatalx("fake: 1 to %d stores", FAKE_MAX_STORES);
	if ((f->pd = pdclient_open(&ep, 1, 5000)) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		s = &f->stores[i];
		s->f = f;
		s->id = (uint64_t)i + 1;
		if ((s->srv = net_server_start("tcp://127.0.0.1:0", 8,
		    NET_DEFAULT_MAXMSG, handle, s)) == NULL)
			goto fail;
		strlcpy(s->url, net_server_url(s->srv), sizeof(s->url));
		f->nstores++;
	}
	region_init(&first);
	first.id = 2;
	first.epoch.conf_ver = 1;
	first.epoch.version = 1;
	region_add_peer(&first, 3, 1, REGION_VOTER);
	if (pdclient_bootstrap(f->pd, 1, f->stores[0].url, &first) == -1)
		goto fail_region;
	for (i = 1; i < n; i++) {
		if (pdclient_put_store(f->pd, (uint64_t)i + 1,
		    f->stores[i].url) == -1)
			goto fail_region;
		region_add_peer(&first, 3 + (uint64_t)i, (uint64_t)i + 1,
		    REGION_VOTER);
		first.epoch.conf_ver++;
	}
	f->regs = xcalloc(1, sizeof(f->regs[0]));
	region_init(&f->regs[0].r);
	region_copy(&f->regs[0].r, &first);
	f->regs[0].leader_store = 1;
	f->nregs = 1;
	region_free(&first);
	report(f, &f->regs[0], NULL);
	flush_reports(f);
	free(ep);
	return f;
fail_region:
	region_free(&first);
fail:
	free(ep);
	fake_stop(f);
	return NULL;
}

void
fake_stop(struct fake *f)
{
	size_t i;
	int k;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	while (f->nlate > 0)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	for (k = 0; k < f->nstores; k++)
		net_server_stop(f->stores[k].srv);
	for (i = 0; i < f->nreports; i++) {
		region_free(&f->reports[i].r[0]);
		region_free(&f->reports[i].r[1]);
	}
	free(f->reports);
	pthread_mutex_destroy(&f->flush_mu);
	if (f->pd != NULL)
		pdclient_close(f->pd);
	for (i = 0; i < f->nregs; i++)
		region_free(&f->regs[i].r);
	free(f->regs);
	while (f->nkv > 0)
		kv_del_at(f, f->nkv - 1);
	free(f->kv);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

const char *
fake_store_url(const struct fake *f, int id)
{
	return f->stores[id - 1].url;
}

int
fake_set_leader(struct fake *f, uint64_t region_id, uint64_t store_id,
    int tell_pd)
{
	struct fregion *x;
	int rc = -1;

	pthread_mutex_lock(&f->mu);
	x = region_by_id(f, region_id);
	if (x != NULL && region_peer_on_store(&x->r, store_id) != NULL) {
		x->leader_store = store_id;
		if (tell_pd)
			report(f, x, NULL);
		rc = 0;
	}
	pthread_mutex_unlock(&f->mu);
	flush_reports(f);
	return rc;
}

int
fake_split(struct fake *f, const void *key, size_t len, int tell_pd,
    uint64_t *left_id, uint64_t *right_id)
{
	struct bytes k = { key, len };
	int rc;

	pthread_mutex_lock(&f->mu);
	rc = do_split(f, k, tell_pd, left_id, right_id);
	pthread_mutex_unlock(&f->mu);
	flush_reports(f);
	return rc;
}

void
fake_busy(struct fake *f, int n)
{
	pthread_mutex_lock(&f->mu);
	f->busy = n;
	pthread_mutex_unlock(&f->mu);
}

void
fake_stale(struct fake *f, int n)
{
	pthread_mutex_lock(&f->mu);
	f->stale = n;
	pthread_mutex_unlock(&f->mu);
}

void
fake_late(struct fake *f, int n, int ms)
{
	pthread_mutex_lock(&f->mu);
	f->late = n;
	f->late_ms = ms;
	pthread_mutex_unlock(&f->mu);
}

void
fake_hide_leader(struct fake *f, int on)
{
	pthread_mutex_lock(&f->mu);
	f->hide_leader = on;
	pthread_mutex_unlock(&f->mu);
}

void
fake_get_stats(struct fake *f, int id, struct fake_stats *st)
{
	pthread_mutex_lock(&f->mu);
	*st = f->stores[id - 1].st;
	pthread_mutex_unlock(&f->mu);
}
