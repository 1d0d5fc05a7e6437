/* mlp_bench.c: times one step of the `mlp` encoder (src/engine/encoder_mlp.c):
 * the forward X = W2 phi(W1 u + b1) + b2 and the backward to every parameter
 * from a given G = dL/dX, over all N samples, for bench/mlp_bench.py to set
 * beside a hand-written PyTorch step. In the same run it times each of the
 * step's five dgemm calls alone, at its own shape and with its own operands
 * (nt: Z = U W1^T, X = A W2^T; tn: dW2 = G^T A, dW1 = dZ^T U; nn: dA = G W2):
 * their sum is the step's GEMM roofline on this machine at this moment.
 * Inputs, parameters and G are sin/cos of the index, as mlp_bench.py builds
 * them, and the sums of X and of the gradient are printed for its check.
 *
 * usage: mlp_bench N D h d relu|tanh REPS
 * Prints one JSON object: step seconds (median), per-GEMM shape, flops and
 * seconds (median), the checksums. OpenBLAS threads: OPENBLAS_NUM_THREADS. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repcollapse/engine.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp);
  return t[n / 2];
}

typedef struct {
  const char *name, *op;
  int m, n, k;
  const double *A, *B;
  double *C;
  int lda, ldb;
} gemm_shape;

static void run_gemm(const gemm_shape *g) {
  if (!strcmp(g->op, "nt"))
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->m, g->n, g->k, 1.0, g->A, g->lda, g->B, g->ldb, 0.0, g->C,
                g->n);
  else if (!strcmp(g->op, "tn"))
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->m, g->n, g->k, 1.0, g->A, g->lda, g->B, g->ldb, 0.0, g->C,
                g->n);
  else
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->m, g->n, g->k, 1.0, g->A, g->lda, g->B, g->ldb, 0.0,
                g->C, g->n);
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: mlp_bench N D h d relu|tanh REPS\n");
    return 2;
  }
  const size_t N = (size_t)atol(argv[1]), D = (size_t)atol(argv[2]), h = (size_t)atol(argv[3]),
               d = (size_t)atol(argv[4]);
  const int reps = atoi(argv[6]);
  rc_error err;
  rc_activation act;
  if (!N || !D || !h || !d || reps < 1 || rc_parse_activation(argv[5], &act, &err)) {
    fprintf(stderr, "mlp_bench: bad arguments\n");
    return 2;
  }
  double *U = malloc(N * D * sizeof *U), *G = malloc(N * d * sizeof *G), *X = malloc(N * d * sizeof *X);
  for (size_t q = 0; q < N * D; q++) U[q] = sin(0.001 * (double)q);
  for (size_t q = 0; q < N * d; q++) G[q] = cos(0.01 * (double)q) / (double)N;
  rc_encoder e;
  if (rc_encoder_setup(&e, RC_ENCODER_MLP, N, D, d, U, h, act, &err)) {
    fprintf(stderr, "mlp_bench: %s\n", err.msg);
    return 1;
  }
  const size_t np = rc_encoder_n_params(&e);
  double *th = malloc(np * sizeof *th), *g = malloc(np * sizeof *g);
  for (size_t q = 0; q < np; q++) th[q] = 0.05 * sin(0.37 * (double)q + 0.1);
  double *t = calloc((size_t)reps, sizeof *t);
  for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
    const double t0 = now();
    e.method->forward(&e, th, X);
    e.method->backward(&e, th, G, g);
    if (r >= 0) t[r] = now() - t0;
  }
  double sx = 0.0, sg = 0.0;
  for (size_t q = 0; q < N * d; q++) sx += X[q];
  for (size_t q = 0; q < np; q++) sg += g[q];
  const double step = median(t, reps);
  /* the five GEMMs alone, on the step's own operands (the work buffers Z | A | dZ) */
  const double *W1 = th, *W2 = th + h * D + h;
  double *Z = e.work, *A = Z + N * h, *dZ = A + N * h, *scratch = malloc((N * h + h * D + 1) * sizeof *scratch);
  const gemm_shape shapes[5] = {
      {"Z = U W1^T", "nt", (int)N, (int)h, (int)D, U, W1, scratch, (int)D, (int)D},
      {"X = A W2^T", "nt", (int)N, (int)d, (int)h, A, W2, scratch, (int)h, (int)h},
      {"dW2 = G^T A", "tn", (int)d, (int)h, (int)N, G, A, scratch, (int)d, (int)h},
      {"dA = G W2", "nn", (int)N, (int)h, (int)d, G, W2, scratch, (int)d, (int)h},
      {"dW1 = dZ^T U", "tn", (int)h, (int)D, (int)N, dZ, U, scratch, (int)h, (int)D},
  };
  printf("{\"N\": %zu, \"D\": %zu, \"h\": %zu, \"d\": %zu, \"activation\": \"%s\", \"reps\": %d, "
         "\"step_seconds\": %.9g, \"sum_X\": %.17g, \"sum_grad\": %.17g, \"gemms\": [",
         N, D, h, d, rc_activation_name(act), reps, step, sx, sg);
  for (int s = 0; s < 5; s++) {
    for (int r = -1; r < reps; r++) {
      const double t0 = now();
      run_gemm(&shapes[s]);
      if (r >= 0) t[r] = now() - t0;
    }
    const double flops = 2.0 * shapes[s].m * (double)shapes[s].n * shapes[s].k;
    printf("%s{\"name\": \"%s\", \"op\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, \"flops\": %.6g, \"seconds\": %.9g}",
           s ? ", " : "", shapes[s].name, shapes[s].op, shapes[s].m, shapes[s].n, shapes[s].k, flops, median(t, reps));
  }
  printf("]}\n");
  free(scratch);
  free(t);
  free(th);
  free(g);
  free(U);
  free(G);
  free(X);
  rc_encoder_release(&e);
  return 0;
}
