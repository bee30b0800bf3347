/*
 * The load and run phases: worker threads share one client (it is
 * thread-safe and keeps one connection per store), each with its own
 * generators, histograms and error counts, merged when all have stopped.
 *
 * With a depth above 1 a worker draws that many operations at once and
 * sends them together: the reads (and the reads of read-modify-writes)
 * as one client_batch_get, the updates, inserts and writes of
 * read-modify-writes as one client_batch_put (each split by region into
 * one message per region), and scans one after another.  Each operation
 * counts the time of the call that carried it; a read-modify-write both.
 *
 * In txn mode (-m txn) each operation is a transaction of its own, and
 * a batch of depth operations makes at most one read-only transaction
 * for its reads (txn_batch_get), one for its writes (updates, inserts,
 * and read-modify-writes, whose reads come first in it; one commit), and
 * one per scan.  Each operation counts the time of its transaction, from
 * txn_begin (a timestamp from PD) to the reply of the commit.  A write
 * conflict or an unknown outcome fails every operation of the
 * transaction; none is retried.
 *
 * Inserts of the run phase take record numbers from recordcount up.  A
 * reader only picks records below the acknowledged limit: one past the
 * highest number every insert below which has finished, as YCSB's
 * AcknowledgedCounterGenerator does, so reads never race their inserts.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "buf.h"
#include "client.h"
#include "clock.h"
#include "log.h"
#include "txn.h"
#include "xmalloc.h"

#define TICK_MS			100
#define PROGRESS_SECS		2
#define ACK_WINDOW		(1u << 20)
#define VALUE_POOL_EXTRA	65536

enum status {
	ST_OK,
	ST_NOT_FOUND,
	ST_FAILED
};

struct runner;

struct worker {
	struct runner *r;
	pthread_t tid;
	int id;
	struct chooser ch;
	struct hist *hist[OP_COUNT];
	uint64_t errors[OP_COUNT];
	struct errkind kinds[ERRKIND_MAX];
	size_t nkinds;
	_Atomic uint64_t done;		/* for progress lines */
	_Atomic uint64_t failed;
	uint64_t next_ns;		/* pacing: when the next batch is due */

	/* One batch of up to depth operations. */
	int *op;
	uint64_t *keynum;
	uint64_t *scanlen;
	uint64_t *lat_us;
	int *status;
	const char **why;		/* ST_FAILED: the reason */
	const char **kind;		/* ST_FAILED: its kind; NULL: by why */
	struct buf *keys;
	struct bytes *kb;
	struct bytes *vb;
	int *found;
	struct buf *vals;
	size_t *idx;
	struct buf end;
	char read_reason[ERRSAMPLE_LEN];
	char write_reason[ERRSAMPLE_LEN];
	char scan_reason[ERRSAMPLE_LEN];
};

struct runner {
	const struct bench *b;
	const struct workload *w;
	_Atomic int stop;
	_Atomic int recording;
	_Atomic int finished;
	_Atomic uint64_t claimed;	/* ops (run) or records (load) */
	uint64_t opcount;		/* run: 0 for no limit */
	_Atomic uint64_t insert_next;	/* run: next record to insert */
	pthread_mutex_t ack_mu;
	_Atomic uint64_t ack_limit;
	uint8_t *ack_done;
	uint64_t interval_ns;		/* pacing: per op and worker */
	char *pool;			/* bytes values are cut from */
	size_t pool_len;
	struct zipf latest;
	struct worker *wk;
};

static void
sleep_until(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u),
	    (long)(ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
	    NULL) == EINTR)
		;
}

/* --- errors -------------------------------------------------------------- */

