/* _core.c: the C extension behind the repcollapse Python package. It binds
 * the library's single entry point, rc_command (repcollapse/command.h): a
 * command name and an option table in, the command's stdout text out, the
 * CLI's one-line message as repcollapse.Error on failure. The GIL is released
 * while the command runs; the progress callback takes it back at most every
 * 20 ms to run Python's signal handlers (Ctrl-C) and the caller's progress
 * function, and cancels the command when either raises (the library then
 * stops with RC_ECANCELLED and removes partial outputs), so KeyboardInterrupt
 * reaches the caller with the interpreter intact. It also reads a run's
 * snapshots.h5 into NumPy arrays through HDF5's C library, so the package
 * needs no h5py. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <repcollapse/command.h>
#include <repcollapse/repcollapse.h>

static PyObject *Error; /* repcollapse.Error (set_error_class), raised with (message, status, stderr) */

typedef struct {
  char *data;
  size_t n, cap;
  int failed;
} buffer;

static size_t buffer_write(const char *data, size_t n, void *ctx) {
  buffer *b = ctx;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 4096;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
      b->failed = 1;
      return 0;
    }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->n, data, n);
  b->n += n;
  b->data[b->n] = '\0';
  return n;
}

typedef struct {
  PyObject *callback; /* the caller's progress(fraction) or NULL */
  double last_check;
  PyObject *exc_type, *exc_value, *exc_tb; /* what stopped the command */
} progress_ctx;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Called by the library without the GIL. */
static int on_progress(double fraction, void *vctx) {
  progress_ctx *c = vctx;
  double t = now();
  if (t - c->last_check < 0.02 && fraction < 1.0) return 0;
  c->last_check = t;
  PyGILState_STATE g = PyGILState_Ensure();
  int cancel = 0;
  if (PyErr_CheckSignals() < 0) cancel = 1; /* KeyboardInterrupt (or what a handler raised) */
  if (!cancel && c->callback) {
    PyObject *r = PyObject_CallFunction(c->callback, "d", fraction);
    if (!r) cancel = 1;
    else if (PyObject_IsTrue(r) == 1) cancel = 2; /* the callback returned True: stop */
    Py_XDECREF(r);
  }
  if (cancel == 1) PyErr_Fetch(&c->exc_type, &c->exc_value, &c->exc_tb);
  PyGILState_Release(g);
  return cancel;
}

static const char *status_name(rc_status st) { return rc_status_name(st); }

/* command(name, options, progress=None) -> str
 * options: a sequence of (name, value) pairs of str (value None: a positional argument's
 * name is None). Raises repcollapse.Error(message, status, stderr). */
