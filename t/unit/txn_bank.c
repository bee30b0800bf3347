/*
 * txn_bank: the bank test of snapshot isolation.  Accounts acct000,
 * acct001, ... hold decimal balances; transfers move money between two
 * of them in transactions (txn.h), so the total never changes, and a
 * reader that sums every account in one transaction must always see it.
 *
 *	txn_bank -p pd_url [-t timeout_ms] init -n accounts -b balance
 *	txn_bank -p pd_url [-T ttl_ms] [-t timeout_ms] run -n accounts
 *	    [-b balance] [-c threads] [-d seconds]
 *	txn_bank -p pd_url [-t timeout_ms] check -n accounts -b balance
 *	txn_bank -p pd_url [-t timeout_ms] show
 *	txn_bank -p pd_url [-T ttl_ms] [-t timeout_ms] move from to amount
 *	txn_bank -p pd_url [-t timeout_ms] selftest
 *
 * init creates the accounts (inserts: they must not exist).  run makes
 * random transfers from c threads for d seconds (a transaction that
 * conflicts is counted and done again as a new one; other failures are
 * counted), while one more thread sums every account in one transaction,
 * again and again, and checks the total: n * balance, or without -b the
 * total its first sum saw.  It prints "transfers N conflicts N errors N
 * checks N" and exits 1 if a check saw a wrong total or count.  check
 * sums the accounts once; show prints "account balance" lines; move
 * makes one transfer.  selftest checks, on keys "st/..." of its own, what
 * the bank does not reach: reads of a transaction's own writes, scans
 * merging them with the store's pairs, conflicts, snapshots and commits
 * of many keys.  -T sets the lock TTL of the transactions
 * (txn_set_ttl), for tests that leave locks behind with
 * TIKV_TXN_FAILPOINT.
 *
 * Exit 0 on success, 1 on a failed check or transaction, 2 on usage or
 * setup errors.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
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
#include "txn.h"

#define MAX_PD		8
#define MAX_THREADS	256
#define MAX_ACCOUNTS	100000
#define KEY_MAX		32
/* Errors printed in full; after these only every 100th. */
#define ERRORS_SHOWN	10

/* Every account key sorts in [ACCT_START, ACCT_END). */
#define ACCT_START	"acct"
#define ACCT_END	"acct~"

static struct client *cl;
static long long naccounts = -1;
static long long balance = -1;
static uint64_t ttl_ms;
static uint64_t deadline_ms;
static int nthreads = 4;
static long long seconds = 5;

static atomic_llong transfers;
static atomic_llong conflicts;
static atomic_llong errors;
static atomic_llong checks;
static atomic_llong bad_checks;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: txn_bank -p pd_url [-t timeout_ms] init "
	    "-n accounts -b balance\n"
	    "       txn_bank -p pd_url [-T ttl_ms] [-t timeout_ms] run "
	    "-n accounts\n"
	    "\t[-b balance] [-c threads] [-d seconds]\n"
	    "       txn_bank -p pd_url [-t timeout_ms] check -n accounts "
	    "-b balance\n"
	    "       txn_bank -p pd_url [-t timeout_ms] show\n"
	    "       txn_bank -p pd_url [-T ttl_ms] [-t timeout_ms] move "
	    "from to amount\n"
	    "       txn_bank -p pd_url [-t timeout_ms] selftest\n");
	exit(2);
}

/* A buffer as a string: an empty one may have no data at all. */
static const char *
str(const struct buf *b)
{
	return b->data != NULL ? (const char *)b->data : "";
}

static size_t
acct_key(long long i, char *key, size_t size)
{
	int n;

	n = snprintf(key, size, ACCT_START "%03lld", i);
	if (n < 0 || (size_t)n >= size)
		errx(2, "account %lld: key too long", i);
	return (size_t)n;
}

