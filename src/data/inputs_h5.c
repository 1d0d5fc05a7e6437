/* inputs_h5.c: a user's inputs file (docs/model.md section 6.3, inputs.h):
 * HDF5 with datasets `inputs` (N x D) and `labels` (N), optionally
 * `test_inputs` (T x D) and `test_labels` (T). Every malformed case (missing
 * dataset, wrong rank or type, mismatched sizes, labels out of range, a class
 * without a sample, non-finite inputs) is refused with a one-line message
 * naming the file and the dataset. The samples are chosen by inputs_select.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "core/alloc.h"
#include "repcollapse/inputs.h"

rc_inputs_file_spec rc_inputs_file_spec_default(void) {
  rc_inputs_file_spec s;
  memset(&s, 0, sizeof s);
  s.seed = 1;
  return s;
}

/* open dataset `name` of rank `rank`, numeric (integer only when want_int); dims out */
static rc_status open_ds(hid_t f, const char *path, const char *name, int rank, int want_int, hid_t *ds,
                         hsize_t dims[2], rc_error *err) {
  *ds = H5I_INVALID_HID;
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
    return rc_error_set(err, RC_EINVAL, "%s: missing dataset '%s'", path, name);
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  if (d < 0) return rc_error_set(err, RC_EINVAL, "%s: '%s' is not a dataset", path, name);
  hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
  const int r = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
  const H5T_class_t cls = ty < 0 ? H5T_NO_CLASS : H5Tget_class(ty);
  rc_status st = RC_OK;
  if (r != rank)
    st = rc_error_set(err, RC_EINVAL, "%s: dataset '%s' has rank %d, expected %d", path, name, r, rank);
  else if (want_int ? cls != H5T_INTEGER : (cls != H5T_INTEGER && cls != H5T_FLOAT))
    st = rc_error_set(err, RC_EINVAL, "%s: dataset '%s' must hold %s", path, name, want_int ? "integers" : "numbers");
  else {
    H5Sget_simple_extent_dims(sp, dims, NULL);
    for (int k = 0; k < rank; k++)
      if (dims[k] == 0) st = rc_error_set(err, RC_EINVAL, "%s: dataset '%s' is empty", path, name);
  }
  if (sp >= 0) H5Sclose(sp);
  if (ty >= 0) H5Tclose(ty);
  if (st) H5Dclose(d);
  else *ds = d;
  return st;
}

static rc_status read_inputs(hid_t f, const char *path, const char *name, size_t D_want, double **U, size_t *n,
                             size_t *D, rc_error *err) {
  hid_t ds;
  hsize_t dims[2] = {0, 0};
  rc_status st = open_ds(f, path, name, 2, 0, &ds, dims, err);
  if (st) return st;
  if (D_want && dims[1] != D_want)
    st = rc_error_set(err, RC_EINVAL, "%s: dataset '%s' has %llu columns, 'inputs' has %zu", path, name,
                      (unsigned long long)dims[1], D_want);
  if (!st && (double)dims[0] * (double)dims[1] * 8.0 > 16e9)
    st = rc_error_set(err, RC_ENOMEM, "%s: dataset '%s' (%llu x %llu) needs more than 16 GB", path, name,
                      (unsigned long long)dims[0], (unsigned long long)dims[1]);
  if (!st) {
    *n = (size_t)dims[0];
    *D = (size_t)dims[1];
    *U = rc_calloc(*n * *D, sizeof(double), name, err);
    if (!*U) st = RC_ENOMEM;
  }
  if (!st && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *U) < 0)
    st = rc_error_set(err, RC_EIO, "%s: cannot read dataset '%s'", path, name);
  for (size_t q = 0; !st && q < *n * *D; q++)
    if (!isfinite((*U)[q]))
      st = rc_error_set(err, RC_EINVAL, "%s: dataset '%s' row %zu column %zu is not finite", path, name, q / *D,
                        q % *D);
  H5Dclose(ds);
  if (st) {
    free(*U);
    *U = NULL;
  }
  return st;
}

