/*
 * Going to the background the way an operator expects: the command that
 * starts a daemon returns only once the daemon serves (status 0) or has
 * failed (status 1, with its error already on the terminal).
 *
 *	detach_start();		before any thread or socket exists
 *	... open files, bind, print the ready line ...
 *	detach_ready();		the starting command exits 0
 */
#ifndef DETACH_H
#define DETACH_H

/* Forks.  The parent waits for the child's word and exits; the child
 * returns in a new session, its stderr still on the terminal. */
void detach_start(void);
/* In the child: release the parent and leave the terminal. */
void detach_ready(void);

#endif