/* A balance as stored: decimal, no sign.  -1 if it is not one. */
static int
parse_balance(const struct buf *v, long long *out)
{
	const char *errstr;
	char s[32];

	if (v->len == 0 || v->len >= sizeof(s))
		return -1;
	memcpy(s, v->data, v->len);
	s[v->len] = '\0';
	*out = strtonum(s, 0, LLONG_MAX, &errstr);
	return errstr == NULL ? 0 : -1;
}

static void
put_balance(struct txn *t, const char *key, size_t keylen, long long b)
{
	char v[32];
	int n;

	n = snprintf(v, sizeof(v), "%lld", b);
	txn_put(t, key, keylen, v, (size_t)n);
}

static void
note_error(const char *what)
{
	long long n = atomic_fetch_add(&errors, 1) + 1;

	if (n <= ERRORS_SHOWN || n % 100 == 0)
		warnx("%s (error %lld): %s", what, n, log_reason());
}

static struct txn *
begin(void)
{
	struct txn *t;

	if ((t = txn_begin(cl)) != NULL && ttl_ms != 0)
		txn_set_ttl(t, ttl_ms);
	return t;
}

/*
 * Reads both accounts and moves amount (-1: a random part of from's
 * balance) from one to the other.  0, TXN_CONFLICT, or another failure
 * with log_reason() (1: from holds too little).
 */
static int
transfer(const char *from, const char *to, long long amount)
{
	struct bytes keys[2];
	struct buf vals[2] = { BUF_INIT, BUF_INIT };
	long long bal[2];
	struct txn *t;
	int found[2], rc = -1, i;

	keys[0].ptr = (const uint8_t *)from;
	keys[0].len = strlen(from);
	keys[1].ptr = (const uint8_t *)to;
	keys[1].len = strlen(to);
	if ((t = begin()) == NULL)
		return -1;
	if (txn_batch_get(t, keys, 2, found, vals) == -1)
		goto out;
	for (i = 0; i < 2; i++) {
		if (!found[i]) {
			log_setreason("account '%s' is missing",
			    (const char *)keys[i].ptr);
			goto out;
		}
		if (parse_balance(&vals[i], &bal[i]) == -1) {
			log_setreason("account '%s' holds '%s'",
			    (const char *)keys[i].ptr, str(&vals[i]));
			goto out;
		}
	}
	if (amount < 0)
		amount = bal[0] == 0 ? 0 :
		    (long long)arc4random_uniform((uint32_t)(bal[0] >
		    UINT32_MAX - 1 ? UINT32_MAX - 1 : bal[0]) + 1);
	if (amount > bal[0]) {
		log_setreason("account '%s' holds %lld, less than %lld", from,
		    bal[0], amount);
		rc = 1;
		goto out;
	}
	put_balance(t, from, keys[0].len, bal[0] - amount);
	put_balance(t, to, keys[1].len, bal[1] + amount);
	rc = txn_commit(t, NULL);
out:
	txn_free(t);
	buf_free(&vals[0]);
	buf_free(&vals[1]);
	return rc;
}

/*
 * Sums every account in one transaction: 0 (*count, *total), or -1 with
 * log_reason().  show: print each account too.
 */
static int
sum_accounts(long long *count, long long *total, int show)
{
	struct client_pair *p;
	struct txn *t;
	long long b;
	size_t n, i;
	int rc = -1;

	if ((t = begin()) == NULL)
		return -1;
	if (txn_scan(t, ACCT_START, strlen(ACCT_START), ACCT_END,
	    strlen(ACCT_END), 0, 0, &p, &n) == -1) {
		txn_free(t);
		return -1;
	}
	*count = (long long)n;
	*total = 0;
	for (i = 0; i < n; i++) {
		if (parse_balance(&p[i].value, &b) == -1) {
			log_setreason("account '%s' holds '%s'",
			    str(&p[i].key), str(&p[i].value));
			goto out;
		}
		if (show)
			printf("%s %lld\n", str(&p[i].key), b);
		*total += b;
	}
	rc = 0;
out:
	client_pairs_free(p, n);
	txn_free(t);
	return rc;
}

