# ikeshift top-level build.  Objects and binaries go under $(BUILD);
# binaries under $(BUILD)/bin.  See README.md for the targets.

SHELL     := /bin/bash
BUILD     ?= build
CC        ?= cc
CLANG     ?= clang
PREFIX    ?= /usr/local

WARN      := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
             -Wpointer-arith -Wcast-qual -Wsign-compare -Werror
STD       := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT       ?= -O2 -g
SAN       ?=
CFLAGS    := $(STD) $(OPT) $(WARN) $(SAN) -Iproto -MMD -MP
LDFLAGS   := $(SAN)
LIBS      := -lcrypto -ljansson -lm
AGENT_LIBS := -lhiredis -luv

# Debian 12 packages that the build and the tests need.
DEB_BUILD := build-essential pkg-config clang libclang-rt-14-dev llvm \
             libssl-dev libuv1-dev libhiredis-dev libjansson-dev \
             libcriterion-dev node-llhttp
DEB_TEST  := tshark iproute2 strongswan-charon strongswan-swanctl \
             libstrongswan-standard-plugins libstrongswan-extra-plugins \
             libcharon-extra-plugins redis-server procps psmisc nftables jq curl
DEB_ALL   := $(DEB_BUILD) $(DEB_TEST)

PROTO_SRC := $(wildcard proto/*.c)
RT_SRC    := $(wildcard proto/rt/*.c)
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
UNIT_SRC  := $(wildcard tests/unit/*.c) $(wildcard tests/support/*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

PROTO_OBJ := $(PROTO_SRC:%.c=$(BUILD)/%.o)
RT_OBJ    := $(RT_SRC:%.c=$(BUILD)/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/%.o)
CTL_SRC   := $(filter-out controller/main.c controller/ctl_main.c,\
             $(wildcard controller/*.c))
CTL_OBJ   := $(CTL_SRC:%.c=$(BUILD)/%.o)

# llhttp is compiled from the C sources that Debian's node-llhttp ships.
LLHTTP_DIR := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp
LLHTTP_OBJ := $(BUILD)/llhttp/api.o $(BUILD)/llhttp/http.o \
              $(BUILD)/llhttp/llhttp.o
UNIT_OBJ  := $(UNIT_SRC:%.c=$(BUILD)/%.o)

LIBPROTO  := $(BUILD)/lib/libikeproto.a
LIBRT     := $(BUILD)/lib/libikeshift-rt.a
LIBAGENT  := $(BUILD)/lib/libikeshift-agent.a
LIBCTL    := $(BUILD)/lib/libikeshift-controller.a
LIBLLHTTP := $(BUILD)/lib/libllhttp.a
CONTROLLER := $(BUILD)/bin/ikeshift-controller
CTLCLI    := $(BUILD)/bin/ikeshiftctl
AGENT     := $(BUILD)/bin/ikeshift-agent
DUMP      := $(BUILD)/bin/ikeshift-dump
UNIT      := $(BUILD)/tests/unit-tests
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

FUZZ_SECONDS ?= 60

.PHONY: all deps check unit interop e2e demo asan fuzz fuzz-run bench \
    clean install

all: $(LIBPROTO) $(LIBRT) $(DUMP) $(if $(wildcard agent/main.c),$(AGENT)) \
    $(if $(wildcard controller/main.c),$(CONTROLLER)) \
    $(if $(wildcard controller/ctl_main.c),$(CTLCLI))

# Installs what is missing; quick when everything is present.
deps:
	@missing=""; for p in $(DEB_ALL); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	        || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then \
	        echo "deps: root is required to install packages" >&2; exit 1; \
	    fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBPROTO): $(PROTO_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBRT): $(RT_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(STD) $(OPT) $(SAN) -I$(LLHTTP_INC) -c $< -o $@

$(LIBLLHTTP): $(LLHTTP_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/controller/%.o: CFLAGS += -I$(LLHTTP_INC)

$(LIBCTL): $(CTL_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(CONTROLLER): $(BUILD)/controller/main.o $(LIBCTL) $(LIBLLHTTP) $(LIBRT) \
    $(LIBPROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lssl $(AGENT_LIBS) $(LIBS)

$(CTLCLI): $(BUILD)/controller/ctl_main.o $(LIBCTL) $(LIBLLHTTP) $(LIBRT) \
    $(LIBPROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lssl $(AGENT_LIBS) $(LIBS)

$(LIBAGENT): $(AGENT_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(AGENT): $(BUILD)/agent/main.o $(LIBAGENT) $(LIBRT) $(LIBPROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(LIBS)

DUMP_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(wildcard proto/dump/*.c))

$(DUMP): $(DUMP_OBJ) $(LIBPROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%.o: CFLAGS += -Itests/unit -Itests/support -Iagent \
    -Icontroller -I$(LLHTTP_INC) \
    -DTEST_DATA_DIR='"$(CURDIR)/tests/data"' \
    -DDUMP_BIN='"$(CURDIR)/$(DUMP)"'

TEST_LIBS := $(if $(AGENT_SRC),$(LIBAGENT)) $(if $(CTL_SRC),$(LIBCTL) \
    $(LIBLLHTTP)) $(LIBRT) $(LIBPROTO)

$(UNIT): $(UNIT_OBJ) $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcriterion -lssl $(AGENT_LIBS) $(LIBS)

# One binary per test file, for quick iteration: make build/tests/test_ike_msg
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o \
    $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c)) $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcriterion -lssl $(AGENT_LIBS) $(LIBS)

unit: $(UNIT) $(DUMP)
	$(UNIT) --jobs 2

# Interop cases: real strongSwan in network namespaces (root).
interop: all $(BUILD)/bench/flood_init
	IKESHIFT_BIN=$(CURDIR)/$(BUILD)/bin tests/interop/run.sh

# The farm on one machine: gateways and strongSwan clients (root).
demo: deps
	$(MAKE) all
	IKESHIFT_BIN=$(CURDIR)/$(BUILD)/bin deploy/lab/demo.sh

# The demo's stories as assertions, from the clients' own view (root).
e2e: all $(BUILD)/bench/flood_init
	IKESHIFT_BIN=$(CURDIR)/$(BUILD)/bin tests/e2e/run.sh
	IKESHIFT_BIN=$(CURDIR)/$(BUILD)/bin \
	    FLOOD_INIT=$(CURDIR)/$(BUILD)/bench/flood_init tests/e2e/failover.sh

check: deps
	$(MAKE) all $(UNIT)
	$(UNIT) --jobs 2
	$(MAKE) e2e
	$(MAKE) interop

# The same unit tests under AddressSanitizer and UBSan; leaks fail the run.
asan:
	$(MAKE) BUILD=build/asan CC=$(CLANG) OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    all build/asan/tests/unit-tests
	@# Criterion counts a test as passed when its worker leaks, so leak
	@# reports are found in the log instead of exit codes: those printed
	@# before the summary line come from test workers.  Criterion 2.4's
	@# runner leaks one allocation of its own at exit, after that line,
	@# which is not searched (hence LSan's exitcode=0).
	set -o pipefail; ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=exitcode=0 \
	    UBSAN_OPTIONS=print_stacktrace=1 \
	    build/asan/tests/unit-tests --jobs 2 2>&1 | tee build/asan/unit.log
	@if sed '/Synthesis: Tested/,$$d' build/asan/unit.log | \
	    grep -q 'ERROR: LeakSanitizer\|SUMMARY: .*Sanitizer'; then \
	    echo "asan: sanitizer reports in build/asan/unit.log" >&2; exit 1; \
	fi

# libFuzzer targets: each links the proto sources compiled by clang.
FUZZ_CFLAGS := $(STD) -O1 -g $(WARN) -Iproto -fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz/%: tests/fuzz/%.c $(PROTO_SRC) $(RT_SRC) proto/dump/dump_input.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(AGENT_LIBS) $(LIBS)

# The HTTP target also needs the API sources and llhttp (built without
# the warning set, which llhttp's generated code does not meet).
FUZZ_LLHTTP := $(LLHTTP_OBJ:$(BUILD)/llhttp/%=$(BUILD)/fuzz/llhttp/%)
$(BUILD)/fuzz/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(@D)
	$(CLANG) $(STD) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	    -I$(LLHTTP_INC) -c $< -o $@

$(BUILD)/fuzz/fuzz_http: tests/fuzz/fuzz_http.c controller/api.c \
    controller/http_server.c $(FUZZ_LLHTTP) $(PROTO_SRC) $(RT_SRC)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -Icontroller -I$(LLHTTP_INC) -o $@ \
	    $(filter %.c %.o,$^) -lssl $(AGENT_LIBS) $(LIBS)

fuzz: $(FUZZ_BIN)

fuzz-run: fuzz
	@for f in $(FUZZ_BIN); do \
	    name=$$(basename $$f); corpus=$(BUILD)/fuzz/corpus/$$name; \
	    mkdir -p $$corpus; \
	    echo "== $$name for $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $$corpus tests/fuzz/seeds/$$name || exit 1; \
	done

BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_ALL := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))

$(BUILD)/bench/%: tests/bench/%.c $(SUPPORT_OBJ) $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iagent -Icontroller -Itests/support -o $@ \
	    $(filter %.c %.o %.a,$^) -lssl $(AGENT_LIBS) $(LIBS)

# Side-by-side benchmarks (root: namespaces, taskset); see
# docs/BENCHMARKS.md.  Results go to $(BUILD)/bench/results/.
bench: deps
	$(MAKE) all $(BENCH_ALL)
	BUILD=$(BUILD) tests/bench/run.sh

# Binaries to $(PREFIX)/bin; units, sysusers entry, docs and examples to
# where deploy/systemd/*.service expect them.  Then: systemd-sysusers.
SYSTEMD_DIR ?= /etc/systemd/system
SYSUSERS_DIR ?= /usr/lib/sysusers.d
DOC_DIR   ?= $(PREFIX)/share/doc/ikeshift

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSTEMD_DIR) \
	    $(DESTDIR)$(SYSUSERS_DIR) $(DESTDIR)$(DOC_DIR)/examples
	install -m 755 $(DUMP) $(AGENT) $(CONTROLLER) $(CTLCLI) \
	    $(DESTDIR)$(PREFIX)/bin/
	install -m 644 deploy/systemd/*.service $(DESTDIR)$(SYSTEMD_DIR)/
	install -m 644 deploy/systemd/ikeshift.sysusers.conf \
	    $(DESTDIR)$(SYSUSERS_DIR)/ikeshift.conf
	install -m 644 docs/operations.md $(DESTDIR)$(DOC_DIR)/
	install -m 644 deploy/examples/* deploy/redis/* \
	    $(DESTDIR)$(DOC_DIR)/examples/

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
