#!/bin/sh
test_description='tikv-ctl raw, region, store, split-region and transfer-leader against pdd and fake stores (t/unit/fakestore.c)'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'pdd and three fake stores start' '
	cat >pd.toml <<-\EOT &&
	data-dir = "data"
	[replication]
	max-replicas = 3
	EOT
	test_daemon_start pd pdd -d -f pd.toml -l tcp://127.0.0.1:@PORT@ &&
	test_daemon_start fake fake_tikvd -p "$pd_addr"
'

. "$TEST_DIRECTORY/lib-ctl-raw.sh"

# fake LINE...: one message of FAKE_* commands to the first fake store.
fake () {
	printf '%s\n' "$@" >fake.req &&
	url=$(sed -n "s/^fake_tikvd: ready: \([^ ]*\).*/\1/p" fake.log) &&
	nngcat --req --dial "$url" --recv-timeout 5 --raw --file fake.req
}

test_expect_success NNGCAT 'a leader that moved behind the back of pdd is followed' '
	ctl region --key s00 >out &&
	region=$(field 1 out) &&
	from=$(field 8 out) &&
	to=$(field 6 out | tr , "\n" | cut -d: -f2 | grep -vx "$from" |
		sed -n 1p) &&
	fake "FAKE_LEADER $region $to 0" >out &&
	echo OK >expect &&
	test_cmp expect out &&
	ctl raw get s00 >out &&
	echo "s00 v00" >expect &&
	test_cmp expect out &&
	ctl region "$region" >out &&
	test "$(field 8 out)" = "$from"
'

test_expect_success NNGCAT 'a busy store is waited for' '
	fake "FAKE_BUSY 5" &&
	ctl raw get s01 >out &&
	echo "s01 v01" >expect &&
	test_cmp expect out
'

test_expect_success NNGCAT 'a put dropped by a leader change is sent again' '
	fake "FAKE_STALE 1" &&
	ctl raw put u0 x &&
	ctl raw get u0 >out &&
	echo "u0 x" >expect &&
	test_cmp expect out
'

test_expect_success NNGCAT 'a CAS dropped by a leader change: outcome unknown' '
	fake "FAKE_STALE 1" &&
	test_expect_code 1 ctl raw cas -a u1 x >out 2>err &&
	test ! -s out &&
	grep "STALE_COMMAND: outcome unknown" err &&
	test_expect_code 1 ctl raw get u1 2>err
'

test_done
