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
#	cluster_store_restart I	start store I again on its old port, after
#				test_daemon_kill or test_daemon_stop
#	cluster_restart_all	start pdd and every store again on their ports
#	cluster_kill_all	kill -9 pdd and every running store
#	cluster_alive		pdd and every store not stopped on purpose
#				still run (none crashed)
#	cluster_region_id KEY	the id of the region holding KEY, per pdd
#	cluster_store_id I	store I's id (STATUS)
#	cluster_peer_id I R	the id of store I's peer of region R, per pdd
#	cluster_region_field I R F
#				field F of store I's REGION R line: leader,
#				role, term, commit or applied
#	cluster_leader R	the I of the running store that leads region R
#				(the highest term, if two think they do)
#	cluster_wait_leader R	wait until a running store leads region R and
#				serves it (a RAW_GET answers); print its I
#
# CLUSTER_TOML, if set, is appended to every store's config (e.g. small
# region-split-size for split tests); it starts in [raftstore] and may
# open sections the config does not have yet.  CLUSTER_STORAGE_TOML, if
# set, goes into its [storage] section.

cluster_store_toml () {
	cat <<-EOT
	[storage]
	data-dir = "s$1"
	EOT
	if test -n "${CLUSTER_STORAGE_TOML:-}"
	then
		printf '%s\n' "$CLUSTER_STORAGE_TOML"
	fi
	cat <<-EOT
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
	cluster_nstores=$1 &&
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

cluster_store_restart () {
	test_daemon_restart "s$1"
}

cluster_kill_all () {
	local i=1
	while test "$i" -le "${cluster_nstores:-0}"
	do
		if test -f "s$i.pid"
		then
			test_daemon_kill "s$i" || return 1
		fi
		i=$((i + 1))
	done
	test_daemon_kill pd
}

cluster_alive () {
	local name pid
	for name in pd $(seq -f 's%g' 1 "${cluster_nstores:-0}")
	do
		test -f "$name.pid" || continue
		pid=$(test_daemon_pid "$name") || return 1
		if ! kill -0 "$pid" 2>/dev/null
		then
			echo "cluster_alive: $name (pid $pid) is gone; $name.log:" >&2
			tail -n 20 "$name.log" | sed 's/^/| /' >&2
			return 1
		fi
	done
}

cluster_restart_all () {
	local i=1
	test_daemon_restart pd || return 1
	while test "$i" -le "${cluster_nstores:-0}"
	do
		cluster_store_restart "$i" || return 1
		i=$((i + 1))
	done
}

cluster_region_id () {
	pd "GET_REGION \"$1\"" >region.out &&
	awk 'NR == 1 && $1 == "OK" { print $2; ok = 1 }
		END { exit !ok }' region.out
}

cluster_store_id () {
	store "$1" STATUS >status.out &&
	awk 'NR == 1 && $1 == "OK" { print $2; ok = 1 }
		END { exit !ok }' status.out
}

cluster_peer_id () {
	local sid
	sid=$(cluster_store_id "$1") &&
	pd "GET_REGION_BY_ID $2" >region.out &&
	awk -v sid="$sid" 'NR == 1 && $1 == "OK" {
		n = split($7, p, ",")
		for (i = 1; i <= n; i++) {
			split(p[i], f, ":")
			if (f[2] == sid) { print f[1]; ok = 1 }
		}
	}
	END { exit !ok }' region.out
}

# Fields of "VALUE id start end conf_ver version peers leader role term
# commit applied"; region bounds in these tests never hold spaces.
cluster_region_field () {
	local col
	case $3 in
	leader) col=8 ;;
	role) col=9 ;;
	term) col=10 ;;
	commit) col=11 ;;
	applied) col=12 ;;
	*) echo "cluster_region_field: no field '$3'" >&2; return 1 ;;
	esac
	store "$1" "REGION $2" >"region-s$1.out" &&
	awk -v col="$col" 'NR == 1 && $1 == "VALUE" && NF == 12 {
		print $col; ok = 1
	}
	END { exit !ok }' "region-s$1.out"
}

cluster_leader () {
	local i=1 role term best= bestterm=0
	while test "$i" -le "${cluster_nstores:-0}"
	do
		if test -f "s$i.pid" &&
		    role=$(cluster_region_field "$i" "$1" role) &&
		    test "$role" = leader &&
		    term=$(cluster_region_field "$i" "$1" term) &&
		    test "$term" -gt "$bestterm"
		then
			best=$i
			bestterm=$term
		fi
		i=$((i + 1))
	done
	test -n "$best" && echo "$best"
}

# Store I answers a read of region R (its start key, its epoch): it leads
# R, and its lease or read index works.
cluster_serves () {
	store "$1" "REGION $2" >"region-s$1.out" &&
	awk 'NR == 1 && $1 == "VALUE" && NF == 12 {
		print "RAW_GET " $2 ":" $5 ":" $6 " " $3; ok = 1
	}
	END { exit !ok }' "region-s$1.out" >serves.req &&
	store "$1" "$(cat serves.req)" >serves.out &&
	grep -E "^(VALUE|NOT_FOUND)" serves.out >/dev/null
}

