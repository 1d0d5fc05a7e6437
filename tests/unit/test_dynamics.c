/* test_dynamics.c: the integrators against each other and against closed
 * forms: conservation laws (both rate schemes), the fixed point, agreement of
 * exact / rk45 / gd, and the slow rate fitted from rk45 and gd trajectories
 * against the closed form (docs/theory.md). */
#include "testutil.h"

typedef struct {
  rc_state **states; /* copies of the state at each time */
  double *t, *D;
  size_t n;
} recorder;

static rc_status record(double t, size_t step, const rc_state *s, void *ctx, rc_error *err) {
  (void)step;
  (void)err;
  recorder *r = ctx;
  if (r->states) r->states[r->n] = rc_state_clone(s);
  r->t[r->n] = t;
  r->D[r->n] = rc_min_label_distance(s);
  r->n++;
  return RC_OK;
}

static recorder integrate(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *init, rc_integrator integ,
                          rc_spectrum_method em, double dt, const double *times, size_t n, int keep) {
  recorder r = {keep ? calloc(n, sizeof(rc_state *)) : NULL, calloc(n, sizeof(double)), calloc(n, sizeof(double)), 0};
  rc_spectrum *spec = NULL;
  rc_error err;
  if (rc_spectrum_compute(ds, p, RC_SPECTRUM_AUTO, &spec, &err)) fail_msg("%s", err.msg);
  rc_integrate_config cfg = {integ, times, n, dt, 1e-11, 1e-13, em, NULL, NULL, RC_PRECISION_F64, 0, 0};
  if (rc_integrate(ds, p, spec, init, &cfg, record, &r, &err)) fail_msg("integrate: %s", err.msg);
  rc_spectrum_free(spec);
  return r;
}

static void recorder_free(recorder *r) {
  for (size_t k = 0; r->states && k < r->n; k++) rc_state_free(r->states[k]);
  free(r->states);
  free(r->t);
  free(r->D);
}

static void conserved(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *s, double *Q) {
  rc_components *comp;
  rc_error err;
  assert_int_equal(rc_components_compute(ds, &comp, &err), RC_OK);
  assert_int_equal(rc_conserved_quantities(ds, p, s, comp, Q, &err), RC_OK);
  rc_components_free(comp);
}

/* The conserved weights are checked independently of the library: here they
 * are spelled out from docs/theory.md (uniform: 1/eta; degree: a_i/eta_x, b_c/eta_y). */
static void conserved_by_hand(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *s, double *Q) {
  size_t d = s->d;
  memset(Q, 0, d * sizeof *Q);
  for (size_t i = 0; i < ds->n_samples; i++) {
    double w = p->rates == RC_RATES_UNIFORM ? ds->total / p->eta_x : ds->sample_weight[i] / p->eta_x;
    for (size_t q = 0; q < d; q++) Q[q] += w * s->x[i * d + q];
  }
  for (size_t c = 0; c < ds->n_classes; c++) {
    double w = p->rates == RC_RATES_UNIFORM ? ds->total / p->eta_y : ds->class_weight[c] / p->eta_y;
    for (size_t q = 0; q < d; q++) Q[q] += w * s->y[c * d + q];
  }
}

