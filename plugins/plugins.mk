# plugins/plugins.mk - the plugins shipped with bgjob (digest: OpenSSL
# message digests; fetch: libcurl transfers; slurm: commands as Slurm job steps), built the way a third-party
# author builds one: each plugin's own Makefile, against a staged
# `make install` of the SDK found through pkg-config, never against lib/.
#
#   make                 builds build/plugins/{digest,fetch,slurm}.so as well
#   make test-plugins    their bats files (tests/66-digest.bats, tests/67-fetch.bats, tests/71-slurm.bats)
#   make test-plugins-asan  the same with the plugins and bgjob built with ASan/UBSan
#   make bench-plugins   bench/plugins_bench.sh (QUICK=1: small counts)
#   make install         installs them as $(PREFIX)/lib/bgjob/plugins/NAME.so

PLUGINS := digest fetch slurm
PLUGIN_SOS := $(PLUGINS:%=build/plugins/%.so)
PLUGIN_ASAN_SOS := $(PLUGINS:%=build/plugins-asan/%.so)
PLUGIN_DIR := $(PREFIX)/lib/bgjob/plugins
SDK := $(CURDIR)/build/sdk
# pkg-config sees only the staged SDK's bgjob.pc, rooted in the staging directory.
SDK_ENV := PKG_CONFIG_PATH=$(SDK)/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$(SDK)
PLUGIN_CFLAGS := -O2 -g -Wall -Wextra -Werror

.PHONY: test-plugins test-plugins-asan install-plugins uninstall-plugins clean-plugins

all: $(PLUGIN_SOS)

build/sdk/.stamp: lib/bgjob.h bgjob.pc.in Makefile
	rm -rf $(SDK)
	$(MAKE) --no-print-directory install DESTDIR=$(SDK) PREFIX=/usr SDK_ONLY=1
	touch $@

build/plugins/digest.so build/plugins-asan/digest.so: plugins/digest/digest.c plugins/common/plugin_util.h plugins/common/openssl_init.h
build/plugins/fetch.so build/plugins-asan/fetch.so: plugins/fetch/fetch.c plugins/fetch/handles.c plugins/fetch/handles.h plugins/common/plugin_util.h plugins/common/openssl_init.h
build/plugins/slurm.so build/plugins-asan/slurm.so: plugins/slurm/slurm.c plugins/slurm/watch.c plugins/slurm/slurm_int.h plugins/common/plugin_util.h
# The target is removed first so that the plugin's own Makefile always
# rebuilds it: a new header or .pc in the SDK reaches every plugin.
build/plugins/%.so: plugins/%/Makefile build/sdk/.stamp
	@mkdir -p $(dir $@); rm -f $@
	$(SDK_ENV) $(MAKE) --no-print-directory -C plugins/$* OUT=$(CURDIR)/build/plugins \
	  CC="$(CC)" CFLAGS="$(PLUGIN_CFLAGS)"

build/plugins-asan/%.so: plugins/%/Makefile build/sdk/.stamp
	@mkdir -p $(dir $@); rm -f $@
	$(SDK_ENV) $(MAKE) --no-print-directory -C plugins/$* OUT=$(CURDIR)/build/plugins-asan \
	  CC="$(CC)" CFLAGS="$(PLUGIN_CFLAGS) $(SAN_asan)"

PLUGIN_BATS := tests/66-digest.bats tests/67-fetch.bats tests/71-slurm.bats
test-plugins: all
	BGJOB_SO=$(CURDIR)/bgjob.so tests/run-bats.sh $(PLUGIN_BATS)
# The plugins built with ASan/UBSan, loaded by the ASan build of bgjob.
test-plugins-asan: build/asan/bgjob.so $(PLUGIN_ASAN_SOS)
	BGJOB_SO=$(CURDIR)/build/asan/bgjob.so BGJOB_PLUGINS=$(CURDIR)/build/plugins-asan \
	  BGJOB_PRELOAD="$$($(CC) -print-file-name=libasan.so)" \
	  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  tests/run-bats.sh $(PLUGIN_BATS)

install-plugins: $(PLUGIN_SOS)
	install -d $(DESTDIR)$(PLUGIN_DIR)
	install -m 755 $(PLUGIN_SOS) $(DESTDIR)$(PLUGIN_DIR)/
uninstall: uninstall-plugins
uninstall-plugins:
	rm -f $(PLUGINS:%=$(DESTDIR)$(PLUGIN_DIR)/%.so)
clean: clean-plugins
clean-plugins:
	rm -f $(foreach p,$(PLUGINS),plugins/$(p)/$(p).so)
