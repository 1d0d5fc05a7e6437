/* fuzz_frustrated.c: the `--frustrated a-b:n,...` parser (rc_parse_pairs) and
 * the generator it feeds (four classes of two clean samples): a list, or a
 * one-line error; counts that do not fit are refused, never allocated. */
#include "fuzz_input.h"
#include "repcollapse/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_string(data, size);
  rc_pair_count *pairs = NULL;
  size_t n = 0;
  rc_error err;
  if (rc_parse_pairs(text, &pairs, &n, &err) == RC_OK) {
    if (n == 0) abort(); /* success means at least one item */
    size_t sizes[1] = {2};
    rc_data_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.n_classes = 4;
    spec.class_sizes = sizes;
    spec.n_class_sizes = 1;
    spec.pairs = pairs;
    spec.n_pairs = n;
    rc_dataset *ds = NULL;
    if (rc_data_generate(&spec, &ds, &err) == RC_OK) {
      size_t F = 0;
      for (size_t k = 0; k < n; k++) F += pairs[k].count;
      if (ds->n_samples != 8 + F || ds->n_frustrated != F) abort(); /* the counts are honoured exactly */
      rc_dataset_free(ds);
    }
    free(pairs);
  } else if (pairs != NULL) {
    abort();
  }
  free(text);
  return 0;
}
