/* figures_util.c: running repcollapse command lines in-process for
 * `repcollapse figures`, and reading their outputs back (figures_util.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/input.h"
#include "cli/cli.h"
#include "cli/figures_util.h"
#include "repcollapse/plot.h"

void fig_text_add(fig_text *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (t->len + (size_t)n + 1 > t->cap) {
    size_t cap = (t->cap ? 2 * t->cap : 1024) + (size_t)n;
    char *s = realloc(t->s, cap);
    if (!s) return;
    t->s = s;
    t->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  t->len += (size_t)n;
}

void fig_text_free(fig_text *t) {
  free(t->s);
  t->s = NULL;
  t->len = t->cap = 0;
}

void fig_find_exe(fig_run *f) {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0 || path[0] != '/') {
    snprintf(f->exe, sizeof f->exe, "repcollapse");
    return;
  }
  path[n] = '\0';
  int plain = 1;
  for (const char *p = path; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_./+-", *p)) plain = 0;
  if (plain) {
    snprintf(f->exe, sizeof f->exe, "%s", path);
    return;
  }
  size_t k = 0; /* 'it'\''s' */
  f->exe[k++] = '\'';
  for (const char *p = path; *p && k + 6 < sizeof f->exe; p++) {
    if (*p == '\'') {
      memcpy(f->exe + k, "'\\''", 4);
      k += 4;
    } else {
      f->exe[k++] = *p;
    }
  }
  f->exe[k++] = '\'';
  f->exe[k] = '\0';
}

static void fail(fig_run *f, const char *what) {
  if (!f->failed) snprintf(f->failure, sizeof f->failure, "%s", what);
  f->failed = 1;
}

int fig_cmd(fig_run *f, const char *fmt, ...) {
  char line[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (f->failed) return 1;
  fig_text_add(&f->commands, "%s %s\n", f->exe[0] ? f->exe : "repcollapse", line);
  char *argv[128], copy[4096];
  snprintf(copy, sizeof copy, "%s", line);
  int argc = 0;
  argv[argc++] = "repcollapse";
  for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok && argc < 127; tok = strtok_r(NULL, " ", &save)) {
    size_t n = strlen(tok);
    if (n >= 2 && tok[0] == '\'' && tok[n - 1] == '\'') { /* 'cos(x,y)': quoted for the printed shell line */
      tok[n - 1] = '\0';
      tok++;
    }
    argv[argc++] = tok;
  }
  argv[argc] = NULL;
  fflush(cli_stdout());
  int rc = cli_dispatch(argc, argv);
  fflush(cli_stdout());
  if (rc != 0) {
    char msg[4200];
    snprintf(msg, sizeof msg, "command failed (exit %d): repcollapse %s", rc, line);
    fail(f, msg);
  }
  return rc;
}

json_t *fig_json(fig_run *f, const char *fmt, ...) {
  char path[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(path, sizeof path, fmt, ap);
  va_end(ap);
  json_error_t je;
  json_t *j = rc_input_json_load(path, 0, &je);
  if (!j) {
    char msg[4300];
    snprintf(msg, sizeof msg, "cannot read %s: %s", path, je.text);
    fail(f, msg);
  }
  return j;
}

double fig_num(json_t *j, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *cur = j;
  for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
    cur = json_object_get(cur, tok);
  return cur && json_is_number(cur) ? json_number_value(cur) : NAN;
}

size_t fig_csv_column(const char *path, const char *column, double **out) {
  *out = NULL;
  FILE *fp = fopen(path, "r");
  if (!fp) return 0;
  char *line = NULL;
  size_t cap = 0, n = 0, alloc = 0;
  int col = -1;
  if (getline(&line, &cap, fp) > 0) {
    line[strcspn(line, "\r\n")] = '\0';
    int k = 0;
    for (char *save = NULL, *tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save), k++)
      if (!strcmp(tok, column)) col = k;
  }
  while (col >= 0 && getline(&line, &cap, fp) > 0) {
    line[strcspn(line, "\r\n")] = '\0';
    /* split keeping empty cells */
    char *p = line;
    double v = NAN;
    for (int k = 0; p; k++) {
      char *comma = strchr(p, ',');
      if (comma) *comma = '\0';
      if (k == col) {
        char *end;
        double x = strtod(p, &end);
        v = (end != p && *end == '\0') ? x : NAN;
        break;
      }
      p = comma ? comma + 1 : NULL;
    }
    if (n == alloc) {
      alloc = alloc ? 2 * alloc : 64;
      double *bigger = realloc(*out, alloc * sizeof **out);
      if (!bigger) break;
      *out = bigger;
    }
    (*out)[n++] = v;
  }
  free(line);
  fclose(fp);
  return n;
}

void fig_fail(fig_run *f, const char *fmt, ...) {
  if (f->failed) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->failure, sizeof f->failure, fmt, ap);
  va_end(ap);
  f->failed = 1;
}

