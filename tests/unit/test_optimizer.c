/* test_optimizer.c: the optimizers, their closed-form rates, the minibatch
 * schedule and the EMA update (docs/model.md section 6.1), each against something
 * independent: the scalar recursion iterated directly, the fitted decay of D
 * on the minimal model (the field of model.h, not the optimizer's algebra),
 * the step-by-step formulas written out here, and the sampling variance of
 * the batch mean. PyTorch's optimizers are compared in
 * tests/reference/optim_ref.py through tests/unit/optim_trace.c. */
#include "testutil.h"

#include <complex.h>

#include "repcollapse/optimizer.h"

static rc_optimizer *make_opt(rc_optimizer_kind kind, double beta, double w, const rc_param_block *blocks, size_t nb,
                              size_t n) {
  rc_optimizer_params p = rc_optimizer_params_default();
  p.kind = kind;
  p.momentum = beta;
  p.weight_decay = w;
  rc_optimizer *o = NULL;
  rc_error err;
  if (rc_optimizer_alloc(&p, blocks, nb, n, &o, &err)) fail_msg("alloc: %s", err.msg);
  return o;
}

static void test_parse_names(void **state) {
  (void)state;
  const char *names[] = {"gd", "momentum", "nesterov", "adam", "adamw"};
  for (int k = 0; k < RC_N_OPTIMIZERS; k++) {
    rc_optimizer_kind o;
    rc_error err;
    assert_int_equal(rc_parse_optimizer(names[k], &o, &err), RC_OK);
    assert_int_equal(o, k);
    assert_string_equal(rc_optimizer_name(o), names[k]);
  }
  rc_optimizer_kind o;
  rc_error err;
  assert_int_equal(rc_parse_optimizer("sgd2", &o, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "gd|momentum|nesterov|adam|adamw"));
  rc_optimizer_params p = rc_optimizer_params_default();
  assert_int_equal(p.kind, RC_OPTIMIZER_GD);
  assert_true(p.momentum == 0.9 && p.beta1 == 0.9 && p.beta2 == 0.999 && p.adam_eps == 1e-8 && p.weight_decay == 0);
  p.kind = RC_OPTIMIZER_MOMENTUM;
  p.momentum = 1.0;
  assert_int_equal(rc_optimizer_params_check(&p, &err), RC_EINVAL);
  p.momentum = 0.5;
  p.weight_decay = -1;
  assert_int_equal(rc_optimizer_params_check(&p, &err), RC_EINVAL);
  p.weight_decay = NAN;
  assert_int_equal(rc_optimizer_params_check(&p, &err), RC_EINVAL);
  p = rc_optimizer_params_default();
  p.kind = RC_OPTIMIZER_ADAM;
  p.adam_eps = 0;
  assert_int_equal(rc_optimizer_params_check(&p, &err), RC_EINVAL);
  p.adam_eps = 1e-8;
  p.beta2 = 1.0;
  assert_int_equal(rc_optimizer_params_check(&p, &err), RC_EINVAL);
  /* a block outside theta, a block without a rate */
  rc_param_block bad = {"x", 3, 5, 1.0, 1};
  rc_optimizer *opt = NULL;
  p = rc_optimizer_params_default();
  assert_int_equal(rc_optimizer_alloc(&p, &bad, 1, 6, &opt, &err), RC_EINVAL);
  assert_null(opt);
  bad.offset = 0;
  bad.eta = 0;
  assert_int_equal(rc_optimizer_alloc(&p, &bad, 1, 6, &opt, &err), RC_EINVAL);
}

/* gd without decay is z + dt F(z) bit for bit (the engine's fused kernel) */
static void test_gd_bit_identical(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(3, 20, 0.1, RC_PATTERN_RING, 4);
  rc_state *s = tu_init(ds, 5, 7);
  rc_minimal_params mp = rc_minimal_params_default();
  size_t n = rc_state_size(s);
  double *a = malloc(n * sizeof *a), *F = malloc(n * sizeof *F), *g = malloc(n * sizeof *g);
  memcpy(a, s->z, n * sizeof *a);
  rc_param_block blk[2] = {{"x", 0, ds->n_samples * 5, 1.0, 1}, {"y", ds->n_samples * 5, 3 * 5, 1.0, 1}};
  rc_optimizer *o = make_opt(RC_OPTIMIZER_GD, 0, 0, blk, 2, n);
  rc_error err;
  for (int step = 0; step < 50; step++) {
    rc_minimal_vector_field(ds, &mp, a, 5, F);
    for (size_t k = 0; k < n; k++) a[k] += 0.3 * F[k];
    rc_minimal_vector_field(ds, &mp, s->z, 5, F);
    for (size_t k = 0; k < n; k++) g[k] = -F[k];
    assert_int_equal(rc_optimizer_step(o, 0.3, s->z, g, &err), RC_OK);
  }
  assert_memory_equal(a, s->z, n * sizeof *a);
  assert_int_equal(rc_optimizer_steps(o), 50);
  rc_optimizer_free(o);
  free(a);
  free(F);
  free(g);
  rc_state_free(s);
  rc_dataset_free(ds);
}

