/*
 * The Raft state machine: roles, terms and votes, elections (PreVote,
 * CheckQuorum), replication and commit, leader transfer, reads, snapshot
 * install, membership changes, and the ready/advance handshake.  The log
 * is in raftlog.c, membership and flow control in raftconf.c.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "raft.h"
#include "raftconf.h"
#include "raftents.h"
#include "raftlog.h"
#include "raftwire.h"
#include "xmalloc.h"

/* What an outgoing message owns (released after the ready). */
struct msgown {
	struct raftents ents;
	uint8_t *ctx;
	struct raft_snapshot *snap;
};

/* A ReadIndex request waiting for its heartbeat round. */
struct readreq {
	uint64_t seq;		/* the round that confirms it */
	uint64_t index;
	uint64_t from;		/* RAFT_NONE: local */
	uint8_t *ctx;
	size_t len;
};

/* Heartbeat rounds whose send tick is remembered (for the lease). */
#define ROUNDS	8

enum campaign_type {
	CAMPAIGN_PRE_ELECTION,
	CAMPAIGN_ELECTION,
	CAMPAIGN_TRANSFER
};

struct raft {
	uint64_t id;
	uint64_t term;
	uint64_t vote;
	uint64_t lead;
	uint64_t lead_transferee;
	uint64_t pending_conf_index;
	uint64_t uncommitted_size;
	uint64_t request_snapshot;	/* follower: asked the leader */
	uint64_t rng;
	uint64_t hb_seq;		/* heartbeat rounds sent */
	uint64_t ticks;			/* leader: ticks in office, from 1 */
	uint64_t round_tick[ROUNDS];	/* send tick of recent rounds */

	struct raftlog *log;
	struct raftconf *conf;

	uint64_t max_msg_size;
	uint64_t max_committed_size;
	uint64_t max_uncommitted_size;
	uint64_t max_entry_size;
	int election_timeout;
	int heartbeat_timeout;
	int randomized_timeout;
	int election_elapsed;
	int heartbeat_elapsed;
	uint8_t role;
	uint8_t check_quorum;
	uint8_t pre_vote;
	uint8_t read_only;
	uint8_t no_forwarding;
	uint8_t is_learner;
	uint8_t lease_off;		/* a TimeoutNow was sent this term */
	uint8_t boot_lease;		/* just started: may be in a lease */
	uint8_t leaving;		/* leader: its log takes its vote */

	/* Outbox. */
	struct raft_msg *msgs;
	struct msgown *own;
	size_t nmsgs;
	size_t capmsgs;

	/* Pending ReadIndex requests (leader) and answered reads. */
	struct readreq *reads;
	size_t nreads;
	struct raft_read_state *rs;
	size_t nrs;

	/* What the last ready handed out (released by advance). */
	struct raftents rd_committed;
	struct raft_msg *rd_msgs;
	struct msgown *rd_own;
	size_t rd_nmsgs;
	struct raft_read_state *rd_rs;
	size_t rd_nrs;
	uint64_t prev_lead;
	int prev_role;
	struct raft_hard_state prev_hs;
};

static void become_follower(struct raft *, uint64_t term, uint64_t lead);
static int maybe_send_append(struct raft *, struct raftconf_progress *,
    int send_if_empty);
static void campaign(struct raft *, int type);
static void update_leaving(struct raft *);

/* splitmix64: the caller's seed makes every run repeatable. */
static uint64_t
rng_next(struct raft *r)
{
	uint64_t z;

	r->rng += 0x9e3779b97f4a7c15ULL;
	z = r->rng;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
reset_randomized_timeout(struct raft *r)
{
	r->randomized_timeout = r->election_timeout +
	    (int)(rng_next(r) % (uint64_t)r->election_timeout);
}

/* Outbox. */

static struct raft_msg *
msg_new(struct raft *r, int type, uint64_t to)
{
	struct raft_msg *m;

	if (r->nmsgs == r->capmsgs) {
		r->capmsgs = r->capmsgs ? r->capmsgs * 2 : 4;
		r->msgs = xreallocarray(r->msgs, r->capmsgs, sizeof(*r->msgs));
		r->own = xreallocarray(r->own, r->capmsgs, sizeof(*r->own));
	}
	m = &r->msgs[r->nmsgs];
	memset(m, 0, sizeof(*m));
	memset(&r->own[r->nmsgs], 0, sizeof(r->own[0]));
	r->nmsgs++;
	m->type = type;
	m->to = to;
	m->from = r->id;
	m->term = r->term;
	return m;
}

static struct msgown *
msg_own(struct raft *r, struct raft_msg *m)
{
	return &r->own[m - r->msgs];
}

static void
msg_set_ctx(struct raft *r, struct raft_msg *m, const void *ctx, size_t len)
{
	struct msgown *o = msg_own(r, m);

	if (len == 0)
		return;
	o->ctx = xmemdup(ctx, len);
	m->context = o->ctx;
	m->context_len = len;
}

static void
msg_set_ents(struct raft *r, struct raft_msg *m, struct raftents *ents)
{
	struct msgown *o = msg_own(r, m);

	o->ents = *ents;
	memset(ents, 0, sizeof(*ents));
	m->entries = o->ents.v;
	m->n_entries = o->ents.n;
}

static void
msgs_free(struct raft_msg *msgs, struct msgown *own, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		raftents_free(&own[i].ents);
		free(own[i].ctx);
		free(own[i].snap);
	}
	free(msgs);
	free(own);
}

/* Reads. */

static void
reads_clear(struct raft *r)
{
	size_t i;

	for (i = 0; i < r->nreads; i++) {
		free(r->reads[i].ctx);
	}
	free(r->reads);
	r->reads = NULL;
	r->nreads = 0;
}

static void
read_state_add(struct raft *r, uint64_t index, const void *ctx, size_t len)
{
	struct raft_read_state *s;

	r->rs = xreallocarray(r->rs, r->nrs + 1, sizeof(*r->rs));
	s = &r->rs[r->nrs++];
	s->index = index;
	s->ctx = len ? xmemdup(ctx, len) : NULL;
	s->len = len;
}

static void
read_states_free(struct raft_read_state *rs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((void *)rs[i].ctx);
	free(rs);
}

/* Answer a read at index: locally, or to the follower that asked. */
static void
read_respond(struct raft *r, uint64_t from, uint64_t index, const void *ctx,
    size_t len)
{
	struct raft_msg *m;

	if (from == RAFT_NONE || from == r->id) {
		read_state_add(r, index, ctx, len);
		return;
	}
	m = msg_new(r, RAFT_MSG_READ_INDEX_RESP, from);
	m->index = index;
	msg_set_ctx(r, m, ctx, len);
}

/* State changes. */

static void
abort_leader_transfer(struct raft *r)
{
	r->lead_transferee = RAFT_NONE;
}

static void
reset(struct raft *r, uint64_t term)
{
	uint64_t last = raftlog_last_index(r->log);
	struct raftconf_progress *pr;
	size_t i;

	if (r->term != term) {
		r->term = term;
		r->vote = RAFT_NONE;
	}
	r->lead = RAFT_NONE;
	r->election_elapsed = 0;
	r->heartbeat_elapsed = 0;
	reset_randomized_timeout(r);
	abort_leader_transfer(r);
	for (i = 0; i < raftconf_count(r->conf); i++) {
		pr = raftconf_at(r->conf, i);
		raftconf_pr_reset(pr, pr->id == r->id ? last : 0, last + 1);
	}
	r->pending_conf_index = 0;
	r->uncommitted_size = 0;
	r->leaving = 0;
	reads_clear(r);
}

static void
become_follower(struct raft *r, uint64_t term, uint64_t lead)
{
	reset(r, term);
	r->lead = lead;
	r->role = RAFT_FOLLOWER;
}

static void
become_candidate(struct raft *r)
{
	reset(r, r->term + 1);
	r->vote = r->id;
	r->role = RAFT_CANDIDATE;
}

static void
become_pre_candidate(struct raft *r)
{
	/* Neither the term nor the vote change: a pre-election is only a
	 * question. */
	raftconf_reset_votes(r->conf);
	r->lead = RAFT_NONE;
	r->role = RAFT_PRECANDIDATE;
}

