/* test_objectives.c: the objectives of docs/model.md section 6.2 (cosine,
 * uniformity(x), uniformity(y), InfoNCE, --sphere), each against something
 * independent: central finite differences of the loss for every gradient
 * (with and without a head, with stop-gradient targets held fixed, with
 * zero-norm vectors), rows with multiplicities against the expanded samples,
 * the sphere's tangent field and projection, and the invariant set's fixed
 * points and stability against the particle system (a finite-difference
 * Jacobian of the full particle field and integration from the fixed point). */
#include "testutil.h"

#include <lapacke.h>

#include "repcollapse/engine.h"
#include "repcollapse/fixedpoint.h"
#include "repcollapse/reduced.h"

static void fill(double *z, size_t n, unsigned seed) {
  unsigned s = seed * 2654435761u + 7u;
  for (size_t q = 0; q < n; q++) {
    s = s * 1103515245u + 12345u;
    z[q] = ((double)(s >> 8) / 16777216.0 - 0.5) * 1.6;
  }
}

typedef struct {
  const rc_model *m;
  rc_obs_weights w;
  size_t n, k, d;
  double M;
  const rc_targets *tg;
  rc_objective_ws *ws;
} prob;

/* loss and gradients at theta = [X | Y | P] */
static double eval(const prob *p, const double *theta, double *g) {
  const size_t n = p->n, k = p->k, d = p->d;
  const int head = rc_model_has_head(p->m);
  double *tmp = NULL;
  if (!g) g = tmp = calloc((n + k) * d + d * d, sizeof *g);
  else memset(g, 0, ((n + k) * d + d * d) * sizeof *g); /* P's block stays 0 without a head */
  double L = rc_objective_gradients(p->m, &p->w, k, p->M, theta, theta + n * d, head ? theta + (n + k) * d : NULL,
                                    p->tg, d, g, g + n * d, head ? g + (n + k) * d : NULL, p->ws);
  free(tmp);
  return L;
}

/* every component of the gradient against central differences of the loss (targets held where tg points) */
static void check_fd(const prob *p, double *theta, const char *what) {
  const size_t nt = (p->n + p->k) * p->d + (rc_model_has_head(p->m) ? p->d * p->d : 0);
  double *g = calloc((p->n + p->k) * p->d + p->d * p->d, sizeof *g);
  eval(p, theta, g);
  const double h = 1e-6;
  double worst = 0.0, gmax = 0.0;
  for (size_t q = 0; q < nt; q++) {
    const double v = theta[q];
    theta[q] = v + h;
    const double lp = eval(p, theta, NULL);
    theta[q] = v - h;
    const double lm = eval(p, theta, NULL);
    theta[q] = v;
    const double fd = (lp - lm) / (2 * h);
    worst = fmax(worst, fabs(fd - g[q]));
    gmax = fmax(gmax, fabs(g[q]));
  }
  if (!(worst <= 1e-7 * (1.0 + gmax))) fail_msg("%s: gradient vs central differences: max error %g (max |g| %g)", what, worst, gmax);
  if (!(gmax > 1e-6)) fail_msg("%s: the gradient is zero: nothing was checked", what);
  free(g);
}

static rc_model model_of(const char *spec) {
  rc_model m;
  rc_error err;
  if (rc_model_preset(spec, &m, NULL) != RC_OK) assert_int_equal(rc_model_parse_terms(spec, &m, &err), RC_OK);
  return m;
}

