# test-lib.sh: what every t/tNNNN-name.t sources, in the shape of git's.
#
#	#!/bin/sh
#	test_description='what this script covers'
#	. "$(dirname "$0")/test-lib.sh"
#
#	test_expect_success 'what it shows' '
#		cmd >actual &&
#		test_cmp expect actual
#	'
#	test_done
#
# Output is TAP for prove(1).  Each script runs in its own fresh trash
# directory, t/trash.<script>, removed when every test passed and kept
# otherwise.  Test bodies are eval'd in the script's own shell (no
# subshell: variables set in one test are seen by the next), with stdin
# from /dev/null and output to a log that is printed as "# " lines when
# the test fails, or always with -v.
#
# Options (prove t/tNNNN-name.t :: -v): -v/--verbose, -d/--debug (keep
# the trash directory), -i/--immediate (stop at the first failure), -x
# (trace test bodies into their logs), --no-chain-lint.
#
# Environment: TIKV_BUILD (build directory, default $TIKV_SRC/build; its
# bin/ and t/ come first on PATH), TEST_VERBOSE=1, TEST_TIMEOUT (seconds
# before the whole script is killed, default 600, 0 for none),
# TEST_DAEMON_WAIT (seconds to wait for a daemon's ready line or its
# exit, default 10), TIKV_SKIP_TESTS (patterns such as "t5001 t0003.4"),
# TEST_CHAIN_LINT=0.  A script may set TEST_TIMEOUT before sourcing.
#
# Helpers: test_expect_success, test_expect_failure, test_skip, skip_all,
# test_done; test_must_fail, test_might_fail, test_expect_code, test_cmp,
# test_line_count, test_path_is_file/_dir/_missing, test_wait_until,
# test_when_finished; test_set_prereq, test_have_prereq; for daemons
# test_free_port, test_daemon_start, test_daemon_stop, test_daemon_kill,
# test_daemon_restart, test_daemon_pid.  Each is described where defined.
#
# POSIX sh plus "local"; runs under dash and bash.

if test -z "$test_description"
then
	echo "error: $0: set test_description before sourcing test-lib.sh" >&2
	exit 1
fi

# TAP goes to fd 8 and diagnostics to fd 9, so that they reach prove even
# from inside a test body, whose stdout and stderr go to its log.
exec 8>&1 9>&2

test_lib_verbose=0
case ${TEST_VERBOSE:-0} in
0|'') ;;
*) test_lib_verbose=1 ;;
esac
test_lib_debug=0
test_lib_immediate=0
test_lib_trace=0
test_lib_chain_lint=${TEST_CHAIN_LINT:-1}
for test_lib_arg
do
	case $test_lib_arg in
	-v|--verbose)
		test_lib_verbose=1 ;;
	-d|--debug)
		test_lib_debug=1 ;;
	-i|--immediate)
		test_lib_immediate=1 ;;
	-x|--trace)
		test_lib_trace=1 ;;
	--chain-lint)
		test_lib_chain_lint=1 ;;
	--no-chain-lint)
		test_lib_chain_lint=0 ;;
	-h|--help)
		echo "$test_description"
		echo "usage: $0 [-dixv] [--no-chain-lint]"
		exit 0 ;;
	*)
		echo "error: $0: unknown option '$test_lib_arg'" >&2
		exit 1 ;;
	esac
done

this_test=${0##*/}
this_test=${this_test%.t}
test_lib_number=${this_test%%-*}

test_lib_cwd=$(pwd)
TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd) || exit 1
# A script outside t/ (the self-test writes some) finds the tree through
# the TIKV_SRC its parent exported.
if test -f "$TEST_DIRECTORY/test-lib.sh"
then
	TIKV_SRC=$(cd "$TEST_DIRECTORY/.." && pwd) || exit 1
elif test -z "$TIKV_SRC"
then
	echo "error: $0: not in t/ and TIKV_SRC is not set" >&2
	exit 1
