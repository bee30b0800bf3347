/*
 * The envelope of Raft messages between stores (cmd/tikvd/peermsg.c):
 * round trips of every message type with entries, snapshots and
 * contexts, several envelopes in one payload, a decoded message that
 * owns its bytes, and malformed input (every truncation, zero ids,
 * random bytes and random damage) refused without reading out of
 * bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "raft.h"
#include "region.h"
#include "tap.h"
#include "transport.h"

static const struct raft_entry ents[] = {
	{ 3, 11, RAFT_ENTRY_NORMAL, (const uint8_t *)"alpha", 5 },
	{ 3, 12, RAFT_ENTRY_CONF_CHANGE, (const uint8_t *)"cc", 2 },
	{ 4, 13, RAFT_ENTRY_NORMAL, NULL, 0 },
	{ 4, 14, RAFT_ENTRY_NORMAL, (const uint8_t *)"\0\n \xff", 4 },
};

static const uint64_t voters[] = { 11, 12, 13 };
static const uint64_t learners[] = { 14 };
static const uint64_t outgoing[] = { 11, 12, 15 };
static const uint64_t next[] = { 15 };

static uint8_t snapdata[300000];

static struct raft_snapshot snap = {
	{ 900, 7, { voters, 3, outgoing, 3, learners, 1, next, 1, 1 } },
	snapdata, sizeof(snapdata)
};

static int
same_ids(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static int
same_msg(const struct raft_msg *a, const struct raft_msg *b)
{
	const struct raft_conf_state *p, *q;
	size_t i;

	if (a->type != b->type || a->to != b->to || a->from != b->from ||
	    a->term != b->term || a->log_term != b->log_term ||
	    a->index != b->index || a->commit != b->commit ||
	    !a->reject != !b->reject || a->reject_hint != b->reject_hint ||
	    a->request_snapshot != b->request_snapshot ||
	    a->n_entries != b->n_entries || a->context_len != b->context_len ||
	    (a->context_len &&
	    memcmp(a->context, b->context, a->context_len) != 0))
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
	if (a->snapshot == NULL)
		return 1;
	p = &a->snapshot->meta.conf_state;
	q = &b->snapshot->meta.conf_state;
	return a->snapshot->meta.index == b->snapshot->meta.index &&
	    a->snapshot->meta.term == b->snapshot->meta.term &&
	    a->snapshot->len == b->snapshot->len &&
	    (a->snapshot->len == 0 || memcmp(a->snapshot->data,
	    b->snapshot->data, a->snapshot->len) == 0) &&
	    same_ids(p->voters, p->n_voters, q->voters, q->n_voters) &&
	    same_ids(p->voters_outgoing, p->n_voters_outgoing,
	    q->voters_outgoing, q->n_voters_outgoing) &&
	    same_ids(p->learners, p->n_learners, q->learners, q->n_learners) &&
	    same_ids(p->learners_next, p->n_learners_next, q->learners_next,
	    q->n_learners_next) && !p->auto_leave == !q->auto_leave;
}

/* One message of each type, with the fields that type uses. */
static struct raft_msg
msg_of(int type)
{
	struct raft_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.from = 11;
	m.to = 12;
	m.term = 5;
	switch (type) {
	case RAFT_MSG_APPEND:
		m.index = 10;
		m.log_term = 3;
		m.commit = 12;
		m.entries = ents;
		m.n_entries = 4;
		break;
	case RAFT_MSG_APPEND_RESP:
		m.index = 9;
		m.reject = 1;
		m.reject_hint = 7;
		m.log_term = 2;
		m.request_snapshot = 8;
		break;
	case RAFT_MSG_VOTE:
	case RAFT_MSG_PREVOTE:
		m.index = 20;
		m.log_term = 4;
		m.context = (const uint8_t *)RAFT_CTX_TRANSFER;
		m.context_len = strlen(RAFT_CTX_TRANSFER);
		break;
	case RAFT_MSG_VOTE_RESP:
	case RAFT_MSG_PREVOTE_RESP:
		m.reject = 1;
		break;
	case RAFT_MSG_SNAPSHOT:
		m.snapshot = &snap;
		break;
	case RAFT_MSG_HEARTBEAT:
	case RAFT_MSG_HEARTBEAT_RESP:
		m.commit = 33;
		m.context = (const uint8_t *)"\0\0\0\0\0\0\1\2";
		m.context_len = 8;
		break;
	case RAFT_MSG_PROPOSE:
		m.term = 0;
		m.entries = ents;
		m.n_entries = 1;
		break;
	case RAFT_MSG_TRANSFER_LEADER:
		m.term = 0;
		m.index = 13;
		break;
	case RAFT_MSG_READ_INDEX:
	case RAFT_MSG_READ_INDEX_RESP:
		m.term = type == RAFT_MSG_READ_INDEX ? 0 : 5;
		m.index = 77;
		m.context = (const uint8_t *)"read ctx";
		m.context_len = 8;
		break;
	default:
		break;
	}
	return m;
}

