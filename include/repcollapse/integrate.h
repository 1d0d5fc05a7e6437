/* integrate.h: integrators of the minimal model, all behind one interface.
 *
 * `exact` propagates the reduced eigendecomposition (K x K under degree, the
 * group reduction otherwise), `rk45` is GSL's adaptive Runge-Kutta-Fehlberg on
 * the full particle system, `gd` is discrete full-batch gradient descent
 * z <- z + dt F(z) updating every embedding every step. An integrator visits
 * the recorded times in order and hands each state to an observer. */
#ifndef REPCOLLAPSE_INTEGRATE_H
#define REPCOLLAPSE_INTEGRATE_H

#include <stddef.h>

#include "repcollapse/data.h"
#include "repcollapse/model.h"
#include "repcollapse/spectrum.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  RC_INTEGRATOR_EXACT = 0,
  RC_INTEGRATOR_RK45 = 1,
  RC_INTEGRATOR_GD = 2,
  RC_INTEGRATOR_REDUCED = 3 /* group-reduced dynamics of a term model (reduced.h) */
} rc_integrator;

/** Floating-point type of gd's embeddings (exact and rk45 always use f64). */
typedef enum { RC_PRECISION_F64 = 0, RC_PRECISION_F32 = 1 } rc_precision;

rc_status rc_parse_precision(const char *text, rc_precision *out, rc_error *err);
const char *rc_precision_name(rc_precision p);

rc_status rc_parse_integrator(const char *text, rc_integrator *out, rc_error *err);
const char *rc_integrator_name(rc_integrator i);

/** Called at every recorded time; a non-zero return stops the run with that status. */
typedef rc_status (*rc_observer)(double t, size_t step, const rc_state *s, void *ctx, rc_error *err);

/** Progress report: fraction done in [0,1] (called often; keep it cheap). A
 * non-zero return cancels: the computation stops at the next point where it
 * can and returns RC_ECANCELLED, removing its partial outputs as after any
 * other failure (no summary.json is written; a checkpoint already saved stays). */
typedef int (*rc_progress)(double fraction, void *ctx);

/** Call fn (if any) with fraction: RC_OK, or RC_ECANCELLED with a message
 * when it asks to stop. */
rc_status rc_progress_report(rc_progress fn, void *ctx, double fraction, rc_error *err);

typedef struct {
  rc_integrator integrator;
  const double *times; /* recorded times, ascending, >= 0 */
  size_t n_times;
  double dt;           /* gd step */
  double rtol, atol;   /* rk45 tolerances (defaults 1e-10, 1e-12) */
  rc_spectrum_method exact_method; /* for `exact` */
  rc_progress progress;
  void *progress_ctx;
  rc_precision precision; /* gd only (default f64) */
  int threads;            /* gd: OpenMP threads (0: OpenMP's default, capped: rc_thread_count) */
  unsigned long max_steps; /* rk45: steps in all before the run is stopped (0: RC_RK45_MAX_STEPS) */
} rc_integrate_config;

/** rk45's default bound on the number of steps of one run: a run needing
 * more stops with an error naming t, the step size and the tolerances. */
#define RC_RK45_MAX_STEPS 10000000UL

/** The smallest rk45 relative tolerance accepted. Every step rounds the state
 * by up to 1.1e-16 of its size, and the roundings of a run's steps add up: a
 * tolerance below about 50 roundings is one the result cannot meet, and the
 * step size controller, chasing it, shrinks the step without end. */
#define RC_RK45_MIN_RTOL 1e-14

/** RC_EINVAL with a message unless rtol >= RC_RK45_MIN_RTOL and atol >= 0
 * (both finite); 0 stands for the defaults (1e-10, 1e-12). */
rc_status rc_rk45_check_tolerances(double rtol, double atol, rc_error *err);

/** Integrate from `init` over cfg->times, calling `obs` at each. For gd the
 * times must be multiples of dt (the step index is round(t/dt)); the step is
 * refused when dt * fast_rate >= 2 (fast_rate from spec, which must then be
 * non-NULL), and a NaN or Inf stops the run with the step and the quantity. */
rc_status rc_integrate(const rc_dataset *ds, const rc_minimal_params *p, const rc_spectrum *spec,
                       const rc_state *init, const rc_integrate_config *cfg, rc_observer obs,
                       void *obs_ctx, rc_error *err);

/* ---- checkpoints and resuming (checkpoint.h) ---- */

/** Where an integrator stands at a point from which it can continue bit for
 * bit: gd after any step, rk45 and exact at a recorded time. */
typedef struct {
  size_t next_time; /* recorded times already handed to the observer */
  size_t step;      /* gd: steps taken */
  double t;         /* time of `state` */
  double h;         /* rk45: the driver's next step size (what its controller chose) */
  rc_state *state;  /* embeddings at t (exact: NULL, it needs none) */
} rc_resume_point;

typedef rc_status (*rc_checkpoint_fn)(const rc_resume_point *p, void *ctx, rc_error *err);

typedef struct {
  double every;                /* simulated time between two calls of save (0: never) */
  rc_checkpoint_fn save;
  void *ctx;
  const rc_resume_point *from; /* continue from here instead of from t = 0, or NULL */
} rc_checkpointing;

/** rc_integrate that can start from a resume point and calls ck->save about
 * every ck->every of simulated time (gd: every round(every/dt) steps; rk45 and
 * exact: at the first recorded time at least `every` after the last save). The
 * states visited and the numbers produced are exactly those of an
 * uninterrupted run. ck may be NULL. */
rc_status rc_integrate_resumable(const rc_dataset *ds, const rc_minimal_params *p, const rc_spectrum *spec,
                                 const rc_state *init, const rc_integrate_config *cfg,
                                 const rc_checkpointing *ck, rc_observer obs, void *obs_ctx, rc_error *err);

