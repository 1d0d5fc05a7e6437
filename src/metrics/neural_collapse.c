/* neural_collapse.c: the neural-collapse metrics and rankme of docs/model.md
 * section 6.4, of the clean samples' sample-side embeddings h_i (the rows of
 * the state's x: x_i, or P x_i with a head, as the caller provides).
 *
 * With mu_c the class means, mu_G the mean of all clean samples, M~ the K x d
 * matrix of rows mu_c - mu_G and M~ = U S V^T its SVD, the pseudo-inverse of
 * Sigma_B = M~^T M~ / K on the span of M~ (singular values above 1e-10 s_max)
 * is K sum_k v_k v_k^T / s_k^2, so
 *     nc1 = Tr(Sigma_W Sigma_B^+) / K = (1/n) sum_k sum_i ((h_i - mu_c(i)) . v_k)^2 / s_k^2,
 * n the number of clean samples: Sigma_W enters only through its projection
 * onto the r <= K - 1 kept directions.
 *
 * Passes over the samples (rc_nc_metrics):
 *   1. class sums and the uncentred Gram H^T H (rankme), in a fixed number of
 *      blocks of chunks (NC_BLOCKS, whatever the thread count), each summed in
 *      sample order, the blocks added in order. A class's sum is taken about
 *      its first clean sample, mu_c = h_first + (1/n_c) sum (h_i - h_first), so
 *      a class whose samples coincide has residuals exactly 0 (nc1 = 0);
 *   2. (nc1) the residuals' projections onto the kept v_k, per chunk (2 n d r flops), or, when
 *      2 r > d, their d x d scatter in pass 1's blocks (n d^2 flops) projected afterwards;
 *   3. (nc4) each sample's nearest class mean, by the nearest-label search of
 *      metrics.c (candidates from a GEMM, rechecked with exact differences,
 *      a tie counted as a disagreement).
 * Then K x d (the SVD of M~, LAPACKE dgesdd) and d x d (the eigenvalues of
 * H^T H, dsyevd) dense work. OpenBLAS runs single-threaded throughout (the
 * parallelism is OpenMP's over blocks and chunks): every value is
 * bit-identical for any thread count.
 *
 * rankme: exp of the entropy of p_k = s_k / sum s + 1e-7, s_k the singular
 * values of the uncentred N x d matrix H of all samples' sample-side
 * embeddings, taken as the square roots of the eigenvalues of H^T H (d x d,
 * or H H^T when N < d). Singular values below about sqrt(d u) s_max
 * (u = 2^-53, ~1e-7 s_max) are not resolved that way; they are of the size of
 * the definition's 1e-7 and move rankme by at most ~1e-5 of itself (a fully
 * collapsed H), by round-off otherwise.
 *
 * Null: every nc column for K < 2, a class without clean samples, or
 * Tr Sigma_B <= 1e-24 Tr Sigma_B(0) (rc_metrics_ref.trace_b0); the two
 * angular nc2 columns also for K = 2 (the two centred means are antiparallel
 * by construction, n_1 (mu_1 - mu_G) + n_2 (mu_2 - mu_G) = 0: both would be 0
 * whatever the geometry) and when a centred class mean has no direction
 * (|mu_c - mu_G| <= 1e-12 |M~|_F); nc3 also once the labels have collapsed
 * (|Y~|_F^2 below 1e-24 times its initial value, as label_effective_rank);
 * rankme when every embedding is 0 or there are no samples. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/nearest.h"
#include "repcollapse/metrics.h"

/* pass 1's blocks of chunks: a fixed number, so that the sums do not depend on the threads */
#define NC_BLOCKS 16
/* the blocks' accumulators stay below this many bytes (fewer blocks for large K d or d^2) */
#define NC_BLOCK_BYTES (256.0 * 1024 * 1024)

static int has(unsigned mask, int m) { return (mask >> m) & 1u; }

static void set(rc_metrics_row *row, int m, double v, int valid) {
  row->value[m] = valid ? v : NAN;
  row->valid[m] = valid;
}

