/* test_head_dynamics.c: dynamics of term models (docs/model.md section 3): the
 * reduced integrator against rk45 on the particles; siam collapses while
 * siam-sg keeps a finite separation at a fixed point with nonzero loss, equal
 * to the closed form f D^2 / (2 (1 + f)) (docs/selfconsistency.md); the LM
 * fixed point equals the end of a long run; the mean-field gains equal
 * sqrt(mu) with mu = (1 - f)/(1 + f) for two classes. */
#include "repcollapse/experiments.h"
#include "repcollapse/fixedpoint.h"
#include "repcollapse/selfconsistent.h"
#include "testutil.h"

typedef struct {
  rc_reduced *red;
  double *u[8];
  size_t n;
} keep_reduced;

static rc_status keep_particle(double t, size_t step, const rc_state *s, void *ctx, rc_error *err) {
  (void)t;
  (void)step;
  (void)err;
  keep_reduced *k = ctx;
  k->u[k->n] = calloc(rc_reduced_dim(k->red), sizeof(double));
  rc_reduced_from_state(k->red, s, k->u[k->n]);
  k->n++;
  return RC_OK;
}

static rc_status keep_u(double t, const double *u, void *ctx, rc_error *err) {
  (void)t;
  (void)err;
  keep_reduced *k = ctx;
  k->u[k->n] = malloc(rc_reduced_dim(k->red) * sizeof(double));
  memcpy(k->u[k->n], u, rc_reduced_dim(k->red) * sizeof(double));
  k->n++;
  return RC_OK;
}

static rc_state *head_state(const rc_dataset *ds, size_t d, unsigned long seed, rc_head_init hi) {
  rc_state *s0 = tu_init(ds, d, seed), *s;
  rc_error err;
  assert_int_equal(rc_state_alloc_head(s0->n, s0->k, d, 1, &s, &err), RC_OK);
  memcpy(s->z, s0->z, (s0->n + s0->k) * d * sizeof(double));
  assert_int_equal(rc_head_init_matrix(s->P, d, hi, 1.0, seed + 1, &err), RC_OK);
  rc_state_free(s0);
  return s;
}

static void reduced_matches_particles(void **state) {
  (void)state;
  size_t sz[3] = {8, 11, 6};
  rc_dataset *ds = tu_generate(0, sz, 3, "0-1:3,1-2:2,0-2:1", -1, RC_PATTERN_PAIR, 1);
  const size_t d = 3;
  const char *models[] = {"siam-sg", "siam", "head", "Px-sg(Py)+0.5*y-x"};
  double times[] = {0, 0.5, 3, 20};
  for (int scheme = 0; scheme < 2; scheme++)
    for (size_t m = 0; m < sizeof models / sizeof *models; m++) {
      rc_head_params hp = rc_head_params_default();
      rc_error err;
      if (rc_model_preset(models[m], &hp.model, NULL)) assert_int_equal(rc_model_parse_terms(models[m], &hp.model, &err), RC_OK);
      hp.base.rates = (rc_rate_scheme)scheme;
      hp.eta_head = 0.7;
      rc_state *init = head_state(ds, d, 3 + m, RC_HEAD_ORTHOGONAL);
      rc_reduced *red;
      assert_int_equal(rc_reduced_alloc(ds, &hp, d, &red, &err), RC_OK);
      keep_reduced a = {red, {0}, 0}, b = {red, {0}, 0};
      rc_integrate_config cfg = {RC_INTEGRATOR_RK45, times, 4, 0, 1e-11, 1e-13, RC_SPECTRUM_AUTO, NULL, NULL, RC_PRECISION_F64, 0, 0};
      assert_int_equal(rc_integrate_head(ds, &hp, init, &cfg, keep_particle, &a, &err), RC_OK);
      double *u0 = calloc(rc_reduced_dim(red), sizeof *u0);
      rc_reduced_from_state(red, init, u0);
      cfg.integrator = RC_INTEGRATOR_REDUCED;
      assert_int_equal(rc_integrate_reduced(red, u0, &cfg, keep_u, &b, &err), RC_OK);
      for (size_t k = 0; k < 4; k++) {
        double diff = tu_max_abs_diff(a.u[k], b.u[k], rc_reduced_dim(red));
        if (!(diff < 1e-8)) fail_msg("%s scheme %d t=%g: reduced vs particles %.3g", models[m], scheme, times[k], diff);
        free(a.u[k]);
        free(b.u[k]);
      }
      free(u0);
      rc_reduced_free(red);
      rc_state_free(init);
    }
  rc_dataset_free(ds);
}

