/* reduction.h (private): the two exact reductions of the minimal model's
 * linear dynamics (docs/model.md section 2, derivations in docs/theory.md), shared
 * by the spectrum and the exact integrator. */
#ifndef RC_REDUCTION_H
#define RC_REDUCTION_H

#include "repcollapse/data.h"
#include "repcollapse/model.h"

/* Degree scheme, K x K: eigen-decomposition of I - S with
 * S_cc' = sum_i A_ic A_ic' / (a_i sqrt(b_c b_c')). nu (K) ascending, nu = 1 - mu;
 * V (K x K row-major, eigenvectors in columns) if want_vectors. */
rc_status rc_kk_eigen(const rc_dataset *ds, int want_vectors, double **nu, double **V, rc_error *err);

/* The two rates of a K x K eigenvalue mu = 1 - nu (lambda_minus computed without cancellation). */
void rc_kk_rates(double nu, double eta_x, double eta_y, double *lambda_minus, double *lambda_plus);

/* Group reduction, any scheme: symmetric (G + K) matrix
 *   J_gg = s_g a_g, J_cc = s_c b_c, J_gc = J_cg = -sqrt(n_g s_g s_c) r_gc,
 * similar to the reduced dynamics by D = diag(sqrt(n_g / s_g), sqrt(1 / s_c)).
 * lam (G + K) ascending, V eigenvectors in columns (row-major), dscale = diag(D). */
rc_status rc_group_eigen(const rc_dataset *ds, const rc_minimal_params *p, const rc_groups *g, int want_vectors,
                         double **lam, double **V, double **dscale, rc_error *err);

/* Largest G + K the dense group reduction accepts. */
#define RC_GROUP_MAX 12000

#endif