static void *
transfer_thread(void *arg)
{
	char from[KEY_MAX], to[KEY_MAX];
	uint32_t a, b;
	int rc;

	while (clock_mono_ms() < deadline_ms) {
		a = arc4random_uniform((uint32_t)naccounts);
		b = arc4random_uniform((uint32_t)naccounts - 1);
		if (b >= a)
			b++;
		acct_key(a, from, sizeof(from));
		acct_key(b, to, sizeof(to));
		rc = transfer(from, to, -1);
		if (rc == 0) {
			atomic_fetch_add(&transfers, 1);
		} else if (rc == TXN_CONFLICT) {
			atomic_fetch_add(&conflicts, 1);
		} else {
			note_error("transfer");
			/* A cluster without a leader fails fast: do not
			 * spin on it. */
			clock_sleep_ms(20);
		}
	}
	return NULL;
}

static void *
check_thread(void *arg)
{
	long long count, total, expect = -1;

	if (balance >= 0)
		expect = naccounts * balance;
	while (clock_mono_ms() < deadline_ms) {
		if (sum_accounts(&count, &total, 0) == -1) {
			note_error("check");
			clock_sleep_ms(20);
			continue;
		}
		if (expect < 0)
			expect = total;
		atomic_fetch_add(&checks, 1);
		if (count != naccounts || total != expect) {
			atomic_fetch_add(&bad_checks, 1);
			warnx("check %lld: %lld accounts hold %lld, expected "
			    "%lld holding %lld", (long long)checks, count,
			    total, naccounts, expect);
		}
	}
	return NULL;
}

static int
cmd_run(char *const *args)
{
	pthread_t th[MAX_THREADS + 1];
	int i, e;

	if (naccounts < 0)
		usage();
	deadline_ms = clock_mono_ms() + (uint64_t)seconds * 1000;
	for (i = 0; i <= nthreads; i++)
		if ((e = pthread_create(&th[i], NULL, i < nthreads ?
		    transfer_thread : check_thread, NULL)) != 0)
			errc(2, e, "pthread_create");
	for (i = 0; i <= nthreads; i++)
		pthread_join(th[i], NULL);
	printf("transfers %lld conflicts %lld errors %lld checks %lld\n",
	    (long long)transfers, (long long)conflicts, (long long)errors,
	    (long long)checks);
	if (bad_checks > 0) {
		warnx("%lld of %lld checks saw a wrong total",
		    (long long)bad_checks, (long long)checks);
		return 1;
	}
	return 0;
}

static int
cmd_init(char *const *args)
{
	char key[KEY_MAX], v[32];
	struct txn *t;
	long long i;
	size_t klen;
	int n, rc;

	if (naccounts < 0 || balance < 0)
		usage();
	if ((t = begin()) == NULL)
		errx(1, "init: %s", log_reason());
	n = snprintf(v, sizeof(v), "%lld", balance);
	for (i = 0; i < naccounts; i++) {
		klen = acct_key(i, key, sizeof(key));
		txn_insert(t, key, klen, v, (size_t)n);
	}
	rc = txn_commit(t, NULL);
	txn_free(t);
	if (rc != 0) {
		warnx("init: %s%s", rc == TXN_ALREADY_EXIST ?
		    "an account exists already: " : "", log_reason());
		return 1;
	}
	printf("%lld accounts of %lld\n", naccounts, balance);
	return 0;
}

static int
cmd_check(char *const *args)
{
	long long count, total;

	if (naccounts < 0 || balance < 0)
		usage();
	if (sum_accounts(&count, &total, 0) == -1)
		errx(1, "check: %s", log_reason());
	if (count != naccounts || total != naccounts * balance) {
		printf("%lld accounts hold %lld, expected %lld holding %lld\n",
		    count, total, naccounts, naccounts * balance);
		return 1;
	}
	printf("%lld accounts hold %lld\n", count, total);
	return 0;
}

