/* engine_loop.c: the one engine's time loop (engine_loop.h). Discrete: the
 * trainer's steps (the field on the data or the next minibatch, the
 * optimizer's step with weight decay, the EMA update) between recorded
 * times, the observer at each of them, progress every 4096 steps, a resume
 * point every round(every/dt) steps. Flow: the trainer's flow field on the
 * project's rk45 loop (integrate/common.h: GSL rkf45, the tolerance rules,
 * --max-steps, a non-finite value stops it naming the parameter), a resume
 * point at recorded times. Under --sphere the state is put back on the
 * sphere after each discrete step and on the initial state (rc_engine_project);
 * the flow field is tangent to it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "core/alloc.h"
#include "experiment/engine_loop.h"
#include "integrate/common.h"

/* names entry q of [theta | theta_bar] by its block: "x[12]", "EMA target y[3]" */
static void describe_param(const rc_engine *e, size_t q, char *buf, size_t size) {
  const size_t n = rc_engine_n_theta(e);
  const int bar = q >= n;
  if (bar) q -= n;
  const rc_param_block *b = NULL;
  size_t nb = rc_engine_blocks(e, &b);
  for (size_t k = 0; k < nb; k++)
    if (q >= b[k].offset && q < b[k].offset + b[k].len) {
      snprintf(buf, size, "%s%s[%zu]", bar ? "EMA target " : "parameter ", b[k].name, q - b[k].offset);
      return;
    }
  snprintf(buf, size, "%sparameter %zu", bar ? "EMA target " : "", q);
}

static rc_status check_payload(const rc_engine_resume_point *from, size_t n_z, size_t n_times, rc_error *err) {
  if (from->n_z != n_z || !from->z || from->next_time > n_times)
    return rc_error_set(err, RC_EINVAL, "the checkpoint's saved state (%zu values) does not fit this run (%zu values)",
                        from->n_z, n_z);
  for (size_t q = 0; q < n_z; q++)
    if (!isfinite(from->z[q])) return rc_error_set(err, RC_EINVAL, "the checkpoint's saved state has a non-finite value");
  return RC_OK;
}

/* ---- discrete ---- */
static rc_status run_discrete(const rc_engine_loop *L, const double *theta0, rc_engine_observer observe, void *ctx,
                              rc_error *err) {
  const size_t n_theta = rc_engine_n_theta(L->engine);
  const rc_engine_checkpointing *ck = L->ck;
  const rc_engine_resume_point *from = ck ? ck->from : NULL;
  double *theta = rc_calloc(n_theta + 1, sizeof(double), "parameters", err);
  if (!theta) return RC_ENOMEM;
  memcpy(theta, theta0, n_theta * sizeof(double));
  rc_engine_project(L->engine, theta); /* --sphere: the initial state projected first (docs/model.md 6.2) */
  rc_trainer *tr = NULL;
  double *payload = NULL;
  rc_status st = rc_trainer_alloc(L->engine, L->spec, L->train, 1, L->dt, L->fast_rate, L->init_seed, theta, &tr, err);
  const size_t n_state = st ? 0 : rc_trainer_state_size(tr), n_z = n_theta + n_state;
  size_t k = 0, step = 0;
  if (!st && from) {
    st = check_payload(from, n_z, L->n_times, err);
    if (!st) {
      memcpy(theta, from->z, n_theta * sizeof(double));
      st = rc_trainer_restore(tr, from->z + n_theta, err);
      k = from->next_time;
      step = from->step;
    }
  }
  const size_t every = ck && ck->every > 0 ? (size_t)fmax(1.0, (double)llround(ck->every / L->dt)) : 0;
  size_t last_save = step;
  if (!st && every) {
    payload = rc_calloc(n_z, sizeof(double), "checkpoint", err);
    if (!payload) st = RC_ENOMEM;
  }
  const size_t last = L->n_times ? (size_t)llround(L->grid[L->n_times - 1] / L->dt) : 0;
  while (!st && k < L->n_times) {
    const size_t at = (size_t)llround(L->grid[k] / L->dt);
    if (step == at) {
      st = observe((double)step * L->dt, step, theta, tr, ctx, err);
      k++;
      if (!st) st = rc_progress_report(L->progress, L->progress_ctx, (double)k / (double)L->n_times, err);
      continue;
    }
    if (step > at) {
      st = rc_error_set(err, RC_EINVAL, "internal: recorded time %g is before step %zu", L->grid[k], step);
      break;
    }
    st = rc_trainer_step(tr, theta, NULL, err);
    rc_engine_project(L->engine, theta); /* --sphere: back on the sphere after each discrete step */
    step++;
    if (st) {
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
      st = rc_error_set(err, st, "the engine diverged at step %zu (t = %g): %s", step, (double)step * L->dt, msg);
      break;
    }
    if (every && step - last_save >= every && step < last) {
      memcpy(payload, theta, n_theta * sizeof(double));
      rc_trainer_save(tr, payload + n_theta);
      rc_engine_resume_point p = {k, step, (double)step * L->dt, 0.0, payload, n_z};
      last_save = step;
      st = ck->save(&p, ck->ctx, err);
    }
    if (!st && step % 4096 == 0 && last)
      st = rc_progress_report(L->progress, L->progress_ctx, (double)step / (double)last, err);
  }
  rc_trainer_free(tr);
  free(payload);
  free(theta);
  return st;
}

