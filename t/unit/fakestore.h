/*
 * A stand-in for tikvd's raw service, for testing the client before the
 * storage daemon exists: n stores on loopback serving the raw commands
 * of cmd/tikvd/service.h over one shared in-memory map, with regions,
 * epochs and leaders checked as tikvd checks them, registered with a
 * real pdd.  Faults are injected on purpose: leaders that move without
 * PD knowing, splits PD has not heard of, busy stores, dropped writes,
 * replies that come too late.
 *
 * Besides the raw commands, the stores answer FAKE_* control commands
 * (for shell tests through nngcat), each a twin of a call below:
 *	FAKE_LEADER region_id store_id tell_pd	OK
 *	FAKE_SPLIT key tell_pd			OK left_id right_id
 *	FAKE_BUSY n | FAKE_STALE n | FAKE_LATE n ms	OK
 *	FAKE_STATS				OK messages commands writes
 */
#ifndef FAKESTORE_H
#define FAKESTORE_H

#include <stddef.h>
#include <stdint.h>

struct fake;

/*
 * Starts nstores stores (ids 1..n), registers them with the PD at
 * pd_url, bootstraps the cluster with one region (id 2, every store a
 * voter, store 1 leading) and reports it.  NULL with log_reason().
 */
struct fake *fake_start(const char *pd_url, int nstores);
void fake_stop(struct fake *);
const char *fake_store_url(const struct fake *, int store_id);

/* Moves the leader; PD hears of it only if tell_pd. */
int fake_set_leader(struct fake *, uint64_t region_id, uint64_t store_id,
    int tell_pd);
/* Splits the region holding key at key; the right side is new. */
int fake_split(struct fake *, const void *key, size_t len, int tell_pd,
    uint64_t *left_id, uint64_t *right_id);
/* The next n commands answer SERVER_IS_BUSY. */
void fake_busy(struct fake *, int n);
/* The next n writes answer STALE_COMMAND and are not applied. */
void fake_stale(struct fake *, int n);
/* The next n messages are run at once, their replies sent ms later. */
void fake_late(struct fake *, int n, int ms);
/* NOT_LEADER answers name no leader while set. */
void fake_hide_leader(struct fake *, int on);

struct fake_stats {
	uint64_t messages;		/* request messages received */
	uint64_t commands;		/* command lines */
	uint64_t writes;		/* writes applied */
};

void fake_get_stats(struct fake *, int store_id, struct fake_stats *);

#endif
