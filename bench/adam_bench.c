/* adam_bench.c: times one Adam step of repcollapse's optimizer
 * (src/optimize/adam.c through rc_optimizer_step) on n parameters, for
 * bench/adam_bench.py to set beside torch.optim.Adam on the same sizes.
 * Prints one JSON line per size: n, seconds per step (median of the
 * repetitions), ns per parameter and the effective bandwidth (an Adam step
 * reads theta, g, m, v and writes theta, m, v: 56 bytes per parameter in f64).
 * With --check, also prints theta after 5 steps on a fixed problem so the
 * script can compare it with torch.
 *
 * usage: adam_bench [--check] n1 [n2 ...] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repcollapse/optimizer.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int check = 0, first = 1;
  if (argc > 1 && !strcmp(argv[1], "--check")) check = 1, first = 2;
  for (int a = first; a < argc; a++) {
    size_t n = (size_t)atoll(argv[a]);
    double *th = malloc(n * sizeof *th), *g = malloc(n * sizeof *g);
    for (size_t k = 0; k < n; k++) {
      th[k] = sin(0.1 * (double)k);
      g[k] = cos(0.37 * (double)k) + 0.1;
    }
    rc_optimizer_params p = rc_optimizer_params_default();
    p.kind = RC_OPTIMIZER_ADAM;
    rc_param_block blk = {"x", 0, n, 1.0, 1};
    rc_optimizer *o = NULL;
    rc_error err;
    if (rc_optimizer_alloc(&p, &blk, 1, n, &o, &err)) {
      fprintf(stderr, "adam_bench: %s\n", err.msg);
      return 1;
    }
    if (check) {
      for (int s = 0; s < 5; s++) {
        for (size_t k = 0; k < n; k++) g[k] = th[k] - cos(0.37 * (double)k);
        rc_optimizer_step(o, 1e-3, th, g, &err);
      }
      printf("{\"n\": %zu, \"theta\": [", n);
      for (size_t k = 0; k < n; k++) printf(k ? ", %.17g" : "%.17g", th[k]);
      printf("]}\n");
    } else {
      /* steps per repetition: about 0.05 s of work */
      int reps = 15, inner = (int)fmax(1.0, 2e7 / (double)n);
      double *t = malloc(reps * sizeof *t);
      rc_optimizer_step(o, 1e-3, th, g, &err); /* warm up */
      for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int s = 0; s < inner; s++) rc_optimizer_step(o, 1e-3, th, g, &err);
        t[r] = (now() - t0) / inner;
      }
      qsort(t, reps, sizeof *t, cmp);
      double med = t[reps / 2];
      printf("{\"n\": %zu, \"seconds_per_step\": %.6g, \"ns_per_parameter\": %.4g, \"gb_per_s\": %.4g}\n", n, med,
             1e9 * med / n, 56.0 * n / med / 1e9);
      free(t);
    }
    rc_optimizer_free(o);
    free(th);
    free(g);
  }
  return 0;
}
