/*
 * Raft messages between stores (transport.h).
 *
 * Out: transport_send() encodes the envelope and appends it to the
 * destination store's pending queue; transport_flush() (after the WAL
 * sync of the raftstore iteration) moves pending to ready and wakes the
 * store's sender.  The sender only ever sends what is ready, so a message
 * never leaves before the state it depends on is durable.  It sends the
 * ready messages in order: runs of small ones batched into RAFT commands
 * of at most tr->batch payload bytes, a large one alone as RAFT_CHUNK
 * commands of tr->chunk bytes, one call per command.  After a failed call
 * the rest of what it took fails too (the store is most likely down, and
 * another timeout per batch would only delay Raft's own retries).
 *
 * In: RAFT_CHUNK parts are joined by transfer id.  The RAFT_CHUNK command
 * carries no sender, so a sender picks a random id per transfer; the ids
 * of different senders do not collide in practice.  Joins hold at most
 * TR_JOIN_MAX bytes together and are dropped when no part came for
 * TR_JOIN_IDLE_MS.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "pdclient.h"
#include "proto.h"
#include "raftstore.h"
#include "schema.h"
#include "tikvd.h"
#include "transport.h"
#include "xmalloc.h"

#define TR_QUEUE_MAX		(64u * 1024 * 1024)	/* bytes per store */
#define TR_CALL_MS		5000
/* A chunk stays under a protocol line even if it were spelled bare. */
#define TR_CHUNK_MAX		((size_t)PROTO_MAX_LINE - 4096)
#define TR_CMD_SLACK		4096	/* command line around a payload */
#define TR_JOIN_MAX		(256u * 1024 * 1024)
#define TR_JOIN_IDLE_MS		30000
#define TR_RESOLVE_RETRY_MS	1000
#define TR_ADDR_MAX		256

struct item {
	TAILQ_ENTRY(item) link;
	uint64_t region_id;
	uint64_t to_peer;
	int snapshot;
	struct buf enc;		/* the envelope */
};
TAILQ_HEAD(itemq, item);

struct sender {
	struct transport *tr;
	uint64_t store_id;
	pthread_t thread;
	pthread_cond_t cond;
	/* Under tr->mu. */
	struct itemq pending;	/* queued since the last flush */
	struct itemq ready;	/* flushed: may go out */
	size_t bytes;		/* in both queues */
	int resolve;		/* someone asked for the address */
	int stale;		/* a call failed: look the address up again */
	char addr[TR_ADDR_MAX];	/* "" while unknown */
	/* The sender thread's own. */
	struct net_client *cl;
	char cl_addr[TR_ADDR_MAX];
	uint64_t resolve_after;	/* no PD lookup before this (ms) */
	int failing;		/* calls fail: logged once */
	int resolve_failing;
};

struct join {
	LIST_ENTRY(join) link;
	uint64_t id;
	uint64_t total;
	uint64_t next;		/* seq expected next */
	uint64_t touched;	/* ms */
	struct buf data;
};

struct transport {
	struct store *st;
	size_t chunk;		/* payload bytes per RAFT_CHUNK */
	size_t batch;		/* payload bytes per RAFT */
	size_t maxmsg;

	pthread_mutex_t mu;
	struct sender **senders;
	size_t nsenders;
	int stopping;

	pthread_mutex_t jmu;
	LIST_HEAD(, join) joins;
	size_t jbytes;
};

static void *sender_main(void *);

struct transport *
transport_new(struct store *st)
{
	struct transport *tr = xcalloc(1, sizeof(*tr));

	if (sodium_init() < 0)
		fatalx("cannot initialize libsodium");
	tr->st = st;
	tr->maxmsg = st->cfg != NULL ? st->cfg->max_message_size :
	    NET_DEFAULT_MAXMSG;
	tr->chunk = TR_CHUNK_MAX;
	if (tr->maxmsg < tr->chunk + TR_CMD_SLACK)
		tr->chunk = tr->maxmsg - TR_CMD_SLACK;
	tr->batch = tr->chunk;
	pthread_mutex_init(&tr->mu, NULL);
	pthread_mutex_init(&tr->jmu, NULL);
	LIST_INIT(&tr->joins);
	return tr;
}

static void
item_free(struct item *it)
{
	buf_free(&it->enc);
	free(it);
}