void
errkind_classify(const char *reason, char *kind, size_t len)
{
	static const char *const words[] = {
		"CLIENT_ERROR", "SERVER_ERROR", "NOT_LEADER",
		"EPOCH_NOT_MATCH", "KEY_NOT_IN_REGION", "REGION_NOT_FOUND",
		"SERVER_IS_BUSY", "STALE_COMMAND", "RAFT_ENTRY_TOO_LARGE",
		NULL
	};
	const char *best = NULL, *p;
	size_t i;

	if (strstr(reason, "outcome unknown") != NULL) {
		strlcpy(kind, "outcome_unknown", len);
		return;
	}
	/* The first error word the reason names is its cause. */
	for (i = 0; words[i] != NULL; i++)
		if ((p = strstr(reason, words[i])) != NULL &&
		    (best == NULL || p < best)) {
			best = p;
			strlcpy(kind, words[i], len);
		}
	if (best != NULL)
		return;
	if (strstr(reason, "timed out") != NULL)
		strlcpy(kind, "timed_out", len);
	else if (strstr(reason, "no reply") != NULL)
		strlcpy(kind, "no_reply", len);
	else if (strncmp(reason, "pd", 2) == 0)
		strlcpy(kind, "pd", len);
	else
		strlcpy(kind, "other", len);
}

void
errkind_add(struct errkind *t, size_t *n, const char *kind, uint64_t count,
    const char *sample)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(t[i].kind, kind) == 0)
			break;
	if (i == *n) {
		if (*n == ERRKIND_MAX) {
			/* Full: the last slot becomes "other". */
			i = *n - 1;
			strlcpy(t[i].kind, "other", sizeof(t[i].kind));
		} else {
			(*n)++;
			strlcpy(t[i].kind, kind, sizeof(t[i].kind));
			t[i].count = 0;
			strlcpy(t[i].sample, sample, sizeof(t[i].sample));
		}
	}
	t[i].count += count;
}

uint64_t
result_errors(const struct result *res)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < OP_COUNT; i++)
		n += res->errors[i];
	return n;
}

/* --- acknowledged inserts ------------------------------------------------ */

static void
ack_insert(struct runner *r, uint64_t k)
{
	uint64_t lim;

	pthread_mutex_lock(&r->ack_mu);
	lim = atomic_load(&r->ack_limit);
	/* Past the window only if an insert below stalls for a million
	 * others; the limit then stays where it is. */
	if (k >= lim && k - lim < ACK_WINDOW) {
		r->ack_done[k % ACK_WINDOW] = 1;
		while (r->ack_done[lim % ACK_WINDOW]) {
			r->ack_done[lim % ACK_WINDOW] = 0;
			lim++;
		}
		atomic_store(&r->ack_limit, lim);
	}
	pthread_mutex_unlock(&r->ack_mu);
}

/* --- one batch ----------------------------------------------------------- */

static const char *
keep_reason(char *dst)
{
	strlcpy(dst, log_reason(), ERRSAMPLE_LEN);
	return dst;
}

static void
pick_value(struct worker *wk, struct bytes *v)
{
	struct runner *r = wk->r;
	size_t len = workload_value_len(r->w);

	v->ptr = (const uint8_t *)r->pool +
	    rng_below(&wk->ch.rng, r->pool_len - len + 1);
	v->len = len;
}

/*
 * The outcome of the m reads listed in wk->idx, sent together: each took
 * us (added: a read-modify-write's write adds its own), and all failed
 * with the batch's read reason or found what wk->found says.
 */
static void
note_reads(struct worker *wk, size_t m, int rc, uint64_t us)
{
	size_t i, j;

	for (j = 0; j < m; j++) {
		i = wk->idx[j];
		wk->lat_us[i] += us;
		if (rc == -1) {
			wk->status[i] = ST_FAILED;
			wk->why[i] = wk->read_reason;
		} else if (!wk->found[j])
			wk->status[i] = ST_NOT_FOUND;
	}
}

/* The reads of the batch: its READ and READ_MODIFY_WRITE operations. */
static void
do_reads(struct worker *wk, size_t n)
{
	struct client *c = wk->r->b->client;
	size_t i, m = 0;
	uint64_t t0, us;
	int rc;

	for (i = 0; i < n; i++)
		if (wk->op[i] == OP_READ || wk->op[i] == OP_RMW) {
			wk->idx[m] = i;
			wk->kb[m] = buf_bytes(&wk->keys[i]);
			m++;
		}
	if (m == 0)
		return;
	t0 = clock_mono_ns();
	if (m == 1) {
		rc = client_get(c, wk->kb[0].ptr, wk->kb[0].len, &wk->vals[0]);
		if (rc >= 0) {
			wk->found[0] = rc;
			rc = 0;
		}
	} else
		rc = client_batch_get(c, wk->kb, m, wk->found, wk->vals);
	us = (clock_mono_ns() - t0) / 1000;
	if (rc == -1)
		keep_reason(wk->read_reason);
	note_reads(wk, m, rc, us);
}

