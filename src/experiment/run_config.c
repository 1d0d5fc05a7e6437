/* run_config.c: the settings every run shares (run.h), whatever its encoder:
 * the defaults, the inputs' keywords, the end-time rule, the recorded-time
 * grid, the term model's parameters, and the checks both pipelines make
 * (run.c for the table encoder, run_encoder.c for encoders on inputs), so
 * that both depend on this file and not on each other. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "repcollapse/engine.h"
#include "repcollapse/run.h"

rc_run_config rc_run_config_default(void) {
  rc_run_config c;
  memset(&c, 0, sizeof c);
  c.data.pattern = RC_PATTERN_PAIR;
  c.data.data_seed = 1;
  c.model = rc_minimal_params_default();
  rc_model_preset("minimal", &c.terms, NULL);
  c.eta_head = 1.0;
  c.head_init = RC_HEAD_IDENTITY;
  c.head_scale = 1.0;
  c.init = rc_init_params_default();
  c.dim = 16;
  c.integrator = RC_INTEGRATOR_EXACT;
  c.exact_method = RC_SPECTRUM_AUTO;
  c.points = 80;
  c.eps = 1e-2;
  c.rtol = 1e-10;
  c.atol = 1e-12;
  c.train = rc_train_settings_default();
  c.collapse_metric = RC_COLLAPSE_MIN_LABEL_DISTANCE;
  c.metrics = RC_METRICS_ALL;
  c.encoder = RC_ENCODER_TABLE;
  c.inputs = RC_RUN_INPUTS_TEACHER;
  c.ts = rc_ts_data_spec_default();
  c.eta_w = 1.0;
  c.hidden = 64;
  c.activation = RC_ACTIVATION_RELU;
  return c;
}

rc_status rc_parse_run_inputs(const char *text, rc_run_inputs *out, rc_error *err) {
  if (!strcmp(text, "teacher")) *out = RC_RUN_INPUTS_TEACHER;
  else if (!strcmp(text, "mixture")) *out = RC_RUN_INPUTS_MIXTURE;
  else if (!strcmp(text, "fashion-mnist")) *out = RC_RUN_INPUTS_FASHION_MNIST;
  else if (!strcmp(text, "file")) *out = RC_RUN_INPUTS_FILE;
  else
    return rc_error_set(err, RC_EINVAL, "unknown inputs '%s' (expected teacher, mixture, fashion-mnist or file; a file "
                        "is given with --inputs file --inputs-file PATH)", text);
  return RC_OK;
}

const char *rc_run_inputs_name(rc_run_inputs k) {
  static const char *const names[] = {"teacher", "mixture", "fashion-mnist", "file"};
  return (unsigned)k < 4 ? names[k] : "unknown";
}

void rc_run_result_free(rc_run_result *r) {
  if (!r) return;
  if (r->inputs) rc_ts_data_free(r->inputs); /* owns r->ds */
  else rc_dataset_free(r->ds);
  free(r->test_accuracy);
  free(r->theta_final);
  free(r->w_singular);
  rc_spectrum_free(r->spec);
  rc_components_free(r->comp);
  free(r->rows);
  rc_state_free(r->final_state);
  free(r->final_reduced);
  free(r);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

rc_status rc_time_grid(double t_min, double t_end, size_t points, double dt, double **out, size_t *n_out,
                       rc_error *err) {
  *out = NULL;
  *n_out = 0;
  if (!(t_end > 0) || !isfinite(t_end)) return rc_error_set(err, RC_EINVAL, "t-end must be positive (got %g)", t_end);
  if (points == 0) return rc_error_set(err, RC_EINVAL, "the time grid needs at least one point");
  if (points > 10000000) return rc_error_set(err, RC_EINVAL, "too many recorded times (%zu; at most 10000000)", points);
  if (!(t_min > 0) || t_min > t_end) t_min = t_end;
  double *t = rc_calloc(points + 1, sizeof *t, "time grid", err);
  if (!t) return RC_ENOMEM;
  t[0] = 0.0;
  double l0 = log(t_min), l1 = log(t_end);
  for (size_t k = 0; k < points; k++) {
    double tk = points == 1 ? t_end : exp(l0 + (l1 - l0) * (double)k / (double)(points - 1));
    if (k == points - 1) tk = t_end;
    if (dt > 0) tk = dt * fmax(1.0, (double)llround(tk / dt));
    t[k + 1] = tk;
  }
  qsort(t, points + 1, sizeof *t, cmp_double);
  size_t n = 0;
  for (size_t k = 0; k <= points; k++)
    if (n == 0 || t[k] > t[n - 1]) t[n++] = t[k];
  *out = t;
  *n_out = n;
  return RC_OK;
}

