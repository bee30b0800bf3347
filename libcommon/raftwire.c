#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "log.h"
#include "raftwire.h"
#include "xmalloc.h"

/* Presence bits of the optional message fields, in encoding order. */
#define F_TO		0x001
#define F_FROM		0x002
#define F_TERM		0x004
#define F_LOG_TERM	0x008
#define F_INDEX		0x010
#define F_COMMIT	0x020
#define F_REJECT	0x040	/* no value: the bit is the flag */
#define F_REJECT_HINT	0x080
#define F_REQUEST_SNAP	0x100
#define F_ENTRIES	0x200
#define F_SNAPSHOT	0x400
#define F_CONTEXT	0x800
#define F_ALL		0xfff

/* Entry header bits (in a message, entries are delta-coded). */
#define E_TYPE_MASK	0x03
#define E_INDEX		0x04	/* index follows (else previous + 1) */
#define E_TERM		0x08	/* term follows (else previous term) */

/* Largest id count in a conf state we accept from the wire. */
#define MAX_IDS		4096

static int
bad(const char *what)
{
	log_setreason("malformed raft %s", what);
	return -1;
}

static int
rd(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	return codec_read_varint(p, end, v);
}

void
raftwire_encode_entry(struct buf *b, const struct raft_entry *e)
{
	codec_add_varint(b, (uint64_t)e->type);
	codec_add_varint(b, e->term);
	codec_add_varint(b, e->index);
	codec_add_lenbytes(b, e->data, e->len);
}

int
raftwire_decode_entry(const uint8_t **p, const uint8_t *end,
    struct raft_entry *e)
{
	const uint8_t *q = *p;
	struct bytes d;
	uint64_t type;

	if (rd(&q, end, &type) || type > RAFT_ENTRY_CONF_CHANGE ||
	    rd(&q, end, &e->term) || rd(&q, end, &e->index) ||
	    codec_read_lenbytes(&q, end, &d))
		return bad("entry");
	e->type = (int)type;
	e->data = d.len ? d.ptr : NULL;
	e->len = d.len;
	*p = q;
	return 0;
}

void
raftwire_encode_hard_state(struct buf *b, const struct raft_hard_state *hs)
{
	codec_add_varint(b, hs->term);
	codec_add_varint(b, hs->vote);
	codec_add_varint(b, hs->commit);
}

int
raftwire_decode_hard_state(const uint8_t **p, const uint8_t *end,
    struct raft_hard_state *hs)
{
	const uint8_t *q = *p;

	if (rd(&q, end, &hs->term) || rd(&q, end, &hs->vote) ||
	    rd(&q, end, &hs->commit))
		return bad("hard state");
	*p = q;
	return 0;
}

static void
add_ids(struct buf *b, const uint64_t *ids, size_t n)
{
	size_t i;

	codec_add_varint(b, n);
	for (i = 0; i < n; i++)
		codec_add_varint(b, ids[i]);
}

void
raftwire_encode_conf_state(struct buf *b, const struct raft_conf_state *cs)
{
	add_ids(b, cs->voters, cs->n_voters);
	add_ids(b, cs->voters_outgoing, cs->n_voters_outgoing);
	add_ids(b, cs->learners, cs->n_learners);
	add_ids(b, cs->learners_next, cs->n_learners_next);
	codec_add_varint(b, cs->auto_leave ? 1 : 0);
}

static int
read_ids(const uint8_t **p, const uint8_t *end, uint64_t *ids, size_t *used,
    size_t cap, size_t *n)
{
	uint64_t k, i, id;

	if (rd(p, end, &k) || k > cap - *used)
		return -1;
	for (i = 0; i < k; i++) {
		if (rd(p, end, &id) || id == RAFT_NONE)
			return -1;
		ids[*used + i] = id;
	}
	*n = (size_t)k;
	*used += (size_t)k;
	return 0;
}

int
raftwire_decode_conf_state(const uint8_t **p, const uint8_t *end,
    struct raft_conf_state *cs)
{
	const uint8_t *q = *p;
	uint64_t *ids, al;
	size_t cap, used = 0, o1, o2, o3;

	memset(cs, 0, sizeof(*cs));
	/* Every id takes at least one byte: bound the allocation. */
	cap = (size_t)(end - q);
	if (cap > MAX_IDS)
		cap = MAX_IDS;
	ids = xreallocarray(NULL, cap + 1, sizeof(*ids));
	if (read_ids(&q, end, ids, &used, cap, &cs->n_voters))
		goto fail;
	o1 = used;
	if (read_ids(&q, end, ids, &used, cap, &cs->n_voters_outgoing))
		goto fail;
	o2 = used;
	if (read_ids(&q, end, ids, &used, cap, &cs->n_learners))
		goto fail;
	o3 = used;
	if (read_ids(&q, end, ids, &used, cap, &cs->n_learners_next))
		goto fail;
	if (rd(&q, end, &al) || al > 1)
		goto fail;
	cs->voters = ids;
	cs->voters_outgoing = ids + o1;
	cs->learners = ids + o2;
	cs->learners_next = ids + o3;
	cs->auto_leave = (int)al;
	*p = q;
	return 0;
fail:
	free(ids);
	memset(cs, 0, sizeof(*cs));
	return bad("conf state");
}

