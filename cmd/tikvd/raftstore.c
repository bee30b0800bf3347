/*
 * The raftstore loop (raftstore.h).
 *
 * One thread owns every peer.  Other threads post to the mailbox; the loop
 * swaps it out whole, handles each item, ticks when a tick is due, and
 * then makes one round over the peers that something touched:
 *
 *	for each touched peer with a ready: stage snapshot, entries and
 *	    hard state in the WAL
 *	wal_sync() once (if any ready must be synced)
 *	for each: send its messages, hand its committed entries and reads
 *	    to the apply thread, raft_advance_append()
 *	transport_flush()
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "clock.h"
#include "cmdfmt.h"
#include "codec.h"
#include "kv.h"
#include "localmeta.h"
#include "log.h"
#include "pdworker.h"
#include "peer.h"
#include "proto.h"
#include "raftstore.h"
#include "raftwire.h"
#include "request.h"
#include "schema.h"
#include "snap.h"
#include "tikvd.h"
#include "transport.h"
#include "wal.h"
#include "xmalloc.h"

enum mb_kind {
	MB_PROPOSE,
	MB_READ,
	MB_PEER_MSG,
	MB_UNREACHABLE,
	MB_SNAP_STATUS,
	MB_APPLIED,
	MB_CHANGE_PEER,
	MB_TRANSFER,
	MB_QUERY
};

enum query_kind { Q_ALL, Q_BY_ID, Q_BY_KEY };

struct query {
	int kind;
	uint64_t id;
	struct bytes key;
	struct region_info *out;
	size_t n;
	int done;
};

struct mb_item {
	int kind;
	uint64_t region_id;
	uint64_t peer_id;
	uint64_t store_id;
	int arg;
	struct cmd *cmd;
	struct slot *slot;
	struct peer_msg *pm;
	struct apply_result *res;
	struct query *q;
	struct mb_item *next;
};

/*
 * A region whose peer here was removed.  Messages to it, or to any peer id
 * the region had then, are stale; PD gives a peer it adds later a newer
 * id, and that one may be created.
 */
struct tombstone {
	uint64_t region_id;
	uint64_t max_peer_id;
};

struct raftstore {
	struct store *st;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* mailbox not empty */
	pthread_cond_t qcv;		/* a query answered */
	struct mb_item *head, *tail;
	int stop;

	/* loop-owned */
	struct peer **peers;		/* sorted by region id */
	size_t npeers;
	struct peer **ranges;		/* initialized peers by start key */
	size_t nranges;
	int ranges_stale;
	struct tombstone *tombstones;	/* regions whose peer was removed */
	size_t ntombstones;
	struct peer *dirty;		/* touched this round */
	uint64_t read_seq;
	uint64_t next_tick_ms;
};

uint64_t
tikvd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Mailbox. */

static void drop_item(struct raftstore *, struct mb_item *);

/* After the stop, items are dropped at once (their slots answered). */
static void
post(struct raftstore *rs, struct mb_item *it)
{
	pthread_mutex_lock(&rs->mu);
	if (rs->stop) {
		pthread_mutex_unlock(&rs->mu);
		drop_item(rs, it);
		return;
	}
	if (rs->tail != NULL)
		rs->tail->next = it;
	else
		rs->head = it;
	rs->tail = it;
	pthread_cond_signal(&rs->cv);
	pthread_mutex_unlock(&rs->mu);
}

static struct mb_item *
item_new(int kind)
{
	struct mb_item *it = xcalloc(1, sizeof(*it));

	it->kind = kind;
	return it;
}

void
raftstore_propose(struct raftstore *rs, struct cmd *c, struct slot *slot)
{
	struct mb_item *it = item_new(MB_PROPOSE);

	it->cmd = c;
	it->slot = slot;
	post(rs, it);
}

void
raftstore_read(struct raftstore *rs, struct cmd *c, struct slot *slot)
{
	struct mb_item *it = item_new(MB_READ);

	it->cmd = c;
	it->slot = slot;
	post(rs, it);
}

void
raftstore_deliver(struct raftstore *rs, struct peer_msg *pm)
{
	struct mb_item *it = item_new(MB_PEER_MSG);

	it->pm = pm;
	post(rs, it);
}

void
raftstore_report_unreachable(struct raftstore *rs, uint64_t region_id,
    uint64_t peer_id)
{
	struct mb_item *it = item_new(MB_UNREACHABLE);

	it->region_id = region_id;
	it->peer_id = peer_id;
	post(rs, it);
}

void
raftstore_report_snapshot(struct raftstore *rs, uint64_t region_id,
    uint64_t peer_id, int failed)
{
	struct mb_item *it = item_new(MB_SNAP_STATUS);

	it->region_id = region_id;
	it->peer_id = peer_id;
	it->arg = failed;
	post(rs, it);
}

void
raftstore_applied(struct raftstore *rs, struct apply_result *res)
{
	struct mb_item *it = item_new(MB_APPLIED);

	it->res = res;
	post(rs, it);
}

void
raftstore_change_peer(struct raftstore *rs, uint64_t region_id, int cc_type,
    uint64_t peer_id, uint64_t store_id, struct slot *slot)
{
	struct mb_item *it = item_new(MB_CHANGE_PEER);

	it->region_id = region_id;
	it->arg = cc_type;
	it->peer_id = peer_id;
	it->store_id = store_id;
	it->slot = slot;
	post(rs, it);
}

void
raftstore_transfer_leader(struct raftstore *rs, uint64_t region_id,
    uint64_t peer_id, struct slot *slot)
{
	struct mb_item *it = item_new(MB_TRANSFER);

	it->region_id = region_id;
	it->peer_id = peer_id;
	it->slot = slot;
	post(rs, it);
}

/* Peers by id and by range. */

