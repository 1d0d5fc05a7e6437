/* metrics.c: the collapse metrics of one state (MODEL.md section 2).
 * Distances are computed directly as |x_i - y_c| (not via |x|^2 - 2x.y + |y|^2)
 * so that coinciding labels give bit-identical distances. A tie counts as
 * wrong; two squared distances tie when they differ by at most
 * RC_TIE_RTOL = 1e-12 of the larger, so that a sample sitting (to round-off)
 * midway between two labels is judged the same by every integrator. */
#include <math.h>
#include <stdlib.h>

#include "repcollapse/metrics.h"

#define RC_TIE_RTOL 1e-12

const char *const rc_metric_names[RC_N_METRICS] = {
    "loss", "accuracy", "accuracy_frustrated", "margin", "min_label_distance", "mean_label_distance",
    "within_class_spread", "label_effective_rank", "relative_label_distance", "angular_label_distance"};

static double dist2(const double *a, const double *b, size_t d) {
  double s = 0.0;
  for (size_t k = 0; k < d; k++) {
    double r = a[k] - b[k];
    s += r * r;
  }
  return s;
}

double rc_min_label_distance(const rc_state *s) {
  if (s->k < 2) return NAN;
  double best = INFINITY;
  for (size_t a = 0; a < s->k; a++)
    for (size_t b = a + 1; b < s->k; b++) {
      double q = dist2(s->y + a * s->d, s->y + b * s->d, s->d);
      if (q < best) best = q;
    }
  return sqrt(best);
}

/* trace and squared Frobenius norm of the centred label Gram matrix */
static void centred_gram(const rc_state *s, double *trace, double *frob2) {
  size_t K = s->k, d = s->d;
  double *mean = calloc(d, sizeof *mean);
  double *yc = calloc(K * d, sizeof *yc);
  *trace = NAN;
  *frob2 = NAN;
  if (!mean || !yc) {
    free(mean);
    free(yc);
    return;
  }
  for (size_t c = 0; c < K; c++)
    for (size_t k = 0; k < d; k++) mean[k] += s->y[c * d + k] / (double)K;
  for (size_t c = 0; c < K; c++)
    for (size_t k = 0; k < d; k++) yc[c * d + k] = s->y[c * d + k] - mean[k];
  double tr = 0.0, f2 = 0.0;
  for (size_t a = 0; a < K; a++)
    for (size_t b = 0; b < K; b++) {
      double g = 0.0;
      for (size_t k = 0; k < d; k++) g += yc[a * d + k] * yc[b * d + k];
      if (a == b) tr += g;
      f2 += g * g;
    }
  *trace = tr;
  *frob2 = f2;
  free(mean);
  free(yc);
}

rc_metrics_ref rc_metrics_reference(const rc_state *init) {
  rc_metrics_ref r;
  double f2;
  r.d0 = rc_min_label_distance(init);
  centred_gram(init, &r.trace0, &f2);
  return r;
}

/* valid: defined (MODEL.md); a defined metric of an overflowing state keeps
 * its non-finite value, so the run can stop on it rather than record a null */
static void set(rc_metrics_row *row, int m, double v, int valid) {
  row->value[m] = valid ? v : NAN;
  row->valid[m] = valid;
}

