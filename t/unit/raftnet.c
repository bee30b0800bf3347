/* The raft unit tests' network of nodes; see raftnet.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "raftnet.h"
#include "raftwire.h"
#include "xmalloc.h"

/* Memory storage. */

static void
cs_copy(uint64_t **backing, struct raft_conf_state *dst,
    const struct raft_conf_state *src)
{
	size_t n;
	uint64_t *p;

	n = src->n_voters + src->n_voters_outgoing + src->n_learners +
	    src->n_learners_next;
	p = xreallocarray(NULL, n + 1, sizeof(uint64_t));
	memset(dst, 0, sizeof(*dst));
#define CP(f, nf) do {							\
	if (src->nf)							\
		memcpy(p, src->f, src->nf * sizeof(uint64_t));		\
	dst->f = p;							\
	dst->nf = src->nf;						\
	p += src->nf;							\
} while (0)
	free(*backing);
	*backing = p;
	CP(voters, n_voters);
	CP(voters_outgoing, n_voters_outgoing);
	CP(learners, n_learners);
	CP(learners_next, n_learners_next);
#undef CP
	dst->auto_leave = src->auto_leave;
}

void
raftnet_store_set_cs(struct raftnet_store *st, const struct raft_conf_state *cs)
{
	cs_copy(&st->cs_ids, &st->cs, cs);
}

static int
st_initial_state(void *arg, struct raft_hard_state *hs,
    struct raft_conf_state *cs)
{
	struct raftnet_store *st = arg;

	*hs = st->hs;
	*cs = st->cs;
	return 0;
}

static uint64_t
st_first_index(void *arg)
{
	struct raftnet_store *st = arg;

	return st->snap_index + 1;
}

static uint64_t
st_last_index(void *arg)
{
	struct raftnet_store *st = arg;

	return st->snap_index + st->ents.n;
}

static int
st_term(void *arg, uint64_t i, uint64_t *term)
{
	struct raftnet_store *st = arg;

	*term = 0;
	if (i < st->snap_index)
		return RAFT_ERR_COMPACTED;
	if (i == st->snap_index) {
		*term = st->snap_term;
		return 0;
	}
	if (i > st->snap_index + st->ents.n)
		return RAFT_ERR_UNAVAILABLE;
	*term = st->ents.v[i - st->snap_index - 1].term;
	return 0;
}

static int
st_entries(void *arg, uint64_t lo, uint64_t hi, uint64_t max,
    void (*add)(void *, const struct raft_entry *), void *ctx)
{
	struct raftnet_store *st = arg;
	uint64_t i, size = 0;

	if (lo <= st->snap_index)
		return RAFT_ERR_COMPACTED;
	if (hi > st->snap_index + st->ents.n + 1)
		return RAFT_ERR_UNAVAILABLE;
	for (i = lo; i < hi; i++) {
		const struct raft_entry *e;

		e = &st->ents.v[i - st->snap_index - 1];

		if (i > lo && size + e->len > max)
			break;
		size += e->len;
		add(ctx, e);
	}
	return 0;
}

static int
st_snapshot(void *arg, uint64_t request_index, struct raft_snapshot *s)
{
	struct raftnet_store *st = arg;

	if (st->snap_unavailable)
		return RAFT_ERR_SNAP_TEMP_UNAVAILABLE;
	st->snap_calls++;
	memset(s, 0, sizeof(*s));
	s->meta.index = st->snap_index;
	s->meta.term = st->snap_term;
	s->meta.conf_state = st->snap_cs;
	s->data = st->snap_data.data;
	s->len = st->snap_data.len;
	return 0;
}

void
raftnet_store_iface(struct raftnet_store *st, struct raft_storage *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->arg = st;
	rs->initial_state = st_initial_state;
	rs->first_index = st_first_index;
	rs->last_index = st_last_index;
	rs->term = st_term;
	rs->entries = st_entries;
	rs->snapshot = st_snapshot;
}

void
raftnet_store_append(struct raftnet_store *st, const struct raft_entry *e,
    size_t n)
{
	size_t i;
	uint64_t first;

	if (n == 0)
		return;
	first = e[0].index;
	if (first <= st->snap_index ||
	    first > st->snap_index + st->ents.n + 1) {
		fprintf(stderr, "raftnet: append at %llu outside the log\n",
		    (unsigned long long)first);
		abort();
	}
	raftents_truncate(&st->ents, (size_t)(first - st->snap_index - 1));
	for (i = 0; i < n; i++)
		raftents_add(&st->ents, &e[i]);
}

