/*
 * The raw KV client: tikvd's raw commands (cmd/tikvd/service.h) as C
 * calls over the whole cluster.
 *
 * It routes each key to the region holding it through a cache of regions
 * and their leaders (regioncache.h) filled from PD, and sends the command
 * to the leader's store, naming the region as REGION_ID:CONF_VER:VERSION.
 * On a region error it fixes the cache and retries: NOT_LEADER moves to
 * the leader it names (or, when the store does not know one, to the next
 * peer), EPOCH_NOT_MATCH takes the store's newer region, KEY_NOT_IN_REGION
 * and REGION_NOT_FOUND drop the region so PD is asked again,
 * SERVER_IS_BUSY and STALE_COMMAND wait.  Retries back off exponentially
 * from 2 ms up to 500 ms and stop when the call has made no progress for
 * the timeout given to client_open (default 10 s).
 *
 * Batches are split by region: each region's share goes out as one
 * message of many command lines.  Scans, delete-range and checksum walk
 * the regions of their range in key order (scans also in reverse).
 *
 * A write that fails in transit (no reply: the connection broke or the
 * call timed out) may or may not have happened, and may still happen
 * later, after other clients' writes: it is not sent again, and returns
 * CLIENT_UNKNOWN (put, delete, the batch writes, delete-range, CAS, a
 * split).  A CAS that meets STALE_COMMAND returns CLIENT_UNKNOWN too.
 * Region errors are definite refusals, and those are retried.  (The transport below, nng 1.5's req0, may
 * itself send a request again on a new connection when the one it went
 * out on breaks; the client cannot prevent that.)
 *
 * A batch write or delete-range that fails (-1) may have been applied
 * to some regions and not to others.
 *
 * Every call returns -1 with log_reason() on failure.  Any number of
 * threads may share one client.
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "region.h"

/* The write may or may not have taken effect; never retried. */
#define CLIENT_UNKNOWN		(-2)

#define CLIENT_DEFAULT_TIMEOUT_MS	10000

/* Scan flags. */
#define CLIENT_KEY_ONLY		0x01	/* values are left empty */
#define CLIENT_REVERSE		0x02	/* from end down to start */

struct client;
struct pdclient;

/* timeout_ms 0: CLIENT_DEFAULT_TIMEOUT_MS.  NULL with log_reason(). */
struct client *client_open(char *const *pd_endpoints, size_t n,
    int timeout_ms);
void client_close(struct client *);
/* The client's PD connection, for metadata calls (pdclient.h). */
struct pdclient *client_pd(struct client *);

/* 1 found (value filled), 0 not found, -1 error. */
int client_get(struct client *, const void *key, size_t keylen,
    struct buf *value);
/* found[i] and values[i] for keys[i]; 0 or -1. */
int client_batch_get(struct client *, const struct bytes *keys, size_t n,
    int *found, struct buf *values);
/* ttl in seconds, 0 for none. */
int client_put(struct client *, const void *key, size_t keylen,
    const void *value, size_t valuelen, uint64_t ttl);
int client_batch_put(struct client *, const struct bytes *keys,
    const struct bytes *values, size_t n, uint64_t ttl);
int client_delete(struct client *, const void *key, size_t keylen);
int client_batch_delete(struct client *, const struct bytes *keys,
    size_t n);

struct client_pair {
	struct buf key;
	struct buf value;
};

/*
 * The pairs of [start, end) (empty end: to the end of the key space) in
 * key order, or from the end down with CLIENT_REVERSE, at most limit of
 * them (0: no limit).  *out is malloc'ed: client_pairs_free.
 */
int client_scan(struct client *, const void *start, size_t startlen,
    const void *end, size_t endlen, size_t limit, int flags,
    struct client_pair **out, size_t *n);
void client_pairs_free(struct client_pair *, size_t n);

/* Deletes every key of [start, end) (empty end: to the end). */
int client_delete_range(struct client *, const void *start,
    size_t startlen, const void *end, size_t endlen);

/*
 * Compare-and-swap on one key: if the key is absent (expect_absent) or
 * holds expect, put value with ttl (or delete the key, del).  *swapped
 * says whether it did; *prev_found and prev (if not NULL) give the value
 * the key held before.  0, -1, or CLIENT_UNKNOWN.
 */
struct client_cas {
	int expect_absent;
	struct bytes expect;
	int del;
	struct bytes value;
	uint64_t ttl;
};

int client_cas(struct client *, const void *key, size_t keylen,
    const struct client_cas *, int *swapped, int *prev_found,
    struct buf *prev);

/* 1 found (*ttl: seconds left, 0 for no TTL), 0 not found, -1 error. */
int client_get_ttl(struct client *, const void *key, size_t keylen,
    uint64_t *ttl);

/*
 * Over [start, end), combined across regions: counts and bytes add, the
 * checksums XOR (tikvd's RAW_CHECKSUM).
 */
struct client_checksum {
	uint64_t count;
	uint64_t bytes;
	uint64_t checksum;
};

int client_checksum(struct client *, const void *start, size_t startlen,
    const void *end, size_t endlen, struct client_checksum *);

/*
 * A command for the leader of the region holding route_key, for callers
 * that speak tikvd's protocol themselves (the transaction client,
 * txn.h): sends "cmd CTX rest" (CTX: the region's REGION_ID:CONF_VER:
 * VERSION token) and returns the status word of the reply's first line,
 * key errors such as LOCKED included, with reply holding the whole reply
 * message and *region (region_init'ed; may be NULL) the region it ran in.
 * Region errors are handled and retried as for the raw calls, unless
 * flags has CLIENT_CALL_REGION_ERRORS: then the cache is fixed and
 * CLIENT_REGION_ERROR returned, for a caller that grouped keys by region
 * and must group them again.  With CLIENT_CALL_UNSAFE a lost reply gives
 * CLIENT_UNKNOWN; without, the message is sent again (the command must be
 * idempotent).  Every status word is returned, CLIENT_ERROR and
 * SERVER_ERROR included (log_reason() then holds the reply line); -1 on
 * timeout, a malformed reply or a reply that is not a status word, with
 * log_reason().  The message is the one line given: a caller with many
 * keys splits them into lines of its own.
 */
#define CLIENT_REGION_ERROR		(-3)
#define CLIENT_CALL_UNSAFE		0x01
#define CLIENT_CALL_REGION_ERRORS	0x02

int client_call(struct client *, const char *cmd, const void *route_key,
    size_t keylen, const struct buf *rest, int flags, struct buf *reply,
    struct region *region);

/* The region holding key (region_init'ed), from the cache or PD. */
int client_locate(struct client *, const void *key, size_t keylen,
    struct region *region);

/* The timeout given to client_open, for callers that wait on their own. */
int client_timeout_ms(const struct client *);

/*
 * Admin: split the region holding key at key (SPLIT_REGION to its
 * leader); left and right (region_init'ed, may be NULL) get the two
 * regions.  0, -1, or CLIENT_UNKNOWN.
 */
int client_split_region(struct client *, const void *key, size_t keylen,
    struct region *left, struct region *right);
/* Admin: make the region's peer on store_id its leader. */
int client_transfer_leader(struct client *, uint64_t region_id,
    uint64_t store_id);

#endif
