#!/bin/sh
test_description='the bank test over three stores: random transfers in transactions keep the total that readers see in one snapshot, through a split, a kill -9 and clients that die half way through their commit'
# Minutes at most, even if something hangs (runs take about a minute).
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-cluster.sh"

N=20
B=1000

# summary FILE WORD: the count after WORD in the summary line of a run,
# "transfers N conflicts N errors N checks N".
summary () {
	awk -v w="$2" '$1 == "transfers" {
		for (i = 1; i < NF; i += 2)
			if ($i == w) { print $(i + 1); ok = 1 }
	}
	END { exit !ok }' "$1"
}

# ran FILE: the run whose output is FILE made transfers and checks.
ran () {
	cat "$1" &&
	test "$(summary "$1" transfers)" -gt 0 &&
	test "$(summary "$1" checks)" -gt 0
}

# balance FILE ACCOUNT: its balance in the output of txn_bank show.
balance () {
	awk -v a="$2" '$1 == a { print $2; ok = 1 } END { exit !ok }' "$1"
}

# richest FILE: the account with the highest balance in the output of
# txn_bank show (at least the mean); other: an account in the other half
# of the split at acct010.
richest () {
	sort -k2,2n -k1,1 "$1" | tail -n 1 | cut -d" " -f1
}

other () {
	case $1 in
	acct00?) echo acct015 ;;
	*) echo acct005 ;;
	esac
}

bank () {
	txn_bank -p "$pd_addr" "$@"
}

# keep_err FILE CMD...: CMD's stderr goes to FILE and then to the test's
# log, so test_expect_code's complaint is not lost in FILE.
keep_err () {
	local f="$1" rc
	shift
	"$@" 2>"$f"
	rc=$?
	cat "$f" >&2
	return "$rc"
}

test_expect_success 'a cluster of three stores' '
	cluster_start 3 &&
	cluster_wait_voters 3 &&
	region=$(cluster_region_id "") &&
	cluster_wait_leader "$region"
'

test_expect_success 'init creates the accounts in one transaction, once' '
	bank init -n $N -b $B &&
	echo "$N accounts hold $((N * B))" >expect &&
	bank check -n $N -b $B >actual &&
	test_cmp expect actual &&
	test_expect_code 1 keep_err init.err bank init -n $N -b $B &&
	grep "an account exists already" init.err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 bank &&
	test_expect_code 2 bank check -n $N &&
	test_expect_code 2 bank move acct001 acct002 &&
	test_expect_code 2 bank frobnicate
'

test_expect_success 'four threads of transfers keep the total every check sees' '
	bank run -n $N -b $B -c 4 -d 3 >run1.out &&
	ran run1.out &&
	test "$(summary run1.out errors)" = 0 &&
	bank check -n $N -b $B
'

test_expect_success 'one transfer moves its amount; an overdraft is refused' '
	bank show >before &&
	test_line_count = $N before &&
	a=$(balance before acct005) &&
	b=$(balance before acct006) &&
	bank move acct005 acct006 $a &&
	bank show >after &&
	test "$(balance after acct005)" = 0 &&
	test "$(balance after acct006)" = $((a + b)) &&
	test_expect_code 1 keep_err move.err bank move acct005 acct006 1 &&
	grep "holds 0, less than 1" move.err
'

test_expect_success 'transfers go on while the account range splits in the middle' '
	before=$(cluster_nregions) &&
	cluster_bg split_run txn_bank -p "$pd_addr" run -n $N -b $B -c 4 -d 4 &&
	test_when_finished "cluster_bg_kill split_run" &&
	sleep 1 &&
	ctl split-region acct010 &&
	cluster_bg_wait split_run &&
	test "$(cluster_nregions)" -gt "$before" &&
	test "$(cluster_region_id acct009)" != "$(cluster_region_id acct010)" &&
	ran split_run.out &&
	test "$(summary split_run.out errors)" = 0 &&
	bank check -n $N -b $B
'

test_expect_success 'kill -9 of a leading store during transfers; it restarts' '
	victim=$(cluster_wait_leader "$(cluster_region_id acct000)") &&
	cluster_bg kill_run txn_bank -p "$pd_addr" -t 3000 run -n $N -b $B \
		-c 4 -d 8 &&
	test_when_finished "cluster_bg_kill kill_run" &&
	sleep 1.5 &&
	test_daemon_kill "s$victim" &&
	echo "killed s$victim" &&
	sleep 2 &&
	cluster_store_restart "$victim" &&
	cluster_bg_wait kill_run &&
	ran kill_run.out &&
	bank check -n $N -b $B
'

# The two accounts of each transfer below lie in the two halves of the
# split: the primary's lock and the secondary's are in different regions.
test_expect_success 'a client that dies after its prewrite leaves locks behind' '
	bank show >before &&
	from=$(richest before) &&
	to=$(other "$from") &&
	test_expect_code 1 keep_err fp1.err \
		env TIKV_TXN_FAILPOINT=after-prewrite \
		txn_bank -p "$pd_addr" -T 3000 move "$from" "$to" 100 &&
	grep "failpoint after-prewrite" fp1.err &&
	test_expect_code 1 keep_err locked.err bank -t 1000 show >/dev/null &&
	grep "locked by transaction [0-9]*, alive" locked.err
'

test_expect_success 'once their TTL ran out, readers roll them back: nothing moved' '
	bank check -n $N -b $B &&
	bank show >after &&
	test_cmp before after &&
	bank run -n $N -b $B -c 4 -d 2 >run2.out &&
	ran run2.out &&
	bank check -n $N -b $B
'

test_expect_success 'a client that dies after committing its primary: the next reader commits the rest' '
	bank show >before &&
	from=$(richest before) &&
	to=$(other "$from") &&
	a=$(balance before "$from") &&
	b=$(balance before "$to") &&
	amount=$((a / 2 + 1)) &&
	env TIKV_TXN_FAILPOINT=after-primary \
		txn_bank -p "$pd_addr" -T 3000 move "$from" "$to" $amount &&
	bank -t 1000 show >after &&
	test "$(balance after "$from")" = $((a - amount)) &&
	test "$(balance after "$to")" = $((b + amount)) &&
	bank check -n $N -b $B
'

test_expect_success 'own writes, scans across pages, conflicts, snapshots' '
	bank selftest >selftest.out &&
	cat selftest.out &&
	grep "selftest: [1-9][0-9]* checks passed, 0 failed" selftest.out
'

test_expect_success 'no daemon crashed along the way' '
	cluster_alive &&
	cluster_kill_all
'

test_done