static void test_parse_and_format(void **state) {
  (void)state;
  const char *round[] = {"cos(Px,sg(y))+cos(Py,sg(x))", "cos(x,y)", "0.5*x-y+2*uniformity(y)", "uniformity(x)",
                         "infonce(x,y)", "x-y+0.25*infonce(x,y)", "Px-Py", "Px-sg(Py)+Py-sg(Px)"};
  for (size_t k = 0; k < sizeof round / sizeof *round; k++) {
    rc_model m = model_of(round[k]);
    char buf[256];
    rc_model_format(&m, buf, sizeof buf);
    assert_string_equal(buf, round[k]);
  }
  rc_model a = model_of("simsiam"), b = model_of("cos(Px,sg(y))+cos(Py,sg(x))");
  assert_memory_equal(a.terms, b.terms, 2 * sizeof(rc_term));
  a = model_of("proj");
  b = model_of("Px-Py");
  assert_memory_equal(a.terms, b.terms, sizeof(rc_term));
  a = model_of("proj-sg");
  b = model_of("Px-sg(Py)+Py-sg(Px)");
  assert_memory_equal(a.terms, b.terms, 2 * sizeof(rc_term));
  const char *bad[] = {"-1*x-y", "cos(x,x)", "cos(x-y)", "uniformity(Py)", "infonce(y,x)", "uniformity(z)",
                       "x-y+-0.5*uniformity(y)", "cos(x,y", "0*uniformity(y)"};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    rc_model m;
    rc_error err;
    if (rc_model_parse_terms(bad[k], &m, &err) == RC_OK) fail_msg("accepted '%s'", bad[k]);
    assert_non_null(strstr(err.msg, "--terms"));
  }
  rc_model m;
  rc_error err;
  assert_int_equal(rc_model_parse_terms("-1*x-y", &m, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "negative weights are refused"));
  char why[96];
  assert_true(rc_model_reduction_exact(&(rc_model){0}, NULL, 0));
  a = model_of("x-y+uniformity(y)");
  assert_true(rc_model_reduction_exact(&a, NULL, 0));
  a = model_of("proj-sg");
  assert_true(rc_model_reduction_exact(&a, NULL, 0));
  const char *inexact[] = {"simsiam", "infonce(x,y)", "x-y+uniformity(x)"};
  for (size_t k = 0; k < 3; k++) {
    a = model_of(inexact[k]);
    assert_false(rc_model_reduction_exact(&a, why, sizeof why));
    assert_true(strlen(why) > 0);
  }
  a = model_of("minimal");
  a.sphere = 1;
  assert_false(rc_model_reduction_exact(&a, NULL, 0));
  assert_false(rc_model_is_minimal(&a));
}

/* the gradients of every new kind against central differences: on the data's observations, with a
 * minibatch's reweighting (some entries 0), with and without a head, with sg targets held fixed */
static void test_gradients_fd(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(3, 3, 0.25, RC_PATTERN_RING, 2);
  const size_t n = ds->n_samples, k = ds->n_classes, d = 3, nt = (n + k) * d + d * d;
  const char *specs[] = {"simsiam", "cos(x,y)", "cos(Px,y)", "cos(x,Py)+cos(Py,Px)", "cos(x,sg(y))+cos(Py,sg(Px))",
                         "uniformity(y)", "uniformity(x)", "0.7*infonce(x,y)", "x-y+0.5*uniformity(y)+infonce(x,y)",
                         "Px-Py", "proj-sg"};
  double *theta = calloc(nt, sizeof *theta), *bar = calloc(nt, sizeof *bar);
  double *wb = calloc(ds->row_ptr[n], sizeof *wb);
  for (size_t j = 0; j < ds->row_ptr[n]; j++) wb[j] = j % 3 == 1 ? 0.0 : 1.5 * ds->counts[j];
  for (size_t s = 0; s < sizeof specs / sizeof *specs; s++)
    for (int batch = 0; batch < 2; batch++)
      for (int targets = 0; targets < 2; targets++) {
        rc_model m = model_of(specs[s]);
        m.uniformity_t = s % 2 ? 0.0 : 1.3;
        m.temperature = s % 2 ? 0.0 : 0.37;
        rc_objective_ws *ws = NULL;
        rc_error err;
        assert_int_equal(rc_objective_ws_alloc(n, k, d, &ws, &err), RC_OK);
        fill(theta, nt, 11 + (unsigned)s);
        fill(bar, nt, 101 + (unsigned)s);
        const int head = rc_model_has_head(&m);
        /* with sg, the gradient is the loss's derivative with the targets held: without separate
         * targets they are a frozen copy of theta */
        if (!targets) memcpy(bar, theta, nt * sizeof *bar);
        rc_targets tg = {bar, bar + n * d, head ? bar + (n + k) * d : NULL};
        prob p = {&m, {n, ds->row_ptr, ds->labels, batch ? wb : ds->counts, NULL}, n, k, d, ds->total,
                  targets || rc_model_has_sg(&m) ? &tg : NULL, ws};
        char what[160];
        snprintf(what, sizeof what, "%s%s%s", specs[s], batch ? " (batch weights)" : "", targets ? " (targets)" : "");
        check_fd(&p, theta, what);
        rc_objective_ws_free(ws);
      }
  free(theta);
  free(bar);
  free(wb);
  rc_dataset_free(ds);
}

