/*
 * Raft core: elections, votes and terms (the paper's section 5 rules),
 * PreVote, CheckQuorum, log replication and the commit rule, log
 * conflicts, duplicated and reordered messages, restarts, and the
 * ready/advance handshake.
 */
#include <stdio.h>
#include <string.h>

#include "raft.h"
#include "raftnet.h"
#include "raftwire.h"
#include "tap.h"

static struct raftnet *
net3(void)
{
	struct raft_config c = raftnet_config();

	return raftnet_new(3, 3, &c);
}

/* A network of n voters where node 1 has been elected. */
static struct raftnet *elected(int, const struct raft_config *)
    __attribute__((unused));

static struct raftnet *
elected(int n, const struct raft_config *c)
{
	struct raftnet *net = raftnet_new(n, n, c);

	raftnet_campaign(net, 1);
	return net;
}

static void
test_single_node(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(1, 1, &c);

	raftnet_campaign(net, 1);
	is_int(raftnet_role(net, 1), RAFT_LEADER,
	    "election: a single voter elects itself at once");
	is_int(raftnet_commit(net, 1), 1,
	    "election: a single voter commits its empty entry by itself");
	is_int(raftnet_propose(net, 1, "x"), 0,
	    "a single voter takes a proposal");
	is_int(raftnet_node(net, 1)->napplied, 1,
	    "a single voter applies its own proposal");
	raftnet_free(net);
}

static void
test_basic_election(void)
{
	struct raftnet *net = net3();

	raftnet_campaign(net, 1);
	is_int(raftnet_role(net, 1), RAFT_LEADER,
	    "election: a candidate with a majority of votes becomes leader");
	is_int(raftnet_term(net, 1), 1, "election: the first term is 1");
	ok(raftnet_lead_of(net, 2) == 1 && raftnet_lead_of(net, 3) == 1,
	    "election: followers learn the leader from its append");
	is_int(raftnet_commit(net, 2), 1,
	    "election: the leader's empty entry commits on every node");
	raftnet_free(net);
}

/* Step a hand-made message into node to and handle its ready. */
static int
step(struct raftnet *net, uint64_t to, int type, uint64_t from,
    uint64_t term, uint64_t index, uint64_t log_term, uint64_t commit,
    int reject)
{
	struct raft_msg m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.to = to;
	m.from = from;
	m.term = term;
	m.index = index;
	m.log_term = log_term;
	m.commit = commit;
	m.reject = reject;
	rc = raft_step(raftnet_raft(net, to), &m);
	raftnet_ready(net, to);
	return rc;
}

/* The last pending message of type from -> to, decoded; 0 if found. */
static int
last_msg(struct raftnet *net, int type, uint64_t from, uint64_t to,
    struct raft_msg *m)
{
	size_t i;

	for (i = net->npending; i-- > 0;) {
		if (net->pending[i].type == type &&
		    net->pending[i].from == from && net->pending[i].to == to)
			return raftnet_peek(net, i, m);
	}
	return -1;
}

static uint64_t
vote_of(struct raftnet *net, uint64_t id)
{
	struct raft_status s;

	raft_status(raftnet_raft(net, id), &s);
	return s.hs.vote;
}

static int
timeout_of(struct raftnet *net, uint64_t id)
{
	struct raft_status s;

	raft_status(raftnet_raft(net, id), &s);
	return s.randomized_election_timeout;
}

static void
test_candidate_state(void)
{
	struct raftnet *net = net3();

	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	raftnet_run(net);
	is_int(raftnet_role(net, 1), RAFT_CANDIDATE,
	    "5.2: a campaigning follower becomes candidate");
	is_int(raftnet_term(net, 1), 1, "5.2: a candidate increments its term");
	is_int(vote_of(net, 1), 1, "5.2: a candidate votes for itself");
	is_int(raftnet_count(net, RAFT_MSG_VOTE), 2,
	    "5.2: a candidate asks every other voter for its vote");
	ok(net->nodes[0].last.must_sync,
	    "5.2: the new term and vote are synced before votes go out");
	raftnet_free(net);
}

static void
test_vote_rejections_lose(void)
{
	struct raftnet *net = net3();

	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	raftnet_run(net);
	raftnet_clear(net);
	step(net, 1, RAFT_MSG_VOTE_RESP, 2, 1, 0, 0, 0, 1);
	is_int(raftnet_role(net, 1), RAFT_CANDIDATE,
	    "5.2: one rejection of three leaves the election open");
	step(net, 1, RAFT_MSG_VOTE_RESP, 3, 1, 0, 0, 0, 1);
	is_int(raftnet_role(net, 1), RAFT_FOLLOWER,
	    "5.2: a candidate rejected by a majority returns to follower");
	raftnet_free(net);
}

static void
test_duplicate_vote_counts_once(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(5, 5, &c);

	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	raftnet_run(net);
	raftnet_clear(net);
	step(net, 1, RAFT_MSG_VOTE_RESP, 2, 1, 0, 0, 0, 0);
	step(net, 1, RAFT_MSG_VOTE_RESP, 2, 1, 0, 0, 0, 0);
	step(net, 1, RAFT_MSG_VOTE_RESP, 2, 1, 0, 0, 0, 0);
	is_int(raftnet_role(net, 1), RAFT_CANDIDATE,
	    "duplicated vote responses count once");
	step(net, 1, RAFT_MSG_VOTE_RESP, 3, 1, 0, 0, 0, 0);
	is_int(raftnet_role(net, 1), RAFT_LEADER,
	    "a third distinct vote of five wins");
	raftnet_free(net);
}

static void
test_split_vote(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(4, 4, &c);
	long i;

	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	raft_campaign(raftnet_raft(net, 2));
	raftnet_run(net);
	/* 3 hears from 1 first, 4 from 2 first. */
	i = raftnet_find(net, RAFT_MSG_VOTE, 1, 3);
	raftnet_deliver(net, (size_t)i);
	i = raftnet_find(net, RAFT_MSG_VOTE, 2, 4);
	raftnet_deliver(net, (size_t)i);
	net->hold = 0;
	raftnet_run(net);
	ok(raftnet_role(net, 1) != RAFT_LEADER &&
	    raftnet_role(net, 2) != RAFT_LEADER,
	    "split vote: two candidates with two votes of four both lose");
	is_int(vote_of(net, 3), 1, "split vote: a voter keeps its first vote");
	raftnet_tick_all(net, 40);
	ok(raftnet_leader(net) != 0,
	    "split vote: randomized timeouts elect a leader later");
	raftnet_free(net);
}

