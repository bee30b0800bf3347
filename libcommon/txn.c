/*
 * The transaction client (txn.h): buffered writes, two-phase commit over
 * tikvd's TXN_* commands, and reads that resolve the locks they meet.
 */
#include <sys/tree.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "client.h"
#include "clock.h"
#include "log.h"
#include "mvcc.h"
#include "pdclient.h"
#include "proto.h"
#include "region.h"
#include "txn.h"
#include "xmalloc.h"

/*
 * One command line per message, each inside PROTO_MAX_ARGS tokens (a
 * mutation takes up to three) and, escaped, inside PROTO_MAX_LINE.  One
 * command is also one entry of the region's log, so it stays small.
 */
#define LINE_MUTATIONS		300
#define LINE_KEYS		500
#define LINE_BYTES		(192 * 1024)
#define SCAN_PAGE		256
#define BACKOFF_MIN_MS		2
#define BACKOFF_MAX_MS		500
#define KEY_SHOWN		64

enum mut_op { MUT_PUT, MUT_INSERT, MUT_DELETE, MUT_LOCK };

static const char *const mut_words[] = { "PUT", "INSERT", "DELETE", "LOCK" };

struct mut {
	RB_ENTRY(mut) entry;
	int op;				/* enum mut_op */
	struct buf key;
	struct buf value;		/* PUT, INSERT */
};

RB_HEAD(mut_tree, mut);

struct txn {
	struct client *c;
	uint64_t start_ts;
	uint64_t ttl_ms;
	struct mut_tree muts;
	size_t nmuts;
	int finished;			/* txn_commit ran */
	/* Scratch for one call at a time: a txn belongs to one thread. */
	struct proto_args *a;
	struct buf rest;
	struct buf reply;
	struct buf err;
};

/* A lock met: LOCKED key primary lock_ts ttl_ms type. */
struct lockinfo {
	struct buf key;
	struct buf primary;
	uint64_t ts;
	uint64_t ttl_ms;
};

/* How long to go on retrying: the client's timeout since the last
 * progress, with exponential backoff. */
struct pace {
	uint64_t deadline;
	uint64_t backoff;
	int timeout;
};

/* What a reply asks of the command over many keys (group_run). */
#define GROUP_DONE		0
#define GROUP_RETRY		1	/* at once: a lock was resolved */
#define GROUP_WAIT		2	/* after a backoff */

/* One key of a command over many keys; idx: the caller's index. */
struct item {
	struct bytes key;
	size_t size;			/* bytes it adds to a line */
	size_t idx;
};

struct group {
	struct txn *t;
	const char *cmd;
	size_t line_keys;
	int head_first;			/* items[0]'s line before any other */
	/* Appends the arguments after the region context. */
	void (*args)(struct group *, const struct item *, size_t, struct buf *);
	/* GROUP_* for the reply (word w, in t->reply), or < 0 to stop. */
	int (*reply)(struct group *, const struct item *, size_t, int w);
	const struct mut *const *muts;	/* prewrite */
	uint64_t commit_ts;		/* commit */
	int *found;			/* batch get */
	struct buf *values;
};

struct pairs {
	struct client_pair *v;
	size_t n;
	size_t cap;
};

static int
mut_cmp(const struct mut *a, const struct mut *b)
{
	return bytes_cmp(buf_bytes(&a->key), buf_bytes(&b->key));
}

/* libbsd's RB_GENERATE_STATIC needs a __unused it leaves undefined. */
RB_GENERATE_INTERNAL(mut_tree, mut, entry, mut_cmp,
    __attribute__((__unused__)) static)

/* --- time ---------------------------------------------------------------- */

static void
pace_init(struct pace *p, const struct txn *t)
{
	p->timeout = client_timeout_ms(t->c);
	p->deadline = clock_mono_ms() + (uint64_t)p->timeout;
	p->backoff = BACKOFF_MIN_MS;
}

static void
pace_progress(struct pace *p)
{
	p->deadline = clock_mono_ms() + (uint64_t)p->timeout;
	p->backoff = BACKOFF_MIN_MS;
}

/*
 * Before another attempt: sleeps a backoff if asked to.  -1 when the
 * time is up, log_reason() (the last failure) saying so.
 */
static int
pace_wait(struct pace *p, int sleep)
{
	struct timespec ts;
	char last[512];
	uint64_t now = clock_mono_ms(), ms = p->backoff;

	if (now >= p->deadline) {
		strlcpy(last, log_reason(), sizeof(last));
		log_setreason("%s (gave up after %d ms)", last, p->timeout);
		return -1;
	}
	if (!sleep)
		return 0;
	if (ms > p->deadline - now)
		ms = p->deadline - now;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	p->backoff = p->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    p->backoff * 2;
	return 0;
}

