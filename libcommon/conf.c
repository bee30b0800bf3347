/*
 * Config files: a TOML subset on top of libinih.
 *
 * libinih splits lines into sections and name=value pairs and counts
 * lines, but its INI rules differ from TOML: a line that starts with
 * whitespace continues the previous value, only ';' starts an inline
 * comment (so "a;b" loses its tail), ':' separates keys too, and a line is
 * at most 200 bytes.  So our reader lexes each line itself, keeps the
 * decoded value aside in the parse context, and hands inih only a short
 * canonical line ("[section]", "key=v" or an empty line), one per input
 * line so inih's line numbers stay ours.  The handler then looks the key up
 * in the schema and stores the value kept aside.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "xmalloc.h"

/* Below inih's MAX_SECTION and MAX_NAME (50) with room to spare. */
#define CONF_NAMEMAX	48
#define CONF_ERRMAX	400

enum val_kind {
	VAL_NONE,
	VAL_STRING,	/* "basic" or 'literal', decoded */
	VAL_BARE,	/* integer, boolean, anything unquoted */
	VAL_ARRAY	/* of strings */
};

struct conf_val {
	enum val_kind kind;
	struct buf text;
	char **list;		/* VAL_ARRAY: NULL-terminated */
	size_t nlist;
};

struct conf_parse {
	const struct conf_key *schema;
	void *cfg;
	const char *p, *end;	/* the rest of the file */
	int lineno;		/* lines handed to inih */
	struct conf_val val;	/* value of the current line */
	unsigned char *seen;	/* per schema key: set in this file */
	char **sections;	/* headers seen, to refuse a second [x] */
	size_t nsections;
	int errline;
	char err[CONF_ERRMAX];
	const char *lookfor;	/* conf_lineof: the key wanted */
	int foundline;
};

static const struct {
	const char *name;
	uint64_t mult;
} conf_sizeunits[] = {
	{ "B", 1 },
	{ "K", 1ULL << 10 }, { "KB", 1ULL << 10 }, { "KiB", 1ULL << 10 },
	{ "M", 1ULL << 20 }, { "MB", 1ULL << 20 }, { "MiB", 1ULL << 20 },
	{ "G", 1ULL << 30 }, { "GB", 1ULL << 30 }, { "GiB", 1ULL << 30 },
	{ "T", 1ULL << 40 }, { "TB", 1ULL << 40 }, { "TiB", 1ULL << 40 },
	{ "P", 1ULL << 50 }, { "PB", 1ULL << 50 }, { "PiB", 1ULL << 50 },
};

/* Largest first: the order they must appear in, and are written in. */
static const struct {
	const char *name;
	uint64_t ms;
} conf_durunits[] = {
	{ "d", 86400000 },
	{ "h", 3600000 },
	{ "m", 60000 },
	{ "s", 1000 },
	{ "ms", 1 },
};

#define NDURUNITS	(sizeof(conf_durunits) / sizeof(conf_durunits[0]))

static const char *
conf_expected(enum conf_type t)
{
	switch (t) {
	case CONF_STRING:
		return "a string like \"text\"";
	case CONF_INT:
		return "an integer";
	case CONF_BOOL:
		return "true or false";
	case CONF_SIZE:
		return "a size like \"96MiB\"";
	case CONF_DURATION:
		return "a duration like \"10s\"";
	case CONF_STRLIST:
		return "an array of strings like [\"a\", \"b\"]";
	}
	return "a value";
}

static void
val_clear(struct conf_val *v)
{
	size_t i;

	for (i = 0; i < v->nlist; i++)
		free(v->list[i]);
	free(v->list);
	v->list = NULL;
	v->nlist = 0;
	buf_reset(&v->text);
	v->kind = VAL_NONE;
}

static void
val_free(struct conf_val *v)
{
	val_clear(v);
	buf_free(&v->text);
}

