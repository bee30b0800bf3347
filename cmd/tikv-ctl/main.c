/*
 * tikv-ctl: the operator tool.  Words map to actions through one table;
 * output goes through out.c.  Exit status: 0 success, 1 failure, 2 usage.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "out.h"
#include "proto.h"
#include "schema.h"

#define CALL_TIMEOUT_MS	5000
#define TSO_LOGICAL_BITS 18

static const char *pd_addr;
static struct buf pd_url;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tikv-ctl [-hj] [--pd addr] ping\n"
	    "       tikv-ctl [-hj] [--pd addr] tso [-n count]\n"
	    "       tikv-ctl [-hj] [--pd addr] id [-n count]\n"
	    "       tikv-ctl [-hj] config-check [-t pdd | tikvd] file\n");
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
	if (net_client_call(c, line, strlen(line), &r, CALL_TIMEOUT_MS) == -1)
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

static const struct ctl_cmd {
	const char *name;
	int (*fn)(int, char *[]);
} ctl_cmds[] = {
	{ "config-check", cmd_config_check },
	{ "id", cmd_id },
	{ "ping", cmd_ping },
	{ "tso", cmd_tso },
	{ NULL, NULL }
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
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
	while ((ch = getopt_long(argc, argv, "+hj", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'p':
			pd_addr = optarg;
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
	for (c = ctl_cmds; c->name; c++)
		if (strcmp(c->name, argv[0]) == 0)
			break;
	if (c->name == NULL) {
		warnx("unknown command '%s'", argv[0]);
		usage();
	}
	r = c->fn(argc, argv);
	out_finish();
	buf_free(&pd_url);
	return r;
}
