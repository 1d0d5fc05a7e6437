/* test_metrics.c: the metrics of docs/model.md section 2 on states worked out by
 * hand, and the trajectory summaries on curves with known answers. */
#include "testutil.h"

static rc_dataset *four_samples(void) {
  /* samples: 0 clean class 0, 1 clean class 1, 2 frustrated {0,1}, 3 frustrated {0,1} */
  rc_observation obs[] = {{0, 0}, {1, 1}, {2, 0}, {2, 1}, {3, 0}, {3, 1}};
  rc_dataset *ds;
  rc_error err;
  assert_int_equal(rc_dataset_from_observations(obs, 6, 0, 0, &ds, &err), RC_OK);
  return ds;
}

static void hand_worked_state(void **state) {
  (void)state;
  rc_dataset *ds = four_samples();
  rc_state *s;
  rc_error err;
  assert_int_equal(rc_state_alloc(4, 2, 1, &s, &err), RC_OK);
  s->y[0] = 0.0;
  s->y[1] = 1.0;
  s->x[0] = 0.2; /* right, margin 0.8 - 0.2 */
  s->x[1] = 0.4; /* wrong: own distance 0.6, other 0.4 */
  s->x[2] = 0.5; /* tie: wrong */
  s->x[3] = 0.7; /* nearest is 1, observed: right */
  rc_metrics_ref ref = rc_metrics_reference(s);
  assert_close(ref.d0, 1.0, 0);
  rc_metrics_row row;
  rc_metrics_compute(ds, s, &ref, 3.0, &row);
  assert_close(row.t, 3.0, 0);
  assert_close(row.value[RC_M_ACCURACY], 0.5, 0);
  assert_close(row.value[RC_M_ACCURACY_FRUSTRATED], 0.5, 0);
  assert_close(row.value[RC_M_MARGIN], (0.6 + -0.2) / 2, 1e-15);
  assert_close(row.value[RC_M_WITHIN_CLASS_SPREAD], (0.04 + 0.36) / 2, 1e-15);
  /* L = (1/2M) sum A |x - y|^2, M = 6 */
  assert_close(row.value[RC_M_LOSS], (0.04 + 0.36 + 0.25 + 0.25 + 0.49 + 0.09) / 12, 1e-15);
  assert_close(row.value[RC_M_MIN_LABEL_DISTANCE], 1.0, 0);
  assert_close(row.value[RC_M_MEAN_LABEL_DISTANCE], 1.0, 0);
  assert_close(row.value[RC_M_LABEL_EFFECTIVE_RANK], 1.0, 1e-15);
  for (int m = 0; m < RC_N_METRICS_BASE; m++) assert_true(row.valid[m]);
  /* section 6.0: y = (0, 1): D / rms = 1 / sqrt(1/2); label 0 at the origin has no direction */
  assert_true(row.valid[RC_M_RELATIVE_LABEL_DISTANCE]);
  assert_close(row.value[RC_M_RELATIVE_LABEL_DISTANCE], sqrt(2.0), 1e-15);
  assert_false(row.valid[RC_M_ANGULAR_LABEL_DISTANCE]);
  /* collapsed labels: every nearest label is a tie, so all wrong; rank null */
  s->y[1] = 0.0;
  rc_metrics_compute(ds, s, &ref, 4.0, &row);
  assert_close(row.value[RC_M_ACCURACY], 0.0, 0);
  assert_close(row.value[RC_M_ACCURACY_FRUSTRATED], 0.0, 0);
  assert_close(row.value[RC_M_MIN_LABEL_DISTANCE], 0.0, 0);
  assert_false(row.valid[RC_M_LABEL_EFFECTIVE_RANK]);
  assert_close(row.value[RC_M_MARGIN], 0.0, 1e-15);
  rc_state_free(s);
  rc_dataset_free(ds);
}

