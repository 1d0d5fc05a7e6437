/* test_gd.c: the gd engine (rc_gd_*): one step against the model's vector
 * field computed independently (rc_minimal_vector_field), bit-identical
 * results for any thread count and for repeated runs, float32 against float64
 * within a stated tolerance, and NaN/Inf detection that names the step's first
 * offending quantity without false alarms on large finite values. */
#include "testutil.h"

static rc_gd *plan(const rc_dataset *ds, const rc_minimal_params *p, size_t d, double dt, rc_precision prec,
                   int threads, const rc_state *init) {
  rc_gd *g = NULL;
  rc_error err;
  if (rc_gd_alloc(ds, p, d, dt, prec, threads, &g, &err)) fail_msg("gd alloc: %s", err.msg);
  if (rc_gd_load(g, init, &err)) fail_msg("gd load: %s", err.msg);
  return g;
}

/* Run `steps` gd steps from init, return the final state. */
static rc_state *gd_final(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *init, double dt,
                          rc_precision prec, int threads, size_t steps, int *threads_used) {
  rc_gd *g = plan(ds, p, init->d, dt, prec, threads, init);
  rc_error err;
  size_t done = 0;
  if (rc_gd_run(g, steps, &done, &err)) fail_msg("gd run: %s", err.msg);
  assert_int_equal(done, steps);
  if (threads_used) *threads_used = rc_gd_threads_used(g);
  rc_state *out = rc_state_clone(init);
  rc_gd_store(g, out);
  rc_gd_free(g);
  return out;
}

/* A data set with repeated observations: counts 2 and 3 on clean and frustrated samples. */
static rc_dataset *repeated_counts(void) {
  rc_observation obs[] = {{0, 0}, {0, 0}, {1, 0}, {2, 1}, {2, 1}, {2, 1}, {3, 1}, {4, 2}, {5, 0},
                          {5, 1}, {5, 1}, {6, 1}, {6, 2}, {7, 0}, {7, 1}, {7, 2}, {8, 2}, {8, 2}};
  rc_dataset *ds = NULL;
  rc_error err;
  if (rc_dataset_from_observations(obs, sizeof obs / sizeof obs[0], 0, 0, &ds, &err)) fail_msg("%s", err.msg);
  return ds;
}

static void gd_matches_vector_field(void **state) {
  (void)state;
  rc_dataset *sets[2] = {repeated_counts(), tu_equal(4, 30, 0.2, RC_PATTERN_RANDOM, 3)};
  for (int q = 0; q < 2; q++) {
    rc_dataset *ds = sets[q];
    size_t d = 3, n = (ds->n_samples + ds->n_classes) * d;
    rc_state *init = tu_init(ds, d, 7);
    for (int scheme = 0; scheme < 2; scheme++) {
      rc_minimal_params p = {(rc_rate_scheme)scheme, 0.8, 1.7};
      double dt = scheme == RC_RATES_UNIFORM ? 0.5 * (double)ds->total / 30.0 : 0.3;
      size_t steps = 25;
      /* reference: z <- z + dt F(z) with F from the model's own vector field */
      double *z = malloc(n * sizeof *z), *dz = malloc(n * sizeof *dz);
      memcpy(z, init->z, n * sizeof *z);
      for (size_t s = 0; s < steps; s++) {
        rc_minimal_vector_field(ds, &p, z, d, dz);
        for (size_t k = 0; k < n; k++) z[k] += dt * dz[k];
      }
      rc_state *out = gd_final(ds, &p, init, dt, RC_PRECISION_F64, 2, steps, NULL);
      double scale = tu_max_abs(init->z, n);
      double diff = tu_max_abs_diff(out->z, z, n);
      if (!(diff <= 1e-13 * scale)) fail_msg("set %d scheme %d: |gd - reference| = %g (scale %g)", q, scheme, diff, scale);
      /* the test is not vacuous: the state moved */
      assert_true(tu_max_abs_diff(out->z, init->z, n) > 1e-3 * scale);
      rc_state_free(out);
      free(z);
      free(dz);
    }
    rc_state_free(init);
    rc_dataset_free(ds);
  }
}

static void gd_bit_identical_across_threads(void **state) {
  (void)state;
  /* N = 7 * 2800 / 0.9 ~ 21800 samples: many chunks, so threads really split the work */
  rc_dataset *ds = tu_equal(7, 2800, 0.1, RC_PATTERN_RANDOM, 5);
  size_t d = 5, n = (ds->n_samples + ds->n_classes) * d;
  rc_state *init = tu_init(ds, d, 9);
  for (int scheme = 0; scheme < 2; scheme++) {
    rc_minimal_params p = {(rc_rate_scheme)scheme, 1.0, 0.7};
    double dt = scheme == RC_RATES_UNIFORM ? 0.4 * (double)ds->total / 3000.0 : 0.4;
    for (int prec = 0; prec < 2; prec++) {
      int used = 0;
      rc_state *ref = gd_final(ds, &p, init, dt, (rc_precision)prec, 1, 40, &used);
      assert_int_equal(used, 1);
      assert_true(tu_max_abs_diff(ref->z, init->z, n) > 1e-3);
      const int threads[] = {2, 3, 1, 3};
      for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        rc_state *out = gd_final(ds, &p, init, dt, (rc_precision)prec, threads[t], 40, &used);
        assert_int_equal(used, threads[t]);
        if (memcmp(out->z, ref->z, n * sizeof(double)) != 0)
          fail_msg("scheme %d precision %d: %d threads differ from 1 thread (max |diff| %g)", scheme, prec,
                   threads[t], tu_max_abs_diff(out->z, ref->z, n));
        rc_state_free(out);
      }
      rc_state_free(ref);
    }
  }
  rc_state_free(init);
  rc_dataset_free(ds);
}

