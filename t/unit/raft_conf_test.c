/*
 * Raft membership: learners, one-step conf changes and joint consensus
 * (enter, auto and explicit leave), the rules that keep changes safe,
 * and membership across restarts.
 */
#include <string.h>

#include "raft.h"
#include "raftnet.h"
#include "raftwire.h"
#include "tap.h"

static int
has_id(const uint64_t *ids, size_t n, uint64_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static int
is_voter(struct raftnet *net, uint64_t at, uint64_t id)
{
	struct raft_conf_state cs;

	raft_conf_state(raftnet_raft(net, at), &cs);
	return has_id(cs.voters, cs.n_voters, id);
}

static int
is_learner(struct raftnet *net, uint64_t at, uint64_t id)
{
	struct raft_conf_state cs;

	raft_conf_state(raftnet_raft(net, at), &cs);
	return has_id(cs.learners, cs.n_learners, id);
}

static int
joint(struct raftnet *net, uint64_t id)
{
	struct raft_status s;

	raft_status(raftnet_raft(net, id), &s);
	return s.joint;
}

static int
change2(struct raftnet *net, uint64_t at, int transition, int t1, uint64_t n1,
    int t2, uint64_t n2)
{
	struct raft_conf_change_single ch[2] = { { t1, n1 }, { t2, n2 } };
	struct raft_conf_change cc;
	int rc;

	memset(&cc, 0, sizeof(cc));
	cc.transition = transition;
	cc.changes = ch;
	cc.n_changes = n2 ? 2 : 1;
	rc = raft_propose_conf_change(raftnet_raft(net, at), &cc, NULL);
	raftnet_run(net);
	return rc;
}

static int
leave_joint(struct raftnet *net, uint64_t at)
{
	struct raft_conf_change cc;
	int rc;

	memset(&cc, 0, sizeof(cc));
	rc = raft_propose_conf_change(raftnet_raft(net, at), &cc, NULL);
	raftnet_run(net);
	return rc;
}

/* n nodes; the first nvoters vote; node 1 leads. */
static struct raftnet *
group(int n, int nvoters)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(n, nvoters, &c);

	raftnet_campaign(net, 1);
	return net;
}

/*
 * A group of voters 1..nvoters where nodes nvoters+1..n exist but are
 * not members yet (as tikvd creates a peer before it is added).
 */
