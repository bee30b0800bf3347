#!/bin/sh
# WAL fault injection: torn tails, bit flips, ENOSPC/EIO, fatal fsync.
exec "${TIKV_BUILD:-build}/t/wal_test" -f
