/* test_spectrum.c: the exact spectrum against independent computations:
 * the K x K reduction against the group reduction (two different matrices),
 * closed forms for two classes (docs/theory.md section 5), multiplicity
 * bookkeeping, and the merge rule. */
#include "testutil.h"

static rc_spectrum *spectrum(const rc_dataset *ds, rc_rate_scheme r, double ex, double ey, rc_spectrum_method m) {
  rc_minimal_params p = {r, ex, ey};
  rc_spectrum *s = NULL;
  rc_error err;
  if (rc_spectrum_compute(ds, &p, m, &s, &err)) fail_msg("spectrum: %s", err.msg);
  return s;
}

static long total_modes(const rc_spectrum *s) {
  long t = (long)s->zero_modes;
  for (size_t k = 0; k < s->n_rates; k++) t += s->multiplicity[k];
  return t;
}

static void kxk_matches_group(void **state) {
  (void)state;
  size_t sz4[4] = {30, 45, 20, 60};
  rc_dataset *sets[] = {
      tu_equal(2, 40, 0.1, RC_PATTERN_PAIR, 1),   tu_equal(4, 25, 0.08, RC_PATTERN_RING, 1),
      tu_equal(5, 20, 0.2, RC_PATTERN_RANDOM, 3), tu_equal(4, 30, 0.1, RC_PATTERN_COMPLETE, 1),
      tu_generate(0, sz4, 4, "0-1:3,1-2:7", -1, RC_PATTERN_PAIR, 1),
  };
  double etas[][2] = {{1, 1}, {1, 2.5}, {0.3, 1}};
  for (size_t k = 0; k < sizeof sets / sizeof *sets; k++) {
    for (size_t e = 0; e < 3; e++) {
      rc_spectrum *a = spectrum(sets[k], RC_RATES_DEGREE, etas[e][0], etas[e][1], RC_SPECTRUM_KK);
      rc_spectrum *b = spectrum(sets[k], RC_RATES_DEGREE, etas[e][0], etas[e][1], RC_SPECTRUM_GROUP);
      assert_int_equal(a->zero_modes, b->zero_modes);
      assert_int_equal(a->n_rates, b->n_rates);
      for (size_t q = 0; q < a->n_rates; q++) {
        assert_close(a->rate[q], b->rate[q], 1e-11 * a->fast_rate);
        assert_int_equal(a->multiplicity[q], b->multiplicity[q]);
      }
      long N = (long)sets[k]->n_samples, K = (long)sets[k]->n_classes;
      assert_int_equal(total_modes(a), N + K);
      assert_int_equal(total_modes(b), N + K);
      /* largest rate is eta_x + eta_y (mu = 1), zero modes = components */
      assert_close(a->fast_rate, etas[e][0] + etas[e][1], 1e-12);
      rc_components *comp;
      rc_error err;
      assert_int_equal(rc_components_compute(sets[k], &comp, &err), RC_OK);
      assert_int_equal(a->zero_modes, comp->n_components);
      rc_components_free(comp);
      rc_spectrum_free(a);
      rc_spectrum_free(b);
    }
    /* uniform: the group reduction's modes add up too */
    rc_spectrum *u = spectrum(sets[k], RC_RATES_UNIFORM, 1, 1, RC_SPECTRUM_AUTO);
    assert_int_equal(u->method, RC_SPECTRUM_GROUP);
    assert_int_equal(total_modes(u), (long)(sets[k]->n_samples + sets[k]->n_classes));
    rc_spectrum_free(u);
    rc_dataset_free(sets[k]);
  }
}

