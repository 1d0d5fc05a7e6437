/* batch.c: the minibatch schedule of docs/model.md section 6.1 (PyTorch's
 * DataLoader with shuffle, drop_last = False, and mean reduction).
 *
 * An epoch is a seeded permutation of the M observations cut into ceil(M / B)
 * batches, the last holding the remainder; each batch is weighted M / |batch|
 * so that every step is an unbiased estimate of the full-batch step. A batch
 * is handed over sorted in data order, so the field accumulates each sample's
 * contributions in the same order as the full-batch field, and B = M is gd bit
 * for bit. Epoch e's permutation is drawn from its own generator, seeded from
 * (seed, e) by splitmix64, so resuming needs only (epoch, position). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "core/alloc.h"
#include "repcollapse/optimizer.h"

struct rc_batch_schedule {
  size_t M, B, n_batches;
  unsigned long seed;
  uint64_t epoch; /* the epoch whose permutation perm holds */
  size_t pos;     /* the next batch within the epoch */
  size_t *perm;   /* M */
  size_t *batch;  /* B: the current batch, sorted */
  gsl_rng *rng;
};

static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static void draw_epoch(rc_batch_schedule *b) {
  uint64_t s = splitmix64(splitmix64((uint64_t)b->seed) ^ (b->epoch * 0xD1B54A32D192ED03ull + 1));
  gsl_rng_set(b->rng, (unsigned long)(s & 0xffffffffu) | 1ul);
  for (size_t k = 0; k < b->M; k++) b->perm[k] = k;
  gsl_ran_shuffle(b->rng, b->perm, b->M, sizeof(size_t));
}

rc_status rc_batch_schedule_alloc(size_t M, size_t B, unsigned long seed, rc_batch_schedule **out, rc_error *err) {
  *out = NULL;
  if (M == 0) return rc_error_set(err, RC_EINVAL, "--batch: the data set has no observations");
  if (B == 0) return rc_error_set(err, RC_EINVAL, "--batch must be a positive number of observations");
  if (B > M) B = M; /* PyTorch: one batch holding everything */
  rc_batch_schedule *b = rc_calloc(1, sizeof *b, "batch schedule", err);
  if (!b) return RC_ENOMEM;
  b->M = M;
  b->B = B;
  b->n_batches = (M + B - 1) / B;
  b->seed = seed;
  b->perm = rc_calloc(M, sizeof(size_t), "batch permutation", err);
  b->batch = rc_calloc(B, sizeof(size_t), "batch", err);
  b->rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (!b->perm || !b->batch || !b->rng) {
    if (!b->rng) rc_error_set(err, RC_ENOMEM, "batch schedule: cannot allocate its generator");
    rc_batch_schedule_free(b);
    return RC_ENOMEM;
  }
  b->epoch = 0;
  b->pos = 0;
  draw_epoch(b);
  *out = b;
  return RC_OK;
}