static PyObject *py_command(PyObject *self, PyObject *args, PyObject *kw) {
  (void)self;
  static char *kwlist[] = {"name", "options", "progress", NULL};
  const char *name;
  PyObject *options, *callback = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "sO|O", kwlist, &name, &options, &callback)) return NULL;
  PyObject *seq = PySequence_Fast(options, "options must be a sequence of (name, value) pairs");
  if (!seq) return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  const char **keys = calloc((size_t)n + 1, sizeof *keys), **values = calloc((size_t)n + 1, sizeof *values);
  char **owned = calloc(2 * (size_t)n + 1, sizeof *owned);
  PyObject *result = NULL;
  if (!keys || !values || !owned) {
    PyErr_NoMemory();
    goto done;
  }
  for (Py_ssize_t k = 0; k < n; k++) {
    PyObject *pair = PySequence_Fast_GET_ITEM(seq, k);
    PyObject *key, *value;
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      PyErr_SetString(PyExc_TypeError, "options must be (name, value) pairs");
      goto done;
    }
    key = PyTuple_GET_ITEM(pair, 0);
    value = PyTuple_GET_ITEM(pair, 1);
    for (int w = 0; w < 2; w++) {
      PyObject *o = w ? value : key;
      if (o == Py_None) continue;
      if (!PyUnicode_Check(o)) {
        PyErr_SetString(PyExc_TypeError, "option names and values must be str");
        goto done;
      }
      Py_ssize_t len;
      const char *s = PyUnicode_AsUTF8AndSize(o, &len);
      if (!s) goto done;
      if (strlen(s) != (size_t)len) {
        PyErr_SetString(PyExc_ValueError, "embedded null character in an option");
        goto done;
      }
      owned[2 * k + w] = strdup(s);
      if (!owned[2 * k + w]) {
        PyErr_NoMemory();
        goto done;
      }
    }
    keys[k] = owned[2 * k];
    values[k] = owned[2 * k + 1];
  }
  buffer out = {NULL, 0, 0, 0}, err_text = {NULL, 0, 0, 0};
  progress_ctx pc = {callback == Py_None ? NULL : callback, 0.0, NULL, NULL, NULL};
  rc_command_io io = {buffer_write, &out, buffer_write, &err_text, on_progress, &pc};
  rc_error err;
  rc_status st;
  Py_BEGIN_ALLOW_THREADS
  st = rc_command(name, (size_t)n, keys, values, &io, &err);
  Py_END_ALLOW_THREADS
  if (pc.exc_type) {
    PyErr_Restore(pc.exc_type, pc.exc_value, pc.exc_tb); /* KeyboardInterrupt: the command stopped cleanly */
  } else if (st != RC_OK) {
    PyObject *e = Py_BuildValue("(sss)", err.msg, status_name(st), err_text.data ? err_text.data : "");
    if (e) {
      PyErr_SetObject(Error, e);
      Py_DECREF(e);
    }
  } else if (out.failed || err_text.failed) {
    PyErr_NoMemory();
  } else {
    result = PyUnicode_DecodeUTF8(out.data ? out.data : "", (Py_ssize_t)out.n, "replace");
  }
  free(out.data);
  free(err_text.data);
done:
  for (Py_ssize_t k = 0; owned && k < 2 * n; k++) free(owned[k]);
  free(owned);
  free(keys);
  free(values);
  Py_DECREF(seq);
  return result;
}

/* ---- snapshots.h5 ---- */

typedef struct {
  PyObject *dict;
  int failed;
} h5_visit;

/* (H5Literate and H5L_info_t name the default API version of the HDF5 at hand: 1.10 or later) */
static herr_t read_dataset(hid_t loc, const char *name, const H5L_info_t *info, void *vctx) {
  (void)info;
  h5_visit *v = vctx;
  hid_t ds = H5Oopen(loc, name, H5P_DEFAULT);
  if (ds < 0) return 0;
  if (H5Iget_type(ds) != H5I_DATASET) {
    H5Oclose(ds);
    return 0;
  }
  hid_t type = H5Dget_type(ds), space = H5Dget_space(ds);
  H5T_class_t cls = H5Tget_class(type);
  int rank = H5Sget_simple_extent_ndims(space);
  herr_t rc = 0;
  if ((cls == H5T_FLOAT || cls == H5T_INTEGER) && rank >= 0 && rank <= 8) {
    hsize_t dims[8];
    npy_intp nd[8];
    H5Sget_simple_extent_dims(space, dims, NULL);
    for (int k = 0; k < rank; k++) nd[k] = (npy_intp)dims[k];
    int is_float = cls == H5T_FLOAT;
    PyObject *arr = PyArray_SimpleNew(rank, nd, is_float ? NPY_FLOAT64 : NPY_INT64);
    if (!arr) {
      v->failed = 1;
      rc = -1;
    } else if (PyArray_SIZE((PyArrayObject *)arr) > 0 &&
               H5Dread(ds, is_float ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                       PyArray_DATA((PyArrayObject *)arr)) < 0) {
      Py_DECREF(arr);
      PyErr_Format(Error, "cannot read dataset '%s' of the snapshot file", name);
      v->failed = 1;
      rc = -1;
    } else {
      if (PyDict_SetItemString(v->dict, name, arr) < 0) {
        v->failed = 1;
        rc = -1;
      }
      Py_DECREF(arr);
    }
  }
  H5Sclose(space);
  H5Tclose(type);
  H5Oclose(ds);
  return rc;
}

