/*
 * raft_sim: a deterministic simulation of a Raft group built on
 * libcommon/raft.  Everything random comes from one seeded PRNG, so a seed
 * replays the same run exactly.  A step is one tick of every node's clock;
 * during it the simulator injects faults (crashes that lose what was not
 * synced, restarts, partitions, membership changes, leader transfers),
 * delivers the messages due (after drops, delays, reordering and
 * duplicates), lets clients write and read a few keys, and then checks the
 * safety properties (sim_check.c).  At the end it heals everything, waits
 * for the group to converge, and checks every key's client history for
 * linearizability.
 *
 *	raft_sim [-bKqSTUv] [-c count] [-d seconds] [-H history] [-M mutation]
 *	    [-N nodes] [-n steps] [-s seed]
 *
 *	-b	benchmark: proposals committed per second, 3 nodes, no faults
 *	-c	run count seeds from the first (-s, default random)
 *	-d	run seeds until this many seconds have passed (a campaign)
 *	-H	write the (last) run's client history for lincheck_tool
 *	-K	first check that planted bugs (-M) are caught (TAP tests)
 *	-M	plant a bug: stale-read, early-ack, skip-apply, forget-vote,
 *		no-fsync
 *	-N	nodes (3..7); default 3, 5 or 7 by seed
 *	-n	steps per run (default 10000)
 *	-q	no summary line at the end
 *	-S	no follower ever asks for a snapshot (raft_request_snapshot)
 *	-T	print TAP, one test per seed
 *	-U	a snapshot does not sync the hard state (tikvd may do so)
 *	-v	trace the run to stderr; twice, every message too
 */
#include <err.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "lincheck.h"
#include "log.h"
#include "raft.h"
#include "sim.h"
#include "tap.h"
#include "xmalloc.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: raft_sim [-bKqSTUv] [-c count] [-d seconds] "
	    "[-H history] [-M mutation]\n\t[-N nodes] [-n steps] "
	    "[-s seed]\n");
	exit(2);
}

/* The leader of the highest term among running nodes, if any. */
static struct sim_node *
sim_leader(struct sim *s)
{
	struct raft_status st;
	struct sim_node *best = NULL;
	uint64_t term = 0;
	int i;

	for (i = 0; i < s->nnodes; i++) {
		if (s->nodes[i].id == 0 || !s->nodes[i].up)
			continue;
		raft_status(s->nodes[i].r, &st);
		if (st.role == RAFT_LEADER && st.hs.term > term) {
			term = st.hs.term;
			best = &s->nodes[i];
		}
	}
	return best;
}

static struct sim_node *
sim_random_up(struct sim *s)
{
	struct sim_node *up[SIM_MAXNODES];
	int i, n = 0;

	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].id != 0 && s->nodes[i].up)
			up[n++] = &s->nodes[i];
	return n ? up[sim_below(&s->rng, n)] : NULL;
}

struct sim_opts {
	int nnodes;
	uint64_t steps;
	int verbose;
	int tap;
	int unsynced_snap;
	int mutation;
	int silent;		/* no report of a failure */
	const char *histfile;	/* -H: write the client history here */
	int no_request_snap;
};

static const char *sim_mutations[SIM_MUT_MAX] = {
	"none", "stale-read", "early-ack", "skip-apply", "forget-vote",
	"no-fsync"
};

static void
sim_init(struct sim *s, uint64_t seed, const struct sim_opts *o, int nnodes,
    int bench)
{
	struct sim_conf boot;
	struct sim_index *x;
	uint64_t ids[SIM_MAXNODES];
	int i;

	memset(s, 0, sizeof(*s));
	s->seed = seed;
	s->nnodes = nnodes;
	s->steps = o->steps;
	s->verbose = o->verbose;
	s->unsynced_snap = o->unsynced_snap;
	s->mutation = o->mutation;
	s->no_request_snap = o->no_request_snap;
	s->bench = bench;
	s->rng.s = seed * 0x2545f4914f6cdd1dULL + 0x1234567;
	sim_net_init(&s->net);

	s->election_tick = 10 + sim_below(&s->rng, 11);
	s->heartbeat_tick = 1 + sim_below(&s->rng, 2);
	s->pre_vote = sim_chance(&s->rng, 700);
	s->check_quorum = sim_chance(&s->rng, 700);
	s->lease_pm = 500;
	s->drop_pm = sim_below(&s->rng, 60);
	s->dup_pm = sim_below(&s->rng, 30);
	s->delay_max = sim_below(&s->rng, 3);
	s->long_pm = sim_below(&s->rng, 20);
	s->long_max = 30;
	s->crash_pm = 1 + sim_below(&s->rng, 6);
	s->torn_pm = 400;
	s->part_pm = 1 + sim_below(&s->rng, 4);
	s->conf_pm = sim_below(&s->rng, 10);
	s->transfer_pm = sim_below(&s->rng, 6);
	s->campaign_pm = sim_below(&s->rng, 3);
	s->issue_pm = 200 + sim_below(&s->rng, 600);
	s->compact_every = 10 + sim_below(&s->rng, 200);
	s->min_voters = nnodes == 3 ? 2 : 3;
	if (bench) {
		s->election_tick = 10;
		s->heartbeat_tick = 1;
		s->pre_vote = s->check_quorum = 1;
		s->lease_pm = 0;
		s->drop_pm = s->dup_pm = s->long_pm = 0;
		s->delay_max = 0;
		s->crash_pm = s->part_pm = s->conf_pm = 0;
		s->transfer_pm = s->campaign_pm = 0;
		s->compact_every = 1000;
	}
	sim_trace(s, "seed %" PRIu64 ": %d nodes, election %d, heartbeat "
	    "%d, prevote %d, checkquorum %d, drop %u, dup %u, delay %d, "
	    "crash %u, partition %u, conf %u, transfer %u", seed, nnodes,
	    s->election_tick, s->heartbeat_tick, s->pre_vote,
	    s->check_quorum, s->drop_pm, s->dup_pm, s->delay_max,
	    s->crash_pm, s->part_pm, s->conf_pm, s->transfer_pm);

	/* Index 1 holds the founding state of every founding peer. */
	x = sim_check_index(s, 1);
	x->term = x->cterm = 1;
	x->applied = 1;
	x->chain = 1;
	s->commit = 1;

	memset(&boot, 0, sizeof(boot));
	for (i = 0; i < nnodes; i++)
		ids[i] = i + 1;
	boot.ids[0] = ids;
	boot.n[0] = nnodes;
	for (i = 0; i < nnodes && !s->failed; i++)
		sim_node_create(s, &s->nodes[i], i + 1, &boot);
	s->next_id = nnodes + 1;
}