void
raftwire_conf_state_free(struct raft_conf_state *cs)
{
	free((void *)cs->voters);
	memset(cs, 0, sizeof(*cs));
}

void
raftwire_encode_conf_change(struct buf *b, const struct raft_conf_change *cc)
{
	size_t i;

	codec_add_varint(b, (uint64_t)cc->transition);
	codec_add_varint(b, cc->n_changes);
	for (i = 0; i < cc->n_changes; i++) {
		codec_add_varint(b, (uint64_t)cc->changes[i].type);
		codec_add_varint(b, cc->changes[i].node_id);
	}
	codec_add_lenbytes(b, cc->context, cc->context_len);
}

int
raftwire_decode_conf_change(const uint8_t *p, size_t len,
    struct raft_conf_change *cc)
{
	const uint8_t *end = p + len;
	struct raft_conf_change_single *ch = NULL;
	uint64_t tr, n, i, type, id;
	struct bytes ctx;

	memset(cc, 0, sizeof(*cc));
	if (p == NULL && len > 0)
		return bad("conf change");
	if (rd(&p, end, &tr) || tr > RAFT_CC_TRANSITION_JOINT_EXPLICIT ||
	    rd(&p, end, &n) || n > (uint64_t)(end - p) / 2)
		return bad("conf change");
	if (n > 0)
		ch = xreallocarray(NULL, (size_t)n, sizeof(*ch));
	for (i = 0; i < n; i++) {
		if (rd(&p, end, &type) || type > RAFT_CC_ADD_LEARNER ||
		    rd(&p, end, &id) || id == RAFT_NONE)
			goto fail;
		ch[i].type = (int)type;
		ch[i].node_id = id;
	}
	if (codec_read_lenbytes(&p, end, &ctx) || p != end)
		goto fail;
	cc->transition = (int)tr;
	cc->changes = ch;
	cc->n_changes = (size_t)n;
	cc->context = ctx.len ? ctx.ptr : NULL;
	cc->context_len = ctx.len;
	return 0;
fail:
	free(ch);
	return bad("conf change");
}

void
raftwire_conf_change_free(struct raft_conf_change *cc)
{
	free((void *)cc->changes);
	memset(cc, 0, sizeof(*cc));
}

void
raftwire_encode_msg(struct buf *b, const struct raft_msg *m)
{
	const struct raft_entry *e;
	uint64_t flags = 0, pi = 0, pt = 0, h;
	size_t i;

	if (m->to)
		flags |= F_TO;
	if (m->from)
		flags |= F_FROM;
	if (m->term)
		flags |= F_TERM;
	if (m->log_term)
		flags |= F_LOG_TERM;
	if (m->index)
		flags |= F_INDEX;
	if (m->commit)
		flags |= F_COMMIT;
	if (m->reject)
		flags |= F_REJECT;
	if (m->reject_hint)
		flags |= F_REJECT_HINT;
	if (m->request_snapshot)
		flags |= F_REQUEST_SNAP;
	if (m->n_entries)
		flags |= F_ENTRIES;
	if (m->snapshot)
		flags |= F_SNAPSHOT;
	if (m->context_len)
		flags |= F_CONTEXT;
	buf_addc(b, RAFTWIRE_VERSION);
	codec_add_varint(b, (uint64_t)m->type);
	codec_add_varint(b, flags);
	if (flags & F_TO)
		codec_add_varint(b, m->to);
	if (flags & F_FROM)
		codec_add_varint(b, m->from);
	if (flags & F_TERM)
		codec_add_varint(b, m->term);
	if (flags & F_LOG_TERM)
		codec_add_varint(b, m->log_term);
	if (flags & F_INDEX)
		codec_add_varint(b, m->index);
	if (flags & F_COMMIT)
		codec_add_varint(b, m->commit);
	if (flags & F_REJECT_HINT)
		codec_add_varint(b, m->reject_hint);
	if (flags & F_REQUEST_SNAP)
		codec_add_varint(b, m->request_snapshot);
	if (flags & F_ENTRIES) {
		codec_add_varint(b, m->n_entries);
		/* Appends carry consecutive entries after m->index. */
		pi = m->index;
		for (i = 0; i < m->n_entries; i++) {
			e = &m->entries[i];
			h = (uint64_t)e->type & E_TYPE_MASK;
			if (e->index != pi + 1)
				h |= E_INDEX;
			if (i == 0 || e->term != pt)
				h |= E_TERM;
			codec_add_varint(b, h);
			if (h & E_INDEX)
				codec_add_varint(b, e->index);
			if (h & E_TERM)
				codec_add_varint(b, e->term);
			codec_add_lenbytes(b, e->data, e->len);
			pi = e->index;
			pt = e->term;
		}
	}
	if (flags & F_SNAPSHOT) {
		codec_add_varint(b, m->snapshot->meta.index);
		codec_add_varint(b, m->snapshot->meta.term);
		raftwire_encode_conf_state(b, &m->snapshot->meta.conf_state);
		codec_add_lenbytes(b, m->snapshot->data, m->snapshot->len);
	}
	if (flags & F_CONTEXT)
		codec_add_lenbytes(b, m->context, m->context_len);
}

