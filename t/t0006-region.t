#!/bin/sh
exec "${TIKV_BUILD:-build}/t/region_test"
