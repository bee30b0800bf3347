#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static int tap_n;
static int tap_failed;
static int tap_planned = -1;
static uint64_t tap_state;
static uint64_t tap_seedval;
static int tap_seeded;

void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static int
vok(int cond, const char *fmt, va_list ap)
{
	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vok(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  got %lld, want %lld", got, want);
	return r;
}

int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vok(got && want && strcmp(got, want) == 0, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  got '%s', want '%s'", got ? got : "(null)",
		    want ? want : "(null)");
	return r;
}

int
is_mem(const void *got, size_t gotlen, const void *want, size_t wantlen,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vok(gotlen == wantlen && (gotlen == 0 ||
	    memcmp(got, want, gotlen) == 0), fmt, ap);
	va_end(ap);
	if (!r)
		diag("  got %zu bytes, want %zu bytes", gotlen, wantlen);
	return r;
}

void
diag(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "# ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

void
skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_n);
	else if (tap_planned != tap_n)
		diag("planned %d tests but ran %d", tap_planned, tap_n);
	if (tap_failed)
		diag("failed %d of %d tests (seed %" PRIu64 ")", tap_failed,
		    tap_n, tap_seed());
	return tap_failed || (tap_planned >= 0 && tap_planned != tap_n);
}

uint64_t
tap_seed(void)
{
	const char *s;

	if (!tap_seeded) {
		s = getenv("TAP_SEED");
		tap_seedval = s ? strtoull(s, NULL, 0) :
		    (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		tap_state = tap_seedval ? tap_seedval : 1;
		tap_seeded = 1;
		printf("# seed %" PRIu64 " (set TAP_SEED to replay)\n",
		    tap_seedval);
	}
	return tap_seedval;
}

/* xorshift64*: small, fast, and good enough for test inputs. */
uint64_t
tap_rand(void)
{
	tap_seed();
	tap_state ^= tap_state >> 12;
	tap_state ^= tap_state << 25;
	tap_state ^= tap_state >> 27;
	return tap_state * 2685821657736338717ULL;
}

uint64_t
tap_rand_below(uint64_t n)
{
	return n ? tap_rand() % n : 0;
}