/* The first clean sample of each class (N when none) and the clean counts. */
static void class_firsts(const rc_dataset *ds, size_t *first, double *n) {
  const size_t N = ds->n_samples, K = ds->n_classes;
  for (size_t c = 0; c < K; c++) {
    first[c] = N;
    n[c] = 0.0;
  }
  for (size_t i = 0; i < N; i++) {
    const int c = ds->clean_label[i];
    if (c < 0) continue;
    if (first[c] == N) first[c] = i;
    n[c] += 1.0;
  }
}

/* Pass 1: mu (K x d, when wanted) the class means about each class's first
 * clean sample, and gram (d x d upper triangle, when wanted) H^T H over every
 * sample. Returns nonzero when out of memory. */
static int pass_means_gram(const rc_dataset *ds, const double *x, size_t d, const size_t *first, const double *n,
                           double *mu, double *gram, int nt) {
  const size_t N = ds->n_samples, K = ds->n_classes;
  const size_t nch = (N + RC_METRICS_CHUNK - 1) / RC_METRICS_CHUNK;
  const size_t per = (mu ? K * d : 0) + (gram ? d * d : 0);
  if (nch == 0 || per == 0) return 0;
  size_t S = nch < NC_BLOCKS ? nch : NC_BLOCKS;
  const double cap = NC_BLOCK_BYTES / (8.0 * (double)per);
  if ((double)S > cap) S = cap >= 1.0 ? (size_t)cap : 1;
  double *acc = calloc(S * per, sizeof *acc);
  if (!acc) return 1;
  if ((size_t)nt > S) nt = (int)S;
  if (nt < 1) nt = 1;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (size_t b = 0; b < S; b++) {
    double *sums = acc + b * per, *g = sums + (mu ? K * d : 0);
    const size_t c0 = b * nch / S, c1 = (b + 1) * nch / S;
    for (size_t ch = c0; ch < c1; ch++) {
      const size_t i0 = ch * RC_METRICS_CHUNK, i1 = i0 + RC_METRICS_CHUNK < N ? i0 + RC_METRICS_CHUNK : N;
      if (mu)
        for (size_t i = i0; i < i1; i++) {
          const int c = ds->clean_label[i];
          if (c < 0) continue;
          const double *xi = x + i * d, *xf = x + first[c] * d;
          double *sc = sums + (size_t)c * d;
          for (size_t q = 0; q < d; q++) sc[q] += xi[q] - xf[q];
        }
      if (gram)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)(i1 - i0), 1.0, x + i0 * d, (int)d, 1.0, g,
                    (int)d);
    }
  }
  if (mu) memset(mu, 0, K * d * sizeof *mu);
  if (gram) memset(gram, 0, d * d * sizeof *gram);
  for (size_t b = 0; b < S; b++) { /* in block order, whatever the threads */
    const double *sums = acc + b * per, *g = sums + (mu ? K * d : 0);
    if (mu)
      for (size_t q = 0; q < K * d; q++) mu[q] += sums[q];
    if (gram)
      for (size_t q = 0; q < d * d; q++) gram[q] += g[q];
  }
  free(acc);
  if (mu)
    for (size_t c = 0; c < K; c++)
      for (size_t q = 0; q < d; q++)
        mu[c * d + q] = n[c] > 0 ? x[first[c] * d + q] + mu[c * d + q] / n[c] : NAN;
  return 0;
}

/* The class geometry of section 6.4 from the class means: nc2, nc3 into row,
 * and (nc1) the kept right singular vectors V (r x d) of M~ with weights
 * w_k = 1 / s_k^2. Returns 1 when the nc metrics are defined (then *Vout and
 * *wout are allocated when nc1 is wanted), 0 when null, -1 when out of memory. */
