/* cmd_run_ts.c: `repcollapse run --task teacher-student` (MODEL.md section 4).
 * The options of the task (sizes, teacher, frustration mode, eta_W,
 * precision) are taken out here; the rest (model, head, init, integration,
 * output) go through the common parser, so they mean what they mean for
 * every run. Thin: parse, call rc_ts_run_execute, print one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

typedef enum {
  T_TASK, T_SAMPLES, T_INPUT_DIM, T_CLASSES, T_TEACHER, T_MIXTURE_NOISE, T_FRUSTRATION, T_MODE, T_ETA_W,
  T_PRECISION, T_TEST_SAMPLES, T_DATA_SEED, T_ETA_X
} ts_opt_id;

static const struct {
  const char *name;
  ts_opt_id id;
  const char *arg, *help;
} TS_OPTS[] = {
    {"task", T_TASK, "T", "teacher-student (this task)"},
    {"samples", T_SAMPLES, "N", "training inputs (required)"},
    {"input-dim", T_INPUT_DIM, "D", "input dimension (required)"},
    {"classes", T_CLASSES, "K", "classes (default 2)"},
    {"teacher", T_TEACHER, "T", "linear|mixture (default linear)"},
    {"mixture-noise", T_MIXTURE_NOISE, "s", "mixture: u = mu_c + s xi (default 0.5)"},
    {"frustration", T_FRUSTRATION, "f", "fraction f in [0,1] of samples altered (default 0)"},
    {"frustration-mode", T_MODE, "M", "conflict (a second label) | flip (label replaced) (default conflict)"},
    {"eta-w", T_ETA_W, "E", "learning rate of W (default 1)"},
    {"precision", T_PRECISION, "P", "f64|f32: precision of the products with the inputs (gd; default f64)"},
    {"test-samples", T_TEST_SAMPLES, "n", "fresh teacher-labelled inputs for test_accuracy (default 1000)"},
    {"data-seed", T_DATA_SEED, "S", "seed of the inputs, teacher and frustration (default: --seed)"},
    {"eta-x", T_ETA_X, "A", "(not used: the samples move through W; use --eta-w)"},
};
#define N_TS_OPTS (sizeof TS_OPTS / sizeof TS_OPTS[0])

int cli_task_requested(int argc, char **argv, const char **task) {
  for (int k = 2; k < argc; k++) {
    if (!strcmp(argv[k], "--task")) {
      *task = k + 1 < argc ? argv[k + 1] : "";
      return k;
    }
    if (!strncmp(argv[k], "--task=", 7)) {
      *task = argv[k] + 7;
      return k;
    }
  }
  return 0;
}

static int fail_usage(const char *msg, const char *a) {
  fprintf(cli_stderr(), "repcollapse run: error: ");
  fprintf(cli_stderr(), msg, a);
  fputc('\n', cli_stderr());
  return 2;
}

/* one task option; returns 0 or the exit code */
static int apply(ts_opt_id id, const char *name, const char *v, rc_ts_run_config *c, int *data_seed_given) {
  rc_error err;
  double x;
  size_t n;
  char msg[160];
  switch (id) {
    case T_TASK:
      if (strcmp(v, "teacher-student"))
        return fail_usage("unknown task '%s' (expected teacher-student; without --task, run simulates the embedding models)", v);
      return 0;
    case T_SAMPLES:
    case T_INPUT_DIM:
    case T_CLASSES:
    case T_TEST_SAMPLES:
    case T_DATA_SEED:
      snprintf(msg, sizeof msg, "--%s: expected a non-negative integer (got '%%s')", name);
      if (!cli_parse_size(v, &n)) return fail_usage(msg, v);
      if (id == T_SAMPLES) c->data.n_samples = n;
      else if (id == T_INPUT_DIM) c->data.input_dim = n;
      else if (id == T_CLASSES) c->data.n_classes = n;
      else if (id == T_TEST_SAMPLES) c->data.n_test = n;
      else {
        c->data.seed = n;
        *data_seed_given = 1;
      }
      return 0;
    case T_MIXTURE_NOISE:
    case T_FRUSTRATION:
    case T_ETA_W:
      snprintf(msg, sizeof msg, "--%s: expected a number (got '%%s')", name);
      if (!cli_parse_double(v, &x)) return fail_usage(msg, v);
      if (id == T_MIXTURE_NOISE) c->data.mixture_noise = x;
      else if (id == T_FRUSTRATION) c->data.frustration = x;
      else c->eta_w = x;
      return 0;
    case T_TEACHER:
      if (rc_parse_teacher(v, &c->data.teacher, &err)) return fail_usage("%s", err.msg);
      return 0;
    case T_MODE:
      if (rc_parse_frustration_mode(v, &c->data.mode, &err)) return fail_usage("%s", err.msg);
      return 0;
    case T_PRECISION:
      if (rc_parse_precision(v, &c->precision, &err)) return fail_usage("%s", err.msg);
      return 0;
    case T_ETA_X: return fail_usage("--eta-x does not apply to the teacher-student task%s (the samples x = W u move through W: use --eta-w)", "");
  }
  return 0;
}

