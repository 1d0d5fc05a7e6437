/* inputs_dump.c: loads real inputs through the library (inputs.h) and writes
 * what was loaded, for tests/reference/inputs_ref.py to compare with its own
 * NumPy/h5py reading of the same files: OUT.json (sizes, the source rows, the
 * labels, the observations) and OUT.U.bin, OUT.Ut.bin (the inputs and test
 * inputs, float64, row-major). An error is one line on stderr and exit 1.
 *
 * usage: inputs_dump fashion DIR PER_CLASS F SEED N_TEST OUT     (N_TEST -1: all)
 *        inputs_dump file PATH PER_CLASS F SEED OUT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "repcollapse/repcollapse.h"

static int write_bin(const char *prefix, const char *ext, const double *v, size_t n) {
  char p[4200];
  snprintf(p, sizeof p, "%s%s", prefix, ext);
  FILE *f = fopen(p, "wb");
  if (!f) return 1;
  const size_t w = n ? fwrite(v, sizeof *v, n, f) : 0;
  return fclose(f) != 0 || w != n;
}

int main(int argc, char **argv) {
  rc_error err;
  rc_ts_data *d = NULL;
  size_t *rows = NULL;
  const char *out;
  rc_status st;
  if (argc == 8 && !strcmp(argv[1], "fashion")) {
    rc_fashion_mnist_spec s = rc_fashion_mnist_spec_default();
    s.dir = argv[2];
    s.per_class = strtoul(argv[3], NULL, 10);
    s.frustration = atof(argv[4]);
    s.seed = strtoul(argv[5], NULL, 10);
    s.n_test = atol(argv[6]) < 0 ? RC_INPUTS_ALL_TEST : (size_t)atol(argv[6]);
    out = argv[7];
    st = rc_fashion_mnist_load(&s, &d, &rows, &err);
  } else if (argc == 7 && !strcmp(argv[1], "file")) {
    rc_inputs_file_spec s = rc_inputs_file_spec_default();
    s.path = argv[2];
    s.per_class = strtoul(argv[3], NULL, 10);
    s.frustration = atof(argv[4]);
    s.seed = strtoul(argv[5], NULL, 10);
    out = argv[6];
    st = rc_inputs_file_load(&s, &d, &rows, &err);
  } else {
    fprintf(stderr, "usage: inputs_dump fashion DIR PER_CLASS F SEED N_TEST OUT | file PATH PER_CLASS F SEED OUT\n");
    return 2;
  }
  if (st) {
    fprintf(stderr, "inputs_dump: error: %s\n", err.msg);
    return 1;
  }
  json_t *j = json_object();
  json_object_set_new(j, "N", json_integer((json_int_t)d->n));
  json_object_set_new(j, "D", json_integer((json_int_t)d->D));
  json_object_set_new(j, "K", json_integer((json_int_t)d->K));
  json_object_set_new(j, "n_test", json_integer((json_int_t)d->n_test));
  json_object_set_new(j, "n_frustrated", json_integer((json_int_t)d->n_altered));
  json_t *r = json_array(), *l = json_array(), *tl = json_array(), *o = json_array();
  for (size_t i = 0; i < d->n; i++) {
    json_array_append_new(r, json_integer((json_int_t)rows[i]));
    json_array_append_new(l, json_integer((json_int_t)d->teacher_label[i]));
  }
  for (size_t i = 0; i < d->n_test; i++) json_array_append_new(tl, json_integer((json_int_t)d->test_label[i]));
  const rc_dataset *ds = d->ds;
  for (size_t i = 0; i < ds->n_samples; i++)
    for (size_t q = ds->row_ptr[i]; q < ds->row_ptr[i + 1]; q++) {
      json_t *e = json_array();
      json_array_append_new(e, json_integer((json_int_t)i));
      json_array_append_new(e, json_integer((json_int_t)ds->labels[q]));
      json_array_append_new(e, json_real(ds->counts[q]));
      json_array_append_new(o, e);
    }
  json_object_set_new(j, "rows", r);
  json_object_set_new(j, "labels", l);
  json_object_set_new(j, "test_labels", tl);
  json_object_set_new(j, "observations", o);
  char p[4200];
  snprintf(p, sizeof p, "%s.json", out);
  int bad = json_dump_file(j, p, JSON_COMPACT) != 0;
  bad |= write_bin(out, ".U.bin", d->U, d->n * d->D);
  bad |= write_bin(out, ".Ut.bin", d->U_test, d->n_test * d->D);
  json_decref(j);
  free(rows);
  rc_ts_data_free(d);
  if (bad) fprintf(stderr, "inputs_dump: error: cannot write %s.*\n", out);
  return bad;
}
