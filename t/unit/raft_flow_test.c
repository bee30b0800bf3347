/*
 * Raft flow control and snapshots: per-follower probe, replicate and
 * snapshot states, the in-flight window (messages and bytes), message
 * and uncommitted-size limits, log compaction, sending, installing,
 * reporting and requesting snapshots.
 */
#include <string.h>

#include "raft.h"
#include "raftnet.h"
#include "raftwire.h"
#include "tap.h"

static struct raftnet *
group(const struct raft_config *c, int n)
{
	struct raftnet *net = raftnet_new(n, n, c);

	raftnet_campaign(net, 1);
	return net;
}

static struct raft_progress_info
progress(struct raftnet *net, uint64_t id)
{
	struct raft_progress_info pi;

	memset(&pi, 0, sizeof(pi));
	raft_progress(raftnet_raft(net, 1), id, &pi);
	return pi;
}

static size_t
pending_to(struct raftnet *net, int type, uint64_t to)
{
	size_t i, k = 0;

	for (i = 0; i < net->npending; i++)
		if (net->pending[i].type == type && net->pending[i].to == to)
			k++;
	return k;
}

static void
propose_held(struct raftnet *net, int n, const char *data)
{
	int i;

	for (i = 0; i < n; i++)
		raft_propose(raftnet_raft(net, 1), data, strlen(data), NULL);
	raftnet_run(net);
}

static void
test_probe_state(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = raftnet_new(3, 3, &c);

	net->hold = 1;
	raft_campaign(raftnet_raft(net, 1));
	raftnet_run(net);
	while (raftnet_find(net, RAFT_MSG_VOTE, 0, 0) >= 0)
		raftnet_deliver_first(net, RAFT_MSG_VOTE, 0, 0);
	while (raftnet_find(net, RAFT_MSG_VOTE_RESP, 0, 0) >= 0)
		raftnet_deliver_first(net, RAFT_MSG_VOTE_RESP, 0, 0);
	is_int(progress(net, 2).state, RAFT_PROGRESS_PROBE,
	    "flow: a new leader probes each follower");
	propose_held(net, 3, "p");
	is_int(pending_to(net, RAFT_MSG_APPEND, 2), 1,
	    "flow: a probed follower gets one append until it answers");
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 2, 1);
	is_int(progress(net, 2).state, RAFT_PROGRESS_REPLICATE,
	    "flow: an acknowledged probe moves the follower to replicate");
	is_int(progress(net, 2).match, raftnet_last(net, 1) - 3,
	    "flow: the probe's acknowledgement sets match");
	ok(pending_to(net, RAFT_MSG_APPEND, 2) >= 1,
	    "flow: entries held back during the probe follow at once");
	raftnet_free(net);
}

static void
test_replicate_pipelines(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);

	net->hold = 1;
	propose_held(net, 1, "a");
	propose_held(net, 1, "b");
	propose_held(net, 1, "c");
	is_int(pending_to(net, RAFT_MSG_APPEND, 2), 3,
	    "flow: in replicate state appends are pipelined");
	is_int(progress(net, 2).next, raftnet_last(net, 1) + 1,
	    "flow: next moves optimistically past what was sent");
	is_int(progress(net, 2).inflight, 3,
	    "flow: each pipelined append occupies an in-flight slot");
	raftnet_free(net);
}

static void
test_inflight_window(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	long i;

	c.max_inflight_msgs = 3;
	net = group(&c, 3);
	net->hold = 1;
	propose_held(net, 1, "a");
	propose_held(net, 1, "b");
	propose_held(net, 1, "c");
	propose_held(net, 1, "d");
	propose_held(net, 1, "e");
	is_int(pending_to(net, RAFT_MSG_APPEND, 2), 3,
	    "flow: no more than max_inflight_msgs appends are in flight");
	is_int(progress(net, 2).inflight, 3, "flow: the window is full");
	i = raftnet_find(net, RAFT_MSG_APPEND, 1, 2);
	raftnet_deliver(net, (size_t)i);
	raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 2, 1);
	is_int(pending_to(net, RAFT_MSG_APPEND, 2), 3,
	    "flow: an acknowledgement frees a slot for the held entries");
	raftnet_free(net);
}

