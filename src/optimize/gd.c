/* gd.c: plain gradient descent (torch.optim.SGD without momentum),
 * theta <- theta - dt (g + w theta), docs/model.md section 6.1. With w = 0 this is
 * z + dt F(z) bit for bit (theta - dt g with g = -F negates exactly). */
#include "optimize/method.h"

static void gd_step(const rc_optimizer_params *p, const rc_param_block *blk, double w, double dt, uint64_t t,
                    double *theta, const double *g, double *bufs, size_t n_theta) {
  (void)p;
  (void)t;
  (void)bufs;
  (void)n_theta;
  const size_t end = blk->offset + blk->len;
  if (w == 0.0) {
    for (size_t k = blk->offset; k < end; k++) theta[k] -= dt * g[k];
  } else {
    for (size_t k = blk->offset; k < end; k++) theta[k] -= dt * (g[k] + w * theta[k]);
  }
}

const rc_optimizer_method rc_optimizer_gd_method = {RC_OPTIMIZER_GD, "gd", 0, gd_step};
