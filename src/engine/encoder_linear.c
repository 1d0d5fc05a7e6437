/* encoder_linear.c: the `linear` encoder (docs/model.md section 4): x_i = W u_i,
 * W (d x D) trained. Forward X = U W^T and backward dL/dW = G^T U are one
 * dgemm each (2 N D d flops), the whole cost for D >> d. */
#include <math.h>

#include <cblas.h>

#include "repcollapse/engine.h"

static size_t linear_n_params(size_t n, size_t D, size_t d) {
  (void)n;
  return d * D;
}

static void linear_forward(const rc_encoder *e, const double *W, double *X) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)e->n, (int)e->d, (int)e->D, 1.0, e->U, (int)e->D, W,
              (int)e->D, 0.0, X, (int)e->d);
}

static void linear_backward(const rc_encoder *e, const double *W, const double *G, double *gW) {
  (void)W;
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)e->d, (int)e->D, (int)e->n, 1.0, G, (int)e->d, e->U,
              (int)e->D, 0.0, gW, (int)e->D);
}

/* W ~ N(0, sigma^2 / d) per entry (section 4), row by row: x = W u then has
 * entries of variance sigma^2 |u|^2 / d, the scale of section 2. */
static void linear_init(const rc_encoder *e, double sigma, rc_gauss_fn gauss, void *rng, double *W) {
  const double sd = sigma / sqrt((double)e->d);
  for (size_t q = 0; q < e->d * e->D; q++) W[q] = gauss(rng, sd);
}

const rc_encoder_method rc_encoder_linear = {"linear", "W",  linear_n_params, linear_forward, linear_backward,
                                             NULL,     NULL, NULL,            linear_init};
