/*
 * Workloads as YCSB's CoreWorkload defines them, with the property names
 * of go-ycsb.  Keys are "user" and a number, as in YCSB: with
 * insertorder=hashed the number is the FNV-1a hash of the record number,
 * so inserts and reads spread over the key space.  In raw mode a record
 * is one value of fieldcount x fieldlength bytes; an update rewrites it
 * whole.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "workload.h"

#define ZIPFIAN_CONSTANT	0.99
/* YCSB's ScrambledZipfianGenerator draws from 10^10 items, with zeta
 * precomputed for them. */
#define SCRAMBLED_ITEMS		UINT64_C(10000000000)
#define SCRAMBLED_ZETAN		26.46902820178302
#define COUNT_MAX		UINT64_C(1000000000000)
#define ZIPF_RETRIES		100

static const char *const op_names[OP_COUNT] = {
	"READ", "UPDATE", "INSERT", "SCAN", "READ_MODIFY_WRITE"
};

const char *
op_name(int op)
{
	return op >= 0 && op < OP_COUNT ? op_names[op] : "?";
}

const char *
dist_name(int d)
{
	switch (d) {
	case DIST_UNIFORM:
		return "uniform";
	case DIST_ZIPFIAN:
		return "zipfian";
	case DIST_LATEST:
		return "latest";
	}
	return "?";
}

/* --- properties ---------------------------------------------------------- */

enum ptype {
	P_U64,
	P_PROPORTION,
	P_DIST,
	P_SCANDIST,
	P_ORDER,
	P_STR
};

static const struct prop {
	const char *name;
	int type;
	size_t off;		/* P_U64: the field */
	uint64_t min;
	uint64_t max;
	int op;			/* P_PROPORTION: its operation */
} props[] = {
	{ "fieldcount", P_U64, offsetof(struct workload, fieldcount),
	    1, 1024, 0 },
	{ "fieldlength", P_U64, offsetof(struct workload, fieldlength),
	    1, WORKLOAD_VALUE_MAX, 0 },
	{ "insertcount", P_U64, offsetof(struct workload, insertcount),
	    0, COUNT_MAX, 0 },
	{ "insertorder", P_ORDER, 0, 0, 0, 0 },
	{ "insertproportion", P_PROPORTION, 0, 0, 0, OP_INSERT },
	{ "insertstart", P_U64, offsetof(struct workload, insertstart),
	    0, COUNT_MAX, 0 },
	{ "keyprefix", P_STR, 0, 0, 0, 0 },
	{ "maxscanlength", P_U64, offsetof(struct workload, maxscanlength),
	    1, 1000000, 0 },
	{ "minscanlength", P_U64, offsetof(struct workload, minscanlength),
	    1, 1000000, 0 },
	{ "operationcount", P_U64, offsetof(struct workload, operationcount),
	    0, COUNT_MAX, 0 },
	{ "readmodifywriteproportion", P_PROPORTION, 0, 0, 0, OP_RMW },
	{ "readproportion", P_PROPORTION, 0, 0, 0, OP_READ },
	{ "recordcount", P_U64, offsetof(struct workload, recordcount),
	    1, COUNT_MAX, 0 },
	{ "requestdistribution", P_DIST, 0, 0, 0, 0 },
	{ "scanlengthdistribution", P_SCANDIST, 0, 0, 0, 0 },
	{ "scanproportion", P_PROPORTION, 0, 0, 0, OP_SCAN },
	{ "updateproportion", P_PROPORTION, 0, 0, 0, OP_UPDATE },
	{ "zeropadding", P_U64, offsetof(struct workload, zeropadding),
	    1, 32, 0 },
	{ NULL, 0, 0, 0, 0, 0 }
};

static uint64_t *
prop_u64(struct workload *w, const struct prop *p)
{
	return (uint64_t *)(void *)((char *)w + p->off);
}

static const uint64_t *
prop_u64_const(const struct workload *w, const struct prop *p)
{
	return (const uint64_t *)(const void *)((const char *)w + p->off);
}

