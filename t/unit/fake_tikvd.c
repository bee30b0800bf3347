/*
 * fake_tikvd -p pd_url [-n stores]: the fake stores of fakestore.h as a
 * program, for shell tests of tikv-ctl while tikvd cannot run.  Prints
 * one "ready" line with the stores' URLs and serves until SIGTERM or
 * SIGINT.  The FAKE_* commands of fakestore.h steer it.
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fakestore.h"
#include "log.h"

int
main(int argc, char *argv[])
{
	const char *pd = NULL, *errstr;
	struct fake *f;
	sigset_t set;
	int ch, n = 3, i, sig;

	log_init("fake_tikvd", LOG_LEVEL_WARN, 0);
	while ((ch = getopt(argc, argv, "n:p:")) != -1) {
		switch (ch) {
		case 'n':
			n = (int)strtonum(optarg, 1, 8, &errstr);
			if (errstr)
				errx(2, "stores '%s' is %s (1-8)", optarg,
				    errstr);
			break;
		case 'p':
			pd = optarg;
			break;
		default:
			fprintf(stderr, "usage: fake_tikvd -p pd_url "
			    "[-n stores]\n");
			return 2;
		}
	}
	if (pd == NULL || optind != argc)
		errx(2, "usage: fake_tikvd -p pd_url [-n stores]");
	/* Threads started from here on leave the signals to sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((f = fake_start(pd, n)) == NULL)
		errx(1, "%s", log_reason());
	printf("fake_tikvd: ready:");
	for (i = 1; i <= n; i++)
		printf(" %s", fake_store_url(f, i));
	printf("\n");
	fflush(stdout);
	sigwait(&set, &sig);
	fake_stop(f);
	return 0;
}
