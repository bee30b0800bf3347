#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "detach.h"
#include "log.h"

static int detach_fd = -1;

void
detach_start(void)
{
	int fds[2];
	char c;
	pid_t pid;

	if (pipe(fds) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(fds[1]);
		/* EOF without a word: the child failed and said why. */
		_exit(read(fds[0], &c, 1) == 1 && c == 'r' ? 0 : 1);
	}
	close(fds[0]);
	detach_fd = fds[1];
	if (setsid() == -1)
		fatal("setsid");
}

void
detach_ready(void)
{
	int fd;

	if (detach_fd == -1)
		return;
	if (write(detach_fd, "r", 1) != 1)
		log_warn("cannot tell the starting process we are ready");
	close(detach_fd);
	detach_fd = -1;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

void
detach_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void
detach_serving(const char *progname, const char *log_file, int foreground)
{
	/* Logging leaves the terminal only once startup errors are past. */
	if (log_file[0] && log_open_file(log_file) == -1)
		fatalx("%s", log_reason());
	if (!foreground) {
		if (!log_file[0])
			log_init(progname, log_getlevel(), 1);
		detach_ready();
	}
}

int
detach_wait(const sigset_t *set)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0 || sig == SIGHUP)
			continue;
		log_notice("exiting on signal %d", sig);
		return sig;
	}
}