/* every optimizer against its update written out by hand, two blocks with
 * their own eta and decay flag, one parameter outside every block */
static void test_formulas(void **state) {
  (void)state;
  const size_t n = 5;
  rc_param_block blk[2] = {{"x", 0, 2, 0.7, 1}, {"y", 2, 2, 1.3, 0}};
  const double w = 0.05, dt = 0.2, beta = 0.6;
  for (int kind = 0; kind < RC_N_OPTIMIZERS; kind++) {
    rc_optimizer_params p = rc_optimizer_params_default();
    p.kind = (rc_optimizer_kind)kind;
    p.momentum = beta;
    p.weight_decay = w;
    rc_optimizer *o = NULL;
    rc_error err;
    assert_int_equal(rc_optimizer_alloc(&p, blk, 2, n, &o, &err), RC_OK);
    double th[5] = {0.3, -1.2, 0.8, 2.0, 9.0}, ref[5];
    memcpy(ref, th, sizeof th);
    double buf[5] = {0}, m[5] = {0}, v[5] = {0};
    for (int t = 1; t <= 30; t++) {
      double g[5];
      for (size_t k = 0; k < n; k++) g[k] = sin(1.0 + k + 0.37 * t) * (1 + 0.1 * tanh(ref[k])) + 0.3 * ref[k];
      for (size_t k = 0; k < 4; k++) {
        double eta = k < 2 ? 0.7 : 1.3, wk = k < 2 ? w : 0.0, d = g[k] + wk * ref[k];
        if (kind == RC_OPTIMIZER_GD) ref[k] -= dt * d;
        if (kind == RC_OPTIMIZER_MOMENTUM) {
          buf[k] = beta * buf[k] + d;
          ref[k] -= dt * buf[k];
        }
        if (kind == RC_OPTIMIZER_NESTEROV) {
          buf[k] = beta * buf[k] + d;
          ref[k] -= dt * (d + beta * buf[k]);
        }
        if (kind == RC_OPTIMIZER_ADAM || kind == RC_OPTIMIZER_ADAMW) {
          double q = kind == RC_OPTIMIZER_ADAM ? d / eta : g[k] / eta;
          if (kind == RC_OPTIMIZER_ADAMW) ref[k] *= 1 - dt * eta * wk;
          m[k] = 0.9 * m[k] + 0.1 * q;
          v[k] = 0.999 * v[k] + 0.001 * q * q;
          double mh = m[k] / (1 - pow(0.9, t)), vh = v[k] / (1 - pow(0.999, t));
          ref[k] -= dt * eta * mh / (sqrt(vh) + 1e-8);
        }
      }
      assert_int_equal(rc_optimizer_step(o, dt, th, g, &err), RC_OK);
      for (size_t k = 0; k < n; k++) assert_close(th[k], ref[k], 1e-13 * (1 + fabs(ref[k])));
    }
    assert_true(th[4] == 9.0); /* outside every block: untouched */
    rc_optimizer_free(o);
  }
}

/* Adam is invariant to a constant factor on a block's gradient up to eps */
static void test_adam_scale_invariance(void **state) {
  (void)state;
  rc_param_block blk = {"x", 0, 3, 1.0, 1};
  rc_optimizer_params p = rc_optimizer_params_default();
  p.kind = RC_OPTIMIZER_ADAM;
  p.adam_eps = 1e-300;
  rc_optimizer *a = NULL, *b = NULL;
  rc_error err;
  assert_int_equal(rc_optimizer_alloc(&p, &blk, 1, 3, &a, &err), RC_OK);
  assert_int_equal(rc_optimizer_alloc(&p, &blk, 1, 3, &b, &err), RC_OK);
  double x[3] = {1, -2, 0.5}, y[3] = {1, -2, 0.5};
  for (int t = 0; t < 40; t++) {
    double ga[3], gb[3];
    for (int k = 0; k < 3; k++) {
      ga[k] = x[k] - 0.3 * k;
      gb[k] = 37.0 * (y[k] - 0.3 * k);
    }
    rc_optimizer_step(a, 0.05, x, ga, &err);
    rc_optimizer_step(b, 0.05, y, gb, &err);
  }
  for (int k = 0; k < 3; k++) assert_close(x[k], y[k], 1e-13);
  rc_optimizer_free(a);
  rc_optimizer_free(b);
}

