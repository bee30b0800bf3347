/*
 * The client's routing cache (regioncache): lookups by key in both
 * directions, eviction of overlapped regions, refusal of stale ones,
 * leaders; then random inserts checked against a brute-force model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "region.h"
#include "regioncache.h"
#include "tap.h"

static void
mk(struct region *r, uint64_t id, const char *start, size_t slen,
    const char *end, size_t elen, uint64_t conf_ver, uint64_t version)
{
	region_init(r);
	r->id = id;
	buf_add(&r->start, start, slen);
	buf_add(&r->end, end, elen);
	r->epoch.conf_ver = conf_ver;
	r->epoch.version = version;
	region_add_peer(r, id * 10 + 1, 1, REGION_VOTER);
	region_add_peer(r, id * 10 + 2, 2, REGION_VOTER);
	region_add_peer(r, id * 10 + 3, 3, REGION_VOTER);
}

/* Inserts [start, end) (C strings) with id and version. */
static int
ins(struct regioncache *rc, uint64_t id, const char *start, const char *end,
    uint64_t version)
{
	struct region r;
	int x;

	mk(&r, id, start, strlen(start), end, strlen(end), 1, version);
	x = regioncache_insert(rc, &r, id * 10 + 1);
	region_free(&r);
	return x;
}

/* The id of the region holding key (0: none). */
static uint64_t
at(struct regioncache *rc, const char *key, size_t len)
{
	struct region r;
	uint64_t id = 0, leader;

	region_init(&r);
	if (regioncache_lookup(rc, key, len, &r, &leader))
		id = r.id;
	region_free(&r);
	return id;
}

static uint64_t
below(struct regioncache *rc, const char *key, size_t len)
{
	struct region r;
	uint64_t id = 0, leader;

	region_init(&r);
	if (regioncache_lookup_prev(rc, key, len, &r, &leader))
		id = r.id;
	region_free(&r);
	return id;
}

static void
test_lookups(void)
{
	struct regioncache *rc = regioncache_new();
	struct region r;
	uint64_t leader = 0;

	ok(at(rc, "a", 1) == 0 && below(rc, "", 0) == 0,
	    "an empty cache knows no region");
	ok(ins(rc, 1, "", "b", 2) && ins(rc, 2, "b", "m", 2) &&
	    ins(rc, 3, "m", "", 2), "three regions cover the key space");
	is_int(regioncache_count(rc), 3, "three cached");
	ok(at(rc, "", 0) == 1 && at(rc, "a", 1) == 1 && at(rc, "\xff", 1) == 3,
	    "the empty key and 0xff find the first and last region");
	ok(at(rc, "b", 1) == 2 && at(rc, "b\0", 2) == 2 &&
	    at(rc, "l\xff", 2) == 2,
	    "a start key is inside, a key with NUL too");
	ok(at(rc, "m", 1) == 3 && at(rc, "zzzz", 4) == 3,
	    "an end key belongs to the next region");
	ok(below(rc, "", 0) == 3, "below the end of the key space: the last");
	ok(below(rc, "b", 1) == 1 && below(rc, "\0", 1) == 1,
	    "below a start key: the region before it");
	ok(below(rc, "b\0", 2) == 2 && below(rc, "m", 1) == 2,
	    "below a key inside or at the end: that region");
	ok(below(rc, "m\0", 2) == 3, "below a key just past a start");

	region_init(&r);
	ok(regioncache_get(rc, 2, &r, &leader) && leader == 21 &&
	    r.epoch.version == 2 && r.start.len == 1 && r.start.data[0] ==
	    'b' && r.npeers == 3, "get by id copies the region and its leader");
	ok(regioncache_set_leader(rc, 2, 23) && regioncache_get(rc, 2, NULL,
	    &leader) && leader == 23, "set_leader changes the leader");
	ok(!regioncache_set_leader(rc, 9, 1),
	    "set_leader of an unknown region");
	ok(regioncache_remove(rc, 2) && !regioncache_remove(rc, 2) &&
	    at(rc, "c", 1) == 0 && below(rc, "m", 1) == 0 &&
	    below(rc, "b", 1) == 1, "remove leaves a hole");
	regioncache_clear(rc);
	is_int(regioncache_count(rc), 0, "clear empties the cache");
	region_free(&r);
	regioncache_free(rc);
}

