#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "log.h"
#include "net.h"
#include "xmalloc.h"

static void ctx_cb(void *);

enum ctx_state { CTX_RECV, CTX_WAIT, CTX_SEND, CTX_IDLE };

/*
 * A context and its aio.  It receives (CTX_RECV), then belongs to the
 * request until the handler replies (CTX_WAIT), sends (CTX_SEND), and
 * goes back to receiving or to the idle list.  A context that receives a
 * request is replaced by another at once, so ncontexts contexts are
 * always receiving however many requests wait for their replies (a
 * storage daemon's peers must get through while clients wait on them);
 * at most NET_MAX_PENDING requests wait.
 */
struct net_req {
	struct net_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *msg;		/* the request while the handler runs */
	enum ctx_state state;
	struct net_req *next;	/* all contexts */
	struct net_req *next_idle;
};


struct net_server {
	nng_socket sock;
	nng_listener listener;
	pthread_mutex_t mu;
	struct net_req *all;
	struct net_req *idle;
	int receiving;		/* contexts in CTX_RECV */
	int waiting;		/* requests in CTX_WAIT or CTX_SEND */
	int ncontexts;
	int stopped;		/* no new receives or sends */
	int quiesced;		/* net_server_stop is done with the contexts */
	net_handler_fn *fn;
	void *arg;
	char url[256];
};

/* A context that can receive; NULL when none can be made.  Locked. */
static struct net_req *
ctx_get(struct net_server *s)
{
	struct net_req *r = s->idle;

	if (r != NULL) {
		s->idle = r->next_idle;
		return r;
	}
	r = xcalloc(1, sizeof(*r));
	r->srv = s;
	if (nng_aio_alloc(&r->aio, ctx_cb, r) != 0) {
		free(r);
		return NULL;
	}
	if (nng_ctx_open(&r->ctx, s->sock) != 0) {
		nng_aio_free(r->aio);
		free(r);
		return NULL;
	}
	r->next = s->all;
	s->all = r;
	return r;
}

/* Keeps ncontexts contexts receiving.  Locked. */
static void
ctx_refill(struct net_server *s)
{
	struct net_req *r;

	while (!s->stopped && s->receiving < s->ncontexts &&
	    s->receiving + s->waiting < NET_MAX_PENDING &&
	    (r = ctx_get(s)) != NULL) {
		r->state = CTX_RECV;
		s->receiving++;
		nng_ctx_recv(r->ctx, r->aio);
	}
}

static void
server_free(struct net_server *s)
{
	struct net_req *r, *next;

	for (r = s->all; r != NULL; r = next) {
		next = r->next;
		nng_aio_free(r->aio);
		free(r);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/*
 * nng_close with a deadline.  libnng 1.5.2 (Debian 12) can wait forever
 * in nng_close when a reply was being sent on a connection that went away
 * meanwhile: its reaper waits for a pipe's send that never completes.  A
 * daemon stopping must not hang on that, so the close runs on a thread of
 * its own; after NET_CLOSE_WAIT_MS we go on without it, and the socket is
 * left to the exit of the process.
 */
#define NET_CLOSE_WAIT_MS	3000

struct closer {
	nng_socket sock;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int refs;		/* the closing thread and the waiter */
};

static void
closer_unref(struct closer *c)
{
	int last;

	pthread_mutex_lock(&c->mu);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c);
	}
}

static void *
closer_main(void *arg)
{
	struct closer *c = arg;

	nng_close(c->sock);
	pthread_mutex_lock(&c->mu);
	c->done = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	closer_unref(c);
	return NULL;
}

/* 0 when the socket closed in time, -1 when its close was left running. */
static int
close_bounded(nng_socket sock, const char *what)
{
	struct closer *c = xcalloc(1, sizeof(*c));
	struct timespec ts;
	pthread_t t;
	int done;

	c->sock = sock;
	c->refs = 2;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&t, NULL, closer_main, c) != 0) {
		nng_close(sock);
		c->refs = 1;
		closer_unref(c);
		return 0;
	}
	pthread_detach(t);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += NET_CLOSE_WAIT_MS / 1000;
	pthread_mutex_lock(&c->mu);
	while (!c->done)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0)
			break;
	done = c->done;
	pthread_mutex_unlock(&c->mu);
	closer_unref(c);
	if (!done)
		log_warnx("net: closing '%s' did not finish in %d ms; "
		    "going on without it", what, NET_CLOSE_WAIT_MS);
	return done ? 0 : -1;
}

