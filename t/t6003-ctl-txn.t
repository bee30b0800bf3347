#!/bin/sh
test_description='tikv-ctl txn: get, put, insert, delete and scan, each one transaction, against pdd and three tikvd; txn keys apart from raw keys'
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-cluster.sh"

if ! test -x "$TIKV_BUILD/bin/tikvd"
then
	skip_all='tikvd not built'
	test_done
fi

# The escaped spelling of a key with NUL, space and newline, as a shell
# user types it, and as tikv-ctl prints it.
BIN_IN='"a\0b c\nd"'
BIN_OUT='"a\x00b c\nd"'
BIN_HEX=61006220630a64

# field N FILE: the Nth space-separated field of the first line.
field () {
	sed -n 1p "$2" | cut -d" " -f"$1"
}

# json_num NAME FILE: the number of member NAME in the one-line object.
json_num () {
	sed -n "s/.*\"$1\": \([0-9][0-9]*\).*/\1/p" "$2"
}

# keys FROM TO: the lines "sNN vNN" (or with -k "sNN") for NN from FROM
# to TO.
keys () {
	local k=
	if test "$1" = -k
	then
		k=1
		shift
	fi
	seq -f %02g "$1" "$2" | while read -r n
	do
		if test -n "$k"
		then
			echo "s$n"
		else
			echo "s$n v$n"
		fi
	done
}

# racing_puts N: N txn puts of the key "hot" at once, the Ith writing vI;
# puts-I.rc holds its exit status and puts-I.err its messages.
racing_puts () {
	local i pids=
	for i in $(seq 1 "$1")
	do
		{
			ctl txn put hot "v$i" 2>"puts-$i.err"
			echo $? >"puts-$i.rc"
		} &
		pids="$pids $!"
	done
	wait $pids
}

test_expect_success 'a cluster of three stores' '
	cluster_start 3 &&
	cluster_wait_voters 3
'

test_expect_success 'txn put prints nothing; txn get prints the pair' '
	ctl txn put k1 v1 >out &&
	test ! -s out &&
	ctl txn get k1 >out &&
	echo "k1 v1" >expect &&
	test_cmp expect out
'

test_expect_success 'with -j, writes print their timestamps and get its start' '
	ctl -j txn put k2 v2 >put.json &&
	grep "^{\"start_ts\": [1-9][0-9]*, \"commit_ts\": [1-9][0-9]*}$" \
		put.json &&
	start=$(json_num start_ts put.json) &&
	commit=$(json_num commit_ts put.json) &&
	test "$commit" -gt "$start" &&
	ctl -j txn get k2 >get.json &&
	grep "^{\"key\": \"k2\", \"value\": \"v2\", \"start_ts\": [1-9][0-9]*}$" \
		get.json &&
	test "$(json_num start_ts get.json)" -gt "$commit"
'

test_expect_success 'txn put writes every pair; a key given twice takes the last' '
	ctl txn put a 1 b 2 c 3 a 4 >out &&
	test ! -s out &&
	ctl txn get a >out &&
	echo "a 4" >expect &&
	test_cmp expect out &&
	ctl txn get b >out &&
	echo "b 2" >expect &&
	test_cmp expect out &&
	ctl txn get c >out &&
	echo "c 3" >expect &&
	test_cmp expect out
'

test_expect_success 'a later transaction writes over an earlier one' '
	ctl txn put k1 v1-again &&
	ctl txn get k1 >out &&
	echo "k1 v1-again" >expect &&
	test_cmp expect out
'

test_expect_success 'txn get of a missing key: nothing on stdout, status 1' '
	test_expect_code 1 ctl txn get nosuch >out 2>err &&
	test ! -s out &&
	grep "key .nosuch. not found" err &&
	test_expect_code 1 ctl -j txn get nosuch >out 2>err &&
	test ! -s out
'

