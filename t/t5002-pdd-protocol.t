#!/bin/sh
test_description='pdd over nngcat: pipelined commands, HELP, and bad input answered with the documented errors while pdd keeps serving'
. "$(dirname "$0")/test-lib.sh"

# send FILE: one request message with FILE's bytes; the raw reply on stdout.
send () {
	nngcat --req --dial "$pd_addr" --recv-timeout 5 --raw --file "$1"
}

# say TEXT: printf TEXT (with its escapes) into a request and send it.
say () {
	printf "$1" >req &&
	send req
}

test_expect_success 'pdd starts with a 2 MiB message limit' '
	cat >pd.toml <<-\EOT &&
	data-dir = "data"
	[server]
	max-message-size = "2MiB"
	EOT
	test_daemon_start pd pdd -d -f pd.toml -l tcp://127.0.0.1:@PORT@
'

test_expect_success 'nngcat session: PING, VERSION, TSO, ALLOC_ID' '
	say "PING\nVERSION\nTSO 2\nALLOC_ID 3\n" >out &&
	sed -n 1p out >line1 && echo OK >expect && test_cmp expect line1 &&
	sed -n 2p out >line2 && echo "OK pdd 0.1.0" >expect &&
	test_cmp expect line2 &&
	sed -n 3p out | grep -E "^OK [0-9]+ 2$" &&
	sed -n 4p out | grep -E "^OK [0-9]+ 3$" &&
	test_line_count = 4 out
'

test_expect_success 'HELP lists every command from the table and ends with END' '
	say "HELP\n" >out &&
	grep "^VALUE \"ALLOC_ID \[count\]\" " out &&
	grep "^VALUE \"TSO \[count\]\" " out &&
	grep "^VALUE PING " out &&
	grep "^VALUE VERSION " out &&
	tail -n 1 out >last && echo END >expect && test_cmp expect last &&
	say "help tso\n" >out &&
	test_line_count = 2 out
'

test_expect_success 'commands are matched without case' '
	say "ping\nPiNg\n" >out &&
	printf "OK\nOK\n" >expect && test_cmp expect out
'

test_expect_success 'unknown command, wrong arity, bad numbers: one error each, in order' '
	say "FOO bar\nTSO 1 2\nTSO abc\nTSO 0\nALLOC_ID 99999999999\nPING\n" >out &&
	cat >expect <<-\EOT &&
	CLIENT_ERROR unknown command '"'"'FOO'"'"'
	CLIENT_ERROR wrong number of arguments for '"'"'TSO'"'"', usage: TSO [count]
	CLIENT_ERROR argument 1 of '"'"'TSO'"'"' is not a number
	CLIENT_ERROR argument 1 of '"'"'TSO'"'"' out of range: 0 not in 1..262144
	CLIENT_ERROR argument 1 of '"'"'ALLOC_ID'"'"' out of range: 99999999999 not in 1..1000000
	OK
	EOT
	test_cmp expect out
'

test_expect_success 'bad escapes and unterminated quotes are refused by place' '
	say "TSO \"\\\\q\"\nTSO \"12\nPING \\\\x4\nPING\n" >out &&
	cat >expect <<-\EOT &&
	CLIENT_ERROR bad escape at byte 6
	CLIENT_ERROR unterminated quoted string
	CLIENT_ERROR bad escape at byte 6
	OK
	EOT
	test_cmp expect out
'

test_expect_success 'quoted and escaped spellings of a number are the number' '
	say "TSO \"2\"\nTSO \\\\x33\n" >out &&
	sed -n 1p out | grep -E "^OK [0-9]+ 2$" &&
	sed -n 2p out | grep -E "^OK [0-9]+ 3$"
'

test_expect_success 'an over-long line gets an error and the next line still runs' '
	{ printf "PING " && head -c 1100000 /dev/zero | tr "\0" a &&
	  printf "\nPING\n"; } >req &&
	send req >out &&
	printf "CLIENT_ERROR line too long (max 1048576 bytes)\nOK\n" >expect &&
	test_cmp expect out
'

test_expect_success 'an over-size message closes the connection; pdd serves the next client' '
	head -c 3000000 /dev/zero | tr "\0" a >big &&
	# nngcat exits 0 when its receive times out: the proof is the
	# missing reply (a message within the limit would get one).
	{ send big >out || :; } &&
	test_line_count = 0 out &&
	say "PING\n" >out &&
	echo OK >expect && test_cmp expect out
'

test_expect_success 'binary garbage gets only CLIENT_ERROR replies; pdd keeps serving' '
	printf "\001\002\377\376 \033[0m\n\000\000\000\n\177\200{3}\n\"\\\\x\n" >req &&
	send req >out &&
	test_line_count = 4 out &&
	! grep -v "^CLIENT_ERROR " out &&
	head -c 65536 /dev/urandom >req &&
	send req >out &&
	! grep -v "^CLIENT_ERROR " out &&
	say "PING\n" >out &&
	echo OK >expect && test_cmp expect out
'

test_expect_success 'an empty message gets an empty reply' '
	: >req &&
	send req >out &&
	test_line_count = 0 out &&
	say "PING\n" >out && echo OK >expect && test_cmp expect out
'

test_expect_success 'pdd is still the same process and exits cleanly' '
	test_daemon_stop pd
'

test_done
