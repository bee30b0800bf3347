/*
 * Raft reads and leadership transfer: ReadIndex confirmed by a heartbeat
 * round, lease reads and what voids a lease, forwarding, and transfer
 * (catch up, TimeoutNow, dropped proposals, timeout, refusals).
 */
#include <string.h>

#include "raft.h"
#include "raftnet.h"
#include "raftwire.h"
#include "tap.h"

static struct raft_config
lease_cfg(void)
{
	struct raft_config c = raftnet_config();

	c.check_quorum = 1;
	c.read_only_option = RAFT_READ_LEASE_BASED;
	return c;
}

static struct raftnet *
group(const struct raft_config *c, int n, int nvoters)
{
	struct raftnet *net = raftnet_new(n, nvoters, c);

	if (c->read_only_option == RAFT_READ_LEASE_BASED)
		raftnet_tick_all(net, c->election_tick);
	raftnet_campaign(net, 1);
	return net;
}

static int
read(struct raftnet *net, uint64_t id, const char *ctx)
{
	int rc;

	rc = raft_read_index(raftnet_raft(net, id), ctx, strlen(ctx));
	raftnet_run(net);
	return rc;
}

static size_t
nreads(struct raftnet *net, uint64_t id)
{
	return raftnet_node(net, id)->nreads;
}

static const char *
read_ctx(struct raftnet *net, uint64_t id, size_t i)
{
	return raftnet_node(net, id)->read_ctx[i];
}

static uint64_t
read_index(struct raftnet *net, uint64_t id, size_t i)
{
	return raftnet_node(net, id)->read_index[i];
}

static void
test_read_index(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);

	raftnet_propose(net, 1, "a");
	is_int(read(net, 1, "r1"), 0, "readindex: the leader takes a read");
	is_int(nreads(net, 1), 1,
	    "readindex: a read state comes out after a round");
	is_int(read_index(net, 1, 0), 2,
	    "readindex: the read index is the commit index");
	is_str(read_ctx(net, 1, 0), "r1", "readindex: the context comes back");
	raftnet_free(net);
}

static void
test_read_waits_for_quorum(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);

	net->hold = 1;
	read(net, 1, "r");
	is_int(nreads(net, 1), 0, "readindex: no read state before the round");
	is_int(raftnet_count(net, RAFT_MSG_HEARTBEAT), 2,
	    "readindex: a read starts a heartbeat round at once");
	raftnet_deliver_first(net, RAFT_MSG_HEARTBEAT, 1, 2);
	raftnet_deliver_first(net, RAFT_MSG_HEARTBEAT_RESP, 2, 1);
	is_int(nreads(net, 1), 1,
	    "readindex: one echo of two followers makes a quorum of three");
	raftnet_free(net);
}

static void
test_read_new_leader(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(3, 3, &c);
	long i;

	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	raftnet_run(net);
	while ((i = raftnet_find(net, RAFT_MSG_VOTE, 0, 0)) >= 0)
		raftnet_deliver(net, (size_t)i);
	while ((i = raftnet_find(net, RAFT_MSG_VOTE_RESP, 0, 0)) >= 0)
		raftnet_deliver(net, (size_t)i);
	is_int(raftnet_role(net, 1), RAFT_LEADER, "node 1 leads");
	is_int(raft_read_index(raftnet_raft(net, 1), "r", 1), RAFT_ERR_DROPPED,
	    "readindex: a leader that has not committed in its term refuses "
	    "reads");
	net->hold = 0;
	raftnet_run(net);
	is_int(read(net, 1, "r"), 0,
	    "readindex: once its entry commits it serves reads");
	raftnet_free(net);
}

static void
test_read_forwarded(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);

	raftnet_propose(net, 1, "a");
	is_int(read(net, 2, "f"), 0, "readindex: a follower forwards a read");
	ok(nreads(net, 2) == 1 && read_index(net, 2, 0) == 2 &&
	    strcmp(read_ctx(net, 2, 0), "f") == 0,
	    "readindex: the follower gets the leader's read index and its "
	    "context");
	is_int(nreads(net, 1), 0, "readindex: the leader keeps no read state "
	    "for it");
	raftnet_free(net);
}

