/* test_metrics.c: the metrics of MODEL.md section 2 on states worked out by
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hand_worked_state),
      cmocka_unit_test(effective_rank_and_nulls),
      cmocka_unit_test(summaries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
