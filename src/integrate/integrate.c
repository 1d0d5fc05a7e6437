/* integrate.c: one interface over the three integrators (exact, rk45, gd):
 * visit the recorded times in order, hand each state to the observer; save a
 * resume point now and then, and start from one (integrate.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include "core/alloc.h"
#include "integrate/common.h"
#include "repcollapse/integrate.h"

rc_status rc_integrate_check_times(const rc_integrate_config *cfg, rc_error *err) {
  for (size_t k = 0; k < cfg->n_times; k++) {
    if (!(cfg->times[k] >= 0) || !isfinite(cfg->times[k]))
      return rc_error_set(err, RC_EINVAL, "recorded time %g is not a finite non-negative number", cfg->times[k]);
    if (k && cfg->times[k] <= cfg->times[k - 1])
      return rc_error_set(err, RC_EINVAL, "recorded times must be strictly increasing (%g after %g)", cfg->times[k],
                          cfg->times[k - 1]);
  }
  return RC_OK;
}

rc_status rc_rk45_check_tolerances(double rtol, double atol, rc_error *err) {
  if (!isfinite(rtol) || rtol < 0 || (rtol > 0 && rtol < RC_RK45_MIN_RTOL))
    return rc_error_set(err, RC_EINVAL,
                        "--rtol %g is below %g: double precision cannot meet it (every step rounds the state by "
                        "1.1e-16 of its size, and a run's roundings add up), so rk45 would shrink its step without end",
                        rtol, RC_RK45_MIN_RTOL);
  if (!isfinite(atol) || atol < 0) return rc_error_set(err, RC_EINVAL, "--atol must be a non-negative number (got %g)", atol);
  if (rtol >= 1) return rc_error_set(err, RC_EINVAL, "--rtol %g is not below 1: it would accept any step", rtol);
  return RC_OK;
}

rc_status rc_rk45_advance(gsl_odeiv2_driver *drv, double *t, double target, double *z, const rc_integrate_config *cfg,
                          unsigned long *steps, const char *fault, rc_error *err) {
  const unsigned long max = cfg->max_steps ? cfg->max_steps : RC_RK45_MAX_STEPS;
  const double rtol = cfg->rtol > 0 ? cfg->rtol : 1e-10, atol = cfg->atol > 0 ? cfg->atol : 1e-12;
  int rc = GSL_EMAXITER;
  if (*steps < max) {
    gsl_odeiv2_driver_set_nmax(drv, max - *steps);
    rc = gsl_odeiv2_driver_apply(drv, t, target, z);
    *steps += drv->n;
  }
  switch (rc) {
    case GSL_SUCCESS: return RC_OK;
    case GSL_EMAXITER:
      return rc_error_set(err, RC_ENUMERIC,
                          "rk45 stopped at t = %.9g, short of the recorded time %.9g, having reached the "
                          "--max-steps bound (%lu steps); the step size was h = %g: rtol = %g, atol = %g are too "
                          "tight for this problem or it is too stiff (try --integrator exact or gd, looser "
                          "tolerances, or a larger --max-steps)",
                          *t, target, max, drv->h, rtol, atol);
    case GSL_ENOPROG:
      return rc_error_set(err, RC_ENUMERIC,
                          "rk45 failed at t = %g (step %lu of this run): the step size h = %g is too small to advance "
                          "t in double precision (rtol = %g, atol = %g cannot be met here)",
                          *t, *steps, drv->h, rtol, atol);
    case GSL_EBADFUNC:
      return rc_error_set(err, RC_ENUMERIC, "rk45 failed at t = %g (step %lu of this run): %s", *t, *steps,
                          fault && fault[0] ? fault : "the vector field reported an error");
    default:
      return rc_error_set(err, RC_ENUMERIC, "rk45 failed at t = %g (step %lu of this run, step size h = %g): GSL error %d (%s)",
                          *t, *steps, drv->h, rc, gsl_strerror(rc));
  }
}

static const char *const integrator_names[] = {"exact", "rk45", "gd", "reduced"};

const char *rc_integrator_name(rc_integrator i) { return integrator_names[i]; }

rc_status rc_parse_integrator(const char *text, rc_integrator *out, rc_error *err) {
  for (int i = 0; i < 4; i++)
    if (strcmp(text, integrator_names[i]) == 0) {
      *out = (rc_integrator)i;
      return RC_OK;
    }
  return rc_error_set(err, RC_EINVAL, "unknown integrator '%s' (expected exact, rk45, gd or reduced)", text);
}

/* exact and rk45 save at recorded times: after visiting times[k], when `every` has passed since the last save */
static rc_status save_at_time(const rc_checkpointing *ck, const rc_integrate_config *cfg, size_t k, double t,
                              double h, rc_state *s, double *last, rc_error *err) {
  if (!ck || !(ck->every > 0) || k + 1 >= cfg->n_times || t - *last < ck->every) return RC_OK;
  rc_resume_point pt = {k + 1, 0, t, h, s};
  *last = t;
  return ck->save(&pt, ck->ctx, err);
}

