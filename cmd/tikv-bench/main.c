/*
 * tikv-bench: YCSB core workloads against the store.  "load" writes the
 * records, "run" runs a workload's mix over them; both print a summary
 * per operation type.  Exit status: 0 success, 1 failure, 2 usage.
 */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "buf.h"
#include "client.h"
#include "log.h"
#include "txn.h"
#include "xmalloc.h"

#define THREADS_MAX	1024
#define DEPTH_MAX	10000
#define RATE_MAX	100000000LL
#define DURATION_MAX	(7 * 86400LL)
#define WARMUP_MAX	3600LL
#define PD_MAX		16

static volatile sig_atomic_t interrupted;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tikv-bench [-h] [-c threads] [-d seconds] [-m raw | txn]\n"
	    "           [-o text | csv | json] [-P depth] [-p name=value] "
	    "[-r rate]\n"
	    "           [-s seed] [-W seconds] [-w workload] [--pd addr] "
	    "load | run\n");
	exit(2);
}

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static long long
number(const char *what, const char *s, long long min, long long max)
{
	const char *errstr;
	long long n;

	n = strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		errx(2, "%s '%s' is %s (%lld to %lld)", what, s, errstr, min,
		    max);
	return n;
}

/*
 * PD endpoints: a comma-separated list; "host:port" means
 * "tcp://host:port".
 */
static size_t
pd_endpoints(const char *list, char **eps)
{
	char *copy = xstrdup(list), *p = copy, *tok;
	size_t n = 0;

	while ((tok = strsep(&p, ",")) != NULL) {
		if (*tok == '\0')
			continue;
		if (n == PD_MAX)
			errx(2, "more than %d PD endpoints", PD_MAX);
		if (strstr(tok, "://") == NULL)
			xasprintf(&eps[n], "tcp://%s", tok);
		else
			eps[n] = xstrdup(tok);
		n++;
	}
	free(copy);
	if (n == 0)
		errx(2, "no PD endpoint in '%s'", list);
	return n;
}

/* Reads key (a struct buf it overwrites) in the mode's own way. */
static int
probe_read(struct client *c, int txn, struct buf *key)
{
	char why[512];
	struct txn *t;
	int r;

	if (!txn)
		return client_get(c, key->data, key->len, key);
	if ((t = txn_begin(c)) == NULL)
		return -1;
	r = txn_get(t, key->data, key->len, key);
	strlcpy(why, log_reason(), sizeof(why));
	txn_free(t);
	if (r == -1)
		log_setreason("%s", why);
	return r;
}

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "pd", required_argument, NULL, 'D' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct workload w;
	struct bench b;
	struct result res;
	struct sigaction sa;
	struct client *c;
	struct buf probe = BUF_INIT;
	const char *pd, *wname = "A", *mode = "raw";
	char **props, *eps[PD_MAX];
	size_t nprops = 0, neps, i;
	int ch, format = FORMAT_TEXT, status;

	log_init(argv[0], LOG_LEVEL_WARN, 0);
	memset(&b, 0, sizeof(b));
	b.threads = 1;
	b.depth = 1;
	b.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if ((pd = getenv("TIKV_PD")) == NULL)
		pd = "tcp://127.0.0.1:2379";
	props = xcalloc((size_t)argc, sizeof(*props));
	while ((ch = getopt_long(argc, argv, "c:d:hm:o:P:p:r:s:W:w:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			b.threads = (int)number("threads", optarg, 1,
			    THREADS_MAX);
			break;
		case 'D':
			pd = optarg;
			break;
		case 'd':
			b.duration = (uint64_t)number("duration", optarg, 1,
			    DURATION_MAX);
			break;
		case 'm':
			if (strcmp(optarg, "raw") != 0 &&
			    strcmp(optarg, "txn") != 0)
				errx(2, "unknown mode '%s' (raw or txn)",
				    optarg);
			mode = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "text") == 0)
				format = FORMAT_TEXT;
			else if (strcmp(optarg, "csv") == 0)
				format = FORMAT_CSV;
			else if (strcmp(optarg, "json") == 0)
				format = FORMAT_JSON;
			else
				errx(2, "unknown output format '%s' (text, "
				    "csv or json)", optarg);
			break;
		case 'P':
			b.depth = (int)number("depth", optarg, 1, DEPTH_MAX);
			break;
		case 'p':
			props[nprops++] = optarg;
			break;
		case 'r':
			b.rate = (uint64_t)number("rate", optarg, 1,
			    RATE_MAX);
			break;
		case 's':
			b.seed = (uint64_t)number("seed", optarg, 0,
			    INT64_MAX);
			break;
		case 'W':
			b.warmup = (uint64_t)number("warm-up", optarg, 0,
			    WARMUP_MAX);
			break;
		case 'w':
			wname = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	if (strcmp(argv[0], "load") == 0)
		b.phase = PHASE_LOAD;
	else if (strcmp(argv[0], "run") == 0)
		b.phase = PHASE_RUN;
	else
		usage();

	if (workload_preset(&w, wname) == -1)
		errx(2, "%s", log_reason());
	for (i = 0; i < nprops; i++)
		if (workload_set(&w, props[i]) == -1)
			errx(2, "%s", log_reason());
	free(props);
	if (workload_check(&w) == -1)
		errx(2, "workload %s: %s", w.name, log_reason());
	if (b.phase == PHASE_RUN && b.duration == 0 && w.operationcount == 0)
		errx(2, "operationcount=0 runs forever: give a duration "
		    "(-d)");
	b.w = &w;
	b.mode = mode;
	b.txn = strcmp(mode, "txn") == 0;
	b.interrupted = &interrupted;
	b.progress = isatty(STDOUT_FILENO);

	neps = pd_endpoints(pd, eps);
	if ((c = client_open(eps, neps, 0)) == NULL)
		errx(1, "%s", log_reason());
	for (i = 0; i < neps; i++)
		free(eps[i]);
	/* One read before the clock starts: the cluster answers (and PD's
	 * timestamps, in txn mode), and the routing cache holds the first
	 * region. */
	workload_key(&w, 0, &probe);
	if (probe_read(c, b.txn, &probe) == -1)
		errx(1, "cannot reach the cluster through '%s': %s", pd,
		    log_reason());
	buf_free(&probe);
	b.client = c;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	run_phase(&b, &res);
	report_print(stdout, format, &b, &res);
	status = 0;
	if (res.interrupted) {
		warnx("interrupted");
		status = 1;
	} else if (b.phase == PHASE_LOAD && result_errors(&res) > 0) {
		warnx("%" PRIu64 " of %" PRIu64 " records not loaded",
		    result_errors(&res), w.insertcount);
		status = 1;
	}
	result_free(&res);
	client_close(c);
	return status;
}
