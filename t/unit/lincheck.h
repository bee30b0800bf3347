/*
 * A linearizability checker for histories of a key-value register.
 *
 * Each key is a register holding a byte string or nothing.  Operations:
 * read (returns the value or absent), write, delete, and compare-and-swap
 * (if the current value equals the expected one, absent matching absent,
 * set the new value, or delete if the new value is absent; returns success
 * or failure, and optionally the value it found).
 *
 * An operation that never returned (a timeout, an unknown failure) is
 * pending: it may or may not have taken effect, at any time after its
 * invocation.  Operations that failed for sure should not be added at all.
 *
 *	struct lincheck *lc = lincheck_new();
 *	lincheck_add(lc, &op);		(any number, any order)
 *	switch (lincheck_check(lc, &why)) ...
 *	lincheck_free(lc);
 *
 * The check runs Wing and Gong's search with Lowe's memoization of
 * (linearized set, state) pairs, one key at a time: a history is
 * linearizable if and only if the history of every key is.
 */
#ifndef LINCHECK_H
#define LINCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum lincheck_type {
	LINCHECK_READ,
	LINCHECK_WRITE,
	LINCHECK_DELETE,
	LINCHECK_CAS
};

/* A value that may be absent; ptr may be NULL when len is 0. */
struct lincheck_val {
	const uint8_t *ptr;
	size_t len;
	int present;
};

/* The return time of an operation that never returned. */
#define LINCHECK_PENDING UINT64_MAX

/*
 * One operation.  invoke < ret (or ret is LINCHECK_PENDING).  Which fields
 * count depends on type:
 *	READ	result: the value read (a pending read is ignored)
 *	WRITE	value: the value written (present)
 *	DELETE	nothing
 *	CAS	expect, value (absent: delete), ok: whether it succeeded,
 *		prev: the value it found, if prev.present or has_prev
 * lincheck_add copies the bytes; the caller keeps its own.
 */
struct lincheck_op {
	int client;
	uint64_t invoke;
	uint64_t ret;
	enum lincheck_type type;
	struct bytes key;
	struct lincheck_val value;
	struct lincheck_val expect;
	struct lincheck_val result;
	int ok;
	int has_prev;
	struct lincheck_val prev;
};

enum lincheck_result {
	LINCHECK_OK,		/* linearizable */
	LINCHECK_VIOLATION,	/* not linearizable */
	LINCHECK_GAVE_UP	/* the search exceeded its budget */
};

struct lincheck;

struct lincheck *lincheck_new(void);
void lincheck_free(struct lincheck *);
/* Returns -1 if the operation is malformed (see log_reason()). */
int lincheck_add(struct lincheck *, const struct lincheck_op *);
size_t lincheck_count(const struct lincheck *);
/* Bound the search of each key to this many steps; 0 is no bound. */
void lincheck_set_budget(struct lincheck *, uint64_t steps);
/*
 * Check every key.  On a violation (or giving up), why (if not NULL) gets
 * the key and a short explanation, one line, no newline.
 */
enum lincheck_result lincheck_check(struct lincheck *, struct buf *why);

/*
 * Add one operation written as a line of text (the lincheck_tool format):
 *
 *	CLIENT INVOKE RETURN OP KEY ARGS... RESULT
 *
 *	0 10 20 put k v ok		write v
 *	1 12 25 get k v			read v (- if absent)
 *	2 30 40 del k ok		delete
 *	3 50 60 cas k v w ok		compare v, swap in w; ok or fail,
 *	3 70 80 cas k - w fail v	optionally the value it found
 *	4 90 - put k x ?		pending: no return, unknown result
 *
 * RETURN is - for a pending operation, whose RESULT is ? or left out.
 * Values are - (absent), "" (empty), or bytes with %XX escapes.  Blank
 * lines and lines starting with # are skipped.  A put or del whose result
 * is "fail" failed for sure and is skipped.  Returns -1 on a malformed
 * line (see log_reason()).
 */
int lincheck_add_line(struct lincheck *, const char *line);

/* Append a printable, escaped form of a value ("-" if absent). */
void lincheck_fmtval(struct buf *, struct lincheck_val);

#endif
