/* test_optimizer_engine.c: the training mechanisms of docs/model.md section 6.1
 * through the one engine (trainer.h over engine.h), each against something
 * independent: B = M against the full-batch step bit for bit; minibatch
 * unbiasedness against the sampling variance of the per-observation
 * contributions; --ema 0 against plain sg bit for bit; weight decay in flow
 * against e^{-wt} times the decay-free flow (and the scale-free metrics);
 * EMA targets on `x-sg(y)+y-sg(x)` against the complex eigenvalues of the
 * augmented system written out by hand (flow: its generator; discrete: its
 * one-step matrix), against the fitted decay of D, and the 1/kappa approach
 * to plain sg; checkpoint and resume bit for bit for every optimizer, on the
 * table and linear encoders; the one time loop (experiment/engine_loop.c) on
 * the linear encoder resumed from each of its resume points, discrete and in
 * flow, and its flow against GSL's rk8pd. */
#include "testutil.h"

#include <complex.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include "experiment/engine_loop.h"
#include "repcollapse/engine.h"
#include "repcollapse/trainer.h"

typedef struct {
  rc_dataset *ds;
  rc_engine_spec spec;
  rc_engine *e;
  double *theta0;
  double *U;
  size_t n;
} fixture;

static void fx_open(fixture *f, rc_dataset *ds, const char *terms, rc_encoder_kind enc, size_t d, size_t D,
                    rc_rate_scheme rates, unsigned long seed) {
  memset(f, 0, sizeof *f);
  f->ds = ds;
  rc_error err;
  memset(&f->spec, 0, sizeof f->spec);
  f->spec.encoder = enc;
  f->spec.ds = ds;
  f->spec.d = d;
  f->spec.D = enc == RC_ENCODER_LINEAR ? D : 0;
  if (rc_model_parse_terms(terms, &f->spec.model, &err) && rc_model_preset(terms, &f->spec.model, &err))
    fail_msg("terms %s: %s", terms, err.msg);
  f->spec.rates = rates;
  f->spec.eta_enc = 1.0;
  f->spec.eta_y = 1.0;
  f->spec.eta_head = 1.0;
  f->spec.decay_enc = f->spec.decay_y = f->spec.decay_head = 1;
  const size_t N = ds->n_samples;
  if (enc == RC_ENCODER_LINEAR) {
    f->U = malloc(N * D * sizeof *f->U);
    unsigned long s = seed * 2654435761ul + 1;
    for (size_t k = 0; k < N * D; k++) {
      s = s * 6364136223846793005ul + 1442695040888963407ul;
      f->U[k] = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * sqrt(12.0 / D);
    }
    f->spec.U = f->U;
  }
  if (rc_engine_alloc(&f->spec, &f->e, &err)) fail_msg("engine: %s", err.msg);
  f->n = rc_engine_n_theta(f->e);
  f->theta0 = calloc(f->n, sizeof *f->theta0);
  /* x (or W) and y from the project's initialisation; P = identity */
  rc_state *s = tu_init(ds, d, seed);
  const rc_param_block *b;
  size_t nb = rc_engine_blocks(f->e, &b);
  if (enc == RC_ENCODER_TABLE) memcpy(f->theta0, s->x, N * d * sizeof(double));
  else
    for (size_t k = 0; k < b[0].len; k++) f->theta0[k] = s->x[k % (N * d)] * 0.7 + 0.01 * (double)(k % 7);
  memcpy(f->theta0 + b[1].offset, s->y, ds->n_classes * d * sizeof(double));
  if (nb > 2)
    for (size_t q = 0; q < d; q++) f->theta0[b[2].offset + q * d + q] = 1.0;
  rc_state_free(s);
}

static void fx_close(fixture *f) {
  rc_engine_free(f->e);
  free(f->theta0);
  free(f->U);
  rc_dataset_free(f->ds);
}

static rc_trainer *trainer(fixture *f, const rc_train_settings *t, int discrete, double dt) {
  rc_trainer *tr = NULL;
  rc_error err;
  if (rc_trainer_alloc(f->e, &f->spec, t, discrete, dt, 1e-9, 1, f->theta0, &tr, &err)) fail_msg("trainer: %s", err.msg);
  return tr;
}

static void run_steps(rc_trainer *tr, double *theta, int steps) {
  rc_error err;
  for (int k = 0; k < steps; k++)
    if (rc_trainer_step(tr, theta, NULL, &err)) fail_msg("step %d: %s", k, err.msg);
}

