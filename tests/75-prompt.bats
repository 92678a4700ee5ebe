#!/usr/bin/env bats
# 75-prompt: bgjob at the interactive prompt, in a real bash in tmux:
# completion notices (`notify prompt|now|off`), handlers at the prompt, the
# progress line of `wait`, tab completion, and the readline hooks going away
# with `enable -d`.  Also: nothing of this in a script.

load helper
load interactive/tmux

teardown() {
  tmux_stop
}

# Defined in the pane's shell: waits for every job to end without reaching a
# safe point (`bgjob __complete` runs no handler and marks nothing seen).
UNTIL='until_finished() { local f=$HOME/unfinished; while bgjob __complete ids unfinished > "$f"; [[ -s $f ]]; do :; done; }'

start_shell() {
  tmux_start
  tmux_type 'enable -f "$BGJOB_SO" bgjob; '"$UNTIL"'; echo READ""Y'
  wait_for 30 pane_contains_line READY || { pane_text; fail "bgjob not enabled"; }
}

# last_line: the last non-empty line of the pane.
last_line() {
  pane_text | sed -e '/^[[:space:]]*$/d' -e 's/[[:space:]]*$//' | tail -n 1
}

# line_after TEXT: the line that follows the first line exactly TEXT.
line_after() {
  pane_text | sed 's/[[:space:]]*$//' | awk -v t="$1" 'f { print; exit } $0 == t { f = 1 }'
}

# Records everything the pane's programs write (erased lines too) in $RAW.
# Types CMDS, then an echo of MARK (typed split, so that only the echo's
# output is a line equal to MARK), and waits for that line and the prompt.
type_to_prompt() {
  tmux_type "$2; echo ${1:0:2}\"\"${1:2}"
  wait_for 30 pane_contains_line "$1" || { pane_text; fail "no $1"; }
  wait_for 30 pane_has_prompt || { pane_text; fail "no prompt"; }
}

record_raw() {
  RAW=$BATS_TEST_TMPDIR/raw
  : > "$RAW"
  tmux_cmd pipe-pane -o "cat >> '$RAW'"
}

# Typed into the pane's shell: C-t kills job 0 from inside readline (bind -x),
# so a job ends while a half-typed line waits, when the test says so.
KILL_KEY='bind -x '\''"\C-t": bgjob kill 0'\'

cursor_x() {
  tmux_cmd display-message -p '#{cursor_x}'
}

@test "notify prompt (the default): a notice per ended job just before the next prompt, and the job counts as seen" {
  start_shell
  type_to_prompt MARK 'bgjob notify; bgjob new 6*7; bgjob new 1/0; until_finished'
  run -0 pane_contains_line prompt
  assert_equal "$(line_after MARK)" 'bgjob: 0 Completed  6*7'
  assert_equal "$(line_after 'bgjob: 0 Completed  6*7')" 'bgjob: 1 Dead  1/0'
  assert_equal "$(line_after 'bgjob: 1 Dead  1/0')" "${TMUX_PROMPT% }"
  # shown once, and seen: status -n has nothing new, flush does not refuse
  tmux_type 'echo "new=[$(bgjob status -n)]"; bgjob flush; echo "flush=$?"'
  wait_for 30 pane_contains_line 'flush=0' || { pane_text; fail "flush refused"; }
  run -0 pane_contains_line 'new=[]'
  [ "$(pane_text | grep -c '^bgjob: 0 Completed')" = 1 ] || { pane_text; fail "the notice was shown twice"; }
  # a job already reported (here by status) gets no notice
  type_to_prompt MARK3 'bgjob new 9; until_finished; bgjob status -v S'
  assert_equal "$(line_after MARK3)" "${TMUX_PROMPT% }"
}

@test "notify off: no notice, and the job stays unseen" {
  start_shell
  type_to_prompt MARK 'bgjob notify off; bgjob notify; bgjob new 5; until_finished'
  run -0 pane_contains_line off
  assert_equal "$(line_after MARK)" "${TMUX_PROMPT% }"
  tmux_type 'bgjob status -n'
  wait_for 30 pane_contains_line '0 : 5' || { pane_text; fail "the job is not unseen"; }
  run ! pane_contains_line 'bgjob: 0 Completed  5'
}

