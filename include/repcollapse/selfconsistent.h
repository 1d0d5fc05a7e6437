/* selfconsistent.h: the mean-field self-consistency of a term model's fixed
 * points (docs/model.md section 3; derivation in docs/selfconsistency.md).
 *
 * At a fixed point the head and the class geometry determine each other. For
 * the symmetric patterns the labels decompose into modes of the class walk
 * T = Q P (T_cc' = sum_i A_ic A_ic' / (b_c a_i)): the centre of mass (mu = 1)
 * and separation modes (mu < 1). Put each mode in its own embedding
 * direction, with the head acting on it by a scalar gain p; the fixed-point
 * equations then split into one small problem per mode: the d = 1 reduced
 * equations with the labels fixed to the mode's shape (unit amplitude), the
 * unknowns being the group means and p. A non-collapsed fixed point exists
 * along a mode if and only if that problem has a solution; its p is the
 * head's gain on the mode, fixed by the equations. The mode amplitudes (the
 * size of the separation) are left free by the equations: they depend on
 * where the dynamics started, and are taken from the reduced dynamics
 * averaged over initial conditions. */
#ifndef REPCOLLAPSE_SELFCONSISTENT_H
#define REPCOLLAPSE_SELFCONSISTENT_H

#include <stddef.h>

#include "repcollapse/data.h"
#include "repcollapse/fixedpoint.h"
#include "repcollapse/head.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RC_SC_MAX_SOLUTIONS 4

/** One mode of T and the gains p that solve its fixed-point problem. */
typedef struct {
  double mu;                           /* eigenvalue of T (1 for the centre of mass) */
  size_t n_solutions;                  /* 0: no non-collapsed fixed point along this mode */
  double gain[RC_SC_MAX_SOLUTIONS];    /* head gains p (ascending); NAN for a model without head */
  double residual[RC_SC_MAX_SOLUTIONS];
} rc_sc_mode;

/** The self-consistent solution for one data set. */
typedef struct {
  size_t n_modes;  /* K */
  rc_sc_mode *mode; /* ascending mu: separation modes first, the centre of mass (mu = 1) last */
  int exists;       /* every mode has a solution: a non-collapsed fixed point exists */
  double gain_separation;      /* the positive gain of the separation modes (NAN if they differ or none) */
  double gain_centre;          /* gain on the centre of mass: the solution closest to +1 */
  double loss_per_msd;         /* loss / mean over pairs of |y_a - y_b|^2, when one mu holds every
                                  separation mode (pair, complete); NAN otherwise (it depends on the free mix) */
  rc_stability stability;      /* of the assembled fixed point (d >= K needed; n = 0 if not assembled) */
  double assembled_residual;   /* |F| at the assembled d-dimensional fixed point */
} rc_sc_result;

/** Solve the mode problems for data set ds under model hp, and assemble and
 * check the stability of the d-dimensional fixed point with gain nearest +1
 * on the centre of mass and the positive gain on every separation mode. */
rc_status rc_selfconsistent_solve(const rc_dataset *ds, const rc_head_params *hp, size_t d, rc_sc_result *out,
                                  rc_error *err);
void rc_sc_result_free(rc_sc_result *r);

#ifdef __cplusplus
}
#endif

#endif