static struct raftnet *
group_spare(int n, int nvoters)
{
	struct raft_config c = raftnet_config();
	struct raft_conf_state cs;
	uint64_t ids[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct raftnet *net;

	memset(&cs, 0, sizeof(cs));
	cs.voters = ids;
	cs.n_voters = (size_t)nvoters;
	net = raftnet_new_cs(n, &c, &cs);
	raftnet_campaign(net, 1);
	return net;
}

static void
test_learner_replication(void)
{
	struct raftnet *net = group(3, 2);
	struct raft_progress_info pi;

	is_int(raftnet_role(net, 1), RAFT_LEADER, "learners: two voters elect");
	raftnet_propose(net, 1, "a");
	ok(raftnet_same_applied(net, 1, 3) &&
	    raftnet_node(net, 3)->napplied == 1,
	    "learners: a learner receives and applies entries");
	ok(raft_progress(raftnet_raft(net, 1), 3, &pi) == 0 && pi.learner,
	    "learners: the leader tracks the learner's progress as a learner");
	raftnet_free(net);
}

static void
test_learner_ack_not_counted(void)
{
	struct raftnet *net = group(3, 2);
	uint64_t c;

	raftnet_cut(net, 1, 2);
	c = raftnet_commit(net, 1);
	raftnet_propose(net, 1, "a");
	is_int(raftnet_last(net, 3), c + 1,
	    "learners: the learner has the entry");
	is_int(raftnet_commit(net, 1), c,
	    "learners: a learner's acknowledgement does not commit");
	raftnet_free(net);
}

static void
test_learner_vote_not_counted(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(3, 2, &c);

	raftnet_cut(net, 1, 2);
	raftnet_campaign(net, 1);
	ok(raftnet_role(net, 1) != RAFT_LEADER,
	    "learners: a learner's vote does not elect");
	raftnet_heal(net);
	raftnet_campaign(net, 1);
	is_int(raftnet_role(net, 1), RAFT_LEADER,
	    "learners: the other voter's vote does");
	raftnet_free(net);
}

static void
test_learner_checkquorum(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.check_quorum = 1;
	net = raftnet_new(3, 2, &c);
	raftnet_campaign(net, 1);
	raftnet_cut(net, 1, 2);
	raftnet_tick(net, 1, 25);
	is_int(raftnet_role(net, 1), RAFT_FOLLOWER,
	    "learners: an active learner does not keep a leader's quorum");
	raftnet_free(net);
}

static void
test_add_learner(void)
{
	struct raftnet *net = group_spare(4, 3);

	is_int(raftnet_conf_change(net, 1, RAFT_CC_ADD_LEARNER, 4), 0,
	    "conf change: the leader takes add-learner");
	ok(is_learner(net, 1, 4) && is_learner(net, 2, 4),
	    "conf change: the learner is a member once applied");
	raftnet_propose(net, 1, "x");
	ok(raftnet_same_applied(net, 1, 4),
	    "conf change: a new learner catches up from the start of the log");
	raftnet_free(net);
}

static void
test_promote_learner(void)
{
	struct raftnet *net = group(3, 2);

	is_int(raftnet_conf_change(net, 1, RAFT_CC_ADD_NODE, 3), 0,
	    "conf change: the leader takes a promotion");
	ok(is_voter(net, 1, 3) && !is_learner(net, 1, 3),
	    "conf change: a promoted learner is a voter and no longer a "
	    "learner");
	ok(is_voter(net, 3, 3), "conf change: the learner applies its own "
	    "promotion");
	raftnet_crash(net, 1);
	raftnet_tick_all(net, 50);
	ok(raftnet_leader(net) == 2 || raftnet_leader(net) == 3,
	    "conf change: a promoted learner's vote helps elect");
	raftnet_free(net);
}

static void
test_add_voter(void)
{
	struct raftnet *net = group_spare(4, 3);
	uint64_t c;

	raftnet_conf_change(net, 1, RAFT_CC_ADD_NODE, 4);
	ok(is_voter(net, 1, 4), "conf change: a voter is added in one step");
	raftnet_isolate(net, 2);
	raftnet_isolate(net, 3);
	c = raftnet_commit(net, 1);
	raftnet_propose(net, 1, "a");
	is_int(raftnet_commit(net, 1), c,
	    "conf change: two of four voters no longer commit");
	raftnet_heal(net);
	raftnet_isolate(net, 3);
	raftnet_tick_all(net, 2);
	is_int(raftnet_commit(net, 1), c + 1,
	    "conf change: three of four voters commit");
	raftnet_free(net);
}

static void
test_remove_voter(void)
{
	struct raftnet *net = group(3, 3);
	uint64_t c;

	is_int(raftnet_conf_change(net, 1, RAFT_CC_REMOVE_NODE, 3), 0,
	    "conf change: the leader takes a removal");
	ok(!is_voter(net, 1, 3) && !is_learner(net, 1, 3),
	    "conf change: a removed node is no member");
	raftnet_crash(net, 3);
	c = raftnet_commit(net, 1);
	raftnet_propose(net, 1, "a");
	is_int(raftnet_commit(net, 1), c + 1,
	    "conf change: two remaining voters commit without the removed one");
	raftnet_free(net);
}

static void
test_remove_leader(void)
{
	struct raftnet *net = group(3, 3);

	raftnet_conf_change(net, 1, RAFT_CC_REMOVE_NODE, 1);
	is_int(raftnet_role(net, 1), RAFT_FOLLOWER,
	    "conf change: a leader that applies its own removal steps down");
	is_int(raft_campaign(raftnet_raft(net, 1)), RAFT_ERR_REFUSED,
	    "conf change: a removed node cannot campaign");
	raftnet_tick_all(net, 50);
	ok(raftnet_leader(net) == 2 || raftnet_leader(net) == 3,
	    "conf change: the remaining voters elect a new leader");
	is_int(raftnet_propose(net, raftnet_leader(net), "a"), 0,
	    "conf change: the smaller group takes writes");
	raftnet_free(net);
}

static void
test_one_pending_change(void)
{
	struct raftnet *net = group_spare(5, 3);
	struct raft_conf_change_single ch = { RAFT_CC_ADD_LEARNER, 4 };
	struct raft_conf_change cc;
	struct raft *r = raftnet_raft(net, 1);
	struct raft_status s;

	memset(&cc, 0, sizeof(cc));
	cc.changes = &ch;
	cc.n_changes = 1;
	net->hold = 1;
	is_int(raft_propose_conf_change(r, &cc, NULL), 0,
	    "safety: a first conf change is taken");
	ch.node_id = 5;
	is_int(raft_propose_conf_change(r, &cc, NULL), RAFT_ERR_CONF_PENDING,
	    "safety: a second conf change waits until the first is applied");
	raft_status(r, &s);
	ok(s.pending_conf_index == s.last_index,
	    "safety: the pending conf change index is tracked");
	net->hold = 0;
	raftnet_run(net);
	is_int(raft_propose_conf_change(r, &cc, NULL), 0,
	    "safety: once applied, the next conf change is taken");
	raftnet_run(net);
	ok(is_learner(net, 2, 4) && is_learner(net, 2, 5),
	    "safety: both changes end up applied in order");
	raftnet_free(net);
}

static void
test_new_leader_pending_conf(void)
{
	struct raftnet *net = group(3, 3);
	struct raft_status s;
	uint64_t last;

	raftnet_propose(net, 1, "a");
	last = raftnet_last(net, 2);
	raftnet_campaign(net, 2);
	raft_status(raftnet_raft(net, 2), &s);
	ok(s.role == RAFT_LEADER && s.pending_conf_index == last,
	    "safety: a new leader treats its log at election as holding a "
	    "pending conf change");
	is_int(raftnet_conf_change(net, 2, RAFT_CC_ADD_LEARNER, 3), 0,
	    "safety: once that is applied, it takes conf changes");
	raftnet_free(net);
}

static void
test_unapplied_conf_blocks_campaign(void)
{
	struct raftnet *net = group_spare(4, 3);
	struct raftnet_node *n2 = raftnet_node(net, 2);

	n2->async_apply = 1;
	raftnet_conf_change(net, 1, RAFT_CC_ADD_LEARNER, 4);
	is_int(raft_campaign(n2->r), RAFT_ERR_REFUSED,
	    "safety: a node with a committed, unapplied conf change does not "
	    "campaign");
	raftnet_free(net);
}

static void
test_forwarded_conf_change(void)
{
	struct raftnet *net = group_spare(4, 3);

	is_int(raftnet_conf_change(net, 2, RAFT_CC_ADD_LEARNER, 4), 0,
	    "conf change: a follower forwards a conf change to the leader");
	ok(is_learner(net, 1, 4),
	    "conf change: the forwarded change is applied");
	raftnet_free(net);
}

static void
test_conf_change_context(void)
{
	struct raftnet *net = group_spare(4, 3);
	struct raft_conf_change_single ch = { RAFT_CC_ADD_NODE, 4 };
	struct raft_conf_change cc, got;
	struct raftnet_store *st = &raftnet_node(net, 2)->st;
	size_t i;
	int found = 0;

	memset(&cc, 0, sizeof(cc));
	cc.changes = &ch;
	cc.n_changes = 1;
	cc.context = (const uint8_t *)"addr=10.0.0.4";
	cc.context_len = 13;
	raft_propose_conf_change(raftnet_raft(net, 1), &cc, NULL);
	raftnet_run(net);
	for (i = 0; i < st->ents.n; i++) {
		if (st->ents.v[i].type != RAFT_ENTRY_CONF_CHANGE)
			continue;
		if (raftwire_decode_conf_change(st->ents.v[i].data,
		    st->ents.v[i].len, &got) == 0) {
			found = got.context_len == 13 &&
			    memcmp(got.context, "addr=10.0.0.4", 13) == 0 &&
			    got.n_changes == 1 && got.changes[0].node_id == 4;
			raftwire_conf_change_free(&got);
		}
	}
	ok(found, "conf change: the context travels through the log");
	raftnet_free(net);
}

static void
test_conf_apply_errors(void)
{
	struct raftnet *net = group(3, 3);
	struct raft_entry e = { 1, 1, RAFT_ENTRY_NORMAL, NULL, 0 };
	struct raft_conf_change_single ch[3] = { { RAFT_CC_REMOVE_NODE, 1 },
	    { RAFT_CC_REMOVE_NODE, 2 }, { RAFT_CC_REMOVE_NODE, 3 } };
	struct raft_conf_change cc;

	is_int(raft_apply_conf_change_entry(raftnet_raft(net, 1), &e, NULL),
	    RAFT_ERR_INVALID,
	    "conf change: a normal entry is not a conf change");
	memset(&cc, 0, sizeof(cc));
	cc.changes = ch;
	cc.n_changes = 3;
	is_int(raft_propose_conf_change(raftnet_raft(net, 1), &cc, NULL),
	    RAFT_ERR_INVALID, "safety: removing every voter is refused");
	memset(&cc, 0, sizeof(cc));
	is_int(raft_propose_conf_change(raftnet_raft(net, 1), &cc, NULL),
	    RAFT_ERR_CONF_PENDING,
	    "safety: leaving a joint config that is not joint is refused");
	ch[0].type = 7;
	cc.changes = ch;
	cc.n_changes = 1;
	is_int(raft_propose_conf_change(raftnet_raft(net, 1), &cc, NULL),
	    RAFT_ERR_INVALID, "conf change: an unknown change type is refused");
	raftnet_free(net);
}

static void
test_noop_changes(void)
{
	struct raftnet *net = group(3, 3);

	is_int(raftnet_conf_change(net, 1, RAFT_CC_ADD_NODE, 2), 0,
	    "conf change: adding an existing voter is accepted");
	ok(is_voter(net, 1, 2), "conf change: and changes nothing");
	is_int(raftnet_conf_change(net, 1, RAFT_CC_REMOVE_NODE, 9), 0,
	    "conf change: removing a stranger is accepted as a no-op");
	raftnet_free(net);
}

static void
test_joint_auto_leave(void)
{
	struct raftnet *net = group_spare(5, 3);
	struct raft_conf_state cs;
	uint64_t before = raftnet_node(net, 1)->st.ents.n;

	is_int(change2(net, 1, RAFT_CC_TRANSITION_AUTO, RAFT_CC_ADD_NODE, 4,
	    RAFT_CC_ADD_NODE, 5), 0,
	    "joint: two changes at once are taken as a joint change");
	ok(!joint(net, 1) && !joint(net, 2),
	    "joint: an auto-leave joint config is left by itself");
	raft_conf_state(raftnet_raft(net, 3), &cs);
	ok(cs.n_voters == 5 && cs.n_voters_outgoing == 0,
	    "joint: after leaving, the incoming config alone rules");
	is_int(raftnet_node(net, 1)->st.ents.n - before, 2,
	    "joint: the leader appended the leave entry itself");
	raftnet_free(net);
}

static void
test_joint_explicit(void)
{
	struct raftnet *net = group_spare(4, 3);
	struct raft_conf_state cs;

	is_int(change2(net, 1, RAFT_CC_TRANSITION_JOINT_EXPLICIT,
	    RAFT_CC_ADD_NODE, 4, RAFT_CC_REMOVE_NODE, 3), 0,
	    "joint: an explicit joint change is taken");
	ok(joint(net, 1) && joint(net, 2),
	    "joint: an explicit joint config stays");
	raft_conf_state(raftnet_raft(net, 1), &cs);
	ok(cs.n_voters_outgoing == 3 && has_id(cs.voters, cs.n_voters, 4) &&
	    !has_id(cs.voters, cs.n_voters, 3),
	    "joint: incoming and outgoing configs are both tracked");
	is_int(change2(net, 1, RAFT_CC_TRANSITION_JOINT_EXPLICIT,
	    RAFT_CC_ADD_LEARNER, 3, 0, 0), RAFT_ERR_CONF_PENDING,
	    "joint: entering a joint config from a joint config is refused");
	is_int(leave_joint(net, 1), 0,
	    "joint: an empty change leaves the joint "
	    "config");
	ok(!joint(net, 1) && !joint(net, 4) && !is_voter(net, 1, 3) &&
	    is_voter(net, 1, 4), "joint: the group ends in the new config");
	raftnet_free(net);
}

static void
test_joint_implicit(void)
{
	struct raftnet *net = group_spare(4, 3);

	is_int(change2(net, 1, RAFT_CC_TRANSITION_JOINT_IMPLICIT,
	    RAFT_CC_ADD_NODE, 4, 0, 0), 0,
	    "joint: a single change can be forced through joint consensus");
	ok(!joint(net, 1) && is_voter(net, 1, 4),
	    "joint: an implicit joint config is left automatically");
	raftnet_free(net);
}

static void
test_joint_commit_needs_both(void)
{
	struct raftnet *net = group_spare(5, 3);
	struct raft_conf_change_single ch[4] = { { RAFT_CC_ADD_NODE, 4 },
	    { RAFT_CC_ADD_NODE, 5 }, { RAFT_CC_REMOVE_NODE, 2 },
	    { RAFT_CC_REMOVE_NODE, 3 } };
	struct raft_conf_change cc;
	uint64_t c;

	memset(&cc, 0, sizeof(cc));
	cc.transition = RAFT_CC_TRANSITION_JOINT_EXPLICIT;
	cc.changes = ch;
	cc.n_changes = 4;
	is_int(raft_propose_conf_change(raftnet_raft(net, 1), &cc, NULL), 0,
	    "joint: {1,2,3} -> {1,4,5} in one joint change is taken");
	raftnet_run(net);
	ok(joint(net, 1), "joint: the group is in {1,2,3} & {1,4,5}");
	raftnet_isolate(net, 2);
	raftnet_isolate(net, 3);
	c = raftnet_commit(net, 1);
	raftnet_propose(net, 1, "a");
	is_int(raftnet_commit(net, 1), c,
	    "joint: a majority of the new config alone does not commit");
	raftnet_heal(net);
	raftnet_isolate(net, 4);
	raftnet_isolate(net, 5);
	raftnet_propose(net, 1, "b");
	raftnet_tick_all(net, 2);
	is_int(raftnet_commit(net, 1), c + 1,
	    "joint: an entry held by majorities of both configs commits");
	is_int(raftnet_last(net, 2), c + 2,
	    "joint: the old config has entry b");
	is_int(raftnet_commit(net, 1), c + 1,
	    "joint: a majority of the old config alone does not commit b");
	raftnet_heal(net);
	raftnet_isolate(net, 5);
	raftnet_tick_all(net, 2);
	is_int(raftnet_commit(net, 1), c + 2,
	    "joint: majorities of both configs commit b");
	raftnet_free(net);
}

static void
test_joint_election_needs_both(void)
{
	struct raftnet *net = group_spare(5, 3);

	change2(net, 1, RAFT_CC_TRANSITION_JOINT_EXPLICIT, RAFT_CC_ADD_NODE, 4,
	    RAFT_CC_ADD_NODE, 5);
	raftnet_tick(net, 1, 1);
	ok(joint(net, 4),
	    "joint: new voters learn the joint config from the log");
	raftnet_crash(net, 1);
	raftnet_isolate(net, 3);
	raftnet_campaign(net, 4);
	ok(raftnet_role(net, 4) != RAFT_LEADER,
	    "joint: 3 of 5 new voters but 1 of 3 old ones do not elect");
	raftnet_heal(net);
	raftnet_campaign(net, 4);
	is_int(raftnet_role(net, 4), RAFT_LEADER,
	    "joint: majorities of both configs elect");
	raftnet_free(net);
}

static void
test_joint_demote(void)
{
	struct raftnet *net = group(3, 3);
	struct raft_conf_state cs;

	change2(net, 1, RAFT_CC_TRANSITION_JOINT_EXPLICIT, RAFT_CC_ADD_LEARNER,
	    3, 0, 0);
	raft_conf_state(raftnet_raft(net, 1), &cs);
	ok(has_id(cs.learners_next, cs.n_learners_next, 3) &&
	    has_id(cs.voters_outgoing, cs.n_voters_outgoing, 3) &&
	    !has_id(cs.learners, cs.n_learners, 3),
	    "joint: a demoted voter waits in learners_next while joint");
	leave_joint(net, 1);
	ok(is_learner(net, 1, 3) && !is_voter(net, 1, 3),
	    "joint: leaving the joint config makes it a learner");
	raftnet_free(net);
}

/*
 * Leader 1 swaps places with learner 2 in a joint config (incoming 2,3,
 * outgoing 1,3), then leaves it, which makes it a learner.  It applies
 * the leave and steps down before 2 and 3 learn that the leave is
 * committed, so they still need node 1's vote.  Node 1 cannot campaign;
 * if its log were longer than theirs it would refuse them, and the group
 * would never elect again (raft_sim seed 40419).
 */
static void
test_demoted_leader_leaves_electable(void)
{
	struct raft_config c = raftnet_config();
	struct raft_conf_change cc;
	struct raft_conf_state cs;
	uint64_t v13[] = { 1, 3 }, l2[] = { 2 };
	struct raftnet *net;
	uint64_t l;

	memset(&cs, 0, sizeof(cs));
	cs.voters = v13;
	cs.n_voters = 2;
	cs.learners = l2;
	cs.n_learners = 1;
	net = raftnet_new_cs(3, &c, &cs);
	raftnet_campaign(net, 1);
	change2(net, 1, RAFT_CC_TRANSITION_JOINT_EXPLICIT, RAFT_CC_ADD_NODE, 2,
	    RAFT_CC_ADD_LEARNER, 1);
	ok(joint(net, 2) && joint(net, 3) &&
	    raftnet_role(net, 1) == RAFT_LEADER,
	    "demoted leader: node 1 leads the joint config");
	net->hold = 1;
	memset(&cc, 0, sizeof(cc));
	is_int(raft_propose_conf_change(raftnet_raft(net, 1), &cc, &l), 0,
	    "demoted leader: it proposes leaving the joint config");
	raftnet_run(net);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 3);
	is_int(raft_propose(raftnet_raft(net, 1), "x", 1, NULL),
	    RAFT_ERR_DROPPED,
	    "demoted leader: a leader giving up its vote takes no more "
	    "proposals");
	raftnet_run(net);
	raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 2, 1);
	raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 3, 1);
	ok(raftnet_role(net, 1) == RAFT_FOLLOWER && is_learner(net, 1, 1),
	    "demoted leader: it applies the leave and steps down");
	raftnet_clear(net);
	ok(joint(net, 2) && joint(net, 3) && raftnet_commit(net, 2) < l,
	    "demoted leader: the others have not learned the commit");
	net->hold = 0;
	raftnet_tick_all(net, 100);
	ok(raftnet_leader(net) == 2 || raftnet_leader(net) == 3,
	    "demoted leader: the others elect a leader with its vote");
	ok(raftnet_leader(net) != 0 && !joint(net, raftnet_leader(net)) &&
	    raftnet_propose(net, raftnet_leader(net), "y") == 0 &&
	    raftnet_same_applied(net, 2, 3) &&
	    raftnet_same_applied(net, 1, 3),
	    "demoted leader: the new group commits and node 1 learns");
	raftnet_free(net);
}

