/* head_reduced.c: the exact group-reduced dynamics of a term model
 * (reduced.h): group means, labels, head and within-group scatters. The mean
 * part reuses the particle gradients (model/head_terms.h) on one row per
 * group weighted by the group size; the scatter adds the terms derived in
 * reduced.h and docs/theory.md.
 *
 * Models for which the reduction is not exact (cosine, InfoNCE and
 * uniformity(x) terms, --sphere: nonlinear in each sample, docs/model.md
 * section 6.2) get the system on their invariant set instead: every sample at
 * its group mean (no scatter), u = [X | Y | P], the same particle gradients
 * on one row per group, exact there; rc_reduced_within_group gives the
 * per-sample linearisation that the scatter would otherwise carry. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "model/head_terms.h"
#include "repcollapse/reduced.h"

struct rc_reduced {
  const rc_dataset *ds;
  rc_head_params hp;
  size_t d, G, K;
  int head;
  int invariant; /* the invariant set (no scatter): the reduction is not exact for this model */
  rc_groups *g;
  size_t *row_ptr;
  uint32_t *labels;
  double *counts, *mult, *aw; /* per group: row, n_g, a_g */
  int *clean;                 /* per group: its label if clean, -1 otherwise */
  rc_rows rows;
  rc_head_ws *ws;
  double *gx, *gy, *gP, *gamma, *tmp;
  /* the split system of rc_reduced_within_group: G + 1 rows */
  rc_head_ws *ws_split;
  size_t *sp_row_ptr;
  uint32_t *sp_labels;
  double *sp_counts, *sp_mult, *sp_X, *sp_gx;
};

void rc_reduced_free(rc_reduced *r) {
  if (!r) return;
  rc_groups_free(r->g);
  free(r->row_ptr);
  free(r->labels);
  free(r->counts);
  free(r->mult);
  free(r->aw);
  free(r->clean);
  rc_head_ws_free(r->ws);
  rc_head_ws_free(r->ws_split);
  free(r->sp_row_ptr);
  free(r->sp_labels);
  free(r->sp_counts);
  free(r->sp_mult);
  free(r->sp_X);
  free(r->sp_gx);
  free(r->gx);
  free(r->gy);
  free(r->gP);
  free(r->gamma);
  free(r->tmp);
  free(r);
}

rc_status rc_reduced_alloc(const rc_dataset *ds, const rc_head_params *hp, size_t d, rc_reduced **out,
                           rc_error *err) {
  *out = NULL;
  rc_reduced *r = rc_calloc(1, sizeof *r, "reduced system", err);
  if (!r) return RC_ENOMEM;
  r->ds = ds;
  r->hp = *hp;
  r->d = d;
  r->K = ds->n_classes;
  r->head = rc_model_has_head(&hp->model);
  r->invariant = !rc_model_reduction_exact(&hp->model, NULL, 0);
  rc_status st = rc_groups_compute(ds, &r->g, err);
  if (st) {
    rc_reduced_free(r);
    return st;
  }
  size_t G = r->G = r->g->n_groups, nnz = 0;
  for (size_t g = 0; g < G; g++) nnz += ds->row_ptr[r->g->group_rep[g] + 1] - ds->row_ptr[r->g->group_rep[g]];
  r->row_ptr = rc_calloc(G + 1, sizeof(size_t), "reduced rows", err);
  r->labels = rc_calloc(nnz, sizeof(uint32_t), "reduced rows", err);
  r->counts = rc_calloc(nnz, sizeof(double), "reduced rows", err);
  r->mult = rc_calloc(G, sizeof(double), "reduced rows", err);
  r->aw = rc_calloc(G, sizeof(double), "reduced rows", err);
  r->clean = rc_calloc(G, sizeof(int), "reduced rows", err);
  r->gx = rc_calloc(G * d, sizeof(double), "reduced gradients", err);
  r->gy = rc_calloc(r->K * d, sizeof(double), "reduced gradients", err);
  r->gP = rc_calloc(d * d, sizeof(double), "reduced gradients", err);
  r->gamma = rc_calloc(d * d, sizeof(double), "reduced gradients", err);
  r->tmp = rc_calloc(d * d, sizeof(double), "reduced gradients", err);
  if (!r->row_ptr || !r->labels || !r->counts || !r->mult || !r->aw || !r->clean || !r->gx || !r->gy || !r->gP ||
      !r->gamma || !r->tmp || (st = rc_head_ws_alloc(G, r->K, d, &r->ws, err)) != RC_OK) {
    rc_reduced_free(r);
    return st ? st : RC_ENOMEM;
  }
  size_t w = 0;
  for (size_t g = 0; g < G; g++) {
    size_t i = r->g->group_rep[g];
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++, w++) {
      r->labels[w] = ds->labels[j];
      r->counts[w] = ds->counts[j];
    }
    r->row_ptr[g + 1] = w;
    r->mult[g] = (double)r->g->group_size[g];
    r->aw[g] = ds->sample_weight[i];
    r->clean[g] = ds->clean_label[i];
  }
  r->rows = (rc_rows){G, r->row_ptr, r->labels, r->counts, r->mult};
  *out = r;
  return RC_OK;
}

