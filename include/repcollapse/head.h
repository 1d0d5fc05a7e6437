/* head.h: models with a shared linear projection head P and stop-gradient
 * (docs/model.md section 3).
 *
 * A model is a set of terms; each compares two branches,
 *     term = w (1/2M) sum_ic A_ic |H_s u - sg?(H_t v)|^2,
 * where one of u, v is the sample embedding x_i and the other the label
 * embedding y_c of the observation, H_s and H_t are the identity or P, and
 * sg() marks the target as a constant (no gradient into v, nor into P through
 * the target branch). Gradients are written by hand; with sg the dynamics is
 * not the gradient flow of any loss. x and y follow the rate scheme of
 * section 2 (degree: divided by the observation weight a_i/M or b_c/M);
 * P follows dP/dt = -eta_head * (sum of the terms' P-gradients).
 *
 * Embeddings are rows in memory; mathematically P acts on column vectors:
 * (P x)_a = sum_b P_ab x_b, with P stored row-major. */
#ifndef REPCOLLAPSE_HEAD_H
#define REPCOLLAPSE_HEAD_H

#include <stddef.h>

#include "repcollapse/data.h"
#include "repcollapse/error.h"
#include "repcollapse/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RC_BRANCH_X = 0, RC_BRANCH_Y = 1 } rc_branch;

/** One term: w |H_s u - sg?(H_t v)|^2; u is `source`, v the other embedding. */
typedef struct {
  double weight;
  rc_branch source;
  int source_head;   /* H_s = P */
  int target_head;   /* H_t = P */
  int stop_gradient; /* target branch is sg() */
} rc_term;

#define RC_MAX_TERMS 8

/** A model: its terms and the name it was given (a preset or "custom"). */
typedef struct {
  size_t n_terms;
  rc_term terms[RC_MAX_TERMS];
  char name[32];
} rc_model;

/** Parse a preset name (minimal, head, siam, siam-sg). */
rc_status rc_model_preset(const char *name, rc_model *m, rc_error *err);

/** Parse a term list, e.g. "Px-sg(y) + Py-sg(x)" or "0.5*Px-y+0.5*Py-x".
 * Grammar: TERM ('+' TERM)*; TERM = [NUMBER '*'] BRANCH '-' TARGET;
 * BRANCH = ['P'] ('x'|'y'); TARGET = BRANCH | 'sg(' BRANCH ')'. The two
 * branches of a term hold different embeddings; blanks are ignored. */
rc_status rc_model_parse_terms(const char *text, rc_model *m, rc_error *err);

/** Canonical term list of a model ("Px-sg(y)+Py-sg(x)"); weights other than 1 are written. */
void rc_model_format(const rc_model *m, char *buf, size_t n);

/** Whether any term uses P; whether the model is exactly the minimal model |x - y|^2. */
int rc_model_has_head(const rc_model *m);
int rc_model_is_minimal(const rc_model *m);
/** Whether any term has a stop-gradient. */
int rc_model_has_sg(const rc_model *m);

typedef enum { RC_HEAD_IDENTITY = 0, RC_HEAD_ORTHOGONAL = 1, RC_HEAD_GAUSSIAN = 2 } rc_head_init;
rc_status rc_parse_head_init(const char *text, rc_head_init *out, rc_error *err);
const char *rc_head_init_name(rc_head_init h);

/** Everything that defines the dynamics of a model with terms. */
typedef struct {
  rc_minimal_params base; /* rate scheme, eta_x, eta_y */
  rc_model model;
  double eta_head;        /* default 1 */
  rc_head_init head_init; /* default identity */
  double head_scale;      /* gaussian head init: entries N(0, head_scale^2 / d) (default 1) */
} rc_head_params;

rc_head_params rc_head_params_default(void);

/** Allocate a state with a head block: z = [x (N x d) | y (K x d) | P (d x d)]. */
rc_status rc_state_alloc_head(size_t n, size_t k, size_t d, int with_head, rc_state **out, rc_error *err);

/** Set P to its initial value (identity, random orthogonal or scaled Gaussian),
 * drawing from seed (the init seed + 1, so embeddings do not change with the head init). */
rc_status rc_head_init_matrix(double *P, size_t d, rc_head_init kind, double scale, unsigned long seed,
                              rc_error *err);

/** Scratch space for the vector field (sized for a data set and d). */
typedef struct rc_head_ws rc_head_ws;
rc_status rc_head_ws_alloc(size_t n, size_t k, size_t d, rc_head_ws **out, rc_error *err);
void rc_head_ws_free(rc_head_ws *ws);

/** Vector field of the model on the full particle state z (layout of
 * rc_state_alloc_head; P absent if the model has no head). If grad_only is
 * set, dz receives the raw gradients dL/dz (x, y, P) of the terms instead
 * (stop-gradient respected), unscaled by rates: for tests. */
void rc_head_vector_field(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d, double *dz,
                          rc_head_ws *ws);
void rc_head_gradients(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d, double *grad,
                       rc_head_ws *ws);

/** Value of the model's loss (sum of its terms) at z. */
double rc_head_loss(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d, rc_head_ws *ws);

/** P x_i for every sample (into px, N x d); x itself when the model has no head. */
void rc_head_project_samples(const rc_dataset *ds, const rc_head_params *hp, const double *z, size_t d,
                             double *px);

#ifdef __cplusplus
}
#endif

#endif