int
workload_preset(struct workload *w, const char *name)
{
	/* read, update, insert, scan, read-modify-write */
	static const struct {
		char name;
		double p[OP_COUNT];
		int dist;
	} presets[] = {
		{ 'A', { 0.5, 0.5, 0, 0, 0 }, DIST_ZIPFIAN },
		{ 'B', { 0.95, 0.05, 0, 0, 0 }, DIST_ZIPFIAN },
		{ 'C', { 1, 0, 0, 0, 0 }, DIST_ZIPFIAN },
		{ 'D', { 0.95, 0, 0.05, 0, 0 }, DIST_LATEST },
		{ 'E', { 0, 0, 0.05, 0.95, 0 }, DIST_ZIPFIAN },
		{ 'F', { 0.5, 0, 0, 0, 0.5 }, DIST_ZIPFIAN },
	};
	const char *n = name;
	size_t i;
	int c;

	if (strncasecmp(n, "workload", 8) == 0)
		n += 8;
	c = toupper((unsigned char)n[0]);
	for (i = 0; n[0] != '\0' && n[1] == '\0' &&
	    i < sizeof(presets) / sizeof(presets[0]); i++)
		if (presets[i].name == c)
			break;
	if (n[0] == '\0' || n[1] != '\0' ||
	    i == sizeof(presets) / sizeof(presets[0])) {
		log_setreason("unknown workload '%s' (A to F)", name);
		return -1;
	}
	memset(w, 0, sizeof(*w));
	w->name[0] = (char)c;
	w->recordcount = 1000;
	w->operationcount = 1000;
	w->fieldcount = 10;
	w->fieldlength = 100;
	memcpy(w->proportion, presets[i].p, sizeof(w->proportion));
	w->requestdistribution = presets[i].dist;
	w->minscanlength = 1;
	w->maxscanlength = c == 'E' ? 100 : 1000;
	w->scanlengthdistribution = DIST_UNIFORM;
	w->insertorder_hashed = 1;
	w->zeropadding = 1;
	strlcpy(w->keyprefix, "user", sizeof(w->keyprefix));
	return 0;
}

static int
parse_proportion(const char *name, const char *v, double *out)
{
	char *end;
	double d;

	d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || !isfinite(d) || d < 0 || d > 1) {
		log_setreason("workload property '%s': '%s' is not a "
		    "proportion from 0 to 1", name, v);
		return -1;
	}
	*out = d;
	return 0;
}

int
workload_set(struct workload *w, const char *assignment)
{
	const struct prop *p;
	const char *eq, *v, *errstr;
	size_t len;
	long long n;

	if ((eq = strchr(assignment, '=')) == NULL || eq == assignment) {
		log_setreason("property '%s' is not name=value", assignment);
		return -1;
	}
	len = (size_t)(eq - assignment);
	v = eq + 1;
	for (p = props; p->name != NULL; p++)
		if (strlen(p->name) == len &&
		    strncmp(p->name, assignment, len) == 0)
			break;
	if (p->name == NULL) {
		log_setreason("unknown workload property '%.*s'", (int)len,
		    assignment);
		return -1;
	}
	switch (p->type) {
	case P_U64:
		n = strtonum(v, (long long)p->min, (long long)p->max, &errstr);
		if (errstr != NULL) {
			log_setreason("workload property '%s': '%s' is %s "
			    "(%" PRIu64 " to %" PRIu64 ")", p->name, v, errstr,
			    p->min, p->max);
			return -1;
		}
		*prop_u64(w, p) = (uint64_t)n;
		if (strcmp(p->name, "operationcount") == 0)
			w->operationcount_set = 1;
		break;
	case P_PROPORTION:
		return parse_proportion(p->name, v, &w->proportion[p->op]);
	case P_DIST:
	case P_SCANDIST:
		if (strcmp(v, "uniform") == 0)
			n = DIST_UNIFORM;
		else if (strcmp(v, "zipfian") == 0)
			n = DIST_ZIPFIAN;
		else if (strcmp(v, "latest") == 0 && p->type == P_DIST)
			n = DIST_LATEST;
		else {
			log_setreason("workload property '%s': '%s' is not "
			    "%s", p->name, v, p->type == P_DIST ?
			    "uniform, zipfian or latest" :
			    "uniform or zipfian");
			return -1;
		}
		if (p->type == P_DIST)
			w->requestdistribution = (int)n;
		else
			w->scanlengthdistribution = (int)n;
		break;
	case P_ORDER:
		if (strcmp(v, "hashed") == 0)
			w->insertorder_hashed = 1;
		else if (strcmp(v, "ordered") == 0)
			w->insertorder_hashed = 0;
		else {
			log_setreason("workload property '%s': '%s' is not "
			    "hashed or ordered", p->name, v);
			return -1;
		}
		break;
	case P_STR:
		if (strlcpy(w->keyprefix, v, sizeof(w->keyprefix)) >=
		    sizeof(w->keyprefix)) {
			log_setreason("workload property '%s': longer than "
			    "%d bytes", p->name, WORKLOAD_KEYPREFIX_MAX - 1);
			return -1;
		}
		break;
	}
	return 0;
}

