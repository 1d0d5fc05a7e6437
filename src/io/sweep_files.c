/* sweep_files.c: the files of a sweep (sweep.h): one record per finished
 * point (DIR/points/<index>.json), the manifest that ties a directory to one
 * grid and one set of fixed options, and sweep.csv assembled from the
 * records in point order. Every file is written atomically (io.h), so a
 * record either exists whole or not at all. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/input.h"
#include "repcollapse/io.h"
#include "repcollapse/repcollapse.h"
#include "repcollapse/report.h"
#include "repcollapse/sweep.h"

#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

static rc_status write_json(const char *path, json_t *j, rc_error *err) {
  rc_atomic_file f;
  rc_status st = rc_atomic_open(&f, path, err);
  if (st) return st;
  if (json_dumpf(j, f.fp, JSON_FLAGS) != 0) {
    rc_atomic_abort(&f);
    return rc_error_set(err, RC_EIO, "cannot write '%s'", path);
  }
  fputc('\n', f.fp);
  return rc_atomic_commit(&f, err);
}

rc_status rc_sweep_record_store(const char *dir, size_t p, json_t *rec, rc_error *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/points/%zu.json", dir, p);
  return write_json(path, rec, err);
}

rc_status rc_sweep_record_write(const char *dir, const rc_sweep_grid *g, size_t p, const double *values,
                                const char *error, rc_error *err) {
  json_t *rec = json_object(), *params = json_object();
  json_object_set_new(rec, "point", json_integer((json_int_t)p));
  for (size_t a = 0; a < g->n_axes; a++)
    json_object_set_new(params, g->axes[a].name, json_string(rc_sweep_point_value(g, p, a)));
  json_object_set_new(rec, "params", params);
  if (values) {
    json_t *v = json_object();
    char name[96];
    for (size_t k = 0; k < rc_sweep_n_columns(); k++)
      json_object_set_new(v, rc_sweep_column_name(k, name, sizeof name), rc_json_number(values[k]));
    json_object_set_new(rec, "values", v);
    json_object_set_new(rec, "error", json_null());
  } else {
    json_object_set_new(rec, "values", json_null());
    json_object_set_new(rec, "error", json_string(error ? error : "failed"));
  }
  rc_status st = rc_sweep_record_store(dir, p, rec, err);
  json_decref(rec);
  return st;
}

rc_status rc_sweep_record_read(const char *dir, const rc_sweep_grid *g, size_t p, json_t **out, rc_error *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/points/%zu.json", dir, p);
  *out = NULL;
  json_error_t je;
  json_t *rec = rc_input_json_load(path, 0, &je);
  if (!rec) return rc_error_set(err, RC_EIO, "cannot read record '%s': %s", path, je.text);
  json_t *pt = json_object_get(rec, "point"), *params = json_object_get(rec, "params");
  json_t *values = json_object_get(rec, "values"), *error = json_object_get(rec, "error");
  int ok = json_is_integer(pt) && (size_t)json_integer_value(pt) == p && json_is_object(params) &&
           json_object_size(params) == g->n_axes && (json_is_object(values) || json_is_null(values)) &&
           (json_is_string(error) || json_is_null(error)) && json_is_null(values) != json_is_null(error);
  for (size_t a = 0; ok && a < g->n_axes; a++) {
    json_t *v = json_object_get(params, g->axes[a].name);
    ok = json_is_string(v) && !strcmp(json_string_value(v), rc_sweep_point_value(g, p, a));
  }
  if (!ok) {
    json_decref(rec);
    return rc_error_set(err, RC_EINVAL, "record '%s' is not the record of point %zu of this grid", path, p);
  }
  *out = rec;
  return RC_OK;
}

/* "<digits>.json" -> index */
static int record_index(const char *name, size_t *p) {
  const char *q = name;
  size_t v = 0;
  if (*q < '0' || *q > '9') return 0;
  for (; *q >= '0' && *q <= '9'; q++) {
    if (v > (SIZE_MAX - 9) / 10) return 0;
    v = 10 * v + (size_t)(*q - '0');
  }
  if (strcmp(q, ".json") != 0) return 0;
  *p = v;
  return 1;
}

