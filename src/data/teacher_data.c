/* teacher_data.c: data sets of the linear teacher-student model (docs/model.md
 * section 4): Gaussian inputs labelled by a linear teacher or drawn from a
 * Gaussian mixture, fresh test inputs, and frustration by `conflict` (F =
 * round(f C / (1 - f)) frustrated inputs added to the C clean ones, each seen
 * with its own label and another: the meaning of f for every encoder,
 * docs/model.md section 6.3) or `flip` (round(f C) of the C labels replaced,
 * the linear teacher's mode of section 4). The observations become an
 * rc_dataset, so everything of sections 1-3 (weights, metrics, spectrum)
 * applies as is. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "core/alloc.h"
#include "repcollapse/teacher.h"

/* Refuse a run that would need more than this (the same bound as `run`). */
#define RC_TS_MAX_BYTES 16e9

rc_status rc_parse_teacher(const char *text, rc_teacher_kind *out, rc_error *err) {
  if (!strcmp(text, "linear")) *out = RC_TEACHER_LINEAR;
  else if (!strcmp(text, "mixture")) *out = RC_TEACHER_MIXTURE;
  else return rc_error_set(err, RC_EINVAL, "unknown teacher '%s' (expected linear or mixture)", text);
  return RC_OK;
}

rc_status rc_parse_frustration_mode(const char *text, rc_frustration_mode *out, rc_error *err) {
  if (!strcmp(text, "conflict")) *out = RC_FRUSTRATION_CONFLICT;
  else if (!strcmp(text, "flip")) *out = RC_FRUSTRATION_FLIP;
  else return rc_error_set(err, RC_EINVAL, "unknown frustration mode '%s' (expected conflict or flip)", text);
  return RC_OK;
}

const char *rc_teacher_name(rc_teacher_kind t) { return t == RC_TEACHER_MIXTURE ? "mixture" : "linear"; }
const char *rc_frustration_mode_name(rc_frustration_mode m) { return m == RC_FRUSTRATION_FLIP ? "flip" : "conflict"; }

rc_ts_data_spec rc_ts_data_spec_default(void) {
  rc_ts_data_spec s;
  memset(&s, 0, sizeof s);
  s.n_classes = 2;
  s.n_test = 1000;
  s.mixture_noise = 0.5;
  s.seed = 1;
  return s;
}

size_t rc_ts_n_frustrated_added(const rc_ts_data_spec *s) {
  if (s->mode != RC_FRUSTRATION_CONFLICT || !(s->frustration > 0) || !(s->frustration < 1)) return 0;
  const double F = s->frustration * (double)s->n_samples / (1.0 - s->frustration);
  return F < 1e18 ? (size_t)llround(F) : (size_t)1e18;
}

double rc_ts_memory_estimate(const rc_ts_data_spec *s, size_t d, rc_precision prec) {
  const double N = (double)s->n_samples + (double)rc_ts_n_frustrated_added(s), D = (double)s->input_dim, T = (double)s->n_test, dd = (double)d;
  double bytes = 8.0 * D * (N + T);               /* inputs and test inputs */
  if (prec == RC_PRECISION_F32) bytes += 4.0 * D * N; /* their single-precision copy */
  bytes += 8.0 * 12.0 * (N + T) * dd;             /* X, gradients, projections, metric views */
  bytes += 8.0 * 12.0 * dd * D;                   /* W, its update, integrator stages */
  return bytes;
}

