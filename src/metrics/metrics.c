/* metrics.c: the collapse metrics of one state (docs/model.md section 2).
 *
 * Nearest labels through BLAS. x and y are centred by the labels' mean m
 * (x~ = x - m, y~ = y - m) and one GEMM per chunk of samples gives
 * g_ic = |y~_c|^2 - 2 x~_i . y~_c, i.e. |x_i - y_c|^2 - |x~_i|^2. The GEMM
 * only selects candidates: g_ic is within e_i = (4 d + 8) u (|x~_i|^2 +
 * max_c |y~_c|^2) (u = 2^-53) of the exact squared distance, so every label
 * that can be the nearest, tie with it, or be the nearest other label lies
 * within 2 e_i (widened by the tie tolerance) of the minimum, and those candidates
 * (usually one or two) are rechecked exactly. Every reported value comes from
 * exact differences |x_i - y_c|^2 (never |x|^2 - 2x.y + |y|^2), so
 * coinciding labels give bit-identical distances.
 *
 * A tie counts as wrong. Two distances |x_i - y_a|, |x_i - y_b| tie when they
 * differ by at most RC_TIE_RTOL = 1e-12 of the scale of the state,
 * sqrt(|x_i|^2 + max_c |y_c|^2): the size of the round-off every integrator
 * leaves in the positions. (Not of the distances: once the labels have
 * collapsed onto each other their distances are themselves round-off of the
 * state's size, and judging them relative to themselves made integrators
 * disagree on the accuracy of the same collapsed state.)
 *
 * Threads: samples are cut into chunks of RC_METRICS_CHUNK (fixed, whatever
 * the thread count); each chunk keeps its own partial sums and the chunks are
 * added in order, and the candidate rule makes the result independent of the
 * GEMM's rounding, so every value is bit-identical for any number of threads.
 * OpenBLAS runs single-threaded inside the parallel region (restored after). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/nearest.h"
#include "repcollapse/metrics.h"

#define RC_TIE_RTOL 1e-12

const char *const rc_metric_names[RC_N_METRICS] = {
    "loss", "accuracy", "accuracy_frustrated", "margin", "min_label_distance", "mean_label_distance",
    "within_class_spread", "label_effective_rank", "relative_label_distance", "angular_label_distance",
    "nc1", "nc2_equinorm", "nc2_equiangular", "nc2_cos_std", "nc3", "nc4", "rankme"};

/* |a - b|^2 by direct differences, in eight interleaved partial sums (coordinate
 * k into sum k mod 8, added pairwise at the end): a fixed order, whatever the
 * vector width, without the latency of one running sum */
