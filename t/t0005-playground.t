#!/bin/sh
test_description='the playground starts a cluster, shows it working and stops every process'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'playground -x starts pdd and three stores, writes, reads, and stops them' '
	port=$(test_free_port) &&
	sh "$TIKV_SRC/contrib/playground.sh" -x -b "$TIKV_BUILD" -d "$PWD/pg" \
		-p "$port" >out 2>&1 &&
	grep "^greeting hello$" out &&
	test "$(grep -c " tcp://127.0.0.1:[0-9]* up " out)" = 3 &&
	grep -E "^2 \"\" \"\" [0-9]+ 1 [0-9]+:[0-9]+:v,[0-9]+:[0-9]+:v,[0-9]+:[0-9]+:v " out &&
	! pgrep -f "$PWD/pg/" >/dev/null
'

test_done
