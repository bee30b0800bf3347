#!/bin/sh
# Seeds of the Raft simulator (t/unit/raft_sim*.c) that once found bugs
# in the Raft library, replayed as they were found.
test_description='raft_sim seeds that found bugs'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'seed 5214, 3 nodes: an acknowledged entry survives a requested snapshot' '
	raft_sim -q -s 5214 -n 10000 -N 3
'

test_expect_success 'seed 40240, 5 nodes: an acknowledged entry survives a requested snapshot' '
	raft_sim -q -s 40240 -n 10000 -N 5
'

test_expect_success 'seed 5435, 7 nodes: an acknowledged entry survives a requested snapshot' '
	raft_sim -q -s 5435 -n 10000 -N 7
'

test_expect_success 'seed 40002, 3 nodes: a snapshot asked above the new leader commit does not stall' '
	raft_sim -q -s 40002 -n 10000 -N 3
'

test_expect_success 'seed 40419, 3 nodes: a leader that demotes itself leaves an electable group' '
	raft_sim -q -s 40419 -n 10000 -N 3
'

test_expect_success 'seed 6, 3 nodes, unsynced snapshots: a node restarts with applied above its stored commit' '
	raft_sim -q -U -s 6 -n 3000 -N 3
'

test_done