static void
val_push(struct conf_val *v, const char *s)
{
	v->list = xreallocarray(v->list, v->nlist + 2, sizeof(*v->list));
	v->list[v->nlist++] = xstrdup(s);
	v->list[v->nlist] = NULL;
}

static int
is_bare(int c)
{
	return isalnum(c) || c == '_' || c == '-';
}

static const char *
skip_ws(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/*
 * Lex one quoted string starting at *sp into out.  Returns 0 and moves *sp
 * past the closing quote, or -1 with err set.
 */
static int
lex_string(const char **sp, const char *e, struct buf *out, char *err,
    size_t errlen)
{
	const char *s = *sp;
	char q = *s++;

	buf_reset(out);
	for (; s < e && *s != q; s++) {
		if (q == '\'' || *s != '\\') {
			buf_addc(out, *s);
			continue;
		}
		if (++s == e)
			break;
		switch (*s) {
		case '\\':
		case '"':
			buf_addc(out, *s);
			break;
		case 'b':
			buf_addc(out, '\b');
			break;
		case 'f':
			buf_addc(out, '\f');
			break;
		case 'n':
			buf_addc(out, '\n');
			break;
		case 'r':
			buf_addc(out, '\r');
			break;
		case 't':
			buf_addc(out, '\t');
			break;
		default:
			snprintf(err, errlen, "bad escape '\\%c' in string",
			    isprint((unsigned char)*s) ? *s : '?');
			return -1;
		}
	}
	if (s == e) {
		snprintf(err, errlen, "unterminated string");
		return -1;
	}
	*sp = s + 1;
	return 0;
}

/*
 * Lex the value text [s, e) into v: one value, then only blanks or a
 * comment.  Returns 0, or -1 with err set.
 */
static int
lex_value(const char *s, const char *e, struct conf_val *v, char *err,
    size_t errlen)
{
	struct buf tmp = BUF_INIT;
	const char *b;

	val_clear(v);
	s = skip_ws(s, e);
	if (s == e || *s == '#') {
		snprintf(err, errlen, "syntax error: missing value");
		return -1;
	}
	if (*s == '"' || *s == '\'') {
		if (lex_string(&s, e, &v->text, err, errlen) == -1)
			return -1;
		v->kind = VAL_STRING;
	} else if (*s == '[') {
		v->kind = VAL_ARRAY;
		v->list = xcalloc(1, sizeof(*v->list));
		s = skip_ws(s + 1, e);
		while (s < e && *s != ']') {
			if (*s != '"' && *s != '\'') {
				snprintf(err, errlen, "syntax error: %s",
				    *s == '#' ? "arrays must be on one line" :
				    "expected a string in the array");
				buf_free(&tmp);
				return -1;
			}
			if (lex_string(&s, e, &tmp, err, errlen) == -1) {
				buf_free(&tmp);
				return -1;
			}
			val_push(v, (char *)tmp.data);
			s = skip_ws(s, e);
			if (s < e && *s == ',')
				s = skip_ws(s + 1, e);
			else if (s < e && *s != ']')
				break;
		}
		buf_free(&tmp);
		if (s == e || *s != ']') {
			snprintf(err, errlen, "syntax error: %s",
			    s == e || *s == '#' ? "unterminated array" :
			    "expected ',' or ']' in the array");
			return -1;
		}
		s++;
	} else {
		for (b = s; s < e && !isspace((unsigned char)*s) && *s != '#';
		    s++)
			;
		buf_add(&v->text, b, (size_t)(s - b));
		v->kind = VAL_BARE;
	}
	s = skip_ws(s, e);
	if (s < e && *s != '#') {
		snprintf(err, errlen, "syntax error: unexpected text after "
		    "the value");
		return -1;
	}
	return 0;
}

/* [+-]digits with '_' only between digits. */
static int
parse_int(const char *s, int64_t *out)
{
	uint64_t v = 0, lim;
	int neg = 0, digit = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; *s; s++) {
		if (*s == '_') {
			if (!digit || !isdigit((unsigned char)s[1]))
				return -1;
			digit = 0;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return -1;
		if (v > (lim - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		digit = 1;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/*
 * "12", "1.5" times mult, truncated; *sp moves past the number.  Returns
 * -1 on no digits or overflow.
 */
static int
parse_scaled(const char **sp, uint64_t mult, uint64_t *out)
{
	const char *s = *sp;
	uint64_t whole = 0, frac = 0, scale = 1;
	int n = 0;

	for (; isdigit((unsigned char)*s); s++, n++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -1;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		s++;
		for (; isdigit((unsigned char)*s); s++, n++) {
			/* A millionth of the unit is as fine as we go. */
			if (scale < 1000000) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
		}
	}
	if (n == 0)
		return -1;
	if (whole != 0 && mult > UINT64_MAX / whole)
		return -1;
	whole *= mult;
	/* frac * mult / scale without overflow: frac < scale <= 10^6. */
	frac = frac * (mult / scale) + frac * (mult % scale) / scale;
	if (whole > UINT64_MAX - frac)
		return -1;
	*out = whole + frac;
	*sp = s;
	return 0;
}

static int
parse_size(const char *s, uint64_t *out)
{
	const char *u;
	uint64_t mult = 1;
	size_t i;

	for (u = s; isdigit((unsigned char)*u) || *u == '.'; u++)
		;
	while (*u == ' ')
		u++;
	if (*u != '\0') {
		for (i = 0; i < sizeof(conf_sizeunits) /
		    sizeof(conf_sizeunits[0]); i++)
			if (strcasecmp(u, conf_sizeunits[i].name) == 0)
				break;
		if (i == sizeof(conf_sizeunits) / sizeof(conf_sizeunits[0]))
			return -1;
		mult = conf_sizeunits[i].mult;
	}
	/* A fraction of a byte means a typo. */
	if (mult == 1 && strchr(s, '.') != NULL)
		return -1;
	if (parse_scaled(&s, mult, out) == -1)
		return -1;
	return *s == ' ' || *s == '\0' || isalpha((unsigned char)*s) ? 0 : -1;
}

/* "1h30m", "500ms", "1.5s": units in decreasing order, each at most once. */
static int
parse_duration(const char *s, uint64_t *out)
{
	uint64_t total = 0, v;
	const char *num, *unit;
	size_t i, next = 0;

	if (*s == '\0')
		return -1;
	while (*s) {
		num = s;
		while (isdigit((unsigned char)*s) || *s == '.')
			s++;
		for (unit = s; isalpha((unsigned char)*s); s++)
			;
		for (i = next; i < NDURUNITS; i++)
			if (strlen(conf_durunits[i].name) ==
			    (size_t)(s - unit) && strncmp(unit,
			    conf_durunits[i].name, (size_t)(s - unit)) == 0)
				break;
		if (i == NDURUNITS)
			return -1;
		next = i + 1;
		if (parse_scaled(&num, conf_durunits[i].ms, &v) == -1 ||
		    num != unit || total > UINT64_MAX - v)
			return -1;
		total += v;
	}
	*out = total;
	return 0;
}

static void
format_size(uint64_t v, struct buf *b)
{
	static const char *names[] = { "PiB", "TiB", "GiB", "MiB", "KiB" };
	int i;

	for (i = 0; i < 5 && v != 0; i++) {
		uint64_t m = 1ULL << (10 * (5 - i));

		if (v % m == 0) {
			buf_printf(b, "%" PRIu64 "%s", v / m, names[i]);
			return;
		}
	}
	buf_printf(b, "%" PRIu64 "B", v);
}

static void
format_duration(uint64_t v, struct buf *b)
{
	size_t i;

	if (v == 0) {
		buf_addstr(b, "0s");
		return;
	}
	for (i = 0; i < NDURUNITS; i++) {
		if (v >= conf_durunits[i].ms) {
			buf_printf(b, "%" PRIu64 "%s", v / conf_durunits[i].ms,
			    conf_durunits[i].name);
			v %= conf_durunits[i].ms;
		}
	}
}

static void
format_string(const char *s, struct buf *b)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		switch (*s) {
		case '"':
		case '\\':
			buf_addc(b, '\\');
			buf_addc(b, *s);
			break;
		case '\b':
			buf_addstr(b, "\\b");
			break;
		case '\f':
			buf_addstr(b, "\\f");
			break;
		case '\n':
			buf_addstr(b, "\\n");
			break;
		case '\r':
			buf_addstr(b, "\\r");
			break;
		case '\t':
			buf_addstr(b, "\\t");
			break;
		default:
			buf_addc(b, *s);
		}
	}
	buf_addc(b, '"');
}

static void
fullname(const struct conf_key *k, char *out, size_t len)
{
	if (k->section && *k->section)
		snprintf(out, len, "%s.%s", k->section, k->name);
	else
		snprintf(out, len, "%s", k->name);
}

static void *
field(const struct conf_key *k, const void *cfg)
{
	return (char *)cfg + k->offset;
}

/* The bounds of k as text, for "out of range" messages. */
static void
format_bounds(const struct conf_key *k, struct buf *b)
{
	if (k->type == CONF_INT) {
		if (k->max > 0)
			buf_printf(b, "must be %" PRId64 "..%" PRId64,
			    k->min, k->max);
		else
			buf_printf(b, "must be at least %" PRId64, k->min);
		return;
	}
	buf_addstr(b, k->max > 0 ? "must be " : "must be at least ");
	if (k->type == CONF_SIZE)
		format_size((uint64_t)k->min, b);
	else
		format_duration((uint64_t)k->min, b);
	if (k->max <= 0)
		return;
	buf_addstr(b, "..");
	if (k->type == CONF_SIZE)
		format_size((uint64_t)k->max, b);
	else
		format_duration((uint64_t)k->max, b);
}

static int
check_choice(const struct conf_key *k, const char *s)
{
	const char *c = k->choices, *bar;
	size_t n = strlen(s);

	while (c) {
		bar = strchr(c, '|');
		if ((bar ? (size_t)(bar - c) : strlen(c)) == n &&
		    strncmp(c, s, n) == 0)
			return 0;
		c = bar ? bar + 1 : NULL;
	}
	return -1;
}

/*
 * Store v in k's field of cfg.  Nothing changes on failure; err then
 * holds the message.
 */
static int
val_apply(const struct conf_key *k, void *cfg, const struct conf_val *v,
    char *err, size_t errlen)
{
	char name[2 * CONF_NAMEMAX + 64];
	struct buf bounds = BUF_INIT;
	const char *text = (const char *)v->text.data;
	int64_t iv = 0;
	uint64_t uv = 0;
	int ok = 0, range = 1;
	size_t i, n;
	char **list;

	fullname(k, name, sizeof(name));
	if (text == NULL)
		text = "";
	switch (k->type) {
	case CONF_STRING:
		if ((ok = v->kind == VAL_STRING) == 0)
			break;
		n = v->text.len;
		if (strlen(text) != n) {
			snprintf(err, errlen, "bad value for '%s': NUL in "
			    "string", name);
			return -1;
		}
		if (k->choices && check_choice(k, text) == -1) {
			struct buf c = BUF_INIT;
			const char *p;

			for (p = k->choices; *p; p++) {
				if (*p == '|')
					buf_addstr(&c, ", ");
				else
					buf_addc(&c, *p);
			}
			snprintf(err, errlen, "bad value for '%s': expected "
			    "one of %s", name, (char *)c.data);
			buf_free(&c);
			return -1;
		}
		if (n < (size_t)k->min) {
			snprintf(err, errlen, "bad value for '%s': %s", name,
			    n == 0 ? "must not be empty" : "too short");
			return -1;
		}
		if (k->max > 0 && n > (size_t)k->max) {
			snprintf(err, errlen, "bad value for '%s': longer "
			    "than %" PRId64 " bytes", name, k->max);
			return -1;
		}
		free(*(char **)field(k, cfg));
		*(char **)field(k, cfg) = xstrdup(text);
		return 0;
	case CONF_INT:
		if ((ok = v->kind == VAL_BARE &&
		    parse_int(text, &iv) == 0) == 0)
			break;
		range = iv >= k->min && (k->max <= 0 || iv <= k->max);
		if (range)
			*(int64_t *)field(k, cfg) = iv;
		break;
	case CONF_BOOL:
		ok = v->kind == VAL_BARE &&
		    (strcmp(text, "true") == 0 || strcmp(text, "false") == 0);
		if (ok)
			*(int *)field(k, cfg) = text[0] == 't';
		break;
	case CONF_SIZE:
		if (v->kind == VAL_STRING)
			ok = parse_size(text, &uv) == 0;
		else if (v->kind == VAL_BARE && parse_int(text, &iv) == 0 &&
		    iv >= 0) {
			uv = (uint64_t)iv;
			ok = 1;
		}
		/* FALLTHROUGH */
	case CONF_DURATION:
		if (k->type == CONF_DURATION)
			ok = v->kind == VAL_STRING &&
			    parse_duration(text, &uv) == 0;
		if (!ok)
			break;
		range = uv >= (uint64_t)k->min &&
		    (k->max <= 0 || uv <= (uint64_t)k->max);
		if (range)
			*(uint64_t *)field(k, cfg) = uv;
		break;
	case CONF_STRLIST:
		if ((ok = v->kind == VAL_ARRAY) == 0)
			break;
		if (v->nlist < (size_t)k->min ||
		    (k->max > 0 && v->nlist > (size_t)k->max)) {
			snprintf(err, errlen, "bad value for '%s': %s", name,
			    v->nlist == 0 ? "must not be empty" :
			    "wrong number of elements");
			return -1;
		}
		if ((list = *(char ***)field(k, cfg)) != NULL) {
			for (i = 0; list[i]; i++)
				free(list[i]);
			free(list);
		}
		list = xcalloc(v->nlist + 1, sizeof(*list));
		for (i = 0; i < v->nlist; i++)
			list[i] = xstrdup(v->list[i]);
		*(char ***)field(k, cfg) = list;
		return 0;
	}
	if (!ok) {
		snprintf(err, errlen, "bad value for '%s': expected %s", name,
		    conf_expected(k->type));
		return -1;
	}
	if (!range) {
		format_bounds(k, &bounds);
		snprintf(err, errlen, "out of range for '%s': %s (%s)", name,
		    text, (char *)bounds.data);
		buf_free(&bounds);
		return -1;
	}
	return 0;
}

const struct conf_key *
conf_lookup(const struct conf_key *schema, const char *name)
{
	char full[2 * CONF_NAMEMAX + 64];
	const struct conf_key *k;

	for (k = schema; k->name; k++) {
		fullname(k, full, sizeof(full));
		if (strcmp(full, name) == 0)
			return k;
	}
	return NULL;
}

/* Is name a section header that some key lives under? */
static int
known_section(const struct conf_key *schema, const char *name)
{
	char full[2 * CONF_NAMEMAX + 64];
	const struct conf_key *k;
	size_t n = strlen(name);

	for (k = schema; k->name; k++) {
		fullname(k, full, sizeof(full));
		if (strncmp(full, name, n) == 0 && full[n] == '.')
			return 1;
	}
	return 0;
}

/* A bare or dotted name: a, a.b, a-b_c; no empty parts. */
static size_t
scan_name(const char *s, const char *e)
{
	const char *b = s;

	for (;;) {
		if (s == e || !is_bare((unsigned char)*s))
			return 0;
		while (s < e && is_bare((unsigned char)*s))
			s++;
		if (s == e || *s != '.')
			return (size_t)(s - b);
		s++;
	}
}

static void
parse_error(struct conf_parse *cp, const char *msg)
{
	if (cp->errline == 0) {
		cp->errline = cp->lineno;
		snprintf(cp->err, sizeof(cp->err), "%s", msg);
	}
}

/*
 * Turn the line [s, e) into inih's canonical form in out (size len).
 * Returns -1 after parse_error.
 */
static int
conf_line(struct conf_parse *cp, const char *s, const char *e, char *out,
    size_t len)
{
	char err[CONF_ERRMAX], name[CONF_NAMEMAX + 1];
	const char *t;
	size_t n, i;

	if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
		parse_error(cp, "syntax error: NUL byte in line");
		return -1;
	}
	s = skip_ws(s, e);
	if (s == e || *s == '#') {
		snprintf(out, len, "\n");
		return 0;
	}
	if (*s == '[') {
		s = skip_ws(s + 1, e);
		if (s < e && *s == '[') {
			parse_error(cp, "syntax error: arrays of tables "
			    "are not supported");
			return -1;
		}
		n = scan_name(s, e);
		t = skip_ws(s + n, e);
		if (n > 0 && t < e && *t == ']')
			t = skip_ws(t + 1, e);
		else
			t = NULL;
		if (t == NULL || (t < e && *t != '#')) {
			parse_error(cp, "syntax error: bad section header");
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)n, s);
		if (n > CONF_NAMEMAX || (cp->lookfor == NULL &&
		    !known_section(cp->schema, name))) {
			snprintf(err, sizeof(err), "unknown section '[%.*s]'",
			    (int)n, s);
			parse_error(cp, err);
			return -1;
		}
		for (i = 0; i < cp->nsections; i++) {
			if (strcmp(cp->sections[i], name) == 0) {
				snprintf(err, sizeof(err), "duplicate "
				    "section '[%s]'", name);
				parse_error(cp, err);
				return -1;
			}
		}
		cp->sections = xreallocarray(cp->sections, cp->nsections + 1,
		    sizeof(*cp->sections));
		cp->sections[cp->nsections++] = xstrdup(name);
		snprintf(out, len, "[%s]\n", name);
		return 0;
	}
	n = scan_name(s, e);
	t = skip_ws(s + n, e);
	if (n == 0 || t == e || *t != '=') {
		parse_error(cp, "syntax error: expected 'key = value'");
		return -1;
	}
	if (n > CONF_NAMEMAX) {
		snprintf(err, sizeof(err), "unknown key '%.*s'", (int)n, s);
		parse_error(cp, err);
		return -1;
	}
	if (lex_value(t + 1, e, &cp->val, err, sizeof(err)) == -1) {
		parse_error(cp, err);
		return -1;
	}
	snprintf(out, len, "%.*s=v\n", (int)n, s);
	return 0;
}

/* ini_reader: one canonical line per line of the file. */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_parse *cp = stream;
	const char *s = cp->p, *e;

	if (cp->p == cp->end || cp->errline)
		return NULL;
	e = memchr(s, '\n', (size_t)(cp->end - s));
	cp->p = e ? e + 1 : cp->end;
	if (e == NULL)
		e = cp->end;
	if (e > s && e[-1] == '\r')
		e--;
	cp->lineno++;
	if (cp->lineno == 1 && e - s >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	if (conf_line(cp, s, e, str, (size_t)num) == -1)
		snprintf(str, (size_t)num, "\n");
	return str;
}

static int
conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf_parse *cp = user;
	char full[2 * CONF_NAMEMAX + 2], err[CONF_ERRMAX];
	const struct conf_key *k;
	size_t i;

	(void)value;
	if (*section)
		snprintf(full, sizeof(full), "%s.%s", section, name);
	else
		snprintf(full, sizeof(full), "%s", name);
	if (cp->lookfor) {
		if (cp->foundline == 0 && strcmp(full, cp->lookfor) == 0)
			cp->foundline = cp->lineno;
		return 1;
	}
	if ((k = conf_lookup(cp->schema, full)) == NULL) {
		snprintf(err, sizeof(err), "unknown key '%s'", full);
		parse_error(cp, err);
		return 0;
	}
	i = (size_t)(k - cp->schema);
	if (cp->seen[i]) {
		snprintf(err, sizeof(err), "duplicate key '%s'", full);
		parse_error(cp, err);
		return 0;
	}
	cp->seen[i] = 1;
	if (val_apply(k, cp->cfg, &cp->val, err, sizeof(err)) == -1) {
		parse_error(cp, err);
		return 0;
	}
	return 1;
}

