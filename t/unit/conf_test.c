/*
 * conf: good files give the values a user wrote, bad files are refused with
 * the exact "file:line: message", conf_set and conf_dump agree with
 * conf_load, and the sample configs in contrib/ are valid and complete.
 *
 * Runs in a fresh temporary directory so messages name "bad.toml"; the
 * source tree is $TIKV_SRC or the directory the test started in.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "schema.h"
#include "tap.h"

struct tcfg {
	char *name;
	char *s;
	char *esc;
	int64_t i;
	int64_t neg;
	int b;
	uint64_t sz;
	uint64_t dur;
	char **list;
	char *level;
	char *nonempty;
};

#define T(f)	offsetof(struct tcfg, f)

static const struct conf_key tschema[] = {
	{ .section = "", .name = "name", .type = CONF_STRING,
	  .offset = T(name), .def = "x", .help = "top-level" },
	{ .section = "a", .name = "s", .type = CONF_STRING,
	  .offset = T(s), .def = "", .help = "string" },
	{ .section = "a", .name = "esc", .type = CONF_STRING,
	  .offset = T(esc), .def = "", .help = "escapes" },
	{ .section = "a", .name = "i", .type = CONF_INT,
	  .offset = T(i), .min = 1, .max = 100, .def = "5", .help = "int" },
	{ .section = "a", .name = "b", .type = CONF_BOOL,
	  .offset = T(b), .def = "false", .help = "bool" },
	{ .section = "a", .name = "sz", .type = CONF_SIZE,
	  .offset = T(sz), .def = "1MiB", .help = "size" },
	{ .section = "a", .name = "dur", .type = CONF_DURATION,
	  .offset = T(dur), .min = 1000, .def = "10s", .help = "duration" },
	{ .section = "a", .name = "list", .type = CONF_STRLIST,
	  .offset = T(list), .def = "[\"p\"]", .help = "list" },
	{ .section = "a.b", .name = "level", .type = CONF_STRING,
	  .offset = T(level), .def = "info", .choices = "error|warn|info|debug",
	  .help = "choice" },
	{ .section = "c", .name = "neg", .type = CONF_INT,
	  .offset = T(neg), .min = -10, .max = 10, .def = "-3",
	  .help = "signed" },
	{ .section = "c", .name = "nonempty", .type = CONF_STRING,
	  .offset = T(nonempty), .min = 1, .def = "d", .help = "min 1" },
	{ .name = NULL }
};

static char srcdir[PATH_MAX];

/* The reason of a failure, for test names; empty on success. */
static const char *
why(int rc)
{
	return rc == 0 ? "ok" : log_reason();
}

static void
spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) == EOF) {
		printf("Bail out! cannot write '%s': %s\n", path,
		    strerror(errno));
		exit(1);
	}
}

static int
load_text(struct tcfg *c, const char *text)
{
	memset(c, 0, sizeof(*c));
	if (conf_defaults(tschema, c) == -1)
		return -1;
	spew("t.toml", text);
	return conf_load(tschema, c, "t.toml");
}

static void
bad(const char *text, const char *want, const char *what)
{
	struct tcfg c;

	memset(&c, 0, sizeof(c));
	conf_defaults(tschema, &c);
	spew("bad.toml", text);
	if (ok(conf_load(tschema, &c, "bad.toml") == -1, "refuses %s", what))
		is_str(log_reason(), want, "  message for %s", what);
	else
		ok(0, "  message for %s", what);
	conf_free(tschema, &c);
}

