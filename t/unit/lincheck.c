/*
 * Linearizability of register histories: Wing and Gong's search over the
 * calls and returns of one key's history, in time order, with Lowe's cache
 * of (linearized set, state) so a configuration is explored only once.
 *
 * The state of a key is an interned value: 0 is absent, 1.. are the
 * distinct byte strings seen in that key's history.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lincheck.h"
#include "log.h"
#include "xmalloc.h"

/* An owned copy of an operation. */
struct lc_op {
	int client;
	uint64_t invoke;
	uint64_t ret;
	enum lincheck_type type;
	int ok;
	int has_prev;
	size_t seq;
	uint8_t *key;
	size_t keylen;
	struct lincheck_val val[4];	/* value, expect, result, prev */
	int id[4];			/* interned val[] during a check */
};

enum { V_VALUE, V_EXPECT, V_RESULT, V_PREV };

struct lincheck {
	struct lc_op *ops;
	size_t nops;
	size_t cap;
	uint64_t budget;
};

/* A call or return event of one key's search list. */
struct lc_ent {
	int op;			/* index into the key's op array */
	int call;
	struct lc_ent *match;	/* call <-> return; NULL if pending */
	struct lc_ent *prev;
	struct lc_ent *next;
	uint64_t time;
};

/* The cache of visited (linearized set, state) configurations. */
struct lc_cache {
	size_t words;		/* bitmap words per entry */
	uint64_t *arena;	/* entries: hash, state, bitmap words */
	size_t n;
	size_t arenacap;
	uint32_t *slots;	/* 1 + entry index; 0 is empty */
	size_t nslots;
};

static uint64_t
lincheck_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct lincheck *
lincheck_new(void)
{
	return xcalloc(1, sizeof(struct lincheck));
}

void
lincheck_free(struct lincheck *lc)
{
	size_t i;
	int j;

	if (lc == NULL)
		return;
	for (i = 0; i < lc->nops; i++) {
		free(lc->ops[i].key);
		for (j = 0; j < 4; j++)
			free((void *)lc->ops[i].val[j].ptr);
	}
	free(lc->ops);
	free(lc);
}

size_t
lincheck_count(const struct lincheck *lc)
{
	return lc->nops;
}

void
lincheck_set_budget(struct lincheck *lc, uint64_t steps)
{
	lc->budget = steps;
}

static struct lincheck_val
lincheck_copyval(struct lincheck_val v)
{
	struct lincheck_val c;

	c.present = v.present != 0;
	c.len = c.present ? v.len : 0;
	/* One extra byte so an empty value still has an owned pointer. */
	c.ptr = xmalloc(c.len + 1);
	if (c.len > 0)
		memcpy((void *)c.ptr, v.ptr, c.len);
	return c;
}

int
lincheck_add(struct lincheck *lc, const struct lincheck_op *in)
{
	struct lc_op *op;
	struct lincheck_val none = { NULL, 0, 0 };

	if (in->ret != LINCHECK_PENDING && in->ret < in->invoke) {
		log_setreason("operation returns at %" PRIu64
		    " before its invocation at %" PRIu64, in->ret, in->invoke);
		return -1;
	}
	switch (in->type) {
	case LINCHECK_READ:
		/* A read that never returned constrains nothing. */
		if (in->ret == LINCHECK_PENDING)
			return 0;
		break;
	case LINCHECK_WRITE:
		if (!in->value.present) {
			log_setreason("a write needs a value");
			return -1;
		}
		break;
	case LINCHECK_DELETE:
	case LINCHECK_CAS:
		break;
	default:
		log_setreason("unknown operation type %d", (int)in->type);
		return -1;
	}
	if (lc->nops == lc->cap) {
		lc->cap = lc->cap ? lc->cap * 2 : 64;
		lc->ops = xreallocarray(lc->ops, lc->cap, sizeof(*lc->ops));
	}
	op = &lc->ops[lc->nops];
	memset(op, 0, sizeof(*op));
	op->client = in->client;
	op->invoke = in->invoke;
	op->ret = in->ret;
	op->type = in->type;
	op->seq = lc->nops;
	op->key = xmalloc(in->key.len + 1);
	if (in->key.len > 0)
		memcpy(op->key, in->key.ptr, in->key.len);
	op->keylen = in->key.len;
	op->val[V_VALUE] = lincheck_copyval(in->type == LINCHECK_WRITE ||
	    in->type == LINCHECK_CAS ? in->value : none);
	op->val[V_EXPECT] = lincheck_copyval(in->type == LINCHECK_CAS ?
	    in->expect : none);
	op->val[V_RESULT] = lincheck_copyval(in->type == LINCHECK_READ ?
	    in->result : none);
	op->has_prev = in->type == LINCHECK_CAS &&
	    (in->has_prev || in->prev.present);
	op->val[V_PREV] = lincheck_copyval(op->has_prev ? in->prev : none);
	op->ok = in->ok != 0;
	lc->nops++;
	return 0;
}

