#!/bin/sh
# Region snapshots: build, verify, ingest, damage refused, files.
exec "${TIKV_BUILD:-build}/t/snap_test"
