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
 * Rows may stand for several samples (mult: the group rows of the reduced
 * systems): sums over samples count each member, gx is per member.
 * Adding a term kind: its residual and gradient here, one case per kind.
 * The kinds of docs/model.md section 6.2 (p = the x side, q = the y side of an
 * observation, after their heads):
 *   cos:  L = w/M sum a (1 - cos(p, q)); dL/dp = -(w/M) a (q^ - cos p^) / |p|,
 *         and the same with p and q exchanged; a zero-norm p or q adds nothing;
 *         these per-embedding "residuals" then go through H^T and R^T U as above.
 *   uniformity(z): L = w log(S / (n(n-1))), S = sum_{a != b} exp(-t |z^_a - z^_b|^2);
 *         dL/dz^_a = -(4 w t / S) sum_b exp(.)(z^_a - z^_b), dL/dz_a = (I - z^ z^T) dL/dz^_a / |z_a|
 *         (log-sum-exp shifted by the largest exponent).
 *   infonce: L = w/M sum a_ic [|x_i - y_c|^2/tau + log sum_b exp(-|x_i - y_b|^2/tau)];
 *         with p_ib the softmax over b and a_i = sum_c a_ic,
 *         dL/dx_i = (2w/(M tau)) (a_i sum_b p_ib y_b - sum_c a_ic y_c),
 *         dL/dy_b = (2w/(M tau)) sum_i (a_i p_ib - a_ib)(x_i - y_b). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "repcollapse/engine.h"
#include "model/head_blas.h"

struct rc_objective_ws {
  size_t n, k, d;
  double *px, *py, *tpx, *tpy; /* P x, P y; target projections P-bar x-bar, P-bar y-bar */
  double *rx, *ry;
  double *nx, *ny;  /* row norms of the x side and the y side of a cosine term; uniformity's z^ norms */
  double *zh;       /* unit rows z^ (max(n, k) x d) */
  double *lk;       /* k: InfoNCE's exponents and softmax of one sample */
  double *tmp;      /* max(n, k) x d: rows weighted by their multiplicity; uniformity's dL/dz^ */
  double zero_norm; /* zero-norm vectors met by the last evaluation */
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
  ws->nx = rc_calloc(n + 1, sizeof(double), "objective workspace", err);
  ws->ny = rc_calloc(k + 1, sizeof(double), "objective workspace", err);
  ws->zh = rc_calloc((n > k ? n : k) * d + 1, sizeof(double), "objective workspace", err);
  ws->lk = rc_calloc(k + 1, sizeof(double), "objective workspace", err);
  ws->tmp = rc_calloc((n > k ? n : k) * d + 1, sizeof(double), "objective workspace", err);
  if (!ws->px || !ws->tpx || !ws->rx || !ws->py || !ws->tpy || !ws->ry || !ws->nx || !ws->ny || !ws->zh || !ws->lk ||
      !ws->tmp) {
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
  free(ws->nx);
  free(ws->ny);
  free(ws->zh);
  free(ws->lk);
  free(ws->tmp);
  free(ws);
}

double rc_objective_zero_norm(const rc_objective_ws *ws) { return ws->zero_norm; }

void rc_sphere_project(double *Z, size_t rows, size_t d) {
  for (size_t i = 0; i < rows; i++) {
    const double nz = cblas_dnrm2((int)d, Z + i * d, 1);
    if (nz > 0) cblas_dscal((int)d, 1.0 / nz, Z + i * d, 1);
  }
}

void rc_sphere_tangent(const double *Z, double *F, size_t rows, size_t d) {
  for (size_t i = 0; i < rows; i++) {
    const double *z = Z + i * d;
    const double zz = cblas_ddot((int)d, z, 1, z, 1);
    if (zz > 0) cblas_daxpy((int)d, -cblas_ddot((int)d, F + i * d, 1, z, 1) / zz, z, 1, F + i * d, 1);
  }
}

/* gP += alpha R^T U, with rows weighted by mult (NULL: 1) */
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

/* cosine term: per-embedding sums of -a dcos/dp into rx (per sample) and ry (per label); returns
 * sum a (1 - cos) with a counted mi times for a row of mi samples */
static double cos_residuals(const rc_obs_weights *w, size_t k, const double *xs, const double *ys, size_t d,
                            rc_objective_ws *ws) {
  const size_t n = w->n;
  for (size_t i = 0; i < n; i++) ws->nx[i] = cblas_dnrm2((int)d, xs + i * d, 1);
  for (size_t c = 0; c < k; c++) ws->ny[c] = cblas_dnrm2((int)d, ys + c * d, 1);
  for (size_t i = 0; i < n; i++)
    if (ws->nx[i] == 0.0) ws->zero_norm += w->mult ? w->mult[i] : 1.0;
  for (size_t c = 0; c < k; c++)
    if (ws->ny[c] == 0.0) ws->zero_norm += 1.0;
  double tl = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double *p = xs + i * d, np = ws->nx[i];
    const double mi = w->mult ? w->mult[i] : 1.0;
    double *rxi = ws->rx + i * d;
    if (np == 0.0) continue;
    for (size_t j = w->row_ptr[i]; j < w->row_ptr[i + 1]; j++) {
      const double a = w->weight[j];
      const size_t c = w->labels[j];
      const double *q = ys + c * d, nq = ws->ny[c];
      if (a == 0.0 || nq == 0.0) continue;
      const double cs = cblas_ddot((int)d, p, 1, q, 1) / (np * nq);
      double *ryc = ws->ry + c * d;
      const double am = mi * a;
      for (size_t e = 0; e < d; e++) {
        const double ph = p[e] / np, qh = q[e] / nq;
        rxi[e] -= a * (qh - cs * ph) / np;
        ryc[e] -= am * (ph - cs * qh) / nq;
      }
      tl += am * (1.0 - cs);
    }
  }
  return tl;
}

