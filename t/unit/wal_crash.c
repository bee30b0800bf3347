/*
 * Crash test of the WAL.  A child appends, sets hard states, compacts,
 * applies snapshots and removes groups, batch after batch; before each
 * wal_sync() it reports the batch through a pipe ("intent"), after it
 * "done".  The parent kills it with SIGKILL at a random moment (or the
 * child kills itself between write and fdatasync, sometimes after tearing
 * the write), may then damage the unsynced tail as a power cut could
 * (drop it, tear it, flip a bit), reopens the log and checks that it holds
 * exactly the state after the last done batch, or, when the tail was left
 * alone, the state after the batch in flight; every entry's data is
 * checked.  Now and then it flips a bit in synced data and checks that
 * the open is refused, naming the file.
 *
 *	wal_crash [-n cycles] [-d dir]
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"
#include "wal.h"
#include "xmalloc.h"

#define NGROUPS		6
#define MAXOPS		8
#define SEGSIZE		(256 << 10)
#define CACHESIZE	(64 << 10)

enum { OP_APPEND = 1, OP_HS, OP_COMPACT, OP_SNAP, OP_REMOVE };
enum { MSG_INTENT = 1, MSG_DONE, MSG_ERROR, MSG_KILLED };

struct op {
	uint32_t type;
	uint32_t g;
	uint64_t a, b, c;
};

/* Fixed size, under PIPE_BUF: a write to the pipe is atomic. */
struct msg {
	uint32_t kind;
	uint32_t nops;
	uint64_t seg;
	uint64_t off;
	uint64_t len;
	struct op ops[MAXOPS];
};

struct mgroup {
	int exists;
	uint64_t snap_index, snap_term;
	uint64_t *terms;	/* of snap_index + 1 .. snap_index + n */
	size_t n, cap;
	int has_hs;
	struct wal_hardstate hs;
};

struct model {
	struct mgroup g[NGROUPS + 1];
};

static char dir[256];
static uint64_t rng;
static int prealloc;		/* the three ways in turn */

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
rnd(uint64_t n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return n ? mix(rng) % n : 0;
}

static size_t
gen(uint64_t g, uint64_t idx, uint64_t term, uint8_t *out)
{
	uint64_t h = mix(g * 1000003 + idx * 7919 + term * 104729 + 7);
	size_t len, i;

	len = h % 7 == 0 ? 0 : (h >> 8) % 400;
	if (h % 53 == 0)
		len = 4000 + h % 5000;
	for (i = 0; i < len; i++) {
		if ((i & 7) == 0)
			h = mix(h + i);
		out[i] = h >> ((i & 7) * 8);
	}
	return len;
}

static uint64_t
mlast(const struct mgroup *m)
{
	return m->snap_index + m->n;
}

static uint64_t
mterm(const struct mgroup *m)
{
	uint64_t t = m->snap_term;

	if (m->n > 0 && m->terms[m->n - 1] > t)
		t = m->terms[m->n - 1];
	if (m->has_hs && m->hs.term > t)
		t = m->hs.term;
	return t;
}

static void
mpush(struct mgroup *m, uint64_t term)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->terms = xreallocarray(m->terms, m->cap, sizeof(uint64_t));
	}
	m->terms[m->n++] = term;
}

static void
mclear(struct mgroup *m)
{
	free(m->terms);
	memset(m, 0, sizeof(*m));
}

static void
model_free(struct model *md)
{
	int i;

	for (i = 0; i <= NGROUPS; i++)
		mclear(&md->g[i]);
}

static void
model_copy(struct model *dst, const struct model *src)
{
	int i;

	model_free(dst);
	*dst = *src;
	for (i = 0; i <= NGROUPS; i++) {
		dst->g[i].terms = NULL;
		if (src->g[i].cap > 0)
			dst->g[i].terms = xmemdup(src->g[i].terms,
			    src->g[i].cap * sizeof(uint64_t));
	}
}

