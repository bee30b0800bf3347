/*
 * tikvd, the storage daemon: its modules, its threads, and what they share.
 *
 *	main.c		options, config, data directory, start and stop
 *	service.c	the command table clients and peers speak (service.h)
 *	request.c	replies that complete later, in command order
 *	raftstore.c	the loop thread: every region's Raft group, one WAL
 *			fdatasync per iteration, messages out after it
 *	peer.c		one region's peer: its raft, the WAL as its storage,
 *			proposals and reads waiting for their entries
 *	apply.c		the apply thread: committed entries into the KV engine,
 *			reads at their read index, snapshots, checkpoints
 *	raw.c		the raw API as a state machine: writes and reads
 *	cmdfmt.c	what a Raft log entry carries (struct cmd)
 *	localmeta.c	keys and records of KV_CF_META
 *	snap.c		region snapshots: build, verify, files
 *	transport.c	Raft messages to other stores, batched per store
 *	pdworker.c	PD: joining, bootstrap, heartbeats, split checks
 *
 * Threads: nng's (service handlers, which never block on Raft), the
 * raftstore loop, the apply thread, one sender per peer store, the PD
 * worker.  They talk through queues; a request's reply is written by
 * whichever thread finishes it (request.h).
 *
 * Write path: service parses a command into a struct cmd and hands it to
 * raftstore_propose(); the loop checks the region and leadership, encodes
 * the cmd into a log entry and proposes it; once committed, the apply
 * thread executes it (raw_apply), commits the KV batch with the region's
 * apply state, and completes the reply.  Read path: raftstore_read() asks
 * Raft for a read index (lease or ReadIndex); the apply thread runs the
 * read after every entry up to that index (raw_read).
 */
#ifndef TIKVD_H
#define TIKVD_H

#include <stdint.h>

struct tikvd_config;
struct kv;
struct wal;
struct pdclient;
struct raftstore;
struct apply;
struct transport;
struct pdworker;
struct net_server;

/* Every daemon-wide handle; filled by main before threads start. */
struct store {
	const struct tikvd_config *cfg;
	const char *data_dir;
	const char *addr;		/* advertised URL for peers and clients */
	uint64_t store_id;		/* from PD, persisted in KV_CF_META */
	struct kv *kv;
	struct wal *wal;
	struct pdclient *pd;
	struct raftstore *rs;
	struct apply *ap;
	struct transport *tr;
	struct pdworker *pw;
	struct net_server *srv;
};

/*
 * A region created by bootstrap or split starts with a log compacted at
 * (TIKVD_INIT_INDEX, TIKVD_INIT_TERM), as TiKV's does: a peer created by a
 * message (no data yet) has an empty log, so its leader always sends it a
 * snapshot first.
 */
#define TIKVD_INIT_INDEX	5
#define TIKVD_INIT_TERM		5

/* Wall-clock milliseconds (TTL). */
uint64_t tikvd_now_ms(void);

#endif
