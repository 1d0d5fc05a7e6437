/* head_terms.h (private): the gradients of a model's terms over a set of
 * rows (samples, or sample groups with multiplicities), shared by the
 * particle vector field and the group-reduced dynamics. */
#ifndef RC_HEAD_TERMS_H
#define RC_HEAD_TERMS_H

#include "repcollapse/engine.h"
#include "repcollapse/head.h"

/* Rows of A: n rows, CSR arrays; mult (NULL: all 1) is the number of samples a
 * row stands for (its group size). */
typedef struct {
  size_t n;
  const size_t *row_ptr;
  const uint32_t *labels;
  const double *counts;
  const double *mult;
} rc_rows;

/* Scratch: projections and per-term residual sums. */
struct rc_head_ws {
  size_t n, k, d;
  double *px, *py; /* P x (n x d), P y (k x d) */
  double *rx, *ry; /* sum of A r per row, per label */
  double *tmp;     /* n x d */
  rc_objective_ws *obj; /* the engine's objective, which computes every term's gradient */
};

/* Raw gradients of the terms (dL/dx per member of a row, dL/dy, dL/dP) with
 * L = sum_t w/(2M) sum A |H_s u - H_t v|^2 (or a term of another kind),
 * stop-gradient respected; P-gradient sums weight rows by their multiplicity.
 * Returns the loss. gx: n x d, gy: k x d, gP: d x d (may be NULL when the
 * model has no head). P may be NULL (no head). This is the engine's objective
 * (rc_objective_gradients) on these rows: one implementation of each term. */
double rc_terms_gradients(const rc_model *m, const rc_rows *rows, size_t k, double M, const double *X,
                          const double *Y, const double *P, size_t d, double *gx, double *gy, double *gP,
                          rc_head_ws *ws);

#endif
