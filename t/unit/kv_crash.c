/*
 * Crash test of the KV engine: a child commits batches and checkpoints,
 * reporting each completed checkpoint through a pipe; the parent kills it
 * with SIGKILL at a random moment, reopens the store, and checks that the
 * state is exactly the one some whole prefix of batches produces, no older
 * than the last reported checkpoint.
 *
 *	kv_crash [-v] [-c cycles] [-d dir] [-e every] [-p tkrzw-params]
 *	    [-s seed] [-t max-ms]
 *
 * Batch i is a pure function of (seed, i): puts, deletes and range deletes
 * over two families, plus META "batch" = i.  The child resumes after the
 * batch it finds, as tikvd would replay its WAL; so the parent can keep a
 * model of the expected contents and move it forward cycle by cycle.
 * Every -e'th cycle the child also runs with a file size limit, so tkrzw
 * meets real write errors (EFBIG): a failed write must be refused and a
 * failed sync fatal, and the store must still reopen at a checkpoint.
 * -p replaces kv.c's tkrzw settings, to compare them (DESIGN.md section 5).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"
#include "kv.h"
#include "log.h"
#include "tap.h"

#define NKEYS	2048		/* per family */
#define NFAM	2
#define MAXVAL	3000

static const enum kv_cf fams[NFAM] = { KV_CF_DEFAULT, KV_CF_WRITE };

struct msg {
	int64_t type;		/* 'C' checkpoint, 'R' rebuild start, 'r' end */
	int64_t ckpt;
	int64_t batch;
};

static uint64_t seed;
static int verbose;

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct rng {
	uint64_t s;
};

static uint64_t
rnd(struct rng *r, uint64_t n)
{
	r->s = mix(r->s);
	return n ? r->s % n : 0;
}

static void
keyname(char *k, int j)
{
	snprintf(k, 16, "key%06d", j % NKEYS);
}

/* The value batch i writes to key j: its length and bytes follow (i, j). */
static size_t
genval(uint8_t *v, uint64_t i, int j)
{
	struct rng r = { mix(seed ^ (i * 7919 + (uint64_t)j)) };
	size_t n, k;

	n = rnd(&r, 8) == 0 ? MAXVAL : 16 + rnd(&r, 200);
	codec_put_u64be(v, i);
	codec_put_u32be(v + 8, (uint32_t)j);
	for (k = 12; k < n; k++)
		v[k] = (uint8_t)rnd(&r, 256);
	return n;
}

/* Model: which batch last wrote each key, 0 if absent. */
static uint64_t model[NFAM * NKEYS];

enum { B_PUT, B_DEL, B_RANGE };

struct bop {
	int type, j, end;
};

static int
genbatch(uint64_t i, struct bop *ops)
{
	struct rng r = { mix(seed * 31 + i) };
	int n, k, t;

	n = 1 + rnd(&r, 16);
	for (k = 0; k < n; k++) {
		t = rnd(&r, 100);
		ops[k].type = t < 75 ? B_PUT : t < 98 ? B_DEL : B_RANGE;
		ops[k].j = rnd(&r, NFAM * NKEYS);
		ops[k].end = ops[k].j - ops[k].j % NKEYS +
		    (int)rnd(&r, NKEYS + 1);
		if (ops[k].end < ops[k].j)
			ops[k].end = ops[k].j + (int)rnd(&r, 40);
		if (ops[k].end > ops[k].j - ops[k].j % NKEYS + NKEYS)
			ops[k].end = ops[k].j - ops[k].j % NKEYS + NKEYS;
	}
	return n;
}

static void
model_apply(uint64_t i)
{
	struct bop ops[16];
	int n, k, j;

	n = genbatch(i, ops);
	for (k = 0; k < n; k++) {
		if (ops[k].type == B_PUT)
			model[ops[k].j] = i;
		else if (ops[k].type == B_DEL)
			model[ops[k].j] = 0;
		else
			for (j = ops[k].j; j < ops[k].end; j++)
				model[j] = 0;
	}
}

static void
build_batch(struct kv_batch *b, uint64_t i)
{
	struct bop ops[16];
	uint8_t v[MAXVAL], m[8];
	char k[16], e[16];
	int n, x;
	size_t vl;

	kv_batch_clear(b);
	n = genbatch(i, ops);
	for (x = 0; x < n; x++) {
		keyname(k, ops[x].j);
		if (ops[x].type == B_PUT) {
			vl = genval(v, i, ops[x].j);
			kv_batch_put(b, fams[ops[x].j / NKEYS], k, 9, v, vl);
		} else if (ops[x].type == B_DEL)
			kv_batch_delete(b, fams[ops[x].j / NKEYS], k, 9);
		else {
			keyname(e, ops[x].end);
			kv_batch_delete_range(b, fams[ops[x].j / NKEYS], k, 9,
			    e, ops[x].end % NKEYS ? 9 : 0);
		}
	}
	codec_put_u64be(m, i);
	kv_batch_put(b, KV_CF_META, "batch", 5, m, 8);
}

