/* nearest.h: the nearest-centre search of metrics.c, shared with the
 * neural-collapse metrics (neural_collapse.c), which need each sample's
 * nearest class mean as well as its nearest label. */
#ifndef REPCOLLAPSE_METRICS_NEAREST_H
#define REPCOLLAPSE_METRICS_NEAREST_H

#include "repcollapse/metrics.h"

/* For every sample i of s (rows of s->x), the index of its nearest row of
 * centres (K = ds->n_classes rows of d values), by the same GEMM candidate
 * search and exact recheck as the nearest labels, with the same tie rule; -1
 * when the nearest is not unique (a tie). Bit-identical for any thread count.
 * Returns 0, or nonzero when out of memory. */
int rc_metrics_nearest_centres(const rc_dataset *ds, const rc_state *s, const double *centres, int threads,
                               int *nearest);

/* OpenBLAS's thread controls (declared by its cblas.h; repeated for other CBLAS headers) */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

#endif
