#!/bin/sh
test_description='three stores replicate a region: the leader dies, a new one serves every acknowledged key, the old one catches up through a snapshot and leads again'
# Minutes at most, even if something hangs (runs take seconds).
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-cluster.sh"

# A short Raft log: the leader compacts past a dead follower's position
# after a few hundred writes (at its next KV checkpoint, about once a
# second), so that follower can only come back through a snapshot.
CLUSTER_TOML='raft-log-gc-count-limit = 50'

test_expect_success 'three stores hold the region as voters' '
	cluster_start 3 &&
	cluster_wait_voters 3 &&
	region=$(cluster_region_id "") &&
	leader=$(cluster_wait_leader "$region") &&
	echo "region $region led by s$leader"
'

test_expect_success 'a load is acknowledged in full on a healthy cluster' '
	raw_load -p "$pd_addr" -c 4 -n 300 -k a -o ack1 >load1.out &&
	cat load1.out &&
	test_line_count = 300 ack1 &&
	raw_load -p "$pd_addr" -V ack1 >verify.out &&
	echo "300 keys verified" >expect &&
	test_cmp expect verify.out
'

test_expect_success 'every store applied the writes' '
	test_wait_until 20 "
		a1=\$(cluster_region_field 1 $region applied) &&
		a2=\$(cluster_region_field 2 $region applied) &&
		a3=\$(cluster_region_field 3 $region applied) &&
		test \$a1 -ge 300 && test \$a1 = \$a2 && test \$a2 = \$a3"
'

test_expect_success 'kill -9 the leader; another store leads within a few elections' '
	old=$leader &&
	oldterm=$(cluster_region_field "$old" "$region" term) &&
	test_daemon_kill "s$old" &&
	leader=$(cluster_wait_leader "$region" 10) &&
	test "$leader" != "$old" &&
	newterm=$(cluster_region_field "$leader" "$region" term) &&
	test "$newterm" -gt "$oldterm" &&
	echo "s$old (term $oldterm) killed, s$leader leads in term $newterm"
'

test_expect_success 'the new leader serves every acknowledged key' '
	raw_load -p "$pd_addr" -V ack1 >verify.out &&
	echo "300 keys verified" >expect &&
	test_cmp expect verify.out
'

# Seconds of writes, not a count: the leader compacts during the load, at
# each KV checkpoint, so its log has moved past the dead store's position
# well before the load ends.
test_expect_success 'writes go on with one store down, past the log limit' '
	raw_load -p "$pd_addr" -c 4 -d 4 -k b -o ack2 >load2.out &&
	cat load2.out &&
	test_line_count -ge 200 ack2 &&
	raw_load -p "$pd_addr" -V ack2
'

test_expect_success 'the killed store restarts and catches up through a snapshot' '
	logsize=$(wc -c <"s$old.log") &&
	cluster_store_restart "$old" &&
	test_wait_until 30 "
		la=\$(cluster_region_field $leader $region applied) &&
		oa=\$(cluster_region_field $old $region applied) &&
		test \$oa = \$la" &&
	echo "s$old applied $oa, as the leader s$leader" &&
	tail -c +$((logsize + 1)) "s$old.log" >restart.log &&
	grep "region $region: installed snapshot at " restart.log
'

test_expect_success 'leadership moves to the restarted store' '
	peer=$(cluster_peer_id "$old" "$region") &&
	store "$leader" "TRANSFER_LEADER $region $peer" >transfer.out &&
	echo OK >expect &&
	test_cmp expect transfer.out &&
	test_wait_until 10 "test \"\$(cluster_leader $region)\" = $old" &&
	leader=$(cluster_wait_leader "$region" 10) &&
	test "$leader" = "$old" &&
	term=$(cluster_region_field "$leader" "$region" term)
'

test_expect_success 'every acknowledged key reads back through the restarted store' '
	raw_load -p "$pd_addr" -V ack1 &&
	raw_load -p "$pd_addr" -V ack2 &&
	test "$(cluster_leader "$region")" = "$old" &&
	test "$(cluster_region_field "$old" "$region" term)" = "$term" &&
	key=$(sed -n 1p ack2) &&
	store "$old" "RAW_GET - $key" >get.out &&
	grep "^VALUE v:$key:" get.out
'

test_expect_success 'no daemon crashed along the way' '
	cluster_alive
'

test_expect_success 'a follower dies; writes go on' '
	leader=$(cluster_wait_leader "$region") &&
	follower=$((leader % 3 + 1)) &&
	test_daemon_kill "s$follower" &&
	raw_load -p "$pd_addr" -n 50 -k c -o ack3 &&
	test_line_count = 50 ack3
'

# Writes just before SIGTERM and a peer down make the apply thread and
# the sender to the dead peer post to the raftstore after its loop has
# stopped; those items must be freed (LeakSanitizer would make the exit
# status 134).
test_expect_success 'the leader then stops cleanly too' '
	test_daemon_stop "s$leader"
'

test_done