static void
test_good(void)
{
	struct tcfg c;
	int rc;

	memset(&c, 0, sizeof(c));
	ok(conf_defaults(tschema, &c) == 0, "defaults apply");
	is_str(c.name, "x", "default string");
	is_str(c.s, "", "empty default string is \"\", not NULL");
	is_int(c.i, 5, "default int");
	is_int(c.sz, 1 << 20, "default size");
	is_int(c.dur, 10000, "default duration");
	ok(c.list && c.list[0] && strcmp(c.list[0], "p") == 0 && !c.list[1],
	    "default list");
	is_int(c.neg, -3, "default negative int");
	conf_free(tschema, &c);

	rc = load_text(&c,
	    "\xef\xbb\xbf# a comment first\n"
	    "name = \"top # not a comment\"   # a comment after\n"
	    "\n"
	    "   \t\n"
	    "[a]   # section comment\n"
	    "    s = 'lit\\eral; \"x\" # kept'\n"
	    "\tesc=\"t\\tn\\nb\\\\q\\\"r\\r\"\n"
	    "  i = +4_2\n"
	    "b = true\n"
	    "sz = \"1.5GiB\"\n"
	    "dur = \"1m30s\"\n"
	    "list = [ \"x\", 'y#z',\"q\\\"uote\" , ]  # trailing comma\n"
	    "[a.b]\n"
	    "level = \"debug\"\n"
	    "[ c ]\n"
	    "neg = -10\n");
	ok(rc == 0, "a file with every type loads: %s", why(rc));
	is_str(c.name, "top # not a comment", "'#' inside a string is kept");
	is_str(c.s, "lit\\eral; \"x\" # kept",
	    "literal string: no escapes, ';' and '#' kept");
	is_str(c.esc, "t\tn\nb\\q\"r\r", "basic string escapes");
	is_int(c.i, 42, "integer with sign and '_', indented");
	is_int(c.b, 1, "boolean");
	is_int(c.sz, 1536ULL << 20, "fractional size");
	is_int(c.dur, 90000, "compound duration");
	ok(c.list && c.list[0] && strcmp(c.list[0], "x") == 0 &&
	    c.list[1] && strcmp(c.list[1], "y#z") == 0 &&
	    c.list[2] && strcmp(c.list[2], "q\"uote") == 0 && !c.list[3],
	    "array of strings, trailing comma, '#' in an element");
	is_str(c.level, "debug", "dotted section [a.b]");
	is_int(c.neg, -10, "negative integer at its minimum");
	conf_free(tschema, &c);

	rc = load_text(&c, "[a]\r\ni = 7\r\nb = false\r\nlist = []\r\n");
	ok(rc == 0,
	    "CRLF line ends and an empty array: %s", why(rc));
	is_int(c.i, 7, "value on a CRLF line");
	ok(c.list && c.list[0] == NULL, "empty array is an empty list");
	conf_free(tschema, &c);

	rc = load_text(&c, "a.i = 9\nc.neg = 1\n");
	ok(rc == 0,
	    "dotted keys at top level: %s", why(rc));
	is_int(c.i + c.neg, 10, "dotted keys set their section's keys");
	conf_free(tschema, &c);
}

static void
test_long_line(void)
{
	struct buf b = BUF_INIT, want = BUF_INIT;
	struct tcfg c;
	int i, rc;

	for (i = 0; i < 300; i++)
		buf_addstr(&want, i % 50 == 0 ? " ; " : "abcdefghij");
	buf_printf(&b, "[a]\ns = \"%s\"\ni = 3\n", (char *)want.data);
	rc = load_text(&c, (char *)b.data);
	ok(rc == 0, "a 3000-byte line loads: %s",
	    why(rc));
	is_str(c.s, (char *)want.data, "long value with ' ; ' is intact");
	is_int(c.i, 3, "the line after a long line is read");
	conf_free(tschema, &c);
	buf_free(&b);
	buf_free(&want);
}