/* The writes: UPDATE, INSERT and the write of READ_MODIFY_WRITE. */
static void
do_writes(struct worker *wk, size_t n)
{
	struct client *c = wk->r->b->client;
	size_t i, m = 0, j;
	uint64_t t0, us;
	int rc;

	for (i = 0; i < n; i++)
		if (wk->op[i] == OP_UPDATE || wk->op[i] == OP_INSERT ||
		    wk->op[i] == OP_RMW) {
			wk->idx[m] = i;
			wk->kb[m] = buf_bytes(&wk->keys[i]);
			pick_value(wk, &wk->vb[m]);
			m++;
		}
	if (m == 0)
		return;
	t0 = clock_mono_ns();
	if (m == 1)
		rc = client_put(c, wk->kb[0].ptr, wk->kb[0].len,
		    wk->vb[0].ptr, wk->vb[0].len, 0);
	else
		rc = client_batch_put(c, wk->kb, wk->vb, m, 0);
	us = (clock_mono_ns() - t0) / 1000;
	if (rc != 0) {
		/* CLIENT_UNKNOWN too: the write may not have happened. */
		rc = -1;
		keep_reason(wk->write_reason);
	}
	for (j = 0; j < m; j++) {
		i = wk->idx[j];
		wk->lat_us[i] += us;
		/* A read-modify-write keeps the failure of its read. */
		if (rc == -1 && wk->status[i] == ST_OK) {
			wk->status[i] = ST_FAILED;
			wk->why[i] = wk->write_reason;
		}
		if (wk->op[i] == OP_INSERT && wk->r->b->phase == PHASE_RUN)
			ack_insert(wk->r, wk->keynum[i]);
	}
}

static void
do_scans(struct worker *wk, size_t n)
{
	struct client *c = wk->r->b->client;
	struct client_pair *pairs;
	size_t i, np;
	uint64_t t0;

	for (i = 0; i < n; i++) {
		if (wk->op[i] != OP_SCAN)
			continue;
		t0 = clock_mono_ns();
		if (client_scan(c, wk->keys[i].data, wk->keys[i].len,
		    wk->end.data, wk->end.len, (size_t)wk->scanlen[i], 0,
		    &pairs, &np) == -1) {
			wk->status[i] = ST_FAILED;
			/* One reason per batch is kept: the last. */
			wk->why[i] = keep_reason(wk->scan_reason);
		} else
			client_pairs_free(pairs, np);
		wk->lat_us[i] = (clock_mono_ns() - t0) / 1000;
	}
}

/* --- one batch in transactions (txn mode) -------------------------------- */

static int
is_write(int op)
{
	return op == OP_UPDATE || op == OP_INSERT || op == OP_RMW;
}

/*
 * A failed transaction call: rc is its return.  Fills dst with the
 * reason and returns the error kind, NULL to classify the reason.
 */
static const char *
txn_failure(int rc, uint64_t start_ts, char *dst)
{
	switch (rc) {
	case TXN_CONFLICT:
		snprintf(dst, ERRSAMPLE_LEN, "write conflict: a key was "
		    "written after start_ts %" PRIu64 ", or the transaction "
		    "was rolled back by another", start_ts);
		return "conflict";
	case TXN_ALREADY_EXIST:
		snprintf(dst, ERRSAMPLE_LEN, "a key inserted exists");
		return "already_exist";
	case CLIENT_UNKNOWN:
		keep_reason(dst);
		return "outcome_unknown";
	default:
		keep_reason(dst);
		return NULL;
	}
}

