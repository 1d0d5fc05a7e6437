/* cmd_sweep.c: `repcollapse sweep --grid SPEC <options of run> --out DIR`:
 * the Cartesian grid of runs (sweep.h). Each point is the argv of
 * `repcollapse run` (the fixed options, then `--axis value` for each axis),
 * parsed by the same cli_parse, so any option of run can be an axis. Every
 * point is checked before anything runs; the points then run in worker
 * processes (--jobs), over MPI ranks (under mpirun) and/or in one of N shards
 * (--shard I/N), each leaving DIR/points/<index>.json; sweep.csv is assembled
 * from those records in point order, so a killed sweep restarted with the
 * same command skips what is done and ends with the same file. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/input.h"
#include "cli/sweep_cli.h"
#include "repcollapse/report.h"

typedef struct {
  const char *grid, *out;
  size_t jobs, shard_i, shard_n;
  int quiet;
  char **fixed; /* pointers into argv */
  size_t n_fixed;
} sweep_args;

static int g_silent; /* MPI ranks other than 0 leave the errors every rank finds to rank 0 */

int sweep_error(const char *cmd, int code, const char *fmt, ...) {
  if (g_silent) return code;
  va_list ap;
  va_start(ap, fmt);
  fprintf(cli_stderr(), "repcollapse %s: error: ", cmd);
  vfprintf(cli_stderr(), fmt, ap);
  fputc('\n', cli_stderr());
  va_end(ap);
  return code;
}

#define fail(code, ...) sweep_error("sweep", code, __VA_ARGS__)

static void usage(void) {
  fprintf(cli_stdout(), "usage: repcollapse sweep --grid SPEC [options of run] --out DIR [--jobs J] [--shard I/N] [--quiet]\n"
         "\n"
         "  --grid SPEC     axes 'name=values;name=values;...': name is any option of run (repcollapse run --help),\n"
         "                  values v1,v2,... | a:b:n (n values from a to b) | a:b:n:log (n log-spaced values, a, b > 0)\n"
         "                  | i:j (integers) | v1|v2|... (literal)\n"
         "  --out DIR       DIR/sweep.csv (one row per point), DIR/points/<index>/ (each run's files),\n"
         "                  DIR/points/<index>.json (the record of a finished point), DIR/manifest.json\n"
         "  --jobs J        run J points at a time, each in its own process (default 1)\n"
         "  --shard I/N     run only the points with index %% N == I - 1 (1 <= I <= N); join with sweep-merge\n"
         "  --quiet         no progress line\n"
         "\n"
         "Every other option is passed to each point's run. Rerunning the same command resumes a sweep;\n"
         "rerunning it with a bigger grid (the same axes, each with the old values among its own) grows it\n"
         "in place: the finished points are kept and only the new ones run.\n"
         "Under mpirun the points are shared among the ranks.\n");
}

static int parse_count(const char *s, size_t max, size_t *v) {
  if (!*s) return 0;
  size_t x = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9' || x > max / 10) return 0;
    x = 10 * x + (size_t)(*p - '0');
  }
  if (x == 0 || x > max) return 0;
  *v = x;
  return 1;
}

/* The option name of "--name" or "--name=value" into buf ("" if too long). */
static const char *option_name(const char *arg, char *buf, size_t n) {
  const char *name = arg + 2, *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  if (len >= n) len = 0;
  memcpy(buf, name, len);
  buf[len] = '\0';
  return buf;
}

