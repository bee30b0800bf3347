#!/bin/sh
test_description='test-lib.sh itself: assertions, cleanup, daemon helpers, check-synopsis.sh'
. "$(dirname "$0")/test-lib.sh"

# Nested scripts run in this trash directory and find test-lib.sh through
# the exported TIKV_SRC.  TEST_SHELL picks their shell (default sh).
write_script () {
	{
		echo '#!/bin/sh'
		echo "test_description='nested $1'"
		echo '. "$TIKV_SRC/t/test-lib.sh"'
		cat
	} >"$1.t"
}

# run_script NAME [ARGS]: run NAME.t, TAP to NAME.out, stderr to NAME.err.
run_script () {
	run_script_name=$1
	shift
	TEST_VERBOSE= TIKV_SKIP_TESTS= TEST_TIMEOUT= \
	    ${TEST_SHELL:-sh} "$run_script_name.t" "$@" \
	    >"$run_script_name.out" 2>"$run_script_name.err"
}

test_expect_success 'a test passes, and its variables reach the next' '
	seen_by_next=yes &&
	test "$(pwd)" = "$TRASH_DIRECTORY"
'

test_expect_success 'test bodies run in the script shell, not a subshell' '
	test "$seen_by_next" = yes
'

test_expect_success 'the environment points at the tree and the build' '
	test -f "$TIKV_SRC/t/test-lib.sh" &&
	case $PATH in
	"$TIKV_BUILD/bin:"*) ;;
	*) false ;;
	esac &&
	test "$HOME" = "$TRASH_DIRECTORY"
'

test_expect_success 'test_must_fail passes on exit 1 and 2' '
	test_must_fail sh -c "exit 1" &&
	test_must_fail sh -c "exit 2"
'

test_expect_success 'test_must_fail fails on success, a signal, a missing command' '
	! test_must_fail true 2>err &&
	grep "command succeeded" err &&
	! test_must_fail sh -c "kill -SEGV \$\$" 2>err &&
	grep "died by signal 11" err &&
	! test_must_fail sh -c "exit 129" 2>err &&
	! test_must_fail no-such-command-anywhere 2>err &&
	grep "command not found" err
'

test_expect_success 'a crash under test_must_fail fails the test in a script' '
	write_script must-fail <<-\EOF &&
	test_expect_success "exit 1" "test_must_fail sh -c \"exit 1\""
	test_expect_success "crash" "test_must_fail sh -c \"kill -ABRT \\\$\\\$\""
	test_done
	EOF
	test_expect_code 1 run_script must-fail &&
	grep "^ok 1 - exit 1\$" must-fail.out &&
	grep "^not ok 2 - crash\$" must-fail.out &&
	grep "died by signal 6" must-fail.err
'

test_expect_success 'test_might_fail and test_expect_code' '
	test_might_fail false &&
	test_might_fail true &&
	! test_might_fail sh -c "kill -KILL \$\$" &&
	test_expect_code 2 sh -c "exit 2" &&
	! test_expect_code 2 sh -c "exit 1" 2>err &&
	grep "exit status 1, wanted 2" err
'

test_expect_success 'test_cmp passes on equal files and shows a diff otherwise' '
	printf "a\nb\n" >expect &&
	printf "a\nb\n" >actual &&
	test_cmp expect actual &&
	printf "a\nc\n" >actual &&
	! test_cmp expect actual >out &&
	grep "^-b\$" out &&
	grep "^+c\$" out
'

test_expect_success 'test_line_count' '
	printf "1\n2\n3\n" >three &&
	test_line_count = 3 three &&
	test_line_count -gt 2 three &&
	! test_line_count = 2 three 2>err &&
	grep "has 3 line(s), wanted = 2" err &&
	! test_line_count = 0 missing-file 2>err
'

test_expect_success 'test_path_is_* helpers' '
	test_path_is_file three &&
	test_path_is_dir . &&
	test_path_is_missing nothing-here &&
	! test_path_is_file nothing-here 2>err &&
	! test_path_is_missing three 2>err
'

test_expect_success 'test_when_finished runs after the body' '
	test_when_finished "rm -f finish-me" &&
	: >finish-me &&
	test_path_is_file finish-me
'

test_expect_success 'the finished command ran' '
	test_path_is_missing finish-me
'

test_expect_success 'test_when_finished runs after a failure, latest first' '
	write_script finished <<-\EOF &&
	test_expect_success "fails" "
		test_when_finished \"echo first >>order\" &&
		test_when_finished \"echo second >>order\" &&
		false
	"
	test_expect_success "cleanup failure fails" "
		test_when_finished false &&
		true
	"
	test_done
	EOF
	test_expect_code 1 run_script finished &&
	printf "second\nfirst\n" >expect &&
	test_cmp expect trash.finished/order &&
	grep "^not ok 1 - fails\$" finished.out &&
	grep "^not ok 2 - cleanup failure fails\$" finished.out
