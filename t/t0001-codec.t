#!/bin/sh
exec "${TIKV_BUILD:-build}/t/codec_test"
