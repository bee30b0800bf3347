/*
 * proto: escaping round-trips any byte string, a message of many lines
 * parses in order, literals carry raw bytes, and every malformed line gets
 * its own error while the next line still runs.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "proto.h"
#include "tap.h"
#include "xmalloc.h"

static void
test_escape_roundtrip(void)
{
	struct buf line = BUF_INIT, err = BUF_INIT, out = BUF_INIT;
	struct proto_args a;
	uint8_t tok[3][64];
	size_t n[3];
	int i, j, bad = 0, badsplit = 0, badunesc = 0;
	static const uint8_t nasty[] = " \n\r\t\"\\{}\0\x7f\xff";

	proto_args_init(&a);
	for (i = 0; i < 5000; i++) {
		size_t pos = 0;

		buf_reset(&line);
		for (j = 0; j < 3; j++) {
			size_t k;

			n[j] = tap_rand_below(sizeof(tok[j]));
			if (tap_rand_below(8) == 0)
				n[j] = 0;
			for (k = 0; k < n[j]; k++)
				tok[j][k] = tap_rand_below(2) ?
				    nasty[tap_rand_below(sizeof(nasty))] :
				    (uint8_t)tap_rand();
			proto_add_token(&line, tok[j], n[j]);
		}
		buf_addc(&line, '\n');
		if (proto_parse(line.data, line.len, &pos, &a, &err) != 1 ||
		    a.argc != 3 || pos != line.len) {
			bad++;
			continue;
		}
		for (j = 0; j < 3; j++)
			if (a.argv[j].len != n[j] || (n[j] &&
			    memcmp(a.argv[j].ptr, tok[j], n[j]) != 0))
				bad++;
		/* The escaped spelling of a token is one shell argument. */
		buf_reset(&out);
		proto_escape(&out, tok[0], n[0]);
		if (memchr(out.data, '\n', out.len) ||
		    memchr(out.data, '\0', out.len))
			badsplit++;
		{
			struct buf back = BUF_INIT;

			if (proto_unescape((const char *)out.data, &back,
			    &err) == -1 || back.len != n[0] ||
			    (n[0] && memcmp(back.data, tok[0], n[0])))
				badunesc++;
			buf_free(&back);
		}
	}
	is_int(bad, 0, "5000 random lines of 3 tokens (NUL, space, newline, "
	    "empty) round-trip");
	is_int(badsplit, 0, "escaped tokens hold no newline or NUL");
	is_int(badunesc, 0, "proto_unescape inverts proto_escape");
	proto_args_free(&a);
	buf_free(&line);
	buf_free(&err);
	buf_free(&out);
}

static int
parse_all(const char *msg, size_t len, struct buf *log)
{
	struct proto_args a;
	struct buf err = BUF_INIT;
	size_t pos = 0, i;
	int r, n = 0;

	proto_args_init(&a);
	buf_reset(log);
	while ((r = proto_parse((const uint8_t *)msg, len, &pos, &a, &err))) {
		if (r == -1) {
			buf_printf(log, "[ERR %s]", err.data);
		} else {
			buf_addc(log, '[');
			for (i = 0; i < a.argc; i++) {
				if (i)
					buf_addc(log, '|');
				buf_add(log, a.argv[i].ptr, a.argv[i].len);
			}
			buf_addc(log, ']');
		}
		n++;
	}
	proto_args_free(&a);
	buf_free(&err);
	return n;
}

#define PARSES(msg, want, name) do { \
	parse_all(msg, sizeof(msg) - 1, &log); \
	is_str((const char *)log.data, want, name); \
} while (0)

static void
test_lexical(void)
{
	struct buf log = BUF_INIT;

	PARSES("PING\n", "[PING]", "one command");
	PARSES("PING", "[PING]", "the last newline is optional");
	PARSES("a b\r\nc\n\n\n  d  e \n", "[a|b][c][d|e]",
	    "CRLF, blank lines and extra spaces");
	PARSES("PUT \"a b\" \"\"\n", "[PUT|a b|]", "quoted space and empty");
	PARSES("X a\\x20b \"\\t\\\\\\\"\"\n", "[X|a b|\t\\\"]",
	    "escapes in bare and quoted tokens");
	PARSES("PUT k {5}\nab\ncd\nPING\n", "[PUT|k|ab\ncd][PING]",
	    "a literal carries a newline");
	PARSES("PUT {1}\nx v\n", "[PUT|x|v]",
	    "the line continues after a literal");
	PARSES("X {5} y\n", "[X|{5}|y]", "{N} inside a line is a bare token");
	PARSES("X \"abc\nPING\n", "[ERR unterminated quoted string][PING]",
	    "unterminated quote, next line still parsed");
	PARSES("X \\q\nPING\n", "[ERR bad escape at byte 3][PING]",
	    "bad escape names its place");
	PARSES("X \"a\"b\n", "[ERR no space after quoted string at byte 6]",
	    "text glued to a quote is refused");
	PARSES("X \x01\n", "[ERR bad byte 0x01 at byte 3]",
	    "control byte in a bare token");
	PARSES("X a\rb\nY\n", "[ERR bad byte 0x0d at byte 4][Y]",
	    "a lone CR is a bad byte");
	PARSES("X {9}\nab\n", "[ERR literal of 9 bytes runs past the end of "
	    "the message]", "a short literal is refused");
	buf_free(&log);
}

