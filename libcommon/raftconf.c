#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "raftconf.h"
#include "xmalloc.h"

struct inflight {
	uint64_t index;		/* last index of the append message */
	uint64_t bytes;
};

/* A ring of the append messages in flight to one follower. */
struct raftconf_inflights {
	size_t start;
	size_t count;
	size_t cap;
	uint64_t bytes;
	struct inflight *ring;
};

struct raftconf {
	struct raftconf_progress *prs;
	size_t n;
	size_t cap;
	int joint;
	int auto_leave;
	size_t max_inflight;
	uint64_t max_inflight_bytes;
	/* Cache behind raftconf_conf_state(). */
	uint64_t *cs_ids;
};

/* A member during a conf change: the id and its new flags. */
struct member {
	uint64_t id;
	uint8_t flags;
};

struct raftconf *
raftconf_new(size_t max_inflight, uint64_t max_inflight_bytes)
{
	struct raftconf *c;

	c = xcalloc(1, sizeof(*c));
	c->max_inflight = max_inflight;
	c->max_inflight_bytes = max_inflight_bytes;
	return c;
}

static void
inflights_free(struct raftconf_progress *pr)
{
	if (pr->ifl == NULL)
		return;
	free(pr->ifl->ring);
	free(pr->ifl);
	pr->ifl = NULL;
}

void
raftconf_release_inflights(struct raftconf *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		inflights_free(&c->prs[i]);
}

void
raftconf_free(struct raftconf *c)
{
	if (c == NULL)
		return;
	raftconf_release_inflights(c);
	free(c->prs);
	free(c->cs_ids);
	free(c);
}

size_t
raftconf_memsize(const struct raftconf *c)
{
	size_t i, sz;

	sz = sizeof(*c) + c->cap * sizeof(c->prs[0]);
	for (i = 0; i < c->n; i++)
		if (c->prs[i].ifl != NULL)
			sz += sizeof(*c->prs[i].ifl) +
			    c->prs[i].ifl->cap * sizeof(c->prs[i].ifl->ring[0]);
	if (c->cs_ids != NULL)
		sz += c->n * 2 * sizeof(uint64_t);
	return sz;
}

size_t
raftconf_count(const struct raftconf *c)
{
	return c->n;
}

struct raftconf_progress *
raftconf_at(struct raftconf *c, size_t i)
{
	return &c->prs[i];
}

