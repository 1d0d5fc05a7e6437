/* engine.c: the engine of engine.h: an encoder and an objective over one flat
 * parameter vector theta = [encoder block | y | P], and the rate-scaled field
 * F(theta) = -g of docs/model.md section 6 that every optimizer consumes.
 * Under `degree` each sample's output gradient is divided by its observation
 * weight a_i / M before back-propagation through the encoder (sections 2 and
 * 4), each label's by b_c / M; the encoder's blocks are scaled by eta_x (table)
 * or eta_W (linear, and every block of mlp), y by eta_y, P by eta_P. A minibatch only reweights the
 * observations; the rate scheme keeps the full data's weights (6.1).
 * --sphere (6.2): the field of the label rows and of the table encoder's rows
 * is projected on the sphere's tangent space (the flow's field), and
 * rc_engine_project puts those rows back on the sphere after each discrete
 * step; any other encoder's outputs are normalised, x = f/|f|, with the
 * gradient taken through the normalisation, dL/df = (I - x x^T) dL/dx / |f|
 * (the encoder outputs hook below). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "repcollapse/engine.h"

struct rc_engine {
  rc_engine_spec spec;
  rc_encoder enc;
  rc_encoder enc_bar;         /* the same encoder with its own scratch, for the EMA targets' forward */
  size_t N, K, d, n_enc, n_theta;
  int head;
  rc_param_block blocks[RC_ENCODER_MAX_BLOCKS + 2];
  size_t n_blocks;
  double *rate_x, *rate_y;    /* -eta (M / weight, or 1) per sample and label */
  double *X, *TX, *G, *gy, *gP; /* outputs, target outputs, dL/dX, dL/dY, dL/dP */
  double *obs_start;          /* first observation index of each CSR entry */
  double *w_batch;            /* per-entry weights of a batch */
  double *norms;              /* --sphere with an encoder: |f_i| of each raw output */
  rc_objective_ws *ws;
};

void rc_engine_free(rc_engine *e) {
  if (!e) return;
  rc_encoder_release(&e->enc);
  rc_encoder_release(&e->enc_bar);
  free(e->rate_x);
  free(e->rate_y);
  free(e->X);
  free(e->TX);
  free(e->G);
  free(e->gy);
  free(e->gP);
  free(e->obs_start);
  free(e->w_batch);
  free(e->norms);
  rc_objective_ws_free(e->ws);
  free(e);
}