static void
store_free(struct raftnet_store *st)
{
	free(st->cs_ids);
	free(st->snap_ids);
	buf_free(&st->snap_data);
	raftents_free(&st->ents);
	memset(st, 0, sizeof(*st));
}

/* Nodes. */

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	size_t i;

	if (h == 0)
		h = 14695981039346656037ULL;
	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
node_start(struct raftnet_node *nd)
{
	struct raft_storage rs;

	raftnet_store_iface(&nd->st, &rs);
	nd->cfg.applied = nd->applied;
	nd->r = raft_new(&nd->cfg, &rs);
	if (nd->r == NULL) {
		fprintf(stderr, "raftnet: raft_new %llu: %s\n",
		    (unsigned long long)nd->id, log_reason());
		abort();
	}
	nd->down = 0;
}

struct raftnet *
raftnet_new_cs(int n, const struct raft_config *cfg,
    const struct raft_conf_state *cs)
{
	struct raftnet *net;
	struct raftnet_node *nd;
	int i;

	net = xcalloc(1, sizeof(*net));
	net->n = n;
	for (i = 0; i < n; i++) {
		nd = &net->nodes[i];
		nd->id = (uint64_t)i + 1;
		nd->cfg = *cfg;
		nd->cfg.id = nd->id;
		if (nd->cfg.seed == 0)
			nd->cfg.seed = 42;
		nd->auto_apply_conf = 1;
		raftnet_store_set_cs(&nd->st, cs);
		node_start(nd);
	}
	return net;
}

struct raft_config
raftnet_config(void)
{
	struct raft_config c;

	memset(&c, 0, sizeof(c));
	c.election_tick = 10;
	c.heartbeat_tick = 1;
	return c;
}

struct raftnet *
raftnet_new(int n, int nvoters, const struct raft_config *cfg)
{
	struct raft_conf_state cs;
	uint64_t ids[RAFTNET_MAX];
	int i;

	for (i = 0; i < n; i++)
		ids[i] = (uint64_t)i + 1;
	memset(&cs, 0, sizeof(cs));
	cs.voters = ids;
	cs.n_voters = (size_t)nvoters;
	cs.learners = ids + nvoters;
	cs.n_learners = (size_t)(n - nvoters);
	return raftnet_new_cs(n, cfg, &cs);
}

void
raftnet_clear(struct raftnet *net)
{
	size_t i;

	for (i = 0; i < net->npending; i++)
		buf_free(&net->pending[i].wire);
	net->npending = 0;
}

void
raftnet_free(struct raftnet *net)
{
	int i;

	raftnet_clear(net);
	free(net->pending);
	for (i = 0; i < net->n; i++) {
		raft_free(net->nodes[i].r);
		store_free(&net->nodes[i].st);
		raftents_free(&net->nodes[i].log);
	}
	free(net);
}

struct raftnet_node *
raftnet_node(struct raftnet *net, uint64_t id)
{
	if (id < 1 || id > (uint64_t)net->n)
		abort();
	return &net->nodes[id - 1];
}

struct raft *
raftnet_raft(struct raftnet *net, uint64_t id)
{
	return raftnet_node(net, id)->r;
}

static void
queue(struct raftnet *net, const struct raft_msg *m)
{
	struct raftnet_msg *q;

	size_t i, bytes = 0;

	if (m->type >= 1 && m->type <= RAFT_MSG_TYPE_MAX) {
		net->sent[m->type]++;
		if (m->reject)
			net->rejects[m->type]++;
	}
	if (m->type == RAFT_MSG_APPEND) {
		for (i = 0; i < m->n_entries; i++)
			bytes += m->entries[i].len;
		if (m->n_entries > net->max_append_ents)
			net->max_append_ents = m->n_entries;
		if (bytes > net->max_append_bytes)
			net->max_append_bytes = bytes;
	}
	if (m->to < 1 || m->to > (uint64_t)net->n ||
	    net->cut[m->from][m->to] || net->drop_type[m->type]) {
		net->dropped++;
		return;
	}
	if (net->npending == net->cap) {
		net->cap = net->cap ? net->cap * 2 : 64;
		net->pending = xreallocarray(net->pending, net->cap,
		    sizeof(*net->pending));
	}
	q = &net->pending[net->npending++];
	q->from = m->from;
	q->to = m->to;
	q->type = m->type;
	buf_init(&q->wire);
	raftwire_encode_msg(&q->wire, m);
}

