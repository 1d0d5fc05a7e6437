/* optimizer.h: the discrete optimizers, weight decay, minibatch schedule and
 * EMA targets of docs/model.md section 6.1, and their closed-form rates.
 *
 * Every optimizer consumes the rate-scaled gradient g = -F(theta) of section 6
 * (eta and the rate scheme already applied, weight decay NOT applied) over a
 * flat parameter vector theta cut into named blocks (x, y, P, W, ...). Each is
 * exactly its PyTorch namesake with lr = dt * eta_block under `uniform` rates:
 *   gd        theta <- theta - dt (g + w theta)
 *   momentum  buf <- beta buf + (g + w theta); theta <- theta - dt buf
 *   nesterov  buf as momentum; theta <- theta - dt ((g + w theta) + beta buf)
 *   adam      torch.optim.Adam on g / eta + (w / eta) theta, lr = dt eta
 *   adamw     theta <- theta (1 - dt eta w), then Adam on g / eta, lr = dt eta
 * Weight decay w is added to the rate-scaled gradient (not divided by the
 * observation weights, not multiplied by eta), so for SGD-type optimizers and
 * Adam it equals PyTorch's weight_decay = w / eta; AdamW's decoupled decay is
 * PyTorch's weight_decay = w. Adam's update is invariant to a constant factor
 * on a parameter's gradient: the rate scheme reaches it only through eps.
 *
 * Adding an optimizer: one file src/optimize/<name>.c defining an
 * rc_optimizer_method (state size and step callbacks) and one entry in
 * src/optimize/registry.c. */
#ifndef REPCOLLAPSE_OPTIMIZER_H
#define REPCOLLAPSE_OPTIMIZER_H

#include <stddef.h>
#include <stdint.h>

#include "repcollapse/data.h"
#include "repcollapse/error.h"
#include "repcollapse/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  RC_OPTIMIZER_GD = 0,
  RC_OPTIMIZER_MOMENTUM = 1,
  RC_OPTIMIZER_NESTEROV = 2,
  RC_OPTIMIZER_ADAM = 3,
  RC_OPTIMIZER_ADAMW = 4
} rc_optimizer_kind;
#define RC_N_OPTIMIZERS 5

typedef struct {
  rc_optimizer_kind kind;
  double momentum;            /* beta of momentum / nesterov, default 0.9 */
  double beta1, beta2, adam_eps; /* Adam / AdamW: 0.9, 0.999, 1e-8 */
  double weight_decay;        /* w >= 0, default 0 */
} rc_optimizer_params;

/** Defaults: gd, beta 0.9, Adam (0.9, 0.999, 1e-8), w = 0. */
rc_optimizer_params rc_optimizer_params_default(void);

/** Check the parameters' ranges (beta in [0,1), betas in [0,1), eps > 0, w >= 0, all finite). */
rc_status rc_optimizer_params_check(const rc_optimizer_params *p, rc_error *err);

/** One trained parameter (x, y, P, W, W1, b1, ...) inside the flat vector theta:
 * theta[offset .. offset+len). eta is its rate (eta_x, eta_y, eta_P, eta_W);
 * decay = 1 when weight decay applies to it. */
typedef struct {
  const char *name;
  size_t offset, len;
  double eta;
  int decay;
} rc_param_block;

typedef struct rc_optimizer rc_optimizer;

/** Allocate an optimizer over n_theta parameters cut into blocks (each block
 * inside [0, n_theta), eta > 0 and finite). The blocks are copied. */
rc_status rc_optimizer_alloc(const rc_optimizer_params *p, const rc_param_block *blocks, size_t n_blocks,
                             size_t n_theta, rc_optimizer **out, rc_error *err);
void rc_optimizer_free(rc_optimizer *o);

/** One discrete step of size dt in place on theta, g = -F(theta) (weight decay
 * not included: added here per block). Parameters outside every block are not
 * touched. RC_ENUMERIC if the new theta has a NaN or Inf (theta is then left
 * as computed; the caller stops). */
rc_status rc_optimizer_step(rc_optimizer *o, double dt, double *theta, const double *g, rc_error *err);

/** Number of steps taken so far (Adam's t). */
uint64_t rc_optimizer_steps(const rc_optimizer *o);

/** The optimizer's parameters as allocated. */
const rc_optimizer_params *rc_optimizer_get_params(const rc_optimizer *o);

/** Flow integrators (rk45): the decay term of the continuous-time field,
 * F -= w theta on the decayed blocks (nothing when w = 0). */
void rc_optimizer_flow_decay(const rc_optimizer_params *p, const rc_param_block *blocks, size_t n_blocks,
                             const double *theta, double *F);

/** Checkpoints: every buffer (momentum buffer, Adam moments) and the step
 * count, as doubles. restore refuses a buffer of another optimizer's layout
 * only through the size the caller read; the step count must be a
 * non-negative integer. */
size_t rc_optimizer_state_size(const rc_optimizer *o);
void rc_optimizer_save(const rc_optimizer *o, double *buf);
rc_status rc_optimizer_restore(rc_optimizer *o, const double *buf, rc_error *err);

