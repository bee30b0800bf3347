# lib-ctl-raw.sh: the tests of tikv-ctl's raw, region, store,
# split-region and transfer-leader commands, run by t6002 against three
# tikvd.  Source it after test-lib.sh once a
# cluster of three stores serves at $pd_addr with one region holding
# every key, its three peers voters and its leader known to pdd.
#
# Values the server computes (checksums, region ids) are never spelled
# out: the tests check how they combine and what the user sees of them.

ctl () {
	tikv-ctl --pd "$pd_addr" "$@"
}

# The escaped spelling of a key with NUL, space and newline, as a shell
# user types it, and as tikv-ctl prints it.
BIN_IN='"a\0b c\nd"'
BIN_OUT='"a\x00b c\nd"'
BIN_HEX=61006220630a64

# field N FILE: the Nth space-separated field of the first line.
field () {
	sed -n 1p "$2" | cut -d" " -f"$1"
}

# Puts s00..s19 with values v00..v19.
put_s_keys () {
	local i
	for i in 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19
	do
		ctl raw put "s$i" "v$i" || return 1
	done
}

# keys FROM TO [STEP]: the lines "sNN vNN" (or with -k "sNN") for NN
# from FROM to TO.
keys () {
	local k=
	if test "$1" = -k
	then
		k=1
		shift
	fi
	seq -f %02g "$1" "${3:-1}" "$2" | while read -r n
	do
		if test -n "$k"
		then
			echo "s$n"
		else
			echo "s$n v$n"
		fi
	done
}

test_expect_success 'store lists every store, plain and JSON' '
	ctl store >out &&
	test_line_count = 3 out &&
	test "$(grep -c "^[1-9][0-9]* tcp://127.0.0.1:[0-9]* up " out)" = 3 &&
	id=$(field 1 out) &&
	ctl -j store >out &&
	test "$(sed -n 1p out)" = "[" &&
	grep "^  {\"id\": $id, \"addr\": \"tcp://" out &&
	test "$(tail -n 1 out)" = "]" &&
	ctl store "$id" >out &&
	test_line_count = 1 out &&
	test "$(field 1 out)" = "$id" &&
	ctl -j store "$id" >out &&
	grep "^{\"id\": $id, \"addr\": \"tcp://127.0.0.1:[0-9]*\", \"state\": \"up\"" out
'

test_expect_success 'store of an unknown id fails' '
	test_expect_code 1 ctl store 99 >out 2>err &&
	test ! -s out &&
	grep "store 99" err
'

test_expect_success 'region lists the region with its peers and leader' '
	ctl region >out &&
	test_line_count = 1 out &&
	test "$(field 2 out)" = "\"\"" &&
	test "$(field 3 out)" = "\"\"" &&
	test "$(field 6 out | tr , "\n" | grep -c ":v$")" = 3 &&
	region=$(field 1 out) &&
	leader_store=$(field 8 out) &&
	test "$leader_store" -ge 1 &&
	ctl region "$region" >out2 &&
	test_cmp out out2 &&
	ctl region --key anything >out2 &&
	test_cmp out out2 &&
	ctl -x region --key 00ff >out2 &&
	test_cmp out out2 &&
	ctl -j region "$region" >out &&
	grep "^{\"id\": $region, \"start\": \"\", \"end\": \"\", \"conf_ver\": [0-9]*, \"version\": [0-9]*, \"peers\": \"[0-9:v,]*\", \"leader\": [1-9][0-9]*, \"leader_store\": $leader_store}$" out
'

test_expect_success 'region of an unknown id fails' '
	test_expect_code 1 ctl region 999999 >out 2>err &&
	test ! -s out &&
	grep "region 999999" err
'

