/*
 * Cluster metadata: the bootstrap record, stores and regions, routing by
 * key and id, and the replica checker that answers region heartbeats with
 * operators.
 *
 * On disk (KV_CF_META of datadir/meta/kv.tkt):
 *	"c"		cluster record: version, bootstrap time, first store
 *	"s" id(u64be)	store: version, address
 *	"r" id(u64be)	region_encode() followed by the leader peer id (u64be)
 * A change is written and checkpointed first and applied in memory after,
 * so memory never shows what the disk has not got.
 *
 * In memory: stores by id, regions by id and by start key (RB trees, the
 * key tree holds no overlapping ranges), all behind one mutex.
 */
#include <sys/stat.h>
#include <sys/tree.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cluster.h"
#include "codec.h"
#include "kv.h"
#include "log.h"
#include "pdd.h"
#include "proto.h"
#include "region.h"
#include "xmalloc.h"

#define RECORD_VERSION		1
#define OPERATOR_TIMEOUT_MS	10000
#define META_CACHE_PAGES	4096

enum store_state { STORE_UP, STORE_DISCONNECTED, STORE_DOWN };

static const char *const store_state_names[] = {
	"up", "disconnected", "down"
};

struct cstore {
	RB_ENTRY(cstore) entry;
	uint64_t id;
	struct buf addr;
	/* From the last store heartbeat. */
	uint64_t capacity, available, region_count, leader_count;
	uint64_t last_heartbeat_ms;	/* 0: none since pdd started */
	/* The state clock: last heartbeat, or when pdd learnt the store. */
	uint64_t seen_ms;
	/* Peers of known regions on this store, for placement. */
	uint64_t npeers;
};

enum op_kind {
	OP_NONE,
	OP_ADD_LEARNER,
	OP_PROMOTE_LEARNER,
	OP_REMOVE_PEER,
	OP_TRANSFER_LEADER
};

static const char *const op_names[] = {
	"", "ADD_LEARNER", "PROMOTE_LEARNER", "REMOVE_PEER", "TRANSFER_LEADER"
};

struct cregion {
	RB_ENTRY(cregion) by_id;
	RB_ENTRY(cregion) by_key;
	struct region r;
	uint64_t leader;
	/* From the last region heartbeat. */
	uint64_t size, keys;
	uint64_t pending[REGION_MAX_PEERS];
	size_t npending;
	uint64_t last_heartbeat_ms;
	/* The operator in flight, until the region shows it done. */
	enum op_kind op;
	uint64_t op_peer, op_store, op_deadline_ms;
};

RB_HEAD(store_tree, cstore);
RB_HEAD(region_id_tree, cregion);
RB_HEAD(region_key_tree, cregion);

struct cluster {
	pthread_mutex_t mu;
	struct kv *kv;
	struct kv_batch *batch;
	struct idalloc *ids;
	struct cluster_options opt;
	int bootstrapped;
	struct store_tree stores;
	struct region_id_tree regions;
	struct region_key_tree keys;
	size_t nstores, nregions;
};

