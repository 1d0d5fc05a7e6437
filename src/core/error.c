/* error.c: the error record of error.h (codes, one-line messages) and version strings. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rc_version.h"
#include "repcollapse/repcollapse.h"

rc_status rc_error_set(rc_error *err, rc_status code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    /* keep it one line */
    for (char *p = err->msg; *p; p++)
      if (*p == '\n' || *p == '\r') *p = ' ';
  }
  return code;
}

void rc_error_clear(rc_error *err) {
  if (err) {
    err->code = RC_OK;
    err->msg[0] = '\0';
  }
}

const char *rc_status_name(rc_status code) {
  switch (code) {
    case RC_OK: return "ok";
    case RC_EINVAL: return "invalid input";
    case RC_ENOMEM: return "out of memory";
    case RC_EIO: return "I/O error";
    case RC_ENUMERIC: return "numerical failure";
    case RC_EUNSTABLE: return "unstable step";
    case RC_ECANCELLED: return "cancelled";
  }
  return "unknown error";
}

const char *rc_version(void) { return RC_VERSION_STRING; }
const char *rc_source_commit(void) { return RC_GIT_COMMIT; }
