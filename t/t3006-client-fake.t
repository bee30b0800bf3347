#!/bin/sh
test_description='raw client against fake stores and a real pdd: routing over splits, batches, scans both ways, region errors, unknown outcomes'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'pdd starts' '
	cat >pd.toml <<-\EOT &&
	data-dir = "data"
	[replication]
	max-replicas = 3
	EOT
	test_daemon_start pd pdd -d -f pd.toml -l tcp://127.0.0.1:@PORT@
'

test_expect_success 'client_fake_test passes' '
	test_might_fail client_fake_test "$pd_addr" >out 2>&1 &&
	cat out &&
	! grep "^not ok" out &&
	grep "^1\.\.[1-9]" out
'

test_done
