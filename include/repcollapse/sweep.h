/* sweep.h: parameter sweeps over runs: a Cartesian grid of option values,
 * one result record per point, and the table (sweep.csv) assembled from the
 * records in point order.
 *
 * A grid is `AXIS (; AXIS)*`, `AXIS = NAME = VALUES`: NAME is an option of
 * `repcollapse run` (without the dashes) and VALUES a comma list `v1,v2,...`,
 * `a:b:n` (n evenly spaced values from a to b inclusive), `a:b:n:log` (n
 * values a (b/a)^(k/(n-1)), k = 0..n-1, a, b > 0), `i:j` (the integers
 * i to j inclusive), or a `|` list `v1|v2|...` whose values are taken
 * literally (for values that contain `,` or `:`, such as `--per-class 50,80`
 * or `--frustrated 0-1:8`). Values are kept as strings: each point is the
 * options of `run` it stands for, and the library does not interpret them.
 *
 * Points are numbered row-major over the axes as given (the last axis varies
 * fastest). Each finished point leaves a record DIR/points/<index>.json,
 * written atomically; sweep.csv is assembled from the records, so a sweep
 * killed at any moment and restarted, or split into shards and merged, gives
 * the same file byte for byte. */
#ifndef REPCOLLAPSE_SWEEP_H
#define REPCOLLAPSE_SWEEP_H

#include <stddef.h>

#include <jansson.h>

#include "repcollapse/error.h"
#include "repcollapse/run.h"
#include "repcollapse/teacher.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  char *name;     /* option name without the leading dashes */
  char **values;  /* value strings, as given to the option */
  size_t n_values;
} rc_sweep_axis;

typedef struct {
  rc_sweep_axis *axes;
  size_t n_axes;
  size_t n_points; /* product of the axes' sizes */
} rc_sweep_grid;

/** Largest number of points a grid may have, and of values one range may expand to. */
#define RC_SWEEP_MAX_POINTS 10000000u
#define RC_SWEEP_MAX_AXIS_VALUES 1000000u

/** Parse a grid spec. On a bad axis (empty name, duplicate, empty range,
 * malformed value) fails with RC_EINVAL and a message naming the axis. */
rc_status rc_sweep_grid_parse(const char *spec, rc_sweep_grid *g, rc_error *err);
void rc_sweep_grid_free(rc_sweep_grid *g);

/** Value of `axis` at point p (row-major, last axis fastest). */
const char *rc_sweep_point_value(const rc_sweep_grid *g, size_t p, size_t axis);

/** "name=value, name=value" of point p, truncated to fit buf. */
void rc_sweep_point_describe(const rc_sweep_grid *g, size_t p, char *buf, size_t n);

/** The summary columns of sweep.csv, after `point` and the axes: their
 * number, and the name of column k (written into buf, which is returned). */
size_t rc_sweep_n_columns(void);
const char *rc_sweep_column_name(size_t k, char *buf, size_t n);

/** The summary values of a finished run, in column order (NAN = null);
 * values must hold rc_sweep_n_columns() numbers. */
void rc_sweep_result_values(const rc_run_config *cfg, const rc_run_result *r, double *values);

/** Write DIR/points/<p>.json atomically: the point's parameters and either
 * the summary values (values != NULL) or the run's error message. */
rc_status rc_sweep_record_write(const char *dir, const rc_sweep_grid *g, size_t p, const double *values,
                                const char *error, rc_error *err);

/** Read the record of point p from DIR/points/<p>.json (caller json_decref's)
 * and check that it belongs to point p of grid g. */
rc_status rc_sweep_record_read(const char *dir, const rc_sweep_grid *g, size_t p, json_t **out, rc_error *err);

/** Store a record (as read by rc_sweep_record_read) as DIR/points/<p>.json, atomically. */
rc_status rc_sweep_record_store(const char *dir, size_t p, json_t *rec, rc_error *err);

/** Indices of the records present in DIR/points (done[p] = 1), ignoring
 * temporary files; done has g->n_points entries. */
rc_status rc_sweep_scan_records(const char *dir, size_t n_points, unsigned char *done, rc_error *err);

/** Remove the temporary files (`*.tmp.<pid>`, see io.h) that a killed sweep
 * left in one directory. */
void rc_sweep_remove_temporaries(const char *dir);

/** The manifest of a sweep: the grid, the fixed options of every point,
 * the shard (0 = the whole grid) and the tool that ran it. */
json_t *rc_sweep_manifest(const rc_sweep_grid *g, char *const *fixed, size_t n_fixed, size_t shard_i, size_t shard_n);

/** Compare two manifests on what decides the results (grid, fixed options,
 * and, with check_shard, the shard). Returns NULL when they agree, or a
 * static string naming what differs ("grid", "fixed options", "shard"). */
const char *rc_sweep_manifest_differs(json_t *a, json_t *b, int check_shard);

/** Rebuild the grid of a manifest (for sweep-merge). */
rc_status rc_sweep_manifest_grid(json_t *m, rc_sweep_grid *g, rc_error *err);

/** Write DIR/sweep.csv from the records of the points p with (p % shard_n)
 * == shard_i - 1 (shard_n = 0: every point), in point order. Every one must
 * be present. Columns: point, the axes, rc_sweep_column_name(...), error.
 * *n_failed counts the rows whose run failed, *first_failed is the first. */
rc_status rc_sweep_write_csv(const char *dir, const rc_sweep_grid *g, size_t shard_i, size_t shard_n,
                             size_t *n_failed, size_t *first_failed, rc_error *err);

/** Whether grid big contains grid small: the same axes in the same order,
 * every value of each axis of small among the values of that axis of big
 * (compared as strings). NULL when it does; otherwise why, written into
 * why[0..n) and returned. */
const char *rc_sweep_grid_contains(const rc_sweep_grid *big, const rc_sweep_grid *small, char *why, size_t n);

/** Grow the sweep in DIR from grid old_g to grid g, which contains it (see
 * rc_sweep_grid_contains): each point of g whose values are those of a
 * finished point of old_g takes over that point's record (renumbered) and
 * run files (hard links), the other points start empty, new_manifest
 * replaces DIR/manifest.json and the old sweep.csv is removed. Crash-safe:
 * a process killed at any moment leaves a state rc_sweep_grow_recover turns
 * into either the old sweep or the grown one, whole. *reused counts the
 * points of g that have a record. Call it holding the sweep's lock. */
rc_status rc_sweep_grow(const char *dir, const rc_sweep_grid *old_g, const rc_sweep_grid *g, json_t *new_manifest,
                        size_t *reused, rc_error *err);

/** Undo (before its commit point) or complete (after it) a growth of DIR
 * that was interrupted; nothing when there was none. Holding the lock. */
rc_status rc_sweep_grow_recover(const char *dir, rc_error *err);

/** Whether point p belongs to shard i of n (1 <= i <= n; n = 0: every point). */
int rc_sweep_in_shard(size_t p, size_t shard_i, size_t shard_n);

#ifdef __cplusplus
}
#endif

#endif