static void
test_inflight_heartbeat_frees(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.max_inflight_msgs = 2;
	net = group(&c, 3);
	net->hold = 1;
	propose_held(net, 3, "x");
	propose_held(net, 1, "y");
	propose_held(net, 1, "z");
	is_int(pending_to(net, RAFT_MSG_APPEND, 2), 2,
	    "flow: the window of 2 is full");
	raftnet_clear(net);	/* the appends are lost */
	raft_tick(raftnet_raft(net, 1));
	raftnet_run(net);
	raftnet_deliver_first(net, RAFT_MSG_HEARTBEAT, 1, 2);
	raftnet_deliver_first(net, RAFT_MSG_HEARTBEAT_RESP, 2, 1);
	ok(raftnet_find(net, RAFT_MSG_APPEND, 1, 2) >= 0,
	    "flow: a heartbeat response frees a slot of a full window");
	net->hold = 0;
	raft_report_unreachable(raftnet_raft(net, 1), 2);
	raftnet_tick_all(net, 3);
	ok(raftnet_same_applied(net, 1, 2),
	    "flow: the follower recovers the lost appends by probing");
	raftnet_free(net);
}

static void
test_inflight_bytes(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;

	c.max_inflight_bytes = 10;
	net = group(&c, 3);
	net->hold = 1;
	propose_held(net, 1, "1234");
	propose_held(net, 1, "1234");
	propose_held(net, 1, "1234");
	propose_held(net, 1, "1234");
	is_int(pending_to(net, RAFT_MSG_APPEND, 2), 3,
	    "flow: max_inflight_bytes closes the window once exceeded");
	net->hold = 0;
	raftnet_run(net);
	ok(raftnet_same_applied(net, 1, 2) &&
	    raftnet_node(net, 2)->napplied == 4,
	    "flow: everything is delivered as the window drains");
	raftnet_free(net);
}

static void
test_max_size_per_msg(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	char big[30];
	int i;

	c.max_size_per_msg = 10;
	net = group(&c, 3);
	raftnet_isolate(net, 3);
	for (i = 0; i < 10; i++)
		raftnet_propose(net, 1, "abcd");
	net->max_append_ents = 0;
	net->max_append_bytes = 0;
	raftnet_heal(net);
	raftnet_tick_all(net, 3);
	ok(net->max_append_bytes <= 10 && net->max_append_ents == 2,
	    "flow: an append carries at most max_size_per_msg bytes");
	ok(raftnet_same_applied(net, 1, 3),
	    "flow: the follower still catches up");
	memset(big, 'b', sizeof(big));
	raft_propose(raftnet_raft(net, 1), big, sizeof(big), NULL);
	raftnet_run(net);
	is_int(net->max_append_bytes, 30,
	    "flow: an entry larger than the limit travels alone");
	ok(raftnet_same_applied(net, 1, 2), "flow: and is applied");
	raftnet_free(net);
}

static void
test_unreachable_probe(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);

	raftnet_propose(net, 1, "a");
	is_int(progress(net, 2).state, RAFT_PROGRESS_REPLICATE,
	    "flow: a follower in replicate state");
	raft_report_unreachable(raftnet_raft(net, 1), 2);
	is_int(progress(net, 2).state, RAFT_PROGRESS_PROBE,
	    "flow: an unreachable follower goes back to probing");
	is_int(progress(net, 2).next, progress(net, 2).match + 1,
	    "flow: probing restarts right after match");
	raftnet_free(net);
}

static void
test_reject_to_probe(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);
	struct raft_msg m;
	uint64_t last;

	raftnet_propose(net, 1, "a");
	last = raftnet_last(net, 1);
	net->hold = 1;
	propose_held(net, 1, "b");
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_APPEND_RESP;
	m.to = 1;
	m.from = 2;
	m.term = 1;
	m.index = last + 1;
	m.reject = 1;
	m.reject_hint = last;
	raft_step(raftnet_raft(net, 1), &m);
	is_int(progress(net, 2).state, RAFT_PROGRESS_PROBE,
	    "flow: a rejection in replicate state falls back to probing");
	m.index = last - 1;
	raft_step(raftnet_raft(net, 1), &m);
	is_int(progress(net, 2).next, last + 1,
	    "flow: a rejection of something other than the last probe is "
	    "ignored");
	raftnet_free(net);
}

