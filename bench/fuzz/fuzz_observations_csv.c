/* fuzz_observations_csv.c: the observations CSV reader (rc_dataset_read_csv)
 * on arbitrary bytes: it must return a data set or a one-line error, never
 * crash, leak or allocate what the budget does not allow. */
#include "fuzz_input.h"
#include "repcollapse/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  int fd = fuzz_file(data, size, path, sizeof path);
  if (fd < 0) return 0;
  rc_dataset *ds = NULL;
  rc_error err;
  if (rc_dataset_read_csv(path, &ds, &err) == RC_OK) {
    if (ds->n_samples == 0 || ds->row_ptr[ds->n_samples] != ds->nnz) abort(); /* a data set must be whole */
    rc_dataset_free(ds);
  } else if (ds != NULL || strchr(err.msg, '\n')) {
    abort(); /* an error leaves nothing behind and is one line */
  }
  close(fd);
  return 0;
}
