/*
 * Percolator (libcommon/mvcc.c) against a real KV engine: reads at chosen
 * timestamps, short and long values, every conflict of prewrite, commit
 * and rollback and their idempotence, the transaction status and its TTL,
 * resolving, heartbeats, scans across locks and versions, the error
 * lines, and records that do not decode.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "kv.h"
#include "log.h"
#include "mvcc.h"
#include "proto.h"
#include "tap.h"

/* A TSO timestamp at ms milliseconds. */
#define TS(ms)		((uint64_t)(ms) << 18)

static char tmpdir[256];
static struct kv *kv;
static struct kv_batch *batch;
static struct mvcc_err err;

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct kv *
open_kv(const char *name)
{
	char path[512];
	struct kv *k;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	mkdir(path, 0755);
	if ((k = kv_open(path, NULL)) == NULL) {
		diag("kv_open: %s", log_reason());
		exit(1);
	}
	return k;
}

static struct bytes
B(const char *s)
{
	return bytes_str(s);
}

/*
 * Commits what an action added to the batch.  An action that did not
 * succeed must have added nothing (all or nothing), which every call
 * checks here.
 */
static int
finish(int r, const char *what)
{
	if (r != 0 && kv_batch_count(batch) != 0)
		ok(0, "%s: failed with %d yet left %zu writes", what, r,
		    kv_batch_count(batch));
	if (r == 0 && kv_batch_commit(kv, batch) == -1) {
		diag("commit: %s", log_reason());
		exit(1);
	}
	kv_batch_clear(batch);
	return r;
}

static struct mvcc_mutation
mut(int type, const char *key, const char *value)
{
	struct mvcc_mutation m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.key = B(key);
	if (value)
		m.value = B(value);
	return m;
}

static int
prewrite_n(const struct mvcc_mutation *m, size_t n, const char *primary,
    uint64_t start_ts, uint64_t ttl)
{
	return finish(mvcc_prewrite(kv, batch, m, n, B(primary), start_ts, ttl,
	    &err), "prewrite");
}

static int
prewrite1(int type, const char *key, const char *value, const char *primary,
    uint64_t start_ts)
{
	struct mvcc_mutation m = mut(type, key, value);

	return prewrite_n(&m, 1, primary, start_ts, 3000);
}

static int
insert1(const char *key, const char *value, uint64_t start_ts)
{
	struct mvcc_mutation m = mut(MVCC_PUT, key, value);

	m.insert = 1;
	return prewrite_n(&m, 1, key, start_ts, 3000);
}

static int
commit1(const char *key, uint64_t start_ts, uint64_t commit_ts)
{
	struct bytes k = B(key);

	return finish(mvcc_commit(kv, batch, &k, 1, start_ts, commit_ts,
	    &err), "commit");
}

static int
rollback1(const char *key, uint64_t start_ts)
{
	struct bytes k = B(key);

	return finish(mvcc_rollback(kv, batch, &k, 1, start_ts, &err),
	    "rollback");
}

/* A whole transaction of one key. */
static void
txn1(int type, const char *key, const char *value, uint64_t start_ts,
    uint64_t commit_ts)
{
	if (prewrite1(type, key, value, key, start_ts) != 0 ||
	    commit1(key, start_ts, commit_ts) != 0) {
		diag("txn %s at %llu failed", key,
		    (unsigned long long)start_ts);
		exit(1);
	}
}

/* Whether key reads as want at ts (NULL: not found). */
static void
is_get(const char *key, uint64_t ts, const char *want)
{
	struct buf v = BUF_INIT;
	int r;

	r = mvcc_get(kv, key, strlen(key), ts, &v, &err);
	if (want == NULL)
		is_int(r, 0, "get %s at %llu: not found", key,
		    (unsigned long long)ts);
	else if (is_int(r, 1, "get %s at %llu: found", key,
	    (unsigned long long)ts))
		is_mem(v.data, v.len, want, strlen(want),
		    "get %s at %llu: the value", key, (unsigned long long)ts);
	buf_free(&v);
}

static int
get_rc(const char *key, uint64_t ts)
{
	struct buf v = BUF_INIT;
	int r;

	r = mvcc_get(kv, key, strlen(key), ts, &v, &err);
	buf_free(&v);
	return r;
}

static int
has_lock(const char *key)
{
	struct buf enc = BUF_INIT, v = BUF_INIT;
	int r;

	codec_encode_bytes(&enc, key, strlen(key));
	r = kv_get(kv, KV_CF_LOCK, enc.data, enc.len, &v);
	buf_free(&enc);
	buf_free(&v);
	return r;
}

static int
has_cf_version(enum kv_cf cf, const void *key, size_t len, uint64_t ts)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	int r;

	codec_mvcc_key(&k, key, len, ts);
	r = kv_get(kv, cf, k.data, k.len, &v);
	buf_free(&k);
	buf_free(&v);
	return r;
}

/* The error's reply line, as a string. */
static const char *
err_line(void)
{
	static struct buf line;

	buf_reset(&line);
	mvcc_err_reply(&err, &line);
	return (const char *)line.data;
}

