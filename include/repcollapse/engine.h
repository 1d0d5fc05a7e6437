/* engine.h: one engine for every model (docs/model.md section 6): a model is three
 * independent choices, each a small interface in its own file, the way GSL
 * separates a method from a problem:
 *   - an encoder (how the sample embeddings x_i arise from parameters):
 *     `table` (free x_i, src/engine/encoder_table.c), `linear` (x = W u,
 *     src/engine/encoder_linear.c), `mlp` (x = W2 phi(W1 u + b1) + b2,
 *     src/engine/encoder_mlp.c);
 *   - an objective (the terms of section 3 on the encoder's outputs, the
 *     labels y and the head P, with stop-gradient targets optionally read from
 *     EMA copies; src/engine/objective.c);
 *   - an optimizer (optimizer.h, src/optimize/).
 * The engine (src/engine/engine.c) joins them over one flat parameter vector
 * theta = [encoder parameters | y (K x d) | P (d x d, when a term uses it)],
 * cut into named blocks (rc_param_block: "x", "W" or "W1", "b1", "W2", "b2";
 * then "y", "P") that the
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
typedef enum { RC_ENCODER_TABLE = 0, RC_ENCODER_LINEAR = 1, RC_ENCODER_MLP = 2 } rc_encoder_kind;
#define RC_N_ENCODERS 3
/** The most parameter blocks one encoder has (mlp: W1, b1, W2, b2). */
#define RC_ENCODER_MAX_BLOCKS 4

/** The mlp's activation phi (docs/model.md section 6). */
typedef enum { RC_ACTIVATION_RELU = 0, RC_ACTIVATION_TANH = 1 } rc_activation;
rc_status rc_parse_activation(const char *text, rc_activation *out, rc_error *err);
const char *rc_activation_name(rc_activation a);

typedef struct rc_encoder rc_encoder;

/** A Gaussian sampler: one draw of N(0, sd^2) from rng (e.g. gsl_ran_gaussian_ziggurat on a gsl_rng). */
typedef double (*rc_gauss_fn)(void *rng, double sd);

/** An encoder method: a struct of callbacks (GSL-style). theta_e is the
 * encoder's block of theta (rc_encoder_n_params doubles). The members after
 * `backward` are optional (NULL): an encoder whose size depends only on
 * (n, D, d) and that has one block needs none of them. */
typedef struct {
  const char *name;       /* "table", "linear", "mlp" */
  const char *block_name; /* the name of its parameter block: "x", "W" (the first block's, for several) */
  /** number of parameters for n samples of input dimension D, embedding dimension d */
  size_t (*n_params)(size_t n, size_t D, size_t d);
  /** X (n x d) = enc_theta(u_i) for every sample */
  void (*forward)(const rc_encoder *e, const double *theta_e, double *X);
  /** g_e (n_params) = the gradient of the encoder's parameters from G = dL/dX (n x d), already
   * rate-scaled per sample (section 6: under `degree` divided by the sample's observation weight).
   * Called after a forward of the same theta_e on the same rc_encoder (its own e->work) with no
   * other forward on it in between: an encoder may reuse what that forward left in e->work (the
   * engine runs EMA targets' forward on a second rc_encoder with its own scratch). */
  void (*backward)(const rc_encoder *e, const double *theta_e, const double *G, double *g_e);
  /** optional: the number of parameters of e (used instead of n_params; sizes that depend on e->h) */
  size_t (*n_params_of)(const rc_encoder *e);
  /** optional: the encoder's blocks inside theta_e (name, offset, len; eta and decay left 0), at
   * most RC_ENCODER_MAX_BLOCKS; returns their number. NULL: one block block_name of all parameters. */
  size_t (*blocks)(const rc_encoder *e, rc_param_block *out);
  /** optional: doubles of scratch memory (e->work) forward and backward need */
  size_t (*work_size)(const rc_encoder *e);
  /** optional: the initial parameters (docs/model.md sections 4 and 6.3), drawn from gauss(rng, .)
   * in the encoder's parameter order; sigma is the embeddings' scale of section 2. */
  void (*init)(const rc_encoder *e, double sigma, rc_gauss_fn gauss, void *rng, double *theta_e);
} rc_encoder_method;

