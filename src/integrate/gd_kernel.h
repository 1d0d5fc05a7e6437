/* gd_kernel.h (private): the gd step for one floating-point type, included by
 * gd.c once per precision with REAL (double or float) and SFX (a name suffix)
 * defined. One step of z <- z + dt F(z) (docs/model.md section 2) is
 *   pass 1, over samples in fixed chunks: r_ic = A_ic (x_i - y_c) with the old
 *     x and y; chunk accumulators acc_c += r_ic; x_i -= dt s_i sum_c r_ic;
 *   pass 2, over labels: acc_c = sum of the chunks' acc_c in chunk order;
 *     y_c += dt s_c acc_c.
 * A clean sample (one label c, count w) stores its label, w and h = dt s_i w,
 * so x_i -= h (x_i - y_c). A chunk sums its label accumulators in the working
 * precision (a chunk holds at most max(1024, N/128, 4(K+1)) samples); the
 * chunks are added in double.
 * Non-finite values are caught by summing v - v (0 for a finite v, NaN
 * otherwise), which cannot overflow. */
#define GD_CAT2(a, b) a##_##b
#define GD_CAT(a, b) GD_CAT2(a, b)
#define GD_NAME(name) GD_CAT(name, SFX)

static inline REAL GD_NAME(clean_row)(REAL *restrict x, const REAL *restrict y, REAL *restrict acc, REAL w,
                                      REAL h, size_t d) {
  REAL chk = 0;
#pragma omp simd reduction(+ : chk)
  for (size_t k = 0; k < d; k++) {
    const REAL r = x[k] - y[k];
    acc[k] += w * r;
    const REAL v = x[k] - h * r;
    x[k] = v;
    chk += v - v;
  }
  return chk;
}

/* a sample with several labels: the row's entries j in [a, b) of ds */
static inline REAL GD_NAME(multi_row)(REAL *restrict x, const REAL *restrict y, REAL *restrict acc,
                                      REAL *restrict g, const rc_dataset *ds, size_t a, size_t b, REAL h,
                                      size_t d) {
  for (size_t k = 0; k < d; k++) g[k] = 0.0;
  for (size_t j = a; j < b; j++) {
    const REAL w = (REAL)ds->counts[j];
    const REAL *yc = y + (size_t)ds->labels[j] * d;
    REAL *ac = acc + (size_t)ds->labels[j] * d;
    for (size_t k = 0; k < d; k++) {
      const REAL r = w * (x[k] - yc[k]);
      ac[k] += r;
      g[k] += r;
    }
  }
  REAL chk = 0;
  for (size_t k = 0; k < d; k++) {
    const REAL v = x[k] - h * g[k];
    x[k] = v;
    chk += v - v;
  }
  return chk;
}

/* Pass 1 over chunk ch of the samples; returns 0, or NaN if a value became
 * non-finite. Compiled for several instruction sets (GD_CLONES, gd.c): the
 * pass is bound by memory only when the loads and stores are wide. */
GD_CLONES static REAL GD_NAME(gd_chunk)(rc_gd *g, size_t ch) {
  const size_t N = g->n, K = g->k, d = g->d;
  REAL *const x = g->z, *const y = (REAL *)g->z + N * d;
  const REAL *const w = g->w, *const h = g->h;
  const uint32_t *const lab = g->label;
  const rc_dataset *const ds = g->ds;
  REAL *acc = (REAL *)g->part + ch * (K + 1) * d, *scratch = acc + K * d;
  memset(acc, 0, K * d * sizeof *acc);
  const size_t i1 = (ch + 1) * g->chunk < N ? (ch + 1) * g->chunk : N;
  REAL chk = 0;
  for (size_t i = ch * g->chunk; i < i1; i++) {
    const uint32_t c = lab[i];
    if (c != GD_MULTI)
      chk += GD_NAME(clean_row)(x + i * d, y + (size_t)c * d, acc + (size_t)c * d, w[i], h[i], d);
    else
      chk += GD_NAME(multi_row)(x + i * d, y, acc, scratch, ds, ds->row_ptr[i], ds->row_ptr[i + 1], h[i], d);
  }
  return chk;
}

/* One step; returns non-zero if a value became NaN or Inf. */
static int GD_NAME(gd_step)(rc_gd *g) {
  const size_t N = g->n, K = g->k, d = g->d, C = g->n_chunks, stride = (K + 1) * d;
  REAL *const y = (REAL *)g->z + N * d;
  const REAL *const part = g->part;
  double *const sum_all = g->sum;
  const double *const hy = g->hy;
  int bad = 0, used = 1;
#pragma omp parallel num_threads(rc_thread_count(g->threads)) reduction(| : bad)
  {
#pragma omp single
    used = omp_get_num_threads();
#pragma omp for schedule(static)
    for (size_t ch = 0; ch < C; ch++) bad |= !(GD_NAME(gd_chunk)(g, ch) == 0);
    /* implicit barrier: every sample has read the old y */
#pragma omp for schedule(static)
    for (size_t c = 0; c < K; c++) {
      double *sum = sum_all + c * d; /* the chunks' rows c added in chunk order */
      for (size_t k = 0; k < d; k++) sum[k] = 0.0;
      for (size_t ch = 0; ch < C; ch++) {
        const REAL *src = part + ch * stride + c * d;
        for (size_t k = 0; k < d; k++) sum[k] += src[k];
      }
      REAL *yc = y + c * d;
      REAL chk = 0;
      for (size_t k = 0; k < d; k++) {
        const REAL v = (REAL)((double)yc[k] + hy[c] * sum[k]);
        yc[k] = v;
        chk += v - v;
      }
      bad |= !(chk == 0);
    }
  }
  g->threads_used = used;
  return bad;
}

/* Convert a state in; returns the index of the first value that is finite in
 * double but not in REAL, or SIZE_MAX if all fit. */
static size_t GD_NAME(gd_load)(rc_gd *g, const double *z) {
  REAL *dst = g->z;
  const size_t n = (g->n + g->k) * g->d;
  size_t first = SIZE_MAX;
  for (size_t q = 0; q < n; q++) {
    dst[q] = (REAL)z[q];
    if (first == SIZE_MAX && isfinite(z[q]) && !isfinite(dst[q])) first = q;
  }
  return first;
}

static void GD_NAME(gd_store)(const rc_gd *g, double *z) {
  const REAL *src = g->z;
  const size_t n = (g->n + g->k) * g->d;
  for (size_t q = 0; q < n; q++) z[q] = (double)src[q];
}

/* Index of the first non-finite value (samples first, then labels), or SIZE_MAX. */
static size_t GD_NAME(gd_find_nonfinite)(const rc_gd *g, double *value) {
  const REAL *z = g->z;
  const size_t n = (g->n + g->k) * g->d;
  for (size_t q = 0; q < n; q++)
    if (!isfinite(z[q])) {
      *value = (double)z[q];
      return q;
    }
  return SIZE_MAX;
}

#undef GD_NAME
#undef GD_CAT
#undef GD_CAT2
