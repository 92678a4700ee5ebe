#!/bin/bash
# abi.sh HEADER: what a plugin built from HEADER depends on, one declaration
# a line: the job and callback types, the API table, the version symbol and
# the init function's type.  Comments and layout do not count.
{
    cat "$1"
    echo 'BGJOB_PLUGIN_VERSION;'
    echo 'typedef bgjob_plugin_init_fn abi_init_fn;'
} | ${CC:-cc} -E -P -x c - | tr '\n' ' ' | sed -e 's/  */ /g' |
    grep -o 'typedef struct bgjob_job bgjob_job;\|typedef int (\*bgjob_callback)[^;]*;\|struct bgjob_api {[^}]*}\|typedef int (\*bgjob_plugin_init_fn)[^;]*;\|[a-z_ ()"]*const unsigned int bgjob_plugin_api_version = [0-9]*;' |
    sed -e 's/; */;\n/g' -e 's/{ */{\n/' | sed -e 's/^ *//' -e '/^$/d'
