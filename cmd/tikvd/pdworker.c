/*
 * tikvd's dealings with PD: joining the cluster, then one thread for
 * store and region heartbeats, PD's operators and splits.
 *
 * The thread serves a queue of tasks (a region to report, a split to
 * report, a manual split) and three timers from the config: store
 * heartbeats, region heartbeats and split checks.  Timers come first
 * when due, so a flood of tasks cannot starve them.  Nothing else waits
 * for this thread: the raftstore and the service only post to its queue.
 *
 * Region sizes come from kv_range_stats over the raw family and the
 * transaction families holding data (WRITE, DEFAULT), which scans the
 * range; the last measurement of each region is kept (keyed by region id,
 * valid for one epoch version, since only a split or merge moves a
 * range) and reused by heartbeats until the next split check.
 */
#include <sys/queue.h>
#include <sys/statvfs.h>
#include <sys/tree.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "cmdfmt.h"
#include "codec.h"
#include "kv.h"
#include "localmeta.h"
#include "log.h"
#include "pdclient.h"
#include "pdworker.h"
#include "proto.h"
#include "raft.h"
#include "raftstore.h"
#include "raw.h"
#include "region.h"
#include "request.h"
#include "schema.h"
#include "tikvd.h"
#include "xmalloc.h"

#define REPORT_SPLIT_TRIES	5
#define REPORT_SPLIT_RETRY_MS	1000
/* A split proposed is not proposed again for this many check intervals,
 * unless the region's version moved (it applied). */
#define SPLIT_WAIT_CHECKS	3
/* Expired keys deleted per region per split check. */
#define SWEEP_BATCH		256
#define DEFAULT_INTERVAL_MS	10000

enum task_kind {
	TASK_HEARTBEAT,		/* region_id */
	TASK_SPLIT_DONE,	/* left, right */
	TASK_SPLIT		/* region_id or key; slot */
};

struct task {
	TAILQ_ENTRY(task) entry;
	enum task_kind kind;
	uint64_t region_id;
	struct region left;
	struct region right;
	struct buf key;
	struct slot *slot;
	struct region_epoch epoch;	/* TASK_SPLIT: the client's */
	int has_epoch;
};

TAILQ_HEAD(task_queue, task);

/* The last measurement of a region this store led. */
struct rstat {
	RB_ENTRY(rstat) entry;
	uint64_t region_id;
	uint64_t version;		/* epoch version measured at */
	uint64_t keys;
	uint64_t bytes;
	uint64_t gen;			/* last pass that saw the region */
	int split_proposed;
	uint64_t split_version;
	uint64_t split_at_ms;
};

RB_HEAD(rstat_tree, rstat);

struct pdworker {
	struct store *st;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* on the monotonic clock */
	int stop;
	struct task_queue tasks;
	/* The worker thread's own. */
	struct rstat_tree stats;
	uint64_t gen;
	int pd_down;			/* the last call got no answer */
	uint64_t next_store_hb;
	uint64_t next_region_hb;
	uint64_t next_split_check;
};

static int
rstat_cmp(const struct rstat *a, const struct rstat *b)
{
	return a->region_id < b->region_id ? -1 :
	    a->region_id > b->region_id;
}

/* libbsd's RB_GENERATE_STATIC needs a __unused it leaves undefined. */
RB_GENERATE_INTERNAL(rstat_tree, rstat, entry, rstat_cmp,
    __attribute__((__unused__)) static)

/* Prefixes the current reason with a formatted message; returns -1. */
static int __attribute__((format(printf, 1, 2)))
failf(const char *fmt, ...)
{
	char why[512];
	struct buf msg = BUF_INIT;
	va_list ap;

	strlcpy(why, log_reason(), sizeof(why));
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	log_setreason("%s: %s", (const char *)msg.data, why);
	buf_free(&msg);
	return -1;
}

/* The queue. */

static void
task_free(struct task *t)
{
	if (t->slot != NULL)
		slot_error(t->slot, PROTO_SERVER_ERROR, "tikvd is stopping");
	region_free(&t->left);
	region_free(&t->right);
	buf_free(&t->key);
	free(t);
}

static struct task *
task_new(enum task_kind kind, uint64_t region_id)
{
	struct task *t = xcalloc(1, sizeof(*t));

	t->kind = kind;
	t->region_id = region_id;
	region_init(&t->left);
	region_init(&t->right);
	buf_init(&t->key);
	return t;
}

