/*
 * KV engine benchmark (not a test): puts, gets and scanned keys per second,
 * checkpoint, rebuild and recovery times, at -n keys (default 1M).
 *
 *	kv_bench [-b batch] [-c cache-pages] [-d dir] [-n keys] [-v bytes]
 *
 * Build it without sanitizers: make O=build build/t/kv_bench.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "kv.h"
#include "log.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Key i of n, in a scattered order so loads are not sequential. */
static void
keyof(char *k, long i, long n)
{
	unsigned long long x = mix(i) % (n * 4) % 1000000000000000ULL;

	snprintf(k, 32, "k%015llu", x);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

struct stall {
	struct kv *kv;
	volatile int stop;
	double worst;
	long n;
};

static void *
stall_writer(void *arg)
{
	struct stall *s = arg;
	char k[32], v[100];
	double t, d;

	memset(v, 'w', sizeof(v));
	while (!s->stop) {
		snprintf(k, sizeof(k), "stall%010ld", s->n++);
		t = now();
		kv_put(s->kv, KV_CF_RAW, k, strlen(k), v, sizeof(v));
		d = now() - t;
		if (d > s->worst)
			s->worst = d;
		usleep(50);	/* an apply thread, not a flood */
	}
	return NULL;
}

static struct kv *
xopen(const char *dir, const struct kv_options *o)
{
	struct kv *kv;

	if ((kv = kv_open(dir, o)) == NULL) {
		fprintf(stderr, "kv_bench: %s\n", log_reason());
		exit(1);
	}
	return kv;
}

int
main(int argc, char **argv)
{
	struct kv_options o;
	struct kv *kv;
	struct kv_batch *b;
	struct kv_iter *it;
	struct buf val = BUF_INIT;
	struct stall st;
	pthread_t th;
	char dirbuf[256], k[32], *v;
	const char *dir = NULL;
	long n = 1000000, bsz = 256, vlen = 100, i, found = 0, scanned;
	double t, dt;
	int ch, r, status;
	pid_t pid;

	kv_options_init(&o);
	while ((ch = getopt(argc, argv, "b:c:d:n:v:")) != -1) {
		switch (ch) {
		case 'b':
			bsz = atol(optarg);
			break;
		case 'c':
			o.cache_pages = atoll(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'v':
			vlen = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: kv_bench [-b batch] "
			    "[-c cache-pages] [-d dir] [-n keys] [-v bytes]\n");
			return 2;
		}
	}
	if (dir == NULL) {
		snprintf(dirbuf, sizeof(dirbuf), "%s/kv_bench.XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(dirbuf) == NULL)
			return 1;
		dir = dirbuf;
	}
	v = malloc(vlen);
	memset(v, 'v', vlen);
	printf("kv_bench: %ld keys, %ld-byte values, batches of %ld, "
	    "cache %lld pages\n", n, vlen, bsz, (long long)o.cache_pages);
	kv = xopen(dir, &o);

	b = kv_batch_new();
	t = now();
	for (i = 0; i < n; i++) {
		keyof(k, i, n);
		kv_batch_put(b, KV_CF_DEFAULT, k, 16, v, vlen);
		if (kv_batch_count(b) == (size_t)bsz || i == n - 1) {
			if (kv_batch_commit(kv, b) == -1) {
				fprintf(stderr, "%s\n", log_reason());
				return 1;
			}
			kv_batch_clear(b);
		}
	}
	dt = now() - t;
	printf("put (batched):   %10.0f keys/s  (%.2f s)\n", n / dt, dt);

	t = now();
	kv_checkpoint(kv);
	printf("checkpoint:      %10.3f s after the load, file %lld MB\n",
	    now() - t, (long long)kv_file_size(kv) >> 20);

	t = now();
	for (i = 0; i < 200000; i++) {
		keyof(k, (long)(mix(i + n) % n), n);
		kv_put(kv, KV_CF_DEFAULT, k, 16, v, vlen);
	}
	dt = now() - t;
	printf("put (single):    %10.0f keys/s  (overwrites)\n", 200000 / dt);
	t = now();
	kv_checkpoint(kv);
	printf("checkpoint:      %10.3f s after 200k overwrites\n", now() - t);

	t = now();
	for (i = 0; i < 1000000; i++) {
		keyof(k, (long)(mix(i) % n), n);
		r = kv_get(kv, KV_CF_DEFAULT, k, 16, &val);
		found += r == 1;
	}
	dt = now() - t;
	printf("get (random):    %10.0f keys/s  (%ld found)\n", 1e6 / dt,
	    found);

	t = now();
	it = kv_iter_new(kv, KV_CF_DEFAULT, "", 0, "", 0);
	for (scanned = 0, r = kv_iter_first(it); r == 1; r = kv_iter_next(it))
		scanned++;
	kv_iter_free(it);
	dt = now() - t;
	printf("scan:            %10.0f keys/s  (%ld keys)\n", scanned / dt,
	    scanned);
	t = now();
	it = kv_iter_new(kv, KV_CF_DEFAULT, "", 0, "", 0);
	for (scanned = 0, r = kv_iter_last(it); r == 1; r = kv_iter_prev(it))
		scanned++;
	kv_iter_free(it);
	dt = now() - t;
	printf("scan (reverse):  %10.0f keys/s\n", scanned / dt);

	memset(&st, 0, sizeof(st));
	st.kv = kv;
	pthread_create(&th, NULL, stall_writer, &st);
	usleep(100000);
	t = now();
	if (kv_rebuild(kv) == -1)
		fprintf(stderr, "rebuild: %s\n", log_reason());
	dt = now() - t;
	usleep(100000);
	st.stop = 1;
	pthread_join(th, NULL);
	printf("rebuild:         %10.3f s, file now %lld MB; a writer went "
	    "on (%ld puts, worst stall %.3f s)\n", dt,
	    (long long)kv_file_size(kv) >> 20, st.n, st.worst);

	t = now();
	kv_close(kv);
	printf("close:           %10.3f s\n", now() - t);
	t = now();
	kv = xopen(dir, &o);
	printf("open (clean):    %10.3f s\n", now() - t);
	kv_close(kv);

	/* Crash after a checkpoint and 100k more puts: restore on open. */
	fflush(NULL);
	if ((pid = fork()) == 0) {
		kv = xopen(dir, &o);
		for (i = 0; i < 100000; i++) {
			keyof(k, (long)(mix(i + 7 * n) % n), n);
			kv_put(kv, KV_CF_DEFAULT, k, 16, "x", 1);
			if (i == 50000)
				kv_checkpoint(kv);
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
	t = now();
	kv = xopen(dir, &o);
	printf("open (recovery): %10.3f s after a crash, file %lld MB\n",
	    now() - t, (long long)kv_file_size(kv) >> 20);
	kv_close(kv);

	kv_batch_free(b);
	buf_free(&val);
	free(v);
	if (dir == dirbuf)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
