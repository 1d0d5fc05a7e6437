/* state.c: embeddings of one state (x: N x d, y: K x d, contiguous) and their
 * random initialisation (docs/model.md section 2: entries N(0, sigma^2/d), or
 * class-structured samples around random class centres). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "core/alloc.h"
#include "repcollapse/head.h"
#include "repcollapse/model.h"

rc_status rc_state_alloc_head(size_t n, size_t k, size_t d, int with_head, rc_state **out, rc_error *err) {
  *out = NULL;
  if (d == 0) return rc_error_set(err, RC_EINVAL, "the embedding dimension must be positive");
  if ((n + k + (with_head ? d : 0)) > SIZE_MAX / d / sizeof(double)) return rc_error_set(err, RC_ENOMEM, "state size overflows");
  rc_state *s = rc_calloc(1, sizeof *s, "state", err);
  if (!s) return RC_ENOMEM;
  s->z = rc_calloc((n + k + (with_head ? d : 0)) * d, sizeof(double), "embeddings", err);
  if (!s->z) {
    free(s);
    return RC_ENOMEM;
  }
  s->n = n;
  s->k = k;
  s->d = d;
  s->x = s->z;
  s->y = s->z + n * d;
  s->P = with_head ? s->z + (n + k) * d : NULL;
  *out = s;
  return RC_OK;
}

rc_status rc_state_alloc(size_t n, size_t k, size_t d, rc_state **out, rc_error *err) {
  return rc_state_alloc_head(n, k, d, 0, out, err);
}

size_t rc_state_size(const rc_state *s) { return (s->n + s->k + (s->P ? s->d : 0)) * s->d; }

rc_state *rc_state_clone(const rc_state *src) {
  rc_state *s = NULL;
  if (rc_state_alloc_head(src->n, src->k, src->d, src->P != NULL, &s, NULL) != RC_OK) return NULL;
  rc_state_copy(s, src);
  return s;
}

void rc_state_copy(rc_state *dst, const rc_state *src) { memcpy(dst->z, src->z, rc_state_size(src) * sizeof(double)); }

void rc_state_free(rc_state *s) {
  if (!s) return;
  free(s->z);
  free(s);
}

int rc_describe_non_finite(const double *v, size_t n, size_t k, size_t d, const char *what, char *out,
                           size_t size) {
  size_t nx = n * d;
  for (size_t q = 0; q < (n + k) * d; q++)
    if (!isfinite(v[q])) {
      size_t r = q < nx ? q : q - nx;
      snprintf(out, size, "%s of %s %zu (coordinate %zu) is %g", what, q < nx ? "sample" : "label", r / d, r % d, v[q]);
      return 1;
    }
  return 0;
}

rc_init_params rc_init_params_default(void) {
  rc_init_params p = {RC_INIT_GAUSSIAN, 1.0, 0.1, 1};
  return p;
}

rc_status rc_parse_init_kind(const char *text, rc_init_kind *out, rc_error *err) {
  if (strcmp(text, "gaussian") == 0) *out = RC_INIT_GAUSSIAN;
  else if (strcmp(text, "class") == 0) *out = RC_INIT_CLASS;
  else return rc_error_set(err, RC_EINVAL, "unknown initialisation '%s' (expected gaussian or class)", text);
  return RC_OK;
}

const char *rc_init_kind_name(rc_init_kind k) { return k == RC_INIT_CLASS ? "class" : "gaussian"; }

const char *rc_rng_name(void) { return "gsl_rng_mt19937 (Gaussians: gsl_ran_gaussian_ziggurat)"; }

rc_status rc_state_init(const rc_dataset *ds, const rc_init_params *ip, size_t d, rc_state **out, rc_error *err) {
  *out = NULL;
  if (!(ip->sigma > 0.0) || !isfinite(ip->sigma))
    return rc_error_set(err, RC_EINVAL, "sigma must be positive (got %g)", ip->sigma);
  if (ip->kind == RC_INIT_CLASS && !(ip->spread >= 0.0 && isfinite(ip->spread)))
    return rc_error_set(err, RC_EINVAL, "the class init spread must be non-negative (got %g)", ip->spread);
  size_t N = ds->n_samples, K = ds->n_classes;
  double bytes = (double)(N + K) * (double)d * sizeof(double);
  if (bytes > 1e12) return rc_error_set(err, RC_ENOMEM, "the embeddings would need %.3g GB", bytes / 1e9);
  rc_state *s;
  rc_status st = rc_state_alloc(N, K, d, &s, err);
  if (st) return st;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (!r) {
    rc_state_free(s);
    return rc_error_set(err, RC_ENOMEM, "cannot allocate the random generator");
  }
  gsl_rng_set(r, ip->seed);
  const double sd = ip->sigma / sqrt((double)d);
  for (size_t q = 0; q < K * d; q++) s->y[q] = gsl_ran_gaussian_ziggurat(r, sd);
  if (ip->kind == RC_INIT_GAUSSIAN) {
    for (size_t q = 0; q < N * d; q++) s->x[q] = gsl_ran_gaussian_ziggurat(r, sd);
  } else {
    double *m = rc_calloc(K * d, sizeof *m, "class centres", err);
    if (!m) {
      gsl_rng_free(r);
      rc_state_free(s);
      return RC_ENOMEM;
    }
    for (size_t q = 0; q < K * d; q++) m[q] = gsl_ran_gaussian_ziggurat(r, sd);
    for (size_t i = 0; i < N; i++) {
      double *xi = s->x + i * d;
      for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
        double w = ds->counts[j] / ds->sample_weight[i];
        for (size_t k = 0; k < d; k++) xi[k] += w * m[(size_t)ds->labels[j] * d + k];
      }
      for (size_t k = 0; k < d; k++) xi[k] += ip->spread * gsl_ran_gaussian_ziggurat(r, sd);
    }
    free(m);
  }
  gsl_rng_free(r);
  *out = s;
  return RC_OK;
}
