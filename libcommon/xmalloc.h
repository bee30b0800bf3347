/* Allocation that is fatal on out-of-memory: callers never check. */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
void *xmemdup(const void *, size_t);
int xasprintf(char **, const char *, ...)
    __attribute__((format(printf, 2, 3)));

#endif
