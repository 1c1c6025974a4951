# pgbaton — build, install, tests.
#
#   make            build build/pgbaton
#   make deps       install the Debian packages pgbaton and its tests need
#   make check      the layer check, unit tests (no server) and integration
#                   tests (real servers)
#   make layers     check that only src/db*.c uses libpq and only the state
#                   module (src/state*.c) runs SQL on pgbaton.*
#   make check-faults   the whole fault matrix (docs/testing.md)
#   make bench      benchmarks (bench/run.sh all; BENCH_ARGS="--quick" for a smoke run)
#   make SANITIZE=1 ...   the same with AddressSanitizer + UBSan (in build-san/)
#   make SANITIZE=thread tap-threads   the threaded parts' integration tests
#                   under ThreadSanitizer (in build-tsan/)
#   make fuzz       the libFuzzer targets (fuzz/), built with clang, ASan and
#                   UBSan (in build-fuzz/): each replays its regression inputs,
#                   then fuzzes FUZZ_SECONDS (60) on a copy of its corpus
#   make fuzz-build the same targets, only built
#   make install PREFIX=/usr/local

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
CC       ?= cc
FUZZ_CC  ?= clang
VERSION  := $(shell cat VERSION)

ifeq ($(SANITIZE),1)
BUILD    ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),thread)
BUILD    ?= build-tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
else ifeq ($(SANITIZE),fuzz)
# make fuzz's build: libFuzzer's coverage instrumentation needs clang
BUILD    ?= build-fuzz
override CC := $(FUZZ_CC)
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),)
BUILD    ?= build
SANFLAGS :=
else
$(error SANITIZE=$(SANITIZE): use SANITIZE=1 (AddressSanitizer + UBSan) or SANITIZE=thread)
endif

# Asked of pkg-config when a recipe first needs them, not when the Makefile is
# read: `make demo` and `make check` install libpq-dev and libjansson-dev
# first, in a sub-make that runs before the build's own make reads this.
PKGS        := libpq jansson
pkg_check    = $(if $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes),,$(error \
  libpq-dev or libjansson-dev (or pkg-config) is missing: run 'make deps' as root, then make again))