static inline double dist2(const double *a, const double *b, size_t d) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t k = 0;
  for (; k + 8 <= d; k += 8)
    for (int l = 0; l < 8; l++) {
      const double r = a[k + l] - b[k + l];
      s[l] += r * r;
    }
  for (int l = 0; k < d; k++, l++) {
    const double r = a[k] - b[k];
    s[l] += r * r;
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* |a|^2, in the same order */
static inline double norm2(const double *a, size_t d) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t k = 0;
  for (; k + 8 <= d; k += 8)
    for (int l = 0; l < 8; l++) s[l] += a[k + l] * a[k + l];
  for (int l = 0; k < d; k++, l++) s[l] += a[k] * a[k];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

double rc_min_label_distance(const rc_state *s) {
  if (s->k < 2) return NAN;
  double best = INFINITY;
  for (size_t a = 0; a < s->k; a++)
    for (size_t b = a + 1; b < s->k; b++) {
      double q = dist2(s->y + a * s->d, s->y + b * s->d, s->d);
      if (q < best) best = q;
    }
  return sqrt(best);
}

/* trace and squared Frobenius norm of the centred label Gram matrix */
static void centred_gram(const rc_state *s, double *trace, double *frob2) {
  size_t K = s->k, d = s->d;
  double *mean = calloc(d, sizeof *mean);
  double *yc = calloc(K * d, sizeof *yc);
  *trace = NAN;
  *frob2 = NAN;
  if (!mean || !yc) {
    free(mean);
    free(yc);
    return;
  }
  for (size_t c = 0; c < K; c++)
    for (size_t k = 0; k < d; k++) mean[k] += s->y[c * d + k] / (double)K;
  for (size_t c = 0; c < K; c++)
    for (size_t k = 0; k < d; k++) yc[c * d + k] = s->y[c * d + k] - mean[k];
  double tr = 0.0, f2 = 0.0;
  for (size_t a = 0; a < K; a++)
    for (size_t b = 0; b < K; b++) {
      double g = 0.0;
      for (size_t k = 0; k < d; k++) g += yc[a * d + k] * yc[b * d + k];
      if (a == b) tr += g;
      f2 += g * g;
    }
  *trace = tr;
  *frob2 = f2;
  free(mean);
  free(yc);
}

rc_metrics_ref rc_metrics_reference(const rc_state *init) {
  rc_metrics_ref r;
  double f2;
  r.d0 = rc_min_label_distance(init);
  centred_gram(init, &r.trace0, &f2);
  r.trace_b0 = 0.0; /* no data set: see rc_metrics_reference_data (neural_collapse.c) */
  return r;
}

/* valid: defined (docs/model.md); a defined metric of an overflowing state keeps
 * its non-finite value, so the run can stop on it rather than record a null */
static void set(rc_metrics_row *row, int m, double v, int valid) {
  row->value[m] = valid ? v : NAN;
  row->valid[m] = valid;
}

rc_status rc_metrics_parse(const char *text, unsigned *mask, rc_error *err) {
  *mask = 0;
  if (!text || !*text) return rc_error_set(err, RC_EINVAL, "--metrics needs at least one metric name");
  if (strcmp(text, "all") == 0) {
    *mask = RC_METRICS_ALL;
    return RC_OK;
  }
  const char *p = text;
  for (;;) {
    const char *q = strchr(p, ',');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    int found = -1;
    for (int m = 0; m < RC_N_METRICS; m++)
      if (strlen(rc_metric_names[m]) == len && strncmp(p, rc_metric_names[m], len) == 0) found = m;
    if (found < 0) {
      char list[400] = "";
      for (int m = 0; m < RC_N_METRICS; m++) {
        strcat(list, m ? ", " : "");
        strcat(list, rc_metric_names[m]);
      }
      return rc_error_set(err, RC_EINVAL, "unknown metric '%.*s' in --metrics (known: %s, or all)", (int)(len > 80 ? 80 : len),
                          p, list);
    }
    *mask |= 1u << found;
    if (!q) break;
    p = q + 1;
  }
  return RC_OK;
}

/* Partial sums of one chunk of samples. */
typedef struct {
  double loss, margin, spread;
  size_t n_clean, n_frus, correct, correct_f;
} chunk_sums;

typedef struct {
  const rc_dataset *ds;
  const rc_state *s;
  const double *mean; /* d: the labels' mean */
  const double *yt;   /* K x d: centred labels */
  const double *ny;   /* K: |y~_c|^2 */
  double maxny;       /* max_c |y~_c|^2 */
  double maxy2;       /* max_c |y_c|^2 */
  int gemm;           /* 0: every label is a candidate (no GEMM; a non-finite or overflowing state) */
  int nearest, loss, spread, margin;
  int *nearest_out;   /* N, or NULL: each sample's unique nearest label, -1 on a tie (nc4) */
} sweep_ctx;

/* Compiled for several instruction sets: the scans over the K labels are
 * vectorised; no floating-point sum is reordered (min and | reductions only,
 * no contraction under ISO C), so every clone gives the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define METRICS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define METRICS_CLONES
#endif

METRICS_CLONES static void chunk_metrics(const sweep_ctx *c, size_t i0, size_t i1, double *xt, double *G, double *dd, size_t *cand,
                          chunk_sums *out) {
  const rc_dataset *ds = c->ds;
  const size_t K = ds->n_classes, d = c->s->d, m = i1 - i0;
  const double *x = c->s->x, *y = c->s->y;
  const double u = 0x1p-53, ebound = (4.0 * (double)d + 8.0) * u;
  memset(out, 0, sizeof *out);
  if (c->nearest && c->gemm) {
    for (size_t r = 0; r < m; r++)
      for (size_t q = 0; q < d; q++) xt[r * d + q] = x[(i0 + r) * d + q] - c->mean[q];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)K, (int)d, 1.0, xt, (int)d, c->yt, (int)d, 0.0, G,
                (int)K);
  }
  for (size_t r = 0; r < m; r++) {
    const size_t i = i0 + r;
    const double *xi = x + i * d;
    const int own = ds->clean_label[i];
    if (own >= 0) out->n_clean++;
    else out->n_frus++;
    double d_own = NAN;
    if (c->loss || (own >= 0 && (c->spread || c->margin))) {
      for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
        double q = dist2(xi, y + (size_t)ds->labels[j] * d, d);
        out->loss += ds->counts[j] * q;
        if (own >= 0) d_own = q;
      }
      if (own >= 0) out->spread += d_own;
    }
    if (!c->nearest) continue;
    /* candidates from the GEMM (or every label) */
    double *g = G + r * K;
    double x2 = 0.0, nx = 0.0, m1 = INFINITY, mo = INFINITY, e = INFINITY;
    x2 = norm2(xi, d);
    const double tie = RC_TIE_RTOL * sqrt(x2 + c->maxy2); /* on distances, not squared distances */
    const size_t ownl = own >= 0 ? (size_t)own : K;       /* K: no own label */
    int all = !c->gemm;
    if (!all) {
      const double *xr = xt + r * d;
      nx = norm2(xr, d);
      e = ebound * (nx + c->maxny);
      const double *ny = c->ny;
      /* g_c = |y~_c|^2 - 2 x~.y~_c; m1 its minimum, mo the minimum over the labels other than the own one */
#pragma omp simd reduction(min : m1, mo)
      for (size_t l = 0; l < K; l++) {
        const double v = ny[l] - 2.0 * g[l];
        g[l] = v;
        m1 = v < m1 ? v : m1;
        const double w = l == ownl ? INFINITY : v;
        mo = w < mo ? w : mo;
      }
    }
    /* every label with |x_i - y_c| <= min_c |x_i - y_c| + tie: exact D_c lies within e of g_c + |x~_i|^2;
     * for the margin, every other label within 2e of the nearest other one */
    const double sm = sqrt(fmax(m1 + nx + e, 0.0)), thr = (sm + tie) * (sm + tie) - nx + 2.0 * e;
    const double thr_o = mo + 2.0 * e;
    if (!isfinite(thr) || !isfinite(tie)) all = 1;
    const int want_other = own >= 0 && c->margin;
    const int all_o = all || !isfinite(thr_o);
    size_t nc = 0;
    double other = INFINITY;
    const double tmax = want_other && thr_o > thr ? thr_o : thr;
    for (size_t l0 = 0; l0 < K; l0 += 16) { /* blocks of 16 labels, skipped when none is below both thresholds */
      const size_t l1 = l0 + 16 < K ? l0 + 16 : K;
      double bm = INFINITY;
#pragma omp simd reduction(min : bm)
      for (size_t l = l0; l < l1; l++) bm = g[l] < bm ? g[l] : bm;
      if (!all && !all_o && !(bm <= tmax)) continue;
      for (size_t l = l0; l < l1; l++) {
        if (all || g[l] <= thr) cand[nc++] = l;
        if (want_other && l != ownl && (all_o || g[l] <= thr_o)) {
          double q = dist2(xi, y + l * d, d);
          if (q < other) other = q;
        }
      }
    }
    if (nc == 0) { /* NaN somewhere: fall back to every label */
      all = 1;
      for (size_t l = 0; l < K; l++) cand[nc++] = l;
    }
    /* exact distances of the candidates; strict nearest label, and whether it is unique */
    size_t best = cand[0];
    double dbest = INFINITY;
    for (size_t k = 0; k < nc; k++) {
      dd[k] = dist2(xi, y + cand[k] * d, d);
      if (k == 0 || dd[k] < dbest) {
        dbest = dd[k];
        best = cand[k];
      }
    }
    int unique = 1;
    const double sbest = sqrt(dbest);
    for (size_t k = 0; k < nc; k++)
      if (cand[k] != best && sqrt(dd[k]) - sbest <= tie) unique = 0;
    if (c->nearest_out) c->nearest_out[i] = unique ? (int)best : -1;
    if (own >= 0) {
      if (unique && best == (size_t)own) out->correct++;
      if (want_other) out->margin += sqrt(other) - sqrt(d_own);
    } else if (unique) {
      for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++)
        if (ds->labels[j] == best) out->correct_f++;
    }
  }
}

