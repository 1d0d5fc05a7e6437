/* inputs_fashion_mnist.c: the Fashion-MNIST images of Debian's package
 * dataset-fashion-mnist (docs/model.md section 6.3, inputs.h): a reader of
 * gzip-compressed IDX files (zlib), the normalisation by the training set's
 * per-pixel mean and mean squared norm, and the seeded choice of samples
 * (inputs_select.c). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/alloc.h"
#include "repcollapse/inputs.h"

/* Refuse an IDX file claiming more than this many bytes (Fashion-MNIST's largest is 47 MB). */
#define RC_IDX_MAX_BYTES ((size_t)1 << 31)

void rc_idx_free(rc_idx *x) {
  if (!x) return;
  free(x->data);
  x->data = NULL;
}

/* read exactly n bytes; a short read is a truncated (or corrupt) stream */
static rc_status gz_read_all(gzFile f, uint8_t *buf, size_t n, const char *path, const char *what, rc_error *err) {
  size_t got = 0;
  while (got < n) {
    const size_t chunk = n - got > (size_t)1 << 30 ? (size_t)1 << 30 : n - got;
    const int k = gzread(f, buf + got, (unsigned)chunk);
    if (k < 0) {
      int zerr = 0;
      const char *msg = gzerror(f, &zerr);
      return rc_error_set(err, RC_EIO, "%s: corrupt compressed data in %s (%s)", path, what, msg ? msg : "zlib error");
    }
    if (k == 0) return rc_error_set(err, RC_EIO, "%s: truncated: the file ends inside %s (%zu of %zu bytes)", path,
                                    what, got, n);
    got += (size_t)k;
  }
  return RC_OK;
}

rc_status rc_idx_read(const char *path, size_t rank, rc_idx *out, rc_error *err) {
  memset(out, 0, sizeof *out);
  gzFile f = gzopen(path, "rb");
  if (!f) return rc_error_set(err, RC_EIO, "cannot open %s: %s", path, errno ? strerror(errno) : "zlib error");
  uint8_t head[4];
  rc_status st = gz_read_all(f, head, 4, path, "the IDX header", err);
  if (!st && (head[0] != 0 || head[1] != 0 || head[2] != 0x08))
    st = rc_error_set(err, RC_EINVAL, "%s: not an IDX file of unsigned bytes (magic %02x %02x %02x %02x)", path,
                      head[0], head[1], head[2], head[3]);
  if (!st && head[3] != rank)
    st = rc_error_set(err, RC_EINVAL, "%s: IDX rank %u, expected %zu", path, head[3], rank);
  size_t count = 1;
  for (size_t k = 0; !st && k < rank; k++) {
    uint8_t b[4];
    st = gz_read_all(f, b, 4, path, "the IDX dimensions", err);
    if (st) break;
    const size_t dim = ((size_t)b[0] << 24) | ((size_t)b[1] << 16) | ((size_t)b[2] << 8) | (size_t)b[3];
    if (dim == 0) st = rc_error_set(err, RC_EINVAL, "%s: IDX dimension %zu is 0", path, k);
    else if (count > RC_IDX_MAX_BYTES / dim)
      st = rc_error_set(err, RC_EINVAL, "%s: IDX dimensions claim more than %zu bytes", path, RC_IDX_MAX_BYTES);
    else {
      out->dims[k] = dim;
      count *= dim;
    }
  }
  if (!st) {
    out->rank = rank;
    out->count = count;
    out->data = rc_calloc(count, 1, "IDX data", err);
    if (!out->data) st = RC_ENOMEM;
  }
  if (!st) st = gz_read_all(f, out->data, count, path, "the IDX data", err);
  if (!st) { /* the stream must end here (which also checks the gzip trailer's CRC) */
    uint8_t extra;
    const int k = gzread(f, &extra, 1);
    if (k < 0) {
      int zerr = 0;
      const char *msg = gzerror(f, &zerr);
      st = rc_error_set(err, RC_EIO, "%s: corrupt compressed data (%s)", path, msg ? msg : "zlib error");
    } else if (k > 0)
      st = rc_error_set(err, RC_EINVAL, "%s: trailing bytes after the %zu bytes its IDX header announces", path,
                        count);
  }
  const int zc = gzclose(f);
  if (!st && zc != Z_OK) st = rc_error_set(err, RC_EIO, "%s: corrupt compressed data (zlib error %d)", path, zc);
  if (st) rc_idx_free(out);
  return st;
}

rc_fashion_mnist_spec rc_fashion_mnist_spec_default(void) {
  rc_fashion_mnist_spec s;
  memset(&s, 0, sizeof s);
  s.per_class = 30;
  s.n_test = RC_INPUTS_ALL_TEST;
  s.seed = 1;
  return s;
}