static int geometry(size_t K, size_t d, const double *n, const double *mu, const double *Y, const rc_metrics_ref *ref,
                    unsigned mask, rc_metrics_row *row, double **Vout, double **wout, size_t *rout) {
  *Vout = *wout = NULL;
  *rout = 0;
  if (K < 2) return 0;
  double n_clean = 0.0;
  for (size_t c = 0; c < K; c++) {
    if (!(n[c] > 0)) return 0;
    n_clean += n[c];
  }
  double *Mt = malloc(K * d * sizeof *Mt), *muG = calloc(d, sizeof *muG), *a = malloc(K * sizeof *a);
  if (!Mt || !muG || !a) {
    free(Mt);
    free(muG);
    free(a);
    return -1;
  }
  for (size_t c = 0; c < K; c++)
    for (size_t q = 0; q < d; q++) muG[q] += n[c] * mu[c * d + q];
  for (size_t q = 0; q < d; q++) muG[q] /= n_clean;
  double fro2 = 0.0;
  for (size_t c = 0; c < K; c++) {
    double s2 = 0.0;
    for (size_t q = 0; q < d; q++) {
      const double v = mu[c * d + q] - muG[q];
      Mt[c * d + q] = v;
      s2 += v * v;
    }
    a[c] = sqrt(s2);
    fro2 += s2;
  }
  const double trB = fro2 / (double)K;
  int status = 1;
  if (!isfinite(trB)) { /* an overflowing state: defined, non-finite (the run stops on it) */
    for (int m = RC_M_NC1; m <= RC_M_NC4; m++)
      if (has(mask, m)) set(row, m, trB, 1);
    status = 0;
  } else if (!(trB > 1e-24 * ref->trace_b0)) {
    status = 0;
  }
  if (status == 1) {
    const double fro = sqrt(fro2);
    /* nc2_equinorm: population std over classes of |mu_c - mu_G|, over their mean */
    double am = 0.0, av = 0.0, amin = INFINITY;
    for (size_t c = 0; c < K; c++) {
      am += a[c] / (double)K;
      if (a[c] < amin) amin = a[c];
    }
    for (size_t c = 0; c < K; c++) av += (a[c] - am) * (a[c] - am) / (double)K;
    if (has(mask, RC_M_NC2_EQUINORM)) set(row, RC_M_NC2_EQUINORM, sqrt(av) / am, 1);
    /* the angular ones: cosines of the K(K-1)/2 pairs */
    if (K >= 3 && amin > 1e-12 * fro && (has(mask, RC_M_NC2_EQUIANGULAR) || has(mask, RC_M_NC2_COS_STD))) {
      const size_t np = K * (K - 1) / 2;
      const double shift = 1.0 / (double)(K - 1);
      double *cs = malloc(np * sizeof *cs), eq = 0.0, cm = 0.0, cv = 0.0;
      if (!cs) status = -1;
      size_t pq = 0;
      for (size_t c = 0; cs && c < K; c++)
        for (size_t e = c + 1; e < K; e++) {
          double dot = 0.0;
          for (size_t q = 0; q < d; q++) dot += Mt[c * d + q] * Mt[e * d + q];
          cs[pq] = dot / (a[c] * a[e]);
          eq += fabs(cs[pq] + shift);
          cm += cs[pq];
          pq++;
        }
      cm /= (double)np;
      for (size_t k = 0; cs && k < np; k++) cv += (cs[k] - cm) * (cs[k] - cm);
      free(cs);
      if (status == 1 && has(mask, RC_M_NC2_EQUIANGULAR)) set(row, RC_M_NC2_EQUIANGULAR, eq / (double)np, 1);
      if (status == 1 && has(mask, RC_M_NC2_COS_STD)) set(row, RC_M_NC2_COS_STD, sqrt(cv / (double)np), 1);
    }
    /* nc3: | Y~/|Y~|_F - M~/|M~|_F |_F^2, Y~ the labels about their mean */
    if (has(mask, RC_M_NC3)) {
      double *ym = calloc(d, sizeof *ym);
      if (!ym) status = -1;
      else {
        for (size_t c = 0; c < K; c++)
          for (size_t q = 0; q < d; q++) ym[q] += Y[c * d + q] / (double)K;
        double y2 = 0.0;
        for (size_t c = 0; c < K; c++)
          for (size_t q = 0; q < d; q++) y2 += (Y[c * d + q] - ym[q]) * (Y[c * d + q] - ym[q]);
        if (y2 >= 1e-24 * ref->trace0 && y2 > 0) {
          const double yn = sqrt(y2);
          double v = 0.0;
          for (size_t c = 0; c < K; c++)
            for (size_t q = 0; q < d; q++) {
              const double r = (Y[c * d + q] - ym[q]) / yn - Mt[c * d + q] / fro;
              v += r * r;
            }
          set(row, RC_M_NC3, v, 1);
        }
        free(ym);
      }
    }
    /* nc1's directions: the SVD of M~ */
    if (status == 1 && has(mask, RC_M_NC1)) {
      const size_t mn = K < d ? K : d;
      double *s = malloc(mn * sizeof *s), *U = malloc(K * mn * sizeof *U), *VT = malloc(mn * d * sizeof *VT);
      if (!s || !U || !VT) status = -1;
      else {
        lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)K, (lapack_int)d, Mt, (lapack_int)d, s, U,
                                         (lapack_int)mn, VT, (lapack_int)d);
        if (info != 0) {
          set(row, RC_M_NC1, NAN, 1); /* no SVD of a finite K x d matrix: report it as a non-finite value */
        } else {
          size_t r = 0;
          while (r < mn && s[r] > 1e-10 * s[0]) r++;
          double *w = malloc((r ? r : 1) * sizeof *w);
          if (!w) status = -1;
          else {
            for (size_t k = 0; k < r; k++) w[k] = 1.0 / (s[k] * s[k]);
            *Vout = VT; /* its first r rows */
            VT = NULL;
            *wout = w;
            *rout = r;
          }
        }
      }
      free(s);
      free(U);
      free(VT);
    }
  }
  free(Mt);
  free(muG);
  free(a);
  return status;
}

