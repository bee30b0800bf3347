/*
 * The config schemas of pdd and tikvd.  Defaults follow TiKV and PD where
 * the key is theirs; where our design differs (nng URLs, request
 * contexts) the comment says why.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "schema.h"

#define KIB	1024LL
#define MIB	(1024 * KIB)
#define GIB	(1024 * MIB)
#define SEC	1000LL

#define PD(f)	offsetof(struct pdd_config, f)
#define TK(f)	offsetof(struct tikvd_config, f)

#define LOG_CHOICES	"error|warn|info|debug"
#define ELECTION	"raftstore.raft-election-timeout-ticks"
#define HEARTBEAT	"raftstore.raft-heartbeat-ticks"

static const struct conf_key schema_pddkeys[] = {
	{ .section = "", .name = "name", .type = CONF_STRING,
	  .offset = PD(name), .min = 1, .def = "pd",
	  .help = "name of this PD member" },
	{ .section = "", .name = "data-dir", .type = CONF_STRING,
	  .offset = PD(data_dir), .min = 1, .def = "pd-data",
	  .help = "directory of the TSO window, the id allocator and the "
	  "metadata" },
	{ .section = "", .name = "client-urls", .type = CONF_STRING,
	  .offset = PD(client_urls), .min = 1, .def = "tcp://127.0.0.1:2379",
	  .help = "nng URL to listen on for clients and stores" },
	{ .section = "", .name = "advertise-client-urls", .type = CONF_STRING,
	  .offset = PD(advertise_client_urls), .def = "",
	  .help = "URL clients should use, if not client-urls" },
	{ .section = "", .name = "tso-save-interval", .type = CONF_DURATION,
	  .offset = PD(tso_save_interval), .min = 1 * SEC, .def = "3s",
	  .help = "how far ahead the TSO upper bound is persisted" },
	{ .section = "log", .name = "level", .type = CONF_STRING,
	  .offset = PD(log_level), .def = "info", .choices = LOG_CHOICES,
	  .help = "error, warn, info or debug" },
	{ .section = "log", .name = "file", .type = CONF_STRING,
	  .offset = PD(log_file), .def = "",
	  .help = "log file; empty logs to stderr" },
	{ .section = "replication", .name = "max-replicas", .type = CONF_INT,
	  .offset = PD(max_replicas), .min = 1, .max = 7, .def = "3",
	  .help = "replicas of each region" },
	{ .section = "schedule", .name = "max-store-down-time",
	  .type = CONF_DURATION, .offset = PD(max_store_down_time),
	  .min = 1 * SEC, .def = "30m",
	  .help = "a store silent this long is down: its replicas are "
	  "replaced" },
	{ .section = "schedule", .name = "store-disconnect-time",
	  .type = CONF_DURATION, .offset = PD(store_disconnect_time),
	  .min = 1 * SEC, .def = "20s",
	  .help = "a store silent this long is disconnected: no new "
	  "replicas go to it" },
	{ .section = "server", .name = "max-message-size", .type = CONF_SIZE,
	  .offset = PD(max_message_size), .min = 64 * KIB, .max = 1 * GIB,
	  .def = "16MiB",
	  .help = "largest request or reply message" },
	{ .section = "server", .name = "contexts", .type = CONF_INT,
	  .offset = PD(contexts), .min = 1, .max = 4096, .def = "64",
	  .help = "requests served concurrently (nng contexts)" },
	{ .name = NULL }
};

static const struct conf_key schema_tikvdkeys[] = {
	{ .section = "server", .name = "addr", .type = CONF_STRING,
	  .offset = TK(addr), .min = 1, .def = "tcp://127.0.0.1:20160",
	  .help = "nng URL to listen on for clients and peers" },
	{ .section = "server", .name = "advertise-addr", .type = CONF_STRING,
	  .offset = TK(advertise_addr), .def = "",
	  .help = "URL other nodes should use, if not addr" },
	{ .section = "server", .name = "status-addr", .type = CONF_STRING,
	  .offset = TK(status_addr), .def = "",
	  .help = "URL of the HTTP status page and metrics; empty: off" },
	{ .section = "server", .name = "max-message-size", .type = CONF_SIZE,
	  .offset = TK(max_message_size), .min = 64 * KIB, .max = 1 * GIB,
	  .def = "16MiB",
	  .help = "largest request, reply or raft message" },
	{ .section = "server", .name = "contexts", .type = CONF_INT,
	  .offset = TK(contexts), .min = 1, .max = 4096, .def = "64",
	  .help = "requests served concurrently (nng contexts)" },
	{ .section = "storage", .name = "data-dir", .type = CONF_STRING,
	  .offset = TK(data_dir), .min = 1, .def = "tikv-data",
	  .help = "directory of the raft log and the KV engine" },
	/*
	 * TiKV's default.  8KiB holds any realistic row or index key, and a
	 * key escaped four times over still fits a protocol line.
	 */
	{ .section = "storage", .name = "max-key-size", .type = CONF_SIZE,
	  .offset = TK(max_key_size), .min = 1, .max = 1 * MIB,
	  .def = "8KiB",
	  .help = "largest key a client may write" },
	{ .section = "pd", .name = "endpoints", .type = CONF_STRLIST,
	  .offset = TK(pd_endpoints), .min = 1,
	  .def = "[\"tcp://127.0.0.1:2379\"]",
	  .help = "URLs of the PD members" },
	{ .section = "raftstore", .name = "raft-base-tick-interval",
	  .type = CONF_DURATION, .offset = TK(raft_base_tick_interval),
	  .min = 1, .def = "1s",
	  .help = "one raft tick" },
	{ .section = "raftstore", .name = "raft-heartbeat-ticks",
	  .type = CONF_INT, .offset = TK(raft_heartbeat_ticks),
	  .min = 1, .def = "2",
	  .help = "ticks between leader heartbeats" },
	{ .section = "raftstore", .name = "raft-election-timeout-ticks",
	  .type = CONF_INT, .offset = TK(raft_election_timeout_ticks),
	  .min = 2, .def = "10",
	  .help = "ticks without a leader before a follower campaigns" },
	/* TiKV derives both from region-split-size: 3/4 of it, 1KiB a log. */
	{ .section = "raftstore", .name = "raft-log-gc-count-limit",
	  .type = CONF_INT, .offset = TK(raft_log_gc_count_limit),
	  .min = 0, .def = "73728",
	  .help = "raft log entries kept before a forced compaction" },
	{ .section = "raftstore", .name = "raft-log-gc-size-limit",
	  .type = CONF_SIZE, .offset = TK(raft_log_gc_size_limit),
	  .min = 0, .def = "72MiB",
	  .help = "raft log bytes kept before a forced compaction" },
	{ .section = "raftstore", .name = "raft-entry-max-size",
	  .type = CONF_SIZE, .offset = TK(raft_entry_max_size),
	  .min = 1, .def = "8MiB",
	  .help = "largest raft log entry; larger writes are refused" },
	{ .section = "raftstore", .name = "pd-heartbeat-tick-interval",
	  .type = CONF_DURATION, .offset = TK(pd_heartbeat_tick_interval),
	  .min = 1, .def = "60s",
	  .help = "region heartbeats to PD" },
	{ .section = "raftstore", .name = "pd-store-heartbeat-tick-interval",
	  .type = CONF_DURATION,
	  .offset = TK(pd_store_heartbeat_tick_interval),
	  .min = 1, .def = "10s",
	  .help = "store heartbeats to PD" },
	{ .section = "raftstore", .name = "split-region-check-tick-interval",
	  .type = CONF_DURATION,
	  .offset = TK(split_region_check_tick_interval),
	  .min = 1, .def = "10s",
	  .help = "how often regions are checked for a split" },
	{ .section = "coprocessor", .name = "region-max-size",
	  .type = CONF_SIZE, .offset = TK(region_max_size),
	  .min = 1, .def = "144MiB",
	  .help = "a region larger than this is split" },
	{ .section = "coprocessor", .name = "region-split-size",
	  .type = CONF_SIZE, .offset = TK(region_split_size),
	  .min = 1, .def = "96MiB",
	  .help = "size of the regions a split produces" },
	{ .section = "coprocessor", .name = "region-max-keys",
	  .type = CONF_INT, .offset = TK(region_max_keys),
	  .min = 1, .def = "1440000",
	  .help = "a region with more keys than this is split" },
	{ .section = "coprocessor", .name = "region-split-keys",
	  .type = CONF_INT, .offset = TK(region_split_keys),
	  .min = 1, .def = "960000",
	  .help = "keys in the regions a split produces" },
	{ .section = "log", .name = "level", .type = CONF_STRING,
	  .offset = TK(log_level), .def = "info", .choices = LOG_CHOICES,
	  .help = "error, warn, info or debug" },
	{ .section = "log", .name = "file", .type = CONF_STRING,
	  .offset = TK(log_file), .def = "",
	  .help = "log file; empty logs to stderr" },
	{ .name = NULL }
};

