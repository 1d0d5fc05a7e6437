/* run.h: one experiment end to end, for every encoder (docs/model.md section 6):
 * data (or inputs) -> spectrum -> initial state -> integrator or the one
 * engine's loop -> metrics per recorded time -> summaries -> files
 * (metrics.csv, summary.json, snapshots.h5). The CLI's `run` is a thin layer
 * over rc_run_execute. With encoder `table` the data set is cfg->data and the
 * embeddings are free (sections 2-3); with an encoder on inputs (`linear`,
 * section 4) the inputs are drawn or read first (cfg->inputs, cfg->ts) and
 * their observations take the data set's place. */
#ifndef REPCOLLAPSE_RUN_H
#define REPCOLLAPSE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "repcollapse/data.h"
#include "repcollapse/engine.h"
#include "repcollapse/head.h"
#include "repcollapse/integrate.h"
#include "repcollapse/metrics.h"
#include "repcollapse/model.h"
#include "repcollapse/optimizer.h"
#include "repcollapse/spectrum.h"
#include "repcollapse/teacher.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where an encoder's inputs come from (docs/model.md section 6.3): generated
 * (`teacher`: a linear teacher's labels, `mixture`: a Gaussian mixture), or
 * read (`fashion-mnist`: Debian's dataset-fashion-mnist; `file` with
 * --inputs-file: HDF5; both in inputs.h). */
typedef enum {
  RC_RUN_INPUTS_TEACHER = 0,
  RC_RUN_INPUTS_MIXTURE = 1,
  RC_RUN_INPUTS_FASHION_MNIST = 2,
  RC_RUN_INPUTS_FILE = 3
} rc_run_inputs;
rc_status rc_parse_run_inputs(const char *text, rc_run_inputs *out, rc_error *err);
const char *rc_run_inputs_name(rc_run_inputs k);

typedef struct {
  rc_data_spec data;         /* the table encoder's data set */
  rc_minimal_params model;   /* rate scheme and eta_x, eta_y */
  rc_model terms;            /* the model's terms (default: the minimal model) */
  double eta_head;           /* head learning rate (default 1) */
  rc_head_init head_init;    /* default identity */
  double head_scale;         /* gaussian head init scale (default 1) */
  rc_init_params init;
  size_t dim;                 /* d (default 16) */
  rc_integrator integrator;   /* default exact */
  rc_spectrum_method exact_method;
  double t_end;               /* 0: default 10 / slow_rate (or steps * dt for gd) */
  double dt;                  /* gd step */
  size_t steps;               /* gd steps (0: from t_end) */
  const double *times;        /* explicit recorded times, or NULL for a log grid */
  size_t n_times;
  size_t points;              /* log grid points after t = 0 (default 80) */
  double t_min;               /* first positive time of the log grid (0: 1e-2 / fast_rate) */
  double eps;                 /* collapse threshold (default 1e-2) */
  double rtol, atol;          /* rk45 (rtol >= RC_RK45_MIN_RTOL) */
  unsigned long max_steps;    /* rk45 step bound (0: RC_RK45_MAX_STEPS) */
  rc_precision precision;     /* gd embeddings: f64 (default) or f32 */
  int threads;                /* gd and metrics threads (0: OpenMP's default); results do not depend on it */
  unsigned metrics;           /* metrics computed (RC_METRICS_ALL; 0 means all): the others are null */
  const char *out_dir;        /* where files go (NULL: write nothing) */
  int snapshots;              /* write snapshots.h5 */
  const char *command_line;   /* recorded in summary.json */
  rc_progress progress;
  void *progress_ctx;
  double checkpoint_every;    /* simulated time between checkpoints in out_dir (0: none; checkpoint.h) */
  int resume;                 /* continue from out_dir/checkpoint.bin when there is one */
  const char *settings;       /* the settings as given (JSON object text): summary.json's "settings", and
                                 part of a checkpoint's fingerprint */
  rc_train_settings train;    /* optimizer, weight decay, minibatch, EMA targets (optimizer.h) */
  rc_collapse_metric collapse_metric; /* what collapse_time, fitted_slow_rate and apart read (default D) */
  /* the encoder (engine.h): RC_ENCODER_TABLE (default) or an encoder on inputs */
  rc_encoder_kind encoder;
  rc_run_inputs inputs;       /* encoders on inputs: where they come from */
  const char *inputs_file;    /* --inputs-file PATH (inputs `file`) */
  rc_ts_data_spec ts;         /* generated inputs: --samples (clean), --input-dim, --classes, --mixture-noise,
                                 --frustration, --frustration-mode, --test-samples, the data seed (ts.teacher
                                 follows `inputs`) */
  double eta_w;               /* eta of the encoder's parameters (--eta-w, default 1; eta_x's place) */
  size_t hidden;              /* --encoder mlp: hidden width h (--hidden, default 64) */
  rc_activation activation;   /* --encoder mlp: relu (default) | tanh (--activation) */
  size_t per_class;           /* real inputs (fashion-mnist, file): clean samples per class (--per-class;
                                 0: fashion-mnist's default 30, a file's every sample) */
} rc_run_config;

/** Defaults of every setting (docs/model.md defaults; pattern pair; seed 1). */
rc_run_config rc_run_config_default(void);

typedef struct {
  rc_dataset *ds;
  rc_spectrum *spec;
  rc_components *comp;
  rc_metrics_row *rows;
  size_t n_rows;
  double t_end;
  int has_collapse_time, has_fitted_slow_rate;
  double collapse_time, fitted_slow_rate;
  int collapse_time_exact;    /* 1: collapse_time from the exact labels (Brent, any recorded times); 0: interpolated */
  double predicted_final_min_label_distance; /* minimal model: exact t -> infinity value (NAN otherwise) */
  int has_head;               /* the model has a projection head */
  size_t dim;
  rc_state *final_state;      /* particle state at the last time (NULL for `reduced`) */
  double *final_reduced;      /* group-reduced state at the last time (term models) */
  const double *final_head;   /* P at the last time (into final_reduced), models with a head */
  const double *final_labels; /* y at the last time */
  size_t reduced_dim;
  double wall_seconds;        /* including the time spent before the checkpoint resumed from */
  int resumed;                /* continued from a checkpoint */
  double resumed_from_t;
  int has_observations_hash;  /* an observations file was read: */
  uint64_t observations_hash; /* FNV-1a 64 of its content (summary.json "input_files") */
  /* encoders on inputs (cfg->encoder != table; ds then points into inputs) */
  rc_ts_data *inputs;         /* the inputs, their labels, test inputs and observations */
  double *test_accuracy;      /* one per row: the metrics.csv column after the paper's */
  double *theta_final;        /* the parameters at the last time [encoder | y | P] */
  size_t n_theta;
  double rate_estimate;       /* the largest rate of the field at the start (power iteration) */
  double kernel_top;          /* top eigenvalue of U U^T */
  double *w_singular;         /* linear: the singular values of W at the end, descending */
  size_t n_singular;
  double w_effective_rank;    /* (sum s^2)^2 / sum s^4 */
  int has_zero_norm;          /* the model has cosine or uniformity terms (docs/model.md section 6.2): */
  double zero_norm_vectors;   /* zero-norm vectors they met at the final state (each contributes 0) */
} rc_run_result;

/** The dynamics parameters of cfg as a term model. */
rc_head_params rc_run_head_params(const rc_run_config *cfg);

/** The checks rc_run_execute makes before any work (sizes, eps, gd's dt, the
 * integrator against the model): RC_OK, or RC_EINVAL with the message it would give. */
rc_status rc_run_config_check(const rc_run_config *cfg, rc_error *err);

/** uniformity(x) is O(N^2 d): refused over RC_UNIFORMITY_X_MAX_SAMPLES samples (the whole data, or
 * a batch of B observations, which has at most B samples). */
rc_status rc_run_check_uniformity(const rc_model *m, size_t n, size_t batch, rc_error *err);

/** Run the experiment; on success *out holds everything computed. Files are
 * written only when cfg->out_dir is set, each one atomically. */
rc_status rc_run_execute(const rc_run_config *cfg, rc_run_result **out, rc_error *err);
void rc_run_result_free(rc_run_result *r);

/** Default end time: RC_DEFAULT_T_END_SLOW / slow_rate, and for term models at
 * least RC_DEFAULT_T_END_HEAD / eta_x; default first time of the log grid:
 * RC_DEFAULT_T_MIN_FAST / fast_rate. (--help prints these.) */
#define RC_DEFAULT_T_END_SLOW 10.0
#define RC_DEFAULT_T_END_HEAD 500.0
#define RC_DEFAULT_T_MIN_FAST 1e-2

/** The end time the options fix, the same rule for every command: --t-end,
 * --steps x --dt (gd) and the last of --times, when more than one is given,
 * must agree (to 1e-9 relative), else RC_EINVAL naming both; --t-min past
 * that end is RC_EINVAL too. *t_end is 0 when none of them is given. */
rc_status rc_run_end_time(const rc_run_config *cfg, double *t_end, rc_error *err);

/** RC_EINVAL unless a generated data set has at least two classes (phase and
 * selfconsistent study the separation of classes; `what` names the command). */
rc_status rc_experiment_need_classes(const rc_data_spec *data, const char *what, rc_error *err);

/** Log-spaced grid: 0, then `points` times from t_min to t_end (ascending,
 * duplicates removed); for dt > 0 every time is rounded to a multiple of dt. *out is malloc'ed. */
rc_status rc_time_grid(double t_min, double t_end, size_t points, double dt, double **out, size_t *n_out,
                       rc_error *err);

#ifdef __cplusplus
}
#endif

#endif
