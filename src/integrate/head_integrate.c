/* head_integrate.c: integrators for term models (docs/model.md section 3): rk45
 * and gd on the particle system (x, y, P), and rk45 on the exact
 * group-reduced system (`reduced`, cost independent of N). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include "core/alloc.h"
#include "integrate/common.h"
#include "repcollapse/integrate.h"

/* which quantity index q of a particle state is */
static void describe(size_t q, size_t N, size_t K, size_t d, char *buf, size_t n) {
  if (q < N * d) snprintf(buf, n, "sample %zu's embedding (coordinate %zu)", q / d, q % d);
  else if (q < (N + K) * d) snprintf(buf, n, "label %zu's embedding (coordinate %zu)", (q - N * d) / d, q % d);
  else snprintf(buf, n, "head P[%zu][%zu]", (q - (N + K) * d) / d, (q - (N + K) * d) % d);
}

typedef struct {
  const rc_dataset *ds;
  const rc_head_params *hp;
  size_t d;
  rc_head_ws *ws;
} head_field_ctx;

static void head_field(const double *z, double *dz, void *vctx) {
  head_field_ctx *c = vctx;
  rc_head_vector_field(c->ds, c->hp, z, c->d, dz, c->ws);
}

double rc_head_rate_estimate(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d,
                             rc_head_ws *ws) {
  const size_t n = (ds->n_samples + ds->n_classes + (rc_model_has_head(&hp->model) ? d : 0)) * d;
  head_field_ctx c = {ds, hp, d, ws};
  return rc_field_radius(n, z, head_field, &c, 60, 20, 0);
}

typedef struct {
  const rc_dataset *ds;
  const rc_head_params *hp;
  size_t d;
  rc_head_ws *ws;
  rc_reduced *red;
} head_ode;

static int head_rhs(double t, const double z[], double dz[], void *params) {
  (void)t;
  head_ode *o = params;
  rc_head_vector_field(o->ds, o->hp, z, o->d, dz, o->ws);
  return GSL_SUCCESS;
}

static int reduced_rhs(double t, const double u[], double du[], void *params) {
  (void)t;
  head_ode *o = params;
  rc_reduced_vector_field(o->red, u, du);
  return GSL_SUCCESS;
}

/* names of a particle state's quantities (dims = {N, K, d}), and of a reduced state's */
static void describe_particle(size_t q, char *buf, size_t n, const void *ctx) {
  const size_t *dims = ctx;
  describe(q, dims[0], dims[1], dims[2], buf, n);
}

static void describe_reduced(size_t q, char *buf, size_t n, const void *ctx) {
  (void)ctx;
  snprintf(buf, n, "reduced state component %zu", q);
}

typedef struct {
  rc_state *s;
  rc_observer obs;
  void *ctx;
} state_obs;

static rc_status state_observer(double t, size_t step, const double *z, void *vctx, rc_error *err) {
  state_obs *so = vctx;
  if (z != so->s->z) memcpy(so->s->z, z, rc_state_size(so->s) * sizeof(double));
  return so->obs(t, step, so->s, so->ctx, err);
}

