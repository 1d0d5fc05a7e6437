/* report.c: JSON views of data sets, spectra and runs (jansson), used by the
 * CLI's `data` and `spectrum` and by summary.json. Non-finite numbers become
 * null, as JSON has no NaN. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "repcollapse/io.h"
#include "repcollapse/fixedpoint.h"
#include "repcollapse/report.h"
#include "repcollapse/trainer.h"
#include "repcollapse/repcollapse.h"

json_t *rc_json_number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *rc_spectrum_json(const rc_spectrum *s, const rc_components *comp) {
  json_t *j = json_object();
  json_object_set_new(j, "zero_modes", json_integer((json_int_t)s->zero_modes));
  json_t *cl = json_array();
  if (comp) {
    for (size_t k = 0; k < comp->n_components; k++) {
      json_t *one = json_array();
      for (size_t c = 0; c < comp->n_classes; c++)
        if (comp->component_of_class[c] == k) json_array_append_new(one, json_integer((json_int_t)c));
      json_array_append_new(cl, one);
    }
  }
  json_object_set_new(j, "components", cl);
  json_object_set_new(j, "slow_rate", rc_json_number(s->n_rates ? s->slow_rate : NAN));
  json_object_set_new(j, "next_rate", rc_json_number(s->n_rates ? s->next_rate : NAN));
  json_object_set_new(j, "fast_rate", rc_json_number(s->n_rates ? s->fast_rate : NAN));
  json_t *rates = json_array();
  for (size_t k = 0; k < s->n_rates; k++) {
    json_t *pair = json_array();
    json_array_append_new(pair, json_real(s->rate[k]));
    json_array_append_new(pair, json_integer((json_int_t)s->multiplicity[k]));
    json_array_append_new(rates, pair);
  }
  json_object_set_new(j, "rates", rates);
  json_object_set_new(j, "method", json_string(s->method == RC_SPECTRUM_KK ? "kxk" : "group"));
  json_object_set_new(j, "merge_tolerance", json_real(s->tolerance));
  return j;
}

json_t *rc_head_json(const double *P, const double *Y, size_t K, size_t d) {
  json_t *j = json_object();
  double *re = malloc(d * sizeof *re), *im = malloc(d * sizeof *im);
  size_t npairs = K * (K - 1) / 2;
  double *gain = malloc((npairs ? npairs : 1) * sizeof *gain);
  if (re && im && gain && rc_head_eigenvalues(P, d, re, im, NULL) == RC_OK) {
    json_t *ev = json_array();
    for (size_t k = 0; k < d; k++) {
      json_t *pair = json_array();
      json_array_append_new(pair, json_real(re[k]));
      json_array_append_new(pair, json_real(im[k]));
      json_array_append_new(ev, pair);
    }
    json_object_set_new(j, "head_eigenvalues", ev);
    rc_separation_gains(Y, P, K, d, 1e-9, gain);
    json_t *g = json_array();
    size_t k = 0;
    for (size_t a = 0; a < K; a++)
      for (size_t b = a + 1; b < K; b++, k++) {
        json_t *t = json_array();
        json_array_append_new(t, json_integer((json_int_t)a));
        json_array_append_new(t, json_integer((json_int_t)b));
        json_array_append_new(t, rc_json_number(gain[k]));
        json_array_append_new(g, t);
      }
    json_object_set_new(j, "separation_head_gain", g);
  }
  free(re);
  free(im);
  free(gain);
  return j;
}

json_t *rc_dataset_json(const rc_dataset *ds, const rc_components *comp) {
  json_t *j = json_object();
  json_object_set_new(j, "n_samples", json_integer((json_int_t)ds->n_samples));
  json_object_set_new(j, "n_classes", json_integer((json_int_t)ds->n_classes));
  json_object_set_new(j, "n_observations", json_integer((json_int_t)ds->total)); /* a count of observations */
  json_object_set_new(j, "n_frustrated", json_integer((json_int_t)ds->n_frustrated));
  json_object_set_new(j, "frustration", json_real(rc_dataset_frustration(ds)));
  json_t *sizes = json_array();
  size_t *cnt = calloc(ds->n_classes ? ds->n_classes : 1, sizeof *cnt);
  for (size_t i = 0; cnt && i < ds->n_samples; i++)
    if (ds->clean_label[i] >= 0) cnt[ds->clean_label[i]]++;
  for (size_t c = 0; cnt && c < ds->n_classes; c++) json_array_append_new(sizes, json_integer((json_int_t)cnt[c]));
  free(cnt);
  json_object_set_new(j, "clean_per_class", sizes);
  if (comp) {
    json_object_set_new(j, "n_components", json_integer((json_int_t)comp->n_components));
  }
  return j;
}

json_t *rc_tool_json(void) {
  json_t *tool = json_object();
  json_object_set_new(tool, "name", json_string("repcollapse"));
  json_object_set_new(tool, "version", json_string(rc_version()));
  json_object_set_new(tool, "commit", json_string(rc_source_commit()));
  return tool;
}