static int
store_cmp(const struct cstore *a, const struct cstore *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

static int
region_id_cmp(const struct cregion *a, const struct cregion *b)
{
	return a->r.id < b->r.id ? -1 : a->r.id > b->r.id;
}

static int
region_key_cmp(const struct cregion *a, const struct cregion *b)
{
	return bytes_cmp(buf_bytes(&a->r.start), buf_bytes(&b->r.start));
}

/* libbsd's RB_GENERATE_STATIC needs a __unused it leaves undefined. */
#define TREE_GENERATE(name, type, field, cmp)				\
	RB_GENERATE_INTERNAL(name, type, field, cmp,			\
	    __attribute__((__unused__)) static)

TREE_GENERATE(store_tree, cstore, entry, store_cmp)
TREE_GENERATE(region_id_tree, cregion, by_id, region_id_cmp)
TREE_GENERATE(region_key_tree, cregion, by_key, region_key_cmp)

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Lookups. */

static struct cstore *
store_find(struct cluster *cl, uint64_t id)
{
	struct cstore probe;

	probe.id = id;
	return RB_FIND(store_tree, &cl->stores, &probe);
}

static struct cregion *
region_find(struct cluster *cl, uint64_t id)
{
	struct cregion probe;

	probe.r.id = id;
	return RB_FIND(region_id_tree, &cl->regions, &probe);
}

/* The region with the greatest start key <= key, or NULL. */
static struct cregion *
region_floor(struct cluster *cl, const uint8_t *key, size_t len)
{
	struct cregion probe, *x;

	probe.r.start.data = (uint8_t *)key;
	probe.r.start.len = len;
	x = RB_NFIND(region_key_tree, &cl->keys, &probe);
	if (x != NULL && region_key_cmp(x, &probe) == 0)
		return x;
	return x ? RB_PREV(region_key_tree, &cl->keys, x) :
	    RB_MAX(region_key_tree, &cl->keys);
}

/* The first region overlapping [start, ...) in key order, or NULL. */
static struct cregion *
region_first_from(struct cluster *cl, struct bytes start)
{
	struct cregion *x;

	x = region_floor(cl, start.ptr, start.len);
	if (x == NULL)
		return RB_MIN(region_key_tree, &cl->keys);
	if (x->r.end.len == 0 || bytes_cmp(buf_bytes(&x->r.end), start) > 0)
		return x;
	return RB_NEXT(region_key_tree, &cl->keys, x);
}

/* Whether x starts before end ("" is the end of the key space). */
static int
region_before(const struct cregion *x, struct bytes end)
{
	return end.len == 0 || bytes_cmp(buf_bytes(&x->r.start), end) < 0;
}

static enum store_state
store_state(const struct cluster *cl, const struct cstore *s, uint64_t now)
{
	uint64_t idle = now > s->seen_ms ? now - s->seen_ms : 0;

	if (idle >= cl->opt.down_ms)
		return STORE_DOWN;
	if (idle >= cl->opt.disconnect_ms)
		return STORE_DISCONNECTED;
	return STORE_UP;
}

/* Whether the store of a peer is known to be down. */
static int
peer_down(struct cluster *cl, const struct region_peer *p, uint64_t now)
{
	struct cstore *s = store_find(cl, p->store_id);

	return s != NULL && store_state(cl, s, now) == STORE_DOWN;
}

static void
count_peers(struct cluster *cl, const struct region *r, int add)
{
	struct cstore *s;
	size_t i;

	for (i = 0; i < r->npeers; i++)
		if ((s = store_find(cl, r->peers[i].store_id)) != NULL)
			s->npeers = add ? s->npeers + 1 :
			    s->npeers ? s->npeers - 1 : 0;
}

/* Records. */

static void
meta_key(uint8_t key[9], char prefix, uint64_t id)
{
	key[0] = (uint8_t)prefix;
	codec_put_u64be(key + 1, id);
}

static void
batch_put_store(struct cluster *cl, uint64_t id, struct bytes addr)
{
	struct buf val = BUF_INIT;
	uint8_t key[9];

	meta_key(key, 's', id);
	codec_add_varint(&val, RECORD_VERSION);
	codec_add_lenbytes(&val, addr.ptr, addr.len);
	kv_batch_put(cl->batch, KV_CF_META, key, sizeof(key), val.data,
	    val.len);
	buf_free(&val);
}

static void
batch_put_region(struct cluster *cl, const struct region *r,
    uint64_t leader)
{
	struct buf val = BUF_INIT;
	uint8_t key[9];

	meta_key(key, 'r', r->id);
	region_encode(r, &val);
	codec_add_u64be(&val, leader);
	kv_batch_put(cl->batch, KV_CF_META, key, sizeof(key), val.data,
	    val.len);
	buf_free(&val);
}

static void
batch_delete_region(struct cluster *cl, uint64_t id)
{
	uint8_t key[9];

	meta_key(key, 'r', id);
	kv_batch_delete(cl->batch, KV_CF_META, key, sizeof(key));
}

/* Commits and checkpoints the batch; -1 with log_reason(). */
static int
batch_save(struct cluster *cl)
{
	int r;

	r = kv_batch_commit(cl->kv, cl->batch);
	kv_batch_clear(cl->batch);
	if (r == -1 || kv_checkpoint(cl->kv) == -1) {
		log_warnx("cannot save cluster metadata: %s", log_reason());
		return -1;
	}
	/* The file only grows between rebuilds; the metadata is small. */
	if (kv_rebuild_needed(cl->kv) && kv_rebuild(cl->kv) == -1)
		log_warnx("cannot rebuild '%s': %s", kv_path(cl->kv),
		    log_reason());
	return 0;
}

static void
reply_save_error(struct proto_call *c)
{
	proto_reply_error(c->reply, PROTO_SERVER_ERROR,
	    "cannot save metadata: %s", log_reason());
}

/* Memory. */

static struct cstore *
store_insert(struct cluster *cl, uint64_t id, struct bytes addr,
    uint64_t seen)
{
	struct cstore *s;
	struct cregion *x;

	s = xcalloc(1, sizeof(*s));
	s->id = id;
	buf_add(&s->addr, addr.ptr, addr.len);
	s->seen_ms = seen;
	RB_INSERT(store_tree, &cl->stores, s);
	cl->nstores++;
	RB_FOREACH(x, region_id_tree, &cl->regions)
		if (region_peer_on_store(&x->r, id))
			s->npeers++;
	return s;
}

static void
region_unlink(struct cluster *cl, struct cregion *x)
{
	RB_REMOVE(region_key_tree, &cl->keys, x);
	RB_REMOVE(region_id_tree, &cl->regions, x);
	count_peers(cl, &x->r, 0);
	cl->nregions--;
	region_free(&x->r);
	free(x);
}

/* Inserts a region that overlaps none in the key tree. */
static struct cregion *
region_insert(struct cluster *cl, const struct region *r, uint64_t leader)
{
	struct cregion *x;

	x = xcalloc(1, sizeof(*x));
	region_init(&x->r);
	region_copy(&x->r, r);
	x->leader = leader;
	RB_INSERT(region_id_tree, &cl->regions, x);
	RB_INSERT(region_key_tree, &cl->keys, x);
	count_peers(cl, r, 1);
	cl->nregions++;
	return x;
}

static int
load_record(struct cluster *cl, struct bytes key, struct bytes val,
    uint64_t now)
{
	const uint8_t *p = val.ptr, *end = val.ptr + val.len;
	struct cregion *x;
	struct region r;
	struct bytes addr;
	uint64_t ver, id;

	if (key.len == 1 && key.ptr[0] == 'c') {
		if (codec_read_varint(&p, end, &ver) == -1 ||
		    ver != RECORD_VERSION)
			goto bad;
		cl->bootstrapped = 1;
		return 0;
	}
	if (key.len != 9)
		goto bad;
	id = codec_get_u64be(key.ptr + 1);
	if (key.ptr[0] == 's') {
		if (codec_read_varint(&p, end, &ver) == -1 ||
		    ver != RECORD_VERSION ||
		    codec_read_lenbytes(&p, end, &addr) == -1 || p != end ||
		    store_find(cl, id) != NULL)
			goto bad;
		/* A store gets a full grace period after a pdd restart. */
		store_insert(cl, id, addr, now);
		return 0;
	}
	if (key.ptr[0] == 'r' && val.len >= 8) {
		region_init(&r);
		if (region_decode(val.ptr, val.len - 8, &r) == -1 ||
		    r.id != id || region_find(cl, id) != NULL ||
		    ((x = region_first_from(cl, buf_bytes(&r.start))) &&
		    region_before(x, buf_bytes(&r.end)))) {
			region_free(&r);
			goto bad;
		}
		region_insert(cl, &r, codec_get_u64be(end - 8));
		region_free(&r);
		return 0;
	}
bad:
	log_setreason("'%s': metadata record %s%" PRIu64 " is corrupt",
	    kv_path(cl->kv), key.len ? (key.ptr[0] == 's' ? "store " :
	    key.ptr[0] == 'r' ? "region " : "") : "",
	    key.len == 9 ? codec_get_u64be(key.ptr + 1) : 0);
	return -1;
}

static int
cluster_load(struct cluster *cl)
{
	struct kv_iter *it;
	uint64_t now = now_ms();
	int r;

	it = kv_iter_new(cl->kv, KV_CF_META, "", 0, "", 0);
	for (r = kv_iter_first(it); r == 1; r = kv_iter_next(it))
		if (load_record(cl, kv_iter_key(it), kv_iter_value(it),
		    now) == -1) {
			r = -1;
			break;
		}
	kv_iter_free(it);
	return r;
}

struct cluster *
cluster_open(const char *datadir, struct idalloc *ids,
    const struct cluster_options *opt)
{
	struct cluster *cl;
	struct kv_options ko;
	char *dir;

	xasprintf(&dir, "%s/meta", datadir);
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		log_setreason("cannot create '%s': %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	cl = xcalloc(1, sizeof(*cl));
	pthread_mutex_init(&cl->mu, NULL);
	RB_INIT(&cl->stores);
	RB_INIT(&cl->regions);
	RB_INIT(&cl->keys);
	cl->ids = ids;
	cl->opt = *opt;
	kv_options_init(&ko);
	ko.cache_pages = META_CACHE_PAGES;
	cl->kv = kv_open(dir, &ko);
	free(dir);
	if (cl->kv == NULL) {
		free(cl);
		return NULL;
	}
	cl->batch = kv_batch_new();
	if (cluster_load(cl) == -1) {
		cluster_close(cl);
		return NULL;
	}
	log_info("cluster metadata: %s, %zu stores, %zu regions",
	    cl->bootstrapped ? "bootstrapped" : "not bootstrapped",
	    cl->nstores, cl->nregions);
	return cl;
}

void
cluster_close(struct cluster *cl)
{
	struct cstore *s, *ts;
	struct cregion *x, *tx;

	if (cl == NULL)
		return;
	RB_FOREACH_SAFE(x, region_id_tree, &cl->regions, tx)
		region_unlink(cl, x);
	RB_FOREACH_SAFE(s, store_tree, &cl->stores, ts) {
		RB_REMOVE(store_tree, &cl->stores, s);
		buf_free(&s->addr);
		free(s);
	}
	kv_batch_free(cl->batch);
	if (kv_close(cl->kv) == -1)
		log_warnx("%s", log_reason());
	pthread_mutex_destroy(&cl->mu);
	free(cl);
}

/* Region updates. */

/* WORD <6 tokens> [leader] */
static void
reply_region(struct buf *reply, enum proto_word w, const struct region *r,
    int with_leader, uint64_t leader)
{
	buf_addstr(reply, proto_word_name(w));
	region_format(r, reply);
	if (with_leader)
		proto_add_u64(reply, leader);
	proto_end_line(reply);
}

static int
in_ids(const struct region *rs, size_t n, uint64_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rs[i].id == id)
			return 1;
	return 0;
}

/*
 * Stores n (1 or 2) regions newer than, or unknown to, pdd, with their
 * leaders, and drops the regions they overlap, which a split or merge made
 * stale.  Refuses with EPOCH_NOT_MATCH and the current region when one is
 * older than pdd's copy of it, or than a region it overlaps.  Returns -1
 * after replying to a refusal or an error.
 */
static int
update_regions(struct cluster *cl, struct proto_call *c,
    const struct region *rs, const uint64_t *leaders, size_t n)
{
	struct cregion **drop = NULL, *x, *cur[2];
	size_t ndrop = 0, i, j;
	int rc = -1;

	for (i = 0; i < n; i++) {
		cur[i] = region_find(cl, rs[i].id);
		if (cur[i] && region_epoch_stale(rs[i].epoch,
		    cur[i]->r.epoch)) {
			reply_region(c->reply, PROTO_EPOCH_NOT_MATCH,
			    &cur[i]->r, 0, 0);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		for (x = region_first_from(cl, buf_bytes(&rs[i].start));
		    x != NULL && region_before(x, buf_bytes(&rs[i].end));
		    x = RB_NEXT(region_key_tree, &cl->keys, x)) {
			if (in_ids(rs, n, x->r.id))
				continue;
			if (x->r.epoch.version > rs[i].epoch.version) {
				reply_region(c->reply, PROTO_EPOCH_NOT_MATCH,
				    &x->r, 0, 0);
				goto out;
			}
			for (j = 0; j < ndrop && drop[j] != x; j++)
				;
			if (j == ndrop) {
				drop = xreallocarray(drop, ndrop + 1,
				    sizeof(*drop));
				drop[ndrop++] = x;
			}
		}
	}
	for (j = 0; j < ndrop; j++)
		batch_delete_region(cl, drop[j]->r.id);
	for (i = 0; i < n; i++)
		batch_put_region(cl, &rs[i], leaders[i]);
	if (batch_save(cl) == -1) {
		reply_save_error(c);
		goto out;
	}
	for (j = 0; j < ndrop; j++) {
		log_debug("region %" PRIu64 " is stale: dropped",
		    drop[j]->r.id);
		region_unlink(cl, drop[j]);
	}
	/* Out of the key tree first: the two may trade key ranges. */
	for (i = 0; i < n; i++)
		if (cur[i]) {
			RB_REMOVE(region_key_tree, &cl->keys, cur[i]);
			count_peers(cl, &cur[i]->r, 0);
		}
	for (i = 0; i < n; i++) {
		if (cur[i] == NULL) {
			region_insert(cl, &rs[i], leaders[i]);
			continue;
		}
		region_copy(&cur[i]->r, &rs[i]);
		cur[i]->leader = leaders[i];
		count_peers(cl, &rs[i], 1);
		RB_INSERT(region_key_tree, &cl->keys, cur[i]);
	}
	rc = 0;
out:
	free(drop);
	return rc;
}

/* The replica checker. */

static void
set_op(struct cregion *x, enum op_kind op, uint64_t peer, uint64_t store,
    uint64_t now)
{
	x->op = op;
	x->op_peer = peer;
	x->op_store = store;
	x->op_deadline_ms = now + OPERATOR_TIMEOUT_MS;
	log_info("region %" PRIu64 ": %s peer %" PRIu64 " (store %" PRIu64
	    ")", x->r.id, op_names[op], peer, store);
}

/* Whether the operator in flight is done, overtaken or too old. */
static int
op_done(const struct cregion *x, uint64_t now)
{
	const struct region_peer *p = region_peer_by_id(&x->r, x->op_peer);

	if (now >= x->op_deadline_ms)
		return 1;
	switch (x->op) {
	case OP_NONE:
		return 1;
	case OP_ADD_LEARNER:
		/* Never two peers on one store, whoever added the other. */
		return region_peer_on_store(&x->r, x->op_store) != NULL;
	case OP_PROMOTE_LEARNER:
		return p == NULL || p->role != REGION_LEARNER;
	case OP_REMOVE_PEER:
		return p == NULL;
	case OP_TRANSFER_LEADER:
		return p == NULL || p->role != REGION_VOTER ||
		    x->leader == x->op_peer;
	}
	return 1;
}

static int
is_pending(const struct cregion *x, uint64_t peer)
{
	size_t i;

	for (i = 0; i < x->npending; i++)
		if (x->pending[i] == peer)
			return 1;
	return 0;
}

/* The up store with no peer of x and the fewest peers, or NULL. */
static struct cstore *
pick_store(struct cluster *cl, const struct cregion *x, uint64_t now)
{
	struct cstore *s, *best = NULL;

	RB_FOREACH(s, store_tree, &cl->stores) {
		if (store_state(cl, s, now) != STORE_UP ||
		    region_peer_on_store(&x->r, s->id))
			continue;
		if (best == NULL || s->npeers < best->npeers)
			best = s;
	}
	return best;
}

/*
 * Decides the next operator for a region: replace learners on down
 * stores, promote learners that caught up, add a learner while the region
 * has fewer healthy replicas than max-replicas, and remove voters beyond
 * max-replicas, down ones first.  Adding comes before removing, so the
 * region never has fewer replicas than it started with.  A region in a
 * joint configuration is left alone until it leaves it.
 */
static void
check_replicas(struct cluster *cl, struct cregion *x, uint64_t now)
{
	const struct region_peer *p, *victim = NULL, *to = NULL;
	struct cstore *s;
	uint64_t nvoters = 0, nlearners = 0, ndown = 0, id;
	size_t i;

	/* A joint configuration is left alone until tikvd leaves it. */
	for (i = 0; i < x->r.npeers; i++)
		if (x->r.peers[i].role == REGION_INCOMING_VOTER ||
		    x->r.peers[i].role == REGION_DEMOTING_VOTER)
			return;
	for (i = 0; i < x->r.npeers; i++) {
		p = &x->r.peers[i];
		if (p->role == REGION_LEARNER) {
			if (peer_down(cl, p, now)) {
				set_op(x, OP_REMOVE_PEER, p->id, p->store_id,
				    now);
				return;
			}
			if (!is_pending(x, p->id)) {
				set_op(x, OP_PROMOTE_LEARNER, p->id,
				    p->store_id, now);
				return;
			}
			nlearners++;
			continue;
		}
		nvoters++;
		if (peer_down(cl, p, now))
			ndown++;
	}
	if (nvoters - ndown + nlearners < cl->opt.max_replicas &&
	    nlearners == 0 && (s = pick_store(cl, x, now)) != NULL) {
		if (idalloc_get(cl->ids, 1, &id) == -1) {
			log_warnx("region %" PRIu64 ": no peer id: %s",
			    x->r.id, log_reason());
			return;
		}
		set_op(x, OP_ADD_LEARNER, id, s->id, now);
		return;
	}
	if (nvoters <= cl->opt.max_replicas)
		return;
	/* One voter too many: a down one, else a lagging one, else any. */
	for (i = 0; i < x->r.npeers; i++) {
		p = &x->r.peers[i];
		if (p->role != REGION_VOTER)
			continue;
		if (peer_down(cl, p, now)) {
			victim = p;
			break;
		}
		if (p->id == x->leader)
			continue;
		if (victim == NULL || (is_pending(x, p->id) &&
		    !is_pending(x, victim->id)))
			victim = p;
	}
	if (victim == NULL)
		return;
	if (victim->id != x->leader) {
		set_op(x, OP_REMOVE_PEER, victim->id, victim->store_id, now);
		return;
	}
	/* A leader is never removed: move the leadership first. */
	for (i = 0; i < x->r.npeers && to == NULL; i++) {
		p = &x->r.peers[i];
		if (p->role == REGION_VOTER && p != victim &&
		    !peer_down(cl, p, now) && !is_pending(x, p->id))
			to = p;
	}
	if (to != NULL)
		set_op(x, OP_TRANSFER_LEADER, to->id, to->store_id, now);
}

static void
reply_operator(struct buf *reply, const struct cregion *x)
{
	buf_addstr(reply, "OK");
	if (x->op != OP_NONE) {
		proto_add_str(reply, op_names[x->op]);
		proto_add_u64(reply, x->op_peer);
		if (x->op == OP_ADD_LEARNER)
			proto_add_u64(reply, x->op_store);
	}
	proto_end_line(reply);
}

/* Argument parsing. */

static struct cluster *call_cluster(struct proto_call *);

/* Ids in a region a client sends are never handed out again. */
static int
reserve_ids(struct proto_call *c, const struct region *r)
{
	struct cluster *cl = call_cluster(c);
	size_t i;
	int bad = idalloc_reserve(cl->ids, r->id);

	for (i = 0; i < r->npeers && !bad; i++)
		bad = idalloc_reserve(cl->ids, r->peers[i].id) == -1 ||
		    idalloc_reserve(cl->ids, r->peers[i].store_id) == -1;
	if (bad) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR, "%s",
		    log_reason());
		return -1;
	}
	return 0;
}