/* Queues t, or refuses it (task_free) when the worker stops. */
static void
enqueue(struct pdworker *pw, struct task *t)
{
	struct task *x;

	pthread_mutex_lock(&pw->mu);
	if (pw->stop) {
		pthread_mutex_unlock(&pw->mu);
		task_free(t);
		return;
	}
	if (t->kind == TASK_HEARTBEAT) {
		TAILQ_FOREACH(x, &pw->tasks, entry)
			if (x->kind == TASK_HEARTBEAT &&
			    x->region_id == t->region_id)
				break;
		if (x != NULL) {
			pthread_mutex_unlock(&pw->mu);
			task_free(t);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&pw->tasks, t, entry);
	pthread_cond_signal(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
}

static void
enqueue_heartbeat(struct pdworker *pw, uint64_t region_id)
{
	enqueue(pw, task_new(TASK_HEARTBEAT, region_id));
}

static void
wait_until(struct pdworker *pw, uint64_t deadline_ms)
{
	struct timespec ts;

	ts.tv_sec = deadline_ms / 1000;
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
	pthread_cond_timedwait(&pw->cv, &pw->mu, &ts);
}

/* Waits ms or until stop; 1 if stopping. */
static int
pause_ms(struct pdworker *pw, uint64_t ms)
{
	uint64_t deadline = clock_mono_ms() + ms;
	int stop;

	pthread_mutex_lock(&pw->mu);
	while (!pw->stop && clock_mono_ms() < deadline)
		wait_until(pw, deadline);
	stop = pw->stop;
	pthread_mutex_unlock(&pw->mu);
	return stop;
}

static int
stopping(struct pdworker *pw)
{
	int stop;

	pthread_mutex_lock(&pw->mu);
	stop = pw->stop;
	pthread_mutex_unlock(&pw->mu);
	return stop;
}

/* Joining. */

static int
join_store_id(struct store *st)
{
	uint64_t id;
	int rc;

	if ((rc = localmeta_get_u64(st->kv, LOCALMETA_STORE_ID, &id)) == -1)
		return -1;
	if (rc == 0) {
		if (pdclient_alloc_id(st->pd, &id) == -1)
			return failf("cannot get a store id from PD");
		if (localmeta_put_u64(st->kv, LOCALMETA_STORE_ID, id) == -1)
			return -1;
		log_info("store id %" PRIu64 " from PD", id);
	}
	st->store_id = id;
	return 0;
}

enum boot_owner {
	BOOT_OURS,		/* the cluster's first region is ours */
	BOOT_THEIRS,		/* another store's: ours was removed */
	BOOT_NONE		/* not bootstrapped: ours was removed */
};

/*
 * A first region made here whose BOOTSTRAP may or may not have been taken
 * (a crash, a lost reply, a lost race): PD knows.  Region ids come from
 * PD's allocator, so if PD knows this one the cluster is ours; otherwise
 * the local region goes.  Either way the bootstrap record is cleared.
 * -1 when PD cannot tell now (the record stays for the next start).
 */
static int
resolve_bootstrap(struct store *st, uint64_t region_id)
{
	struct pd_region pr;
	enum boot_owner owner = BOOT_NONE;
	int yes, rc, e;

	if (pdclient_is_bootstrapped(st->pd, &yes) == -1)
		return failf("cannot ask PD whether region %" PRIu64
		    " bootstrapped the cluster", region_id);
	if (yes) {
		region_init(&pr.region);
		rc = pdclient_get_region_by_id(st->pd, region_id, &pr);
		e = errno;
		region_free(&pr.region);
		if (rc == 0)
			owner = BOOT_OURS;
		else if (e == ENOENT)
			owner = BOOT_THEIRS;
		else
			return failf("cannot ask PD for region %" PRIu64,
			    region_id);
	}
	if (owner != BOOT_OURS) {
		if (raftstore_unbootstrap_region(st, region_id) == -1)
			return failf("cannot remove the local first region %"
			    PRIu64, region_id);
		log_info("region %" PRIu64 " is not the cluster's first "
		    "region: removed", region_id);
	}
	if (localmeta_delete_u64(st->kv, LOCALMETA_BOOTSTRAP) == -1)
		return -1;
	return owner;
}

/* This store creates the first region and offers it to PD. */
static int
bootstrap(struct store *st)
{
	struct region r;
	uint64_t first;
	char why[512];
	int owner, rc = -1;

	if (pdclient_alloc_ids(st->pd, 2, &first) == -1)
		return failf("cannot get ids for the first region");
	region_init(&r);
	r.id = first;
	r.epoch.conf_ver = 1;
	r.epoch.version = 1;
	region_add_peer(&r, first + 1, st->store_id, REGION_VOTER);
	/* Recorded first, so a crash from here on is resolved at start. */
	if (localmeta_put_u64(st->kv, LOCALMETA_BOOTSTRAP, r.id) == -1)
		goto out;
	if (raftstore_bootstrap_region(st, &r) == -1) {
		failf("cannot create the first region %" PRIu64, r.id);
		goto out;
	}
	if (pdclient_bootstrap(st->pd, st->store_id, st->addr, &r) == 0) {
		if (localmeta_delete_u64(st->kv, LOCALMETA_BOOTSTRAP) == -1)
			goto out;
		log_info("bootstrapped the cluster: store %" PRIu64
		    ", region %" PRIu64, st->store_id, r.id);
		rc = 0;
		goto out;
	}
	strlcpy(why, log_reason(), sizeof(why));
	if ((owner = resolve_bootstrap(st, r.id)) == -1)
		goto out;
	switch (owner) {
	case BOOT_OURS:
		log_info("bootstrapped the cluster (the reply was lost): "
		    "store %" PRIu64 ", region %" PRIu64, st->store_id, r.id);
		rc = 0;
		break;
	case BOOT_THEIRS:
		log_info("another store bootstrapped the cluster first");
		rc = 0;
		break;
	default:
		log_setreason("PD refused to bootstrap: %s", why);
		break;
	}
out:
	region_free(&r);
	return rc;
}

int
pdworker_join(struct store *st)
{
	uint64_t rid;
	int yes, rc;

	if (join_store_id(st) == -1)
		return -1;
	if ((rc = localmeta_get_u64(st->kv, LOCALMETA_BOOTSTRAP, &rid)) == -1)
		return -1;
	if (rc == 1) {
		log_info("resolving the bootstrap of region %" PRIu64
		    " left by the last run", rid);
		if (resolve_bootstrap(st, rid) == -1)
			return -1;
	}
	if (pdclient_is_bootstrapped(st->pd, &yes) == -1)
		return failf("cannot ask PD whether the cluster is "
		    "bootstrapped");
	if (!yes && bootstrap(st) == -1)
		return -1;
	if (pdclient_put_store(st->pd, st->store_id, st->addr) == -1)
		return failf("cannot register store %" PRIu64 " at '%s'",
		    st->store_id, st->addr);
	return 0;
}

/* PD calls from the thread: an unreachable PD is logged once. */

static void
pd_ok(struct pdworker *pw)
{
	if (pw->pd_down)
		log_info("PD at '%s' answers again",
		    pdclient_endpoint(pw->st->pd));
	pw->pd_down = 0;
}

static void __attribute__((format(printf, 2, 3)))
pd_failed(struct pdworker *pw, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (e != ETIMEDOUT) {
		pd_ok(pw);
		log_warnx("%s: %s", (const char *)msg.data, log_reason());
	} else if (!pw->pd_down) {
		log_warnx("%s: %s", (const char *)msg.data, log_reason());
		pw->pd_down = 1;
	} else
		log_debug("%s: %s", (const char *)msg.data, log_reason());
	buf_free(&msg);
	errno = e;
}

/* Region measurements. */

static struct rstat *
rstat_find(struct pdworker *pw, uint64_t id)
{
	struct rstat key;

	key.region_id = id;
	return RB_FIND(rstat_tree, &pw->stats, &key);
}

/*
 * Measures r's data, raw and transactional: keys, bytes, and the middle
 * user key of the family holding the most bytes (within about 1/32).
 * -1 on a read error.
 */
static int
measure_data(struct kv *kv, const struct region *r,
    struct kv_range_stats *out)
{
	static const enum kv_cf fams[] = { KV_CF_RAW, KV_CF_WRITE,
	    KV_CF_DEFAULT };
	struct buf lo = BUF_INIT, hi = BUF_INIT;
	struct kv_range_stats ks;
	uint64_t most = 0, ts;
	size_t i;
	int rc = 0;

	memset(&ks, 0, sizeof(ks));
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]) && rc == 0; i++) {
		kv_cf_bounds(fams[i], r->start.data, r->start.len,
		    r->end.data, r->end.len, &lo, &hi);
		if ((rc = kv_range_stats(kv, fams[i], lo.data, lo.len,
		    hi.data, hi.len, &ks)) == -1)
			break;
		out->keys += ks.keys;
		out->bytes += ks.bytes;
		if (ks.bytes <= most || ks.middle.len == 0)
			continue;
		most = ks.bytes;
		buf_reset(&out->middle);
		if (!kv_cf_encodes_keys(fams[i]))
			buf_add(&out->middle, ks.middle.data, ks.middle.len);
		else if (codec_mvcc_split(ks.middle.data, ks.middle.len,
		    &out->middle, &ts) == -1)
			buf_reset(&out->middle);
	}
	buf_free(&ks.middle);
	buf_free(&lo);
	buf_free(&hi);
	return rc;
}

