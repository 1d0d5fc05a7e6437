/* cmd_bench.c: `repcollapse bench`: time the integrators on a data set without
 * metrics, for bench/ (JSON on stdout). gd (the default): one untimed warm-up step, then
 * --steps timed steps, each timed on its own (seconds per step: median, min,
 * mean; their total; bytes one step must move; achieved GB/s from the median). exact: the
 * time to build the decomposition and evaluate the state at --t-end (default
 * 10 / slow_rate). Data generation and the initial state are not timed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "repcollapse/report.h"

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static rc_status bench_gd(const rc_dataset *ds, const rc_run_config *c, const rc_spectrum *sp, const rc_state *init,
                          json_t *j, rc_error *err) {
  if (!(c->dt > 0)) return rc_error_set(err, RC_EINVAL, "bench of gd needs --dt > 0");
  if (c->dt * sp->fast_rate >= 2.0)
    return rc_error_set(err, RC_EUNSTABLE, "gd step dt = %g is unstable: dt * fast_rate = %g >= 2", c->dt,
                        c->dt * sp->fast_rate);
  size_t steps = c->steps ? c->steps : CLI_BENCH_DEFAULT_STEPS, done = 0;
  double *t = calloc(steps, sizeof *t);
  rc_gd *g = NULL;
  rc_status st = t ? rc_gd_alloc(ds, &c->model, c->dim, c->dt, c->precision, c->threads, &g, err)
                   : rc_error_set(err, RC_ENOMEM, "bench timings");
  if (!st) st = rc_gd_load(g, init, err);
  if (!st) st = rc_gd_run(g, 1, &done, err); /* warm-up: caches, pages, thread pool */
  for (size_t s = 0; s < steps && !st; s++) {
    double t0 = now_seconds();
    st = rc_gd_run(g, 1, &done, err);
    t[s] = now_seconds() - t0;
  }
  if (!st) {
    double total = 0;
    for (size_t s = 0; s < steps; s++) total += t[s];
    const double mean = total / (double)steps;
    qsort(t, steps, sizeof *t, cmp_double);
    double median = steps % 2 ? t[steps / 2] : 0.5 * (t[steps / 2 - 1] + t[steps / 2]);
    double bytes = rc_gd_bytes_per_step(g);
    json_object_set_new(j, "precision", json_string(rc_precision_name(c->precision)));
    json_object_set_new(j, "threads", json_integer(rc_gd_threads_used(g)));
    json_object_set_new(j, "dt", json_real(c->dt));
    json_object_set_new(j, "steps", json_integer((json_int_t)steps));
    json_object_set_new(j, "seconds_per_step", json_real(median));
    json_object_set_new(j, "seconds_per_step_min", json_real(t[0]));
    json_object_set_new(j, "seconds_per_step_mean", json_real(mean));
    json_object_set_new(j, "seconds_total", json_real(total));
    json_object_set_new(j, "bytes_per_step", json_real(bytes));
    json_object_set_new(j, "gb_per_s", json_real(bytes / median / 1e9));
  }
  rc_gd_free(g);
  free(t);
  return st;
}