/*
 * The conf change that demotes a leader can also come to it with the
 * log it was elected with: it takes no proposals from the start.
 */
static void
test_elected_with_own_demotion(void)
{
	struct raftnet *net = group(3, 3);
	struct raft_conf_change_single ch = { RAFT_CC_ADD_LEARNER, 2 };
	struct raft_conf_change cc;

	memset(&cc, 0, sizeof(cc));
	cc.changes = &ch;
	cc.n_changes = 1;
	net->hold = 1;
	is_int(raft_propose_conf_change(raftnet_raft(net, 1), &cc, NULL), 0,
	    "demoted leader: leader 1 proposes demoting node 2");
	raftnet_run(net);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	raftnet_clear(net);
	raftnet_crash(net, 1);
	raftnet_campaign(net, 2);
	raftnet_deliver_first(net, RAFT_MSG_VOTE, 2, 3);
	raftnet_deliver_first(net, RAFT_MSG_VOTE_RESP, 3, 2);
	is_int(raftnet_role(net, 2), RAFT_LEADER,
	    "demoted leader: node 2, with the change in its log, is elected");
	is_int(raft_propose(raftnet_raft(net, 2), "x", 1, NULL),
	    RAFT_ERR_DROPPED,
	    "demoted leader: it takes no proposals");
	net->hold = 0;
	raftnet_restart(net, 1);
	raftnet_tick_all(net, 100);
	ok(is_learner(net, 2, 2) && (raftnet_leader(net) == 1 ||
	    raftnet_leader(net) == 3),
	    "demoted leader: it applies its demotion and the voters elect");
	raftnet_free(net);
}