static int
parse_region_arg(struct proto_call *c, size_t i, struct region *r)
{
	if (region_parse(c->argv + i, c->argc - i, r) == -1) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR, "%s",
		    log_reason());
		return -1;
	}
	if (r->npeers == 0) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
		    "region %" PRIu64 " has no peers", r->id);
		return -1;
	}
	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].id == 0 || r->peers[i].store_id == 0) {
			proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
			    "region %" PRIu64 " has a peer or store id 0",
			    r->id);
			return -1;
		}
	if (reserve_ids(c, r) == -1)
		return -1;
	return 0;
}

/* Parses the pending peers "id,id,..." (or "") into ids[]. */
static int
parse_pending(struct proto_call *c, size_t i, uint64_t *ids, size_t *n)
{
	struct bytes t = c->argv[i];
	uint64_t v;
	size_t k = 0;
	int digits;

	*n = 0;
	while (k < t.len) {
		v = 0;
		digits = 0;
		while (k < t.len && t.ptr[k] >= '0' && t.ptr[k] <= '9') {
			if (v > (UINT64_MAX - (t.ptr[k] - '0')) / 10)
				goto bad;
			v = v * 10 + (t.ptr[k++] - '0');
			digits++;
		}
		if (digits == 0 || (k < t.len && t.ptr[k++] != ',') ||
		    (k == t.len && t.ptr[k - 1] == ','))
			goto bad;
		if (*n == REGION_MAX_PEERS) {
			proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
			    "more than %d pending peers", REGION_MAX_PEERS);
			return -1;
		}
		ids[(*n)++] = v;
	}
	return 0;
