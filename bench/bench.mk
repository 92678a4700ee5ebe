# bench/bench.mk - `make bench`: bgjob against the ways bash users run background
# work today, same run, same machine (docs/benchmarks.md).
#
#   make bench            full run (5 reps, about 2-5 minutes)
#   make bench QUICK=1    smaller counts, under a minute
#   make bench REPS=5     repetitions (default 5)
#
# Prints a table (median, min-max, ratios within a rep), writes
# bench/results/{raw,summary}-STAMP.tsv and bench/results/chart.png
# (copied to docs/bench-chart.png).  A benchmark, not a test: it asserts nothing.

QUICK ?=
REPS ?= 5
BENCH_PEERS := parallel python3-ipython curl

.PHONY: bench deps-bench

build/bench/cpuscale: bench/cpuscale.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -pthread $< -o $@

build/bench/spawn_floor: bench/spawn_floor.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror $< -o $@

build/bench/slow_writer: bench/slow_writer.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror $< -o $@

build/bench/http_floor: bench/http_floor.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror $< -o $@

bench: bgjob.so examples/bgjob-example.so build/bench/cpuscale build/bench/spawn_floor deps-bench
	@QUICK=$(QUICK) REPS=$(REPS) BGJOB_SO=$(CURDIR)/bgjob.so \
	  BGJOB_PLUGIN=$(CURDIR)/examples/bgjob-example.so CPUSCALE=$(CURDIR)/build/bench/cpuscale \
	  bash bench/run.sh
	@BGJOB_SO=$(CURDIR)/bgjob.so SPAWN_FLOOR=$(CURDIR)/build/bench/spawn_floor \
	  bash bench/run_bench.sh $(if $(QUICK),100 1000000)
	@BGJOB_SO=$(CURDIR)/bgjob.so bash bench/new_cost.sh $(if $(QUICK),20000 2,100000 3)
	@BGJOB_SO=$(CURDIR)/bgjob.so bash bench/flow_bench.sh $(if $(QUICK),2000 2,10000 3)
	@$(MAKE) --no-print-directory bench-runtime QUICK=$(QUICK)
	@$(MAKE) --no-print-directory bench-slurm QUICK=$(QUICK)
	@$(MAKE) --no-print-directory bench-records QUICK=$(QUICK)
	@$(MAKE) --no-print-directory bench-plugins QUICK=$(QUICK)

# The records: status --json over 100,000 jobs and a log of 100,000 lines,
# each against status > /dev/null in the same shell (bench/records_bench.sh).
.PHONY: bench-records
bench-records: bgjob.so
	@REPS=$(REPS) BGJOB_SO=$(CURDIR)/bgjob.so bash bench/records_bench.sh $(if $(QUICK),10000,100000)