static void
apply_snapshot(struct raftnet_node *nd, const struct raft_snapshot *s)
{
	struct raftnet_store *st = &nd->st;
	const uint8_t *p = s->data;
	size_t i;

	st->snap_index = s->meta.index;
	st->snap_term = s->meta.term;
	raftents_free(&st->ents);
	cs_copy(&st->snap_ids, &st->snap_cs, &s->meta.conf_state);
	cs_copy(&st->cs_ids, &st->cs, &s->meta.conf_state);
	buf_reset(&st->snap_data);
	buf_add(&st->snap_data, s->data, s->len);
	if (st->hs.commit < s->meta.index)
		st->hs.commit = s->meta.index;
	nd->hash = nd->napplied = 0;
	if (s->len == 16) {
		for (i = 0; i < 8; i++) {
			nd->hash = nd->hash << 8 | p[i];
			nd->napplied = nd->napplied << 8 | p[8 + i];
		}
	}
	nd->applied = s->meta.index;
	raftents_free(&nd->log);
	nd->nsnaps_applied++;
}

static void
apply_entry(struct raftnet_node *nd, const struct raft_entry *e)
{
	struct raft_conf_state cs;

	if (e->type == RAFT_ENTRY_NORMAL && e->len > 0) {
		nd->hash = fnv(nd->hash, e->data, e->len);
		nd->napplied++;
		raftents_add(&nd->log, e);
	} else if (e->type == RAFT_ENTRY_CONF_CHANGE && nd->auto_apply_conf) {
		if (raft_apply_conf_change_entry(nd->r, e, &cs) == 0)
			raftnet_store_set_cs(&nd->st, &cs);
	}
	nd->applied = e->index;
}

void
raftnet_ready(struct raftnet *net, uint64_t id)
{
	struct raftnet_node *nd = raftnet_node(net, id);
	struct raft_ready rd;
	size_t i;

	if (nd->down)
		return;
	while (raft_has_ready(nd->r)) {
		raft_ready(nd->r, &rd);
		nd->nready++;
		nd->last.must_sync = rd.must_sync;
		nd->last.hs_changed = rd.hard_state_changed;
		nd->last.ss_changed = rd.soft_state_changed;
		nd->last.n_entries = rd.n_entries;
		nd->last.n_committed = rd.n_committed;
		nd->last.n_msgs = rd.n_msgs;
		nd->last.snapshot = rd.snapshot != NULL;
		if (rd.n_committed > nd->max_committed)
			nd->max_committed = rd.n_committed;
		if (rd.snapshot != NULL)
			apply_snapshot(nd, rd.snapshot);
		raftnet_store_append(&nd->st, rd.entries, rd.n_entries);
		if (rd.hard_state_changed)
			nd->st.hs = rd.hs;
		for (i = 0; i < rd.n_msgs; i++)
			queue(net, &rd.msgs[i]);
		if (!nd->async_apply)
			for (i = 0; i < rd.n_committed; i++)
				apply_entry(nd, &rd.committed[i]);
		for (i = 0; i < rd.n_read_states && nd->nreads < 64; i++) {
			nd->read_index[nd->nreads] = rd.read_states[i].index;
			snprintf(nd->read_ctx[nd->nreads], 16, "%.*s",
			    (int)rd.read_states[i].len,
			    (const char *)rd.read_states[i].ctx);
			nd->nreads++;
		}
		if (nd->async_apply)
			raft_advance_append(nd->r, &rd);
		else
			raft_advance(nd->r, &rd);
	}
}

int
raftnet_peek(struct raftnet *net, size_t i, struct raft_msg *m)
{
	if (i >= net->npending)
		return -1;
	return raftwire_decode_msg(net->pending[i].wire.data,
	    net->pending[i].wire.len, m);
}

static void
remove_pending(struct raftnet *net, size_t i)
{
	buf_free(&net->pending[i].wire);
	memmove(&net->pending[i], &net->pending[i + 1],
	    (net->npending - i - 1) * sizeof(net->pending[0]));
	net->npending--;
}

