/* common.h (private): what the integrators share. */
#ifndef RC_INTEGRATE_COMMON_H
#define RC_INTEGRATE_COMMON_H
#include <math.h>
#include "repcollapse/integrate.h"

/* recorded times: finite, non-negative, strictly increasing */
rc_status rc_integrate_check_times(const rc_integrate_config *cfg, rc_error *err);

/* first non-finite entry of z (n values) or n if none */
static inline size_t rc_first_nonfinite(const double *z, size_t n) {
  for (size_t q = 0; q < n; q++)
    if (!isfinite(z[q])) return q;
  return n;
}
#endif
