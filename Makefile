# bgjob - a thread-based background job manager for bash, as a loadable builtin.
#
#   make              build bgjob.so and the example plugin
#   make demo         run the demo in a real bash
#   make test         every test (C tests plain and under sanitizers, bats, arithmetic)
#   make check-full   make test plus the long and slow checks
#   make format-check every C file formatted as .clang-format says (changes nothing)
#   make bench        benchmarks (ratios against the alternatives, same run)
#   make install      PREFIX=/usr/local DESTDIR=
#   make deps         install the Debian packages the build and tests need

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= gcc
OPT ?= -O2 -g

WARN := -Wall -Wextra -Werror
CSTD := -std=gnu11
BASE_CFLAGS := $(CSTD) $(OPT) $(WARN) -fPIC -pthread -fvisibility=hidden -fno-strict-aliasing
BASH_INC := -DHAVE_CONFIG_H -DSHELL -isystem /usr/include/bash -isystem /usr/include/bash/include \
            -isystem /usr/include/bash/builtins -isystem /usr/lib/bash
# Where installed plugins go; `bgjob load NAME' looks there after BASH_LOADABLES_PATH.
PLUGIN_DIR ?= $(PREFIX)/lib/bgjob/plugins
PLUGIN_DEF := -DBGJOB_PLUGIN_DIR='"$(PLUGIN_DIR)"'
SO_LDFLAGS := -shared -Wl,-soname,bgjob -Wl,-z,relro -Wl,-z,now -Wl,-z,nodelete -pthread

# lib/ is built once per variant (plain, asan, tsan) into objects under
# build/VARIANT/obj/; bgjob.so and every C test link those objects.
LIB_INC := -Ilib -Ilib/arith -Ilib/pool -Ilib/proc
ARITH_SRCS ?= $(filter-out lib/arith/arith_job.c,$(wildcard lib/arith/*.c)) lib/strbuf.c lib/names.c lib/errors.c
LIB_SRCS := $(sort $(wildcard lib/*.c lib/*/*.c))
SNAPSHOT_SRCS ?= builtin/snapshot.c builtin/newarith.c
BUILTIN_SRCS := builtin/bgjob.c builtin/newjob.c builtin/newrun.c builtin/report.c builtin/manage.c builtin/plugins.c builtin/shellvar.c builtin/wait.c \
                builtin/notify.c builtin/progress.c builtin/completion.c builtin/group.c builtin/records.c builtin/shellwatch.c \
                $(SNAPSHOT_SRCS)