static void
test_get_versions(void)
{
	txn1(MVCC_PUT, "a", "1", 10, 20);
	is_get("a", 15, NULL);
	is_get("a", 20, "1");
	is_get("a", 25, "1");
	txn1(MVCC_PUT, "a", "2", 30, 40);
	txn1(MVCC_DELETE, "a", NULL, 50, 60);
	txn1(MVCC_PUT, "a", "4", 70, 80);
	is_get("a", 39, "1");
	is_get("a", 45, "2");
	is_get("a", 59, "2");
	is_get("a", 65, NULL);
	is_get("a", 80, "4");
	is_get("a", UINT64_MAX, "4");
	is_get("nothing", 100, NULL);
	is_get("", 100, NULL);
	txn1(MVCC_PUT, "", "empty key", 90, 91);
	is_get("", 100, "empty key");

	/* Read locks commit as LOCK records: not data, skipped. */
	txn1(MVCC_LOCK, "a", NULL, 82, 84);
	is_get("a", 85, "4");
	/* An empty value is a value. */
	txn1(MVCC_PUT, "e", "", 10, 11);
	is_get("e", 12, "");
	/* A key that is a prefix of others, around the 8-byte groups. */
	txn1(MVCC_PUT, "abcdefgh", "8", 10, 11);
	txn1(MVCC_PUT, "abcdefgh1", "9", 10, 11);
	txn1(MVCC_PUT, "abcdefg", "7", 10, 11);
	is_get("abcdefgh", 12, "8");
	is_get("abcdefgh1", 12, "9");
	is_get("abcdefg", 12, "7");
	is_get("abcdefgh12", 12, NULL);
}

static void
test_values(void)
{
	char v255[256], v256[257], big[4001];
	uint8_t bin[300];
	struct mvcc_mutation m;
	struct buf got = BUF_INIT;
	size_t i;
	int r;

	memset(v255, 's', 255);
	v255[255] = '\0';
	memset(v256, 'l', 256);
	v256[256] = '\0';
	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = 'a' + i % 26;
	big[sizeof(big) - 1] = '\0';

	ok(prewrite1(MVCC_PUT, "v255", v255, "v255", 100) == 0,
	    "prewrite of a 255-byte value");
	is_int(has_cf_version(KV_CF_DEFAULT, "v255", 4, 100), 0,
	    "a value of MVCC_SHORT_VALUE_MAX bytes rides in the lock");
	ok(prewrite1(MVCC_PUT, "v256", v256, "v256", 100) == 0,
	    "prewrite of a 256-byte value");
	is_int(has_cf_version(KV_CF_DEFAULT, "v256", 4, 100), 1,
	    "a longer value goes to the default family at start_ts");
	ok(commit1("v255", 100, 110) == 0 && commit1("v256", 100, 110) == 0,
	    "both commit");
	is_get("v255", 120, v255);
	is_get("v256", 120, v256);
	is_get("v256", 105, NULL);
	txn1(MVCC_PUT, "big", big, 130, 140);
	is_get("big", 150, big);

	/* Binary bytes, NUL included, in key and value. */
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7);
	memset(&m, 0, sizeof(m));
	m.type = MVCC_PUT;
	m.key.ptr = (const uint8_t *)"bin\0key";
	m.key.len = 7;
	m.value.ptr = bin;
	m.value.len = sizeof(bin);
	ok(prewrite_n(&m, 1, "bin", 200, 3000) == 0, "prewrite binary");
	ok(finish(mvcc_commit(kv, batch, &m.key, 1, 200, 210, &err),
	    "commit") == 0, "commit binary");
	r = mvcc_get(kv, "bin\0key", 7, 220, &got, &err);
	is_int(r, 1, "binary key found");
	is_mem(got.data, got.len, bin, sizeof(bin), "binary value read back");
	r = mvcc_get(kv, "bin", 3, 220, &got, &err);
	is_int(r, 0, "its prefix before the NUL is another key");
	m.value.len = 100;
	ok(prewrite_n(&m, 1, "bin", 230, 3000) == 0 &&
	    finish(mvcc_commit(kv, batch, &m.key, 1, 230, 240, &err),
	    "commit") == 0, "short binary version on top");
	r = mvcc_get(kv, "bin\0key", 7, 250, &got, &err);
	is_mem(got.data, got.len, bin, 100, "short binary value read back");
	r = mvcc_get(kv, "bin\0key", 7, 235, &got, &err);
	is_mem(got.data, got.len, bin, sizeof(bin),
	    "the long one still at 235");
	buf_free(&got);

	/* Surviving a reopen: the records are in kv, not in memory. */
	kv_close(kv);
	kv = open_kv("main");
	is_get("v256", 120, v256);
	is_get("a", 45, "2");
}

static void
test_locks_block_reads(void)
{
	txn1(MVCC_PUT, "b", "old", 10, 20);
	ok(prewrite1(MVCC_PUT, "b", "new", "pri", 100) == 0, "prewrite b");
	is_get("b", 99, "old");
	is_int(get_rc("b", 100), MVCC_KEY_ERROR, "read at the lock's ts");
	is_int(err.word, PROTO_LOCKED, "is LOCKED");
	is_int(get_rc("b", 150), MVCC_KEY_ERROR, "read after the lock's ts");
	is_int(err.word, PROTO_LOCKED, "is LOCKED");
	is_mem(err.key.data, err.key.len, "b", 1, "names the key");
	is_mem(err.lock.primary.data, err.lock.primary.len, "pri", 3,
	    "and the primary");
	ok(err.lock.start_ts == 100 && err.lock.ttl_ms == 3000 &&
	    err.lock.type == MVCC_PUT, "and the lock's ts, ttl and type");
	is_str(err_line(), "LOCKED b pri 100 3000 PUT\n", "LOCKED line");

	ok(prewrite1(MVCC_DELETE, "bd", NULL, "pri", 100) == 0,
	    "prewrite a delete");
	is_int(get_rc("bd", 120), MVCC_KEY_ERROR, "a delete lock blocks");
	is_str(err_line(), "LOCKED bd pri 100 3000 DELETE\n",
	    "with type DELETE");

	txn1(MVCC_PUT, "c", "cv", 10, 20);
	ok(prewrite1(MVCC_LOCK, "c", NULL, "pri", 110) == 0,
	    "prewrite a read lock");
	is_get("c", 120, "cv");
	ok(prewrite1(MVCC_PUT, "c", "x", "c", 115) == MVCC_KEY_ERROR &&
	    err.word == PROTO_LOCKED && err.lock.type == MVCC_LOCK,
	    "but a read lock still locks out writers");
	is_str(err_line(), "LOCKED c pri 110 3000 LOCK\n", "with type LOCK");
	ok(commit1("c", 110, 130) == 0, "read lock commits");
	is_get("c", 140, "cv");
	is_int(has_lock("c"), 0, "and its lock is gone");
}

