/*
 * The linearizability checker rejects hand-made non-linearizable register
 * histories and accepts linearizable ones, including pending operations
 * that did or did not take effect; lincheck_tool reads the same format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "lincheck.h"
#include "log.h"
#include "tap.h"
#include "xmalloc.h"

/* Check a history given as lines of text; -1 if a line is malformed. */
static int
check(const char *hist, struct buf *why)
{
	struct lincheck *lc = lincheck_new();
	char *copy = xstrdup(hist), *line, *next;
	int r;

	for (line = copy; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (lincheck_add_line(lc, line) == -1) {
			diag("bad line '%s': %s", line, log_reason());
			free(copy);
			lincheck_free(lc);
			return -1;
		}
	}
	free(copy);
	r = lincheck_check(lc, why);
	lincheck_free(lc);
	return r;
}

static void
accepts(const char *hist, const char *name)
{
	struct buf why = BUF_INIT;
	int r = check(hist, &why);

	if (!is_int(r, LINCHECK_OK, "accepts: %s", name))
		diag("  %s", why.len ? (char *)why.data : "");
	buf_free(&why);
}

static void
rejects(const char *hist, const char *key, const char *name)
{
	struct buf why = BUF_INIT;
	char want[64];
	int r = check(hist, &why);

	snprintf(want, sizeof(want), "key '%s'", key);
	if (!ok(r == LINCHECK_VIOLATION && why.len > 0 &&
	    strstr((char *)why.data, want) != NULL, "rejects: %s", name))
		diag("  got %d: %s", r, why.len ? (char *)why.data : "");
	buf_free(&why);
}

static void
test_rejects(void)
{
	rejects("0 0 10 put a 1 ok\n"
	    "0 20 30 put a 2 ok\n"
	    "1 40 50 get a 1\n", "a", "stale read after a completed write");
	rejects("0 0 10 put a 1 ok\n"
	    "1 20 30 put a 2 ok\n"
	    "2 40 50 get a 1\n", "a", "stale read across clients");
	rejects("0 0 10 get a x\n", "a", "read of a value never written");
	rejects("0 0 10 put a 1 ok\n"
	    "1 20 30 get a -\n", "a", "read of absent after a write");
	rejects("0 0 10 put a 1 ok\n"
	    "0 20 30 cas a 1 2 ok\n"
	    "1 40 50 get a 1\n", "a", "lost cas");
	rejects("0 0 10 put a 1 ok\n"
	    "1 20 30 cas a 1 2 ok\n"
	    "2 25 35 cas a 1 3 ok\n", "a",
	    "two cas both succeed from the same expected value");
	rejects("0 0 10 put a 1 ok\n"
	    "1 20 30 cas a 1 2 fail\n", "a",
	    "cas fails although the value matched");
	rejects("0 0 10 put a 1 ok\n"
	    "1 20 30 cas a - 2 ok\n", "a",
	    "cas from absent succeeds on a present key");
	rejects("0 0 10 cas a 1 2 ok\n", "a",
	    "cas succeeds on a key never written");
	rejects("0 0 10 put a 1 ok\n"
	    "1 20 30 cas a 2 3 fail 5\n", "a",
	    "failed cas reports a value never written");
	rejects("0 0 10 put a 1 ok\n"
	    "0 20 30 del a ok\n"
	    "1 40 50 get a 1\n", "a", "read of a deleted value");
	rejects("0 0 100 put a 1 ok\n"
	    "1 10 20 get a 1\n"
	    "1 30 40 get a -\n", "a",
	    "reads go back in time during a write");
	rejects("0 0 10 get a x\n"
	    "1 20 - put a x ?\n", "a",
	    "read of a pending write before its invocation");
	rejects("0 0 10 put a 1 ok\n"
	    "1 15 - put a 2 ?\n"
	    "2 20 30 get a 2\n"
	    "2 40 50 get a 1\n", "a",
	    "a pending write is seen, then undone");
	rejects("0 0 10 put a 1 ok\n"
	    "1 20 30 get a 1\n"
	    "0 0 10 put b 1 ok\n"
	    "1 20 30 get b 2\n", "b",
	    "a bad key among good ones is found and named");
	rejects("0 0 10 put a \"\" ok\n"
	    "1 20 30 get a -\n", "a", "empty value is not absent");
	rejects("0 0 10 put a 1 ok\n"
	    "1 5 15 put a 2 ok\n"
	    "2 20 30 get a 1\n"
	    "2 40 50 get a 2\n", "a",
	    "two overlapping writes seen in both orders");
	rejects("0 0 10 put a 1 ok\n"
	    "1 20 - cas a 1 2 ?\n"
	    "2 30 40 get a 2\n"
	    "3 50 60 put a 1 ok\n"
	    "4 70 80 cas a 1 3 ok\n"
	    "5 90 100 get a 2\n", "a",
	    "a pending cas cannot take effect twice");
	rejects("0 0 10 put a%20b x%0a ok\n"
	    "1 20 30 get a%20b x\n", "a b", "escaped bytes are compared");
}

