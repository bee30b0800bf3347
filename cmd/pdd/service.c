/* The command table of pdd: every command it serves, and its handler. */
#include "log.h"
#include "pdd.h"
#include "version.h"

static void
cmd_ping(struct proto_call *c)
{
	proto_reply_ok(c->reply);
}

static void
cmd_version(struct proto_call *c)
{
	buf_addstr(c->reply, "OK");
	proto_add_str(c->reply, "pdd");
	proto_add_str(c->reply, TIKV_VERSION);
	proto_end_line(c->reply);
}

static void
reply_range(struct proto_call *c, uint64_t first, uint64_t n)
{
	buf_addstr(c->reply, "OK");
	proto_add_u64(c->reply, first);
	proto_add_u64(c->reply, n);
	proto_end_line(c->reply);
}

static void
cmd_tso(struct proto_call *c)
{
	struct pdd *pd = c->ctx;
	uint64_t n = 1, first;

	if (c->argc == 1 && proto_arg_u64(c, 0, 1, TSO_MAX_COUNT, &n) == -1)
		return;
	if (tso_get(&pd->tso, (uint32_t)n, &first) == -1) {
		proto_reply_error(c->reply, PROTO_SERVER_ERROR, "%s",
		    log_reason());
		return;
	}
	reply_range(c, first, n);
}

static void
cmd_alloc_id(struct proto_call *c)
{
	struct pdd *pd = c->ctx;
	uint64_t n = 1, first;

	if (c->argc == 1 && proto_arg_u64(c, 0, 1, 1000000, &n) == -1)
		return;
	if (idalloc_get(&pd->ids, n, &first) == -1) {
		proto_reply_error(c->reply, PROTO_SERVER_ERROR, "%s",
		    log_reason());
		return;
	}
	reply_range(c, first, n);
}

const struct proto_cmd pdd_commands[] = {
	{ "ALLOC_ID", 0, 1, "ALLOC_ID [count]",
	    "allocate count unique ids; reply OK first count", cmd_alloc_id },
	{ "HELP", 0, 1, "HELP [command]",
	    "list the commands, or describe one", proto_cmd_help },
	{ "PING", 0, 0, "PING", "check that the server answers", cmd_ping },
	{ "TSO", 0, 1, "TSO [count]",
	    "allocate count timestamps; reply OK first count", cmd_tso },
	{ "VERSION", 0, 0, "VERSION", "reply OK pdd version", cmd_version },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
