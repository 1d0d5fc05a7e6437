/* fixedpoint_exp.c: a fixed point of a term model found from the end of a run
 * (docs/model.md section 3): run, reduce, Levenberg-Marquardt on the reduced
 * vector field, then stability from the reduced Jacobian's eigenvalues. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repcollapse/experiments.h"
#include "repcollapse/fixedpoint.h"
#include "repcollapse/report.h"

json_t *rc_stability_json(const rc_stability *s) {
  json_t *j = json_object();
  json_object_set_new(j, "max_real_part", rc_json_number(s->max_real_part));
  json_object_set_new(j, "zero_modes", json_integer((json_int_t)s->zero_modes));
  json_object_set_new(j, "tolerance", json_real(s->tolerance));
  json_object_set_new(j, "n_eigenvalues", json_integer((json_int_t)s->n));
  json_object_set_new(j, "verdict", json_string(rc_verdict_name(s->verdict)));
  json_t *top = json_array(); /* the largest real parts: what decides */
  for (size_t k = 0; k < s->n && k < 8; k++) {
    json_t *p = json_array();
    json_array_append_new(p, json_real(s->re[k]));
    json_array_append_new(p, json_real(s->im[k]));
    json_array_append_new(top, p);
  }
  json_object_set_new(j, "leading_eigenvalues", top);
  return j;
}

rc_status rc_fixedpoint_experiment(const rc_run_config *cfg, double rel_tol, json_t **out, rc_error *err) {
  *out = NULL;
  rc_run_config c = *cfg;
  c.out_dir = NULL;
  c.snapshots = 0;
  /* the reduced system exists for every model: the minimal one goes through it too.
   * The run goes on until it is at rest (|F| within the stated tolerance), each time
   * RC_FIXEDPOINT_EXTEND times longer, at most RC_FIXEDPOINT_MAX_EXTENSIONS times: the
   * solver then polishes a point the dynamics reached, not one near where it stopped */
  rc_run_result *r = NULL;
  rc_reduced *red = NULL;
  double *u = NULL, *du = NULL;
  double start = NAN, res = NAN, rest_tol = NAN;
  size_t extensions = 0;
  rc_status st = RC_OK;
  for (;;) {
    st = rc_run_execute(&c, &r, err);
    if (st) return st;
    rc_head_params hp = rc_run_head_params(&c);
    st = rc_reduced_alloc(r->ds, &hp, c.dim, &red, err);
    if (!st) {
      u = calloc(rc_reduced_dim(red), sizeof *u);
      du = calloc(rc_reduced_dim(red), sizeof *du);
      if (!u || !du) st = rc_error_set(err, RC_ENOMEM, "fixed point");
    }
    if (!st) {
      if (r->final_reduced) memcpy(u, r->final_reduced, rc_reduced_dim(red) * sizeof *u);
      else rc_reduced_from_state(red, r->final_state, u);
      rc_reduced_vector_field(red, u, du);
      double s = 0, scale = 0;
      for (size_t q = 0; q < rc_reduced_dim(red); q++) s += du[q] * du[q];
      for (size_t q = 0; q < rc_reduced_core_dim(red); q++) scale = fmax(scale, fabs(u[q]));
      start = sqrt(s);
      rest_tol = RC_FIXEDPOINT_REST_TOL * r->spec->fast_rate * scale;
    }
    if (st || !(start > rest_tol) || extensions == RC_FIXEDPOINT_MAX_EXTENSIONS) break;
    /* not at rest yet: run again, longer */
    c.t_end = RC_FIXEDPOINT_EXTEND * r->t_end;
    if (c.integrator == RC_INTEGRATOR_GD && c.steps) c.steps *= (size_t)RC_FIXEDPOINT_EXTEND;
    c.times = NULL;
    c.n_times = 0;
    extensions++;
    free(u);
    free(du);
    u = du = NULL;
    rc_reduced_free(red);
    red = NULL;
    rc_run_result_free(r);
    r = NULL;
  }
  if (!st) st = rc_reduced_fixed_point(red, u, &res, 300, err);
  rc_stability stab;
  memset(&stab, 0, sizeof stab);
  if (!st) st = rc_reduced_stability(red, u, rel_tol, &stab, err);
  if (!st) {
    json_t *j = json_object();
    char terms[256];
    rc_model_format(&c.terms, terms, sizeof terms);
    json_object_set_new(j, "model", json_string(c.terms.name));
    json_object_set_new(j, "terms", json_string(terms));
    json_object_set_new(j, "n_samples", json_integer((json_int_t)r->ds->n_samples));
    json_object_set_new(j, "n_classes", json_integer((json_int_t)r->ds->n_classes));
    json_object_set_new(j, "frustration", json_real(rc_dataset_frustration(r->ds)));
    json_object_set_new(j, "dim", json_integer((json_int_t)c.dim));
    if (rc_model_has_head(&c.terms))
      json_object_set_new(j, "head_rate_ratio", json_real(c.eta_head * c.init.sigma * c.init.sigma / c.model.eta_x));
    if (rc_reduced_is_invariant_set(red)) /* docs/model.md 6.2: no exact reduction for this model */
      json_object_set_new(j, "system", json_string("invariant set: every sample at its group mean, with the "
                                                   "per-sample linearisation for stability"));
    json_object_set_new(j, "residual", json_real(res));
    json_object_set_new(j, "start_residual", json_real(start));
    json_t *rest = json_object();
    json_object_set_new(rest, "reached", json_boolean(start <= rest_tol));
    json_object_set_new(rest, "residual", json_real(start));
    json_object_set_new(rest, "tolerance", json_real(rest_tol));
    char crit[160];
    snprintf(crit, sizeof crit, "|F(u)| at the end of the run <= %g * fast_rate * max|u| (u: group means, labels, head)",
             RC_FIXEDPOINT_REST_TOL);
    json_object_set_new(rest, "criterion", json_string(crit));
    json_object_set_new(rest, "t_end", json_real(r->t_end));
    json_object_set_new(rest, "extensions", json_integer((json_int_t)extensions));
    json_object_set_new(j, "rest", rest);
    json_object_set_new(j, "loss", json_real(rc_reduced_loss(red, u)));
    rc_state ys = {0, r->ds->n_classes, c.dim, (double *)rc_reduced_labels(red, u), NULL,
                   (double *)rc_reduced_labels(red, u), NULL};
    json_object_set_new(j, "min_label_distance", rc_json_number(rc_min_label_distance(&ys)));
    const double *P = rc_reduced_head(red, u);
    if (P) {
      json_t *h = rc_head_json(P, rc_reduced_labels(red, u), r->ds->n_classes, c.dim);
      json_object_update(j, h);
      json_decref(h);
    }
    json_object_set_new(j, "stability", rc_stability_json(&stab));
    json_t *run = json_object();
    json_object_set_new(run, "integrator", json_string(rc_integrator_name(c.integrator)));
    json_object_set_new(run, "t_end", json_real(r->t_end));
    json_object_set_new(run, "init_seed", json_integer((json_int_t)c.init.seed));
    json_object_set_new(run, "final_min_label_distance", rc_json_number(r->rows[r->n_rows - 1].value[RC_M_MIN_LABEL_DISTANCE]));
    json_object_set_new(run, "final_loss", rc_json_number(r->rows[r->n_rows - 1].value[RC_M_LOSS]));
    json_object_set_new(j, "run", run);
    *out = j;
  }
  rc_stability_free(&stab);
  free(u);
  free(du);
  rc_reduced_free(red);
  rc_run_result_free(r);
  return st;
}