rc_status rc_engine_alloc(const rc_engine_spec *spec, rc_engine **out, rc_error *err) {
  *out = NULL;
  if ((unsigned)spec->encoder >= RC_N_ENCODERS) return rc_error_set(err, RC_EINVAL, "unknown encoder");
  if (spec->d == 0) return rc_error_set(err, RC_EINVAL, "--dim must be positive");
  rc_engine *e = rc_calloc(1, sizeof *e, "engine", err);
  if (!e) return RC_ENOMEM;
  const rc_dataset *ds = spec->ds;
  e->spec = *spec;
  e->N = ds->n_samples;
  e->K = ds->n_classes;
  e->d = spec->d;
  e->head = rc_model_has_head(&spec->model);
  rc_status st0 = rc_encoder_setup(&e->enc, spec->encoder, e->N, spec->D, e->d, spec->U, spec->hidden,
                                   spec->activation, err);
  if (!st0)
    st0 = rc_encoder_setup(&e->enc_bar, spec->encoder, e->N, spec->D, e->d, spec->U, spec->hidden, spec->activation,
                           err);
  if (st0) {
    rc_encoder_release(&e->enc);
    free(e);
    return st0;
  }
  const size_t N = e->N, K = e->K, d = e->d, nnz = ds->row_ptr[N];
  e->n_enc = rc_encoder_n_params(&e->enc);
  e->n_theta = e->n_enc + K * d + (e->head ? d * d : 0);
  size_t nb = rc_encoder_blocks(&e->enc, e->blocks);
  for (size_t b = 0; b < nb; b++) {
    e->blocks[b].eta = spec->eta_enc;
    e->blocks[b].decay = spec->decay_enc;
  }
  rc_param_block b1 = {"y", e->n_enc, K * d, spec->eta_y, spec->decay_y};
  rc_param_block b2 = {"P", e->n_enc + K * d, d * d, spec->eta_head, spec->decay_head};
  e->blocks[nb++] = b1;
  if (e->head) e->blocks[nb++] = b2;
  e->n_blocks = nb;
  e->rate_x = rc_calloc(N + 1, sizeof(double), "rates", err);
  e->rate_y = rc_calloc(K + 1, sizeof(double), "rates", err);
  e->X = rc_calloc(N * d + 1, sizeof(double), "encoder outputs", err);
  e->TX = rc_calloc(N * d + 1, sizeof(double), "target outputs", err);
  e->G = rc_calloc(N * d + 1, sizeof(double), "gradients", err);
  e->gy = rc_calloc(K * d + 1, sizeof(double), "gradients", err);
  e->gP = rc_calloc(d * d + 1, sizeof(double), "gradients", err);
  e->obs_start = rc_calloc(nnz + 1, sizeof(double), "observation index", err);
  e->w_batch = rc_calloc(nnz + 1, sizeof(double), "batch weights", err);
  e->norms = rc_calloc(N + 1, sizeof(double), "output norms", err);
  rc_status st = e->rate_x && e->rate_y && e->X && e->TX && e->G && e->gy && e->gP && e->obs_start && e->w_batch &&
                         e->norms
                     ? RC_OK
                     : RC_ENOMEM;
  if (!st) st = rc_objective_ws_alloc(N, K, d, &e->ws, err);
  if (st) {
    rc_engine_free(e);
    return st;
  }
  const int degree = spec->rates == RC_RATES_DEGREE;
  for (size_t i = 0; i < N; i++) e->rate_x[i] = -spec->eta_enc * (degree ? ds->total / ds->sample_weight[i] : 1.0);
  for (size_t c = 0; c < K; c++) e->rate_y[c] = -spec->eta_y * (degree ? ds->total / ds->class_weight[c] : 1.0);
  double acc = 0.0;
  for (size_t j = 0; j < nnz; j++) {
    e->obs_start[j] = acc;
    acc += ds->counts[j];
  }
  e->obs_start[nnz] = acc;
  *out = e;
  return RC_OK;
}

size_t rc_engine_n_theta(const rc_engine *e) { return e->n_theta; }

size_t rc_engine_encoder_size(const rc_engine *e) { return e->n_enc; }

const rc_encoder *rc_engine_encoder(const rc_engine *e) { return &e->enc; }

size_t rc_engine_blocks(const rc_engine *e, const rc_param_block **blocks) {
  *blocks = e->blocks;
  return e->n_blocks;
}

int rc_engine_has_sg_targets(const rc_engine *e) {
  for (size_t t = 0; t < e->spec.model.n_terms; t++)
    if (e->spec.model.terms[t].stop_gradient) return 1;
  return 0;
}

/* The encoder outputs hook: X = enc_theta(u) on the encoder enc (the online
 * one, or enc_bar for the targets), normalised under --sphere for
 * every encoder but the table (whose rows are kept on the sphere by
 * rc_engine_project); norms (NULL: not kept) receives |f_i|. */
static void encoder_outputs(rc_engine *e, rc_encoder *enc, const double *theta, double *X, double *norms) {
  enc->method->forward(enc, theta, X);
  if (!e->spec.model.sphere || e->spec.encoder == RC_ENCODER_TABLE) return;
  for (size_t i = 0; i < e->N; i++) {
    const double nf = cblas_dnrm2((int)e->d, X + i * e->d, 1);
    if (norms) norms[i] = nf;
    if (nf > 0) cblas_dscal((int)e->d, 1.0 / nf, X + i * e->d, 1);
  }
}