/* gd engine: a prepared plan owning the embeddings in the chosen precision
 * and a compact per-sample copy of the observations (label and coefficients
 * for clean samples; frustrated ones read ds's compressed rows), so a step is
 * one streaming pass over memory with no allocation. Samples are cut into
 * chunks that depend only on N and K; each chunk sums its label accumulators
 * sum_i A_ic (x_i - y_c) on its own and the chunks are added in a fixed order,
 * so the result is bit-identical for any number of threads. `ds` must outlive
 * the plan. Exposed for tests and benchmarks; rc_integrate drives it for gd. */
typedef struct rc_gd rc_gd;
rc_status rc_gd_alloc(const rc_dataset *ds, const rc_minimal_params *p, size_t d, double dt, rc_precision prec,
                      int threads, rc_gd **out, rc_error *err);
/** Copy a state into the plan (converted to its precision; RC_ENUMERIC if a value does not fit). */
rc_status rc_gd_load(rc_gd *g, const rc_state *s, rc_error *err);
/** Copy the plan's embeddings out into s (converted to f64). */
void rc_gd_store(const rc_gd *g, rc_state *s);
/** Run `steps` steps z <- z + dt F(z). *done gets the number of steps taken;
 * if a step leaves a NaN or Inf it stops there (*done counts that step) and
 * returns RC_ENUMERIC naming the first non-finite quantity (samples first). */
rc_status rc_gd_run(rc_gd *g, size_t steps, size_t *done, rc_error *err);
/** Bytes one step must move through memory: every embedding read and written
 * once, plus the observation arrays it reads. */
double rc_gd_bytes_per_step(const rc_gd *g);
/** Threads the last step actually ran on (0 before any step). */
int rc_gd_threads_used(const rc_gd *g);
void rc_gd_free(rc_gd *g);

/* Exact propagator: precomputes the decomposition for `init` once, then gives
 * the state at any t in O(N d + K^2 d). */
typedef struct rc_exact rc_exact;
rc_status rc_exact_alloc(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *init,
                         rc_spectrum_method method, rc_exact **out, rc_error *err);
rc_status rc_exact_eval(rc_exact *e, double t, rc_state *out, rc_error *err);
/** The labels y(t) alone (K x d into y), O(K^2 d) under the K x K reduction. */
rc_status rc_exact_labels(rc_exact *e, double t, double *y);
/** collapse_time from the exact labels, whatever the recorded times: D(t) on
 * a geometric grid 0, t_min, 1.01 t_min, ..., t_end, then GSL's Brent solver
 * on the first interval where D(t) - eps D(0) changes sign (to 1e-14 relative).
 * *found = 0 when D(t) > eps D(0) on the whole grid. */
rc_status rc_exact_collapse_time(rc_exact *e, double t_min, double t_end, double eps, double *t_out, int *found,
                                 rc_error *err);
void rc_exact_free(rc_exact *e);

/* ---- term models (head.h) ---- */
#include "repcollapse/head.h"
#include "repcollapse/reduced.h"

/** Integrate a term model on the particle system (rk45 or gd) from init
 * (which carries P when the model has a head). For gd the step is refused
 * when dt times the estimated spectral radius of the Jacobian at the initial
 * state (rc_head_rate_estimate) is >= 2; NaN/Inf stops the run. */
rc_status rc_integrate_head(const rc_dataset *ds, const rc_head_params *hp, const rc_state *init,
                            const rc_integrate_config *cfg, rc_observer obs, void *obs_ctx, rc_error *err);

/* Term-model gd engine (head_gd.c): one step z <- z + dt F(z) of the particle
 * vector field (rc_head_vector_field) as a fused pass, x read and written once,
 * the head products as GEMMs on tiles of samples; OpenMP over blocks that depend
 * only on N and K, so the step is bit-identical for any thread count. `ds` must
 * outlive the plan. rc_integrate_head drives it for gd; exposed for tests and
 * benchmarks. */
typedef struct rc_head_gd rc_head_gd;
rc_status rc_head_gd_alloc(const rc_dataset *ds, const rc_head_params *hp, size_t d, double dt, int threads,
                           rc_head_gd **out, rc_error *err);
/** One step in place on z (layout of rc_state_alloc_head); *bad = 1 when a value became NaN or Inf. */
rc_status rc_head_gd_step(rc_head_gd *g, double *z, int *bad);
/** GEMM flops of one step (2 m n k per product). */
double rc_head_gd_gemm_flops(const rc_head_gd *g);
/** Bytes one step must move through memory (x read and written once, the observations, y, P, block sums). */
double rc_head_gd_bytes_per_step(const rc_head_gd *g);
int rc_head_gd_threads_used(const rc_head_gd *g);
/** Samples per tile (the GEMMs' tall dimension). */
size_t rc_head_gd_tile(void);
void rc_head_gd_free(rc_head_gd *g);

/** Estimate of the largest |eigenvalue| of the vector field's Jacobian at z
 * (power iteration with central-difference Jacobian-vector products). */
double rc_head_rate_estimate(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d,
                             rc_head_ws *ws);

/** Observer of the reduced integrator: the reduced state u at time t. */
typedef rc_status (*rc_reduced_observer)(double t, const double *u, void *ctx, rc_error *err);

/** Integrate the group-reduced dynamics (GSL rkf45, cfg->rtol/atol) from u0 over cfg->times. */
rc_status rc_integrate_reduced(rc_reduced *r, const double *u0, const rc_integrate_config *cfg,
                               rc_reduced_observer obs, void *obs_ctx, rc_error *err);

#ifdef __cplusplus
}
#endif

#endif
