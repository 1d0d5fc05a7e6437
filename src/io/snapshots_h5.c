/* snapshots_h5.c: the one snapshot writer (layout in io.h and README.md): the
 * table encoder's embeddings at every recorded time, streamed
 * (rc_snapshots_open/write/close), and an encoder run's parameter blocks by
 * name with its inputs and observations, written whole
 * (rc_snapshots_write_params); both to a temporary file renamed when complete. */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "repcollapse/io.h"

struct rc_snapshots {
  char path[4096], tmp[4200];
  int cleanup_slot; /* rc_cleanup_register */
  hid_t file, t, step, samples, labels, head;
  size_t n_times, n, k, d;
};

static hid_t make_dataset(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims) {
  hid_t space = H5Screate_simple(rank, dims, NULL);
  if (space < 0) return -1;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, 0); /* no timestamps: the same run gives the same file, byte for byte */
  if (rank == 3 && dims[0] > 0 && dims[1] > 0 && dims[2] > 0) { /* one chunk per recorded time */
    hsize_t chunk[3] = {1, dims[1], dims[2]};
    while (chunk[1] > 1 && chunk[1] * chunk[2] * 8 > (hsize_t)64 << 20) chunk[1] = (chunk[1] + 1) / 2;
    H5Pset_chunk(dcpl, 3, chunk);
  }
  /* no chunk cache: each chunk (one recorded time) is written once, whole, so
   * caching it only delays a write error (a full disk) to the close, where
   * HDF5 1.10 then loses the cached chunks */
  hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
  H5Pset_chunk_cache(dapl, 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT);
  hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, dapl);
  H5Pclose(dapl);
  H5Pclose(dcpl);
  H5Sclose(space);
  return ds;
}

static void attr_u64(hid_t obj, const char *name, unsigned long long v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, H5T_NATIVE_ULLONG, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_ULLONG, &v);
  H5Aclose(a);
  H5Sclose(sp);
}

static void attr_str(hid_t obj, const char *name, const char *v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t ty = H5Tcopy(H5T_C_S1);
  H5Tset_size(ty, strlen(v) + 1);
  hid_t a = H5Acreate2(obj, name, ty, sp, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, ty, v);
  H5Aclose(a);
  H5Tclose(ty);
  H5Sclose(sp);
}

/* close everything; negative if anything (a last flush) failed */
static herr_t close_all(rc_snapshots *s) {
  herr_t rc = 0;
  if (s->t >= 0 && H5Dclose(s->t) < 0) rc = -1;
  if (s->step >= 0 && H5Dclose(s->step) < 0) rc = -1;
  if (s->samples >= 0 && H5Dclose(s->samples) < 0) rc = -1;
  if (s->labels >= 0 && H5Dclose(s->labels) < 0) rc = -1;
  if (s->head >= 0 && H5Dclose(s->head) < 0) rc = -1;
  if (s->file >= 0 && H5Fclose(s->file) < 0) rc = -1;
  s->t = s->step = s->samples = s->labels = s->head = s->file = -1;
  return rc;
}

