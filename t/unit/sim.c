/*
 * The simulation's shared helpers: failure reporting, the trace, the event
 * clock of the client history, and small lookups.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "lincheck.h"
#include "sim.h"
#include "xmalloc.h"

/* Keep the first failure; the run stops at the end of the step. */
void
sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = 1;
	buf_reset(&s->why);
	va_start(ap, fmt);
	buf_vprintf(&s->why, fmt, ap);
	va_end(ap);
	sim_trace(s, "FAIL: %s", s->why.data);
}

void
sim_trace(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	fprintf(stderr, "[%" PRIu64 "] ", s->step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Every call is a distinct, later instant. */
uint64_t
sim_time(struct sim *s)
{
	return ++s->now;
}

struct sim_node *
sim_node_byid(struct sim *s, uint64_t id)
{
	int i;

	if (id == 0)
		return NULL;
	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].id == id)
			return &s->nodes[i];
	return NULL;
}

int
sim_slot(const struct sim *s, const struct sim_node *n)
{
	return (int)(n - s->nodes);
}

/* FNV-1a, then a final mix so that chained hashes spread. */
uint64_t
sim_hash(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

struct sim_hist *
sim_hist_new(struct sim *s)
{
	struct sim_hist *h;

	if (s->nhist == s->histcap) {
		s->histcap = s->histcap ? s->histcap * 2 : 1024;
		s->hist = xreallocarray(s->hist, s->histcap, sizeof(*s->hist));
	}
	h = &s->hist[s->nhist++];
	memset(h, 0, sizeof(*h));
	h->ret = LINCHECK_PENDING;
	return h;
}
