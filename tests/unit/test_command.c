/* test_command.c: the library's entry point (command.h): a command's stdout
 * delivered to the caller, the CLI's one-line errors in rc_error (nothing
 * printed), flags as true/false, cancellation from the progress callback
 * (RC_ECANCELLED, no summary.json, no temporaries, the library usable after
 * it), and a sweep that runs in this process without forking. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "repcollapse/command.h"
#include "testutil.h"

typedef struct {
  char buf[1 << 16];
  size_t n;
} text;

static size_t collect(const char *data, size_t n, void *ctx) {
  text *t = ctx;
  size_t room = sizeof t->buf - 1 - t->n, m = n < room ? n : room;
  memcpy(t->buf + t->n, data, m);
  t->n += m;
  t->buf[t->n] = '\0';
  return n;
}

typedef struct {
  int calls, cancel_at;
  double last;
} counter;

static int count(double fraction, void *ctx) {
  counter *c = ctx;
  c->calls++;
  c->last = fraction;
  return c->cancel_at && c->calls >= c->cancel_at;
}

static char tmpdir[256];

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/rc_command_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd);
}

static int exists(const char *dir, const char *name) {
  char p[600];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  struct stat sb;
  return stat(p, &sb) == 0;
}

/* names in dir containing ".tmp" */
static int temporaries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp")) n++;
  closedir(d);
  return n;
}

static void output_to_the_caller(void **state) {
  (void)state;
  const char *k[] = {"classes", "per_class", "frustration"}, *v[] = {"2", "50", "0.1"};
  text out = {.n = 0};
  rc_command_io io = {collect, &out, NULL, NULL, NULL, NULL};
  rc_error err;
  assert_int_equal(rc_command("spectrum", 3, k, v, &io, &err), RC_OK);
  assert_non_null(strstr(out.buf, "\"slow_rate\": "));
  assert_int_equal(out.buf[0], '{');
  /* --help: the option list, on out */
  const char *hk[] = {"help"}, *hv[] = {"true"};
  out.n = 0;
  assert_int_equal(rc_command("run", 1, hk, hv, &io, &err), RC_OK);
  assert_non_null(strstr(out.buf, "usage: repcollapse run"));
  assert_non_null(strstr(out.buf, "--per-class"));
}

static void errors_as_the_cli_prints_them(void **state) {
  (void)state;
  rc_error err;
  text diag = {.n = 0};
  rc_command_io io = {NULL, NULL, collect, &diag, NULL, NULL};
  const char *k[] = {"classes", "per-class"}, *v[] = {"x", "5"};
  assert_int_equal(rc_command("spectrum", 2, k, v, &io, &err), RC_EINVAL);
  assert_string_equal(err.msg, "repcollapse spectrum: error: --classes: expected a positive integer (got 'x')");
  assert_string_equal(diag.buf, "repcollapse spectrum: error: --classes: expected a positive integer (got 'x')\n");
  const char *k2[] = {"bogus"}, *v2[] = {"3"};
  assert_int_equal(rc_command("run", 1, k2, v2, NULL, &err), RC_EINVAL);
  assert_string_equal(err.msg, "repcollapse run: error: unknown option '--bogus' (see --help)");
  assert_int_equal(rc_command("nonsense", 0, NULL, NULL, NULL, &err), RC_EINVAL);
  assert_string_equal(err.msg, "repcollapse: error: unknown command 'nonsense' (try repcollapse --help)");
  assert_int_equal(rc_command(NULL, 0, NULL, NULL, NULL, &err), RC_EINVAL);
  /* a flag takes true or false */
  const char *k3[] = {"classes", "per_class", "snapshots"}, *v3[] = {"2", "5", "maybe"};
  assert_int_equal(rc_command("run", 3, k3, v3, NULL, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "'--snapshots' is a flag"));
  /* a library failure (not a parse error) keeps its status: a gd step refused as unstable */
  char out[400];
  snprintf(out, sizeof out, "%s/unstable", tmpdir);
  const char *k4[] = {"classes", "per_class", "integrator", "dt", "steps", "out"},
             *v4[] = {"2", "5", "gd", "10", "3", out};
  assert_int_equal(rc_command("run", 6, k4, v4, NULL, &err), RC_EUNSTABLE);
  assert_non_null(strstr(err.msg, "repcollapse run: error: gd step dt = 10 is unstable"));
}