/* B = M (and B > M) is the full-batch step bit for bit, for gd and momentum */
static void test_batch_equals_full(void **state) {
  (void)state;
  fixture f;
  fx_open(&f, tu_equal(3, 8, 0.2, RC_PATTERN_RING, 2), "siam", RC_ENCODER_TABLE, 3, 0, RC_RATES_DEGREE, 4);
  size_t M = (size_t)f.ds->total;
  for (int kind = 0; kind < 2; kind++) {
    rc_train_settings t = rc_train_settings_default();
    t.opt.kind = kind ? RC_OPTIMIZER_MOMENTUM : RC_OPTIMIZER_GD;
    double *a = malloc(f.n * sizeof *a), *b = malloc(f.n * sizeof *b), *c = malloc(f.n * sizeof *c);
    memcpy(a, f.theta0, f.n * sizeof *a);
    memcpy(b, f.theta0, f.n * sizeof *b);
    memcpy(c, f.theta0, f.n * sizeof *c);
    rc_trainer *ta = trainer(&f, &t, 1, 0.05);
    t.batch = M;
    rc_trainer *tb = trainer(&f, &t, 1, 0.05);
    t.batch = M + 17;
    rc_trainer *tc = trainer(&f, &t, 1, 0.05);
    run_steps(ta, a, 40);
    run_steps(tb, b, 40);
    run_steps(tc, c, 40);
    assert_memory_equal(a, b, f.n * sizeof *a);
    assert_memory_equal(a, c, f.n * sizeof *a);
    /* a smaller batch does differ */
    t.batch = M / 2;
    rc_trainer *td = trainer(&f, &t, 1, 0.05);
    memcpy(b, f.theta0, f.n * sizeof *b);
    run_steps(td, b, 40);
    assert_true(tu_max_abs_diff(a, b, f.n) > 1e-6);
    rc_trainer_free(ta);
    rc_trainer_free(tb);
    rc_trainer_free(tc);
    rc_trainer_free(td);
    free(a);
    free(b);
    free(c);
  }
  fx_close(&f);
}

/* 6.1's unbiasedness test on the engine's batch field: the per-observation
 * contributions are the fields of one-observation batches (weight M) */
static void test_batch_unbiased_engine(void **state) {
  (void)state;
  fixture f;
  fx_open(&f, tu_equal(3, 10, 0.2, RC_PATTERN_RANDOM, 3), "siam-sg", RC_ENCODER_TABLE, 2, 0, RC_RATES_DEGREE, 5);
  const size_t M = (size_t)f.ds->total, n = f.n, B = 6, R = 3000;
  double *contrib = malloc(M * n * sizeof *contrib), *full = malloc(n * sizeof *full), *Fb = malloc(n * sizeof *Fb);
  rc_engine_field(f.e, f.theta0, NULL, NULL, full);
  for (size_t o = 0; o < M; o++) {
    rc_batch one = {1, &o, (double)M};
    rc_engine_field(f.e, f.theta0, NULL, &one, contrib + o * n);
  }
  /* their mean is the full field */
  for (size_t j = 0; j < n; j++) {
    double m = 0;
    for (size_t o = 0; o < M; o++) m += contrib[o * n + j];
    assert_close(m / M, full[j], 1e-12 * (1 + fabs(full[j])));
  }
  rc_batch_schedule *bs = NULL;
  rc_error err;
  assert_int_equal(rc_batch_schedule_alloc(M, B, 3, &bs, &err), RC_OK);
  double *mean = calloc(n, sizeof *mean);
  for (size_t r = 0; r < R;) {
    rc_batch b;
    rc_batch_next(bs, &b.obs, &b.n, &b.weight);
    if (b.n != B) continue;
    rc_engine_field(f.e, f.theta0, NULL, &b, Fb);
    for (size_t j = 0; j < n; j++) mean[j] += Fb[j] / R;
    r++;
  }
  for (size_t j = 0; j < n; j++) {
    double S2 = 0;
    for (size_t o = 0; o < M; o++) S2 += pow(contrib[o * n + j] - full[j], 2) / M;
    double bound = 5 * sqrt((1.0 - (double)B / M) * S2 / (B * (double)R));
    if (!(fabs(mean[j] - full[j]) <= bound + 1e-13))
      fail_msg("parameter %zu: batch mean %.10g, full %.10g, bound %.3g", j, mean[j], full[j], bound);
  }
  rc_batch_schedule_free(bs);
  free(mean);
  free(contrib);
  free(full);
  free(Fb);
  fx_close(&f);
}

static void test_batch_refusal(void **state) {
  (void)state;
  fixture f;
  fx_open(&f, tu_equal(2, 50, 0.1, RC_PATTERN_PAIR, 1), "minimal", RC_ENCODER_TABLE, 2, 0, RC_RATES_DEGREE, 1);
  rc_train_settings t = rc_train_settings_default();
  size_t M = (size_t)f.ds->total; /* 111 */
  t.batch = M - 1;                 /* the last batch holds one observation: weight M */
  rc_trainer *tr = NULL;
  rc_error err;
  assert_int_equal(rc_trainer_alloc(f.e, &f.spec, &t, 1, 0.1, 1.0, 1, f.theta0, &tr, &err), RC_EUNSTABLE);
  assert_non_null(strstr(err.msg, ">= 2"));
  assert_non_null(strstr(err.msg, "smallest batch"));
  assert_null(tr);
  t.batch = 37; /* divides M = 111: b = 37, dt M / b = 0.3 */
  assert_int_equal(rc_trainer_alloc(f.e, &f.spec, &t, 1, 0.1, 1.0, 1, f.theta0, &tr, &err), RC_OK);
  rc_trainer_free(tr);
  assert_int_equal(rc_trainer_alloc(f.e, &f.spec, &t, 1, 0.67, 1.0, 1, f.theta0, &tr, &err), RC_EUNSTABLE);
  /* --batch in flow */
  assert_int_equal(rc_trainer_alloc(f.e, &f.spec, &t, 0, 0, 1.0, 1, f.theta0, &tr, &err), RC_EINVAL);
  fx_close(&f);
}