struct raftconf_progress *
raftconf_get(struct raftconf *c, uint64_t id)
{
	size_t lo = 0, hi = c->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->prs[mid].id == id)
			return &c->prs[mid];
		if (c->prs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct raftconf_progress *
get_const(const struct raftconf *c, uint64_t id)
{
	return raftconf_get((struct raftconf *)c, id);
}

int
raftconf_is_voter(const struct raftconf_progress *pr)
{
	return (pr->flags & (RAFTCONF_VOTER_IN | RAFTCONF_VOTER_OUT)) != 0;
}

int
raftconf_joint(const struct raftconf *c)
{
	return c->joint;
}

int
raftconf_auto_leave(const struct raftconf *c)
{
	return c->auto_leave;
}

int
raftconf_is_incoming_voter(const struct raftconf *c, uint64_t id)
{
	const struct raftconf_progress *pr = get_const(c, id);

	return pr != NULL && (pr->flags & RAFTCONF_VOTER_IN);
}

int
raftconf_single_voter(const struct raftconf *c, uint64_t id)
{
	size_t i, nv = 0;
	int self = 0;

	if (c->joint)
		return 0;
	for (i = 0; i < c->n; i++) {
		if (c->prs[i].flags & RAFTCONF_VOTER_IN) {
			nv++;
			if (c->prs[i].id == id)
				self = 1;
		}
	}
	return nv == 1 && self;
}

static int
cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Committed index of one majority config; UINT64_MAX when empty. */
static uint64_t
majority_committed(const struct raftconf *c, uint8_t flag)
{
	uint64_t small[16], *v = small, r;
	size_t i, n = 0;

	if (c->n > 16)
		v = xreallocarray(NULL, c->n, sizeof(*v));
	for (i = 0; i < c->n; i++)
		if (c->prs[i].flags & flag)
			v[n++] = c->prs[i].match;
	if (n == 0) {
		r = UINT64_MAX;
	} else {
		qsort(v, n, sizeof(*v), cmp_u64_desc);
		r = v[n / 2];
	}
	if (v != small)
		free(v);
	return r;
}

uint64_t
raftconf_committed(const struct raftconf *c)
{
	uint64_t in, out;

	in = majority_committed(c, RAFTCONF_VOTER_IN);
	out = majority_committed(c, RAFTCONF_VOTER_OUT);
	if (in == UINT64_MAX && out == UINT64_MAX)
		return 0;
	return in < out ? in : out;
}

static int
majority_poll(const struct raftconf *c, uint8_t flag,
    int (*yes)(void *, uint64_t), void *arg)
{
	size_t i, n = 0, y = 0, missing = 0;
	int v;

	for (i = 0; i < c->n; i++) {
		if (!(c->prs[i].flags & flag))
			continue;
		n++;
		v = yes(arg, c->prs[i].id);
		if (v > 0)
			y++;
		else if (v < 0)
			missing++;
	}
	if (n == 0)
		return RAFTCONF_WON;
	if (y >= n / 2 + 1)
		return RAFTCONF_WON;
	if (y + missing >= n / 2 + 1)
		return RAFTCONF_PENDING;
	return RAFTCONF_LOST;
}

int
raftconf_poll(const struct raftconf *c, int (*yes)(void *, uint64_t),
    void *arg)
{
	int a, b;

	a = majority_poll(c, RAFTCONF_VOTER_IN, yes, arg);
	b = majority_poll(c, RAFTCONF_VOTER_OUT, yes, arg);
	if (a == b)
		return a;
	if (a == RAFTCONF_LOST || b == RAFTCONF_LOST)
		return RAFTCONF_LOST;
	return RAFTCONF_PENDING;
}

static int
vote_of(void *arg, uint64_t id)
{
	const struct raftconf_progress *pr = get_const(arg, id);

	if (pr->vote == 0)
		return -1;
	return pr->vote > 0;
}

int
raftconf_vote_result(const struct raftconf *c)
{
	return raftconf_poll(c, vote_of, (void *)c);
}

void
raftconf_reset_votes(struct raftconf *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		c->prs[i].vote = 0;
}

struct active_arg {
	const struct raftconf *c;
	uint64_t self;
};

static int
active_of(void *arg, uint64_t id)
{
	struct active_arg *a = arg;
	const struct raftconf_progress *pr = get_const(a->c, id);

	return id == a->self || pr->recent_active;
}

int
raftconf_quorum_active(struct raftconf *c, uint64_t self)
{
	struct active_arg a = { c, self };
	size_t i;
	int won;

	won = raftconf_poll(c, active_of, &a) == RAFTCONF_WON;
	for (i = 0; i < c->n; i++)
		if (c->prs[i].id != self)
			c->prs[i].recent_active = 0;
	return won;
}

/* Conf changes: worked out on an array of members, then committed. */

static struct member *
members_of(const struct raftconf *c, size_t extra, size_t *n)
{
	struct member *m;
	size_t i;

	m = xreallocarray(NULL, c->n + extra + 1, sizeof(*m));
	for (i = 0; i < c->n; i++) {
		m[i].id = c->prs[i].id;
		m[i].flags = c->prs[i].flags;
	}
	*n = c->n;
	return m;
}

static struct member *
member_find(struct member *m, size_t n, uint64_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].id == id)
			return &m[i];
	return NULL;
}