/* whether row i of w has any weight (under a minibatch: whether sample i is in the batch) */
static int row_in(const rc_obs_weights *w, size_t i) {
  for (size_t j = w->row_ptr[i]; j < w->row_ptr[i + 1]; j++)
    if (w->weight[j] != 0.0) return 1;
  return 0;
}

/* uniformity over the rows Z (rows x d) that are in (in NULL: all; mult NULL: 1 each): adds dL/dz per member into
 * g (scaled by wt) and returns the term's loss */
static double uniformity_term(const double *Z, size_t rows, const rc_obs_weights *in, const double *mult, size_t d,
                              double t, double wt, double *g, rc_objective_ws *ws) {
  double n = 0.0, *zh = ws->zh, *nz = rows == ws->n ? ws->nx : ws->ny;
  if (rows != ws->n && rows != ws->k) return NAN;
  for (size_t a = 0; a < rows; a++) {
    nz[a] = (in && !row_in(in, a)) ? -1.0 : cblas_dnrm2((int)d, Z + a * d, 1);
    if (nz[a] == 0.0) ws->zero_norm += mult ? mult[a] : 1.0;
    if (nz[a] > 0.0) {
      n += mult ? mult[a] : 1.0;
      for (size_t e = 0; e < d; e++) zh[a * d + e] = Z[a * d + e] / nz[a];
    }
  }
  if (n < 2.0) return 0.0;
  /* pass 1: the largest exponent and the shifted sum (ordered pairs a != b of samples; members of one row
   * are at distance 0) */
  double mx = -INFINITY;
  for (size_t a = 0; a < rows; a++) {
    if (!(nz[a] > 0.0)) continue;
    const double ma = mult ? mult[a] : 1.0;
    if (ma >= 2.0) mx = fmax(mx, 0.0);
    for (size_t b = a + 1; b < rows; b++) {
      if (!(nz[b] > 0.0)) continue;
      double q = 0.0;
      for (size_t e = 0; e < d; e++) q += (zh[a * d + e] - zh[b * d + e]) * (zh[a * d + e] - zh[b * d + e]);
      mx = fmax(mx, -t * q);
    }
  }
  double S = 0.0;
  for (size_t a = 0; a < rows; a++) {
    if (!(nz[a] > 0.0)) continue;
    const double ma = mult ? mult[a] : 1.0;
    S += ma * (ma - 1.0) * exp(-mx);
    for (size_t b = a + 1; b < rows; b++) {
      if (!(nz[b] > 0.0)) continue;
      double q = 0.0;
      for (size_t e = 0; e < d; e++) q += (zh[a * d + e] - zh[b * d + e]) * (zh[a * d + e] - zh[b * d + e]);
      S += 2.0 * ma * (mult ? mult[b] : 1.0) * exp(-t * q - mx);
    }
  }
  const double loss = wt * (mx + log(S) - log(n * (n - 1.0)));
  /* pass 2: dL/dz^_a = -(4 w t / S) sum_b m_b E_ab (z^_a - z^_b), then through the normalisation */
  for (size_t a = 0; a < rows; a++) {
    if (!(nz[a] > 0.0)) continue;
    double *ga = g + a * d;
    double *acc = ws->tmp + a * d; /* scratch row: dL/dz^_a */
    memset(acc, 0, d * sizeof *acc);
    for (size_t b = 0; b < rows; b++) {
      if (b == a || !(nz[b] > 0.0)) continue;
      double q = 0.0;
      for (size_t e = 0; e < d; e++) q += (zh[a * d + e] - zh[b * d + e]) * (zh[a * d + e] - zh[b * d + e]);
      const double f = -4.0 * wt * t * (mult ? mult[b] : 1.0) * exp(-t * q - mx) / S;
      for (size_t e = 0; e < d; e++) acc[e] += f * (zh[a * d + e] - zh[b * d + e]);
    }
    const double dot = cblas_ddot((int)d, acc, 1, zh + a * d, 1);
    for (size_t e = 0; e < d; e++) ga[e] += (acc[e] - dot * zh[a * d + e]) / nz[a];
  }
  return loss;
}