/* --ema 0 (kappa dt = 1) is plain sg bit for bit; EMA refusals */
static void test_ema_zero_and_refusals(void **state) {
  (void)state;
  fixture f;
  fx_open(&f, tu_equal(2, 10, 0.2, RC_PATTERN_PAIR, 1), "siam-sg", RC_ENCODER_TABLE, 3, 0, RC_RATES_DEGREE, 2);
  for (int kind = 0; kind < RC_N_OPTIMIZERS; kind++) {
    rc_train_settings t = rc_train_settings_default();
    t.opt.kind = (rc_optimizer_kind)kind;
    double *a = malloc(f.n * sizeof *a), *b = malloc(f.n * sizeof *b);
    memcpy(a, f.theta0, f.n * sizeof *a);
    memcpy(b, f.theta0, f.n * sizeof *b);
    rc_trainer *ta = trainer(&f, &t, 1, 0.05);
    t.ema = RC_EMA_TAU;
    t.ema_tau = 0.0;
    rc_trainer *tb = trainer(&f, &t, 1, 0.05);
    run_steps(ta, a, 30);
    run_steps(tb, b, 30);
    assert_memory_equal(a, b, f.n * sizeof *a);
    assert_memory_equal(rc_trainer_targets(tb), b, f.n * sizeof *b);
    /* tau = 0.9 differs */
    t.ema_tau = 0.9;
    rc_trainer *tc = trainer(&f, &t, 1, 0.05);
    memcpy(b, f.theta0, f.n * sizeof *b);
    run_steps(tc, b, 30);
    assert_true(tu_max_abs_diff(a, b, f.n) > 1e-8);
    rc_trainer_free(ta);
    rc_trainer_free(tb);
    rc_trainer_free(tc);
    free(a);
    free(b);
  }
  rc_train_settings t = rc_train_settings_default();
  t.ema = RC_EMA_RATE;
  t.ema_rate = 21.0; /* kappa dt = 1.05 */
  rc_trainer *tr = NULL;
  rc_error err;
  assert_int_equal(rc_trainer_alloc(f.e, &f.spec, &t, 1, 0.05, 1.0, 1, f.theta0, &tr, &err), RC_EUNSTABLE);
  assert_non_null(strstr(err.msg, "kappa dt = 1.05 > 1"));
  fx_close(&f);
  fx_open(&f, tu_equal(2, 10, 0.2, RC_PATTERN_PAIR, 1), "minimal", RC_ENCODER_TABLE, 3, 0, RC_RATES_DEGREE, 2);
  t.ema_rate = 1.0;
  assert_int_equal(rc_trainer_alloc(f.e, &f.spec, &t, 1, 0.05, 1.0, 1, f.theta0, &tr, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "stop-gradient"));
  assert_int_equal(rc_trainer_alloc(f.e, &f.spec, &t, 0, 0, 1.0, 1, f.theta0, &tr, &err), RC_EINVAL);
  fx_close(&f);
}

/* ---- flow through GSL's rk8pd on the trainer's flow field ---- */
typedef struct {
  rc_trainer *tr;
} flow_ctx;

static int flow_rhs(double t, const double *z, double *dz, void *p) {
  (void)t;
  rc_trainer_flow_field(((flow_ctx *)p)->tr, z, dz);
  return GSL_SUCCESS;
}

/* integrate from z (in place) over the times, calling back at each */
static void flow_integrate(rc_trainer *tr, double *z, const double *times, size_t nt, double *out_states) {
  flow_ctx c = {tr};
  size_t n = rc_trainer_flow_size(tr);
  gsl_odeiv2_system sys = {flow_rhs, NULL, n, &c};
  gsl_odeiv2_driver *drv = gsl_odeiv2_driver_alloc_standard_new(&sys, gsl_odeiv2_step_rk8pd, 1e-3, 1e-15, 1e-14, 1, 0);
  double t = 0;
  for (size_t k = 0; k < nt; k++) {
    if (times[k] > t) assert_int_equal(gsl_odeiv2_driver_apply(drv, &t, times[k], z), GSL_SUCCESS);
    memcpy(out_states + k * n, z, n * sizeof *z);
  }
  gsl_odeiv2_driver_free(drv);
}

/* weight decay on x and y: the flow's state is e^{-wt} times the decay-free
 * state, and every scale-free metric equals the decay-free run's */
