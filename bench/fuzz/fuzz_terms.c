/* fuzz_terms.c: the `--terms` parser (rc_model_parse_terms): a model, or a
 * one-line error. A parsed model must be formattable, and its canonical text
 * must parse back to the same terms (the grammar round-trips). */
#include "fuzz_input.h"
#include "repcollapse/head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_string(data, size);
  rc_model m, back;
  rc_error err;
  if (rc_model_parse_terms(text, &m, &err) == RC_OK) {
    if (m.n_terms == 0 || m.n_terms > RC_MAX_TERMS) abort();
    char canon[1024];
    rc_model_format(&m, canon, sizeof canon);
    if (rc_model_parse_terms(canon, &back, &err) != RC_OK) abort();
    if (back.n_terms != m.n_terms) abort();
    for (size_t k = 0; k < m.n_terms; k++) {
      const rc_term *a = &m.terms[k], *b = &back.terms[k];
      if (a->source != b->source || a->source_head != b->source_head || a->target_head != b->target_head ||
          a->stop_gradient != b->stop_gradient || a->weight != b->weight)
        abort();
    }
  } else if (strchr(err.msg, '\n')) {
    abort(); /* errors are one line */
  }
  free(text);
  return 0;
}
