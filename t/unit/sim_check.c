/*
 * The simulator's safety checks, run as events happen and after every
 * step: election safety (one leader per term), log matching (one entry per
 * (index, term), always after the same previous term), leader completeness
 * (a leader holds every entry committed in an earlier term), state machine
 * safety (every node applies the same entry at an index, and so reaches
 * the same state), and the durable-state rules (terms never go back, one
 * vote per term, commit never goes back, sync before sending).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "raft.h"
#include "sim.h"
#include "xmalloc.h"

static uint64_t
sim_check_mix(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

struct sim_index *
sim_check_index(struct sim *s, uint64_t index)
{
	size_t cap = s->idxcap;

	if (index >= cap) {
		while (cap <= index)
			cap = cap ? cap * 2 : 4096;
		s->idx = xreallocarray(s->idx, cap, sizeof(*s->idx));
		memset(s->idx + s->idxcap, 0,
		    (cap - s->idxcap) * sizeof(*s->idx));
		s->idxcap = cap;
	}
	return &s->idx[index];
}

static void
sim_check_lm_grow(struct sim *s)
{
	struct sim_lm *old = s->lm, *e;
	size_t oldcap = s->lmcap, i, j;

	s->lmcap = oldcap ? oldcap * 2 : 4096;
	s->lm = xcalloc(s->lmcap, sizeof(*s->lm));
	for (i = 0; i < oldcap; i++) {
		if (old[i].term == 0)
			continue;
		j = sim_check_mix(old[i].index, old[i].term) & (s->lmcap - 1);
		while (s->lm[j].term != 0)
			j = (j + 1) & (s->lmcap - 1);
		e = &s->lm[j];
		*e = old[i];
	}
	free(old);
}

void
sim_check_append(struct sim *s, struct sim_node *n,
    const struct raft_entry *ents, size_t count)
{
	struct sim_lm *e;
	uint64_t hash, prev;
	size_t i, j;

	if (s->bench)
		return;

	for (i = 0; i < count; i++) {
		if (ents[i].term == 0) {
			sim_fail(s, "node %" PRIu64 " persists entry %" PRIu64
			    " with term 0", n->id, ents[i].index);
			return;
		}
		hash = sim_hash(ents[i].data, ents[i].len,
		    (uint64_t)ents[i].type << 56 ^ ents[i].term);
		if (sim_store_term(&n->st, ents[i].index - 1, &prev) == -1)
			prev = UINT64_MAX;
		if ((s->nlm + 1) * 2 > s->lmcap)
			sim_check_lm_grow(s);
		j = sim_check_mix(ents[i].index, ents[i].term) &
		    (s->lmcap - 1);
		for (;; j = (j + 1) & (s->lmcap - 1)) {
			e = &s->lm[j];
			if (e->term == 0) {
				e->index = ents[i].index;
				e->term = ents[i].term;
				e->hash = hash;
				e->prev_term = prev;
				s->nlm++;
				break;
			}
			if (e->index != ents[i].index ||
			    e->term != ents[i].term)
				continue;
			if (e->hash != hash)
				sim_fail(s, "log matching: node %" PRIu64
				    " has a different entry at (index %" PRIu64
				    ", term %" PRIu64 ")", n->id, e->index,
				    e->term);
			else if (e->prev_term != prev &&
			    prev != UINT64_MAX && e->prev_term != UINT64_MAX)
				sim_fail(s, "log matching: node %" PRIu64
				    " has (index %" PRIu64 ", term %" PRIu64
				    ") after term %" PRIu64 ", another node "
				    "after term %" PRIu64, n->id, e->index,
				    e->term, prev, e->prev_term);
			break;
		}
	}
}

void
sim_check_hard_state(struct sim *s, struct sim_node *n,
    const struct raft_hard_state *hs, int must_sync, int has_entries)
{
	const struct raft_hard_state *old = &n->st.hs;
	struct sim_index *x;
	uint64_t i, t;

	if (s->bench)
		return;
	if (hs->term < old->term)
		sim_fail(s, "node %" PRIu64 " term goes back from %" PRIu64
		    " to %" PRIu64, n->id, old->term, hs->term);
	if (hs->term == old->term && old->vote != RAFT_NONE &&
	    hs->vote != old->vote)
		sim_fail(s, "node %" PRIu64 " votes for %" PRIu64 " and %"
		    PRIu64 " in term %" PRIu64, n->id, old->vote, hs->vote,
		    hs->term);
	if (!must_sync && (has_entries || hs->term != old->term ||
	    hs->vote != old->vote))
		sim_fail(s, "node %" PRIu64 " ready changes the term, vote or "
		    "log without must_sync", n->id);
	if (hs->commit < old->commit)
		sim_fail(s, "node %" PRIu64 " commit goes back from %" PRIu64
		    " to %" PRIu64, n->id, old->commit, hs->commit);
	for (i = n->commit_seen + 1; i <= hs->commit; i++) {
		t = raft_term_at(n->r, i);
		x = sim_check_index(s, i);
		if (i > s->commit) {
			x->term = t;
			x->cterm = hs->term;
			s->commit = i;
		} else if (x->term != 0 && t != 0 && t != x->term)
			sim_fail(s, "node %" PRIu64 " commits (index %" PRIu64
			    ", term %" PRIu64 ") but term %" PRIu64 " was "
			    "committed there", n->id, i, t, x->term);
		else if (x->term == 0)
			x->term = t;
	}
	if (hs->commit > n->commit_seen)
		n->commit_seen = hs->commit;
}

void
sim_check_apply(struct sim *s, struct sim_node *n, uint64_t index,
    uint64_t term, uint64_t hash)
{
	struct sim_index *x;
	uint64_t chain;

	if (s->bench) {
		n->applied = index;
		return;
	}
	if (index != n->applied + 1) {
		sim_fail(s, "node %" PRIu64 " applies index %" PRIu64
		    " after %" PRIu64, n->id, index, n->applied);
		return;
	}
	if (index > s->commit || index > n->st.hs.commit)
		sim_fail(s, "node %" PRIu64 " applies index %" PRIu64
		    " beyond its persisted commit %" PRIu64, n->id, index,
		    n->st.hs.commit);
	x = sim_check_index(s, index);
	if (x->term != 0 && x->term != term)
		sim_fail(s, "node %" PRIu64 " applies (index %" PRIu64
		    ", term %" PRIu64 ") but term %" PRIu64 " was committed",
		    n->id, index, term, x->term);
	chain = sim_check_mix(n->chain, sim_check_mix(term, hash));
	if (!x->applied) {
		x->applied = 1;
		x->term = term;
		x->hash = hash;
		x->chain = chain;
	} else if (x->hash != hash || x->term != term)
		sim_fail(s, "node %" PRIu64 " applies a different entry at "
		    "index %" PRIu64 " (term %" PRIu64 ", another node "
		    "applied term %" PRIu64 ")", n->id, index, term,
		    x->term);
	else if (x->chain != chain)
		sim_fail(s, "node %" PRIu64 " state differs after index %"
		    PRIu64, n->id, index);
	n->chain = chain;
	n->applied = index;
}

void
sim_check_snapshot(struct sim *s, struct sim_node *n, uint64_t index,
    uint64_t chain)
{
	struct sim_index *x = sim_check_index(s, index);

	if (!x->applied)
		sim_fail(s, "node %" PRIu64 " installs a snapshot at %" PRIu64
		    ", an index nobody applied", n->id, index);
	else if (x->chain != chain)
		sim_fail(s, "node %" PRIu64 " installs a snapshot at %" PRIu64
		    " whose state differs from the applied one", n->id,
		    index);
}

void
sim_check_leader_term(struct sim *s, struct sim_node *n, uint64_t term)
{
	size_t cap;

	if (term >= s->nleaders) {
		cap = s->nleaders ? s->nleaders : 64;
		while (cap <= term)
			cap *= 2;
		s->leaders = xreallocarray(s->leaders, cap, sizeof(uint64_t));
		memset(s->leaders + s->nleaders, 0,
		    (cap - s->nleaders) * sizeof(uint64_t));
		s->nleaders = cap;
	}
	if (s->leaders[term] == 0) {
		s->leaders[term] = n->id;
		s->n_elections++;
		sim_trace(s, "node %" PRIu64 " leads term %" PRIu64, n->id,
		    term);
	} else if (s->leaders[term] != n->id)
		sim_fail(s, "two leaders in term %" PRIu64 ": %" PRIu64
		    " and %" PRIu64, term, s->leaders[term], n->id);
}

static void
sim_check_leader(struct sim *s, struct sim_node *n,
    const struct raft_status *st)
{
	uint64_t term = st->hs.term, i, t;
	struct sim_index *x;

	sim_check_leader_term(s, n, term);
	if (n->lc_term != term) {
		n->lc_term = term;
		n->lc_upto = 0;
	}
	for (i = n->lc_upto + 1; i <= s->commit; i++) {
		x = &s->idx[i];
		if (x->term == 0 || x->cterm >= term || i + 1 < st->first_index)
			continue;
		t = raft_term_at(n->r, i);
		if (t != x->term) {
			sim_fail(s, "leader completeness: leader %" PRIu64
			    " of term %" PRIu64 " lacks (index %" PRIu64
			    ", term %" PRIu64 ") committed in term %" PRIu64
			    " (has term %" PRIu64 ")", n->id, term, i,
			    x->term, x->cterm, t);
			return;
		}
	}
	n->lc_upto = s->commit;
}

void
sim_check_step(struct sim *s)
{
	struct raft_status st;
	struct sim_node *n;
	int i;

	for (i = 0; i < s->nnodes; i++) {
		n = &s->nodes[i];
		if (n->id == 0 || !n->up)
			continue;
		raft_status(n->r, &st);
		if (st.id != n->id)
			sim_fail(s, "node %" PRIu64 " reports id %" PRIu64,
			    n->id, st.id);
		if (st.role == RAFT_LEADER)
			sim_check_leader(s, n, &st);
		if (st.hs.commit < n->st.hs.commit)
			sim_fail(s, "node %" PRIu64 " commit %" PRIu64
			    " is below its persisted %" PRIu64, n->id,
			    st.hs.commit, n->st.hs.commit);
	}
}

void
sim_check_free(struct sim *s)
{
	free(s->idx);
	free(s->leaders);
	free(s->lm);
	s->idx = NULL;
	s->leaders = NULL;
	s->lm = NULL;
	s->idxcap = s->nleaders = s->nlm = s->lmcap = 0;
}