static void
model_apply(struct model *md, const struct op *op)
{
	struct mgroup *m = &md->g[op->g];
	uint64_t i, k;

	switch (op->type) {
	case OP_APPEND:
		m->exists = 1;
		m->n = op->a - m->snap_index - 1;
		for (i = op->a; i < op->b; i++)
			mpush(m, op->c);
		break;
	case OP_HS:
		m->exists = 1;
		m->has_hs = 1;
		m->hs.term = op->a;
		m->hs.vote = op->b;
		m->hs.commit = op->c;
		break;
	case OP_COMPACT:
		k = op->a - m->snap_index;
		m->snap_term = m->terms[k - 1];
		memmove(m->terms, m->terms + k, (m->n - k) * sizeof(uint64_t));
		m->n -= k;
		m->snap_index = op->a;
		break;
	case OP_SNAP:
		m->exists = 1;
		m->n = 0;
		m->snap_index = op->a;
		m->snap_term = op->b;
		break;
	case OP_REMOVE:
		mclear(m);
		break;
	}
}

static int
stage_op(struct wal *w, const struct op *op)
{
	static uint8_t data[MAXOPS * 8][9000];
	struct wal_entry e[MAXOPS * 8];
	uint64_t i, n = op->b - op->a;

	switch (op->type) {
	case OP_APPEND:
		for (i = 0; i < n; i++) {
			e[i].index = op->a + i;
			e[i].term = op->c;
			e[i].type = (op->a + i) & 1;
			e[i].data = data[i];
			e[i].len = gen(op->g, op->a + i, op->c, data[i]);
		}
		return wal_append_entries(w, op->g, e, n);
	case OP_HS: {
		struct wal_hardstate hs = { op->a, op->b, op->c };

		return wal_set_hardstate(w, op->g, &hs);
	}
	case OP_COMPACT:
		return wal_compact(w, op->g, op->a);
	case OP_SNAP:
		return wal_set_snapshot(w, op->g, op->a, op->b);
	case OP_REMOVE:
		return wal_remove_group(w, op->g);
	}
	return -1;
}

/* Reads the state of every group out of the log. */
static int
model_load(struct wal *w, struct model *md, char *why, size_t whylen)
{
	struct mgroup *m;
	uint64_t *ids, first, last, i, t;
	size_t n, k;

	model_free(md);
	memset(md, 0, sizeof(*md));
	ids = wal_groups(w, &n);
	for (k = 0; k < n; k++) {
		if (ids[k] < 1 || ids[k] > NGROUPS) {
			snprintf(why, whylen, "unknown group %" PRIu64, ids[k]);
			free(ids);
			return -1;
		}
		m = &md->g[ids[k]];
		m->exists = 1;
		wal_snapshot_point(w, ids[k], &m->snap_index, &m->snap_term);
		first = wal_first_index(w, ids[k]);
		last = wal_last_index(w, ids[k]);
		if (first != m->snap_index + 1) {
			snprintf(why, whylen, "group %" PRIu64 ": first index %"
			    PRIu64 ", snapshot at %" PRIu64, ids[k], first,
			    m->snap_index);
			free(ids);
			return -1;
		}
		for (i = first; i <= last; i++) {
			if (wal_term(w, ids[k], i, &t) != 0) {
				snprintf(why, whylen, "group %" PRIu64 ": no "
				    "term for %" PRIu64, ids[k], i);
				free(ids);
				return -1;
			}
			mpush(m, t);
		}
		m->has_hs = wal_hardstate(w, ids[k], &m->hs);
	}
	free(ids);
	return 0;
}

struct vctx {
	uint64_t g;
	uint64_t next;
	const struct mgroup *m;
	int bad;
};

static int
verify_fn(void *arg, const struct wal_entry *e)
{
	static uint8_t want[9000];
	struct vctx *v = arg;
	uint64_t term = v->m->terms[e->index - v->m->snap_index - 1];
	size_t len = gen(v->g, e->index, term, want);

	if (e->index != v->next || e->term != term ||
	    e->type != (e->index & 1) || e->len != len ||
	    (len > 0 && memcmp(e->data, want, len) != 0))
		v->bad = 1;
	v->next++;
	return v->bad;
}

