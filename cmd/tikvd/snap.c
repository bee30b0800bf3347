/*
 * Region snapshots (snap.h).
 *
 * The bytes of a snapshot:
 *
 *	magic		8 bytes, "tikvsnap"
 *	version		1 byte, SNAP_VERSION
 *	region		varint length, region_encode()
 *	index, term	varints
 *	stream length	varint, bytes of the uncompressed stream
 *	payload length	varint, bytes of the zstd frame that follows
 *	digest		32 bytes, BLAKE2b-256 of everything before it and
 *			of the payload
 *	payload		one zstd frame holding the kv_snapshot_write()
 *			stream, with its content size
 *
 * The digest covers the header too, so a damaged region or index is
 * refused as surely as damaged data.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

#include "buf.h"
#include "codec.h"
#include "kv.h"
#include "log.h"
#include "region.h"
#include "snap.h"
#include "xmalloc.h"

#define SNAP_MAGIC	"tikvsnap"
#define SNAP_MAGIC_LEN	8
#define SNAP_VERSION	1
#define SNAP_DIGEST_LEN	crypto_generichash_BYTES	/* 32 */
#define SNAP_ZSTD_LEVEL	1
#define SNAP_SUFFIX	".snap"
#define SNAP_TMP_SUFFIX	".snap.tmp"

static void
snap_sodium_init(void)
{
	if (sodium_init() < 0)
		fatalx("cannot initialize libsodium");
}

static void
digest(const uint8_t *hdr, size_t hdrlen, const uint8_t *payload,
    size_t paylen, uint8_t out[SNAP_DIGEST_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, SNAP_DIGEST_LEN);
	crypto_generichash_update(&st, hdr, hdrlen);
	crypto_generichash_update(&st, payload, paylen);
	crypto_generichash_final(&st, out, SNAP_DIGEST_LEN);
}

int
snap_build(struct kv *kv, const struct region *r, uint64_t index,
    uint64_t term, struct buf *out)
{
	struct buf stream = BUF_INIT, meta = BUF_INIT, z = BUF_INIT;
	uint8_t d[SNAP_DIGEST_LEN];
	size_t bound, zlen, hdr;

	snap_sodium_init();
	if (kv_snapshot_write(kv, KV_CFMASK_DATA, r->start.data, r->start.len,
	    r->end.data, r->end.len, &stream) == -1) {
		buf_free(&stream);
		return -1;
	}
	bound = ZSTD_compressBound(stream.len);
	buf_grow(&z, bound);
	zlen = ZSTD_compress(z.data, bound, stream.data, stream.len,
	    SNAP_ZSTD_LEVEL);
	if (ZSTD_isError(zlen)) {
		log_setreason("snapshot of region %llu: cannot compress: %s",
		    (unsigned long long)r->id, ZSTD_getErrorName(zlen));
		buf_free(&stream);
		buf_free(&z);
		return -1;
	}
	z.len = zlen;
	region_encode(r, &meta);

	hdr = out->len;
	buf_add(out, SNAP_MAGIC, SNAP_MAGIC_LEN);
	buf_addc(out, SNAP_VERSION);
	codec_add_lenbytes(out, meta.data, meta.len);
	codec_add_varint(out, index);
	codec_add_varint(out, term);
	codec_add_varint(out, stream.len);
	codec_add_varint(out, z.len);
	digest(out->data + hdr, out->len - hdr, z.data, z.len, d);
	buf_add(out, d, sizeof(d));
	buf_add(out, z.data, z.len);

	buf_free(&stream);
	buf_free(&meta);
	buf_free(&z);
	return 0;
}

static int
damaged(const char *what)
{
	log_setreason("damaged snapshot: %s", what);
	return -1;
}

