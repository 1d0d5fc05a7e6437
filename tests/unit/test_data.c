/* test_data.c: data generators, CSV reader, pair parser, groups and components
 * (docs/model.md section 1), against counts derived by hand. */
#include <unistd.h>

#include "testutil.h"

static void frustrated_count_rounding(void **state) {
  (void)state;
  /* F = round(f C / (1 - f)): 0.05 * 200 / 0.95 = 10.526 -> 11 */
  assert_int_equal(rc_frustrated_count(0.05, 200), 11);
  assert_int_equal(rc_frustrated_count(0.0, 200), 0);
  assert_int_equal(rc_frustrated_count(0.5, 100), 100);
  rc_dataset *ds = tu_equal(2, 100, 0.05, RC_PATTERN_PAIR, 1);
  assert_int_equal(ds->n_samples, 211);
  assert_int_equal(ds->n_frustrated, 11);
  assert_close(ds->total, 200 + 22, 0);
  assert_close(ds->class_weight[0], 111, 0);
  /* clean samples first, class by class */
  assert_int_equal(ds->clean_label[0], 0);
  assert_int_equal(ds->clean_label[99], 0);
  assert_int_equal(ds->clean_label[100], 1);
  assert_int_equal(ds->clean_label[200], -1);
  rc_dataset_free(ds);
}

static void patterns(void **state) {
  (void)state;
  /* complete, K = 4, F = 8: 6 pairs get 2,2,1,1,1,1 (remainder to the first, lexicographic) */
  size_t sz[1] = {12};
  rc_dataset *ds = tu_generate(4, sz, 1, NULL, 8.0 / 56.0, RC_PATTERN_COMPLETE, 1);
  assert_int_equal(ds->n_frustrated, 8);
  size_t expect[6][2] = {{0, 1}, {0, 1}, {0, 2}, {0, 2}, {0, 3}, {1, 2}};
  for (size_t k = 0; k < 6; k++) {
    size_t i = 48 + k, j = ds->row_ptr[i];
    assert_int_equal(ds->labels[j], expect[k][0]);
    assert_int_equal(ds->labels[j + 1], expect[k][1]);
  }
  rc_dataset_free(ds);
  /* ring with K = 2 is pair */
  rc_dataset *a = tu_equal(2, 50, 0.1, RC_PATTERN_RING, 1), *b = tu_equal(2, 50, 0.1, RC_PATTERN_PAIR, 1);
  assert_int_equal(a->n_samples, b->n_samples);
  assert_memory_equal(a->labels, b->labels, a->nnz * sizeof *a->labels);
  rc_dataset_free(a);
  rc_dataset_free(b);
  /* ring K = 3: edges 0-1, 1-2, 0-2 */
  ds = tu_generate(3, sz, 1, NULL, 3.0 / 39.0, RC_PATTERN_RING, 1);
  assert_int_equal(ds->n_frustrated, 3);
  assert_int_equal(ds->labels[ds->row_ptr[36]], 0);
  assert_int_equal(ds->labels[ds->row_ptr[36] + 1], 1);
  assert_int_equal(ds->labels[ds->row_ptr[37]], 1);
  assert_int_equal(ds->labels[ds->row_ptr[37] + 1], 2);
  assert_int_equal(ds->labels[ds->row_ptr[38]], 0);
  assert_int_equal(ds->labels[ds->row_ptr[38] + 1], 2);
  rc_dataset_free(ds);
  /* random: reproducible with the seed, different with another, pairs distinct classes */
  a = tu_equal(5, 40, 0.2, RC_PATTERN_RANDOM, 7);
  b = tu_equal(5, 40, 0.2, RC_PATTERN_RANDOM, 7);
  rc_dataset *c = tu_equal(5, 40, 0.2, RC_PATTERN_RANDOM, 8);
  assert_memory_equal(a->labels, b->labels, a->nnz * sizeof *a->labels);
  assert_true(memcmp(a->labels, c->labels, a->nnz * sizeof *a->labels) != 0);
  for (size_t i = 200; i < a->n_samples; i++) assert_int_equal(a->row_ptr[i + 1] - a->row_ptr[i], 2);
  rc_dataset_free(a);
  rc_dataset_free(b);
  rc_dataset_free(c);
}

static void explicit_pairs_and_sizes(void **state) {
  (void)state;
  size_t sz[4] = {50, 80, 120, 60};
  rc_dataset *ds = tu_generate(0, sz, 4, "0-1:8,1-2:5", -1, RC_PATTERN_PAIR, 1);
  assert_int_equal(ds->n_classes, 4);
  assert_int_equal(ds->n_samples, 310 + 13);
  assert_int_equal(ds->n_frustrated, 13);
  assert_close(ds->class_weight[1], 80 + 13, 0);
  rc_components *comp;
  rc_error err;
  assert_int_equal(rc_components_compute(ds, &comp, &err), RC_OK);
  assert_int_equal(comp->n_components, 2); /* {0,1,2} and {3} */
  assert_int_equal(comp->component_of_class[2], 0);
  assert_int_equal(comp->component_of_class[3], 1);
  rc_groups *g;
  assert_int_equal(rc_groups_compute(ds, &g, &err), RC_OK);
  assert_int_equal(g->n_groups, 6);
  rc_groups_free(g);
  rc_components_free(comp);
  rc_dataset_free(ds);
}

