/*
 * raw_load: write keys into a cluster through the raw client, recording
 * every acknowledged one, and later check that each of them reads back.
 *
 *	raw_load -p pd_url [-c threads] [-d seconds] [-k prefix] [-n keys]
 *	    [-t timeout_ms] -o ackfile
 *	raw_load -p pd_url [-c threads] [-t timeout_ms] -V ackfile
 *
 * Load: keys are prefix + a zero-padded number, each put once, with a
 * value derived from the key (value_of), from several threads until n
 * keys were tried or d seconds passed (-d alone: no key limit; neither:
 * 1000 keys).  A key goes to ackfile, one line, in one write(2), only
 * after client_put returned 0; a failed put is counted and the thread goes
 * on with a new key, so a load runs through leader changes and crashes.
 * A line in ackfile is therefore a promise the cluster made.  SIGTERM
 * or SIGINT ends the load once the puts under way return (within the
 * client's timeout, -t); a summary line goes to stdout.
 *
 * Verify (-V): every key of ackfile is read with client_get and compared
 * with value_of(key); prints "N keys verified", or names the first (in
 * file order) missing or wrong key and exits 1.
 *
 * Exit 0 on success, 1 on a failed check, 2 on usage or setup errors,
 * 3 when a client call hangs (under way for four timeouts).
 * The load itself succeeds even if every put failed: the ack file is its
 * result, and the summary line on stdout says how it went.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "clock.h"
#include "log.h"

#define MAX_PD		8
#define MAX_THREADS	256
#define KEY_MAX		256
#define VALUE_MAX	(KEY_MAX + 64)
/* Errors printed in full; after these only every 100th. */
#define ERRORS_SHOWN	10

static struct client *cl;
static const char *prefix = "k";
static long long nkeys = -1;
static uint64_t deadline_ms;
static int ack_fd = -1;

static atomic_int stopping;
static atomic_llong next_key;
static atomic_llong acked;
static atomic_llong failed;

/*
 * When each thread's call under way began (0: none).  The client promises
 * to return within its timeout; a call that has not after STALL_FACTOR
 * timeouts is a hang, reported as such rather than left to a test's
 * watchdog.
 */
#define STALL_FACTOR	4
static atomic_ullong call_start[MAX_THREADS];
static uint64_t stall_ms;

/* Verify. */
static char **vkeys;
static size_t nvkeys;
static atomic_size_t next_check;
static pthread_mutex_t bad_mu = PTHREAD_MUTEX_INITIALIZER;
static size_t first_bad = SIZE_MAX;
static char bad_why[512];
static atomic_size_t verified;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: raw_load -p pd_url [-c threads] [-d seconds] "
	    "[-k prefix] [-n keys]\n"
	    "\t[-t timeout_ms] -o ackfile\n"
	    "       raw_load -p pd_url [-c threads] [-t timeout_ms] "
	    "-V ackfile\n");
	exit(2);
}

/* FNV-1a, 64 bits: enough to tell one key's value from another's. */
static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The value a key is written with; its length varies with the key. */
static size_t
value_of(const char *key, size_t keylen, char *out, size_t size)
{
	uint64_t h = fnv1a(key, keylen);
	int n;

	n = snprintf(out, size, "v:%.*s:%016" PRIx64 ":%.*s", (int)keylen,
	    key, h, (int)(h % 32), "................................");
	if (n < 0 || (size_t)n >= size)
		errx(2, "value of '%.*s' too long", (int)keylen, key);
	return (size_t)n;
}

static void
call_begin(int t)
{
	call_start[t] = clock_mono_ms();
}

static void
call_end(int t)
{
	call_start[t] = 0;
}

static void *
stall_thread(void *arg)
{
	uint64_t now, start;
	int t, nthreads = *(const int *)arg;

	for (;;) {
		clock_sleep_ms(500);
		now = clock_mono_ms();
		for (t = 0; t < nthreads; t++) {
			start = call_start[t];
			if (start == 0 || now < start ||
			    now - start <= stall_ms)
				continue;
			fprintf(stderr, "raw_load: a client call under way "
			    "for %.1f s, with a timeout of %.1f s: the "
			    "client hangs\n", (double)(now - start) / 1000,
			    (double)stall_ms / STALL_FACTOR / 1000);
			_exit(3);
		}
	}
	return NULL;
}

