#!/usr/bin/env bats
# 05-docs: README.md and bgjob agree.  The "## Commands" list is what
# `bgjob --usage` prints, and every ```bash block of README runs as shown:
# a transcript (its commands are the lines that start with `$ `, the other
# lines their output) prints that output, progress percentages aside, every
# time; a script runs without an error and prints the ```text block that
# follows it.

load helper

README=$BGJOB_ROOT/README.md

# split_blocks DIR: writes README's fenced blocks to DIR/NNN.LANG (LANG "plain" when none).
split_blocks() {
  mkdir -p "$1"
  awk -v dir="$1" '
    !inb && /^```/ { inb = 1; n++; lang = substr($0, 4); if (lang == "") lang = "plain"
                     file = sprintf("%s/%03d.%s", dir, n, lang); printf "" > file; next }
    inb && /^```$/ { inb = 0; close(file); next }
    inb { print > file }' "$README"
}

# run_doc FILE: runs FILE with bash in the source tree, bgjob.so taken from BGJOB_SO.
run_doc() {
  sed 's|enable -f \./bgjob\.so bgjob|enable -f "$BGJOB_SO" bgjob|' "$1" > "$1.run"
  (cd "$BGJOB_ROOT" && env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile "$1.run" 3>&-)
}

@test "README's command list is exactly what bgjob --usage prints" {
  local listed
  listed=$(awk '/^## Commands/ { f = 1; next } f && /^```/ { if (inb) exit; inb = 1; next } inb' "$README")
  [[ -n $listed ]] || fail "no code block under ## Commands in README.md"
  run -0 --separate-stderr bgsh 'bgjob --usage'
  assert_equal "$output" "$listed"
}

@test "every README transcript prints what it shows, 20 times in a row" {
  local dir=$BATS_TEST_TMPDIR/blocks f n=0 i
  split_blocks "$dir"
  for f in "$dir"/*.bash; do
    grep -q '^\$ ' "$f" || continue
    n=$((n + 1))
    sed -n 's/^\$ //p' "$f" > "$f.cmds"
    local expected
    expected=$(grep -v '^\$ ' "$f" | sed -E 's/ \([0-9]+%\)$//')
    for i in {1..20}; do
      run -0 --separate-stderr run_doc "$f.cmds"
      output=$(sed -E 's/ \([0-9]+%\)$//' <<< "$output")
      [[ $output == "$expected" && -z $stderr ]] ||
        fail "README transcript $(basename "$f"), run $i: got
$output
stderr: $stderr
instead of
$expected"
    done
  done
  (( n > 0 )) || fail "README.md has no transcript block"
}

@test "every README script block runs cleanly and prints the text block after it" {
  local dir=$BATS_TEST_TMPDIR/blocks f n=0 next
  split_blocks "$dir"
  for f in "$dir"/*.bash; do
    grep -q '^\$ ' "$f" && continue
    n=$((n + 1))
    run -0 --separate-stderr run_doc "$f"
    assert_equal "$stderr" ''
    next=$(printf '%s/%03d.text' "$dir" $((10#$(basename "$f" .bash) + 1)))
    if [[ -f $next ]]; then
      assert_equal "$output" "$(cat "$next")"
    fi
  done
  (( n > 0 )) || fail "README.md has no script block"
}
