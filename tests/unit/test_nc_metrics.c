/* test_nc_metrics.c: the neural-collapse metrics and rankme of docs/model.md
 * section 6.4 on states worked out by hand (a collapsed simplex, two classes
 * on a line, an orthogonal frame), their null rules, thread independence, the
 * moments form the reduced integrator uses against the particle form, and
 * the Tr Sigma_B(0) reference with a head. */
#include "testutil.h"

/* n clean samples per class for K classes, plus `frus` samples seen with classes 0 and 1 */
static rc_dataset *classes(size_t K, size_t n, size_t frus) {
  size_t N = K * n + frus, m = 0;
  rc_observation *obs = malloc((K * n + 2 * frus) * sizeof *obs);
  for (size_t c = 0; c < K; c++)
    for (size_t i = 0; i < n; i++) obs[m++] = (rc_observation){c * n + i, (uint32_t)c};
  for (size_t i = 0; i < frus; i++) {
    obs[m++] = (rc_observation){K * n + i, 0};
    obs[m++] = (rc_observation){K * n + i, 1};
  }
  rc_dataset *ds;
  rc_error err;
  assert_int_equal(rc_dataset_from_observations(obs, m, N, K, &ds, &err), RC_OK);
  free(obs);
  return ds;
}

/* the vertices of a regular simplex in R^d (d >= K): e_c - 1/K, scaled, shifted */
static void simplex(size_t K, size_t d, double scale, double shift, double *mu) {
  for (size_t c = 0; c < K; c++)
    for (size_t q = 0; q < d; q++) mu[c * d + q] = shift + scale * (q < K ? (q == c) - 1.0 / (double)K : 0.0);
}

static void collapsed_simplex(void **state) {
  (void)state;
  const size_t K = 4, n = 5, d = 6;
  rc_dataset *ds = classes(K, n, 0);
  rc_state *s;
  rc_error err;
  assert_int_equal(rc_state_alloc(K * n, K, d, &s, &err), RC_OK);
  simplex(K, d, 2.0, 0.3, s->y); /* labels at the class means */
  for (size_t i = 0; i < K * n; i++) memcpy(s->x + i * d, s->y + (i / n) * d, d * sizeof(double));
  rc_metrics_ref ref = rc_metrics_reference_data(ds, s, NULL);
  /* Tr Sigma_B of the simplex: |e_c - 1/K|^2 = 1 - 1/K per class, times 4 */
  assert_close(ref.trace_b0, 4.0 * (1.0 - 1.0 / (double)K), 1e-14);
  rc_metrics_row row;
  rc_metrics_compute(ds, s, &ref, 0, &row);
  for (int m = RC_M_FIRST_NC; m < RC_N_METRICS; m++) assert_true(row.valid[m]);
  assert_true(row.value[RC_M_NC1] == 0.0); /* the samples coincide with their class mean: exactly 0 */
  assert_close(row.value[RC_M_NC2_EQUINORM], 0.0, 1e-14);
  assert_close(row.value[RC_M_NC2_EQUIANGULAR], 0.0, 1e-14); /* cosines -1/(K-1) */
  assert_close(row.value[RC_M_NC2_COS_STD], 0.0, 1e-14);
  assert_close(row.value[RC_M_NC3], 0.0, 1e-28); /* labels equal to the class means */
  assert_true(row.value[RC_M_NC4] == 0.0);
  rc_state_free(s);
  rc_dataset_free(ds);
}

static void two_classes_on_a_line(void **state) {
  (void)state;
  /* means -1 and 1, samples +-s around them: Sigma_W = s^2, Sigma_B = 1, nc1 = s^2 / 2;
   * labels at -2, 2: nc3 = 0 (the same direction); K = 2: the angular nc2 null */
  rc_dataset *ds = classes(2, 2, 0);
  rc_state *s;
  rc_error err;
  const double sp = 0.3;
  assert_int_equal(rc_state_alloc(4, 2, 1, &s, &err), RC_OK);
  s->x[0] = -1 - sp, s->x[1] = -1 + sp, s->x[2] = 1 - sp, s->x[3] = 1 + sp;
  s->y[0] = -2, s->y[1] = 2;
  rc_metrics_ref ref = rc_metrics_reference_data(ds, s, NULL);
  assert_close(ref.trace_b0, 1.0, 1e-15);
  rc_metrics_row row;
  rc_metrics_compute(ds, s, &ref, 0, &row);
  assert_close(row.value[RC_M_NC1], sp * sp / 2, 1e-15);
  assert_close(row.value[RC_M_NC2_EQUINORM], 0.0, 1e-15);
  assert_false(row.valid[RC_M_NC2_EQUIANGULAR]);
  assert_false(row.valid[RC_M_NC2_COS_STD]);
  assert_close(row.value[RC_M_NC3], 0.0, 1e-30);
  assert_true(row.value[RC_M_NC4] == 0.0);
  /* the sample at -0.7 moved to 0.05, labels -2 and 1.9: class means -0.625 and 1, so its nearest mean is
   * class 0's (0.675 < 0.95) and its nearest label class 1's (1.85 < 2.05); the other three agree: nc4 = 1/4 */
  s->x[1] = 0.05;
  s->y[1] = 1.9;
  rc_metrics_compute(ds, s, &ref, 0, &row);
  assert_close(row.value[RC_M_NC4], 0.25, 0);
  rc_state_free(s);
  rc_dataset_free(ds);
}

