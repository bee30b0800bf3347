/*
 * tikvd's command table (cmd/tikvd/service.c) over a real nng server,
 * with the raftstore, PD worker and transport replaced by stubs that
 * answer each command's slot with a description of what they were given.
 * It checks what every command turns into (the struct cmd, the region
 * context, the flags), the checks done before anything is proposed, the
 * store commands' replies, and that replies keep command order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmdfmt.h"
#include "log.h"
#include "net.h"
#include "pdworker.h"
#include "proto.h"
#include "raft.h"
#include "raftstore.h"
#include "region.h"
#include "request.h"
#include "schema.h"
#include "service.h"
#include "tap.h"
#include "tikvd.h"
#include "transport.h"
#include "version.h"

#define NOW_MS	1763700000000ull

static int nproposed;

uint64_t
tikvd_now_ms(void)
{
	return NOW_MS;
}

static void
describe_op(struct buf *b, const struct cmd_op *op)
{
	size_t i;

	buf_addstr(b, " |");
	proto_add_u64(b, (uint64_t)op->type);
	proto_add_u64(b, (uint64_t)op->flags);
	proto_add_token(b, op->key.data, op->key.len);
	proto_add_token(b, op->end.data, op->end.len);
	proto_add_token(b, op->value.data, op->value.len);
	proto_add_token(b, op->expect.data, op->expect.len);
	proto_add_u64(b, op->ttl);
	proto_add_u64(b, op->limit);
	for (i = 0; i < op->nkeys; i++)
		proto_add_token(b, op->keys[i].data, op->keys[i].len);
}

/* "OK what kind region_id conf_ver version | op... " */
static void
describe(const char *what, struct cmd *c, struct slot *slot)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_addstr(&b, "OK");
	proto_add_str(&b, what);
	proto_add_u64(&b, (uint64_t)c->kind);
	proto_add_u64(&b, c->region_id);
	proto_add_u64(&b, c->epoch.conf_ver);
	proto_add_u64(&b, c->epoch.version);
	for (i = 0; i < c->nops; i++)
		describe_op(&b, &c->ops[i]);
	proto_end_line(&b);
	if (c->now_ms != NOW_MS)
		buf_addstr(&b, "(bad now_ms)\n");
	slot_done(slot, &b);
	buf_free(&b);
	cmd_free(c);
	free(c);
}

void
raftstore_propose(struct raftstore *rs, struct cmd *c, struct slot *slot)
{
	nproposed++;
	describe("propose", c, slot);
}

void
raftstore_read(struct raftstore *rs, struct cmd *c, struct slot *slot)
{
	describe("read", c, slot);
}

void
raftstore_transfer_leader(struct raftstore *rs, uint64_t region_id,
    uint64_t peer_id, struct slot *slot)
{
	slot_error(slot, PROTO_OK, "transfer %llu %llu",
	    (unsigned long long)region_id, (unsigned long long)peer_id);
}

static void
fake_region(struct region_info *ri, uint64_t id, const char *start,
    const char *end, int role)
{
	memset(ri, 0, sizeof(*ri));
	region_init(&ri->region);
	ri->region.id = id;
	buf_addstr(&ri->region.start, start);
	buf_addstr(&ri->region.end, end);
	ri->region.epoch.conf_ver = 1;
	ri->region.epoch.version = id;
	region_add_peer(&ri->region, id * 10, 1, REGION_VOTER);
	ri->initialized = 1;
	ri->role = role;
	ri->peer_id = id * 10;
	ri->leader_peer_id = role == RAFT_LEADER ? id * 10 : 0;
	ri->term = 6;
	ri->commit = 100 + id;
	ri->applied = 99 + id;
}

int
raftstore_regions(struct raftstore *rs, struct region_info **out,
    size_t *n)
{
	struct region_info *ri = calloc(2, sizeof(*ri));

	/* Out of id order: REGIONS sorts. */
	fake_region(&ri[0], 8, "m", "", RAFT_FOLLOWER);
	fake_region(&ri[1], 2, "", "m", RAFT_LEADER);
	*out = ri;
	*n = 2;
	return 0;
}

int
raftstore_region_by_id(struct raftstore *rs, uint64_t id,
    struct region_info *ri)
{
	if (id != 2)
		return -1;
	fake_region(ri, 2, "", "m", RAFT_LEADER);
	return 0;
}

