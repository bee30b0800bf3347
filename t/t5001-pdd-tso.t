#!/bin/sh
test_description='pdd hands out strictly increasing timestamps and unique ids, across kill -9 and a clock set back'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'pdd starts and answers PING' '
	test_daemon_start pd pdd -d -D data -l tcp://127.0.0.1:@PORT@ &&
	tikv-ctl --pd "$pd_addr" ping >out &&
	grep "ok$" out
'

test_expect_success '10,000 timestamps from 8 concurrent clients are increasing and unique' '
	tso_clients -a "$pd_addr" -c 8 -n 10000 -o ts1 &&
	test_line_count = 10000 ts1 &&
	sort -n -u ts1 >sorted &&
	test_line_count = 10000 sorted
'

test_expect_success 'batches of 100 timestamps do not overlap' '
	tso_clients -a "$pd_addr" -c 4 -n 500 -b 100 -o ts2 &&
	sort -n -u ts2 >sorted2 &&
	test_line_count = 50000 sorted2 &&
	test "$(head -n 1 sorted2)" -gt "$(tail -n 1 sorted)"
'

test_expect_success 'after kill -9 and restart every new timestamp is greater' '
	tikv-ctl --pd "$pd_addr" tso -n 1 >before &&
	test_daemon_kill pd &&
	test_daemon_restart pd &&
	tikv-ctl --pd "$pd_addr" tso -n 5 >after &&
	test "$(head -n 1 after | cut -d" " -f1)" -gt "$(cut -d" " -f1 before)" &&
	test "$(head -n 1 after | cut -d" " -f1)" -gt "$(tail -n 1 sorted2)"
'

test_expect_success 'a clock set back an hour does not send timestamps back' '
	tikv-ctl --pd "$pd_addr" tso >before &&
	test_daemon_kill pd &&
	test_daemon_start pdback env PDD_CLOCK_SKEW_MS=-3600000 \
		pdd -d -D data -l tcp://127.0.0.1:@PORT@ &&
	tso_clients -a "$pdback_addr" -c 2 -n 200 -o ts3 &&
	sort -n ts3 >sorted3 &&
	test "$(head -n 1 sorted3)" -gt "$(cut -d" " -f1 before)" &&
	test_daemon_stop pdback
'

test_expect_success 'ids never repeat across kill -9 and restarts' '
	test_daemon_restart pd &&
	tikv-ctl --pd "$pd_addr" id -n 10 >ids &&
	test_daemon_kill pd &&
	test_daemon_restart pd &&
	tikv-ctl --pd "$pd_addr" id -n 10 >>ids &&
	test_daemon_kill pd &&
	test_daemon_restart pd &&
	tikv-ctl --pd "$pd_addr" id -n 3000 >>ids &&
	test_line_count = 3020 ids &&
	sort -n -u ids >ids.sorted &&
	test_line_count = 3020 ids.sorted &&
	test "$(head -n 1 ids.sorted)" -ge 1
'

test_expect_success 'a second pdd on the same data directory refuses to start' '
	test_must_fail pdd -d -D data -l tcp://127.0.0.1:1 2>err &&
	grep "data directory .data. is in use by another process (pid $(test_daemon_pid pd))" err
'

test_expect_success 'started in the background, pdd still reports a refusal and exits 1' '
	test_expect_code 1 pdd -D data -l tcp://127.0.0.1:1 2>err &&
	grep "data directory .data. is in use" err &&
	test_expect_code 1 pdd -D data2 -l "$pd_addr" 2>err &&
	grep "cannot listen on .$pd_addr.: Address in use" err
'

test_expect_success 'pdd exits cleanly on SIGTERM' '
	test_daemon_stop pd &&
	grep "exiting on signal 15" pd.log
'

test_done
