/* fixedpoint_exp.c: a fixed point of a term model found from the end of a run
 * (MODEL.md section 3): run, reduce, Levenberg-Marquardt on the reduced
 * vector field, then stability from the reduced Jacobian's eigenvalues. */
#include <math.h>
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
  /* the reduced system exists for every model: the minimal one goes through it too */
  rc_run_result *r = NULL;
  rc_status st = rc_run_execute(&c, &r, err);
  if (st) return st;
  rc_head_params hp = rc_run_head_params(&c);
  rc_reduced *red = NULL;
  st = rc_reduced_alloc(r->ds, &hp, c.dim, &red, err);
  double *u = NULL;
  if (!st) {
    u = calloc(rc_reduced_dim(red), sizeof *u);
    if (!u) st = rc_error_set(err, RC_ENOMEM, "fixed point");
  }
  if (!st) {
    if (r->final_reduced) memcpy(u, r->final_reduced, rc_reduced_dim(red) * sizeof *u);
    else rc_reduced_from_state(red, r->final_state, u);
  }
  double *du = u ? calloc(rc_reduced_dim(red), sizeof *du) : NULL;
  double start = NAN, res = NAN;
  if (!st && du) {
    rc_reduced_vector_field(red, u, du);
    double s = 0;
    for (size_t q = 0; q < rc_reduced_dim(red); q++) s += du[q] * du[q];
    start = sqrt(s);
    st = rc_reduced_fixed_point(red, u, &res, 300, err);
  }
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
    json_object_set_new(j, "residual", json_real(res));
    json_object_set_new(j, "start_residual", json_real(start));
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