/* checkpoint and resume bit for bit, every optimizer */
static void test_save_restore(void **state) {
  (void)state;
  rc_param_block blk[2] = {{"x", 0, 3, 1.0, 1}, {"y", 3, 3, 0.5, 1}};
  for (int kind = 0; kind < RC_N_OPTIMIZERS; kind++) {
    rc_optimizer *o = make_opt((rc_optimizer_kind)kind, 0.7, 0.01, blk, 2, 6);
    rc_error err;
    double th[6] = {1, 2, 3, -1, -2, 0.1}, g[6];
    for (int t = 0; t < 13; t++) {
      for (int k = 0; k < 6; k++) g[k] = th[k] * th[k] * 0.1 - cos(th[(k + 1) % 6]);
      rc_optimizer_step(o, 0.1, th, g, &err);
    }
    size_t ns = rc_optimizer_state_size(o);
    assert_int_equal(ns, 1 + (kind == 0 ? 0 : kind <= 2 ? 6 : 12));
    double *sv = malloc(ns * sizeof *sv), th2[6];
    rc_optimizer_save(o, sv);
    memcpy(th2, th, sizeof th);
    rc_optimizer *r = make_opt((rc_optimizer_kind)kind, 0.7, 0.01, blk, 2, 6);
    assert_int_equal(rc_optimizer_restore(r, sv, &err), RC_OK);
    assert_int_equal(rc_optimizer_steps(r), 13);
    for (int t = 0; t < 17; t++) {
      for (int k = 0; k < 6; k++) g[k] = th[k] * th[k] * 0.1 - cos(th[(k + 1) % 6]);
      rc_optimizer_step(o, 0.1, th, g, &err);
      for (int k = 0; k < 6; k++) g[k] = th2[k] * th2[k] * 0.1 - cos(th2[(k + 1) % 6]);
      rc_optimizer_step(r, 0.1, th2, g, &err);
    }
    assert_memory_equal(th, th2, sizeof th);
    sv[0] = 2.5; /* not a step count */
    assert_int_equal(rc_optimizer_restore(r, sv, &err), RC_EINVAL);
    if (ns > 1) {
      sv[0] = 3;
      sv[1] = NAN;
      assert_int_equal(rc_optimizer_restore(r, sv, &err), RC_EINVAL);
    }
    free(sv);
    rc_optimizer_free(o);
    rc_optimizer_free(r);
  }
}

static void test_non_finite_stops(void **state) {
  (void)state;
  rc_param_block blk = {"x", 0, 2, 1.0, 1};
  rc_optimizer *o = make_opt(RC_OPTIMIZER_MOMENTUM, 0.9, 0, &blk, 1, 2);
  double th[2] = {1, 1}, g[2] = {1e308, 0};
  rc_error err;
  rc_optimizer_step(o, 1.0, th, g, &err);
  g[0] = -1e308;
  assert_int_equal(rc_optimizer_step(o, 1e10, th, g, &err), RC_ENUMERIC);
  assert_non_null(strstr(err.msg, "non-finite"));
  rc_optimizer_free(o);
}

/* the refusals of 6.1, each at its bound and just below it */
static void test_check_step(void **state) {
  (void)state;
  rc_optimizer_params p = rc_optimizer_params_default();
  rc_error err;
  const double fast = 3.0, w = 0.5;
  p.weight_decay = w;
  struct {
    rc_optimizer_kind k;
    double beta, bound;
    const char *form;
  } cases[] = {{RC_OPTIMIZER_GD, 0.9, 2.0, ">= 2 ="},
               {RC_OPTIMIZER_MOMENTUM, 0.5, 3.0, "2 (1 + beta)"},
               {RC_OPTIMIZER_NESTEROV, 0.5, 1.5, "2 (1 + beta) / (1 + 2 beta)"}};
  for (size_t c = 0; c < 3; c++) {
    p.kind = cases[c].k;
    p.momentum = cases[c].beta;
    assert_close(rc_optimizer_step_bound(&p), cases[c].bound, 1e-15);
    double dt = cases[c].bound / (fast + w);
    assert_int_equal(rc_optimizer_check_step(&p, dt, fast, &err), RC_EUNSTABLE);
    assert_non_null(strstr(err.msg, cases[c].form));
    assert_non_null(strstr(err.msg, "weight_decay"));
    assert_int_equal(rc_optimizer_check_step(&p, dt * (1 - 1e-9), fast, &err), RC_OK);
  }
  p.kind = RC_OPTIMIZER_ADAM;
  assert_int_equal(rc_optimizer_check_step(&p, 100.0, fast, &err), RC_OK);
  p.kind = RC_OPTIMIZER_ADAMW;
  assert_int_equal(rc_optimizer_check_step(&p, 100.0, fast, &err), RC_OK);
  assert_int_equal(rc_optimizer_check_step(&p, -1.0, fast, &err), RC_EINVAL);
}

/* the flow's decay term: F -= w theta on decayed blocks only */
static void test_flow_decay(void **state) {
  (void)state;
  rc_param_block blk[2] = {{"x", 0, 2, 1.0, 1}, {"y", 2, 2, 1.0, 0}};
  rc_optimizer_params p = rc_optimizer_params_default();
  p.weight_decay = 0.25;
  double th[4] = {1, 2, 3, 4}, F[4] = {0, 0, 0, 0};
  rc_optimizer_flow_decay(&p, blk, 2, th, F);
  assert_true(F[0] == -0.25 && F[1] == -0.5 && F[2] == 0 && F[3] == 0);
}

/* ---- closed-form mode rates against the scalar recursion iterated directly ---- */