static void bad_specs(void **state) {
  (void)state;
  rc_error err;
  rc_pair_count *pc;
  size_t n;
  const char *bad[] = {"", "0-1", "0-1:", "a-b:3", "0-0:3", "0-1:3,", "0-1:3;1-2:2", "-1-2:3", "0-1:-3"};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    pc = NULL;
    assert_int_not_equal(rc_parse_pairs(bad[k], &pc, &n, &err), RC_OK);
    assert_null(pc);
    assert_null(strchr(err.msg, '\n'));
  }
  rc_data_spec spec;
  memset(&spec, 0, sizeof spec);
  size_t sz[1] = {10};
  spec.n_classes = 2;
  spec.class_sizes = sz;
  spec.n_class_sizes = 1;
  rc_dataset *ds = NULL;
  spec.has_frustration = 1;
  for (double f = -0.5; f <= 1.5; f += 0.5) {
    spec.frustration = f;
    rc_status st = rc_data_generate(&spec, &ds, &err);
    if (f >= 0 && f < 1) {
      assert_int_equal(st, RC_OK);
      rc_dataset_free(ds);
    } else {
      assert_int_equal(st, RC_EINVAL);
      assert_non_null(strstr(err.msg, "outside [0, 1)"));
    }
  }
  spec.has_frustration = 0;
  assert_int_equal(rc_parse_pairs("0-5:3", &pc, &n, &err), RC_OK);
  spec.pairs = pc;
  spec.n_pairs = n;
  assert_int_equal(rc_data_generate(&spec, &ds, &err), RC_EINVAL);
  assert_non_null(strstr(err.msg, "out of range"));
  free(pc);
  spec.pairs = NULL;
  spec.n_pairs = 0;
  size_t zero[1] = {0};
  spec.class_sizes = zero;
  assert_int_equal(rc_data_generate(&spec, &ds, &err), RC_EINVAL);
  size_t huge[1] = {(size_t)1 << 39};
  spec.class_sizes = huge;
  assert_int_equal(rc_data_generate(&spec, &ds, &err), RC_ENOMEM);
  assert_non_null(strstr(err.msg, "GB"));
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static void csv_files(void **state) {
  (void)state;
  char path[] = "/tmp/rc_test_obsXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  rc_dataset *ds = NULL;
  rc_error err;
  write_file(path, "sample,label\n# comment\n0,0\n1,1\n2,0\n2,1\n2,1\n\n3,1\n");
  assert_int_equal(rc_dataset_read_csv(path, &ds, &err), RC_OK);
  assert_int_equal(ds->n_samples, 4);
  assert_int_equal(ds->n_classes, 2);
  assert_int_equal(ds->n_frustrated, 1);
  assert_close(ds->counts[ds->row_ptr[2] + 1], 2.0, 0);
  assert_close(ds->sample_weight[2], 3.0, 0);
  /* round trip through the writer */
  char out[64];
  snprintf(out, sizeof out, "%s.out", path);
  assert_int_equal(rc_dataset_write_csv(ds, out, &err), RC_OK);
  rc_dataset *ds2 = NULL;
  assert_int_equal(rc_dataset_read_csv(out, &ds2, &err), RC_OK);
  assert_int_equal(ds2->nnz, ds->nnz);
  assert_memory_equal(ds2->counts, ds->counts, ds->nnz * sizeof(double));
  rc_dataset_free(ds2);
  rc_dataset_free(ds);
  unlink(out);
  struct {
    const char *text, *expect;
  } bad[] = {
      {"0,0\n1,x\n", ":2:"},          {"0,0\n1;1\n", ":2:"},          {"0,0\n1,1,2\n", ":2:"},
      {"0,0\n-1,1\n", ":2:"},         {"0,0\n2,1\n", "sample 1 has no observation"},
      {"0,0\n1,2\n", "class 1 has no observation"}, {"", "no observations"},
      {"0,0\n99999999999999999999999,1\n", ":2:"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    write_file(path, bad[k].text);
    ds = NULL;
    assert_int_not_equal(rc_dataset_read_csv(path, &ds, &err), RC_OK);
    assert_null(ds);
    if (!strstr(err.msg, bad[k].expect)) fail_msg("case %zu: '%s' lacks '%s'", k, err.msg, bad[k].expect);
    assert_non_null(strstr(err.msg, path));
  }
  unlink(path);
  assert_int_equal(rc_dataset_read_csv("/nonexistent/file.csv", &ds, &err), RC_EIO);
  assert_non_null(strstr(err.msg, "/nonexistent/file.csv"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frustrated_count_rounding), cmocka_unit_test(patterns),
      cmocka_unit_test(explicit_pairs_and_sizes),  cmocka_unit_test(bad_specs),
      cmocka_unit_test(csv_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
