/*
 * The KV engine over one tkrzw TreeDBM; the only file that includes tkrzw.
 *
 * Settings, and why (measured by t/unit/kv_crash.c and t/unit/kv_bench.c):
 * - update_mode=UPDATE_APPENDING: tkrzw never overwrites a record in place,
 *   so the file up to the size recorded by the last synchronize is exactly
 *   the state of that synchronize, whatever was appended after it.
 * - restore_mode=RESTORE_SYNC: a file not closed properly is cut back to
 *   that size on open.  With the default (in-place, restore as much as
 *   possible) a kill -9 can leave tree pages from different moments.
 *   Together these give the "last checkpoint exactly" promise of kv.h.
 * - file=PositionalParallelFile: pwrite/pread instead of a shared mapping,
 *   so a full disk or an I/O error is an error return we can report,
 *   never a SIGBUS on a store into the mapping.
 * - record_crc_mode=RECORD_CRC_32: a flipped bit in a page is a read error,
 *   not wrong data.
 * - max_cached_pages large: dirty pages stay in memory between
 *   checkpoints (they are not synced anyway) and reads hit memory.
 * - no_lock: we hold our own flock on kv.lock, so a failed handle can be
 *   abandoned without its in-memory state reaching the file.
 *
 * Locks: wmu serializes every write, checkpoint and rebuild; rw is taken
 * exclusively by a batch being applied and shared by kv_read_lock and
 * kv_snapshot_range, so those never see a batch half-applied.  tkrzw's own
 * locks make each single record operation atomic.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tkrzw_langc.h>

#include "buf.h"
#include "codec.h"
#include "kv.h"
#include "log.h"
#include "xmalloc.h"

#define KV_FILE		"kv.tkt"
#define KV_LOCKFILE	"kv.lock"
#define KV_REBUILD_SUFFIX ".rebuild"
#define KV_INTERNAL	'!'		/* prefix of the engine's own keys */
#define KV_STREAM_MAGIC	"TKVSNAP1"

static const uint8_t cf_prefix[KV_CF_COUNT] = { 'd', 'l', 'w', 'r', 'm' };
/*
 * The checkpoint record sorts after every family on purpose: tkrzw 1.0's
 * TreeDBM, on a reopened file, lands Last() and JumpLower() past the
 * greatest key at the end of the first leaf, so a reverse scan of the
 * last family must always have a greater key to start below.
 */
static const char ckpt_key[] = "\xff" "checkpoint";

enum kv_fpop { FP_NONE, FP_WRITE, FP_SYNC };

/* One open tkrzw file; a rebuild replaces it while iterators still hold it. */
struct kv_db {
	TkrzwDBM *dbm;
	int refs;
};

struct kv {
	struct kv_db *db;	/* current file: swap lock, or wmu to write */
	pthread_rwlock_t swap;	/* exclusive only to replace db */
	pthread_mutex_t refmu;
	char *path;
	char *params;		/* tkrzw open parameters */
	struct kv_batch *redo;	/* batches committed during a rebuild */
	int lockfd;
	struct kv_options opts;
	pthread_mutex_t wmu;
	pthread_mutex_t rebuild_mu;
	pthread_rwlock_t rw;
	int failed;
	char *failreason;
	int64_t ckpt_id;
	int64_t base_size;	/* file size after open or rebuild */
	struct buf scratch;	/* writer's prefixed key, under wmu */
	/* failpoint from TIKV_KV_FAILPOINT=op:ERRNO:after */
	enum kv_fpop fp_op;
	int fp_errno;
	long long fp_after;
	struct kv *next_abandoned;
};

enum kv_optype { OP_PUT, OP_DELETE, OP_DELETE_RANGE };

struct kv_op {
	uint8_t type;
	uint8_t cf;
	size_t aoff, alen;	/* key, or range start */
	size_t boff, blen;	/* value, or range end */
};

struct kv_batch {
	struct kv_op *ops;
	size_t nops, capops;
	struct buf data;
};

struct kv_iter {
	struct kv *kv;
	struct kv_db *db;
	TkrzwDBMIter *it;
	enum kv_cf cf;
	struct buf lower;	/* prefixed, inclusive */
	struct buf upper;	/* prefixed, exclusive */
	struct buf key;		/* prefixed current key */
	struct buf val;
	struct buf tmp;
	int valid;
	int fresh;		/* tkrzw iterator not positioned yet */
};

/* Handles given up after a write error: kept reachable, never closed. */
static struct kv *abandoned;
static pthread_mutex_t abandoned_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *
tk_msg(void)
{
	const char *m;

	m = tkrzw_get_last_status_message();
	if (m == NULL || *m == '\0')
		m = tkrzw_status_code_name(tkrzw_get_last_status_code());
	return m;
}

void
kv_options_init(struct kv_options *o)
{
	o->max_key_size = 8192;
	o->max_value_size = 8 << 20;
	o->cache_pages = 65536;
	o->rebuild_min_bytes = 64 << 20;
	o->rebuild_ratio = 2.0;
}

static void
fp_parse(struct kv *kv)
{
	const char *s;
	char op[16], en[16];
	long long after;

	s = getenv("TIKV_KV_FAILPOINT");
	if (s == NULL || *s == '\0')
		return;
	if (sscanf(s, "%15[a-z]:%15[A-Z]:%lld", op, en, &after) != 3) {
		log_warnx("ignoring TIKV_KV_FAILPOINT '%s'", s);
		return;
	}
	if (strcmp(op, "write") == 0)
		kv->fp_op = FP_WRITE;
	else if (strcmp(op, "sync") == 0)
		kv->fp_op = FP_SYNC;
	if (strcmp(en, "ENOSPC") == 0)
		kv->fp_errno = ENOSPC;
	else if (strcmp(en, "EIO") == 0)
		kv->fp_errno = EIO;
	else
		kv->fp_op = FP_NONE;
	kv->fp_after = after;
}

/* Returns the errno to inject for this operation, or 0. */
static int
fp_hit(struct kv *kv, enum kv_fpop op)
{
	if (kv->fp_op != op)
		return 0;
	if (kv->fp_after > 0) {
		kv->fp_after--;
		return 0;
	}
	return kv->fp_errno;
}

static void
addkey(struct buf *b, enum kv_cf cf, const void *key, size_t len)
{
	buf_reset(b);
	buf_addc(b, cf_prefix[cf]);
	buf_add(b, key, len);
}

