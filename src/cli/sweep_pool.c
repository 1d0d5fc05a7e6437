/* sweep_pool.c: a sweep's points run in worker processes, one fork per point
 * and at most --jobs at a time. Processes, not threads: HDF5 and parts of the
 * library keep global state, and a point that crashes takes only its own
 * process down. A child reports why it failed through a pipe; the parent
 * keeps the count and, on a terminal, a progress line (points, rate, ETA). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/sweep_cli.h"

typedef struct {
  pid_t pid;
  size_t point;
  int fd; /* read end of the child's message pipe */
} worker;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void format_duration(double s, char *buf, size_t n) {
  if (s < 90) snprintf(buf, n, "%.0f s", s);
  else if (s < 5400) snprintf(buf, n, "%.1f min", s / 60);
  else snprintf(buf, n, "%.1f h", s / 3600);
}

static void show_progress(size_t done, size_t n, size_t resumed, double start) {
  double el = now() - start, rate = el > 0 ? (double)done / el : 0.0;
  char eta[32] = "?";
  if (rate > 0) format_duration((double)(n - done) / rate, eta, sizeof eta);
  fprintf(cli_stderr(), "\rrepcollapse sweep: %zu/%zu points", done, n);
  if (resumed) fprintf(cli_stderr(), " (+%zu resumed)", resumed);
  fprintf(cli_stderr(), "  %.3g/s  eta %s   ", rate, eta);
  fflush(cli_stderr());
}

static void note_lost(sweep_pool_report *rep, size_t p, const char *msg) {
  if (rep->lost++ == 0) {
    rep->first_lost = p;
    snprintf(rep->first_lost_msg, sizeof rep->first_lost_msg, "%s", msg);
  }
}

/* Child: run the point, send the reason of a failure, leave. */
static void child(const sweep_job *job, size_t p, int fd) {
  char msg[600] = "";
  int rc = sweep_run_point(job, p, msg, sizeof msg);
  if (rc && msg[0]) {
    ssize_t w = write(fd, msg, strlen(msg));
    (void)w;
  }
  close(fd);
  if (job->in_mpi) _exit(rc); /* no atexit handlers: the MPI state belongs to the parent */
  exit(rc);
}

/* Spawn point p into slot w; 0 on success. */
static int spawn(const sweep_job *job, size_t p, worker *w, char *msg, size_t n) {
  int pfd[2];
  if (pipe(pfd) != 0) {
    snprintf(msg, n, "cannot create a pipe: %s", strerror(errno));
    return 1;
  }
  fflush(NULL); /* or the child would write the parent's buffered output again */
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(msg, n, "cannot start a worker process: %s", strerror(errno));
    close(pfd[0]);
    close(pfd[1]);
    return 1;
  }
  if (pid == 0) {
    close(pfd[0]);
    child(job, p, pfd[1]);
  }
  close(pfd[1]);
  w->pid = pid;
  w->point = p;
  w->fd = pfd[0];
  return 0;
}

/* Collect a finished child's status and message. */
static void reap(worker *w, int status, sweep_pool_report *rep) {
  char msg[600];
  size_t len = 0;
  ssize_t r;
  while (len + 1 < sizeof msg && ((r = read(w->fd, msg + len, sizeof msg - 1 - len)) > 0 || (r < 0 && errno == EINTR)))
    if (r > 0) len += (size_t)r;
  msg[len] = '\0';
  close(w->fd);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    rep->done++;
  } else {
    if (!len && WIFSIGNALED(status))
      snprintf(msg, sizeof msg, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (!len)
      snprintf(msg, sizeof msg, "worker exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    note_lost(rep, w->point, msg);
  }
  w->pid = 0;
}

/* Under rc_command: the points one after another in this process (a process
 * that embeds the library, such as Python, must not fork without exec: after
 * OpenMP has run, libgomp hangs in the child). The caller's progress callback
 * hears of every point (and of each point's run) and may stop the sweep; the
 * point it stops in leaves no record, so rerunning the sweep resumes there. */
static void run_in_process(const sweep_job *job, const size_t *points, size_t n, sweep_pool_report *rep) {
  for (size_t k = 0; k < n; k++) {
    if (cli_progress_update((double)k / (double)n, NULL)) {
      for (; k < n; k++) note_lost(rep, points[k], "cancelled");
      return;
    }
    char msg[600] = "";
    if (sweep_run_point(job, points[k], msg, sizeof msg)) note_lost(rep, points[k], msg[0] ? msg : "failed");
    else rep->done++;
    if (cli_io_current()->cancelled) { /* inside the point: it left no record */
      for (k++; k < n; k++) note_lost(rep, points[k], "cancelled");
      return;
    }
  }
  if (n) cli_progress_update(1.0, NULL);
}

void sweep_pool_run(const sweep_job *job, const size_t *points, size_t n, size_t jobs, int progress,
                    size_t resumed, sweep_pool_report *rep) {
  memset(rep, 0, sizeof *rep);
  if (cli_io_current()->library) {
    run_in_process(job, points, n, rep);
    return;
  }
  if (jobs > n) jobs = n;
  worker *ws = calloc(jobs ? jobs : 1, sizeof *ws);
  if (!ws) {
    for (size_t k = 0; k < n; k++) note_lost(rep, points[k], "out of memory");
    return;
  }
  size_t next = 0, running = 0;
  const double start = now();
  int spawn_failed = 0;
  if (progress && n) show_progress(0, n, resumed, start);
  while ((next < n && !spawn_failed) || running) {
    for (size_t s = 0; s < jobs && next < n && !spawn_failed; s++) {
      if (ws[s].pid) continue;
      char msg[200];
      if (spawn(job, points[next], &ws[s], msg, sizeof msg)) {
        spawn_failed = 1; /* finish what runs; the rest is lost (rerun the command) */
        for (; next < n; next++) note_lost(rep, points[next], msg);
        break;
      }
      next++;
      running++;
    }
    if (!running) break;
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: nothing left to wait for */
    }
    for (size_t s = 0; s < jobs; s++)
      if (ws[s].pid == pid) {
        reap(&ws[s], status, rep);
        running--;
        if (progress) show_progress(rep->done + rep->lost, n, resumed, start);
      }
  }
  if (progress && n) fputc('\n', cli_stderr());
  free(ws);
}
