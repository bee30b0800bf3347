/*
 * YCSB core workloads: the properties, presets A to F, record keys and
 * the generators that pick operations, keys and scan lengths.  Property
 * names and meanings are go-ycsb's (and YCSB's CoreWorkload's).
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum op {
	OP_READ,
	OP_UPDATE,
	OP_INSERT,
	OP_SCAN,
	OP_RMW,
	OP_COUNT
};

enum dist {
	DIST_UNIFORM,
	DIST_ZIPFIAN,
	DIST_LATEST
};

#define WORKLOAD_KEYPREFIX_MAX	64
#define WORKLOAD_VALUE_MAX	(1024 * 1024)

struct workload {
	char name[8];			/* "A" to "F", or "custom" */
	uint64_t recordcount;
	uint64_t operationcount;	/* 0: no limit (with -d) */
	int operationcount_set;		/* given with -p */
	uint64_t insertstart;
	uint64_t insertcount;		/* 0: recordcount - insertstart */
	uint64_t fieldcount;
	uint64_t fieldlength;
	double proportion[OP_COUNT];
	int requestdistribution;
	uint64_t minscanlength;
	uint64_t maxscanlength;
	int scanlengthdistribution;	/* DIST_UNIFORM or DIST_ZIPFIAN */
	int insertorder_hashed;
	uint64_t zeropadding;
	char keyprefix[WORKLOAD_KEYPREFIX_MAX];
};

/* The preset named a..f or A..F; -1 with log_reason() for another name. */
int workload_preset(struct workload *, const char *name);
/* "name=value" from -p; -1 with log_reason() for a bad name or value. */
int workload_set(struct workload *, const char *assignment);
/* Checks the properties together; -1 with log_reason(). */
int workload_check(struct workload *);
/* Calls fn for every property, its value printed as text. */
void workload_each(const struct workload *,
    void (*fn)(const char *name, const char *value, int numeric, void *),
    void *arg);

const char *op_name(int op);
const char *dist_name(int dist);

/* The key of record keynum: keyprefix and the (hashed) number. */
void workload_key(const struct workload *, uint64_t keynum, struct buf *);
/* The first key after every record key: keyprefix, last byte plus one. */
void workload_key_end(const struct workload *, struct buf *);
size_t workload_value_len(const struct workload *);

/* xoshiro256**: each worker has its own. */
struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *, uint64_t seed);
uint64_t rng_next(struct rng *);
/* Uniform in [0, n), n > 0. */
uint64_t rng_below(struct rng *, uint64_t n);
/* Uniform in [0, 1). */
double rng_double(struct rng *);

/* YCSB's ZipfianGenerator: items 0..n-1, item 0 most popular. */
struct zipf {
	uint64_t items;
	double theta;
	double alpha;
	double zeta2theta;
	double zetan;
	double eta;
};

/* zetan < 0: computed (O(items)). */
void zipf_init(struct zipf *, uint64_t items, double zetan);
/* The next item of [0, items); items may grow between calls. */
uint64_t zipf_next(struct zipf *, struct rng *, uint64_t items);

/*
 * The generators of one worker over a workload shared by all: operation
 * and key choice read the workload and the insert counter, nothing more.
 */
struct chooser {
	const struct workload *w;
	struct rng rng;
	double cumulative[OP_COUNT];
	struct zipf keys;		/* zipfian (scrambled) or latest */
	struct zipf scans;
	uint64_t zipf_items;		/* scrambled zipfian: the key space */
};

void chooser_init(struct chooser *, const struct workload *, uint64_t seed,
    uint64_t expected_inserts, const struct zipf *latest);
int chooser_op(struct chooser *);
/*
 * A record that exists: limit is one past the highest record every
 * insert below it has finished (see run.c).
 */
uint64_t chooser_key(struct chooser *, uint64_t limit);
uint64_t chooser_scan_length(struct chooser *);

#endif
