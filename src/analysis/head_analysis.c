/* head_analysis.c: the head's action on the class geometry (eigenvalues of P,
 * gains on label separations) and the stability of a fixed point from the
 * eigenvalues of the reduced Jacobian (docs/model.md section 3). On the
 * invariant set of the models whose reduction is not exact (section 6.2) the
 * Jacobian of [X | Y | P] joins the within-group modes of the per-sample
 * linearisation (rc_reduced_within_group), one set of d per group of two or
 * more samples; under --sphere the normal directions of the sphere show as
 * zero modes (the tangent field does not move along them). */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/lapack_reason.h"
#include "core/alloc.h"
#include "repcollapse/fixedpoint.h"

const char *rc_verdict_name(int v) { return v == RC_STABLE ? "stable" : v == RC_UNSTABLE ? "unstable" : "marginal"; }

typedef struct {
  double re, im;
} cplx;

static int by_modulus(const void *a, const void *b) {
  const cplx *x = a, *y = b;
  double mx = hypot(x->re, x->im), my = hypot(y->re, y->im);
  if (mx != my) return mx < my ? 1 : -1;
  return (x->re < y->re) - (x->re > y->re);
}

static int by_real(const void *a, const void *b) {
  const cplx *x = a, *y = b;
  if (x->re != y->re) return x->re < y->re ? 1 : -1;
  return (x->im > y->im) - (x->im < y->im);
}

static rc_status eig(double *A, size_t n, double *re, double *im, int (*order)(const void *, const void *),
                     rc_error *err) {
  lapack_int info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)n, A, (lapack_int)n, re, im, NULL, 1, NULL, 1);
  char why[160];
  if (info != 0)
    return rc_error_set(err, RC_ENUMERIC, "the eigensolver (LAPACK dgeev) failed on a %zu x %zu matrix: %s", n, n,
                        rc_lapack_reason((int)info, why, sizeof why));
  cplx *c = malloc(n * sizeof *c);
  if (!c) return rc_error_set(err, RC_ENOMEM, "eigenvalues");
  for (size_t k = 0; k < n; k++) c[k] = (cplx){re[k], im[k]};
  qsort(c, n, sizeof *c, order);
  for (size_t k = 0; k < n; k++) {
    re[k] = c[k].re;
    im[k] = c[k].im;
  }
  free(c);
  return RC_OK;
}

rc_status rc_head_eigenvalues(const double *P, size_t d, double *re, double *im, rc_error *err) {
  double *A = rc_calloc(d * d, sizeof *A, "head eigenvalues", err);
  if (!A) return RC_ENOMEM;
  memcpy(A, P, d * d * sizeof *A);
  rc_status st = eig(A, d, re, im, by_modulus, err);
  free(A);
  return st;
}

void rc_separation_gains(const double *Y, const double *P, size_t K, size_t d, double tol, double *gain) {
  double *v = malloc(d * sizeof *v), *pv = malloc(d * sizeof *pv), maxd = 0.0, scale = 0.0;
  if (!v || !pv) {
    free(v);
    free(pv);
    return;
  }
  for (size_t a = 0; a < K; a++) scale = fmax(scale, cblas_dnrm2((int)d, Y + a * d, 1));
  for (size_t a = 0; a < K; a++)
    for (size_t b = a + 1; b < K; b++) {
      double q = 0;
      for (size_t c = 0; c < d; c++) q += (Y[a * d + c] - Y[b * d + c]) * (Y[a * d + c] - Y[b * d + c]);
      maxd = fmax(maxd, sqrt(q));
    }
  size_t k = 0;
  for (size_t a = 0; a < K; a++)
    for (size_t b = a + 1; b < K; b++, k++) {
      for (size_t c = 0; c < d; c++) v[c] = Y[a * d + c] - Y[b * d + c];
      double nv = cblas_dnrm2((int)d, v, 1);
      /* labels that coincide up to round-off at their own scale: no direction to measure a gain on */
      if (!(nv > tol * maxd) || !(nv > RC_LABELS_COINCIDE * scale) || nv == 0.0) {
        gain[k] = NAN;
        continue;
      }
      if (P) cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)d, (int)d, 1.0, P, (int)d, v, 1, 0.0, pv, 1);
      else memcpy(pv, v, d * sizeof *pv);
      gain[k] = cblas_dnrm2((int)d, pv, 1) / nv;
    }
  free(v);
  free(pv);
}

void rc_stability_free(rc_stability *s) {
  if (!s) return;
  free(s->re);
  free(s->im);
  s->re = s->im = NULL;
}