fi
TIKV_BUILD=${TIKV_BUILD:-$TIKV_SRC/build}
case $TIKV_BUILD in
/*) ;;
*) TIKV_BUILD=$test_lib_cwd/$TIKV_BUILD ;;
esac
PATH=$TIKV_BUILD/bin:$TIKV_BUILD/t:$PATH
export TIKV_SRC TIKV_BUILD PATH

# Same messages and formats on every machine.
LC_ALL=C
LANG=C
TZ=UTC
export LC_ALL LANG TZ
unset CDPATH

# A sanitizer report must not look like an ordinary failure: exit 1 would
# satisfy test_must_fail.  Abort instead (status 134).  The caller's own
# options come last and win.
ASAN_OPTIONS="abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS

TEST_TIMEOUT=${TEST_TIMEOUT:-600}
TEST_DAEMON_WAIT=${TEST_DAEMON_WAIT:-10}

test_count=0
test_lib_passed=0
test_lib_failed=0
test_lib_fixed=0
test_lib_broken=0
test_lib_skipped=0
test_lib_done=
test_lib_in_test=
test_lib_exit_reason=
test_lib_watchdog_pid=
test_lib_prereqs=' '

TRASH_DIRECTORY=$TEST_DIRECTORY/trash.$this_test
test_lib_dir=$TRASH_DIRECTORY/.test-lib

# --- output ---------------------------------------------------------------

test_lib_say () {
	printf '%s\n' "$*" >&8
}

# Lines of stdin as TAP diagnostics on fd $1.
test_lib_diag () {
	sed 's/^/# /' >&"$1"
}

test_lib_error () {
	echo "error: $this_test: $*" >&9
	exit 1
}

test_lib_bug () {
	echo "error: $this_test: bug in the test script: $*" >&9
	exit 1
}

# --- exit, signals, timeout -----------------------------------------------

test_lib_at_exit () {
	test_lib_code=$?
	trap - EXIT
	if test -n "$test_lib_watchdog_pid"
	then
		{
			kill -KILL "$test_lib_watchdog_pid"
			wait "$test_lib_watchdog_pid"
		} 2>/dev/null
		test_lib_watchdog_pid=
	fi
	test_lib_kill_daemons
	if test "$test_lib_done" != 1
	then
		test_lib_reason=${test_lib_exit_reason:-"exited with status $test_lib_code before test_done"}
		test "$test_lib_code" = 0 && test_lib_code=1
		test_count=$((test_count + 1))
		test_lib_say "not ok $test_count - $this_test $test_lib_reason"
		test_lib_say "1..$test_count"
		echo "# $this_test $test_lib_reason; kept $TRASH_DIRECTORY" >&9
	elif test "$test_lib_code" = 0 && test "$test_lib_debug" = 0
	then
		cd "$TEST_DIRECTORY" && rm -rf "$TRASH_DIRECTORY"
	elif test "$test_lib_code" != 0
	then
		echo "# kept $TRASH_DIRECTORY" >&9
	fi
	exit "$test_lib_code"
}

test_lib_on_signal () {
	if test -f "$test_lib_dir/timed-out"
	then
		test_lib_exit_reason="timed out after $TEST_TIMEOUT s (TEST_TIMEOUT)"
	else
		test_lib_exit_reason="killed by SIG$1"
	fi
	exit "$2"
}

trap test_lib_at_exit EXIT
trap 'test_lib_on_signal HUP 129' HUP
trap 'test_lib_on_signal INT 130' INT
trap 'test_lib_on_signal TERM 143' TERM

# The watchdog sleeps TEST_TIMEOUT seconds, then terminates the test shell
# and everything below it.  Terminating the shell alone is not enough: it
# runs its trap only once the command it waits for returns, and a hung
# command would never return.  It sleeps a second at a time, so that
# SIGKILL (which cannot run a trap the child may still hold from us
# before its exec) ends it without leaving a long sleep behind.
test_lib_watchdog='
main=$1 secs=$2 marker=$3
n=0
while test "$n" -lt "$secs"
do
	sleep 1
	kill -0 "$main" 2>/dev/null || exit 0
	n=$((n + 1))
done
: >"$marker"
below () {
	awk -v main="$main" -v self="$$" "
	{
		s = \$0; sub(/.*\\) /, \"\", s); split(s, f, \" \")
		parent[\$1] = f[2]
	}
	END {
		want[main] = 1
		do {
			more = 0
			for (p in parent)
				if (!(p in want) && p != self && (parent[p] in want)) {
					want[p] = 1; more = 1
				}
		} while (more)
		for (p in want)
			if (p != main)
				print p
	}" /proc/[0-9]*/stat 2>/dev/null
}
pids=$(below)
kill -TERM "$main" $pids 2>/dev/null
sleep 2
pids=$(below)
test -n "$pids" && kill -KILL $pids 2>/dev/null
# The shell now runs its exit trap (stopping daemons, cleaning up), which
# on a loaded machine can take seconds: give it 30 before SIGKILL.
n=0
while test "$n" -lt 30 && kill -0 "$main" 2>/dev/null
do
	sleep 1
	n=$((n + 1))