static void
test_vote_once_per_term(void)
{
	struct raftnet *net = net3();
	struct raft_msg m;

	net->hold = 1;
	step(net, 3, RAFT_MSG_VOTE, 2, 1, 0, 0, 0, 0);
	is_int(vote_of(net, 3), 2, "5.2: a voter grants its vote");
	step(net, 3, RAFT_MSG_VOTE, 1, 1, 0, 0, 0, 0);
	ok(last_msg(net, RAFT_MSG_VOTE_RESP, 3, 1, &m) == 0 && m.reject,
	    "5.2: at most one vote per term: a second candidate is refused");
	raftwire_msg_free(&m);
	step(net, 3, RAFT_MSG_VOTE, 2, 1, 0, 0, 0, 0);
	ok(last_msg(net, RAFT_MSG_VOTE_RESP, 3, 2, &m) == 0 && !m.reject,
	    "a repeated vote request from the same candidate is granted again");
	raftwire_msg_free(&m);
	step(net, 3, RAFT_MSG_VOTE, 1, 2, 0, 0, 0, 0);
	ok(last_msg(net, RAFT_MSG_VOTE_RESP, 3, 1, &m) == 0 && !m.reject &&
	    m.term == 2, "5.2: a new term brings a new vote");
	raftwire_msg_free(&m);
	raftnet_free(net);
}

static void
test_vote_up_to_date(void)
{
	struct raftnet *net = elected(3, &(struct raft_config){
	    .election_tick = 10, .heartbeat_tick = 1 });
	struct raft_msg m;
	uint64_t li, lt;

	raftnet_propose(net, 1, "a");
	li = raftnet_last(net, 2);
	lt = raftnet_term(net, 2);
	net->hold = 1;
	step(net, 2, RAFT_MSG_VOTE, 3, 5, li + 10, lt - 1, 0, 0);
	ok(last_msg(net, RAFT_MSG_VOTE_RESP, 2, 3, &m) == 0 && m.reject,
	    "5.4.1: a longer log of an older last term is not up to date");
	raftwire_msg_free(&m);
	step(net, 2, RAFT_MSG_VOTE, 3, 6, li - 1, lt, 0, 0);
	ok(last_msg(net, RAFT_MSG_VOTE_RESP, 2, 3, &m) == 0 && m.reject,
	    "5.4.1: a shorter log of the same last term is not up to date");
	raftwire_msg_free(&m);
	step(net, 2, RAFT_MSG_VOTE, 3, 7, li, lt, 0, 0);
	ok(last_msg(net, RAFT_MSG_VOTE_RESP, 2, 3, &m) == 0 && !m.reject,
	    "5.4.1: an equal log is up to date");
	raftwire_msg_free(&m);
	step(net, 1, RAFT_MSG_VOTE, 3, 8, 1, lt + 1, 0, 0);
	ok(last_msg(net, RAFT_MSG_VOTE_RESP, 1, 3, &m) == 0 && !m.reject,
	    "5.4.1: a later last term wins over a longer log");
	raftwire_msg_free(&m);
	is_int(raftnet_role(net, 1), RAFT_FOLLOWER,
	    "5.1: a leader seeing a higher term steps down");
	raftnet_free(net);
}

static void
test_election_timeout(void)
{
	struct raftnet *net = net3();
	int t = timeout_of(net, 1), k;

	ok(t >= 10 && t < 20,
	    "randomized election timeout is in [election, 2 * election)");
	net->hold = 1;
	for (k = 0; k < t - 1; k++)
		raft_tick(raftnet_raft(net, 1));
	is_int(raftnet_role(net, 1), RAFT_FOLLOWER,
	    "5.2: a follower waits for its whole election timeout");
	raft_tick(raftnet_raft(net, 1));
	is_int(raftnet_role(net, 1), RAFT_CANDIDATE,
	    "5.2: a follower that hears nothing campaigns after the timeout");
	raftnet_free(net);
}

static void
test_timeouts_deterministic(void)
{
	struct raftnet *a = net3(), *b = net3();
	int i, same = 1, differ = 0, ta[3];

	for (i = 0; i < 3; i++) {
		ta[i] = timeout_of(a, (uint64_t)i + 1);
		if (ta[i] != timeout_of(b, (uint64_t)i + 1))
			same = 0;
	}
	for (i = 1; i < 3; i++)
		if (ta[i] != ta[0])
			differ = 1;
	ok(same, "the same seed gives the same election timeouts");
	ok(differ, "nodes of one group draw different timeouts");
	raftnet_free(a);
	raftnet_free(b);
}

static void
test_heartbeat_keeps_followers(void)
{
	struct raftnet *net = net3();
	uint64_t hb;

	raftnet_campaign(net, 1);
	hb = net->sent[RAFT_MSG_HEARTBEAT];
	raftnet_tick_all(net, 100);
	is_int(raftnet_leader(net), 1,
	    "5.2: heartbeats keep followers from campaigning");
	is_int(raftnet_term(net, 2), 1,
	    "5.2: the term stays while heartbeats flow");
	is_int(net->sent[RAFT_MSG_HEARTBEAT] - hb, 200,
	    "the leader sends a heartbeat to each follower every heartbeat "
	    "tick");
	raftnet_free(net);
}

static void
test_candidate_yields_to_leader(void)
{
	struct raftnet *net = net3();

	raftnet_campaign(net, 1);
	net->hold = 1;
	raft_campaign(raftnet_raft(net, 2));
	raftnet_run(net);
	raftnet_clear(net);
	is_int(raftnet_role(net, 2), RAFT_CANDIDATE,
	    "node 2 is candidate at term 2");
	step(net, 2, RAFT_MSG_APPEND, 3, 2, 1, 1, 1, 0);
	is_int(raftnet_role(net, 2), RAFT_FOLLOWER,
	    "5.2: a candidate that hears from a leader of its term follows it");
	is_int(raftnet_lead_of(net, 2), 3,
	    "the candidate records the new leader");
	raftnet_free(net);
}

static void
test_stale_term_ignored(void)
{
	struct raftnet *net = net3();
	struct raft_msg m;

	raftnet_campaign(net, 1);
	raftnet_campaign(net, 2);
	is_int(raftnet_leader(net), 2, "node 2 leads term 2");
	net->hold = 1;
	step(net, 3, RAFT_MSG_APPEND, 1, 1, 2, 1, 2, 0);
	is_int(raftnet_term(net, 3), 2,
	    "5.1: a message of an older term does not change the term");
	is_int(raftnet_lead_of(net, 3), 2,
	    "5.1: a stale leader's append is ignored");
	ok(last_msg(net, RAFT_MSG_APPEND_RESP, 3, 1, &m) != 0,
	    "without PreVote or CheckQuorum no reply goes to a stale leader");
	raftnet_free(net);
}