static void test_weight_decay_flow(void **state) {
  (void)state;
  fixture f;
  fx_open(&f, tu_equal(3, 6, 0.25, RC_PATTERN_RING, 2), "minimal", RC_ENCODER_TABLE, 3, 0, RC_RATES_DEGREE, 3);
  const double w = 0.3, times[4] = {0.5, 2, 8, 20};
  const size_t N = f.ds->n_samples, K = f.ds->n_classes, d = 3;
  rc_train_settings t0 = rc_train_settings_default(), tw = t0;
  tw.opt.weight_decay = w;
  rc_trainer *a = trainer(&f, &t0, 0, 0), *b = trainer(&f, &tw, 0, 0);
  double *za = malloc(f.n * sizeof *za), *zb = malloc(f.n * sizeof *zb);
  double *sa = malloc(4 * f.n * sizeof *sa), *sb = malloc(4 * f.n * sizeof *sb);
  memcpy(za, f.theta0, f.n * sizeof *za);
  memcpy(zb, f.theta0, f.n * sizeof *zb);
  flow_integrate(a, za, times, 4, sa);
  flow_integrate(b, zb, times, 4, sb);
  rc_state *s0 = tu_init(f.ds, d, 3), *s1 = tu_init(f.ds, d, 3), *init = tu_init(f.ds, d, 3);
  memcpy(init->z, f.theta0, (N + K) * d * sizeof(double));
  rc_metrics_ref ref = rc_metrics_reference(init);
  for (size_t k = 0; k < 4; k++) {
    double sc = exp(-w * times[k]), mx = tu_max_abs(sa + k * f.n, f.n);
    for (size_t q = 0; q < f.n; q++) assert_close(sb[k * f.n + q], sc * sa[k * f.n + q], 1e-12 * sc * mx);
    memcpy(s0->z, sa + k * f.n, f.n * sizeof(double));
    memcpy(s1->z, sb + k * f.n, f.n * sizeof(double));
    assert_close(rc_relative_label_distance(s1), rc_relative_label_distance(s0), 1e-12 * rc_relative_label_distance(s0));
    assert_close(rc_angular_label_distance(s1), rc_angular_label_distance(s0), 1e-12 * rc_angular_label_distance(s0));
    rc_metrics_row r0, r1;
    rc_metrics_compute(f.ds, s0, &ref, times[k], &r0);
    rc_metrics_compute(f.ds, s1, &ref, times[k], &r1);
    assert_true(r0.value[RC_M_ACCURACY] == r1.value[RC_M_ACCURACY]);
    assert_true(r0.value[RC_M_ACCURACY_FRUSTRATED] == r1.value[RC_M_ACCURACY_FRUSTRATED]);
    assert_close(r1.value[RC_M_LABEL_EFFECTIVE_RANK], r0.value[RC_M_LABEL_EFFECTIVE_RANK], 1e-12 * r0.value[RC_M_LABEL_EFFECTIVE_RANK]);
    /* D itself shrinks by e^{-wt} */
    assert_close(r1.value[RC_M_MIN_LABEL_DISTANCE], sc * r0.value[RC_M_MIN_LABEL_DISTANCE], 1e-12 * r0.value[RC_M_MIN_LABEL_DISTANCE]);
  }
  /* a subset of the parameters breaks it */
  rc_train_settings tx = tw;
  tx.decay_on = RC_DECAY_X;
  rc_trainer *c = trainer(&f, &tx, 0, 0);
  double *zc = malloc(f.n * sizeof *zc), *sc_ = malloc(4 * f.n * sizeof *sc_);
  memcpy(zc, f.theta0, f.n * sizeof *zc);
  flow_integrate(c, zc, times, 4, sc_);
  memcpy(s0->z, sa + 3 * f.n, f.n * sizeof(double));
  memcpy(s1->z, sc_ + 3 * f.n, f.n * sizeof(double));
  assert_true(fabs(rc_relative_label_distance(s1) - rc_relative_label_distance(s0)) > 1e-6);
  rc_trainer_free(a);
  rc_trainer_free(b);
  rc_trainer_free(c);
  rc_state_free(s0);
  rc_state_free(s1);
  rc_state_free(init);
  free(za);
  free(zb);
  free(zc);
  free(sa);
  free(sb);
  free(sc_);
  fx_close(&f);
}

/* ---- EMA targets on x-sg(y)+y-sg(x): the augmented linear system ---- */

/* the generator per coordinate (d = 1), written out from 6.1: z = [x, y, xbar, ybar]
 *   dx_i = -s_i sum_c A_ic (x_i - ybar_c),  dy_c = -s_c sum_i A_ic (y_c - xbar_i),
 *   dxbar = kappa (x - xbar),               dybar = kappa (y - ybar)
 * (s: the degree scheme's eta / weight; the loss of each term is the minimal model's) */