static void
test_gaps(void)
{
	struct regioncache *rc = regioncache_new();

	ins(rc, 2, "b", "m", 1);
	ok(at(rc, "a", 1) == 0 && at(rc, "m", 1) == 0 && at(rc, "c", 1) == 2,
	    "keys outside the only region miss");
	ok(below(rc, "b", 1) == 0 && below(rc, "m", 1) == 2 &&
	    below(rc, "n", 1) == 0 && below(rc, "", 0) == 0,
	    "below: only keys in (start, end] hit");
	regioncache_free(rc);
}

static void
test_overlap(void)
{
	struct regioncache *rc = regioncache_new();

	ins(rc, 1, "", "b", 2);
	ins(rc, 2, "b", "m", 2);
	ins(rc, 3, "m", "", 2);
	ok(ins(rc, 4, "a", "n", 3), "a newer region over three is taken");
	is_int(regioncache_count(rc), 1, "and evicts all three");
	ok(at(rc, "a", 1) == 4 && at(rc, "", 0) == 0 && at(rc, "n", 1) == 0,
	    "only its range is known");
	ok(!ins(rc, 5, "c", "d", 2), "an older region inside it is refused");
	ok(!ins(rc, 1, "", "b", 2),
	    "an older neighbour overlapping is refused");
	ok(ins(rc, 1, "", "a", 2), "an older one that only touches is taken");
	ok(at(rc, "", 0) == 1 && at(rc, "a", 1) == 4, "both are known");
	ok(ins(rc, 6, "c", "d", 3), "the same version overlapping is taken");
	ok(at(rc, "a", 1) == 0 && at(rc, "c", 1) == 6 && at(rc, "", 0) == 1,
	    "and evicts the one it overlaps");
	regioncache_free(rc);
}

static void
test_split_and_epochs(void)
{
	struct regioncache *rc = regioncache_new();
	struct region r;

	ins(rc, 1, "", "", 1);
	ok(ins(rc, 1, "", "m", 2), "the left half of a split, same id");
	ok(at(rc, "a", 1) == 1 && at(rc, "m", 1) == 0 && below(rc, "", 0) == 0,
	    "replaces the whole region");
	ok(!ins(rc, 1, "", "", 1), "the old whole region is refused");
	ok(ins(rc, 7, "m", "", 2), "the right half");
	ok(at(rc, "m", 1) == 7 && below(rc, "m", 1) == 1 &&
	    below(rc, "", 0) == 7, "both halves route");

	mk(&r, 7, "m", 1, "", 0, 1, 2);
	r.epoch.conf_ver = 0;
	ok(!regioncache_insert(rc, &r, 0), "a copy with an older conf_ver "
	    "is refused");
	r.epoch.conf_ver = 5;
	ok(regioncache_insert(rc, &r, 73), "a newer conf_ver replaces it");
	region_free(&r);

	mk(&r, 7, "x", 1, "", 0, 5, 3);
	ok(regioncache_insert(rc, &r, 0), "a region that moved (merge) is "
	    "taken");
	region_free(&r);
	ok(at(rc, "m", 1) == 0 && at(rc, "x", 1) == 7 &&
	    regioncache_count(rc) == 2, "its old copy is gone");
	regioncache_free(rc);
}

/*
 * Random inserts of regions over a small alphabet of boundaries, checked
 * against a list with the documented semantics, searched linearly.
 */
struct model {
	struct region r[64];
	uint64_t leader[64];
	size_t n;
};

static int
overlaps(const struct region *a, const struct region *b)
{
	int a_before_b = a->end.len && bytes_cmp(buf_bytes(&a->end),
	    buf_bytes(&b->start)) <= 0;
	int b_before_a = b->end.len && bytes_cmp(buf_bytes(&b->end),
	    buf_bytes(&a->start)) <= 0;

	return !a_before_b && !b_before_a;
}

static int
model_insert(struct model *m, const struct region *r, uint64_t leader)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (overlaps(&m->r[i], r) &&
		    m->r[i].epoch.version > r->epoch.version)
			return 0;
		if (m->r[i].id == r->id &&
		    region_epoch_stale(r->epoch, m->r[i].epoch))
			return 0;
	}
	for (i = 0; i < m->n;) {
		if (overlaps(&m->r[i], r) || m->r[i].id == r->id) {
			region_free(&m->r[i]);
			m->r[i] = m->r[--m->n];
			m->leader[i] = m->leader[m->n];
		} else {
			i++;
		}
	}
	region_init(&m->r[m->n]);
	region_copy(&m->r[m->n], r);
	m->leader[m->n] = leader;
	m->n++;
	return 1;
}

