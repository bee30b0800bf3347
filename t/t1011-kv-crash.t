#!/bin/sh
# kill -9 at random moments: the KV reopens at its last checkpoint, whole.
exec "${TIKV_BUILD:-build}/t/kv_crash" -c "${KV_CRASH_CYCLES:-100}"
