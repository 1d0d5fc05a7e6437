/* progress.c: a one-line progress display on a terminal (stderr), shown only
 * for runs that last longer than a second and never when stderr is a file;
 * under rc_command, the caller's progress callback instead, whose non-zero
 * return cancels the run. */
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
  p->enabled = !quiet && !cli_io_current()->library && isatty(STDERR_FILENO);
}

int cli_progress_update(double fraction, void *ctx) {
  cli_io *io = cli_io_current();
  if (io->library) {
    if (io->cancelled) return 1;
    if (io->io && io->io->progress && io->io->progress(fraction, io->io->progress_ctx)) io->cancelled = 1;
    return io->cancelled;
  }
  cli_progress *p = ctx;
  if (!p || !p->enabled) return 0;
  double t = now(), el = t - p->start;
  if (el < 1.0 || (t - p->last < 0.2 && fraction < 1.0)) return 0;
  p->last = t;
  double eta = fraction > 0 ? el * (1.0 - fraction) / fraction : 0.0;
  fprintf(cli_stderr(), "\r%s: %5.1f%%  elapsed %.1f s  eta %.1f s   ", p->label, 100.0 * fraction, el, eta);
  fflush(cli_stderr());
  p->shown = 1;
  return 0;
}

void cli_progress_done(cli_progress *p) {
  if (p->enabled && p->shown) fputc('\n', cli_stderr());
  p->shown = 0;
}
