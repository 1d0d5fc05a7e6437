/* encoder_report.c: summary.json of a run of an encoder on inputs (the
 * linear encoder on teacher or mixture inputs, docs/model.md section 4): the
 * settings with their defaults, the data, the regime stated in words and
 * numbers (kernel top eigenvalue against (1 + sqrt(N/D))^2), the minimal
 * model's spectrum as the D >> N prediction, the final metrics and test
 * accuracy, collapse time and its method, fitted slow rate, the training
 * settings (optimizer, decay, batch, EMA), and the singular values of W. */
#include <math.h>
#include <stdio.h>

#include "repcollapse/repcollapse.h"
#include "repcollapse/report.h"
#include "repcollapse/run.h"
#include "repcollapse/teacher.h"
#include "repcollapse/trainer.h"

static const char *regime_statement(const char *regime) {
  if (regime[0] == 'o')
    return "D >= 4N: the kernel u_i.u_j is close to the identity, so each x_i = W u_i moves almost as in the "
           "minimal model (claim 6 is shown here); minimal_model_prediction applies";
  if (regime[0] == 'u')
    return "D + K <= N: a linear student cannot send every class to one point, so the minimal model's loss is "
           "minimised only by collapse, even at f = 0: the architecture itself frustrates the data";
  return "neither D >= 4N nor D + K <= N: the rates are the minimal model's scaled by the eigenvalues of U U^T "
         "(far from 1 here); minimal_model_prediction is only indicative";
}

static const char *flip_statement(const rc_ts_data *d) {
  if (d->D >= d->n)
    return "flip at D >= N: a linear student fits any labelling, so nothing is frustrated (flipped samples are "
           "clean, one label each); accuracy counts against the flipped labels, test_accuracy against the teacher";
  return "flip at D < N: flipped samples are clean, one label each, and frustrate only through the architecture; "
         "accuracy counts against the flipped labels, test_accuracy against the teacher";
}

static json_t *regime_json(const rc_run_config *cfg, const rc_run_result *r) {
  const rc_ts_data *d = r->inputs;
  const char *name = rc_ts_regime(d->n, d->D, d->K);
  json_t *j = json_object();
  json_object_set_new(j, "name", json_string(name));
  json_object_set_new(j, "statement", json_string(regime_statement(name)));
  json_object_set_new(j, "D_over_N", json_real((double)d->D / (double)d->n));
  json_object_set_new(j, "D_plus_K_minus_N", json_integer((json_int_t)d->D + (json_int_t)d->K - (json_int_t)d->n));
  json_object_set_new(j, "kernel_top_eigenvalue", rc_json_number(r->kernel_top));
  /* the Marchenko-Pastur edge (1 + sqrt(N/D))^2 is the top eigenvalue of the kernel of i.i.d. isotropic
   * inputs (the linear teacher's); a mixture's inputs have K means, whose spikes set the top eigenvalue */
  if (cfg->ts.teacher == RC_TEACHER_LINEAR) {
    const double edge = (1.0 + sqrt((double)d->n / (double)d->D)) * (1.0 + sqrt((double)d->n / (double)d->D));
    json_object_set_new(j, "kernel_edge_prediction", json_real(edge));
  } else {
    json_object_set_new(j, "kernel_edge_prediction", json_null());
    json_object_set_new(j, "kernel_edge_note",
                        json_string("the Marchenko-Pastur edge (1 + sqrt(N/D))^2 holds for i.i.d. isotropic inputs, not for "
                                    "a mixture, whose class means make spikes above it"));
  }
  json_object_set_new(j, "rate_estimate", rc_json_number(r->rate_estimate));
  if (d->ds->n_frustrated == 0 && d->n_altered > 0) json_object_set_new(j, "flip", json_string(flip_statement(d)));
  return j;
}