static void
test_prewrite_conflicts(void)
{
	struct mvcc_mutation ms[3];

	ok(prewrite1(MVCC_PUT, "b", "x", "b", 105) == MVCC_KEY_ERROR &&
	    err.word == PROTO_LOCKED && err.lock.start_ts == 100,
	    "prewrite over another's lock: LOCKED");
	ok(prewrite1(MVCC_PUT, "b", "x", "b", 90) == MVCC_KEY_ERROR &&
	    err.word == PROTO_LOCKED, "also from an older transaction");

	/* a: versions committed at 20, 40, 60, 80, 84 (read lock). */
	ok(prewrite1(MVCC_PUT, "a", "x", "a", 55) == MVCC_KEY_ERROR,
	    "prewrite below a newer commit fails");
	is_int(err.word, PROTO_WRITE_CONFLICT, "WRITE_CONFLICT");
	ok(err.start_ts == 55 && err.conflict_start_ts == 82 &&
	    err.conflict_commit_ts == 84, "against the newest record");
	is_str(err_line(), "WRITE_CONFLICT a 55 82 84\n",
	    "WRITE_CONFLICT line");
	ok(prewrite1(MVCC_PUT, "a", "x", "a", 84) == MVCC_KEY_ERROR &&
	    err.word == PROTO_WRITE_CONFLICT,
	    "a commit at exactly start_ts conflicts");

	/* A rollback record at start_ts, bare and under a newer commit. */
	ok(rollback1("d", 200) == 0, "rollback of a key never written");
	is_int(has_cf_version(KV_CF_WRITE, "d", 1, 200), 1,
	    "leaves a rollback record");
	ok(prewrite1(MVCC_PUT, "d", "x", "d", 200) == MVCC_KEY_ERROR &&
	    err.word == PROTO_WRITE_CONFLICT && err.conflict_start_ts == 200 &&
	    err.conflict_commit_ts == 200,
	    "a late prewrite after its rollback: WRITE_CONFLICT");
	ok(prewrite1(MVCC_PUT, "d", "x", "d", 201) == 0 &&
	    commit1("d", 201, 202) == 0,
	    "a later transaction writes d");
	ok(prewrite1(MVCC_PUT, "d", "y", "d", 200) == MVCC_KEY_ERROR &&
	    err.word == PROTO_WRITE_CONFLICT && err.conflict_commit_ts == 202,
	    "the rollback under a newer commit still fails it");
	ok(rollback1("d2", 300) == 0 && rollback1("d2", 310) == 0,
	    "two rollbacks of d2");
	ok(prewrite1(MVCC_PUT, "d2", "x", "d2", 305) == MVCC_KEY_ERROR &&
	    err.conflict_start_ts == 310,
	    "another transaction's newer rollback conflicts too");
	ok(prewrite1(MVCC_PUT, "d2", "x", "d2", 311) == 0,
	    "above every record a prewrite is fine");

	/* Inserts. */
	txn1(MVCC_PUT, "x", "xv", 10, 20);
	ok(insert1("x", "again", 30) == MVCC_KEY_ERROR &&
	    err.word == PROTO_ALREADY_EXIST, "insert of an existing key");
	is_str(err_line(), "ALREADY_EXIST x\n", "ALREADY_EXIST line");
	is_int(has_lock("x"), 0, "left no lock");
	ok(prewrite1(MVCC_PUT, "x", "xv", "x", 31) == 0,
	    "a plain put of it is fine");
	ok(rollback1("x", 31) == 0, "rolled back");
	txn1(MVCC_LOCK, "x", NULL, 40, 41);
	ok(insert1("x", "again", 50) == MVCC_KEY_ERROR &&
	    err.word == PROTO_ALREADY_EXIST,
	    "rollback and read-lock records do not hide the PUT below");
	txn1(MVCC_DELETE, "x", NULL, 60, 61);
	ok(insert1("x", "again", 70) == 0, "insert of a deleted key");
	ok(commit1("x", 70, 71) == 0, "commits");
	is_get("x", 72, "again");
	ok(insert1("fresh", "f", 70) == 0, "insert of a new key");
	ok(commit1("fresh", 70, 71) == 0, "commits");

	/* All or nothing. */
	ms[0] = mut(MVCC_PUT, "n1", "1");
	ms[1] = mut(MVCC_PUT, "n2", "2");
	ms[2] = mut(MVCC_PUT, "b", "3");
	is_int(mvcc_prewrite(kv, batch, ms, 3, B("n1"), 400, 3000, &err),
	    MVCC_KEY_ERROR, "prewrite with one locked key fails");
	is_int((int)kv_batch_count(batch), 0, "and adds nothing to the batch");
	finish(MVCC_KEY_ERROR, "prewrite");
	ok(has_lock("n1") == 0 && has_lock("n2") == 0, "no lock written");
	ms[2] = mut(MVCC_PUT, "a", "3");
	ms[2].insert = 1;
	is_int(mvcc_prewrite(kv, batch, ms, 3, B("n1"), 400, 3000, &err),
	    MVCC_KEY_ERROR, "one existing insert key fails them all");
	is_int((int)kv_batch_count(batch), 0, "nothing added");
	finish(MVCC_KEY_ERROR, "prewrite");

	/* The caller sends distinct keys; a repeated one is no harm. */
	ms[0] = mut(MVCC_PUT, "dup", "first");
	ms[1] = mut(MVCC_PUT, "dup", "second");
	ok(prewrite_n(ms, 2, "dup", 410, 3000) == 0, "a key twice");
	ok(commit1("dup", 410, 411) == 0, "commits");
	is_get("dup", 412, "second");

	/* A mutation type prewrite does not know is the client's fault. */
	ms[0] = mut(MVCC_ROLLBACK, "n1", NULL);
	is_int(prewrite_n(ms, 1, "n1", 401, 3000), MVCC_KEY_ERROR,
	    "bad mutation type refused");
	is_int(err.word, PROTO_CLIENT_ERROR, "as CLIENT_ERROR");
}