static void effective_rank_and_nulls(void **state) {
  (void)state;
  /* three labels at orthonormal vectors: the centred Gram matrix has
   * eigenvalues 1, 1, 0, so the participation ratio is 2 */
  rc_observation obs[] = {{0, 0}, {1, 1}, {2, 2}};
  rc_dataset *ds;
  rc_error err;
  assert_int_equal(rc_dataset_from_observations(obs, 3, 0, 0, &ds, &err), RC_OK);
  rc_state *s;
  assert_int_equal(rc_state_alloc(3, 3, 3, &s, &err), RC_OK);
  for (int c = 0; c < 3; c++) s->y[c * 3 + c] = 1.0;
  rc_metrics_ref ref = rc_metrics_reference(s);
  rc_metrics_row row;
  rc_metrics_compute(ds, s, &ref, 0, &row);
  assert_close(row.value[RC_M_LABEL_EFFECTIVE_RANK], 2.0, 1e-14);
  assert_false(row.valid[RC_M_ACCURACY_FRUSTRATED]); /* no frustrated sample: null */
  assert_close(row.value[RC_M_MIN_LABEL_DISTANCE], sqrt(2.0), 1e-15);
  rc_state_free(s);
  rc_dataset_free(ds);
}

static void summaries(void **state) {
  (void)state;
  double t[11], D[11];
  for (int k = 0; k <= 10; k++) {
    t[k] = k;
    D[k] = 3.0 * exp(-0.7 * k);
  }
  int found;
  /* log D is linear in t, so interpolation is exact: 0.7 t = log(100) */
  assert_close(rc_collapse_time(t, D, 11, 1e-2, &found), log(100.0) / 0.7, 1e-12);
  assert_true(found);
  assert_close(rc_fitted_decay_rate(t, D, 11, 2.0, &found), 0.7, 1e-12);
  assert_true(found);
  rc_collapse_time(t, D, 11, 1e-5, &found); /* exp(-7) > 1e-5: never */
  assert_false(found);
  rc_fitted_decay_rate(t, D, 11, 8.5, &found); /* only 2 points */
  assert_false(found);
  /* a curve that does not decay has no decay rate (less than 1% over the window) */
  for (int k = 0; k <= 10; k++) D[k] = 1.0 + 0.5 * exp(-3.0 * k);
  rc_fitted_decay_rate(t, D, 11, 5.0, &found);
  assert_false(found);
  for (int k = 0; k <= 10; k++) D[k] = 1.0 + 0.01 * k; /* growing */
  rc_fitted_decay_rate(t, D, 11, 0.0, &found);
  assert_false(found);
  /* points with D <= 1e-10 D(0) are left out of the fit */
  for (int k = 0; k <= 10; k++) D[k] = k < 6 ? exp(-2.0 * k) : 1e-300;
  assert_close(rc_fitted_decay_rate(t, D, 11, 0.0, &found), 2.0, 1e-12);
}

/* ---- the BLAS metrics against straightforward loops ---- */

/* Reference: every distance |x_i - y_c|^2 by direct differences, the strict
 * nearest label, ties within 1e-12 sqrt(|x_i|^2 + max_c |y_c|^2) on the
 * distances, sums in sample order. Independent of the library's GEMM path. */