static void print_help(void) {
  fprintf(cli_stdout(), "usage: repcollapse run --task teacher-student --samples N --input-dim D [options]\n\ntask options:\n");
  for (size_t k = 0; k < N_TS_OPTS; k++) {
    char left[64];
    snprintf(left, sizeof left, "--%s %s", TS_OPTS[k].name, TS_OPTS[k].arg);
    fprintf(cli_stdout(), "  %-26s %s\n", left, TS_OPTS[k].help);
  }
  fprintf(cli_stdout(), "\n");
}

int cmd_run_teacher_student(int argc, char **argv) {
  rc_ts_run_config cfg = rc_ts_run_config_default();
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  if (!rest) return fail_usage("out of memory%s", "");
  int nrest = 0, rc = 0, data_seed_given = 0, help = 0, samples_given = 0, dim_given = 0;
  for (int k = 0; k < argc && !rc; k++) {
    const char *a = argv[k];
    if (k < 2 || strncmp(a, "--", 2) != 0) {
      rest[nrest++] = argv[k];
      continue;
    }
    if (!strcmp(a, "--help")) help = 1;
    const char *name = a + 2, *eq = strchr(name, '=');
    const size_t len = eq ? (size_t)(eq - name) : strlen(name);
    size_t q = 0;
    while (q < N_TS_OPTS && !(strlen(TS_OPTS[q].name) == len && !strncmp(TS_OPTS[q].name, name, len))) q++;
    if (q == N_TS_OPTS) {
      rest[nrest++] = argv[k];
      continue;
    }
    const char *v = eq ? eq + 1 : (k + 1 < argc ? argv[++k] : NULL);
    if (!v) {
      rc = fail_usage("option '%s' needs a value", a);
      break;
    }
    samples_given |= TS_OPTS[q].id == T_SAMPLES;
    dim_given |= TS_OPTS[q].id == T_INPUT_DIM;
    rc = apply(TS_OPTS[q].id, TS_OPTS[q].name, v, &cfg, &data_seed_given);
  }
  if (rc) {
    free(rest);
    return rc;
  }
  if (help) print_help();
  cli_options o;
  rc = cli_parse(nrest, rest, 2, OPT_MODEL | OPT_INIT | OPT_RUN | OPT_RECORD | OPT_RUNDIR | OPT_OUTFILE | OPT_HEAD | OPT_PROGRESS, "run", &o);
  free(rest);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  free(o.command_line); /* record the whole command line, task options included */
  o.command_line = NULL;
  size_t len = 1;
  for (int k = 0; k < argc; k++) len += strlen(argv[k]) + 1;
  char *line = calloc(len, 1);
  for (int k = 0; line && k < argc; k++) {
    if (k) strcat(line, " ");
    strcat(line, argv[k]);
  }
  if (!samples_given || !dim_given) rc = fail_usage("--task teacher-student needs --samples N and --input-dim D%s", "");
  else if (!o.out) rc = fail_usage("--out DIR is required%s", "");
  else if (!o.integrator_given) rc = fail_usage("--task teacher-student needs --integrator gd (with --dt) or rk45%s", "");
  if (rc) {
    free(line);
    cli_options_free(&o);
    return rc;
  }
  const rc_ts_data_spec data = cfg.data;
  const double eta_w = cfg.eta_w;
  const rc_precision prec = cfg.precision;
  cfg.base = o.cfg;
  cfg.data = data;
  cfg.eta_w = eta_w;
  cfg.precision = prec;
  if (!data_seed_given) cfg.data.seed = o.cfg.data.data_seed; /* --seed sets both seeds */
  cfg.base.command_line = line;
  cfg.base.out_dir = o.out;
  cli_progress prog;
  cli_progress_init(&prog, "repcollapse run", o.quiet);
  cfg.base.progress = cli_progress_update;
  cfg.base.progress_ctx = &prog;
  rc_error err;
  rc_error_clear(&err);
  rc_ts_run_result *r = NULL;
  cli_outdir_begin(o.out);
  rc_status st = rc_ts_run_execute(&cfg, &r, &err);
  cli_outdir_end(o.out, st);
  cli_progress_done(&prog);
  if (!st) {
    const rc_metrics_row *last = &r->rows[r->n_rows - 1];
    fprintf(cli_stdout(), "%s: teacher-student N=%zu D=%zu K=%zu (%s) f=%.4g %s, model %s, %s to t=%g: loss %.4g, accuracy %.4g, "
           "test_accuracy %.4g, min_label_distance %.4g (from %.4g)",
           o.out, r->data->n, r->data->D, r->data->K, rc_ts_regime(r->data->n, r->data->D, r->data->K),
           cfg.data.frustration, rc_frustration_mode_name(cfg.data.mode), cfg.base.terms.name,
           rc_integrator_name(cfg.base.integrator), last->t, last->value[RC_M_LOSS], last->value[RC_M_ACCURACY],
           r->test_accuracy[r->n_rows - 1], last->value[RC_M_MIN_LABEL_DISTANCE],
           r->rows[0].value[RC_M_MIN_LABEL_DISTANCE]);
    if (r->has_collapse_time) fprintf(cli_stdout(), ", collapsed at t=%.4g", r->collapse_time);
    else fprintf(cli_stdout(), ", no collapse");
    fprintf(cli_stdout(), "\n");
  }
  rc_ts_run_result_free(r);
  free(line);
  cli_options_free(&o);
  return st ? cli_fail(&err) : 0;
}
