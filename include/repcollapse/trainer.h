/* trainer.h: one training step of the one engine (docs/model.md section 6.1): the
 * engine's rate-scaled field on the whole data or on the next minibatch, with
 * stop-gradient targets read from EMA copies when asked, handed to an
 * optimizer (weight decay added there), then the EMA update; and the
 * continuous-time field of the same settings for flow integrators (rk45):
 * dtheta/dt = F(theta; theta_bar) - w theta (decayed blocks),
 * dtheta_bar/dt = kappa (theta - theta_bar).
 *
 * The trainer owns the optimizer, the batch schedule and theta_bar; the
 * engine (engine.h) owns the field. Checkpoints carry every buffer: the
 * optimizer's (momentum, Adam moments, step count), the shuffle position and
 * theta_bar, so a resumed run is bit-identical. */
#ifndef REPCOLLAPSE_TRAINER_H
#define REPCOLLAPSE_TRAINER_H

#include <stddef.h>

#include <jansson.h>

#include "repcollapse/engine.h"
#include "repcollapse/optimizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rc_trainer rc_trainer;

/** A trainer for engine e (allocated from spec) with settings t, step dt (0 for flow), the init
 * seed (the shuffle's default seed is init_seed + 2) and the initial
 * parameters theta0 (theta_bar(0) = theta0). The settings' --weight-decay-on
 * decides which of the engine's blocks decay. Runs rc_train_check and, with
 * --batch, rc_batch_check_dataset for the data's samples and labels (the
 * table encoder's per-visit bound; fast_rate: the decay-free field's fastest
 * rate, for the optimizer's step bound). */
rc_status rc_trainer_alloc(rc_engine *e, const rc_engine_spec *spec, const rc_train_settings *t, int discrete,
                           double dt, double fast_rate, unsigned long init_seed, const double *theta0, rc_trainer **out, rc_error *err);
void rc_trainer_free(rc_trainer *tr);

/** One discrete step in place on theta (n_theta of the engine). *loss (may be
 * NULL) gets the loss the field evaluated (of the batch under --batch).
 * RC_ENUMERIC when theta becomes non-finite. */
rc_status rc_trainer_step(rc_trainer *tr, double *theta, double *loss, rc_error *err);

/** The EMA targets theta_bar (NULL without EMA). */
const double *rc_trainer_targets(const rc_trainer *tr);

/** The optimizer (for its step count and parameters). */
const rc_optimizer *rc_trainer_optimizer(const rc_trainer *tr);

/** Flow: the state is z = [theta | theta_bar] (theta_bar only with EMA) of
 * rc_trainer_flow_size doubles; dz = its field. Returns the loss. */
size_t rc_trainer_flow_size(const rc_trainer *tr);
void rc_trainer_flow_init(const rc_trainer *tr, const double *theta0, double *z);
double rc_trainer_flow_field(rc_trainer *tr, const double *z, double *dz);
/** Copy the flow state's theta_bar (z + n_theta, with EMA) into the trainer,
 * so rc_trainer_targets reads the flow's EMA copies (nothing without EMA). */
void rc_trainer_flow_targets(rc_trainer *tr, const double *z);

/** Checkpoints: [optimizer state | batch epoch, position | theta_bar]. */
size_t rc_trainer_state_size(const rc_trainer *tr);
void rc_trainer_save(const rc_trainer *tr, double *buf);
rc_status rc_trainer_restore(rc_trainer *tr, const double *buf, rc_error *err);

/** summary.json's record of the settings: optimizer and its parameters, the
 * momentum regime of the slow mode (slow_rate > 0; heavy ball and Nesterov),
 * Adam's note on the rate scheme, weight decay and the parameters it applies
 * to, the batch and its seed, the EMA rate. A new JSON object (jansson). */
json_t *rc_trainer_settings_json(const rc_train_settings *t, double dt, double slow_rate,
                                        unsigned long init_seed, int discrete);

#ifdef __cplusplus
}
#endif

#endif