rc_status rc_sweep_scan_records(const char *dir, size_t n_points, unsigned char *done, rc_error *err) {
  memset(done, 0, n_points);
  char path[4200];
  snprintf(path, sizeof path, "%s/points", dir);
  DIR *d = opendir(path);
  if (!d) return errno == ENOENT ? RC_OK : rc_error_set(err, RC_EIO, "cannot read directory '%s': %s", path, strerror(errno));
  struct dirent *e;
  size_t p;
  while ((e = readdir(d)))
    if (record_index(e->d_name, &p) && p < n_points) done[p] = 1;
  closedir(d);
  return RC_OK;
}

void rc_sweep_remove_temporaries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[4400];
  while ((e = readdir(d))) {
    if (!strstr(e->d_name, ".tmp.")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
}

/* ---- manifest ---- */

json_t *rc_sweep_manifest(const rc_sweep_grid *g, char *const *fixed, size_t n_fixed, size_t shard_i, size_t shard_n) {
  json_t *m = json_object(), *axes = json_array(), *fx = json_array();
  json_object_set_new(m, "format", json_string("repcollapse sweep 1"));
  for (size_t a = 0; a < g->n_axes; a++) {
    json_t *ax = json_object(), *vals = json_array();
    json_object_set_new(ax, "name", json_string(g->axes[a].name));
    for (size_t k = 0; k < g->axes[a].n_values; k++) json_array_append_new(vals, json_string(g->axes[a].values[k]));
    json_object_set_new(ax, "values", vals);
    json_array_append_new(axes, ax);
  }
  json_object_set_new(m, "axes", axes);
  for (size_t k = 0; k < n_fixed; k++) json_array_append_new(fx, json_string(fixed[k]));
  json_object_set_new(m, "fixed", fx);
  json_object_set_new(m, "n_points", json_integer((json_int_t)g->n_points));
  if (shard_n) {
    char buf[64];
    snprintf(buf, sizeof buf, "%zu/%zu", shard_i, shard_n);
    json_object_set_new(m, "shard", json_string(buf));
  } else {
    json_object_set_new(m, "shard", json_null());
  }
  json_t *tool = json_object();
  json_object_set_new(tool, "version", json_string(rc_version()));
  json_object_set_new(tool, "commit", json_string(rc_source_commit()));
  json_object_set_new(m, "tool", tool);
  return m;
}

const char *rc_sweep_manifest_differs(json_t *a, json_t *b, int check_shard) {
  if (!json_equal(json_object_get(a, "format"), json_object_get(b, "format"))) return "format";
  if (!json_equal(json_object_get(a, "axes"), json_object_get(b, "axes"))) return "grid";
  if (!json_equal(json_object_get(a, "fixed"), json_object_get(b, "fixed"))) return "fixed options";
  if (check_shard && !json_equal(json_object_get(a, "shard"), json_object_get(b, "shard"))) return "shard";
  return NULL;
}

rc_status rc_sweep_manifest_grid(json_t *m, rc_sweep_grid *g, rc_error *err) {
  memset(g, 0, sizeof *g);
  json_t *axes = json_object_get(m, "axes");
  if (!json_is_array(axes) || json_array_size(axes) == 0) return rc_error_set(err, RC_EINVAL, "manifest without axes");
  g->axes = calloc(json_array_size(axes), sizeof *g->axes);
  if (!g->axes) return rc_error_set(err, RC_ENOMEM, "manifest: out of memory");
  g->n_points = 1;
  size_t i;
  json_t *ax;
  json_array_foreach(axes, i, ax) {
    json_t *name = json_object_get(ax, "name"), *vals = json_object_get(ax, "values");
    if (!json_is_string(name) || !json_is_array(vals) || json_array_size(vals) == 0 ||
        json_array_size(vals) > RC_SWEEP_MAX_POINTS / g->n_points) {
      rc_sweep_grid_free(g);
      return rc_error_set(err, RC_EINVAL, "manifest: malformed axis %zu", i);
    }
    rc_sweep_axis *a = &g->axes[g->n_axes++];
    a->name = strdup(json_string_value(name));
    a->values = calloc(json_array_size(vals), sizeof *a->values);
    size_t k;
    json_t *v;
    int ok = a->name && a->values;
    json_array_foreach(vals, k, v) {
      if (!ok) break;
      ok = json_is_string(v) && (a->values[a->n_values++] = strdup(json_string_value(v))) != NULL;
    }
    g->n_points *= a->n_values;
    if (!ok) {
      rc_sweep_grid_free(g);
      return rc_error_set(err, RC_EINVAL, "manifest: malformed axis %zu", i);
    }
  }
  json_t *np = json_object_get(m, "n_points");
  if (!json_is_integer(np) || (size_t)json_integer_value(np) != g->n_points) {
    rc_sweep_grid_free(g);
    return rc_error_set(err, RC_EINVAL, "manifest: n_points disagrees with the axes");
  }
  return RC_OK;
}

/* ---- sweep.csv ---- */

/* A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_field(FILE *fp, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, fp);
    return;
  }
  fputc('"', fp);
  for (const char *p = s; *p; p++) {
    if (*p == '"') fputc('"', fp);
    fputc(*p, fp);
  }
  fputc('"', fp);
}

rc_status rc_sweep_write_csv(const char *dir, const rc_sweep_grid *g, size_t shard_i, size_t shard_n,
                             size_t *n_failed, size_t *first_failed, rc_error *err) {
  char path[4200], name[96];
  *n_failed = 0;
  *first_failed = 0;
  snprintf(path, sizeof path, "%s/sweep.csv", dir);
  rc_atomic_file f;
  rc_status st = rc_atomic_open(&f, path, err);
  if (st) return st;
  const size_t nc = rc_sweep_n_columns();
  fputs("point", f.fp);
  for (size_t a = 0; a < g->n_axes; a++) {
    fputc(',', f.fp);
    csv_field(f.fp, g->axes[a].name);
  }
  for (size_t k = 0; k < nc; k++) fprintf(f.fp, ",%s", rc_sweep_column_name(k, name, sizeof name));
  fputs(",error\n", f.fp);
  for (size_t p = 0; p < g->n_points && !st; p++) {
    if (!rc_sweep_in_shard(p, shard_i, shard_n)) continue;
    json_t *rec;
    st = rc_sweep_record_read(dir, g, p, &rec, err);
    if (st) break;
    json_t *values = json_object_get(rec, "values"), *error = json_object_get(rec, "error");
    fprintf(f.fp, "%zu", p);
    for (size_t a = 0; a < g->n_axes; a++) {
      fputc(',', f.fp);
      csv_field(f.fp, rc_sweep_point_value(g, p, a));
    }
    for (size_t k = 0; k < nc && !st; k++) {
      fputc(',', f.fp);
      if (json_is_null(values)) continue;
      json_t *v = json_object_get(values, rc_sweep_column_name(k, name, sizeof name));
      if (json_is_number(v)) fprintf(f.fp, "%.17g", json_number_value(v));
      else if (!json_is_null(v))
        st = rc_error_set(err, RC_EINVAL, "record '%s/points/%zu.json' has no column '%s' (written by another version?)",
                          dir, p, name);
    }
    fputc(',', f.fp);
    if (json_is_string(error)) {
      csv_field(f.fp, json_string_value(error));
      if ((*n_failed)++ == 0) *first_failed = p;
    }
    fputc('\n', f.fp);
    json_decref(rec);
  }
  if (st) {
    rc_atomic_abort(&f);
    return st;
  }
  return rc_atomic_commit(&f, err);
}