/*
 * Measures r's data; keeps the figures; middle (if not NULL) gets a
 * key near the middle.  NULL on a read error (logged).
 */
static struct rstat *
measure(struct pdworker *pw, const struct region *r, struct buf *middle)
{
	struct kv_range_stats ks;
	struct rstat *s;

	memset(&ks, 0, sizeof(ks));
	if (measure_data(pw->st->kv, r, &ks) == -1) {
		log_warnx("region %" PRIu64 ": cannot measure: %s", r->id,
		    log_reason());
		buf_free(&ks.middle);
		return NULL;
	}
	if ((s = rstat_find(pw, r->id)) == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->region_id = r->id;
		RB_INSERT(rstat_tree, &pw->stats, s);
	}
	s->version = r->epoch.version;
	s->keys = ks.keys;
	s->bytes = ks.bytes;
	s->gen = pw->gen;
	if (middle != NULL) {
		buf_reset(middle);
		buf_add(middle, ks.middle.data, ks.middle.len);
	}
	buf_free(&ks.middle);
	return s;
}

/* The last measurement of r, or a new one if r's range moved since. */
static struct rstat *
last_stats(struct pdworker *pw, const struct region *r)
{
	struct rstat *s = rstat_find(pw, r->id);

	if (s != NULL && s->version == r->epoch.version) {
		s->gen = pw->gen;
		return s;
	}
	return measure(pw, r, NULL);
}