static void conservation_laws(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(3, 20, 0.1, RC_PATTERN_RING, 1); /* one component */
  rc_state *init = tu_init(ds, 4, 5);
  double times[] = {0, 0.3, 2, 10, 50};
  for (int scheme = 0; scheme < 2; scheme++) {
    rc_minimal_params p = {(rc_rate_scheme)scheme, 0.7, 1.3};
    double Q0[4], Qh[4], Q[4];
    conserved(ds, &p, init, Q0);
    conserved_by_hand(ds, &p, init, Qh);
    for (int q = 0; q < 4; q++) assert_close(Q0[q], Qh[q], 1e-12 * fabs(Qh[q]) + 1e-12);
    struct {
      rc_integrator integ;
      rc_spectrum_method em;
      double dt, tol;
    } runs[] = {{RC_INTEGRATOR_EXACT, RC_SPECTRUM_GROUP, 0, 1e-11},
                {RC_INTEGRATOR_RK45, RC_SPECTRUM_AUTO, 0, 1e-9},
                {RC_INTEGRATOR_GD, RC_SPECTRUM_AUTO, scheme ? 1.0 : 0.01, 1e-11},
                {RC_INTEGRATOR_EXACT, RC_SPECTRUM_KK, 0, 1e-11}};
    for (size_t k = 0; k < (scheme ? 3u : 4u); k++) {
      recorder r = integrate(ds, &p, init, runs[k].integ, runs[k].em, runs[k].dt, times, 5, 1);
      for (size_t j = 0; j < r.n; j++) {
        conserved(ds, &p, r.states[j], Q);
        for (int q = 0; q < 4; q++) assert_close(Q[q], Q0[q], runs[k].tol * (1 + fabs(Q0[q])));
      }
      recorder_free(&r);
    }
  }
  rc_state_free(init);
  rc_dataset_free(ds);
}

static void fixed_point_without_frustration(void **state) {
  (void)state;
  /* Claim 1: no frustration, no collapse; each class ends at the weighted mean
   * of its label and samples: degree, eta_x = eta_y = 1, n clean samples:
   * y_c(inf) = (sum_i x_i + n y_c) / (2n) (weights a_i/eta_x = 1, b_c/eta_y = n). */
  size_t sz[3] = {15, 25, 35};
  rc_dataset *ds = tu_generate(0, sz, 3, NULL, -1, RC_PATTERN_PAIR, 1);
  rc_state *init = tu_init(ds, 6, 11);
  rc_minimal_params p = rc_minimal_params_default();
  double pred[3][6];
  size_t i0 = 0;
  for (size_t c = 0; c < 3; c++) {
    for (size_t q = 0; q < 6; q++) {
      double sx = 0;
      for (size_t i = i0; i < i0 + sz[c]; i++) sx += init->x[i * 6 + q];
      pred[c][q] = (sx + (double)sz[c] * init->y[c * 6 + q]) / (2.0 * (double)sz[c]);
    }
    i0 += sz[c];
  }
  rc_state *fp;
  rc_error err;
  assert_int_equal(rc_fixed_point_state(ds, &p, init, &fp, &err), RC_OK);
  double times[] = {0, 40};
  recorder e = integrate(ds, &p, init, RC_INTEGRATOR_EXACT, RC_SPECTRUM_AUTO, 0, times, 2, 1);
  recorder k = integrate(ds, &p, init, RC_INTEGRATOR_RK45, RC_SPECTRUM_AUTO, 0, times, 2, 1);
  for (size_t c = 0; c < 3; c++)
    for (size_t q = 0; q < 6; q++) {
      assert_close(fp->y[c * 6 + q], pred[c][q], 1e-13);
      assert_close(e.states[1]->y[c * 6 + q], pred[c][q], 1e-13);
      assert_close(k.states[1]->y[c * 6 + q], pred[c][q], 1e-8);
    }
  assert_close(e.D[1], rc_min_label_distance(fp), 1e-12);
  assert_true(e.D[1] > 0.1);
  recorder_free(&e);
  recorder_free(&k);
  rc_state_free(fp);
  rc_state_free(init);
  rc_dataset_free(ds);
}

