/* metrics.h: collapse metrics of a state and summaries of a trajectory (docs/model.md section 2). */
#ifndef REPCOLLAPSE_METRICS_H
#define REPCOLLAPSE_METRICS_H

#include <stddef.h>

#include "repcollapse/data.h"
#include "repcollapse/error.h"
#include "repcollapse/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of per-time metrics and their names, in the column order of metrics.csv. */
#define RC_N_METRICS 17
/** The paper's metrics (section 2), the first columns; the scale-free ones of 6.0 follow. */
#define RC_N_METRICS_BASE 8
extern const char *const rc_metric_names[RC_N_METRICS];

enum {
  RC_M_LOSS = 0, RC_M_ACCURACY, RC_M_ACCURACY_FRUSTRATED, RC_M_MARGIN, RC_M_MIN_LABEL_DISTANCE,
  RC_M_MEAN_LABEL_DISTANCE, RC_M_WITHIN_CLASS_SPREAD, RC_M_LABEL_EFFECTIVE_RANK,
  RC_M_RELATIVE_LABEL_DISTANCE, RC_M_ANGULAR_LABEL_DISTANCE, /* section 6.0, appended after the paper's */
  RC_M_NC1, RC_M_NC2_EQUINORM, RC_M_NC2_EQUIANGULAR, RC_M_NC2_COS_STD, RC_M_NC3, RC_M_NC4, /* section 6.4 */
  RC_M_RANKME
};
/** The first of the neural-collapse columns of section 6.4 (nc1 .. nc4, then rankme). */
#define RC_M_FIRST_NC RC_M_NC1

/** Metric values at one time; a null metric (undefined, docs/model.md section 2)
 * is NAN with valid[m] = 0. A defined metric of a state that overflowed keeps
 * its non-finite value with valid[m] = 1 (a run stops on it). */
typedef struct {
  double t;
  double value[RC_N_METRICS];
  int valid[RC_N_METRICS];
} rc_metrics_row;

/** References fixed by the initial state: D(0) (for margin), the initial
 * centred label Gram trace (for label_effective_rank's and nc3's null
 * threshold) and Tr Sigma_B(0) of the clean samples' sample-side embeddings
 * (for the neural-collapse metrics' null threshold, section 6.4). */
typedef struct {
  double d0;
  double trace0;
  double trace_b0; /* 0 when unknown (rc_metrics_reference): then only Tr Sigma_B = 0 is null */
} rc_metrics_ref;

/** The references of a state alone (labels only: trace_b0 = 0). */
rc_metrics_ref rc_metrics_reference(const rc_state *init);

/** The references of a run's initial state with its data set: also
 * Tr Sigma_B(0) of h_i = P x_i (P row-major d x d), or of h_i = x_i when P is
 * NULL (a state whose x already holds the sample-side embeddings). */
rc_metrics_ref rc_metrics_reference_data(const rc_dataset *ds, const rc_state *init, const double *P);

/** Compute every metric of state s at time t (rc_metrics_compute_opt with
 * every metric and OpenMP's default thread count). */
void rc_metrics_compute(const rc_dataset *ds, const rc_state *s, const rc_metrics_ref *ref,
                        double t, rc_metrics_row *row);

/** Samples per GEMM of the nearest-label search (its tall dimension). */
#define RC_METRICS_CHUNK 256

/** Bit m set: metric m (the enum above) is computed. */
#define RC_METRICS_ALL ((1u << RC_N_METRICS) - 1u)

/** Which metrics to compute and on how many threads. The values do not depend
 * on the thread count, bit for bit. */
typedef struct {
  unsigned mask; /* RC_METRICS_ALL or a subset; the others are left null */
  int threads;   /* OpenMP threads (0: OpenMP's default) */
} rc_metrics_options;

/** Compute the metrics opt->mask chooses (opt NULL: all) of state s at time t;
 * the others are null (valid = 0). Nearest labels go through one GEMM per
 * chunk of samples on centred embeddings, which only selects candidates that
 * are then checked with exact differences (metrics.c). */
