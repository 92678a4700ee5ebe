# tests/interactive/tmux.bash - drives an interactive bash inside a private tmux
# server, for the tests that need a terminal (Ctrl-C during `bgjob wait`).
#
#   load interactive/tmux
#   tmux_start               # interactive `bash --norc -i` with prompt $TMUX_PROMPT
#   tmux_type 'some command' # types the line and presses Enter
#   tmux_key C-c             # sends a key
#   wait_for SECONDS CMD...  # polls CMD until it succeeds or the deadline passes
#   pane_text                # the pane's text
#   tmux_stop                # kills the private server (call it in teardown)
#
# The server listens on a socket of its own (tmux -L bgjob-test-PID-N), so it
# never touches a user's tmux, and tmux_stop kills only that server.

TMUX_PROMPT='BGJOB-PROMPT$ '

# wait_for SECONDS CMD [ARG...]: runs CMD every 20 ms until it succeeds (status 0)
# or SECONDS have passed; returns 1 on timeout.
wait_for() {
  local limit=$1; shift
  local start now
  start=${EPOCHREALTIME//[!0-9]/}
  local limit_us
  limit_us=$(awk -v s="$limit" 'BEGIN { printf "%d", s * 1000000 }')
  while :; do
    "$@" && return 0
    now=${EPOCHREALTIME//[!0-9]/}
    (( now - start > limit_us )) && return 1
    sleep 0.02
  done
}

# now_us: the time in microseconds (for measuring elapsed time).
now_us() {
  echo "${EPOCHREALTIME//[!0-9]/}"
}

tmux_cmd() {
  tmux -L "$TMUX_SOCKET" "$@"
}

# tmux_start: starts the server with one pane running an interactive bash
# that knows $BGJOB_SO.  Sets TMUX_SOCKET and TMUX_PANE_PID.
tmux_start() {
  TMUX_SOCKET=bgjob-test-$$-${BATS_TEST_NUMBER:-0}
  export TMUX_SOCKET
  tmux_cmd -f /dev/null new-session -d -x 160 -y 50 \
    "env -i PATH=\"$PATH\" HOME=\"$BATS_TEST_TMPDIR\" TERM=xterm LANG=C \
BGJOB_SO=\"$BGJOB_SO\" ${BGJOB_PRELOAD:+LD_PRELOAD=\"$BGJOB_PRELOAD\" ASAN_OPTIONS=\"${ASAN_OPTIONS:-}\" UBSAN_OPTIONS=\"${UBSAN_OPTIONS:-}\"} PS1='$TMUX_PROMPT' \
bash --norc --noprofile -i" || return 1
  wait_for 60 pane_has_prompt || { echo "no prompt in the tmux pane:"; pane_text; return 1; }
  TMUX_PANE_PID=$(tmux_cmd display-message -p '#{pane_pid}')
  export TMUX_PANE_PID
}

tmux_stop() {
  [ -n "${TMUX_SOCKET:-}" ] || return 0
  tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null
  # kill-server leaves the socket file behind
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SOCKET"
  return 0
}

tmux_type() {
  tmux_cmd send-keys -l -- "$1" && tmux_cmd send-keys Enter
}

tmux_key() {
  tmux_cmd send-keys "$1"
}

pane_text() {
  tmux_cmd capture-pane -p -J -S -200
}

# pane_has_prompt: the last non-empty line of the pane is an empty prompt.
pane_has_prompt() {
  local last
  last=$(pane_text | sed '/^[[:space:]]*$/d' | tail -n 1)
  [ "$last" = "${TMUX_PROMPT% }" ] || [ "$last" = "$TMUX_PROMPT" ]
}

# pane_contains_line TEXT: some line of the pane is exactly TEXT.
pane_contains_line() {
  pane_text | grep -qxF -- "$1"
}

# shell_in_ppoll: the pane's bash is blocked in ppoll(2), which is where
# `bgjob wait` sleeps (readline waits for input in pselect6 instead).
# x86_64 syscall number 271; on other machines, or when /proc/PID/syscall can
# not be read, it falls back to "true" and callers rely on their marker line.
shell_in_ppoll() {
  local nr
  [ "$(uname -m)" = x86_64 ] || return 0
  nr=$(cut -d' ' -f1 "/proc/$TMUX_PANE_PID/syscall" 2>/dev/null) || return 0
  [ -n "$nr" ] || return 0
  [ "$nr" = 271 ]
}