static void loops_metrics(const rc_dataset *ds, const rc_state *s, const rc_metrics_ref *ref, rc_metrics_row *row) {
  const size_t N = ds->n_samples, K = ds->n_classes, d = s->d;
  double *dist = malloc(K * sizeof *dist), maxy2 = 0;
  for (size_t c = 0; c < K; c++) {
    double b = 0;
    for (size_t q = 0; q < d; q++) b += s->y[c * d + q] * s->y[c * d + q];
    if (b > maxy2) maxy2 = b;
  }
  double loss = 0, margin = 0, spread = 0;
  size_t nc = 0, nf = 0, ok = 0, okf = 0;
  for (size_t i = 0; i < N; i++) {
    const double *xi = s->x + i * d;
    double x2 = 0;
    for (size_t q = 0; q < d; q++) x2 += xi[q] * xi[q];
    for (size_t c = 0; c < K; c++) {
      double a = 0;
      for (size_t q = 0; q < d; q++) a += (xi[q] - s->y[c * d + q]) * (xi[q] - s->y[c * d + q]);
      dist[c] = a;
    }
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) loss += ds->counts[j] * dist[ds->labels[j]];
    size_t best = 0;
    for (size_t c = 1; c < K; c++)
      if (dist[c] < dist[best]) best = c;
    double tie = 1e-12 * sqrt(x2 + maxy2);
    int unique = 1;
    for (size_t c = 0; c < K; c++)
      if (c != best && sqrt(dist[c]) - sqrt(dist[best]) <= tie) unique = 0;
    int own = ds->clean_label[i];
    if (own >= 0) {
      nc++;
      ok += unique && best == (size_t)own;
      double other = INFINITY;
      for (size_t c = 0; c < K; c++)
        if (c != (size_t)own && dist[c] < other) other = dist[c];
      margin += sqrt(other) - sqrt(dist[own]);
      spread += dist[own];
    } else {
      nf++;
      if (unique)
        for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) okf += ds->labels[j] == best;
    }
  }
  free(dist);
  row->value[RC_M_LOSS] = loss / (2 * ds->total);
  row->value[RC_M_ACCURACY] = nc ? (double)ok / (double)nc : NAN;
  row->value[RC_M_ACCURACY_FRUSTRATED] = nf ? (double)okf / (double)nf : NAN;
  row->value[RC_M_MARGIN] = nc ? margin / (double)nc / ref->d0 : NAN;
  row->value[RC_M_WITHIN_CLASS_SPREAD] = nc ? spread / (double)nc : NAN;
}

static void assert_matches_loops(const rc_dataset *ds, const rc_state *s, const char *what) {
  rc_metrics_ref ref = rc_metrics_reference(s);
  ref.d0 = 1.0; /* collapsed cases have D(0) = 0 here */
  rc_metrics_row got, want;
  rc_metrics_compute(ds, s, &ref, 0, &got);
  loops_metrics(ds, s, &ref, &want);
  /* counts exactly; sums up to their order (chunks of samples against one running sum) */
  if (got.value[RC_M_ACCURACY] != want.value[RC_M_ACCURACY] ||
      got.value[RC_M_ACCURACY_FRUSTRATED] != want.value[RC_M_ACCURACY_FRUSTRATED])
    fail_msg("%s: accuracy %.17g / %.17g, loops %.17g / %.17g", what, got.value[RC_M_ACCURACY],
             got.value[RC_M_ACCURACY_FRUSTRATED], want.value[RC_M_ACCURACY], want.value[RC_M_ACCURACY_FRUSTRATED]);
  const int sums[] = {RC_M_LOSS, RC_M_MARGIN, RC_M_WITHIN_CLASS_SPREAD};
  for (int k = 0; k < 3; k++) {
    double g = got.value[sums[k]], w = want.value[sums[k]];
    if (!(fabs(g - w) <= 1e-12 * fabs(w) + 1e-300))
      fail_msg("%s: %s = %.17g, loops %.17g", what, rc_metric_names[sums[k]], g, w);
  }
}

/* Random labels; samples placed near ties: on the bisector of two labels
 * moved by +-delta along their difference, for deltas from 0 to well above
 * the tie tolerance, everything shifted by a common offset. */