done
kill -KILL "$main" 2>/dev/null
exit 0
'

test_lib_start_watchdog () {
	case $TEST_TIMEOUT in
	0)
		return 0 ;;
	''|*[!0-9]*)
		test_lib_error "TEST_TIMEOUT must be a number of seconds" ;;
	esac
	sh -c "$test_lib_watchdog" test-lib-watchdog "$$" "$TEST_TIMEOUT" \
	    "$test_lib_dir/timed-out" </dev/null >/dev/null 2>&1 8>&- 9>&- &
	test_lib_watchdog_pid=$!
}

# --- running tests --------------------------------------------------------

test_lib_fail_117 () {
	return 117
}

# Git's chain lint: prefixed with a command that fails, an unbroken
# &&-chain skips everything.  A broken one runs on (in a subshell) and
# the echo sees another status.  A test that breaks its chain passes
# whatever its middle commands do, so it is refused, not run.
test_lib_chain_ok () {
	test "$test_lib_chain_lint" = 1 || return 0
	test_lib_lint=$(eval "test_lib_fail_117 && $1
echo OK-\$? >&3" 3>&1 >/dev/null 2>&1 </dev/null)
	test "$test_lib_lint" = OK-117
}

test_lib_eval () {
	if test "$test_lib_trace" = 1
	then
		set -x
	fi
	eval "$1"
}

# Runs body $1 and its test_when_finished commands; sets test_lib_ret.
test_lib_run () {
	test_lib_log=$test_lib_dir/test-$test_count.log
	if ! test_lib_chain_ok "$1"
	then
		echo "test-lib: broken &&-chain, run-away here-document or" \
		    "syntax error in the test body; not run" >"$test_lib_log"
		test_lib_ret=1
		return
	fi
	test_lib_cleanup=:
	test_lib_cleanup_failed=0
	test_lib_in_test=1
	test_lib_eval "$1" >"$test_lib_log" 2>&1 </dev/null
	{ test_lib_ret=$?; set +x; } 2>/dev/null
	test_lib_in_test=
	eval "$test_lib_cleanup" >>"$test_lib_log" 2>&1 </dev/null
	if test "$test_lib_cleanup_failed" != 0 && test "$test_lib_ret" = 0
	then
		echo "test-lib: a test_when_finished command failed" \
		    >>"$test_lib_log"
		test_lib_ret=1
	fi
	cd "$TRASH_DIRECTORY" || test_lib_error "lost $TRASH_DIRECTORY"
}

# "#" would start a TAP directive in a description.
test_lib_tap_desc () {
	case $1 in
	*'#'*)
		printf '%s' "$1" | sed 's/#/\\#/g' ;;
	*)
		printf '%s' "$1" ;;
	esac
}