static rc_run_result *run_model(const char *model, double f, size_t n, size_t d, unsigned long seed, double t_end,
                                rc_integrator integ) {
  rc_run_config c = rc_run_config_default();
  size_t sz[1] = {n};
  c.data.n_classes = 2;
  c.data.class_sizes = sz;
  c.data.n_class_sizes = 1;
  c.data.has_frustration = 1;
  c.data.frustration = f;
  c.dim = d;
  c.init.seed = seed;
  c.integrator = integ;
  c.t_end = t_end;
  c.points = 40;
  rc_model_preset(model, &c.terms, NULL);
  rc_run_result *r = NULL;
  rc_error err;
  if (rc_run_execute(&c, &r, &err)) fail_msg("run %s: %s", model, err.msg);
  return r;
}

static void siam_collapses_siam_sg_does_not(void **state) {
  (void)state;
  /* two classes of 50, F = 5 frustrated (f = 5/105): one component, small f */
  rc_run_result *a = run_model("siam", 0.05, 50, 4, 1, 600, RC_INTEGRATOR_RK45);
  rc_run_result *b = run_model("siam-sg", 0.05, 50, 4, 1, 600, RC_INTEGRATOR_RK45);
  double D0 = a->rows[0].value[RC_M_MIN_LABEL_DISTANCE];
  double Da = a->rows[a->n_rows - 1].value[RC_M_MIN_LABEL_DISTANCE];
  double Db = b->rows[b->n_rows - 1].value[RC_M_MIN_LABEL_DISTANCE];
  double Lb = b->rows[b->n_rows - 1].value[RC_M_LOSS];
  assert_true(a->has_collapse_time);
  assert_true(Da < 1e-8 * D0);
  assert_false(b->has_collapse_time);
  assert_true(Db > 0.3 * D0);
  /* fixed point with nonzero loss: L = f D^2 / (2 (1 + f)), f = F/N = 5/105 */
  double f = 5.0 / 105.0;
  assert_true(Lb > 1e-3);
  assert_close(Lb, f * Db * Db / (2 * (1 + f)), 1e-9);
  /* the head's gain on the separation: sqrt((1 - f)/(1 + f)) */
  double g[1];
  rc_separation_gains(b->final_labels, b->final_head, 2, 4, 1e-9, g);
  assert_close(g[0], sqrt((1 - f) / (1 + f)), 1e-9);
  rc_run_result_free(a);
  rc_run_result_free(b);
}