static void
test_partition_minority(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(5, 5, &c);

	raftnet_cut(net, 1, 4);
	raftnet_cut(net, 1, 5);
	raftnet_cut(net, 2, 4);
	raftnet_cut(net, 2, 5);
	raftnet_cut(net, 3, 4);
	raftnet_cut(net, 3, 5);
	raftnet_campaign(net, 4);
	ok(raftnet_role(net, 4) != RAFT_LEADER,
	    "a candidate in a minority partition cannot win");
	raftnet_campaign(net, 1);
	is_int(raftnet_role(net, 1), RAFT_LEADER,
	    "a candidate in the majority partition wins");
	is_int(raftnet_propose(net, 1, "m"), 0, "the majority takes writes");
	is_int(raftnet_commit(net, 3), raftnet_last(net, 1),
	    "the majority commits without the minority");
	raftnet_heal(net);
	raftnet_tick_all(net, 30);
	ok(raftnet_same_applied(net, 1, 4) && raftnet_same_applied(net, 1, 5),
	    "after healing, the minority catches up to the same state");
	raftnet_free(net);
}

static void
test_five_nodes_two_down(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(5, 5, &c);

	raftnet_crash(net, 4);
	raftnet_crash(net, 5);
	raftnet_tick_all(net, 50);
	ok(raftnet_leader(net) != 0, "five voters elect with two down");
	raftnet_crash(net, raftnet_leader(net));
	raftnet_tick_all(net, 100);
	is_int(raftnet_leader(net), 0,
	    "five voters cannot elect with three down");
	raftnet_free(net);
}

static void
test_learner_no_campaign(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(3, 2, &c);
	int k;

	for (k = 0; k < 60; k++) {
		raft_tick(raftnet_raft(net, 3));
		raftnet_run(net);
	}
	is_int(raftnet_role(net, 3), RAFT_FOLLOWER,
	    "a learner never campaigns on its own");
	is_int(raft_campaign(raftnet_raft(net, 3)), RAFT_ERR_REFUSED,
	    "a learner refuses to campaign when asked");
	raftnet_free(net);
}

static void
test_old_leader_steps_down(void)
{
	struct raftnet *net = net3();

	raftnet_campaign(net, 1);
	raftnet_isolate(net, 1);
	raftnet_campaign(net, 2);
	is_int(raftnet_role(net, 1), RAFT_LEADER,
	    "an isolated leader still believes it leads");
	is_int(raftnet_propose(net, 2, "new"), 0,
	    "the new leader takes writes");
	raftnet_heal(net);
	raftnet_tick_all(net, 3);
	is_int(raftnet_role(net, 1), RAFT_FOLLOWER,
	    "5.1: the old leader steps down when it sees the new term");
	is_int(raftnet_term(net, 1), 2, "the old leader adopts the new term");
	ok(raftnet_same_applied(net, 1, 2), "the old leader catches up");
	raftnet_free(net);
}

/* Replication and commit. */

static void
test_replication(void)
{
	struct raftnet *net = net3();
	uint64_t idx = 0;
	int rc;

	raftnet_campaign(net, 1);
	is_int(raftnet_last(net, 1), 1, "a new leader appends an empty entry");
	is_int(raft_term_at(raftnet_raft(net, 1), 1), 1,
	    "the empty entry carries the leader's term");
	rc = raft_propose(raftnet_raft(net, 1), "hello", 5, &idx);
	is_int(rc, 0, "5.3: the leader takes a proposal");
	is_int(idx, 2, "5.3: a proposal gets the next index");
	raftnet_run(net);
	ok(raftnet_commit(net, 1) == 2 && raftnet_commit(net, 2) == 2 &&
	    raftnet_commit(net, 3) == 2,
	    "5.3: a replicated entry commits everywhere");
	ok(raftnet_node(net, 2)->napplied == 1 &&
	    raftnet_node(net, 2)->log.n == 1 &&
	    raftnet_node(net, 2)->log.v[0].len == 5 &&
	    memcmp(raftnet_node(net, 2)->log.v[0].data, "hello", 5) == 0,
	    "5.3: followers apply the entry's data");
	raftnet_free(net);
}

static void
test_forwarding(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	is_int(raftnet_propose(net, 2, "fwd"), 0,
	    "a follower forwards a proposal to the leader");
	is_int(raftnet_node(net, 3)->napplied, 1,
	    "a forwarded proposal commits");
	raftnet_free(net);
	c.disable_proposal_forwarding = 1;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	is_int(raftnet_propose(net, 2, "fwd"), RAFT_ERR_DROPPED,
	    "with forwarding disabled a follower drops proposals");
	raftnet_free(net);
}

static void
test_no_leader_drops(void)
{
	struct raftnet *net = net3();

	is_int(raftnet_propose(net, 1, "x"), RAFT_ERR_DROPPED,
	    "a follower without a leader drops proposals");
	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	is_int(raftnet_propose(net, 1, "x"), RAFT_ERR_DROPPED,
	    "a candidate drops proposals");
	raftnet_free(net);
}

static void
test_commit_needs_majority(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(5, 5, &c);
	uint64_t before;

	raftnet_campaign(net, 1);
	raftnet_isolate(net, 4);
	raftnet_isolate(net, 5);
	raftnet_propose(net, 1, "a");
	is_int(raftnet_commit(net, 1), 2,
	    "5.3: three of five acknowledgements commit");
	raftnet_isolate(net, 3);
	before = raftnet_commit(net, 1);
	raftnet_propose(net, 1, "b");
	is_int(raftnet_commit(net, 1), before,
	    "5.3: two of five acknowledgements do not commit");
	raftnet_heal(net);
	raftnet_tick_all(net, 2);
	is_int(raftnet_commit(net, 1), 3,
	    "5.3: the entry commits once a majority has it");
	raftnet_free(net);
}

static void
test_old_term_commit_rule(void)
{
	struct raftnet *net = net3();
	long i;

	raftnet_campaign(net, 1);
	/* An entry of term 1 that only node 1 has. */
	raftnet_isolate(net, 1);
	raftnet_propose(net, 1, "old");
	raftnet_heal(net);
	raftnet_restart(net, 1);
	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	raftnet_run(net);
	while ((i = raftnet_find(net, RAFT_MSG_VOTE, 0, 0)) >= 0)
		raftnet_deliver(net, (size_t)i);
	while ((i = raftnet_find(net, RAFT_MSG_VOTE_RESP, 0, 0)) >= 0)
		raftnet_deliver(net, (size_t)i);
	is_int(raftnet_role(net, 1), RAFT_LEADER, "node 1 leads term 2");
	raftnet_clear(net);
	is_int(raftnet_last(net, 1), 3,
	    "its log holds the old entry and a new one");
	step(net, 1, RAFT_MSG_APPEND_RESP, 2, 2, 2, 0, 0, 0);
	is_int(raftnet_commit(net, 1), 1,
	    "5.4.2: an entry of an older term is not committed by counting "
	    "replicas");
	step(net, 1, RAFT_MSG_APPEND_RESP, 2, 2, 3, 0, 0, 0);
	is_int(raftnet_commit(net, 1), 3,
	    "5.4.2: committing an entry of the current term commits the older "
	    "ones");
	raftnet_free(net);
}

