/* test_mlp.c: the `mlp` encoder (docs/model.md sections 6 and 6.3), against
 * things independent of its hand-written backward: central finite differences
 * of the loss through the whole engine (relu and tanh, degree and uniform,
 * with a head), the layout of its four named blocks, the EMA identity (targets
 * equal to theta are plain sg, which also checks that the target forward does
 * not spoil the online backward), the refusals of a bad setup, and the
 * initialisation variances of 6.3 against their formula, statistically. */
#include "testutil.h"

#include <gsl/gsl_integration.h>

#include "repcollapse/engine.h"

static void fill(double *z, size_t n, unsigned seed) {
  unsigned s = seed * 2654435761u + 1u;
  for (size_t q = 0; q < n; q++) {
    s = s * 1103515245u + 12345u;
    z[q] = ((double)(s >> 8) / 16777216.0 - 0.5) * 1.6;
  }
}

static rc_engine_spec mlp_spec(const rc_dataset *ds, const double *U, size_t D, size_t d, size_t h,
                               rc_activation act, const char *model, rc_rate_scheme rates) {
  rc_engine_spec s;
  memset(&s, 0, sizeof s);
  s.encoder = RC_ENCODER_MLP;
  s.ds = ds;
  s.U = U;
  s.D = D;
  s.d = d;
  s.hidden = h;
  s.activation = act;
  rc_error err;
  assert_int_equal(rc_model_preset(model, &s.model, &err), RC_OK);
  s.rates = rates;
  s.eta_enc = 0.7;
  s.eta_y = 1.3;
  s.eta_head = 0.9;
  return s;
}

/* F = -eta S grad L: with `uniform` rates and no stop-gradient, F_k / (-eta_k) is
 * dL/dtheta_k; with `degree`, the encoder's part is checked through a data set
 * whose samples all have weight 1 (then M / a_i = M for every sample). */
static void test_finite_differences(void **state) {
  (void)state;
  const size_t D = 6, d = 3, h = 5;
  const char *models[] = {"minimal", "siam"};
  for (int act = 0; act < 2; act++)
    for (int mk = 0; mk < 2; mk++)
      for (int r = 0; r < 2; r++) {
        /* uniform: frustrated samples (uneven weights); degree: clean samples only (a_i = 1) */
        rc_dataset *ds = r ? tu_equal(3, 4, 0.2, RC_PATTERN_RING, 5) : tu_equal(3, 4, -1.0, RC_PATTERN_RING, 5);
        const size_t N = ds->n_samples;
        double *U = calloc(N * D, sizeof *U);
        fill(U, N * D, 11);
        rc_engine_spec s = mlp_spec(ds, U, D, d, h, (rc_activation)act, models[mk],
                                    r ? RC_RATES_UNIFORM : RC_RATES_DEGREE);
        rc_engine *e = NULL;
        rc_error err;
        assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
        const size_t n = rc_engine_n_theta(e), ne = rc_engine_encoder_size(e);
        assert_int_equal(ne, h * D + h + d * h + d);
        double *z = calloc(n, sizeof *z), *F = calloc(n, sizeof *F), *zp = calloc(n, sizeof *zp),
               *tmp = calloc(n, sizeof *tmp);
        fill(z, n, 7 + (unsigned)mk);
        rc_engine_field(e, z, NULL, NULL, F);
        const double M = ds->total, step = 1e-6;
        double worst = 0.0;
        for (size_t k = 0; k < n; k++) {
          memcpy(zp, z, n * sizeof *z);
          zp[k] = z[k] + step;
          const double lp = rc_engine_field(e, zp, NULL, NULL, tmp);
          zp[k] = z[k] - step;
          const double lm = rc_engine_field(e, zp, NULL, NULL, tmp);
          const double dL = (lp - lm) / (2.0 * step);
          double scale;
          if (k < ne) scale = -s.eta_enc * (r ? 1.0 : M);
          else if (k < ne + ds->n_classes * d) {
            const size_t c = (k - ne) / d;
            scale = -s.eta_y * (r ? 1.0 : M / ds->class_weight[c]);
          } else scale = -s.eta_head;
          const double want = scale * dL;
          const double diff = fabs(F[k] - want) / (1e-3 + fabs(want));
          if (diff > worst) worst = diff;
        }
        if (worst > 1e-5) fail_msg("act %d model %s rates %d: worst relative error %g", act, models[mk], r, worst);
        rc_engine_free(e);
        free(z);
        free(F);
        free(zp);
        free(tmp);
        free(U);
        rc_dataset_free(ds);
      }
}