/* Drops the figures of regions the last pass did not see led here. */
static void
sweep_stats(struct pdworker *pw)
{
	struct rstat *s, *next;

	for (s = RB_MIN(rstat_tree, &pw->stats); s != NULL; s = next) {
		next = RB_NEXT(rstat_tree, &pw->stats, s);
		if (s->gen != pw->gen) {
			RB_REMOVE(rstat_tree, &pw->stats, s);
			free(s);
		}
	}
}

static int
leads(const struct region_info *ri)
{
	return ri->initialized && ri->role == RAFT_LEADER;
}

/* Heartbeats and operators. */

static void
run_operator(struct pdworker *pw, const struct region_info *ri,
    const struct pd_operator *op)
{
	struct raftstore *rs = pw->st->rs;
	const struct region_peer *p;
	uint64_t id = ri->region.id;

	switch (op->type) {
	case PD_OP_ADD_LEARNER:
		log_debug("region %" PRIu64 ": PD: add learner %" PRIu64
		    " on store %" PRIu64, id, op->peer_id, op->store_id);
		raftstore_change_peer(rs, id, RAFT_CC_ADD_LEARNER,
		    op->peer_id, op->store_id, NULL);
		break;
	case PD_OP_PROMOTE_LEARNER:
	case PD_OP_REMOVE_PEER:
		if ((p = region_peer_by_id(&ri->region, op->peer_id)) ==
		    NULL) {
			log_debug("region %" PRIu64 ": PD's operator names "
			    "peer %" PRIu64 ", not in the region", id,
			    op->peer_id);
			break;
		}
		log_debug("region %" PRIu64 ": PD: %s peer %" PRIu64, id,
		    op->type == PD_OP_REMOVE_PEER ? "remove" : "promote",
		    op->peer_id);
		raftstore_change_peer(rs, id,
		    op->type == PD_OP_REMOVE_PEER ? RAFT_CC_REMOVE_NODE :
		    RAFT_CC_ADD_NODE, op->peer_id, p->store_id, NULL);
		break;
	case PD_OP_TRANSFER_LEADER:
		log_debug("region %" PRIu64 ": PD: transfer leader to %"
		    PRIu64, id, op->peer_id);
		raftstore_transfer_leader(rs, id, op->peer_id, NULL);
		break;
	default:
		break;
	}
}

