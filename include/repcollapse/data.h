/* data.h: data sets of observations (docs/model.md section 1).
 *
 * A data set is the pair weight matrix A (N x K): A_ic counts how often sample
 * i was seen with label c. It is stored row-compressed (per sample, the labels
 * it was seen with and their counts, labels ascending), because every
 * algorithm of the project streams over samples. A sample is clean when its
 * row has one nonzero entry and frustrated when it has two or more. */
#ifndef REPCOLLAPSE_DATA_H
#define REPCOLLAPSE_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "repcollapse/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One observation: sample i was seen with label c. */
typedef struct {
  size_t sample;
  uint32_t label;
} rc_observation;

/** The pair weight matrix A in compressed rows, plus derived weights. */
typedef struct {
  size_t n_samples;   /* N */
  size_t n_classes;   /* K */
  size_t nnz;         /* number of nonzero A_ic */
  size_t *row_ptr;    /* N + 1 offsets into labels/counts */
  uint32_t *labels;   /* nnz labels, ascending within a row */
  double *counts;     /* nnz counts A_ic > 0 */
  double *sample_weight; /* a_i = sum_c A_ic */
  double *class_weight;  /* b_c = sum_i A_ic */
  double total;          /* M = sum_ic A_ic */
  size_t n_frustrated;   /* samples with two or more labels */
  int32_t *clean_label;  /* the label of a clean sample, -1 if frustrated */
} rc_dataset;

/** Frustration patterns of docs/model.md section 1. */
typedef enum { RC_PATTERN_PAIR, RC_PATTERN_RING, RC_PATTERN_RANDOM, RC_PATTERN_COMPLETE } rc_pattern;

/** Explicit frustrated samples between two classes (`--frustrated a-b:count`). */
typedef struct {
  uint32_t a, b;
  size_t count;
} rc_pair_count;

/** How to build a data set: generator parameters or a file (see rc_data_generate). */
typedef struct {
  size_t n_classes;          /* K (0: taken from class_sizes when it has K > 1 entries) */
  const size_t *class_sizes; /* one entry (n per class) or K entries */
  size_t n_class_sizes;
  const rc_pair_count *pairs; /* explicit frustrated samples, or NULL */
  size_t n_pairs;
  double frustration;        /* f in [0,1), used when has_frustration */
  int has_frustration;
  rc_pattern pattern;
  const char *observations_file; /* CSV `sample,label`; when set, the rest is ignored */
  unsigned long data_seed;       /* seeds the `random` pattern */
} rc_data_spec;

/** Build a data set from a list of observations (any order, repeats add up).
 * K and N are the largest label and sample + 1 unless n_classes/n_samples are
 * larger than that (0 means: infer). Every class and every sample must have an
 * observation; the error names the first that does not. */
rc_status rc_dataset_from_observations(const rc_observation *obs, size_t n_obs, size_t n_samples,
                                       size_t n_classes, rc_dataset **out, rc_error *err);

/** Bytes that building a data set of n_obs observations and n_samples samples takes. */
double rc_dataset_bytes(size_t n_obs, size_t n_samples);

/** Build the data set a spec describes (generators of docs/model.md section 1). */
rc_status rc_data_generate(const rc_data_spec *spec, rc_dataset **out, rc_error *err);

/** Sizes of the data set a generator spec describes, without building it: N,
 * K and the bytes building it takes (all 0 for an observations file, whose
 * sizes are known once read). Returns the error rc_data_generate would give
 * for a malformed spec. */
rc_status rc_data_spec_size(const rc_data_spec *spec, size_t *n_samples, size_t *n_classes, double *bytes,
                            rc_error *err);

/** Read a CSV file of observations (`sample,label` per line; an optional
 * header line `sample,label`, blank lines and lines starting with '#' are
 * skipped). Errors name the file and line. */
rc_status rc_dataset_read_csv(const char *path, rc_dataset **out, rc_error *err);

/** Write the data set's observations as CSV (header `sample,label`, A_ic lines per pair). */
rc_status rc_dataset_write_csv(const rc_dataset *ds, const char *path, rc_error *err);

/** Number of frustrated samples F for fraction f added to C clean ones: round(f C / (1 - f)). */
size_t rc_frustrated_count(double f, size_t n_clean);

/** Parse `--frustrated` (e.g. "0-1:8,1-2:5"); *out is malloc'ed. Class indices are checked by the generator. */
rc_status rc_parse_pairs(const char *text, rc_pair_count **out, size_t *n_out, rc_error *err);

/** Parse a pattern name (pair, ring, random, complete). */
rc_status rc_parse_pattern(const char *text, rc_pattern *out, rc_error *err);
const char *rc_pattern_name(rc_pattern p);

/** Frustration fraction F / N of a data set. */
double rc_dataset_frustration(const rc_dataset *ds);

void rc_dataset_free(rc_dataset *ds);

/* ---- group reduction and class graph ---- */

/** Samples grouped by identical rows of A (docs/model.md section 2, group reduction). */
typedef struct {
  size_t n_groups;        /* G */
  size_t *group_of_sample;/* N entries */
  size_t *group_size;     /* n_g */
  size_t *group_rep;      /* one sample of each group (its row is the group's row) */
} rc_groups;

rc_status rc_groups_compute(const rc_dataset *ds, rc_groups **out, rc_error *err);
void rc_groups_free(rc_groups *g);

/** Connected components of the class graph (an edge a-b per frustrated sample seen with both). */
typedef struct {
  size_t n_components;
  size_t n_classes;            /* K */
  size_t *component_of_class; /* K entries, components numbered by their smallest class */
} rc_components;

rc_status rc_components_compute(const rc_dataset *ds, rc_components **out, rc_error *err);
void rc_components_free(rc_components *c);

#ifdef __cplusplus
}
#endif

#endif
