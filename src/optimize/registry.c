/* registry.c: the optimizer object and the table of methods (docs/model.md section
 * 6.1). The object owns the parameter blocks, the per-parameter buffers of
 * its method and the step count; the methods (gd.c, momentum.c, nesterov.c,
 * adam.c, adamw.c) each move one block. Also here: the checks before a run
 * (parameter ranges, the step refusals of 6.1), the flow's decay term and
 * checkpointing of the buffers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "optimize/method.h"

static const rc_optimizer_method *const methods[RC_N_OPTIMIZERS] = {
    &rc_optimizer_gd_method, &rc_optimizer_momentum_method, &rc_optimizer_nesterov_method,
    &rc_optimizer_adam_method, &rc_optimizer_adamw_method};

struct rc_optimizer {
  rc_optimizer_params p;
  const rc_optimizer_method *method;
  rc_param_block *blocks;
  size_t n_blocks, n_theta;
  double *bufs; /* method->n_buffers * n_theta */
  uint64_t steps;
};

rc_optimizer_params rc_optimizer_params_default(void) {
  rc_optimizer_params p;
  memset(&p, 0, sizeof p);
  p.kind = RC_OPTIMIZER_GD;
  p.momentum = 0.9;
  p.beta1 = 0.9;
  p.beta2 = 0.999;
  p.adam_eps = 1e-8;
  p.weight_decay = 0.0;
  return p;
}

const char *rc_optimizer_name(rc_optimizer_kind k) {
  return ((unsigned)k < RC_N_OPTIMIZERS) ? methods[k]->name : "unknown";
}

rc_status rc_parse_optimizer(const char *text, rc_optimizer_kind *out, rc_error *err) {
  for (unsigned k = 0; text && k < RC_N_OPTIMIZERS; k++)
    if (strcasecmp(text, methods[k]->name) == 0) {
      *out = (rc_optimizer_kind)k;
      return RC_OK;
    }
  return rc_error_set(err, RC_EINVAL, "unknown optimizer '%s' (expected gd|momentum|nesterov|adam|adamw)",
                      text ? text : "");
}

rc_status rc_optimizer_params_check(const rc_optimizer_params *p, rc_error *err) {
  if ((unsigned)p->kind >= RC_N_OPTIMIZERS) return rc_error_set(err, RC_EINVAL, "unknown optimizer kind %d", p->kind);
  if (!(p->weight_decay >= 0) || !isfinite(p->weight_decay))
    return rc_error_set(err, RC_EINVAL, "--weight-decay must be finite and >= 0 (got %g)", p->weight_decay);
  if (p->kind == RC_OPTIMIZER_MOMENTUM || p->kind == RC_OPTIMIZER_NESTEROV) {
    if (!(p->momentum >= 0 && p->momentum < 1))
      return rc_error_set(err, RC_EINVAL, "--momentum must be in [0, 1) (got %g)", p->momentum);
  }
  if (p->kind == RC_OPTIMIZER_ADAM || p->kind == RC_OPTIMIZER_ADAMW) {
    if (!(p->beta1 >= 0 && p->beta1 < 1) || !(p->beta2 >= 0 && p->beta2 < 1))
      return rc_error_set(err, RC_EINVAL, "--adam-betas must each be in [0, 1) (got %g,%g)", p->beta1, p->beta2);
    if (!(p->adam_eps > 0) || !isfinite(p->adam_eps))
      return rc_error_set(err, RC_EINVAL, "--adam-eps must be finite and > 0 (got %g)", p->adam_eps);
  }
  return RC_OK;
}

rc_status rc_optimizer_alloc(const rc_optimizer_params *p, const rc_param_block *blocks, size_t n_blocks,
                             size_t n_theta, rc_optimizer **out, rc_error *err) {
  *out = NULL;
  rc_status st = rc_optimizer_params_check(p, err);
  if (st) return st;
  for (size_t b = 0; b < n_blocks; b++) {
    const rc_param_block *k = &blocks[b];
    if (k->offset > n_theta || k->len > n_theta - k->offset)
      return rc_error_set(err, RC_EINVAL, "optimizer block '%s' [%zu, %zu) is outside the %zu parameters",
                          k->name ? k->name : "?", k->offset, k->offset + k->len, n_theta);
    if (!(k->eta > 0) || !isfinite(k->eta))
      return rc_error_set(err, RC_EINVAL, "optimizer block '%s' needs a finite rate > 0 (got %g)",
                          k->name ? k->name : "?", k->eta);
  }
  rc_optimizer *o = rc_calloc(1, sizeof *o, "optimizer", err);
  if (!o) return RC_ENOMEM;
  o->p = *p;
  o->method = methods[p->kind];
  o->n_blocks = n_blocks;
  o->n_theta = n_theta;
  o->blocks = rc_calloc(n_blocks, sizeof *o->blocks, "optimizer blocks", err);
  o->bufs = rc_calloc(o->method->n_buffers * n_theta, sizeof(double), "optimizer buffers", err);
  if (!o->blocks || !o->bufs) {
    rc_optimizer_free(o);
    return RC_ENOMEM;
  }
  if (n_blocks) memcpy(o->blocks, blocks, n_blocks * sizeof *blocks);
  *out = o;
  return RC_OK;
}

