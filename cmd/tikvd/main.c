/*
 * tikvd: the storage daemon.  See tikvd.h for its modules and threads.
 *
 * Startup order: config, data directory (WAL, KV engine), PD (store id,
 * bootstrap), apply thread, raftstore (recovery), transport, server, PD
 * worker; "ready" once it serves.  Shutdown runs the other way.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply.h"
#include "conf.h"
#include "detach.h"
#include "kv.h"
#include "log.h"
#include "net.h"
#include "pdclient.h"
#include "pdworker.h"
#include "raftstore.h"
#include "schema.h"
#include "service.h"
#include "tikvd.h"
#include "transport.h"
#include "wal.h"

#define PD_TIMEOUT_MS	3000

static void
usage(void)
{
	fprintf(stderr, "usage: tikvd [-dhnv] [-a url] [-D dir] [-f file] "
	    "[-p url]\n");
	exit(2);
}

static const struct option longopts[] = {
	{ "addr", required_argument, NULL, 'a' },
	{ "config", required_argument, NULL, 'f' },
	{ "config-check", no_argument, NULL, 'n' },
	{ "data-dir", required_argument, NULL, 'D' },
	{ "foreground", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "pd", required_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

static size_t
count_list(char **list)
{
	size_t n = 0;

	while (list != NULL && list[n] != NULL)
		n++;
	return n;
}

/* Pages for tkrzw's cache: about a quarter of the machine, at most 4 GiB. */
static int64_t
kv_cache_pages(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	int64_t bytes = 1LL << 30;

	if (pages > 0 && size > 0)
		bytes = (int64_t)pages * size / 4;
	if (bytes > (4LL << 30))
		bytes = 4LL << 30;
	return bytes / 8192;
}

int
main(int argc, char *argv[])
{
	struct tikvd_config cfg;
	struct kv_options kopt;
	struct store st;
	const char *file = NULL, *datadir = NULL, *addr = NULL, *pd = NULL;
	char waldir[PATH_MAX];
	int ch, foreground = 0, check = 0, verbose = 0;
	sigset_t set;

	log_init(argv[0], LOG_LEVEL_INFO, 0);
	while ((ch = getopt_long(argc, argv, "a:D:df:hnp:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'D':
			datadir = optarg;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'p':
			pd = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	memset(&cfg, 0, sizeof(cfg));
	if (conf_defaults(schema_tikvd(), &cfg) == -1 ||
	    (file && conf_load(schema_tikvd(), &cfg, file) == -1) ||
	    (datadir && conf_set(schema_tikvd(), &cfg, "storage.data-dir",
	    datadir) == -1) ||
	    (addr && conf_set(schema_tikvd(), &cfg, "server.addr",
	    addr) == -1) ||
	    (pd && conf_set(schema_tikvd(), &cfg, "pd.endpoints", pd) == -1) ||
	    schema_validate_tikvd(&cfg, file) == -1)
		errx(1, "%s", log_reason());
	if (check) {
		printf("configuration OK\n");
		conf_free(schema_tikvd(), &cfg);
		return 0;
	}
	log_setlevel(verbose ? LOG_LEVEL_DEBUG :
	    schema_log_level(cfg.log_level));
	if (!foreground)
		detach_start();

	detach_signals(&set);

	memset(&st, 0, sizeof(st));
	st.cfg = &cfg;
	st.data_dir = cfg.data_dir;
	st.addr = cfg.advertise_addr[0] ? cfg.advertise_addr : cfg.addr;
	if (mkdir(cfg.data_dir, 0755) == -1 && errno != EEXIST)
		fatal("cannot create '%s'", cfg.data_dir);
	snprintf(waldir, sizeof(waldir), "%s/wal", cfg.data_dir);
	if ((st.wal = wal_open(waldir, NULL)) == NULL)
		fatalx("%s", log_reason());
	kv_options_init(&kopt);
	kopt.max_key_size = cfg.max_key_size + 1;
	kopt.max_value_size = cfg.raft_entry_max_size + 16;
	kopt.cache_pages = kv_cache_pages();
	if ((st.kv = kv_open(cfg.data_dir, &kopt)) == NULL)
		fatalx("%s", log_reason());
	st.pd = pdclient_open(cfg.pd_endpoints, count_list(cfg.pd_endpoints),
	    PD_TIMEOUT_MS);
	if (st.pd == NULL)
		fatalx("%s", log_reason());

	st.rs = raftstore_new(&st);
	if (pdworker_join(&st) == -1)
		fatalx("cannot join the cluster: %s", log_reason());
	st.ap = apply_start(&st);
	st.tr = transport_new(&st);
	/* Before the loop starts: the loop calls into the worker. */
	st.pw = pdworker_start(&st);
	if (raftstore_start(st.rs) == -1)
		fatalx("%s", log_reason());
	st.srv = net_server_start(cfg.addr, (int)cfg.contexts,
	    cfg.max_message_size, service_handle, &st);
	if (st.srv == NULL)
		fatalx("%s", log_reason());
	log_notice("ready: store %llu serving %s, data directory '%s' "
	    "(pid %ld)", (unsigned long long)st.store_id,
	    net_server_url(st.srv), cfg.data_dir, (long)getpid());
	detach_serving(argv[0], cfg.log_file, foreground);

	detach_wait(&set);
	net_server_stop(st.srv);
	/* The loop first: the worker's queries then fail at once. */
	raftstore_stop(st.rs);
	pdworker_stop(st.pw);
	transport_free(st.tr);
	apply_stop(st.ap);
	raftstore_free(st.rs);
	if (wal_close(st.wal) == -1)
		log_warnx("%s", log_reason());
	if (kv_close(st.kv) == -1)
		log_warnx("%s", log_reason());
	pdclient_close(st.pd);
	conf_free(schema_tikvd(), &cfg);
	return 0;
}
