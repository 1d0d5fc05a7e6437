/* main.c: the repcollapse command: dispatch to subcommands, --help, --version. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

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
          "  sweep      run a grid of runs (processes, MPI ranks or shards), one row per point in sweep.csv\n"
          "  sweep-merge  join the outputs of sweep shards into one sweep.csv\n"
          "\n"
          "  repcollapse <command> --help   lists a command's options\n"
          "  repcollapse --version          prints the version and source commit\n",
          rc_version());
}

int main(int argc, char **argv) {
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
  if (!strcmp(cmd, "run")) return cmd_run(argc, argv);
  if (!strcmp(cmd, "spectrum")) return cmd_spectrum(argc, argv);
  if (!strcmp(cmd, "data")) return cmd_data(argc, argv);
  if (!strcmp(cmd, "fixedpoint")) return cmd_fixedpoint(argc, argv);
  if (!strcmp(cmd, "selfconsistent")) return cmd_selfconsistent(argc, argv);
  if (!strcmp(cmd, "phase")) return cmd_phase(argc, argv);
  if (!strcmp(cmd, "sweep")) return cmd_sweep(argc, argv);
  if (!strcmp(cmd, "sweep-merge")) return cmd_sweep_merge(argc, argv);
  fprintf(stderr, "repcollapse: error: unknown command '%s' (try repcollapse --help)\n", cmd);
  return 2;
}