void
raftstore_info_free(struct region_info *ri, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		region_free(&ri[i].region);
}

void
pdworker_split(struct pdworker *pw, uint64_t region_id, const void *key,
    size_t len, struct slot *slot)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "OK split");
	proto_add_u64(&b, region_id);
	proto_add_token(&b, key, len);
	proto_end_line(&b);
	slot_done(slot, &b);
	buf_free(&b);
}

int
transport_receive(struct transport *tr, const uint8_t *p, size_t len)
{
	if (len == 3 && memcmp(p, "bad", 3) == 0) {
		log_setreason("malformed envelope");
		return -1;
	}
	return 0;
}

int
transport_receive_chunk(struct transport *tr, uint64_t id, uint64_t seq,
    uint64_t total, const uint8_t *p, size_t len)
{
	if (len == 3 && memcmp(p, "bad", 3) == 0) {
		log_setreason("chunk %llu out of order",
		    (unsigned long long)seq);
		return -1;
	}
	return 0;
}

static struct net_client *cl;

static const char *
call(const char *msg, size_t len)
{
	static struct buf reply;

	buf_reset(&reply);
	if (net_client_call(cl, msg, len, &reply, 10000) == -1) {
		diag("call: %s", log_reason());
		buf_reset(&reply);
	}
	buf_addc(&reply, 0);
	reply.len--;
	return (const char *)reply.data;
}

static const char *
req(const char *msg)
{
	return call(msg, strlen(msg));
}

static void
test_raw(void)
{
	is_str(req("RAW_GET 2:1:5 k"), "OK read 2 2 1 5 | 5 0 k \"\" \"\" \"\" 0 0\n",
	    "RAW_GET with a region context");
	is_str(req("RAW_GET - \"a b\""),
	    "OK read 2 0 0 0 | 5 0 \"a b\" \"\" \"\" \"\" 0 0\n",
	    "RAW_GET with - routes by key (region 0)");
	is_str(req("raw_get - k"), "OK read 2 0 0 0 | 5 0 k \"\" \"\" \"\" 0 0\n",
	    "command words ignore case");
	is_str(req("RAW_BATCH_GET - b a \\0"),
	    "OK read 2 0 0 0 | 6 0 \"\" \"\" \"\" \"\" 0 0 b a \"\\x00\"\n",
	    "RAW_BATCH_GET keeps its keys in order");
	is_str(req("RAW_PUT 2:1:5 k v"),
	    "OK propose 1 2 1 5 | 1 0 k \"\" v \"\" 0 0\n", "RAW_PUT");
	is_str(req("RAW_PUT - k \"\" 30"),
	    "OK propose 1 0 0 0 | 1 0 k \"\" \"\" \"\" 30 0\n",
	    "RAW_PUT of an empty value with a TTL");
	is_str(req("RAW_BATCH_PUT - 5 a 1 b 2"),
	    "OK propose 1 0 0 0 | 1 0 a \"\" 1 \"\" 5 0 | 1 0 b \"\" 2 \"\" 5 0\n",
	    "RAW_BATCH_PUT: one cmd, one TTL for every pair");
	is_str(req("RAW_DELETE - k"),
	    "OK propose 1 0 0 0 | 2 0 k \"\" \"\" \"\" 0 0\n", "RAW_DELETE");
	is_str(req("RAW_BATCH_DELETE - a b"),
	    "OK propose 1 0 0 0 | 2 0 a \"\" \"\" \"\" 0 0 | 2 0 b \"\" \"\" \"\" 0 0\n",
	    "RAW_BATCH_DELETE");
	is_str(req("RAW_DELETE_RANGE 3:2:1 a \"\""),
	    "OK propose 1 3 2 1 | 3 0 a \"\" \"\" \"\" 0 0\n",
	    "RAW_DELETE_RANGE to the region's end");
	is_str(req("RAW_SCAN - a z 10"),
	    "OK read 2 0 0 0 | 7 0 a z \"\" \"\" 0 10\n", "RAW_SCAN");
	is_str(req("RAW_SCAN - a z 10 KEY_ONLY"),
	    "OK read 2 0 0 0 | 7 4 a z \"\" \"\" 0 10\n", "RAW_SCAN KEY_ONLY");
	is_str(req("RAW_SCAN - a z 10 reverse KEY_ONLY"),
	    "OK read 2 0 0 0 | 7 12 a z \"\" \"\" 0 10\n",
	    "RAW_SCAN REVERSE KEY_ONLY, either order, any case");
	is_str(req("RAW_CHECKSUM - \"\" \"\""),
	    "OK read 2 0 0 0 | 9 0 \"\" \"\" \"\" \"\" 0 0\n", "RAW_CHECKSUM");
	is_str(req("RAW_GET_TTL - k"),
	    "OK read 2 0 0 0 | 8 0 k \"\" \"\" \"\" 0 0\n", "RAW_GET_TTL");

	is_str(req("RAW_CAS - k ABSENT PUT v"),
	    "OK propose 1 0 0 0 | 4 1 k \"\" v \"\" 0 0\n", "RAW_CAS ABSENT PUT");
	is_str(req("RAW_CAS - k ABSENT PUT v 9"),
	    "OK propose 1 0 0 0 | 4 1 k \"\" v \"\" 9 0\n",
	    "RAW_CAS ABSENT PUT with a TTL");
	is_str(req("RAW_CAS - k ABSENT DELETE"),
	    "OK propose 1 0 0 0 | 4 3 k \"\" \"\" \"\" 0 0\n",
	    "RAW_CAS ABSENT DELETE");
	is_str(req("RAW_CAS - k EQ old PUT new"),
	    "OK propose 1 0 0 0 | 4 0 k \"\" new old 0 0\n", "RAW_CAS EQ PUT");
	is_str(req("RAW_CAS - k eq \"\" put new 7"),
	    "OK propose 1 0 0 0 | 4 0 k \"\" new \"\" 7 0\n",
	    "RAW_CAS EQ of the empty value, keywords in any case");
	is_str(req("RAW_CAS - k EQ old DELETE"),
	    "OK propose 1 0 0 0 | 4 2 k \"\" \"\" old 0 0\n",
	    "RAW_CAS EQ DELETE");
}

