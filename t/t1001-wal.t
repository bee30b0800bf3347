#!/bin/sh
# WAL and crc32c unit tests: groups, conflicts, compaction, segments.
exec "${TIKV_BUILD:-build}/t/wal_test"