rc_status rc_snapshots_open(const char *path, size_t n_times, size_t n, size_t k, size_t d, int with_head,
                            const char *integrator, rc_snapshots **out, rc_error *err) {
  *out = NULL;
  rc_snapshots *s = rc_calloc(1, sizeof *s, "snapshots", err);
  if (!s) return RC_ENOMEM;
  s->t = s->step = s->samples = s->labels = s->head = s->file = -1;
  snprintf(s->path, sizeof s->path, "%s", path);
  snprintf(s->tmp, sizeof s->tmp, "%s.tmp.%ld", path, (long)getpid());
  s->n_times = n_times;
  s->n = n;
  s->k = k;
  s->d = d;
  /* HDF5 1.10 crashes in its exit handler when a file could not be closed
   * (a full disk): keep it from installing one; the OS closes what is left */
  H5dont_atexit();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported through rc_error */
  s->cleanup_slot = rc_cleanup_register(s->tmp);
  s->file = H5Fcreate(s->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (s->file < 0) {
    rc_cleanup_unregister(s->cleanup_slot);
    free(s);
    return rc_error_set(err, RC_EIO, "cannot create HDF5 file '%s'", path);
  }
  hsize_t d1[1] = {n_times}, ds[3] = {n_times, n, d}, dl[3] = {n_times, k, d};
  s->t = make_dataset(s->file, "t", H5T_IEEE_F64LE, 1, d1);
  s->step = make_dataset(s->file, "step", H5T_STD_I64LE, 1, d1);
  s->samples = make_dataset(s->file, "samples", H5T_IEEE_F64LE, 3, ds);
  s->labels = make_dataset(s->file, "labels", H5T_IEEE_F64LE, 3, dl);
  hsize_t dh[3] = {n_times, d, d};
  if (with_head) s->head = make_dataset(s->file, "head", H5T_IEEE_F64LE, 3, dh);
  if (s->t < 0 || s->step < 0 || s->samples < 0 || s->labels < 0 || (with_head && s->head < 0)) {
    close_all(s);
    unlink(s->tmp);
    rc_cleanup_unregister(s->cleanup_slot);
    free(s);
    return rc_error_set(err, RC_EIO, "cannot create datasets in HDF5 file '%s'", path);
  }
  attr_u64(s->file, "n_samples", n);
  attr_u64(s->file, "n_classes", k);
  attr_u64(s->file, "dim", d);
  attr_str(s->file, "integrator", integrator);
  attr_str(s->file, "layout", "t[T], step[T], samples[T][N][d], labels[T][K][d], head[T][d][d] (models with a head), row-major float64; "
           "observation_sample[M], observation_label[M], sample_label[N] (-1: frustrated) int64");
  *out = s;
  return RC_OK;
}

static herr_t write_slab(hid_t dset, hid_t memtype, size_t index, size_t rows, size_t cols, int rank,
                         const void *buf) {
  hid_t fspace = H5Dget_space(dset);
  hsize_t start[3] = {index, 0, 0}, count[3] = {1, rows, cols};
  herr_t rc = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t mspace = H5Screate_simple(rank, count, NULL);
  if (rc >= 0) rc = H5Dwrite(dset, memtype, mspace, fspace, H5P_DEFAULT, buf);
  H5Sclose(mspace);
  H5Sclose(fspace);
  return rc;
}

rc_status rc_snapshots_write(rc_snapshots *s, size_t index, double t, long step, const rc_state *st, rc_error *err) {
  if (index >= s->n_times) return rc_error_set(err, RC_EINVAL, "snapshot index %zu out of range", index);
  long long step64 = step;
  herr_t rc = write_slab(s->t, H5T_NATIVE_DOUBLE, index, 0, 0, 1, &t);
  if (rc >= 0) rc = write_slab(s->step, H5T_NATIVE_LLONG, index, 0, 0, 1, &step64);
  if (rc >= 0 && s->n) rc = write_slab(s->samples, H5T_NATIVE_DOUBLE, index, s->n, s->d, 3, st->x);
  if (rc >= 0) rc = write_slab(s->labels, H5T_NATIVE_DOUBLE, index, s->k, s->d, 3, st->y);
  if (rc >= 0 && s->head >= 0 && st->P) rc = write_slab(s->head, H5T_NATIVE_DOUBLE, index, s->d, s->d, 3, st->P);
  if (rc < 0) return rc_error_set(err, RC_EIO, "cannot write snapshot %zu to '%s': %s", index, s->path, strerror(errno));
  return RC_OK;
}

/* A 1-D int64 dataset of n values, filled in blocks by next(ctx, buf, max),
 * which returns how many values it put in buf. */
static herr_t write_i64_stream(hid_t file, const char *name, size_t n, size_t (*next)(void *, long long *, size_t),
                               void *ctx) {
  hsize_t dims[1] = {n};
  hid_t ds = make_dataset(file, name, H5T_STD_I64LE, 1, dims);
  if (ds < 0) return -1;
  enum { BLOCK = 1 << 14 };
  long long buf[BLOCK];
  herr_t rc = 0;
  for (size_t done = 0; rc >= 0 && done < n;) {
    size_t m = next(ctx, buf, n - done < BLOCK ? n - done : BLOCK);
    if (m == 0) {
      rc = -1;
      break;
    }
    hid_t fspace = H5Dget_space(ds);
    hsize_t start[1] = {done}, count[1] = {m};
    rc = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t mspace = H5Screate_simple(1, count, NULL);
    if (rc >= 0) rc = H5Dwrite(ds, H5T_NATIVE_LLONG, mspace, fspace, H5P_DEFAULT, buf);
    H5Sclose(mspace);
    H5Sclose(fspace);
    done += m;
  }
  if (H5Dclose(ds) < 0) rc = -1;
  return rc;
}

/* the observations in data --out order: samples ascending, labels ascending, each repeated by its count */
typedef struct {
  const rc_dataset *ds;
  size_t i, j;  /* sample, entry of its row */
  double k;     /* repeats of entry j done */
  int label;    /* 1: emit labels, 0: samples */
} obs_cursor;

static size_t next_observation(void *ctx, long long *buf, size_t max) {
  obs_cursor *c = ctx;
  const rc_dataset *ds = c->ds;
  size_t m = 0;
  while (m < max && c->i < ds->n_samples) {
    if (c->j >= ds->row_ptr[c->i + 1]) {
      c->i++;
      continue;
    }
    if (c->k >= ds->counts[c->j]) {
      c->j++;
      c->k = 0;
      continue;
    }
    buf[m++] = c->label ? (long long)ds->labels[c->j] : (long long)c->i;
    c->k += 1.0;
  }
  return m;
}

typedef struct {
  const rc_dataset *ds;
  size_t i;
} label_cursor;

static size_t next_clean_label(void *ctx, long long *buf, size_t max) {
  label_cursor *c = ctx;
  size_t m = 0;
  while (m < max && c->i < c->ds->n_samples) buf[m++] = c->ds->clean_label[c->i++];
  return m;
}

rc_status rc_snapshots_write_data(rc_snapshots *s, const rc_dataset *ds, rc_error *err) {
  size_t m = 0; /* M: the counts are whole numbers */
  for (size_t j = 0; j < ds->nnz; j++) m += (size_t)ds->counts[j];
  herr_t rc = 0;
  for (int label = 0; rc >= 0 && label < 2; label++) {
    obs_cursor c = {ds, 0, ds->n_samples ? ds->row_ptr[0] : 0, 0.0, label};
    rc = write_i64_stream(s->file, label ? "observation_label" : "observation_sample", m, next_observation, &c);
  }
  label_cursor lc = {ds, 0};
  if (rc >= 0) rc = write_i64_stream(s->file, "sample_label", ds->n_samples, next_clean_label, &lc);
  if (rc < 0) return rc_error_set(err, RC_EIO, "cannot write the observations to '%s': %s", s->path, strerror(errno));
  attr_u64(s->file, "n_observations", m);
  return RC_OK;
}

rc_status rc_snapshots_close(rc_snapshots *s, int commit, rc_error *err) {
  if (!s) return RC_OK;
  errno = 0;
  herr_t rc = H5Fflush(s->file, H5F_SCOPE_GLOBAL);
  int saved = errno;
  if (close_all(s) < 0) rc = -1;
  if (!saved) saved = errno;
  rc_status st = RC_OK;
  if (commit && rc >= 0) {
    if (rename(s->tmp, s->path) != 0)
      st = rc_error_set(err, RC_EIO, "cannot move '%s' into place: %s", s->path, strerror(errno));
  } else {
    if (commit) st = rc_error_set(err, RC_EIO, "cannot write '%s': %s", s->path, strerror(saved ? saved : EIO));
  }
  if (st != RC_OK || !commit) unlink(s->tmp);
  rc_cleanup_unregister(s->cleanup_slot);
  free(s);
  return st;
}

/* ---- an encoder run: every parameter block of every recorded state, the inputs and observations ---- */

static int p_write_array(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data) {
  hid_t space = H5Screate_simple(rank, dims, NULL);
  if (space < 0) return -1;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, 0); /* no timestamps: the same run gives the same file, byte for byte */
  hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  int rc = ds < 0 ? -1 : (H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0);
  if (ds >= 0) H5Dclose(ds);
  H5Sclose(space);
  return rc;
}