test_expect_success 'txn insert writes a new key and refuses one that exists' '
	ctl txn insert n1 first >out &&
	test ! -s out &&
	ctl txn get n1 >out &&
	echo "n1 first" >expect &&
	test_cmp expect out &&
	test_expect_code 1 ctl -j txn insert n1 second >out 2>err &&
	test ! -s out &&
	grep "key .n1. already exists" err &&
	ctl txn get n1 >out &&
	test_cmp expect out
'

test_expect_success 'txn delete removes its keys in one transaction' '
	ctl -j txn delete a b nosuch >out &&
	grep "^{\"start_ts\": [1-9][0-9]*, \"commit_ts\": [1-9][0-9]*}$" out &&
	test_expect_code 1 ctl txn get a 2>err &&
	test_expect_code 1 ctl txn get b 2>err &&
	ctl txn get c >out &&
	echo "c 3" >expect &&
	test_cmp expect out
'

test_expect_success 'an inserted key that was deleted can be inserted again' '
	ctl txn delete n1 &&
	ctl txn insert n1 again &&
	ctl txn get n1 >out &&
	echo "n1 again" >expect &&
	test_cmp expect out
'

test_expect_success 'txn scan in order, with a limit, keys only, in JSON' '
	ctl txn put $(keys 0 19) &&
	ctl txn scan s t >out &&
	keys 0 19 >expect &&
	test_cmp expect out &&
	ctl txn scan -l 5 s t >out &&
	keys 0 4 >expect &&
	test_cmp expect out &&
	ctl txn scan -k s05 s08 >out &&
	keys -k 5 7 >expect &&
	test_cmp expect out &&
	ctl txn scan -l 0 -k s >out &&
	keys -k 0 19 >expect &&
	test_cmp expect out &&
	ctl -j txn scan -l 2 s >out &&
	cat >expect <<-\EOF &&
	[
	  {"key": "s00", "value": "v00"},
	  {"key": "s01", "value": "v01"}
	]
	EOF
	test_cmp expect out &&
	ctl txn scan s00 s00 >out &&
	test ! -s out
'

test_expect_success 'txn scan does not see deleted keys' '
	ctl txn delete s03 s04 s10 &&
	ctl txn scan -k s t >out &&
	{ keys -k 0 2 && keys -k 5 9 && keys -k 11 19; } >expect &&
	test_cmp expect out
'

test_expect_success 'txn keys and raw keys are separate key spaces' '
	ctl raw put both raw-value &&
	ctl txn put both txn-value &&
	ctl raw get both >out &&
	echo "both raw-value" >expect &&
	test_cmp expect out &&
	ctl txn get both >out &&
	echo "both txn-value" >expect &&
	test_cmp expect out &&
	test_expect_code 1 ctl raw get k1 2>err &&
	grep "key .k1. not found" err &&
	ctl raw put raw-only x &&
	test_expect_code 1 ctl txn get raw-only 2>err &&
	grep "key .raw-only. not found" err &&
	ctl raw scan -k s t >out &&
	test ! -s out &&
	ctl raw put s50 raw &&
	ctl txn scan -k s50 t >out &&
	test ! -s out &&
	ctl txn delete both &&
	ctl raw get both >out &&
	echo "both raw-value" >expect &&
	test_cmp expect out &&
	ctl raw delete both &&
	test_expect_code 1 ctl txn get both 2>err
'

test_expect_success 'values keep their spaces; escapes are decoded' '
	ctl txn put greeting "hello, world" &&
	ctl txn get greeting >out &&
	echo "greeting \"hello, world\"" >expect &&
	test_cmp expect out &&
	ctl txn put "ab\\tc" "a\\x00b" &&
	ctl -x txn get 61620963 >out &&
	echo "61620963 610062" >expect &&
	test_cmp expect out &&
	test_expect_code 2 ctl txn put k "bad\\q" 2>err &&
	grep "bad escape" err
'