static void
make_region(struct region *r)
{
	region_init(r);
	r->id = 42;
	buf_add(&r->start, "a\0\xff", 3);
	buf_add(&r->end, "z\n", 2);
	r->epoch.conf_ver = 6;
	r->epoch.version = 9;
	region_add_peer(r, 11, 1, REGION_VOTER);
	region_add_peer(r, 12, 2, REGION_VOTER);
}

static int
same_env(const struct peer_msg *pm, const struct region *r,
    uint64_t from_store, uint64_t to_store)
{
	struct region_epoch zero = { 0, 0 };

	return pm->region_id == 42 && pm->from_store == from_store &&
	    pm->to_store == to_store && pm->from_peer == 11 &&
	    pm->to_peer == 12 &&
	    region_epoch_eq(pm->epoch, r ? r->epoch : zero) &&
	    bytes_eq(buf_bytes(&pm->start),
	    r ? buf_bytes(&r->start) : bytes_str("")) &&
	    bytes_eq(buf_bytes(&pm->end),
	    r ? buf_bytes(&r->end) : bytes_str(""));
}

static void
test_round_trips(void)
{
	struct region r;
	struct peer_msg pm;
	struct buf b = BUF_INIT;
	const uint8_t *p;
	struct raft_msg m;
	int type, good;

	make_region(&r);
	for (type = 1; type <= RAFT_MSG_TYPE_MAX; type++) {
		m = msg_of(type);
		buf_reset(&b);
		peer_msg_encode(&b, 42, 1, 2, &r, &m);
		p = b.data;
		good = peer_msg_decode(&p, b.data + b.len, &pm) == 0;
		if (!good)
			diag("type %d: %s", type, log_reason());
		good = good && p == b.data + b.len &&
		    same_env(&pm, &r, 1, 2) && same_msg(&m, &pm.msg);
		/* The decoded message owns its bytes. */
		memset(b.data, 0xa5, b.len);
		good = good && same_msg(&m, &pm.msg);
		ok(good, "type %d round trips (%zu bytes)", type,
		    (size_t)(p - b.data));
		peer_msg_free(&pm);
	}

	m = msg_of(RAFT_MSG_HEARTBEAT);
	buf_reset(&b);
	peer_msg_encode(&b, 42, 3, 4, NULL, &m);
	p = b.data;
	ok(peer_msg_decode(&p, b.data + b.len, &pm) == 0 &&
	    same_env(&pm, NULL, 3, 4) && same_msg(&m, &pm.msg),
	    "a message without a region: epoch 0 and an empty range");
	peer_msg_free(&pm);
	ok(pm.raw.len == 0 && pm.msg.entries == NULL && pm.start.len == 0,
	    "peer_msg_free leaves an empty message");
	peer_msg_free(&pm);

	/* Big ids and an empty snapshot. */
	{
		struct raft_snapshot empty = { { 1, 1, { 0 } }, NULL, 0 };

		m = msg_of(RAFT_MSG_SNAPSHOT);
		m.snapshot = &empty;
		m.from = UINT64_MAX;
		m.to = UINT64_MAX - 1;
		m.term = UINT64_MAX;
		buf_reset(&b);
		peer_msg_encode(&b, UINT64_MAX, UINT64_MAX, 1, &r, &m);
		p = b.data;
		ok(peer_msg_decode(&p, b.data + b.len, &pm) == 0 &&
		    pm.region_id == UINT64_MAX &&
		    pm.from_store == UINT64_MAX && pm.to_store == 1 &&
		    pm.from_peer == UINT64_MAX && same_msg(&m, &pm.msg),
		    "largest ids and an empty snapshot");
		peer_msg_free(&pm);
	}
	region_free(&r);
	buf_free(&b);
}

