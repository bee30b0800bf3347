#!/bin/sh
# WAL crash test: 100 kill -9 cycles (make crash-campaign-wal runs more).
exec "${TIKV_BUILD:-build}/t/wal_crash" -n "${WAL_CRASH_CYCLES:-100}"