size_t rc_reduced_core_dim(const rc_reduced *r) { return (r->G + r->K) * r->d + (r->head ? r->d * r->d : 0); }
size_t rc_reduced_dim(const rc_reduced *r) {
  return rc_reduced_core_dim(r) + (r->invariant ? 0 : r->G * r->d * r->d);
}
int rc_reduced_is_invariant_set(const rc_reduced *r) { return r->invariant; }
size_t rc_reduced_embedding_dim(const rc_reduced *r) { return r->d; }
size_t rc_reduced_sphere_rows(const rc_reduced *r) { return r->invariant && r->hp.model.sphere ? r->G + r->K : 0; }
size_t rc_reduced_n_groups(const rc_reduced *r) { return r->G; }
#define RC_SQRT1_2 0.70710678118654752440 /* 1/sqrt(2) */

size_t rc_reduced_sym_dim(const rc_reduced *r) {
  return rc_reduced_core_dim(r) + (r->invariant ? 0 : r->G * r->d * (r->d + 1) / 2);
}

void rc_reduced_to_sym(const rc_reduced *r, const double *u, double *v) {
  const size_t core = rc_reduced_core_dim(r), d = r->d;
  memcpy(v, u, core * sizeof *v);
  if (r->invariant) return;
  const double *C = u + core;
  double *w = v + core;
  for (size_t g = 0; g < r->G; g++, C += d * d)
    for (size_t a = 0; a < d; a++) {
      *w++ = C[a * d + a];
      for (size_t b = a + 1; b < d; b++) *w++ = RC_SQRT1_2 * (C[a * d + b] + C[b * d + a]);
    }
}

void rc_reduced_from_sym(const rc_reduced *r, const double *v, double *u) {
  const size_t core = rc_reduced_core_dim(r), d = r->d;
  memcpy(u, v, core * sizeof *u);
  if (r->invariant) return;
  const double *w = v + core;
  double *C = u + core;
  for (size_t g = 0; g < r->G; g++, C += d * d)
    for (size_t a = 0; a < d; a++) {
      C[a * d + a] = *w++;
      for (size_t b = a + 1; b < d; b++, w++) C[a * d + b] = C[b * d + a] = RC_SQRT1_2 * *w;
    }
}
const rc_groups *rc_reduced_groups(const rc_reduced *r) { return r->g; }
const double *rc_reduced_labels(const rc_reduced *r, const double *u) { return u + r->G * r->d; }
const double *rc_reduced_head(const rc_reduced *r, const double *u) {
  return r->head ? u + (r->G + r->K) * r->d : NULL;
}
static const double *scatter(const rc_reduced *r, const double *u) { return u + rc_reduced_core_dim(r); }