const struct conf_key *
schema_pdd(void)
{
	return schema_pddkeys;
}

const struct conf_key *
schema_tikvd(void)
{
	return schema_tikvdkeys;
}

/*
 * Fail, pointing at the line of path that set key (else other's line):
 * "path:line: message", or "path: message", or just the message.
 */
static int __attribute__((format(printf, 4, 5)))
schema_fail(const char *path, const char *key, const char *other,
    const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	int line = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path && key)
		line = conf_lineof(path, key);
	if (path && line == 0 && other)
		line = conf_lineof(path, other);
	if (path && line)
		log_setreason("%s:%d: %s", path, line, msg);
	else if (path)
		log_setreason("%s: %s", path, msg);
	else
		log_setreason("%s", msg);
	return -1;
}

/* An nng URL names its transport: tcp://, ipc://, inproc://, tls+tcp://. */
static int
is_url(const char *s)
{
	const char *p = strstr(s, "://");

	return p && p > s && p[3] != '\0';
}

static int
check_url(const char *path, const char *key, const char *s, int optional)
{
	if ((optional && *s == '\0') || is_url(s))
		return 0;
	return schema_fail(path, key, NULL, "bad value for '%s': expected "
	    "an nng URL like \"tcp://127.0.0.1:2379\"", key);
}

