/* head_blas.h (private): the two BLAS products every term-model gradient
 * needs, shared by the term models' field (head_field.c) and the engine's
 * objective (src/engine/objective.c). Rows are embeddings; P acts on columns. */
#ifndef RC_HEAD_BLAS_H
#define RC_HEAD_BLAS_H

#include <stddef.h>

#include <cblas.h>

/* out (rows x d) = in (rows x d) P^T, i.e. each row u becomes (P u)^T */
static inline void rc_apply_head(const double *in, const double *P, size_t rows, size_t d, double *out) {
  if (rows == 0) return;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)d, (int)d, 1.0, in, (int)d, P, (int)d, 0.0,
              out, (int)d);
}

/* g (rows x d) += alpha * R H, i.e. each row gets alpha (H^T r)^T (H = P if head, else the identity) */
static inline void rc_add_transposed_head(double *g, const double *R, const double *P, int head, size_t rows,
                                          size_t d, double alpha) {
  if (rows == 0) return;
  if (head)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)d, (int)d, alpha, R, (int)d, P, (int)d,
                1.0, g, (int)d);
  else
    cblas_daxpy((int)(rows * d), alpha, R, 1, g, 1);
}

#endif