static void
test_raw_errors(void)
{
	char *big;
	size_t n;

	is_str(req("RAW_GET 2:1 k"), "CLIENT_ERROR bad region context "
	    "'2:1', expected REGION_ID:CONF_VER:VERSION or -\n",
	    "a context of two numbers is refused");
	is_str(req("RAW_GET 0:1:1 k"), "CLIENT_ERROR bad region context "
	    "'0:1:1', expected REGION_ID:CONF_VER:VERSION or -\n",
	    "region 0 is refused");
	ok(strncmp(req("RAW_GET 1:2:3:4 k"), "CLIENT_ERROR bad region", 23)
	    == 0, "four numbers are refused");
	ok(strncmp(req("RAW_GET 1:2:x k"), "CLIENT_ERROR bad region", 23)
	    == 0, "a non-number is refused");
	ok(strncmp(req("RAW_GET 1:2: k"), "CLIENT_ERROR bad region", 23)
	    == 0, "an empty field is refused");
	ok(strncmp(req("RAW_GET \"\" k"), "CLIENT_ERROR bad region", 23)
	    == 0, "an empty context is refused");
	is_str(req("RAW_GET 18446744073709551615:0:18446744073709551615 k"),
	    "OK read 2 18446744073709551615 0 18446744073709551615 | 5 0 k "
	    "\"\" \"\" \"\" 0 0\n", "64-bit context fields are fine");

	is_str(req("RAW_GET - 123456789"), "CLIENT_ERROR argument 2 of "
	    "'RAW_GET' is a key of 9 bytes, larger than storage.max-key-size "
	    "(8)\n", "a key over max-key-size is refused");
	ok(strncmp(req("RAW_SCAN - a 123456789 1"), "CLIENT_ERROR argument 3 "
	    "of 'RAW_SCAN' is a key", 43) == 0,
	    "so is a range bound over it");
	ok(strncmp(req("RAW_BATCH_PUT - 0 a 1 123456789 2"),
	    "CLIENT_ERROR argument 5 ", 24) == 0,
	    "and any key of a batch");
	is_str(req("RAW_PUT - k v x"), "CLIENT_ERROR argument 4 of 'RAW_PUT' "
	    "is not a number\n", "a TTL that is not a number is refused");
	is_str(req("RAW_PUT - k v -1"), "CLIENT_ERROR argument 4 of "
	    "'RAW_PUT' is not a number\n", "so is a negative TTL");
	is_str(req("RAW_BATCH_PUT - 1 a 1 b"), "CLIENT_ERROR wrong number of "
	    "arguments for 'RAW_BATCH_PUT', usage: RAW_BATCH_PUT ctx ttl key "
	    "value [key value]...\n", "a batch put with a key and no value");
	is_str(req("RAW_SCAN - a z 10241"), "CLIENT_ERROR argument 4 of "
	    "'RAW_SCAN' out of range: 10241 not in 0..10240\n",
	    "a scan limit over 10240 is refused");
	is_str(req("RAW_SCAN - a z 1 KEY_ONLY KEY_ONLY"), "CLIENT_ERROR "
	    "argument 6 of 'RAW_SCAN' is 'KEY_ONLY', expected KEY_ONLY or "
	    "REVERSE, each at most once\n", "a repeated scan flag");
	ok(strncmp(req("RAW_SCAN - a z 1 FAST"), "CLIENT_ERROR argument 5 ",
	    24) == 0, "an unknown scan flag");
	is_str(req("RAW_CAS - k MAYBE PUT v"), "CLIENT_ERROR argument 3 of "
	    "'RAW_CAS' is 'MAYBE', expected ABSENT or EQ\n",
	    "CAS without ABSENT or EQ");
	is_str(req("RAW_CAS - k EQ a SET v"), "CLIENT_ERROR argument 5 of "
	    "'RAW_CAS' is 'SET', expected PUT or DELETE\n",
	    "CAS without PUT or DELETE");
	ok(strncmp(req("RAW_CAS - k ABSENT PUT"), "CLIENT_ERROR wrong number",
	    25) == 0, "CAS PUT without a value");
	ok(strncmp(req("RAW_CAS - k ABSENT DELETE x"),
	    "CLIENT_ERROR wrong number", 25) == 0, "CAS DELETE with a value");
	ok(strncmp(req("RAW_CAS - k EQ PUT v"), "CLIENT_ERROR argument 5 ",
	    24) == 0, "CAS EQ without prev");
	ok(strncmp(req("RAW_CAS - k ABSENT PUT v x"),
	    "CLIENT_ERROR argument 6 of 'RAW_CAS' is not a number", 52) == 0,
	    "CAS with a bad TTL");
	ok(strncmp(req("RAW_CAS - k ABSENT PUT v 1 2"),
	    "CLIENT_ERROR wrong number", 25) == 0, "CAS with too much");

	/* raft-entry-max-size is 1000 here. */
	n = 2000;
	big = malloc(n + 64);
	memcpy(big, "RAW_PUT 7:1:1 k {1000}\n", 23);
	memset(big + 23, 'v', 1000);
	is_str(call(big, 23 + 1000), "RAFT_ENTRY_TOO_LARGE 7 1019\n",
	    "a write over raft-entry-max-size is refused with its size");
	nproposed = 0;
	memcpy(big, "RAW_PUT - k {950}\n", 18);
	memset(big + 18, 'v', 950);
	ok(strncmp(call(big, 18 + 950), "OK propose", 10) == 0 &&
	    nproposed == 1, "one just under it is proposed");
	free(big);
	nproposed = 0;
	req("RAW_PUT - 123456789 v\nRAW_PUT x k v\nRAW_CAS - k\n");
	is_int(nproposed, 0, "nothing bad input sends is proposed");
}