static uint64_t
read_marker(struct kv *kv)
{
	struct buf v = BUF_INIT;
	uint64_t i = 0;
	int r;

	r = kv_get(kv, KV_CF_META, "batch", 5, &v);
	if (r == 1 && v.len == 8)
		i = codec_get_u64be(v.data);
	else if (r != 0)
		i = UINT64_MAX;
	buf_free(&v);
	return i;
}

static void
send_msg(int fd, int64_t type, int64_t ckpt, int64_t batch)
{
	struct msg m = { type, ckpt, batch };

	if (write(fd, &m, sizeof(m)) != sizeof(m))
		_exit(9);
}

static void __attribute__((noreturn))
child(const char *dir, int fd, int cycle, int limit_size)
{
	struct kv_options o;
	struct kv *kv;
	struct kv_batch *b;
	struct rng r = { mix(seed ^ ((uint64_t)cycle << 32)) };
	struct rlimit rl;
	uint64_t i;
	int64_t c;
	int every;

	kv_options_init(&o);
	o.rebuild_min_bytes = 2 << 20;
	o.cache_pages = rnd(&r, 2) ? 64 : 4096;	/* evict, or not */
	kv = kv_open(dir, &o);
	if (kv == NULL) {
		fprintf(stderr, "kv_crash child: %s\n", log_reason());
		_exit(2);
	}
	if (limit_size) {
		signal(SIGXFSZ, SIG_IGN);
		rl.rlim_cur = rl.rlim_max = kv_file_size(kv) +
		    (16 << 10) + rnd(&r, 1 << 20);
		setrlimit(RLIMIT_FSIZE, &rl);
	}
	send_msg(fd, 'O', kv_checkpoint_id(kv), 0);
	i = read_marker(kv);
	every = 1 + rnd(&r, 30);
	b = kv_batch_new();
	for (i++;; i++) {
		build_batch(b, i);
		if (kv_batch_commit(kv, b) == -1) {
			fprintf(stderr, "kv_crash child: batch %llu: %s\n",
			    (unsigned long long)i, log_reason());
			kv_batch_free(b);
			kv_close(kv);
			_exit(3);
		}
		if (i % every != 0)
			continue;
		if ((c = kv_checkpoint(kv)) == -1) {
			fprintf(stderr, "kv_crash child: checkpoint: %s\n",
			    log_reason());
			_exit(4);
		}
		send_msg(fd, 'C', c, i);
		if (kv_rebuild_needed(kv)) {
			send_msg(fd, 'R', c, i);
			if (kv_rebuild(kv) == -1) {
				fprintf(stderr, "kv_crash child: rebuild: "
				    "%s\n", log_reason());
				_exit(5);
			}
			send_msg(fd, 'r', kv_checkpoint_id(kv), i);
		}
	}
}

