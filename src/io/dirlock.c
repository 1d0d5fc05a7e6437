/* dirlock.c: one writer per output directory (io.h). Every command that
 * writes a directory (run, figures, sweep, sweep-merge) holds DIR/.lock for
 * as long as it writes there, so two commands given the same --out can never
 * mix their files: the second is refused, naming the first's pid.
 *
 * The lock is flock(2) on DIR/.lock: tied to the open file, so it is released
 * however the holder ends (even kill -9), and two holders in one process (two
 * threads of a program calling the library) exclude each other too. The file
 * holds the holder's pid, for the message. It is removed on release (while
 * still locked); a process that opened it just before then finds, once it has
 * the lock, that the path no longer names its file, and starts over. */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repcollapse/io.h"

/* how long a lock whose holder is not (or not yet) a live process is waited for */
#define LOCK_WAIT_MS 3000

/* whether pid names a live process (a zombie is not: it holds no files) */
static int holder_alive(long pid) {
  if (pid <= 0) return 0;
  if (kill((pid_t)pid, 0) != 0 && errno != EPERM) return 0;
  char path[64], text[256];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *fp = fopen(path, "r");
  if (!fp) return 1; /* no /proc: trust kill() */
  size_t n = fread(text, 1, sizeof text - 1, fp);
  fclose(fp);
  text[n] = 0;
  const char *close_paren = strrchr(text, ')');
  return !(close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z');
}

struct rc_dir_lock {
  int fd;
  int slot;
  char path[4200];
};

rc_status rc_dir_lock_acquire(const char *dir, rc_dir_lock **out, rc_error *err) {
  *out = NULL;
  rc_dir_lock *l = calloc(1, sizeof *l);
  if (!l) return rc_error_set(err, RC_ENOMEM, "out of memory");
  if (snprintf(l->path, sizeof l->path, "%s/.lock", dir) >= (int)sizeof l->path) {
    free(l);
    return rc_error_set(err, RC_EIO, "path too long: %.60s...", dir);
  }
  int waited_ms = 0;
  for (int attempt = 0; attempt < 100; attempt++) {
    int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
      int e = errno;
      free(l);
      return rc_error_set(err, RC_EIO, "cannot create the lock file '%s/.lock': %s", dir, strerror(e));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      char buf[32] = "";
      ssize_t n = e == EWOULDBLOCK ? pread(fd, buf, sizeof buf - 1, 0) : -1;
      close(fd);
      long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
      /* A holder that is alive is refused at once. Otherwise wait a little:
       * a holder between its flock and writing its pid, or a killed sweep
       * whose workers (which share its lock) are still exiting. */
      if (e == EWOULDBLOCK && !holder_alive(pid) && waited_ms < LOCK_WAIT_MS) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited_ms += 10;
        attempt--;
        continue;
      }
      if (e == EWOULDBLOCK && pid > 0) {
        rc_error_set(err, RC_EIO,
                     "'%s' is being written by another repcollapse process (pid %ld holds '%s/.lock'): wait for it "
                     "to finish or choose another --out", dir, pid, dir);
      } else if (e == EWOULDBLOCK) {
        rc_error_set(err, RC_EIO,
                     "'%s' is being written by another repcollapse process (it holds '%s/.lock'): wait for it to "
                     "finish or choose another --out", dir, dir);
      } else {
        rc_error_set(err, RC_EIO, "cannot lock '%s/.lock': %s", dir, strerror(e));
      }
      free(l);
      return RC_EIO;
    }
    struct stat held, named;
    if (fstat(fd, &held) != 0 || stat(l->path, &named) != 0 || held.st_ino != named.st_ino ||
        held.st_dev != named.st_dev) {
      close(fd); /* the former holder removed this file as we opened it: take the new one */
      continue;
    }
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    /* the pid first, then the length: the file never reads empty while held */
    if (pwrite(fd, buf, (size_t)len, 0) != len || ftruncate(fd, len) != 0) {
      int e = errno;
      unlink(l->path);
      close(fd);
      free(l);
      return rc_error_set(err, RC_EIO, "cannot write the lock file '%s/.lock': %s", dir, strerror(e));
    }
    l->fd = fd;
    l->slot = rc_cleanup_register(l->path);
    *out = l;
    return RC_OK;
  }
  free(l);
  return rc_error_set(err, RC_EIO, "cannot lock '%s/.lock': it keeps being replaced", dir);
}

void rc_dir_lock_release(rc_dir_lock *l) {
  if (!l) return;
  rc_cleanup_unregister(l->slot);
  unlink(l->path); /* still holding it: see above */
  close(l->fd);
  free(l);
}