/* iterate the optimizer itself on one mode g = lambda theta; return the
 * per-step log-decay over [k1, k2] from the energy theta_k^2 + theta_{k+1}^2 */
static double iterate_mode(rc_optimizer_kind kind, double beta, double dt, double lambda, int k1, int k2,
                           double *hist, int nh) {
  rc_param_block blk = {"z", 0, 1, 1.0, 1};
  rc_optimizer *o = make_opt(kind, beta, 0, &blk, 1, 1);
  double th = 1.0, g, e1 = 0, e2 = 0, prev = th;
  rc_error err;
  for (int k = 0; k <= k2 + 1; k++) {
    if (k < nh) hist[k] = th;
    if (k == k1 + 1) e1 = prev * prev + th * th;
    if (k == k2 + 1) e2 = prev * prev + th * th;
    prev = th;
    g = lambda * th;
    rc_optimizer_step(o, dt, &th, &g, &err);
  }
  rc_optimizer_free(o);
  return 0.5 * log(e2 / e1) / (k2 - k1);
}

static void test_mode_rates(void **state) {
  (void)state;
  const double betas[] = {0.0, 0.5, 0.9};
  const double hs[] = {0.01, 0.05, 0.0858, 0.2, 1.0, 2.5, 2.9};
  for (int kind = 0; kind < 3; kind++)
    for (size_t b = 0; b < 3; b++)
      for (size_t j = 0; j < sizeof hs / sizeof *hs; j++) {
        double beta = betas[b], dt = 0.1, lambda = hs[j] / dt;
        rc_mode_rate mr;
        rc_error err;
        assert_int_equal(rc_optimizer_mode_rate((rc_optimizer_kind)kind, beta, dt, lambda, &mr, &err), RC_OK);
        double bound = kind == 0 ? 2.0 : kind == 1 ? 2 * (1 + beta) : 2 * (1 + beta) / (1 + 2 * beta);
        assert_int_equal(mr.stable, hs[j] < bound);
        /* the optimizer iterated on one mode obeys the recursion of 6.1 */
        double hist[200];
        iterate_mode((rc_optimizer_kind)kind, beta, dt, lambda, 1, 198, hist, 200);
        double h = hs[j];
        double c1 = kind == 0 ? (1 - h) : kind == 1 ? 1 + beta - h : (1 + beta) * (1 - h);
        double c0 = kind == 0 ? 0 : kind == 1 ? -beta : -beta * (1 - h);
        for (int k = 2; k < 200 && fabs(hist[k - 1]) < 1e100; k++)
          assert_close(hist[k], c1 * hist[k - 1] + c0 * hist[k - 2], 1e-12 * (1 + fabs(hist[k - 1]) + fabs(hist[k - 2])));
        /* the iterates are A r1^k + B r2^k with the roots of mode_rate (distinct roots) */
        double complex r1 = mr.root_re[0] + I * mr.root_im[0], r2 = mr.root_re[1] + I * mr.root_im[1];
        if (kind > 0 && cabs(r1 - r2) > 1e-3) {
          double complex A = (hist[1] - r2 * hist[0]) / (r1 - r2), Bc = hist[0] - A;
          double complex p1 = 1, p2 = 1;
          for (int k = 0; k < 200; k++, p1 *= r1, p2 *= r2) {
            double complex zk = A * p1 + Bc * p2;
            double scale = (cabs(A) + cabs(Bc)) * pow(mr.rho, k);
            if (scale > 1e100) break;
            assert_close(hist[k], creal(zk), 1e-10 * scale + 1e-300);
            assert_true(fabs(cimag(zk)) <= 1e-10 * scale + 1e-300);
          }
        } else if (kind == 0) {
          for (int k = 0; k < 200 && fabs(hist[k]) < 1e100; k++)
            assert_close(hist[k], pow(mr.root_re[0], k), 1e-12 * (1 + pow(mr.rho, k)));
        }
        /* the regime: overdamped iff the dominant root is real and positive */
        if (kind == 1) {
          double lo = pow(1 - sqrt(beta), 2), hi = pow(1 + sqrt(beta), 2);
          int is_complex = beta > 0 && h > lo && h < hi;
          if (is_complex) {
            assert_int_equal(mr.regime, RC_REGIME_UNDERDAMPED);
            assert_close(mr.rate, -log(beta) / (2 * dt), 1e-9 * fabs(log(beta) / dt));
          }
          if (h < lo) assert_int_equal(mr.regime, RC_REGIME_OVERDAMPED);
          if (h > hi) assert_int_equal(mr.regime, RC_REGIME_UNDERDAMPED);
        }
        if (kind == 0) assert_int_equal(mr.regime, h < 1 ? RC_REGIME_OVERDAMPED : RC_REGIME_UNDERDAMPED);
      }
  /* small h: about lambda / (1 - beta) */
  rc_mode_rate mr;
  rc_error err;
  rc_optimizer_mode_rate(RC_OPTIMIZER_MOMENTUM, 0.5, 1e-4, 1.0, &mr, &err);
  assert_close(mr.rate, 2.0, 1e-3);
  rc_optimizer_mode_rate(RC_OPTIMIZER_NESTEROV, 0.5, 1e-4, 1.0, &mr, &err);
  assert_close(mr.rate, 2.0, 1e-3);
  assert_int_equal(rc_optimizer_mode_rate(RC_OPTIMIZER_ADAM, 0.5, 0.1, 1.0, &mr, &err), RC_EINVAL);
  assert_int_equal(rc_optimizer_mode_rate(RC_OPTIMIZER_MOMENTUM, 1.0, 0.1, 1.0, &mr, &err), RC_EINVAL);
}

