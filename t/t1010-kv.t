#!/bin/sh
exec "${TIKV_BUILD:-build}/t/kv_test"