static size_t
peer_pos(struct raftstore *rs, uint64_t id)
{
	size_t lo = 0, hi = rs->npeers, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (rs->peers[mid]->region_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct peer *
find_peer(struct raftstore *rs, uint64_t id)
{
	size_t i = peer_pos(rs, id);

	if (i < rs->npeers && rs->peers[i]->region_id == id)
		return rs->peers[i];
	return NULL;
}

static void
insert_peer(struct raftstore *rs, struct peer *p)
{
	size_t i = peer_pos(rs, p->region_id);

	rs->peers = xreallocarray(rs->peers, rs->npeers + 1,
	    sizeof(*rs->peers));
	memmove(rs->peers + i + 1, rs->peers + i,
	    (rs->npeers - i) * sizeof(*rs->peers));
	rs->peers[i] = p;
	rs->npeers++;
	rs->ranges_stale = 1;
}

static int
cmp_start(const void *a, const void *b)
{
	const struct peer *pa = *(struct peer *const *)a;
	const struct peer *pb = *(struct peer *const *)b;

	return bytes_cmp(buf_bytes(&pa->region.start),
	    buf_bytes(&pb->region.start));
}

static void
rebuild_ranges(struct raftstore *rs)
{
	size_t i;

	rs->ranges = xreallocarray(rs->ranges, rs->npeers + 1,
	    sizeof(*rs->ranges));
	rs->nranges = 0;
	for (i = 0; i < rs->npeers; i++)
		if (rs->peers[i]->initialized)
			rs->ranges[rs->nranges++] = rs->peers[i];
	qsort(rs->ranges, rs->nranges, sizeof(*rs->ranges), cmp_start);
	rs->ranges_stale = 0;
}

static struct peer *
peer_by_key(struct raftstore *rs, const void *key, size_t len)
{
	struct bytes k = { key, len };
	size_t lo = 0, hi, mid;
	struct peer *p;

	if (rs->ranges_stale)
		rebuild_ranges(rs);
	hi = rs->nranges;
	/* the last range whose start <= key */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (bytes_cmp(buf_bytes(&rs->ranges[mid]->region.start), k) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	p = rs->ranges[lo - 1];
	return region_contains(&p->region, key, len) ? p : NULL;
}

/* Whether [start, end) overlaps an initialized region of this store. */
static int
overlaps(struct raftstore *rs, struct bytes start, struct bytes end)
{
	size_t i;

	if (rs->ranges_stale)
		rebuild_ranges(rs);
	for (i = 0; i < rs->nranges; i++) {
		const struct region *r = &rs->ranges[i]->region;
		struct bytes rs_ = buf_bytes(&r->start), re = buf_bytes(&r->end);

		if ((end.len == 0 || bytes_cmp(rs_, end) < 0) &&
		    (re.len == 0 || bytes_cmp(start, re) < 0))
			return 1;
	}
	return 0;
}

static uint64_t
max_peer_id(const struct region *r, uint64_t also)
{
	size_t i;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].id > also)
			also = r->peers[i].id;
	return also;
}

static void
add_tombstone(struct raftstore *rs, uint64_t region_id, uint64_t max_peer)
{
	rs->tombstones = xreallocarray(rs->tombstones, rs->ntombstones + 1,
	    sizeof(*rs->tombstones));
	rs->tombstones[rs->ntombstones].region_id = region_id;
	rs->tombstones[rs->ntombstones].max_peer_id = max_peer;
	rs->ntombstones++;
}

static int
is_tombstone(struct raftstore *rs, uint64_t id, uint64_t peer_id)
{
	size_t i;

	for (i = 0; i < rs->ntombstones; i++)
		if (rs->tombstones[i].region_id == id &&
		    peer_id <= rs->tombstones[i].max_peer_id)
			return 1;
	return 0;
}

static void
mark_dirty(struct raftstore *rs, struct peer *p)
{
	if (p->dirty)
		return;
	p->dirty = 1;
	p->next_dirty = rs->dirty;
	rs->dirty = p;
}

static void
destroy_peer(struct raftstore *rs, struct peer *p, int tombstone)
{
	size_t i = peer_pos(rs, p->region_id);
	struct peer **pp;

	for (pp = &rs->dirty; *pp != NULL; pp = &(*pp)->next_dirty) {
		if (*pp == p) {
			*pp = p->next_dirty;
			break;
		}
	}
	memmove(rs->peers + i, rs->peers + i + 1,
	    (rs->npeers - i - 1) * sizeof(*rs->peers));
	rs->npeers--;
	rs->ranges_stale = 1;
	if (tombstone) {
		add_tombstone(rs, p->region_id, max_peer_id(&p->region,
		    p->peer_id));
	}
	if (wal_remove_group(rs->st->wal, p->region_id) == -1)
		fatalx("wal: %s", log_reason());
	apply_drop_region(rs->st->ap, p->region_id);
	log_info("region %" PRIu64 ": peer %" PRIu64 " removed", p->region_id,
	    p->peer_id);
	peer_free(p);
}

/* Errors a client acts on. */

static void
reply_not_leader(struct raftstore *rs, struct peer *p, struct slot *slot)
{
	struct buf line = BUF_INIT, addr = BUF_INIT;
	uint64_t store = p->leader ? peer_store_of(p, p->leader) : 0;

	if (store != 0)
		transport_store_addr(rs->st->tr, store, &addr);
	buf_addstr(&line, proto_word_name(PROTO_NOT_LEADER));
	proto_add_u64(&line, p->region_id);
	proto_add_u64(&line, store);
	proto_add_token(&line, addr.data, addr.len);
	proto_end_line(&line);
	slot_done(slot, &line);
	buf_free(&line);
	buf_free(&addr);
}

static void
reply_epoch(struct peer *p, struct slot *slot)
{
	struct buf line = BUF_INIT;

	buf_addstr(&line, proto_word_name(PROTO_EPOCH_NOT_MATCH));
	region_format(&p->region, &line);
	proto_end_line(&line);
	slot_done(slot, &line);
	buf_free(&line);
}

static void
reply_key_not_in_region(struct peer *p, const struct buf *key,
    struct slot *slot)
{
	struct buf line = BUF_INIT;

	cmd_reply_key_not_in_region(&line, &p->region, key);
	slot_done(slot, &line);
	buf_free(&line);
}

static void
cmd_destroy(struct cmd *c)
{
	cmd_free(c);
	free(c);
}

/* The key a cmd is routed by. */
static struct buf *
cmd_route_key(struct cmd *c)
{
	if (c->kind == CMD_SPLIT)
		return &c->split_key;
	if (c->nops == 0)
		return NULL;
	if (c->ops[0].type == CMD_OP_BATCH_GET ||
	    c->ops[0].type == CMD_OP_TXN_BATCH_GET)
		return c->ops[0].nkeys ? &c->ops[0].keys[0] : NULL;
	return &c->ops[0].key;
}

/*
 * Finds the peer for a client cmd and checks epoch, keys and leadership;
 * on failure the slot has its error and NULL is returned.
 */
static struct peer *
route(struct raftstore *rs, struct cmd *c, struct slot *slot)
{
	struct buf *rk = cmd_route_key(c);
	const struct buf *bad;
	struct peer *p;

	if (c->region_id != 0) {
		p = find_peer(rs, c->region_id);
		if (p == NULL || !p->initialized) {
			slot_error(slot, PROTO_REGION_NOT_FOUND, "%" PRIu64,
			    c->region_id);
			return NULL;
		}
		if (c->epoch.version != p->region.epoch.version ||
		    (c->kind == CMD_SPLIT &&
		    c->epoch.conf_ver != p->region.epoch.conf_ver)) {
			reply_epoch(p, slot);
			return NULL;
		}
	} else {
		p = rk ? peer_by_key(rs, rk->data, rk->len) : NULL;
		if (p == NULL) {
			slot_error(slot, PROTO_REGION_NOT_FOUND, "0");
			return NULL;
		}
		c->region_id = p->region_id;
	}
	/* Ranges are clamped to the region; point keys must lie in it. */
	if ((bad = cmd_key_outside(&p->region, c)) != NULL) {
		reply_key_not_in_region(p, bad, slot);
		return NULL;
	}
	if (p->role != RAFT_LEADER) {
		reply_not_leader(rs, p, slot);
		return NULL;
	}
	c->epoch = p->region.epoch;
	return p;
}

static void
handle_propose(struct raftstore *rs, struct cmd *c, struct slot *slot)
{
	struct buf data = BUF_INIT;
	struct raft_status s;
	struct peer *p;
	uint64_t index;
	int rc;

	if ((p = route(rs, c, slot)) == NULL)
		goto out;
	c->now_ms = tikvd_now_ms();
	cmd_encode(c, &data);
	rc = raft_propose(p->raft, data.data, data.len, &index);
	if (rc == RAFT_ERR_TOO_LARGE) {
		slot_error(slot, PROTO_RAFT_ENTRY_TOO_LARGE, "%" PRIu64 " %zu",
		    p->region_id, data.len);
	} else if (rc != 0) {
		raft_status(p->raft, &s);
		if (s.role == RAFT_LEADER)
			slot_error(slot, PROTO_SERVER_IS_BUSY,
			    "leader cannot take proposals now");
		else
			reply_not_leader(rs, p, slot);
	} else {
		raft_status(p->raft, &s);
		peer_add_proposal(p, index, s.hs.term, slot);
		mark_dirty(rs, p);
	}
out:
	buf_free(&data);
	cmd_destroy(c);
}

static void
handle_read(struct raftstore *rs, struct cmd *c, struct slot *slot)
{
	struct pending_read *pr;
	struct peer *p;
	uint8_t ctx[8];

	if ((p = route(rs, c, slot)) == NULL) {
		cmd_destroy(c);
		return;
	}
	codec_put_u64be(ctx, ++rs->read_seq);
	if (raft_read_index(p->raft, ctx, sizeof(ctx)) != 0) {
		slot_error(slot, PROTO_SERVER_IS_BUSY,
		    "leader not ready to serve reads");
		cmd_destroy(c);
		return;
	}
	if (p->nreads == p->capreads) {
		p->capreads = p->capreads ? p->capreads * 2 : 16;
		p->reads = xreallocarray(p->reads, p->capreads,
		    sizeof(*p->reads));
	}
	pr = &p->reads[p->nreads++];
	pr->id = rs->read_seq;
	pr->index = 0;
	pr->cmd = c;
	pr->slot = slot;
	mark_dirty(rs, p);
}

/*
 * A message for a region this store does not have yet: a leader adding
 * a peer here.  Only leader traffic creates one, and only where no region
 * of ours overlaps (a split we have not applied yet would).
 */
static struct peer *
create_from_msg(struct raftstore *rs, const struct peer_msg *pm)
{
	struct region r;
	struct peer *p;
	int t = pm->msg.type;

	if (t != RAFT_MSG_APPEND && t != RAFT_MSG_HEARTBEAT &&
	    t != RAFT_MSG_SNAPSHOT)
		return NULL;
	if (is_tombstone(rs, pm->region_id, pm->to_peer) ||
	    overlaps(rs, buf_bytes(&pm->start), buf_bytes(&pm->end)))
		return NULL;
	region_init(&r);
	r.id = pm->region_id;
	/* A leftover group of an earlier uninitialized peer goes. */
	if (wal_remove_group(rs->st->wal, r.id) == -1)
		fatalx("wal: %s", log_reason());
	p = peer_new(rs->st, &r, pm->to_peer, 0, 0);
	region_free(&r);
	if (p == NULL) {
		log_warnx("region %" PRIu64 ": cannot create peer: %s",
		    pm->region_id, log_reason());
		return NULL;
	}
	insert_peer(rs, p);
	log_info("region %" PRIu64 ": created peer %" PRIu64 " from a message",
	    pm->region_id, pm->to_peer);
	return p;
}

static void
handle_peer_msg(struct raftstore *rs, struct peer_msg *pm)
{
	struct peer *p;

	if (pm->to_store != rs->st->store_id)
		goto out;
	p = find_peer(rs, pm->region_id);
	if (p == NULL)
		p = create_from_msg(rs, pm);
	if (p == NULL || p->peer_id != pm->to_peer)
		goto out;
	peer_learn_store(p, pm->from_peer, pm->from_store);
	if (raft_step(p->raft, &pm->msg) == RAFT_ERR_INVALID)
		log_debug("region %" PRIu64 ": bad message from peer %" PRIu64
		    ": %s", p->region_id, pm->from_peer, log_reason());
	mark_dirty(rs, p);
out:
	peer_msg_free(pm);
	free(pm);
}

static void
handle_change_peer(struct raftstore *rs, struct mb_item *it)
{
	struct raft_conf_change_single ch;
	struct raft_conf_change cc;
	struct buf ctx = BUF_INIT;
	struct peer *p = find_peer(rs, it->region_id);
	int rc;

	if (p == NULL || p->role != RAFT_LEADER) {
		if (it->slot != NULL) {
			if (p == NULL)
				slot_error(it->slot, PROTO_REGION_NOT_FOUND,
				    "%" PRIu64, it->region_id);
			else
				reply_not_leader(rs, p, it->slot);
		}
		return;
	}
	ch.type = it->arg;
	ch.node_id = it->peer_id;
	cmd_encode_cc_ctx(&ctx, &it->store_id, 1);
	memset(&cc, 0, sizeof(cc));
	cc.transition = RAFT_CC_TRANSITION_AUTO;
	cc.changes = &ch;
	cc.n_changes = 1;
	cc.context = ctx.data;
	cc.context_len = ctx.len;
	rc = raft_propose_conf_change(p->raft, &cc, NULL);
	if (rc != 0)
		log_info("region %" PRIu64 ": conf change on peer %" PRIu64
		    " not proposed: %s", p->region_id, it->peer_id,
		    log_reason());
	if (it->slot != NULL) {
		if (rc == 0)
			slot_error(it->slot, PROTO_OK, "%s", "");
		else
			slot_error(it->slot, PROTO_SERVER_IS_BUSY,
			    "conf change refused: %s", log_reason());
	}
	mark_dirty(rs, p);
	buf_free(&ctx);
}

static void
handle_transfer(struct raftstore *rs, struct mb_item *it)
{
	struct peer *p = find_peer(rs, it->region_id);
	int rc;

	if (p == NULL) {
		if (it->slot != NULL)
			slot_error(it->slot, PROTO_REGION_NOT_FOUND,
			    "%" PRIu64, it->region_id);
		return;
	}
	if (p->role != RAFT_LEADER) {
		if (it->slot != NULL)
			reply_not_leader(rs, p, it->slot);
		return;
	}
	if (p->peer_id == it->peer_id) {
		rc = 0;		/* already there */
	} else if (region_peer_by_id(&p->region, it->peer_id) == NULL) {
		if (it->slot != NULL)
			slot_error(it->slot, PROTO_CLIENT_ERROR,
			    "region %" PRIu64 " has no peer %" PRIu64,
			    p->region_id, it->peer_id);
		return;
	} else {
		rc = raft_transfer_leader(p->raft, it->peer_id);
	}
	if (it->slot != NULL) {
		if (rc == 0)
			slot_error(it->slot, PROTO_OK, "%s", "");
		else
			slot_error(it->slot, PROTO_CLIENT_ERROR,
			    "cannot transfer to peer %" PRIu64 ": %s",
			    it->peer_id, log_reason());
	}
	mark_dirty(rs, p);
}

/* Prepares the WAL for a region created by split or bootstrap. */
static void
init_wal_group(struct raftstore *rs, uint64_t id, uint64_t index,
    uint64_t term)
{
	struct wal_hardstate hs;
	struct wal_hardstate old;

	if (wal_hardstate(rs->st->wal, id, &old) == 1 &&
	    wal_last_index(rs->st->wal, id) >= index)
		return;
	if (wal_remove_group(rs->st->wal, id) == -1 ||
	    wal_set_snapshot(rs->st->wal, id, index, term) == -1)
		fatalx("wal: %s", log_reason());
	hs.term = old.term > term ? old.term : term;
	hs.vote = 0;
	hs.commit = index;
	if (wal_set_hardstate(rs->st->wal, id, &hs) == -1)
		fatalx("wal: %s", log_reason());
}

static void
add_split_peer(struct raftstore *rs, struct peer *parent,
    const struct region *r)
{
	const struct region_peer *me = region_peer_on_store(r,
	    rs->st->store_id);
	struct peer *p = find_peer(rs, r->id);

	if (me == NULL)
		return;
	if (p != NULL) {
		if (p->initialized)
			return;
		destroy_peer(rs, p, 0);
	}
	init_wal_group(rs, r->id, TIKVD_INIT_INDEX, TIKVD_INIT_TERM);
	p = peer_new(rs->st, r, me->id, TIKVD_INIT_INDEX, 1);
	if (p == NULL)
		fatalx("region %" PRIu64 ": %s", r->id, log_reason());
	insert_peer(rs, p);
	/* The parent's leader leads the new region too: no election wait.
	 * Followers apply the split a heartbeat later; ask again then. */
	if (parent->role == RAFT_LEADER) {
		raft_campaign(p->raft);
		p->campaign_retry = 2 * (int)rs->st->cfg->raft_heartbeat_ticks;
	}
	mark_dirty(rs, p);
}

static void
handle_applied(struct raftstore *rs, struct apply_result *res)
{
	struct peer *p = find_peer(rs, res->region_id);
	struct raft_entry e;
	size_t i;

	if (res->kind == APPLY_RES_CHECKPOINT) {
		for (i = 0; i < res->n_ckpt; i++) {
			p = find_peer(rs, res->ckpt[2 * i]);
			if (p != NULL)
				p->durable_applied = res->ckpt[2 * i + 1];
		}
		goto out;
	}
	if (p == NULL)
		goto out;
	switch (res->kind) {
	case APPLY_RES_SNAP_BUILT:
		if (res->snap.len == 0) {
			p->snap_state = PEER_SNAP_NONE;
			break;
		}
		buf_free(&p->snap);
		p->snap = res->snap;
		buf_init(&res->snap);
		region_copy(&p->snap_region, res->region);
		p->snap_index = res->applied;
		p->snap_term = res->term;
		p->snap_state = PEER_SNAP_READY;
		break;
	case APPLY_RES_SNAP_INSTALLED:
		peer_set_region(p, res->region);
		rs->ranges_stale = 1;
		p->applied = p->handed = res->applied;
		raft_applied_to(p->raft, res->applied);
		break;
	case APPLY_RES_APPLIED:
		memset(&e, 0, sizeof(e));
		e.type = RAFT_ENTRY_CONF_CHANGE;
		for (i = 0; i < res->n_cc; i++) {
			e.data = res->cc_entries[i].data;
			e.len = res->cc_entries[i].len;
			if (raft_apply_conf_change_entry(p->raft, &e,
			    NULL) != 0)
				log_warnx("region %" PRIu64 ": %s",
				    p->region_id, log_reason());
		}
		if (res->region != NULL) {
			peer_set_region(p, res->region);
			rs->ranges_stale = 1;
		}
		p->applied = res->applied;
		raft_applied_to(p->raft, res->applied);
		if (res->removed) {
			destroy_peer(rs, p, 1);
			goto out;
		}
		if (res->split_new != NULL) {
			add_split_peer(rs, p, res->split_new);
			if (p->role == RAFT_LEADER)
				pdworker_split_done(rs->st->pw, &p->region,
				    res->split_new);
		}
		if (res->region != NULL && p->role == RAFT_LEADER)
			pdworker_region_changed(rs->st->pw, p->region_id);
		break;
	}
	mark_dirty(rs, p);
out:
	apply_result_free(res);
}

static void
handle_query(struct raftstore *rs, struct query *q);

static void
handle_item(struct raftstore *rs, struct mb_item *it)
{
	struct peer *p;

	switch (it->kind) {
	case MB_PROPOSE:
		handle_propose(rs, it->cmd, it->slot);
		break;
	case MB_READ:
		handle_read(rs, it->cmd, it->slot);
		break;
	case MB_PEER_MSG:
		handle_peer_msg(rs, it->pm);
		break;
	case MB_UNREACHABLE:
	case MB_SNAP_STATUS:
		if ((p = find_peer(rs, it->region_id)) == NULL)
			break;
		if (it->kind == MB_UNREACHABLE)
			raft_report_unreachable(p->raft, it->peer_id);
		else
			raft_report_snapshot(p->raft, it->peer_id, it->arg);
		mark_dirty(rs, p);
		break;
	case MB_APPLIED:
		handle_applied(rs, it->res);
		break;
	case MB_CHANGE_PEER:
		handle_change_peer(rs, it);
		break;
	case MB_TRANSFER:
		handle_transfer(rs, it);
		break;
	case MB_QUERY:
		handle_query(rs, it->q);
		break;
	}
	free(it);
}

/* Ready handling. */

static void
stage_ready(struct raftstore *rs, struct peer *p, const struct raft_ready *rd)
{
	struct wal_entry *we;
	struct wal_hardstate hs;
	size_t i;

	if (rd->snapshot != NULL) {
		const struct raft_snapshot *s = rd->snapshot;

		/* Kept until the KV engine has it (snap.h). */
		if (snap_save(rs->st->data_dir, p->region_id, s->data,
		    s->len) == -1)
			fatalx("region %" PRIu64 ": %s", p->region_id,
			    log_reason());
		if (wal_set_snapshot(rs->st->wal, p->region_id,
		    s->meta.index, s->meta.term) == -1)
			fatalx("wal: %s", log_reason());
	}
	if (rd->n_entries > 0) {
		we = xreallocarray(NULL, rd->n_entries, sizeof(*we));
		for (i = 0; i < rd->n_entries; i++) {
			we[i].index = rd->entries[i].index;
			we[i].term = rd->entries[i].term;
			we[i].type = (uint32_t)rd->entries[i].type;
			we[i].data = rd->entries[i].data;
			we[i].len = rd->entries[i].len;
		}
		if (wal_append_entries(rs->st->wal, p->region_id, we,
		    rd->n_entries) == -1)
			fatalx("wal: %s", log_reason());
		free(we);
	}
	if (rd->hard_state_changed) {
		hs.term = rd->hs.term;
		hs.vote = rd->hs.vote;
		hs.commit = rd->hs.commit;
		if (wal_set_hardstate(rs->st->wal, p->region_id, &hs) == -1)
			fatalx("wal: %s", log_reason());
	}
}

static void
send_msgs(struct raftstore *rs, struct peer *p, const struct raft_ready *rd)
{
	size_t i;
	uint64_t store;

	for (i = 0; i < rd->n_msgs; i++) {
		const struct raft_msg *m = &rd->msgs[i];

		store = peer_store_of(p, m->to);
		if (store == 0) {
			raft_report_unreachable(p->raft, m->to);
			continue;
		}
		transport_send(rs->st->tr, p->region_id, rs->st->store_id,
		    store, &p->region, m);
	}
}

static void
hand_committed(struct raftstore *rs, struct peer *p,
    const struct raft_ready *rd)
{
	struct apply_entry *ents;
	size_t i;

	if (rd->n_committed == 0)
		return;
	ents = xcalloc(rd->n_committed, sizeof(*ents));
	for (i = 0; i < rd->n_committed; i++) {
		const struct raft_entry *e = &rd->committed[i];

		ents[i].index = e->index;
		ents[i].term = e->term;
		ents[i].type = e->type;
		buf_add(&ents[i].data, e->data, e->len);
		ents[i].slot = peer_take_proposal(p, e->index, e->term);
	}
	p->handed = rd->committed[rd->n_committed - 1].index;
	apply_entries(rs->st->ap, p->region_id, ents, rd->n_committed);
}

/* Reads whose index is confirmed and handed over go to the apply thread. */
static void
hand_reads(struct raftstore *rs, struct peer *p, const struct raft_ready *rd)
{
	size_t i, j, k;

	for (i = 0; i < rd->n_read_states; i++) {
		const struct raft_read_state *s = &rd->read_states[i];
		uint64_t id;

		if (s->len != 8)
			continue;
		id = codec_get_u64be(s->ctx);
		for (j = 0; j < p->nreads; j++)
			if (p->reads[j].id == id)
				p->reads[j].index = s->index;
	}
	for (j = k = 0; j < p->nreads; j++) {
		struct pending_read *pr = &p->reads[j];

		if (pr->index != 0 && pr->index <= p->handed) {
			apply_read(rs->st->ap, p->region_id, pr->cmd,
			    pr->slot);
			continue;
		}
		p->reads[k++] = *pr;
	}
	p->nreads = k;
}

static void
soft_state(struct raftstore *rs, struct peer *p, const struct raft_ready *rd)
{
	int was_leader = p->role == RAFT_LEADER;
	char text[64];

	if (!rd->soft_state_changed)
		return;
	p->role = rd->role;
	p->leader = rd->leader;
	if (was_leader && p->role != RAFT_LEADER) {
		snprintf(text, sizeof(text), "%" PRIu64 " 0 \"\"",
		    p->region_id);
		peer_fail_reads(p, PROTO_NOT_LEADER, text);
	}
	if (!was_leader && p->role == RAFT_LEADER) {
		log_info("region %" PRIu64 ": peer %" PRIu64 " is leader",
		    p->region_id, p->peer_id);
		pdworker_region_changed(rs->st->pw, p->region_id);
	}
}

struct round {
	struct peer *p;
	struct raft_ready rd;
};

static void
process_readies(struct raftstore *rs)
{
	struct round *rounds = NULL;
	size_t n = 0, cap = 0, i;
	struct peer *p, *next;
	int must_sync = 0;

	for (p = rs->dirty, rs->dirty = NULL; p != NULL; p = next) {
		next = p->next_dirty;
		p->dirty = 0;
		p->next_dirty = NULL;
		if (!raft_has_ready(p->raft)) {
			hand_reads(rs, p, &(struct raft_ready){ 0 });
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			rounds = xreallocarray(rounds, cap, sizeof(*rounds));
		}
		rounds[n].p = p;
		raft_ready(p->raft, &rounds[n].rd);
		stage_ready(rs, p, &rounds[n].rd);
		must_sync |= rounds[n].rd.must_sync ||
		    rounds[n].rd.snapshot != NULL;
		n++;
	}
	if (n == 0)
		return;
	/* One fdatasync for every region of this round. */
	if (must_sync) {
		while (wal_sync(rs->st->wal) == -1) {
			log_warnx("wal: %s; retrying", log_reason());
			nanosleep(&(struct timespec){ 0, 100000000L }, NULL);
		}
	}
	for (i = 0; i < n; i++) {
		struct raft_ready *rd = &rounds[i].rd;

		p = rounds[i].p;
		soft_state(rs, p, rd);
		send_msgs(rs, p, rd);
		if (rd->snapshot != NULL) {
			struct buf data = BUF_INIT;

			buf_add(&data, rd->snapshot->data, rd->snapshot->len);
			p->handed = rd->snapshot->meta.index;
			apply_install_snapshot(rs->st->ap, p->region_id, &data);
		}
		hand_committed(rs, p, rd);
		hand_reads(rs, p, rd);
		raft_advance_append(p->raft, rd);
		/* More may be ready (e.g. entries past a size limit). */
		if (raft_has_ready(p->raft))
			mark_dirty(rs, p);
	}
	transport_flush(rs->st->tr);
	free(rounds);
}

/*
 * Raft log GC: drop entries the KV checkpoint covers, keeping what
 * followers still need unless the log is over its count or size limit
 * (they then get a snapshot).
 */
static void
compact_logs(struct raftstore *rs)
{
	const struct tikvd_config *cfg = rs->st->cfg;
	struct raft_progress_info pi;
	size_t i, j;

	for (i = 0; i < rs->npeers; i++) {
		struct peer *p = rs->peers[i];
		uint64_t first = wal_first_index(rs->st->wal, p->region_id);
		uint64_t to = p->durable_applied, keep;

		if (!p->initialized || to < first + 64)
			continue;
		if (p->role == RAFT_LEADER &&
		    to - first < (uint64_t)cfg->raft_log_gc_count_limit) {
			for (j = 0; j < p->region.npeers; j++) {
				if (p->region.peers[j].id == p->peer_id ||
				    raft_progress(p->raft,
				    p->region.peers[j].id, &pi) == -1)
					continue;
				if (pi.match < to)
					to = pi.match;
			}
		}
		/* Keep a little tail so a briefly slow follower needs no
		 * snapshot. */
		keep = to > first + 16 ? to - 16 : first;
		if (keep <= first)
			continue;
		if (wal_compact(rs->st->wal, p->region_id, keep) == -1)
			log_warnx("wal: %s", log_reason());
	}
}

static void
tick_all(struct raftstore *rs)
{
	size_t i;

	for (i = 0; i < rs->npeers; i++) {
		struct peer *p = rs->peers[i];

		raft_tick(p->raft);
		if (p->campaign_retry > 0 && --p->campaign_retry == 0 &&
		    p->role != RAFT_LEADER && p->leader == 0)
			raft_campaign(p->raft);
		mark_dirty(rs, p);
	}
}

static void
drop_item(struct raftstore *rs, struct mb_item *it)
{
	if (it->slot != NULL)
		slot_error(it->slot, PROTO_SERVER_ERROR, "store shutting down");
	if (it->cmd != NULL)
		cmd_destroy(it->cmd);
	if (it->pm != NULL) {
		peer_msg_free(it->pm);
		free(it->pm);
	}
	if (it->q != NULL) {
		pthread_mutex_lock(&rs->mu);
		it->q->done = 1;
		pthread_cond_broadcast(&rs->qcv);
		pthread_mutex_unlock(&rs->mu);
	}
	apply_result_free(it->res);
	free(it);
}

static void *
raftstore_main(void *arg)
{
	struct raftstore *rs = arg;
	uint64_t tick_ms = rs->st->cfg->raft_base_tick_interval, now;
	uint64_t ticks = 0;
	struct mb_item *it, *next;
	struct timespec ts;
	int stop;

	rs->next_tick_ms = clock_mono_ms() + tick_ms;
	for (;;) {
		pthread_mutex_lock(&rs->mu);
		while (rs->head == NULL && !rs->stop &&
		    (now = clock_mono_ms()) < rs->next_tick_ms) {
			uint64_t wait = rs->next_tick_ms - now;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(wait / 1000);
			ts.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&rs->cv, &rs->mu, &ts);
		}
		it = rs->head;
		rs->head = rs->tail = NULL;
		stop = rs->stop;
		pthread_mutex_unlock(&rs->mu);
		if (stop) {
			for (; it != NULL; it = next) {
				next = it->next;
				drop_item(rs, it);
			}
			break;
		}
		for (; it != NULL; it = next) {
			next = it->next;
			handle_item(rs, it);
		}
		if (clock_mono_ms() >= rs->next_tick_ms) {
			rs->next_tick_ms += tick_ms;
			if (rs->next_tick_ms < clock_mono_ms())
				rs->next_tick_ms = clock_mono_ms() + tick_ms;
			tick_all(rs);
			if (++ticks % 10 == 0)
				compact_logs(rs);
		}
		process_readies(rs);
	}
	return NULL;
}

