/* lapack_reason.h (private): what a LAPACK(E) info code means, for messages
 * that say what happened rather than "failed (info = 3)". */
#ifndef RC_LAPACK_REASON_H
#define RC_LAPACK_REASON_H

#include <stdio.h>

static inline const char *rc_lapack_reason(int info, char *buf, size_t n) {
  if (info == -1010) snprintf(buf, n, "LAPACKE could not allocate its work space (out of memory)");
  else if (info == -1011) snprintf(buf, n, "the input matrix holds NaN");
  else if (info < 0) snprintf(buf, n, "argument %d was invalid (a bug: please report it)", -info);
  else snprintf(buf, n, "the iteration did not converge (info = %d; a matrix with NaN, Inf or huge entries?)", info);
  return buf;
}

#endif
