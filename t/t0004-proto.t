#!/bin/sh
exec "${TIKV_BUILD:-build}/t/proto_test"
