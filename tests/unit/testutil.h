/* testutil.h: small helpers shared by the unit tests (cmocka). */
#ifndef RC_TESTUTIL_H
#define RC_TESTUTIL_H
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "repcollapse/repcollapse.h"

/* Build a generated data set; fails the test on error. */
static inline rc_dataset *tu_generate(size_t K, const size_t *sizes, size_t n_sizes, const char *pairs, double f,
                                      rc_pattern pattern, unsigned long seed) {
  rc_data_spec spec;
  memset(&spec, 0, sizeof spec);
  spec.n_classes = K;
  spec.class_sizes = sizes;
  spec.n_class_sizes = n_sizes;
  rc_pair_count *pc = NULL;
  size_t np = 0;
  rc_error err;
  if (pairs) {
    assert_int_equal(rc_parse_pairs(pairs, &pc, &np, &err), RC_OK);
    spec.pairs = pc;
    spec.n_pairs = np;
  }
  if (f >= 0) {
    spec.has_frustration = 1;
    spec.frustration = f;
  }
  spec.pattern = pattern;
  spec.data_seed = seed;
  rc_dataset *ds = NULL;
  rc_status st = rc_data_generate(&spec, &ds, &err);
  if (st) fail_msg("generate: %s", err.msg);
  free(pc);
  return ds;
}

static inline rc_dataset *tu_equal(size_t K, size_t n, double f, rc_pattern pattern, unsigned long seed) {
  size_t sz[1] = {n};
  return tu_generate(K, sz, 1, NULL, f, pattern, seed);
}

static inline rc_state *tu_init(const rc_dataset *ds, size_t d, unsigned long seed) {
  rc_init_params ip = rc_init_params_default();
  ip.seed = seed;
  rc_state *s = NULL;
  rc_error err;
  if (rc_state_init(ds, &ip, d, &s, &err)) fail_msg("init: %s", err.msg);
  return s;
}

static inline double tu_max_abs_diff(const double *a, const double *b, size_t n) {
  double m = 0;
  for (size_t k = 0; k < n; k++) m = fmax(m, fabs(a[k] - b[k]));
  return m;
}

static inline double tu_max_abs(const double *a, size_t n) {
  double m = 0;
  for (size_t k = 0; k < n; k++) m = fmax(m, fabs(a[k]));
  return m;
}

#define assert_close(a, b, tol)                                                                        \
  do {                                                                                                 \
    double _a = (a), _b = (b), _t = (tol);                                                             \
    if (!(fabs(_a - _b) <= _t)) fail_msg("%s = %.17g vs %s = %.17g (|diff| %.3g > %.3g)", #a, _a, #b, _b, \
                                         fabs(_a - _b), _t);                                           \
  } while (0)

#endif