/* -1 when PD did not answer. */
static int
heartbeat_region(struct pdworker *pw, const struct region_info *ri)
{
	struct pd_operator op;
	struct region newer;
	struct rstat *s;
	int stale = 0, rc = 0;

	if (!leads(ri))
		return 0;
	s = last_stats(pw, &ri->region);
	region_init(&newer);
	if (pdclient_region_heartbeat(pw->st->pd, &ri->region, ri->peer_id,
	    s ? s->bytes : 0, s ? s->keys : 0, ri->pending_peers,
	    ri->n_pending, &op, &stale, &newer) == 0) {
		pd_ok(pw);
		run_operator(pw, ri, &op);
	} else if (stale) {
		pd_ok(pw);
		log_info("region %" PRIu64 ": PD knows a newer epoch "
		    "(conf_ver %" PRIu64 ", version %" PRIu64 ")",
		    ri->region.id, newer.epoch.conf_ver,
		    newer.epoch.version);
	} else {
		pd_failed(pw, "region %" PRIu64 ": heartbeat",
		    ri->region.id);
		rc = errno == ETIMEDOUT ? -1 : 0;
	}
	region_free(&newer);
	return rc;
}

static void
heartbeat_region_id(struct pdworker *pw, uint64_t id)
{
	struct region_info ri;

	memset(&ri, 0, sizeof(ri));
	if (raftstore_region_by_id(pw->st->rs, id, &ri) == -1)
		return;
	(void)heartbeat_region(pw, &ri);
	raftstore_info_free(&ri, 1);
}

static void
region_heartbeats(struct pdworker *pw)
{
	struct region_info *v = NULL;
	size_t n = 0, i;

	if (raftstore_regions(pw->st->rs, &v, &n) == -1) {
		log_warnx("cannot list regions: %s", log_reason());
		return;
	}
	pw->gen++;
	/* PD not answering: the rest would only wait for it in turn. */
	for (i = 0; i < n && !stopping(pw); i++)
		if (heartbeat_region(pw, &v[i]) == -1)
			break;
	if (i == n)
		sweep_stats(pw);
	raftstore_info_free(v, n);
	free(v);
}

static void
store_heartbeat(struct pdworker *pw)
{
	struct store *st = pw->st;
	struct region_info *v = NULL;
	struct statvfs sv;
	uint64_t capacity = 0, available = 0, leaders = 0;
	size_t n = 0, i;

	if (statvfs(st->data_dir, &sv) == 0) {
		capacity = (uint64_t)sv.f_blocks * sv.f_frsize;
		available = (uint64_t)sv.f_bavail * sv.f_frsize;
	} else
		log_warn("cannot statvfs '%s'", st->data_dir);
	if (raftstore_regions(st->rs, &v, &n) == -1) {
		log_warnx("cannot list regions: %s", log_reason());
		return;
	}
	for (i = 0; i < n; i++)
		if (leads(&v[i]))
			leaders++;
	raftstore_info_free(v, n);
	free(v);
	if (pdclient_store_heartbeat(st->pd, st->store_id, capacity,
	    available, n, leaders) == 0) {
		pd_ok(pw);
		return;
	}
	pd_failed(pw, "store heartbeat");
	/* A PD that lost this store (its data, say) learns it again. */
	if (errno == ENOENT) {
		if (pdclient_put_store(st->pd, st->store_id, st->addr) == 0)
			log_info("registered store %" PRIu64 " with PD again",
			    st->store_id);
		else
			pd_failed(pw, "cannot register store %" PRIu64,
			    st->store_id);
	}
}

/* Splits. */

static void
split_refused(struct slot *slot, uint64_t region_id, int word,
    const char *what)
{
	if (slot != NULL)
		slot_error(slot, word, "cannot split region %" PRIu64 ": %s",
		    region_id, what);
	else
		log_warnx("cannot split region %" PRIu64 ": %s", region_id,
		    what);
}

/*
 * Ids from PD, then a CMD_SPLIT of r at key to the raftstore, which
 * replies to slot (NULL for automatic splits) once the split applied.
 */
