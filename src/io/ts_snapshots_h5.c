/* ts_snapshots_h5.c: DIR/snapshots.h5 of a teacher-student run (layout in
 * README.md): the trained parameters at every recorded time and everything an
 * independent program needs to recompute the dynamics (inputs, observations).
 * Built in memory and written whole to a temporary name, renamed when complete. */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repcollapse/io.h"
#include "repcollapse/teacher.h"

static int write_array(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data) {
  hid_t space = H5Screate_simple(rank, dims, NULL);
  if (space < 0) return -1;
  hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  int rc = ds < 0 ? -1 : (H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0);
  if (ds >= 0) H5Dclose(ds);
  H5Sclose(space);
  return rc;
}

static int write_attr(hid_t obj, const char *name, unsigned long long v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, H5T_NATIVE_ULLONG, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a < 0 ? -1 : (H5Awrite(a, H5T_NATIVE_ULLONG, &v) < 0 ? -1 : 0);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return rc;
}

/* one parameter block (offset, rows x cols) of every recorded state, gathered */
static int write_block(hid_t file, const char *name, const rc_ts_snapshots *s, size_t off, size_t rows, size_t cols) {
  double *buf = malloc((s->n_times * rows * cols + 1) * sizeof *buf);
  if (!buf) return -1;
  for (size_t k = 0; k < s->n_times; k++)
    memcpy(buf + k * rows * cols, s->states + k * s->state_size + off, rows * cols * sizeof *buf);
  hsize_t dims[3] = {s->n_times, rows, cols};
  int rc = write_array(file, name, H5T_NATIVE_DOUBLE, 3, dims, buf);
  free(buf);
  return rc;
}

rc_status rc_ts_snapshots_write(const char *path, const rc_ts_snapshots *s, rc_error *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported through rc_error */
  /* The file is built in memory (HDF5's core driver, no backing store) and written with plain stdio
   * through rc_atomic: a full disk or a file-size limit is an ordinary write error, and HDF5 never
   * holds a half-written file (driving it on after a failed write, or its shutdown at exit, crashed). */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) < 0) {
    if (fapl >= 0) H5Pclose(fapl);
    return rc_error_set(err, RC_EIO, "cannot create HDF5 file '%s' (in memory)", path);
  }
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (file < 0) return rc_error_set(err, RC_EIO, "cannot create HDF5 file '%s' (in memory)", path);
  const rc_ts_data *data = s->data;
  const size_t N = data->n, D = data->D, K = data->K, d = s->d, M = data->ds->nnz;
  long long *obs = malloc((2 * M + N + 1) * sizeof *obs);
  int rc = obs ? 0 : -1;
  if (!rc) { /* the nonzero entries of A: (sample, label) pairs and their counts A_ic */
    size_t q = 0;
    for (size_t i = 0; i < N; i++)
      for (size_t j = data->ds->row_ptr[i]; j < data->ds->row_ptr[i + 1]; j++) {
        obs[2 * q] = (long long)i;
        obs[2 * q + 1] = (long long)data->ds->labels[j];
        q++;
      }
    hsize_t dob[2] = {M, 2};
    if (!rc) rc = write_array(file, "/observations", H5T_NATIVE_LLONG, 2, dob, obs);
    hsize_t dc[1] = {M};
    if (!rc) rc = write_array(file, "/observation_counts", H5T_NATIVE_DOUBLE, 1, dc, data->ds->counts);
    for (size_t i = 0; i < N; i++) obs[i] = (long long)data->teacher_label[i];
    hsize_t dn[1] = {N};
    if (!rc) rc = write_array(file, "/teacher_label", H5T_NATIVE_LLONG, 1, dn, obs);
  }
  free(obs);
  hsize_t dt[1] = {s->n_times}, du[2] = {N, D};
  if (!rc) rc = write_array(file, "/t", H5T_NATIVE_DOUBLE, 1, dt, s->times);
  if (!rc) rc = write_array(file, "/step", H5T_NATIVE_LLONG, 1, dt, s->steps);
  if (!rc) rc = write_array(file, "/inputs", H5T_NATIVE_DOUBLE, 2, du, data->U);
  if (!rc) rc = write_block(file, "/W", s, 0, d, D);
  if (!rc) rc = write_block(file, "/labels", s, d * D, K, d);
  if (s->has_head) if (!rc) rc = write_block(file, "/head", s, d * D + K * d, d, d);
  /* each write only after the previous ones succeeded: HDF5 is not to be driven on after a failed write */
  hid_t root = rc ? -1 : H5Gopen2(file, "/", H5P_DEFAULT);
  if (!rc) rc = root < 0 ? -1 : (write_attr(root, "n_samples", N) | write_attr(root, "n_classes", K) |
                                  write_attr(root, "dim", d) | write_attr(root, "input_dim", D));
  if (root >= 0) H5Gclose(root);
  if (!rc && H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) rc = -1;
  ssize_t size = rc ? -1 : H5Fget_file_image(file, NULL, 0);
  void *image = size > 0 ? malloc((size_t)size) : NULL;
  if (!image || H5Fget_file_image(file, image, (size_t)size) != size) rc = -1;
  if (H5Fclose(file) < 0) rc = -1;
  if (rc) {
    free(image);
    return rc_error_set(err, RC_EIO, "cannot build HDF5 file '%s' (out of memory?)", path);
  }
  rc_atomic_file f;
  rc_status st = rc_atomic_open(&f, path, err);
  if (!st) {
    fwrite(image, 1, (size_t)size, f.fp);
    st = rc_atomic_commit(&f, err);
  }
  free(image);
  return st;
}