static void
ctx_cb(void *arg)
{
	struct net_req *r = arg;
	struct net_server *s = r->srv;
	int rv;

	switch (r->state) {
	case CTX_RECV:
		if ((rv = nng_aio_result(r->aio)) != 0) {
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
				return;
			/* A broken pipe or oversize message: wait again. */
			pthread_mutex_lock(&s->mu);
			if (!s->stopped)
				nng_ctx_recv(r->ctx, r->aio);
			pthread_mutex_unlock(&s->mu);
			return;
		}
		r->msg = nng_aio_get_msg(r->aio);
		pthread_mutex_lock(&s->mu);
		r->state = CTX_WAIT;
		s->receiving--;
		s->waiting++;
		ctx_refill(s);
		pthread_mutex_unlock(&s->mu);
		s->fn(r, s->arg);
		break;
	case CTX_SEND:
		if (nng_aio_result(r->aio) != 0) {
			nng_msg_free(nng_aio_get_msg(r->aio));
			nng_aio_set_msg(r->aio, NULL);
		}
		pthread_mutex_lock(&s->mu);
		s->waiting--;
		if (!s->stopped && s->receiving < s->ncontexts) {
			r->state = CTX_RECV;
			s->receiving++;
			nng_ctx_recv(r->ctx, r->aio);
		} else {
			r->state = CTX_IDLE;
			r->next_idle = s->idle;
			s->idle = r;
		}
		pthread_mutex_unlock(&s->mu);
		break;
	case CTX_WAIT:
	case CTX_IDLE:
		break;
	}
}

const void *
net_req_data(const struct net_req *r, size_t *len)
{
	*len = nng_msg_len(r->msg);
	return nng_msg_body(r->msg);
}

void
net_req_reply(struct net_req *r, const void *data, size_t len)
{
	struct net_server *s = r->srv;
	nng_msg *m = r->msg;
	int last;

	pthread_mutex_lock(&s->mu);
	if (s->stopped) {
		/* The server is gone: drop the reply; the client times out. */
		nng_msg_free(m);
		r->msg = NULL;
		r->state = CTX_IDLE;
		/* The last reply frees, unless the stop is still at work. */
		last = --s->waiting == 0 && s->quiesced;
		pthread_mutex_unlock(&s->mu);
		if (last)
			server_free(s);
		return;
	}
	/* Reuse the request message: its header holds the request id. */
	nng_msg_clear(m);
	if (nng_msg_append(m, data, len) != 0)
		fatalx("net: cannot build a reply of %zu bytes", len);
	r->msg = NULL;
	r->state = CTX_SEND;
	nng_aio_set_msg(r->aio, m);
	nng_ctx_send(r->ctx, r->aio);
	pthread_mutex_unlock(&s->mu);
}

void
net_req_reply_buf(struct net_req *r, struct buf *b)
{
	net_req_reply(r, b->data, b->len);
}

struct net_server *
net_server_start(const char *url, int ncontexts, size_t maxmsg,
    net_handler_fn *fn, void *arg)
{
	struct net_server *s = xcalloc(1, sizeof(*s));
	int rv;

	s->fn = fn;
	s->arg = arg;
	pthread_mutex_init(&s->mu, NULL);
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		log_setreason("cannot open a socket: %s", nng_strerror(rv));
		server_free(s);
		return NULL;
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, maxmsg);
	if ((rv = nng_listen(s->sock, url, &s->listener, 0)) != 0) {
		log_setreason("cannot listen on '%s': %s", url,
		    nng_strerror(rv));
		nng_close(s->sock);
		server_free(s);
		return NULL;
	}
	strlcpy(s->url, url, sizeof(s->url));
	if (strncmp(url, "tcp://", 6) == 0) {
		int port;

		if (nng_listener_get_int(s->listener, NNG_OPT_TCP_BOUND_PORT,
		    &port) == 0) {
			const char *colon = strrchr(url, ':');
			int hostlen = (int)(colon - url);

			snprintf(s->url, sizeof(s->url), "%.*s:%d", hostlen,
			    url, port);
		}
	}
	s->ncontexts = ncontexts;
	pthread_mutex_lock(&s->mu);
	ctx_refill(s);
	if (s->receiving < ncontexts)
		fatalx("net: cannot set up server contexts");
	pthread_mutex_unlock(&s->mu);
	return s;
}

const char *
net_server_url(const struct net_server *s)
{
	return s->url;
}

void
net_server_stop(struct net_server *s)
{
	struct net_req *r;
	int last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopped = 1;
	pthread_mutex_unlock(&s->mu);
	/*
	 * Outside the lock: a callback being stopped may take it.  Every
	 * aio, whatever its state: stopping one a request holds is harmless,
	 * and reading the state here would race with the callbacks.  A
	 * callback stopped here may still take in a request and reply to it,
	 * so the server may be freed only after this loop.
	 */
	for (r = s->all; r != NULL; r = r->next)
		nng_aio_stop(r->aio);
	close_bounded(s->sock, s->url);
	pthread_mutex_lock(&s->mu);
	s->quiesced = 1;
	last = s->waiting == 0;
	/* Requests still waiting are freed by their replies. */
	pthread_mutex_unlock(&s->mu);
	if (last)
		server_free(s);
}

