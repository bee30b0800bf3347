/*
 * A growable vector of Raft entries that owns copies of their data
 * (internal to the raft module).  The data of all entries lives in one
 * buffer, so a vector costs two allocations however many entries it has.
 * A zeroed struct is an empty vector.
 */
#ifndef RAFTENTS_H
#define RAFTENTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "raft.h"

struct raftents {
	struct raft_entry *v;
	size_t n;
	size_t cap;
	uint64_t bytes;		/* sum of the entries' data lengths */
	struct buf data;
};

/* Appends a copy of e (and of its data). */
void raftents_add(struct raftents *, const struct raft_entry *e);
/* The same, shaped as the raft_storage entries() callback. */
void raftents_add_cb(void *ents, const struct raft_entry *e);
/* Keeps the first n entries. */
void raftents_truncate(struct raftents *, size_t n);
/* Drops the first n entries. */
void raftents_drop_front(struct raftents *, size_t n);
void raftents_clear(struct raftents *);
void raftents_free(struct raftents *);
size_t raftents_memsize(const struct raftents *);
/* Size of an entry for the size limits: its data bytes. */
uint64_t raftents_size(const struct raft_entry *e);

#endif
