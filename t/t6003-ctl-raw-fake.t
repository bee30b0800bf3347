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

test_done
