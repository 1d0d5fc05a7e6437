/* engine_loop.h (private): the one engine's time loop (engine.h, trainer.h),
 * shared by every encoder's run: from theta0 to the last recorded time, an
 * observer called at every recorded time with the parameters theta.
 *   - discrete (--integrator gd): the trainer's steps (every optimizer,
 *     minibatches, weight decay, EMA targets); recorded times are multiples
 *     of dt;
 *   - flow (--integrator rk45): the trainer's flow field
 *     dtheta/dt = F(theta; theta_bar) - w theta (decayed blocks),
 *     dtheta_bar/dt = kappa (theta - theta_bar) (with EMA), on the project's
 *     rk45 driver (GSL rkf45, --rtol/--atol, --max-steps, NaN stops).
 * Checkpoints: the loop saves, now and then, a resume point whose payload is
 * everything it needs to continue bit for bit (discrete: theta then
 * rc_trainer_save's state, i.e. momentum buffers, Adam moments and step
 * count, the shuffle position, the EMA copies; flow: theta then theta_bar),
 * and it continues from one. The payload is a flat vector whatever the
 * encoder: theta is whatever the engine's blocks are. */
#ifndef RC_EXPERIMENT_ENGINE_LOOP_H
#define RC_EXPERIMENT_ENGINE_LOOP_H

#include <stddef.h>

#include "repcollapse/engine.h"
#include "repcollapse/integrate.h"
#include "repcollapse/optimizer.h"
#include "repcollapse/trainer.h"

/* Called at each recorded time with theta (n_theta doubles) and the trainer
 * (rc_trainer_targets: its EMA targets, in flow too). */
typedef rc_status (*rc_engine_observer)(double t, size_t step, const double *theta, const rc_trainer *tr, void *ctx,
                                        rc_error *err);

/* Where the loop stands at a point it can continue from bit for bit:
 * discrete after any step, flow at a recorded time. */
typedef struct {
  size_t next_time; /* recorded times already handed to the observer */
  size_t step;      /* discrete: steps taken (flow: 0) */
  double t;         /* time of the payload */
  double h;         /* flow: the rk45 driver's next step size (discrete: 0) */
  const double *z;  /* payload: discrete [theta | rc_trainer_save], flow [theta | theta_bar with EMA] */
  size_t n_z;
} rc_engine_resume_point;

typedef rc_status (*rc_engine_save_fn)(const rc_engine_resume_point *p, void *ctx, rc_error *err);

typedef struct {
  double every;                      /* simulated time between two saves (0: never); discrete: every round(every/dt) steps,
                                      * flow: at the first recorded time at least `every` after the last save */
  rc_engine_save_fn save;
  void *ctx;
  const rc_engine_resume_point *from; /* continue from here instead of from t = 0, or NULL */
} rc_engine_checkpointing;

typedef struct {
  rc_engine *engine;
  const rc_engine_spec *spec;
  const rc_train_settings *train;
  rc_integrator integrator; /* RC_INTEGRATOR_GD (discrete optimizers) or RC_INTEGRATOR_RK45 (flow) */
  double dt;                /* discrete step (flow: ignored) */
  double fast_rate;         /* the decay-free field's fastest rate (the optimizers' step bounds) */
  unsigned long init_seed;  /* the shuffle's default seed is init_seed + 2 */
  const double *grid;       /* recorded times, ascending (discrete: multiples of dt) */
  size_t n_times;
  rc_progress progress;
  void *progress_ctx;
  /* fields added for flow and checkpoints (zero: the defaults, no checkpoints) */
  double rtol, atol;        /* flow: rk45 tolerances (0: 1e-10, 1e-12) */
  unsigned long max_steps;  /* flow: rk45 step bound (0: RC_RK45_MAX_STEPS) */
  const rc_engine_checkpointing *ck; /* NULL: no checkpoints */
} rc_engine_loop;

/* From theta0 (or L->ck->from) over the recorded times. A resume point's
 * payload of another size than this run's is refused (RC_EINVAL). */
rc_status rc_engine_loop_run(const rc_engine_loop *L, const double *theta0, rc_engine_observer observe, void *ctx,
                             rc_error *err);

#endif
