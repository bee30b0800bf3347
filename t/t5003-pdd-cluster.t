#!/bin/sh
test_description='pdd cluster metadata: bootstrap, stores, region heartbeats and routing, splits, the replica checker, kill -9, bad input'
. "$(dirname "$0")/test-lib.sh"

# The empty token, for region ranges and empty peer lists.
E='""'

# pd LINE...: one request message with one command per argument; the
# reply on stdout.  PD names the daemon (default pd).
pd () {
	printf '%s\n' "$@" >req &&
	eval "nngcat --req --dial \"\$${PD:-pd}_addr\" --recv-timeout 5" \
		--raw --file req
}

# expect LINE...: the reply to one message of these commands must equal
# the lines on stdin.
expect () {
	cat >expect &&
	pd "$@" >actual &&
	test_cmp expect actual
}

# field N FILE: the Nth space-separated field of the first line.
field () {
	sed -n 1p "$2" | cut -d" " -f"$1"
}

test_expect_success 'pdd starts; the cluster is not bootstrapped' '
	cat >pd.toml <<-\EOT &&
	data-dir = "data"
	[replication]
	max-replicas = 3
	EOT
	test_daemon_start pd pdd -d -f pd.toml -l tcp://127.0.0.1:@PORT@ &&
	expect IS_BOOTSTRAPPED "PUT_STORE 2 tcp://127.0.0.1:20162" \
		"REGION_HEARTBEAT 100 $E $E 1 1 101:1:v 101 0 0 $E" \
		"GET_REGION a" "GET_REGION_BY_ID 100" "ASK_SPLIT 100" \
		"GET_STORE 1" LIST_STORES <<-\EOF
	OK 0
	CLIENT_ERROR cluster is not bootstrapped
	CLIENT_ERROR cluster is not bootstrapped
	NOT_FOUND
	NOT_FOUND
	NOT_FOUND
	NOT_FOUND
	END
	EOF
'

test_expect_success 'a first region that does not fit is refused' '
	expect "BOOTSTRAP 1 tcp://127.0.0.1:20161 100 a $E 1 1 101:1:v" \
		"BOOTSTRAP 1 tcp://127.0.0.1:20161 100 $E z 1 1 101:1:v" \
		"BOOTSTRAP 1 tcp://127.0.0.1:20161 100 $E $E 1 1 101:1:v,102:2:v" \
		"BOOTSTRAP 1 tcp://127.0.0.1:20161 100 $E $E 1 1 101:2:v" \
		"BOOTSTRAP 1 tcp://127.0.0.1:20161 100 $E $E 1 1 101:1:l" \
		"BOOTSTRAP 1 tcp://127.0.0.1:20161 100 $E $E 1 1 $E" \
		"BOOTSTRAP 1 $E 100 $E $E 1 1 101:1:v" \
		"BOOTSTRAP 0 tcp://127.0.0.1:20161 100 $E $E 1 1 101:1:v" \
		"BOOTSTRAP 1 tcp://127.0.0.1:20161 x $E $E 1 1 101:1:v" \
		"BOOTSTRAP 1 tcp://127.0.0.1:20161 100 $E $E 1 1 101:1:q" \
		IS_BOOTSTRAPPED <<-\EOF
	CLIENT_ERROR the first region must cover all keys and have one voter, on store 1
	CLIENT_ERROR the first region must cover all keys and have one voter, on store 1
	CLIENT_ERROR the first region must cover all keys and have one voter, on store 1
	CLIENT_ERROR the first region must cover all keys and have one voter, on store 1
	CLIENT_ERROR the first region must cover all keys and have one voter, on store 1
	CLIENT_ERROR region 100 has no peers
	CLIENT_ERROR store address is empty
	CLIENT_ERROR argument 1 of '"'"'BOOTSTRAP'"'"' out of range: 0 not in 1..18446744073709551615
	CLIENT_ERROR bad region id or epoch
	CLIENT_ERROR bad peer list at byte 7
	OK 0
	EOF
'

