/* ts_field.c: the vector field of the linear teacher-student model (docs/model.md
 * section 4). The student's samples are X = U W^T; the terms of section 3 give
 * G = dL/dX, dL/dY and dL/dP (rc_terms_gradients, the same code as the
 * embedding models), and the chain rule gives dL/dW = G^T U. The two products
 * with the inputs, X = U W^T and G^T U (2 N D d flops each), are the whole
 * cost for D >> d; both are one BLAS call (dgemm, or sgemm with --precision
 * f32: inputs and the two products in single precision, everything else in
 * double). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "model/ts_model.h"


void rc_ts_model_free(rc_ts_model *m) {
  if (!m) return;
  free(m->X);
  free(m->G);
  free(m->gy);
  free(m->gP);
  free(m->rate_x);
  free(m->rate_y);
  free(m->dz);
  rc_head_ws_free(m->ws);
  free(m->Uf);
  free(m->Wf);
  free(m->Xf);
  free(m->Gf);
  free(m->dWf);
  free(m);
}

size_t rc_ts_offset_labels(const rc_ts_model *m) { return m->d * m->D; }
size_t rc_ts_offset_head(const rc_ts_model *m) { return m->head ? m->d * m->D + m->K * m->d : 0; }
size_t rc_ts_state_size(const rc_ts_model *m) { return m->d * m->D + m->K * m->d + (m->head ? m->d * m->d : 0); }

rc_status rc_ts_model_alloc(const rc_ts_data *data, const rc_ts_params *p, size_t d, rc_ts_model **out,
                            rc_error *err) {
  *out = NULL;
  if (d == 0) return rc_error_set(err, RC_EINVAL, "--dim must be positive");
  if (!(p->eta_w > 0) || !isfinite(p->eta_w)) return rc_error_set(err, RC_EINVAL, "--eta-w must be positive (got %g)", p->eta_w);
  rc_ts_model *m = rc_calloc(1, sizeof *m, "teacher-student model", err);
  if (!m) return RC_ENOMEM;
  const rc_dataset *ds = data->ds;
  m->data = data;
  m->p = *p;
  m->N = data->n;
  m->D = data->D;
  m->K = data->K;
  m->d = d;
  m->head = rc_model_has_head(&p->hp.model);
  rc_rows rows = {ds->n_samples, ds->row_ptr, ds->labels, ds->counts, NULL};
  m->rows = rows;
  const size_t N = m->N, K = m->K, D = m->D;
  m->X = rc_calloc(N * d, sizeof(double), "student outputs", err);
  m->G = rc_calloc(N * d, sizeof(double), "gradients", err);
  m->gy = rc_calloc(K * d, sizeof(double), "gradients", err);
  m->gP = rc_calloc(d * d, sizeof(double), "gradients", err);
  m->rate_x = rc_calloc(N, sizeof(double), "rates", err);
  m->rate_y = rc_calloc(K, sizeof(double), "rates", err);
  m->dz = rc_calloc(rc_ts_state_size(m), sizeof(double), "state", err);
  rc_status st = (m->X && m->G && m->gy && m->gP && m->rate_x && m->rate_y && m->dz) ? RC_OK : RC_ENOMEM;
  if (!st) st = rc_head_ws_alloc(N, K, d, &m->ws, err);
  if (!st && p->precision == RC_PRECISION_F32) {
    m->Uf = rc_calloc(N * D, sizeof(float), "single-precision inputs", err);
    m->Wf = rc_calloc(d * D, sizeof(float), "single-precision W", err);
    m->Xf = rc_calloc(N * d, sizeof(float), "single-precision outputs", err);
    m->Gf = rc_calloc(N * d, sizeof(float), "single-precision gradients", err);
    m->dWf = rc_calloc(d * D, sizeof(float), "single-precision W update", err);
    if (!m->Uf || !m->Wf || !m->Xf || !m->Gf || !m->dWf) st = RC_ENOMEM;
    for (size_t q = 0; !st && q < N * D; q++) m->Uf[q] = (float)data->U[q];
  }
  if (st) {
    rc_ts_model_free(m);
    return st;
  }
  /* section 4: under degree each sample's gradient is divided by its weight a_i / M (and each label's by b_c / M) */
  const int degree = p->hp.base.rates == RC_RATES_DEGREE;
  for (size_t i = 0; i < N; i++) m->rate_x[i] = -p->eta_w * (degree ? ds->total / ds->sample_weight[i] : 1.0);
  for (size_t c = 0; c < K; c++) m->rate_y[c] = -p->hp.base.eta_y * (degree ? ds->total / ds->class_weight[c] : 1.0);
  *out = m;
  return RC_OK;
}

