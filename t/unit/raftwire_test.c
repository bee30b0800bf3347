/*
 * The Raft wire encoding: round trips of every message shape, entries,
 * hard and conf states and conf changes, its compactness, and rejection
 * of malformed input (truncation, trailing bytes, bad types and flags,
 * impossible counts, over-long varints) without reading out of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "raftwire.h"
#include "tap.h"

static struct raft_entry ents[] = {
	{ 3, 11, RAFT_ENTRY_NORMAL, (const uint8_t *)"alpha", 5 },
	{ 3, 12, RAFT_ENTRY_CONF_CHANGE, (const uint8_t *)"cc", 2 },
	{ 4, 13, RAFT_ENTRY_NORMAL, NULL, 0 },
	{ 4, 20, RAFT_ENTRY_NORMAL, (const uint8_t *)"\0\n ", 3 },
};

static int
same_msg(const struct raft_msg *a, const struct raft_msg *b)
{
	size_t i;

	if (a->type != b->type || a->to != b->to || a->from != b->from ||
	    a->term != b->term || a->log_term != b->log_term ||
	    a->index != b->index || a->commit != b->commit ||
	    !a->reject != !b->reject || a->reject_hint != b->reject_hint ||
	    a->request_snapshot != b->request_snapshot ||
	    a->n_entries != b->n_entries || a->context_len != b->context_len)
		return 0;
	if (a->context_len &&
	    memcmp(a->context, b->context, a->context_len) != 0)
		return 0;
	for (i = 0; i < a->n_entries; i++) {
		const struct raft_entry *x = &a->entries[i];
		const struct raft_entry *y = &b->entries[i];

		if (x->term != y->term || x->index != y->index ||
		    x->type != y->type || x->len != y->len ||
		    (x->len && memcmp(x->data, y->data, x->len) != 0))
			return 0;
	}
	if ((a->snapshot == NULL) != (b->snapshot == NULL))
		return 0;
	if (a->snapshot != NULL) {
		const struct raft_snapshot *x = a->snapshot, *y = b->snapshot;
		const struct raft_conf_state *p = &x->meta.conf_state;
		const struct raft_conf_state *q = &y->meta.conf_state;

		if (x->meta.index != y->meta.index ||
		    x->meta.term != y->meta.term || x->len != y->len ||
		    (x->len && memcmp(x->data, y->data, x->len) != 0) ||
		    p->n_voters != q->n_voters ||
		    p->n_voters_outgoing != q->n_voters_outgoing ||
		    p->n_learners != q->n_learners ||
		    p->n_learners_next != q->n_learners_next ||
		    !p->auto_leave != !q->auto_leave)
			return 0;
		for (i = 0; i < p->n_voters; i++)
			if (p->voters[i] != q->voters[i])
				return 0;
		for (i = 0; i < p->n_learners_next; i++)
			if (p->learners_next[i] != q->learners_next[i])
				return 0;
	}
	return 1;
}

static int
round_trip(const struct raft_msg *m, size_t *len)
{
	struct buf b = BUF_INIT;
	struct raft_msg d;
	int same;

	raftwire_encode_msg(&b, m);
	if (len != NULL)
		*len = b.len;
	if (raftwire_decode_msg(b.data, b.len, &d) != 0) {
		diag("decode: %s", "failed");
		buf_free(&b);
		return 0;
	}
	same = same_msg(m, &d);
	raftwire_msg_free(&d);
	buf_free(&b);
	return same;
}

static struct raft_msg
msg(int type)
{
	struct raft_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.to = 2;
	m.from = 1;
	m.term = 7;
	return m;
}

static void
test_round_trips(void)
{
	uint64_t v[] = { 1, 2, 3 }, vo[] = { 1, 2, 4 };
	uint64_t l[] = { 5 }, ln[] = { 4 };
	struct raft_snapshot s;
	struct raft_msg m;
	size_t len;

	m = msg(RAFT_MSG_APPEND);
	m.index = 10;
	m.log_term = 3;
	m.commit = 9;
	m.entries = ents;
	m.n_entries = 4;
	ok(round_trip(&m, NULL), "wire: an append with entries round-trips");
	m = msg(RAFT_MSG_APPEND_RESP);
	m.index = 10;
	m.reject = 1;
	m.reject_hint = 8;
	m.log_term = 2;
	m.request_snapshot = 99;
	ok(round_trip(&m, NULL), "wire: a rejection with hints round-trips");
	m = msg(RAFT_MSG_VOTE);
	m.index = UINT64_MAX;
	m.log_term = UINT64_MAX;
	m.context = (const uint8_t *)RAFT_CTX_TRANSFER;
	m.context_len = strlen(RAFT_CTX_TRANSFER);
	ok(round_trip(&m, NULL), "wire: a vote with context and 64-bit fields "
	    "round-trips");
	m = msg(RAFT_MSG_HEARTBEAT);
	m.commit = 5;
	m.context = (const uint8_t *)"\0\0\0\0\0\0\0\1";
	m.context_len = 8;
	ok(round_trip(&m, NULL),
	    "wire: a heartbeat with its round round-trips");
	memset(&s, 0, sizeof(s));
	s.meta.index = 100;
	s.meta.term = 6;
	s.meta.conf_state.voters = v;
	s.meta.conf_state.n_voters = 3;
	s.meta.conf_state.voters_outgoing = vo;
	s.meta.conf_state.n_voters_outgoing = 3;
	s.meta.conf_state.learners = l;
	s.meta.conf_state.n_learners = 1;
	s.meta.conf_state.learners_next = ln;
	s.meta.conf_state.n_learners_next = 1;
	s.meta.conf_state.auto_leave = 1;
	s.data = (const uint8_t *)"snapshot-data";
	s.len = 13;
	m = msg(RAFT_MSG_SNAPSHOT);
	m.snapshot = &s;
	ok(round_trip(&m, NULL), "wire: a snapshot with a joint membership "
	    "round-trips");
	m = msg(RAFT_MSG_HEARTBEAT_RESP);
	ok(round_trip(&m, &len) && len <= 6,
	    "wire: a bare message takes a handful of bytes");
	m = msg(RAFT_MSG_READ_INDEX);
	m.term = 0;
	m.context = (const uint8_t *)"req-1";
	m.context_len = 5;
	ok(round_trip(&m, NULL), "wire: a forwarded read round-trips");
	m = msg(RAFT_MSG_TRANSFER_LEADER);
	m.index = 3;
	ok(round_trip(&m, NULL), "wire: a transfer request round-trips");
}

static void
test_compact(void)
{
	struct raft_entry e[100];
	struct raft_msg m;
	size_t len, i;

	for (i = 0; i < 100; i++) {
		e[i].term = 5;
		e[i].index = 1001 + i;
		e[i].type = RAFT_ENTRY_NORMAL;
		e[i].data = (const uint8_t *)"x";
		e[i].len = 1;
	}
	m = msg(RAFT_MSG_APPEND);
	m.index = 1000;
	m.log_term = 5;
	m.entries = e;
	m.n_entries = 100;
	ok(round_trip(&m, &len), "wire: 100 consecutive entries round-trip");
	ok(len <= 100 * 3 + 16,
	    "wire: consecutive entries of one term cost 3 bytes of overhead "
	    "each (%zu bytes)", len);
}

static void
test_truncations(void)
{
	struct raft_msg m, d;
	struct buf b = BUF_INIT;
	size_t i;
	int bad = 0;
	uint8_t *copy;

	m = msg(RAFT_MSG_APPEND);
	m.index = 10;
	m.log_term = 3;
	m.commit = 9;
	m.entries = ents;
	m.n_entries = 4;
	m.context = (const uint8_t *)"ctx";
	m.context_len = 3;
	raftwire_encode_msg(&b, &m);
	for (i = 0; i < b.len; i++) {
		/* An exact-size copy, so ASan sees any overread. */
		copy = malloc(i ? i : 1);
		memcpy(copy, b.data, i);
		if (raftwire_decode_msg(copy, i, &d) == 0) {
			bad++;
			raftwire_msg_free(&d);
		}
		free(copy);
	}
	is_int(bad, 0, "wire: every truncation of a message is rejected");
	buf_addc(&b, 0);
	ok(raftwire_decode_msg(b.data, b.len, &d) != 0,
	    "wire: trailing bytes are rejected");
	buf_free(&b);
}