void
lincheck_fmtval(struct buf *b, struct lincheck_val v)
{
	size_t i;
	int c;

	if (!v.present) {
		buf_addc(b, '-');
		return;
	}
	buf_addc(b, '\'');
	for (i = 0; i < v.len && i < 32; i++) {
		c = v.ptr[i];
		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
			buf_addc(b, c);
		else
			buf_printf(b, "\\x%02x", c);
	}
	if (i < v.len)
		buf_addstr(b, "...");
	buf_addc(b, '\'');
}

static void
lincheck_fmtop(struct buf *b, const struct lc_op *op)
{
	static const char *names[] = { "get", "put", "delete", "cas" };

	buf_printf(b, "#%zu client %d %s", op->seq + 1, op->client,
	    names[op->type]);
	switch (op->type) {
	case LINCHECK_WRITE:
		buf_addc(b, ' ');
		lincheck_fmtval(b, op->val[V_VALUE]);
		break;
	case LINCHECK_CAS:
		buf_addc(b, ' ');
		lincheck_fmtval(b, op->val[V_EXPECT]);
		buf_addc(b, ' ');
		lincheck_fmtval(b, op->val[V_VALUE]);
		break;
	default:
		break;
	}
	if (op->ret == LINCHECK_PENDING) {
		buf_printf(b, " [%" PRIu64 ", pending]", op->invoke);
		return;
	}
	buf_printf(b, " [%" PRIu64 ", %" PRIu64 "] -> ", op->invoke, op->ret);
	switch (op->type) {
	case LINCHECK_READ:
		lincheck_fmtval(b, op->val[V_RESULT]);
		break;
	case LINCHECK_CAS:
		buf_addstr(b, op->ok ? "ok" : "fail");
		if (op->has_prev) {
			buf_addc(b, ' ');
			lincheck_fmtval(b, op->val[V_PREV]);
		}
		break;
	default:
		buf_addstr(b, "ok");
		break;
	}
}

