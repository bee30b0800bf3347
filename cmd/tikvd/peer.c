/*
 * One region's peer (peer.h): the WAL as the Raft group's storage, and the
 * commands waiting on the group.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "cmdfmt.h"
#include "log.h"
#include "peer.h"
#include "proto.h"
#include "request.h"
#include "schema.h"
#include "tikvd.h"
#include "wal.h"
#include "xmalloc.h"

static int
map_wal(int rc)
{
	if (rc == WAL_COMPACTED)
		return RAFT_ERR_COMPACTED;
	if (rc == WAL_UNAVAILABLE)
		return RAFT_ERR_UNAVAILABLE;
	if (rc < 0)
		fatalx("wal: %s", log_reason());
	return 0;
}

/* Conf state from a region's peers (single-step membership changes). */
static void
conf_state_of(struct peer *p, const struct region *r,
    struct raft_conf_state *cs)
{
	size_t i, nv = 0, nl = 0;

	for (i = 0; i < r->npeers; i++) {
		if (r->peers[i].role == REGION_LEARNER)
			p->learners[nl++] = r->peers[i].id;
		else
			p->voters[nv++] = r->peers[i].id;
	}
	memset(cs, 0, sizeof(*cs));
	cs->voters = p->voters;
	cs->n_voters = nv;
	cs->learners = p->learners;
	cs->n_learners = nl;
}

static int
st_initial_state(void *arg, struct raft_hard_state *hs,
    struct raft_conf_state *cs)
{
	struct peer *p = arg;
	struct wal_hardstate whs;

	wal_hardstate(p->st->wal, p->region_id, &whs);
	hs->term = whs.term;
	hs->vote = whs.vote;
	hs->commit = whs.commit;
	conf_state_of(p, &p->region, cs);
	return 0;
}

static uint64_t
st_first_index(void *arg)
{
	struct peer *p = arg;

	return wal_first_index(p->st->wal, p->region_id);
}

static uint64_t
st_last_index(void *arg)
{
	struct peer *p = arg;

	return wal_last_index(p->st->wal, p->region_id);
}

static int
st_term(void *arg, uint64_t index, uint64_t *term)
{
	struct peer *p = arg;

	return map_wal(wal_term(p->st->wal, p->region_id, index, term));
}

struct entries_ctx {
	void (*add)(void *, const struct raft_entry *);
	void *ctx;
};

static int
add_wal_entry(void *arg, const struct wal_entry *we)
{
	struct entries_ctx *ec = arg;
	struct raft_entry e;

	e.index = we->index;
	e.term = we->term;
	e.type = (int)we->type;
	e.data = we->data;
	e.len = we->len;
	ec->add(ec->ctx, &e);
	return 0;
}

static int
st_entries(void *arg, uint64_t lo, uint64_t hi, uint64_t max_bytes,
    void (*add)(void *, const struct raft_entry *), void *ctx)
{
	struct peer *p = arg;
	struct entries_ctx ec = { add, ctx };
	int rc;

	rc = wal_entries(p->st->wal, p->region_id, lo, hi, max_bytes,
	    add_wal_entry, &ec);
	return map_wal(rc < 0 ? rc : 0);
}

static int
st_snapshot(void *arg, uint64_t request_index, struct raft_snapshot *snap)
{
	struct peer *p = arg;

	if (p->snap_state == PEER_SNAP_GIVEN) {
		buf_free(&p->snap);
		p->snap_state = PEER_SNAP_NONE;
	}
	if (p->snap_state == PEER_SNAP_READY && p->snap_index >=
	    request_index) {
		/* Given once: the next request builds a fresh one. */
		memset(snap, 0, sizeof(*snap));
		snap->meta.index = p->snap_index;
		snap->meta.term = p->snap_term;
		conf_state_of(p, &p->snap_region, &snap->meta.conf_state);
		snap->data = p->snap.data;
		snap->len = p->snap.len;
		p->snap_state = PEER_SNAP_GIVEN;
		return 0;
	}
	if (p->snap_state != PEER_SNAP_BUILDING) {
		buf_free(&p->snap);
		p->snap_state = PEER_SNAP_BUILDING;
		apply_gen_snapshot(p->st->ap, p->region_id);
	}
	return RAFT_ERR_SNAP_TEMP_UNAVAILABLE;
}

