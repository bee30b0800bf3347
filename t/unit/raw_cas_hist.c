/*
 * raw_cas_hist: client threads run random compare-and-swaps, puts,
 * deletes and gets on a few keys of a tikvd cluster, write the history
 * in lincheck_tool's line format (lincheck.h), and check it for
 * linearizability.
 *
 *	raw_cas_hist -p pd_url [-Sv] [-b steps] [-c clients] [-d seconds]
 *	    [-k keys] [-m cas,get,put,del] [-n ops] [-P prefix] [-s seed]
 *	    [-t timeout_ms] -o history
 *	raw_cas_hist -C [-b steps] -o history
 *
 * Each thread has its own struct client (-S: all share one).  Separate
 * clients are the default because they are what a real cluster serves:
 * independent processes, each with its own routing cache that learns of
 * a split or a new leader on its own, so the stores see the stale
 * epochs and wrong leaders of several clients at once.  -S covers the
 * other contract of client.h, many threads on one client.
 *
 * The operations are drawn with the weights of -m (default 45,30,15,10).
 * A CAS expects the key absent or the value its thread saw there last,
 * and puts a value no other operation writes or deletes the key.  Times
 * are CLOCK_MONOTONIC nanoseconds.  A write that did not return success
 * (CLIENT_UNKNOWN, or an error: the client gives up only after sending)
 * is written as pending: it may have happened at any time after its
 * invocation.  A read that failed is left out.  The thread goes on
 * under a new client number, as a crashed Jepsen process would.
 *
 * -C checks an existing history and runs nothing.  Exit 0: linearizable;
 * 1: not (the key and why on stdout); 2: usage, cluster or I/O errors, or
 * the search gave up after -b steps.
 */
#include <err.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "clock.h"
#include "lincheck.h"
#include "log.h"
#include "xmalloc.h"

#define MAX_PD		8
#define MAX_REASONS	5

struct rec {
	uint64_t invoke;
	char *line;
};

/* The value a thread saw in a key last. */
struct seen {
	int present;
	struct buf val;
};

struct counts {
	size_t get, put, del, cas, swapped;
	size_t unknown;		/* writes: CLIENT_UNKNOWN */
	size_t failed;		/* writes: -1, pending too */
	size_t readerr;		/* reads that failed, left out */
};

struct worker {
	int idx;
	int proc;		/* client number in the history */
	uint64_t rng;
	pthread_t th;
	struct client *cl;
	struct seen *seen;
	struct rec *recs;
	size_t nrecs;
	size_t caprecs;
	struct counts n;
	size_t nreasons;
	char reasons[MAX_REASONS][256];
};

static char *pd_urls[MAX_PD];
static size_t npd;
static int nclients = 4;
static int nkeys = 3;
static long nops = 300;
static long duration_s;
static const char *prefix = "cas/";
static int timeout_ms = 5000;
static int mix[4] = { 45, 30, 15, 10 };	/* cas, get, put, del */
static int mixsum = 100;
static struct client *shared;
static uint64_t deadline_ns;

/* xorshift64*: each thread its own, reproducible from the seed. */
static uint32_t
rnd(struct worker *w, uint32_t n)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (uint32_t)((w->rng * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

/* A value as a lincheck token: -, "", or bytes with %XX escapes. */
static void
add_val(struct buf *b, int present, const void *p, size_t len)
{
	const uint8_t *s = p;
	size_t i;

	buf_addc(b, ' ');
	if (!present) {
		buf_addc(b, '-');
		return;
	}
	if (len == 0) {
		buf_addstr(b, "\"\"");
		return;
	}
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] != '\0' && strchr("._/:+=", s[i]) != NULL))
			buf_addc(b, s[i]);
		else
			buf_printf(b, "%%%02X", s[i]);
	}
}

static void
note_reason(struct worker *w, const char *what)
{
	if (w->nreasons < MAX_REASONS)
		snprintf(w->reasons[w->nreasons++], sizeof(w->reasons[0]),
		    "client %d: %s: %s", w->idx, what, log_reason());
}

