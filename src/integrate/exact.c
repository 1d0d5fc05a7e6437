/* exact.c: the `exact` integrator, z(t) = exp(-J t) z(0) from a reduced
 * eigendecomposition, never forming the (N+K) x (N+K) matrix J
 * (docs/model.md section 2; docs/theory.md sections 3-4).
 *
 * K x K (degree): each eigenpair (nu = 1 - mu, v = B^{-1/2} V_k) of I - S gives
 * two modes y = (eta_x - lambda) v, x = eta_x P v (P_ic = A_ic / a_i), which
 * are orthogonal in the conserved weights w_n = 1/s_n with norm^2
 * eta_x mu + (eta_x - lambda)^2 / eta_y; mu = 0 gives one mode (x = 0, y = v)
 * at eta_y; the rest of the state decays at eta_x. So
 *   x(t) = e^{-eta_x t} x0 + eta_x P Z(t),  Z = sum_k c_k (e^{-lambda_k t} - e^{-eta_x t}) v_k,
 *   y(t) = sum_k c_k e^{-lambda_k t} yhat_k + e^{-eta_x t} R_y.
 * Group (any scheme): group means and labels evolve under the symmetrised
 * (G + K) matrix; a sample's deviation from its group mean decays at s_g a_g. */
#include <cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/reduction.h"
#include "core/alloc.h"
#include "repcollapse/integrate.h"
#include "repcollapse/metrics.h"

struct rc_exact {
  const rc_dataset *ds;
  rc_minimal_params p;
  rc_spectrum_method method;
  size_t N, K, d;
  const double *x0, *y0; /* borrowed from init */
  /* K x K */
  size_t n_modes;
  double *lam;   /* n_modes rates */
  double *vmode; /* n_modes x K: v_k (in the class basis) */
  double *ymode; /* n_modes: y-part factor (eta_x - lambda), or 1 for mu = 0 modes */
  int *xpart;    /* n_modes: has an x part (eta_x P v) */
  double *coef;  /* n_modes x d */
  double *ry;    /* K x d remainder of y0 */
  double *zbuf;  /* K x d scratch */
  double *cbuf;  /* 2K x d scratch: the modes' coefficients at t */
  /* group */
  rc_groups *g;
  size_t n_red;
  double *V, *dsc, *w0, *wt, *u0, *ut; /* (G+K) x (G+K), G+K, (G+K) x d ... */
};

void rc_exact_free(rc_exact *e) {
  if (!e) return;
  free(e->lam);
  free(e->vmode);
  free(e->ymode);
  free(e->xpart);
  free(e->coef);
  free(e->ry);
  free(e->zbuf);
  free(e->cbuf);
  rc_groups_free(e->g);
  free(e->V);
  free(e->dsc);
  free(e->w0);
  free(e->wt);
  free(e->u0);
  free(e->ut);
  free(e);
}