void rc_metrics_compute_opt(const rc_dataset *ds, const rc_state *s, const rc_metrics_ref *ref, double t,
                            const rc_metrics_options *opt, rc_metrics_row *row);

/** Parse a comma-separated list of metric names (or "all") into a mask; an
 * unknown name is refused with the list of known ones. */
rc_status rc_metrics_parse(const char *text, unsigned *mask, rc_error *err);

/** min_{a<b} |y_a - y_b| (NAN when K < 2). */
double rc_min_label_distance(const rc_state *s);

/** collapse_time: first t with D(t) <= eps D(0), interpolating log D linearly
 * in t between recorded times. Returns 0 and sets *found = 0 if none. */
double rc_collapse_time(const double *t, const double *D, size_t n, double eps, int *found);

/** fitted_slow_rate: least-squares slope of -log D(t) over recorded times with
 * t >= t_start and D(t) > 1e-10 D(0). Sets *found = 0 with fewer than 3 points,
 * and when D does not decay: a slope <= 0 or less than 1% decay of D over the window. */
double rc_fitted_decay_rate(const double *t, const double *D, size_t n, double t_start, int *found);

/* Neural-collapse metrics and rankme (docs/model.md section 6.4, src/metrics/neural_collapse.c). */
/** Fill the columns nc1 .. rankme that opt_mask selects, of the clean
 * samples' sample-side embeddings s->x (one pass for the class means and the
 * Gram matrix, dense K x d and d x d work, a second pass for Sigma_W; nc4
 * uses nearest_label[i], the unique nearest label of sample i or -1, and
 * finds the nearest class means through the same candidate search as the
 * labels'). The others are left as they are. Returns nonzero when out of memory. */
int rc_nc_metrics(const rc_dataset *ds, const rc_state *s, const rc_metrics_ref *ref, unsigned mask, int threads,
                  const int *nearest_label, rc_metrics_row *row);

/** The same columns from moments (the group reduction, reduced.h): K class
 * means mu (K x d) over n[c] clean samples each, the within-class scatter
 * SW = sum over clean samples of (h_i - mu_c)(h_i - mu_c)^T (d x d), the
 * uncentred Gram H^T H of all n_all samples (d x d), the labels Y. nc4 needs
 * the individual samples: null. */
void rc_nc_metrics_moments(size_t K, size_t d, const double *n, const double *mu, const double *SW, const double *HtH,
                           size_t n_all, const double *Y, const rc_metrics_ref *ref, unsigned mask,
                           rc_metrics_row *row);

/* Scale-free collapse (docs/model.md section 6.0, src/metrics/scale_free.c). */
/** D / sqrt((1/K) sum_c |y_c|^2); NAN when K < 2 or every label is at the origin. */
double rc_relative_label_distance(const rc_state *s);
/** min_{a<b} |y_a/|y_a| - y_b/|y_b||; NAN when K < 2 or a label is at the origin. */
double rc_angular_label_distance(const rc_state *s);

/** The distance collapse_time, fitted_slow_rate and phase's "apart" read (--collapse-metric). */
typedef enum {
  RC_COLLAPSE_MIN_LABEL_DISTANCE = 0, /* D, the default */
  RC_COLLAPSE_RELATIVE = 1,           /* relative_label_distance */
  RC_COLLAPSE_ANGULAR = 2             /* angular_label_distance */
} rc_collapse_metric;
#define RC_N_COLLAPSE_METRICS 3
rc_status rc_parse_collapse_metric(const char *text, rc_collapse_metric *out, rc_error *err);
const char *rc_collapse_metric_name(rc_collapse_metric m);
/** The chosen distance of a state. */
double rc_collapse_distance(rc_collapse_metric m, const rc_state *s);
/** The metrics.csv column (RC_M_*) a collapse metric reads. */
int rc_collapse_metric_column(rc_collapse_metric m);
/** Fill row's relative_label_distance (from D, the row's min_label_distance)
 * and angular_label_distance of state s (metrics.c calls it). */
void rc_scale_free_metrics(const rc_state *s, double D, rc_metrics_row *row);

#ifdef __cplusplus
}
#endif

#endif