static void fixed_point_is_the_end_of_a_long_run(void **state) {
  (void)state;
  rc_run_result *r = run_model("siam-sg", 0.1, 40, 3, 2, 3000, RC_INTEGRATOR_REDUCED);
  rc_run_config c = rc_run_config_default();
  rc_model_preset("siam-sg", &c.terms, NULL);
  rc_head_params hp = rc_run_head_params(&c);
  rc_reduced *red;
  rc_error err;
  assert_int_equal(rc_reduced_alloc(r->ds, &hp, 3, &red, &err), RC_OK);
  size_t n = rc_reduced_dim(red);
  /* start the solver from an earlier, unconverged point (the end of a run to
   * t = 15): it lands on the family of fixed points, where the equations fix
   * the gain and loss / D^2 exactly, and the free separation D moves only by
   * what the dynamics after t = 15 would still change */
  rc_run_result *early = run_model("siam-sg", 0.1, 40, 3, 2, 15, RC_INTEGRATOR_REDUCED);
  double *u = malloc(n * sizeof *u), res;
  memcpy(u, early->final_reduced, n * sizeof *u);
  double start_res;
  {
    double *du = malloc(n * sizeof *du);
    rc_reduced_vector_field(red, u, du);
    start_res = 0;
    for (size_t q = 0; q < n; q++) start_res += du[q] * du[q];
    start_res = sqrt(start_res);
    free(du);
  }
  assert_true(start_res > 1e-8); /* genuinely unconverged */
  assert_int_equal(rc_reduced_fixed_point(red, u, &res, 500, &err), RC_OK);
  assert_true(res < 1e-10);
  const double *Yl = u + rc_reduced_n_groups(red) * 3, *Yr = rc_reduced_labels(red, r->final_reduced);
  double g1[1], g2[1], f = (double)r->ds->n_frustrated / (double)r->ds->n_samples;
  rc_separation_gains(Yl, rc_reduced_head(red, u), 2, 3, 1e-9, g1);
  rc_separation_gains(Yr, rc_reduced_head(red, r->final_reduced), 2, 3, 1e-9, g2);
  assert_close(g1[0], g2[0], 1e-9);
  assert_close(g1[0], sqrt((1 - f) / (1 + f)), 1e-9);
  double D1 = 0, D2 = 0;
  for (int q = 0; q < 3; q++) {
    D1 += (Yl[q] - Yl[3 + q]) * (Yl[q] - Yl[3 + q]);
    D2 += (Yr[q] - Yr[3 + q]) * (Yr[q] - Yr[3 + q]);
  }
  assert_close(rc_reduced_loss(red, u) / D1, f / (2 * (1 + f)), 1e-9);
  /* D is free: the solver, like the dynamics, moves it; it lands no further
   * from the long run's D than the unconverged start was */
  const double *Ys = rc_reduced_labels(red, early->final_reduced);
  double Ds = 0;
  for (int q = 0; q < 3; q++) Ds += (Ys[q] - Ys[3 + q]) * (Ys[q] - Ys[3 + q]);
  if (!(fabs(sqrt(D1) - sqrt(D2)) <= 2 * fabs(sqrt(Ds) - sqrt(D2)) + 1e-12))
    fail_msg("D: solver %.6g, long run %.6g, start %.6g", sqrt(D1), sqrt(D2), sqrt(Ds));
  /* and exactly at the end of the long run, the solver stays put */
  memcpy(u, r->final_reduced, n * sizeof *u);
  assert_int_equal(rc_reduced_fixed_point(red, u, &res, 500, &err), RC_OK);
  assert_true(res < 1e-12);
  assert_true(tu_max_abs_diff(u, r->final_reduced, rc_reduced_core_dim(red)) < 1e-8);
  rc_stability s;
  assert_int_equal(rc_reduced_stability(red, u, 1e-6, &s, &err), RC_OK);
  assert_int_equal(s.verdict, RC_STABLE);
  assert_true(s.zero_modes > 0);
  assert_true(s.max_real_part < 0);
  rc_stability_free(&s);
  free(u);
  rc_reduced_free(red);
  rc_run_result_free(r);
  rc_run_result_free(early);
}