static void
test_follower_commit_from_leader(void)
{
	struct raftnet *net = net3();

	raftnet_campaign(net, 1);
	net->hold = 1;
	raft_propose(raftnet_raft(net, 1), "a", 1, NULL);
	raftnet_run(net);
	/* Replicate to 2 and 3; the leader commits; drop the next appends
	 * carrying the commit index, so only a heartbeat tells them. */
	while (raftnet_find(net, RAFT_MSG_APPEND, 1, 0) >= 0)
		raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 0);
	while (raftnet_find(net, RAFT_MSG_APPEND_RESP, 0, 1) >= 0)
		raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 0, 1);
	is_int(raftnet_commit(net, 1), 2, "the leader commits");
	is_int(raftnet_commit(net, 2), 1, "the follower does not know yet");
	raftnet_clear(net);
	raft_tick(raftnet_raft(net, 1));
	raftnet_run(net);
	raftnet_deliver_first(net, RAFT_MSG_HEARTBEAT, 1, 2);
	is_int(raftnet_commit(net, 2), 2,
	    "5.3: a follower learns the commit index from a heartbeat");
	raftnet_free(net);
}

static void
test_heartbeat_commit_capped(void)
{
	struct raftnet *net = net3();
	struct raft_msg m;

	raftnet_campaign(net, 1);
	raftnet_isolate(net, 3);
	raftnet_propose(net, 1, "a");
	raftnet_propose(net, 1, "b");
	raftnet_heal(net);
	net->hold = 1;
	raft_tick(raftnet_raft(net, 1));
	raftnet_run(net);
	ok(last_msg(net, RAFT_MSG_HEARTBEAT, 1, 3, &m) == 0 && m.commit == 1,
	    "a heartbeat carries at most what the follower has matched");
	raftwire_msg_free(&m);
	ok(last_msg(net, RAFT_MSG_HEARTBEAT, 1, 2, &m) == 0 && m.commit == 3,
	    "a heartbeat to an up-to-date follower carries the commit index");
	raftwire_msg_free(&m);
	raftnet_free(net);
}

static void
test_conflict_overwrite(void)
{
	struct raftnet *net = net3();

	raftnet_campaign(net, 1);
	raftnet_isolate(net, 1);
	raftnet_propose(net, 1, "x");
	raftnet_propose(net, 1, "y");
	raftnet_propose(net, 1, "w");
	is_int(raftnet_last(net, 1), 4,
	    "the cut-off leader has uncommitted entries");
	raftnet_campaign(net, 2);
	raftnet_propose(net, 2, "z");
	raftnet_heal(net);
	raftnet_tick_all(net, 3);
	is_int(raft_term_at(raftnet_raft(net, 1), 2), 2,
	    "5.3: conflicting entries are overwritten by the leader's");
	is_int(raftnet_last(net, 1), raftnet_last(net, 2),
	    "5.3: an extra tail of another term is removed");
	ok(raftnet_same_applied(net, 1, 2) &&
	    raftnet_node(net, 1)->napplied == 1,
	    "5.3: only the committed entry is applied, never the lost ones");
	raftnet_free(net);
}

static void
test_reject_hint_skips_term(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(3, 3, &c);
	uint64_t rej;
	int i;

	raftnet_campaign(net, 1);
	raftnet_isolate(net, 1);
	for (i = 0; i < 20; i++)
		raftnet_propose(net, 1, "stale");
	raftnet_campaign(net, 2);
	for (i = 0; i < 5; i++)
		raftnet_propose(net, 2, "fresh");
	raftnet_heal(net);
	rej = net->rejects[RAFT_MSG_APPEND_RESP];
	raftnet_tick_all(net, 2);
	ok(net->rejects[RAFT_MSG_APPEND_RESP] - rej <= 1,
	    "5.3: a reject hint lets the leader skip a conflicting term in "
	    "one round");
	ok(raftnet_same_applied(net, 1, 2) && raftnet_last(net, 1) == 7,
	    "the follower's 20 stale entries are replaced");
	raftnet_free(net);
}

static void
test_follower_catches_up(void)
{
	struct raftnet *net = net3();
	int i;

	raftnet_campaign(net, 1);
	raftnet_isolate(net, 3);
	for (i = 0; i < 30; i++)
		raftnet_propose(net, 1, "e");
	is_int(raftnet_last(net, 3), 1, "a cut-off follower falls behind");
	raftnet_heal(net);
	raftnet_tick_all(net, 2);
	is_int(raftnet_last(net, 3), 31, "5.3: a lagging follower catches up");
	ok(raftnet_same_applied(net, 1, 3),
	    "a lagging follower applies the same entries");
	raftnet_free(net);
}

static void
test_append_mismatch_rejected(void)
{
	struct raftnet *net = net3();
	struct raft_msg m;

	raftnet_campaign(net, 1);
	raftnet_propose(net, 1, "a");
	net->hold = 1;
	step(net, 2, RAFT_MSG_APPEND, 1, 1, 2, 5, 0, 0);
	ok(last_msg(net, RAFT_MSG_APPEND_RESP, 2, 1, &m) == 0 && m.reject &&
	    m.index == 2,
	    "5.3: an append whose previous term differs is refused");
	ok(m.reject_hint == 2 && m.log_term == 1,
	    "the refusal hints the follower's last index with term <= the "
	    "leader's");
	raftwire_msg_free(&m);
	step(net, 2, RAFT_MSG_APPEND, 1, 1, 9, 1, 0, 0);
	ok(last_msg(net, RAFT_MSG_APPEND_RESP, 2, 1, &m) == 0 && m.reject &&
	    m.reject_hint == 2,
	    "5.3: an append past the end of the log is refused with the last "
	    "index as hint");
	raftwire_msg_free(&m);
	step(net, 2, RAFT_MSG_APPEND, 1, 1, 1, 1, 0, 0);
	ok(last_msg(net, RAFT_MSG_APPEND_RESP, 2, 1, &m) == 0 && !m.reject &&
	    m.index == 2, "an append below the commit index is answered with "
	    "the commit index");
	raftwire_msg_free(&m);
	raftnet_free(net);
}

