/* report.h: JSON views of results (jansson), shared by `spectrum`, `data` and summary.json. */
#ifndef REPCOLLAPSE_REPORT_H
#define REPCOLLAPSE_REPORT_H

#include <jansson.h>

#include "repcollapse/data.h"
#include "repcollapse/run.h"
#include "repcollapse/spectrum.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A number, or JSON null when not finite (JSON has no NaN). */
json_t *rc_json_number(double v);

/** {"zero_modes", "components", "slow_rate", "next_rate", "fast_rate", "rates": [[rate, mult], ...], "method", "tolerance"} */
json_t *rc_spectrum_json(const rc_spectrum *s, const rc_components *comp);

/** {"n_samples", "n_classes", "n_observations", "n_frustrated", "frustration", "class_sizes" (clean), "components"} */
json_t *rc_dataset_json(const rc_dataset *ds, const rc_components *comp);

/** {"name", "version", "commit"} of this build. */
json_t *rc_tool_json(void);

/** {"t", <every metric, null where null>} of one row. */
json_t *rc_metrics_row_json(const rc_metrics_row *row);

/** The summary.json of a run (inputs with defaults filled in, version, commit, RNG, spectrum, results). */
json_t *rc_run_summary_json(const rc_run_config *cfg, const rc_run_result *r);
/** summary.json of a run of an encoder on inputs (cfg->encoder != table):
 * the settings, inputs with defaults, data, regime, the minimal model's
 * prediction, final metrics with test_accuracy, collapse time, training
 * settings, W's singular values (encoder_report.c). */
json_t *rc_encoder_summary_json(const rc_run_config *cfg, const rc_run_result *r);

/** {"head_eigenvalues": [[re, im], ...], "separation_head_gain": [[a, b, gain], ...]} for head P and labels Y (K x d). */
json_t *rc_head_json(const double *P, const double *Y, size_t K, size_t d);

/** Stability of a fixed point: max_real_part, zero_modes, tolerance, verdict, leading eigenvalues. */
#include "repcollapse/fixedpoint.h"
json_t *rc_stability_json(const rc_stability *s);

/** Write JSON to a file atomically (indent 2). */
rc_status rc_json_write_file(json_t *j, const char *path, rc_error *err);

#ifdef __cplusplus
}
#endif

#endif
