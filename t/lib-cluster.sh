# lib-cluster.sh: a pdd and tikvd stores on loopback, for shell tests.
# Source it after test-lib.sh.
#
#	cluster_start N		pdd "pd" and stores "s1".."sN", fast ticks;
#				store 1 starts first and bootstraps
#	cluster_store_start I	start (or restart) store I with its config
#	cluster_wait_voters N	wait until the first region has N voters
#	pd LINE...		one message to pdd; the reply on stdout
#	store I LINE...		one message to store I; the reply on stdout
#	ctl ARGS...		tikv-ctl against this cluster's pdd
#
# CLUSTER_TOML, if set, is appended to every store's config (e.g. small
# region-split-size for split tests).

cluster_store_toml () {
	cat <<-EOT
	[storage]
	data-dir = "s$1"
	[raftstore]
	raft-base-tick-interval = "50ms"
	raft-heartbeat-ticks = 2
	raft-election-timeout-ticks = 10
	pd-heartbeat-tick-interval = "300ms"
	pd-store-heartbeat-tick-interval = "300ms"
	split-region-check-tick-interval = "300ms"
	EOT
	if test -n "${CLUSTER_TOML:-}"
	then
		printf '%s\n' "$CLUSTER_TOML"
	fi
}

cluster_store_start () {
	cluster_store_toml "$1" >"s$1.toml" &&
	test_daemon_start "s$1" tikvd -d -f "s$1.toml" \
		-a tcp://127.0.0.1:@PORT@ -p "$pd_addr"
}

cluster_start () {
	local i=1
	cat >pd.toml <<-\EOT &&
	data-dir = "pd-data"
	[replication]
	max-replicas = 3
	[schedule]
	store-disconnect-time = "2s"
	max-store-down-time = "10s"
	EOT
	test_daemon_start pd pdd -d -f pd.toml -l tcp://127.0.0.1:@PORT@ &&
	while test "$i" -le "$1"
	do
		cluster_store_start "$i" || return 1
		i=$((i + 1))
	done
}

pd () {
	printf '%s\n' "$@" >pd.req &&
	nngcat --req --dial "$pd_addr" --recv-timeout 5 --raw --file pd.req
}

store () {
	local n="$1"
	shift
	printf '%s\n' "$@" >store.req &&
	eval "nngcat --req --dial \"\$s${n}_addr\" --recv-timeout 10" \
		--raw --file store.req
}

ctl () {
	tikv-ctl --pd "$pd_addr" "$@"
}

# The number of voters of the region holding "" per pdd.
cluster_voters () {
	pd 'GET_REGION ""' >voters.out &&
	sed -n 1p voters.out | awk '{ print $7 }' | tr , '\n' |
		grep -c ':v$'
}

cluster_wait_voters () {
	test_wait_until 60 "test \"\$(cluster_voters)\" = $1"
}
