/* engine_loop.c: the one engine's time loop (engine_loop.h): the trainer's
 * discrete steps (the field on the data or the next minibatch, the
 * optimizer's step with weight decay, the EMA update) between recorded times,
 * the observer at each of them, progress every 4096 steps; under --sphere
 * the state is put back on the sphere after each step (rc_engine_project). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "experiment/engine_loop.h"

rc_status rc_engine_loop_run(const rc_engine_loop *L, const double *theta0, rc_engine_observer observe, void *ctx,
                             rc_error *err) {
  if (L->integrator != RC_INTEGRATOR_GD)
    return rc_error_set(err, RC_EINVAL, "internal: the engine's loop runs the discrete optimizers only");
  const size_t n_theta = rc_engine_n_theta(L->engine);
  double *theta = rc_calloc(n_theta + 1, sizeof(double), "parameters", err);
  if (!theta) return RC_ENOMEM;
  memcpy(theta, theta0, n_theta * sizeof(double));
  rc_engine_project(L->engine, theta); /* --sphere: the initial state projected first (docs/model.md 6.2) */
  rc_trainer *tr = NULL;
  rc_status st = rc_trainer_alloc(L->engine, L->spec, L->train, 1, L->dt, L->fast_rate, L->init_seed, theta, &tr, err);
  const size_t last = L->n_times ? (size_t)llround(L->grid[L->n_times - 1] / L->dt) : 0;
  size_t k = 0, step = 0;
  while (!st && k < L->n_times) {
    const size_t at = (size_t)llround(L->grid[k] / L->dt);
    if (step == at) {
      st = observe((double)step * L->dt, step, theta, tr, ctx, err);
      k++;
      if (!st) st = rc_progress_report(L->progress, L->progress_ctx, (double)k / (double)L->n_times, err);
      continue;
    }
    st = rc_trainer_step(tr, theta, NULL, err);
    rc_engine_project(L->engine, theta); /* --sphere: back on the sphere after each discrete step */
    step++;
    if (!st && step % 4096 == 0 && last)
      st = rc_progress_report(L->progress, L->progress_ctx, (double)step / (double)last, err);
  }
  rc_trainer_free(tr);
  free(theta);
  return st;
}
