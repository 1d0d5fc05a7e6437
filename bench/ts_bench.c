/* ts_bench.c: time full-batch gd steps of the teacher-student model (MODEL.md
 * section 4) and the share of that time spent inside BLAS calls. The BLAS
 * entry points the library uses are wrapped at link time (bench/CMakeLists.txt:
 * -Wl,--wrap=cblas_dgemm ...), so every call made by the library, including
 * those inside the term gradients, is timed without touching the library.
 *
 *     ts_bench [N D d K steps]      (default 20000 512 64 10 5)
 * prints one line per (model, precision): seconds per step, BLAS seconds per
 * step, the BLAS share, and the GFLOP/s of the two products with the inputs.
 * TS_BENCH_TRACE=1 prints every dgemm call (shape, seconds) on stderr. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repcollapse/teacher.h"

static double blas_seconds;
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

static int bench(const rc_ts_data *data, const char *model, rc_precision prec, size_t d, int steps) {
  rc_error err;
  rc_ts_params p = {rc_head_params_default(), 1.0, prec};
  if (rc_model_preset(model, &p.hp.model, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  rc_ts_model *m = NULL;
  if (rc_ts_model_alloc(data, &p, d, &m, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  double *z = calloc(rc_ts_state_size(m), sizeof *z);
  rc_init_params ip = rc_init_params_default();
  if (!z || rc_ts_init_state(m, &ip, RC_HEAD_IDENTITY, 1.0, z, &err)) return fprintf(stderr, "init failed\n"), 1;
  const double dt = 0.05;
  if (rc_ts_gd_step(m, z, dt, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), 1; /* warm-up */
  blas_seconds = 0;
  blas_calls = 0;
  const double t0 = now();
  for (int s = 0; s < steps; s++)
    if (rc_ts_gd_step(m, z, dt, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  const double total = (now() - t0) / steps, blas = blas_seconds / steps;
  const double flops = 4.0 * (double)data->n * (double)data->D * (double)d; /* U W^T and G^T U */
  printf("%-8s %s  step %8.4f s  blas %8.4f s  share %5.1f%%  calls/step %ld  input products %6.1f GFLOP/s (if all BLAS time were theirs)\n",
         model, rc_precision_name(prec), total, blas, 100.0 * blas / total, blas_calls / steps, flops / blas / 1e9);
  free(z);
  rc_ts_model_free(m);
  return 0;
}

int main(int argc, char **argv) {
  size_t N = 20000, D = 512, d = 64, K = 10;
  int steps = 5;
  if (argc == 6) {
    N = strtoul(argv[1], NULL, 10);
    D = strtoul(argv[2], NULL, 10);
    d = strtoul(argv[3], NULL, 10);
    K = strtoul(argv[4], NULL, 10);
    steps = atoi(argv[5]);
  } else if (argc != 1) {
    fprintf(stderr, "usage: ts_bench [N D d K steps]\n");
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
  printf("teacher-student gd step: N = %zu, D = %zu, d = %zu, K = %zu, f = 0.1 conflict, %d steps each\n", N, D, d, K,
         steps);
  int rc = 0;
  const char *models[] = {"minimal", "siam", "siam-sg"};
  for (int k = 0; k < 3 && !rc; k++) rc = bench(data, models[k], RC_PRECISION_F64, d, steps);
  for (int k = 0; k < 3 && !rc; k++) rc = bench(data, models[k], RC_PRECISION_F32, d, steps);
  rc_ts_data_free(data);
  return rc;
}
