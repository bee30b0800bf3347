/*
 * The line protocol every daemon speaks (man/tikv-protocol.7).
 *
 * A request message holds one or more lines; each line is one command: a
 * command word and arguments separated by spaces or tabs.  The reply
 * message holds one reply per command, in order.  Blank lines are ignored.
 * A line ends with LF; a CR before the LF is dropped.
 *
 * Tokens are binary-safe:
 *   bare      any bytes but space, tab, control bytes, DEL, '"' and '\',
 *             e.g.  user42 or UTF-8 text; replies spell only 0x21-0x7e bare
 *   quoted    "..." holding any bytes but '"', '\', CR and LF, and the
 *             escapes \\ \" \n \r \t \0 \xHH; "" is the empty string
 *   literal   {N} ending a line, followed by exactly N raw bytes; the line
 *             then continues after them (like IMAP), e.g. "PUT k {3}\nabc\n"
 * Backslash escapes are also accepted inside bare tokens (a\x20b).
 *
 * A reply is one line, or for list commands zero or more item lines and a
 * closing END line.  It starts with a status word (enum proto_word).
 * Server-side limits: PROTO_MAX_LINE bytes of text per line (literal
 * payloads not counted), PROTO_MAX_ARGS tokens per line, and the message
 * size limit of the transport (net.h).
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PROTO_MAX_LINE		(1024 * 1024)
#define PROTO_MAX_ARGS		1024
/* Tokens longer than this are sent as {N} literals by proto_add_token. */
#define PROTO_LITERAL_MIN	4096

/* Status words, defined once; proto_word_name() spells them. */
enum proto_word {
	PROTO_OK,
	PROTO_VALUE,
	PROTO_NOT_FOUND,
	PROTO_END,
	/* region errors */
	PROTO_NOT_LEADER,
	PROTO_EPOCH_NOT_MATCH,
	PROTO_KEY_NOT_IN_REGION,
	PROTO_REGION_NOT_FOUND,
	PROTO_SERVER_IS_BUSY,
	PROTO_STALE_COMMAND,
	PROTO_RAFT_ENTRY_TOO_LARGE,
	/* key errors */
	PROTO_LOCKED,
	PROTO_WRITE_CONFLICT,
	PROTO_ALREADY_EXIST,
	PROTO_TXN_NOT_FOUND,
	PROTO_COMMIT_TS_EXPIRED,
	PROTO_DEADLOCK,
	/* bad input and internal faults */
	PROTO_CLIENT_ERROR,
	PROTO_SERVER_ERROR,
	PROTO_NWORDS
};

const char *proto_word_name(enum proto_word);
/* The word a reply line starts with, or -1 if it is not a status word. */
int proto_word_parse(const uint8_t *line, size_t len);
/* Errors are every word after END: a reply that is not a result. */
int proto_word_is_error(int word);

/* One parsed command line.  argv[0] is the command word. */
struct proto_args {
	size_t argc;
	struct bytes argv[PROTO_MAX_ARGS];
	struct buf scratch;	/* unescaped bytes argv points into */
};

void proto_args_init(struct proto_args *);
void proto_args_free(struct proto_args *);

/*
 * Parse the next command of a message starting at *pos.  Returns 1 and
 * fills args; 0 at the end of the message; -1 for a malformed line, with
 * the reason in err (text for a CLIENT_ERROR reply) and *pos past the bad
 * line, so the next command can still be parsed.  args stays valid until
 * the next call.
 */
int proto_parse(const uint8_t *msg, size_t len, size_t *pos,
    struct proto_args *args, struct buf *err);

/* Splits one line that has no literals (a reply line, a shell argument). */
int proto_split(const uint8_t *line, size_t len, struct proto_args *args,
    struct buf *err);

/*
 * Encoding.  proto_add_token appends one token, preceded by a space unless
 * it starts a line; it picks the bare, quoted or literal spelling.
 * proto_escape appends the bare or quoted spelling only (for one-line
 * output such as tikv-ctl's).
 */
void proto_add_token(struct buf *, const void *, size_t);
void proto_add_str(struct buf *, const char *);
void proto_add_u64(struct buf *, uint64_t);
void proto_escape(struct buf *, const void *, size_t);
/*
 * Decodes a value as a shell user types it: a quoted token ("a b",
 * "" for the empty string), or else the bytes as they are, backslash
 * escapes decoded (a b, tab\there, \x00).  What proto_escape writes
 * reads back unchanged.
 */
int proto_unescape(const char *s, struct buf *out, struct buf *err);

/* Reply lines. */
void proto_reply_word(struct buf *, enum proto_word);
void proto_reply_ok(struct buf *);
void proto_reply_value(struct buf *, const void *, size_t);
/* WORD text: CR, LF and other control bytes in text are escaped. */
void proto_reply_error(struct buf *, enum proto_word, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the current reply line (appends LF). */
void proto_end_line(struct buf *);

/* Command tables: dispatch, arity checks and HELP come from here. */
struct proto_cmd;

struct proto_call {
	const struct proto_cmd *table;
	const struct proto_cmd *cmd;
	void *ctx;
	size_t argc;			/* arguments after the command word */
	const struct bytes *argv;	/* argv[0] is the first argument */
	struct buf *reply;
};

struct proto_cmd {
	const char *name;		/* upper case; matched without case */
	int min_args;
	int max_args;			/* -1: no upper bound */
	const char *synopsis;		/* "TSO [count]" */
	const char *help;		/* one line */
	void (*fn)(struct proto_call *);
};

/*
 * Run every command of a message and append one reply per command to
 * reply.  Unknown commands, wrong arity and malformed lines get a
 * CLIENT_ERROR reply of their own; the rest of the message still runs.
 * The table ends with an entry whose name is NULL.
 */
void proto_dispatch(const struct proto_cmd *table, void *ctx,
    const uint8_t *msg, size_t len, struct buf *reply);
const struct proto_cmd *proto_lookup(const struct proto_cmd *table,
    struct bytes name);

/* The handler of HELP [command], for any table. */
void proto_cmd_help(struct proto_call *);

/* A whole token as a decimal u64 (no sign, no spaces); -1 if it is not. */
int proto_bytes_u64(struct bytes, uint64_t *);

/*
 * Argument helpers: on a bad argument they append a CLIENT_ERROR naming it
 * to the reply and return -1, so a handler can simply return.
 */
int proto_arg_u64(struct proto_call *, size_t i, uint64_t min, uint64_t max,
    uint64_t *out);

#endif