static int
append_entries(struct raft *r, struct raft_entry *es, size_t n)
{
	struct raftconf_progress *self;
	uint64_t li = raftlog_last_index(r->log), size = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		es[i].term = r->term;
		es[i].index = li + 1 + i;
		size += raftents_size(&es[i]);
	}
	if (r->max_uncommitted_size != 0 && r->uncommitted_size > 0 &&
	    size > 0 && r->uncommitted_size + size > r->max_uncommitted_size) {
		log_setreason("uncommitted log over %llu bytes",
		    (unsigned long long)r->max_uncommitted_size);
		return RAFT_ERR_DROPPED;
	}
	r->uncommitted_size += size;
	li = raftlog_append(r->log, es, n);
	self = raftconf_get(r->conf, r->id);
	if (self != NULL)
		raftconf_pr_maybe_update(self, li);
	return 0;
}

static int
maybe_commit(struct raft *r)
{
	return raftlog_maybe_commit(r->log, raftconf_committed(r->conf),
	    r->term);
}

static void
become_leader(struct raft *r)
{
	struct raftconf_progress *self;
	struct raft_entry e;

	reset(r, r->term);
	r->lead = r->id;
	r->role = RAFT_LEADER;
	/* There is no one to ask for a snapshot any more. */
	r->request_snapshot = 0;
	r->ticks = 1;
	r->lease_off = 0;
	memset(r->round_tick, 0, sizeof(r->round_tick));
	self = raftconf_get(r->conf, r->id);
	if (self != NULL)
		raftconf_pr_become_replicate(self);
	/* Conservatively assume the tail may hold a conf change. */
	r->pending_conf_index = raftlog_last_index(r->log);
	memset(&e, 0, sizeof(e));
	append_entries(r, &e, 1);
	update_leaving(r);
	maybe_commit(r);
}

static void
bcast_append(struct raft *r)
{
	struct raftconf_progress *pr;
	size_t i;

	for (i = 0; i < raftconf_count(r->conf); i++) {
		pr = raftconf_at(r->conf, i);
		if (pr->id != r->id)
			maybe_send_append(r, pr, 1);
	}
}

static void
send_heartbeat(struct raft *r, struct raftconf_progress *pr,
    const uint8_t *ctx, size_t len)
{
	struct raft_msg *m;
	uint64_t c = raftlog_committed(r->log);

	m = msg_new(r, RAFT_MSG_HEARTBEAT, pr->id);
	m->commit = pr->match < c ? pr->match : c;
	msg_set_ctx(r, m, ctx, len);
}

/*
 * A heartbeat round: every heartbeat carries the round number, which
 * followers echo.  An echo of round k confirms leadership as of k (for
 * ReadIndex) and, with the round's send tick, feeds the lease.
 */
static uint64_t
bcast_heartbeat(struct raft *r)
{
	struct raftconf_progress *pr;
	uint8_t ctx[8];
	uint64_t seq;
	size_t i;

	seq = ++r->hb_seq;
	r->round_tick[seq % ROUNDS] = r->ticks;
	for (i = 0; i < 8; i++)
		ctx[i] = (uint8_t)(seq >> (56 - 8 * i));
	for (i = 0; i < raftconf_count(r->conf); i++) {
		pr = raftconf_at(r->conf, i);
		if (pr->id != r->id)
			send_heartbeat(r, pr, ctx, sizeof(ctx));
	}
	return seq;
}

static void
send_timeout_now(struct raft *r, uint64_t to)
{
	/* The transferee's campaign overrides the voters' leases, so this
	 * leader's lease is void for the rest of its term. */
	r->lease_off = 1;
	msg_new(r, RAFT_MSG_TIMEOUT_NOW, to);
}

static int
send_snapshot(struct raft *r, struct raftconf_progress *pr)
{
	struct raft_snapshot snap;
	struct raft_msg *m;
	struct msgown *o;

	if (!pr->recent_active)
		return 0;
	if (raftlog_snapshot(r->log, pr->request_snapshot, &snap) != 0)
		return 0;
	if (snap.meta.index == 0)
		return 0;
	m = msg_new(r, RAFT_MSG_SNAPSHOT, pr->id);
	o = msg_own(r, m);
	o->snap = raftlog_snapshot_dup(&snap);
	m->snapshot = o->snap;
	raftconf_pr_become_snapshot(pr, snap.meta.index);
	return 1;
}

static int
maybe_send_append(struct raft *r, struct raftconf_progress *pr,
    int send_if_empty)
{
	struct raftents ents = { 0 };
	struct raft_msg *m;
	uint64_t term, last;

	if (raftconf_pr_is_paused(r->conf, pr))
		return 0;
	/*
	 * The follower asked for a snapshot.  Until this node has applied
	 * up to the index asked for (a new leader may not even have
	 * committed it yet) or storage has one ready, go on replicating:
	 * the follower still acknowledges entries, and this leader may
	 * need it to commit.
	 */
	if (pr->request_snapshot != 0 &&
	    raftlog_applied(r->log) >= pr->request_snapshot &&
	    send_snapshot(r, pr))
		return 1;
	if (raftlog_term(r->log, pr->next - 1, &term) != 0)
		return send_snapshot(r, pr);
	if (raftlog_entries(r->log, pr->next, raftlog_last_index(r->log) + 1,
	    r->max_msg_size, &ents) != 0) {
		raftents_free(&ents);
		return send_snapshot(r, pr);
	}
	if (ents.n == 0 && !send_if_empty) {
		raftents_free(&ents);
		return 0;
	}
	m = msg_new(r, RAFT_MSG_APPEND, pr->id);
	m->index = pr->next - 1;
	m->log_term = term;
	m->commit = raftlog_committed(r->log);
	if (ents.n > 0) {
		last = ents.v[ents.n - 1].index;
		switch (pr->state) {
		case RAFT_PROGRESS_REPLICATE:
			raftconf_pr_optimistic_update(pr, last);
			raftconf_pr_inflight_add(r->conf, pr, last, ents.bytes);
			break;
		case RAFT_PROGRESS_PROBE:
			pr->probe_sent = 1;
			break;
		}
	}
	msg_set_ents(r, m, &ents);
	return 1;
}

/* Elections. */

static int
promotable(const struct raft *r)
{
	struct raftconf_progress *pr = raftconf_get(r->conf, r->id);

	return pr != NULL && !(pr->flags & RAFTCONF_LEARNER) &&
	    raftlog_unstable_snapshot(r->log) == NULL;
}

static int
poll(struct raft *r, uint64_t from, int granted)
{
	struct raftconf_progress *pr = raftconf_get(r->conf, from);

	if (pr != NULL && pr->vote == 0)
		pr->vote = granted ? 1 : -1;
	return raftconf_vote_result(r->conf);
}

static void
campaign(struct raft *r, int type)
{
	struct raftconf_progress *pr;
	struct raft_msg *m;
	uint64_t term, li, lt;
	int vtype;
	size_t i;

	if (!promotable(r))
		return;
	if (type == CAMPAIGN_PRE_ELECTION) {
		become_pre_candidate(r);
		vtype = RAFT_MSG_PREVOTE;
		term = r->term + 1;
	} else {
		become_candidate(r);
		vtype = RAFT_MSG_VOTE;
		term = r->term;
	}
	if (poll(r, r->id, 1) == RAFTCONF_WON) {
		/* A one-voter group wins at once. */
		if (type == CAMPAIGN_PRE_ELECTION)
			campaign(r, CAMPAIGN_ELECTION);
		else
			become_leader(r);
		return;
	}
	li = raftlog_last_index(r->log);
	lt = raftlog_last_term(r->log);
	for (i = 0; i < raftconf_count(r->conf); i++) {
		pr = raftconf_at(r->conf, i);
		if (pr->id == r->id || !raftconf_is_voter(pr))
			continue;
		m = msg_new(r, vtype, pr->id);
		m->term = term;
		m->index = li;
		m->log_term = lt;
		if (type == CAMPAIGN_TRANSFER)
			msg_set_ctx(r, m, RAFT_CTX_TRANSFER,
			    sizeof(RAFT_CTX_TRANSFER) - 1);
	}
}

/* Whether committed but unapplied entries hold a conf change. */
static int
unapplied_conf_change(struct raft *r)
{
	struct raftents ents = { 0 };
	uint64_t lo = raftlog_applied(r->log) + 1;
	uint64_t hi = raftlog_committed(r->log) + 1;
	size_t i;
	int found = 0;

	if (lo >= hi)
		return 0;
	if (raftlog_entries(r->log, lo, hi, UINT64_MAX, &ents) != 0) {
		raftents_free(&ents);
		return 1;
	}
	for (i = 0; i < ents.n && !found; i++)
		if (ents.v[i].type == RAFT_ENTRY_CONF_CHANGE)
			found = 1;
	raftents_free(&ents);
	return found;
}