# Optional peers.  Installs what is missing (sudo when not root); never fails:
# what could not be installed is recorded in bench/results/deps.log and the
# rows that need it are reported as skipped with that reason.
deps-bench:
	@mkdir -p bench/results; : > bench/results/deps.log; \
	missing=; \
	for p in $(BENCH_PEERS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	dpkg -s gnuplot-nox >/dev/null 2>&1 || dpkg -s gnuplot >/dev/null 2>&1 || \
	  command -v gnuplot >/dev/null || missing="$$missing gnuplot-nox"; \
	if [ -n "$$missing" ]; then \
	  echo "deps-bench: installing$$missing"; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  if [ -n "$$sudo" ] && ! command -v sudo >/dev/null; then \
	    reason="not root and no sudo"; \
	  elif $$sudo apt-get update -qq >/dev/null 2>&1 && \
	       DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null 2>bench/results/apt.err; then \
	    reason=; \
	  else \
	    reason="apt-get install failed: $$(tail -n1 bench/results/apt.err 2>/dev/null)"; \
	  fi; \
	  for p in $$missing; do \
	    dpkg -s $$p >/dev/null 2>&1 && continue; \
	    [ $$p = gnuplot-nox ] && p=gnuplot; \
	    printf '%s\t%s\n' $$p "$${reason:-apt-get did not install it}" >> bench/results/deps.log; \
	    echo "deps-bench: $$p unavailable ($${reason:-not installed}); its rows will be skipped"; \
	  done; \
	fi

# The digest and fetch plugins against a process per item and one process
# over all items (bench/plugins_bench.sh; QUICK=1 for small counts,
# PLUGINS_REPS repetitions, default 3).  Also the last step of `make bench`.
.PHONY: bench-plugins
PLUGINS_REPS ?= 3
bench-plugins: all
	@QUICK=$(QUICK) REPS=$(PLUGINS_REPS) BGJOB_SO=$(CURDIR)/bgjob.so BGJOB_PLUGINS=$(CURDIR)/build/plugins \
	  bash bench/plugins_bench.sh
	@$(MAKE) --no-print-directory bench-fetch-server

# What the fetch rows' server can serve at all, by clients that ask for more
# or less at once, with the server's CPU time (bench/fetch_server.sh).
# Also the last step of `make bench-plugins`.
.PHONY: bench-fetch-server
bench-fetch-server: all build/bench/http_floor
	@BGJOB_SO=$(CURDIR)/bgjob.so BGJOB_PLUGINS=$(CURDIR)/build/plugins HTTP_FLOOR=$(CURDIR)/build/bench/http_floor \
	  bash bench/fetch_server.sh $(PLUGINS_REPS)

# The slurm plugin against GNU parallel + srun and an sbatch array, on a
# one-node cluster the script starts and stops (root; else it says so).
.PHONY: bench-slurm
bench-slurm: all
	QUICK=$(QUICK) BGJOB_SO=$(CURDIR)/bgjob.so SLURM_SO=$(CURDIR)/build/plugins/slurm.so \
	  bash bench/slurm_bench.sh

# The process runtime (bench/runtime_bench.sh): kill latency and idle wakeups
# with 64 commands running, the shell's CPU capturing 60 MB, peak memory of a
# 50 MB result, the run round trip against the C floor and against the 0.2
# build.  That build is BGJOB_SO_BASE if given, else bgjob.so of revision
# BENCH_BASE_REV built from git into build/bench/base/ (the 0.2 column is
# skipped, with the reason, when neither works).  RUNTIME_REPS (default 3), QUICK=1.
BENCH_BASE_REV ?= 37ed342
BGJOB_SO_BASE ?=
RUNTIME_REPS ?= 3
.PHONY: bench-runtime
bench-runtime: bgjob.so build/bench/spawn_floor build/bench/slow_writer
	@base='$(BGJOB_SO_BASE)'; \
	if [ -z "$$base" ]; then \
	  d=$(CURDIR)/build/bench/base; \
	  if [ -f $$d/bgjob.so ] && [ "$$(cat $$d/rev 2>/dev/null)" = "$(BENCH_BASE_REV)" ]; then base=$$d/bgjob.so; \
	  elif command -v git >/dev/null && git rev-parse --verify -q '$(BENCH_BASE_REV)^{commit}' >/dev/null; then \
	    echo "bench-runtime: building the base bgjob.so ($(BENCH_BASE_REV)) in build/bench/base"; \
	    rm -rf $$d && mkdir -p $$d/src && git archive '$(BENCH_BASE_REV)' | tar -x -C $$d/src && \
	    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(MAKE) -C $$d/src bgjob.so > $$d/build.log 2>&1 && \
	    cp $$d/src/bgjob.so $$d/bgjob.so && echo '$(BENCH_BASE_REV)' > $$d/rev && base=$$d/bgjob.so || \
	    echo "bench-runtime: building $(BENCH_BASE_REV) failed (see $$d/build.log); the 0.2 column is skipped"; \
	  else echo "bench-runtime: no git or no revision $(BENCH_BASE_REV); the 0.2 column is skipped"; fi; \
	fi; \
	QUICK=$(QUICK) REPS=$(RUNTIME_REPS) BGJOB_SO=$(CURDIR)/bgjob.so BGJOB_SO_BASE=$$base \
	  SPAWN_FLOOR=$(CURDIR)/build/bench/spawn_floor SLOW_WRITER=$(CURDIR)/build/bench/slow_writer \
	  bash bench/runtime_bench.sh
