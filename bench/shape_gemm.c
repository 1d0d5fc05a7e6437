/* shape_gemm.c: the dgemm rate at a path's own shapes, measured the way the
 * path calls it: OpenMP threads over tiles, each tile one single-threaded
 * cblas_dgemm on operands that stay in cache (the path's tiles do), the tiles'
 * total equal to the path's. The roofline of a path is then max(its GEMM flops
 * / this rate, its bytes / the stream bandwidth) (bench/bench.py).
 *
 * usage: shape_gemm --op nt|nn|tn --m M --n N --k K --tiles T [--threads P] [--reps R]
 *   nt: C (m x n)  = A (m x k) B^T, B n x k   (metrics: x~ y~^T; head gd: P x)
 *   nn: C (m x n) += A (m x k) B,   B k x n   (head gd: x += S1 P)
 *   tn: C (m x n) += A^T B, A k x m, B k x n  (head gd: gP += S1^T X)
 * Prints one JSON object: flops per repetition, best and median GFLOP/s. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const char *op = "nt";
  long m = 256, n = 100, k = 64, tiles = 1000, reps = 7;
  int threads = omp_get_max_threads();
  for (int a = 1; a + 1 < argc; a += 2) {
    if (!strcmp(argv[a], "--op")) op = argv[a + 1];
    else if (!strcmp(argv[a], "--m")) m = atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--n")) n = atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--k")) k = atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--tiles")) tiles = atol(argv[a + 1]);
    else if (!strcmp(argv[a], "--threads")) threads = atoi(argv[a + 1]);
    else if (!strcmp(argv[a], "--reps")) reps = atol(argv[a + 1]);
    else {
      fprintf(stderr, "shape_gemm: unknown option %s\n", argv[a]);
      return 2;
    }
  }
  if (m < 1 || n < 1 || k < 1 || tiles < 1 || reps < 1 || threads < 1 || (strcmp(op, "nt") && strcmp(op, "nn") && strcmp(op, "tn"))) {
    fprintf(stderr, "shape_gemm: bad arguments\n");
    return 2;
  }
  openblas_set_num_threads(1); /* as the paths do inside their OpenMP regions */
  double *t = calloc((size_t)reps, sizeof *t), cpu_best = 1e300;
  int bad = 0;
  for (long r = -1; r < reps; r++) { /* r = -1: warm-up */
    double t0 = now_seconds(), c0 = cpu_seconds();
#pragma omp parallel num_threads(threads) reduction(| : bad)
    {
      double *A = malloc((size_t)(m * k) * sizeof *A), *B = malloc((size_t)(n * k) * sizeof *B);
      double *C = calloc((size_t)(m * n), sizeof *C);
      bad |= !A || !B || !C;
      if (A && B && C) {
        for (long q = 0; q < m * k; q++) A[q] = 1.0 / (double)(q + 1);
        for (long q = 0; q < n * k; q++) B[q] = 1.0 / (double)(q + 2);
#pragma omp for schedule(static)
        for (long s = 0; s < tiles; s++) {
          if (!strcmp(op, "nt"))
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0, A, (int)k, B, (int)k, 0.0,
                        C, (int)n);
          else if (!strcmp(op, "nn"))
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, A, (int)k, B, (int)n,
                        1.0, C, (int)n);
          else
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, A, (int)m, B, (int)n,
                        1.0, C, (int)n);
        }
      }
      free(A);
      free(B);
      free(C);
    }
    if (r >= 0) t[r] = now_seconds() - t0;
    if (r >= 0 && cpu_seconds() - c0 < cpu_best) cpu_best = cpu_seconds() - c0;
  }
  if (bad) {
    fprintf(stderr, "shape_gemm: out of memory\n");
    return 1;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  const double flops = 2.0 * (double)m * (double)n * (double)k * (double)tiles;
  printf("{\"op\": \"%s\", \"m\": %ld, \"n\": %ld, \"k\": %ld, \"tiles\": %ld, \"threads\": %d, \"flops\": %.17g, "
         "\"gflops_best\": %.6g, \"gflops_median\": %.6g, \"seconds_best\": %.6g, \"gflops_per_cpu_second\": %.6g, "
         "\"corename\": \"%s\"}\n",
         op, m, n, k, tiles, threads, flops, flops / t[0] / 1e9, flops / t[reps / 2] / 1e9, t[0],
         flops / cpu_best / 1e9, openblas_get_corename());
  free(t);
  return 0;
}