int
workload_check(struct workload *w)
{
	double sum = 0;
	int i;

	for (i = 0; i < OP_COUNT; i++)
		sum += w->proportion[i];
	if (sum <= 0) {
		log_setreason("every operation proportion is 0");
		return -1;
	}
	if (w->insertstart >= w->recordcount) {
		log_setreason("insertstart %" PRIu64 " is not below "
		    "recordcount %" PRIu64, w->insertstart, w->recordcount);
		return -1;
	}
	if (w->insertcount == 0)
		w->insertcount = w->recordcount - w->insertstart;
	if (w->insertcount > w->recordcount - w->insertstart) {
		log_setreason("insertstart + insertcount (%" PRIu64 ") is "
		    "above recordcount %" PRIu64,
		    w->insertstart + w->insertcount, w->recordcount);
		return -1;
	}
	if (w->fieldcount * w->fieldlength > WORKLOAD_VALUE_MAX) {
		log_setreason("fieldcount x fieldlength is %" PRIu64
		    " bytes, above %d", w->fieldcount * w->fieldlength,
		    WORKLOAD_VALUE_MAX);
		return -1;
	}
	if (w->minscanlength > w->maxscanlength) {
		log_setreason("minscanlength %" PRIu64 " is above "
		    "maxscanlength %" PRIu64, w->minscanlength,
		    w->maxscanlength);
		return -1;
	}
	return 0;
}

void
workload_each(const struct workload *w,
    void (*fn)(const char *, const char *, int, void *), void *arg)
{
	const struct prop *p;
	char v[64];

	for (p = props; p->name != NULL; p++) {
		switch (p->type) {
		case P_U64:
			snprintf(v, sizeof(v), "%" PRIu64,
			    *prop_u64_const(w, p));
			fn(p->name, v, 1, arg);
			break;
		case P_PROPORTION:
			snprintf(v, sizeof(v), "%g", w->proportion[p->op]);
			fn(p->name, v, 1, arg);
			break;
		case P_DIST:
			fn(p->name, dist_name(w->requestdistribution), 0, arg);
			break;
		case P_SCANDIST:
			fn(p->name, dist_name(w->scanlengthdistribution), 0,
			    arg);
			break;
		case P_ORDER:
			fn(p->name, w->insertorder_hashed ? "hashed" :
			    "ordered", 0, arg);
			break;
		case P_STR:
			fn(p->name, w->keyprefix, 0, arg);
			break;
		}
	}
}

/* --- keys and values ----------------------------------------------------- */

/* YCSB's Utils.fnvhash64: FNV-1a over the 8 bytes, then Math.abs. */
static uint64_t
fnvhash64(uint64_t v)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	int i;

	for (i = 0; i < 8; i++) {
		h ^= v & 0xff;
		v >>= 8;
		h *= UINT64_C(1099511628211);
	}
	if (h & (UINT64_C(1) << 63))
		h = ~h + 1;
	return h;
}

void
workload_key(const struct workload *w, uint64_t keynum, struct buf *key)
{
	char num[24];
	int len, fill;

	if (w->insertorder_hashed)
		keynum = fnvhash64(keynum);
	len = snprintf(num, sizeof(num), "%" PRIu64, keynum);
	buf_reset(key);
	buf_addstr(key, w->keyprefix);
	for (fill = (int)w->zeropadding - len; fill > 0; fill--)
		buf_addc(key, '0');
	buf_add(key, num, (size_t)len);
}

void
workload_key_end(const struct workload *w, struct buf *end)
{
	size_t n = strlen(w->keyprefix);

	buf_reset(end);
	buf_add(end, w->keyprefix, n);
	while (end->len > 0 && end->data[end->len - 1] == 0xff)
		buf_truncate(end, end->len - 1);
	if (end->len > 0)
		end->data[end->len - 1]++;
}

size_t
workload_value_len(const struct workload *w)
{
	return (size_t)(w->fieldcount * w->fieldlength);
}

/* --- random numbers ------------------------------------------------------ */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t
rng_below(struct rng *r, uint64_t n)
{
	uint64_t x, lim;

	/* Rejection keeps it exactly uniform. */
	lim = UINT64_MAX - UINT64_MAX % n;
	do
		x = rng_next(r);
	while (x >= lim);
	return x % n;
}

