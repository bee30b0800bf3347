/*
 * tikv-ctl: the operator tool.  Words map to actions through one table;
 * output goes through out.c.  Exit status: 0 success, 1 failure, 2 usage.
 */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "client.h"
#include "log.h"
#include "net.h"
#include "out.h"
#include "pdclient.h"
#include "proto.h"
#include "region.h"
#include "schema.h"
#include "txn.h"
#include "xmalloc.h"

#define CALL_TIMEOUT_MS	5000
#define TSO_LOGICAL_BITS 18
#define SCAN_DEFAULT_LIMIT 100
#define TTL_MAX		4294967295LL

static const char *pd_addr;
static struct buf pd_url;
static int hex_io;		/* -x: keys and values in hex */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tikv-ctl [-hj] [--pd addr] ping\n"
	    "       tikv-ctl [-hj] [--pd addr] tso [-n count]\n"
	    "       tikv-ctl [-hj] [--pd addr] id [-n count]\n"
	    "       tikv-ctl [-hj] config-check [-t pdd | tikvd] file\n"
	    "       tikv-ctl [-hjx] [--pd addr] raw get key\n"
	    "       tikv-ctl [-hjx] [--pd addr] raw put [-t ttl] key value\n"
	    "       tikv-ctl [-hjx] [--pd addr] raw delete key\n"
	    "       tikv-ctl [-hjx] [--pd addr] raw scan [-kr] [-l limit] "
	    "[start [end]]\n"
	    "       tikv-ctl [-hjx] [--pd addr] raw delete-range start end\n"
	    "       tikv-ctl [-hjx] [--pd addr] raw cas -a | -e prev [-d] "
	    "[-t ttl] key [value]\n"
	    "       tikv-ctl [-hjx] [--pd addr] raw ttl key\n"
	    "       tikv-ctl [-hjx] [--pd addr] raw checksum [start [end]]\n"
	    "       tikv-ctl [-hjx] [--pd addr] txn get key\n"
	    "       tikv-ctl [-hjx] [--pd addr] txn put key value "
	    "[key value ...]\n"
	    "       tikv-ctl [-hjx] [--pd addr] txn insert key value\n"
	    "       tikv-ctl [-hjx] [--pd addr] txn delete key ...\n"
	    "       tikv-ctl [-hjx] [--pd addr] txn scan [-k] [-l limit] "
	    "[start [end]]\n"
	    "       tikv-ctl [-hjx] [--pd addr] region [id | --key key]\n"
	    "       tikv-ctl [-hj] [--pd addr] store [id]\n"
	    "       tikv-ctl [-hjx] [--pd addr] split-region key\n"
	    "       tikv-ctl [-hj] [--pd addr] transfer-leader region_id "
	    "store_id\n");
	exit(2);
}

/* "host:port" means "tcp://host:port"; any nng URL passes as it is. */
static const char *
addr_url(const char *addr)
{
	buf_reset(&pd_url);
	if (strstr(addr, "://") == NULL)
		buf_addstr(&pd_url, "tcp://");
	buf_addstr(&pd_url, addr);
	return (const char *)pd_url.data;
}

/*
 * Send one command line to pd and split its one-line reply into args.
 * Errors from the server or the network end the program with status 1.
 */
static void
pd_call(const char *line, struct proto_args *reply)
{
	struct net_client *c;
	struct buf r = BUF_INIT, e = BUF_INIT;
	size_t pos;
	int word;

	if ((c = net_client_open(addr_url(pd_addr),
	    NET_DEFAULT_MAXMSG)) == NULL)
		errx(1, "%s", log_reason());
	if (net_client_call(c, line, strlen(line), &r, CALL_TIMEOUT_MS) != 0)
		errx(1, "pd %s: %s", pd_addr, log_reason());
	net_client_close(c);
	word = proto_word_parse(r.data, r.len);
	if (word != PROTO_OK) {
		if (r.len && r.data[r.len - 1] == '\n')
			buf_truncate(&r, r.len - 1);
		errx(1, "pd %s replied: %s", pd_addr, (const char *)r.data);
	}
	pos = 0;
	if (proto_parse(r.data, r.len, &pos, reply, &e) != 1)
		errx(1, "pd %s: bad reply: %s", pd_addr, (const char *)e.data);
	buf_free(&r);
	buf_free(&e);
}

