/* engine.h: one engine for every model (docs/model.md section 6): a model is three
 * independent choices, each a small interface in its own file, the way GSL
 * separates a method from a problem:
 *   - an encoder (how the sample embeddings x_i arise from parameters):
 *     `table` (free x_i, src/engine/encoder_table.c), `linear` (x = W u,
 *     src/engine/encoder_linear.c), room for `mlp`;
 *   - an objective (the terms of section 3 on the encoder's outputs, the
 *     labels y and the head P, with stop-gradient targets optionally read from
 *     EMA copies; src/engine/objective.c);
 *   - an optimizer (optimizer.h, src/optimize/).
 * The engine (src/engine/engine.c) joins them over one flat parameter vector
 * theta = [encoder parameters | y (K x d) | P (d x d, when a term uses it)],
 * cut into named blocks (rc_param_block: "x" or "W", "y", "P") that the
 * optimizers consume. rc_engine_field evaluates the rate-scaled field
 * F(theta) = -g of section 6 (the rate scheme and each block's eta applied,
 * weight decay NOT applied: the optimizer adds it), on the whole data or on a
 * minibatch, with the stop-gradient targets taken from theta or from a
 * separate target vector theta_bar (EMA targets).
 *
 * Adding an encoder: one file src/engine/encoder_<name>.c defining an
 * rc_encoder_method (parameter count, forward, backward, init) and one entry
 * in rc_encoder_methods (src/engine/encoder.c). Adding a term kind: its
 * gradient in src/engine/objective.c (rc_objective_gradients). */
#ifndef REPCOLLAPSE_ENGINE_H
#define REPCOLLAPSE_ENGINE_H

#include <stddef.h>

#include "repcollapse/data.h"
#include "repcollapse/error.h"
#include "repcollapse/head.h"
#include "repcollapse/optimizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- encoder */
typedef enum { RC_ENCODER_TABLE = 0, RC_ENCODER_LINEAR = 1 } rc_encoder_kind;
#define RC_N_ENCODERS 2

typedef struct rc_encoder rc_encoder;

/** An encoder method: a struct of callbacks (GSL-style). theta_e is the
 * encoder's block of theta (n_params doubles). */
typedef struct {
  const char *name;       /* "table", "linear" */
  const char *block_name; /* the name of its parameter block: "x", "W" */
  /** number of parameters for n samples of input dimension D, embedding dimension d */
  size_t (*n_params)(size_t n, size_t D, size_t d);
  /** X (n x d) = enc_theta(u_i) for every sample */
  void (*forward)(const rc_encoder *e, const double *theta_e, double *X);
  /** g_e (n_params) = the gradient of the encoder's parameters from G = dL/dX (n x d), already
   * rate-scaled per sample (section 6: under `degree` divided by the sample's observation weight) */
  void (*backward)(const rc_encoder *e, const double *theta_e, const double *G, double *g_e);
} rc_encoder_method;

/** An encoder on a data set's samples: its method, sizes and inputs (not owned). */
struct rc_encoder {
  const rc_encoder_method *method;
  size_t n, D, d; /* samples, input dimension (0 for table), embedding dimension */
  const double *U; /* n x D inputs, row-major (NULL for table) */
};

/** The registry: rc_encoder_methods[kind]; parse and name. */
extern const rc_encoder_method *const rc_encoder_methods[RC_N_ENCODERS];
rc_status rc_parse_encoder(const char *text, rc_encoder_kind *out, rc_error *err);
const char *rc_encoder_name(rc_encoder_kind k);

/* -------------------------------------------------------------- objective */
/** The observations the objective sums over: the data set's CSR rows with a
 * weight per entry (A_ic for the whole data, or the number of the batch's
 * observations of (i, c) times M / |batch| for a minibatch). */
typedef struct {
  size_t n;                /* samples (or sample groups) */
  const size_t *row_ptr;   /* n + 1 */
  const uint32_t *labels;  /* row_ptr[n] */
  const double *weight;    /* row_ptr[n] */
  const double *mult;      /* NULL, or per row the number of samples it stands for (a group's size):
                            * gx is then dL/dx per member, the sums over samples count each member */
} rc_obs_weights;

/** Targets: where the stop-gradient branches read x, y and P. NULL members
 * mean the online values (plain sg). */
typedef struct {
  const double *X, *Y, *P;
} rc_targets;

typedef struct rc_objective_ws rc_objective_ws;
rc_status rc_objective_ws_alloc(size_t n, size_t k, size_t d, rc_objective_ws **out, rc_error *err);
void rc_objective_ws_free(rc_objective_ws *ws);