static void
test_bad(void)
{
	bad("[a]\ni = 1\nfoo = 2\n", "bad.toml:3: unknown key 'a.foo'",
	    "an unknown key");
	bad("nope = 1\n", "bad.toml:1: unknown key 'nope'",
	    "an unknown top-level key");
	bad("name = \"n\"\n\n[raftstor]\ni = 1\n",
	    "bad.toml:3: unknown section '[raftstor]'", "an unknown section");
	bad("[a]\nsz = \"96MiBs\"\n",
	    "bad.toml:2: bad value for 'a.sz': expected a size like \"96MiB\"",
	    "a bad size unit");
	bad("[a]\nsz = -1\n",
	    "bad.toml:2: bad value for 'a.sz': expected a size like \"96MiB\"",
	    "a negative size");
	bad("[a]\ndur = \"10\"\n",
	    "bad.toml:2: bad value for 'a.dur': expected a duration like "
	    "\"10s\"", "a duration without a unit");
	bad("[a]\ndur = 10\n",
	    "bad.toml:2: bad value for 'a.dur': expected a duration like "
	    "\"10s\"", "an unquoted duration");
	bad("[a]\ndur = \"1s1m\"\n",
	    "bad.toml:2: bad value for 'a.dur': expected a duration like "
	    "\"10s\"", "duration units out of order");
	bad("[a]\ndur = \"500ms\"\n",
	    "bad.toml:2: out of range for 'a.dur': 500ms (must be at least 1s)",
	    "a duration below its minimum");
	bad("[a]\n\ns = \"abc\n",
	    "bad.toml:3: unterminated string", "an unterminated string");
	bad("[a]\ns = 'abc\n",
	    "bad.toml:2: unterminated string", "an unterminated literal");
	bad("[a]\ni = 101\n",
	    "bad.toml:2: out of range for 'a.i': 101 (must be 1..100)",
	    "an integer above its maximum");
	bad("[c]\nneg = -11\n",
	    "bad.toml:2: out of range for 'c.neg': -11 (must be -10..10)",
	    "an integer below its minimum");
	bad("[a]\ni = 99999999999999999999\n",
	    "bad.toml:2: bad value for 'a.i': expected an integer",
	    "an integer that overflows");
	bad("[a]\ni = 1__0\n",
	    "bad.toml:2: bad value for 'a.i': expected an integer",
	    "a doubled underscore");
	bad("[a]\ni = \"7\"\n",
	    "bad.toml:2: bad value for 'a.i': expected an integer",
	    "a quoted integer");
	bad("[a]\ni = 1\nb = true\ni = 2\n",
	    "bad.toml:4: duplicate key 'a.i'", "a duplicate key");
	bad("[a]\ni = 1\n[c]\n[a]\n",
	    "bad.toml:4: duplicate section '[a]'", "a duplicate section");
	bad("[a]\nthis is garbage\n",
	    "bad.toml:2: syntax error: expected 'key = value'",
	    "a garbage line");
	bad("[a]\ni: 3\n",
	    "bad.toml:2: syntax error: expected 'key = value'",
	    "an INI-style ':' separator");
	bad("[a\ni = 1\n",
	    "bad.toml:1: syntax error: bad section header",
	    "an unclosed section header");
	bad("[[a]]\n",
	    "bad.toml:1: syntax error: arrays of tables are not supported",
	    "an array of tables");
	bad("[a]\ni =\n",
	    "bad.toml:2: syntax error: missing value", "a missing value");
	bad("[a]\ni = 1 2\n",
	    "bad.toml:2: syntax error: unexpected text after the value",
	    "text after a value");
	bad("[a]\ns = \"x\\q\"\n",
	    "bad.toml:2: bad escape '\\q' in string", "a bad escape");
	bad("[a]\nb = yes\n",
	    "bad.toml:2: bad value for 'a.b': expected true or false",
	    "a bad boolean");
	bad("[a]\ns = 3\n",
	    "bad.toml:2: bad value for 'a.s': expected a string like \"text\"",
	    "an unquoted string");
	bad("[a]\nlist = \"x\"\n",
	    "bad.toml:2: bad value for 'a.list': expected an array of strings "
	    "like [\"a\", \"b\"]", "a string for a list");
	bad("[a]\nlist = [\"x\", 3]\n",
	    "bad.toml:2: syntax error: expected a string in the array",
	    "a number in a list");
	bad("[a]\nlist = [\"x\",\n\"y\"]\n",
	    "bad.toml:2: syntax error: unterminated array",
	    "a multi-line array");
	bad("[a.b]\nlevel = \"verbose\"\n",
	    "bad.toml:2: bad value for 'a.b.level': expected one of error, "
	    "warn, info, debug", "a word not among the choices");
	bad("[c]\nnonempty = \"\"\n",
	    "bad.toml:2: bad value for 'c.nonempty': must not be empty",
	    "an empty string where one is required");
	bad("[a]\ni = 1\n    foo = 2\n",
	    "bad.toml:3: unknown key 'a.foo'",
	    "an indented line is a key, not a continuation");
	bad("# one\r\n# two\r\n[a]\r\nzz = 1\r\n",
	    "bad.toml:4: unknown key 'a.zz'", "a CRLF file's line numbers");

	{
		struct tcfg c;

		memset(&c, 0, sizeof(c));
		conf_defaults(tschema, &c);
		ok(conf_load(tschema, &c, "nope.toml") == -1,
		    "refuses a missing file");
		is_str(log_reason(), "cannot open 'nope.toml': No such file "
		    "or directory", "  message for a missing file");
		conf_free(tschema, &c);
	}
}