static int p_write_attr(hid_t obj, const char *name, unsigned long long v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, H5T_NATIVE_ULLONG, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a < 0 ? -1 : (H5Awrite(a, H5T_NATIVE_ULLONG, &v) < 0 ? -1 : 0);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return rc;
}

/* one parameter block (offset, rows x cols) of every recorded state, gathered */
static int write_block(hid_t file, const char *name, const rc_param_snapshots *s, size_t off, size_t rows,
                       size_t cols) {
  const size_t w = cols ? rows * cols : rows; /* a vector block (cols 0: b1, b2) has rows entries */
  double *buf = malloc((s->n_times * w + 1) * sizeof *buf);
  if (!buf) return -1;
  for (size_t k = 0; k < s->n_times; k++)
    memcpy(buf + k * w, s->states + k * s->state_size + off, w * sizeof *buf);
  hsize_t dims[3] = {s->n_times, rows, cols};
  int rc = cols ? p_write_array(file, name, H5T_NATIVE_DOUBLE, 3, dims, buf)
                : p_write_array(file, name, H5T_NATIVE_DOUBLE, 2, dims, buf);
  free(buf);
  return rc;
}

/* the shape of an encoder block: W (d x D), W1 (len/D x D), W2 (d x len/d), else a vector (cols 0) */
static void block_shape(const rc_param_snapshots *s, const rc_snapshot_block *b, size_t *rows, size_t *cols) {
  *rows = b->len;
  *cols = 0;
  if (!strcmp(b->name, "W") || !strcmp(b->name, "W1")) {
    if (s->D && b->len % s->D == 0) *rows = b->len / s->D, *cols = s->D;
  } else if (!strcmp(b->name, "W2")) {
    if (s->d && b->len % s->d == 0) *rows = s->d, *cols = b->len / s->d;
  } else if (!strcmp(b->name, "y")) {
    *rows = s->k, *cols = s->d;
  } else if (!strcmp(b->name, "P")) {
    *rows = s->d, *cols = s->d;
  }
}