static int
cmd_show(char *const *args)
{
	long long count, total;

	if (sum_accounts(&count, &total, 1) == -1)
		errx(1, "show: %s", log_reason());
	return 0;
}

static int
cmd_move(char *const *args)
{
	const char *errstr;
	long long amount;
	int rc;

	amount = strtonum(args[2], 0, LLONG_MAX, &errstr);
	if (errstr != NULL)
		errx(2, "amount %s: %s", args[2], errstr);
	if (strcmp(args[0], args[1]) == 0)
		errx(2, "move: from and to are one account");
	if ((rc = transfer(args[0], args[1], amount)) != 0)
		errx(1, "move: %s%s", rc == TXN_CONFLICT ? "conflict: " : "",
		    log_reason());
	printf("moved %lld from %s to %s\n", amount, args[0], args[1]);
	return 0;
}

/* --- selftest ------------------------------------------------------------ */

/*
 * The semantics the bank does not reach, on keys of their own (ST_START
 * up to ST_END): reads of a transaction's own writes, scans merging them
 * with the store's pairs across pages, conflicts of inserts, locks and
 * writes, snapshots, and commits of many lines.
 */
#define ST_START	"st/"
#define ST_END		"st/~"
#define ST_BIG		1400

static int st_failed;
static int st_passed;

static void st_check(int, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
st_check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		st_passed++;
		return;
	}
	st_failed++;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

static struct txn *
st_begin(void)
{
	struct txn *t;

	if ((t = begin()) == NULL)
		errx(1, "selftest: begin: %s", log_reason());
	return t;
}

static void
st_put(struct txn *t, const char *k, const char *v)
{
	txn_put(t, k, strlen(k), v, strlen(v));
}

static void
st_commit(struct txn *t, int want, const char *what)
{
	int rc = txn_commit(t, NULL);

	st_check(rc == want, "selftest: %s: commit gave %d, wanted %d (%s)",
	    what, rc, want, rc == 0 ? "no error" : log_reason());
	txn_free(t);
}

/* want: the value, or NULL for none. */
static void
st_get(struct txn *t, const char *k, const char *want)
{
	struct buf v = BUF_INIT;
	int rc;

	rc = txn_get(t, k, strlen(k), &v);
	if (rc == -1)
		st_check(0, "selftest: get '%s': %s", k, log_reason());
	else if (want == NULL)
		st_check(rc == 0, "selftest: get '%s': '%s', wanted none", k,
		    str(&v));
	else
		st_check(rc == 1 && strcmp(str(&v), want) == 0,
		    "selftest: get '%s': %s'%s', wanted '%s'", k,
		    rc ? "" : "none ", rc ? str(&v) : "", want);
	buf_free(&v);
}

/* Scans into "k=v k=v ..." (KEY_ONLY: "k= k= ..."). */
static int
st_scan(struct txn *t, const char *start, const char *end, size_t limit,
    int flags, struct buf *out)
{
	struct client_pair *p;
	size_t n, i;

	buf_reset(out);
	if (txn_scan(t, start, strlen(start), end, strlen(end), limit, flags,
	    &p, &n) == -1) {
		buf_printf(out, "error: %s", log_reason());
		return -1;
	}
	for (i = 0; i < n; i++)
		buf_printf(out, "%s%s=%s", i ? " " : "", str(&p[i].key),
		    str(&p[i].value));
	client_pairs_free(p, n);
	return 0;
}

static void
st_scan_is(struct txn *t, const char *start, const char *end, size_t limit,
    int flags, const char *want)
{
	struct buf got = BUF_INIT;

	st_scan(t, start, end, limit, flags, &got);
	st_check(strcmp(str(&got), want) == 0, "selftest: scan [%s, %s) "
	    "limit %zu: '%.300s', wanted '%.300s'", start, end, limit,
	    str(&got), want);
	buf_free(&got);
}

