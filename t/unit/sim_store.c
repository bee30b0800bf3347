/*
 * The simulator's durable storage of one node, behind struct raft_storage:
 * a log with an offset (entries before first are compacted into the last
 * snapshot), the hard state, and the snapshot with its membership.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "raft.h"
#include "sim.h"
#include "xmalloc.h"

void
sim_store_conf_set(struct sim_conf *c, const struct raft_conf_state *cs)
{
	const uint64_t *src[4];
	size_t n[4];
	int i;

	src[0] = cs->voters;
	n[0] = cs->n_voters;
	src[1] = cs->voters_outgoing;
	n[1] = cs->n_voters_outgoing;
	src[2] = cs->learners;
	n[2] = cs->n_learners;
	src[3] = cs->learners_next;
	n[3] = cs->n_learners_next;
	sim_store_conf_free(c);
	for (i = 0; i < 4; i++) {
		c->n[i] = n[i];
		c->ids[i] = xcalloc(n[i] ? n[i] : 1, sizeof(uint64_t));
		if (n[i] > 0)
			memcpy(c->ids[i], src[i], n[i] * sizeof(uint64_t));
	}
	c->auto_leave = cs->auto_leave;
}

void
sim_store_conf_copy(struct sim_conf *dst, const struct sim_conf *src)
{
	struct raft_conf_state cs;

	if (dst == src)
		return;
	sim_store_conf_view(src, &cs);
	sim_store_conf_set(dst, &cs);
}

void
sim_store_conf_view(const struct sim_conf *c, struct raft_conf_state *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->voters = c->ids[0];
	cs->n_voters = c->n[0];
	cs->voters_outgoing = c->ids[1];
	cs->n_voters_outgoing = c->n[1];
	cs->learners = c->ids[2];
	cs->n_learners = c->n[2];
	cs->learners_next = c->ids[3];
	cs->n_learners_next = c->n[3];
	cs->auto_leave = c->auto_leave;
}

void
sim_store_conf_free(struct sim_conf *c)
{
	int i;

	for (i = 0; i < 4; i++) {
		free(c->ids[i]);
		c->ids[i] = NULL;
		c->n[i] = 0;
	}
	c->auto_leave = 0;
}

int
sim_store_conf_role(const struct sim_conf *c, uint64_t id)
{
	size_t j;
	int i;

	for (i = 0; i < 2; i++)
		for (j = 0; j < c->n[i]; j++)
			if (c->ids[i][j] == id)
				return SIM_VOTER;
	for (i = 2; i < 4; i++)
		for (j = 0; j < c->n[i]; j++)
			if (c->ids[i][j] == id)
				return SIM_LEARNER;
	return SIM_NOT_MEMBER;
}

void
sim_store_conf_fmt(struct buf *b, const struct sim_conf *c)
{
	static const char *names[] = { "voters", "outgoing", "learners",
	    "learners_next" };
	size_t j;
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0 && c->n[i] == 0)
			continue;
		buf_printf(b, "%s%s(", i > 0 ? " " : "", names[i]);
		for (j = 0; j < c->n[i]; j++)
			buf_printf(b, "%s%llu", j ? "," : "",
			    (unsigned long long)c->ids[i][j]);
		buf_addc(b, ')');
	}
	if (c->auto_leave)
		buf_addstr(b, " auto_leave");
}

void
sim_store_init(struct sim_store *st)
{
	memset(st, 0, sizeof(*st));
	st->first = 1;
}

void
sim_store_bootstrap(struct sim_store *st, const struct sim_conf *conf,
    const void *data, size_t len)
{
	sim_store_init(st);
	st->hs.term = 1;
	st->hs.commit = 1;
	st->hs_synced = st->hs;
	st->first = 2;
	st->prev_term = 1;
	st->snap_index = 1;
	st->snap_term = 1;
	sim_store_conf_copy(&st->conf, conf);
	buf_add(&st->snap_data, data, len);
}

static void
sim_store_drop(struct sim_store *st, size_t from)
{
	size_t i;

	for (i = from; i < st->n; i++)
		free(st->ents[i].data);
	st->n = from;
}

void
sim_store_free(struct sim_store *st)
{
	sim_store_drop(st, 0);
	free(st->ents);
	sim_store_conf_free(&st->conf);
	buf_free(&st->snap_data);
	memset(st, 0, sizeof(*st));
}

uint64_t
sim_store_last(const struct sim_store *st)
{
	return st->first + st->n - 1;
}

int
sim_store_term(const struct sim_store *st, uint64_t index, uint64_t *term)
{
	if (index + 1 == st->first) {
		*term = st->prev_term;
		return 0;
	}
	if (index < st->first || index > sim_store_last(st))
		return -1;
	*term = st->ents[index - st->first].term;
	return 0;
}

int
sim_store_append(struct sim_store *st, const struct raft_entry *e, size_t n)
{
	struct sim_ent *d;
	size_t i, at;

	if (n == 0)
		return 0;
	if (e[0].index > sim_store_last(st) + 1 || e[0].index < st->first) {
		log_setreason("append at %llu to a log of [%llu, %llu]",
		    (unsigned long long)e[0].index,
		    (unsigned long long)st->first,
		    (unsigned long long)sim_store_last(st));
		return -1;
	}
	for (i = 1; i < n; i++)
		if (e[i].index != e[i - 1].index + 1) {
			log_setreason("entries %llu and %llu not consecutive",
			    (unsigned long long)e[i - 1].index,
			    (unsigned long long)e[i].index);
			return -1;
		}
	at = e[0].index - st->first;
	sim_store_drop(st, at);
	if (st->cap < at + n) {
		st->cap = (at + n) * 2;
		st->ents = xreallocarray(st->ents, st->cap, sizeof(*st->ents));
	}
	for (i = 0; i < n; i++) {
		d = &st->ents[at + i];
		d->term = e[i].term;
		d->type = e[i].type;
		d->len = e[i].len;
		d->data = xmalloc(e[i].len + 1);
		if (e[i].len > 0)
			memcpy(d->data, e[i].data, e[i].len);
	}
	st->n = at + n;
	return 0;
}

void
sim_store_set_hard_state(struct sim_store *st,
    const struct raft_hard_state *hs, int sync)
{
	st->hs = *hs;
	if (sync && st->no_vote_sync)
		st->hs_synced.commit = hs->commit;
	else if (sync)
		st->hs_synced = *hs;
}

void
sim_store_apply_snapshot(struct sim_store *st, const struct raft_snapshot *s)
{
	sim_store_drop(st, 0);
	st->first = s->meta.index + 1;
	st->prev_term = s->meta.term;
	st->snap_index = s->meta.index;
	st->snap_term = s->meta.term;
	sim_store_conf_set(&st->conf, &s->meta.conf_state);
	buf_reset(&st->snap_data);
	buf_add(&st->snap_data, s->data, s->len);
}

void
sim_store_set_snapshot(struct sim_store *st, uint64_t index, uint64_t term,
    const struct sim_conf *conf, const void *data, size_t len)
{
	st->snap_index = index;
	st->snap_term = term;
	sim_store_conf_copy(&st->conf, conf);
	buf_reset(&st->snap_data);
	buf_add(&st->snap_data, data, len);
	/*
	 * Saving a snapshot syncs what was written before it, so the
	 * durable commit covers it.  (raft_new raises a commit index below
	 * the snapshot or the applied index; -U leaves it to that.)
	 */
	if (!st->no_sync_on_snapshot)
		sim_store_set_hard_state(st, &st->hs, 1);
}