static void flags_true_and_false(void **state) {
  (void)state;
  char a[400], b[400];
  snprintf(a, sizeof a, "%s/flag_true", tmpdir);
  snprintf(b, sizeof b, "%s/flag_false", tmpdir);
  const char *k[] = {"classes", "per_class", "dim", "snapshots", "quiet", "out"};
  const char *vt[] = {"2", "5", "2", "true", "true", a}, *vf[] = {"2", "5", "2", "false", "true", b};
  rc_error err;
  assert_int_equal(rc_command("run", 6, k, vt, NULL, &err), RC_OK);
  assert_int_equal(rc_command("run", 6, k, vf, NULL, &err), RC_OK);
  assert_true(exists(a, "snapshots.h5"));
  assert_false(exists(b, "snapshots.h5"));
  assert_true(exists(b, "summary.json"));
}

static void cancel_from_progress(void **state) {
  (void)state;
  char dir[400];
  snprintf(dir, sizeof dir, "%s/cancelled", tmpdir);
  const char *k[] = {"classes", "per_class", "dim", "integrator", "dt", "steps", "snapshots", "out"};
  const char *v[] = {"2", "200", "8", "gd", "0.01", "200000", "true", dir};
  counter c = {0, 3, 0};
  rc_command_io io = {NULL, NULL, NULL, NULL, count, &c};
  rc_error err;
  assert_int_equal(rc_command("run", 8, k, v, &io, &err), RC_ECANCELLED);
  assert_int_equal(c.calls, 3);
  assert_true(c.last < 0.01);
  assert_non_null(strstr(err.msg, "cancelled"));
  assert_false(exists(dir, "summary.json"));
  assert_false(exists(dir, "metrics.csv"));
  assert_false(exists(dir, "snapshots.h5"));
  assert_int_equal(temporaries(dir), 0);
  /* the library is usable afterwards: the same run, shorter, completes */
  v[5] = "2000";
  counter c2 = {0, 0, 0};
  io.progress_ctx = &c2;
  assert_int_equal(rc_command("run", 8, k, v, &io, &err), RC_OK);
  assert_true(exists(dir, "summary.json"));
  assert_true(c2.calls > 3);
  assert_true(c2.last == 1.0);
  /* phase: cancelled between its runs */
  char pdir[400];
  snprintf(pdir, sizeof pdir, "%s/phase", tmpdir);
  const char *pk[] = {"classes", "per_class", "dim", "frustration_list", "seeds", "out"};
  const char *pv[] = {"2", "20", "4", "0,0.1,0.2", "3", pdir};
  counter c3 = {0, 2, 0};
  io.progress_ctx = &c3;
  assert_int_equal(rc_command("phase", 6, pk, pv, &io, &err), RC_ECANCELLED);
  assert_false(exists(pdir, "phase.json"));
}

/* rk45 reports progress between two recorded times too, and stops there when cancelled */
static void cancel_inside_an_rk45_interval(void **state) {
  (void)state;
  const char *models[] = {"minimal", "siam-sg"};
  for (int m = 0; m < 2; m++) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/rk45_%s", tmpdir, models[m]);
    const char *k[] = {"classes", "per_class", "dim", "frustration", "model", "integrator", "times", "out"};
    const char *v[] = {"2", "200", "4", "0.05", models[m], "rk45", "0,100000", dir};
    counter c = {0, 3, 0};
    rc_command_io io = {NULL, NULL, NULL, NULL, count, &c};
    rc_error err;
    assert_int_equal(rc_command("run", 8, k, v, &io, &err), RC_ECANCELLED);
    assert_int_equal(c.calls, 3);
    assert_true(c.last > 0.5 && c.last < 1.0); /* inside the interval from t = 0 to t = 100000 */
    assert_non_null(strstr(err.msg, "cancelled at t = "));
    assert_false(exists(dir, "summary.json"));
    assert_int_equal(temporaries(dir), 0);
  }
}