/* Queries from other threads, answered by the loop. */

static void
fill_info(struct peer *p, struct region_info *ri)
{
	struct raft_status s;
	struct raft_progress_info pi;
	size_t i;

	memset(ri, 0, sizeof(*ri));
	region_init(&ri->region);
	region_copy(&ri->region, &p->region);
	raft_status(p->raft, &s);
	ri->initialized = p->initialized;
	ri->role = s.role;
	ri->peer_id = p->peer_id;
	ri->leader_peer_id = s.leader;
	ri->term = s.hs.term;
	ri->commit = s.hs.commit;
	ri->applied = p->applied;
	ri->first_index = s.first_index;
	ri->last_index = s.last_index;
	if (s.role != RAFT_LEADER)
		return;
	for (i = 0; i < p->region.npeers; i++) {
		uint64_t id = p->region.peers[i].id;

		if (id == p->peer_id || raft_progress(p->raft, id, &pi) == -1)
			continue;
		/* Lagging: not replicating, or far behind the leader. */
		if (pi.state != RAFT_PROGRESS_REPLICATE ||
		    pi.match + 100 < s.last_index)
			ri->pending_peers[ri->n_pending++] = id;
	}
}

static void
handle_query(struct raftstore *rs, struct query *q)
{
	struct peer *p = NULL;
	size_t i;

	switch (q->kind) {
	case Q_ALL:
		q->out = xcalloc(rs->npeers + 1, sizeof(*q->out));
		for (i = 0; i < rs->npeers; i++)
			fill_info(rs->peers[i], &q->out[i]);
		q->n = rs->npeers;
		break;
	case Q_BY_ID:
		p = find_peer(rs, q->id);
		break;
	case Q_BY_KEY:
		p = peer_by_key(rs, q->key.ptr, q->key.len);
		break;
	}
	if (q->kind != Q_ALL && p != NULL) {
		q->out = xcalloc(1, sizeof(*q->out));
		fill_info(p, q->out);
		q->n = 1;
	}
	pthread_mutex_lock(&rs->mu);
	q->done = 1;
	pthread_cond_broadcast(&rs->qcv);
	pthread_mutex_unlock(&rs->mu);
}