# Counts the test and says whether to run it (0) or skip it (1).
test_lib_start () {
	if test -n "$test_lib_in_test"
	then
		test_lib_bug "a test inside a test body"
	fi
	test_count=$((test_count + 1))
	test_lib_skip=
	for test_lib_pat in $TIKV_SKIP_TESTS
	do
		case $test_lib_number.$test_count in
		$test_lib_pat)
			test_lib_skip="TIKV_SKIP_TESTS" ;;
		esac
	done
	if test -z "$test_lib_skip" && test -n "$test_lib_prereq" &&
	    ! test_have_prereq "$test_lib_prereq"
	then
		test_lib_skip="missing $test_lib_prereq"
	fi
	if test -n "$test_lib_skip"
	then
		test_lib_say "ok $test_count - $(test_lib_tap_desc "$1")" \
		    "# skip $test_lib_skip"
		test_lib_skipped=$((test_lib_skipped + 1))
		return 1
	fi
	return 0
}

test_lib_show_log () {
	if test -s "$test_lib_log"
	then
		test_lib_diag "$1" <"$test_lib_log"
	fi
}

test_lib_args () {
	if test $# = 3
	then
		test_lib_prereq=$1
		test_lib_desc=$2
		test_lib_body=$3
	elif test $# = 2
	then
		test_lib_prereq=
		test_lib_desc=$1
		test_lib_body=$2
	else
		test_lib_bug "test_expect_*: want [prereq] 'what it shows' 'commands'"
	fi
}

test_expect_success () {
	test_lib_args "$@"
	test_lib_start "$test_lib_desc" || return 0
	test_lib_run "$test_lib_body"
	if test "$test_lib_ret" = 0
	then
		test_lib_passed=$((test_lib_passed + 1))
		test_lib_say "ok $test_count - $(test_lib_tap_desc "$test_lib_desc")"
		if test "$test_lib_verbose" = 1
		then
			test_lib_show_log 8
		fi
	else
		test_lib_failed=$((test_lib_failed + 1))
		test_lib_say "not ok $test_count -" \
		    "$(test_lib_tap_desc "$test_lib_desc")"
		{
			echo "failed test $test_count: $test_lib_desc"
			printf '%s\n' "$test_lib_body" | sed 's/^/	/'
			echo "output:"
		} | test_lib_diag 9
		test_lib_show_log 9
		if test "$test_lib_immediate" = 1
		then
			test_lib_say "1..$test_count"
			test_lib_done=1
			exit 1
		fi
	fi
}

# A known breakage: TODO in TAP, so it does not fail the run.
test_expect_failure () {
	test_lib_args "$@"
	test_lib_start "$test_lib_desc" || return 0
	test_lib_run "$test_lib_body"
	if test "$test_lib_ret" = 0
	then
		test_lib_fixed=$((test_lib_fixed + 1))
		test_lib_say "ok $test_count -" \
		    "$(test_lib_tap_desc "$test_lib_desc") # TODO known breakage vanished"
	else
		test_lib_broken=$((test_lib_broken + 1))
		test_lib_say "not ok $test_count -" \
		    "$(test_lib_tap_desc "$test_lib_desc") # TODO known breakage"
	fi
	if test "$test_lib_verbose" = 1
	then
		test_lib_show_log 8
	fi
}

# test_skip 'what it would show' 'why'
test_skip () {
	test_count=$((test_count + 1))
	test_lib_skipped=$((test_lib_skipped + 1))
	test_lib_say "ok $test_count - $(test_lib_tap_desc "$1") # skip ${2:-skipped}"
}