static void test_blocks_and_ema_identity(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(2, 5, 0.2, RC_PATTERN_PAIR, 2);
  const size_t N = ds->n_samples, D = 4, d = 2, h = 3;
  double *U = calloc(N * D, sizeof *U);
  fill(U, N * D, 5);
  rc_engine_spec s = mlp_spec(ds, U, D, d, h, RC_ACTIVATION_TANH, "siam-sg", RC_RATES_DEGREE);
  rc_engine *e = NULL;
  rc_error err;
  assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
  const rc_param_block *b;
  const size_t nb = rc_engine_blocks(e, &b);
  assert_int_equal(nb, 6);
  const char *names[] = {"W1", "b1", "W2", "b2", "y", "P"};
  const size_t lens[] = {h * D, h, d * h, d, 2 * d, d * d};
  size_t off = 0;
  for (size_t k = 0; k < nb; k++) {
    assert_string_equal(b[k].name, names[k]);
    assert_int_equal(b[k].offset, off);
    assert_int_equal(b[k].len, lens[k]);
    off += lens[k];
  }
  assert_int_equal(off, rc_engine_n_theta(e));
  for (size_t k = 0; k < 4; k++) assert_true(b[k].eta == s.eta_enc);
  const size_t n = rc_engine_n_theta(e);
  double *z = calloc(n, sizeof *z), *bar = calloc(n, sizeof *bar), *F1 = calloc(n, sizeof *F1),
         *F2 = calloc(n, sizeof *F2), *F3 = calloc(n, sizeof *F3);
  fill(z, n, 9);
  memcpy(bar, z, n * sizeof *z);
  rc_engine_field(e, z, NULL, NULL, F1);
  rc_engine_field(e, z, bar, NULL, F2);
  assert_memory_equal(F1, F2, n * sizeof *F1);
  /* other targets change the field but the online encoder gradient still follows theta: different bar, F differs */
  for (size_t k = 0; k < n; k++) bar[k] = z[k] * 0.5;
  rc_engine_field(e, z, bar, NULL, F3);
  int differs = 0;
  for (size_t k = 0; k < n; k++) differs |= F3[k] != F1[k];
  assert_true(differs);
  /* with targets from bar (constants to the gradient), F = -eta dL(theta; bar)/dtheta under `uniform`:
   * central differences of the loss with bar fixed (this fails if the targets' forward spoils the
   * scratch the online backward reuses) */
  rc_engine_free(e);
  s.rates = RC_RATES_UNIFORM;
  assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
  rc_engine_field(e, z, bar, NULL, F3);
  double worst = 0.0;
  const size_t ne = rc_engine_encoder_size(e);
  for (size_t k = 0; k < n; k++) {
    double *zp = F2; /* scratch */
    memcpy(zp, z, n * sizeof *z);
    zp[k] = z[k] + 1e-6;
    double *Fs = calloc(n, sizeof *Fs);
    const double lp = rc_engine_field(e, zp, bar, NULL, Fs);
    zp[k] = z[k] - 1e-6;
    const double lm = rc_engine_field(e, zp, bar, NULL, Fs);
    free(Fs);
    const double eta = k < ne ? s.eta_enc : (k < ne + 2 * d ? s.eta_y : s.eta_head);
    const double want = -eta * (lp - lm) / 2e-6;
    const double diff = fabs(F3[k] - want) / (1e-3 + fabs(want));
    if (diff > worst) worst = diff;
  }
  if (worst > 1e-5) fail_msg("EMA targets: worst relative error %g", worst);
  rc_engine_free(e);
  free(z);
  free(bar);
  free(F1);
  free(F2);
  free(F3);
  free(U);
  rc_dataset_free(ds);
}

