/* teacher.h: the linear teacher-student model (docs/model.md section 4).
 *
 * Inputs u_i in R^D (rows of U, N x D), i.i.d. N(0, I/D), labelled by a
 * linear teacher T (K x D): c(i) = argmax_c (T u_i)_c; or drawn from a
 * Gaussian mixture u = mu_c + s xi. A fraction f of the samples is frustrated:
 * `conflict` adds a second, different label (a frustrated sample in the sense
 * of section 1), `flip` replaces the label (the sample stays clean).
 *
 * The student encoder is linear, x_i = W u_i (W: d x D, trained); the label
 * embeddings y_c are free and the terms and head of section 3 apply
 * unchanged, with the sample gradient chained through W:
 *     dL/dW = G_x^T U,   G_x = dL/dX (N x d),   X = U W^T.
 * Time convention (section 4): under `degree`, dW/dt = -eta_W (S G_x)^T U with
 * S = diag(M / a_i) (each sample's gradient divided by its observation weight);
 * under `uniform`, dW/dt = -eta_W G_x^T U. y and P follow section 3.
 *
 * A state is one vector z = [ W (d x D) | Y (K x d) | P (d x d), if a head ],
 * all row-major. */
#ifndef REPCOLLAPSE_TEACHER_H
#define REPCOLLAPSE_TEACHER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "repcollapse/data.h"
#include "repcollapse/head.h"
#include "repcollapse/integrate.h"
#include "repcollapse/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RC_TEACHER_LINEAR = 0, RC_TEACHER_MIXTURE = 1 } rc_teacher_kind;
typedef enum { RC_FRUSTRATION_CONFLICT = 0, RC_FRUSTRATION_FLIP = 1 } rc_frustration_mode;
/* rc_precision (f64 | f32) is integrate.h's */

rc_status rc_parse_teacher(const char *text, rc_teacher_kind *out, rc_error *err);
rc_status rc_parse_frustration_mode(const char *text, rc_frustration_mode *out, rc_error *err);
const char *rc_teacher_name(rc_teacher_kind t);
const char *rc_frustration_mode_name(rc_frustration_mode m);

/** How to draw a teacher-student data set. */
typedef struct {
  size_t n_samples;  /* N */
  size_t input_dim;  /* D */
  size_t n_classes;  /* K >= 2 */
  size_t n_test;     /* fresh teacher-labelled inputs for test accuracy (0: none) */
  rc_teacher_kind teacher;
  double mixture_noise;      /* s (default 0.5) */
  double frustration;        /* f in [0, 1]: round(f N) samples are altered */
  rc_frustration_mode mode;  /* default conflict */
  unsigned long seed;        /* the data seed */
} rc_ts_data_spec;

rc_ts_data_spec rc_ts_data_spec_default(void);

/** A drawn data set: inputs, teacher labels, the observations the student sees. */
typedef struct {
  size_t n, D, K, n_test;
  double *U;              /* N x D */
  double *U_test;         /* n_test x D */
  uint32_t *teacher_label;/* N: the teacher's label (before frustration) */
  uint32_t *test_label;   /* n_test */
  size_t n_altered;       /* samples given a second label (conflict) or a new one (flip) */
  rc_dataset *ds;         /* the observations (A), as in section 1 */
} rc_ts_data;

/** Check a spec (sizes, f, mode against K, memory) without drawing anything;
 * d is the embedding dimension (for the memory estimate, 0 to skip it). */
rc_status rc_ts_data_check(const rc_ts_data_spec *spec, size_t d, rc_error *err);

/** Bytes a run of this size needs (inputs, test inputs, per-sample buffers). */
double rc_ts_memory_estimate(const rc_ts_data_spec *spec, size_t d, rc_precision prec);

/** Draw the data set. Draws, from one mt19937 seeded with spec->seed: the
 * teacher T (linear: K x D entries N(0,1); mixture: the K means mu_c, entries
 * N(0, 1/D)), then the N inputs row by row, then the n_test test inputs, then
 * the frustration (a uniformly random set of round(f N) samples, each given a
 * uniformly random other class). Mixture classes are balanced: sample i
 * belongs to component i mod K. A class the teacher never chooses is an error. */
rc_status rc_ts_data_generate(const rc_ts_data_spec *spec, rc_ts_data **out, rc_error *err);
void rc_ts_data_free(rc_ts_data *d);

/** Dynamics settings: the term model (rates, eta_y, terms, eta_head) and eta_W. */
typedef struct {
  rc_head_params hp;   /* hp.base.eta_x is not used: eta_w plays its role */
  double eta_w;        /* default 1 */
  rc_precision precision;
} rc_ts_params;

/** The student bound to a data set: buffers for X = U W^T, gradients and the
 * single-precision copies. */
typedef struct rc_ts_model rc_ts_model;

rc_status rc_ts_model_alloc(const rc_ts_data *data, const rc_ts_params *p, size_t d, rc_ts_model **out,
                            rc_error *err);
void rc_ts_model_free(rc_ts_model *m);

/** Length of z; offsets of Y and P in z (P: 0 when the model has no head). */
size_t rc_ts_state_size(const rc_ts_model *m);
size_t rc_ts_offset_labels(const rc_ts_model *m);
size_t rc_ts_offset_head(const rc_ts_model *m);

/** Initial state: from an mt19937 seeded with ip->seed, the labels Y (entries
 * N(0, sigma^2/d), as in section 2), then W (entries N(0, sigma^2/d), so that
 * x = W u has entries of variance sigma^2/d |u|^2, about sigma^2/d: the scale
 * of section 2); P as in section 3 (from seed + 1). */
rc_status rc_ts_init_state(rc_ts_model *m, const rc_init_params *ip, rc_head_init head_init, double head_scale,
                           double *z, rc_error *err);

/** Vector field dz = F(z) (rates of section 4); returns the loss at z. */
double rc_ts_vector_field(rc_ts_model *m, const double *z, double *dz);

/** One full-batch gd step in place, z <- z + dt F(z); returns the loss before
 * the step. RC_ENUMERIC naming the first non-finite quantity of the new state. */
rc_status rc_ts_gd_step(rc_ts_model *m, double *z, double dt, double *loss, rc_error *err);

/** The student's outputs on n inputs (rows of Uin): P W u (with a head) or W u, into out (n x d). */
void rc_ts_outputs(rc_ts_model *m, const double *z, const double *Uin, size_t n, double *out);

/** Estimate of the largest |eigenvalue| of the Jacobian of F at z (power iteration). */
double rc_ts_rate_estimate(rc_ts_model *m, const double *z);

/** Largest eigenvalue of the kernel U U^T (= top squared singular value of U), by power iteration. */
double rc_ts_kernel_top(const rc_ts_data *data);

/** Integrate from z0 over cfg->times (gd or rk45), calling obs(t, step, z) at each. gd refuses a step
 * with dt * rc_ts_rate_estimate >= 2 before running. */
typedef rc_status (*rc_ts_observer)(double t, size_t step, const double *z, void *ctx, rc_error *err);
rc_status rc_ts_integrate(rc_ts_model *m, const double *z0, const rc_integrate_config *cfg, rc_ts_observer obs,
                          void *ctx, rc_error *err);

/** The regime of (N, D, K), as summary.json and README state it:
 * "over-parameterized" (D >= 4N), "under-parameterized" (D + K <= N) or "intermediate". */
const char *rc_ts_regime(size_t N, size_t D, size_t K);

#ifdef __cplusplus
}
#endif

#endif
