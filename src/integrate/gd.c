/* gd.c: discrete full-batch gradient descent z <- z + dt F(z) on the minimal
 * model (docs/model.md section 2), the training a practitioner runs, made to run at
 * the memory bandwidth: a plan (rc_gd, integrate.h) holds the embeddings in
 * float64 or float32 and a compact per-sample copy of the observations, and a
 * step is one fused pass over the samples (gd_kernel.h) plus a pass over the
 * K labels. OpenMP splits the samples into chunks that depend only on N and K,
 * never on the thread count, and the chunks' label accumulators are added in
 * chunk order: the result is bit-identical for any number of threads. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/threads.h"
#include "repcollapse/integrate.h"

#define GD_MULTI UINT32_MAX /* label slot of a sample seen with several labels */
#define GD_MAX_CHUNKS 128   /* chunks: at most this many ... */
#define GD_MIN_CHUNK 1024   /* ... of at least this many samples and at least 4 (K + 1), so the
                               chunk accumulators, n_chunks (K + 1) d values, stay below N d / 4 */

/* The sample pass is compiled for AVX-512, AVX2 and the baseline and the best
 * is picked at load time (GCC/Clang function multiversioning on x86-64): with
 * 16-byte vectors one core cannot keep up with memory. Elementwise operations
 * without contraction (ISO C: -ffp-contract=off) round identically whatever the
 * vector width, so every clone gives the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define GD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GD_CLONES
#endif

struct rc_gd {
  const rc_dataset *ds;
  size_t n, k, d, n_chunks, chunk;
  rc_precision prec;
  int threads, threads_used;
  void *z;          /* (N + K) d values of the precision: x then y */
  void *w, *h;      /* N values: count w and h = dt s_i w (clean), h = dt s_i (frustrated) */
  uint32_t *label;  /* N: the clean sample's label, or GD_MULTI */
  double *hy;       /* K: dt s_c */
  void *part;       /* n_chunks (K + 1) d of the precision: each chunk's label accumulators and a scratch row */
  double *sum;      /* K d: the label accumulators added over the chunks */
  double bytes;     /* per step, see rc_gd_bytes_per_step */
};

#define REAL double
#define SFX f64
#include "gd_kernel.h"
#undef REAL
#undef SFX
#define REAL float
#define SFX f32
#include "gd_kernel.h"
#undef REAL
#undef SFX

static const char *const precision_names[] = {"f64", "f32"};

const char *rc_precision_name(rc_precision p) { return precision_names[p]; }

rc_status rc_parse_precision(const char *text, rc_precision *out, rc_error *err) {
  for (int i = 0; i < 2; i++)
    if (strcmp(text, precision_names[i]) == 0) {
      *out = (rc_precision)i;
      return RC_OK;
    }
  return rc_error_set(err, RC_EINVAL, "unknown precision '%s' (expected f64 or f32)", text);
}

/* 64-byte aligned, zeroed block of n * size bytes */
static void *aligned_zalloc(size_t n, size_t size, const char *what, rc_error *err) {
  if (size && n > (SIZE_MAX - 64) / size) {
    rc_error_set(err, RC_ENOMEM, "%s: size overflow", what);
    return NULL;
  }
  size_t bytes = (n * size + 63) / 64 * 64;
  void *p = aligned_alloc(64, bytes ? bytes : 64);
  if (!p) rc_error_set(err, RC_ENOMEM, "%s: cannot allocate %.3g GB", what, (double)bytes / 1e9);
  else memset(p, 0, bytes ? bytes : 64);
  return p;
}

void rc_gd_free(rc_gd *g) {
  if (!g) return;
  free(g->z);
  free(g->w);
  free(g->h);
  free(g->label);
  free(g->hy);
  free(g->part);
  free(g->sum);
  free(g);
}