test_done () {
	if test -n "$skip_all" && test "$test_count" = 0
	then
		test_lib_say "1..0 # SKIP $skip_all"
		test_lib_done=1
		exit 0
	fi
	if test -n "$skip_all"
	then
		test_lib_say "# skipped the rest: $skip_all"
	fi
	if test "$test_lib_fixed" != 0
	then
		test_lib_say "# $test_lib_fixed known breakage(s) vanished;" \
		    "make them test_expect_success"
	fi
	if test "$test_lib_broken" != 0
	then
		test_lib_say "# still have $test_lib_broken known breakage(s)"
	fi
	test_lib_say "1..$test_count"
	test_lib_done=1
	if test "$test_lib_failed" != 0
	then
		echo "# failed $test_lib_failed among $test_count test(s)" >&9
		exit 1
	fi
	exit 0
}

# --- prerequisites --------------------------------------------------------

test_set_prereq () {
	test_lib_prereqs="$test_lib_prereqs$1 "
}

# test_have_prereq A,!B: true when A is set and B is not.
test_have_prereq () {
	local p neg
	for p in $(printf '%s\n' "$1" | tr ',' ' ')
	do
		neg=
		case $p in
		!*)
			neg=1
			p=${p#!} ;;
		esac
		case $test_lib_prereqs in
		*" $p "*)
			test -z "$neg" || return 1 ;;
		*)
			test -n "$neg" || return 1 ;;
		esac
	done
	return 0
}

# --- assertions -----------------------------------------------------------

# test_must_fail cmd...: cmd fails the ordinary way.  A death by signal
# (a crash, an abort from a sanitizer), a missing or unexecutable command
# is not the failure a test expects.
test_must_fail () {
	"$@"
	test_lib_status=$?
	if test "$test_lib_status" = 0
	then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif test "$test_lib_status" -gt 128
	then
		echo "test_must_fail: died by signal $((test_lib_status - 128)): $*" >&2
		return 1
	elif test "$test_lib_status" = 127
	then
		echo "test_must_fail: command not found: $*" >&2
		return 1
	elif test "$test_lib_status" = 126
	then
		echo "test_must_fail: cannot execute: $*" >&2
		return 1
	fi
	return 0
}

# test_might_fail cmd...: either way, but not by a crash.
test_might_fail () {
	"$@"
	test_lib_status=$?
	if test "$test_lib_status" -gt 128 || test "$test_lib_status" = 127
	then
		echo "test_might_fail: exit status $test_lib_status: $*" >&2
		return 1
	fi
	return 0
}

# test_expect_code N cmd...: cmd exits with status N exactly.
test_expect_code () {
	test_lib_want=$1
	shift
	"$@"
	test_lib_status=$?
	if test "$test_lib_status" != "$test_lib_want"
	then
		echo "test_expect_code: exit status $test_lib_status," \
		    "wanted $test_lib_want: $*" >&2
		return 1
	fi
	return 0
}

test_cmp () {
	diff -u "$@"
}

# test_line_count = 3 file (or -lt, -ge, ...)
test_line_count () {
	if test $# != 3
	then
		test_lib_bug "test_line_count wants: op count file"
	fi
	if ! test -f "$3"
	then
		echo "test_line_count: no file '$3'" >&2
		return 1
	fi
	test_lib_lines=$(($(wc -l <"$3")))
	if ! test "$test_lib_lines" "$1" "$2"
	then
		echo "test_line_count: '$3' has $test_lib_lines line(s)," \
		    "wanted $1 $2:" >&2
		sed 's/^/| /' "$3" >&2
		return 1
	fi
}

test_path_is_file () {
	test -f "$1" || { echo "test_path_is_file: no file '$1'" >&2; return 1; }
}

test_path_is_dir () {
	test -d "$1" || { echo "test_path_is_dir: no directory '$1'" >&2; return 1; }
}

test_path_is_missing () {
	if test -e "$1" || test -L "$1"
	then
		echo "test_path_is_missing: '$1' exists" >&2
		return 1
	fi
}

