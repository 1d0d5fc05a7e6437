/* cmd_sweep_merge.c: `repcollapse sweep-merge DIR1 DIR2 ... --out DIR`:
 * joins the directories of a sweep's shards (--shard I/N, e.g. the tasks of
 * a SLURM job array) into one: DIR/points/<index>.json for every point,
 * DIR/manifest.json and DIR/sweep.csv, the same file as a single sweep's.
 * The inputs must be shards of one sweep (same grid, same fixed options) and
 * together hold every point; a point held twice must have the same record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/input.h"
#include "cli/sweep_cli.h"
#include "repcollapse/report.h"

#define merge_fail(code, ...) sweep_error("sweep-merge", code, __VA_ARGS__)

static json_t *load_manifest(const char *dir, int *rc) {
  char path[4200];
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  json_error_t je;
  json_t *m = rc_input_json_load(path, 0, &je);
  if (!m) *rc = merge_fail(2, "'%s' is not a sweep directory (cannot read %s: %s)", dir, path, je.text);
  return m;
}

static int same_dir(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Which input holds each point (owner[p], -1: none); a point held twice must agree. */
static int collect(char **dirs, size_t n_dirs, const rc_sweep_grid *g, long *owner) {
  rc_error err;
  rc_error_clear(&err);
  unsigned char *done = malloc(g->n_points);
  if (!done) return merge_fail(1, "out of memory");
  int rc = 0;
  for (size_t p = 0; p < g->n_points; p++) owner[p] = -1;
  for (size_t d = 0; d < n_dirs && !rc; d++) {
    if (rc_sweep_scan_records(dirs[d], g->n_points, done, &err)) {
      rc = merge_fail(1, "%s", err.msg);
      break;
    }
    for (size_t p = 0; p < g->n_points && !rc; p++) {
      if (!done[p]) continue;
      if (owner[p] < 0) {
        owner[p] = (long)d;
        continue;
      }
      json_t *a = NULL, *b = NULL;
      if (rc_sweep_record_read(dirs[owner[p]], g, p, &a, &err) || rc_sweep_record_read(dirs[d], g, p, &b, &err))
        rc = merge_fail(2, "%s", err.msg);
      else if (!json_equal(a, b))
        rc = merge_fail(2, "point %zu has different records in '%s' and '%s'", p, dirs[owner[p]], dirs[d]);
      json_decref(a);
      json_decref(b);
    }
  }
  free(done);
  return rc;
}