bad:
	proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
	    "argument %zu of '%s' is not a list of peer ids", i + 1,
	    c->cmd->name);
	return -1;
}

static int
check_bootstrapped(struct cluster *cl, struct proto_call *c)
{
	if (cl->bootstrapped)
		return 0;
	proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
	    "cluster is not bootstrapped");
	return -1;
}

static struct cluster *
call_cluster(struct proto_call *c)
{
	struct pdd *pd = c->ctx;

	return pd->cluster;
}

/* Commands. */

void
cluster_cmd_is_bootstrapped(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	int b;

	pthread_mutex_lock(&cl->mu);
	b = cl->bootstrapped;
	pthread_mutex_unlock(&cl->mu);
	buf_addstr(c->reply, b ? "OK 1" : "OK 0");
	proto_end_line(c->reply);
}

void
cluster_cmd_bootstrap(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct region r;
	struct buf val = BUF_INIT;
	struct bytes addr = c->argv[1];
	uint64_t store_id, now = now_ms();

	region_init(&r);
	if (proto_arg_u64(c, 0, 1, UINT64_MAX, &store_id) == -1 ||
	    parse_region_arg(c, 2, &r) == -1)
		goto out;
	if (addr.len == 0) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
		    "store address is empty");
		goto out;
	}
	if (r.start.len != 0 || r.end.len != 0 || r.npeers != 1 ||
	    r.peers[0].store_id != store_id ||
	    r.peers[0].role != REGION_VOTER) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
		    "the first region must cover all keys and have one voter, "
		    "on store %" PRIu64, store_id);
		goto out;
	}
	pthread_mutex_lock(&cl->mu);
	if (cl->bootstrapped) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
		    "cluster is already bootstrapped");
		goto unlock;
	}
	codec_add_varint(&val, RECORD_VERSION);
	codec_add_varint(&val, now);
	codec_add_varint(&val, store_id);
	kv_batch_put(cl->batch, KV_CF_META, "c", 1, val.data, val.len);
	batch_put_store(cl, store_id, addr);
	batch_put_region(cl, &r, 0);
	if (batch_save(cl) == -1) {
		reply_save_error(c);
		goto unlock;
	}
	cl->bootstrapped = 1;
	store_insert(cl, store_id, addr, now);
	region_insert(cl, &r, 0);
	log_info("cluster bootstrapped by store %" PRIu64 ", region %" PRIu64,
	    store_id, r.id);
	proto_reply_ok(c->reply);
