/* inputs_select.c: which samples of a real data set (Fashion-MNIST, a user's
 * file) are trained on, and their observations (docs/model.md section 6.3,
 * inputs.h): n clean samples per class, drawn seeded, then
 * F = round(f C / (1 - f)) further samples each seen with two labels
 * (`conflict`), drawn from the samples not taken. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "core/alloc.h"
#include "repcollapse/inputs.h"

/* the first k of a uniformly random permutation of v[0..n), in place (partial Fisher-Yates) */
static void draw_prefix(gsl_rng *r, size_t *v, size_t n, size_t k) {
  for (size_t q = 0; q < k; q++) {
    const size_t j = q + (size_t)gsl_rng_uniform_int(r, (unsigned long)(n - q));
    const size_t t = v[q];
    v[q] = v[j];
    v[j] = t;
  }
}

rc_status rc_inputs_select(const uint32_t *labels, size_t n_pool, size_t K, size_t per_class, double frustration,
                           unsigned long seed, const char *what, rc_ts_data *data, size_t **rows_out,
                           rc_error *err) {
  *rows_out = NULL;
  if (!(frustration >= 0.0 && frustration < 1.0))
    return rc_error_set(err, RC_EINVAL, "--frustration %g is outside [0, 1)", frustration);
  if (K < 2) return rc_error_set(err, RC_EINVAL, "%s: %zu class(es); at least 2 are needed", what, K);
  size_t *count = rc_calloc(K, sizeof *count, "class counts", err);
  if (!count) return RC_ENOMEM;
  for (size_t i = 0; i < n_pool; i++) count[labels[i]]++;
  for (size_t c = 0; c < K; c++) {
    if (count[c] == 0) {
      free(count);
      return rc_error_set(err, RC_EINVAL, "%s: class %zu has no sample", what, c);
    }
    if (per_class && count[c] < per_class) {
      const size_t have = count[c];
      free(count);
      return rc_error_set(err, RC_EINVAL, "%s: class %zu has %zu samples, fewer than --per-class %zu", what, c,
                          have, per_class);
    }
  }
  free(count);
  const size_t C = per_class ? per_class * K : n_pool;
  const size_t F = (size_t)llround(frustration * (double)C / (1.0 - frustration));
  if (F > n_pool - C)
    return rc_error_set(err, RC_EINVAL,
                        "%s: frustration %g needs %zu further samples beyond the %zu clean ones, but only %zu remain "
                        "(lower --per-class)",
                        what, frustration, F, C, n_pool - C);
  const size_t N = C + F;
  size_t *rows = rc_calloc(N + 1, sizeof *rows, "sample rows", err);
  size_t *pool = rc_calloc(n_pool + 1, sizeof *pool, "sample pool", err);
  unsigned char *taken = rc_calloc(n_pool + 1, 1, "sample pool", err);
  rc_observation *obs = rc_calloc(N + F + 1, sizeof *obs, "observations", err);
  data->teacher_label = rc_calloc(N + 1, sizeof(uint32_t), "labels", err);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  rc_status st = RC_OK;
  if (!rows || !pool || !taken || !obs || !data->teacher_label || !r) {
    st = rc_error_set(err, RC_ENOMEM, "cannot allocate the sample selection (%zu samples)", N);
    goto done;
  }
  gsl_rng_set(r, seed);
  size_t n = 0;
  if (per_class) {
    for (size_t c = 0; c < K; c++) {
      size_t m = 0;
      for (size_t i = 0; i < n_pool; i++)
        if (labels[i] == c) pool[m++] = i;
      draw_prefix(r, pool, m, per_class);
      for (size_t q = 0; q < per_class; q++) rows[n++] = pool[q];
    }
  } else {
    for (size_t i = 0; i < n_pool; i++) rows[n++] = i;
  }
  for (size_t q = 0; q < n; q++) taken[rows[q]] = 1;
  size_t m = 0;
  for (size_t i = 0; i < n_pool; i++)
    if (!taken[i]) pool[m++] = i;
  draw_prefix(r, pool, m, F);
  for (size_t q = 0; q < F; q++) rows[n++] = pool[q];
  for (size_t i = 0; i < N; i++) {
    data->teacher_label[i] = labels[rows[i]];
    obs[i].sample = i;
    obs[i].label = labels[rows[i]];
  }
  for (size_t q = 0; q < F; q++) { /* the second label: uniformly random among the K - 1 others */
    const size_t i = C + q;
    obs[N + q].sample = i;
    obs[N + q].label = (uint32_t)((labels[rows[i]] + 1 + gsl_rng_uniform_int(r, (unsigned long)(K - 1))) % K);
  }
  data->n = N;
  data->K = K;
  data->n_altered = F;
  st = rc_dataset_from_observations(obs, N + F, N, K, &data->ds, err);
done:
  if (r) gsl_rng_free(r);
  free(pool);
  free(taken);
  free(obs);
  if (st) free(rows);
  else *rows_out = rows;
  return st;
}
