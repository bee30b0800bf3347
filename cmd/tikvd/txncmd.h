/*
 * The transactional commands at apply: a txn cmd or a txn read (cmdfmt.h)
 * run against the KV engine through libcommon/mvcc.h, with its reply line
 * (man/tikv-protocol.7; the commands are listed in service.h).
 *
 * Both run on the apply thread.  txncmd_apply reads the committed state,
 * so the caller commits the batch of earlier entries first; it adds the
 * action's writes to batch.  Keys outside the region (a split since the
 * proposal) refuse the whole cmd with KEY_NOT_IN_REGION, the same on
 * every replica.  -1 with log_reason() when the KV engine fails.
 */
#ifndef TXNCMD_H
#define TXNCMD_H

#include "buf.h"

struct kv;
struct kv_batch;
struct cmd;
struct region;

int txncmd_apply(struct kv *, const struct region *, const struct cmd *,
    struct kv_batch *, struct buf *reply);

/* Whether a read cmd is a txn read (TXN_GET, TXN_BATCH_GET, TXN_SCAN). */
int txncmd_is_read(const struct cmd *);
/* Runs a txn read at the current state and appends its reply. */
void txncmd_read(struct kv *, const struct region *, const struct cmd *,
    struct buf *reply);

#endif