static void
test_long_line(void)
{
	struct buf msg = BUF_INIT, log = BUF_INIT;
	size_t i;

	buf_addstr(&msg, "PUT k ");
	for (i = 0; i < PROTO_MAX_LINE; i++)
		buf_addc(&msg, 'v');
	buf_addstr(&msg, "\nPING\n");
	parse_all((const char *)msg.data, msg.len, &log);
	ok(strstr((const char *)log.data, "[ERR line too long") ==
	    (const char *)log.data, "over-long line is refused");
	ok(strstr((const char *)log.data, "[PING]") != NULL,
	    "the line after an over-long line still runs");
	buf_reset(&msg);
	buf_addstr(&msg, "PUT k ");
	proto_add_token(&msg, log.data, 0);
	buf_reset(&msg);
	buf_addstr(&msg, "PUT k");
	{
		uint8_t *big = xmalloc(PROTO_MAX_LINE + 10);

		memset(big, ' ', PROTO_MAX_LINE + 10);
		proto_add_token(&msg, big, PROTO_MAX_LINE + 10);
		free(big);
	}
	buf_addc(&msg, '\n');
	is_int(parse_all((const char *)msg.data, msg.len, &log), 1,
	    "a big token goes as a literal");
	ok(strncmp((const char *)log.data, "[PUT|k|   ", 10) == 0,
	    "literal payloads do not count toward the line limit");
	buf_free(&msg);
	buf_free(&log);
}

static void
echo(struct proto_call *c)
{
	size_t i;

	buf_addstr(c->reply, "OK");
	for (i = 0; i < c->argc; i++)
		proto_add_token(c->reply, c->argv[i].ptr, c->argv[i].len);
	proto_end_line(c->reply);
}

static void
count(struct proto_call *c)
{
	uint64_t n;

	if (proto_arg_u64(c, 0, 1, 10, &n) == -1)
		return;
	buf_printf(c->reply, "OK %llu\n", (unsigned long long)n);
}

static const struct proto_cmd table[] = {
	{ "COUNT", 1, 1, "COUNT n", "echo a number from 1 to 10", count },
	{ "ECHO", 0, -1, "ECHO [arg ...]", "echo the arguments", echo },
	{ "HELP", 0, 1, "HELP [command]", "list commands", proto_cmd_help },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static void
test_dispatch(void)
{
	struct buf r = BUF_INIT;
	static const char msg[] = "echo a \"b c\"\nNOPE x\nCOUNT\nCOUNT 11\n"
	    "COUNT x\nCOUNT 3\n\"\nHELP COUNT\n";

	proto_dispatch(table, NULL, (const uint8_t *)msg, sizeof(msg) - 1,
	    &r);
	is_str((const char *)r.data,
	    "OK a \"b c\"\n"
	    "CLIENT_ERROR unknown command 'NOPE'\n"
	    "CLIENT_ERROR wrong number of arguments for 'COUNT', usage: "
	    "COUNT n\n"
	    "CLIENT_ERROR argument 1 of 'COUNT' out of range: 11 not in "
	    "1..10\n"
	    "CLIENT_ERROR argument 1 of 'COUNT' is not a number\n"
	    "OK 3\n"
	    "CLIENT_ERROR unterminated quoted string\n"
	    "VALUE \"COUNT n\" \"echo a number from 1 to 10\"\nEND\n",
	    "one reply per command, in order, errors included");
	buf_reset(&r);
	proto_dispatch(table, NULL, (const uint8_t *)"HELP", 4, &r);
	ok(strncmp((const char *)r.data, "VALUE \"COUNT n\"", 15) == 0 &&
	    strstr((const char *)r.data, "VALUE \"HELP [command]\"") &&
	    r.len > 4 && memcmp(r.data + r.len - 4, "END\n", 4) == 0,
	    "HELP lists the table and ends with END");
	buf_reset(&r);
	proto_dispatch(table, NULL, (const uint8_t *)"\xff\xfe\n", 3, &r);
	is_str((const char *)r.data, "CLIENT_ERROR unknown command "
	    "'\"\\xff\\xfe\"'\n", "binary garbage as a command is escaped");
	buf_reset(&r);
	proto_reply_error(&r, PROTO_SERVER_ERROR, "a\nb\r");
	is_str((const char *)r.data, "SERVER_ERROR a\\x0ab\\x0d\n",
	    "CR and LF never leak into an error line");
	is_int(proto_word_parse((const uint8_t *)"NOT_LEADER 1 2", 14),
	    PROTO_NOT_LEADER, "status words parse");
	ok(proto_word_is_error(PROTO_LOCKED) && !proto_word_is_error(PROTO_END),
	    "errors are told from results");
	buf_free(&r);
}

int
main(void)
{
	tap_seed();
	test_escape_roundtrip();
	test_lexical();
	test_long_line();
	test_dispatch();
	return done_testing();
}
