/* noinit_plugin.c - a shared object that is not a bgjob plugin (no init function), for the loader's error test. */
__attribute__((visibility("default"))) int some_other_function(void);
int some_other_function(void) { return 42; }