/* rankme from the eigenvalues of a g x g Gram matrix (upper triangle; destroyed), the
 * count = min(N, d) largest being the squared singular values */
static void rankme_from_gram(double *G, size_t g, size_t count, rc_metrics_row *row) {
  double *ev = malloc(g * sizeof *ev);
  if (!ev) return;
  lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)g, G, (lapack_int)g, ev);
  if (info != 0) {
    set(row, RC_M_RANKME, NAN, 1); /* non-finite embeddings: the run stops on it */
    free(ev);
    return;
  }
  if (count > g) count = g;
  double sum = 0.0;
  for (size_t k = g - count; k < g; k++) { /* ascending: the largest count */
    ev[k] = sqrt(ev[k] > 0 ? ev[k] : 0.0);
    sum += ev[k];
  }
  if (sum > 0) {
    double h = 0.0;
    for (size_t k = g - count; k < g; k++) {
      const double p = ev[k] / sum + 1e-7;
      h -= p * log(p);
    }
    set(row, RC_M_RANKME, exp(h), 1);
  } else if (!isfinite(sum)) {
    set(row, RC_M_RANKME, sum, 1);
  }
  free(ev);
}

/* nc1 from the sum-scatter's projections: (1/n) sum_k w_k q_k */
static double nc1_value(const double *q, const double *w, size_t r, double n_clean) {
  double v = 0.0;
  for (size_t k = 0; k < r; k++) v += w[k] * q[k];
  return v / n_clean;
}

/* q_k = v_k^T SW v_k for the r rows v_k of V (SW symmetric, its upper triangle read) */
static int project_scatter(const double *SW, const double *V, size_t r, size_t d, double *q) {
  double *t = malloc(d * sizeof *t);
  if (!t) return 1;
  for (size_t k = 0; k < r; k++) {
    cblas_dsymv(CblasRowMajor, CblasUpper, (int)d, 1.0, SW, (int)d, V + k * d, 1, 0.0, t, 1);
    q[k] = cblas_ddot((int)d, V + k * d, 1, t, 1);
  }
  free(t);
  return 0;
}