static void
test_store(void)
{
	const char *r;

	is_str(req("PING"), "OK\n", "PING");
	is_str(req("VERSION"), "OK tikvd " TIKV_VERSION "\n", "VERSION");
	is_str(req("STATUS"), "OK 4 tcp://127.0.0.1:20160 2 1\n",
	    "STATUS: store id, address, regions, leaders");
	is_str(req("REGIONS"),
	    "VALUE 2 \"\" m 1 2 20:1:v 20 leader 6 102 101\n"
	    "VALUE 8 m \"\" 1 8 80:1:v 0 follower 6 108 107\n"
	    "END\n", "REGIONS, in id order");
	is_str(req("REGION 2"), "VALUE 2 \"\" m 1 2 20:1:v 20 leader 6 102 "
	    "101\n", "REGION id");
	is_str(req("REGION 3"), "REGION_NOT_FOUND 3\n",
	    "REGION of another id");
	is_str(req("REGION 0"), "CLIENT_ERROR argument 1 of 'REGION' out of "
	    "range: 0 not in 1..18446744073709551615\n", "REGION 0");
	is_str(req("SPLIT_REGION 2:1:2 k"), "OK split 2 k\n", "SPLIT_REGION");
	is_str(req("SPLIT_REGION - k"), "OK split 0 k\n",
	    "SPLIT_REGION by key");
	is_str(req("SPLIT_REGION - \"\""), "CLIENT_ERROR cannot split at the "
	    "empty key\n", "SPLIT_REGION at the empty key");
	is_str(req("TRANSFER_LEADER 2 30"), "OK transfer 2 30\n",
	    "TRANSFER_LEADER");
	is_str(req("RAFT {3}\nabc"), "OK\n", "RAFT");
	is_str(req("RAFT bad"), "CLIENT_ERROR bad raft payload: malformed "
	    "envelope\n", "RAFT with a bad payload");
	is_str(req("RAFT_CHUNK 9 0 2 abc"), "OK\n", "RAFT_CHUNK");
	is_str(req("RAFT_CHUNK 9 1 2 bad"), "CLIENT_ERROR bad raft chunk: "
	    "chunk 1 out of order\n", "RAFT_CHUNK refused by the transport");
	is_str(req("RAFT_CHUNK 9 2 2 abc"), "CLIENT_ERROR argument 2 of "
	    "'RAFT_CHUNK' out of range: 2 not in 0..1\n",
	    "RAFT_CHUNK seq past total");
	is_str(req("RAFT_CHUNK 9 0 0 abc"), "CLIENT_ERROR argument 3 of "
	    "'RAFT_CHUNK' out of range: 0 not in 1..18446744073709551615\n",
	    "RAFT_CHUNK of total 0");
	r = req("HELP RAW_CAS");
	is_str(r, "VALUE \"RAW_CAS ctx key ABSENT|EQ prev PUT value [ttl] | "
	    "DELETE\" \"compare and swap; reply OK SWAPPED|FAILED "
	    "ABSENT|VALUE prev\"\nEND\n", "HELP RAW_CAS");
	r = req("HELP");
	ok(strstr(r, "VALUE \"RAW_SCAN ctx start end limit [KEY_ONLY] "
	    "[REVERSE]\"") != NULL && strstr(r, "VALUE VERSION") != NULL &&
	    strcmp(r + strlen(r) - 4, "END\n") == 0, "HELP lists them all");
}