static void
test_uncommitted_cap(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	struct raft *r;

	c.max_uncommitted_size = 10;
	net = group(&c, 3);
	r = raftnet_raft(net, 1);
	raftnet_isolate(net, 1);
	is_int(raft_propose(r, "12345", 5, NULL), 0, "cap: first entry taken");
	is_int(raft_propose(r, "12345", 5, NULL), 0,
	    "cap: a second entry up to the cap is taken");
	is_int(raft_propose(r, "12345", 5, NULL), RAFT_ERR_DROPPED,
	    "cap: a proposal over the uncommitted cap is dropped");
	raftnet_heal(net);
	raftnet_tick_all(net, 2);
	is_int(raftnet_propose(net, 1, "12345"), 0,
	    "cap: once committed, the log takes proposals again");
	raftnet_free(net);
}

static void
test_uncommitted_cap_big_entry(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net;
	char big[50];

	c.max_uncommitted_size = 10;
	net = group(&c, 3);
	memset(big, 'x', sizeof(big));
	is_int(raft_propose(raftnet_raft(net, 1), big, sizeof(big), NULL), 0,
	    "cap: one entry larger than the cap is taken when nothing is "
	    "uncommitted");
	raftnet_run(net);
	raftnet_campaign(net, 2);
	raftnet_campaign(net, 1);
	ok(raftnet_role(net, 1) == RAFT_LEADER,
	    "cap: the leader's empty entry is never refused by the cap");
	raftnet_free(net);
}

/* Snapshots. */

/* Heal, then run a heartbeat round held until a snapshot is on its way
 * to node 3 (the leader learns node 3's need by probing). */
static void
until_snapshot(struct raftnet *net)
{
	raftnet_heal(net);
	net->hold = 1;
	raft_tick(raftnet_raft(net, 1));
	raftnet_run(net);
	while (net->npending > 0 &&
	    raftnet_find(net, RAFT_MSG_SNAPSHOT, 1, 3) < 0)
		raftnet_deliver(net, 0);
}

static struct raftnet *
lagging(const struct raft_config *c, uint64_t lagger)
{
	struct raftnet *net = group(c, 3);
	int i;

	raftnet_isolate(net, lagger);
	for (i = 0; i < 10; i++)
		raftnet_propose(net, 1, "s");
	raftnet_compact(net, 1, 0);
	return net;
}

static void
test_snapshot_sent(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = lagging(&c, 3);
	struct raftnet_node *n3 = raftnet_node(net, 3);

	until_snapshot(net);
	ok(raftnet_find(net, RAFT_MSG_SNAPSHOT, 1, 3) >= 0,
	    "snapshot: a follower behind the compacted log is sent a snapshot");
	is_int(progress(net, 3).state, RAFT_PROGRESS_SNAPSHOT,
	    "snapshot: its progress is in snapshot state");
	raft_propose(raftnet_raft(net, 1), "t", 1, NULL);
	raftnet_run(net);
	is_int(pending_to(net, RAFT_MSG_APPEND, 3), 0,
	    "snapshot: no appends go to a follower receiving a snapshot");
	raftnet_deliver_first(net, RAFT_MSG_SNAPSHOT, 1, 3);
	ok(n3->last.snapshot && n3->last.must_sync && n3->last.n_committed == 0,
	    "snapshot: the ready hands out the snapshot to persist, alone");
	is_int(n3->applied, 11, "snapshot: the follower applies the snapshot");
	is_int(n3->st.snap_index, 11,
	    "snapshot: its storage restarts after it");
	net->hold = 0;
	raftnet_run(net);
	is_int(progress(net, 3).state, RAFT_PROGRESS_REPLICATE,
	    "snapshot: the follower returns to replicate state");
	ok(raftnet_same_applied(net, 1, 3),
	    "snapshot: the follower reaches the leader's state");
	raftnet_free(net);
}

static void
test_no_snapshot_when_not_needed(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);

	raftnet_propose(net, 1, "a");
	raftnet_compact(net, 1, 0);
	raftnet_propose(net, 1, "b");
	raftnet_tick_all(net, 3);
	is_int(net->sent[RAFT_MSG_SNAPSHOT], 0,
	    "compaction: up-to-date followers need no snapshot");
	ok(raftnet_same_applied(net, 1, 2), "compaction: replication goes on");
	raftnet_free(net);
}