rc_head_params rc_run_head_params(const rc_run_config *cfg) {
  rc_head_params hp = rc_head_params_default();
  hp.base = cfg->model;
  hp.model = cfg->terms;
  hp.eta_head = cfg->eta_head;
  hp.head_init = cfg->head_init;
  hp.head_scale = cfg->head_scale;
  return hp;
}

rc_status rc_run_end_time(const rc_run_config *cfg, double *t_end_out, rc_error *err) {
  double t_end = cfg->t_end;
  char what[96];
  const char *from = NULL; /* what fixed t_end so far, when not --t-end */
  if (cfg->integrator == RC_INTEGRATOR_GD && cfg->steps && cfg->dt > 0) {
    double te = (double)cfg->steps * cfg->dt;
    if (t_end > 0 && fabs(t_end - te) > 1e-9 * te)
      return rc_error_set(err, RC_EINVAL, "--t-end %g disagrees with --steps %zu x --dt %g = %g", t_end, cfg->steps,
                          cfg->dt, te);
    snprintf(what, sizeof what, "--steps %zu x --dt %g = %g", cfg->steps, cfg->dt, te);
    from = what;
    t_end = te;
  }
  if (cfg->times && cfg->n_times) {
    double last = cfg->times[cfg->n_times - 1];
    if (t_end > 0 && fabs(last - t_end) > 1e-9 * t_end) {
      if (from != what) snprintf(what, sizeof what, "--t-end %g", t_end);
      return rc_error_set(err, RC_EINVAL, "--times ends at %g, which disagrees with %s: give one of them", last, what);
    }
    t_end = last;
  }
  if (cfg->t_min > 0 && t_end > 0 && cfg->t_min > t_end)
    return rc_error_set(err, RC_EINVAL, "--t-min %g is past --t-end %g", cfg->t_min, t_end);
  *t_end_out = t_end;
  return RC_OK;
}

rc_status rc_experiment_need_classes(const rc_data_spec *data, const char *what, rc_error *err) {
  size_t n = 0, k = 0;
  double bytes = 0.0;
  rc_status st = rc_data_spec_size(data, &n, &k, &bytes, err);
  if (st) return st;
  if (k < 2)
    return rc_error_set(err, RC_EINVAL,
                        "%s needs at least two classes (got %zu): with one class there is no separation to keep or lose",
                        what, k);
  return RC_OK;
}

rc_status rc_run_check_uniformity(const rc_model *m, size_t n, size_t batch, rc_error *err) {
  int ux = 0;
  for (size_t q = 0; q < m->n_terms; q++)
    ux |= m->terms[q].kind == RC_TERM_UNIFORMITY && m->terms[q].source == RC_BRANCH_X;
  const size_t over = batch && batch < n ? batch : n; /* a batch has at most B samples */
  if (ux && over > RC_UNIFORMITY_X_MAX_SAMPLES)
    return rc_error_set(err, RC_EINVAL,
                        "uniformity(x) costs O(N^2 d) per step: %zu samples%s is over the budget of %d (use "
                        "uniformity(y), or --batch B with B <= %d)",
                        over, batch && batch < n ? " per batch" : "", RC_UNIFORMITY_X_MAX_SAMPLES,
                        RC_UNIFORMITY_X_MAX_SAMPLES);
  return RC_OK;
}