static rc_status run_exact(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *init,
                           const rc_integrate_config *cfg, const rc_checkpointing *ck, rc_observer obs, void *ctx,
                           rc_error *err) {
  rc_exact *e;
  rc_status st = rc_exact_alloc(ds, p, init, cfg->exact_method, &e, err);
  if (st) return st;
  rc_state *s = rc_state_clone(init);
  if (!s) {
    rc_exact_free(e);
    return rc_error_set(err, RC_ENOMEM, "cannot allocate the state");
  }
  const rc_resume_point *from = ck ? ck->from : NULL;
  double last = from ? from->t : 0.0;
  for (size_t k = from ? from->next_time : 0; k < cfg->n_times && st == RC_OK; k++) {
    st = rc_exact_eval(e, cfg->times[k], s, err);
    if (st == RC_OK) st = obs(cfg->times[k], 0, s, ctx, err);
    if (st == RC_OK) st = save_at_time(ck, cfg, k, cfg->times[k], 0.0, NULL, &last, err);
    if (st == RC_OK) st = rc_progress_report(cfg->progress, cfg->progress_ctx, (double)(k + 1) / (double)cfg->n_times, err);
  }
  rc_state_free(s);
  rc_exact_free(e);
  return st;
}

typedef struct {
  const rc_dataset *ds;
  const rc_minimal_params *p;
  size_t d, dim;
  char fault[200]; /* the first non-finite quantity met, if any */
} ode_params;

/* The vector field; a non-finite state or velocity stops the driver
 * (GSL_EBADFUNC) instead of letting NaN propagate to the next recorded time. */
static int ode_rhs(double t, const double z[], double dz[], void *params) {
  (void)t;
  ode_params *op = params;
  rc_minimal_vector_field(op->ds, op->p, z, op->d, dz);
  double probe = 0.0;
  for (size_t q = 0; q < op->dim; q++) probe += 0.0 * dz[q]; /* NaN if any dz (hence any z) is not finite */
  if (probe == 0.0) return GSL_SUCCESS;
  size_t n = op->ds->n_samples, k = op->ds->n_classes;
  if (!rc_describe_non_finite(z, n, k, op->d, "the embedding", op->fault, sizeof op->fault))
    rc_describe_non_finite(dz, n, k, op->d, "the velocity", op->fault, sizeof op->fault);
  return GSL_EBADFUNC;
}

static rc_status run_rk45(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *init,
                          const rc_integrate_config *cfg, const rc_checkpointing *ck, rc_observer obs, void *ctx,
                          rc_error *err) {
  size_t dim = (init->n + init->k) * init->d;
  rc_status st0 = rc_rk45_check_tolerances(cfg->rtol, cfg->atol, err);
  if (st0) return st0;
  ode_params op = {ds, p, init->d, dim, ""};
  rc_rk45_progress w = {ode_rhs, &op, cfg, 0, 0.0, 0, 0}; /* progress, and cancelling, between recorded times */
  gsl_odeiv2_system sys = {rc_rk45_progress_rhs, NULL, dim, &w};
  double rtol = cfg->rtol > 0 ? cfg->rtol : 1e-10, atol = cfg->atol > 0 ? cfg->atol : 1e-12;
  const rc_resume_point *from = ck ? ck->from : NULL;
  /* resuming bit for bit: the driver's only state between two apply calls is
   * its next step size h (rkf45 keeps nothing across steps; the standard
   * controller keeps nothing), so restoring t, z and h restores the run */
  double h0 = from && from->h > 0 ? from->h : 1e-3;
  gsl_set_error_handler_off(); /* every GSL status is checked and reported through rc_error */
  gsl_odeiv2_driver *drv = gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rkf45, h0, atol, rtol);
  rc_state *s = rc_state_clone(init);
  if (!drv || !s) {
    if (drv) gsl_odeiv2_driver_free(drv);
    rc_state_free(s);
    return rc_error_set(err, RC_ENOMEM, "cannot allocate the rk45 integrator for %zu unknowns", dim);
  }
  double t = from ? from->t : 0.0, last = t;
  if (from) rc_state_copy(s, from->state);
  unsigned long steps = 0; /* steps taken by this process (a resumed run starts a fresh count), for the bound and messages */
  rc_status st = RC_OK;
  for (size_t k = from ? from->next_time : 0; k < cfg->n_times && st == RC_OK; k++) {
    if (cfg->times[k] > t) {
      w.k = k;
      w.from = t;
      st = rc_rk45_advance(drv, &t, cfg->times[k], s->z, cfg, &steps, op.fault, err);
      if (st && w.cancelled) st = rc_error_set(err, RC_ECANCELLED, "cancelled at t = %g (the progress callback asked to stop)", t);
      if (st) break;
    }
    for (size_t q = 0; q < dim; q++)
      if (!isfinite(s->z[q])) {
        st = rc_error_set(err, RC_ENUMERIC, "rk45: non-finite value at t = %g in %s %zu", t,
                          q < init->n * init->d ? "sample" : "label",
                          q < init->n * init->d ? q / init->d : (q - init->n * init->d) / init->d);
        break;
      }
    if (st == RC_OK) st = obs(cfg->times[k], 0, s, ctx, err);
    if (st == RC_OK) st = save_at_time(ck, cfg, k, t, drv->h, s, &last, err);
    if (st == RC_OK) st = rc_progress_report(cfg->progress, cfg->progress_ctx, (double)(k + 1) / (double)cfg->n_times, err);
  }
  gsl_odeiv2_driver_free(drv);
  rc_state_free(s);
  return st;
}

