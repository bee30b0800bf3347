#!/bin/sh
test_description='tikvd over nngcat: bad input and misrouted commands get their documented errors, and the store keeps serving'
# Minutes at most, even if something hangs (runs take seconds).
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-cluster.sh"

# Small limits, so that an over-size key, value and message are cheap.
CLUSTER_STORAGE_TOML='max-key-size = "1KiB"'
CLUSTER_TOML='raft-entry-max-size = "4KiB"
[server]
max-message-size = "64KiB"'

# For the quotes of error messages in expected output.
q="'"

# send I FILE: FILE's bytes as one request to store I; the raw reply.
send () {
	eval "nngcat --req --dial \"\$s${1}_addr\" --recv-timeout 10" \
		--raw --file "$2"
}

# repeat N CHAR: N bytes of CHAR.
repeat () {
	head -c "$1" /dev/zero | tr '\0' "$2"
}

# raft_req FILE: a RAFT command carrying FILE as a literal.
raft_req () {
	printf 'RAFT {%d}\n' "$(wc -c <"$1")" &&
	cat "$1" &&
	printf '\n'
}

# raft_send NAME: the RAFT command with file NAME to the leader; the
# reply in out.NAME.
raft_send () {
	raft_req "$1" >req &&
	send "$leader" req >"out.$1"
}

# octal N: the byte N (0-127, a one-byte varint) for printf.
octal () {
	printf '\\%03o' "$1"
}

# serving I: store I is alive and answers a read: with the value as the
# leader, naming the leader as a follower.
serving () {
	local pid
	pid=$(test_daemon_pid "s$1") &&
	kill -0 "$pid" &&
	store "$1" "RAW_GET - aprobe" >serving.out &&
	if test "$1" = "$leader"
	then
		echo "VALUE here" >serving.expect
	else
		echo "NOT_LEADER $region $leader_id $leader_url" \
			>serving.expect
	fi &&
	test_cmp serving.expect serving.out
}

test_expect_success 'three stores, the region split at m' '
	cluster_start 3 &&
	cluster_wait_voters 3 &&
	region=$(cluster_region_id "") &&
	leader=$(cluster_wait_leader "$region") &&
	store "$leader" "SPLIT_REGION - m" >split.out &&
	cat split.out &&
	awk "\$1 == \"OK\" && NF == 13 { print \$2 \":\" \$5 \":\" \$6 }" \
		split.out >left.ctx &&
	awk "\$1 == \"OK\" && NF == 13 { print \$8 }" split.out >right.id &&
	left=$(cat left.ctx) &&
	right=$(cat right.id) &&
	test "${left%%:*}" = "$region" &&
	cluster_wait_leader "$right" &&
	leader=$(cluster_wait_leader "$region") &&
	store "$leader" STATUS >status.out &&
	read -r ok leader_id leader_url rest <status.out &&
	test "$ok" = OK &&
	follower=$((leader % 3 + 1)) &&
	store "$leader" "RAW_PUT - aprobe here" >out &&
	echo OK >expect &&
	test_cmp expect out &&
	test_wait_until 10 "test \"\$(cluster_region_field $follower $region \
		leader)\" != 0" &&
	serving "$leader" &&
	serving "$follower"
'

test_expect_success 'a key longer than storage.max-key-size is refused' '
	{
		printf "RAW_PUT - " && repeat 1025 k && printf " v\n" &&
		printf "RAW_GET - " && repeat 1025 k && printf "\n" &&
		printf "RAW_SCAN - a " && repeat 1025 z && printf " 10\n" &&
		printf "RAW_BATCH_GET - a " && repeat 2000 k && printf "\n"
	} >req &&
	send "$leader" req >out &&
	cat >expect <<-EOT &&
	CLIENT_ERROR argument 2 of ${q}RAW_PUT${q} is a key of 1025 bytes, larger than storage.max-key-size (1024)
	CLIENT_ERROR argument 2 of ${q}RAW_GET${q} is a key of 1025 bytes, larger than storage.max-key-size (1024)
	CLIENT_ERROR argument 3 of ${q}RAW_SCAN${q} is a key of 1025 bytes, larger than storage.max-key-size (1024)
	CLIENT_ERROR argument 3 of ${q}RAW_BATCH_GET${q} is a key of 2000 bytes, larger than storage.max-key-size (1024)
	EOT
	test_cmp expect out &&
	serving "$leader"
