#!/bin/sh
test_description='kill -9 pdd and every tikvd under a write load, restart them all: every acknowledged write is still there, cycle after cycle'
# Minutes at most, even if something hangs (runs take seconds).
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-cluster.sh"

CYCLES=${CYCLES:-3}

# stop_load PID: end a background raw_load, whatever state it is in.
stop_load () {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

acked () {
	if test -f ack
	then
		wc -l <ack
	else
		echo 0
	fi
}

test_expect_success 'a cluster of three stores' '
	cluster_start 3 &&
	cluster_wait_voters 3 &&
	region=$(cluster_region_id "") &&
	cluster_wait_leader "$region"
'

cycle=1
while test "$cycle" -le "$CYCLES"
do
	test_expect_success "cycle $cycle: kill -9 every daemon mid-load, restart them, every acknowledged key is there" '
		before=$(acked) &&
		{
			raw_load -p "$pd_addr" -c 4 -d 600 -t 3000 \
			    -k "c$cycle-" -o ack >"load$cycle.out" 2>&1 &
		} &&
		load_pid=$! &&
		test_when_finished "stop_load $load_pid" &&
		test_wait_until 30 "test \$(acked) -ge $((before + 100))" &&
		cluster_kill_all &&
		atkill=$(acked) &&
		echo "cycle $cycle: killed every daemon at $atkill acks" &&
		cluster_restart_all &&
		leader=$(cluster_wait_leader "$region" 30) &&
		echo "cycle $cycle: s$leader leads again" &&
		test_wait_until 30 "test \$(acked) -ge $((atkill + 100))" &&
		stop_load "$load_pid" &&
		cat "load$cycle.out" &&
		total=$(acked) &&
		echo "cycle $cycle: $((total - before)) keys acknowledged" &&
		raw_load -p "$pd_addr" -c 4 -V ack >verify.out &&
		echo "$total keys verified" >expect &&
		test_cmp expect verify.out
	'
	cycle=$((cycle + 1))
done

test_expect_success 'a second crash right after the restart, in recovery, loses nothing either' '
	before=$(acked) &&
	{
		raw_load -p "$pd_addr" -c 4 -d 600 -t 3000 -k r- -o ack \
		    >load-r.out 2>&1 &
	} &&
	load_pid=$! &&
	test_when_finished "stop_load $load_pid" &&
	test_wait_until 30 "test \$(acked) -ge $((before + 100))" &&
	cluster_kill_all &&
	cluster_restart_all &&
	cluster_kill_all &&
	cluster_restart_all &&
	leader=$(cluster_wait_leader "$region" 30) &&
	atkill=$(acked) &&
	test_wait_until 30 "test \$(acked) -ge $((atkill + 100))" &&
	stop_load "$load_pid" &&
	cat load-r.out &&
	total=$(acked) &&
	raw_load -p "$pd_addr" -c 4 -V ack >verify.out &&
	echo "$total keys verified" >expect &&
	test_cmp expect verify.out
'

# Clean stops are t3010's business (one is a known breakage there); here
# the daemons only have to be alive, then go the way they came.
test_expect_success 'every daemon still runs after the cycles' '
	cluster_alive &&
	cluster_kill_all
'

test_done