'

test_expect_success 'a failing script says why, exits 1, keeps its trash' '
	write_script failing <<-\EOF &&
	test_expect_success "passes" "true"
	test_expect_success "fails" "echo some-output && false"
	test_done
	EOF
	test_expect_code 1 run_script failing &&
	printf "ok 1 - passes\nnot ok 2 - fails\n1..2\n" >expect &&
	test_cmp expect failing.out &&
	grep "^# 	echo some-output && false" failing.err &&
	grep "^# some-output\$" failing.err &&
	grep "^# failed 1 among 2" failing.err &&
	test_path_is_dir trash.failing
'

test_expect_success 'a passing script exits 0 and removes its trash' '
	write_script passing <<-\EOF &&
	test_expect_success "passes" "echo hidden-output"
	test_done
	EOF
	run_script passing &&
	printf "ok 1 - passes\n1..1\n" >expect &&
	test_cmp expect passing.out &&
	test_path_is_missing trash.passing &&
	! grep hidden-output passing.err
'

test_expect_success '-v shows the output of passing tests' '
	run_script passing -v &&
	grep "^# hidden-output\$" passing.out
'

test_expect_success 'test_expect_failure is TODO; a vanished breakage is said' '
	write_script todo <<-\EOF &&
	test_expect_failure "still broken" "false"
	test_expect_failure "now works" "true"
	test_done
	EOF
	run_script todo &&
	grep "^not ok 1 - still broken # TODO known breakage\$" todo.out &&
	grep "^ok 2 - now works # TODO known breakage vanished\$" todo.out &&
	grep "1 known breakage(s) vanished" todo.out
'

test_expect_success 'skip_all, test_skip, prerequisites, TIKV_SKIP_TESTS' '
	write_script skipall <<-\EOF &&
	skip_all="no widget here"
	test_done
	EOF
	run_script skipall &&
	echo "1..0 # SKIP no widget here" >expect &&
	test_cmp expect skipall.out &&
	write_script t9999-skips <<-\EOF &&
	test_set_prereq HAVE
	test_skip "one" "why not"
	test_expect_success MISSING "two" "false"
	test_expect_success HAVE,!MISSING "three" "true"
	test_expect_success "four" "false"
	test_done
	EOF
	TIKV_SKIP_TESTS="t9999.4" ${TEST_SHELL:-sh} t9999-skips.t >skips.out &&
	cat >expect <<-\EOF &&
	ok 1 - one # skip why not
	ok 2 - two # skip missing MISSING
	ok 3 - three
	ok 4 - four # skip TIKV_SKIP_TESTS
	1..4
	EOF
	test_cmp expect skips.out
'

# The lint runs what follows the break, in a subshell, as git's did; the
# test proper is not run.
test_expect_success 'a broken &&-chain is refused, not run' '
	write_script chain <<-\EOF &&
	test_expect_success "broken" "
		false
		echo once >>ran
	"
	test_done
	EOF
	test_expect_code 1 run_script chain &&
	grep "^not ok 1 - broken\$" chain.out &&
	grep "broken &&-chain" chain.err &&
	test_line_count = 1 trash.chain/ran
'

test_expect_success 'leaving before test_done is a failure' '
	write_script early <<-\EOF &&
	test_expect_success "passes" "true"
	exit 0
	EOF
	test_expect_code 1 run_script early &&
	grep "^not ok 2 - early exited with status 0 before test_done" early.out &&
	grep "^1..2\$" early.out
'

test_expect_success 'test_free_port gives an unused port in range' '
	port=$(test_free_port) &&
	test "$port" -ge 20000 &&
	test "$port" -le 59999 &&
	test -z "$(ss -tanH "sport = :$port")" &&
	other=$(test_free_port) &&
	test "$port" != "$other"
'

