/* head_gd.c: the gd step of a term model (docs/model.md section 3) as one fused
 * pass over the samples, z <- z + dt F(z) with F the vector field of
 * head_field.c (same terms, same stop-gradients, same rate scheme).
 *
 * For every term t with residual r = sign (H_x x_i - H_y y_c) (head_field.c)
 * the gradient of a sample is ax_t H_x^T sum_c A_ic r, of a label
 * ay_t H_y^T sum_i A_ic r, so everything a step needs is four accumulators:
 *   S1_i = sum over terms with H_x = P of ax_t sum_c A_ic r,  S0_i: the others,
 *   L1_c = sum over terms with H_y = P of ay_t sum_i A_ic r,  L0_c: the others;
 * then gx = S1 P + S0, gy = L1 P + L0, gP = S1^T X + L1^T Y.
 *
 * The samples are cut into blocks (at most RC_HEAD_BLOCKS, each at least
 * max(1024, 4 (K+1)) samples: a function of N and K only), each block into
 * tiles of RC_HEAD_TILE samples that stay in cache while the tile's
 *   P x (one GEMM), the residuals (S1, S0 of the tile; L1, L0 and the block's
 *   label sums), S1^T X into the block's gP sum (one GEMM), and the update
 *   x += dt f_i (S1 P + S0) (one GEMM)
 * are done; so x is read and written once per step. The blocks' label and
 * head sums are added in block order, then y and P are updated. BLAS runs
 * single-threaded inside the OpenMP region and every block's work is the same
 * whatever thread runs it: the step is bit-identical for any thread count. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "repcollapse/integrate.h"

#define RC_HEAD_TILE 256
#define RC_HEAD_BLOCKS 64
#define RC_HEAD_MIN_BLOCK 1024

void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

typedef struct {
  int hx, hy;   /* H_x = P, H_y = P */
  double sign;  /* r = sign (H_x x - H_y y) */
  double ax, ay; /* gradient coefficients w/M (0 under stop-gradient) */
} fused_term;

struct rc_head_gd {
  const rc_dataset *ds;
  size_t N, K, d, n_terms;
  fused_term term[RC_MAX_TERMS];
  int head, need_px, need_py, s1, s0, l1, l0;
  double dt, eta_head;
  double *fx; /* N: dt times the rate factor of each sample (-eta_x M / a_i or -eta_x) */
  double *fy; /* K: the same for labels */
  size_t block, n_blocks;
  double *lsum; /* n_blocks x (2 K d + d d): each block's L1, L0 and S1^T X */
  double *py;   /* K x d: P y */
  double *L1, *L0, *gP, *gy; /* K x d, K x d, d x d, K x d */
  int threads, threads_used;
};

static void *zalloc64(size_t n, const char *what, rc_error *err) {
  size_t bytes = (n * sizeof(double) + 63) / 64 * 64;
  void *p = aligned_alloc(64, bytes ? bytes : 64);
  if (!p) rc_error_set(err, RC_ENOMEM, "%s: cannot allocate %.3g GB", what, (double)bytes / 1e9);
  else memset(p, 0, bytes ? bytes : 64);
  return p;
}

void rc_head_gd_free(rc_head_gd *g) {
  if (!g) return;
  free(g->fx);
  free(g->fy);
  free(g->lsum);
  free(g->py);
  free(g->L1);
  free(g->L0);
  free(g->gP);
  free(g->gy);
  free(g);
}