/* central-difference Jacobian of the reduced field in the symmetric
 * coordinates v of the state space (rc_reduced_to_sym), restricted to their
 * first m components (the others held at their values at u) */
static rc_status jacobian(rc_reduced *r, const double *u, size_t m, double *J, rc_error *err) {
  size_t n = rc_reduced_dim(r), ns = rc_reduced_sym_dim(r);
  double *v = malloc(ns * sizeof *v), *up = malloc(n * sizeof *up), *f = malloc(n * sizeof *f);
  double *f1 = malloc(ns * sizeof *f1), *f2 = malloc(ns * sizeof *f2);
  if (!v || !up || !f || !f1 || !f2) {
    free(v);
    free(up);
    free(f);
    free(f1);
    free(f2);
    return rc_error_set(err, RC_ENOMEM, "Jacobian");
  }
  double scale = 0.0;
  for (size_t q = 0; q < n; q++) scale = fmax(scale, fabs(u[q]));
  const double h = 1e-6 * (1.0 + scale);
  rc_reduced_to_sym(r, u, v);
  for (size_t j = 0; j < m; j++) {
    const double vj = v[j];
    v[j] = vj + h;
    rc_reduced_from_sym(r, v, up);
    rc_reduced_vector_field(r, up, f);
    rc_reduced_to_sym(r, f, f1);
    v[j] = vj - h;
    rc_reduced_from_sym(r, v, up);
    rc_reduced_vector_field(r, up, f);
    rc_reduced_to_sym(r, f, f2);
    v[j] = vj;
    for (size_t i = 0; i < m; i++) J[i * m + j] = (f1[i] - f2[i]) / (2.0 * h);
  }
  free(v);
  free(up);
  free(f);
  free(f1);
  free(f2);
  return RC_OK;
}

