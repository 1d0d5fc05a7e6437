/* run_encoder.c: the run pipeline of an encoder on inputs (docs/model.md
 * sections 4 and 6; the `linear` encoder x = W u or the `mlp` encoder
 * x = W2 phi(W1 u + b1) + b2, on `teacher` or `mixture` inputs, Fashion-MNIST
 * or an HDF5 file of inputs, 6.3): every check before any work (sizes, the memory budget with the
 * inputs and the encoder's buffers, the gd step bound from the field's
 * largest rate estimated by power iteration, the optimizers' bounds of 6.1)
 * -> inputs -> the minimal model's spectrum of the observations (the D >> N
 * prediction, the default time scale) -> initial parameters theta = [W | y |
 * P] -> the one engine's loop (engine_loop.c: discrete, every optimizer,
 * weight decay, minibatches, EMA targets; flow by rk45, with weight decay and
 * EMA targets) or, for f32 gd, the teacher-student gd (ts_integrate.c) on
 * the same field ->
 * metrics of section 2 on the encoder's outputs X = enc(theta) (P x with a
 * head) through the same metrics code, plus test_accuracy -> summaries ->
 * snapshots.h5, metrics.csv, summary.json, each atomically, under the
 * directory's lock. A NaN or Inf in the parameters or a metric stops the run
 * and nothing is written. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/lapack_reason.h"
#include "core/memory.h"
#include "core/threads.h"
#include "experiment/checkpoints.h"
#include "experiment/engine_loop.h"
#include "experiment/run_encoder.h"
#include "integrate/common.h"
#include "repcollapse/inputs.h"
#include "repcollapse/io.h"
#include "repcollapse/report.h"
#include "repcollapse/trainer.h"

void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/* refuse a plain gd step with dt * rate >= 2 / margin: power iteration approaches the top of a dense bulk from below */
#define RC_ENC_RATE_MARGIN 1.05

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* the generated inputs' spec: cfg->ts with the teacher that `inputs` names */
static rc_ts_data_spec generated_spec(const rc_run_config *cfg) {
  rc_ts_data_spec s = cfg->ts;
  s.teacher = cfg->inputs == RC_RUN_INPUTS_MIXTURE ? RC_TEACHER_MIXTURE : RC_TEACHER_LINEAR;
  return s;
}

/* Fashion-MNIST's sizes before loading: 10 classes of per_class (default 30) clean images, F = round(f C/(1-f))
 * frustrated ones, D = 784, the first n_test test images */
static rc_fashion_mnist_spec fashion_spec(const rc_run_config *cfg) {
  rc_fashion_mnist_spec s = rc_fashion_mnist_spec_default();
  if (cfg->per_class) s.per_class = cfg->per_class;
  s.frustration = cfg->ts.frustration;
  s.n_test = cfg->ts.n_test < 10000 ? cfg->ts.n_test : 10000;
  s.seed = cfg->ts.seed;
  return s;
}

/* the sizes encoder_bytes reads, for inputs that are not generated (a file: known only once read) */
static rc_ts_data_spec sizes_spec(const rc_run_config *cfg, const rc_ts_data *in) {
  rc_ts_data_spec s = generated_spec(cfg);
  if (in) {
    s.n_samples = in->n, s.input_dim = in->D, s.n_classes = in->K, s.n_test = in->n_test;
  } else if (cfg->inputs == RC_RUN_INPUTS_FASHION_MNIST) {
    const rc_fashion_mnist_spec f = fashion_spec(cfg);
    const size_t C = 10 * f.per_class;
    s.n_samples = C + (size_t)llround(f.frustration * (double)C / (1.0 - f.frustration));
    s.input_dim = 784, s.n_classes = 10, s.n_test = f.n_test;
  }
  return s;
}

static rc_status inputs_check(const rc_run_config *cfg, rc_error *err) {
  if (cfg->inputs == RC_RUN_INPUTS_TEACHER || cfg->inputs == RC_RUN_INPUTS_MIXTURE) {
    rc_ts_data_spec s = generated_spec(cfg);
    return rc_ts_data_check(&s, cfg->dim, err);
  }
  if (!(cfg->ts.frustration >= 0.0 && cfg->ts.frustration < 1.0))
    return rc_error_set(err, RC_EINVAL, "--frustration %g is outside [0, 1)", cfg->ts.frustration);
  if (cfg->ts.mode != RC_FRUSTRATION_CONFLICT)
    return rc_error_set(err, RC_EINVAL, "--frustration-mode %s is for the generated teacher's inputs; real inputs are "
                        "frustrated by conflict (docs/model.md 6.3)", rc_frustration_mode_name(cfg->ts.mode));
  if (cfg->inputs == RC_RUN_INPUTS_FILE && (!cfg->inputs_file || !*cfg->inputs_file))
    return rc_error_set(err, RC_EINVAL, "--inputs file needs --inputs-file PATH");
  return RC_OK;
}

rc_status rc_run_inputs_load(const rc_run_config *cfg, rc_ts_data **out, rc_error *err) {
  *out = NULL;
  switch (cfg->inputs) {
    case RC_RUN_INPUTS_TEACHER:
    case RC_RUN_INPUTS_MIXTURE: {
      rc_ts_data_spec s = generated_spec(cfg);
      return rc_ts_data_generate(&s, out, err);
    }
    case RC_RUN_INPUTS_FASHION_MNIST: {
      rc_fashion_mnist_spec s = fashion_spec(cfg);
      return rc_fashion_mnist_load(&s, out, NULL, err);
    }
    case RC_RUN_INPUTS_FILE:
    default: {
      rc_inputs_file_spec s = rc_inputs_file_spec_default();
      s.path = cfg->inputs_file;
      s.per_class = cfg->per_class;
      s.frustration = cfg->ts.frustration;
      s.seed = cfg->ts.seed;
      return rc_inputs_file_load(&s, out, NULL, err);
    }
  }
}

