#!/bin/sh
# Raft core: elections, PreVote, CheckQuorum, replication, commit, conflicts.
exec "${TIKV_BUILD:-build}/t/raft_test"