static void
propose_split(struct pdworker *pw, const struct region *r, const void *key,
    size_t len, struct slot *slot)
{
	struct pdclient *pd = pw->st->pd;
	struct buf text = BUF_INIT;
	uint64_t new_id, first, ids[REGION_MAX_PEERS];
	struct cmd *c;
	size_t i;
	int e;

	if (pdclient_ask_split(pd, r->id, &new_id, ids, r->npeers) == -1) {
		e = errno;
		pd_failed(pw, "region %" PRIu64 ": ask split", r->id);
		/* PD's copy lags ours (a split or conf change not yet
		 * reported): any unique ids will do. */
		if ((e != ENOENT && e != ERANGE) ||
		    pdclient_alloc_ids(pd, r->npeers + 1, &first) == -1) {
			split_refused(slot, r->id, PROTO_SERVER_ERROR,
			    log_reason());
			return;
		}
		new_id = first;
		for (i = 0; i < r->npeers; i++)
			ids[i] = first + 1 + i;
	}
	pd_ok(pw);
	c = xmalloc(sizeof(*c));
	cmd_init(c);
	c->kind = CMD_SPLIT;
	c->region_id = r->id;
	c->epoch = r->epoch;
	buf_add(&c->split_key, key, len);
	c->new_region_id = new_id;
	for (i = 0; i < r->npeers; i++)
		c->new_peer_ids[i] = ids[i];
	c->n_new_peers = r->npeers;
	proto_escape(&text, key, len);
	log_info("region %" PRIu64 ": splitting at %s, new region %" PRIu64,
	    r->id, (const char *)text.data, new_id);
	buf_free(&text);
	raftstore_propose(pw->st->rs, c, slot);
}

static int
over_limits(const struct tikvd_config *cfg, const struct rstat *s)
{
	return s->bytes > cfg->region_max_size ||
	    (cfg->region_max_keys > 0 &&
	    s->keys > (uint64_t)cfg->region_max_keys);
}

static uint64_t
interval(uint64_t ms)
{
	return ms ? ms : DEFAULT_INTERVAL_MS;
}

static void
check_region(struct pdworker *pw, const struct region_info *ri,
    struct buf *middle)
{
	const struct region *r = &ri->region;
	const struct tikvd_config *cfg = pw->st->cfg;
	struct rstat *s;
	uint64_t now;

	if ((s = measure(pw, r, middle)) == NULL || !over_limits(cfg, s))
		return;
	now = clock_mono_ms();
	if (s->split_proposed && s->split_version == r->epoch.version &&
	    now - s->split_at_ms < SPLIT_WAIT_CHECKS *
	    interval(cfg->split_region_check_tick_interval))
		return;
	/* Too few keys to split, or one huge key at the start. */
	if (middle->len == 0 || bytes_eq(buf_bytes(middle),
	    buf_bytes(&r->start)) || !region_contains(r, middle->data,
	    middle->len))
		return;
	log_info("region %" PRIu64 ": %" PRIu64 " bytes, %" PRIu64
	    " keys: over the limits", r->id, s->bytes, s->keys);
	s->split_proposed = 1;
	s->split_version = r->epoch.version;
	s->split_at_ms = now;
	propose_split(pw, r, middle->data, middle->len, NULL);
}

/*
 * Deletes keys whose TTL expired, through Raft like any write; the
 * deletes are IF_EXPIRED, so a put that lands first survives.
 */
static void
sweep_expired(struct pdworker *pw, const struct region_info *ri)
{
	struct cmd *c = xmalloc(sizeof(*c));
	int n;

	cmd_init(c);
	n = raw_collect_expired(pw->st->kv, &ri->region, tikvd_now_ms(),
	    SWEEP_BATCH, c);
	if (n <= 0) {
		cmd_free(c);
		free(c);
		return;
	}
	log_debug("region %" PRIu64 ": deleting %d expired keys",
	    ri->region.id, n);
	raftstore_propose(pw->st->rs, c, NULL);
}

/*
 * The KV engine's file only grows (every checkpoint appends); rewrite it
 * compactly when it passed its bounds.  Heartbeats wait meanwhile, which
 * PD tolerates for far longer than a rebuild takes.
 */
static void
compact_kv(struct pdworker *pw)
{
	int64_t before;
	uint64_t t0;

	if (stopping(pw) || !kv_rebuild_needed(pw->st->kv))
		return;
	before = kv_file_size(pw->st->kv);
	t0 = clock_mono_ms();
	if (kv_rebuild(pw->st->kv) == -1) {
		log_warnx("cannot rebuild '%s': %s", kv_path(pw->st->kv),
		    log_reason());
		return;
	}
	log_info("rebuilt '%s' in %llu ms: %lld bytes, was %lld",
	    kv_path(pw->st->kv), (unsigned long long)(clock_mono_ms() - t0),
	    (long long)kv_file_size(pw->st->kv), (long long)before);
}

