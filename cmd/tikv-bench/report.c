/*
 * The summary of a phase: a table for people, or CSV or JSON for
 * scripts.  Latencies are microseconds in CSV and JSON, milliseconds in
 * the table.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define ROW_TOTAL	(-1)

static const double pcts[] = { 50, 95, 99, 99.9 };
#define NPCTS	(sizeof(pcts) / sizeof(pcts[0]))

static const char *
phase_name(int phase)
{
	return phase == PHASE_LOAD ? "load" : "run";
}

static double
per_sec(uint64_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0;
}

/* The rows: operations that ran or failed, then the total. */
static int
row_used(const struct result *res, int op)
{
	return hist_count(res->hist[op]) > 0 || res->errors[op] > 0;
}

static const struct hist *
row_hist(const struct result *res, int row)
{
	return row == ROW_TOTAL ? res->total : res->hist[row];
}

static uint64_t
row_errors(const struct result *res, int row)
{
	return row == ROW_TOTAL ? result_errors(res) : res->errors[row];
}

/* --- text ---------------------------------------------------------------- */

struct wrap {
	FILE *fp;
	int col;
};

static void
text_prop(const char *name, const char *value, int numeric, void *arg)
{
	struct wrap *wr = arg;
	int len = (int)(strlen(name) + 1 + strlen(value));

	if (wr->col + 1 + len > 78) {
		fputs("\n ", wr->fp);
		wr->col = 1;
	}
	wr->col += fprintf(wr->fp, " %s=%s", name, value);
}

static void
text_row(FILE *fp, const struct result *res, int row)
{
	const struct hist *h = row_hist(res, row);
	size_t i;

	fprintf(fp, "%-18s %10" PRIu64 " %10.1f", row == ROW_TOTAL ?
	    "TOTAL" : op_name(row), hist_count(h),
	    per_sec(hist_count(h), res->elapsed));
	for (i = 0; i < NPCTS; i++)
		fprintf(fp, " %8.3f", (double)hist_percentile(h, pcts[i]) /
		    1000);
	fprintf(fp, " %8.3f %7" PRIu64 "\n", (double)hist_max(h) / 1000,
	    row_errors(res, row));
}

static void
report_text(FILE *fp, const struct bench *b, const struct result *res)
{
	struct wrap wr = { fp, 0 };
	size_t i;
	int op;

	fprintf(fp, "%s: workload %s, %s, %d thread%s, depth %d",
	    phase_name(b->phase), b->w->name, b->mode, b->threads,
	    b->threads == 1 ? "" : "s", b->depth);
	if (b->rate > 0)
		fprintf(fp, ", target %" PRIu64 " ops/s", b->rate);
	fprintf(fp, ": %.2f s measured", res->elapsed);
	if (b->phase == PHASE_RUN && b->warmup > 0)
		fprintf(fp, " after %" PRIu64 " s warm-up", b->warmup);
	fprintf(fp, "%s\n", res->interrupted ? " (interrupted)" : "");
	wr.col = fprintf(fp, "properties:");
	workload_each(b->w, text_prop, &wr);
	fprintf(fp, "\n\n%-18s %10s %10s %8s %8s %8s %8s %8s %7s\n",
	    "operation", "count", "ops/s", "p50 ms", "p95 ms", "p99 ms",
	    "p99.9 ms", "max ms", "errors");
	for (op = 0; op < OP_COUNT; op++)
		if (row_used(res, op))
			text_row(fp, res, op);
	text_row(fp, res, ROW_TOTAL);
	if (res->nkinds == 0) {
		fprintf(fp, "\nerrors: none\n");
		return;
	}
	fprintf(fp, "\nerrors by kind:\n");
	for (i = 0; i < res->nkinds; i++)
		fprintf(fp, "  %-20s %10" PRIu64 "  first: %s\n",
		    res->kinds[i].kind, res->kinds[i].count,
		    res->kinds[i].sample);
}

/* --- CSV ----------------------------------------------------------------- */

static void
csv_row(FILE *fp, const struct bench *b, const struct result *res, int row)
{
	const struct hist *h = row_hist(res, row);
	size_t i;

	fprintf(fp, "%s,%s,%s,%d,%d,%s,%" PRIu64 ",%.1f",
	    phase_name(b->phase), b->w->name, b->mode, b->threads, b->depth,
	    row == ROW_TOTAL ? "TOTAL" : op_name(row), hist_count(h),
	    per_sec(hist_count(h), res->elapsed));
	for (i = 0; i < NPCTS; i++)
		fprintf(fp, ",%" PRIu64, hist_percentile(h, pcts[i]));
	fprintf(fp, ",%" PRIu64 ",%" PRIu64 "\n", hist_max(h),
	    row_errors(res, row));
}

