/* cmd_selfconsistent.c: `repcollapse selfconsistent`: the mean-field
 * self-consistency table across f (CSV on stdout, or JSON with --json;
 * --out FILE writes it to a file instead). */
#include <stdio.h>

#include "cli/cli.h"
#include "repcollapse/report.h"

int cmd_selfconsistent(int argc, char **argv) {
  cli_options o;
  int rc = cli_parse(argc, argv, 2, OPT_DATA | OPT_MODEL | OPT_INIT | OPT_RUN | OPT_HEAD | OPT_SWEEP | OPT_SELFCONS | OPT_OUTFILE |
                         OPT_PROGRESS,
                     "selfconsistent", &o);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  if (o.cfg.data.has_frustration) {
    cli_options_free(&o);
    fprintf(cli_stderr(), "repcollapse selfconsistent: error: use --frustration-list (not --frustration)\n");
    return 2;
  }
  cli_progress prog;
  cli_progress_init(&prog, "repcollapse selfconsistent", o.quiet);
  o.cfg.progress = cli_progress_update; /* one step per f (--quiet: none) */
  o.cfg.progress_ctx = &prog;
  rc_error err;
  rc_error_clear(&err);
  json_t *j = NULL;
  rc_status st = rc_selfconsistent_experiment(&o.cfg, &o.sweep, &j, &err);
  cli_progress_done(&prog);
  if (!st) {
    if (o.out) st = o.json ? rc_json_write_file(j, o.out, &err) : rc_json_rows_write_csv(j, o.out, &err);
    else if (o.json) {
      json_dumpf(j, cli_stdout(), JSON_INDENT(2) | JSON_REAL_PRECISION(17));
      fputc('\n', cli_stdout());
    } else {
      st = rc_json_rows_print_csv(j, cli_stdout(), &err);
    }
  }
  json_decref(j);
  cli_options_free(&o);
  return st ? cli_fail(&err) : 0;
}