test_expect_success 'bootstrap once; a second bootstrap is refused' '
	expect "BOOTSTRAP 1 tcp://127.0.0.1:20161 100 $E $E 1 1 101:1:v" \
		"BOOTSTRAP 1 tcp://127.0.0.1:20161 100 $E $E 1 1 101:1:v" \
		"BOOTSTRAP 7 tcp://127.0.0.1:20167 700 $E $E 1 1 701:7:v" \
		IS_BOOTSTRAPPED "GET_REGION_BY_ID 100" "GET_REGION anything" \
		"GET_STORE 1" <<-EOF
	OK
	CLIENT_ERROR cluster is already bootstrapped
	CLIENT_ERROR cluster is already bootstrapped
	OK 1
	OK 100 $E $E 1 1 101:1:v 0
	OK 100 $E $E 1 1 101:1:v 0
	OK 1 tcp://127.0.0.1:20161 up 0 0 0 0 0
	EOF
'

test_expect_success 'stores: put, get, list; a duplicate address is refused' '
	expect "PUT_STORE 2 tcp://127.0.0.1:20162" \
		"PUT_STORE 3 tcp://127.0.0.1:20199" \
		"PUT_STORE 4 tcp://127.0.0.1:20162" \
		"PUT_STORE 2 tcp://127.0.0.1:20162" \
		"PUT_STORE 3 tcp://127.0.0.1:20163" \
		"GET_STORE 3" "GET_STORE 4" LIST_STORES <<-\EOF
	OK
	OK
	CLIENT_ERROR duplicated store address '"'"'tcp://127.0.0.1:20162'"'"', already used by store 2
	OK
	OK
	OK 3 tcp://127.0.0.1:20163 up 0 0 0 0 0
	NOT_FOUND
	VALUE 1 tcp://127.0.0.1:20161 up 0 0 0 0 0
	VALUE 2 tcp://127.0.0.1:20162 up 0 0 0 0 0
	VALUE 3 tcp://127.0.0.1:20163 up 0 0 0 0 0
	END
	EOF
'

test_expect_success 'a changed address frees the old one' '
	expect "PUT_STORE 9 tcp://127.0.0.1:20199" "GET_STORE 9" <<-\EOF
	OK
	OK 9 tcp://127.0.0.1:20199 up 0 0 0 0 0
	EOF
'

test_expect_success 'store heartbeats update the figures and the time' '
	before=$(($(date +%s) * 1000)) &&
	expect "STORE_HEARTBEAT 2 1000000 750000 12 5" \
		"STORE_HEARTBEAT 77 1 1 1 1" <<-\EOF &&
	OK
	NOT_FOUND
	EOF
	pd "GET_STORE 2" >out &&
	grep "^OK 2 tcp://127.0.0.1:20162 up 12 5 1000000 750000 [0-9]*$" out &&
	hb=$(field 9 out) &&
	test "$hb" -ge "$before" &&
	test "$hb" -le $(( $(date +%s) * 1000 + 1000 ))
'

# hb PEERS CONF_VER [PENDING]: a heartbeat of region 100 (all keys,
# version 1) from leader 101.
hb () {
	pd "REGION_HEARTBEAT 100 $E $E $2 1 $1 101 1024 10 ${3:-$E}"
}

test_expect_success 'replica checker: a learner is added on store 2 first' '
	hb 101:1:v 1 >out &&
	grep "^OK ADD_LEARNER [0-9]* 2$" out &&
	p2=$(field 3 out) &&
	test "$p2" -gt 0 &&
	hb 101:1:v 1 >again &&
	test_cmp out again
'

test_expect_success 'a pending learner is left to catch up, then promoted' '
	hb 101:1:v,$p2:2:l 2 $p2 >out &&
	echo OK >expect && test_cmp expect out &&
	hb 101:1:v,$p2:2:l 2 >out &&
	echo "OK PROMOTE_LEARNER $p2" >expect && test_cmp expect out
'