static void fill_adversarial(rc_state *s, const rc_dataset *ds, double offset, double label_scale, unsigned seed) {
  const size_t N = ds->n_samples, K = ds->n_classes, d = s->d;
  srand(seed);
  for (size_t c = 0; c < K; c++)
    for (size_t q = 0; q < d; q++) s->y[c * d + q] = offset + label_scale * ((double)rand() / RAND_MAX - 0.5);
  /* close pairs: label 2j+1 within 1e-7 .. 1e-10 (times the scale) of label 2j, resolvable but
   * closer than the GEMM's rounding of |x~|^2 - 2 x~.y~ + |y~|^2 */
  for (size_t c = 1; c < K; c += 2) {
    const double close[] = {1e-7, 1e-8, 1e-9, 1e-10};
    for (size_t q = 0; q < d; q++)
      s->y[c * d + q] = s->y[(c - 1) * d + q] + close[c / 2 % 4] * label_scale * (q % 2 ? 1.0 : -0.5);
  }
  const double deltas[] = {0.0, 1e-16, 1e-14, 1e-13, 3e-12, 1e-11, 1e-9, 1e-6, 1e-3};
  for (size_t i = 0; i < N; i++) {
    size_t a = (size_t)rand() % K, b = (size_t)rand() % K;
    if (b == a) b = (a + 1) % K;
    double delta = deltas[i % 9] * (i % 2 ? 1.0 : -1.0) * label_scale;
    for (size_t q = 0; q < d; q++) {
      double ya = s->y[a * d + q], yb = s->y[b * d + q];
      s->x[i * d + q] = 0.5 * (ya + yb) + delta * (ya - yb);
    }
    if (i % 7 == 3) /* some samples sit on a label */
      for (size_t q = 0; q < d; q++) s->x[i * d + q] = s->y[a * d + q];
  }
}

static void blas_metrics_equal_loops(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(7, 90, 0.2, RC_PATTERN_RANDOM, 3); /* N > one chunk of 256 */
  const size_t dims[] = {1, 3, 16, 64};
  for (size_t k = 0; k < 4; k++) {
    rc_state *s;
    rc_error err;
    assert_int_equal(rc_state_alloc(ds->n_samples, ds->n_classes, dims[k], &s, &err), RC_OK);
    const double offsets[] = {0.0, 1.0, 1e6, -1e9};
    const double scales[] = {1.0, 1e-8, 1e3};
    char what[128];
    for (int o = 0; o < 4; o++)
      for (int sc = 0; sc < 3; sc++) {
        fill_adversarial(s, ds, offsets[o], scales[sc], (unsigned)(17 * k + 5 * o + sc));
        snprintf(what, sizeof what, "d = %zu, offset %g, label scale %g", dims[k], offsets[o], scales[sc]);
        assert_matches_loops(ds, s, what);
      }
    /* collapsed: every label the same point up to round-off of the state's size, samples on it */
    srand(99);
    for (size_t i = 0; i < (ds->n_samples + ds->n_classes) * dims[k]; i++)
      s->z[i] = 0.3 + 1e-16 * ((double)rand() / RAND_MAX - 0.5);
    snprintf(what, sizeof what, "d = %zu, collapsed", dims[k]);
    assert_matches_loops(ds, s, what);
    rc_metrics_row row;
    rc_metrics_ref ref = {1.0, 1.0, 0.0};
    rc_metrics_compute(ds, s, &ref, 0, &row);
    assert_true(row.value[RC_M_ACCURACY] == 0.0); /* every nearest label is a tie */
    /* exactly coinciding labels with huge offsets */
    for (size_t i = 0; i < (ds->n_samples + ds->n_classes) * dims[k]; i++) s->z[i] = 1e8 + (double)(i % 3);
    for (size_t c = 0; c < ds->n_classes; c++)
      for (size_t q = 0; q < dims[k]; q++) s->y[c * dims[k] + q] = 1e8;
    snprintf(what, sizeof what, "d = %zu, coinciding labels at 1e8", dims[k]);
    assert_matches_loops(ds, s, what);
    rc_state_free(s);
  }
  rc_dataset_free(ds);
}

/* Every value bit for bit the same on 1, 2 and 3 threads. */
static void metrics_independent_of_threads(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(11, 300, 0.1, RC_PATTERN_RANDOM, 5);
  rc_state *s = tu_init(ds, 24, 7);
  rc_metrics_ref ref = rc_metrics_reference(s);
  for (size_t i = 0; i < s->n * s->d; i++) s->x[i] = 0.7 * s->x[i] + 0.3 * s->y[(i / s->d % s->k) * s->d + i % s->d];
  rc_metrics_row r1, r;
  rc_metrics_options o = {RC_METRICS_ALL, 1};
  rc_metrics_compute_opt(ds, s, &ref, 1.0, &o, &r1);
  for (int th = 2; th <= 3; th++) {
    o.threads = th;
    rc_metrics_compute_opt(ds, s, &ref, 1.0, &o, &r);
    for (int m = 0; m < RC_N_METRICS; m++) {
      assert_int_equal(r.valid[m], r1.valid[m]);
      if (memcmp(&r.value[m], &r1.value[m], sizeof(double)) != 0)
        fail_msg("%s on %d threads: %.17g, on one %.17g", rc_metric_names[m], th, r.value[m], r1.value[m]);
    }
  }
  rc_state_free(s);
  rc_dataset_free(ds);
}