static void
test_idempotence(void)
{
	char longv[400];
	struct bytes keys[2];
	struct mvcc_mutation ms[2];
	struct buf line = BUF_INIT;

	memset(longv, 'L', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	ms[0] = mut(MVCC_PUT, "i1", "one");
	ms[1] = mut(MVCC_PUT, "i2", longv);
	ok(prewrite_n(ms, 2, "i1", 500, 3000) == 0, "prewrite");
	is_int(mvcc_prewrite(kv, batch, ms, 2, B("i1"), 500, 3000, &err), 0,
	    "the same prewrite again");
	finish(0, "prewrite");
	ms[0] = mut(MVCC_PUT, "i1", "changed");
	ok(prewrite_n(ms, 2, "i1", 500, 9000) == 0,
	    "a resent prewrite with other bytes");
	keys[0] = B("i1");
	keys[1] = B("i2");
	ok(finish(mvcc_commit(kv, batch, keys, 2, 500, 510, &err),
	    "commit") == 0, "commit");
	is_get("i1", 520, "one");
	is_get("i2", 520, longv);
	ok(finish(mvcc_commit(kv, batch, keys, 2, 500, 510, &err),
	    "commit") == 0, "commit again");
	is_int(mvcc_commit(kv, batch, keys, 2, 500, 515, &err), 0,
	    "a commit resent with another commit_ts is fine too");
	is_int((int)kv_batch_count(batch), 0, "and writes nothing");
	finish(0, "commit");
	is_get("i1", 512, "one");

	ok(prewrite1(MVCC_PUT, "i1", "x", "i1", 500) == MVCC_KEY_ERROR &&
	    err.word == PROTO_WRITE_CONFLICT,
	    "a prewrite resent after its commit finds the commit");

	/* Rollback, twice. */
	ok(prewrite1(MVCC_PUT, "r1", longv, "r1", 600) == 0,
	    "prewrite a long value");
	is_int(has_cf_version(KV_CF_DEFAULT, "r1", 2, 600), 1,
	    "its value is in the default family");
	ok(rollback1("r1", 600) == 0, "rollback");
	is_int(has_lock("r1"), 0, "lock gone");
	is_int(has_cf_version(KV_CF_DEFAULT, "r1", 2, 600), 0,
	    "value gone");
	is_int(mvcc_rollback(kv, batch, &keys[0], 0, 600, &err), 0,
	    "rollback of no keys");
	keys[0] = B("r1");
	is_int(mvcc_rollback(kv, batch, keys, 1, 600, &err), 0,
	    "rollback again");
	is_int((int)kv_batch_count(batch), 0, "writes nothing");
	finish(0, "rollback");
	is_get("r1", 700, NULL);

	/* Commit of what is not there. */
	is_int(commit1("nolock", 600, 610), MVCC_KEY_ERROR,
	    "commit without a lock");
	is_int(err.word, PROTO_TXN_NOT_FOUND, "TXN_NOT_FOUND");
	is_int((int)err.start_ts, 600, "with start_ts");
	is_str(err_line(), "TXN_NOT_FOUND nolock 600\n", "TXN_NOT_FOUND line");
	is_int(commit1("r1", 600, 610), MVCC_KEY_ERROR,
	    "commit after rollback");
	is_int(err.word, PROTO_TXN_NOT_FOUND, "TXN_NOT_FOUND");
	ok(prewrite1(MVCC_PUT, "r1", "x", "r1", 600) == MVCC_KEY_ERROR &&
	    err.word == PROTO_WRITE_CONFLICT, "prewrite after rollback");
	ok(prewrite1(MVCC_PUT, "r2", "x", "r2", 620) == 0, "prewrite r2");
	is_int(commit1("r2", 620, 620), MVCC_KEY_ERROR,
	    "commit_ts equal to start_ts refused");
	is_int(err.word, PROTO_CLIENT_ERROR, "as CLIENT_ERROR");
	is_str(err_line(),
	    "CLIENT_ERROR commit_ts 620 is not after start_ts 620\n",
	    "CLIENT_ERROR line");
	is_int(has_lock("r2"), 1, "lock kept");

	/* Commit of several keys where one is missing: nothing. */
	keys[0] = B("r2");
	keys[1] = B("nolock");
	is_int(mvcc_commit(kv, batch, keys, 2, 620, 630, &err),
	    MVCC_KEY_ERROR, "commit of a locked and a missing key fails");
	is_int((int)kv_batch_count(batch), 0, "adds nothing");
	finish(MVCC_KEY_ERROR, "commit");
	is_int(has_lock("r2"), 1, "lock kept");
	ok(commit1("r2", 620, 630) == 0, "r2 alone commits");

	is_int(rollback1("r2", 620), MVCC_KEY_ERROR,
	    "rollback of a committed key");
	is_int(err.word, PROTO_CLIENT_ERROR, "CLIENT_ERROR");
	mvcc_err_reply(&err, &line);
	is_str((const char *)line.data,
	    "CLIENT_ERROR key r2 of txn 620 is committed\n",
	    "names key and txn");
	buf_free(&line);
	is_get("r2", 640, "x");

	/* Rollback beside another transaction's lock. */
	ok(prewrite1(MVCC_PUT, "o", "theirs", "o", 650) == 0,
	    "another transaction locks o");
	ok(rollback1("o", 640) == 0, "rollback of ours on o");
	is_int(has_lock("o"), 1, "leaves their lock");
	is_int(has_cf_version(KV_CF_WRITE, "o", 1, 640), 1,
	    "and puts our rollback record");
	ok(commit1("o", 650, 660) == 0, "they commit");
	is_get("o", 670, "theirs");
	ok(rollback1("o", 650) == MVCC_KEY_ERROR &&
	    err.word == PROTO_CLIENT_ERROR, "their commit cannot be undone");
}

static int
status(const char *primary, uint64_t lock_ts, uint64_t now, int rim,
    struct mvcc_txn_status *st)
{
	return finish(mvcc_check_txn_status(kv, batch, B(primary), lock_ts,
	    now, rim, st, &err), "check_txn_status");
}

static void
test_txn_status(void)
{
	struct mvcc_txn_status st;
	struct mvcc_lock l;
	char longv[300];
	uint64_t t0 = TS(1000), ttl;

	mvcc_lock_init(&l);
	l.start_ts = t0 | 5;
	l.ttl_ms = 3000;
	ok(!mvcc_lock_expired(&l, TS(3999)), "alive before its TTL");
	ok(!mvcc_lock_expired(&l, TS(4000) | 0x3ffff),
	    "alive at the millisecond it ends");
	ok(mvcc_lock_expired(&l, TS(4001)), "expired after");
	l.ttl_ms = UINT64_MAX;
	ok(!mvcc_lock_expired(&l, UINT64_MAX), "an endless TTL never ends");
	mvcc_lock_free(&l);

	ok(prewrite1(MVCC_PUT, "p", "pv", "p", t0) == 0, "prewrite p");
	ok(status("p", t0, TS(2000), 0, &st) == 0 &&
	    st.state == MVCC_TXN_LOCKED && st.ttl_ms == 3000,
	    "alive: LOCKED with its TTL");
	ok(status("p", t0, TS(4000), 1, &st) == 0 &&
	    st.state == MVCC_TXN_LOCKED, "still LOCKED at the TTL's end");
	ok(finish(mvcc_heartbeat(kv, batch, B("p"), t0, 5000, &ttl, &err),
	    "heartbeat") == 0 && ttl == 5000, "heartbeat raises the TTL");
	ok(status("p", t0, TS(5500), 0, &st) == 0 &&
	    st.state == MVCC_TXN_LOCKED && st.ttl_ms == 5000,
	    "which keeps it alive");
	is_int(mvcc_heartbeat(kv, batch, B("p"), t0, 1000, &ttl, &err), 0,
	    "a lower heartbeat");
	is_int((int)ttl, 5000, "keeps the higher TTL");
	is_int((int)kv_batch_count(batch), 0, "and writes nothing");
	finish(0, "heartbeat");
	ok(finish(mvcc_heartbeat(kv, batch, B("p"), t0 + 1, 9000, &ttl,
	    &err), "heartbeat") == MVCC_KEY_ERROR &&
	    err.word == PROTO_TXN_NOT_FOUND,
	    "heartbeat of another txn's lock: TXN_NOT_FOUND");
	ok(finish(mvcc_heartbeat(kv, batch, B("nop"), t0, 9000, &ttl, &err),
	    "heartbeat") == MVCC_KEY_ERROR &&
	    err.word == PROTO_TXN_NOT_FOUND, "heartbeat of no lock too");
	is_str(err_line(), "TXN_NOT_FOUND nop 262144000\n",
	    "naming the primary and the ts");

	ok(status("p", t0, TS(6001), 0, &st) == 0 &&
	    st.state == MVCC_TXN_ROLLED_BACK, "expired: ROLLED_BACK");
	is_int(has_lock("p"), 0, "the lock is gone");
	is_int(has_cf_version(KV_CF_WRITE, "p", 1, t0), 1,
	    "a rollback record is there");
	ok(status("p", t0, TS(7000), 0, &st) == 0 &&
	    st.state == MVCC_TXN_ROLLED_BACK, "asked again: ROLLED_BACK");
	ok(commit1("p", t0, TS(7000)) == MVCC_KEY_ERROR &&
	    err.word == PROTO_TXN_NOT_FOUND, "the late commit fails");

	ok(prewrite1(MVCC_PUT, "q", "qv", "q", TS(2000)) == 0 &&
	    commit1("q", TS(2000), TS(2001)) == 0, "q committed");
	ok(status("q", TS(2000), TS(9000), 0, &st) == 0 &&
	    st.state == MVCC_TXN_COMMITTED && st.commit_ts == TS(2001),
	    "COMMITTED with its commit_ts");
	txn1(MVCC_PUT, "q", "q2", TS(2100), TS(2200));
	ok(status("q", TS(2000), TS(9000), 1, &st) == 0 &&
	    st.state == MVCC_TXN_COMMITTED && st.commit_ts == TS(2001),
	    "also under newer versions");

	is_int(status("nop", TS(3000), TS(9000), 0, &st), MVCC_KEY_ERROR,
	    "nothing for the txn: TXN_NOT_FOUND");
	is_int(err.word, PROTO_TXN_NOT_FOUND, "as TXN_NOT_FOUND");
	ok(status("nop", TS(3000), TS(9000), 1, &st) == 0 &&
	    st.state == MVCC_TXN_ROLLED_BACK,
	    "with rollback_if_missing: ROLLED_BACK");
	ok(prewrite1(MVCC_PUT, "nop", "x", "nop", TS(3000)) ==
	    MVCC_KEY_ERROR && err.word == PROTO_WRITE_CONFLICT,
	    "and the prewrite on its way fails");
	is_int(mvcc_check_txn_status(kv, batch, B("nop"), TS(3000), TS(9000),
	    1, &st, &err), 0, "asked again");
	is_int((int)kv_batch_count(batch), 0, "writes nothing more");
	finish(0, "check");

	/* Another transaction's lock on the primary is not ours. */
	ok(prewrite1(MVCC_PUT, "p2", "v", "p2", TS(8000)) == 0,
	    "another txn locks p2");
	is_int(status("p2", TS(7000), TS(99000), 0, &st), MVCC_KEY_ERROR,
	    "status of ours: TXN_NOT_FOUND");
	is_int(has_lock("p2"), 1, "their lock untouched");

	/* Expiry of a long value's lock drops the value. */
	memset(longv, 'v', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	ok(prewrite1(MVCC_PUT, "pl", longv, "pl", TS(1000)) == 0,
	    "prewrite a long value");
	ok(status("pl", TS(1000), TS(99000), 0, &st) == 0 &&
	    st.state == MVCC_TXN_ROLLED_BACK, "expired");
	is_int(has_cf_version(KV_CF_DEFAULT, "pl", 2, TS(1000)), 0,
	    "its value went with the lock");
}

static void
test_resolve(void)
{
	struct mvcc_mutation ms[4];
	char longv[300];
	size_t n;

	memset(longv, 'z', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	ms[0] = mut(MVCC_PUT, "res1", "1");
	ms[1] = mut(MVCC_PUT, "res2", longv);
	ms[2] = mut(MVCC_DELETE, "res3", NULL);
	ms[3] = mut(MVCC_LOCK, "res4", NULL);
	txn1(MVCC_PUT, "res3", "old", 700, 710);
	ok(prewrite_n(ms, 4, "res1", 800, 3000) == 0, "txn 800 locks 4 keys");
	ok(prewrite1(MVCC_PUT, "res5", "other", "res5", 805) == 0,
	    "txn 805 locks another");
	ok(commit1("res1", 800, 820) == 0, "the primary commits");
	is_int(mvcc_resolve_lock(kv, batch, "res", 3, "res4", 4, 800, 799,
	    &n), -1, "resolve with a commit_ts before start_ts fails");
	ok(finish(mvcc_resolve_lock(kv, batch, "res", 3, "res3", 4, 800, 820,
	    &n), "resolve") == 0, "resolve [res, res3)");
	is_int((int)n, 1, "one lock in range (the primary is done)");
	is_int(has_lock("res3"), 1, "res3 outside the range stays");
	ok(finish(mvcc_resolve_lock(kv, batch, "res", 3, "", 0, 800, 820,
	    &n), "resolve") == 0, "resolve to the end");
	is_int((int)n, 2, "the other two");
	is_int(has_lock("res5"), 1, "another txn's lock stays");
	is_get("res1", 830, "1");
	is_get("res2", 830, longv);
	is_get("res3", 830, NULL);
	is_get("res3", 815, "old");
	ok(has_lock("res2") == 0 && has_lock("res4") == 0, "locks gone");
	ok(finish(mvcc_resolve_lock(kv, batch, "", 0, "", 0, 800, 820, &n),
	    "resolve") == 0 && n == 0, "resolving again finds nothing");

	ms[0] = mut(MVCC_PUT, "rb1", longv);
	ms[1] = mut(MVCC_PUT, "rb2", "2");
	ms[2] = mut(MVCC_PUT, "rb3", "3");
	ok(prewrite_n(ms, 3, "rb1", 900, 3000) == 0, "txn 900 locks 3 keys");
	ok(finish(mvcc_resolve_lock(kv, batch, "rb", 2, "rc", 2, 900, 0,
	    &n), "resolve") == 0 && n == 3, "resolve as rolled back: 3 keys");
	ok(has_lock("rb1") == 0 && has_lock("rb3") == 0, "locks gone");
	is_int(has_cf_version(KV_CF_DEFAULT, "rb1", 3, 900), 0,
	    "the long value too");
	is_get("rb2", 1000, NULL);
	ok(prewrite1(MVCC_PUT, "rb2", "late", "rb1", 900) == MVCC_KEY_ERROR &&
	    err.word == PROTO_WRITE_CONFLICT, "a late prewrite fails");
	ok(commit1("rb1", 900, 910) == MVCC_KEY_ERROR &&
	    err.word == PROTO_TXN_NOT_FOUND, "so does a late commit");
	ok(finish(mvcc_resolve_lock(kv, batch, "res5", 4, "res6", 4, 805, 0,
	    NULL), "resolve") == 0 && has_lock("res5") == 0,
	    "resolve without a count");
}

/* Scan results as "k=v,k=v". */
struct collect {
	struct buf out;
	int stop_after;
};

static int
collect_fn(void *arg, struct bytes key, struct bytes value)
{
	struct collect *c = arg;

	if (c->stop_after-- == 0) {
		log_setreason("stopped");
		return -1;
	}
	if (c->out.len)
		buf_addc(&c->out, ',');
	buf_add(&c->out, key.ptr, key.len);
	buf_addc(&c->out, '=');
	buf_add(&c->out, value.ptr, value.len);
	return 0;
}

static int
scan(const char *start, const char *end, uint64_t ts, uint64_t limit,
    int key_only, struct collect *c, size_t *count)
{
	buf_reset(&c->out);
	buf_addstr(&c->out, "");
	return mvcc_scan(kv, start, strlen(start), end, strlen(end), ts,
	    limit, key_only, collect_fn, c, count, &err);
}

static void
is_scan(const char *start, const char *end, uint64_t ts, uint64_t limit,
    int key_only, const char *want, const char *what)
{
	struct collect c = { BUF_INIT, -1 };
	size_t n = 99;
	int r;

	r = scan(start, end, ts, limit, key_only, &c, &n);
	if (r != 0)
		diag("scan: %d %s", r, r == -1 ? log_reason() : err_line());
	ok(r == 0 && strcmp((char *)c.out.data, want) == 0, "scan %s: %s",
	    what, want);
	if (r == 0 && strcmp((char *)c.out.data, want) != 0)
		diag("got '%s'", (char *)c.out.data);
	buf_free(&c.out);
}

static void
test_scan(void)
{
	struct collect c = { BUF_INIT, -1 };
	char longv[300], want[512];
	size_t n;
	uint64_t ts;
	int bad = 0;

	kv_close(kv);
	kv = open_kv("scan");
	memset(longv, 'w', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';

	is_scan("", "", 100, 0, 0, "", "of nothing");
	txn1(MVCC_PUT, "k1", "a", 10, 11);
	txn1(MVCC_PUT, "k2", longv, 10, 11);
	ok(insert1("k3", "new", 300) == 0, "k3 has only a lock");
	txn1(MVCC_PUT, "k4", "d", 10, 11);
	txn1(MVCC_DELETE, "k4", NULL, 20, 21);
	txn1(MVCC_PUT, "k5", "e", 10, 11);
	/* Many versions of k6, with rollback records between them. */
	for (ts = 100; ts < 400; ts += 10) {
		char v[32];

		snprintf(v, sizeof(v), "v%llu", (unsigned long long)ts);
		txn1(MVCC_PUT, "k6", v, ts, ts + 2);
		bad += rollback1("k6", ts + 5) != 0;
	}
	is_int(bad, 0, "k6 has 30 versions and 30 rollbacks");
	txn1(MVCC_LOCK, "k6", NULL, 400, 401);
	txn1(MVCC_PUT, "k7", "g", 10, 11);
	ok(prewrite1(MVCC_LOCK, "k8", NULL, "k8", 50) == 0,
	    "k8 has only a read lock");
	txn1(MVCC_PUT, "k9", "i", 10, 11);
	ok(prewrite1(MVCC_DELETE, "k9", NULL, "k9", 600) == 0,
	    "k9 is being deleted at 600");

	snprintf(want, sizeof(want), "k1=a,k2=%s,k5=e,k6=v250,k7=g,k9=i",
	    longv);
	is_scan("", "", 255, 0, 0, want, "everything at 255");
	is_scan("", "", 255, 0, 1, "k1=,k2=,k5=,k6=,k7=,k9=", "key only");
	snprintf(want, sizeof(want), "k2=%s,k5=e", longv);
	is_scan("k2", "k6", 255, 0, 0, want, "[k2, k6)");
	is_scan("k1", "k2", 255, 0, 0, "k1=a", "the end is excluded");
	is_scan("k5", "", 255, 1, 0, "k5=e", "limit 1");
	is_scan("k6", "k7", 105, 0, 0, "k6=v100", "k6 at 105");
	is_scan("k6", "k7", 101, 0, 0, "", "k6 at 101");
	is_scan("k6", "k6\x01", 1000, 0, 0, "k6=v390", "k6 at 1000");
	is_scan("k4", "", 500, 0, 0, "k5=e,k6=v390,k7=g,k9=i",
	    "from k4 at 500: locks after 500 do not block");
	is_scan("k99", "", 500, 0, 0, "", "past every key");
	snprintf(want, sizeof(want), "k1=a,k2=%s", longv);
	is_scan("", "", 500, 2, 0, want, "limit 2 stops short of k3's lock");

	is_int(scan("", "", 500, 0, 0, &c, &n), MVCC_KEY_ERROR,
	    "scan at 500 meets k3's lock");
	ok(err.word == PROTO_LOCKED && err.key.len == 2 &&
	    memcmp(err.key.data, "k3", 2) == 0 && err.lock.start_ts == 300,
	    "LOCKED k3 at 300");
	is_int((int)n, 2, "after giving k1 and k2");
	ok(strncmp((char *)c.out.data, "k1=a,k2=w", 9) == 0,
	    "which fn got");
	is_int(scan("k4", "", 700, 0, 1, &c, &n), MVCC_KEY_ERROR,
	    "scan at 700 from k4 meets k9's lock");
	ok(err.word == PROTO_LOCKED && err.lock.type == MVCC_DELETE &&
	    n == 3, "after three keys");
	is_int(scan("k1", "k3", 500, 0, 0, &c, &n), 0,
	    "a range ending before the lock");
	is_int((int)n, 2, "gives two");

	c.stop_after = 1;
	is_int(scan("", "", 255, 0, 0, &c, &n), -1, "fn stops the scan");
	is_int((int)n, 1, "after one pair");
	c.stop_after = -1;

	ok(commit1("k3", 300, 310) == 0, "k3 commits");
	is_scan("k3", "k4", 320, 0, 0, "k3=new", "k3 after its commit");
	is_scan("k3", "k4", 305, 0, 0, "", "k3 before its commit");
	buf_free(&c.out);
}

static void
test_err_reply(void)
{
	struct mvcc_err e;
	struct buf line = BUF_INIT;

	mvcc_err_init(&e);
	e.word = PROTO_LOCKED;
	buf_add(&e.key, "a b", 3);
	buf_add(&e.lock.primary, "p\n", 2);
	e.lock.start_ts = 7;
	e.lock.ttl_ms = 0;
	e.lock.type = MVCC_PUT;
	buf_addstr(&line, "OK\n");
	mvcc_err_reply(&e, &line);
	is_str((char *)line.data, "OK\nLOCKED \"a b\" \"p\\n\" 7 0 PUT\n",
	    "keys are tokens, quoted when they must be, after other lines");
	buf_reset(&line);
	e.word = PROTO_ALREADY_EXIST;
	buf_reset(&e.key);
	mvcc_err_reply(&e, &line);
	is_str((char *)line.data, "ALREADY_EXIST \"\"\n", "an empty key");
	buf_reset(&line);
	e.word = PROTO_CLIENT_ERROR;
	buf_add(&e.text, "bad\r\nthing", 10);
	mvcc_err_reply(&e, &line);
	is_str((char *)line.data, "CLIENT_ERROR bad\\x0d\\x0athing\n",
	    "CR and LF never end the line early");
	mvcc_err_free(&e);
	buf_free(&line);
}

/* Puts raw bytes into a family under the encoded key. */
static void
put_raw(enum kv_cf cf, const struct buf *k, const void *v, size_t len)
{
	if (kv_put(kv, cf, k->data, k->len, v, len) == -1) {
		diag("kv_put: %s", log_reason());
		exit(1);
	}
}

static void
test_malformed(void)
{
	static const uint8_t good_lock[] = {
		'P', 5, 10, 1, 'm', 1, 2, 'h', 'i'
	};
	struct collect c = { BUF_INIT, -1 };
	struct mvcc_txn_status st;
	struct buf enc = BUF_INIT, v = BUF_INIT;
	struct bytes key = { (const uint8_t *)"m", 1 };
	struct mvcc_mutation m = mut(MVCC_PUT, "m", "x");
	size_t i, n, fails = 0;
	int r;

	kv_close(kv);
	kv = open_kv("malformed");
	codec_encode_bytes(&enc, "m", 1);
	put_raw(KV_CF_LOCK, &enc, good_lock, sizeof(good_lock));
	ok(get_rc("m", 4) == 0 && get_rc("m", 5) == MVCC_KEY_ERROR,
	    "a hand-made lock record decodes");
	ok(err.lock.type == MVCC_PUT && err.lock.ttl_ms == 10 &&
	    err.lock.has_value && err.lock.value.len == 2,
	    "with its fields");

	/* Every truncation, and one byte too many, is refused. */
	for (i = 0; i <= sizeof(good_lock); i++) {
		buf_reset(&v);
		buf_add(&v, good_lock, sizeof(good_lock));
		if (i == sizeof(good_lock))
			buf_addc(&v, 0);
		else
			buf_truncate(&v, i);
		put_raw(KV_CF_LOCK, &enc, v.data, v.len);
		log_setreason("none");
		r = get_rc("m", 100);
		if (r != -1 || strstr(log_reason(), "malformed lock") == NULL)
			fails++;
	}
	is_int((int)fails, 0, "every truncated or overlong lock: -1");
	put_raw(KV_CF_LOCK, &enc, "\x50\xff\xff", 3);
	is_int(get_rc("m", 100), -1, "a bad varint: -1");
	put_raw(KV_CF_LOCK, &enc, "Z\x05\x0a\x00\x00", 5);
	is_int(get_rc("m", 100), -1, "a bad type: -1");
	put_raw(KV_CF_LOCK, &enc, "P\x05\x0a\x00\x02", 5);
	is_int(get_rc("m", 100), -1, "unknown flags: -1");
	put_raw(KV_CF_LOCK, &enc, "P\x05\x0a\x7f\x00", 5);
	is_int(get_rc("m", 100), -1, "a primary longer than the record: -1");
	ok(strstr(log_reason(), "malformed lock record of 'm'") != NULL,
	    "the reason names the record and the user key");

	is_int(prewrite_n(&m, 1, "m", 100, 10), -1, "prewrite: -1");
	is_int(commit1("m", 5, 20), -1, "commit: -1");
	is_int(rollback1("m", 5), -1, "rollback: -1");
	is_int(status("m", 5, 100, 1, &st), -1, "check_txn_status: -1");
	is_int(finish(mvcc_heartbeat(kv, batch, key, 5, 10, NULL, &err),
	    "heartbeat"), -1, "heartbeat: -1");
	is_int(finish(mvcc_resolve_lock(kv, batch, "", 0, "", 0, 5, 0, &n),
	    "resolve"), -1, "resolve: -1");
	is_int(scan("", "", 100, 0, 0, &c, &n), -1, "scan: -1");
	kv_delete(kv, KV_CF_LOCK, enc.data, enc.len);
	is_int(get_rc("m", 100), 0, "without it, m is just absent");

	/* Write records. */
	buf_reset(&v);
	codec_mvcc_key(&v, "w", 1, 20);
	put_raw(KV_CF_WRITE, &v, "P\x05", 2);
	is_int(get_rc("w", 30), -1, "a truncated write record: -1");
	is_int(get_rc("w", 19), 0, "invisible below its commit_ts");
	put_raw(KV_CF_WRITE, &v, "P\x05\x01\x05" "ab", 5);
	is_int(get_rc("w", 30), -1, "a short value past the end: -1");
	put_raw(KV_CF_WRITE, &v, "P\x05\x00", 3);
	is_int(get_rc("w", 30), -1, "a PUT whose long value is missing: -1");
	ok(strstr(log_reason(), "missing value") != NULL, "says so");
	put_raw(KV_CF_WRITE, &v, "P\x05\x01\x02ok", 6);
	is_get("w", 30, "ok");
	buf_reset(&v);
	codec_mvcc_key(&v, "w", 1, 25);
	buf_addc(&v, 0);
	put_raw(KV_CF_WRITE, &v, "P\x05\x01\x02ok", 6);
	is_int(get_rc("w", 30), -1, "a write key of the wrong length: -1");
	is_int(scan("", "", 100, 0, 0, &c, &n), -1, "scan meets it: -1");
	buf_reset(&v);
	buf_add(&v, "\x01\x02", 2);
	put_raw(KV_CF_LOCK, &v, good_lock, sizeof(good_lock));
	is_int(mvcc_resolve_lock(kv, batch, "", 0, "", 0, 5, 0, &n), -1,
	    "a lock key that is no encoded key: resolve -1");
	kv_batch_clear(batch);
	buf_free(&c.out);
	buf_free(&enc);
	buf_free(&v);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/mvcc_test.XXXXXX",
	    t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	mvcc_err_init(&err);
	batch = kv_batch_new();
	kv = open_kv("main");
	test_get_versions();
	test_values();
	test_locks_block_reads();
	test_prewrite_conflicts();
	test_idempotence();
	test_txn_status();
	test_resolve();
	test_scan();
	test_err_reply();
	test_malformed();
	kv_close(kv);
	kv_batch_free(batch);
	mvcc_err_free(&err);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
