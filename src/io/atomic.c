/* atomic.c: result files written under a temporary name and renamed into
 * place only when complete, so no half-written result ever carries the final
 * name; directories created on demand. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repcollapse/io.h"

rc_status rc_atomic_open(rc_atomic_file *f, const char *path, rc_error *err) {
  memset(f, 0, sizeof *f);
  f->cleanup_slot = -1;
  if (strlen(path) >= sizeof f->path) return rc_error_set(err, RC_EIO, "path too long: %.60s...", path);
  snprintf(f->path, sizeof f->path, "%s", path);
  struct stat sb;
  if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
    /* a link, device or pipe (/dev/stdout, a FIFO): renaming would replace the
     * link or device itself, so write through it directly */
    if (S_ISDIR(sb.st_mode) || (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))) return rc_error_set(err, RC_EIO, "cannot write '%s': it is a directory", path);
    f->tmp[0] = '\0';
    f->fp = fopen(path, "w");
    if (!f->fp) return rc_error_set(err, RC_EIO, "cannot write '%s': %s", path, strerror(errno));
    return RC_OK;
  }
  snprintf(f->tmp, sizeof f->tmp, "%s.tmp.%ld", path, (long)getpid());
  f->fp = fopen(f->tmp, "w");
  if (!f->fp) return rc_error_set(err, RC_EIO, "cannot write '%s': %s", path, strerror(errno));
  f->cleanup_slot = rc_cleanup_register(f->tmp);
  return RC_OK;
}

rc_status rc_atomic_commit(rc_atomic_file *f, rc_error *err) {
  int bad = ferror(f->fp);
  int saved = errno;
  if (fflush(f->fp) != 0) {
    bad = 1;
    saved = errno;
  }
  if (!bad && fsync(fileno(f->fp)) != 0 && errno != EINVAL) { /* EINVAL: a file that cannot be synced (a pipe) */
    bad = 1;
    saved = errno;
  }
  if (fclose(f->fp) != 0) {
    bad = 1;
    saved = errno;
  }
  f->fp = NULL;
  rc_cleanup_unregister(f->cleanup_slot);
  f->cleanup_slot = -1;
  if (!f->tmp[0]) return bad ? rc_error_set(err, RC_EIO, "cannot write '%s': %s", f->path, strerror(saved ? saved : EIO)) : RC_OK;
  if (bad) {
    unlink(f->tmp);
    return rc_error_set(err, RC_EIO, "cannot write '%s': %s", f->path, strerror(saved ? saved : EIO));
  }
  if (rename(f->tmp, f->path) != 0) {
    saved = errno;
    unlink(f->tmp);
    return rc_error_set(err, RC_EIO, "cannot move '%s' into place: %s", f->path, strerror(saved));
  }
  return RC_OK;
}

void rc_atomic_abort(rc_atomic_file *f) {
  if (f->fp) fclose(f->fp);
  f->fp = NULL;
  if (f->tmp[0]) unlink(f->tmp);
  rc_cleanup_unregister(f->cleanup_slot);
  f->cleanup_slot = -1;
}

rc_status rc_mkdir_p(const char *path, rc_error *err) {
  char buf[4096];
  if (strlen(path) >= sizeof buf) return rc_error_set(err, RC_EIO, "path too long");
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return rc_error_set(err, RC_EIO, "cannot create directory '%s': %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST)
    return rc_error_set(err, RC_EIO, "cannot create directory '%s': %s", buf, strerror(errno));
  struct stat sb;
  if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return rc_error_set(err, RC_EIO, "'%s' is not a directory", buf);
  return RC_OK;
}

void rc_atomic_remove_stale(const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  if (strlen(path) >= sizeof dir) return;
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
  if (slash == path) snprintf(dir, sizeof dir, "/");
  DIR *dp = opendir(dir);
  if (!dp) return;
  size_t blen = strlen(base);
  struct dirent *e;
  while ((e = readdir(dp)) != NULL) {
    const char *name = e->d_name;
    if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0) continue;
    const char *digits = name + blen + 5;
    char *end;
    long pid = strtol(digits, &end, 10);
    if (!*digits || *end || pid <= 0 || pid == (long)getpid()) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its writer may still be running */
    char full[8400];
    snprintf(full, sizeof full, "%s/%s", dir, name);
    unlink(full);
  }
  closedir(dp);
}