/* Bytes an encoder run needs: the inputs and test inputs, the per-sample
 * buffers, and the engine's (outputs, targets, gradients) and trainer's
 * (field, optimizer buffers, EMA copies, rk45's stages) vectors of theta. */
static double encoder_bytes(const rc_run_config *cfg, const rc_ts_data_spec *s) {
  const double N = (double)s->n_samples + (double)rc_ts_n_frustrated_added(s), D = (double)s->input_dim,
               d = (double)cfg->dim, K = (double)s->n_classes;
  const double h = (double)cfg->hidden;
  const double n_theta = (cfg->encoder == RC_ENCODER_MLP ? h * D + h + d * h + d : d * D) + K * d + d * d;
  double vectors = cfg->integrator == RC_INTEGRATOR_RK45 ? 16.0 : 6.0; /* theta, F, bufs, targets, snapshots' last */
  double per_sample = 8.0 * 4.0 * N * d;                               /* X, target X, G, the metrics' view */
  if (cfg->encoder == RC_ENCODER_MLP) /* Z, A, dZ of the online, target and test encoders */
    per_sample += 8.0 * 3.0 * h * (2.0 * N + (double)s->n_test);
  /* snapshots.h5 is written whole: every recorded theta is kept */
  const double n_times = cfg->times ? (double)cfg->n_times : (double)cfg->points + 1.0;
  double snaps = cfg->snapshots && cfg->out_dir ? 8.0 * n_times * n_theta : 0.0;
  return rc_ts_memory_estimate(s, cfg->dim, cfg->precision) + per_sample + 8.0 * vectors * n_theta + snaps;
}

rc_status rc_run_encoder_check(const rc_run_config *cfg, rc_error *err) {
  const char *enc = rc_encoder_name(cfg->encoder);
  if (cfg->encoder != RC_ENCODER_LINEAR && cfg->encoder != RC_ENCODER_MLP)
    return rc_error_set(err, RC_EINVAL, "--encoder %s does not run on inputs (linear or mlp)", enc);
  const int mlp = cfg->encoder == RC_ENCODER_MLP;
  if (mlp && (cfg->hidden == 0 || cfg->hidden > 100000))
    return rc_error_set(err, RC_EINVAL, "--hidden must be in 1..100000 (got %zu)", cfg->hidden);
  if (mlp && cfg->precision != RC_PRECISION_F64)
    return rc_error_set(err, RC_EINVAL, "--precision f32 is for the linear encoder's gd (the mlp runs in f64)");
  if (cfg->dim == 0) return rc_error_set(err, RC_EINVAL, "--dim must be positive");
  if (cfg->dim > 100000) return rc_error_set(err, RC_EINVAL, "--dim %zu is too large (at most 100000)", cfg->dim);
  if (!(cfg->eps > 0 && cfg->eps < 1)) return rc_error_set(err, RC_EINVAL, "--eps must be in (0, 1) (got %g)", cfg->eps);
  if (!(cfg->checkpoint_every >= 0) || !isfinite(cfg->checkpoint_every))
    return rc_error_set(err, RC_EINVAL, "--checkpoint-every must be a positive time (got %g)", cfg->checkpoint_every);
  if ((cfg->checkpoint_every > 0 || cfg->resume) && !cfg->out_dir)
    return rc_error_set(err, RC_EINVAL, "checkpoints need an output directory");
  if ((cfg->checkpoint_every > 0 || cfg->resume) && cfg->precision == RC_PRECISION_F32)
    return rc_error_set(err, RC_EINVAL, "--checkpoint-every and --resume are implemented for the %s encoder in f64 "
                        "(gd, every optimizer, rk45), not for --precision f32's gd", enc);
  if (cfg->integrator != RC_INTEGRATOR_GD && cfg->integrator != RC_INTEGRATOR_RK45)
    return rc_error_set(err, RC_EINVAL, "the teacher-student task (the %s encoder) runs with --integrator gd or rk45 "
                        "(not %s)", enc, rc_integrator_name(cfg->integrator));
  if (cfg->integrator == RC_INTEGRATOR_GD && !(cfg->dt > 0) )
    return rc_error_set(err, RC_EINVAL, "the gd integrator needs --dt > 0");
  if (cfg->integrator == RC_INTEGRATOR_RK45 && cfg->precision == RC_PRECISION_F32)
    return rc_error_set(err, RC_EINVAL, "--precision f32 goes with gd: rk45's error control needs a double-precision field");
  if (cfg->terms.sphere && (cfg->integrator != RC_INTEGRATOR_GD || cfg->precision != RC_PRECISION_F64))
    return rc_error_set(err, RC_EINVAL, "--sphere with the %s encoder runs with --integrator gd in f64 (the engine's "
                        "loop; its rk45 and f32 gd do not normalise the outputs yet)", enc);
  if (!rc_train_is_plain(&cfg->train)) { /* the one engine's trainer (gd: every optimizer; rk45: decay, EMA) */
    if (cfg->precision != RC_PRECISION_F64)
      return rc_error_set(err, RC_EINVAL, "--precision f32 is for plain gd (the engine runs in f64)");
  }
  if (cfg->init.kind != RC_INIT_GAUSSIAN)
    return rc_error_set(err, RC_EINVAL, "--init class does not apply to the teacher-student task (x = W u)");
  if (!(cfg->init.sigma > 0) || !isfinite(cfg->init.sigma))
    return rc_error_set(err, RC_EINVAL, "sigma must be positive (got %g)", cfg->init.sigma);
  if (!(cfg->eta_w > 0) || !isfinite(cfg->eta_w))
    return rc_error_set(err, RC_EINVAL, "--eta-w must be positive (got %g)", cfg->eta_w);
  if (!(cfg->eta_head > 0) || !isfinite(cfg->eta_head))
    return rc_error_set(err, RC_EINVAL, "--eta-head must be positive (got %g)", cfg->eta_head);
  if (cfg->integrator == RC_INTEGRATOR_RK45) {
    rc_status st = rc_rk45_check_tolerances(cfg->rtol, cfg->atol, err);
    if (st) return st;
  }
  double t_end;
  rc_status st = rc_run_end_time(cfg, &t_end, err); /* --t-end, --steps x --dt and --times must agree */
  if (!st) st = inputs_check(cfg, err);             /* sizes, f, mode against K, the 16 GB bound */
  if (st) return st;
  if (cfg->inputs == RC_RUN_INPUTS_FILE) return RC_OK; /* its sizes are known once read: checked then */
  return rc_run_encoder_check_memory(cfg, NULL, err);
}