static json_t *inputs_json(const rc_run_config *cfg, const rc_run_result *r) {
  const rc_run_config *b = cfg;
  const rc_ts_data_spec *s = &cfg->ts;
  json_t *in = json_object();
  json_t *data = json_object();
  json_object_set_new(data, "task", json_string("teacher-student"));
  json_object_set_new(data, "encoder", json_string(rc_encoder_name(cfg->encoder)));
  json_object_set_new(data, "inputs", json_string(rc_run_inputs_name(cfg->inputs)));
  json_object_set_new(data, "n_clean", json_integer((json_int_t)s->n_samples));
  json_object_set_new(data, "samples", json_integer((json_int_t)s->n_samples));
  json_object_set_new(data, "input_dim", json_integer((json_int_t)s->input_dim));
  json_object_set_new(data, "classes", json_integer((json_int_t)s->n_classes));
  json_object_set_new(data, "teacher", json_string(rc_teacher_name(s->teacher)));
  if (s->teacher == RC_TEACHER_MIXTURE) {
    json_object_set_new(data, "mixture_noise", json_real(s->mixture_noise));
    json_object_set_new(data, "mixture_classes", json_string("balanced: sample i belongs to component i mod K"));
  }
  json_object_set_new(data, "frustration", json_real(s->frustration));
  json_object_set_new(data, "frustration_mode", json_string(rc_frustration_mode_name(s->mode)));
  json_object_set_new(data, "test_samples", json_integer((json_int_t)s->n_test));
  json_object_set_new(data, "data_seed", json_integer((json_int_t)s->seed));
  json_object_set_new(in, "data", data);
  json_t *model = json_object();
  char terms[256];
  rc_model_format(&b->terms, terms, sizeof terms);
  json_object_set_new(model, "model", json_string(b->terms.name));
  json_object_set_new(model, "terms", json_string(terms));
  json_object_set_new(model, "rates", json_string(rc_rate_scheme_name(b->model.rates)));
  json_object_set_new(model, "eta_w", json_real(cfg->eta_w));
  json_object_set_new(model, "eta_y", json_real(b->model.eta_y));
  if (rc_model_has_head(&b->terms)) {
    json_object_set_new(model, "eta_head", json_real(b->eta_head));
    json_object_set_new(model, "head_init", json_string(rc_head_init_name(b->head_init)));
    json_object_set_new(model, "head_rate_ratio", json_real(b->eta_head * b->init.sigma * b->init.sigma / cfg->eta_w));
  }
  json_object_set_new(in, "model", model);
  json_t *init = json_object();
  json_object_set_new(init, "sigma", json_real(b->init.sigma));
  json_object_set_new(init, "W", json_string("entries N(0, sigma^2/d): x = W u starts with entries of variance about sigma^2/d"));
  json_object_set_new(init, "init_seed", json_integer((json_int_t)b->init.seed));
  json_object_set_new(init, "dim", json_integer((json_int_t)b->dim));
  json_object_set_new(in, "init", init);
  json_t *integ = json_object();
  json_object_set_new(integ, "integrator", json_string(rc_integrator_name(b->integrator)));
  json_object_set_new(integ, "precision", json_string(rc_precision_name(cfg->precision)));
  json_object_set_new(integ, "threads", cfg->threads ? json_integer(cfg->threads) : json_string("all cores"));
  json_object_set_new(integ, "t_end", json_real(r->t_end));
  if (b->integrator == RC_INTEGRATOR_GD) {
    json_object_set_new(integ, "dt", json_real(b->dt));
    json_object_set_new(integ, "steps", json_integer((json_int_t)llround(r->t_end / b->dt)));
  } else {
    json_object_set_new(integ, "rtol", json_real(b->rtol));
    json_object_set_new(integ, "atol", json_real(b->atol));
  }
  json_object_set_new(integ, "eps", json_real(b->eps));
  json_object_set_new(in, "integration", integ);
  return in;
}

json_t *rc_encoder_summary_json(const rc_run_config *cfg, const rc_run_result *r) {
  json_t *j = json_object();
  json_object_set_new(j, "tool", rc_tool_json());
  if (cfg->command_line) json_object_set_new(j, "command_line", json_string(cfg->command_line));
  if (cfg->settings) { /* the options as given: `repcollapse run --config summary.json` reruns this run */
    json_t *settings = json_loads(cfg->settings, 0, NULL);
    if (settings) json_object_set_new(j, "settings", settings);
  }
  json_object_set_new(j, "rng", json_string(rc_rng_name()));
  json_object_set_new(j, "inputs", inputs_json(cfg, r));
  json_t *data = rc_dataset_json(r->ds, NULL);
  json_object_set_new(data, cfg->ts.mode == RC_FRUSTRATION_FLIP ? "n_flipped" : "n_conflict",
                      json_integer((json_int_t)r->inputs->n_altered));
  json_object_set_new(j, "data", data);
  json_object_set_new(j, "regime", regime_json(cfg, r));
  json_t *pred = rc_spectrum_json(r->spec, NULL);
  json_object_del(pred, "components");
  json_object_set_new(pred, "valid_when", json_string("D >> N (over-parameterized): the minimal model with eta_x = eta_W"));
  json_object_set_new(j, "minimal_model_prediction", pred);
  json_t *fin = r->n_rows ? rc_metrics_row_json(&r->rows[r->n_rows - 1]) : json_object();
  if (r->n_rows) json_object_set_new(fin, "test_accuracy", rc_json_number(r->test_accuracy[r->n_rows - 1]));
  json_object_set_new(j, "final", fin);
  json_object_set_new(j, "collapse_time", r->has_collapse_time ? json_real(r->collapse_time) : json_null());
  json_object_set_new(j, "collapse_time_method", json_string("interpolated"));
  json_object_set_new(j, "fitted_slow_rate", r->has_fitted_slow_rate ? json_real(r->fitted_slow_rate) : json_null());
  if (cfg->collapse_metric != RC_COLLAPSE_MIN_LABEL_DISTANCE) /* what collapse_time and fitted_slow_rate read (6.0) */
    json_object_set_new(j, "collapse_metric", json_string(rc_collapse_metric_name(cfg->collapse_metric)));
  if (!rc_train_is_plain(&cfg->train)) /* the optimizer, its momentum regime, Adam's note, decay, batch, EMA (6.1) */
    json_object_set_new(j, "training",
                        rc_trainer_settings_json(&cfg->train, cfg->dt, r->spec ? r->spec->slow_rate : 0.0,
                                                 cfg->init.seed, cfg->integrator == RC_INTEGRATOR_GD));
  json_t *w = json_object();
  json_t *sv = json_array();
  for (size_t k = 0; k < r->n_singular; k++) json_array_append_new(sv, json_real(r->w_singular[k]));
  json_object_set_new(w, "singular_values", sv);
  json_object_set_new(w, "effective_rank", rc_json_number(r->w_effective_rank));
  json_object_set_new(j, "W", w);
  if (r->has_head) json_object_set_new(j, "final_head", rc_head_json(r->final_head, r->final_labels, r->ds->n_classes, r->dim));
  json_object_set_new(j, "wall_seconds", json_real(r->wall_seconds));
  return j;
}
