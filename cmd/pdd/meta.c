#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pdd.h"

int
meta_open_dir(const char *path)
{
	char pid[32];
	int dirfd, lockfd, n;

	if (mkdir(path, 0750) == -1 && errno != EEXIST) {
		log_setreason("cannot create data directory '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if ((dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_setreason("cannot open data directory '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	lockfd = openat(dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lockfd == -1) {
		log_setreason("cannot open '%s/LOCK': %s", path,
		    strerror(errno));
		close(dirfd);
		return -1;
	}
	if (flock(lockfd, LOCK_EX | LOCK_NB) == -1) {
		memset(pid, 0, sizeof(pid));
		n = (int)pread(lockfd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
		log_setreason("data directory '%s' is in use by another "
		    "process (pid %s)", path, pid[0] ? pid : "unknown");
		close(lockfd);
		close(dirfd);
		return -1;
	}
	/* The lock fd stays open for the life of the process. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(lockfd, 0) == -1 || pwrite(lockfd, pid, n, 0) != n)
		log_warn("cannot write pid to '%s/LOCK'", path);
	return dirfd;
}

int
meta_bound_load(struct meta_bound *b, int dirfd, const char *name)
{
	char text[32], *end;
	ssize_t n;
	int fd;

	b->dirfd = dirfd;
	b->name = name;
	b->limit = 0;
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_setreason("cannot open '%s': %s", name, strerror(errno));
		return -1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0) {
		log_setreason("cannot read '%s': %s", name,
		    n == 0 ? "empty file" : strerror(errno));
		return -1;
	}
	text[n] = '\0';
	errno = 0;
	b->limit = strtoull(text, &end, 10);
	if (errno || end == text || (*end != '\n' && *end != '\0')) {
		log_setreason("'%s' is corrupt: '%.20s'", name, text);
		return -1;
	}
	return 0;
}

int
meta_bound_raise(struct meta_bound *b, uint64_t limit)
{
	char text[32], tmp[64];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", b->name);
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n", limit);
	fd = openat(b->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0640);
	if (fd == -1) {
		log_setreason("cannot create '%s': %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, text, n) != n) {
		log_setreason("cannot write '%s': %s", tmp,
		    errno ? strerror(errno) : "short write");
		close(fd);
		unlinkat(b->dirfd, tmp, 0);
		return -1;
	}
	if (fdatasync(fd) == -1)
		fatal("fdatasync '%s'", tmp);
	close(fd);
	if (renameat(b->dirfd, tmp, b->dirfd, b->name) == -1) {
		log_setreason("cannot rename '%s': %s", tmp, strerror(errno));
		return -1;
	}
	if (fsync(b->dirfd) == -1)
		fatal("fsync of the data directory");
	b->limit = limit;
	return 0;
}