test_expect_success 'then a learner on store 3, promoted in turn' '
	hb 101:1:v,$p2:2:v 3 >out &&
	grep "^OK ADD_LEARNER [0-9]* 3$" out &&
	p3=$(field 3 out) &&
	test "$p3" != "$p2" &&
	hb 101:1:v,$p2:2:v,$p3:3:l 4 >out &&
	echo "OK PROMOTE_LEARNER $p3" >expect && test_cmp expect out &&
	hb 101:1:v,$p2:2:v,$p3:3:v 5 >out &&
	echo OK >expect && test_cmp expect out &&
	pd "GET_REGION_BY_ID 100" >out &&
	echo "OK 100 $E $E 5 1 101:1:v,$p2:2:v,$p3:3:v 101" >expect &&
	test_cmp expect out
'

test_expect_success 'never two peers on one store: no free store, no operator' '
	pd "STORE_HEARTBEAT 1 1 1 1 1" "STORE_HEARTBEAT 2 1 1 1 1" \
		"STORE_HEARTBEAT 3 1 1 1 1" >out &&
	# Store 9 is free but a region with all its voters gets nothing;
	# a region asking for a peer on a store it has is refused.
	hb 101:1:v,$p2:2:v,$p3:3:v 5 >out &&
	echo OK >expect && test_cmp expect out &&
	hb 101:1:v,$p2:2:v,999:2:l 6 >out &&
	grep "^CLIENT_ERROR region 100 already has peer 999 or a peer on store 2$" out
'

test_expect_success 'a voter beyond max-replicas is removed: the lagging one, never the leader' '
	expect "PUT_STORE 4 tcp://127.0.0.1:20164" <<-\EOF &&
	OK
	EOF
	hb 101:1:v,$p2:2:v,$p3:3:v,104:4:v 6 $p3 >out &&
	echo "OK REMOVE_PEER $p3" >expect && test_cmp expect out &&
	hb 101:1:v,$p2:2:v,104:4:v 7 >out &&
	echo OK >expect && test_cmp expect out
'

test_expect_success 'ASK_SPLIT gives a region id and one peer id per peer' '
	pd "ASK_SPLIT 100" >out &&
	grep "^OK [0-9]* [0-9]* [0-9]* [0-9]*$" out &&
	test "$(tr " " "\n" <out | sed 1d | sort -u | wc -l)" = 4 &&
	expect "ASK_SPLIT 12345" "ASK_SPLIT x" <<-\EOF
	NOT_FOUND
	CLIENT_ERROR argument 1 of '"'"'ASK_SPLIT'"'"' is not a number
	EOF
'

PEERS='101:1:v,P2:2:v,104:4:v'
test_expect_success 'REPORT_SPLIT routes keys to both sides' '
	peers=$(echo "$PEERS" | sed "s/P2/$p2/") &&
	expect "REPORT_SPLIT 100 $E m 7 2 $peers 200 m $E 7 2 201:1:v,202:2:v,204:4:v" \
		"GET_REGION $E" "GET_REGION a" "GET_REGION l\\xff" "GET_REGION m" \
		"GET_REGION zzz" <<-EOF
	OK
	OK 100 $E m 7 2 $peers 101
	OK 100 $E m 7 2 $peers 101
	OK 100 $E m 7 2 $peers 101
	OK 200 m $E 7 2 201:1:v,202:2:v,204:4:v 0
	OK 200 m $E 7 2 201:1:v,202:2:v,204:4:v 0
	EOF
'

test_expect_success 'a heartbeat with a higher version drops the region it overlaps' '
	expect "REGION_HEARTBEAT 300 t $E 7 3 301:1:v,302:2:v,304:4:v 301 0 0 $E" \
		"GET_REGION zzz" "GET_REGION n" "GET_REGION_BY_ID 200" \
		"REGION_HEARTBEAT 200 m t 7 3 201:1:v,202:2:v,204:4:v 202 0 0 $E" \
		"GET_REGION n" "GET_REGION t" <<-EOF
	OK
	OK 300 t $E 7 3 301:1:v,302:2:v,304:4:v 301
	NOT_FOUND
	NOT_FOUND
	OK
	OK 200 m t 7 3 201:1:v,202:2:v,204:4:v 202
	OK 300 t $E 7 3 301:1:v,302:2:v,304:4:v 301
	EOF
'