test_expect_success 'raw put prints nothing; raw get prints the pair' '
	ctl raw put k1 v1 >out &&
	test ! -s out &&
	ctl raw get k1 >out &&
	echo "k1 v1" >expect &&
	test_cmp expect out &&
	ctl -j raw get k1 >out &&
	echo "{\"key\": \"k1\", \"value\": \"v1\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'an argument keeps its spaces; escapes are decoded' '
	ctl raw put "greeting" "hello, world" &&
	ctl raw get greeting >out &&
	echo "greeting \"hello, world\"" >expect &&
	test_cmp expect out &&
	ctl raw put "ab\\tc" "a\\x00b" &&
	ctl -x raw get 61620963 >out &&
	echo "61620963 610062" >expect &&
	test_cmp expect out &&
	test_expect_code 2 ctl raw put k "bad\\q" 2>err &&
	grep "bad escape" err &&
	ctl raw delete greeting &&
	ctl raw delete "ab\\tc"
'

test_expect_success 'raw get of a missing key: nothing on stdout, status 1' '
	test_expect_code 1 ctl raw get nosuch >out 2>err &&
	test ! -s out &&
	grep "key .nosuch. not found" err &&
	test_expect_code 1 ctl -j raw get nosuch >out 2>err &&
	test ! -s out
'

test_expect_success 'a key with NUL, space and newline holds the empty value' '
	ctl raw put "$BIN_IN" "" &&
	ctl raw get "$BIN_IN" >out &&
	printf "%s \"\"\n" "$BIN_OUT" >expect &&
	test_cmp expect out &&
	ctl -j raw get "$BIN_IN" >out &&
	cat >expect <<-\EOF &&
	{"key": "a\u0000b c\u000ad", "value": ""}
	EOF
	test_cmp expect out
'

test_expect_success '--hex and -x read and print hex' '
	ctl --hex raw get "$BIN_HEX" >out &&
	echo "$BIN_HEX \"\"" >expect &&
	test_cmp expect out &&
	ctl -x raw put 00ff 0102 &&
	ctl raw get "\x00\xff" >out &&
	cat >expect <<-\EOF &&
	"\x00\xff" "\x01\x02"
	EOF
	test_cmp expect out &&
	ctl -jx raw get 00FF >out &&
	echo "{\"key\": \"00ff\", \"value\": \"0102\"}" >expect &&
	test_cmp expect out &&
	ctl -x raw put "" 61 &&
	ctl raw get "" >out &&
	echo "\"\" a" >expect &&
	test_cmp expect out
'

test_expect_success 'raw delete removes the key' '
	ctl raw delete k1 >out &&
	test ! -s out &&
	test_expect_code 1 ctl raw get k1 2>err &&
	ctl raw delete k1
'

test_expect_success 'raw cas: expect absent, expect a value, put or delete' '
	ctl raw cas -a c1 one >out &&
	echo "true false" >expect &&
	test_cmp expect out &&
	test_expect_code 1 ctl raw cas -a c1 two >out &&
	echo "false true one" >expect &&
	test_cmp expect out &&
	test_expect_code 1 ctl raw cas -e uno c1 two >out &&
	test_cmp expect out &&
	ctl raw cas -e one -t 100 c1 two >out &&
	echo "true true one" >expect &&
	test_cmp expect out &&
	ctl raw get c1 >out &&
	echo "c1 two" >expect &&
	test_cmp expect out &&
	test_expect_code 1 ctl -j raw cas -e one -d c1 >out &&
	echo "{\"swapped\": false, \"found\": true, \"prev\": \"two\"}" >expect &&
	test_cmp expect out &&
	ctl -j raw cas -e two -d c1 >out &&
	echo "{\"swapped\": true, \"found\": true, \"prev\": \"two\"}" >expect &&
	test_cmp expect out &&
	test_expect_code 1 ctl raw get c1 2>err &&
	ctl -x raw cas -a 00 "" >out &&
	echo "true false" >expect &&
	test_cmp expect out &&
	ctl raw get "\x00" >out &&
	cat >expect <<-\EOF &&
	"\x00" ""
	EOF
	test_cmp expect out