static uint64_t
reply_u64(const struct proto_args *a, size_t i)
{
	uint64_t v;

	if (i >= a->argc)
		errx(1, "pd %s: short reply", pd_addr);
	if (proto_bytes_u64(a->argv[i], &v) == -1)
		errx(1, "pd %s: bad number in reply", pd_addr);
	return v;
}

/* Parses "-n count" for tso and id. */
static uint64_t
count_option(int argc, char *argv[], long long max)
{
	const char *errstr;
	long long n = 1;
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "n:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtonum(optarg, 1, max, &errstr);
			if (errstr)
				errx(2, "count '%s' is %s (1-%lld)", optarg,
				    errstr, max);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	return (uint64_t)n;
}

static int
cmd_ping(int argc, char *argv[])
{
	struct proto_args a;

	if (argc != 1)
		usage();
	proto_args_init(&a);
	pd_call("PING\n", &a);
	out_record_begin();
	out_str("pd", pd_addr);
	out_str("status", "ok");
	out_record_end();
	proto_args_free(&a);
	return 0;
}

static int
cmd_tso(int argc, char *argv[])
{
	struct proto_args a;
	char line[64];
	uint64_t n = count_option(argc, argv, 1 << TSO_LOGICAL_BITS), first,
	    i, ts;

	snprintf(line, sizeof(line), "TSO %llu\n", (unsigned long long)n);
	proto_args_init(&a);
	pd_call(line, &a);
	first = reply_u64(&a, 1);
	if (reply_u64(&a, 2) != n)
		errx(1, "pd %s: asked for %llu timestamps, got another count",
		    pd_addr, (unsigned long long)n);
	out_list_begin();
	for (i = 0; i < n; i++) {
		ts = first + i;
		out_record_begin();
		out_u64("ts", ts);
		out_u64("physical", ts >> TSO_LOGICAL_BITS);
		out_u64("logical", ts & ((1u << TSO_LOGICAL_BITS) - 1));
		out_record_end();
	}
	out_list_end();
	proto_args_free(&a);
	return 0;
}

static int
cmd_id(int argc, char *argv[])
{
	struct proto_args a;
	char line[64];
	uint64_t n = count_option(argc, argv, 1000000), first, i;

	snprintf(line, sizeof(line), "ALLOC_ID %llu\n", (unsigned long long)n);
	proto_args_init(&a);
	pd_call(line, &a);
	first = reply_u64(&a, 1);
	out_list_begin();
	for (i = 0; i < n; i++) {
		out_record_begin();
		out_u64("id", first + i);
		out_record_end();
	}
	out_list_end();
	proto_args_free(&a);
	return 0;
}