# test_wait_until SECONDS 'commands': poll every 0.1 s until the commands
# succeed; fail after SECONDS.  For conditions that become true, never for
# asserting how fast.
test_wait_until () {
	local deadline
	deadline=$(($(date +%s) + $1))
	while ! eval "$2"
	do
		if test "$(date +%s)" -ge "$deadline"
		then
			echo "test_wait_until: still false after $1 s: $2" >&2
			return 1
		fi
		sleep 0.1
	done
}

# The pid of the shell that runs this, subshell or not.  Only as
# "$(test_lib_shell_pid)": the exec replaces the command substitution's
# process, so the parent it reports is the shell that asked.
test_lib_shell_pid () {
	# shellcheck disable=SC2016
	exec sh -c 'echo $PPID'
}

# test_when_finished 'commands': run after this test's body, pass or
# fail, latest first; if one fails, the test fails.
test_when_finished () {
	if test -z "$test_lib_in_test" || test "$(test_lib_shell_pid)" != "$$"
	then
		test_lib_bug "test_when_finished outside a test body or in a subshell"
	fi
	test_lib_cleanup="{ $*
} || test_lib_cleanup_failed=1
$test_lib_cleanup"
}

# --- daemons --------------------------------------------------------------
#
# State: NAME.log and NAME.pid in the trash directory; in .test-lib/,
# NAME.cmd (the command, quoted, @PORT@ unreplaced), NAME.port, and the
# list "daemons" of "name pid starttime" that the exit handler kills.

test_lib_quote () {
	case $1 in
	*\'*)
		printf "'%s'" "$(printf '%s\n' "$1" | sed "s/'/'\\\\''/g")" ;;
	*)
		printf "'%s'" "$1" ;;
	esac
}

# Start time of a process (field 22 of /proc/PID/stat), so that a pid the
# kernel has given to someone else is never killed.
test_lib_starttime () {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	shift 19
	echo "$1"
}

test_lib_registry_del () {
	local list="$test_lib_dir/daemons"
	if test -f "$list"
	then
		grep -v "^$1 " "$list" >"$list.new"
		mv "$list.new" "$list"
	fi
}

test_lib_kill_daemons () {
	local list="$test_lib_dir/daemons" name pid start
	test -f "$list" || return 0
	while read -r name pid start
	do
		if test -n "$start" &&
		    test "$(test_lib_starttime "$pid")" != "$start"
		then
			continue
		fi
		kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done <"$list"
	rm -f "$list"
}

test_lib_now () {
	date +%s
}

# test_free_port: a loopback TCP port that no socket uses and that this
# script has not handed out before.
test_free_port () {
	local n p hex
	n=0
	while test "$n" -lt 100
	do
		n=$((n + 1))
		p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + p % 40000))
		if grep -qx "$p" "$test_lib_dir/ports" 2>/dev/null
		then
			continue
		fi
		if command -v ss >/dev/null
		then
			test -z "$(ss -tanH "sport = :$p" 2>/dev/null)" || continue
		else
			hex=$(printf ':%04X ' "$p")
			! grep -q "$hex" /proc/net/tcp /proc/net/tcp6 \
			    2>/dev/null || continue
		fi
		echo "$p" >>"$test_lib_dir/ports"
		echo "$p"
		return 0
	done
	echo "test_free_port: no free port found" >&2
	return 1
}

test_lib_check_name () {
	case $1 in
	''|[0-9]*|*[!A-Za-z0-9_]*)
		echo "$2: bad daemon name '$1' (letters, digits, _)" >&2
		return 1 ;;
	esac
}