/* InfoNCE between the samples X and the labels Y: adds its gradients (scaled by s = w/M) and returns the
 * unscaled sum over observations */
static double infonce_term(const rc_obs_weights *w, size_t k, const double *X, const double *Y, size_t d,
                           double tau, double s, double *gx, double *gy, rc_objective_ws *ws) {
  double tl = 0.0, *lk = ws->lk;
  for (size_t i = 0; i < w->n; i++) {
    double ai = 0.0;
    for (size_t j = w->row_ptr[i]; j < w->row_ptr[i + 1]; j++) ai += w->weight[j];
    if (ai == 0.0) continue;
    const double mi = w->mult ? w->mult[i] : 1.0, *xi = X + i * d;
    double mx = -INFINITY;
    for (size_t b = 0; b < k; b++) {
      double q = 0.0;
      for (size_t e = 0; e < d; e++) q += (xi[e] - Y[b * d + e]) * (xi[e] - Y[b * d + e]);
      lk[b] = -q / tau;
      mx = fmax(mx, lk[b]);
    }
    double S = 0.0;
    for (size_t b = 0; b < k; b++) S += exp(lk[b] - mx);
    const double lse = mx + log(S);
    for (size_t j = w->row_ptr[i]; j < w->row_ptr[i + 1]; j++) tl += mi * w->weight[j] * (lse - lk[w->labels[j]]);
    for (size_t b = 0; b < k; b++) lk[b] = exp(lk[b] - lse); /* softmax p_ib */
    const double f = 2.0 * s / tau;
    double *gxi = gx + i * d;
    for (size_t b = 0; b < k; b++) {
      const double pb = ai * lk[b];
      for (size_t e = 0; e < d; e++) {
        gxi[e] += f * pb * Y[b * d + e];
        gy[b * d + e] += f * mi * pb * (xi[e] - Y[b * d + e]);
      }
    }
    for (size_t j = w->row_ptr[i]; j < w->row_ptr[i + 1]; j++) {
      const double a = w->weight[j];
      const double *yc = Y + (size_t)w->labels[j] * d;
      double *gyc = gy + (size_t)w->labels[j] * d;
      for (size_t e = 0; e < d; e++) {
        gxi[e] -= f * a * yc[e];
        gyc[e] -= f * mi * a * (xi[e] - yc[e]);
      }
    }
  }
  return tl;
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
  ws->zero_norm = 0.0;
  for (size_t t = 0; t < m->n_terms; t++) {
    const rc_term *tm = &m->terms[t];
    if (tm->kind == RC_TERM_UNIFORMITY) {
      if (tm->source == RC_BRANCH_X) loss += uniformity_term(X, n, w, w->mult, d, rc_model_uniformity_t(m), tm->weight, gx, ws);
      else loss += uniformity_term(Y, k, NULL, NULL, d, rc_model_uniformity_t(m), tm->weight, gy, ws);
      continue;
    }
    if (tm->kind == RC_TERM_INFONCE) {
      const double s = tm->weight / M;
      loss += s * infonce_term(w, k, X, Y, d, rc_model_temperature(m), s, gx, gy, ws);
      continue;
    }
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
    const double s = tm->weight / M;
    double ax, ay; /* the scales of the x side's and the y side's residual sums (0: no gradient) */
    if (tm->kind == RC_TERM_COS) {
      loss += s * cos_residuals(w, k, xs, ys, d, ws);
      ax = src_x || !sg ? s : 0.0;
      ay = !src_x || !sg ? s : 0.0;
    } else {
      double tl = 0.0;
      for (size_t i = 0; i < n; i++) {
        const double *xi = xs + i * d;
        double *rxi = ws->rx + i * d;
        const double mi = w->mult ? w->mult[i] : 1.0;
        for (size_t j = w->row_ptr[i]; j < w->row_ptr[i + 1]; j++) {
          const double a = w->weight[j];
          if (a == 0.0) continue;
          const double am = mi * a;
          const double *yc = ys + (size_t)w->labels[j] * d;
          double *ryc = ws->ry + (size_t)w->labels[j] * d;
          double q = 0.0;
          for (size_t c = 0; c < d; c++) {
            const double r = sign * (xi[c] - yc[c]);
            rxi[c] += a * r;
            ryc[c] += am * r;
            q += r * r;
          }
          tl += am * q;
        }
      }
      loss += tm->weight * tl / (2.0 * M);
      ax = src_x ? s : (sg ? 0.0 : -s);
      ay = src_x ? (sg ? 0.0 : -s) : s;
    }
    if (ax != 0.0) rc_add_transposed_head(gx, ws->rx, P, hx, n, d, ax);
    if (ay != 0.0) rc_add_transposed_head(gy, ws->ry, P, hy, k, d, ay);
    if (gP) {
      if (hx && ax != 0.0) add_head_gradient(gP, ws->rx, X, w->mult, n, d, ax, ws->tmp);
      if (hy && ay != 0.0) add_head_gradient(gP, ws->ry, Y, NULL, k, d, ay, ws->tmp);
    }
  }
  return loss;
}
