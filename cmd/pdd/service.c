/* The command table of pdd: every command it serves, and its handler. */
#include "cluster.h"
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

#define REGION_ARGS	"id start end conf_ver version peers"

const struct proto_cmd pdd_commands[] = {
	{ "ALLOC_ID", 0, 1, "ALLOC_ID [count]",
	    "allocate count unique ids; reply OK first count", cmd_alloc_id },
	{ "ASK_SPLIT", 1, 1, "ASK_SPLIT region_id",
	    "ids for splitting a region; reply OK new_region_id peer_id...",
	    cluster_cmd_ask_split },
	{ "BOOTSTRAP", 8, 8, "BOOTSTRAP store_id store_addr " REGION_ARGS,
	    "create the cluster with its first store and region",
	    cluster_cmd_bootstrap },
	{ "GET_REGION", 1, 1, "GET_REGION key",
	    "the region holding key; reply OK region leader_peer_id",
	    cluster_cmd_get_region },
	{ "GET_REGION_BY_ID", 1, 1, "GET_REGION_BY_ID region_id",
	    "a region by id; reply OK region leader_peer_id",
	    cluster_cmd_get_region_by_id },
	{ "GET_STORE", 1, 1, "GET_STORE store_id",
	    "reply OK id addr state region_count leader_count capacity "
	    "available last_heartbeat_ms", cluster_cmd_get_store },
	{ "HELP", 0, 1, "HELP [command]",
	    "list the commands, or describe one", proto_cmd_help },
	{ "IS_BOOTSTRAPPED", 0, 0, "IS_BOOTSTRAPPED",
	    "reply OK 1 if the cluster is bootstrapped, else OK 0",
	    cluster_cmd_is_bootstrapped },
	{ "LIST_STORES", 0, 0, "LIST_STORES",
	    "every store as in GET_STORE, one VALUE line each, then END",
	    cluster_cmd_list_stores },
	{ "PING", 0, 0, "PING", "check that the server answers", cmd_ping },
	{ "PUT_STORE", 2, 2, "PUT_STORE store_id addr",
	    "register a store or change its address", cluster_cmd_put_store },
	{ "REGION_HEARTBEAT", 10, 10, "REGION_HEARTBEAT " REGION_ARGS
	    " leader_peer_id approximate_size approximate_keys pending_peers",
	    "report a region from its leader; reply OK [operator]",
	    cluster_cmd_region_heartbeat },
	{ "REPORT_SPLIT", 12, 12, "REPORT_SPLIT left_region right_region",
	    "report both sides of a split, six tokens each",
	    cluster_cmd_report_split },
	{ "SCAN_REGIONS", 2, 3, "SCAN_REGIONS start end [limit]",
	    "regions overlapping [start, end) in key order, VALUE lines "
	    "then END", cluster_cmd_scan_regions },
	{ "STORE_HEARTBEAT", 5, 5, "STORE_HEARTBEAT store_id capacity "
	    "available region_count leader_count",
	    "report a store's figures", cluster_cmd_store_heartbeat },
	{ "TSO", 0, 1, "TSO [count]",
	    "allocate count timestamps; reply OK first count", cmd_tso },
	{ "VERSION", 0, 0, "VERSION", "reply OK pdd version", cmd_version },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