# A daemon as the helpers expect one: "ready" on stderr when it serves, a
# clean exit on SIGTERM.  Options: -p port, -s status on SIGTERM, -i
# ignore SIGTERM, -n never ready, -x exit at once, -b say the port is
# taken the first time (counting in file busy-count).
test_expect_success 'set up a fake daemon' '
	cat >faked <<-\EOF &&
	#!/bin/sh
	port= status=0 ignore= never= early= busy=
	while getopts bp:s:inx o
	do
		case $o in
		b) busy=1 ;;
		i) ignore=1 ;;
		n) never=1 ;;
		p) port=$OPTARG ;;
		s) status=$OPTARG ;;
		x) early=1 ;;
		*) exit 2 ;;
		esac
	done
	echo "faked: listening on tcp://127.0.0.1:$port" >&2
	if test -n "$early"
	then
		echo "faked: cannot open '"'"'faked.toml'"'"'" >&2
		exit 1
	fi
	if test -n "$busy" && ! test -f busy-count
	then
		echo 1 >busy-count
		echo "faked: tcp://127.0.0.1:$port: Address in use" >&2
		exit 1
	fi
	if test -n "$ignore"
	then
		trap "" TERM
	else
		trap "echo faked: terminated >&2; exit $status" TERM
	fi
	test -n "$never" || echo "faked: ready" >&2
	while :
	do
		sleep 0.2
	done
	EOF
	chmod +x faked &&
	FAKED=$TRASH_DIRECTORY/faked &&
	export FAKED
'

test_expect_success 'test_daemon_start waits for ready; test_daemon_stop ends it' '
	test_daemon_start d1 "$FAKED" -p @PORT@ &&
	test "$d1_addr" = "tcp://127.0.0.1:$d1_port" &&
	grep "listening on tcp://127.0.0.1:$d1_port\$" d1.log &&
	grep -w ready d1.log &&
	pid=$(test_daemon_pid d1) &&
	test "$pid" = "$(cat d1.pid)" &&
	kill -0 "$pid" &&
	test_daemon_stop d1 &&
	grep terminated d1.log &&
	! kill -0 "$pid" 2>/dev/null &&
	test_path_is_missing d1.pid &&
	test_must_fail test_daemon_pid d1 2>err
'

test_expect_success 'test_daemon_stop returns the exit status' '
	test_daemon_start d2 "$FAKED" -s 3 &&
	test_expect_code 3 test_daemon_stop d2
'

test_expect_success 'a daemon deaf to SIGTERM gets SIGKILL' '
	test_when_finished "TEST_DAEMON_WAIT=10" &&
	TEST_DAEMON_WAIT=1 &&
	test_daemon_start d3 "$FAKED" -i &&
	pid=$(test_daemon_pid d3) &&
	test_expect_code 137 test_daemon_stop d3 2>err &&
	grep "SIGKILL" err &&
	! kill -0 "$pid" 2>/dev/null
'

test_expect_success 'test_daemon_restart: same port, the log grows' '
	test_daemon_start d4 "$FAKED" -p @PORT@ &&
	port=$d4_port &&
	test_daemon_restart d4 &&
	test "$d4_port" = "$port" &&
	test_daemon_kill d4 &&
	test_daemon_restart d4 &&
	test "$d4_port" = "$port" &&
	grep -c "listening on tcp://127.0.0.1:$port\$" d4.log >count &&
	echo 3 >expect &&
	test_cmp expect count &&
	test_daemon_stop d4
'

test_expect_success 'test_daemon_kill leaves no process' '
	test_daemon_start d5 "$FAKED" &&
	pid=$(test_daemon_pid d5) &&
	test_daemon_kill d5 &&
	! kill -0 "$pid" 2>/dev/null &&
	test_must_fail test_daemon_stop d5 2>err
'

test_expect_success 'a daemon never ready fails the start after TEST_DAEMON_WAIT' '
	test_when_finished "TEST_DAEMON_WAIT=10" &&
	TEST_DAEMON_WAIT=1 &&
	! test_daemon_start d6 "$FAKED" -n 2>err &&
	grep "not ready after 1 s" err &&
	grep "^| faked: listening" err &&
	test_path_is_missing d6.pid &&
	! grep d6 .test-lib/daemons
'

test_expect_success 'a daemon that exits early fails the start with its log' '
	! test_daemon_start d7 "$FAKED" -x 2>err &&
	grep "exited with status 1 before it was ready" err &&
	grep "^| faked: cannot open .faked.toml." err
'

test_expect_success 'a taken port is retried with another' '
	test_daemon_start d8 "$FAKED" -b -p @PORT@ 2>err &&
	grep "port .* taken, retrying" err &&
	grep "Address in use" d8.log &&
	grep "listening" d8.log | sed "s/.*://" >ports &&
	test_line_count = 2 ports &&
	test "$(sed -n 2p ports)" = "$d8_port" &&
	test "$(sed -n 1p ports)" != "$d8_port" &&
	test_daemon_stop d8
'

test_expect_success 'test_daemon_start refuses a subshell and a bad name' '
	! (test_daemon_start d9 "$FAKED") 2>err &&
	grep "subshell" err &&
	! test_daemon_start d-9 "$FAKED" 2>err &&
	grep "bad daemon name" err
'

