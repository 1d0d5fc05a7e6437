/* progress.c: a one-line progress display on a terminal (stderr), shown only
 * for runs that last longer than a second and never when stderr is a file. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(cli_progress *p, const char *label, int quiet) {
  p->label = label;
  p->start = p->last = now();
  p->shown = 0;
  p->enabled = !quiet && isatty(STDERR_FILENO);
}

void cli_progress_update(double fraction, void *ctx) {
  cli_progress *p = ctx;
  if (!p || !p->enabled) return;
  double t = now(), el = t - p->start;
  if (el < 1.0 || (t - p->last < 0.2 && fraction < 1.0)) return;
  p->last = t;
  double eta = fraction > 0 ? el * (1.0 - fraction) / fraction : 0.0;
  fprintf(stderr, "\r%s: %5.1f%%  elapsed %.1f s  eta %.1f s   ", p->label, 100.0 * fraction, el, eta);
  fflush(stderr);
  p->shown = 1;
}

void cli_progress_done(cli_progress *p) {
  if (p->enabled && p->shown) fputc('\n', stderr);
  p->shown = 0;
}