static void
test_accepts(void)
{
	accepts("", "the empty history");
	accepts("0 0 10 get a -\n", "a read of a key never written");
	accepts("0 0 100 put a 1 ok\n"
	    "1 10 20 get a 1\n", "a read sees an overlapping write");
	accepts("0 0 100 put a 1 ok\n"
	    "1 10 20 get a -\n", "a read misses an overlapping write");
	accepts("0 0 10 put a 1 ok\n"
	    "1 5 15 put a 2 ok\n"
	    "2 20 30 get a 1\n", "overlapping writes, first one last");
	accepts("0 0 10 put a 1 ok\n"
	    "1 5 15 put a 2 ok\n"
	    "2 20 30 get a 2\n", "overlapping writes, second one last");
	accepts("0 0 10 put a 1 ok\n"
	    "1 15 - put a 2 ?\n"
	    "2 20 30 get a 2\n", "a pending write that took effect");
	accepts("0 0 10 put a 1 ok\n"
	    "1 15 - put a 2 ?\n"
	    "2 20 30 get a 1\n", "a pending write that did not take effect");
	accepts("0 0 10 put a 1 ok\n"
	    "1 15 - put a 2\n"
	    "2 20 30 get a 1\n"
	    "2 40 50 get a 2\n", "a pending write that took effect late");
	accepts("0 0 10 put a 1 ok\n"
	    "1 15 - cas a 1 2 ?\n"
	    "2 20 30 get a 2\n", "a pending cas that took effect");
	accepts("0 0 10 put a 1 ok\n"
	    "1 15 - cas a 1 2 ?\n"
	    "2 20 30 get a 1\n", "a pending cas that did not take effect");
	accepts("0 0 10 put a 1 ok\n"
	    "1 20 - del a\n"
	    "2 30 40 get a -\n", "a pending delete that took effect");
	accepts("0 0 10 cas a - 1 ok\n"
	    "1 20 30 cas a 1 2 ok\n"
	    "2 40 50 cas a 1 3 fail 2\n"
	    "3 60 70 cas a 2 - ok\n"
	    "0 80 90 get a -\n", "a chain of cas, create to delete");
	accepts("0 0 10 put a 1 ok\n"
	    "1 20 30 cas a 1 2 ok\n"
	    "2 25 35 cas a 1 3 fail\n", "concurrent cas: one wins");
	accepts("0 0 10 put a 1 ok\n"
	    "1 20 40 cas a 1 2 ok\n"
	    "2 25 35 cas a 1 3 ok\n"
	    "3 26 50 put a 1 ok\n", "two cas from one value with a rewrite");
	accepts("0 10 20 put a 1 ok\n"
	    "1 20 30 get a -\n", "equal times count as concurrent");
	accepts("0 0 10 put a 1 fail\n"
	    "1 20 30 get a -\n", "a put that failed for sure is skipped");
	accepts("# a comment\n\n0 0 10 put a \"\" ok\n"
	    "1 20 30 get a \"\"\n", "the empty value, comments, blanks");
	accepts("0 0 10 put a 1 ok\n"
	    "1 0 10 put b 2 ok\n"
	    "2 20 30 get a 1\n"
	    "2 20 30 get b 2\n", "keys are independent");
}

