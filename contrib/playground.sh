#!/bin/sh
# playground.sh: start a local cluster on loopback in a directory, show it
# working, and stop it cleanly on Ctrl-C (or at once with -x).
#
#	contrib/playground.sh [-x] [-b builddir] [-d dir] [-p port]
#
# Today the cluster is one pdd; tikvd stores join it when tikvd lands.
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

ctl="$bin/tikv-ctl --pd 127.0.0.1:$port"
cat <<EOT
playground in $dir
  pd   $pd   (log $dir/pd.log)

try:
  $ctl ping
  $ctl tso -n 3
  $ctl -j id -n 2
  nngcat --req --dial $pd --raw --data 'HELP'

EOT
echo "\$ tikv-ctl ping"
$ctl ping
echo "\$ tikv-ctl tso -n 3"
$ctl tso -n 3

if [ "$once" -eq 1 ]; then
	exit 0
fi
echo
echo "running; Ctrl-C stops the cluster"
while :; do
	sleep 1
done
