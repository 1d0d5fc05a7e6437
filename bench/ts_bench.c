/* ts_bench.c: time full-batch gd steps of the teacher-student model (docs/model.md
 * section 4), the share of that time spent inside BLAS calls and the floating-
 * point work of the dense products. The BLAS entry points the library uses are
 * wrapped at link time (bench/CMakeLists.txt: -Wl,--wrap=cblas_dgemm ...), so
 * every call made by the library, including those inside the term gradients,
 * is timed and its flops (2 m n k a gemm) counted without touching the library.
 *
 *     ts_bench [--json] [N D d K steps]      (default 20000 512 64 10 5)
 * prints one line per (model, precision): seconds per step (mean; best and
 * median of the steps each timed on its own), BLAS seconds per step, the BLAS
 * share, the dgemm and sgemm GFLOP a step does and the GFLOP/s the step
 * reaches; with --json, one JSON object per line instead.
 * TS_BENCH_TRACE=1 prints every dgemm call (shape, seconds) on stderr. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repcollapse/teacher.h"

static double blas_seconds, dgemm_flops, sgemm_flops;
static long blas_calls;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void __real_cblas_dgemm(OPENBLAS_CONST enum CBLAS_ORDER, OPENBLAS_CONST enum CBLAS_TRANSPOSE,
                        OPENBLAS_CONST enum CBLAS_TRANSPOSE, OPENBLAS_CONST blasint, OPENBLAS_CONST blasint,
                        OPENBLAS_CONST blasint, OPENBLAS_CONST double, OPENBLAS_CONST double *, OPENBLAS_CONST blasint,
                        OPENBLAS_CONST double *, OPENBLAS_CONST blasint, OPENBLAS_CONST double, double *,
                        OPENBLAS_CONST blasint);
void __wrap_cblas_dgemm(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                        OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint m, OPENBLAS_CONST blasint n,
                        OPENBLAS_CONST blasint k, OPENBLAS_CONST double al, OPENBLAS_CONST double *a,
                        OPENBLAS_CONST blasint lda, OPENBLAS_CONST double *b, OPENBLAS_CONST blasint ldb,
                        OPENBLAS_CONST double be, double *c, OPENBLAS_CONST blasint ldc) {
  double t = now();
  __real_cblas_dgemm(o, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc);
  blas_seconds += now() - t;
  dgemm_flops += 2.0 * (double)m * (double)n * (double)k;
  if (getenv("TS_BENCH_TRACE")) fprintf(stderr, "dgemm %c%c %d %d %d: %.4f s\n", ta == CblasTrans ? 'T' : 'N', tb == CblasTrans ? 'T' : 'N', (int)m, (int)n, (int)k, now() - t);
  blas_calls++;
}

void __real_cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER, OPENBLAS_CONST enum CBLAS_TRANSPOSE,
                        OPENBLAS_CONST enum CBLAS_TRANSPOSE, OPENBLAS_CONST blasint, OPENBLAS_CONST blasint,
                        OPENBLAS_CONST blasint, OPENBLAS_CONST float, OPENBLAS_CONST float *, OPENBLAS_CONST blasint,
                        OPENBLAS_CONST float *, OPENBLAS_CONST blasint, OPENBLAS_CONST float, float *,
                        OPENBLAS_CONST blasint);
void __wrap_cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                        OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint m, OPENBLAS_CONST blasint n,
                        OPENBLAS_CONST blasint k, OPENBLAS_CONST float al, OPENBLAS_CONST float *a,
                        OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *b, OPENBLAS_CONST blasint ldb,
                        OPENBLAS_CONST float be, float *c, OPENBLAS_CONST blasint ldc) {
  double t = now();
  __real_cblas_sgemm(o, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc);
  blas_seconds += now() - t;
  sgemm_flops += 2.0 * (double)m * (double)n * (double)k;
  blas_calls++;
}

void __real_cblas_daxpy(OPENBLAS_CONST blasint, OPENBLAS_CONST double, OPENBLAS_CONST double *, OPENBLAS_CONST blasint,
                        double *, OPENBLAS_CONST blasint);
void __wrap_cblas_daxpy(OPENBLAS_CONST blasint n, OPENBLAS_CONST double al, OPENBLAS_CONST double *x,
                        OPENBLAS_CONST blasint incx, double *y, OPENBLAS_CONST blasint incy) {
  double t = now();
  __real_cblas_daxpy(n, al, x, incx, y, incy);
  blas_seconds += now() - t;
  blas_calls++;
}

void __real_cblas_dgemv(OPENBLAS_CONST enum CBLAS_ORDER, OPENBLAS_CONST enum CBLAS_TRANSPOSE, OPENBLAS_CONST blasint,
                        OPENBLAS_CONST blasint, OPENBLAS_CONST double, OPENBLAS_CONST double *, OPENBLAS_CONST blasint,
                        OPENBLAS_CONST double *, OPENBLAS_CONST blasint, OPENBLAS_CONST double, double *,
                        OPENBLAS_CONST blasint);
void __wrap_cblas_dgemv(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                        OPENBLAS_CONST blasint m, OPENBLAS_CONST blasint n, OPENBLAS_CONST double al,
                        OPENBLAS_CONST double *a, OPENBLAS_CONST blasint lda, OPENBLAS_CONST double *x,
                        OPENBLAS_CONST blasint incx, OPENBLAS_CONST double be, double *y, OPENBLAS_CONST blasint incy) {
  double t = now();
  __real_cblas_dgemv(o, ta, m, n, al, a, lda, x, incx, be, y, incy);
  blas_seconds += now() - t;
  blas_calls++;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static int bench(const rc_ts_data *data, const char *model, rc_precision prec, size_t d, int steps, int json) {
  rc_error err;
  rc_ts_params p = {rc_head_params_default(), 1.0, prec};
  if (rc_model_preset(model, &p.hp.model, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  rc_ts_model *m = NULL;
  if (rc_ts_model_alloc(data, &p, d, &m, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  double *z = calloc(rc_ts_state_size(m), sizeof *z);
  rc_init_params ip = rc_init_params_default();
  if (!z || rc_ts_init_state(m, &ip, RC_HEAD_IDENTITY, 1.0, z, &err)) return fprintf(stderr, "init failed\n"), 1;
  const double dt = 0.02; /* stable at the default size (bench/TEACHER_STUDENT.md: dt < 0.0378) */
  if (rc_ts_gd_step(m, z, dt, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), 1; /* warm-up */
  blas_seconds = dgemm_flops = sgemm_flops = 0;
  blas_calls = 0;
  double *t = malloc((size_t)steps * sizeof *t);
  if (!t) return fprintf(stderr, "out of memory\n"), 1;
  double total = 0;
  for (int s = 0; s < steps; s++) {
    const double t0 = now();
    if (rc_ts_gd_step(m, z, dt, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    t[s] = now() - t0;
    total += t[s];
  }
  qsort(t, (size_t)steps, sizeof *t, cmp_double);
  const double mean = total / steps, best = t[0], median = steps % 2 ? t[steps / 2] : 0.5 * (t[steps / 2 - 1] + t[steps / 2]);
  const double blas = blas_seconds / steps, df = dgemm_flops / steps, sf = sgemm_flops / steps;
  const double input = 4.0 * (double)data->n * (double)data->D * (double)d; /* U W^T and G^T U */
  if (json)
    printf("{\"model\": \"%s\", \"precision\": \"%s\", \"n\": %zu, \"D\": %zu, \"d\": %zu, \"steps\": %d, "
           "\"seconds_per_step\": %.6g, \"seconds_per_step_min\": %.6g, \"seconds_per_step_median\": %.6g, "
           "\"blas_seconds_per_step\": %.6g, \"blas_calls_per_step\": %ld, \"dgemm_flops_per_step\": %.6g, "
           "\"sgemm_flops_per_step\": %.6g, \"input_product_flops_per_step\": %.6g}\n",
           model, rc_precision_name(prec), data->n, data->D, d, steps, mean, best, median, blas, blas_calls / steps, df,
           sf, input);
  else
    printf("%-8s %s  step %8.4f s (best %.4f)  blas %8.4f s  share %5.1f%%  calls/step %ld  gemm %.3f + %.3f GFLOP "
           "(d + s)  %6.1f GFLOP/s at the best step\n",
           model, rc_precision_name(prec), mean, best, blas, 100.0 * blas / mean, blas_calls / steps, df / 1e9,
           sf / 1e9, (df + sf) / best / 1e9);
  fflush(stdout);
  free(t);
  free(z);
  rc_ts_model_free(m);
  return 0;
}

int main(int argc, char **argv) {
  size_t N = 20000, D = 512, d = 64, K = 10;
  int steps = 5, json = 0;
  if (argc > 1 && !strcmp(argv[1], "--json")) {
    json = 1;
    argv++;
    argc--;
  }
  if (argc == 6) {
    N = strtoul(argv[1], NULL, 10);
    D = strtoul(argv[2], NULL, 10);
    d = strtoul(argv[3], NULL, 10);
    K = strtoul(argv[4], NULL, 10);
    steps = atoi(argv[5]);
  }
  if ((argc != 1 && argc != 6) || steps < 1 || !N || !D || !d || K < 2) {
    fprintf(stderr, "usage: ts_bench [--json] [N D d K steps]\n");
    return 2;
  }
  rc_ts_data_spec s = rc_ts_data_spec_default();
  s.n_samples = N;
  s.input_dim = D;
  s.n_classes = K;
  s.frustration = 0.1;
  s.n_test = 0;
  rc_ts_data *data = NULL;
  rc_error err;
  if (rc_ts_data_generate(&s, &data, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  if (!json)
    printf("teacher-student gd step: N = %zu, D = %zu, d = %zu, K = %zu, f = 0.1 conflict, %d steps each\n", N, D, d, K,
         steps);
  int rc = 0;
  const char *models[] = {"minimal", "siam", "siam-sg"};
  for (int k = 0; k < 3 && !rc; k++) rc = bench(data, models[k], RC_PRECISION_F64, d, steps, json);
  for (int k = 0; k < 3 && !rc; k++) rc = bench(data, models[k], RC_PRECISION_F32, d, steps, json);
  rc_ts_data_free(data);
  return rc;
}