static int64_t
read_ckpt(TkrzwDBM *dbm)
{
	char *v;
	int32_t n;
	int64_t id;

	v = tkrzw_dbm_get(dbm, ckpt_key, sizeof(ckpt_key) - 1, &n);
	if (v == NULL)
		return 0;
	id = n == 8 ? (int64_t)codec_get_u64be((uint8_t *)v) : -1;
	free(v);
	return id;
}

static struct kv_db *
db_new(TkrzwDBM *dbm)
{
	struct kv_db *db;

	db = xcalloc(1, sizeof(*db));
	db->dbm = dbm;
	db->refs = 1;
	return db;
}

static struct kv_db *
db_ref(struct kv *kv, struct kv_db *db)
{
	pthread_mutex_lock(&kv->refmu);
	db->refs++;
	pthread_mutex_unlock(&kv->refmu);
	return db;
}

/* Drops a reference; the last one closes a replaced file. */
static void
db_unref(struct kv *kv, struct kv_db *db)
{
	int last;

	pthread_mutex_lock(&kv->refmu);
	last = --db->refs == 0;
	pthread_mutex_unlock(&kv->refmu);
	if (last) {
		tkrzw_dbm_close(db->dbm);
		free(db);
	}
}

/* Opens path with kv's settings; returns NULL with the reason set. */
static TkrzwDBM *
open_dbm(struct kv *kv, const char *path, int64_t *ckpt)
{
	TkrzwDBM *dbm;

	dbm = tkrzw_dbm_open(path, true, kv->params);
	if (dbm == NULL) {
		log_setreason("cannot open '%s': %s", path, tk_msg());
		return NULL;
	}
	if (!tkrzw_dbm_is_healthy(dbm)) {
		log_setreason("cannot open '%s': damaged beyond restore", path);
		tkrzw_dbm_close(dbm);
		return NULL;
	}
	if (ckpt != NULL && (*ckpt = read_ckpt(dbm)) < 0) {
		log_setreason("cannot open '%s': bad checkpoint record", path);
		tkrzw_dbm_close(dbm);
		return NULL;
	}
	return dbm;
}

struct kv *
kv_open(const char *dir, const struct kv_options *opts)
{
	struct kv *kv;
	TkrzwDBM *dbm;
	pthread_rwlockattr_t ra;
	char *lockpath, *tmp;
	const char *tp;

	kv = xcalloc(1, sizeof(*kv));
	if (opts != NULL)
		kv->opts = *opts;
	else
		kv_options_init(&kv->opts);
	xasprintf(&kv->path, "%s/%s", dir, KV_FILE);
	xasprintf(&lockpath, "%s/%s", dir, KV_LOCKFILE);
	kv->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (kv->lockfd == -1) {
		log_setreason("cannot open '%s': %s", lockpath,
		    strerror(errno));
		goto fail;
	}
	if (flock(kv->lockfd, LOCK_EX | LOCK_NB) == -1) {
		log_setreason("cannot lock '%s': %s", lockpath,
		    errno == EWOULDBLOCK ? "in use by another process" :
		    strerror(errno));
		goto fail;
	}
	/* Tests compare other settings (kv_crash -p); see the top. */
	if ((tp = getenv("TIKV_KV_TKRZW_PARAMS")) != NULL && *tp != '\0')
		xasprintf(&kv->params, "dbm=TreeDBM,no_lock=true,%s", tp);
	else
		xasprintf(&kv->params,
		    "dbm=TreeDBM,file=PositionalParallelFile,no_lock=true,"
		    "update_mode=UPDATE_APPENDING,restore_mode=RESTORE_SYNC,"
		    "record_crc_mode=RECORD_CRC_32,max_cached_pages=%lld",
		    (long long)kv->opts.cache_pages);
	/* A rebuild that did not reach its rename left only garbage. */
	xasprintf(&tmp, "%s%s", kv->path, KV_REBUILD_SUFFIX);
	unlink(tmp);
	free(tmp);
	if ((dbm = open_dbm(kv, kv->path, &kv->ckpt_id)) == NULL)
		goto fail;
	kv->db = db_new(dbm);
	kv->base_size = tkrzw_dbm_get_file_size(dbm);
	pthread_mutex_init(&kv->wmu, NULL);
	pthread_mutex_init(&kv->rebuild_mu, NULL);
	pthread_mutex_init(&kv->refmu, NULL);
	pthread_rwlockattr_init(&ra);
	/* A waiting writer stops new readers, so it is never starved. */
	pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&kv->rw, &ra);
	pthread_rwlock_init(&kv->swap, &ra);
	pthread_rwlockattr_destroy(&ra);
	fp_parse(kv);
	free(lockpath);
	return kv;
fail:
	if (kv->lockfd > 0)
		close(kv->lockfd);
	free(lockpath);
	free(kv->params);
	free(kv->path);
	free(kv);
	return NULL;
}

const char *
kv_path(const struct kv *kv)
{
	return kv->path;
}

static void
kv_destroy(struct kv *kv)
{
	pthread_mutex_destroy(&kv->wmu);
	pthread_mutex_destroy(&kv->rebuild_mu);
	pthread_mutex_destroy(&kv->refmu);
	pthread_rwlock_destroy(&kv->rw);
	pthread_rwlock_destroy(&kv->swap);
	buf_free(&kv->scratch);
	free(kv->failreason);
	free(kv->params);
	free(kv->path);
	free(kv);
}

int
kv_close(struct kv *kv)
{
	int rc = 0;

	if (kv == NULL)
		return 0;
	if (kv->failed) {
		/*
		 * Closing would write the partial in-memory state into the
		 * file as if it were complete.  Leave the tkrzw handle open
		 * and unused, so the next open restores the last checkpoint.
		 */
		log_setreason("'%s' abandoned after an earlier error: %s",
		    kv->path, kv->failreason);
		close(kv->lockfd);
		pthread_mutex_lock(&abandoned_mu);
		kv->next_abandoned = abandoned;
		abandoned = kv;
		pthread_mutex_unlock(&abandoned_mu);
		return -1;
	}
	if (kv_checkpoint(kv) == -1)
		rc = -1;
	if (!tkrzw_dbm_close(kv->db->dbm)) {
		log_setreason("cannot close '%s': %s", kv->path, tk_msg());
		rc = -1;
	}
	free(kv->db);
	close(kv->lockfd);
	kv_destroy(kv);
	return rc;
}

