/* engine_loop.h (private): the one engine's time loop (engine.h, trainer.h),
 * shared by every encoder's run: from theta0 to the last recorded time, an
 * observer called at every recorded time with the parameters theta. The
 * discrete optimizers (--integrator gd) step the trainer; metrics are taken
 * at the recorded times (multiples of dt). */
#ifndef RC_EXPERIMENT_ENGINE_LOOP_H
#define RC_EXPERIMENT_ENGINE_LOOP_H

#include <stddef.h>

#include "repcollapse/engine.h"
#include "repcollapse/integrate.h"
#include "repcollapse/optimizer.h"
#include "repcollapse/trainer.h"

/* Called at each recorded time with theta (n_theta doubles) and the trainer (its EMA targets). */
typedef rc_status (*rc_engine_observer)(double t, size_t step, const double *theta, const rc_trainer *tr, void *ctx,
                                        rc_error *err);

typedef struct {
  rc_engine *engine;
  const rc_engine_spec *spec;
  const rc_train_settings *train;
  rc_integrator integrator; /* RC_INTEGRATOR_GD (discrete optimizers) */
  double dt;
  double fast_rate;         /* the decay-free field's fastest rate (the optimizers' step bounds) */
  unsigned long init_seed;  /* the shuffle's default seed is init_seed + 2 */
  const double *grid;       /* recorded times, ascending, multiples of dt */
  size_t n_times;
  rc_progress progress;
  void *progress_ctx;
} rc_engine_loop;

rc_status rc_engine_loop_run(const rc_engine_loop *L, const double *theta0, rc_engine_observer observe, void *ctx,
                             rc_error *err);

#endif
