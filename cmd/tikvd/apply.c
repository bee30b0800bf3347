/*
 * The apply thread (apply.h).
 *
 * It drains its queue, executes every task into one KV batch, commits the
 * batch, and only then completes the client slots and tells the raftstore:
 * an acknowledged write is in the KV engine (and in the WAL, durably).  A
 * task that must read the KV state (a CAS, a read, a snapshot) commits the
 * batch first.  About once a second it checkpoints the KV engine and
 * reports every region's durable applied index, which bounds Raft log GC.
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
#include "kv.h"
#include "log.h"
#include "pdworker.h"
#include "proto.h"
#include "raft.h"
#include "raftstore.h"
#include "raftwire.h"
#include "raw.h"
#include "request.h"
#include "snap.h"
#include "tikvd.h"
#include "txncmd.h"
#include "xmalloc.h"

#define CHECKPOINT_MS	1000

enum task_kind {
	TASK_ADD_REGION,
	TASK_ENTRIES,
	TASK_READ,
	TASK_GEN_SNAP,
	TASK_INSTALL_SNAP,
	TASK_DROP_REGION
};

struct task {
	int kind;
	uint64_t region_id;
	struct apply_entry *ents;
	size_t n;
	struct cmd *cmd;
	struct slot *slot;
	struct buf data;
	struct region *region;
	struct apply_state as;
	struct task *next;
};

/* The apply thread's view of one region. */
struct aregion {
	uint64_t id;
	struct region region;
	struct apply_state as;
	int dirty;			/* apply state to write */
	struct apply_result *res;	/* pending result for the raftstore */
};

struct reply {
	struct slot *slot;
	struct buf line;
};

struct apply {
	struct store *st;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct task *head, *tail;
	int stop;

	/* thread-owned */
	struct aregion **regions;	/* sorted by id */
	size_t nregions;
	struct kv_batch *batch;
	struct reply *replies;
	size_t nreplies, capreplies;
	uint64_t last_ckpt_ms;
	int changed;			/* since the last checkpoint */
};

static void
post(struct apply *ap, struct task *t)
{
	pthread_mutex_lock(&ap->mu);
	if (ap->tail != NULL)
		ap->tail->next = t;
	else
		ap->head = t;
	ap->tail = t;
	pthread_cond_signal(&ap->cv);
	pthread_mutex_unlock(&ap->mu);
}

static struct task *
task_new(int kind, uint64_t region_id)
{
	struct task *t = xcalloc(1, sizeof(*t));

	t->kind = kind;
	t->region_id = region_id;
	return t;
}

void
apply_add_region(struct apply *ap, const struct region *r,
    const struct apply_state *as)
{
	struct task *t = task_new(TASK_ADD_REGION, r->id);

	t->region = xmalloc(sizeof(*t->region));
	region_init(t->region);
	region_copy(t->region, r);
	t->as = *as;
	post(ap, t);
}

void
apply_entries(struct apply *ap, uint64_t region_id, struct apply_entry *ents,
    size_t n)
{
	struct task *t = task_new(TASK_ENTRIES, region_id);

	t->ents = ents;
	t->n = n;
	post(ap, t);
}

void
apply_read(struct apply *ap, uint64_t region_id, struct cmd *c,
    struct slot *slot)
{
	struct task *t = task_new(TASK_READ, region_id);

	t->cmd = c;
	t->slot = slot;
	post(ap, t);
}

void
apply_gen_snapshot(struct apply *ap, uint64_t region_id)
{
	post(ap, task_new(TASK_GEN_SNAP, region_id));
}

void
apply_install_snapshot(struct apply *ap, uint64_t region_id,
    struct buf *data)
{
	struct task *t = task_new(TASK_INSTALL_SNAP, region_id);

	t->data = *data;
	buf_init(data);
	post(ap, t);
}

void
apply_drop_region(struct apply *ap, uint64_t region_id)
{
	post(ap, task_new(TASK_DROP_REGION, region_id));
}

void
apply_result_free(struct apply_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	if (res->region != NULL) {
		region_free(res->region);
		free(res->region);
	}
	if (res->split_new != NULL) {
		region_free(res->split_new);
		free(res->split_new);
	}
	for (i = 0; i < res->n_cc; i++)
		buf_free(&res->cc_entries[i]);
	free(res->cc_entries);
	buf_free(&res->snap);
	free(res->ckpt);
	free(res);
}

