#!/bin/sh
exec "${TIKV_BUILD:-build}/t/raw_test"