static void mean_field_gains(void **state) {
  (void)state;
  rc_error err;
  for (int F = 0; F <= 40; F += 8) {
    size_t sz[1] = {60};
    char spec[32];
    snprintf(spec, sizeof spec, "0-1:%d", F);
    rc_dataset *ds = tu_generate(2, sz, 1, F ? spec : NULL, -1, RC_PATTERN_PAIR, 1);
    rc_head_params hp = rc_head_params_default();
    rc_model_preset("siam-sg", &hp.model, NULL);
    rc_sc_result sc;
    assert_int_equal(rc_selfconsistent_solve(ds, &hp, 4, &sc, &err), RC_OK);
    double mu = 60.0 / (60.0 + F), f = F / (120.0 + F);
    assert_true(sc.exists);
    assert_close(sc.mode[0].mu, mu, 1e-12);
    assert_close(sc.gain_separation, sqrt(mu), 1e-9);
    assert_close(sc.gain_centre, 1.0, 1e-9);
    assert_close(sc.loss_per_msd, f / (2 * (1 + f)), 1e-9);
    assert_true(sc.assembled_residual < 1e-9);
    assert_int_equal(sc.stability.verdict, RC_STABLE);
    /* the separation mode is solved by p = -sqrt(mu), 0 (a switched-off head:
     * P = 0 stops x and y, and the P-equation alone constrains the samples)
     * and +sqrt(mu) */
    assert_int_equal(sc.mode[0].n_solutions, 3);
    assert_close(sc.mode[0].gain[0], -sqrt(mu), 1e-9);
    assert_close(sc.mode[0].gain[1], 0.0, 1e-9);
    assert_close(sc.mode[0].gain[2], sqrt(mu), 1e-9);
    rc_sc_result_free(&sc);
    /* siam and head: no non-collapsed fixed point once f > 0 */
    const char *others[] = {"siam", "head", "minimal"};
    for (int k = 0; k < 3; k++) {
      rc_model_preset(others[k], &hp.model, NULL);
      assert_int_equal(rc_selfconsistent_solve(ds, &hp, 4, &sc, &err), RC_OK);
      if (F > 0 && sc.exists) fail_msg("%s at F = %d: a separated fixed point was reported", others[k], F);
      if (F == 0) assert_true(sc.exists);
      rc_sc_result_free(&sc);
    }
    rc_dataset_free(ds);
  }
}

static void complete_pattern_gains(void **state) {
  (void)state;
  /* complete K = 4, q = 2 frustrated per pair, n = 30: separation eigenvalue
   * mu = (n + (K - 2) q / 2) / (n + (K - 1) q) (docs/selfconsistency.md), three-fold */
  size_t sz[1] = {30};
  rc_dataset *ds = tu_generate(4, sz, 1, "0-1:2,0-2:2,0-3:2,1-2:2,1-3:2,2-3:2", -1, RC_PATTERN_PAIR, 1);
  rc_head_params hp = rc_head_params_default();
  rc_model_preset("siam-sg", &hp.model, NULL);
  rc_sc_result sc;
  rc_error err;
  assert_int_equal(rc_selfconsistent_solve(ds, &hp, 5, &sc, &err), RC_OK);
  double mu = (30.0 + 2.0) / (30.0 + 6.0);
  for (int k = 0; k < 3; k++) assert_close(sc.mode[k].mu, mu, 1e-12);
  assert_close(sc.gain_separation, sqrt(mu), 1e-9);
  assert_true(isfinite(sc.loss_per_msd));
  assert_int_equal(sc.stability.verdict, RC_STABLE);
  rc_sc_result_free(&sc);
  rc_dataset_free(ds);
}

static void gd_on_term_models(void **state) {
  (void)state;
  /* gd with a small step tracks rk45; an unstable step is refused up front */
  rc_run_result *a = run_model("siam-sg", 0.05, 20, 3, 4, 20, RC_INTEGRATOR_RK45);
  rc_run_config c = rc_run_config_default();
  size_t sz[1] = {20};
  c.data.n_classes = 2;
  c.data.class_sizes = sz;
  c.data.n_class_sizes = 1;
  c.data.has_frustration = 1;
  c.data.frustration = 0.05;
  c.dim = 3;
  c.init.seed = 4;
  c.integrator = RC_INTEGRATOR_GD;
  c.dt = 0.005;
  c.t_end = 20;
  c.points = 40;
  rc_model_preset("siam-sg", &c.terms, NULL);
  rc_run_result *b = NULL;
  rc_error err;
  assert_int_equal(rc_run_execute(&c, &b, &err), RC_OK);
  assert_close(b->rows[b->n_rows - 1].value[RC_M_MIN_LABEL_DISTANCE], a->rows[a->n_rows - 1].value[RC_M_MIN_LABEL_DISTANCE],
               2e-3);
  c.dt = 5.0;
  rc_run_result *bad = NULL;
  assert_int_equal(rc_run_execute(&c, &bad, &err), RC_EUNSTABLE);
  assert_non_null(strstr(err.msg, "unstable"));
  rc_run_result_free(a);
  rc_run_result_free(b);
}