/* labels as non-negative integers < limit (K, or n for the training labels: every class needs a sample) */
static rc_status read_labels(hid_t f, const char *path, const char *name, size_t n_want, const char *rows_of,
                             size_t limit, uint32_t **out, rc_error *err) {
  hid_t ds;
  hsize_t dims[2] = {0, 0};
  rc_status st = open_ds(f, path, name, 1, 1, &ds, dims, err);
  if (st) return st;
  long long *v = NULL;
  if (dims[0] != n_want)
    st = rc_error_set(err, RC_EINVAL, "%s: dataset '%s' has %llu entries but '%s' has %zu rows", path, name,
                      (unsigned long long)dims[0], rows_of, n_want);
  if (!st) {
    v = rc_calloc(n_want, sizeof *v, name, err);
    *out = rc_calloc(n_want, sizeof **out, name, err);
    if (!v || !*out) st = RC_ENOMEM;
  }
  if (!st && H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
    st = rc_error_set(err, RC_EIO, "%s: cannot read dataset '%s'", path, name);
  for (size_t i = 0; !st && i < n_want; i++) {
    if (v[i] < 0 || (unsigned long long)v[i] >= (unsigned long long)limit)
      st = rc_error_set(err, RC_EINVAL, "%s: dataset '%s' entry %zu is %lld, outside 0..%zu", path, name, i, v[i],
                        limit - 1);
    else (*out)[i] = (uint32_t)v[i];
  }
  free(v);
  H5Dclose(ds);
  if (st) {
    free(*out);
    *out = NULL;
  }
  return st;
}

rc_status rc_inputs_file_load(const rc_inputs_file_spec *s, rc_ts_data **out, size_t **source_index, rc_error *err) {
  *out = NULL;
  if (source_index) *source_index = NULL;
  if (!s->path || !*s->path) return rc_error_set(err, RC_EINVAL, "--inputs file needs --inputs-file PATH");
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported through rc_error */
  hid_t f = H5Fis_hdf5(s->path) > 0 ? H5Fopen(s->path, H5F_ACC_RDONLY, H5P_DEFAULT)
                                                        : H5I_INVALID_HID;
  if (f < 0) return rc_error_set(err, RC_EIO, "cannot open %s as an HDF5 file", s->path);
  double *U = NULL, *Ut = NULL;
  uint32_t *lab = NULL, *tlab = NULL;
  size_t n = 0, D = 0, T = 0, Dt = 0, *rows = NULL;
  rc_ts_data *d = NULL;
  rc_status st = read_inputs(f, s->path, "inputs", 0, &U, &n, &D, err);
  if (!st) st = read_labels(f, s->path, "labels", n, "inputs", n, &lab, err);
  size_t K = 0;
  for (size_t i = 0; !st && i < n; i++)
    if (lab[i] + 1 > K) K = lab[i] + 1;
  const int has_ti = H5Lexists(f, "test_inputs", H5P_DEFAULT) > 0, has_tl = H5Lexists(f, "test_labels", H5P_DEFAULT) > 0;
  if (!st && has_ti != has_tl)
    st = rc_error_set(err, RC_EINVAL, "%s: '%s' without '%s' (give both or neither)", s->path,
                      has_ti ? "test_inputs" : "test_labels", has_ti ? "test_labels" : "test_inputs");
  if (!st && has_ti) st = read_inputs(f, s->path, "test_inputs", D, &Ut, &T, &Dt, err);
  if (!st && has_ti) st = read_labels(f, s->path, "test_labels", T, "test_inputs", K, &tlab, err);
  if (!st) {
    d = rc_calloc(1, sizeof *d, "inputs data", err);
    if (!d) st = RC_ENOMEM;
  }
  if (!st) st = rc_inputs_select(lab, n, K, s->per_class, s->frustration, s->seed, s->path, d, &rows, err);
  if (!st) {
    d->D = D;
    d->n_test = T;
    d->U = rc_calloc(d->n * D + 1, sizeof(double), "inputs", err);
    if (!d->U) st = RC_ENOMEM;
    for (size_t i = 0; !st && i < d->n; i++) memcpy(d->U + i * D, U + rows[i] * D, D * sizeof(double));
    d->U_test = Ut;
    d->test_label = tlab;
    Ut = NULL;
    tlab = NULL;
    if (!d->U_test) d->U_test = rc_calloc(1, sizeof(double), "test inputs", err);
    if (!d->test_label) d->test_label = rc_calloc(1, sizeof(uint32_t), "test labels", err);
    if (!st && (!d->U_test || !d->test_label)) st = RC_ENOMEM;
  }
  H5Fclose(f);
  free(U);
  free(Ut);
  free(lab);
  free(tlab);
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