static void
split_check(struct pdworker *pw)
{
	struct region_info *v = NULL;
	struct buf middle = BUF_INIT;
	size_t n = 0, i;

	if (raftstore_regions(pw->st->rs, &v, &n) == -1) {
		log_warnx("cannot list regions: %s", log_reason());
		return;
	}
	pw->gen++;
	for (i = 0; i < n && !stopping(pw); i++) {
		if (leads(&v[i])) {
			check_region(pw, &v[i], &middle);
			sweep_expired(pw, &v[i]);
		}
	}
	if (i == n)
		sweep_stats(pw);
	buf_free(&middle);
	compact_kv(pw);
	raftstore_info_free(v, n);
	free(v);
}

static void
manual_split(struct pdworker *pw, struct task *t)
{
	struct region_info ri;
	struct region *r = &ri.region;
	struct buf line = BUF_INIT;
	int rc;

	memset(&ri, 0, sizeof(ri));
	if (t->region_id != 0)
		rc = raftstore_region_by_id(pw->st->rs, t->region_id, &ri);
	else
		rc = raftstore_region_by_key(pw->st->rs, t->key.data,
		    t->key.len, &ri);
	if (rc == -1 || !ri.initialized) {
		slot_error(t->slot, PROTO_REGION_NOT_FOUND, "%" PRIu64,
		    t->region_id);
	} else if (!region_contains(r, t->key.data, t->key.len)) {
		buf_addstr(&line, proto_word_name(PROTO_KEY_NOT_IN_REGION));
		proto_add_token(&line, t->key.data, t->key.len);
		proto_add_u64(&line, r->id);
		proto_add_token(&line, r->start.data, r->start.len);
		proto_add_token(&line, r->end.data, r->end.len);
		proto_end_line(&line);
		slot_done(t->slot, &line);
	} else if (bytes_eq(buf_bytes(&t->key), buf_bytes(&r->start)))
		slot_error(t->slot, PROTO_CLIENT_ERROR, "split key is the "
		    "start of region %" PRIu64, r->id);
	else {
		/* The raftstore refuses a split of an epoch it has left. */
		if (t->has_epoch)
			r->epoch = t->epoch;
		propose_split(pw, r, t->key.data, t->key.len, t->slot);
	}
	t->slot = NULL;
	buf_free(&line);
	if (rc == 0)
		raftstore_info_free(&ri, 1);
}

static void
report_split(struct pdworker *pw, struct task *t)
{
	int i;

	for (i = 1; i <= REPORT_SPLIT_TRIES; i++) {
		if (pdclient_report_split(pw->st->pd, &t->left,
		    &t->right) == 0) {
			pd_ok(pw);
			break;
		}
		pd_failed(pw, "report split of region %" PRIu64
		    " (try %d of %d)", t->left.id, i, REPORT_SPLIT_TRIES);
		/* A refusal will not change; heartbeats tell PD later. */
		if (errno != ETIMEDOUT || pause_ms(pw, REPORT_SPLIT_RETRY_MS))
			break;
	}
	enqueue_heartbeat(pw, t->left.id);
	enqueue_heartbeat(pw, t->right.id);
}

/* The thread. */

static void
run_task(struct pdworker *pw, struct task *t)
{
	switch (t->kind) {
	case TASK_HEARTBEAT:
		heartbeat_region_id(pw, t->region_id);
		break;
	case TASK_SPLIT_DONE:
		report_split(pw, t);
		break;
	case TASK_SPLIT:
		manual_split(pw, t);
		break;
	}
}

static void
run_timers(struct pdworker *pw, uint64_t now)
{
	const struct tikvd_config *cfg = pw->st->cfg;

	if (now >= pw->next_store_hb) {
		store_heartbeat(pw);
		pw->next_store_hb = clock_mono_ms() +
		    interval(cfg->pd_store_heartbeat_tick_interval);
	}
	if (now >= pw->next_region_hb) {
		region_heartbeats(pw);
		pw->next_region_hb = clock_mono_ms() +
		    interval(cfg->pd_heartbeat_tick_interval);
	}
	if (now >= pw->next_split_check) {
		split_check(pw);
		pw->next_split_check = clock_mono_ms() +
		    interval(cfg->split_region_check_tick_interval);
	}
}

