/* test_head.c: term models (docs/model.md section 3). Hand-written gradients
 * against finite differences of an independent loss evaluator (with the
 * target frozen under stop-gradient); a test that fails if stop-gradient were
 * ignored; the minimal preset against the minimal model; the group-reduced
 * vector field against the particle one (exact identities); the fused gd
 * step against z + dt F(z), on any thread count. */
#include "repcollapse/head.h"
#include "repcollapse/reduced.h"
#include "testutil.h"

/* independent loss: sum_t w/(2M) sum_obs A |H_s u - H_t v|^2, where the
 * target branch reads from zt (a frozen copy under sg) and the source from z */
static double loss_eval(const rc_dataset *ds, const rc_model *m, const double *z, const double *zt, size_t d) {
  size_t N = ds->n_samples, K = ds->n_classes;
  double L = 0;
  for (size_t t = 0; t < m->n_terms; t++) {
    const rc_term *tm = &m->terms[t];
    const double *zs = z, *ztt = tm->stop_gradient ? zt : z;
    for (size_t i = 0; i < N; i++)
      for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
        size_t c = ds->labels[j];
        const double *u, *v, *Ps = zs + (N + K) * d, *Pt = ztt + (N + K) * d;
        if (tm->source == RC_BRANCH_X) {
          u = zs + i * d;
          v = ztt + (N + c) * d;
        } else {
          u = zs + (N + c) * d;
          v = ztt + i * d;
        }
        double q = 0;
        for (size_t a = 0; a < d; a++) {
          double su = 0, tv = 0;
          for (size_t b = 0; b < d; b++) {
            su += (tm->source_head ? Ps[a * d + b] : (a == b)) * u[b];
            tv += (tm->target_head ? Pt[a * d + b] : (a == b)) * v[b];
          }
          q += (su - tv) * (su - tv);
        }
        L += tm->weight * ds->counts[j] * q / (2 * ds->total);
      }
  }
  return L;
}

static void random_fill(double *z, size_t n, unsigned seed) {
  srand(seed);
  for (size_t q = 0; q < n; q++) z[q] = 2.0 * rand() / RAND_MAX - 1.0;
}

static void gradients_match_finite_differences(void **state) {
  (void)state;
  size_t sz[3] = {3, 4, 2};
  rc_dataset *ds = tu_generate(0, sz, 3, "0-1:2,1-2:1", -1, RC_PATTERN_PAIR, 1);
  const size_t d = 3, N = ds->n_samples, K = ds->n_classes, n = (N + K + d) * d;
  const char *specs[] = {"minimal", "head", "siam", "siam-sg", "0.7*x-Py+1.3*Py-sg(Px)", "Px-sg(Py)+2*y-sg(x)",
                         "Py-Px"};
  double *z = calloc(n, sizeof *z), *g = calloc(n, sizeof *g), *zp = calloc(n, sizeof *zp);
  rc_head_ws *ws;
  rc_error err;
  assert_int_equal(rc_head_ws_alloc(N, K, d, &ws, &err), RC_OK);
  random_fill(z, n, 3);
  for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
    rc_head_params hp = rc_head_params_default();
    if (rc_model_preset(specs[s], &hp.model, NULL) != RC_OK)
      assert_int_equal(rc_model_parse_terms(specs[s], &hp.model, &err), RC_OK);
    int head = rc_model_has_head(&hp.model);
    memset(g, 0, n * sizeof *g);
    rc_head_gradients(ds, &hp, z, d, g, ws);
    size_t nvar = (N + K + (head ? d : 0)) * d;
    for (size_t q = 0; q < nvar; q++) {
      const double h = 1e-6;
      memcpy(zp, z, n * sizeof *z);
      zp[q] += h;
      double Lp = loss_eval(ds, &hp.model, zp, z, d);
      zp[q] -= 2 * h;
      double Lm = loss_eval(ds, &hp.model, zp, z, d);
      double fd = (Lp - Lm) / (2 * h);
      if (fabs(fd - g[q]) > 1e-8 * (1 + fabs(fd))) fail_msg("%s: component %zu: analytic %.12g vs FD %.12g", specs[s], q, g[q], fd);
    }
    /* the loss the library reports is the same number */
    assert_close(rc_head_loss(ds, &hp, z, d, ws), loss_eval(ds, &hp.model, z, z, d), 1e-12);
  }
  rc_head_ws_free(ws);
  free(z);
  free(g);
  free(zp);
  rc_dataset_free(ds);
}