/* closed forms: uniformity(y) of two labels is -w t |y^_a - y^_b|^2; infonce of one sample; 1 - cos */
static void test_closed_forms(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(2, 1, 0.0, RC_PATTERN_PAIR, 1); /* N = 2, K = 2, one observation each */
  const size_t n = 2, k = 2, d = 2;
  double th[8] = {1, 0, 0, 2, 3, 4, -1, 0}; /* x0, x1, y0, y1 */
  rc_objective_ws *ws = NULL;
  rc_error err;
  assert_int_equal(rc_objective_ws_alloc(n, k, d, &ws, &err), RC_OK);
  double g[8];
  rc_obs_weights w = {n, ds->row_ptr, ds->labels, ds->counts, NULL};
  rc_model m = model_of("2*uniformity(y)");
  double L = rc_objective_gradients(&m, &w, k, ds->total, th, th + 4, NULL, NULL, d, g, g + 4, NULL, ws);
  /* y^0 = (0.6, 0.8), y^1 = (-1, 0): |y^0 - y^1|^2 = 2.56 + 0.64 = 3.2 */
  assert_close(L, -2.0 * 2.0 * 3.2, 1e-12);
  m = model_of("cos(x,y)");
  L = rc_objective_gradients(&m, &w, k, ds->total, th, th + 4, NULL, NULL, d, g, g + 4, NULL, ws);
  /* x0 = (1,0) with its label, x1 = (0,2) with the other; M = 2 */
  const int c0 = (int)ds->labels[0], c1 = (int)ds->labels[1];
  const double *y0 = th + 4 + 2 * c0, *y1 = th + 4 + 2 * c1;
  const double cs0 = y0[0] / hypot(y0[0], y0[1]), cs1 = 2 * y1[1] / (2 * hypot(y1[0], y1[1]));
  assert_close(L, ((1 - cs0) + (1 - cs1)) / 2.0, 1e-12);
  m = model_of("infonce(x,y)");
  m.temperature = 0.5;
  L = rc_objective_gradients(&m, &w, k, ds->total, th, th + 4, NULL, NULL, d, g, g + 4, NULL, ws);
  double want = 0.0;
  for (int i = 0; i < 2; i++) {
    const double *x = th + 2 * i, *yc = th + 4 + 2 * (int)ds->labels[i];
    double s = 0.0;
    for (int b = 0; b < 2; b++) s += exp(-(pow(x[0] - th[4 + 2 * b], 2) + pow(x[1] - th[5 + 2 * b], 2)) / 0.5);
    want += (pow(x[0] - yc[0], 2) + pow(x[1] - yc[1], 2)) / 0.5 + log(s);
  }
  assert_close(L, want / 2.0, 1e-12);
  rc_objective_ws_free(ws);
  rc_dataset_free(ds);
}

