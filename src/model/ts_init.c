/* ts_init.c: the initial state of the teacher-student model (docs/model.md
 * section 4): label embeddings as in section 2, then W with entries
 * N(0, sigma^2/d), so that x = W u starts at the scale of section 2
 * (E|x|^2 = sigma^2 |u|^2, and |u|^2 is about 1 for N(0, I/D) inputs), then
 * the head as in section 3. */
#include <math.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "model/ts_model.h"

rc_status rc_ts_init_state(rc_ts_model *m, const rc_init_params *ip, rc_head_init head_init, double head_scale,
                           double *z, rc_error *err) {
  if (!(ip->sigma > 0.0) || !isfinite(ip->sigma))
    return rc_error_set(err, RC_EINVAL, "sigma must be positive (got %g)", ip->sigma);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (!r) return rc_error_set(err, RC_ENOMEM, "cannot allocate the random generator");
  gsl_rng_set(r, ip->seed);
  const double sd = ip->sigma / sqrt((double)m->d);
  double *Y = z + rc_ts_offset_labels(m);
  for (size_t q = 0; q < m->K * m->d; q++) Y[q] = gsl_ran_gaussian_ziggurat(r, sd);
  for (size_t q = 0; q < m->d * m->D; q++) z[q] = gsl_ran_gaussian_ziggurat(r, sd);
  gsl_rng_free(r);
  if (!m->head) return RC_OK;
  return rc_head_init_matrix(z + rc_ts_offset_head(m), m->d, head_init, head_scale, ip->seed + 1, err);
}
