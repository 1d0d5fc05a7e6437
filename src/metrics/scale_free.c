/* scale_free.c: the scale-free collapse metrics of docs/model.md section 6.0 and
 * the choice of the distance that collapse is decided on (--collapse-metric).
 *
 * Weight decay shrinks every embedding without changing the geometry, and a
 * cosine loss never changes a label's length, so D(t) = min |y_a - y_b| can
 * fall (or stay >= ||y_a| - |y_b||) for reasons that are not collapse. Two
 * distances that do not see the scale:
 *   relative_label_distance = D / sqrt((1/K) sum_c |y_c|^2)  (rms about the
 *     origin, not about the labels' mean, which shrinks with D);
 *   angular_label_distance  = min_{a<b} | y_a/|y_a| - y_b/|y_b| |.
 * Both are null for K < 2; the relative one when every label is at the
 * origin, the angular one when a label is (it has no direction). A collapse
 * to a nonzero common point shows in both. */
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "repcollapse/metrics.h"

double rc_relative_label_distance(const rc_state *s) {
  if (s->k < 2) return NAN;
  double D = rc_min_label_distance(s), ss = 0.0;
  for (size_t k = 0; k < s->k * s->d; k++) ss += s->y[k] * s->y[k];
  double rms = sqrt(ss / (double)s->k);
  if (!(rms > 0)) return NAN;
  return D / rms;
}

double rc_angular_label_distance(const rc_state *s) {
  size_t K = s->k, d = s->d;
  if (K < 2) return NAN;
  double *norm = malloc(K * sizeof *norm);
  if (!norm) return NAN;
  for (size_t c = 0; c < K; c++) {
    double q = 0.0;
    for (size_t k = 0; k < d; k++) q += s->y[c * d + k] * s->y[c * d + k];
    norm[c] = sqrt(q);
    if (!(norm[c] > 0)) {
      free(norm);
      return NAN;
    }
  }
  double best = INFINITY;
  for (size_t a = 0; a < K; a++)
    for (size_t b = a + 1; b < K; b++) {
      double q = 0.0;
      for (size_t k = 0; k < d; k++) {
        double r = s->y[a * d + k] / norm[a] - s->y[b * d + k] / norm[b];
        q += r * r;
      }
      if (q < best) best = q;
    }
  free(norm);
  return sqrt(best);
}

static const char *const collapse_names[RC_N_COLLAPSE_METRICS] = {"min_label_distance", "relative_label_distance",
                                                                  "angular_label_distance"};

const char *rc_collapse_metric_name(rc_collapse_metric m) {
  return (unsigned)m < RC_N_COLLAPSE_METRICS ? collapse_names[m] : "unknown";
}

rc_status rc_parse_collapse_metric(const char *text, rc_collapse_metric *out, rc_error *err) {
  for (unsigned k = 0; text && k < RC_N_COLLAPSE_METRICS; k++)
    if (strcasecmp(text, collapse_names[k]) == 0) {
      *out = (rc_collapse_metric)k;
      return RC_OK;
    }
  return rc_error_set(err, RC_EINVAL,
                      "unknown --collapse-metric '%s' (expected "
                      "min_label_distance|relative_label_distance|angular_label_distance)",
                      text ? text : "");
}

double rc_collapse_distance(rc_collapse_metric m, const rc_state *s) {
  switch (m) {
    case RC_COLLAPSE_RELATIVE: return rc_relative_label_distance(s);
    case RC_COLLAPSE_ANGULAR: return rc_angular_label_distance(s);
    default: return rc_min_label_distance(s);
  }
}

int rc_collapse_metric_column(rc_collapse_metric m) {
  switch (m) {
    case RC_COLLAPSE_RELATIVE: return RC_M_RELATIVE_LABEL_DISTANCE;
    case RC_COLLAPSE_ANGULAR: return RC_M_ANGULAR_LABEL_DISTANCE;
    default: return RC_M_MIN_LABEL_DISTANCE;
  }
}

void rc_scale_free_metrics(const rc_state *s, double D, rc_metrics_row *row) {
  double ss = 0.0;
  for (size_t k = 0; k < s->k * s->d; k++) ss += s->y[k] * s->y[k];
  double rms = sqrt(ss / (double)s->k);
  int ok = s->k >= 2 && rms > 0;
  row->value[RC_M_RELATIVE_LABEL_DISTANCE] = ok ? D / rms : NAN;
  row->valid[RC_M_RELATIVE_LABEL_DISTANCE] = ok;
  double a = rc_angular_label_distance(s);
  row->value[RC_M_ANGULAR_LABEL_DISTANCE] = a;
  row->valid[RC_M_ANGULAR_LABEL_DISTANCE] = !isnan(a);
}