/* One pass over the samples in chunks (the nearest labels, the loss, the
 * spread, the margin), on `threads` threads; the chunks' sums are added in
 * chunk order into *out. Returns 1, or 0 when out of memory. */
static int sweep(sweep_ctx *cp, int threads, chunk_sums *out) {
  sweep_ctx c = *cp;
  const rc_dataset *ds = c.ds;
  const rc_state *s = c.s;
  const size_t N = ds->n_samples, K = ds->n_classes, d = s->d;
  chunk_sums tot;
  memset(&tot, 0, sizeof tot);
  int ok = 1;
  {
    const size_t nch = (N + RC_METRICS_CHUNK - 1) / RC_METRICS_CHUNK;
    double *mean = calloc(d, sizeof *mean), *yt = malloc(K * d * sizeof *yt), *ny = malloc(K * sizeof *ny);
    chunk_sums *parts = calloc(nch, sizeof *parts);
    ok = mean && yt && ny && parts;
    if (ok) {
      for (size_t l = 0; l < K; l++)
        for (size_t q = 0; q < d; q++) mean[q] += s->y[l * d + q];
      for (size_t q = 0; q < d; q++) mean[q] /= (double)K;
      c.gemm = 1;
      for (size_t l = 0; l < K; l++) {
        double a = 0.0, b = 0.0;
        for (size_t q = 0; q < d; q++) {
          yt[l * d + q] = s->y[l * d + q] - mean[q];
          a += yt[l * d + q] * yt[l * d + q];
          b += s->y[l * d + q] * s->y[l * d + q];
        }
        ny[l] = a;
        if (a > c.maxny) c.maxny = a;
        if (b > c.maxy2) c.maxy2 = b;
        if (!isfinite(a) || !isfinite(b)) c.gemm = 0;
      }
      c.mean = mean;
      c.yt = yt;
      c.ny = ny;
      int nt = threads > 0 ? threads : omp_get_max_threads();
      if ((size_t)nt > nch) nt = (int)nch;
      if (nt < 1) nt = 1;
      const int blas_threads = openblas_get_num_threads();
      const int use_gemm = c.nearest && c.gemm;
      if (use_gemm) openblas_set_num_threads(1);
      int failed = 0;
#pragma omp parallel num_threads(nt) reduction(| : failed)
      {
        double *xt = use_gemm ? malloc(RC_METRICS_CHUNK * d * sizeof *xt) : NULL;
        double *G = c.nearest ? malloc(RC_METRICS_CHUNK * K * sizeof *G) : NULL;
        double *dd = c.nearest ? malloc(K * sizeof *dd) : NULL;
        size_t *cand = c.nearest ? malloc(K * sizeof *cand) : NULL;
        int mine = c.nearest && (!G || !dd || !cand || (use_gemm && !xt));
#pragma omp for schedule(static)
        for (size_t ch = 0; ch < nch; ch++) {
          size_t i0 = ch * RC_METRICS_CHUNK, i1 = i0 + RC_METRICS_CHUNK < N ? i0 + RC_METRICS_CHUNK : N;
          if (!mine) chunk_metrics(&c, i0, i1, xt, G, dd, cand, &parts[ch]);
        }
        failed |= mine;
        free(xt);
        free(G);
        free(dd);
        free(cand);
      }
      if (use_gemm) openblas_set_num_threads(blas_threads);
      ok = !failed;
      for (size_t ch = 0; ok && ch < nch; ch++) { /* in chunk order, whatever the threads */
        tot.loss += parts[ch].loss;
        tot.margin += parts[ch].margin;
        tot.spread += parts[ch].spread;
        tot.n_clean += parts[ch].n_clean;
        tot.n_frus += parts[ch].n_frus;
        tot.correct += parts[ch].correct;
        tot.correct_f += parts[ch].correct_f;
      }
    }
    free(mean);
    free(yt);
    free(ny);
    free(parts);
  }
  *out = tot;
  return ok;
}

