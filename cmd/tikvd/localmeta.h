/*
 * tikvd's records in KV_CF_META (kv.h): what a restart recovers from.
 *
 *	"store_id"		8 bytes big-endian (pdworker.c)
 *	"bootstrap_region"	8 bytes big-endian (pdworker.c)
 *	'R' region_id(8 BE)	region state: state byte, region_encode()
 *	'A' region_id(8 BE)	apply state: applied index, its term (8 BE)
 *
 * The apply thread writes a region's state and apply state in the same
 * batch as the data they describe, so after a crash the KV engine's last
 * checkpoint holds data, region and applied index of one moment.
 */
#ifndef LOCALMETA_H
#define LOCALMETA_H

#include <stdint.h>

#include "buf.h"
#include "region.h"

struct kv;
struct kv_batch;

/* Named records of 8 bytes big-endian (the PD worker's). */
#define LOCALMETA_STORE_ID	"store_id"
#define LOCALMETA_BOOTSTRAP	"bootstrap_region"

/* 1 and *v when the record is there, 0 when not, -1 on error. */
int localmeta_get_u64(struct kv *, const char *name, uint64_t *v);
/* Write or delete, then checkpoint: durable on return.  -1 on error. */
int localmeta_put_u64(struct kv *, const char *name, uint64_t v);
int localmeta_delete_u64(struct kv *, const char *name);

enum region_state {
	REGION_STATE_NORMAL = 0,
	REGION_STATE_TOMBSTONE = 1	/* the peer was removed */
};

struct apply_state {
	uint64_t applied;
	uint64_t term;
};

void localmeta_put_region(struct kv_batch *, const struct region *,
    int state);
void localmeta_put_apply(struct kv_batch *, uint64_t region_id,
    const struct apply_state *);
void localmeta_delete_region(struct kv_batch *, uint64_t region_id);

/* 1 when found, 0 when not, -1 on error (damaged record included). */
int localmeta_get_region(struct kv *, uint64_t id, struct region *,
    int *state);
int localmeta_get_apply(struct kv *, uint64_t id, struct apply_state *);

/*
 * Calls fn for every region record, in id order; stops when fn returns
 * non-zero.  -1 on a read error or damaged record.
 */
int localmeta_regions(struct kv *, int (*fn)(void *, const struct region *,
    int state), void *arg);

#endif