static void
test_units(void)
{
	static const struct {
		const char *text;
		uint64_t want;
	} sizes[] = {
		{ "1024", 1024 }, { "1_024", 1024 }, { "\"100B\"", 100 },
		{ "\"512KB\"", 512 << 10 }, { "\"512KiB\"", 512 << 10 },
		{ "\"1K\"", 1024 }, { "\"96MB\"", 96 << 20 },
		{ "\"96MiB\"", 96 << 20 }, { "'1GB'", 1ULL << 30 },
		{ "\"1GiB\"", 1ULL << 30 }, { "\"2TB\"", 2ULL << 40 },
		{ "\"2TiB\"", 2ULL << 40 }, { "\"1PiB\"", 1ULL << 50 },
		{ "\"1.5KiB\"", 1536 }, { "\"0.5MB\"", 512 << 10 },
		{ "\"8 MiB\"", 8 << 20 }, { "\"0B\"", 0 }, { "0", 0 },
		{ "96MiB", 96 << 20 },
	};
	static const char *badsizes[] = {
		"\"96MiBs\"", "\"-1MiB\"", "\"MiB\"", "\"1.2.3KiB\"", "\"\"",
		"\"1XB\"", "\"16777216PiB\"", "1.5", "true",
	};
	static const struct {
		const char *text;
		uint64_t want;
	} durs[] = {
		{ "\"1s\"", 1000 }, { "\"500ms\"", 500 }, { "\"10s\"", 10000 },
		{ "\"1m30s\"", 90000 }, { "\"1h\"", 3600000 },
		{ "\"2d\"", 172800000 }, { "\"1h30m\"", 5400000 },
		{ "\"1.5s\"", 1500 }, { "\"1d2h3m4s5ms\"", 93784005 },
		{ "\"0s\"", 0 }, { "1m", 60000 },
	};
	static const char *baddurs[] = {
		"\"10\"", "\"1x\"", "\"1s1m\"", "\"\"", "\"s\"", "\"1s1s\"",
		"\"-1s\"", "10", "\"1 s\"",
	};
	struct tcfg c;
	size_t i;

	memset(&c, 0, sizeof(c));
	conf_defaults(tschema, &c);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		c.sz = 7;
		ok(conf_set(tschema, &c, "a.sz", sizes[i].text) == 0 &&
		    c.sz == sizes[i].want, "size %s is %llu (got %llu)",
		    sizes[i].text, (unsigned long long)sizes[i].want,
		    (unsigned long long)c.sz);
	}
	for (i = 0; i < sizeof(badsizes) / sizeof(badsizes[0]); i++) {
		c.sz = 7;
		ok(conf_set(tschema, &c, "a.sz", badsizes[i]) == -1 &&
		    c.sz == 7, "size %s refused, value unchanged",
		    badsizes[i]);
	}
	/* dur has a 1s minimum; "0s" and "500ms" need a schema without. */
	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		struct conf_key k = tschema[6];
		struct conf_key one[2];

		k.min = 0;
		one[0] = k;
		memset(&one[1], 0, sizeof(one[1]));
		c.dur = 7;
		ok(conf_set(one, &c, "a.dur", durs[i].text) == 0 &&
		    c.dur == durs[i].want, "duration %s is %llu ms (got %llu)",
		    durs[i].text, (unsigned long long)durs[i].want,
		    (unsigned long long)c.dur);
	}
	for (i = 0; i < sizeof(baddurs) / sizeof(baddurs[0]); i++) {
		c.dur = 7;
		ok(conf_set(tschema, &c, "a.dur", baddurs[i]) == -1 &&
		    c.dur == 7, "duration %s refused, value unchanged",
		    baddurs[i]);
	}
	conf_free(tschema, &c);
}

