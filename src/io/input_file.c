/* input_file.c: opening a file the user names as input (observations, an
 * experiment file, a file whose hash a summary records), with the reason
 * when it cannot be read: fopen succeeds on a directory, whose first read
 * then fails with no useful message. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "repcollapse/io.h"

FILE *rc_input_open(const char *path, const char *what, rc_error *err) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    rc_error_set(err, RC_EIO, "cannot read %s '%s': %s", what, path, strerror(errno));
    return NULL;
  }
  struct stat sb;
  if (fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    fclose(fp);
    rc_error_set(err, RC_EIO, "cannot read %s '%s': it is a directory, not a file", what, path);
    return NULL;
  }
  return fp;
}

rc_status rc_input_hash(const char *path, const char *what, uint64_t *hash, rc_error *err) {
  FILE *fp = rc_input_open(path, what, err);
  if (!fp) return RC_EIO;
  uint64_t h = RC_HASH_INIT;
  unsigned char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, fp)) > 0) h = rc_hash_bytes(h, buf, n);
  int bad = ferror(fp);
  fclose(fp);
  if (bad) return rc_error_set(err, RC_EIO, "cannot read %s '%s'", what, path);
  *hash = h;
  return RC_OK;
}