static rc_status exact_kk_prepare(rc_exact *e, const rc_state *init, rc_error *err) {
  const rc_dataset *ds = e->ds;
  size_t K = e->K, d = e->d;
  const double ex = e->p.eta_x, ey = e->p.eta_y;
  double *nu, *V;
  rc_status st = rc_kk_eigen(ds, 1, &nu, &V, err);
  if (st) return st;
  e->lam = rc_calloc(2 * K, sizeof(double), "exact modes", err);
  e->vmode = rc_calloc(2 * K * K, sizeof(double), "exact modes", err);
  e->ymode = rc_calloc(2 * K, sizeof(double), "exact modes", err);
  e->xpart = rc_calloc(2 * K, sizeof(int), "exact modes", err);
  e->coef = rc_calloc(2 * K * d, sizeof(double), "exact modes", err);
  e->ry = rc_calloc(K * d, sizeof(double), "exact modes", err);
  e->zbuf = rc_calloc(K * d, sizeof(double), "exact modes", err);
  e->cbuf = rc_calloc(2 * K * d, sizeof(double), "exact modes", err);
  double *Ax0 = rc_calloc(K * d, sizeof(double), "exact modes", err);
  if (!e->lam || !e->vmode || !e->ymode || !e->xpart || !e->coef || !e->ry || !e->zbuf || !e->cbuf || !Ax0) {
    free(nu);
    free(V);
    free(Ax0);
    return RC_ENOMEM;
  }
  /* A^T x0 (K x d) */
  for (size_t i = 0; i < e->N; i++)
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
      double a = ds->counts[j];
      double *dst = Ax0 + (size_t)ds->labels[j] * d;
      const double *xi = init->x + i * d;
      for (size_t q = 0; q < d; q++) dst[q] += a * xi[q];
    }
  memcpy(e->ry, init->y, K * d * sizeof(double));
  size_t m = 0;
  for (size_t k = 0; k < K; k++) {
    double mu = 1.0 - nu[k];
    double *v = e->vmode + m * K;
    for (size_t c = 0; c < K; c++) v[c] = V[c * K + k] / sqrt(ds->class_weight[c]);
    /* p = v^T A^T x0, q = v^T B y0 (d-vectors) */
    double *pq = e->zbuf; /* use 2 rows of scratch: p in zbuf[0..d), q in coef scratch below */
    double *qv = e->coef + m * d;
    memset(pq, 0, d * sizeof(double));
    memset(qv, 0, d * sizeof(double));
    for (size_t c = 0; c < K; c++) {
      double bc = ds->class_weight[c];
      for (size_t q = 0; q < d; q++) {
        pq[q] += v[c] * Ax0[c * d + q];
        qv[q] += v[c] * bc * init->y[c * d + q];
      }
    }
    if (mu <= 1e-13) { /* A v = 0: a single label-only mode at eta_y */
      e->lam[m] = ey;
      e->ymode[m] = 1.0;
      e->xpart[m] = 0;
      /* coefficient = v^T B y0 = qv (already in place) */
      m++;
      continue;
    }
    double lm, lp;
    rc_kk_rates(nu[k], ex, ey, &lm, &lp);
    double lams[2] = {lm, lp};
    double qsave[64], *qcopy = d <= 64 ? qsave : malloc(d * sizeof(double));
    if (!qcopy) {
      free(nu);
      free(V);
      free(Ax0);
      return rc_error_set(err, RC_ENOMEM, "exact modes");
    }
    memcpy(qcopy, qv, d * sizeof(double));
    for (int s = 0; s < 2; s++) {
      double lam = lams[s], fy = ex - lam;
      double norm2 = ex * mu + fy * fy / ey;
      if (s == 1) memcpy(e->vmode + m * K, v, K * sizeof(double));
      e->lam[m] = lam;
      e->ymode[m] = fy;
      e->xpart[m] = 1;
      for (size_t q = 0; q < d; q++) e->coef[m * d + q] = (pq[q] + fy / ey * qcopy[q]) / norm2;
      m++;
    }
    if (qcopy != qsave) free(qcopy);
  }
  e->n_modes = m;
  /* remainder of y0 (zero up to round-off; kept so y(0) = y0 exactly) */
  for (size_t k = 0; k < m; k++)
    for (size_t c = 0; c < K; c++) {
      double f = e->ymode[k] * e->vmode[k * K + c];
      for (size_t q = 0; q < d; q++) e->ry[c * d + q] -= e->coef[k * d + q] * f;
    }
  free(nu);
  free(V);
  free(Ax0);
  return RC_OK;
}

/* y(t) alone: e^{-eta_x t} R_y + V^T diag(e^{-lambda_k t} ymode_k) C, one GEMM
 * of O(n_modes K d); exact_kk_eval gives the same labels bit for bit */
static void exact_kk_labels(rc_exact *e, double t, double *y) {
  size_t K = e->K, d = e->d;
  const double ebx = exp(-e->p.eta_x * t);
  for (size_t c = 0; c < K; c++)
    for (size_t q = 0; q < d; q++) y[c * d + q] = ebx * e->ry[c * d + q];
  for (size_t k = 0; k < e->n_modes; k++) {
    const double fy = exp(-e->lam[k] * t) * e->ymode[k];
    for (size_t q = 0; q < d; q++) e->cbuf[k * d + q] = fy * e->coef[k * d + q];
  }
  if (e->n_modes)
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)d, (int)e->n_modes, 1.0, e->vmode, (int)K,
                e->cbuf, (int)d, 1.0, y, (int)d);
}

static rc_status exact_kk_eval(rc_exact *e, double t, rc_state *out) {
  const rc_dataset *ds = e->ds;
  size_t K = e->K, d = e->d;
  const double ex = e->p.eta_x, ebx = exp(-ex * t);
  double *Z = e->zbuf;
  memset(Z, 0, K * d * sizeof(double));
  exact_kk_labels(e, t, out->y);
  for (size_t k = 0; k < e->n_modes; k++) {
    if (!e->xpart[k]) continue;
    double fx = exp(-e->lam[k] * t) - ebx;
    const double *v = e->vmode + k * K, *ck = e->coef + k * d;
    for (size_t c = 0; c < K; c++) {
      if (v[c] == 0.0) continue;
      double b = fx * v[c];
      for (size_t q = 0; q < d; q++) Z[c * d + q] += b * ck[q];
    }
  }
  for (size_t i = 0; i < e->N; i++) {
    double *xi = out->x + i * d;
    const double *x0 = e->x0 + i * d;
    for (size_t q = 0; q < d; q++) xi[q] = ebx * x0[q];
    double w = ex / ds->sample_weight[i];
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
      const double *Zc = Z + (size_t)ds->labels[j] * d;
      double a = w * ds->counts[j];
      for (size_t q = 0; q < d; q++) xi[q] += a * Zc[q];
    }
  }
  return RC_OK;
}