static void
test_committed_never_overwritten(void)
{
	struct raftnet *net = net3();
	struct raft_entry e = { 9, 2, RAFT_ENTRY_NORMAL,
	    (const uint8_t *)"evil", 4 };
	struct raft_msg m;

	raftnet_campaign(net, 1);
	raftnet_propose(net, 1, "good");
	net->hold = 1;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_APPEND;
	m.to = 2;
	m.from = 3;
	m.term = 9;
	m.index = 1;
	m.log_term = 1;
	m.entries = &e;
	m.n_entries = 1;
	raft_step(raftnet_raft(net, 2), &m);
	raftnet_ready(net, 2);
	is_int(raft_term_at(raftnet_raft(net, 2), 2), 1,
	    "a committed entry is never overwritten, even by a higher term");
	raftnet_free(net);
}

static void
test_entry_too_large(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	char big[200];

	c.max_entry_size = 100;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	memset(big, 'x', sizeof(big));
	is_int(raft_propose(raftnet_raft(net, 1), big, sizeof(big), NULL),
	    RAFT_ERR_TOO_LARGE, "an entry over max_entry_size is refused");
	is_int(raft_propose(raftnet_raft(net, 1), big, 100, NULL), 0,
	    "an entry of exactly max_entry_size is taken");
	raftnet_free(net);
}

/* Duplicated and reordered messages. */

static void
test_duplicated_appends(void)
{
	struct raftnet *net = net3();
	size_t i, n;

	raftnet_campaign(net, 1);
	net->hold = 1;
	raft_propose(raftnet_raft(net, 1), "a", 1, NULL);
	raftnet_run(net);
	n = net->npending;
	for (i = 0; i < n; i++)
		raftnet_dup(net, i);
	net->hold = 0;
	raftnet_run(net);
	ok(raftnet_same_applied(net, 1, 2) && raftnet_same_applied(net, 1, 3) &&
	    raftnet_node(net, 2)->napplied == 1,
	    "duplicated appends are applied once");
	raftnet_free(net);
}

static void
test_reordered_appends(void)
{
	struct raftnet *net = net3();
	long a, b;
	struct raft_msg m;

	raftnet_campaign(net, 1);
	net->hold = 1;
	raft_propose(raftnet_raft(net, 1), "a", 1, NULL);
	raftnet_run(net);
	raft_propose(raftnet_raft(net, 1), "b", 1, NULL);
	raftnet_run(net);
	a = raftnet_find(net, RAFT_MSG_APPEND, 1, 2);
	raftnet_peek(net, (size_t)a, &m);
	ok(m.n_entries == 1 && m.index == 1,
	    "in replicate state the leader pipelines appends");
	raftwire_msg_free(&m);
	/* Deliver the second append to node 2 first. */
	for (b = a + 1; b < (long)net->npending; b++)
		if (net->pending[b].type == RAFT_MSG_APPEND &&
		    net->pending[b].to == 2)
			break;
	raftnet_deliver(net, (size_t)b);
	is_int(raftnet_last(net, 2), 1,
	    "an append that arrives before its predecessor is refused");
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	is_int(raftnet_last(net, 2), 2, "the first append is taken");
	net->hold = 0;
	raftnet_run(net);
	is_int(raftnet_last(net, 2), 3, "the follower ends with both entries");
	ok(raftnet_same_applied(net, 1, 2),
	    "reordering does not change the state");
	raftnet_free(net);
}

static void
test_late_old_append_no_truncate(void)
{
	struct raftnet *net = net3();
	struct raft_entry e = { 1, 2, RAFT_ENTRY_NORMAL,
	    (const uint8_t *)"a", 1 };
	struct raft_msg m;

	raftnet_campaign(net, 1);
	raftnet_propose(net, 1, "a");
	raftnet_propose(net, 1, "b");
	is_int(raftnet_last(net, 2), 3, "the follower has three entries");
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_APPEND;
	m.to = 2;
	m.from = 1;
	m.term = 1;
	m.index = 1;
	m.log_term = 1;
	m.commit = 1;
	m.entries = &e;
	m.n_entries = 1;
	raftnet_send(net, &m);
	is_int(raftnet_last(net, 2), 3,
	    "a late copy of an old append does not truncate newer entries");
	is_int(raftnet_commit(net, 2), 3, "nor does it move the commit back");
	raftnet_free(net);
}

static void
test_stale_append_resp(void)
{
	struct raftnet *net = net3();
	struct raft_progress_info pi, pj;

	raftnet_campaign(net, 1);
	raftnet_propose(net, 1, "a");
	raftnet_propose(net, 1, "b");
	raft_progress(raftnet_raft(net, 1), 2, &pi);
	is_int(pi.state, RAFT_PROGRESS_REPLICATE,
	    "an acknowledging follower is in replicate state");
	step(net, 1, RAFT_MSG_APPEND_RESP, 2, 1, 1, 0, 0, 1);
	raft_progress(raftnet_raft(net, 1), 2, &pj);
	ok(pj.state == RAFT_PROGRESS_REPLICATE && pj.next == pi.next &&
	    pj.match == pi.match,
	    "a stale rejection at or below match is ignored");
	step(net, 1, RAFT_MSG_APPEND_RESP, 2, 1, 2, 0, 0, 0);
	raft_progress(raftnet_raft(net, 1), 2, &pj);
	is_int(pj.match, pi.match,
	    "a stale acknowledgement never lowers match");
	raftnet_free(net);
}

static void
test_bad_messages(void)
{
	struct raftnet *net = net3();
	struct raft_msg m;

	memset(&m, 0, sizeof(m));
	m.type = 99;
	m.to = 1;
	m.from = 2;
	m.term = 1;
	is_int(raft_step(raftnet_raft(net, 1), &m), RAFT_ERR_INVALID,
	    "a message of unknown type is refused");
	m.type = RAFT_MSG_APPEND;
	m.term = 0;
	is_int(raft_step(raftnet_raft(net, 1), &m), RAFT_ERR_INVALID,
	    "an append without a term is refused");
	m.term = 1;
	m.from = 1;
	is_int(raft_step(raftnet_raft(net, 1), &m), RAFT_ERR_INVALID,
	    "a message from the node itself is refused");
	m.from = 2;
	m.n_entries = 3;
	is_int(raft_step(raftnet_raft(net, 1), &m), RAFT_ERR_INVALID,
	    "a message claiming entries it does not carry is refused");
	m.n_entries = 0;
	m.type = RAFT_MSG_SNAPSHOT;
	is_int(raft_step(raftnet_raft(net, 1), &m), RAFT_ERR_INVALID,
	    "a snapshot message without a snapshot is refused");
	raftnet_free(net);
}

/* PreVote. */

