/* run.c: one experiment end to end (run.h): data -> spectrum -> initial state
 * -> integrator -> metrics at each recorded time -> collapse_time and
 * fitted_slow_rate -> metrics.csv, summary.json, snapshots.h5. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "repcollapse/io.h"
#include "repcollapse/report.h"
#include "repcollapse/run.h"

rc_run_config rc_run_config_default(void) {
  rc_run_config c;
  memset(&c, 0, sizeof c);
  c.data.pattern = RC_PATTERN_PAIR;
  c.data.data_seed = 1;
  c.model = rc_minimal_params_default();
  c.init = rc_init_params_default();
  c.dim = 16;
  c.integrator = RC_INTEGRATOR_EXACT;
  c.exact_method = RC_SPECTRUM_AUTO;
  c.points = 80;
  c.eps = 1e-2;
  c.rtol = 1e-10;
  c.atol = 1e-12;
  return c;
}

void rc_run_result_free(rc_run_result *r) {
  if (!r) return;
  rc_dataset_free(r->ds);
  rc_spectrum_free(r->spec);
  rc_components_free(r->comp);
  free(r->rows);
  free(r);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

rc_status rc_time_grid(double t_min, double t_end, size_t points, double dt, double **out, size_t *n_out,
                       rc_error *err) {
  *out = NULL;
  *n_out = 0;
  if (!(t_end > 0) || !isfinite(t_end)) return rc_error_set(err, RC_EINVAL, "t-end must be positive (got %g)", t_end);
  if (points == 0) return rc_error_set(err, RC_EINVAL, "the time grid needs at least one point");
  if (points > 10000000) return rc_error_set(err, RC_EINVAL, "too many recorded times (%zu)", points);
  if (!(t_min > 0) || t_min > t_end) t_min = t_end;
  double *t = rc_calloc(points + 1, sizeof *t, "time grid", err);
  if (!t) return RC_ENOMEM;
  t[0] = 0.0;
  double l0 = log(t_min), l1 = log(t_end);
  for (size_t k = 0; k < points; k++) {
    double tk = points == 1 ? t_end : exp(l0 + (l1 - l0) * (double)k / (double)(points - 1));
    if (k == points - 1) tk = t_end;
    if (dt > 0) tk = dt * fmax(1.0, (double)llround(tk / dt));
    t[k + 1] = tk;
  }
  qsort(t, points + 1, sizeof *t, cmp_double);
  size_t n = 0;
  for (size_t k = 0; k <= points; k++)
    if (n == 0 || t[k] > t[n - 1]) t[n++] = t[k];
  *out = t;
  *n_out = n;
  return RC_OK;
}

typedef struct {
  const rc_dataset *ds;
  rc_metrics_ref ref;
  rc_metrics_row *rows;
  size_t n;
  rc_snapshots *snap;
} observer_ctx;

static rc_status observe(double t, size_t step, const rc_state *s, void *vctx, rc_error *err) {
  observer_ctx *c = vctx;
  rc_metrics_compute(c->ds, s, &c->ref, t, &c->rows[c->n]);
  if (c->snap) {
    rc_status st = rc_snapshots_write(c->snap, c->n, t, (long)step, s, err);
    if (st) return st;
  }
  c->n++;
  return RC_OK;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

rc_status rc_run_execute(const rc_run_config *cfg, rc_run_result **out, rc_error *err) {
  *out = NULL;
  double t_start = now_seconds();
  if (cfg->dim == 0) return rc_error_set(err, RC_EINVAL, "--dim must be positive");
  if (cfg->dim > 100000) return rc_error_set(err, RC_EINVAL, "--dim %zu is too large (at most 100000)", cfg->dim);
  if (!(cfg->eps > 0 && cfg->eps < 1)) return rc_error_set(err, RC_EINVAL, "--eps must be in (0, 1) (got %g)", cfg->eps);
  if (cfg->integrator == RC_INTEGRATOR_GD && !(cfg->dt > 0))
    return rc_error_set(err, RC_EINVAL, "the gd integrator needs --dt > 0");
  if (cfg->integrator != RC_INTEGRATOR_GD && cfg->precision != RC_PRECISION_F64)
    return rc_error_set(err, RC_EINVAL, "--precision %s is for gd only (%s always runs in f64)",
                        rc_precision_name(cfg->precision), rc_integrator_name(cfg->integrator));
  rc_run_result *r = rc_calloc(1, sizeof *r, "run result", err);
  if (!r) return RC_ENOMEM;
  rc_state *init = NULL, *fixed = NULL;
  double *grid = NULL;
  rc_snapshots *snap = NULL;
  rc_status st = rc_data_generate(&cfg->data, &r->ds, err);
  if (!st) st = rc_components_compute(r->ds, &r->comp, err);
  if (!st) st = rc_spectrum_compute(r->ds, &cfg->model, RC_SPECTRUM_AUTO, &r->spec, err);
  if (!st) {
    double bytes = (double)(r->ds->n_samples + r->ds->n_classes) * (double)cfg->dim * 8.0 *
                   (cfg->integrator == RC_INTEGRATOR_RK45 ? 9.0 : 3.0);
    if (bytes > 16e9)
      st = rc_error_set(err, RC_ENOMEM, "this run needs about %.3g GB of memory for the embeddings; refusing",
                        bytes / 1e9);
  }
  if (!st) st = rc_state_init(r->ds, &cfg->init, cfg->dim, &init, err);
  /* the time grid */
  size_t n_times = 0;
  if (!st) {
    double t_end = cfg->t_end;
    double dt = cfg->integrator == RC_INTEGRATOR_GD ? cfg->dt : 0.0;
    if (cfg->integrator == RC_INTEGRATOR_GD && cfg->steps) {
      double te = (double)cfg->steps * cfg->dt;
      if (t_end > 0 && fabs(t_end - te) > 1e-9 * te)
        st = rc_error_set(err, RC_EINVAL, "--t-end %g disagrees with --steps %zu x --dt %g = %g", t_end, cfg->steps,
                          cfg->dt, te);
      t_end = te;
    }
    if (!st && cfg->times) {
      grid = rc_calloc(cfg->n_times, sizeof *grid, "time grid", err);
      if (!grid) st = RC_ENOMEM;
      else {
        memcpy(grid, cfg->times, cfg->n_times * sizeof *grid);
        n_times = cfg->n_times;
        for (size_t k = 0; k < n_times && dt > 0; k++) {
          double m = grid[k] / dt;
          if (fabs(m - llround(m)) > 1e-9 * fmax(1.0, m))
            st = rc_error_set(err, RC_EINVAL, "recorded time %g is not a multiple of --dt %g", grid[k], dt);
        }
        t_end = n_times ? grid[n_times - 1] : 0;
      }
    } else if (!st) {
      if (!(t_end > 0)) {
        if (r->spec->slow_rate > 0) t_end = 10.0 / r->spec->slow_rate;
        else st = rc_error_set(err, RC_EINVAL, "no --t-end given and the spectrum has no nonzero rate");
      }
      if (!st) {
        double t_min = cfg->t_min > 0 ? cfg->t_min : 1e-2 / r->spec->fast_rate;
        if (dt > 0 && t_min < dt) t_min = dt;
        st = rc_time_grid(t_min, t_end, cfg->points, dt, &grid, &n_times, err);
      }
    }
    r->t_end = t_end;
  }
  if (!st && n_times == 0) st = rc_error_set(err, RC_EINVAL, "no recorded times");
  if (!st) {
    r->rows = rc_calloc(n_times, sizeof *r->rows, "metrics", err);
    if (!r->rows) st = RC_ENOMEM;
  }
  if (!st && cfg->out_dir) st = rc_mkdir_p(cfg->out_dir, err);
  if (!st && cfg->out_dir && cfg->snapshots) {
    char path[4200];
    snprintf(path, sizeof path, "%s/snapshots.h5", cfg->out_dir);
    st = rc_snapshots_open(path, n_times, r->ds->n_samples, r->ds->n_classes, cfg->dim,
                           rc_integrator_name(cfg->integrator), &snap, err);
  }
  if (!st) {
    observer_ctx oc = {r->ds, rc_metrics_reference(init), r->rows, 0, snap};
    rc_integrate_config ic = {cfg->integrator, grid, n_times, cfg->dt, cfg->rtol, cfg->atol, cfg->exact_method,
                              cfg->progress, cfg->progress_ctx, cfg->precision, cfg->threads};
    st = rc_integrate(r->ds, &cfg->model, r->spec, init, &ic, observe, &oc, err);
    r->n_rows = oc.n;
  }
  if (!st) { /* summaries */
    double *t = malloc(r->n_rows * sizeof *t), *D = malloc(r->n_rows * sizeof *D);
    if (!t || !D) st = rc_error_set(err, RC_ENOMEM, "summaries");
    else {
      for (size_t k = 0; k < r->n_rows; k++) {
        t[k] = r->rows[k].t;
        D[k] = r->rows[k].value[RC_M_MIN_LABEL_DISTANCE];
      }
      r->collapse_time = rc_collapse_time(t, D, r->n_rows, cfg->eps, &r->has_collapse_time);
      double t_fit = r->spec->next_rate > 0 ? 5.0 / r->spec->next_rate : 0.0;
      r->fitted_slow_rate = rc_fitted_decay_rate(t, D, r->n_rows, t_fit, &r->has_fitted_slow_rate);
    }
    free(t);
    free(D);
  }
  if (!st) st = rc_fixed_point_state(r->ds, &cfg->model, init, &fixed, err);
  if (!st) r->predicted_final_min_label_distance = rc_min_label_distance(fixed);
  r->wall_seconds = now_seconds() - t_start;
  if (!st && cfg->out_dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", cfg->out_dir);
    st = rc_write_metrics_csv(path, r->rows, r->n_rows, err);
    if (!st) {
      json_t *j = rc_run_summary_json(cfg, r);
      snprintf(path, sizeof path, "%s/summary.json", cfg->out_dir);
      st = j ? rc_json_write_file(j, path, err) : rc_error_set(err, RC_ENOMEM, "summary.json");
      json_decref(j);
    }
  }
  if (snap) {
    rc_status s2 = rc_snapshots_close(snap, st == RC_OK, st == RC_OK ? err : NULL);
    if (!st) st = s2;
  }
  free(grid);
  rc_state_free(init);
  rc_state_free(fixed);
  if (st) {
    rc_run_result_free(r);
    return st;
  }
  *out = r;
  return RC_OK;
}
