/* figures_util.h (private): what `repcollapse figures` is built from: running
 * repcollapse command lines in-process (each one recorded for the report),
 * reading their JSON and CSV outputs back, and a growing text buffer. */
#ifndef RC_FIGURES_UTIL_H
#define RC_FIGURES_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* a growing string */
typedef struct {
  char *s;
  size_t len, cap;
} fig_text;

void fig_text_add(fig_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fig_text_free(fig_text *t);

/* The figures run: output directory, size preset, report, first failure. */
typedef struct {
  char dir[2048];    /* absolute: the recorded commands run from any directory */
  char exe[4200];    /* the binary, as the report prints it (absolute, shell-quoted if need be) */
  int quick;
  fig_text commands; /* the commands of the claim being built */
  int failed;
  char failure[8192];
} fig_run;

/* Run `repcollapse <line>` in-process (line: blank-separated arguments; an
 * argument in single quotes, 'cos(x,y)', loses them, as the shell would:
 * it holds no blank and no quote), record it in f->commands as `<f->exe> <line>`; returns the exit
 * code (and records the first failure). */
int fig_cmd(fig_run *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* f->exe: this process's binary (/proc/self/exe), absolute and quoted for a
 * POSIX shell when it holds anything but [A-Za-z0-9_./+-]; "repcollapse"
 * when it cannot be found. */
void fig_find_exe(fig_run *f);

/* JSON file, or NULL (recording a failure). */
json_t *fig_json(fig_run *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A number at a dotted path ("final.min_label_distance"), NAN if absent/null. */
double fig_num(json_t *j, const char *path);

/* One column of a CSV file with a header line (empty cells are NAN);
 * returns the number of rows, *out malloc'ed. */
size_t fig_csv_column(const char *path, const char *column, double **out);

/* Shared by the report builders (`figures --beyond`): render a gnuplot script
 * to DIR/stem.png and .svg (rc_plot_render; a failure is recorded in f);
 * open a CSV under a temporary name (NULL when f has failed or it cannot be
 * opened, recorded) and commit it whole, or abort it when f has failed. */
#include "repcollapse/io.h"
void fig_plot(fig_run *f, const char *script, const char *stem, int width, int height);
FILE *fig_csv_open(fig_run *f, rc_atomic_file *af, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fig_csv_close(fig_run *f, rc_atomic_file *af, FILE *fp);
/* Whether a path can appear in printed commands as it is: no blank and no
 * character a POSIX shell would interpret. */
int fig_plain_path(const char *s);

/* The start of both figure commands (figures, figures --beyond), before any
 * claim runs: --out required, gnuplot present, a --out the printed commands
 * can carry (refused before anything is created), DIR and its `n_subs`
 * subdirectories made, DIR's lock taken (held until the caller releases it),
 * f zeroed with f->dir the absolute DIR, the binary found and f->quick set.
 * Returns 0, or prints one error line and returns the exit code (the lock
 * then released). */
int fig_begin(const cli_options *o, const char *const *subs, size_t n_subs, fig_run *f, rc_dir_lock **lock);
/* `repcollapse figures --beyond` (cmd_figures_beyond.c), dispatched from cmd_figures. */
int cmd_figures_beyond(int argc, char **argv);

/* Whether `repcollapse <line>` parses in this build (run with the output
 * discarded and nothing recorded; e.g. "run --sphere --help"): options and
 * terms other engineers' pieces add are probed before a claim uses them. */
int fig_probe(const char *line);

/* The 1-based column of a CSV file's header named `column`, 0 if absent. */
int fig_csv_column_index(const char *path, const char *column);

/* Record a failure (the first one wins). */
void fig_fail(fig_run *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
