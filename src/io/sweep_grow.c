/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sweep_grow.c: growing a sweep in place (sweep.h). A sweep directory whose
 * grid is contained in a bigger one (the same axes in the same order, each
 * axis's values among the bigger axis's values) becomes a sweep of the bigger
 * grid: every finished point keeps its record and its run files under the
 * index it has in the bigger grid, so only the new points run and sweep.csv
 * is that of a fresh sweep of the bigger grid.
 *
 * The new points/ tree is built beside the old one (DIR/.grow.tmp: records
 * renumbered, run files hard-linked, summary.json rewritten with the point's
 * new --out, the new manifest), then swapped in by
 * renames: DIR/points -> DIR/.grow.old, DIR/.grow.tmp/points -> DIR/points,
 * DIR/.grow.tmp/manifest.json -> DIR/manifest.json. A process killed at any
 * moment leaves a state rc_sweep_grow_recover undoes (before the first rename:
 * the old sweep is whole) or completes (after it: the new one is). */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repcollapse/io.h"
#include "repcollapse/report.h"
#include "repcollapse/sweep.h"

static int exists(const char *path) {
  struct stat sb;
  return lstat(path, &sb) == 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* rm -r path (nothing if it does not exist) */
static rc_status remove_tree(const char *path, rc_error *err) {
  if (!exists(path)) return RC_OK;
  if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    return rc_error_set(err, RC_EIO, "cannot remove '%s': %s", path, strerror(errno));
  return RC_OK;
}

static rc_status move(const char *from, const char *to, rc_error *err) {
  if (rename(from, to) != 0) return rc_error_set(err, RC_EIO, "cannot move '%s' to '%s': %s", from, to, strerror(errno));
  return RC_OK;
}

const char *rc_sweep_grid_contains(const rc_sweep_grid *big, const rc_sweep_grid *small, char *why, size_t n) {
  if (big->n_axes != small->n_axes) {
    snprintf(why, n, "%zu axes, not %zu", big->n_axes, small->n_axes);
    return why;
  }
  for (size_t a = 0; a < big->n_axes; a++) {
    if (strcmp(big->axes[a].name, small->axes[a].name) != 0) {
      snprintf(why, n, "axis %zu is '%s', not '%s'", a + 1, big->axes[a].name, small->axes[a].name);
      return why;
    }
    for (size_t k = 0; k < small->axes[a].n_values; k++) {
      size_t j = 0;
      while (j < big->axes[a].n_values && strcmp(big->axes[a].values[j], small->axes[a].values[k]) != 0) j++;
      if (j == big->axes[a].n_values) {
        snprintf(why, n, "axis '%s' has no value '%s'", big->axes[a].name, small->axes[a].values[k]);
        return why;
      }
    }
  }
  return NULL;
}

rc_status rc_sweep_grow_recover(const char *dir, rc_error *err) {
  char old[4200], tmp[4200], from[4300], to[4300];
  snprintf(old, sizeof old, "%s/.grow.old", dir);
  snprintf(tmp, sizeof tmp, "%s/.grow.tmp", dir);
  rc_status st = RC_OK;
  if (exists(old)) { /* past the first rename: complete the growth */
    snprintf(to, sizeof to, "%s/points", dir);
    snprintf(from, sizeof from, "%s/points", tmp);
    if (!exists(to)) st = move(from, to, err);
    snprintf(from, sizeof from, "%s/manifest.json", tmp);
    snprintf(to, sizeof to, "%s/manifest.json", dir);
    if (!st && exists(from)) st = move(from, to, err);
    if (!st) st = remove_tree(old, err);
  }
  if (!st) st = remove_tree(tmp, err); /* before it: the old sweep is whole, drop the new tree */
  return st;
}

/* The summary.json of old point q as new point p: its command_line ends with
 * `--out DIR/points/<q>` (the sweep wrote it so), which becomes
 * DIR/points/<p>; everything else is kept, so the file is the one a fresh
 * sweep writes (but for wall_seconds). Returns 0 (nothing written) when the
 * file is not of that form: it is then linked as it is. */
static int renumber_summary(const char *src, const char *dst, const char *dir, size_t q, size_t p, rc_error *err,
                            rc_status *st) {
  json_error_t je;
  json_t *j = json_load_file(src, 0, &je);
  json_t *cl = j ? json_object_get(j, "command_line") : NULL;
  char old_tail[4300], new_tail[4300];
  snprintf(old_tail, sizeof old_tail, " --out %s/points/%zu", dir, q);
  snprintf(new_tail, sizeof new_tail, " --out %s/points/%zu", dir, p);
  const char *line = json_is_string(cl) ? json_string_value(cl) : NULL;
  size_t n = line ? strlen(line) : 0, m = strlen(old_tail);
  int done = 0;
  if (line && n >= m && !strcmp(line + n - m, old_tail)) {
    char *fixed = malloc(n - m + strlen(new_tail) + 1);
    if (!fixed) {
      *st = rc_error_set(err, RC_ENOMEM, "out of memory");
    } else {
      memcpy(fixed, line, n - m);
      strcpy(fixed + n - m, new_tail);
      json_object_set_new(j, "command_line", json_string(fixed));
      free(fixed);
      *st = rc_json_write_file(j, dst, err);
    }
    done = 1;
  }
  json_decref(j);
  return done;
}

/* Hard-link every regular file of old point q's run directory from into the
 * new directory to (new point p); summary.json is rewritten with its new --out. */
static rc_status link_run_files(const char *from, const char *to, const char *dir, size_t q, size_t p, rc_error *err) {
  DIR *d = opendir(from);
  if (!d) return errno == ENOENT ? RC_OK : rc_error_set(err, RC_EIO, "cannot read directory '%s': %s", from, strerror(errno));
  rc_status st = rc_mkdir_p(to, err);
  struct dirent *e;
  char src[4700], dst[4700];
  while (!st && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || strstr(e->d_name, ".tmp.")) continue;
    snprintf(src, sizeof src, "%s/%s", from, e->d_name);
    snprintf(dst, sizeof dst, "%s/%s", to, e->d_name);
    struct stat sb;
    if (lstat(src, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
    if (!strcmp(e->d_name, "summary.json") && renumber_summary(src, dst, dir, q, p, err, &st)) continue;
    if (link(src, dst) != 0) st = rc_error_set(err, RC_EIO, "cannot link '%s' to '%s': %s", src, dst, strerror(errno));
  }
  closedir(d);
  return st;
}

rc_status rc_sweep_grow(const char *dir, const rc_sweep_grid *old_g, const rc_sweep_grid *g, json_t *new_manifest,
                        size_t *reused, rc_error *err) {
  char tmp[4200], path[4300], from[4300], to[4300];
  *reused = 0;
  snprintf(tmp, sizeof tmp, "%s/.grow.tmp", dir);
  rc_status st = remove_tree(tmp, err);
  snprintf(path, sizeof path, "%s/points", tmp);
  if (!st) st = rc_mkdir_p(path, err);
  /* map[a][k]: the index in the old axis a of the new axis's value k, or -1 */
  long **map = calloc(g->n_axes, sizeof *map);
  unsigned char *done = calloc(old_g->n_points ? old_g->n_points : 1, 1);
  if (!st && (!map || !done)) st = rc_error_set(err, RC_ENOMEM, "out of memory");
  for (size_t a = 0; !st && a < g->n_axes; a++) {
    map[a] = malloc(g->axes[a].n_values * sizeof *map[a]);
    if (!map[a]) {
      st = rc_error_set(err, RC_ENOMEM, "out of memory");
      break;
    }
    for (size_t k = 0; k < g->axes[a].n_values; k++) {
      map[a][k] = -1;
      for (size_t j = 0; j < old_g->axes[a].n_values && map[a][k] < 0; j++)
        if (!strcmp(old_g->axes[a].values[j], g->axes[a].values[k])) map[a][k] = (long)j;
    }
  }
  if (!st) st = rc_sweep_scan_records(dir, old_g->n_points, done, err);
  for (size_t p = 0; !st && p < g->n_points; p++) {
    /* the old point with p's values: digits of p in the new axes' sizes, mapped, recombined */
    size_t rest = p, q = 0, stride = 1;
    int found = 1;
    for (size_t a = g->n_axes; a-- > 0;) {
      long j = map[a][rest % g->axes[a].n_values];
      rest /= g->axes[a].n_values;
      if (j < 0) found = 0;
      else q += (size_t)j * stride;
      stride *= old_g->axes[a].n_values;
    }
    if (!found || !done[q]) continue;
    json_t *rec = NULL;
    st = rc_sweep_record_read(dir, old_g, q, &rec, err);
    if (st) break;
    json_object_set_new(rec, "point", json_integer((json_int_t)p));
    st = rc_sweep_record_store(tmp, p, rec, err);
    json_decref(rec);
    snprintf(from, sizeof from, "%s/points/%zu", dir, q);
    snprintf(to, sizeof to, "%s/points/%zu", tmp, p);
    if (!st) st = link_run_files(from, to, dir, q, p, err);
    if (!st) (*reused)++;
  }
  for (size_t a = 0; map && a < g->n_axes; a++) free(map[a]);
  free(map);
  free(done);
  snprintf(path, sizeof path, "%s/manifest.json", tmp);
  if (!st) st = rc_json_write_file(new_manifest, path, err);
  /* the old grid's sweep.csv: a directory never holds one that disagrees with its manifest */
  snprintf(path, sizeof path, "%s/sweep.csv", dir);
  if (!st && unlink(path) != 0 && errno != ENOENT)
    st = rc_error_set(err, RC_EIO, "cannot remove '%s': %s", path, strerror(errno));
  snprintf(from, sizeof from, "%s/points", dir);
  snprintf(to, sizeof to, "%s/.grow.old", dir);
  if (!st) st = move(from, to, err); /* the commit point: from here on, recovery completes the growth */
  if (!st) st = rc_sweep_grow_recover(dir, err);
  if (st) {
    rc_error scratch;
    rc_sweep_grow_recover(dir, &scratch); /* undo a partial new tree, or finish a committed growth */
  }
  return st;
}
