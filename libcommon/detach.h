/*
 * Going to the background the way an operator expects: the command that
 * starts a daemon returns only once the daemon serves (status 0) or has
 * failed (status 1, with its error already on the terminal).
 *
 *	detach_start();		before any thread or socket exists
 *	detach_signals(&set);	before any thread exists
 *	... open files, bind, print the ready line ...
 *	detach_serving(argv[0], log_file, foreground);
 *	sig = detach_wait(&set);	until SIGTERM or SIGINT
 */
#ifndef DETACH_H
#define DETACH_H

/* Forks.  The parent waits for the child's word and exits; the child
 * returns in a new session, its stderr still on the terminal. */
void detach_start(void);
/* In the child: release the parent and leave the terminal. */
void detach_ready(void);

#include <signal.h>

/*
 * Blocks SIGTERM, SIGINT and SIGHUP in every thread created after it
 * (detach_wait takes them) and ignores SIGPIPE.
 */
void detach_signals(sigset_t *set);
/*
 * The daemon serves: logging moves to log_file if one is set (fatal if
 * it cannot be opened), else, in the background, to syslog; then
 * detach_ready() unless in the foreground.
 */
void detach_serving(const char *progname, const char *log_file,
    int foreground);
/* Waits for SIGTERM or SIGINT (SIGHUP is ignored) and returns it. */
int detach_wait(const sigset_t *set);

#endif
