/*
 * One simulated peer: a struct raft over a struct sim_store, the ready
 * loop (persist, send, apply, advance), and the key-value state machine
 * its clients write to and read from.
 *
 * The state machine is volatile: a crash loses it, and a restart rebuilds
 * it from the last snapshot and the committed log, as a store that does
 * not persist its applied index would.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lincheck.h"
#include "log.h"
#include "raft.h"
#include "raftwire.h"
#include "sim.h"
#include "xmalloc.h"

#define SIM_STATESIZE	(8 * (2 + SIM_KEYS + SIM_CLIENTS))

static void
sim_node_put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
sim_node_get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void
sim_node_encode_op(const struct sim_hist *h, size_t hist, uint8_t *out)
{
	out[0] = 'S';
	out[1] = (uint8_t)h->type;
	out[2] = (uint8_t)h->client;
	out[3] = (uint8_t)h->key;
	out[4] = (uint8_t)hist;
	out[5] = (uint8_t)(hist >> 8);
	out[6] = (uint8_t)(hist >> 16);
	out[7] = (uint8_t)(hist >> 24);
	sim_node_put64(out + 8, h->opid);
	sim_node_put64(out + 16, h->value);
	sim_node_put64(out + 24, h->expect);
}

void
sim_node_encode_state(const struct sim_node *n, struct buf *b)
{
	uint8_t p[SIM_STATESIZE];
	int i, o = 0;

	sim_node_put64(p + o, n->applied);
	o += 8;
	sim_node_put64(p + o, n->chain);
	o += 8;
	for (i = 0; i < SIM_KEYS; i++, o += 8)
		sim_node_put64(p + o, n->kv[i]);
	for (i = 0; i < SIM_CLIENTS; i++, o += 8)
		sim_node_put64(p + o, n->last_op[i]);
	buf_add(b, p, sizeof(p));
}

static int
sim_node_decode_state(struct sim_node *n, const uint8_t *p, size_t len)
{
	int i, o = 0;

	if (len != SIM_STATESIZE)
		return -1;
	n->applied = sim_node_get64(p + o);
	o += 8;
	n->chain = sim_node_get64(p + o);
	o += 8;
	for (i = 0; i < SIM_KEYS; i++, o += 8)
		n->kv[i] = sim_node_get64(p + o);
	for (i = 0; i < SIM_CLIENTS; i++, o += 8)
		n->last_op[i] = sim_node_get64(p + o);
	return 0;
}

uint64_t
sim_node_kvhash(const struct sim_node *n)
{
	return sim_hash(n->kv, sizeof(n->kv), 0);
}

/* The store asks for a snapshot fresher than the last: take one now. */
static int
sim_node_make_snap(void *arg, uint64_t request_index)
{
	struct sim_node *n = arg;
	struct buf b = BUF_INIT;
	uint64_t term;

	if (n->applied < request_index ||
	    sim_store_term(&n->st, n->applied, &term) == -1)
		return -1;
	if (n->applied <= n->st.snap_index)
		return 0;
	sim_node_encode_state(n, &b);
	sim_store_set_snapshot(&n->st, n->applied, term, &n->conf, b.data,
	    b.len);
	buf_free(&b);
	return 0;
}

void
sim_node_create(struct sim *s, struct sim_node *n, uint64_t id,
    const struct sim_conf *bootstrap)
{
	struct buf b = BUF_INIT;

	memset(n, 0, sizeof(*n));
	n->id = id;
	n->born = s->step;
	if (bootstrap != NULL) {
		/* Every founding peer starts from the same state at 1. */
		n->applied = 1;
		n->chain = 1;
		sim_node_encode_state(n, &b);
		sim_store_bootstrap(&n->st, bootstrap, b.data, b.len);
		buf_free(&b);
	} else
		sim_store_init(&n->st);
	n->st.no_sync_on_snapshot = s->unsynced_snap;
	n->st.no_vote_sync = s->mutation == SIM_MUT_NO_FSYNC;
	sim_node_start(s, n);
}

