#!/bin/sh
# playground.sh: start a local cluster on loopback in a directory, show it
# working, and stop it cleanly on Ctrl-C (or at once with -x).
#
#	contrib/playground.sh [-x] [-b builddir] [-d dir] [-p port]
#
# The cluster is one pdd and three tikvd stores, each in its own
# subdirectory with its own log; the first store bootstraps the cluster and
# PD adds the other two as replicas of the first region.
set -eu

build=build
dir=
port=2379
once=0
while getopts "b:d:p:x" opt; do
	case $opt in
	b) build=$OPTARG ;;
	d) dir=$OPTARG ;;
	p) port=$OPTARG ;;
	x) once=1 ;;
	*) echo "usage: playground.sh [-x] [-b builddir] [-d dir] [-p port]" >&2
	   exit 2 ;;
	esac
done
[ -n "$dir" ] || dir=$(mktemp -d /tmp/tikv-playground.XXXXXX)
mkdir -p "$dir"
bin=$(cd "$build/bin" && pwd)
pids=

stop() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || :
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || :
	done
	pids=
}
trap 'stop' EXIT
trap 'exit 0' INT TERM

# start NAME CMD...: run CMD with its log in $dir/NAME.log, wait for ready.
start() {
	name=$1
	shift
	"$@" >"$dir/$name.log" 2>&1 &
	pids="$pids $!"
	i=0
	until grep -q ready "$dir/$name.log"; do
		if ! kill -0 "$!" 2>/dev/null || [ $i -ge 100 ]; then
			echo "playground: $name did not start:" >&2
			cat "$dir/$name.log" >&2
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

pd=tcp://127.0.0.1:$port
start pd "$bin/pdd" -d -D "$dir/pd" -l "$pd"
for i in 1 2 3; do
	cat >"$dir/tikv$i.toml" <<EOT
[server]
addr = "tcp://127.0.0.1:$((port + 20 + i))"
[storage]
data-dir = "$dir/tikv$i"
[pd]
endpoints = ["$pd"]
[raftstore]
raft-base-tick-interval = "100ms"
pd-heartbeat-tick-interval = "1s"
pd-store-heartbeat-tick-interval = "1s"
EOT
	start "tikv$i" "$bin/tikvd" -d -f "$dir/tikv$i.toml"
done

ctl="$bin/tikv-ctl --pd 127.0.0.1:$port"
# Wait until the first region has its three replicas.
i=0
until [ "$($ctl region 2>/dev/null | head -n 1 | grep -o ':v' |
    wc -l)" -ge 3 ] ||
    [ $i -ge 150 ]; do
	sleep 0.1
	i=$((i + 1))
done

cat <<EOT
playground in $dir
  pd     $pd   (log $dir/pd.log)
  tikv1  tcp://127.0.0.1:$((port + 21))   (log $dir/tikv1.log)
  tikv2  tcp://127.0.0.1:$((port + 22))   (log $dir/tikv2.log)
  tikv3  tcp://127.0.0.1:$((port + 23))   (log $dir/tikv3.log)

try:
  $ctl store
  $ctl region
  $ctl raw put greeting hello
  $ctl raw get greeting
  $ctl raw scan -l 10 '' ''
  $ctl txn put alice 50 bob 70
  $ctl txn scan
  $ctl split-region m
  nngcat --req --dial tcp://127.0.0.1:$((port + 21)) --raw --data 'REGIONS'

EOT
run() {
	echo "\$ tikv-ctl $*"
	$ctl "$@"
}
run store
run raw put greeting hello
run raw get greeting
run txn put alice 50 bob 70
run txn scan
run region

if [ "$once" -eq 1 ]; then
	exit 0
fi
echo
echo "running; Ctrl-C stops the cluster"
while :; do
	sleep 1
done
