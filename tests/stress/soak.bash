# soak.bash - real-bash soak of bgjob.  Sourced by a bash
# that has bgjob enabled (tests/stress/run.sh, tests/80-stress.bats).
#
# SOAK_JOBS jobs (default 3000): arithmetic on variables (values computed by
# bash's own $(( )) as the oracle, the variables changed right after `new' to
# prove the snapshot), assignments, divisions by zero, the shipped sleep
# callback (instant, short, bad arguments, long ones that get killed), the
# example plugin's join and fail when EXAMPLE_SO is set, daemon jobs, jobs
# killed at once.  Interleaved: status -v scans, show, result, traceback
# (through show's error field), remove, flush (after a fresh scan, with only
# the long sleeps still running), kill, wait (all, some, -n, -t).  Checked: ids consecutive,
# each job verified exactly once with the right outcome, no job lost, none
# coming back after remove/flush, flush counts exact, assignments never
# touch the shell's own variables.  Exits 1 at the first failure.

N=${SOAK_JOBS:-3000}
fail() {
  echo "soak: FAIL: $*" >&2
  local id; bgjob status -v st
  for id in "${!st[@]}"; do [[ ${st[$id]} == Running || ${st[$id]} == Queued ]] && bgjob kill "$id"; done 2>/dev/null
  exit 1
}
tmp=${TMPDIR:-/tmp}/bgjob-soak.$$
trap 'rm -f "$tmp"' EXIT

declare -a kind val done gone fin removable
declare -A st job
verified=0 in_c=0 in_d=0 total_c=0 total_d=0 nflush=0 nremoved=0 nkilled=0 nwaits=0 nshow=0
long=()
plugin=0
if [[ -n ${EXAMPLE_SO-} ]]; then
  bgjob load "$EXAMPLE_SO" || fail "bgjob load $EXAMPLE_SO"
  plugin=1
fi
next=$(( ${BGJOB_LAST:--1} + 1 )) first=$next

# check ID STATE: the job's outcome against its kind (once).
check() {
  local id=$1 s=$2 r
  [[ ${done[id]-} ]] && fail "job $id reported finished twice"
  case ${kind[id]} in
  C)  [[ $s == Completed ]] || { bgjob show -v job "$id"; fail "job $id is $s (${job[error]}), expected Completed (${val[id]})"; }
      bgjob result -v r "$id" || fail "bgjob result $id failed"
      [[ $r == "${val[id]}" ]] || fail "job $id: result '$r', expected '${val[id]}'" ;;
  D)  [[ $s == Dead ]] || fail "job $id is $s, expected Dead"
      bgjob result -v r "$id" 2>/dev/null && fail "bgjob result on dead job $id succeeded"
      bgjob show -v job "$id" || fail "show $id"
      [[ ${job[error]} == *"${val[id]}"* ]] || fail "job $id: error '${job[error]}', expected *${val[id]}*" ;;
  K)  [[ $s == Dead ]] || fail "killed job $id is $s"
      bgjob show -v job "$id" || fail "show $id"
      [[ ${job[error]} == *cancel* ]] || fail "killed job $id: error '${job[error]}'" ;;
  M)  # killed right after new: either cancelled, or it had finished first
      bgjob show -v job "$id" || fail "show $id"
      if [[ $s == Dead && ${job[error]} == *cancel* ]]; then :
      elif [[ ${val[id]} == D:* ]]; then
        [[ $s == Dead && ${job[error]} == *"${val[id]#D:}"* ]] || fail "job $id: $s '${job[error]}' / '${job[result]}'"
      else
        [[ $s == Completed && ${job[result]} == "${val[id]}" ]] || fail "job $id: $s '${job[result]}', expected '${val[id]}' or cancelled"
      fi ;;
  *)  fail "job $id was never created by this script (state $s)" ;;
  esac
  done[id]=1 fin[id]=${s:0:1}
  ((id % 3 == 0)) && removable+=("$id")
  verified=$((verified + 1))
  if [[ $s == Completed ]]; then in_c=$((in_c + 1)); total_c=$((total_c + 1)); else in_d=$((in_d + 1)); total_d=$((total_d + 1)); fi
}

