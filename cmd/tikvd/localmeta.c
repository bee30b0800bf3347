/* tikvd's records in KV_CF_META (localmeta.h). */
#include <string.h>

#include "codec.h"
#include "kv.h"
#include "localmeta.h"
#include "log.h"

static void
meta_key(uint8_t key[9], int tag, uint64_t id)
{
	key[0] = (uint8_t)tag;
	codec_put_u64be(key + 1, id);
}

void
localmeta_put_region(struct kv_batch *b, const struct region *r, int state)
{
	struct buf v = BUF_INIT;
	uint8_t key[9];

	meta_key(key, 'R', r->id);
	buf_addc(&v, state);
	region_encode(r, &v);
	kv_batch_put(b, KV_CF_META, key, sizeof(key), v.data, v.len);
	buf_free(&v);
}

void
localmeta_put_apply(struct kv_batch *b, uint64_t id,
    const struct apply_state *as)
{
	uint8_t key[9], v[16];

	meta_key(key, 'A', id);
	codec_put_u64be(v, as->applied);
	codec_put_u64be(v + 8, as->term);
	kv_batch_put(b, KV_CF_META, key, sizeof(key), v, sizeof(v));
}

void
localmeta_delete_region(struct kv_batch *b, uint64_t id)
{
	uint8_t key[9];

	meta_key(key, 'R', id);
	kv_batch_delete(b, KV_CF_META, key, sizeof(key));
	meta_key(key, 'A', id);
	kv_batch_delete(b, KV_CF_META, key, sizeof(key));
}

static int
decode_region(const uint8_t *p, size_t len, struct region *r, int *state)
{
	if (len < 1 || p[0] > REGION_STATE_TOMBSTONE) {
		log_setreason("damaged region record");
		return -1;
	}
	if (state != NULL)
		*state = p[0];
	return region_decode(p + 1, len - 1, r);
}

int
localmeta_get_region(struct kv *kv, uint64_t id, struct region *r,
    int *state)
{
	struct buf v = BUF_INIT;
	uint8_t key[9];
	int found;

	meta_key(key, 'R', id);
	found = kv_get(kv, KV_CF_META, key, sizeof(key), &v);
	if (found == 1 && decode_region(v.data, v.len, r, state) == -1)
		found = -1;
	buf_free(&v);
	return found;
}

int
localmeta_get_apply(struct kv *kv, uint64_t id, struct apply_state *as)
{
	struct buf v = BUF_INIT;
	uint8_t key[9];
	int found;

	meta_key(key, 'A', id);
	found = kv_get(kv, KV_CF_META, key, sizeof(key), &v);
	if (found == 1 && v.len != 16) {
		log_setreason("damaged apply state of region %llu",
		    (unsigned long long)id);
		found = -1;
	}
	if (found == 1) {
		as->applied = codec_get_u64be(v.data);
		as->term = codec_get_u64be(v.data + 8);
	}
	buf_free(&v);
	return found;
}

int
localmeta_regions(struct kv *kv, int (*fn)(void *, const struct region *,
    int), void *arg)
{
	struct kv_iter *it;
	struct region r;
	struct bytes k, v;
	int state, rc, stop = 0;

	it = kv_iter_new(kv, KV_CF_META, "R", 1, "S", 1);
	if (it == NULL)
		return -1;
	region_init(&r);
	for (rc = kv_iter_first(it); rc == 1 && !stop; rc = kv_iter_next(it)) {
		k = kv_iter_key(it);
		v = kv_iter_value(it);
		if (k.len != 9 || decode_region(v.ptr, v.len, &r, &state) == -1) {
			log_setreason("damaged region record in '%s'",
			    kv_path(kv));
			rc = -1;
			break;
		}
		stop = fn(arg, &r, state);
	}
	region_free(&r);
	kv_iter_free(it);
	return rc == -1 ? -1 : 0;
}

int
localmeta_get_u64(struct kv *kv, const char *name, uint64_t *v)
{
	struct bytes k = bytes_str(name);
	struct buf val = BUF_INIT;
	int rc;

	rc = kv_get(kv, KV_CF_META, k.ptr, k.len, &val);
	if (rc == 1 && val.len != 8) {
		log_setreason("'%s': record '%s' is %zu bytes, not 8",
		    kv_path(kv), name, val.len);
		rc = -1;
	} else if (rc == 1) {
		*v = codec_get_u64be(val.data);
	}
	buf_free(&val);
	return rc;
}

int
localmeta_put_u64(struct kv *kv, const char *name, uint64_t v)
{
	struct bytes k = bytes_str(name);
	uint8_t b[8];

	codec_put_u64be(b, v);
	if (kv_put(kv, KV_CF_META, k.ptr, k.len, b, sizeof(b)) == -1 ||
	    kv_checkpoint(kv) == -1)
		return -1;
	return 0;
}

int
localmeta_delete_u64(struct kv *kv, const char *name)
{
	struct bytes k = bytes_str(name);

	if (kv_delete(kv, KV_CF_META, k.ptr, k.len) == -1 ||
	    kv_checkpoint(kv) == -1)
		return -1;
	return 0;
}