static void
test_parse(void)
{
	static const char *bad[] = {
		"0 0 10 put a",			/* no value */
		"0 0 10 put a 1",		/* no result */
		"0 0 10 put a - ok",		/* put of absent */
		"0 0 10 get - 1",		/* absent key */
		"0 0 10 frob a 1",		/* unknown op */
		"x 0 10 get a 1",		/* bad client */
		"0 z 10 get a 1",		/* bad invoke */
		"0 20 10 get a 1",		/* returns before invoke */
		"0 0 10 get a 1 2",		/* extra field */
		"0 0 10 cas a 1 2 maybe",	/* bad cas result */
		"0 0 - put a 1 ok",		/* pending with result */
		"0 0 10 get a %zz",		/* bad escape */
		"0 0 10 del a done",		/* bad del result */
	};
	struct lincheck *lc = lincheck_new();
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(lincheck_add_line(lc, bad[i]) == -1 && *log_reason(),
		    "malformed line refused: %s (%s)", bad[i], log_reason());
	is_int(lincheck_count(lc), 0, "nothing was added");
	lincheck_free(lc);
}

/*
 * A random sequential history stretched into overlapping intervals around
 * each operation's point of effect is linearizable; breaking one read
 * makes it not.
 */
static void
test_random(void)
{
	struct lincheck *lc;
	struct lincheck_op op;
	struct buf why = BUF_INIT;
	char vals[400][16], keys[3][2] = { "x", "y", "z" };
	int cur[3], r, i, k, nv = 0, bad = -1, round;
	uint64_t t;

	for (round = 0; round < 20; round++) {
		lc = lincheck_new();
		cur[0] = cur[1] = cur[2] = -1;
		nv = 0;
		bad = -1;
		for (i = 0; i < 400; i++) {
			memset(&op, 0, sizeof(op));
			k = tap_rand_below(3);
			t = 1000 + (uint64_t)i * 10;
			op.client = i % 8;
			op.key.ptr = (const uint8_t *)keys[k];
			op.key.len = 1;
			/* Up to ~5 operations overlap each point. */
			op.invoke = t - tap_rand_below(30);
			op.ret = t + tap_rand_below(30);
			switch (tap_rand_below(4)) {
			case 0:
				op.type = LINCHECK_READ;
				if (cur[k] >= 0) {
					op.result.present = 1;
					op.result.ptr = (uint8_t *)vals[cur[k]];
					op.result.len = strlen(vals[cur[k]]);
				}
				if (round % 2 == 1 && bad < 0 && i > 200) {
					/* A value nobody writes. */
					op.result.present = 1;
					op.result.ptr = (uint8_t *)"never";
					op.result.len = 5;
					bad = i;
				}
				break;
			case 1:
				op.type = LINCHECK_WRITE;
				snprintf(vals[nv], sizeof(vals[nv]), "v%d", nv);
				op.value.present = 1;
				op.value.ptr = (uint8_t *)vals[nv];
				op.value.len = strlen(vals[nv]);
				cur[k] = nv++;
				if (tap_rand_below(10) == 0)
					op.ret = LINCHECK_PENDING;
				break;
			case 2:
				op.type = LINCHECK_DELETE;
				cur[k] = -1;
				break;
			default:
				op.type = LINCHECK_CAS;
				snprintf(vals[nv], sizeof(vals[nv]), "v%d", nv);
				op.value.present = 1;
				op.value.ptr = (uint8_t *)vals[nv];
				op.value.len = strlen(vals[nv]);
				if (cur[k] >= 0 && tap_rand_below(2) == 0) {
					op.expect.present = 1;
					op.expect.ptr = (uint8_t *)vals[cur[k]];
					op.expect.len = strlen(vals[cur[k]]);
					op.ok = 1;
					cur[k] = nv;
				} else if (cur[k] < 0) {
					op.ok = 1;
					cur[k] = nv;
				}
				nv++;
				break;
			}
			if (lincheck_add(lc, &op) == -1)
				diag("add: %s", log_reason());
		}
		r = lincheck_check(lc, &why);
		if (round % 2 == 0)
			is_int(r, LINCHECK_OK, "random history %d (400 ops, "
			    "3 keys, overlapping) is accepted", round);
		else
			ok(r == LINCHECK_VIOLATION || bad < 0,
			    "random history %d with a read of a value never "
			    "written is rejected", round);
		if (r != (round % 2 == 0 ? LINCHECK_OK : LINCHECK_VIOLATION))
			diag("  %s", why.len ? (char *)why.data : "");
		lincheck_free(lc);
	}
	buf_free(&why);
}