/* Fail unless the value of key a is at most that of key b. */
static int
check_le(const char *path, const struct conf_key *schema, const void *cfg,
    const char *a, const char *b, uint64_t va, uint64_t vb)
{
	struct buf fa = BUF_INIT, fb = BUF_INIT;

	if (va <= vb)
		return 0;
	conf_format(conf_lookup(schema, a), cfg, &fa);
	conf_format(conf_lookup(schema, b), cfg, &fb);
	schema_fail(path, a, b, "'%s' (%s) must not exceed '%s' (%s)", a,
	    (char *)fa.data, b, (char *)fb.data);
	buf_free(&fa);
	buf_free(&fb);
	return -1;
}

int
schema_validate_pdd(const struct pdd_config *c, const char *path)
{
	if (check_url(path, "client-urls", c->client_urls, 0) == -1 ||
	    check_url(path, "advertise-client-urls",
	    c->advertise_client_urls, 1) == -1 ||
	    check_le(path, schema_pdd(), c, "schedule.store-disconnect-time",
	    "schedule.max-store-down-time", c->store_disconnect_time,
	    c->max_store_down_time) == -1)
		return -1;
	return 0;
}

int
schema_validate_tikvd(const struct tikvd_config *c, const char *path)
{
	const struct conf_key *s = schema_tikvd();
	size_t i;

	if (check_url(path, "server.addr", c->addr, 0) == -1 ||
	    check_url(path, "server.advertise-addr", c->advertise_addr,
	    1) == -1 ||
	    check_url(path, "server.status-addr", c->status_addr, 1) == -1)
		return -1;
	for (i = 0; c->pd_endpoints[i]; i++)
		if (check_url(path, "pd.endpoints", c->pd_endpoints[i],
		    0) == -1)
			return -1;
	/* Raft needs followers to wait out several missed heartbeats. */
	if (c->raft_election_timeout_ticks <= c->raft_heartbeat_ticks)
		return schema_fail(path, ELECTION, HEARTBEAT,
		    "'%s' (%lld) must exceed '%s' (%lld)", ELECTION,
		    (long long)c->raft_election_timeout_ticks, HEARTBEAT,
		    (long long)c->raft_heartbeat_ticks);
	if (check_le(path, s, c, "coprocessor.region-split-size",
	    "coprocessor.region-max-size", c->region_split_size,
	    c->region_max_size) == -1 ||
	    check_le(path, s, c, "coprocessor.region-split-keys",
	    "coprocessor.region-max-keys", (uint64_t)c->region_split_keys,
	    (uint64_t)c->region_max_keys) == -1 ||
	    /* An entry travels in one message to a follower. */
	    check_le(path, s, c, "raftstore.raft-entry-max-size",
	    "server.max-message-size", c->raft_entry_max_size,
	    c->max_message_size) == -1 ||
	    check_le(path, s, c, "storage.max-key-size",
	    "raftstore.raft-entry-max-size", c->max_key_size,
	    c->raft_entry_max_size) == -1)
		return -1;
	return 0;
}

