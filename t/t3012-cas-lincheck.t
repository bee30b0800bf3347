#!/bin/sh
test_description='concurrent raw CAS, puts, deletes and gets through the client stay linearizable: on a quiet cluster, while leadership moves, and across a kill -9 of the leader'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-cluster.sh"

# ops N in raw_cas_hist's summary; fails unless the line is there.
hist_count () {
	awk -v f="$2" '$1 == "ops" {
		for (i = 1; i < NF; i += 2)
			if ($i == f) { print $(i + 1); ok = 1 }
	}
	END { exit !ok }' "$1"
}

# The checker ran over the whole history file: its count is the number
# of operations written, and there are at least $2 of them.
hist_checked () {
	local n
	grep -v '^#' "$1" >"$1.ops" &&
	n=$(wc -l <"$1.ops") &&
	n=$((n)) &&
	echo "linearizable: $n operations" >expect &&
	grep '^linearizable' "$1.out" >actual &&
	test_cmp expect actual &&
	test "$(hist_count "$1.out" ops)" = "$n" &&
	if test "$n" -lt "$2"
	then
		echo "only $n operations in $1, wanted $2" >&2
		return 1
	fi
}

# Every store applied region $1 up to the same index.
applied_same () {
	local i
	for i in 1 2 3
	do
		store "$i" "REGION $1" | awk '$1 == "VALUE" { print $12 }' ||
			return 1
	done >applied &&
	test_line_count = 3 applied &&
	test "$(sort -u applied | wc -l)" = 1
}

test_expect_success 'the checker refuses a history that is not linearizable' '
	cat >bad <<-\EOF &&
	0 10 20 cas k - a ok -
	1 30 40 get k a
	2 50 60 cas k a b ok a
	1 70 80 get k a
	EOF
	test_expect_code 1 raw_cas_hist -C -o bad >out &&
	grep "^not linearizable: " out &&
	sed 4d bad >good &&
	raw_cas_hist -C -o good >out &&
	echo "linearizable: 3 operations" >expect &&
	test_cmp expect out
'

test_expect_success 'a pending CAS may or may not have happened' '
	cat >pending <<-\EOF &&
	0 10 - cas k - a ?
	1 30 40 get k -
	1 50 60 get k a
	1 70 80 get k a
	EOF
	raw_cas_hist -C -o pending &&
	echo "1 90 95 get k -" >>pending &&
	test_expect_code 1 raw_cas_hist -C -o pending
'

test_expect_success 'three stores serve the region' '
	cluster_start 3 &&
	cluster_wait_voters 3 &&
	region=$(pd "GET_REGION \"\"" | awk "\$1 == \"OK\" { print \$2 }") &&
	test -n "$region" &&
	test_wait_until 30 "cluster_lead_store $region 1 2 3 >lead.out" &&
	cat lead.out
'

test_expect_success '4 clients x 300 operations on 3 keys are linearizable' '
	raw_cas_hist -p "$pd_addr" -c 4 -k 3 -n 300 -s 1 -P quiet/ \
		-o quiet >quiet.out &&
	cat quiet.out &&
	hist_checked quiet 1200 &&
	test "$(hist_count quiet.out pending)" = 0 &&
	test "$(hist_count quiet.out readerr)" = 0 &&
	test "$(hist_count quiet.out cas)" -gt 300 &&
	test "$(hist_count quiet.out swapped)" -gt 50
'

test_expect_success 'the checker catches a CAS result changed in that history' '
	awk "!done && \$4 == \"cas\" && \$6 != \"-\" && \$8 == \"ok\" {
		\$8 = \"fail\"; done = 1
	} { print }" quiet >quiet.bad &&
	! test_cmp quiet quiet.bad >/dev/null &&
	test_expect_code 1 raw_cas_hist -C -o quiet.bad >out &&
	cat out &&
	grep "^not linearizable: " out
'

test_expect_success 'one client shared by 4 threads is linearizable too' '
	raw_cas_hist -p "$pd_addr" -S -c 4 -k 3 -n 200 -s 2 -P shared/ \
		-o shared >shared.out &&
	cat shared.out &&
	hist_checked shared 800 &&
	test "$(hist_count shared.out pending)" = 0
'