/* Regions, sorted by id. */

static size_t
region_slot(struct apply *ap, uint64_t id)
{
	size_t lo = 0, hi = ap->nregions, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (ap->regions[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct aregion *
find_region(struct apply *ap, uint64_t id)
{
	size_t i = region_slot(ap, id);

	if (i < ap->nregions && ap->regions[i]->id == id)
		return ap->regions[i];
	return NULL;
}

static struct aregion *
put_region(struct apply *ap, const struct region *r,
    const struct apply_state *as)
{
	size_t i = region_slot(ap, r->id);
	struct aregion *ar;

	if (i < ap->nregions && ap->regions[i]->id == r->id) {
		ar = ap->regions[i];
	} else {
		ap->regions = xreallocarray(ap->regions, ap->nregions + 1,
		    sizeof(*ap->regions));
		memmove(ap->regions + i + 1, ap->regions + i,
		    (ap->nregions - i) * sizeof(*ap->regions));
		ar = xcalloc(1, sizeof(*ar));
		region_init(&ar->region);
		ar->id = r->id;
		ap->regions[i] = ar;
		ap->nregions++;
	}
	region_copy(&ar->region, r);
	ar->as = *as;
	return ar;
}

static void
remove_region(struct apply *ap, uint64_t id)
{
	size_t i = region_slot(ap, id);
	struct aregion *ar;

	if (i == ap->nregions || ap->regions[i]->id != id)
		return;
	ar = ap->regions[i];
	apply_result_free(ar->res);
	region_free(&ar->region);
	free(ar);
	memmove(ap->regions + i, ap->regions + i + 1,
	    (ap->nregions - i - 1) * sizeof(*ap->regions));
	ap->nregions--;
}

static struct apply_result *
result_of(struct aregion *ar, int kind)
{
	if (ar->res == NULL) {
		ar->res = xcalloc(1, sizeof(*ar->res));
		ar->res->kind = kind;
		ar->res->region_id = ar->id;
	}
	return ar->res;
}

static void
result_set_region(struct aregion *ar)
{
	struct apply_result *res = result_of(ar, APPLY_RES_APPLIED);

	if (res->region == NULL) {
		res->region = xmalloc(sizeof(*res->region));
		region_init(res->region);
	}
	region_copy(res->region, &ar->region);
}

static void
add_reply(struct apply *ap, struct slot *slot, const struct buf *line)
{
	struct reply *r;

	if (slot == NULL)
		return;
	if (ap->nreplies == ap->capreplies) {
		ap->capreplies = ap->capreplies ? ap->capreplies * 2 : 64;
		ap->replies = xreallocarray(ap->replies, ap->capreplies,
		    sizeof(*ap->replies));
	}
	r = &ap->replies[ap->nreplies++];
	r->slot = slot;
	buf_init(&r->line);
	buf_add(&r->line, line->data, line->len);
}

static void
add_error(struct apply *ap, struct slot *slot, int word, const char *text)
{
	struct buf line = BUF_INIT;

	if (slot == NULL)
		return;
	proto_reply_error(&line, word, "%s", text);
	add_reply(ap, slot, &line);
	buf_free(&line);
}

static void
add_epoch_error(struct apply *ap, struct slot *slot, const struct region *r)
{
	struct buf line = BUF_INIT;

	if (slot == NULL)
		return;
	buf_addstr(&line, proto_word_name(PROTO_EPOCH_NOT_MATCH));
	region_format(r, &line);
	proto_end_line(&line);
	add_reply(ap, slot, &line);
	buf_free(&line);
}

/*
 * Commits the batch with the apply states it covers, then completes the
 * waiting slots and sends the raftstore what changed.
 */
static void
flush(struct apply *ap)
{
	size_t i;

	for (i = 0; i < ap->nregions; i++) {
		struct aregion *ar = ap->regions[i];

		if (ar->dirty) {
			localmeta_put_apply(ap->batch, ar->id, &ar->as);
			ar->dirty = 0;
		}
	}
	if (kv_batch_count(ap->batch) > 0) {
		/* A failed write leaves the engine failed: nothing after it
		 * can be made durable, so stop rather than acknowledge. */
		if (kv_batch_commit(ap->st->kv, ap->batch) == -1)
			fatalx("apply: %s", log_reason());
		kv_batch_clear(ap->batch);
		ap->changed = 1;
	}
	for (i = 0; i < ap->nreplies; i++) {
		slot_done(ap->replies[i].slot, &ap->replies[i].line);
		buf_free(&ap->replies[i].line);
	}
	ap->nreplies = 0;
	for (i = 0; i < ap->nregions; i++) {
		struct aregion *ar = ap->regions[i];

		if (ar->res != NULL) {
			ar->res->applied = ar->as.applied;
			ar->res->term = ar->as.term;
			raftstore_applied(ap->st->rs, ar->res);
			ar->res = NULL;
		}
	}
}

static void
apply_conf_change(struct apply *ap, struct aregion *ar,
    const struct apply_entry *e)
{
	struct raft_conf_change cc;
	struct apply_result *res;
	uint64_t stores[REGION_MAX_PEERS];
	struct region before;
	struct buf lo = BUF_INIT, hi = BUF_INIT;
	size_t i, nstores = 0;
	int removed_self = 0, cf;

	region_init(&before);
	region_copy(&before, &ar->region);
	if (raftwire_decode_conf_change(e->data.data, e->data.len, &cc) == -1) {
		/* Raft committed it, so it was well formed when proposed:
		 * the log is damaged. */
		fatalx("region %" PRIu64 " entry %" PRIu64 ": %s", ar->id,
		    e->index, log_reason());
	}
	if (cc.context_len > 0 && cmd_decode_cc_ctx(cc.context,
	    cc.context_len, stores, REGION_MAX_PEERS, &nstores) == -1)
		nstores = 0;
	for (i = 0; i < cc.n_changes; i++) {
		const struct raft_conf_change_single *ch = &cc.changes[i];
		struct region_peer *p = (struct region_peer *)
		    region_peer_by_id(&ar->region, ch->node_id);

		switch (ch->type) {
		case RAFT_CC_ADD_NODE:
		case RAFT_CC_ADD_LEARNER:
			if (p != NULL) {
				p->role = ch->type == RAFT_CC_ADD_NODE ?
				    REGION_VOTER : REGION_LEARNER;
			} else if (i < nstores) {
				region_add_peer(&ar->region, ch->node_id,
				    stores[i], ch->type == RAFT_CC_ADD_NODE ?
				    REGION_VOTER : REGION_LEARNER);
			} else {
				log_warnx("region %" PRIu64 ": conf change "
				    "adds peer %" PRIu64 " without a store",
				    ar->id, ch->node_id);
			}
			break;
		case RAFT_CC_REMOVE_NODE:
			if (p != NULL && p->store_id == ap->st->store_id)
				removed_self = 1;
			region_remove_peer(&ar->region, ch->node_id);
			break;
		}
	}
	ar->region.epoch.conf_ver++;
	raftwire_conf_change_free(&cc);

	res = result_of(ar, APPLY_RES_APPLIED);
	res->cc_entries = xreallocarray(res->cc_entries, res->n_cc + 1,
	    sizeof(*res->cc_entries));
	buf_init(&res->cc_entries[res->n_cc]);
	buf_add(&res->cc_entries[res->n_cc], e->data.data, e->data.len);
	res->n_cc++;
	result_set_region(ar);
	if (removed_self) {
		res->removed = 1;
		/* With our peer still listed: its id marks messages to it
		 * stale after a restart. */
		before.epoch = ar->region.epoch;
		localmeta_put_region(ap->batch, &before,
		    REGION_STATE_TOMBSTONE);
		/* The range is no longer ours: drop its data. */
		for (cf = 0; cf < KV_CF_META; cf++) {
			kv_cf_bounds(cf, ar->region.start.data,
			    ar->region.start.len, ar->region.end.data,
			    ar->region.end.len, &lo, &hi);
			kv_batch_delete_range(ap->batch, cf, lo.data, lo.len,
			    hi.data, hi.len);
		}
		buf_free(&lo);
		buf_free(&hi);
	} else {
		localmeta_put_region(ap->batch, &ar->region,
		    REGION_STATE_NORMAL);
	}
	if (e->slot != NULL) {
		struct buf line = BUF_INIT;

		proto_reply_ok(&line);
		add_reply(ap, e->slot, &line);
		buf_free(&line);
	}
	region_free(&before);
}

static void
apply_split(struct apply *ap, struct aregion *ar, const struct cmd *c,
    struct slot *slot)
{
	struct region left, right;
	struct apply_state ras = { TIKVD_INIT_INDEX, TIKVD_INIT_TERM };
	struct apply_result *res;
	struct bytes key = buf_bytes(&c->split_key);
	struct buf line = BUF_INIT;
	struct aregion *nr;
	size_t i;

	if (!region_epoch_eq(c->epoch, ar->region.epoch)) {
		add_epoch_error(ap, slot, &ar->region);
		return;
	}
	if (c->n_new_peers != ar->region.npeers ||
	    !region_contains(&ar->region, key.ptr, key.len) ||
	    bytes_cmp(key, buf_bytes(&ar->region.start)) == 0 ||
	    find_region(ap, c->new_region_id) != NULL) {
		add_error(ap, slot, PROTO_CLIENT_ERROR, "bad split");
		return;
	}
	region_init(&left);
	region_init(&right);
	region_copy(&left, &ar->region);
	region_copy(&right, &ar->region);
	left.epoch.version++;
	right.epoch.version = left.epoch.version;
	buf_reset(&left.end);
	buf_add(&left.end, key.ptr, key.len);
	right.id = c->new_region_id;
	buf_reset(&right.start);
	buf_add(&right.start, key.ptr, key.len);
	for (i = 0; i < right.npeers; i++)
		right.peers[i].id = c->new_peer_ids[i];

	localmeta_put_region(ap->batch, &left, REGION_STATE_NORMAL);
	localmeta_put_region(ap->batch, &right, REGION_STATE_NORMAL);
	localmeta_put_apply(ap->batch, right.id, &ras);
	region_copy(&ar->region, &left);
	nr = put_region(ap, &right, &ras);
	nr->dirty = 0;

	res = result_of(ar, APPLY_RES_APPLIED);
	result_set_region(ar);
	res->split_new = xmalloc(sizeof(*res->split_new));
	region_init(res->split_new);
	region_copy(res->split_new, &right);

	buf_addstr(&line, "OK");
	region_format(&left, &line);
	region_format(&right, &line);
	proto_end_line(&line);
	add_reply(ap, slot, &line);
	buf_free(&line);
	log_info("region %" PRIu64 " split into %" PRIu64 " and %" PRIu64,
	    left.id, left.id, right.id);
	region_free(&left);
	region_free(&right);
}

static void
apply_normal(struct apply *ap, struct aregion *ar, struct apply_entry *e,
    struct cmd *c)
{
	struct buf line = BUF_INIT;

	if (e->data.len == 0)
		return;		/* a new leader's empty entry */
	if (cmd_decode(e->data.data, e->data.len, c) == -1)
		fatalx("region %" PRIu64 " entry %" PRIu64 ": %s", ar->id,
		    e->index, log_reason());
	switch (c->kind) {
	case CMD_WRITE:
		/* A split since the proposal may have moved its keys. */
		if (c->epoch.version != ar->region.epoch.version) {
			add_epoch_error(ap, e->slot, &ar->region);
			break;
		}
		if (raw_needs_flush(c))
			flush(ap);
		if (raw_apply(ap->st->kv, &ar->region, c, ap->batch,
		    &line) == -1)
			fatalx("region %" PRIu64 " apply: %s", ar->id,
			    log_reason());
		add_reply(ap, e->slot, &line);
		break;
	case CMD_TXN:
		if (c->epoch.version != ar->region.epoch.version) {
			add_epoch_error(ap, e->slot, &ar->region);
			break;
		}
		/* Percolator actions read the state every earlier entry
		 * left. */
		flush(ap);
		if (txncmd_apply(ap->st->kv, &ar->region, c, ap->batch,
		    &line) == -1)
			fatalx("region %" PRIu64 " apply: %s", ar->id,
			    log_reason());
		add_reply(ap, e->slot, &line);
		break;
	case CMD_SPLIT:
		apply_split(ap, ar, c, e->slot);
		break;
	default:
		proto_reply_ok(&line);
		add_reply(ap, e->slot, &line);
		break;
	}
	buf_free(&line);
}

static void
run_entries(struct apply *ap, struct task *t)
{
	struct aregion *ar = find_region(ap, t->region_id);
	struct cmd c;
	size_t i;

	cmd_init(&c);
	for (i = 0; i < t->n; i++) {
		struct apply_entry *e = &t->ents[i];

		if (ar == NULL || e->index <= ar->as.applied) {
			/* Replayed after a restart, or the region is gone. */
			if (ar == NULL)
				add_error(ap, e->slot, PROTO_REGION_NOT_FOUND,
				    "region removed");
			else
				add_error(ap, e->slot, PROTO_STALE_COMMAND,
				    "entry already applied");
			continue;
		}
		if (e->type == RAFT_ENTRY_CONF_CHANGE)
			apply_conf_change(ap, ar, e);
		else
			apply_normal(ap, ar, e, &c);
		ar->as.applied = e->index;
		ar->as.term = e->term;
		ar->dirty = 1;
		result_of(ar, APPLY_RES_APPLIED);
		if (ar->res->removed) {
			/* Nothing after our removal is ours to apply. */
			for (i++; i < t->n; i++)
				add_error(ap, t->ents[i].slot,
				    PROTO_REGION_NOT_FOUND, "region removed");
			break;
		}
	}
	cmd_free(&c);
}

static void
run_read(struct apply *ap, struct task *t)
{
	struct aregion *ar = find_region(ap, t->region_id);
	struct buf line = BUF_INIT;

	flush(ap);
	if (ar == NULL) {
		slot_error(t->slot, PROTO_REGION_NOT_FOUND, "%" PRIu64,
		    t->region_id);
		return;
	}
	/* A split applied after the read was checked moves keys away. */
	if (cmd_key_outside(&ar->region, t->cmd) != NULL ||
	    t->cmd->epoch.version != ar->region.epoch.version) {
		buf_addstr(&line, proto_word_name(PROTO_EPOCH_NOT_MATCH));
		region_format(&ar->region, &line);
		proto_end_line(&line);
	} else if (txncmd_is_read(t->cmd)) {
		txncmd_read(ap->st->kv, &ar->region, t->cmd, &line);
	} else {
		raw_read(ap->st->kv, &ar->region, t->cmd, tikvd_now_ms(),
		    &line);
	}
	slot_done(t->slot, &line);
	buf_free(&line);
}

static void
run_gen_snap(struct apply *ap, struct task *t)
{
	struct aregion *ar = find_region(ap, t->region_id);
	struct apply_result *res;

	if (ar == NULL)
		return;
	flush(ap);
	res = xcalloc(1, sizeof(*res));
	res->kind = APPLY_RES_SNAP_BUILT;
	res->region_id = ar->id;
	res->applied = ar->as.applied;
	res->term = ar->as.term;
	res->region = xmalloc(sizeof(*res->region));
	region_init(res->region);
	region_copy(res->region, &ar->region);
	if (snap_build(ap->st->kv, &ar->region, ar->as.applied, ar->as.term,
	    &res->snap) == -1) {
		log_warnx("region %" PRIu64 ": cannot build a snapshot: %s",
		    ar->id, log_reason());
		buf_reset(&res->snap);
	}
	raftstore_applied(ap->st->rs, res);
}

/*
 * Installs a received snapshot: its data replaces the range, then the
 * region and apply state, then a checkpoint, so the saved file can go.
 */
int
apply_install(struct store *st, uint64_t region_id, const struct buf *data,
    struct region *out, struct apply_state *as)
{
	struct buf stream = BUF_INIT;
	struct kv_batch *b;
	int rc = -1;

	if (snap_open(data->data, data->len, out, &as->applied, &as->term,
	    &stream) == -1)
		goto out;
	if (out->id != region_id) {
		log_setreason("snapshot of region %" PRIu64 " sent as %" PRIu64,
		    out->id, region_id);
		goto out;
	}
	if (kv_ingest(st->kv, stream.data, stream.len) == -1)
		goto out;
	b = kv_batch_new();
	localmeta_put_region(b, out, REGION_STATE_NORMAL);
	localmeta_put_apply(b, out->id, as);
	rc = kv_batch_commit(st->kv, b);
	kv_batch_free(b);
	if (rc == 0 && kv_checkpoint(st->kv) == -1)
		rc = -1;
	if (rc == 0)
		snap_remove(st->data_dir, region_id);
out:
	buf_free(&stream);
	return rc;
}

static void
run_install_snap(struct apply *ap, struct task *t)
{
	struct region r;
	struct apply_state as;
	struct aregion *ar;
	struct apply_result *res;

	flush(ap);
	region_init(&r);
	if (apply_install(ap->st, t->region_id, &t->data, &r, &as) == -1)
		fatalx("region %" PRIu64 ": cannot install snapshot: %s",
		    t->region_id, log_reason());
	ar = put_region(ap, &r, &as);
	res = result_of(ar, APPLY_RES_SNAP_INSTALLED);
	res->kind = APPLY_RES_SNAP_INSTALLED;
	result_set_region(ar);
	region_free(&r);
	log_info("region %" PRIu64 ": installed snapshot at %" PRIu64,
	    t->region_id, as.applied);
}

static void
checkpoint(struct apply *ap)
{
	struct apply_result *res;
	size_t i;

	flush(ap);
	if (kv_checkpoint(ap->st->kv) == -1)
		fatalx("apply: checkpoint: %s", log_reason());
	ap->changed = 0;
	res = xcalloc(1, sizeof(*res));
	res->kind = APPLY_RES_CHECKPOINT;
	res->ckpt = xreallocarray(NULL, ap->nregions + 1, 2 * sizeof(uint64_t));
	for (i = 0; i < ap->nregions; i++) {
		res->ckpt[2 * i] = ap->regions[i]->id;
		res->ckpt[2 * i + 1] = ap->regions[i]->as.applied;
	}
	res->n_ckpt = ap->nregions;
	raftstore_applied(ap->st->rs, res);
}

static void
task_free(struct task *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		buf_free(&t->ents[i].data);
	free(t->ents);
	if (t->cmd != NULL) {
		cmd_free(t->cmd);
		free(t->cmd);
	}
	if (t->region != NULL) {
		region_free(t->region);
		free(t->region);
	}
	buf_free(&t->data);
	free(t);
}

static void
run_task(struct apply *ap, struct task *t)
{
	switch (t->kind) {
	case TASK_ADD_REGION:
		put_region(ap, t->region, &t->as);
		break;
	case TASK_ENTRIES:
		run_entries(ap, t);
		break;
	case TASK_READ:
		run_read(ap, t);
		break;
	case TASK_GEN_SNAP:
		run_gen_snap(ap, t);
		break;
	case TASK_INSTALL_SNAP:
		run_install_snap(ap, t);
		break;
	case TASK_DROP_REGION:
		flush(ap);
		remove_region(ap, t->region_id);
		break;
	}
}

static void *
apply_main(void *arg)
{
	struct apply *ap = arg;
	struct task *t, *next;
	struct timespec ts;
	int stop;

	for (;;) {
		pthread_mutex_lock(&ap->mu);
		while (ap->head == NULL && !ap->stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (pthread_cond_timedwait(&ap->cv, &ap->mu,
			    &ts) == ETIMEDOUT)
				break;
		}
		t = ap->head;
		ap->head = ap->tail = NULL;
		stop = ap->stop;
		pthread_mutex_unlock(&ap->mu);

		for (; t != NULL; t = next) {
			next = t->next;
			run_task(ap, t);
			task_free(t);
		}
		flush(ap);
		if (ap->changed && clock_mono_ms() - ap->last_ckpt_ms >=
		    CHECKPOINT_MS) {
			checkpoint(ap);
			ap->last_ckpt_ms = clock_mono_ms();
		}
		if (stop)
			break;
	}
	return NULL;
}

struct apply *
apply_start(struct store *st)
{
	struct apply *ap = xcalloc(1, sizeof(*ap));

	ap->st = st;
	ap->batch = kv_batch_new();
	ap->last_ckpt_ms = clock_mono_ms();
	pthread_mutex_init(&ap->mu, NULL);
	pthread_cond_init(&ap->cv, NULL);
	if (pthread_create(&ap->thread, NULL, apply_main, ap) != 0)
		fatalx("cannot start the apply thread");
	return ap;
}

void
apply_stop(struct apply *ap)
{
	pthread_mutex_lock(&ap->mu);
	ap->stop = 1;
	pthread_cond_signal(&ap->cv);
	pthread_mutex_unlock(&ap->mu);
	pthread_join(ap->thread, NULL);
	while (ap->nregions > 0)
		remove_region(ap, ap->regions[ap->nregions - 1]->id);
	free(ap->regions);
	free(ap->replies);
	kv_batch_free(ap->batch);
	pthread_mutex_destroy(&ap->mu);
	pthread_cond_destroy(&ap->cv);
	free(ap);
}