/* Compares the store with the model; returns a description or NULL. */
static const char *
verify(struct kv *kv)
{
	static char why[200];
	struct kv_iter *it;
	struct bytes k, v;
	uint8_t want[MAXVAL];
	size_t wl;
	int f, j, r, seen;

	for (f = 0; f < NFAM; f++) {
		it = kv_iter_new(kv, fams[f], "", 0, "", 0);
		j = 0;
		for (r = kv_iter_first(it); r == 1; r = kv_iter_next(it)) {
			k = kv_iter_key(it);
			v = kv_iter_value(it);
			if (k.len != 9 || memcmp(k.ptr, "key", 3) != 0) {
				snprintf(why, sizeof(why), "stray key");
				goto bad;
			}
			seen = atoi((const char *)k.ptr + 3);
			for (; j < seen; j++)
				if (model[f * NKEYS + j] != 0) {
					snprintf(why, sizeof(why), "family %d "
					    "key %d missing (batch %llu)", f,
					    j, (unsigned long long)
					    model[f * NKEYS + j]);
					goto bad;
				}
			j = seen + 1;
			if (model[f * NKEYS + seen] == 0) {
				snprintf(why, sizeof(why), "family %d key %d "
				    "should be deleted", f, seen);
				goto bad;
			}
			wl = genval(want, model[f * NKEYS + seen],
			    f * NKEYS + seen);
			if (v.len != wl || memcmp(v.ptr, want, wl) != 0) {
				snprintf(why, sizeof(why), "family %d key %d "
				    "has the wrong value (batch %llu "
				    "expected, %llu found)", f, seen,
				    (unsigned long long)
				    model[f * NKEYS + seen], v.len >= 8 ?
				    (unsigned long long)codec_get_u64be(
				    v.ptr) : 0ULL);
				goto bad;
			}
		}
		if (r == -1) {
			snprintf(why, sizeof(why), "scan: %s", log_reason());
			goto bad;
		}
		for (; j < NKEYS; j++)
			if (model[f * NKEYS + j] != 0) {
				snprintf(why, sizeof(why), "family %d key %d "
				    "missing at the end", f, j);
				goto bad;
			}
		kv_iter_free(it);
	}
	return NULL;
bad:
	kv_iter_free(it);
	return why;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
usage(void)
{
	fprintf(stderr, "usage: kv_crash [-v] [-c cycles] [-d dir] "
	    "[-e every] [-p tkrzw-params] [-s seed] [-t max-ms]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct kv *kv;
	struct msg m, last = { 0, 0, 0 };
	struct rng r;
	char dirbuf[256];
	const char *dir = NULL, *why;
	uint64_t applied = 0, marker;
	long cycles = 100, maxms = 40, every = 10;
	int ch, fds[2], st, cyc, fails = 0, inrebuild, mid_rebuild = 0;
	int ioerr = 0, lost = 0, exact = 0, phase;
	pid_t pid;
	ssize_t n;

	seed = tap_seed();
	while ((ch = getopt(argc, argv, "c:d:e:p:s:t:v")) != -1) {
		switch (ch) {
		case 'c':
			cycles = atol(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'e':
			every = atol(optarg);
			break;
		case 'p':
			setenv("TIKV_KV_TKRZW_PARAMS", optarg, 1);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			maxms = atol(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (dir == NULL) {
		snprintf(dirbuf, sizeof(dirbuf), "%s/kv_crash.XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(dirbuf) == NULL)
			return 1;
		dir = dirbuf;
	}
	diag("seed %llu, %ld cycles, kills within %ld ms",
	    (unsigned long long)seed, cycles, maxms);
	r.s = seed;
	plan(cycles);
	for (cyc = 1; cyc <= cycles; cyc++) {
		int limited = every > 0 && cyc % every == 0;

		if (pipe(fds) == -1)
			return 1;
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			child(dir, fds[1], cyc, limited);
		}
		close(fds[1]);
		if (!limited) {
			usleep(1000 * (useconds_t)rnd(&r, maxms + 1) +
			    rnd(&r, 1000));
			kill(pid, SIGKILL);
		}
		inrebuild = 0;
		phase = 'o';
		while ((n = read(fds[0], &m, sizeof(m))) == sizeof(m)) {
			if (m.type == 'C')
				last = m;
			inrebuild = m.type == 'R';
			phase = m.type;
		}
		if (verbose)
			diag("cycle %d: killed after message '%c'", cyc, phase);
		close(fds[0]);
		waitpid(pid, &st, 0);
		mid_rebuild += inrebuild;
		if (limited) {
			ioerr += WIFEXITED(st);
			if (!WIFEXITED(st) || WEXITSTATUS(st) == 0 ||
			    WEXITSTATUS(st) == 2 || WEXITSTATUS(st) > 5) {
				ok(0, "cycle %d: child with a size limit "
				    "ended with status %#x", cyc, st);
				fails++;
				continue;
			}
		} else if (!WIFSIGNALED(st)) {
			ok(0, "cycle %d: child died by itself (%#x)", cyc, st);
			fails++;
			continue;
		}
		kv = kv_open(dir, NULL);
		if (kv == NULL) {
			ok(0, "cycle %d: reopen: %s", cyc, log_reason());
			fails++;
			break;
		}
		marker = read_marker(kv);
		why = NULL;
		if (marker == UINT64_MAX)
			why = "cannot read the batch marker";
		else if (marker < applied || marker < (uint64_t)last.batch ||
		    kv_checkpoint_id(kv) < last.ckpt) {
			why = "went back before a reported checkpoint";
			lost++;
		} else {
			while (applied < marker)
				model_apply(++applied);
			why = verify(kv);
		}
		if (why == NULL && kv_checkpoint_id(kv) == last.ckpt &&
		    marker == (uint64_t)last.batch)
			exact++;
		if (why == NULL && kv_checkpoint_id(kv) == last.ckpt &&
		    marker != (uint64_t)last.batch)
			why = "state is not that of the last checkpoint";
		if (!ok(why == NULL, "cycle %d: checkpoint %lld (batch %llu) "
		    "reopened at %lld (batch %llu)%s%s", cyc,
		    (long long)last.ckpt, (unsigned long long)last.batch,
		    (long long)kv_checkpoint_id(kv),
		    (unsigned long long)marker, why ? ": " : "",
		    why ? why : ""))
			fails++;
		if (verbose)
			diag("file %lld bytes, %lld records",
			    (long long)kv_file_size(kv),
			    (long long)kv_count(kv));
		if (kv_close(kv) == -1) {
			diag("close: %s", log_reason());
			fails++;
		}
		/* The clean close was a checkpoint; it is the new floor. */
		last.ckpt++;
		last.batch = applied;
		if (fails > 0 && why != NULL && marker != UINT64_MAX &&
		    marker < applied)
			break;
	}
	diag("%d kills during a rebuild, %d size-limit runs, %d reopened "
	    "exactly at the last reported checkpoint, %d went back",
	    mid_rebuild, ioerr, exact, lost);
	if (dir == dirbuf)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