static void
members_apply(struct member *m, size_t *n, const struct raft_conf_change *cc)
{
	const struct raft_conf_change_single *s;
	struct member *x;
	size_t i;

	for (i = 0; i < cc->n_changes; i++) {
		s = &cc->changes[i];
		if (s->node_id == RAFT_NONE)
			continue;
		x = member_find(m, *n, s->node_id);
		if (x == NULL && s->type != RAFT_CC_REMOVE_NODE) {
			x = &m[(*n)++];
			x->id = s->node_id;
			x->flags = 0;
		}
		switch (s->type) {
		case RAFT_CC_ADD_NODE:
			x->flags &= ~(RAFTCONF_LEARNER | RAFTCONF_LEARNER_NEXT);
			x->flags |= RAFTCONF_VOTER_IN;
			break;
		case RAFT_CC_ADD_LEARNER:
			if (x->flags & RAFTCONF_LEARNER)
				break;
			x->flags &= ~RAFTCONF_VOTER_IN;
			if (x->flags & RAFTCONF_VOTER_OUT)
				x->flags |= RAFTCONF_LEARNER_NEXT;
			else
				x->flags |= RAFTCONF_LEARNER;
			break;
		case RAFT_CC_REMOVE_NODE:
			if (x != NULL)
				x->flags &= ~(RAFTCONF_VOTER_IN |
				    RAFTCONF_LEARNER | RAFTCONF_LEARNER_NEXT);
			break;
		}
	}
}

static size_t
count_flag(const struct member *m, size_t n, uint8_t flag)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (m[i].flags & flag)
			k++;
	return k;
}

/*
 * Works out the members after cc.  Returns 0, or an error with the
 * reason set; *joint and *auto_leave get the new mode.
 */
static int
plan_change(const struct raftconf *c, const struct raft_conf_change *cc,
    struct member *m, size_t *n, int *joint, int *auto_leave)
{
	size_t i, before, changed;
	uint8_t *oldflags;
	int enter;

	for (i = 0; i < cc->n_changes; i++) {
		if (cc->changes[i].type < RAFT_CC_ADD_NODE ||
		    cc->changes[i].type > RAFT_CC_ADD_LEARNER) {
			log_setreason("unknown conf change type %d",
			    cc->changes[i].type);
			return RAFT_ERR_INVALID;
		}
	}
	if (cc->transition < RAFT_CC_TRANSITION_AUTO ||
	    cc->transition > RAFT_CC_TRANSITION_JOINT_EXPLICIT) {
		log_setreason("unknown conf change transition %d",
		    cc->transition);
		return RAFT_ERR_INVALID;
	}
	if (cc->n_changes == 0) {
		/* Leave joint. */
		if (!c->joint) {
			log_setreason("cannot leave a non-joint config");
			return RAFT_ERR_CONF_PENDING;
		}
		for (i = 0; i < *n; i++) {
			if (m[i].flags & RAFTCONF_LEARNER_NEXT)
				m[i].flags |= RAFTCONF_LEARNER;
			m[i].flags &= ~(RAFTCONF_VOTER_OUT |
			    RAFTCONF_LEARNER_NEXT);
		}
		*joint = 0;
		*auto_leave = 0;
		return 0;
	}
	enter = cc->transition != RAFT_CC_TRANSITION_AUTO ||
	    cc->n_changes > 1;
	if (c->joint) {
		log_setreason("config is already joint");
		return RAFT_ERR_CONF_PENDING;
	}
	if (enter) {
		if (count_flag(m, *n, RAFTCONF_VOTER_IN) == 0) {
			log_setreason("cannot make a zero-voter config joint");
			return RAFT_ERR_INVALID;
		}
		for (i = 0; i < *n; i++)
			if (m[i].flags & RAFTCONF_VOTER_IN)
				m[i].flags |= RAFTCONF_VOTER_OUT;
		members_apply(m, n, cc);
		*joint = 1;
		*auto_leave =
		    cc->transition != RAFT_CC_TRANSITION_JOINT_EXPLICIT;
	} else {
		before = *n;
		oldflags = xmalloc(before + 1);
		for (i = 0; i < before; i++)
			oldflags[i] = m[i].flags;
		members_apply(m, n, cc);
		changed = 0;
		/* New members were appended after the old ones. */
		for (i = 0; i < *n; i++) {
			uint8_t was = i < before ? oldflags[i] : 0;

			if ((was ^ m[i].flags) & RAFTCONF_VOTER_IN)
				changed++;
		}
		free(oldflags);
		if (changed > 1) {
			log_setreason("more than one voter changed without "
			    "entering joint config");
			return RAFT_ERR_INVALID;
		}
		*joint = 0;
		*auto_leave = 0;
	}
	if (count_flag(m, *n, RAFTCONF_VOTER_IN) == 0) {
		log_setreason("removed all voters");
		return RAFT_ERR_INVALID;
	}
	return 0;
}

