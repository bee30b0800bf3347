#!/bin/sh
# Raft flow control and snapshots.
exec "${TIKV_BUILD:-build}/t/raft_flow_test"