/* The READ operations, in one read-only transaction. */
static void
txn_reads(struct worker *wk, size_t n)
{
	struct client *c = wk->r->b->client;
	struct txn *t;
	size_t i, m = 0;
	uint64_t t0, us;
	int rc;

	for (i = 0; i < n; i++)
		if (wk->op[i] == OP_READ) {
			wk->idx[m] = i;
			wk->kb[m] = buf_bytes(&wk->keys[i]);
			m++;
		}
	if (m == 0)
		return;
	t0 = clock_mono_ns();
	if ((t = txn_begin(c)) == NULL)
		rc = -1;
	else if (m == 1) {
		rc = txn_get(t, wk->kb[0].ptr, wk->kb[0].len, &wk->vals[0]);
		if (rc >= 0) {
			wk->found[0] = rc;
			rc = 0;
		}
	} else
		rc = txn_batch_get(t, wk->kb, m, wk->found, wk->vals);
	if (rc == -1)
		keep_reason(wk->read_reason);
	if (t != NULL)
		txn_free(t);
	us = (clock_mono_ns() - t0) / 1000;
	note_reads(wk, m, rc, us);
}

/*
 * The reads of the READ_MODIFY_WRITE operations, in the transaction
 * that writes them: a record that is not there is still written, as in
 * raw mode, and counted not found.
 */
static int
txn_rmw_reads(struct worker *wk, struct txn *t, size_t n)
{
	size_t i, m = 0, j;
	int rc;

	for (i = 0; i < n; i++)
		if (wk->op[i] == OP_RMW) {
			wk->idx[m] = i;
			wk->kb[m] = buf_bytes(&wk->keys[i]);
			m++;
		}
	if (m == 0)
		return 0;
	if (m == 1) {
		rc = txn_get(t, wk->kb[0].ptr, wk->kb[0].len, &wk->vals[0]);
		if (rc >= 0) {
			wk->found[0] = rc;
			rc = 0;
		}
	} else
		rc = txn_batch_get(t, wk->kb, m, wk->found, wk->vals);
	if (rc == -1)
		return -1;
	for (j = 0; j < m; j++)
		if (!wk->found[j])
			wk->status[wk->idx[j]] = ST_NOT_FOUND;
	return 0;
}

/* UPDATE, INSERT and READ_MODIFY_WRITE: one transaction, one commit. */
static void
txn_writes(struct worker *wk, size_t n)
{
	struct client *c = wk->r->b->client;
	struct txn *t;
	struct bytes v;
	const char *kind = NULL;
	size_t i, m = 0;
	uint64_t t0, us, start_ts = 0;
	int rc;

	for (i = 0; i < n; i++)
		if (is_write(wk->op[i]))
			m++;
	if (m == 0)
		return;
	t0 = clock_mono_ns();
	if ((t = txn_begin(c)) == NULL)
		rc = -1;
	else if ((rc = txn_rmw_reads(wk, t, n)) == 0) {
		start_ts = txn_start_ts(t);
		for (i = 0; i < n; i++)
			if (is_write(wk->op[i])) {
				pick_value(wk, &v);
				txn_put(t, wk->keys[i].data, wk->keys[i].len,
				    v.ptr, v.len);
			}
		rc = txn_commit(t, NULL);
	}
	if (rc != 0)
		kind = txn_failure(rc, start_ts, wk->write_reason);
	if (t != NULL)
		txn_free(t);
	us = (clock_mono_ns() - t0) / 1000;
	for (i = 0; i < n; i++) {
		if (!is_write(wk->op[i]))
			continue;
		wk->lat_us[i] = us;
		if (rc != 0) {
			wk->status[i] = ST_FAILED;
			wk->why[i] = wk->write_reason;
			wk->kind[i] = kind;
		}
		if (wk->op[i] == OP_INSERT && wk->r->b->phase == PHASE_RUN)
			ack_insert(wk->r, wk->keynum[i]);
	}
}

/* Each SCAN in a read-only transaction of its own. */
static void
txn_scans(struct worker *wk, size_t n)
{
	struct client *c = wk->r->b->client;
	struct client_pair *pairs;
	struct txn *t;
	size_t i, np;
	uint64_t t0;
	int rc;

	for (i = 0; i < n; i++) {
		if (wk->op[i] != OP_SCAN)
			continue;
		t0 = clock_mono_ns();
		if ((t = txn_begin(c)) == NULL)
			rc = -1;
		else
			rc = txn_scan(t, wk->keys[i].data, wk->keys[i].len,
			    wk->end.data, wk->end.len,
			    (size_t)wk->scanlen[i], 0, &pairs, &np);
		if (rc == -1) {
			wk->status[i] = ST_FAILED;
			wk->why[i] = keep_reason(wk->scan_reason);
		} else
			client_pairs_free(pairs, np);
		if (t != NULL)
			txn_free(t);
		wk->lat_us[i] = (clock_mono_ns() - t0) / 1000;
	}
}