static void
test_snapshot_membership(void)
{
	struct raft_config c = raftnet_config();
	struct raft_conf_state cs;
	uint64_t ids[] = { 1, 2, 3 };
	struct raftnet *net;
	struct raft_conf_state got;
	int i;

	memset(&cs, 0, sizeof(cs));
	cs.voters = ids;
	cs.n_voters = 3;
	net = raftnet_new_cs(4, &c, &cs);
	raftnet_campaign(net, 1);
	raftnet_isolate(net, 4);
	raftnet_conf_change(net, 1, RAFT_CC_ADD_LEARNER, 4);
	for (i = 0; i < 3; i++)
		raftnet_propose(net, 1, "m");
	raftnet_compact(net, 1, 0);
	raftnet_heal(net);
	raftnet_tick_all(net, 3);
	raft_conf_state(raftnet_raft(net, 4), &got);
	ok(got.n_learners == 1 && got.learners[0] == 4 && got.n_voters == 3,
	    "snapshot: a new node learns its membership from the snapshot");
	ok(raftnet_same_applied(net, 1, 4),
	    "snapshot: a new learner is brought up by snapshot");
	raftnet_free(net);
}

static void
test_snapshot_report_failure(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = lagging(&c, 3);
	int calls;

	until_snapshot(net);
	calls = raftnet_node(net, 1)->st.snap_calls;
	raftnet_clear(net);
	raft_report_snapshot(raftnet_raft(net, 1), 3, 1);
	ok(progress(net, 3).state == RAFT_PROGRESS_PROBE &&
	    progress(net, 3).next == progress(net, 3).match + 1,
	    "snapshot: a failed snapshot sends the follower back to probing");
	raftnet_run(net);
	is_int(pending_to(net, RAFT_MSG_SNAPSHOT, 3), 0,
	    "snapshot: after a failure the leader waits before retrying");
	net->hold = 0;
	raftnet_tick_all(net, 2);
	ok(raftnet_node(net, 1)->st.snap_calls > calls &&
	    raftnet_same_applied(net, 1, 3),
	    "snapshot: the next heartbeat round retries and succeeds");
	raftnet_free(net);
}

static void
test_snapshot_report_success(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = lagging(&c, 3);

	until_snapshot(net);
	raft_report_snapshot(raftnet_raft(net, 1), 3, 0);
	ok(progress(net, 3).state == RAFT_PROGRESS_PROBE &&
	    progress(net, 3).next == 12,
	    "snapshot: a finished snapshot probes right after its index");
	net->hold = 0;
	raftnet_run(net);
	ok(raftnet_same_applied(net, 1, 3),
	    "snapshot: the follower then catches up");
	raftnet_free(net);
}

static void
test_snapshot_unavailable(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = lagging(&c, 3);

	raftnet_node(net, 1)->st.snap_unavailable = 1;
	raftnet_heal(net);
	raftnet_tick_all(net, 3);
	is_int(net->sent[RAFT_MSG_SNAPSHOT], 0,
	    "snapshot: nothing is sent while storage has no snapshot ready");
	is_int(progress(net, 3).state, RAFT_PROGRESS_PROBE,
	    "snapshot: the follower stays in probe state meanwhile");
	raftnet_node(net, 1)->st.snap_unavailable = 0;
	raftnet_tick_all(net, 3);
	ok(net->sent[RAFT_MSG_SNAPSHOT] >= 1 && raftnet_same_applied(net, 1, 3),
	    "snapshot: the leader asks storage again later");
	raftnet_free(net);
}

static void
send_snap(struct raftnet *net, uint64_t to, uint64_t index, uint64_t term,
    const uint64_t *voters, size_t nv)
{
	struct raft_snapshot s;
	struct raft_msg m;

	memset(&s, 0, sizeof(s));
	s.meta.index = index;
	s.meta.term = term;
	s.meta.conf_state.voters = voters;
	s.meta.conf_state.n_voters = nv;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_SNAPSHOT;
	m.to = to;
	m.from = 1;
	m.term = raftnet_term(net, 1);
	m.snapshot = &s;
	raft_step(raftnet_raft(net, to), &m);
	raftnet_ready(net, to);
}

static void
test_snapshot_ignored_cases(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);
	uint64_t v12[] = { 1, 2 }, v123[] = { 1, 2, 3 };
	struct raft_msg m;
	long i;

	raftnet_propose(net, 1, "a");
	net->hold = 1;
	send_snap(net, 3, 1, 1, v123, 3);
	i = raftnet_find(net, RAFT_MSG_APPEND_RESP, 3, 1);
	ok(i >= 0 && raftnet_peek(net, (size_t)i, &m) == 0 && m.index == 2 &&
	    !raftnet_node(net, 3)->last.snapshot,
	    "snapshot: a snapshot at or below the commit index is ignored");
	raftwire_msg_free(&m);
	raftnet_clear(net);
	send_snap(net, 3, 50, 1, v12, 2);
	ok(raftnet_last(net, 3) == 2 &&
	    raftnet_node(net, 3)->nsnaps_applied == 0,
	    "snapshot: a snapshot of a membership without this node is "
	    "ignored");
	raftnet_free(net);
}