static void
st_own_writes(void)
{
	struct bytes keys[6];
	struct buf vals[6];
	static const char *const bk[6] = { "st/1", "st/2", "st/3", "st/5",
	    "st/6", "st/3" };
	static const char *const bv[6] = { "a", "b", "C", NULL, NULL, "C" };
	int found[6], i;
	struct txn *t;

	t = st_begin();
	st_put(t, "st/1", "a");
	st_put(t, "st/3", "c");
	st_put(t, "st/5", "e");
	st_commit(t, 0, "three keys");

	t = st_begin();
	st_put(t, "st/2", "b");
	st_put(t, "st/3", "x");
	st_put(t, "st/3", "C");
	txn_delete(t, "st/5", 4);
	txn_lock_key(t, "st/1", 4);
	txn_insert(t, "st/4", 4, "d", 1);
	txn_lock_key(t, "st/4", 4);
	st_get(t, "st/1", "a");
	st_get(t, "st/2", "b");
	st_get(t, "st/3", "C");
	st_get(t, "st/4", "d");
	st_get(t, "st/5", NULL);
	st_get(t, "st/6", NULL);
	for (i = 0; i < 6; i++) {
		keys[i].ptr = (const uint8_t *)bk[i];
		keys[i].len = strlen(bk[i]);
		buf_init(&vals[i]);
	}
	if (txn_batch_get(t, keys, 6, found, vals) == -1)
		st_check(0, "selftest: batch get: %s", log_reason());
	else
		for (i = 0; i < 6; i++)
			st_check(bv[i] == NULL ? !found[i] : found[i] &&
			    strcmp(str(&vals[i]), bv[i]) == 0,
			    "selftest: batch get '%s': %s'%s'", bk[i],
			    found[i] ? "" : "none ", str(&vals[i]));
	for (i = 0; i < 6; i++)
		buf_free(&vals[i]);
	st_scan_is(t, ST_START, ST_END, 0, 0,
	    "st/1=a st/2=b st/3=C st/4=d");
	st_scan_is(t, ST_START, ST_END, 2, 0, "st/1=a st/2=b");
	st_scan_is(t, "st/2", "st/4", 0, 0, "st/2=b st/3=C");
	st_scan_is(t, "st/3", "", 0, CLIENT_KEY_ONLY, "st/3= st/4=");
	st_commit(t, 0, "own writes");

	t = st_begin();
	st_scan_is(t, ST_START, ST_END, 0, 0,
	    "st/1=a st/2=b st/3=C st/4=d");
	txn_free(t);
}

static void
st_conflicts(void)
{
	struct txn *t, *u;

	t = st_begin();
	txn_insert(t, "st/1", 4, "x", 1);
	txn_insert(t, "st/0", 4, "x", 1);
	st_commit(t, TXN_ALREADY_EXIST, "insert of a key that exists");
	t = st_begin();
	st_scan_is(t, ST_START, ST_END, 0, 0,
	    "st/1=a st/2=b st/3=C st/4=d");
	txn_free(t);

	t = st_begin();
	u = st_begin();
	st_put(t, "st/2", "t");
	st_put(u, "st/2", "u");
	st_commit(u, 0, "the first of two writers");
	st_commit(t, TXN_CONFLICT, "the second of two writers");

	t = st_begin();
	txn_lock_key(t, "st/3", 4);
	st_put(t, "st/9", "t");
	u = st_begin();
	st_put(u, "st/3", "u");
	st_commit(u, 0, "a write of a key another locks");
	st_commit(t, TXN_CONFLICT, "a lock of a key written since");

	/* A snapshot does not see a later commit. */
	t = st_begin();
	u = st_begin();
	st_put(u, "st/1", "u");
	st_commit(u, 0, "a write after a snapshot");
	st_get(t, "st/1", "a");
	st_scan_is(t, ST_START, ST_END, 0, 0,
	    "st/1=a st/2=u st/3=u st/4=d");
	txn_free(t);
}

/* Many keys: commits of several lines, scans of several pages merged
 * with as many own writes. */