'

test_expect_success 'a key of storage.max-key-size bytes is fine' '
	repeat 1024 k >key &&
	printf "RAW_PUT - %s v\n" "$(cat key)" >req &&
	send "$leader" req >out &&
	echo OK >expect &&
	test_cmp expect out &&
	printf "RAW_GET - %s\n" "$(cat key)" >req &&
	send "$leader" req >out &&
	echo "VALUE v" >expect &&
	test_cmp expect out
'

test_expect_success 'a value or batch over raftstore.raft-entry-max-size is refused, and not written' '
	{
		printf "RAW_PUT - big {5000}\n" && repeat 5000 v &&
		printf "\nRAW_PUT $left big {5000}\n" && repeat 5000 v &&
		printf "\nRAW_BATCH_PUT - 0 b1 {3000}\n" && repeat 3000 v &&
		printf " b2 {3000}\n" && repeat 3000 v &&
		printf "\nRAW_GET - big\nRAW_GET - b1\n"
	} >req &&
	send "$leader" req >out &&
	sed -n 1p out >line &&
	grep -E "^RAFT_ENTRY_TOO_LARGE 0 50[0-9][0-9]$" line &&
	sed -n 2p out >line &&
	grep -E "^RAFT_ENTRY_TOO_LARGE $region 50[0-9][0-9]$" line &&
	sed -n 3p out >line &&
	grep -E "^RAFT_ENTRY_TOO_LARGE 0 60[0-9][0-9]$" line &&
	sed -n 4,5p out >rest &&
	printf "NOT_FOUND\nNOT_FOUND\n" >expect &&
	test_cmp expect rest &&
	test_line_count = 5 out &&
	serving "$leader"
'

test_expect_success 'a value inside the limit is written and reads back' '
	repeat 3900 v >value &&
	printf "RAW_PUT - big %s\n" "$(cat value)" >req &&
	send "$leader" req >out &&
	echo OK >expect &&
	test_cmp expect out &&
	store "$leader" "RAW_GET - big" >out &&
	printf "VALUE %s\n" "$(cat value)" >expect &&
	test_cmp expect out
'

# tikv-protocol(7), PIPELINING: tikvd starts the commands of a message in
# order and lets each finish on its own, so a read may miss a write of the
# same message; the replies still come in order, and the next message
# sees the write.
test_expect_success 'a write is seen by the next message; replies keep their order' '
	store "$leader" "RAW_PUT - k v 60" "PING" "RAW_PUT - k2 w" "VERSION" \
		>out &&
	sed -n 1,3p out >first &&
	printf "OK\nOK\nOK\n" >expect &&
	test_cmp expect first &&
	sed -n 4p out | grep "^OK tikvd " &&
	test_line_count = 4 out &&
	store "$leader" "RAW_GET - k" "RAW_GET_TTL - k" "RAW_GET - k2" >out &&
	sed -n 1p out >line &&
	echo "VALUE v" >expect &&
	test_cmp expect line &&
	sed -n 2p out | grep -E "^VALUE (5[0-9]|60)$" &&
	sed -n 3p out >line &&
	echo "VALUE w" >expect &&
	test_cmp expect line
'

test_expect_success 'unknown commands, wrong arity, bad contexts, numbers and keywords: one error each, in order' '
	cat >req <<-\EOT &&
	FOO bar
	RAW_GET -
	RAW_PUT - a b 0 extra
	RAW_BATCH_PUT - 0 a
	RAW_GET 1:2 a
	RAW_GET 0:1:1 a
	RAW_GET x a
	RAW_PUT - a b abc
	RAW_SCAN - a b 10241
	RAW_SCAN - a b 1 KEY_ONLY KEY_ONLY
	RAW_CAS - a FOO PUT v
	SPLIT_REGION - ""
	REGION 0
	PING
	EOT
	send "$leader" req >out &&
	cat >expect <<-EOT &&
	CLIENT_ERROR unknown command ${q}FOO${q}
	CLIENT_ERROR wrong number of arguments for ${q}RAW_GET${q}, usage: RAW_GET ctx key
	CLIENT_ERROR wrong number of arguments for ${q}RAW_PUT${q}, usage: RAW_PUT ctx key value [ttl]
	CLIENT_ERROR wrong number of arguments for ${q}RAW_BATCH_PUT${q}, usage: RAW_BATCH_PUT ctx ttl key value [key value]...
	CLIENT_ERROR bad region context ${q}1:2${q}, expected REGION_ID:CONF_VER:VERSION or -
	CLIENT_ERROR bad region context ${q}0:1:1${q}, expected REGION_ID:CONF_VER:VERSION or -
	CLIENT_ERROR bad region context ${q}x${q}, expected REGION_ID:CONF_VER:VERSION or -
	CLIENT_ERROR argument 4 of ${q}RAW_PUT${q} is not a number
	CLIENT_ERROR argument 4 of ${q}RAW_SCAN${q} out of range: 10241 not in 0..10240
	CLIENT_ERROR argument 6 of ${q}RAW_SCAN${q} is ${q}KEY_ONLY${q}, expected KEY_ONLY or REVERSE, each at most once
	CLIENT_ERROR argument 3 of ${q}RAW_CAS${q} is ${q}FOO${q}, expected ABSENT or EQ
	CLIENT_ERROR cannot split at the empty key
	CLIENT_ERROR argument 1 of ${q}REGION${q} out of range: 0 not in 1..18446744073709551615
	OK
	EOT
	test_cmp expect out &&
	serving "$leader"
