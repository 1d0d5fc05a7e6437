/* encoder_mlp.c: the `mlp` encoder (docs/model.md sections 6 and 6.3): one
 * hidden layer, x_i = W2 phi(W1 u_i + b1) + b2, phi = relu or tanh, hidden
 * width h. theta_e = [W1 (h x D) | b1 (h) | W2 (d x h) | b2 (d)], row-major,
 * four named blocks. Rows are samples, so for all N samples at once
 *     Z = U W1^T + 1 b1^T (N x h),  A = phi(Z),  X = A W2^T + 1 b2^T (N x d),
 * and, from G = dL/dX (already rate-scaled per sample by the engine),
 *     dW2 = G^T A,  db2 = G^T 1,  dZ = (G W2) o phi'(Z),  dW1 = dZ^T U,  db1 = dZ^T 1.
 * Each product is one BLAS call over every sample (no per-sample loop); the
 * two N x D x h GEMMs (forward Z, backward dW1) are the cost when D >> d.
 * forward leaves Z and A in e->work; backward (called right after a forward of
 * the same theta, engine.h) reuses them. */
#include <math.h>

#include <cblas.h>

#include "repcollapse/engine.h"

/* offsets of the four blocks inside theta_e */
static size_t off_b1(const rc_encoder *e) { return e->h * e->D; }
static size_t off_W2(const rc_encoder *e) { return e->h * e->D + e->h; }
static size_t off_b2(const rc_encoder *e) { return e->h * e->D + e->h + e->d * e->h; }

static size_t mlp_n_params_nd(size_t n, size_t D, size_t d) { /* unused: the size depends on h */
  (void)n;
  (void)D;
  (void)d;
  return 0;
}

static size_t mlp_n_params(const rc_encoder *e) { return off_b2(e) + e->d; }

static size_t mlp_blocks(const rc_encoder *e, rc_param_block *out) {
  const rc_param_block b[4] = {{"W1", 0, e->h * e->D, 0.0, 0},
                               {"b1", off_b1(e), e->h, 0.0, 0},
                               {"W2", off_W2(e), e->d * e->h, 0.0, 0},
                               {"b2", off_b2(e), e->d, 0.0, 0}};
  for (int k = 0; k < 4; k++) out[k] = b[k];
  return 4;
}

/* work: Z (n h) | A (n h) | dZ (n h) | ones (n) */
static size_t mlp_work_size(const rc_encoder *e) { return 3 * e->n * e->h + e->n; }

static void mlp_forward(const rc_encoder *e, const double *th, double *X) {
  const size_t n = e->n, D = e->D, d = e->d, h = e->h;
  const double *W1 = th, *b1 = th + off_b1(e), *W2 = th + off_W2(e), *b2 = th + off_b2(e);
  double *Z = e->work, *A = Z + n * h;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < h; j++) Z[i * h + j] = b1[j];
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)h, (int)D, 1.0, e->U, (int)D, W1, (int)D, 1.0, Z,
              (int)h);
  if (e->activation == RC_ACTIVATION_TANH)
    for (size_t q = 0; q < n * h; q++) A[q] = tanh(Z[q]);
  else
    for (size_t q = 0; q < n * h; q++) A[q] = Z[q] > 0.0 ? Z[q] : 0.0;
  for (size_t i = 0; i < n; i++)
    for (size_t q = 0; q < d; q++) X[i * d + q] = b2[q];
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)d, (int)h, 1.0, A, (int)h, W2, (int)h, 1.0, X,
              (int)d);
}

