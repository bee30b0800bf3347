#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto.h"
#include "xmalloc.h"

static const char *const proto_words[PROTO_NWORDS] = {
	[PROTO_OK] = "OK",
	[PROTO_VALUE] = "VALUE",
	[PROTO_NOT_FOUND] = "NOT_FOUND",
	[PROTO_END] = "END",
	[PROTO_NOT_LEADER] = "NOT_LEADER",
	[PROTO_EPOCH_NOT_MATCH] = "EPOCH_NOT_MATCH",
	[PROTO_KEY_NOT_IN_REGION] = "KEY_NOT_IN_REGION",
	[PROTO_REGION_NOT_FOUND] = "REGION_NOT_FOUND",
	[PROTO_SERVER_IS_BUSY] = "SERVER_IS_BUSY",
	[PROTO_STALE_COMMAND] = "STALE_COMMAND",
	[PROTO_RAFT_ENTRY_TOO_LARGE] = "RAFT_ENTRY_TOO_LARGE",
	[PROTO_LOCKED] = "LOCKED",
	[PROTO_WRITE_CONFLICT] = "WRITE_CONFLICT",
	[PROTO_ALREADY_EXIST] = "ALREADY_EXIST",
	[PROTO_TXN_NOT_FOUND] = "TXN_NOT_FOUND",
	[PROTO_COMMIT_TS_EXPIRED] = "COMMIT_TS_EXPIRED",
	[PROTO_DEADLOCK] = "DEADLOCK",
	[PROTO_CLIENT_ERROR] = "CLIENT_ERROR",
	[PROTO_SERVER_ERROR] = "SERVER_ERROR",
};

const char *
proto_word_name(enum proto_word w)
{
	return (unsigned)w < PROTO_NWORDS ? proto_words[w] : "SERVER_ERROR";
}

int
proto_word_parse(const uint8_t *line, size_t len)
{
	size_t n = 0;
	int w;

	while (n < len && line[n] != ' ' && line[n] != '\n')
		n++;
	for (w = 0; w < PROTO_NWORDS; w++)
		if (strlen(proto_words[w]) == n &&
		    memcmp(proto_words[w], line, n) == 0)
			return w;
	return -1;
}

int
proto_word_is_error(int word)
{
	return word > PROTO_END || word < 0;
}

void
proto_args_init(struct proto_args *a)
{
	a->argc = 0;
	buf_init(&a->scratch);
}

