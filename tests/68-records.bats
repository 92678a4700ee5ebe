#!/usr/bin/env bats
# 68-records: records for scripts.  `status --json' and `show --json' (every
# line valid for jq and Python's json, with any bytes in a result, and
# nothing else on stdout), resource use of commands (max_rss_kb against a
# command that holds a known amount), `bgjob log' in GNU parallel's joblog
# format (compared with a joblog GNU parallel writes) and as JSON lines,
# written while the shell is busy and kept whole when it is killed, and
# resume from a JSON log (`log -r', `new -k').

load helper

# spin COND...: runs COND until it succeeds, for at most 120 s (then exits 9).  It forks nothing:
# under ASan no child may be forked while a worker may be allocating (see the Makefile).
SPIN='spin() { local end=$((SECONDS + 120)); until "$@"; do (( SECONDS > end )) && { echo "spin timed out: $*" >&2; exit 9; }; done; }'

setup() {
  FIFO=$BATS_TEST_TMPDIR/fifo
  mkfifo "$FIFO"
  export FIFO
  export T=$BATS_TEST_TMPDIR
}

# valid_json FILE: every line of FILE is one JSON object for jq and for Python; prints the count.
valid_json() {
  jq -e -c 'type == "object"' "$1" > /dev/null || { echo "jq refused $1" >&2; return 1; }
  python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], "rb"):
    assert line.endswith(b"\n"), line
    o = json.loads(line)
    assert isinstance(o, dict) and o["schema"] == 1, line
    n += 1
print(n)' "$1"
}

@test "status --json: one object per job, flat typed fields, for every state" {
  run -0 --separate-stderr bgsh "$SPIN"'
    bgjob new "2**20"; bgjob new -f run printf hi; bgjob new -f run sh -c "exit 3"; bgjob new -f run sh -c "kill -9 \$\$"
    bgjob new x/0; bgjob wait
    BGJOB_MAX_RUNNING=1 bgjob new -k blocker -f run sh -c "read x < \"\$FIFO\""
    BGJOB_MAX_RUNNING=1 bgjob new 1+1
    running() { bgjob show -v S 5 && [[ -n ${S[pid]} ]]; }; declare -A S; spin running
    bgjob status --json > "$T/st.jsonl"; echo rc=$?
    echo x > "$FIFO"; bgjob wait; bgjob status --json > "$T/end.jsonl"'
  assert_output 'rc=0'
  assert_equal "$stderr" ''
  run -0 valid_json "$T/st.jsonl"
  assert_output 7
  run -0 jq -r -c '[.id, .kind, .state, .exit, .signal, (.started|type), (.finished|type), (.elapsed|type), .group, .after, .attempt, (.pid|type), (.max_rss_kb|type), (.user_s|type), (.sys_s|type), .key, (.argv|tostring), .resumed, has("result")] | @json' "$T/st.jsonl"
  assert_output - <<'OUT'
[0,"arith","Completed",null,null,"number","number","number",null,[],1,"null","null","null","null",null,"null",false,false]
[1,"callback","Completed",0,null,"number","number","number",null,[],1,"null","number","number","number",null,"[\"run\",\"printf\",\"hi\"]",false,false]
[2,"callback","Dead",3,null,"number","number","number",null,[],1,"null","number","number","number",null,"[\"run\",\"sh\",\"-c\",\"exit 3\"]",false,false]
[3,"callback","Dead",null,"SIGKILL","number","number","number",null,[],1,"null","number","number","number",null,"[\"run\",\"sh\",\"-c\",\"kill -9 $$\"]",false,false]
[4,"arith","Dead",null,null,"number","number","number",null,[],1,"null","null","null","null",null,"null",false,false]
[5,"callback","Running",null,null,"number","null","number",null,[],1,"number","null","null","null","blocker","[\"run\",\"sh\",\"-c\",\"read x < \\\"$FIFO\\\"\"]",false,false]
[6,"arith","Queued",null,null,"null","null","null",null,[],1,"null","null","null","null",null,"null",false,false]
OUT
  # the command and the directory as `show' gives them
  run -0 jq -r '"\(.command)|\(.dir)"' <(sed -n 2p "$T/st.jsonl")
  assert_output "run printf hi|$PWD"
  run -0 valid_json "$T/end.jsonl"
  assert_output 7
  run -0 jq -r 'select(.id >= 5) | .state' "$T/end.jsonl"
  assert_output $'Completed\nCompleted'
}

