/* adam.c: Adam (torch.optim.Adam, bias-corrected, L2 weight decay coupled
 * through the gradient), docs/model.md section 6.1. The rate-scaled gradient g is
 * divided back by the block's eta and the learning rate is dt eta, so with
 * `uniform` rates this is PyTorch's Adam on the plain gradient of the mean
 * loss with lr = dt eta and weight_decay = w / eta (w is added to g, as for
 * every optimizer). Adam is invariant to a constant factor on a gradient, so
 * the `degree` scheme acts on it only through eps. */
#include <math.h>

#include "optimize/method.h"

void rc_adam_block(const rc_optimizer_params *p, const rc_param_block *blk, double wq, double dt, uint64_t t,
                   double *theta, const double *g, double *bufs, size_t n_theta) {
  const double b1 = p->beta1, b2 = p->beta2, eps = p->adam_eps;
  const double lr = dt * blk->eta;
  const double inv_eta = 1.0 / blk->eta;
  const double bc1 = 1.0 - pow(b1, (double)t);
  const double bc2 = 1.0 - pow(b2, (double)t);
  const double step_size = lr / bc1;
  const double bc2_sqrt = sqrt(bc2);
  double *m = bufs, *v = bufs + n_theta;
  const size_t end = blk->offset + blk->len;
  for (size_t k = blk->offset; k < end; k++) {
    double q = g[k] * inv_eta;
    if (wq != 0.0) q += wq * theta[k];
    m[k] += (q - m[k]) * (1.0 - b1);
    v[k] = v[k] * b2 + (1.0 - b2) * (q * q);
    double denom = sqrt(v[k]) / bc2_sqrt + eps;
    theta[k] -= step_size * (m[k] / denom);
  }
}

static void adam_step(const rc_optimizer_params *p, const rc_param_block *blk, double w, double dt, uint64_t t,
                      double *theta, const double *g, double *bufs, size_t n_theta) {
  /* g + w theta, divided by eta: the gradient plus (w / eta) theta */
  rc_adam_block(p, blk, w / blk->eta, dt, t, theta, g, bufs, n_theta);
}

const rc_optimizer_method rc_optimizer_adam_method = {RC_OPTIMIZER_ADAM, "adam", 2, adam_step};
