#!/bin/sh
exec "${TIKV_BUILD:-build}/t/conf_test"