/*
 * A commit index that only was written is lost in a crash; if it covered
 * a conf change the node would restart in an older membership, and may
 * need votes the group no longer has.  So it is synced.
 */
static void
test_conf_commit_synced(void)
{
	struct raftnet *net = group_spare(4, 3);
	struct raftnet_node *n2 = raftnet_node(net, 2);
	struct raft_conf_change_single ch = { RAFT_CC_ADD_LEARNER, 4 };
	struct raft_conf_change cc;

	raftnet_propose(net, 1, "a");
	net->hold = 1;
	raft_propose(raftnet_raft(net, 1), "b", 1, NULL);
	raftnet_run(net);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 2, 1);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	ok(n2->last.n_entries == 0 && n2->last.n_committed == 1 &&
	    !n2->last.must_sync,
	    "ready: committing a normal entry needs no sync");
	raftnet_clear(net);
	memset(&cc, 0, sizeof(cc));
	cc.changes = &ch;
	cc.n_changes = 1;
	raft_propose_conf_change(raftnet_raft(net, 1), &cc, NULL);
	raftnet_run(net);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 2, 1);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	ok(n2->last.n_entries == 0 && n2->last.n_committed == 1 &&
	    n2->last.must_sync,
	    "ready: a commit index covering a conf change is synced before "
	    "the change is applied");
	raftnet_free(net);
}

