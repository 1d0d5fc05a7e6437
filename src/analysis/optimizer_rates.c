/* optimizer_rates.c: closed-form per-mode decay of the discrete optimizers on
 * a linear field (docs/model.md section 6.1).
 *
 * A mode of rate lambda (weight decay included: lambda = rate + w) obeys,
 * with h = dt lambda,
 *   gd        z_{k+1} = (1 - h) z_k                      root 1 - h
 *   momentum  r^2 - (1 + beta - h) r + beta = 0          (heavy ball, PyTorch)
 *   nesterov  r^2 - (1 + beta)(1 - h) r + beta (1 - h) = 0
 * (heavy ball: buf_k = beta buf_{k-1} + lambda z_k, z_{k+1} = z_k - dt buf_k;
 * eliminating buf gives the first; Nesterov's step dt (lambda z_k + beta buf_k)
 * gives the second). The decay per step is rho = max |r| and the rate per
 * unit time -ln(rho) / dt. Heavy ball is overdamped (two real positive roots)
 * for h <= (1 - sqrt(beta))^2, about lambda / (1 - beta) when h << that;
 * above it the roots are complex with |r| = sqrt(beta) (rate -ln(beta) /
 * (2 dt)) up to h = (1 + sqrt(beta))^2, then real negative; stable iff
 * h < 2 (1 + beta). Nesterov is stable iff h < 2 (1 + beta) / (1 + 2 beta).
 * The regime is `overdamped` when the dominant root is real and positive (D
 * decays monotonically) and `underdamped` otherwise (D oscillates). */
#include <math.h>
#include <string.h>

#include "repcollapse/optimizer.h"

const char *rc_regime_name(rc_regime r) { return r == RC_REGIME_UNDERDAMPED ? "underdamped" : "overdamped"; }

/* roots of r^2 - b r + c = 0 (real coefficients) */
static void quadratic_roots(double b, double c, double re[2], double im[2]) {
  double disc = b * b - 4.0 * c;
  if (disc >= 0) {
    double s = sqrt(disc);
    /* the larger-magnitude root without cancellation, the other from the product */
    double q = b >= 0 ? 0.5 * (b + s) : 0.5 * (b - s);
    re[0] = q;
    re[1] = q != 0 ? c / q : 0.0;
    im[0] = im[1] = 0.0;
  } else {
    re[0] = re[1] = 0.5 * b;
    im[0] = 0.5 * sqrt(-disc);
    im[1] = -im[0];
  }
}

rc_status rc_optimizer_mode_rate(rc_optimizer_kind kind, double beta, double dt, double lambda, rc_mode_rate *out,
                                 rc_error *err) {
  memset(out, 0, sizeof *out);
  if (!(dt > 0) || !isfinite(dt)) return rc_error_set(err, RC_EINVAL, "mode rate: dt must be finite and > 0 (got %g)", dt);
  if (!(lambda >= 0) || !isfinite(lambda))
    return rc_error_set(err, RC_EINVAL, "mode rate: the rate must be finite and >= 0 (got %g)", lambda);
  double h = dt * lambda;
  switch (kind) {
    case RC_OPTIMIZER_GD:
      out->root_re[0] = 1.0 - h;
      break;
    case RC_OPTIMIZER_MOMENTUM:
    case RC_OPTIMIZER_NESTEROV:
      if (!(beta >= 0 && beta < 1)) return rc_error_set(err, RC_EINVAL, "mode rate: beta must be in [0, 1) (got %g)", beta);
      if (kind == RC_OPTIMIZER_MOMENTUM)
        quadratic_roots(1.0 + beta - h, beta, out->root_re, out->root_im);
      else
        quadratic_roots((1.0 + beta) * (1.0 - h), beta * (1.0 - h), out->root_re, out->root_im);
      break;
    default:
      return rc_error_set(err, RC_EINVAL, "mode rate: %s has no linear per-mode rate", rc_optimizer_name(kind));
  }
  /* dominant root */
  int dom = hypot(out->root_re[1], out->root_im[1]) > hypot(out->root_re[0], out->root_im[0]) ? 1 : 0;
  out->rho = hypot(out->root_re[dom], out->root_im[dom]);
  out->rate = -log(out->rho) / dt;
  out->stable = out->rho < 1.0;
  out->regime = (out->root_im[dom] == 0.0 && out->root_re[dom] > 0.0) ? RC_REGIME_OVERDAMPED : RC_REGIME_UNDERDAMPED;
  return RC_OK;
}