static void
itemq_free(struct itemq *q)
{
	struct item *it;

	while ((it = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, it, link);
		item_free(it);
	}
}

/* Tells the raftstore how a message fared, and frees it. */
static void
item_done(struct transport *tr, struct item *it, int failed)
{
	struct raftstore *rs = tr->st->rs;

	if (rs != NULL && failed)
		raftstore_report_unreachable(rs, it->region_id, it->to_peer);
	if (rs != NULL && it->snapshot)
		raftstore_report_snapshot(rs, it->region_id, it->to_peer,
		    failed);
	item_free(it);
}

static void
join_free(struct join *j)
{
	buf_free(&j->data);
	free(j);
}

void
transport_free(struct transport *tr)
{
	struct join *j;
	size_t i;

	if (tr == NULL)
		return;
	pthread_mutex_lock(&tr->mu);
	tr->stopping = 1;
	for (i = 0; i < tr->nsenders; i++)
		pthread_cond_signal(&tr->senders[i]->cond);
	pthread_mutex_unlock(&tr->mu);
	for (i = 0; i < tr->nsenders; i++) {
		struct sender *s = tr->senders[i];

		pthread_join(s->thread, NULL);
		itemq_free(&s->pending);
		itemq_free(&s->ready);
		net_client_close(s->cl);
		pthread_cond_destroy(&s->cond);
		free(s);
	}
	free(tr->senders);
	while ((j = LIST_FIRST(&tr->joins)) != NULL) {
		LIST_REMOVE(j, link);
		join_free(j);
	}
	pthread_mutex_destroy(&tr->mu);
	pthread_mutex_destroy(&tr->jmu);
	free(tr);
}

/* The sender of a store, started on first use.  Under tr->mu. */
static struct sender *
sender_get(struct transport *tr, uint64_t store_id)
{
	struct sender *s;
	size_t i;
	int rv;

	for (i = 0; i < tr->nsenders; i++)
		if (tr->senders[i]->store_id == store_id)
			return tr->senders[i];
	if (tr->stopping)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->tr = tr;
	s->store_id = store_id;
	TAILQ_INIT(&s->pending);
	TAILQ_INIT(&s->ready);
	pthread_cond_init(&s->cond, NULL);
	if ((rv = pthread_create(&s->thread, NULL, sender_main, s)) != 0)
		fatalx("cannot start a sender thread: %s", strerror(rv));
	tr->senders = xreallocarray(tr->senders, tr->nsenders + 1,
	    sizeof(*tr->senders));
	tr->senders[tr->nsenders++] = s;
	return s;
}

void
transport_send(struct transport *tr, uint64_t region_id, uint64_t from_store,
    uint64_t to_store, const struct region *r, const struct raft_msg *m)
{
	struct item *it = xcalloc(1, sizeof(*it));
	struct sender *s;
	int queued = 0;

	it->region_id = region_id;
	it->to_peer = m->to;
	it->snapshot = m->type == RAFT_MSG_SNAPSHOT;
	peer_msg_encode(&it->enc, region_id, from_store, to_store, r, m);

	pthread_mutex_lock(&tr->mu);
	s = to_store != 0 ? sender_get(tr, to_store) : NULL;
	/* One message always fits an empty queue (a large snapshot). */
	if (s != NULL && (s->bytes == 0 ||
	    s->bytes + it->enc.len <= TR_QUEUE_MAX)) {
		TAILQ_INSERT_TAIL(&s->pending, it, link);
		s->bytes += it->enc.len;
		queued = 1;
	}
	pthread_mutex_unlock(&tr->mu);
	if (!queued) {
		log_debug("region %" PRIu64 ": message to store %" PRIu64
		    " dropped: queue full", region_id, to_store);
		item_done(tr, it, 1);
	}
}

void
transport_flush(struct transport *tr)
{
	struct sender *s;
	size_t i;

	pthread_mutex_lock(&tr->mu);
	for (i = 0; i < tr->nsenders; i++) {
		s = tr->senders[i];
		if (TAILQ_EMPTY(&s->pending))
			continue;
		TAILQ_CONCAT(&s->ready, &s->pending, link);
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&tr->mu);
}

