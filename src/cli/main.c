/* main.c: the repcollapse command: dispatch to subcommands, --help, --version. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
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
          "  repcollapse --version          prints the version and source commit\n",
          rc_version());
}

static int dispatch(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    usage(stdout);
    return cli_finish(0);
  }
  if (!strcmp(cmd, "--version")) {
    printf("repcollapse %s (commit %s)\n", rc_version(), rc_source_commit());
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
  fprintf(stderr, "repcollapse: error: unknown command '%s' (try repcollapse --help)\n", cmd);
  return 2;
}

int cli_dispatch(int argc, char **argv) {
  const char *outer = cli_command; /* figures runs commands through here: keep its own prefix */
  int rc = dispatch(argc, argv);
  cli_command = outer;
  return rc;
}

int main(int argc, char **argv) { return cli_dispatch(argc, argv); }
