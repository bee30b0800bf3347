#!/bin/sh
exec "${TIKV_BUILD:-build}/t/tap_selftest"