unlock:
	pthread_mutex_unlock(&cl->mu);
out:
	buf_free(&val);
	region_free(&r);
}

void
cluster_cmd_put_store(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct bytes addr = c->argv[1];
	struct cstore *s, *o;
	uint64_t id;

	if (proto_arg_u64(c, 0, 1, IDALLOC_MAX - 1, &id) == -1)
		return;
	if (addr.len == 0) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
		    "store address is empty");
		return;
	}
	if (idalloc_reserve(call_cluster(c)->ids, id) == -1) {
		proto_reply_error(c->reply, PROTO_SERVER_ERROR, "%s",
		    log_reason());
		return;
	}
	pthread_mutex_lock(&cl->mu);
	if (check_bootstrapped(cl, c) == -1)
		goto out;
	RB_FOREACH(o, store_tree, &cl->stores)
		if (o->id != id && bytes_eq(buf_bytes(&o->addr), addr)) {
			proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
			    "duplicated store address '%s', already used by "
			    "store %" PRIu64, (const char *)o->addr.data,
			    o->id);
			goto out;
		}
	s = store_find(cl, id);
	if (s == NULL || !bytes_eq(buf_bytes(&s->addr), addr)) {
		batch_put_store(cl, id, addr);
		if (batch_save(cl) == -1) {
			reply_save_error(c);
			goto out;
		}
		if (s == NULL)
			store_insert(cl, id, addr, now_ms());
		else {
			buf_reset(&s->addr);
			buf_add(&s->addr, addr.ptr, addr.len);
		}
	}
	proto_reply_ok(c->reply);