/*
 * Cross-check against brute force on small random histories: try every
 * order of the operations that respects real time (a pending operation may
 * also be left out), replaying an independent model of the register.
 */
struct bf_op {
	int type, value, expect, result, ok, has_prev, prev, pending;
	int invoke, ret;
};

static int
bf_replay(const struct bf_op *ops, const int *order, int n)
{
	const struct bf_op *o;
	int state = 0, i;

	for (i = 0; i < n; i++) {
		o = &ops[order[i]];
		switch (o->type) {
		case LINCHECK_READ:
			if (o->result != state)
				return 0;
			break;
		case LINCHECK_WRITE:
			state = o->value;
			break;
		case LINCHECK_DELETE:
			state = 0;
			break;
		default:
			if (o->pending) {
				if (state == o->expect)
					state = o->value;
				break;
			}
			if (o->ok != (state == o->expect) ||
			    (o->has_prev && o->prev != state))
				return 0;
			if (o->ok)
				state = o->value;
			break;
		}
	}
	return 1;
}

/* Extend order[0..k) with every unused op that nothing must precede. */
static int
bf_search(const struct bf_op *ops, int n, unsigned used, unsigned take,
    int *order, int k)
{
	int i, j, blocked;

	if (k == __builtin_popcount(take))
		return bf_replay(ops, order, k);
	for (i = 0; i < n; i++) {
		if (!(take & (1u << i)) || (used & (1u << i)))
			continue;
		blocked = 0;
		for (j = 0; j < n && !blocked; j++)
			if ((take & (1u << j)) && !(used & (1u << j)) &&
			    j != i && !ops[j].pending && ops[j].ret < ops[i].invoke)
				blocked = 1;
		if (blocked)
			continue;
		order[k] = i;
		if (bf_search(ops, n, used | 1u << i, take, order, k + 1))
			return 1;
	}
	return 0;
}

static int
bf_check(const struct bf_op *ops, int n)
{
	unsigned take, must = 0;
	int order[8], i;

	for (i = 0; i < n; i++)
		if (!ops[i].pending)
			must |= 1u << i;
	for (take = 0; take < (1u << n); take++)
		if ((take & must) == must &&
		    bf_search(ops, n, 0, take, order, 0))
			return 1;
	return 0;
}

static struct lincheck_val
bf_val(int v)
{
	static const char *digits[] = { "", "1", "2", "3" };
	struct lincheck_val x = { NULL, 0, 0 };

	if (v != 0) {
		x.ptr = (const uint8_t *)digits[v];
		x.len = 1;
		x.present = 1;
	}
	return x;
}