/* float32 against float64. Each step is a contraction (|1 - dt lambda| <= 1
 * for every rate at a stable step), so rounding errors do not grow: each step
 * adds a few float32 roundings (unit roundoff u = 2^-24 ~ 6e-8) of the state's
 * scale. Stated tolerance: max |z32 - z64| <= 4 u * steps * max |z(0)|. */
static void gd_f32_close_to_f64(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(5, 400, 0.1, RC_PATTERN_RING, 2);
  size_t d = 8, n = (ds->n_samples + ds->n_classes) * d, steps = 300;
  rc_state *init = tu_init(ds, d, 4);
  rc_minimal_params p = rc_minimal_params_default();
  rc_state *a = gd_final(ds, &p, init, 0.5, RC_PRECISION_F64, 0, steps, NULL);
  rc_state *b = gd_final(ds, &p, init, 0.5, RC_PRECISION_F32, 0, steps, NULL);
  double scale = tu_max_abs(init->z, n), diff = tu_max_abs_diff(a->z, b->z, n);
  double tol = 4.0 * ldexp(1.0, -24) * (double)steps * scale;
  if (!(diff <= tol)) fail_msg("|f32 - f64| = %g > %g", diff, tol);
  /* and it really ran in float32: the two differ */
  assert_true(diff > 1e-10 * scale);
  rc_state_free(a);
  rc_state_free(b);
  rc_state_free(init);
  rc_dataset_free(ds);
}

static void gd_nonfinite_detected(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(3, 500, 0.1, RC_PATTERN_RING, 1);
  size_t d = 4;
  rc_state *init = tu_init(ds, d, 3);
  rc_minimal_params p = rc_minimal_params_default();
  rc_error err;
  size_t done = 99;
  for (int prec = 0; prec < 2; prec++) {
    /* a NaN in sample 7: found after the first step, in sample 7 */
    rc_state *s = rc_state_clone(init);
    s->x[7 * d + 2] = NAN;
    rc_gd *g = plan(ds, &p, d, 0.5, (rc_precision)prec, 2, s);
    assert_int_equal(rc_gd_run(g, 10, &done, &err), RC_ENUMERIC);
    assert_int_equal(done, 1);
    if (!strstr(err.msg, "sample 7's")) fail_msg("message: %s", err.msg);
    rc_gd_free(g);
    /* an infinite label: every sample of that class becomes non-finite at step 1,
     * the first of them is reported */
    rc_state_copy(s, init);
    s->y[1 * d] = INFINITY;
    g = plan(ds, &p, d, 0.5, (rc_precision)prec, 3, s);
    assert_int_equal(rc_gd_run(g, 10, &done, &err), RC_ENUMERIC);
    assert_int_equal(done, 1);
    if (!strstr(err.msg, "sample 500's")) fail_msg("message: %s", err.msg); /* class 1 starts at sample 500 */
    rc_gd_free(g);
    rc_state_free(s);
  }
  /* overflow after a few steps of an unstable step size (not refused by the
   * engine itself: rc_integrate refuses it) is caught at the step it happens */
  {
    rc_gd *g = plan(ds, &p, d, 2.5, RC_PRECISION_F32, 2, init);
    assert_int_equal(rc_gd_run(g, 10000, &done, &err), RC_ENUMERIC);
    assert_true(done > 1 && done < 10000);
    assert_non_null(strstr(err.msg, "non-finite"));
    rc_gd_free(g);
  }
  /* large finite values are not an overflow: x = y = 1e307 everywhere stays put
   * (a check that summed the state would overflow here) */
  {
    rc_state *s = rc_state_clone(init);
    for (size_t k = 0; k < (s->n + s->k) * d; k++) s->z[k] = 1e307;
    rc_gd *g = plan(ds, &p, d, 0.5, RC_PRECISION_F64, 2, s);
    if (rc_gd_run(g, 3, &done, &err)) fail_msg("false alarm: %s", err.msg);
    assert_int_equal(done, 3);
    rc_gd_free(g);
    /* in float32 the same state does not fit: refused when loaded */
    assert_int_equal(rc_gd_alloc(ds, &p, d, 0.5, RC_PRECISION_F32, 0, &g, &err), RC_OK);
    assert_int_equal(rc_gd_load(g, s, &err), RC_ENUMERIC);
    assert_non_null(strstr(err.msg, "float32"));
    rc_gd_free(g);
    rc_state_free(s);
  }
  rc_state_free(init);
  rc_dataset_free(ds);
}

static void gd_bad_arguments(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(2, 10, 0.1, RC_PATTERN_PAIR, 1);
  rc_minimal_params p = rc_minimal_params_default();
  rc_gd *g = NULL;
  rc_error err;
  assert_int_equal(rc_gd_alloc(ds, &p, 0, 0.1, RC_PRECISION_F64, 0, &g, &err), RC_EINVAL);
  assert_int_equal(rc_gd_alloc(ds, &p, 2, -0.1, RC_PRECISION_F64, 0, &g, &err), RC_EINVAL);
  assert_int_equal(rc_gd_alloc(ds, &p, 2, 0.1, RC_PRECISION_F64, -1, &g, &err), RC_EINVAL);
  assert_null(g);
  rc_precision pr;
  assert_int_equal(rc_parse_precision("f32", &pr, &err), RC_OK);
  assert_int_equal(pr, RC_PRECISION_F32);
  assert_int_equal(rc_parse_precision("f16", &pr, &err), RC_EINVAL);
  rc_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gd_matches_vector_field), cmocka_unit_test(gd_bit_identical_across_threads),
      cmocka_unit_test(gd_f32_close_to_f64),     cmocka_unit_test(gd_nonfinite_detected),
      cmocka_unit_test(gd_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
