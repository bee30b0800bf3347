/*
 * tikvd's command table: what clients, tikv-ctl and peer stores send.
 * The man page (man/tikv-protocol.7, section TIKVD COMMANDS) documents
 * the same table.
 *
 * Raw commands name their region first, as a context token:
 *	REGION_ID:CONF_VER:VERSION	checked: the region must be on this
 *					store with that epoch
 *	-				whatever region of this store holds
 *					the (first) key; no epoch check
 *
 *	RAW_GET ctx key			VALUE v | NOT_FOUND
 *	RAW_BATCH_GET ctx key...	VALUE k v ... END
 *	RAW_PUT ctx key value [ttl]	OK
 *	RAW_BATCH_PUT ctx ttl key value [key value]...	OK
 *	RAW_DELETE ctx key		OK
 *	RAW_BATCH_DELETE ctx key...	OK
 *	RAW_SCAN ctx start end limit [KEY_ONLY] [REVERSE]
 *					VALUE k [v] ... END; [start, end) within
 *					the region ("" end: region end); REVERSE
 *					goes from end down
 *	RAW_DELETE_RANGE ctx start end	OK
 *	RAW_CAS ctx key ABSENT|EQ prev PUT value [ttl] | DELETE
 *					OK SWAPPED|FAILED ABSENT|VALUE prev
 *	RAW_GET_TTL ctx key		VALUE seconds | NOT_FOUND
 *	RAW_CHECKSUM ctx start end	OK count bytes checksum
 * TTLs are seconds, 0 = none.  Keys up to storage.max-key-size; a value
 * or batch larger than raftstore.raft-entry-max-size is refused.
 *
 * Transactional commands (Percolator, libcommon/mvcc.h; timestamps from
 * PD's TSO, TTLs in milliseconds).  Reads:
 *	TXN_GET ctx key start_ts	VALUE v | NOT_FOUND
 *	TXN_BATCH_GET ctx start_ts key...	VALUE k v ... END
 *	TXN_SCAN ctx start end limit start_ts [KEY_ONLY]
 *					VALUE k [v] ... END
 * Writes (each an entry of the region's log, evaluated at apply; all or
 * nothing over the keys of one command; idempotent):
 *	TXN_PREWRITE ctx primary start_ts ttl_ms mutation...
 *		mutation: PUT k v | INSERT k v | DELETE k | LOCK k	OK
 *	TXN_COMMIT ctx start_ts commit_ts key...	OK
 *	TXN_ROLLBACK ctx start_ts key...	OK
 *	TXN_CHECK_STATUS ctx primary lock_ts current_ts [ROLLBACK_IF_MISSING]
 *				OK LOCKED ttl_ms | OK COMMITTED commit_ts |
 *				OK ROLLED_BACK
 *	TXN_RESOLVE_LOCK ctx start_ts commit_ts	OK count (every lock of
 *				start_ts in the region; commit_ts 0: roll back)
 *	TXN_HEARTBEAT ctx primary start_ts ttl_ms	OK ttl_ms
 * Instead of its result, any of them may reply one key error line
 * (mvcc.h): LOCKED key primary lock_ts ttl_ms type, WRITE_CONFLICT key
 * start_ts conflict_start_ts conflict_commit_ts, ALREADY_EXIST key,
 * TXN_NOT_FOUND key start_ts; reads meet only LOCKED.
 *
 * Region errors (the client refreshes its routing and retries):
 *	NOT_LEADER region_id leader_store_id leader_addr   (0 "" unknown)
 *	EPOCH_NOT_MATCH region      (six region tokens: this store's view)
 *	KEY_NOT_IN_REGION key region_id start end
 *	REGION_NOT_FOUND region_id
 *	SERVER_IS_BUSY reason
 *	RAFT_ENTRY_TOO_LARGE region_id size
 *	STALE_COMMAND			(leader changed before it committed)
 *
 * Store commands:
 *	PING				OK
 *	VERSION				OK tikvd version
 *	HELP [command]
 *	STATUS				OK store_id addr regions leaders
 *	REGIONS				VALUE region leader_peer role term commit
 *					applied ... END
 *	REGION id			the same, one line
 *	SPLIT_REGION ctx key		OK left_region right_region
 *	TRANSFER_LEADER region_id peer_id	OK
 *	RAFT payload			OK (peer stores: raft messages)
 *	RAFT_CHUNK id seq total payload	OK
 */
#ifndef SERVICE_H
#define SERVICE_H

struct store;
struct net_req;

/* The nng handler: runs a request message's commands. */
void service_handle(struct net_req *, void *store);

#endif
