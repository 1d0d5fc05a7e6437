/* plot.c: figures rendered by gnuplot (plot.h). The script is prefixed with
 * the terminal and output lines and piped to gnuplot; both the PNG and the SVG
 * are written under temporary names and renamed when gnuplot succeeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repcollapse/plot.h"

int rc_plot_available(void) { return system("gnuplot -e \"set terminal pngcairo\" >/dev/null 2>&1") == 0; }

static rc_status render(const char *script, const char *path, const char *terminal, rc_error *err) {
  char tmp[4200], cmd[4400];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  snprintf(cmd, sizeof cmd, "gnuplot 2>%s.log", tmp);
  FILE *gp = popen(cmd, "w");
  if (!gp) return rc_error_set(err, RC_EIO, "cannot start gnuplot for '%s'", path);
  fprintf(gp, "set terminal %s\nset output '%s'\n%s\nunset output\n", terminal, tmp, script);
  int rc = pclose(gp);
  char log[4300];
  snprintf(log, sizeof log, "%s.log", tmp);
  if (rc != 0) {
    char first[300] = "";
    FILE *lf = fopen(log, "r");
    if (lf) {
      if (!fgets(first, sizeof first, lf)) first[0] = '\0';
      fclose(lf);
    }
    first[strcspn(first, "\n")] = '\0';
    unlink(log);
    unlink(tmp);
    return rc_error_set(err, RC_EIO, "gnuplot failed on '%s': %s", path, first[0] ? first : "(no message)");
  }
  unlink(log);
  if (rename(tmp, path) != 0) {
    unlink(tmp);
    return rc_error_set(err, RC_EIO, "cannot move '%s' into place", path);
  }
  return RC_OK;
}

rc_status rc_plot_render(const char *script, const char *stem, int width, int height, rc_error *err) {
  char path[4200], term[200];
  snprintf(path, sizeof path, "%s.png", stem);
  snprintf(term, sizeof term, "pngcairo size %d,%d font 'DejaVu Sans,11'", width, height);
  rc_status st = render(script, path, term, err);
  if (st) return st;
  snprintf(path, sizeof path, "%s.svg", stem);
  snprintf(term, sizeof term, "svg size %d,%d font 'DejaVu Sans,11' background rgb 'white'", width, height);
  return render(script, path, term, err);
}