rc_status rc_gd_alloc(const rc_dataset *ds, const rc_minimal_params *p, size_t d, double dt, rc_precision prec,
                      int threads, rc_gd **out, rc_error *err) {
  *out = NULL;
  if (d == 0) return rc_error_set(err, RC_EINVAL, "the embedding dimension must be positive");
  if (!(dt > 0) || !isfinite(dt)) return rc_error_set(err, RC_EINVAL, "gd needs a positive step --dt (got %g)", dt);
  if (threads < 0) return rc_error_set(err, RC_EINVAL, "the number of threads must be positive (got %d)", threads);
  rc_status env = rc_threads_check_env(err); /* before the first parallel region starts OpenMP's threads */
  if (env) return env;
  if (prec != RC_PRECISION_F64 && prec != RC_PRECISION_F32) return rc_error_set(err, RC_EINVAL, "unknown precision");
  const size_t N = ds->n_samples, K = ds->n_classes;
  if (K >= GD_MULTI) return rc_error_set(err, RC_EINVAL, "too many classes for gd (%zu; at most %u)", K, (unsigned)GD_MULTI - 1);
  const size_t real = prec == RC_PRECISION_F32 ? sizeof(float) : sizeof(double);
  if ((N + K) > SIZE_MAX / d / sizeof(double)) return rc_error_set(err, RC_ENOMEM, "gd state size overflows");
  rc_gd *g = rc_calloc(1, sizeof *g, "gd plan", err);
  if (!g) return RC_ENOMEM;
  g->ds = ds;
  g->n = N;
  g->k = K;
  g->d = d;
  g->prec = prec;
  g->threads = threads;
  size_t chunk = (N + GD_MAX_CHUNKS - 1) / GD_MAX_CHUNKS;
  if (chunk < GD_MIN_CHUNK) chunk = GD_MIN_CHUNK;
  if (chunk < 4 * (K + 1)) chunk = 4 * (K + 1);
  g->chunk = chunk;
  g->n_chunks = N ? (N + chunk - 1) / chunk : 1;
  g->z = aligned_zalloc((N + K) * d, real, "gd embeddings", err);
  g->w = aligned_zalloc(N, real, "gd sample weights", err);
  g->h = aligned_zalloc(N, real, "gd sample steps", err);
  g->label = aligned_zalloc(N, sizeof *g->label, "gd labels", err);
  g->hy = aligned_zalloc(K, sizeof *g->hy, "gd label steps", err);
  g->part = aligned_zalloc(g->n_chunks * (K + 1), d * real, "gd accumulators", err);
  g->sum = aligned_zalloc(K ? K : 1, d * sizeof(double), "gd label sums", err);
  if (!g->z || !g->w || !g->h || !g->label || !g->hy || !g->part || !g->sum) {
    rc_gd_free(g);
    return RC_ENOMEM;
  }
  double obs_bytes = (double)N * (double)(sizeof(uint32_t) + 2 * real);
  for (size_t i = 0; i < N; i++) {
    const size_t a = ds->row_ptr[i], b = ds->row_ptr[i + 1];
    const double hi = dt * rc_sample_rate(ds, p, i);
    const int clean = b - a == 1;
    g->label[i] = clean ? ds->labels[a] : GD_MULTI;
    if (!clean) obs_bytes += 2.0 * sizeof(size_t) + (double)(b - a) * (sizeof(uint32_t) + sizeof(double));
    if (prec == RC_PRECISION_F32) {
      ((float *)g->w)[i] = clean ? (float)ds->counts[a] : 0.0f;
      ((float *)g->h)[i] = (float)(clean ? hi * ds->counts[a] : hi);
    } else {
      ((double *)g->w)[i] = clean ? ds->counts[a] : 0.0;
      ((double *)g->h)[i] = clean ? hi * ds->counts[a] : hi;
    }
  }
  for (size_t c = 0; c < K; c++) g->hy[c] = dt * rc_class_rate(ds, p, c);
  g->bytes = 2.0 * (double)((N + K) * d * real) + obs_bytes + (double)K * sizeof(double);
  *out = g;
  return RC_OK;
}

rc_status rc_gd_load(rc_gd *g, const rc_state *s, rc_error *err) {
  if (s->n != g->n || s->k != g->k || s->d != g->d)
    return rc_error_set(err, RC_EINVAL, "gd: the state's sizes do not match the plan");
  size_t q = g->prec == RC_PRECISION_F32 ? gd_load_f32(g, s->z) : gd_load_f64(g, s->z);
  if (q == SIZE_MAX) return RC_OK;
  const size_t nd = g->n * g->d;
  return rc_error_set(err, RC_ENUMERIC, "value %g of %s %zu's embedding does not fit in float32", s->z[q],
                      q < nd ? "sample" : "label", q < nd ? q / g->d : (q - nd) / g->d);
}

void rc_gd_store(const rc_gd *g, rc_state *s) {
  if (g->prec == RC_PRECISION_F32) gd_store_f32(g, s->z);
  else gd_store_f64(g, s->z);
}

static rc_status report_nonfinite(const rc_gd *g, rc_error *err) {
  double v = 0;
  size_t q = g->prec == RC_PRECISION_F32 ? gd_find_nonfinite_f32(g, &v) : gd_find_nonfinite_f64(g, &v);
  const size_t nd = g->n * g->d;
  if (q == SIZE_MAX) return rc_error_set(err, RC_ENUMERIC, "a non-finite value appeared and vanished");
  return rc_error_set(err, RC_ENUMERIC, "non-finite value %g in %s %zu's embedding (coordinate %zu)", v,
                      q < nd ? "sample" : "label", q < nd ? q / g->d : (q - nd) / g->d, q % g->d);
}

rc_status rc_gd_run(rc_gd *g, size_t steps, size_t *done, rc_error *err) {
  for (size_t s = 0; s < steps; s++) {
    int bad = g->prec == RC_PRECISION_F32 ? gd_step_f32(g) : gd_step_f64(g);
    if (bad) {
      *done = s + 1;
      return report_nonfinite(g, err);
    }
  }
  *done = steps;
  return RC_OK;
}

double rc_gd_bytes_per_step(const rc_gd *g) { return g->bytes; }

int rc_gd_threads_used(const rc_gd *g) { return g->threads_used; }