/** An encoder on a data set's samples: its method, sizes and inputs (not owned). */
struct rc_encoder {
  const rc_encoder_method *method;
  size_t n, D, d; /* samples, input dimension (0 for table), embedding dimension */
  const double *U; /* n x D inputs, row-major (NULL for table) */
  size_t h;        /* mlp: hidden width (0 otherwise) */
  rc_activation activation; /* mlp: phi */
  double *work;    /* method->work_size(e) doubles of scratch (owned by whoever set the encoder up) */
};

/** The registry: rc_encoder_methods[kind]; parse and name. */
extern const rc_encoder_method *const rc_encoder_methods[RC_N_ENCODERS];
rc_status rc_parse_encoder(const char *text, rc_encoder_kind *out, rc_error *err);
const char *rc_encoder_name(rc_encoder_kind k);

/** Number of parameters of an encoder (n_params_of, or n_params(n, D, d)). */
size_t rc_encoder_n_params(const rc_encoder *e);
/** Its blocks (at most RC_ENCODER_MAX_BLOCKS) with offsets inside theta_e; eta and decay left 0. */
size_t rc_encoder_blocks(const rc_encoder *e, rc_param_block *out);
/** Scratch doubles it needs (0 without work_size). */
size_t rc_encoder_work_size(const rc_encoder *e);
/** Set up an encoder of a kind over inputs U (n x D; NULL and D = 0 for table), allocating its
 * scratch memory (free it with rc_encoder_release). Checks the mlp's hidden width (> 0) and activation. */
rc_status rc_encoder_setup(rc_encoder *e, rc_encoder_kind kind, size_t n, size_t D, size_t d, const double *U,
                           size_t hidden, rc_activation activation, rc_error *err);
void rc_encoder_release(rc_encoder *e);
/** Initial encoder parameters from an mt19937 seeded with seed (gsl), through method->init:
 * linear W ~ N(0, sigma^2/d) (section 4); mlp as section 6.3 (encoder_mlp.c). RC_EINVAL for an
 * encoder without an init (table: its x are drawn with the labels, section 2). */
rc_status rc_encoder_init(const rc_encoder *e, double sigma, unsigned long seed, double *theta_e, rc_error *err);
/** The same generator first draws n_y label entries Y ~ N(0, sigma^2/d) (section 2), then the
 * encoder's parameters: the order of the linear teacher-student init (labels, then W). */
rc_status rc_encoder_init_after_labels(const rc_encoder *e, double sigma, unsigned long seed, double *Y, size_t n_y,
                                       double *theta_e, rc_error *err);
/** The mlp's second moment E[phi(z)^2] at the pre-activation variance its initialisation gives
 * (relu: z ~ N(0, 2), E = 1; tanh: z ~ N(0, 1), E = 0.394), and that variance g^2. */
double rc_mlp_phi_second_moment(rc_activation a);
double rc_mlp_gain2(rc_activation a);

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
  const double *U;      /* N x D inputs for `linear` and `mlp` (NULL for table) */
  size_t D, d;
  rc_model model;       /* the terms */
  rc_rate_scheme rates; /* degree | uniform */
  double eta_enc;       /* eta_x (table) or eta_W (linear, and every block of mlp) */
  double eta_y, eta_head;
  int decay_enc, decay_y, decay_head; /* which blocks weight decay applies to (--weight-decay-on) */
  size_t hidden;        /* mlp: hidden width h (> 0) */
  rc_activation activation; /* mlp: relu (0, the default of a zeroed spec) or tanh */
} rc_engine_spec;

typedef struct rc_engine rc_engine;

rc_status rc_engine_alloc(const rc_engine_spec *spec, rc_engine **out, rc_error *err);
void rc_engine_free(rc_engine *e);

/** Size of theta and its blocks (encoder, y, and P when the model has a head). */
size_t rc_engine_n_theta(const rc_engine *e);
size_t rc_engine_blocks(const rc_engine *e, const rc_param_block **blocks);
/** Size of the encoder's part of theta (its blocks come first, in theta[0 .. size)). */
size_t rc_engine_encoder_size(const rc_engine *e);
/** The engine's encoder (sizes, inputs, method), e.g. for rc_encoder_init. */
const rc_encoder *rc_engine_encoder(const rc_engine *e);
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

/** Estimate of the largest |eigenvalue| of the Jacobian of F at theta (power iteration with
 * central differences, src/engine/engine_rate.c): the fast rate a gd step must respect,
 * dt * rate < 2. For an encoder on real images it grows with N (docs/model.md 6.3). */
double rc_engine_rate_estimate(rc_engine *e, const double *theta);

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
