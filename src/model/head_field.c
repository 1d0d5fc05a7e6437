/* head_field.c: hand-written gradients of term models (docs/model.md section 3)
 * and the particle vector field built from them.
 *
 * For a term w |H_s u - sg?(H_t v)|^2 and an observation (i, c) of weight A,
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
  if (!ws->px || !ws->py || !ws->rx || !ws->ry || !ws->tmp) {
    rc_head_ws_free(ws);
    return RC_ENOMEM;
  }
  *out = ws;
  return RC_OK;
}

void rc_head_ws_free(rc_head_ws *ws) {
  if (!ws) return;
  free(ws->px);
  free(ws->py);
  free(ws->rx);
  free(ws->ry);
  free(ws->tmp);
  free(ws);
}

/* gP (d x d) += alpha * R^T U, with rows weighted by mult */
static void add_head_gradient(double *gP, const double *R, const double *U, const double *mult, size_t rows,
                              size_t d, double alpha, double *tmp) {
  if (rows == 0) return;
  const double *Rw = R;
  if (mult) {
    for (size_t i = 0; i < rows; i++)
      for (size_t q = 0; q < d; q++) tmp[i * d + q] = mult[i] * R[i * d + q];
    Rw = tmp;
  }
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)rows, alpha, Rw, (int)d, U, (int)d, 1.0,
              gP, (int)d);
}

double rc_terms_gradients(const rc_model *m, const rc_rows *rows, size_t k, double M, const double *X,
                          const double *Y, const double *P, size_t d, double *gx, double *gy, double *gP,
                          rc_head_ws *ws) {
  const size_t n = rows->n;
  memset(gx, 0, n * d * sizeof *gx);
  memset(gy, 0, k * d * sizeof *gy);
  if (gP) memset(gP, 0, d * d * sizeof *gP);
  if (P) {
    rc_apply_head(X, P, n, d, ws->px);
    rc_apply_head(Y, P, k, d, ws->py);
  }
  double loss = 0.0;
  for (size_t t = 0; t < m->n_terms; t++) {
    const rc_term *tm = &m->terms[t];
    const int src_x = tm->source == RC_BRANCH_X;
    /* heads of the x side and the y side of this term */
    const int hx = src_x ? tm->source_head : tm->target_head;
    const int hy = src_x ? tm->target_head : tm->source_head;
    const double *xs = hx ? ws->px : X, *ys = hy ? ws->py : Y;
    const double sign = src_x ? 1.0 : -1.0; /* r = sign * (x-side - y-side) */
    memset(ws->rx, 0, n * d * sizeof(double));
    memset(ws->ry, 0, k * d * sizeof(double));
    double tl = 0.0;
    for (size_t i = 0; i < n; i++) {
      const double *xi = xs + i * d;
      double *rxi = ws->rx + i * d;
      const double mi = rows->mult ? rows->mult[i] : 1.0;
      for (size_t j = rows->row_ptr[i]; j < rows->row_ptr[i + 1]; j++) {
        const double a = rows->counts[j];
        const double *yc = ys + (size_t)rows->labels[j] * d;
        double *ryc = ws->ry + (size_t)rows->labels[j] * d;
        double q = 0.0;
        for (size_t c = 0; c < d; c++) {
          const double r = sign * (xi[c] - yc[c]);
          rxi[c] += a * r;
          ryc[c] += mi * a * r;
          q += r * r;
        }
        tl += mi * a * q;
      }
    }
    loss += tm->weight * tl / (2.0 * M);
    const double s = tm->weight / M;
    /* source side gets +H_s^T r; target side -H_t^T r unless sg */
    const double ax = src_x ? s : (tm->stop_gradient ? 0.0 : -s);
    const double ay = src_x ? (tm->stop_gradient ? 0.0 : -s) : s;
    if (ax != 0.0) rc_add_transposed_head(gx, ws->rx, P, hx, n, d, ax);
    if (ay != 0.0) rc_add_transposed_head(gy, ws->ry, P, hy, k, d, ay);
    if (gP) {
      /* P-gradient: sum r u^T over the branches that carry P and pass gradient */
      if (hx && ax != 0.0) add_head_gradient(gP, ws->rx, X, rows->mult, n, d, ax, ws->tmp);
      if (hy && ay != 0.0) add_head_gradient(gP, ws->ry, Y, NULL, k, d, ay, ws->tmp);
    }
  }
  return loss;
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

