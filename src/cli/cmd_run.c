/* cmd_run.c: `repcollapse run`: one experiment (rc_run_execute, for every
 * encoder: --task teacher-student is the linear encoder) writing
 * DIR/metrics.csv, DIR/summary.json and, with --snapshots, DIR/snapshots.h5;
 * prints a short result line. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_run(int argc, char **argv) {
  cli_options o;
  int rc = cli_parse(argc, argv, 2, CLI_RUN_GROUPS, "run", &o);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  if (!o.out) {
    cli_options_free(&o);
    fprintf(cli_stderr(), "repcollapse run: error: --out DIR is required\n");
    return 2;
  }
  cli_progress prog;
  cli_progress_init(&prog, "repcollapse run", o.quiet);
  o.cfg.out_dir = o.out;
  o.cfg.progress = cli_progress_update;
  o.cfg.progress_ctx = &prog;
  rc_error err;
  rc_error_clear(&err);
  rc_run_result *r = NULL;
  cli_outdir_begin(o.out);
  rc_status st = rc_run_execute(&o.cfg, &r, &err);
  cli_outdir_end(o.out, st);
  cli_progress_done(&prog);
  if (!st && r->inputs) { /* an encoder on inputs (--task teacher-student: the linear encoder) */
    const rc_metrics_row *last = &r->rows[r->n_rows - 1];
    fprintf(cli_stdout(), "%s: %s encoder on %s inputs, N=%zu D=%zu K=%zu (%s) f=%.4g %s, model %s, %s to t=%g: loss %.4g, "
            "accuracy %.4g, test_accuracy %.4g, min_label_distance %.4g (from %.4g)",
            o.out, rc_encoder_name(o.cfg.encoder), rc_run_inputs_name(o.cfg.inputs), r->inputs->n, r->inputs->D,
            r->inputs->K, rc_ts_regime(r->inputs->n, r->inputs->D, r->inputs->K), rc_dataset_frustration(r->ds),
            rc_frustration_mode_name(o.cfg.ts.mode), o.cfg.terms.name, rc_integrator_name(o.cfg.integrator), last->t,
            last->value[RC_M_LOSS], last->value[RC_M_ACCURACY], r->test_accuracy[r->n_rows - 1],
            last->value[RC_M_MIN_LABEL_DISTANCE], r->rows[0].value[RC_M_MIN_LABEL_DISTANCE]);
    if (r->has_collapse_time) fprintf(cli_stdout(), ", collapsed at t=%.4g", r->collapse_time);
    else fprintf(cli_stdout(), ", no collapse");
    if (r->resumed) fprintf(cli_stdout(), " (resumed from the checkpoint at t=%.6g)", r->resumed_from_t);
    fprintf(cli_stdout(), "\n");
  } else if (!st) {
    const rc_metrics_row *last = &r->rows[r->n_rows - 1];
    fprintf(cli_stdout(), "%s: N=%zu K=%zu f=%.4g, model %s, %s to t=%g: loss %.4g, min_label_distance %.4g (from %.4g)",
           o.out, r->ds->n_samples, r->ds->n_classes, rc_dataset_frustration(r->ds), o.cfg.terms.name,
           rc_integrator_name(o.cfg.integrator), last->t, last->value[RC_M_LOSS],
           last->value[RC_M_MIN_LABEL_DISTANCE], r->rows[0].value[RC_M_MIN_LABEL_DISTANCE]);
    if (r->has_collapse_time) fprintf(cli_stdout(), ", collapsed at t=%.4g", r->collapse_time);
    else fprintf(cli_stdout(), ", no collapse");
    if (r->resumed) fprintf(cli_stdout(), " (resumed from the checkpoint at t=%.6g)", r->resumed_from_t);
    fprintf(cli_stdout(), "\n");
  }
  rc_run_result_free(r);
  cli_options_free(&o);
  return st ? cli_fail(&err) : 0;
}