/* Every entry of every group holds the data written for it. */
static int
verify_data(struct wal *w, const struct model *md, char *why, size_t whylen)
{
	struct vctx v;
	uint64_t g, last;
	int r;

	for (g = 1; g <= NGROUPS; g++) {
		v.g = g;
		v.m = &md->g[g];
		v.next = md->g[g].snap_index + 1;
		v.bad = 0;
		last = mlast(&md->g[g]);
		while (v.next <= last && !v.bad) {
			r = wal_entries(w, g, v.next, last + 1,
			    rnd(3) ? rnd(20000) : UINT64_MAX, verify_fn, &v);
			if (r <= 0) {
				snprintf(why, whylen, "group %" PRIu64 ": read "
				    "at %" PRIu64 ": %d %s", g, v.next, r,
				    r == -1 ? log_reason() : "");
				return -1;
			}
		}
		if (v.bad) {
			snprintf(why, whylen, "group %" PRIu64 ": entry %"
			    PRIu64 " has wrong data", g, v.next - 1);
			return -1;
		}
	}
	return 0;
}

static int
model_eq(const struct model *a, const struct model *b, char *why,
    size_t whylen)
{
	const struct mgroup *x, *y;
	size_t i;
	int g;

	for (g = 1; g <= NGROUPS; g++) {
		x = &a->g[g];
		y = &b->g[g];
		if (x->exists != y->exists || x->snap_index != y->snap_index ||
		    x->snap_term != y->snap_term || x->n != y->n ||
		    x->has_hs != y->has_hs ||
		    (x->has_hs && memcmp(&x->hs, &y->hs, sizeof(x->hs)))) {
			snprintf(why, whylen, "group %d: exists %d/%d, "
			    "snapshot (%" PRIu64 ",%" PRIu64 ")/(%" PRIu64
			    ",%" PRIu64 "), %zu/%zu entries, hs %d/%d", g,
			    x->exists, y->exists, x->snap_index, x->snap_term,
			    y->snap_index, y->snap_term, x->n, y->n,
			    x->has_hs, y->has_hs);
			return 0;
		}
		for (i = 0; i < x->n; i++) {
			if (x->terms[i] != y->terms[i]) {
				snprintf(why, whylen, "group %d: entry %" PRIu64
				    " term %" PRIu64 "/%" PRIu64, g,
				    x->snap_index + 1 + i, x->terms[i],
				    y->terms[i]);
				return 0;
			}
		}
	}
	return 1;
}

/* The child: random batches forever, reporting each. */

enum { PLAN_NONE, PLAN_KILL, PLAN_TEAR };
static int tplan;
static int pipefd;

static void
send_msg(int fd, const struct msg *m)
{
	if (write(fd, m, sizeof(*m)) != sizeof(*m))
		_exit(3);
}

/*
 * Dies between the write of a batch and its fdatasync, sometimes after
 * writing only part of it.  The parent hears of it first: only then does
 * it know the batch was never synced, and may damage it further.
 */
static int
child_hook(void *arg, enum wal_io op, const char *path, size_t *len)
{
	struct msg m;

	if (tplan == PLAN_TEAR && op == WAL_IO_WRITE && *len > 1)
		*len = rnd(*len);
	if (tplan != PLAN_NONE && op == WAL_IO_SYNC) {
		memset(&m, 0, sizeof(m));
		m.kind = MSG_KILLED;
		send_msg(pipefd, &m);
		raise(SIGKILL);
	}
	return 0;
}

static void
child_fail(int fd, const char *what)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.kind = MSG_ERROR;
	snprintf((char *)m.ops, sizeof(m.ops), "%s", what);
	send_msg(fd, &m);
	_exit(2);
}

