/* progress.c: progress reports of long computations, through the caller's
 * callback, whose non-zero return cancels the computation (RC_ECANCELLED). */
#include "repcollapse/repcollapse.h"

rc_status rc_progress_report(rc_progress fn, void *ctx, double fraction, rc_error *err) {
  if (!fn || !fn(fraction, ctx)) return RC_OK;
  return rc_error_set(err, RC_ECANCELLED, "cancelled at %.1f%% (the progress callback asked to stop)", 100.0 * fraction);
}