static void ema_generator(const rc_dataset *ds, double kappa, double *G) {
  const size_t N = ds->n_samples, K = ds->n_classes, m = N + K, n2 = 2 * m;
  memset(G, 0, n2 * n2 * sizeof *G);
  for (size_t i = 0; i < N; i++)
    for (size_t e = ds->row_ptr[i]; e < ds->row_ptr[i + 1]; e++) {
      size_t c = ds->labels[e];
      double A = ds->counts[e], si = 1.0 / ds->sample_weight[i], sc = 1.0 / ds->class_weight[c];
      G[i * n2 + i] -= si * A;
      G[i * n2 + (m + N + c)] += si * A;
      G[(N + c) * n2 + (N + c)] -= sc * A;
      G[(N + c) * n2 + (m + i)] += sc * A;
    }
  for (size_t k = 0; k < m; k++) {
    G[(m + k) * n2 + k] += kappa;
    G[(m + k) * n2 + (m + k)] -= kappa;
  }
}

static void eigenvalues(const double *A, size_t n, double complex *ev) {
  gsl_matrix *m = gsl_matrix_alloc(n, n);
  memcpy(m->data, A, n * n * sizeof(double));
  gsl_vector_complex *v = gsl_vector_complex_alloc(n);
  gsl_eigen_nonsymm_workspace *w = gsl_eigen_nonsymm_alloc(n);
  assert_int_equal(gsl_eigen_nonsymm(m, v, w), GSL_SUCCESS);
  for (size_t k = 0; k < n; k++) {
    gsl_complex z = gsl_vector_complex_get(v, k);
    ev[k] = GSL_REAL(z) + I * GSL_IMAG(z);
  }
  gsl_eigen_nonsymm_free(w);
  gsl_vector_complex_free(v);
  gsl_matrix_free(m);
}

/* the slowest decay among the modes that are not conserved: min over |Re| > tol of -Re (flow) */
static double slowest_flow_rate(const double complex *ev, size_t n, int *has_complex) {
  double best = INFINITY;
  *has_complex = 0;
  for (size_t k = 0; k < n; k++) {
    if (fabs(cimag(ev[k])) > 1e-9) *has_complex = 1;
    if (cabs(ev[k]) > 1e-9 && -creal(ev[k]) < best) best = -creal(ev[k]);
  }
  return best;
}

static void test_ema_flow_eigenvalues(void **state) {
  (void)state;
  size_t sz[1] = {100};
  fixture f;
  fx_open(&f, tu_generate(2, sz, 1, "0-1:8", -1, RC_PATTERN_PAIR, 1), "x-sg(y)+y-sg(x)", RC_ENCODER_TABLE, 1, 0,
          RC_RATES_DEGREE, 7);
  const size_t N = f.ds->n_samples, K = f.ds->n_classes, m = N + K, n2 = 2 * m;
  double plain_slow = rc_two_class_slow_rate(RC_RATES_DEGREE, 1, 1, 100, 8);
  double *G = malloc(n2 * n2 * sizeof *G), *Gc = malloc(n2 * n2 * sizeof *Gc), *e = calloc(n2, sizeof *e),
         *col = malloc(n2 * sizeof *col);
  double complex *ev = malloc(n2 * sizeof *ev);
  const double kappas[] = {2.0, 10.0, 100.0, 1000.0};
  for (size_t kk = 0; kk < 4; kk++) {
    double kappa = kappas[kk];
    rc_train_settings t = rc_train_settings_default();
    t.ema = RC_EMA_RATE;
    t.ema_rate = kappa;
    rc_trainer *tr = trainer(&f, &t, 0, 0);
    assert_int_equal(rc_trainer_flow_size(tr), n2);
    ema_generator(f.ds, kappa, G);
    /* the code's flow field is that linear map (probed column by column) */
    for (size_t j = 0; j < n2; j++) {
      e[j] = 1.0;
      rc_trainer_flow_field(tr, e, col);
      e[j] = 0.0;
      for (size_t i = 0; i < n2; i++) Gc[i * n2 + j] = col[i];
    }
    assert_true(tu_max_abs_diff(G, Gc, n2 * n2) <= 1e-13 * (1 + kappa));
    eigenvalues(G, n2, ev);
    int has_complex;
    double slow = slowest_flow_rate(ev, n2, &has_complex);
    if (kk == 0) assert_true(has_complex); /* the augmented system is not symmetric */
    /* the 1/kappa approach to plain sg */
    if (!(fabs(slow - plain_slow) <= 0.1 / kappa)) fail_msg("kappa %g: slow rate %.12g, plain sg %.12g", kappa, slow, plain_slow);
    if (kk == 1) {
      /* the fitted decay of D along the flow equals the slowest rate */
      double times[60], *st = malloc(60 * n2 * sizeof *st), *z = malloc(n2 * sizeof *z), D[60];
      for (int q = 0; q < 60; q++) times[q] = 20.0 + 4.0 * q;
      rc_trainer_flow_init(tr, f.theta0, z);
      flow_integrate(tr, z, times, 60, st);
      for (int q = 0; q < 60; q++) D[q] = fabs(st[q * n2 + N] - st[q * n2 + N + 1]);
      int found = 0;
      double fit = rc_fitted_decay_rate(times, D, 60, 0, &found);
      assert_true(found);
      assert_close(fit, slow, 1e-6 * slow);
      free(st);
      free(z);
    }
    rc_trainer_free(tr);
  }
  free(G);
  free(Gc);
  free(e);
  free(col);
  free(ev);
  (void)K;
  fx_close(&f);
}