/* Defaults, load and validate path as one kind; the config is freed. */
static int
schema_try(const char *path, const char *kind)
{
	struct pdd_config pc;
	struct tikvd_config tc;
	int rc;

	if (strcmp(kind, "pdd") == 0) {
		memset(&pc, 0, sizeof(pc));
		rc = conf_defaults(schema_pdd(), &pc) == -1 ||
		    conf_load(schema_pdd(), &pc, path) == -1 ||
		    schema_validate_pdd(&pc, path) == -1 ? -1 : 0;
		conf_free(schema_pdd(), &pc);
		return rc;
	}
	memset(&tc, 0, sizeof(tc));
	rc = conf_defaults(schema_tikvd(), &tc) == -1 ||
	    conf_load(schema_tikvd(), &tc, path) == -1 ||
	    schema_validate_tikvd(&tc, path) == -1 ? -1 : 0;
	conf_free(schema_tikvd(), &tc);
	return rc;
}

/*
 * How far into path a failure got: its line, or INT_MAX when the file
 * parsed and only a check across keys failed (no line, or past them all).
 */
static int
schema_errline(const char *path, const char *reason)
{
	size_t n = strlen(path);
	char *end;
	long line;

	if (strncmp(reason, path, n) != 0 || reason[n] != ':')
		return 0;
	line = strtol(reason + n + 1, &end, 10);
	if (end == reason + n + 1 || *end != ':')
		return INT_MAX;
	return line > 0 && line < INT_MAX ? (int)line : 0;
}

int
schema_check(const char *path, const char *kind, const char **kind_out)
{
	const char *base = strrchr(path, '/');
	char perr[512];
	int prc, trc, pline, tline;

	base = base ? base + 1 : path;
	if (kind == NULL && strncmp(base, "pd", 2) == 0)
		kind = "pdd";
	else if (kind == NULL && strncmp(base, "tikv", 4) == 0)
		kind = "tikvd";
	if (kind) {
		if (strcmp(kind, "pdd") != 0 && strcmp(kind, "tikvd") != 0) {
			log_setreason("unknown config kind '%s'", kind);
			return -1;
		}
		if (kind_out)
			*kind_out = kind;
		return schema_try(path, kind);
	}
	prc = schema_try(path, "pdd");
	if (prc == -1)
		snprintf(perr, sizeof(perr), "%s", log_reason());
	trc = schema_try(path, "tikvd");
	if (prc == 0 || trc == 0) {
		if (kind_out)
			*kind_out = prc == trc ? "pdd or tikvd" :
			    prc == 0 ? "pdd" : "tikvd";
		return 0;
	}
	pline = schema_errline(path, perr);
	tline = schema_errline(path, log_reason());
	if (kind_out)
		*kind_out = pline > tline ? "pdd" : "tikvd";
	if (pline > tline)
		log_setreason("%s", perr);
	return -1;
}

int
schema_log_level(const char *level)
{
	if (strcmp(level, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	if (strcmp(level, "info") == 0)
		return LOG_LEVEL_INFO;
	return LOG_LEVEL_WARN;
}