rc_status rc_integrate_head(const rc_dataset *ds, const rc_head_params *hp, const rc_state *init,
                            const rc_integrate_config *cfg, rc_observer obs, void *obs_ctx, rc_error *err) {
  rc_status st = rc_integrate_check_times(cfg, err);
  if (st) return st;
  if (!rc_model_is_classic(&hp->model)) /* the engine runs the objectives of 6.2 (run.c routes them there) */
    return rc_error_set(err, RC_EINVAL,
                        "model '%s' (cosine, uniformity or infonce terms, or --sphere) runs through the engine "
                        "(--integrator gd), not the term models' integrators",
                        hp->model.name);
  const int head = rc_model_has_head(&hp->model);
  if (head && !init->P) return rc_error_set(err, RC_EINVAL, "the model has a head but the initial state has none");
  if (!(hp->eta_head > 0) || !isfinite(hp->eta_head))
    return rc_error_set(err, RC_EINVAL, "eta_head must be positive (got %g)", hp->eta_head);
  const size_t N = ds->n_samples, K = ds->n_classes, d = init->d, n = rc_state_size(init);
  rc_head_ws *ws;
  st = rc_head_ws_alloc(N, K, d, &ws, err);
  if (st) return st;
  rc_state *s = rc_state_clone(init);
  if (!s) {
    rc_head_ws_free(ws);
    return rc_error_set(err, RC_ENOMEM, "cannot allocate the state");
  }
  state_obs so = {s, obs, obs_ctx};
  if (cfg->integrator == RC_INTEGRATOR_RK45) {
    head_ode o = {ds, hp, d, ws, NULL};
    const size_t dims[3] = {N, K, d};
    st = rc_rk45_loop(head_rhs, &o, s->z, n, cfg, state_observer, &so, describe_particle, dims, err);
  } else if (cfg->integrator == RC_INTEGRATOR_GD) {
    const double dt = cfg->dt;
    if (!(dt > 0) || !isfinite(dt)) st = rc_error_set(err, RC_EINVAL, "gd needs a positive step --dt (got %g)", dt);
    /* power iteration approaches the spectral radius from below (by a few % on
     * large problems): refuse within a 5% margin of the limit */
    double rho = st ? 0 : rc_head_rate_estimate(ds, hp, init->z, d, ws);
    if (!st && dt * rho * 1.05 >= 2.0)
      st = rc_error_set(err, RC_EUNSTABLE,
                        "gd step dt = %g is unstable: dt times the Jacobian's spectral radius at the start (%g) is "
                        "%g >= 2 (less a 5%% margin for the estimate); use dt < %g",
                        dt, rho, dt * rho, 2.0 / (1.05 * rho));
    size_t step = 0, total = cfg->n_times ? (size_t)llround(cfg->times[cfg->n_times - 1] / dt) : 0;
    rc_head_gd *hg = NULL;
    if (!st) st = rc_head_gd_alloc(ds, hp, d, dt, cfg->threads, &hg, err);
    for (size_t k = 0; k < cfg->n_times && st == RC_OK; k++) {
      size_t target = (size_t)llround(cfg->times[k] / dt);
      while (step < target && st == RC_OK) {
        int nonfinite = 0;
        st = rc_head_gd_step(hg, s->z, &nonfinite);
        if (st) {
          st = rc_error_set(err, st, "gd step: out of memory");
          break;
        }
        step++;
        size_t bad = nonfinite ? rc_first_nonfinite(s->z, n) : n;
        if (nonfinite && bad == n) bad = 0;
        if (bad < n) {
          char what[96];
          describe(bad, N, K, d, what, sizeof what);
          st = rc_error_set(err, RC_ENUMERIC, "gd diverged at step %zu (t = %g): non-finite value %g in %s", step,
                            (double)step * dt, s->z[bad], what);
        }
        if (st == RC_OK && (step & 15) == 0 && total)
          st = rc_progress_report(cfg->progress, cfg->progress_ctx, (double)step / (double)total, err);
      }
      if (st == RC_OK) st = obs((double)step * dt, step, s, obs_ctx, err);
    }
    rc_head_gd_free(hg);
  } else {
    st = rc_error_set(err, RC_EINVAL, "integrator %s does not apply to a particle run of this model (use rk45, gd or reduced)",
                      rc_integrator_name(cfg->integrator));
  }
  rc_state_free(s);
  rc_head_ws_free(ws);
  return st;
}

typedef struct {
  rc_reduced_observer obs;
  void *ctx;
} red_obs;

static rc_status reduced_observer(double t, size_t step, const double *u, void *vctx, rc_error *err) {
  (void)step;
  red_obs *ro = vctx;
  return ro->obs(t, u, ro->ctx, err);
}

rc_status rc_integrate_reduced(rc_reduced *r, const double *u0, const rc_integrate_config *cfg,
                               rc_reduced_observer obs, void *obs_ctx, rc_error *err) {
  rc_status st = rc_integrate_check_times(cfg, err);
  if (st) return st;
  size_t n = rc_reduced_dim(r);
  double *u = rc_calloc(n, sizeof *u, "reduced state", err);
  if (!u) return RC_ENOMEM;
  memcpy(u, u0, n * sizeof *u);
  head_ode o = {NULL, NULL, 0, NULL, r};
  red_obs ro = {obs, obs_ctx};
  st = rc_rk45_loop(reduced_rhs, &o, u, n, cfg, reduced_observer, &ro, describe_reduced, NULL, err);
  free(u);
  return st;
}