@test "notify now: the notice appears while a half-typed command waits, which is redrawn intact and still runs" {
  start_shell
  type_to_prompt MARK "$KILL_KEY"'; bgjob notify now; bgjob new -f sleep 60 later'
  # half a command, the cursor moved two places left, while the job runs
  tmux_cmd send-keys -l -- 'echo half'
  tmux_key Left
  tmux_key Left
  local want_x=$(( ${#TMUX_PROMPT} + 7 ))
  wait_for 30 test_cursor "$want_x" || { pane_text; fail "cursor not at $want_x"; }
  run ! pane_contains_line 'bgjob: 0 Dead  sleep 60 later'
  # the job ends now
  tmux_key C-t
  wait_for 60 pane_contains_line 'bgjob: 0 Dead  sleep 60 later' || { pane_text; fail "no notice while readline waits"; }
  # the notice is above the prompt, the prompt and text are redrawn, the cursor where it was
  assert_equal "$(line_after 'bgjob: 0 Dead  sleep 60 later')" "${TMUX_PROMPT}echo half"
  assert_equal "$(last_line)" "${TMUX_PROMPT}echo half"
  wait_for 5 test_cursor "$want_x" || { pane_text; fail "cursor moved: $(cursor_x), wanted $want_x"; }
  tmux_cmd send-keys -l -- 'X'
  tmux_key Enter
  wait_for 30 pane_contains_line 'haXlf' || { pane_text; fail "the half command did not run as edited"; }
}

test_cursor() {
  [ "$(cursor_x)" = "$1" ]
}

@test "notify now prints nothing while a foreground command runs: the notice waits for the prompt" {
  start_shell
  tmux_type 'bgjob notify now; bgjob new -f sleep 0.3 quick; echo BEF""ORE; until_finished; echo AFT""ER'
  wait_for 30 pane_contains_line AFTER || { pane_text; fail "no AFTER"; }
  wait_for 30 pane_has_prompt || { pane_text; fail "no prompt"; }
  assert_equal "$(line_after BEFORE)" AFTER
  assert_equal "$(line_after AFTER)" 'bgjob: 0 Completed  sleep 0.3 quick'
}

@test "a completion handler runs before the next prompt, after the notices, also with notify off" {
  start_shell
  type_to_prompt MARK 'h() { echo "H $1 $2"; }; bgjob new -c h 5; until_finished'
  assert_equal "$(line_after MARK)" 'bgjob: 0 Completed  5'
  assert_equal "$(line_after 'bgjob: 0 Completed  5')" 'H 0 Completed'
  # with notify off, a handler still runs before the prompt, without a notice
  type_to_prompt MARK2 'bgjob notify off; bgjob new -c h 6; until_finished'
  assert_equal "$(line_after MARK2)" 'H 1 Completed'
  [ "$(pane_text | grep -c '^H 0 Completed')" = 1 ] || { pane_text; fail "handler ran twice"; }
  # $? is the last command's, not the handler's
  tmux_type 'bgjob new -c h 7; until_finished; false'
  wait_for 30 pane_contains_line 'H 2 Completed' || { pane_text; fail "no handler for job 2"; }
  tmux_type 'echo "st=$?"'
  wait_for 30 pane_contains_line 'st=1' || { pane_text; fail "the handler changed \$?"; }
}

# handlers_file: writes $HOME/h.bash, sourced by the pane's shell: handlers
# that report the terminal's mode and read a line from the terminal.
handlers_file() {
  cat > "$BATS_TEST_TMPDIR/h.bash" <<'EOF'
h() { echo "H $1 $2"; }
# "cooked" when the terminal is in canonical mode with echo, as for any command
mode() { local s; s=" $(stty -a | tr '\n;' '  ') "; [[ $s == *" icanon "* && $s == *" echo "* ]] && echo cooked || echo raw; }
hmode() { echo "HMODE $1 $2 $(mode)"; }
hread() { echo "HREAD $1 $(mode)"; read -r -p 'answer? ' ans; echo "GOT [$ans]"; }
hreade() { echo "HREADE $1"; read -e -r -p 'edit? ' ans; echo "GOTE [$ans]"; }
EOF
}

@test "a handler at the prompt runs outside readline: the terminal is in cooked mode (icanon, echo)" {
  handlers_file
  start_shell
  type_to_prompt MARK '. "$HOME/h.bash"; bgjob new -c hmode 5; until_finished'
  assert_equal "$(line_after MARK)" 'bgjob: 0 Completed  5'
  assert_equal "$(line_after 'bgjob: 0 Completed  5')" 'HMODE 0 Completed cooked'
  # the user's own PROMPT_COMMAND, scalar or array, still runs, before the handlers
  type_to_prompt MARK2 'PROMPT_COMMAND="echo MI""NE"; bgjob new -c hmode 6; until_finished'
  assert_equal "$(line_after MARK2)" 'MINE'
  assert_equal "$(line_after MINE)" 'bgjob: 1 Completed  6'
  assert_equal "$(line_after 'bgjob: 1 Completed  6')" 'HMODE 1 Completed cooked'
}

@test "a handler that reads the terminal gets the line typed, with read and read -e, and the shell goes on" {
  handlers_file
  start_shell
  # (the handler asks before the prompt: no prompt to wait for)
  tmux_type '. "$HOME/h.bash"; bgjob notify off; bgjob new -c hread 5; until_finished; echo MA""RK'
  wait_for 30 pane_contains_line MARK || { pane_text; fail "no MARK"; }
  wait_for 30 eval '[ "$(last_line)" = "answer?" ]' || { pane_text; fail "the handler did not ask"; }
  tmux_type 'yes it works'
  wait_for 30 pane_contains_line 'GOT [yes it works]' || { pane_text; fail "the handler did not read the line"; }
  assert_equal "$(line_after MARK)" 'HREAD 0 cooked'
  wait_for 30 pane_has_prompt || { pane_text; fail "no prompt after the handler"; }
  # read -e: a readline of its own, after which the shell's readline works
  tmux_type 'bgjob new -c hreade 6; until_finished; echo MA""RK2'
  wait_for 30 pane_contains_line MARK2 || { pane_text; fail "no MARK2"; }
  wait_for 30 eval '[ "$(last_line)" = "edit?" ]' || { pane_text; fail "the handler did not ask"; }
  tmux_cmd send-keys -l -- 'edited'
  tmux_key Left
  tmux_cmd send-keys -l -- 'X'
  tmux_key Enter
  wait_for 30 pane_contains_line 'GOTE [editeXd]' || { pane_text; fail "read -e did not read the line"; }
  wait_for 30 pane_has_prompt || { pane_text; fail "no prompt after the handler"; }
  type_to_prompt ALIVE 'echo "pid=$$"'
  run -0 pane_contains_line "pid=$TMUX_PANE_PID"
}

@test "Ctrl-C in a handler that reads the terminal ends that handler only: the next ones run, and the shell goes on" {
  handlers_file
  start_shell
  tmux_type '. "$HOME/h.bash"; bgjob notify off; bgjob new -c hread 5; bgjob new -c h 6; until_finished; echo MA""RK'
  wait_for 30 pane_contains_line MARK || { pane_text; fail "no MARK"; }
  wait_for 30 eval '[ "$(last_line)" = "answer?" ]' || { pane_text; fail "the handler did not ask"; }
  tmux_key C-c
  wait_for 30 pane_contains_line 'H 1 Completed' || { pane_text; fail "the next handler did not run"; }
  wait_for 30 pane_has_prompt || { pane_text; fail "no prompt"; }
  run ! eval 'pane_text | grep -q "GOT"'
  # handlers still run at the prompt afterwards
  type_to_prompt MARK2 'bgjob new -c h 7; until_finished'
  assert_equal "$(line_after MARK2)" 'H 2 Completed'
}

@test "a job that ends while a line is typed (notify now): the notice comes at once, the line stays intact, the handler runs after the line" {
  handlers_file
  start_shell
  type_to_prompt MARK "$KILL_KEY"'; . "$HOME/h.bash"; bgjob notify now; bgjob new -c hread -f sleep 60 z'
  tmux_cmd send-keys -l -- 'echo typed'
  tmux_key Left
  wait_for 30 eval '[ "$(last_line)" = "${TMUX_PROMPT}echo typed" ]' || { pane_text; fail "not typed"; }
  tmux_key C-t
  wait_for 60 pane_contains_line 'bgjob: 0 Dead  sleep 60 z' || { pane_text; fail "no notice"; }
  # the notice, then the line redrawn: no handler ran inside readline
  wait_for 30 eval '[ "$(line_after "bgjob: 0 Dead  sleep 60 z")" = "${TMUX_PROMPT}echo typed" ]' ||
    { pane_text; fail "the line was not redrawn after the notice"; }
  run ! pane_contains_line 'HREAD 0 cooked'
  # editing goes on where the cursor was
  tmux_cmd send-keys -l -- 'X'
  tmux_key Enter
  wait_for 30 eval '[ "$(last_line)" = "answer?" ]' || { pane_text; fail "the handler did not ask"; }
  assert_equal "$(line_after "${TMUX_PROMPT}echo typeXd")" 'typeXd'
  assert_equal "$(line_after typeXd)" 'HREAD 0 cooked'
  tmux_type 'fine'
  wait_for 30 pane_contains_line 'GOT [fine]' || { pane_text; fail "the handler did not read the line"; }
  wait_for 30 pane_has_prompt || { pane_text; fail "no prompt after the handler"; }
}

@test "a bgjob command run from a key binding (bind -x) runs no handler: it runs before the next prompt" {
  handlers_file
  start_shell
  type_to_prompt MARK 'bind -x '\''"\C-t": bgjob kill 0 2>/dev/null; bgjob wait -q 0; echo "WAITED $?"'\''; . "$HOME/h.bash"; bgjob notify off; bgjob new -c hmode -f sleep 60 z'
  tmux_cmd send-keys -l -- 'echo typed'
  wait_for 30 eval '[ "$(last_line)" = "${TMUX_PROMPT}echo typed" ]' || { pane_text; fail "not typed"; }
  tmux_key C-t
  wait_for 60 pane_contains_line 'WAITED 1' || { pane_text; fail "the binding did not run"; }
  wait_for 30 eval '[ "$(last_line)" = "${TMUX_PROMPT}echo typed" ]' || { pane_text; fail "the line was not redrawn"; }
  run ! eval 'pane_text | grep -q HMODE'
  tmux_key Enter
  wait_for 30 pane_contains_line 'HMODE 0 Dead cooked' || { pane_text; fail "the handler did not run before the prompt"; }
  assert_equal "$(line_after typed)" 'HMODE 0 Dead cooked'
}

@test "wait draws a progress line on the terminal and erases it when it returns, also on Ctrl-C and timeout" {
  start_shell
  record_raw
  # (the IDs are named: 1/0 may end before wait starts, and wait without IDs
  # waits for the unfinished jobs only)
  tmux_type 'bgjob new -f sleep 30; bgjob new 1/0; bgjob wait 0 1; echo "rc=$?"'
  # sleep reports its progress: the estimate is its own pace, about 29 s left
  wait_for 30 eval 'pane_text | grep -qE "^bgjob: waiting: 1/2 done, 1 running, 1 failed, [0-9]+%, [0-9:]+ elapsed, ~0:[12][0-9] left"' ||
    { pane_text; fail "no progress line"; }
  tmux_key C-c
  wait_for 30 pane_has_prompt || { pane_text; fail "no prompt after Ctrl-C"; }
  run ! eval 'pane_text | grep -q "bgjob: waiting"'
  tmux_type 'bgjob wait -t 1 0; echo "timeout=$?"'
  wait_for 60 pane_contains_line 'timeout=124' || { pane_text; fail "wait -t did not time out"; }
  run ! eval 'pane_text | grep -q "bgjob: waiting"'
  tmux_type 'bgjob kill 0; bgjob new -f sleep 1.5; bgjob wait 2; echo "rc=$?"'
  wait_for 60 pane_contains_line 'rc=0' || { pane_text; fail "wait did not end"; }
  run ! eval 'pane_text | grep -q "bgjob: waiting"'
  [ "$(grep -c 'bgjob: waiting: 0/1 done' "$RAW")" -ge 1 ] || fail "the second wait drew no line"
}

@test "wait -q draws nothing, nor does a non-interactive shell with stderr on the terminal" {
  start_shell
  record_raw
  tmux_type 'bgjob new -f sleep 1.2; bgjob wait -q; echo "rc=$?"'
  wait_for 60 pane_contains_line 'rc=0' || { pane_text; fail "wait did not end"; }
  tmux_type 'bash --norc -c '\''enable -f "$BGJOB_SO" bgjob; bgjob new -f sleep 1.2; bgjob wait; echo "script=$?"'\'
  wait_for 60 pane_contains_line 'script=0' || { pane_text; fail "the script did not end"; }
  run ! grep -q 'bgjob: waiting' "$RAW"
}

# offers TYPED REGEX: types TYPED, presses Tab twice, expects a line of the
# listing to match the extended REGEX, clears the line.
offers() {
  local typed=$1 re=$2
  tmux_cmd send-keys -l -- "$typed"
  tmux_key Tab
  tmux_key Tab
  wait_for 30 eval 'pane_text | grep -qxE -e "$re"' || { pane_text; fail "'$typed' did not offer /$re/"; }
  tmux_key C-u
}

# completes_to TYPED EXPECTED: types TYPED, presses Tab, expects the line to read EXPECTED, clears it.
completes_to() {
  local typed=$1 want=$2
  tmux_cmd send-keys -l -- "$typed"
  tmux_key Tab
  wait_for 30 eval '[ "$(last_line)" = "${TMUX_PROMPT}$want" ]' || { pane_text; fail "'$typed' did not complete to '$want'"; }
  tmux_key C-u
}

@test "Tab completes subcommands, options, the job numbers that fit the subcommand, plugin names and digest's algorithms" {
  mkdir "$BATS_TEST_TMPDIR/p" && touch "$BATS_TEST_TMPDIR/p/zzqplugin.so"
  start_shell
  tmux_type 'bgjob notify off; bgjob new 1; bgjob new 1/0; bgjob new -f sleep 60; bgjob new 2; bgjob wait -q 0 1 3; myhandler() { :; }; BASH_LOADABLES_PATH=$HOME/p; clear'
  wait_for 30 pane_has_prompt || { pane_text; fail "no prompt"; }
  completes_to 'bgjob st' 'bgjob status'
  completes_to 'bgjob status --js' 'bgjob status --json'
  offers 'bgjob result ' '0 +3 *'
  completes_to 'bgjob traceback ' 'bgjob traceback 1'
  completes_to 'bgjob kill ' 'bgjob kill 2'
  completes_to 'bgjob new -c myhand' 'bgjob new -c myhandler'
  completes_to 'bgjob new -f sl' 'bgjob new -f sleep'
  completes_to 'bgjob load zzq' 'bgjob load zzqplugin'
  completes_to 'bgjob new -f digest -a blake2b' 'bgjob new -f digest -a blake2b512'
  offers 'bgjob wait -' '-g +-n +-p +-q +-t *'
  # completing marked nothing seen
  tmux_type 'bgjob kill 2; bgjob wait -q 2; bgjob status -n -v S; echo "unseen=${#S[@]}"'
  wait_for 30 eval 'pane_text | grep -qx "unseen=4"' || { pane_text; fail "completion marked jobs seen"; }
}

@test "enable -d takes the prompt hooks away and enable -f puts them back" {
  start_shell
  type_to_prompt MARK 'bgjob new 5; until_finished; enable -d bgjob'
  assert_equal "$(line_after MARK)" "${TMUX_PROMPT% }"
  type_to_prompt MARK2 'enable -f "$BGJOB_SO" bgjob'
  assert_equal "$(line_after MARK2)" 'bgjob: 0 Completed  5'
}

@test "a script gets no notice, no prompt hook and no progress line: notify says off" {
  run -0 --separate-stderr bgsh '
    h() { echo "h $1"; }
    bgjob notify
    bgjob new 1; bgjob new -c h 2; bgjob new -f sleep 0.6
    bgjob wait; echo "rc=$?"
    complete -p bgjob 2>/dev/null || echo "no compspec"'
  assert_output $'off\nh 1\nrc=0\nno compspec'
  assert_equal "$stderr" ''
}

@test "on a narrow terminal the progress line is cut to one row, so erasing it leaves nothing behind" {
  start_shell
  tmux_cmd resize-window -x 40
  record_raw
  tmux_type 'bgjob new -f sleep 30; bgjob new 1/0; bgjob wait -t 1.5; echo "rc=$?"'
  wait_for 60 pane_contains_line 'rc=124' || { pane_text; fail "wait -t did not time out"; }
  grep -q 'bgjob: waiting' "$RAW" || fail "no progress line drawn"
  run ! eval 'pane_text | grep -q "bgjob: wait\|elapsed"'
  tmux_type 'bgjob kill 0'
}

# ibash SCRIPT: SCRIPT in an interactive bash (bash -i) reading nothing from a terminal.
ibash() {
  env ${BGJOB_PRELOAD:+LD_PRELOAD=$BGJOB_PRELOAD} bash --norc --noprofile -i -c "$1" </dev/null 3>&-
}

@test "enabling bgjob in an interactive shell registers its completion, unless the user has one for bgjob" {
  run -0 --separate-stderr ibash 'enable -f "$BGJOB_SO" bgjob; complete -p bgjob'
  assert_output 'complete -F _bgjob_complete bgjob'
  run -0 --separate-stderr ibash 'complete -W mine bgjob; enable -f "$BGJOB_SO" bgjob; complete -p bgjob'
  assert_output "complete -W 'mine' bgjob"
}

@test "enable -d unregisters the completion it registered, and only that one" {
  run -0 --separate-stderr ibash 'enable -f "$BGJOB_SO" bgjob; enable -d bgjob; complete -p bgjob 2>/dev/null || echo gone
    enable -f "$BGJOB_SO" bgjob; complete -p bgjob'
  assert_output $'gone\ncomplete -F _bgjob_complete bgjob'
  run -0 --separate-stderr ibash 'complete -W mine bgjob; enable -f "$BGJOB_SO" bgjob; enable -d bgjob; complete -p bgjob'
  assert_output "complete -W 'mine' bgjob"
}

@test "the completion function offers job numbers by state without marking them seen" {
  run -0 --separate-stderr ibash 'enable -f "$BGJOB_SO" bgjob
    bgjob new 1; bgjob new 1/0; bgjob new -f sleep 30; bgjob wait -q 0 1
    c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bgjob_complete; echo "${COMPREPLY[*]}"; }
    c bgjob result ""; c bgjob traceback ""; c bgjob kill ""; c bgjob remove ""; c bgjob show ""
    c bgjob notify n; c bgjob wait -p BGJOB_L; c bgjob new -d -f sl
    bgjob kill 2; bgjob wait -q 2; bgjob status -n -v S; echo "unseen=${#S[@]}"'
  assert_output $'0\n1\n2\n0 1\n0 1 2\nnow\nBGJOB_LAST\nsleep\nunseen=3'
}

@test "the completion function offers files after load and after a callback's name, blanks and all, and commands after -f run" {
  mkdir -p "$BATS_TEST_TMPDIR/d" && touch "$BATS_TEST_TMPDIR/d/my plugin.so"
  cd "$BATS_TEST_TMPDIR/d"
  run -0 --separate-stderr ibash 'enable -f "$BGJOB_SO" bgjob
    c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bgjob_complete; printf "[%s]" "${COMPREPLY[@]}"; echo; }
    bgjob_test_cmd_x() { :; }
    c bgjob load ./my; c bgjob new -d -f sleep my; c bgjob new -f run bgjob_test_cmd_; c bgjob new -f run ls my'
  assert_output $'[./my plugin.so]\n[my plugin.so]\n[bgjob_test_cmd_x]\n[my plugin.so]'
}

@test "the completion function offers plugin names after load: the NAME.so files of BASH_LOADABLES_PATH and the plugin directory, once each" {
  p=$BATS_TEST_TMPDIR/p
  mkdir -p "$p/1" "$p/2/zzqdir.so" "$p/3"
  touch "$p/1/zzqalpha.so" "$p/1/zzqnotso" "$p/2/zzqbeta.so" "$p/2/zzqalpha.so" "$p/3/.so"
  ln -s zzqbeta.so "$p/2/zzqlink.so"
  cd "$p/1"
  run -0 --separate-stderr ibash 'enable -f "$BGJOB_SO" bgjob
    c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bgjob_complete; printf "[%s]" "${COMPREPLY[@]}"; echo; }
    BASH_LOADABLES_PATH='"$p/1::$p/2:$p/3:$p/none"'
    c bgjob load zzq; c bgjob load zzqb; c bgjob load ./zzqa
    # Without BASH_LOADABLES_PATH: the .so files of the plugin directory (bgjob --version names it).
    unset BASH_LOADABLES_PATH
    dir=$(bgjob --version | sed -n "s/^plugin directory //p"); [[ $dir == /* ]] || echo "no plugin directory"
    [[ "$(bgjob __complete plugins)" == "$(cd "$dir" 2>/dev/null && for f in *.so; do [[ -f $f ]] && echo "${f%.so}"; done)" ]] || echo differs'
  assert_output $'[zzqalpha][zzqbeta][zzqlink]\n[zzqbeta]\n[./zzqalpha.so]'
}

@test "the completion function offers digest's algorithms after -f digest -a, each one digest accepts, and methods after -f fetch -X" {
  printf abc > "$BATS_TEST_TMPDIR/a"
  run -0 --separate-stderr ibash 'enable -f "$BGJOB_SO" bgjob; bgjob load "'"${BGJOB_PLUGINS:-$BGJOB_ROOT/build/plugins}"'/digest.so" || exit 98
    c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bgjob_complete; printf "[%s]" "${COMPREPLY[@]}"; echo; }
    c bgjob new -f digest -a sha3-; c bgjob new -v id -f digest -a md5 -a b; c bgjob new -f digest a -; c bgjob new -f fetch -X P
    c bgjob new -f digest -a "" > /dev/null; algs=("${COMPREPLY[@]}")
    for alg in "${algs[@]}"; do bgjob new -f digest -a "$alg" "'"$BATS_TEST_TMPDIR/a"'" || echo "refused: $alg"; done
    bgjob wait || echo "a job failed"; echo "${#algs[@]} algorithms"'
  assert_output $'[sha3-224][sha3-256][sha3-384][sha3-512]\n[blake2b512][blake2s256]\n[]\n[POST][PUT][PATCH]\n18 algorithms'
}

@test "notify now with a prompt of two lines: the notice goes above both, each drawn once" {
  start_shell
  tmux_type "$KILL_KEY"'; bgjob notify now; PS1="TOP""LINE\n> "; bgjob new -f sleep 60 two; echo MA""RK'
  wait_for 30 pane_contains_line MARK || { pane_text; fail "no MARK"; }
  wait_for 30 eval '[ "$(last_line)" = ">" ]' || { pane_text; fail "no two-line prompt"; }
  tmux_cmd send-keys -l -- 'echo typed'
  wait_for 30 eval '[ "$(last_line)" = "> echo typed" ]' || { pane_text; fail "not typed"; }
  tmux_key C-t
  wait_for 60 pane_contains_line 'bgjob: 0 Dead  sleep 60 two' || { pane_text; fail "no notice"; }
  assert_equal "$(line_after MARK)" 'bgjob: 0 Dead  sleep 60 two'
  assert_equal "$(line_after 'bgjob: 0 Dead  sleep 60 two')" 'TOPLINE'
  assert_equal "$(last_line)" '> echo typed'
  [ "$(pane_text | grep -c '^TOPLINE$')" = 1 ] || { pane_text; fail "the first prompt line was drawn twice"; }
}

# job_ended_probe: presses C-t, bound (bind -x) to write the unfinished jobs
# and "end" to $HOME/probe without reaching a safe point; true once the file
# holds only "end" (an empty or half-written file is not a result).
job_ended_probe() {
  tmux_key C-t
  [ "$(cat "$BATS_TEST_TMPDIR/probe" 2>/dev/null)" = end ]
}

@test "nothing runs or prints before a continuation prompt (PS2): it waits for the command to be complete" {
  start_shell
  type_to_prompt MARK 'bind -x '\''"\C-t": { bgjob __complete ids unfinished; echo end; } > "$HOME/probe"'\''; h() { echo "H $1 $2"; }; bgjob new -c h -f sleep 1 s'
  run ! pane_contains_line 'H 0 Completed'
  # the first line of a command typed; the job ends before Enter
  tmux_cmd send-keys -l -- 'for i in 1; do'
  wait_for 60 job_ended_probe || { pane_text; fail "the job did not end"; }
  tmux_key Enter
  wait_for 30 eval '[ "$(last_line)" = ">" ]' || { pane_text; fail "no PS2 prompt"; }
  tmux_type 'echo "i=$i"; done'
  wait_for 30 pane_contains_line 'H 0 Completed' || { pane_text; fail "no handler after the command"; }
  assert_equal "$(line_after "${TMUX_PROMPT}for i in 1; do")" '> echo "i=$i"; done'
  assert_equal "$(line_after 'i=1')" 'bgjob: 0 Completed  sleep 1 s'
  assert_equal "$(line_after 'bgjob: 0 Completed  sleep 1 s')" 'H 0 Completed'
}
