/*
 * Replies that complete later, in command order.
 *
 * One request message holds many commands; proto_dispatch() runs them in
 * order and appends each synchronous reply to req->reply at once.  A
 * command that finishes later (a write waits for its entry to apply, a
 * read for its read index) takes a slot with request_defer(): the slot
 * remembers where in the reply its line belongs.  Whoever finishes the
 * command, on any thread, calls slot_done() exactly once.  The message's
 * reply is sent when dispatch is over and every slot is done.
 *
 *	struct request *req = request_new(nreq);
 *	proto_dispatch(table, req, msg, len, &req->reply);
 *	request_dispatched(req);	// may send the reply now
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>

#include "buf.h"

struct net_req;
struct slot;

struct request {
	struct buf reply;	/* synchronous replies, appended by dispatch */
	/* the rest is private to request.c */
	struct net_req *nreq;
	struct slot *slots;	/* in reply order */
	struct slot *last;
	int pending;		/* slots not done, plus 1 until dispatched */
	void *mu;
};

struct request *request_new(struct net_req *);
/* Takes a slot for the reply line of the command being dispatched. */
struct slot *request_defer(struct request *);
/* Dispatch is over: the reply goes once every slot is done. */
void request_dispatched(struct request *);

/*
 * Completes a slot with its reply line(s), which must end with LF.  The
 * buffer is copied.  Any thread; exactly once per slot.  A NULL slot
 * (a command nobody waits for, such as an automatic split) is ignored.
 */
void slot_done(struct slot *, const struct buf *);
/* The same for a reply built with proto_reply_error(). */
void slot_error(struct slot *, int word, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
