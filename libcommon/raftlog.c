#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "raftlog.h"
#include "xmalloc.h"

struct raftlog {
	struct raft_storage st;
	/* Unstable: a snapshot from the leader, then entries from offset. */
	struct raft_snapshot *snap;
	struct raftents ents;
	uint64_t offset;
	uint64_t committed;
	uint64_t applying;	/* handed out in a ready */
	uint64_t applied;
};

struct raftlog *
raftlog_new(const struct raft_storage *st)
{
	struct raftlog *l;
	uint64_t first;

	l = xcalloc(1, sizeof(*l));
	l->st = *st;
	first = st->first_index(st->arg);
	l->offset = st->last_index(st->arg) + 1;
	l->committed = first - 1;
	l->applying = first - 1;
	l->applied = first - 1;
	return l;
}

void
raftlog_free(struct raftlog *l)
{
	if (l == NULL)
		return;
	free(l->snap);
	raftents_free(&l->ents);
	free(l);
}

size_t
raftlog_memsize(const struct raftlog *l)
{
	return sizeof(*l) + raftents_memsize(&l->ents);
}

uint64_t
raftlog_first_index(const struct raftlog *l)
{
	if (l->snap != NULL)
		return l->snap->meta.index + 1;
	return l->st.first_index(l->st.arg);
}

uint64_t
raftlog_last_index(const struct raftlog *l)
{
	if (l->ents.n > 0)
		return l->offset + l->ents.n - 1;
	if (l->snap != NULL)
		return l->snap->meta.index;
	return l->st.last_index(l->st.arg);
}

int
raftlog_term(const struct raftlog *l, uint64_t i, uint64_t *term)
{
	uint64_t first = raftlog_first_index(l);

	if (i + 1 < first) {
		*term = 0;
		return RAFT_ERR_COMPACTED;
	}
	if (i > raftlog_last_index(l)) {
		*term = 0;
		return RAFT_ERR_UNAVAILABLE;
	}
	if (i >= l->offset && l->ents.n > 0) {
		*term = l->ents.v[i - l->offset].term;
		return 0;
	}
	if (l->snap != NULL && i == l->snap->meta.index) {
		*term = l->snap->meta.term;
		return 0;
	}
	if (i == 0) {
		*term = 0;
		return 0;
	}
	return l->st.term(l->st.arg, i, term);
}

uint64_t
raftlog_term_or0(const struct raftlog *l, uint64_t i)
{
	uint64_t t;

	if (raftlog_term(l, i, &t) != 0)
		return 0;
	return t;
}

uint64_t
raftlog_last_term(const struct raftlog *l)
{
	return raftlog_term_or0(l, raftlog_last_index(l));
}

int
raftlog_match_term(const struct raftlog *l, uint64_t i, uint64_t term)
{
	uint64_t t;

	if (raftlog_term(l, i, &t) != 0)
		return 0;
	return t == term;
}

int
raftlog_is_up_to_date(const struct raftlog *l, uint64_t lasti, uint64_t term)
{
	uint64_t lt = raftlog_last_term(l);

	return term > lt || (term == lt && lasti >= raftlog_last_index(l));
}

uint64_t
raftlog_committed(const struct raftlog *l)
{
	return l->committed;
}

uint64_t
raftlog_applying(const struct raftlog *l)
{
	return l->applying;
}

uint64_t
raftlog_applied(const struct raftlog *l)
{
	return l->applied;
}

void
raftlog_commit_to(struct raftlog *l, uint64_t i)
{
	uint64_t last = raftlog_last_index(l);

	if (i > last)
		i = last;
	if (i > l->committed)
		l->committed = i;
}

int
raftlog_maybe_commit(struct raftlog *l, uint64_t i, uint64_t term)
{
	if (i > l->committed && raftlog_term_or0(l, i) == term) {
		raftlog_commit_to(l, i);
		return 1;
	}
	return 0;
}

void
raftlog_applying_to(struct raftlog *l, uint64_t i)
{
	if (i > l->applying)
		l->applying = i;
}

void
raftlog_applied_to(struct raftlog *l, uint64_t i)
{
	if (i > l->applying)
		i = l->applying;
	if (i > l->applied)
		l->applied = i;
}