/* Marks the handle failed; the caller has set the reason. */
static void
kv_fail(struct kv *kv)
{
	if (!kv->failed) {
		kv->failed = 1;
		kv->failreason = xstrdup(log_reason());
		log_warnx("%s", kv->failreason);
	}
}

static int
check_failed(struct kv *kv)
{
	if (kv->failed) {
		log_setreason("'%s' failed earlier: %s", kv->path,
		    kv->failreason);
		return -1;
	}
	return 0;
}

struct getarg {
	struct buf *out;
	int found;
};

static const char *
get_proc(void *arg, const char *k, int32_t klen, const char *v, int32_t vlen,
    int32_t *outlen)
{
	struct getarg *ga = arg;

	(void)k;
	(void)klen;
	(void)outlen;
	if (v != NULL) {
		ga->found = 1;
		if (ga->out != NULL) {
			buf_reset(ga->out);
			buf_add(ga->out, v, vlen);
		}
	}
	return TKRZW_REC_PROC_NOOP;
}

int
kv_get(struct kv *kv, enum kv_cf cf, const void *key, size_t keylen,
    struct buf *val)
{
	struct getarg ga = { val, 0 };
	char small[128], *k;
	int rc = 0;

	if (keylen > kv->opts.max_key_size) {
		log_setreason("key of %zu bytes exceeds the maximum of %zu",
		    keylen, kv->opts.max_key_size);
		return -1;
	}
	if ((unsigned)cf >= KV_CF_COUNT)
		fatalx("kv_get: bad column family %d", (int)cf);
	k = keylen < sizeof(small) ? small : xmalloc(keylen + 1);
	k[0] = cf_prefix[cf];
	if (keylen > 0)
		memcpy(k + 1, key, keylen);
	pthread_rwlock_rdlock(&kv->swap);
	if (!tkrzw_dbm_process(kv->db->dbm, k, keylen + 1, get_proc, &ga,
	    false)) {
		log_setreason("cannot read '%s': %s", kv->path, tk_msg());
		rc = -1;
	} else
		rc = ga.found;
	pthread_rwlock_unlock(&kv->swap);
	if (k != small)
		free(k);
	return rc;
}

/* Batches. */

struct kv_batch *
kv_batch_new(void)
{
	return xcalloc(1, sizeof(struct kv_batch));
}

void
kv_batch_free(struct kv_batch *b)
{
	if (b == NULL)
		return;
	free(b->ops);
	buf_free(&b->data);
	free(b);
}

void
kv_batch_clear(struct kv_batch *b)
{
	b->nops = 0;
	buf_reset(&b->data);
}

static void
batch_add(struct kv_batch *b, int type, enum kv_cf cf, const void *a,
    size_t alen, const void *bb, size_t blen)
{
	struct kv_op *op;

	if ((unsigned)cf >= KV_CF_COUNT)
		fatalx("kv_batch: bad column family %d", (int)cf);
	if (b->nops == b->capops) {
		b->capops = b->capops ? b->capops * 2 : 16;
		b->ops = xreallocarray(b->ops, b->capops, sizeof(*b->ops));
	}
	op = &b->ops[b->nops++];
	op->type = type;
	op->cf = cf;
	op->aoff = b->data.len;
	op->alen = alen;
	buf_add(&b->data, a, alen);
	op->boff = b->data.len;
	op->blen = blen;
	buf_add(&b->data, bb, blen);
}

void
kv_batch_put(struct kv_batch *b, enum kv_cf cf, const void *key,
    size_t keylen, const void *val, size_t vallen)
{
	batch_add(b, OP_PUT, cf, key, keylen, val, vallen);
}

void
kv_batch_delete(struct kv_batch *b, enum kv_cf cf, const void *key,
    size_t keylen)
{
	batch_add(b, OP_DELETE, cf, key, keylen, NULL, 0);
}

void
kv_batch_delete_range(struct kv_batch *b, enum kv_cf cf, const void *start,
    size_t startlen, const void *end, size_t endlen)
{
	batch_add(b, OP_DELETE_RANGE, cf, start, startlen, end, endlen);
}

size_t
kv_batch_count(const struct kv_batch *b)
{
	return b->nops;
}

size_t
kv_batch_bytes(const struct kv_batch *b)
{
	return b->data.len + b->nops * sizeof(struct kv_op);
}

/* Appends b's operations to dst. */
static void
batch_append(struct kv_batch *dst, const struct kv_batch *b)
{
	const struct kv_op *op;
	size_t i;

	for (i = 0; i < b->nops; i++) {
		op = &b->ops[i];
		batch_add(dst, op->type, op->cf, b->data.data + op->aoff,
		    op->alen, b->data.data + op->boff, op->blen);
	}
}

static int
batch_check(struct kv *kv, const struct kv_batch *b)
{
	const struct kv_op *op;
	size_t i;

	for (i = 0; i < b->nops; i++) {
		op = &b->ops[i];
		if (op->alen > kv->opts.max_key_size ||
		    (op->type == OP_DELETE_RANGE &&
		    op->blen > kv->opts.max_key_size)) {
			log_setreason("key of %zu bytes exceeds the maximum "
			    "of %zu", op->alen > op->blen ? op->alen :
			    op->blen, kv->opts.max_key_size);
			return -1;
		}
		if (op->type == OP_PUT && op->blen > kv->opts.max_value_size) {
			log_setreason("value of %zu bytes exceeds the maximum "
			    "of %zu", op->blen, kv->opts.max_value_size);
			return -1;
		}
	}
	return 0;
}

/* Sets the reason for a failed write; the caller decides what failed. */
static int
write_error(struct kv *kv, int inject)
{
	if (inject)
		log_setreason("cannot write '%s': %s", kv->path,
		    strerror(inject));
	else
		log_setreason("cannot write '%s': %s", kv->path, tk_msg());
	return -1;
}

/* Upper bound of a range: end prefixed, or the next family's prefix. */
static void
range_upper(struct buf *b, enum kv_cf cf, const void *end, size_t endlen)
{
	if (endlen == 0) {
		buf_reset(b);
		buf_addc(b, cf_prefix[cf] + 1);
	} else
		addkey(b, cf, end, endlen);
}

static int
keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c;

	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

struct keyarg {
	struct buf *key;
	int found;
};