rc_status rc_snapshots_write_params(const char *path, const rc_param_snapshots *s, rc_error *err) {
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
  const rc_dataset *ds = s->ds;
  const size_t N = s->n, D = s->D, K = s->k, d = s->d, M = ds->nnz;
  long long *obs = malloc((2 * M + N + 1) * sizeof *obs);
  int rc = obs ? 0 : -1;
  if (!rc) { /* the nonzero entries of A: (sample, label) pairs and their counts A_ic */
    size_t q = 0;
    for (size_t i = 0; i < N; i++)
      for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++) {
        obs[2 * q] = (long long)i;
        obs[2 * q + 1] = (long long)ds->labels[j];
        q++;
      }
    hsize_t dob[2] = {M, 2};
    rc |= p_write_array(file, "/observations", H5T_NATIVE_LLONG, 2, dob, obs);
    hsize_t dc[1] = {M};
    rc |= p_write_array(file, "/observation_counts", H5T_NATIVE_DOUBLE, 1, dc, ds->counts);
    if (s->input_label) {
      for (size_t i = 0; i < N; i++) obs[i] = (long long)s->input_label[i];
      hsize_t dn[1] = {N};
      rc |= p_write_array(file, "/teacher_label", H5T_NATIVE_LLONG, 1, dn, obs);
    }
  }
  free(obs);
  hsize_t dt[1] = {s->n_times}, du[2] = {N, D};
  rc |= p_write_array(file, "/t", H5T_NATIVE_DOUBLE, 1, dt, s->times);
  rc |= p_write_array(file, "/step", H5T_NATIVE_LLONG, 1, dt, s->steps);
  rc |= p_write_array(file, "/inputs", H5T_NATIVE_DOUBLE, 2, du, s->inputs);
  for (size_t b = 0; b < s->n_blocks; b++) { /* every parameter block by its name; y and P as /labels, /head */
    const rc_snapshot_block *blk = &s->blocks[b];
    char name[80];
    size_t rows, cols;
    block_shape(s, blk, &rows, &cols);
    snprintf(name, sizeof name, "/%s",
             !strcmp(blk->name, "y") ? "labels" : !strcmp(blk->name, "P") ? "head" : blk->name);
    rc |= write_block(file, name, s, blk->offset, rows, cols);
  }
  hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
  rc |= p_write_attr(root, "n_samples", N) | p_write_attr(root, "n_classes", K) | p_write_attr(root, "dim", d) |
        p_write_attr(root, "input_dim", D);
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
