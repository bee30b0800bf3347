/*
 * Raft core: elections, votes and terms (the paper's section 5 rules),
 * PreVote, CheckQuorum, log replication and the commit rule, log
 * conflicts, duplicated and reordered messages, restarts, and the
 * ready/advance handshake.
 */
#include <string.h>

#include "raft.h"
#include "raftnet.h"
#include "raftwire.h"
#include "tap.h"

static struct raft_config
cfg(void)
{
	struct raft_config c;

	memset(&c, 0, sizeof(c));
	c.election_tick = 10;
	c.heartbeat_tick = 1;
	return c;
}

static struct raftnet *
net3(void)
{
	struct raft_config c = cfg();

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
	struct raft_config c = cfg();
	struct raftnet *net = raftnet_new(1, 1, &c);

	raftnet_campaign(net, 1);
	is_int(raftnet_role(net, 1), RAFT_LEADER,
	    "election: a single voter elects itself at once");
	is_int(raftnet_commit(net, 1), 1,
	    "election: a single voter commits its empty entry by itself");
	is_int(raftnet_propose(net, 1, "x"), 0, "a single voter takes a proposal");
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

int
main(void)
{
	test_single_node();
	test_basic_election();
	return done_testing();
}