static void
st_big(void)
{
	struct buf want = BUF_INIT, want2 = BUF_INIT;
	char k[32];
	struct txn *t;
	size_t n = 0;
	int i;

	t = st_begin();
	for (i = 0; i < ST_BIG; i += 2) {
		snprintf(k, sizeof(k), "st/big%04d", i);
		st_put(t, k, k);
	}
	st_commit(t, 0, "even keys");

	t = st_begin();
	for (i = 0; i < ST_BIG; i++) {
		snprintf(k, sizeof(k), "st/big%04d", i);
		if (i % 2)
			st_put(t, k, k);
		else if (i % 4 == 0)
			txn_delete(t, k, strlen(k));
		if (i % 4 == 0)
			continue;
		buf_printf(&want, "%s%s=%s", n ? " " : "", k, k);
		if (++n == 500)
			buf_add(&want2, want.data, want.len);
	}
	st_scan_is(t, "st/big", "st/bih", 0, 0, str(&want));
	st_scan_is(t, "st/big", "st/bih", 500, 0, str(&want2));
	st_commit(t, 0, "odd keys and deletes");
	t = st_begin();
	st_scan_is(t, "st/big", "st/bih", 0, 0, str(&want));
	txn_free(t);
	buf_free(&want);
	buf_free(&want2);
}

static void
st_cleanup(void)
{
	struct client_pair *p;
	struct txn *t;
	size_t n, i;

	t = st_begin();
	if (txn_scan(t, ST_START, strlen(ST_START), ST_END, strlen(ST_END),
	    0, CLIENT_KEY_ONLY, &p, &n) == -1)
		errx(1, "selftest: cleanup: %s", log_reason());
	for (i = 0; i < n; i++)
		txn_delete(t, p[i].key.data, p[i].key.len);
	client_pairs_free(p, n);
	st_commit(t, 0, "cleanup");
	t = st_begin();
	st_scan_is(t, ST_START, ST_END, 0, 0, "");
	txn_free(t);
}

static int
cmd_selftest(char *const *args)
{
	st_cleanup();
	st_own_writes();
	st_conflicts();
	st_big();
	st_cleanup();
	printf("selftest: %d checks passed, %d failed\n", st_passed,
	    st_failed);
	return st_failed ? 1 : 0;
}

static const struct command {
	const char *name;
	int nargs;
	int (*fn)(char *const *);
} commands[] = {
	{ "check", 0, cmd_check },
	{ "init", 0, cmd_init },
	{ "move", 3, cmd_move },
	{ "run", 0, cmd_run },
	{ "selftest", 0, cmd_selftest },
	{ "show", 0, cmd_show },
	{ NULL, 0, NULL }
};

int
main(int argc, char *argv[])
{
	const struct command *cmd;
	char *pd[MAX_PD];
	const char *errstr;
	int ch, timeout_ms = 0, rc;
	size_t npd = 0;

	while ((ch = getopt(argc, argv, "T:b:c:d:n:p:t:")) != -1) {
		switch (ch) {
		case 'T':
			ttl_ms = (uint64_t)strtonum(optarg, 1, 3600000,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-T %s: %s", optarg, errstr);
			break;
		case 'b':
			balance = strtonum(optarg, 0, 1000000000, &errstr);
			if (errstr != NULL)
				errx(2, "-b %s: %s", optarg, errstr);
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
		case 'n':
			naccounts = strtonum(optarg, 2, MAX_ACCOUNTS,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-n %s: %s", optarg, errstr);
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
	argc -= optind;
	argv += optind;
	if (argc < 1 || npd == 0)
		usage();
	for (cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[0]) == 0)
			break;
	if (cmd->name == NULL || argc != 1 + cmd->nargs)
		usage();
	log_init("txn_bank", LOG_LEVEL_WARN, 0);
	if ((cl = client_open(pd, npd, timeout_ms)) == NULL)
		errx(2, "%s", log_reason());
	rc = cmd->fn(argv + 1);
	client_close(cl);
	return rc;
}
