/*
 * tso_clients: C threads, each with its own connection, take timestamps
 * from pdd until N requests are done in all, then check them:
 *   - no timestamp is handed out twice;
 *   - real-time order: a timestamp from a request that completed before
 *     another request was sent is smaller than every timestamp of that
 *     other request (this is what "strictly increasing across all
 *     clients" means for concurrent clients);
 * and print every timestamp (-o file) and the request rate.
 *
 *	tso_clients -a URL [-c clients] [-n requests] [-b per-request]
 *	    [-o file] [-q]
 * Exit 0 if the checks pass, 1 if not, 2 on usage or network errors.
 */
#include <err.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "net.h"

struct op {
	uint64_t sent, done;	/* ns, monotonic */
	uint64_t first;		/* first timestamp */
};

static const char *url;
static int per_request = 1;
static long total;
static atomic_long next_op;
static struct op *ops;

static void *
client(void *arg)
{
	struct net_client *c;
	struct buf reply = BUF_INIT;
	char line[32];
	long i;
	int n = snprintf(line, sizeof(line), "TSO %d\n", per_request);
	unsigned long long first, count;

	(void)arg;
	if ((c = net_client_open(url, NET_DEFAULT_MAXMSG)) == NULL)
		errx(2, "%s", log_reason());
	while ((i = atomic_fetch_add(&next_op, 1)) < total) {
		ops[i].sent = clock_mono_ns();
		if (net_client_call(c, line, (size_t)n, &reply, 10000) != 0)
			errx(2, "%s", log_reason());
		ops[i].done = clock_mono_ns();
		if (sscanf((const char *)reply.data, "OK %llu %llu", &first,
		    &count) != 2 || count != (unsigned long long)per_request)
			errx(2, "bad reply: %s", (const char *)reply.data);
		ops[i].first = first;
	}
	buf_free(&reply);
	net_client_close(c);
	return NULL;
}

static int
by_sent(const void *a, const void *b)
{
	const struct op *x = a, *y = b;

	return (x->sent > y->sent) - (x->sent < y->sent);
}

static int
by_done(const void *a, const void *b)
{
	const struct op *x = a, *y = b;

	return (x->done > y->done) - (x->done < y->done);
}

static int
by_first(const void *a, const void *b)
{
	const struct op *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

int
main(int argc, char *argv[])
{
	pthread_t *th;
	struct op *done_order;
	const char *out = NULL, *errstr;
	uint64_t t0, t1, maxts = 0;
	long i, j, bad = 0, dups = 0;
	int ch, nclients = 8, quiet = 0;
	FILE *f;

	total = 10000;
	while ((ch = getopt(argc, argv, "a:b:c:n:o:q")) != -1) {
		switch (ch) {
		case 'a':
			url = optarg;
			break;
		case 'b':
			per_request = (int)strtonum(optarg, 1, 262144, &errstr);
			if (errstr)
				errx(2, "-b %s", errstr);
			break;
		case 'c':
			nclients = (int)strtonum(optarg, 1, 1024, &errstr);
			if (errstr)
				errx(2, "-c %s", errstr);
			break;
		case 'n':
			total = (long)strtonum(optarg, 1, 100000000, &errstr);
			if (errstr)
				errx(2, "-n %s", errstr);
			break;
		case 'o':
			out = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			goto usage;
		}
	}
	if (url == NULL || optind != argc)
		goto usage;
	log_init(argv[0], LOG_LEVEL_WARN, 0);
	ops = calloc((size_t)total, sizeof(*ops));
	done_order = calloc((size_t)total, sizeof(*ops));
	th = calloc((size_t)nclients, sizeof(*th));
	if (ops == NULL || done_order == NULL || th == NULL)
		err(2, "calloc");

	t0 = clock_mono_ns();
	for (i = 0; i < nclients; i++)
		pthread_create(&th[i], NULL, client, NULL);
	for (i = 0; i < nclients; i++)
		pthread_join(th[i], NULL);
	t1 = clock_mono_ns();

	/* Sweep: for each request in order of sending, every request done
	 * before it was sent must have handed out smaller timestamps. */
	memcpy(done_order, ops, (size_t)total * sizeof(*ops));
	qsort(ops, (size_t)total, sizeof(*ops), by_sent);
	qsort(done_order, (size_t)total, sizeof(*ops), by_done);
	for (i = 0, j = 0; i < total; i++) {
		while (j < total && done_order[j].done < ops[i].sent) {
			uint64_t last = done_order[j].first + per_request - 1;

			if (last > maxts)
				maxts = last;
			j++;
		}
		if (j > 0 && ops[i].first <= maxts) {
			if (bad++ < 5)
				warnx("timestamp %" PRIu64 " issued after "
				    "%" PRIu64 " was already returned",
				    ops[i].first, maxts);
		}
	}
	qsort(ops, (size_t)total, sizeof(*ops), by_first);
	for (i = 1; i < total; i++)
		if (ops[i].first < ops[i - 1].first + per_request)
			dups++;
	if (out) {
		if ((f = fopen(out, "w")) == NULL)
			err(2, "%s", out);
		for (i = 0; i < total; i++)
			for (j = 0; j < per_request; j++)
				fprintf(f, "%" PRIu64 "\n", ops[i].first + j);
		if (fclose(f) == EOF)
			err(2, "%s", out);
	}
	if (!quiet)
		printf("%ld requests of %d from %d clients in %.3f s: "
		    "%.0f requests/s, %.0f timestamps/s\n", total,
		    per_request, nclients, (t1 - t0) / 1e9,
		    total / ((t1 - t0) / 1e9),
		    (double)total * per_request / ((t1 - t0) / 1e9));
	free(ops);
	free(done_order);
	free(th);
	if (dups)
		warnx("%ld overlapping or duplicate timestamps", dups);
	if (bad)
		warnx("%ld timestamps out of real-time order", bad);
	return bad || dups ? 1 : 0;
usage:
	fprintf(stderr, "usage: tso_clients -a url [-c clients] [-n requests] "
	    "[-b per-request] [-o file] [-q]\n");
	return 2;
}
