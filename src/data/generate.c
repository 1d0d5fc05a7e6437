/* generate.c: the data set generators of docs/model.md section 1.
 * Samples are numbered clean ones first, class by class (class 0's n_0
 * samples, then class 1's, ...), then the frustrated ones, each seen once with
 * each of its two classes. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "core/alloc.h"
#include "core/memory.h"
#include "repcollapse/data.h"

size_t rc_frustrated_count(double f, size_t n_clean) {
  if (f <= 0.0) return 0;
  return (size_t)llround(f * (double)n_clean / (1.0 - f));
}

static const char *const pattern_names[] = {"pair", "ring", "random", "complete"};

const char *rc_pattern_name(rc_pattern p) { return pattern_names[p]; }

rc_status rc_parse_pattern(const char *text, rc_pattern *out, rc_error *err) {
  for (int i = 0; i < 4; i++)
    if (strcmp(text, pattern_names[i]) == 0) {
      *out = (rc_pattern)i;
      return RC_OK;
    }
  return rc_error_set(err, RC_EINVAL, "unknown pattern '%s' (expected pair, ring, random or complete)", text);
}

static int parse_uint(const char **s, unsigned long long *v) {
  if (!isdigit((unsigned char)**s)) return 0;
  errno = 0;
  char *end;
  *v = strtoull(*s, &end, 10);
  if (errno) return 0;
  *s = end;
  return 1;
}

rc_status rc_parse_pairs(const char *text, rc_pair_count **out, size_t *n_out, rc_error *err) {
  *out = NULL;
  *n_out = 0;
  size_t cap = 1;
  for (const char *p = text; *p; p++) cap += (*p == ',');
  rc_pair_count *pairs = rc_calloc(cap, sizeof *pairs, "--frustrated", err);
  if (!pairs) return RC_ENOMEM;
  const char *s = text;
  size_t n = 0;
  for (;;) {
    unsigned long long a, b, c;
    const char *item = s;
    if (!parse_uint(&s, &a) || *s++ != '-' || !parse_uint(&s, &b) || *s++ != ':' || !parse_uint(&s, &c) ||
        (*s != ',' && *s != '\0')) {
      free(pairs);
      size_t len = strcspn(item, ",");
      return rc_error_set(err, RC_EINVAL, "malformed --frustrated item '%.*s' (expected a-b:count, e.g. 0-1:8)",
                          (int)(len > 60 ? 60 : len), item);
    }
    if (a == b) {
      free(pairs);
      return rc_error_set(err, RC_EINVAL, "--frustrated pair %llu-%llu: the two classes must differ", a, b);
    }
    if (a > UINT32_MAX || b > UINT32_MAX) {
      free(pairs);
      return rc_error_set(err, RC_EINVAL, "--frustrated pair %llu-%llu: class index too large (at most %u)", a, b,
                          (unsigned)UINT32_MAX);
    }
    pairs[n].a = (uint32_t)a;
    pairs[n].b = (uint32_t)b;
    pairs[n].count = (size_t)c;
    n++;
    if (*s == '\0') break;
    s++;
  }
  *out = pairs;
  *n_out = n;
  return RC_OK;
}

/* Check a generator spec and count what it describes: K, the clean samples C
 * and the frustrated samples F. */
static rc_status plan(const rc_data_spec *spec, size_t *K_out, size_t *C_out, size_t *F_out, rc_error *err) {
  size_t K = spec->n_classes;
  if (spec->n_class_sizes == 0) return rc_error_set(err, RC_EINVAL, "no class sizes given (use --per-class)");
  if (spec->n_class_sizes > 1) {
    if (K != 0 && K != spec->n_class_sizes)
      return rc_error_set(err, RC_EINVAL, "--classes %zu but --per-class lists %zu sizes", K, spec->n_class_sizes);
    K = spec->n_class_sizes;
  }
  if (K == 0) return rc_error_set(err, RC_EINVAL, "the number of classes must be positive");
  if (K > UINT32_MAX) return rc_error_set(err, RC_EINVAL, "too many classes (%zu; at most %u)", K, (unsigned)UINT32_MAX);
  size_t n_clean = 0;
  for (size_t c = 0; c < K; c++) {
    size_t nc = spec->n_class_sizes == 1 ? spec->class_sizes[0] : spec->class_sizes[c];
    if (nc == 0) return rc_error_set(err, RC_EINVAL, "class %zu has size 0: every class needs a sample", c);
    if (nc > ((size_t)1 << 40) || n_clean + nc < n_clean)
      return rc_error_set(err, RC_ENOMEM, "class %zu: size %zu is too large (at most 2^40 = %zu, and all classes together too)",
                          c, nc, (size_t)1 << 40);
    n_clean += nc;
  }
  if (spec->has_frustration && spec->n_pairs)
    return rc_error_set(err, RC_EINVAL, "give either --frustrated or --frustration, not both");
  /* frustrated samples as a list of pairs */
  size_t F = 0;
  if (spec->n_pairs) {
    for (size_t j = 0; j < spec->n_pairs; j++) {
      const rc_pair_count *pc = &spec->pairs[j];
      if (pc->a >= K || pc->b >= K)
        return rc_error_set(err, RC_EINVAL, "--frustrated pair %u-%u: class index out of range (K = %zu)", pc->a,
                            pc->b, K);
      if (pc->count > ((size_t)1 << 40))
        return rc_error_set(err, RC_ENOMEM, "--frustrated count %zu is too large (at most 2^40 = %zu)", pc->count,
                            (size_t)1 << 40);
      F += pc->count;
      if (F > ((size_t)1 << 50))
        return rc_error_set(err, RC_ENOMEM, "--frustrated: too many frustrated samples (%zu; at most 2^50)", F);
    }
  } else if (spec->has_frustration) {
    double f = spec->frustration;
    if (!(f >= 0.0 && f < 1.0))
      return rc_error_set(err, RC_EINVAL, "frustration fraction f = %g is outside [0, 1)", f);
    F = rc_frustrated_count(f, n_clean);
    if (F > 0 && K < 2) return rc_error_set(err, RC_EINVAL, "frustration needs at least 2 classes (K = %zu)", K);
    if ((double)F > 1e12)
      return rc_error_set(err, RC_ENOMEM, "f = %g gives too many frustrated samples (%zu; at most 1e12)", f, F);
  }
  *K_out = K;
  *C_out = n_clean;
  *F_out = F;
  return RC_OK;
}