'

test_expect_success 'raw ttl: seconds left, 0 for none, status 1 when missing' '
	ctl raw put -t 100 t1 v >out &&
	test ! -s out &&
	ctl raw ttl t1 >out &&
	test "$(field 1 out)" = t1 &&
	ttl=$(field 2 out) &&
	test "$ttl" -gt 90 &&
	test "$ttl" -le 100 &&
	ctl raw put t2 v &&
	ctl -j raw ttl t2 >out &&
	echo "{\"key\": \"t2\", \"ttl\": 0}" >expect &&
	test_cmp expect out &&
	test_expect_code 1 ctl raw ttl nosuch >out 2>err &&
	test ! -s out &&
	grep "not found" err
'

test_expect_success 'a key put with a ttl expires' '
	ctl raw put -t 1 t3 v &&
	test_wait_until 20 "test_expect_code 1 ctl raw get t3 2>/dev/null"
'

test_expect_success 'raw scan in order, with a limit, keys only, in JSON' '
	put_s_keys &&
	ctl raw scan s t >out &&
	keys 0 19 >expect &&
	test_cmp expect out &&
	ctl raw scan -l 5 s t >out &&
	keys 0 4 >expect &&
	test_cmp expect out &&
	ctl raw scan -k s05 s08 >out &&
	keys -k 5 7 >expect &&
	test_cmp expect out &&
	ctl raw scan -l 2 s >out &&
	keys 0 1 >expect &&
	test_cmp expect out &&
	ctl -j raw scan -l 2 s >out &&
	cat >expect <<-\EOF &&
	[
	  {"key": "s00", "value": "v00"},
	  {"key": "s01", "value": "v01"}
	]
	EOF
	test_cmp expect out &&
	ctl raw scan s00 s00 >out &&
	test ! -s out
'

test_expect_success 'raw scan -r goes from the end down' '
	ctl raw scan -r -l 3 s t >out &&
	keys 19 17 -1 >expect &&
	test_cmp expect out &&
	ctl raw scan -r -k s03 s07 >out &&
	keys -k 6 3 -1 >expect &&
	test_cmp expect out &&
	ctl raw scan -rl 1 >out &&
	test_line_count = 1 out &&
	test "$(field 1 out)" = t2
'

test_expect_success 'raw checksum counts pairs and bytes; halves add up' '
	ctl raw checksum s t >out &&
	test "$(field 1 out)" = 20 &&
	test "$(field 2 out)" = 120 &&
	ctl raw checksum s s10 >a &&
	ctl raw checksum s10 t >b &&
	test "$(field 1 a)" = 10 &&
	test "$(field 1 b)" = 10 &&
	test "$(($(field 2 a) + $(field 2 b)))" = 120 &&
	ctl -j raw checksum s t >out &&
	grep "^{\"count\": 20, \"bytes\": 120, \"checksum\": [0-9]*}$" out
'

test_expect_success 'raw delete-range deletes [start, end)' '
	ctl raw delete-range s05 s15 >out &&
	test ! -s out &&
	ctl raw scan -k s t >out &&
	{ keys -k 0 4 && keys -k 15 19; } >expect &&
	test_cmp expect out &&
	put_s_keys
'

test_expect_success 'split-region prints both sides' '
	ctl split-region s10 >out &&
	test_line_count = 2 out &&
	test "$(sed -n 1p out | cut -d" " -f3)" = s10 &&
	test "$(sed -n 2p out | cut -d" " -f2)" = s10 &&
	test "$(sed -n 1p out | cut -d" " -f2)" = "\"\"" &&
	test "$(sed -n 2p out | cut -d" " -f3)" = "\"\"" &&
	left=$(sed -n 1p out | cut -d" " -f1) &&
	right=$(sed -n 2p out | cut -d" " -f1) &&
	test "$left" != "$right" &&
	test_wait_until 20 "ctl region >regions && test_line_count = 2 regions" &&
	ctl region --key s10 >out &&
	test "$(field 1 out)" = "$right" &&
	ctl region --key s09 >out &&
	test "$(field 1 out)" = "$left"