static int
read_file(const char *path, struct buf *b)
{
	char chunk[8192];
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		log_setreason("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(b, chunk, n);
	if (ferror(f)) {
		log_setreason("cannot read '%s': %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* Run the file through inih; returns inih's answer. */
static int
parse_text(struct conf_parse *cp, const struct buf *text)
{
	size_t i;
	int rc;

	cp->p = (const char *)text->data;
	cp->end = cp->p + text->len;
	rc = cp->p ? ini_parse_stream(conf_reader, cp, conf_handler, cp) : 0;
	for (i = 0; i < cp->nsections; i++)
		free(cp->sections[i]);
	free(cp->sections);
	val_free(&cp->val);
	return rc;
}

int
conf_load(const struct conf_key *schema, void *cfg, const char *path)
{
	struct conf_parse cp;
	struct buf text = BUF_INIT;
	const struct conf_key *k;
	int rc;

	if (read_file(path, &text) == -1) {
		buf_free(&text);
		return -1;
	}
	memset(&cp, 0, sizeof(cp));
	cp.schema = schema;
	cp.cfg = cfg;
	for (k = schema; k->name; k++)
		;
	cp.seen = xcalloc((size_t)(k - schema) + 1, 1);
	rc = parse_text(&cp, &text);
	free(cp.seen);
	buf_free(&text);
	if (cp.errline) {
		log_setreason("%s:%d: %s", path, cp.errline, cp.err);
		return -1;
	}
	if (rc != 0) {
		/* inih refused a line our reader let through. */
		log_setreason("%s:%d: syntax error", path, rc);
		return -1;
	}
	return 0;
}

int
conf_lineof(const char *path, const char *name)
{
	struct conf_parse cp;
	struct buf text = BUF_INIT;

	if (read_file(path, &text) == -1) {
		buf_free(&text);
		return 0;
	}
	memset(&cp, 0, sizeof(cp));
	cp.lookfor = name;
	parse_text(&cp, &text);
	buf_free(&text);
	return cp.foundline;
}

/* conf_set's unquoted forms: the whole text is the string. */
static void
val_loose(const struct conf_key *k, const char *s, struct conf_val *v)
{
	const char *e = s + strlen(s), *c, *b;

	val_clear(v);
	s = skip_ws(s, e);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (k->type != CONF_STRLIST) {
		v->kind = VAL_STRING;
		buf_add(&v->text, s, (size_t)(e - s));
		return;
	}
	v->kind = VAL_ARRAY;
	v->list = xcalloc(1, sizeof(*v->list));
	while (s < e) {
		c = memchr(s, ',', (size_t)(e - s));
		if (c == NULL)
			c = e;
		for (b = c; b > s && isspace((unsigned char)b[-1]); b--)
			;
		buf_reset(&v->text);
		buf_add(&v->text, s, (size_t)(b - s));
		if (v->text.len)
			val_push(v, (char *)v->text.data);
		s = c < e ? skip_ws(c + 1, e) : e;
	}
	buf_reset(&v->text);
}

int
conf_set(const struct conf_key *schema, void *cfg, const char *name,
    const char *value)
{
	struct conf_val v;
	const struct conf_key *k;
	char err[CONF_ERRMAX];
	const char *s = value;
	int rc;

	if ((k = conf_lookup(schema, name)) == NULL) {
		log_setreason("unknown key '%s'", name);
		return -1;
	}
	memset(&v, 0, sizeof(v));
	while (*s == ' ' || *s == '\t')
		s++;
	if (k->type != CONF_INT && k->type != CONF_BOOL && *s != '"' &&
	    *s != '\'' && *s != '[' &&
	    !(k->type == CONF_SIZE && isdigit((unsigned char)*s) &&
	    strspn(s, "0123456789_") == strlen(s)))
		val_loose(k, s, &v);
	else if (lex_value(s, s + strlen(s), &v, err, sizeof(err)) == -1) {
		log_setreason("bad value for '%s': %s", name, err);
		val_free(&v);
		return -1;
	}
	rc = val_apply(k, cfg, &v, err, sizeof(err));
	val_free(&v);
	if (rc == -1)
		log_setreason("%s", err);
	return rc;
}

int
conf_defaults(const struct conf_key *schema, void *cfg)
{
	const struct conf_key *k;
	char full[2 * CONF_NAMEMAX + 64];

	for (k = schema; k->name; k++) {
		fullname(k, full, sizeof(full));
		if (conf_set(schema, cfg, full, k->def ? k->def : "") == -1) {
			log_setreason("default of '%s': %s", full,
			    log_reason());
			return -1;
		}
	}
	return 0;
}

void
conf_free(const struct conf_key *schema, void *cfg)
{
	const struct conf_key *k;
	char **list;
	size_t i;

	for (k = schema; k->name; k++) {
		if (k->type == CONF_STRING) {
			free(*(char **)field(k, cfg));
			*(char **)field(k, cfg) = NULL;
		} else if (k->type == CONF_STRLIST) {
			if ((list = *(char ***)field(k, cfg)) != NULL) {
				for (i = 0; list[i]; i++)
					free(list[i]);
				free(list);
			}
			*(char ***)field(k, cfg) = NULL;
		}
	}
}

void
conf_format(const struct conf_key *k, const void *cfg, struct buf *b)
{
	const void *f = field(k, cfg);
	char **list;
	size_t i;

	switch (k->type) {
	case CONF_STRING:
		format_string(*(char *const *)f ? *(char *const *)f : "", b);
		break;
	case CONF_INT:
		buf_printf(b, "%" PRId64, *(const int64_t *)f);
		break;
	case CONF_BOOL:
		buf_addstr(b, *(const int *)f ? "true" : "false");
		break;
	case CONF_SIZE:
		buf_addc(b, '"');
		format_size(*(const uint64_t *)f, b);
		buf_addc(b, '"');
		break;
	case CONF_DURATION:
		buf_addc(b, '"');
		format_duration(*(const uint64_t *)f, b);
		buf_addc(b, '"');
		break;
	case CONF_STRLIST:
		buf_addc(b, '[');
		list = *(char **const *)f;
		for (i = 0; list && list[i]; i++) {
			if (i)
				buf_addstr(b, ", ");
			format_string(list[i], b);
		}
		buf_addc(b, ']');
		break;
	}
}

static int
same_section(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

void
conf_dump(const struct conf_key *schema, const void *cfg, struct buf *b)
{
	const struct conf_key *k, *j;
	int first = 1;

	/* Top-level keys must come before any header. */
	for (k = schema; k->name; k++) {
		if (k->section && *k->section)
			continue;
		buf_printf(b, "%s = ", k->name);
		conf_format(k, cfg, b);
		buf_addc(b, '\n');
		first = 0;
	}
	/* Then each section once, where its first key stands. */
	for (k = schema; k->name; k++) {
		if (!k->section || !*k->section)
			continue;
		for (j = schema; j < k; j++)
			if (same_section(j->section, k->section))
				break;
		if (j < k)
			continue;
		buf_printf(b, "%s[%s]\n", first ? "" : "\n", k->section);
		first = 0;
		for (j = k; j->name; j++) {
			if (!same_section(j->section, k->section))
				continue;
			buf_printf(b, "%s = ", j->name);
			conf_format(j, cfg, b);
			buf_addc(b, '\n');
		}
	}
}
