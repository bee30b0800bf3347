#!/bin/sh
# bench.sh: the standard benchmark (make bench), and the comparison of two
# of its reports.
#
#	contrib/bench.sh [-k] [-b builddir] [-d seconds] [-n records]
#	    [-o dir] [-p port] [-t seconds] [-W seconds]
#	contrib/bench.sh -c old-report new-report
#
# Starts pdd and three tikvd stores on loopback in a temporary directory
# (default configs, so every Raft write is fdatasync'ed; only the ticks
# and heartbeats are fast, as in the playground), measures the disk's
# fdatasync rate in that directory, and runs two sets, raw and txn
# (tikv-bench -m txn, one transaction per operation).  Each loads
# recordcount records and runs workloads A, B, C and E at 1, 16 and 64
# clients; the raw set also runs A and C with 16 commands per message.
# Raw runs last -d seconds after -W seconds of warm-up, txn runs -t
# seconds after 1 s, to keep the whole under 7 minutes.  Writes
# bench/REPORT-<date>.txt with the machine's description and a table per
# mode, one row per operation type.  Stops the cluster by pid, and
# removes the directory unless -k.
#
# -c prints, for each row the two reports share, ops/s and p99 of both
# and the change.
set -eu

me=bench.sh
build=build
secs=15
warmup=2
txn_secs=5
txn_warmup=1
records=100000
outdir=bench
port=
keep=0
compare=0

usage() {
	echo "usage: $me [-k] [-b builddir] [-d seconds] [-n records]" \
	    "[-o dir] [-p port] [-t seconds] [-W seconds]" >&2
	echo "       $me -c old-report new-report" >&2
	exit 2
}

while getopts "b:cd:kn:o:p:t:W:" opt; do
	case $opt in
	b) build=$OPTARG ;;
	c) compare=1 ;;
	d) secs=$OPTARG ;;
	k) keep=1 ;;
	n) records=$OPTARG ;;
	o) outdir=$OPTARG ;;
	p) port=$OPTARG ;;
	t) txn_secs=$OPTARG ;;
	W) warmup=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))

# --- comparing two reports ------------------------------------------------

# Table rows are "phase workload mode clients depth op count ops/s p50
# p95 p99 p99.9 max errors"; the first six fields name a row.
if [ "$compare" -eq 1 ]; then
	[ $# -eq 2 ] || usage
	for f in "$1" "$2"; do
		[ -r "$f" ] || { echo "$me: cannot read '$f'" >&2; exit 1; }
	done
	awk '
	function row() {
		return ($1 == "load" || $1 == "run") && NF == 14 && \
		    $8 ~ /^[0-9.]+$/
	}
	function pct(a, b) {
		if (a == 0)
			return "-"
		return sprintf("%+.1f%%", (b - a) * 100 / a)
	}
	FNR == 1 { file++ }
	!row() { next }
	{
		k = $1 " " $2 " " $3 " " $4 " " $5 " " $6
		if (file == 1) {
			ops[k] = $8; p99[k] = $11; order[++n] = k
		} else {
			nops[k] = $8; np99[k] = $11; seen[k] = 1
		}
	}
	END {
		printf "%-34s %10s %10s %8s %9s %9s %8s\n", "row", \
		    "old ops/s", "new ops/s", "change", "old p99", \
		    "new p99", "change"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (!(k in seen))
				continue
			printf "%-34s %10.1f %10.1f %8s %9.3f %9.3f %8s\n", \
			    k, ops[k], nops[k], pct(ops[k], nops[k]), \
			    p99[k], np99[k], pct(p99[k], np99[k])
		}
	}' "$1" "$2"
	exit 0
fi
[ $# -eq 0 ] || usage

# --- the cluster ----------------------------------------------------------

bin=$(cd "$build/bin" && pwd)
for p in pdd tikvd tikv-ctl tikv-bench; do
	[ -x "$bin/$p" ] || { echo "$me: no $bin/$p: run make" >&2; exit 1; }
done
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/tikv-bench.XXXXXX")
if [ -z "$port" ]; then
	port=$((30000 + $$ % 20000))
fi
pd=tcp://127.0.0.1:$port
pids=
ok=0

# SIGTERM, and SIGKILL for a daemon still there 20 s later.
stop() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || :
	done
	for p in $pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$p" 2>/dev/null; then
			echo "$me: pid $p still running 20 s after SIGTERM;" \
			    "SIGKILL" >&2
			kill -KILL "$p" 2>/dev/null || :
		fi
		wait "$p" 2>/dev/null || :
	done
	pids=
	if [ "$keep" -eq 0 ] && [ "$ok" -eq 1 ]; then
		rm -rf "$dir"
	else
		echo "$me: kept $dir" >&2
	fi
}
trap 'stop' EXIT
trap 'exit 1' INT TERM

