#!/bin/sh
test_description='tikvd transactional commands over nngcat: Percolator prewrite, commit, rollback, status checks and lock resolution, their key errors, and bad input'
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-cluster.sh"

q="'"
# A current_ts whose physical part (ms) is far past any lock's TTL here.
LATE=$((1 << 40))

# txn LINE...: the lines to the leader; the reply in out.
txn () {
	store "$leader" "$@" >out
}

# expect LINE...: out holds exactly these lines.
expect () {
	printf '%s\n' "$@" >expect &&
	test_cmp expect out
}

test_expect_success 'one store serves the whole key space' '
	cluster_start 1 &&
	cluster_wait_voters 1 &&
	region=$(cluster_region_id "") &&
	leader=$(cluster_wait_leader "$region")
'

test_expect_success 'a committed write is visible from its commit_ts on' '
	txn "TXN_PREWRITE - a 100 3000 PUT a 1 PUT b 2" \
	    "TXN_COMMIT - 100 110 a b" \
	    "TXN_GET - a 105" "TXN_GET - a 110" "TXN_GET - b 200" &&
	expect OK OK NOT_FOUND "VALUE 1" "VALUE 2"
'

test_expect_success 'a writer that started before a commit of its key conflicts' '
	txn "TXN_PREWRITE - c 105 3000 PUT c 9 PUT b 9" "TXN_GET - c 200" &&
	expect "WRITE_CONFLICT b 105 100 110" NOT_FOUND
'

test_expect_success 'a lock blocks readers at or after its start_ts, not before' '
	txn "TXN_PREWRITE - a 120 3000 PUT a 3 DELETE b" \
	    "TXN_GET - a 119" "TXN_GET - a 120" "TXN_GET - b 150" &&
	expect OK "VALUE 1" "LOCKED a a 120 3000 PUT" "LOCKED b a 120 3000 DELETE"
'

test_expect_success 'a second writer meets the lock' '
	txn "TXN_PREWRITE - c 130 3000 PUT c 9 PUT a 9" "TXN_GET - c 200" &&
	expect "LOCKED a a 120 3000 PUT" NOT_FOUND
'

test_expect_success 'the status check sees the live lock, then rolls it back once its TTL ran out' '
	txn "TXN_CHECK_STATUS - a 120 200" \
	    "TXN_CHECK_STATUS - a 120 $LATE" \
	    "TXN_CHECK_STATUS - a 120 $LATE" \
	    "TXN_GET - b 150" &&
	expect "OK LOCKED 3000" "OK ROLLED_BACK" "OK ROLLED_BACK" \
	    "LOCKED b a 120 3000 DELETE" &&
	store "$leader" "REGION $region" >region.out &&
	region_ctx=$(awk "{ print \$2 \":\" \$5 \":\" \$6 }" region.out) &&
	txn "TXN_RESOLVE_LOCK $region_ctx 120 0" "TXN_GET - b 150" \
	    "TXN_GET - a 150" &&
	expect "OK 1" "VALUE 2" "VALUE 1"
'

test_expect_success 'a rolled-back transaction can neither commit nor prewrite again' '
	txn "TXN_COMMIT - 120 140 a" "TXN_PREWRITE - a 120 3000 PUT a 3" &&
	expect "TXN_NOT_FOUND a 120" "WRITE_CONFLICT a 120 120 120"
'

test_expect_success 'commit and rollback are idempotent; a committed key cannot be rolled back' '
	txn "TXN_PREWRITE - d 150 3000 PUT d 4" "TXN_COMMIT - 150 160 d" \
	    "TXN_COMMIT - 150 160 d" "TXN_ROLLBACK - 150 d" \
	    "TXN_ROLLBACK - 170 e" "TXN_ROLLBACK - 170 e" \
	    "TXN_PREWRITE - e 170 3000 PUT e 5" &&
	sed -n 4p out >out.4 &&
	grep "^CLIENT_ERROR .*committed" out.4 &&
	sed 4d out >out.rest &&
	cp out.rest out &&
	expect OK OK OK OK OK "WRITE_CONFLICT e 170 170 170"
'

test_expect_success 'insert fails on a live key, succeeds on a deleted one' '
	txn "TXN_PREWRITE - d 180 3000 INSERT d x" \
	    "TXN_PREWRITE - d 180 3000 DELETE d" "TXN_COMMIT - 180 190 d" \
	    "TXN_PREWRITE - d 200 3000 INSERT d y" "TXN_COMMIT - 200 210 d" \
	    "TXN_GET - d 185" "TXN_GET - d 195" "TXN_GET - d 215" &&
	expect "ALREADY_EXIST d" OK OK OK OK "VALUE 4" NOT_FOUND "VALUE y"
'

test_expect_success 'a prewrite is all or nothing over its keys' '
	txn "TXN_PREWRITE - f 220 3000 PUT f 1 PUT g 1 INSERT d z" \
	    "TXN_GET - f 230" "TXN_GET - g 230" &&
	expect "ALREADY_EXIST d" NOT_FOUND NOT_FOUND
'

test_expect_success 'a status check of a missing primary: TXN_NOT_FOUND, or a rollback when asked' '
	txn "TXN_CHECK_STATUS - h 240 300" \
	    "TXN_CHECK_STATUS - h 240 300 ROLLBACK_IF_MISSING" \
	    "TXN_PREWRITE - h 240 3000 PUT h 1" \
	    "TXN_CHECK_STATUS - d 200 300" &&
	expect "TXN_NOT_FOUND h 240" "OK ROLLED_BACK" \
	    "WRITE_CONFLICT h 240 240 240" "OK COMMITTED 210"
'

