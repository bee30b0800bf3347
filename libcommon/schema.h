/*
 * The config files of pdd and tikvd: their structs, their schemas (key
 * names after TiKV and PD where the concept is the same), and the checks
 * across keys.  The daemons and `tikv-ctl config-check` share them.
 *
 * A daemon reads its config in this order:
 *
 *	struct tikvd_config cfg = { 0 };
 *	if (conf_defaults(schema_tikvd(), &cfg) == -1 ||
 *	    (path && conf_load(schema_tikvd(), &cfg, path) == -1) ||
 *	    conf_set(schema_tikvd(), &cfg, "log.level", "debug") == -1 ||
 *	    schema_validate_tikvd(&cfg, path) == -1)
 *		fatalx("%s", log_reason());
 *	...
 *	conf_free(schema_tikvd(), &cfg);
 *
 * Sizes are bytes, durations milliseconds (see conf.h); strings are never
 * NULL, "" means unset.
 */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <stdint.h>

struct conf_key;

struct pdd_config {
	char *name;			/* name */
	char *data_dir;			/* data-dir */
	char *client_urls;		/* client-urls: nng listen URL */
	char *advertise_client_urls;	/* advertise-client-urls */
	uint64_t tso_save_interval;	/* tso-save-interval */
	char *log_level;		/* [log] level */
	char *log_file;			/* [log] file */
	int64_t max_replicas;		/* [replication] max-replicas */
	uint64_t max_store_down_time;	/* [schedule] max-store-down-time */
	uint64_t store_disconnect_time;	/* [schedule] store-disconnect-time */
	uint64_t max_message_size;	/* [server] max-message-size */
	int64_t contexts;		/* [server] contexts */
};

struct tikvd_config {
	/* [server] */
	char *addr;
	char *advertise_addr;
	char *status_addr;
	uint64_t max_message_size;
	int64_t contexts;
	/* [storage] */
	char *data_dir;
	uint64_t max_key_size;
	/* [pd] */
	char **pd_endpoints;
	/* [raftstore] */
	uint64_t raft_base_tick_interval;
	int64_t raft_heartbeat_ticks;
	int64_t raft_election_timeout_ticks;
	int64_t raft_log_gc_count_limit;
	uint64_t raft_log_gc_size_limit;
	uint64_t raft_entry_max_size;
	uint64_t pd_heartbeat_tick_interval;
	uint64_t pd_store_heartbeat_tick_interval;
	uint64_t split_region_check_tick_interval;
	/* [coprocessor] */
	uint64_t region_max_size;
	uint64_t region_split_size;
	int64_t region_max_keys;
	int64_t region_split_keys;
	/* [log] */
	char *log_level;
	char *log_file;
};

const struct conf_key *schema_pdd(void);
const struct conf_key *schema_tikvd(void);

/*
 * Checks across keys (region-split-size <= region-max-size, URLs, ...).
 * path is the file the config came from, or NULL: an error points at the
 * line that set the offending key ("path:line: message").
 */
int schema_validate_pdd(const struct pdd_config *, const char *path);
int schema_validate_tikvd(const struct tikvd_config *, const char *path);

/*
 * Check a config file: defaults, load, validate.  kind is "pdd", "tikvd"
 * or NULL to guess: a base name starting with "pd" is pdd, with "tikv"
 * tikvd; otherwise both are tried and the one that accepts the file wins
 * (when both fail, the error reported is the one found later in the file,
 * as that schema understood more of it).  *kind_out (if not NULL) gets the
 * kind used: "pdd", "tikvd", or "pdd or tikvd" when both accept the file.
 * Returns 0, or -1 with log_reason() set.
 */
int schema_check(const char *path, const char *kind, const char **kind_out);

/* A [log] level word as a log.h level: error and warn map to WARN. */
int schema_log_level(const char *);

#endif