test_expect_success '20 more splits: every key is routed to its region' '
	: >msg &&
	prev=300 start=t ver=3 peers=301:1:v,302:2:v,304:4:v &&
	for i in 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29
	do
		id=$((1000 + i)) &&
		ver=$((ver + 1)) &&
		new=${id}1:1:v,${id}2:2:v,${id}4:4:v &&
		echo "REPORT_SPLIT $prev $start u$i 7 $ver $peers $id u$i $E 7 $ver $new" >>msg &&
		prev=$id start=u$i peers=$new || return 1
	done &&
	nngcat --req --dial "$pd_addr" --recv-timeout 5 --raw --file msg >out &&
	test_line_count = 20 out &&
	! grep -v "^OK$" out &&
	pd "GET_REGION u09" "GET_REGION u10" "GET_REGION u105" \
		"GET_REGION u29" "GET_REGION u3" "GET_REGION \\xff\\xff" >out &&
	cut -d" " -f2 out >ids &&
	printf "300\n1010\n1010\n1029\n1029\n1029\n" >expect &&
	test_cmp expect ids &&
	for i in 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28
	do
		pd "GET_REGION u${i}x" >out &&
		test "$(field 2 out)" = $((1000 + i)) || return 1
	done
'

test_expect_success 'SCAN_REGIONS: key order, limits, ranges' '
	pd "SCAN_REGIONS $E $E 0" >all &&
	test_line_count = 24 all &&
	tail -n 1 all >last && echo END >expect && test_cmp expect last &&
	sed "\$d" all | cut -d" " -f2 >ids &&
	printf "100\n200\n300\n" >expect &&
	seq 1010 1029 >>expect &&
	test_cmp expect ids &&
	pd "SCAN_REGIONS $E $E 3" >out &&
	test_line_count = 4 out &&
	head -n 3 all >expect && sed "\$d" out >got && test_cmp expect got &&
	pd "SCAN_REGIONS n u12 100" >out &&
	cut -d" " -f2 out >ids &&
	printf "200\n300\n1010\n1011\nEND\n" >expect && test_cmp expect ids &&
	pd "SCAN_REGIONS u2 $E" >out &&
	test_line_count = 12 out &&
	expect "SCAN_REGIONS z a 1" "SCAN_REGIONS a a 1" "SCAN_REGIONS a b x" <<-\EOF
	END
	END
	CLIENT_ERROR argument 3 of '"'"'SCAN_REGIONS'"'"' is not a number
	EOF
'

test_expect_success 'a stale epoch is refused with the current region' '
	peers=$(echo "$PEERS" | sed "s/P2/$p2/") &&
	expect "REGION_HEARTBEAT 100 $E $E 7 1 $peers 101 0 0 $E" \
		"REGION_HEARTBEAT 100 $E m 6 2 $peers 101 0 0 $E" \
		"REGION_HEARTBEAT 999 a z 1 1 9991:1:v 9991 0 0 $E" \
		"REPORT_SPLIT 200 m p 7 2 201:1:v,202:2:v,204:4:v 777 p t 7 2 771:1:v" \
		"GET_REGION_BY_ID 999" "GET_REGION_BY_ID 777" "GET_REGION a" <<-EOF
	EPOCH_NOT_MATCH 100 $E m 7 2 $peers
	EPOCH_NOT_MATCH 100 $E m 7 2 $peers
	EPOCH_NOT_MATCH 100 $E m 7 2 $peers
	EPOCH_NOT_MATCH 200 m t 7 3 201:1:v,202:2:v,204:4:v
	NOT_FOUND
	NOT_FOUND
	OK 100 $E m 7 2 $peers 101
	EOF
'

test_expect_success 'a heartbeat with a new leader is remembered' '
	expect "REGION_HEARTBEAT 200 m t 7 3 201:1:v,202:2:v,204:4:v 204 5 6 $E" \
		"GET_REGION o" <<-EOF
	OK
	OK 200 m t 7 3 201:1:v,202:2:v,204:4:v 204
	EOF
'