static const char *
key_proc(void *arg, const char *k, int32_t klen, const char *v, int32_t vlen,
    int32_t *outlen)
{
	struct keyarg *ka = arg;

	(void)v;
	(void)vlen;
	(void)outlen;
	ka->found = 1;
	buf_reset(ka->key);
	buf_add(ka->key, k, klen);
	return TKRZW_REC_PROC_NOOP;
}

static int
delete_range(struct kv *kv, TkrzwDBM *dbm, int inject, enum kv_cf cf,
    const uint8_t *start, size_t startlen, const uint8_t *end, size_t endlen)
{
	TkrzwDBMIter *it;
	struct buf lo = BUF_INIT, hi = BUF_INIT, cur = BUF_INIT;
	struct keyarg ka = { &cur, 0 };
	int rc = 0, inj;

	addkey(&lo, cf, start, startlen);
	range_upper(&hi, cf, end, endlen);
	it = tkrzw_dbm_make_iterator(dbm);
	if (!tkrzw_dbm_iter_jump(it, (char *)lo.data, lo.len))
		goto err;
	for (;;) {
		ka.found = 0;
		if (!tkrzw_dbm_iter_process(it, key_proc, &ka, false) &&
		    tkrzw_get_last_status_code() != TKRZW_STATUS_NOT_FOUND_ERROR)
			goto err;
		if (!ka.found || keycmp(cur.data, cur.len, hi.data,
		    hi.len) >= 0)
			break;
		if (inject && (inj = fp_hit(kv, FP_WRITE)) != 0) {
			rc = write_error(kv, inj);
			goto out;
		}
		/* Removing moves the iterator to the next record. */
		if (!tkrzw_dbm_iter_remove(it))
			goto err;
	}
	goto out;
err:
	rc = write_error(kv, 0);
out:
	tkrzw_dbm_iter_free(it);
	buf_free(&lo);
	buf_free(&hi);
	buf_free(&cur);
	return rc;
}

/* Applies one operation to dbm; inject: honour the failpoint. */
static int
apply_op(struct kv *kv, TkrzwDBM *dbm, int inject, struct buf *scratch,
    const struct kv_batch *b, const struct kv_op *op)
{
	const uint8_t *a = b->data.data + op->aoff;
	const uint8_t *bb = b->data.data + op->boff;
	int inj;

	if (op->type == OP_DELETE_RANGE)
		return delete_range(kv, dbm, inject, op->cf, a, op->alen, bb,
		    op->blen);
	if (inject && (inj = fp_hit(kv, FP_WRITE)) != 0)
		return write_error(kv, inj);
	addkey(scratch, op->cf, a, op->alen);
	if (op->type == OP_PUT) {
		if (!tkrzw_dbm_set(dbm, (char *)scratch->data, scratch->len,
		    (const char *)bb, op->blen, true))
			return write_error(kv, 0);
	} else {
		if (!tkrzw_dbm_remove(dbm, (char *)scratch->data,
		    scratch->len) && tkrzw_get_last_status_code() !=
		    TKRZW_STATUS_NOT_FOUND_ERROR)
			return write_error(kv, 0);
	}
	return 0;
}

int
kv_batch_commit(struct kv *kv, struct kv_batch *b)
{
	size_t i;
	int rc = 0;

	if (batch_check(kv, b) == -1)
		return -1;
	pthread_mutex_lock(&kv->wmu);
	if (check_failed(kv) == -1) {
		pthread_mutex_unlock(&kv->wmu);
		return -1;
	}
	pthread_rwlock_wrlock(&kv->rw);
	for (i = 0; i < b->nops && rc == 0; i++)
		rc = apply_op(kv, kv->db->dbm, 1, &kv->scratch, b,
		    &b->ops[i]);
	pthread_rwlock_unlock(&kv->rw);
	if (rc == -1)
		kv_fail(kv);
	else if (kv->redo != NULL)
		batch_append(kv->redo, b);
	pthread_mutex_unlock(&kv->wmu);
	return rc;
}

int
kv_put(struct kv *kv, enum kv_cf cf, const void *key, size_t keylen,
    const void *val, size_t vallen)
{
	struct kv_op op;
	struct kv_batch b;
	int rc;

	memset(&b, 0, sizeof(b));
	buf_add(&b.data, key, keylen);
	buf_add(&b.data, val, vallen);
	op.type = OP_PUT;
	op.cf = cf;
	op.aoff = 0;
	op.alen = keylen;
	op.boff = keylen;
	op.blen = vallen;
	b.ops = &op;
	b.nops = b.capops = 1;
	rc = kv_batch_commit(kv, &b);
	buf_free(&b.data);
	return rc;
}

int
kv_delete(struct kv *kv, enum kv_cf cf, const void *key, size_t keylen)
{
	struct kv_op op;
	struct kv_batch b;
	int rc;

	memset(&b, 0, sizeof(b));
	buf_add(&b.data, key, keylen);
	op.type = OP_DELETE;
	op.cf = cf;
	op.aoff = 0;
	op.alen = keylen;
	op.boff = keylen;
	op.blen = 0;
	b.ops = &op;
	b.nops = b.capops = 1;
	rc = kv_batch_commit(kv, &b);
	buf_free(&b.data);
	return rc;
}

void
kv_read_lock(struct kv *kv)
{
	pthread_rwlock_rdlock(&kv->rw);
}

void
kv_read_unlock(struct kv *kv)
{
	pthread_rwlock_unlock(&kv->rw);
}

/* Checkpoints. */

static int64_t
checkpoint_locked(struct kv *kv)
{
	uint8_t v[8];
	int64_t id;
	int inj;

	if (check_failed(kv) == -1)
		return -1;
	id = kv->ckpt_id + 1;
	codec_put_u64be(v, (uint64_t)id);
	if ((inj = fp_hit(kv, FP_WRITE)) != 0 ||
	    !tkrzw_dbm_set(kv->db->dbm, ckpt_key, sizeof(ckpt_key) - 1,
	    (char *)v, sizeof(v), true)) {
		write_error(kv, inj);
		kv_fail(kv);
		return -1;
	}
	if ((inj = fp_hit(kv, FP_SYNC)) != 0)
		fatalx("cannot sync '%s': %s", kv->path, strerror(inj));
	if (!tkrzw_dbm_synchronize(kv->db->dbm, true, NULL, NULL, ""))
		fatalx("cannot sync '%s': %s", kv->path, tk_msg());
	kv->ckpt_id = id;
	return id;
}

