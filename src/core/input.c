/* input.c: opening the user's files for reading (input.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/input.h"
#include "core/memory.h"

static const char *file_kind(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

rc_status rc_input_open(const char *path, const char *what, FILE **fp, double *size, rc_error *err) {
  *fp = NULL;
  if (size) *size = 0;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return rc_error_set(err, RC_EIO, "cannot read %s '%s': %s", what, path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return rc_error_set(err, RC_EIO, "cannot read %s '%s': %s", what, path, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return rc_error_set(err, RC_EINVAL, "cannot read %s '%s': it is %s, not a regular file", what, path,
                        file_kind(sb.st_mode));
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  *fp = fdopen(fd, "rb");
  if (!*fp) {
    int e = errno;
    close(fd);
    return rc_error_set(err, RC_EIO, "cannot read %s '%s': %s", what, path, strerror(e));
  }
  if (size) *size = (double)sb.st_size;
  return RC_OK;
}

rc_status rc_input_open_budget(const char *path, const char *what, double bytes_per_byte, FILE **fp, double *size,
                               rc_error *err) {
  double n = 0;
  rc_status st = rc_input_open(path, what, fp, &n, err);
  if (st) return st;
  if (size) *size = n;
  char desc[600], b[32];
  snprintf(desc, sizeof desc, "reading %s '%.400s' (%s)", what, path, rc_format_bytes(n, b, sizeof b));
  st = rc_memory_check(bytes_per_byte * n, desc, err);
  if (st) {
    fclose(*fp);
    *fp = NULL;
  }
  return st;
}

json_t *rc_input_json_load(const char *path, size_t flags, json_error_t *je) {
  FILE *fp;
  rc_error err;
  if (rc_input_open_budget(path, "file", 8.0, &fp, NULL, &err)) {
    if (je) {
      memset(je, 0, sizeof *je);
      /* the reason after "cannot read file 'PATH': " */
      const char *why = strstr(err.msg, "': ");
      snprintf(je->text, sizeof je->text, "%.150s", why ? why + 3 : err.msg);
    }
    return NULL;
  }
  json_t *j = json_loadf(fp, flags, je);
  fclose(fp);
  return j;
}
