/* cli.h (private): the CLI's shared pieces: option parsing into a run
 * configuration, progress on a terminal, errors. Each subcommand lives in
 * its own cmd_*.c file and stays thin: it parses, calls the library, prints. */
#ifndef RC_CLI_H
#define RC_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "repcollapse/command.h"
#include "repcollapse/experiments.h"
#include "repcollapse/repcollapse.h"
#include "repcollapse/report.h"

/* option groups a subcommand accepts: each command names exactly the groups
 * whose options it uses (an option of no named group is refused) */
enum {
  OPT_DATA = 1,        /* data set options */
  OPT_MODEL = 2,       /* rates, eta */
  OPT_INIT = 4,        /* dim, sigma, init, seeds */
  OPT_RUN = 8,         /* how to integrate: integrator, t-end, dt, steps, tolerances, precision, threads */
  OPT_OUTFILE = 16,    /* --out (a file or a directory, per command) */
  OPT_SPECTRUM = 32,   /* --method */
  OPT_HEAD = 64,       /* model terms and head */
  OPT_SWEEP = 128,     /* over f and initial conditions: frustration list, seeds, apart threshold */
  OPT_FIXED = 256,     /* fixed point and stability options */
  OPT_FIGURES = 512,   /* figures */
  OPT_BENCH = 1024,    /* bench: integrator, dt, steps, t-end, exact method, precision, threads */
  OPT_RECORD = 2048,   /* what a run records: times, points, t-min, eps */
  OPT_RUNDIR = 4096,   /* a run's directory: snapshots, checkpoints, resume */
  OPT_PHASE = 8192,    /* phase: models, head rate ratios */
  OPT_SELFCONS = 16384, /* selfconsistent: --check, --json */
  OPT_PROGRESS = 32768, /* --quiet */
  OPT_TASK = 65536,    /* run --task teacher-student and its options */
  OPT_TRAIN = 131072   /* run: optimizer, weight decay, minibatch, EMA targets, collapse metric */
};

/* the options of `run` (and of each point of a sweep) */
#define CLI_RUN_GROUPS \
  (OPT_DATA | OPT_MODEL | OPT_INIT | OPT_RUN | OPT_RECORD | OPT_RUNDIR | OPT_OUTFILE | OPT_HEAD | OPT_PROGRESS | OPT_TASK | OPT_TRAIN)

/* defaults the CLI adds to the library's (rc_run_config_default), one place
 * for the code and for --help */
#define CLI_DEFAULT_SEEDS 10
#define CLI_DEFAULT_APART 1e-3
#define CLI_DEFAULT_ZERO_TOL 1e-6
#define CLI_BENCH_DEFAULT_STEPS 10

/* the command being run ("run", "data", ...; NULL before one is known): the
 * prefix of every error line, "repcollapse <command>: error: " */
extern const char *cli_command;
/* print the error prefix to stderr: repcollapse, the command (when known), then "error: " */
void cli_error_prefix(void);

typedef struct {
  rc_run_config cfg;
  /* storage behind cfg's pointers */
  size_t *class_sizes;
  rc_pair_count *pairs;
  double *times;
  char *command_line;
  const char *out;    /* --out */
  int quiet;
  int model_given, terms_given, integrator_given;
  int sphere;                         /* --sphere (applied to the model(s) after parsing) */
  double uniformity_t, temperature;   /* --uniformity-t, --temperature (0: not given) */
  rc_sweep_settings sweep;
  double *f_list, *ratio_list;
  rc_model *models;
  int json, quick;
  int beyond; /* figures --beyond */
  unsigned claims; /* figures --beyond --claims: bits 7, 8, 9, 10, geometry, order (0: all) */
  double zero_tol;
  int dim_given, seed_given, data_seed_given, init_seed_given, classes_given, per_class_given;
  rc_spectrum_method method;
  /* --config: the arguments with the file's settings in front, and for each
   * the file, line and key it came from (NULL: the command line) */
  char **args, **origins;
  int nargs;
  /* --task teacher-student: the task's data set (sizes, teacher, frustration) and eta_W */
  int task_ts, ts_data_seed_given, ts_samples_given, ts_dim_given, teacher_given; /* task_ts: an encoder on inputs */
  rc_ts_data_spec ts;
  double eta_w;
  unsigned char given[128]; /* options given, by their id in the option table */
  int allow_changed_inputs; /* --allow-changed-inputs: a rerun may read input files that changed */
  json_t *settings;    /* every option applied (name -> value as given), for summary.json */
  char *settings_text; /* the same, canonical JSON (sorted keys, compact) */
} cli_options;