static int
cmd_config_check(int argc, char *argv[])
{
	const char *kind = NULL, *used = NULL;
	int ch, r;

	optind = 1;
	while ((ch = getopt(argc, argv, "t:")) != -1) {
		switch (ch) {
		case 't':
			if (strcmp(optarg, "pdd") != 0 &&
			    strcmp(optarg, "tikvd") != 0)
				usage();
			kind = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	r = schema_check(argv[optind], kind, &used);
	out_record_begin();
	out_str("file", argv[optind]);
	out_str("kind", used ? used : (kind ? kind : "unknown"));
	out_bool("ok", r == 0);
	if (r == -1)
		out_str("error", log_reason());
	out_record_end();
	out_finish();
	if (r == -1)
		warnx("%s", log_reason());
	return r == 0 ? 0 : 1;
}

/* --- keys and values ----------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A key or value from the command line: escaped form, or hex with -x. */
static void
bytes_arg(const char *what, const char *s, struct buf *out)
{
	struct buf err = BUF_INIT;
	size_t i, n = strlen(s);
	int hi, lo;

	buf_reset(out);
	if (hex_io) {
		for (i = 0; i + 1 < n; i += 2) {
			if ((hi = hexval(s[i])) == -1 ||
			    (lo = hexval(s[i + 1])) == -1)
				break;
			buf_addc(out, hi << 4 | lo);
		}
		if (i != n)
			errx(2, "%s '%s' is not hex (an even number of hex "
			    "digits)", what, s);
		return;
	}
	if (proto_unescape(s, out, &err) == -1)
		errx(2, "bad %s '%s': %s", what, s, (const char *)err.data);
	buf_free(&err);
}

/* Bytes as printed: escaped, or hex with -x. */
static void
bytes_text(const void *p, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = p;
	size_t i;

	buf_reset(out);
	if (!hex_io) {
		proto_escape(out, p, n);
		return;
	}
	for (i = 0; i < n; i++) {
		buf_addc(out, hex[b[i] >> 4]);
		buf_addc(out, hex[b[i] & 15]);
	}
}

/* The empty string prints as "" in both forms, so no field vanishes. */
static void
out_key(const char *name, const void *p, size_t n)
{
	struct buf t = BUF_INIT;

	if (!hex_io || n == 0) {
		out_bytes(name, p, n);
		return;
	}
	bytes_text(p, n, &t);
	out_str(name, (const char *)t.data);
	buf_free(&t);
}

/* "key 'KEY' what", KEY spelled as output spells it. */
static void
key_warnx(const struct buf *key, const char *what)
{
	struct buf t = BUF_INIT;

	bytes_text(key->data, key->len, &t);
	warnx("key '%s' %s", t.len ? (const char *)t.data : "", what);
	buf_free(&t);
}

/* Names the key that is not there. */
static void
key_not_found(const struct buf *key)
{
	key_warnx(key, "not found");
}

static uint64_t
ttl_option(const char *s)
{
	const char *errstr;
	long long v;

	v = strtonum(s, 0, TTL_MAX, &errstr);
	if (errstr)
		errx(2, "ttl '%s' is %s (0-%lld)", s, errstr, TTL_MAX);
	return (uint64_t)v;
}

static uint64_t
id_arg(const char *what, const char *s)
{
	const char *errstr;
	long long v;

	v = strtonum(s, 1, LLONG_MAX, &errstr);
	if (errstr)
		errx(2, "%s '%s' is %s", what, s, errstr);
	return (uint64_t)v;
}

static struct client *
ctl_client(void)
{
	char *ep = xstrdup(addr_url(pd_addr));
	struct client *c;

	if ((c = client_open(&ep, 1, 0)) == NULL)
		errx(1, "pd %s: %s", pd_addr, log_reason());
	free(ep);
	return c;
}

/* Ends a command that failed: "what: why", or why alone. */
static void __attribute__((noreturn))
fail(struct client *c, const char *what, const char *why)
{
	out_finish();
	if (what != NULL)
		warnx("%s: %s", what, why);
	else
		warnx("%s", why);
	client_close(c);
	exit(1);
}

/* Ends a command whose client call failed; what names the object. */
static void __attribute__((noreturn))
client_fail(struct client *c, const char *what)
{
	char why[512];

	strlcpy(why, log_reason(), sizeof(why));
	fail(c, what, why);
}

/* --- raw ----------------------------------------------------------------- */

static int
raw_get(int argc, char *argv[])
{
	struct buf key = BUF_INIT, val = BUF_INIT;
	struct client *c;
	int r;

	if (argc != 2)
		usage();
	bytes_arg("key", argv[1], &key);
	c = ctl_client();
	if ((r = client_get(c, key.data, key.len, &val)) == -1)
		client_fail(c, NULL);
	if (r == 1) {
		out_record_begin();
		out_key("key", key.data, key.len);
		out_key("value", val.data, val.len);
		out_record_end();
	} else {
		key_not_found(&key);
	}
	client_close(c);
	buf_free(&key);
	buf_free(&val);
	return r == 1 ? 0 : 1;
}

static int
raw_put(int argc, char *argv[])
{
	struct buf key = BUF_INIT, val = BUF_INIT;
	struct client *c;
	uint64_t ttl = 0;
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "+t:")) != -1) {
		switch (ch) {
		case 't':
			ttl = ttl_option(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 2)
		usage();
	bytes_arg("key", argv[optind], &key);
	bytes_arg("value", argv[optind + 1], &val);
	c = ctl_client();
	if (client_put(c, key.data, key.len, val.data, val.len, ttl) != 0)
		client_fail(c, NULL);
	client_close(c);
	buf_free(&key);
	buf_free(&val);
	return 0;
}

static int
raw_delete(int argc, char *argv[])
{
	struct buf key = BUF_INIT;
	struct client *c;

	if (argc != 2)
		usage();
	bytes_arg("key", argv[1], &key);
	c = ctl_client();
	if (client_delete(c, key.data, key.len) != 0)
		client_fail(c, NULL);
	client_close(c);
	buf_free(&key);
	return 0;
}

/* Optional start and end operands from argv[i] on. */
static void
range_args(int argc, char *argv[], int i, struct buf *start, struct buf *end)
{
	if (argc - i > 2)
		usage();
	if (i < argc)
		bytes_arg("start key", argv[i], start);
	if (i + 1 < argc)
		bytes_arg("end key", argv[i + 1], end);
}

/*
 * The options and operands of raw scan and txn scan: -k, -l limit, and
 * -r where optstring has it; then [start [end]].
 */
static void
scan_args(int argc, char *argv[], const char *optstring, size_t *limit,
    int *flags, struct buf *start, struct buf *end)
{
	const char *errstr;
	int ch;

	*limit = SCAN_DEFAULT_LIMIT;
	*flags = 0;
	optind = 1;
	while ((ch = getopt(argc, argv, optstring)) != -1) {
		switch (ch) {
		case 'k':
			*flags |= CLIENT_KEY_ONLY;
			break;
		case 'l':
			*limit = (size_t)strtonum(optarg, 0, LLONG_MAX,
			    &errstr);
			if (errstr)
				errx(2, "limit '%s' is %s", optarg, errstr);
			break;
		case 'r':
			*flags |= CLIENT_REVERSE;
			break;
		default:
			usage();
		}
	}
	range_args(argc, argv, optind, start, end);
}

static void
out_pairs(const struct client_pair *v, size_t n, int flags)
{
	size_t i;

	out_list_begin();
	for (i = 0; i < n; i++) {
		out_record_begin();
		out_key("key", v[i].key.data, v[i].key.len);
		if (!(flags & CLIENT_KEY_ONLY))
			out_key("value", v[i].value.data, v[i].value.len);
		out_record_end();
	}
	out_list_end();
}

static int
raw_scan(int argc, char *argv[])
{
	struct buf start = BUF_INIT, end = BUF_INIT;
	struct client_pair *v;
	struct client *c;
	size_t limit, n;
	int flags;

	scan_args(argc, argv, "+kl:r", &limit, &flags, &start, &end);
	c = ctl_client();
	if (client_scan(c, start.data, start.len, end.data, end.len,
	    limit, flags, &v, &n) == -1)
		client_fail(c, NULL);
	out_pairs(v, n, flags);
	client_pairs_free(v, n);
	client_close(c);
	buf_free(&start);
	buf_free(&end);
	return 0;
}

static int
raw_delete_range(int argc, char *argv[])
{
	struct buf start = BUF_INIT, end = BUF_INIT;
	struct client *c;

	if (argc != 3)
		usage();
	range_args(argc, argv, 1, &start, &end);
	c = ctl_client();
	if (client_delete_range(c, start.data, start.len, end.data,
	    end.len) != 0)
		client_fail(c, NULL);
	client_close(c);
	buf_free(&start);
	buf_free(&end);
	return 0;
}

static int
raw_cas(int argc, char *argv[])
{
	struct buf key = BUF_INIT, expect = BUF_INIT, val = BUF_INIT,
	    prev = BUF_INIT;
	struct client_cas cas;
	struct client *c;
	int ch, have_expect = 0, have_ttl = 0, swapped, found, r;

	memset(&cas, 0, sizeof(cas));
	optind = 1;
	while ((ch = getopt(argc, argv, "+ade:t:")) != -1) {
		switch (ch) {
		case 'a':
			cas.expect_absent = 1;
			break;
		case 'd':
			cas.del = 1;
			break;
		case 'e':
			bytes_arg("expected value", optarg, &expect);
			have_expect = 1;
			break;
		case 't':
			cas.ttl = ttl_option(optarg);
			have_ttl = 1;
			break;
		default:
			usage();
		}
	}
	/* -a or -e, not both; a value unless -d; no ttl with -d. */
	if (cas.expect_absent == have_expect ||
	    argc - optind != (cas.del ? 1 : 2) || (cas.del && have_ttl))
		usage();
	bytes_arg("key", argv[optind], &key);
	if (!cas.del)
		bytes_arg("value", argv[optind + 1], &val);
	cas.expect = buf_bytes(&expect);
	cas.value = buf_bytes(&val);
	c = ctl_client();
	r = client_cas(c, key.data, key.len, &cas, &swapped, &found, &prev);
	if (r != 0)
		client_fail(c, NULL);
	out_record_begin();
	out_bool("swapped", swapped);
	out_bool("found", found);
	if (found)
		out_key("prev", prev.data, prev.len);
	out_record_end();
	client_close(c);
	buf_free(&key);
	buf_free(&expect);
	buf_free(&val);
	buf_free(&prev);
	return swapped ? 0 : 1;
}

static int
raw_ttl(int argc, char *argv[])
{
	struct buf key = BUF_INIT;
	struct client *c;
	uint64_t ttl;
	int r;

	if (argc != 2)
		usage();
	bytes_arg("key", argv[1], &key);
	c = ctl_client();
	if ((r = client_get_ttl(c, key.data, key.len, &ttl)) == -1)
		client_fail(c, NULL);
	if (r == 1) {
		out_record_begin();
		out_key("key", key.data, key.len);
		out_u64("ttl", ttl);
		out_record_end();
	} else {
		key_not_found(&key);
	}
	client_close(c);
	buf_free(&key);
	return r == 1 ? 0 : 1;
}

static int
raw_checksum(int argc, char *argv[])
{
	struct buf start = BUF_INIT, end = BUF_INIT;
	struct client_checksum sum;
	struct client *c;

	range_args(argc, argv, 1, &start, &end);
	c = ctl_client();
	if (client_checksum(c, start.data, start.len, end.data, end.len,
	    &sum) == -1)
		client_fail(c, NULL);
	out_record_begin();
	out_u64("count", sum.count);
	out_u64("bytes", sum.bytes);
	out_u64("checksum", sum.checksum);
	out_record_end();
	client_close(c);
	buf_free(&start);
	buf_free(&end);
	return 0;
}

static const struct ctl_cmd {
	const char *name;
	int (*fn)(int, char *[]);
} raw_cmds[] = {
	{ "cas", raw_cas },
	{ "checksum", raw_checksum },
	{ "delete", raw_delete },
	{ "delete-range", raw_delete_range },
	{ "get", raw_get },
	{ "put", raw_put },
	{ "scan", raw_scan },
	{ "ttl", raw_ttl },
	{ NULL, NULL }
};

static const struct ctl_cmd *
cmd_lookup(const struct ctl_cmd *table, const char *word)
{
	const struct ctl_cmd *c;

	for (c = table; c->name; c++)
		if (strcmp(c->name, word) == 0)
			return c;
	return NULL;
}

static int
cmd_raw(int argc, char *argv[])
{
	const struct ctl_cmd *c;

	if (argc < 2)
		usage();
	if ((c = cmd_lookup(raw_cmds, argv[1])) == NULL) {
		warnx("unknown raw command '%s'", argv[1]);
		usage();
	}
	return c->fn(argc - 1, argv + 1);
}

/* --- txn ----------------------------------------------------------------- */

/*
 * Each txn command is one transaction: it begins, reads or buffers its
 * writes, and commits.  A commit that fails is not tried again: a
 * conflict means another transaction wrote a key after this one began,
 * and the user decides whether to write over it.
 */

static struct txn *
ctl_txn_begin(struct client *c)
{
	struct txn *t;

	if ((t = txn_begin(c)) == NULL)
		client_fail(c, "cannot begin a transaction");
	return t;
}

/* Ends a command whose transaction call failed. */
static void __attribute__((noreturn))
txn_fail(struct client *c, struct txn *t)
{
	char why[512];

	strlcpy(why, log_reason(), sizeof(why));
	txn_free(t);
	fail(c, NULL, why);
}

/*
 * Commits t and prints its timestamps (JSON only); a failed commit ends
 * the program with status 1.  key: the key of a txn insert, named when
 * it exists already.
 */
static void
ctl_txn_commit(struct client *c, struct txn *t, const struct buf *key)
{
	char why[512], what[64];
	uint64_t start_ts = txn_start_ts(t), commit_ts = 0;
	int r;

	r = txn_commit(t, &commit_ts);
	strlcpy(why, log_reason(), sizeof(why));
	txn_free(t);
	if (r == 0) {
		if (out_is_json()) {
			out_record_begin();
			out_u64("start_ts", start_ts);
			out_u64("commit_ts", commit_ts);
			out_record_end();
		}
		return;
	}
	out_finish();
	snprintf(what, sizeof(what), "transaction %" PRIu64, start_ts);
	switch (r) {
	case TXN_CONFLICT:
		warnx("%s: write conflict: another transaction wrote one of "
		    "its keys after it began, or rolled it back; nothing was "
		    "written", what);
		break;
	case TXN_ALREADY_EXIST:
		key_warnx(key, "already exists; nothing was written");
		break;
	case CLIENT_UNKNOWN:
		warnx("%s: cannot know whether it committed: %s", what, why);
		break;
	default:
		warnx("%s: cannot commit: %s", what, why);
		break;
	}
	client_close(c);
	exit(1);
}

static int
ctl_txn_get(int argc, char *argv[])
{
	struct buf key = BUF_INIT, val = BUF_INIT;
	struct client *c;
	struct txn *t;
	int r;

	if (argc != 2)
		usage();
	bytes_arg("key", argv[1], &key);
	c = ctl_client();
	t = ctl_txn_begin(c);
	if ((r = txn_get(t, key.data, key.len, &val)) == -1)
		txn_fail(c, t);
	if (r == 1) {
		out_record_begin();
		out_key("key", key.data, key.len);
		out_key("value", val.data, val.len);
		if (out_is_json())
			out_u64("start_ts", txn_start_ts(t));
		out_record_end();
	} else {
		key_not_found(&key);
	}
	txn_free(t);
	client_close(c);
	buf_free(&key);
	buf_free(&val);
	return r == 1 ? 0 : 1;
}

static int
ctl_txn_put(int argc, char *argv[])
{
	struct buf *kv;
	struct client *c;
	struct txn *t;
	int i, n = argc - 1;

	if (n < 2 || n % 2 != 0)
		usage();
	kv = xcalloc((size_t)n, sizeof(*kv));
	for (i = 0; i < n; i += 2) {
		bytes_arg("key", argv[i + 1], &kv[i]);
		bytes_arg("value", argv[i + 2], &kv[i + 1]);
	}
	c = ctl_client();
	t = ctl_txn_begin(c);
	for (i = 0; i < n; i += 2)
		txn_put(t, kv[i].data, kv[i].len, kv[i + 1].data,
		    kv[i + 1].len);
	ctl_txn_commit(c, t, NULL);
	client_close(c);
	for (i = 0; i < n; i++)
		buf_free(&kv[i]);
	free(kv);
	return 0;
}

static int
ctl_txn_insert(int argc, char *argv[])
{
	struct buf key = BUF_INIT, val = BUF_INIT;
	struct client *c;
	struct txn *t;

	if (argc != 3)
		usage();
	bytes_arg("key", argv[1], &key);
	bytes_arg("value", argv[2], &val);
	c = ctl_client();
	t = ctl_txn_begin(c);
	txn_insert(t, key.data, key.len, val.data, val.len);
	ctl_txn_commit(c, t, &key);
	client_close(c);
	buf_free(&key);
	buf_free(&val);
	return 0;
}

static int
ctl_txn_delete(int argc, char *argv[])
{
	struct buf *keys;
	struct client *c;
	struct txn *t;
	int i, n = argc - 1;

	if (n < 1)
		usage();
	keys = xcalloc((size_t)n, sizeof(*keys));
	for (i = 0; i < n; i++)
		bytes_arg("key", argv[i + 1], &keys[i]);
	c = ctl_client();
	t = ctl_txn_begin(c);
	for (i = 0; i < n; i++)
		txn_delete(t, keys[i].data, keys[i].len);
	ctl_txn_commit(c, t, NULL);
	client_close(c);
	for (i = 0; i < n; i++)
		buf_free(&keys[i]);
	free(keys);
	return 0;
}

static int
ctl_txn_scan(int argc, char *argv[])
{
	struct buf start = BUF_INIT, end = BUF_INIT;
	struct client_pair *v;
	struct client *c;
	struct txn *t;
	size_t limit, n;
	int flags;

	scan_args(argc, argv, "+kl:", &limit, &flags, &start, &end);
	c = ctl_client();
	t = ctl_txn_begin(c);
	if (txn_scan(t, start.data, start.len, end.data, end.len, limit,
	    flags, &v, &n) == -1)
		txn_fail(c, t);
	out_pairs(v, n, flags);
	client_pairs_free(v, n);
	txn_free(t);
	client_close(c);
	buf_free(&start);
	buf_free(&end);
	return 0;
}

static const struct ctl_cmd txn_cmds[] = {
	{ "delete", ctl_txn_delete },
	{ "get", ctl_txn_get },
	{ "insert", ctl_txn_insert },
	{ "put", ctl_txn_put },
	{ "scan", ctl_txn_scan },
	{ NULL, NULL }
};

static int
cmd_txn(int argc, char *argv[])
{
	const struct ctl_cmd *c;

	if (argc < 2)
		usage();
	if ((c = cmd_lookup(txn_cmds, argv[1])) == NULL) {
		warnx("unknown txn command '%s'", argv[1]);
		usage();
	}
	return c->fn(argc - 1, argv + 1);
}

/* --- regions and stores -------------------------------------------------- */

static void
out_region(const struct region *r, const uint64_t *leader)
{
	static const char roles[] = "vlid";
	const struct region_peer *p;
	struct buf peers = BUF_INIT;
	size_t i;

	out_record_begin();
	out_u64("id", r->id);
	out_key("start", r->start.data, r->start.len);
	out_key("end", r->end.data, r->end.len);
	out_u64("conf_ver", r->epoch.conf_ver);
	out_u64("version", r->epoch.version);
	for (i = 0; i < r->npeers; i++)
		buf_printf(&peers, "%s%" PRIu64 ":%" PRIu64 ":%c",
		    i ? "," : "", r->peers[i].id, r->peers[i].store_id,
		    roles[r->peers[i].role & 3]);
	out_bytes("peers", peers.data, peers.len);
	if (leader != NULL) {
		p = *leader ? region_peer_by_id(r, *leader) : NULL;
		out_u64("leader", *leader);
		out_u64("leader_store", p ? p->store_id : 0);
	}
	out_record_end();
	buf_free(&peers);
}

static int
region_list(struct client *c)
{
	struct pdclient *pd = client_pd(c);
	struct buf cur = BUF_INIT;
	struct pd_region *v;
	size_t n, i;

	out_list_begin();
	for (;;) {
		if (pdclient_scan_regions(pd, cur.data, cur.len, "", 0, 0,
		    &v, &n) == -1)
			client_fail(c, NULL);
		for (i = 0; i < n; i++)
			out_region(&v[i].region, &v[i].leader_peer_id);
		if (n == 0 || v[n - 1].region.end.len == 0 ||
		    bytes_cmp(buf_bytes(&v[n - 1].region.end),
		    buf_bytes(&cur)) <= 0) {
			pdclient_regions_free(v, n);
			break;
		}
		buf_reset(&cur);
		buf_add(&cur, v[n - 1].region.end.data,
		    v[n - 1].region.end.len);
		pdclient_regions_free(v, n);
	}
	out_list_end();
	buf_free(&cur);
	return 0;
}

static const struct option region_longopts[] = {
	{ "key", required_argument, NULL, 'k' },
	{ NULL, 0, NULL, 0 }
};

static int
cmd_region(int argc, char *argv[])
{
	struct buf key = BUF_INIT;
	struct pd_region pr;
	struct client *c;
	char what[64];
	int ch, by_key = 0, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+k:", region_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'k':
			bytes_arg("key", optarg, &key);
			by_key = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind > (by_key ? 0 : 1))
		usage();
	c = ctl_client();
	if (!by_key && optind == argc) {
		region_list(c);
		client_close(c);
		return 0;
	}
	region_init(&pr.region);
	if (by_key)
		r = pdclient_get_region(client_pd(c), key.data, key.len, &pr);
	else
		r = pdclient_get_region_by_id(client_pd(c),
		    id_arg("region id", argv[optind]), &pr);
	if (r == -1 && by_key)
		client_fail(c, "region of the key");
	if (r == -1) {
		snprintf(what, sizeof(what), "region %s", argv[optind]);
		client_fail(c, what);
	}
	out_region(&pr.region, &pr.leader_peer_id);
	region_free(&pr.region);
	client_close(c);
	buf_free(&key);
	return 0;
}