static void
record(struct worker *w, uint64_t invoke, uint64_t ret, const char *op,
    const struct buf *key, const struct buf *args)
{
	struct buf line = BUF_INIT;

	buf_printf(&line, "%d %" PRIu64, w->proc, invoke);
	if (ret == LINCHECK_PENDING)
		buf_addstr(&line, " -");
	else
		buf_printf(&line, " %" PRIu64, ret);
	buf_printf(&line, " %s", op);
	add_val(&line, 1, key->data, key->len);
	buf_add(&line, args->data, args->len);
	if (ret == LINCHECK_PENDING) {
		buf_addstr(&line, " ?");
		/* This client "crashed": its successor gets a new number. */
		w->proc += nclients;
	}
	if (w->nrecs == w->caprecs) {
		w->caprecs = w->caprecs ? w->caprecs * 2 : 256;
		w->recs = xreallocarray(w->recs, w->caprecs,
		    sizeof(w->recs[0]));
	}
	w->recs[w->nrecs].invoke = invoke;
	w->recs[w->nrecs].line = (char *)buf_detach(&line, NULL);
	w->nrecs++;
}

static void
saw(struct seen *s, int present, const void *p, size_t len)
{
	s->present = present;
	buf_reset(&s->val);
	if (present)
		buf_add(&s->val, p, len);
}

static void
do_get(struct worker *w, const struct buf *key, struct seen *s)
{
	struct buf val = BUF_INIT, args = BUF_INIT;
	uint64_t t0, t1;
	int rc;

	t0 = clock_mono_ns();
	rc = client_get(w->cl, key->data, key->len, &val);
	t1 = clock_mono_ns();
	if (rc < 0) {
		w->n.readerr++;
		note_reason(w, "get");
	} else {
		add_val(&args, rc == 1, val.data, val.len);
		record(w, t0, t1, "get", key, &args);
		saw(s, rc == 1, val.data, val.len);
		w->n.get++;
	}
	buf_free(&val);
	buf_free(&args);
}

/* The end of a write: done, or pending after rc < 0. */
static uint64_t
write_done(struct worker *w, int rc, const char *what)
{
	if (rc == 0)
		return clock_mono_ns();
	if (rc == CLIENT_UNKNOWN)
		w->n.unknown++;
	else
		w->n.failed++;
	note_reason(w, what);
	return LINCHECK_PENDING;
}

static void
do_put(struct worker *w, const struct buf *key, struct seen *s,
    const struct buf *val)
{
	struct buf args = BUF_INIT;
	uint64_t t0, t1;
	int rc;

	t0 = clock_mono_ns();
	rc = client_put(w->cl, key->data, key->len, val->data, val->len, 0);
	t1 = write_done(w, rc, "put");
	add_val(&args, 1, val->data, val->len);
	if (t1 != LINCHECK_PENDING) {
		buf_addstr(&args, " ok");
		saw(s, 1, val->data, val->len);
	}
	record(w, t0, t1, "put", key, &args);
	w->n.put++;
	buf_free(&args);
}

static void
do_del(struct worker *w, const struct buf *key, struct seen *s)
{
	struct buf args = BUF_INIT;
	uint64_t t0, t1;
	int rc;

	t0 = clock_mono_ns();
	rc = client_delete(w->cl, key->data, key->len);
	t1 = write_done(w, rc, "delete");
	if (t1 != LINCHECK_PENDING) {
		buf_addstr(&args, " ok");
		saw(s, 0, NULL, 0);
	}
	record(w, t0, t1, "del", key, &args);
	w->n.del++;
	buf_free(&args);
}