static void stop_gradient_is_not_ignored(void **state) {
  (void)state;
  /* siam minus siam-sg = exactly the target-branch gradients, written out:
   * term Px - y: d/dy_c = -(1/M) sum_i A (P x_i - y_c);
   * term Py - x: d/dx_i = -(1/M) sum_c A (P y_c - x_i); no P part (targets have no head) */
  rc_dataset *ds = tu_equal(2, 5, 0.2, RC_PATTERN_PAIR, 1);
  const size_t d = 2, N = ds->n_samples, K = ds->n_classes, n = (N + K + d) * d;
  double *z = calloc(n, sizeof *z), *g1 = calloc(n, sizeof *g1), *g2 = calloc(n, sizeof *g2);
  random_fill(z, n, 7);
  const double *P = z + (N + K) * d;
  rc_head_ws *ws;
  rc_error err;
  assert_int_equal(rc_head_ws_alloc(N, K, d, &ws, &err), RC_OK);
  rc_head_params a = rc_head_params_default(), b = rc_head_params_default();
  rc_model_preset("siam", &a.model, NULL);
  rc_model_preset("siam-sg", &b.model, NULL);
  rc_head_gradients(ds, &a, z, d, g1, ws);
  rc_head_gradients(ds, &b, z, d, g2, ws);
  double *expect = calloc(n, sizeof *expect);
  for (size_t i = 0; i < N; i++)
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
      size_t c = ds->labels[j];
      const double *x = z + i * d, *y = z + (N + c) * d;
      for (size_t q = 0; q < d; q++) {
        double px = P[q * d] * x[0] + P[q * d + 1] * x[1], py = P[q * d] * y[0] + P[q * d + 1] * y[1];
        expect[(N + c) * d + q] += -(px - y[q]) / ds->total;
        expect[i * d + q] += -(py - x[q]) / ds->total;
      }
    }
  double biggest = 0;
  for (size_t q = 0; q < n; q++) {
    assert_close(g1[q] - g2[q], expect[q], 1e-13);
    biggest = fmax(biggest, fabs(expect[q]));
  }
  assert_true(biggest > 1e-2); /* the difference is real */
  free(expect);
  free(z);
  free(g1);
  free(g2);
  rc_head_ws_free(ws);
  rc_dataset_free(ds);
}

static void minimal_preset_is_the_minimal_model(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(3, 6, 0.1, RC_PATTERN_RING, 1);
  const size_t d = 4, n = (ds->n_samples + ds->n_classes) * d;
  double *z = calloc(n, sizeof *z), *f1 = calloc(n, sizeof *f1), *f2 = calloc(n, sizeof *f2);
  random_fill(z, n, 1);
  rc_head_ws *ws;
  rc_error err;
  assert_int_equal(rc_head_ws_alloc(ds->n_samples, ds->n_classes, d, &ws, &err), RC_OK);
  for (int scheme = 0; scheme < 2; scheme++) {
    rc_head_params hp = rc_head_params_default();
    hp.base.rates = (rc_rate_scheme)scheme;
    hp.base.eta_x = 0.7;
    hp.base.eta_y = 1.9;
    assert_true(rc_model_is_minimal(&hp.model));
    rc_head_vector_field(ds, &hp, z, d, f1, ws);
    rc_minimal_vector_field(ds, &hp.base, z, d, f2);
    assert_true(tu_max_abs_diff(f1, f2, n) < 1e-13);
  }
  free(z);
  free(f1);
  free(f2);
  rc_head_ws_free(ws);
  rc_dataset_free(ds);
}

