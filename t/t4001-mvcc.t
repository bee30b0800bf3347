#!/bin/sh
exec "${TIKV_BUILD:-build}/t/mvcc_test"
