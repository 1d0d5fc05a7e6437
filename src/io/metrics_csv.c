/* metrics_csv.c: metrics.csv, one row per recorded time (full precision, an
 * empty cell where a metric is null). Columns: t, the paper's metrics, a
 * model's extra columns (test_accuracy), then the metrics added since
 * (section 6.0), so that every earlier column keeps its place. */
#include <math.h>
#include <stdio.h>

#include "repcollapse/io.h"

rc_status rc_write_metrics_csv(const char *path, const rc_metrics_row *rows, size_t n, rc_error *err) {
  return rc_write_metrics_csv_extra(path, rows, n, NULL, 0, NULL, err);
}

rc_status rc_write_metrics_csv_extra(const char *path, const rc_metrics_row *rows, size_t n,
                                     const char *const *extra_names, size_t n_extra, const double *extra,
                                     rc_error *err) {
  rc_atomic_file f;
  rc_status st = rc_atomic_open(&f, path, err);
  if (st) return st;
  fprintf(f.fp, "t");
  for (int m = 0; m < RC_N_METRICS_BASE; m++) fprintf(f.fp, ",%s", rc_metric_names[m]);
  for (size_t e = 0; e < n_extra; e++) fprintf(f.fp, ",%s", extra_names[e]);
  for (int m = RC_N_METRICS_BASE; m < RC_N_METRICS; m++) fprintf(f.fp, ",%s", rc_metric_names[m]);
  fputc('\n', f.fp);
  for (size_t r = 0; r < n; r++) {
    fprintf(f.fp, "%.17g", rows[r].t);
    for (int m = 0; m < RC_N_METRICS_BASE; m++) {
      if (rows[r].valid[m]) fprintf(f.fp, ",%.17g", rows[r].value[m]);
      else fputc(',', f.fp);
    }
    for (size_t e = 0; e < n_extra; e++) {
      const double v = extra[r * n_extra + e];
      if (isfinite(v)) fprintf(f.fp, ",%.17g", v);
      else fputc(',', f.fp);
    }
    for (int m = RC_N_METRICS_BASE; m < RC_N_METRICS; m++) {
      if (rows[r].valid[m]) fprintf(f.fp, ",%.17g", rows[r].value[m]);
      else fputc(',', f.fp);
    }
    fputc('\n', f.fp);
  }
  return rc_atomic_commit(&f, err);
}
