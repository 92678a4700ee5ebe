#!/bin/bash
# abi.sh HEADER [--spawn]: what a plugin built from HEADER depends on, one
# declaration a line: the job and callback types, the API table, the version
# symbol and the init function's type (with --spawn, also api->spawn's
# request and result structs).  Comments and layout do not count.
spawn='\|struct bgjob_spawn_req {[^}]*}\|struct bgjob_spawn_res {[^}]*}'
[ "${2:-}" = --spawn ] || spawn=
{
    cat "$1"
    echo 'BGJOB_PLUGIN_VERSION;'
    echo 'typedef bgjob_plugin_init_fn abi_init_fn;'
} | ${CC:-cc} -E -P -x c - | tr '\n' ' ' | sed -e 's/  */ /g' |
    grep -o 'typedef struct bgjob_job bgjob_job;\|typedef int (\*bgjob_callback)[^;]*;\|struct bgjob_api {[^}]*}\|typedef int (\*bgjob_plugin_init_fn)[^;]*;\|[a-z_ ()"]*const unsigned int bgjob_plugin_api_version = [0-9]*;'"$spawn" |
    sed -e 's/; */;\n/g' -e 's/{ */{\n/' | sed -e 's/^ *//' -e '/^$/d'
