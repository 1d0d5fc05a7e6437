/* error.h: status codes and the error record every fallible library call fills.
 *
 * Like GSL, the library never exits the program: a function returns an
 * rc_status and, on failure, writes a one-line human-readable message into the
 * caller's rc_error (which may be NULL when the caller does not care). */
#ifndef REPCOLLAPSE_ERROR_H
#define REPCOLLAPSE_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  RC_OK = 0,
  RC_EINVAL = 1,   /* bad input: a value out of range, a malformed spec or file */
  RC_ENOMEM = 2,   /* allocation failed or the problem cannot fit in memory */
  RC_EIO = 3,      /* a file could not be read or written */
  RC_ENUMERIC = 4, /* a numerical failure: divergence, NaN/Inf, solver failure */
  RC_EUNSTABLE = 5, /* a requested step is unstable (refused before running) */
  RC_ECANCELLED = 6 /* the caller's progress callback asked to stop (partial outputs removed) */
} rc_status;

/** Error record: code plus a one-line message (no trailing newline). */
typedef struct {
  rc_status code;
  char msg[512];
} rc_error;

/** Record an error (printf-style) into err (ignored if err is NULL); returns code. */
rc_status rc_error_set(rc_error *err, rc_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Clear an error record. */
void rc_error_clear(rc_error *err);

/** Short name of a status code ("invalid input", "I/O error", ...). */
const char *rc_status_name(rc_status code);

#ifdef __cplusplus
}
#endif

#endif
