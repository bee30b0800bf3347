#!/bin/sh
exec "${TIKV_BUILD:-build}/t/service_test"