static int
run_query(struct raftstore *rs, struct query *q)
{
	struct mb_item *it = item_new(MB_QUERY);

	it->q = q;
	pthread_mutex_lock(&rs->mu);
	if (rs->stop) {
		pthread_mutex_unlock(&rs->mu);
		free(it);
		return -1;
	}
	if (rs->tail != NULL)
		rs->tail->next = it;
	else
		rs->head = it;
	rs->tail = it;
	pthread_cond_signal(&rs->cv);
	while (!q->done)
		pthread_cond_wait(&rs->qcv, &rs->mu);
	pthread_mutex_unlock(&rs->mu);
	return 0;
}

int
raftstore_regions(struct raftstore *rs, struct region_info **out, size_t *n)
{
	struct query q = { .kind = Q_ALL };

	if (run_query(rs, &q) == -1) {
		*out = NULL;
		*n = 0;
		return -1;
	}
	*out = q.out;
	*n = q.n;
	return 0;
}

static int
query_one(struct raftstore *rs, struct query *q, struct region_info *ri)
{
	if (run_query(rs, q) == -1)
		return -1;
	if (q->n == 0) {
		free(q->out);
		return -1;
	}
	*ri = q->out[0];
	free(q->out);
	return 0;
}

int
raftstore_region_by_id(struct raftstore *rs, uint64_t id,
    struct region_info *ri)
{
	struct query q = { .kind = Q_BY_ID, .id = id };