static void
sim_destroy(struct sim *s)
{
	int i;

	for (i = 0; i < SIM_MAXNODES; i++)
		if (s->nodes[i].id != 0)
			sim_node_destroy(s, &s->nodes[i]);
	sim_net_free(&s->net);
	sim_check_free(s);
	free(s->hist);
	buf_free(&s->why);
}

static void
sim_heal(struct sim *s)
{
	memset(s->cut, 0, sizeof(s->cut));
	if (s->partitioned)
		sim_trace(s, "partition heals");
	s->partitioned = 0;
}

static void
sim_partition(struct sim *s)
{
	struct sim_node *l = sim_leader(s);
	int side[SIM_MAXNODES], i, j, b, type, nn = s->nnodes;
	const char *what;

	type = sim_below(&s->rng, 5);
	if (l == NULL && (type == 1 || type == 3))
		type = 0;
	for (i = 0; i < nn; i++)
		side[i] = sim_below(&s->rng, 2);
	switch (type) {
	case 0:
		what = "halves";
		break;
	case 1:
		what = "isolated leader";
		for (i = 0; i < nn; i++)
			side[i] = &s->nodes[i] == l;
		break;
	case 2:
		what = "bridge";
		b = sim_below(&s->rng, nn);
		side[b] = 2;
		break;
	case 3:
		what = sim_chance(&s->rng, 500) ? "leader deaf" : "leader mute";
		b = sim_slot(s, l);
		for (i = 0; i < nn; i++)
			if (i != b) {
				if (what[7] == 'd')
					s->cut[i][b] = 1;
				else
					s->cut[b][i] = 1;
			}
		goto out;
	default:
		what = "one node isolated";
		b = sim_below(&s->rng, nn);
		for (i = 0; i < nn; i++)
			side[i] = i == b;
		break;
	}
	for (i = 0; i < nn; i++)
		for (j = 0; j < nn; j++)
			if (side[i] != 2 && side[j] != 2 && side[i] != side[j])
				s->cut[i][j] = 1;
out:
	s->partitioned = 1;
	s->heal_at = s->step + 10 + sim_below(&s->rng, 300);
	s->n_partitions++;
	if (s->verbose) {
		struct buf bb = BUF_INIT;

		for (i = 0; i < nn; i++) {
			buf_printf(&bb, " %" PRIu64 ":", s->nodes[i].id);
			for (j = 0; j < nn; j++)
				if (i != j && !s->cut[i][j])
					buf_printf(&bb, "%" PRIu64 ",",
					    s->nodes[j].id);
		}
		sim_trace(s, "partition (%s) until %" PRIu64 ", sends:%s",
		    what, s->heal_at, bb.data);
		buf_free(&bb);
	}
}

static int
sim_pick(struct sim *s, const uint64_t *ids, size_t n, uint64_t avoid,
    uint64_t *out)
{
	uint64_t c[SIM_MAXNODES * 2];
	size_t i, k = 0;

	for (i = 0; i < n && k < SIM_MAXNODES * 2; i++)
		if (ids[i] != avoid)
			c[k++] = ids[i];
	if (k == 0)
		return 0;
	*out = c[sim_below(&s->rng, k)];
	return 1;
}