/* ---- flow ---- */
typedef struct {
  const rc_engine_loop *L;
  rc_trainer *tr;
  size_t n;          /* flow state size */
  rc_engine_observer observe;
  void *ctx;
  char fault[200];   /* the first non-finite quantity the field met */
} flow_ctx;

/* the trainer's flow field; a non-finite state or velocity stops the driver
 * (GSL_EBADFUNC) instead of letting NaN reach the next recorded time */
static int flow_rhs(double t, const double *z, double *dz, void *params) {
  (void)t;
  flow_ctx *c = params;
  rc_trainer_flow_field(c->tr, z, dz);
  double probe = 0.0;
  for (size_t q = 0; q < c->n; q++) probe += 0.0 * dz[q] + 0.0 * z[q]; /* NaN if any z or dz is not finite */
  if (probe == 0.0) return GSL_SUCCESS;
  size_t q = rc_first_nonfinite(z, c->n);
  char what[120];
  if (q < c->n) {
    describe_param(c->L->engine, q, what, sizeof what);
    snprintf(c->fault, sizeof c->fault, "the state is not finite (%s is %g)", what, z[q]);
  } else {
    q = rc_first_nonfinite(dz, c->n);
    describe_param(c->L->engine, q, what, sizeof what);
    snprintf(c->fault, sizeof c->fault, "the velocity is not finite (d/dt of %s is %g)", what, dz[q]);
  }
  return GSL_EBADFUNC;
}

static void flow_describe(size_t q, char *buf, size_t size, const void *dctx) {
  describe_param(((const flow_ctx *)dctx)->L->engine, q, buf, size);
}

static rc_status flow_observe(double t, size_t step, const double *z, void *vctx, rc_error *err) {
  flow_ctx *c = vctx;
  rc_trainer_flow_targets(c->tr, z);
  return c->observe(t, step, z, c->tr, c->ctx, err);
}

static rc_status flow_save(size_t next_time, double t, double h, const double *z, void *vctx, rc_error *err) {
  flow_ctx *c = vctx;
  rc_engine_resume_point p = {next_time, 0, t, h, z, c->n};
  return c->L->ck->save(&p, c->L->ck->ctx, err);
}

static rc_status run_flow(const rc_engine_loop *L, const double *theta0, rc_engine_observer observe, void *ctx,
                          rc_error *err) {
  const rc_engine_checkpointing *ck = L->ck;
  const rc_engine_resume_point *from = ck ? ck->from : NULL;
  rc_trainer *tr = NULL;
  const size_t n_theta = rc_engine_n_theta(L->engine);
  double *th0 = rc_calloc(n_theta + 1, sizeof(double), "parameters", err);
  if (!th0) return RC_ENOMEM;
  memcpy(th0, theta0, n_theta * sizeof(double));
  rc_engine_project(L->engine, th0); /* --sphere: the initial state projected first (docs/model.md 6.2) */
  rc_status st = rc_trainer_alloc(L->engine, L->spec, L->train, 0, 0.0, L->fast_rate, L->init_seed, th0, &tr, err);
  if (st) {
    free(th0);
    return st;
  }
  flow_ctx c = {L, tr, rc_trainer_flow_size(tr), observe, ctx, ""};
  double *z = rc_calloc(c.n + 1, sizeof(double), "flow state", err);
  if (!z) st = RC_ENOMEM;
  else rc_trainer_flow_init(tr, th0, z);
  rc_rk45_start start = {0, 0.0, 0.0};
  if (!st && from) {
    st = check_payload(from, c.n, L->n_times, err);
    if (!st && (!isfinite(from->t) || !(from->t >= 0) || !isfinite(from->h)))
      st = rc_error_set(err, RC_EINVAL, "the checkpoint's time or step size is not valid");
    if (!st) {
      memcpy(z, from->z, c.n * sizeof(double));
      start = (rc_rk45_start){from->next_time, from->t, from->h};
    }
  }
  if (!st) {
    rc_integrate_config ic = {.integrator = RC_INTEGRATOR_RK45, .times = L->grid, .n_times = L->n_times,
                              .rtol = L->rtol, .atol = L->atol, .progress = L->progress,
                              .progress_ctx = L->progress_ctx, .max_steps = L->max_steps};
    rc_rk45_checkpointing rck = {ck ? ck->every : 0.0, flow_save, &c, from ? &start : NULL};
    st = rc_rk45_loop_resumable(flow_rhs, &c, z, c.n, &ic, ck ? &rck : NULL, c.fault, flow_observe, &c,
                                flow_describe, &c, err);
  }
  free(z);
  free(th0);
  rc_trainer_free(tr);
  return st;
}

rc_status rc_engine_loop_run(const rc_engine_loop *L, const double *theta0, rc_engine_observer observe, void *ctx,
                             rc_error *err) {
  if (L->integrator == RC_INTEGRATOR_GD) return run_discrete(L, theta0, observe, ctx, err);
  if (L->integrator == RC_INTEGRATOR_RK45) return run_flow(L, theta0, observe, ctx, err);
  return rc_error_set(err, RC_EINVAL, "the engine's loop runs --integrator gd (the discrete optimizers) or rk45 (flow), "
                      "not %s", rc_integrator_name(L->integrator));
}
