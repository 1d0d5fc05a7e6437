/* command.c: the commands of repcollapse behind one entry point. The
 * executable's main() calls rc_command_main with its argv; a program calls
 * rc_command with an option table, which becomes the same argv, runs through
 * the same dispatch with this thread's output going to the caller's
 * callbacks (cli_io.c) and the error line returned in rc_error. */
#define _GNU_SOURCE /* fopencookie */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "repcollapse/command.h"
#include "core/memory.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "repcollapse %s: the minimal model of representation collapse (Yao, Liu, Li 2026)\n"
          "\n"
          "usage: repcollapse <command> [options]\n"
          "\n"
          "commands:\n"
          "  run        simulate a model and record collapse metrics (metrics.csv, summary.json)\n"
          "  spectrum   exact rates of the minimal model's dynamics (JSON on stdout)\n"
          "  data       describe a data set, optionally write its observations (CSV)\n"
          "  fixedpoint fixed point of a model (head, stop-gradient) and its stability (JSON)\n"
          "  selfconsistent  mean-field self-consistency of the fixed points across f (CSV/JSON)\n"
          "  phase      fraction of initial conditions that keep classes apart, crossover f_c\n"
          "  figures    reproduce every claim of the paper: figures, CSVs and report.md\n"
          "  bench      time gd steps (or the exact integrator) without metrics (JSON on stdout)\n"
          "  sweep      run a grid of runs (processes, MPI ranks or shards), one row per point in sweep.csv\n"
          "  sweep-merge  join the outputs of sweep shards into one sweep.csv\n"
          "\n"
          "  repcollapse <command> --help   lists a command's options\n"
          "  repcollapse --version          prints the version and source commit\n"
          "\n"
          "The models, their equations and the code of each: docs/model.md in the source tree.\n"
          "Licence: GPL-3.0-or-later (LICENSE); to cite: CITATION.cff.\n",
          rc_version());
}

static int dispatch(int argc, char **argv) {
  if (argc < 2) {
    usage(cli_stderr());
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    usage(cli_stdout());
    return cli_finish(0);
  }
  if (!strcmp(cmd, "--version")) {
    fprintf(cli_stdout(), "repcollapse %s (commit %s)\n", rc_version(), rc_source_commit());
    return cli_finish(0);
  }
  cli_command = cmd[0] != '-' ? cmd : NULL; /* every error line from here: "repcollapse <cmd>: error: " */
  rc_error err;
  rc_error_clear(&err);
  if (rc_memory_env_check(&err)) return cli_fail(&err); /* before any command relies on the limit */
  if (!strcmp(cmd, "run")) return cli_finish(cmd_run(argc, argv));
  if (!strcmp(cmd, "spectrum")) return cli_finish(cmd_spectrum(argc, argv));
  if (!strcmp(cmd, "data")) return cli_finish(cmd_data(argc, argv));
  if (!strcmp(cmd, "fixedpoint")) return cli_finish(cmd_fixedpoint(argc, argv));
  if (!strcmp(cmd, "selfconsistent")) return cli_finish(cmd_selfconsistent(argc, argv));
  if (!strcmp(cmd, "phase")) return cli_finish(cmd_phase(argc, argv));
  if (!strcmp(cmd, "figures")) return cli_finish(cmd_figures(argc, argv));
  if (!strcmp(cmd, "bench")) return cli_finish(cmd_bench(argc, argv));
  if (!strcmp(cmd, "sweep")) return cli_finish(cmd_sweep(argc, argv));
  if (!strcmp(cmd, "sweep-merge")) return cli_finish(cmd_sweep_merge(argc, argv));
  fprintf(cli_stderr(), "repcollapse: error: unknown command '%s' (try repcollapse --help)\n", cmd);
  return 2;
}

int cli_dispatch(int argc, char **argv) {
  const char *outer = cli_command; /* figures runs commands through here: keep its own prefix */
  int rc = dispatch(argc, argv);
  cli_command = outer;
  return rc;
}

int rc_command_main(int argc, char **argv) { return cli_dispatch(argc, argv); }

/* ---- rc_command ---- */

static ssize_t out_write(void *cookie, const char *buf, size_t size) {
  const rc_command_io *io = cookie;
  if (!io || !io->out) return (ssize_t)size;
  size_t w = io->out(buf, size, io->out_ctx);
  return w == size ? (ssize_t)size : -1;
}