void
proto_args_free(struct proto_args *a)
{
	buf_free(&a->scratch);
	a->argc = 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the escape at p[0] == '\\' into out; returns the bytes consumed,
 * or 0 if the escape is malformed.
 */
static size_t
unescape_one(const uint8_t *p, const uint8_t *end, struct buf *out)
{
	int hi, lo;

	if (end - p < 2)
		return 0;
	switch (p[1]) {
	case '\\':
	case '"':
		buf_addc(out, p[1]);
		return 2;
	case 'n':
		buf_addc(out, '\n');
		return 2;
	case 'r':
		buf_addc(out, '\r');
		return 2;
	case 't':
		buf_addc(out, '\t');
		return 2;
	case '0':
		buf_addc(out, '\0');
		return 2;
	case 'x':
		if (end - p < 4 || (hi = hexval(p[2])) < 0 ||
		    (lo = hexval(p[3])) < 0)
			return 0;
		buf_addc(out, hi << 4 | lo);
		return 4;
	default:
		return 0;
	}
}

/* "{N}" with 1-10 digits: a literal marker.  Returns N or -1. */
static long long
literal_len(const uint8_t *p, size_t n)
{
	long long v = 0;
	size_t i;

	if (n < 3 || n > 12 || p[0] != '{' || p[n - 1] != '}')
		return -1;
	for (i = 1; i < n - 1; i++) {
		if (!isdigit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Find the end of the current line (the LF, or len), ignoring literals. */
static size_t
skip_line(const uint8_t *msg, size_t len, size_t pos)
{
	const uint8_t *nl = memchr(msg + pos, '\n', len - pos);

	return nl ? (size_t)(nl - msg) + 1 : len;
}

static int
parse_error(struct buf *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
parse_error(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		buf_reset(err);
		va_start(ap, fmt);
		buf_vprintf(err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * The tokenizer.  literals_ok says whether {N} markers are honoured (in a
 * request message) or taken as bare tokens (a single line).
 */
static int
parse_line(const uint8_t *msg, size_t len, size_t *pos, struct proto_args *a,
    struct buf *err, int literals_ok)
{
	size_t p = *pos, text = 0, i, start, tokstart;
	const uint8_t *end = msg + len;
	long long lit;
	uint8_t c;

	a->argc = 0;
	buf_reset(&a->scratch);

	/* Skip blank lines. */
	for (;;) {
		while (p < len && (is_space(msg[p]) || msg[p] == '\r'))
			p++;
		if (p == len) {
			*pos = p;
			return 0;
		}
		if (msg[p] != '\n')
			break;
		p++;
	}
	start = p;

	for (;;) {
		while (p < len && is_space(msg[p]))
			p++;
		if (p == len || msg[p] == '\n' ||
		    (msg[p] == '\r' && (p + 1 == len || msg[p + 1] == '\n'))) {
			if (p < len && msg[p] == '\r')
				p++;
			if (p < len)
				p++;
			break;
		}
		if (a->argc == PROTO_MAX_ARGS) {
			*pos = skip_line(msg, len, p);
			return parse_error(err, "too many arguments (max %d)",
			    PROTO_MAX_ARGS);
		}
		tokstart = p;
		/* Until the line is done argv[i].len holds the offset of
		 * token i in scratch: tokens are stored back to back. */
		a->argv[a->argc].ptr = NULL;
		a->argv[a->argc].len = a->scratch.len;
		if (msg[p] == '"') {
			p++;
			for (;;) {
				if (p == len || msg[p] == '\n' ||
				    msg[p] == '\r') {
					*pos = skip_line(msg, len, p);
					return parse_error(err,
					    "unterminated quoted string");
				}
				c = msg[p];
				if (c == '"')
					break;
				if (c == '\\') {
					size_t k = unescape_one(msg + p, end,
					    &a->scratch);
					if (k == 0) {
						*pos = skip_line(msg, len, p);
						return parse_error(err, "bad "
						    "escape at byte %zu",
						    p - start + 1);
					}
					p += k;
				} else {
					buf_addc(&a->scratch, c);
					p++;
				}
			}
			p++;
			if (p < len && !is_space(msg[p]) && msg[p] != '\n' &&
			    msg[p] != '\r') {
				*pos = skip_line(msg, len, p);
				return parse_error(err, "no space after "
				    "quoted string at byte %zu", p - start + 1);
			}
		} else {
			while (p < len && !is_space(msg[p]) &&
			    msg[p] != '\n' && !(msg[p] == '\r' &&
			    (p + 1 == len || msg[p + 1] == '\n')))
				p++;
			lit = literals_ok ? literal_len(msg + tokstart,
			    p - tokstart) : -1;
			if (lit >= 0 && (p == len || msg[p] == '\n' ||
			    msg[p] == '\r')) {
				if (p < len && msg[p] == '\r')
					p++;
				if (p < len)
					p++;
				if ((unsigned long long)lit > len - p) {
					*pos = len;
					return parse_error(err, "literal of "
					    "%lld bytes runs past the end of "
					    "the message", lit);
				}
				buf_add(&a->scratch, msg + p, (size_t)lit);
				p += (size_t)lit;
				text += p - tokstart;
			} else {
				for (i = tokstart; i < p; i++) {
					c = msg[i];
					if (c == '\\') {
						size_t k = unescape_one(msg + i,
						    msg + p, &a->scratch);
						if (k == 0) {
							*pos = skip_line(msg,
							    len, p);
							return parse_error(err,
							    "bad escape at "
							    "byte %zu",
							    i - start + 1);
						}
						i += k - 1;
					} else if (c == '"' || c < 0x20 ||
					    c == 0x7f) {
						*pos = skip_line(msg, len, p);
						return parse_error(err, "bad "
						    "byte 0x%02x at byte %zu",
						    c, i - start + 1);
					} else {
						buf_addc(&a->scratch, c);
					}
				}
			}
		}
		a->argc++;
		if (p - start - text > PROTO_MAX_LINE) {
			*pos = skip_line(msg, len, p);
			return parse_error(err, "line too long (max %d bytes)",
			    PROTO_MAX_LINE);
		}
	}
	if (p - start - text > PROTO_MAX_LINE + 2) {
		*pos = p;
		return parse_error(err, "line too long (max %d bytes)",
		    PROTO_MAX_LINE);
	}
	*pos = p;
	/* scratch may have moved while growing: point argv at it now. */
	for (i = 0; i < a->argc; i++) {
		size_t off = a->argv[i].len;
		size_t next = i + 1 < a->argc ? a->argv[i + 1].len :
		    a->scratch.len;

		a->argv[i].ptr = a->scratch.data + off;
		a->argv[i].len = next - off;
	}
	if (a->argc == 0)
		return parse_line(msg, len, pos, a, err, literals_ok);
	return 1;
}

int
proto_parse(const uint8_t *msg, size_t len, size_t *pos,
    struct proto_args *args, struct buf *err)
{
	return parse_line(msg, len, pos, args, err, 1);
}

int
proto_split(const uint8_t *line, size_t len, struct proto_args *args,
    struct buf *err)
{
	size_t pos = 0;
	int r;

	if (memchr(line, '\n', len) != NULL)
		return parse_error(err, "newline inside a line");
	r = parse_line(line, len, &pos, args, err, 0);
	if (r == 0)
		args->argc = 0;
	return r == -1 ? -1 : 0;
}

static int
is_bare(const uint8_t *p, size_t n)
{
	size_t i;

	if (n == 0 || p[0] == '{')
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
			return 0;
	return 1;
}

void
proto_escape(struct buf *b, const void *data, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;
	size_t i;

	if (is_bare(p, n)) {
		buf_add(b, p, n);
		return;
	}
	buf_grow(b, n + 2);
	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		switch (c) {
		case '"':
			buf_add(b, "\\\"", 2);
			break;
		case '\\':
			buf_add(b, "\\\\", 2);
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			break;
		case '\r':
			buf_add(b, "\\r", 2);
			break;
		case '\t':
			buf_add(b, "\\t", 2);
			break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				buf_addc(b, c);
			} else {
				char e[4] = { '\\', 'x', hex[c >> 4],
				    hex[c & 15] };
				buf_add(b, e, 4);
			}
		}
	}
	buf_addc(b, '"');
}

static void
add_separator(struct buf *b)
{
	if (b->len > 0 && b->data[b->len - 1] != '\n')
		buf_addc(b, ' ');
}

void
proto_add_token(struct buf *b, const void *data, size_t n)
{
	add_separator(b);
	if (n >= PROTO_LITERAL_MIN && !is_bare(data, n)) {
		buf_printf(b, "{%zu}\n", n);
		buf_add(b, data, n);
		return;
	}
	proto_escape(b, data, n);
}

void
proto_add_str(struct buf *b, const char *s)
{
	proto_add_token(b, s, strlen(s));
}

void
proto_add_u64(struct buf *b, uint64_t v)
{
	add_separator(b);
	buf_printf(b, "%llu", (unsigned long long)v);
}

int
proto_unescape(const char *s, struct buf *out, struct buf *err)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + strlen(s);
	struct proto_args a;
	size_t n;
	int r = 0;

	if (*p != '"') {
		/* A shell argument is one value already: its spaces are
		 * its own; only backslash escapes mean something. */
		while (p < end) {
			if (*p != '\\') {
				buf_addc(out, *p++);
				continue;
			}
			if ((n = unescape_one(p, end, out)) == 0)
				return parse_error(err, "bad escape at byte %zu",
				    (size_t)(p - (const uint8_t *)s) + 1);
			p += n;
		}
		return 0;
	}
	proto_args_init(&a);
	if (proto_split((const uint8_t *)s, strlen(s), &a, err) == -1)
		r = -1;
	else if (a.argc != 1)
		r = parse_error(err, "expected one quoted token, got %zu",
		    a.argc);
	else
		buf_add(out, a.argv[0].ptr, a.argv[0].len);
	proto_args_free(&a);
	return r;
}

void
proto_reply_word(struct buf *b, enum proto_word w)
{
	buf_addstr(b, proto_word_name(w));
	buf_addc(b, '\n');
}

void
proto_reply_ok(struct buf *b)
{
	proto_reply_word(b, PROTO_OK);
}

void
proto_reply_value(struct buf *b, const void *data, size_t n)
{
	buf_addstr(b, proto_word_name(PROTO_VALUE));
	proto_add_token(b, data, n);
	buf_addc(b, '\n');
}

void
proto_reply_error(struct buf *b, enum proto_word w, const char *fmt, ...)
{
	struct buf text = BUF_INIT;
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	buf_addstr(b, proto_word_name(w));
	if (text.len)
		buf_addc(b, ' ');
	for (i = 0; i < text.len; i++) {
		uint8_t c = text.data[i];

		if (c >= 0x20 && c < 0x7f)
			buf_addc(b, c);
		else
			buf_printf(b, "\\x%02x", c);
	}
	buf_addc(b, '\n');
	buf_free(&text);
}

void
proto_end_line(struct buf *b)
{
	buf_addc(b, '\n');
}

const struct proto_cmd *
proto_lookup(const struct proto_cmd *table, struct bytes name)
{
	const struct proto_cmd *c;

	for (c = table; c->name; c++)
		if (strlen(c->name) == name.len &&
		    strncasecmp(c->name, (const char *)name.ptr,
		    name.len) == 0)
			return c;
	return NULL;
}

/* Command words are echoed in errors; keep them short and printable. */
static void
quote_word(struct buf *out, struct bytes w)
{
	struct bytes cut = { w.ptr, w.len > 64 ? 64 : w.len };

	proto_escape(out, cut.ptr, cut.len);
}

void
proto_dispatch(const struct proto_cmd *table, void *ctx, const uint8_t *msg,
    size_t len, struct buf *reply)
{
	struct proto_args *a = xmalloc(sizeof(*a));
	struct buf err = BUF_INIT, w = BUF_INIT;
	struct proto_call call;
	size_t pos = 0;
	int r;

	proto_args_init(a);
	while ((r = proto_parse(msg, len, &pos, a, &err)) != 0) {
		if (r == -1) {
			proto_reply_error(reply, PROTO_CLIENT_ERROR, "%s",
			    (const char *)err.data);
			continue;
		}
		call.cmd = proto_lookup(table, a->argv[0]);
		if (call.cmd == NULL) {
			buf_reset(&w);
			quote_word(&w, a->argv[0]);
			proto_reply_error(reply, PROTO_CLIENT_ERROR,
			    "unknown command '%s'", (const char *)w.data);
			continue;
		}
		if ((int)a->argc - 1 < call.cmd->min_args ||
		    (call.cmd->max_args >= 0 &&
		    (int)a->argc - 1 > call.cmd->max_args)) {
			proto_reply_error(reply, PROTO_CLIENT_ERROR,
			    "wrong number of arguments for '%s', usage: %s",
			    call.cmd->name, call.cmd->synopsis);
			continue;
		}
		call.table = table;
		call.ctx = ctx;
		call.argc = a->argc - 1;
		call.argv = a->argv + 1;
		call.reply = reply;
		call.cmd->fn(&call);
	}
	buf_free(&err);
	buf_free(&w);
	proto_args_free(a);
	free(a);
}

static void
help_line(struct buf *reply, const struct proto_cmd *c)
{
	buf_addstr(reply, proto_word_name(PROTO_VALUE));
	proto_add_str(reply, c->synopsis);
	proto_add_str(reply, c->help);
	proto_end_line(reply);
}

void
proto_cmd_help(struct proto_call *call)
{
	const struct proto_cmd *c;

	if (call->argc == 1) {
		c = proto_lookup(call->table, call->argv[0]);
		if (c == NULL) {
			struct buf w = BUF_INIT;

			quote_word(&w, call->argv[0]);
			proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
			    "unknown command '%s'", (const char *)w.data);
			buf_free(&w);
			return;
		}
		help_line(call->reply, c);
		proto_reply_word(call->reply, PROTO_END);
		return;
	}
	for (c = call->table; c->name; c++)
		help_line(call->reply, c);
	proto_reply_word(call->reply, PROTO_END);
}

int
proto_bytes_u64(struct bytes a, uint64_t *out)
{
	uint64_t v = 0;
	size_t k;

	if (a.len == 0 || a.len > 20)
		return -1;
	for (k = 0; k < a.len; k++) {
		if (a.ptr[k] < '0' || a.ptr[k] > '9' ||
		    v > (UINT64_MAX - (a.ptr[k] - '0')) / 10)
			return -1;
		v = v * 10 + (a.ptr[k] - '0');
	}
	*out = v;
	return 0;
}

int
proto_arg_u64(struct proto_call *call, size_t i, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v;

	if (proto_bytes_u64(call->argv[i], &v) == -1) {
		proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
		    "argument %zu of '%s' is not a number", i + 1,
		    call->cmd->name);
		return -1;
	}
	if (v < min || v > max) {
		proto_reply_error(call->reply, PROTO_CLIENT_ERROR,
		    "argument %zu of '%s' out of range: %llu not in %llu..%llu",
		    i + 1, call->cmd->name, (unsigned long long)v,
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}
