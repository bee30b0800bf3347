/*
 * Latency histograms in the shape of HdrHistogram: log-linear buckets,
 * exact below 256 and within 1/128 (0.8%) of the value above, up to
 * HIST_MAX (larger values count as HIST_MAX).  Recording is one index
 * computation and an increment, so every worker keeps its own histogram
 * per operation type and they are merged once at the end.
 *
 * Values are microseconds for tikv-bench, but nothing here knows units.
 */
#ifndef HIST_H
#define HIST_H

#include <stdint.h>

#define HIST_MAX	((UINT64_C(1) << 32) - 1)

struct hist;

struct hist *hist_new(void);
void hist_free(struct hist *);
void hist_reset(struct hist *);
void hist_record(struct hist *, uint64_t);
/* Adds every value of src to dst. */
void hist_merge(struct hist *dst, const struct hist *src);

uint64_t hist_count(const struct hist *);
uint64_t hist_min(const struct hist *);
uint64_t hist_max(const struct hist *);
double hist_mean(const struct hist *);
/*
 * The smallest value v such that pct percent of the values recorded are
 * at most v, to the histogram's precision: the highest value of the
 * bucket that holds that rank, never above the largest value recorded.
 * 0 for an empty histogram.
 */
uint64_t hist_percentile(const struct hist *, double pct);

#endif
