#!/bin/sh
test_description='tikv-ctl: config-check with file:line errors, ping, tso and id in plain and JSON form, exit statuses'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'config-check accepts the sample configs' '
	tikv-ctl config-check "$TIKV_SRC/contrib/pdd.toml" >out &&
	grep "pdd true" out &&
	tikv-ctl config-check "$TIKV_SRC/contrib/tikvd.toml" >out &&
	grep "tikvd true" out
'

test_expect_success 'config-check names the file and line of an unknown key' '
	cat >tikvd.toml <<-\EOT &&
	[server]
	addr = "tcp://127.0.0.1:20160"

	[raftstore]
	raft-tick = "1s"
	EOT
	test_expect_code 1 tikv-ctl config-check tikvd.toml >out 2>err &&
	grep "tikvd.toml:5: unknown key .raftstore.raft-tick." err &&
	grep "false" out
'

test_expect_success 'config-check refuses a bad size with its line' '
	printf "[coprocessor]\nregion-split-size = \"96 apples\"\n" >bad.toml &&
	test_expect_code 1 tikv-ctl config-check -t tikvd bad.toml 2>err &&
	grep "bad.toml:2: " err
'

test_expect_success 'config-check checks across keys' '
	printf "[coprocessor]\nregion-split-size = \"200MiB\"\nregion-max-size = \"100MiB\"\n" >cross.toml &&
	test_expect_code 1 tikv-ctl config-check -t tikvd cross.toml 2>err &&
	grep "cross.toml:" err
'

test_expect_success 'config-check -j gives a JSON object' '
	test_expect_code 1 tikv-ctl -j config-check tikvd.toml >out 2>/dev/null &&
	grep "^{\"file\": \"tikvd.toml\", \"kind\": \"tikvd\", \"ok\": false, \"error\": \"tikvd.toml:5: unknown key" out
'

test_expect_success 'config-check of a missing file fails with status 1' '
	test_expect_code 1 tikv-ctl config-check nosuch.toml 2>err &&
	grep "nosuch.toml" err
'

test_expect_success 'usage errors exit 2 with the usage' '
	test_expect_code 2 tikv-ctl 2>err &&
	grep "^usage: tikv-ctl" err &&
	test_expect_code 2 tikv-ctl frobnicate 2>err &&
	grep "unknown command .frobnicate." err &&
	test_expect_code 2 tikv-ctl tso -n 0 2>err &&
	test_expect_code 2 tikv-ctl config-check -t nosuch x.toml 2>err &&
	test_expect_code 2 tikv-ctl -h 2>err &&
	grep "^usage: tikv-ctl" err
'

test_expect_success 'ping, tso and id against a running pdd' '
	test_daemon_start pd pdd -d -D data -l tcp://127.0.0.1:@PORT@ &&
	tikv-ctl --pd "127.0.0.1:$pd_port" ping >out &&
	echo "127.0.0.1:$pd_port ok" >expect && test_cmp expect out &&
	TIKV_PD=$pd_addr tikv-ctl tso -n 3 >out &&
	test_line_count = 3 out &&
	TIKV_PD=$pd_addr tikv-ctl id -n 2 >out &&
	test_line_count = 2 out
'

test_expect_success 'tso -j: ts is physical << 18 | logical' '
	tikv-ctl -j --pd "$pd_addr" tso -n 2 >out &&
	head -n 1 out >first && echo "[" >expect && test_cmp expect first &&
	sed -n 2p out | sed -E "s/.*\"ts\": ([0-9]+), \"physical\": ([0-9]+), \"logical\": ([0-9]+).*/\1 \2 \3/" >nums &&
	read ts phys logical <nums &&
	test "$ts" -eq "$(( (phys << 18) | logical ))" &&
	tail -n 1 out >last && echo "]" >expect && test_cmp expect last
'

test_expect_success 'a dead pd is a failure with a clear message, status 1' '
	test_daemon_stop pd &&
	test_expect_code 1 tikv-ctl --pd "$pd_addr" ping 2>err &&
	grep "cannot connect to" err
'

test_done