/* Every type back to back in one payload, as a RAFT command carries. */
static void
test_batch(void)
{
	struct region r;
	struct peer_msg pm;
	struct buf b = BUF_INIT;
	const uint8_t *p, *end;
	struct raft_msg m;
	int type, n = 0, good = 1;

	make_region(&r);
	for (type = 1; type <= RAFT_MSG_TYPE_MAX; type++) {
		m = msg_of(type);
		peer_msg_encode(&b, 42, 1, 2, &r, &m);
	}
	p = b.data;
	end = b.data + b.len;
	while (p < end) {
		if (peer_msg_decode(&p, end, &pm) == -1) {
			diag("envelope %d: %s", n, log_reason());
			good = 0;
			break;
		}
		n++;
		m = msg_of(n);
		good = good && same_msg(&m, &pm.msg);
		peer_msg_free(&pm);
	}
	ok(good && n == RAFT_MSG_TYPE_MAX,
	    "%d envelopes in one payload decode in order", n);
	region_free(&r);
	buf_free(&b);
}

static int
decodes(const uint8_t *data, size_t len)
{
	struct peer_msg pm;
	uint8_t *copy = malloc(len ? len : 1);
	const uint8_t *p = copy;
	int rc;

	memcpy(copy, data, len);
	rc = peer_msg_decode(&p, copy + len, &pm);
	if (rc == 0 && (p <= copy || p > copy + len))
		rc = -2;
	if (rc == -1 && (pm.raw.len || pm.start.len || pm.msg.type ||
	    pm.msg.entries || pm.msg.snapshot))
		rc = -3;
	peer_msg_free(&pm);
	free(copy);
	return rc;
}

static void
test_truncation(void)
{
	struct region r;
	struct buf b = BUF_INIT;
	struct raft_msg m;
	size_t i, accepted = 0, total = 0;
	int type;

	make_region(&r);
	for (type = 1; type <= RAFT_MSG_TYPE_MAX; type++) {
		m = msg_of(type);
		if (type == RAFT_MSG_SNAPSHOT)
			snap.len = 64;	/* every prefix of 300 KB is slow */
		buf_reset(&b);
		peer_msg_encode(&b, 42, 1, 2, &r, &m);
		snap.len = sizeof(snapdata);
		for (i = 0; i < b.len; i++) {
			total++;
			if (decodes(b.data, i) != -1) {
				diag("type %d: prefix of %zu bytes accepted",
				    type, i);
				accepted++;
			}
		}
		if (decodes(b.data, b.len) != 0)
			accepted++;
	}
	is_int((long long)accepted, 0,
	    "each of %zu truncations refused, pm left empty", total);

	/* The big snapshot: a few prefixes near its end. */
	m = msg_of(RAFT_MSG_SNAPSHOT);
	buf_reset(&b);
	peer_msg_encode(&b, 42, 1, 2, &r, &m);
	ok(decodes(b.data, b.len - 1) == -1 &&
	    decodes(b.data, b.len / 2) == -1 && decodes(b.data, b.len) == 0,
	    "a truncated snapshot message is refused");
	region_free(&r);
	buf_free(&b);
}

