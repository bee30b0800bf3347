/*
 * A client of pdd(8): the commands of its protocol as C calls.
 *
 * It holds one net client per PD endpoint and sends each call to the
 * endpoint that answered last, trying the others in turn when that one
 * fails (a connection error or timeout; an error reply is an answer).
 * Calls from many threads may run at once.
 *
 * Every call returns 0 on success and -1 with log_reason() on failure:
 * PD unreachable, or its error reply (the reply line is the reason).
 * errno then tells which: ETIMEDOUT when no endpoint answered (worth a
 * retry), ENOENT when PD answered NOT_FOUND (an unknown store or region),
 * EPROTO for any other error reply or a reply that makes no sense, and
 * ERANGE from pdclient_ask_split when PD's copy of the region has fewer
 * peers than asked for.
 *
 * Endpoints are nng URLs; "host:port" is taken as "tcp://host:port".
 * timeout_ms bounds each try of each endpoint (0: 3 seconds).
 */
#ifndef PDCLIENT_H
#define PDCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "region.h"

struct pdclient;

struct pdclient *pdclient_open(char *const *endpoints, size_t n,
    int timeout_ms);
void pdclient_close(struct pdclient *);

/* The URL of the endpoint the next call goes to first (the one that
 * answered last), for messages. */
const char *pdclient_endpoint(struct pdclient *);

/* Sends one request message (lines) and returns the reply message. */
int pdclient_call(struct pdclient *, const void *req, size_t len,
    struct buf *reply);

int pdclient_tso(struct pdclient *, uint32_t count, uint64_t *first);
int pdclient_alloc_id(struct pdclient *, uint64_t *id);
/* count consecutive ids: first .. first + count - 1. */
int pdclient_alloc_ids(struct pdclient *, uint64_t count, uint64_t *first);
int pdclient_is_bootstrapped(struct pdclient *, int *yes);
/* -1 with reason when already bootstrapped (by another store). */
int pdclient_bootstrap(struct pdclient *, uint64_t store_id,
    const char *addr, const struct region *);

struct pd_store {
	uint64_t id;
	char addr[256];
	char state[16];			/* up, disconnected, down */
	uint64_t region_count;
	uint64_t leader_count;
	uint64_t capacity;
	uint64_t available;
	uint64_t last_heartbeat_ms;
};

int pdclient_put_store(struct pdclient *, uint64_t id, const char *addr);
int pdclient_get_store(struct pdclient *, uint64_t id, struct pd_store *);
/* *out is malloc'ed; free() it. */
int pdclient_list_stores(struct pdclient *, struct pd_store **out,
    size_t *n);
int pdclient_store_heartbeat(struct pdclient *, uint64_t id,
    uint64_t capacity, uint64_t available, uint64_t region_count,
    uint64_t leader_count);

enum pd_op_type {
	PD_OP_NONE,
	PD_OP_ADD_LEARNER,		/* peer_id on store_id */
	PD_OP_PROMOTE_LEARNER,		/* peer_id */
	PD_OP_REMOVE_PEER,		/* peer_id */
	PD_OP_TRANSFER_LEADER		/* to peer_id */
};

struct pd_operator {
	int type;			/* enum pd_op_type */
	uint64_t peer_id;
	uint64_t store_id;
};

/*
 * Reports a region from its leader.  On success *op is the operator PD
 * wants run (PD_OP_NONE for none).  When PD knows a newer epoch it
 * answers EPOCH_NOT_MATCH: -1, *stale = 1 and newer (if not NULL) gets
 * PD's region.
 */
int pdclient_region_heartbeat(struct pdclient *, const struct region *,
    uint64_t leader_peer_id, uint64_t approx_size, uint64_t approx_keys,
    const uint64_t *pending, size_t npending, struct pd_operator *op,
    int *stale, struct region *newer);

/* A region with its leader peer (0: unknown). */
struct pd_region {
	struct region region;
	uint64_t leader_peer_id;
};

/* region must be region_init'ed; 0 on success, -1 on error. */
int pdclient_get_region(struct pdclient *, const void *key, size_t len,
    struct pd_region *);
int pdclient_get_region_by_id(struct pdclient *, uint64_t id,
    struct pd_region *);
/* Regions overlapping [start, end) (empty end: to the end), at most
 * limit (0: PD's default); *out malloc'ed: pdclient_regions_free. */
int pdclient_scan_regions(struct pdclient *, const void *start,
    size_t startlen, const void *end, size_t endlen, size_t limit,
    struct pd_region **out, size_t *n);
void pdclient_regions_free(struct pd_region *, size_t n);

/* New region id and npeers peer ids for splitting region_id. */
int pdclient_ask_split(struct pdclient *, uint64_t region_id,
    uint64_t *new_region_id, uint64_t *peer_ids, size_t npeers);
int pdclient_report_split(struct pdclient *, const struct region *left,
    const struct region *right);

#endif