test_expect_success 'heartbeat raises the primary lock TTL, never lowers it' '
	txn "TXN_PREWRITE - k 250 3000 PUT k 1 PUT l 1" \
	    "TXN_HEARTBEAT - k 250 9000" "TXN_HEARTBEAT - k 250 100" \
	    "TXN_CHECK_STATUS - k 250 300" "TXN_HEARTBEAT - k 999 100" &&
	expect OK "OK 9000" "OK 9000" "OK LOCKED 9000" "TXN_NOT_FOUND k 999"
'

test_expect_success 'resolving a committed primary commits the secondaries' '
	txn "TXN_COMMIT - 250 260 k" "TXN_GET - l 270" &&
	expect OK "LOCKED l k 250 3000 PUT" &&
	txn "TXN_CHECK_STATUS - k 250 $LATE" \
	    "TXN_RESOLVE_LOCK $region_ctx 250 260" \
	    "TXN_GET - l 270" "TXN_GET - l 255" &&
	expect "OK COMMITTED 260" "OK 1" "VALUE 1" NOT_FOUND
'

test_expect_success 'scan: visible pairs in order, limits, KEY_ONLY, a lock stops it' '
	txn "TXN_SCAN - \"\" \"\" 100 1000" &&
	expect "VALUE a 1" "VALUE b 2" "VALUE d y" "VALUE k 1" "VALUE l 1" END &&
	txn "TXN_SCAN - b k 2 1000 KEY_ONLY" "TXN_SCAN - a z 10 105" &&
	expect "VALUE b" "VALUE d" END END &&
	txn "TXN_PREWRITE - c 280 3000 PUT c 3" "TXN_SCAN - a z 1 1000" \
	    "TXN_SCAN - a z 10 1000" "TXN_SCAN - a z 10 270" &&
	expect OK "VALUE a 1" END "LOCKED c c 280 3000 PUT" \
	    "VALUE a 1" "VALUE b 2" "VALUE d y" "VALUE k 1" "VALUE l 1" END
'

test_expect_success 'batch get returns visible keys in request order, or the lock' '
	txn "TXN_BATCH_GET - 1000 l a zz b" "TXN_BATCH_GET - 1000 a c" &&
	expect "VALUE l 1" "VALUE a 1" "VALUE b 2" END \
	    "LOCKED c c 280 3000 PUT"
'

test_expect_success 'transactional and raw keys are separate' '
	txn "RAW_GET - a" &&
	expect NOT_FOUND &&
	txn "RAW_PUT - a raw" &&
	expect OK &&
	txn "TXN_GET - a 1000" "RAW_GET - a" &&
	expect "VALUE 1" "VALUE raw"
'

test_expect_success 'long values and binary keys round trip' '
	long=$(head -c 600 /dev/zero | tr "\0" v) &&
	txn "TXN_PREWRITE - \"k\\0\" 300 3000 PUT \"k\\0\" $long PUT \"\" empty" \
	    "TXN_COMMIT - 300 310 \"k\\0\" \"\"" \
	    "TXN_GET - \"k\\0\" 320" "TXN_GET - \"\" 320" &&
	expect OK OK "VALUE $long" "VALUE empty"
'

test_expect_success 'bad input gets CLIENT_ERROR and changes nothing' '
	txn "TXN_GET - a 0" "TXN_PREWRITE - a 400 3000 SET a 1" \
	    "TXN_PREWRITE - a 400 3000 PUT a" "TXN_COMMIT - 400 400 a" \
	    "TXN_SCAN - a z 10 400 REVERSE" \
	    "TXN_CHECK_STATUS - a 400 500 MAYBE" "TXN_GET - a 1000" &&
	expect "CLIENT_ERROR argument 3 of ${q}TXN_GET${q} out of range: 0 not in 1..18446744073709551615" \
	    "CLIENT_ERROR argument 5 of ${q}TXN_PREWRITE${q} is ${q}SET${q}, expected PUT, INSERT, DELETE or LOCK" \
	    "CLIENT_ERROR wrong number of arguments for ${q}TXN_PREWRITE${q}, usage: TXN_PREWRITE ctx primary start_ts ttl_ms PUT|INSERT key value | DELETE|LOCK key ..." \
	    "CLIENT_ERROR argument 3 of ${q}TXN_COMMIT${q} out of range: 400 not in 401..18446744073709551615" \
	    "CLIENT_ERROR argument 6 of ${q}TXN_SCAN${q} is ${q}REVERSE${q}, expected KEY_ONLY" \
	    "CLIENT_ERROR argument 5 of ${q}TXN_CHECK_STATUS${q} is ${q}MAYBE${q}, expected ROLLBACK_IF_MISSING" \
	    "VALUE 1" &&
	txn "TXN_RESOLVE_LOCK - 400 0" &&
	expect "CLIENT_ERROR ${q}TXN_RESOLVE_LOCK${q} needs a region context, not -"
'

test_expect_success 'after kill -9 and a restart, the transactional data is all there' '
	test_daemon_kill "s$leader" &&
	cluster_store_start "$leader" &&
	leader=$(cluster_wait_leader "$region") &&
	txn "TXN_SCAN - \"\" \"\" 100 1000" &&
	expect "LOCKED c c 280 3000 PUT" &&
	txn "TXN_SCAN - \"\" \"\" 100 270" &&
	expect "VALUE a 1" "VALUE b 2" "VALUE d y" "VALUE k 1" "VALUE l 1" END &&
	txn "TXN_ROLLBACK - 280 c" "TXN_SCAN - \"\" \"\" 100 1000" &&
	expect OK "VALUE \"\" empty" "VALUE a 1" "VALUE b 2" "VALUE d y" \
	    "VALUE k 1" "VALUE \"k\\x00\" $long" "VALUE l 1" END
'

test_done
