#!/bin/sh
# The linearizability checker and lincheck_tool (t/unit/lincheck_test.c).
exec "${TIKV_BUILD:-build}/t/lincheck_test"
