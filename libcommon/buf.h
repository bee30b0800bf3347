/*
 * Length-counted, growable byte buffers.  Keys and values are byte strings
 * that may hold NUL; nothing here calls strlen on them.
 *
 * A struct buf is a value: zero it (or BUF_INIT) and it is an empty buffer.
 * data is always NUL-terminated past len, so text can be printed directly.
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

/* A borrowed byte string: a pointer and a length, nothing owned. */
struct bytes {
	const uint8_t *ptr;
	size_t len;
};

void buf_init(struct buf *);
void buf_free(struct buf *);
void buf_reset(struct buf *);
void buf_grow(struct buf *, size_t extra);
void buf_add(struct buf *, const void *, size_t);
void buf_addc(struct buf *, int);
void buf_addstr(struct buf *, const char *);
void buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *, const char *, va_list);
void buf_truncate(struct buf *, size_t len);
/* Take ownership of the bytes; the buffer is left empty. */
uint8_t *buf_detach(struct buf *, size_t *len);
struct bytes buf_bytes(const struct buf *);

struct bytes bytes_str(const char *);
int bytes_cmp(struct bytes, struct bytes);
int bytes_eq(struct bytes, struct bytes);

#endif