json_t *rc_metrics_row_json(const rc_metrics_row *row) {
  json_t *j = json_object();
  json_object_set_new(j, "t", json_real(row->t));
  for (int m = 0; m < RC_N_METRICS; m++)
    json_object_set_new(j, rc_metric_names[m], row->valid[m] ? json_real(row->value[m]) : json_null());
  return j;
}

json_t *rc_run_summary_json(const rc_run_config *cfg, const rc_run_result *r) {
  json_t *j = json_object();
  json_object_set_new(j, "tool", rc_tool_json());
  if (cfg->command_line) json_object_set_new(j, "command_line", json_string(cfg->command_line));
  json_object_set_new(j, "rng", json_string(rc_rng_name()));
  if (cfg->settings) { /* the options as given: `repcollapse run --config summary.json` reruns this run */
    json_t *settings = json_loads(cfg->settings, 0, NULL);
    if (settings) json_object_set_new(j, "settings", settings);
  }

  if (r->has_observations_hash && cfg->data.observations_file) {
    /* every input file with a hash of its content: a rerun from this file refuses a changed input */
    json_t *files = json_object(), *f = json_object();
    char *abs = realpath(cfg->data.observations_file, NULL), hex[24];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)r->observations_hash);
    json_object_set_new(f, "path", json_string(abs ? abs : cfg->data.observations_file));
    json_object_set_new(f, "fnv1a64", json_string(hex));
    free(abs);
    json_object_set_new(files, "observations", f);
    json_object_set_new(j, "input_files", files);
  }

  json_t *in = json_object();
  json_t *data = json_object();
  const rc_data_spec *ds = &cfg->data;
  if (ds->observations_file) {
    json_object_set_new(data, "observations", json_string(ds->observations_file));
  } else {
    json_object_set_new(data, "classes", json_integer((json_int_t)r->ds->n_classes));
    json_t *pc = json_array();
    for (size_t k = 0; k < ds->n_class_sizes; k++) json_array_append_new(pc, json_integer((json_int_t)ds->class_sizes[k]));
    json_object_set_new(data, "per_class", pc);
    if (ds->n_pairs) {
      json_t *fr = json_array();
      for (size_t k = 0; k < ds->n_pairs; k++) {
        char buf[96];
        snprintf(buf, sizeof buf, "%u-%u:%zu", ds->pairs[k].a, ds->pairs[k].b, ds->pairs[k].count);
        json_array_append_new(fr, json_string(buf));
      }
      json_object_set_new(data, "frustrated", fr);
    }
    json_object_set_new(data, "frustration", ds->has_frustration ? json_real(ds->frustration) : json_null());
    json_object_set_new(data, "pattern", json_string(rc_pattern_name(ds->pattern)));
  }
  json_object_set_new(data, "data_seed", json_integer((json_int_t)ds->data_seed));
  json_object_set_new(in, "data", data);
  json_t *model = json_object();
  char terms[256];
  rc_model_format(&cfg->terms, terms, sizeof terms);
  json_object_set_new(model, "model", json_string(cfg->terms.name));
  json_object_set_new(model, "terms", json_string(terms));
  /* the settings of docs/model.md section 6.2, where the model uses them */
  if (cfg->terms.sphere) json_object_set_new(model, "sphere", json_true());
  if (rc_model_has_kind(&cfg->terms, RC_TERM_UNIFORMITY))
    json_object_set_new(model, "uniformity_t", json_real(rc_model_uniformity_t(&cfg->terms)));
  if (rc_model_has_kind(&cfg->terms, RC_TERM_INFONCE))
    json_object_set_new(model, "temperature", json_real(rc_model_temperature(&cfg->terms)));
  if (rc_model_has_kind(&cfg->terms, RC_TERM_UNIFORMITY) && cfg->train.batch) {
    for (size_t q = 0; q < cfg->terms.n_terms; q++)
      if (cfg->terms.terms[q].kind == RC_TERM_UNIFORMITY && cfg->terms.terms[q].source == RC_BRANCH_X) {
        json_object_set_new(model, "uniformity_x_over",
                            json_string("each batch's samples: a biased estimate of the full-data term"));
        break;
      }
  }
  if (rc_model_has_head(&cfg->terms)) {
    json_object_set_new(model, "eta_head", json_real(cfg->eta_head));
    json_object_set_new(model, "head_init", json_string(rc_head_init_name(cfg->head_init)));
    if (cfg->head_init == RC_HEAD_GAUSSIAN) json_object_set_new(model, "head_scale", json_real(cfg->head_scale));
    /* docs/model.md section 3: outcomes depend on eta_head sigma^2 / eta_x */
    json_object_set_new(model, "head_rate_ratio",
                        json_real(cfg->eta_head * cfg->init.sigma * cfg->init.sigma / cfg->model.eta_x));
  }
  json_object_set_new(model, "rates", json_string(rc_rate_scheme_name(cfg->model.rates)));
  json_object_set_new(model, "eta_x", json_real(cfg->model.eta_x));
  json_object_set_new(model, "eta_y", json_real(cfg->model.eta_y));
  json_object_set_new(in, "model", model);
  json_t *init = json_object();
  json_object_set_new(init, "init", json_string(rc_init_kind_name(cfg->init.kind)));
  json_object_set_new(init, "sigma", json_real(cfg->init.sigma));
  if (cfg->init.kind == RC_INIT_CLASS) json_object_set_new(init, "init_spread", json_real(cfg->init.spread));
  json_object_set_new(init, "init_seed", json_integer((json_int_t)cfg->init.seed));
  json_object_set_new(init, "dim", json_integer((json_int_t)cfg->dim));
  json_object_set_new(in, "init", init);
  json_t *integ = json_object();
  json_object_set_new(integ, "integrator", json_string(rc_integrator_name(cfg->integrator)));
  json_object_set_new(integ, "t_end", json_real(r->t_end));
  if (cfg->integrator == RC_INTEGRATOR_GD) {
    json_object_set_new(integ, "dt", json_real(cfg->dt));
    json_object_set_new(integ, "steps", json_integer((json_int_t)llround(r->t_end / cfg->dt)));
    json_object_set_new(integ, "precision", json_string(rc_precision_name(cfg->precision)));
    json_object_set_new(integ, "threads", cfg->threads ? json_integer(cfg->threads) : json_string("all cores"));
  }
  if (cfg->integrator == RC_INTEGRATOR_RK45) {
    json_object_set_new(integ, "rtol", json_real(cfg->rtol));
    json_object_set_new(integ, "atol", json_real(cfg->atol));
    json_object_set_new(integ, "max_steps", json_integer((json_int_t)(cfg->max_steps ? cfg->max_steps : RC_RK45_MAX_STEPS)));
  }
  if (cfg->times) json_object_set_new(integ, "times", json_string("explicit (--times)"));
  else {
    json_object_set_new(integ, "points", json_integer((json_int_t)cfg->points));
    json_object_set_new(integ, "t_min", json_real(cfg->t_min > 0 ? cfg->t_min : 1e-2 / r->spec->fast_rate));
  }
  json_object_set_new(integ, "eps", json_real(cfg->eps));
  json_object_set_new(in, "integration", integ);
  json_object_set_new(j, "inputs", in);

  json_object_set_new(j, "data", rc_dataset_json(r->ds, r->comp));
  json_object_set_new(j, "spectrum", rc_spectrum_json(r->spec, r->comp));
  json_t *pred = json_object();
  json_object_set_new(pred, "final_min_label_distance", rc_json_number(r->predicted_final_min_label_distance));
  json_object_set_new(pred, "slow_rate", rc_json_number(r->spec->n_rates ? r->spec->slow_rate : NAN));
  json_object_set_new(j, "predicted", pred);
  json_object_set_new(j, "final", r->n_rows ? rc_metrics_row_json(&r->rows[r->n_rows - 1]) : json_null());
  if (r->has_head) json_object_set_new(j, "final_head", rc_head_json(r->final_head, r->final_labels, r->ds->n_classes, r->dim));
  json_object_set_new(j, "collapse_time", r->has_collapse_time ? json_real(r->collapse_time) : json_null());
  json_object_set_new(j, "collapse_time_method", json_string(r->collapse_time_exact ? "exact-brent" : "interpolated"));
  if (r->has_zero_norm) /* cosine and uniformity terms: zero-norm vectors contribute 0 (docs/model.md 6.2) */
    json_object_set_new(j, "zero_norm_vectors", json_real(r->zero_norm_vectors));
  json_object_set_new(j, "fitted_slow_rate", r->has_fitted_slow_rate ? json_real(r->fitted_slow_rate) : json_null());
  if (cfg->collapse_metric != RC_COLLAPSE_MIN_LABEL_DISTANCE) /* what collapse_time and fitted_slow_rate read (6.0) */
    json_object_set_new(j, "collapse_metric", json_string(rc_collapse_metric_name(cfg->collapse_metric)));
  if (!rc_train_is_plain(&cfg->train)) /* the optimizer, its momentum regime, Adam's note, decay, batch, EMA (6.1) */
    json_object_set_new(j, "training",
                        rc_trainer_settings_json(&cfg->train, cfg->dt, r->spec ? r->spec->slow_rate : 0.0,
                                                 cfg->init.seed, cfg->integrator == RC_INTEGRATOR_GD));
  json_object_set_new(j, "wall_seconds", json_real(r->wall_seconds));
  return j;
}

rc_status rc_json_write_file(json_t *j, const char *path, rc_error *err) {
  rc_atomic_file f;
  rc_status st = rc_atomic_open(&f, path, err);
  if (st) return st;
  if (json_dumpf(j, f.fp, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0) {
    rc_atomic_abort(&f);
    return rc_error_set(err, RC_EIO, "cannot write '%s'", path);
  }
  fputc('\n', f.fp);
  return rc_atomic_commit(&f, err);
}
