/* optim_trace.c: drives one optimizer of src/optimize on a small smooth
 * problem read from stdin and prints theta after every step, for the PyTorch
 * oracle tests/reference/optim_ref.py.
 *
 * Input (whitespace-separated): kind beta beta1 beta2 eps w dt steps n
 * n_blocks resume_at cubic, then per block: offset len eta decay, then Q (n x
 * n, row-major), b (n), theta0 (n). The loss is L = theta.Q.theta / 2 - b.theta
 * + cubic sum theta^4 / 4; the rate-scaled gradient of a parameter of block
 * eta is g = eta dL/dtheta (the `uniform` scheme). At step resume_at > 0 the
 * optimizer is saved, freed, and a new one restored from the save. Output: one
 * line per step, n values %.17g. */
#include <stdio.h>
#include <stdlib.h>

#include "repcollapse/optimizer.h"

static int rd(double *v) { return scanf("%lf", v) == 1; }

int main(void) {
  double kind, beta, b1, b2, eps, w, dt, steps, n_, nb_, resume_at, cubic;
  if (!(rd(&kind) && rd(&beta) && rd(&b1) && rd(&b2) && rd(&eps) && rd(&w) && rd(&dt) && rd(&steps) && rd(&n_) &&
        rd(&nb_) && rd(&resume_at) && rd(&cubic))) {
    fprintf(stderr, "optim_trace: bad header\n");
    return 2;
  }
  size_t n = (size_t)n_, nb = (size_t)nb_;
  rc_param_block *blk = calloc(nb, sizeof *blk);
  double *Q = malloc(n * n * sizeof *Q), *bv = malloc(n * sizeof *bv), *th = malloc(n * sizeof *th),
         *g = malloc(n * sizeof *g), *eta = calloc(n, sizeof *eta);
  for (size_t k = 0; k < nb; k++) {
    double off, len, e, dec;
    if (!(rd(&off) && rd(&len) && rd(&e) && rd(&dec))) return 2;
    blk[k] = (rc_param_block){"p", (size_t)off, (size_t)len, e, (int)dec};
    for (size_t q = (size_t)off; q < (size_t)(off + len) && q < n; q++) eta[q] = e;
  }
  for (size_t k = 0; k < n * n; k++)
    if (!rd(&Q[k])) return 2;
  for (size_t k = 0; k < n; k++)
    if (!rd(&bv[k])) return 2;
  for (size_t k = 0; k < n; k++)
    if (!rd(&th[k])) return 2;
  rc_optimizer_params p = rc_optimizer_params_default();
  p.kind = (rc_optimizer_kind)(int)kind;
  p.momentum = beta;
  p.beta1 = b1;
  p.beta2 = b2;
  p.adam_eps = eps;
  p.weight_decay = w;
  rc_optimizer *o = NULL;
  rc_error err;
  if (rc_optimizer_alloc(&p, blk, nb, n, &o, &err)) {
    fprintf(stderr, "optim_trace: %s\n", err.msg);
    return 1;
  }
  for (long s = 0; s < (long)steps; s++) {
    if (resume_at > 0 && s == (long)resume_at) {
      size_t ns = rc_optimizer_state_size(o);
      double *sv = malloc(ns * sizeof *sv);
      rc_optimizer_save(o, sv);
      rc_optimizer_free(o);
      if (rc_optimizer_alloc(&p, blk, nb, n, &o, &err) || rc_optimizer_restore(o, sv, &err)) {
        fprintf(stderr, "optim_trace: %s\n", err.msg);
        return 1;
      }
      free(sv);
    }
    for (size_t i = 0; i < n; i++) {
      double gi = -bv[i] + cubic * th[i] * th[i] * th[i];
      for (size_t j = 0; j < n; j++) gi += Q[i * n + j] * th[j];
      g[i] = eta[i] * gi;
    }
    if (rc_optimizer_step(o, dt, th, g, &err)) {
      fprintf(stderr, "optim_trace: %s\n", err.msg);
      return 1;
    }
    for (size_t i = 0; i < n; i++) printf(i ? " %.17g" : "%.17g", th[i]);
    printf("\n");
  }
  rc_optimizer_free(o);
  free(blk);
  free(Q);
  free(bv);
  free(th);
  free(g);
  free(eta);
  return 0;
}