int
raftnet_deliver(struct raftnet *net, size_t i)
{
	struct raftnet_node *nd;
	struct raft_msg m;
	struct buf w;
	int rc;

	if (i >= net->npending)
		return -1;
	w = net->pending[i].wire;
	nd = raftnet_node(net, net->pending[i].to);
	/* Take the buffer: decoded pointers point into it. */
	memmove(&net->pending[i], &net->pending[i + 1],
	    (net->npending - i - 1) * sizeof(net->pending[0]));
	net->npending--;
	if (raftwire_decode_msg(w.data, w.len, &m) != 0) {
		fprintf(stderr, "raftnet: undecodable message: %s\n",
		    log_reason());
		abort();
	}
	if (nd->down) {
		raftwire_msg_free(&m);
		buf_free(&w);
		net->dropped++;
		return 0;
	}
	net->delivered++;
	rc = raft_step(nd->r, &m);
	raftwire_msg_free(&m);
	buf_free(&w);
	raftnet_ready(net, nd->id);
	return rc;
}

int
raftnet_deliver_first(struct raftnet *net, int type, uint64_t from,
    uint64_t to)
{
	long i = raftnet_find(net, type, from, to);

	if (i < 0)
		return -1;
	return raftnet_deliver(net, (size_t)i);
}

void
raftnet_drop(struct raftnet *net, size_t i)
{
	if (i < net->npending)
		remove_pending(net, i);
}

void
raftnet_dup(struct raftnet *net, size_t i)
{
	struct raftnet_msg *q;

	if (i >= net->npending)
		return;
	if (net->npending == net->cap) {
		net->cap = net->cap * 2;
		net->pending = xreallocarray(net->pending, net->cap,
		    sizeof(*net->pending));
	}
	q = &net->pending[net->npending++];
	*q = net->pending[i];
	buf_init(&q->wire);
	buf_add(&q->wire, net->pending[i].wire.data, net->pending[i].wire.len);
}

long
raftnet_find(struct raftnet *net, int type, uint64_t from, uint64_t to)
{
	size_t i;

	for (i = 0; i < net->npending; i++) {
		if (net->pending[i].type == type &&
		    (from == 0 || net->pending[i].from == from) &&
		    (to == 0 || net->pending[i].to == to))
			return (long)i;
	}
	return -1;
}

size_t
raftnet_count(struct raftnet *net, int type)
{
	size_t i, k = 0;

	for (i = 0; i < net->npending; i++)
		if (net->pending[i].type == type)
			k++;
	return k;
}

size_t
raftnet_run(struct raftnet *net)
{
	size_t n = 0, guard = 0;
	int i;

	for (;;) {
		for (i = 0; i < net->n; i++)
			raftnet_ready(net, (uint64_t)i + 1);
		if (net->hold || net->npending == 0)
			break;
		raftnet_deliver(net, 0);
		n++;
		if (++guard > 1000000) {
			fprintf(stderr, "raftnet: network does not settle\n");
			abort();
		}
	}
	return n;
}

int
raftnet_send(struct raftnet *net, const struct raft_msg *m)
{
	struct raftnet_node *nd = raftnet_node(net, m->to);
	int rc;

	rc = raft_step(nd->r, m);
	raftnet_run(net);
	return rc;
}

void
raftnet_tick(struct raftnet *net, uint64_t id, int n)
{
	int k;

	for (k = 0; k < n; k++) {
		if (!raftnet_node(net, id)->down)
			raft_tick(raftnet_raft(net, id));
		raftnet_run(net);
	}
}

void
raftnet_tick_all(struct raftnet *net, int n)
{
	int k, i;

	for (k = 0; k < n; k++) {
		for (i = 0; i < net->n; i++)
			if (!net->nodes[i].down)
				raft_tick(net->nodes[i].r);
		raftnet_run(net);
	}
}

int
raftnet_campaign(struct raftnet *net, uint64_t id)
{
	int rc;

	rc = raft_campaign(raftnet_raft(net, id));
	raftnet_run(net);
	return rc;
}

int
raftnet_propose(struct raftnet *net, uint64_t id, const char *data)
{
	int rc;

	rc = raft_propose(raftnet_raft(net, id), data, strlen(data), NULL);
	raftnet_run(net);
	return rc;
}

int
raftnet_propose_n(struct raftnet *net, uint64_t id, int n, size_t size)
{
	char *data;
	int i, rc = 0;

	data = xmalloc(size + 1);
	for (i = 0; i < n && rc == 0; i++) {
		memset(data, 'a' + i % 26, size);
		rc = raft_propose(raftnet_raft(net, id), data, size, NULL);
		raftnet_run(net);
	}
	free(data);
	return rc;
}

