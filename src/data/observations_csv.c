/* observations_csv.c: the user's file of observations, CSV `sample,label`
 * (docs/model.md section 1). One observation a line; an optional header line
 * `sample,label`, blank lines and '#' comments are skipped; anything else that
 * is not two non-negative integers separated by a comma is an error naming the
 * file and line. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/input.h"
#include "core/memory.h"
#include "repcollapse/data.h"
#include "repcollapse/io.h"

static const char *skip_ws(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

/* parse a non-negative integer field; returns end pointer or NULL */
static const char *parse_field(const char *s, unsigned long long *v) {
  s = skip_ws(s);
  if (!isdigit((unsigned char)*s)) return NULL;
  errno = 0;
  char *end;
  *v = strtoull(s, &end, 10);
  if (errno == ERANGE) return NULL;
  return skip_ws(end);
}

/* a line as a message shows it: at most 40 bytes, a byte-order mark named,
 * other control and non-ASCII bytes as \xNN (an invisible byte must not make
 * a correct-looking line unreadable) */
static const char *visible(const char *s, char *buf, size_t size) {
  size_t w = 0;
  for (size_t k = 0; s[k] && k < 40 && w + 24 < size; k++) {
    const unsigned char c = (unsigned char)s[k];
    if (c == 0xEF && (unsigned char)s[k + 1] == 0xBB && (unsigned char)s[k + 2] == 0xBF) {
      w += (size_t)snprintf(buf + w, size - w, "<U+FEFF byte-order mark>");
      k += 2;
    } else if (c < 0x20 || c >= 0x7F) {
      w += (size_t)snprintf(buf + w, size - w, "\\x%02x", c);
    } else {
      buf[w++] = (char)c;
    }
  }
  buf[w] = '\0';
  return buf;
}

/* Longest line read: an observation is two integers; a longer line is not
 * an observations file (a '#' comment may be longer: its rest is skipped). */
#define CSV_MAX_LINE 65536

/* Read one line into buf (without its newline): its length, or -1 at the end
 * of the file, -2 for a line longer than CSV_MAX_LINE (not a comment), -3 for
 * a NUL byte. */
static long read_line(FILE *fp, char *buf) {
  long k = 0;
  int ch, any = 0, started = 0, comment = 0;
  while ((ch = getc_unlocked(fp)) != EOF) {
    any = 1;
    if (ch == '\n') break;
    if (ch == '\0') return -3;
    if (!started && ch != ' ' && ch != '\t') {
      started = 1;
      comment = ch == '#';
    }
    if (k < CSV_MAX_LINE) buf[k++] = (char)ch;
    else if (!comment) return -2;
  }
  if (!any) return -1;
  buf[k] = '\0';
  return k;
}

rc_status rc_dataset_read_csv(const char *path, rc_dataset **out, rc_error *err) {
  *out = NULL;
  FILE *fp;
  rc_status st = rc_input_open(path, "observations file", &fp, NULL, err);
  if (st) return st;
  size_t cap = 1024, n = 0, lineno = 0;
  rc_observation *obs = malloc(cap * sizeof *obs);
  char *line = malloc(CSV_MAX_LINE + 1);
  long len;
  if (!obs || !line) {
    fclose(fp);
    free(obs);
    free(line);
    return rc_error_set(err, RC_ENOMEM, "cannot allocate observations");
  }
  while ((len = read_line(fp, line)) != -1) {
    lineno++;
    if (len == -3) {
      st = rc_error_set(err, RC_EINVAL, "%s:%zu: binary data (NUL byte) in an observations file", path, lineno);
      break;
    }
    if (len == -2) {
      st = rc_error_set(err, RC_EINVAL, "%s:%zu: line longer than %d bytes: not an observations file ('sample,label' a line)",
                        path, lineno, CSV_MAX_LINE);
      break;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    const char *s = line;
    if (lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3)) s += 3; /* a UTF-8 byte-order mark (spreadsheets write one) */
    s = skip_ws(s);
    if (*s == '\0' || *s == '#') continue;
    if (n == 0 && strncmp(s, "sample", 6) == 0) {
      const char *h = skip_ws(s + 6);
      if (*h == ',' && strcmp(skip_ws(h + 1), "label") == 0) continue;
    }
    unsigned long long smp, lab;
    const char *p = parse_field(s, &smp);
    if (p && *p == ',') p = parse_field(p + 1, &lab);
    else p = NULL;
    if (!p || *p != '\0') {
      char shown[256];
      st = rc_error_set(err, RC_EINVAL, "%s:%zu: expected 'sample,label' (two non-negative integers), got '%s'",
                        path, lineno, visible(s, shown, sizeof shown));
      break;
    }
    if (lab > 10000000ULL || smp > (1ULL << 40)) {
      st = rc_error_set(err, RC_EINVAL, "%s:%zu: %s index %llu is too large (at most %llu)", path, lineno,
                        lab > 10000000ULL ? "label" : "sample", lab > 10000000ULL ? lab : smp,
                        lab > 10000000ULL ? 10000000ULL : 1ULL << 40);
      break;
    }
    if (n == cap) {
      char what[600];
      snprintf(what, sizeof what, "reading the observations of '%.400s' (%zu so far, line %zu)", path, n, lineno);
      /* the grown array and the data set built from it (about as large again) */
      st = rc_memory_check(4.0 * (double)cap * (double)sizeof *obs, what, err);
      if (st) break;
      rc_observation *bigger = realloc(obs, 2 * cap * sizeof *obs);
      if (!bigger) {
        st = rc_error_set(err, RC_ENOMEM, "cannot allocate observations");
        break;
      }
      obs = bigger;
      cap *= 2;
    }
    obs[n++] = (rc_observation){(size_t)smp, (uint32_t)lab};
  }
  if (st == RC_OK && ferror(fp)) st = rc_error_set(err, RC_EIO, "error reading '%s'", path);
  free(line);
  fclose(fp);
  if (st == RC_OK && n == 0) st = rc_error_set(err, RC_EINVAL, "%s: no observations", path);
  if (st == RC_OK) {
    st = rc_dataset_from_observations(obs, n, 0, 0, out, err);
    if (st != RC_OK && err) {
      char tmp[sizeof err->msg];
      snprintf(tmp, sizeof tmp, "%s", err->msg);
      rc_error_set(err, st, "%s: %s", path, tmp);
    }
  }
  free(obs);
  return st;
}

rc_status rc_dataset_write_csv(const rc_dataset *ds, const char *path, rc_error *err) {
  rc_atomic_file f;
  rc_status st = rc_atomic_open(&f, path, err);
  if (st) return st;
  fprintf(f.fp, "sample,label\n");
  for (size_t i = 0; i < ds->n_samples; i++)
    for (size_t j = ds->row_ptr[i]; j < ds->row_ptr[i + 1]; j++)
      for (double k = 0; k < ds->counts[j]; k += 1.0) fprintf(f.fp, "%zu,%u\n", i, ds->labels[j]);
  return rc_atomic_commit(&f, err);
}