void rc_reduced_from_state(const rc_reduced *r, const rc_state *s, double *u) {
  const size_t d = r->d, G = r->G;
  memset(u, 0, rc_reduced_dim(r) * sizeof *u);
  double *X = u, *C = u + rc_reduced_core_dim(r);
  for (size_t i = 0; i < s->n; i++) {
    size_t g = r->g->group_of_sample[i];
    for (size_t q = 0; q < d; q++) X[g * d + q] += s->x[i * d + q];
  }
  for (size_t g = 0; g < G; g++)
    for (size_t q = 0; q < d; q++) X[g * d + q] /= r->mult[g];
  double *dev = r->invariant ? NULL : malloc(d * sizeof *dev); /* no scatter on the invariant set */
  for (size_t i = 0; dev && i < s->n; i++) {
    size_t g = r->g->group_of_sample[i];
    for (size_t q = 0; q < d; q++) dev[q] = s->x[i * d + q] - X[g * d + q];
    cblas_dger(CblasRowMajor, (int)d, (int)d, 1.0, dev, 1, dev, 1, C + g * d * d, (int)d);
  }
  free(dev);
  memcpy(u + G * d, s->y, r->K * d * sizeof(double));
  if (r->head && s->P) memcpy(u + (G + r->K) * d, s->P, d * d * sizeof(double));
}

/* sum over terms through which x receives gradient of w H^T H (d x d), and
 * the total weight of terms whose x branch carries P and passes gradient
 * (they add (w/M) a_g P C_g to the P-gradient and w/(2M) a_g tr(H C H^T) to the loss) */
static void x_side_operators(const rc_reduced *r, const double *P, double *HtH, double *w_head_grad,
                             double *w_loss_head, double *w_loss_plain) {
  const size_t d = r->d;
  memset(HtH, 0, d * d * sizeof *HtH);
  *w_head_grad = *w_loss_head = *w_loss_plain = 0.0;
  for (size_t t = 0; t < r->hp.model.n_terms; t++) {
    const rc_term *tm = &r->hp.model.terms[t];
    if (tm->kind != RC_TERM_SQUARE) continue; /* uniformity(y): labels only, no scatter part */
    const int src_x = tm->source == RC_BRANCH_X;
    const int hx = src_x ? tm->source_head : tm->target_head;
    const int passes = src_x || !tm->stop_gradient;
    if (hx) *w_loss_head += tm->weight;
    else *w_loss_plain += tm->weight;
    if (!passes) continue;
    if (hx) {
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)d, tm->weight, P, (int)d, P, (int)d,
                  1.0, HtH, (int)d);
      *w_head_grad += tm->weight;
    } else {
      for (size_t a = 0; a < d; a++) HtH[a * d + a] += tm->weight;
    }
  }
}

/* tr(P C P^T) = sum_ab (P C)_ab P_ab */
static double trace_pcpt(const double *P, const double *C, size_t d, double *tmp) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, P, (int)d, C, (int)d, 0.0, tmp,
              (int)d);
  double s = 0.0;
  for (size_t q = 0; q < d * d; q++) s += tmp[q] * P[q];
  return s;
}

/* the loss of the scatters, given the term weights on head / plain x branches */
static double scatter_loss(rc_reduced *r, const double *u, const double *P, double wlh, double wlp) {
  const size_t d = r->d;
  const double *C = scatter(r, u);
  double L = 0.0;
  for (size_t g = 0; g < r->G; g++) {
    const double *Cg = C + g * d * d;
    double tr = 0.0;
    for (size_t a = 0; a < d; a++) tr += Cg[a * d + a];
    double trp = (wlh != 0.0 && P) ? trace_pcpt(P, Cg, d, r->tmp) : 0.0;
    L += r->aw[g] * (wlp * tr + wlh * trp);
  }
  return L / (2.0 * r->ds->total);
}

/* the field on the invariant set of rows (group rows with multiplicities; aw their observation
 * weights): the particle field of one member of each row, the labels' and P's; tangent to the
 * sphere under --sphere. Returns the loss. */