test_expect_success 'metadata survives kill -9 of pdd' '
	expect "PUT_STORE 5 tcp://127.0.0.1:20165" <<-\EOF &&
	OK
	EOF
	pd "SCAN_REGIONS $E $E 0" >regions.before &&
	pd LIST_STORES | cut -d" " -f1-3 >stores.before &&
	test_line_count = 7 stores.before &&
	test_daemon_kill pd &&
	test_daemon_restart pd &&
	pd "SCAN_REGIONS $E $E 0" >regions.after &&
	test_cmp regions.before regions.after &&
	pd LIST_STORES | cut -d" " -f1-3 >stores.after &&
	test_cmp stores.before stores.after &&
	expect IS_BOOTSTRAPPED \
		"BOOTSTRAP 1 tcp://127.0.0.1:20161 100 $E $E 1 1 101:1:v" \
		"GET_REGION o" <<-EOF
	OK 1
	CLIENT_ERROR cluster is already bootstrapped
	OK 200 m t 7 3 201:1:v,202:2:v,204:4:v 204
	EOF
'

test_expect_success 'after the restart ids for new peers are still fresh' '
	pd "ASK_SPLIT 200" >out &&
	for id in $(cut -d" " -f2- out)
	do
		test "$id" -gt "$p3" || return 1
	done
'

test_expect_success 'bad input to each command gets its error; pdd keeps serving' '
	expect "IS_BOOTSTRAPPED 1" "GET_STORE x" "GET_STORE 12345" \
		"LIST_STORES x" "PUT_STORE 0 tcp://x" "PUT_STORE 6 $E" \
		"STORE_HEARTBEAT 1 2 3" "STORE_HEARTBEAT 1 -2 3 4 5" \
		"GET_REGION" "GET_REGION_BY_ID -1" "GET_REGION_BY_ID 424242" \
		"REGION_HEARTBEAT 200 m t 7 3 201:1:v 201 0 0" \
		"REGION_HEARTBEAT 200 m t 7 3 201:1:v 209 0 0 $E" \
		"REGION_HEARTBEAT 200 m t 7 3 201:1:v 201 0 0 1,,2" \
		"REGION_HEARTBEAT 200 t m 7 3 201:1:v 201 0 0 $E" \
		"REGION_HEARTBEAT 200 m t 7 x 201:1:v 201 0 0 $E" \
		"REGION_HEARTBEAT 200 m t 7 3 201:1:v,0:2:v 201 0 0 $E" \
		"REPORT_SPLIT 200 m p 7 4 201:1:v 777 q t 7 4 771:1:v" \
		"REPORT_SPLIT 200 m p 7 4 201:1:v 200 p t 7 4 771:1:v" \
		"REPORT_SPLIT 200 m p 7 4 201:1:v" \
		PING <<-\EOF
	CLIENT_ERROR wrong number of arguments for '"'"'IS_BOOTSTRAPPED'"'"', usage: IS_BOOTSTRAPPED
	CLIENT_ERROR argument 1 of '"'"'GET_STORE'"'"' is not a number
	NOT_FOUND
	CLIENT_ERROR wrong number of arguments for '"'"'LIST_STORES'"'"', usage: LIST_STORES
	CLIENT_ERROR argument 1 of '"'"'PUT_STORE'"'"' out of range: 0 not in 1..4611686018427387903
	CLIENT_ERROR store address is empty
	CLIENT_ERROR wrong number of arguments for '"'"'STORE_HEARTBEAT'"'"', usage: STORE_HEARTBEAT store_id capacity available region_count leader_count
	CLIENT_ERROR argument 2 of '"'"'STORE_HEARTBEAT'"'"' is not a number
	CLIENT_ERROR wrong number of arguments for '"'"'GET_REGION'"'"', usage: GET_REGION key
	CLIENT_ERROR argument 1 of '"'"'GET_REGION_BY_ID'"'"' is not a number
	NOT_FOUND
	CLIENT_ERROR wrong number of arguments for '"'"'REGION_HEARTBEAT'"'"', usage: REGION_HEARTBEAT id start end conf_ver version peers leader_peer_id approximate_size approximate_keys pending_peers
	CLIENT_ERROR leader 209 is not a peer of region 200
	CLIENT_ERROR argument 10 of '"'"'REGION_HEARTBEAT'"'"' is not a list of peer ids
	CLIENT_ERROR region 200 has start >= end
	CLIENT_ERROR bad region id or epoch
	CLIENT_ERROR region 200 has a peer or store id 0
	CLIENT_ERROR regions 200 and 777 are not the two sides of a split
	CLIENT_ERROR regions 200 and 200 are not the two sides of a split
	CLIENT_ERROR wrong number of arguments for '"'"'REPORT_SPLIT'"'"', usage: REPORT_SPLIT left_region right_region
	OK
	EOF