rc_status rc_head_gd_alloc(const rc_dataset *ds, const rc_head_params *hp, size_t d, double dt, int threads,
                           rc_head_gd **out, rc_error *err) {
  *out = NULL;
  if (!rc_model_is_classic(&hp->model)) /* its fused kernel has the squared terms only */
    return rc_error_set(err, RC_EINVAL,
                        "the fused gd kernel runs the squared terms of section 3; model '%s' (cosine, uniformity or "
                        "infonce terms, or --sphere) runs through the engine",
                        hp->model.name);
  rc_head_gd *g = rc_calloc(1, sizeof *g, "gd plan", err);
  if (!g) return RC_ENOMEM;
  const size_t N = ds->n_samples, K = ds->n_classes;
  g->ds = ds;
  g->N = N;
  g->K = K;
  g->d = d;
  g->dt = dt;
  g->eta_head = hp->eta_head;
  g->threads = threads;
  g->head = rc_model_has_head(&hp->model);
  g->n_terms = hp->model.n_terms;
  const double M = ds->total;
  for (size_t t = 0; t < g->n_terms; t++) {
    const rc_term *tm = &hp->model.terms[t];
    const int src_x = tm->source == RC_BRANCH_X;
    fused_term *f = &g->term[t];
    f->hx = src_x ? tm->source_head : tm->target_head;
    f->hy = src_x ? tm->target_head : tm->source_head;
    f->sign = src_x ? 1.0 : -1.0;
    const double s = tm->weight / M;
    f->ax = src_x ? s : (tm->stop_gradient ? 0.0 : -s);
    f->ay = src_x ? (tm->stop_gradient ? 0.0 : -s) : s;
    g->need_px |= f->hx;
    g->need_py |= f->hy;
    if (f->ax != 0.0 && f->hx) g->s1 = 1;
    if (f->ax != 0.0 && !f->hx) g->s0 = 1;
    if (f->ay != 0.0 && f->hy) g->l1 = 1;
    if (f->ay != 0.0 && !f->hy) g->l0 = 1;
  }
  size_t block = (N + RC_HEAD_BLOCKS - 1) / RC_HEAD_BLOCKS;
  if (block < RC_HEAD_MIN_BLOCK) block = RC_HEAD_MIN_BLOCK;
  if (block < 4 * (K + 1)) block = 4 * (K + 1);
  g->block = block;
  g->n_blocks = N ? (N + block - 1) / block : 1;
  const int degree = hp->base.rates == RC_RATES_DEGREE;
  g->fx = zalloc64(N, "gd sample steps", err);
  g->fy = zalloc64(K, "gd label steps", err);
  g->lsum = zalloc64(g->n_blocks * (2 * K * d + d * d), "gd block sums", err);
  g->py = zalloc64(K * d, "gd plan", err);
  g->L1 = zalloc64(K * d, "gd plan", err);
  g->L0 = zalloc64(K * d, "gd plan", err);
  g->gP = zalloc64(d * d, "gd plan", err);
  g->gy = zalloc64(K * d, "gd plan", err);
  if (!g->fx || !g->fy || !g->lsum || !g->py || !g->L1 || !g->L0 || !g->gP || !g->gy) {
    rc_head_gd_free(g);
    return RC_ENOMEM;
  }
  for (size_t i = 0; i < N; i++) g->fx[i] = -dt * hp->base.eta_x * (degree ? M / ds->sample_weight[i] : 1.0);
  for (size_t c = 0; c < K; c++) g->fy[c] = -dt * hp->base.eta_y * (degree ? M / ds->class_weight[c] : 1.0);
  *out = g;
  return RC_OK;
}

/* r = sign (a - b) accumulated: dst += ca r, lab += cl r (either coefficient may be 0) */
static inline void residual(const double *restrict a, const double *restrict b, double sign, double *restrict dst,
                            double ca, double *restrict lab, double cl, size_t d) {
  const double pa = sign * ca, pl = sign * cl;
  if (ca != 0.0 && cl != 0.0) {
#pragma omp simd
    for (size_t q = 0; q < d; q++) {
      const double r = a[q] - b[q];
      dst[q] += pa * r;
      lab[q] += pl * r;
    }
  } else if (ca != 0.0) {
#pragma omp simd
    for (size_t q = 0; q < d; q++) dst[q] += pa * (a[q] - b[q]);
  } else if (cl != 0.0) {
#pragma omp simd
    for (size_t q = 0; q < d; q++) lab[q] += pl * (a[q] - b[q]);
  }
}

/* One block of samples: its tiles' P x, residuals, gP share and x update.
 * Returns 0, or NaN when an updated x is not finite. */
static double head_block(rc_head_gd *g, size_t b, double *z, double *px, double *s1, double *s0) {
  const rc_dataset *ds = g->ds;
  const size_t N = g->N, K = g->K, d = g->d;
  double *X = z, *Y = z + N * d;
  const double *P = g->head ? z + (N + K) * d : NULL;
  double *L1b = g->lsum + b * (2 * K * d + d * d), *L0b = L1b + K * d, *gPb = L0b + K * d;
  memset(L1b, 0, (2 * K * d + d * d) * sizeof(double));
  const size_t i_end = (b + 1) * g->block < N ? (b + 1) * g->block : N;
  double chk = 0.0;
  for (size_t i0 = b * g->block; i0 < i_end; i0 += RC_HEAD_TILE) {
    const size_t m = i0 + RC_HEAD_TILE < i_end ? RC_HEAD_TILE : i_end - i0;
    double *Xt = X + i0 * d;
    if (g->need_px)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)d, (int)d, 1.0, Xt, (int)d, P, (int)d, 0.0,
                  px, (int)d);
    if (g->s1) memset(s1, 0, m * d * sizeof(double));
    if (g->s0) memset(s0, 0, m * d * sizeof(double));
    for (size_t r = 0; r < m; r++) {
      const size_t i = i0 + r;
      const double *xi = Xt + r * d, *pxi = px + r * d;
      for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
        const double a = ds->counts[j];
        const size_t c = ds->labels[j];
        for (size_t t = 0; t < g->n_terms; t++) {
          const fused_term *f = &g->term[t];
          const double *xs = f->hx ? pxi : xi, *ys = f->hy ? g->py + c * d : Y + c * d;
          double *dst = f->hx ? s1 + r * d : s0 + r * d, *lab = (f->hy ? L1b : L0b) + c * d;
          residual(xs, ys, f->sign, dst, a * f->ax, lab, a * f->ay, d);
        }
      }
    }
    /* the head's gradient from this tile, with the old x */
    if (g->s1)
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)m, 1.0, s1, (int)d, Xt, (int)d, 1.0,
                  gPb, (int)d);
    /* x += dt f_i (S1 P + S0) */
    for (size_t r = 0; r < m; r++) {
      const double f = g->fx[i0 + r];
      if (g->s1)
        for (size_t q = 0; q < d; q++) s1[r * d + q] *= f;
      if (g->s0) {
        double *xr = Xt + r * d;
        const double *sr = s0 + r * d;
#pragma omp simd
        for (size_t q = 0; q < d; q++) xr[q] += f * sr[q];
      }
    }
    if (g->s1)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)d, (int)d, 1.0, s1, (int)d, P, (int)d, 1.0,
                  Xt, (int)d);
    if (g->s1 || g->s0) {
#pragma omp simd reduction(+ : chk)
      for (size_t q = 0; q < m * d; q++) chk += Xt[q] - Xt[q];
    }
  }
  return chk;
}