static void
test_prevote_election(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.pre_vote = 1;
	net = raftnet_new(3, 3, &c);
	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	raftnet_run(net);
	is_int(raftnet_role(net, 1), RAFT_PRECANDIDATE,
	    "prevote: a campaign starts as pre-candidate");
	is_int(raftnet_term(net, 1), 0,
	    "prevote: a pre-candidate keeps its term");
	is_int(raftnet_count(net, RAFT_MSG_PREVOTE), 2,
	    "prevote: a pre-candidate asks every voter");
	raftnet_deliver_first(net, RAFT_MSG_PREVOTE, 1, 2);
	is_int(raftnet_term(net, 2), 0,
	    "prevote: a pre-vote request does not change the voter's term");
	is_int(vote_of(net, 2), 0, "prevote: a pre-vote is not a vote");
	net->hold = 0;
	raftnet_run(net);
	ok(raftnet_role(net, 1) == RAFT_LEADER && raftnet_term(net, 1) == 1,
	    "prevote: a pre-candidate with a quorum runs a real election");
	raftnet_free(net);
}

static void
test_prevote_no_disruption(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.pre_vote = 1;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	raftnet_isolate(net, 3);
	raftnet_tick_all(net, 100);
	is_int(raftnet_term(net, 3), 1,
	    "prevote: an isolated node does not raise its term");
	raftnet_heal(net);
	raftnet_tick_all(net, 5);
	ok(raftnet_leader(net) == 1 && raftnet_term(net, 1) == 1,
	    "prevote: a rejoining node does not depose the leader");
	raftnet_free(net);
}

static void
test_no_prevote_disruption(void)
{
	struct raftnet *net = net3();

	raftnet_campaign(net, 1);
	raftnet_isolate(net, 3);
	raftnet_tick_all(net, 100);
	ok(raftnet_term(net, 3) > 2,
	    "without prevote an isolated node keeps raising its term");
	raftnet_heal(net);
	raftnet_tick_all(net, 60);
	ok(raftnet_term(net, 1) > 1,
	    "without prevote the rejoining node forces a new term");
	raftnet_free(net);
}

static void
test_prevote_stale_log(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	struct raft_msg m;

	c.pre_vote = 1;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	raftnet_propose(net, 1, "a");
	net->hold = 1;
	step(net, 2, RAFT_MSG_PREVOTE, 3, 2, 1, 1, 0, 0);
	ok(last_msg(net, RAFT_MSG_PREVOTE_RESP, 2, 3, &m) == 0 && m.reject,
	    "prevote: a pre-candidate with a stale log is refused");
	raftwire_msg_free(&m);
	step(net, 2, RAFT_MSG_PREVOTE, 3, 2, 2, 1, 0, 0);
	ok(last_msg(net, RAFT_MSG_PREVOTE_RESP, 2, 3, &m) == 0 && !m.reject &&
	    m.term == 2,
	    "prevote: granted for the next term even though a leader is known");
	raftwire_msg_free(&m);
	is_int(raftnet_term(net, 2), 1,
	    "prevote: granting does not change the term");
	raftnet_free(net);
}

static void
test_prevote_higher_term_reject(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.pre_vote = 1;
	net = raftnet_new(3, 3, &c);
	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	raftnet_run(net);
	step(net, 1, RAFT_MSG_PREVOTE_RESP, 2, 7, 0, 0, 0, 1);
	ok(raftnet_role(net, 1) == RAFT_FOLLOWER && raftnet_term(net, 1) == 7,
	    "prevote: a rejection from a higher term sends the pre-candidate "
	    "to that term");
	raftnet_free(net);
}

static void
test_prevote_lower_term_answered(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	struct raft_msg m;

	c.pre_vote = 1;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	raftnet_campaign(net, 2);
	net->hold = 1;
	step(net, 2, RAFT_MSG_PREVOTE, 3, 1, 5, 1, 0, 0);
	ok(last_msg(net, RAFT_MSG_PREVOTE_RESP, 2, 3, &m) == 0 && m.reject &&
	    m.term == 2,
	    "prevote: a pre-vote of an old term is refused with the current "
	    "term");
	raftwire_msg_free(&m);
	raftnet_free(net);
}

/* CheckQuorum. */

static void
test_check_quorum_step_down(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.check_quorum = 1;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	raftnet_tick_all(net, 30);
	is_int(raftnet_role(net, 1), RAFT_LEADER,
	    "checkquorum: a leader in touch with a quorum stays");
	raftnet_isolate(net, 1);
	raftnet_tick(net, 1, 20);
	is_int(raftnet_role(net, 1), RAFT_FOLLOWER,
	    "checkquorum: a leader cut off from a quorum steps down");
	is_int(raftnet_term(net, 1), 1,
	    "checkquorum: stepping down keeps the term");
	raftnet_free(net);
}

static void
test_check_quorum_lease_ignores_vote(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.check_quorum = 1;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	net->hold = 1;
	step(net, 2, RAFT_MSG_VOTE, 3, 5, 100, 5, 0, 0);
	is_int(raftnet_term(net, 2), 1,
	    "checkquorum: a follower in its leader's lease ignores a vote "
	    "request");
	is_int(raftnet_count(net, RAFT_MSG_VOTE_RESP), 0,
	    "checkquorum: and does not answer it");
	raftnet_free(net);
}

static void
test_check_quorum_stuck_candidate(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.check_quorum = 1;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	raftnet_isolate(net, 3);
	raftnet_tick(net, 3, 60);
	ok(raftnet_term(net, 3) > 2, "an isolated candidate raises its term");
	raftnet_heal(net);
	raftnet_tick_all(net, 80);
	ok(raftnet_leader(net) != 0 &&
	    raftnet_term(net, raftnet_leader(net)) >= raftnet_term(net, 3) &&
	    raftnet_lead_of(net, 3) == raftnet_leader(net),
	    "checkquorum: the stale leader learns the higher term from the "
	    "stuck candidate and the group moves on");
	raftnet_free(net);
}

static void
test_check_quorum_stale_leader_told(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	struct raft_msg m;

	c.check_quorum = 1;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	net->hold = 1;
	step(net, 3, RAFT_MSG_HEARTBEAT, 2, 2, 0, 0, 0, 0);
	step(net, 3, RAFT_MSG_HEARTBEAT, 1, 1, 0, 0, 0, 0);
	memset(&m, 0, sizeof(m));
	ok(last_msg(net, RAFT_MSG_APPEND_RESP, 3, 1, &m) == 0 && m.term == 2,
	    "checkquorum: a stale leader's heartbeat is answered with the "
	    "current term");
	raftwire_msg_free(&m);
	raftnet_free(net);
}

/* Restarts and the ready handshake. */

