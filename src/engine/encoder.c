/* encoder.c: the registry of encoders (engine.h). Adding an encoder: its file
 * encoder_<name>.c defines an rc_encoder_method; list it here and in
 * rc_encoder_kind. */
#include <string.h>

#include "repcollapse/engine.h"

extern const rc_encoder_method rc_encoder_table, rc_encoder_linear;

const rc_encoder_method *const rc_encoder_methods[RC_N_ENCODERS] = {&rc_encoder_table, &rc_encoder_linear};

rc_status rc_parse_encoder(const char *text, rc_encoder_kind *out, rc_error *err) {
  for (int k = 0; k < RC_N_ENCODERS; k++)
    if (!strcmp(text, rc_encoder_methods[k]->name)) {
      *out = (rc_encoder_kind)k;
      return RC_OK;
    }
  return rc_error_set(err, RC_EINVAL, "unknown encoder '%s' (expected table or linear)", text);
}

const char *rc_encoder_name(rc_encoder_kind k) {
  return (unsigned)k < RC_N_ENCODERS ? rc_encoder_methods[k]->name : "unknown";
}