static double invariant_field(rc_reduced *r, const rc_rows *rows, const double *aw, const double *X,
                              const double *Y, const double *P, double *gx, double *dX, double *dY, double *dP,
                              rc_head_ws *ws) {
  const size_t d = r->d, n = rows->n, K = r->K;
  const double M = r->ds->total;
  const double L = rc_terms_gradients(&r->hp.model, rows, K, M, X, Y, P, d, gx, r->gy, r->head ? r->gP : NULL, ws);
  const int degree = r->hp.base.rates == RC_RATES_DEGREE;
  for (size_t g = 0; g < n; g++) {
    const double f = -r->hp.base.eta_x * (degree ? M / aw[g] : 1.0);
    for (size_t q = 0; q < d; q++) dX[g * d + q] = f * gx[g * d + q];
  }
  for (size_t c = 0; c < K; c++) {
    const double f = -r->hp.base.eta_y * (degree ? M / r->ds->class_weight[c] : 1.0);
    for (size_t q = 0; q < d; q++) dY[c * d + q] = f * r->gy[c * d + q];
  }
  if (dP)
    for (size_t q = 0; q < d * d; q++) dP[q] = -r->hp.eta_head * r->gP[q];
  if (r->hp.model.sphere) {
    rc_sphere_tangent(X, dX, n, d);
    rc_sphere_tangent(Y, dY, K, d);
  }
  return L;
}

void rc_reduced_constrain(const rc_reduced *r, double *u) {
  if (!r->hp.model.sphere) return;
  rc_sphere_project(u, r->G + r->K, r->d); /* X and Y are consecutive rows */
}

rc_status rc_reduced_within_group(rc_reduced *r, const double *u, size_t g, double *Gam, rc_error *err) {
  const size_t d = r->d, G = r->G, K = r->K;
  const double ng = r->mult[g];
  if (!(ng >= 2.0)) return rc_error_set(err, RC_EINVAL, "internal: group %zu has one sample", g);
  if (!r->ws_split) { /* rows 0..G-1: the groups (group g less one member), row G: that member */
    size_t nnz = r->row_ptr[G], ng_nnz = 0; /* room for the longest group row as the extra row */
    for (size_t h = 0; h < G; h++)
      if (r->row_ptr[h + 1] - r->row_ptr[h] > ng_nnz) ng_nnz = r->row_ptr[h + 1] - r->row_ptr[h];
    r->sp_row_ptr = rc_calloc(G + 2, sizeof(size_t), "split rows", err);
    r->sp_labels = rc_calloc(nnz + ng_nnz, sizeof(uint32_t), "split rows", err);
    r->sp_counts = rc_calloc(nnz + ng_nnz, sizeof(double), "split rows", err);
    r->sp_mult = rc_calloc(G + 1, sizeof(double), "split rows", err);
    r->sp_X = rc_calloc((G + 1) * d, sizeof(double), "split rows", err);
    r->sp_gx = rc_calloc(2 * (G + 1) * d, sizeof(double), "split rows", err);
    if (!r->sp_row_ptr || !r->sp_labels || !r->sp_counts || !r->sp_mult || !r->sp_X || !r->sp_gx) return RC_ENOMEM;
    rc_status st = rc_head_ws_alloc(G + 1, K, d, &r->ws_split, err);
    if (st) return st;
  }
  /* the split rows for this group */
  size_t w = 0;
  for (size_t h = 0; h <= G; h++) {
    const size_t src = h < G ? h : g;
    for (size_t j = r->row_ptr[src]; j < r->row_ptr[src + 1]; j++, w++) {
      r->sp_labels[w] = r->labels[j];
      r->sp_counts[w] = r->counts[j];
    }
    r->sp_row_ptr[h + 1] = w;
    r->sp_mult[h] = h < G ? r->mult[h] : 1.0;
  }
  r->sp_mult[g] = ng - 1.0;
  rc_rows rows = {G + 1, r->sp_row_ptr, r->sp_labels, r->sp_counts, r->sp_mult};
  double *aw = malloc((G + 1) * sizeof *aw), *dX = malloc((G + 1) * d * sizeof *dX);
  double *dY = malloc(K * d * sizeof *dY), *dP = r->head ? malloc(d * d * sizeof *dP) : NULL;
  double *f1 = malloc(d * sizeof *f1);
  if (!aw || !dX || !dY || (r->head && !dP) || !f1) {
    free(aw), free(dX), free(dY), free(dP), free(f1);
    return rc_error_set(err, RC_ENOMEM, "within-group linearisation");
  }
  memcpy(aw, r->aw, G * sizeof *aw);
  aw[G] = r->aw[g];
  const double *X = u, *Y = u + G * d, *P = rc_reduced_head(r, u);
  double scale = 0.0;
  for (size_t q = 0; q < rc_reduced_core_dim(r); q++) scale = fmax(scale, fabs(u[q]));
  const double h = 1e-6 * (1.0 + scale);
  for (size_t a = 0; a < d; a++) {
    /* one member moves by +-h e_a, the other n_g - 1 by -+h e_a / (n_g - 1): a deviation of zero sum,
     * which leaves the group mean, the labels and P where they are */
    for (int sgn = 0; sgn < 2; sgn++) {
      const double e = sgn ? -h : h;
      memcpy(r->sp_X, X, G * d * sizeof *X);
      memcpy(r->sp_X + G * d, X + g * d, d * sizeof *X);
      r->sp_X[G * d + a] += e;
      r->sp_X[g * d + a] -= e / (ng - 1.0);
      invariant_field(r, &rows, aw, r->sp_X, Y, P, r->sp_gx, dX, dY, dP, r->ws_split);
      for (size_t i = 0; i < d; i++) {
        if (!sgn) f1[i] = dX[G * d + i];
        else Gam[i * d + a] = (f1[i] - dX[G * d + i]) / (2.0 * h);
      }
    }
  }
  free(aw), free(dX), free(dY), free(dP), free(f1);
  return RC_OK;
}