static void wilson(void **state) {
  (void)state;
  double lo, hi;
  rc_wilson_interval(5, 10, &lo, &hi); /* textbook value: 0.2366, 0.7634 */
  assert_close(lo, 0.2365931, 1e-6);
  assert_close(hi, 0.7634069, 1e-6);
  rc_wilson_interval(10, 10, &lo, &hi);
  assert_close(hi, 1.0, 0);
  assert_close(lo, 10.0 / (10.0 + 1.959963984540054 * 1.959963984540054), 1e-12); /* k = n: n / (n + z^2) */
  rc_wilson_interval(0, 10, &lo, &hi);
  assert_close(lo, 0.0, 0);
}

/* separation_head_gain: a gain of P on the difference of two labels is
 * meaningful only when the labels differ by more than round-off at their own
 * scale; after a complete collapse the differences are round-off vectors and
 * the gain must be NAN (null in JSON), whatever their size relative to each
 * other. A genuine small separation keeps its gain, |P v| / |v|. */
static void separation_gain_null_when_labels_coincide(void **state) {
  (void)state;
  const size_t d = 3;
  const double P[9] = {2, 0, 0, 0, 3, 0, 0, 0, 5};
  /* three labels at (1, 2, 3), equal up to the last bits */
  double Y[9] = {1, 2, 3, 1, 2, 3, 1, 2, 3};
  Y[3] = nextafter(1.0, 2.0);
  Y[7] = nextafter(2.0, 0.0);
  Y[8] = nextafter(3.0, 4.0);
  double g[3];
  rc_separation_gains(Y, P, 3, d, 1e-9, g);
  for (int k = 0; k < 3; k++)
    if (!isnan(g[k])) fail_msg("pair %d: gain %g from round-off differences", k, g[k]);
  /* the same labels at scale 1e-12 (collapsed near the origin): still round-off */
  for (int q = 0; q < 9; q++) Y[q] *= 1e-12;
  rc_separation_gains(Y, P, 3, d, 1e-9, g);
  for (int k = 0; k < 3; k++)
    if (!isnan(g[k])) fail_msg("small scale, pair %d: gain %g", k, g[k]);
  /* a real separation of 1e-6 along axis 1 at scale 1: gain 3, by hand */
  double Z[6] = {1, 2, 3, 1, 2 + 1e-6, 3};
  rc_separation_gains(Z, P, 2, d, 1e-9, g);
  assert_close(g[0], 3.0, 1e-9);
  /* and at scale 1e-12 all the same (the threshold follows the labels' scale) */
  for (int q = 0; q < 6; q++) Z[q] *= 1e-12;
  rc_separation_gains(Z, P, 2, d, 1e-9, g);
  assert_close(g[0], 3.0, 1e-6);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reduced_matches_particles),      cmocka_unit_test(siam_collapses_siam_sg_does_not),
      cmocka_unit_test(fixed_point_is_the_end_of_a_long_run), cmocka_unit_test(mean_field_gains),
      cmocka_unit_test(complete_pattern_gains),        cmocka_unit_test(gd_on_term_models),
      cmocka_unit_test(wilson),
      cmocka_unit_test(separation_gain_null_when_labels_coincide),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
