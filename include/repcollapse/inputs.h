/* inputs.h: real inputs for the encoders (docs/model.md section 6.3): the
 * Fashion-MNIST images of Debian's package dataset-fashion-mnist, and a user's
 * HDF5 file. Either becomes the same rc_ts_data as the generated inputs of
 * section 4 (teacher.h): inputs U (N x D), each sample's true label
 * (teacher_label), the test set (U_test, test_label), the number of
 * frustrated samples (n_altered) and the observations (ds), so every encoder,
 * metric and output treats them alike.
 *
 * The samples (shared by both sources, src/data/inputs_select.c):
 *   - clean: n per class (per_class) drawn without replacement from the
 *     source's training samples, from an mt19937 seeded with `seed` (class 0's
 *     n first, in the order drawn, then class 1's, ...); for a file,
 *     per_class = 0 takes every sample of the file, in file order;
 *   - frustrated (`conflict` at fraction f, 6.3): F = round(f C / (1 - f))
 *     further samples, C the number of clean ones, drawn without replacement
 *     from the training samples not already taken (the same generator, after
 *     the clean ones); each is observed with its own label and with a second,
 *     uniformly random other label, so F / N = f up to rounding. A file must
 *     hold enough samples beyond the clean ones (use per_class to leave room);
 *   - N = C + F, the frustrated samples last.
 *
 * Fashion-MNIST: train-{images,labels} (60000) and t10k-{images,labels}
 * (10000) gzip-compressed IDX files, read with zlib; K = 10, D = 784;
 * u = (pixel / 255 - the training set's per-pixel mean) / sqrt(the training
 * set's mean |.|^2), over all 60000 training images, so that mean |u|^2 = 1
 * on the training set; the test images are normalised with the same (training)
 * statistics.
 *
 * A file (HDF5): datasets `inputs` (N x D, any numeric type, read as double),
 * `labels` (N, integer, 0 .. K-1 with every class present: K = largest + 1),
 * optionally `test_inputs` (T x D) with `test_labels` (T, in 0 .. K-1),
 * both or neither. Inputs are used as they are (no normalisation). Every
 * malformed case is an error with a one-line message. */
#ifndef REPCOLLAPSE_INPUTS_H
#define REPCOLLAPSE_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "repcollapse/error.h"
#include "repcollapse/teacher.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where Debian's dataset-fashion-mnist installs the files. */
#define RC_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
/** n_test: every test sample. */
#define RC_INPUTS_ALL_TEST ((size_t)-1)

/** An IDX file (unsigned-byte data): its dimensions and bytes. */
typedef struct {
  size_t rank;
  size_t dims[4];
  size_t count; /* product of dims */
  uint8_t *data;
} rc_idx;

/** Read a (gzip-compressed or plain) IDX file of unsigned bytes of the given
 * rank (zlib). A wrong magic, a rank other than `rank`, a zero or oversized
 * dimension, a truncated or corrupt stream and trailing bytes are errors
 * naming the file. */
rc_status rc_idx_read(const char *path, size_t rank, rc_idx *out, rc_error *err);
void rc_idx_free(rc_idx *x);

typedef struct {
  const char *dir;       /* NULL: RC_FASHION_MNIST_DIR */
  size_t per_class;      /* n clean training images per class (> 0) */
  double frustration;    /* f in [0, 1) */
  size_t n_test;         /* the first n_test test images (RC_INPUTS_ALL_TEST: all, 0: none) */
  unsigned long seed;    /* the data seed */
} rc_fashion_mnist_spec;

/** Defaults: the Debian directory, 30 per class, f = 0, every test image, seed 1. */
rc_fashion_mnist_spec rc_fashion_mnist_spec_default(void);

/** Load Fashion-MNIST as described above. source_index (optional, NULL to
 * skip): an array of N training-set rows (the caller frees it). */
rc_status rc_fashion_mnist_load(const rc_fashion_mnist_spec *spec, rc_ts_data **out, size_t **source_index,
                                rc_error *err);

typedef struct {
  const char *path;
  size_t per_class;      /* 0: every sample of the file is clean */
  double frustration;    /* f in [0, 1) */
  unsigned long seed;
} rc_inputs_file_spec;

rc_inputs_file_spec rc_inputs_file_spec_default(void);

/** Load a user's HDF5 inputs file as described above (source_index as for Fashion-MNIST). */
rc_status rc_inputs_file_load(const rc_inputs_file_spec *spec, rc_ts_data **out, size_t **source_index,
                              rc_error *err);

/** The shared selection (exposed for tests and other sources): from a pool of
 * n_pool labelled training samples (labels < K), the clean and frustrated
 * samples described above; fills data->n, K, teacher_label, n_altered and
 * ds, and *rows (N pool rows, caller frees). U and the test set are the
 * caller's. what names the source in messages. */
rc_status rc_inputs_select(const uint32_t *labels, size_t n_pool, size_t K, size_t per_class, double frustration,
                           unsigned long seed, const char *what, rc_ts_data *data, size_t **rows, rc_error *err);

#ifdef __cplusplus
}
#endif

#endif