rc_status rc_ts_data_check(const rc_ts_data_spec *s, size_t d, rc_error *err) {
  if (s->n_samples == 0) return rc_error_set(err, RC_EINVAL, "--samples must be positive");
  if (s->input_dim == 0) return rc_error_set(err, RC_EINVAL, "--input-dim must be positive");
  if (!(s->frustration >= 0.0 && s->frustration <= 1.0))
    return rc_error_set(err, RC_EINVAL, "--frustration %g is outside [0, 1]", s->frustration);
  if (s->mode == RC_FRUSTRATION_CONFLICT && s->frustration >= 1.0)
    return rc_error_set(err, RC_EINVAL, "--frustration 1 with conflict adds F = f C / (1 - f) frustrated samples to the "
                        "C clean ones, which is unbounded: f must be below 1");
  if (s->n_classes < 2) {
    if (s->mode == RC_FRUSTRATION_FLIP)
      return rc_error_set(err, RC_EINVAL, "--frustration-mode flip needs at least 2 classes (no other class to flip to)");
    return rc_error_set(err, RC_EINVAL, "the teacher-student task needs at least 2 classes (got %zu)", s->n_classes);
  }
  if (s->n_classes > UINT32_MAX) return rc_error_set(err, RC_EINVAL, "too many classes (%zu; at most %u)", s->n_classes,
                                                        (unsigned)UINT32_MAX);
  if (s->n_classes > s->n_samples)
    return rc_error_set(err, RC_EINVAL, "%zu classes need at least as many samples (got %zu)", s->n_classes,
                        s->n_samples);
  if (!(s->mixture_noise >= 0.0) || !isfinite(s->mixture_noise))
    return rc_error_set(err, RC_EINVAL, "--mixture-noise must be non-negative (got %g)", s->mixture_noise);
  double bytes = rc_ts_memory_estimate(s, d, RC_PRECISION_F64);
  if (bytes > RC_TS_MAX_BYTES)
    return rc_error_set(err, RC_ENOMEM,
                        "N = %zu samples of dimension D = %zu (and %zu test inputs) need about %.3g GB of memory "
                        "(at most %.3g GB allowed); refusing",
                        s->n_samples, s->input_dim, s->n_test, bytes / 1e9, RC_TS_MAX_BYTES / 1e9);
  return RC_OK;
}

void rc_ts_data_free(rc_ts_data *d) {
  if (!d) return;
  free(d->U);
  free(d->U_test);
  free(d->teacher_label);
  free(d->test_label);
  rc_dataset_free(d->ds);
  free(d);
}

/* inputs from..to-1 (rows of U) and their labels: linear teacher (argmax of T u) or mixture (component i mod K) */
static void draw_inputs(gsl_rng *r, const rc_ts_data_spec *s, const double *T, double *U, uint32_t *label,
                        size_t from, size_t to) {
  const size_t D = s->input_dim, K = s->n_classes;
  const double sd = 1.0 / sqrt((double)D);
  for (size_t i = from; i < to; i++) {
    double *u = U + i * D;
    if (s->teacher == RC_TEACHER_MIXTURE) {
      const size_t c = i % K;
      for (size_t k = 0; k < D; k++) u[k] = T[c * D + k] + s->mixture_noise * gsl_ran_gaussian_ziggurat(r, sd);
      label[i] = (uint32_t)c;
      continue;
    }
    for (size_t k = 0; k < D; k++) u[k] = gsl_ran_gaussian_ziggurat(r, sd);
    size_t best = 0;
    double best_v = -INFINITY;
    for (size_t c = 0; c < K; c++) {
      double v = 0.0;
      for (size_t k = 0; k < D; k++) v += T[c * D + k] * u[k];
      if (v > best_v) {
        best_v = v;
        best = c;
      }
    }
    label[i] = (uint32_t)best;
  }
}

/* The observations: every sample with its (teacher) label. `conflict`: the
 * F = n - C samples after the C clean ones (drawn after the test inputs) are
 * each also seen with a uniformly random other class. `flip`: round(f C)
 * random samples get a uniformly random other class instead of theirs. */
