# One flat Makefile for the whole toolkit.
#
#   make            build libcommon.a and the programs into $(O)/ (build/)
#   make check      install missing packages, build with ASan+UBSan into
#                   build/check/, run make lint and every test through prove
#   make lint       mandoc -Tlint on every page; usage() against SYNOPSIS
#   make fuzz       build and run the libFuzzer targets for a bounded time
#   make playground start a local cluster on loopback (Ctrl-C stops it)
#   make bench      the standard benchmark on a local cluster, raw and txn
#                   modes, reported in bench/REPORT-<date>.txt
#   make install    install programs and man pages under $(PREFIX)
#   make clean

O	?= build
SANITIZE ?= 0
PREFIX	?= /usr/local
FUZZTIME ?= 60

CC	?= cc
CPPFLAGS += -D_GNU_SOURCE -Ilibcommon -MMD -MP \
	    $(shell pkg-config --cflags libbsd-overlay)
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -pthread -Wall -Wextra -Werror -Wshadow \
	   -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
LDLIBS	+= -lnng -ltkrzw -lsodium -lzstd -linih -lbsd -lpthread -lm

ifeq ($(FUZZ),1)
CFLAGS	+= -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=fuzzer,address,undefined
endif

ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif

LIB_SRCS = \
	libcommon/buf.c \
	libcommon/client.c \
	libcommon/clock.c \
	libcommon/codec.c \
	libcommon/conf.c \
	libcommon/crc32c.c \
	libcommon/detach.c \
	libcommon/kv.c \
	libcommon/log.c \
	libcommon/mvcc.c \
	libcommon/net.c \
	libcommon/pdclient.c \
	libcommon/proto.c \
	libcommon/region.c \
	libcommon/regioncache.c \
	libcommon/raft.c \
	libcommon/raftconf.c \
	libcommon/raftents.c \
	libcommon/raftlog.c \
	libcommon/raftwire.c \
	libcommon/schema.c \
	libcommon/txn.c \
	libcommon/wal.c \
	libcommon/xmalloc.c

PDD_SRCS = \
	cmd/pdd/cluster.c \
	cmd/pdd/main.c \
	cmd/pdd/meta.c \
	cmd/pdd/service.c \
	cmd/pdd/tso.c

TIKV_BENCH_SRCS = \
	cmd/tikv-bench/hist.c \
	cmd/tikv-bench/main.c \
	cmd/tikv-bench/report.c \
	cmd/tikv-bench/run.c \
	cmd/tikv-bench/workload.c

TIKV_CTL_SRCS = \
	cmd/tikv-ctl/main.c \
	cmd/tikv-ctl/out.c

TIKVD_SRCS = \
	cmd/tikvd/apply.c \
	cmd/tikvd/cmdfmt.c \
	cmd/tikvd/localmeta.c \
	cmd/tikvd/main.c \
	cmd/tikvd/pdworker.c \
	cmd/tikvd/peer.c \
	cmd/tikvd/peermsg.c \
	cmd/tikvd/raftstore.c \
	cmd/tikvd/raw.c \
	cmd/tikvd/request.c \
	cmd/tikvd/service.c \
	cmd/tikvd/snap.c \
	cmd/tikvd/transport.c \
	cmd/tikvd/txncmd.c

# C unit tests: t/unit/NAME.c becomes $(O)/t/NAME, run by a t/*.t wrapper.
UNIT_TESTS = \
	client_test \
	cmdfmt_test \
	codec_test \
	conf_test \
	kv_test \
	pdclient_test \
	peer_msg_test \
	proto_test \
	region_test \
	lincheck_test \
	mvcc_test \
	net_test \
	raft_conf_test \
	raft_flow_test \
	raft_read_test \
	raft_sim \
	raft_test \
	raftwire_test \
	raw_test \
	snap_test \
	tap_selftest \
	wal_test

# libFuzzer targets: t/fuzz/NAME.c becomes $(O)/fuzz/NAME (make fuzz).
FUZZERS = \
	proto_fuzz \
	raftwire_fuzz

# Helper programs the shell tests use (built like unit tests, not run).
TEST_TOOLS = \
	kv_bench \
	kv_crash \
	lincheck_tool \
	raw_cas_hist \
	raw_load \
	tso_clients \
	txn_bank \
	wal_bench \
	wal_crash

