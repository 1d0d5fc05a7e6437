/* head_integrate.c: integrators for term models (MODEL.md section 3): rk45
 * and gd on the particle system (x, y, P), and rk45 on the exact
 * group-reduced system (`reduced`, cost independent of N). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include "core/alloc.h"
#include "integrate/common.h"
#include "repcollapse/integrate.h"

/* which quantity index q of a particle state is */
static void describe(size_t q, size_t N, size_t K, size_t d, char *buf, size_t n) {
  if (q < N * d) snprintf(buf, n, "sample %zu's embedding (coordinate %zu)", q / d, q % d);
  else if (q < (N + K) * d) snprintf(buf, n, "label %zu's embedding (coordinate %zu)", (q - N * d) / d, q % d);
  else snprintf(buf, n, "head P[%zu][%zu]", (q - (N + K) * d) / d, (q - (N + K) * d) % d);
}

double rc_head_rate_estimate(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d,
                             rc_head_ws *ws) {
  const size_t n = (ds->n_samples + ds->n_classes + (rc_model_has_head(&hp->model) ? d : 0)) * d;
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
    const int iters = 60, burn = 20;
    for (int it = 0; it < iters; it++) {
      double vn = 0.0;
      for (size_t q = 0; q < n; q++) vn += v[q] * v[q];
      vn = sqrt(vn);
      for (size_t q = 0; q < n; q++) v[q] /= vn;
      if (it > burn) logsum += log(vn);
      const double h = 1e-5 * (1.0 + zn);
      for (size_t q = 0; q < n; q++) zp[q] = z[q] + h * v[q];
      rc_head_vector_field(ds, hp, zp, d, f1, ws);
      for (size_t q = 0; q < n; q++) zp[q] = z[q] - h * v[q];
      rc_head_vector_field(ds, hp, zp, d, f2, ws);
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

typedef struct {
  const rc_dataset *ds;
  const rc_head_params *hp;
  size_t d;
  rc_head_ws *ws;
  rc_reduced *red;
} head_ode;

static int head_rhs(double t, const double z[], double dz[], void *params) {
  (void)t;
  head_ode *o = params;
  rc_head_vector_field(o->ds, o->hp, z, o->d, dz, o->ws);
  return GSL_SUCCESS;
}

static int reduced_rhs(double t, const double u[], double du[], void *params) {
  (void)t;
  head_ode *o = params;
  rc_reduced_vector_field(o->red, u, du);
  return GSL_SUCCESS;
}

/* GSL rkf45 over cfg->times; calls back with the vector at each time */
typedef rc_status (*vec_observer)(double t, size_t step, const double *z, void *ctx, rc_error *err);

static rc_status rk45_loop(int (*rhs)(double, const double *, double *, void *), void *params, double *z, size_t n,
                           const rc_integrate_config *cfg, vec_observer obs, void *ctx, size_t N, size_t K,
                           size_t d, rc_error *err) {
  gsl_odeiv2_system sys = {rhs, NULL, n, params};
  double rtol = cfg->rtol > 0 ? cfg->rtol : 1e-10, atol = cfg->atol > 0 ? cfg->atol : 1e-12;
  gsl_odeiv2_driver *drv = gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rkf45, 1e-3, atol, rtol);
  if (!drv) return rc_error_set(err, RC_ENOMEM, "cannot allocate the rk45 integrator for %zu unknowns", n);
  gsl_odeiv2_driver_set_nmax(drv, 0);
  double t = 0.0;
  rc_status st = RC_OK;
  for (size_t k = 0; k < cfg->n_times && st == RC_OK; k++) {
    if (cfg->times[k] > t) {
      int rc = gsl_odeiv2_driver_apply(drv, &t, cfg->times[k], z);
      if (rc != GSL_SUCCESS) {
        st = rc_error_set(err, RC_ENUMERIC, "rk45 failed at t = %g: %s", t, gsl_strerror(rc));
        break;
      }
    }
    size_t bad = rc_first_nonfinite(z, n);
    if (bad < n) {
      char what[96];
      if (N || K) describe(bad, N, K, d, what, sizeof what);
      else snprintf(what, sizeof what, "reduced state component %zu", bad);
      st = rc_error_set(err, RC_ENUMERIC, "rk45: non-finite value at t = %g in %s", t, what);
      break;
    }
    st = obs(cfg->times[k], 0, z, ctx, err);
    if (cfg->progress) cfg->progress((double)(k + 1) / (double)cfg->n_times, cfg->progress_ctx);
  }
  gsl_odeiv2_driver_free(drv);
  return st;
}

typedef struct {
  rc_state *s;
  rc_observer obs;
  void *ctx;
} state_obs;

static rc_status state_observer(double t, size_t step, const double *z, void *vctx, rc_error *err) {
  state_obs *so = vctx;
  if (z != so->s->z) memcpy(so->s->z, z, rc_state_size(so->s) * sizeof(double));
  return so->obs(t, step, so->s, so->ctx, err);
}

rc_status rc_integrate_head(const rc_dataset *ds, const rc_head_params *hp, const rc_state *init,
                            const rc_integrate_config *cfg, rc_observer obs, void *obs_ctx, rc_error *err) {
  rc_status st = rc_integrate_check_times(cfg, err);
  if (st) return st;
  const int head = rc_model_has_head(&hp->model);
  if (head && !init->P) return rc_error_set(err, RC_EINVAL, "the model has a head but the initial state has none");
  if (!(hp->eta_head > 0) || !isfinite(hp->eta_head))
    return rc_error_set(err, RC_EINVAL, "eta_head must be positive (got %g)", hp->eta_head);
  const size_t N = ds->n_samples, K = ds->n_classes, d = init->d, n = rc_state_size(init);
  rc_head_ws *ws;
  st = rc_head_ws_alloc(N, K, d, &ws, err);
  if (st) return st;
  rc_state *s = rc_state_clone(init);
  double *f = rc_calloc(n, sizeof *f, "vector field", err);
  if (!s || !f) {
    rc_head_ws_free(ws);
    rc_state_free(s);
    free(f);
    return rc_error_set(err, RC_ENOMEM, "cannot allocate the state");
  }
  state_obs so = {s, obs, obs_ctx};
  if (cfg->integrator == RC_INTEGRATOR_RK45) {
    head_ode o = {ds, hp, d, ws, NULL};
    st = rk45_loop(head_rhs, &o, s->z, n, cfg, state_observer, &so, N, K, d, err);
  } else if (cfg->integrator == RC_INTEGRATOR_GD) {
    const double dt = cfg->dt;
    if (!(dt > 0) || !isfinite(dt)) st = rc_error_set(err, RC_EINVAL, "gd needs a positive step --dt (got %g)", dt);
    double rho = st ? 0 : rc_head_rate_estimate(ds, hp, init->z, d, ws);
    if (!st && dt * rho >= 2.0)
      st = rc_error_set(err, RC_EUNSTABLE,
                        "gd step dt = %g is unstable: dt times the Jacobian's spectral radius at the start (%g) is "
                        "%g >= 2; use dt < %g",
                        dt, rho, dt * rho, 2.0 / rho);
    size_t step = 0, total = cfg->n_times ? (size_t)llround(cfg->times[cfg->n_times - 1] / dt) : 0;
    for (size_t k = 0; k < cfg->n_times && st == RC_OK; k++) {
      size_t target = (size_t)llround(cfg->times[k] / dt);
      while (step < target && st == RC_OK) {
        rc_head_vector_field(ds, hp, s->z, d, f, ws);
        for (size_t q = 0; q < n; q++) s->z[q] += dt * f[q];
        step++;
        size_t bad = rc_first_nonfinite(s->z, n);
        if (bad < n) {
          char what[96];
          describe(bad, N, K, d, what, sizeof what);
          st = rc_error_set(err, RC_ENUMERIC, "gd diverged at step %zu (t = %g): non-finite value %g in %s", step,
                            (double)step * dt, s->z[bad], what);
        }
        if (cfg->progress && (step & 15) == 0 && total) cfg->progress((double)step / (double)total, cfg->progress_ctx);
      }
      if (st == RC_OK) st = obs((double)step * dt, step, s, obs_ctx, err);
    }
  } else {
    st = rc_error_set(err, RC_EINVAL, "integrator %s does not apply to a particle run of this model (use rk45, gd or reduced)",
                      rc_integrator_name(cfg->integrator));
  }
  free(f);
  rc_state_free(s);
  rc_head_ws_free(ws);
  return st;
}

typedef struct {
  rc_reduced_observer obs;
  void *ctx;
} red_obs;

static rc_status reduced_observer(double t, size_t step, const double *u, void *vctx, rc_error *err) {
  (void)step;
  red_obs *ro = vctx;
  return ro->obs(t, u, ro->ctx, err);
}

rc_status rc_integrate_reduced(rc_reduced *r, const double *u0, const rc_integrate_config *cfg,
                               rc_reduced_observer obs, void *obs_ctx, rc_error *err) {
  rc_status st = rc_integrate_check_times(cfg, err);
  if (st) return st;
  size_t n = rc_reduced_dim(r);
  double *u = rc_calloc(n, sizeof *u, "reduced state", err);
  if (!u) return RC_ENOMEM;
  memcpy(u, u0, n * sizeof *u);
  head_ode o = {NULL, NULL, 0, NULL, r};
  red_obs ro = {obs, obs_ctx};
  st = rk45_loop(reduced_rhs, &o, u, n, cfg, reduced_observer, &ro, 0, 0, 0, err);
  free(u);
  return st;
}
