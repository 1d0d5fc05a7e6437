/* alloc.h (private): checked allocation helpers that report through rc_error. */
#ifndef RC_ALLOC_H
#define RC_ALLOC_H
#include <stdint.h>
#include <stdlib.h>

#include "repcollapse/error.h"

/* calloc of n*size bytes with overflow check; on failure records RC_ENOMEM naming `what`. */
static inline void *rc_calloc(size_t n, size_t size, const char *what, rc_error *err) {
  if (size && n > SIZE_MAX / size) {
    rc_error_set(err, RC_ENOMEM, "%s: size overflow (%zu x %zu bytes)", what, n, size);
    return NULL;
  }
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) rc_error_set(err, RC_ENOMEM, "%s: cannot allocate %.3g GB", what, (double)n * size / 1e9);
  return p;
}
#endif
