/* experiments.h: the analyses of docs/model.md section 3 as experiments over runs:
 * a fixed point found from the end of a run, the mean-field self-consistency
 * table across frustration, and the phase diagram over initial conditions.
 * Each produces JSON (and CSV where tabular); the CLI only parses and prints. */
#ifndef REPCOLLAPSE_EXPERIMENTS_H
#define REPCOLLAPSE_EXPERIMENTS_H

#include <stdio.h>

#include <jansson.h>

#include "repcollapse/run.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A fixed point's run is at rest when |F(u)| <= RC_FIXEDPOINT_REST_TOL *
 * fast_rate * max|u| at its end (u: the reduced state's group means, labels
 * and head; fast_rate: the minimal model's fastest rate on the data). A run
 * not at rest goes on, RC_FIXEDPOINT_EXTEND times longer each time, at most
 * RC_FIXEDPOINT_MAX_EXTENSIONS times. */
#define RC_FIXEDPOINT_REST_TOL 1e-9
#define RC_FIXEDPOINT_EXTEND 4.0
#define RC_FIXEDPOINT_MAX_EXTENSIONS 3

/** Run cfg (no files) until at rest (above), then find a fixed point of the
 * reduced vector field from the run's end state and check its stability
 * (zero-mode tolerance rel_tol * max |lambda|). JSON keys: residual,
 * start_residual, rest {reached, residual, tolerance, criterion, t_end,
 * extensions} (reached false: the run never came to rest and the point is
 * only the solver's), loss, min_label_distance, head_eigenvalues,
 * separation_head_gain, stability, run (t_end, integrator, final metrics). */
rc_status rc_fixedpoint_experiment(const rc_run_config *cfg, double rel_tol, json_t **out, rc_error *err);

/** Settings of the self-consistency table and the phase diagram. */
typedef struct {
  const double *f;       /* frustration fractions */
  size_t n_f;
  const double *ratios;  /* eta_head sigma^2 / eta_x values (phase diagram; NULL: the base config's) */
  size_t n_ratios;
  const rc_model *models; /* models compared (phase diagram; NULL: the base config's) */
  size_t n_models;
  size_t seeds;          /* initial conditions: init seeds base.init.seed ... + seeds - 1 */
  double apart_threshold; /* "stays apart": D(t_end) > apart_threshold * D(0) (default 1e-3) */
  double apart_decay_max; /* phase, docs/model.md 6.5: also the decay rate of the collapse metric over the last
                             decade of t below apart_decay_max * the minimal model's slow_rate (0: not required) */
  int check;             /* selfconsistent: add particle simulations at each f */
} rc_sweep_settings;

/** The self-consistency table across f (docs/model.md section 3): one JSON object
 * with "rows" (one per f) and the notes on which quantities are predicted and
 * which are free. The pattern must be pair, ring or complete. */
rc_status rc_selfconsistent_experiment(const rc_run_config *base, const rc_sweep_settings *s, json_t **out,
                                       rc_error *err);

/** Phase diagram: fraction of initial conditions whose classes stay apart
 * (Wilson 95% interval), median final separation, per model, f and head rate
 * ratio; crossover f_c where the fraction crosses one half. JSON with "rows"
 * and "crossover". Runs use base->integrator (reduced by default). */
rc_status rc_phase_experiment(const rc_run_config *base, const rc_sweep_settings *s, json_t **out, rc_error *err);

/** docs/model.md 6.5: the predicted decay rate of D for the mechanism cfg describes, given the data's minimal-model
 * slow_rate: slow_rate + w (weight decay on x and y) in flow, through the optimizer's per-mode root (gd, momentum,
 * Nesterov) in discrete time (a minibatch run by its full-batch mean); NAN for term models, Adam, decay on a subset. */
double rc_phase_predicted_slow_rate(const rc_run_config *cfg, double slow_rate);

/** The least-squares slope of -log(value[col]) over the rows with t >= t_end / 10 (t_end: the last row's t) and a
 * positive valid value: the decay rate over the last decade; NAN with fewer than 3 such rows. */
double rc_phase_last_decade_rate(const rc_metrics_row *rows, size_t n_rows, int col);

/** Write the "rows" array of such a JSON object as CSV (columns from the first row's keys). */
rc_status rc_json_rows_write_csv(json_t *obj, const char *path, rc_error *err);
/** The same CSV text written to an open stream. */
rc_status rc_json_rows_print_csv(json_t *obj, FILE *fp, rc_error *err);

/** Wilson score interval (95%) of k successes in n trials. */
void rc_wilson_interval(size_t k, size_t n, double *lo, double *hi);

#ifdef __cplusplus
}
#endif

#endif
