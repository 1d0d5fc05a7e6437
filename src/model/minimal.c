/* minimal.c: the minimal embedding-only model of docs/model.md section 2: rate
 * schemes, the vector field and the loss. Every embedding is a node n with
 * rate s_n; dz_n/dt = -s_n sum_m A_nm (z_n - z_m) (see model.h). */
#include <math.h>
#include <string.h>

#include "repcollapse/model.h"

rc_minimal_params rc_minimal_params_default(void) {
  rc_minimal_params p = {RC_RATES_DEGREE, 1.0, 1.0};
  return p;
}

rc_status rc_parse_rate_scheme(const char *text, rc_rate_scheme *out, rc_error *err) {
  if (strcmp(text, "degree") == 0) *out = RC_RATES_DEGREE;
  else if (strcmp(text, "uniform") == 0) *out = RC_RATES_UNIFORM;
  else return rc_error_set(err, RC_EINVAL, "unknown rate scheme '%s' (expected degree or uniform)", text);
  return RC_OK;
}

const char *rc_rate_scheme_name(rc_rate_scheme r) { return r == RC_RATES_UNIFORM ? "uniform" : "degree"; }

double rc_sample_rate(const rc_dataset *ds, const rc_minimal_params *p, size_t i) {
  return p->rates == RC_RATES_UNIFORM ? p->eta_x / ds->total : p->eta_x / ds->sample_weight[i];
}

double rc_class_rate(const rc_dataset *ds, const rc_minimal_params *p, size_t c) {
  return p->rates == RC_RATES_UNIFORM ? p->eta_y / ds->total : p->eta_y / ds->class_weight[c];
}

void rc_minimal_vector_field(const rc_dataset *ds, const rc_minimal_params *p, const double *z, size_t d,
                             double *dz) {
  size_t N = ds->n_samples, K = ds->n_classes;
  const double *x = z, *y = z + N * d;
  double *dx = dz, *dy = dz + N * d;
  /* dy_c accumulates sum_i A_ic (x_i - y_c), scaled at the end */
  memset(dy, 0, K * d * sizeof *dy);
  for (size_t i = 0; i < N; i++) {
    const double *xi = x + i * d;
    double *dxi = dx + i * d;
    memset(dxi, 0, d * sizeof *dxi);
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
      const double a = ds->counts[j];
      const double *yc = y + (size_t)ds->labels[j] * d;
      double *dyc = dy + (size_t)ds->labels[j] * d;
      for (size_t k = 0; k < d; k++) {
        double r = a * (xi[k] - yc[k]);
        dxi[k] -= r;
        dyc[k] += r;
      }
    }
    const double si = rc_sample_rate(ds, p, i);
    for (size_t k = 0; k < d; k++) dxi[k] *= si;
  }
  for (size_t c = 0; c < K; c++) {
    const double sc = rc_class_rate(ds, p, c);
    for (size_t k = 0; k < d; k++) dy[c * d + k] *= sc;
  }
}

double rc_minimal_loss(const rc_dataset *ds, const rc_state *s) {
  size_t d = s->d;
  double L = 0.0;
  for (size_t i = 0; i < ds->n_samples; i++) {
    const double *xi = s->x + i * d;
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
      const double *yc = s->y + (size_t)ds->labels[j] * d;
      double q = 0.0;
      for (size_t k = 0; k < d; k++) {
        double r = xi[k] - yc[k];
        q += r * r;
      }
      L += ds->counts[j] * q;
    }
  }
  return L / (2.0 * ds->total);
}
