/* region: key ranges, epochs, peers, and both encodings round-trip. */
#include <string.h>

#include "proto.h"
#include "region.h"
#include "tap.h"

static void
make(struct region *r)
{
	region_init(r);
	r->id = 2;
	buf_add(&r->start, "b", 1);
	buf_add(&r->end, "m\0x", 3);
	r->epoch.conf_ver = 4;
	r->epoch.version = 7;
	region_add_peer(r, 3, 1, REGION_VOTER);
	region_add_peer(r, 7, 2, REGION_VOTER);
	region_add_peer(r, 9, 3, REGION_LEARNER);
}

static int
same(const struct region *a, const struct region *b)
{
	return a->id == b->id && bytes_eq(buf_bytes(&a->start),
	    buf_bytes(&b->start)) && bytes_eq(buf_bytes(&a->end),
	    buf_bytes(&b->end)) && region_epoch_eq(a->epoch, b->epoch) &&
	    a->npeers == b->npeers && memcmp(a->peers, b->peers,
	    a->npeers * sizeof(a->peers[0])) == 0;
}

int
main(void)
{
	struct region r, back, all;
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct proto_args a;
	struct region_epoch e1 = { 1, 5 }, e2 = { 2, 4 }, e3 = { 2, 5 };

	make(&r);
	region_init(&back);
	region_init(&all);
	ok(region_contains(&r, "b", 1), "start key is inside");
	ok(!region_contains(&r, "a\xff", 2), "keys before start are outside");
	ok(region_contains(&r, "m", 1), "a prefix of end is inside");
	ok(!region_contains(&r, "m\0x", 3), "end key is outside");
	ok(region_contains(&all, "", 0) && region_contains(&all, "\xff\xff",
	    2), "empty start and end cover every key");
	ok(region_epoch_stale(e1, e3) && region_epoch_stale(e2, e3) &&
	    !region_epoch_stale(e3, e3), "an epoch older in either counter "
	    "is stale");
	ok(region_add_peer(&r, 11, 2, REGION_VOTER) == -1,
	    "two peers on one store are refused");
	ok(region_peer_on_store(&r, 3)->id == 9, "peer found by store");

	region_format(&r, &b);
	is_str((const char *)b.data, "2 b \"m\\x00x\" 4 7 3:1:v,7:2:v,9:3:l",
	    "wire form");
	proto_args_init(&a);
	ok(proto_split(b.data, b.len, &a, &err) == 0 && a.argc == 6 &&
	    region_parse(a.argv, a.argc, &back) == 0 && same(&r, &back),
	    "wire form parses back");
	buf_reset(&b);
	buf_addstr(&b, "2 b a 1 1 3:1:v");
	proto_split(b.data, b.len, &a, &err);
	ok(region_parse(a.argv, a.argc, &back) == -1, "start >= end refused");
	buf_reset(&b);
	buf_addstr(&b, "2 a b 1 1 3:1:x");
	proto_split(b.data, b.len, &a, &err);
	ok(region_parse(a.argv, a.argc, &back) == -1, "bad role refused");
	buf_reset(&b);
	buf_addstr(&b, "2 a b 1 1 3:1");
	proto_split(b.data, b.len, &a, &err);
	ok(region_parse(a.argv, a.argc, &back) == -1, "short peer refused");

	buf_reset(&b);
	region_encode(&r, &b);
	region_free(&back);
	region_init(&back);
	ok(region_decode(b.data, b.len, &back) == 0 && same(&r, &back),
	    "binary form round-trips");
	ok(region_decode(b.data, b.len - 1, &back) == -1,
	    "truncated binary form refused");
	ok(region_remove_peer(&r, 7) == 0 && r.npeers == 2 &&
	    region_peer_by_id(&r, 7) == NULL, "peer removed");
	region_free(&r);
	region_free(&back);
	region_free(&all);
	proto_args_free(&a);
	buf_free(&b);
	buf_free(&err);
	return done_testing();
}