int
raftconf_check_change(const struct raftconf *c,
    const struct raft_conf_change *cc)
{
	struct member *m;
	size_t n;
	int joint, al, rc;

	m = members_of(c, cc->n_changes, &n);
	rc = plan_change(c, cc, m, &n, &joint, &al);
	free(m);
	return rc;
}

static int
cmp_member(const void *a, const void *b)
{
	uint64_t x = ((const struct member *)a)->id;
	uint64_t y = ((const struct member *)b)->id;

	return x < y ? -1 : x > y;
}

/* Rebuilds the progress array from members, keeping known progress. */
static void
commit_members(struct raftconf *c, struct member *m, size_t n,
    uint64_t next)
{
	struct raftconf_progress *prs, *old;
	size_t i, k = 0;

	qsort(m, n, sizeof(*m), cmp_member);
	prs = xreallocarray(NULL, n ? n : 1, sizeof(*prs));
	for (i = 0; i < n; i++) {
		if (m[i].flags == 0)
			continue;
		old = raftconf_get(c, m[i].id);
		if (old != NULL) {
			prs[k] = *old;
			old->ifl = NULL;
		} else {
			memset(&prs[k], 0, sizeof(prs[k]));
			prs[k].id = m[i].id;
			prs[k].next = next;
			prs[k].state = RAFT_PROGRESS_PROBE;
			/* New members get a grace period before check
			 * quorum counts them as dead. */
			prs[k].recent_active = 1;
		}
		prs[k].flags = m[i].flags;
		k++;
	}
	raftconf_release_inflights(c);
	free(c->prs);
	free(c->cs_ids);
	c->cs_ids = NULL;
	c->prs = prs;
	c->n = k;
	c->cap = n ? n : 1;
}

int
raftconf_apply_change(struct raftconf *c, const struct raft_conf_change *cc,
    uint64_t next)
{
	struct member *m;
	size_t n;
	int joint, al, rc;

	m = members_of(c, cc->n_changes, &n);
	rc = plan_change(c, cc, m, &n, &joint, &al);
	if (rc == 0) {
		commit_members(c, m, n, next);
		c->joint = joint;
		c->auto_leave = al;
	}
	free(m);
	return rc;
}

static int
add_ids(struct member *m, size_t *n, const uint64_t *ids, size_t k,
    uint8_t flag)
{
	struct member *x;
	size_t i;

	for (i = 0; i < k; i++) {
		if (ids[i] == RAFT_NONE) {
			log_setreason("node id 0 in conf state");
			return -1;
		}
		x = member_find(m, *n, ids[i]);
		if (x == NULL) {
			x = &m[(*n)++];
			x->id = ids[i];
			x->flags = 0;
		} else if (x->flags & flag) {
			log_setreason("node %llu twice in conf state",
			    (unsigned long long)ids[i]);
			return -1;
		}
		x->flags |= flag;
	}
	return 0;
}

int
raftconf_restore(struct raftconf *c, const struct raft_conf_state *cs,
    uint64_t next)
{
	struct member *m;
	size_t n = 0, i, total;

	total = cs->n_voters + cs->n_voters_outgoing + cs->n_learners +
	    cs->n_learners_next;
	m = xreallocarray(NULL, total + 1, sizeof(*m));
	if (add_ids(m, &n, cs->voters, cs->n_voters, RAFTCONF_VOTER_IN) ||
	    add_ids(m, &n, cs->voters_outgoing, cs->n_voters_outgoing,
	    RAFTCONF_VOTER_OUT) ||
	    add_ids(m, &n, cs->learners, cs->n_learners, RAFTCONF_LEARNER) ||
	    add_ids(m, &n, cs->learners_next, cs->n_learners_next,
	    RAFTCONF_LEARNER_NEXT))
		goto bad;
	for (i = 0; i < n; i++) {
		uint8_t f = m[i].flags;

		if ((f & RAFTCONF_LEARNER) &&
		    (f & (RAFTCONF_VOTER_IN | RAFTCONF_VOTER_OUT))) {
			log_setreason("node %llu is a voter and a learner",
			    (unsigned long long)m[i].id);
			goto bad;
		}
		if ((f & RAFTCONF_LEARNER_NEXT) &&
		    ((f & RAFTCONF_VOTER_IN) || !(f & RAFTCONF_VOTER_OUT))) {
			log_setreason("learner_next %llu is not an outgoing "
			    "voter only", (unsigned long long)m[i].id);
			goto bad;
		}
	}
	if (cs->n_voters_outgoing == 0 && cs->n_learners_next != 0) {
		log_setreason("learners_next without a joint config");
		goto bad;
	}
	/* Every record restarts from scratch. */
	raftconf_release_inflights(c);
	c->n = 0;
	commit_members(c, m, n, next);
	for (i = 0; i < c->n; i++)
		raftconf_pr_reset(&c->prs[i], 0, next);
	c->joint = cs->n_voters_outgoing != 0;
	c->auto_leave = c->joint && cs->auto_leave;
	free(m);
	return 0;
bad:
	free(m);
	return RAFT_ERR_INVALID;
}

