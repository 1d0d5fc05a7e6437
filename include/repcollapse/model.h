/* model.h: the minimal embedding-only model (docs/model.md section 2).
 *
 * Samples carry embeddings x_i, classes label embeddings y_c, all in R^d. The
 * loss is L = (1/2M) sum_ic A_ic |x_i - y_c|^2 and training is gradient flow
 * with a rate scheme. Both schemes share one form: every embedding (node n)
 * moves as
 *     dz_n/dt = -s_n * sum_{m ~ n} A_nm (z_n - z_m),
 * with per-node rate s_n:
 *     uniform: s_i = eta_x / M,   s_c = eta_y / M   (plain gradient flow of L)
 *     degree:  s_i = eta_x / a_i, s_c = eta_y / b_c (gradient divided by the
 *              node's curvature a_i/M or b_c/M).
 * Conserved per component of the class graph: sum_n z_n / s_n (docs/theory.md). */
#ifndef REPCOLLAPSE_MODEL_H
#define REPCOLLAPSE_MODEL_H

#include <stddef.h>

#include "repcollapse/data.h"
#include "repcollapse/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RC_RATES_DEGREE = 0, RC_RATES_UNIFORM = 1 } rc_rate_scheme;

/** Parameters of the minimal model's dynamics. */
typedef struct {
  rc_rate_scheme rates; /* default RC_RATES_DEGREE */
  double eta_x;         /* sample learning rate, default 1 */
  double eta_y;         /* label learning rate, default 1 */
} rc_minimal_params;

/** Defaults of docs/model.md: degree scheme, eta_x = eta_y = 1. */
rc_minimal_params rc_minimal_params_default(void);

rc_status rc_parse_rate_scheme(const char *text, rc_rate_scheme *out, rc_error *err);
const char *rc_rate_scheme_name(rc_rate_scheme r);

/** Node rate s_i of sample i and s_c of class c (see the file comment). */
double rc_sample_rate(const rc_dataset *ds, const rc_minimal_params *p, size_t i);
double rc_class_rate(const rc_dataset *ds, const rc_minimal_params *p, size_t c);

/** Embeddings of one state: x is N x d, y is K x d, both row-major, stored
 * contiguously in z (x first, then y, then the head P if any) so integrators
 * see one vector. */
typedef struct {
  size_t n, k, d;
  double *z; /* (N + K) * d values, then d * d for a head */
  double *x; /* = z */
  double *y; /* = z + N*d */
  double *P; /* = z + (N+K)*d when the state has a head (head.h), else NULL */
} rc_state;

/** Number of doubles in s->z. */
size_t rc_state_size(const rc_state *s);

rc_status rc_state_alloc(size_t n, size_t k, size_t d, rc_state **out, rc_error *err);
rc_state *rc_state_clone(const rc_state *s);
void rc_state_copy(rc_state *dst, const rc_state *src);
void rc_state_free(rc_state *s);

/** If the (N + K) d values v (a state's z, or its velocity) hold a NaN or an
 * Inf, describe the first in out ("<what> of sample 3 (coordinate 0) is inf")
 * and return 1; return 0 if all are finite. */
int rc_describe_non_finite(const double *v, size_t n, size_t k, size_t d, const char *what, char *out,
                           size_t size);

/** Initialisations of docs/model.md section 2. */
typedef enum { RC_INIT_GAUSSIAN = 0, RC_INIT_CLASS = 1 } rc_init_kind;

typedef struct {
  rc_init_kind kind;   /* default gaussian */
  double sigma;        /* entries N(0, sigma^2/d); default 1 */
  double spread;       /* class init: x_i = m_c + spread * noise, noise N(0, sigma^2/d) */
  unsigned long seed;  /* the init seed */
} rc_init_params;

rc_init_params rc_init_params_default(void);
rc_status rc_parse_init_kind(const char *text, rc_init_kind *out, rc_error *err);
const char *rc_init_kind_name(rc_init_kind k);

/** Draw the initial state (generator: GSL mt19937, Ziggurat Gaussians).
 * Order of draws: gaussian: labels y_0..y_{K-1}, then samples x_0..x_{N-1},
 * each row's d coordinates in turn. class: labels, then class centres m_c,
 * then the sample noises; a frustrated sample's centre is the A-weighted mean
 * of its labels' centres. */
rc_status rc_state_init(const rc_dataset *ds, const rc_init_params *ip, size_t d, rc_state **out,
                        rc_error *err);

/** Name of the random number generator used everywhere ("gsl_rng_mt19937"). */
const char *rc_rng_name(void);

/** Vector field F(z) of the minimal model into dz (same layout as s->z). */
void rc_minimal_vector_field(const rc_dataset *ds, const rc_minimal_params *p, const double *z,
                             size_t d, double *dz);

/** Loss L = (1/2M) sum_ic A_ic |x_i - y_c|^2. */
double rc_minimal_loss(const rc_dataset *ds, const rc_state *s);

#ifdef __cplusplus
}
#endif

#endif