	return query_one(rs, &q, ri);
}

int
raftstore_region_by_key(struct raftstore *rs, const void *key, size_t len,
    struct region_info *ri)
{
	struct query q = { .kind = Q_BY_KEY, .key = { key, len } };

	return query_one(rs, &q, ri);
}

void
raftstore_info_free(struct region_info *ri, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		region_free(&ri[i].region);
}

/* Bootstrap and recovery. */

int
raftstore_bootstrap_region(struct store *st, const struct region *r)
{
	struct apply_state as = { TIKVD_INIT_INDEX, TIKVD_INIT_TERM };
	struct kv_batch *b = kv_batch_new();
	int rc;

	localmeta_put_region(b, r, REGION_STATE_NORMAL);
	localmeta_put_apply(b, r->id, &as);
	rc = kv_batch_commit(st->kv, b);
	kv_batch_free(b);
	if (rc == 0 && kv_checkpoint(st->kv) == -1)
		rc = -1;
	return rc;
}

int
raftstore_unbootstrap_region(struct store *st, uint64_t region_id)
{
	struct kv_batch *b = kv_batch_new();
	int rc;

	localmeta_delete_region(b, region_id);
	rc = kv_batch_commit(st->kv, b);
	kv_batch_free(b);
	if (rc == 0 && kv_checkpoint(st->kv) == -1)
		rc = -1;
	return rc;
}

