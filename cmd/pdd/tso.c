/*
 * Number dispensers: the timestamp oracle and the id allocator.  Both hand
 * out numbers below a persisted bound and raise the bound, durably, ahead
 * of need, so a restart never repeats a number.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "pdd.h"

/*
 * PDD_CLOCK_SKEW_MS shifts the clock pdd reads (pdd(8), ENVIRONMENT): the
 * tests use it to show that a clock set back never sends timestamps back.
 */
static int64_t clock_skew_ms;

static uint64_t
now_ms(void)
{
	struct timespec ts;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_skew_ms;
	return ms > 0 ? (uint64_t)ms : 0;
}

int
tso_init(struct tso *t, int dirfd, uint64_t window_ms)
{
	const char *skew = getenv("PDD_CLOCK_SKEW_MS");

	if (skew)
		clock_skew_ms = strtoll(skew, NULL, 10);
	pthread_mutex_init(&t->mu, NULL);
	t->window_ms = window_ms;
	if (meta_bound_load(&t->bound, dirfd, "tso") == -1)
		return -1;
	/*
	 * Every timestamp handed out before had a physical part below the
	 * bound, so starting at the bound is enough, whatever the clock says.
	 */
	t->physical = t->bound.limit;
	t->logical = 0;
	if (now_ms() > t->physical)
		t->physical = now_ms();
	return meta_bound_raise(&t->bound, t->physical + t->window_ms);
}

int
tso_get(struct tso *t, uint32_t n, uint64_t *first)
{
	uint64_t now = now_ms();
	int r = 0;

	if (n == 0 || n > TSO_MAX_COUNT) {
		log_setreason("count %" PRIu32 " out of range", n);
		return -1;
	}
	pthread_mutex_lock(&t->mu);
	/* A clock that went back leaves physical where it was. */
	if (now > t->physical) {
		t->physical = now;
		t->logical = 0;
	}
	if (t->logical + n > TSO_MAX_COUNT) {
		t->physical++;
		t->logical = 0;
	}
	/* Raise the bound at half the window, before it is reached. */
	if (t->physical + t->window_ms / 2 >= t->bound.limit) {
		r = meta_bound_raise(&t->bound, t->physical + t->window_ms);
		if (r == -1 && t->physical < t->bound.limit)
			r = 0;	/* still inside the old bound: serve */
	}
	if (r == 0) {
		*first = t->physical << TSO_LOGICAL_BITS | t->logical;
		t->logical += n;
	}
	pthread_mutex_unlock(&t->mu);
	return r;
}

int
idalloc_init(struct idalloc *a, int dirfd, uint64_t batch)
{
	pthread_mutex_init(&a->mu, NULL);
	a->batch = batch;
	if (meta_bound_load(&a->bound, dirfd, "id") == -1)
		return -1;
	/* Ids below the bound may have been handed out; 0 is never an id. */
	a->next = a->bound.limit ? a->bound.limit : 1;
	return meta_bound_raise(&a->bound, a->next + a->batch);
}

int
idalloc_get(struct idalloc *a, uint64_t n, uint64_t *first)
{
	int r = 0;

	pthread_mutex_lock(&a->mu);
	if (a->next + n > a->bound.limit)
		r = meta_bound_raise(&a->bound, a->next + n + a->batch);
	if (r == 0) {
		*first = a->next;
		a->next += n;
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

int
idalloc_reserve(struct idalloc *a, uint64_t id)
{
	int r = 0;

	if (id >= IDALLOC_MAX) {
		log_setreason("id %" PRIu64 " is too large", id);
		return -1;
	}
	pthread_mutex_lock(&a->mu);
	if (id >= a->next) {
		if (id + 1 > a->bound.limit)
			r = meta_bound_raise(&a->bound, id + 1 + a->batch);
		if (r == 0)
			a->next = id + 1;
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}
