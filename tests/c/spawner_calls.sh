#!/bin/sh
# spawner_calls.sh OBJECT - the spawner's code (lib/proc/spawner.c) runs after
# it has given back its copy of the shell's memory, where the dynamic
# linker's and the sanitizers' allocations may be gone.  So none of its
# functions (sc, sp_*, spawner_main) may reach a symbol defined elsewhere:
# a first call through the PLT resolves the symbol lazily, reading the
# loader's data (a spawner of an ASan build crashed that way, one start in a
# few hundred).  Reads OBJECT's disassembly with its relocations; one check
# per spawner function, plus one that the functions were found at all.
obj=$1
undef=$(nm -u "$obj" | awk '{ print $2 }') || exit 1
objdump -dr --no-show-raw-insn "$obj" | awk -v undef="$undef" '
  BEGIN { n = split(undef, u, "\n"); for (i = 1; i <= n; i++) ext[u[i]] = 1 }
  /^[0-9a-f]+ <[^>]+>:$/ {
    fn = $2; gsub(/[<>:]/, "", fn); base = fn; sub(/\..*/, "", base)
    mine = (base == "sc" || base ~ /^sp_/ || base == "spawner_main")
    if (mine && !(fn in seen)) { seen[fn] = 1; order[++nf] = fn }
    next
  }
  mine && /R_X86_64_/ {
    sym = $NF; sub(/[-+]0x[0-9a-f]+$/, "", sym)
    if (sym in ext) { bad[fn] = bad[fn] " " sym }
  }
  END {
    pass = fail = 0
    for (i = 1; i <= nf; i++) {
      f = order[i]
      if (f in bad) { fail++; printf "%s calls%s\n", f, bad[f] } else pass++
    }
    if ("spawner_main" in seen) pass++; else { fail++; print "spawner_main not found in the object" }
    printf "checks: spawner-calls %d passed, %d failed\n", pass, fail
    exit fail != 0
  }'