static rc_status exact_group_prepare(rc_exact *e, const rc_state *init, rc_error *err) {
  const rc_dataset *ds = e->ds;
  rc_status st = rc_groups_compute(ds, &e->g, err);
  if (st) return st;
  double *lam;
  st = rc_group_eigen(ds, &e->p, e->g, 1, &lam, &e->V, &e->dsc, err);
  if (st) return st;
  e->lam = lam;
  size_t G = e->g->n_groups, n = G + e->K, d = e->d;
  e->n_red = n;
  e->u0 = rc_calloc(n * d, sizeof(double), "exact group state", err);
  e->ut = rc_calloc(n * d, sizeof(double), "exact group state", err);
  e->w0 = rc_calloc(n * d, sizeof(double), "exact group state", err);
  e->wt = rc_calloc(n * d, sizeof(double), "exact group state", err);
  if (!e->u0 || !e->ut || !e->w0 || !e->wt) return RC_ENOMEM;
  /* group means X_g(0), then labels */
  for (size_t i = 0; i < e->N; i++) {
    size_t gi = e->g->group_of_sample[i];
    for (size_t q = 0; q < d; q++) e->u0[gi * d + q] += init->x[i * d + q];
  }
  for (size_t gi = 0; gi < G; gi++)
    for (size_t q = 0; q < d; q++) e->u0[gi * d + q] /= (double)e->g->group_size[gi];
  memcpy(e->u0 + G * d, init->y, e->K * d * sizeof(double));
  /* w0 = V^T D u0 */
  double *du = e->ut;
  for (size_t r = 0; r < n; r++)
    for (size_t q = 0; q < d; q++) du[r * d + q] = e->dsc[r] * e->u0[r * d + q];
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)d, (int)n, 1.0, e->V, (int)n, du, (int)d, 0.0,
              e->w0, (int)d);
  return RC_OK;
}

static rc_status exact_group_eval(rc_exact *e, double t, rc_state *out) {
  const rc_dataset *ds = e->ds;
  size_t n = e->n_red, d = e->d, G = e->g->n_groups;
  for (size_t r = 0; r < n; r++) {
    double f = exp(-(e->lam[r] > 0 ? e->lam[r] : 0.0) * t);
    for (size_t q = 0; q < d; q++) e->wt[r * d + q] = f * e->w0[r * d + q];
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)n, 1.0, e->V, (int)n, e->wt, (int)d,
              0.0, e->ut, (int)d);
  for (size_t r = 0; r < n; r++)
    for (size_t q = 0; q < d; q++) e->ut[r * d + q] /= e->dsc[r];
  for (size_t i = 0; i < e->N; i++) {
    size_t gi = e->g->group_of_sample[i];
    double f = exp(-rc_sample_rate(ds, &e->p, i) * ds->sample_weight[i] * t);
    for (size_t q = 0; q < d; q++)
      out->x[i * d + q] = e->ut[gi * d + q] + f * (e->x0[i * d + q] - e->u0[gi * d + q]);
  }
  memcpy(out->y, e->ut + G * d, e->K * d * sizeof(double));
  return RC_OK;
}

/* labels alone: rows G.. of V diag(e^{-lambda t}) w0, O(K (G+K) d) */
static void exact_group_labels(rc_exact *e, double t, double *y) {
  size_t n = e->n_red, d = e->d, G = e->g->n_groups;
  for (size_t r = 0; r < n; r++) {
    double f = exp(-(e->lam[r] > 0 ? e->lam[r] : 0.0) * t);
    for (size_t q = 0; q < d; q++) e->wt[r * d + q] = f * e->w0[r * d + q];
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)e->K, (int)d, (int)n, 1.0, e->V + G * n, (int)n, e->wt,
              (int)d, 0.0, y, (int)d);
  for (size_t c = 0; c < e->K; c++)
    for (size_t q = 0; q < d; q++) y[c * d + q] /= e->dsc[G + c];
}

