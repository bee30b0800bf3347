/*
 * The cluster metadata of pdd: bootstrap, stores, regions, routing and the
 * replica checker (pdd(8), tikv-protocol(7)).
 *
 * The state lives in memory behind one mutex and in a KV engine in the
 * "meta" subdirectory of the data directory.  Every change is committed
 * and checkpointed before its reply is sent, so acknowledged metadata
 * survives a crash.  Heartbeat figures (sizes, capacities, pending peers)
 * are kept in memory only.
 */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stdint.h>

#include "pdd.h"
#include "proto.h"

struct cluster_options {
	uint64_t max_replicas;
	uint64_t disconnect_ms;	/* no heartbeat this long: disconnected */
	uint64_t down_ms;	/* no heartbeat this long: down */
};

/* Opens (creating) datadir/meta and loads it; NULL with log_reason(). */
struct cluster *cluster_open(const char *datadir, struct idalloc *,
    const struct cluster_options *);
void cluster_close(struct cluster *);

/* Command handlers; the context is the struct pdd. */
void cluster_cmd_ask_split(struct proto_call *);
void cluster_cmd_bootstrap(struct proto_call *);
void cluster_cmd_get_region(struct proto_call *);
void cluster_cmd_get_region_by_id(struct proto_call *);
void cluster_cmd_get_store(struct proto_call *);
void cluster_cmd_is_bootstrapped(struct proto_call *);
void cluster_cmd_list_stores(struct proto_call *);
void cluster_cmd_put_store(struct proto_call *);
void cluster_cmd_region_heartbeat(struct proto_call *);
void cluster_cmd_report_split(struct proto_call *);
void cluster_cmd_scan_regions(struct proto_call *);
void cluster_cmd_store_heartbeat(struct proto_call *);

#endif