void rc_optimizer_free(rc_optimizer *o) {
  if (!o) return;
  free(o->blocks);
  free(o->bufs);
  free(o);
}

uint64_t rc_optimizer_steps(const rc_optimizer *o) { return o->steps; }
const rc_optimizer_params *rc_optimizer_get_params(const rc_optimizer *o) { return &o->p; }

rc_status rc_optimizer_step(rc_optimizer *o, double dt, double *theta, const double *g, rc_error *err) {
  o->steps++;
  for (size_t b = 0; b < o->n_blocks; b++) {
    const rc_param_block *blk = &o->blocks[b];
    double w = blk->decay ? o->p.weight_decay : 0.0;
    o->method->step(&o->p, blk, w, dt, o->steps, theta, g, o->bufs, o->n_theta);
  }
  for (size_t b = 0; b < o->n_blocks; b++) {
    const rc_param_block *blk = &o->blocks[b];
    for (size_t k = blk->offset; k < blk->offset + blk->len; k++)
      if (!isfinite(theta[k]))
        return rc_error_set(err, RC_ENUMERIC, "%s step %llu: parameter %s became non-finite (%g)", o->method->name,
                            (unsigned long long)o->steps, blk->name ? blk->name : "?", theta[k]);
  }
  return RC_OK;
}

void rc_optimizer_flow_decay(const rc_optimizer_params *p, const rc_param_block *blocks, size_t n_blocks,
                             const double *theta, double *F) {
  const double w = p->weight_decay;
  if (w == 0.0) return;
  for (size_t b = 0; b < n_blocks; b++) {
    if (!blocks[b].decay) continue;
    for (size_t k = blocks[b].offset; k < blocks[b].offset + blocks[b].len; k++) F[k] -= w * theta[k];
  }
}

size_t rc_optimizer_state_size(const rc_optimizer *o) { return 1 + o->method->n_buffers * o->n_theta; }

void rc_optimizer_save(const rc_optimizer *o, double *buf) {
  buf[0] = (double)o->steps;
  if (o->method->n_buffers) memcpy(buf + 1, o->bufs, o->method->n_buffers * o->n_theta * sizeof(double));
}

rc_status rc_optimizer_restore(rc_optimizer *o, const double *buf, rc_error *err) {
  double s = buf[0];
  if (!(s >= 0) || s != floor(s) || s > 9007199254740992.0)
    return rc_error_set(err, RC_EINVAL, "optimizer checkpoint: step count %g is not a non-negative integer", s);
  size_t n = o->method->n_buffers * o->n_theta;
  for (size_t k = 0; k < n; k++)
    if (!isfinite(buf[1 + k]))
      return rc_error_set(err, RC_EINVAL, "optimizer checkpoint: %s buffer entry %zu is not finite", o->method->name,
                          k);
  o->steps = (uint64_t)s;
  if (n) memcpy(o->bufs, buf + 1, n * sizeof(double));
  return RC_OK;
}

double rc_optimizer_step_bound(const rc_optimizer_params *p) {
  const double beta = p->momentum;
  switch (p->kind) {
    case RC_OPTIMIZER_GD: return 2.0;
    case RC_OPTIMIZER_MOMENTUM: return 2.0 * (1.0 + beta);
    case RC_OPTIMIZER_NESTEROV: return 2.0 * (1.0 + beta) / (1.0 + 2.0 * beta);
    default: return INFINITY;
  }
}

rc_status rc_optimizer_check_step(const rc_optimizer_params *p, double dt, double fast_rate, rc_error *err) {
  rc_status st = rc_optimizer_params_check(p, err);
  if (st) return st;
  if (!(dt > 0) || !isfinite(dt)) return rc_error_set(err, RC_EINVAL, "the step --dt must be finite and > 0 (got %g)", dt);
  double bound = rc_optimizer_step_bound(p);
  if (!isfinite(bound)) return RC_OK; /* Adam, AdamW: no linear bound */
  double lam = fast_rate + p->weight_decay;
  double h = dt * lam;
  if (!(h < bound)) {
    const char *form = p->kind == RC_OPTIMIZER_GD         ? "2"
                       : p->kind == RC_OPTIMIZER_MOMENTUM ? "2 (1 + beta)"
                                                          : "2 (1 + beta) / (1 + 2 beta)";
    char extra[64] = "";
    if (p->kind != RC_OPTIMIZER_GD) snprintf(extra, sizeof extra, ", beta = %g", p->momentum);
    return rc_error_set(err, RC_EUNSTABLE,
                        "%s step dt = %g is unstable: dt * (fast_rate + weight_decay) = %g >= %s = %g "
                        "(fast_rate = %g, weight_decay = %g%s); use dt < %g",
                        methods[p->kind]->name, dt, h, form, bound, fast_rate, p->weight_decay, extra, bound / lam);
  }
  return RC_OK;
}