/* Returns 0, -1 after --help, or an exit code after an error. */
static int parse_args(int argc, char **argv, sweep_args *a) {
  memset(a, 0, sizeof *a);
  a->jobs = 1;
  a->fixed = calloc((size_t)argc + 1, sizeof *a->fixed);
  if (!a->fixed) return fail(1, "out of memory");
  for (int k = 2; k < argc; k++) {
    const char *s = argv[k];
    if (strncmp(s, "--", 2) != 0 || s[2] == '\0') return fail(2, "unexpected argument '%s' (options start with --)", s);
    char name[64];
    option_name(s, name, sizeof name);
    const char *eq = strchr(s, '=');
    static const char *const own[] = {"grid", "out", "jobs", "shard", "quiet", "help"};
    size_t which = sizeof own / sizeof own[0];
    for (size_t q = 0; q < sizeof own / sizeof own[0]; q++)
      if (!strcmp(name, own[q])) which = q;
    if (which < 4) {
      if (!eq && k + 1 < argc && cli_value_is_option(argv[k + 1]))
        return fail(2, "option '--%s' needs a value (got the option '%s'; write --%s=VALUE for a value starting with --)",
                    name, argv[k + 1], name);
      const char *v = eq ? eq + 1 : k + 1 < argc ? argv[++k] : NULL;
      if (!v) return fail(2, "option '--%s' needs a value", name);
      if (which == 0) a->grid = v;
      else if (which == 1) a->out = v;
      else if (which == 2) {
        if (!parse_count(v, 4096, &a->jobs)) return fail(2, "--jobs: expected a positive integer, at most 4096 (got '%s')", v);
      } else {
        const char *slash = strchr(v, '/');
        char num[32];
        size_t len = slash ? (size_t)(slash - v) : 0;
        if (len) {
          memcpy(num, v, len < sizeof num ? len : sizeof num - 1);
          num[len < sizeof num ? len : sizeof num - 1] = '\0';
        }
        if (!slash || !len || !parse_count(num, 1000000, &a->shard_i) || !parse_count(slash + 1, 1000000, &a->shard_n) ||
            a->shard_i > a->shard_n)
          return fail(2, "--shard: expected I/N with 1 <= I <= N, N at most 1000000 (got '%s')", v);
      }
    } else if (which < 6) {
      if (eq) return fail(2, "option '--%s' takes no value", name);
      if (which == 5) {
        usage();
        return -1;
      }
      a->quiet = 1;
    } else {
      int kind = cli_option_kind(name, SWEEP_RUN_GROUPS);
      if (kind < 0) return fail(2, "unknown option '%s' (not an option of sweep or run; see --help)", s);
      a->fixed[a->n_fixed++] = argv[k];
      if (kind == 1 && !eq && k + 1 < argc) a->fixed[a->n_fixed++] = argv[++k];
    }
  }
  if (!a->grid) return fail(2, "--grid SPEC is required (e.g. --grid 'frustration=0:0.2:11;seed=1:5')");
  if (!a->out) return fail(2, "--out DIR is required");
  return 0;
}

/* Axis names: options of run that take a value, not --out, not also fixed. */
static int check_axes(const rc_sweep_grid *g, const sweep_args *a) {
  for (size_t x = 0; x < g->n_axes; x++) {
    const char *name = g->axes[x].name;
    int kind = cli_option_kind(name, SWEEP_RUN_GROUPS);
    if (kind < 0) return fail(2, "axis '%s': unknown parameter (not an option of repcollapse run)", name);
    if (kind == 0) return fail(2, "axis '%s': --%s takes no value, so it cannot be an axis (give it as a fixed option)", name, name);
    if (!strcmp(name, "out")) return fail(2, "axis 'out': the sweep sets each point's --out (DIR/points/<index>)");
    for (size_t k = 0; k < a->n_fixed; k++) {
      char buf[64];
      if (!strncmp(a->fixed[k], "--", 2) && !strcmp(option_name(a->fixed[k], buf, sizeof buf), name))
        return fail(2, "axis '%s' is also given as the fixed option --%s: give it once", name, name);
      if (cli_option_kind(buf, SWEEP_RUN_GROUPS) == 1 && !strchr(a->fixed[k], '=')) k++; /* skip its value */
    }
  }
  return 0;
}

/* ---- parsing a point as `repcollapse run` would ---- */

/* cli_parse prints its one-line error through cli_stderr(); to name the axis
 * or point in that error, that stream is a memory buffer while a point is parsed. */
typedef struct {
  FILE *saved, *mem;
  char *buf;
  size_t len;
} capture;

static void capture_begin(capture *c) {
  cli_io *io = cli_io_current();
  c->buf = NULL;
  c->len = 0;
  c->saved = io->err;
  c->mem = open_memstream(&c->buf, &c->len);
  if (c->mem) io->err = c->mem;
}

