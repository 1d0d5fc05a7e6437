/* adamw.c: AdamW (torch.optim.AdamW), docs/model.md section 6.1: decoupled decay
 * theta <- theta (1 - dt eta w) before the moment update (PyTorch's order),
 * never through g; then Adam's step on g / eta with lr = dt eta. */
#include "optimize/method.h"

static void adamw_step(const rc_optimizer_params *p, const rc_param_block *blk, double w, double dt, uint64_t t,
                       double *theta, const double *g, double *bufs, size_t n_theta) {
  if (w != 0.0) {
    const double shrink = 1.0 - dt * blk->eta * w;
    const size_t end = blk->offset + blk->len;
    for (size_t k = blk->offset; k < end; k++) theta[k] *= shrink;
  }
  rc_adam_block(p, blk, 0.0, dt, t, theta, g, bufs, n_theta);
}

const rc_optimizer_method rc_optimizer_adamw_method = {RC_OPTIMIZER_ADAMW, "adamw", 2, adamw_step};