static int
lincheck_keycmp(const void *a, const void *b)
{
	const struct lc_op *x = *(const struct lc_op *const *)a;
	const struct lc_op *y = *(const struct lc_op *const *)b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c;

	c = n > 0 ? memcmp(x->key, y->key, n) : 0;
	if (c != 0)
		return c;
	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Intern the values of one key's operations: equal byte strings get the
 * same id, absent is 0.  An open-addressing table of value pointers.
 */
static void
lincheck_intern(struct lc_op **ops, size_t n)
{
	const struct lincheck_val **tab;
	int *ids;
	size_t nslots, i, s;
	uint64_t h;
	int j, next = 1;
	const struct lincheck_val *v, *t;
	size_t k;

	nslots = 16;
	while (nslots < n * 8)
		nslots *= 2;
	tab = xcalloc(nslots, sizeof(*tab));
	ids = xcalloc(nslots, sizeof(*ids));
	for (i = 0; i < n; i++) {
		for (j = 0; j < 4; j++) {
			v = &ops[i]->val[j];
			if (!v->present) {
				ops[i]->id[j] = 0;
				continue;
			}
			h = 0xcbf29ce484222325ULL;
			for (k = 0; k < v->len; k++)
				h = (h ^ v->ptr[k]) * 0x100000001b3ULL;
			s = lincheck_mix(h) & (nslots - 1);
			for (;;) {
				t = tab[s];
				if (t == NULL) {
					tab[s] = v;
					ids[s] = next++;
					break;
				}
				if (t->len == v->len && (v->len == 0 ||
				    memcmp(t->ptr, v->ptr, v->len) == 0))
					break;
				s = (s + 1) & (nslots - 1);
			}
			ops[i]->id[j] = ids[s];
		}
	}
	free(tab);
	free(ids);
}

/*
 * The register model: can op take effect in state, and to what state?
 * Returns 1 and sets *next if so.
 */
static int
lincheck_step(const struct lc_op *op, int state, int *next)
{
	int match;

	*next = state;
	switch (op->type) {
	case LINCHECK_READ:
		return op->id[V_RESULT] == state;
	case LINCHECK_WRITE:
		*next = op->id[V_VALUE];
		return 1;
	case LINCHECK_DELETE:
		*next = 0;
		return 1;
	case LINCHECK_CAS:
		match = op->id[V_EXPECT] == state;
		if (op->ret == LINCHECK_PENDING) {
			/* Took effect: it did what the state made it do. */
			if (match)
				*next = op->id[V_VALUE];
			return 1;
		}
		if (op->has_prev && op->id[V_PREV] != state)
			return 0;
		if (op->ok != match)
			return 0;
		if (match)
			*next = op->id[V_VALUE];
		return 1;
	}
	return 0;
}

static void
lincheck_cache_init(struct lc_cache *c, size_t words)
{
	memset(c, 0, sizeof(*c));
	c->words = words;
	c->nslots = 1024;
	c->slots = xcalloc(c->nslots, sizeof(*c->slots));
}

static void
lincheck_cache_free(struct lc_cache *c)
{
	free(c->arena);
	free(c->slots);
}

static uint64_t *
lincheck_cache_entry(struct lc_cache *c, size_t i)
{
	return &c->arena[i * (c->words + 2)];
}

static void
lincheck_cache_grow(struct lc_cache *c)
{
	uint32_t *slots;
	size_t nslots = c->nslots * 2, i, s;

	slots = xcalloc(nslots, sizeof(*slots));
	for (i = 0; i < c->n; i++) {
		s = lincheck_cache_entry(c, i)[0] & (nslots - 1);
		while (slots[s] != 0)
			s = (s + 1) & (nslots - 1);
		slots[s] = i + 1;
	}
	free(c->slots);
	c->slots = slots;
	c->nslots = nslots;
}

/* Insert (set, state); returns 0 if it was already there. */
static int
lincheck_cache_add(struct lc_cache *c, const uint64_t *set, uint64_t hash,
    int state)
{
	size_t s, stride = c->words + 2;
	uint64_t *e;

	s = hash & (c->nslots - 1);
	while (c->slots[s] != 0) {
		e = lincheck_cache_entry(c, c->slots[s] - 1);
		if (e[0] == hash && e[1] == (uint64_t)state &&
		    memcmp(e + 2, set, c->words * sizeof(*set)) == 0)
			return 0;
		s = (s + 1) & (c->nslots - 1);
	}
	if (c->n == c->arenacap) {
		c->arenacap = c->arenacap ? c->arenacap * 2 : 256;
		c->arena = xreallocarray(c->arena, c->arenacap,
		    stride * sizeof(*c->arena));
	}
	e = lincheck_cache_entry(c, c->n);
	e[0] = hash;
	e[1] = (uint64_t)state;
	memcpy(e + 2, set, c->words * sizeof(*set));
	c->slots[s] = ++c->n;
	if (c->n * 2 > c->nslots)
		lincheck_cache_grow(c);
	return 1;
}

static uint64_t
lincheck_statehash(int state)
{
	return lincheck_mix(0x5bd1e995ULL + (uint64_t)state);
}

static int
lincheck_entcmp(const void *a, const void *b)
{
	const struct lc_ent *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	/* At equal times, calls first: the two count as concurrent. */
	if (x->call != y->call)
		return x->call ? -1 : 1;
	return x->op < y->op ? -1 : x->op > y->op;
}

static void
lincheck_lift(struct lc_ent *e)
{
	e->prev->next = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	if (e->match != NULL) {
		e->match->prev->next = e->match->next;
		if (e->match->next != NULL)
			e->match->next->prev = e->match->prev;
	}
}

static void
lincheck_unlift(struct lc_ent *e)
{
	if (e->match != NULL) {
		e->match->prev->next = e->match;
		if (e->match->next != NULL)
			e->match->next->prev = e->match;
	}
	e->prev->next = e;
	if (e->next != NULL)
		e->next->prev = e;
}

struct lc_frame {
	struct lc_ent *ent;
	int state;
};

/*
 * Search one key's history.  On failure, describe the deepest point the
 * search reached: the operation that could not be placed before it
 * returned, in the state left by the longest linearizable prefix.
 */
static enum lincheck_result
lincheck_key(struct lincheck *lc, struct lc_op **ops, size_t n,
    struct buf *why)
{
	struct lc_ent head, *ents, *e;
	struct lc_frame *stack;
	struct lc_cache cache;
	uint64_t *set, *zob, hash, steps = 0;
	size_t nents = 0, depth = 0, i, words, left = 0, best = 0;
	int state = 0, next, bestop = -1, beststate = 0;
	enum lincheck_result r = LINCHECK_OK;

	lincheck_intern(ops, n);
	ents = xcalloc(2 * n, sizeof(*ents));
	for (i = 0; i < n; i++) {
		ents[nents].op = i;
		ents[nents].call = 1;
		ents[nents].time = ops[i]->invoke;
		nents++;
		if (ops[i]->ret != LINCHECK_PENDING) {
			ents[nents].op = i;
			ents[nents].time = ops[i]->ret;
			nents++;
			left++;
		}
	}
	qsort(ents, nents, sizeof(*ents), lincheck_entcmp);
	/* Link calls and returns (sorting moved them). */
	{
		struct lc_ent **callof = xcalloc(n, sizeof(*callof));

		for (i = 0; i < nents; i++) {
			if (ents[i].call)
				callof[ents[i].op] = &ents[i];
			else {
				ents[i].match = callof[ents[i].op];
				callof[ents[i].op]->match = &ents[i];
			}
		}
		free(callof);
	}
	memset(&head, 0, sizeof(head));
	head.next = nents > 0 ? &ents[0] : NULL;
	for (i = 0; i < nents; i++) {
		ents[i].prev = i == 0 ? &head : &ents[i - 1];
		ents[i].next = i + 1 < nents ? &ents[i + 1] : NULL;
	}

	words = (n + 63) / 64;
	set = xcalloc(words ? words : 1, sizeof(*set));
	zob = xcalloc(n ? n : 1, sizeof(*zob));
	for (i = 0; i < n; i++)
		zob[i] = lincheck_mix(i * 0x2545f4914f6cdd1dULL + 1);
	stack = xcalloc(n ? n : 1, sizeof(*stack));
	lincheck_cache_init(&cache, words);
	hash = 0;

	e = head.next;
	while (left > 0) {
		if (lc->budget != 0 && ++steps > lc->budget) {
			r = LINCHECK_GAVE_UP;
			break;
		}
		if (e == NULL) {
			/* Only pending calls remain ahead: cannot happen
			 * while a return is left, but backtrack anyway. */
			goto backtrack;
		}
		if (e->call) {
			if (lincheck_step(ops[e->op], state, &next)) {
				set[e->op / 64] |= 1ULL << (e->op % 64);
				hash ^= zob[e->op];
				if (lincheck_cache_add(&cache, set,
				    hash ^ lincheck_statehash(next), next)) {
					stack[depth].ent = e;
					stack[depth].state = state;
					depth++;
					state = next;
					if (e->match != NULL)
						left--;
					lincheck_lift(e);
					e = head.next;
					continue;
				}
				set[e->op / 64] &= ~(1ULL << (e->op % 64));
				hash ^= zob[e->op];
			}
			e = e->next;
			continue;
		}
		/* A return before its call was linearized. */
		if (bestop < 0 || depth > best) {
			best = depth;
			bestop = e->op;
			beststate = state;
		}
backtrack:
		if (depth == 0) {
			r = LINCHECK_VIOLATION;
			break;
		}
		depth--;
		e = stack[depth].ent;
		state = stack[depth].state;
		lincheck_unlift(e);
		if (e->match != NULL)
			left++;
		set[e->op / 64] &= ~(1ULL << (e->op % 64));
		hash ^= zob[e->op];
		e = e->next;
	}

	if (r != LINCHECK_OK && why != NULL) {
		buf_reset(why);
		buf_addstr(why, "key ");
		lincheck_fmtval(why, (struct lincheck_val){ ops[0]->key,
		    ops[0]->keylen, 1 });
		if (r == LINCHECK_GAVE_UP)
			buf_printf(why, ": gave up after %" PRIu64
			    " search steps (%zu operations)", lc->budget, n);
		else if (bestop >= 0) {
			struct lincheck_val v = { NULL, 0, 0 };

			for (i = 0; i < n && beststate != 0; i++) {
				int j;

				for (j = 0; j < 4; j++)
					if (ops[i]->id[j] == beststate) {
						v = ops[i]->val[j];
						break;
					}
				if (v.present)
					break;
			}
			buf_printf(why, ": not linearizable: the longest "
			    "linearizable prefix has %zu of %zu operations and "
			    "leaves value ", best, n);
			lincheck_fmtval(why, v);
			buf_addstr(why, "; then ");
			lincheck_fmtop(why, ops[bestop]);
			buf_addstr(why,
			    " cannot take effect before it returns");
		} else
			buf_printf(why, ": not linearizable");
	}
	lincheck_cache_free(&cache);
	free(stack);
	free(zob);
	free(set);
	free(ents);
	return r;
}

enum lincheck_result
lincheck_check(struct lincheck *lc, struct buf *why)
{
	struct lc_op **byk;
	struct buf tmp = BUF_INIT;
	size_t i, j;
	enum lincheck_result r = LINCHECK_OK, kr;

	if (lc->nops == 0)
		return LINCHECK_OK;
	byk = xreallocarray(NULL, lc->nops, sizeof(*byk));
	for (i = 0; i < lc->nops; i++)
		byk[i] = &lc->ops[i];
	qsort(byk, lc->nops, sizeof(*byk), lincheck_keycmp);
	for (i = 0; i < lc->nops; i = j) {
		for (j = i + 1; j < lc->nops; j++)
			if (byk[j]->keylen != byk[i]->keylen ||
			    (byk[i]->keylen > 0 && memcmp(byk[j]->key,
			    byk[i]->key, byk[i]->keylen) != 0))
				break;
		kr = lincheck_key(lc, byk + i, j - i, &tmp);
		/* Keep looking for a definite violation after giving up. */
		if (kr == LINCHECK_VIOLATION || (kr == LINCHECK_GAVE_UP &&
		    r == LINCHECK_OK)) {
			r = kr;
			if (why != NULL) {
				buf_reset(why);
				buf_add(why, tmp.data, tmp.len);
			}
		}
		if (r == LINCHECK_VIOLATION)
			break;
	}
	buf_free(&tmp);
	free(byk);
	return r;
}

/* Split a line into at most max tokens at blanks; returns the count. */
static int
lincheck_split(char *s, char **tok, int max)
{
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s == '\0')
			return n;
		if (n == max)
			return max + 1;
		tok[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' &&
		    *s != '\n')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
}

