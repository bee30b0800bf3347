/*
 * The nng wrapper over loopback: replies at once and from other threads,
 * oversized messages, calls to nobody, and a server stopped while clients
 * hammer it and replies are still on their way (the race that freed the
 * server twice; AddressSanitizer in make check turns it into a failure).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "tap.h"

/*
 * The handler echoes "now ..." at once and hands "later ..." to the
 * replier thread, which answers after a short while, as tikvd answers
 * writes once Raft commits them.
 */
struct later {
	struct net_req *req;
	struct later *next;
};

static pthread_mutex_t later_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t later_cv = PTHREAD_COND_INITIALIZER;
static struct later *later_head;
static int later_quit;
static atomic_int handled;

static void
handler(struct net_req *req, void *arg)
{
	const char *data;
	size_t len;
	struct later *l;

	(void)arg;
	atomic_fetch_add(&handled, 1);
	data = net_req_data(req, &len);
	if (len >= 5 && memcmp(data, "later", 5) == 0) {
		l = calloc(1, sizeof(*l));
		l->req = req;
		pthread_mutex_lock(&later_mu);
		l->next = later_head;
		later_head = l;
		pthread_cond_signal(&later_cv);
		pthread_mutex_unlock(&later_mu);
		return;
	}
	net_req_reply(req, data, len);
}

static void *
replier_main(void *arg)
{
	struct later *l;

	(void)arg;
	pthread_mutex_lock(&later_mu);
	for (;;) {
		while (later_head == NULL && !later_quit)
			pthread_cond_wait(&later_cv, &later_mu);
		if (later_head == NULL)
			break;
		l = later_head;
		later_head = l->next;
		pthread_mutex_unlock(&later_mu);
		clock_sleep_ms(1);
		net_req_reply(l->req, "late", 4);
		free(l);
		pthread_mutex_lock(&later_mu);
	}
	pthread_mutex_unlock(&later_mu);
	return NULL;
}

struct hammer {
	const char *url;
	atomic_int *stop;
	int calls;
};

static void *
hammer_main(void *arg)
{
	struct hammer *h = arg;
	struct net_client *c = net_client_open(h->url, NET_DEFAULT_MAXMSG);
	struct buf reply = BUF_INIT;
	char msg[32];
	int i = 0;

	while (c != NULL && !atomic_load(h->stop)) {
		snprintf(msg, sizeof(msg), "%s %d", i % 2 ? "later" : "now", i);
		if (net_client_call(c, msg, strlen(msg), &reply, 200) == 0)
			h->calls++;
		i++;
	}
	buf_free(&reply);
	net_client_close(c);
	return NULL;
}

static void
test_echo(void)
{
	struct net_server *s;
	struct net_client *c;
	struct buf reply = BUF_INIT;
	char big[4096];
	int rv;

	s = net_server_start("tcp://127.0.0.1:0", 2, 1024, handler, NULL);
	ok(s != NULL, "a server starts on a port of its choice");
	if (s == NULL)
		return;
	ok(strncmp(net_server_url(s), "tcp://127.0.0.1:", 16) == 0 &&
	    strcmp(net_server_url(s), "tcp://127.0.0.1:0") != 0,
	    "its URL names the bound port: %s", net_server_url(s));
	c = net_client_open(net_server_url(s), NET_DEFAULT_MAXMSG);
	ok(c != NULL, "a client opens");
	rv = net_client_call(c, "now hello", 9, &reply, 2000);
	is_int(rv, 0, "a call replied at once succeeds");
	is_mem(reply.data, reply.len, "now hello", 9, "with the echo");
	rv = net_client_call(c, "later", 5, &reply, 2000);
	is_int(rv, 0, "a call replied from another thread succeeds");
	is_mem(reply.data, reply.len, "late", 4, "with that thread's reply");
	memset(big, 'x', sizeof(big));
	rv = net_client_call(c, big, sizeof(big), &reply, 300);
	ok(rv != 0, "a message over the server's maximum gets no reply");
	rv = net_client_call(c, "now again", 9, &reply, 2000);
	is_int(rv, 0, "the client gets through again afterwards");
	net_client_close(c);
	net_server_stop(s);
	buf_free(&reply);
}

static void
test_nobody(void)
{
	struct net_client *c;
	struct buf reply = BUF_INIT;
	uint64_t t0 = clock_mono_ms();
	int rv;

	/* Port 1 on loopback: nothing listens there. */
	c = net_client_open("tcp://127.0.0.1:1", NET_DEFAULT_MAXMSG);
	ok(c != NULL, "a client opens with no server behind it");
	rv = net_client_call(c, "now", 3, &reply, 2000);
	is_int(rv, NET_NOT_SENT, "a call to nobody is NET_NOT_SENT");
	ok(clock_mono_ms() - t0 < 1900,
	    "and gives up before its timeout (%llu ms)",
	    (unsigned long long)(clock_mono_ms() - t0));
	net_client_close(c);
	buf_free(&reply);
}

#define ROUNDS	20
#define HAMMERS	4

static void
test_stop_under_load(void)
{
	struct hammer h[HAMMERS];
	pthread_t th[HAMMERS];
	struct net_server *s;
	atomic_int stop;
	char url[256];
	int round, i, calls = 0, started = 0;

	for (round = 0; round < ROUNDS; round++) {
		s = net_server_start("tcp://127.0.0.1:0", 2,
		    NET_DEFAULT_MAXMSG, handler, NULL);
		if (s == NULL)
			break;
		started++;
		/* The server's URL goes with it; the hammers outlive it. */
		snprintf(url, sizeof(url), "%s", net_server_url(s));
		atomic_store(&stop, 0);
		for (i = 0; i < HAMMERS; i++) {
			h[i].url = url;
			h[i].stop = &stop;
			h[i].calls = 0;
			pthread_create(&th[i], NULL, hammer_main, &h[i]);
		}
		/* Stop at a different moment each round. */
		clock_sleep_ms(5 + (uint64_t)round * 3);
		net_server_stop(s);
		atomic_store(&stop, 1);
		for (i = 0; i < HAMMERS; i++) {
			pthread_join(th[i], NULL);
			calls += h[i].calls;
		}
	}
	is_int(started, ROUNDS, "%d servers started and stopped under load",
	    ROUNDS);
	ok(calls > ROUNDS, "clients got replies meanwhile (%d)", calls);
	diag("%d requests handled", atomic_load(&handled));
}

int
main(void)
{
	pthread_t replier;

	log_init("net_test", LOG_LEVEL_WARN, 0);
	pthread_create(&replier, NULL, replier_main, NULL);
	test_echo();
	test_nobody();
	test_stop_under_load();
	/* It answers what is left, so every request is freed. */
	pthread_mutex_lock(&later_mu);
	later_quit = 1;
	pthread_cond_broadcast(&later_cv);
	pthread_mutex_unlock(&later_mu);
	pthread_join(replier, NULL);
	return done_testing();
}
