#include <stdlib.h>
#include <string.h>

#include "raftents.h"
#include "xmalloc.h"

void
raftents_add(struct raftents *v, const struct raft_entry *e)
{
	const uint8_t *old = v->data.data;
	size_t off, i;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 4;
		v->v = xreallocarray(v->v, v->cap, sizeof(v->v[0]));
	}
	off = v->data.len;
	if (e->len > 0)
		buf_add(&v->data, e->data, e->len);
	if (v->data.data != old && old != NULL) {
		/* The buffer moved: rebase the data pointers. */
		for (i = 0; i < v->n; i++)
			if (v->v[i].len > 0)
				v->v[i].data = v->data.data +
				    (v->v[i].data - old);
	}
	v->v[v->n] = *e;
	v->v[v->n].data = e->len > 0 ? v->data.data + off : NULL;
	v->bytes += e->len;
	v->n++;
}

void
raftents_add_cb(void *ents, const struct raft_entry *e)
{
	raftents_add(ents, e);
}

void
raftents_truncate(struct raftents *v, size_t n)
{
	size_t i;

	if (n >= v->n)
		return;
	for (i = n; i < v->n; i++)
		v->bytes -= v->v[i].len;
	/* Data was appended in order: cut the buffer at entry n's data. */
	for (i = n; i < v->n; i++) {
		if (v->v[i].len > 0) {
			buf_truncate(&v->data,
			    (size_t)(v->v[i].data - v->data.data));
			break;
		}
	}
	v->n = n;
}

void
raftents_drop_front(struct raftents *v, size_t n)
{
	struct raftents nv = { 0 };
	size_t i;

	if (n >= v->n) {
		raftents_clear(v);
		return;
	}
	for (i = n; i < v->n; i++)
		raftents_add(&nv, &v->v[i]);
	raftents_free(v);
	*v = nv;
}

void
raftents_clear(struct raftents *v)
{
	v->n = 0;
	v->bytes = 0;
	buf_reset(&v->data);
}

void
raftents_free(struct raftents *v)
{
	free(v->v);
	buf_free(&v->data);
	memset(v, 0, sizeof(*v));
}

size_t
raftents_memsize(const struct raftents *v)
{
	return v->cap * sizeof(v->v[0]) + v->data.cap;
}

uint64_t
raftents_size(const struct raft_entry *e)
{
	return e->len;
}
