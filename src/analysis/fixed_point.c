/* fixed_point.c: conserved quantities and the t -> infinity state of the
 * minimal model (docs/model.md section 2). Each component of the class graph
 * conserves Q = sum_n z_n / s_n over its embeddings (samples belong to the
 * component of their labels); every embedding converges to Q / sum_n 1/s_n. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "repcollapse/spectrum.h"

/* Q (n_comp x d) and W (n_comp) = sum of weights 1/s_n per component. */
static void accumulate(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *s,
                       const rc_components *comp, double *Q, double *W) {
  size_t d = s->d;
  memset(Q, 0, comp->n_components * d * sizeof *Q);
  if (W) memset(W, 0, comp->n_components * sizeof *W);
  for (size_t i = 0; i < ds->n_samples; i++) {
    size_t k = comp->component_of_class[ds->labels[ds->row_ptr[i]]];
    double w = 1.0 / rc_sample_rate(ds, p, i);
    for (size_t q = 0; q < d; q++) Q[k * d + q] += w * s->x[i * d + q];
    if (W) W[k] += w;
  }
  for (size_t c = 0; c < ds->n_classes; c++) {
    size_t k = comp->component_of_class[c];
    double w = 1.0 / rc_class_rate(ds, p, c);
    for (size_t q = 0; q < d; q++) Q[k * d + q] += w * s->y[c * d + q];
    if (W) W[k] += w;
  }
}

rc_status rc_conserved_quantities(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *s,
                                  const rc_components *comp, double *out, rc_error *err) {
  (void)err;
  accumulate(ds, p, s, comp, out, NULL);
  return RC_OK;
}

rc_status rc_fixed_point_state(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *init,
                               rc_state **out, rc_error *err) {
  *out = NULL;
  rc_components *comp;
  rc_status st = rc_components_compute(ds, &comp, err);
  if (st) return st;
  size_t d = init->d, nc = comp->n_components;
  double *Q = rc_calloc(nc * d, sizeof *Q, "conserved quantities", err);
  double *W = rc_calloc(nc, sizeof *W, "conserved quantities", err);
  rc_state *s = NULL;
  if (!Q || !W || (st = rc_state_alloc(init->n, init->k, d, &s, err)) != RC_OK) {
    free(Q);
    free(W);
    rc_components_free(comp);
    return st ? st : RC_ENOMEM;
  }
  accumulate(ds, p, init, comp, Q, W);
  for (size_t k = 0; k < nc; k++)
    for (size_t q = 0; q < d; q++) Q[k * d + q] /= W[k];
  for (size_t i = 0; i < ds->n_samples; i++) {
    size_t k = comp->component_of_class[ds->labels[ds->row_ptr[i]]];
    memcpy(s->x + i * d, Q + k * d, d * sizeof(double));
  }
  for (size_t c = 0; c < ds->n_classes; c++)
    memcpy(s->y + c * d, Q + comp->component_of_class[c] * d, d * sizeof(double));
  free(Q);
  free(W);
  rc_components_free(comp);
  *out = s;
  return RC_OK;
}