static void mlp_backward(const rc_encoder *e, const double *th, const double *G, double *g) {
  const size_t n = e->n, D = e->D, d = e->d, h = e->h;
  const double *W2 = th + off_W2(e);
  double *gW1 = g, *gb1 = g + off_b1(e), *gW2 = g + off_W2(e), *gb2 = g + off_b2(e);
  double *Z = e->work, *A = Z + n * h, *dZ = A + n * h, *ones = dZ + n * h;
  for (size_t i = 0; i < n; i++) ones[i] = 1.0;
  /* dW2 (d x h) = G^T A; db2 = G^T 1 */
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)h, (int)n, 1.0, G, (int)d, A, (int)h, 0.0, gW2,
              (int)h);
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 1.0, G, (int)d, ones, 1, 0.0, gb2, 1);
  /* dA (n x h) = G W2, then dZ = dA o phi'(Z) */
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)h, (int)d, 1.0, G, (int)d, W2, (int)h, 0.0, dZ,
              (int)h);
  if (e->activation == RC_ACTIVATION_TANH)
    for (size_t q = 0; q < n * h; q++) dZ[q] *= 1.0 - A[q] * A[q];
  else
    for (size_t q = 0; q < n * h; q++)
      if (!(Z[q] > 0.0)) dZ[q] = 0.0; /* relu'(0) = 0, as torch */
  /* dW1 (h x D) = dZ^T U; db1 = dZ^T 1 */
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)h, (int)D, (int)n, 1.0, dZ, (int)h, e->U, (int)D, 0.0,
              gW1, (int)D);
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)h, 1.0, dZ, (int)h, ones, 1, 0.0, gb1, 1);
}

double rc_mlp_gain2(rc_activation a) { return a == RC_ACTIVATION_TANH ? 1.0 : 2.0; }

/* E[phi(z)^2], z ~ N(0, g^2): relu at g^2 = 2 gives exactly 1; tanh at
 * g^2 = 1 gives 0.394 (docs/model.md 6.3; the integral is 0.39429...). */
double rc_mlp_phi_second_moment(rc_activation a) { return a == RC_ACTIVATION_TANH ? 0.394 : 1.0; }

/* Initialisation of 6.3: W1 ~ N(0, g^2 / mean_i |u_i|^2) per entry, so every
 * pre-activation w . u_i has variance g^2 |u_i|^2 / mean|u|^2, about g^2
 * (g^2 = 2 relu, 1 tanh; mean_i |u_i|^2 = D times the mean squared entry,
 * 6.3's "D mean|u|^2"); b1 = b2 = 0; W2 ~ N(0, sigma^2 / (d h E[phi^2])), so
 * each x entry starts with variance sigma^2 / d, the scale of section 2.
 * Drawn in order: W1 row by row, then W2 row by row. */
static void mlp_init(const rc_encoder *e, double sigma, rc_gauss_fn gauss, void *rng, double *th) {
  const size_t n = e->n, D = e->D, d = e->d, h = e->h;
  double mean_u2 = 0.0;
  for (size_t q = 0; q < n * D; q++) mean_u2 += e->U[q] * e->U[q];
  mean_u2 = n ? mean_u2 / (double)n : 0.0;
  if (!(mean_u2 > 0.0)) mean_u2 = 1.0; /* all-zero inputs: any scale gives the same x */
  const double sd1 = sqrt(rc_mlp_gain2(e->activation) / mean_u2);
  const double sd2 = sigma / sqrt((double)d * (double)h * rc_mlp_phi_second_moment(e->activation));
  double *W1 = th, *b1 = th + off_b1(e), *W2 = th + off_W2(e), *b2 = th + off_b2(e);
  for (size_t q = 0; q < h * D; q++) W1[q] = gauss(rng, sd1);
  for (size_t j = 0; j < h; j++) b1[j] = 0.0;
  for (size_t q = 0; q < d * h; q++) W2[q] = gauss(rng, sd2);
  for (size_t q = 0; q < d; q++) b2[q] = 0.0;
}

const rc_encoder_method rc_encoder_mlp = {"mlp",        "W1",          mlp_n_params_nd, mlp_forward, mlp_backward,
                                          mlp_n_params, mlp_blocks,    mlp_work_size,   mlp_init};
