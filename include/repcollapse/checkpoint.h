/* checkpoint.h: the full state of a run in progress, so that a run killed at
 * any moment (SIGKILL, a power cut after the last checkpoint) continues and
 * produces the same files, bit for bit, as a run never interrupted.
 *
 * A checkpoint holds the integrator's state where it can stop and restart
 * exactly (gd: the step and the embeddings; rk45: the time, the embeddings
 * and the driver's next step size; exact: only the position in the recorded
 * times; a run of the one engine, docs/model.md section 6.1: its loop's
 * payload, discrete [parameters | momentum buffers or Adam moments and step
 * count | shuffle position | EMA copies], flow [parameters | EMA copies]
 * with the time and the step size), the metric rows recorded so far, how many snapshot records the
 * snapshot journal holds (with their hash), and a fingerprint of everything
 * that determines the results, so resuming with other settings is refused.
 *
 * File format (native byte order, every field 8 bytes): magic "RCCKPT1\n",
 * format version, settings fingerprint, commit (64 bytes), integrator, N, K,
 * d, next time index, step, t, h, wall seconds, number of metrics, number of
 * rows, journal records, journal hash, number of state values; then the
 * state values, the rows (t, the metrics, a validity bit mask), and an
 * FNV-1a 64 checksum of all that precedes it. Written to a temporary name,
 * flushed to disk and renamed, so a checkpoint is always whole. */
#ifndef REPCOLLAPSE_CHECKPOINT_H
#define REPCOLLAPSE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "repcollapse/error.h"
#include "repcollapse/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint64_t fingerprint;  /* of the settings, the data, the initial state and the time grid */
  char commit[64];       /* source commit of the program that wrote it */
  uint64_t integrator;
  uint64_t n, k, d;
  uint64_t next_time;    /* recorded times already visited */
  uint64_t step;         /* gd steps taken */
  double t;              /* time of the state */
  double h;              /* rk45: the driver's next step size */
  double wall_seconds;   /* wall-clock time spent before this checkpoint */
  uint64_t journal_records, journal_hash; /* snapshot journal: records covered and their hash */
  size_t n_z;            /* (n + k) d, or 0 when the integrator needs no state (exact); an engine run's payload size */
  double *z;
  size_t n_rows;
  rc_metrics_row *rows;
} rc_checkpoint;

/** Write atomically (temporary file, fsync, rename). */
rc_status rc_checkpoint_write(const char *path, const rc_checkpoint *c, rc_error *err);

/** Read and verify (magic, version, sizes, checksum). *out is NULL and RC_OK
 * when the file does not exist; a damaged file is RC_EINVAL naming it. */
rc_status rc_checkpoint_read(const char *path, rc_checkpoint **out, rc_error *err);

void rc_checkpoint_free(rc_checkpoint *c);

#ifdef __cplusplus
}
#endif

#endif
