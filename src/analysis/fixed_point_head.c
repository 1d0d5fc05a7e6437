/* fixed_point_head.c: fixed points of a term model on its group-reduced
 * equations (docs/model.md section 3), by Levenberg-Marquardt least squares on
 * |F(u)|^2 (GSL multifit_nlinear, finite-difference Jacobian). Fixed points lie
 * on continuous families (joint rotations, the separation's size, P on unused
 * directions), where the Jacobian is singular; the trust-region damping copes
 * with that where Newton's method would not. On the invariant set of a model
 * under --sphere (docs/model.md section 6.2) the solution's rows are put back
 * on the sphere before its residual is read, and the solver holds them there
 * with one more residual per row, |z|^2 - 1 (the tangent field alone also
 * vanishes off the sphere, where the squared terms differ). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>

#include "repcollapse/fixedpoint.h"

typedef struct {
  rc_reduced *r;
  double *v;  /* full state in symmetric coordinates; the solver varies its first m components */
  double *u;  /* the same as a reduced state */
  double *du; /* field */
  double *dv; /* field in symmetric coordinates */
  size_t m;
  size_t sphere_rows, d; /* --sphere: rows X, Y (first in u) held on the sphere by extra residuals |z|^2 - 1 */
} fp_ctx;

static int residual(const gsl_vector *x, void *params, gsl_vector *f) {
  fp_ctx *c = params;
  for (size_t q = 0; q < c->m; q++) c->v[q] = gsl_vector_get(x, q);
  rc_reduced_from_sym(c->r, c->v, c->u);
  rc_reduced_vector_field(c->r, c->u, c->du);
  rc_reduced_to_sym(c->r, c->du, c->dv);
  for (size_t q = 0; q < c->m; q++) gsl_vector_set(f, q, c->dv[q]);
  for (size_t r = 0; r < c->sphere_rows; r++) {
    double nn = 0.0;
    for (size_t q = 0; q < c->d; q++) nn += c->u[r * c->d + q] * c->u[r * c->d + q];
    gsl_vector_set(f, c->m + r, nn - 1.0);
  }
  return GSL_SUCCESS;
}

static double field_norm(rc_reduced *r, const double *u, double *du) {
  size_t n = rc_reduced_dim(r);
  rc_reduced_vector_field(r, u, du);
  double s = 0.0;
  for (size_t q = 0; q < n; q++) s += du[q] * du[q];
  return sqrt(s);
}

rc_status rc_reduced_fixed_point(rc_reduced *r, double *u, double *res_out, size_t max_iter, rc_error *err) {
  const size_t n = rc_reduced_dim(r), core = rc_reduced_core_dim(r);
  double cmax = 0.0, umax = 0.0;
  for (size_t q = 0; q < n; q++) {
    if (q >= core) cmax = fmax(cmax, fabs(u[q]));
    else umax = fmax(umax, fabs(u[q]));
  }
  const int hold_c = cmax <= 1e-12 * (1.0 + umax);
  if (hold_c)
    for (size_t q = core; q < n; q++) u[q] = 0.0;
  const size_t ns = rc_reduced_sym_dim(r), m = hold_c ? core : ns;
  if (m > 8000)
    return rc_error_set(err, RC_ENOMEM, "the fixed-point problem has %zu unknowns: use a smaller --dim", m);
  /* the scatters are symmetric (second moments): solve in the coordinates of
   * the state space proper, so that C stays symmetric and no step goes into
   * the antisymmetric directions the field never moves */
  const size_t srows = rc_reduced_sphere_rows(r);
  fp_ctx c = {r, malloc(ns * sizeof(double)), malloc(n * sizeof(double)), malloc(n * sizeof(double)),
              malloc(ns * sizeof(double)), m, srows, rc_reduced_embedding_dim(r)};
  gsl_vector *x = gsl_vector_alloc(m);
  if (!c.v || !c.u || !c.du || !c.dv || !x) {
    free(c.v);
    free(c.u);
    free(c.du);
    free(c.dv);
    if (x) gsl_vector_free(x);
    return rc_error_set(err, RC_ENOMEM, "fixed point solver");
  }
  rc_reduced_to_sym(r, u, c.v);
  rc_reduced_from_sym(r, c.v, u); /* C symmetric from the start */
  for (size_t q = 0; q < m; q++) gsl_vector_set(x, q, c.v[q]);
  gsl_multifit_nlinear_fdf fdf;
  memset(&fdf, 0, sizeof fdf);
  fdf.f = residual;
  fdf.df = NULL; /* finite differences */
  fdf.fvv = NULL;
  fdf.n = m + srows;
  fdf.p = m;
  fdf.params = &c;
  gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
  par.trs = gsl_multifit_nlinear_trs_lm;
  par.h_df = 1e-7;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  gsl_multifit_nlinear_workspace *w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, m + srows, m);
  rc_status st = RC_OK;
  if (!w) st = rc_error_set(err, RC_ENOMEM, "fixed point solver workspace (%zu unknowns)", m);
  double start = field_norm(r, u, c.du);
  if (!st && start > 0) {
    int info = 0;
    gsl_multifit_nlinear_init(x, &fdf, w);
    int rc = gsl_multifit_nlinear_driver(max_iter ? max_iter : 200, 1e-15, 1e-30, 1e-30, NULL, NULL, &info, w);
    const gsl_vector *sol = gsl_multifit_nlinear_position(w);
    for (size_t q = 0; q < m; q++) c.v[q] = gsl_vector_get(sol, q);
    rc_reduced_from_sym(r, c.v, c.u);
    rc_reduced_constrain(r, c.u); /* --sphere: the solution's rows back on the sphere */
    double end = field_norm(r, c.u, c.du);
    /* keep the better of start and end: the solver may stop on a tolerance (or at the
     * iteration limit) with what it has, which is fine when the residual went down */
    if (end <= start) memcpy(u, c.u, n * sizeof(double));
    (void)rc;
  }
  if (w) gsl_multifit_nlinear_free(w);
  gsl_set_error_handler(old);
  *res_out = field_norm(r, u, c.du);
  gsl_vector_free(x);
  free(c.v);
  free(c.u);
  free(c.du);
  free(c.dv);
  if (!st && !isfinite(*res_out)) st = rc_error_set(err, RC_ENUMERIC, "the fixed point solver produced a non-finite state");
  return st;
}