int rc_metrics_nearest_centres(const rc_dataset *ds, const rc_state *s, const double *centres, int threads,
                               int *nearest) {
  rc_state v = *s;
  v.y = (double *)centres;
  v.k = ds->n_classes;
  sweep_ctx c;
  memset(&c, 0, sizeof c);
  c.ds = ds;
  c.s = &v;
  c.nearest = 1;
  c.nearest_out = nearest;
  chunk_sums tot;
  if (ds->n_samples == 0 || ds->n_classes == 0) return 0;
  return !sweep(&c, threads, &tot);
}

void rc_metrics_compute(const rc_dataset *ds, const rc_state *s, const rc_metrics_ref *ref, double t,
                        rc_metrics_row *row) {
  rc_metrics_compute_opt(ds, s, ref, t, NULL, row);
}

static int has(unsigned mask, int m) { return (mask >> m) & 1u; }

void rc_metrics_compute_opt(const rc_dataset *ds, const rc_state *s, const rc_metrics_ref *ref, double t,
                            const rc_metrics_options *opt, rc_metrics_row *row) {
  const size_t N = ds->n_samples, K = ds->n_classes, d = s->d;
  const unsigned mask = opt ? opt->mask : RC_METRICS_ALL;
  const int threads = opt ? opt->threads : 0;
  row->t = t;
  for (int m = 0; m < RC_N_METRICS; m++) set(row, m, NAN, 0);
  sweep_ctx c;
  memset(&c, 0, sizeof c);
  c.ds = ds;
  c.s = s;
  c.nearest = has(mask, RC_M_ACCURACY) || has(mask, RC_M_ACCURACY_FRUSTRATED) || has(mask, RC_M_MARGIN);
  c.margin = has(mask, RC_M_MARGIN) && K > 1;
  c.loss = has(mask, RC_M_LOSS);
  c.spread = has(mask, RC_M_WITHIN_CLASS_SPREAD);
  int *nearest_label = NULL; /* nc4: each sample's nearest label */
  if (has(mask, RC_M_NC4) && K >= 2 && N > 0) {
    nearest_label = malloc(N * sizeof *nearest_label);
    if (!nearest_label) return;
    c.nearest = 1;
    c.nearest_out = nearest_label;
  }
  chunk_sums tot;
  memset(&tot, 0, sizeof tot);
  int ok = 1;
  if (N > 0 && K > 0 && (c.nearest || c.loss || c.spread)) ok = sweep(&c, threads, &tot);
  else {
    for (size_t i = 0; i < N; i++) {
      if (ds->clean_label[i] >= 0) tot.n_clean++;
      else tot.n_frus++;
    }
  }
  if (ok) ok = !rc_nc_metrics(ds, s, ref, mask, threads, nearest_label, row);
  free(nearest_label);
  if (!ok) return;
  const size_t n_clean = tot.n_clean, n_frus = tot.n_frus;
  if (has(mask, RC_M_LOSS)) set(row, RC_M_LOSS, tot.loss / (2.0 * ds->total), 1);
  if (has(mask, RC_M_ACCURACY))
    set(row, RC_M_ACCURACY, n_clean ? (double)tot.correct / (double)n_clean : NAN, n_clean > 0);
  if (has(mask, RC_M_ACCURACY_FRUSTRATED))
    set(row, RC_M_ACCURACY_FRUSTRATED, n_frus ? (double)tot.correct_f / (double)n_frus : NAN, n_frus > 0);
  if (has(mask, RC_M_MARGIN))
    set(row, RC_M_MARGIN, n_clean && c.margin ? tot.margin / (double)n_clean / ref->d0 : NAN,
        n_clean > 0 && K > 1 && ref->d0 > 0);
  if (has(mask, RC_M_WITHIN_CLASS_SPREAD))
    set(row, RC_M_WITHIN_CLASS_SPREAD, n_clean ? tot.spread / (double)n_clean : NAN, n_clean > 0);
  if (K >= 2 && (has(mask, RC_M_MIN_LABEL_DISTANCE) || has(mask, RC_M_MEAN_LABEL_DISTANCE))) {
    double mn = INFINITY, sum = 0.0;
    for (size_t a = 0; a < K; a++)
      for (size_t b = a + 1; b < K; b++) {
        double q = sqrt(dist2(s->y + a * d, s->y + b * d, d));
        sum += q;
        if (q < mn) mn = q;
      }
    if (has(mask, RC_M_MIN_LABEL_DISTANCE)) set(row, RC_M_MIN_LABEL_DISTANCE, mn, 1);
    if (has(mask, RC_M_MEAN_LABEL_DISTANCE)) set(row, RC_M_MEAN_LABEL_DISTANCE, sum / (double)(K * (K - 1) / 2), 1);
  }
  if (has(mask, RC_M_LABEL_EFFECTIVE_RANK)) {
    double tr, f2;
    centred_gram(s, &tr, &f2);
    set(row, RC_M_LABEL_EFFECTIVE_RANK, tr * tr / f2, K >= 1 && tr >= 1e-24 * ref->trace0 && f2 > 0);
  }
  /* section 6.0: the scale-free distances (scale_free.c), after the paper's metrics */
  if (K >= 2 && (has(mask, RC_M_RELATIVE_LABEL_DISTANCE) || has(mask, RC_M_ANGULAR_LABEL_DISTANCE))) {
    const double D = row->valid[RC_M_MIN_LABEL_DISTANCE] ? row->value[RC_M_MIN_LABEL_DISTANCE] : rc_min_label_distance(s);
    rc_scale_free_metrics(s, D, row);
    if (!has(mask, RC_M_RELATIVE_LABEL_DISTANCE)) set(row, RC_M_RELATIVE_LABEL_DISTANCE, NAN, 0);
    if (!has(mask, RC_M_ANGULAR_LABEL_DISTANCE)) set(row, RC_M_ANGULAR_LABEL_DISTANCE, NAN, 0);
  }
}
double rc_collapse_time(const double *t, const double *D, size_t n, double eps, int *found) {
  *found = 0;
  if (n == 0 || !(D[0] > 0)) return 0.0;
  double thr = eps * D[0];
  for (size_t k = 0; k < n; k++) {
    if (D[k] <= thr) {
      *found = 1;
      if (k == 0) return t[0];
      if (!(D[k] > 0)) return t[k]; /* log undefined: the crossing is at or before t[k] */
      double l0 = log(D[k - 1]), l1 = log(D[k]), lt = log(thr);
      if (l1 == l0) return t[k];
      return t[k - 1] + (t[k] - t[k - 1]) * (lt - l0) / (l1 - l0);
    }
  }
  return 0.0;
}

