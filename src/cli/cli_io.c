/* cli_io.c: where the subcommands' text goes. The repcollapse executable
 * writes to this process's stdout and stderr; rc_command (command.c) points
 * the calling thread at its own streams, which deliver to the caller. */
#include "cli/cli.h"

static _Thread_local cli_io *g_current; /* set by rc_command for the duration of a command */
static cli_io g_process;                /* the executable's: stdout and stderr */

cli_io *cli_io_current(void) {
  if (g_current) return g_current;
  if (!g_process.out) { /* stdout and stderr are not constants: set on first use */
    g_process.out = stdout;
    g_process.err = stderr;
  }
  return &g_process;
}

cli_io *cli_io_set(cli_io *io) {
  cli_io *old = g_current;
  g_current = io;
  return old;
}

FILE *cli_stdout(void) { return cli_io_current()->out; }
FILE *cli_stderr(void) { return cli_io_current()->err; }