'

test_expect_success 'a key outside the named region: KEY_NOT_IN_REGION with its range' '
	store "$leader" "RAW_GET $left z" "RAW_PUT $left z v" \
		"RAW_BATCH_PUT $left 0 a 1 z 2" "RAW_GET $left a" >out &&
	cat >expect <<-EOT &&
	KEY_NOT_IN_REGION z $region "" m
	KEY_NOT_IN_REGION z $region "" m
	KEY_NOT_IN_REGION z $region "" m
	NOT_FOUND
	EOT
	test_cmp expect out &&
	serving "$leader"
'

test_expect_success 'a region this store does not hold: REGION_NOT_FOUND' '
	store "$leader" "RAW_GET 999:1:1 a" "RAW_PUT 999:1:1 a b" \
		"REGION 999" "TRANSFER_LEADER 999 1" >out &&
	cat >expect <<-\EOT &&
	REGION_NOT_FOUND 999
	REGION_NOT_FOUND 999
	REGION_NOT_FOUND 999
	REGION_NOT_FOUND 999
	EOT
	test_cmp expect out &&
	serving "$leader"
'

test_expect_success 'a stale epoch: EPOCH_NOT_MATCH with the region as the store has it' '
	store "$leader" "REGION $region" >region.out &&
	awk "{ print \"EPOCH_NOT_MATCH\", \$2, \$3, \$4, \$5, \$6, \$7 }" \
		region.out >current &&
	grep "^EPOCH_NOT_MATCH $region \"\" m " current &&
	stale=$(echo "$left" | awk -F: "{ print \$1 \":\" \$2 \":\" \$3 - 1 }") &&
	store "$leader" "RAW_GET $stale a" "RAW_PUT $stale a b" >out &&
	cat current current >expect &&
	test_cmp expect out &&
	store "$leader" "RAW_GET $stale a" >out &&
	test_cmp current out &&
	serving "$leader"
'

test_expect_success 'a write to a follower: NOT_LEADER with the leader store and address' '
	store "$follower" "RAW_PUT - a b" "RAW_PUT $left a b" "RAW_GET - a" \
		>out &&
	echo "NOT_LEADER $region $leader_id $leader_url" >one &&
	cat one one one >expect &&
	test_cmp expect out &&
	serving "$follower" &&
	serving "$leader"
'

