/*
 * lincheck_tool: check a history of register operations (one per line, see
 * lincheck.h for the format) for linearizability.  Exits 0 if it is
 * linearizable, 1 if not (printing the key and why), 2 on bad input or if
 * the search gave up.
 */
#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "lincheck.h"
#include "log.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: lincheck_tool [-v] [-b steps] [file ...]\n");
	exit(2);
}

static void
readfile(struct lincheck *lc, FILE *f, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;

	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (lincheck_add_line(lc, line) == -1)
			errx(2, "%s:%lu: %s", name, lineno, log_reason());
	}
	if (ferror(f))
		err(2, "cannot read '%s'", name);
	free(line);
}

int
main(int argc, char *argv[])
{
	struct lincheck *lc;
	struct buf why = BUF_INIT;
	const char *errstr;
	long long budget = 0;
	int ch, i, verbose = 0;
	FILE *f;

	while ((ch = getopt(argc, argv, "b:v")) != -1) {
		switch (ch) {
		case 'b':
			budget = strtonum(optarg, 0, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "budget '%s' is %s", optarg, errstr);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	lc = lincheck_new();
	lincheck_set_budget(lc, (uint64_t)budget);
	if (argc == 0)
		readfile(lc, stdin, "<stdin>");
	for (i = 0; i < argc; i++) {
		if ((f = fopen(argv[i], "r")) == NULL)
			err(2, "cannot open '%s'", argv[i]);
		readfile(lc, f, argv[i]);
		fclose(f);
	}
	switch (lincheck_check(lc, &why)) {
	case LINCHECK_OK:
		if (verbose)
			printf("linearizable: %zu operations\n",
			    lincheck_count(lc));
		lincheck_free(lc);
		return 0;
	case LINCHECK_VIOLATION:
		printf("%s\n", why.data);
		lincheck_free(lc);
		buf_free(&why);
		return 1;
	default:
		warnx("%s", why.data);
		lincheck_free(lc);
		buf_free(&why);
		return 2;
	}
}