# start NAME CMD...: run CMD with its log in $dir/NAME.log, wait for ready.
start() {
	name=$1
	shift
	"$@" >"$dir/$name.log" 2>&1 &
	pids="$pids $!"
	i=0
	until grep -q ready "$dir/$name.log"; do
		if ! kill -0 "$!" 2>/dev/null || [ $i -ge 100 ]; then
			echo "$me: $name did not start:" >&2
			cat "$dir/$name.log" >&2
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

say() {
	printf '%s\n' "$*" >&2
}

say "$me: cluster in $dir"
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
ctl="$bin/tikv-ctl --pd $pd"
i=0
until [ "$($ctl region 2>/dev/null | head -n 1 | grep -o ':v' |
    wc -l)" -ge 3 ]; do
	if [ $i -ge 300 ]; then
		echo "$me: the first region has no three voters after 30 s" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done

# --- the machine ----------------------------------------------------------

# 1000 appends of 4 KiB, each fdatasync'ed (O_DSYNC), where the stores
# keep their data.
say "$me: measuring fdatasync"
probe=$(LC_ALL=C dd if=/dev/zero of="$dir/fsync-probe" bs=4k count=1000 \
    oflag=dsync 2>&1 | awk '/copied/ { for (i = 1; i <= NF; i++)
	if ($(i + 1) ~ /^s,?$/) { print $i; exit } }')
rm -f "$dir/fsync-probe"
fsync_rate=$(awk -v s="$probe" 'BEGIN {
	if (s > 0) printf "%.0f", 1000 / s; else print "?" }')
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
fs=$(df -PT "$dir" | awk 'NR == 2 { print $2 " on " $1 }')
commit=$(git -C "$src" describe --always --dirty 2>/dev/null || echo unknown)

# --- the runs -------------------------------------------------------------

csv=$dir/results.csv
: >"$csv"
bench() {
	say "$me: tikv-bench $*"
	if ! "$bin/tikv-bench" --pd "$pd" -o csv -s 1 \
	    -p recordcount="$records" "$@" >"$dir/run.csv" 2>"$dir/run.err"
	then
		cat "$dir/run.err" >&2
		return 1
	fi
	sed 1d "$dir/run.csv" >>"$csv"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
bench -w A -c 64 -P 8 load
for w in A B C E; do
	for c in 1 16 64; do
		bench -w "$w" -c "$c" -d "$secs" -W "$warmup" run || :
	done
done
for w in A C; do
	bench -w "$w" -c 16 -P 16 -d "$secs" -W "$warmup" run || :
done
# The txn key space is apart from the raw one: it gets its own load.
bench -m txn -w A -c 64 -P 8 load
for w in A B C E; do
	for c in 1 16 64; do
		bench -m txn -w "$w" -c "$c" -d "$txn_secs" -W "$txn_warmup" \
		    run || :
	done
done
took=$(($(date +%s) - started))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report -----------------------------------------------------------

day=$(date +%Y-%m-%d)
report=$outdir/REPORT-$day.txt
n=2
while [ -e "$report" ]; do
	report=$outdir/REPORT-$day-$n.txt
	n=$((n + 1))
done
{
	echo "tikv-bench standard report, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "machine:   $(nproc) cores ($cpu), $mem memory"
	echo "kernel:    $(uname -sr)"
	echo "load avg:  $load_before before, $load_after after (other work" \
	    "on the machine skews the results)"
	echo "disk:      $fs; 4 KiB append + fdatasync: $fsync_rate/s" \
	    "(1000 in ${probe:-?} s, dd oflag=dsync)"
	echo "cluster:   pdd + 3 tikvd on loopback, default configs (fsync" \
	    "on) but raft tick 100 ms"
	echo "source:    $commit"
	echo "workloads: recordcount=$records fieldcount=10 fieldlength=100" \
	    "(1000-byte values), zipfian"
	echo "           (E: scans of 1 to 100 records)"
	echo "raw:       each run ${secs} s after ${warmup} s warm-up"
	echo "txn:       one transaction per operation (tikv-bench -m txn;" \
	    "load: 8 records"
	echo "           per transaction); each run ${txn_secs} s after" \
	    "${txn_warmup} s warm-up"
	echo "took:      ${took} s"
	echo
	echo "Latencies in milliseconds; depth: operations sent together" \
	    "(raw: commands per"
	echo "message; txn: operations per transaction)."
	for mode in raw txn; do
		echo
		echo "$mode mode:"
		echo
		awk -F, -v mode="$mode" '
		BEGIN {
			printf "%-5s %-8s %-4s %7s %5s %-17s %8s %9s %7s" \
			    " %7s %7s %8s %8s %6s\n", "phase", "workload",
			    "mode", "clients", "depth", "op", "count",
			    "ops/s", "p50", "p95", "p99", "p99.9", "max",
			    "errors"
		}
		$3 != mode || $6 ~ /^error:/ { next }
		{
			printf "%-5s %-8s %-4s %7d %5d %-17s %8d %9.1f" \
			    " %7.3f %7.3f %7.3f %8.3f %8.3f %6d\n", $1, $2,
			    $3, $4, $5, $6, $7, $8, $9 / 1000, $10 / 1000,
			    $11 / 1000, $12 / 1000, $13 / 1000, $14
		}' "$csv"
	done
	awk -F, '
	$6 ~ /^error:/ { err[++ne] = $0 }
	END {
		printf "\nerrors by kind:"
		if (ne == 0)
			printf " none"
		printf "\n"
		for (i = 1; i <= ne; i++) {
			split(err[i], f, ",")
			printf "  %s %s %s clients %s depth %s: %s %s\n",
			    f[1], f[2], f[3], f[4], f[5], substr(f[6], 7),
			    f[14]
		}
	}' "$csv"
	echo
	cat <<EOT
Limits of the test machines (DESIGN.md section 9), for comparison:
  append 4 KiB + fdatasync    ~3,300/s serial, p50 ~0.27 ms
  nng req/rep on loopback     7,300 rt/s one client (p50 0.14 ms);
                              26k-42k rt/s with 16-64 contexts
  etcd 3.4, 3 members         ~490 puts/s one client (p50 1.8 ms);
                              ~2,100 puts/s at 64 clients
EOT
} >"$report"
ok=1
cat "$report"
say "$me: wrote $report"
