/* selfconsistent.c: mean-field self-consistency of term-model fixed points
 * (selfconsistent.h, docs/selfconsistency.md): one scalar problem per mode of
 * the class walk T, solved by least squares from several starting gains,
 * then the d-dimensional fixed point assembled from the mode solutions and
 * its stability checked on the full reduced system. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>

#include "analysis/reduction.h"
#include "core/alloc.h"
#include "repcollapse/reduced.h"
#include "repcollapse/selfconsistent.h"

typedef struct {
  rc_reduced *r;
  double *u, *du;
  size_t G, K, core;
  int head;
} mode_ctx;

/* unknowns: X (G) then p (if head); labels fixed in u */
static int mode_residual(const gsl_vector *th, void *params, gsl_vector *f) {
  mode_ctx *c = params;
  for (size_t g = 0; g < c->G; g++) c->u[g] = gsl_vector_get(th, g);
  if (c->head) c->u[c->G + c->K] = gsl_vector_get(th, c->G);
  rc_reduced_vector_field(c->r, c->u, c->du);
  for (size_t q = 0; q < c->core; q++) gsl_vector_set(f, q, c->du[q]);
  return GSL_SUCCESS;
}

static double core_norm(mode_ctx *c) {
  rc_reduced_vector_field(c->r, c->u, c->du);
  double s = 0;
  for (size_t q = 0; q < c->core; q++) s += c->du[q] * c->du[q];
  return sqrt(s);
}

/* solve one mode from starting gain p0; returns residual, writes p and X */
static double solve_mode(mode_ctx *c, const double *w, const rc_dataset *ds, const rc_groups *grp, double p0,
                         double *p_out, double *X_out) {
  const size_t G = c->G, K = c->K, np = G + (c->head ? 1 : 0);
  memset(c->u, 0, rc_reduced_dim(c->r) * sizeof(double));
  memcpy(c->u + G, w, K * sizeof(double));
  for (size_t g = 0; g < G; g++) { /* start: the group's mean label, divided by the gain */
    size_t i = grp->group_rep[g];
    double s = 0;
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) s += ds->counts[j] * w[ds->labels[j]];
    c->u[g] = s / ds->sample_weight[i] / (c->head ? p0 : 1.0);
  }
  if (c->head) c->u[G + K] = p0;
  gsl_vector *th = gsl_vector_alloc(np);
  for (size_t g = 0; g < G; g++) gsl_vector_set(th, g, c->u[g]);
  if (c->head) gsl_vector_set(th, G, p0);
  gsl_multifit_nlinear_fdf fdf;
  memset(&fdf, 0, sizeof fdf);
  fdf.f = mode_residual;
  fdf.n = c->core;
  fdf.p = np;
  fdf.params = c;
  gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
  par.trs = gsl_multifit_nlinear_trs_lm;
  gsl_multifit_nlinear_workspace *ws = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, c->core, np);
  int info;
  gsl_multifit_nlinear_init(th, &fdf, ws);
  gsl_multifit_nlinear_driver(500, 1e-15, 1e-30, 1e-30, NULL, NULL, &info, ws);
  const gsl_vector *sol = gsl_multifit_nlinear_position(ws);
  for (size_t g = 0; g < G; g++) c->u[g] = X_out[g] = gsl_vector_get(sol, g);
  *p_out = c->head ? gsl_vector_get(sol, G) : NAN;
  if (c->head) c->u[G + K] = *p_out;
  double res = core_norm(c);
  gsl_multifit_nlinear_free(ws);
  gsl_vector_free(th);
  return res;
}

void rc_sc_result_free(rc_sc_result *r) {
  if (!r) return;
  free(r->mode);
  r->mode = NULL;
  rc_stability_free(&r->stability);
}

