/* head_field.c: the particle vector field of term models (docs/model.md
 * section 3) built from their hand-written gradients. The gradients are the
 * engine's objective (src/engine/objective.c, rc_objective_gradients), one
 * implementation of every term kind, called on the data's rows:
 * for a term w |H_s u - sg?(H_t v)|^2 and an observation (i, c) of weight A,
 * r = H_s u - H_t v; then, with everything summed over observations and
 * scaled by w/M:
 *   dL/du += A H_s^T r,   dL/dv -= A H_t^T r  (not under sg),
 *   dL/dP += A r u^T  if H_s = P,   dL/dP -= A r v^T  if H_t = P (not under sg).
 * Residuals are first summed per embedding (Rx per sample, Ry per label), so
 * H^T is applied once per embedding and the P-gradient is one product R^T U. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "model/head_terms.h"
#include "model/head_blas.h"

rc_status rc_head_ws_alloc(size_t n, size_t k, size_t d, rc_head_ws **out, rc_error *err) {
  *out = NULL;
  rc_head_ws *ws = rc_calloc(1, sizeof *ws, "workspace", err);
  if (!ws) return RC_ENOMEM;
  ws->n = n;
  ws->k = k;
  ws->d = d;
  ws->px = rc_calloc(n * d, sizeof(double), "workspace", err);
  ws->py = rc_calloc(k * d, sizeof(double), "workspace", err);
  ws->rx = rc_calloc(n * d, sizeof(double), "workspace", err);
  ws->ry = rc_calloc(k * d, sizeof(double), "workspace", err);
  ws->tmp = rc_calloc(n * d, sizeof(double), "workspace", err);
  rc_status st = !ws->px || !ws->py || !ws->rx || !ws->ry || !ws->tmp ? RC_ENOMEM : RC_OK;
  if (!st) st = rc_objective_ws_alloc(n, k, d, &ws->obj, err);
  if (st) {
    rc_head_ws_free(ws);
    return st;
  }
  *out = ws;
  return RC_OK;
}

struct rc_objective_ws *rc_head_ws_objective(rc_head_ws *ws) { return ws->obj; }

void rc_head_ws_free(rc_head_ws *ws) {
  if (!ws) return;
  free(ws->px);
  free(ws->py);
  free(ws->rx);
  free(ws->ry);
  free(ws->tmp);
  rc_objective_ws_free(ws->obj);
  free(ws);
}

double rc_terms_gradients(const rc_model *m, const rc_rows *rows, size_t k, double M, const double *X,
                          const double *Y, const double *P, size_t d, double *gx, double *gy, double *gP,
                          rc_head_ws *ws) {
  const rc_obs_weights w = {rows->n, rows->row_ptr, rows->labels, rows->counts, rows->mult};
  return rc_objective_gradients(m, &w, k, M, X, Y, P, NULL, d, gx, gy, gP, ws->obj);
}

static rc_rows rows_of(const rc_dataset *ds) {
  rc_rows r = {ds->n_samples, ds->row_ptr, ds->labels, ds->counts, NULL};
  return r;
}

void rc_head_gradients(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d, double *grad,
                       rc_head_ws *ws) {
  const size_t N = ds->n_samples, K = ds->n_classes;
  const int head = rc_model_has_head(&hp->model);
  rc_rows rows = rows_of(ds);
  rc_terms_gradients(&hp->model, &rows, K, ds->total, z, z + N * d, head ? z + (N + K) * d : NULL, d, grad,
                     grad + N * d, head ? grad + (N + K) * d : NULL, ws);
}

void rc_head_vector_field(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d, double *dz,
                          rc_head_ws *ws) {
  const size_t N = ds->n_samples, K = ds->n_classes;
  rc_head_gradients(ds, hp, z, d, dz, ws);
  const int degree = hp->base.rates == RC_RATES_DEGREE;
  const double M = ds->total;
  for (size_t i = 0; i < N; i++) {
    const double f = -hp->base.eta_x * (degree ? M / ds->sample_weight[i] : 1.0);
    for (size_t q = 0; q < d; q++) dz[i * d + q] *= f;
  }
  for (size_t c = 0; c < K; c++) {
    const double f = -hp->base.eta_y * (degree ? M / ds->class_weight[c] : 1.0);
    for (size_t q = 0; q < d; q++) dz[(N + c) * d + q] *= f;
  }
  if (rc_model_has_head(&hp->model))
    for (size_t q = 0; q < d * d; q++) dz[(N + K) * d + q] *= -hp->eta_head;
}

double rc_head_loss(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d, rc_head_ws *ws) {
  const size_t N = ds->n_samples, K = ds->n_classes;
  const int head = rc_model_has_head(&hp->model);
  rc_rows rows = rows_of(ds);
  /* gradients into scratch that is not otherwise used here */
  double *gy = calloc(K * d + (head ? d * d : 0) + 1, sizeof *gy);
  double *gx = calloc(N * d + 1, sizeof *gx);
  double L = NAN;
  if (gx && gy)
    L = rc_terms_gradients(&hp->model, &rows, K, ds->total, z, z + N * d, head ? z + (N + K) * d : NULL, d, gx, gy,
                           head ? gy + K * d : NULL, ws);
  free(gx);
  free(gy);
  return L;
}

void rc_head_project_samples(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d,
                             double *px) {
  const size_t N = ds->n_samples, K = ds->n_classes;
  if (rc_model_has_head(&hp->model)) rc_apply_head(z, z + (N + K) * d, N, d, px);
  else memcpy(px, z, N * d * sizeof(double));
}

