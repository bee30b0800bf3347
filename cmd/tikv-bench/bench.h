/*
 * tikv-bench's phases: what main() configures, what run.c measures and
 * what report.c prints.
 */
#ifndef BENCH_H
#define BENCH_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"
#include "workload.h"

struct client;

enum phase {
	PHASE_LOAD,
	PHASE_RUN
};

enum format {
	FORMAT_TEXT,
	FORMAT_CSV,
	FORMAT_JSON
};

struct bench {
	struct client *client;
	struct workload *w;
	int phase;
	const char *mode;		/* "raw" or "txn" */
	int txn;			/* one transaction per operation */
	int threads;
	int depth;			/* operations sent together */
	uint64_t rate;			/* ops/s over all threads; 0: as fast */
	uint64_t duration;		/* seconds measured; 0: by count */
	uint64_t warmup;		/* seconds not measured (run only) */
	uint64_t seed;
	int progress;			/* progress lines on stdout */
	volatile sig_atomic_t *interrupted;
};

#define ERRKIND_MAX	16
#define ERRKIND_LEN	32
#define ERRSAMPLE_LEN	200

/* Errors of one kind: a class of log_reason() texts, and the first. */
struct errkind {
	char kind[ERRKIND_LEN];
	uint64_t count;
	char sample[ERRSAMPLE_LEN];
};

struct result {
	struct hist *hist[OP_COUNT];	/* latencies in us of ops that did */
	struct hist *total;
	uint64_t errors[OP_COUNT];	/* ops that failed */
	struct errkind kinds[ERRKIND_MAX];
	size_t nkinds;
	double elapsed;			/* seconds measured */
	int interrupted;
};

/* Runs the phase and fills res (result_free it). */
void run_phase(const struct bench *, struct result *res);
void result_free(struct result *);
uint64_t result_errors(const struct result *);

/* The kind of an error from its log_reason() text. */
void errkind_classify(const char *reason, char *kind, size_t len);
/* Counts one error of kind in the table (the last slot takes the rest). */
void errkind_add(struct errkind *, size_t *n, const char *kind,
    uint64_t count, const char *sample);

void report_print(FILE *, int format, const struct bench *,
    const struct result *);

#endif