static void capture_end(capture *c, char *msg, size_t n) {
  if (!c->mem) return;
  cli_io_current()->err = c->saved;
  fclose(c->mem);
  const char *m = c->buf ? c->buf : "", *prefix = "repcollapse run: error: ";
  if (!strncmp(m, prefix, strlen(prefix))) m += strlen(prefix);
  size_t len = strcspn(m, "\n");
  if (n) snprintf(msg, n, "%.*s", (int)len, m);
  free(c->buf);
}

int sweep_parse_point(const sweep_job *job, size_t p, const char *out, cli_options *o, char *msg, size_t n) {
  const rc_sweep_grid *g = job->grid;
  size_t argc = 2 + job->n_fixed + 2 * g->n_axes + 2, k = 0;
  char **av = calloc(argc + 1, sizeof *av);
  if (!av) {
    memset(o, 0, sizeof *o);
    snprintf(msg, n, "out of memory");
    return 2;
  }
  av[k++] = "repcollapse";
  av[k++] = "run";
  for (size_t q = 0; q < job->n_fixed; q++) av[k++] = job->fixed[q];
  for (size_t a = 0; a < g->n_axes; a++) {
    av[k++] = job->flags[a];
    av[k++] = (char *)rc_sweep_point_value(g, p, a);
  }
  av[k++] = "--out";
  av[k++] = (char *)out;
  if (n) msg[0] = '\0';
  capture cap;
  capture_begin(&cap);
  int rc = cli_parse((int)argc, av, 2, SWEEP_RUN_GROUPS, "run", o);
  capture_end(&cap, msg, n);
  free(av);
  if (rc) return 2;
  o->cfg.out_dir = out; /* as cmd_run sets it: some checks depend on an output directory */
  rc_error err;
  rc_error_clear(&err);
  if (rc_run_config_check(&o->cfg, &err)) {
    snprintf(msg, n, "%s", err.msg);
    return 2;
  }
  return 0;
}

static int point_ok(const sweep_job *job, size_t p, char *msg, size_t n) {
  cli_options o;
  int rc = sweep_parse_point(job, p, job->dir, &o, msg, n);
  cli_options_free(&o);
  return rc == 0;
}

/* Every point must parse before anything runs. A failure that only one
 * axis's value causes names that axis; one that needs several names the point. */
static int validate(const sweep_job *job) {
  const rc_sweep_grid *g = job->grid;
  char msg0[600], msg[600], desc[300];
  size_t stride = g->n_points;
  int base_ok = point_ok(job, 0, msg0, sizeof msg0);
  for (size_t a = 0; a < g->n_axes; a++) {
    stride /= g->axes[a].n_values; /* points differing from point 0 only in axis a: k * stride */
    for (size_t k = 1; k < g->axes[a].n_values; k++) {
      int ok = point_ok(job, k * stride, msg, sizeof msg);
      if (base_ok && !ok)
        return fail(2, "axis '%s' value '%s': %s", g->axes[a].name, g->axes[a].values[k], msg);
      if (!base_ok && ok)
        return fail(2, "axis '%s' value '%s': %s", g->axes[a].name, g->axes[a].values[0], msg0);
    }
  }
  for (size_t a = 0; !base_ok && a < g->n_axes; a++) {
    /* an axis with one value has no variant: name it when run's message is about its option */
    size_t len = strlen(job->flags[a]);
    if (!strncmp(msg0, job->flags[a], len) && (msg0[len] == ':' || msg0[len] == ' '))
      return fail(2, "axis '%s' value '%s': %s", g->axes[a].name, g->axes[a].values[0], msg0);
  }
  if (!base_ok) {
    rc_sweep_point_describe(g, 0, desc, sizeof desc);
    return fail(2, "point 0 (%s): %s", desc, msg0);
  }
  for (size_t p = 1; p < g->n_points; p++)
    if (!point_ok(job, p, msg, sizeof msg)) {
      rc_sweep_point_describe(g, p, desc, sizeof desc);
      return fail(2, "point %zu (%s): %s", p, desc, msg);
    }
  return 0;
}

/* ---- running a point (in a worker process) ---- */