# Waits for "ready" in the log past byte $4.  0: ready; 1: failed (log
# shown); 2: the port was taken (the daemon is gone).
test_lib_wait_ready () {
	local name="$1" pid="$2" log="$3" off="$4" port="$5" deadline new status
	deadline=$(($(test_lib_now) + TEST_DAEMON_WAIT))
	while :
	do
		new=$(tail -c +$((off + 1)) "$log" 2>/dev/null)
		case $new in
		*[Aa]"ddress in use"*|*[Aa]"ddress already in use"*)
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 2 ;;
		esac
		if printf '%s\n' "$new" | grep -qw ready
		then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null
		then
			wait "$pid"
			status=$?
			new=$(tail -c +$((off + 1)) "$log" 2>/dev/null)
			case $new in
			*"$port"*)
				return 2 ;;
			esac
			echo "test_daemon_start: $name (pid $pid) exited with" \
			    "status $status before it was ready; $name.log:" >&2
			break
		fi
		if test "$(test_lib_now)" -ge "$deadline"
		then
			echo "test_daemon_start: $name (pid $pid) not ready after" \
			    "$TEST_DAEMON_WAIT s (TEST_DAEMON_WAIT); $name.log:" >&2
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	sed 's/^/| /' "$log" >&2
	return 1
}

# test_lib_launch NAME [PORT]: run NAME.cmd with @PORT@ replaced by PORT
# or by fresh ports (retried when taken), until it is ready.
test_lib_launch () {
	local name="$1" fixed="$2" cmd run port log off pid tries rc
	cmd=$(cat "$test_lib_dir/$name.cmd") || return 1
	log=$TRASH_DIRECTORY/$name.log
	tries=0
	while :
	do
		if test -n "$fixed"
		then
			port=$fixed
		else
			port=$(test_free_port) || return 1
		fi
		run=$cmd
		while :
		do
			case $run in
			*@PORT@*)
				run=${run%%@PORT@*}$port${run#*@PORT@} ;;
			*)
				break ;;
			esac
		done
		echo "$port" >"$test_lib_dir/$name.port"
		eval "${name}_port=\$port ${name}_addr=tcp://127.0.0.1:\$port"
		eval "export ${name}_port ${name}_addr"
		off=0
		if test -f "$log"
		then
			off=$(($(wc -c <"$log")))
		fi
		(cd "$TRASH_DIRECTORY" && eval "exec $run") \
		    </dev/null >>"$log" 2>&1 8>&- 9>&- &
		pid=$!
		echo "$pid" >"$TRASH_DIRECTORY/$name.pid"
		echo "$name $pid $(test_lib_starttime "$pid")" \
		    >>"$test_lib_dir/daemons"
		test_lib_wait_ready "$name" "$pid" "$log" "$off" "$port"
		rc=$?
		test "$rc" = 0 && return 0
		test_lib_registry_del "$name"
		rm -f "$TRASH_DIRECTORY/$name.pid"
		test "$rc" = 2 || return 1
		tries=$((tries + 1))
		case $cmd in
		*@PORT@*) ;;
		*)
			tries=99 ;;
		esac
		if test "$tries" -gt 3
		then
			echo "test_daemon_start: $name: giving up after" \
			    "$tries tries: port taken, or an early exit" \
			    "naming the port; $name.log:" >&2
			sed 's/^/| /' "$log" >&2
			return 1
		fi
		echo "test_daemon_start: $name: port $port taken, retrying" >&2
		if test -n "$fixed"
		then
			sleep 1
		fi
	done
}

# test_daemon_start NAME CMD ARGS...: start CMD in the trash directory,
# output to NAME.log, with @PORT@ in ARGS replaced by a free port (set in
# NAME_port, with NAME_addr=tcp://127.0.0.1:PORT); wait for its ready
# line.  Call it from the test's shell, not a subshell, so that
# test_daemon_stop can learn the exit status.
test_daemon_start () {
	local name="$1" cmd w
	test_lib_check_name "$name" test_daemon_start || return 1
	if test $# -lt 2
	then
		test_lib_bug "test_daemon_start wants: NAME CMD [ARGS...]"
	fi
	shift
	if test "$(test_lib_shell_pid)" != "$$"
	then
		echo "test_daemon_start: $name: called in a subshell" >&2
		return 1
	fi
	if test -f "$TRASH_DIRECTORY/$name.pid"
	then
		echo "test_daemon_start: $name already started" >&2
		return 1
	fi
	cmd=
	for w
	do
		cmd="$cmd $(test_lib_quote "$w")"
	done
	printf '%s\n' "$cmd" >"$test_lib_dir/$name.cmd"
	test_lib_launch "$name" ""
}