cluster_wait_leader () {
	test_wait_until "${2:-30}" \
		"cluster_leader_i=\$(cluster_leader $1) &&
		cluster_serves \"\$cluster_leader_i\" $1" >&2 &&
	echo "$cluster_leader_i"
}

# --- background jobs and leadership moves (t3011, t3012) -----------------
#
#	cluster_call URL LINE	one line to the daemon at URL, the reply on
#				stdout; no files, so background loops can
#				run it beside the test's own pd and store
#	cluster_nregions	how many regions pdd knows
#	cluster_lead_store R I...
#				"I term" of the store among I... (running
#				ones) that leads region R with the highest
#				term; fails if none does
#	cluster_move_leader R LEAD TO
#				ask store LEAD (leading region R) to hand
#				the leadership to store TO; the reply
#	cluster_transfer_loop R STOP I...
#				until file STOP exists, every 0.3 s: print
#				"leader I", move R's leadership to the next
#				store of I... and print the reply
#	cluster_bg NAME CMD...	run CMD in the background, output in
#				NAME.out; from a test body only
#	cluster_bg_wait NAME	wait for it; its exit status
#	cluster_bg_stop NAME	create NAME.stop, then cluster_bg_wait
#	cluster_bg_kill NAME	SIGTERM it if it still runs, and wait; for
#				test_when_finished

cluster_call () {
	nngcat --req --dial "$1" --recv-timeout 5 --raw --data "$2
"
}

cluster_nregions () {
	pd 'SCAN_REGIONS "" ""' >nregions.out &&
	tail -n 1 nregions.out | grep -q '^END' &&
	grep -c '^VALUE' nregions.out
}

# REGION R on each store: "VALUE id start end conf_ver version peers
# leader role term commit applied"; bounds must not hold spaces.
cluster_lead_store () {
	local r="$1" i addr line best= bestterm=0
	shift
	for i
	do
		eval "addr=\$s${i}_addr"
		test -f "s$i.pid" || continue
		line=$(cluster_call "$addr" "REGION $r" 2>/dev/null |
			awk 'NR == 1 && $1 == "VALUE" && NF == 12 &&
			    $9 == "leader" { print $10 }') || continue
		if test -n "$line" && test "$line" -gt "$bestterm"
		then
			best=$i
			bestterm=$line
		fi
	done
	test -n "$best" && echo "$best $bestterm"
}

# The next store after $1 among $2...: the first one if $1 is the last.
cluster_next_store () {
	local cur="$1" first= take= i
	shift
	for i
	do
		test -n "$first" || first=$i
		if test -n "$take"
		then
			echo "$i"
			return 0
		fi
		test "$i" = "$cur" && take=1
	done
	echo "$first"
}

# cluster_move_leader R LEAD TO: ask store LEAD, which leads region R, to
# hand the leadership to its peer on store TO; prints the reply.
cluster_move_leader () {
	local r="$1" addr sid peer
	eval "addr=\$s${3}_addr"
	sid=$(cluster_call "$addr" STATUS | awk '$1 == "OK" { print $2 }')
	eval "addr=\$s${2}_addr"
	peer=$(cluster_call "$addr" "REGION $r" |
		awk -v sid="$sid" '$1 == "VALUE" {
			n = split($7, p, ",")
			for (i = 1; i <= n; i++) {
				split(p[i], f, ":")
				if (f[2] == sid)
					print f[1]
			}
		}')
	test -n "$peer" &&
	cluster_call "$addr" "TRANSFER_LEADER $r $peer"
}

cluster_transfer_loop () {
	local r="$1" stop="$2" lead next
	shift 2
	while ! test -f "$stop"
	do
		if lead=$(cluster_lead_store "$r" "$@")
		then
			lead=${lead%% *}
			echo "leader $lead"
			next=$(cluster_next_store "$lead" "$@")
			printf 'transfer to s%s: ' "$next"
			cluster_move_leader "$r" "$lead" "$next" ||
				echo "failed"
		fi
		sleep 0.3
	done
}

cluster_bg () {
	local name="$1"
	shift
	rm -f "$name.stop" &&
	{ "$@" >"$name.out" 2>&1 </dev/null 8>&- 9>&- & } &&
	eval "cluster_bg_$name=\$!"
}

cluster_bg_wait () {
	local pid
	eval "pid=\${cluster_bg_$1:-}"
	test -n "$pid" || return 0
	wait "$pid"
	set -- "$1" $?
	eval "cluster_bg_$1="
	return "$2"
}

cluster_bg_stop () {
	: >"$1.stop" &&
	cluster_bg_wait "$1"
}

cluster_bg_kill () {
	local pid
	eval "pid=\${cluster_bg_$1:-}"
	test -n "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "cluster_bg_$1="
	return 0
}
