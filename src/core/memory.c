/* memory.c: the memory budget of a run (memory.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/memory.h"

static double env_limit(void) {
  const char *s = getenv("REPCOLLAPSE_MEMORY_LIMIT");
  if (!s || !*s) return -1.0;
  char *end;
  double v = strtod(s, &end);
  double scale = *end == 'k' ? 1e3 : *end == 'M' ? 1e6 : *end == 'G' ? 1e9 : *end == '\0' ? 1.0 : -1.0;
  if (scale < 0 || (*end && end[1]) || !(v > 0)) return -1.0;
  return v * scale;
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
  double limit = rc_memory_limit();
  if (bytes <= limit) return RC_OK;
  char need[32], have[32];
  return rc_error_set(err, RC_ENOMEM,
                      "%s needs about %s of memory, more than the %s allowed here (80%% of physical memory, "
                      "lowered by ulimit -v and REPCOLLAPSE_MEMORY_LIMIT); refusing before it starts",
                      what, rc_format_bytes(bytes, need, sizeof need), rc_format_bytes(limit, have, sizeof have));
}