/* X (n x d) = Uin W^T */
static void student_x(const rc_ts_model *m, const double *W, const double *Uin, size_t n, double *X) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)m->d, (int)m->D, 1.0, Uin, (int)m->D, W,
              (int)m->D, 0.0, X, (int)m->d);
}

/* the training outputs X = U W^T, through sgemm under f32 */
static void training_x(rc_ts_model *m, const double *W) {
  if (m->p.precision != RC_PRECISION_F32) {
    student_x(m, W, m->data->U, m->N, m->X);
    return;
  }
  const size_t N = m->N, D = m->D, d = m->d;
  for (size_t q = 0; q < d * D; q++) m->Wf[q] = (float)W[q];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)d, (int)D, 1.0f, m->Uf, (int)D, m->Wf, (int)D,
              0.0f, m->Xf, (int)d);
  for (size_t q = 0; q < N * d; q++) m->X[q] = (double)m->Xf[q];
}

/* dW (d x D) = G^T U, G already scaled by the sample rates */
static void w_update(rc_ts_model *m, double *dW) {
  const size_t N = m->N, D = m->D, d = m->d;
  if (m->p.precision != RC_PRECISION_F32) {
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)D, (int)N, 1.0, m->G, (int)d, m->data->U,
                (int)D, 0.0, dW, (int)D);
    return;
  }
  for (size_t q = 0; q < N * d; q++) m->Gf[q] = (float)m->G[q];
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)D, (int)N, 1.0f, m->Gf, (int)d, m->Uf, (int)D,
              0.0f, m->dWf, (int)D);
  for (size_t q = 0; q < d * D; q++) dW[q] = (double)m->dWf[q];
}

double rc_ts_vector_field(rc_ts_model *m, const double *z, double *dz) {
  const size_t N = m->N, K = m->K, d = m->d;
  const double *W = z, *Y = z + rc_ts_offset_labels(m), *P = m->head ? z + rc_ts_offset_head(m) : NULL;
  training_x(m, W);
  double loss = rc_terms_gradients(&m->p.hp.model, &m->rows, K, m->data->ds->total, m->X, Y, P, d, m->G, m->gy,
                                   m->head ? m->gP : NULL, m->ws);
  for (size_t i = 0; i < N; i++)
    for (size_t q = 0; q < d; q++) m->G[i * d + q] *= m->rate_x[i];
  w_update(m, dz);
  double *dY = dz + rc_ts_offset_labels(m);
  for (size_t c = 0; c < K; c++)
    for (size_t q = 0; q < d; q++) dY[c * d + q] = m->rate_y[c] * m->gy[c * d + q];
  if (m->head) {
    double *dP = dz + rc_ts_offset_head(m);
    for (size_t q = 0; q < d * d; q++) dP[q] = -m->p.hp.eta_head * m->gP[q];
  }
  return loss;
}

/* name of quantity q of a state */
void rc_ts_describe(const rc_ts_model *m, size_t q, char *buf, size_t n) {
  const size_t ly = rc_ts_offset_labels(m), lp = ly + m->K * m->d;
  if (q < ly) snprintf(buf, n, "W[%zu][%zu]", q / m->D, q % m->D);
  else if (q < lp) snprintf(buf, n, "label %zu's embedding (coordinate %zu)", (q - ly) / m->d, (q - ly) % m->d);
  else snprintf(buf, n, "head P[%zu][%zu]", (q - lp) / m->d, (q - lp) % m->d);
}

rc_status rc_ts_gd_step(rc_ts_model *m, double *z, double dt, double *loss, rc_error *err) {
  const size_t n = rc_ts_state_size(m);
  double L = rc_ts_vector_field(m, z, m->dz);
  if (loss) *loss = L;
  cblas_daxpy((int)n, dt, m->dz, 1, z, 1);
  for (size_t q = 0; q < n; q++)
    if (!isfinite(z[q])) {
      char what[96];
      rc_ts_describe(m, q, what, sizeof what);
      return rc_error_set(err, RC_ENUMERIC, "non-finite value %g in %s", z[q], what);
    }
  return RC_OK;
}

void rc_ts_outputs(rc_ts_model *m, const double *z, const double *Uin, size_t n, double *out) {
  const size_t d = m->d;
  student_x(m, z, Uin, n, out);
  if (!m->head || n == 0) return;
  /* rows become (P x)^T: out <- out P^T, through a copy */
  double *tmp = malloc(n * d * sizeof *tmp);
  if (!tmp) {
    for (size_t q = 0; q < n * d; q++) out[q] = NAN;
    return;
  }
  memcpy(tmp, out, n * d * sizeof *tmp);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)d, (int)d, 1.0, tmp, (int)d,
              z + rc_ts_offset_head(m), (int)d, 0.0, out, (int)d);
  free(tmp);
}
