/* cmd_run_ts.c: `repcollapse run --task teacher-student` (docs/model.md section 4).
 * The task's options live in the one option table (options.c, group
 * OPT_TASK), so experiment files, summary.json's settings, --help and sweeps
 * treat them as every other option; here the parsed options become an
 * rc_ts_run_config (cli_ts_config), and the run is executed and reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_ts_config(const cli_options *o, rc_ts_run_config *cfg, char *msg, size_t n) {
  *cfg = rc_ts_run_config_default();
  if (!o->ts_samples_given || !o->ts_dim_given) {
    snprintf(msg, n, "--task teacher-student needs --samples N and --input-dim D");
    return 2;
  }
  if (!o->integrator_given) {
    snprintf(msg, n, "--task teacher-student needs --integrator gd (with --dt) or rk45");
    return 2;
  }
  if (o->cfg.checkpoint_every > 0 || o->cfg.resume) {
    snprintf(msg, n, "--checkpoint-every and --resume are implemented for the minimal model's integrators, "
                     "not yet for --task teacher-student");
    return 2;
  }
  cfg->base = o->cfg;
  cfg->data = o->ts;
  cfg->eta_w = o->eta_w;
  cfg->precision = o->cfg.precision;
  return 0;
}

int cmd_run_teacher_student(cli_options *o) {
  rc_ts_run_config cfg;
  char msg[300];
  int rc = cli_ts_config(o, &cfg, msg, sizeof msg);
  if (rc) {
    fprintf(cli_stderr(), "repcollapse run: error: %s\n", msg);
    return rc;
  }
  cfg.base.out_dir = o->out;
  cli_progress prog;
  cli_progress_init(&prog, "repcollapse run", o->quiet);
  cfg.base.progress = cli_progress_update;
  cfg.base.progress_ctx = &prog;
  rc_error err;
  rc_error_clear(&err);
  rc_ts_run_result *r = NULL;
  cli_outdir_begin(o->out);
  rc_status st = rc_ts_run_execute(&cfg, &r, &err);
  cli_outdir_end(o->out, st);
  cli_progress_done(&prog);
  if (!st) {
    const rc_metrics_row *last = &r->rows[r->n_rows - 1];
    fprintf(cli_stdout(), "%s: teacher-student N=%zu D=%zu K=%zu (%s) f=%.4g %s, model %s, %s to t=%g: loss %.4g, accuracy %.4g, "
           "test_accuracy %.4g, min_label_distance %.4g (from %.4g)",
           o->out, r->data->n, r->data->D, r->data->K, rc_ts_regime(r->data->n, r->data->D, r->data->K),
           cfg.data.frustration, rc_frustration_mode_name(cfg.data.mode), cfg.base.terms.name,
           rc_integrator_name(cfg.base.integrator), last->t, last->value[RC_M_LOSS], last->value[RC_M_ACCURACY],
           r->test_accuracy[r->n_rows - 1], last->value[RC_M_MIN_LABEL_DISTANCE],
           r->rows[0].value[RC_M_MIN_LABEL_DISTANCE]);
    if (r->has_collapse_time) fprintf(cli_stdout(), ", collapsed at t=%.4g", r->collapse_time);
    else fprintf(cli_stdout(), ", no collapse");
    fprintf(cli_stdout(), "\n");
  }
  rc_ts_run_result_free(r);
  return st ? cli_fail(&err) : 0;
}