'

test_expect_success 'random tokens to every cluster command never crash pdd' '
	: >msg &&
	for cmd in IS_BOOTSTRAPPED BOOTSTRAP PUT_STORE GET_STORE LIST_STORES \
		STORE_HEARTBEAT REGION_HEARTBEAT GET_REGION GET_REGION_BY_ID \
		SCAN_REGIONS ASK_SPLIT REPORT_SPLIT
	do
		for n in 1 2 5 6 8 10 12 13
		do
			line=$cmd &&
			for t in $(seq $n)
			do
				case $(( (t * 7 + n + ${#cmd}) % 9 )) in
				0) tok=$E ;;
				1) tok=18446744073709551616 ;;
				2) tok=1:1:v,1:1:v ;;
				3) tok=\\xff\\x00 ;;
				4) tok=200 ;;
				5) tok=1,2,3,4,5,6,7,8,9 ;;
				6) tok=m ;;
				7) tok=0 ;;
				*) tok=1:2:l,3:4:d,5:6:i ;;
				esac &&
				line="$line $tok" || return 1
			done &&
			echo "$line" >>msg || return 1
		done
	done &&
	head -c 4096 /dev/urandom | tr "\n" " " | sed "s/^/REGION_HEARTBEAT /" >>msg &&
	echo >>msg &&
	nngcat --req --dial "$pd_addr" --recv-timeout 5 --raw --file msg >out &&
	test -s out &&
	expect PING "GET_REGION o" <<-EOF
	OK
	OK 200 m t 7 3 201:1:v,202:2:v,204:4:v 204
	EOF
'

test_expect_success 'HELP lists the cluster commands' '
	pd HELP >out &&
	for c in ASK_SPLIT BOOTSTRAP GET_REGION GET_REGION_BY_ID GET_STORE \
		IS_BOOTSTRAPPED LIST_STORES PUT_STORE REGION_HEARTBEAT \
		REPORT_SPLIT SCAN_REGIONS STORE_HEARTBEAT
	do
		grep -E "^VALUE \"?$c[ \"]" out || return 1
	done
'

test_expect_success 'pdd exits cleanly' '
	test_daemon_stop pd
'

# A second pdd where stores are disconnected after 1 s of silence and down
# after 4 s, to see a down store's replica replaced.  pd_beat LINE...: like
# pd, after heartbeats that keep stores 1, 3 and 4 up.
pd_beat () {
	pd "STORE_HEARTBEAT 1 100 50 1 1" "STORE_HEARTBEAT 3 100 50 1 1" \
		"STORE_HEARTBEAT 4 100 50 1 1" "$@"
}

store2_down () {
	pd_beat "GET_STORE 2" | grep "^OK 2 [^ ]* down "
}

test_expect_success 'a silent store becomes disconnected, then down' '
	cat >pd2.toml <<-\EOT &&
	data-dir = "data2"
	[schedule]
	store-disconnect-time = "1s"
	max-store-down-time = "4s"
	EOT
	test_daemon_start pd2 pdd -d -f pd2.toml -l tcp://127.0.0.1:@PORT@ &&
	PD=pd2 &&
	expect "BOOTSTRAP 1 tcp://127.0.0.1:20261 50 $E $E 1 1 51:1:v" \
		"PUT_STORE 2 tcp://127.0.0.1:20262" \
		"PUT_STORE 3 tcp://127.0.0.1:20263" \
		"PUT_STORE 4 tcp://127.0.0.1:20264" \
		"REGION_HEARTBEAT 50 $E $E 3 1 51:1:v,52:2:v,53:3:v 51 0 0 $E" \
		<<-\EOF &&
	OK
	OK
	OK
	OK
	OK
	EOF
	sleep 1.5 &&
	pd_beat "GET_STORE 2" >out &&
	grep "^OK 2 tcp://127.0.0.1:20262 disconnected " out &&
	test_wait_until 10 store2_down &&
	PD=pd
