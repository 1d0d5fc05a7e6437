/* test_teacher.c: the linear teacher-student model (docs/model.md section 4) and
 * the paper's claim 6 on it, at sizes that run in well under a second each:
 * the data generator against its definition; over-parameterized (D >= 4N)
 * f = 0 never collapses and fits every sample; `conflict` frustration gives
 * an early rise of accuracy, then a collapse on a slow timescale that tracks
 * the minimal model's slow rate and grows as f shrinks; stop-gradient
 * (siam-sg) keeps the classes apart where siam and minimal collapse; the
 * under-parameterized regime (D + K <= N) collapses at f = 0; `flip` at
 * D >= N frustrates nothing; the kernel's top eigenvalue follows
 * (1 + sqrt(N/D))^2. The one-step comparison with NumPy is in
 * tests/cli/test_ts_reference.py. */
#include "repcollapse/run.h"
#include "repcollapse/teacher.h"
#include "testutil.h"

static rc_run_result *run_ts(size_t N, size_t D, size_t K, double f, rc_frustration_mode mode, const char *model,
                                double dt, size_t steps, unsigned long seed) {
  /* the teacher-student task: the run pipeline with the linear encoder on teacher inputs */
  rc_run_config c = rc_run_config_default();
  c.encoder = RC_ENCODER_LINEAR;
  c.inputs = RC_RUN_INPUTS_TEACHER;
  c.ts.n_samples = N;
  c.ts.input_dim = D;
  c.ts.n_classes = K;
  c.ts.frustration = f;
  c.ts.mode = mode;
  c.ts.n_test = 200;
  c.ts.seed = seed;
  c.init.seed = seed;
  c.dim = 8;
  c.integrator = RC_INTEGRATOR_GD;
  c.dt = dt;
  c.steps = steps;
  c.points = 60;
  rc_error err;
  if (rc_model_preset(model, &c.terms, &err)) fail_msg("%s", err.msg);
  rc_run_result *r = NULL;
  if (rc_run_execute(&c, &r, &err)) fail_msg("run: %s", err.msg);
  return r;
}

static double D_at(const rc_run_result *r, size_t k) { return r->rows[k].value[RC_M_MIN_LABEL_DISTANCE]; }
static double D_ratio(const rc_run_result *r) { return D_at(r, r->n_rows - 1) / D_at(r, 0); }
/* D at the last time over D at the first recorded time >= half of it: near 1 once settled */
static double settled(const rc_run_result *r) {
  size_t k = 0;
  while (r->rows[k].t < r->rows[r->n_rows - 1].t / 2) k++;
  return D_at(r, r->n_rows - 1) / D_at(r, k);
}

static void data_follows_its_definition(void **state) {
  (void)state;
  rc_ts_data_spec s = rc_ts_data_spec_default();
  s.n_samples = 50;
  s.input_dim = 30;
  s.n_classes = 3;
  s.frustration = 0.2;
  s.n_test = 10;
  rc_ts_data *a = NULL, *b = NULL;
  rc_error err;
  assert_int_equal(rc_ts_data_generate(&s, &a, &err), RC_OK);
  assert_int_equal(rc_ts_data_generate(&s, &b, &err), RC_OK);
  assert_memory_equal(a->U, b->U, 50 * 30 * sizeof(double)); /* seeded */
  assert_int_equal(a->n_altered, 10);
  assert_int_equal(a->ds->n_frustrated, 10); /* conflict: frustrated in the sense of section 1 */
  assert_int_equal((size_t)a->ds->total, 60);
  for (size_t i = 0; i < 50; i++) { /* every sample keeps its teacher label */
    int has = 0;
    for (size_t j = a->ds->row_ptr[i]; j < a->ds->row_ptr[i + 1]; j++) has |= a->ds->labels[j] == a->teacher_label[i];
    assert_true(has);
  }
  rc_ts_data_free(b);
  s.mode = RC_FRUSTRATION_FLIP;
  assert_int_equal(rc_ts_data_generate(&s, &b, &err), RC_OK);
  size_t moved = 0;
  for (size_t i = 0; i < 50; i++) moved += b->ds->clean_label[i] != (int32_t)b->teacher_label[i];
  assert_int_equal(moved, 10);
  assert_int_equal(b->ds->n_frustrated, 0); /* flip: clean samples */
  rc_ts_data_free(b);
  s.teacher = RC_TEACHER_MIXTURE;
  s.frustration = 0;
  assert_int_equal(rc_ts_data_generate(&s, &b, &err), RC_OK);
  for (size_t i = 0; i < 50; i++) assert_int_equal(b->teacher_label[i], i % 3); /* balanced components */
  rc_ts_data_free(a);
  rc_ts_data_free(b);
}