static rc_status run_gd(const rc_dataset *ds, const rc_minimal_params *p, const rc_spectrum *spec,
                        const rc_state *init, const rc_integrate_config *cfg, const rc_checkpointing *ck,
                        rc_observer obs, void *ctx, rc_error *err) {
  double dt = cfg->dt;
  if (!(dt > 0) || !isfinite(dt)) return rc_error_set(err, RC_EINVAL, "gd needs a positive step --dt (got %g)", dt);
  if (!spec) return rc_error_set(err, RC_EINVAL, "gd needs the spectrum to check its step");
  if (dt * spec->fast_rate >= 2.0)
    return rc_error_set(err, RC_EUNSTABLE,
                        "gd step dt = %g is unstable: dt * fast_rate = %g >= 2 (fast_rate = %g); use dt < %g", dt,
                        dt * spec->fast_rate, spec->fast_rate, 2.0 / spec->fast_rate);
  rc_state *s = rc_state_clone(init);
  size_t total = cfg->n_times ? (size_t)llround(cfg->times[cfg->n_times - 1] / dt) : 0, step = 0, k0 = 0;
  const rc_resume_point *from = ck ? ck->from : NULL;
  if (s && from) {
    rc_state_copy(s, from->state);
    step = from->step;
    k0 = from->next_time;
  }
  /* a checkpoint every `every` steps (any step is a point gd can resume from; an
   * f32 state converts to f64 and back exactly, so resuming is bit for bit too) */
  size_t every = ck && ck->every > 0 ? (size_t)fmax(1.0, (double)llround(ck->every / dt)) : 0, last = step;
  rc_gd *g = NULL;
  rc_status st = s ? rc_gd_alloc(ds, p, init->d, dt, cfg->precision, cfg->threads, &g, err)
                   : rc_error_set(err, RC_ENOMEM, "cannot allocate the state");
  if (!st) st = rc_gd_load(g, s, err);
  for (size_t k = k0; k < cfg->n_times && st == RC_OK; k++) {
    size_t target = (size_t)llround(cfg->times[k] / dt);
    while (step < target && st == RC_OK) {
      size_t batch = target - step < 64 ? target - step : 64, done = 0;
      if (every && last + every - step < batch) batch = last + every - step;
      st = rc_gd_run(g, batch, &done, err);
      step += done;
      if (st) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        st = rc_error_set(err, st, "gd diverged at step %zu (t = %g): %s", step, step * dt, msg);
      }
      if (st == RC_OK && every && step - last >= every && step < total) {
        rc_gd_store(g, s);
        rc_resume_point pt = {k, step, (double)step * dt, 0.0, s};
        last = step;
        st = ck->save(&pt, ck->ctx, err);
      }
      if (st == RC_OK && total) st = rc_progress_report(cfg->progress, cfg->progress_ctx, (double)step / (double)total, err);
    }
    if (st == RC_OK) {
      rc_gd_store(g, s);
      st = obs((double)step * dt, step, s, ctx, err);
    }
  }
  if (st == RC_OK) st = rc_progress_report(cfg->progress, cfg->progress_ctx, 1.0, err);
  rc_gd_free(g);
  rc_state_free(s);
  return st;
}

rc_status rc_integrate(const rc_dataset *ds, const rc_minimal_params *p, const rc_spectrum *spec,
                       const rc_state *init, const rc_integrate_config *cfg, rc_observer obs, void *ctx,
                       rc_error *err) {
  return rc_integrate_resumable(ds, p, spec, init, cfg, NULL, obs, ctx, err);
}

rc_status rc_integrate_resumable(const rc_dataset *ds, const rc_minimal_params *p, const rc_spectrum *spec,
                                 const rc_state *init, const rc_integrate_config *cfg,
                                 const rc_checkpointing *ck, rc_observer obs, void *ctx, rc_error *err) {
  rc_status st = rc_integrate_check_times(cfg, err);
  if (st) return st;
  if (ck && ck->from) {
    const rc_resume_point *f = ck->from;
    if (f->next_time > cfg->n_times || (cfg->integrator != RC_INTEGRATOR_EXACT && !f->state))
      return rc_error_set(err, RC_EINVAL, "the resume point does not fit this run");
  }
  switch (cfg->integrator) {
    case RC_INTEGRATOR_EXACT: return run_exact(ds, p, init, cfg, ck, obs, ctx, err);
    case RC_INTEGRATOR_RK45: return run_rk45(ds, p, init, cfg, ck, obs, ctx, err);
    case RC_INTEGRATOR_GD: return run_gd(ds, p, spec, init, cfg, ck, obs, ctx, err);
    case RC_INTEGRATOR_REDUCED: break;
  }
  return rc_error_set(err, RC_EINVAL, "unknown integrator");
}