static void
account(struct worker *wk, size_t n, int rec)
{
	char kind[ERRKIND_LEN];
	uint64_t failed = 0;
	size_t i;

	if (!rec)
		return;
	for (i = 0; i < n; i++) {
		switch (wk->status[i]) {
		case ST_OK:
			hist_record(wk->hist[wk->op[i]], wk->lat_us[i]);
			continue;
		case ST_NOT_FOUND:
			errkind_add(wk->kinds, &wk->nkinds, "not_found", 1,
			    (const char *)wk->keys[i].data);
			break;
		default:
			if (wk->kind[i] != NULL)
				strlcpy(kind, wk->kind[i], sizeof(kind));
			else
				errkind_classify(wk->why[i], kind,
				    sizeof(kind));
			errkind_add(wk->kinds, &wk->nkinds, kind, 1,
			    wk->why[i]);
			break;
		}
		wk->errors[wk->op[i]]++;
		failed++;
	}
	atomic_fetch_add_explicit(&wk->done, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&wk->failed, failed, memory_order_relaxed);
}

static void
execute(struct worker *wk, size_t n, int rec)
{
	size_t i;

	for (i = 0; i < n; i++) {
		wk->status[i] = ST_OK;
		wk->lat_us[i] = 0;
		wk->why[i] = NULL;
		wk->kind[i] = NULL;
	}
	if (wk->r->b->txn) {
		txn_reads(wk, n);
		txn_writes(wk, n);
		txn_scans(wk, n);
	} else {
		do_reads(wk, n);
		do_writes(wk, n);
		do_scans(wk, n);
	}
	account(wk, n, rec);
}

static void
pace(struct worker *wk, size_t n)
{
	uint64_t now;

	if (wk->r->interval_ns == 0)
		return;
	now = clock_mono_ns();
	if (wk->next_ns > now)
		sleep_until(wk->next_ns);
	wk->next_ns += n * wk->r->interval_ns;
}

/* --- workers ------------------------------------------------------------- */

static void *
worker_load(void *arg)
{
	struct worker *wk = arg;
	struct runner *r = wk->r;
	const struct workload *w = r->w;
	size_t n, i, depth = (size_t)r->b->depth;
	uint64_t c;

	while (!atomic_load(&r->stop)) {
		c = atomic_fetch_add(&r->claimed, depth);
		if (c >= w->insertcount)
			break;
		n = w->insertcount - c < depth ? w->insertcount - c : depth;
		for (i = 0; i < n; i++) {
			wk->op[i] = OP_INSERT;
			wk->keynum[i] = w->insertstart + c + i;
			workload_key(w, wk->keynum[i], &wk->keys[i]);
		}
		pace(wk, n);
		execute(wk, n, 1);
	}
	atomic_fetch_add(&r->finished, 1);
	return NULL;
}

static void *
worker_run(void *arg)
{
	struct worker *wk = arg;
	struct runner *r = wk->r;
	const struct workload *w = r->w;
	size_t n, i, depth = (size_t)r->b->depth;
	uint64_t c, limit;
	int rec;

	while (!atomic_load(&r->stop)) {
		rec = atomic_load(&r->recording);
		n = depth;
		if (rec && r->opcount != 0) {
			c = atomic_fetch_add(&r->claimed, depth);
			if (c >= r->opcount)
				break;
			if (r->opcount - c < n)
				n = r->opcount - c;
		}
		limit = atomic_load(&r->ack_limit);
		for (i = 0; i < n; i++) {
			wk->op[i] = chooser_op(&wk->ch);
			if (wk->op[i] == OP_INSERT)
				wk->keynum[i] = atomic_fetch_add(
				    &r->insert_next, 1);
			else
				wk->keynum[i] = chooser_key(&wk->ch, limit);
			if (wk->op[i] == OP_SCAN)
				wk->scanlen[i] = chooser_scan_length(&wk->ch);
			workload_key(w, wk->keynum[i], &wk->keys[i]);
		}
		pace(wk, n);
		execute(wk, n, rec);
	}
	atomic_fetch_add(&r->finished, 1);
	return NULL;
}