/* The clean samples' within-class scatter sum_i (h_i - mu_c(i))(h_i - mu_c(i))^T (d x d, upper
 * triangle) in pass 1's blocks (a fixed number, added in order). Returns nonzero when out of memory. */
static int pass_scatter(const rc_dataset *ds, const double *x, size_t d, const double *mu, int nt, double *SW) {
  const size_t N = ds->n_samples, nch = (N + RC_METRICS_CHUNK - 1) / RC_METRICS_CHUNK;
  memset(SW, 0, d * d * sizeof *SW);
  if (nch == 0) return 0;
  size_t S = nch < NC_BLOCKS ? nch : NC_BLOCKS;
  const double cap = NC_BLOCK_BYTES / (8.0 * (double)(d * d));
  if ((double)S > cap) S = cap >= 1.0 ? (size_t)cap : 1;
  double *acc = calloc(S * d * d, sizeof *acc);
  if (!acc) return 1;
  if ((size_t)nt > S) nt = (int)S;
  if (nt < 1) nt = 1;
  int failed = 0;
#pragma omp parallel num_threads(nt) reduction(| : failed)
  {
    double *R = malloc(RC_METRICS_CHUNK * d * sizeof *R);
    const int mine = !R;
#pragma omp for schedule(static)
    for (size_t b = 0; b < S; b++) {
      if (mine) continue;
      double *g = acc + b * d * d;
      for (size_t ch = b * nch / S; ch < (b + 1) * nch / S; ch++) {
        const size_t i0 = ch * RC_METRICS_CHUNK, i1 = i0 + RC_METRICS_CHUNK < N ? i0 + RC_METRICS_CHUNK : N;
        size_t m = 0;
        for (size_t i = i0; i < i1; i++) {
          const int c = ds->clean_label[i];
          if (c < 0) continue;
          for (size_t q = 0; q < d; q++) R[m * d + q] = x[i * d + q] - mu[(size_t)c * d + q];
          m++;
        }
        if (m) cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, R, (int)d, 1.0, g, (int)d);
      }
    }
    failed |= mine;
    free(R);
  }
  for (size_t b = 0; !failed && b < S; b++)
    for (size_t q = 0; q < d * d; q++) SW[q] += acc[b * d * d + q];
  free(acc);
  return failed;
}