/* discrete: the one-step matrix of gd + EMA by hand,
 *   z' = z + dt (A z + B bar),  bar' = bar + alpha (z' - bar),
 * against the trainer's step (probed through a restored theta_bar), and the
 * fitted decay of D per unit time against -ln|mu| / dt of its eigenvalues */
static void test_ema_discrete_eigenvalues(void **state) {
  (void)state;
  size_t sz[1] = {6};
  fixture f;
  fx_open(&f, tu_generate(2, sz, 1, "0-1:2", -1, RC_PATTERN_PAIR, 1), "x-sg(y)+y-sg(x)", RC_ENCODER_TABLE, 1, 0,
          RC_RATES_DEGREE, 7);
  const size_t N = f.ds->n_samples, K = f.ds->n_classes, m = N + K, n2 = 2 * m;
  const double dt = 0.1, tau = 0.8, alpha = 1 - tau;
  double *G = malloc(n2 * n2 * sizeof *G), *S = calloc(n2 * n2, sizeof *S), *Sc = malloc(n2 * n2 * sizeof *Sc);
  ema_generator(f.ds, 0.0, G); /* the online rows: [A | B] (kappa 0: bar rows vanish) */
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n2; j++) {
      double zrow = (i == j ? 1.0 : 0.0) + dt * G[i * n2 + j]; /* z' row i */
      S[i * n2 + j] = zrow;
      S[(m + i) * n2 + j] = alpha * zrow + (j == m + i ? 1.0 - alpha : 0.0);
    }
  rc_train_settings t = rc_train_settings_default();
  t.ema = RC_EMA_TAU;
  t.ema_tau = tau;
  rc_trainer *tr = trainer(&f, &t, 1, dt);
  size_t ns = rc_trainer_state_size(tr);
  double *sv = calloc(ns, sizeof *sv), *th = malloc(m * sizeof *th);
  rc_error err;
  for (size_t j = 0; j < n2; j++) {
    memset(sv, 0, ns * sizeof *sv);
    memset(th, 0, m * sizeof *th);
    if (j < m) th[j] = 1.0;
    else sv[ns - m + (j - m)] = 1.0;
    assert_int_equal(rc_trainer_restore(tr, sv, &err), RC_OK);
    assert_int_equal(rc_trainer_step(tr, th, NULL, &err), RC_OK);
    const double *bar = rc_trainer_targets(tr);
    for (size_t i = 0; i < m; i++) {
      Sc[i * n2 + j] = th[i];
      Sc[(m + i) * n2 + j] = bar[i];
    }
  }
  assert_true(tu_max_abs_diff(S, Sc, n2 * n2) <= 1e-14);
  double complex *ev = malloc(n2 * sizeof *ev);
  eigenvalues(S, n2, ev);
  double best = 0; /* the largest |mu| below 1 */
  int has_complex = 0;
  for (size_t k = 0; k < n2; k++) {
    if (fabs(cimag(ev[k])) > 1e-9) has_complex = 1;
    if (cabs(ev[k]) < 1 - 1e-9 && cabs(ev[k]) > best) best = cabs(ev[k]);
  }
  assert_true(has_complex);
  double predicted = -log(best) / dt;
  /* iterate from the initial state, fit D */
  rc_trainer_free(tr);
  tr = trainer(&f, &t, 1, dt);
  double *z = malloc(m * sizeof *z), ts[80], D[80];
  memcpy(z, f.theta0, m * sizeof *z);
  int q = 0;
  for (int k = 0; k <= 2000; k++) {
    if (k >= 400 && k % 20 == 0 && q < 80) {
      ts[q] = k * dt;
      D[q++] = fabs(z[N] - z[N + 1]);
    }
    assert_int_equal(rc_trainer_step(tr, z, NULL, &err), RC_OK);
  }
  int found = 0;
  double fit = rc_fitted_decay_rate(ts, D, (size_t)q, 0, &found);
  assert_true(found);
  assert_close(fit, predicted, 1e-6 * predicted);
  rc_trainer_free(tr);
  free(G);
  free(S);
  free(Sc);
  free(sv);
  free(th);
  free(ev);
  free(z);
  (void)K;
  fx_close(&f);
}

/* checkpoint and resume bit for bit: every optimizer, with weight decay, a
 * minibatch and EMA targets, on the table and the linear encoder */