static int
lincheck_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a value token in place: -, "", or bytes with %XX escapes. */
static int
lincheck_decode(char *t, struct lincheck_val *v, const char *what)
{
	size_t i, o;
	int hi, lo;

	memset(v, 0, sizeof(*v));
	if (strcmp(t, "-") == 0)
		return 0;
	v->present = 1;
	v->ptr = (const uint8_t *)t;
	if (strcmp(t, "\"\"") == 0) {
		v->len = 0;
		return 0;
	}
	for (i = o = 0; t[i] != '\0'; i++, o++) {
		if (t[i] != '%') {
			t[o] = t[i];
			continue;
		}
		if ((hi = lincheck_hex(t[i + 1])) < 0 ||
		    (lo = lincheck_hex(t[i + 2])) < 0) {
			log_setreason("bad %%XX escape in %s", what);
			return -1;
		}
		t[o] = (char)(hi << 4 | lo);
		i += 2;
	}
	v->len = o;
	return 0;
}

static int
lincheck_time(const char *t, uint64_t *v, const char *what)
{
	char *end;

	if (*t < '0' || *t > '9') {
		log_setreason("bad %s time '%s'", what, t);
		return -1;
	}
	errno = 0;
	*v = strtoull(t, &end, 10);
	if (*end != '\0' || errno != 0 || *v == LINCHECK_PENDING) {
		log_setreason("bad %s time '%s'", what, t);
		return -1;
	}
	return 0;
}