int
snap_open(const uint8_t *data, size_t len, struct region *region,
    uint64_t *indexp, uint64_t *termp, struct buf *stream)
{
	const uint8_t *p = data, *end = data + len, *payload;
	struct bytes meta;
	struct region r;
	uint64_t index, term, slen, zlen;
	unsigned long long fcs;
	uint8_t d[SNAP_DIGEST_LEN];
	size_t got, mark;

	snap_sodium_init();
	if (len < SNAP_MAGIC_LEN + 1 ||
	    memcmp(p, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0)
		return damaged("not a snapshot");
	p += SNAP_MAGIC_LEN;
	if (*p++ != SNAP_VERSION)
		return damaged("unknown version");
	if (codec_read_lenbytes(&p, end, &meta) == -1 ||
	    codec_read_varint(&p, end, &index) == -1 ||
	    codec_read_varint(&p, end, &term) == -1 ||
	    codec_read_varint(&p, end, &slen) == -1 ||
	    codec_read_varint(&p, end, &zlen) == -1 ||
	    (size_t)(end - p) < SNAP_DIGEST_LEN)
		return damaged("truncated header");
	if ((uint64_t)(end - p) - SNAP_DIGEST_LEN != zlen)
		return damaged("payload length does not match");
	payload = p + SNAP_DIGEST_LEN;
	digest(data, (size_t)(p - data), payload, zlen, d);
	if (sodium_memcmp(d, p, SNAP_DIGEST_LEN) != 0)
		return damaged("checksum mismatch");

	region_init(&r);
	if (region_decode(meta.ptr, meta.len, &r) == -1) {
		region_free(&r);
		return damaged("bad region record");
	}
	fcs = ZSTD_getFrameContentSize(payload, zlen);
	if (fcs == ZSTD_CONTENTSIZE_UNKNOWN || fcs == ZSTD_CONTENTSIZE_ERROR ||
	    fcs != slen || slen > SIZE_MAX / 2) {
		region_free(&r);
		return damaged("bad compressed frame");
	}
	if (stream != NULL) {
		mark = stream->len;
		buf_grow(stream, slen);
		got = ZSTD_decompress(stream->data + mark, slen, payload, zlen);
		if (ZSTD_isError(got) || got != slen) {
			stream->data[mark] = '\0';
			region_free(&r);
			return damaged("cannot decompress");
		}
		stream->len = mark + slen;
		stream->data[stream->len] = '\0';
	}
	if (region != NULL)
		region_copy(region, &r);
	region_free(&r);
	if (indexp != NULL)
		*indexp = index;
	if (termp != NULL)
		*termp = term;
	return 0;
}

/* Files. */

static void
snap_dir(const char *data_dir, char *out, size_t len)
{
	if ((size_t)snprintf(out, len, "%s/snap", data_dir) >= len)
		fatalx("data directory path too long: '%s'", data_dir);
}

static void
snap_path(const char *data_dir, uint64_t region_id, const char *suffix,
    char *out, size_t len)
{
	if ((size_t)snprintf(out, len, "%s/snap/%llu%s", data_dir,
	    (unsigned long long)region_id, suffix) >= len)
		fatalx("data directory path too long: '%s'", data_dir);
}

/* A directory's entries made durable; a failure is fatal (STYLE.md). */
static int
fsync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_setreason("cannot open '%s': %s", dir, strerror(errno));
		return -1;
	}
	if (fsync(fd) == -1)
		fatal("cannot sync '%s'", dir);
	close(fd);
	return 0;
}

static int
make_snap_dir(const char *data_dir, const char *dir)
{
	if (mkdir(dir, 0755) == 0)
		return fsync_dir(data_dir);
	if (errno == EEXIST)
		return 0;
	log_setreason("cannot create '%s': %s", dir, strerror(errno));
	return -1;
}

int
snap_save(const char *data_dir, uint64_t region_id, const void *data,
    size_t len)
{
	char dir[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX];
	const uint8_t *p = data;
	ssize_t n;
	int fd;

	snap_dir(data_dir, dir, sizeof(dir));
	snap_path(data_dir, region_id, SNAP_TMP_SUFFIX, tmp, sizeof(tmp));
	snap_path(data_dir, region_id, SNAP_SUFFIX, path, sizeof(path));
	if (make_snap_dir(data_dir, dir) == -1)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_setreason("cannot create '%s': %s", tmp, strerror(errno));
		return -1;
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_setreason("cannot write '%s': %s", tmp,
			    strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fdatasync(fd) == -1)
		fatal("cannot sync '%s'", tmp);
	if (close(fd) == -1)
		fatal("cannot close '%s'", tmp);
	if (rename(tmp, path) == -1) {
		log_setreason("cannot rename '%s' to '%s': %s", tmp, path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return fsync_dir(dir);
}

int
snap_load(const char *data_dir, uint64_t region_id, struct buf *out)
{
	char path[PATH_MAX];
	struct stat sb;
	size_t mark = out->len, want;
	ssize_t n;
	int fd;

	snap_path(data_dir, region_id, SNAP_SUFFIX, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_setreason("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		log_setreason("cannot stat '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	want = (size_t)sb.st_size;
	buf_grow(out, want);
	while (out->len - mark < want) {
		n = read(fd, out->data + out->len, want - (out->len - mark));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_setreason("cannot read '%s': %s", path,
			    n == 0 ? "file shrank" : strerror(errno));
			close(fd);
			buf_truncate(out, mark);
			return -1;
		}
		out->len += (size_t)n;
	}
	out->data[out->len] = '\0';
	close(fd);
	return 1;
}

int
snap_remove(const char *data_dir, uint64_t region_id)
{
	char dir[PATH_MAX], path[PATH_MAX];

	snap_dir(data_dir, dir, sizeof(dir));
	snap_path(data_dir, region_id, SNAP_SUFFIX, path, sizeof(path));
	if (unlink(path) == -1) {
		if (errno == ENOENT)
			return 0;
		log_setreason("cannot remove '%s': %s", path, strerror(errno));
		return -1;
	}
	return fsync_dir(dir);
}

/* "REGION.snap" with REGION a decimal id > 0 without leading zeros. */
static int
parse_name(const char *name, uint64_t *id)
{
	const char *s = name;
	uint64_t v = 0;

	if (*s < '1' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (strcmp(s, SNAP_SUFFIX) != 0)
		return -1;
	*id = v;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t *
snap_list(const char *data_dir, size_t *np)
{
	char dir[PATH_MAX];
	struct dirent *de;
	uint64_t *ids = NULL, id;
	size_t n = 0, cap = 0;
	DIR *d;

	*np = 0;
	snap_dir(data_dir, dir, sizeof(dir));
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			log_warn("cannot read '%s'", dir);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (parse_name(de->d_name, &id) == -1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = xreallocarray(ids, cap, sizeof(*ids));
		}
		ids[n++] = id;
	}
	closedir(d);
	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_u64);
	*np = n;
	return ids;
}