/* a zero-norm vector contributes 0 to loss and gradient, and is counted */
static void test_zero_norm(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(3, 3, 0.25, RC_PATTERN_RING, 2);
  const size_t n = ds->n_samples, k = ds->n_classes, d = 3, nt = (n + k) * d + d * d;
  double *theta = calloc(nt, sizeof *theta), *g = calloc(nt, sizeof *g);
  const char *specs[] = {"cos(x,y)", "cos(Px,sg(y))+cos(Py,sg(x))", "uniformity(y)", "uniformity(x)"};
  for (size_t s = 0; s < 4; s++) {
    rc_model m = model_of(specs[s]);
    rc_objective_ws *ws = NULL;
    rc_error err;
    assert_int_equal(rc_objective_ws_alloc(n, k, d, &ws, &err), RC_OK);
    fill(theta, nt, 5);
    memset(theta + 2 * d, 0, d * sizeof *theta);       /* sample 2 at the origin */
    memset(theta + (n + 1) * d, 0, d * sizeof *theta); /* label 1 at the origin */
    double *frozen = calloc(nt, sizeof *frozen);
    memcpy(frozen, theta, nt * sizeof *frozen);
    rc_targets tg = {frozen, frozen + n * d, frozen + (n + k) * d}; /* sg targets held (no effect without sg) */
    prob p = {&m, {n, ds->row_ptr, ds->labels, ds->counts, NULL}, n, k, d, ds->total, &tg, ws};
    eval(&p, theta, g);
    const double zeros = rc_objective_zero_norm(ws);
    /* which rows each term looks at: cos both sides (P x, P y: P is invertible here), uniformity one side */
    double want = s < 2 ? 2.0 * (double)(s + 1) : 1.0;
    assert_close(zeros, want, 0);
    for (size_t q = 0; q < d; q++) {
      if (s != 2) assert_true(g[2 * d + q] == 0.0); /* the zero sample gets no gradient */
      if (s != 3) assert_true(g[(n + 1) * d + q] == 0.0);
    }
    /* and the loss and every other gradient are those of the problem without them (finite differences
     * away from the zero rows: perturb everything else) */
    double worst = 0.0;
    const double h = 1e-6;
    for (size_t q = 0; q < nt; q++) {
      if ((q >= 2 * d && q < 3 * d) || (q >= (n + 1) * d && q < (n + 2) * d)) continue;
      const double v = theta[q];
      theta[q] = v + h;
      double lp = eval(&p, theta, NULL);
      theta[q] = v - h;
      double lm = eval(&p, theta, NULL);
      theta[q] = v;
      worst = fmax(worst, fabs((lp - lm) / (2 * h) - g[q]));
    }
    eval(&p, theta, g);
    if (!(worst < 1e-7)) fail_msg("%s with zero-norm vectors: gradient vs central differences %g", specs[s], worst);
    rc_objective_ws_free(ws);
    free(frozen);
  }
  free(theta);
  free(g);
  rc_dataset_free(ds);
}

/* rows standing for several samples (the reduced systems' group rows) give the gradient per member,
 * and the loss and label / head gradients of the expanded samples */
static void test_rows_with_multiplicity(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(3, 4, 0.2, RC_PATTERN_RING, 3);
  rc_groups *gr = NULL;
  rc_error err;
  assert_int_equal(rc_groups_compute(ds, &gr, &err), RC_OK);
  const size_t N = ds->n_samples, K = ds->n_classes, d = 3, G = gr->n_groups;
  size_t *rp = calloc(G + 1, sizeof *rp), nnz = 0;
  for (size_t g = 0; g < G; g++) nnz += ds->row_ptr[gr->group_rep[g] + 1] - ds->row_ptr[gr->group_rep[g]];
  uint32_t *lab = calloc(nnz, sizeof *lab);
  double *cnt = calloc(nnz, sizeof *cnt), *mult = calloc(G, sizeof *mult);
  size_t w = 0;
  for (size_t g = 0; g < G; g++) {
    const size_t i = gr->group_rep[g];
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++, w++) {
      lab[w] = ds->labels[j];
      cnt[w] = ds->counts[j];
    }
    rp[g + 1] = w;
    mult[g] = (double)gr->group_size[g];
  }
  const char *specs[] = {"simsiam", "uniformity(x)+uniformity(y)", "infonce(x,y)", "cos(x,y)+x-Py"};
  double *Xg = calloc(G * d + (K + d) * d, sizeof *Xg), *Xn = calloc((N + K) * d + d * d, sizeof *Xn);
  double *gg = calloc(G * d + (K + d) * d, sizeof *gg), *gn = calloc((N + K) * d + d * d, sizeof *gn);
  for (size_t s = 0; s < 4; s++) {
    rc_model m = model_of(specs[s]);
    const int head = rc_model_has_head(&m);
    fill(Xg, G * d + (K + d) * d, 3 + (unsigned)s);
    for (size_t i = 0; i < N; i++) memcpy(Xn + i * d, Xg + gr->group_of_sample[i] * d, d * sizeof *Xn);
    memcpy(Xn + N * d, Xg + G * d, (K + d) * d * sizeof *Xn);
    rc_objective_ws *wsg = NULL, *wsn = NULL;
    assert_int_equal(rc_objective_ws_alloc(G, K, d, &wsg, &err), RC_OK);
    assert_int_equal(rc_objective_ws_alloc(N, K, d, &wsn, &err), RC_OK);
    rc_obs_weights wg = {G, rp, lab, cnt, mult}, wn = {N, ds->row_ptr, ds->labels, ds->counts, NULL};
    double Lg = rc_objective_gradients(&m, &wg, K, ds->total, Xg, Xg + G * d, head ? Xg + (G + K) * d : NULL, NULL,
                                       d, gg, gg + G * d, head ? gg + (G + K) * d : NULL, wsg);
    double Ln = rc_objective_gradients(&m, &wn, K, ds->total, Xn, Xn + N * d, head ? Xn + (N + K) * d : NULL, NULL,
                                       d, gn, gn + N * d, head ? gn + (N + K) * d : NULL, wsn);
    assert_close(Lg, Ln, 1e-12 * (1 + fabs(Ln)));
    for (size_t i = 0; i < N; i++)
      for (size_t q = 0; q < d; q++)
        assert_close(gg[gr->group_of_sample[i] * d + q], gn[i * d + q], 1e-12);
    for (size_t q = 0; q < (K + (head ? d : 0)) * d; q++) assert_close(gg[G * d + q], gn[N * d + q], 1e-12);
    rc_objective_ws_free(wsg);
    rc_objective_ws_free(wsn);
  }
  free(Xg), free(Xn), free(gg), free(gn), free(rp), free(lab), free(cnt), free(mult);
  rc_groups_free(gr);
  rc_dataset_free(ds);
}

