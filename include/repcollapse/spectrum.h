/* spectrum.h: the exact spectrum of the minimal model's linear dynamics.
 *
 * The d coordinates evolve independently under one (N+K) x (N+K) matrix J
 * (dz/dt = -J z). It is never built. Under `degree` its spectrum follows from
 * the K x K matrix S_cc' = sum_i A_ic A_ic' / (a_i sqrt(b_c b_c')) with
 * eigenvalues mu: each mu gives the two rates
 *     lambda_pm = [(eta_x + eta_y) +- sqrt((eta_x - eta_y)^2 + 4 eta_x eta_y mu)] / 2,
 * and eta_x gets N - K more (a signed count: with mu = 0, i.e. rank-deficient
 * A, lambda_pm = eta_x, eta_y and the sum is N - rank A, also when K > N;
 * docs/theory.md 4.2). Under any scheme the group
 * reduction gives it from a symmetric (G + K) matrix plus the within-group
 * rates s_g a_g (multiplicity n_g - 1). Derivations: docs/theory.md. */
#ifndef REPCOLLAPSE_SPECTRUM_H
#define REPCOLLAPSE_SPECTRUM_H

#include <stddef.h>

#include "repcollapse/data.h"
#include "repcollapse/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  RC_SPECTRUM_AUTO = 0, /* K x K under degree, group reduction under uniform */
  RC_SPECTRUM_KK = 1,   /* K x K reduction (degree only) */
  RC_SPECTRUM_GROUP = 2 /* group reduction (both schemes) */
} rc_spectrum_method;

/** Distinct rates of J (per coordinate) with multiplicities in the full system. */
typedef struct {
  size_t n_rates;      /* distinct nonzero rates */
  double *rate;        /* ascending */
  long *multiplicity;  /* in the (N+K)-dimensional system */
  size_t zero_modes;   /* one per connected component of the class graph */
  double slow_rate;    /* smallest nonzero rate (0 if none) */
  double next_rate;    /* the distinct rate just above slow_rate (= slow_rate if none) */
  double fast_rate;    /* largest rate */
  double tolerance;    /* relative merge tolerance: rates within 1e-9 of their size merge */
  rc_spectrum_method method; /* the method actually used */
} rc_spectrum;

rc_status rc_spectrum_compute(const rc_dataset *ds, const rc_minimal_params *p,
                              rc_spectrum_method method, rc_spectrum **out, rc_error *err);
void rc_spectrum_free(rc_spectrum *s);

/** Merge raw (rate, multiplicity) pairs into distinct rates: values within
 * 1e-9 of their own size of each other merge; without the data set's
 * structure, values below 1e-9 * the largest are zero modes.
 * Exposed for tests. Takes ownership of nothing. */
rc_status rc_spectrum_from_raw(const double *rates, const long *mult, size_t n, rc_spectrum **out,
                               rc_error *err);

/** Closed-form slow rate for two classes of n clean samples each and F
 * frustrated samples between them (docs/theory.md). */
double rc_two_class_slow_rate(rc_rate_scheme rates, double eta_x, double eta_y, double n, double F);

/** The t -> infinity state: every embedding of a class-graph component goes to
 * the component's conserved weighted mean sum_n z_n/s_n / sum_n 1/s_n. */
rc_status rc_fixed_point_state(const rc_dataset *ds, const rc_minimal_params *p,
                               const rc_state *init, rc_state **out, rc_error *err);

/** Conserved quantity of each component: Q_k = sum_{n in k} z_n / s_n (n_components x d, row-major). */
rc_status rc_conserved_quantities(const rc_dataset *ds, const rc_minimal_params *p,
                                  const rc_state *s, const rc_components *comp, double *out,
                                  rc_error *err);

#ifdef __cplusplus
}
#endif

#endif
