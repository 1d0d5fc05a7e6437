/* common.h (private): what the integrators share. */
#ifndef RC_INTEGRATE_COMMON_H
#define RC_INTEGRATE_COMMON_H
#include <math.h>

#include <gsl/gsl_odeiv2.h>

#include "repcollapse/integrate.h"

/* Advance a GSL rkf45 driver from *t to target (the state z in place), within
 * the run's step bound (cfg->max_steps; *steps counts the run's steps so
 * far). Every GSL status becomes a message that says what happened: the step
 * bound reached (t, h, the tolerances), a step too small to advance t, the
 * non-finite quantity `fault` names, or GSL's own code and text. */
rc_status rc_rk45_advance(gsl_odeiv2_driver *drv, double *t, double target, double *z, const rc_integrate_config *cfg,
                          unsigned long *steps, const char *fault, rc_error *err);

/* recorded times: finite, non-negative, strictly increasing */
rc_status rc_integrate_check_times(const rc_integrate_config *cfg, rc_error *err);

/* first non-finite entry of z (n values) or n if none */
static inline size_t rc_first_nonfinite(const double *z, size_t n) {
  for (size_t q = 0; q < n; q++)
    if (!isfinite(z[q])) return q;
  return n;
}
/* called at every recorded time with the integrated vector */
typedef rc_status (*rc_vec_observer)(double t, size_t step, const double *z, void *ctx, rc_error *err);
/* names quantity q of the integrated vector (for error messages) */
typedef void (*rc_describe_fn)(size_t q, char *buf, size_t n, const void *ctx);

/* GSL rkf45 over cfg->times (rtol, atol; defaults 1e-10, 1e-12), observing the vector at each;
 * a non-finite value stops the run naming the quantity. */
rc_status rc_rk45_loop(int (*rhs)(double, const double *, double *, void *), void *params, double *z, size_t n,
                       const rc_integrate_config *cfg, rc_vec_observer obs, void *ctx, rc_describe_fn describe,
                       const void *dctx, rc_error *err);

/* Checkpoints of rc_rk45_loop_resumable: after the recorded time times[k] is
 * observed, once `every` of simulated time has passed since the last save
 * (and k is not the last), save(k + 1, t, h, z) with h the driver's next
 * step size; `from` (or NULL) continues a run from such a point: the
 * driver's only state between two recorded times is h, so restoring t, z and
 * h continues bit for bit. */
typedef rc_status (*rc_rk45_save_fn)(size_t next_time, double t, double h, const double *z, void *ctx,
                                     rc_error *err);
typedef struct {
  size_t next_time; /* recorded times already observed */
  double t, h;      /* time of the state; the driver's next step size (<= 0: the default 1e-3) */
} rc_rk45_start;
typedef struct {
  double every; /* 0: never */
  rc_rk45_save_fn save;
  void *ctx;
  const rc_rk45_start *from; /* z holds the state at from->t */
} rc_rk45_checkpointing;

/* rc_rk45_loop on any vector, resumable (ck may be NULL); `fault` (or NULL)
 * is a message the right-hand side writes before it returns GSL_EBADFUNC
 * (the non-finite quantity it met). */
rc_status rc_rk45_loop_resumable(int (*rhs)(double, const double *, double *, void *), void *params, double *z,
                                 size_t n, const rc_integrate_config *cfg, const rc_rk45_checkpointing *ck,
                                 const char *fault, rc_vec_observer obs, void *ctx, rc_describe_fn describe,
                                 const void *dctx, rc_error *err);

/* An rk45 right-hand side that also reports progress during the steps
 * between two recorded times (every 64 evaluations; the fraction interpolates
 * between those of the recorded times around it) and stops GSL's driver
 * (GSL_EBADFUNC, `cancelled` set) when the callback cancels. The numbers do
 * not change: the inner right-hand side is called exactly as before. */
typedef struct {
  int (*rhs)(double, const double *, double *, void *);
  void *params;
  const rc_integrate_config *cfg;
  size_t k;          /* integrating towards cfg->times[k] */
  double from;       /* the time the driver started this interval at */
  unsigned long calls;
  int cancelled;
} rc_rk45_progress;
int rc_rk45_progress_rhs(double t, const double z[], double dz[], void *params);

/* Spectral radius of the Jacobian of `field` at z (n unknowns): power iteration
 * with finite-difference Jacobian-vector products (central, or one-sided:
 * one field evaluation per iteration, exact for a linear field), growth
 * averaged geometrically over the iterations after `burn`. */
typedef void (*rc_field_fn)(const double *z, double *dz, void *ctx);
double rc_field_radius(size_t n, const double *z, rc_field_fn field, void *ctx, int iters, int burn, int one_sided);
#endif