/* --sphere in the engine: the field is tangent at every sample and label, the projection normalises,
 * and the squared terms without --sphere keep their field bit for bit */
static void test_engine_sphere(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(2, 5, 0.2, RC_PATTERN_PAIR, 1);
  const size_t d = 3;
  rc_engine_spec s;
  memset(&s, 0, sizeof s);
  s.encoder = RC_ENCODER_TABLE;
  s.ds = ds;
  s.d = d;
  s.model = model_of("simsiam");
  s.model.sphere = 1;
  s.rates = RC_RATES_DEGREE;
  s.eta_enc = s.eta_y = s.eta_head = 1.0;
  rc_engine *e = NULL;
  rc_error err;
  assert_int_equal(rc_engine_alloc(&s, &e, &err), RC_OK);
  const size_t nt = rc_engine_n_theta(e), N = ds->n_samples, K = ds->n_classes;
  double *th = calloc(nt, sizeof *th), *F = calloc(nt, sizeof *F);
  fill(th, nt, 9);
  rc_engine_project(e, th);
  for (size_t r = 0; r < N + K; r++) {
    double nn = 0.0;
    for (size_t q = 0; q < d; q++) nn += th[r * d + q] * th[r * d + q];
    assert_close(nn, 1.0, 1e-14);
  }
  rc_engine_field(e, th, NULL, NULL, F);
  double fmax_ = 0.0;
  for (size_t r = 0; r < N + K; r++) {
    double dot = 0.0;
    for (size_t q = 0; q < d; q++) dot += th[r * d + q] * F[r * d + q], fmax_ = fmax(fmax_, fabs(F[r * d + q]));
    assert_close(dot, 0.0, 1e-14);
  }
  assert_true(fmax_ > 1e-3);
  rc_engine_free(e);
  free(th);
  free(F);
  rc_dataset_free(ds);
}