rc_status rc_head_gd_step(rc_head_gd *g, double *z, int *bad) {
  const size_t N = g->N, K = g->K, d = g->d, B = g->n_blocks, stride = 2 * K * d + d * d;
  double *Y = z + N * d, *P = g->head ? z + (N + K) * d : NULL;
  *bad = 0;
  if (g->need_py)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)K, (int)d, (int)d, 1.0, Y, (int)d, P, (int)d, 0.0, g->py,
                (int)d);
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  int failed = 0, nan = 0, used = 1;
  int nt = g->threads > 0 ? g->threads : omp_get_max_threads();
  if ((size_t)nt > B) nt = (int)B;
#pragma omp parallel num_threads(nt) reduction(| : failed, nan)
  {
#pragma omp single
    used = omp_get_num_threads();
    double *px = aligned_alloc(64, 3 * RC_HEAD_TILE * d * sizeof(double));
    failed |= px == NULL;
#pragma omp for schedule(static)
    for (size_t b = 0; b < B; b++)
      if (px) nan |= !(head_block(g, b, z, px, px + RC_HEAD_TILE * d, px + 2 * RC_HEAD_TILE * d) == 0.0);
    free(px);
  }
  openblas_set_num_threads(blas_threads);
  g->threads_used = used;
  if (failed) return RC_ENOMEM;
  /* the blocks' sums in block order */
  memset(g->L1, 0, K * d * sizeof(double));
  memset(g->L0, 0, K * d * sizeof(double));
  memset(g->gP, 0, d * d * sizeof(double));
  for (size_t b = 0; b < B; b++) {
    const double *src = g->lsum + b * stride;
    for (size_t q = 0; q < K * d; q++) g->L1[q] += src[q];
    for (size_t q = 0; q < K * d; q++) g->L0[q] += src[K * d + q];
    for (size_t q = 0; q < d * d; q++) g->gP[q] += src[2 * K * d + q];
  }
  /* labels and head with the old y and P: gP += L1^T Y, gy = L1 P + L0 */
  if (g->l1 && g->head)
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)K, 1.0, g->L1, (int)d, Y, (int)d, 1.0,
                g->gP, (int)d);
  memcpy(g->gy, g->L0, K * d * sizeof(double));
  if (g->l1 && g->head)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)K, (int)d, (int)d, 1.0, g->L1, (int)d, P, (int)d, 1.0,
                g->gy, (int)d);
  else if (g->l1)
    for (size_t q = 0; q < K * d; q++) g->gy[q] += g->L1[q];
  double chk = 0.0;
  for (size_t c = 0; c < K; c++)
    for (size_t q = 0; q < d; q++) {
      Y[c * d + q] += g->fy[c] * g->gy[c * d + q];
      chk += Y[c * d + q] - Y[c * d + q];
    }
  if (g->head)
    for (size_t q = 0; q < d * d; q++) {
      P[q] -= g->dt * g->eta_head * g->gP[q];
      chk += P[q] - P[q];
    }
  *bad = nan || !(chk == 0.0);
  return RC_OK;
}

double rc_head_gd_gemm_flops(const rc_head_gd *g) {
  const double N = (double)g->N, K = (double)g->K, d = (double)g->d;
  double f = 0.0;
  if (g->need_px) f += 2.0 * N * d * d;
  if (g->s1) f += 4.0 * N * d * d; /* S1^T X and S1 P */
  if (g->need_py) f += 2.0 * K * d * d;
  if (g->l1 && g->head) f += 4.0 * K * d * d;
  return f;
}

double rc_head_gd_bytes_per_step(const rc_head_gd *g) {
  const rc_dataset *ds = g->ds;
  const double N = (double)g->N, K = (double)g->K, d = (double)g->d, nnz = (double)ds->nnz;
  /* x read and written once; the observations (row offsets, labels, counts), the sample factors;
   * y and P read and written, the block sums written and read */
  return 16.0 * N * d + 8.0 * (N + 1) + 12.0 * nnz + 8.0 * N + 16.0 * (K * d + d * d) +
         16.0 * (double)g->n_blocks * (2 * K * d + d * d);
}

int rc_head_gd_threads_used(const rc_head_gd *g) { return g->threads_used; }

size_t rc_head_gd_tile(void) { return RC_HEAD_TILE; }