static void rankme_orthogonal_frame(void **state) {
  (void)state;
  /* H = a I_3 (three samples, d = 3): s = (a, a, a), p = 1/3 + 1e-7, rankme = exp(-3 p log p) */
  rc_dataset *ds = classes(3, 1, 0);
  rc_state *s;
  rc_error err;
  assert_int_equal(rc_state_alloc(3, 3, 3, &s, &err), RC_OK);
  memset(s->z, 0, 18 * sizeof(double));
  for (int k = 0; k < 3; k++) s->x[k * 3 + k] = 2.5, s->y[k * 3 + k] = 1.0;
  rc_metrics_ref ref = rc_metrics_reference_data(ds, s, NULL);
  rc_metrics_row row;
  rc_metrics_compute(ds, s, &ref, 0, &row);
  const double p = 1.0 / 3.0 + 1e-7;
  assert_close(row.value[RC_M_RANKME], exp(-3 * p * log(p)), 1e-13);
  /* rank one: s = (|v| sqrt 3, 0, 0) -> p = (1 + 1e-7, 1e-7, 1e-7) */
  for (int k = 0; k < 3; k++)
    for (int q = 0; q < 3; q++) s->x[k * 3 + q] = q == 0 ? 1.0 : 0.0;
  rc_metrics_compute(ds, s, &ref, 0, &row);
  const double p1 = 1 + 1e-7, p0 = 1e-7;
  /* the zero singular values come out of the Gram matrix at round-off of s_max (section 6.4's accuracy note) */
  assert_close(row.value[RC_M_RANKME], exp(-p1 * log(p1) - 2 * p0 * log(p0)), 1e-5);
  /* every class mean coincides: Tr Sigma_B = 0 -> every nc column null, rankme defined */
  for (int m = RC_M_FIRST_NC; m < RC_M_RANKME; m++) assert_false(row.valid[m]);
  assert_true(row.valid[RC_M_RANKME]);
  /* all embeddings at the origin: rankme null */
  memset(s->x, 0, 9 * sizeof(double));
  rc_metrics_compute(ds, s, &ref, 0, &row);
  assert_false(row.valid[RC_M_RANKME]);
  rc_state_free(s);
  rc_dataset_free(ds);
}

static void null_rules(void **state) {
  (void)state;
  rc_error err;
  rc_metrics_row row;
  /* K = 1 */
  rc_dataset *ds1 = classes(1, 4, 0);
  rc_state *s1;
  assert_int_equal(rc_state_alloc(4, 1, 2, &s1, &err), RC_OK);
  for (size_t q = 0; q < 10; q++) s1->z[q] = sin((double)q + 1.0);
  rc_metrics_ref r1 = rc_metrics_reference_data(ds1, s1, NULL);
  rc_metrics_compute(ds1, s1, &r1, 0, &row);
  for (int m = RC_M_FIRST_NC; m < RC_M_RANKME; m++) assert_false(row.valid[m]);
  assert_true(row.valid[RC_M_RANKME]);
  rc_state_free(s1);
  rc_dataset_free(ds1);
  /* class 2 with frustrated samples only */
  rc_observation obs[] = {{0, 0}, {1, 0}, {2, 1}, {3, 1}, {4, 1}, {4, 2}};
  rc_dataset *ds;
  assert_int_equal(rc_dataset_from_observations(obs, 6, 0, 0, &ds, &err), RC_OK);
  rc_state *s;
  assert_int_equal(rc_state_alloc(5, 3, 2, &s, &err), RC_OK);
  for (size_t q = 0; q < 16; q++) s->z[q] = cos(1.7 * (double)q);
  rc_metrics_ref ref = rc_metrics_reference_data(ds, s, NULL);
  assert_true(ref.trace_b0 == 0.0);
  rc_metrics_compute(ds, s, &ref, 0, &row);
  for (int m = RC_M_FIRST_NC; m < RC_M_RANKME; m++) assert_false(row.valid[m]);
  assert_true(row.valid[RC_M_RANKME]);
  rc_state_free(s);
  rc_dataset_free(ds);
  /* Tr Sigma_B below 1e-24 of its initial value: null; just above: defined */
  ds = classes(3, 3, 2);
  assert_int_equal(rc_state_alloc(11, 3, 3, &s, &err), RC_OK);
  for (size_t q = 0; q < 42; q++) s->z[q] = sin(0.9 * (double)q);
  ref = rc_metrics_reference_data(ds, s, NULL);
  assert_true(ref.trace_b0 > 0);
  rc_metrics_compute(ds, s, &ref, 0, &row);
  for (int m = RC_M_FIRST_NC; m < RC_N_METRICS; m++) assert_true(row.valid[m]);
  rc_state_free(s);
  rc_dataset_free(ds);
}