/* Propose a random, valid-looking membership change on the leader. */
static void
sim_conf_change(struct sim *s, int leave_only)
{
	struct raft_conf_change_single ch[2];
	struct raft_conf_change cc;
	struct raft_conf_state cs;
	struct raft_status st;
	struct sim_node *l = sim_leader(s), *fresh = NULL;
	struct sim_conf c;
	uint64_t id, id2, index = 0;
	int i, nch = 0, free_slot = -1, rc, what;

	if (l == NULL)
		return;
	raft_status(l->r, &st);
	if (st.pending_conf_index > st.applied)
		return;
	memset(&c, 0, sizeof(c));
	raft_conf_state(l->r, &cs);
	sim_store_conf_set(&c, &cs);
	memset(&cc, 0, sizeof(cc));
	cc.changes = ch;
	if (c.n[1] > 0) {
		if (!c.auto_leave) {
			rc = raft_propose_conf_change(l->r, &cc, &index);
			sim_trace(s, "leader %" PRIu64 " proposes leaving the "
			    "joint config: %d", l->id, rc);
		}
		goto out;
	}
	if (leave_only)
		goto out;
	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].id == 0)
			free_slot = i;
	what = sim_below(&s->rng, 7);
	switch (what) {
	case 0:		/* add a learner on a new peer */
	case 6:		/* add a voter on a new peer */
		if (free_slot < 0)
			goto out;
		id = s->next_id++;
		fresh = &s->nodes[free_slot];
		sim_node_create(s, fresh, id, NULL);
		ch[nch].type = what == 0 ? RAFT_CC_ADD_LEARNER :
		    RAFT_CC_ADD_NODE;
		ch[nch++].node_id = id;
		break;
	case 1:		/* promote a learner */
		if (!sim_pick(s, c.ids[2], c.n[2], 0, &id))
			goto out;
		ch[nch].type = RAFT_CC_ADD_NODE;
		ch[nch++].node_id = id;
		break;
	case 2:		/* remove a voter, rarely the leader */
		if ((int)c.n[0] <= s->min_voters || !sim_pick(s, c.ids[0],
		    c.n[0], sim_chance(&s->rng, 900) ? l->id : 0, &id))
			goto out;
		ch[nch].type = RAFT_CC_REMOVE_NODE;
		ch[nch++].node_id = id;
		break;
	case 3:		/* remove a learner */
		if (!sim_pick(s, c.ids[2], c.n[2], 0, &id))
			goto out;
		ch[nch].type = RAFT_CC_REMOVE_NODE;
		ch[nch++].node_id = id;
		break;
	case 4:		/* demote a voter */
		if ((int)c.n[0] <= s->min_voters ||
		    !sim_pick(s, c.ids[0], c.n[0], l->id, &id))
			goto out;
		ch[nch].type = RAFT_CC_ADD_LEARNER;
		ch[nch++].node_id = id;
		break;
	default:	/* swap a learner and a voter: joint */
		if (!sim_pick(s, c.ids[2], c.n[2], 0, &id) ||
		    !sim_pick(s, c.ids[0], c.n[0], l->id, &id2))
			goto out;
		ch[0].type = RAFT_CC_ADD_NODE;
		ch[0].node_id = id;
		ch[1].type = RAFT_CC_ADD_LEARNER;
		ch[1].node_id = id2;
		nch = 2;
		break;
	}
	cc.n_changes = nch;
	i = sim_below(&s->rng, 10);
	cc.transition = i < 6 ? RAFT_CC_TRANSITION_AUTO : i < 8 ?
	    RAFT_CC_TRANSITION_JOINT_IMPLICIT :
	    RAFT_CC_TRANSITION_JOINT_EXPLICIT;
	rc = raft_propose_conf_change(l->r, &cc, &index);
	if (rc == 0)
		s->n_conf++;
	sim_trace(s, "leader %" PRIu64 " proposes conf change %s %" PRIu64
	    "%s%s (transition %d) at %" PRIu64 ": %d", l->id,
	    ch[0].type == RAFT_CC_ADD_NODE ? "add" :
	    ch[0].type == RAFT_CC_REMOVE_NODE ? "remove" : "learner",
	    ch[0].node_id, nch > 1 ? " and demote " : "",
	    nch > 1 ? "another" : "", cc.transition, index, rc);
out:
	sim_store_conf_free(&c);
}

/* Destroy peers the group has removed, once the removal is committed. */
static void
sim_reap(struct sim *s)
{
	struct raft_conf_state cs;
	struct raft_status st;
	struct sim_conf c;
	struct sim_node *l = sim_leader(s), *n;
	int i;

	if (l == NULL)
		return;
	/*
	 * Only when no conf change is in flight, and the leader committed
	 * in its own term: a proposal adding a peer that is not in its log
	 * by then can never commit.
	 */
	raft_status(l->r, &st);
	if (st.pending_conf_index > st.applied ||
	    raft_term_at(l->r, st.hs.commit) != st.hs.term)
		return;
	memset(&c, 0, sizeof(c));
	raft_conf_state(l->r, &cs);
	sim_store_conf_set(&c, &cs);
	for (i = 0; i < s->nnodes; i++) {
		n = &s->nodes[i];
		if (n->id == 0 || n == l || s->step < n->born + 200)
			continue;
		if (sim_store_conf_role(&c, n->id) == SIM_NOT_MEMBER)
			sim_node_destroy(s, n);
	}
	/* A leader that removed itself goes last. */
	if (sim_store_conf_role(&c, l->id) == SIM_NOT_MEMBER &&
	    s->step >= l->born + 200)
		sim_node_destroy(s, l);
	sim_store_conf_free(&c);
}

