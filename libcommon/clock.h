/*
 * The monotonic clock, for timeouts, pacing and latencies (never for
 * timestamps that leave the process: those use the wall clock).
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ns(void);
uint64_t clock_mono_ms(void);
/* Sleeps ms milliseconds, resuming after signals. */
void clock_sleep_ms(uint64_t ms);

#endif
