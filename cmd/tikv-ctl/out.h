/*
 * tikv-ctl's one output layer.  Commands describe records; the layer
 * prints them plain for people (one record per line, values separated by
 * spaces, byte strings escaped as the protocol spells them) or as JSON for
 * scripts (-j): a single object, or an array when out_list_begin was used.
 */
#ifndef OUT_H
#define OUT_H

#include <stddef.h>
#include <stdint.h>

void out_init(int json);
/* Whether -j was given: for fields only scripts want (timestamps). */
int out_is_json(void);
void out_list_begin(void);
void out_list_end(void);
void out_record_begin(void);
void out_record_end(void);
void out_u64(const char *key, uint64_t);
void out_str(const char *key, const char *);
void out_bool(const char *key, int);
void out_bytes(const char *key, const void *, size_t);
/* Flushes stdout; exits 1 if writing failed (a full disk, a closed pipe). */
void out_finish(void);

#endif
