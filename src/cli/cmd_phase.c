/* cmd_phase.c: `repcollapse phase`: the phase diagram over initial conditions
 * (fraction apart, median separation, crossover f_c); writes DIR/phase.csv and
 * DIR/phase.json and prints the crossovers. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "repcollapse/report.h"

int cmd_phase(int argc, char **argv) {
  cli_options o;
  int rc = cli_parse(argc, argv, 2, OPT_DATA | OPT_MODEL | OPT_INIT | OPT_RUN | OPT_HEAD | OPT_SWEEP | OPT_PHASE | OPT_OUTFILE | OPT_PROGRESS | OPT_TRAIN,
                     "phase", &o);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  if (!o.out) {
    cli_options_free(&o);
    fprintf(cli_stderr(), "repcollapse phase: error: --out DIR is required\n");
    return 2;
  }
  rc_model defaults[2];
  if (!o.sweep.models && !o.model_given && !o.terms_given) {
    rc_model_preset("siam", &defaults[0], NULL);
    rc_model_preset("siam-sg", &defaults[1], NULL);
    o.sweep.models = defaults;
    o.sweep.n_models = 2;
  }
  cli_progress prog;
  cli_progress_init(&prog, "repcollapse phase", o.quiet);
  o.cfg.progress = cli_progress_update;
  o.cfg.progress_ctx = &prog;
  rc_error err;
  rc_error_clear(&err);
  json_t *j = NULL;
  rc_status st = rc_phase_experiment(&o.cfg, &o.sweep, &j, &err);
  cli_progress_done(&prog);
  char path[4200];
  cli_outdir_begin(o.out);
  if (!st) st = rc_mkdir_p(o.out, &err);
  rc_dir_lock *lock = NULL; /* one writer per directory (io.h): phase.csv and phase.json from one run */
  if (!st) st = rc_dir_lock_acquire(o.out, &lock, &err);
  if (!st) {
    snprintf(path, sizeof path, "%s/phase.csv", o.out);
    st = rc_json_rows_write_csv(j, path, &err);
  }
  if (!st) {
    snprintf(path, sizeof path, "%s/phase.json", o.out);
    st = rc_json_write_file(j, path, &err);
  }
  rc_dir_lock_release(lock);
  if (!st) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "crossover"), i, c) {
      json_t *fc = json_object_get(c, "f_c");
      fprintf(cli_stdout(), "%-8s head_rate_ratio %-6g f_c = %s", json_string_value(json_object_get(c, "model")),
             json_real_value(json_object_get(c, "head_rate_ratio")), json_is_real(fc) ? "" : "none");
      if (json_is_real(fc)) fprintf(cli_stdout(), "%.4g", json_real_value(fc));
      json_t *note = json_object_get(c, "note");
      if (note) fprintf(cli_stdout(), " (%s)", json_string_value(note));
      fprintf(cli_stdout(), "\n");
    }
  }
  cli_outdir_end(o.out, st);
  json_decref(j);
  cli_options_free(&o);
  return st ? cli_fail(&err) : 0;
}
