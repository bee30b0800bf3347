#!/bin/sh
# Raft wire encoding: round trips and malformed input.
exec "${TIKV_BUILD:-build}/t/raftwire_test"
