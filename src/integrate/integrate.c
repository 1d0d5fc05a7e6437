/* integrate.c: one interface over the three integrators (exact, rk45, gd):
 * visit the recorded times in order, hand each state to the observer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include "core/alloc.h"
#include "repcollapse/integrate.h"

static const char *const integrator_names[] = {"exact", "rk45", "gd"};

const char *rc_integrator_name(rc_integrator i) { return integrator_names[i]; }

rc_status rc_parse_integrator(const char *text, rc_integrator *out, rc_error *err) {
  for (int i = 0; i < 3; i++)
    if (strcmp(text, integrator_names[i]) == 0) {
      *out = (rc_integrator)i;
      return RC_OK;
    }
  return rc_error_set(err, RC_EINVAL, "unknown integrator '%s' (expected exact, rk45 or gd)", text);
}

static rc_status run_exact(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *init,
                           const rc_integrate_config *cfg, rc_observer obs, void *ctx, rc_error *err) {
  rc_exact *e;
  rc_status st = rc_exact_alloc(ds, p, init, cfg->exact_method, &e, err);
  if (st) return st;
  rc_state *s = rc_state_clone(init);
  if (!s) {
    rc_exact_free(e);
    return rc_error_set(err, RC_ENOMEM, "cannot allocate the state");
  }
  for (size_t k = 0; k < cfg->n_times && st == RC_OK; k++) {
    st = rc_exact_eval(e, cfg->times[k], s, err);
    if (st == RC_OK) st = obs(cfg->times[k], 0, s, ctx, err);
    if (cfg->progress) cfg->progress((double)(k + 1) / (double)cfg->n_times, cfg->progress_ctx);
  }
  rc_state_free(s);
  rc_exact_free(e);
  return st;
}

typedef struct {
  const rc_dataset *ds;
  const rc_minimal_params *p;
  size_t d;
} ode_params;

static int ode_rhs(double t, const double z[], double dz[], void *params) {
  (void)t;
  const ode_params *op = params;
  rc_minimal_vector_field(op->ds, op->p, z, op->d, dz);
  return GSL_SUCCESS;
}

static rc_status run_rk45(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *init,
                          const rc_integrate_config *cfg, rc_observer obs, void *ctx, rc_error *err) {
  ode_params op = {ds, p, init->d};
  size_t dim = (init->n + init->k) * init->d;
  gsl_odeiv2_system sys = {ode_rhs, NULL, dim, &op};
  double rtol = cfg->rtol > 0 ? cfg->rtol : 1e-10, atol = cfg->atol > 0 ? cfg->atol : 1e-12;
  double h0 = 1e-3;
  gsl_odeiv2_driver *drv = gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rkf45, h0, atol, rtol);
  rc_state *s = rc_state_clone(init);
  if (!drv || !s) {
    if (drv) gsl_odeiv2_driver_free(drv);
    rc_state_free(s);
    return rc_error_set(err, RC_ENOMEM, "cannot allocate the rk45 integrator for %zu unknowns", dim);
  }
  gsl_odeiv2_driver_set_nmax(drv, 0);
  double t = cfg->n_times ? (cfg->times[0] < 0 ? cfg->times[0] : 0.0) : 0.0;
  rc_status st = RC_OK;
  for (size_t k = 0; k < cfg->n_times && st == RC_OK; k++) {
    if (cfg->times[k] > t) {
      double target = cfg->times[k];
      int rc = gsl_odeiv2_driver_apply(drv, &t, target, s->z);
      if (rc != GSL_SUCCESS) {
        st = rc_error_set(err, RC_ENUMERIC, "rk45 failed at t = %g: %s", t, gsl_strerror(rc));
        break;
      }
    }
    for (size_t q = 0; q < dim; q++)
      if (!isfinite(s->z[q])) {
        st = rc_error_set(err, RC_ENUMERIC, "rk45: non-finite value at t = %g in %s %zu", t,
                          q < init->n * init->d ? "sample" : "label",
                          q < init->n * init->d ? q / init->d : (q - init->n * init->d) / init->d);
        break;
      }
    if (st == RC_OK) st = obs(cfg->times[k], 0, s, ctx, err);
    if (cfg->progress) cfg->progress((double)(k + 1) / (double)cfg->n_times, cfg->progress_ctx);
  }
  gsl_odeiv2_driver_free(drv);
  rc_state_free(s);
  return st;
}

static rc_status run_gd(const rc_dataset *ds, const rc_minimal_params *p, const rc_spectrum *spec,
                        const rc_state *init, const rc_integrate_config *cfg, rc_observer obs, void *ctx,
                        rc_error *err) {
  double dt = cfg->dt;
  if (!(dt > 0) || !isfinite(dt)) return rc_error_set(err, RC_EINVAL, "gd needs a positive step --dt (got %g)", dt);
  if (!spec) return rc_error_set(err, RC_EINVAL, "gd needs the spectrum to check its step");
  if (dt * spec->fast_rate >= 2.0)
    return rc_error_set(err, RC_EUNSTABLE,
                        "gd step dt = %g is unstable: dt * fast_rate = %g >= 2 (fast_rate = %g); use dt < %g", dt,
                        dt * spec->fast_rate, spec->fast_rate, 2.0 / spec->fast_rate);
  rc_state *s = rc_state_clone(init);
  rc_gd *g = NULL;
  rc_status st = s ? rc_gd_alloc(ds, p, init->d, dt, cfg->precision, cfg->threads, &g, err)
                   : rc_error_set(err, RC_ENOMEM, "cannot allocate the state");
  if (!st) st = rc_gd_load(g, s, err);
  size_t total = cfg->n_times ? (size_t)llround(cfg->times[cfg->n_times - 1] / dt) : 0, step = 0;
  for (size_t k = 0; k < cfg->n_times && st == RC_OK; k++) {
    size_t target = (size_t)llround(cfg->times[k] / dt);
    while (step < target && st == RC_OK) {
      size_t batch = target - step < 64 ? target - step : 64, done = 0;
      st = rc_gd_run(g, batch, &done, err);
      step += done;
      if (st) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        st = rc_error_set(err, st, "gd diverged at step %zu (t = %g): %s", step, step * dt, msg);
      }
      if (cfg->progress && total) cfg->progress((double)step / (double)total, cfg->progress_ctx);
    }
    if (st == RC_OK) {
      rc_gd_store(g, s);
      st = obs((double)step * dt, step, s, ctx, err);
    }
  }
  if (cfg->progress && st == RC_OK) cfg->progress(1.0, cfg->progress_ctx);
  rc_gd_free(g);
  rc_state_free(s);
  return st;
}

rc_status rc_integrate(const rc_dataset *ds, const rc_minimal_params *p, const rc_spectrum *spec,
                       const rc_state *init, const rc_integrate_config *cfg, rc_observer obs, void *ctx,
                       rc_error *err) {
  for (size_t k = 0; k < cfg->n_times; k++) {
    if (!(cfg->times[k] >= 0) || !isfinite(cfg->times[k]))
      return rc_error_set(err, RC_EINVAL, "recorded time %g is not a finite non-negative number", cfg->times[k]);
    if (k && cfg->times[k] <= cfg->times[k - 1])
      return rc_error_set(err, RC_EINVAL, "recorded times must be strictly increasing (%g after %g)", cfg->times[k],
                          cfg->times[k - 1]);
  }
  switch (cfg->integrator) {
    case RC_INTEGRATOR_EXACT: return run_exact(ds, p, init, cfg, obs, ctx, err);
    case RC_INTEGRATOR_RK45: return run_rk45(ds, p, init, cfg, obs, ctx, err);
    case RC_INTEGRATOR_GD: return run_gd(ds, p, spec, init, cfg, obs, ctx, err);
  }
  return rc_error_set(err, RC_EINVAL, "unknown integrator");
}