out:
	pthread_mutex_unlock(&cl->mu);
}

static void
format_store(struct cluster *cl, struct buf *b, enum proto_word w,
    const struct cstore *s, uint64_t now)
{
	buf_addstr(b, proto_word_name(w));
	proto_add_u64(b, s->id);
	proto_add_token(b, s->addr.data, s->addr.len);
	proto_add_str(b, store_state_names[store_state(cl, s, now)]);
	proto_add_u64(b, s->region_count);
	proto_add_u64(b, s->leader_count);
	proto_add_u64(b, s->capacity);
	proto_add_u64(b, s->available);
	proto_add_u64(b, s->last_heartbeat_ms);
	proto_end_line(b);
}

void
cluster_cmd_get_store(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct cstore *s;
	uint64_t id;

	if (proto_arg_u64(c, 0, 0, UINT64_MAX, &id) == -1)
		return;
	pthread_mutex_lock(&cl->mu);
	if ((s = store_find(cl, id)) == NULL)
		proto_reply_word(c->reply, PROTO_NOT_FOUND);
	else
		format_store(cl, c->reply, PROTO_OK, s, now_ms());
	pthread_mutex_unlock(&cl->mu);
}

void
cluster_cmd_list_stores(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct cstore *s;
	uint64_t now = now_ms();

	pthread_mutex_lock(&cl->mu);
	RB_FOREACH(s, store_tree, &cl->stores)
		format_store(cl, c->reply, PROTO_VALUE, s, now);
	pthread_mutex_unlock(&cl->mu);
	proto_reply_word(c->reply, PROTO_END);
}