int
raftnet_conf_change(struct raftnet *net, uint64_t id, int type, uint64_t node)
{
	struct raft_conf_change_single ch = { type, node };
	struct raft_conf_change cc;
	int rc;

	memset(&cc, 0, sizeof(cc));
	cc.changes = &ch;
	cc.n_changes = 1;
	rc = raft_propose_conf_change(raftnet_raft(net, id), &cc, NULL);
	raftnet_run(net);
	return rc;
}

void
raftnet_cut(struct raftnet *net, uint64_t a, uint64_t b)
{
	net->cut[a][b] = net->cut[b][a] = 1;
}

void
raftnet_isolate(struct raftnet *net, uint64_t id)
{
	int i;

	for (i = 1; i <= net->n; i++)
		if ((uint64_t)i != id)
			raftnet_cut(net, id, (uint64_t)i);
}

void
raftnet_heal(struct raftnet *net)
{
	memset(net->cut, 0, sizeof(net->cut));
	memset(net->drop_type, 0, sizeof(net->drop_type));
}

void
raftnet_crash(struct raftnet *net, uint64_t id)
{
	struct raftnet_node *nd = raftnet_node(net, id);

	raft_free(nd->r);
	nd->r = NULL;
	nd->down = 1;
}

void
raftnet_restart(struct raftnet *net, uint64_t id)
{
	struct raftnet_node *nd = raftnet_node(net, id);

	if (!nd->down)
		raftnet_crash(net, id);
	node_start(nd);
}

static void
status(struct raftnet *net, uint64_t id, struct raft_status *s)
{
	raft_status(raftnet_raft(net, id), s);
}

uint64_t
raftnet_leader(struct raftnet *net)
{
	struct raft_status s;
	uint64_t best = 0, term = 0;
	int i;

	for (i = 0; i < net->n; i++) {
		if (net->nodes[i].down)
			continue;
		status(net, net->nodes[i].id, &s);
		if (s.role == RAFT_LEADER && s.hs.term >= term) {
			best = s.id;
			term = s.hs.term;
		}
	}
	return best;
}

int
raftnet_role(struct raftnet *net, uint64_t id)
{
	struct raft_status s;

	status(net, id, &s);
	return s.role;
}

uint64_t
raftnet_term(struct raftnet *net, uint64_t id)
{
	struct raft_status s;

	status(net, id, &s);
	return s.hs.term;
}

uint64_t
raftnet_commit(struct raftnet *net, uint64_t id)
{
	struct raft_status s;

	status(net, id, &s);
	return s.hs.commit;
}

uint64_t
raftnet_last(struct raftnet *net, uint64_t id)
{
	struct raft_status s;

	status(net, id, &s);
	return s.last_index;
}

uint64_t
raftnet_lead_of(struct raftnet *net, uint64_t id)
{
	struct raft_status s;

	status(net, id, &s);
	return s.leader;
}

void
raftnet_compact(struct raftnet *net, uint64_t id, uint64_t index)
{
	struct raftnet_node *nd = raftnet_node(net, id);
	struct raftnet_store *st = &nd->st;
	uint8_t data[16];
	uint64_t term;
	int i;

	/* The snapshot holds the state machine as applied. */
	(void)index;
	index = nd->applied;
	if (index <= st->snap_index)
		return;
	if (st_term(st, index, &term) != 0)
		abort();
	/* The state at the applied index stands for the snapshot. */
	for (i = 0; i < 8; i++) {
		data[i] = (uint8_t)(nd->hash >> (56 - 8 * i));
		data[8 + i] = (uint8_t)(nd->napplied >> (56 - 8 * i));
	}
	buf_reset(&st->snap_data);
	buf_add(&st->snap_data, data, sizeof(data));
	cs_copy(&st->snap_ids, &st->snap_cs, &st->cs);
	raftents_drop_front(&st->ents, (size_t)(index - st->snap_index));
	st->snap_index = index;
	st->snap_term = term;
}

int
raftnet_same_applied(struct raftnet *net, uint64_t a, uint64_t b)
{
	struct raftnet_node *x = raftnet_node(net, a);
	struct raftnet_node *y = raftnet_node(net, b);

	return x->applied == y->applied && x->hash == y->hash &&
	    x->napplied == y->napplied;
}
