/* test_sweep.c: the sweep grid (sweep.h): value lists and ranges expanded by
 * hand, row-major point order, every malformed axis rejected with a message
 * naming it; records, the manifest comparison and sweep.csv (quoting, nulls,
 * failed points, point order) on a hand-built directory; log-spaced ranges;
 * growing a sweep in place (containment, renumbered records, recovery). */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repcollapse/report.h"
#include "repcollapse/sweep.h"
#include "testutil.h"

static void expect_values(const rc_sweep_axis *ax, const char *const *want, size_t n) {
  assert_int_equal(ax->n_values, n);
  for (size_t k = 0; k < n; k++) assert_string_equal(ax->values[k], want[k]);
}

static void ranges_and_lists(void **state) {
  (void)state;
  rc_sweep_grid g;
  rc_error err;
  assert_int_equal(rc_sweep_grid_parse("frustration=0:0.2:21;seed=1:10;model=siam,siam-sg", &g, &err), RC_OK);
  assert_int_equal(g.n_axes, 3);
  assert_string_equal(g.axes[0].name, "frustration");
  assert_int_equal(g.axes[0].n_values, 21);
  /* k * 0.01 printed as written, ends exact */
  const char *f[] = {"0", "0.01", "0.02", "0.03"};
  for (size_t k = 0; k < 4; k++) assert_string_equal(g.axes[0].values[k], f[k]);
  assert_string_equal(g.axes[0].values[7], "0.07");
  assert_string_equal(g.axes[0].values[20], "0.2");
  const char *seeds[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"};
  expect_values(&g.axes[1], seeds, 10);
  const char *models[] = {"siam", "siam-sg"};
  expect_values(&g.axes[2], models, 2);
  assert_int_equal(g.n_points, 21 * 10 * 2);
  /* row-major: the last axis fastest */
  assert_string_equal(rc_sweep_point_value(&g, 0, 0), "0");
  assert_string_equal(rc_sweep_point_value(&g, 0, 2), "siam");
  assert_string_equal(rc_sweep_point_value(&g, 1, 2), "siam-sg");
  assert_string_equal(rc_sweep_point_value(&g, 1, 1), "1");
  assert_string_equal(rc_sweep_point_value(&g, 2, 1), "2");
  assert_string_equal(rc_sweep_point_value(&g, 20, 0), "0.01");
  assert_string_equal(rc_sweep_point_value(&g, 20, 1), "1");
  assert_string_equal(rc_sweep_point_value(&g, 419, 0), "0.2");
  assert_string_equal(rc_sweep_point_value(&g, 419, 1), "10");
  assert_string_equal(rc_sweep_point_value(&g, 419, 2), "siam-sg");
  char desc[128];
  rc_sweep_point_describe(&g, 23, desc, sizeof desc);
  assert_string_equal(desc, "frustration=0.01, seed=2, model=siam-sg");
  rc_sweep_grid_free(&g);

  /* blanks, a leading --, literal | lists (commas and colons kept), negative and one-value ranges */
  assert_int_equal(rc_sweep_grid_parse(" --per-class = 50,80 | 100 ; frustrated=0-1:8|0-1:16 ; eta-x=-1:1:3;dim=4:4:1;seed=-2:-1;",
                                       &g, &err), RC_OK);
  const char *pc[] = {"50,80", "100"}, *fr[] = {"0-1:8", "0-1:16"}, *ex[] = {"-1", "0", "1"}, *dm[] = {"4"},
             *sd[] = {"-2", "-1"};
  assert_string_equal(g.axes[0].name, "per-class");
  expect_values(&g.axes[0], pc, 2);
  expect_values(&g.axes[1], fr, 2);
  expect_values(&g.axes[2], ex, 3);
  expect_values(&g.axes[3], dm, 1);
  expect_values(&g.axes[4], sd, 2);
  assert_int_equal(g.n_points, 2 * 2 * 3 * 1 * 2);
  rc_sweep_grid_free(&g);

  /* log-spaced ranges a:b:n:log = a (b/a)^(k/(n-1)): decades, square roots of 10, ends exact */
  assert_int_equal(rc_sweep_grid_parse("eta-head=1:1000:4:log;t-end=1:100:5:log;dt=0.5:2:3:log;eps=0.3:0.3:1:log", &g, &err),
                   RC_OK);
  const char *eh[] = {"1", "10", "100", "1000"}, *tl[] = {"1", "3.16227766016838", "10", "31.6227766016838", "100"},
             *dl[] = {"0.5", "1", "2"}, *el[] = {"0.3"};
  expect_values(&g.axes[0], eh, 4);
  expect_values(&g.axes[1], tl, 5);
  expect_values(&g.axes[2], dl, 3);
  expect_values(&g.axes[3], el, 1);
  /* descending, and over the whole double range: every value finite, between the ends */
  rc_sweep_grid_free(&g);
  assert_int_equal(rc_sweep_grid_parse("eta-head=1000:1:4:log;sigma=1e-300:1e300:3:log", &g, &err), RC_OK);
  const char *ed[] = {"1000", "100", "10", "1"}, *wide[] = {"1e-300", "1", "1e+300"};
  expect_values(&g.axes[0], ed, 4);
  expect_values(&g.axes[1], wide, 3);
  rc_sweep_grid_free(&g);

  assert_int_equal(rc_sweep_grid_parse("t-end=1e3,2.5e3", &g, &err), RC_OK);
  const char *te[] = {"1e3", "2.5e3"};
  expect_values(&g.axes[0], te, 2);
  rc_sweep_grid_free(&g);
}

static void bad_grids(void **state) {
  (void)state;
  static const struct {
    const char *spec, *msg;
  } cases[] = {
      {"", "no axes"},
      {"  ", "no axes"},
      {";", "empty axis"},
      {"seed=1;;dim=2", "empty axis"},
      {"seed", "axis 'seed': expected NAME=VALUES"},
      {"=1,2", "malformed name"},
      {"Seed=1", "axis 'Seed': malformed name"},
      {"seed=", "axis 'seed': no values"},
      {"seed=1;seed=2", "axis 'seed' is given twice"},
      {"seed=1;--seed=2", "axis 'seed' is given twice"},
      {"seed=5:1", "axis 'seed': empty range '5:1'"},
      {"frustration=0:1:0", "axis 'frustration': empty range"},
      {"frustration=0:1:1", "axis 'frustration': range '0:1:1' has one value"},
      {"frustration=0:1:-3", "axis 'frustration': malformed range"},
      {"frustration=0:x:3", "axis 'frustration': malformed range"},
      {"frustration=0:1:2.5", "axis 'frustration': malformed range"},
      {"seed=1.5:3", "axis 'seed': malformed range"},
      {"seed=1:2:3:4", "axis 'seed': malformed range"},
      {"seed=:3", "axis 'seed': malformed range"},
      {"frustration=0:inf:3", "axis 'frustration': malformed range"},
      {"eta-head=0:1:3:log", "axis 'eta-head': log range '0:1:3:log' needs a > 0 and b > 0"},
      {"eta-head=1:0:3:log", "needs a > 0 and b > 0"},
      {"eta-head=-1:-10:3:log", "needs a > 0 and b > 0"},
      {"eta-head=1:10:3:lin", "axis 'eta-head': malformed range"},
      {"eta-head=1:10:3:LOG", "malformed range"},
      {"eta-head=1:x:3:log", "malformed range '1:x:3:log' (expected a:b:n:log"},
      {"eta-head=1:10:0:log", "empty range"},
      {"eta-head=1:10:1:log", "has one value but two different ends"},
      {"eta-head=1:10:3:log:log", "malformed range"},
      {"eta-head=1:10:2000000:log", "too long"},
      {"model=siam,,siam-sg", "axis 'model': empty value"},
      {"model=siam,", "axis 'model': empty value"},
      {"per-class=5||6", "axis 'per-class': empty value"},
      {"seed=1:10000;dim=1:10000", "more than"},
      {"seed=0:10000000", "axis 'seed': range '0:10000000' is too long"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    rc_sweep_grid g;
    rc_error err;
    rc_error_clear(&err);
    rc_status st = rc_sweep_grid_parse(cases[k].spec, &g, &err);
    if (st != RC_EINVAL || !strstr(err.msg, cases[k].msg))
      fail_msg("grid '%s': status %d, message '%s' (want '%s')", cases[k].spec, st, err.msg, cases[k].msg);
    assert_int_equal(g.n_axes, 0);
    assert_null(g.axes);
  }
}

static char *slurp(const char *path) {
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, fp);
  buf[n] = '\0';
  fclose(fp);
  return buf;
}

static void records_and_csv(void **state) {
  (void)state;
  char dir[] = "/tmp/rc_test_sweep_XXXXXX", path[256];
  assert_non_null(mkdtemp(dir));
  rc_error err;
  rc_sweep_grid g;
  assert_int_equal(rc_sweep_grid_parse("per-class=5,8|7;terms=Px-y|0.5*Px-\"y\"", &g, &err), RC_OK);
  snprintf(path, sizeof path, "%s/points", dir);
  assert_int_equal(rc_mkdir_p(path, &err), RC_OK);
  const size_t nc = rc_sweep_n_columns();
  double *v = malloc(nc * sizeof *v);
  for (size_t k = 0; k < nc; k++) v[k] = 0.1 * (double)k;
  v[1] = NAN;    /* a null cell */
  v[2] = 1e300;  /* full precision */
  v[3] = 1.0 / 3.0;
  /* written out of order, as parallel workers do */
  assert_int_equal(rc_sweep_record_write(dir, &g, 3, v, NULL, &err), RC_OK);
  assert_int_equal(rc_sweep_record_write(dir, &g, 1, NULL, "gd step, unstable", &err), RC_OK);
  assert_int_equal(rc_sweep_record_write(dir, &g, 0, v, NULL, &err), RC_OK);
  size_t n_failed, first_failed;
  /* point 2 has no record yet: no sweep.csv */
  assert_int_equal(rc_sweep_write_csv(dir, &g, 0, 0, &n_failed, &first_failed, &err), RC_EIO);
  assert_non_null(strstr(err.msg, "points/2.json"));
  snprintf(path, sizeof path, "%s/sweep.csv", dir);
  assert_int_equal(access(path, F_OK), -1);
  /* a temporary of a killed writer is no record, and is removed */
  snprintf(path, sizeof path, "%s/points/2.json.tmp.99999", dir);
  FILE *fp = fopen(path, "w");
  fputs("{\"point\":", fp);
  fclose(fp);
  unsigned char done[4];
  assert_int_equal(rc_sweep_scan_records(dir, 4, done, &err), RC_OK);
  assert_true(done[0] && done[1] && !done[2] && done[3]);
  snprintf(path, sizeof path, "%s/points", dir);
  rc_sweep_remove_temporaries(path);
  snprintf(path, sizeof path, "%s/points/2.json.tmp.99999", dir);
  assert_int_equal(access(path, F_OK), -1);
  assert_int_equal(rc_sweep_record_write(dir, &g, 2, v, NULL, &err), RC_OK);

  /* shard 2 of 2: points 1 and 3 */
  assert_int_equal(rc_sweep_write_csv(dir, &g, 2, 2, &n_failed, &first_failed, &err), RC_OK);
  assert_int_equal(n_failed, 1);
  assert_int_equal(first_failed, 1);
  snprintf(path, sizeof path, "%s/sweep.csv", dir);
  char *csv = slurp(path);
  char name[96];
  char want[4096] = "point,per-class,terms";
  for (size_t k = 0; k < nc; k++) {
    strcat(want, ",");
    strcat(want, rc_sweep_column_name(k, name, sizeof name));
  }
  strcat(want, ",error\n");
  size_t header = strlen(want);
  assert_int_equal(strncmp(csv, want, header), 0);
  const char *rows = csv + header;
  /* point 1: "5,8" quoted, the quote in the terms doubled, no values, the error */
  char row1[1024] = "1,\"5,8\",\"0.5*Px-\"\"y\"\"\"";
  for (size_t k = 0; k < nc; k++) strcat(row1, ",");
  strcat(row1, ",\"gd step, unstable\"\n");
  assert_int_equal(strncmp(rows, row1, strlen(row1)), 0);
  const char *row3 = rows + strlen(row1);
  const char *want3 = "3,7,\"0.5*Px-\"\"y\"\"\",0,,1.0000000000000001e+300,0.33333333333333331,0.40000000000000002,";
  assert_int_equal(strncmp(row3, want3, strlen(want3)), 0);
  assert_int_equal(row3[strlen(row3) - 1], '\n');
  assert_int_equal(row3[strlen(row3) - 2], ','); /* empty error */
  assert_int_equal(*(strchr(row3, '\n') + 1), '\0'); /* no other row */

  /* the whole grid, in point order */
  assert_int_equal(rc_sweep_write_csv(dir, &g, 0, 0, &n_failed, &first_failed, &err), RC_OK);
  csv = slurp(path);
  const char *p = csv;
  for (int line = 0; line < 5; line++) {
    if (line) assert_int_equal(*p - '0', line - 1);
    p = strchr(p, '\n') + 1;
  }
  assert_int_equal(*p, '\0');

  /* a record under the wrong number, or of another grid, is refused */
  json_t *rec;
  assert_int_equal(rc_sweep_record_read(dir, &g, 2, &rec, &err), RC_OK);
  assert_int_equal(rc_sweep_record_store(dir, 0, rec, &err), RC_OK);
  json_decref(rec);
  assert_int_equal(rc_sweep_record_read(dir, &g, 0, &rec, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "not the record of point 0"));
  assert_int_equal(rc_sweep_write_csv(dir, &g, 0, 0, &n_failed, &first_failed, &err), RC_EINVAL);

  /* manifests: same grid and options agree; any change is named */
  char *fixed[] = {"--classes", "2", "--dim=4"};
  json_t *m1 = rc_sweep_manifest(&g, fixed, 3, 0, 0), *m2 = rc_sweep_manifest(&g, fixed, 3, 0, 0);
  assert_null(rc_sweep_manifest_differs(m1, m2, 1));
  json_t *m3 = rc_sweep_manifest(&g, fixed, 2, 0, 0), *m4 = rc_sweep_manifest(&g, fixed, 3, 1, 2);
  assert_string_equal(rc_sweep_manifest_differs(m1, m3, 1), "fixed options");
  assert_string_equal(rc_sweep_manifest_differs(m1, m4, 1), "shard");
  assert_null(rc_sweep_manifest_differs(m1, m4, 0));
  rc_sweep_grid g2;
  assert_int_equal(rc_sweep_grid_parse("per-class=5,8|7;terms=Px-y", &g2, &err), RC_OK);
  json_t *m5 = rc_sweep_manifest(&g2, fixed, 3, 0, 0);
  assert_string_equal(rc_sweep_manifest_differs(m1, m5, 1), "grid");
  rc_sweep_grid g3;
  assert_int_equal(rc_sweep_manifest_grid(m1, &g3, &err), RC_OK);
  assert_int_equal(g3.n_points, g.n_points);
  for (size_t a = 0; a < g.n_axes; a++) {
    assert_string_equal(g3.axes[a].name, g.axes[a].name);
    expect_values(&g3.axes[a], (const char *const *)g.axes[a].values, g.axes[a].n_values);
  }
  json_decref(m1);
  json_decref(m2);
  json_decref(m3);
  json_decref(m4);
  json_decref(m5);
  rc_sweep_grid_free(&g3);
  rc_sweep_grid_free(&g2);
  rc_sweep_grid_free(&g);
  free(v);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void shards_partition(void **state) {
  (void)state;
  /* every point in exactly one of N shards */
  for (size_t n = 1; n <= 5; n++)
    for (size_t p = 0; p < 23; p++) {
      size_t hits = 0;
      for (size_t i = 1; i <= n; i++) hits += (size_t)rc_sweep_in_shard(p, i, n);
      assert_int_equal(hits, 1);
    }
  assert_true(rc_sweep_in_shard(7, 0, 0));
}

static int path_exists(const char *dir, const char *rel) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  return access(path, F_OK) == 0;
}

static void touch(const char *dir, const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

/* Growing a sweep: containment by hand; records renumbered and run files
 * linked; an interrupted growth undone before its commit point and completed
 * after it. */
static void grow_in_place(void **state) {
  (void)state;
  rc_error err;
  rc_sweep_grid small, big, other;
  char why[200];
  assert_int_equal(rc_sweep_grid_parse("f=0.1,0.2;seed=1:2", &small, &err), RC_OK);
  assert_int_equal(rc_sweep_grid_parse("f=0,0.1,0.2;seed=0:2", &big, &err), RC_OK);
  assert_null(rc_sweep_grid_contains(&big, &small, why, sizeof why));
  assert_null(rc_sweep_grid_contains(&small, &small, why, sizeof why));
  assert_non_null(rc_sweep_grid_contains(&small, &big, why, sizeof why));
  assert_string_equal(why, "axis 'f' has no value '0'");
  /* refining a range keeps its values: 0:0.2:3 within 0:0.2:5, 1:100:3:log within 1:100:5:log */
  rc_sweep_grid fine, coarse;
  assert_int_equal(rc_sweep_grid_parse("f=0:0.2:5;eta-head=1:100:5:log", &fine, &err), RC_OK);
  assert_int_equal(rc_sweep_grid_parse("f=0:0.2:3;eta-head=1:100:3:log", &coarse, &err), RC_OK);
  assert_null(rc_sweep_grid_contains(&fine, &coarse, why, sizeof why));
  assert_non_null(rc_sweep_grid_contains(&coarse, &fine, why, sizeof why));
  rc_sweep_grid_free(&fine);
  rc_sweep_grid_free(&coarse);
  assert_int_equal(rc_sweep_grid_parse("seed=0:2;f=0,0.1,0.2", &other, &err), RC_OK);
  assert_non_null(rc_sweep_grid_contains(&other, &small, why, sizeof why));
  assert_string_equal(why, "axis 1 is 'seed', not 'f'");
  rc_sweep_grid_free(&other);
  assert_int_equal(rc_sweep_grid_parse("f=0,0.1,0.2", &other, &err), RC_OK);
  assert_non_null(rc_sweep_grid_contains(&other, &small, why, sizeof why));
  assert_string_equal(why, "1 axes, not 2");
  rc_sweep_grid_free(&other);

  char dir[] = "/tmp/rc_test_grow_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[512];
  snprintf(path, sizeof path, "%s/points", dir);
  assert_int_equal(rc_mkdir_p(path, &err), RC_OK);
  const size_t nc = rc_sweep_n_columns();
  double *v = calloc(nc, sizeof *v);
  /* small: points 0 (0.1, 1), 1 (0.1, 2), 2 (0.2, 1), 3 (0.2, 2); 3 unfinished (a partial run directory) */
  for (size_t p = 0; p < 3; p++) {
    v[0] = (double)(p + 10);
    assert_int_equal(rc_sweep_record_write(dir, &small, p, p == 2 ? NULL : v, "failed run", &err), RC_OK);
    snprintf(path, sizeof path, "%s/points/%zu", dir, p);
    assert_int_equal(rc_mkdir_p(path, &err), RC_OK);
    char rel[64], text[32];
    snprintf(rel, sizeof rel, "points/%zu/metrics.csv", p);
    snprintf(text, sizeof text, "run %zu\n", p);
    touch(dir, rel, text);
  }
  assert_int_equal(rc_mkdir_p(strcat(strcpy(path, dir), "/points/3"), &err), RC_OK);
  touch(dir, "points/3/metrics.csv.tmp.123", "partial");
  touch(dir, "sweep.csv", "old\n");
  char *fixed[] = {"--classes", "2"};
  json_t *m_small = rc_sweep_manifest(&small, fixed, 2, 0, 0), *m_big = rc_sweep_manifest(&big, fixed, 2, 0, 0);
  assert_int_equal(rc_json_write_file(m_small, strcat(strcpy(path, dir), "/manifest.json"), &err), RC_OK);

  size_t reused = 99;
  assert_int_equal(rc_sweep_grow(dir, &small, &big, m_big, &reused, &err), RC_OK);
  assert_int_equal(reused, 3);
  /* big: point = 3 * index(f) + index(seed); old 0 -> 4, 1 -> 5, 2 -> 7 */
  const size_t moved[3] = {4, 5, 7};
  unsigned char done[9];
  assert_int_equal(rc_sweep_scan_records(dir, 9, done, &err), RC_OK);
  for (size_t p = 0; p < 9; p++) assert_int_equal(done[p], p == 4 || p == 5 || p == 7);
  for (size_t q = 0; q < 3; q++) {
    json_t *rec;
    assert_int_equal(rc_sweep_record_read(dir, &big, moved[q], &rec, &err), RC_OK);
    if (q == 2) assert_string_equal(json_string_value(json_object_get(rec, "error")), "failed run");
    else assert_true(json_number_value(json_object_get(json_object_get(rec, "values"), "n_samples")) == (double)(q + 10));
    json_decref(rec);
    char rel[64], want[32];
    snprintf(rel, sizeof rel, "%s/points/%zu/metrics.csv", dir, moved[q]);
    snprintf(want, sizeof want, "run %zu\n", q);
    assert_string_equal(slurp(rel), want);
  }
  assert_false(path_exists(dir, "points/8"));
  assert_false(path_exists(dir, "sweep.csv"));
  assert_false(path_exists(dir, ".grow.tmp"));
  assert_false(path_exists(dir, ".grow.old"));
  json_error_t je;
  json_t *m_now = json_load_file(strcat(strcpy(path, dir), "/manifest.json"), 0, &je);
  assert_null(rc_sweep_manifest_differs(m_now, m_big, 1));
  json_decref(m_now);

  /* killed while building the new tree (before the commit point): undone */
  assert_int_equal(rc_mkdir_p(strcat(strcpy(path, dir), "/.grow.tmp/points/3"), &err), RC_OK);
  touch(dir, ".grow.tmp/points/3.json", "{}");
  assert_int_equal(rc_sweep_grow_recover(dir, &err), RC_OK);
  assert_false(path_exists(dir, ".grow.tmp"));
  assert_true(path_exists(dir, "points/4.json"));
  assert_false(path_exists(dir, "points/3.json"));

  /* killed between the renames (after the commit point): completed */
  char from[512], to[512];
  snprintf(from, sizeof from, "%s/points", dir);
  snprintf(to, sizeof to, "%s/.grow.old", dir);
  assert_int_equal(rename(from, to), 0);
  assert_int_equal(rc_mkdir_p(strcat(strcpy(path, dir), "/.grow.tmp/points"), &err), RC_OK);
  touch(dir, ".grow.tmp/points/6.json", "{}");
  touch(dir, ".grow.tmp/manifest.json", "{\"new\": 1}\n");
  assert_int_equal(rc_sweep_grow_recover(dir, &err), RC_OK);
  assert_true(path_exists(dir, "points/6.json"));
  assert_false(path_exists(dir, "points/4.json"));
  assert_string_equal(slurp(strcat(strcpy(path, dir), "/manifest.json")), "{\"new\": 1}\n");
  assert_false(path_exists(dir, ".grow.tmp"));
  assert_false(path_exists(dir, ".grow.old"));
  /* ... also when the new points/ was already in place */
  assert_int_equal(rc_mkdir_p(strcat(strcpy(path, dir), "/.grow.old/points/1"), &err), RC_OK);
  assert_int_equal(rc_mkdir_p(strcat(strcpy(path, dir), "/.grow.tmp"), &err), RC_OK);
  touch(dir, ".grow.tmp/manifest.json", "{\"newer\": 1}\n");
  assert_int_equal(rc_sweep_grow_recover(dir, &err), RC_OK);
  assert_true(path_exists(dir, "points/6.json"));
  assert_string_equal(slurp(strcat(strcpy(path, dir), "/manifest.json")), "{\"newer\": 1}\n");
  assert_false(path_exists(dir, ".grow.old"));
  /* nothing to recover: nothing changes */
  assert_int_equal(rc_sweep_grow_recover(dir, &err), RC_OK);
  assert_true(path_exists(dir, "points/6.json"));

  json_decref(m_small);
  json_decref(m_big);
  free(v);
  rc_sweep_grid_free(&small);
  rc_sweep_grid_free(&big);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ranges_and_lists),
      cmocka_unit_test(bad_grids),
      cmocka_unit_test(records_and_csv),
      cmocka_unit_test(shards_partition),
      cmocka_unit_test(grow_in_place),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