static void
test_bruteforce(void)
{
	struct bf_op ops[7];
	struct lincheck_op op;
	struct lincheck *lc;
	int round, i, n, m, want, got, agree = 0, yes = 0, rounds = 3000;

	for (round = 0; round < rounds; round++) {
		n = 2 + tap_rand_below(6);
		lc = lincheck_new();
		for (i = m = 0; i < n; i++) {
			struct bf_op *o = &ops[m];

			memset(o, 0, sizeof(*o));
			o->type = tap_rand_below(4);
			o->value = 1 + tap_rand_below(3);
			o->expect = tap_rand_below(4);
			o->result = tap_rand_below(4);
			o->ok = tap_rand_below(2);
			o->has_prev = tap_rand_below(2);
			o->prev = o->has_prev ? (int)tap_rand_below(4) : 0;
			o->invoke = tap_rand_below(20);
			o->ret = o->invoke + tap_rand_below(8);
			o->pending = tap_rand_below(5) == 0;
			if (o->type == LINCHECK_CAS && tap_rand_below(4) == 0)
				o->value = 0;	/* a cas that deletes */
			memset(&op, 0, sizeof(op));
			op.client = i;
			op.key = bytes_str("k");
			op.type = o->type;
			op.invoke = o->invoke;
			op.ret = o->pending ? LINCHECK_PENDING : (uint64_t)o->ret;
			op.value = bf_val(o->value);
			op.expect = bf_val(o->expect);
			op.result = bf_val(o->result);
			op.ok = o->ok;
			op.has_prev = o->has_prev;
			op.prev = bf_val(o->prev);
			if (o->type == LINCHECK_WRITE && o->value == 0)
				continue;
			if (lincheck_add(lc, &op) == -1)
				diag("add: %s", log_reason());
			/* A pending read constrains nothing: both drop it. */
			if (!(o->pending && o->type == LINCHECK_READ))
				m++;
		}
		want = bf_check(ops, m);
		got = lincheck_check(lc, NULL) == LINCHECK_OK;
		if (want == got)
			agree++;
		else if (round - agree < 3)
			diag("round %d: brute force says %d, lincheck %d", round,
			    want, got);
		yes += want;
		lincheck_free(lc);
	}
	is_int(agree, rounds, "lincheck agrees with brute force on %d small "
	    "random histories (%d linearizable)", rounds, yes);
	ok(yes > rounds / 10 && yes < rounds - rounds / 10,
	    "and they are a mix of both verdicts");
}

static void
test_budget(void)
{
	struct lincheck *lc = lincheck_new();
	struct buf why = BUF_INIT;
	char line[64];
	int i;

	/* Many pending writes overlapping many reads: a big search. */
	for (i = 0; i < 30; i++) {
		snprintf(line, sizeof(line), "%d %d - put k %d", i, i, i);
		lincheck_add_line(lc, line);
		snprintf(line, sizeof(line), "%d %d %d get k %d", i, 100 + i,
		    101 + i, (i * 7) % 30);
		lincheck_add_line(lc, line);
	}
	lincheck_set_budget(lc, 10);
	is_int(lincheck_check(lc, &why), LINCHECK_GAVE_UP,
	    "a search over its budget gives up");
	ok(why.len > 0 && strstr((char *)why.data, "gave up") != NULL,
	    "and says so: %s", why.data);
	lincheck_free(lc);
	buf_free(&why);
}

/* Run lincheck_tool on a history; returns its exit status. */
static int
tool(const char *path, const char *hist, struct buf *out)
{
	char tmp[] = "/tmp/lincheck_test.XXXXXX", cmd[512], chunk[256];
	FILE *f, *p;
	size_t n;
	int fd, st;

	if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	fputs(hist, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' 2>&1", path, tmp);
	buf_reset(out);
	if ((p = popen(cmd, "r")) == NULL) {
		unlink(tmp);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(out, chunk, n);
	st = pclose(p);
	unlink(tmp);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_tool(void)
{
	const char *dir = getenv("TIKV_BUILD");
	struct buf out = BUF_INIT;
	char path[256];

	snprintf(path, sizeof(path), "%s/t/lincheck_tool", dir ? dir :
	    "build");
	if (access(path, X_OK) != 0) {
		diag("no %s: tool tests skipped", path);
		ok(1, "# SKIP lincheck_tool not built");
		return;
	}
	is_int(tool(path, "0 0 10 put a 1 ok\n1 5 - put a 2\n"
	    "2 20 30 get a 2\n", &out), 0, "tool: linearizable exits 0");
	is_int(tool(path, "0 0 10 put k%3d 1 ok\n1 20 30 get k%3d 2\n", &out),
	    1, "tool: a violation exits 1");
	ok(strstr((char *)out.data, "key 'k=': not linearizable") != NULL,
	    "tool: and names the key: %s", out.data);
	is_int(tool(path, "0 0 10 put a\n", &out), 2,
	    "tool: a malformed line exits 2");
	ok(strstr((char *)out.data, ":1: ") != NULL,
	    "tool: and names the line: %s", out.data);
	buf_free(&out);
}

int
main(void)
{
	test_rejects();
	test_accepts();
	test_parse();
	test_random();
	test_bruteforce();
	test_budget();
	test_tool();
	return done_testing();
}
