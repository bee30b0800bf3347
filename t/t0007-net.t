#!/bin/sh
# The nng wrapper (libcommon/net.c) over loopback.  Bounded: a stop that
# hung would otherwise hang make check.  Leak checking is off here only:
# the stop-under-load rounds make libnng 1.5.2 itself lose a request
# message or a socket now and then (a client's call cut off by the
# server's close); use-after-free and double free are still caught, and
# every daemon test checks net.c for leaks.
ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS
exec timeout 300 "${TIKV_BUILD:-build}/t/net_test"