void
raftlog_set_indexes(struct raftlog *l, uint64_t committed, uint64_t applied)
{
	uint64_t first = raftlog_first_index(l);

	if (committed < first - 1)
		committed = first - 1;
	if (committed > raftlog_last_index(l))
		committed = raftlog_last_index(l);
	if (applied < first - 1)
		applied = first - 1;
	if (applied > committed)
		applied = committed;
	l->committed = committed;
	l->applying = applied;
	l->applied = applied;
}

uint64_t
raftlog_append(struct raftlog *l, const struct raft_entry *ents, size_t n)
{
	uint64_t after;
	size_t i;

	if (n == 0)
		return raftlog_last_index(l);
	after = ents[0].index;
	if (after == l->offset + l->ents.n) {
		/* Plain append. */
	} else if (after <= l->offset) {
		/* Replaces the whole unstable tail (and, once persisted,
		 * the storage entries from after on). */
		raftents_clear(&l->ents);
		l->offset = after;
	} else {
		raftents_truncate(&l->ents, (size_t)(after - l->offset));
	}
	for (i = 0; i < n; i++)
		raftents_add(&l->ents, &ents[i]);
	return raftlog_last_index(l);
}

int
raftlog_maybe_append(struct raftlog *l, uint64_t index, uint64_t log_term,
    uint64_t committed, const struct raft_entry *ents, size_t n,
    uint64_t *lastnew)
{
	uint64_t conflict = 0, last;
	size_t i;

	if (!raftlog_match_term(l, index, log_term))
		return 0;
	last = index + n;
	for (i = 0; i < n; i++) {
		if (!raftlog_match_term(l, ents[i].index, ents[i].term)) {
			conflict = ents[i].index;
			break;
		}
	}
	if (conflict != 0) {
		if (conflict <= l->committed) {
			log_setreason("entry %llu conflicts with committed "
			    "entry (committed %llu)",
			    (unsigned long long)conflict,
			    (unsigned long long)l->committed);
			return -1;
		}
		raftlog_append(l, ents + i, n - i);
	}
	raftlog_commit_to(l, committed < last ? committed : last);
	*lastnew = last;
	return 1;
}

uint64_t
raftlog_find_conflict_by_term(const struct raftlog *l, uint64_t index,
    uint64_t term, uint64_t *found_term)
{
	uint64_t t;

	for (; index > 0; index--) {
		if (raftlog_term(l, index, &t) != 0) {
			/* Compacted (or beyond the log): cannot tell. */
			*found_term = 0;
			return index;
		}
		if (t <= term) {
			*found_term = t;
			return index;
		}
	}
	*found_term = 0;
	return 0;
}

int
raftlog_entries(const struct raftlog *l, uint64_t lo, uint64_t hi,
    uint64_t max_bytes, struct raftents *out)
{
	uint64_t first = raftlog_first_index(l), last = raftlog_last_index(l);
	uint64_t shi, i, start = out->bytes, want;
	size_t before = out->n;
	int rc;

	if (lo < first)
		return RAFT_ERR_COMPACTED;
	if (hi > last + 1)
		hi = last + 1;
	if (lo >= hi)
		return 0;
	if (lo < l->offset) {
		shi = hi < l->offset ? hi : l->offset;
		rc = l->st.entries(l->st.arg, lo, shi, max_bytes,
		    raftents_add_cb, out);
		if (rc != 0)
			return rc;
		want = shi - lo;
		if (out->n - before < want)
			return 0;	/* the size limit was hit */
		lo = shi;
	}
	for (i = lo; i < hi; i++) {
		const struct raft_entry *e = &l->ents.v[i - l->offset];

		if (out->n > before &&
		    out->bytes - start + raftents_size(e) > max_bytes)
			break;
		raftents_add(out, e);
	}
	return 0;
}

int
raftlog_has_next_committed(const struct raftlog *l)
{
	if (l->snap != NULL)
		return 0;
	return l->committed > l->applying &&
	    l->applying + 1 >= raftlog_first_index(l);
}