static void
test_reads_batched(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);
	long i;

	net->hold = 1;
	read(net, 1, "a");
	read(net, 1, "b");
	read(net, 1, "c");
	/* Only the last round's echoes arrive. */
	while ((i = raftnet_find(net, RAFT_MSG_HEARTBEAT, 0, 0)) >= 0) {
		struct raft_msg m;

		raftnet_peek(net, (size_t)i, &m);
		if (m.context_len == 8 && m.context[7] == 3)
			raftnet_deliver(net, (size_t)i);
		else
			raftnet_drop(net, (size_t)i);
		raftwire_msg_free(&m);
	}
	while ((i = raftnet_find(net, RAFT_MSG_HEARTBEAT_RESP, 0, 0)) >= 0)
		raftnet_deliver(net, (size_t)i);
	ok(nreads(net, 1) == 3 && strcmp(read_ctx(net, 1, 0), "a") == 0 &&
	    strcmp(read_ctx(net, 1, 2), "c") == 0,
	    "readindex: a later round confirms every earlier read, in order");
	raftnet_free(net);
}

static void
test_read_old_round_not_enough(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);
	long i;

	net->hold = 1;
	raft_tick(raftnet_raft(net, 1));
	raftnet_run(net);
	read(net, 1, "late");
	/* Deliver only the tick's round (round 1) and its echoes. */
	i = raftnet_find(net, RAFT_MSG_HEARTBEAT, 1, 2);
	raftnet_deliver(net, (size_t)i);
	raftnet_deliver_first(net, RAFT_MSG_HEARTBEAT_RESP, 2, 1);
	is_int(nreads(net, 1), 0,
	    "readindex: an echo of a round older than the read does not "
	    "confirm it");
	raftnet_free(net);
}

static void
test_read_single(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 1, 1);

	raft_read_index(raftnet_raft(net, 1), "s", 1);
	raftnet_ready(net, 1);
	ok(nreads(net, 1) == 1 && net->sent[RAFT_MSG_HEARTBEAT] == 0,
	    "readindex: a single voter answers at once");
	raftnet_free(net);
}

static void
test_read_stale_leader(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);

	raftnet_isolate(net, 1);
	raftnet_campaign(net, 2);
	raftnet_propose(net, 2, "new");
	is_int(read(net, 1, "stale"), 0, "an isolated old leader takes a read");
	raftnet_tick(net, 1, 5);
	is_int(nreads(net, 1), 0,
	    "readindex: a deposed leader never confirms a read");
	raftnet_heal(net);
	raftnet_tick_all(net, 3);
	is_int(nreads(net, 1), 0,
	    "readindex: its pending reads are dropped when it steps down");
	raftnet_free(net);
}

static void
test_read_no_leader(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(3, 3, &c);

	is_int(raft_read_index(raftnet_raft(net, 2), "x", 1), RAFT_ERR_DROPPED,
	    "readindex: a follower without a leader refuses reads");
	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	is_int(raft_read_index(raftnet_raft(net, 1), "x", 1), RAFT_ERR_DROPPED,
	    "readindex: a candidate refuses reads");
	raftnet_free(net);
}

static void
test_read_learner_echo(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 2);

	raftnet_cut(net, 1, 2);
	read(net, 1, "l");
	is_int(nreads(net, 1), 0,
	    "readindex: a learner's echo does not confirm leadership");
	raftnet_free(net);
}

static void
test_read_after_write(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);
	uint64_t idx;

	raft_propose(raftnet_raft(net, 1), "w", 1, &idx);
	raftnet_run(net);
	read(net, 3, "r");
	ok(nreads(net, 3) == 1 && read_index(net, 3, 0) >= idx &&
	    raftnet_node(net, 3)->applied >= read_index(net, 3, 0),
	    "readindex: a read after a committed write waits for the write");
	raftnet_free(net);
}

/* Lease reads. */

static void
test_lease_read(void)
{
	struct raft_config c = lease_cfg();
	struct raftnet *net = group(&c, 3, 3);
	uint64_t hb;

	raftnet_tick_all(net, 2);
	hb = net->sent[RAFT_MSG_HEARTBEAT];
	raft_read_index(raftnet_raft(net, 1), "l", 1);
	raftnet_ready(net, 1);
	ok(nreads(net, 1) == 1 && net->sent[RAFT_MSG_HEARTBEAT] == hb,
	    "lease: a leader in its lease answers without a round");
	read(net, 2, "f");
	ok(nreads(net, 2) == 1 && net->sent[RAFT_MSG_HEARTBEAT] == hb,
	    "lease: a forwarded read is answered from the lease too");
	raftnet_free(net);
}