static void
test_restart_keeps_state(void)
{
	struct raftnet *net = net3();

	raftnet_campaign(net, 1);
	raftnet_propose(net, 1, "a");
	raftnet_restart(net, 2);
	ok(raftnet_term(net, 2) == 1 && vote_of(net, 2) == 1,
	    "a restarted node keeps its term and vote");
	ok(raftnet_last(net, 2) == 2 && raftnet_commit(net, 2) == 2,
	    "a restarted node keeps its log and commit index");
	is_int(raftnet_node(net, 2)->napplied, 1,
	    "a restart with the applied index does not apply entries twice");
	raftnet_propose(net, 1, "b");
	ok(raftnet_same_applied(net, 1, 2), "a restarted follower keeps up");
	raftnet_free(net);
}

static void
test_restart_leader(void)
{
	struct raftnet *net = net3();

	raftnet_campaign(net, 1);
	raftnet_propose(net, 1, "a");
	raftnet_crash(net, 1);
	raftnet_tick_all(net, 40);
	ok(raftnet_leader(net) == 2 || raftnet_leader(net) == 3,
	    "the others elect a leader when the leader crashes");
	raftnet_propose(net, raftnet_leader(net), "b");
	raftnet_restart(net, 1);
	raftnet_tick_all(net, 3);
	ok(raftnet_role(net, 1) == RAFT_FOLLOWER &&
	    raftnet_same_applied(net, 1, raftnet_leader(net)),
	    "a restarted old leader rejoins as a follower and catches up");
	raftnet_free(net);
}

static void
test_crash_loses_unsynced_only(void)
{
	struct raftnet *net = net3();

	raftnet_campaign(net, 1);
	net->hold = 1;
	raft_propose(raftnet_raft(net, 1), "a", 1, NULL);
	/* Crash before the ready was handled: the entry was never
	 * persisted. */
	raftnet_crash(net, 1);
	raftnet_restart(net, 1);
	is_int(raftnet_last(net, 1), 1,
	    "an entry never handed out in a ready is lost in a crash");
	is_int(raftnet_term(net, 1), 1, "the persisted term survives");
	raftnet_free(net);
}

static void
test_ready_flags(void)
{
	struct raftnet *net = net3();
	struct raftnet_node *n2 = raftnet_node(net, 2);

	ok(!raft_has_ready(raftnet_raft(net, 1)),
	    "ready: a fresh node has nothing to do");
	raftnet_campaign(net, 1);
	ok(!raft_has_ready(raftnet_raft(net, 2)),
	    "ready: a handled ready is gone");
	net->hold = 1;
	raft_propose(raftnet_raft(net, 1), "a", 1, NULL);
	raftnet_run(net);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	ok(n2->last.must_sync && n2->last.n_entries == 1,
	    "ready: new entries must be synced");
	raftnet_clear(net);
	step(net, 2, RAFT_MSG_HEARTBEAT, 1, 1, 0, 0, 2, 0);
	ok(n2->last.hs_changed && !n2->last.must_sync &&
	    n2->last.n_committed == 1,
	    "ready: a commit-only change needs no sync and hands out the "
	    "entry");
	step(net, 2, RAFT_MSG_HEARTBEAT, 1, 1, 0, 0, 2, 0);
	ok(!n2->last.hs_changed && n2->last.n_committed == 0,
	    "ready: committed entries are handed out once");
	ok(!n2->last.ss_changed,
	    "ready: the soft state is reported only on change");
	step(net, 2, RAFT_MSG_HEARTBEAT, 3, 2, 0, 0, 2, 0);
	ok(n2->last.ss_changed && n2->last.must_sync,
	    "ready: a new leader and term are reported and synced");
	raftnet_free(net);
}

static void
test_max_committed_per_ready(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	int i;

	c.max_committed_size_per_ready = 10;
	net = raftnet_new(3, 3, &c);
	raftnet_campaign(net, 1);
	raftnet_isolate(net, 3);
	for (i = 0; i < 10; i++)
		raftnet_propose(net, 1, "12345");
	raftnet_heal(net);
	raftnet_tick_all(net, 3);
	ok(raftnet_node(net, 3)->max_committed <= 2,
	    "max_committed_size_per_ready bounds the entries of one ready");
	ok(raftnet_same_applied(net, 1, 3),
	    "all entries are still applied over several readies");
	raftnet_free(net);
}

static void
test_async_apply(void)
{
	struct raftnet *net = net3();
	struct raftnet_node *n2 = raftnet_node(net, 2);
	struct raft_status s;

	raftnet_campaign(net, 1);
	n2->async_apply = 1;
	raftnet_propose(net, 1, "a");
	raft_status(n2->r, &s);
	ok(s.hs.commit == 2 && s.applied == 1,
	    "async apply: entries handed out are not applied until reported");
	ok(!raft_has_ready(n2->r), "async apply: handed-out entries are not "
	    "handed out again");
	raft_applied_to(n2->r, 2);
	raft_status(n2->r, &s);
	is_int(s.applied, 2, "async apply: raft_applied_to moves applied");
	raftnet_free(net);
}

static void
test_new_validation(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet_store st;
	struct raft_storage rs;
	uint64_t v[3] = { 1, 2, 3 };
	struct raft *r;

	memset(&st, 0, sizeof(st));
	st.cs.voters = v;
	st.cs.n_voters = 3;
	raftnet_store_iface(&st, &rs);
	c.id = 0;
	ok(raft_new(&c, &rs) == NULL, "raft_new refuses node id 0");
	c.id = 1;
	c.election_tick = 1;
	ok(raft_new(&c, &rs) == NULL,
	    "raft_new refuses an election tick not above the heartbeat tick");
	c.election_tick = 10;
	c.read_only_option = RAFT_READ_LEASE_BASED;
	ok(raft_new(&c, &rs) == NULL, "raft_new refuses lease reads without "
	    "check_quorum");
	c.read_only_option = RAFT_READ_SAFE;
	st.hs.commit = 5;
	ok(raft_new(&c, &rs) == NULL,
	    "raft_new refuses a commit index beyond the stored log");
	st.hs.commit = 0;
	r = raft_new(&c, &rs);
	ok(r != NULL, "raft_new takes a valid config");
	raft_free(r);
}

/*
 * tikvd restores the applied index from its KV checkpoint and the hard
 * state from the WAL, whose commit index is not synced every time: the
 * commit read back can lie below the applied index, or below the
 * snapshot.  Both were committed, so raft_new takes them as the commit
 * index (raft_sim -U -s 6 -n 3000 -N 3 failed to restart a node).
 */