static int
decodes(const char *bytes, size_t len)
{
	struct raft_msg d;

	if (raftwire_decode_msg((const uint8_t *)bytes, len, &d) != 0)
		return 0;
	raftwire_msg_free(&d);
	return 1;
}

static void
test_malformed(void)
{
	ok(decodes("\1\10\0", 3), "wire: a minimal heartbeat decodes");
	ok(!decodes("", 0), "wire: empty input is rejected");
	ok(!decodes("\2\10\0", 3), "wire: an unknown version is rejected");
	ok(!decodes("\1\0\0", 3), "wire: message type 0 is rejected");
	ok(!decodes("\1\17\0", 3), "wire: a message type past the last is "
	    "rejected");
	ok(!decodes("\1\10\200\100", 4),
	    "wire: unknown field flags are rejected");
	ok(!decodes("\1\10\1\0", 4), "wire: node id 0 is rejected");
	ok(!decodes("\1\10\4\377\377\377\377\377\377\377\377\377\377\1", 14),
	    "wire: an over-long varint is rejected");
	ok(!decodes("\1\10\4\377\377\377\377\377\377\377\377\377\2", 13),
	    "wire: a varint beyond 64 bits is rejected");
	ok(!decodes("\1\1\200\4\377\377\377\377\17", 9),
	    "wire: an entry count beyond the input is rejected");
	ok(!decodes("\1\1\200\4\1\0\1a", 8),
	    "wire: a first entry without a term is rejected");
	ok(!decodes("\1\1\200\4\1\10\1\5a", 9),
	    "wire: an entry longer than the input is rejected");
	ok(!decodes("\1\1\200\4\1\13\1\1a", 9),
	    "wire: an unknown entry type is rejected");
	ok(!decodes("\1\1\200\10\2\1\0\0\0\0\0\0", 12),
	    "wire: a snapshot on a non-snapshot message is rejected");
	ok(!decodes("\1\7\0", 3), "wire: a snapshot message without one is "
	    "rejected");
	ok(!decodes("\1\10\200\20\0", 5), "wire: an empty context field is "
	    "rejected");
	ok(!decodes("\1\10\200\20\5ab", 7),
	    "wire: a context longer than the input is rejected");
	ok(!decodes("\1\1\200\4\0", 5),
	    "wire: an empty entries field is rejected");
}