test_expect_success 'linearizable while the leader moves from store to store' '
	cluster_bg mover cluster_transfer_loop "$region" mover.stop \
		1 2 3 &&
	test_when_finished "cluster_bg_kill mover" &&
	raw_cas_hist -p "$pd_addr" -c 4 -k 3 -n 100000 -d 6 -s 3 \
		-P transfer/ -o transfer >transfer.out &&
	cluster_bg_stop mover &&
	cat transfer.out &&
	hist_checked transfer 500 &&
	awk "\$1 == \"leader\" && \$2 != last { n++; last = \$2 }
		END { print n + 0 }" mover.out >changes &&
	echo "leaders seen in turn: $(cat changes)" &&
	test "$(cat changes)" -ge 4
'

# Until file $1 exists, split the region of each key $2k0 .. $2k7 at that
# key in turn: SPLIT_REGION to each store, the leader says OK.  Prints
# the outcome of each.
split_loop () {
	local i=0 j addr reply
	while ! test -f "$1" && test "$i" -lt 8
	do
		sleep 0.4
		for j in 1 2 3
		do
			eval "addr=\$s${j}_addr"
			reply=$(cluster_call "$addr" "SPLIT_REGION - $2k$i")
			case $reply in
			OK*)
				break ;;
			esac
		done
		echo "s$j: split at $2k$i: $reply"
		i=$((i + 1))
	done
}

test_expect_success 'linearizable while the region of its keys splits under them' '
	before=$(cluster_nregions) &&
	cluster_bg splitter split_loop splitter.stop split/ &&
	test_when_finished "cluster_bg_kill splitter" &&
	raw_cas_hist -p "$pd_addr" -c 4 -k 8 -n 100000 -d 5 -s 5 \
		-P split/ -o split >split.out &&
	cluster_bg_stop splitter &&
	cat splitter.out &&
	cat split.out &&
	hist_checked split 150 &&
	grep -c "split at .*: OK " splitter.out >nsplits &&
	test "$(cat nsplits)" -ge 4 &&
	test "$(cluster_nregions)" -ge $((before + 4)) &&
	region=$(pd "GET_REGION \"\"" | awk "\$1 == \"OK\" { print \$2 }")
'

# Waits for a leader of region $1, kills it with SIGKILL, and starts it
# again 1.5 s later, on its port.
kill_leader_cycle () {
	local lead
	sleep 1.5 &&
	test_wait_until 20 "cluster_lead_store $1 1 2 3 >lead.out" &&
	lead=$(cut -d" " -f1 lead.out) &&
	echo "kill -9 s$lead ($(cat lead.out))" &&
	test_daemon_kill "s$lead" &&
	sleep 1.5 &&
	test_daemon_restart "s$lead"
}

test_expect_success 'CAS and reads are linearizable across kill -9 of the leader' '
	cluster_bg kill raw_cas_hist -p "$pd_addr" -c 4 -k 3 -n 100000 \
		-m 60,40,0,0 -d 10 -t 3000 -s 4 -P kill/ -o kill &&
	test_when_finished "cluster_bg_kill kill" &&
	kill_leader_cycle "$region" &&
	kill_leader_cycle "$region" &&
	cluster_bg_wait kill &&
	cat kill.out &&
	hist_checked kill 300
'

test_expect_success 'the restarted store caught up with the others' '
	test_wait_until 30 "applied_same $region"
'

# A put or delete that gets no reply (its leader died) must not be sent
# again: the first copy may be in the dead leader's log, which the new
# leader commits, and a second copy would apply after other clients'
# writes (a read would see the put's value, then another, then the put's
# again).  The client reports it unknown instead.  Five kills with 8
# clients on 2 keys nearly always caught the resend.
test_expect_success 'puts are linearizable across kill -9 of the leader' '
	cluster_bg kill2 raw_cas_hist -p "$pd_addr" -c 8 -k 2 -n 100000 \
		-m 40,30,30,0 -d 18 -t 3000 -s 6 -P kill2/ -o kill2 &&
	test_when_finished "cluster_bg_kill kill2" &&
	kill_leader_cycle "$region" &&
	kill_leader_cycle "$region" &&
	kill_leader_cycle "$region" &&
	kill_leader_cycle "$region" &&
	kill_leader_cycle "$region" &&
	test_might_fail cluster_bg_wait kill2 &&
	cat kill2.out &&
	hist_checked kill2 1000
'

test_done