static void
test_new_applied_ahead_of_commit(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet_store st;
	struct raft_storage rs;
	struct raft_entry e;
	struct raft_status s;
	struct raft_ready rd;
	uint64_t v[3] = { 1, 2, 3 }, i;
	struct raft *r;

	memset(&st, 0, sizeof(st));
	st.cs.voters = v;
	st.cs.n_voters = 3;
	st.snap_index = 5;
	st.snap_term = 2;
	memset(&e, 0, sizeof(e));
	e.term = 2;
	e.data = (const uint8_t *)"x";
	e.len = 1;
	for (i = 6; i <= 10; i++) {
		e.index = i;
		raftents_add(&st.ents, &e);
	}
	st.hs.term = 2;
	st.hs.commit = 3;
	raftnet_store_iface(&st, &rs);
	c.id = 1;
	c.applied = 8;
	r = raft_new(&c, &rs);
	ok(r != NULL, "restart: an applied index above the stored commit "
	    "index is taken");
	if (r != NULL) {
		raft_status(r, &s);
		ok(s.hs.commit == 8 && s.applied == 8,
		    "restart: the commit index rises to the applied index");
		raft_ready(r, &rd);
		ok(rd.hard_state_changed && rd.hs.commit == 8 &&
		    !rd.must_sync && rd.n_committed == 0,
		    "restart: the raised commit index is handed out to be "
		    "written, and nothing is applied twice");
		raft_advance(r, &rd);
		raft_free(r);
	}
	c.applied = 0;
	r = raft_new(&c, &rs);
	ok(r != NULL, "restart: a commit index below the snapshot is taken");
	if (r != NULL) {
		raft_status(r, &s);
		ok(s.hs.commit == 5 && s.applied == 5,
		    "restart: applied 0 means the snapshot index, and the "
		    "commit index rises to it");
		raft_free(r);
	}
	c.applied = 11;
	ok(raft_new(&c, &rs) == NULL,
	    "restart: an applied index beyond the log is refused");
	raftents_free(&st.ents);
}

static uint64_t
rnd(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

/* Random delivery order, duplicates and drops; then a quiet network. */
static void
test_chaos(int pre_vote, int check_quorum, uint64_t seed)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	uint64_t leader_of[512], x = seed, t, l;
	int step, two_leaders = 0, i, props = 0;
	char data[32];

	c.pre_vote = pre_vote;
	c.check_quorum = check_quorum;
	c.seed = seed;
	net = raftnet_new(5, 5, &c);
	memset(leader_of, 0, sizeof(leader_of));
	net->hold = 1;
	for (step = 0; step < 4000; step++) {
		switch (rnd(&x) % 8) {
		case 0:
			raft_tick(raftnet_raft(net, 1 + rnd(&x) % 5));
			break;
		case 1:
			if ((l = raftnet_leader(net)) != 0) {
				snprintf(data, sizeof(data), "p%d", props++);
				raft_propose(raftnet_raft(net, l), data,
				    strlen(data), NULL);
			}
			break;
		case 2:
			if (net->npending > 0)
				raftnet_dup(net, rnd(&x) % net->npending);
			break;
		case 3:
			if (net->npending > 0)
				raftnet_drop(net, rnd(&x) % net->npending);
			break;
		default:
			if (net->npending > 0)
				raftnet_deliver(net, rnd(&x) % net->npending);
			break;
		}
		raftnet_run(net);
		for (i = 1; i <= 5; i++) {
			if (raftnet_role(net, i) != RAFT_LEADER)
				continue;
			t = raftnet_term(net, i);
			if (t >= 512)
				continue;
			if (leader_of[t] != 0 && leader_of[t] != (uint64_t)i)
				two_leaders++;
			leader_of[t] = i;
		}
	}
	net->hold = 0;
	raftnet_run(net);
	raftnet_tick_all(net, 60);
	if ((l = raftnet_leader(net)) != 0)
		raftnet_propose(net, l, "final");
	raftnet_tick_all(net, 5);
	is_int(two_leaders, 0, "chaos (prevote %d, checkquorum %d): at most "
	    "one leader per term under reordering, duplication and loss",
	    pre_vote, check_quorum);
	ok(l != 0 && raftnet_same_applied(net, 1, 2) &&
	    raftnet_same_applied(net, 1, 3) && raftnet_same_applied(net, 1, 4) &&
	    raftnet_same_applied(net, 1, 5) && raftnet_node(net, 1)->napplied > 0,
	    "chaos (prevote %d, checkquorum %d): every node ends with the same "
	    "applied state (%llu entries)", pre_vote, check_quorum,
	    (unsigned long long)raftnet_node(net, 1)->napplied);
	raftnet_free(net);
}

static void
test_idle_memory(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	size_t sz;

	c.check_quorum = 1;
	c.pre_vote = 1;
	net = raftnet_new(3, 3, &c);
	raftnet_tick_all(net, 30);
	raftnet_propose(net, raftnet_leader(net), "x");
	raftnet_tick_all(net, 30);
	sz = raft_memsize(raftnet_raft(net, raftnet_leader(net) % 3 + 1));
	ok(sz < 2048,
	    "memory: an idle follower group holds %zu bytes (< 2 KiB)",
	    sz);
	raftnet_free(net);
}

int
main(void)
{
	test_single_node();
	test_basic_election();
	test_candidate_state();
	test_vote_rejections_lose();
	test_duplicate_vote_counts_once();
	test_split_vote();
	test_vote_once_per_term();
	test_vote_up_to_date();
	test_election_timeout();
	test_timeouts_deterministic();
	test_heartbeat_keeps_followers();
	test_candidate_yields_to_leader();
	test_stale_term_ignored();
	test_partition_minority();
	test_five_nodes_two_down();
	test_learner_no_campaign();
	test_old_leader_steps_down();
	test_replication();
	test_forwarding();
	test_no_leader_drops();
	test_commit_needs_majority();
	test_old_term_commit_rule();
	test_follower_commit_from_leader();
	test_heartbeat_commit_capped();
	test_conflict_overwrite();
	test_reject_hint_skips_term();
	test_follower_catches_up();
	test_append_mismatch_rejected();
	test_committed_never_overwritten();
	test_entry_too_large();
	test_duplicated_appends();
	test_reordered_appends();
	test_late_old_append_no_truncate();
	test_stale_append_resp();
	test_bad_messages();
	test_prevote_election();
	test_prevote_no_disruption();
	test_no_prevote_disruption();
	test_prevote_stale_log();
	test_prevote_higher_term_reject();
	test_prevote_lower_term_answered();
	test_check_quorum_step_down();
	test_check_quorum_lease_ignores_vote();
	test_check_quorum_stuck_candidate();
	test_check_quorum_stale_leader_told();
	test_restart_keeps_state();
	test_restart_leader();
	test_crash_loses_unsynced_only();
	test_ready_flags();
	test_max_committed_per_ready();
	test_async_apply();
	test_new_validation();
	test_new_applied_ahead_of_commit();
	test_chaos(0, 0, 1);
	test_chaos(1, 0, 2);
	test_chaos(0, 1, 3);
	test_chaos(1, 1, 4);
	test_idle_memory();
	return done_testing();
}
