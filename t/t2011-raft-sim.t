#!/bin/sh
# The deterministic Raft simulator (t/unit/raft_sim*.c): first the planted
# bugs it must catch, then seeds 1..200 of 10,000 steps each over 3, 5 and
# 7 nodes.  A failing seed prints its replay command.
exec "${TIKV_BUILD:-build}/t/raft_sim" -T -K -s 1 -c 200 -n 10000