void
sim_node_start(struct sim *s, struct sim_node *n)
{
	static const uint64_t sizes[] = { 0, 0, 64, 1024 };
	static const int inflight[] = { 0, 0, 1, 4, 32 };
	struct raft_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.id = n->id;
	cfg.seed = sim_rand(&s->rng);
	cfg.election_tick = s->election_tick;
	cfg.heartbeat_tick = s->heartbeat_tick;
	cfg.check_quorum = s->check_quorum;
	cfg.pre_vote = s->pre_vote;
	n->lease = s->check_quorum && sim_chance(&s->rng, s->lease_pm);
	cfg.read_only_option = n->lease ? RAFT_READ_LEASE_BASED :
	    RAFT_READ_SAFE;
	if (!s->bench) {
		cfg.max_size_per_msg = sizes[sim_below(&s->rng, 4)];
		cfg.max_inflight_msgs = inflight[sim_below(&s->rng, 5)];
		cfg.max_committed_size_per_ready = sizes[sim_below(&s->rng,
		    4)];
		cfg.max_uncommitted_size = sim_chance(&s->rng, 300) ?
		    2048 : 0;
	}

	memset(n->kv, 0, sizeof(n->kv));
	memset(n->last_op, 0, sizeof(n->last_op));
	n->applied = 0;
	n->chain = 0;
	if (n->st.snap_index > 0 && sim_node_decode_state(n,
	    n->st.snap_data.data, n->st.snap_data.len) == -1)
		sim_fail(s, "node %" PRIu64 " has a bad snapshot", n->id);
	/* The state machine knows where it is: say so. */
	cfg.applied = n->applied;
	sim_store_conf_copy(&n->conf, &n->st.conf);
	n->st.make_snap = sim_node_make_snap;
	n->st.make_snap_arg = n;
	n->nreads = 0;
	n->lc_term = 0;
	n->lc_upto = 0;
	n->commit_seen = n->st.hs.commit;
	sim_store_iface(&n->st, &n->rs);
	n->r = raft_new(&cfg, &n->rs);
	if (n->r == NULL) {
		sim_fail(s, "node %" PRIu64 " cannot start: %s", n->id,
		    log_reason());
		return;
	}
	n->up = 1;
	sim_trace(s, "node %" PRIu64 " starts (term %" PRIu64 ", commit %"
	    PRIu64 ", log [%" PRIu64 ", %" PRIu64 "], snapshot %" PRIu64
	    "%s)", n->id, n->st.hs.term, n->st.hs.commit, n->st.first,
	    sim_store_last(&n->st), n->st.snap_index,
	    n->lease ? ", lease reads" : "");
}

void
sim_node_crash(struct sim *s, struct sim_node *n)
{
	if (!n->up)
		return;
	raft_free(n->r);
	n->r = NULL;
	n->up = 0;
	n->torn = 0;
	n->snap_requested = 0;
	n->life++;
	if (n->down_until <= s->step)
		n->down_until = s->step + 5;
	n->nreads = 0;
	sim_store_crash(&n->st);
	if (s->mutation == SIM_MUT_FORGET_VOTE)
		n->st.hs.vote = n->st.hs_synced.vote = RAFT_NONE;
	sim_store_conf_free(&n->conf);
	sim_trace(s, "node %" PRIu64 " crashes", n->id);
}

void
sim_node_destroy(struct sim *s, struct sim_node *n)
{
	sim_trace(s, "node %" PRIu64 " is destroyed", n->id);
	sim_node_crash(s, n);
	sim_store_free(&n->st);
	sim_store_conf_free(&n->conf);
	memset(n, 0, sizeof(*n));
}

static uint64_t
sim_node_entry_hash(const struct raft_entry *e)
{
	return sim_hash(e->data, e->len, (uint64_t)e->type << 56 ^ e->term);
}