# scan: one status -v pass; every finished job not yet verified is verified now.
scan() {
  local id s
  bgjob status -v st || fail "status -v"
  for id in "${!st[@]}"; do
    s=${st[$id]}
    [[ ${gone[id]-} ]] && fail "job $id came back after it was removed/flushed"
    case $s in
    Completed|Dead) [[ ${done[id]-} ]] || check "$id" "$s" ;;
    Queued|Running) [[ ${done[id]-} ]] && fail "job $id went from finished back to $s" ;;
    *) fail "job $id has state '$s'" ;;
    esac
  done
}

# flush: scan, then flush.  A script's flush deletes every finished job, so
# first every job but the long sleeps still running (they end only when
# killed) is waited for: none can then finish between the scan and the flush,
# unseen.  Counts must be exact.
flush() {
  local tries=0 line c=0 d=0 id rc ids=() running=" ${long[*]} "
  bgjob status -v st || fail "status -v"
  for id in "${!st[@]}"; do
    [[ ${st[$id]} == Running || ${st[$id]} == Queued ]] && [[ $running != *" $id "* ]] && ids+=("$id")
  done
  if ((${#ids[@]})); then
    bgjob wait -t 60 "${ids[@]}"; rc=$?
    ((rc == 0 || rc == 1)) || fail "wait before flush returned $rc"
  fi
  while :; do
    scan
    if bgjob flush > "$tmp" 2>/dev/null; then break; fi
    tries=$((tries + 1)); ((tries < 100)) || fail "flush refused 100 times"
  done
  while read -r line; do
    case $line in
    "Flushing "*" Completed job"*) c=${line#Flushing }; c=${c%% *} ;;
    "Flushing "*" Dead job"*) d=${line#Flushing }; d=${d%% *} ;;
    "No jobs to flush.") ;;
    *) fail "flush printed '$line'" ;;
    esac
  done < "$tmp"
  ((c == in_c && d == in_d)) || fail "flush deleted $c completed / $d dead, expected $in_c / $in_d"
  for id in "${!st[@]}"; do [[ ${done[id]-} ]] && gone[id]=1; done
  in_c=0 in_d=0 nflush=$((nflush + 1))
}

new() {  # new KIND VALUE ARGS...: starts a job, checks its number
  local kind_=$1 val_=$2 id; shift 2
  bgjob new -v id "$@" || fail "bgjob new $* failed"
  [[ $id == "$next" && $BGJOB_LAST == "$next" ]] || fail "new gave id $id (BGJOB_LAST $BGJOB_LAST), expected $next"
  kind[id]=$kind_ val[id]=$val_
  next=$((next + 1))
  last=$id
}

for ((i = 0; i < N; i++)); do
  d=(); ((i % 13 == 0)) && d=(-d)
  k=$((i * 7919 % 100003)) t=
  case $((i % 20)) in
  0|1|2|3) new C "$((k * 3 + 7 - (k % 5) ** 2 + (k << 2) % 1000))" "${d[@]}" -- 'k * 3 + 7 - (k % 5) ** 2 + (k << 2) % 1000' ;;
  4|5)     new C "$((k * 2 + 5))" "${d[@]}" 't = k * 2, t += 5' ;;
  6)       new D 'division by 0' "${d[@]}" "$k / (k - k)" ;;
  7)       new C "$(( (k ^ 0x5f) | 3 ))" "${d[@]}" "(k ^ 0x5f) | 3" ;;
  8|9|10)  new C "v$i" "${d[@]}" -f sleep 0 "v$i" ;;
  11)      new C "0.001" "${d[@]}" -f sleep 0.001 ;;
  12)      bgjob new "${d[@]}" -f sleep soon 2>/dev/null; (($? == 2)) || fail "new -f sleep soon is not a usage error"
           new D 'division by 0' "${d[@]}" '2 / 0' ;;
  13)      if ((i % 3 == 0)); then new K '' -f sleep 600; long+=("$last")
           else new C "$((k % 97))" "${d[@]}" 'k % 97'; fi ;;
  14)      if ((plugin)); then new C "a$i b c" "${d[@]}" -f join "a$i" b c
           else new C "$k" "${d[@]}" k; fi ;;
  15)      if ((plugin)); then new D "disk $i on fire" "${d[@]}" -f fail "disk $i on fire"
           else new D 'division by 0' "${d[@]}" '1 % 0'; fi ;;
  *)       new C "$((k - 1))" "${d[@]}" 'k - 1' ;;
  esac
  k=999999999  # the job must have taken its own copy
  # kill some right after they start
  if ((i % 7 == 3)) && [[ ${kind[last]} != K ]]; then
    if bgjob kill "$last" 2>/dev/null; then
      [[ ${kind[last]} == D ]] && val[last]="D:${val[last]}"
      kind[last]=M nkilled=$((nkilled + 1))
    fi
  fi
  # kill the long sleeps after a while
  if ((${#long[@]} > 3)); then
    bgjob kill "${long[0]}" || fail "kill of running job ${long[0]}"
    nkilled=$((nkilled + 1)); long=("${long[@]:1}")
  fi
  ((i % 50 == 25)) && scan
  if ((i % 100 == 60)); then  # remove some verified jobs
    while ((${#removable[@]})); do
      id=${removable[0]}; removable=("${removable[@]:1}")
      if [[ -z ${gone[id]-} ]]; then
        bgjob remove "$id" || fail "remove $id"
        bgjob result "$id" 2>/dev/null && fail "result of removed job $id"
        gone[id]=1 nremoved=$((nremoved + 1))
        if [[ ${fin[id]} == C ]]; then in_c=$((in_c - 1)); else in_d=$((in_d - 1)); fi
      fi
    done
    ((${#long[@]})) && { bgjob remove "${long[0]}" 2>/dev/null && fail "removed the running job ${long[0]}"; }
  fi
  if ((i % 200 == 110)) && [[ ${kind[last]} != K ]]; then  # waits and show on recent jobs
    bgjob wait -t 60 "$last"; rc=$?
    ((rc == 0 || rc == 1)) || fail "wait $last returned $rc"
    bgjob new -v w -- '1 + 1' && kind[w]=C val[w]=2 next=$((next + 1))
    bgjob wait -n -t 60 "$w" "$last"; rc=$?
    ((rc == 0 || rc == 1)) || fail "wait -n returned $rc"
    nwaits=$((nwaits + 2))
    bgjob show -v job "$last" || fail "show $last"
    [[ ${job[id]} == "$last" && ${job[state]} =~ ^(Completed|Dead)$ ]] || fail "show $last: ${job[id]} ${job[state]}"
    nshow=$((nshow + 1))
  fi
  ((i % 500 == 250)) && flush   # with jobs still running
done

# the end: kill the long sleeps, wait for everything, verify, flush
for id in "${long[@]}"; do bgjob kill "$id" || fail "kill $id"; nkilled=$((nkilled + 1)); done
bgjob wait -t 120; rc=$?
((rc == 0 || rc == 1)) || fail "final wait returned $rc"
flush
bgjob status -v st
((${#st[@]} == 0)) || fail "jobs left after the final flush: ${!st[*]}"
for ((id = first; id < next; id++)); do
  [[ ${done[id]-} ]] || fail "job $id was never seen finished (lost)"
done
((verified == next - first)) || fail "verified $verified of $((next - first)) jobs"
[[ -z ${t-} ]] || fail "an arithmetic job's assignment reached the shell (t=$t)"
echo "# soak: $((next - first)) jobs in real bash ($total_c completed, $total_d dead, $nkilled killed, $nremoved removed, $nflush flushes, $nwaits waits, $nshow shows), every result checked"