void
cluster_cmd_store_heartbeat(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct cstore *s;
	uint64_t v[5], now = now_ms();
	size_t i;

	for (i = 0; i < 5; i++)
		if (proto_arg_u64(c, i, 0, UINT64_MAX, &v[i]) == -1)
			return;
	pthread_mutex_lock(&cl->mu);
	if ((s = store_find(cl, v[0])) == NULL) {
		proto_reply_word(c->reply, PROTO_NOT_FOUND);
	} else {
		s->capacity = v[1];
		s->available = v[2];
		s->region_count = v[3];
		s->leader_count = v[4];
		s->last_heartbeat_ms = s->seen_ms = now;
		proto_reply_ok(c->reply);
	}
	pthread_mutex_unlock(&cl->mu);
}

void
cluster_cmd_region_heartbeat(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct cregion *x;
	struct region r;
	uint64_t leader, size, keys, pending[REGION_MAX_PEERS];
	uint64_t now = now_ms();
	size_t i = REGION_WIRE_TOKENS, npending, k;

	region_init(&r);
	if (parse_region_arg(c, 0, &r) == -1 ||
	    proto_arg_u64(c, i, 1, UINT64_MAX, &leader) == -1 ||
	    proto_arg_u64(c, i + 1, 0, UINT64_MAX, &size) == -1 ||
	    proto_arg_u64(c, i + 2, 0, UINT64_MAX, &keys) == -1 ||
	    parse_pending(c, i + 3, pending, &npending) == -1)
		goto out;
	if (region_peer_by_id(&r, leader) == NULL) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
		    "leader %" PRIu64 " is not a peer of region %" PRIu64,
		    leader, r.id);
		goto out;
	}
	pthread_mutex_lock(&cl->mu);
	if (check_bootstrapped(cl, c) == -1)
		goto unlock;
	x = region_find(cl, r.id);
	if (x == NULL || !region_epoch_eq(r.epoch, x->r.epoch)) {
		if (update_regions(cl, c, &r, &leader, 1) == -1)
			goto unlock;
		x = region_find(cl, r.id);
	} else if (x->leader != leader) {
		batch_put_region(cl, &x->r, leader);
		if (batch_save(cl) == -1) {
			reply_save_error(c);
			goto unlock;
		}
		x->leader = leader;
	}
	x->npending = 0;
	for (k = 0; k < npending; k++)
		if (region_peer_by_id(&x->r, pending[k]) &&
		    !is_pending(x, pending[k]))
			x->pending[x->npending++] = pending[k];
	x->size = size;
	x->keys = keys;
	x->last_heartbeat_ms = now;
	if (op_done(x, now)) {
		x->op = OP_NONE;
		check_replicas(cl, x, now);
	}
	reply_operator(c->reply, x);