PKG_CFLAGS   = $(eval PKG_CFLAGS := $(pkg_check)$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS     = $(eval PKG_LIBS := $(pkg_check)$(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)

CFLAGS   ?= -O2 -g
ALLCFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
            -Iinclude -I$(BUILD) $(PKG_CFLAGS) -pthread -DPGBATON_VERSION='"$(VERSION)"' \
            $(SANFLAGS) $(CFLAGS)
LDFLAGS  += $(SANFLAGS) -pthread
LDLIBS   += $(PKG_LIBS) -lm

SRC      := $(filter-out src/main.c,$(wildcard src/*.c))
OBJ      := $(SRC:src/%.c=$(BUILD)/%.o) $(BUILD)/sql_embed.o
SQL      := $(sort $(wildcard sql/*.sql))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check unit tap tap-threads fuzz fuzz-build install clean format format-check \
        layers bench demo FORCE

all: $(BUILD)/pgbaton

$(BUILD)/pgbaton: $(BUILD)/main.o $(BUILD)/libpgbaton.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libpgbaton.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: src/%.c $(wildcard include/*.h) $(BUILD)/sql_embed.h | $(BUILD)
	$(CC) $(ALLCFLAGS) -c -o $@ $<

# SQL files are compiled into the binary: sql/foo_bar.sql -> sql_foo_bar[].
$(BUILD)/embed: tools/embed.c | $(BUILD)
	$(CC) -std=c11 -O1 -o $@ $<

$(BUILD)/sql_embed.c $(BUILD)/sql_embed.h: $(BUILD)/embed $(SQL)
	$(BUILD)/embed $(BUILD)/sql_embed $(SQL)

$(BUILD)/sql_embed.o: $(BUILD)/sql_embed.c
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)/tests

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpgbaton.a
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libpgbaton.a $(LDLIBS) -lcmocka

deps:
	scripts/install-deps.sh

# The README's first command: install, build, run a demo migration. The build
# is a new make, started after deps, so that it finds what deps installed.
demo: deps
	$(MAKE) $(BUILD)/pgbaton
	PGBATON_BIN=$(CURDIR)/$(BUILD)/pgbaton scripts/demo.sh $(DEMO_ARGS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# Memory figures (peak RSS, tests/tap/104) are taken on the plain build:
# the sanitizers' shadow memory (and ASan's quarantine) make RSS meaningless.
ifneq ($(SANITIZE),)
PLAIN_BIN := build/pgbaton
$(PLAIN_BIN): FORCE
	$(MAKE) SANITIZE= BUILD=build build/pgbaton
FORCE:
else
PLAIN_BIN := $(BUILD)/pgbaton
endif

tap: $(BUILD)/pgbaton $(PLAIN_BIN)
	PGBATON_BIN=$(CURDIR)/$(BUILD)/pgbaton PGBATON_PLAIN_BIN=$(CURDIR)/$(PLAIN_BIN) \
	  scripts/run-tap.sh $(TAP_TESTS)

# The integration tests of the threaded parts: copy workers (030, 031, 034,
# 035; stopped by the worker runtime, 036), status during a copy (050),
# verify workers (060, 061), start's heartbeat and ANALYZE threads beside
# the stream (070, 100), the metrics endpoint (072). Under
# ThreadSanitizer the first report stops the process (halt_on_error), and
# run-tap.sh fails the run on any report (it collects them with log_path).
TAP_THREADS := $(addprefix tests/tap/,030_copy_values.t 031_copy_snapshot.t 034_copy_restart.t \
                 035_copy_encoding.t 036_copy_interrupt.t 050_status.t 060_verify.t \
                 061_verify_streaming.t \
                 070_end_to_end.t 072_metrics.t 100_stream_apply.t)
TSAN_OPTIONS ?= halt_on_error=1:second_deadlock_stack=1
ifeq ($(SANITIZE),thread)
tap-threads: $(BUILD)/pgbaton $(PLAIN_BIN)
	TSAN_OPTIONS=$(TSAN_OPTIONS) PGBATON_BIN=$(CURDIR)/$(BUILD)/pgbaton \
	  PGBATON_PLAIN_BIN=$(CURDIR)/$(PLAIN_BIN) scripts/run-tap.sh $(TAP_THREADS)
else
tap-threads:
	$(MAKE) SANITIZE=thread BUILD=build-tsan tap-threads
endif

# The fuzz targets (docs/architecture.md, "Fuzzing"): each links the
# project's objects (libpgbaton.a, not main.c) with libFuzzer.
# scripts/run-fuzz.sh replays fuzz/regressions/<name>/, then fuzzes on
# build-fuzz/corpus/<name>/, a copy of fuzz/corpus/<name>/, and names the
# target and the input of any failure.
FUZZ_TARGETS := wal2json pgoutput conninfo quote
FUZZ_SECONDS ?= 60
ifeq ($(SANITIZE),fuzz)
FUZZ_BIN := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

FUZZ_HDR := $(wildcard include/*.h fuzz/*.h)

$(BUILD)/fuzz/change_check.o: fuzz/change_check.c $(FUZZ_HDR) | $(BUILD)
	mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(BUILD)/fuzz/change_check.o $(BUILD)/libpgbaton.a $(FUZZ_HDR)
	$(CC) $(ALLCFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	scripts/run-fuzz.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
else
fuzz fuzz-build:
	$(MAKE) SANITIZE=fuzz BUILD=build-fuzz $@
endif

# deps first: `make check` alone works on a fresh machine
check: deps
	$(MAKE) layers unit tap

# The whole fault matrix (docs/testing.md): tests/tap/110_fault_matrix.t with
# every case (PGBATON_FAULTS=all), once with each decoder; make check runs
# its representative subset.
.PHONY: check-faults
check-faults: $(BUILD)/pgbaton
	PGBATON_FAULTS=all PGBATON_BIN=$(CURDIR)/$(BUILD)/pgbaton \
	  scripts/run-tap.sh tests/tap/110_fault_matrix.t

# Benchmarks print figures and ratios; they are not tests (see bench/README.md).
bench: $(BUILD)/pgbaton
	PGBATON_BIN=$(CURDIR)/$(BUILD)/pgbaton bench/run.sh all $(BENCH_ARGS)

install: $(BUILD)/pgbaton
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BUILD)/pgbaton $(DESTDIR)$(BINDIR)/pgbaton
	if [ -f docs/pgbaton.1 ]; then install -m 644 docs/pgbaton.1 $(DESTDIR)$(MANDIR)/man1/pgbaton.1; fi

FORMAT_FILES = src/*.c include/*.h tests/unit/*.c tools/*.c fuzz/*.c fuzz/*.h

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

# only src/db*.c uses libpq; only src/state*.c runs pgbaton.* SQL
# (scripts/check-layers.sh)
layers:
	scripts/check-layers.sh

clean:
	rm -rf build build-san build-tsan build-fuzz tests/tap/tmp_check
