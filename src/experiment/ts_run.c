/* ts_run.c: one teacher-student experiment end to end (docs/model.md section 4):
 * data (inputs, teacher, frustration) -> the minimal model's spectrum of the
 * observations (the D >> N prediction, and the default time scale) -> initial
 * W, Y, P -> gd or rk45 -> metrics of section 2 on (P) W u plus test accuracy
 * at each recorded time -> summaries, singular values of W, the regime ->
 * metrics.csv, summary.json, snapshots.h5. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/lapack_reason.h"
#include "core/alloc.h"
#include "model/ts_model.h"
#include "repcollapse/io.h"
#include "repcollapse/report.h"
#include "repcollapse/teacher.h"

rc_ts_run_config rc_ts_run_config_default(void) {
  rc_ts_run_config c;
  memset(&c, 0, sizeof c);
  c.base = rc_run_config_default();
  c.base.integrator = RC_INTEGRATOR_GD;
  c.data = rc_ts_data_spec_default();
  c.eta_w = 1.0;
  c.precision = RC_PRECISION_F64;
  return c;
}

void rc_ts_run_result_free(rc_ts_run_result *r) {
  if (!r) return;
  rc_ts_data_free(r->data);
  rc_spectrum_free(r->spec);
  free(r->rows);
  free(r->test_accuracy);
  free(r->z_final);
  free(r->w_singular);
  free(r);
}

/* what the observer needs */
typedef struct {
  rc_ts_model *m;
  const rc_ts_data *data;
  rc_state *view;      /* x = (P) W u, y = Y: the state the metrics of section 2 see */
  double *test_out;    /* n_test x d */
  double *dz;          /* scratch for the loss */
  rc_metrics_ref ref;
  int have_ref;
  rc_ts_run_result *r;
  double *snap_states; /* n_times x state_size, or NULL */
  long long *snap_steps;
  size_t n;
} ts_obs_ctx;

/* fraction of rows of out whose nearest label (Euclidean, unique up to 1e-12 relative, as `accuracy`) is label[i] */
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

