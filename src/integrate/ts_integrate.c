/* ts_integrate.c: the teacher-student model's own gd (docs/model.md section 4):
 * full-batch gradient descent (every product through BLAS, rc_ts_gd_step),
 * which the run pipeline uses for --precision f32 (the products with the
 * inputs in sgemm); f64 gd, every optimizer and gradient flow (rk45) of the
 * linear encoder run through the one engine (experiment/run_encoder.c). A
 * gd step is refused up front when dt times the largest rate of the dynamics
 * is >= 2: that rate is the minimal model's scaled by the kernel U U^T, whose
 * top eigenvalue grows like (1 + sqrt(N/D))^2; it is estimated by power
 * iteration on the Jacobian. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "integrate/common.h"
#include "model/ts_model.h"

/* refuse dt * rate >= 2 / margin */
#define RC_TS_RATE_MARGIN 1.05

static void ts_field(const double *z, double *dz, void *ctx) { rc_ts_vector_field(ctx, z, dz); }

double rc_ts_rate_estimate(rc_ts_model *m, const double *z) {
  /* one-sided differences: a field evaluation costs two products with the inputs (the price of a gd step) */
  return rc_field_radius(rc_ts_state_size(m), z, ts_field, m, 30, 8, 1);
}

double rc_ts_kernel_top(const rc_ts_data *data) {
  const size_t N = data->n, D = data->D;
  double *v = malloc(D * sizeof *v), *w = malloc(N * sizeof *w);
  double lambda = NAN;
  if (v && w) {
    for (size_t k = 0; k < D; k++) v[k] = sin(1.0 + 12.9898 * (double)k) + 0.5;
    for (int it = 0; it < 200; it++) { /* v <- U^T U v / |v| : the top eigenvalue of U^T U (= of U U^T) */
      double vn = cblas_dnrm2((int)D, v, 1);
      cblas_dscal((int)D, 1.0 / vn, v, 1);
      cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)D, 1.0, data->U, (int)D, v, 1, 0.0, w, 1);
      cblas_dgemv(CblasRowMajor, CblasTrans, (int)N, (int)D, 1.0, data->U, (int)D, w, 1, 0.0, v, 1);
      double next = cblas_ddot((int)N, w, 1, w, 1); /* Rayleigh quotient v.U^T U v with |v| = 1 */
      if (it > 10 && fabs(next - lambda) <= 1e-10 * next) {
        lambda = next;
        break;
      }
      lambda = next;
    }
  }
  free(v);
  free(w);
  return lambda;
}

static rc_status run_gd(rc_ts_model *m, double *z, const rc_integrate_config *cfg, rc_ts_observer obs, void *ctx,
                        rc_error *err) {
  const double dt = cfg->dt;
  if (!(dt > 0) || !isfinite(dt)) return rc_error_set(err, RC_EINVAL, "gd needs a positive step --dt (got %g)", dt);
  /* power iteration approaches the top of a dense bulk (N >> D) from below, by a few %: keep a 5% margin */
  const double rho = rc_ts_rate_estimate(m, z), limit = 2.0 / RC_TS_RATE_MARGIN;
  if (dt * rho >= limit)
    return rc_error_set(err, RC_EUNSTABLE,
                        "gd step dt = %g is unstable: the largest rate at the start is about %g (the minimal model's "
                        "scaled by the kernel U U^T), dt times it is %g >= 2 (less a 5%% margin for the estimate: "
                        "%.3g); use dt < %g",
                        dt, rho, dt * rho, limit, limit / rho);
  size_t step = 0, total = cfg->n_times ? (size_t)llround(cfg->times[cfg->n_times - 1] / dt) : 0;
  rc_status st = RC_OK;
  for (size_t k = 0; k < cfg->n_times && st == RC_OK; k++) {
    const size_t target = (size_t)llround(cfg->times[k] / dt);
    while (step < target && st == RC_OK) {
      rc_error e;
      st = rc_ts_gd_step(m, z, dt, NULL, &e);
      step++;
      if (st)
        st = rc_error_set(err, st, "gd diverged at step %zu (t = %g): %s", step, (double)step * dt, e.msg);
      if (st == RC_OK && (step & 15) == 0 && total)
        st = rc_progress_report(cfg->progress, cfg->progress_ctx, (double)step / (double)total, err);
    }
    if (st == RC_OK) st = obs((double)step * dt, step, z, ctx, err);
  }
  return st;
}

rc_status rc_ts_integrate(rc_ts_model *m, const double *z0, const rc_integrate_config *cfg, rc_ts_observer obs,
                          void *ctx, rc_error *err) {
  rc_status st = rc_integrate_check_times(cfg, err);
  if (st) return st;
  const size_t n = rc_ts_state_size(m);
  double *z = rc_calloc(n, sizeof *z, "state", err);
  if (!z) return RC_ENOMEM;
  memcpy(z, z0, n * sizeof *z);
  if (cfg->integrator == RC_INTEGRATOR_GD) st = run_gd(m, z, cfg, obs, ctx, err);
  else /* flow is the one engine's (engine_loop.c) */
    st = rc_error_set(err, RC_EINVAL, "the teacher-student model's own integrator is gd (not %s)",
                      rc_integrator_name(cfg->integrator));
  free(z);
  return st;
}
