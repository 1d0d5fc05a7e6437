/* cmd_fixedpoint.c: `repcollapse fixedpoint`: run a model (reduced dynamics by
 * default), find the fixed point near the run's end on the reduced equations,
 * report it and its stability as one JSON object. */
#include <stdio.h>

#include "cli/cli.h"
#include "repcollapse/report.h"

int cmd_fixedpoint(int argc, char **argv) {
  cli_options o;
  int rc = cli_parse(argc, argv, 2, OPT_DATA | OPT_MODEL | OPT_INIT | OPT_RUN | OPT_HEAD | OPT_FIXED | OPT_OUTFILE, "fixedpoint", &o);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  cli_progress prog;
  cli_progress_init(&prog, "repcollapse fixedpoint", 1); /* no terminal display (JSON on stdout); rc_command's callback */
  o.cfg.progress = cli_progress_update;
  o.cfg.progress_ctx = &prog;
  rc_error err;
  rc_error_clear(&err);
  json_t *j = NULL;
  rc_status st = rc_fixedpoint_experiment(&o.cfg, o.zero_tol, &j, &err);
  json_t *rest = j ? json_object_get(j, "rest") : NULL;
  if (!st && rest && !json_is_true(json_object_get(rest, "reached"))) { /* a result, with what it is not */
    fprintf(cli_stderr(), "repcollapse fixedpoint: warning: the run did not come to rest by t = %g (|F| = %.3g > %.3g): the "
            "point reported was found by the solver near where the run ended, not reached by the dynamics (give a longer "
            "--t-end)\n",
            json_real_value(json_object_get(rest, "t_end")), json_real_value(json_object_get(rest, "residual")),
            json_real_value(json_object_get(rest, "tolerance")));
  }
  if (!st && o.out) st = rc_json_write_file(j, o.out, &err);
  if (!st) {
    json_dumpf(j, cli_stdout(), JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    fputc('\n', cli_stdout());
  }
  json_decref(j);
  cli_options_free(&o);
  return st ? cli_fail(&err) : 0;
}