/* fit -log D(t) of an optimizer on the minimal model (field of model.h) */
static double fitted_rate_minimal(const rc_dataset *ds, rc_optimizer_kind kind, double beta, double dt, double w,
                                  double t_end, double t_start) {
  rc_state *s = tu_init(ds, 4, 11);
  rc_minimal_params mp = rc_minimal_params_default();
  size_t n = rc_state_size(s), N = ds->n_samples, K = ds->n_classes;
  rc_param_block blk[2] = {{"x", 0, N * 4, 1.0, 1}, {"y", N * 4, K * 4, 1.0, 1}};
  rc_optimizer *o = make_opt(kind, beta, w, blk, 2, n);
  size_t steps = (size_t)llround(t_end / dt);
  double *F = malloc(n * sizeof *F), *t = malloc((steps + 1) * sizeof *t), *D = malloc((steps + 1) * sizeof *D);
  rc_error err;
  for (size_t k = 0; k <= steps; k++) {
    t[k] = k * dt;
    D[k] = rc_min_label_distance(s);
    rc_minimal_vector_field(ds, &mp, s->z, 4, F);
    for (size_t q = 0; q < n; q++) F[q] = -F[q];
    assert_int_equal(rc_optimizer_step(o, dt, s->z, F, &err), RC_OK);
  }
  int found = 0;
  double r = rc_fitted_decay_rate(t, D, steps + 1, t_start, &found);
  assert_true(found);
  free(F);
  free(t);
  free(D);
  rc_optimizer_free(o);
  rc_state_free(s);
  return r;
}

/* docs/model.md 6.1: K = 2, n = 100, F = 8, beta = 0.5, dt = 0.1: fitted = predicted = 0.076373 */
static void test_momentum_fitted_decay(void **state) {
  (void)state;
  size_t sz[1] = {100};
  rc_dataset *ds = tu_generate(2, sz, 1, "0-1:8", -1, RC_PATTERN_PAIR, 1);
  rc_minimal_params mp = rc_minimal_params_default();
  rc_spectrum *sp = NULL;
  rc_error err;
  assert_int_equal(rc_spectrum_compute(ds, &mp, RC_SPECTRUM_AUTO, &sp, &err), RC_OK);
  assert_close(sp->slow_rate, rc_two_class_slow_rate(RC_RATES_DEGREE, 1, 1, 100, 8), 1e-12);
  rc_mode_rate mr;
  assert_int_equal(rc_optimizer_mode_rate(RC_OPTIMIZER_MOMENTUM, 0.5, 0.1, sp->slow_rate, &mr, &err), RC_OK);
  assert_close(mr.rate, 0.076373, 5e-7);
  assert_int_equal(mr.regime, RC_REGIME_OVERDAMPED);
  double fit = fitted_rate_minimal(ds, RC_OPTIMIZER_MOMENTUM, 0.5, 0.1, 0, 250, 5 / sp->next_rate);
  assert_close(fit, mr.rate, 1e-6);
  /* Nesterov, overdamped at beta = 0.5 too */
  assert_int_equal(rc_optimizer_mode_rate(RC_OPTIMIZER_NESTEROV, 0.5, 0.1, sp->slow_rate, &mr, &err), RC_OK);
  assert_int_equal(mr.regime, RC_REGIME_OVERDAMPED);
  fit = fitted_rate_minimal(ds, RC_OPTIMIZER_NESTEROV, 0.5, 0.1, 0, 250, 5 / sp->next_rate);
  assert_close(fit, mr.rate, 1e-6);
  /* gd with weight decay on every parameter: the root of lambda = slow_rate + w */
  assert_int_equal(rc_optimizer_mode_rate(RC_OPTIMIZER_GD, 0, 0.1, sp->slow_rate + 0.02, &mr, &err), RC_OK);
  fit = fitted_rate_minimal(ds, RC_OPTIMIZER_GD, 0, 0.1, 0.02, 200, 5 / sp->next_rate);
  assert_close(fit, mr.rate, 1e-6);
  /* beta = 0.9, dt = 0.1: even the slow mode is underdamped */
  assert_int_equal(rc_optimizer_mode_rate(RC_OPTIMIZER_MOMENTUM, 0.9, 0.1, sp->slow_rate, &mr, &err), RC_OK);
  assert_int_equal(mr.regime, RC_REGIME_UNDERDAMPED);
  assert_close(mr.rate, -log(0.9) / 0.2, 1e-9);
  rc_spectrum_free(sp);
  rc_dataset_free(ds);
}

