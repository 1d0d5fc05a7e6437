/* objective.c: the objective of the engine (docs/model.md sections 3 and 6): the
 * terms w |H_s u - sg?(H_t v)|^2 over weighted observations, gradients by
 * hand. Each observation (i, c) carries a weight a_ic: A_ic for the whole data,
 * or (its count in a minibatch) M / |batch|. A stop-gradient target reads the
 * target values (tg: EMA copies x-bar, y-bar, P-bar) when given; no gradient
 * flows into a target. For a term and an observation, r = H_s u - H_t v:
 *   dL/du += a H_s^T r,   dL/dv -= a H_t^T r  (not under sg),
 *   dL/dP += a r u^T if H_s = P,   dL/dP -= a r v^T if H_t = P (not under sg),
 * all scaled by w / M. Residuals are summed per embedding first (one H^T per
 * embedding, one product R^T U for the P-gradient), in data order.
 * Adding a term kind: its residual and gradient here, one case per kind. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "repcollapse/engine.h"
#include "model/head_blas.h"

struct rc_objective_ws {
  size_t n, k, d;
  double *px, *py, *tpx, *tpy; /* P x, P y; target projections P-bar x-bar, P-bar y-bar */
  double *rx, *ry;
};

rc_status rc_objective_ws_alloc(size_t n, size_t k, size_t d, rc_objective_ws **out, rc_error *err) {
  *out = NULL;
  rc_objective_ws *ws = rc_calloc(1, sizeof *ws, "objective workspace", err);
  if (!ws) return RC_ENOMEM;
  ws->n = n;
  ws->k = k;
  ws->d = d;
  ws->px = rc_calloc(n * d + 1, sizeof(double), "objective workspace", err);
  ws->tpx = rc_calloc(n * d + 1, sizeof(double), "objective workspace", err);
  ws->rx = rc_calloc(n * d + 1, sizeof(double), "objective workspace", err);
  ws->py = rc_calloc(k * d + 1, sizeof(double), "objective workspace", err);
  ws->tpy = rc_calloc(k * d + 1, sizeof(double), "objective workspace", err);
  ws->ry = rc_calloc(k * d + 1, sizeof(double), "objective workspace", err);
  if (!ws->px || !ws->tpx || !ws->rx || !ws->py || !ws->tpy || !ws->ry) {
    rc_objective_ws_free(ws);
    return RC_ENOMEM;
  }
  *out = ws;
  return RC_OK;
}

void rc_objective_ws_free(rc_objective_ws *ws) {
  if (!ws) return;
  free(ws->px);
  free(ws->tpx);
  free(ws->rx);
  free(ws->py);
  free(ws->tpy);
  free(ws->ry);
  free(ws);
}

/* gP += alpha R^T U */
static void add_head_gradient(double *gP, const double *R, const double *U, size_t rows, size_t d, double alpha) {
  if (rows == 0) return;
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)rows, alpha, R, (int)d, U, (int)d, 1.0,
              gP, (int)d);
}

double rc_objective_gradients(const rc_model *m, const rc_obs_weights *w, size_t k, double M, const double *X,
                              const double *Y, const double *P, const rc_targets *tg, size_t d, double *gx,
                              double *gy, double *gP, rc_objective_ws *ws) {
  const size_t n = w->n;
  const double *TX = tg && tg->X ? tg->X : X, *TY = tg && tg->Y ? tg->Y : Y, *TP = tg && tg->P ? tg->P : P;
  memset(gx, 0, n * d * sizeof *gx);
  memset(gy, 0, k * d * sizeof *gy);
  if (gP) memset(gP, 0, d * d * sizeof *gP);
  if (P) {
    rc_apply_head(X, P, n, d, ws->px);
    rc_apply_head(Y, P, k, d, ws->py);
    if (TX != X || TP != P) rc_apply_head(TX, TP, n, d, ws->tpx);
    if (TY != Y || TP != P) rc_apply_head(TY, TP, k, d, ws->tpy);
  }
  double loss = 0.0;
  for (size_t t = 0; t < m->n_terms; t++) {
    const rc_term *tm = &m->terms[t];
    const int src_x = tm->source == RC_BRANCH_X, sg = tm->stop_gradient;
    const int hx = src_x ? tm->source_head : tm->target_head;
    const int hy = src_x ? tm->target_head : tm->source_head;
    /* the x side and the y side of this term: online, or the targets on the sg side */
    const double *xs, *ys;
    if (!src_x && sg) xs = hx ? (TX != X || TP != P ? ws->tpx : ws->px) : TX;
    else xs = hx ? ws->px : X;
    if (src_x && sg) ys = hy ? (TY != Y || TP != P ? ws->tpy : ws->py) : TY;
    else ys = hy ? ws->py : Y;
    const double sign = src_x ? 1.0 : -1.0; /* r = sign (x side - y side) */
    memset(ws->rx, 0, n * d * sizeof(double));
    memset(ws->ry, 0, k * d * sizeof(double));
    double tl = 0.0;
    for (size_t i = 0; i < n; i++) {
      const double *xi = xs + i * d;
      double *rxi = ws->rx + i * d;
      for (size_t j = w->row_ptr[i]; j < w->row_ptr[i + 1]; j++) {
        const double a = w->weight[j];
        if (a == 0.0) continue;
        const double *yc = ys + (size_t)w->labels[j] * d;
        double *ryc = ws->ry + (size_t)w->labels[j] * d;
        double q = 0.0;
        for (size_t c = 0; c < d; c++) {
          const double r = sign * (xi[c] - yc[c]);
          rxi[c] += a * r;
          ryc[c] += a * r;
          q += r * r;
        }
        tl += a * q;
      }
    }
    loss += tm->weight * tl / (2.0 * M);
    const double s = tm->weight / M;
    const double ax = src_x ? s : (sg ? 0.0 : -s);
    const double ay = src_x ? (sg ? 0.0 : -s) : s;
    if (ax != 0.0) rc_add_transposed_head(gx, ws->rx, P, hx, n, d, ax);
    if (ay != 0.0) rc_add_transposed_head(gy, ws->ry, P, hy, k, d, ay);
    if (gP) {
      if (hx && ax != 0.0) add_head_gradient(gP, ws->rx, X, n, d, ax);
      if (hy && ay != 0.0) add_head_gradient(gP, ws->ry, Y, k, d, ay);
    }
  }
  return loss;
}