static void
test_snapshot_fast_forward(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);
	uint64_t v123[] = { 1, 2, 3 };

	net->hold = 1;
	propose_held(net, 1, "a");
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 3);
	is_int(raftnet_commit(net, 3), 1, "node 3 has entry 2 uncommitted");
	send_snap(net, 3, 2, 1, v123, 3);
	ok(raftnet_commit(net, 3) == 2 &&
	    raftnet_node(net, 3)->nsnaps_applied == 0,
	    "snapshot: a snapshot matching the log only moves the commit "
	    "index");
	raftnet_free(net);
}

static void
test_request_snapshot(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);
	struct raftnet_node *n2 = raftnet_node(net, 2);

	raftnet_propose(net, 1, "a");
	raftnet_propose(net, 1, "b");
	raftnet_compact(net, 1, 0);
	is_int(raft_request_snapshot(raftnet_raft(net, 1), 0), RAFT_ERR_REFUSED,
	    "request snapshot: a leader cannot request one");
	is_int(raft_request_snapshot(n2->r, 0), 0,
	    "request snapshot: a follower asks its leader");
	raftnet_run(net);
	ok(net->sent[RAFT_MSG_SNAPSHOT] == 1 && n2->nsnaps_applied == 1,
	    "request snapshot: the leader sends one although the follower has "
	    "every entry");
	raftnet_propose(net, 1, "c");
	ok(raftnet_same_applied(net, 1, 2),
	    "request snapshot: the follower goes on replicating");
	raftnet_free(net);
}

/*
 * A follower acknowledged an entry the leader then committed, and asked
 * for a snapshot before it learned of the commit.  The snapshot comes at
 * its commit index, below the entry: installing it must keep the entry,
 * else the leader's quorum for it is gone and a node without it can win
 * the next election (raft_sim seeds 5214, 40240 and 5435).
 */
static void
test_request_snapshot_keeps_acked(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);
	struct raftnet_node *n2 = raftnet_node(net, 2);
	uint64_t k, term;

	raftnet_propose(net, 1, "a");
	raftnet_compact(net, 1, 0);
	net->hold = 1;
	raft_propose(raftnet_raft(net, 1), "b", 1, NULL);
	raftnet_run(net);
	k = raftnet_last(net, 1);
	term = raft_term_at(raftnet_raft(net, 1), k);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 2, 1);
	ok(raftnet_commit(net, 1) == k && raftnet_commit(net, 2) == k - 1,
	    "request snapshot: entry %llu is committed on node 2's "
	    "acknowledgement, node 2 does not know yet", (unsigned long long)k);
	raftnet_clear(net);
	is_int(raft_request_snapshot(n2->r, n2->applied), 0,
	    "request snapshot: node 2 asks for a snapshot at its applied "
	    "index");
	raftnet_run(net);
	raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 2, 1);
	raftnet_deliver_first(net, RAFT_MSG_SNAPSHOT, 1, 2);
	ok(n2->nsnaps_applied == 1 && n2->st.snap_index == k - 1,
	    "request snapshot: it installs the leader's snapshot at its "
	    "commit index");
	ok(raftnet_last(net, 2) == k && raft_term_at(n2->r, k) == term &&
	    n2->st.snap_index + n2->st.ents.n == k,
	    "request snapshot: the acknowledged entry after the snapshot is "
	    "kept, and written again after it");
	raftnet_clear(net);
	raftnet_crash(net, 1);
	net->hold = 0;
	raftnet_tick_all(net, 50);
	ok(raftnet_leader(net) == 2 && raftnet_commit(net, 3) >= k &&
	    raft_term_at(raftnet_raft(net, 3), k) == term &&
	    raftnet_same_applied(net, 2, 3),
	    "request snapshot: with the old leader gone the committed entry "
	    "survives");
	raftnet_free(net);
}

/*
 * Node 2 asks for a snapshot at an index the next leader has not
 * committed yet, and that leader needs node 2 to commit anything.  The
 * request must not stop node 2 from acknowledging entries, and is met
 * once the leader can (raft_sim seed 40002 deadlocked).
 */