static void reduced_field_is_exact(void **state) {
  (void)state;
  /* d/dt of the group means, labels, head and scatters computed from the
   * particle vector field equals the reduced vector field at the reduced state */
  size_t sz[3] = {5, 7, 4};
  rc_dataset *ds = tu_generate(0, sz, 3, "0-1:3,1-2:2", -1, RC_PATTERN_PAIR, 1);
  const size_t d = 3, N = ds->n_samples, K = ds->n_classes;
  /* with the kinds of docs/model.md 6.2 that keep the reduction exact: proj, proj-sg, uniformity(y) */
  const char *models[] = {"minimal", "head", "siam", "siam-sg", "0.5*Py-Px+x-sg(Py)", "proj", "proj-sg",
                          "x-y+0.5*uniformity(y)", "Px-sg(y)+Py-sg(x)+2*uniformity(y)"};
  for (int scheme = 0; scheme < 2; scheme++)
    for (size_t mi = 0; mi < sizeof models / sizeof *models; mi++) {
      rc_head_params hp = rc_head_params_default();
      hp.base.rates = (rc_rate_scheme)scheme;
      hp.base.eta_x = 1.3;
      hp.eta_head = 0.6;
      rc_error err;
      if (rc_model_preset(models[mi], &hp.model, NULL)) assert_int_equal(rc_model_parse_terms(models[mi], &hp.model, &err), RC_OK);
      int head = rc_model_has_head(&hp.model);
      rc_state *s, *ds_dt;
      assert_int_equal(rc_state_alloc_head(N, K, d, head, &s, &err), RC_OK);
      assert_int_equal(rc_state_alloc_head(N, K, d, head, &ds_dt, &err), RC_OK);
      random_fill(s->z, rc_state_size(s), 11 + (unsigned)mi);
      rc_head_ws *ws;
      assert_int_equal(rc_head_ws_alloc(N, K, d, &ws, &err), RC_OK);
      rc_head_vector_field(ds, &hp, s->z, d, ds_dt->z, ws);
      rc_reduced *r;
      assert_int_equal(rc_reduced_alloc(ds, &hp, d, &r, &err), RC_OK);
      size_t nu = rc_reduced_dim(r), G = rc_reduced_n_groups(r);
      double *u = calloc(nu, sizeof *u), *du = calloc(nu, sizeof *du), *expect = calloc(nu, sizeof *expect);
      rc_reduced_from_state(r, s, u);
      double L = rc_reduced_vector_field(r, u, du);
      assert_close(L, rc_head_loss(ds, &hp, s->z, d, ws), 1e-12);
      /* expected: means of dx, dy, dP, and dC = sum (delta dx'^T + dx' delta^T) */
      const rc_groups *g = rc_reduced_groups(r);
      for (size_t i = 0; i < N; i++) {
        size_t gi = g->group_of_sample[i];
        for (size_t q = 0; q < d; q++) expect[gi * d + q] += ds_dt->x[i * d + q] / (double)g->group_size[gi];
      }
      memcpy(expect + G * d, ds_dt->y, K * d * sizeof(double));
      if (head) memcpy(expect + (G + K) * d, ds_dt->P, d * d * sizeof(double));
      double *C = expect + rc_reduced_core_dim(r);
      for (size_t i = 0; i < N; i++) {
        size_t gi = g->group_of_sample[i];
        for (size_t a = 0; a < d; a++)
          for (size_t b = 0; b < d; b++) {
            double da = s->x[i * d + a] - u[gi * d + a], db = s->x[i * d + b] - u[gi * d + b];
            double va = ds_dt->x[i * d + a] - expect[gi * d + a], vb = ds_dt->x[i * d + b] - expect[gi * d + b];
            C[gi * d * d + a * d + b] += da * vb + va * db;
          }
      }
      for (size_t q = 0; q < nu; q++)
        if (fabs(du[q] - expect[q]) > 1e-12 * (1 + fabs(expect[q])))
          fail_msg("%s scheme %d: component %zu of %zu: reduced %.15g vs particle %.15g", models[mi], scheme, q, nu,
                   du[q], expect[q]);
      free(u);
      free(du);
      free(expect);
      rc_reduced_free(r);
      rc_head_ws_free(ws);
      rc_state_free(s);
      rc_state_free(ds_dt);
    }
  rc_dataset_free(ds);
}

static void term_specs(void **state) {
  (void)state;
  rc_model m;
  rc_error err;
  char buf[128];
  assert_int_equal(rc_model_parse_terms(" Px - sg(y) + Py-sg( x )", &m, &err), RC_OK);
  rc_model siamsg;
  rc_model_preset("siam-sg", &siamsg, NULL);
  assert_int_equal(m.n_terms, 2);
  assert_memory_equal(m.terms, siamsg.terms, 2 * sizeof(rc_term));
  rc_model_format(&m, buf, sizeof buf);
  assert_string_equal(buf, "Px-sg(y)+Py-sg(x)");
  assert_int_equal(rc_model_parse_terms("0.25*x-Py", &m, &err), RC_OK);
  rc_model_format(&m, buf, sizeof buf);
  assert_string_equal(buf, "0.25*x-Py");
  const char *bad[] = {"", "x-x", "Px-Py+", "Qx-y", "x-sg(y", "-1*x-y", "x+y", "0*x-y", "x-y-y", "sg(x)-y",
                       "x-y+x-y+x-y+x-y+x-y+x-y+x-y+x-y+x-y"};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    if (rc_model_parse_terms(bad[k], &m, &err) == RC_OK) fail_msg("accepted '%s'", bad[k]);
    assert_non_null(strstr(err.msg, "--terms"));
  }
  /* simsiam became a preset (docs/model.md section 6.2): another name stands for an unknown one */
  assert_int_equal(rc_model_preset("simclr", &m, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "unknown model"));
}