int64_t
kv_checkpoint(struct kv *kv)
{
	int64_t id;

	pthread_mutex_lock(&kv->wmu);
	id = checkpoint_locked(kv);
	pthread_mutex_unlock(&kv->wmu);
	return id;
}

int64_t
kv_checkpoint_id(struct kv *kv)
{
	int64_t id;

	pthread_mutex_lock(&kv->wmu);
	id = kv->ckpt_id;
	pthread_mutex_unlock(&kv->wmu);
	return id;
}

/* Iterators. */

struct kv_iter *
kv_iter_new(struct kv *kv, enum kv_cf cf, const void *lower, size_t lowerlen,
    const void *upper, size_t upperlen)
{
	struct kv_iter *ki;

	if ((unsigned)cf >= KV_CF_COUNT)
		fatalx("kv_iter_new: bad column family %d", (int)cf);
	ki = xcalloc(1, sizeof(*ki));
	ki->kv = kv;
	ki->cf = cf;
	addkey(&ki->lower, cf, lower, lowerlen);
	range_upper(&ki->upper, cf, upper, upperlen);
	pthread_rwlock_rdlock(&kv->swap);
	ki->db = db_ref(kv, kv->db);
	pthread_rwlock_unlock(&kv->swap);
	ki->it = tkrzw_dbm_make_iterator(ki->db->dbm);
	return ki;
}

void
kv_iter_free(struct kv_iter *ki)
{
	if (ki == NULL)
		return;
	tkrzw_dbm_iter_free(ki->it);
	db_unref(ki->kv, ki->db);
	buf_free(&ki->lower);
	buf_free(&ki->upper);
	buf_free(&ki->key);
	buf_free(&ki->val);
	buf_free(&ki->tmp);
	free(ki);
}

struct fetcharg {
	struct buf *key, *val;
	int found;
};

static const char *
fetch_proc(void *arg, const char *k, int32_t klen, const char *v,
    int32_t vlen, int32_t *outlen)
{
	struct fetcharg *fa = arg;

	(void)outlen;
	fa->found = 1;
	buf_reset(fa->key);
	buf_add(fa->key, k, klen);
	buf_reset(fa->val);
	buf_add(fa->val, v, vlen);
	return TKRZW_REC_PROC_NOOP;
}

/* Reads the record under the tkrzw iterator into tmp/val: 1, 0 or -1. */
static int
iter_fetch(struct kv_iter *ki)
{
	struct fetcharg fa = { &ki->tmp, &ki->val, 0 };

	if (!tkrzw_dbm_iter_process(ki->it, fetch_proc, &fa, false)) {
		if (tkrzw_get_last_status_code() ==
		    TKRZW_STATUS_NOT_FOUND_ERROR)
			return 0;
		log_setreason("cannot read '%s': %s", ki->kv->path, tk_msg());
		return -1;
	}
	return fa.found;
}

/* Accepts tmp as the current key if it lies within the bounds. */
static int
iter_accept(struct kv_iter *ki, int r)
{
	struct buf t;

	ki->valid = 0;
	if (r != 1)
		return r;
	if (keycmp(ki->tmp.data, ki->tmp.len, ki->lower.data,
	    ki->lower.len) < 0 || keycmp(ki->tmp.data, ki->tmp.len,
	    ki->upper.data, ki->upper.len) >= 0)
		return 0;
	t = ki->key;
	ki->key = ki->tmp;
	ki->tmp = t;
	ki->valid = 1;
	return 1;
}

static int
iter_error(struct kv_iter *ki)
{
	ki->valid = 0;
	log_setreason("cannot read '%s': %s", ki->kv->path, tk_msg());
	return -1;
}

/* Smallest key >= k (or > k). */
static int
iter_upper(struct kv_iter *ki, const struct buf *k, int inclusive)
{
	if (!tkrzw_dbm_iter_jump_upper(ki->it, (char *)k->data, k->len,
	    inclusive))
		return iter_error(ki);
	return iter_accept(ki, iter_fetch(ki));
}

/* Largest key <= k (or < k). */
static int
iter_lower(struct kv_iter *ki, const struct buf *k, int inclusive)
{
	if (!tkrzw_dbm_iter_jump_lower(ki->it, (char *)k->data, k->len,
	    inclusive))
		return iter_error(ki);
	return iter_accept(ki, iter_fetch(ki));
}

static int
iter_first_(struct kv_iter *ki)
{
	return iter_upper(ki, &ki->lower, 1);
}

static int
iter_last_(struct kv_iter *ki)
{
	return iter_lower(ki, &ki->upper, 0);
}

static int
iter_seek_(struct kv_iter *ki, const void *key, size_t keylen)
{
	struct buf k = BUF_INIT;
	int r;

	addkey(&k, ki->cf, key, keylen);
	if (keycmp(k.data, k.len, ki->lower.data, ki->lower.len) < 0)
		r = iter_upper(ki, &ki->lower, 1);
	else
		r = iter_upper(ki, &k, 1);
	buf_free(&k);
	return r;
}

static int
iter_seek_prev_(struct kv_iter *ki, const void *key, size_t keylen)
{
	struct buf k = BUF_INIT;
	int r;

	addkey(&k, ki->cf, key, keylen);
	if (keycmp(k.data, k.len, ki->upper.data, ki->upper.len) >= 0)
		r = iter_lower(ki, &ki->upper, 0);
	else
		r = iter_lower(ki, &k, 1);
	buf_free(&k);
	return r;
}

/*
 * Steps use tkrzw's next/previous, which is cheap; if the page under the
 * iterator changed and it lost its place (or did not move past the current
 * key), it jumps again from the current key.
 */
static int
iter_next_(struct kv_iter *ki)
{
	struct buf cur;
	int r;

	if (!ki->valid)
		return 0;
	if (!ki->fresh && tkrzw_dbm_iter_next(ki->it)) {
		r = iter_fetch(ki);
		if (r == -1)
			return iter_accept(ki, r);
		if (r == 1 && keycmp(ki->tmp.data, ki->tmp.len, ki->key.data,
		    ki->key.len) > 0)
			return iter_accept(ki, r);
	}
	cur = ki->key;
	memset(&ki->key, 0, sizeof(ki->key));
	r = iter_upper(ki, &cur, 0);
	if (!ki->valid) {
		buf_free(&ki->key);
		ki->key = cur;
	} else
		buf_free(&cur);
	return r;
}