void
raftconf_conf_state(struct raftconf *c, struct raft_conf_state *cs)
{
	uint64_t *p;
	size_t i;

	free(c->cs_ids);
	c->cs_ids = xreallocarray(NULL, c->n * 2 + 1, sizeof(uint64_t));
	p = c->cs_ids;
	memset(cs, 0, sizeof(*cs));
	cs->voters = p;
	for (i = 0; i < c->n; i++)
		if (c->prs[i].flags & RAFTCONF_VOTER_IN)
			p[cs->n_voters++] = c->prs[i].id;
	p += cs->n_voters;
	cs->voters_outgoing = p;
	for (i = 0; i < c->n; i++)
		if (c->prs[i].flags & RAFTCONF_VOTER_OUT)
			p[cs->n_voters_outgoing++] = c->prs[i].id;
	p += cs->n_voters_outgoing;
	cs->learners = p;
	for (i = 0; i < c->n; i++)
		if (c->prs[i].flags & RAFTCONF_LEARNER)
			p[cs->n_learners++] = c->prs[i].id;
	p += cs->n_learners;
	cs->learners_next = p;
	for (i = 0; i < c->n; i++)
		if (c->prs[i].flags & RAFTCONF_LEARNER_NEXT)
			p[cs->n_learners_next++] = c->prs[i].id;
	cs->auto_leave = c->auto_leave;
}

/* Progress. */

static void
inflights_reset(struct raftconf_progress *pr)
{
	if (pr->ifl != NULL) {
		pr->ifl->start = 0;
		pr->ifl->count = 0;
		pr->ifl->bytes = 0;
	}
}

void
raftconf_pr_reset(struct raftconf_progress *pr, uint64_t match,
    uint64_t next)
{
	inflights_free(pr);
	pr->match = match;
	pr->next = next;
	pr->state = RAFT_PROGRESS_PROBE;
	pr->pending_snapshot = 0;
	pr->request_snapshot = 0;
	pr->probe_sent = 0;
	pr->vote = 0;
	pr->acked_seq = 0;
	pr->ack_tick = 0;
}

static void
reset_state(struct raftconf_progress *pr, int state)
{
	pr->probe_sent = 0;
	pr->pending_snapshot = 0;
	pr->state = state;
	inflights_reset(pr);
}

void
raftconf_pr_become_probe(struct raftconf_progress *pr)
{
	uint64_t ps;

	/* After a snapshot, probe from just past it. */
	if (pr->state == RAFT_PROGRESS_SNAPSHOT) {
		ps = pr->pending_snapshot;
		reset_state(pr, RAFT_PROGRESS_PROBE);
		pr->next = (pr->match + 1 > ps + 1) ? pr->match + 1 : ps + 1;
	} else {
		reset_state(pr, RAFT_PROGRESS_PROBE);
		pr->next = pr->match + 1;
	}
}

void
raftconf_pr_become_replicate(struct raftconf_progress *pr)
{
	reset_state(pr, RAFT_PROGRESS_REPLICATE);
	pr->next = pr->match + 1;
}