rc_status rc_data_spec_size(const rc_data_spec *spec, size_t *n_samples, size_t *n_classes, double *bytes,
                            rc_error *err) {
  *n_samples = *n_classes = 0;
  *bytes = 0.0;
  if (spec->observations_file) return RC_OK;
  size_t K, n_clean, F;
  rc_status st = plan(spec, &K, &n_clean, &F, err);
  if (st) return st;
  *n_samples = n_clean + F;
  *n_classes = K;
  *bytes = rc_dataset_bytes(n_clean + 2 * F, n_clean + F);
  return RC_OK;
}

rc_status rc_data_generate(const rc_data_spec *spec, rc_dataset **out, rc_error *err) {
  *out = NULL;
  if (spec->observations_file) return rc_dataset_read_csv(spec->observations_file, out, err);
  size_t K, n_clean, F;
  rc_status st = plan(spec, &K, &n_clean, &F, err);
  if (st) return st;
  size_t N = n_clean + F, n_obs = n_clean + 2 * F;
  st = rc_memory_check(rc_dataset_bytes(n_obs, N) + (double)n_obs * sizeof(rc_observation), "the data set", err);
  if (st) return st;
  rc_observation *obs = rc_calloc(n_obs, sizeof *obs, "observations", err);
  if (!obs) return RC_ENOMEM;
  size_t i = 0, o = 0;
  for (size_t c = 0; c < K; c++) {
    size_t nc = spec->n_class_sizes == 1 ? spec->class_sizes[0] : spec->class_sizes[c];
    for (size_t k = 0; k < nc; k++, i++) obs[o++] = (rc_observation){i, (uint32_t)c};
  }
#define ADD_FRUSTRATED(A, B)                          \
  do {                                                \
    obs[o++] = (rc_observation){i, (uint32_t)(A)};   \
    obs[o++] = (rc_observation){i, (uint32_t)(B)};   \
    i++;                                              \
  } while (0)
  if (spec->n_pairs) {
    for (size_t j = 0; j < spec->n_pairs; j++)
      for (size_t k = 0; k < spec->pairs[j].count; k++) ADD_FRUSTRATED(spec->pairs[j].a, spec->pairs[j].b);
  } else if (F > 0) {
    switch (spec->pattern) {
      case RC_PATTERN_PAIR:
        for (size_t k = 0; k < F; k++) ADD_FRUSTRATED(0, 1);
        break;
      case RC_PATTERN_RING:
      case RC_PATTERN_COMPLETE: {
        /* edges: ring c-(c+1 mod K) (one edge when K = 2), complete all a<b in
         * lexicographic order; F spread evenly, the remainder to the first edges */
        size_t n_edges = spec->pattern == RC_PATTERN_RING ? (K == 2 ? 1 : K) : K * (K - 1) / 2;
        size_t base = F / n_edges, rem = F % n_edges, e = 0;
        for (size_t a = 0; a < K && e < n_edges; a++) {
          size_t bmax = spec->pattern == RC_PATTERN_RING ? a + 2 : K;
          for (size_t b = a + 1; b < bmax && e < n_edges; b++, e++) {
            size_t bb = b % K, lo = a < bb ? a : bb, hi = a < bb ? bb : a;
            size_t cnt = base + (e < rem ? 1 : 0);
            for (size_t k = 0; k < cnt; k++) ADD_FRUSTRATED(lo, hi);
          }
        }
        break;
      }
      case RC_PATTERN_RANDOM: {
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        if (!r) {
          free(obs);
          return rc_error_set(err, RC_ENOMEM, "cannot allocate the random generator");
        }
        gsl_rng_set(r, spec->data_seed);
        for (size_t k = 0; k < F; k++) {
          size_t a = gsl_rng_uniform_int(r, K);
          size_t b = gsl_rng_uniform_int(r, K - 1);
          if (b >= a) b++;
          ADD_FRUSTRATED(a < b ? a : b, a < b ? b : a);
        }
        gsl_rng_free(r);
        break;
      }
    }
  }
#undef ADD_FRUSTRATED
  st = rc_dataset_from_observations(obs, o, N, K, out, err);
  free(obs);
  return st;
}