/* images (n x rows x cols) and labels (n) of one split, checked against each other */
static rc_status read_split(const char *dir, const char *prefix, rc_idx *img, rc_idx *lab, rc_error *err) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
  rc_status st = rc_idx_read(p, 3, img, err);
  if (st) return st;
  snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
  st = rc_idx_read(p, 1, lab, err);
  if (!st && lab->dims[0] != img->dims[0])
    st = rc_error_set(err, RC_EINVAL, "%s: %zu labels for %zu images", p, lab->dims[0], img->dims[0]);
  for (size_t i = 0; !st && i < lab->count; i++)
    if (lab->data[i] > 9) st = rc_error_set(err, RC_EINVAL, "%s: label %u of image %zu is outside 0..9", p, lab->data[i], i);
  if (st) {
    rc_idx_free(img);
    rc_idx_free(lab);
  }
  return st;
}

rc_status rc_fashion_mnist_load(const rc_fashion_mnist_spec *s, rc_ts_data **out, size_t **source_index,
                                rc_error *err) {
  *out = NULL;
  if (source_index) *source_index = NULL;
  if (s->per_class == 0) return rc_error_set(err, RC_EINVAL, "--per-class must be positive");
  const char *dir = s->dir ? s->dir : RC_FASHION_MNIST_DIR;
  rc_idx img = {0}, lab = {0}, timg = {0}, tlab = {0};
  rc_status st = read_split(dir, "train", &img, &lab, err);
  if (st) return st;
  if (s->n_test) st = read_split(dir, "t10k", &timg, &tlab, err);
  if (!st && s->n_test && (timg.dims[1] != img.dims[1] || timg.dims[2] != img.dims[2]))
    st = rc_error_set(err, RC_EINVAL, "%s: test images are %zu x %zu, training images %zu x %zu", dir, timg.dims[1],
                      timg.dims[2], img.dims[1], img.dims[2]);
  rc_ts_data *d = NULL;
  size_t *rows = NULL;
  uint32_t *labels = NULL;
  double *mean = NULL;
  const size_t n_pool = img.dims[0], D = img.dims[1] * img.dims[2];
  if (!st) {
    d = rc_calloc(1, sizeof *d, "Fashion-MNIST data", err);
    labels = rc_calloc(n_pool, sizeof *labels, "labels", err);
    mean = rc_calloc(D, sizeof *mean, "pixel means", err);
    if (!d || !labels || !mean) st = RC_ENOMEM;
  }
  if (!st) {
    for (size_t i = 0; i < n_pool; i++) labels[i] = lab.data[i];
    st = rc_inputs_select(labels, n_pool, 10, s->per_class, s->frustration, s->seed, "Fashion-MNIST", d, &rows, err);
  }
  if (!st) { /* the training set's per-pixel mean and mean squared norm of the centred images */
    for (size_t i = 0; i < n_pool; i++)
      for (size_t k = 0; k < D; k++) mean[k] += img.data[i * D + k] / 255.0;
    for (size_t k = 0; k < D; k++) mean[k] /= (double)n_pool;
    double s2 = 0.0;
    for (size_t i = 0; i < n_pool; i++)
      for (size_t k = 0; k < D; k++) {
        const double v = img.data[i * D + k] / 255.0 - mean[k];
        s2 += v * v;
      }
    const double scale = 1.0 / sqrt(s2 / (double)n_pool);
    const size_t T = s->n_test < timg.dims[0] ? s->n_test : timg.dims[0]; /* ALL_TEST is SIZE_MAX */
    d->D = D;
    d->n_test = T;
    d->U = rc_calloc(d->n * D + 1, sizeof(double), "inputs", err);
    d->U_test = rc_calloc(T * D + 1, sizeof(double), "test inputs", err);
    d->test_label = rc_calloc(T + 1, sizeof(uint32_t), "test labels", err);
    if (!d->U || !d->U_test || !d->test_label) st = RC_ENOMEM;
    for (size_t i = 0; !st && i < d->n; i++)
      for (size_t k = 0; k < D; k++) d->U[i * D + k] = (img.data[rows[i] * D + k] / 255.0 - mean[k]) * scale;
    for (size_t i = 0; !st && i < T; i++) {
      d->test_label[i] = tlab.data[i];
      for (size_t k = 0; k < D; k++) d->U_test[i * D + k] = (timg.data[i * D + k] / 255.0 - mean[k]) * scale;
    }
  }
  rc_idx_free(&img);
  rc_idx_free(&lab);
  rc_idx_free(&timg);
  rc_idx_free(&tlab);
  free(labels);
  free(mean);
  if (st) {
    rc_ts_data_free(d);
    free(rows);
    return st;
  }
  if (source_index) *source_index = rows;
  else free(rows);
  *out = d;
  return RC_OK;
}