rc_status rc_reduced_stability(rc_reduced *r, const double *u, double rel_tol, rc_stability *out, rc_error *err) {
  memset(out, 0, sizeof *out);
  if (!(rel_tol > 0)) rel_tol = 1e-6;
  const size_t n = rc_reduced_dim(r), core = rc_reduced_core_dim(r);
  double cmax = 0.0, umax = 0.0;
  for (size_t q = 0; q < n; q++) {
    if (q >= core) cmax = fmax(cmax, fabs(u[q]));
    else umax = fmax(umax, fabs(u[q]));
  }
  const int invariant = rc_reduced_is_invariant_set(r);
  const int block = !invariant && cmax <= 1e-12 * (1.0 + umax);
  const size_t ns = rc_reduced_sym_dim(r), m = block ? core : ns; /* the state space proper (reduced.h) */
  if (m > 6000)
    return rc_error_set(err, RC_ENOMEM, "the reduced Jacobian would be %zu x %zu: use a smaller --dim for stability", m, m);
  const size_t G = rc_reduced_n_groups(r);
  size_t cap = ns, dd = 0; /* dd: the embedding dimension */
  double *J = rc_calloc(m * m, sizeof *J, "Jacobian", err);
  if (invariant) {
    dd = rc_reduced_embedding_dim(r);
    cap = ns + G * dd;
  }
  out->re = rc_calloc(cap, sizeof(double), "eigenvalues", err);
  out->im = rc_calloc(cap, sizeof(double), "eigenvalues", err);
  if (!J || !out->re || !out->im) {
    free(J);
    rc_stability_free(out);
    return RC_ENOMEM;
  }
  rc_status st = jacobian(r, u, m, J, err);
  if (!st) st = eig(J, m, out->re, out->im, by_real, err);
  free(J);
  size_t ne = m;
  if (!st && invariant) { /* the per-sample linearisation: d within-group modes per group of n_g >= 2 */
    const rc_groups *gr = rc_reduced_groups(r);
    double *gam = malloc(dd * dd * sizeof *gam), *gre = malloc(dd * sizeof *gre), *gim = malloc(dd * sizeof *gim);
    if (!gam || !gre || !gim) st = rc_error_set(err, RC_ENOMEM, "stability");
    for (size_t g = 0; g < G && !st; g++) {
      if (gr->group_size[g] < 2) continue;
      st = rc_reduced_within_group(r, u, g, gam, err);
      if (!st) st = eig(gam, dd, gre, gim, by_real, err);
      for (size_t i = 0; i < dd && !st; i++, ne++) {
        out->re[ne] = gre[i];
        out->im[ne] = gim[i];
      }
    }
    free(gam);
    free(gre);
    free(gim);
    if (!st) {
      cplx *c = malloc(ne * sizeof *c);
      if (!c) st = rc_error_set(err, RC_ENOMEM, "stability");
      for (size_t k = 0; c && k < ne; k++) c[k] = (cplx){out->re[k], out->im[k]};
      if (c) qsort(c, ne, sizeof *c, by_real);
      for (size_t k = 0; c && k < ne; k++) {
        out->re[k] = c[k].re;
        out->im[k] = c[k].im;
      }
      free(c);
    }
  }
  if (!st && block) {
    /* scatter block: dC = -(Gam C + C Gam^T) for each group, on symmetric C; eigenvalues
     * -(g_i + g_j), i <= j, over the eigenvalues g of Gam_g (d(d+1)/2 per group: the pairs
     * i > j would be antisymmetric C, which is no state), obtained from the field itself: the
     * Jacobian of the C part of one group at C = 0 along basis directions */
    size_t d = (size_t)llround(sqrt((double)((n - core) / (rc_reduced_n_groups(r) ? rc_reduced_n_groups(r) : 1))));
    double *up = malloc(n * sizeof *up), *f = malloc(n * sizeof *f), *gam = malloc(d * d * sizeof *gam);
    double *gre = malloc(d * sizeof *gre), *gim = malloc(d * sizeof *gim);
    if (!up || !f || !gam || !gre || !gim) st = rc_error_set(err, RC_ENOMEM, "stability");
    for (size_t g = 0; g < G && !st; g++) {
      /* Gam_g from the response to C = e_b e_b^T... use C = E_ab (not symmetric): dC = -(Gam E_ab + E_ab Gam^T);
       * with E_ab = e_a e_b^T, column b of Gam E is Gam e_a: read Gam[:, a] from dC[:, b] when a != b... simpler:
       * the field is linear in C, so dC(E_aa) = -(Gam e_a e_a^T + e_a e_a^T Gam^T); its (i, a) entry for i != a is -Gam_ia */
      memcpy(up, u, n * sizeof *up);
      for (size_t a = 0; a < d; a++) {
        double *Cg = up + core + g * d * d;
        memset(Cg, 0, d * d * sizeof *Cg);
        Cg[a * d + a] = 1.0;
        rc_reduced_vector_field(r, up, f);
        const double *dC = f + core + g * d * d;
        for (size_t i = 0; i < d; i++) gam[i * d + a] = i == a ? -dC[a * d + a] / 2.0 : -dC[i * d + a];
        Cg[a * d + a] = 0.0;
      }
      st = eig(gam, d, gre, gim, by_real, err);
      for (size_t i = 0; i < d && !st; i++)
        for (size_t j = i; j < d; j++, ne++) {
          out->re[ne] = -(gre[i] + gre[j]);
          out->im[ne] = -(gim[i] + gim[j]);
        }
    }
    free(up);
    free(f);
    free(gam);
    free(gre);
    free(gim);
    if (!st) { /* keep the whole list sorted by real part */
      cplx *c = malloc(ne * sizeof *c);
      if (!c) st = rc_error_set(err, RC_ENOMEM, "stability");
      for (size_t k = 0; c && k < ne; k++) c[k] = (cplx){out->re[k], out->im[k]};
      if (c) qsort(c, ne, sizeof *c, by_real);
      for (size_t k = 0; c && k < ne; k++) {
        out->re[k] = c[k].re;
        out->im[k] = c[k].im;
      }
      free(c);
    }
  }
  if (st) {
    rc_stability_free(out);
    return st;
  }
  out->n = ne;
  double big = 0.0;
  for (size_t k = 0; k < ne; k++) big = fmax(big, hypot(out->re[k], out->im[k]));
  out->tolerance = rel_tol * big;
  out->max_real_part = NAN;
  int ambiguous = 0;
  for (size_t k = 0; k < ne; k++) {
    double mod = hypot(out->re[k], out->im[k]);
    if (mod <= out->tolerance) {
      out->zero_modes++;
      continue;
    }
    if (out->re[k] > 0 && mod <= 100.0 * out->tolerance) ambiguous = 1;
    if (isnan(out->max_real_part) || out->re[k] > out->max_real_part) out->max_real_part = out->re[k];
  }
  if (!isnan(out->max_real_part) && out->max_real_part > 0 && !ambiguous) out->verdict = RC_UNSTABLE;
  else if (ambiguous) out->verdict = RC_MARGINAL;
  else out->verdict = RC_STABLE;
  return RC_OK;
}