static void
out_store(const struct pd_store *s)
{
	out_record_begin();
	out_u64("id", s->id);
	out_str("addr", s->addr);
	out_str("state", s->state);
	out_u64("region_count", s->region_count);
	out_u64("leader_count", s->leader_count);
	out_u64("capacity", s->capacity);
	out_u64("available", s->available);
	out_u64("last_heartbeat_ms", s->last_heartbeat_ms);
	out_record_end();
}

static int
cmd_store(int argc, char *argv[])
{
	struct pd_store st, *v;
	struct client *c;
	char what[64];
	uint64_t id = 0;
	size_t n, i;

	if (argc > 2)
		usage();
	if (argc == 2)
		id = id_arg("store id", argv[1]);
	c = ctl_client();
	if (argc == 2) {
		memset(&st, 0, sizeof(st));
		if (pdclient_get_store(client_pd(c), id, &st) == -1) {
			snprintf(what, sizeof(what), "store %s", argv[1]);
			client_fail(c, what);
		}
		out_store(&st);
	} else {
		if (pdclient_list_stores(client_pd(c), &v, &n) == -1)
			client_fail(c, NULL);
		out_list_begin();
		for (i = 0; i < n; i++)
			out_store(&v[i]);
		out_list_end();
		free(v);
	}
	client_close(c);
	return 0;
}

