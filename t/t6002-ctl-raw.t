#!/bin/sh
test_description='tikv-ctl raw, region, store, split-region and transfer-leader against pdd and three tikvd'
. "$(dirname "$0")/test-lib.sh"

if ! test -x "$TIKV_BUILD/bin/tikvd"
then
	skip_all='tikvd not built'
	test_done
fi

# tikvd_toml I PORT: the config of store I listening on PORT.
tikvd_toml () {
	cat <<-EOT
	[server]
	addr = "tcp://127.0.0.1:$2"
	[storage]
	data-dir = "s$1"
	[pd]
	endpoints = ["$pd_addr"]
	[raftstore]
	raft-base-tick-interval = "100ms"
	pd-heartbeat-tick-interval = "1s"
	pd-store-heartbeat-tick-interval = "1s"
	EOT
}

# The voters of the region holding "" and whether pdd knows its leader.
first_region_ready () {
	tikv-ctl --pd "$pd_addr" region --key "" >first 2>/dev/null &&
	test "$(cut -d" " -f6 first | tr , "\n" | grep -c ":v$")" = 3 &&
	test "$(cut -d" " -f8 first)" != 0
}

test_expect_success 'pdd and three tikvd start' '
	cat >pd.toml <<-\EOT &&
	data-dir = "pd-data"
	[replication]
	max-replicas = 3
	EOT
	test_daemon_start pd pdd -d -f pd.toml -l tcp://127.0.0.1:@PORT@ &&
	for i in 1 2 3
	do
		port=$(test_free_port) &&
		tikvd_toml "$i" "$port" >"s$i.toml" &&
		test_daemon_start "s$i" tikvd -d -f "s$i.toml" || return 1
	done
'

test_expect_success 'the first region gets three voters and a leader' '
	test_wait_until 60 first_region_ready
'

. "$TEST_DIRECTORY/lib-ctl-raw.sh"

test_done
