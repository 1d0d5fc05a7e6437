/* memory.c: the memory budget of a run (memory.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/memory.h"
#include "core/number.h"

/* REPCOLLAPSE_MEMORY_LIMIT: -1 when unset or empty, -2 when malformed */
static double env_limit(void) {
  const char *s = getenv("REPCOLLAPSE_MEMORY_LIMIT");
  if (!s || !*s) return -1.0;
  double v;
  size_t k = rc_number_scan(s, &v);
  if (!k) return -2.0;
  const char *end = s + k;
  double scale = *end == 'k' ? 1e3 : *end == 'M' ? 1e6 : *end == 'G' ? 1e9 : *end == '\0' ? 1.0 : -1.0;
  if (scale < 0 || (*end && end[1]) || !(v > 0)) return -2.0;
  return v * scale;
}

rc_status rc_memory_env_check(rc_error *err) {
  if (env_limit() != -2.0) return RC_OK;
  return rc_error_set(err, RC_EINVAL,
                      "REPCOLLAPSE_MEMORY_LIMIT='%.40s' is not a memory size (expected a positive number of bytes, "
                      "optionally followed by k, M or G, e.g. 2G)",
                      getenv("REPCOLLAPSE_MEMORY_LIMIT"));
}

double rc_memory_limit(void) {
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  double limit = (pages > 0 && psize > 0) ? 0.8 * (double)pages * (double)psize : 1e18;
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (double)rl.rlim_cur < limit)
    limit = (double)rl.rlim_cur;
  double env = env_limit();
  if (env > 0 && env < limit) limit = env;
  return limit;
}

const char *rc_format_bytes(double bytes, char *buf, size_t size) {
  static const char *const unit[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 6) {
    bytes /= 1000.0;
    u++;
  }
  snprintf(buf, size, "%.3g %s", bytes, unit[u]);
  return buf;
}

rc_status rc_memory_check(double bytes, const char *what, rc_error *err) {
  rc_status st = rc_memory_env_check(err); /* a malformed limit is an error, never silently no limit */
  if (st) return st;
  double limit = rc_memory_limit();
  if (bytes <= limit) return RC_OK;
  char need[32], have[32];
  return rc_error_set(err, RC_ENOMEM,
                      "%s needs about %s of memory, more than the %s allowed here (80%% of physical memory, "
                      "lowered by ulimit -v and REPCOLLAPSE_MEMORY_LIMIT); refusing before it starts",
                      what, rc_format_bytes(bytes, need, sizeof need), rc_format_bytes(limit, have, sizeof have));
}
