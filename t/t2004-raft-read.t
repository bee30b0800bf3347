#!/bin/sh
# Raft reads (ReadIndex, lease) and leadership transfer.
exec "${TIKV_BUILD:-build}/t/raft_read_test"
