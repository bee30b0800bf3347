#!/bin/sh
# Raft membership: learners, one-step changes, joint consensus.
exec "${TIKV_BUILD:-build}/t/raft_conf_test"