/* Term models (--model): the fused gd step (head_gd.c) from the initial state with P as the run draws it. */
static rc_status bench_head_gd(const rc_dataset *ds, const rc_run_config *c, const rc_state *init0, json_t *j,
                               rc_error *err) {
  if (!(c->dt > 0)) return rc_error_set(err, RC_EINVAL, "bench of gd needs --dt > 0");
  if (c->precision != RC_PRECISION_F64) return rc_error_set(err, RC_EINVAL, "term models run in f64");
  const rc_head_params hp = rc_run_head_params(c);
  const int head = rc_model_has_head(&hp.model);
  size_t steps = c->steps ? c->steps : 10;
  double *t = calloc(steps, sizeof *t);
  rc_state *s = NULL;
  rc_head_gd *g = NULL;
  rc_status st = t ? rc_state_alloc_head(init0->n, init0->k, init0->d, head, &s, err)
                   : rc_error_set(err, RC_ENOMEM, "bench timings");
  if (!st) {
    memcpy(s->z, init0->z, (init0->n + init0->k) * init0->d * sizeof(double));
    if (head) st = rc_head_init_matrix(s->P, s->d, c->head_init, c->head_scale, c->init.seed + 1, err);
  }
  if (!st) st = rc_head_gd_alloc(ds, &hp, c->dim, c->dt, c->threads, &g, err);
  int bad = 0;
  if (!st) st = rc_head_gd_step(g, s->z, &bad); /* warm-up */
  for (size_t k = 0; k < steps && !st && !bad; k++) {
    double t0 = now_seconds();
    st = rc_head_gd_step(g, s->z, &bad);
    t[k] = now_seconds() - t0;
  }
  if (!st && bad) st = rc_error_set(err, RC_ENUMERIC, "gd diverged in the bench (use a smaller --dt)");
  if (!st) {
    double total = 0;
    for (size_t k = 0; k < steps; k++) total += t[k];
    qsort(t, steps, sizeof *t, cmp_double);
    double median = steps % 2 ? t[steps / 2] : 0.5 * (t[steps / 2 - 1] + t[steps / 2]);
    json_object_set_new(j, "model", json_string(hp.model.name));
    json_object_set_new(j, "threads", json_integer(rc_head_gd_threads_used(g)));
    json_object_set_new(j, "dt", json_real(c->dt));
    json_object_set_new(j, "steps", json_integer((json_int_t)steps));
    json_object_set_new(j, "seconds_per_step", json_real(median));
    json_object_set_new(j, "seconds_per_step_min", json_real(t[0]));
    json_object_set_new(j, "seconds_per_step_mean", json_real(total / (double)steps));
    json_object_set_new(j, "gemm_flops_per_step", json_real(rc_head_gd_gemm_flops(g)));
    json_object_set_new(j, "tile", json_integer((json_int_t)rc_head_gd_tile()));
    json_object_set_new(j, "bytes_per_step", json_real(rc_head_gd_bytes_per_step(g)));
  }
  rc_head_gd_free(g);
  rc_state_free(s);
  free(t);
  return st;
}

static rc_status bench_exact(const rc_dataset *ds, const rc_run_config *c, const rc_spectrum *sp,
                             const rc_state *init, json_t *j, rc_error *err) {
  double T = c->t_end > 0 ? c->t_end : (sp->slow_rate > 0 ? RC_DEFAULT_T_END_SLOW / sp->slow_rate : 0.0);
  if (!(T > 0)) return rc_error_set(err, RC_EINVAL, "no --t-end given and the spectrum has no nonzero rate");
  rc_exact *e = NULL;
  rc_state *s = rc_state_clone(init);
  if (!s) return rc_error_set(err, RC_ENOMEM, "cannot allocate the state");
  double t0 = now_seconds();
  rc_status st = rc_exact_alloc(ds, &c->model, init, c->exact_method, &e, err);
  double t1 = now_seconds();
  if (!st) st = rc_exact_eval(e, T, s, err);
  double t2 = now_seconds();
  if (!st) {
    json_object_set_new(j, "t", json_real(T));
    json_object_set_new(j, "seconds", json_real(t2 - t0));
    json_object_set_new(j, "seconds_setup", json_real(t1 - t0));
    json_object_set_new(j, "seconds_eval", json_real(t2 - t1));
    /* the metrics of that state (every per-time metric of run's metrics.csv), 1 warm-up + 5 timed */
    rc_metrics_ref ref = rc_metrics_reference_data(ds, init, NULL);
    rc_metrics_options mo = {c->metrics ? c->metrics : RC_METRICS_ALL, c->threads};
    rc_metrics_row row;
    double mt[5];
    rc_metrics_compute_opt(ds, s, &ref, T, &mo, &row);
    for (int k = 0; k < 5; k++) {
      double a = now_seconds();
      rc_metrics_compute_opt(ds, s, &ref, T, &mo, &row);
      mt[k] = now_seconds() - a;
    }
    qsort(mt, 5, sizeof *mt, cmp_double);
    const double N = (double)ds->n_samples, K = (double)ds->n_classes, d = (double)c->dim;
    json_object_set_new(j, "metrics_seconds", json_real(mt[2]));
    json_object_set_new(j, "metrics_seconds_min", json_real(mt[0]));
    /* the nearest-label GEMM: 2 N K d; bytes: x, the observations (offsets, labels, counts, clean labels) */
    json_object_set_new(j, "metrics_gemm_flops", json_real(2.0 * N * K * d));
    json_object_set_new(j, "metrics_tile", json_integer(RC_METRICS_CHUNK));
    json_object_set_new(j, "metrics_bytes",
                        json_real(8.0 * N * d + 8.0 * (N + 1) + 12.0 * (double)ds->nnz + 4.0 * N + 8.0 * K * d));
    json_object_set_new(j, "metrics", rc_metrics_row_json(&row));
  }
  rc_exact_free(e);
  rc_state_free(s);
  return st;
}