struct raftstore *
raftstore_new(struct store *st)
{
	struct raftstore *rs = xcalloc(1, sizeof(*rs));

	rs->st = st;
	pthread_mutex_init(&rs->mu, NULL);
	pthread_cond_init(&rs->cv, NULL);
	pthread_cond_init(&rs->qcv, NULL);
	return rs;
}

/* A snapshot received before a crash but not checkpointed: install it. */
static int
recover_snapshots(struct raftstore *rs)
{
	struct store *st = rs->st;
	struct apply_state as;
	struct buf data = BUF_INIT;
	struct region r;
	uint64_t *ids, index;
	size_t n, i;
	int rc = 0, found;

	ids = snap_list(st->data_dir, &n);
	region_init(&r);
	for (i = 0; i < n && rc == 0; i++) {
		buf_reset(&data);
		if (snap_load(st->data_dir, ids[i], &data) != 1 ||
		    snap_open(data.data, data.len, &r, &index, NULL,
		    NULL) == -1) {
			log_warnx("snapshot of region %" PRIu64 ": %s; dropped",
			    ids[i], log_reason());
			snap_remove(st->data_dir, ids[i]);
			continue;
		}
		found = localmeta_get_apply(st->kv, ids[i], &as);
		if (found == -1) {
			rc = -1;
			break;
		}
		if (found == 1 && as.applied >= index) {
			snap_remove(st->data_dir, ids[i]);
			continue;
		}
		log_info("region %" PRIu64 ": installing the snapshot at %"
		    PRIu64 " received before the restart", ids[i], index);
		rc = apply_install(st, ids[i], &data, &r, &as);
	}
	region_free(&r);
	buf_free(&data);
	free(ids);
	return rc;
}