static int
cmd_split_region(int argc, char *argv[])
{
	struct buf key = BUF_INIT;
	struct region left, right;
	struct client *c;

	if (argc != 2)
		usage();
	bytes_arg("key", argv[1], &key);
	region_init(&left);
	region_init(&right);
	c = ctl_client();
	if (client_split_region(c, key.data, key.len, &left, &right) != 0)
		client_fail(c, NULL);
	out_list_begin();
	out_region(&left, NULL);
	out_region(&right, NULL);
	out_list_end();
	region_free(&left);
	region_free(&right);
	client_close(c);
	buf_free(&key);
	return 0;
}

static int
cmd_transfer_leader(int argc, char *argv[])
{
	struct client *c;
	uint64_t region_id, store_id;

	if (argc != 3)
		usage();
	region_id = id_arg("region id", argv[1]);
	store_id = id_arg("store id", argv[2]);
	c = ctl_client();
	if (client_transfer_leader(c, region_id, store_id) == -1)
		client_fail(c, NULL);
	client_close(c);
	return 0;
}

static const struct ctl_cmd ctl_cmds[] = {
	{ "config-check", cmd_config_check },
	{ "id", cmd_id },
	{ "ping", cmd_ping },
	{ "raw", cmd_raw },
	{ "region", cmd_region },
	{ "split-region", cmd_split_region },
	{ "store", cmd_store },
	{ "transfer-leader", cmd_transfer_leader },
	{ "tso", cmd_tso },
	{ "txn", cmd_txn },
	{ NULL, NULL }
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "hex", no_argument, NULL, 'x' },
	{ "json", no_argument, NULL, 'j' },
	{ "pd", required_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	const struct ctl_cmd *c;
	int ch, json = 0, r;

	log_init(argv[0], LOG_LEVEL_WARN, 0);
	if ((pd_addr = getenv("TIKV_PD")) == NULL)
		pd_addr = "tcp://127.0.0.1:2379";
	/* '+': stop at the command word; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+hjx", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'p':
			pd_addr = optarg;
			break;
		case 'x':
			hex_io = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	out_init(json);
	if ((c = cmd_lookup(ctl_cmds, argv[0])) == NULL) {
		warnx("unknown command '%s'", argv[0]);
		usage();
	}
	r = c->fn(argc, argv);
	out_finish();
	buf_free(&pd_url);
	return r;
}