static void
do_cas(struct worker *w, const struct buf *key, struct seen *s,
    const struct buf *val)
{
	struct client_cas cas;
	struct buf args = BUF_INIT, prev = BUF_INIT, expect = BUF_INIT;
	uint64_t t0, t1;
	int rc, swapped = 0, found = 0;

	memset(&cas, 0, sizeof(cas));
	cas.expect_absent = !s->present || rnd(w, 4) == 0;
	if (!cas.expect_absent)
		buf_add(&expect, s->val.data, s->val.len);
	cas.expect.ptr = expect.data;
	cas.expect.len = expect.len;
	cas.del = rnd(w, 5) == 0;
	cas.value.ptr = val->data;
	cas.value.len = val->len;
	t0 = clock_mono_ns();
	rc = client_cas(w->cl, key->data, key->len, &cas, &swapped, &found,
	    &prev);
	t1 = write_done(w, rc, "cas");
	add_val(&args, !cas.expect_absent, expect.data, expect.len);
	add_val(&args, !cas.del, val->data, val->len);
	if (t1 != LINCHECK_PENDING) {
		buf_addstr(&args, swapped ? " ok" : " fail");
		add_val(&args, found, prev.data, prev.len);
		if (swapped)
			saw(s, !cas.del, val->data, val->len);
		else
			saw(s, found, prev.data, prev.len);
		w->n.swapped += swapped;
	}
	record(w, t0, t1, "cas", key, &args);
	w->n.cas++;
	buf_free(&args);
	buf_free(&prev);
	buf_free(&expect);
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct buf key = BUF_INIT, val = BUF_INIT;
	long i;
	int k, r;

	if ((w->cl = shared) == NULL &&
	    (w->cl = client_open(pd_urls, npd, timeout_ms)) == NULL)
		errx(2, "client %d: %s", w->idx, log_reason());
	for (i = 0; i < nops; i++) {
		if (deadline_ns != 0 && clock_mono_ns() >= deadline_ns)
			break;
		k = (int)rnd(w, (uint32_t)nkeys);
		buf_reset(&key);
		buf_printf(&key, "%sk%d", prefix, k);
		buf_reset(&val);
		buf_printf(&val, "c%d.%ld", w->idx, i);
		r = (int)rnd(w, (uint32_t)mixsum);
		if ((r -= mix[0]) < 0)
			do_cas(w, &key, &w->seen[k], &val);
		else if ((r -= mix[1]) < 0)
			do_get(w, &key, &w->seen[k]);
		else if ((r -= mix[2]) < 0)
			do_put(w, &key, &w->seen[k], &val);
		else
			do_del(w, &key, &w->seen[k]);
	}
	if (shared == NULL)
		client_close(w->cl);
	buf_free(&key);
	buf_free(&val);
	return NULL;
}

static int
by_invoke(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return (x->invoke > y->invoke) - (x->invoke < y->invoke);
}

/* Runs the workers and writes their history, in invocation order. */
static void
run(const char *out, int share, uint64_t seed)
{
	struct worker *ws;
	struct counts t;
	struct rec *all;
	size_t nall = 0, i, j, nreasons = 0;
	FILE *f;
	int c;

	memset(&t, 0, sizeof(t));
	if (share && (shared = client_open(pd_urls, npd, timeout_ms)) == NULL)
		errx(2, "%s", log_reason());
	ws = xcalloc((size_t)nclients, sizeof(*ws));
	if (duration_s > 0)
		deadline_ns = clock_mono_ns() + (uint64_t)duration_s * 1000000000;
	for (c = 0; c < nclients; c++) {
		ws[c].idx = c;
		ws[c].proc = c;
		ws[c].rng = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)c + 1;
		ws[c].seen = xcalloc((size_t)nkeys, sizeof(ws[c].seen[0]));
		if (pthread_create(&ws[c].th, NULL, work, &ws[c]) != 0)
			errx(2, "cannot start a client thread");
	}
	for (c = 0; c < nclients; c++) {
		pthread_join(ws[c].th, NULL);
		nall += ws[c].nrecs;
	}
	if (shared != NULL)
		client_close(shared);
	all = xcalloc(nall ? nall : 1, sizeof(*all));
	for (c = 0, j = 0; c < nclients; c++) {
		for (i = 0; i < ws[c].nrecs; i++)
			all[j++] = ws[c].recs[i];
		t.get += ws[c].n.get;
		t.put += ws[c].n.put;
		t.del += ws[c].n.del;
		t.cas += ws[c].n.cas;
		t.swapped += ws[c].n.swapped;
		t.unknown += ws[c].n.unknown;
		t.failed += ws[c].n.failed;
		t.readerr += ws[c].n.readerr;
		for (i = 0; i < ws[c].nreasons && nreasons < MAX_REASONS;
		    i++, nreasons++)
			warnx("%s", ws[c].reasons[i]);
	}
	qsort(all, nall, sizeof(*all), by_invoke);
	if ((f = fopen(out, "w")) == NULL)
		err(2, "cannot open '%s'", out);
	fprintf(f, "# raw_cas_hist -c %d -k %d -m %d,%d,%d,%d -n %ld -s %"
	    PRIu64 "%s\n", nclients, nkeys, mix[0], mix[1], mix[2], mix[3],
	    nops, seed, share ? " -S" : "");
	for (i = 0; i < nall; i++) {
		fprintf(f, "%s\n", all[i].line);
		free(all[i].line);
	}
	if (fflush(f) == EOF || ferror(f) || fclose(f) == EOF)
		err(2, "cannot write '%s'", out);
	printf("ops %zu get %zu put %zu del %zu cas %zu swapped %zu "
	    "pending %zu unknown %zu failed %zu readerr %zu\n", nall, t.get,
	    t.put, t.del, t.cas, t.swapped, t.unknown + t.failed, t.unknown,
	    t.failed, t.readerr);
	for (c = 0; c < nclients; c++) {
		for (j = 0; j < (size_t)nkeys; j++)
			buf_free(&ws[c].seen[j].val);
		free(ws[c].seen);
		free(ws[c].recs);
	}
	free(ws);
	free(all);
}