struct net_client {
	nng_socket sock;
	size_t maxmsg;
	char url[256];
	atomic_int npipes;		/* connections now */
};

/* How long a call waits for a connection before it gives up unsent. */
#define NET_CONNECT_WAIT_MS	500

static void
pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct net_client *c = arg;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&c->npipes, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&c->npipes, 1);
}

struct net_client *
net_client_open(const char *url, size_t maxmsg)
{
	struct net_client *c = xcalloc(1, sizeof(*c));
	int rv;

	if ((rv = nng_req0_open(&c->sock)) != 0) {
		log_setreason("cannot open a socket: %s", nng_strerror(rv));
		free(c);
		return NULL;
	}
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, maxmsg);
	/* Never resend on a timer: a late reply is better than a request
	 * run twice.  The caller decides whether to retry. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 500);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_cb, c);
	if ((rv = nng_dial(c->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		log_setreason("cannot connect to '%s': %s", url,
		    nng_strerror(rv));
		nng_close(c->sock);
		free(c);
		return NULL;
	}
	c->maxmsg = maxmsg;
	strlcpy(c->url, url, sizeof(c->url));
	return c;
}

void
net_client_close(struct net_client *c)
{
	if (c == NULL)
		return;
	close_bounded(c->sock, c->url);
	free(c);
}

/* One aio operation, waited for with our own deadline as well. */
struct call_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static void
call_cb(void *arg)
{
	struct call_wait *w = arg;

	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/*
 * nng's own aio timeout has been seen not to fire (all client threads
 * stuck in nng_aio_wait after a peer vanished), so the wait also has a
 * deadline of its own, a little later, that cancels the operation.
 */
static void
call_wait(struct call_wait *w, nng_aio *aio, int timeout_ms)
{
	struct timespec ts;
	long long ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (long long)ts.tv_nsec + (long long)(timeout_ms + 250) * 1000000LL;
	ts.tv_sec += (time_t)(ns / 1000000000LL);
	ts.tv_nsec = (long)(ns % 1000000000LL);
	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT &&
		    !w->done) {
			pthread_mutex_unlock(&w->mu);
			nng_aio_cancel(aio);
			pthread_mutex_lock(&w->mu);
			while (!w->done)
				pthread_cond_wait(&w->cv, &w->mu);
		}
	}
	w->done = 0;
	pthread_mutex_unlock(&w->mu);
}

int
net_client_call(struct net_client *c, const void *req, size_t len,
    struct buf *reply, int timeout_ms)
{
	struct call_wait w;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *m;
	int rv, waited;

	/*
	 * Without a connection, wait a little for one (the dial runs in the
	 * background); a server that is down fails fast and surely unsent
	 * instead of after the whole timeout.
	 */
	for (waited = 0; atomic_load(&c->npipes) == 0; waited += 5) {
		if (waited >= NET_CONNECT_WAIT_MS || waited >= timeout_ms) {
			log_setreason("cannot connect to '%s'", c->url);
			return NET_NOT_SENT;
		}
		nanosleep(&(struct timespec){ 0, 5 * 1000000L }, NULL);
	}
	if ((rv = nng_ctx_open(&ctx, c->sock)) != 0) {
		log_setreason("'%s': %s", c->url, nng_strerror(rv));
		return -1;
	}
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	w.done = 0;
	if ((rv = nng_aio_alloc(&aio, call_cb, &w)) != 0 ||
	    (rv = nng_msg_alloc(&m, 0)) != 0)
		fatalx("net: %s", nng_strerror(rv));
	if (nng_msg_append(m, req, len) != 0)
		fatalx("net: cannot build a request of %zu bytes", len);
	nng_aio_set_timeout(aio, timeout_ms);
	nng_aio_set_msg(aio, m);
	nng_ctx_send(ctx, aio);
	call_wait(&w, aio, timeout_ms);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(aio));
		goto fail;
	}
	nng_aio_set_timeout(aio, timeout_ms);
	nng_ctx_recv(ctx, aio);
	call_wait(&w, aio, timeout_ms);
	if ((rv = nng_aio_result(aio)) != 0)
		goto fail;
	m = nng_aio_get_msg(aio);
	buf_reset(reply);
	buf_add(reply, nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	rv = 0;
	goto out;
fail:
	log_setreason("no reply from '%s': %s", c->url,
	    rv == NNG_ETIMEDOUT || rv == NNG_ECANCELED ? "timed out" :
	    nng_strerror(rv));
	rv = -1;
out:
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	return rv;
}