static int
iter_prev_(struct kv_iter *ki)
{
	struct buf cur;
	int r;

	if (!ki->valid)
		return 0;
	if (!ki->fresh && tkrzw_dbm_iter_previous(ki->it)) {
		r = iter_fetch(ki);
		if (r == -1)
			return iter_accept(ki, r);
		if (r == 1 && keycmp(ki->tmp.data, ki->tmp.len, ki->key.data,
		    ki->key.len) < 0)
			return iter_accept(ki, r);
	}
	cur = ki->key;
	memset(&ki->key, 0, sizeof(ki->key));
	r = iter_lower(ki, &cur, 0);
	if (!ki->valid) {
		buf_free(&ki->key);
		ki->key = cur;
	} else
		buf_free(&cur);
	return r;
}

/*
 * Every iterator call holds the swap lock shared; after a rebuild replaced
 * the file, the iterator moves to the new one and jumps from its key.
 */
static void
iter_enter(struct kv_iter *ki)
{
	struct kv *kv = ki->kv;

	pthread_rwlock_rdlock(&kv->swap);
	if (ki->db != kv->db) {
		tkrzw_dbm_iter_free(ki->it);
		db_unref(kv, ki->db);
		ki->db = db_ref(kv, kv->db);
		ki->it = tkrzw_dbm_make_iterator(ki->db->dbm);
		ki->fresh = 1;
	}
}

static int
iter_leave(struct kv_iter *ki, int r)
{
	if (r == 1)
		ki->fresh = 0;
	pthread_rwlock_unlock(&ki->kv->swap);
	return r;
}

int
kv_iter_first(struct kv_iter *ki)
{
	iter_enter(ki);
	return iter_leave(ki, iter_first_(ki));
}

int
kv_iter_last(struct kv_iter *ki)
{
	iter_enter(ki);
	return iter_leave(ki, iter_last_(ki));
}

int
kv_iter_seek(struct kv_iter *ki, const void *key, size_t keylen)
{
	iter_enter(ki);
	return iter_leave(ki, iter_seek_(ki, key, keylen));
}

int
kv_iter_seek_prev(struct kv_iter *ki, const void *key, size_t keylen)
{
	iter_enter(ki);
	return iter_leave(ki, iter_seek_prev_(ki, key, keylen));
}

int
kv_iter_next(struct kv_iter *ki)
{
	iter_enter(ki);
	return iter_leave(ki, iter_next_(ki));
}

int
kv_iter_prev(struct kv_iter *ki)
{
	iter_enter(ki);
	return iter_leave(ki, iter_prev_(ki));
}

int
kv_iter_valid(const struct kv_iter *ki)
{
	return ki->valid;
}

struct bytes
kv_iter_key(const struct kv_iter *ki)
{
	struct bytes b = { NULL, 0 };

	if (ki->valid) {
		b.ptr = ki->key.data + 1;
		b.len = ki->key.len - 1;
	}
	return b;
}

struct bytes
kv_iter_value(const struct kv_iter *ki)
{
	struct bytes b = { NULL, 0 };

	if (ki->valid) {
		b.ptr = ki->val.data;
		b.len = ki->val.len;
	}
	return b;
}

/* Range statistics. */

#define STATS_SAMPLES	64

int
kv_range_stats(struct kv *kv, enum kv_cf cf, const void *start,
    size_t startlen, const void *end, size_t endlen,
    struct kv_range_stats *st)
{
	struct kv_iter *ki;
	struct buf samp[STATS_SAMPLES];
	uint64_t at[STATS_SAMPLES], step = 4096, mark = 4096, half, best;
	size_t n = 0, i, j;
	int r, pick = -1;

	st->keys = 0;
	st->bytes = 0;
	buf_reset(&st->middle);
	memset(samp, 0, sizeof(samp));
	ki = kv_iter_new(kv, cf, start, startlen, end, endlen);
	for (r = kv_iter_first(ki); r == 1; r = kv_iter_next(ki)) {
		st->keys++;
		st->bytes += ki->key.len - 1 + ki->val.len;
		if (st->keys == 1 || st->bytes < mark)
			continue;
		if (n == STATS_SAMPLES) {
			/* Keep every other sample; sample half as often. */
			for (i = 0, j = 1; j < n; i++, j += 2) {
				buf_reset(&samp[i]);
				buf_add(&samp[i], samp[j].data, samp[j].len);
				at[i] = at[j];
			}
			n = i;
			step *= 2;
		}
		buf_reset(&samp[n]);
		buf_add(&samp[n], ki->key.data + 1, ki->key.len - 1);
		at[n++] = st->bytes;
		mark = st->bytes + step;
	}
	kv_iter_free(ki);
	if (r == 0 && n > 0) {
		half = st->bytes / 2;
		best = UINT64_MAX;
		for (i = 0; i < n; i++) {
			uint64_t d = at[i] > half ? at[i] - half : half - at[i];

			if (d < best) {
				best = d;
				pick = i;
			}
		}
		buf_add(&st->middle, samp[pick].data, samp[pick].len);
	}
	for (i = 0; i < STATS_SAMPLES; i++)
		buf_free(&samp[i]);
	return r == -1 ? -1 : 0;
}

/* Snapshots of a range, and their ingest. */

int
kv_cf_encodes_keys(enum kv_cf cf)
{
	return cf == KV_CF_DEFAULT || cf == KV_CF_LOCK || cf == KV_CF_WRITE;
}

void
kv_cf_bounds(enum kv_cf cf, const void *start, size_t startlen,
    const void *end, size_t endlen, struct buf *lo, struct buf *hi)
{
	buf_reset(lo);
	buf_reset(hi);
	if (!kv_cf_encodes_keys(cf)) {
		buf_add(lo, start, startlen);
		buf_add(hi, end, endlen);
		return;
	}
	codec_encode_bytes(lo, start, startlen);
	if (endlen > 0)
		codec_encode_bytes(hi, end, endlen);
}