/* eigenvalues (real parts, sorted) of a general matrix */
static void eig_real(double *A, size_t n, double *re) {
  double *im = calloc(n, sizeof *im);
  assert_int_equal(LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)n, A, (lapack_int)n, re, im, NULL, 1, NULL, 1), 0);
  free(im);
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The invariant set: a fixed point found on it (started from a gd run's group means) is a rest point
 * of the particle field and does not move under integration; its stability spectrum (core Jacobian
 * plus within-group modes, n_g - 1 copies each) is the spectrum of the finite-difference Jacobian of
 * the full particle field, for a cosine model, InfoNCE, uniformity(x) and the sphere. */
static void test_invariant_set(void **state) {
  (void)state;
  const char *specs[] = {"cos(x,y)", "x-y+0.3*infonce(x,y)", "x-y+0.2*uniformity(x)", "x-y+0.3*uniformity(y)"};
  for (size_t s = 0; s < 4; s++)
    for (int sphere = 0; sphere < 2; sphere++) {
      /* uniformity on raw samples shrinks everything to the origin (its gradient grows as 1/|x|): on the sphere only */
      if (!sphere && s == 2) continue;
      rc_dataset *ds = tu_equal(2, 3, 0.25, RC_PATTERN_PAIR, 1);
      const size_t N = ds->n_samples, K = ds->n_classes, d = 2, nz = (N + K) * d;
      rc_head_params hp = rc_head_params_default();
      hp.model = model_of(specs[s]);
      hp.model.sphere = sphere;
      hp.base.rates = RC_RATES_UNIFORM;
      rc_reduced *r = NULL;
      rc_error err;
      assert_int_equal(rc_reduced_alloc(ds, &hp, d, &r, &err), RC_OK);
      assert_int_equal(rc_reduced_is_invariant_set(r), s == 3 && !sphere ? 0 : 1);
      if (!rc_reduced_is_invariant_set(r)) {
        rc_reduced_free(r);
        rc_dataset_free(ds);
        continue;
      }
      /* a particle state relaxed by the engine, then its group means */
      rc_engine_spec es;
      memset(&es, 0, sizeof es);
      es.encoder = RC_ENCODER_TABLE;
      es.ds = ds;
      es.d = d;
      es.model = hp.model;
      es.rates = RC_RATES_UNIFORM;
      es.eta_enc = es.eta_y = es.eta_head = 1.0;
      rc_engine *e = NULL;
      assert_int_equal(rc_engine_alloc(&es, &e, &err), RC_OK);
      rc_state *st = tu_init(ds, d, 4);
      double *z = calloc(nz, sizeof *z), *F = calloc(nz, sizeof *F);
      memcpy(z, st->z, nz * sizeof *z);
      rc_engine_project(e, z);
      for (int it = 0; it < 4000; it++) {
        rc_engine_field(e, z, NULL, NULL, F);
        for (size_t q = 0; q < nz; q++) z[q] += 0.05 * F[q];
        rc_engine_project(e, z);
      }
      memcpy(st->z, z, nz * sizeof *z);
      const size_t nu = rc_reduced_dim(r);
      double *u = calloc(nu, sizeof *u);
      rc_reduced_from_state(r, st, u);
      { /* relax on the invariant set itself (uniformity(x) spreads a group's particles apart) */
        double *du = calloc(nu, sizeof *du);
        for (int it = 0; it < 4000; it++) {
          rc_reduced_vector_field(r, u, du);
          for (size_t q = 0; q < nu; q++) u[q] += 0.05 * du[q];
          rc_reduced_constrain(r, u);
        }
        free(du);
      }
      double res = 0.0;
      assert_int_equal(rc_reduced_fixed_point(r, u, &res, 300, &err), RC_OK);
      if (!(res < 1e-8)) fail_msg("%s sphere %d: fixed point residual %g", specs[s], sphere, res);
      /* the particle state of u: every sample at its group mean; at rest, and it stays there */
      const rc_groups *gr = rc_reduced_groups(r);
      for (size_t i = 0; i < N; i++) memcpy(z + i * d, u + gr->group_of_sample[i] * d, d * sizeof *z);
      memcpy(z + N * d, rc_reduced_labels(r, u), K * d * sizeof *z);
      double *z0 = calloc(nz, sizeof *z0);
      memcpy(z0, z, nz * sizeof *z);
      rc_engine_field(e, z, NULL, NULL, F);
      assert_true(tu_max_abs(F, nz) < 1e-7);
      for (int it = 0; it < 2000; it++) {
        rc_engine_field(e, z, NULL, NULL, F);
        for (size_t q = 0; q < nz; q++) z[q] += 0.05 * F[q];
        rc_engine_project(e, z);
      }
      if (!(tu_max_abs_diff(z, z0, nz) < 1e-5))
        fail_msg("%s sphere %d: the fixed point moved by %g under integration", specs[s], sphere,
                 tu_max_abs_diff(z, z0, nz));
      /* the particle field's Jacobian by central differences */
      double *J = calloc(nz * nz, sizeof *J), *Fp = calloc(nz, sizeof *Fp), *Fm = calloc(nz, sizeof *Fm);
      const double h = 1e-6;
      for (size_t j = 0; j < nz; j++) {
        const double v = z0[j];
        z0[j] = v + h;
        rc_engine_field(e, z0, NULL, NULL, Fp);
        z0[j] = v - h;
        rc_engine_field(e, z0, NULL, NULL, Fm);
        z0[j] = v;
        for (size_t i = 0; i < nz; i++) J[i * nz + j] = (Fp[i] - Fm[i]) / (2 * h);
      }
      double *re = calloc(nz, sizeof *re);
      eig_real(J, nz, re);
      rc_stability stab;
      assert_int_equal(rc_reduced_stability(r, u, 1e-6, &stab, &err), RC_OK);
      /* expand the within-group modes to n_g - 1 copies: the spectrum of the core Jacobian and of every
       * group's Gam are those of the particle Jacobian; compare the nonzero real parts, sorted */
      double *want = calloc(nz + stab.n, sizeof *want);
      size_t nw = 0;
      double core_max = -INFINITY;
      {
        /* core eigenvalues */
        const size_t core = rc_reduced_core_dim(r);
        double *Jc = calloc(core * core, sizeof *Jc), *rc = calloc(core, sizeof *rc);
        double *up = calloc(nu, sizeof *up), *f1 = calloc(nu, sizeof *f1), *f2 = calloc(nu, sizeof *f2);
        for (size_t j = 0; j < core; j++) {
          memcpy(up, u, nu * sizeof *up);
          up[j] += h;
          rc_reduced_vector_field(r, up, f1);
          up[j] -= 2 * h;
          rc_reduced_vector_field(r, up, f2);
          for (size_t i = 0; i < core; i++) Jc[i * core + j] = (f1[i] - f2[i]) / (2 * h);
        }
        eig_real(Jc, core, rc);
        for (size_t q = 0; q < core; q++) want[nw++] = rc[q], core_max = fmax(core_max, rc[q]);
        double *gam = calloc(d * d, sizeof *gam), *gre = calloc(d, sizeof *gre);
        for (size_t g = 0; g < gr->n_groups; g++) {
          if (gr->group_size[g] < 2) continue;
          assert_int_equal(rc_reduced_within_group(r, u, g, gam, &err), RC_OK);
          eig_real(gam, d, gre);
          for (size_t c = 1; c < gr->group_size[g]; c++)
            for (size_t q = 0; q < d; q++) want[nw++] = gre[q];
        }
        free(gam), free(gre), free(Jc), free(rc), free(up), free(f1), free(f2);
      }
      assert_int_equal(nw, nz);
      qsort(re, nz, sizeof *re, cmp_d);
      qsort(want, nw, sizeof *want, cmp_d);
      double big = 0.0;
      for (size_t q = 0; q < nz; q++) big = fmax(big, fabs(re[q]));
      for (size_t q = 0; q < nz; q++)
        if (fabs(re[q] - want[q]) > 1e-5 * (1 + big))
          fail_msg("%s sphere %d: eigenvalue %zu: particle Jacobian %.10g, invariant set %.10g", specs[s], sphere, q,
                   re[q], want[q]);
      /* and the verdict reads those: a relaxed state is stable, except that uniformity(x) pushes the
       * members of a group apart: unstable through its within-group modes only */
      if (s == 2) {
        assert_int_equal(stab.verdict, RC_UNSTABLE);
        assert_true(core_max < 1e-6 && stab.max_real_part > 1e-3);
      } else {
        assert_int_equal(stab.verdict, RC_STABLE);
      }
      rc_stability_free(&stab);
      free(J), free(Fp), free(Fm), free(re), free(want), free(z), free(z0), free(F), free(u);
      rc_state_free(st);
      rc_engine_free(e);
      rc_reduced_free(r);
      rc_dataset_free(ds);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_and_format),   cmocka_unit_test(test_gradients_fd),
      cmocka_unit_test(test_closed_forms),       cmocka_unit_test(test_zero_norm),
      cmocka_unit_test(test_rows_with_multiplicity), cmocka_unit_test(test_engine_sphere),
      cmocka_unit_test(test_invariant_set),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
