/* fuzz_config_ini.c: an experiment file (INI, or JSON when it starts with
 * '{') given to `repcollapse run --config FILE`: reading it (libinih,
 * jansson), mapping its keys onto the option table and parsing every value
 * must end in options or a one-line error, never a crash or a leak. */
#include "fuzz_input.h" /* first: it sets _GNU_SOURCE */
#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  int fd = fuzz_file(data, size, path, sizeof path);
  if (fd < 0) return 0;
  /* the first byte picks the subcommand, so the skipping of other commands' keys runs too */
  static const char *const cmds[] = {"run", "spectrum", "data"};
  static const int groups[] = {OPT_DATA | OPT_MODEL | OPT_INIT | OPT_RUN, OPT_DATA | OPT_MODEL | OPT_INIT | OPT_SPECTRUM,
                               OPT_DATA | OPT_OUTFILE};
  int which = size ? data[0] % 3 : 0;
  char *argv[] = {"repcollapse", (char *)cmds[which], "--config", path, "--out", "fuzz-out", NULL};
  cli_options o;
  cli_parse(6, argv, 2, groups[which], cmds[which], &o);
  cli_options_free(&o);
  close(fd);
  return 0;
}
