#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "region.h"
#include "regioncache.h"
#include "xmalloc.h"

struct rc_entry {
	struct region region;
	uint64_t leader;
};

struct regioncache {
	struct rc_entry **v;		/* sorted by start key, disjoint */
	size_t n;
	size_t cap;
};

struct regioncache *
regioncache_new(void)
{
	return xcalloc(1, sizeof(struct regioncache));
}

static void
entry_free(struct rc_entry *e)
{
	region_free(&e->region);
	free(e);
}

void
regioncache_clear(struct regioncache *rc)
{
	size_t i;

	for (i = 0; i < rc->n; i++)
		entry_free(rc->v[i]);
	rc->n = 0;
}

void
regioncache_free(struct regioncache *rc)
{
	if (rc == NULL)
		return;
	regioncache_clear(rc);
	free(rc->v);
	free(rc);
}

size_t
regioncache_count(const struct regioncache *rc)
{
	return rc->n;
}

/* The number of entries whose start is <= key (strict: < key). */
static size_t
count_below(const struct regioncache *rc, struct bytes key, int strict)
{
	size_t lo = 0, hi = rc->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = bytes_cmp(buf_bytes(&rc->v[mid]->region.start), key);
		if (c < 0 || (c == 0 && !strict))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether a region end (empty: the end of the key space) is > key. */
static int
end_above(const struct region *r, struct bytes key)
{
	return r->end.len == 0 || bytes_cmp(buf_bytes(&r->end), key) > 0;
}

static void
remove_at(struct regioncache *rc, size_t i)
{
	entry_free(rc->v[i]);
	memmove(&rc->v[i], &rc->v[i + 1], (rc->n - i - 1) * sizeof(rc->v[0]));
	rc->n--;
}

static ssize_t
find_id(const struct regioncache *rc, uint64_t id)
{
	size_t i;

	for (i = 0; i < rc->n; i++)
		if (rc->v[i]->region.id == id)
			return (ssize_t)i;
	return -1;
}

int
regioncache_insert(struct regioncache *rc, const struct region *r,
    uint64_t leader)
{
	struct bytes start = buf_bytes(&r->start), end = buf_bytes(&r->end);
	struct rc_entry *e;
	size_t first, last, i;
	ssize_t same;

	/* The run of entries that overlap [start, end). */
	first = count_below(rc, start, 0);
	if (first > 0 && end_above(&rc->v[first - 1]->region, start))
		first--;
	for (last = first; last < rc->n; last++)
		if (end.len && bytes_cmp(buf_bytes(&rc->v[last]->region.start),
		    end) >= 0)
			break;
	for (i = first; i < last; i++)
		if (rc->v[i]->region.epoch.version > r->epoch.version)
			return 0;
	if ((same = find_id(rc, r->id)) != -1 &&
	    region_epoch_stale(r->epoch, rc->v[same]->region.epoch))
		return 0;

	while (last > first)
		remove_at(rc, --last);
	if ((same = find_id(rc, r->id)) != -1) {
		remove_at(rc, (size_t)same);
		if ((size_t)same < first)
			first--;
	}

	e = xcalloc(1, sizeof(*e));
	region_init(&e->region);
	region_copy(&e->region, r);
	e->leader = leader;
	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? rc->cap * 2 : 16;
		rc->v = xreallocarray(rc->v, rc->cap, sizeof(rc->v[0]));
	}
	memmove(&rc->v[first + 1], &rc->v[first],
	    (rc->n - first) * sizeof(rc->v[0]));
	rc->v[first] = e;
	rc->n++;
	return 1;
}

static int
copy_out(const struct rc_entry *e, struct region *out, uint64_t *leader)
{
	if (out != NULL)
		region_copy(out, &e->region);
	if (leader != NULL)
		*leader = e->leader;
	return 1;
}

int
regioncache_lookup(const struct regioncache *rc, const void *key,
    size_t len, struct region *out, uint64_t *leader)
{
	struct bytes k = { key, len };
	size_t i = count_below(rc, k, 0);

	if (i == 0 || !end_above(&rc->v[i - 1]->region, k))
		return 0;
	return copy_out(rc->v[i - 1], out, leader);
}

int
regioncache_lookup_prev(const struct regioncache *rc, const void *end,
    size_t len, struct region *out, uint64_t *leader)
{
	struct bytes k = { end, len };
	const struct region *r;
	size_t i;

	if (len == 0) {
		if (rc->n == 0 || rc->v[rc->n - 1]->region.end.len != 0)
			return 0;
		return copy_out(rc->v[rc->n - 1], out, leader);
	}
	if ((i = count_below(rc, k, 1)) == 0)
		return 0;
	r = &rc->v[i - 1]->region;
	if (r->end.len != 0 && bytes_cmp(buf_bytes(&r->end), k) < 0)
		return 0;
	return copy_out(rc->v[i - 1], out, leader);
}

int
regioncache_get(const struct regioncache *rc, uint64_t id,
    struct region *out, uint64_t *leader)
{
	ssize_t i = find_id(rc, id);

	if (i == -1)
		return 0;
	return copy_out(rc->v[i], out, leader);
}

int
regioncache_remove(struct regioncache *rc, uint64_t id)
{
	ssize_t i = find_id(rc, id);

	if (i == -1)
		return 0;
	remove_at(rc, (size_t)i);
	return 1;
}

int
regioncache_set_leader(struct regioncache *rc, uint64_t id, uint64_t leader)
{
	ssize_t i = find_id(rc, id);

	if (i == -1)
		return 0;
	rc->v[i]->leader = leader;
	return 1;
}