static void
sim_faults(struct sim *s)
{
	struct sim_node *n, *l, *t;
	struct raft_conf_state cs;
	uint64_t to;
	int i;

	for (i = 0; i < s->nnodes; i++) {
		n = &s->nodes[i];
		if (n->id != 0 && !n->up && n->down_until <= s->step)
			sim_node_start(s, n);
	}
	if (s->settling) {
		sim_heal(s);
		sim_conf_change(s, 1);
		sim_reap(s);
		return;
	}
	if (sim_chance(&s->rng, s->crash_pm)) {
		l = sim_leader(s);
		n = l != NULL && sim_chance(&s->rng, 300) ? l :
		    sim_random_up(s);
		if (n != NULL) {
			n->down_until = s->step + 5 + sim_below(&s->rng, 200);
			s->n_crashes++;
			if (sim_chance(&s->rng, s->torn_pm))
				n->torn = 1;
			else
				sim_node_crash(s, n);
		}
	}
	if (s->partitioned && s->step >= s->heal_at)
		sim_heal(s);
	else if (!s->partitioned && sim_chance(&s->rng, s->part_pm))
		sim_partition(s);
	if (sim_chance(&s->rng, s->transfer_pm) &&
	    (l = sim_leader(s)) != NULL) {
		raft_conf_state(l->r, &cs);
		if (sim_pick(s, cs.voters, cs.n_voters, l->id, &to)) {
			/* Sometimes through a follower, which forwards. */
			t = sim_chance(&s->rng, 700) ? l : sim_random_up(s);
			sim_trace(s, "transfer leadership %" PRIu64 " -> %"
			    PRIu64 " (asked at %" PRIu64 "): %d", l->id, to,
			    t->id, raft_transfer_leader(t->r, to));
			s->n_transfers++;
		}
	}
	if (sim_chance(&s->rng, s->campaign_pm) &&
	    (n = sim_random_up(s)) != NULL) {
		sim_trace(s, "node %" PRIu64 " campaigns: %d", n->id,
		    raft_campaign(n->r));
	}
	if (sim_chance(&s->rng, s->campaign_pm) &&
	    (n = sim_random_up(s)) != NULL && n->applied > 0 &&
	    !s->no_request_snap) {
		i = raft_request_snapshot(n->r, n->applied);
		if (i == 0 && n->snap_requested == 0)
			n->snap_requested = n->applied;
		sim_trace(s, "node %" PRIu64 " requests a snapshot at %" PRIu64
		    ": %d", n->id, n->applied, i);
	}
	if (sim_chance(&s->rng, s->conf_pm))
		sim_conf_change(s, 0);
	sim_reap(s);
}

static void
sim_compact(struct sim *s)
{
	struct sim_node *n;
	int i;

	for (i = 0; i < s->nnodes; i++) {
		n = &s->nodes[i];
		if (n->id != 0 && n->up &&
		    n->applied >= n->st.snap_index + s->compact_every)
			sim_node_compact(s, n);
	}
}

static void
sim_put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A client starts one operation on some node. */
static void
sim_issue(struct sim *s, int ci)
{
	struct sim_client *c = &s->clients[ci];
	struct sim_node *n, *l = sim_leader(s);
	struct sim_hist *h;
	uint8_t data[SIM_OPSIZE + 64], ctx[16];
	size_t hi, len;
	int r, rc;

	n = l != NULL && sim_chance(&s->rng, 800) ? l : sim_random_up(s);
	if (n == NULL)
		return;
	h = sim_hist_new(s);
	hi = s->nhist - 1;
	h->client = ci;
	h->key = sim_below(&s->rng, SIM_KEYS);
	h->opid = ++c->opid;
	r = sim_below(&s->rng, 100);
	h->type = r < 35 ? SIM_OP_PUT : r < 65 ? SIM_OP_GET :
	    r < 75 ? SIM_OP_DEL : SIM_OP_CAS;
	if (h->type == SIM_OP_PUT || (h->type == SIM_OP_CAS &&
	    sim_chance(&s->rng, 850)))
		h->value = hi + 1;
	if (h->type == SIM_OP_CAS)
		h->expect = sim_chance(&s->rng, 700) ? c->seen[h->key] :
		    s->hist[sim_below(&s->rng, s->nhist)].value;
	h->invoke = sim_time(s);
	if (h->type == SIM_OP_GET && s->mutation == SIM_MUT_STALE_READ) {
		n = sim_random_up(s);
		h->result = n->kv[h->key];
		h->ret = sim_time(s);
		return;
	}
	if (h->type == SIM_OP_GET) {
		sim_put64(ctx, ci);
		sim_put64(ctx + 8, h->opid);
		rc = raft_read_index(n->r, ctx, sizeof(ctx));
		if (rc == 0) {
			if (n->nreads == SIM_MAXREADS)
				memmove(n->reads, n->reads + 1,
				    --n->nreads * sizeof(n->reads[0]));
			memset(&n->reads[n->nreads], 0, sizeof(n->reads[0]));
			n->reads[n->nreads].client = ci;
			n->reads[n->nreads].opid = h->opid;
			n->nreads++;
		}
	} else {
		sim_node_encode_op(h, hi, data);
		len = SIM_OPSIZE;
		if (sim_chance(&s->rng, 200))
			len += sim_below(&s->rng, 64);
		memset(data + SIM_OPSIZE, 0x5a, len - SIM_OPSIZE);
		rc = raft_propose(n->r, data, len, NULL);
	}
	if (rc != 0) {
		/* Refused for sure: it never happened. */
		s->nhist--;
		return;
	}
	if (s->mutation == SIM_MUT_EARLY_ACK && (h->type == SIM_OP_PUT ||
	    h->type == SIM_OP_DEL)) {
		h->ret = sim_time(s);
		return;
	}
	c->busy = 1;
	c->hist = hi;
	c->node = n->id;
	c->deadline = s->step + 3 * s->election_tick +
	    sim_below(&s->rng, 2 * s->election_tick);
}