void
transport_store_addr(struct transport *tr, uint64_t store_id,
    struct buf *out)
{
	struct sender *s;

	buf_reset(out);
	if (store_id == 0)
		return;
	if (store_id == tr->st->store_id && tr->st->addr != NULL) {
		buf_addstr(out, tr->st->addr);
		return;
	}
	pthread_mutex_lock(&tr->mu);
	if ((s = sender_get(tr, store_id)) != NULL) {
		if (s->addr[0] == '\0' && !s->resolve) {
			s->resolve = 1;
			pthread_cond_signal(&s->cond);
		}
		buf_addstr(out, s->addr);
	}
	pthread_mutex_unlock(&tr->mu);
}

static int
stopping(struct transport *tr)
{
	int stop;

	pthread_mutex_lock(&tr->mu);
	stop = tr->stopping;
	pthread_mutex_unlock(&tr->mu);
	return stop;
}

/*
 * Makes sure s->addr is usable: looked up in PD when unknown or after a
 * failed call (at most once per TR_RESOLVE_RETRY_MS).  When PD cannot
 * tell, a known address is kept: PD may be down while the store is up.
 */
static int
sender_resolve(struct sender *s)
{
	struct transport *tr = s->tr;
	struct pd_store ps;
	uint64_t now;
	int have, stale;

	pthread_mutex_lock(&tr->mu);
	have = s->addr[0] != '\0';
	stale = s->stale;
	pthread_mutex_unlock(&tr->mu);
	if (have && !stale)
		return 0;
	now = clock_mono_ms();
	if (now < s->resolve_after)
		goto none;
	memset(&ps, 0, sizeof(ps));
	if (tr->st->pd == NULL) {
		log_setreason("no PD client");
		goto fail;
	}
	if (pdclient_get_store(tr->st->pd, s->store_id, &ps) == -1)
		goto fail;
	if (ps.addr[0] == '\0') {
		log_setreason("PD knows no address");
		goto fail;
	}
	pthread_mutex_lock(&tr->mu);
	if (strcmp(s->addr, ps.addr) != 0)
		log_info("store %" PRIu64 " is at '%s'", s->store_id,
		    ps.addr);
	strlcpy(s->addr, ps.addr, sizeof(s->addr));
	s->stale = 0;
	pthread_mutex_unlock(&tr->mu);
	s->resolve_failing = 0;
	return 0;
fail:
	s->resolve_after = now + TR_RESOLVE_RETRY_MS;
	if (!s->resolve_failing)
		log_warnx("cannot look up the address of store %" PRIu64
		    ": %s", s->store_id, log_reason());
	s->resolve_failing = 1;
none:
	if (have)
		return 0;
	log_setreason("address of store %" PRIu64 " unknown", s->store_id);
	return -1;
}

static int
sender_connect(struct sender *s)
{
	struct transport *tr = s->tr;
	char addr[TR_ADDR_MAX];

	if (sender_resolve(s) == -1)
		return -1;
	pthread_mutex_lock(&tr->mu);
	strlcpy(addr, s->addr, sizeof(addr));
	pthread_mutex_unlock(&tr->mu);
	if (s->cl != NULL && strcmp(s->cl_addr, addr) == 0)
		return 0;
	net_client_close(s->cl);
	s->cl_addr[0] = '\0';
	if ((s->cl = net_client_open(addr, tr->maxmsg)) == NULL)
		return -1;
	strlcpy(s->cl_addr, addr, sizeof(s->cl_addr));
	return 0;
}

/* One command and its OK.  On failure the address is looked up again. */
static int
sender_call(struct sender *s, const struct buf *req)
{
	struct transport *tr = s->tr;
	struct buf reply = BUF_INIT;
	size_t n;

	if (sender_connect(s) == -1)
		goto fail;
	if (net_client_call(s->cl, req->data, req->len, &reply,
	    TR_CALL_MS) != 0)
		goto fail;
	if (proto_word_parse(reply.data, reply.len) != PROTO_OK) {
		for (n = 0; n < reply.len && n < 200 &&
		    reply.data[n] != '\n'; n++)
			;
		log_setreason("refused: %.*s", (int)n, (char *)reply.data);
		goto fail;
	}
	buf_free(&reply);
	if (s->failing)
		log_info("store %" PRIu64 " reachable again", s->store_id);
	s->failing = 0;
	return 0;
fail:
	buf_free(&reply);
	pthread_mutex_lock(&tr->mu);
	s->stale = 1;
	pthread_mutex_unlock(&tr->mu);
	if (!s->failing)
		log_warnx("cannot send raft messages to store %" PRIu64 ": %s",
		    s->store_id, log_reason());
	s->failing = 1;
	return -1;
}