static void
test_set(void)
{
	struct tcfg c;

	memset(&c, 0, sizeof(c));
	conf_defaults(tschema, &c);
	ok(conf_set(tschema, &c, "a.i", "77") == 0 && c.i == 77,
	    "conf_set an integer");
	ok(conf_set(tschema, &c, "a.b", "true") == 0 && c.b == 1,
	    "conf_set a boolean");
	ok(conf_set(tschema, &c, "name", "\"quoted # x\"") == 0 &&
	    strcmp(c.name, "quoted # x") == 0, "conf_set a quoted string");
	ok(conf_set(tschema, &c, "name", "tcp://h:1") == 0 &&
	    strcmp(c.name, "tcp://h:1") == 0, "conf_set an unquoted string");
	ok(conf_set(tschema, &c, "a.dur", "2m") == 0 && c.dur == 120000,
	    "conf_set an unquoted duration");
	ok(conf_set(tschema, &c, "a.list", "[\"u\", \"v\"]") == 0 &&
	    strcmp(c.list[1], "v") == 0 && c.list[2] == NULL,
	    "conf_set an array");
	ok(conf_set(tschema, &c, "a.list", "tcp://a:1, tcp://b:2") == 0 &&
	    strcmp(c.list[0], "tcp://a:1") == 0 &&
	    strcmp(c.list[1], "tcp://b:2") == 0 && c.list[2] == NULL,
	    "conf_set a comma-separated list");
	ok(conf_set(tschema, &c, "a.b.level", "warn") == 0 &&
	    strcmp(c.level, "warn") == 0, "conf_set in a dotted section");
	ok(conf_set(tschema, &c, "a.nope", "1") == -1,
	    "conf_set an unknown key");
	is_str(log_reason(), "unknown key 'a.nope'", "  its message");
	ok(conf_set(tschema, &c, "a.i", "0") == -1 && c.i == 77,
	    "conf_set out of range keeps the old value");
	is_str(log_reason(), "out of range for 'a.i': 0 (must be 1..100)",
	    "  its message");
	ok(conf_set(tschema, &c, "a.sz", "lots") == -1,
	    "conf_set a bad size");
	is_str(log_reason(),
	    "bad value for 'a.sz': expected a size like \"96MiB\"",
	    "  its message");
	ok(conf_set(tschema, &c, "a.i", "\"1") == -1,
	    "conf_set an unterminated string");
	is_str(log_reason(), "bad value for 'a.i': unterminated string",
	    "  its message");

	/* A file is read over defaults; conf_set overrides after it. */
	conf_free(tschema, &c);
	ok(load_text(&c, "[a]\ni = 10\n") == 0 &&
	    conf_set(tschema, &c, "a.i", "11") == 0 && c.i == 11 &&
	    c.sz == 1 << 20, "defaults, then the file, then conf_set");
	conf_free(tschema, &c);
	ok(c.name == NULL && c.list == NULL, "conf_free leaves NULLs");
}

static void
test_dump(void)
{
	struct buf d1 = BUF_INIT, d2 = BUF_INIT;
	struct tcfg c, r;
	int rc;

	ok(load_text(&c,
	    "name = \"q\\\"\\\\\\n\\t\"\n"
	    "[a]\ns = 'it''s'\ni = 13\nb = true\nsz = 12345\n"
	    "dur = \"1d1ms\"\nlist = [\"a b\", \"\", \"#\"]\n"
	    "[c]\nneg = -4\n") == -1, "TOML '' is not an escape");
	conf_free(tschema, &c);
	rc = load_text(&c,
	    "name = \"q\\\"\\\\\\n\\t\"\n"
	    "[a]\ns = 'its'\ni = 13\nb = true\nsz = 12345\n"
	    "dur = \"1d1ms\"\nlist = [\"a b\", \"\", \"#\"]\n"
	    "[c]\nneg = -4\n");
	ok(rc == 0, "a file to dump loads: %s",
	    why(rc));
	conf_dump(tschema, &c, &d1);
	spew("dump.toml", (char *)d1.data);
	memset(&r, 0, sizeof(r));
	conf_defaults(tschema, &r);
	rc = conf_load(tschema, &r, "dump.toml");
	ok(rc == 0, "the dump loads: %s",
	    why(rc));
	conf_dump(tschema, &r, &d2);
	is_str((char *)d2.data, (char *)d1.data, "its dump is the same");
	is_str(r.name, "q\"\\\n\t", "a string with escapes round-trips");
	is_int(r.sz, 12345, "an odd size round-trips");
	is_int(r.dur, 86400001, "a duration round-trips");
	ok(r.list[2] && strcmp(r.list[2], "#") == 0 && r.list[1][0] == '\0',
	    "a list round-trips");
	is_int(r.neg, -4, "a negative integer round-trips");
	ok(strstr((char *)d1.data, "sz = \"12345B\"\n") != NULL &&
	    strstr((char *)d1.data, "dur = \"1d1ms\"\n") != NULL &&
	    strncmp((char *)d1.data, "name = ", 7) == 0 &&
	    strstr((char *)d1.data, "\n[a.b]\nlevel = \"info\"\n") != NULL,
	    "the dump is readable TOML, top-level keys first");
	conf_free(tschema, &c);
	conf_free(tschema, &r);
	buf_free(&d1);
	buf_free(&d2);
}