# The completion script, embedded in bgjob.so as a C string literal.
COMPLETION_INC := build/gen/bgjob-completion.inc
LIB_HDRS := $(wildcard lib/*.h lib/*/*.h)
BUILTIN_HDRS := $(wildcard builtin/*.h)

# Build variants: plain (./bgjob.so) and sanitizer builds under build/<variant>/.
SAN_asan := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_tsan := -fsanitize=thread

C_TESTS := $(basename $(notdir $(wildcard tests/c/test_*.c)))
TEST_C_HDRS := $(wildcard tests/c/*.h)

.PHONY: deps-build deps-format all demo test check-full bench install uninstall deps deps-bench clean \
        test-c test-c-tsan test-c-asan test-bats test-bats-asan

all: bgjob.so examples/bgjob-example.so

$(COMPLETION_INC): builtin/bgjob-completion.bash
	@mkdir -p $(dir $@)
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@

LIB_OBJS_plain := $(patsubst %.c,build/plain/obj/%.o,$(LIB_SRCS))
LIB_OBJS_asan := $(patsubst %.c,build/asan/obj/%.o,$(LIB_SRCS))
LIB_OBJS_tsan := $(patsubst %.c,build/tsan/obj/%.o,$(LIB_SRCS))
# (kept: they are not intermediate files)
.SECONDARY: $(LIB_OBJS_plain) $(LIB_OBJS_asan) $(LIB_OBJS_tsan)
build/plain/obj/%.o: %.c $(LIB_HDRS) | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(LIB_INC) -c $< -o $@
build/asan/obj/%.o: %.c $(LIB_HDRS) | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(SAN_asan) $(LIB_INC) -c $< -o $@
build/tsan/obj/%.o: %.c $(LIB_HDRS) | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(SAN_tsan) $(LIB_INC) -c $< -o $@

bgjob.so: $(LIB_OBJS_plain) $(BUILTIN_SRCS) $(LIB_HDRS) $(BUILTIN_HDRS) $(COMPLETION_INC) | deps-build
	$(CC) $(BASE_CFLAGS) $(BASH_INC) $(PLUGIN_DEF) $(LIB_INC) -Ibuiltin -Ibuild/gen $(BUILTIN_SRCS) $(LIB_OBJS_plain) $(SO_LDFLAGS) -o $@

build/asan/bgjob.so: $(LIB_OBJS_asan) $(BUILTIN_SRCS) $(LIB_HDRS) $(BUILTIN_HDRS) $(COMPLETION_INC) | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(SAN_asan) $(BASH_INC) $(PLUGIN_DEF) $(LIB_INC) -Ibuiltin -Ibuild/gen $(BUILTIN_SRCS) $(LIB_OBJS_asan) $(SO_LDFLAGS) -o $@

examples/bgjob-example.so: examples/bgjob-example.c lib/bgjob.h
	$(CC) $(BASE_CFLAGS) -Ilib -shared -Wl,-z,now $< -o $@

# A plugin built for another API version, for the loader's error test.
build/plugins/badversion.so: examples/bgjob-example.c lib/bgjob.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Ilib -DBGJOB_EXAMPLE_FAKE_VERSION=999 -shared $< -o $@
# The older headers: lib/bgjob.h without the members of later versions
# (each struct only grows: a "---- version N ----" line starts what version N
# added, up to the struct's end); tests/plugins/api-v1.txt holds what 0.1
# shipped, and 60-plugins.bats checks the two agree.
build/plugins/v1/bgjob.h: lib/bgjob.h
	@mkdir -p $(dir $@)
	sed -e '/---- version [234] ----/,/^};/{/^};/!d;}' \
	    -e 's/^#define BGJOB_API_VERSION .*/#define BGJOB_API_VERSION 1/' $< > $@
build/plugins/v2/bgjob.h: lib/bgjob.h
	@mkdir -p $(dir $@)
	sed -e '/---- version [34] ----/,/^};/{/^};/!d;}' \
	    -e 's/^#define BGJOB_API_VERSION .*/#define BGJOB_API_VERSION 2/' $< > $@
# The example built from the older headers, as plugins built for bgjob 0.1 and 0.2.
build/plugins/example-v%.so: examples/bgjob-example.c build/plugins/v%/bgjob.h
	$(CC) $(BASE_CFLAGS) -Ibuild/plugins/v$* -shared $< -o $@
build/plugins/noinit.so: tests/c/noinit_plugin.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -shared $< -o $@

# ---- C tests of lib/ (no bash) ----
build/c/%: tests/c/%.c $(LIB_OBJS_plain) $(LIB_HDRS) $(TEST_C_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(LIB_INC) $< $(LIB_OBJS_plain) -o $@ -lm
build/c-tsan/%: tests/c/%.c $(LIB_OBJS_tsan) $(LIB_HDRS) $(TEST_C_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(SAN_tsan) $(LIB_INC) $< $(LIB_OBJS_tsan) -o $@ -lm
build/c-asan/%: tests/c/%.c $(LIB_OBJS_asan) $(LIB_HDRS) $(TEST_C_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(SAN_asan) $(LIB_INC) $< $(LIB_OBJS_asan) -o $@ -lm

# The spawner's functions reach nothing through the dynamic linker
# (tests/c/spawner_calls.sh), checked on the plain and the ASan objects.
build/c/spawner_calls: tests/c/spawner_calls.sh build/plain/obj/lib/proc/spawner.o
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec tests/c/spawner_calls.sh build/plain/obj/lib/proc/spawner.o\n' > $@ && chmod +x $@
build/c-asan/spawner_calls: tests/c/spawner_calls.sh build/asan/obj/lib/proc/spawner.o
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec tests/c/spawner_calls.sh build/asan/obj/lib/proc/spawner.o\n' > $@ && chmod +x $@

test-c: $(addprefix build/c/,$(C_TESTS)) build/c/spawner_calls
	tests/run-c.sh plain $^
test-c-tsan: $(addprefix build/c-tsan/,$(C_TESTS))
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 die_after_fork=0 suppressions=$(CURDIR)/tests/c/tsan.supp" tests/run-c.sh tsan $^
test-c-asan: $(addprefix build/c-asan/,$(C_TESTS)) build/c-asan/spawner_calls
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run-c.sh asan $^

# ---- bats tests through the real bash ----
BATS_FILES := $(sort $(wildcard tests/[0-9][0-9]-*.bats))
# A test-only loadable builtin: the heap in use, for tests/stress/limits.bash.
build/tests/heapstat.so: tests/stress/heapstat.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(BASH_INC) -shared $< -o $@

BATS_DEPS := all build/plugins/badversion.so build/plugins/noinit.so build/plugins/example-v1.so build/plugins/example-v2.so build/tests/heapstat.so
test-bats: $(BATS_DEPS)
	BGJOB_SO=$(CURDIR)/bgjob.so tests/run-bats.sh $(BATS_FILES)
# gcc 12's ASan runtime does not make its allocator fork-safe (glibc's malloc
# is): a child forked while a worker is inside malloc (or while a new worker
# thread is starting) can hang.  The files of the ASan run fork no child while
# a job may be allocating (tests/90-badinput.bats builds its big strings with
# printf -v before any job exists; the signal tests wait for the job to run
# its callback first).  The files whose subject is forking while jobs run stay
# out of the ASan run of `make test`; check-full runs them too.  In every run
# each bash a test starts is under `timeout' (tests/helper.bash): a hang fails
# its test with a message instead of stalling the run.
BATS_FORK_HEAVY := tests/26-run-fork.bats tests/29-runtime-fork.bats tests/40-subshell.bats tests/50-exit-unload.bats tests/80-stress.bats
BATS_ASAN_FILES ?= $(filter-out $(BATS_FORK_HEAVY),$(BATS_FILES))
# The case of tests/90-badinput.bats that `make test' runs small under ASan
# (its full size costs some 800 MB and 1.5 CPU-minutes there, all of it
# scale): check-full runs it under ASan at full size as well.
BATS_FULL_ONLY := empty and large expressions
BATS_ASAN_DEPS := build/asan/bgjob.so examples/bgjob-example.so build/plugins/badversion.so build/plugins/noinit.so \
                  build/plugins/example-v1.so build/plugins/example-v2.so build/tests/heapstat.so
BATS_ASAN_RUN = BGJOB_SO=$(CURDIR)/build/asan/bgjob.so BGJOB_PRELOAD="$$($(CC) -print-file-name=libasan.so)" \
	  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(if $(BGJOB_TEST_SIZE),BGJOB_TEST_SIZE=$(BGJOB_TEST_SIZE)) tests/run-bats.sh
test-bats-asan: $(BATS_ASAN_DEPS)
	$(BATS_ASAN_RUN) $(BATS_ASAN_FILES)

# `make test' runs each bats run as two steps, every other file of its list
# in each (the files are of mixed lengths, so the halves come out about even):
# smaller steps pack better on the test lanes than two long ones, after which
# one lane would work alone.  Both halves record under the same suite name;
# tests/summary.sh adds them up.
odd_words = $(if $(1),$(firstword $(1)) $(call odd_words,$(wordlist 3,$(words $(1)),$(1))))
even_words = $(call odd_words,$(wordlist 2,$(words $(1)),$(1)))
.PHONY: test-bats-1 test-bats-2 test-bats-asan-1 test-bats-asan-2 test-bats-waiting
# The files whose tests spend most of their time waiting on daemons they
# start (the Slurm tests: slurmctld schedules, slurmd starts steps; about a
# fifth of their time is CPU) run as a third part of each bats run, a step
# that `make test' starts beside the others instead of on one of their lanes.
BATS_WAITING := tests/71-slurm.bats
BATS_LANE_FILES = $(filter-out $(BATS_WAITING),$(BATS_FILES))
BATS_ASAN_LANE_FILES = $(filter-out $(BATS_WAITING),$(BATS_ASAN_FILES))
test-bats-1: $(BATS_DEPS)
	BGJOB_SO=$(CURDIR)/bgjob.so BATS_PART=1 tests/run-bats.sh $(call odd_words,$(BATS_LANE_FILES))
test-bats-2: $(BATS_DEPS)
	BGJOB_SO=$(CURDIR)/bgjob.so BATS_PART=2 tests/run-bats.sh $(call even_words,$(BATS_LANE_FILES))
test-bats-asan-1: $(BATS_ASAN_DEPS)
	BATS_PART=1 $(BATS_ASAN_RUN) $(call odd_words,$(BATS_ASAN_LANE_FILES))
test-bats-asan-2: $(BATS_ASAN_DEPS)
	BATS_PART=2 $(BATS_ASAN_RUN) $(call even_words,$(BATS_ASAN_LANE_FILES))
# Both runs of the waiting files, one after the other (the plain run, then
# under ASan: each starts its own cluster).  -k: the second runs even when the
# first failed.
test-bats-waiting: $(BATS_DEPS) $(BATS_ASAN_DEPS)
	@$(MAKE) --no-print-directory -k test-bats-waiting-plain test-bats-waiting-asan
.PHONY: test-bats-waiting-plain test-bats-waiting-asan
test-bats-waiting-plain: $(BATS_DEPS)
	BGJOB_SO=$(CURDIR)/bgjob.so BATS_PART=3 tests/run-bats.sh $(filter $(BATS_WAITING),$(BATS_FILES))
test-bats-waiting-asan: $(BATS_ASAN_DEPS)
	BATS_PART=3 $(BATS_ASAN_RUN) $(filter $(BATS_WAITING),$(BATS_ASAN_FILES))

# Every suite's rules.  Plain `include': a missing file is an error, so a
# suite cannot drop out of `make test' unnoticed.  bench.mk is optional (the
# benchmarks are not a test).
include tests/arith/arith.mk
include tests/hardening.mk
-include bench/bench.mk
include plugins/plugins.mk

# The suites `make test' runs, as they record themselves in build/test-summary
# (:N, a suite run as N steps: a line each); tests/summary.sh fails when one
# of them recorded nothing, or fewer lines.
TEST_SUITES := c-plain c-tsan c-asan bats:3 bats-asan:3 arith fuzz-replay-cmdline fuzz-replay-arith \
               fuzz-cmdline fuzz-arith
# The steps, in the order they start (the longest first).
TEST_STEPS := test-bats-asan-1 test-bats-asan-2 test-bats-1 test-bats-2 test-arith-summary test-hardening test-c-tsan \
              test-c-asan test-c

.PHONY: test-arith-summary format-check
test-arith-summary:
	@tests/run-arith.sh $(MAKE) --no-print-directory test-arith

# Everything the steps run is built first (in parallel, once); then the steps
# run TEST_JOBS at a time (default 2, the longest first; TEST_JOBS=1 runs them
# one after the other), each step's output printed in one piece when it ends
# (--output-sync), and beside them test-bats-waiting, whose output is printed
# after theirs.  The steps share nothing but build/test-summary, to which
# each suite appends one line: the bats runs use temporary directories and
# ephemeral ports of their own; every suite writes its own logs.  Every step
# runs even when an earlier one failed (-k); the summary then prints one line
# per suite, in the order of TEST_SUITES, and, last, "N passed, M failed"
# counting suites.
TEST_JOBS ?= 2
TEST_BUILD := all build/asan/bgjob.so build/plugins/badversion.so build/plugins/noinit.so \
              build/plugins/example-v1.so build/plugins/example-v2.so build/tests/heapstat.so \
              $(addprefix build/c/,$(C_TESTS)) $(addprefix build/c-tsan/,$(C_TESTS)) $(addprefix build/c-asan/,$(C_TESTS)) \
              build/c/spawner_calls build/c-asan/spawner_calls build/arith/test_arith build/arith/difftest fuzz-build
test: deps
	@rm -f build/test-summary; rc=0; \
	$(MAKE) --no-print-directory -j$(TEST_JOBS) $(TEST_BUILD) || rc=1; \
	echo "make test: running test-bats-waiting beside $(TEST_STEPS), these $(TEST_JOBS) at a time; each step's output shows when it ends"; \
	$(MAKE) --no-print-directory DEPS_CHECKED=1 test-bats-waiting > build/test-bats-waiting.out 2>&1 & wpid=$$!; \
	$(MAKE) --no-print-directory -k -j$(TEST_JOBS) --output-sync=recurse DEPS_CHECKED=1 $(TEST_STEPS) || rc=1; \
	wait $$wpid || rc=1; cat build/test-bats-waiting.out; \
	tests/summary.sh $(TEST_SUITES) || rc=1; \
	exit $$rc

check-full: test
	$(MAKE) --no-print-directory test-bats-asan BATS_ASAN_FILES="$(BATS_FORK_HEAVY)"
	$(MAKE) --no-print-directory test-bats-asan BATS_ASAN_FILES="--filter '$(BATS_FULL_ONLY)' tests/90-badinput.bats" BGJOB_TEST_SIZE=full
	BGJOB_TEST_SIZE=full $(MAKE) --no-print-directory build/c-tsan/test_arith test-c-tsan C_TESTS=test_arith
	BGJOB_TEST_SIZE=full $(MAKE) --no-print-directory test-bats BATS_FILES="--filter 'many jobs through the node' tests/71-slurm.bats"
	$(MAKE) --no-print-directory check-arith-long
	$(MAKE) --no-print-directory check-hardening

# ---- formatting: every C file against .clang-format (changes nothing) ----
FORMAT_FILES = $(shell find lib builtin tests bench examples $(wildcard plugins) -name '*.[ch]' | sort)
format-check: deps-format
	clang-format --style=file --dry-run --Werror $(FORMAT_FILES)

demo: deps all
	bash --norc --noprofile examples/demo.sh "$(CURDIR)/bgjob.so"

# ---- install ----
LOADABLES_DIR := $(PREFIX)/lib/bash
INCLUDE_DIR := $(PREFIX)/include
PKGCONFIG_DIR := $(PREFIX)/lib/pkgconfig
COMPLETIONS_DIR := $(PREFIX)/share/bash-completion/completions
# (SDK_ONLY=1: only the header and bgjob.pc, for building plugins; it neither
# needs nor rebuilds bgjob.so, so a parallel build never writes it twice)
install: $(if $(SDK_ONLY),,bgjob.so)
	install -d $(DESTDIR)$(LOADABLES_DIR) $(DESTDIR)$(INCLUDE_DIR) $(DESTDIR)$(PKGCONFIG_DIR) $(DESTDIR)$(PLUGIN_DIR) $(DESTDIR)$(COMPLETIONS_DIR)
	install -m 644 builtin/bgjob-completion.bash $(DESTDIR)$(COMPLETIONS_DIR)/bgjob
	echo 'complete -F _bgjob_complete bgjob' >> $(DESTDIR)$(COMPLETIONS_DIR)/bgjob
	$(if $(SDK_ONLY),,install -m 755 bgjob.so $(DESTDIR)$(LOADABLES_DIR)/bgjob)
	install -m 644 lib/bgjob.h $(DESTDIR)$(INCLUDE_DIR)/bgjob.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' bgjob.pc.in > $(DESTDIR)$(PKGCONFIG_DIR)/bgjob.pc
	$(if $(SDK_ONLY),,$(MAKE) --no-print-directory install-plugins)
uninstall:
	rm -f $(DESTDIR)$(LOADABLES_DIR)/bgjob $(DESTDIR)$(INCLUDE_DIR)/bgjob.h $(DESTDIR)$(PKGCONFIG_DIR)/bgjob.pc \
	  $(DESTDIR)$(COMPLETIONS_DIR)/bgjob

# ---- Debian packages ----
DEB_BUILD := gcc make libc6-dev bash-builtins pkg-config libssl-dev libcurl4-openssl-dev
# (the Slurm daemons and clients: tests/71-slurm.bats starts a one-node cluster;
# jq and GNU parallel: tests/68-records.bats checks JSON and the joblog against them)
DEB_TEST := bats bats-assert bats-support tmux pkg-config procps coreutils python3 jq parallel \
            slurmctld slurmd slurm-client munge
DEB_FORMAT := clang-format
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null \
	    || { echo "make deps: apt-get failed for: $$missing" >&2; exit 1; }; \
	fi
endef
# The step phase of `make test' passes DEPS_CHECKED=1: its build phase checked
# every package already, and a check that runs there (a shell, dpkg per
# package) would hold a job slot while a bats step waits for it, so that a
# later step took that slot first.
deps-build:
	$(if $(DEPS_CHECKED),,$(call apt_install,$(DEB_BUILD)))
deps:
	$(call apt_install,$(DEB_BUILD) $(DEB_TEST) $(DEB_FORMAT))
deps-format:
	$(call apt_install,$(DEB_FORMAT))

clean:
	rm -rf build bgjob.so examples/bgjob-example.so