double
rng_double(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* --- zipfian ------------------------------------------------------------- */

/* initial + the sum over i in [from, to) of 1 / (i+1)^theta. */
static double
zeta(uint64_t from, uint64_t to, double theta, double initial)
{
	double sum = initial;
	uint64_t i;

	for (i = from; i < to; i++)
		sum += 1 / pow((double)(i + 1), theta);
	return sum;
}

static void
zipf_eta(struct zipf *z)
{
	double d = 1 - z->zeta2theta / z->zetan;

	z->eta = d != 0 ?
	    (1 - pow(2.0 / (double)z->items, 1 - z->theta)) / d : 0;
}

void
zipf_init(struct zipf *z, uint64_t items, double zetan)
{
	z->items = items;
	z->theta = ZIPFIAN_CONSTANT;
	z->alpha = 1 / (1 - z->theta);
	z->zeta2theta = zeta(0, 2, z->theta, 0);
	z->zetan = zetan >= 0 ? zetan : zeta(0, items, z->theta, 0);
	zipf_eta(z);
}

uint64_t
zipf_next(struct zipf *z, struct rng *r, uint64_t items)
{
	double u, uz;
	uint64_t ret;

	if (items <= 1)
		return 0;
	if (items != z->items) {
		/* Inserts grow the item count: extend zeta (YCSB does). */
		if (items > z->items)
			z->zetan = zeta(z->items, items, z->theta, z->zetan);
		else
			z->zetan = zeta(0, items, z->theta, 0);
		z->items = items;
		zipf_eta(z);
	}
	u = rng_double(r);
	uz = u * z->zetan;
	if (uz < 1)
		return 0;
	if (uz < 1 + pow(0.5, z->theta))
		return 1;
	ret = (uint64_t)((double)items *
	    pow(z->eta * u - z->eta + 1, z->alpha));
	return ret < items ? ret : items - 1;
}

/* --- choosers ------------------------------------------------------------ */

void
chooser_init(struct chooser *ch, const struct workload *w, uint64_t seed,
    uint64_t expected_inserts, const struct zipf *latest)
{
	double sum = 0;
	int i;

	memset(ch, 0, sizeof(*ch));
	ch->w = w;
	rng_seed(&ch->rng, seed);
	for (i = 0; i < OP_COUNT; i++) {
		sum += w->proportion[i];
		ch->cumulative[i] = sum;
	}
	if (w->requestdistribution == DIST_LATEST && latest != NULL)
		ch->keys = *latest;
	else
		zipf_init(&ch->keys, SCRAMBLED_ITEMS, SCRAMBLED_ZETAN);
	ch->zipf_items = w->insertcount + expected_inserts;
	if (w->scanlengthdistribution == DIST_ZIPFIAN)
		zipf_init(&ch->scans, w->maxscanlength - w->minscanlength + 1,
		    -1);
}

int
chooser_op(struct chooser *ch)
{
	double r = rng_double(&ch->rng) * ch->cumulative[OP_COUNT - 1];
	int i;

	/* A zero proportion adds nothing, so r never falls in it. */
	for (i = 0; i < OP_COUNT; i++)
		if (r < ch->cumulative[i])
			return i;
	for (i = OP_COUNT - 1; i > 0 && ch->w->proportion[i] == 0; i--)
		;
	return i;
}

uint64_t
chooser_key(struct chooser *ch, uint64_t limit)
{
	const struct workload *w = ch->w;
	uint64_t base = w->insertstart, k;
	int i;

	switch (w->requestdistribution) {
	case DIST_LATEST:
		return limit - 1 - zipf_next(&ch->keys, &ch->rng,
		    limit - base);
	case DIST_ZIPFIAN:
		/* Scrambled zipfian over the records and the inserts to
		 * come, skipping those not there yet, as YCSB does. */
		for (i = 0; i < ZIPF_RETRIES; i++) {
			k = base + fnvhash64(zipf_next(&ch->keys, &ch->rng,
			    SCRAMBLED_ITEMS)) % ch->zipf_items;
			if (k < limit)
				return k;
		}
		return base + rng_below(&ch->rng, limit - base);
	default:
		return base + rng_below(&ch->rng, w->insertcount);
	}
}

uint64_t
chooser_scan_length(struct chooser *ch)
{
	const struct workload *w = ch->w;
	uint64_t span = w->maxscanlength - w->minscanlength + 1;

	if (w->scanlengthdistribution == DIST_ZIPFIAN)
		return w->minscanlength + zipf_next(&ch->scans, &ch->rng,
		    span);
	return w->minscanlength + rng_below(&ch->rng, span);
}
