/*
 * The simulator's network: messages in flight, in a binary heap ordered by
 * delivery step and then by sending order, so a run is reproducible.
 * Faults (drop, delay, duplicate, partitions) are decided by the driver.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sim.h"
#include "xmalloc.h"

void
sim_net_init(struct sim_net *n)
{
	memset(n, 0, sizeof(*n));
}

void
sim_net_free(struct sim_net *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		buf_free(&n->heap[i].wire);
	free(n->heap);
	memset(n, 0, sizeof(*n));
}

static int
sim_net_before(const struct sim_msg *a, const struct sim_msg *b)
{
	if (a->at != b->at)
		return a->at < b->at;
	return a->seq < b->seq;
}

static void
sim_net_swap(struct sim_msg *a, struct sim_msg *b)
{
	struct sim_msg t = *a;

	*a = *b;
	*b = t;
}

void
sim_net_push(struct sim_net *n, uint64_t at, uint64_t from, uint64_t to,
    int type, struct buf *wire)
{
	struct sim_msg *m;
	size_t i, p;

	if (n->n == n->cap) {
		n->cap = n->cap ? n->cap * 2 : 256;
		n->heap = xreallocarray(n->heap, n->cap, sizeof(*n->heap));
	}
	m = &n->heap[n->n];
	m->at = at;
	m->seq = n->seq++;
	m->from = from;
	m->to = to;
	m->type = type;
	m->wire = *wire;
	buf_init(wire);
	n->sent++;
	for (i = n->n++; i > 0; i = p) {
		p = (i - 1) / 2;
		if (!sim_net_before(&n->heap[i], &n->heap[p]))
			break;
		sim_net_swap(&n->heap[i], &n->heap[p]);
	}
}

int
sim_net_pop(struct sim_net *n, uint64_t now, struct sim_msg *m)
{
	size_t i, c;

	if (n->n == 0 || n->heap[0].at > now)
		return 0;
	*m = n->heap[0];
	n->heap[0] = n->heap[--n->n];
	for (i = 0;; i = c) {
		c = 2 * i + 1;
		if (c >= n->n)
			break;
		if (c + 1 < n->n && sim_net_before(&n->heap[c + 1],
		    &n->heap[c]))
			c++;
		if (!sim_net_before(&n->heap[c], &n->heap[i]))
			break;
		sim_net_swap(&n->heap[c], &n->heap[i]);
	}
	return 1;
}