static void
test_joint_replace_node(void)
{
	struct raftnet *net = group_spare(4, 3);

	change2(net, 1, RAFT_CC_TRANSITION_AUTO, RAFT_CC_ADD_NODE, 4,
	    RAFT_CC_REMOVE_NODE, 3);
	ok(!joint(net, 1) && is_voter(net, 1, 4) && !is_voter(net, 1, 3),
	    "joint: a node is replaced in one joint change");
	raftnet_crash(net, 3);
	raftnet_crash(net, 1);
	raftnet_tick_all(net, 50);
	ok(raftnet_leader(net) == 2 || raftnet_leader(net) == 4,
	    "joint: the replaced group elects without the old node");
	raftnet_free(net);
}

static void
test_conf_restart(void)
{
	struct raftnet *net = group_spare(4, 3);

	raftnet_conf_change(net, 1, RAFT_CC_ADD_LEARNER, 4);
	raftnet_restart(net, 2);
	ok(is_learner(net, 2, 4),
	    "membership: a restarted node restores its applied membership");
	raftnet_restart(net, 1);
	raftnet_tick_all(net, 50);
	ok(raftnet_leader(net) != 0, "membership: the group recovers after "
	    "restarts");
	raftnet_free(net);
}

static void
test_transfer_to_learner_refused(void)
{
	struct raftnet *net = group(3, 2);

	is_int(raft_transfer_leader(raftnet_raft(net, 1), 3), RAFT_ERR_REFUSED,
	    "transfer: leadership cannot go to a learner");
	is_int(raft_transfer_leader(raftnet_raft(net, 1), 9), RAFT_ERR_REFUSED,
	    "transfer: leadership cannot go to a stranger");
	raftnet_free(net);
}

