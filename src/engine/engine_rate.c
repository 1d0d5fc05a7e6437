/* engine_rate.c: the fastest rate of the engine's field at a state, the
 * number a gd step must respect (dt * rate < 2, docs/model.md sections 4 and
 * 6.3: for an encoder on real images it grows with N, since the top
 * eigenvalue of U U^T does). Power iteration on the Jacobian of F(theta) with
 * central finite-difference Jacobian-vector products (the field of a
 * nonlinear encoder is not linear in theta), as the term models estimate theirs. */
#include "integrate/common.h"
#include "repcollapse/engine.h"

static void engine_rhs(const double *z, double *dz, void *ctx) { rc_engine_field(ctx, z, NULL, NULL, dz); }

double rc_engine_rate_estimate(rc_engine *e, const double *theta) {
  return rc_field_radius(rc_engine_n_theta(e), theta, engine_rhs, e, 60, 20, 0);
}
