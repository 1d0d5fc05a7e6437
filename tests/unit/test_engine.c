/* test_engine.c: the engine of engine.h (encoder, objective, field on a batch
 * and with EMA targets), each against something independent: the particle
 * vector field of the term models and of the teacher-student model (the
 * code paths the engine replaces, bit for bit), central finite differences of
 * the loss (the gradients), and the identities of 6.1 (a batch of every
 * observation is the full data; targets equal to theta are plain sg). */
#include "testutil.h"

#include "repcollapse/engine.h"

static void fill(double *z, size_t n, unsigned seed) {
  unsigned s = seed * 2654435761u + 1u;
  for (size_t q = 0; q < n; q++) {
    s = s * 1103515245u + 12345u;
    z[q] = ((double)(s >> 8) / 16777216.0 - 0.5) * 1.6;
  }
}

static rc_engine_spec table_spec(const rc_dataset *ds, const char *model, size_t d, rc_rate_scheme rates) {
  rc_engine_spec s;
  memset(&s, 0, sizeof s);
  s.encoder = RC_ENCODER_TABLE;
  s.ds = ds;
  s.d = d;
  rc_error err;
  assert_int_equal(rc_model_preset(model, &s.model, &err), RC_OK);
  s.rates = rates;
  s.eta_enc = 0.7;
  s.eta_y = 1.3;
  s.eta_head = 0.9;
  return s;
}

/* table encoder: the field equals rc_head_vector_field bit for bit, for every preset and rate scheme */
static void test_table_equals_head_field(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(3, 7, 0.2, RC_PATTERN_RING, 4);
  const char *models[] = {"minimal", "head", "siam", "siam-sg"};
  for (int r = 0; r < 2; r++)
    for (int k = 0; k < 4; k++) {
      const size_t d = 4;
      rc_engine_spec s = table_spec(ds, models[k], d, r ? RC_RATES_UNIFORM : RC_RATES_DEGREE);
      rc_engine *e = NULL;
      rc_error err;
      assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
      const size_t n = rc_engine_n_theta(e);
      assert_int_equal(n, (ds->n_samples + ds->n_classes) * d + (k ? d * d : 0));
      double *z = calloc(n, sizeof *z), *F = calloc(n, sizeof *F), *H = calloc(n, sizeof *H);
      fill(z, n, 3 + k);
      rc_head_params hp = rc_head_params_default();
      hp.model = s.model;
      hp.base.rates = s.rates;
      hp.base.eta_x = s.eta_enc;
      hp.base.eta_y = s.eta_y;
      hp.eta_head = s.eta_head;
      rc_head_ws *ws = NULL;
      assert_int_equal(rc_head_ws_alloc(ds->n_samples, ds->n_classes, d, &ws, &err), RC_OK);
      rc_head_vector_field(ds, &hp, z, d, H, ws);
      rc_engine_field(e, z, NULL, NULL, F);
      assert_memory_equal(F, H, n * sizeof *F);
      rc_head_ws_free(ws);
      free(z);
      free(F);
      free(H);
      rc_engine_free(e);
    }
  rc_dataset_free(ds);
}

/* the loss of theta with the targets held at theta_bar (the value rc_engine_field returns) */
static double loss_at(rc_engine *e, const double *z, const double *zbar, double *F) {
  return rc_engine_field(e, z, zbar, NULL, F);
}

/* gradients against central differences of the loss, with online and with EMA targets
 * (uniform rates, eta = 1: F = -dL/dtheta, the sg branch held at the targets) */
static void check_fd(rc_engine *e, size_t n, int with_targets) {
  double *z = calloc(n, sizeof *z), *zb = calloc(n, sizeof *zb), *F = calloc(n, sizeof *F), *tmp = calloc(n, sizeof *tmp);
  fill(z, n, 11);
  fill(zb, n, 12);
  const double *tb = with_targets ? zb : NULL;
  rc_engine_field(e, z, tb, NULL, F);
  double worst = 0, scale = tu_max_abs(F, n);
  for (size_t q = 0; q < n; q++) {
    const double h = 1e-6, z0 = z[q];
    z[q] = z0 + h;
    const double lp = loss_at(e, z, tb, tmp);
    z[q] = z0 - h;
    const double lm = loss_at(e, z, tb, tmp);
    z[q] = z0;
    const double g = (lp - lm) / (2 * h);
    worst = fmax(worst, fabs(g + F[q]));
  }
  assert_true(worst < 1e-7 * fmax(scale, 1.0));
  free(z);
  free(zb);
  free(F);
  free(tmp);
}

