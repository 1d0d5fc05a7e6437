/* metrics_csv.c: metrics.csv, one row per recorded time (full precision, an
 * empty cell where a metric is null). */
#include <stdio.h>

#include "repcollapse/io.h"

rc_status rc_write_metrics_csv(const char *path, const rc_metrics_row *rows, size_t n, rc_error *err) {
  rc_atomic_file f;
  rc_status st = rc_atomic_open(&f, path, err);
  if (st) return st;
  fprintf(f.fp, "t");
  for (int m = 0; m < RC_N_METRICS; m++) fprintf(f.fp, ",%s", rc_metric_names[m]);
  fputc('\n', f.fp);
  for (size_t r = 0; r < n; r++) {
    fprintf(f.fp, "%.17g", rows[r].t);
    for (int m = 0; m < RC_N_METRICS; m++) {
      if (rows[r].valid[m]) fprintf(f.fp, ",%.17g", rows[r].value[m]);
      else fputc(',', f.fp);
    }
    fputc('\n', f.fp);
  }
  return rc_atomic_commit(&f, err);
}