/* Reads the history back and checks it: the file is what was checked. */
static int
check(const char *path, uint64_t budget)
{
	struct lincheck *lc;
	struct buf why = BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL)
		err(2, "cannot open '%s'", path);
	lc = lincheck_new();
	lincheck_set_budget(lc, budget);
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		if (lincheck_add_line(lc, line) == -1)
			errx(2, "%s:%lu: %s", path, lineno, log_reason());
	}
	if (ferror(f))
		err(2, "cannot read '%s'", path);
	fclose(f);
	free(line);
	switch (lincheck_check(lc, &why)) {
	case LINCHECK_OK:
		printf("linearizable: %zu operations\n", lincheck_count(lc));
		rc = 0;
		break;
	case LINCHECK_VIOLATION:
		printf("not linearizable: %s\n", (const char *)why.data);
		rc = 1;
		break;
	default:
		warnx("%s", (const char *)why.data);
		rc = 2;
		break;
	}
	lincheck_free(lc);
	buf_free(&why);
	return rc;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: raw_cas_hist -p pd_url [-Sv] [-b steps] [-c clients] "
	    "[-d seconds]\n"
	    "           [-k keys] [-m cas,get,put,del] [-n ops] [-P prefix] "
	    "[-s seed]\n"
	    "           [-t timeout_ms] -o history\n"
	    "       raw_cas_hist -C [-b steps] -o history\n");
	exit(2);
}

static void
parse_mix(const char *arg)
{
	char *copy, *p, *t;
	const char *errstr;
	int i = 0;

	copy = xstrdup(arg);
	mixsum = 0;
	for (p = copy; (t = strsep(&p, ",")) != NULL; i++) {
		if (i == 4)
			errx(2, "-m '%s': want four weights: cas,get,put,del",
			    arg);
		mix[i] = (int)strtonum(t, 0, 1000, &errstr);
		if (errstr != NULL)
			errx(2, "-m '%s': weight '%s' is %s", arg, t, errstr);
		mixsum += mix[i];
	}
	if (i != 4)
		errx(2, "-m '%s': want four weights: cas,get,put,del", arg);
	if (mixsum == 0)
		errx(2, "-m '%s': the weights are all 0", arg);
	free(copy);
}

static long long
num(const char *opt, const char *s, long long lo, long long hi)
{
	const char *errstr;
	long long v;

	v = strtonum(s, lo, hi, &errstr);
	if (errstr != NULL)
		errx(2, "-%s '%s' is %s", opt, s, errstr);
	return v;
}

int
main(int argc, char *argv[])
{
	const char *out = NULL;
	uint64_t seed = 1, budget = 200000000;
	int ch, check_only = 0, share = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "CP:Sb:c:d:k:m:n:o:p:s:t:v")) != -1) {
		switch (ch) {
		case 'C':
			check_only = 1;
			break;
		case 'P':
			prefix = optarg;
			break;
		case 'S':
			share = 1;
			break;
		case 'b':
			budget = (uint64_t)num("b", optarg, 0, LLONG_MAX);
			break;
		case 'c':
			nclients = (int)num("c", optarg, 1, 256);
			break;
		case 'd':
			duration_s = (long)num("d", optarg, 0, 86400);
			break;
		case 'k':
			nkeys = (int)num("k", optarg, 1, 1000);
			break;
		case 'm':
			parse_mix(optarg);
			break;
		case 'n':
			nops = (long)num("n", optarg, 0, 100000000);
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			if (npd == MAX_PD)
				errx(2, "at most %d -p", MAX_PD);
			pd_urls[npd++] = optarg;
			break;
		case 's':
			seed = (uint64_t)num("s", optarg, 0, LLONG_MAX);
			break;
		case 't':
			timeout_ms = (int)num("t", optarg, 1, 600000);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || out == NULL || (npd == 0 && !check_only))
		usage();
	log_init("raw_cas_hist", verbose ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
	    0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!check_only)
		run(out, share, seed);
	return check(out, budget);
}