static void
note_error(long long nfail, const char *key)
{
	if (nfail <= ERRORS_SHOWN || nfail % 100 == 0)
		warnx("put '%s' (failure %lld): %s", key, nfail, log_reason());
}

static void *
load_thread(void *arg)
{
	char key[KEY_MAX], value[VALUE_MAX], line[KEY_MAX + 1];
	size_t vlen;
	long long i;
	int klen, rc, t = *(int *)arg;

	for (;;) {
		if (stopping ||
		    (deadline_ms != 0 && clock_mono_ms() >= deadline_ms))
			break;
		i = atomic_fetch_add(&next_key, 1);
		if (nkeys >= 0 && i >= nkeys)
			break;
		klen = snprintf(key, sizeof(key), "%s%010lld", prefix, i);
		if (klen < 0 || (size_t)klen >= sizeof(key))
			errx(2, "key too long");
		vlen = value_of(key, (size_t)klen, value, sizeof(value));
		call_begin(t);
		rc = client_put(cl, key, (size_t)klen, value, vlen, 0);
		call_end(t);
		if (rc != 0) {
			note_error(atomic_fetch_add(&failed, 1) + 1, key);
			/* A dead cluster fails fast; do not spin on it. */
			clock_sleep_ms(20);
			continue;
		}
		memcpy(line, key, (size_t)klen);
		line[klen] = '\n';
		/* O_APPEND: each line lands whole, whatever the others do. */
		if (write(ack_fd, line, (size_t)klen + 1) != klen + 1)
			err(2, "cannot write the ack file");
		atomic_fetch_add(&acked, 1);
	}
	return NULL;
}

/* SIGTERM and SIGINT end the load after the puts under way. */
static void *
signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	if (sigwait(set, &sig) == 0)
		stopping = 1;
	return NULL;
}