static uint64_t
next_timer(const struct pdworker *pw)
{
	uint64_t next = pw->next_store_hb;

	if (pw->next_region_hb < next)
		next = pw->next_region_hb;
	if (pw->next_split_check < next)
		next = pw->next_split_check;
	return next;
}

static void *
worker_main(void *arg)
{
	struct pdworker *pw = arg;
	struct task *t;
	uint64_t now;

	pthread_mutex_lock(&pw->mu);
	while (!pw->stop) {
		now = clock_mono_ms();
		if (now >= next_timer(pw)) {
			pthread_mutex_unlock(&pw->mu);
			run_timers(pw, now);
			pthread_mutex_lock(&pw->mu);
			continue;
		}
		if ((t = TAILQ_FIRST(&pw->tasks)) != NULL) {
			TAILQ_REMOVE(&pw->tasks, t, entry);
			pthread_mutex_unlock(&pw->mu);
			run_task(pw, t);
			task_free(t);
			pthread_mutex_lock(&pw->mu);
			continue;
		}
		wait_until(pw, next_timer(pw));
	}
	pthread_mutex_unlock(&pw->mu);
	return NULL;
}

struct pdworker *
pdworker_start(struct store *st)
{
	struct pdworker *pw = xcalloc(1, sizeof(*pw));
	const struct tikvd_config *cfg = st->cfg;
	pthread_condattr_t ca;
	uint64_t now = clock_mono_ms();
	int rv;

	pw->st = st;
	pthread_mutex_init(&pw->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pw->cv, &ca);
	pthread_condattr_destroy(&ca);
	TAILQ_INIT(&pw->tasks);
	RB_INIT(&pw->stats);
	/* The store reports at once; regions after a first interval, or
	 * sooner when the raftstore reports them. */
	pw->next_store_hb = now;
	pw->next_region_hb = now + interval(cfg->pd_heartbeat_tick_interval);
	pw->next_split_check = now +
	    interval(cfg->split_region_check_tick_interval);
	if ((rv = pthread_create(&pw->thread, NULL, worker_main, pw)) != 0) {
		errno = rv;
		fatal("cannot start the PD worker");
	}
	return pw;
}

void
pdworker_stop(struct pdworker *pw)
{
	struct task *t;
	struct rstat *s, *next;

	if (pw == NULL)
		return;
	pthread_mutex_lock(&pw->mu);
	pw->stop = 1;
	pthread_cond_signal(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
	pthread_join(pw->thread, NULL);
	while ((t = TAILQ_FIRST(&pw->tasks)) != NULL) {
		TAILQ_REMOVE(&pw->tasks, t, entry);
		task_free(t);
	}
	for (s = RB_MIN(rstat_tree, &pw->stats); s != NULL; s = next) {
		next = RB_NEXT(rstat_tree, &pw->stats, s);
		RB_REMOVE(rstat_tree, &pw->stats, s);
		free(s);
	}
	pthread_mutex_destroy(&pw->mu);
	pthread_cond_destroy(&pw->cv);
	free(pw);
}

/* Posting, from other threads. */

void
pdworker_region_changed(struct pdworker *pw, uint64_t region_id)
{
	/* Before pdworker_start the periodic heartbeat catches up. */
	if (pw == NULL)
		return;
	enqueue_heartbeat(pw, region_id);
}

void
pdworker_split_done(struct pdworker *pw, const struct region *left,
    const struct region *right)
{
	struct task *t;

	if (pw == NULL) {
		log_info("region %" PRIu64 ": split before the PD worker "
		    "started: heartbeats will report it", left->id);
		return;
	}
	t = task_new(TASK_SPLIT_DONE, left->id);
	region_copy(&t->left, left);
	region_copy(&t->right, right);
	enqueue(pw, t);
}

void
pdworker_split(struct pdworker *pw, uint64_t region_id,
    const struct region_epoch *epoch, const void *key, size_t len,
    struct slot *slot)
{
	struct task *t;

	if (pw == NULL) {
		slot_error(slot, PROTO_SERVER_IS_BUSY, "PD worker not started");
		return;
	}
	t = task_new(TASK_SPLIT, region_id);
	if (epoch != NULL) {
		t->epoch = *epoch;
		t->has_epoch = 1;
	}
	buf_add(&t->key, key, len);
	t->slot = slot;
	enqueue(pw, t);
}