static void
test_order(void)
{
	is_str(req("PING\nRAW_GET - a\nFOO\nRAW_PUT - b 1\nRAW_GET 1 c\n"
	    "VERSION\n"),
	    "OK\n"
	    "OK read 2 0 0 0 | 5 0 a \"\" \"\" \"\" 0 0\n"
	    "CLIENT_ERROR unknown command 'FOO'\n"
	    "OK propose 1 0 0 0 | 1 0 b \"\" 1 \"\" 0 0\n"
	    "CLIENT_ERROR bad region context '1', expected "
	    "REGION_ID:CONF_VER:VERSION or -\n"
	    "OK tikvd " TIKV_VERSION "\n",
	    "one message of six commands: six replies in order");
}

int
main(void)
{
	struct tikvd_config cfg;
	struct store st;
	struct net_server *srv;

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_key_size = 8;
	cfg.raft_entry_max_size = 1000;
	memset(&st, 0, sizeof(st));
	st.cfg = &cfg;
	st.store_id = 4;
	st.addr = "tcp://127.0.0.1:20160";
	srv = net_server_start("tcp://127.0.0.1:0", 4, NET_DEFAULT_MAXMSG,
	    service_handle, &st);
	if (srv == NULL) {
		diag("net_server_start: %s", log_reason());
		return 1;
	}
	cl = net_client_open(net_server_url(srv), NET_DEFAULT_MAXMSG);
	if (cl == NULL) {
		diag("net_client_open: %s", log_reason());
		return 1;
	}
	test_raw();
	test_raw_errors();
	test_store();
	test_order();
	net_client_close(cl);
	net_server_stop(srv);
	return done_testing();
}
