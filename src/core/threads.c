/* threads.c: the library's OpenMP thread count and environment check (threads.h). */
#include <ctype.h>
#include <omp.h>
#include <stdlib.h>

#include "core/memory.h"
#include "core/threads.h"

int rc_thread_count(int requested) {
  int n = requested > 0 ? requested : omp_get_max_threads();
  if (n < 1) n = 1;
  return n > RC_MAX_THREADS ? RC_MAX_THREADS : n;
}

/* libgomp's syntax: a number and an optional unit B, K, M or G (default K) */
static double stack_bytes(const char *s) {
  char *end;
  double v = strtod(s, &end);
  while (isspace((unsigned char)*end)) end++;
  double unit = 1024.0;
  switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'B': unit = 1.0; end++; break;
    case 'K': end++; break;
    case 'M': unit = 1024.0 * 1024.0; end++; break;
    case 'G': unit = 1024.0 * 1024.0 * 1024.0; end++; break;
    default: return -1.0; /* libgomp ignores a malformed value (with its own warning) */
  }
  return v * unit;
}

rc_status rc_threads_check_env(rc_error *err) {
  static const char *const vars[2] = {"OMP_STACKSIZE", "GOMP_STACKSIZE"};
  for (int k = 0; k < 2; k++) {
    const char *v = getenv(vars[k]);
    if (!v) continue;
    double b = stack_bytes(v), limit = rc_memory_limit();
    if (b > limit) {
      char need[32], have[32];
      return rc_error_set(err, RC_EINVAL,
                          "%s=%s asks for a stack of %s per OpenMP thread, more than the %s of memory allowed here: "
                          "lower or unset it", vars[k], v, rc_format_bytes(b, need, sizeof need),
                          rc_format_bytes(limit, have, sizeof have));
    }
  }
  return RC_OK;
}