static void two_class_closed_form(void **state) {
  (void)state;
  const double n = 100;
  size_t sz[1] = {100};
  for (int F = 1; F <= 64; F *= 2) {
    char spec[32];
    snprintf(spec, sizeof spec, "0-1:%d", F);
    rc_dataset *ds = tu_generate(2, sz, 1, spec, -1, RC_PATTERN_PAIR, 1);
    double f = F / (2 * n + F);
    /* degree, eta = 1: lambda = 1 - sqrt((1-f)/(1+f)) = f + O(f^2) */
    rc_spectrum *s = spectrum(ds, RC_RATES_DEGREE, 1, 1, RC_SPECTRUM_AUTO);
    double closed = 1.0 - sqrt((1 - f) / (1 + f));
    assert_close(s->slow_rate, closed, 1e-13);
    assert_close(s->slow_rate, rc_two_class_slow_rate(RC_RATES_DEGREE, 1, 1, n, F), 1e-13);
    assert_true(fabs(s->slow_rate - f) <= f * f);
    /* distinct rates: slow x1, eta_x x (N - 2), lambda_+ x1, eta_x + eta_y x1 */
    assert_int_equal(s->zero_modes, 1);
    assert_int_equal(s->n_rates, 4);
    assert_int_equal(s->multiplicity[1], (long)ds->n_samples - 2);
    assert_close(s->rate[2], 1.0 + sqrt((1 - f) / (1 + f)), 1e-12);
    rc_spectrum_free(s);
    /* degree with eta_x != eta_y: quadratic formula with mu = n / (n + F) */
    double ex = 0.5, ey = 2.0, mu = n / (n + F);
    s = spectrum(ds, RC_RATES_DEGREE, ex, ey, RC_SPECTRUM_AUTO);
    double lq = ((ex + ey) - sqrt((ex - ey) * (ex - ey) + 4 * ex * ey * mu)) / 2;
    assert_close(s->slow_rate, lq, 1e-12 * lq + 1e-15);
    rc_spectrum_free(s);
    /* uniform: small root of (1/M)[[ex, -ex], [-ey n, ey (n + F)]], M = 2n + 2F */
    s = spectrum(ds, RC_RATES_UNIFORM, 1, 1, RC_SPECTRUM_AUTO);
    double M = 2 * n + 2 * F, a = 1.0 / M, b = -1.0 / M, c = -n / M, d = (n + F) / M;
    double tr = a + d, det = a * d - b * c;
    double small = (tr - sqrt(tr * tr - 4 * det)) / 2;
    assert_close(s->slow_rate, small, 1e-9 * small);
    assert_close(rc_two_class_slow_rate(RC_RATES_UNIFORM, 1, 1, n, F), small, 1e-9 * small);
    rc_spectrum_free(s);
    rc_dataset_free(ds);
  }
}

static void no_frustration(void **state) {
  (void)state;
  size_t sz[3] = {10, 20, 30};
  rc_dataset *ds = tu_generate(0, sz, 3, NULL, -1, RC_PATTERN_PAIR, 1);
  rc_spectrum *s = spectrum(ds, RC_RATES_DEGREE, 1, 1, RC_SPECTRUM_AUTO);
  assert_int_equal(s->zero_modes, 3);
  assert_int_equal(s->n_rates, 2); /* eta_x (N - K), eta_x + eta_y (K) */
  assert_close(s->rate[0], 1.0, 1e-12);
  assert_int_equal(s->multiplicity[0], 57);
  assert_close(s->rate[1], 2.0, 1e-12);
  assert_int_equal(s->multiplicity[1], 3);
  rc_spectrum_free(s);
  /* uniform: each clean class is a star: rates 1/M (n - 1 times), (1 + n)/M, and 0 */
  s = spectrum(ds, RC_RATES_UNIFORM, 1, 1, RC_SPECTRUM_AUTO);
  assert_int_equal(s->zero_modes, 3);
  assert_close(s->slow_rate, 1.0 / 60, 1e-14);
  assert_close(s->fast_rate, 31.0 / 60, 1e-13);
  rc_spectrum_free(s);
  rc_dataset_free(ds);
}

static void merge_rule(void **state) {
  (void)state;
  double r[] = {2.0, 1e-12, 1.0, 1.0 + 1e-10, 1.0 + 5e-9, 0.0, 0.5};
  long m[] = {1, 1, 2, 3, 1, 2, 4};
  rc_spectrum *s;
  rc_error err;
  assert_int_equal(rc_spectrum_from_raw(r, m, 7, &s, &err), RC_OK);
  /* tolerance 2e-9: 1e-12 and 0 are zero modes; 1 and 1+1e-10 merge; 1+5e-9 stays apart */
  assert_int_equal(s->zero_modes, 3);
  assert_int_equal(s->n_rates, 4);
  assert_close(s->rate[0], 0.5, 0);
  assert_int_equal(s->multiplicity[1], 5);
  assert_int_equal(s->multiplicity[2], 1);
  assert_close(s->slow_rate, 0.5, 0);
  assert_close(s->next_rate, s->rate[1], 0);
  assert_close(s->fast_rate, 2.0, 0);
  rc_spectrum_free(s);
}