/* --- helpers ------------------------------------------------------------- */

/* A key as printable text for reasons, cut short. */
static const char *
key_text(struct buf *out, const void *key, size_t len)
{
	buf_reset(out);
	proto_escape(out, key, len < KEY_SHOWN ? len : KEY_SHOWN);
	if (len > KEY_SHOWN)
		buf_addstr(out, "...");
	return (const char *)out->data;
}

static int
get_ts(struct txn *t, uint64_t *ts)
{
	char old[512];

	if (pdclient_tso(client_pd(t->c), 1, ts) == -1) {
		strlcpy(old, log_reason(), sizeof(old));
		log_setreason("timestamp from pd: %s", old);
		return -1;
	}
	return 0;
}

/*
 * The next line of t->reply from *pos, tokens in t->a.  -1 with
 * log_reason() for a malformed line or none left.
 */
static int
reply_line(struct txn *t, size_t *pos)
{
	int rc;

	buf_reset(&t->err);
	rc = proto_parse(t->reply.data, t->reply.len, pos, t->a, &t->err);
	if (rc == 1 && t->a->argc > 0)
		return 0;
	if (rc == 0)
		log_setreason("a reply has fewer lines than expected");
	else
		log_setreason("malformed reply: %s", t->err.len ?
		    (const char *)t->err.data : "empty line");
	return -1;
}

/* A reply the command does not expect; error words have their reason
 * from client_call already. */
static int
unexpected(struct txn *t, const char *cmd, int w)
{
	size_t len;

	if (w >= 0 && proto_word_is_error(w))
		return -1;
	for (len = 0; len < t->reply.len && len < 200 &&
	    t->reply.data[len] != '\n'; len++)
		;
	log_setreason("%s: unexpected reply '%.*s'", cmd, (int)len,
	    (const char *)t->reply.data);
	return -1;
}

