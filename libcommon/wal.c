#include <sys/types.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <bsd/sys/tree.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"
#include "crc32c.h"
#include "log.h"
#include "wal.h"
#include "xmalloc.h"

/*
 * Segment header (32 bytes): magic, segment number, sequence number of
 * its first batch, version, crc32c of the 28 bytes before it.
 *
 * Batch header (24 bytes): crc32c of bytes 4..23, magic, sequence number
 * (one more than the batch before, across segments), payload length,
 * crc32c of the payload.  The payload is records.
 *
 * Record: crc32c of the rest, body length, type, then the body: varint
 * group and varints by type; an entry ends with its data.
 */
#define WAL_SEG_HDR	32
#define WAL_BATCH_HDR	24
#define WAL_REC_HDR	9
#define WAL_SEG_MAGIC	"TIKVWAL1"
#define WAL_BATCH_MAGIC	0x57414c42u	/* "WALB" */
#define WAL_VERSION	1
#define WAL_MAX_BATCH	0xf0000000u
#define WAL_ZERO_AHEAD	(1u << 20)	/* WAL_PREALLOC_ZERO */

enum {
	REC_ENTRY = 1,
	REC_HARDSTATE,
	REC_COMPACT,
	REC_SNAPSHOT,
	REC_REMOVE
};

/* Where one entry of a group's log is. */
struct wal_ent {
	uint64_t term;
	uint64_t seg;
	uint64_t off;		/* of the record in the segment */
	uint32_t reclen;
	uint32_t datalen;	/* the data ends the record */
	uint32_t type;
};

struct wal_group {
	RB_ENTRY(wal_group) node;
	uint64_t id;
	struct wal_hardstate hs;
	int has_hs;
	uint64_t hs_seg;	/* segments holding the current records */
	uint64_t snap_seg;
	uint64_t snap_index;
	uint64_t snap_term;
	/* Entries snap_index + 1 .. snap_index + n at ents[start..]. */
	struct wal_ent *ents;
	size_t start;
	size_t n;
	size_t cap;
};

struct wal_seg {
	uint64_t num;
	int fd;
	char *path;
	uint64_t end;		/* end of the batches written */
	uint64_t zend;		/* end of the zeroes written ahead */
	uint64_t refs;		/* live entries and current records */
};

/* A batch written recently, kept to serve reads. */
struct wal_cached {
	uint64_t seg;
	uint64_t off;
	uint8_t *data;
	size_t len;
};

RB_HEAD(wal_tree, wal_group);

struct wal {
	pthread_mutex_t mu;
	char *dir;
	int dirfd;
	int lockfd;
	uint64_t segsize;
	uint64_t cachesize;
	int prealloc;
	struct wal_tree groups;
	uint64_t ngroups;
	struct wal_seg *segs;	/* numbered segs[0].num, +1, ... */
	size_t nsegs;
	uint64_t seq;		/* of the next batch */
	struct buf stage;	/* batch header room, then staged records */
	struct wal_cached *cache;	/* a ring, oldest at chead */
	size_t chead;
	size_t cn;
	size_t ccap;
	uint64_t cbytes;
	struct wal_stats st;
};

static int (*wal_hookfn)(void *, enum wal_io, const char *, size_t *);
static void *wal_hookarg;

static int
wal_group_cmp(struct wal_group *a, struct wal_group *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

/* libbsd's RB_GENERATE_STATIC wants a __unused it does not define. */
RB_GENERATE_INTERNAL(wal_tree, wal_group, node, wal_group_cmp,
    __attribute__((unused)) static)

void
wal_set_faulthook(int (*fn)(void *, enum wal_io, const char *, size_t *),
    void *arg)
{
	wal_hookfn = fn;
	wal_hookarg = arg;
}

/* I/O: every write and sync goes through here (and the hook). */

static int
wal_pwrite(const char *path, int fd, const void *p, size_t len, uint64_t off)
{
	const uint8_t *b = p;
	size_t n = len, done = 0;
	ssize_t r;
	int fault = 0;

	if (wal_hookfn != NULL) {
		fault = wal_hookfn(wal_hookarg, WAL_IO_WRITE, path, &n);
		if (n > len)
			n = len;
	}
	while (done < n) {
		r = pwrite(fd, b + done, n - done, off + done);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			log_setreason("cannot write '%s': %s", path,
			    strerror(errno));
			return -1;
		}
		done += r;
	}
	if (fault != 0) {
		log_setreason("cannot write '%s': %s", path, strerror(fault));
		errno = fault;
		return -1;
	}
	return 0;
}

/* After a failed fsync the page cache cannot be trusted: never go on. */
static void
wal_fsync(const char *path, int fd, int isdir)
{
	int fault = 0;

	if (wal_hookfn != NULL)
		fault = wal_hookfn(wal_hookarg, WAL_IO_SYNC, path, NULL);
	if (fault != 0) {
		errno = fault;
		fatal("cannot sync '%s'", path);
	}
	if ((isdir ? fsync(fd) : fdatasync(fd)) == -1)
		fatal("cannot sync '%s'", path);
}

static void
wal_syncdir(struct wal *w)
{
	wal_fsync(w->dir, w->dirfd, 1);
}

/* Segments and their reference counts. */

static struct wal_seg *
wal_seg(struct wal *w, uint64_t num)
{
	return &w->segs[num - w->segs[0].num];
}

static struct wal_seg *
wal_cur(struct wal *w)
{
	return &w->segs[w->nsegs - 1];
}

static void
wal_ref(struct wal *w, uint64_t num)
{
	if (num != 0)
		wal_seg(w, num)->refs++;
}

static void
wal_unref(struct wal *w, uint64_t num)
{
	if (num != 0)
		wal_seg(w, num)->refs--;
}

static char *
wal_segpath(struct wal *w, uint64_t num, const char *suffix)
{
	char *p;

	xasprintf(&p, "%s/%016" PRIx64 ".wal%s", w->dir, num, suffix);
	return p;
}