static void
record_bad(size_t i, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
record_bad(size_t i, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&bad_mu);
	if (i < first_bad) {
		first_bad = i;
		va_start(ap, fmt);
		vsnprintf(bad_why, sizeof(bad_why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&bad_mu);
}

static void *
verify_thread(void *arg)
{
	struct buf got = BUF_INIT;
	char value[VALUE_MAX];
	size_t i, klen, vlen;
	int rc, t = *(int *)arg;

	while ((i = atomic_fetch_add(&next_check, 1)) < nvkeys) {
		klen = strlen(vkeys[i]);
		vlen = value_of(vkeys[i], klen, value, sizeof(value));
		call_begin(t);
		rc = client_get(cl, vkeys[i], klen, &got);
		call_end(t);
		if (rc == -1)
			record_bad(i, "cannot read key '%s' (line %zu): %s",
			    vkeys[i], i + 1, log_reason());
		else if (rc == 0)
			record_bad(i, "key '%s' (line %zu) is missing",
			    vkeys[i], i + 1);
		else if (got.len != vlen || memcmp(got.data, value, vlen) != 0)
			record_bad(i, "key '%s' (line %zu) holds '%.*s', "
			    "expected '%s'", vkeys[i], i + 1,
			    (int)(got.len > 200 ? 200 : got.len),
			    (const char *)got.data, value);
		else
			atomic_fetch_add(&verified, 1);
	}
	buf_free(&got);
	return NULL;
}

static void
read_ackfile(const char *path)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, capkeys = 0;
	ssize_t n;

	if ((f = fopen(path, "r")) == NULL)
		err(2, "cannot open '%s'", path);
	while ((n = getline(&line, &cap, f)) != -1) {
		if (n == 0 || line[n - 1] != '\n')
			errx(2, "'%s': line %zu is not complete", path,
			    nvkeys + 1);
		line[n - 1] = '\0';
		if (nvkeys == capkeys) {
			capkeys = capkeys ? capkeys * 2 : 1024;
			vkeys = reallocarray(vkeys, capkeys, sizeof(*vkeys));
			if (vkeys == NULL)
				err(2, "reallocarray");
		}
		if ((vkeys[nvkeys++] = strdup(line)) == NULL)
			err(2, "strdup");
	}
	if (ferror(f))
		err(2, "cannot read '%s'", path);
	fclose(f);
	free(line);
}

static void
run_threads(int nthreads, void *(*fn)(void *))
{
	static int ids[MAX_THREADS], watched;
	pthread_t th[MAX_THREADS], st;
	int i, e;

	watched = nthreads;
	if ((e = pthread_create(&st, NULL, stall_thread, &watched)) != 0)
		errc(2, e, "pthread_create");
	pthread_detach(st);
	for (i = 0; i < nthreads; i++) {
		ids[i] = i;
		if ((e = pthread_create(&th[i], NULL, fn, &ids[i])) != 0)
			errc(2, e, "pthread_create");
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
}

int
main(int argc, char *argv[])
{
	char *pd[MAX_PD];
	sigset_t sigs;
	pthread_t sigth;
	const char *ackfile = NULL, *checkfile = NULL, *errstr;
	long long seconds = 0;
	int ch, nthreads = 4, timeout_ms = 0;
	size_t npd = 0, i;
	uint64_t t0;

	while ((ch = getopt(argc, argv, "V:c:d:k:n:o:p:t:")) != -1) {
		switch (ch) {
		case 'V':
			checkfile = optarg;
			break;
		case 'c':
			nthreads = (int)strtonum(optarg, 1, MAX_THREADS,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-c %s: %s", optarg, errstr);
			break;
		case 'd':
			seconds = strtonum(optarg, 1, 86400, &errstr);
			if (errstr != NULL)
				errx(2, "-d %s: %s", optarg, errstr);
			break;
		case 'k':
			if (strlen(optarg) > KEY_MAX - 16)
				errx(2, "-k: prefix too long");
			prefix = optarg;
			break;
		case 'n':
			nkeys = strtonum(optarg, 1, 9999999999LL, &errstr);
			if (errstr != NULL)
				errx(2, "-n %s: %s", optarg, errstr);
			break;
		case 'o':
			ackfile = optarg;
			break;
		case 'p':
			if (npd == MAX_PD)
				errx(2, "at most %d -p", MAX_PD);
			pd[npd++] = optarg;
			break;
		case 't':
			timeout_ms = (int)strtonum(optarg, 100, 600000,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-t %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || npd == 0 ||
	    (ackfile == NULL) == (checkfile == NULL))
		usage();
	log_init("raw_load", LOG_LEVEL_WARN, 0);
	stall_ms = (uint64_t)STALL_FACTOR * (uint64_t)(timeout_ms > 0 ?
	    timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS);

	if (checkfile != NULL) {
		read_ackfile(checkfile);
		if ((cl = client_open(pd, npd, timeout_ms)) == NULL)
			errx(2, "%s", log_reason());
		run_threads(nthreads, verify_thread);
		client_close(cl);
		if (first_bad != SIZE_MAX)
			errx(1, "%s (%zu of %zu keys verified)", bad_why,
			    (size_t)verified, nvkeys);
		printf("%zu keys verified\n", nvkeys);
		for (i = 0; i < nvkeys; i++)
			free(vkeys[i]);
		free(vkeys);
		return 0;
	}

	if (nkeys < 0 && seconds == 0)
		nkeys = 1000;
	/* Before the client starts nng's threads, which inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if ((ch = pthread_sigmask(SIG_BLOCK, &sigs, NULL)) != 0 ||
	    (ch = pthread_create(&sigth, NULL, signal_thread, &sigs)) != 0)
		errc(2, ch, "cannot set up signals");
	pthread_detach(sigth);
	if ((ack_fd = open(ackfile, O_WRONLY | O_CREAT | O_APPEND, 0644)) ==
	    -1)
		err(2, "cannot open '%s'", ackfile);
	if ((cl = client_open(pd, npd, timeout_ms)) == NULL)
		errx(2, "%s", log_reason());
	t0 = clock_mono_ms();
	if (seconds != 0)
		deadline_ms = t0 + (uint64_t)seconds * 1000;
	run_threads(nthreads, load_thread);
	client_close(cl);
	if (close(ack_fd) == -1)
		err(2, "cannot close '%s'", ackfile);
	printf("%lld keys acknowledged, %lld failed, in %.1f s%s\n",
	    (long long)acked, (long long)failed,
	    (double)(clock_mono_ms() - t0) / 1000,
	    stopping ? " (stopped by a signal)" : "");
	fflush(stdout);
	/* The signal thread may still wait: do not return through it. */
	_exit(0);
}
