/* gd.c: discrete full-batch gradient descent z <- z + dt F(z) on the minimal
 * model (MODEL.md section 2), the training a practitioner runs. Every
 * embedding is updated every step in one pass over the samples: the label
 * accumulators sum_i A_ic (x_i - y_c) use the old x_i, the sample update the
 * old y; then the labels move. A non-finite value stops the run. */
#include <math.h>
#include <string.h>

#include "repcollapse/integrate.h"

rc_status rc_gd_step(const rc_dataset *ds, const rc_minimal_params *p, rc_state *s, double dt, double *acc,
                     rc_error *err) {
  const size_t N = ds->n_samples, K = ds->n_classes, d = s->d;
  double *x = s->x, *y = s->y;
  memset(acc, 0, K * d * sizeof *acc);
  const int uniform = p->rates == RC_RATES_UNIFORM;
  const double sx_uniform = p->eta_x / ds->total;
  double check = 0.0;
  for (size_t i = 0; i < N; i++) {
    double *xi = x + i * d;
    const size_t a = ds->row_ptr[i], b = ds->row_ptr[i + 1];
    const double step = dt * (uniform ? sx_uniform : p->eta_x / ds->sample_weight[i]);
    if (b - a == 1) { /* clean sample: the common case, one label */
      const double w = ds->counts[a];
      const double *yc = y + (size_t)ds->labels[a] * d;
      double *ac = acc + (size_t)ds->labels[a] * d;
      for (size_t k = 0; k < d; k++) {
        double r = w * (xi[k] - yc[k]);
        ac[k] += r;
        xi[k] -= step * r;
        check += xi[k];
      }
    } else {
      double *g = acc + K * d; /* scratch row after the K accumulators */
      memset(g, 0, d * sizeof *g);
      for (size_t j = a; j < b; j++) {
        const double w = ds->counts[j];
        const double *yc = y + (size_t)ds->labels[j] * d;
        double *ac = acc + (size_t)ds->labels[j] * d;
        for (size_t k = 0; k < d; k++) {
          double r = w * (xi[k] - yc[k]);
          ac[k] += r;
          g[k] += r;
        }
      }
      for (size_t k = 0; k < d; k++) {
        xi[k] -= step * g[k];
        check += xi[k];
      }
    }
  }
  for (size_t c = 0; c < K; c++) {
    const double step = dt * rc_class_rate(ds, p, c);
    for (size_t k = 0; k < d; k++) {
      y[c * d + k] += step * acc[c * d + k];
      check += y[c * d + k];
    }
  }
  if (!isfinite(check)) {
    for (size_t i = 0; i < N; i++)
      for (size_t k = 0; k < d; k++)
        if (!isfinite(x[i * d + k]))
          return rc_error_set(err, RC_ENUMERIC, "non-finite value %g in sample %zu's embedding (coordinate %zu)",
                              x[i * d + k], i, k);
    for (size_t c = 0; c < K; c++)
      for (size_t k = 0; k < d; k++)
        if (!isfinite(y[c * d + k]))
          return rc_error_set(err, RC_ENUMERIC, "non-finite value %g in label %zu's embedding (coordinate %zu)",
                              y[c * d + k], c, k);
    return rc_error_set(err, RC_ENUMERIC, "the embeddings overflowed");
  }
  return RC_OK;
}
