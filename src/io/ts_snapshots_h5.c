/* ts_snapshots_h5.c: DIR/snapshots.h5 of a teacher-student run (layout in
 * README.md): the trained parameters at every recorded time and everything an
 * independent program needs to recompute the dynamics (inputs, observations).
 * Written whole to a temporary name and renamed when complete. */
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
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  /* HDF5 1.10 crashes in its exit handler when a file could not be closed
   * (a full disk, a file size limit): keep it from installing one, as snapshots_h5.c */
  H5dont_atexit();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported through rc_error */
  const int slot = rc_cleanup_register(tmp);
  hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) {
    rc_cleanup_unregister(slot);
    return rc_error_set(err, RC_EIO, "cannot create HDF5 file '%s'", path);
  }
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
    rc |= write_array(file, "/observations", H5T_NATIVE_LLONG, 2, dob, obs);
    hsize_t dc[1] = {M};
    rc |= write_array(file, "/observation_counts", H5T_NATIVE_DOUBLE, 1, dc, data->ds->counts);
    for (size_t i = 0; i < N; i++) obs[i] = (long long)data->teacher_label[i];
    hsize_t dn[1] = {N};
    rc |= write_array(file, "/teacher_label", H5T_NATIVE_LLONG, 1, dn, obs);
  }
  free(obs);
  hsize_t dt[1] = {s->n_times}, du[2] = {N, D};
  rc |= write_array(file, "/t", H5T_NATIVE_DOUBLE, 1, dt, s->times);
  rc |= write_array(file, "/step", H5T_NATIVE_LLONG, 1, dt, s->steps);
  rc |= write_array(file, "/inputs", H5T_NATIVE_DOUBLE, 2, du, data->U);
  rc |= write_block(file, "/W", s, 0, d, D);
  rc |= write_block(file, "/labels", s, d * D, K, d);
  if (s->has_head) rc |= write_block(file, "/head", s, d * D + K * d, d, d);
  hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
  rc |= write_attr(root, "n_samples", N) | write_attr(root, "n_classes", K) | write_attr(root, "dim", d) |
        write_attr(root, "input_dim", D);
  H5Gclose(root);
  if (H5Fclose(file) < 0) rc = -1;
  if (rc || rename(tmp, path) != 0) {
    remove(tmp);
    rc_cleanup_unregister(slot);
    return rc_error_set(err, RC_EIO, "cannot write HDF5 file '%s'", path);
  }
  rc_cleanup_unregister(slot);
  return RC_OK;
}