test_expect_success 'daemons left running are killed at exit' '
	write_script leave <<-\EOF &&
	test_expect_success "start and leave" "
		test_daemon_start left \"\$FAKED\" &&
		test_daemon_pid left >../left.pid
	"
	test_done
	EOF
	run_script leave &&
	pid=$(cat left.pid) &&
	! kill -0 "$pid" 2>/dev/null
'

test_expect_success 'daemons are killed when the script dies of a signal' '
	write_script signalled <<-\EOF &&
	test_expect_success "start and hang" "
		test_daemon_start left \"\$FAKED\" &&
		test_daemon_pid left >../signalled.pid &&
		while :; do sleep 0.1; done
	"
	test_done
	EOF
	{
		TEST_VERBOSE= TIKV_SKIP_TESTS= ${TEST_SHELL:-sh} signalled.t \
		    >signalled.out 2>signalled.err &
	} &&
	script=$! &&
	test_wait_until 20 "test -s signalled.pid" &&
	kill -TERM "$script" &&
	test_expect_code 143 wait "$script" &&
	! kill -0 "$(cat signalled.pid)" 2>/dev/null &&
	grep "^not ok 2 - signalled killed by SIGTERM" signalled.out
'

test_expect_success 'TEST_TIMEOUT ends a hung script and what it started' '
	write_script hung <<-\EOF &&
	test_expect_success "start and hang" "
		test_daemon_start left \"\$FAKED\" &&
		test_daemon_pid left >../hung-daemon.pid &&
		sh -c \"echo \\\$\\\$ >../hung-cmd.pid; exec sleep 300\"
	"
	test_done
	EOF
	test_expect_code 143 env TEST_VERBOSE= TEST_TIMEOUT=2 \
	    timeout 60 ${TEST_SHELL:-sh} hung.t >hung.out 2>hung.err &&
	grep "^not ok 2 - hung timed out after 2 s" hung.out &&
	! kill -0 "$(cat hung-daemon.pid)" 2>/dev/null &&
	! kill -0 "$(cat hung-cmd.pid)" 2>/dev/null
'

test_expect_success MANDOC 'set up a fake page and programs for check-synopsis' '
	mkdir -p syn/man syn/build/bin &&
	cat >syn/man/fakectl.8 <<-\EOF &&
	.Dd $Mdocdate$
	.Dt FAKECTL 8
	.Os
	.Sh NAME
	.Nm fakectl
	.Nd control a fake
	.Sh SYNOPSIS
	.Nm fakectl
	.Op Fl jv
	.Op Fl -pd Ar addr
	.Ar command
	.Op Ar arg ...
	.Nm fakectl
	.Fl h
	.Sh DESCRIPTION
	Nothing.
	EOF
	cp syn/man/fakectl.8 syn/man/unbuilt.8 &&
	cat >syn/build/bin/fakectl <<-\EOF &&
	#!/bin/sh
	echo "usage: fakectl [-jv] [--pd addr] command [arg ...]" >&2
	echo "       fakectl -h" >&2
	echo >&2
	echo "commands: ping tso" >&2
	exit 2
	EOF
	chmod +x syn/build/bin/fakectl
'

test_expect_success MANDOC 'check-synopsis passes when usage matches' '
	TIKV_BUILD=$TRASH_DIRECTORY/syn/build \
	    sh "$TIKV_SRC/t/check-synopsis.sh" syn/man >out 2>err &&
	grep "fakectl: usage matches the SYNOPSIS of fakectl.8" out &&
	grep "unbuilt: not built, skipped" out &&
	grep "1 program(s) checked" out
'

test_expect_success MANDOC 'check-synopsis fails with a diff when they differ' '
	sed "s/-jv/-v/" syn/build/bin/fakectl >fakectl.new &&
	cat fakectl.new >syn/build/bin/fakectl &&
	test_expect_code 1 env TIKV_BUILD="$TRASH_DIRECTORY/syn/build" \
	    sh "$TIKV_SRC/t/check-synopsis.sh" syn/man >out 2>err &&
	grep "fakectl: usage differs from the SYNOPSIS of fakectl.8" err &&
	grep "^ *-\[-jv\]\$" err &&
	grep "^ *+\[-v\]\$" err
'

test_expect_success MANDOC 'check-synopsis fails when there is no usage line' '
	printf "#!/bin/sh\necho hello\n" >syn/build/bin/fakectl &&
	test_expect_code 1 env TIKV_BUILD="$TRASH_DIRECTORY/syn/build" \
	    sh "$TIKV_SRC/t/check-synopsis.sh" syn/man >out 2>err &&
	grep "printed no line starting with .usage: ." err
'

test_done