rc_status rc_run_encoder_check_memory(const rc_run_config *cfg, const rc_ts_data *in, rc_error *err) {
  const char *enc = rc_encoder_name(cfg->encoder);
  rc_ts_data_spec s = sizes_spec(cfg, in);
  char what[300], a[32];
  const double bytes = encoder_bytes(cfg, &s);
  snprintf(what, sizeof what, "this run (N = %zu inputs of dimension D = %zu, %zu test inputs, d = %zu, the %s encoder, %s; "
           "inputs and buffers %s)", s.n_samples, s.input_dim, s.n_test, cfg->dim, enc,
           rc_integrator_name(cfg->integrator), rc_format_bytes(bytes, a, sizeof a));
  return rc_memory_check(bytes, what, err);
}

/* ---- the observer: metrics of section 2 on X = enc(theta) (P x with a head), test accuracy ---- */
typedef struct {
  const rc_run_config *cfg;
  rc_engine *e;
  const rc_ts_data *in;
  const rc_param_block *blocks;
  size_t n_blocks, n_theta;
  rc_encoder test_enc;     /* the encoder on the test inputs */
  rc_state *view;          /* x = (P) enc(u), y: the state the metrics see */
  double *test_out, *tmp;  /* n_test x d; scratch for P x */
  double *F;               /* scratch field (the loss) */
  rc_metrics_ref ref;
  int have_ref;
  rc_metrics_options mopt;
  rc_run_result *r;
  double *snap_states;     /* n_times x n_theta, or NULL */
  long long *snap_steps;
  size_t n;
  run_checkpoints *ck;     /* checkpoints: each observation's journal record (enc_record), or NULL */
  double *rec;             /* scratch journal record */
  size_t n_times;          /* recorded times (rows, snapshots) */
} enc_obs;

/* A journal record of one observation: what a resumed run cannot recompute
 * from the rows of the checkpoint: [test_accuracy, the metrics' references
 * d0, trace0, trace_b0 | theta with --snapshots]. */
#define ENC_RECORD_HEAD 4
static size_t enc_record_values(const enc_obs *c) { return ENC_RECORD_HEAD + (c->snap_states ? c->n_theta : 0); }

/* resume: journal record r back into the test accuracy, the references and the kept snapshots */
static rc_status enc_replay(size_t r, double t, size_t step, const double *v, void *ctx, rc_error *err) {
  enc_obs *c = ctx;
  (void)t;
  if (r >= c->n_times)
    return rc_error_set(err, RC_EINVAL, "the checkpoint's journal has more records than this run's recorded times");
  c->r->test_accuracy[r] = v[0];
  c->ref.d0 = v[1], c->ref.trace0 = v[2], c->ref.trace_b0 = v[3];
  c->have_ref = 1;
  if (c->snap_states) {
    memcpy(c->snap_states + r * c->n_theta, v + ENC_RECORD_HEAD, c->n_theta * sizeof(double));
    c->snap_steps[r] = (long long)step;
    memcpy(c->r->theta_final, v + ENC_RECORD_HEAD, c->n_theta * sizeof(double));
  }
  return RC_OK;
}

/* fraction of rows of out whose nearest label (ties within 1e-12 relative wrong) is label[i] */
static double nearest_label_accuracy(const double *out, const uint32_t *label, size_t n, const double *Y, size_t K,
                                     size_t d) {
  if (n == 0) return NAN;
  size_t correct = 0;
  for (size_t i = 0; i < n; i++) {
    double best = INFINITY, second = INFINITY;
    size_t arg = 0;
    for (size_t c = 0; c < K; c++) {
      double q = 0.0;
      for (size_t a = 0; a < d; a++) {
        const double r = out[i * d + a] - Y[c * d + a];
        q += r * r;
      }
      if (q < best) {
        second = best;
        best = q;
        arg = c;
      } else if (q < second) {
        second = q;
      }
    }
    if (arg == label[i] && second - best > 1e-12 * second) correct++;
  }
  return (double)correct / (double)n;
}

/* rows of X (n x d) become (P x)^T: X <- X P^T (through tmp) */
static void apply_head(double *X, size_t n, size_t d, const double *P, double *tmp) {
  if (n == 0) return;
  memcpy(tmp, X, n * d * sizeof *tmp);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)d, (int)d, 1.0, tmp, (int)d, P, (int)d, 0.0, X,
              (int)d);
}