'

test_expect_success 'a down store is replaced: add on a live store, promote, then remove' '
	PD=pd2 &&
	pd_beat \
		"REGION_HEARTBEAT 50 $E $E 3 1 51:1:v,52:2:v,53:3:v 51 0 0 $E" >out &&
	tail -n 1 out >op &&
	grep "^OK ADD_LEARNER [0-9]* 4$" op &&
	p4=$(field 3 op) &&
	pd_beat \
		"REGION_HEARTBEAT 50 $E $E 4 1 51:1:v,52:2:v,53:3:v,$p4:4:l 51 0 0 $E" >out &&
	tail -n 1 out >op &&
	echo "OK PROMOTE_LEARNER $p4" >expect && test_cmp expect op &&
	pd_beat \
		"REGION_HEARTBEAT 50 $E $E 5 1 51:1:v,52:2:v,53:3:v,$p4:4:v 51 0 0 $E" >out &&
	tail -n 1 out >op &&
	echo "OK REMOVE_PEER 52" >expect && test_cmp expect op &&
	pd_beat \
		"REGION_HEARTBEAT 50 $E $E 6 1 51:1:v,53:3:v,$p4:4:v 51 0 0 $E" >out &&
	tail -n 1 out >op &&
	echo OK >expect && test_cmp expect op &&
	PD=pd
'

test_expect_success 'a leader on a down store is moved before its peer is removed' '
	PD=pd2 &&
	pd_beat "REPORT_SPLIT 50 $E m 6 2 51:1:v,53:3:v,$p4:4:v 60 m $E 6 2 61:1:v,62:2:v,63:3:v,64:4:v" \
		"REGION_HEARTBEAT 60 m $E 6 2 61:1:v,62:2:v,63:3:v,64:4:v 62 0 0 63" >out &&
	tail -n 2 out >op &&
	printf "OK\nOK TRANSFER_LEADER 61\n" >expect && test_cmp expect op &&
	pd_beat "REGION_HEARTBEAT 60 m $E 6 2 61:1:v,62:2:v,63:3:v,64:4:v 61 0 0 $E" >out &&
	tail -n 1 out >op &&
	echo "OK REMOVE_PEER 62" >expect && test_cmp expect op &&
	PD=pd &&
	test_daemon_stop pd2
'

test_expect_success 'ids a client picked at bootstrap are never handed out again' '
	test_daemon_start pd3 pdd -d -D data3 -l tcp://127.0.0.1:@PORT@ &&
	PD=pd3 &&
	expect "BOOTSTRAP 500 tcp://127.0.0.1:20500 600 $E $E 1 1 700:500:v" \
		"PUT_STORE 900 tcp://127.0.0.1:20900" <<-\EOF &&
	OK
	OK
	EOF
	pd "ALLOC_ID 1" >out &&
	test "$(field 2 out)" -gt 900 &&
	test_daemon_kill pd3 &&
	test_daemon_restart pd3 &&
	pd "ALLOC_ID 1" >out &&
	test "$(field 2 out)" -gt 900
'

test_expect_success 'a region in a joint configuration gets no operator, whatever its peer order' '
	expect "PUT_STORE 501 tcp://127.0.0.1:20501" \
		"REGION_HEARTBEAT 600 $E $E 2 1 700:500:v,702:501:l,701:900:d 700 0 0 $E" \
		"REGION_HEARTBEAT 600 $E $E 3 1 700:500:v,701:900:d,702:501:l 700 0 0 $E" \
		"REGION_HEARTBEAT 600 $E $E 4 1 700:500:v,702:501:l,701:900:i 700 0 0 $E" <<-\EOF &&
	OK
	OK
	OK
	OK
	EOF
	PD=pd &&
	test_daemon_stop pd3
'

test_done