static void
child_batch(struct model *md, struct msg *m)
{
	struct mgroup *g;
	struct op *op;
	uint64_t last, r;

	m->nops = 1 + rnd(MAXOPS);
	for (op = m->ops; op < m->ops + m->nops; op++) {
		memset(op, 0, sizeof(*op));
		op->g = 1 + rnd(NGROUPS);
		g = &md->g[op->g];
		last = mlast(g);
		r = rnd(1000);
		if (g->exists && last - g->snap_index > 150) {
			op->type = OP_COMPACT;
			op->a = last - 20 - rnd(20);
		} else if (!g->exists || r < 600) {
			op->type = OP_APPEND;
			op->a = last + 1;
			op->c = mterm(g) ? mterm(g) : 1;
			if (last > g->snap_index && rnd(10) == 0) {
				/* A conflict: replace a suffix, new term. */
				op->a = last - rnd(last - g->snap_index < 6 ?
				    last - g->snap_index : 6);
				op->c++;
			}
			op->b = op->a + 1 + rnd(6);
		} else if (r < 800) {
			op->type = OP_HS;
			op->a = mterm(g);
			op->b = rnd(5);
			op->c = rnd(last + 1);
		} else if (r < 970) {
			if (last <= g->snap_index + 5) {
				op->type = OP_HS;
				op->a = mterm(g);
				continue;
			}
			op->type = OP_COMPACT;
			op->a = g->snap_index + 1 +
			    rnd(last - g->snap_index - 5);
		} else if (r < 990) {
			op->type = OP_SNAP;
			op->a = last + 1 + rnd(10);
			op->b = mterm(g) + 1;
		} else {
			op->type = OP_REMOVE;
		}
		model_apply(md, op);
	}
}

static void
child(int fd, uint64_t seed)
{
	struct wal_opts o = { SEGSIZE, CACHESIZE, prealloc };
	struct wal_stats st;
	struct model md;
	struct wal *w;
	struct msg m;
	char why[256];
	uint32_t i;

	rng = seed;
	pipefd = fd;
	memset(&md, 0, sizeof(md));
	if ((w = wal_open(dir, &o)) == NULL)
		child_fail(fd, log_reason());
	if (model_load(w, &md, why, sizeof(why)) == -1)
		child_fail(fd, why);
	wal_set_faulthook(child_hook, NULL);
	for (;;) {
		memset(&m, 0, sizeof(m));
		m.kind = MSG_INTENT;
		child_batch(&md, &m);
		for (i = 0; i < m.nops; i++)
			if (stage_op(w, &m.ops[i]) == -1)
				child_fail(fd, log_reason());
		if (rnd(20) == 0 && verify_data(w, &md, why, sizeof(why)))
			child_fail(fd, why);
		wal_stats(w, &st);
		m.seg = st.last_segment;
		m.off = st.synced_offset;
		m.len = st.staged_bytes + 24;
		send_msg(fd, &m);
		tplan = rnd(30) == 0 ? PLAN_KILL : rnd(30) == 0 ? PLAN_TEAR :
		    PLAN_NONE;
		if (wal_sync(w) == -1)
			child_fail(fd, log_reason());
		wal_stats(w, &st);
		m.kind = MSG_DONE;
		m.seg = st.last_segment;
		m.off = st.synced_offset;
		send_msg(fd, &m);
	}
}

/* The parent. */

static char logpath[300];

static char *
segpath(uint64_t n)
{
	static char p[320];

	snprintf(p, sizeof(p), "%s/%016" PRIx64 ".wal", dir, n);
	return p;
}

/* The numbers of the first and last segment files. */
static void
segrange(uint64_t *first, uint64_t *last)
{
	struct dirent *de;
	uint64_t v;
	DIR *d;
	char *end;

	*first = UINT64_MAX;
	*last = 0;
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 20 ||
		    strcmp(de->d_name + 16, ".wal") != 0)
			continue;
		v = strtoull(de->d_name, &end, 16);
		if (v < *first)
			*first = v;
		if (v > *last)
			*last = v;
	}
	closedir(d);
}