static void describe_param(const enc_obs *c, size_t q, char *buf, size_t n) {
  for (size_t b = 0; b < c->n_blocks; b++) {
    const rc_param_block *blk = &c->blocks[b];
    if (q < blk->offset || q >= blk->offset + blk->len) continue;
    const size_t k = q - blk->offset, d = c->cfg->dim, D = c->in->D;
    if (!strcmp(blk->name, "W")) snprintf(buf, n, "W[%zu][%zu]", k / D, k % D);
    else if (!strcmp(blk->name, "y")) snprintf(buf, n, "label %zu's embedding (coordinate %zu)", k / d, k % d);
    else if (!strcmp(blk->name, "P")) snprintf(buf, n, "head P[%zu][%zu]", k / d, k % d);
    else snprintf(buf, n, "%s[%zu]", blk->name, k);
    return;
  }
  snprintf(buf, n, "parameter %zu", q);
}

/* the offset of the block named `name` (y, P: after the encoder's one or several blocks) */
static size_t block_offset(const rc_param_block *b, size_t n, const char *name) {
  for (size_t k = 0; k < n; k++)
    if (!strcmp(b[k].name, name)) return b[k].offset;
  return 0;
}

static rc_status observe_params(enc_obs *c, double t, size_t step, const double *theta, rc_error *err) {
  const size_t K = c->in->K, d = c->cfg->dim, N = c->in->n;
  const size_t off_y = block_offset(c->blocks, c->n_blocks, "y");
  const double *Y = theta + off_y, *P = c->r->has_head ? theta + block_offset(c->blocks, c->n_blocks, "P") : NULL;
  for (size_t q = 0; q < c->n_theta; q++) /* the first NaN or Inf stops the run (as every run) */
    if (!isfinite(theta[q])) {
      char what[96];
      describe_param(c, q, what, sizeof what);
      return rc_error_set(err, RC_ENUMERIC, "non-finite state at t = %g (step %zu): %s is %g", t, step, what, theta[q]);
    }
  memcpy(c->view->x, rc_engine_outputs(c->e, theta), N * d * sizeof(double));
  if (P) apply_head(c->view->x, N, d, P, c->tmp);
  memcpy(c->view->y, Y, K * d * sizeof(double));
  if (!c->have_ref) {
    c->ref = rc_metrics_reference_data(c->in->ds, c->view, NULL); /* view's x: the sample-side embeddings */
    c->have_ref = 1;
  }
  rc_metrics_row *row = &c->r->rows[c->n];
  rc_metrics_compute_opt(c->in->ds, c->view, &c->ref, t, &c->mopt, row);
  if (c->mopt.mask >> RC_M_LOSS & 1u) { /* the terms' loss (section 3), not |P x - y|^2 */
    row->value[RC_M_LOSS] = rc_engine_field(c->e, theta, NULL, NULL, c->F);
    row->valid[RC_M_LOSS] = 1;
  }
  for (int q = 0; q < RC_N_METRICS; q++)
    if (row->valid[q] && !isfinite(row->value[q]))
      return rc_error_set(err, RC_ENUMERIC, "non-finite metric at t = %g (step %zu): %s is %g", t, step,
                          rc_metric_names[q], row->value[q]);
  c->test_enc.method->forward(&c->test_enc, theta, c->test_out);
  if (P) apply_head(c->test_out, c->in->n_test, d, P, c->tmp);
  c->r->test_accuracy[c->n] = nearest_label_accuracy(c->test_out, c->in->test_label, c->in->n_test, Y, K, d);
  if (c->snap_states) {
    memcpy(c->snap_states + c->n * c->n_theta, theta, c->n_theta * sizeof(double));
    c->snap_steps[c->n] = (long long)step;
  }
  memcpy(c->r->theta_final, theta, c->n_theta * sizeof(double));
  if (c->ck) {
    c->rec[0] = c->r->test_accuracy[c->n];
    c->rec[1] = c->ref.d0, c->rec[2] = c->ref.trace0, c->rec[3] = c->ref.trace_b0;
    if (c->snap_states) memcpy(c->rec + ENC_RECORD_HEAD, theta, c->n_theta * sizeof(double));
    rc_status st = run_checkpoints_record_values(c->ck, t, step, c->rec, err);
    if (st) return st;
  }
  c->n++;
  return RC_OK;
}

static rc_status observe_engine(double t, size_t step, const double *theta, const rc_trainer *tr, void *ctx,
                                rc_error *err) {
  (void)tr;
  return observe_params(ctx, t, step, theta, err);
}

static rc_status observe_ts(double t, size_t step, const double *z, void *ctx, rc_error *err) {
  return observe_params(ctx, t, step, z, err);
}

/* ---- recorded times: explicit, or 0 and a log grid up to t_end (steps * dt for gd; default 10 /
 * slow_rate of the minimal model of the observations, at least 500 / eta_W for term models) ---- */