# test_daemon_pid NAME: the pid of a started daemon.
test_daemon_pid () {
	if ! test -f "$TRASH_DIRECTORY/$1.pid"
	then
		echo "test_daemon_pid: $1 is not running" >&2
		return 1
	fi
	cat "$TRASH_DIRECTORY/$1.pid"
}

# test_daemon_stop NAME: SIGTERM, then SIGKILL after TEST_DAEMON_WAIT s.
# Returns the daemon's exit status: 0 for a clean exit.
test_daemon_stop () {
	local name="$1" pid deadline status
	pid=$(test_daemon_pid "$name") || return 1
	kill -TERM "$pid" 2>/dev/null
	deadline=$(($(test_lib_now) + TEST_DAEMON_WAIT))
	while kill -0 "$pid" 2>/dev/null
	do
		if test "$(test_lib_now)" -ge "$deadline"
		then
			echo "test_daemon_stop: $name (pid $pid) still running" \
			    "$TEST_DAEMON_WAIT s after SIGTERM; SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null
	status=$?
	test_lib_registry_del "$name"
	rm -f "$TRASH_DIRECTORY/$name.pid"
	if test "$status" != 0
	then
		echo "test_daemon_stop: $name (pid $pid) exit status $status" >&2
	fi
	return "$status"
}

# test_daemon_kill NAME: SIGKILL, as a crash would.
test_daemon_kill () {
	local name="$1" pid
	pid=$(test_daemon_pid "$name") || return 1
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	test_lib_registry_del "$name"
	rm -f "$TRASH_DIRECTORY/$name.pid"
	return 0
}

# test_daemon_restart NAME: stop NAME if it runs, start it again with the
# same command and port (its log grows), wait for ready.
test_daemon_restart () {
	local name="$1" port
	test_lib_check_name "$name" test_daemon_restart || return 1
	if ! test -f "$test_lib_dir/$name.cmd"
	then
		echo "test_daemon_restart: $name was never started" >&2
		return 1
	fi
	if test -f "$TRASH_DIRECTORY/$name.pid"
	then
		test_daemon_stop "$name"
	fi
	port=$(cat "$test_lib_dir/$name.port")
	test_lib_launch "$name" "$port"
}

# --- setup ----------------------------------------------------------------

if test "$(id -u)" = 0
then
	test_set_prereq ROOT
fi
for test_lib_prog in mandoc nngcat
do
	if command -v "$test_lib_prog" >/dev/null
	then
		test_set_prereq "$(printf '%s' "$test_lib_prog" | tr a-z A-Z)"
	fi
done

case $TRASH_DIRECTORY in
*/trash.?*) ;;
*) test_lib_error "odd trash directory '$TRASH_DIRECTORY'" ;;
esac
rm -rf "$TRASH_DIRECTORY" ||
	test_lib_error "cannot remove the old $TRASH_DIRECTORY"
mkdir -p "$test_lib_dir" || test_lib_error "cannot make $test_lib_dir"
cd "$TRASH_DIRECTORY" || test_lib_error "cannot enter $TRASH_DIRECTORY"
HOME=$TRASH_DIRECTORY
export HOME

test_lib_start_watchdog

for test_lib_pat in $TIKV_SKIP_TESTS
do
	case $test_lib_number in
	$test_lib_pat)
		skip_all="skipped by TIKV_SKIP_TESTS"
		test_done ;;
	esac
done