/* A message too large for one call, as RAFT_CHUNK parts. */
static int
send_chunked(struct sender *s, const struct item *it, struct buf *req)
{
	size_t chunk = s->tr->chunk, off, n;
	uint64_t id, seq, total;

	/* Random, nonzero, and within 62 bits for any u64 argument check. */
	randombytes_buf(&id, sizeof(id));
	id = (id & ((UINT64_C(1) << 62) - 1)) | 1;
	total = (it->enc.len + chunk - 1) / chunk;
	for (seq = 0; seq < total; seq++) {
		if (stopping(s->tr))
			return -1;
		off = (size_t)seq * chunk;
		n = it->enc.len - off < chunk ? it->enc.len - off : chunk;
		buf_reset(req);
		buf_addstr(req, "RAFT_CHUNK");
		proto_add_u64(req, id);
		proto_add_u64(req, seq);
		proto_add_u64(req, total);
		proto_add_token(req, it->enc.data + off, n);
		proto_end_line(req);
		if (sender_call(s, req) == -1)
			return -1;
	}
	return 0;
}

/* Sends what the thread took from the ready queue, in order. */
static void
sender_run(struct sender *s, struct itemq *q)
{
	struct transport *tr = s->tr;
	struct buf payload = BUF_INIT, req = BUF_INIT;
	struct itemq batch;
	struct item *it;
	int failed = 0;

	while ((it = TAILQ_FIRST(q)) != NULL) {
		if (failed) {
			TAILQ_REMOVE(q, it, link);
			item_done(tr, it, 1);
			continue;
		}
		if (it->enc.len > tr->chunk) {
			TAILQ_REMOVE(q, it, link);
			failed = send_chunked(s, it, &req) == -1;
			item_done(tr, it, failed);
			continue;
		}
		TAILQ_INIT(&batch);
		buf_reset(&payload);
		while ((it = TAILQ_FIRST(q)) != NULL &&
		    it->enc.len <= tr->chunk &&
		    (payload.len == 0 ||
		    payload.len + it->enc.len <= tr->batch)) {
			TAILQ_REMOVE(q, it, link);
			buf_add(&payload, it->enc.data, it->enc.len);
			TAILQ_INSERT_TAIL(&batch, it, link);
		}
		buf_reset(&req);
		buf_addstr(&req, "RAFT");
		proto_add_token(&req, payload.data, payload.len);
		proto_end_line(&req);
		failed = sender_call(s, &req) == -1;
		while ((it = TAILQ_FIRST(&batch)) != NULL) {
			TAILQ_REMOVE(&batch, it, link);
			item_done(tr, it, failed);
		}
	}
	buf_free(&payload);
	buf_free(&req);
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	struct transport *tr = s->tr;
	struct itemq q;
	struct item *it;
	int resolve;

	TAILQ_INIT(&q);
	pthread_mutex_lock(&tr->mu);
	for (;;) {
		while (!tr->stopping && TAILQ_EMPTY(&s->ready) && !s->resolve)
			pthread_cond_wait(&s->cond, &tr->mu);
		if (tr->stopping)
			break;
		TAILQ_CONCAT(&q, &s->ready, link);
		TAILQ_FOREACH(it, &q, link)
			s->bytes -= it->enc.len;
		resolve = s->resolve;
		s->resolve = 0;
		pthread_mutex_unlock(&tr->mu);
		if (resolve)
			(void)sender_resolve(s);
		if (!TAILQ_EMPTY(&q))
			sender_run(s, &q);
		pthread_mutex_lock(&tr->mu);
	}
	pthread_mutex_unlock(&tr->mu);
	return NULL;
}

