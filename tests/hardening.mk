# hardening.mk - sanitizers, fuzzing, stress.  Included by the top Makefile
# (include tests/hardening.mk); `make test` runs test-hardening,
# `make check-full` runs check-hardening.
#
#   make test-hardening     fast: fuzz regressions + seed corpora replayed,
#                           each fuzzer FUZZ_QUICK_SECONDS (10 s)
#   make check-hardening    full: fuzzers FUZZ_SECONDS (60 s) each, the C soak
#                           with SOAK_JOBS (100000) jobs under TSan and ASan,
#                           the real-bash stress scenarios at full size
#                           (tests/stress/*.bash), helgrind and memcheck runs
#   make fuzz-cmdline fuzz-arith [FUZZ_SECONDS=N]
#   make stress-full        only the real-bash stress scenarios, full size
#   make helgrind memcheck  valgrind runs of tests/stress/valgrind.bash
#
# Each step appends "SUITE UNIT PASSED FAILED [NOTE]" to build/test-summary.  Other parts
# (tests/c/test_soak.c, tests/80-stress.bats, tests/90-badinput.bats) run
# through the top Makefile's test-c*, test-bats and test-bats-asan rules.

FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60
FUZZ_QUICK_SECONDS ?= 10
SOAK_JOBS ?= 100000
DEB_HARDENING := clang libclang-rt-14-dev valgrind bats bats-assert bats-support

.PHONY: deps-hardening test-hardening check-hardening fuzz-build fuzz-replay fuzz-cmdline fuzz-arith \
        fuzz-quick soak-full stress-full helgrind memcheck

deps-hardening:
	$(if $(DEPS_CHECKED),,$(call apt_install,$(DEB_HARDENING)))

# ---- libFuzzer targets (no bash) ----
build/fuzz/fuzz_cmdline: tests/fuzz/fuzz_cmdline.c lib/cmdline.c lib/cmdline.h lib/errors.c lib/errors.h | deps-hardening
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ilib $< lib/cmdline.c lib/errors.c -lm -o $@
build/fuzz/fuzz_arith: tests/fuzz/fuzz_arith.c $(ARITH_SRCS) lib/arith/arith.h lib/arith/vars.h | deps-hardening
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ilib -Ilib/arith $< $(ARITH_SRCS) -lm -o $@
fuzz-build: build/fuzz/fuzz_cmdline build/fuzz/fuzz_arith

# Each step runs even when the one before failed (every suite records its line).
fuzz-replay: fuzz-build
	@rc=0; \
	tests/fuzz/run-fuzz.sh replay cmdline build/fuzz/fuzz_cmdline || rc=1; \
	tests/fuzz/run-fuzz.sh replay arith build/fuzz/fuzz_arith || rc=1; \
	exit $$rc
fuzz-cmdline: build/fuzz/fuzz_cmdline
	tests/fuzz/run-fuzz.sh fuzz cmdline $< $(FUZZ_SECONDS)
fuzz-arith: build/fuzz/fuzz_arith
	tests/fuzz/run-fuzz.sh fuzz arith $< $(FUZZ_SECONDS)
fuzz-quick: fuzz-build
	@rc=0; \
	$(MAKE) --no-print-directory fuzz-cmdline FUZZ_SECONDS=$(FUZZ_QUICK_SECONDS) || rc=1; \
	$(MAKE) --no-print-directory fuzz-arith FUZZ_SECONDS=$(FUZZ_QUICK_SECONDS) || rc=1; \
	exit $$rc

# ---- the C soak at full size (the default size runs in test-c, -tsan, -asan) ----
soak-full: build/c-tsan/test_soak build/c-asan/test_soak
	BGJ_SOAK_JOBS=$(SOAK_JOBS) TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 die_after_fork=0" \
	  tests/run-c.sh soak-tsan build/c-tsan/test_soak
	BGJ_SOAK_JOBS=$(SOAK_JOBS) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  tests/run-c.sh soak-asan build/c-asan/test_soak

# ---- real bash: the stress scenarios at full size ----
stress-full: all build/tests/heapstat.so
	BGJOB_SO=$(CURDIR)/bgjob.so EXAMPLE_SO=$(CURDIR)/examples/bgjob-example.so DIGEST_SO=$(CURDIR)/build/plugins/digest.so STRESS=full tests/stress/run.sh

# ---- valgrind on the stock bash: helgrind (races, lock order) and memcheck ----
VALGRIND_SCRIPT := tests/stress/valgrind.bash
helgrind: all
	tests/stress/valgrind.sh helgrind $(CURDIR)/bgjob.so $(VALGRIND_SCRIPT)
memcheck: all
	tests/stress/valgrind.sh memcheck $(CURDIR)/bgjob.so $(VALGRIND_SCRIPT)

test-hardening: deps-hardening
	@rc=0; \
	$(MAKE) --no-print-directory fuzz-replay || rc=1; \
	$(MAKE) --no-print-directory fuzz-quick || rc=1; \
	exit $$rc

check-hardening: deps-hardening
	@rc=0; \
	for t in fuzz-replay fuzz-cmdline fuzz-arith soak-full stress-full helgrind memcheck; do \
	  $(MAKE) --no-print-directory $$t || rc=1; \
	done; \
	tests/summary.sh fuzz-replay-cmdline fuzz-replay-arith fuzz-cmdline fuzz-arith c-soak-tsan c-soak-asan \
	  stress valgrind-helgrind valgrind-memcheck || rc=1; exit $$rc