void
sim_store_compact(struct sim_store *st, uint64_t index)
{
	uint64_t term;
	size_t k, i;

	if (index > st->snap_index)
		index = st->snap_index;
	if (index < st->first || index > sim_store_last(st))
		return;
	if (sim_store_term(st, index, &term) == -1)
		return;
	k = index - st->first + 1;
	for (i = 0; i < k; i++)
		free(st->ents[i].data);
	memmove(st->ents, st->ents + k, (st->n - k) * sizeof(*st->ents));
	st->n -= k;
	st->first = index + 1;
	st->prev_term = term;
}

void
sim_store_crash(struct sim_store *st)
{
	st->hs = st->hs_synced;
}

static int
sim_store_initial_state(void *arg, struct raft_hard_state *hs,
    struct raft_conf_state *cs)
{
	struct sim_store *st = arg;

	*hs = st->hs;
	sim_store_conf_view(&st->conf, cs);
	return 0;
}

static uint64_t
sim_store_first_index(void *arg)
{
	struct sim_store *st = arg;

	return st->first;
}

static uint64_t
sim_store_last_index(void *arg)
{
	return sim_store_last(arg);
}

static int
sim_store_term_cb(void *arg, uint64_t index, uint64_t *term)
{
	struct sim_store *st = arg;

	if (sim_store_term(st, index, term) == 0)
		return 0;
	return index < st->first ? RAFT_ERR_COMPACTED : RAFT_ERR_UNAVAILABLE;
}

static int
sim_store_entries(void *arg, uint64_t lo, uint64_t hi, uint64_t max_bytes,
    void (*add)(void *, const struct raft_entry *), void *ctx)
{
	struct sim_store *st = arg;
	struct raft_entry e;
	uint64_t i, size = 0;
	const struct sim_ent *s;

	if (lo < st->first)
		return RAFT_ERR_COMPACTED;
	if (hi > sim_store_last(st) + 1 || lo > hi)
		return RAFT_ERR_UNAVAILABLE;
	for (i = lo; i < hi; i++) {
		s = &st->ents[i - st->first];
		size += s->len;
		if (i > lo && size > max_bytes)
			break;
		e.term = s->term;
		e.index = i;
		e.type = s->type;
		e.data = s->data;
		e.len = s->len;
		add(ctx, &e);
	}
	return 0;
}

static int
sim_store_snapshot(void *arg, uint64_t request_index, struct raft_snapshot *s)
{
	struct sim_store *st = arg;

	/* Like tikvd: a snapshot of the state applied now, not an old one
	 * that may predate the follower's membership. */
	if (st->make_snap != NULL)
		st->make_snap(st->make_snap_arg, request_index);
	if (st->snap_index < request_index || st->snap_index == 0)
		return RAFT_ERR_SNAP_TEMP_UNAVAILABLE;
	memset(s, 0, sizeof(*s));
	s->meta.index = st->snap_index;
	s->meta.term = st->snap_term;
	sim_store_conf_view(&st->conf, &st->view);
	s->meta.conf_state = st->view;
	s->data = st->snap_data.data;
	s->len = st->snap_data.len;
	return 0;
}

void
sim_store_iface(struct sim_store *st, struct raft_storage *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->arg = st;
	rs->initial_state = sim_store_initial_state;
	rs->first_index = sim_store_first_index;
	rs->last_index = sim_store_last_index;
	rs->term = sim_store_term_cb;
	rs->entries = sim_store_entries;
	rs->snapshot = sim_store_snapshot;
}
