/*
 * A tiny TAP producer for C unit tests, run by prove.
 *
 *	ok(x == 1, "x is one");
 *	is_int(got, want, "name");
 *	return done_testing();
 *
 * TAP_SEED (environment) fixes the seed of tap_rand(); the seed in use is
 * printed as a diagnostic so a failing random test can be replayed.
 */
#ifndef TAP_H
#define TAP_H

#include <stddef.h>
#include <stdint.h>

void plan(int n);
int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int is_int(long long got, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int is_str(const char *got, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int is_mem(const void *got, size_t gotlen, const void *want, size_t wantlen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void skip_all(const char *why) __attribute__((noreturn));
/* Prints the plan if none was given; returns the exit status for main. */
int done_testing(void);

uint64_t tap_seed(void);
uint64_t tap_rand(void);
uint64_t tap_rand_below(uint64_t n);

#endif
