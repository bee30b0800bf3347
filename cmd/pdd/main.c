/*
 * pdd: the placement driver.  It serves the timestamp oracle, the id
 * allocator and the cluster metadata (stores, regions, routing, replica
 * placement) over the line protocol.
 */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cluster.h"
#include "conf.h"
#include "detach.h"
#include "log.h"
#include "net.h"
#include "pdd.h"
#include "proto.h"
#include "schema.h"

#define ID_BATCH	1000

static void
usage(void)
{
	fprintf(stderr, "usage: pdd [-dhnv] [-D dir] [-f file] [-l url]\n");
	exit(2);
}

static void
serve(struct net_req *req, void *arg)
{
	struct buf reply = BUF_INIT;
	const void *data;
	size_t len;

	data = net_req_data(req, &len);
	proto_dispatch(pdd_commands, arg, data, len, &reply);
	net_req_reply_buf(req, &reply);
	buf_free(&reply);
}

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'f' },
	{ "config-check", no_argument, NULL, 'n' },
	{ "data-dir", required_argument, NULL, 'D' },
	{ "foreground", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "listen", required_argument, NULL, 'l' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct pdd_config cfg;
	struct cluster_options copt;
	struct pdd pd;
	struct net_server *srv;
	const char *file = NULL, *datadir = NULL, *listen = NULL;
	int ch, foreground = 0, check = 0, verbose = 0, dirfd;
	sigset_t set;

	log_init(argv[0], LOG_LEVEL_INFO, 0);
	while ((ch = getopt_long(argc, argv, "D:df:hl:nv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'D':
			datadir = optarg;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'n':
			check = 1;
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
	if (conf_defaults(schema_pdd(), &cfg) == -1 ||
	    (file && conf_load(schema_pdd(), &cfg, file) == -1) ||
	    (datadir && conf_set(schema_pdd(), &cfg, "data-dir",
	    datadir) == -1) ||
	    (listen && conf_set(schema_pdd(), &cfg, "client-urls",
	    listen) == -1) ||
	    schema_validate_pdd(&cfg, file) == -1)
		errx(1, "%s", log_reason());
	if (check) {
		printf("configuration OK\n");
		conf_free(schema_pdd(), &cfg);
		return 0;
	}
	log_setlevel(verbose ? LOG_LEVEL_DEBUG :
	    schema_log_level(cfg.log_level));
	if (!foreground)
		detach_start();

	/* Signals go to this thread only, through detach_wait below. */
	detach_signals(&set);

	if ((dirfd = meta_open_dir(cfg.data_dir)) == -1)
		fatalx("%s", log_reason());
	if (tso_init(&pd.tso, dirfd, cfg.tso_save_interval) == -1 ||
	    idalloc_init(&pd.ids, dirfd, ID_BATCH) == -1)
		fatalx("%s", log_reason());
	copt.max_replicas = (uint64_t)cfg.max_replicas;
	copt.disconnect_ms = cfg.store_disconnect_time;
	copt.down_ms = cfg.max_store_down_time;
	if ((pd.cluster = cluster_open(cfg.data_dir, &pd.ids, &copt)) == NULL)
		fatalx("%s", log_reason());
	srv = net_server_start(cfg.client_urls, (int)cfg.contexts,
	    cfg.max_message_size, serve, &pd);
	if (srv == NULL)
		fatalx("%s", log_reason());
	log_notice("ready: serving %s, data directory '%s' (pid %ld)",
	    net_server_url(srv), cfg.data_dir, (long)getpid());
	detach_serving(argv[0], cfg.log_file, foreground);

	detach_wait(&set);
	net_server_stop(srv);
	cluster_close(pd.cluster);
	close(dirfd);
	conf_free(schema_pdd(), &cfg);
	return 0;
}