/* argv of the command line the table stands for; NULL on a bad table (err set) */
static char **table_argv(const char *command, size_t n, const char *const *keys, const char *const *values,
                         int *argc, rc_error *err) {
  char **av = calloc(2 * n + 3, sizeof *av);
  if (!av) {
    rc_error_set(err, RC_ENOMEM, "out of memory");
    return NULL;
  }
  int k = 0;
  av[k++] = strdup("repcollapse");
  av[k++] = strdup(command);
  for (size_t q = 0; q < n; q++) {
    const char *key = keys ? keys[q] : NULL, *v = values ? values[q] : NULL;
    if (!key) { /* a positional argument */
      if (!v) {
        rc_error_set(err, RC_EINVAL, "repcollapse %s: error: argument %zu has neither a name nor a value", command, q);
        goto fail;
      }
      av[k++] = strdup(v);
      continue;
    }
    while (*key == '-') key++;
    if (!*key || strchr(key, '=')) {
      rc_error_set(err, RC_EINVAL, "repcollapse %s: error: bad option name '%s'", command, keys[q]);
      goto fail;
    }
    size_t len = strlen(key);
    char *flag = malloc(len + 3);
    if (!flag) goto nomem;
    flag[0] = flag[1] = '-';
    for (size_t c = 0; c <= len; c++) flag[2 + c] = key[c] == '_' ? '-' : key[c];
    int has_arg = -1, groups = 0;
    if (!cli_option_find(flag + 2, len, &has_arg, &groups)) has_arg = -1;
    int boolean = !v || !strcmp(v, "true") || !strcmp(v, "false");
    if (has_arg == 1 || (has_arg == -1 && !boolean)) { /* --name value */
      av[k++] = flag;
      if (!v) {
        rc_error_set(err, RC_EINVAL, "repcollapse %s: error: option '%s' needs a value", command, flag);
        goto fail;
      }
      av[k++] = strdup(v);
    } else if (!boolean) { /* a flag given something other than true or false */
      rc_error_set(err, RC_EINVAL, "repcollapse %s: error: option '%s' is a flag: give it true or false (got '%s')",
                   command, flag, v);
      free(flag);
      goto fail;
    } else if (!v || !strcmp(v, "true")) {
      av[k++] = flag;
    } else {
      free(flag);
    }
  }
  for (int q = 0; q < k; q++)
    if (!av[q]) goto nomem;
  *argc = k;
  return av;
nomem:
  rc_error_set(err, RC_ENOMEM, "out of memory");
fail:
  for (size_t q = 0; q < 2 * n + 3; q++) free(av[q]);
  free(av);
  return NULL;
}

/* the last non-empty line of text, into msg */
static void last_line(const char *text, size_t len, char *msg, size_t size) {
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
  size_t start = len;
  while (start && text[start - 1] != '\n' && text[start - 1] != '\r') start--;
  size_t m = len - start < size - 1 ? len - start : size - 1;
  memcpy(msg, text + start, m);
  msg[m] = '\0';
}

/* one command at a time (the option parser and HDF5 keep global state);
 * recursive, so that a callback may run a command of its own */
static pthread_mutex_t g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

rc_status rc_command(const char *command, size_t n, const char *const *keys, const char *const *values,
                     const rc_command_io *io, rc_error *err) {
  rc_error_clear(err);
  if (!command || !*command || (command[0] == '-' && strcmp(command, "--version") && strcmp(command, "--help")))
    return rc_error_set(err, RC_EINVAL, "repcollapse: error: no command known (give run, spectrum, data, ...)");
  int argc = 0;
  char **argv = table_argv(command, n, keys, values, &argc, err);
  if (!argv) return err ? err->code : RC_EINVAL;
  char *text = NULL;
  size_t len = 0;
  cookie_io_functions_t fns = {NULL, out_write, NULL, NULL};
  cli_io mine;
  memset(&mine, 0, sizeof mine);
  mine.library = 1;
  mine.io = io;
  mine.out = fopencookie((void *)io, "w", fns);
  mine.err = open_memstream(&text, &len);
  rc_status st = RC_OK;
  if (!mine.out || !mine.err) {
    st = rc_error_set(err, RC_ENOMEM, "out of memory");
  } else {
    pthread_mutex_lock(&g_lock);
    cli_io *former = cli_io_set(&mine);
    int rc = cli_dispatch(argc, argv);
    cli_io_set(former);
    pthread_mutex_unlock(&g_lock);
    if (fclose(mine.out) != 0 && rc == 0) {
      fprintf(mine.err, "repcollapse %s: error: cannot deliver the command's output\n", command);
      rc = 1;
    }
    mine.out = NULL;
    fclose(mine.err);
    mine.err = NULL;
    if (io && io->err && len) io->err(text, len, io->err_ctx);
    if (rc != 0) {
      st = mine.cancelled ? RC_ECANCELLED : mine.status ? mine.status : rc == 2 ? RC_EINVAL : RC_EIO;
      char msg[sizeof err->msg];
      last_line(text ? text : "", len, msg, sizeof msg);
      if (!msg[0]) snprintf(msg, sizeof msg, "repcollapse %s: error: failed (exit status %d)", command, rc);
      rc_error_set(err, st, "%s", msg);
    }
  }
  if (mine.out) fclose(mine.out);
  if (mine.err) fclose(mine.err);
  free(text);
  for (int q = 0; q < argc; q++) free(argv[q]);
  free(argv);
  return st;
}
