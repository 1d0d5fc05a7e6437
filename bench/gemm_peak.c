/* gemm_peak.c: this machine's measured dgemm and sgemm peak with the BLAS the
 * library links (OpenBLAS), the reference item 4 of bench/ compares the
 * teacher-student gd step against (bench/bench.py).
 *
 *     gemm_peak [n] [repeats]          (default 2048 5)
 * times C = A B on n x n row-major matrices (cblas_dgemm, cblas_sgemm), one
 * untimed warm-up call then `repeats` timed calls, with 1 thread and with
 * every core (openblas_set_num_threads), and prints one JSON object: the best
 * and median GFLOP/s (2 n^3 flops a call) for each precision and thread
 * count. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* fills with small deterministic values (no denormals, no overflow) */
static void fill_d(double *a, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) a[i] = (double)((i * 2654435761u + seed) % 1000u) / 1000.0 - 0.5;
}

static void fill_s(float *a, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) a[i] = (float)((i * 2654435761u + seed) % 1000u) / 1000.0f - 0.5f;
}

static void run(int single, int n, int reps, double *t) {
  const size_t nn = (size_t)n * (size_t)n;
  if (single) {
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = calloc(nn, sizeof *c);
    if (!a || !b || !c) exit(1);
    fill_s(a, nn, 1);
    fill_s(b, nn, 2);
    for (int r = -1; r < reps; r++) {
      double t0 = now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
      if (r >= 0) t[r] = now() - t0;
    }
    free(a), free(b), free(c);
  } else {
    double *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = calloc(nn, sizeof *c);
    if (!a || !b || !c) exit(1);
    fill_d(a, nn, 1);
    fill_d(b, nn, 2);
    for (int r = -1; r < reps; r++) {
      double t0 = now();
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
      if (r >= 0) t[r] = now() - t0;
    }
    free(a), free(b), free(c);
  }
  qsort(t, (size_t)reps, sizeof *t, cmp);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2048, reps = argc > 2 ? atoi(argv[2]) : 5;
  if (n < 64 || n > 16384 || reps < 1 || reps > 100) return fprintf(stderr, "usage: gemm_peak [n] [repeats]\n"), 2;
  const int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  const int threads[2] = {1, cores > 1 ? cores : 1};
  double *t = malloc((size_t)reps * sizeof *t);
  if (!t) return 1;
  const double flops = 2.0 * (double)n * (double)n * (double)n;
  printf("{\"n\": %d, \"repeats\": %d, \"config\": \"%s\", \"results\": [", n, reps, openblas_get_config());
  int first = 1;
  for (int p = 0; p < 2; p++)
    for (int k = 0; k < (threads[1] > 1 ? 2 : 1); k++) {
      openblas_set_num_threads(threads[k]);
      run(p, n, reps, t);
      printf("%s\n  {\"routine\": \"%s\", \"threads\": %d, \"best_gflop_per_s\": %.3f, \"median_gflop_per_s\": %.3f}",
             first ? "" : ",", p ? "sgemm" : "dgemm", openblas_get_num_threads(), flops / t[0] / 1e9,
             flops / t[reps / 2] / 1e9);
      first = 0;
      fflush(stdout);
    }
  printf("\n]}\n");
  free(t);
  return 0;
}