static void test_gradients_fd(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(2, 5, 0.25, RC_PATTERN_PAIR, 2);
  const char *models[] = {"minimal", "head", "siam"};
  for (int k = 0; k < 3; k++) {
    rc_engine_spec s = table_spec(ds, models[k], 3, RC_RATES_UNIFORM);
    s.eta_enc = s.eta_y = s.eta_head = 1.0;
    rc_engine *e = NULL;
    rc_error err;
    assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
    check_fd(e, rc_engine_n_theta(e), 0);
    rc_engine_free(e);
  }
  rc_dataset_free(ds);
}

/* with EMA targets, the online gradient of a sg model is the derivative of the loss with the sg
 * branches held at the targets: checked with a model whose every term is sg, so the loss depends on
 * theta only through the online branches */
static void test_ema_targets_fd(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(2, 5, 0.25, RC_PATTERN_PAIR, 2);
  rc_engine_spec s = table_spec(ds, "siam-sg", 3, RC_RATES_UNIFORM);
  s.eta_enc = s.eta_y = s.eta_head = 1.0;
  rc_engine *e = NULL;
  rc_error err;
  assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
  assert_true(rc_engine_has_sg_targets(e));
  check_fd(e, rc_engine_n_theta(e), 1);
  /* targets equal to theta: plain sg, bit for bit */
  const size_t n = rc_engine_n_theta(e);
  double *z = calloc(n, sizeof *z), *F1 = calloc(n, sizeof *F1), *F2 = calloc(n, sizeof *F2);
  fill(z, n, 5);
  rc_engine_field(e, z, NULL, NULL, F1);
  rc_engine_field(e, z, z, NULL, F2);
  assert_memory_equal(F1, F2, n * sizeof *F1);
  free(z);
  free(F1);
  free(F2);
  rc_engine_free(e);
  rc_dataset_free(ds);
}

/* a batch of every observation (weight M/M = 1) is the full data bit for bit; a batch's field is the
 * observation-weighted sum, so the mean over the batches of one epoch is the full field */
static void test_batch(void **state) {
  (void)state;
  rc_dataset *ds = tu_generate(2, (size_t[]){6, 4}, 2, "0-1:3", -1, RC_PATTERN_PAIR, 1);
  rc_engine_spec s = table_spec(ds, "siam-sg", 3, RC_RATES_DEGREE);
  rc_engine *e = NULL;
  rc_error err;
  assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
  const size_t n = rc_engine_n_theta(e), M = (size_t)ds->total;
  double *z = calloc(n, sizeof *z), *F = calloc(n, sizeof *F), *Fb = calloc(n, sizeof *Fb), *acc = calloc(n, sizeof *acc);
  size_t *idx = calloc(M, sizeof *idx);
  fill(z, n, 9);
  for (size_t q = 0; q < M; q++) idx[q] = q;
  rc_engine_field(e, z, NULL, NULL, F);
  rc_batch all = {M, idx, 1.0};
  rc_engine_field(e, z, NULL, &all, Fb);
  assert_memory_equal(F, Fb, n * sizeof *F);
  /* two halves, each weighted M / |half|: their mean is the full field (the field is linear in the weights) */
  const size_t h = M / 2;
  rc_batch b1 = {h, idx, (double)M / (double)h}, b2 = {M - h, idx + h, (double)M / (double)(M - h)};
  rc_engine_field(e, z, NULL, &b1, Fb);
  for (size_t q = 0; q < n; q++) acc[q] = Fb[q] * (double)h / (double)M;
  rc_engine_field(e, z, NULL, &b2, Fb);
  for (size_t q = 0; q < n; q++) acc[q] += Fb[q] * (double)(M - h) / (double)M;
  assert_true(tu_max_abs_diff(acc, F, n) < 1e-12 * tu_max_abs(F, n));
  /* a batch of one observation of sample 0 moves only sample 0, its label and P */
  rc_batch one = {1, idx, (double)M};
  rc_engine_field(e, z, NULL, &one, Fb);
  for (size_t q = 3; q < ds->n_samples * 3; q++) assert_true(Fb[q] == 0.0);
  free(z);
  free(F);
  free(Fb);
  free(acc);
  free(idx);
  rc_engine_free(e);
  rc_dataset_free(ds);
}

