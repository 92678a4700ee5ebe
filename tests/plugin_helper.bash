# plugin_helper.bash - common set-up for the bats files of the plugins shipped
# in plugins/ (66-digest, 67-fetch), on top of helper.bash: PLUGINS is where
# they were built, every test runs in a fresh directory $D of its own, and
# plugin_job runs one job.  The bats file sets LOAD, the command that loads
# its plugin.
load helper

PLUGINS=${BGJOB_PLUGINS:-$BGJOB_ROOT/build/plugins}

setup() {
  D=$BATS_TEST_TMPDIR/files
  mkdir -p "$D"
  cd "$D"
}

# plugin_job CALLBACK SECONDS ARGS...: one CALLBACK job over ARGS in a shell
# that runs $LOAD first, waited for at most SECONDS ('' waits until it ends);
# its result (or the traceback's body), then status=ok or status=dead as the
# last line.
plugin_job() {
  bgsh "$LOAD"'; bgjob new -f "$1" "${@:3}" || exit $?; if bgjob wait ${2:+-t "$2"} 0; then bgjob result 0; echo "status=ok"
    else bgjob traceback 0 | tail -n +2; echo "status=dead"; fi' "$@"
}