static void
wal_put_seghdr(uint8_t *h, uint64_t num, uint64_t firstseq)
{
	memcpy(h, WAL_SEG_MAGIC, 8);
	codec_put_u64be(h + 8, num);
	codec_put_u64be(h + 16, firstseq);
	codec_put_u32be(h + 24, WAL_VERSION);
	codec_put_u32be(h + 28, crc32c(0, h, 28));
}

/*
 * Makes segment num under a temporary name (allocated, header synced)
 * and renames it into place, so a segment file always has its header.
 */
static int
wal_seg_create(struct wal *w, uint64_t num)
{
	uint8_t h[WAL_SEG_HDR];
	char *path, *tmp;
	int fd, fault = 0, e;

	path = wal_segpath(w, num, "");
	tmp = wal_segpath(w, num, ".tmp");
	if (wal_hookfn != NULL)
		fault = wal_hookfn(wal_hookarg, WAL_IO_CREATE, path, NULL);
	if (fault != 0) {
		log_setreason("cannot create '%s': %s", tmp, strerror(fault));
		goto fail;
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_setreason("cannot create '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	/* fallocate, not posix_fallocate: never write the zeroes ourselves. */
	if (w->prealloc == WAL_PREALLOC_FALLOCATE &&
	    fallocate(fd, 0, 0, w->segsize) == -1) {
		e = errno;
		if (e != EOPNOTSUPP && e != ENOSYS) {
			log_setreason("cannot allocate %" PRIu64
			    " bytes for '%s': %s", w->segsize, tmp,
			    strerror(e));
			goto failfd;
		}
		w->prealloc = WAL_PREALLOC_NONE;
	}
	wal_put_seghdr(h, num, w->seq);
	if (wal_pwrite(tmp, fd, h, sizeof(h), 0) == -1)
		goto failfd;
	wal_fsync(tmp, fd, 0);
	if (rename(tmp, path) == -1) {
		log_setreason("cannot rename '%s': %s", tmp, strerror(errno));
		goto failfd;
	}
	wal_syncdir(w);
	free(tmp);
	w->segs = xreallocarray(w->segs, w->nsegs + 1, sizeof(*w->segs));
	w->segs[w->nsegs].num = num;
	w->segs[w->nsegs].fd = fd;
	w->segs[w->nsegs].path = path;
	w->segs[w->nsegs].end = WAL_SEG_HDR;
	w->segs[w->nsegs].zend = WAL_SEG_HDR;
	w->segs[w->nsegs].refs = 0;
	w->nsegs++;
	return 0;

failfd:
	close(fd);
	unlink(tmp);
fail:
	free(tmp);
	free(path);
	return -1;
}

/* The cache of recent batches: a ring in write order. */

static void
wal_cache_evict(struct wal *w)
{
	struct wal_cached *c = &w->cache[w->chead];

	w->cbytes -= c->len;
	free(c->data);
	w->chead = (w->chead + 1) % w->ccap;
	w->cn--;
}

static void
wal_cache_add(struct wal *w, uint64_t seg, uint64_t off, uint8_t *data,
    size_t len)
{
	struct wal_cached *nc;
	size_t i;

	if (len > w->cachesize) {
		free(data);
		return;
	}
	while (w->cn > 0 && w->cbytes + len > w->cachesize)
		wal_cache_evict(w);
	if (w->cn == w->ccap) {
		nc = xreallocarray(NULL, w->ccap ? w->ccap * 2 : 64,
		    sizeof(*nc));
		for (i = 0; i < w->cn; i++)
			nc[i] = w->cache[(w->chead + i) % w->ccap];
		free(w->cache);
		w->cache = nc;
		w->chead = 0;
		w->ccap = w->ccap ? w->ccap * 2 : 64;
	}
	nc = &w->cache[(w->chead + w->cn) % w->ccap];
	nc->seg = seg;
	nc->off = off;
	nc->data = data;
	nc->len = len;
	w->cn++;
	w->cbytes += len;
}

static const uint8_t *
wal_cache_find(struct wal *w, uint64_t seg, uint64_t off, size_t len)
{
	struct wal_cached *c;
	size_t lo = 0, hi = w->cn, mid;

	/* The last batch starting at or before (seg, off). */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = &w->cache[(w->chead + mid) % w->ccap];
		if (c->seg < seg || (c->seg == seg && c->off <= off))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	c = &w->cache[(w->chead + lo - 1) % w->ccap];
	if (c->seg != seg || off + len > c->off + c->len)
		return NULL;
	return c->data + (off - c->off);
}

/* Groups. */

static struct wal_group *
wal_group_find(struct wal *w, uint64_t id)
{
	struct wal_group key;

	key.id = id;
	return RB_FIND(wal_tree, &w->groups, &key);
}

static struct wal_group *
wal_group_get(struct wal *w, uint64_t id)
{
	struct wal_group *g;

	if ((g = wal_group_find(w, id)) != NULL)
		return g;
	g = xcalloc(1, sizeof(*g));
	g->id = id;
	RB_INSERT(wal_tree, &w->groups, g);
	w->ngroups++;
	return g;
}

static uint64_t
wal_group_last(const struct wal_group *g)
{
	return g->snap_index + g->n;
}

/* Drops the entries from position k (0 = the first) on. */
static void
wal_group_cut(struct wal *w, struct wal_group *g, size_t k)
{
	size_t i;

	for (i = k; i < g->n; i++)
		wal_unref(w, g->ents[g->start + i].seg);
	g->n = k;
	if (g->n == 0)
		g->start = 0;
}

/* Drops the entries up to index and makes it the compaction point. */
static void
wal_group_drop(struct wal *w, struct wal_group *g, uint64_t index,
    uint64_t term)
{
	uint64_t k = index - g->snap_index;
	size_t i;

	if (index >= wal_group_last(g)) {
		wal_group_cut(w, g, 0);
	} else {
		for (i = 0; i < k; i++)
			wal_unref(w, g->ents[g->start + i].seg);
		g->start += k;
		g->n -= k;
	}
	g->snap_index = index;
	g->snap_term = term;
}

static void
wal_group_push(struct wal *w, struct wal_group *g, const struct wal_ent *e)
{
	if (g->start + g->n == g->cap) {
		if (g->start > 0 && g->start >= g->cap / 2) {
			memmove(g->ents, g->ents + g->start,
			    g->n * sizeof(*g->ents));
			g->start = 0;
		} else {
			g->cap = g->cap ? g->cap * 2 : 16;
			g->ents = xreallocarray(g->ents, g->cap,
			    sizeof(*g->ents));
		}
	}
	g->ents[g->start + g->n++] = *e;
	wal_ref(w, e->seg);
}

static void
wal_group_free(struct wal *w, struct wal_group *g)
{
	wal_group_cut(w, g, 0);
	wal_unref(w, g->hs_seg);
	wal_unref(w, g->snap_seg);
	RB_REMOVE(wal_tree, &w->groups, g);
	w->ngroups--;
	free(g->ents);
	free(g);
}

/*
 * Applying records, for new ones and in replay alike.  Replay may meet an
 * entry that does not extend the log when the segments with the log's
 * start are gone (every entry in them was dead when they were deleted):
 * the log then restarts at that entry, and the records that killed the
 * old ones, which follow, make the state whole again.
 */
static void
wal_apply_entry(struct wal *w, struct wal_group *g, uint64_t index,
    const struct wal_ent *e)
{
	if (index <= g->snap_index || index > wal_group_last(g) + 1) {
		wal_group_cut(w, g, 0);
		if (index - 1 != g->snap_index)
			g->snap_term = 0;
		g->snap_index = index - 1;
	} else {
		wal_group_cut(w, g, index - g->snap_index - 1);
	}
	wal_group_push(w, g, e);
}

static void
wal_apply_hardstate(struct wal *w, struct wal_group *g,
    const struct wal_hardstate *hs, uint64_t seg)
{
	wal_unref(w, g->hs_seg);
	g->hs = *hs;
	g->has_hs = 1;
	g->hs_seg = seg;
	wal_ref(w, seg);
}

static void
wal_apply_point(struct wal *w, struct wal_group *g, int type, uint64_t index,
    uint64_t term, uint64_t seg)
{
	if (type == REC_SNAPSHOT) {
		wal_group_cut(w, g, 0);
		g->snap_index = index;
		g->snap_term = term;
	} else if (index < g->snap_index) {
		return;
	} else if (index == g->snap_index) {
		g->snap_term = term;
	} else {
		wal_group_drop(w, g, index, term);
	}
	wal_unref(w, g->snap_seg);
	g->snap_seg = seg;
	wal_ref(w, seg);
}

/* Staging records into the next batch. */

static int
wal_stage_room(struct wal *w, size_t len)
{
	if (w->stage.len + len > WAL_MAX_BATCH) {
		log_setreason("wal: %zu bytes staged, sync before adding more",
		    w->stage.len);
		return -1;
	}
	return 0;
}

/* Adds a record; returns its offset in the segment. */
static uint64_t
wal_stage(struct wal *w, int type, uint64_t group, const uint64_t *v,
    int nv, const void *data, size_t len, uint32_t *reclen)
{
	size_t at = w->stage.len, blen;
	uint8_t *p;
	int i;

	blen = codec_varint_len(group) + len;
	for (i = 0; i < nv; i++)
		blen += codec_varint_len(v[i]);
	buf_grow(&w->stage, WAL_REC_HDR + blen);
	p = w->stage.data + at;
	codec_put_u32be(p + 4, blen);
	p[8] = type;
	p += WAL_REC_HDR;
	p += codec_put_varint(p, group);
	for (i = 0; i < nv; i++)
		p += codec_put_varint(p, v[i]);
	if (len > 0)
		memcpy(p, data, len);
	p = w->stage.data + at;
	codec_put_u32be(p, crc32c(0, p + 4, 5 + blen));
	w->stage.len = at + WAL_REC_HDR + blen;
	if (reclen != NULL)
		*reclen = WAL_REC_HDR + blen;
	return wal_cur(w)->end + at;
}

static void
wal_stage_hardstate(struct wal *w, struct wal_group *g,
    const struct wal_hardstate *hs)
{
	uint64_t v[3] = { hs->term, hs->vote, hs->commit };

	wal_stage(w, REC_HARDSTATE, g->id, v, 3, NULL, 0, NULL);
	wal_apply_hardstate(w, g, hs, wal_cur(w)->num);
}

static void
wal_stage_point(struct wal *w, struct wal_group *g, int type, uint64_t index,
    uint64_t term)
{
	uint64_t v[2] = { index, term };

	wal_stage(w, type, g->id, v, 2, NULL, 0, NULL);
	wal_apply_point(w, g, type, index, term, wal_cur(w)->num);
}

static int
wal_staged(struct wal *w)
{
	return w->stage.len > WAL_BATCH_HDR;
}

static void
wal_stage_reset(struct wal *w)
{
	buf_reset(&w->stage);
	buf_grow(&w->stage, WAL_BATCH_HDR);
	memset(w->stage.data, 0, WAL_BATCH_HDR);
	w->stage.len = WAL_BATCH_HDR;
}

/* Deleting segments nothing needs, oldest first; after a sync only. */
static void
wal_purge(struct wal *w)
{
	struct wal_seg *s;

	while (w->nsegs > 1 && w->segs[0].refs == 0) {
		s = &w->segs[0];
		if (unlink(s->path) == -1) {
			log_warn("cannot remove '%s'", s->path);
			return;
		}
		wal_syncdir(w);
		while (w->cn > 0 && w->cache[w->chead].seg <= s->num)
			wal_cache_evict(w);
		close(s->fd);
		free(s->path);
		memmove(w->segs, w->segs + 1, --w->nsegs * sizeof(*w->segs));
	}
}

/*
 * Starts the next segment and stages the state of every group into it,
 * so that only entries keep the older segments alive.
 */
static void
wal_rotate(struct wal *w)
{
	struct wal_group *g;
	uint64_t num = wal_cur(w)->num;

	if (wal_seg_create(w, num + 1) == -1) {
		log_warnx("%s; going on in '%s'", log_reason(),
		    wal_cur(w)->path);
		return;
	}
	RB_FOREACH(g, wal_tree, &w->groups) {
		if (g->has_hs && g->hs_seg != num + 1)
			wal_stage_hardstate(w, g, &g->hs);
		if (g->snap_seg != 0 && g->snap_seg != num + 1)
			wal_stage_point(w, g, REC_COMPACT, g->snap_index,
			    g->snap_term);
	}
}

/*
 * Keeps zeroes written (and synced with this batch) up to WAL_ZERO_AHEAD
 * past the batch ending at end, so later batches overwrite allocated
 * blocks.  A failure only costs speed.
 */
static void
wal_zero_ahead(struct wal *w, struct wal_seg *s, uint64_t end)
{
	static const uint8_t zero[64 << 10];
	uint64_t at, to;
	size_t n;

	if (s->zend > end + WAL_ZERO_AHEAD / 2)
		return;
	at = s->zend > end ? s->zend : end;
	to = end + WAL_ZERO_AHEAD;
	if (to > w->segsize)
		to = w->segsize;
	for (; at < to; at += n) {
		n = to - at < sizeof(zero) ? to - at : sizeof(zero);
		if (wal_pwrite(s->path, s->fd, zero, n, at) == -1)
			break;
	}
	s->zend = at;
}

static int
wal_sync_locked(struct wal *w)
{
	struct wal_seg *s = wal_cur(w);
	uint8_t *h = w->stage.data;
	uint32_t plen;
	uint64_t off;
	size_t len;

	if (!wal_staged(w))
		return 0;
	plen = w->stage.len - WAL_BATCH_HDR;
	codec_put_u32be(h + 4, WAL_BATCH_MAGIC);
	codec_put_u64be(h + 8, w->seq);
	codec_put_u32be(h + 16, plen);
	codec_put_u32be(h + 20, crc32c(0, h + WAL_BATCH_HDR, plen));
	codec_put_u32be(h, crc32c(0, h + 4, WAL_BATCH_HDR - 4));
	if (wal_pwrite(s->path, s->fd, h, w->stage.len, s->end) == -1)
		return -1;
	if (w->prealloc == WAL_PREALLOC_ZERO)
		wal_zero_ahead(w, s, s->end + w->stage.len);
	wal_fsync(s->path, s->fd, 0);
	off = s->end;
	s->end += w->stage.len;
	w->seq++;
	w->st.syncs++;
	w->st.bytes_written += w->stage.len;
	if (w->cachesize > 0) {
		h = buf_detach(&w->stage, &len);
		wal_cache_add(w, s->num, off, h, len);
	}
	wal_stage_reset(w);
	wal_purge(w);
	if (wal_cur(w)->end >= w->segsize)
		wal_rotate(w);
	return 0;
}

/* Recovery. */

static int
wal_iszero(const uint8_t *p, size_t n)
{
	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		if (*p++ != 0)
			return 0;
		n--;
	}
	for (; n >= 8; p += 8, n -= 8)
		if (*(const uint64_t *)(const void *)p != 0)
			return 0;
	while (n-- > 0)
		if (*p++ != 0)
			return 0;
	return 1;
}

/* Checks the batch header at p; NULL if good, else what is wrong. */
static const char *
wal_batch_check(const uint8_t *p, size_t avail, uint64_t seq, int exact,
    uint32_t *plen)
{
	uint64_t s;

	if (avail < WAL_BATCH_HDR)
		return "batch header cut short";
	if (codec_get_u32be(p) != crc32c(0, p + 4, WAL_BATCH_HDR - 4))
		return "batch header checksum mismatch";
	if (codec_get_u32be(p + 4) != WAL_BATCH_MAGIC)
		return "bad batch magic";
	s = codec_get_u64be(p + 8);
	if (exact ? s != seq : s < seq)
		return "batch out of sequence";
	*plen = codec_get_u32be(p + 16);
	if (*plen > avail - WAL_BATCH_HDR)
		return "batch runs past the end of the file";
	if (codec_get_u32be(p + 20) != crc32c(0, p + WAL_BATCH_HDR, *plen))
		return "batch checksum mismatch";
	return NULL;
}

/* The offset of the first good batch at or after from, or size. */
static size_t
wal_find_batch(const uint8_t *p, size_t size, size_t from, uint64_t seq)
{
	uint8_t magic[4];
	const uint8_t *m;
	uint32_t plen;
	size_t at = from + 4;

	codec_put_u32be(magic, WAL_BATCH_MAGIC);
	while (at + 4 <= size &&
	    (m = memmem(p + at, size - at, magic, 4)) != NULL) {
		at = m - p;
		if (wal_batch_check(p + at - 4, size - at + 4, seq, 0,
		    &plen) == NULL)
			return at - 4;
		at++;
	}
	return size;
}

/*
 * Looks at what follows pos: returns the offset of a good batch there (or
 * size), and in *dirty the end of the last non-zero byte (or pos).  Holes
 * and unwritten preallocated extents are skipped without reading them,
 * so a mostly empty 128 MiB segment costs little.
 */
static size_t
wal_tail(int fd, const uint8_t *p, size_t size, size_t pos, uint64_t seq,
    size_t *dirty)
{
	off_t d, h;
	size_t at = pos, q, e;

	*dirty = pos;
	while (at < size) {
		d = lseek(fd, at, SEEK_DATA);
		if (d == -1 && errno == ENXIO)
			break;
		if (d == -1) {
			d = at;
			h = size;
		} else {
			if ((size_t)d >= size)
				break;
			h = lseek(fd, d, SEEK_HOLE);
			if (h == -1 || (size_t)h > size)
				h = size;
		}
		if ((size_t)d < at)
			d = at;
		if ((q = wal_find_batch(p, h, d, seq)) < (size_t)h)
			return q;
		for (e = h; e > (size_t)d && p[e - 1] == 0; e--)
			;
		if (e > (size_t)d)
			*dirty = e;
		at = h;
	}
	return size;
}

/* Replays the records of one good batch; NULL or what is wrong. */
static const char *
wal_replay_batch(struct wal *w, struct wal_seg *s, const uint8_t *p,
    size_t len, uint64_t off, uint64_t *badoff)
{
	const uint8_t *q = p, *end = p + len, *b, *be;
	struct wal_hardstate hs;
	struct wal_group *g;
	struct wal_ent e;
	uint64_t gid, v[3];
	uint32_t blen;
	int type, nv, i;

	while (q < end) {
		*badoff = off + (q - p);
		if (end - q < WAL_REC_HDR)
			return "record cut short";
		blen = codec_get_u32be(q + 4);
		type = q[8];
		if (blen > (size_t)(end - q) - WAL_REC_HDR)
			return "record runs past its batch";
		if (codec_get_u32be(q) != crc32c(0, q + 4, 5 + blen))
			return "record checksum mismatch";
		b = q + WAL_REC_HDR;
		be = b + blen;
		if (codec_read_varint(&b, be, &gid) == -1)
			return "bad record";
		switch (type) {
		case REC_ENTRY:
			nv = 3;
			break;
		case REC_HARDSTATE:
			nv = 3;
			break;
		case REC_COMPACT:
		case REC_SNAPSHOT:
			nv = 2;
			break;
		case REC_REMOVE:
			nv = 0;
			break;
		default:
			return "unknown record type";
		}
		for (i = 0; i < nv; i++)
			if (codec_read_varint(&b, be, &v[i]) == -1)
				return "bad record";
		if (type != REC_ENTRY && b != be)
			return "bad record";
		switch (type) {
		case REC_ENTRY:
			if (v[0] == 0 || v[2] > UINT32_MAX)
				return "bad entry";
			e.term = v[1];
			e.seg = s->num;
			e.off = off + (q - p);
			e.reclen = WAL_REC_HDR + blen;
			e.datalen = be - b;
			e.type = v[2];
			wal_apply_entry(w, wal_group_get(w, gid), v[0], &e);
			break;
		case REC_HARDSTATE:
			hs.term = v[0];
			hs.vote = v[1];
			hs.commit = v[2];
			wal_apply_hardstate(w, wal_group_get(w, gid), &hs,
			    s->num);
			break;
		case REC_COMPACT:
		case REC_SNAPSHOT:
			wal_apply_point(w, wal_group_get(w, gid), type, v[0],
			    v[1], s->num);
			break;
		case REC_REMOVE:
			if ((g = wal_group_find(w, gid)) != NULL)
				wal_group_free(w, g);
			break;
		}
		q = be;
	}
	return NULL;
}

/*
 * Replays one segment.  Damage is a torn tail (cut it: *cut set) only in
 * the last segment and only when no good batch follows it; anything else
 * fails with the file and offset.
 */
static int
wal_replay_seg(struct wal *w, struct wal_seg *s, int first, int last,
    uint64_t *cut)
{
	struct stat sb;
	const uint8_t *p;
	const char *why;
	uint64_t pos, num, fseq, badoff;
	uint32_t plen;
	size_t size, skip = 0, q, dirty = 0;
	void *map;
	int r = -1;

	*cut = UINT64_MAX;
	if (fstat(s->fd, &sb) == -1) {
		log_setreason("cannot stat '%s': %s", s->path,
		    strerror(errno));
		return -1;
	}
	size = sb.st_size;
	if (size < WAL_SEG_HDR) {
		log_setreason("'%s' is too short for a segment header",
		    s->path);
		return -1;
	}
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, s->fd, 0);
	if (map == MAP_FAILED) {
		log_setreason("cannot map '%s': %s", s->path, strerror(errno));
		return -1;
	}
	p = map;
	num = codec_get_u64be(p + 8);
	fseq = codec_get_u64be(p + 16);
	if (memcmp(p, WAL_SEG_MAGIC, 8) != 0 ||
	    codec_get_u32be(p + 28) != crc32c(0, p, 28) ||
	    codec_get_u32be(p + 24) != WAL_VERSION || num != s->num) {
		log_setreason("bad segment header in '%s'", s->path);
		goto out;
	}
	if (first)
		w->seq = fseq;
	else if (fseq != w->seq) {
		log_setreason("'%s' starts at batch %" PRIu64 ", expected %"
		    PRIu64 " (a segment is missing or damaged)", s->path,
		    fseq, w->seq);
		goto out;
	}
	pos = WAL_SEG_HDR;
	while (pos < size) {
		if (wal_iszero(p + pos, size - pos < WAL_BATCH_HDR ?
		    size - pos : WAL_BATCH_HDR)) {
			/* The end: zeroes from preallocation, normally. */
			q = wal_tail(s->fd, p, size, pos, w->seq, &dirty);
			if (q < size) {
				log_setreason("corrupt batch in '%s' at offset "
				    "%" PRIu64 ": zeroed, and a good batch "
				    "follows at offset %zu", s->path, pos, q);
				goto out;
			}
			if (dirty > pos) {
				if (!last) {
					log_setreason("garbage in '%s' after "
					    "offset %" PRIu64, s->path, pos);
					goto out;
				}
				*cut = pos;
			}
			break;
		}
		why = wal_batch_check(p + pos, size - pos, w->seq, 1, &plen);
		if (why != NULL) {
			if (!last) {
				log_setreason("corrupt batch in '%s' at offset "
				    "%" PRIu64 ": %s", s->path, pos, why);
				goto out;
			}
			/* A torn write leaves nothing good after it. */
			skip = pos + 1;
			if (size - pos >= WAL_BATCH_HDR &&
			    codec_get_u32be(p + pos) ==
			    crc32c(0, p + pos + 4, WAL_BATCH_HDR - 4)) {
				/* Its own bytes are not evidence. */
				skip = pos + WAL_BATCH_HDR +
				    codec_get_u32be(p + pos + 16);
				if (skip > size)
					skip = size;
			}
			q = wal_tail(s->fd, p, size, skip, w->seq, &dirty);
			if (q < size) {
				log_setreason("corrupt batch in '%s' at offset "
				    "%" PRIu64 ": %s, and a good batch follows "
				    "at offset %zu", s->path, pos, why, q);
				goto out;
			}
			log_warnx("cutting a torn write off '%s' at offset %"
			    PRIu64 ": %s", s->path, pos, why);
			*cut = pos;
			break;
		}
		why = wal_replay_batch(w, s, p + pos + WAL_BATCH_HDR, plen,
		    pos + WAL_BATCH_HDR, &badoff);
		if (why != NULL) {
			log_setreason("corrupt record in '%s' at offset %"
			    PRIu64 ": %s", s->path, badoff, why);
			goto out;
		}
		w->seq++;
		pos += WAL_BATCH_HDR + plen;
	}
	s->end = pos;
	s->zend = size;
	if (*cut != UINT64_MAX)
		w->st.truncated_tail = (dirty > skip ? dirty : skip) - pos;
	r = 0;
out:
	munmap(map, size);
	return r;
}

