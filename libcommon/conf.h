/*
 * Config files: a TOML subset read through libinih, driven by a schema.
 *
 *	[section]		also dotted: [a.b]; keys before any section
 *	key = value		are top-level; dotted keys (a.b = 1) work too
 *	# comment		also after a value, never inside a string
 *
 * Values: "basic strings" (escapes \\ \" \n \t \r), 'literal strings',
 * integers (sign, _ between digits), true/false, single-line arrays of
 * strings ["a", 'b'].  Sizes are "96MiB", "512KB", "1.5GiB" or a bare
 * integer of bytes; like TiKV's ReadableSize every unit is binary (KB is
 * 1024 like KiB; units B, K, KB, KiB, M, MB, MiB, G, GB, GiB, T, TB, TiB,
 * P, PB, PiB).  Durations are "10s", "1m30s", "500ms", "1.5h" (units ms, s,
 * m, h, d, like TiKV's ReadableDuration).
 *
 * A schema is an array of struct conf_key ending with a NULL name; each key
 * names a field of the caller's config struct by offsetof.  Field types:
 *
 *	CONF_STRING	char *		owned, never NULL after conf_defaults
 *	CONF_INT	int64_t
 *	CONF_BOOL	int		0 or 1
 *	CONF_SIZE	uint64_t	bytes
 *	CONF_DURATION	uint64_t	milliseconds
 *	CONF_STRLIST	char **		owned, NULL-terminated, never NULL
 *
 * Bounds: a value must be >= min and, when max > 0, <= max.  For strings
 * the bounds are on the length (min 1: must not be empty), for string
 * lists on the number of elements.  choices, for a string, lists the
 * accepted words separated by '|'.
 *
 * Failures return -1 with log_reason() set; errors in a file read
 * "path:line: message", e.g.
 *	tikvd.toml:12: unknown key 'raftstore.foo'
 *	tikvd.toml:3: bad value for 'server.max-message-size': expected a size
 *	    like "96MiB"
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum conf_type {
	CONF_STRING,
	CONF_INT,
	CONF_BOOL,
	CONF_SIZE,
	CONF_DURATION,
	CONF_STRLIST
};

struct conf_key {
	const char *section;	/* "" or NULL: top level */
	const char *name;	/* NULL ends the schema */
	enum conf_type type;
	size_t offset;		/* offsetof(struct my_config, field) */
	int64_t min;
	int64_t max;		/* 0: no upper bound */
	const char *def;	/* default, in conf_set's syntax */
	const char *help;	/* one line */
	const char *choices;	/* strings only: "a|b|c", or NULL */
};

/*
 * Set every field to its default.  Call it once on a zeroed struct before
 * anything else.  Fails only if the schema itself is wrong.
 */
int conf_defaults(const struct conf_key *, void *cfg);

/*
 * Read a file over the current values (defaults first, command-line
 * overrides after).  On failure cfg may be partly updated but stays
 * consistent: conf_free still releases it.
 */
int conf_load(const struct conf_key *, void *cfg, const char *path);

/*
 * Set one key, named "section.key" (or "key" at top level), from value
 * text in the file's syntax.  For command-line use, string, size and
 * duration values may also be given unquoted (addr=tcp://h:1, 96MiB, 10s),
 * and a string list as unquoted comma-separated words.
 */
int conf_set(const struct conf_key *, void *cfg, const char *name,
    const char *value);

/* Free the owned strings and lists; the fields are left NULL. */
void conf_free(const struct conf_key *, void *cfg);

/* Append the effective config as TOML that conf_load reads back. */
void conf_dump(const struct conf_key *, const void *cfg, struct buf *);

/* One key's value as it would be written in TOML ("96MiB" quoted). */
void conf_format(const struct conf_key *, const void *cfg, struct buf *);

/* The schema entry for "section.key", or NULL. */
const struct conf_key *conf_lookup(const struct conf_key *, const char *name);

/*
 * The line of path where "section.key" is set, 0 if it is not set there
 * (or the file cannot be read): lets cross-field checks point at a line.
 */
int conf_lineof(const char *path, const char *name);

#endif
