/*
 * Compact binary encoding of Raft messages, entries and conf changes.
 *
 * Integers are varints; a message starts with a version byte, its type
 * and a presence bitmap so absent fields cost nothing.  Entries are
 * delta-coded against the previous one (consecutive indexes and repeated
 * terms take no bytes).  The same entry encoding serves the WAL.
 *
 * Decoders never read past the end of their input and reject malformed
 * input (truncation, trailing bytes, bad types, impossible counts) with
 * -1 and a reason in log_setreason().  Decoded data pointers (entry data,
 * contexts, snapshot data) point into the input, which must outlive the
 * decoded value; arrays are allocated and released by the _free calls.
 */
#ifndef RAFTWIRE_H
#define RAFTWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "raft.h"

#define RAFTWIRE_VERSION	1

/* Appends the encoding of m to b. */
void raftwire_encode_msg(struct buf *b, const struct raft_msg *m);
/* Decodes exactly len bytes into *m; release with raftwire_msg_free. */
int raftwire_decode_msg(const uint8_t *p, size_t len, struct raft_msg *m);
void raftwire_msg_free(struct raft_msg *m);

/* One entry, self-delimiting, for the WAL. */
void raftwire_encode_entry(struct buf *b, const struct raft_entry *e);
int raftwire_decode_entry(const uint8_t **p, const uint8_t *end,
    struct raft_entry *e);

void raftwire_encode_hard_state(struct buf *b,
    const struct raft_hard_state *hs);
int raftwire_decode_hard_state(const uint8_t **p, const uint8_t *end,
    struct raft_hard_state *hs);

/* Conf state: decoded arrays released by raftwire_conf_state_free. */
void raftwire_encode_conf_state(struct buf *b,
    const struct raft_conf_state *cs);
int raftwire_decode_conf_state(const uint8_t **p, const uint8_t *end,
    struct raft_conf_state *cs);
void raftwire_conf_state_free(struct raft_conf_state *cs);

/* Conf change as carried in a RAFT_ENTRY_CONF_CHANGE entry's data. */
void raftwire_encode_conf_change(struct buf *b,
    const struct raft_conf_change *cc);
/* Decodes exactly len bytes; release with raftwire_conf_change_free. */
int raftwire_decode_conf_change(const uint8_t *p, size_t len,
    struct raft_conf_change *cc);
void raftwire_conf_change_free(struct raft_conf_change *cc);

#endif