/** The step refusal of 6.1 before the run, given the fastest rate of the
 * decay-free field: gd at dt (fast_rate + w) >= 2, heavy ball at
 * >= 2 (1 + beta), Nesterov at >= 2 (1 + beta) / (1 + 2 beta), none for
 * Adam / AdamW. RC_EUNSTABLE with a message naming the bound. */
rc_status rc_optimizer_check_step(const rc_optimizer_params *p, double dt, double fast_rate, rc_error *err);

/** The stability bound on h = dt (rate + w) of an optimizer (INFINITY for Adam). */
double rc_optimizer_step_bound(const rc_optimizer_params *p);

rc_status rc_parse_optimizer(const char *text, rc_optimizer_kind *out, rc_error *err);
const char *rc_optimizer_name(rc_optimizer_kind k);

/* ---------------------------------------------------------------------------
 * Closed-form per-mode rates (src/analysis/optimizer_rates.c, docs/model.md 6.1).
 * A mode of rate lambda (of the decay-free field plus w) under step dt, h = dt lambda:
 *   gd        z_{k+1} = (1 - h) z_k
 *   momentum  r^2 - (1 + beta - h) r + beta = 0
 *   nesterov  r^2 - (1 + beta)(1 - h) r + beta (1 - h) = 0
 * The mode's decay per step is rho = max |r|, its rate per unit time
 * -ln(rho) / dt. It is overdamped when the dominant root is real and
 * positive (monotone decay) and underdamped otherwise (complex roots, or a
 * negative dominant root: the mode oscillates). Adam has no linear rate. */
typedef enum { RC_REGIME_OVERDAMPED = 0, RC_REGIME_UNDERDAMPED = 1 } rc_regime;
const char *rc_regime_name(rc_regime r);

typedef struct {
  double rho;          /* max |r| */
  double rate;         /* -ln(rho) / dt (negative when unstable) */
  rc_regime regime;
  int stable;          /* rho < 1 */
  double root_re[2], root_im[2]; /* the roots (gd: one root, the second = 0) */
} rc_mode_rate;

/** The discrete decay of a mode of rate lambda >= 0 (weight decay included by
 * the caller: lambda = rate + w) under optimizer kind (gd, momentum, nesterov). */
rc_status rc_optimizer_mode_rate(rc_optimizer_kind kind, double beta, double dt, double lambda, rc_mode_rate *out,
                                 rc_error *err);

/* ---------------------------------------------------------------------------
 * Minibatch schedule (src/optimize/batch.c, docs/model.md 6.1). An epoch is a
 * seeded permutation of the M observations cut into ceil(M / B) batches, the
 * last holding the remainder. Each batch is handed over sorted in data order
 * (contributions accumulate per sample in data order, so B = M is gd bit for
 * bit) with weight M / |batch|. Epoch e's permutation depends only on (seed,
 * e), so the state is two integers. */
typedef struct rc_batch_schedule rc_batch_schedule;

rc_status rc_batch_schedule_alloc(size_t M, size_t B, unsigned long seed, rc_batch_schedule **out, rc_error *err);
void rc_batch_schedule_free(rc_batch_schedule *b);
/** The next batch: *idx (valid until the next call) holds *len observation
 * indices in increasing order, *weight = M / *len. */
void rc_batch_next(rc_batch_schedule *b, const size_t **idx, size_t *len, double *weight);
size_t rc_batch_count(const rc_batch_schedule *b);      /* ceil(M / B) batches per epoch */
size_t rc_batch_smallest(const rc_batch_schedule *b);   /* the smallest batch size */
/** Checkpoint: (epoch, batch position within it) as two doubles. */
#define RC_BATCH_STATE_SIZE 2
void rc_batch_save(const rc_batch_schedule *b, double *buf);
rc_status rc_batch_restore(rc_batch_schedule *b, const double *buf, rc_error *err);

/** The per-visit refusal of 6.1 for the table encoder: a node (sample or
 * label) of observation count a and rate weight W (its observation weight
 * under `degree`, M under `uniform`) is multiplied per visit by at most
 * 1 - dt eta M min(b, a) / (b W) with b the smallest batch; refuse when that
 * factor reaches -1. obs_count/rate_weight list the nodes (n of them), eta
 * per node. RC_EUNSTABLE naming the bound and the node kind. */
rc_status rc_batch_check_step(double dt, size_t M, size_t smallest_batch, size_t n_nodes, const double *obs_count,
                              const double *rate_weight, const double *eta, const char *const *node_kind,
                              rc_error *err);
/** The same over a data set's samples (eta_x) and labels (eta_y) under its
 * rate scheme, for batches of B observations (the smallest batch is the
 * remainder M mod B when there is one). */
rc_status rc_batch_check_dataset(const rc_dataset *ds, rc_rate_scheme rates, double eta_x, double eta_y, size_t B,
                                 double dt, rc_error *err);