static void
test_fuzzish(void)
{
	struct raft_msg m, d;
	struct buf b = BUF_INIT;
	uint64_t x = 12345;
	int i, crashed = 0, decoded = 0;
	uint8_t *copy;

	m = msg(RAFT_MSG_APPEND);
	m.index = 10;
	m.log_term = 3;
	m.entries = ents;
	m.n_entries = 4;
	raftwire_encode_msg(&b, &m);
	copy = malloc(b.len);
	for (i = 0; i < 20000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		memcpy(copy, b.data, b.len);
		copy[(x >> 33) % b.len] ^= (uint8_t)(1u << ((x >> 20) % 8));
		if ((x >> 40) % 3 == 0)
			copy[(x >> 45) % b.len] = (uint8_t)(x >> 56);
		if (raftwire_decode_msg(copy, b.len, &d) == 0) {
			decoded++;
			if (d.n_entries > b.len)
				crashed++;
			raftwire_msg_free(&d);
		}
	}
	free(copy);
	buf_free(&b);
	is_int(crashed, 0, "wire: 20000 mutated messages decode sanely or are "
	    "rejected (%d decoded)", decoded);
}

static void
test_zero_copy(void)
{
	struct raft_msg m, d;
	struct buf b = BUF_INIT;

	m = msg(RAFT_MSG_APPEND);
	m.entries = ents;
	m.n_entries = 1;
	raftwire_encode_msg(&b, &m);
	ok(raftwire_decode_msg(b.data, b.len, &d) == 0 &&
	    d.entries[0].data >= b.data &&
	    d.entries[0].data + 5 <= b.data + b.len,
	    "wire: decoded entry data points into the input");
	raftwire_msg_free(&d);
	buf_free(&b);
}