static void
test_lease_expires(void)
{
	struct raft_config c = lease_cfg();
	struct raftnet *net = group(&c, 3, 3);
	int k, served = 0;

	raftnet_tick_all(net, 2);
	raftnet_isolate(net, 1);
	for (k = 0; k < 8; k++)
		raftnet_tick(net, 1, 1);
	raft_read_index(raftnet_raft(net, 1), "a", 1);
	raftnet_ready(net, 1);
	is_int(nreads(net, 1), 1,
	    "lease: still valid shortly after the last echo");
	raftnet_tick(net, 1, 1);
	raft_read_index(raftnet_raft(net, 1), "b", 1);
	raftnet_ready(net, 1);
	served = (int)nreads(net, 1) - 1;
	is_int(served, 0,
	    "lease: expired (9 of 10 ticks) a read falls back to a round");
	is_int(raftnet_role(net, 1), RAFT_LEADER,
	    "lease: the lease ends before check quorum deposes the leader");
	raftnet_free(net);
}

static void
test_lease_never_two_leaders(void)
{
	struct raft_config c = lease_cfg();
	struct raftnet *net = group(&c, 3, 3);
	int k, bad = 0;
	size_t before;

	raftnet_tick_all(net, 3);
	raftnet_isolate(net, 1);
	for (k = 0; k < 60; k++) {
		raftnet_tick_all(net, 1);
		before = nreads(net, 1);
		if (raftnet_role(net, 1) == RAFT_LEADER &&
		    raft_read_index(raftnet_raft(net, 1), "z", 1) == 0) {
			raftnet_ready(net, 1);
			if (nreads(net, 1) > before &&
			    (raftnet_role(net, 2) == RAFT_LEADER ||
			    raftnet_role(net, 3) == RAFT_LEADER))
				bad++;
		}
	}
	ok(raftnet_role(net, 2) == RAFT_LEADER ||
	    raftnet_role(net, 3) == RAFT_LEADER,
	    "lease: the majority elects a new leader");
	is_int(bad, 0, "lease: the old leader never serves a lease read once "
	    "another leader exists");
	raftnet_free(net);
}

static void
test_lease_void_after_transfer(void)
{
	struct raft_config c = lease_cfg();
	struct raftnet *net = group(&c, 3, 3);

	raftnet_tick_all(net, 2);
	net->hold = 1;
	raft_transfer_leader(raftnet_raft(net, 1), 2);
	raftnet_run(net);
	ok(raftnet_find(net, RAFT_MSG_TIMEOUT_NOW, 1, 2) >= 0,
	    "transfer: an up-to-date transferee is sent TimeoutNow at once");
	raftnet_clear(net);
	raftnet_tick(net, 1, 12);	/* the transfer times out */
	raft_read_index(raftnet_raft(net, 1), "v", 1);
	raftnet_ready(net, 1);
	is_int(nreads(net, 1), 0,
	    "lease: after TimeoutNow the leader's lease is void for the term");
	raftnet_free(net);
}

static void
test_lease_boot_wait(void)
{
	struct raft_config c = lease_cfg();
	struct raftnet *net = raftnet_new(3, 3, &c);

	raftnet_campaign(net, 1);
	ok(raftnet_role(net, 1) != RAFT_LEADER,
	    "lease: freshly started voters sit out one election timeout");
	raftnet_tick_all(net, 40);
	ok(raftnet_leader(net) != 0, "lease: then the group elects");
	raftnet_free(net);
}

/* Leadership transfer. */

static void
test_transfer(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);

	raftnet_propose(net, 1, "a");
	is_int(raft_transfer_leader(raftnet_raft(net, 1), 2), 0,
	    "transfer: the leader takes a transfer request");
	raftnet_run(net);
	ok(raftnet_leader(net) == 2 && raftnet_term(net, 2) == 2,
	    "transfer: the transferee campaigns at once and leads the next "
	    "term");
	is_int(raftnet_role(net, 1), RAFT_FOLLOWER, "transfer: the old leader "
	    "follows");
	raftnet_propose(net, 2, "b");
	ok(raftnet_same_applied(net, 1, 2) &&
	    raftnet_node(net, 1)->napplied == 2,
	    "transfer: no committed entry is lost");
	raftnet_free(net);
}

static void
test_transfer_catch_up(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);
	int i;

	raftnet_isolate(net, 3);
	for (i = 0; i < 5; i++)
		raftnet_propose(net, 1, "x");
	raftnet_heal(net);
	net->hold = 1;
	raft_transfer_leader(raftnet_raft(net, 1), 3);
	raftnet_run(net);
	ok(raftnet_find(net, RAFT_MSG_TIMEOUT_NOW, 1, 3) < 0 &&
	    raftnet_find(net, RAFT_MSG_APPEND, 1, 3) >= 0,
	    "transfer: a lagging transferee is first caught up");
	net->hold = 0;
	raftnet_run(net);
	is_int(raftnet_leader(net), 3,
	    "transfer: TimeoutNow follows once it has the whole log");
	ok(raftnet_same_applied(net, 1, 3),
	    "transfer: the new leader has it all");
	raftnet_free(net);
}