/* Parse argv[first..argc) for a subcommand accepting `groups`. Returns 0, or
 * prints a one-line error and returns the exit code (2). */
int cli_parse(int argc, char **argv, int first, int groups, const char *cmd, cli_options *o);
void cli_options_free(cli_options *o);

/* Look an option up by name (name[0..len), without "--"): 1 if it exists,
 * with whether it takes a value and its option groups. */
int cli_option_find(const char *name, size_t len, int *has_arg, int *groups);

/* --config FILE: if argv has it, read the file and fill o->args / o->origins
 * with argv[0..first), the file's settings as options, then the rest of argv
 * without --config. Returns 0, or prints a one-line error and returns the exit code. */
int cli_config_expand(int argc, char **argv, int first, int groups, const char *cmd, cli_options *o);

/* Exit code of a subcommand after checking that standard output was written
 * (a full disk or a closed pipe is an error, not a silent success). */
int cli_finish(int rc);

/* Strict parsing of one number (the whole string, finite); 1 on success. */
int cli_parse_double(const char *s, double *v);
int cli_parse_size(const char *s, size_t *v);

/* Whether a separate argument given as an option's value is itself an option
 * ("--help", "--out", "--out=DIR"): then the value was forgotten, and the
 * parsers refuse it rather than, say, run a whole command into a directory
 * named "--help" (a value that starts with "--" can be given as --opt=VALUE). */
int cli_value_is_option(const char *v);

/* Whether --name is an option of the groups: 1 taking a value, 0 a flag, -1 not one. */
int cli_option_kind(const char *name, int groups);

/* Print "repcollapse <command>: error: <msg>" and return the exit code for the status. */
int cli_fail(const rc_error *err);

/* Where a command's text goes (cli_io.c): the process's stdout and stderr
 * when the repcollapse executable runs it, the caller's callbacks when it
 * runs through rc_command (command.h). Every subcommand writes through
 * cli_stdout() and cli_stderr(), never to stdout or stderr directly. */
typedef struct {
  FILE *out, *err;
  int library;             /* run by rc_command: no terminal display, no fork, no MPI */
  const rc_command_io *io; /* the caller's callbacks (library mode) */
  int cancelled;           /* the caller's progress callback asked to stop */
  rc_status status;        /* status of the last library error reported (cli_fail) */
} cli_io;
cli_io *cli_io_current(void);
cli_io *cli_io_set(cli_io *io); /* this thread's streams from now on (NULL: the process's); returns the former */
FILE *cli_stdout(void);
FILE *cli_stderr(void);

/* Progress of long runs: a one-line display on a terminal (only on a TTY,
 * after one second), or the rc_command caller's callback, which may cancel:
 * cli_progress_update returns non-zero then, and the run stops with RC_ECANCELLED. */
typedef struct {
  const char *label;
  double start, last;
  int shown, enabled;
} cli_progress;
void cli_progress_init(cli_progress *p, const char *label, int quiet);
int cli_progress_update(double fraction, void *ctx);
void cli_progress_done(cli_progress *p);

int cmd_data(int argc, char **argv);
int cmd_spectrum(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_fixedpoint(int argc, char **argv);
int cmd_selfconsistent(int argc, char **argv);
int cmd_phase(int argc, char **argv);
int cmd_figures(int argc, char **argv);

/* Run one command line (argv[0] is the program name) as main() would. */
int cli_dispatch(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Output directories made by this process: cli_outdir_begin(path) before a
 * command may create `path`; cli_outdir_end(path, rc) after it: on failure
 * (rc != 0) the directories it created and left empty are removed again. */
void cli_outdir_begin(const char *path);
void cli_outdir_end(const char *path, int rc);

int cmd_sweep(int argc, char **argv);
int cmd_sweep_merge(int argc, char **argv);

#endif
