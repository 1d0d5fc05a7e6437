/* plot.c: figures rendered by gnuplot (plot.h). The script is prefixed with
 * the terminal and output lines and piped to gnuplot; the PNG and the SVG are
 * each written under a temporary name and renamed into place only when
 * gnuplot succeeded and the file it left is whole. gnuplot does not check its
 * own writes (on a full disk it exits 0 over a truncated file), so the file
 * is checked here: flushed to disk, and ending as a PNG (its IEND chunk) or
 * an SVG (`</svg>`) must end. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "repcollapse/io.h"
#include "repcollapse/plot.h"

int rc_plot_available(void) { return system("gnuplot -e \"set terminal pngcairo\" >/dev/null 2>&1") == 0; }

/* Is the file at `tmp` a whole PNG or SVG? 0 if so; else an errno-like reason in *why. */
static int check_whole(const char *tmp, int png, char *why, size_t n) {
  int fd = open(tmp, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, n, "gnuplot left no file (%s)", strerror(errno));
    return 1;
  }
  struct stat sb;
  int bad = 0;
  if (fsync(fd) != 0 && errno != EINVAL) {
    snprintf(why, n, "%s", strerror(errno));
    bad = 1;
  } else if (fstat(fd, &sb) != 0 || sb.st_size < 16) {
    snprintf(why, n, "gnuplot's output is empty or truncated (%lld bytes): is the disk full?", (long long)sb.st_size);
    bad = 1;
  } else {
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    unsigned char tail[64];
    off_t want = sb.st_size < (off_t)sizeof tail ? sb.st_size : (off_t)sizeof tail;
    ssize_t got = pread(fd, tail, (size_t)want, sb.st_size - want);
    int whole = 0;
    if (got == want && png) {
      whole = got >= 12 && memcmp(tail + got - 12, iend, 12) == 0;
    } else if (got == want) {
      ssize_t end = got;
      while (end > 0 && (tail[end - 1] == '\n' || tail[end - 1] == '\r' || tail[end - 1] == ' ')) end--;
      whole = end >= 6 && memcmp(tail + end - 6, "</svg>", 6) == 0;
    }
    if (!whole) {
      snprintf(why, n, "gnuplot's output is truncated (%lld bytes, no %s at its end): is the disk full?",
               (long long)sb.st_size, png ? "PNG IEND chunk" : "</svg>");
      bad = 1;
    }
  }
  close(fd);
  return bad;
}

static rc_status render(const char *script, const char *path, const char *terminal, int png, rc_error *err) {
  char tmp[4200], log[4300], cmd[4400];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  snprintf(log, sizeof log, "%s.log", tmp);
  snprintf(cmd, sizeof cmd, "exec gnuplot 2>'%s'", log);
  if (strchr(log, '\'')) return rc_error_set(err, RC_EIO, "cannot plot into '%s': a quote in the path", path);
  const int slot_tmp = rc_cleanup_register(tmp), slot_log = rc_cleanup_register(log);
  rc_status st = RC_OK;
  FILE *gp = popen(cmd, "w");
  if (!gp) {
    st = rc_error_set(err, RC_EIO, "cannot start gnuplot for '%s': %s", path, strerror(errno));
  } else {
    fprintf(gp, "set terminal %s\nset output '%s'\n%s\nunset output\n", terminal, tmp, script);
    int wbad = fflush(gp) != 0 || ferror(gp); /* gnuplot gone: EPIPE */
    int status = pclose(gp);
    char why[300] = "";
    if (status != 0 || wbad) {
      FILE *lf = fopen(log, "r");
      if (lf) {
        if (!fgets(why, sizeof why, lf)) why[0] = '\0';
        fclose(lf);
      }
      why[strcspn(why, "\n")] = '\0';
      if (!why[0] && status != -1 && WIFSIGNALED(status))
        snprintf(why, sizeof why, "gnuplot was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
      else if (!why[0] && status != -1 && WIFEXITED(status) && WEXITSTATUS(status))
        snprintf(why, sizeof why, "gnuplot exited with status %d", WEXITSTATUS(status));
      st = rc_error_set(err, RC_EIO, "gnuplot failed on '%s': %s", path, why[0] ? why : "(no message)");
    } else if (check_whole(tmp, png, why, sizeof why)) {
      st = rc_error_set(err, RC_EIO, "cannot write '%s': %s", path, why);
    } else if (rename(tmp, path) != 0) {
      st = rc_error_set(err, RC_EIO, "cannot move '%s' into place: %s", path, strerror(errno));
    }
  }
  if (st) unlink(tmp);
  unlink(log);
  rc_cleanup_unregister(slot_tmp);
  rc_cleanup_unregister(slot_log);
  return st;
}

rc_status rc_plot_render(const char *script, const char *stem, int width, int height, rc_error *err) {
  char path[4200], term[200];
  snprintf(path, sizeof path, "%s.png", stem);
  snprintf(term, sizeof term, "pngcairo size %d,%d font 'DejaVu Sans,11'", width, height);
  rc_status st = render(script, path, term, 1, err);
  if (st) return st;
  snprintf(path, sizeof path, "%s.svg", stem);
  snprintf(term, sizeof term, "svg size %d,%d font 'DejaVu Sans,11' background rgb 'white'", width, height);
  return render(script, path, term, 0, err);
}
