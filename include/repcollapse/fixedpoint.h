/* fixedpoint.h: fixed points of term models and their stability (docs/model.md
 * section 3), found on the group-reduced equations, plus the head's action
 * on the class geometry. */
#ifndef REPCOLLAPSE_FIXEDPOINT_H
#define REPCOLLAPSE_FIXEDPOINT_H

#include <stddef.h>

#include "repcollapse/reduced.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Eigenvalues of P (d x d): re[d], im[d], sorted by decreasing modulus. */
rc_status rc_head_eigenvalues(const double *P, size_t d, double *re, double *im, rc_error *err);

/** Labels closer than this times the largest label norm coincide: their
 * difference is round-off (about 1e-16 of the scale), not a direction. */
#define RC_LABELS_COINCIDE 1e-8

/** For each pair a<b (K(K-1)/2 of them, in lexicographic order): |P v| / |v|
 * with v = y_a - y_b; NAN where |v| <= tol * max_pair |y_a - y_b|, where
 * |v| <= RC_LABELS_COINCIDE * max_c |y_c| (the labels coincide: after a
 * complete collapse every difference is round-off), or |v| = 0. */
void rc_separation_gains(const double *Y, const double *P, size_t K, size_t d, double tol, double *gain);

/** Stability of a fixed point from the eigenvalues of the reduced system's Jacobian. */
typedef struct {
  double max_real_part; /* over eigenvalues outside the zero-mode tolerance (NAN if none) */
  size_t zero_modes;    /* eigenvalues with |lambda| <= tolerance */
  double tolerance;     /* absolute: rel_tol * max |lambda| */
  size_t n;             /* number of eigenvalues */
  int verdict;          /* RC_STABLE, RC_UNSTABLE, RC_MARGINAL */
  double *re, *im;      /* all eigenvalues (n), sorted by decreasing real part */
} rc_stability;

enum { RC_STABLE = 0, RC_UNSTABLE = 1, RC_MARGINAL = 2 };
const char *rc_verdict_name(int verdict);

/** Jacobian of the reduced vector field at u by central differences and its
 * eigenvalues (LAPACK dgeev). When the scatters C vanish at u (the usual
 * case: a fixed point with an invertible head), the Jacobian is block
 * triangular and the scatter block's eigenvalues are -(g_i + g_j) from the
 * eigenvalues g of Gamma_g; only the [X | Y | P] block is then differentiated.
 * Zero modes: |lambda| <= rel_tol * max|lambda| (default rel_tol 1e-6);
 * verdict `marginal` when an eigenvalue with positive real part lies within
 * 100 x tolerance of zero (the tolerance cannot separate it from a zero mode). */
rc_status rc_reduced_stability(rc_reduced *r, const double *u, double rel_tol, rc_stability *out, rc_error *err);
void rc_stability_free(rc_stability *s);

/** Fixed point of the reduced vector field near u (in place), by
 * Levenberg-Marquardt least squares (GSL multifit_nlinear) on |F(u)|^2:
 * fixed points form continuous families, where a Newton solver meets a
 * singular Jacobian. If the scatters at the start are below 1e-12 of the
 * state's scale they are set to zero and held there (C = 0 is invariant).
 * *residual receives |F(u)| at the end. */
rc_status rc_reduced_fixed_point(rc_reduced *r, double *u, double *residual, size_t max_iter, rc_error *err);

#ifdef __cplusplus
}
#endif

#endif