/* ---- minibatch schedule ---- */

static void test_batch_partition(void **state) {
  (void)state;
  const size_t M = 23, B = 5;
  rc_batch_schedule *b = NULL;
  rc_error err;
  assert_int_equal(rc_batch_schedule_alloc(M, B, 42, &b, &err), RC_OK);
  assert_int_equal(rc_batch_count(b), 5);
  assert_int_equal(rc_batch_smallest(b), 3);
  int first_differs = 0;
  size_t first0[5] = {0};
  for (int epoch = 0; epoch < 4; epoch++) {
    int seen[23] = {0};
    for (size_t q = 0; q < 5; q++) {
      const size_t *idx;
      size_t len;
      double wgt;
      rc_batch_next(b, &idx, &len, &wgt);
      assert_int_equal(len, q < 4 ? 5 : 3);
      assert_true(wgt == (double)M / len);
      for (size_t k = 0; k < len; k++) {
        assert_true(idx[k] < M);
        if (k) assert_true(idx[k] > idx[k - 1]); /* data order */
        seen[idx[k]]++;
        if (q == 0 && epoch == 0) first0[k] = idx[k];
        if (q == 0 && epoch == 1 && idx[k] != first0[k]) first_differs = 1;
      }
    }
    for (size_t k = 0; k < M; k++) assert_int_equal(seen[k], 1);
  }
  assert_true(first_differs);
  rc_batch_schedule_free(b);
  /* B >= M: the whole data in data order, weight 1 */
  assert_int_equal(rc_batch_schedule_alloc(M, 100, 1, &b, &err), RC_OK);
  for (int s = 0; s < 3; s++) {
    const size_t *idx;
    size_t len;
    double wgt;
    rc_batch_next(b, &idx, &len, &wgt);
    assert_int_equal(len, M);
    assert_true(wgt == 1.0);
    for (size_t k = 0; k < M; k++) assert_int_equal(idx[k], k);
  }
  rc_batch_schedule_free(b);
  assert_int_equal(rc_batch_schedule_alloc(M, 0, 1, &b, &err), RC_EINVAL);
  assert_int_equal(rc_batch_schedule_alloc(0, 3, 1, &b, &err), RC_EINVAL);
}

static void test_batch_resume_and_seed(void **state) {
  (void)state;
  rc_batch_schedule *a = NULL, *b = NULL, *c = NULL;
  rc_error err;
  assert_int_equal(rc_batch_schedule_alloc(50, 7, 9, &a, &err), RC_OK);
  assert_int_equal(rc_batch_schedule_alloc(50, 7, 9, &b, &err), RC_OK);
  assert_int_equal(rc_batch_schedule_alloc(50, 7, 10, &c, &err), RC_OK);
  const size_t *ia, *ib, *ic;
  size_t la, lb, lc;
  double wa, wb, wc;
  int differ = 0;
  for (int s = 0; s < 19; s++) {
    rc_batch_next(a, &ia, &la, &wa);
    rc_batch_next(c, &ic, &lc, &wc);
    if (la != lc || memcmp(ia, ic, la * sizeof *ia)) differ = 1;
  }
  assert_true(differ);
  double sv[RC_BATCH_STATE_SIZE];
  rc_batch_save(a, sv);
  assert_int_equal(rc_batch_restore(b, sv, &err), RC_OK);
  for (int s = 0; s < 30; s++) {
    rc_batch_next(a, &ia, &la, &wa);
    rc_batch_next(b, &ib, &lb, &wb);
    assert_int_equal(la, lb);
    assert_memory_equal(ia, ib, la * sizeof *ia);
  }
  sv[1] = 99;
  assert_int_equal(rc_batch_restore(b, sv, &err), RC_EINVAL);
  rc_batch_schedule_free(a);
  rc_batch_schedule_free(b);
  rc_batch_schedule_free(c);
}

/* unbiasedness of 6.1 with per-observation contributions of the minimal
 * model's field written out here: |mean over R batch fields - full field| <=
 * 5 sqrt((1 - B/M) S^2 / (B R)) per coordinate; and B = M is the full field */