int sweep_run_point(const sweep_job *job, size_t p, char *msg, size_t n) {
  char out[4200], pm[600];
  snprintf(out, sizeof out, "%s/points/%zu", job->dir, p);
  rc_sweep_remove_temporaries(out); /* left by a killed attempt at this point */
  cli_options o;
  rc_error err, werr;
  rc_error_clear(&err);
  rc_error_clear(&werr);
  rc_status st = RC_OK;
  double *values = NULL;
  rc_run_result *r = NULL;
  if (sweep_parse_point(job, p, out, &o, pm, sizeof pm)) {
    st = rc_error_set(&err, RC_EINVAL, "%s", pm);
  } else {
    o.cfg.out_dir = out;
    /* under rc_command the caller may cancel inside a point too (no record then: the point reruns) */
    o.cfg.progress = cli_io_current()->library ? cli_progress_update : NULL;
    o.cfg.progress_ctx = NULL;
    {
      st = rc_run_execute(&o.cfg, &r, &err); /* every encoder: --task teacher-student is an option like any other */
      if (!st) {
        values = malloc(rc_sweep_n_columns() * sizeof *values);
        if (values) rc_sweep_result_values(&o.cfg, r, values);
        else st = rc_error_set(&err, RC_ENOMEM, "out of memory");
      }
    }
  }
  int rc = 0;
  if (st == RC_EIO || st == RC_ECANCELLED) { /* not a property of the point: rerunning may succeed */
    snprintf(msg, n, "%s", err.msg);
    rc = 1;
  } else if (rc_sweep_record_write(job->dir, job->grid, p, values, st ? err.msg : NULL, &werr)) {
    snprintf(msg, n, "%s", werr.msg);
    rc = 1;
  }
  free(values);
  rc_run_result_free(r);
  cli_options_free(&o);
  return rc;
}

/* ---- the output directory ---- */

/* DIR holds a sweep of another grid with the same fixed options and shard:
 * grow it in place when the new grid contains the old one, else refuse. */
static int grow(const sweep_args *a, const rc_sweep_grid *g, json_t *old, json_t *m) {
  rc_error err;
  rc_error_clear(&err);
  rc_sweep_grid og;
  char why[300];
  const char *no = NULL;
  if (rc_sweep_manifest_grid(old, &og, &err)) return fail(1, "'%s/manifest.json': %s", a->out, err.msg);
  if (a->shard_n) no = "a shard cannot grow in place";
  else no = rc_sweep_grid_contains(g, &og, why, sizeof why);
  int rc = 0;
  size_t reused = 0;
  if (no)
    rc = fail(2, "'%s' holds a different sweep (not the same grid) that the new grid does not contain (%s): rerun that sweep's command to resume it, or choose another --out",
              a->out, no);
  else if (rc_sweep_grow(a->out, &og, g, m, &reused, &err))
    rc = fail(1, "growing the sweep in '%s': %s", a->out, err.msg);
  rc_sweep_grid_free(&og);
  return rc;
}

/* Lock DIR (one writer at a time: rc_dir_lock, as every command writing a
 * directory), check or write the manifest, clear temporaries of a killed run.
 * Returns 0 or an exit code; *lock held. */
