/* main.c: the repcollapse command: dispatch to subcommands, --help, --version;
 * and the program's signal handlers (the library installs none). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "repcollapse/io.h"

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
          "  repcollapse --version          prints the version and source commit\n",
          rc_version());
}

int cli_dispatch(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version")) {
    printf("repcollapse %s (commit %s)\n", rc_version(), rc_source_commit());
    return 0;
  }
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
  fprintf(stderr, "repcollapse: error: unknown command '%s' (try repcollapse --help)\n", cmd);
  return 2;
}

/* ---- signals ----
 * SIGPIPE (a closed pipe on stdout) and SIGXFSZ (a file size limit) would end
 * the process at once, leaving temporaries and no message. Caught by a handler
 * that does nothing, they make the write fail instead (EPIPE, EFBIG), and the
 * ordinary error paths name the file and exit 1. A handler rather than
 * SIG_IGN: exec resets a handler to the default, so the programs we start
 * (gnuplot) keep the usual behaviour. SIGINT, SIGTERM and SIGHUP remove this
 * process's temporaries (rc_cleanup_now), say so, and end the process by the
 * same signal; a signal ignored at start (nohup, a background job) stays
 * ignored. Everything in the handlers is async-signal-safe. */
static char interrupted_msg[3][200];

static void on_write_signal(int sig) { (void)sig; }

static void on_stop_signal(int sig) {
  rc_cleanup_now();
  const char *m = interrupted_msg[sig == SIGINT ? 0 : sig == SIGTERM ? 1 : 2];
  ssize_t w = write(STDERR_FILENO, m, strlen(m));
  (void)w;
  signal(sig, SIG_DFL);
  raise(sig);
}

static void install_handlers(const char *cmd) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = on_write_signal;
  sigaction(SIGPIPE, &sa, NULL);
  sigaction(SIGXFSZ, &sa, NULL);
  static const int stop[3] = {SIGINT, SIGTERM, SIGHUP};
  static const char *const name[3] = {"SIGINT", "SIGTERM", "SIGHUP"};
  sa.sa_handler = on_stop_signal;
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGHUP);
  for (int k = 0; k < 3; k++) {
    snprintf(interrupted_msg[k], sizeof interrupted_msg[k],
             "repcollapse%s%.40s: error: stopped by %s; this process's temporary files were removed\n", cmd ? " " : "",
             cmd ? cmd : "", name[k]);
    struct sigaction old;
    if (sigaction(stop[k], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(stop[k], &sa, NULL);
  }
}

int main(int argc, char **argv) {
  install_handlers(argc > 1 && argv[1][0] != '-' ? argv[1] : NULL);
  return cli_dispatch(argc, argv);
}