/* Cuts the torn tail of the last segment and zeroes what follows. */
static int
wal_cut(struct wal *w, struct wal_seg *s)
{
	if (ftruncate(s->fd, s->end) == -1) {
		log_setreason("cannot truncate '%s': %s", s->path,
		    strerror(errno));
		return -1;
	}
	if (w->prealloc == WAL_PREALLOC_FALLOCATE && s->end < w->segsize)
		(void)fallocate(s->fd, 0, s->end, w->segsize - s->end);
	s->zend = s->end;
	wal_fsync(s->path, s->fd, 0);
	return 0;
}

static int
wal_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Lists the segment numbers in the directory and removes temporaries. */
static int
wal_scan(struct wal *w, uint64_t **nums, size_t *n)
{
	struct dirent *de;
	DIR *d;
	char *end;
	uint64_t v;
	size_t len, cap = 0;
	int fd, tmps = 0;

	*nums = NULL;
	*n = 0;
	if ((fd = dup(w->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_setreason("cannot read '%s': %s", w->dir, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 20 || strncmp(de->d_name + 16, ".wal", 4) != 0)
			continue;
		errno = 0;
		v = strtoull(de->d_name, &end, 16);
		if (end != de->d_name + 16 || errno != 0 || v == 0)
			continue;
		if (strcmp(de->d_name + 16, ".wal.tmp") == 0) {
			if (unlinkat(w->dirfd, de->d_name, 0) == -1) {
				log_setreason("cannot remove '%s/%s': %s",
				    w->dir, de->d_name, strerror(errno));
				closedir(d);
				return -1;
			}
			tmps++;
			continue;
		}
		if (len != 20)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*nums = xreallocarray(*nums, cap, sizeof(**nums));
		}
		(*nums)[(*n)++] = v;
	}
	closedir(d);
	if (tmps > 0)
		wal_syncdir(w);
	if (*n > 0)
		qsort(*nums, *n, sizeof(**nums), wal_cmp_u64);
	return 0;
}

static void
wal_free(struct wal *w)
{
	struct wal_group *g;
	size_t i;

	while ((g = RB_MIN(wal_tree, &w->groups)) != NULL)
		wal_group_free(w, g);
	for (i = 0; i < w->nsegs; i++) {
		close(w->segs[i].fd);
		free(w->segs[i].path);
	}
	free(w->segs);
	while (w->cn > 0)
		wal_cache_evict(w);
	free(w->cache);
	buf_free(&w->stage);
	if (w->lockfd != -1)
		close(w->lockfd);
	if (w->dirfd != -1)
		close(w->dirfd);
	pthread_mutex_destroy(&w->mu);
	free(w->dir);
	free(w);
}

static int
wal_mkdir(const char *dir)
{
	char *copy, *parent;
	int fd;

	if (mkdir(dir, 0755) == -1) {
		if (errno == EEXIST)
			return 0;
		log_setreason("cannot create '%s': %s", dir, strerror(errno));
		return -1;
	}
	/* The new directory's name must be durable too. */
	copy = xstrdup(dir);
	parent = dirname(copy);
	if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		wal_fsync(parent, fd, 1);
		close(fd);
	}
	free(copy);
	return 0;
}