static void
test_malformed(void)
{
	struct region r;
	struct buf b = BUF_INIT;
	struct raft_msg m = msg_of(RAFT_MSG_HEARTBEAT);
	uint8_t rnd[256];
	size_t i, j, len, damaged_ok = 0, random_ok = 0, weird = 0;
	int rc;

	make_region(&r);
	buf_reset(&b);
	peer_msg_encode(&b, 0, 1, 2, &r, &m);
	ok(decodes(b.data, b.len) == -1 &&
	    strstr(log_reason(), "raft envelope") != NULL,
	    "region id 0 is refused (%s)", log_reason());
	buf_reset(&b);
	peer_msg_encode(&b, 42, 0, 2, &r, &m);
	ok(decodes(b.data, b.len) == -1, "from store 0 is refused");
	buf_reset(&b);
	peer_msg_encode(&b, 42, 1, 0, &r, &m);
	ok(decodes(b.data, b.len) == -1, "to store 0 is refused");
	m.from = 0;
	buf_reset(&b);
	peer_msg_encode(&b, 42, 1, 2, &r, &m);
	ok(decodes(b.data, b.len) == -1, "a message from peer 0 is refused");
	m = msg_of(RAFT_MSG_HEARTBEAT);
	m.to = 0;
	buf_reset(&b);
	peer_msg_encode(&b, 42, 1, 2, &r, &m);
	ok(decodes(b.data, b.len) == -1, "a message to peer 0 is refused");
	m = msg_of(RAFT_MSG_HEARTBEAT);
	buf_reset(&b);
	peer_msg_encode(&b, 42, 1, 2, &r, &m);
	b.data[0] = 2;
	ok(decodes(b.data, b.len) == -1, "an unknown version is refused");
	b.data[0] = 1;
	ok(decodes(b.data, b.len) == 0, "and version 1 accepted");
	{
		struct buf c = BUF_INIT, w = BUF_INIT;
		struct raft_msg hm = msg_of(RAFT_MSG_HEARTBEAT);

		/* Envelope with raftwire bytes plus a trailing byte. */
		peer_msg_encode(&c, 42, 1, 2, NULL, &hm);
		buf_reset(&w);
		buf_add(&w, c.data, 1 + 3 + 2 + 2);	/* up to the wire */
		buf_addc(&w, (int)(c.len - w.len));	/* len + 1 */
		buf_add(&w, c.data + w.len, c.len - w.len);
		buf_addc(&w, 0);
		ok(decodes(c.data, c.len) == 0 && decodes(w.data, w.len) == -1,
		    "trailing bytes inside the message are refused");
		buf_free(&c);
		buf_free(&w);
	}

	/* Random damage to every type: no crash, no overread. */
	for (i = 0; i < 20000; i++) {
		m = msg_of(1 + (int)tap_rand_below(RAFT_MSG_TYPE_MAX));
		if (m.type == RAFT_MSG_SNAPSHOT)
			snap.len = 100;
		buf_reset(&b);
		peer_msg_encode(&b, 42, 1, 2, &r, &m);
		snap.len = sizeof(snapdata);
		for (j = 1 + tap_rand_below(3); j > 0; j--)
			b.data[tap_rand_below(b.len)] ^=
			    (uint8_t)(1 + tap_rand_below(255));
		rc = decodes(b.data, b.len);
		if (rc == 0)
			damaged_ok++;
		else if (rc != -1)
			weird++;
	}
	ok(weird == 0, "20000 damaged envelopes decoded or refused cleanly "
	    "(%zu still decoded)", damaged_ok);

	for (i = 0; i < 100000; i++) {
		len = tap_rand_below(sizeof(rnd));
		for (j = 0; j < len; j++)
			rnd[j] = (uint8_t)tap_rand();
		if (len > 0 && tap_rand_below(2))
			rnd[0] = 1;	/* get past the version byte */
		rc = decodes(rnd, len);
		if (rc == 0)
			random_ok++;
		else if (rc != -1)
			weird++;
	}
	ok(weird == 0, "100000 random byte strings decoded or refused cleanly "
	    "(%zu decoded)", random_ok);
	region_free(&r);
	buf_free(&b);
}

int
main(void)
{
	size_t i;

	log_init("peer_msg_test", LOG_LEVEL_WARN, 0);
	for (i = 0; i < sizeof(snapdata); i++)
		snapdata[i] = (uint8_t)(i * 131 + (i >> 8));
	test_round_trips();
	test_batch();
	test_truncation();
	test_malformed();
	return done_testing();
}