void rc_batch_schedule_free(rc_batch_schedule *b) {
  if (!b) return;
  free(b->perm);
  free(b->batch);
  if (b->rng) gsl_rng_free(b->rng);
  free(b);
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

void rc_batch_next(rc_batch_schedule *b, const size_t **idx, size_t *len, double *weight) {
  if (b->pos == b->n_batches) {
    b->epoch++;
    b->pos = 0;
    draw_epoch(b);
  }
  size_t start = b->pos * b->B;
  size_t n = b->M - start < b->B ? b->M - start : b->B;
  memcpy(b->batch, b->perm + start, n * sizeof(size_t));
  if (n < b->M) qsort(b->batch, n, sizeof(size_t), cmp_size);
  else
    for (size_t k = 0; k < n; k++) b->batch[k] = k; /* the whole data set in data order */
  b->pos++;
  *idx = b->batch;
  *len = n;
  *weight = (double)b->M / (double)n;
}

size_t rc_batch_count(const rc_batch_schedule *b) { return b->n_batches; }

size_t rc_batch_smallest(const rc_batch_schedule *b) {
  size_t r = b->M % b->B;
  return r ? r : b->B;
}

void rc_batch_save(const rc_batch_schedule *b, double *buf) {
  buf[0] = (double)b->epoch;
  buf[1] = (double)b->pos;
}

rc_status rc_batch_restore(rc_batch_schedule *b, const double *buf, rc_error *err) {
  double e = buf[0], p = buf[1];
  if (!(e >= 0) || e != floor(e) || e > 9007199254740992.0 || !(p >= 0) || p != floor(p) || p > (double)b->n_batches)
    return rc_error_set(err, RC_EINVAL, "batch checkpoint: epoch %g, position %g is not a position of this schedule "
                        "(%zu batches per epoch)", e, p, b->n_batches);
  b->epoch = (uint64_t)e;
  b->pos = (size_t)p;
  draw_epoch(b);
  return RC_OK;
}

rc_status rc_batch_check_step(double dt, size_t M, size_t smallest_batch, size_t n_nodes, const double *obs_count,
                              const double *rate_weight, const double *eta, const char *const *node_kind,
                              rc_error *err) {
  if (smallest_batch == 0) return rc_error_set(err, RC_EINVAL, "--batch must be a positive number of observations");
  double bsz = (double)smallest_batch;
  for (size_t k = 0; k < n_nodes; k++) {
    if (!(obs_count[k] > 0) || !(rate_weight[k] > 0)) continue;
    /* at most min(b, a) of the node's a observations in one batch of b, each weighted M / b */
    double seen = obs_count[k] < bsz ? obs_count[k] : bsz;
    double factor = dt * eta[k] * (double)M * seen / (bsz * rate_weight[k]);
    if (factor >= 2.0)
      return rc_error_set(err, RC_EUNSTABLE,
                          "--batch %zu with dt = %g is unstable: a %s visit multiplies its residual by 1 - dt eta M "
                          "min(b, a) / (b W) = 1 - %g <= -1 (eta = %g, M = %zu, smallest batch b = %zu, a = %g "
                          "observations, rate weight W = %g); refused at dt eta M min(b, a) / (b W) >= 2: use dt < %g "
                          "or a larger batch",
                          smallest_batch, dt, node_kind ? node_kind[k] : "node", factor, eta[k], M, smallest_batch,
                          obs_count[k], rate_weight[k], 2.0 * dt / factor);
  }
  return RC_OK;
}

rc_status rc_batch_check_dataset(const rc_dataset *ds, rc_rate_scheme rates, double eta_x, double eta_y, size_t B,
                                 double dt, rc_error *err) {
  size_t M = (size_t)ds->total;
  if (B == 0) return rc_error_set(err, RC_EINVAL, "--batch must be a positive number of observations");
  if (B >= M) return RC_OK; /* full batch: gd's own bound */
  size_t smallest = M % B ? M % B : B;
  /* the worst sample and the worst label: the largest M min(b, a) / (b W) */
  double best_s = -1, best_c = -1, as = 0, ws = 0, ac = 0, wc = 0, b = (double)smallest;
  for (size_t i = 0; i < ds->n_samples; i++) {
    double a = ds->sample_weight[i], W = rates == RC_RATES_DEGREE ? a : ds->total;
    double f = (a < b ? a : b) / (b * W);
    if (f > best_s) best_s = f, as = a, ws = W;
  }
  for (size_t c = 0; c < ds->n_classes; c++) {
    double a = ds->class_weight[c], W = rates == RC_RATES_DEGREE ? a : ds->total;
    double f = (a < b ? a : b) / (b * W);
    if (f > best_c) best_c = f, ac = a, wc = W;
  }
  double cnt[2] = {as, ac}, wt[2] = {ws, wc}, eta[2] = {eta_x, eta_y};
  const char *kind[2] = {"sample", "label"};
  return rc_batch_check_step(dt, M, smallest, 2, cnt, wt, eta, kind, err);
}
