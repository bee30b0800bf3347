/*
 * Bucket layout: values below 2^SUB_BITS have a bucket each.  Above, a
 * value v with its highest bit at k >= SUB_BITS falls in one of
 * 2^(SUB_BITS-1) equal buckets of the octave [2^k, 2^(k+1)): the top
 * SUB_BITS bits of v pick it, so a bucket is at most 1/2^(SUB_BITS-1) of
 * the values it holds wide.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "xmalloc.h"

#define SUB_BITS	8
#define SUB_COUNT	(1u << SUB_BITS)		/* exact buckets */
#define HALF_COUNT	(1u << (SUB_BITS - 1))		/* buckets per octave */
#define TOP_BIT		32				/* above HIST_MAX */
#define NBUCKETS	(SUB_COUNT + (TOP_BIT - SUB_BITS) * HALF_COUNT)

struct hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double sum;
	uint64_t b[NBUCKETS];
};

static unsigned
bucket_of(uint64_t v)
{
	unsigned k, shift;

	if (v < SUB_COUNT)
		return (unsigned)v;
	k = 63 - (unsigned)__builtin_clzll(v);
	shift = k - (SUB_BITS - 1);
	return SUB_COUNT + (k - SUB_BITS) * HALF_COUNT +
	    (unsigned)((v >> shift) - HALF_COUNT);
}

/* The highest value that falls in bucket i. */
static uint64_t
bucket_high(unsigned i)
{
	unsigned j, k, shift;
	uint64_t m;

	if (i < SUB_COUNT)
		return i;
	j = i - SUB_COUNT;
	k = SUB_BITS + j / HALF_COUNT;
	m = HALF_COUNT + j % HALF_COUNT;
	shift = k - (SUB_BITS - 1);
	return ((m + 1) << shift) - 1;
}

struct hist *
hist_new(void)
{
	struct hist *h = xmalloc(sizeof(*h));

	hist_reset(h);
	return h;
}

void
hist_free(struct hist *h)
{
	free(h);
}

void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
hist_record(struct hist *h, uint64_t v)
{
	if (v > HIST_MAX)
		v = HIST_MAX;
	h->b[bucket_of(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;

	if (src->count == 0)
		return;
	for (i = 0; i < NBUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
hist_count(const struct hist *h)
{
	return h->count;
}

uint64_t
hist_min(const struct hist *h)
{
	return h->count ? h->min : 0;
}

uint64_t
hist_max(const struct hist *h)
{
	return h->max;
}

double
hist_mean(const struct hist *h)
{
	return h->count ? h->sum / (double)h->count : 0;
}

uint64_t
hist_percentile(const struct hist *h, double pct)
{
	uint64_t rank, seen = 0, v;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (pct <= 0)
		return h->min;
	if (pct >= 100)
		return h->max;
	/* The rank of the value wanted, 1-based, rounded up. */
	rank = (uint64_t)(pct / 100 * (double)h->count);
	if ((double)rank < pct / 100 * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < NBUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			v = bucket_high(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}