/* linear encoder: the field equals the teacher-student model's bit for bit */
static void test_linear_equals_ts_field(void **state) {
  (void)state;
  rc_ts_data_spec sp = rc_ts_data_spec_default();
  sp.n_samples = 24;
  sp.input_dim = 50;
  sp.frustration = 0.2;
  rc_ts_data *data = NULL;
  rc_error err;
  assert_int_equal(rc_ts_data_generate(&sp, &data, &err), RC_OK);
  const char *models[] = {"minimal", "siam-sg"};
  for (int k = 0; k < 2; k++) {
    rc_ts_params p = {rc_head_params_default(), 0.8, RC_PRECISION_F64};
    rc_model_preset(models[k], &p.hp.model, &err);
    rc_ts_model *m = NULL;
    assert_int_equal(rc_ts_model_alloc(data, &p, 5, &m, &err), RC_OK);
    rc_engine_spec s;
    memset(&s, 0, sizeof s);
    s.encoder = RC_ENCODER_LINEAR;
    s.ds = data->ds;
    s.U = data->U;
    s.D = data->D;
    s.d = 5;
    s.model = p.hp.model;
    s.rates = p.hp.base.rates;
    s.eta_enc = 0.8;
    s.eta_y = p.hp.base.eta_y;
    s.eta_head = p.hp.eta_head;
    rc_engine *e = NULL;
    assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
    const size_t n = rc_ts_state_size(m);
    assert_int_equal(rc_engine_n_theta(e), n);
    const rc_param_block *b = NULL;
    assert_int_equal(rc_engine_blocks(e, &b), k ? 3 : 2);
    assert_string_equal(b[0].name, "W");
    double *z = calloc(n, sizeof *z), *F = calloc(n, sizeof *F), *T = calloc(n, sizeof *T);
    rc_init_params ip = rc_init_params_default();
    assert_int_equal(rc_ts_init_state(m, &ip, RC_HEAD_ORTHOGONAL, 1.0, z, &err), RC_OK);
    const double l1 = rc_ts_vector_field(m, z, T), l2 = rc_engine_field(e, z, NULL, NULL, F);
    assert_memory_equal(F, T, n * sizeof *F);
    assert_true(l1 == l2);
    free(z);
    free(F);
    free(T);
    rc_engine_free(e);
    rc_ts_model_free(m);
  }
  rc_ts_data_free(data);
}

static void test_registry(void **state) {
  (void)state;
  rc_encoder_kind k;
  rc_error err;
  assert_int_equal(rc_parse_encoder("linear", &k, &err), RC_OK);
  assert_int_equal(k, RC_ENCODER_LINEAR);
  assert_string_equal(rc_encoder_name(RC_ENCODER_TABLE), "table");
  /* mlp exists now (encoder_mlp.c, tests/unit/test_mlp.c); an unknown name is refused, naming all three */
  assert_int_equal(rc_parse_encoder("mlp", &k, &err), RC_OK);
  assert_int_equal(k, RC_ENCODER_MLP);
  assert_int_equal(rc_parse_encoder("cnn", &k, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "table, linear or mlp"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_equals_head_field), cmocka_unit_test(test_gradients_fd),
      cmocka_unit_test(test_ema_targets_fd),          cmocka_unit_test(test_batch),
      cmocka_unit_test(test_linear_equals_ts_field),  cmocka_unit_test(test_registry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