/* ---------------------------------------------------------------------------
 * EMA targets (src/optimize/ema.c, docs/model.md 6.1). Flow:
 * d(theta_bar)/dt = kappa (theta - theta_bar). Discrete: after the online
 * step, theta_bar <- theta_bar + alpha (theta - theta_bar), alpha = kappa dt
 * = 1 - tau; alpha = 1 copies theta (plain sg, bit for bit). */
/** alpha from --ema-rate kappa (have_tau = 0) or --ema tau (have_tau = 1);
 * refuses kappa dt > 1 (tau < 0), kappa < 0, tau > 1, non-finite. */
rc_status rc_ema_alpha(double kappa, double tau, int have_tau, double dt, double *alpha, rc_error *err);
/** kappa from --ema tau: (1 - tau) / dt. */
double rc_ema_kappa_from_tau(double tau, double dt);
/** Refuse an EMA option on a model without stop-gradient targets. */
rc_status rc_ema_check_model(int has_sg_targets, rc_error *err);
/** Discrete update over n parameters (alpha in [0, 1]). */
void rc_ema_update(double alpha, const double *theta, double *theta_bar, size_t n);
/** Flow: Fbar = kappa (theta - theta_bar). */
void rc_ema_flow(double kappa, const double *theta, const double *theta_bar, double *Fbar, size_t n);

/* ---------------------------------------------------------------------------
 * The training settings of a run (the CLI's --optimizer, --momentum,
 * --adam-betas, --adam-eps, --weight-decay, --weight-decay-on, --batch,
 * --batch-seed, --ema-rate, --ema), held in rc_run_config.train. */
/** Parameter names --weight-decay-on knows, one bit each (RC_DECAY_ALL: every trained parameter). */
enum {
  RC_DECAY_X = 1u << 0, RC_DECAY_Y = 1u << 1, RC_DECAY_P = 1u << 2, RC_DECAY_W = 1u << 3,
  RC_DECAY_W1 = 1u << 4, RC_DECAY_B1 = 1u << 5, RC_DECAY_W2 = 1u << 6, RC_DECAY_B2 = 1u << 7
};
#define RC_DECAY_ALL 0xffu
/** Parse "x,y,P,W,..." (case-sensitive names of the blocks) into a mask; an unknown name is refused. */
rc_status rc_parse_decay_on(const char *text, unsigned *mask, rc_error *err);
/** Whether the block named `name` ("x", "y", "P", "W", ...) is decayed under mask. */
int rc_decay_applies(unsigned mask, const char *name);

typedef enum { RC_EMA_NONE = 0, RC_EMA_RATE = 1, RC_EMA_TAU = 2 } rc_ema_mode;

typedef struct {
  rc_optimizer_params opt; /* kind, beta, Adam's betas and eps, weight decay w */
  int optimizer_given;     /* --optimizer given (then --integrator defaults to gd) */
  unsigned decay_on;       /* RC_DECAY_* mask, default RC_DECAY_ALL */
  size_t batch;            /* observations per step; 0: all (full batch) */
  unsigned long batch_seed;
  int batch_seed_given;    /* else the init seed + 2 */
  rc_ema_mode ema;         /* --ema-rate kappa (RATE) or --ema tau (TAU) */
  double ema_rate, ema_tau;
} rc_train_settings;

/** Defaults: gd, w = 0 on every parameter, full batch, no EMA. */
rc_train_settings rc_train_settings_default(void);
/** Whether the settings ask for anything beyond plain full-batch gd without decay or EMA. */
int rc_train_is_plain(const rc_train_settings *t);

/** The refusals of 6.1 before a run, in one place (the pipeline calls it):
 * the optimizer's parameters; in flow (discrete = 0) only gd's field with
 * weight decay and --ema-rate apply (another optimizer, --batch or --ema tau
 * is refused); in discrete time the optimizer's step bound against
 * fast_rate (the decay-free field's fastest rate) and w; an EMA option on a
 * model without sg targets, kappa dt > 1. The minibatch's per-visit bound
 * needs the data: rc_batch_check_dataset. */
rc_status rc_train_check(const rc_train_settings *t, int discrete, double dt, double fast_rate, int has_sg_targets,
                         rc_error *err);
/** rc_train_check and, with --batch in discrete time, rc_batch_check_dataset
 * over the data's samples (eta_x) and labels (eta_y): every refusal of 6.1,
 * callable before a run creates anything. */
rc_status rc_train_check_data(const rc_train_settings *t, const rc_dataset *ds, rc_rate_scheme rates, double eta_x,
                              double eta_y, int discrete, double dt, double fast_rate, int has_sg_targets,
                              rc_error *err);
/** The EMA factor alpha = kappa dt of the settings (1 without EMA: plain sg). */
double rc_train_ema_alpha(const rc_train_settings *t, double dt);
/** The EMA rate kappa of the settings (flow; --ema tau gives (1 - tau) / dt). */
double rc_train_ema_kappa(const rc_train_settings *t, double dt);
/** The shuffle seed: --batch-seed, else the init seed + 2. */
unsigned long rc_train_batch_seed(const rc_train_settings *t, unsigned long init_seed);

#ifdef __cplusplus
}
#endif

#endif
