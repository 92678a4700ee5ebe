# bgjob-completion.bash - tab completion for the bgjob builtin.
#
# Embedded in bgjob.so, which defines it and registers it with `complete -F'
# when it is enabled in an interactive shell that has no compspec for bgjob
# yet; `make install' also installs it where bash-completion looks.  Job
# numbers, callback names and plugin names (the NAME.so files `bgjob load
# NAME' would find) come from `bgjob __complete', which marks nothing seen and
# runs no completion handler.  The values of the shipped plugins' options
# (digest -a, fetch -X) are listed here.

# _bgjob_reply COMPGEN-ARGS...: COMPREPLY from compgen, one word a line (file names may hold blanks).
_bgjob_reply() {
  local IFS=$'\n'
  COMPREPLY=($(compgen "$@"))
}

_bgjob_complete() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local sub=${COMP_WORDS[1]} opts= kind= i fpos=0
  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    COMPREPLY=($(compgen -W 'new status show result traceback remove flush wait kill funcs load notify group log help --help --usage --version' -- "$cur"))
    return 0
  fi
  if [[ $sub == new ]]; then
    # Everything after -f NAME belongs to the callback.
    for ((i = 2; i < COMP_CWORD; i++)); do
      if [[ ${COMP_WORDS[i]} == -f ]]; then fpos=$i; break; fi
    done
    if ((fpos && COMP_CWORD > fpos + 1)); then
      local cb=${COMP_WORDS[fpos+1]}
      if [[ $cb == run ]] && ((COMP_CWORD == fpos + 2)); then
        _bgjob_reply -c -- "$cur"
      elif [[ $cb == digest && $prev == -a ]] && ((COMP_CWORD > fpos + 2)); then
        # OpenSSL 3's default provider (digest takes any EVP name); no global variable: bgjob sets none.
        COMPREPLY=($(compgen -W 'md5 sha1 sha224 sha256 sha384 sha512 sha512-224 sha512-256 sha3-224 sha3-256
          sha3-384 sha3-512 shake128 shake256 blake2b512 blake2s256 sm3 ripemd160' -- "$cur"))
      elif [[ $cb == fetch && $prev == -X ]] && ((COMP_CWORD > fpos + 2)); then
        COMPREPLY=($(compgen -W 'GET HEAD POST PUT PATCH DELETE OPTIONS' -- "$cur"))
      else
        compopt -o filenames 2>/dev/null
        _bgjob_reply -f -- "$cur"
      fi
      return 0
    fi
  fi
  case $prev in
    -f) if [[ $sub == new ]]; then COMPREPLY=($(compgen -W "$(bgjob __complete funcs)" -- "$cur")); return 0; fi ;;
    -c) if [[ $sub == new ]]; then COMPREPLY=($(compgen -A function -- "$cur")); return 0; fi ;;
    -v|-p) COMPREPLY=($(compgen -v -- "$cur")); return 0 ;;
    -t|-r|-R|-j|-k) return 0 ;;
    -a|-A) if [[ $sub == new ]]; then COMPREPLY=($(compgen -W "$(bgjob __complete ids all)" -- "$cur")); return 0; fi ;;
    -g) COMPREPLY=($(compgen -W "$(bgjob __complete groups)" -- "$cur")); return 0 ;;
    -h) if [[ $sub == group ]]; then
          COMPREPLY=($(compgen -W 'never soon,fail= soon,success= now,fail= now,success=' -- "$cur"))
          compopt -o nospace 2>/dev/null; return 0
        fi ;;
  esac
  case $sub in
    new) opts='-d -v -t -c -a -A -r -R -g -k -f --' ;;
    status) opts='-n -g -v --json --output' ;;
    show) opts='-v --json --output'; kind=all ;;
    result) opts='-w -v'; kind=completed ;;
    traceback) kind=dead ;;
    remove) kind=finished ;;
    flush) opts='-f' ;;
    wait) opts='-n -q -p -t -g'; kind=unfinished ;;
    kill) opts='-g'; kind=unfinished ;;
    group)
      if ((COMP_CWORD == 2)) && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W "$(bgjob __complete groups)" -- "$cur"))
      elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '-j -h' -- "$cur"))
      fi
      return 0 ;;
    load)
      # A name without a slash is looked up in the plugin search path; a path is a file.
      if [[ $cur == */* || $cur == [.~]* ]]; then
        compopt -o filenames 2>/dev/null; _bgjob_reply -f -- "$cur"
      else
        _bgjob_reply -W "$(bgjob __complete plugins)" -- "$cur"
      fi
      return 0 ;;
    notify) ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W 'prompt now off' -- "$cur")); return 0 ;;
    log)
      # log [-j|-r] [FILE|-]: a file, or - (stop)
      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W '-j -r -' -- "$cur")); else compopt -o filenames 2>/dev/null; _bgjob_reply -f -- "$cur"; fi
      return 0 ;;
    help) ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W '--usage --version' -- "$cur")); return 0 ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -n $kind ]]; then
    COMPREPLY=($(compgen -W "$(bgjob __complete ids "$kind")" -- "$cur"))
  fi
  return 0
}
