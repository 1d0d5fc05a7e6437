/* trainer.c: one training step of the one engine and its flow field
 * (trainer.h, docs/model.md section 6.1): engine field (whole data or the next
 * minibatch; sg targets from theta_bar under EMA) -> g = -F -> optimizer step
 * (weight decay added there) -> EMA update. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "repcollapse/trainer.h"

struct rc_trainer {
  rc_engine *e;
  rc_train_settings t;
  int discrete;
  double dt, alpha, kappa;
  size_t n; /* n_theta */
  rc_param_block *blocks;
  size_t n_blocks;
  rc_optimizer *opt;
  rc_batch_schedule *batch; /* NULL: full batch */
  double *theta_bar;        /* NULL without EMA */
  double *F;
};

void rc_trainer_free(rc_trainer *tr) {
  if (!tr) return;
  free(tr->blocks);
  rc_optimizer_free(tr->opt);
  rc_batch_schedule_free(tr->batch);
  free(tr->theta_bar);
  free(tr->F);
  free(tr);
}

rc_status rc_trainer_alloc(rc_engine *e, const rc_engine_spec *spec, const rc_train_settings *t, int discrete,
                           double dt, double fast_rate, unsigned long init_seed, const double *theta0, rc_trainer **out, rc_error *err) {
  *out = NULL;
  rc_status st = rc_train_check_data(t, spec->ds, spec->rates, spec->eta_enc, spec->eta_y, discrete, dt, fast_rate,
                                     rc_engine_has_sg_targets(e), err);
  if (st) return st;
  rc_trainer *tr = rc_calloc(1, sizeof *tr, "trainer", err);
  if (!tr) return RC_ENOMEM;
  tr->e = e;
  tr->t = *t;
  tr->discrete = discrete;
  tr->dt = dt;
  tr->n = rc_engine_n_theta(e);
  const rc_param_block *eb = NULL;
  tr->n_blocks = rc_engine_blocks(e, &eb);
  tr->blocks = rc_calloc(tr->n_blocks, sizeof *tr->blocks, "trainer blocks", err);
  tr->F = rc_calloc(tr->n, sizeof(double), "trainer field", err);
  if (!tr->blocks || !tr->F) {
    rc_trainer_free(tr);
    return RC_ENOMEM;
  }
  for (size_t b = 0; b < tr->n_blocks; b++) {
    tr->blocks[b] = eb[b];
    tr->blocks[b].decay = rc_decay_applies(t->decay_on, eb[b].name);
  }
  st = rc_optimizer_alloc(&t->opt, tr->blocks, tr->n_blocks, tr->n, &tr->opt, err);
  const rc_dataset *ds = spec->ds;
  if (!st && discrete && t->batch) /* B >= M: one batch of everything, weight 1, gd bit for bit */
    st = rc_batch_schedule_alloc((size_t)ds->total, t->batch, rc_train_batch_seed(t, init_seed), &tr->batch, err);
  if (!st && t->ema != RC_EMA_NONE) {
    tr->theta_bar = rc_calloc(tr->n, sizeof(double), "EMA targets", err);
    if (!tr->theta_bar) st = RC_ENOMEM;
    else memcpy(tr->theta_bar, theta0, tr->n * sizeof(double));
    tr->alpha = discrete ? rc_train_ema_alpha(t, dt) : 1.0;
    tr->kappa = rc_train_ema_kappa(t, dt);
  }
  if (st) {
    rc_trainer_free(tr);
    return st;
  }
  *out = tr;
  return RC_OK;
}

const double *rc_trainer_targets(const rc_trainer *tr) { return tr->theta_bar; }
const rc_optimizer *rc_trainer_optimizer(const rc_trainer *tr) { return tr->opt; }

rc_status rc_trainer_step(rc_trainer *tr, double *theta, double *loss, rc_error *err) {
  rc_batch b, *bp = NULL;
  if (tr->batch) {
    rc_batch_next(tr->batch, &b.obs, &b.n, &b.weight);
    bp = &b;
  }
  double L = rc_engine_field(tr->e, theta, tr->theta_bar, bp, tr->F);
  if (loss) *loss = L;
  for (size_t k = 0; k < tr->n; k++) tr->F[k] = -tr->F[k];
  rc_status st = rc_optimizer_step(tr->opt, tr->dt, theta, tr->F, err);
  if (st) return st;
  if (tr->theta_bar) rc_ema_update(tr->alpha, theta, tr->theta_bar, tr->n);
  return RC_OK;
}

size_t rc_trainer_flow_size(const rc_trainer *tr) { return tr->theta_bar ? 2 * tr->n : tr->n; }

void rc_trainer_flow_init(const rc_trainer *tr, const double *theta0, double *z) {
  memcpy(z, theta0, tr->n * sizeof(double));
  if (tr->theta_bar) memcpy(z + tr->n, theta0, tr->n * sizeof(double));
}