static void
test_request_snapshot_above_leader_commit(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);
	struct raftnet_node *n2 = raftnet_node(net, 2);
	uint64_t k;

	raftnet_propose(net, 1, "a");
	net->hold = 1;
	raft_propose(raftnet_raft(net, 1), "b", 1, NULL);
	raftnet_run(net);
	k = raftnet_last(net, 1);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 3);
	raftnet_deliver_first(net, RAFT_MSG_APPEND_RESP, 2, 1);
	raftnet_deliver_first(net, RAFT_MSG_APPEND, 1, 2);
	ok(raftnet_commit(net, 2) == k && raftnet_commit(net, 3) == k - 1 &&
	    raftnet_last(net, 3) == k,
	    "request snapshot: node 2 knows entry %llu is committed, node 3 "
	    "only has it", (unsigned long long)k);
	raftnet_clear(net);
	raftnet_crash(net, 1);
	is_int(raft_request_snapshot(n2->r, n2->applied), 0,
	    "request snapshot: node 2 asks for a snapshot at %llu",
	    (unsigned long long)n2->applied);
	raftnet_clear(net);
	net->hold = 0;
	raftnet_campaign(net, 3);
	is_int(raftnet_leader(net), 3,
	    "request snapshot: node 3 leads, its commit index below the "
	    "request");
	ok(raftnet_commit(net, 3) > k,
	    "request snapshot: the new leader commits with the asking "
	    "follower's acknowledgements");
	is_int(raftnet_commit(net, 2), k,
	    "request snapshot: the asking follower applies nothing more "
	    "meanwhile");
	raftnet_compact(net, 3, 0);
	raftnet_tick_all(net, 3);
	ok(n2->nsnaps_applied == 1 && n2->st.snap_index > k,
	    "request snapshot: the request is met once the leader can");
	raftnet_propose(net, 3, "c");
	ok(raftnet_same_applied(net, 3, 2),
	    "request snapshot: and the follower replicates again");
	raftnet_free(net);
}

static void
test_restart_after_snapshot(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = lagging(&c, 3);

	raftnet_heal(net);
	raftnet_tick_all(net, 3);
	raftnet_restart(net, 3);
	raftnet_propose(net, 1, "after");
	ok(raftnet_same_applied(net, 1, 3),
	    "snapshot: a node restarts from its snapshot and keeps "
	    "replicating");
	raftnet_restart(net, 1);
	raftnet_tick_all(net, 40);
	ok(raftnet_leader(net) != 0,
	    "snapshot: a compacted leader restarts and "
	    "the group recovers");
	raftnet_free(net);
}

static void
test_compact_everyone(void)
{
	struct raft_config c = raftnet_config();
	struct raftnet *net = group(&c, 3);
	struct raft_status s;

	raftnet_propose(net, 1, "a");
	raftnet_compact(net, 1, 0);
	raftnet_compact(net, 2, 0);
	raftnet_compact(net, 3, 0);
	raft_status(raftnet_raft(net, 2), &s);
	is_int(s.first_index, 3, "compaction: the first index moves past the "
	    "compacted entries");
	raftnet_crash(net, 1);
	raftnet_tick_all(net, 40);
	ok(raftnet_leader(net) == 2 || raftnet_leader(net) == 3,
	    "compaction: nodes with compacted logs still elect a leader");
	raftnet_propose(net, raftnet_leader(net), "b");
	ok(raftnet_same_applied(net, 2, 3), "compaction: and replicate");
	raftnet_free(net);
}

int
main(void)
{
	test_probe_state();
	test_replicate_pipelines();
	test_inflight_window();
	test_inflight_heartbeat_frees();
	test_inflight_bytes();
	test_max_size_per_msg();
	test_unreachable_probe();
	test_reject_to_probe();
	test_uncommitted_cap();
	test_uncommitted_cap_big_entry();
	test_snapshot_sent();
	test_no_snapshot_when_not_needed();
	test_snapshot_membership();
	test_snapshot_report_failure();
	test_snapshot_report_success();
	test_snapshot_unavailable();
	test_snapshot_ignored_cases();
	test_snapshot_fast_forward();
	test_request_snapshot();
	test_request_snapshot_keeps_acked();
	test_request_snapshot_above_leader_commit();
	test_restart_after_snapshot();
	test_compact_everyone();
	return done_testing();
}
