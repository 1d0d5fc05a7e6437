/* checkpoints.h (private): checkpoints of one run (checkpoint.h): the run's
 * fingerprint, the snapshot journal, saving, and resuming. */
#ifndef RC_EXPERIMENT_CHECKPOINTS_H
#define RC_EXPERIMENT_CHECKPOINTS_H

#include <stdint.h>
#include <stdio.h>

#include "experiment/engine_loop.h"
#include "repcollapse/checkpoint.h"
#include "repcollapse/io.h"
#include "repcollapse/run.h"

typedef struct {
  char path[4200];         /* DIR/checkpoint.bin */
  char journal_path[4200]; /* DIR/checkpoint.snapshots: every snapshot record, so a resumed run rebuilds snapshots.h5 */
  uint64_t fingerprint;
  double every;
  rc_integrator integrator;
  size_t n, k, d;
  size_t record_values;    /* values of one journal record (a particle state: (N + K) d, plus d d with a head) */
  int engine;              /* the one engine's loop (engine_loop.h): the checkpoint holds its payload */
  FILE *journal;
  int journal_created;     /* this run created the journal (a fresh start), so it may remove it */
  uint64_t journal_records, journal_hash;
  int have_checkpoint;     /* a checkpoint file of this run exists (loaded or written) */
  rc_checkpoint *loaded;   /* what the run resumes from, or NULL */
  rc_resume_point from;
  rc_state *from_state;
  rc_engine_resume_point efrom; /* engine runs: what the loop continues from (payload in `loaded`) */
  double wall_before, wall_start;
  rc_metrics_row *rows;    /* the run's rows and their count, saved with each checkpoint */
  size_t *n_rows;
} run_checkpoints;

/* Set up checkpointing for a run writing to cfg->out_dir (nothing happens
 * without checkpoint_every or resume). With cfg->resume and a checkpoint in
 * DIR, check that it belongs to this very run, restore the rows and rebuild
 * the snapshots recorded so far into `snap`; c->loaded is then set. engine:
 * the run is driven by the one engine's loop (its checkpoints hold the loop's
 * payload: parameters, optimizer buffers, shuffle position, EMA copies). */
rc_status run_checkpoints_open(run_checkpoints *c, const rc_run_config *cfg, const rc_dataset *ds,
                               const rc_state *init, const double *grid, size_t n_times, rc_metrics_row *rows,
                               size_t *n_rows, rc_snapshots *snap, double wall_start, int engine, rc_error *err);

/* The engine loop's checkpointing (engine_loop.h) of an engine run: save
 * through this run's checkpoint file, continue from the loaded one. */
void run_checkpoints_engine(run_checkpoints *c, rc_engine_checkpointing *out);

/* What a run's checkpoints need to know, whatever the run records (the
 * vector form of run_checkpoints_open, for runs whose parameters are not a
 * particle state, e.g. an encoder's theta = [W | y | P]). */
typedef rc_status (*run_checkpoints_replay_fn)(size_t r, double t, size_t step, const double *v, void *ctx,
                                              rc_error *err);
typedef struct {
  size_t n, k, d;           /* samples, classes, embedding dimension (the checkpoint header's sizes) */
  const double *init;       /* the initial parameters or state (fingerprint) */
  size_t n_init;
  const double *extra;      /* further inputs that decide the numbers, e.g. an encoder's inputs U (fingerprint; may be NULL) */
  size_t n_extra;
  size_t record_values;     /* values of one journal record (run_checkpoints_record_values) */
  run_checkpoints_replay_fn replay; /* rebuild snapshot record r from the journal on resume (NULL: nothing to rebuild) */
  void *replay_ctx;
  int engine;               /* driven by the one engine's loop: the checkpoint holds its payload */
  int journal;              /* keep the journal with or without --snapshots (records hold more than snapshots, e.g.
                             * an encoder run's test accuracy) */
} run_checkpoints_spec;

rc_status run_checkpoints_open_spec(run_checkpoints *c, const rc_run_config *cfg, const rc_dataset *ds,
                                    const run_checkpoints_spec *sp, const double *grid, size_t n_times,
                                    rc_metrics_row *rows, size_t *n_rows, double wall_start, rc_error *err);

/* Append one snapshot record (record_values doubles) to the journal (when there is one). */
rc_status run_checkpoints_record_values(run_checkpoints *c, double t, size_t step, const double *v, rc_error *err);

/* Append one snapshot record to the journal (when there is one). */
rc_status run_checkpoints_record(run_checkpoints *c, double t, size_t step, const rc_state *s, rc_error *err);

/* The integrator's checkpoint hook (ctx: run_checkpoints). */
rc_status run_checkpoints_save(const rc_resume_point *p, void *ctx, rc_error *err);

/* Finish: after success remove the checkpoint and the journal; after a
 * failure keep them if a checkpoint exists (so --resume can continue), else
 * remove the journal if this run created it. A journal found in DIR is never
 * removed by a failed or refused resume. */
void run_checkpoints_close(run_checkpoints *c, int success);

#endif