/* A daemon schema: sample file valid, complete, at the defaults. */
static void
test_sample(const char *kind, const struct conf_key *schema, size_t size)
{
	char path[PATH_MAX + 32], full[128];
	struct buf d1 = BUF_INIT, d2 = BUF_INIT;
	const struct conf_key *k;
	const char *got = NULL;
	void *a = calloc(1, size), *b = calloc(1, size);
	int missing = 0, rc;

	snprintf(path, sizeof(path), "%s/contrib/%s.toml", srcdir, kind);
	rc = conf_defaults(schema, a);
	ok(rc == 0, "%s defaults apply: %s", kind, why(rc));
	rc = schema_check(path, NULL, &got);
	ok(rc == 0, "contrib/%s.toml is valid: %s", kind, why(rc));
	is_str(got, kind, "  and is taken for a %s config", kind);
	ok(schema_check(path, kind, NULL) == 0, "  also when named as %s",
	    kind);
	conf_defaults(schema, b);
	ok(conf_load(schema, b, path) == 0, "contrib/%s.toml loads", kind);
	conf_dump(schema, a, &d1);
	conf_dump(schema, b, &d2);
	is_str((char *)d2.data, (char *)d1.data,
	    "contrib/%s.toml holds the defaults", kind);
	for (k = schema; k->name; k++) {
		snprintf(full, sizeof(full), "%s%s%s", k->section,
		    *k->section ? "." : "", k->name);
		if (conf_lineof(path, full) == 0) {
			diag("contrib/%s.toml lacks '%s'", kind, full);
			missing++;
		}
		if (k->help == NULL || *k->help == '\0') {
			diag("'%s' has no help", full);
			missing++;
		}
	}
	ok(missing == 0, "contrib/%s.toml has every key, each with help",
	    kind);
	conf_free(schema, a);
	conf_free(schema, b);
	free(a);
	free(b);
	buf_free(&d1);
	buf_free(&d2);
}

static void
check(const char *file, const char *text, const char *kind, int want,
    const char *wantkind, const char *wantmsg)
{
	const char *got = NULL;
	int rc;

	spew(file, text);
	rc = schema_check(file, kind, &got);
	ok(rc == want, "config-check %s as %s: %s", file,
	    kind ? kind : "guessed", why(rc));
	if (wantkind)
		is_str(got, wantkind, "  kind of %s", file);
	if (wantmsg)
		is_str(rc == -1 ? log_reason() : "", wantmsg,
		    "  message for %s", file);
}

