/* momentum.c: heavy-ball momentum in PyTorch's convention (torch.optim.SGD
 * with momentum beta, dampening 0), docs/model.md section 6.1:
 * d = g + w theta; buf <- beta buf + d (buf = d at the first step, which is the
 * same since buf starts at 0); theta <- theta - dt buf. */
#include "optimize/method.h"

static void momentum_step(const rc_optimizer_params *p, const rc_param_block *blk, double w, double dt,
                          uint64_t t, double *theta, const double *g, double *bufs, size_t n_theta) {
  (void)t;
  (void)n_theta;
  const double beta = p->momentum;
  const size_t end = blk->offset + blk->len;
  double *buf = bufs;
  for (size_t k = blk->offset; k < end; k++) {
    double d = g[k] + w * theta[k];
    buf[k] = beta * buf[k] + d;
    theta[k] -= dt * buf[k];
  }
}

const rc_optimizer_method rc_optimizer_momentum_method = {RC_OPTIMIZER_MOMENTUM, "momentum", 1, momentum_step};
