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

/** The kinds of term (docs/model.md sections 3 and 6.2). For a term of weight w
 * over the observations (i, c) of weight A_ic, M = sum A_ic:
 *   RC_TERM_SQUARE     w (1/2M) sum A_ic |H_s u - sg?(H_t v)|^2            `Px-sg(y)`
 *   RC_TERM_COS        w (1/M)  sum A_ic (1 - cos(H_s u, sg?(H_t v)))       `cos(Px,sg(y))`
 *                      (a zero-norm vector contributes 0 to loss and gradient)
 *   RC_TERM_UNIFORMITY w log((1/(n(n-1))) sum_{a != b} exp(-t |z^_a - z^_b|^2)),
 *                      z^ = z/|z|, over the labels (source y) or the samples
 *                      (source x)                                            `uniformity(y)`
 *   RC_TERM_INFONCE    w (1/M) sum A_ic [|x_i - y_c|^2/tau + log sum_b exp(-|x_i - y_b|^2/tau)]
 *                                                                           `infonce(x,y)` */
typedef enum { RC_TERM_SQUARE = 0, RC_TERM_COS = 1, RC_TERM_UNIFORMITY = 2, RC_TERM_INFONCE = 3 } rc_term_kind;

/** One term: w |H_s u - sg?(H_t v)|^2 (or another kind); u is `source`, v the
 * other embedding. uniformity and infonce use neither head nor sg; for
 * uniformity `source` names the embeddings it spreads. */
typedef struct {
  double weight;
  rc_branch source;
  int source_head;   /* H_s = P */
  int target_head;   /* H_t = P */
  int stop_gradient; /* target branch is sg() */
  rc_term_kind kind; /* RC_TERM_SQUARE for every model of section 3 */
} rc_term;

#define RC_MAX_TERMS 8
#define RC_DEFAULT_UNIFORMITY_T 2.0
#define RC_DEFAULT_TEMPERATURE 0.1
/** uniformity(x) costs O(N^2 d) per evaluation: refused over more samples than this
 * (the whole data set, or under --batch the samples of one batch) */
#define RC_UNIFORMITY_X_MAX_SAMPLES 4096

/** A model: its terms, the name it was given (a preset or "custom"), and the
 * settings of section 6.2 (0 means the default: t = 2, tau = 0.1). */
typedef struct {
  size_t n_terms;
  rc_term terms[RC_MAX_TERMS];
  char name[32];
  int sphere;          /* --sphere: x and y kept on the unit sphere */
  double uniformity_t; /* --uniformity-t */
  double temperature;  /* --temperature */
} rc_model;

/** Parse a preset name (minimal, head, siam, siam-sg, simsiam, proj, proj-sg). */
rc_status rc_model_preset(const char *name, rc_model *m, rc_error *err);

/** Parse a term list, e.g. "Px-sg(y) + Py-sg(x)" or "0.5*Px-y+0.5*Py-x".
 * Grammar: TERM ('+' TERM)*; TERM = [NUMBER '*'] BODY;
 * BODY = BRANCH '-' TARGET | 'cos(' BRANCH ',' TARGET ')' | 'uniformity(' ('x'|'y') ')'
 *      | 'infonce(x,y)';
 * BRANCH = ['P'] ('x'|'y'); TARGET = BRANCH | 'sg(' BRANCH ')'. The two
 * branches of a term hold different embeddings; weights are positive; blanks
 * are ignored. */
rc_status rc_model_parse_terms(const char *text, rc_model *m, rc_error *err);

/** The settings of section 6.2 in effect (defaults for 0). */
double rc_model_uniformity_t(const rc_model *m);
double rc_model_temperature(const rc_model *m);
/** Whether every term is of the squared kind of section 3 (and no --sphere):
 * the models that the term-model integrators (rk45, gd of section 3) run. */
int rc_model_is_classic(const rc_model *m);
/** Whether the model has a term of the given kind. */
int rc_model_has_kind(const rc_model *m, rc_term_kind kind);
/** Whether the exact group reduction (reduced.h) holds: every term squared
 * or uniformity(y), and no --sphere (docs/model.md section 6.2). If not,
 * why is written into why (a phrase) when given. */
int rc_model_reduction_exact(const rc_model *m, char *why, size_t n);

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
/** The objective's workspace inside (its zero-norm count: rc_objective_zero_norm, engine.h). */
struct rc_objective_ws *rc_head_ws_objective(rc_head_ws *ws);

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