static void resume_case(rc_encoder_kind enc, const char *terms, int ema) {
  fixture f;
  fx_open(&f, tu_equal(3, 8, 0.2, RC_PATTERN_RING, 2), terms, enc, 3, 40, RC_RATES_DEGREE, 6);
  for (int kind = 0; kind < RC_N_OPTIMIZERS; kind++) {
    rc_train_settings t = rc_train_settings_default();
    t.opt.kind = (rc_optimizer_kind)kind;
    t.opt.momentum = 0.5;
    t.opt.weight_decay = 0.01;
    t.batch = 7;
    if (ema) {
      t.ema = RC_EMA_TAU;
      t.ema_tau = 0.7;
    }
    double dt = enc == RC_ENCODER_LINEAR ? 0.002 : 0.005;
    rc_trainer *a = trainer(&f, &t, 1, dt);
    double *x = malloc(f.n * sizeof *x), *y = malloc(f.n * sizeof *y);
    memcpy(x, f.theta0, f.n * sizeof *x);
    run_steps(a, x, 23);
    size_t ns = rc_trainer_state_size(a);
    double *sv = malloc(ns * sizeof *sv);
    rc_trainer_save(a, sv);
    memcpy(y, x, f.n * sizeof *y);
    rc_trainer *b = trainer(&f, &t, 1, dt);
    rc_error err;
    assert_int_equal(rc_trainer_restore(b, sv, &err), RC_OK);
    run_steps(a, x, 31);
    run_steps(b, y, 31);
    assert_memory_equal(x, y, f.n * sizeof *x);
    if (ema) assert_memory_equal(rc_trainer_targets(a), rc_trainer_targets(b), f.n * sizeof *x);
    for (size_t k = 0; k < f.n; k++) assert_true(isfinite(x[k]));
    assert_true(tu_max_abs_diff(x, f.theta0, f.n) > 1e-6); /* it moved */
    rc_trainer_free(a);
    rc_trainer_free(b);
    free(x);
    free(y);
    free(sv);
  }
  fx_close(&f);
}

static void test_resume_table(void **state) {
  (void)state;
  resume_case(RC_ENCODER_TABLE, "minimal", 0);
  resume_case(RC_ENCODER_TABLE, "siam-sg", 1);
}

static void test_resume_linear(void **state) {
  (void)state;
  resume_case(RC_ENCODER_LINEAR, "minimal", 0);
  resume_case(RC_ENCODER_LINEAR, "siam-sg", 1);
}

/* ---- the time loop every encoder's run shares (experiment/engine_loop.c) ---- */
typedef struct {
  size_t n, n_rec, n_saved;
  double rec[64][400];   /* theta at each recorded time (first n values) */
  double tbar[64][400];  /* the targets the observer saw */
  rc_engine_resume_point saved[8];
  double payload[8][2000];
} loop_log;

static rc_status log_observe(double t, size_t step, const double *theta, const rc_trainer *tr, void *ctx,
                             rc_error *err) {
  (void)t, (void)step, (void)err;
  loop_log *g = ctx;
  memcpy(g->rec[g->n_rec], theta, g->n * sizeof *theta);
  const double *bar = rc_trainer_targets(tr);
  if (bar) memcpy(g->tbar[g->n_rec], bar, g->n * sizeof *bar);
  g->n_rec++;
  return RC_OK;
}

static rc_status log_save(const rc_engine_resume_point *p, void *ctx, rc_error *err) {
  (void)err;
  loop_log *g = ctx;
  if (g->n_saved == 8) return RC_OK;
  assert_true(p->n_z <= 2000);
  g->saved[g->n_saved] = *p;
  memcpy(g->payload[g->n_saved], p->z, p->n_z * sizeof *p->z);
  g->saved[g->n_saved].z = g->payload[g->n_saved];
  g->n_saved++;
  return RC_OK;
}

/* the loop on the linear encoder (theta = [W | y | P]): a run continued from
 * any of its resume points records the same parameters and targets bit for
 * bit, discrete (Adam, a minibatch, EMA, decay) and in flow (decay, EMA);
 * the flow's records against GSL's rk8pd on the trainer's field (another
 * integrator, tight tolerances) */
