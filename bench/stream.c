/* stream.c: a STREAM-style triad a[i] = b[i] + s c[i] over arrays far larger
 * than the caches, to measure this machine's memory bandwidth for bench/.
 * Usage: stream [n_doubles_per_array] [repeats]; OMP_NUM_THREADS sets the
 * threads. Prints JSON: the best (STREAM convention) and median bandwidth,
 * counting 3 arrays x 8 bytes per element as STREAM does (a write-allocate
 * cache also reads a[], so the hardware moves 4/3 of that). Also an in-place
 * update a[i] = s a[i] (read and write one array, 2 x 8 bytes moved per
 * element, no write-allocate): the access pattern of a gd step. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : (size_t)1 << 26;
  int reps = argc > 2 ? atoi(argv[2]) : 10;
  if (reps < 1 || reps > 1000 || n < 1024) return 2;
  double *a = aligned_alloc(64, n * sizeof *a), *b = aligned_alloc(64, n * sizeof *b),
         *c = aligned_alloc(64, n * sizeof *c), *t = malloc((size_t)reps * sizeof *t);
  if (!a || !b || !c || !t) return 1;
  const double s = 3.0;
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++) {
    a[i] = 1.0;
    b[i] = 2.0;
    c[i] = 0.5;
  }
  for (int r = 0; r < reps; r++) {
    double t0 = now();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
    t[r] = now() - t0;
  }
  double *u = malloc((size_t)reps * sizeof *u);
  if (!u) return 1;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = 0.999999 * a[i];
    u[r] = now() - t0;
  }
  qsort(u, (size_t)reps, sizeof *u, cmp);
  double check = 0;
  for (size_t i = 0; i < n; i += 4096) check += a[i];
  qsort(t, (size_t)reps, sizeof *t, cmp);
  double bytes = 3.0 * 8.0 * (double)n;
  printf("{\"threads\": %d, \"n\": %zu, \"bytes\": %.0f, \"best_gb_per_s\": %.3f, \"median_gb_per_s\": %.3f, "
         "\"inplace_best_gb_per_s\": %.3f, \"inplace_median_gb_per_s\": %.3f, \"check\": %g}\n",
         omp_get_max_threads(), n, bytes, bytes / t[0] / 1e9, bytes / t[reps / 2] / 1e9,
         2.0 * 8.0 * (double)n / u[0] / 1e9, 2.0 * 8.0 * (double)n / u[reps / 2] / 1e9, check);
  free(a);
  free(b);
  free(c);
  free(t);
  free(u);
  return 0;
}