void fig_plot(fig_run *f, const char *script, const char *stem, int width, int height) {
  if (f->failed) return;
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", f->dir, stem);
  rc_error err;
  if (rc_plot_render(script, path, width, height, &err) != RC_OK) fig_fail(f, "%.1000s", err.msg);
}

FILE *fig_csv_open(fig_run *f, rc_atomic_file *af, const char *fmt, ...) {
  if (f->failed) return NULL;
  char path[4200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(path, sizeof path, fmt, ap);
  va_end(ap);
  rc_error err;
  if (rc_atomic_open(af, path, &err) == RC_OK) return af->fp;
  fig_fail(f, "%.1000s", err.msg);
  return NULL;
}

void fig_csv_close(fig_run *f, rc_atomic_file *af, FILE *fp) {
  rc_error err;
  if (!fp) return;
  if (f->failed) rc_atomic_abort(af);
  else if (rc_atomic_commit(af, &err) != RC_OK) fig_fail(f, "%.1000s", err.msg);
}

int fig_plain_path(const char *s) {
  for (const char *p = s; *p; p++)
    if (isspace((unsigned char)*p) || strchr("'\"\\$`;&|<>*?()[]{}#~!", *p)) return 0;
  return 1;
}

#define NOT_PLAIN \
  "the directory's absolute path must not contain blanks or shell special characters (the report prints commands with it)"

int fig_begin(const cli_options *o, const char *const *subs, size_t n_subs, fig_run *f, rc_dir_lock **lock) {
  *lock = NULL;
  if (!o->out) {
    fprintf(cli_stderr(), "repcollapse figures: error: --out DIR is required\n");
    return 2;
  }
  if (!rc_plot_available()) {
    fprintf(cli_stderr(), "repcollapse figures: error: gnuplot with the pngcairo terminal is not installed (bash scripts/deps.sh installs it)\n");
    return 1;
  }
  rc_error err;
  /* refused before anything is created: a path the printed commands could not carry */
  char cwd[4096] = "";
  if (o->out[0] != '/' && !getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
  if (!fig_plain_path(cwd) || !fig_plain_path(o->out)) {
    fprintf(cli_stderr(), "repcollapse figures: error: --out '%s': %s\n", o->out, NOT_PLAIN);
    return 2;
  }
  /* one writer per directory (io.h), held to the end */
  if (rc_mkdir_p(o->out, &err) || rc_dir_lock_acquire(o->out, lock, &err)) return cli_fail(&err);
  for (size_t k = 0; k < n_subs; k++) {
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/%s", o->out, subs[k]);
    if (rc_mkdir_p(sub, &err)) {
      rc_dir_lock_release(*lock);
      *lock = NULL;
      return cli_fail(&err);
    }
  }
  memset(f, 0, sizeof *f);
  /* the commands name the output directory absolutely and the binary by its
   * path, so the report's commands run as printed from any directory */
  char *abs_out = realpath(o->out, NULL);
  const int blank = abs_out && !fig_plain_path(abs_out); /* through a symbolic link */
  if (!abs_out || blank || strlen(abs_out) >= sizeof f->dir) {
    fprintf(cli_stderr(), "repcollapse figures: error: --out '%s': %s\n", o->out,
            !abs_out ? strerror(errno) : blank ? NOT_PLAIN : "path too long");
    free(abs_out);
    rc_dir_lock_release(*lock);
    *lock = NULL;
    return !abs_out ? 1 : 2;
  }
  snprintf(f->dir, sizeof f->dir, "%s", abs_out);
  free(abs_out);
  fig_find_exe(f);
  f->quick = o->quick;
  return 0;
}

int fig_probe(const char *line) {
  FILE *null = fopen("/dev/null", "w");
  if (!null) return 0;
  char *argv[64], copy[2048];
  snprintf(copy, sizeof copy, "%s", line);
  int argc = 0;
  argv[argc++] = "repcollapse";
  for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save)) {
    size_t n = strlen(tok);
    if (n >= 2 && tok[0] == '\'' && tok[n - 1] == '\'') { /* as fig_cmd */
      tok[n - 1] = '\0';
      tok++;
    }
    argv[argc++] = tok;
  }
  argv[argc] = NULL;
  cli_io io = *cli_io_current();
  io.out = io.err = null;
  cli_io *former = cli_io_set(&io);
  int rc = cli_dispatch(argc, argv);
  cli_io_set(former);
  fclose(null);
  return rc == 0;
}

int fig_csv_column_index(const char *path, const char *column) {
  FILE *fp = fopen(path, "r");
  if (!fp) return 0;
  char *line = NULL;
  size_t cap = 0;
  int col = 0;
  if (getline(&line, &cap, fp) > 0) {
    line[strcspn(line, "\r\n")] = '\0';
    int k = 1;
    for (char *save = NULL, *tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save), k++)
      if (!strcmp(tok, column)) col = k;
  }
  free(line);
  fclose(fp);
  return col;
}