static void loop_case(rc_integrator integ) {
  fixture f;
  fx_open(&f, tu_equal(3, 8, 0.2, RC_PATTERN_RING, 2), "siam-sg", RC_ENCODER_LINEAR, 3, 12, RC_RATES_DEGREE, 6);
  assert_true(f.n <= 400);
  rc_train_settings t = rc_train_settings_default();
  t.opt.weight_decay = 0.01;
  double dt = 0.002, grid[12];
  if (integ == RC_INTEGRATOR_GD) {
    t.opt.kind = RC_OPTIMIZER_ADAM;
    t.batch = 7;
    t.ema = RC_EMA_TAU;
    t.ema_tau = 0.7;
  } else {
    t.ema = RC_EMA_RATE;
    t.ema_rate = 3.0;
  }
  for (int k = 0; k < 12; k++) grid[k] = dt * (double)(40 * k);
  loop_log *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
  a->n = b->n = f.n;
  rc_engine_checkpointing ck = {0.1, log_save, a, NULL};
  rc_engine_loop L = {f.e, &f.spec, &t, integ, dt, 1e-9, 1, grid, 12, NULL, NULL, 1e-12, 1e-14, 0, &ck};
  rc_error err;
  if (rc_engine_loop_run(&L, f.theta0, log_observe, a, &err)) fail_msg("loop: %s", err.msg);
  assert_int_equal(a->n_rec, 12);
  assert_true(a->n_saved >= 3);
  assert_true(tu_max_abs_diff(a->rec[11], f.theta0, f.n) > 1e-4); /* it moved */
  for (size_t s = 0; s < a->n_saved; s++) {
    const rc_engine_resume_point *p = &a->saved[s];
    memset(b, 0, sizeof *b);
    b->n = f.n;
    b->n_rec = p->next_time;
    rc_engine_checkpointing ck2 = {0.1, log_save, b, p};
    L.ck = &ck2;
    if (rc_engine_loop_run(&L, f.theta0, log_observe, b, &err)) fail_msg("resumed loop: %s", err.msg);
    assert_int_equal(b->n_rec, 12);
    for (size_t k = p->next_time; k < 12; k++) {
      assert_memory_equal(a->rec[k], b->rec[k], f.n * sizeof(double));
      assert_memory_equal(a->tbar[k], b->tbar[k], f.n * sizeof(double));
    }
  }
  /* a payload of another size is refused */
  rc_engine_resume_point bad = a->saved[0];
  bad.n_z -= 1;
  rc_engine_checkpointing ck3 = {0.1, log_save, b, &bad};
  L.ck = &ck3;
  assert_int_equal(rc_engine_loop_run(&L, f.theta0, log_observe, b, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "does not fit this run"));
  if (integ == RC_INTEGRATOR_RK45) {
    rc_trainer *tr = trainer(&f, &t, 0, 0);
    size_t n2 = rc_trainer_flow_size(tr);
    double *z = malloc(n2 * sizeof *z), *st = malloc(12 * n2 * sizeof *st);
    rc_trainer_flow_init(tr, f.theta0, z);
    flow_integrate(tr, z, grid, 12, st);
    for (size_t k = 0; k < 12; k++) {
      double mx = tu_max_abs(st + k * n2, f.n);
      assert_true(tu_max_abs_diff(a->rec[k], st + k * n2, f.n) <= 1e-9 * mx);
      assert_true(tu_max_abs_diff(a->tbar[k], st + k * n2 + f.n, f.n) <= 1e-9 * mx);
    }
    rc_trainer_free(tr);
    free(z);
    free(st);
  }
  free(a);
  free(b);
  fx_close(&f);
}

static void test_loop_discrete_linear(void **state) {
  (void)state;
  loop_case(RC_INTEGRATOR_GD);
}

static void test_loop_flow_linear(void **state) {
  (void)state;
  loop_case(RC_INTEGRATOR_RK45);
}

/* summary.json's record: the momentum regime of the slow mode, Adam's note */
static void test_settings_json(void **state) {
  (void)state;
  double slow = rc_two_class_slow_rate(RC_RATES_DEGREE, 1, 1, 100, 8);
  rc_train_settings t = rc_train_settings_default();
  t.opt.kind = RC_OPTIMIZER_MOMENTUM;
  t.opt.momentum = 0.5;
  json_t *j = rc_trainer_settings_json(&t, 0.1, slow, 1, 1);
  assert_string_equal(json_string_value(json_object_get(j, "momentum_regime")), "overdamped");
  assert_close(json_real_value(json_object_get(j, "predicted_slow_decay_rate")), 0.076373, 5e-7);
  json_decref(j);
  t.opt.momentum = 0.9;
  j = rc_trainer_settings_json(&t, 0.1, slow, 1, 1);
  assert_string_equal(json_string_value(json_object_get(j, "momentum_regime")), "underdamped");
  json_decref(j);
  t.opt.kind = RC_OPTIMIZER_ADAM;
  j = rc_trainer_settings_json(&t, 0.1, slow, 1, 1);
  assert_non_null(strstr(json_string_value(json_object_get(j, "rate_scheme_note")), "invariant"));
  assert_null(json_object_get(j, "momentum_regime"));
  json_decref(j);
  t.batch = 5;
  j = rc_trainer_settings_json(&t, 0.1, slow, 40, 1);
  assert_int_equal(json_integer_value(json_object_get(j, "batch_seed")), 42);
  json_decref(j);
}

int main(void) {
  gsl_set_error_handler_off();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_batch_equals_full),       cmocka_unit_test(test_batch_unbiased_engine),
      cmocka_unit_test(test_batch_refusal),           cmocka_unit_test(test_ema_zero_and_refusals),
      cmocka_unit_test(test_weight_decay_flow),       cmocka_unit_test(test_ema_flow_eigenvalues),
      cmocka_unit_test(test_ema_discrete_eigenvalues), cmocka_unit_test(test_resume_table),
      cmocka_unit_test(test_resume_linear),           cmocka_unit_test(test_settings_json),
      cmocka_unit_test(test_loop_discrete_linear),    cmocka_unit_test(test_loop_flow_linear),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