int rc_nc_metrics(const rc_dataset *ds, const rc_state *s, const rc_metrics_ref *ref, unsigned mask, int threads,
                  const int *nearest_label, rc_metrics_row *row) {
  const size_t N = ds->n_samples, K = ds->n_classes, d = s->d;
  int want_nc = 0;
  for (int m = RC_M_NC1; m <= RC_M_NC4; m++) want_nc |= has(mask, m);
  const int want_rank = has(mask, RC_M_RANKME) && N > 0 && d > 0;
  want_nc = want_nc && K >= 2 && N > 0 && d > 0;
  if (!want_nc && !want_rank) return 0;
  const int nt = threads > 0 ? threads : omp_get_max_threads();
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  int fail = 0;
  size_t *first = want_nc ? malloc(K * sizeof *first) : NULL;
  double *n = want_nc ? malloc(K * sizeof *n) : NULL, *mu = want_nc ? malloc(K * d * sizeof *mu) : NULL;
  const int gram_d = want_rank && d <= N; /* H^T H, in pass 1; else H H^T (N < d) below */
  double *gram = want_rank ? malloc((gram_d ? d * d : N * N) * sizeof *gram) : NULL;
  if ((want_nc && (!first || !n || !mu)) || (want_rank && !gram)) fail = 1;
  if (!fail && want_nc) class_firsts(ds, first, n);
  if (!fail) fail = pass_means_gram(ds, s->x, d, first, n, want_nc ? mu : NULL, gram_d ? gram : NULL, nt);
  if (!fail && want_rank) {
    if (!gram_d) {
      memset(gram, 0, N * N * sizeof *gram);
      cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)N, (int)d, 1.0, s->x, (int)d, 0.0, gram, (int)N);
    }
    rankme_from_gram(gram, gram_d ? d : N, N < d ? N : d, row);
  }
  double *V = NULL, *w = NULL;
  size_t r = 0;
  int defined = 0;
  if (!fail && want_nc) {
    defined = geometry(K, d, n, mu, s->y, ref, mask, row, &V, &w, &r);
    if (defined < 0) fail = 1;
  }
  double n_clean = 0.0;
  for (size_t c = 0; want_nc && !fail && c < K; c++) n_clean += n[c];
  /* pass 2: nc1 from the residuals' projections onto the kept directions (2 n d r flops), or, when that
   * costs more than the d x d within-class scatter (2 r > d: n d^2 flops), from that scatter */
  if (!fail && defined == 1 && has(mask, RC_M_NC1) && V && 2 * r > d) {
    double *SW = malloc(d * d * sizeof *SW), *q = calloc(r, sizeof *q);
    if (!SW || !q || pass_scatter(ds, s->x, d, mu, nt, SW) || project_scatter(SW, V, r, d, q)) fail = 1;
    else set(row, RC_M_NC1, nc1_value(q, w, r, n_clean), 1);
    free(SW);
    free(q);
  } else if (!fail && defined == 1 && has(mask, RC_M_NC1) && V) {
    const size_t nch = (N + RC_METRICS_CHUNK - 1) / RC_METRICS_CHUNK;
    double *parts = calloc(nch * (r ? r : 1), sizeof *parts);
    int failed = !parts;
    int nt2 = (size_t)nt > nch ? (int)nch : nt;
    if (nt2 < 1) nt2 = 1;
    if (!failed && r > 0) {
#pragma omp parallel num_threads(nt2) reduction(| : failed)
      {
        double *R = malloc(RC_METRICS_CHUNK * d * sizeof *R), *Z = malloc(RC_METRICS_CHUNK * r * sizeof *Z);
        const int mine = !R || !Z;
#pragma omp for schedule(static)
        for (size_t ch = 0; ch < nch; ch++) {
          if (mine) continue;
          const size_t i0 = ch * RC_METRICS_CHUNK, i1 = i0 + RC_METRICS_CHUNK < N ? i0 + RC_METRICS_CHUNK : N;
          size_t m = 0;
          for (size_t i = i0; i < i1; i++) {
            const int c = ds->clean_label[i];
            if (c < 0) continue;
            for (size_t q = 0; q < d; q++) R[m * d + q] = s->x[i * d + q] - mu[(size_t)c * d + q];
            m++;
          }
          if (m == 0) continue;
          cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)r, (int)d, 1.0, R, (int)d, V, (int)d, 0.0,
                      Z, (int)r);
          double *pk = parts + ch * r;
          for (size_t i = 0; i < m; i++)
            for (size_t k = 0; k < r; k++) pk[k] += Z[i * r + k] * Z[i * r + k];
        }
        failed |= mine;
        free(R);
        free(Z);
      }
    }
    if (!failed) {
      double *q = calloc(r ? r : 1, sizeof *q);
      if (!q) failed = 1;
      else {
        for (size_t ch = 0; ch < nch; ch++) /* in chunk order */
          for (size_t k = 0; k < r; k++) q[k] += parts[ch * r + k];
        set(row, RC_M_NC1, nc1_value(q, w, r, n_clean), 1);
        free(q);
      }
    }
    free(parts);
    fail |= failed;
  }
  /* pass 3: nc4, each clean sample's nearest class mean against its nearest label */
  if (!fail && defined == 1 && has(mask, RC_M_NC4) && nearest_label) {
    int *nm = malloc(N * sizeof *nm);
    if (!nm || rc_metrics_nearest_centres(ds, s, mu, nt, nm)) fail = 1;
    else {
      size_t differ = 0;
      for (size_t i = 0; i < N; i++)
        if (ds->clean_label[i] >= 0 && (nm[i] < 0 || nm[i] != nearest_label[i])) differ++;
      set(row, RC_M_NC4, (double)differ / n_clean, 1);
    }
    free(nm);
  }
  openblas_set_num_threads(blas_threads);
  free(first);
  free(n);
  free(mu);
  free(gram);
  free(V);
  free(w);
  if (fail)
    for (int m = RC_M_FIRST_NC; m < RC_N_METRICS; m++) set(row, m, NAN, 0);
  return fail;
}