test_expect_success 'a key with NUL, space and newline holds the empty value' '
	ctl txn put "$BIN_IN" "" &&
	ctl txn get "$BIN_IN" >out &&
	printf "%s \"\"\n" "$BIN_OUT" >expect &&
	test_cmp expect out &&
	ctl -x txn get "$BIN_HEX" >out &&
	echo "$BIN_HEX \"\"" >expect &&
	test_cmp expect out &&
	ctl -j txn scan -l 1 a a\\x01 >out &&
	cat >expect <<-\EOF &&
	[
	  {"key": "a\u0000b c\u000ad", "value": ""}
	]
	EOF
	test_cmp expect out
'

test_expect_success '-x reads and prints hex' '
	ctl -x txn put 00ff 0102 &&
	ctl txn get "\x00\xff" >out &&
	cat >expect <<-\EOF &&
	"\x00\xff" "\x01\x02"
	EOF
	test_cmp expect out &&
	ctl -jx txn scan -l 1 00 01 >out &&
	cat >expect <<-\EOF &&
	[
	  {"key": "00ff", "value": "0102"}
	]
	EOF
	test_cmp expect out &&
	test_expect_code 1 ctl -x txn insert 00ff 03 2>err &&
	grep "key .00ff. already exists" err
'

test_expect_success 'racing puts of one key: each commits or fails as a conflict' '
	racing_puts 8 &&
	ok=0 &&
	for i in 1 2 3 4 5 6 7 8
	do
		rc=$(cat "puts-$i.rc") &&
		case $rc in
		0)
			ok=$((ok + 1)) &&
			echo "hot v$i" >>committed ;;
		1)
			grep "transaction [0-9]*: write conflict: another transaction wrote one of its keys" \
				"puts-$i.err" ;;
		*)
			false ;;
		esac || return 1
	done &&
	test "$ok" -ge 1 &&
	ctl txn get hot >out &&
	grep -x -f out committed
'

test_expect_success 'a lock left by a client that died before its commit is rolled back' '
	test_expect_code 1 env TIKV_TXN_FAILPOINT=after-prewrite \
		tikv-ctl --pd "$pd_addr" txn put orphan v 2>err &&
	grep "cannot commit" err &&
	test_expect_code 1 ctl txn get orphan 2>err &&
	grep "key .orphan. not found" err &&
	ctl txn insert orphan v2 &&
	ctl txn get orphan >out &&
	echo "orphan v2" >expect &&
	test_cmp expect out
'

test_expect_success 'a client that died after its primary committed has committed' '
	env TIKV_TXN_FAILPOINT=after-primary \
		tikv-ctl --pd "$pd_addr" txn put p1 one p2 two &&
	ctl txn get p2 >out &&
	echo "p2 two" >expect &&
	test_cmp expect out &&
	ctl txn scan p1 p3 >out &&
	printf "p1 one\np2 two\n" >expect &&
	test_cmp expect out
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 ctl txn 2>err &&
	grep "^usage: tikv-ctl" err &&
	test_expect_code 2 ctl txn frob 2>err &&
	grep "unknown txn command .frob." err &&
	test_expect_code 2 ctl txn get 2>err &&
	test_expect_code 2 ctl txn get a b 2>err &&
	test_expect_code 2 ctl txn put 2>err &&
	test_expect_code 2 ctl txn put k 2>err &&
	test_expect_code 2 ctl txn put a 1 b 2>err &&
	test_expect_code 2 ctl txn insert k 2>err &&
	test_expect_code 2 ctl txn insert a 1 b 2 2>err &&
	test_expect_code 2 ctl txn delete 2>err &&
	test_expect_code 2 ctl txn scan -r 2>err &&
	test_expect_code 2 ctl txn scan -l x 2>err &&
	grep "limit .x. is invalid" err &&
	test_expect_code 2 ctl txn scan a b c 2>err &&
	test_expect_code 2 ctl -x txn get abc 2>err &&
	grep "not hex" err &&
	test_expect_code 2 ctl txn delete a "\"open" 2>err &&
	grep "bad key" err
'

test_expect_success 'a txn scan of a range that starts after its end fails' '
	test_expect_code 1 ctl txn scan b a >out 2>err &&
	test ! -s out &&
	grep "starts after its end" err
'

test_expect_success 'the cluster is still up' '
	cluster_alive
'

test_done
