/* io.h: result files, always written whole or not at all.
 *
 * Every file is written to `<path>.tmp.<pid>` and renamed over `path` only
 * once complete, so a crash or an error never leaves a half-written result
 * under the final name. */
#ifndef REPCOLLAPSE_IO_H
#define REPCOLLAPSE_IO_H

#include <stdint.h>
#include <stdio.h>

#include "repcollapse/error.h"
#include "repcollapse/metrics.h"
#include "repcollapse/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An output file being written under a temporary name. */
typedef struct {
  char path[4096];
  char tmp[4200];
  FILE *fp;
  int cleanup_slot; /* its entry in the list of temporaries (rc_cleanup_register) */
} rc_atomic_file;

/** Open `path` for writing (under its temporary name). */
rc_status rc_atomic_open(rc_atomic_file *f, const char *path, rc_error *err);
/** Flush, fsync, close and rename into place; on any failure removes the temporary and reports the file. */
rc_status rc_atomic_commit(rc_atomic_file *f, rc_error *err);
/** Abandon: close and remove the temporary. */
void rc_atomic_abort(rc_atomic_file *f);

/** Remove `<path>.tmp.<pid>` files whose writer no longer runs (left by a
 * process killed while writing `path`). */
void rc_atomic_remove_stale(const char *path);

/* Temporaries of this process, for a program's signal handler: a path
 * registered here is removed by rc_cleanup_now() (async-signal-safe; only the
 * registering process's entries). rc_atomic_file, snapshots, figures and
 * directory locks register themselves. The library installs no handler. */
int rc_cleanup_register(const char *path); /* slot, or -1 when the list is full */
void rc_cleanup_unregister(int slot);
void rc_cleanup_now(void);

/** One writer per output directory: DIR/.lock (flock), held while a command
 * writes DIR. A second writer is refused (RC_EIO) with a message naming the
 * holder's pid. Released (and the file removed) by rc_dir_lock_release, or
 * by the end of the process however it ends. */
typedef struct rc_dir_lock rc_dir_lock;
rc_status rc_dir_lock_acquire(const char *dir, rc_dir_lock **out, rc_error *err);
void rc_dir_lock_release(rc_dir_lock *lock);

/** Create a directory (and parents) if missing; error names it. */
rc_status rc_mkdir_p(const char *path, rc_error *err);

/** FNV-1a 64 of a file's content (the hash summary.json records of each input). */
rc_status rc_input_hash(const char *path, const char *what, uint64_t *hash, rc_error *err);

/** Write metrics.csv: header `t,<metric names>` and one row per time, %.17g,
 * an empty cell for a null metric. */
rc_status rc_write_metrics_csv(const char *path, const rc_metrics_row *rows, size_t n, rc_error *err);

/** The same with n_extra more columns after the metrics (extra: n x n_extra
 * values, row-major; a non-finite value is an empty cell). */
rc_status rc_write_metrics_csv_extra(const char *path, const rc_metrics_row *rows, size_t n,
                                     const char *const *extra_names, size_t n_extra, const double *extra,
                                     rc_error *err);

/* HDF5 snapshots (layout documented in README.md):
 *   /t        float64 [T]          recorded times
 *   /step     int64   [T]          gd step index (0 for other integrators)
 *   /samples  float64 [T][N][d]    sample embeddings x_i(t)
 *   /labels   float64 [T][K][d]    label embeddings y_c(t)
 *   /head     float64 [T][d][d]    projection head P(t) (models with a head)
 *   /observation_sample, /observation_label  int64 [M]  the observations
 *             (sample i seen with label c), one per observation, in the order
 *             of `data --out` (rc_dataset_write_csv)
 *   /sample_label  int64 [N]       a clean sample's label, -1 for a frustrated one
 *   root attributes: n_samples, n_classes, dim, integrator, n_observations. */
typedef struct rc_snapshots rc_snapshots;
rc_status rc_snapshots_open(const char *path, size_t n_times, size_t n, size_t k, size_t d, int with_head,
                            const char *integrator, rc_snapshots **out, rc_error *err);
rc_status rc_snapshots_write(rc_snapshots *s, size_t index, double t, long step, const rc_state *st,
                             rc_error *err);
/** Write the data set's observations and clean labels (written once, at any
 * time before the close). */
rc_status rc_snapshots_write_data(rc_snapshots *s, const rc_dataset *ds, rc_error *err);
/** Close and rename into place (commit = 1) or remove (commit = 0). */
rc_status rc_snapshots_close(rc_snapshots *s, int commit, rc_error *err);

/* Snapshots of a run of an encoder on inputs (the one engine's parameters
 * theta = [encoder blocks | y | P], docs/model.md section 6), written whole:
 *   /t, /step                       as above
 *   /<block>  float64 [T][rows][cols]  each encoder parameter block by its name
 *             (linear: /W [T][d][D]; a block named W1 is [T][len/D][D], W2
 *             [T][d][len/d], any other [T][len])
 *   /labels   float64 [T][K][d]     y(t);  /head [T][d][d]: P(t) (models with a head)
 *   /inputs   float64 [N][D]        the inputs u_i
 *   /observations int64 [nnz][2]    (sample, label) pairs with /observation_counts [nnz] (A_ic)
 *   /teacher_label int64 [N]        the inputs' own label (before frustration)
 *   root attributes: n_samples, n_classes, dim, input_dim.
 * Enough to recompute any recorded state outside the tool. */
typedef struct {
  const char *name;
  size_t offset, len;
} rc_snapshot_block;
typedef struct {
  size_t n_times;
  const double *times;
  const long long *steps;
  const double *states; /* n_times x state_size */
  size_t state_size;
  const rc_snapshot_block *blocks; /* the parameter blocks, in theta's order: encoder blocks, then y, then P */
  size_t n_blocks;
  size_t n, D, k, d;
  const double *inputs;         /* n x D */
  const rc_dataset *ds;         /* the observations */
  const uint32_t *input_label;  /* n, or NULL */
} rc_param_snapshots;
rc_status rc_snapshots_write_params(const char *path, const rc_param_snapshots *s, rc_error *err);

#ifdef __cplusplus
}
#endif

#endif