static void
sim_clients(struct sim *s)
{
	struct sim_client *c;
	int i;

	for (i = 0; i < SIM_CLIENTS; i++) {
		c = &s->clients[i];
		if (c->busy && s->step >= c->deadline) {
			c->busy = 0;
			s->n_timeouts++;
		}
		if (!c->busy && !s->settling &&
		    sim_chance(&s->rng, s->issue_pm))
			sim_issue(s, i);
	}
}

static void
sim_step(struct sim *s)
{
	struct sim_msg m;
	struct sim_node *to, *from;
	int i;

	sim_faults(s);
	while (!s->failed && sim_net_pop(&s->net, s->step, &m)) {
		to = sim_node_byid(s, m.to);
		from = sim_node_byid(s, m.from);
		if (to != NULL && to->up && (from == NULL ||
		    !s->cut[sim_slot(s, from)][sim_slot(s, to)])) {
			s->net.delivered++;
			sim_node_deliver(s, to, &m);
		} else {
			s->net.dropped++;
			/* The transport learns a snapshot did not get
			 * through, and says so. */
			if (m.type == RAFT_MSG_SNAPSHOT && from != NULL &&
			    from->up)
				raft_report_snapshot(from->r, m.to, 1);
		}
		buf_free(&m.wire);
	}
	sim_clients(s);
	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].id != 0 && s->nodes[i].up)
			raft_tick(s->nodes[i].r);
	for (i = 0; i < s->nnodes && !s->failed; i++)
		if (s->nodes[i].id != 0 && s->nodes[i].up)
			sim_node_ready(s, &s->nodes[i], s->nodes[i].torn);
	sim_compact(s);
	if (!s->failed)
		sim_check_step(s);
}

/* Is the group quiet: one leader, everyone caught up, nothing pending? */
static int
sim_converged(struct sim *s, struct buf *why)
{
	struct raft_conf_state cs;
	struct raft_status st;
	struct raft_progress_info pi;
	struct sim_conf c;
	struct sim_node *l = sim_leader(s), *n;
	int i, ok = 1;

	buf_reset(why);
	if (l == NULL) {
		buf_addstr(why, "no leader");
		for (i = 0; i < s->nnodes; i++) {
			n = &s->nodes[i];
			if (n->id == 0 || !n->up)
				continue;
			raft_status(n->r, &st);
			memset(&c, 0, sizeof(c));
			raft_conf_state(n->r, &cs);
			sim_store_conf_set(&c, &cs);
			buf_printf(why, "; node %" PRIu64 " %s term %" PRIu64
			    " vote %" PRIu64 " commit %" PRIu64 " last %" PRIu64
			    " (term %" PRIu64 ") applied %" PRIu64 " ", n->id,
			    raft_role_name(st.role), st.hs.term, st.hs.vote,
			    st.hs.commit, st.last_index, st.last_term,
			    st.applied);
			sim_store_conf_fmt(why, &c);
			sim_store_conf_free(&c);
		}
		return 0;
	}
	raft_status(l->r, &st);
	memset(&c, 0, sizeof(c));
	raft_conf_state(l->r, &cs);
	sim_store_conf_set(&c, &cs);
	buf_printf(why, "leader %" PRIu64 " term %" PRIu64 " commit %" PRIu64
	    " last %" PRIu64 " applied %" PRIu64 ", ", l->id, st.hs.term,
	    st.hs.commit, st.last_index, l->applied);
	sim_store_conf_fmt(why, &c);
	if (st.hs.commit != st.last_index || l->applied != st.hs.commit ||
	    c.n[1] > 0 || st.pending_conf_index > st.applied)
		ok = 0;
	for (i = 0; i < s->nnodes; i++) {
		n = &s->nodes[i];
		if (n->id == 0 || n == l ||
		    sim_store_conf_role(&c, n->id) == SIM_NOT_MEMBER)
			continue;
		buf_printf(why, "; node %" PRIu64 " %s applied %" PRIu64,
		    n->id, n->up ? "up" : "down", n->applied);
		if (raft_progress(l->r, n->id, &pi) == 0)
			buf_printf(why, " (progress: match %" PRIu64 " next %"
			    PRIu64 " state %d%s inflight %zu snapshot %" PRIu64
			    ")", pi.match, pi.next, pi.state,
			    pi.recent_active ? " active" : "", pi.inflight,
			    pi.pending_snapshot);
		if (!n->up || n->applied != l->applied)
			ok = 0;
	}
	for (i = 0; i < SIM_CLIENTS; i++)
		if (s->clients[i].busy)
			ok = 0;
	sim_store_conf_free(&c);
	return ok;
}

