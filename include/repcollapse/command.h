/* command.h: the library's single entry point for running any repcollapse
 * command (run, spectrum, data, fixedpoint, selfconsistent, phase, sweep,
 * sweep-merge, figures, bench) from a program, with an option table instead
 * of a command line. The options, their names, defaults and checks are the
 * CLI's own (`repcollapse <command> --help`); what the CLI would print on
 * standard output goes to the caller's callback, an error comes back as the
 * CLI's one-line message in rc_error. The library prints nothing, never
 * exits, installs no signal handlers and (under rc_command) forks no process:
 * a sweep's points run one after another in the calling process.
 *
 * This is the interface language bindings use (the Python package binds it):
 * it stays the same when the internals behind the commands change. */
#ifndef REPCOLLAPSE_COMMAND_H
#define REPCOLLAPSE_COMMAND_H

#include <stddef.h>

#include "repcollapse/error.h"
#include "repcollapse/integrate.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Receives n bytes of a command's text; returns n, or less to report a write error. */
typedef size_t (*rc_write_fn)(const char *data, size_t n, void *ctx);

/** Where a command's output and progress go. Every field may be NULL. */
typedef struct {
  rc_write_fn out;         /* the text the CLI prints on stdout (JSON, CSV, the result line); NULL: dropped */
  void *out_ctx;
  rc_write_fn err;         /* the diagnostics the CLI prints on stderr, whole; NULL: dropped
                              (the last line, the error, is also in rc_error) */
  void *err_ctx;
  rc_progress progress;    /* fraction done of a long command (run, phase, selfconsistent, sweep);
                              a non-zero return cancels it: rc_command returns RC_ECANCELLED */
  void *progress_ctx;
} rc_command_io;

/** Run `command` with n options: keys[k] is an option's name without the
 * leading "--" (a '_' stands for '-'), values[k] its value as the CLI takes
 * it ("500", "0.01,0.1", "siam-sg"). A flag (--snapshots, --quiet, --json)
 * takes "true" (or NULL) to set it and "false" to leave it out. A NULL key
 * passes values[k] as a positional argument (sweep-merge's directories).
 * Returns RC_OK, or the status of the failure with the CLI's one-line
 * message ("repcollapse run: error: --dim: expected a positive integer
 * (got 'x')") in err; RC_ECANCELLED when io->progress asked to stop. Calls
 * from several threads run one at a time; a callback may itself call
 * rc_command. io may be NULL. */
rc_status rc_command(const char *command, size_t n, const char *const *keys, const char *const *values,
                     const rc_command_io *io, rc_error *err);

/** The repcollapse executable: argv as main() receives it; prints on this
 * process's stdout and stderr and returns the exit status (0, 1 failure,
 * 2 bad input). Installs no signal handlers (main does that). */
int rc_command_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
