#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "out.h"
#include "proto.h"

static int out_json;
static int out_in_list;
static int out_nrecords;	/* records begun in the current list */
static int out_nfields;		/* fields printed in the current record */

void
out_init(int json)
{
	out_json = json;
}

int
out_is_json(void)
{
	return out_json;
}

void
out_list_begin(void)
{
	out_in_list = 1;
	out_nrecords = 0;
	if (out_json)
		fputs("[", stdout);
}

void
out_list_end(void)
{
	out_in_list = 0;
	if (out_json)
		fputs(out_nrecords ? "\n]\n" : "]\n", stdout);
}

void
out_record_begin(void)
{
	if (out_json)
		fputs(out_in_list ? (out_nrecords ? ",\n  {" : "\n  {") : "{",
		    stdout);
	out_nrecords++;
	out_nfields = 0;
}

void
out_record_end(void)
{
	if (out_json)
		fputs(out_in_list ? "}" : "}\n", stdout);
	else
		fputs("\n", stdout);
}

static void
json_string(const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			printf("\\%c", p[i]);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			putchar(p[i]);
		else
			/* Bytes as code points U+0000-U+00FF: lossless. */
			printf("\\u%04x", p[i]);
	}
	putchar('"');
}

static void
field(const char *key)
{
	if (out_json) {
		if (out_nfields)
			fputs(", ", stdout);
		json_string(key, strlen(key));
		fputs(": ", stdout);
	} else if (out_nfields) {
		putchar(' ');
	}
	out_nfields++;
}

void
out_u64(const char *key, uint64_t v)
{
	field(key);
	printf("%" PRIu64, v);
}

void
out_bool(const char *key, int v)
{
	field(key);
	fputs(v ? "true" : "false", stdout);
}

void
out_str(const char *key, const char *s)
{
	field(key);
	if (out_json)
		json_string(s, strlen(s));
	else
		fputs(s, stdout);
}

void
out_bytes(const char *key, const void *p, size_t n)
{
	struct buf b = BUF_INIT;

	field(key);
	if (out_json) {
		json_string(p, n);
		return;
	}
	proto_escape(&b, p, n);
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
}

void
out_finish(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
}
