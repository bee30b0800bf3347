/*
 * WAL benchmark (not a test): appends per second of 100-byte entries at
 * 1, 16 and 256 entries per wal_sync(), MB/s of 64 KiB entries, the same
 * with and without preallocation, a bare write+fdatasync loop for
 * comparison, recovery time, and crc32c speed.
 *
 *	wal_bench [-d dir] [-t seconds]
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "wal.h"
#include "xmalloc.h"

static double secs = 2;
static char dir[512];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
rmwal(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		errx(1, "cannot remove '%s'", dir);
}

/* Entries of size len, per entries per sync, over 16 groups. */
static void
run(const char *what, size_t len, int per, int prealloc)
{
	struct wal_opts o = { 0, 0, prealloc };
	struct wal_entry e;
	struct wal *w;
	uint64_t next[16] = { 0 }, n = 0, syncs = 0;
	uint8_t *data;
	double t0, t;
	int i;

	rmwal();
	if ((w = wal_open(dir, &o)) == NULL)
		errx(1, "%s", log_reason());
	data = xmalloc(len);
	memset(data, 'x', len);
	t0 = now();
	do {
		for (i = 0; i < per; i++, n++) {
			e.index = ++next[n % 16];
			e.term = 1;
			e.type = 0;
			e.data = data;
			e.len = len;
			if (wal_append_entries(w, n % 16 + 1, &e, 1) == -1)
				errx(1, "%s", log_reason());
		}
		if (wal_sync(w) == -1)
			errx(1, "%s", log_reason());
		syncs++;
		t = now() - t0;
	} while (t < secs);
	printf("%-36s %10.0f entries/s %8.0f syncs/s %8.1f MB/s\n", what,
	    n / t, syncs / t, n * (double)len / t / 1e6);
	wal_close(w);
	free(data);
}

/* What the disk allows: write 4 KiB and fdatasync, in a loop. */
static void
bare(int prealloc)
{
	char path[600], blk[4096];
	double t0, t;
	uint64_t n = 0;
	int fd;

	rmwal();
	if (mkdir(dir, 0755) == -1)
		err(1, "%s", dir);
	snprintf(path, sizeof(path), "%s/bare", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644)) == -1)
		err(1, "%s", path);
	if (prealloc == 1 && posix_fallocate(fd, 0, 128 << 20) != 0)
		errx(1, "fallocate failed");
	memset(blk, 0, sizeof(blk));
	for (n = 0; prealloc == 2 && n < (32 << 10); n++)
		if (write(fd, blk, sizeof(blk)) != sizeof(blk))
			err(1, "%s", path);
	if (prealloc == 2 && fdatasync(fd) == -1)
		err(1, "%s", path);
	n = 0;
	memset(blk, 'b', sizeof(blk));
	t0 = now();
	do {
		if (pwrite(fd, blk, sizeof(blk), n * sizeof(blk)) !=
		    sizeof(blk) || fdatasync(fd) == -1)
			err(1, "%s", path);
		n++;
		t = now() - t0;
	} while (t < secs);
	printf("%-36s %10.0f writes/s\n", prealloc == 2 ?
	    "bare 4 KiB+fdatasync, zero-filled" : prealloc ?
	    "bare 4 KiB+fdatasync, fallocated" :
	    "bare 4 KiB+fdatasync, appending", n / t);
	close(fd);
}

static void
recovery(void)
{
	struct wal_opts o = { 0, 0, 0 };
	struct wal_stats st;
	struct wal_entry e;
	struct wal *w;
	uint8_t data[100];
	uint64_t n, g;
	double t0;

	rmwal();
	if ((w = wal_open(dir, &o)) == NULL)
		errx(1, "%s", log_reason());
	memset(data, 'r', sizeof(data));
	for (n = 0; n < 2000000; n++) {
		g = n % 1000 + 1;
		e.index = n / 1000 + 1;
		e.term = 1;
		e.type = 0;
		e.data = data;
		e.len = sizeof(data);
		wal_append_entries(w, g, &e, 1);
		if (n % 4096 == 4095)
			wal_sync(w);
	}
	wal_stats(w, &st);
	wal_close(w);
	t0 = now();
	if ((w = wal_open(dir, &o)) == NULL)
		errx(1, "%s", log_reason());
	printf("%-36s %10.3f s (2M entries, 1000 groups, %" PRIu64
	    " segments)\n", "recovery (open)", now() - t0,
	    st.last_segment - st.first_segment + 1);
	wal_close(w);
}

static void
crc(void)
{
	uint8_t *b = xmalloc(1 << 20);
	uint32_t c = 0;
	double t0;
	int i;

	memset(b, 'c', 1 << 20);
	t0 = now();
	for (i = 0; i < 2000; i++)
		c ^= crc32c_sw(c, b, 1 << 20);
	printf("%-36s %10.2f GB/s\n", "crc32c software",
	    2000 * 1048576.0 / (now() - t0) / 1e9);
	if (crc32c_hw_available()) {
		t0 = now();
		for (i = 0; i < 10000; i++)
			c ^= crc32c_hw(c, b, 1 << 20);
		printf("%-36s %10.2f GB/s\n", "crc32c sse4.2",
		    10000 * 1048576.0 / (now() - t0) / 1e9);
	}
	if (c == 42)
		printf("\n");
	free(b);
}

int
main(int argc, char **argv)
{
	const char *base = "/tmp", *errstr;
	int c;

	while ((c = getopt(argc, argv, "d:t:")) != -1) {
		switch (c) {
		case 'd':
			base = optarg;
			break;
		case 't':
			secs = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "-t %s: %s", optarg, errstr);
			break;
		default:
			fprintf(stderr, "usage: wal_bench [-d dir] "
			    "[-t seconds]\n");
			return 2;
		}
	}
	log_init("wal_bench", LOG_LEVEL_WARN, 0);
	snprintf(dir, sizeof(dir), "%s/wal_bench.%d", base, (int)getpid());
	crc();
	bare(0);
	bare(1);
	bare(2);
	run("100 B x 1 per sync, appending", 100, 1, 1);
	run("100 B x 1 per sync, fallocated", 100, 1, 0);
	run("100 B x 1 per sync, zeroed ahead", 100, 1, 2);
	run("100 B x 16 per sync, appending", 100, 16, 1);
	run("100 B x 16 per sync, fallocated", 100, 16, 0);
	run("100 B x 256 per sync, fallocated", 100, 256, 0);
	run("64 KiB x 1 per sync, fallocated", 65536, 1, 0);
	run("64 KiB x 16 per sync, appending", 65536, 16, 1);
	run("64 KiB x 16 per sync, fallocated", 65536, 16, 0);
	run("64 KiB x 16 per sync, zeroed ahead", 65536, 16, 2);
	recovery();
	rmwal();
	return 0;
}
