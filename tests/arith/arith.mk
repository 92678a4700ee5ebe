# arith.mk - tests and benchmark of the arithmetic evaluator (lib/arith/)
# against the system's bash.  Included by the top Makefile;
#
#   test-arith        C unit tests, the whole catalogue, a seeded random run (~20 s)
#   test-arith-asan   the C unit tests under AddressSanitizer + UBSan
#   test-arith-tsan   the C unit tests under ThreadSanitizer
#   check-arith-long  COUNT random cases (default 1000000; SEED= to replay)
#   bench-arith       our evaluator against bash's own cost per expression

ARITH_CC ?= $(if $(filter default,$(origin CC)),gcc,$(CC))
ARITH_CFLAGS ?= -std=gnu11 -Wall -Wextra -Werror -O2 -g -pthread
ARITH_LIB := $(filter-out lib/arith/arith_job.c,$(wildcard lib/arith/*.c)) lib/strbuf.c lib/names.c lib/errors.c
ARITH_HDRS := $(wildcard lib/arith/*.h) lib/strbuf.h lib/names.h lib/errors.h
ARITH_DIFF_SRCS := tests/arith/difftest.c tests/arith/state.c tests/arith/catalogue.c tests/arith/gen.c
ARITH_BASH ?= /bin/bash
ARITH_SEED ?= 20240611
ARITH_COUNT ?= 15000
COUNT ?= 1000000

.PHONY: test-arith test-arith-asan test-arith-tsan check-arith-long bench-arith

build/arith/difftest: $(ARITH_DIFF_SRCS) tests/arith/difftest.h $(ARITH_LIB) $(ARITH_HDRS)
	@mkdir -p $(dir $@)
	$(ARITH_CC) $(ARITH_CFLAGS) -Ilib -Ilib/arith $(ARITH_DIFF_SRCS) $(ARITH_LIB) -o $@

build/arith/test_arith: tests/c/test_arith.c $(ARITH_LIB) $(ARITH_HDRS)
	@mkdir -p $(dir $@)
	$(ARITH_CC) $(ARITH_CFLAGS) -Ilib -Ilib/arith -Itests/c $< $(ARITH_LIB) -o $@

build/arith/test_arith_asan: tests/c/test_arith.c $(ARITH_LIB) $(ARITH_HDRS)
	@mkdir -p $(dir $@)
	$(ARITH_CC) $(ARITH_CFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  -fno-omit-frame-pointer -Ilib -Ilib/arith -Itests/c $< $(ARITH_LIB) -o $@

build/arith/test_arith_tsan: tests/c/test_arith.c $(ARITH_LIB) $(ARITH_HDRS)
	@mkdir -p $(dir $@)
	$(ARITH_CC) $(ARITH_CFLAGS) -O1 -fsanitize=thread -Ilib -Ilib/arith -Itests/c $< $(ARITH_LIB) -o $@

build/arith/bench: bench/arith_bench.c $(ARITH_LIB) $(ARITH_HDRS)
	@mkdir -p $(dir $@)
	$(ARITH_CC) $(ARITH_CFLAGS) -Ilib -Ilib/arith $< $(ARITH_LIB) -o $@

test-arith: build/arith/test_arith build/arith/difftest
	build/arith/test_arith
	build/arith/difftest -d build/arith catalogue tests/arith/catalogue.txt
	build/arith/difftest -d build/arith random $(if $(SEED),$(SEED),$(ARITH_SEED)) $(ARITH_COUNT)

test-arith-asan: build/arith/test_arith_asan
	ASAN_OPTIONS=detect_leaks=1 build/arith/test_arith_asan

test-arith-tsan: build/arith/test_arith_tsan
	build/arith/test_arith_tsan

check-arith-long: build/arith/difftest
	build/arith/difftest -b 2000 -d build/arith random $(if $(SEED),$(SEED),$$(od -An -N4 -tu4 /dev/urandom)) $(COUNT)

bench-arith: build/arith/bench
	build/arith/bench $(ARITH_BASH)