/** Raw gradients of L = sum_t (term t), each term of its kind (head.h:
 * w_t/(2M) sum_{ic} a_ic |H_s u - sg?(H_t v)|^2, cosine, uniformity, InfoNCE):
 * gx = dL/dX (n x d), gy = dL/dY (k x d), gP = dL/dP (d x d, NULL without a
 * head; P NULL without a head). Stop-gradient targets read tg (NULL: online).
 * Returns the loss (on the online values of every branch not under sg, the
 * targets' values under sg). The one implementation of every term's
 * gradient: the term models' field (model/head_field.c) and the group-reduced
 * system call it too. uniformity(x) runs over the rows of nonzero weight (under
 * a minibatch: the batch's samples, a biased estimate of the full term). */
double rc_objective_gradients(const rc_model *m, const rc_obs_weights *w, size_t k, double M, const double *X,
                              const double *Y, const double *P, const rc_targets *tg, size_t d, double *gx,
                              double *gy, double *gP, rc_objective_ws *ws);

/** Zero-norm vectors met by the last evaluation's cosine and uniformity terms
 * (each contributes 0 to loss and gradient; samples of a group counted by its size). */
double rc_objective_zero_norm(const rc_objective_ws *ws);

/** --sphere (docs/model.md section 6.2): each row of Z (rows x d) scaled to unit
 * length (zero rows left as they are), and F's rows projected on the tangent
 * space at Z's rows, F_i -= (F_i . z^_i) z^_i. */
void rc_sphere_project(double *Z, size_t rows, size_t d);
void rc_sphere_tangent(const double *Z, double *F, size_t rows, size_t d);

/* ----------------------------------------------------------------- engine */
typedef struct {
  rc_encoder_kind encoder;
  const rc_dataset *ds; /* observations (N samples, K classes) */
  const double *U;      /* N x D inputs for `linear` (NULL for table) */
  size_t D, d;
  rc_model model;       /* the terms */
  rc_rate_scheme rates; /* degree | uniform */
  double eta_enc;       /* eta_x (table) or eta_W (linear) */
  double eta_y, eta_head;
  int decay_enc, decay_y, decay_head; /* which blocks weight decay applies to (--weight-decay-on) */
} rc_engine_spec;

typedef struct rc_engine rc_engine;

rc_status rc_engine_alloc(const rc_engine_spec *spec, rc_engine **out, rc_error *err);
void rc_engine_free(rc_engine *e);

/** Size of theta and its blocks (encoder, y, and P when the model has a head). */
size_t rc_engine_n_theta(const rc_engine *e);
size_t rc_engine_blocks(const rc_engine *e, const rc_param_block **blocks);
/** Whether any term has a stop-gradient target (EMA applies only then). */
int rc_engine_has_sg_targets(const rc_engine *e);

/** A minibatch: observation indices in data order (sample i's entries in CSR
 * order, entry (i, c) standing for A_ic consecutive observations), in
 * increasing order, and the weight M / |batch| of each. */
typedef struct {
  size_t n;
  const size_t *obs;
  double weight;
} rc_batch;

/** The rate-scaled field F(theta) = -g (section 6) into F (n_theta): on the
 * whole data (batch NULL) or a batch; stop-gradient targets from theta_bar
 * (NULL: theta; for an encoder, x-bar = enc_{theta_bar}(u)). Returns the loss
 * of what was evaluated. The rate scheme divides by the full data's
 * observation weights whatever the batch. */
double rc_engine_field(rc_engine *e, const double *theta, const double *theta_bar, const rc_batch *batch, double *F);

/** The sample-side embeddings X = enc_theta(u) (n x d) of theta (valid until the next call);
 * normalised under --sphere. */
const double *rc_engine_outputs(rc_engine *e, const double *theta);

/** --sphere (docs/model.md section 6.2): put the label rows, and the table
 * encoder's rows, of theta back on the unit sphere (after each discrete step,
 * and on the initial state); nothing without --sphere. The field
 * rc_engine_field is already tangent to the sphere at those rows, and an
 * encoder's outputs are normalised inside it, with the gradient through the
 * normalisation. */
void rc_engine_project(const rc_engine *e, double *theta);

/** Zero-norm vectors met by the last rc_engine_field's cosine and uniformity terms. */
double rc_engine_zero_norm(const rc_engine *e);

#ifdef __cplusplus
}
#endif

#endif