static void
worker_init(struct worker *wk, struct runner *r, int id,
    uint64_t expected_inserts)
{
	size_t d = (size_t)r->b->depth, i;

	memset(wk, 0, sizeof(*wk));
	wk->r = r;
	wk->id = id;
	chooser_init(&wk->ch, r->w, r->b->seed + (uint64_t)id,
	    expected_inserts, &r->latest);
	for (i = 0; i < OP_COUNT; i++)
		wk->hist[i] = hist_new();
	wk->op = xcalloc(d, sizeof(*wk->op));
	wk->keynum = xcalloc(d, sizeof(*wk->keynum));
	wk->scanlen = xcalloc(d, sizeof(*wk->scanlen));
	wk->lat_us = xcalloc(d, sizeof(*wk->lat_us));
	wk->status = xcalloc(d, sizeof(*wk->status));
	wk->why = xcalloc(d, sizeof(*wk->why));
	wk->kind = xcalloc(d, sizeof(*wk->kind));
	wk->keys = xcalloc(d, sizeof(*wk->keys));
	wk->kb = xcalloc(d, sizeof(*wk->kb));
	wk->vb = xcalloc(d, sizeof(*wk->vb));
	wk->found = xcalloc(d, sizeof(*wk->found));
	wk->vals = xcalloc(d, sizeof(*wk->vals));
	wk->idx = xcalloc(d, sizeof(*wk->idx));
	workload_key_end(r->w, &wk->end);
}

static void
worker_free(struct worker *wk)
{
	size_t d = (size_t)wk->r->b->depth, i;

	for (i = 0; i < OP_COUNT; i++)
		hist_free(wk->hist[i]);
	for (i = 0; i < d; i++) {
		buf_free(&wk->keys[i]);
		buf_free(&wk->vals[i]);
	}
	free(wk->op);
	free(wk->keynum);
	free(wk->scanlen);
	free(wk->lat_us);
	free(wk->status);
	free(wk->why);
	free(wk->kind);
	free(wk->keys);
	free(wk->kb);
	free(wk->vb);
	free(wk->found);
	free(wk->vals);
	free(wk->idx);
	buf_free(&wk->end);
}

/* --- the phase ----------------------------------------------------------- */

static void
progress_line(struct runner *r, double secs, uint64_t *last_done,
    double *last_secs)
{
	const struct bench *b = r->b;
	uint64_t done = 0, failed = 0;
	double rate;
	int i;

	for (i = 0; i < b->threads; i++) {
		done += atomic_load_explicit(&r->wk[i].done,
		    memory_order_relaxed);
		failed += atomic_load_explicit(&r->wk[i].failed,
		    memory_order_relaxed);
	}
	rate = secs > *last_secs ?
	    (double)(done - *last_done) / (secs - *last_secs) : 0;
	if (b->phase == PHASE_LOAD)
		printf("load %s: %6.1f s %10" PRIu64 " of %" PRIu64
		    " records %10.1f ops/s %6" PRIu64 " errors\n", r->w->name,
		    secs, done, r->w->insertcount, rate, failed);
	else
		printf("run %s: %6.1f s %10" PRIu64 " ops %10.1f ops/s %6"
		    PRIu64 " errors\n", r->w->name, secs, done, rate, failed);
	fflush(stdout);
	*last_done = done;
	*last_secs = secs;
}

static void
fill_pool(struct runner *r)
{
	struct rng rng;
	size_t i;

	r->pool_len = workload_value_len(r->w) + VALUE_POOL_EXTRA;
	r->pool = xmalloc(r->pool_len);
	rng_seed(&rng, r->b->seed ^ UINT64_C(0x5eed));
	for (i = 0; i < r->pool_len; i++)
		r->pool[i] = (char)('a' + rng_below(&rng, 26));
}

static uint64_t
expected_inserts(const struct bench *b, const struct workload *w)
{
	double sum = 0;
	int i;

	if (w->proportion[OP_INSERT] == 0)
		return 0;
	for (i = 0; i < OP_COUNT; i++)
		sum += w->proportion[i];
	/* YCSB's guess: twice the share of operationcount; by time, as
	 * many as there are records. */
	if (w->operationcount_set || b->duration == 0)
		return (uint64_t)((double)w->operationcount *
		    w->proportion[OP_INSERT] / sum * 2);
	return w->insertcount;
}