static int
recover_region(void *arg, const struct region *r, int state)
{
	struct raftstore *rs = arg;
	struct store *st = rs->st;
	const struct region_peer *me;
	struct apply_state as;
	uint64_t snap_index, snap_term;
	struct peer *p;

	if (state == REGION_STATE_TOMBSTONE) {
		/* The record keeps the region as it was with our peer. */
		add_tombstone(rs, r->id, max_peer_id(r, 0));
		wal_remove_group(st->wal, r->id);
		return 0;
	}
	me = region_peer_on_store(r, st->store_id);
	if (me == NULL || localmeta_get_apply(st->kv, r->id, &as) != 1) {
		log_warnx("region %" PRIu64 " has no peer or apply state here; "
		    "skipped", r->id);
		return 0;
	}
	wal_snapshot_point(st->wal, r->id, &snap_index, &snap_term);
	if (snap_index > as.applied) {
		log_setreason("region %" PRIu64 ": the raft log starts at %"
		    PRIu64 " but the KV engine applied only %" PRIu64, r->id,
		    snap_index, as.applied);
		return -1;
	}
	if (wal_last_index(st->wal, r->id) < as.applied)
		init_wal_group(rs, r->id, as.applied, as.term);
	p = peer_new(st, r, me->id, as.applied, 0);
	if (p == NULL)
		return -1;
	insert_peer(rs, p);
	apply_add_region(st->ap, r, &as);
	return 0;
}