static void test_refusals(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(2, 3, -1.0, RC_PATTERN_PAIR, 2);
  double U[6 * 4] = {0};
  rc_engine_spec s = mlp_spec(ds, U, 4, 2, 0, RC_ACTIVATION_RELU, "minimal", RC_RATES_DEGREE);
  rc_engine *e = NULL;
  rc_error err;
  assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "--hidden"));
  s.hidden = 3;
  s.U = NULL;
  assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "mlp encoder needs inputs"));
  rc_activation a;
  assert_int_equal(rc_parse_activation("sigmoid", &a, &err), RC_EINVAL);
  assert_int_equal(rc_parse_activation("tanh", &a, &err), RC_OK);
  assert_int_equal(a, RC_ACTIVATION_TANH);
  rc_encoder_kind k;
  assert_int_equal(rc_parse_encoder("mlp", &k, &err), RC_OK);
  assert_int_equal(k, RC_ENCODER_MLP);
  rc_dataset_free(ds);
}

static double tanh2_gauss(double z, void *p) {
  (void)p;
  const double t = tanh(z);
  return t * t * exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
}

/* The variances of 6.3: W1 ~ N(0, g^2 / mean_i |u_i|^2), W2 ~ N(0, sigma^2 / (d h E[phi^2])), biases 0.
 * The sample variance of m i.i.d. N(0, v) draws has standard error v sqrt(2 / m): 5 of them is the tolerance. */
static void test_init_variances(void **state) {
  (void)state;
  /* E[tanh(z)^2], z ~ N(0, 1), by quadrature: 6.3's 0.394 */
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
  gsl_function f = {tanh2_gauss, NULL};
  double e2, abserr;
  gsl_integration_qagi(&f, 1e-12, 1e-10, 1000, w, &e2, &abserr);
  gsl_integration_workspace_free(w);
  assert_true(fabs(e2 - rc_mlp_phi_second_moment(RC_ACTIVATION_TANH)) < 1e-3);
  assert_true(rc_mlp_phi_second_moment(RC_ACTIVATION_RELU) == 1.0); /* E[relu(z)^2] = var / 2 = 1 at var 2 */
  const size_t n = 40, D = 300, d = 30, h = 400;
  double *U = calloc(n * D, sizeof *U);
  fill(U, n * D, 3); /* entries uniform in (-0.8, 0.8): mean |u|^2 about 64 */
  double mean_u2 = 0.0;
  for (size_t q = 0; q < n * D; q++) mean_u2 += U[q] * U[q];
  mean_u2 /= (double)n;
  for (int act = 0; act < 2; act++) {
    rc_encoder enc;
    rc_error err;
    assert_int_equal(rc_encoder_setup(&enc, RC_ENCODER_MLP, n, D, d, U, h, (rc_activation)act, &err), RC_OK);
    const size_t np = rc_encoder_n_params(&enc);
    double *th = calloc(np, sizeof *th);
    const double sigma = 1.7;
    assert_int_equal(rc_encoder_init(&enc, sigma, 42, th, &err), RC_OK);
    rc_param_block b[RC_ENCODER_MAX_BLOCKS];
    assert_int_equal(rc_encoder_blocks(&enc, b), 4);
    const double want[4] = {rc_mlp_gain2((rc_activation)act) / mean_u2, 0.0, 0.0, 0.0};
    const double want_w2 = sigma * sigma / ((double)d * (double)h * rc_mlp_phi_second_moment((rc_activation)act));
    for (int k = 0; k < 4; k++) {
      double s1 = 0.0, s2 = 0.0;
      for (size_t q = 0; q < b[k].len; q++) {
        s1 += th[b[k].offset + q];
        s2 += th[b[k].offset + q] * th[b[k].offset + q];
      }
      const double m = (double)b[k].len, var = s2 / m;
      if (k == 1 || k == 3) {
        assert_true(s2 == 0.0); /* b1 = b2 = 0 */
        continue;
      }
      const double v = k == 0 ? want[0] : want_w2;
      if (fabs(var - v) > 5.0 * v * sqrt(2.0 / m))
        fail_msg("activation %d block %s: variance %g, formula %g (tolerance %g)", act, b[k].name, var, v,
                 5.0 * v * sqrt(2.0 / m));
      assert_true(fabs(s1 / m) < 5.0 * sqrt(v / m)); /* mean 0 */
    }
    /* seeded: the same seed gives the same parameters, another seed others */
    double *th2 = calloc(np, sizeof *th2);
    assert_int_equal(rc_encoder_init(&enc, sigma, 42, th2, &err), RC_OK);
    assert_memory_equal(th, th2, np * sizeof *th);
    assert_int_equal(rc_encoder_init(&enc, sigma, 43, th2, &err), RC_OK);
    assert_true(memcmp(th, th2, np * sizeof *th) != 0);
    free(th);
    free(th2);
    rc_encoder_release(&enc);
  }
  free(U);
}

