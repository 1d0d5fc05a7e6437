/* reduced.h: the exact group-reduced dynamics of a term model (docs/model.md section 3).
 *
 * Samples with identical rows of A (groups g, n_g members) enter the vector
 * field only through their group mean X_g and their scatter
 * C_g = sum_{i in g} (x_i - X_g)(x_i - X_g)^T: the deviations obey
 * d(delta_i)/dt = -Gamma_g delta_i with Gamma_g = (eta_x/rho_g)(a_g/M) sum_t w_t H_t^T H_t
 * (H_t the head on the x branch of each term through which x receives
 * gradient), so dC_g/dt = -(Gamma_g C_g + C_g Gamma_g^T), and the P-gradient
 * gains (w/M) a_g P C_g from every term whose x branch carries P and passes
 * gradient. The system is closed and its size, G d + K d + d^2 + G d^2, does
 * not depend on N. Layout of a reduced state u:
 *     [ X (G x d) | Y (K x d) | P (d x d, if the model has a head) | C (G x d x d) ]. */
#ifndef REPCOLLAPSE_REDUCED_H
#define REPCOLLAPSE_REDUCED_H

#include "repcollapse/data.h"
#include "repcollapse/head.h"
#include "repcollapse/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rc_reduced rc_reduced;

rc_status rc_reduced_alloc(const rc_dataset *ds, const rc_head_params *hp, size_t d, rc_reduced **out,
                           rc_error *err);
void rc_reduced_free(rc_reduced *r);

size_t rc_reduced_dim(const rc_reduced *r);          /* length of u */
size_t rc_reduced_core_dim(const rc_reduced *r);     /* length of [X | Y | P] */
size_t rc_reduced_n_groups(const rc_reduced *r);

/** The state space proper: each scatter C_g is a symmetric d x d matrix, so
 * the reduced state has rc_reduced_sym_dim = core + G d(d+1)/2 degrees of
 * freedom, not the d^2 per group that u stores. Orthonormal coordinates v
 * on it: [X | Y | P] as in u, then per group C_aa and sqrt(2) C_ab (a < b).
 * rc_reduced_to_sym projects any u onto them (the symmetric part of C);
 * rc_reduced_from_sym gives the u of v (C symmetric). The fixed-point solver
 * and the stability analysis work in these coordinates: directions of u
 * with an antisymmetric C are no states (the field never moves them), and
 * counting them would add d(d-1)/2 spurious zero modes per group. */
size_t rc_reduced_sym_dim(const rc_reduced *r);
void rc_reduced_to_sym(const rc_reduced *r, const double *u, double *v);
void rc_reduced_from_sym(const rc_reduced *r, const double *v, double *u);
const rc_groups *rc_reduced_groups(const rc_reduced *r);

/** Group means and scatters of a particle state (with head if the model has one). */
void rc_reduced_from_state(const rc_reduced *r, const rc_state *s, double *u);

/** Vector field du = F(u); returns the loss at u. */
double rc_reduced_vector_field(rc_reduced *r, const double *u, double *du);

/** Loss at u (exact: group means plus scatter). */
double rc_reduced_loss(rc_reduced *r, const double *u);

/** Metrics computable from u: loss, min/mean label distance, within-class
 * spread (of P x_i with a head), label effective rank, the scale-free
 * distances, nc1, nc2_*, nc3 and rankme (section 6.4, exact from the group
 * means and scatters). accuracy, accuracy_frustrated, margin and nc4 need
 * individual samples: null. */
void rc_reduced_metrics(rc_reduced *r, const double *u, const rc_metrics_ref *ref, double t, rc_metrics_row *row);

/** Models whose reduction is not exact (rc_model_reduction_exact: cosine,
 * InfoNCE, uniformity(x), --sphere; docs/model.md section 6.2) get the system
 * on their invariant set, where every sample sits at its group mean:
 * u = [X | Y | P] (no scatter), the particle field there (tangent to the
 * sphere under --sphere). rc_reduced_is_invariant_set says which. */
int rc_reduced_is_invariant_set(const rc_reduced *r);
size_t rc_reduced_embedding_dim(const rc_reduced *r); /* d */
/** Rows of u held on the unit sphere (--sphere on the invariant set: the G + K rows of X and Y; else 0). */
size_t rc_reduced_sphere_rows(const rc_reduced *r);

/** The per-sample linearisation on the invariant set: Gam (d x d) = the
 * Jacobian of a member's field along deviations within group g that sum to
 * zero (they leave the means, the labels and P unchanged at first order);
 * its eigenvalues are the within-group modes, each (n_g - 1) times. Central
 * differences on a split system (one member as its own row). Needs n_g >= 2. */
rc_status rc_reduced_within_group(rc_reduced *r, const double *u, size_t g, double *Gam, rc_error *err);

/** --sphere: put the rows X, Y of u back on the unit sphere (nothing otherwise). */
void rc_reduced_constrain(const rc_reduced *r, double *u);

/** The labels (K x d) and head (d x d, or NULL) inside u. */
const double *rc_reduced_labels(const rc_reduced *r, const double *u);
const double *rc_reduced_head(const rc_reduced *r, const double *u);

#ifdef __cplusplus
}
#endif

#endif
