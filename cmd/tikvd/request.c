/*
 * Replies that complete later, in command order (request.h).
 *
 * The synchronous replies accumulate in req->reply; each slot records the
 * offset in it where its line belongs.  When the last slot is done (or
 * dispatch ends with none pending) the pieces are stitched together in
 * order and sent.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>

#include "net.h"
#include "proto.h"
#include "request.h"
#include "xmalloc.h"

struct slot {
	struct request *req;
	size_t offset;		/* where in req->reply the line goes */
	struct buf line;
	struct slot *next;
};

struct request *
request_new(struct net_req *nreq)
{
	struct request *req = xcalloc(1, sizeof(*req));
	pthread_mutex_t *mu = xmalloc(sizeof(*mu));

	pthread_mutex_init(mu, NULL);
	req->mu = mu;
	req->nreq = nreq;
	req->pending = 1;
	return req;
}

struct slot *
request_defer(struct request *req)
{
	struct slot *s = xcalloc(1, sizeof(*s));

	s->req = req;
	s->offset = req->reply.len;
	pthread_mutex_lock(req->mu);
	req->pending++;
	if (req->last != NULL)
		req->last->next = s;
	else
		req->slots = s;
	req->last = s;
	pthread_mutex_unlock(req->mu);
	return s;
}

static void
request_send(struct request *req)
{
	struct buf out = BUF_INIT;
	struct slot *s, *next;
	size_t at = 0;

	for (s = req->slots; s != NULL; s = next) {
		next = s->next;
		buf_add(&out, req->reply.data + at, s->offset - at);
		buf_add(&out, s->line.data, s->line.len);
		at = s->offset;
		buf_free(&s->line);
		free(s);
	}
	buf_add(&out, req->reply.data + at, req->reply.len - at);
	if (req->nreq != NULL)
		net_req_reply(req->nreq, out.data, out.len);
	buf_free(&out);
	buf_free(&req->reply);
	pthread_mutex_destroy(req->mu);
	free(req->mu);
	free(req);
}

/* Drops one reference; the last one sends the reply. */
static void
request_unref(struct request *req)
{
	int last;

	pthread_mutex_lock(req->mu);
	last = --req->pending == 0;
	pthread_mutex_unlock(req->mu);
	if (last)
		request_send(req);
}

void
request_dispatched(struct request *req)
{
	request_unref(req);
}

void
slot_done(struct slot *s, const struct buf *line)
{
	if (s == NULL)
		return;
	buf_add(&s->line, line->data, line->len);
	request_unref(s->req);
}

void
slot_error(struct slot *s, int word, const char *fmt, ...)
{
	struct buf text = BUF_INIT, line = BUF_INIT;
	va_list ap;

	if (s == NULL)
		return;
	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	proto_reply_error(&line, word, "%s", (const char *)text.data);
	slot_done(s, &line);
	buf_free(&text);
	buf_free(&line);
}
