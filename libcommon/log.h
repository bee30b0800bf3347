/*
 * Logging for daemons and tools, and the "reason" of a library failure.
 *
 * Daemons log to stderr (or syslog); tools get the same calls, printed as
 * "prog: message" like err(3).  Library code never exits: it returns -1 or
 * NULL after log_setreason(), and main() prints log_reason().
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_level { LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_init(const char *progname, int level, int use_syslog);
/* Log to a file (appending, one timestamped line per message) instead. */
int log_open_file(const char *path);
void log_setlevel(int level);
int log_getlevel(void);

/* log_warn and fatal append ": strerror(errno)"; the x forms do not. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Printed at every level: the ready line, the exit line. */
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/*
 * The reason for the last library failure in this thread.  Set it right
 * before returning -1/NULL; read it in the caller.  Never empty after a
 * failure; "unknown error" if nothing was set.
 */
void log_setreason(const char *fmt, ...) LOG_PRINTF(1, 2);
const char *log_reason(void);

#endif