PROGS	= $(O)/bin/pdd $(O)/bin/tikv-bench $(O)/bin/tikv-ctl $(O)/bin/tikvd
LIB	= $(O)/libcommon.a
LIB_OBJS = $(LIB_SRCS:%.c=$(O)/%.o)
UNIT_BINS = $(UNIT_TESTS:%=$(O)/t/%)
TOOL_BINS = $(TEST_TOOLS:%=$(O)/t/%)
MANS	= $(wildcard man/*.[1-8])

all: $(LIB) $(PROGS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

$(O)/bin/pdd: $(PDD_SRCS:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(PDD_SRCS:%.c=$(O)/%.o) $(LIB) $(LDLIBS)

$(O)/bin/tikv-bench: $(TIKV_BENCH_SRCS:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(TIKV_BENCH_SRCS:%.c=$(O)/%.o) $(LIB) $(LDLIBS)

$(O)/bin/tikv-ctl: $(TIKV_CTL_SRCS:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(TIKV_CTL_SRCS:%.c=$(O)/%.o) $(LIB) $(LDLIBS)

$(O)/bin/tikvd: $(TIKVD_SRCS:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(TIKVD_SRCS:%.c=$(O)/%.o) $(LIB) $(LDLIBS)

$(O)/t/%: $(O)/t/unit/%.o $(O)/t/unit/tap.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(O)/t/unit/tap.o $(LIB) $(LDLIBS)

# Unit tests and tools linked from several objects in t/unit/.
LINCHECK_OBJS = $(O)/t/unit/lincheck.o $(O)/t/unit/tap.o
RAFT_SIM_OBJS = \
	$(O)/t/unit/lincheck.o \
	$(O)/t/unit/raft_sim.o \
	$(O)/t/unit/sim.o \
	$(O)/t/unit/sim_check.o \
	$(O)/t/unit/sim_net.o \
	$(O)/t/unit/sim_node.o \
	$(O)/t/unit/sim_store.o \
	$(O)/t/unit/tap.o

$(O)/t/lincheck_test $(O)/t/lincheck_tool $(O)/t/raw_cas_hist: \
    $(O)/t/%: $(O)/t/unit/%.o \
    $(LINCHECK_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LINCHECK_OBJS) $(LIB) $(LDLIBS)

$(O)/t/raft_sim: $(RAFT_SIM_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(RAFT_SIM_OBJS) $(LIB) $(LDLIBS)

# Unit tests of tikvd modules link those modules' objects only:
# NAME_MODS lists the cmd/tikvd modules t/unit/NAME.c needs.
TIKVD_UNIT_TESTS = \
	cmdfmt_test \
	peer_msg_test \
	raw_test \
	snap_test
cmdfmt_test_MODS = cmdfmt
peer_msg_test_MODS = peermsg
raw_test_MODS = cmdfmt raw
snap_test_MODS = snap

$(TIKVD_UNIT_TESTS:%=$(O)/t/unit/%.o): CPPFLAGS += -Icmd/tikvd

define tikvd_unit_test
$$(O)/t/$(1): $$(O)/t/unit/$(1).o $$(O)/t/unit/tap.o \
    $$($(1)_MODS:%=$$(O)/cmd/tikvd/%.o) $$(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(LIB) $$(LDLIBS)
endef
$(foreach t,$(TIKVD_UNIT_TESTS),$(eval $(call tikvd_unit_test,$(t))))

# Raft unit tests share a small network harness.
RAFT_TESTS = \
	raft_conf_test \
	raft_flow_test \
	raft_read_test \
	raft_test
RAFTNET_OBJS = $(O)/t/unit/raftnet.o $(O)/t/unit/tap.o

$(RAFT_TESTS:%=$(O)/t/%): $(O)/t/%: $(O)/t/unit/%.o $(RAFTNET_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(RAFTNET_OBJS) $(LIB) $(LDLIBS)

$(O)/fuzz/%: $(O)/t/fuzz/%.o $(LIB)
	@mkdir -p $(@D) $(O)/corpus-$*
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

fuzzers: $(FUZZERS:%=$(O)/fuzz/%)

tests: all $(UNIT_BINS) $(TOOL_BINS)

playground: all
	sh contrib/playground.sh -b $(O)

# The standard benchmark: a local cluster, YCSB A, B, C, E at 1, 16 and 64
# clients; writes bench/REPORT-<date>.txt (tikv-bench(1)).
bench: all
	sh contrib/bench.sh -b $(O)

deps:
	@sh contrib/install-deps.sh

check: deps
	$(MAKE) O=build/check SANITIZE=1 tests
	$(MAKE) O=build/check lint
	TIKV_BUILD=$(CURDIR)/build/check prove -j2 t/

lint: all
	@for m in $(MANS); do \
		mandoc -Tlint -Wwarning $$m || exit 1; done
	@TIKV_BUILD=$(abspath $(O)) sh t/check-synopsis.sh

fuzz:
	$(MAKE) O=build/fuzz CC=clang FUZZ=1 fuzzers
	@for f in build/fuzz/fuzz/*; do \
		echo "fuzz: $$f for $(FUZZTIME)s"; \
		$$f -max_total_time=$(FUZZTIME) -rss_limit_mb=2048 \
		    build/fuzz/corpus-$${f##*/} || exit 1; done
	@echo "fuzz: no crashes"

# Random seeds of the Raft simulator for SIMTIME seconds (make check runs
# seeds 1..200); each failing seed prints the command that replays it.
SIMTIME ?= 1800
sim-campaign:
	$(MAKE) O=build/check SANITIZE=1 build/check/t/raft_sim
	build/check/t/raft_sim -d $(SIMTIME) -n 20000

# The KV kill -9 test at length (make check runs 100 cycles).
KV_CYCLES ?= 2000
crash-campaign-kv:
	$(MAKE) O=build/check SANITIZE=1 build/check/t/kv_crash
	build/check/t/kv_crash -c $(KV_CYCLES) -t 80

# The WAL kill -9 test at length (make check runs 100 cycles).
WAL_CYCLES ?= 2000
crash-campaign-wal:
	$(MAKE) O=build/check SANITIZE=1 build/check/t/wal_crash
	build/check/t/wal_crash -n $(WAL_CYCLES)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin
	for m in $(MANS); do s=$${m##*.}; \
		install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s; done

clean:
	rm -rf build

.PHONY: all bench tests deps check lint fuzz fuzzers install clean playground \
	crash-campaign-kv crash-campaign-wal sim-campaign
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