static herr_t read_attr(hid_t loc, const char *name, const H5A_info_t *info, void *vctx) {
  (void)info;
  h5_visit *v = vctx;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  if (a < 0) return 0;
  hid_t type = H5Aget_type(a), space = H5Aget_space(a);
  H5T_class_t cls = H5Tget_class(type);
  PyObject *val = NULL;
  if (H5Sget_simple_extent_npoints(space) == 1) {
    if (cls == H5T_INTEGER) {
      long long x;
      if (H5Aread(a, H5T_NATIVE_LLONG, &x) >= 0) val = PyLong_FromLongLong(x);
    } else if (cls == H5T_FLOAT) {
      double x;
      if (H5Aread(a, H5T_NATIVE_DOUBLE, &x) >= 0) val = PyFloat_FromDouble(x);
    } else if (cls == H5T_STRING && !H5Tis_variable_str(type)) {
      size_t len = H5Tget_size(type);
      char *s = calloc(len + 1, 1);
      if (s && H5Aread(a, type, s) >= 0) val = PyUnicode_DecodeUTF8(s, (Py_ssize_t)strnlen(s, len), "replace");
      free(s);
    } else if (cls == H5T_STRING) {
      char *s = NULL;
      hid_t mt = H5Tcopy(type);
      if (H5Aread(a, mt, &s) >= 0 && s) {
        val = PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
        H5free_memory(s);
      }
      H5Tclose(mt);
    }
  }
  if (val) {
    if (PyDict_SetItemString(v->dict, name, val) < 0) v->failed = 1;
    Py_DECREF(val);
  } else {
    PyErr_Clear();
  }
  H5Sclose(space);
  H5Tclose(type);
  H5Aclose(a);
  return v->failed ? -1 : 0;
}

/* read_h5(path) -> (datasets, attributes): every numeric dataset at the file's
 * root as a NumPy array (float64 or int64), and the root's scalar attributes. */
static PyObject *py_read_h5(PyObject *self, PyObject *args) {
  (void)self;
  const char *path;
  if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return PyErr_Format(Error, "cannot open '%s' as an HDF5 file", path);
  h5_visit data = {PyDict_New(), 0}, attrs = {PyDict_New(), 0};
  if (data.dict && attrs.dict) {
    H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, read_dataset, &data);
    if (!data.failed) H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, NULL, read_attr, &attrs);
  }
  H5Fclose(f);
  if (!data.dict || !attrs.dict || data.failed || attrs.failed) {
    Py_XDECREF(data.dict);
    Py_XDECREF(attrs.dict);
    if (!PyErr_Occurred()) PyErr_Format(Error, "cannot read '%s'", path);
    return NULL;
  }
  PyObject *r = PyTuple_Pack(2, data.dict, attrs.dict);
  Py_DECREF(data.dict);
  Py_DECREF(attrs.dict);
  return r;
}

static PyObject *py_set_error_class(PyObject *self, PyObject *cls) {
  (void)self;
  if (!PyExceptionClass_Check(cls)) {
    PyErr_SetString(PyExc_TypeError, "an exception class is needed");
    return NULL;
  }
  Py_INCREF(cls);
  Py_XSETREF(Error, cls);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"set_error_class", py_set_error_class, METH_O, "set_error_class(cls): the exception raised for a failed command."},
    {"command", (PyCFunction)(void (*)(void))py_command, METH_VARARGS | METH_KEYWORDS,
     "command(name, options, progress=None) -> str: run a repcollapse command (rc_command) with options "
     "[(name, value), ...]; returns what the CLI prints on stdout, raises repcollapse.Error with the CLI's message."},
    {"read_h5", py_read_h5, METH_VARARGS,
     "read_h5(path) -> (datasets, attributes): the root datasets of an HDF5 file as NumPy arrays."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "repcollapse._core",
                                    "Bindings of the repcollapse library's entry point (rc_command).", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void) {
  import_array();
  PyObject *m = PyModule_Create(&module);
  if (!m) return NULL;
  Error = PyExc_RuntimeError; /* until the package sets repcollapse.Error */
  Py_INCREF(Error);
  PyModule_AddStringConstant(m, "library_version", rc_version());
  PyModule_AddStringConstant(m, "bindir", RC_BINDIR);
  return m;
}