/* a progress callback that runs a command of its own (once) */
static int nested(double fraction, void *ctx) {
  (void)fraction;
  int *done = ctx;
  if (*done) return 0;
  const char *k[] = {"classes", "per_class"}, *v[] = {"2", "5"};
  text out = {.n = 0};
  rc_command_io io = {collect, &out, NULL, NULL, NULL, NULL};
  rc_error err;
  *done = rc_command("data", 2, k, v, &io, &err) == RC_OK && strstr(out.buf, "\"n_samples\": 10") ? 1 : -1;
  return 0;
}

static void command_inside_a_callback(void **state) {
  (void)state;
  char dir[400];
  snprintf(dir, sizeof dir, "%s/nested", tmpdir);
  const char *k[] = {"classes", "per_class", "dim", "out"}, *v[] = {"2", "10", "2", dir};
  int done = 0;
  text out = {.n = 0};
  rc_command_io io = {collect, &out, NULL, NULL, nested, &done};
  rc_error err;
  assert_int_equal(rc_command("run", 4, k, v, &io, &err), RC_OK);
  assert_int_equal(done, 1);
  assert_non_null(strstr(out.buf, ": N=20 K=2")); /* the outer command's output, not the inner's */
  assert_null(strstr(out.buf, "n_samples"));
}

static void sweep_cancelled_inside_a_point(void **state) {
  (void)state;
  char dir[400];
  snprintf(dir, sizeof dir, "%s/sweep_cancelled", tmpdir);
  const char *k[] = {"grid", "classes", "per_class", "dim", "integrator", "dt", "steps", "out"};
  const char *v[] = {"seed=1:2", "2", "50", "4", "gd", "0.01", "2000", dir};
  counter c = {0, 2, 0}; /* 1: before point 0; 2: inside point 0's run */
  text out = {.n = 0};
  rc_command_io io = {collect, &out, NULL, NULL, count, &c};
  rc_error err;
  assert_int_equal(rc_command("sweep", 8, k, v, &io, &err), RC_ECANCELLED);
  assert_false(exists(dir, "sweep.csv"));
  assert_false(exists(dir, "points/0.json")); /* the point it stopped in left no record */
  counter none = {0, 0, 0};
  io.progress_ctx = &none;
  assert_int_equal(rc_command("sweep", 8, k, v, &io, &err), RC_OK);
  assert_non_null(strstr(out.buf, "sweep.csv: 2 points (2 run now, 0 resumed)"));
}

static void sweep_without_fork(void **state) {
  (void)state;
  char dir[400];
  snprintf(dir, sizeof dir, "%s/sweep", tmpdir);
  const char *k[] = {"grid", "classes", "per_class", "dim", "jobs", "out"};
  const char *v[] = {"frustration=0,0.1;seed=1:2", "2", "10", "2", "2", dir};
  text out = {.n = 0};
  counter c = {0, 0, 0};
  rc_command_io io = {collect, &out, NULL, NULL, count, &c};
  rc_error err;
  assert_int_equal(rc_command("sweep", 6, k, v, &io, &err), RC_OK);
  assert_true(exists(dir, "sweep.csv"));
  assert_non_null(strstr(out.buf, "sweep.csv: 4 points (4 run now, 0 resumed)"));
  assert_true(c.calls > 5); /* before each point, during each point's run, and at the end */
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* this process never had a child */
  assert_int_equal(errno, ECHILD);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(output_to_the_caller),  cmocka_unit_test(errors_as_the_cli_prints_them),
      cmocka_unit_test(flags_true_and_false),  cmocka_unit_test(cancel_from_progress),
      cmocka_unit_test(cancel_inside_an_rk45_interval), cmocka_unit_test(command_inside_a_callback),     cmocka_unit_test(sweep_cancelled_inside_a_point), cmocka_unit_test(sweep_without_fork),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