'

test_expect_success 'scans cross the split both ways' '
	ctl raw scan s t >out &&
	keys 0 19 >expect &&
	test_cmp expect out &&
	ctl raw scan -l 4 s08 t >out &&
	keys 8 11 >expect &&
	test_cmp expect out &&
	ctl raw scan -r -l 4 s s12 >out &&
	keys 11 8 -1 >expect &&
	test_cmp expect out &&
	ctl raw scan -r s t >out &&
	keys 19 0 -1 >expect &&
	test_cmp expect out
'

test_expect_success 'checksum and delete-range span the split' '
	ctl raw checksum s t >out &&
	test "$(field 1 out)" = 20 &&
	test "$(field 2 out)" = 120 &&
	ctl raw delete-range s08 s12 &&
	ctl raw scan -k s08 s12 >out &&
	test ! -s out &&
	ctl raw checksum s t >out &&
	test "$(field 1 out)" = 16
'

test_expect_success 'split-region at a region start fails' '
	test_expect_code 1 ctl split-region s10 2>err &&
	test -s err
'

test_expect_success 'transfer-leader moves the leader to the given store' '
	ctl region --key s10 >out &&
	region=$(field 1 out) &&
	from=$(field 8 out) &&
	to=$(field 6 out | tr , "\n" | cut -d: -f2 | grep -vx "$from" |
		sed -n 1p) &&
	test -n "$to" &&
	ctl transfer-leader "$region" "$to" >out &&
	test ! -s out &&
	test_wait_until 30 "ctl region $region >out && test \"\$(field 8 out)\" = $to" &&
	ctl raw get s15 >out &&
	echo "s15 v15" >expect &&
	test_cmp expect out
'

test_expect_success 'transfer-leader to a store without a peer fails' '
	ctl region --key s10 >out &&
	test_expect_code 1 ctl transfer-leader "$(field 1 out)" 77 2>err &&
	grep "no peer on store 77" err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 ctl raw 2>err &&
	test_expect_code 2 ctl raw frob 2>err &&
	grep "unknown raw command .frob." err &&
	test_expect_code 2 ctl raw get 2>err &&
	test_expect_code 2 ctl raw get a b 2>err &&
	test_expect_code 2 ctl raw put k 2>err &&
	test_expect_code 2 ctl raw put -t -1 k v 2>err &&
	test_expect_code 2 ctl raw cas k v 2>err &&
	test_expect_code 2 ctl raw cas -a -e x k v 2>err &&
	test_expect_code 2 ctl raw cas -a -d k v 2>err &&
	test_expect_code 2 ctl raw cas -a -d -t 5 k 2>err &&
	test_expect_code 2 ctl raw scan -l x 2>err &&
	test_expect_code 2 ctl raw scan a b c 2>err &&
	test_expect_code 2 ctl raw delete-range a 2>err &&
	test_expect_code 2 ctl -x raw get abc 2>err &&
	grep "not hex" err &&
	test_expect_code 2 ctl raw get "\"open" 2>err &&
	grep "bad key" err &&
	test_expect_code 2 ctl region 1 --key a 2>err &&
	test_expect_code 2 ctl region 0 2>err &&
	test_expect_code 2 ctl store 1 2 2>err &&
	test_expect_code 2 ctl split-region 2>err &&
	test_expect_code 2 ctl transfer-leader 1 2>err &&
	test_expect_code 2 ctl transfer-leader x 1 2>err
'

test_expect_success 'a range that starts after its end fails' '
	test_expect_code 1 ctl raw scan b a 2>err &&
	grep "starts after its end" err &&
	test_expect_code 1 ctl raw delete-range b a 2>err
'
