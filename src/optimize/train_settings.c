/* train_settings.c: the training settings of a run (optimizer, weight decay
 * and the parameters it applies to, minibatch, EMA targets), their defaults
 * and the parsing of --weight-decay-on (docs/model.md section 6.1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "repcollapse/optimizer.h"

static const char *const decay_names[8] = {"x", "y", "P", "W", "W1", "b1", "W2", "b2"};

rc_status rc_parse_decay_on(const char *text, unsigned *mask, rc_error *err) {
  unsigned m = 0;
  const char *p = text ? text : "";
  if (!*p) return rc_error_set(err, RC_EINVAL, "--weight-decay-on needs a comma list of x,y,P,W,W1,b1,W2,b2");
  while (1) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    int found = 0;
    for (unsigned k = 0; k < 8; k++)
      if (strlen(decay_names[k]) == len && !strncmp(p, decay_names[k], len)) {
        m |= 1u << k;
        found = 1;
      }
    if (!found)
      return rc_error_set(err, RC_EINVAL, "--weight-decay-on: '%.*s' names no trained parameter (expected a comma list of "
                          "x,y,P,W,W1,b1,W2,b2)", (int)len, p);
    if (!c) break;
    p = c + 1;
  }
  *mask = m;
  return RC_OK;
}

int rc_decay_applies(unsigned mask, const char *name) {
  for (unsigned k = 0; name && k < 8; k++)
    if (!strcmp(name, decay_names[k])) return (mask >> k) & 1u;
  return 0;
}

rc_train_settings rc_train_settings_default(void) {
  rc_train_settings t;
  memset(&t, 0, sizeof t);
  t.opt = rc_optimizer_params_default();
  t.decay_on = RC_DECAY_ALL;
  t.ema = RC_EMA_NONE;
  return t;
}

int rc_train_is_plain(const rc_train_settings *t) {
  return t->opt.kind == RC_OPTIMIZER_GD && t->opt.weight_decay == 0 && t->batch == 0 && t->ema == RC_EMA_NONE;
}

double rc_train_ema_alpha(const rc_train_settings *t, double dt) {
  if (t->ema == RC_EMA_TAU) return 1.0 - t->ema_tau;
  if (t->ema == RC_EMA_RATE) return t->ema_rate * dt;
  return 1.0;
}

double rc_train_ema_kappa(const rc_train_settings *t, double dt) {
  if (t->ema == RC_EMA_TAU) return rc_ema_kappa_from_tau(t->ema_tau, dt);
  return t->ema_rate;
}

unsigned long rc_train_batch_seed(const rc_train_settings *t, unsigned long init_seed) {
  return t->batch_seed_given ? t->batch_seed : init_seed + 2;
}

rc_status rc_train_check(const rc_train_settings *t, int discrete, double dt, double fast_rate, int has_sg_targets,
                         rc_error *err) {
  rc_status st = rc_optimizer_params_check(&t->opt, err);
  if (st) return st;
  if (!discrete) {
    if (t->opt.kind != RC_OPTIMIZER_GD)
      return rc_error_set(err, RC_EINVAL, "--optimizer %s applies to the discrete integrator (--integrator gd); "
                          "flow integrators follow the field itself", rc_optimizer_name(t->opt.kind));
    if (t->batch)
      return rc_error_set(err, RC_EINVAL, "--batch applies to the discrete integrator (--integrator gd)");
    if (t->ema == RC_EMA_TAU)
      return rc_error_set(err, RC_EINVAL, "--ema tau is the discrete shorthand (kappa = (1 - tau)/dt); in flow give "
                          "--ema-rate kappa");
  }
  if (t->ema != RC_EMA_NONE) {
    st = rc_ema_check_model(has_sg_targets, err);
    if (st) return st;
    if (discrete) {
      double alpha;
      st = rc_ema_alpha(t->ema_rate, t->ema_tau, t->ema == RC_EMA_TAU, dt, &alpha, err);
      if (st) return st;
    } else if (!(t->ema_rate >= 0) || !isfinite(t->ema_rate)) {
      return rc_error_set(err, RC_EINVAL, "--ema-rate kappa must be finite and >= 0 (got %g)", t->ema_rate);
    }
  }
  if (discrete) return rc_optimizer_check_step(&t->opt, dt, fast_rate, err);
  return RC_OK;
}

rc_status rc_train_check_data(const rc_train_settings *t, const rc_dataset *ds, rc_rate_scheme rates, double eta_x,
                              double eta_y, int discrete, double dt, double fast_rate, int has_sg_targets,
                              rc_error *err) {
  rc_status st = rc_train_check(t, discrete, dt, fast_rate, has_sg_targets, err);
  if (!st && discrete && t->batch) st = rc_batch_check_dataset(ds, rates, eta_x, eta_y, t->batch, dt, err);
  return st;
}