static void test_batch_unbiased(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(3, 12, 0.2, RC_PATTERN_RANDOM, 5);
  const size_t d = 2, N = ds->n_samples, K = ds->n_classes, n = (N + K) * d;
  rc_state *s = tu_init(ds, d, 3);
  rc_minimal_params mp = rc_minimal_params_default();
  /* the observations in data order */
  size_t M = (size_t)ds->total, o = 0;
  size_t *os = malloc(M * sizeof *os), *oc = malloc(M * sizeof *oc);
  for (size_t i = 0; i < N; i++)
    for (size_t e = ds->row_ptr[i]; e < ds->row_ptr[i + 1]; e++)
      for (size_t r = 0; r < (size_t)ds->counts[e]; r++, o++) {
        os[o] = i;
        oc[o] = ds->labels[e];
      }
  assert_int_equal(o, M);
  /* contribution of observation q to the field (weight 1): f_q */
  double *f = calloc(M * n, sizeof *f), *full = calloc(n, sizeof *full), *Fm = malloc(n * sizeof *Fm);
  for (size_t q = 0; q < M; q++) {
    size_t i = os[q], c = oc[q];
    double si = rc_sample_rate(ds, &mp, i), sc = rc_class_rate(ds, &mp, c);
    for (size_t a = 0; a < d; a++) {
      double r = s->x[i * d + a] - s->y[c * d + a];
      f[q * n + i * d + a] -= si * r;
      f[q * n + (N + c) * d + a] += sc * r;
    }
  }
  for (size_t q = 0; q < M; q++)
    for (size_t k = 0; k < n; k++) full[k] += f[q * n + k];
  rc_minimal_vector_field(ds, &mp, s->z, d, Fm);
  for (size_t k = 0; k < n; k++) assert_close(full[k], Fm[k], 1e-12 * (1 + fabs(Fm[k])));
  const size_t B = 7, R = 4000;
  rc_batch_schedule *b = NULL;
  rc_error err;
  assert_int_equal(rc_batch_schedule_alloc(M, B, 77, &b, &err), RC_OK);
  double *mean = calloc(n, sizeof *mean);
  size_t draws = 0;
  while (draws < R) {
    const size_t *idx;
    size_t len;
    double wgt;
    rc_batch_next(b, &idx, &len, &wgt);
    if (len != B) continue; /* the remainder batch has its own variance */
    for (size_t k = 0; k < len; k++)
      for (size_t j = 0; j < n; j++) mean[j] += wgt * f[idx[k] * n + j];
    draws++;
  }
  for (size_t j = 0; j < n; j++) {
    mean[j] /= R;
    double S2 = 0;
    for (size_t q = 0; q < M; q++) S2 += pow(M * f[q * n + j] - full[j], 2);
    S2 /= M;
    double bound = 5 * sqrt((1.0 - (double)B / M) * S2 / (B * (double)R));
    if (!(fabs(mean[j] - full[j]) <= bound + 1e-14))
      fail_msg("coordinate %zu: batch mean %g, full %g, bound %g", j, mean[j], full[j], bound);
  }
  rc_batch_schedule_free(b);
  free(mean);
  free(f);
  free(full);
  free(Fm);
  free(os);
  free(oc);
  rc_state_free(s);
  rc_dataset_free(ds);
}

static void test_batch_check_step(void **state) {
  (void)state;
  /* a clean sample under degree: a = 1, W = 1: factor dt eta M / b */
  double a[2] = {1, 100}, W[2] = {1, 100}, eta[2] = {1, 1};
  const char *kinds[2] = {"sample", "label"};
  rc_error err;
  /* M = 200, b = 10: M / b = 20; dt = 0.1 -> 2: refused; 0.0999 passes */
  assert_int_equal(rc_batch_check_step(0.1, 200, 10, 2, a, W, eta, kinds, &err), RC_EUNSTABLE);
  assert_non_null(strstr(err.msg, "sample"));
  assert_non_null(strstr(err.msg, ">= 2"));
  assert_int_equal(rc_batch_check_step(0.0999, 200, 10, 2, a, W, eta, kinds, &err), RC_OK);
  /* the label: a = 100 observations, b = 10 < a: M / a = 2 per unit dt */
  double a2[1] = {100}, W2[1] = {100};
  assert_int_equal(rc_batch_check_step(1.0, 200, 10, 1, a2, W2, eta, kinds + 1, &err), RC_EUNSTABLE);
  assert_non_null(strstr(err.msg, "label"));
  assert_int_equal(rc_batch_check_step(0.99, 200, 10, 1, a2, W2, eta, kinds + 1, &err), RC_OK);
}

/* ---- EMA ---- */
static void test_ema(void **state) {
  (void)state;
  double alpha;
  rc_error err;
  assert_int_equal(rc_ema_alpha(0, 0.0, 1, 0.1, &alpha, &err), RC_OK);
  assert_true(alpha == 1.0);
  assert_int_equal(rc_ema_alpha(0, 0.99, 1, 0.1, &alpha, &err), RC_OK);
  assert_close(alpha, 0.01, 1e-15);
  assert_int_equal(rc_ema_alpha(0, -0.1, 1, 0.1, &alpha, &err), RC_EUNSTABLE);
  assert_non_null(strstr(err.msg, "kappa dt"));
  assert_int_equal(rc_ema_alpha(5.0, 0, 0, 0.1, &alpha, &err), RC_OK);
  assert_close(alpha, 0.5, 1e-15);
  assert_int_equal(rc_ema_alpha(10.0, 0, 0, 0.1, &alpha, &err), RC_OK); /* kappa dt = 1 exactly */
  assert_int_equal(rc_ema_alpha(10.5, 0, 0, 0.1, &alpha, &err), RC_EUNSTABLE);
  assert_non_null(strstr(err.msg, "kappa dt = 1.05 > 1"));
  assert_int_equal(rc_ema_alpha(-1, 0, 0, 0.1, &alpha, &err), RC_EINVAL);
  assert_int_equal(rc_ema_check_model(0, &err), RC_EINVAL);
  assert_int_equal(rc_ema_check_model(1, &err), RC_OK);
  assert_close(rc_ema_kappa_from_tau(0.9, 0.1), 1.0, 1e-15);
  double th[3] = {0.1, 1.0 / 3, -7}, bar[3] = {5, 6, 7};
  rc_ema_update(1.0, th, bar, 3);
  assert_memory_equal(th, bar, sizeof th); /* --ema 0: plain sg bit for bit */
  double bar2[3] = {1, 1, 1};
  rc_ema_update(0.25, th, bar2, 3);
  for (int k = 0; k < 3; k++) assert_close(bar2[k], 1 + 0.25 * (th[k] - 1), 1e-15);
  double Fb[3];
  rc_ema_flow(2.0, th, bar2, Fb, 3);
  for (int k = 0; k < 3; k++) assert_close(Fb[k], 2 * (th[k] - bar2[k]), 1e-15);
}