/* rc_engine_rate_estimate (central differences through the engine) against the
 * teacher-student model's own estimate (rc_ts_rate_estimate, another field and
 * one-sided differences) on the linear encoder, where both estimate the same
 * exact spectral radius; and it is positive and finite for the mlp. */
static void test_rate_estimate(void **state) {
  (void)state;
  rc_ts_data_spec sp = rc_ts_data_spec_default();
  sp.n_samples = 30;
  sp.input_dim = 20;
  sp.frustration = 0.2;
  rc_ts_data *data = NULL;
  rc_error err;
  assert_int_equal(rc_ts_data_generate(&sp, &data, &err), RC_OK);
  rc_ts_params p = {rc_head_params_default(), 1.0, RC_PRECISION_F64};
  rc_model_preset("minimal", &p.hp.model, &err);
  rc_ts_model *m = NULL;
  assert_int_equal(rc_ts_model_alloc(data, &p, 4, &m, &err), RC_OK);
  rc_engine_spec s;
  memset(&s, 0, sizeof s);
  s.encoder = RC_ENCODER_LINEAR;
  s.ds = data->ds;
  s.U = data->U;
  s.D = data->D;
  s.d = 4;
  s.model = p.hp.model;
  s.rates = p.hp.base.rates;
  s.eta_enc = 1.0;
  s.eta_y = p.hp.base.eta_y;
  s.eta_head = p.hp.eta_head;
  rc_engine *e = NULL;
  assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
  const size_t n = rc_engine_n_theta(e);
  double *z = calloc(n, sizeof *z);
  rc_init_params ip = rc_init_params_default();
  assert_int_equal(rc_ts_init_state(m, &ip, RC_HEAD_ORTHOGONAL, 1.0, z, &err), RC_OK);
  const double r1 = rc_engine_rate_estimate(e, z), r2 = rc_ts_rate_estimate(m, z);
  if (!(fabs(r1 - r2) <= 0.02 * r2)) fail_msg("engine rate %g, teacher-student rate %g", r1, r2);
  rc_engine_free(e);
  s.encoder = RC_ENCODER_MLP;
  s.hidden = 8;
  assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
  double *th = calloc(rc_engine_n_theta(e), sizeof *th);
  fill(th, rc_engine_n_theta(e), 4);
  assert_int_equal(rc_encoder_init(rc_engine_encoder(e), 1.0, 5, th, &err), RC_OK);
  const double r3 = rc_engine_rate_estimate(e, th);
  assert_true(r3 > 0.0 && isfinite(r3));
  free(th);
  free(z);
  rc_engine_free(e);
  rc_ts_model_free(m);
  rc_ts_data_free(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_finite_differences),
      cmocka_unit_test(test_blocks_and_ema_identity),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_init_variances),
      cmocka_unit_test(test_rate_estimate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