static int merge(char **dirs, size_t n_dirs, const char *out) {
  int rc = 0;
  json_t *ref = load_manifest(dirs[0], &rc);
  if (!ref) return rc;
  for (size_t d = 1; d < n_dirs && !rc; d++) {
    json_t *m = load_manifest(dirs[d], &rc);
    const char *what = m ? rc_sweep_manifest_differs(ref, m, 0) : NULL;
    if (what) rc = merge_fail(2, "'%s' and '%s' are not shards of one sweep (not the same %s)", dirs[0], dirs[d], what);
    json_decref(m);
  }
  rc_sweep_grid g;
  memset(&g, 0, sizeof g);
  rc_error err;
  rc_error_clear(&err);
  if (!rc && rc_sweep_manifest_grid(ref, &g, &err)) rc = merge_fail(2, "'%s': %s", dirs[0], err.msg);
  for (size_t d = 0; d < n_dirs && !rc; d++)
    if (same_dir(dirs[d], out)) rc = merge_fail(2, "--out '%s' is one of the inputs: merge into a new directory", out);
  /* the output: a whole sweep of the same grid and fixed options */
  json_t *m = NULL;
  if (!rc) {
    m = rc_sweep_manifest(&g, NULL, 0, 0, 0);
    json_object_set(m, "fixed", json_object_get(ref, "fixed"));
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", out);
    struct stat sb;
    if (stat(path, &sb) == 0) {
      json_t *old = load_manifest(out, &rc);
      const char *what = old ? rc_sweep_manifest_differs(old, m, 1) : NULL;
      if (what) rc = merge_fail(2, "'%s' holds a different sweep (not the same %s): choose another --out", out, what);
      json_decref(old);
    }
  }
  long *owner = rc ? NULL : malloc(g.n_points * sizeof *owner);
  if (!rc && !owner) rc = merge_fail(1, "out of memory");
  if (!rc) rc = collect(dirs, n_dirs, &g, owner);
  size_t missing = 0, first = 0;
  for (size_t p = 0; !rc && p < g.n_points; p++)
    if (owner[p] < 0 && missing++ == 0) first = p;
  if (!rc && missing) {
    char desc[300];
    rc_sweep_point_describe(&g, first, desc, sizeof desc);
    rc = merge_fail(1, "%zu of %zu points are in none of the directories (first: point %zu (%s)): finish or add the shards that hold them",
                    missing, g.n_points, first, desc);
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/points", out);
  if (!rc && rc_mkdir_p(path, &err)) rc = merge_fail(1, "%s", err.msg);
  rc_dir_lock *lock = NULL; /* one writer per directory (io.h) */
  if (!rc && rc_dir_lock_acquire(out, &lock, &err)) rc = merge_fail(1, "%s", err.msg);
  snprintf(path, sizeof path, "%s/manifest.json", out);
  if (!rc && rc_json_write_file(m, path, &err)) rc = merge_fail(1, "%s", err.msg);
  for (size_t p = 0; !rc && p < g.n_points; p++) {
    json_t *rec = NULL;
    if (rc_sweep_record_read(dirs[owner[p]], &g, p, &rec, &err) || rc_sweep_record_store(out, p, rec, &err))
      rc = merge_fail(1, "%s", err.msg);
    json_decref(rec);
  }
  size_t n_failed = 0, first_failed = 0;
  if (!rc && rc_sweep_write_csv(out, &g, 0, 0, &n_failed, &first_failed, &err)) rc = merge_fail(1, "%s", err.msg);
  if (!rc) fprintf(cli_stdout(), "%s/sweep.csv: %zu points from %zu directories (%zu failed)\n", out, g.n_points, n_dirs, n_failed);
  rc_dir_lock_release(lock);
  free(owner);
  json_decref(m);
  json_decref(ref);
  rc_sweep_grid_free(&g);
  return rc;
}

int cmd_sweep_merge(int argc, char **argv) {
  const char *out = NULL;
  char **dirs = calloc((size_t)argc, sizeof *dirs);
  size_t n_dirs = 0;
  if (!dirs) return merge_fail(1, "out of memory");
  int rc = 0;
  for (int k = 2; k < argc && !rc; k++) {
    const char *s = argv[k];
    if (!strcmp(s, "--help")) {
      fprintf(cli_stdout(), "usage: repcollapse sweep-merge DIR1 DIR2 ... --out DIR\n\n"
             "Joins the directories of a sweep's shards (repcollapse sweep --shard I/N) into DIR:\n"
             "DIR/sweep.csv (every point, in order), DIR/points/<index>.json, DIR/manifest.json.\n");
      free(dirs);
      return 0;
    }
    if (!strcmp(s, "--out")) {
      if (k + 1 >= argc) rc = merge_fail(2, "option '--out' needs a value");
      else if (cli_value_is_option(argv[k + 1]))
        rc = merge_fail(2, "option '--out' needs a value (got the option '%s'; write --out=VALUE for a value starting "
                        "with --)", argv[k + 1]);
      else out = argv[++k];
    } else if (!strncmp(s, "--out=", 6)) {
      out = s + 6;
    } else if (!strncmp(s, "--", 2)) {
      rc = merge_fail(2, "unknown option '%s' (see --help)", s);
    } else {
      dirs[n_dirs++] = argv[k];
    }
  }
  if (!rc && !out) rc = merge_fail(2, "--out DIR is required");
  if (!rc && !n_dirs) rc = merge_fail(2, "no input directories (repcollapse sweep-merge DIR1 DIR2 ... --out DIR)");
  if (!rc) rc = merge(dirs, n_dirs, out);
  free(dirs);
  return rc;
}
