/* input_file.c: the content hash of an input file (summary.json records one
 * for each, so that a rerun notices a changed input); the file is opened as
 * every user file is (core/input.h: regular files only, with the reason). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "core/input.h"
#include "repcollapse/io.h"

rc_status rc_input_hash(const char *path, const char *what, uint64_t *hash, rc_error *err) {
  FILE *fp;
  rc_status st = rc_input_open(path, what, &fp, NULL, err); /* regular files only (core/input.h) */
  if (st) return st;
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