void rc_metrics_compute(const rc_dataset *ds, const rc_state *s, const rc_metrics_ref *ref, double t,
                        rc_metrics_row *row) {
  const size_t N = ds->n_samples, K = ds->n_classes, d = s->d;
  row->t = t;
  for (int m = 0; m < RC_N_METRICS; m++) set(row, m, NAN, 0);
  size_t n_clean = 0, n_frus = 0, correct = 0, correct_f = 0;
  double margin_sum = 0.0, spread_sum = 0.0, loss = 0.0;
  double *dist = malloc((K ? K : 1) * sizeof *dist);
  if (!dist) return;
  for (size_t i = 0; i < N; i++) {
    const double *xi = s->x + i * d;
    for (size_t c = 0; c < K; c++) dist[c] = dist2(xi, s->y + c * d, d);
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) loss += ds->counts[j] * dist[ds->labels[j]];
    /* strict nearest label: best index and whether the minimum is unique */
    size_t best = 0;
    int unique = 1;
    for (size_t c = 1; c < K; c++)
      if (dist[c] < dist[best]) best = c;
    for (size_t c = 0; c < K; c++)
      if (c != best && dist[c] - dist[best] <= RC_TIE_RTOL * dist[c]) unique = 0;
    int own = ds->clean_label[i];
    if (own >= 0) {
      n_clean++;
      if (unique && best == (size_t)own) correct++;
      double other = INFINITY;
      for (size_t c = 0; c < K; c++)
        if (c != (size_t)own && dist[c] < other) other = dist[c];
      margin_sum += sqrt(other) - sqrt(dist[own]);
      spread_sum += dist[own];
    } else {
      n_frus++;
      if (unique)
        for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++)
          if (ds->labels[j] == best) correct_f++;
    }
  }
  free(dist);
  set(row, RC_M_LOSS, loss / (2.0 * ds->total), 1);
  set(row, RC_M_ACCURACY, n_clean ? (double)correct / (double)n_clean : NAN, n_clean > 0);
  set(row, RC_M_ACCURACY_FRUSTRATED, n_frus ? (double)correct_f / (double)n_frus : NAN, n_frus > 0);
  set(row, RC_M_MARGIN, n_clean ? margin_sum / (double)n_clean / ref->d0 : NAN,
      n_clean > 0 && K > 1 && ref->d0 > 0);
  set(row, RC_M_WITHIN_CLASS_SPREAD, n_clean ? spread_sum / (double)n_clean : NAN, n_clean > 0);
  if (K >= 2) {
    double mn = INFINITY, sum = 0.0;
    for (size_t a = 0; a < K; a++)
      for (size_t b = a + 1; b < K; b++) {
        double q = sqrt(dist2(s->y + a * d, s->y + b * d, d));
        sum += q;
        if (q < mn) mn = q;
      }
    set(row, RC_M_MIN_LABEL_DISTANCE, mn, 1);
    set(row, RC_M_MEAN_LABEL_DISTANCE, sum / (double)(K * (K - 1) / 2), 1);
  }
  double tr, f2;
  centred_gram(s, &tr, &f2);
  set(row, RC_M_LABEL_EFFECTIVE_RANK, tr * tr / f2, K >= 1 && tr >= 1e-24 * ref->trace0 && f2 > 0);
  /* section 6.0: the scale-free distances (scale_free.c), after the paper's metrics */
  if (K >= 2) rc_scale_free_metrics(s, row->value[RC_M_MIN_LABEL_DISTANCE], row);
}

double rc_collapse_time(const double *t, const double *D, size_t n, double eps, int *found) {
  *found = 0;
  if (n == 0 || !(D[0] > 0)) return 0.0;
  double thr = eps * D[0];
  for (size_t k = 0; k < n; k++) {
    if (D[k] <= thr) {
      *found = 1;
      if (k == 0) return t[0];
      if (!(D[k] > 0)) return t[k]; /* log undefined: the crossing is at or before t[k] */
      double l0 = log(D[k - 1]), l1 = log(D[k]), lt = log(thr);
      if (l1 == l0) return t[k];
      return t[k - 1] + (t[k] - t[k - 1]) * (lt - l0) / (l1 - l0);
    }
  }
  return 0.0;
}

double rc_fitted_decay_rate(const double *t, const double *D, size_t n, double t_start, int *found) {
  *found = 0;
  if (n == 0 || !(D[0] > 0)) return 0.0;
  /* two passes (means, then centred sums) keep the slope accurate at large t */
  double st = 0, sl = 0;
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if (t[k] >= t_start && D[k] > 1e-10 * D[0]) {
      st += t[k];
      sl += -log(D[k]);
      m++;
    }
  if (m < 3) return 0.0;
  double tm = st / (double)m, lm = sl / (double)m, stt = 0, stl = 0;
  for (size_t k = 0; k < n; k++)
    if (t[k] >= t_start && D[k] > 1e-10 * D[0]) {
      stt += (t[k] - tm) * (t[k] - tm);
      stl += (t[k] - tm) * (-log(D[k]) - lm);
    }
  if (!(stt > 0)) return 0.0;
  /* a curve that does not decay (less than 1% over the window) has no decay rate */
  double t_first = INFINITY, t_last = -INFINITY, l_first = 0, l_last = 0;
  for (size_t k = 0; k < n; k++)
    if (t[k] >= t_start && D[k] > 1e-10 * D[0]) {
      if (t[k] < t_first) t_first = t[k], l_first = log(D[k]);
      if (t[k] > t_last) t_last = t[k], l_last = log(D[k]);
    }
  double slope = stl / stt;
  if (!(slope > 0) || l_first - l_last < 1e-2) return 0.0;
  *found = 1;
  return slope;
}