static void
sim_settle(struct sim *s)
{
	struct buf why = BUF_INIT;
	uint64_t end;
	int i;

	s->settling = 1;
	s->drop_pm = s->dup_pm = s->long_pm = 0;
	for (i = 0; i < s->nnodes; i++) {
		s->nodes[i].torn = 0;
		s->nodes[i].down_until = 0;
	}
	sim_trace(s, "settling");
	end = s->step + 50 * s->election_tick + 500;
	for (; s->step < end && !s->failed; s->step++) {
		sim_step(s);
		if (sim_converged(s, &why))
			break;
	}
	if (!s->failed && s->step >= end)
		sim_fail(s, "no convergence after healing: %s", why.data);
	buf_free(&why);
}

/* The group agrees, every acknowledged write is everywhere. */
static void
sim_final(struct sim *s)
{
	struct sim_node *l = sim_leader(s), *n;
	struct sim_hist *h;
	size_t k;
	int i;

	for (i = 0; i < s->nnodes && l != NULL; i++) {
		n = &s->nodes[i];
		if (n->id == 0 || !n->up || n->applied != l->applied)
			continue;
		if (n->chain != l->chain ||
		    sim_node_kvhash(n) != sim_node_kvhash(l))
			sim_fail(s, "nodes %" PRIu64 " and %" PRIu64 " differ "
			    "at %" PRIu64, n->id, l->id, n->applied);
	}
	for (k = 0; k < s->nhist && l != NULL; k++) {
		h = &s->hist[k];
		if (h->type == SIM_OP_GET || h->ret == LINCHECK_PENDING)
			continue;
		if (!h->applied || h->index > l->applied ||
		    !s->idx[h->index].applied)
			sim_fail(s, "acknowledged op %zu (client %d) is not "
			    "applied by the leader", k, h->client);
	}
}

static struct lincheck_val
sim_val(uint64_t id, char *tmp, size_t size)
{
	struct lincheck_val v = { NULL, 0, 0 };
	int n;

	if (id == 0)
		return v;
	n = snprintf(tmp, size, "v%" PRIu64, id);
	v.ptr = (const uint8_t *)tmp;
	v.len = n;
	v.present = 1;
	return v;
}

static void
sim_fmtval(FILE *f, uint64_t id)
{
	if (id == 0)
		fputs(" -", f);
	else
		fprintf(f, " v%" PRIu64, id);
}