test_expect_success 'a malformed RAFT payload is refused whole' '
	me=$(octal "$leader_id") &&
	printf "" >empty &&
	printf "\377\001\002" >badversion &&
	printf "\001\002" >truncated &&
	printf "\001\000\000\000\000\000\000\000\000" >zeroids &&
	printf "\001\002\001$me\000\000\000\000\003\001\143\000" >badwire &&
	printf "\001\002\001$me\000\000\000\000\003\001\011\000" >nopeers &&
	printf "\001\002\001\143\000\000\000\000\005\001\011\003\007\003" \
		>otherstore &&
	# A good envelope for this store, then a bad one: neither goes in.
	printf "\001\002\001$me\000\000\000\000\005\001\011\003\007\003\377" \
		>trailing &&
	raft_send empty &&
	raft_send badversion &&
	raft_send truncated &&
	raft_send zeroids &&
	raft_send badwire &&
	raft_send nopeers &&
	raft_send otherstore &&
	raft_send trailing &&
	echo "CLIENT_ERROR bad raft payload: empty raft payload" >expect &&
	test_cmp expect out.empty &&
	echo "CLIENT_ERROR bad raft payload: raft envelope: unknown version" \
		>expect &&
	test_cmp expect out.badversion &&
	test_cmp expect out.trailing &&
	echo "CLIENT_ERROR bad raft payload: raft envelope: truncated" \
		>expect &&
	test_cmp expect out.truncated &&
	echo "CLIENT_ERROR bad raft payload: raft envelope: region or store id 0" \
		>expect &&
	test_cmp expect out.zeroids &&
	grep "^CLIENT_ERROR bad raft payload: raft envelope: malformed raft message: bad type" \
		out.badwire &&
	echo "CLIENT_ERROR bad raft payload: raft envelope: message without its peers" \
		>expect &&
	test_cmp expect out.nopeers &&
	echo "CLIENT_ERROR bad raft payload: raft message for store 99, this is store $leader_id" \
		>expect &&
	test_cmp expect out.otherstore &&
	head -c 4000 /dev/urandom >random &&
	raft_send random &&
	grep "^CLIENT_ERROR bad raft payload: " out.random &&
	test_line_count = 1 out.random &&
	serving "$leader"
'

test_expect_success 'bad RAFT_CHUNK parts are refused' '
	cat >req <<-\EOT &&
	RAFT_CHUNK 1 5 3 x
	RAFT_CHUNK 1 0 0 x
	RAFT_CHUNK 7 1 3 x
	RAFT_CHUNK 8 0 3 x
	RAFT_CHUNK 8 2 3 x
	RAFT_CHUNK 9 0 2 "\xff"
	RAFT_CHUNK 9 1 2 "\x01"
	RAFT_CHUNK 10 0 1 ""
	EOT
	send "$leader" req >out &&
	cat >expect <<-EOT &&
	CLIENT_ERROR argument 2 of ${q}RAFT_CHUNK${q} out of range: 5 not in 0..2
	CLIENT_ERROR argument 3 of ${q}RAFT_CHUNK${q} out of range: 0 not in 1..18446744073709551615
	CLIENT_ERROR bad raft chunk: raft chunk 1 of an unknown transfer
	OK
	CLIENT_ERROR bad raft chunk: raft chunk 2 of 3 out of order
	OK
	CLIENT_ERROR bad raft chunk: raft envelope: unknown version
	CLIENT_ERROR bad raft chunk: bad raft chunk 0 of 1 (0 bytes)
	EOT
	test_cmp expect out &&
	serving "$leader"
'

test_expect_success 'binary garbage gets only CLIENT_ERROR replies; the store keeps serving' '
	printf "\001\002\377\376 \033[0m\n\000\000\000\n\177\200{3}\n\"\\\\x\n" \
		>req &&
	send "$leader" req >out &&
	test_line_count = 4 out &&
	! grep -v "^CLIENT_ERROR " out &&
	head -c 60000 /dev/urandom >req &&
	send "$leader" req >out &&
	! grep -v "^CLIENT_ERROR " out &&
	send "$follower" req >out &&
	! grep -v "^CLIENT_ERROR " out &&
	serving "$leader" &&
	serving "$follower"
'

test_expect_success 'an over-size message closes the connection; the store serves the next client' '
	{ printf "RAW_PUT - huge " && repeat 70000 v && echo; } >req &&
	# nngcat exits 0 when its receive times out: the proof is the
	# missing reply (a message within the limit would get one).
	{ eval "nngcat --req --dial \"\$s${leader}_addr\"" \
		--recv-timeout 3 --raw --file req >out || :; } &&
	test_line_count = 0 out &&
	store "$leader" "RAW_GET - huge" >out &&
	echo NOT_FOUND >expect &&
	test_cmp expect out &&
	serving "$leader"
'

test_expect_success 'no store crashed, and every acknowledged write reads back' '
	cluster_alive &&
	store "$leader" "RAW_GET - aprobe" "RAW_GET - big" "RAW_GET - a" >out &&
	{
		echo "VALUE here" &&
		printf "VALUE %s\n" "$(cat value)" &&
		echo NOT_FOUND
	} >expect &&
	test_cmp expect out &&
	cluster_kill_all
'

test_done