static int prepare_dir(const sweep_args *a, const rc_sweep_grid *g, rc_dir_lock **lock) {
  rc_error err;
  rc_error_clear(&err);
  char path[4200];
  /* workers inherit the lock with the open file: it lasts while any of them runs */
  if (rc_mkdir_p(a->out, &err) || rc_dir_lock_acquire(a->out, lock, &err)) return fail(1, "%s", err.msg);
  snprintf(path, sizeof path, "%s/points", a->out);
  if (rc_mkdir_p(path, &err)) return fail(1, "%s", err.msg);
  if (rc_sweep_grow_recover(a->out, &err)) return fail(1, "%s", err.msg); /* a growth that was killed */
  json_t *m = rc_sweep_manifest(g, a->fixed, a->n_fixed, a->shard_i, a->shard_n);
  snprintf(path, sizeof path, "%s/manifest.json", a->out);
  int rc = 0;
  struct stat sb;
  if (stat(path, &sb) == 0) {
    json_error_t je;
    json_t *old = rc_input_json_load(path, 0, &je);
    const char *what = old ? rc_sweep_manifest_differs(old, m, 1) : NULL;
    if (what && !strcmp(what, "grid")) { /* name what else differs first: that cannot be grown */
      if (!json_equal(json_object_get(old, "fixed"), json_object_get(m, "fixed"))) what = "fixed options";
      else if (!json_equal(json_object_get(old, "shard"), json_object_get(m, "shard"))) what = "shard";
    }
    if (!old) rc = fail(1, "cannot read '%s': %s", path, je.text);
    else if (what && !strcmp(what, "grid"))
      rc = grow(a, g, old, m); /* the same fixed options and shard: a bigger grid may reuse the old points */
    else if (what)
      rc = fail(2, "'%s' holds a different sweep (not the same %s): rerun that sweep's command to resume it, or choose another --out",
                a->out, what);
    json_decref(old);
  } else {
    unsigned char *done = calloc(g->n_points, 1);
    if (!done) rc = fail(1, "out of memory");
    else if (rc_sweep_scan_records(a->out, g->n_points, done, &err)) rc = fail(1, "%s", err.msg);
    for (size_t p = 0; !rc && p < g->n_points; p++)
      if (done[p]) rc = fail(2, "'%s' holds point records but no manifest.json: choose another --out", a->out);
    free(done);
    if (!rc && rc_json_write_file(m, path, &err)) rc = fail(1, "%s", err.msg);
  }
  json_decref(m);
  if (!rc) {
    rc_sweep_remove_temporaries(a->out);
    snprintf(path, sizeof path, "%s/points", a->out);
    rc_sweep_remove_temporaries(path);
  }
  return rc;
}

/* After the points: sweep.csv when every point of this sweep (or shard) has
 * its record, or the reason it cannot be written. Rank 0 only. */
static int finish(const sweep_args *a, const rc_sweep_grid *g, size_t ran, size_t ranks_used, size_t resumed) {
  rc_error err;
  rc_error_clear(&err);
  char desc[300];
  unsigned char *done = calloc(g->n_points, 1);
  if (!done) return fail(1, "out of memory");
  if (rc_sweep_scan_records(a->out, g->n_points, done, &err)) {
    free(done);
    return fail(1, "%s", err.msg);
  }
  size_t missing = 0, first = 0, total = 0;
  for (size_t p = 0; p < g->n_points; p++)
    if (rc_sweep_in_shard(p, a->shard_i, a->shard_n)) {
      total++;
      if (!done[p] && missing++ == 0) first = p;
    }
  free(done);
  if (missing) {
    rc_sweep_point_describe(g, first, desc, sizeof desc);
    return fail(1, "%zu of %zu points did not finish (first: point %zu (%s)); rerun the same command to run them",
                missing, total, first, desc);
  }
  size_t n_failed, first_failed;
  if (rc_sweep_write_csv(a->out, g, a->shard_i, a->shard_n, &n_failed, &first_failed, &err)) return fail(1, "%s", err.msg);
  fprintf(cli_stdout(), "%s/sweep.csv: %zu points (%zu run now", a->out, total, ran);
  if (sweep_mpi_size() > 1 && ran) fprintf(cli_stdout(), " by %zu of %d MPI ranks", ranks_used, sweep_mpi_size());
  fprintf(cli_stdout(), ", %zu resumed)", resumed);
  if (a->shard_n) fprintf(cli_stdout(), ", shard %zu/%zu of %zu points", a->shard_i, a->shard_n, g->n_points);
  fprintf(cli_stdout(), "\n");
  if (n_failed) {
    json_t *rec = NULL;
    rc_sweep_record_read(a->out, g, first_failed, &rec, NULL);
    rc_sweep_point_describe(g, first_failed, desc, sizeof desc);
    fail(1, "%zu of %zu points failed (see the error column of %s/sweep.csv); first: point %zu (%s): %s", n_failed, total,
         a->out, first_failed, desc, rec ? json_string_value(json_object_get(rec, "error")) : "?");
    json_decref(rec);
    return 1;
  }
  return 0;
}