void
run_phase(const struct bench *b, struct result *res)
{
	struct runner r;
	uint64_t start, mstart, t, next_progress, last_done = 0;
	double last_secs = 0;
	int i, j, rc;

	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	r.b = b;
	r.w = b->w;
	if (b->phase == PHASE_RUN)
		r.opcount = b->w->operationcount_set || b->duration == 0 ?
		    b->w->operationcount : 0;
	atomic_store(&r.insert_next, b->w->recordcount);
	atomic_store(&r.ack_limit, b->w->recordcount);
	pthread_mutex_init(&r.ack_mu, NULL);
	r.ack_done = xcalloc(ACK_WINDOW, 1);
	if (b->rate > 0)
		r.interval_ns = (uint64_t)((double)b->threads * 1e9 /
		    (double)b->rate);
	fill_pool(&r);
	if (b->phase == PHASE_RUN &&
	    b->w->requestdistribution == DIST_LATEST)
		zipf_init(&r.latest, b->w->insertcount, -1);
	r.wk = xcalloc((size_t)b->threads, sizeof(*r.wk));
	for (i = 0; i < b->threads; i++)
		worker_init(&r.wk[i], &r, i, expected_inserts(b, b->w));

	atomic_store(&r.recording, b->phase == PHASE_LOAD || b->warmup == 0);
	start = mstart = clock_mono_ns();
	for (i = 0; i < b->threads; i++) {
		r.wk[i].next_ns = start;
		if ((rc = pthread_create(&r.wk[i].tid, NULL,
		    b->phase == PHASE_LOAD ? worker_load : worker_run,
		    &r.wk[i])) != 0)
			fatalx("cannot start a thread: %s", strerror(rc));
	}
	next_progress = start + PROGRESS_SECS * 1000000000ull;
	while (atomic_load(&r.finished) < b->threads) {
		sleep_until(clock_mono_ns() + TICK_MS * 1000000ull);
		t = clock_mono_ns();
		if (*b->interrupted && !atomic_load(&r.stop)) {
			atomic_store(&r.stop, 1);
			res->interrupted = 1;
		}
		if (!atomic_load(&r.recording) &&
		    t >= start + b->warmup * 1000000000ull) {
			atomic_store(&r.recording, 1);
			mstart = t;
			last_secs = 0;
		}
		if (atomic_load(&r.recording) && b->duration > 0 &&
		    t >= mstart + b->duration * 1000000000ull)
			atomic_store(&r.stop, 1);
		if (b->progress && t >= next_progress) {
			if (atomic_load(&r.recording))
				progress_line(&r, (double)(t - mstart) / 1e9,
				    &last_done, &last_secs);
			else
				printf("run %s: warm-up %.0f of %" PRIu64
				    " s\n", r.w->name,
				    (double)(t - start) / 1e9, b->warmup);
			fflush(stdout);
			next_progress += PROGRESS_SECS * 1000000000ull;
		}
	}
	for (i = 0; i < b->threads; i++)
		pthread_join(r.wk[i].tid, NULL);
	res->elapsed = (double)(clock_mono_ns() - mstart) / 1e9;

	res->total = hist_new();
	for (j = 0; j < OP_COUNT; j++)
		res->hist[j] = hist_new();
	for (i = 0; i < b->threads; i++) {
		struct worker *wk = &r.wk[i];
		size_t k;

		for (j = 0; j < OP_COUNT; j++) {
			hist_merge(res->hist[j], wk->hist[j]);
			hist_merge(res->total, wk->hist[j]);
			res->errors[j] += wk->errors[j];
		}
		for (k = 0; k < wk->nkinds; k++)
			errkind_add(res->kinds, &res->nkinds,
			    wk->kinds[k].kind, wk->kinds[k].count,
			    wk->kinds[k].sample);
		worker_free(wk);
	}
	free(r.wk);
	free(r.pool);
	free(r.ack_done);
	pthread_mutex_destroy(&r.ack_mu);
}

void
result_free(struct result *res)
{
	int i;

	for (i = 0; i < OP_COUNT; i++)
		hist_free(res->hist[i]);
	hist_free(res->total);
}