/*
 * Whether the conf changes in this leader's log that it has not applied
 * take its vote away (remove it, or make it a learner), worked out on a
 * copy of the membership.  Changes the caller already applied but not
 * yet reported do not apply twice: they fail on the copy and are
 * skipped, and one that took the vote would have deposed this leader.
 */
static int
log_takes_vote(struct raft *r)
{
	struct raftents ents = { 0 };
	struct raft_conf_state cs;
	struct raft_conf_change cc;
	struct raftconf *nc = NULL;
	struct raftconf_progress *pr;
	uint64_t lo = raftlog_applied(r->log) + 1;
	uint64_t hi = raftlog_last_index(r->log) + 1;
	size_t i;
	int gone = 0;

	while (lo < hi && !gone) {
		raftents_clear(&ents);
		if (raftlog_entries(r->log, lo, hi, 1024 * 1024, &ents) != 0 ||
		    ents.n == 0)
			break;
		for (i = 0; i < ents.n && !gone; i++) {
			if (ents.v[i].type != RAFT_ENTRY_CONF_CHANGE ||
			    raftwire_decode_conf_change(ents.v[i].data,
			    ents.v[i].len, &cc) != 0)
				continue;
			if (nc == NULL) {
				nc = raftconf_new(1, 0);
				raftconf_conf_state(r->conf, &cs);
				raftconf_restore(nc, &cs, 1);
			}
			if (raftconf_apply_change(nc, &cc, 1) == 0) {
				pr = raftconf_get(nc, r->id);
				gone = pr == NULL || !raftconf_is_voter(pr);
			}
			raftwire_conf_change_free(&cc);
		}
		lo = ents.v[ents.n - 1].index + 1;
	}
	raftents_free(&ents);
	raftconf_free(nc);
	return gone;
}

/*
 * A leader whose log holds a conf change taking its vote stops taking
 * proposals, so that when it applies the change and steps down, its log
 * ends with committed entries only.  A quorum of the new voters then
 * holds all of it, so the leader (now a learner, or removed) grants them
 * its vote: they may still need it, in a joint config or in the old
 * config when they have not learned the commit index, and it can no
 * longer campaign itself.  With a longer log it would refuse them, and
 * the group could never elect again.
 */
static void
update_leaving(struct raft *r)
{
	if (r->role == RAFT_LEADER && !r->leaving)
		r->leaving = log_takes_vote(r);
}

static int
hup(struct raft *r, int type)
{
	if (r->role == RAFT_LEADER)
		return 0;
	if (!promotable(r)) {
		log_setreason("node %llu cannot campaign",
		    (unsigned long long)r->id);
		return RAFT_ERR_REFUSED;
	}
	if (unapplied_conf_change(r)) {
		log_setreason("cannot campaign with an unapplied conf change");
		return RAFT_ERR_REFUSED;
	}
	if (type == CAMPAIGN_ELECTION && r->pre_vote)
		type = CAMPAIGN_PRE_ELECTION;
	campaign(r, type);
	return 0;
}

/* Ticks. */

static void
tick_election(struct raft *r)
{
	/* A learner or removed node ticks forever: do not overflow. */
	if (r->election_elapsed < 2 * r->randomized_timeout)
		r->election_elapsed++;
	if (r->election_elapsed >= r->election_timeout)
		r->boot_lease = 0;
	if (promotable(r) && r->election_elapsed >= r->randomized_timeout) {
		r->election_elapsed = 0;
		hup(r, CAMPAIGN_ELECTION);
	}
}

static void
tick_heartbeat(struct raft *r)
{
	r->heartbeat_elapsed++;
	r->election_elapsed++;
	r->ticks++;
	if (r->election_elapsed >= r->election_timeout) {
		r->election_elapsed = 0;
		if (r->check_quorum &&
		    !raftconf_quorum_active(r->conf, r->id)) {
			become_follower(r, r->term, RAFT_NONE);
			return;
		}
		/* A transfer that did not finish in an election timeout
		 * is abandoned. */
		if (r->lead_transferee != RAFT_NONE)
			abort_leader_transfer(r);
	}
	if (r->heartbeat_elapsed >= r->heartbeat_timeout) {
		r->heartbeat_elapsed = 0;
		bcast_heartbeat(r);
	}
}

void
raft_tick(struct raft *r)
{
	if (r->role == RAFT_LEADER)
		tick_heartbeat(r);
	else
		tick_election(r);
}

/* Proposals. */

static int
check_conf_entry(struct raft *r, const struct raft_entry *e)
{
	struct raft_conf_change cc;
	int rc;

	if (r->pending_conf_index > raftlog_applied(r->log)) {
		log_setreason("conf change %llu is not applied yet "
		    "(applied %llu)",
		    (unsigned long long)r->pending_conf_index,
		    (unsigned long long)raftlog_applied(r->log));
		return RAFT_ERR_CONF_PENDING;
	}
	if (raftwire_decode_conf_change(e->data, e->len, &cc) != 0)
		return RAFT_ERR_INVALID;
	rc = raftconf_check_change(r->conf, &cc);
	raftwire_conf_change_free(&cc);
	return rc;
}

/*
 * A leader takes entries (their term and index are assigned here); a
 * follower forwards them.
 */