/* The fused gd step (head_gd.c) is z + dt F(z) with F the vector field above
 * (checked against finite differences), for every kind of term, both rate
 * schemes, several blocks and tiles of samples; and bit-identical on 1, 2 and
 * 3 threads. */
static void fused_gd_step_is_the_vector_field(void **state) {
  (void)state;
  rc_dataset *ds = tu_equal(5, 500, 0.1, RC_PATTERN_RANDOM, 4); /* N = 2778: 3 blocks of 1024, tiles of 256 */
  const size_t d = 8, N = ds->n_samples, K = ds->n_classes, n = (N + K + d) * d;
  const char *specs[] = {"minimal", "head", "siam", "siam-sg", "0.7*x-Py+1.3*Py-sg(Px)", "Px-sg(Py)+2*y-sg(x)",
                         "Py-Px"};
  double *z = calloc(n, sizeof *z), *f = calloc(n, sizeof *f), *want = calloc(n, sizeof *want);
  double *z1 = calloc(n, sizeof *z1), *zt = calloc(n, sizeof *zt);
  rc_head_ws *ws;
  rc_error err;
  assert_int_equal(rc_head_ws_alloc(N, K, d, &ws, &err), RC_OK);
  const double dt = 0.05;
  for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++)
    for (int scheme = 0; scheme < 2; scheme++) {
      rc_head_params hp = rc_head_params_default();
      if (rc_model_preset(specs[k], &hp.model, &err) != RC_OK)
        assert_int_equal(rc_model_parse_terms(specs[k], &hp.model, &err), RC_OK);
      hp.base.rates = (rc_rate_scheme)scheme;
      hp.base.eta_x = 0.8;
      hp.base.eta_y = 1.3;
      hp.eta_head = 0.7;
      const int head = rc_model_has_head(&hp.model);
      const size_t nz = (N + K + (head ? d : 0)) * d;
      random_fill(z, nz, (unsigned)(10 + k));
      rc_head_vector_field(ds, &hp, z, d, f, ws);
      double zmax = 0;
      for (size_t q = 0; q < nz; q++) {
        want[q] = z[q] + dt * f[q];
        if (fabs(z[q]) > zmax) zmax = fabs(z[q]);
      }
      for (int th = 1; th <= 3; th++) {
        rc_head_gd *g;
        assert_int_equal(rc_head_gd_alloc(ds, &hp, d, dt, th, &g, &err), RC_OK);
        memcpy(zt, z, nz * sizeof *z);
        int bad = 1;
        assert_int_equal(rc_head_gd_step(g, zt, &bad), RC_OK);
        assert_false(bad);
        assert_int_equal(rc_head_gd_threads_used(g), th);
        rc_head_gd_free(g);
        if (th == 1) {
          double diff = tu_max_abs_diff(zt, want, nz);
          if (!(diff <= 1e-13 * zmax))
            fail_msg("%s (%s): fused step differs from z + dt F(z) by %g", specs[k], scheme ? "uniform" : "degree", diff);
          memcpy(z1, zt, nz * sizeof *z);
        } else if (memcmp(zt, z1, nz * sizeof *z) != 0) {
          fail_msg("%s: the step on %d threads differs from the step on one", specs[k], th);
        }
      }
    }
  /* a non-finite value is reported */
  rc_head_params hp = rc_head_params_default();
  assert_int_equal(rc_model_preset("siam-sg", &hp.model, &err), RC_OK);
  random_fill(z, n, 1);
  z[5 * d + 2] = INFINITY;
  rc_head_gd *g;
  assert_int_equal(rc_head_gd_alloc(ds, &hp, d, dt, 2, &g, &err), RC_OK);
  int bad = 0;
  assert_int_equal(rc_head_gd_step(g, z, &bad), RC_OK);
  assert_true(bad);
  rc_head_gd_free(g);
  free(z);
  free(f);
  free(want);
  free(z1);
  free(zt);
  rc_head_ws_free(ws);
  rc_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gradients_match_finite_differences), cmocka_unit_test(stop_gradient_is_not_ignored),
      cmocka_unit_test(minimal_preset_is_the_minimal_model), cmocka_unit_test(reduced_field_is_exact),
      cmocka_unit_test(term_specs), cmocka_unit_test(fused_gd_step_is_the_vector_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
