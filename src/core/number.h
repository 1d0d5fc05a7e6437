/* number.h (private): the one parser of numbers written by people (options,
 * experiment files, sweep grids, --terms weights, the environment). A number
 * is decimal: [+-]digits[.digits][(e|E)[+-]digits] (or .digits), finite. The
 * C library's strtod also takes hexadecimal floats (0x1p3), "inf" and "nan"
 * and is locale-dependent; counts are refused in hexadecimal, so floats are
 * too: one spelling of numbers everywhere. */
#ifndef RC_NUMBER_H
#define RC_NUMBER_H

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Length of the decimal number at the start of s (0 if there is none, or it
 * overflows, underflows or is not finite); its value in *v. */
static inline size_t rc_number_scan(const char *s, double *v) {
  size_t k = 0, digits = 0;
  if (s[k] == '+' || s[k] == '-') k++;
  while (s[k] >= '0' && s[k] <= '9') k++, digits++;
  if (s[k] == '.') {
    k++;
    while (s[k] >= '0' && s[k] <= '9') k++, digits++;
  }
  if (!digits) return 0;
  if (s[k] == 'e' || s[k] == 'E') {
    size_t e = k + 1;
    if (s[e] == '+' || s[e] == '-') e++;
    if (s[e] >= '0' && s[e] <= '9') {
      while (s[e] >= '0' && s[e] <= '9') e++;
      k = e;
    }
  }
  /* strtod on s itself (a number may have any number of digits): it reads the
   * same k characters, or more only for spellings refused here (0x1p3), which
   * then fail the length check */
  errno = 0;
  char *end;
  double x = strtod(s, &end);
  if ((size_t)(end - s) != k || !isfinite(x) || errno == ERANGE) return 0;
  *v = x;
  return k;
}

/* The whole of s is one decimal number (see above): 1 and *v, or 0. */
static inline int rc_number_parse(const char *s, double *v) {
  double x;
  size_t k = rc_number_scan(s, &x);
  if (!k || s[k] != '\0') return 0;
  *v = x;
  return 1;
}

/* The whole of s is a non-negative decimal integer (digits only, no sign):
 * 1 and *v, or 0 (also on overflow). */
static inline int rc_count_parse(const char *s, unsigned long long *v) {
  if (!*s) return 0;
  unsigned long long x = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return 0;
    unsigned d = (unsigned)(*p - '0');
    if (x > (~0ULL - d) / 10) return 0;
    x = x * 10 + d;
  }
  *v = x;
  return 1;
}

#endif
