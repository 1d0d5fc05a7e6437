/* fuzz_grid.c: the `sweep --grid` parser (rc_sweep_grid_parse): a grid, or a
 * one-line error naming the axis. A parsed grid has at least one axis, every
 * axis at least one value, a point count equal to the product of the axis
 * sizes (bounded), and every point's values readable. */
#include "fuzz_input.h"
#include "repcollapse/sweep.h"

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