static int
decode_entries(const uint8_t **p, const uint8_t *end, struct raft_msg *m)
{
	struct raft_entry *es;
	uint64_t n, i, h, pi, pt = 0;
	struct bytes d;

	/* Every entry takes at least two bytes: bound the allocation. */
	if (rd(p, end, &n) || n == 0 || n > (uint64_t)(end - *p) / 2)
		return -1;
	es = xreallocarray(NULL, (size_t)n, sizeof(*es));
	pi = m->index;
	for (i = 0; i < n; i++) {
		if (rd(p, end, &h) || (h & ~(uint64_t)(E_TYPE_MASK | E_INDEX |
		    E_TERM)) || (h & E_TYPE_MASK) > RAFT_ENTRY_CONF_CHANGE)
			goto fail;
		if (i == 0 && !(h & E_TERM))
			goto fail;
		es[i].type = (int)(h & E_TYPE_MASK);
		if (h & E_INDEX) {
			if (rd(p, end, &es[i].index))
				goto fail;
		} else {
			if (pi == UINT64_MAX)
				goto fail;
			es[i].index = pi + 1;
		}
		if (h & E_TERM) {
			if (rd(p, end, &es[i].term))
				goto fail;
		} else {
			es[i].term = pt;
		}
		if (codec_read_lenbytes(p, end, &d))
			goto fail;
		es[i].data = d.len ? d.ptr : NULL;
		es[i].len = d.len;
		pi = es[i].index;
		pt = es[i].term;
	}
	m->entries = es;
	m->n_entries = (size_t)n;
	return 0;
fail:
	free(es);
	return -1;
}

static int
decode_snapshot(const uint8_t **p, const uint8_t *end, struct raft_msg *m)
{
	struct raft_snapshot *s;
	struct bytes d;

	s = xcalloc(1, sizeof(*s));
	if (rd(p, end, &s->meta.index) || rd(p, end, &s->meta.term) ||
	    raftwire_decode_conf_state(p, end, &s->meta.conf_state)) {
		free(s);
		return -1;
	}
	if (codec_read_lenbytes(p, end, &d)) {
		raftwire_conf_state_free(&s->meta.conf_state);
		free(s);
		return -1;
	}
	s->data = d.len ? d.ptr : NULL;
	s->len = d.len;
	m->snapshot = s;
	return 0;
}

int
raftwire_decode_msg(const uint8_t *p, size_t len, struct raft_msg *m)
{
	const uint8_t *end = p + len;
	uint64_t type, flags;
	struct bytes ctx;

	memset(m, 0, sizeof(*m));
	if (p == NULL || len == 0)
		return bad("message: empty");
	if (*p++ != RAFTWIRE_VERSION)
		return bad("message: unknown version");
	if (rd(&p, end, &type) || type < 1 || type > RAFT_MSG_TYPE_MAX)
		return bad("message: bad type");
	if (rd(&p, end, &flags) || (flags & ~(uint64_t)F_ALL))
		return bad("message: bad field flags");
	m->type = (int)type;
	if (((flags & F_TO) && (rd(&p, end, &m->to) || m->to == 0)) ||
	    ((flags & F_FROM) && (rd(&p, end, &m->from) || m->from == 0)) ||
	    ((flags & F_TERM) && rd(&p, end, &m->term)) ||
	    ((flags & F_LOG_TERM) && rd(&p, end, &m->log_term)) ||
	    ((flags & F_INDEX) && rd(&p, end, &m->index)) ||
	    ((flags & F_COMMIT) && rd(&p, end, &m->commit)) ||
	    ((flags & F_REJECT_HINT) && rd(&p, end, &m->reject_hint)) ||
	    ((flags & F_REQUEST_SNAP) && rd(&p, end, &m->request_snapshot)))
		return bad("message: truncated field");
	m->reject = (flags & F_REJECT) != 0;
	if ((flags & F_ENTRIES) && decode_entries(&p, end, m))
		goto fail;
	if ((flags & F_SNAPSHOT) && decode_snapshot(&p, end, m))
		goto fail;
	if (flags & F_CONTEXT) {
		if (codec_read_lenbytes(&p, end, &ctx) || ctx.len == 0)
			goto fail;
		m->context = ctx.ptr;
		m->context_len = ctx.len;
	}
	if (p != end)
		goto fail;
	if ((m->snapshot != NULL) != (m->type == RAFT_MSG_SNAPSHOT))
		goto fail;
	return 0;
fail:
	raftwire_msg_free(m);
	return bad("message");
}

void
raftwire_msg_free(struct raft_msg *m)
{
	struct raft_snapshot *s = (struct raft_snapshot *)m->snapshot;

	free((void *)m->entries);
	if (s != NULL) {
		raftwire_conf_state_free(&s->meta.conf_state);
		free(s);
	}
	memset(m, 0, sizeof(*m));
}