/* --metrics: the chosen ones equal those of a full computation, the rest null. */
static void chosen_metrics(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(4, 70, 0.1, RC_PATTERN_RING, 2);
  rc_state *s = tu_init(ds, 8, 3);
  rc_metrics_ref ref = rc_metrics_reference(s);
  rc_metrics_row all, some;
  rc_metrics_compute(ds, s, &ref, 0, &all);
  unsigned mask;
  rc_error err;
  assert_int_equal(rc_metrics_parse("margin,loss,label_effective_rank", &mask, &err), RC_OK);
  assert_int_equal(mask, (1u << RC_M_MARGIN) | (1u << RC_M_LOSS) | (1u << RC_M_LABEL_EFFECTIVE_RANK));
  rc_metrics_options o = {mask, 0};
  rc_metrics_compute_opt(ds, s, &ref, 0, &o, &some);
  for (int m = 0; m < RC_N_METRICS; m++) {
    if (mask >> m & 1) {
      assert_true(some.valid[m]);
      assert_memory_equal(&some.value[m], &all.value[m], sizeof(double));
    } else {
      assert_false(some.valid[m]);
    }
  }
  assert_int_equal(rc_metrics_parse("all", &mask, &err), RC_OK);
  assert_int_equal(mask, RC_METRICS_ALL);
  assert_int_equal(rc_metrics_parse("loss,acuracy", &mask, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "unknown metric 'acuracy'"));
  assert_non_null(strstr(err.msg, "within_class_spread"));
  assert_int_equal(rc_metrics_parse("loss,", &mask, &err), RC_EINVAL);
  assert_int_equal(rc_metrics_parse("", &mask, &err), RC_EINVAL);
  rc_state_free(s);
  rc_dataset_free(ds);
}

/* After a complete collapse every integrator reports the same accuracy:
 * the labels are round-off apart, so every nearest label is a tie (issue
 * 13: gd and rk45 used to say 1 where exact said 0). */
static void collapsed_accuracy_agrees_across_integrators(void **state) {
  (void)state;
  const rc_integrator integ[] = {RC_INTEGRATOR_EXACT, RC_INTEGRATOR_RK45, RC_INTEGRATOR_GD};
  size_t sizes[1] = {50};
  double acc[3], accf[3];
  for (int k = 0; k < 3; k++) {
    rc_run_config cfg = rc_run_config_default();
    cfg.data.n_classes = 2;
    cfg.data.class_sizes = sizes;
    cfg.data.n_class_sizes = 1;
    cfg.data.has_frustration = 1;
    cfg.data.frustration = 0.1;
    cfg.t_end = 1e5;
    cfg.points = 10;
    cfg.integrator = integ[k];
    cfg.dt = 0.5;
    rc_run_result *r;
    rc_error err;
    if (rc_run_execute(&cfg, &r, &err)) fail_msg("%s: %s", rc_integrator_name(integ[k]), err.msg);
    const rc_metrics_row *last = &r->rows[r->n_rows - 1];
    assert_true(last->value[RC_M_MIN_LABEL_DISTANCE] < 1e-14); /* collapsed to round-off */
    acc[k] = last->value[RC_M_ACCURACY];
    accf[k] = last->value[RC_M_ACCURACY_FRUSTRATED];
    rc_run_result_free(r);
  }
  for (int k = 0; k < 3; k++) {
    if (acc[k] != 0.0 || accf[k] != 0.0)
      fail_msg("%s: accuracy %g, accuracy_frustrated %g after the collapse (exact %g, %g)", rc_integrator_name(integ[k]),
               acc[k], accf[k], acc[0], accf[0]);
  }
}