static void
test_entry_and_states(void)
{
	struct buf b = BUF_INIT;
	struct raft_entry e;
	struct raft_hard_state hs = { 9, 3, 77 }, hd;
	uint64_t v[] = { 1, 2, 3 }, l[] = { 4 };
	struct raft_conf_state cs, cd;
	const uint8_t *p;
	size_t i;
	int bad = 0;

	raftwire_encode_entry(&b, &ents[1]);
	raftwire_encode_entry(&b, &ents[3]);
	p = b.data;
	ok(raftwire_decode_entry(&p, b.data + b.len, &e) == 0 &&
	    e.index == 12 && e.type == RAFT_ENTRY_CONF_CHANGE && e.len == 2,
	    "wire: a WAL entry round-trips");
	ok(raftwire_decode_entry(&p, b.data + b.len, &e) == 0 && e.len == 3 &&
	    memcmp(e.data, "\0\n ", 3) == 0 && p == b.data + b.len,
	    "wire: WAL entries are self-delimiting");
	for (i = 0; i + 1 < b.len; i++) {
		p = b.data;
		if (raftwire_decode_entry(&p, b.data + i, &e) == 0 &&
		    raftwire_decode_entry(&p, b.data + i, &e) == 0)
			bad++;
	}
	is_int(bad, 0, "wire: truncated WAL entries are rejected");
	buf_reset(&b);
	buf_add(&b, "\5\1\1\0", 4);
	p = b.data;
	ok(raftwire_decode_entry(&p, b.data + b.len, &e) != 0,
	    "wire: a WAL entry of unknown type is rejected");
	buf_reset(&b);
	raftwire_encode_hard_state(&b, &hs);
	p = b.data;
	ok(raftwire_decode_hard_state(&p, b.data + b.len, &hd) == 0 &&
	    hd.term == 9 && hd.vote == 3 && hd.commit == 77,
	    "wire: a hard state round-trips");
	p = b.data;
	ok(raftwire_decode_hard_state(&p, b.data + b.len - 1, &hd) != 0,
	    "wire: a truncated hard state is rejected");
	buf_reset(&b);
	memset(&cs, 0, sizeof(cs));
	cs.voters = v;
	cs.n_voters = 3;
	cs.learners = l;
	cs.n_learners = 1;
	raftwire_encode_conf_state(&b, &cs);
	p = b.data;
	ok(raftwire_decode_conf_state(&p, b.data + b.len, &cd) == 0 &&
	    cd.n_voters == 3 && cd.voters[2] == 3 && cd.n_learners == 1 &&
	    cd.learners[0] == 4 && cd.n_voters_outgoing == 0,
	    "wire: a conf state round-trips");
	raftwire_conf_state_free(&cd);
	buf_reset(&b);
	buf_add(&b, "\177\1\2", 3);
	p = b.data;
	ok(raftwire_decode_conf_state(&p, b.data + b.len, &cd) != 0,
	    "wire: a conf state claiming more ids than bytes is rejected");
	buf_reset(&b);
	buf_add(&b, "\1\0\0\0\0\0", 6);
	p = b.data;
	ok(raftwire_decode_conf_state(&p, b.data + b.len, &cd) != 0,
	    "wire: node id 0 in a conf state is rejected");
	buf_free(&b);
}

static void
test_conf_change(void)
{
	struct raft_conf_change_single ch[2] = { { RAFT_CC_ADD_NODE, 4 },
	    { RAFT_CC_REMOVE_NODE, 1 } };
	struct raft_conf_change cc, d;
	struct buf b = BUF_INIT;

	memset(&cc, 0, sizeof(cc));
	cc.transition = RAFT_CC_TRANSITION_JOINT_EXPLICIT;
	cc.changes = ch;
	cc.n_changes = 2;
	cc.context = (const uint8_t *)"ctx";
	cc.context_len = 3;
	raftwire_encode_conf_change(&b, &cc);
	ok(raftwire_decode_conf_change(b.data, b.len, &d) == 0 &&
	    d.transition == cc.transition && d.n_changes == 2 &&
	    d.changes[0].node_id == 4 && d.changes[1].type ==
	    RAFT_CC_REMOVE_NODE && d.context_len == 3,
	    "wire: a conf change round-trips");
	raftwire_conf_change_free(&d);
	ok(raftwire_decode_conf_change(b.data, b.len - 1, &d) != 0,
	    "wire: a truncated conf change is rejected");
	buf_addc(&b, 0);
	ok(raftwire_decode_conf_change(b.data, b.len, &d) != 0,
	    "wire: a conf change with trailing bytes is rejected");
	ok(raftwire_decode_conf_change((const uint8_t *)"\3\0\0", 3, &d) != 0,
	    "wire: an unknown transition is rejected");
	ok(raftwire_decode_conf_change((const uint8_t *)"\0\1\3\1\0", 5, &d) !=
	    0, "wire: an unknown change type is rejected");
	ok(raftwire_decode_conf_change((const uint8_t *)"\0\1\0\0\0", 5, &d) !=
	    0, "wire: a change of node 0 is rejected");
	ok(raftwire_decode_conf_change((const uint8_t *)"\0\0\0", 3, &d) == 0 &&
	    d.n_changes == 0, "wire: the empty (leave joint) change decodes");
	raftwire_conf_change_free(&d);
	buf_free(&b);
}

int
main(void)
{
	test_round_trips();
	test_compact();
	test_truncations();
	test_malformed();
	test_fuzzish();
	test_zero_copy();
	test_entry_and_states();
	test_conf_change();
	return done_testing();
}
