#!/bin/sh
exec "${TIKV_BUILD:-build}/t/cmdfmt_test"