unlock:
	pthread_mutex_unlock(&cl->mu);
out:
	region_free(&r);
}

void
cluster_cmd_get_region(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct cregion *x;

	pthread_mutex_lock(&cl->mu);
	x = region_floor(cl, c->argv[0].ptr, c->argv[0].len);
	if (x == NULL || !region_contains(&x->r, c->argv[0].ptr,
	    c->argv[0].len))
		proto_reply_word(c->reply, PROTO_NOT_FOUND);
	else
		reply_region(c->reply, PROTO_OK, &x->r, 1, x->leader);
	pthread_mutex_unlock(&cl->mu);
}

void
cluster_cmd_get_region_by_id(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct cregion *x;
	uint64_t id;

	if (proto_arg_u64(c, 0, 0, UINT64_MAX, &id) == -1)
		return;
	pthread_mutex_lock(&cl->mu);
	if ((x = region_find(cl, id)) == NULL)
		proto_reply_word(c->reply, PROTO_NOT_FOUND);
	else
		reply_region(c->reply, PROTO_OK, &x->r, 1, x->leader);
	pthread_mutex_unlock(&cl->mu);
}

void
cluster_cmd_scan_regions(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct cregion *x;
	uint64_t limit = 0, n = 0;

	if (c->argc == 3 &&
	    proto_arg_u64(c, 2, 0, UINT64_MAX, &limit) == -1)
		return;
	if (c->argv[1].len && bytes_cmp(c->argv[0], c->argv[1]) >= 0) {
		proto_reply_word(c->reply, PROTO_END);
		return;
	}
	pthread_mutex_lock(&cl->mu);
	for (x = region_first_from(cl, c->argv[0]);
	    x != NULL && region_before(x, c->argv[1]) &&
	    (limit == 0 || n < limit);
	    x = RB_NEXT(region_key_tree, &cl->keys, x), n++)
		reply_region(c->reply, PROTO_VALUE, &x->r, 1, x->leader);
	pthread_mutex_unlock(&cl->mu);
	proto_reply_word(c->reply, PROTO_END);
}

void
cluster_cmd_ask_split(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct cregion *x;
	uint64_t id, first, i, npeers = 0;

	if (proto_arg_u64(c, 0, 0, UINT64_MAX, &id) == -1)
		return;
	pthread_mutex_lock(&cl->mu);
	if ((x = region_find(cl, id)) != NULL)
		npeers = x->r.npeers;
	pthread_mutex_unlock(&cl->mu);
	if (x == NULL) {
		proto_reply_word(c->reply, PROTO_NOT_FOUND);
		return;
	}
	/* The new region's id, then one peer id per current peer. */
	if (idalloc_get(cl->ids, npeers + 1, &first) == -1) {
		proto_reply_error(c->reply, PROTO_SERVER_ERROR, "%s",
		    log_reason());
		return;
	}
	buf_addstr(c->reply, "OK");
	for (i = 0; i <= npeers; i++)
		proto_add_u64(c->reply, first + i);
	proto_end_line(c->reply);
}

void
cluster_cmd_report_split(struct proto_call *c)
{
	struct cluster *cl = call_cluster(c);
	struct cregion *x;
	struct region rs[2];
	uint64_t leaders[2];
	size_t i;

	region_init(&rs[0]);
	region_init(&rs[1]);
	if (parse_region_arg(c, 0, &rs[0]) == -1 ||
	    parse_region_arg(c, REGION_WIRE_TOKENS, &rs[1]) == -1)
		goto out;
	if (rs[0].id == rs[1].id || rs[0].end.len == 0 ||
	    !bytes_eq(buf_bytes(&rs[0].end), buf_bytes(&rs[1].start))) {
		proto_reply_error(c->reply, PROTO_CLIENT_ERROR,
		    "regions %" PRIu64 " and %" PRIu64 " are not the two "
		    "sides of a split", rs[0].id, rs[1].id);
		goto out;
	}
	pthread_mutex_lock(&cl->mu);
	if (check_bootstrapped(cl, c) == -1)
		goto unlock;
	/* A leader is kept while its peer is still in the region. */
	for (i = 0; i < 2; i++) {
		x = region_find(cl, rs[i].id);
		leaders[i] = x && region_peer_by_id(&rs[i], x->leader) ?
		    x->leader : 0;
	}
	if (update_regions(cl, c, rs, leaders, 2) == 0)
		proto_reply_ok(c->reply);
unlock:
	pthread_mutex_unlock(&cl->mu);
out:
	region_free(&rs[0]);
	region_free(&rs[1]);
}