int
raftlog_next_committed(const struct raftlog *l, uint64_t max_bytes,
    struct raftents *out)
{
	if (!raftlog_has_next_committed(l))
		return 0;
	return raftlog_entries(l, l->applying + 1, l->committed + 1,
	    max_bytes ? max_bytes : UINT64_MAX, out);
}

const struct raft_entry *
raftlog_unstable_entries(const struct raftlog *l, size_t *n)
{
	*n = l->ents.n;
	return l->ents.v;
}

const struct raft_snapshot *
raftlog_unstable_snapshot(const struct raftlog *l)
{
	return l->snap;
}

void
raftlog_stable_to(struct raftlog *l, uint64_t i, uint64_t term)
{
	if (l->ents.n == 0 || i < l->offset ||
	    i >= l->offset + l->ents.n)
		return;
	if (l->ents.v[i - l->offset].term != term)
		return;
	raftents_drop_front(&l->ents, (size_t)(i - l->offset + 1));
	l->offset = i + 1;
	if (l->ents.n == 0)
		raftents_free(&l->ents);
}

void
raftlog_stable_snap_to(struct raftlog *l, uint64_t i)
{
	if (l->snap != NULL && l->snap->meta.index == i) {
		free(l->snap);
		l->snap = NULL;
	}
}

int
raftlog_restore(struct raftlog *l, const struct raft_snapshot *s)
{
	struct raftents keep = { 0 };
	uint64_t last = raftlog_last_index(l);
	int rc;

	/*
	 * Entries after the snapshot that follow a matching (index, term)
	 * may have been acknowledged to a leader, which counted them
	 * towards a commit: keep them, as unstable entries the caller
	 * writes again after the snapshot (Raft's InstallSnapshot rule:
	 * retain the log entries that follow a matching last included
	 * entry).  After a mismatch the tail is of an older term and can
	 * be committed nowhere, so it goes.
	 */
	if (last > s->meta.index &&
	    raftlog_match_term(l, s->meta.index, s->meta.term)) {
		rc = raftlog_entries(l, s->meta.index + 1, last + 1,
		    UINT64_MAX, &keep);
		if (rc == 0 && (keep.n == 0 ||
		    keep.v[keep.n - 1].index != last))
			rc = RAFT_ERR_UNAVAILABLE;
		if (rc != 0) {
			raftents_free(&keep);
			log_setreason("cannot read the log after snapshot "
			    "%llu", (unsigned long long)s->meta.index);
			return rc;
		}
	}
	free(l->snap);
	l->snap = raftlog_snapshot_dup(s);
	raftents_free(&l->ents);
	l->ents = keep;
	l->offset = s->meta.index + 1;
	l->committed = s->meta.index;
	return 0;
}

int
raftlog_snapshot(const struct raftlog *l, uint64_t request_index,
    struct raft_snapshot *out)
{
	if (l->snap != NULL) {
		*out = *l->snap;
		return 0;
	}
	if (l->st.snapshot == NULL)
		return RAFT_ERR_SNAP_TEMP_UNAVAILABLE;
	return l->st.snapshot(l->st.arg, request_index, out);
}

struct raft_snapshot *
raftlog_snapshot_dup(const struct raft_snapshot *s)
{
	const struct raft_conf_state *cs = &s->meta.conf_state;
	struct raft_snapshot *d;
	uint64_t *ids;
	size_t nids;
	uint8_t *p;

	nids = cs->n_voters + cs->n_voters_outgoing + cs->n_learners +
	    cs->n_learners_next;
	d = xmalloc(sizeof(*d) + nids * sizeof(uint64_t) + s->len + 1);
	*d = *s;
	ids = (uint64_t *)(d + 1);
#define COPY_IDS(f, nf) do {						\
	if (cs->nf > 0)							\
		memcpy(ids, cs->f, cs->nf * sizeof(uint64_t));		\
	d->meta.conf_state.f = ids;					\
	ids += cs->nf;							\
} while (0)
	COPY_IDS(voters, n_voters);
	COPY_IDS(voters_outgoing, n_voters_outgoing);
	COPY_IDS(learners, n_learners);
	COPY_IDS(learners_next, n_learners_next);
#undef COPY_IDS
	p = (uint8_t *)ids;
	if (s->len > 0)
		memcpy(p, s->data, s->len);
	d->data = p;
	return d;
}