/* Apply one normal entry to the key-value state machine. */
static void
sim_node_apply_op(struct sim *s, struct sim_node *n,
    const struct raft_entry *e)
{
	const uint8_t *p = e->data;
	struct sim_hist *h;
	struct sim_client *c;
	uint64_t opid, value, expect, prev = 0;
	size_t hi;
	int type, client, key, ok = 1;

	if (e->len == 0 || s->bench)
		return;		/* a new leader's empty entry */
	if (e->len < SIM_OPSIZE || p[0] != 'S') {
		sim_fail(s, "node %" PRIu64 " applies an entry at %" PRIu64
		    " that no client wrote (%zu bytes)", n->id, e->index,
		    e->len);
		return;
	}
	type = p[1];
	client = p[2];
	key = p[3];
	hi = (size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 |
	    (size_t)p[7] << 24;
	opid = sim_node_get64(p + 8);
	value = sim_node_get64(p + 16);
	expect = sim_node_get64(p + 24);
	if (client >= SIM_CLIENTS || key >= SIM_KEYS || hi >= s->nhist ||
	    s->hist[hi].opid != opid || s->hist[hi].client != client) {
		sim_fail(s, "node %" PRIu64 " applies a garbled entry at %"
		    PRIu64, n->id, e->index);
		return;
	}
	/* A proposal forwarded twice is applied once: a client session. */
	if (opid <= n->last_op[client])
		return;
	n->last_op[client] = opid;
	prev = n->kv[key];
	if (s->mutation == SIM_MUT_SKIP_APPLY && n->id == 2 &&
	    e->index % 37 == 0)
		return;
	switch (type) {
	case SIM_OP_PUT:
		n->kv[key] = value;
		break;
	case SIM_OP_DEL:
		n->kv[key] = 0;
		break;
	case SIM_OP_CAS:
		ok = prev == expect;
		if (ok)
			n->kv[key] = value;
		break;
	default:
		sim_fail(s, "node %" PRIu64 " applies op type %d", n->id,
		    type);
		return;
	}
	h = &s->hist[hi];
	if (!h->applied) {
		h->applied = 1;
		h->index = e->index;
		h->apply_time = sim_time(s);
		h->apply_prev = prev;
		h->apply_ok = ok;
	} else if (h->apply_prev != prev || h->apply_ok != ok)
		sim_fail(s, "node %" PRIu64 " applies op %zu with another "
		    "result", n->id, hi);
	c = &s->clients[client];
	if (c->busy && c->opid == opid && c->node == n->id) {
		h->ret = sim_time(s);
		h->ok = ok;
		h->result = prev;
		c->busy = 0;
		if (type != SIM_OP_CAS || ok)
			c->seen[key] = type == SIM_OP_DEL ? 0 : value;
		else
			c->seen[key] = prev;
		s->n_acked++;
	}
}

static void
sim_node_serve_reads(struct sim *s, struct sim_node *n)
{
	struct sim_read *rd;
	struct sim_client *c;
	struct sim_hist *h;
	size_t i = 0;

	while (i < n->nreads) {
		rd = &n->reads[i];
		if (!rd->ready || rd->index > n->applied) {
			i++;
			continue;
		}
		c = &s->clients[rd->client];
		if (c->busy && c->opid == rd->opid && c->node == n->id) {
			h = &s->hist[c->hist];
			h->ret = sim_time(s);
			h->result = n->kv[h->key];
			c->seen[h->key] = h->result;
			c->busy = 0;
			s->n_reads++;
		}
		n->reads[i] = n->reads[--n->nreads];
	}
}

static void
sim_node_read_state(struct sim_node *n, const struct raft_read_state *rs)
{
	uint64_t client, opid;
	size_t i;

	if (rs->len != 16)
		return;
	client = sim_node_get64(rs->ctx);
	opid = sim_node_get64(rs->ctx + 8);
	for (i = 0; i < n->nreads; i++)
		if (n->reads[i].client == client && n->reads[i].opid == opid &&
		    !n->reads[i].ready) {
			n->reads[i].index = rs->index;
			n->reads[i].ready = 1;
		}
}

/* Put a message on the network, through this run's faults. */
static int
sim_node_send(struct sim *s, struct sim_node *n, const struct raft_msg *m)
{
	struct sim_node *to;
	struct buf w = BUF_INIT, dup = BUF_INIT;
	uint64_t at;

	if (m->from != n->id || m->to == n->id || m->to == RAFT_NONE) {
		sim_fail(s, "node %" PRIu64 " sends %s from %" PRIu64 " to %"
		    PRIu64, n->id, raft_msg_type_name(m->type), m->from,
		    m->to);
		return 0;
	}
	to = sim_node_byid(s, m->to);
	if (to == NULL)
		return -1;
	if (s->cut[sim_slot(s, n)][sim_slot(s, to)])
		return -1;
	if (sim_chance(&s->rng, s->drop_pm))
		return m->type == RAFT_MSG_SNAPSHOT ? -1 : 0;
	raftwire_encode_msg(&w, m);
	at = s->step + 1 + sim_below(&s->rng, s->delay_max + 1);
	if (sim_chance(&s->rng, s->long_pm))
		at += sim_below(&s->rng, s->long_max + 1);
	if (sim_chance(&s->rng, s->dup_pm)) {
		buf_add(&dup, w.data, w.len);
		sim_net_push(&s->net, at + sim_below(&s->rng, 4), m->from,
		    m->to, m->type, &dup);
	}
	sim_net_push(&s->net, at, m->from, m->to, m->type, &w);
	return 0;
}

void
sim_node_deliver(struct sim *s, struct sim_node *n, struct sim_msg *m)
{
	struct raft_msg msg;
	struct sim_node *from;
	int rc;

	if (raftwire_decode_msg(m->wire.data, m->wire.len, &msg) == -1) {
		sim_fail(s, "decoding a %s message the encoder made: %s",
		    raft_msg_type_name(m->type), log_reason());
		return;
	}
	if (msg.to != n->id || msg.from != m->from || msg.type != m->type)
		sim_fail(s, "decoded message differs: %s %" PRIu64 "->%"
		    PRIu64, raft_msg_type_name(msg.type), msg.from, msg.to);
	if (s->verbose > 1)
		sim_trace(s, "%s %" PRIu64 "->%" PRIu64 " term %" PRIu64
		    " index %" PRIu64 " logterm %" PRIu64 " commit %" PRIu64
		    " entries %zu reject %d hint %" PRIu64 " snapshot %" PRIu64,
		    raft_msg_type_name(msg.type), msg.from, msg.to, msg.term,
		    msg.index, msg.log_term, msg.commit, msg.n_entries,
		    msg.reject, msg.reject_hint,
		    msg.snapshot != NULL ? msg.snapshot->meta.index : 0);
	rc = raft_step(n->r, &msg);
	if (rc != 0 && rc != RAFT_ERR_DROPPED)
		sim_trace(s, "node %" PRIu64 " step %s from %" PRIu64
		    ": %d %s", n->id, raft_msg_type_name(msg.type), msg.from,
		    rc, log_reason());
	if (msg.type == RAFT_MSG_SNAPSHOT) {
		from = sim_node_byid(s, msg.from);
		if (from != NULL && from->up)
			raft_report_snapshot(from->r, n->id, 0);
	}
	raftwire_msg_free(&msg);
}

static void
sim_node_install(struct sim *s, struct sim_node *n,
    const struct raft_snapshot *snap)
{
	struct sim_node tmp;

	/* At the applied index only if asked for: it replaces the state. */
	if (snap->meta.index < n->applied || (snap->meta.index == n->applied &&
	    n->snap_requested == 0)) {
		sim_fail(s, "node %" PRIu64 " is handed a snapshot at %" PRIu64
		    " behind its applied %" PRIu64, n->id, snap->meta.index,
		    n->applied);
		return;
	}
	memset(&tmp, 0, sizeof(tmp));
	if (sim_node_decode_state(&tmp, snap->data, snap->len) == -1 ||
	    tmp.applied != snap->meta.index) {
		sim_fail(s, "node %" PRIu64 " gets a garbled snapshot at %"
		    PRIu64, n->id, snap->meta.index);
		return;
	}
	sim_check_snapshot(s, n, snap->meta.index, tmp.chain);
	sim_store_apply_snapshot(&n->st, snap);
	n->applied = tmp.applied;
	n->chain = tmp.chain;
	memcpy(n->kv, tmp.kv, sizeof(n->kv));
	memcpy(n->last_op, tmp.last_op, sizeof(n->last_op));
	sim_store_conf_set(&n->conf, &snap->meta.conf_state);
	s->n_snapshots++;
	if (snap->meta.index >= n->snap_requested)
		n->snap_requested = 0;
	sim_trace(s, "node %" PRIu64 " installs a snapshot at %" PRIu64,
	    n->id, snap->meta.index);
}

/* Note when each client write first reached a disk. */
static void
sim_node_persisted(struct sim *s, const struct raft_entry *e, size_t n)
{
	const uint8_t *p;
	size_t i, hi;

	for (i = 0; i < n && !s->bench; i++) {
		p = e[i].data;
		if (e[i].type != RAFT_ENTRY_NORMAL || e[i].len < SIM_OPSIZE ||
		    p[0] != 'S')
			continue;
		hi = (size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 |
		    (size_t)p[7] << 24;
		if (hi < s->nhist && !s->hist[hi].persisted) {
			s->hist[hi].persisted = 1;
			s->hist[hi].persist_time = sim_time(s);
		}
	}
}

/*
 * Apply a committed conf change.  The library means this to happen while
 * the ready is handled, before advance (it keeps the ready's outbox apart
 * from messages made meanwhile), so that advance sees the new membership
 * when it decides to leave a joint config.
 */
static void
sim_node_conf_change(struct sim *s, struct sim_node *n,
    const struct raft_entry *e)
{
	struct raft_conf_state cs;
	struct buf b = BUF_INIT;

	if (raft_apply_conf_change_entry(n->r, e, &cs) != 0) {
		sim_fail(s, "node %" PRIu64 " cannot apply the conf change at %"
		    PRIu64 ": %s", n->id, e->index, log_reason());
		return;
	}
	sim_store_conf_set(&n->conf, &cs);
	if (s->verbose) {
		sim_store_conf_fmt(&b, &n->conf);
		sim_trace(s, "node %" PRIu64 " applies conf change %" PRIu64
		    ": %s", n->id, e->index, b.data);
		buf_free(&b);
	}
}

void
sim_node_ready(struct sim *s, struct sim_node *n, int torn)
{
	struct raft_ready rd;
	uint64_t unreach[16], snapfail[16];
	size_t i, nun, nsf;
	const struct raft_entry *e;

	while (n->up && !s->failed && raft_has_ready(n->r)) {
		raft_ready(n->r, &rd);
		if (rd.soft_state_changed)
			sim_trace(s, "node %" PRIu64 " is %s, leader %" PRIu64,
			    n->id, raft_role_name(rd.role), rd.leader);
		if (rd.soft_state_changed && rd.role == RAFT_LEADER &&
		    !s->bench)
			sim_check_leader_term(s, n, rd.hs.term);
		if (rd.snapshot != NULL)
			sim_node_install(s, n, rd.snapshot);
		if (rd.n_entries > 0) {
			if (sim_store_append(&n->st, rd.entries,
			    rd.n_entries) == -1) {
				sim_fail(s, "node %" PRIu64 " ready: %s",
				    n->id, log_reason());
				return;
			}
			sim_check_append(s, n, rd.entries, rd.n_entries);
			sim_node_persisted(s, rd.entries, rd.n_entries);
		}
		if (rd.hard_state_changed) {
			sim_check_hard_state(s, n, &rd.hs, rd.must_sync,
			    rd.n_entries > 0);
			sim_store_set_hard_state(&n->st, &rd.hs,
			    rd.must_sync);
		} else if (rd.n_entries > 0 && !rd.must_sync)
			sim_fail(s, "node %" PRIu64 " ready has entries "
			    "without must_sync", n->id);
		/* One fsync covers every earlier write, an unsynced commit
		 * too (the WAL is one file). */
		if (rd.must_sync)
			sim_store_set_hard_state(&n->st, &n->st.hs, 1);
		if (s->failed)
			return;
		if (torn && sim_chance(&s->rng, 500)) {
			/* Persisted, but nothing sent or applied. */
			sim_node_crash(s, n);
			return;
		}
		nun = nsf = 0;
		for (i = 0; i < rd.n_msgs; i++) {
			if (sim_node_send(s, n, &rd.msgs[i]) == 0)
				continue;
			if (rd.msgs[i].type == RAFT_MSG_SNAPSHOT && nsf < 16)
				snapfail[nsf++] = rd.msgs[i].to;
			else if (nun < 16 && sim_chance(&s->rng, 200))
				unreach[nun++] = rd.msgs[i].to;
		}
		for (i = 0; i < rd.n_committed && !s->failed; i++) {
			e = &rd.committed[i];
			/* Membership first: a snapshot the library asks
			 * for meanwhile sees applied and conf agree. */
			if (e->type == RAFT_ENTRY_CONF_CHANGE)
				sim_node_conf_change(s, n, e);
			sim_check_apply(s, n, e->index, e->term,
			    s->bench ? 0 : sim_node_entry_hash(e));
			if (e->type == RAFT_ENTRY_NORMAL)
				sim_node_apply_op(s, n, e);
			else if (e->type != RAFT_ENTRY_CONF_CHANGE)
				sim_fail(s, "node %" PRIu64 " applies entry "
				    "type %d", n->id, e->type);
		}
		for (i = 0; i < rd.n_read_states; i++)
			sim_node_read_state(n, &rd.read_states[i]);
		raft_advance(n->r, &rd);
		for (i = 0; i < nun; i++)
			raft_report_unreachable(n->r, unreach[i]);
		for (i = 0; i < nsf; i++)
			raft_report_snapshot(n->r, snapfail[i], 1);
		sim_node_serve_reads(s, n);
	}
}

void
sim_node_compact(struct sim *s, struct sim_node *n)
{
	uint64_t keep, to;

	if (!n->up || n->applied <= n->st.snap_index)
		return;
	if (sim_node_make_snap(n, n->applied) == -1)
		return;
	keep = sim_below(&s->rng, 8);
	to = n->applied > keep ? n->applied - keep : 0;
	sim_store_compact(&n->st, to);
	sim_trace(s, "node %" PRIu64 " snapshots at %" PRIu64 ", log from %"
	    PRIu64, n->id, n->applied, n->st.first);
}