static void
test_transfer_drops_proposals(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);
	struct raft_status s;

	raftnet_isolate(net, 3);
	raft_transfer_leader(raftnet_raft(net, 1), 3);
	raftnet_run(net);
	is_int(raftnet_propose(net, 1, "p"), RAFT_ERR_DROPPED,
	    "transfer: proposals are dropped while transferring");
	raftnet_tick(net, 1, 9);
	raft_status(raftnet_raft(net, 1), &s);
	is_int(s.lead_transferee, 3, "transfer: still transferring before the "
	    "timeout");
	raftnet_tick(net, 1, 3);
	raft_status(raftnet_raft(net, 1), &s);
	ok(s.lead_transferee == 0 && s.role == RAFT_LEADER,
	    "transfer: abandoned after an election timeout; the leader stays");
	is_int(raftnet_propose(net, 1, "p"), 0,
	    "transfer: proposals are taken again after the timeout");
	raftnet_free(net);
}

static void
test_transfer_refusals(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);

	is_int(raft_transfer_leader(raftnet_raft(net, 1), 1), RAFT_ERR_REFUSED,
	    "transfer: a leader cannot transfer to itself");
	is_int(raft_transfer_leader(raftnet_raft(net, 1), 0), RAFT_ERR_INVALID,
	    "transfer: node 0 is no transferee");
	raftnet_free(net);
}

static void
test_transfer_forwarded(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);

	is_int(raft_transfer_leader(raftnet_raft(net, 2), 3), 0,
	    "transfer: a follower forwards a transfer request");
	raftnet_run(net);
	is_int(raftnet_leader(net), 3,
	    "transfer: the forwarded transfer happens");
	raftnet_free(net);
}

static void
test_transfer_check_quorum(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.check_quorum = 1;
	net = group(&c, 3, 3);
	raftnet_tick_all(net, 2);
	raft_transfer_leader(raftnet_raft(net, 1), 2);
	raftnet_run(net);
	is_int(raftnet_leader(net), 2,
	    "transfer: voters in the old leader's lease still vote for the "
	    "transferee");
	raftnet_free(net);
}

static void
test_transfer_prevote(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	uint64_t pv;

	c.pre_vote = 1;
	net = group(&c, 3, 3);
	pv = net->sent[RAFT_MSG_PREVOTE];
	raft_transfer_leader(raftnet_raft(net, 1), 3);
	raftnet_run(net);
	ok(raftnet_leader(net) == 3 && net->sent[RAFT_MSG_PREVOTE] == pv,
	    "transfer: the transferee skips the pre-vote");
	raftnet_free(net);
}

static void
test_transfer_retarget(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 3);
	struct raft_status s;

	raftnet_isolate(net, 2);
	raftnet_isolate(net, 3);
	raft_transfer_leader(raftnet_raft(net, 1), 2);
	is_int(raft_transfer_leader(raftnet_raft(net, 1), 2), 0,
	    "transfer: repeating a transfer is a no-op");
	raft_transfer_leader(raftnet_raft(net, 1), 3);
	raft_status(raftnet_raft(net, 1), &s);
	is_int(s.lead_transferee, 3, "transfer: a new target replaces the old");
	raftnet_free(net);
}

static void
test_transfer_learner_timeout_now(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3, 2);
	struct raft_msg m;

	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_TIMEOUT_NOW;
	m.to = 3;
	m.from = 1;
	m.term = 1;
	raftnet_send(net, &m);
	ok(raftnet_role(net, 3) == RAFT_FOLLOWER && raftnet_leader(net) == 1,
	    "transfer: a learner ignores TimeoutNow");
	raftnet_free(net);
}

int
main(void)
{
	test_read_index();
	test_read_waits_for_quorum();
	test_read_new_leader();
	test_read_forwarded();
	test_reads_batched();
	test_read_old_round_not_enough();
	test_read_single();
	test_read_stale_leader();
	test_read_no_leader();
	test_read_learner_echo();
	test_read_after_write();
	test_lease_read();
	test_lease_expires();
	test_lease_never_two_leaders();
	test_lease_void_after_transfer();
	test_lease_boot_wait();
	test_transfer();
	test_transfer_catch_up();
	test_transfer_drops_proposals();
	test_transfer_refusals();
	test_transfer_forwarded();
	test_transfer_check_quorum();
	test_transfer_prevote();
	test_transfer_retarget();
	test_transfer_learner_timeout_now();
	return done_testing();
}
