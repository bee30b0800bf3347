/*
 * Networking: the only module that includes nng.
 *
 * A server is a rep0 socket listening on an nng URL ("tcp://127.0.0.1:2379",
 * "ipc:///tmp/pd.sock") with N contexts receiving request messages
 * asynchronously and handing each to the handler (nng's async demo shape).
 * The handler replies exactly once with net_req_reply(), at once or later
 * from any thread.  A request waiting for its reply keeps a context of its
 * own, and another context takes its place at receiving, so N contexts
 * are always receiving: requests that wait (a write waiting for Raft)
 * never keep out the requests that would let them finish (the Raft
 * messages of other stores).  At most NET_MAX_PENDING requests wait.
 *
 * A client is a req0 socket dialled in the background: it reconnects by
 * itself, and each net_client_call() waits for one reply up to a timeout.
 * Calls from many threads on one client run concurrently.
 *
 * Messages larger than the maximum size are refused by the receiver, which
 * closes the connection.
 */
#ifndef NET_H
#define NET_H

#include <stddef.h>

#include "buf.h"

#define NET_DEFAULT_MAXMSG	(16u * 1024 * 1024)
#define NET_MAX_PENDING		65536

struct net_server;
struct net_req;
struct net_client;

typedef void net_handler_fn(struct net_req *, void *arg);

struct net_server *net_server_start(const char *url, int ncontexts,
    size_t maxmsg, net_handler_fn *fn, void *arg);
/* The URL actually bound (with the port chosen for "tcp://host:0"). */
const char *net_server_url(const struct net_server *);
/* Stops receiving; waits for handlers running now.  Requests still
 * waiting are dropped (their clients time out): replying to one after the
 * stop only frees it.  The server is gone once the last one is replied
 * to.  Closing the socket waits at most a few seconds (libnng 1.5.2 can
 * hang there); net_client_close does the same. */
void net_server_stop(struct net_server *);

const void *net_req_data(const struct net_req *, size_t *len);
/* Sends the reply and frees the request.  Call exactly once. */
void net_req_reply(struct net_req *, const void *data, size_t len);
void net_req_reply_buf(struct net_req *, struct buf *);

struct net_client *net_client_open(const char *url, size_t maxmsg);
void net_client_close(struct net_client *);
/*
 * One request and its reply.  -1 with log_reason() on timeout or error:
 * the server may or may not have seen the request.  NET_NOT_SENT when
 * no connection to the server came up within half a second (or the
 * timeout, if shorter): the request never left, so it is safe to send
 * again, even if not idempotent.
 */
#define NET_NOT_SENT	(-2)
int net_client_call(struct net_client *, const void *req, size_t len,
    struct buf *reply, int timeout_ms);

#endif
