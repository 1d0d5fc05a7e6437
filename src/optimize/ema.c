/* ema.c: EMA targets (BYOL), docs/model.md section 6.1. Every stop-gradient
 * target is computed from slow copies theta_bar of the online parameters.
 * Flow: d(theta_bar)/dt = kappa (theta - theta_bar). Discrete: after the
 * online step, theta_bar <- theta_bar + alpha (theta_new - theta_bar) with
 * alpha = kappa dt = 1 - tau (BYOL's tau). alpha = 1 (--ema 0) copies theta,
 * which is plain sg bit for bit; alpha > 1 (kappa dt > 1) overshoots and is
 * refused. theta_bar(0) = theta(0) (the caller copies). */
#include <math.h>
#include <string.h>

#include "repcollapse/optimizer.h"

double rc_ema_kappa_from_tau(double tau, double dt) { return (1.0 - tau) / dt; }

rc_status rc_ema_alpha(double kappa, double tau, int have_tau, double dt, double *alpha, rc_error *err) {
  if (!(dt > 0) || !isfinite(dt)) return rc_error_set(err, RC_EINVAL, "EMA targets need a finite step dt > 0 (got %g)", dt);
  if (have_tau) {
    if (!isfinite(tau) || tau > 1)
      return rc_error_set(err, RC_EINVAL, "--ema tau must be finite and <= 1 (got %g)", tau);
    if (tau < 0)
      return rc_error_set(err, RC_EUNSTABLE,
                          "--ema %g is refused: kappa dt = 1 - tau = %g > 1 (the EMA target overshoots the online "
                          "parameters); use tau in [0, 1]", tau, 1.0 - tau);
    *alpha = 1.0 - tau;
    return RC_OK;
  }
  if (!(kappa >= 0) || !isfinite(kappa))
    return rc_error_set(err, RC_EINVAL, "--ema-rate kappa must be finite and >= 0 (got %g)", kappa);
  double a = kappa * dt;
  if (a > 1.0)
    return rc_error_set(err, RC_EUNSTABLE,
                        "--ema-rate %g is refused with dt = %g: kappa dt = %g > 1 (the EMA target overshoots the "
                        "online parameters); use kappa <= 1 / dt = %g", kappa, dt, a, 1.0 / dt);
  *alpha = a;
  return RC_OK;
}

rc_status rc_ema_check_model(int has_sg_targets, rc_error *err) {
  if (!has_sg_targets)
    return rc_error_set(err, RC_EINVAL,
                        "EMA targets (--ema-rate, --ema) need a model with stop-gradient targets (sg(...) in its "
                        "terms, e.g. --model siam-sg); this model has none");
  return RC_OK;
}

void rc_ema_update(double alpha, const double *theta, double *theta_bar, size_t n) {
  if (alpha == 1.0) {
    memcpy(theta_bar, theta, n * sizeof(double));
    return;
  }
  if (alpha == 0.0) return;
  for (size_t k = 0; k < n; k++) theta_bar[k] += alpha * (theta[k] - theta_bar[k]);
}

void rc_ema_flow(double kappa, const double *theta, const double *theta_bar, double *Fbar, size_t n) {
  for (size_t k = 0; k < n; k++) Fbar[k] = kappa * (theta[k] - theta_bar[k]);
}