static rc_status encoder_times(const rc_run_config *cfg, const rc_spectrum *spec, double **grid, size_t *n,
                               double *t_end_out, rc_error *err) {
  const double dt = cfg->integrator == RC_INTEGRATOR_GD ? cfg->dt : 0.0;
  double t_end = 0.0;
  rc_status st = rc_run_end_time(cfg, &t_end, err);
  if (st) return st;
  if (cfg->times) {
    for (size_t k = 0; k < cfg->n_times && dt > 0; k++) {
      double q = cfg->times[k] / dt;
      if (fabs(q - (double)llround(q)) > 1e-9 * fmax(1.0, q))
        return rc_error_set(err, RC_EINVAL, "recorded time %g is not a multiple of --dt %g", cfg->times[k], dt);
    }
    if (!cfg->n_times) return rc_error_set(err, RC_EINVAL, "no recorded times");
    *grid = rc_calloc(cfg->n_times, sizeof **grid, "time grid", err);
    if (!*grid) return RC_ENOMEM;
    memcpy(*grid, cfg->times, cfg->n_times * sizeof **grid);
    *n = cfg->n_times;
    *t_end_out = cfg->times[cfg->n_times - 1];
    return RC_OK;
  }
  if (!(t_end > 0)) {
    t_end = spec->slow_rate > 0 ? RC_DEFAULT_T_END_SLOW / spec->slow_rate : 1000.0 / cfg->eta_w;
    if (!rc_model_is_minimal(&cfg->terms) && t_end < RC_DEFAULT_T_END_HEAD / cfg->eta_w)
      t_end = RC_DEFAULT_T_END_HEAD / cfg->eta_w;
    if (cfg->t_min > t_end)
      return rc_error_set(err, RC_EINVAL, "--t-min %g is past the default end time %g: give --t-end", cfg->t_min, t_end);
  }
  double t_min = cfg->t_min > 0 ? cfg->t_min : RC_DEFAULT_T_MIN_FAST / spec->fast_rate;
  if (dt > 0 && t_min < dt) t_min = dt;
  *t_end_out = t_end;
  return rc_time_grid(t_min, t_end, cfg->points, dt, grid, n, err);
}

/* singular values of W (d x D), descending, and the participation ratio of their squares */
static rc_status w_spectrum(const double *W, size_t d, size_t D, rc_run_result *r, rc_error *err) {
  const size_t k = d < D ? d : D;
  double *a = rc_calloc(d * D, sizeof *a, "SVD", err);
  r->w_singular = rc_calloc(k, sizeof(double), "SVD", err);
  if (!a || !r->w_singular) {
    free(a);
    return RC_ENOMEM;
  }
  memcpy(a, W, d * D * sizeof *a);
  lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)d, (lapack_int)D, a, (lapack_int)D,
                                   r->w_singular, NULL, (lapack_int)d, NULL, (lapack_int)D);
  free(a);
  char why[160];
  if (info != 0)
    return rc_error_set(err, RC_ENUMERIC, "SVD of W (LAPACK dgesdd) failed: %s", rc_lapack_reason((int)info, why, sizeof why));
  r->n_singular = k;
  double s2 = 0.0, s4 = 0.0;
  for (size_t q = 0; q < k; q++) {
    const double v = r->w_singular[q] * r->w_singular[q];
    s2 += v;
    s4 += v * v;
  }
  r->w_effective_rank = s4 > 0 ? s2 * s2 / s4 : NAN;
  return RC_OK;
}

static void engine_field_fn(const double *theta, double *F, void *ctx) { rc_engine_field(ctx, theta, NULL, NULL, F); }

/* Plain full-batch gd (no decay, batch or EMA): theta <- theta + dt F(theta),
 * the engine's field and one BLAS daxpy, the kernel the task's gd always ran
 * (as the table encoder's plain gd runs its own kernel), so its outputs are
 * those of before the one engine byte for byte; the trainer's gd (gd.c)
 * writes the same step as a loop, which a fused multiply-add in daxpy's kernel
 * may round differently. Checkpoints (ck, or NULL): as the engine loop's
 * discrete ones, every round(every / dt) steps, the payload theta alone; a
 * resume continues from the payload's step and recorded time. */
static rc_status plain_gd_loop(rc_engine *e, const double *theta0, double dt, const double *grid, size_t n_times,
                               rc_progress progress, void *progress_ctx, enc_obs *oc,
                               const rc_engine_checkpointing *ck, rc_error *err) {
  const size_t n = rc_engine_n_theta(e);
  double *theta = rc_calloc(n + 1, sizeof *theta, "parameters", err), *F = rc_calloc(n + 1, sizeof *F, "field", err);
  rc_status st = theta && F ? RC_OK : RC_ENOMEM;
  const rc_engine_resume_point *from = ck ? ck->from : NULL;
  size_t step = 0, k0 = 0;
  if (!st && from) {
    if (from->n_z != n || !from->z || from->next_time > n_times)
      st = rc_error_set(err, RC_EINVAL, "the checkpoint's saved state (%zu values) does not fit this run (%zu values)",
                        from->n_z, n);
    for (size_t q = 0; !st && q < n; q++)
      if (!isfinite(from->z[q])) st = rc_error_set(err, RC_EINVAL, "the checkpoint's saved state has a non-finite value");
    if (!st) {
      memcpy(theta, from->z, n * sizeof *theta); /* already on the sphere under --sphere */
      step = from->step;
      k0 = from->next_time;
    }
  } else if (!st) {
    memcpy(theta, theta0, n * sizeof *theta);
    rc_engine_project(e, theta); /* --sphere (docs/model.md 6.2): the labels on the sphere; nothing otherwise */
  }
  const size_t last = n_times ? (size_t)llround(grid[n_times - 1] / dt) : 0;
  const size_t every = ck && ck->every > 0 ? (size_t)fmax(1.0, (double)llround(ck->every / dt)) : 0;
  size_t last_save = step;
  for (size_t k = k0; !st && k < n_times; k++) {
    const size_t at = (size_t)llround(grid[k] / dt);
    if (step > at) {
      st = rc_error_set(err, RC_EINVAL, "internal: recorded time %g is before step %zu", grid[k], step);
      break;
    }
    while (!st && step < at) {
      rc_engine_field(e, theta, NULL, NULL, F);
      cblas_daxpy((int)n, dt, F, 1, theta, 1);
      rc_engine_project(e, theta); /* --sphere: the labels back on the sphere */
      step++;
      for (size_t q = 0; q < n; q++)
        if (!isfinite(theta[q])) {
          char what[96];
          describe_param(oc, q, what, sizeof what);
          st = rc_error_set(err, RC_ENUMERIC, "gd diverged at step %zu (t = %g): non-finite value %g in %s", step,
                            (double)step * dt, theta[q], what);
          break;
        }
      if (!st && every && step - last_save >= every && step < last) {
        rc_engine_resume_point p = {k, step, (double)step * dt, 0.0, theta, n};
        last_save = step;
        st = ck->save(&p, ck->ctx, err);
      }
      if (!st && (step & 15) == 0 && last) st = rc_progress_report(progress, progress_ctx, (double)step / (double)last, err);
    }
    if (!st) st = observe_params(oc, (double)step * dt, step, theta, err);
  }
  free(theta);
  free(F);
  return st;
}