int
kv_snapshot_range(struct kv *kv, unsigned cfmask, const void *start,
    size_t startlen, const void *end, size_t endlen, kv_snapshot_fn *fn,
    void *arg)
{
	struct buf lo = BUF_INIT, hi = BUF_INIT;
	struct kv_iter *ki;
	struct bytes k, v;
	int cf, r = 0;

	kv_read_lock(kv);
	for (cf = 0; cf < KV_CF_COUNT && r != -1; cf++) {
		if (!(cfmask & KV_CFMASK(cf)))
			continue;
		kv_cf_bounds(cf, start, startlen, end, endlen, &lo, &hi);
		ki = kv_iter_new(kv, cf, lo.data, lo.len, hi.data, hi.len);
		for (r = kv_iter_first(ki); r == 1; r = kv_iter_next(ki)) {
			k = kv_iter_key(ki);
			v = kv_iter_value(ki);
			if (fn(arg, cf, k, v) == -1) {
				r = -1;
				break;
			}
		}
		kv_iter_free(ki);
	}
	kv_read_unlock(kv);
	buf_free(&lo);
	buf_free(&hi);
	return r == -1 ? -1 : 0;
}

struct streamarg {
	struct buf *out;
	uint64_t count;
};

static int
stream_add(void *arg, enum kv_cf cf, struct bytes k, struct bytes v)
{
	struct streamarg *sa = arg;

	buf_addc(sa->out, cf);
	codec_add_lenbytes(sa->out, k.ptr, k.len);
	codec_add_lenbytes(sa->out, v.ptr, v.len);
	sa->count++;
	return 0;
}

/*
 * Stream: magic, varint cfmask, lenbytes start, lenbytes end, then pairs
 * (cf byte, lenbytes key, lenbytes value), then 0xff and a varint count.
 */
int
kv_snapshot_write(struct kv *kv, unsigned cfmask, const void *start,
    size_t startlen, const void *end, size_t endlen, struct buf *out)
{
	struct streamarg sa = { out, 0 };
	size_t mark = out->len;

	buf_add(out, KV_STREAM_MAGIC, sizeof(KV_STREAM_MAGIC) - 1);
	codec_add_varint(out, cfmask);
	codec_add_lenbytes(out, start, startlen);
	codec_add_lenbytes(out, end, endlen);
	if (kv_snapshot_range(kv, cfmask, start, startlen, end, endlen,
	    stream_add, &sa) == -1) {
		buf_truncate(out, mark);
		return -1;
	}
	buf_addc(out, 0xff);
	codec_add_varint(out, sa.count);
	return 0;
}

int
kv_ingest(struct kv *kv, const void *stream, size_t len)
{
	const uint8_t *p = stream, *e = p + len;
	const size_t ml = sizeof(KV_STREAM_MAGIC) - 1;
	struct bytes start, end, k, v;
	struct buf lo[KV_CF_COUNT], hi[KV_CF_COUNT];
	struct kv_batch *b;
	uint64_t mask, count, n = 0;
	int cf, rc = -1;

	if (len < ml || memcmp(p, KV_STREAM_MAGIC, ml) != 0)
		goto bad;
	p += ml;
	if (codec_read_varint(&p, e, &mask) == -1 ||
	    (mask & ~(uint64_t)((1u << KV_CF_COUNT) - 1)) != 0 ||
	    codec_read_lenbytes(&p, e, &start) == -1 ||
	    codec_read_lenbytes(&p, e, &end) == -1)
		goto bad;
	b = kv_batch_new();
	for (cf = 0; cf < KV_CF_COUNT; cf++) {
		buf_init(&lo[cf]);
		buf_init(&hi[cf]);
		kv_cf_bounds(cf, start.ptr, start.len, end.ptr, end.len,
		    &lo[cf], &hi[cf]);
		if (mask & KV_CFMASK(cf))
			kv_batch_delete_range(b, cf, lo[cf].data, lo[cf].len,
			    hi[cf].data, hi[cf].len);
	}
	for (;;) {
		if (p == e)
			goto badb;
		cf = *p++;
		if (cf == 0xff)
			break;
		if (cf >= KV_CF_COUNT || !(mask & KV_CFMASK(cf)) ||
		    codec_read_lenbytes(&p, e, &k) == -1 ||
		    codec_read_lenbytes(&p, e, &v) == -1)
			goto badb;
		if (keycmp(k.ptr, k.len, lo[cf].data, lo[cf].len) < 0 ||
		    (hi[cf].len > 0 && keycmp(k.ptr, k.len, hi[cf].data,
		    hi[cf].len) >= 0)) {
			log_setreason("snapshot stream: key outside its range");
			goto out;
		}
		kv_batch_put(b, cf, k.ptr, k.len, v.ptr, v.len);
		n++;
	}
	if (codec_read_varint(&p, e, &count) == -1 || p != e || count != n)
		goto badb;
	rc = kv_batch_commit(kv, b);
	goto out;
badb:
	log_setreason("snapshot stream is malformed or truncated");
out:
	kv_batch_free(b);
	for (cf = 0; cf < KV_CF_COUNT; cf++) {
		buf_free(&lo[cf]);
		buf_free(&hi[cf]);
	}
	return rc;
bad:
	log_setreason("snapshot stream is malformed or truncated");
	return -1;
}

/* Rebuild and figures. */

int64_t
kv_file_size(struct kv *kv)
{
	int64_t n;

	pthread_rwlock_rdlock(&kv->swap);
	n = tkrzw_dbm_get_file_size(kv->db->dbm);
	pthread_rwlock_unlock(&kv->swap);
	return n;
}

int64_t
kv_count(struct kv *kv)
{
	int64_t n;

	pthread_rwlock_rdlock(&kv->swap);
	n = tkrzw_dbm_count(kv->db->dbm);
	pthread_rwlock_unlock(&kv->swap);
	return n;
}

int
kv_rebuild_needed(struct kv *kv)
{
	int64_t sz;

	sz = kv_file_size(kv);
	return sz > kv->opts.rebuild_min_bytes &&
	    (double)sz > kv->opts.rebuild_ratio * (double)kv->base_size;
}

/*
 * Copies every record of from into to, in key order, while the writer
 * goes on changing from: the copy is fuzzy, and replaying every batch
 * committed since the copy began (they are blind writes) makes it exact.
 */