static void
pairs_push(struct pairs *p, struct bytes k, struct bytes v)
{
	struct client_pair *cp;

	if (p->n == p->cap) {
		p->cap = p->cap < 32 ? 32 : p->cap * 2;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	cp = &p->v[p->n++];
	buf_init(&cp->key);
	buf_init(&cp->value);
	buf_add(&cp->key, k.ptr, k.len);
	buf_add(&cp->value, v.ptr, v.len);
}

static int
item_cmp(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	int c = bytes_cmp(a->key, b->key);

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* --- begin, writes, free ------------------------------------------------- */

struct txn *
txn_begin(struct client *c)
{
	struct txn *t;

	t = xcalloc(1, sizeof(*t));
	t->c = c;
	if (get_ts(t, &t->start_ts) == -1) {
		free(t);
		return NULL;
	}
	RB_INIT(&t->muts);
	t->a = xmalloc(sizeof(*t->a));
	proto_args_init(t->a);
	buf_init(&t->rest);
	buf_init(&t->reply);
	buf_init(&t->err);
	return t;
}

void
txn_free(struct txn *t)
{
	struct mut *m, *next;

	if (t == NULL)
		return;
	for (m = RB_MIN(mut_tree, &t->muts); m != NULL; m = next) {
		next = RB_NEXT(mut_tree, &t->muts, m);
		RB_REMOVE(mut_tree, &t->muts, m);
		buf_free(&m->key);
		buf_free(&m->value);
		free(m);
	}
	proto_args_free(t->a);
	free(t->a);
	buf_free(&t->rest);
	buf_free(&t->reply);
	buf_free(&t->err);
	free(t);
}

uint64_t
txn_start_ts(const struct txn *t)
{
	return t->start_ts;
}

void
txn_set_ttl(struct txn *t, uint64_t ttl_ms)
{
	t->ttl_ms = ttl_ms;
}

static struct mut *
mut_find(struct txn *t, const void *key, size_t keylen)
{
	struct mut probe;

	/* The probe only lends the key to the comparison. */
	probe.key.data = (uint8_t *)(uintptr_t)key;
	probe.key.len = keylen;
	return RB_FIND(mut_tree, &t->muts, &probe);
}

static void
mut_set(struct txn *t, int op, const void *key, size_t keylen,
    const void *value, size_t valuelen)
{
	struct mut *m;

	if ((m = mut_find(t, key, keylen)) != NULL) {
		/* A key written already is locked by its write. */
		if (op == MUT_LOCK)
			return;
		buf_reset(&m->value);
	} else {
		m = xcalloc(1, sizeof(*m));
		buf_add(&m->key, key, keylen);
		RB_INSERT(mut_tree, &t->muts, m);
		t->nmuts++;
	}
	m->op = op;
	buf_add(&m->value, value, valuelen);
}

void
txn_put(struct txn *t, const void *key, size_t keylen, const void *value,
    size_t valuelen)
{
	mut_set(t, MUT_PUT, key, keylen, value, valuelen);
}

void
txn_insert(struct txn *t, const void *key, size_t keylen,
    const void *value, size_t valuelen)
{
	mut_set(t, MUT_INSERT, key, keylen, value, valuelen);
}

void
txn_delete(struct txn *t, const void *key, size_t keylen)
{
	mut_set(t, MUT_DELETE, key, keylen, NULL, 0);
}

void
txn_lock_key(struct txn *t, const void *key, size_t keylen)
{
	mut_set(t, MUT_LOCK, key, keylen, NULL, 0);
}

/* --- locks --------------------------------------------------------------- */

static void
lock_init(struct lockinfo *lk)
{
	memset(lk, 0, sizeof(*lk));
	buf_init(&lk->key);
	buf_init(&lk->primary);
}

static void
lock_free(struct lockinfo *lk)
{
	buf_free(&lk->key);
	buf_free(&lk->primary);
}

/* The LOCKED line that starts t->reply. */
static int
lock_parse(struct txn *t, struct lockinfo *lk)
{
	const struct bytes *v = t->a->argv;
	size_t pos = 0;

	if (reply_line(t, &pos) == -1)
		return -1;
	if (t->a->argc < 5 || proto_bytes_u64(v[3], &lk->ts) == -1 ||
	    proto_bytes_u64(v[4], &lk->ttl_ms) == -1) {
		log_setreason("malformed LOCKED reply");
		return -1;
	}
	buf_add(&lk->key, v[1].ptr, v[1].len);
	buf_add(&lk->primary, v[2].ptr, v[2].len);
	return 0;
}

/*
 * Settles a lock another transaction left: asks its primary for the
 * transaction's status and, once it committed or rolled back, resolves
 * its locks in the region of the key met.  GROUP_RETRY when resolved,
 * GROUP_WAIT while the owner lives (or its primary is not there yet),
 * -1 with log_reason().
 */
static int
lock_resolve(struct txn *t, const struct lockinfo *lk)
{
	struct buf kt = BUF_INIT;
	struct bytes state;
	uint64_t cur, commit_ts = 0;
	size_t pos = 0;
	int w, rc = -1;

	if (lk->ts == t->start_ts) {
		log_setreason("key '%s' holds this transaction's own lock",
		    key_text(&kt, lk->key.data, lk->key.len));
		goto out;
	}
	if (get_ts(t, &cur) == -1)
		goto out;
	buf_reset(&t->rest);
	proto_add_token(&t->rest, lk->primary.data, lk->primary.len);
	proto_add_u64(&t->rest, lk->ts);
	proto_add_u64(&t->rest, cur);
	/* A primary missing after the TTL is a prewrite that never came:
	 * the rollback record keeps it from coming later. */
	if (MVCC_TS_PHYSICAL(cur) >= MVCC_TS_PHYSICAL(lk->ts) + lk->ttl_ms)
		proto_add_str(&t->rest, "ROLLBACK_IF_MISSING");
	w = client_call(t->c, "TXN_CHECK_STATUS", lk->primary.data,
	    lk->primary.len, &t->rest, 0, &t->reply, NULL);
	if (w == PROTO_TXN_NOT_FOUND || w == PROTO_LOCKED) {
		log_setreason("key '%s': transaction %" PRIu64 " not found "
		    "at its primary yet", key_text(&kt, lk->key.data,
		    lk->key.len), lk->ts);
		rc = GROUP_WAIT;
		goto out;
	}
	if (w != PROTO_OK) {
		unexpected(t, "TXN_CHECK_STATUS", w);
		goto out;
	}
	if (reply_line(t, &pos) == -1)
		goto out;
	state = t->a->argc > 1 ? t->a->argv[1] : bytes_str("");
	if (bytes_eq(state, bytes_str("LOCKED"))) {
		log_setreason("key '%s' locked by transaction %" PRIu64
		    ", alive", key_text(&kt, lk->key.data, lk->key.len),
		    lk->ts);
		rc = GROUP_WAIT;
		goto out;
	}
	if (bytes_eq(state, bytes_str("COMMITTED"))) {
		if (t->a->argc < 3 ||
		    proto_bytes_u64(t->a->argv[2], &commit_ts) == -1 ||
		    commit_ts == 0) {
			unexpected(t, "TXN_CHECK_STATUS", w);
			goto out;
		}
	} else if (!bytes_eq(state, bytes_str("ROLLED_BACK"))) {
		unexpected(t, "TXN_CHECK_STATUS", w);
		goto out;
	}
	buf_reset(&t->rest);
	proto_add_u64(&t->rest, lk->ts);
	proto_add_u64(&t->rest, commit_ts);
	w = client_call(t->c, "TXN_RESOLVE_LOCK", lk->key.data, lk->key.len,
	    &t->rest, 0, &t->reply, NULL);
	if (w != PROTO_OK) {
		unexpected(t, "TXN_RESOLVE_LOCK", w);
		goto out;
	}
	rc = GROUP_RETRY;
out:
	buf_free(&kt);
	return rc;
}

/* t->reply is a LOCKED line: resolves it (see lock_resolve). */
static int
on_locked(struct txn *t)
{
	struct lockinfo lk;
	int rc = -1;

	lock_init(&lk);
	if (lock_parse(t, &lk) == 0)
		rc = lock_resolve(t, &lk);
	lock_free(&lk);
	return rc;
}

/* --- commands over many keys --------------------------------------------- */

/*
 * Runs g's command over the items (sorted by key), one line per message,
 * each line the keys of one region: a region error groups the keys of
 * its line again.  0, or the first error code a reply gave, or -1 with
 * log_reason() when the client's timeout passed without progress.
 */
static int
group_run(struct group *g, const struct item *items, size_t n)
{
	struct txn *t = g->t;
	struct item *it, *next, *tmp;
	struct region reg;
	struct pace p;
	size_t i, j, nnext, bytes;
	int w, rc = 0, done, retry, head_done = !g->head_first;

	if (n == 0)
		return 0;
	it = xreallocarray(NULL, n, sizeof(*it));
	next = xreallocarray(NULL, n, sizeof(*next));
	memcpy(it, items, n * sizeof(*it));
	region_init(&reg);
	pace_init(&p, t);
	while (n > 0) {
		nnext = 0;
		done = retry = 0;
		for (i = 0; i < n; i = j) {
			if (!head_done && i > 0) {
				/* The head's line failed: the rest waits. */
				memcpy(next + nnext, it + i,
				    (n - i) * sizeof(*it));
				nnext += n - i;
				break;
			}
			if (client_locate(t->c, it[i].key.ptr, it[i].key.len,
			    &reg) == -1) {
				rc = -1;
				goto out;
			}
			bytes = 0;
			for (j = i; j < n && j - i < g->line_keys &&
			    region_contains(&reg, it[j].key.ptr,
			    it[j].key.len); j++) {
				bytes += it[j].size;
				if (j > i && bytes > LINE_BYTES)
					break;
			}
			if (j == i)
				j = i + 1;
			buf_reset(&t->rest);
			g->args(g, it + i, j - i, &t->rest);
			w = client_call(t->c, g->cmd, it[i].key.ptr,
			    it[i].key.len, &t->rest, CLIENT_CALL_REGION_ERRORS,
			    &t->reply, NULL);
			if (w == CLIENT_REGION_ERROR)
				rc = GROUP_WAIT;
			else if (w < 0)
				rc = -1;
			else
				rc = g->reply(g, it + i, j - i, w);
			if (rc < 0)
				goto out;
			if (rc == GROUP_DONE) {
				done = 1;
				if (i == 0)
					head_done = 1;
				continue;
			}
			retry |= rc == GROUP_RETRY;
			memcpy(next + nnext, it + i, (j - i) * sizeof(*it));
			nnext += j - i;
		}
		rc = 0;
		tmp = it;
		it = next;
		next = tmp;
		n = nnext;
		if (done)
			pace_progress(&p);
		if (n > 0 && pace_wait(&p, !done && !retry) == -1) {
			rc = -1;
			goto out;
		}
	}
out:
	region_free(&reg);
	free(it);
	free(next);
	return rc;
}

/* Keys as the arguments of a line. */
static void
add_keys(const struct item *it, size_t n, struct buf *rest)
{
	size_t i;

	for (i = 0; i < n; i++)
		proto_add_token(rest, it[i].key.ptr, it[i].key.len);
}

static void
prewrite_args(struct group *g, const struct item *it, size_t n,
    struct buf *rest)
{
	const struct mut *m, *primary = g->muts[0];
	size_t i;

	proto_add_token(rest, primary->key.data, primary->key.len);
	proto_add_u64(rest, g->t->start_ts);
	proto_add_u64(rest, g->t->ttl_ms ? g->t->ttl_ms : TXN_DEFAULT_TTL_MS);
	for (i = 0; i < n; i++) {
		m = g->muts[it[i].idx];
		proto_add_str(rest, mut_words[m->op]);
		proto_add_token(rest, m->key.data, m->key.len);
		if (m->op == MUT_PUT || m->op == MUT_INSERT)
			proto_add_token(rest, m->value.data, m->value.len);
	}
}

static int
prewrite_reply(struct group *g, const struct item *it, size_t n, int w)
{
	switch (w) {
	case PROTO_OK:
		return GROUP_DONE;
	case PROTO_LOCKED:
		return on_locked(g->t);
	case PROTO_WRITE_CONFLICT:
		return TXN_CONFLICT;
	case PROTO_ALREADY_EXIST:
		return TXN_ALREADY_EXIST;
	}
	return unexpected(g->t, g->cmd, w);
}

static void
commit_args(struct group *g, const struct item *it, size_t n,
    struct buf *rest)
{
	proto_add_u64(rest, g->t->start_ts);
	if (g->commit_ts != 0)
		proto_add_u64(rest, g->commit_ts);
	add_keys(it, n, rest);
}

/* Commit of the secondaries and rollback: a failed line is only logged,
 * a reader that meets its locks resolves them. */
static int
settle_reply(struct group *g, const struct item *it, size_t n, int w)
{
	struct buf kt = BUF_INIT;

	if (w == PROTO_OK)
		return GROUP_DONE;
	unexpected(g->t, g->cmd, w);
	log_warnx("transaction %" PRIu64 ": %s of %zu keys from '%s': %s",
	    g->t->start_ts, g->cmd, n, key_text(&kt, it[0].key.ptr,
	    it[0].key.len), log_reason());
	buf_free(&kt);
	return GROUP_DONE;
}

/* Commits (commit_ts) or rolls back (0) the items; failures logged. */
static void
settle(struct txn *t, const struct item *it, size_t n, uint64_t commit_ts)
{
	struct group g;

	memset(&g, 0, sizeof(g));
	g.t = t;
	g.cmd = commit_ts ? "TXN_COMMIT" : "TXN_ROLLBACK";
	g.line_keys = LINE_KEYS;
	g.args = commit_args;
	g.reply = settle_reply;
	g.commit_ts = commit_ts;
	if (group_run(&g, it, n) != 0)
		log_warnx("transaction %" PRIu64 ": %s: %s", t->start_ts,
		    g.cmd, log_reason());
}

/* Rolls back every key (a rollback record also on those never
 * prewritten, so a late prewrite fails), keeping log_reason(). */
static void
rollback_all(struct txn *t, const struct item *it, size_t n)
{
	char why[512];

	strlcpy(why, log_reason(), sizeof(why));
	settle(t, it, n, 0);
	log_setreason("%s", why);
}

/*
 * The primary's commit is the transaction's: 0, TXN_CONFLICT when it
 * was rolled back (a reader found it dead), CLIENT_UNKNOWN when no
 * reply said either.
 */
static int
commit_primary(struct txn *t, const struct mut *primary, uint64_t cts)
{
	char why[512];
	int w;

	buf_reset(&t->rest);
	proto_add_u64(&t->rest, t->start_ts);
	proto_add_u64(&t->rest, cts);
	proto_add_token(&t->rest, primary->key.data, primary->key.len);
	w = client_call(t->c, "TXN_COMMIT", primary->key.data,
	    primary->key.len, &t->rest, 0, &t->reply, NULL);
	if (w == PROTO_OK)
		return 0;
	if (w == PROTO_TXN_NOT_FOUND)
		return TXN_CONFLICT;
	if (w >= 0)
		unexpected(t, "TXN_COMMIT", w);
	strlcpy(why, log_reason(), sizeof(why));
	log_setreason("commit of the primary: %s: outcome unknown", why);
	return CLIENT_UNKNOWN;
}

int
txn_commit(struct txn *t, uint64_t *commit_ts)
{
	const char *fp = getenv("TIKV_TXN_FAILPOINT");
	const struct mut **muts;
	struct item *it;
	struct group g;
	struct mut *m;
	uint64_t cts;
	size_t n = 0;
	int rc;

	if (t->finished) {
		log_setreason("the transaction was committed already");
		return -1;
	}
	t->finished = 1;
	if (commit_ts != NULL)
		*commit_ts = 0;
	if (t->nmuts == 0)
		return 0;
	muts = xreallocarray(NULL, t->nmuts, sizeof(*muts));
	it = xreallocarray(NULL, t->nmuts, sizeof(*it));
	/* In key order: the first key is the primary. */
	RB_FOREACH(m, mut_tree, &t->muts) {
		muts[n] = m;
		it[n].key = buf_bytes(&m->key);
		it[n].size = m->key.len + m->value.len;
		it[n].idx = n;
		n++;
	}
	memset(&g, 0, sizeof(g));
	g.t = t;
	g.cmd = "TXN_PREWRITE";
	g.line_keys = LINE_MUTATIONS;
	g.head_first = 1;
	g.args = prewrite_args;
	g.reply = prewrite_reply;
	g.muts = muts;
	if ((rc = group_run(&g, it, n)) != 0) {
		rollback_all(t, it, n);
		goto out;
	}
	if (fp != NULL && strcmp(fp, "after-prewrite") == 0) {
		log_setreason("failpoint after-prewrite");
		rc = -1;
		goto out;
	}
	if (get_ts(t, &cts) == -1) {
		rollback_all(t, it, n);
		rc = -1;
		goto out;
	}
	if ((rc = commit_primary(t, muts[0], cts)) == TXN_CONFLICT) {
		log_setreason("transaction %" PRIu64 " was rolled back by "
		    "another before its commit", t->start_ts);
		rollback_all(t, it, n);
	}
	if (rc != 0)
		goto out;
	if (commit_ts != NULL)
		*commit_ts = cts;
	if (fp != NULL && strcmp(fp, "after-primary") == 0)
		goto out;
	settle(t, it + 1, n - 1, cts);
out:
	free(muts);
	free(it);
	return rc;
}

/* --- reads --------------------------------------------------------------- */

/* An own write answers a read: 1 a value, 0 deleted, -1 ask the store. */
static int
own_read(struct txn *t, const void *key, size_t keylen, struct buf *value)
{
	struct mut *m;

	if ((m = mut_find(t, key, keylen)) == NULL || m->op == MUT_LOCK)
		return -1;
	if (m->op == MUT_DELETE)
		return 0;
	buf_reset(value);
	buf_add(value, m->value.data, m->value.len);
	return 1;
}

int
txn_get(struct txn *t, const void *key, size_t keylen, struct buf *value)
{
	struct pace p;
	size_t pos;
	int w, rc;

	if ((rc = own_read(t, key, keylen, value)) >= 0)
		return rc;
	pace_init(&p, t);
	for (;;) {
		buf_reset(&t->rest);
		proto_add_token(&t->rest, key, keylen);
		proto_add_u64(&t->rest, t->start_ts);
		w = client_call(t->c, "TXN_GET", key, keylen, &t->rest, 0,
		    &t->reply, NULL);
		if (w == PROTO_NOT_FOUND)
			return 0;
		if (w == PROTO_VALUE) {
			pos = 0;
			if (reply_line(t, &pos) == -1)
				return -1;
			if (t->a->argc < 2)
				return unexpected(t, "TXN_GET", w);
			buf_reset(value);
			buf_add(value, t->a->argv[1].ptr, t->a->argv[1].len);
			return 1;
		}
		if (w != PROTO_LOCKED)
			return w < 0 ? -1 : unexpected(t, "TXN_GET", w);
		if ((rc = on_locked(t)) < 0 ||
		    pace_wait(&p, rc == GROUP_WAIT) == -1)
			return -1;
	}
}

static void
batch_get_args(struct group *g, const struct item *it, size_t n,
    struct buf *rest)
{
	size_t i;

	proto_add_u64(rest, g->t->start_ts);
	for (i = 0; i < n; i++)
		if (i == 0 || !bytes_eq(it[i].key, it[i - 1].key))
			proto_add_token(rest, it[i].key.ptr, it[i].key.len);
}

/*
 * VALUE k v: every item of key k is found.  The store answers in the
 * order asked, which is key order, so *at only moves on; it starts over
 * should a store answer otherwise.
 */
static void
batch_found(struct group *g, const struct item *it, size_t n, size_t *at,
    struct bytes k, struct bytes v)
{
	size_t i;

	if (*at >= n || bytes_cmp(it[*at].key, k) > 0)
		*at = 0;
	while (*at < n && bytes_cmp(it[*at].key, k) < 0)
		(*at)++;
	for (i = *at; i < n && bytes_eq(it[i].key, k); i++) {
		g->found[it[i].idx] = 1;
		buf_reset(&g->values[it[i].idx]);
		buf_add(&g->values[it[i].idx], v.ptr, v.len);
	}
}

static int
batch_get_reply(struct group *g, const struct item *it, size_t n, int w)
{
	struct txn *t = g->t;
	size_t pos = 0, at = 0;

	if (w == PROTO_LOCKED)
		return on_locked(t);
	if (w != PROTO_VALUE && w != PROTO_END)
		return unexpected(t, g->cmd, w);
	for (;;) {
		if (reply_line(t, &pos) == -1)
			return -1;
		if (bytes_eq(t->a->argv[0], bytes_str("END")))
			return GROUP_DONE;
		if (!bytes_eq(t->a->argv[0], bytes_str("VALUE")) ||
		    t->a->argc < 3) {
			log_setreason("%s: bad reply line", g->cmd);
			return -1;
		}
		batch_found(g, it, n, &at, t->a->argv[1],
		    t->a->argv[2]);
	}
}

int
txn_batch_get(struct txn *t, const struct bytes *keys, size_t n,
    int *found, struct buf *values)
{
	struct item *it;
	struct group g;
	size_t i, nit = 0;
	int rc;

	it = xreallocarray(NULL, n ? n : 1, sizeof(*it));
	for (i = 0; i < n; i++) {
		found[i] = 0;
		buf_reset(&values[i]);
		if ((rc = own_read(t, keys[i].ptr, keys[i].len,
		    &values[i])) >= 0) {
			found[i] = rc;
			continue;
		}
		it[nit].key = keys[i];
		it[nit].size = keys[i].len;
		it[nit].idx = i;
		nit++;
	}
	qsort(it, nit, sizeof(*it), item_cmp);
	memset(&g, 0, sizeof(g));
	g.t = t;
	g.cmd = "TXN_BATCH_GET";
	g.line_keys = LINE_KEYS;
	g.args = batch_get_args;
	g.reply = batch_get_reply;
	g.found = found;
	g.values = values;
	rc = group_run(&g, it, nit);
	free(it);
	return rc;
}

/*
 * Reads one page of the scan from cur into srv: the pairs the store
 * holds at start_ts in [cur, end) within one region, *reg that region.
 * 0, or -1 with log_reason().
 */
static int
scan_page(struct txn *t, struct bytes cur, struct bytes end, size_t page,
    int key_only, struct pairs *srv, struct region *reg)
{
	static const uint8_t none[1];
	struct bytes empty = { none, 0 };
	struct pace p;
	size_t pos;
	int w, rc;

	pace_init(&p, t);
	for (;;) {
		buf_reset(&t->rest);
		proto_add_token(&t->rest, cur.ptr, cur.len);
		proto_add_token(&t->rest, end.ptr, end.len);
		proto_add_u64(&t->rest, page);
		proto_add_u64(&t->rest, t->start_ts);
		if (key_only)
			proto_add_str(&t->rest, "KEY_ONLY");
		w = client_call(t->c, "TXN_SCAN", cur.ptr, cur.len, &t->rest,
		    0, &t->reply, reg);
		if (w == PROTO_LOCKED) {
			if ((rc = on_locked(t)) < 0 ||
			    pace_wait(&p, rc == GROUP_WAIT) == -1)
				return -1;
			continue;
		}
		if (w != PROTO_VALUE && w != PROTO_END)
			return w < 0 ? -1 : unexpected(t, "TXN_SCAN", w);
		for (pos = 0;;) {
			if (reply_line(t, &pos) == -1)
				return -1;
			if (bytes_eq(t->a->argv[0], bytes_str("END")))
				return 0;
			if (!bytes_eq(t->a->argv[0], bytes_str("VALUE")) ||
			    t->a->argc < (key_only ? 2u : 3u)) {
				log_setreason("TXN_SCAN: bad reply line");
				return -1;
			}
			pairs_push(srv, t->a->argv[1], key_only ? empty :
			    t->a->argv[2]);
		}
	}
}

/* Whether key is below the bound upto (unbounded: no bound). */
static int
below(struct bytes key, struct bytes upto, int unbounded)
{
	return unbounded || bytes_cmp(key, upto) < 0;
}

/*
 * Adds to out, in key order, the store's pairs of srv merged with this
 * transaction's writes from *own on below upto: a write replaces the
 * store's pair of its key, a delete hides it.
 */
static void
scan_merge(struct txn *t, struct pairs *out, const struct pairs *srv,
    struct mut **own, struct bytes upto, int unbounded, size_t limit,
    int key_only)
{
	static const uint8_t none[1];
	struct bytes empty = { none, 0 }, sk;
	const struct client_pair *s;
	struct mut *m;
	size_t i = 0;
	int c;

	while (limit == 0 || out->n < limit) {
		m = *own;
		if (m != NULL && !below(buf_bytes(&m->key), upto, unbounded))
			m = NULL;
		s = i < srv->n ? &srv->v[i] : NULL;
		if (m == NULL && s == NULL)
			break;
		sk = s ? buf_bytes(&s->key) : empty;
		c = m == NULL ? 1 : s == NULL ? -1 :
		    bytes_cmp(buf_bytes(&m->key), sk);
		if (c > 0) {
			pairs_push(out, sk, buf_bytes(&s->value));
			i++;
			continue;
		}
		if (c == 0)
			i++;
		if (m->op == MUT_PUT || m->op == MUT_INSERT)
			pairs_push(out, buf_bytes(&m->key),
			    key_only ? empty : buf_bytes(&m->value));
		else if (m->op == MUT_LOCK && c == 0)
			pairs_push(out, sk, buf_bytes(&s->value));
		*own = RB_NEXT(mut_tree, &t->muts, m);
	}
}

int
txn_scan(struct txn *t, const void *start, size_t startlen,
    const void *end, size_t endlen, size_t limit, int flags,
    struct client_pair **out, size_t *n)
{
	struct bytes s = { start, startlen }, e = { end, endlen }, upto;
	struct pairs res = { NULL, 0, 0 }, srv = { NULL, 0, 0 };
	struct buf cur = BUF_INIT, next = BUF_INIT;
	int key_only = flags & CLIENT_KEY_ONLY, last, rc = -1;
	struct region reg;
	struct mut probe, *own;
	size_t page;

	*out = NULL;
	*n = 0;
	if (flags & CLIENT_REVERSE) {
		log_setreason("reverse transactional scans are not supported");
		return -1;
	}
	if (e.len > 0 && bytes_cmp(s, e) > 0) {
		log_setreason("the range starts after its end");
		return -1;
	}
	region_init(&reg);
	probe.key.data = (uint8_t *)(uintptr_t)start;
	probe.key.len = startlen;
	own = RB_NFIND(mut_tree, &t->muts, &probe);
	buf_add(&cur, start, startlen);
	for (;;) {
		if (limit != 0 && res.n >= limit)
			break;
		if (e.len > 0 && bytes_cmp(buf_bytes(&cur), e) >= 0)
			break;
		page = SCAN_PAGE;
		if (limit != 0 && limit - res.n < page)
			page = limit - res.n;
		client_pairs_free(srv.v, srv.n);
		memset(&srv, 0, sizeof(srv));
		if (scan_page(t, buf_bytes(&cur), e, page, key_only, &srv,
		    &reg) == -1)
			goto out;
		/* What this page covers: up to its last pair when full,
		 * else the rest of the region (or of the range). */
		buf_reset(&next);
		last = 0;
		if (srv.n >= page) {
			buf_add(&next, srv.v[srv.n - 1].key.data,
			    srv.v[srv.n - 1].key.len);
			buf_addc(&next, '\0');
		} else if (reg.end.len == 0 || (e.len > 0 &&
		    bytes_cmp(e, buf_bytes(&reg.end)) <= 0)) {
			last = 1;
			buf_add(&next, e.ptr, e.len);
		} else {
			buf_add(&next, reg.end.data, reg.end.len);
		}
		upto = buf_bytes(&next);
		scan_merge(t, &res, &srv, &own, upto, last && e.len == 0, limit,
		    key_only);
		if (last)
			break;
		if (bytes_cmp(upto, buf_bytes(&cur)) <= 0) {
			log_setreason("TXN_SCAN: region %" PRIu64 " does not "
			    "move the scan on", reg.id);
			goto out;
		}
		buf_reset(&cur);
		buf_add(&cur, next.data, next.len);
	}
	*out = res.v;
	*n = res.n;
	res.v = NULL;
	res.n = 0;
	rc = 0;
out:
	client_pairs_free(res.v, res.n);
	client_pairs_free(srv.v, srv.n);
	region_free(&reg);
	buf_free(&cur);
	buf_free(&next);
	return rc;
}