@test "--output adds result and traceback; any bytes give JSON that decodes back to them" {
  # the results as files: invalid UTF-8, NUL-free binary, quotes, newlines, control characters
  printf 'a\377b\300\257\355\240\200 caf\303\251 \360\237\230\200\n' > "$T/r1"
  printf '"quoted" \\back\\ \t tab\r\n\001\002\033[0m\177' > "$T/r2"
  python3 -c 'import sys; sys.stdout.buffer.write(bytes(b for b in range(1, 256)))' > "$T/r3"
  run -0 --separate-stderr bgsh '
    for f in r1 r2 r3; do bgjob new -f run cat "$T/$f"; done
    bgjob new -f run sh -c "printf \"err\\377 \\\"x\\\"\\n\" >&2; exit 1"; bgjob wait
    bgjob status --json --output > "$T/out.jsonl"; bgjob show --json --output 0 > "$T/show0.jsonl"'
  assert_equal "$stderr" ''
  run -0 valid_json "$T/out.jsonl"
  assert_output 4
  # decoded with surrogateescape, each result is the command's stdout as $(...) gives it
  run -0 python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1] + "/out.jsonl", "rb")]
for i, name in enumerate(["r1", "r2", "r3"]):
    want = open(sys.argv[1] + "/" + name, "rb").read().rstrip(b"\n")
    got = recs[i]["result"].encode("utf-8", "surrogateescape")
    assert got == want, (name, got, want)
    assert recs[i]["traceback"] is None
assert recs[3]["result"] is None
tb = recs[3]["traceback"].encode("utf-8", "surrogateescape")
assert tb == b"err\xff \"x\"\nsh: exited with status 1", tb
print("ok")' "$T"
  assert_output ok
  run -0 valid_json "$T/show0.jsonl"
  assert_output 1
  run -0 cmp <(head -1 "$T/out.jsonl") "$T/show0.jsonl"
  # jq reads the valid UTF-8 as it is
  run -0 jq -r 'select(.id == 0) | .result' "$T/out.jsonl"
  assert_output --partial 'café 😀'
}