void rc_nc_metrics_moments(size_t K, size_t d, const double *n, const double *mu, const double *SW, const double *HtH,
                           size_t n_all, const double *Y, const rc_metrics_ref *ref, unsigned mask,
                           rc_metrics_row *row) {
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  double *V = NULL, *w = NULL;
  size_t r = 0;
  int want_nc = 0;
  for (int m = RC_M_NC1; m <= RC_M_NC3; m++) want_nc |= has(mask, m);
  const int defined = want_nc && d > 0 ? geometry(K, d, n, mu, Y, ref, mask & ~(1u << RC_M_NC4), row, &V, &w, &r) : 0;
  if (defined == 1 && has(mask, RC_M_NC1) && V) {
    double n_clean = 0.0, *q = calloc(r ? r : 1, sizeof *q);
    for (size_t c = 0; c < K; c++) n_clean += n[c];
    if (q && !project_scatter(SW, V, r, d, q)) set(row, RC_M_NC1, nc1_value(q, w, r, n_clean), 1);
    free(q);
  }
  if (has(mask, RC_M_RANKME) && n_all > 0 && d > 0) {
    double *G = malloc(d * d * sizeof *G);
    if (G) {
      memcpy(G, HtH, d * d * sizeof *G);
      rankme_from_gram(G, d, n_all < d ? n_all : d, row);
      free(G);
    }
  }
  set(row, RC_M_NC4, NAN, 0); /* needs each sample's nearest class mean and label */
  openblas_set_num_threads(blas_threads);
  free(V);
  free(w);
}

rc_metrics_ref rc_metrics_reference_data(const rc_dataset *ds, const rc_state *init, const double *P) {
  rc_metrics_ref r = rc_metrics_reference(init);
  const size_t N = ds->n_samples, K = ds->n_classes, d = init->d;
  if (K < 2 || N == 0 || d == 0) return r;
  double *h = NULL;
  const double *x = init->x;
  if (P) {
    h = malloc(N * d * sizeof *h);
    if (!h) return r;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)d, (int)d, 1.0, init->x, (int)d, P, (int)d, 0.0,
                h, (int)d);
    x = h;
  }
  size_t *first = malloc(K * sizeof *first);
  double *n = malloc(K * sizeof *n), *mu = malloc(K * d * sizeof *mu), *muG = calloc(d, sizeof *muG);
  if (first && n && mu && muG) {
    class_firsts(ds, first, n);
    int all = 1;
    double n_clean = 0.0;
    for (size_t c = 0; c < K; c++) {
      all &= n[c] > 0;
      n_clean += n[c];
    }
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    if (all && !pass_means_gram(ds, x, d, first, n, mu, NULL, 1)) {
      for (size_t c = 0; c < K; c++)
        for (size_t q = 0; q < d; q++) muG[q] += n[c] * mu[c * d + q];
      double fro2 = 0.0;
      for (size_t q = 0; q < d; q++) muG[q] /= n_clean;
      for (size_t c = 0; c < K; c++)
        for (size_t q = 0; q < d; q++) fro2 += (mu[c * d + q] - muG[q]) * (mu[c * d + q] - muG[q]);
      r.trace_b0 = fro2 / (double)K;
    }
    openblas_set_num_threads(blas_threads);
  }
  free(first);
  free(n);
  free(mu);
  free(muG);
  free(h);
  return r;
}