double rc_reduced_vector_field(rc_reduced *r, const double *u, double *du) {
  const size_t d = r->d, G = r->G, K = r->K;
  const double M = r->ds->total;
  if (r->invariant)
    return invariant_field(r, &r->rows, r->aw, u, u + G * d, rc_reduced_head(r, u), r->gx, du, du + G * d,
                           r->head ? du + (G + K) * d : NULL, r->ws);
  const double *X = u, *Y = u + G * d, *P = rc_reduced_head(r, u), *C = scatter(r, u);
  double *dX = du, *dY = du + G * d, *dP = r->head ? du + (G + K) * d : NULL, *dC = du + rc_reduced_core_dim(r);
  double L = rc_terms_gradients(&r->hp.model, &r->rows, K, M, X, Y, P, d, r->gx, r->gy, r->head ? r->gP : NULL,
                                r->ws);
  double wh, wlh, wlp;
  x_side_operators(r, P, r->gamma, &wh, &wlh, &wlp); /* gamma holds sum w H^T H */
  if (r->head && wh != 0.0) { /* scatter part of the P-gradient: (wh/M) P sum_g a_g C_g */
    double *S = calloc(d * d, sizeof *S);
    for (size_t g = 0; S && g < G; g++)
      cblas_daxpy((int)(d * d), r->aw[g], C + g * d * d, 1, S, 1);
    if (S)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, wh / M, P, (int)d, S, (int)d,
                  1.0, r->gP, (int)d);
    free(S);
  }
  L += scatter_loss(r, u, P, wlh, wlp);
  const int degree = r->hp.base.rates == RC_RATES_DEGREE;
  for (size_t g = 0; g < G; g++) {
    const double f = -r->hp.base.eta_x * (degree ? M / r->aw[g] : 1.0);
    for (size_t q = 0; q < d; q++) dX[g * d + q] = f * r->gx[g * d + q];
    /* dC = -(Gam C + C Gam^T), Gam = (-f)(a_g/M) * gamma; C symmetric so C Gam^T = (Gam C)^T */
    const double s = -f * r->aw[g] / M;
    double *dCg = dC + g * d * d;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, s, r->gamma, (int)d,
                C + g * d * d, (int)d, 0.0, r->tmp, (int)d);
    for (size_t a = 0; a < d; a++)
      for (size_t b = 0; b < d; b++) dCg[a * d + b] = -(r->tmp[a * d + b] + r->tmp[b * d + a]);
  }
  for (size_t c = 0; c < K; c++) {
    const double f = -r->hp.base.eta_y * (degree ? M / r->ds->class_weight[c] : 1.0);
    for (size_t q = 0; q < d; q++) dY[c * d + q] = f * r->gy[c * d + q];
  }
  if (dP)
    for (size_t q = 0; q < d * d; q++) dP[q] = -r->hp.eta_head * r->gP[q];
  return L;
}

