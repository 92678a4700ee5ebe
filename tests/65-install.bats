#!/usr/bin/env bats
# 65-install: `make install` lays out the builtin, the plugin header, the
# pkg-config file and the plugin directory so that `enable bgjob` and a plugin
# build work from them.

load helper

setup() {
  DEST=$BATS_TEST_TMPDIR/dest
  PREFIX=/opt/bgjob-test
  run -0 make -s -C "$BGJOB_ROOT" install DESTDIR="$DEST" PREFIX="$PREFIX"
  ROOT=$DEST$PREFIX
}

@test "make install puts the builtin, the header, bgjob.pc and the plugin directory under DESTDIR/PREFIX" {
  [ -x "$ROOT/lib/bash/bgjob" ]
  [ -f "$ROOT/include/bgjob.h" ]
  [ -d "$ROOT/lib/bgjob/plugins" ]
  run -0 cat "$ROOT/lib/pkgconfig/bgjob.pc"
  assert_line "prefix=$PREFIX"
  assert_line --partial 'Cflags: -I${includedir}'
}

@test "make install puts the tab completion where bash-completion looks, and sourcing it registers it" {
  local f=$ROOT/share/bash-completion/completions/bgjob
  [ -f "$f" ]
  run -0 bash --norc --noprofile -c 'source "$1" && complete -p bgjob' _ "$f"
  assert_output 'complete -F _bgjob_complete bgjob'
}

@test "enable bgjob finds the installed builtin through BASH_LOADABLES_PATH" {
  run -0 bgjob_timeout env BASH_LOADABLES_PATH="$ROOT/lib/bash" bash --norc --noprofile -c \
    'enable bgjob && bgjob new -v id "6 * 7" && bgjob wait $id && bgjob result $id'
  assert_output 42
}

@test "a plugin builds against the installed header with pkg-config and loads" {
  sed -i "s|^prefix=.*|prefix=$ROOT|" "$ROOT/lib/pkgconfig/bgjob.pc"
  run -0 env PKG_CONFIG_PATH="$ROOT/lib/pkgconfig" pkg-config --cflags bgjob
  cflags=$output
  run -0 cc -shared -fPIC $cflags -o "$BATS_TEST_TMPDIR/example.so" "$BGJOB_ROOT/examples/bgjob-example.c"
  run -0 bgsh 'bgjob load "$1" && bgjob new -f join built from the installed header && bgjob wait && bgjob result 0' \
    "$BATS_TEST_TMPDIR/example.so"
  assert_output 'built from the installed header'
}

@test "after make, make install PREFIX=P (no DESTDIR) gives a builtin that loads P's plugins by name" {
  local p=$BATS_TEST_TMPDIR/prefix
  run -0 make -s -C "$BGJOB_ROOT" install PREFIX="$p"
  cd "$BATS_TEST_TMPDIR" && printf 'abc' > file
  run -0 bgjob_timeout env BASH_LOADABLES_PATH="$p/lib/bash" bash --norc --noprofile -c \
    'enable bgjob && bgjob --version | tail -n 1 && bgjob load digest && bgjob new -f digest file && bgjob wait 0 && bgjob result 0'
  assert_output "plugin directory $p/lib/bgjob/plugins
$(sha256sum file)"
}