rc_status rc_selfconsistent_solve(const rc_dataset *ds, const rc_head_params *hp, size_t d, rc_sc_result *out,
                                  rc_error *err) {
  memset(out, 0, sizeof *out);
  out->gain_separation = out->gain_centre = out->loss_per_msd = out->assembled_residual = NAN;
  const size_t K = ds->n_classes;
  double *nu = NULL, *V = NULL;
  rc_status st = rc_kk_eigen(ds, 1, &nu, &V, err);
  if (st) return st;
  rc_reduced *r1 = NULL;
  st = rc_reduced_alloc(ds, hp, 1, &r1, err);
  if (st) {
    free(nu);
    free(V);
    return st;
  }
  const size_t G = rc_reduced_n_groups(r1);
  mode_ctx c = {r1, calloc(rc_reduced_dim(r1), sizeof(double)), calloc(rc_reduced_dim(r1), sizeof(double)), G, K,
                rc_reduced_core_dim(r1), rc_model_has_head(&hp->model)};
  out->n_modes = K;
  out->mode = calloc(K, sizeof *out->mode);
  double *w = calloc(K, sizeof *w), *X = calloc(G, sizeof *X);
  double *Xsol = calloc(K * G, sizeof *Xsol), *psel = calloc(K, sizeof *psel); /* chosen solution per mode */
  if (!c.u || !c.du || !out->mode || !w || !X || !Xsol || !psel) st = rc_error_set(err, RC_ENOMEM, "self-consistency");
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  out->exists = 1;
  for (size_t k = 0; k < K && !st; k++) {
    /* modes in ascending mu: nu is ascending, so walk it backwards */
    size_t e = K - 1 - k;
    rc_sc_mode *m = &out->mode[k];
    m->mu = 1.0 - nu[e];
    double wmax = 0;
    for (size_t a = 0; a < K; a++) {
      w[a] = V[a * K + e] / sqrt(ds->class_weight[a]);
      wmax = fmax(wmax, fabs(w[a]));
    }
    for (size_t a = 0; a < K; a++) w[a] /= wmax;
    const double starts[] = {1.0, 0.5, 1.5, -1.0, -0.5, 0.2};
    const double tol = 1e-9;
    double best_dist = INFINITY;
    for (size_t s = 0; s < (c.head ? sizeof starts / sizeof *starts : 1); s++) {
      double p;
      double res = solve_mode(&c, w, ds, rc_reduced_groups(r1), starts[s], &p, X);
      if (!(res <= tol)) continue;
      int dup = 0;
      for (size_t q = 0; q < m->n_solutions; q++)
        if (!c.head || fabs(m->gain[q] - p) <= 1e-6 * (1 + fabs(p))) dup = 1;
      if (dup || m->n_solutions == RC_SC_MAX_SOLUTIONS) continue;
      m->gain[m->n_solutions] = p;
      m->residual[m->n_solutions++] = res;
      /* the member runs reach: gain closest to +1 (positive) */
      double dist = c.head ? fabs(p - 1.0) + (p > 0 ? 0.0 : 10.0) : 0.0;
      if (dist < best_dist) {
        best_dist = dist;
        psel[k] = p;
        memcpy(Xsol + k * G, X, G * sizeof *X);
      }
    }
    /* sort gains ascending (with their residuals) */
    for (size_t a = 1; a < m->n_solutions; a++)
      for (size_t b = a; b > 0 && m->gain[b] < m->gain[b - 1]; b--) {
        double t = m->gain[b];
        m->gain[b] = m->gain[b - 1];
        m->gain[b - 1] = t;
        t = m->residual[b];
        m->residual[b] = m->residual[b - 1];
        m->residual[b - 1] = t;
      }
    if (m->n_solutions == 0) out->exists = 0;
  }
  gsl_set_error_handler(old);
  /* summary gains */
  if (!st && out->exists && c.head) {
    out->gain_centre = psel[K - 1];
    out->gain_separation = K > 1 ? psel[0] : NAN;
    for (size_t k = 1; k + 1 < K; k++)
      if (fabs(psel[k] - psel[0]) > 1e-9 * (1 + fabs(psel[0]))) out->gain_separation = NAN;
  }
  /* assemble the d-dimensional fixed point: mode k in embedding direction k */
  if (!st && out->exists && d >= K) {
    rc_reduced *rd = NULL;
    st = rc_reduced_alloc(ds, hp, d, &rd, err);
    double *u = st ? NULL : calloc(rc_reduced_dim(rd), sizeof *u), *du = st ? NULL : calloc(rc_reduced_dim(rd), sizeof *du);
    if (!st && (!u || !du)) st = rc_error_set(err, RC_ENOMEM, "self-consistency");
    if (!st) {
      double *Y = u + G * d, *P = c.head ? u + (G + K) * d : NULL;
      for (size_t k = 0; k < K; k++) {
        size_t e = K - 1 - k;
        double wmax = 0;
        for (size_t a = 0; a < K; a++) wmax = fmax(wmax, fabs(V[a * K + e] / sqrt(ds->class_weight[a])));
        for (size_t a = 0; a < K; a++) Y[a * d + k] = V[a * K + e] / sqrt(ds->class_weight[a]) / wmax;
        for (size_t g = 0; g < G; g++) u[g * d + k] = Xsol[k * G + g];
      }
      if (P) {
        for (size_t a = 0; a < d; a++) P[a * d + a] = 1.0;
        for (size_t k = 0; k < K; k++) P[k * d + k] = psel[k];
      }
      rc_reduced_vector_field(rd, u, du);
      double s = 0;
      for (size_t q = 0; q < rc_reduced_dim(rd); q++) s += du[q] * du[q];
      out->assembled_residual = sqrt(s);
      /* loss per mean squared label distance, when one mu holds every separation mode */
      int one_mu = K > 1;
      for (size_t k = 1; k + 1 < K; k++)
        if (fabs(out->mode[k].mu - out->mode[0].mu) > 1e-9) one_mu = 0;
      if (one_mu) {
        double msd = 0;
        for (size_t a = 0; a < K; a++)
          for (size_t b = a + 1; b < K; b++)
            for (size_t q = 0; q < d; q++) msd += (Y[a * d + q] - Y[b * d + q]) * (Y[a * d + q] - Y[b * d + q]);
        msd /= (double)(K * (K - 1) / 2);
        out->loss_per_msd = rc_reduced_loss(rd, u) / msd;
      }
      st = rc_reduced_stability(rd, u, 1e-6, &out->stability, err);
    }
    free(u);
    free(du);
    rc_reduced_free(rd);
  }
  free(w);
  free(X);
  free(Xsol);
  free(psel);
  free(c.u);
  free(c.du);
  rc_reduced_free(r1);
  free(nu);
  free(V);
  if (st) rc_sc_result_free(out);
  return st;
}