/* The mlp's initial theta = [W1 b1 W2 b2 | y | P], seeded as the linear
 * encoder's (rc_ts_init_state): from one mt19937 seeded with the init seed,
 * the labels y (entries N(0, sigma^2/d), section 2), then the encoder's
 * parameters (docs/model.md 6.3); P from seed + 1. */
static rc_status mlp_init_state(const rc_run_config *cfg, rc_engine *e, const rc_param_block *blocks, int head,
                                double *theta, rc_error *err) {
  const size_t off_y = rc_engine_encoder_size(e), n_y = rc_engine_n_theta(e) - off_y - (head ? cfg->dim * cfg->dim : 0);
  (void)blocks;
  rc_status st = rc_encoder_init_after_labels(rc_engine_encoder(e), cfg->init.sigma, cfg->init.seed, theta + off_y,
                                              n_y, theta, err);
  if (st || !head) return st;
  return rc_head_init_matrix(theta + off_y + n_y, cfg->dim, cfg->head_init, cfg->head_scale, cfg->init.seed + 1,
                             err);
}

rc_status rc_run_encoder_execute(const rc_run_config *cfg, rc_run_result **out, rc_error *err) {
  *out = NULL;
  const double t_start = now_seconds();
  rc_status st = rc_run_encoder_check(cfg, err);
  if (!st) st = rc_threads_check_env(err);
  if (st) return st;
  rc_run_result *r = rc_calloc(1, sizeof *r, "run result", err);
  if (!r) return RC_ENOMEM;
  /* --threads: the BLAS products with the inputs (every field evaluation) and the metrics; BLAS splits
   * the outputs, not the sums, so the results do not depend on it */
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(rc_thread_count(cfg->threads));
  r->has_head = rc_model_has_head(&cfg->terms);
  r->dim = cfg->dim;
  r->predicted_final_min_label_distance = NAN;
  const size_t d = cfg->dim;
  /* the dynamics: eta_W takes eta_x's place (the samples move through W) */
  rc_minimal_params mp = cfg->model;
  mp.eta_x = cfg->eta_w;
  rc_ts_params tp;
  tp.hp = rc_run_head_params(cfg);
  tp.hp.base.eta_x = cfg->eta_w;
  tp.eta_w = cfg->eta_w;
  tp.precision = cfg->precision;
  rc_ts_model *m = NULL;
  rc_engine *e = NULL;
  rc_engine_spec es;
  memset(&es, 0, sizeof es);
  double *theta0 = NULL, *grid = NULL;
  size_t n_times = 0;
  rc_dir_lock *lock = NULL;
  enc_obs oc;
  memset(&oc, 0, sizeof oc);
  run_checkpoints ck;
  memset(&ck, 0, sizeof ck);
  int ck_open = 0;
  const int mlp = cfg->encoder == RC_ENCODER_MLP;
  st = rc_run_inputs_load(cfg, &r->inputs, err);
  if (!st && cfg->inputs == RC_RUN_INPUTS_FILE) st = rc_run_encoder_check_memory(cfg, r->inputs, err);
  if (!st) r->ds = r->inputs->ds;
  if (!st) st = rc_run_check_uniformity(&cfg->terms, r->ds->n_samples, cfg->train.batch, err); /* O(N^2 d) */
  if (!st) st = rc_spectrum_compute(r->ds, &mp, RC_SPECTRUM_AUTO, &r->spec, err);
  if (!st) {
    es.encoder = cfg->encoder;
    es.ds = r->ds;
    es.U = r->inputs->U;
    es.D = r->inputs->D;
    es.d = d;
    es.model = cfg->terms;
    es.rates = cfg->model.rates;
    es.eta_enc = cfg->eta_w;
    es.eta_y = cfg->model.eta_y;
    es.eta_head = cfg->eta_head;
    es.decay_enc = es.decay_y = es.decay_head = 1; /* the trainer applies --weight-decay-on */
    es.hidden = cfg->hidden;
    es.activation = cfg->activation;
    st = rc_engine_alloc(&es, &e, err);
  }
  if (!st && !mlp) st = rc_ts_model_alloc(r->inputs, &tp, d, &m, err); /* the initial state; f32 gd */
  if (!st) {
    r->n_theta = rc_engine_n_theta(e);
    oc.n_blocks = rc_engine_blocks(e, &oc.blocks);
    oc.n_theta = r->n_theta;
    if (!mlp && r->n_theta != rc_ts_state_size(m))
      st = rc_error_set(err, RC_EINVAL, "internal: the engine's parameters do not match the teacher-student state");
  }
  if (!st) {
    theta0 = rc_calloc(r->n_theta, sizeof *theta0, "parameters", err);
    r->theta_final = rc_calloc(r->n_theta, sizeof(double), "parameters", err);
    oc.F = rc_calloc(r->n_theta, sizeof(double), "parameters", err);
    if (!theta0 || !r->theta_final || !oc.F) st = RC_ENOMEM;
  }
  if (!st && !mlp) st = rc_ts_init_state(m, &cfg->init, cfg->head_init, cfg->head_scale, theta0, err);
  if (!st && mlp) st = mlp_init_state(cfg, e, oc.blocks, r->has_head, theta0, err);
  if (!st) st = encoder_times(cfg, r->spec, &grid, &n_times, &r->t_end, err);
  const rc_ts_data *in = r->inputs;
  if (!st) {
    r->rows = rc_calloc(n_times, sizeof *r->rows, "metrics", err);
    r->test_accuracy = rc_calloc(n_times, sizeof(double), "metrics", err);
    const size_t big = in->n > in->n_test ? in->n : in->n_test;
    oc.test_out = rc_calloc(in->n_test * d + 1, sizeof(double), "test outputs", err);
    oc.tmp = rc_calloc(big * d + 1, sizeof(double), "outputs", err);
    if (cfg->snapshots && cfg->out_dir) {
      oc.snap_states = rc_calloc(n_times * r->n_theta, sizeof(double), "snapshots", err);
      oc.snap_steps = rc_calloc(n_times, sizeof(long long), "snapshots", err);
      if (!oc.snap_states || !oc.snap_steps) st = RC_ENOMEM;
    }
    if (!r->rows || !r->test_accuracy || !oc.test_out || !oc.tmp) st = RC_ENOMEM;
  }
  if (!st) st = rc_state_alloc(in->n, in->K, d, &oc.view, err);
  double rho = NAN;
  if (!st) { /* the largest rate at the start: power iteration on the Jacobian of the engine's field, 60
              * iterations (the last 40 averaged) as the term models' estimate: with a head the top of the
              * spectrum is a complex pair, which 30 iterations could miss by 10% (cli_ts_reference) */
    r->kernel_top = rc_ts_kernel_top(in);
    rho = r->rate_estimate = rc_field_radius(r->n_theta, theta0, engine_field_fn, e, 60, 20, 1);
  }
  const int discrete = cfg->integrator == RC_INTEGRATOR_GD;
  if (!st && discrete && cfg->train.opt.kind == RC_OPTIMIZER_GD) {
    const double lam = rho + cfg->train.opt.weight_decay, limit = 2.0 / RC_ENC_RATE_MARGIN;
    if (cfg->dt * lam >= limit)
      st = rc_error_set(err, RC_EUNSTABLE,
                        "gd step dt = %g is unstable: the largest rate at the start is about %g (the minimal model's "
                        "scaled by the kernel U U^T%s), dt times it is %g >= 2 (less a 5%% margin for the estimate: "
                        "%.3g); use dt < %g",
                        cfg->dt, lam, cfg->train.opt.weight_decay > 0 ? ", plus the weight decay" : "", cfg->dt * lam,
                        limit, limit / lam);
  }
  if (!st && !rc_train_is_plain(&cfg->train)) { /* every refusal of 6.1 before anything is created */
    const int sg = rc_engine_has_sg_targets(e);
    st = rc_train_check_data(&cfg->train, r->ds, cfg->model.rates, cfg->eta_w, cfg->model.eta_y, discrete, cfg->dt,
                             rho * RC_ENC_RATE_MARGIN, sg, err);
  }
  if (!st && cfg->out_dir) st = rc_mkdir_p(cfg->out_dir, err);
  if (!st && cfg->out_dir) st = rc_dir_lock_acquire(cfg->out_dir, &lock, err); /* one writer per directory */
  char path[4200];
  static const char *const outputs[] = {"metrics.csv", "summary.json", "snapshots.h5"};
  for (size_t q = 0; !st && cfg->out_dir && q < 3; q++) { /* temporaries of a run killed while writing */
    snprintf(path, sizeof path, "%s/%s", cfg->out_dir, outputs[q]);
    rc_atomic_remove_stale(path);
  }
  if (!st) {
    oc.cfg = cfg;
    oc.e = e;
    oc.in = in;
    oc.r = r;
    oc.n_times = n_times;
    st = rc_encoder_setup(&oc.test_enc, cfg->encoder, in->n_test, in->D, d, in->U_test, cfg->hidden, cfg->activation,
                          err);
  }
  const int checkpointing = cfg->out_dir && (cfg->checkpoint_every > 0 || cfg->resume);
  if (!st && checkpointing) { /* the fingerprint covers the inputs U; the journal keeps test_accuracy (and theta) */
    oc.rec = rc_calloc(enc_record_values(&oc), sizeof(double), "checkpoint journal record", err);
    if (!oc.rec) st = RC_ENOMEM;
    run_checkpoints_spec sp = {in->n, in->K, d, theta0, r->n_theta, in->U, in->n * in->D, enc_record_values(&oc),
                               enc_replay, &oc, 1, 1};
    if (!st) st = run_checkpoints_open_spec(&ck, cfg, r->ds, &sp, grid, n_times, r->rows, &oc.n, t_start, err);
    ck_open = 1;
    if (!st) oc.ck = &ck;
    r->resumed = ck.loaded != NULL;
    r->resumed_from_t = ck.loaded ? ck.efrom.t : 0.0;
  }
  rc_engine_checkpointing eck;
  memset(&eck, 0, sizeof eck);
  if (!st && checkpointing) run_checkpoints_engine(&ck, &eck);
  const rc_engine_checkpointing *L_ck = !st && checkpointing && (eck.every > 0 || eck.from) ? &eck : NULL;
  if (!st) {
    /* min_label_distance always: collapse_time and fitted_slow_rate are computed from it */
    oc.mopt.mask = (cfg->metrics ? cfg->metrics : RC_METRICS_ALL) | 1u << RC_M_MIN_LABEL_DISTANCE;
    oc.mopt.threads = cfg->threads;
    const rc_train_settings *tt = &cfg->train;
    /* --batch M (every observation) and --ema 0 (kappa dt = 1) are full-batch gd and plain sg, as for the table */
    const int no_ema = tt->ema == RC_EMA_NONE || rc_train_ema_alpha(tt, cfg->dt) == 1.0;
    const int plain = rc_train_is_plain(tt) || (tt->opt.kind == RC_OPTIMIZER_GD && tt->opt.weight_decay == 0 && no_ema &&
                                                (tt->batch == 0 || (double)tt->batch >= r->ds->total));
    if (discrete && cfg->precision == RC_PRECISION_F64 && plain) {
      st = plain_gd_loop(e, theta0, cfg->dt, grid, n_times, cfg->progress, cfg->progress_ctx, &oc, L_ck, err);
    } else if (cfg->precision == RC_PRECISION_F64 || mlp) { /* every optimizer, and flow: the one engine's loop */
      rc_engine_loop L = {e, &es, &cfg->train, cfg->integrator, cfg->dt, rho * RC_ENC_RATE_MARGIN, cfg->init.seed,
                          grid, n_times, cfg->progress, cfg->progress_ctx, cfg->rtol, cfg->atol, cfg->max_steps, L_ck};
      st = rc_engine_loop_run(&L, theta0, observe_engine, &oc, err);
    } else { /* f32 gd: the teacher-student gd of the same field, its products with the inputs in sgemm */
      rc_integrate_config ic = {cfg->integrator, grid, n_times, cfg->dt, cfg->rtol, cfg->atol, RC_SPECTRUM_AUTO,
                                cfg->progress, cfg->progress_ctx, cfg->precision, cfg->threads, cfg->max_steps};
      st = rc_ts_integrate(m, theta0, &ic, observe_ts, &oc, err);
    }
    r->n_rows = oc.n;
  }
  if (!st) { /* summaries: collapse is read on the distance --collapse-metric names (D by default, 6.0) */
    double *t = rc_calloc(r->n_rows + 1, sizeof *t, "summaries", err);
    double *D = rc_calloc(r->n_rows + 1, sizeof *D, "summaries", err);
    if (!t || !D) st = RC_ENOMEM;
    const int col = rc_collapse_metric_column(cfg->collapse_metric);
    for (size_t k = 0; !st && k < r->n_rows; k++) {
      t[k] = r->rows[k].t;
      D[k] = r->rows[k].valid[col] ? r->rows[k].value[col] : NAN;
    }
    if (!st) {
      r->collapse_time = rc_collapse_time(t, D, r->n_rows, cfg->eps, &r->has_collapse_time);
      const double t_fit = r->spec->next_rate > 0 ? 5.0 / r->spec->next_rate : 0.0;
      r->fitted_slow_rate = rc_fitted_decay_rate(t, D, r->n_rows, t_fit, &r->has_fitted_slow_rate);
    }
    free(t);
    free(D);
  }
  if (!st) {
    r->final_labels = r->theta_final + block_offset(oc.blocks, oc.n_blocks, "y");
    r->final_head = r->has_head ? r->theta_final + block_offset(oc.blocks, oc.n_blocks, "P") : NULL;
    if (cfg->encoder == RC_ENCODER_LINEAR) st = w_spectrum(r->theta_final, d, in->D, r, err);
  }
  r->wall_seconds = now_seconds() - t_start + ck.wall_before;
  /* Outputs in the order snapshots.h5, metrics.csv, summary.json, after
   * removing a former run's summary.json: a directory with a summary.json
   * holds the complete outputs of the run it describes, and a failed write
   * leaves none of the later files. */
  if (!st && cfg->out_dir) {
    snprintf(path, sizeof path, "%s/summary.json", cfg->out_dir);
    unlink(path);
  }
  if (!st && cfg->out_dir && oc.snap_states) {
    rc_snapshot_block sb[8];
    const size_t nb = oc.n_blocks < 8 ? oc.n_blocks : 8;
    for (size_t b = 0; b < nb; b++) {
      sb[b].name = oc.blocks[b].name;
      sb[b].offset = oc.blocks[b].offset;
      sb[b].len = oc.blocks[b].len;
    }
    rc_param_snapshots ps = {r->n_rows, grid, oc.snap_steps, oc.snap_states, r->n_theta, sb, nb,
                             in->n, in->D, in->K, d, in->U, r->ds, in->teacher_label};
    snprintf(path, sizeof path, "%s/snapshots.h5", cfg->out_dir);
    st = rc_snapshots_write_params(path, &ps, err);
  }
  if (!st && cfg->out_dir) {
    const char *const extra[1] = {"test_accuracy"};
    snprintf(path, sizeof path, "%s/metrics.csv", cfg->out_dir);
    st = rc_write_metrics_csv_extra(path, r->rows, r->n_rows, extra, 1, r->test_accuracy, err);
  }
  if (!st && cfg->out_dir) {
    json_t *j = rc_encoder_summary_json(cfg, r);
    snprintf(path, sizeof path, "%s/summary.json", cfg->out_dir);
    st = j ? rc_json_write_file(j, path, err) : rc_error_set(err, RC_ENOMEM, "summary.json");
    json_decref(j);
  }
  if (ck_open) run_checkpoints_close(&ck, st == RC_OK);
  rc_dir_lock_release(lock);
  openblas_set_num_threads(blas_threads);
  free(oc.rec);
  rc_encoder_release(&oc.test_enc);
  rc_state_free(oc.view);
  free(oc.test_out);
  free(oc.tmp);
  free(oc.F);
  free(oc.snap_states);
  free(oc.snap_steps);
  free(grid);
  free(theta0);
  rc_ts_model_free(m);
  rc_engine_free(e);
  if (st) {
    rc_run_result_free(r);
    return st;
  }
  *out = r;
  return RC_OK;
}