/* ---- scale-free collapse metrics (6.0) ---- */
static void test_scale_free_metrics(void **state) {
  (void)state;
  rc_state *s = NULL;
  rc_error err;
  assert_int_equal(rc_state_alloc(1, 3, 2, &s, &err), RC_OK);
  /* y = (1,0), (0,2), (-3,0): D = |y_0 - y_1| = sqrt 5; rms = sqrt((1 + 4 + 9)/3) */
  double y[6] = {1, 0, 0, 2, -3, 0};
  memcpy(s->y, y, sizeof y);
  assert_close(rc_relative_label_distance(s), sqrt(5.0) / sqrt(14.0 / 3.0), 1e-15);
  /* directions (1,0), (0,1), (-1,0): closest pair at sqrt 2 */
  assert_close(rc_angular_label_distance(s), sqrt(2.0), 1e-15);
  /* invariant to the scale, exactly for a power of two and to round-off otherwise */
  double r0 = rc_relative_label_distance(s), a0 = rc_angular_label_distance(s);
  for (size_t k = 0; k < 6; k++) s->y[k] = y[k] * 0.37e-5;
  assert_close(rc_relative_label_distance(s), r0, 1e-14);
  assert_close(rc_angular_label_distance(s), a0, 1e-14);
  assert_close(rc_collapse_distance(RC_COLLAPSE_ANGULAR, s), a0, 1e-14);
  assert_close(rc_collapse_distance(RC_COLLAPSE_MIN_LABEL_DISTANCE, s), rc_min_label_distance(s), 0);
  /* a collapse to a nonzero common point shows in both */
  for (size_t c = 0; c < 3; c++) {
    s->y[2 * c] = 5.0 + 1e-9 * c;
    s->y[2 * c + 1] = -1.0;
  }
  assert_true(rc_relative_label_distance(s) < 1e-9);
  assert_true(rc_angular_label_distance(s) < 1e-9);
  /* null: a label at the origin has no direction; every label at the origin */
  s->y[0] = s->y[1] = 0;
  assert_true(isnan(rc_angular_label_distance(s)));
  assert_false(isnan(rc_relative_label_distance(s)));
  memset(s->y, 0, 6 * sizeof(double));
  assert_true(isnan(rc_relative_label_distance(s)));
  rc_state_free(s);
  assert_int_equal(rc_state_alloc(1, 1, 2, &s, &err), RC_OK);
  s->y[0] = 1;
  assert_true(isnan(rc_relative_label_distance(s)) && isnan(rc_angular_label_distance(s)));
  rc_state_free(s);
  const char *names[] = {"min_label_distance", "relative_label_distance", "angular_label_distance"};
  for (int k = 0; k < RC_N_COLLAPSE_METRICS; k++) {
    rc_collapse_metric m;
    assert_int_equal(rc_parse_collapse_metric(names[k], &m, &err), RC_OK);
    assert_int_equal(m, k);
    assert_string_equal(rc_collapse_metric_name(m), names[k]);
  }
  rc_collapse_metric m;
  assert_int_equal(rc_parse_collapse_metric("D", &m, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "angular_label_distance"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_names),          cmocka_unit_test(test_gd_bit_identical),
      cmocka_unit_test(test_formulas),             cmocka_unit_test(test_adam_scale_invariance),
      cmocka_unit_test(test_save_restore),         cmocka_unit_test(test_non_finite_stops),
      cmocka_unit_test(test_check_step),           cmocka_unit_test(test_flow_decay),
      cmocka_unit_test(test_mode_rates),           cmocka_unit_test(test_momentum_fitted_decay),
      cmocka_unit_test(test_batch_partition),      cmocka_unit_test(test_batch_resume_and_seed),
      cmocka_unit_test(test_batch_unbiased),       cmocka_unit_test(test_batch_check_step),
      cmocka_unit_test(test_ema),                  cmocka_unit_test(test_scale_free_metrics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