static rc_status build_observations(gsl_rng *r, const rc_ts_data_spec *s, rc_ts_data *d, rc_error *err) {
  const size_t C = s->n_samples, N = d->n, K = s->n_classes;
  const int flip = s->mode == RC_FRUSTRATION_FLIP;
  size_t F = flip ? (size_t)llround(s->frustration * (double)C) : N - C;
  if (F > N) F = N;
  size_t *perm = rc_calloc(N, sizeof *perm, "frustration", err);
  rc_observation *obs = rc_calloc(N + F, sizeof *obs, "observations", err);
  if (!perm || !obs) {
    free(perm);
    free(obs);
    return RC_ENOMEM;
  }
  for (size_t i = 0; i < N; i++) {
    perm[i] = i;
    obs[i].sample = i;
    obs[i].label = d->teacher_label[i];
  }
  for (size_t k = 0; k < F; k++) {
    size_t i = C + k; /* conflict: the added samples, in order */
    if (flip) {       /* partial Fisher-Yates: the first F of a random permutation */
      size_t j = k + (size_t)gsl_rng_uniform_int(r, (unsigned long)(N - k));
      size_t t = perm[k];
      perm[k] = perm[j];
      perm[j] = t;
      i = perm[k];
    }
    const uint32_t other = (uint32_t)((d->teacher_label[i] + 1 + gsl_rng_uniform_int(r, (unsigned long)(K - 1))) % K);
    if (flip) obs[i].label = other;
    else {
      obs[N + k].sample = i;
      obs[N + k].label = other;
    }
  }
  d->n_altered = F;
  size_t n_obs = flip ? N : N + F;
  rc_status st = rc_dataset_from_observations(obs, n_obs, N, K, &d->ds, err);
  free(perm);
  free(obs);
  return st;
}

rc_status rc_ts_data_generate(const rc_ts_data_spec *s, rc_ts_data **out, rc_error *err) {
  *out = NULL;
  rc_status st = rc_ts_data_check(s, 0, err);
  if (st) return st;
  const size_t C = s->n_samples, N = C + rc_ts_n_frustrated_added(s), D = s->input_dim, K = s->n_classes;
  rc_ts_data *d = rc_calloc(1, sizeof *d, "teacher-student data", err);
  if (!d) return RC_ENOMEM;
  d->n = N;
  d->D = D;
  d->K = K;
  d->n_test = s->n_test;
  d->U = rc_calloc(N * D, sizeof(double), "inputs", err);
  d->U_test = rc_calloc(s->n_test * D, sizeof(double), "test inputs", err);
  d->teacher_label = rc_calloc(N, sizeof(uint32_t), "labels", err);
  d->test_label = rc_calloc(s->n_test, sizeof(uint32_t), "test labels", err);
  double *T = rc_calloc(K * D, sizeof *T, "teacher", err);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (!d->U || !d->U_test || !d->teacher_label || !d->test_label || !T || !r) {
    st = rc_error_set(err, RC_ENOMEM, "cannot allocate the teacher-student data (N = %zu, D = %zu)", N, D);
  } else {
    gsl_rng_set(r, s->seed);
    /* linear teacher: entries N(0, 1) (the scale does not change an argmax); mixture means: N(0, 1/D) */
    const double sd = s->teacher == RC_TEACHER_MIXTURE ? 1.0 / sqrt((double)D) : 1.0;
    for (size_t q = 0; q < K * D; q++) T[q] = gsl_ran_gaussian_ziggurat(r, sd);
    draw_inputs(r, s, T, d->U, d->teacher_label, 0, C);
    draw_inputs(r, s, T, d->U_test, d->test_label, 0, s->n_test);
    draw_inputs(r, s, T, d->U, d->teacher_label, C, N); /* conflict: the frustrated samples, after the test inputs */
    size_t *count = rc_calloc(K, sizeof *count, "labels", err);
    if (!count) st = RC_ENOMEM;
    for (size_t i = 0; count && i < C; i++) count[d->teacher_label[i]]++;
    for (size_t c = 0; !st && c < K; c++)
      if (count[c] == 0)
        st = rc_error_set(err, RC_EINVAL,
                          "the linear teacher gives no sample class %zu (N = %zu, K = %zu): use more samples or "
                          "another --data-seed",
                          c, C, K);
    free(count);
    if (!st) st = build_observations(r, s, d, err);
  }
  if (r) gsl_rng_free(r);
  free(T);
  if (st) {
    rc_ts_data_free(d);
    return st;
  }
  *out = d;
  return RC_OK;
}

const char *rc_ts_regime(size_t N, size_t D, size_t K) {
  if (D >= 4 * N) return "over-parameterized";
  if (D + K <= N) return "under-parameterized";
  return "intermediate";
}