struct wal *
wal_open(const char *dir, const struct wal_opts *opts)
{
	struct wal *w;
	struct wal_seg *s;
	uint64_t *nums = NULL, cut;
	size_t n, i;

	if (wal_mkdir(dir) == -1)
		return NULL;
	w = xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	RB_INIT(&w->groups);
	w->dir = xstrdup(dir);
	w->lockfd = -1;
	w->segsize = opts && opts->segment_size ? opts->segment_size :
	    WAL_SEGMENT_SIZE;
	w->cachesize = opts && opts->cache_size ? opts->cache_size :
	    WAL_CACHE_SIZE;
	w->prealloc = opts ? opts->prealloc : WAL_PREALLOC_FALLOCATE;
	w->seq = 1;
	wal_stage_reset(w);
	if ((w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_setreason("cannot open '%s': %s", dir, strerror(errno));
		goto fail;
	}
	w->lockfd = openat(w->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC,
	    0644);
	if (w->lockfd == -1) {
		log_setreason("cannot open '%s/LOCK': %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (flock(w->lockfd, LOCK_EX | LOCK_NB) == -1) {
		log_setreason("cannot lock '%s/LOCK': %s", dir,
		    errno == EWOULDBLOCK ? "in use by another process" :
		    strerror(errno));
		goto fail;
	}
	if (wal_scan(w, &nums, &n) == -1)
		goto fail;
	for (i = 1; i < n; i++) {
		if (nums[i] != nums[i - 1] + 1) {
			log_setreason("segment %016" PRIx64 ".wal is missing "
			    "in '%s'", nums[i - 1] + 1, dir);
			goto fail;
		}
	}
	if (n == 0) {
		if (wal_seg_create(w, 1) == -1)
			goto fail;
	}
	w->segs = n > 0 ? xcalloc(n, sizeof(*w->segs)) : w->segs;
	for (i = 0; i < n; i++) {
		s = &w->segs[i];
		s->num = nums[i];
		s->path = wal_segpath(w, nums[i], "");
		w->nsegs++;
		if ((s->fd = open(s->path, O_RDWR | O_CLOEXEC)) == -1) {
			log_setreason("cannot open '%s': %s", s->path,
			    strerror(errno));
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		if (wal_replay_seg(w, &w->segs[i], i == 0, i == n - 1,
		    &cut) == -1)
			goto fail;
	}
	if (n > 0 && cut != UINT64_MAX && wal_cut(w, wal_cur(w)) == -1)
		goto fail;
	free(nums);
	return w;

fail:
	free(nums);
	wal_free(w);
	return NULL;
}

int
wal_close(struct wal *w)
{
	int r;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->mu);
	r = wal_sync_locked(w);
	pthread_mutex_unlock(&w->mu);
	wal_free(w);
	return r;
}

int
wal_sync(struct wal *w)
{
	int r;

	pthread_mutex_lock(&w->mu);
	r = wal_sync_locked(w);
	pthread_mutex_unlock(&w->mu);
	return r;
}

int
wal_append_entries(struct wal *w, uint64_t group,
    const struct wal_entry *ents, size_t n)
{
	struct wal_group *g;
	struct wal_ent e;
	uint64_t snap = 0, last = 0, v[3], total = 0;
	size_t i;
	int r = -1;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&w->mu);
	if ((g = wal_group_find(w, group)) != NULL) {
		snap = g->snap_index;
		last = wal_group_last(g);
	}
	if (ents[0].index <= snap || ents[0].index > last + 1) {
		log_setreason("group %" PRIu64 ": entries at %" PRIu64
		    " do not follow the log (%" PRIu64 ", %" PRIu64 "]",
		    group, ents[0].index, snap, last);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (ents[i].index != ents[0].index + i) {
			log_setreason("group %" PRIu64 ": entry %" PRIu64
			    " out of order", group, ents[i].index);
			goto out;
		}
		if (ents[i].len > WAL_MAX_ENTRY) {
			log_setreason("group %" PRIu64 ": entry %" PRIu64
			    " has %zu bytes, more than %u", group,
			    ents[i].index, ents[i].len, WAL_MAX_ENTRY);
			goto out;
		}
		total += ents[i].len + 64;
	}
	if (wal_stage_room(w, total) == -1)
		goto out;
	g = wal_group_get(w, group);
	for (i = 0; i < n; i++) {
		v[0] = ents[i].index;
		v[1] = ents[i].term;
		v[2] = ents[i].type;
		e.off = wal_stage(w, REC_ENTRY, group, v, 3, ents[i].data,
		    ents[i].len, &e.reclen);
		e.term = ents[i].term;
		e.seg = wal_cur(w)->num;
		e.datalen = ents[i].len;
		e.type = ents[i].type;
		wal_apply_entry(w, g, ents[i].index, &e);
	}
	r = 0;
out:
	pthread_mutex_unlock(&w->mu);
	return r;
}

int
wal_set_hardstate(struct wal *w, uint64_t group,
    const struct wal_hardstate *hs)
{
	int r = -1;

	pthread_mutex_lock(&w->mu);
	if (wal_stage_room(w, 64) == 0) {
		wal_stage_hardstate(w, wal_group_get(w, group), hs);
		r = 0;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

int
wal_compact(struct wal *w, uint64_t group, uint64_t index)
{
	struct wal_group *g;
	uint64_t term;
	int r = -1;

	pthread_mutex_lock(&w->mu);
	g = wal_group_find(w, group);
	if (g == NULL || index <= g->snap_index) {
		r = 0;
		goto out;
	}
	if (index > wal_group_last(g)) {
		log_setreason("group %" PRIu64 ": cannot compact to %" PRIu64
		    ", past the last index %" PRIu64, group, index,
		    wal_group_last(g));
		goto out;
	}
	if (wal_stage_room(w, 64) == -1)
		goto out;
	term = g->ents[g->start + (index - g->snap_index - 1)].term;
	wal_stage_point(w, g, REC_COMPACT, index, term);
	r = 0;
out:
	pthread_mutex_unlock(&w->mu);
	return r;
}

int
wal_set_snapshot(struct wal *w, uint64_t group, uint64_t index,
    uint64_t term)
{
	int r = -1;

	pthread_mutex_lock(&w->mu);
	if (wal_stage_room(w, 64) == 0) {
		wal_stage_point(w, wal_group_get(w, group), REC_SNAPSHOT,
		    index, term);
		r = 0;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

int
wal_remove_group(struct wal *w, uint64_t group)
{
	struct wal_group *g;
	int r = 0;

	pthread_mutex_lock(&w->mu);
	if ((g = wal_group_find(w, group)) != NULL) {
		if (wal_stage_room(w, 64) == -1) {
			r = -1;
		} else {
			wal_stage(w, REC_REMOVE, group, NULL, 0, NULL, 0,
			    NULL);
			wal_group_free(w, g);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

uint64_t
wal_first_index(struct wal *w, uint64_t group)
{
	struct wal_group *g;
	uint64_t r;

	pthread_mutex_lock(&w->mu);
	g = wal_group_find(w, group);
	r = g ? g->snap_index + 1 : 1;
	pthread_mutex_unlock(&w->mu);
	return r;
}

uint64_t
wal_last_index(struct wal *w, uint64_t group)
{
	struct wal_group *g;
	uint64_t r;

	pthread_mutex_lock(&w->mu);
	g = wal_group_find(w, group);
	r = g ? wal_group_last(g) : 0;
	pthread_mutex_unlock(&w->mu);
	return r;
}

int
wal_term(struct wal *w, uint64_t group, uint64_t index, uint64_t *term)
{
	struct wal_group *g;
	int r = 0;

	pthread_mutex_lock(&w->mu);
	*term = 0;
	g = wal_group_find(w, group);
	if (g == NULL)
		r = index == 0 ? 0 : WAL_UNAVAILABLE;
	else if (index < g->snap_index)
		r = WAL_COMPACTED;
	else if (index == g->snap_index)
		*term = g->snap_term;
	else if (index > wal_group_last(g))
		r = WAL_UNAVAILABLE;
	else
		*term = g->ents[g->start + (index - g->snap_index - 1)].term;
	pthread_mutex_unlock(&w->mu);
	return r;
}

int
wal_hardstate(struct wal *w, uint64_t group, struct wal_hardstate *hs)
{
	struct wal_group *g;
	int r = 0;

	pthread_mutex_lock(&w->mu);
	memset(hs, 0, sizeof(*hs));
	if ((g = wal_group_find(w, group)) != NULL && g->has_hs) {
		*hs = g->hs;
		r = 1;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

void
wal_snapshot_point(struct wal *w, uint64_t group, uint64_t *index,
    uint64_t *term)
{
	struct wal_group *g;

	pthread_mutex_lock(&w->mu);
	g = wal_group_find(w, group);
	*index = g ? g->snap_index : 0;
	*term = g ? g->snap_term : 0;
	pthread_mutex_unlock(&w->mu);
}

/* The data of an entry: staged, cached, or read and checked from disk. */
static const uint8_t *
wal_ent_data(struct wal *w, uint64_t group, uint64_t index,
    const struct wal_ent *e, struct buf *tmp)
{
	struct wal_seg *s = wal_cur(w);
	const uint8_t *p, *b, *be;
	uint64_t v[4];
	ssize_t r;
	int i;

	if (e->seg == s->num && e->off >= s->end)
		return w->stage.data + (e->off - s->end) +
		    (e->reclen - e->datalen);
	if ((p = wal_cache_find(w, e->seg, e->off, e->reclen)) != NULL)
		return p + (e->reclen - e->datalen);
	s = wal_seg(w, e->seg);
	buf_reset(tmp);
	buf_grow(tmp, e->reclen);
	do {
		r = pread(s->fd, tmp->data, e->reclen, e->off);
	} while (r == -1 && errno == EINTR);
	if (r == -1) {
		log_setreason("cannot read '%s': %s", s->path,
		    strerror(errno));
		return NULL;
	}
	w->st.disk_reads++;
	p = tmp->data;
	b = p + WAL_REC_HDR;
	be = p + e->reclen;
	if ((size_t)r != e->reclen ||
	    codec_get_u32be(p + 4) != e->reclen - WAL_REC_HDR ||
	    p[8] != REC_ENTRY ||
	    codec_get_u32be(p) != crc32c(0, p + 4, e->reclen - 4))
		goto bad;
	for (i = 0; i < 4; i++)
		if (codec_read_varint(&b, be, &v[i]) == -1)
			goto bad;
	if (v[0] != group || v[1] != index || v[2] != e->term ||
	    v[3] != e->type || (size_t)(be - b) != e->datalen)
		goto bad;
	return b;
bad:
	log_setreason("corrupt record in '%s' at offset %" PRIu64
	    ": entry %" PRIu64 " of group %" PRIu64 " does not check out",
	    s->path, e->off, index, group);
	return NULL;
}

int
wal_entries(struct wal *w, uint64_t group, uint64_t lo, uint64_t hi,
    uint64_t max_bytes, int (*fn)(void *, const struct wal_entry *),
    void *arg)
{
	struct buf tmp = BUF_INIT;
	struct wal_group *g;
	struct wal_entry we;
	const struct wal_ent *e;
	uint64_t snap = 0, last = 0, total = 0, i;
	int count = 0;

	pthread_mutex_lock(&w->mu);
	if ((g = wal_group_find(w, group)) != NULL) {
		snap = g->snap_index;
		last = wal_group_last(g);
	}
	if (lo <= snap) {
		count = WAL_COMPACTED;
		goto out;
	}
	if (hi > last + 1 || lo > hi) {
		count = WAL_UNAVAILABLE;
		goto out;
	}
	for (i = lo; i < hi; i++) {
		e = &g->ents[g->start + (i - snap - 1)];
		if (count > 0 && total + e->datalen > max_bytes)
			break;
		we.index = i;
		we.term = e->term;
		we.type = e->type;
		we.len = e->datalen;
		if ((we.data = wal_ent_data(w, group, i, e, &tmp)) == NULL) {
			count = -1;
			break;
		}
		total += e->datalen;
		count++;
		if (fn(arg, &we) != 0)
			break;
	}
out:
	pthread_mutex_unlock(&w->mu);
	buf_free(&tmp);
	return count;
}

uint64_t *
wal_groups(struct wal *w, size_t *n)
{
	struct wal_group *g;
	uint64_t *ids;
	size_t i = 0;

	pthread_mutex_lock(&w->mu);
	ids = xreallocarray(NULL, w->ngroups + 1, sizeof(*ids));
	RB_FOREACH(g, wal_tree, &w->groups)
		ids[i++] = g->id;
	*n = i;
	pthread_mutex_unlock(&w->mu);
	return ids;
}

void
wal_stats(struct wal *w, struct wal_stats *st)
{
	pthread_mutex_lock(&w->mu);
	*st = w->st;
	st->first_segment = w->segs[0].num;
	st->last_segment = wal_cur(w)->num;
	st->synced_offset = wal_cur(w)->end;
	st->groups = w->ngroups;
	st->staged_bytes = w->stage.len - WAL_BATCH_HDR;
	pthread_mutex_unlock(&w->mu);
}
