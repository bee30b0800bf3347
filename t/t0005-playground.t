#!/bin/sh
test_description='the playground starts a cluster, shows it working and stops every process'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'playground -x starts pdd, answers, and stops it' '
	port=$(test_free_port) &&
	sh "$TIKV_SRC/contrib/playground.sh" -x -b "$TIKV_BUILD" -d pg \
		-p "$port" >out 2>&1 &&
	grep "^127.0.0.1:$port ok$" out &&
	grep -E "^[0-9]+ [0-9]+ [0-9]+$" out &&
	pid=$(cat pg/pd/LOCK) &&
	! kill -0 "$pid" 2>/dev/null
'

test_done