struct peer *
peer_new(struct store *st, const struct region *r, uint64_t peer_id,
    uint64_t applied, int new_group)
{
	const struct tikvd_config *cfg = st->cfg;
	struct peer *p = xcalloc(1, sizeof(*p));
	struct raft_storage rst;
	struct raft_config rc;

	p->st = st;
	p->region_id = r->id;
	p->peer_id = peer_id;
	region_init(&p->region);
	region_init(&p->snap_region);
	region_copy(&p->region, r);
	p->initialized = r->npeers > 0;
	p->handed = p->applied = p->durable_applied = applied;

	memset(&rst, 0, sizeof(rst));
	rst.arg = p;
	rst.initial_state = st_initial_state;
	rst.first_index = st_first_index;
	rst.last_index = st_last_index;
	rst.term = st_term;
	rst.entries = st_entries;
	rst.snapshot = st_snapshot;

	memset(&rc, 0, sizeof(rc));
	rc.id = peer_id;
	rc.seed = peer_id ^ (st->store_id << 32) ^ tikvd_now_ms();
	rc.election_tick = (int)cfg->raft_election_timeout_ticks;
	rc.heartbeat_tick = (int)cfg->raft_heartbeat_ticks;
	rc.applied = applied;
	rc.max_size_per_msg = 1u << 20;
	rc.max_uncommitted_size = 256u << 20;
	rc.max_entry_size = cfg->raft_entry_max_size;
	rc.max_inflight_msgs = 256;
	rc.check_quorum = 1;
	rc.pre_vote = 1;
	rc.read_only_option = RAFT_READ_LEASE_BASED;
	rc.new_group = new_group;
	p->raft = raft_new(&rc, &rst);
	if (p->raft == NULL) {
		region_free(&p->region);
		region_free(&p->snap_region);
		free(p);
		return NULL;
	}
	return p;
}

void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	peer_fail_all(p, PROTO_REGION_NOT_FOUND, "region removed");
	raft_free(p->raft);
	region_free(&p->region);
	region_free(&p->snap_region);
	buf_free(&p->snap);
	free(p->props);
	free(p->reads);
	free(p);
}

void
peer_set_region(struct peer *p, const struct region *r)
{
	region_copy(&p->region, r);
	p->initialized = 1;
}

uint64_t
peer_store_of(const struct peer *p, uint64_t peer_id)
{
	const struct region_peer *rp = region_peer_by_id(&p->region, peer_id);
	size_t i;

	if (rp != NULL)
		return rp->store_id;
	for (i = 0; i < p->nknown; i++)
		if (p->known_peer[i] == peer_id)
			return p->known_store[i];
	return 0;
}

void
peer_learn_store(struct peer *p, uint64_t peer_id, uint64_t store_id)
{
	size_t i;

	if (peer_store_of(p, peer_id) != 0)
		return;
	if (p->nknown == REGION_MAX_PEERS) {
		memmove(p->known_peer, p->known_peer + 1,
		    (REGION_MAX_PEERS - 1) * sizeof(uint64_t));
		memmove(p->known_store, p->known_store + 1,
		    (REGION_MAX_PEERS - 1) * sizeof(uint64_t));
		p->nknown--;
	}
	i = p->nknown++;
	p->known_peer[i] = peer_id;
	p->known_store[i] = store_id;
}

void
peer_add_proposal(struct peer *p, uint64_t index, uint64_t term,
    struct slot *slot)
{
	if (p->props_head > 0 && p->props_head == p->nprops)
		p->props_head = p->nprops = 0;
	if (p->nprops == p->capprops) {
		if (p->props_head > 0) {
			memmove(p->props, p->props + p->props_head,
			    (p->nprops - p->props_head) * sizeof(*p->props));
			p->nprops -= p->props_head;
			p->props_head = 0;
		}
		if (p->nprops == p->capprops) {
			p->capprops = p->capprops ? p->capprops * 2 : 16;
			p->props = xreallocarray(p->props, p->capprops,
			    sizeof(*p->props));
		}
	}
	p->props[p->nprops].index = index;
	p->props[p->nprops].term = term;
	p->props[p->nprops].slot = slot;
	p->nprops++;
}

struct slot *
peer_take_proposal(struct peer *p, uint64_t index, uint64_t term)
{
	struct proposal *pr;

	while (p->props_head < p->nprops) {
		pr = &p->props[p->props_head];
		if (pr->index > index)
			return NULL;
		p->props_head++;
		if (pr->index == index && pr->term == term)
			return pr->slot;
		/* Overwritten by another leader's entry. */
		if (pr->slot != NULL)
			slot_error(pr->slot, PROTO_STALE_COMMAND,
			    "leader changed before the command committed");
	}
	return NULL;
}

void
peer_fail_reads(struct peer *p, int word, const char *text)
{
	size_t i;

	for (i = 0; i < p->nreads; i++) {
		slot_error(p->reads[i].slot, word, "%s", text);
		cmd_free(p->reads[i].cmd);
		free(p->reads[i].cmd);
	}
	p->nreads = 0;
}

void
peer_fail_all(struct peer *p, int word, const char *text)
{
	size_t i;

	for (i = p->props_head; i < p->nprops; i++)
		if (p->props[i].slot != NULL)
			slot_error(p->props[i].slot, word, "%s", text);
	p->props_head = p->nprops = 0;
	peer_fail_reads(p, word, text);
}