static void kernel_edge_follows_marchenko_pastur(void **state) {
  (void)state;
  rc_ts_data_spec s = rc_ts_data_spec_default();
  s.n_samples = 400;
  s.input_dim = 100;
  s.n_test = 0;
  rc_ts_data *d = NULL;
  rc_error err;
  assert_int_equal(rc_ts_data_generate(&s, &d, &err), RC_OK);
  const double top = rc_ts_kernel_top(d), edge = 9.0; /* (1 + sqrt(400/100))^2 */
  assert_true(fabs(top / edge - 1) < 0.1);
  rc_ts_data_free(d);
}

static void overparameterized_clean_never_collapses(void **state) {
  (void)state;
  rc_run_result *r = run_ts(40, 160, 2, 0.0, RC_FRUSTRATION_CONFLICT, "minimal", 0.1, 1000, 1);
  assert_false(r->has_collapse_time);
  assert_true(D_ratio(r) > 0.1);
  assert_true(fabs(settled(r) - 1) < 1e-6);
  assert_true(r->rows[r->n_rows - 1].value[RC_M_ACCURACY] == 1.0);
  assert_true(r->rows[r->n_rows - 1].value[RC_M_LOSS] < 1e-20); /* D >= N: every sample fitted */
  rc_run_result_free(r);
}

/* the first recorded time with accuracy 1 has D still > 0.3 D(0); then D decays at about the minimal model's slow rate */
static void check_two_timescales(const rc_run_result *r) {
  size_t k = 0;
  while (k < r->n_rows && r->rows[k].value[RC_M_ACCURACY] < 1.0) k++;
  assert_true(k < r->n_rows);
  assert_true(D_at(r, k) > 0.3 * D_at(r, 0));
  assert_true(r->has_collapse_time && r->collapse_time > r->rows[k].t);
  assert_true(r->has_fitted_slow_rate);
  assert_true(fabs(r->fitted_slow_rate / r->spec->slow_rate - 1) < 0.25);
}

static void conflict_collapses_on_a_slow_timescale_set_by_f(void **state) {
  (void)state;
  rc_run_result *a = run_ts(40, 160, 2, 0.1, RC_FRUSTRATION_CONFLICT, "minimal", 0.1, 1000, 1);
  rc_run_result *b = run_ts(40, 160, 2, 0.2, RC_FRUSTRATION_CONFLICT, "minimal", 0.1, 1000, 1);
  check_two_timescales(a);
  check_two_timescales(b);
  assert_true(b->fitted_slow_rate > 1.5 * a->fitted_slow_rate); /* the slow rate shrinks with f */
  assert_true(a->collapse_time > 1.5 * b->collapse_time);
  rc_run_result_free(a);
  rc_run_result_free(b);
}

static void stop_gradient_keeps_the_classes_apart(void **state) {
  (void)state;
  for (unsigned long seed = 1; seed <= 2; seed++) {
    rc_run_result *m = run_ts(40, 160, 2, 0.1, RC_FRUSTRATION_CONFLICT, "minimal", 0.1, 1000, seed);
    rc_run_result *s = run_ts(40, 160, 2, 0.1, RC_FRUSTRATION_CONFLICT, "siam", 0.1, 1000, seed);
    rc_run_result *g = run_ts(40, 160, 2, 0.1, RC_FRUSTRATION_CONFLICT, "siam-sg", 0.1, 1000, seed);
    assert_true(D_ratio(m) < 1e-3 && m->has_collapse_time);
    assert_true(D_ratio(s) < 1e-3 && s->has_collapse_time);
    assert_true(D_ratio(g) > 0.2 && !g->has_collapse_time);
    assert_true(fabs(settled(g) - 1) < 1e-3); /* at rest, not collapsing slowly */
    assert_true(g->rows[g->n_rows - 1].value[RC_M_ACCURACY] == 1.0);
    rc_run_result_free(m);
    rc_run_result_free(s);
    rc_run_result_free(g);
  }
}

