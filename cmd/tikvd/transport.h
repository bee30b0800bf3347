/*
 * Raft messages between stores.
 *
 * Outbound: the raftstore queues messages with transport_send() during a
 * loop iteration and calls transport_flush() after its WAL sync.  Each
 * destination store has a sender thread with an nng client to that
 * store's server: it takes everything queued for the store and sends it
 * as one RAFT command (man/tikv-protocol.7), waits for the reply, and
 * goes again; messages queued meanwhile ride the next call.  The queue of
 * a store is bounded (bytes); over it, messages are dropped and reported
 * unreachable: Raft resends.  A failed call reports every message in it
 * with raftstore_report_unreachable(), and a SNAPSHOT message with
 * raftstore_report_snapshot(failed); a delivered SNAPSHOT reports
 * success.  A message larger than the chunk size (a snapshot) is sent as
 * RAFT_CHUNK commands that the receiver joins before delivering it.
 *
 * Store addresses come from PD (GET_STORE) and are cached; a failed call
 * looks the address up again.
 *
 * Inbound: service's RAFT and RAFT_CHUNK commands hand their payload to
 * transport_receive(), which decodes each envelope and passes the message
 * to raftstore_deliver().
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "raft.h"
#include "region.h"

struct store;
struct transport;

/*
 * A Raft message with its envelope: which region, which peers on which
 * stores, and the sender's view of the region (epoch and range, so a
 * store can tell a stale sender and create a peer for a new region only
 * where no other region overlaps).
 */
struct peer_msg {
	uint64_t region_id;
	uint64_t from_peer;
	uint64_t from_store;
	uint64_t to_peer;
	uint64_t to_store;
	struct region_epoch epoch;
	struct buf start;
	struct buf end;
	struct raft_msg msg;	/* decoded; pointers into raw */
	struct buf raw;		/* owns the bytes msg points into */
};

void peer_msg_init(struct peer_msg *);
/* Frees the decoded message and the buffers (not pm itself). */
void peer_msg_free(struct peer_msg *);

/*
 * The envelope on the wire (peermsg.c): a version byte; varints region
 * id, from store, to store, conf_ver and version; the range's start and
 * end, each a varint length and the bytes; then the raftwire encoding of
 * m, a varint length and the bytes.  The peers are m->from and m->to.
 * A RAFT payload is one or more envelopes back to back.  region may be
 * NULL (a peer that has no range yet): epoch 0, empty range.
 */
void peer_msg_encode(struct buf *, uint64_t region_id, uint64_t from_store,
    uint64_t to_store, const struct region *, const struct raft_msg *m);
/*
 * Decodes the envelope at *p and advances *p past it.  pm need not be
 * initialized; release it with peer_msg_free().  -1 with log_reason() on
 * malformed input (pm is then left empty), never reading past end.
 */
int peer_msg_decode(const uint8_t **p, const uint8_t *end,
    struct peer_msg *pm);

struct transport *transport_new(struct store *);
/* Stops the sender threads; queued messages are dropped. */
void transport_free(struct transport *);

/*
 * Queues a copy of m (with its envelope) for to_store.  Never blocks.
 * The caller keeps ownership of everything it passed.
 */
void transport_send(struct transport *, uint64_t region_id,
    uint64_t from_store, uint64_t to_store, const struct region *,
    const struct raft_msg *m);
/* Wakes the senders: the end of a raftstore iteration. */
void transport_flush(struct transport *);

/*
 * Decodes a RAFT payload (one or more envelopes) and delivers each
 * message.  RAFT_CHUNK parts are joined first (transport_receive_chunk).
 * -1 with log_reason() on a malformed payload: nothing is delivered.
 */
int transport_receive(struct transport *, const uint8_t *, size_t);
int transport_receive_chunk(struct transport *, uint64_t id, uint64_t seq,
    uint64_t total, const uint8_t *, size_t);

/* The cached address of a store into out ("" when unknown).  Never
 * blocks; an unknown store is looked up in the background. */
void transport_store_addr(struct transport *, uint64_t store_id,
    struct buf *out);

#endif