int
raftstore_start(struct raftstore *rs)
{
	struct store *st = rs->st;
	uint64_t *groups;
	size_t n, i;
	int failed = 0;

	if (recover_snapshots(rs) == -1)
		return -1;
	if (localmeta_regions(st->kv, recover_region, rs) == -1)
		return -1;
	for (i = 0; i < rs->npeers; i++)
		if (rs->peers[i] == NULL)
			failed = 1;
	if (failed)
		return -1;
	/* Groups of uninitialized peers: the leader will send again. */
	groups = wal_groups(st->wal, &n);
	for (i = 0; i < n; i++)
		if (find_peer(rs, groups[i]) == NULL)
			wal_remove_group(st->wal, groups[i]);
	free(groups);
	if (wal_sync(st->wal) == -1)
		return -1;
	for (i = 0; i < rs->npeers; i++)
		mark_dirty(rs, rs->peers[i]);
	log_info("raftstore: %zu regions recovered", rs->npeers);
	if (pthread_create(&rs->thread, NULL, raftstore_main, rs) != 0) {
		log_setreason("cannot start the raftstore thread");
		return -1;
	}
	rs->started = 1;
	return 0;
}

void
raftstore_stop(struct raftstore *rs)
{
	if (!rs->started)
		return;
	pthread_mutex_lock(&rs->mu);
	rs->stop = 1;
	pthread_cond_signal(&rs->cv);
	pthread_mutex_unlock(&rs->mu);
	pthread_join(rs->thread, NULL);
	rs->started = 0;
}

void
raftstore_free(struct raftstore *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	raftstore_stop(rs);
	for (i = 0; i < rs->npeers; i++)
		peer_free(rs->peers[i]);
	free(rs->peers);
	free(rs->ranges);
	free(rs->tombstones);
	pthread_mutex_destroy(&rs->mu);
	pthread_cond_destroy(&rs->cv);
	pthread_cond_destroy(&rs->qcv);
	free(rs);
}