double rc_trainer_flow_field(rc_trainer *tr, const double *z, double *dz) {
  const double *bar = tr->theta_bar ? z + tr->n : NULL;
  double L = rc_engine_field(tr->e, z, bar, NULL, dz);
  rc_optimizer_flow_decay(&tr->t.opt, tr->blocks, tr->n_blocks, z, dz);
  if (bar) rc_ema_flow(tr->kappa, z, bar, dz + tr->n, tr->n);
  return L;
}

void rc_trainer_flow_targets(rc_trainer *tr, const double *z) {
  if (tr->theta_bar) memcpy(tr->theta_bar, z + tr->n, tr->n * sizeof(double));
}

size_t rc_trainer_state_size(const rc_trainer *tr) {
  return rc_optimizer_state_size(tr->opt) + RC_BATCH_STATE_SIZE + (tr->theta_bar ? tr->n : 0);
}

void rc_trainer_save(const rc_trainer *tr, double *buf) {
  size_t no = rc_optimizer_state_size(tr->opt);
  rc_optimizer_save(tr->opt, buf);
  if (tr->batch) rc_batch_save(tr->batch, buf + no);
  else buf[no] = buf[no + 1] = 0.0;
  if (tr->theta_bar) memcpy(buf + no + RC_BATCH_STATE_SIZE, tr->theta_bar, tr->n * sizeof(double));
}

rc_status rc_trainer_restore(rc_trainer *tr, const double *buf, rc_error *err) {
  size_t no = rc_optimizer_state_size(tr->opt);
  rc_status st = rc_optimizer_restore(tr->opt, buf, err);
  if (!st && tr->batch) st = rc_batch_restore(tr->batch, buf + no, err);
  if (!st && tr->theta_bar) {
    const double *bar = buf + no + RC_BATCH_STATE_SIZE;
    for (size_t k = 0; k < tr->n; k++)
      if (!isfinite(bar[k])) return rc_error_set(err, RC_EINVAL, "checkpoint: EMA target %zu is not finite", k);
    memcpy(tr->theta_bar, bar, tr->n * sizeof(double));
  }
  return st;
}

json_t *rc_trainer_settings_json(const rc_train_settings *t, double dt, double slow_rate, unsigned long init_seed,
                                 int discrete) {
  json_t *j = json_object();
  const rc_optimizer_params *p = &t->opt;
  json_object_set_new(j, "optimizer", json_string(rc_optimizer_name(p->kind)));
  if (p->kind == RC_OPTIMIZER_MOMENTUM || p->kind == RC_OPTIMIZER_NESTEROV) {
    json_object_set_new(j, "momentum", json_real(p->momentum));
    rc_mode_rate mr;
    if (discrete && slow_rate > 0 &&
        rc_optimizer_mode_rate(p->kind, p->momentum, dt, slow_rate + p->weight_decay, &mr, NULL) == RC_OK) {
      json_object_set_new(j, "momentum_regime", json_string(rc_regime_name(mr.regime)));
      json_object_set_new(j, "predicted_slow_decay_rate", json_real(mr.rate));
      json_object_set_new(j, "momentum_regime_note",
                          json_string("regime of the slow mode (rate slow_rate + weight_decay) under the optimizer: "
                                      "overdamped when the dominant root of its recursion is real and positive, "
                                      "underdamped (D oscillates) otherwise; predicted_slow_decay_rate = "
                                      "-ln max|r| / dt"));
    }
  }
  if (p->kind == RC_OPTIMIZER_ADAM || p->kind == RC_OPTIMIZER_ADAMW) {
    json_t *b = json_array();
    json_array_append_new(b, json_real(p->beta1));
    json_array_append_new(b, json_real(p->beta2));
    json_object_set_new(j, "adam_betas", b);
    json_object_set_new(j, "adam_eps", json_real(p->adam_eps));
    json_object_set_new(j, "rate_scheme_note",
                        json_string("Adam's update is invariant to a constant factor on a parameter's gradient, so "
                                    "the rate scheme (degree or uniform) and eta act on it only through eps and "
                                    "through lr = dt * eta"));
  }
  json_object_set_new(j, "weight_decay", json_real(p->weight_decay));
  json_t *on = json_array();
  static const char *const names[8] = {"x", "y", "P", "W", "W1", "b1", "W2", "b2"};
  for (unsigned k = 0; k < 8; k++)
    if ((t->decay_on >> k) & 1u) json_array_append_new(on, json_string(names[k]));
  json_object_set_new(j, "weight_decay_on", on);
  if (t->batch) {
    json_object_set_new(j, "batch", json_integer((json_int_t)t->batch));
    json_object_set_new(j, "batch_seed", json_integer((json_int_t)rc_train_batch_seed(t, init_seed)));
  }
  if (t->ema != RC_EMA_NONE) {
    json_object_set_new(j, "ema_rate", json_real(rc_train_ema_kappa(t, dt)));
    if (discrete) json_object_set_new(j, "ema_tau", json_real(1.0 - rc_train_ema_alpha(t, dt)));
  }
  return j;
}
