/* head_init.c: initial values of the projection head P (docs/model.md section 3):
 * the identity (default), a random orthogonal matrix (Haar: Q of the QR of a
 * Gaussian matrix, columns signed by diag(R)), or Gaussian entries N(0, s^2/d). */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "core/lapack_reason.h"
#include "repcollapse/head.h"

rc_status rc_head_init_matrix(double *P, size_t d, rc_head_init kind, double scale, unsigned long seed,
                              rc_error *err) {
  memset(P, 0, d * d * sizeof *P);
  if (kind == RC_HEAD_IDENTITY) {
    for (size_t a = 0; a < d; a++) P[a * d + a] = 1.0;
    return RC_OK;
  }
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (!r) return rc_error_set(err, RC_ENOMEM, "cannot allocate the random generator");
  gsl_rng_set(r, seed);
  const double sd = kind == RC_HEAD_GAUSSIAN ? scale / sqrt((double)d) : 1.0;
  for (size_t q = 0; q < d * d; q++) P[q] = gsl_ran_gaussian_ziggurat(r, sd);
  gsl_rng_free(r);
  if (kind == RC_HEAD_GAUSSIAN) return RC_OK;
  /* random orthogonal (Haar): Q of a Gaussian matrix's QR, columns signed by diag(R) */
  double *tau = calloc(d, sizeof *tau), *diag = calloc(d, sizeof *diag);
  if (!tau || !diag) {
    free(tau);
    free(diag);
    return rc_error_set(err, RC_ENOMEM, "head init");
  }
  lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, P, (lapack_int)d, tau);
  for (size_t a = 0; a < d; a++) diag[a] = P[a * d + a];
  if (info == 0) info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, (lapack_int)d, P, (lapack_int)d, tau);
  for (size_t b = 0; b < d && info == 0; b++)
    if (diag[b] < 0)
      for (size_t a = 0; a < d; a++) P[a * d + b] = -P[a * d + b];
  free(tau);
  free(diag);
  char why[160];
  if (info != 0)
    return rc_error_set(err, RC_ENUMERIC, "orthogonal head init: the QR factorisation (LAPACK) failed: %s",
                        rc_lapack_reason((int)info, why, sizeof why));
  return RC_OK;
}