static void underparameterized_collapses_without_frustration(void **state) {
  (void)state;
  rc_run_result *r = run_ts(60, 10, 2, 0.0, RC_FRUSTRATION_CONFLICT, "minimal", 0.05, 1000, 1);
  assert_int_equal(r->inputs->ds->n_frustrated, 0);
  assert_true(r->has_collapse_time);
  assert_true(D_ratio(r) < 1e-3);
  rc_run_result_free(r);
}

static void flip_frustrates_nothing_when_D_is_at_least_N(void **state) {
  (void)state;
  rc_run_result *r = run_ts(40, 160, 2, 0.2, RC_FRUSTRATION_FLIP, "minimal", 0.1, 1000, 1);
  assert_int_equal(r->inputs->ds->n_frustrated, 0);
  assert_int_equal(r->inputs->n_altered, 8);
  assert_false(r->has_collapse_time);
  assert_true(D_ratio(r) > 0.1);
  assert_true(r->rows[r->n_rows - 1].value[RC_M_ACCURACY] == 1.0); /* against the flipped labels */
  rc_run_result_free(r);
}

static void single_precision_step_agrees(void **state) {
  (void)state;
  rc_ts_data_spec s = rc_ts_data_spec_default();
  s.n_samples = 30;
  s.input_dim = 40;
  s.frustration = 0.2;
  rc_ts_data *d = NULL;
  rc_error err;
  assert_int_equal(rc_ts_data_generate(&s, &d, &err), RC_OK);
  rc_ts_params p = {rc_head_params_default(), 1.0, RC_PRECISION_F64};
  rc_model_preset("siam-sg", &p.hp.model, &err);
  rc_ts_model *m64 = NULL, *m32 = NULL;
  assert_int_equal(rc_ts_model_alloc(d, &p, 6, &m64, &err), RC_OK);
  p.precision = RC_PRECISION_F32;
  assert_int_equal(rc_ts_model_alloc(d, &p, 6, &m32, &err), RC_OK);
  const size_t n = rc_ts_state_size(m64);
  double *z = calloc(n, sizeof *z), *f64 = calloc(n, sizeof *f64), *f32 = calloc(n, sizeof *f32);
  rc_init_params ip = rc_init_params_default();
  assert_int_equal(rc_ts_init_state(m64, &ip, RC_HEAD_ORTHOGONAL, 1.0, z, &err), RC_OK);
  rc_ts_vector_field(m64, z, f64);
  rc_ts_vector_field(m32, z, f32);
  const double scale = tu_max_abs(f64, n), diff = tu_max_abs_diff(f64, f32, n);
  assert_true(diff < 1e-5 * scale);
  assert_true(diff > 0); /* it really ran in single precision */
  free(z);
  free(f64);
  free(f32);
  rc_ts_model_free(m64);
  rc_ts_model_free(m32);
  rc_ts_data_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(data_follows_its_definition),
      cmocka_unit_test(kernel_edge_follows_marchenko_pastur),
      cmocka_unit_test(overparameterized_clean_never_collapses),
      cmocka_unit_test(conflict_collapses_on_a_slow_timescale_set_by_f),
      cmocka_unit_test(stop_gradient_keeps_the_classes_apart),
      cmocka_unit_test(underparameterized_collapses_without_frustration),
      cmocka_unit_test(flip_frustrates_nothing_when_D_is_at_least_N),
      cmocka_unit_test(single_precision_step_agrees),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