static void trace_b_threshold(void **state) {
  (void)state;
  rc_error err;
  rc_metrics_row row;
  rc_dataset *ds = classes(3, 2, 0);
  rc_state *s;
  assert_int_equal(rc_state_alloc(6, 3, 2, &s, &err), RC_OK);
  for (size_t q = 0; q < 18; q++) s->z[q] = sin(0.9 * (double)q);
  rc_metrics_ref ref = rc_metrics_reference_data(ds, s, NULL);
  /* scale the samples about a point: Tr Sigma_B scales by a^2 */
  for (int k = 0; k < 2; k++) {
    const double a = k == 0 ? 1e-13 : 1e-11; /* a^2 = 1e-26 (null) and 1e-22 (defined) */
    rc_state *t = rc_state_clone(s);
    for (size_t q = 0; q < 12; q++) t->x[q] = 5.0 + a * s->x[q];
    rc_metrics_compute(ds, t, &ref, 0, &row);
    for (int m = RC_M_NC1; m <= RC_M_NC4; m++) assert_int_equal(row.valid[m], k);
    rc_state_free(t);
  }
  rc_state_free(s);
  rc_dataset_free(ds);
}

static void independent_of_threads(void **state) {
  (void)state;
  /* many chunks and blocks: N = 20000 > 16 blocks of 256 */
  const size_t K = 5, n = 3900, d = 7;
  rc_dataset *ds = classes(K, n, 500);
  rc_state *s;
  rc_error err;
  assert_int_equal(rc_state_alloc(ds->n_samples, K, d, &s, &err), RC_OK);
  for (size_t q = 0; q < (ds->n_samples + K) * d; q++) s->z[q] = sin(0.37 * (double)q) + 0.01 * cos(3.1 * (double)q);
  for (size_t i = 0; i < K * n; i++) s->x[i * d + (i / n) % d] += 1.5; /* class structure */
  rc_metrics_ref ref = rc_metrics_reference_data(ds, s, NULL);
  rc_metrics_row r1, r;
  rc_metrics_options o = {RC_METRICS_ALL, 1};
  rc_metrics_compute_opt(ds, s, &ref, 0, &o, &r1);
  for (int m = RC_M_FIRST_NC; m < RC_N_METRICS; m++) assert_true(r1.valid[m]);
  for (int th = 2; th <= 4; th++) {
    o.threads = th;
    rc_metrics_compute_opt(ds, s, &ref, 0, &o, &r);
    for (int m = RC_M_FIRST_NC; m < RC_N_METRICS; m++)
      if (memcmp(&r.value[m], &r1.value[m], sizeof(double)) != 0)
        fail_msg("%s on %d threads: %.17g, on one %.17g", rc_metric_names[m], th, r.value[m], r1.value[m]);
  }
  /* --metrics: one nc column alone gives the same value */
  o.threads = 2;
  o.mask = 1u << RC_M_NC1;
  rc_metrics_compute_opt(ds, s, &ref, 0, &o, &r);
  assert_true(r.valid[RC_M_NC1] && r.value[RC_M_NC1] == r1.value[RC_M_NC1]);
  for (int m = 0; m < RC_N_METRICS; m++)
    if (m != RC_M_NC1) assert_false(r.valid[m]);
  rc_state_free(s);
  rc_dataset_free(ds);
}

/* the moments form (the reduced integrator's) against the particle form on the same state; K = 4, d = 5
 * takes nc1 through the within-class scatter (2 r > d), K = 3, d = 8 through the projections */