static void integrators_agree(void **state) {
  (void)state;
  size_t sz[4] = {12, 30, 18, 25};
  rc_dataset *ds = tu_generate(0, sz, 4, "0-1:3,1-2:4,2-3:2,0-3:1", -1, RC_PATTERN_PAIR, 1);
  rc_state *init = tu_init(ds, 5, 2);
  double times[] = {0, 0.5, 1, 4, 16, 64};
  for (int scheme = 0; scheme < 2; scheme++) {
    rc_minimal_params p = {(rc_rate_scheme)scheme, 1.0, 0.6};
    size_t total = (ds->n_samples + ds->n_classes) * 5;
    recorder eg = integrate(ds, &p, init, RC_INTEGRATOR_EXACT, RC_SPECTRUM_GROUP, 0, times, 6, 1);
    recorder rk = integrate(ds, &p, init, RC_INTEGRATOR_RK45, RC_SPECTRUM_AUTO, 0, times, 6, 1);
    double scale = tu_max_abs(init->z, total);
    for (size_t j = 0; j < 6; j++) assert_true(tu_max_abs_diff(eg.states[j]->z, rk.states[j]->z, total) < 1e-8 * scale);
    if (scheme == 0) { /* the two exact reductions */
      recorder ek = integrate(ds, &p, init, RC_INTEGRATOR_EXACT, RC_SPECTRUM_KK, 0, times, 6, 1);
      for (size_t j = 0; j < 6; j++)
        assert_true(tu_max_abs_diff(eg.states[j]->z, ek.states[j]->z, total) < 1e-12 * scale);
      recorder_free(&ek);
      /* gd converges to the flow at first order in dt: halving dt halves the error */
      double err1, err2;
      double gt[] = {0, 4};
      recorder g1 = integrate(ds, &p, init, RC_INTEGRATOR_GD, RC_SPECTRUM_AUTO, 0.02, gt, 2, 1);
      recorder g2 = integrate(ds, &p, init, RC_INTEGRATOR_GD, RC_SPECTRUM_AUTO, 0.01, gt, 2, 1);
      err1 = tu_max_abs_diff(g1.states[1]->z, eg.states[3]->z, total);
      err2 = tu_max_abs_diff(g2.states[1]->z, eg.states[3]->z, total);
      assert_true(err1 < 0.05 * scale);
      assert_close(err1 / err2, 2.0, 0.1);
      recorder_free(&g1);
      recorder_free(&g2);
    }
    recorder_free(&eg);
    recorder_free(&rk);
  }
  rc_state_free(init);
  rc_dataset_free(ds);
}

static double *log_grid(double t_min, double t_end, size_t n) {
  double *t = calloc(n, sizeof *t);
  t[0] = 0;
  for (size_t k = 1; k < n; k++) t[k] = t_min * pow(t_end / t_min, (double)(k - 1) / (double)(n - 2));
  return t;
}