double rc_reduced_loss(rc_reduced *r, const double *u) {
  double *du = malloc(rc_reduced_dim(r) * sizeof *du);
  double L = du ? rc_reduced_vector_field(r, u, du) : NAN;
  free(du);
  return L;
}

/* The neural-collapse metrics and rankme of docs/model.md section 6.4 from
 * the group moments, exactly: with h_g = P X_g and S_g = P C_g P^T (X_g, C_g
 * without a head), a clean class's mean is the n_g-weighted mean of its
 * groups' h_g, the within-class scatter is sum_g [S_g + n_g (h_g - mu_c)(h_g - mu_c)^T]
 * over its clean groups, and H^T H = sum_g [n_g h_g h_g^T + S_g] over every
 * group, passed as its square root F: the rows sqrt(n_g) h_g and, with
 * C_g = sum_j l_j u_j u_j^T, the rows sqrt(l_j) P u_j (each scatter's
 * eigen-decomposition is accurate on its own scale, so F's singular values
 * are H's to round-off even once the groups have contracted). nc4 needs each
 * sample's nearest class mean: null. */
static void reduced_nc_metrics(rc_reduced *r, const double *u, const rc_metrics_ref *ref, rc_metrics_row *row) {
  const size_t d = r->d, G = r->G, K = r->K, nF = G * (d + 1);
  const double *P = rc_reduced_head(r, u), *C = scatter(r, u), *Y = rc_reduced_labels(r, u);
  double *h = malloc(G * d * sizeof *h), *S = malloc(d * d * sizeof *S), *n = calloc(K, sizeof *n);
  double *mu = calloc(K * d, sizeof *mu), *SW = calloc(d * d, sizeof *SW), *F = calloc(nF * d, sizeof *F);
  double *E = malloc(d * d * sizeof *E), *ev = malloc(d * sizeof *ev);
  if (h && S && n && mu && SW && F && E && ev) {
    if (P)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)G, (int)d, (int)d, 1.0, u, (int)d, P, (int)d, 0.0, h,
                  (int)d);
    else
      memcpy(h, u, G * d * sizeof *h);
    double n_all = 0.0;
    for (size_t g = 0; g < G; g++) {
      n_all += r->mult[g];
      if (r->clean[g] < 0) continue;
      const size_t c = (size_t)r->clean[g];
      n[c] += r->mult[g];
      for (size_t q = 0; q < d; q++) mu[c * d + q] += r->mult[g] * h[g * d + q];
    }
    for (size_t c = 0; c < K; c++)
      for (size_t q = 0; q < d; q++) mu[c * d + q] = n[c] > 0 ? mu[c * d + q] / n[c] : NAN;
    int ok = 1;
    for (size_t g = 0; g < G; g++) {
      const double *Cg = C + g * d * d, *hg = h + g * d;
      if (P) { /* S = P C_g P^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, P, (int)d, Cg, (int)d, 0.0,
                    r->tmp, (int)d);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d, (int)d, (int)d, 1.0, r->tmp, (int)d, P, (int)d, 0.0,
                    S, (int)d);
      } else {
        memcpy(S, Cg, d * d * sizeof *S);
      }
      /* F: sqrt(n_g) h_g, then sqrt(l_j) P u_j of C_g's eigenpairs (columns of E, row-major) */
      double *Fg = F + g * (d + 1) * d;
      for (size_t q = 0; q < d; q++) Fg[q] = sqrt(r->mult[g]) * hg[q];
      memcpy(E, Cg, d * d * sizeof *E);
      int finite = 1;
      for (size_t q = 0; q < d * d; q++) finite &= isfinite(E[q]) != 0;
      if (!finite || LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, E, (lapack_int)d, ev) != 0) {
        ok = 0; /* a non-finite scatter: the run stops on the state */
        break;
      }
      for (size_t j = 0; j < d; j++) {
        const double sl = sqrt(ev[j] > 0 ? ev[j] : 0.0);
        double *row_j = Fg + (1 + j) * d;
        for (size_t a = 0; a < d; a++) {
          double v = 0.0;
          if (P)
            for (size_t b = 0; b < d; b++) v += P[a * d + b] * E[b * d + j];
          else
            v = E[a * d + j];
          row_j[a] = sl * v;
        }
      }
      if (r->clean[g] < 0) continue;
      const double *mc = mu + (size_t)r->clean[g] * d;
      for (size_t q = 0; q < d * d; q++) SW[q] += S[q];
      for (size_t a = 0; a < d; a++)
        for (size_t b = a; b < d; b++) SW[a * d + b] += r->mult[g] * (hg[a] - mc[a]) * (hg[b] - mc[b]);
    }
    if (ok) rc_nc_metrics_moments(K, d, n, mu, SW, F, nF, (size_t)llround(n_all), Y, ref, RC_METRICS_ALL, row);
  }
  free(h);
  free(S);
  free(n);
  free(mu);
  free(SW);
  free(F);
  free(E);
  free(ev);
}

