/* fuzz_grid.c: the `sweep --grid` parser (rc_sweep_grid_parse): a grid, or a
 * one-line error naming the axis. A parsed grid has at least one axis, every
 * axis at least one value, a point count equal to the product of the axis
 * sizes (bounded), and every point's values readable. An axis written as a
 * log range a:b:n:log has n finite values, all > 0, the first a and the last
 * b as parsed, monotone from a to b. */
#include "fuzz_input.h" /* first: it defines _GNU_SOURCE */

#include <ctype.h>
#include <math.h>

#include "repcollapse/sweep.h"

/* The axis spec of item k (0-based, counting the non-empty ';' items), its
 * values part copied into out (blanks trimmed); 0 if there is none. */
static int item_values(const char *text, size_t k, char *out, size_t n) {
  size_t seen = 0;
  for (const char *p = text;;) {
    const char *q = strchr(p, ';');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    const char *b = p, *e = p + len;
    while (b < e && isspace((unsigned char)*b)) b++;
    if (b < e && seen++ == k) {
      const char *eq = memchr(b, '=', (size_t)(e - b));
      if (!eq) return 0;
      eq++;
      while (eq < e && isspace((unsigned char)*eq)) eq++;
      while (e > eq && isspace((unsigned char)e[-1])) e--;
      if ((size_t)(e - eq) >= n) return 0;
      memcpy(out, eq, (size_t)(e - eq));
      out[e - eq] = '\0';
      return 1;
    }
    if (!q) return 0;
    p = q + 1;
  }
}

/* The invariants of a log range on axis ax, written as spec. */
static void check_log_axis(const rc_sweep_axis *ax, const char *spec) {
  size_t len = strlen(spec);
  if (strchr(spec, '|') || len < 4 || strcmp(spec + len - 4, ":log") != 0) return;
  double a = strtod(spec, NULL), b = strtod(strchr(spec, ':') + 1, NULL);
  if (!(a > 0 && b > 0)) abort(); /* accepted, so both ends are positive */
  double prev = a;
  for (size_t k = 0; k < ax->n_values; k++) {
    double v = strtod(ax->values[k], NULL);
    if (!isfinite(v) || !(v > 0)) abort();
    /* printed with 15 digits: compare with a relative slack */
    double lo = fmin(a, b) * (1 - 1e-14), hi = fmax(a, b) * (1 + 1e-14);
    if (v < lo || v > hi) abort();
    if (k && (a < b ? v < prev * (1 - 1e-14) : v > prev * (1 + 1e-14))) abort();
    prev = v;
  }
  if (fabs(strtod(ax->values[0], NULL) - a) > 1e-14 * a) abort();
  if (fabs(strtod(ax->values[ax->n_values - 1], NULL) - b) > 1e-14 * b) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_string(data, size);
  rc_sweep_grid g;
  memset(&g, 0, sizeof g);
  rc_error err;
  if (rc_sweep_grid_parse(text, &g, &err) == RC_OK) {
    if (g.n_axes == 0) abort();
    size_t prod = 1;
    for (size_t a = 0; a < g.n_axes; a++) {
      if (g.axes[a].n_values == 0 || !g.axes[a].name || !g.axes[a].name[0]) abort();
      prod *= g.axes[a].n_values;
      char spec[512];
      if (item_values(text, a, spec, sizeof spec)) check_log_axis(&g.axes[a], spec);
    }
    if (prod != g.n_points || g.n_points > RC_SWEEP_MAX_POINTS) abort();
    /* read the first and last points' values and descriptions */
    char buf[256];
    size_t probe[2] = {0, g.n_points - 1};
    for (int k = 0; k < 2; k++) {
      for (size_t a = 0; a < g.n_axes; a++)
        if (!rc_sweep_point_value(&g, probe[k], a)) abort();
      rc_sweep_point_describe(&g, probe[k], buf, sizeof buf);
    }
    rc_sweep_grid_free(&g);
  } else if (strchr(err.msg, '\n')) {
    abort();
  }
  free(text);
  return 0;
}