static void
report_csv(FILE *fp, const struct bench *b, const struct result *res)
{
	size_t i;
	int op;

	fprintf(fp, "phase,workload,mode,threads,depth,op,count,ops_per_s,"
	    "p50_us,p95_us,p99_us,p999_us,max_us,errors\n");
	for (op = 0; op < OP_COUNT; op++)
		if (row_used(res, op))
			csv_row(fp, b, res, op);
	csv_row(fp, b, res, ROW_TOTAL);
	/* Error kinds: the count in the errors column, nothing else. */
	for (i = 0; i < res->nkinds; i++)
		fprintf(fp, "%s,%s,%s,%d,%d,error:%s,,,,,,,,%" PRIu64 "\n",
		    phase_name(b->phase), b->w->name, b->mode, b->threads,
		    b->depth, res->kinds[i].kind, res->kinds[i].count);
}

/* --- JSON ---------------------------------------------------------------- */

static void
json_str(FILE *fp, const char *s)
{
	const unsigned char *p;

	putc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			putc(*p, fp);
	}
	putc('"', fp);
}

struct jprops {
	FILE *fp;
	int n;
};

static void
json_prop(const char *name, const char *value, int numeric, void *arg)
{
	struct jprops *j = arg;

	fprintf(j->fp, "%s", j->n++ ? ", " : "");
	json_str(j->fp, name);
	fputs(": ", j->fp);
	if (numeric)
		fputs(value, j->fp);
	else
		json_str(j->fp, value);
}

static void
json_row(FILE *fp, const struct result *res, int row)
{
	const struct hist *h = row_hist(res, row);

	fprintf(fp, "{\"op\": \"%s\", \"count\": %" PRIu64
	    ", \"ops_per_s\": %.1f, \"p50_us\": %" PRIu64 ", \"p95_us\": %"
	    PRIu64 ", \"p99_us\": %" PRIu64 ", \"p999_us\": %" PRIu64
	    ", \"max_us\": %" PRIu64 ", \"errors\": %" PRIu64 "}",
	    row == ROW_TOTAL ? "TOTAL" : op_name(row), hist_count(h),
	    per_sec(hist_count(h), res->elapsed),
	    hist_percentile(h, pcts[0]), hist_percentile(h, pcts[1]),
	    hist_percentile(h, pcts[2]), hist_percentile(h, pcts[3]),
	    hist_max(h), row_errors(res, row));
}

static void
report_json(FILE *fp, const struct bench *b, const struct result *res)
{
	struct jprops j = { fp, 0 };
	size_t i;
	int op, n = 0;

	fprintf(fp, "{\n  \"phase\": \"%s\",\n  \"workload\": \"%s\",\n"
	    "  \"mode\": \"%s\",\n  \"threads\": %d,\n  \"depth\": %d,\n"
	    "  \"rate\": %" PRIu64 ",\n  \"warmup_s\": %" PRIu64 ",\n"
	    "  \"elapsed_s\": %.3f,\n  \"interrupted\": %s,\n",
	    phase_name(b->phase), b->w->name, b->mode, b->threads, b->depth,
	    b->rate, b->phase == PHASE_RUN ? b->warmup : 0, res->elapsed,
	    res->interrupted ? "true" : "false");
	fputs("  \"properties\": {", fp);
	workload_each(b->w, json_prop, &j);
	fputs("},\n  \"ops\": [\n", fp);
	for (op = 0; op < OP_COUNT; op++) {
		if (!row_used(res, op))
			continue;
		fputs(n++ ? ",\n    " : "    ", fp);
		json_row(fp, res, op);
	}
	fputs(n ? "\n  ],\n  \"total\": " : "  ],\n  \"total\": ", fp);
	json_row(fp, res, ROW_TOTAL);
	fputs(",\n  \"errors\": [", fp);
	for (i = 0; i < res->nkinds; i++) {
		fputs(i ? ",\n    " : "\n    ", fp);
		fprintf(fp, "{\"kind\": \"%s\", \"count\": %" PRIu64
		    ", \"first\": ", res->kinds[i].kind,
		    res->kinds[i].count);
		json_str(fp, res->kinds[i].sample);
		putc('}', fp);
	}
	fputs(res->nkinds ? "\n  ]\n}\n" : "]\n}\n", fp);
}

void
report_print(FILE *fp, int format, const struct bench *b,
    const struct result *res)
{
	switch (format) {
	case FORMAT_CSV:
		report_csv(fp, b, res);
		break;
	case FORMAT_JSON:
		report_json(fp, b, res);
		break;
	default:
		report_text(fp, b, res);
		break;
	}
	fflush(fp);
}
