/*
 * pdd internals shared by its files: the data directory (meta.c), the
 * number dispensers (tso.c), the command table (service.c); the cluster
 * metadata has its own header (cluster.h).
 */
#ifndef PDD_H
#define PDD_H

#include <pthread.h>
#include <stdint.h>

#include "proto.h"

/*
 * A persisted upper bound: a number in a small file in the data directory,
 * replaced atomically (write, fdatasync, rename, fsync of the directory).
 * Dispensers hand out numbers below the bound and raise it, durably, before
 * they pass it; after a crash they restart from the bound, so no number is
 * ever handed out twice.
 */
struct meta_bound {
	int dirfd;
	const char *name;
	uint64_t limit;
};

/* Opens (creating) and locks the data directory; -1 if another process
 * holds it.  Returns the directory's fd. */
int meta_open_dir(const char *path);
int meta_bound_load(struct meta_bound *, int dirfd, const char *name);
/* -1 with log_reason() if the file cannot be written; fatal if a sync
 * fails. */
int meta_bound_raise(struct meta_bound *, uint64_t limit);

#define TSO_LOGICAL_BITS	18
#define TSO_MAX_COUNT		(1u << TSO_LOGICAL_BITS)

struct tso {
	pthread_mutex_t mu;
	uint64_t physical;	/* ms */
	uint64_t logical;
	uint64_t window_ms;
	struct meta_bound bound;	/* in ms: physical stays below */
};

struct idalloc {
	pthread_mutex_t mu;
	uint64_t next;
	uint64_t batch;
	struct meta_bound bound;
};

int tso_init(struct tso *, int dirfd, uint64_t window_ms);
/* n consecutive timestamps from *first.  -1 if the bound cannot be saved. */
int tso_get(struct tso *, uint32_t n, uint64_t *first);

int idalloc_init(struct idalloc *, int dirfd, uint64_t batch);
int idalloc_get(struct idalloc *, uint64_t n, uint64_t *first);
/*
 * Ids that callers pick themselves (the bootstrap store, region and peer)
 * are reserved so the allocator never hands them out again.
 */
#define IDALLOC_MAX	(UINT64_C(1) << 62)
int idalloc_reserve(struct idalloc *, uint64_t id);

struct cluster;

struct pdd {
	struct tso tso;
	struct idalloc ids;
	struct cluster *cluster;	/* cluster.h */
};

extern const struct proto_cmd pdd_commands[];

#endif
