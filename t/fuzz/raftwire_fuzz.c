/*
 * libFuzzer target for the Raft wire decoders: no input may make them
 * read out of bounds, and whatever decodes must re-encode to bytes that
 * decode to the same message (and re-encode to the same bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "raftwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_entries(const struct raft_msg *a, const struct raft_msg *b)
{
	size_t i;

	if (a->n_entries != b->n_entries)
		return 0;
	for (i = 0; i < a->n_entries; i++) {
		const struct raft_entry *x = &a->entries[i];
		const struct raft_entry *y = &b->entries[i];

		if (x->term != y->term || x->index != y->index ||
		    x->type != y->type || x->len != y->len ||
		    (x->len && memcmp(x->data, y->data, x->len) != 0))
			return 0;
	}
	return 1;
}

static void
check_msg(const uint8_t *data, size_t size)
{
	struct raft_msg m, m2;
	struct buf b = BUF_INIT, b2 = BUF_INIT;

	if (raftwire_decode_msg(data, size, &m) != 0)
		return;
	raftwire_encode_msg(&b, &m);
	if (raftwire_decode_msg(b.data, b.len, &m2) != 0)
		abort();
	if (m.type != m2.type || m.to != m2.to || m.from != m2.from ||
	    m.term != m2.term || m.log_term != m2.log_term ||
	    m.index != m2.index || m.commit != m2.commit ||
	    m.reject != m2.reject || m.reject_hint != m2.reject_hint ||
	    m.request_snapshot != m2.request_snapshot ||
	    m.context_len != m2.context_len || !same_entries(&m, &m2) ||
	    (m.snapshot == NULL) != (m2.snapshot == NULL))
		abort();
	if (m.snapshot != NULL && (m.snapshot->meta.index !=
	    m2.snapshot->meta.index || m.snapshot->len != m2.snapshot->len))
		abort();
	raftwire_encode_msg(&b2, &m2);
	if (b.len != b2.len || memcmp(b.data, b2.data, b.len) != 0)
		abort();
	raftwire_msg_free(&m);
	raftwire_msg_free(&m2);
	buf_free(&b);
	buf_free(&b2);
}

static void
check_others(const uint8_t *data, size_t size)
{
	const uint8_t *p, *end = data + size;
	struct raft_conf_change cc;
	struct raft_conf_state cs;
	struct raft_hard_state hs;
	struct raft_entry e;
	struct buf b = BUF_INIT;

	if (raftwire_decode_conf_change(data, size, &cc) == 0) {
		raftwire_encode_conf_change(&b, &cc);
		raftwire_conf_change_free(&cc);
		if (raftwire_decode_conf_change(b.data, b.len, &cc) != 0)
			abort();
		raftwire_conf_change_free(&cc);
	}
	p = data;
	if (raftwire_decode_conf_state(&p, end, &cs) == 0) {
		if (p < data || p > end)
			abort();
		raftwire_conf_state_free(&cs);
	}
	p = data;
	while (p < end && raftwire_decode_entry(&p, end, &e) == 0)
		if (e.len && (e.data < data || e.data + e.len > end))
			abort();
	p = data;
	if (raftwire_decode_hard_state(&p, end, &hs) == 0 && p > end)
		abort();
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_msg(data, size);
	check_others(data, size);
	return 0;
}