void
raftconf_pr_become_snapshot(struct raftconf_progress *pr, uint64_t snapi)
{
	reset_state(pr, RAFT_PROGRESS_SNAPSHOT);
	pr->pending_snapshot = snapi;
	pr->request_snapshot = 0;
}

int
raftconf_pr_maybe_update(struct raftconf_progress *pr, uint64_t n)
{
	int updated = 0;

	if (pr->match < n) {
		pr->match = n;
		updated = 1;
		pr->probe_sent = 0;
	}
	if (pr->next < n + 1)
		pr->next = n + 1;
	return updated;
}

void
raftconf_pr_optimistic_update(struct raftconf_progress *pr, uint64_t n)
{
	pr->next = n + 1;
}

int
raftconf_pr_maybe_decr_to(struct raftconf_progress *pr, uint64_t rejected,
    uint64_t match_hint)
{
	if (pr->state == RAFT_PROGRESS_REPLICATE) {
		/* Stale unless it rejects what we sent past match. */
		if (rejected <= pr->match)
			return 0;
		pr->next = pr->match + 1;
		return 1;
	}
	/* Probing: only the last probe's rejection counts. */
	if (pr->next == 0 || pr->next - 1 != rejected)
		return 0;
	pr->next = match_hint + 1 < rejected ? match_hint + 1 : rejected;
	if (pr->next < pr->match + 1)
		pr->next = pr->match + 1;
	pr->probe_sent = 0;
	return 1;
}

static int
inflights_full(const struct raftconf *c, const struct raftconf_progress *pr)
{
	if (pr->ifl == NULL)
		return 0;
	if (pr->ifl->count >= c->max_inflight)
		return 1;
	return c->max_inflight_bytes != 0 &&
	    pr->ifl->bytes >= c->max_inflight_bytes;
}

int
raftconf_pr_is_paused(const struct raftconf *c,
    const struct raftconf_progress *pr)
{
	switch (pr->state) {
	case RAFT_PROGRESS_PROBE:
		return pr->probe_sent;
	case RAFT_PROGRESS_REPLICATE:
		return inflights_full(c, pr);
	default:
		return 1;
	}
}

void
raftconf_pr_inflight_add(struct raftconf *c, struct raftconf_progress *pr,
    uint64_t index, uint64_t bytes)
{
	struct raftconf_inflights *f;
	struct inflight *nr;
	size_t ncap, i, pos;

	if (pr->ifl == NULL)
		pr->ifl = xcalloc(1, sizeof(*pr->ifl));
	f = pr->ifl;
	if (f->count == f->cap) {
		/* Grow the ring lazily; unwrap it while copying. */
		ncap = f->cap ? f->cap * 2 : 4;
		if (ncap > c->max_inflight && c->max_inflight > f->count)
			ncap = c->max_inflight;
		if (ncap <= f->count)
			ncap = f->count + 1;
		nr = xreallocarray(NULL, ncap, sizeof(*nr));
		for (i = 0; i < f->count; i++)
			nr[i] = f->ring[(f->start + i) % f->cap];
		free(f->ring);
		f->ring = nr;
		f->cap = ncap;
		f->start = 0;
	}
	pos = (f->start + f->count) % f->cap;
	f->ring[pos].index = index;
	f->ring[pos].bytes = bytes;
	f->count++;
	f->bytes += bytes;
}

void
raftconf_pr_inflight_free_le(struct raftconf_progress *pr, uint64_t index)
{
	struct raftconf_inflights *f = pr->ifl;

	if (f == NULL)
		return;
	while (f->count > 0 && f->ring[f->start].index <= index) {
		f->bytes -= f->ring[f->start].bytes;
		f->start = (f->start + 1) % f->cap;
		f->count--;
	}
	if (f->count == 0)
		f->start = 0;
}

void
raftconf_pr_inflight_free_first(struct raftconf_progress *pr)
{
	struct raftconf_inflights *f = pr->ifl;

	if (f == NULL || f->count == 0)
		return;
	raftconf_pr_inflight_free_le(pr, f->ring[f->start].index);
}

size_t
raftconf_pr_inflight_count(const struct raftconf_progress *pr)
{
	return pr->ifl ? pr->ifl->count : 0;
}
