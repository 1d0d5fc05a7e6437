/* reduction.c: the K x K (degree) and group reductions of the minimal model,
 * as symmetric eigenproblems solved by LAPACK (dsyevd). No (N+K)-sized matrix
 * is ever formed: both matrices are accumulated in one pass over the samples. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/lapack_reason.h"
#include "analysis/reduction.h"
#include "core/alloc.h"

static rc_status sym_eigen(double *a, size_t n, int want_vectors, double *w, rc_error *err) {
  lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, want_vectors ? 'V' : 'N', 'U', (lapack_int)n, a,
                                   (lapack_int)n, w);
  char why[160];
  if (info != 0) return rc_error_set(err, RC_ENUMERIC, "the symmetric eigensolver (LAPACK dsyevd) failed on a %zu x %zu matrix: %s",
                                     n, n, rc_lapack_reason((int)info, why, sizeof why));
  return RC_OK;
}

rc_status rc_kk_eigen(const rc_dataset *ds, int want_vectors, double **nu_out, double **V_out, rc_error *err) {
  size_t K = ds->n_classes;
  *nu_out = NULL;
  if (V_out) *V_out = NULL;
  double *m = rc_calloc(K * K, sizeof *m, "K x K matrix", err);
  double *nu = rc_calloc(K, sizeof *nu, "K x K eigenvalues", err);
  if (!m || !nu) {
    free(m);
    free(nu);
    return RC_ENOMEM;
  }
  /* I - S: diagonal sum_i A_ic (a_i - A_ic) / a_i / b_c (no cancellation),
   * off-diagonal -sum_i A_ic A_ic' / a_i / sqrt(b_c b_c'). Clean rows add nothing. */
  for (size_t i = 0; i < ds->n_samples; i++) {
    size_t a = ds->row_ptr[i], b = ds->row_ptr[i + 1];
    if (b - a < 2) continue;
    double ai = ds->sample_weight[i];
    for (size_t j = a; j < b; j++) {
      size_t c = ds->labels[j];
      m[c * K + c] += ds->counts[j] * (ai - ds->counts[j]) / ai;
      for (size_t l = a; l < b; l++)
        if (l != j) m[c * K + ds->labels[l]] -= ds->counts[j] * ds->counts[l] / ai;
    }
  }
  for (size_t c = 0; c < K; c++)
    for (size_t e = 0; e < K; e++) m[c * K + e] /= sqrt(ds->class_weight[c] * ds->class_weight[e]);
  rc_status st = sym_eigen(m, K, want_vectors, nu, err);
  if (st) {
    free(m);
    free(nu);
    return st;
  }
  for (size_t k = 0; k < K; k++) nu[k] = nu[k] < 0.0 ? 0.0 : (nu[k] > 1.0 ? 1.0 : nu[k]);
  *nu_out = nu;
  if (want_vectors && V_out) *V_out = m;
  else free(m);
  return RC_OK;
}

void rc_kk_rates(double nu, double ex, double ey, double *lm, double *lp) {
  double mu = 1.0 - nu;
  double root = sqrt((ex - ey) * (ex - ey) + 4.0 * ex * ey * mu);
  *lp = 0.5 * ((ex + ey) + root);
  *lm = 2.0 * ex * ey * nu / ((ex + ey) + root); /* product of the roots is ex ey (1 - mu) */
}

rc_status rc_group_eigen(const rc_dataset *ds, const rc_minimal_params *p, const rc_groups *g, int want_vectors,
                         double **lam_out, double **V_out, double **dscale_out, rc_error *err) {
  size_t G = g->n_groups, K = ds->n_classes, n = G + K;
  *lam_out = NULL;
  if (V_out) *V_out = NULL;
  if (dscale_out) *dscale_out = NULL;
  if (n > RC_GROUP_MAX)
    return rc_error_set(err, RC_ENOMEM,
                        "the group reduction has %zu groups + %zu classes (> %d): too large for a dense "
                        "eigendecomposition; under --rates degree the K x K reduction is used instead",
                        G, K, RC_GROUP_MAX);
  double *m = rc_calloc(n * n, sizeof *m, "group-reduced matrix", err);
  double *lam = rc_calloc(n, sizeof *lam, "group-reduced eigenvalues", err);
  double *dsc = rc_calloc(n, sizeof *dsc, "group-reduced scaling", err);
  if (!m || !lam || !dsc) {
    free(m);
    free(lam);
    free(dsc);
    return RC_ENOMEM;
  }
  for (size_t gi = 0; gi < G; gi++) {
    size_t i = g->group_rep[gi];
    double sg = rc_sample_rate(ds, p, i), ng = (double)g->group_size[gi];
    m[gi * n + gi] = sg * ds->sample_weight[i];
    dsc[gi] = sqrt(ng / sg);
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
      size_t c = G + ds->labels[j];
      double v = -sqrt(ng * sg * rc_class_rate(ds, p, ds->labels[j])) * ds->counts[j];
      m[gi * n + c] = v;
      m[c * n + gi] = v;
    }
  }
  for (size_t c = 0; c < K; c++) {
    double sc = rc_class_rate(ds, p, c);
    m[(G + c) * n + G + c] = sc * ds->class_weight[c];
    dsc[G + c] = sqrt(1.0 / sc);
  }
  rc_status st = sym_eigen(m, n, want_vectors, lam, err);
  if (st) {
    free(m);
    free(lam);
    free(dsc);
    return st;
  }
  *lam_out = lam;
  if (want_vectors && V_out) *V_out = m;
  else free(m);
  if (dscale_out) *dscale_out = dsc;
  else free(dsc);
  return RC_OK;
}