int
transport_receive(struct transport *tr, const uint8_t *data, size_t len)
{
	const uint8_t *p = data, *end = data + len;
	struct peer_msg **pms = NULL, *pm;
	size_t n = 0, i;
	uint64_t self = tr->st->store_id;

	if (len == 0) {
		log_setreason("empty raft payload");
		return -1;
	}
	if (tr->st->rs == NULL) {
		log_setreason("raftstore not started");
		return -1;
	}
	/* All or nothing: decode every envelope before delivering one. */
	while (p < end) {
		pm = xmalloc(sizeof(*pm));
		if (peer_msg_decode(&p, end, pm) == -1) {
			free(pm);
			goto bad;
		}
		pms = xreallocarray(pms, n + 1, sizeof(*pms));
		pms[n++] = pm;
		/* Another store's message: the sender has a stale address. */
		if (self != 0 && pm->to_store != self) {
			log_setreason("raft message for store %" PRIu64
			    ", this is store %" PRIu64, pm->to_store, self);
			goto bad;
		}
	}
	for (i = 0; i < n; i++)
		raftstore_deliver(tr->st->rs, pms[i]);
	free(pms);
	return 0;
bad:
	for (i = 0; i < n; i++) {
		peer_msg_free(pms[i]);
		free(pms[i]);
	}
	free(pms);
	return -1;
}

/* Drops joins idle too long.  Under tr->jmu. */
static void
joins_expire(struct transport *tr, uint64_t now)
{
	struct join *j, *next;

	for (j = LIST_FIRST(&tr->joins); j != NULL; j = next) {
		next = LIST_NEXT(j, link);
		if (now - j->touched < TR_JOIN_IDLE_MS)
			continue;
		log_info("raft chunk transfer %" PRIu64 " abandoned after %"
		    PRIu64 " of %" PRIu64 " parts", j->id, j->next, j->total);
		LIST_REMOVE(j, link);
		tr->jbytes -= j->data.len;
		join_free(j);
	}
}

static void
join_drop(struct transport *tr, struct join *j)
{
	LIST_REMOVE(j, link);
	tr->jbytes -= j->data.len;
	join_free(j);
}

int
transport_receive_chunk(struct transport *tr, uint64_t id, uint64_t seq,
    uint64_t total, const uint8_t *data, size_t len)
{
	struct join *j;
	uint64_t now = clock_mono_ms();
	int rc;

	if (total == 0 || seq >= total || len == 0 || total > TR_JOIN_MAX) {
		log_setreason("bad raft chunk %" PRIu64 " of %" PRIu64
		    " (%zu bytes)", seq, total, len);
		return -1;
	}
	pthread_mutex_lock(&tr->jmu);
	joins_expire(tr, now);
	LIST_FOREACH(j, &tr->joins, link)
		if (j->id == id)
			break;
	if (seq == 0) {
		/* A sender that starts over reuses nothing: new join. */
		if (j != NULL)
			join_drop(tr, j);
		j = xcalloc(1, sizeof(*j));
		j->id = id;
		j->total = total;
		buf_init(&j->data);
		LIST_INSERT_HEAD(&tr->joins, j, link);
	} else if (j == NULL) {
		pthread_mutex_unlock(&tr->jmu);
		log_setreason("raft chunk %" PRIu64 " of an unknown transfer",
		    seq);
		return -1;
	} else if (j->total != total || seq > j->next) {
		join_drop(tr, j);
		pthread_mutex_unlock(&tr->jmu);
		log_setreason("raft chunk %" PRIu64 " of %" PRIu64
		    " out of order", seq, total);
		return -1;
	} else if (seq < j->next) {
		/* A part that came twice: already have it. */
		pthread_mutex_unlock(&tr->jmu);
		return 0;
	}
	if (tr->jbytes + len > TR_JOIN_MAX) {
		join_drop(tr, j);
		pthread_mutex_unlock(&tr->jmu);
		log_setreason("raft chunks: over %u bytes being joined",
		    TR_JOIN_MAX);
		return -1;
	}
	buf_add(&j->data, data, len);
	tr->jbytes += len;
	j->next++;
	j->touched = now;
	if (j->next < j->total) {
		pthread_mutex_unlock(&tr->jmu);
		return 0;
	}
	LIST_REMOVE(j, link);
	tr->jbytes -= j->data.len;
	pthread_mutex_unlock(&tr->jmu);
	rc = transport_receive(tr, j->data.data, j->data.len);
	join_free(j);
	return rc;
}