void rc_reduced_metrics(rc_reduced *r, const double *u, const rc_metrics_ref *ref, double t, rc_metrics_row *row) {
  const size_t d = r->d, G = r->G, K = r->K;
  /* label metrics through a label-only state */
  rc_state ys = {0, K, d, (double *)rc_reduced_labels(r, u), NULL, (double *)rc_reduced_labels(r, u), NULL};
  rc_dataset empty;
  memset(&empty, 0, sizeof empty);
  empty.n_classes = K;
  empty.total = 1.0;
  rc_metrics_compute(&empty, &ys, ref, t, row);
  row->valid[RC_M_LOSS] = 1;
  row->value[RC_M_LOSS] = rc_reduced_loss(r, u);
  const double *P = rc_reduced_head(r, u), *C = scatter(r, u), *Y = rc_reduced_labels(r, u);
  double spread = 0.0, n_clean = 0.0, *px = malloc(d * sizeof *px);
  for (size_t g = 0; px && g < G; g++) {
    if (r->clean[g] < 0) continue;
    const double *xg = u + g * d, *yc = Y + (size_t)r->clean[g] * d;
    if (P) cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)d, (int)d, 1.0, P, (int)d, xg, 1, 0.0, px, 1);
    else memcpy(px, xg, d * sizeof *px);
    double q = 0.0, tr = 0.0;
    for (size_t a = 0; a < d; a++) q += (px[a] - yc[a]) * (px[a] - yc[a]);
    if (r->invariant) tr = 0.0; /* every sample at its group mean */
    else if (P) tr = trace_pcpt(P, C + g * d * d, d, r->tmp);
    else
      for (size_t a = 0; a < d; a++) tr += C[g * d * d + a * d + a];
    spread += r->mult[g] * q + tr;
    n_clean += r->mult[g];
  }
  free(px);
  row->value[RC_M_WITHIN_CLASS_SPREAD] = n_clean > 0 ? spread / n_clean : NAN;
  row->valid[RC_M_WITHIN_CLASS_SPREAD] = n_clean > 0;
  row->valid[RC_M_ACCURACY] = row->valid[RC_M_ACCURACY_FRUSTRATED] = row->valid[RC_M_MARGIN] = 0;
  row->value[RC_M_ACCURACY] = row->value[RC_M_ACCURACY_FRUSTRATED] = row->value[RC_M_MARGIN] = NAN;
  reduced_nc_metrics(r, u, ref, row);
}