static void
test_removed_transferee_aborts(void)
{
	struct raftnet *net = group(3, 3);
	struct raft_status s;

	raftnet_isolate(net, 3);
	raftnet_propose(net, 1, "a");
	raft_transfer_leader(raftnet_raft(net, 1), 3);
	raft_status(raftnet_raft(net, 1), &s);
	is_int(s.lead_transferee, 3, "transfer: the transfer waits for node 3");
	/* Transfers drop proposals, so apply the removal by hand. */
	{
		struct raft_conf_change_single ch = { RAFT_CC_REMOVE_NODE, 3 };
		struct raft_conf_change cc;

		memset(&cc, 0, sizeof(cc));
		cc.changes = &ch;
		cc.n_changes = 1;
		raft_apply_conf_change(raftnet_raft(net, 1), &cc, NULL);
	}
	raft_status(raftnet_raft(net, 1), &s);
	is_int(s.lead_transferee, 0,
	    "transfer: removing the transferee aborts the transfer");
	raftnet_free(net);
}

int
main(void)
{
	test_learner_replication();
	test_learner_ack_not_counted();
	test_learner_vote_not_counted();
	test_learner_checkquorum();
	test_add_learner();
	test_promote_learner();
	test_add_voter();
	test_remove_voter();
	test_remove_leader();
	test_one_pending_change();
	test_new_leader_pending_conf();
	test_unapplied_conf_blocks_campaign();
	test_forwarded_conf_change();
	test_conf_change_context();
	test_conf_apply_errors();
	test_noop_changes();
	test_joint_auto_leave();
	test_joint_explicit();
	test_joint_implicit();
	test_joint_commit_needs_both();
	test_joint_election_needs_both();
	test_joint_demote();
	test_demoted_leader_leaves_electable();
	test_elected_with_own_demotion();
	test_conf_commit_synced();
	test_joint_replace_node();
	test_conf_restart();
	test_transfer_to_learner_refused();
	test_removed_transferee_aborts();
	return done_testing();
}
