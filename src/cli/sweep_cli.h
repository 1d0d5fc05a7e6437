/* sweep_cli.h (private): the pieces of `repcollapse sweep` and `sweep-merge`:
 * a sweep job (grid, fixed options of run, output directory), running one
 * point in this process, a pool of worker processes, and the optional MPI
 * layer (sweep_mpi.c; a single process when built without MPI). */
#ifndef RC_SWEEP_CLI_H
#define RC_SWEEP_CLI_H

#include <stddef.h>

#include "cli/cli.h"
#include "repcollapse/sweep.h"

/* Print "repcollapse <cmd>: error: <message>" (one line; nothing on MPI
 * ranks other than 0, which find the same errors) and return code. */
int sweep_error(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The option groups of `repcollapse run` (cmd_run.c): what an axis or a fixed option may be. */
#define SWEEP_RUN_GROUPS CLI_RUN_GROUPS

typedef struct {
  const rc_sweep_grid *grid;
  char **flags;        /* "--<axis name>" for each axis */
  char **fixed;        /* the fixed options of run, as given */
  size_t n_fixed;
  const char *dir;     /* the sweep's --out */
  int in_mpi;          /* MPI is initialised: workers leave with _exit (the MPI state is the parent's) */
} sweep_job;

/* Parse point p's options of run (argv: fixed options, then `--axis value`
 * for each axis, then --out out) as `repcollapse run` would, with cli_parse's
 * one-line error captured into msg (without its "repcollapse run: error: "
 * prefix) instead of printed, then rc_run_config_check. Returns 0 or 2. */
int sweep_parse_point(const sweep_job *job, size_t p, const char *out, cli_options *o, char *msg, size_t n);

/* Run point p here: the run's files go to DIR/points/<p>/, its record to
 * DIR/points/<p>.json (also when the run fails on its input or numerics: the
 * error is the record). Returns 0 when the record is written, 1 otherwise
 * (I/O, memory) with the reason in msg. */
int sweep_run_point(const sweep_job *job, size_t p, char *msg, size_t n);

/* What a pool of workers did. */
typedef struct {
  size_t done;              /* points whose record was written */
  size_t lost;              /* points that did not finish (crash, signal, I/O) */
  size_t first_lost;
  char first_lost_msg[600];
} sweep_pool_report;

/* Run the points, at most `jobs` processes at a time (one fork per point);
 * a progress line on stderr when `progress` (points done, rate, ETA). */
void sweep_pool_run(const sweep_job *job, const size_t *points, size_t n, size_t jobs, int progress,
                    size_t resumed, sweep_pool_report *rep);

/* MPI: started only when the process was launched by mpirun/srun (their
 * environment variables say so). Without MPI support, a launch with more than
 * one rank is an error (msg). */
int sweep_mpi_start(int *argc, char ***argv, char *msg, size_t n);
int sweep_mpi_active(void);      /* MPI_Init was called */
int sweep_mpi_rank(void);
int sweep_mpi_size(void);
int sweep_mpi_bcast_int(int v);  /* rank 0's v on every rank */
long sweep_mpi_sum(long v);      /* sum over ranks, on every rank */
void sweep_mpi_stop(void);

#endif
