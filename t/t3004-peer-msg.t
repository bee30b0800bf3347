#!/bin/sh
# The envelope of Raft messages between stores: round trips, damage.
exec "${TIKV_BUILD:-build}/t/peer_msg_test"