/* issue 13: learning rates of very different sizes. Two classes of n = 10
 * clean samples and F = 2 frustrated ones (the case: a slow rate near
 * 1/6 beside a fast one near eta_x = 1e10 used to be merged into a second
 * zero mode). For eta ratios 1e-8 .. 1e8 either way round: one zero mode,
 * every mode counted, and the slow rate against the closed forms, evaluated
 * here in long double without cancellation:
 *   degree:  [(ex+ey) - sqrt((ex-ey)^2 + 4 ex ey n/(n+F))]/2 (README, Conventions)
 *   uniform: smaller eigenvalue of (1/M)[[ex, -ex], [-ey n, ey (n+F)]], M = 2n + 2F
 *            (the antisymmetric sector: clean x, labels y, frustrated samples at 0).
 * The K x K reduction must get it to 1e-10; the group reduction either to
 * 1e-5 or refuse the problem with a message (never a wrong answer). */
static long double slow_closed(rc_rate_scheme r, long double ex, long double ey, long double n, long double F) {
  if (r == RC_RATES_DEGREE) {
    long double root = sqrtl((ex - ey) * (ex - ey) + 4 * ex * ey * n / (n + F));
    return 2 * ex * ey * (F / (n + F)) / ((ex + ey) + root); /* product of the roots over their sum */
  }
  long double M = 2 * n + 2 * F, tr = (ex + ey * (n + F)) / M, det = (ex * ey * (n + F) - ex * ey * n) / (M * M);
  return 2 * det / (tr + sqrtl(tr * tr - 4 * det));
}

static void extreme_rate_ratios(void **state) {
  (void)state;
  size_t sz[1] = {10};
  rc_dataset *ds = tu_generate(2, sz, 1, "0-1:2", -1, RC_PATTERN_PAIR, 1);
  int group_solved = 0, group_refused = 0;
  for (int e = -8; e <= 8; e++) {
    for (int swap = 0; swap < 2; swap++) {
      double r = pow(10.0, e), ex = swap ? 1.0 : r, ey = swap ? r : 1.0;
      const rc_rate_scheme schemes[3] = {RC_RATES_DEGREE, RC_RATES_DEGREE, RC_RATES_UNIFORM};
      const rc_spectrum_method methods[3] = {RC_SPECTRUM_KK, RC_SPECTRUM_GROUP, RC_SPECTRUM_GROUP};
      for (int q = 0; q < 3; q++) {
        rc_minimal_params p = rc_minimal_params_default();
        p.rates = schemes[q];
        p.eta_x = ex;
        p.eta_y = ey;
        rc_spectrum *s = NULL;
        rc_error err;
        rc_error_clear(&err);
        rc_status st = rc_spectrum_compute(ds, &p, methods[q], &s, &err);
        if (q > 0 && st == RC_EINVAL) {
          if (!strstr(err.msg, "double precision cannot resolve it")) fail_msg("ratio %g: %s", r, err.msg);
          group_refused++;
          continue;
        }
        if (st) fail_msg("ratio %g, method %d: %s", r, q, err.msg);
        double want = (double)slow_closed(schemes[q], ex, ey, 10, 2);
        if (s->zero_modes != 1) fail_msg("ex %g ey %g method %d: %zu zero modes", ex, ey, q, s->zero_modes);
        assert_int_equal(total_modes(s), 24); /* N + K */
        double rel = fabs(s->slow_rate - want) / want;
        if (rel > (q == 0 ? 1e-10 : 1e-5))
          fail_msg("ex %g ey %g method %d: slow_rate %.17g, closed form %.17g (rel %.2g)", ex, ey, q, s->slow_rate, want, rel);
        if (!(s->fast_rate >= s->slow_rate)) fail_msg("fast below slow");
        if (q > 0) group_solved++;
        rc_spectrum_free(s);
      }
    }
  }
  assert_true(group_solved >= 20); /* the group reduction resolves moderate ratios */
  (void)group_refused;
  rc_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(kxk_matches_group),
      cmocka_unit_test(two_class_closed_form),
      cmocka_unit_test(no_frustration),
      cmocka_unit_test(merge_rule),
      cmocka_unit_test(extreme_rate_ratios),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
