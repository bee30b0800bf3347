#!/bin/sh
exec "${TIKV_BUILD:-build}/t/client_test"