/* The history in lincheck_tool's format, as the checker sees it. */
static void
sim_write_history(struct sim *s, const char *path)
{
	static const char *ops[] = { "", "put", "get", "del", "cas" };
	struct sim_hist *h;
	FILE *f;
	size_t k;

	if ((f = fopen(path, "w")) == NULL) {
		warn("cannot open '%s'", path);
		return;
	}
	fprintf(f, "# raft_sim seed %" PRIu64 ", %d nodes\n", s->seed,
	    s->nnodes);
	for (k = 0; k < s->nhist; k++) {
		h = &s->hist[k];
		if (h->ret == LINCHECK_PENDING)
			fprintf(f, "%d %" PRIu64 " - %s k%d", h->client,
			    h->invoke, ops[h->type], h->key);
		else
			fprintf(f, "%d %" PRIu64 " %" PRIu64 " %s k%d",
			    h->client, h->invoke, h->ret, ops[h->type],
			    h->key);
		if (h->type == SIM_OP_PUT)
			sim_fmtval(f, h->value);
		if (h->type == SIM_OP_CAS) {
			sim_fmtval(f, h->expect);
			sim_fmtval(f, h->value);
		}
		if (h->ret == LINCHECK_PENDING)
			fputs(" ?", f);
		else if (h->type == SIM_OP_GET)
			sim_fmtval(f, h->result);
		else if (h->type == SIM_OP_CAS) {
			fputs(h->ok ? " ok" : " fail", f);
			sim_fmtval(f, h->result);
		} else
			fputs(" ok", f);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		warn("cannot write '%s'", path);
}

static void
sim_lincheck(struct sim *s, uint64_t *gaveup)
{
	struct lincheck *lc = lincheck_new();
	struct lincheck_op op;
	struct buf why = BUF_INIT;
	struct sim_hist *h;
	char key[8], t1[32], t2[32], t3[32];
	size_t k;
	enum lincheck_result r;

	lincheck_set_budget(lc, 20000000);
	for (k = 0; k < s->nhist; k++) {
		h = &s->hist[k];
		/*
		 * A write no node ever applied did not take effect: after
		 * the group converged, every member holds the whole log.
		 * Leaving it out spares the search a pending operation.
		 */
		if (h->type != SIM_OP_GET && h->ret == LINCHECK_PENDING &&
		    !h->applied)
			continue;
		memset(&op, 0, sizeof(op));
		snprintf(key, sizeof(key), "k%d", h->key);
		op.key = bytes_str(key);
		op.client = h->client;
		op.invoke = h->invoke;
		/*
		 * A write takes effect when it commits, after a node
		 * persisted it: narrowing its interval to start there is
		 * sound and keeps the search small when clients time out.
		 */
		if (h->type != SIM_OP_GET && h->ret != LINCHECK_PENDING &&
		    (!h->persisted || h->persist_time > h->ret)) {
			sim_fail(s, "op %zu (client %d) was acknowledged before "
			    "any node persisted it", k, h->client);
			break;
		}
		if (h->type != SIM_OP_GET && h->persisted &&
		    h->persist_time > op.invoke)
			op.invoke = h->persist_time;
		op.ret = h->ret;
		op.ok = h->ok;
		if (h->type != SIM_OP_GET && h->ret == LINCHECK_PENDING &&
		    h->applied) {
			/* It took effect by the time anyone applied it. */
			op.ret = h->apply_time;
			op.ok = h->apply_ok;
			h->result = h->apply_prev;
		}
		switch (h->type) {
		case SIM_OP_GET:
			op.type = LINCHECK_READ;
			op.result = sim_val(h->result, t1, sizeof(t1));
			break;
		case SIM_OP_PUT:
			op.type = LINCHECK_WRITE;
			op.value = sim_val(h->value, t1, sizeof(t1));
			break;
		case SIM_OP_DEL:
			op.type = LINCHECK_DELETE;
			break;
		default:
			op.type = LINCHECK_CAS;
			op.value = sim_val(h->value, t1, sizeof(t1));
			op.expect = sim_val(h->expect, t2, sizeof(t2));
			if (op.ret != LINCHECK_PENDING) {
				op.has_prev = 1;
				op.prev = sim_val(h->result, t3, sizeof(t3));
			}
			break;
		}
		if (lincheck_add(lc, &op) == -1)
			sim_fail(s, "history op %zu: %s", k, log_reason());
	}
	r = lincheck_check(lc, &why);
	if (r == LINCHECK_VIOLATION)
		sim_fail(s, "history of %zu ops: %s", s->nhist, why.data);
	else if (r == LINCHECK_GAVE_UP) {
		(*gaveup)++;
		warnx("seed %" PRIu64 ": %s", s->seed, why.data);
	}
	lincheck_free(lc);
	buf_free(&why);
}

struct sim_totals {
	uint64_t runs, failures, steps, gaveup, ops, acked, reads, crashes,
	    partitions, conf, transfers, snapshots, elections, messages;
};

static int
sim_run(uint64_t seed, const struct sim_opts *o, struct sim_totals *t,
    struct buf *why)
{
	struct sim s;
	uint64_t steps = o->steps;
	int failed, nnodes = o->nnodes;

	if (nnodes == 0)
		nnodes = 3 + 2 * (int)(seed % 3);
	sim_init(&s, seed, o, nnodes, 0);
	for (s.step = 1; s.step <= steps && !s.failed; s.step++)
		sim_step(&s);
	if (!s.failed)
		sim_settle(&s);
	if (!s.failed)
		sim_final(&s);
	if (o->histfile != NULL)
		sim_write_history(&s, o->histfile);
	if (!s.failed)
		sim_lincheck(&s, &t->gaveup);
	failed = s.failed;
	t->runs++;
	t->failures += failed;
	t->steps += s.step - 1;
	t->ops += s.nhist;
	t->acked += s.n_acked;
	t->reads += s.n_reads;
	t->crashes += s.n_crashes;
	t->partitions += s.n_partitions;
	t->conf += s.n_conf;
	t->transfers += s.n_transfers;
	t->snapshots += s.n_snapshots;
	t->elections += s.n_elections;
	t->messages += s.net.sent;
	if (o->tap)
		ok(!failed, "seed %" PRIu64 ": %d nodes, %" PRIu64 " steps, "
		    "%zu ops", seed, nnodes, steps, s.nhist);
	if (failed && why != NULL)
		buf_printf(why, "seed %" PRIu64 " step %" PRIu64 ": %s", seed,
		    s.step - 1, s.why.data);
	if (failed && !o->silent) {
		fprintf(stderr, "raft_sim: seed %" PRIu64 " (%d nodes) failed "
		    "at step %" PRIu64 ": %s\nreplay: raft_sim -s %" PRIu64
		    " -n %" PRIu64 " -N %d%s%s%s%s -v\n", seed, nnodes,
		    s.step - 1, s.why.data, seed, steps, nnodes,
		    o->unsynced_snap ? " -U" : "",
		    o->no_request_snap ? " -S" : "", o->mutation ? " -M " : "",
		    o->mutation ? sim_mutations[o->mutation] : "");
	}
	sim_destroy(&s);
	return failed;
}

/*
 * The checks can fail: plant each bug and expect a seed to catch it.
 * Short runs over the node counts, as TAP tests.
 */
static void
sim_selfcheck(const struct sim_opts *base)
{
	struct sim_opts o = *base;
	struct sim_totals t;
	struct buf why = BUF_INIT;
	uint64_t seed;
	int m, caught;

	o.silent = 1;
	o.tap = 0;
	o.steps = 3000;
	for (m = 1; m < SIM_MUT_MAX; m++) {
		if (m == SIM_MUT_FORGET_VOTE)
			continue;	/* too rare to catch in a few seeds */
		o.mutation = m;
		caught = 0;
		buf_reset(&why);
		for (seed = 1; seed <= 30 && !caught; seed++) {
			memset(&t, 0, sizeof(t));
			caught = sim_run(seed, &o, &t, &why);
		}
		ok(caught, "planted bug '%s' is caught: %s", sim_mutations[m],
		    caught ? (char *)why.data : "no seed failed");
	}
	buf_free(&why);
}

static double
sim_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Proposals committed per second through the library: three nodes, no
 * faults, the leader proposing batches every step, no safety checks.
 */
static void
sim_bench(uint64_t seed, const struct sim_opts *o)
{
	struct sim s;
	struct sim_node *l;
	struct sim_msg m;
	struct sim_node *to;
	uint8_t data[SIM_OPSIZE];
	uint64_t before = 0, committed, i;
	double t0, t1;
	int j, k;

	uint64_t steps = o->steps;

	sim_init(&s, seed, o, 3, 1);
	memset(data, 'B', sizeof(data));
	/* Elect a leader first. */
	for (s.step = 1; s.step < 200 && sim_leader(&s) == NULL; s.step++)
		sim_step(&s);
	l = sim_leader(&s);
	if (l == NULL)
		errx(1, "bench: no leader");
	before = l->applied;
	t0 = sim_clock();
	for (i = 0; i < steps; i++, s.step++) {
		for (k = 0; k < 256; k++)
			if (raft_propose(l->r, data, sizeof(data), NULL) != 0)
				break;
		while (sim_net_pop(&s.net, s.step, &m)) {
			to = sim_node_byid(&s, m.to);
			if (to != NULL && to->up)
				sim_node_deliver(&s, to, &m);
			buf_free(&m.wire);
		}
		for (j = 0; j < s.nnodes; j++)
			raft_tick(s.nodes[j].r);
		for (j = 0; j < s.nnodes; j++)
			sim_node_ready(&s, &s.nodes[j], 0);
		sim_compact(&s);
		if (s.failed)
			errx(1, "bench: %s", s.why.data);
	}
	t1 = sim_clock();
	committed = l->applied - before;
	printf("raft_sim bench: 3 nodes, %" PRIu64 " steps, %" PRIu64
	    " proposals committed in %.2f s: %.0f/s\n", steps, committed,
	    t1 - t0, committed / (t1 - t0));
	sim_destroy(&s);
}

int
main(int argc, char *argv[])
{
	struct sim_totals t;
	struct sim_opts o;
	const char *errstr;
	uint64_t seed = 0, count = 1, i;
	long long secs = 0;
	int ch, quiet = 0, bench = 0, seeded = 0, selfcheck = 0;
	double start;

	log_init("raft_sim", LOG_LEVEL_WARN, 0);
	memset(&o, 0, sizeof(o));
	o.steps = 10000;
	while ((ch = getopt(argc, argv, "bc:d:H:KM:N:n:qSs:TUv")) != -1) {
		switch (ch) {
		case 'b':
			bench = 1;
			break;
		case 'c':
			count = strtonum(optarg, 0, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "count '%s' is %s", optarg, errstr);
			break;
		case 'd':
			secs = strtonum(optarg, 1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "duration '%s' is %s", optarg, errstr);
			break;
		case 'H':
			o.histfile = optarg;
			break;
		case 'K':
			selfcheck = 1;
			break;
		case 'M':
			for (i = 1; i < SIM_MUT_MAX; i++)
				if (strcmp(optarg, sim_mutations[i]) == 0)
					o.mutation = i;
			if (o.mutation == 0)
				errx(2, "unknown mutation '%s'", optarg);
			break;
		case 'N':
			o.nnodes = strtonum(optarg, 3, SIM_MAXNODES, &errstr);
			if (errstr != NULL)
				errx(2, "nodes '%s' is %s", optarg, errstr);
			break;
		case 'n':
			o.steps = strtonum(optarg, 1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "steps '%s' is %s", optarg, errstr);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'S':
			o.no_request_snap = 1;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			seeded = 1;
			break;
		case 'T':
			o.tap = 1;
			break;
		case 'U':
			o.unsynced_snap = 1;
			break;
		case 'v':
			o.verbose++;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	if (!seeded) {
		seed = (uint64_t)time(NULL) * 1000003 ^ (uint64_t)getpid();
		seed %= 1000000000;
	}
	if (bench) {
		sim_bench(seed, &o);
		return 0;
	}
	memset(&t, 0, sizeof(t));
	start = sim_clock();
	if (o.tap && secs == 0)
		plan((int)count + (selfcheck ? SIM_MUT_MAX - 2 : 0));
	if (selfcheck)
		sim_selfcheck(&o);
	for (i = 0; secs > 0 || i < count; i++) {
		if (secs > 0 && sim_clock() - start > secs)
			break;
		sim_run(seed + i, &o, &t, NULL);
	}
	if (!quiet)
		fprintf(o.tap ? stdout : stderr, "%sraft_sim: seeds %" PRIu64
		    "..%" PRIu64 ", %" PRIu64 " runs, %" PRIu64 " steps in "
		    "%.1f s, %" PRIu64 " failed; %" PRIu64 " ops (%" PRIu64
		    " writes acked, %" PRIu64 " reads), %" PRIu64 " elections, "
		    "%" PRIu64 " crashes, %" PRIu64 " partitions, %" PRIu64
		    " conf changes, %" PRIu64 " transfers, %" PRIu64
		    " snapshots, %" PRIu64 " messages, %" PRIu64
		    " lincheck gave up\n", o.tap ? "# " : "", seed,
		    seed + t.runs - 1, t.runs, t.steps, sim_clock() - start,
		    t.failures, t.ops, t.acked, t.reads, t.elections,
		    t.crashes, t.partitions, t.conf, t.transfers, t.snapshots,
		    t.messages, t.gaveup);
	if (o.tap)
		return done_testing();
	return t.failures > 0;
}