static uint64_t
fsize(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static void
flip(const char *path, uint64_t off, int mask)
{
	uint8_t b;
	int fd = open(path, O_RDWR);

	if (fd == -1)
		return;
	if (pread(fd, &b, 1, off) == 1) {
		b ^= mask;
		if (pwrite(fd, &b, 1, off) != 1)
			diag("cannot write '%s'", path);
	}
	close(fd);
}

static void
zero(const char *path, uint64_t off, uint64_t len)
{
	static const uint8_t z[4096];
	int fd = open(path, O_RDWR);
	size_t n;

	if (fd == -1)
		return;
	while (len > 0) {
		n = len < sizeof(z) ? len : sizeof(z);
		if (pwrite(fd, z, n, off) != (ssize_t)n)
			diag("cannot write '%s'", path);
		off += n;
		len -= n;
	}
	close(fd);
}

static struct wal *
quiet_open(void)
{
	struct wal_opts o = { SEGSIZE, CACHESIZE, prealloc };
	struct wal *w;
	int saved, fd;

	/* Cutting a torn tail warns; keep that out of the TAP stream. */
	fflush(stderr);
	saved = dup(2);
	fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT, 0644);
	dup2(fd, 2);
	close(fd);
	w = wal_open(dir, &o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return w;
}

static void
dump_log(void)
{
	char line[512];
	FILE *f;

	if ((f = fopen(logpath, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = 0;
		diag("log: %s", line);
	}
	fclose(f);
}

static void
usage(void)
{
	fprintf(stderr, "usage: wal_crash [-n cycles]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const char *tails[] = { "kept", "dropped", "torn", "flipped" };
	struct model md, m1, got;
	struct msg m, pend, done;
	struct wal_stats st;
	struct wal *w;
	uint64_t first, last, off, seed;
	char base[64], why[512], why1[512];
	int fds[2], c, cycles = 100, status, fails = 0, have_pend, tail;
	int refusals = 0, refused = 0, ahead = 0, cuts = 0, inflight = 0;
	int ntails[4] = { 0 }, batches = 0, mask, unsynced = 0;
	const char *errstr;
	time_t start = time(NULL);
	pid_t pid;
	ssize_t r;
	uint32_t i;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		switch (c) {
		case 'n':
			cycles = strtonum(optarg, 1, 10000000, &errstr);
			if (errstr != NULL)
				usage();
			break;
		default:
			usage();
		}
	}
	log_init("wal_crash", LOG_LEVEL_WARN, 0);
	snprintf(base, sizeof(base), "/tmp/wal_crash.XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/wal", base);
	snprintf(logpath, sizeof(logpath), "%s/log", base);
	memset(&md, 0, sizeof(md));
	memset(&done, 0, sizeof(done));
	memset(&m1, 0, sizeof(m1));
	memset(&got, 0, sizeof(got));
	rng = tap_seed();
	for (c = 0; c < cycles && fails == 0; c++) {
		seed = tap_rand();
		prealloc = c % 3;
		if (pipe(fds) == -1) {
			perror("pipe");
			return 1;
		}
		fflush(stdout);
		fflush(stderr);
		if ((pid = fork()) == 0) {
			int fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT,
			    0644);

			dup2(fd, 2);
			close(fd);
			close(fds[0]);
			child(fds[1], seed);
		}
		close(fds[1]);
		usleep(1000 + tap_rand_below(30000));
		kill(pid, SIGKILL);
		have_pend = 0;
		while ((r = read(fds[0], &m, sizeof(m))) == sizeof(m)) {
			if (m.kind == MSG_INTENT) {
				pend = m;
				have_pend = 1;
				unsynced = 0;
			} else if (m.kind == MSG_KILLED) {
				unsynced = 1;
			} else if (m.kind == MSG_DONE) {
				for (i = 0; i < pend.nops; i++)
					model_apply(&md, &pend.ops[i]);
				done = pend;
				have_pend = 0;
				batches++;
			} else {
				diag("cycle %d: the child failed: %.300s", c,
				    (char *)m.ops);
				fails++;
			}
		}
		close(fds[0]);
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
			diag("cycle %d: the child ended with status %#x", c,
			    status);
			dump_log();
			fails++;
			break;
		}

		/* Damage the batch in flight as a power cut could. */
		segrange(&first, &last);
		tail = 0;
		model_copy(&m1, &md);
		if (have_pend) {
			for (i = 0; i < pend.nops; i++)
				model_apply(&m1, &pend.ops[i]);
			/* Only a batch known never to have been synced. */
			if (unsynced && pend.seg == last)
				tail = tap_rand_below(4);
			ntails[tail]++;
			off = pend.off + tap_rand_below(pend.len);
			if (tail == 1)
				zero(segpath(pend.seg), pend.off, pend.len);
			else if (tail == 2)
				zero(segpath(pend.seg), off,
				    pend.off + pend.len - off);
			else if (tail == 3)
				flip(segpath(pend.seg), off,
				    1 << tap_rand_below(8));
		}

		/* Damage in synced data, not at the tail: refuse. */
		if (c % 5 == 4 && (first < last ||
		    (done.seg == last && done.off > 0))) {
			/* A finished segment, or before the last done batch. */
			uint64_t s = first + tap_rand_below(last - first);

			off = tap_rand_below(fsize(segpath(s)));
			if ((done.seg == last && done.off > 0) &&
			    (first == last || tap_rand_below(2) == 0)) {
				s = last;
				off = tap_rand_below(done.off);
			}
			mask = 1 << tap_rand_below(8);
			flip(segpath(s), off, mask);
			refusals++;
			if ((w = quiet_open()) == NULL &&
			    strstr(log_reason(), segpath(s)) != NULL) {
				refused++;
			} else {
				diag("cycle %d: a flip at %" PRIu64 " of '%s': "
				    "%s", c, off, segpath(s),
				    w ? "opened" : log_reason());
				fails++;
			}
			wal_close(w);
			flip(segpath(s), off, mask);
		}

		if ((w = quiet_open()) == NULL) {
			diag("cycle %d: cannot open: %s", c, log_reason());
			fails++;
			break;
		}
		wal_stats(w, &st);
		if (st.truncated_tail > 0)
			cuts++;
		if (model_load(w, &got, why, sizeof(why)) == -1 ||
		    verify_data(w, &got, why, sizeof(why)) == -1) {
			diag("cycle %d: %s", c, why);
			fails++;
		} else if (model_eq(&got, &md, why, sizeof(why))) {
			/* The last done batch and nothing after. */
		} else if (have_pend && tail == 0 &&
		    model_eq(&got, &m1, why1, sizeof(why1))) {
			ahead++;
		} else {
			diag("cycle %d: recovered state is wrong (tail %s): "
			    "%s", c, have_pend ? tails[tail] : "none", why);
			if (have_pend)
				diag("  against the batch in flight: %s",
				    why1);
			fails++;
		}
		wal_close(w);
		model_copy(&md, &got);
	}
	inflight = ntails[0] + ntails[1] + ntails[2] + ntails[3];
	diag("%d cycles in %lds: %d batches reported synced; %d kills with "
	    "a batch in flight (tail kept %d, dropped %d, torn %d, flipped "
	    "%d); %d recovered it; %d torn tails cut; %d/%d flips in synced "
	    "data refused", c, (long)(time(NULL) - start), batches, inflight,
	    ntails[0], ntails[1], ntails[2], ntails[3], ahead, cuts, refused,
	    refusals);
	ok(fails == 0, "%d kill -9 cycles: every synced batch recovered "
	    "intact, nothing after a torn write", c);
	ok(refused == refusals, "%d flips in synced data: every open refused",
	    refusals);
	model_free(&md);
	model_free(&m1);
	model_free(&got);
	if (fails == 0) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd) != 0)
			diag("cannot remove '%s'", base);
	} else {
		diag("the log is kept in %s", base);
	}
	return done_testing();
}