static rc_status observe(double t, size_t step, const double *z, void *vctx, rc_error *err) {
  ts_obs_ctx *c = vctx;
  rc_ts_model *m = c->m;
  const size_t K = c->data->K, d = c->view->d, ns = rc_ts_state_size(m);
  const double *Y = z + rc_ts_offset_labels(m);
  rc_ts_outputs(m, z, c->data->U, c->data->n, c->view->x);
  memcpy(c->view->y, Y, K * d * sizeof(double));
  if (!c->have_ref) {
    c->ref = rc_metrics_reference(c->view);
    c->have_ref = 1;
  }
  rc_metrics_row *row = &c->r->rows[c->n];
  rc_metrics_compute(c->data->ds, c->view, &c->ref, t, row);
  row->value[RC_M_LOSS] = rc_ts_vector_field(m, z, c->dz); /* the terms' loss (section 3), not |Px - y|^2 */
  row->valid[RC_M_LOSS] = 1;
  /* every recorded state and metric must be finite: the first NaN or Inf stops the run (as every run) */
  for (size_t q = 0; q < ns; q++)
    if (!isfinite(z[q])) {
      char what[96];
      rc_ts_describe(m, q, what, sizeof what);
      return rc_error_set(err, RC_ENUMERIC, "non-finite state at t = %g (step %zu): %s is %g", t, step, what, z[q]);
    }
  for (int q = 0; q < RC_N_METRICS; q++)
    if (row->valid[q] && !isfinite(row->value[q]))
      return rc_error_set(err, RC_ENUMERIC, "non-finite metric at t = %g (step %zu): %s is %g", t, step,
                          rc_metric_names[q], row->value[q]);
  rc_ts_outputs(m, z, c->data->U_test, c->data->n_test, c->test_out);
  c->r->test_accuracy[c->n] = nearest_label_accuracy(c->test_out, c->data->test_label, c->data->n_test, Y, K, d);
  if (c->snap_states) {
    memcpy(c->snap_states + c->n * ns, z, ns * sizeof(double));
    c->snap_steps[c->n] = (long long)step;
  }
  memcpy(c->r->z_final, z, ns * sizeof(double));
  c->n++;
  return RC_OK;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

rc_status rc_ts_run_config_check(const rc_ts_run_config *cfg, rc_error *err) {
  const rc_run_config *b = &cfg->base;
  if (b->dim == 0) return rc_error_set(err, RC_EINVAL, "--dim must be positive");
  if (!rc_train_is_plain(&b->train)) /* refused rather than ignored until the task runs through the engine's trainer */
    return rc_error_set(err, RC_EINVAL, "--optimizer %s, --weight-decay, --batch and --ema/--ema-rate are not driven "
                        "for --task teacher-student yet (its runs are plain gd or rk45)",
                        rc_optimizer_name(b->train.opt.kind));
  if (b->checkpoint_every > 0 || b->resume)
    return rc_error_set(err, RC_EINVAL, "--checkpoint-every and --resume are implemented for the minimal model's "
                        "integrators, not yet for --task teacher-student");
  if (b->terms.sphere) /* the encoder outputs are normalised by the engine, which the task does not run through yet */
    return rc_error_set(err, RC_EINVAL, "--sphere is not implemented for --task teacher-student yet (its encoder's "
                        "outputs are normalised in the engine, which the task does not run through yet)");
  {
    rc_status su = rc_run_check_uniformity(&b->terms, cfg->data.n_samples, 0, err);
    if (su) return su;
  }
  if (!(b->eps > 0 && b->eps < 1)) return rc_error_set(err, RC_EINVAL, "--eps must be in (0, 1) (got %g)", b->eps);
  if (b->integrator != RC_INTEGRATOR_GD && b->integrator != RC_INTEGRATOR_RK45)
    return rc_error_set(err, RC_EINVAL, "the teacher-student task runs with --integrator gd or rk45 (not %s)",
                        rc_integrator_name(b->integrator));
  if (b->integrator == RC_INTEGRATOR_GD && !(b->dt > 0))
    return rc_error_set(err, RC_EINVAL, "the gd integrator needs --dt > 0");
  if (b->integrator == RC_INTEGRATOR_RK45 && cfg->precision == RC_PRECISION_F32)
    return rc_error_set(err, RC_EINVAL, "--precision f32 goes with gd: rk45's error control needs a double-precision field");
  if (b->init.kind != RC_INIT_GAUSSIAN)
    return rc_error_set(err, RC_EINVAL, "--init class does not apply to the teacher-student task (x = W u)");
  if (!(cfg->eta_w > 0) || !isfinite(cfg->eta_w))
    return rc_error_set(err, RC_EINVAL, "--eta-w must be positive (got %g)", cfg->eta_w);
  if (!(b->eta_head > 0) || !isfinite(b->eta_head))
    return rc_error_set(err, RC_EINVAL, "--eta-head must be positive (got %g)", b->eta_head);
  rc_status st = rc_ts_data_check(&cfg->data, 0, err);
  if (st) return st;
  double bytes = rc_ts_memory_estimate(&cfg->data, b->dim, cfg->precision);
  if (bytes > 16e9)
    return rc_error_set(err, RC_ENOMEM,
                        "N = %zu samples of dimension D = %zu (d = %zu, %zu test inputs) need about %.3g GB of "
                        "memory (at most 16 GB allowed); refusing",
                        cfg->data.n_samples, cfg->data.input_dim, b->dim, cfg->data.n_test, bytes / 1e9);
  return RC_OK;
}

/* recorded times: explicit, or 0 and a log grid up to t_end (steps * dt for gd;
 * default 10 / slow_rate of the minimal model, at least 500 / eta_W for term models) */
static rc_status ts_times(const rc_ts_run_config *cfg, const rc_spectrum *spec, double **grid, size_t *n,
                          double *t_end_out, rc_error *err) {
  const rc_run_config *b = &cfg->base;
  const double dt = b->integrator == RC_INTEGRATOR_GD ? b->dt : 0.0;
  double t_end = 0.0;
  rc_status st = rc_run_end_time(b, &t_end, err); /* --t-end, --steps x --dt and --times must agree */
  if (st) return st;
  if (b->times) {
    *grid = rc_calloc(b->n_times, sizeof **grid, "time grid", err);
    if (!*grid) return RC_ENOMEM;
    memcpy(*grid, b->times, b->n_times * sizeof **grid);
    *n = b->n_times;
    *t_end_out = b->times[b->n_times - 1];
    for (size_t k = 0; k < b->n_times && dt > 0; k++) {
      double q = b->times[k] / dt;
      if (fabs(q - (double)llround(q)) > 1e-9 * fmax(1.0, q))
        return rc_error_set(err, RC_EINVAL, "recorded time %g is not a multiple of --dt %g", b->times[k], dt);
    }
    return RC_OK;
  }
  if (!(t_end > 0)) {
    t_end = spec->slow_rate > 0 ? RC_DEFAULT_T_END_SLOW / spec->slow_rate : 1000.0 / cfg->eta_w;
    if (!rc_model_is_minimal(&b->terms) && t_end < RC_DEFAULT_T_END_HEAD / cfg->eta_w)
      t_end = RC_DEFAULT_T_END_HEAD / cfg->eta_w;
    if (b->t_min > t_end)
      return rc_error_set(err, RC_EINVAL, "--t-min %g is past the default end time %g: give --t-end", b->t_min, t_end);
  }
  double t_min = b->t_min > 0 ? b->t_min : RC_DEFAULT_T_MIN_FAST / spec->fast_rate;
  if (dt > 0 && t_min < dt) t_min = dt;
  *t_end_out = t_end;
  return rc_time_grid(t_min, t_end, b->points, dt, grid, n, err);
}

/* singular values of W (d x D), descending, and the participation ratio of their squares */
static rc_status w_spectrum(const double *W, size_t d, size_t D, rc_ts_run_result *r, rc_error *err) {
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

/* Outputs in the order snapshots.h5, metrics.csv, summary.json, after removing
 * a former run's summary.json (as every run writes them): a directory with a
 * summary.json holds the complete outputs of the run it describes, and a
 * failed write leaves none of the later files. */
static rc_status write_files(const rc_ts_run_config *cfg, rc_ts_run_result *r, const rc_ts_snapshots *snap,
                             rc_error *err) {
  const char *dir = cfg->base.out_dir;
  char path[4200];
  rc_status st = rc_mkdir_p(dir, err);
  rc_dir_lock *lock = NULL; /* one writer per directory (io.h) */
  if (!st) st = rc_dir_lock_acquire(dir, &lock, err);
  if (st) return st;
  /* as a minimal-model run: snapshots.h5, metrics.csv, then summary.json, a
   * former run's summary.json removed first, so that a directory with a
   * summary.json holds the complete outputs of the run it describes */
  snprintf(path, sizeof path, "%s/summary.json", dir);
  unlink(path);
  if (snap) {
    snprintf(path, sizeof path, "%s/snapshots.h5", dir);
    st = rc_ts_snapshots_write(path, snap, err);
  }
  const char *const extra[1] = {"test_accuracy"};
  snprintf(path, sizeof path, "%s/metrics.csv", dir);
  if (!st) st = rc_write_metrics_csv_extra(path, r->rows, r->n_rows, extra, 1, r->test_accuracy, err);
  if (!st) {
    json_t *j = rc_ts_summary_json(cfg, r);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    st = j ? rc_json_write_file(j, path, err) : rc_error_set(err, RC_ENOMEM, "summary.json");
    json_decref(j);
  }
  rc_dir_lock_release(lock);
  return st;
}

rc_status rc_ts_run_execute(const rc_ts_run_config *cfg, rc_ts_run_result **out, rc_error *err) {
  *out = NULL;
  const double t_start = now_seconds();
  rc_status st = rc_ts_run_config_check(cfg, err);
  if (st) return st;
  const rc_run_config *b = &cfg->base;
  rc_ts_run_result *r = rc_calloc(1, sizeof *r, "run result", err);
  if (!r) return RC_ENOMEM;
  rc_ts_params p;
  p.hp = rc_run_head_params(b);
  p.hp.base.eta_x = cfg->eta_w; /* the samples move through W: eta_W takes eta_x's place */
  p.eta_w = cfg->eta_w;
  p.precision = cfg->precision;
  rc_ts_model *m = NULL;
  double *z0 = NULL, *grid = NULL;
  size_t n_times = 0;
  ts_obs_ctx oc;
  memset(&oc, 0, sizeof oc);
  st = rc_ts_data_generate(&cfg->data, &r->data, err);
  if (!st) st = rc_spectrum_compute(r->data->ds, &p.hp.base, RC_SPECTRUM_AUTO, &r->spec, err);
  if (!st) st = rc_ts_model_alloc(r->data, &p, b->dim, &m, err);
  if (!st) {
    r->state_size = rc_ts_state_size(m);
    z0 = rc_calloc(r->state_size, sizeof *z0, "state", err);
    r->z_final = rc_calloc(r->state_size, sizeof(double), "state", err);
    if (!z0 || !r->z_final) st = RC_ENOMEM;
  }
  if (!st) st = rc_ts_init_state(m, &b->init, b->head_init, b->head_scale, z0, err);
  if (!st) st = ts_times(cfg, r->spec, &grid, &n_times, &r->t_end, err);
  if (!st) {
    r->rows = rc_calloc(n_times, sizeof *r->rows, "metrics", err);
    r->test_accuracy = rc_calloc(n_times, sizeof(double), "metrics", err);
    oc.test_out = rc_calloc(r->data->n_test * b->dim, sizeof(double), "test outputs", err);
    oc.dz = rc_calloc(r->state_size, sizeof(double), "state", err);
    if (b->snapshots && b->out_dir) {
      oc.snap_states = rc_calloc(n_times * r->state_size, sizeof(double), "snapshots", err);
      oc.snap_steps = rc_calloc(n_times, sizeof(long long), "snapshots", err);
      if (!oc.snap_states || !oc.snap_steps) st = RC_ENOMEM;
    }
    if (!r->rows || !r->test_accuracy || !oc.test_out || !oc.dz) st = RC_ENOMEM;
  }
  if (!st) st = rc_state_alloc(r->data->n, r->data->K, b->dim, &oc.view, err);
  if (!st) {
    r->kernel_top = rc_ts_kernel_top(r->data);
    r->rate_estimate = rc_ts_rate_estimate(m, z0);
    oc.m = m;
    oc.data = r->data;
    oc.r = r;
    rc_integrate_config ic = {b->integrator, grid, n_times, b->dt, b->rtol, b->atol, RC_SPECTRUM_AUTO,
                              b->progress, b->progress_ctx, cfg->precision, 0, b->max_steps};
    st = rc_ts_integrate(m, z0, &ic, observe, &oc, err);
    r->n_rows = oc.n;
  }
  if (!st) {
    double *t = rc_calloc(r->n_rows, sizeof *t, "summaries", err), *D = rc_calloc(r->n_rows, sizeof *D, "summaries", err);
    if (!t || !D) st = RC_ENOMEM;
    for (size_t k = 0; !st && k < r->n_rows; k++) {
      t[k] = r->rows[k].t;
      D[k] = r->rows[k].value[RC_M_MIN_LABEL_DISTANCE];
    }
    if (!st) {
      r->collapse_time = rc_collapse_time(t, D, r->n_rows, b->eps, &r->has_collapse_time);
      const double t_fit = r->spec->next_rate > 0 ? 5.0 / r->spec->next_rate : 0.0;
      r->fitted_slow_rate = rc_fitted_decay_rate(t, D, r->n_rows, t_fit, &r->has_fitted_slow_rate);
    }
    free(t);
    free(D);
  }
  if (!st) st = w_spectrum(r->z_final, b->dim, r->data->D, r, err);
  r->wall_seconds = now_seconds() - t_start;
  if (!st && b->out_dir) {
    rc_ts_snapshots snap = {r->data, b->dim, rc_model_has_head(&b->terms), r->n_rows, grid, oc.snap_steps,
                            oc.snap_states, r->state_size};
    st = write_files(cfg, r, oc.snap_states ? &snap : NULL, err);
  }
  rc_state_free(oc.view);
  free(oc.test_out);
  free(oc.dz);
  free(oc.snap_states);
  free(oc.snap_steps);
  free(grid);
  free(z0);
  rc_ts_model_free(m);
  if (st) {
    rc_ts_run_result_free(r);
    return st;
  }
  *out = r;
  return RC_OK;
}