static uint64_t
model_at(const struct model *m, struct bytes k)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (region_contains(&m->r[i], k.ptr, k.len))
			return m->r[i].id;
	return 0;
}

static uint64_t
model_below(const struct model *m, struct bytes k)
{
	const struct region *r;
	size_t i;

	for (i = 0; i < m->n; i++) {
		r = &m->r[i];
		if (k.len == 0 ? r->end.len == 0 :
		    bytes_cmp(buf_bytes(&r->start), k) < 0 &&
		    (r->end.len == 0 || bytes_cmp(k, buf_bytes(&r->end)) <= 0))
			return r->id;
	}
	return 0;
}

static void
test_random(void)
{
	/* Boundaries, sorted; "" is both the first start and "no end". */
	static const struct {
		const char *s;
		size_t len;
	} keys[] = {
		{ "", 0 }, { "\0", 1 }, { "a", 1 }, { "a\0", 2 }, { "a b", 3 },
		{ "b", 1 }, { "b\n", 2 }, { "c", 1 }, { "m", 1 },
		{ "m\xff", 2 }, { "z", 1 }, { "\xff", 1 }, { "\xff\xff", 2 },
	};
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	struct regioncache *rc = regioncache_new();
	struct model m;
	struct region r, got;
	struct bytes k;
	uint64_t id, leader;
	size_t i, j, a, b, round, bad = 0, refused = 0;
	int x, y;

	memset(&m, 0, sizeof(m));
	region_init(&got);
	for (round = 0; round < 4000 && bad == 0; round++) {
		a = tap_rand_below(nkeys);
		b = tap_rand_below(nkeys);
		if (a > b) {
			i = a;
			a = b;
			b = i;
		}
		if (a == b && b != 0)
			b = 0;		/* [x, end of key space) */
		id = 1 + tap_rand_below(12);
		mk(&r, id, keys[a].s, keys[a].len, keys[b].s, keys[b].len,
		    1 + tap_rand_below(3), 1 + tap_rand_below(6));
		x = regioncache_insert(rc, &r, round);
		y = model_insert(&m, &r, round);
		region_free(&r);
		if (x != y) {
			diag("round %zu: insert gave %d, model %d", round,
			    x, y);
			bad++;
		}
		refused += !x;
		if (regioncache_count(rc) != m.n) {
			diag("round %zu: %zu cached, model %zu", round,
			    regioncache_count(rc), m.n);
			bad++;
		}
		for (j = 0; j < nkeys * 2; j++) {
			k.ptr = (const uint8_t *)keys[j / 2].s;
			k.len = keys[j / 2].len;
			if (j % 2 && k.len > 0)
				k.len--;	/* a prefix: between bounds */
			id = regioncache_lookup(rc, k.ptr, k.len, &got,
			    &leader) ? got.id : 0;
			if (id != model_at(&m, k)) {
				diag("round %zu: key %zu: region %llu, model "
				    "%llu", round, j, (unsigned long long)id,
				    (unsigned long long)model_at(&m, k));
				bad++;
			}
			id = regioncache_lookup_prev(rc, k.ptr, k.len, &got,
			    &leader) ? got.id : 0;
			if (id != model_below(&m, k)) {
				diag("round %zu: below key %zu: region %llu, "
				    "model %llu", round, j,
				    (unsigned long long)id,
				    (unsigned long long)model_below(&m, k));
				bad++;
			}
		}
	}
	ok(bad == 0, "4000 random inserts agree with the model (seed %llu)",
	    (unsigned long long)tap_seed());
	ok(refused > 0 && refused < round, "some inserts were refused as "
	    "stale (%zu), not all", refused);
	for (i = 0; i < m.n; i++)
		region_free(&m.r[i]);
	region_free(&got);
	regioncache_free(rc);
}

int
main(void)
{
	test_lookups();
	test_gaps();
	test_overlap();
	test_split_and_epochs();
	test_random();
	return done_testing();
}
