/* method.h: what one optimizer is (internal): its per-parameter buffers and its
 * step over one parameter block. The registry (registry.c) owns the object,
 * the blocks, the step count and the checks; a method file only says how one
 * block moves. Adding an optimizer = one file defining an rc_optimizer_method
 * and one entry in registry.c's table. */
#ifndef RC_OPTIMIZE_METHOD_H
#define RC_OPTIMIZE_METHOD_H

#include <stddef.h>
#include <stdint.h>

#include "repcollapse/optimizer.h"

/* Step one block: theta[k], g[k] for k in [blk->offset, blk->offset + blk->len);
 * buffer j of the method lives at bufs[j * n_theta + k]; t is the 1-based step
 * number (Adam's bias correction). w is the weight decay of this block (0 when
 * the block is not decayed). */
typedef void (*rc_optimizer_block_step)(const rc_optimizer_params *p, const rc_param_block *blk, double w,
                                        double dt, uint64_t t, double *theta, const double *g, double *bufs,
                                        size_t n_theta);

typedef struct {
  rc_optimizer_kind kind;
  const char *name;
  size_t n_buffers; /* per-parameter buffers (momentum: 1, Adam: 2) */
  rc_optimizer_block_step step;
} rc_optimizer_method;

extern const rc_optimizer_method rc_optimizer_gd_method;
extern const rc_optimizer_method rc_optimizer_momentum_method;
extern const rc_optimizer_method rc_optimizer_nesterov_method;
extern const rc_optimizer_method rc_optimizer_adam_method;
extern const rc_optimizer_method rc_optimizer_adamw_method;

/* Adam's moment update and parameter step on one block (shared by adam.c and
 * adamw.c), PyTorch's order: m <- m + (1 - b1)(q - m) (torch's lerp), v <- b2 v
 * + (1 - b2) q^2, theta <- theta - (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps)
 * with q = g / eta + wq theta and lr = dt eta. */
void rc_adam_block(const rc_optimizer_params *p, const rc_param_block *blk, double wq, double dt, uint64_t t,
                   double *theta, const double *g, double *bufs, size_t n_theta);

#endif
