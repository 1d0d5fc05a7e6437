/* run_encoder.h (private): the run pipeline of an encoder on inputs
 * (run_encoder.c), called by rc_run_config_check and rc_run_execute (run.c)
 * when cfg->encoder is not `table`. */
#ifndef RC_RUN_ENCODER_H
#define RC_RUN_ENCODER_H

#include "repcollapse/run.h"

/** Every check that needs no data (sizes, the memory budget, integrator, rates, inputs). */
rc_status rc_run_encoder_check(const rc_run_config *cfg, rc_error *err);

/** The inputs spec -> (U, labels, test inputs) -> observations: the one place
 * a new kind of inputs (fashion-mnist, file) is wired in. */
rc_status rc_run_inputs_load(const rc_run_config *cfg, rc_ts_data **out, rc_error *err);

/** The run, end to end (run.h's rc_run_execute for encoders on inputs). */
rc_status rc_run_encoder_execute(const rc_run_config *cfg, rc_run_result **out, rc_error *err);

#endif
