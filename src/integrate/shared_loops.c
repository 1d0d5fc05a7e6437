/* shared_loops.c: the pieces every particle integrator of a nonlinear model
 * shares (term models of section 3, the teacher-student model of section 4):
 * GSL's rkf45 over the recorded times, and the power-iteration estimate of the
 * Jacobian's spectral radius that decides whether a gd step is stable. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include "integrate/common.h"

int rc_rk45_progress_rhs(double t, const double z[], double dz[], void *params) {
  rc_rk45_progress *w = params;
  int rc = w->rhs(t, z, dz, w->params);
  const rc_integrate_config *cfg = w->cfg;
  if (rc != GSL_SUCCESS || !cfg->progress || ++w->calls % 64 || w->k >= cfg->n_times) return rc;
  double span = cfg->times[w->k] - w->from, part = span > 0 ? fmin(1.0, fmax(0.0, (t - w->from) / span)) : 1.0;
  if (cfg->progress(((double)w->k + part) / (double)cfg->n_times, cfg->progress_ctx)) {
    w->cancelled = 1;
    return GSL_EBADFUNC;
  }
  return GSL_SUCCESS;
}

rc_status rc_rk45_loop(int (*rhs)(double, const double *, double *, void *), void *params, double *z, size_t n,
                       const rc_integrate_config *cfg, rc_vec_observer obs, void *ctx, rc_describe_fn describe,
                       const void *dctx, rc_error *err) {
  return rc_rk45_loop_resumable(rhs, params, z, n, cfg, NULL, NULL, obs, ctx, describe, dctx, err);
}

rc_status rc_rk45_loop_resumable(int (*rhs)(double, const double *, double *, void *), void *params, double *z,
                                 size_t n, const rc_integrate_config *cfg, const rc_rk45_checkpointing *ck,
                                 const char *fault, rc_vec_observer obs, void *ctx, rc_describe_fn describe,
                                 const void *dctx, rc_error *err) {
  rc_status st = rc_rk45_check_tolerances(cfg->rtol, cfg->atol, err);
  if (st) return st;
  const rc_rk45_start *from = ck ? ck->from : NULL;
  if (from && (from->next_time > cfg->n_times || !isfinite(from->t) || !(from->t >= 0)))
    return rc_error_set(err, RC_EINVAL, "the resume point does not fit this run");
  rc_rk45_progress w = {rhs, params, cfg, 0, 0.0, 0, 0};
  gsl_odeiv2_system sys = {rc_rk45_progress_rhs, NULL, n, &w};
  double rtol = cfg->rtol > 0 ? cfg->rtol : 1e-10, atol = cfg->atol > 0 ? cfg->atol : 1e-12;
  double h0 = from && from->h > 0 ? from->h : 1e-3;
  gsl_odeiv2_driver *drv = gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rkf45, h0, atol, rtol);
  if (!drv) return rc_error_set(err, RC_ENOMEM, "cannot allocate the rk45 integrator for %zu unknowns", n);
  gsl_set_error_handler_off(); /* every GSL status is checked and reported through rc_error */
  double t = from ? from->t : 0.0, last = t;
  unsigned long steps = 0; /* steps taken by this process (a resumed run starts a fresh count) */
  for (size_t k = from ? from->next_time : 0; k < cfg->n_times && st == RC_OK; k++) {
    if (cfg->times[k] > t) {
      w.k = k;
      w.from = t;
      st = rc_rk45_advance(drv, &t, cfg->times[k], z, cfg, &steps, fault, err);
      if (st && w.cancelled) st = rc_error_set(err, RC_ECANCELLED, "cancelled at t = %g (the progress callback asked to stop)", t);
      if (st) break;
    }
    size_t bad = rc_first_nonfinite(z, n);
    if (bad < n) {
      char what[96];
      describe(bad, what, sizeof what, dctx);
      st = rc_error_set(err, RC_ENUMERIC, "rk45: non-finite value at t = %g in %s", t, what);
      break;
    }
    st = obs(cfg->times[k], 0, z, ctx, err);
    if (st == RC_OK && ck && ck->every > 0 && k + 1 < cfg->n_times && t - last >= ck->every) {
      last = t;
      st = ck->save(k + 1, t, drv->h, z, ck->ctx, err);
    }
    if (st == RC_OK) st = rc_progress_report(cfg->progress, cfg->progress_ctx, (double)(k + 1) / (double)cfg->n_times, err);
  }
  gsl_odeiv2_driver_free(drv);
  return st;
}

double rc_field_radius(size_t n, const double *z, rc_field_fn field, void *ctx, int iters, int burn, int one_sided) {
  double *v = malloc(n * sizeof *v), *zp = malloc(n * sizeof *zp), *f1 = malloc(n * sizeof *f1),
         *f2 = malloc(n * sizeof *f2);
  double rho = NAN;
  if (v && zp && f1 && f2) {
    double zn = 0.0;
    for (size_t q = 0; q < n; q++) {
      v[q] = sin(1.0 + 12.9898 * (double)q) + 0.5; /* deterministic, not aligned with anything */
      zn = fmax(zn, fabs(z[q]));
    }
    double logsum = 0.0;
    if (one_sided) field(z, f2, ctx); /* F(z), once: J v ~ (F(z + h v) - F(z)) / h */
    for (int it = 0; it < iters; it++) {
      double vn = 0.0;
      for (size_t q = 0; q < n; q++) vn += v[q] * v[q];
      vn = sqrt(vn);
      for (size_t q = 0; q < n; q++) v[q] /= vn;
      if (it > burn) logsum += log(vn);
      const double h = 1e-5 * (1.0 + zn);
      for (size_t q = 0; q < n; q++) zp[q] = z[q] + h * v[q];
      field(zp, f1, ctx);
      if (one_sided) {
        for (size_t q = 0; q < n; q++) v[q] = (f1[q] - f2[q]) / h;
        continue;
      }
      for (size_t q = 0; q < n; q++) zp[q] = z[q] - h * v[q];
      field(zp, f2, ctx);
      for (size_t q = 0; q < n; q++) v[q] = (f1[q] - f2[q]) / (2.0 * h);
    }
    double vn = 0.0;
    for (size_t q = 0; q < n; q++) vn += v[q] * v[q];
    logsum += log(sqrt(vn));
    rho = exp(logsum / (double)(iters - burn));
  }
  free(v);
  free(zp);
  free(f1);
  free(f2);
  return rho;
}