static int
propose(struct raft *r, struct raft_entry *es, size_t n, uint64_t *index)
{
	struct raftents fwd = { 0 };
	struct raft_msg *m;
	size_t i, nconf = 0;
	int rc;

	if (index != NULL)
		*index = 0;
	for (i = 0; i < n; i++) {
		if (es[i].len > r->max_entry_size) {
			log_setreason("entry of %zu bytes over the limit of "
			    "%llu", es[i].len,
			    (unsigned long long)r->max_entry_size);
			return RAFT_ERR_TOO_LARGE;
		}
		if (es[i].type != RAFT_ENTRY_NORMAL &&
		    es[i].type != RAFT_ENTRY_CONF_CHANGE) {
			log_setreason("unknown entry type %d", es[i].type);
			return RAFT_ERR_INVALID;
		}
	}
	switch (r->role) {
	case RAFT_LEADER:
		break;
	case RAFT_FOLLOWER:
		if (r->lead == RAFT_NONE) {
			log_setreason("no leader");
			return RAFT_ERR_DROPPED;
		}
		if (r->no_forwarding) {
			log_setreason("not leader and forwarding disabled");
			return RAFT_ERR_DROPPED;
		}
		m = msg_new(r, RAFT_MSG_PROPOSE, r->lead);
		m->term = 0;
		for (i = 0; i < n; i++)
			raftents_add(&fwd, &es[i]);
		msg_set_ents(r, m, &fwd);
		return 0;
	default:
		log_setreason("no leader (campaigning)");
		return RAFT_ERR_DROPPED;
	}
	if (raftconf_get(r->conf, r->id) == NULL) {
		log_setreason("leader was removed from the group");
		return RAFT_ERR_DROPPED;
	}
	if (r->lead_transferee != RAFT_NONE) {
		log_setreason("leadership transfer to %llu in progress",
		    (unsigned long long)r->lead_transferee);
		return RAFT_ERR_DROPPED;
	}
	if (r->leaving) {
		log_setreason("leader is giving up its vote by a conf change "
		    "in its log");
		return RAFT_ERR_DROPPED;
	}
	for (i = 0; i < n; i++) {
		if (es[i].type != RAFT_ENTRY_CONF_CHANGE)
			continue;
		if (++nconf > 1) {
			log_setreason("two conf changes in one proposal");
			return RAFT_ERR_CONF_PENDING;
		}
		if ((rc = check_conf_entry(r, &es[i])) != 0)
			return rc;
	}
	if ((rc = append_entries(r, es, n)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if (es[i].type == RAFT_ENTRY_CONF_CHANGE)
			r->pending_conf_index = es[i].index;
	if (nconf > 0)
		update_leaving(r);
	if (index != NULL)
		*index = es[n - 1].index;
	maybe_commit(r);
	bcast_append(r);
	return 0;
}

int
raft_propose(struct raft *r, const void *data, size_t len, uint64_t *index)
{
	struct raft_entry e;

	memset(&e, 0, sizeof(e));
	e.type = RAFT_ENTRY_NORMAL;
	e.data = data;
	e.len = len;
	return propose(r, &e, 1, index);
}

int
raft_propose_conf_change(struct raft *r, const struct raft_conf_change *cc,
    uint64_t *index)
{
	struct buf b = BUF_INIT;
	struct raft_entry e;
	int rc;

	if (index != NULL)
		*index = 0;
	if (r->role == RAFT_LEADER) {
		/* Refuse early, with the reason, rather than forward. */
		if (r->pending_conf_index > raftlog_applied(r->log)) {
			log_setreason("conf change %llu is not applied yet",
			    (unsigned long long)r->pending_conf_index);
			return RAFT_ERR_CONF_PENDING;
		}
		if ((rc = raftconf_check_change(r->conf, cc)) != 0)
			return rc;
	}
	raftwire_encode_conf_change(&b, cc);
	memset(&e, 0, sizeof(e));
	e.type = RAFT_ENTRY_CONF_CHANGE;
	e.data = b.data;
	e.len = b.len;
	rc = propose(r, &e, 1, index);
	buf_free(&b);
	return rc;
}

/* Leader-side handling. */

static int
committed_in_term(const struct raft *r)
{
	return raftlog_term_or0(r->log, raftlog_committed(r->log)) == r->term;
}

static int
acked_round(void *arg, uint64_t id)
{
	struct raft *r = ((void **)arg)[0];
	uint64_t seq = *(uint64_t *)((void **)arg)[1];
	struct raftconf_progress *pr;

	if (id == r->id)
		return 1;
	pr = raftconf_get(r->conf, id);
	return pr != NULL && pr->acked_seq >= seq ? 1 : -1;
}

static int
round_confirmed(struct raft *r, uint64_t seq)
{
	void *arg[2] = { r, &seq };

	return raftconf_poll(r->conf, acked_round, arg) == RAFTCONF_WON;
}

static int
fresh_ack(void *arg, uint64_t id)
{
	struct raft *r = arg;
	struct raftconf_progress *pr;
	uint64_t lease;

	if (id == r->id)
		return 1;
	pr = raftconf_get(r->conf, id);
	/* Strictly shorter than the election timeout, for clock drift. */
	lease = (uint64_t)(r->election_timeout -
	    (r->election_timeout / 10 > 1 ? r->election_timeout / 10 : 1));
	return pr != NULL && pr->ack_tick != 0 &&
	    r->ticks - pr->ack_tick < lease ? 1 : -1;
}

/*
 * The lease: a quorum echoed a heartbeat round sent less than the lease
 * ago.  Each of them then refuses votes (CheckQuorum) for an election
 * timeout after the round was sent, so no other leader can exist yet.
 */
static int
lease_valid(struct raft *r)
{
	if (!r->check_quorum || r->lease_off ||
	    r->lead_transferee != RAFT_NONE)
		return 0;
	return raftconf_poll(r->conf, fresh_ack, r) == RAFTCONF_WON;
}

static int
leader_read_index(struct raft *r, uint64_t from, const void *ctx,
    size_t len)
{
	struct readreq *q;

	if (raftconf_single_voter(r->conf, r->id)) {
		read_respond(r, from, raftlog_committed(r->log), ctx, len);
		return 0;
	}
	/* Until an entry of its term commits, a new leader does not know
	 * the commit index of its predecessor. */
	if (!committed_in_term(r)) {
		log_setreason("leader has not committed in its term yet");
		return RAFT_ERR_DROPPED;
	}
	if (r->read_only == RAFT_READ_LEASE_BASED && lease_valid(r)) {
		read_respond(r, from, raftlog_committed(r->log), ctx, len);
		return 0;
	}
	r->reads = xreallocarray(r->reads, r->nreads + 1, sizeof(*r->reads));
	q = &r->reads[r->nreads++];
	memset(q, 0, sizeof(*q));
	q->index = raftlog_committed(r->log);
	q->from = from;
	q->ctx = len ? xmemdup(ctx, len) : NULL;
	q->len = len;
	q->seq = bcast_heartbeat(r);
	return 0;
}

/* A follower echoed heartbeat round ctx. */
static void
round_ack(struct raft *r, struct raftconf_progress *pr, const uint8_t *ctx,
    size_t len)
{
	struct readreq *q;
	uint64_t seq = 0, t;
	size_t i, done;

	if (len != 8)
		return;
	for (i = 0; i < 8; i++)
		seq = seq << 8 | ctx[i];
	if (seq == 0 || seq > r->hb_seq)
		return;
	if (seq > pr->acked_seq)
		pr->acked_seq = seq;
	if (r->hb_seq - seq < ROUNDS) {
		t = r->round_tick[seq % ROUNDS];
		if (t > pr->ack_tick)
			pr->ack_tick = t;
	}
	/* Requests are in round order: confirm the leading ones. */
	for (done = 0; done < r->nreads; done++)
		if (!round_confirmed(r, r->reads[done].seq))
			break;
	for (i = 0; i < done; i++) {
		q = &r->reads[i];
		read_respond(r, q->from, q->index, q->ctx, q->len);
		free(q->ctx);
	}
	if (done == 0)
		return;
	memmove(r->reads, r->reads + done,
	    (r->nreads - done) * sizeof(*r->reads));
	r->nreads -= done;
	if (r->nreads == 0) {
		free(r->reads);
		r->reads = NULL;
	}
}

static int
leader_transfer(struct raft *r, uint64_t to)
{
	struct raftconf_progress *pr = raftconf_get(r->conf, to);

	if (pr == NULL) {
		log_setreason("transferee %llu is not a member",
		    (unsigned long long)to);
		return RAFT_ERR_REFUSED;
	}
	if (!raftconf_is_voter(pr)) {
		log_setreason("transferee %llu is a learner",
		    (unsigned long long)to);
		return RAFT_ERR_REFUSED;
	}
	if (r->lead_transferee != RAFT_NONE) {
		if (r->lead_transferee == to)
			return 0;
		abort_leader_transfer(r);
	}
	if (to == r->id)
		return 0;
	/* The transfer must finish within one election timeout. */
	r->election_elapsed = 0;
	r->lead_transferee = to;
	if (pr->match == raftlog_last_index(r->log))
		send_timeout_now(r, to);
	else
		maybe_send_append(r, pr, 1);
	return 0;
}

static void
leader_append_resp(struct raft *r, struct raftconf_progress *pr,
    const struct raft_msg *m)
{
	uint64_t hint, t;
	int paused;

	pr->recent_active = 1;
	if (m->reject) {
		if (m->request_snapshot != 0) {
			pr->request_snapshot = m->request_snapshot;
			/* Not yet: replication goes on as it was (the
			 * follower repeats the request with every
			 * heartbeat response). */
			if (raftlog_applied(r->log) < pr->request_snapshot)
				return;
			if (pr->state == RAFT_PROGRESS_REPLICATE)
				raftconf_pr_become_probe(pr);
			if (pr->state != RAFT_PROGRESS_SNAPSHOT) {
				pr->probe_sent = 0;
				maybe_send_append(r, pr, 1);
			}
			return;
		}
		hint = m->reject_hint;
		if (m->log_term > 0)
			hint = raftlog_find_conflict_by_term(r->log,
			    m->reject_hint, m->log_term, &t);
		if (raftconf_pr_maybe_decr_to(pr, m->index, hint)) {
			if (pr->state == RAFT_PROGRESS_REPLICATE)
				raftconf_pr_become_probe(pr);
			maybe_send_append(r, pr, 1);
		}
		return;
	}
	paused = raftconf_pr_is_paused(r->conf, pr);
	/* An acknowledgement of what is already matched still ends a probe
	 * or a snapshot (e.g. one the follower asked for). */
	if (!raftconf_pr_maybe_update(pr, m->index) &&
	    !(pr->match == m->index && pr->state != RAFT_PROGRESS_REPLICATE))
		return;
	switch (pr->state) {
	case RAFT_PROGRESS_PROBE:
		raftconf_pr_become_replicate(pr);
		break;
	case RAFT_PROGRESS_SNAPSHOT:
		if (pr->match >= pr->pending_snapshot) {
			raftconf_pr_become_probe(pr);
			raftconf_pr_become_replicate(pr);
		}
		break;
	case RAFT_PROGRESS_REPLICATE:
		raftconf_pr_inflight_free_le(pr, m->index);
		break;
	}
	if (maybe_commit(r))
		bcast_append(r);
	else if (paused)
		maybe_send_append(r, pr, 1);
	while (maybe_send_append(r, pr, 0))
		;
	if (m->from == r->lead_transferee &&
	    pr->match == raftlog_last_index(r->log))
		send_timeout_now(r, m->from);
}

static int
step_leader(struct raft *r, const struct raft_msg *m)
{
	struct raftconf_progress *pr;
	struct raft_entry *es;
	size_t i;
	int rc;

	switch (m->type) {
	case RAFT_MSG_PROPOSE:
		if (m->n_entries == 0)
			return RAFT_ERR_INVALID;
		es = xreallocarray(NULL, m->n_entries, sizeof(*es));
		for (i = 0; i < m->n_entries; i++)
			es[i] = m->entries[i];
		rc = propose(r, es, m->n_entries, NULL);
		free(es);
		return rc;
	case RAFT_MSG_READ_INDEX:
		return leader_read_index(r, m->from, m->context,
		    m->context_len);
	case RAFT_MSG_TRANSFER_LEADER:
		return leader_transfer(r, m->index);
	}
	pr = raftconf_get(r->conf, m->from);
	if (pr == NULL)
		return 0;
	switch (m->type) {
	case RAFT_MSG_APPEND_RESP:
		leader_append_resp(r, pr, m);
		break;
	case RAFT_MSG_HEARTBEAT_RESP:
		pr->recent_active = 1;
		pr->probe_sent = 0;
		if (pr->state == RAFT_PROGRESS_REPLICATE &&
		    raftconf_pr_is_paused(r->conf, pr))
			raftconf_pr_inflight_free_first(pr);
		if (pr->match < raftlog_last_index(r->log) ||
		    pr->request_snapshot != 0)
			maybe_send_append(r, pr, 1);
		round_ack(r, pr, m->context, m->context_len);
		break;
	}
	return 0;
}

/* Follower-side handling. */

static void
send_append_resp(struct raft *r, uint64_t to, uint64_t index)
{
	struct raft_msg *m = msg_new(r, RAFT_MSG_APPEND_RESP, to);

	m->index = index;
}

static void
send_request_snapshot(struct raft *r)
{
	struct raft_msg *m = msg_new(r, RAFT_MSG_APPEND_RESP, r->lead);

	m->reject = 1;
	m->index = raftlog_committed(r->log);
	m->reject_hint = raftlog_last_index(r->log);
	m->request_snapshot = r->request_snapshot;
}

/*
 * The commit index a leader's message may raise this follower's to.
 * While a snapshot it asked for is pending, none: its state machine is
 * to be replaced, so it applies nothing more, and its commit index
 * stays at or below the index asked for, where the snapshot can land.
 * It still stores and acknowledges entries, since the leader may need
 * them to commit up to that index.
 */
static uint64_t
follower_commit(const struct raft *r, uint64_t leader_commit)
{
	if (r->request_snapshot != 0)
		return raftlog_committed(r->log);
	return leader_commit;
}

static void
handle_append(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg *resp;
	uint64_t lastnew, hint, hint_term;
	int rc;

	if (m->index < raftlog_committed(r->log)) {
		send_append_resp(r, m->from, raftlog_committed(r->log));
		return;
	}
	rc = raftlog_maybe_append(r->log, m->index, m->log_term,
	    follower_commit(r, m->commit), m->entries, m->n_entries,
	    &lastnew);
	if (rc > 0) {
		send_append_resp(r, m->from, lastnew);
		return;
	}
	if (rc < 0) {
		/* A leader tried to overwrite committed entries: ignore
		 * it rather than break the log. */
		log_warnx("raft %llu: %s", (unsigned long long)r->id,
		    log_reason());
		return;
	}
	/* Reject with a hint: our last index whose term is at most the
	 * leader's term at m->index, so the leader skips a whole term. */
	hint = m->index < raftlog_last_index(r->log) ? m->index :
	    raftlog_last_index(r->log);
	hint = raftlog_find_conflict_by_term(r->log, hint, m->log_term,
	    &hint_term);
	resp = msg_new(r, RAFT_MSG_APPEND_RESP, m->from);
	resp->index = m->index;
	resp->reject = 1;
	resp->reject_hint = hint;
	resp->log_term = hint_term;
}

static void
handle_heartbeat(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg *resp;

	raftlog_commit_to(r->log, follower_commit(r, m->commit));
	resp = msg_new(r, RAFT_MSG_HEARTBEAT_RESP, m->from);
	msg_set_ctx(r, resp, m->context, m->context_len);
	if (r->request_snapshot != 0)
		send_request_snapshot(r);
}

static int
conf_has(const struct raft_conf_state *cs, uint64_t id)
{
	size_t i;

	for (i = 0; i < cs->n_voters; i++)
		if (cs->voters[i] == id)
			return 1;
	for (i = 0; i < cs->n_voters_outgoing; i++)
		if (cs->voters_outgoing[i] == id)
			return 1;
	for (i = 0; i < cs->n_learners; i++)
		if (cs->learners[i] == id)
			return 1;
	for (i = 0; i < cs->n_learners_next; i++)
		if (cs->learners_next[i] == id)
			return 1;
	return 0;
}

static void
update_learner(struct raft *r)
{
	struct raftconf_progress *pr = raftconf_get(r->conf, r->id);

	r->is_learner = pr != NULL && (pr->flags & RAFTCONF_LEARNER);
}

static int
restore(struct raft *r, const struct raft_snapshot *s)
{
	struct raftconf *nc;

	/*
	 * A follower that asked for a snapshot takes one at its commit
	 * index too: its applied state is what it wants replaced.  Entries
	 * it holds beyond the snapshot stay when they follow a matching
	 * (index, term) (raftlog_restore): it may have acknowledged them.
	 */
	if (s->meta.index < raftlog_committed(r->log) ||
	    (s->meta.index == raftlog_committed(r->log) &&
	    r->request_snapshot == 0))
		return 0;
	if (!conf_has(&s->meta.conf_state, r->id))
		return 0;
	if (r->request_snapshot == 0 &&
	    raftlog_match_term(r->log, s->meta.index, s->meta.term)) {
		/* We have the snapshot's last entry: just commit. */
		raftlog_commit_to(r->log, s->meta.index);
		return 0;
	}
	/* Validate the membership before touching anything. */
	nc = raftconf_new(1, 0);
	if (raftconf_restore(nc, &s->meta.conf_state, 1) != 0) {
		raftconf_free(nc);
		log_warnx("raft %llu: snapshot with a bad conf state: %s",
		    (unsigned long long)r->id, log_reason());
		return 0;
	}
	raftconf_free(nc);
	if (raftlog_restore(r->log, s) != 0) {
		log_warnx("raft %llu: snapshot %llu not installed: %s",
		    (unsigned long long)r->id,
		    (unsigned long long)s->meta.index, log_reason());
		return 0;
	}
	raftconf_restore(r->conf, &s->meta.conf_state, s->meta.index + 1);
	update_learner(r);
	if (r->request_snapshot != 0 && s->meta.index >= r->request_snapshot)
		r->request_snapshot = 0;
	return 1;
}

static void
handle_snapshot(struct raft *r, const struct raft_msg *m)
{
	if (restore(r, m->snapshot))
		send_append_resp(r, m->from, raftlog_last_index(r->log));
	else
		send_append_resp(r, m->from, raftlog_committed(r->log));
}

static int
step_follower(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg *f;
	struct raftents ents = { 0 };
	size_t i;

	switch (m->type) {
	case RAFT_MSG_PROPOSE:
		if (r->lead == RAFT_NONE || r->no_forwarding) {
			log_setreason("no leader to forward to");
			return RAFT_ERR_DROPPED;
		}
		f = msg_new(r, RAFT_MSG_PROPOSE, r->lead);
		f->term = 0;
		for (i = 0; i < m->n_entries; i++)
			raftents_add(&ents, &m->entries[i]);
		msg_set_ents(r, f, &ents);
		break;
	case RAFT_MSG_APPEND:
		r->election_elapsed = 0;
		r->lead = m->from;
		handle_append(r, m);
		break;
	case RAFT_MSG_HEARTBEAT:
		r->election_elapsed = 0;
		r->lead = m->from;
		handle_heartbeat(r, m);
		break;
	case RAFT_MSG_SNAPSHOT:
		r->election_elapsed = 0;
		r->lead = m->from;
		handle_snapshot(r, m);
		break;
	case RAFT_MSG_TRANSFER_LEADER:
		if (r->lead == RAFT_NONE) {
			log_setreason("no leader to forward to");
			return RAFT_ERR_DROPPED;
		}
		f = msg_new(r, RAFT_MSG_TRANSFER_LEADER, r->lead);
		f->term = 0;
		f->index = m->index;
		break;
	case RAFT_MSG_TIMEOUT_NOW:
		return hup(r, CAMPAIGN_TRANSFER);
	case RAFT_MSG_READ_INDEX:
		if (r->lead == RAFT_NONE) {
			log_setreason("no leader to forward to");
			return RAFT_ERR_DROPPED;
		}
		f = msg_new(r, RAFT_MSG_READ_INDEX, r->lead);
		f->term = 0;
		msg_set_ctx(r, f, m->context, m->context_len);
		break;
	case RAFT_MSG_READ_INDEX_RESP:
		read_state_add(r, m->index, m->context, m->context_len);
		break;
	}
	return 0;
}

static int
step_candidate(struct raft *r, const struct raft_msg *m)
{
	int want, res;

	switch (m->type) {
	case RAFT_MSG_PROPOSE:
	case RAFT_MSG_READ_INDEX:
	case RAFT_MSG_TRANSFER_LEADER:
		log_setreason("no leader (campaigning)");
		return RAFT_ERR_DROPPED;
	case RAFT_MSG_APPEND:
		become_follower(r, m->term, m->from);
		handle_append(r, m);
		return 0;
	case RAFT_MSG_HEARTBEAT:
		become_follower(r, m->term, m->from);
		handle_heartbeat(r, m);
		return 0;
	case RAFT_MSG_SNAPSHOT:
		become_follower(r, m->term, m->from);
		handle_snapshot(r, m);
		return 0;
	case RAFT_MSG_VOTE_RESP:
	case RAFT_MSG_PREVOTE_RESP:
		want = r->role == RAFT_PRECANDIDATE ? RAFT_MSG_PREVOTE_RESP :
		    RAFT_MSG_VOTE_RESP;
		if (m->type != want)
			return 0;
		res = poll(r, m->from, !m->reject);
		if (res == RAFTCONF_WON) {
			if (r->role == RAFT_PRECANDIDATE) {
				campaign(r, CAMPAIGN_ELECTION);
			} else {
				become_leader(r);
				bcast_append(r);
			}
		} else if (res == RAFTCONF_LOST) {
			become_follower(r, r->term, RAFT_NONE);
		}
		return 0;
	}
	return 0;
}

static int
valid_msg(const struct raft *r, const struct raft_msg *m)
{
	if (m->type < 1 || m->type > RAFT_MSG_TYPE_MAX) {
		log_setreason("unknown message type %d", m->type);
		return 0;
	}
	if (m->from == RAFT_NONE || m->from == r->id) {
		log_setreason("message from bad node %llu",
		    (unsigned long long)m->from);
		return 0;
	}
	if (m->n_entries > 0 && m->entries == NULL) {
		log_setreason("message without its entries");
		return 0;
	}
	if (m->context_len > 0 && m->context == NULL) {
		log_setreason("message without its context");
		return 0;
	}
	if (m->type == RAFT_MSG_SNAPSHOT && m->snapshot == NULL) {
		log_setreason("snapshot message without a snapshot");
		return 0;
	}
	return 1;
}

static int
is_transfer_ctx(const struct raft_msg *m)
{
	return m->context_len == sizeof(RAFT_CTX_TRANSFER) - 1 &&
	    memcmp(m->context, RAFT_CTX_TRANSFER, m->context_len) == 0;
}

int
raft_step(struct raft *r, const struct raft_msg *m)
{
	struct raft_msg *resp;
	int in_lease, can_vote, vresp;

	if (!valid_msg(r, m))
		return RAFT_ERR_INVALID;
	if (m->term == 0) {
		/* Forwarded requests carry no term. */
		if (m->type != RAFT_MSG_PROPOSE &&
		    m->type != RAFT_MSG_READ_INDEX &&
		    m->type != RAFT_MSG_TRANSFER_LEADER) {
			log_setreason("message of type %s without a term",
			    raft_msg_type_name(m->type));
			return RAFT_ERR_INVALID;
		}
	} else if (m->term > r->term) {
		if (m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PREVOTE) {
			in_lease = r->check_quorum &&
			    (r->lead != RAFT_NONE || r->boot_lease) &&
			    r->election_elapsed < r->election_timeout;
			/* A node that heard from a leader within the election
			 * timeout does not help depose it. */
			if (in_lease && !is_transfer_ctx(m))
				return 0;
		}
		if (m->type == RAFT_MSG_PREVOTE) {
			/* Never change the term for a pre-vote. */
		} else if (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject) {
			/* The term rises when the election starts. */
		} else if (m->type == RAFT_MSG_APPEND ||
		    m->type == RAFT_MSG_HEARTBEAT ||
		    m->type == RAFT_MSG_SNAPSHOT) {
			become_follower(r, m->term, m->from);
		} else {
			become_follower(r, m->term, RAFT_NONE);
		}
	} else if (m->term < r->term) {
		if ((r->check_quorum || r->pre_vote) &&
		    (m->type == RAFT_MSG_APPEND ||
		    m->type == RAFT_MSG_HEARTBEAT)) {
			/* Tell a stale leader about the new term, so a node
			 * that was partitioned away does not stay leader
			 * forever. */
			msg_new(r, RAFT_MSG_APPEND_RESP, m->from);
		} else if (m->type == RAFT_MSG_PREVOTE) {
			resp = msg_new(r, RAFT_MSG_PREVOTE_RESP, m->from);
			resp->reject = 1;
		}
		return 0;
	}

	if (m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PREVOTE) {
		vresp = m->type == RAFT_MSG_VOTE ? RAFT_MSG_VOTE_RESP :
		    RAFT_MSG_PREVOTE_RESP;
		can_vote = r->vote == m->from ||
		    (r->vote == RAFT_NONE && r->lead == RAFT_NONE) ||
		    (m->type == RAFT_MSG_PREVOTE && m->term > r->term);
		if (can_vote &&
		    raftlog_is_up_to_date(r->log, m->index, m->log_term)) {
			resp = msg_new(r, vresp, m->from);
			resp->term = m->term;
			if (m->type == RAFT_MSG_VOTE) {
				r->election_elapsed = 0;
				r->vote = m->from;
			}
		} else {
			resp = msg_new(r, vresp, m->from);
			resp->reject = 1;
		}
		return 0;
	}
	switch (r->role) {
	case RAFT_LEADER:
		return step_leader(r, m);
	case RAFT_FOLLOWER:
		return step_follower(r, m);
	default:
		return step_candidate(r, m);
	}
}

int
raft_campaign(struct raft *r)
{
	return hup(r, CAMPAIGN_ELECTION);
}

int
raft_transfer_leader(struct raft *r, uint64_t to)
{
	struct raft_msg *f;

	if (to == RAFT_NONE) {
		log_setreason("no transferee");
		return RAFT_ERR_INVALID;
	}
	switch (r->role) {
	case RAFT_LEADER:
		if (to == r->id) {
			log_setreason("already leader");
			return RAFT_ERR_REFUSED;
		}
		return leader_transfer(r, to);
	case RAFT_FOLLOWER:
		if (r->lead == RAFT_NONE) {
			log_setreason("no leader to forward to");
			return RAFT_ERR_DROPPED;
		}
		f = msg_new(r, RAFT_MSG_TRANSFER_LEADER, r->lead);
		f->term = 0;
		f->index = to;
		return 0;
	default:
		log_setreason("no leader (campaigning)");
		return RAFT_ERR_DROPPED;
	}
}

int
raft_read_index(struct raft *r, const void *ctx, size_t len)
{
	struct raft_msg *f;

	switch (r->role) {
	case RAFT_LEADER:
		return leader_read_index(r, RAFT_NONE, ctx, len);
	case RAFT_FOLLOWER:
		if (r->lead == RAFT_NONE || r->no_forwarding) {
			log_setreason("no leader to forward to");
			return RAFT_ERR_DROPPED;
		}
		f = msg_new(r, RAFT_MSG_READ_INDEX, r->lead);
		f->term = 0;
		msg_set_ctx(r, f, ctx, len);
		return 0;
	default:
		log_setreason("no leader (campaigning)");
		return RAFT_ERR_DROPPED;
	}
}

void
raft_report_unreachable(struct raft *r, uint64_t id)
{
	struct raftconf_progress *pr;

	if (r->role != RAFT_LEADER ||
	    (pr = raftconf_get(r->conf, id)) == NULL)
		return;
	if (pr->state == RAFT_PROGRESS_REPLICATE)
		raftconf_pr_become_probe(pr);
}

void
raft_report_snapshot(struct raft *r, uint64_t id, int failed)
{
	struct raftconf_progress *pr;

	if (r->role != RAFT_LEADER ||
	    (pr = raftconf_get(r->conf, id)) == NULL ||
	    pr->state != RAFT_PROGRESS_SNAPSHOT)
		return;
	if (failed)
		pr->pending_snapshot = 0;
	raftconf_pr_become_probe(pr);
	/* Wait for the follower's response (or a heartbeat) before the
	 * next append. */
	pr->probe_sent = 1;
}

int
raft_request_snapshot(struct raft *r, uint64_t request_index)
{
	if (r->role != RAFT_FOLLOWER || r->lead == RAFT_NONE) {
		log_setreason("only a follower with a leader can request a "
		    "snapshot");
		return RAFT_ERR_REFUSED;
	}
	/* A snapshot below the commit index cannot be installed (it would
	 * take the commit index back): ask for one at or above it. */
	if (request_index < raftlog_committed(r->log))
		request_index = raftlog_committed(r->log);
	r->request_snapshot = request_index > 0 ? request_index : 1;
	send_request_snapshot(r);
	return 0;
}

/* Membership. */

static void
switch_config(struct raft *r)
{
	update_learner(r);
	if (r->role != RAFT_LEADER)
		return;
	if (raftconf_get(r->conf, r->id) == NULL || r->is_learner) {
		/* Removed or demoted: let the others elect a leader. */
		become_follower(r, r->term, RAFT_NONE);
		return;
	}
	if (maybe_commit(r))
		bcast_append(r);
	else {
		struct raftconf_progress *pr;
		size_t i;

		for (i = 0; i < raftconf_count(r->conf); i++) {
			pr = raftconf_at(r->conf, i);
			if (pr->id != r->id)
				maybe_send_append(r, pr, 0);
		}
	}
	if (r->lead_transferee != RAFT_NONE &&
	    !raftconf_is_incoming_voter(r->conf, r->lead_transferee))
		abort_leader_transfer(r);
}

int
raft_apply_conf_change(struct raft *r, const struct raft_conf_change *cc,
    struct raft_conf_state *cs)
{
	int rc;

	rc = raftconf_apply_change(r->conf, cc, raftlog_last_index(r->log) + 1);
	if (rc == 0)
		switch_config(r);
	if (cs != NULL)
		raftconf_conf_state(r->conf, cs);
	return rc;
}

int
raft_apply_conf_change_entry(struct raft *r, const struct raft_entry *e,
    struct raft_conf_state *cs)
{
	struct raft_conf_change cc;
	int rc;

	if (e->type != RAFT_ENTRY_CONF_CHANGE) {
		log_setreason("entry %llu is not a conf change",
		    (unsigned long long)e->index);
		return RAFT_ERR_INVALID;
	}
	if (raftwire_decode_conf_change(e->data, e->len, &cc) != 0)
		return RAFT_ERR_INVALID;
	rc = raft_apply_conf_change(r, &cc, cs);
	raftwire_conf_change_free(&cc);
	return rc;
}

static void
maybe_auto_leave(struct raft *r)
{
	struct raft_entry e;
	struct buf b = BUF_INIT;
	struct raft_conf_change cc;

	if (r->role != RAFT_LEADER || !raftconf_auto_leave(r->conf) ||
	    raftlog_applied(r->log) < r->pending_conf_index)
		return;
	memset(&cc, 0, sizeof(cc));
	raftwire_encode_conf_change(&b, &cc);
	memset(&e, 0, sizeof(e));
	e.type = RAFT_ENTRY_CONF_CHANGE;
	e.data = b.data;
	e.len = b.len;
	if (append_entries(r, &e, 1) == 0) {
		r->pending_conf_index = e.index;
		update_leaving(r);
		bcast_append(r);
	}
	buf_free(&b);
}

/* Ready. */

static void
hard_state(const struct raft *r, struct raft_hard_state *hs)
{
	hs->term = r->term;
	hs->vote = r->vote;
	hs->commit = raftlog_committed(r->log);
}

static int
hs_equal(const struct raft_hard_state *a, const struct raft_hard_state *b)
{
	return a->term == b->term && a->vote == b->vote &&
	    a->commit == b->commit;
}

int
raft_has_ready(const struct raft *r)
{
	struct raft_hard_state hs;
	size_t n;

	if (r->lead != r->prev_lead || r->role != r->prev_role)
		return 1;
	hard_state(r, &hs);
	if (!hs_equal(&hs, &r->prev_hs))
		return 1;
	if (raftlog_unstable_snapshot(r->log) != NULL)
		return 1;
	raftlog_unstable_entries(r->log, &n);
	if (n > 0 || r->nmsgs > 0 || r->nrs > 0)
		return 1;
	return raftlog_has_next_committed(r->log);
}

void
raft_ready(struct raft *r, struct raft_ready *rd)
{
	size_t i;

	memset(rd, 0, sizeof(*rd));
	rd->leader = r->lead;
	rd->role = r->role;
	rd->soft_state_changed = r->lead != r->prev_lead ||
	    r->role != r->prev_role;
	hard_state(r, &rd->hs);
	rd->hard_state_changed = !hs_equal(&rd->hs, &r->prev_hs);
	rd->snapshot = raftlog_unstable_snapshot(r->log);
	rd->entries = raftlog_unstable_entries(r->log, &rd->n_entries);
	rd->must_sync = rd->n_entries > 0 || rd->snapshot != NULL ||
	    rd->hs.term != r->prev_hs.term || rd->hs.vote != r->prev_hs.vote;
	raftents_clear(&r->rd_committed);
	if (raftlog_next_committed(r->log, r->max_committed_size,
	    &r->rd_committed) != 0)
		raftents_clear(&r->rd_committed);
	rd->committed = r->rd_committed.v;
	rd->n_committed = r->rd_committed.n;
	/*
	 * A commit index that is only written may be lost in a crash, and
	 * the node then restarts with the membership of an older index.
	 * For entries that is harmless (they are committed again), but a
	 * node that went back from a membership it applied may need the
	 * votes of nodes the group has since removed or demoted, and it
	 * may never get them.  So the commit index covering a conf change
	 * is synced before the change is applied.
	 */
	for (i = 0; i < rd->n_committed && !rd->must_sync; i++)
		if (rd->committed[i].type == RAFT_ENTRY_CONF_CHANGE)
			rd->must_sync = 1;
	/* Hand the outbox over, so that messages made while the caller
	 * applies conf changes go to a fresh one. */
	msgs_free(r->rd_msgs, r->rd_own, r->rd_nmsgs);
	read_states_free(r->rd_rs, r->rd_nrs);
	r->rd_msgs = r->msgs;
	r->rd_own = r->own;
	r->rd_nmsgs = r->nmsgs;
	r->msgs = NULL;
	r->own = NULL;
	r->nmsgs = r->capmsgs = 0;
	r->rd_rs = r->rs;
	r->rd_nrs = r->nrs;
	r->rs = NULL;
	r->nrs = 0;
	rd->msgs = r->rd_msgs;
	rd->n_msgs = r->rd_nmsgs;
	rd->read_states = r->rd_rs;
	rd->n_read_states = r->rd_nrs;
}

void
raft_advance_append(struct raft *r, const struct raft_ready *rd)
{
	const struct raft_entry *last;
	uint64_t sz = 0;
	size_t i;

	r->prev_lead = rd->leader;
	r->prev_role = rd->role;
	r->prev_hs = rd->hs;
	if (rd->snapshot != NULL) {
		raftlog_applying_to(r->log, rd->snapshot->meta.index);
		raftlog_stable_snap_to(r->log, rd->snapshot->meta.index);
	}
	if (rd->n_entries > 0) {
		last = &rd->entries[rd->n_entries - 1];
		raftlog_stable_to(r->log, last->index, last->term);
	}
	if (rd->n_committed > 0) {
		raftlog_applying_to(r->log,
		    rd->committed[rd->n_committed - 1].index);
		if (r->role == RAFT_LEADER) {
			for (i = 0; i < rd->n_committed; i++)
				sz += raftents_size(&rd->committed[i]);
			r->uncommitted_size = sz < r->uncommitted_size ?
			    r->uncommitted_size - sz : 0;
		}
	}
	msgs_free(r->rd_msgs, r->rd_own, r->rd_nmsgs);
	read_states_free(r->rd_rs, r->rd_nrs);
	r->rd_msgs = NULL;
	r->rd_own = NULL;
	r->rd_rs = NULL;
	r->rd_nmsgs = r->rd_nrs = 0;
	raftents_free(&r->rd_committed);
}

void
raft_applied_to(struct raft *r, uint64_t index)
{
	raftlog_applied_to(r->log, index);
	maybe_auto_leave(r);
}

void
raft_advance(struct raft *r, const struct raft_ready *rd)
{
	uint64_t applied = 0;

	if (rd->snapshot != NULL)
		applied = rd->snapshot->meta.index;
	if (rd->n_committed > 0 &&
	    rd->committed[rd->n_committed - 1].index > applied)
		applied = rd->committed[rd->n_committed - 1].index;
	raft_advance_append(r, rd);
	if (applied > 0)
		raft_applied_to(r, applied);
}

/* Construction and inspection. */

struct raft *
raft_new(const struct raft_config *c, const struct raft_storage *st)
{
	struct raft_hard_state hs;
	struct raft_conf_state cs;
	struct raft *r;
	uint64_t applied, commit, first, last;

	if (c->id == RAFT_NONE) {
		log_setreason("raft node id must not be 0");
		return NULL;
	}
	if (st == NULL || st->initial_state == NULL ||
	    st->first_index == NULL || st->last_index == NULL ||
	    st->term == NULL || st->entries == NULL) {
		log_setreason("raft storage lacks a callback");
		return NULL;
	}
	if (c->heartbeat_tick < 0 || c->election_tick < 0 ||
	    c->max_inflight_msgs < 0) {
		log_setreason("negative raft tick or inflight setting");
		return NULL;
	}
	if (c->read_only_option == RAFT_READ_LEASE_BASED &&
	    !c->check_quorum) {
		log_setreason("lease-based reads need check_quorum");
		return NULL;
	}
	if (c->read_only_option != RAFT_READ_SAFE &&
	    c->read_only_option != RAFT_READ_LEASE_BASED) {
		log_setreason("unknown read_only_option %d",
		    c->read_only_option);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->id = c->id;
	r->heartbeat_timeout = c->heartbeat_tick ? c->heartbeat_tick : 1;
	r->election_timeout = c->election_tick ? c->election_tick : 10;
	if (r->election_timeout <= r->heartbeat_timeout) {
		log_setreason("election tick must be greater than heartbeat "
		    "tick");
		free(r);
		return NULL;
	}
	r->max_msg_size = c->max_size_per_msg ? c->max_size_per_msg :
	    1024 * 1024;
	r->max_committed_size = c->max_committed_size_per_ready;
	r->max_uncommitted_size = c->max_uncommitted_size;
	r->max_entry_size = c->max_entry_size ? c->max_entry_size :
	    8 * 1024 * 1024;
	r->check_quorum = c->check_quorum != 0;
	r->pre_vote = c->pre_vote != 0;
	r->read_only = (uint8_t)c->read_only_option;
	r->no_forwarding = c->disable_proposal_forwarding != 0;
	r->rng = c->seed ^ (c->id * 0x9e3779b97f4a7c15ULL);
	r->log = raftlog_new(st);
	r->conf = raftconf_new(c->max_inflight_msgs ?
	    (size_t)c->max_inflight_msgs : 256, c->max_inflight_bytes);

	memset(&hs, 0, sizeof(hs));
	memset(&cs, 0, sizeof(cs));
	if (st->initial_state(st->arg, &hs, &cs) != 0) {
		log_setreason("cannot read the initial raft state");
		goto fail;
	}
	first = raftlog_first_index(r->log);
	last = raftlog_last_index(r->log);
	if (raftconf_restore(r->conf, &cs, last + 1) != 0)
		goto fail;
	if (hs.commit > last) {
		log_setreason("commit %llu beyond the log [%llu, %llu]",
		    (unsigned long long)hs.commit,
		    (unsigned long long)first - 1, (unsigned long long)last);
		goto fail;
	}
	applied = c->applied;
	if (applied > last) {
		log_setreason("applied %llu beyond the log [%llu, %llu]",
		    (unsigned long long)applied,
		    (unsigned long long)first - 1, (unsigned long long)last);
		goto fail;
	}
	/*
	 * The commit index is not always synced (only when it covers a
	 * conf change), so the stored one may be older than what the state
	 * machine applied, or than the snapshot: both were committed.
	 */
	commit = hs.commit;
	if (commit < first - 1)
		commit = first - 1;
	if (commit < applied)
		commit = applied;
	raftlog_set_indexes(r->log, commit, applied);
	r->term = hs.term;
	become_follower(r, hs.term, RAFT_NONE);
	r->vote = hs.vote;
	update_learner(r);
	/* With lease reads, a restarted node may have been in a leader's
	 * lease before: it sits out one election timeout before voting. */
	r->boot_lease = r->read_only == RAFT_READ_LEASE_BASED &&
	    !c->new_group;
	/* A raised commit index shows up in the first ready, to be written. */
	r->prev_hs = hs;
	r->prev_lead = RAFT_NONE;
	r->prev_role = RAFT_FOLLOWER;
	return r;
fail:
	raft_free(r);
	return NULL;
}

void
raft_free(struct raft *r)
{
	if (r == NULL)
		return;
	msgs_free(r->msgs, r->own, r->nmsgs);
	msgs_free(r->rd_msgs, r->rd_own, r->rd_nmsgs);
	read_states_free(r->rs, r->nrs);
	read_states_free(r->rd_rs, r->rd_nrs);
	reads_clear(r);
	raftents_free(&r->rd_committed);
	raftlog_free(r->log);
	raftconf_free(r->conf);
	free(r);
}

void
raft_status(const struct raft *r, struct raft_status *s)
{
	memset(s, 0, sizeof(*s));
	s->id = r->id;
	s->role = r->role;
	s->leader = r->lead;
	hard_state(r, &s->hs);
	s->applied = raftlog_applied(r->log);
	s->first_index = raftlog_first_index(r->log);
	s->last_index = raftlog_last_index(r->log);
	s->last_term = raftlog_last_term(r->log);
	s->lead_transferee = r->lead_transferee;
	s->pending_conf_index = r->pending_conf_index;
	s->uncommitted_size = r->uncommitted_size;
	s->joint = raftconf_joint(r->conf);
	s->randomized_election_timeout = r->randomized_timeout;
}

int
raft_progress(const struct raft *r, uint64_t id,
    struct raft_progress_info *pi)
{
	struct raftconf_progress *pr;

	if (r->role != RAFT_LEADER ||
	    (pr = raftconf_get(r->conf, id)) == NULL)
		return -1;
	memset(pi, 0, sizeof(*pi));
	pi->match = pr->match;
	pi->next = pr->next;
	pi->state = pr->state;
	pi->pending_snapshot = pr->pending_snapshot;
	pi->recent_active = pr->recent_active;
	pi->learner = (pr->flags & RAFTCONF_LEARNER) != 0;
	pi->inflight = raftconf_pr_inflight_count(pr);
	return 0;
}

void
raft_conf_state(const struct raft *r, struct raft_conf_state *cs)
{
	raftconf_conf_state(r->conf, cs);
}

uint64_t
raft_term_at(const struct raft *r, uint64_t index)
{
	return raftlog_term_or0(r->log, index);
}

size_t
raft_memsize(const struct raft *r)
{
	size_t sz, i;

	sz = sizeof(*r) + raftlog_memsize(r->log) + raftconf_memsize(r->conf);
	sz += r->capmsgs * (sizeof(*r->msgs) + sizeof(*r->own));
	for (i = 0; i < r->nmsgs; i++)
		sz += raftents_memsize(&r->own[i].ents) +
		    r->msgs[i].context_len;
	sz += r->rd_nmsgs * (sizeof(*r->msgs) + sizeof(*r->own));
	sz += r->nreads * sizeof(*r->reads) + r->nrs * sizeof(*r->rs);
	sz += raftents_memsize(&r->rd_committed);
	return sz;
}

const char *
raft_role_name(int role)
{
	switch (role) {
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_CANDIDATE:
		return "candidate";
	case RAFT_LEADER:
		return "leader";
	case RAFT_PRECANDIDATE:
		return "precandidate";
	}
	return "unknown";
}

const char *
raft_msg_type_name(int type)
{
	static const char *names[] = {
		"none", "append", "append_resp", "vote", "vote_resp",
		"prevote", "prevote_resp", "snapshot", "heartbeat",
		"heartbeat_resp", "propose", "transfer_leader", "timeout_now",
		"read_index", "read_index_resp"
	};

	if (type < 0 || type > RAFT_MSG_TYPE_MAX)
		return "unknown";
	return names[type];
}