static void
test_schema(void)
{
	struct tikvd_config t;
	struct pdd_config p;

	memset(&t, 0, sizeof(t));
	memset(&p, 0, sizeof(p));
	ok(conf_defaults(schema_tikvd(), &t) == 0 &&
	    schema_validate_tikvd(&t, NULL) == 0, "tikvd defaults are valid");
	is_int(t.region_split_size, 96 << 20, "  region-split-size 96MiB");
	is_int(t.pd_heartbeat_tick_interval, 60000,
	    "  pd-heartbeat-tick-interval 60s");
	ok(strcmp(t.pd_endpoints[0], "tcp://127.0.0.1:2379") == 0 &&
	    t.pd_endpoints[1] == NULL, "  one PD endpoint");
	ok(conf_defaults(schema_pdd(), &p) == 0 &&
	    schema_validate_pdd(&p, NULL) == 0, "pdd defaults are valid");
	is_int(p.tso_save_interval, 3000, "  tso-save-interval 3s");
	is_str(p.client_urls, "tcp://127.0.0.1:2379", "  client-urls");
	conf_free(schema_tikvd(), &t);
	conf_free(schema_pdd(), &p);
	is_int(schema_log_level("debug"), LOG_LEVEL_DEBUG, "log level debug");
	is_int(schema_log_level("error"), LOG_LEVEL_WARN,
	    "log level error is WARN");

	check("pd1.toml", "name = \"pd1\"\n", NULL, 0, "pdd", NULL);
	check("tikv1.toml", "name = \"pd1\"\n", NULL, -1, "tikvd",
	    "tikv1.toml:1: unknown key 'name'");
	check("x.toml", "name = \"pd1\"\n", NULL, 0, "pdd", NULL);
	check("y.toml", "[pd]\nendpoints = [\"tcp://a:1\"]\n", NULL, 0,
	    "tikvd", NULL);
	check("z.toml", "[log]\nlevel = \"warn\"\n", NULL, 0, "pdd or tikvd",
	    NULL);
	check("w.toml", "[server]\naddr = \"tcp://h:1\"\nfoo = 1\n", NULL, -1,
	    "tikvd", "w.toml:3: unknown key 'server.foo'");
	check("v.toml", "[log]\nlevel = \"info\"\n\nname = \"x\"\n", NULL, -1,
	    "tikvd", "v.toml:4: unknown key 'log.name'");
	check("u.toml", "data-dir = \"d\"\n[raftstore]\n", NULL, -1, "pdd",
	    "u.toml:2: unknown section '[raftstore]'");
	check("tikvd-split.toml",
	    "[coprocessor]\nregion-max-size = \"144MiB\"\n"
	    "region-split-size = \"200MiB\"\n", NULL, -1, "tikvd",
	    "tikvd-split.toml:3: 'coprocessor.region-split-size' "
	    "(\"200MiB\") must not exceed 'coprocessor.region-max-size' "
	    "(\"144MiB\")");
	check("tikvd-max.toml",
	    "[coprocessor]\nregion-max-size = \"64MiB\"\n", NULL, -1, "tikvd",
	    "tikvd-max.toml:2: 'coprocessor.region-split-size' "
	    "(\"96MiB\") must not exceed 'coprocessor.region-max-size' "
	    "(\"64MiB\")");
	check("tikvd-ticks.toml",
	    "[raftstore]\n\nraft-election-timeout-ticks = 2\n", NULL, -1,
	    "tikvd", "tikvd-ticks.toml:3: 'raftstore.raft-election-timeout-"
	    "ticks' (2) must exceed 'raftstore.raft-heartbeat-ticks' (2)");
	check("tikvd-entry.toml",
	    "[server]\nmax-message-size = \"1MiB\"\n", NULL, -1, "tikvd",
	    "tikvd-entry.toml:2: 'raftstore.raft-entry-max-size' (\"8MiB\") "
	    "must not exceed 'server.max-message-size' (\"1MiB\")");
	check("tikvd-url.toml",
	    "[pd]\nendpoints = [\"tcp://a:1\", \"b:2\"]\n", NULL, -1, "tikvd",
	    "tikvd-url.toml:2: bad value for 'pd.endpoints': expected an nng "
	    "URL like \"tcp://127.0.0.1:2379\"");
	check("pd-empty.toml", "data-dir = ''\n", NULL, -1, "pdd",
	    "pd-empty.toml:1: bad value for 'data-dir': must not be empty");
	check("pd-replicas.toml", "[replication]\nmax-replicas = 9\n", NULL,
	    -1, "pdd", "pd-replicas.toml:2: out of range for "
	    "'replication.max-replicas': 9 (must be 1..7)");
	check("pd-tso.toml", "tso-save-interval = \"100ms\"\n", NULL, -1,
	    "pdd", "pd-tso.toml:1: out of range for 'tso-save-interval': "
	    "100ms (must be at least 1s)");
	check("pd-kind.toml", "[pd]\n", "tikvd", 0, "tikvd", NULL);
	check("q.toml", "", "etcd", -1, NULL,
	    "unknown config kind 'etcd'");
}

int
main(void)
{
	const char *src = getenv("TIKV_SRC");
	char tmpl[] = "/tmp/conf_test.XXXXXX";
	char cmd[64];

	if (realpath(src && *src ? src : ".", srcdir) == NULL) {
		printf("Bail out! no source tree: %s\n", strerror(errno));
		return 1;
	}
	if (mkdtemp(tmpl) == NULL || chdir(tmpl) == -1) {
		printf("Bail out! no temporary directory: %s\n",
		    strerror(errno));
		return 1;
	}
	test_good();
	test_long_line();
	test_bad();
	test_units();
	test_set();
	test_dump();
	test_sample("pdd", schema_pdd(), sizeof(struct pdd_config));
	test_sample("tikvd", schema_tikvd(), sizeof(struct tikvd_config));
	test_schema();
	if (chdir("/") == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			diag("cannot remove %s", tmpl);
	}
	return done_testing();
}