static int sweep_main(int argc, char **argv, sweep_args *a, rc_sweep_grid *g, sweep_job *job) {
  int rc = parse_args(argc, argv, a);
  if (rc) return rc < 0 ? 0 : rc;
  rc_error err;
  rc_error_clear(&err);
  if (rc_sweep_grid_parse(a->grid, g, &err)) return fail(2, "--grid: %s", err.msg);
  if ((rc = check_axes(g, a))) return rc;
  job->grid = g;
  job->fixed = a->fixed;
  job->n_fixed = a->n_fixed;
  job->dir = a->out;
  job->in_mpi = sweep_mpi_active();
  job->flags = calloc(g->n_axes, sizeof *job->flags);
  if (!job->flags) return fail(1, "out of memory");
  for (size_t x = 0; x < g->n_axes; x++) {
    job->flags[x] = malloc(strlen(g->axes[x].name) + 3);
    if (!job->flags[x]) return fail(1, "out of memory");
    sprintf(job->flags[x], "--%s", g->axes[x].name);
  }
  if ((rc = validate(job))) return rc;

  /* rank 0 prepares the directory; every rank then reads the same records */
  const int rank = sweep_mpi_rank(), size = sweep_mpi_size();
  rc_dir_lock *lock = NULL;
  if (rank == 0) rc = prepare_dir(a, g, &lock);
  rc = sweep_mpi_bcast_int(rc);
  unsigned char *done = rc ? NULL : calloc(g->n_points, 1);
  size_t *mine = rc ? NULL : calloc(g->n_points, sizeof *mine);
  if (!rc && (!done || !mine)) rc = fail(1, "out of memory");
  if (!rc && rc_sweep_scan_records(a->out, g->n_points, done, &err)) rc = fail(1, "%s", err.msg);
  size_t n_mine = 0, resumed = 0, pending = 0;
  for (size_t p = 0; !rc && p < g->n_points; p++) {
    if (!rc_sweep_in_shard(p, a->shard_i, a->shard_n)) continue;
    if (done[p]) resumed++;
    else if (pending++ % (size_t)size == (size_t)rank) mine[n_mine++] = p; /* round robin over the ranks */
  }
  sweep_pool_report rep;
  memset(&rep, 0, sizeof rep);
  if (!rc) sweep_pool_run(job, mine, n_mine, a->jobs, !a->quiet && rank == 0 && !cli_io_current()->library && isatty(STDERR_FILENO), resumed, &rep);
  if (rep.lost) {
    char desc[300];
    rc_sweep_point_describe(g, rep.first_lost, desc, sizeof desc);
    fprintf(cli_stderr(), "repcollapse sweep: error: point %zu (%s) did not finish: %s\n", rep.first_lost, desc, rep.first_lost_msg);
  }
  free(done);
  free(mine);
  if (rc) {
    rc_dir_lock_release(lock);
    return rc;
  }
  long ran = sweep_mpi_sum((long)rep.done); /* also: every rank is done before rank 0 assembles */
  long ranks_used = sweep_mpi_sum(rep.done > 0);
  if (rank == 0) rc = finish(a, g, (size_t)ran, (size_t)ranks_used, resumed);
  rc_dir_lock_release(lock);
  return sweep_mpi_bcast_int(rc);
}

int cmd_sweep(int argc, char **argv) {
  char msg[300];
  /* under rc_command the points run in this process, without MPI */
  if (!cli_io_current()->library && sweep_mpi_start(&argc, &argv, msg, sizeof msg)) {
    fprintf(cli_stderr(), "repcollapse sweep: error: %s\n", msg);
    return 2;
  }
  g_silent = sweep_mpi_rank() != 0;
  sweep_args a;
  rc_sweep_grid g;
  sweep_job job;
  memset(&g, 0, sizeof g);
  memset(&job, 0, sizeof job);
  int rc = sweep_main(argc, argv, &a, &g, &job);
  for (size_t x = 0; job.flags && x < g.n_axes; x++) free(job.flags[x]);
  free(job.flags);
  free(a.fixed);
  rc_sweep_grid_free(&g);
  sweep_mpi_stop();
  return rc;
}