int
lincheck_add_line(struct lincheck *lc, const char *line)
{
	struct lincheck_op op;
	struct lincheck_val key;
	char *copy, *tok[10], *res;
	int n, nargs, need, r = -1;
	long client;
	char *end;

	copy = xstrdup(line);
	n = lincheck_split(copy, tok, 9);
	if (n == 0 || tok[0][0] == '#') {
		r = 0;
		goto out;
	}
	memset(&op, 0, sizeof(op));
	if (n < 5 || n > 9) {
		log_setreason("expected CLIENT INVOKE RETURN OP KEY ...");
		goto out;
	}
	errno = 0;
	client = strtol(tok[0], &end, 10);
	if (*end != '\0' || errno != 0 || client < 0 || client > 1000000000) {
		log_setreason("bad client id '%s'", tok[0]);
		goto out;
	}
	op.client = (int)client;
	if (lincheck_time(tok[1], &op.invoke, "invoke") == -1)
		goto out;
	if (strcmp(tok[2], "-") == 0)
		op.ret = LINCHECK_PENDING;
	else if (lincheck_time(tok[2], &op.ret, "return") == -1)
		goto out;
	if (strcmp(tok[3], "get") == 0) {
		op.type = LINCHECK_READ;
		nargs = 0;
	} else if (strcmp(tok[3], "put") == 0) {
		op.type = LINCHECK_WRITE;
		nargs = 1;
	} else if (strcmp(tok[3], "del") == 0) {
		op.type = LINCHECK_DELETE;
		nargs = 0;
	} else if (strcmp(tok[3], "cas") == 0) {
		op.type = LINCHECK_CAS;
		nargs = 2;
	} else {
		log_setreason("unknown operation '%s'", tok[3]);
		goto out;
	}
	if (lincheck_decode(tok[4], &key, "key") == -1)
		goto out;
	if (!key.present) {
		log_setreason("a key cannot be absent");
		goto out;
	}
	op.key.ptr = key.ptr;
	op.key.len = key.len;
	need = 5 + nargs;
	if (n < need) {
		log_setreason("'%s' needs %d argument%s", tok[3], nargs,
		    nargs == 1 ? "" : "s");
		goto out;
	}
	if (op.type == LINCHECK_WRITE &&
	    lincheck_decode(tok[5], &op.value, "value") == -1)
		goto out;
	if (op.type == LINCHECK_WRITE && !op.value.present) {
		log_setreason("put needs a value; use del to delete");
		goto out;
	}
	if (op.type == LINCHECK_CAS &&
	    (lincheck_decode(tok[5], &op.expect, "expected value") == -1 ||
	    lincheck_decode(tok[6], &op.value, "new value") == -1))
		goto out;
	res = n > need ? tok[need] : NULL;
	if (op.ret == LINCHECK_PENDING) {
		if (n > need + 1 || (res != NULL && strcmp(res, "?") != 0)) {
			log_setreason("a pending operation has no result");
			goto out;
		}
	} else if (res == NULL) {
		log_setreason("missing result");
		goto out;
	} else if (n > need + 1 && op.type != LINCHECK_CAS) {
		log_setreason("too many fields");
		goto out;
	} else if (op.type == LINCHECK_READ) {
		if (lincheck_decode(res, &op.result, "result") == -1)
			goto out;
	} else if (op.type == LINCHECK_CAS) {
		if (strcmp(res, "ok") == 0)
			op.ok = 1;
		else if (strcmp(res, "fail") != 0) {
			log_setreason("cas result must be ok or fail");
			goto out;
		}
		if (n == need + 2) {
			op.has_prev = 1;
			if (lincheck_decode(tok[need + 1], &op.prev,
			    "previous value") == -1)
				goto out;
		}
	} else {
		if (strcmp(res, "ok") != 0 && strcmp(res, "fail") != 0) {
			log_setreason("%s result must be ok or fail", tok[3]);
			goto out;
		}
		if (strcmp(res, "fail") == 0) {
			r = 0;
			goto out;
		}
	}
	r = lincheck_add(lc, &op);
out:
	free(copy);
	return r;
}