/* the gradient through the normalisation: G_i = (I - x_i x_i^T) G_i / |f_i| (x_i unit) */
static void outputs_backward(rc_engine *e) {
  if (!e->spec.model.sphere || e->spec.encoder == RC_ENCODER_TABLE) return;
  const size_t d = e->d;
  for (size_t i = 0; i < e->N; i++) {
    double *g = e->G + i * d;
    const double *x = e->X + i * d;
    if (!(e->norms[i] > 0)) continue;
    cblas_daxpy((int)d, -cblas_ddot((int)d, g, 1, x, 1), x, 1, g, 1);
    cblas_dscal((int)d, 1.0 / e->norms[i], g, 1);
  }
}

const double *rc_engine_outputs(rc_engine *e, const double *theta) {
  encoder_outputs(e, &e->enc, theta, e->X, NULL);
  return e->X;
}

void rc_engine_project(const rc_engine *e, double *theta) {
  if (!e->spec.model.sphere) return;
  if (e->spec.encoder == RC_ENCODER_TABLE) rc_sphere_project(theta, e->N, e->d);
  rc_sphere_project(theta + e->n_enc, e->K, e->d);
}

double rc_engine_zero_norm(const rc_engine *e) { return rc_objective_zero_norm(e->ws); }

double rc_engine_field(rc_engine *e, const double *theta, const double *theta_bar, const rc_batch *batch, double *F) {
  const rc_dataset *ds = e->spec.ds;
  const size_t N = e->N, K = e->K, d = e->d, nnz = ds->row_ptr[N];
  const double *Y = theta + e->n_enc, *P = e->head ? theta + e->n_enc + K * d : NULL;
  rc_obs_weights w = {N, ds->row_ptr, ds->labels, ds->counts, NULL};
  if (batch) {
    memset(e->w_batch, 0, nnz * sizeof *e->w_batch);
    size_t j = 0;
    for (size_t q = 0; q < batch->n; q++) {
      const double o = (double)batch->obs[q];
      while (j < nnz && o >= e->obs_start[j + 1]) j++;
      if (j < nnz) e->w_batch[j] += batch->weight;
    }
    w.weight = e->w_batch;
  }
  /* the targets' forward runs on enc_bar, with its own scratch: the online
   * backward may reuse what the online forward left in enc's (engine.h) */
  encoder_outputs(e, &e->enc, theta, e->X, e->norms);
  rc_targets tg = {NULL, NULL, NULL}, *tgp = NULL;
  if (theta_bar) {
    encoder_outputs(e, &e->enc_bar, theta_bar, e->TX, NULL);
    tg.X = e->TX;
    tg.Y = theta_bar + e->n_enc;
    tg.P = e->head ? theta_bar + e->n_enc + K * d : NULL;
    tgp = &tg;
  }
  const double loss = rc_objective_gradients(&e->spec.model, &w, K, ds->total, e->X, Y, P, tgp, d, e->G, e->gy,
                                             e->head ? e->gP : NULL, e->ws);
  outputs_backward(e);
  for (size_t i = 0; i < N; i++)
    for (size_t q = 0; q < d; q++) e->G[i * d + q] *= e->rate_x[i];
  e->enc.method->backward(&e->enc, theta, e->G, F);
  if (e->spec.model.sphere && e->spec.encoder == RC_ENCODER_TABLE) rc_sphere_tangent(theta, F, N, d);
  double *FY = F + e->n_enc;
  for (size_t c = 0; c < K; c++)
    for (size_t q = 0; q < d; q++) FY[c * d + q] = e->rate_y[c] * e->gy[c * d + q];
  if (e->spec.model.sphere) rc_sphere_tangent(Y, FY, K, d);
  if (e->head) {
    double *FP = FY + K * d;
    for (size_t q = 0; q < d * d; q++) FP[q] = -e->spec.eta_head * e->gP[q];
  }
  return loss;
}