static void fitted_slow_rate(void **state) {
  (void)state;
  /* two classes, n = 100 clean each, F = 10 frustrated: closed form slow rate */
  size_t sz[1] = {100};
  rc_dataset *ds = tu_generate(2, sz, 1, "0-1:10", -1, RC_PATTERN_PAIR, 1);
  rc_state *init = tu_init(ds, 8, 3);
  rc_minimal_params p = rc_minimal_params_default();
  double lam = 1.0 - sqrt(100.0 / 110.0), next = 1.0; /* lambda_next = eta_x */
  double t_end = 10.0 / lam;
  size_t n = 60;
  double *t = log_grid(0.01, t_end, n);
  recorder rk = integrate(ds, &p, init, RC_INTEGRATOR_RK45, RC_SPECTRUM_AUTO, 0, t, n, 0);
  int found;
  double fit = rc_fitted_decay_rate(rk.t, rk.D, rk.n, 5.0 / next, &found);
  assert_true(found);
  assert_close(fit, lam, 1e-5 * lam);
  /* gd with step h decays per step by (1 - h lambda): rate -log(1 - h lambda)/h */
  double h = 0.05;
  for (size_t k = 0; k < n; k++) t[k] = h * fmax(k ? 1.0 : 0.0, round(t[k] / h));
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if (m == 0 || t[k] > t[m - 1]) t[m++] = t[k];
  recorder gd = integrate(ds, &p, init, RC_INTEGRATOR_GD, RC_SPECTRUM_AUTO, h, t, m, 0);
  fit = rc_fitted_decay_rate(gd.t, gd.D, gd.n, 5.0 / next, &found);
  assert_true(found);
  assert_close(fit, -log(1 - h * lam) / h, 1e-4 * lam);
  assert_close(fit, lam, 2e-3 * lam);
  /* complete K = 4 with equal counts on every pair (one component, slow rate
   * triple, next rate eta_x far above): D(t) decays at the smallest nonzero
   * rate. (With unequal counts the slowest mode can leave the closest pair
   * unmoved, and D then decays at the next rate: docs/theory.md.) */
  size_t sz50[1] = {50};
  rc_dataset *ring = tu_generate(4, sz50, 1, "0-1:2,0-2:2,0-3:2,1-2:2,1-3:2,2-3:2", -1, RC_PATTERN_PAIR, 1);
  rc_state *ri = tu_init(ring, 8, 4);
  rc_spectrum *spec;
  rc_error err;
  assert_int_equal(rc_spectrum_compute(ring, &p, RC_SPECTRUM_AUTO, &spec, &err), RC_OK);
  double *t2 = log_grid(0.01, 12.0 / spec->slow_rate, n);
  recorder r2 = integrate(ring, &p, ri, RC_INTEGRATOR_RK45, RC_SPECTRUM_AUTO, 0, t2, n, 0);
  fit = rc_fitted_decay_rate(r2.t, r2.D, r2.n, 5.0 / spec->next_rate, &found);
  assert_true(found);
  assert_close(fit, spec->slow_rate, 2e-3 * spec->slow_rate);
  rc_spectrum_free(spec);
  recorder_free(&r2);
  free(t2);
  rc_state_free(ri);
  rc_dataset_free(ring);
  recorder_free(&rk);
  recorder_free(&gd);
  free(t);
  rc_state_free(init);
  rc_dataset_free(ds);
}

static void gd_refuses_and_stops(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(2, 10, 0.1, RC_PATTERN_PAIR, 1);
  rc_state *init = tu_init(ds, 2, 1);
  rc_minimal_params p = rc_minimal_params_default();
  rc_spectrum *spec;
  rc_error err;
  assert_int_equal(rc_spectrum_compute(ds, &p, RC_SPECTRUM_AUTO, &spec, &err), RC_OK);
  double times[] = {0, 10};
  rc_integrate_config cfg = {RC_INTEGRATOR_GD, times, 2, 1.0, 0, 0, RC_SPECTRUM_AUTO, NULL, NULL, RC_PRECISION_F64, 0, 0};
  recorder r = {NULL, calloc(2, sizeof(double)), calloc(2, sizeof(double)), 0};
  /* fast rate is 2: dt = 1 gives dt * fast = 2, refused before any step */
  assert_int_equal(rc_integrate(ds, &p, spec, init, &cfg, record, &r, &err), RC_EUNSTABLE);
  assert_non_null(strstr(err.msg, "unstable"));
  assert_int_equal(r.n, 0);
  /* a state that overflows stops the step and names the quantity */
  rc_state *s = rc_state_clone(init);
  s->x[3] = 1e308;
  s->y[1] = -1e308;
  rc_gd *g = NULL;
  size_t done = 0;
  assert_int_equal(rc_gd_alloc(ds, &p, 2, 0.5, RC_PRECISION_F64, 0, &g, &err), RC_OK);
  assert_int_equal(rc_gd_load(g, s, &err), RC_OK);
  assert_int_equal(rc_gd_run(g, 5, &done, &err), RC_ENUMERIC);
  assert_int_equal(done, 1);
  assert_non_null(strstr(err.msg, "non-finite"));
  rc_gd_free(g);
  free(r.t);
  free(r.D);
  rc_state_free(s);
  rc_spectrum_free(spec);
  rc_state_free(init);
  rc_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(conservation_laws),  cmocka_unit_test(fixed_point_without_frustration),
      cmocka_unit_test(integrators_agree), cmocka_unit_test(fitted_slow_rate),
      cmocka_unit_test(gd_refuses_and_stops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