/* collapse_time of the exact integrator does not depend on the recorded
 * times (2, 10 or 80 of them, same t_end), and agrees with an independent
 * dense reference: rk45 (tolerance 1e-11) recorded every 0.2% of the time
 * near the crossing, log D interpolated between neighbours. */
static rc_run_result *collapse_run(rc_integrator integ, size_t points, const double *times, size_t n_times,
                                   size_t *sizes) {
  rc_run_config cfg = rc_run_config_default();
  cfg.data.n_classes = 3;
  cfg.data.class_sizes = sizes;
  cfg.data.n_class_sizes = 1;
  cfg.data.has_frustration = 1;
  cfg.data.frustration = 0.05;
  cfg.data.pattern = RC_PATTERN_RANDOM;
  cfg.dim = 8;
  cfg.integrator = integ;
  cfg.points = points;
  cfg.t_end = times ? 0.0 : 400.0; /* with recorded times, the last one is the end (one end-time rule) */
  cfg.times = times;
  cfg.n_times = n_times;
  cfg.rtol = 1e-11;
  cfg.atol = 1e-14;
  rc_run_result *r;
  rc_error err;
  if (rc_run_execute(&cfg, &r, &err)) fail_msg("%s: %s", rc_integrator_name(integ), err.msg);
  return r;
}

static void exact_collapse_time_any_grid(void **state) {
  (void)state;
  size_t sizes[1] = {60};
  const size_t points[] = {2, 10, 80};
  double ct[3];
  int ok_exact[3];
  for (int k = 0; k < 3; k++) {
    rc_run_result *r = collapse_run(RC_INTEGRATOR_EXACT, points[k], NULL, 0, sizes);
    assert_true(r->has_collapse_time);
    ct[k] = r->collapse_time;
    ok_exact[k] = r->collapse_time_exact;
    rc_run_result_free(r);
  }
  for (int k = 1; k < 3; k++)
    if (fabs(ct[k] - ct[0]) > 1e-12 * ct[0])
      fail_msg("collapse_time with %zu recorded times %.17g, with 2: %.17g", points[k], ct[k], ct[0]);
  for (int k = 0; k < 3; k++) assert_true(ok_exact[k]);
  /* the interpolated summary of rk45 on a coarse grid is not that accurate; on a dense one it is */
  const size_t n = 201;
  double *t = malloc(n * sizeof *t);
  t[0] = 0;
  for (size_t k = 1; k < n; k++) t[k] = ct[0] * (0.8 + 0.4 * (double)(k - 1) / (double)(n - 2));
  rc_run_result *r = collapse_run(RC_INTEGRATOR_RK45, 0, t, n, sizes);
  assert_true(r->has_collapse_time);
  assert_false(r->collapse_time_exact);
  if (fabs(r->collapse_time - ct[0]) > 1e-7 * ct[0])
    fail_msg("exact collapse_time %.17g, dense rk45 %.17g", ct[0], r->collapse_time);
  rc_run_result_free(r);
  free(t);
  /* never collapsing before t_end: null */
  rc_run_config cfg = rc_run_config_default();
  cfg.data.n_classes = 3;
  cfg.data.class_sizes = sizes;
  cfg.data.n_class_sizes = 1;
  cfg.t_end = 50.0; /* no frustration: the labels never meet */
  rc_run_result *r0;
  rc_error err;
  assert_int_equal(rc_run_execute(&cfg, &r0, &err), RC_OK);
  assert_false(r0->has_collapse_time);
  rc_run_result_free(r0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hand_worked_state),
      cmocka_unit_test(effective_rank_and_nulls),
      cmocka_unit_test(summaries),
      cmocka_unit_test(blas_metrics_equal_loops),
      cmocka_unit_test(metrics_independent_of_threads),
      cmocka_unit_test(chosen_metrics),
      cmocka_unit_test(collapsed_accuracy_agrees_across_integrators),
      cmocka_unit_test(exact_collapse_time_any_grid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
