/* dataset.c: the pair weight matrix A built from observations (docs/model.md section 1).
 * Observations are bucketed by sample (counting sort, O(N + obs)), then each
 * row's labels are sorted and repeats merged into counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/memory.h"
#include "repcollapse/data.h"

void rc_dataset_free(rc_dataset *ds) {
  if (!ds) return;
  free(ds->row_ptr);
  free(ds->labels);
  free(ds->counts);
  free(ds->sample_weight);
  free(ds->class_weight);
  free(ds->clean_label);
  free(ds);
}

static void sort_small_u32(uint32_t *a, size_t n) { /* insertion sort: rows are tiny */
  for (size_t i = 1; i < n; i++) {
    uint32_t v = a[i];
    size_t j = i;
    while (j > 0 && a[j - 1] > v) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = v;
  }
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

double rc_dataset_bytes(size_t n_obs, size_t n_samples) {
  return (double)n_obs * (sizeof(rc_observation) + 2 * sizeof(uint32_t) + sizeof(double)) +
         (double)n_samples * (3 * sizeof(size_t) + 2 * sizeof(double) + sizeof(int32_t));
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* More samples than observations: name the first sample without one, without
 * allocating N of anything (a typo such as sample 100000000 in a hand-written
 * file must not take the machine's memory). */
static rc_status first_missing_sample(const rc_observation *obs, size_t n_obs, rc_error *err) {
  size_t *ids = rc_calloc(n_obs, sizeof *ids, "sample indices", err), gap = 0;
  if (!ids) return RC_ENOMEM;
  for (size_t o = 0; o < n_obs; o++) ids[o] = obs[o].sample;
  qsort(ids, n_obs, sizeof *ids, cmp_size);
  for (size_t o = 0; o < n_obs && ids[o] <= gap; o++)
    if (ids[o] == gap) gap++;
  free(ids);
  return rc_error_set(err, RC_EINVAL, "sample %zu has no observation (samples must be numbered 0..N-1 without gaps)",
                      gap);
}

rc_status rc_dataset_from_observations(const rc_observation *obs, size_t n_obs, size_t n_samples,
                                       size_t n_classes, rc_dataset **out, rc_error *err) {
  *out = NULL;
  if (n_obs == 0) return rc_error_set(err, RC_EINVAL, "the data set has no observations");
  size_t N = n_samples, K = n_classes;
  for (size_t o = 0; o < n_obs; o++) {
    if (obs[o].sample + 1 > N) N = obs[o].sample + 1;
    if ((size_t)obs[o].label + 1 > K) K = (size_t)obs[o].label + 1;
  }
  if (N > n_obs) return first_missing_sample(obs, n_obs, err);
  rc_status mem = rc_memory_check(rc_dataset_bytes(n_obs, N), "the data set", err);
  if (mem) return mem;
  rc_dataset *ds = rc_calloc(1, sizeof *ds, "data set", err);
  if (!ds) return RC_ENOMEM;
  ds->n_samples = N;
  ds->n_classes = K;
  size_t *cnt = rc_calloc(N + 1, sizeof *cnt, "data set rows", err);
  uint32_t *lab = rc_calloc(n_obs, sizeof *lab, "data set labels", err);
  ds->row_ptr = rc_calloc(N + 1, sizeof *ds->row_ptr, "data set rows", err);
  ds->sample_weight = rc_calloc(N, sizeof(double), "sample weights", err);
  ds->class_weight = rc_calloc(K, sizeof(double), "class weights", err);
  ds->clean_label = rc_calloc(N, sizeof(int32_t), "sample labels", err);
  if (!cnt || !lab || !ds->row_ptr || !ds->sample_weight || !ds->class_weight || !ds->clean_label) {
    free(cnt);
    free(lab);
    rc_dataset_free(ds);
    return RC_ENOMEM;
  }
  for (size_t o = 0; o < n_obs; o++) cnt[obs[o].sample + 1]++;
  for (size_t i = 0; i < N; i++) cnt[i + 1] += cnt[i];
  /* cnt[i] = start of row i; fill */
  size_t *pos = ds->row_ptr; /* reuse as cursor, rebuilt below */
  memcpy(pos, cnt, (N + 1) * sizeof *pos);
  for (size_t o = 0; o < n_obs; o++) lab[pos[obs[o].sample]++] = obs[o].label;
  /* count distinct labels per row */
  size_t nnz = 0;
  for (size_t i = 0; i < N; i++) {
    size_t a = cnt[i], b = cnt[i + 1];
    if (b - a > 16) qsort(lab + a, b - a, sizeof *lab, cmp_u32);
    else sort_small_u32(lab + a, b - a);
    for (size_t j = a; j < b; j++)
      if (j == a || lab[j] != lab[j - 1]) nnz++;
  }
  ds->nnz = nnz;
  ds->labels = rc_calloc(nnz, sizeof *ds->labels, "data set labels", err);
  ds->counts = rc_calloc(nnz, sizeof *ds->counts, "data set counts", err);
  if (!ds->labels || !ds->counts) {
    free(cnt);
    free(lab);
    rc_dataset_free(ds);
    return RC_ENOMEM;
  }
  size_t w = 0;
  ds->row_ptr[0] = 0;
  for (size_t i = 0; i < N; i++) {
    size_t a = cnt[i], b = cnt[i + 1];
    for (size_t j = a; j < b; j++) {
      if (j == a || lab[j] != lab[j - 1]) {
        ds->labels[w] = lab[j];
        ds->counts[w] = 1.0;
        w++;
      } else {
        ds->counts[w - 1] += 1.0;
      }
    }
    ds->row_ptr[i + 1] = w;
  }
  free(cnt);
  free(lab);
  /* weights, clean labels, checks */
  ds->total = 0.0;
  ds->n_frustrated = 0;
  for (size_t i = 0; i < N; i++) {
    size_t a = ds->row_ptr[i], b = ds->row_ptr[i + 1];
    if (a == b) {
      rc_error_set(err, RC_EINVAL, "sample %zu has no observation (samples must be numbered 0..N-1 without gaps)", i);
      rc_dataset_free(ds);
      return RC_EINVAL;
    }
    double s = 0.0;
    for (size_t j = a; j < b; j++) {
      s += ds->counts[j];
      ds->class_weight[ds->labels[j]] += ds->counts[j];
    }
    ds->sample_weight[i] = s;
    ds->total += s;
    if (b - a == 1) {
      ds->clean_label[i] = (int32_t)ds->labels[a];
    } else {
      ds->clean_label[i] = -1;
      ds->n_frustrated++;
    }
  }
  for (size_t c = 0; c < K; c++) {
    if (ds->class_weight[c] == 0.0) {
      rc_error_set(err, RC_EINVAL, "class %zu has no observation (classes must be numbered 0..K-1 without gaps)", c);
      rc_dataset_free(ds);
      return RC_EINVAL;
    }
  }
  *out = ds;
  return RC_OK;
}

double rc_dataset_frustration(const rc_dataset *ds) {
  return ds->n_samples ? (double)ds->n_frustrated / (double)ds->n_samples : 0.0;
}
