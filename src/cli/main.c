/* main.c: the repcollapse executable, the only code outside the library: it
 * installs the program's signal handlers (the library installs none) and hands
 * its command line to rc_command_main (command.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "repcollapse/command.h"
#include "repcollapse/io.h"

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
  return rc_command_main(argc, argv);
}
