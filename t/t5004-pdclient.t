#!/bin/sh
test_description='pdclient: every call of the PD client library against a real pdd, and failover from a dead endpoint'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'pdd starts with three replicas wanted' '
	cat >pd.toml <<-\EOT &&
	data-dir = "data"
	[replication]
	max-replicas = 3
	EOT
	test_daemon_start pd pdd -d -f pd.toml -l tcp://127.0.0.1:@PORT@
'

test_expect_success 'pdclient_test passes every check against it' '
	dead=$(test_free_port) &&
	pdclient_test "$pd_addr" "tcp://127.0.0.1:$dead" >out &&
	! grep "^not ok" out &&
	grep -c "^ok" out >count &&
	test "$(cat count)" -ge 50
'

test_expect_success 'pdd kept what the client wrote, and stops cleanly' '
	printf "IS_BOOTSTRAPPED\n" >req &&
	nngcat --req --dial "$pd_addr" --recv-timeout 5 --raw --file req \
		>actual &&
	echo "OK 1" >expect &&
	test_cmp expect actual &&
	test_daemon_stop pd
'

test_done