static void moments_vs_particles(size_t K, size_t d) {
  const size_t n = 9, F = 6;
  rc_dataset *ds = classes(K, n, F);
  const size_t N = ds->n_samples;
  rc_state *s;
  rc_error err;
  assert_int_equal(rc_state_alloc(N, K, d, &s, &err), RC_OK);
  for (size_t q = 0; q < (N + K) * d; q++) s->z[q] = sin(1.3 * (double)q * (double)q);
  rc_metrics_ref ref = rc_metrics_reference_data(ds, s, NULL);
  rc_metrics_row a, b;
  rc_metrics_compute(ds, s, &ref, 0, &a);
  double *cnt = calloc(K, sizeof *cnt), *mu = calloc(K * d, sizeof *mu), *SW = calloc(d * d, sizeof *SW),
         *G = calloc(d * d, sizeof *G);
  for (size_t i = 0; i < N; i++) {
    const int c = ds->clean_label[i];
    for (size_t p = 0; p < d; p++)
      for (size_t q = 0; q < d; q++) G[p * d + q] += s->x[i * d + p] * s->x[i * d + q];
    if (c < 0) continue;
    cnt[c] += 1;
    for (size_t q = 0; q < d; q++) mu[c * d + q] += s->x[i * d + q];
  }
  for (size_t c = 0; c < K; c++)
    for (size_t q = 0; q < d; q++) mu[c * d + q] /= cnt[c];
  for (size_t i = 0; i < N; i++) {
    const int c = ds->clean_label[i];
    if (c < 0) continue;
    for (size_t p = 0; p < d; p++)
      for (size_t q = 0; q < d; q++)
        SW[p * d + q] += (s->x[i * d + p] - mu[c * d + p]) * (s->x[i * d + q] - mu[c * d + q]);
  }
  for (int m = 0; m < RC_N_METRICS; m++) b.valid[m] = 0, b.value[m] = NAN;
  rc_nc_metrics_moments(K, d, cnt, mu, SW, G, N, s->y, &ref, RC_METRICS_ALL, &b);
  for (int m = RC_M_FIRST_NC; m < RC_N_METRICS; m++) {
    if (m == RC_M_NC4) {
      assert_false(b.valid[m]);
      continue;
    }
    assert_true(a.valid[m] && b.valid[m]);
    assert_close(b.value[m], a.value[m], 1e-11 * fabs(a.value[m]));
  }
  free(cnt);
  free(mu);
  free(SW);
  free(G);
  rc_state_free(s);
  rc_dataset_free(ds);
}

static void moments_equal_particles(void **state) {
  (void)state;
  moments_vs_particles(4, 5);
  moments_vs_particles(3, 8);
}

/* rc_metrics_reference_data with a head: Tr Sigma_B(0) of P x_i */
static void reference_with_head(void **state) {
  (void)state;
  rc_dataset *ds = classes(3, 4, 1);
  rc_state *s, *v;
  rc_error err;
  const size_t N = ds->n_samples, d = 3;
  assert_int_equal(rc_state_alloc(N, 3, d, &s, &err), RC_OK);
  assert_int_equal(rc_state_alloc(N, 3, d, &v, &err), RC_OK);
  for (size_t q = 0; q < (N + 3) * d; q++) s->z[q] = cos(0.77 * (double)q);
  const double P[9] = {2, 0.5, 0, 0, 1, -1, 0.3, 0, 0.2};
  for (size_t i = 0; i < N; i++)
    for (size_t a = 0; a < d; a++) {
      double t = 0;
      for (size_t b = 0; b < d; b++) t += P[a * d + b] * s->x[i * d + b];
      v->x[i * d + a] = t;
    }
  rc_metrics_ref rp = rc_metrics_reference_data(ds, s, P), rv = rc_metrics_reference_data(ds, v, NULL);
  assert_close(rp.trace_b0, rv.trace_b0, 1e-14 * rv.trace_b0);
  rc_metrics_ref r0 = rc_metrics_reference_data(ds, s, NULL);
  assert_true(fabs(r0.trace_b0 - rv.trace_b0) > 1e-3); /* the head matters */
  rc_state_free(s);
  rc_state_free(v);
  rc_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(collapsed_simplex),      cmocka_unit_test(two_classes_on_a_line),
      cmocka_unit_test(rankme_orthogonal_frame), cmocka_unit_test(null_rules),
      cmocka_unit_test(trace_b_threshold),      cmocka_unit_test(independent_of_threads),
      cmocka_unit_test(moments_equal_particles), cmocka_unit_test(reference_with_head),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