static int
copy_all(struct kv *kv, TkrzwDBM *from, TkrzwDBM *to)
{
	TkrzwDBMIter *it;
	struct buf k = BUF_INIT, v = BUF_INIT, last = BUF_INIT, t;
	struct fetcharg fa = { &k, &v, 0 };
	int rc = -1, have = 0;

	it = tkrzw_dbm_make_iterator(from);
	if (!tkrzw_dbm_iter_first(it))
		goto rerr;
	for (;;) {
		fa.found = 0;
		if (!tkrzw_dbm_iter_process(it, fetch_proc, &fa, false) &&
		    tkrzw_get_last_status_code() != TKRZW_STATUS_NOT_FOUND_ERROR)
			goto rerr;
		if (have && (!fa.found || keycmp(k.data, k.len, last.data,
		    last.len) <= 0)) {
			/* Lost its place, or at the end: jump past last. */
			if (!tkrzw_dbm_iter_jump_upper(it, (char *)last.data,
			    last.len, false))
				goto rerr;
			fa.found = 0;
			if (!tkrzw_dbm_iter_process(it, fetch_proc, &fa,
			    false) && tkrzw_get_last_status_code() !=
			    TKRZW_STATUS_NOT_FOUND_ERROR)
				goto rerr;
		}
		if (!fa.found)
			break;
		if (!tkrzw_dbm_set(to, (char *)k.data, k.len,
		    (char *)v.data, v.len, true)) {
			log_setreason("cannot write '%s%s': %s", kv->path,
			    KV_REBUILD_SUFFIX, tk_msg());
			goto out;
		}
		t = last;
		last = k;
		k = t;
		fa.key = &k;
		have = 1;
		tkrzw_dbm_iter_next(it);
	}
	rc = 0;
	goto out;
rerr:
	log_setreason("cannot read '%s': %s", kv->path, tk_msg());
out:
	tkrzw_dbm_iter_free(it);
	buf_free(&k);
	buf_free(&v);
	buf_free(&last);
	return rc;
}

static int
replay(struct kv *kv, TkrzwDBM *to, struct kv_batch *b)
{
	struct buf scratch = BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < b->nops && rc == 0; i++)
		rc = apply_op(kv, to, 0, &scratch, b, &b->ops[i]);
	buf_free(&scratch);
	if (rc == -1)
		log_setreason("cannot write '%s%s': %s", kv->path,
		    KV_REBUILD_SUFFIX, tk_msg());
	return rc;
}

static void
sync_dir(const char *path)
{
	char *dir, *slash;
	int fd;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fsync(fd) == -1)
		fatal("cannot sync directory '%s'", slash ? dir : ".");
	close(fd);
	free(dir);
}

/*
 * Rebuild: copy into a fresh file beside the live one while readers and
 * the writer go on, catch up on the batches committed meanwhile, then,
 * holding writers off only for the last few, make the new file a synced
 * checkpoint and rename it over the old.  A crash before the rename
 * leaves the old file (and a stray .rebuild that kv_open removes); after
 * it, the new file is a complete checkpoint.  No tkrzw rebuild is used:
 * killed during TreeDBM::Rebuild, the file was left unopenable ("bad
 * magic data"; kv_crash found it).
 */
int
kv_rebuild(struct kv *kv)
{
	TkrzwDBM *ndbm;
	struct kv_db *old;
	struct kv_batch *redo;
	char *tmp;
	uint8_t v[8];
	int64_t id;
	int rounds;

	pthread_mutex_lock(&kv->rebuild_mu);
	xasprintf(&tmp, "%s%s", kv->path, KV_REBUILD_SUFFIX);
	unlink(tmp);
	if ((ndbm = open_dbm(kv, tmp, NULL)) == NULL)
		goto fail;
	pthread_mutex_lock(&kv->wmu);
	if (check_failed(kv) == -1) {
		pthread_mutex_unlock(&kv->wmu);
		goto drop;
	}
	kv->redo = kv_batch_new();
	pthread_mutex_unlock(&kv->wmu);
	/* Only a rebuild replaces kv->db, and we are the rebuild. */
	if (copy_all(kv, kv->db->dbm, ndbm) == -1)
		goto stop;
	for (rounds = 0;; rounds++) {
		/*
		 * The copy's pages reach the disk before writers are held
		 * off: the sync under the lock below then writes only what
		 * the last replay touched (a whole-file sync there stalled
		 * every write for seconds).
		 */
		if (!tkrzw_dbm_synchronize(ndbm, true, NULL, NULL, "")) {
			log_setreason("cannot write '%s': %s", tmp, tk_msg());
			goto stop;
		}
		pthread_mutex_lock(&kv->wmu);
		redo = kv->redo;
		if (kv_batch_count(redo) < 1024 || rounds == 8)
			break;		/* keeping wmu */
		kv->redo = kv_batch_new();
		pthread_mutex_unlock(&kv->wmu);
		if (replay(kv, ndbm, redo) == -1) {
			kv_batch_free(redo);
			goto stop;
		}
		kv_batch_free(redo);
	}
	kv->redo = NULL;
	if (replay(kv, ndbm, redo) == -1 || check_failed(kv) == -1) {
		kv_batch_free(redo);
		pthread_mutex_unlock(&kv->wmu);
		goto drop;
	}
	kv_batch_free(redo);
	id = kv->ckpt_id + 1;
	codec_put_u64be(v, (uint64_t)id);
	if (!tkrzw_dbm_set(ndbm, ckpt_key, sizeof(ckpt_key) - 1, (char *)v,
	    sizeof(v), true) || !tkrzw_dbm_synchronize(ndbm, true, NULL, NULL,
	    "")) {
		/* The new file is dropped whole: nothing depends on it. */
		log_setreason("cannot write '%s': %s", tmp, tk_msg());
		pthread_mutex_unlock(&kv->wmu);
		goto drop;
	}
	if (rename(tmp, kv->path) == -1) {
		log_setreason("cannot rename '%s': %s", tmp, strerror(errno));
		pthread_mutex_unlock(&kv->wmu);
		goto drop;
	}
	sync_dir(kv->path);
	pthread_rwlock_wrlock(&kv->swap);
	old = kv->db;
	kv->db = db_new(ndbm);
	pthread_rwlock_unlock(&kv->swap);
	kv->ckpt_id = id;
	kv->base_size = tkrzw_dbm_get_file_size(ndbm);
	pthread_mutex_unlock(&kv->wmu);
	/* Closing writes into the old, now unlinked, file: harmless. */
	db_unref(kv, old);
	free(tmp);
	pthread_mutex_unlock(&kv->rebuild_mu);
	return 0;
stop:
	pthread_mutex_lock(&kv->wmu);
	kv_batch_free(kv->redo);
	kv->redo = NULL;
	pthread_mutex_unlock(&kv->wmu);
drop:
	tkrzw_dbm_close(ndbm);
	unlink(tmp);
fail:
	free(tmp);
	pthread_mutex_unlock(&kv->rebuild_mu);
	return -1;
}