int cmd_bench(int argc, char **argv) {
  cli_options o;
  int rc = cli_parse(argc, argv, 2, OPT_DATA | OPT_MODEL | OPT_INIT | OPT_BENCH | OPT_HEAD, "bench", &o);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  const rc_run_config *c = &o.cfg;
  rc_error err;
  rc_error_clear(&err);
  rc_dataset *ds = NULL;
  rc_spectrum *sp = NULL;
  rc_state *init = NULL;
  json_t *j = json_object();
  double t_given = 0.0; /* --t-end and --steps x --dt must agree, as everywhere */
  rc_status st = rc_run_end_time(c, &t_given, &err);
  if (!st && c->integrator != RC_INTEGRATOR_GD && c->integrator != RC_INTEGRATOR_EXACT)
    st = rc_error_set(&err, RC_EINVAL, "bench times gd or exact, not %s", rc_integrator_name(c->integrator));
  if (!st && c->integrator != RC_INTEGRATOR_GD && c->precision != RC_PRECISION_F64)
    st = rc_error_set(&err, RC_EINVAL, "--precision %s is for gd only", rc_precision_name(c->precision));
  if (!st) st = rc_data_generate(&c->data, &ds, &err);
  if (!st) st = rc_spectrum_compute(ds, &c->model, RC_SPECTRUM_AUTO, &sp, &err);
  if (!st) st = rc_state_init(ds, &c->init, c->dim, &init, &err);
  if (!st) {
    json_object_set_new(j, "integrator", json_string(rc_integrator_name(c->integrator)));
    json_object_set_new(j, "n_samples", json_integer((json_int_t)ds->n_samples));
    json_object_set_new(j, "n_classes", json_integer((json_int_t)ds->n_classes));
    json_object_set_new(j, "n_observations", json_integer((json_int_t)ds->total)); /* a count */
    json_object_set_new(j, "dim", json_integer((json_int_t)c->dim));
    json_object_set_new(j, "rates", json_string(rc_rate_scheme_name(c->model.rates)));
    json_object_set_new(j, "slow_rate", json_real(sp->slow_rate));
    json_object_set_new(j, "fast_rate", json_real(sp->fast_rate));
    if (!rc_model_is_minimal(&c->terms))
      st = c->integrator == RC_INTEGRATOR_GD ? bench_head_gd(ds, c, init, j, &err)
                                             : rc_error_set(&err, RC_EINVAL, "bench of a term model times gd only");
    else
      st = c->integrator == RC_INTEGRATOR_GD ? bench_gd(ds, c, sp, init, j, &err) : bench_exact(ds, c, sp, init, j, &err);
  }
  if (!st) {
    json_dumpf(j, cli_stdout(), JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    fputc('\n', cli_stdout());
  }
  json_decref(j);
  rc_state_free(init);
  rc_spectrum_free(sp);
  rc_dataset_free(ds);
  cli_options_free(&o);
  return st ? cli_fail(&err) : 0;
}