double rc_fitted_decay_rate(const double *t, const double *D, size_t n, double t_start, int *found) {
  *found = 0;
  if (n == 0 || !(D[0] > 0)) return 0.0;
  /* two passes (means, then centred sums) keep the slope accurate at large t */
  double st = 0, sl = 0;
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if (t[k] >= t_start && D[k] > 1e-10 * D[0]) {
      st += t[k];
      sl += -log(D[k]);
      m++;
    }
  if (m < 3) return 0.0;
  double tm = st / (double)m, lm = sl / (double)m, stt = 0, stl = 0;
  for (size_t k = 0; k < n; k++)
    if (t[k] >= t_start && D[k] > 1e-10 * D[0]) {
      stt += (t[k] - tm) * (t[k] - tm);
      stl += (t[k] - tm) * (-log(D[k]) - lm);
    }
  if (!(stt > 0)) return 0.0;
  /* a curve that does not decay (less than 1% over the window) has no decay rate */
  double t_first = INFINITY, t_last = -INFINITY, l_first = 0, l_last = 0;
  for (size_t k = 0; k < n; k++)
    if (t[k] >= t_start && D[k] > 1e-10 * D[0]) {
      if (t[k] < t_first) t_first = t[k], l_first = log(D[k]);
      if (t[k] > t_last) t_last = t[k], l_last = log(D[k]);
    }
  double slope = stl / stt;
  if (!(slope > 0) || l_first - l_last < 1e-2) return 0.0;
  *found = 1;
  return slope;
}