rc_status rc_exact_alloc(const rc_dataset *ds, const rc_minimal_params *p, const rc_state *init,
                         rc_spectrum_method method, rc_exact **out, rc_error *err) {
  *out = NULL;
  if (method == RC_SPECTRUM_AUTO) method = p->rates == RC_RATES_DEGREE ? RC_SPECTRUM_KK : RC_SPECTRUM_GROUP;
  if (method == RC_SPECTRUM_KK && p->rates != RC_RATES_DEGREE)
    return rc_error_set(err, RC_EINVAL, "the K x K reduction holds only under the degree rate scheme");
  rc_exact *e = rc_calloc(1, sizeof *e, "exact integrator", err);
  if (!e) return RC_ENOMEM;
  e->ds = ds;
  e->p = *p;
  e->method = method;
  e->N = ds->n_samples;
  e->K = ds->n_classes;
  e->d = init->d;
  e->x0 = init->x;
  e->y0 = init->y;
  rc_status st = method == RC_SPECTRUM_KK ? exact_kk_prepare(e, init, err) : exact_group_prepare(e, init, err);
  if (st) {
    rc_exact_free(e);
    return st == RC_ENOMEM && err && err->code != RC_ENOMEM ? rc_error_set(err, st, "exact integrator: out of memory") : st;
  }
  *out = e;
  return RC_OK;
}

rc_status rc_exact_eval(rc_exact *e, double t, rc_state *out, rc_error *err) {
  (void)err;
  if (t == 0.0) { /* the initial state itself, bit for bit */
    memcpy(out->x, e->x0, e->N * e->d * sizeof(double));
    memcpy(out->y, e->y0, e->K * e->d * sizeof(double));
    return RC_OK;
  }
  return e->method == RC_SPECTRUM_KK ? exact_kk_eval(e, t, out) : exact_group_eval(e, t, out);
}

rc_status rc_exact_labels(rc_exact *e, double t, double *y) {
  if (t == 0.0) memcpy(y, e->y0, e->K * e->d * sizeof(double));
  else if (e->method == RC_SPECTRUM_KK) exact_kk_labels(e, t, y);
  else exact_group_labels(e, t, y);
  return RC_OK;
}

/* ---- collapse time from the exact labels ---- */

typedef struct {
  rc_exact *e;
  double *y;
  double thr;
} collapse_fn_ctx;

static double label_distance_at(rc_exact *e, double t, double *y) {
  rc_exact_labels(e, t, y);
  rc_state ys = {0, e->K, e->d, y, NULL, y, NULL};
  return rc_min_label_distance(&ys);
}

static double collapse_fn(double t, void *vctx) {
  collapse_fn_ctx *c = vctx;
  return label_distance_at(c->e, t, c->y) - c->thr;
}

rc_status rc_exact_collapse_time(rc_exact *e, double t_min, double t_end, double eps, double *t_out, int *found,
                                 rc_error *err) {
  *found = 0;
  *t_out = 0.0;
  if (e->K < 2) return RC_OK;
  double *y = rc_calloc(e->K * e->d, sizeof *y, "collapse time", err);
  if (!y) return RC_ENOMEM;
  collapse_fn_ctx c = {e, y, 0.0};
  const double d0 = label_distance_at(e, 0.0, y);
  rc_status st = RC_OK;
  if (!(d0 > 0)) goto done;
  c.thr = eps * d0;
  if (!(t_min > 0) || t_min > t_end) t_min = t_end;
  /* scan 0, t_min, 1.01 t_min, ..., t_end for the first t with D(t) <= eps D(0) */
  double lo = 0.0, hi = t_min, f_hi = 0.0;
  for (;;) {
    f_hi = collapse_fn(hi, &c);
    if (!(f_hi > 0)) break;
    if (hi >= t_end) goto done; /* no collapse up to t_end */
    lo = hi;
    hi = fmin(hi * 1.01, t_end);
  }
  if (isnan(f_hi)) {
    st = rc_error_set(err, RC_ENUMERIC, "collapse time: D(t) is not a number at t = %g", hi);
    goto done;
  }
  *found = 1;
  if (f_hi == 0.0) {
    *t_out = hi;
    goto done;
  }
  /* Brent on [lo, hi]: f(lo) > 0 >= f(hi) */
  gsl_function F = {collapse_fn, &c};
  gsl_root_fsolver *sv = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
  if (!sv) {
    st = rc_error_set(err, RC_ENOMEM, "collapse time: root solver");
    goto done;
  }
  gsl_root_fsolver_set(sv, &F, lo, hi);
  double root = hi;
  for (int it = 0; it < 200; it++) {
    if (gsl_root_fsolver_iterate(sv) != GSL_SUCCESS) break;
    root = gsl_root_fsolver_root(sv);
    double a = gsl_root_fsolver_x_lower(sv), b = gsl_root_fsolver_x_upper(sv);
    if (gsl_root_test_interval(a, b, 0.0, 1e-14) == GSL_SUCCESS) break;
  }
  gsl_root_fsolver_free(sv);
  *t_out = root;
done:
  free(y);
  return st;
}