@test "with --json nothing but JSON goes to stdout: errors on stderr with a non-zero status" {
  run -1 --separate-stderr bgsh 'bgjob show --json 7'
  assert_output ''
  assert_equal "$stderr" 'bgsh: line 2: bgjob: job 7 not found'
  run -2 --separate-stderr bgsh 'bgjob status --json --bogus'
  assert_output ''
  [[ $stderr == *'status: --bogus: invalid option'* ]] || fail "stderr: $stderr"
  run -2 --separate-stderr bgsh 'bgjob status --output'
  assert_output ''
  # a completion handler that writes to stdout does not run inside a --json command
  run -0 --separate-stderr bgsh "$SPIN"'
    h() { echo "handler $*"; }
    bgjob new -c h 1; bgjob wait -q 0 >/dev/null 2>&1 || true
    bgjob new -c h 2; ended() { bgjob status --json > "$T/j" && mapfile -t L < "$T/j" && [[ ${L[1]} == *\"state\":\"Completed\"* ]]; }; spin ended
    bgjob status --json > "$T/j"; bgjob result 1 > /dev/null'
  run -0 valid_json "$T/j"
  assert_output 2
  run -1 grep handler "$T/j"
}

@test "status --json -n: only the jobs that finished since the last report" {
  # (into a file, not a pipe: a pipeline member is a subshell, whose reports mark nothing seen here)
  run -0 --separate-stderr bgsh 'n() { bgjob status --json -n > "$T/n"; jq -c .id "$T/n"; }
    bgjob new 1; bgjob new 2; bgjob wait; n; echo --; n; echo --; bgjob new 3; bgjob wait; n'
  assert_output $'0\n1\n--\n--\n2'
}

@test "max_rss_kb, user_s and sys_s come from the reaping call: a command holding 200 MB shows it" {
  run -0 --separate-stderr bgsh '
    bgjob new -f run python3 -c "x = b\"a\" * (200 * 1024 * 1024); print(len(x))"
    bgjob new -f run true; bgjob wait; bgjob status --json > "$T/rss.jsonl"; bgjob show 0 | grep -o "\[max_rss_kb\]=[0-9]*"'
  assert_output --regexp '^\[max_rss_kb\]=[0-9]+$'
  run -0 jq -r '"\(.max_rss_kb) \(.user_s + .sys_s)"' "$T/rss.jsonl"
  read -r big cpu <<<"${lines[0]}"
  read -r small _ <<<"${lines[1]}"
  (( big >= 200 * 1024 )) || fail "max_rss_kb $big is below 200 MB"
  (( big < 400 * 1024 )) || fail "max_rss_kb $big is far above 200 MB"
  (( small < 50 * 1024 )) || fail "true: max_rss_kb $small"
  python3 -c "import sys; assert float(sys.argv[1]) > 0" "$cpu" || fail "no CPU time: $cpu"
}

# fields COLUMN... of a joblog line, on stdin: prints the columns asked for, tab-separated.
cols() { awk -F'\t' -v want="$1" 'BEGIN { n = split(want, w, ",") } { s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? "\t" : "") $w[i]; print s }'; }

@test "bgjob log FILE writes GNU parallel's joblog: the same header, columns and number formats" {
  command -v parallel > /dev/null || fail "GNU parallel is not installed (make deps installs it)"
  printf '%s\n' 'printf abc' 'sh -c exit\ 3' 'sh -c kill\ -9\ \$\$' 'true' > "$T/cmds"
  parallel --will-cite --joblog "$T/parallel.log" < "$T/cmds" > /dev/null || true
  run -0 --separate-stderr bgsh 'bgjob log "$T/bgjob.log"
    bgjob new -f run printf abc; bgjob new -f run sh -c "exit 3"; bgjob new -f run sh -c "kill -9 \$\$"; bgjob new -f run true
    bgjob wait; bgjob log; bgjob log -; bgjob log'
  assert_output $"logging to $T/bgjob.log (joblog)"$'\nnot logging'
  assert_equal "$stderr" ''
  # the same header, and lines of nine tab-separated columns
  assert_equal "$(head -1 "$T/bgjob.log")" "$(head -1 "$T/parallel.log")"
  run -0 awk -F'\t' 'NF != 9 { bad++ } END { print NR, bad + 0 }' "$T/bgjob.log"
  assert_output '5 0'
  # number formats: Seq, Host, Starttime (%.3f), JobRuntime (%10.3f), Send, Receive, Exitval, Signal
  for f in bgjob parallel; do
    run -0 awk -F'\t' 'NR > 1 && !($1 ~ /^[0-9]+$/ && $2 == ":" && $3 ~ /^[0-9]+\.[0-9][0-9][0-9]$/ &&
        $4 ~ /^ *[0-9]+\.[0-9][0-9][0-9]$/ && length($4) == 10 && $5 ~ /^[0-9]+$/ && $6 ~ /^[0-9]+$/ &&
        $7 ~ /^[0-9]+$/ && $8 ~ /^[0-9]+$/) { print "bad: " $0 }' "$T/$f.log"
    assert_output ''
  done
  # Receive, Exitval, Signal and Command as GNU parallel gives them, command by command
  run -0 diff <(tail -n +2 "$T/parallel.log" | cols 9,6,7,8 | sort) <(tail -n +2 "$T/bgjob.log" | cols 9,6,7,8 | sort)
  # Seq is the job number; the start times are those of show (show has microseconds, the log
  # milliseconds: rounded once from the time itself, they may differ from show's value rounded
  # again by one in the last digit)
  run -0 bgsh 'bgjob log "$T/bgjob.log"; bgjob new -f run true; bgjob wait; bgjob show -v S 0; echo "${S[started]}"'
  start=$output
  assert_equal "$(tail -1 "$T/bgjob.log" | cols 1)" 0
  run -0 awk -v s="$start" -v l="$(tail -1 "$T/bgjob.log" | cols 3)" 'BEGIN { d = s - l; print (d < 0 ? -d : d) <= 0.0011 ? "same" : "differ: " s " " l }'
  assert_output same
  # an existing log gets no second header
  run -0 grep -c '^Seq' "$T/bgjob.log"
  assert_output 1
}

@test "log -j writes the JSON objects, whole lines even when many jobs end at once" {
  run -0 --separate-stderr bgsh 'bgjob log -j "$T/log.jsonl"; bgjob log
    for ((i = 0; i < 300; i++)); do bgjob new "$i * 2"; done
    for ((i = 0; i < 20; i++)); do bgjob new -f run printf "%s\n" "line $i"; done
    bgjob wait; bgjob status --json --output > "$T/status.jsonl"'
  assert_output $"logging to $T/log.jsonl (JSON lines)"
  run -0 valid_json "$T/log.jsonl"
  assert_output 320
  # the log holds what status --output says, job by job (the log always has result and traceback)
  run -0 diff <(jq -c 'del(.elapsed)' "$T/status.jsonl") <(jq -c 'del(.elapsed)' "$T/log.jsonl" | jq -s -c 'sort_by(.id)[]')
}

@test "the log is written as jobs end while the shell is busy, and a killed shell leaves whole lines" {
  run -137 bgsh "$SPIN"'
    bgjob log "$T/busy.log"
    bgjob new -f run sh -c "read x < \"\$FIFO\""; bgjob new -f run echo one
    declare -A S; started() { bgjob show -v S 0 && [[ -n ${S[pid]} ]]; }; spin started; bgjob wait 1
    # the foreground command (the shell waits for it) sees the line of job 1, lets job 0 end and sees its line
    timeout 120 sh -c "until grep -q \"echo one\" \"\$1\"; do sleep 0.01; done; echo x > \"\$FIFO\"; until grep -q read \"\$1\"; do sleep 0.01; done" _ "$T/busy.log" || exit 3
    kill -9 $$'
  run -0 awk -F'\t' '{ print NF, $9 }' "$T/busy.log"
  assert_line --index 0 '9 Command'
  assert_line '9 echo one'
  assert_line --partial '9 sh -c read\ x'
  assert_equal "${#lines[@]}" 3
}

@test "resume: a script run twice does only the work that is left, every result still readable" {
  cat > "$T/script" <<'SCRIPT'
bgjob log -r "$T/run.jsonl" || exit 1
for i in 1 2 3 4; do
  bgjob new -v "id[$i]" -f run sh -c 'echo x >> "$T/count.$1"; [ "$1" != 3 ] || [ -e "$T/fixed" ] || exit 1; echo "r$1"' _ "$i"
done
bgjob new -k arith-key -v "id[5]" '6 * 7'
bgjob wait
for i in 1 2 3 4 5; do
  declare -A S; bgjob show -v S "${id[$i]}"
  printf '%s %s %s\n' "$i" "${S[state]}" "${S[resumed]:-0}"
  [[ ${S[state]} == Completed ]] && bgjob result "${id[$i]}"
done
true
SCRIPT
  run -0 bgsh '. "$T/script"'
  assert_output $'1 Completed 0\nr1\n2 Completed 0\nr2\n3 Dead 0\n4 Completed 0\nr4\n5 Completed 0\n42'
  touch "$T/fixed"
  run -0 bgsh '. "$T/script"'
  assert_output $'1 Completed 1\nr1\n2 Completed 1\nr2\n3 Completed 0\nr3\n4 Completed 1\nr4\n5 Completed 1\n42'
  for i in 1 2 4; do assert_equal "$(wc -l < "$T/count.$i")" 1; done
  assert_equal "$(wc -l < "$T/count.3")" 2
  # the log has every record of both runs, resumed ones marked so
  run -0 valid_json "$T/run.jsonl"
  assert_output 10
  run -0 jq -s -c '[.[] | select(.resumed)] | length' "$T/run.jsonl"
  assert_output 4
  # a third run runs nothing
  run -0 bgsh '. "$T/script"'
  for i in 1 2 3 4; do assert_equal "$(wc -l < "$T/count.$i")" $(( i == 3 ? 2 : 1 )); done
}

@test "resume of an interrupted script: the key is new -k, else kind, command line and directory" {
  mkdir "$T/a" "$T/b"
  run -137 bgsh 'bgjob log -r "$T/int.jsonl"; cd "$T/a"
    bgjob new -f run sh -c "echo x >> \"\$T/done1\"; echo one"
    bgjob new -k step2 -f run sh -c "echo x >> \"\$T/done2\"; echo two"
    bgjob new -f run sh -c "read x < \"\$FIFO\"; echo three"
    bgjob wait 0 1; kill -9 $$'
  run -0 valid_json "$T/int.jsonl"
  assert_output 2
  # again: 0 and 1 are resumed (1 by its key, though its command changed); elsewhere nothing matches
  run -0 --separate-stderr bgsh 'bgjob log -r "$T/int.jsonl"; cd "$T/a"
    bgjob new -f run sh -c "echo x >> \"\$T/done1\"; echo one"
    bgjob new -k step2 -f run sh -c "echo changed"
    bgjob new -f run sh -c "echo three"; bgjob wait
    cd "$T/b"; bgjob new -f run sh -c "echo x >> \"\$T/done1\"; echo one"; bgjob wait
    for i in 0 1 2 3; do bgjob show --json --output $i; done | jq -r "\"\(.resumed) \(.result)\""'
  assert_output $'true one\ntrue two\nfalse three\nfalse one'
  assert_equal "$(wc -l < "$T/done1")" 2
  assert_equal "$(wc -l < "$T/done2")" 1
}

@test "log: usage errors, a file that can't be opened" {
  run -2 --separate-stderr bgsh 'bgjob log -j'
  [[ $stderr == *'log: -j: a file is required'* ]] || fail "stderr: $stderr"
  run -0 --separate-stderr bgsh 'bgjob log /nonexistent/dir/x; echo "rc=$?"; bgjob log'
  assert_output $'rc=1\nnot logging'
  assert_equal "$stderr" 'bgsh: line 2: bgjob: /nonexistent/dir/x: No such file or directory'
  printf 'not json\n{"schema":1,"command":"1","kind":"arith","state":"Completed","key":null,"dir":"/","result":"9"}\n' > "$T/mixed"
  run -0 bgsh 'cd /; bgjob log -r "$T/mixed"; bgjob new 1; bgjob wait; bgjob result 0'
  assert_output 9
}

@test "status --json: group, after and attempt of workflow jobs, the Blocked state, and -g" {
  run -0 --separate-stderr bgsh "$SPIN"'
    bgjob group web -j 1
    bgjob new -v a -g web -f run sh -c "read x < \"\$FIFO\""
    bgjob new -v b -a $a -A $a -g web -- 2+2
    bgjob new -v r -r 1 -R 0.01 -- 1/0
    bgjob wait $r
    bgjob status --json > "$T/mid.jsonl"
    bgjob status --json -g web > "$T/web.jsonl"
    bgjob status --json -g nosuch > "$T/none.jsonl"; echo "nosuch=$?"
    echo x > "$FIFO"; bgjob wait; bgjob status --json > "$T/end.jsonl"'
  assert_output 'nosuch=1'
  [[ $stderr == *nosuch* ]] || fail "no message for an unknown group: $stderr"
  [ ! -s "$T/none.jsonl" ] || fail "stdout of a failed status --json: $(cat "$T/none.jsonl")"
  run -0 valid_json "$T/mid.jsonl"
  assert_output 3
  run -0 jq -r -c '[.id, .state, .group, .after, .attempt] | @json' "$T/mid.jsonl"
  assert_output - <<'OUT'
[0,"Running","web",[],1]
[1,"Blocked","web",[0,0],1]
[2,"Dead",null,[],2]
OUT
  run -0 jq -r -c '.id' "$T/web.jsonl"
  assert_output $'0\n1'
  run -0 jq -r -c '[.id, .state, .attempt] | @json' "$T/end.jsonl"
  assert_output $'[0,"Completed",1]\n[1,"Completed",1]\n[2,"Dead",2]'
}

@test "an arithmetic job has a dir only when it was made with -k or while a log was kept; a command always has one" {
  run -0 --separate-stderr bgsh '
    cd "$T"
    bgjob new 1; bgjob new -k k 2; bgjob new -f run true
    bgjob log -j "$T/log.jsonl"; bgjob new 3; bgjob wait; bgjob log -
    bgjob status --json | jq -r -c "[.id, .dir] | @json"'
  assert_output - <<OUT
[0,null]
[1,"$T"]
[2,"$T"]
[3,"$T"]
OUT
}
