/* checkpoint.c: checkpoint files (format in checkpoint.h): written whole
 * through rc_atomic_file, read back with every size and the checksum checked
 * before anything is trusted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/input.h"
#include "core/hash.h"
#include "repcollapse/checkpoint.h"
#include "repcollapse/io.h"

static const char MAGIC[8] = {'R', 'C', 'C', 'K', 'P', 'T', '1', '\n'};
enum { FORMAT_VERSION = 1, N_HEADER_WORDS = 16 };

void rc_checkpoint_free(rc_checkpoint *c) {
  if (!c) return;
  free(c->z);
  free(c->rows);
  free(c);
}

typedef struct {
  FILE *fp;
  uint64_t hash;
} writer;

static void put(writer *w, const void *p, size_t n) {
  fwrite(p, 1, n, w->fp);
  w->hash = rc_hash_bytes(w->hash, p, n);
}
static void put_u64(writer *w, uint64_t v) { put(w, &v, sizeof v); }
static void put_f64(writer *w, double v) { put(w, &v, sizeof v); }

rc_status rc_checkpoint_write(const char *path, const rc_checkpoint *c, rc_error *err) {
  rc_atomic_file f;
  rc_status st = rc_atomic_open(&f, path, err);
  if (st) return st;
  writer w = {f.fp, RC_HASH_INIT};
  put(&w, MAGIC, sizeof MAGIC);
  put_u64(&w, FORMAT_VERSION);
  put_u64(&w, c->fingerprint);
  put(&w, c->commit, sizeof c->commit);
  put_u64(&w, c->integrator);
  put_u64(&w, c->n);
  put_u64(&w, c->k);
  put_u64(&w, c->d);
  put_u64(&w, c->next_time);
  put_u64(&w, c->step);
  put_f64(&w, c->t);
  put_f64(&w, c->h);
  put_f64(&w, c->wall_seconds);
  put_u64(&w, RC_N_METRICS);
  put_u64(&w, c->n_rows);
  put_u64(&w, c->journal_records);
  put_u64(&w, c->journal_hash);
  put_u64(&w, c->n_z);
  if (c->n_z) put(&w, c->z, c->n_z * sizeof *c->z);
  for (size_t r = 0; r < c->n_rows; r++) {
    uint64_t mask = 0;
    put_f64(&w, c->rows[r].t);
    for (int m = 0; m < RC_N_METRICS; m++) {
      put_f64(&w, c->rows[r].value[m]);
      if (c->rows[r].valid[m]) mask |= UINT64_C(1) << m;
    }
    put_u64(&w, mask);
  }
  uint64_t sum = w.hash;
  fwrite(&sum, 1, sizeof sum, f.fp);
  return rc_atomic_commit(&f, err);
}

typedef struct {
  const unsigned char *p;
  size_t left;
} reader;

static int get(reader *r, void *out, size_t n) {
  if (r->left < n) return 0;
  memcpy(out, r->p, n);
  r->p += n;
  r->left -= n;
  return 1;
}

static rc_status damaged(const char *path, const char *what, rc_error *err) {
  return rc_error_set(err, RC_EINVAL, "checkpoint '%s' is damaged (%s); delete it to start the run afresh", path, what);
}

static rc_status parse(const char *path, const unsigned char *buf, size_t size, rc_checkpoint *c, rc_error *err) {
  if (size < sizeof MAGIC + 8 || memcmp(buf, MAGIC, sizeof MAGIC) != 0) return damaged(path, "not a repcollapse checkpoint", err);
  uint64_t sum;
  memcpy(&sum, buf + size - sizeof sum, sizeof sum);
  if (rc_hash_bytes(RC_HASH_INIT, buf, size - sizeof sum) != sum) return damaged(path, "checksum mismatch", err);
  reader r = {buf + sizeof MAGIC, size - sizeof MAGIC - sizeof sum};
  uint64_t h[N_HEADER_WORDS];
  if (!get(&r, &h[0], 16) || !get(&r, c->commit, sizeof c->commit) || !get(&r, &h[2], 8 * (N_HEADER_WORDS - 2)))
    return damaged(path, "truncated header", err);
  if (h[0] != FORMAT_VERSION) return damaged(path, "unknown format version", err);
  c->commit[sizeof c->commit - 1] = '\0';
  c->fingerprint = h[1];
  c->integrator = h[2];
  c->n = h[3];
  c->k = h[4];
  c->d = h[5];
  c->next_time = h[6];
  c->step = h[7];
  memcpy(&c->t, &h[8], 8);
  memcpy(&c->h, &h[9], 8);
  memcpy(&c->wall_seconds, &h[10], 8);
  uint64_t n_metrics = h[11];
  c->n_rows = h[12];
  c->journal_records = h[13];
  c->journal_hash = h[14];
  c->n_z = h[15];
  if (n_metrics != RC_N_METRICS) return damaged(path, "written with another set of metrics", err);
  size_t row_bytes = 8 * (RC_N_METRICS + 2);
  if (c->n_z > r.left / 8 || c->n_rows > (r.left - 8 * c->n_z) / row_bytes ||
      r.left != 8 * c->n_z + row_bytes * c->n_rows)
    return damaged(path, "sizes do not match the file", err);
  c->z = rc_calloc(c->n_z, sizeof *c->z, "checkpoint state", err);
  c->rows = rc_calloc(c->n_rows, sizeof *c->rows, "checkpoint rows", err);
  if (!c->z || !c->rows) return RC_ENOMEM;
  get(&r, c->z, 8 * c->n_z);
  for (size_t k = 0; k < c->n_rows; k++) {
    uint64_t mask = 0;
    get(&r, &c->rows[k].t, 8);
    for (int m = 0; m < RC_N_METRICS; m++) get(&r, &c->rows[k].value[m], 8);
    get(&r, &mask, 8);
    for (int m = 0; m < RC_N_METRICS; m++) c->rows[k].valid[m] = (int)((mask >> m) & 1);
  }
  return RC_OK;
}

rc_status rc_checkpoint_read(const char *path, rc_checkpoint **out, rc_error *err) {
  *out = NULL;
  struct stat sb;
  if (stat(path, &sb) != 0 && errno == ENOENT) return RC_OK;
  FILE *fp; /* a regular file, its size within the memory budget (core/input.h) */
  rc_status st0 = rc_input_open_budget(path, "checkpoint", 3.0, &fp, NULL, err);
  if (st0) return st0;
  unsigned char *buf = NULL;
  size_t size = 0, cap = 0, got;
  rc_status st = RC_OK;
  do {
    if (size == cap) {
      unsigned char *bigger = realloc(buf, cap = cap ? 2 * cap : 1 << 16);
      if (!bigger) {
        st = rc_error_set(err, RC_ENOMEM, "cannot read checkpoint '%s': out of memory", path);
        break;
      }
      buf = bigger;
    }
    got = fread(buf + size, 1, cap - size, fp);
    size += got;
  } while (got > 0);
  if (!st && ferror(fp)) st = rc_error_set(err, RC_EIO, "cannot read checkpoint '%s'", path);
  fclose(fp);
  rc_checkpoint *c = st ? NULL : rc_calloc(1, sizeof *c, "checkpoint", err);
  if (!st && !c) st = RC_ENOMEM;
  if (!st) st = parse(path, buf, size, c, err);
  free(buf);
  if (st) {
    rc_checkpoint_free(c);
    return st;
  }
  *out = c;
  return RC_OK;
}
