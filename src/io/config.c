/* config.c: experiment files (config.h): INI through libinih, JSON through
 * jansson, both into one list of key/value entries with line numbers.
 *
 * libinih is used with two of its defaults changed, for hand-written files:
 * multi-line values are off (with them, an indented `key = value` line would
 * silently become a continuation of the previous value), and a line may be of
 * any length: libinih splits a line longer than its buffer limit into a
 * second, garbled line, so the limit is set above the file's size (a line
 * cannot be longer than its file), and the reader checks it anyway. The file
 * is opened as every user file is (core/input.h): regular files only, its
 * size within the memory budget; reading stops at the first NUL byte. */
#include <errno.h>
#include <ini.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/input.h"
#include "core/memory.h"
#include "repcollapse/config.h"
#include "repcollapse/io.h"

void rc_config_free(rc_config *c) {
  if (!c) return;
  for (size_t k = 0; k < c->n; k++) {
    free(c->entry[k].section);
    free(c->entry[k].key);
    free(c->entry[k].value);
  }
  free(c->entry);
  free(c->source);
  free(c);
}

static int config_add(rc_config *c, const char *section, const char *key, const char *value, int line) {
  rc_config_entry *e = realloc(c->entry, (c->n + 1) * sizeof *e);
  if (!e) return 0;
  c->entry = e;
  e += c->n;
  e->section = strdup(section);
  e->key = strdup(key);
  e->value = strdup(value);
  e->line = line;
  c->n++;
  return e->section && e->key && e->value;
}

/* ---- INI ---- */

typedef struct {
  FILE *fp;
  rc_config *c;
  int line;        /* line being read (1-based) */
  int at_start;    /* the next read starts a new line */
  int nul_line;    /* first line with a NUL byte (0: none) */
  int nomem;
  long line_len;   /* bytes of the current line so far */
  int long_line;   /* a line that reached the buffer limit (0: none) */
} ini_ctx;

/* fgets-like reader that counts lines and notices NUL bytes */
static char *ini_read(char *str, int num, void *stream) {
  ini_ctx *x = stream;
  int k = 0, ch = EOF;
  if (x->nul_line || x->long_line) return NULL; /* stop: binary data, or a line libinih would split */
  while (k < num - 1 && (ch = getc(x->fp)) != EOF) {
    if (k == 0 && x->at_start) {
      x->line++;
      x->at_start = 0;
      x->line_len = 0;
    }
    if (ch == '\0') {
      x->nul_line = x->line;
      return NULL;
    }
    str[k++] = (char)ch;
    x->line_len++;
    if (ch == '\n') {
      x->at_start = 1;
      break;
    }
  }
  if (k == 0) return NULL;
  if (ch != '\n' && x->line_len >= (long)ini_max_line - 1 && !feof(x->fp)) x->long_line = x->line;
  str[k] = '\0';
  return str;
}

static int ini_entry(void *user, const char *section, const char *name, const char *value) {
  ini_ctx *x = user;
  if (!config_add(x->c, section, name, value, x->line)) x->nomem = 1;
  return !x->nomem;
}

/* files larger than this are not experiment files (and libinih counts in int) */
#define CONFIG_MAX_BYTES (1 << 30)

static rc_status read_ini(FILE *fp, double size, rc_config *c, rc_error *err) {
  ini_ctx x = {fp, c, 0, 1, 0, 0, 0, 0};
  ini_allow_multiline = 0;
  ini_use_stack = 0;
  ini_allow_realloc = 1;
  ini_max_line = size + 2 > (1 << 20) ? (int)size + 2 : 1 << 20; /* above any line of the file */
  int bad = ini_parse_stream(ini_read, &x, ini_entry, &x);
  if (x.nomem || bad == -2) return rc_error_set(err, RC_ENOMEM, "%s: out of memory", c->source);
  if (ferror(fp)) return rc_error_set(err, RC_EIO, "cannot read config file '%s'", c->source);
  if (x.long_line)
    return rc_error_set(err, RC_EINVAL, "%s:%d: line longer than %d bytes (the file grew while it was read?)", c->source,
                        x.long_line, ini_max_line - 2);
  if (x.nul_line) return rc_error_set(err, RC_EINVAL, "%s:%d: binary data (NUL byte) in a config file", c->source, x.nul_line);
  if (bad > 0)
    return rc_error_set(err, RC_EINVAL, "%s:%d: expected 'key = value', '[section]' or a comment (';' or '#')",
                        c->source, bad);
  return RC_OK;
}

/* ---- JSON ---- */

static int json_text(json_t *v, char *buf, size_t size) {
  switch (json_typeof(v)) {
    case JSON_STRING: return snprintf(buf, size, "%s", json_string_value(v)) < (int)size;
    case JSON_INTEGER: return snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < (int)size;
    case JSON_REAL: return snprintf(buf, size, "%.17g", json_real_value(v)) < (int)size;
    case JSON_TRUE: return snprintf(buf, size, "true") < (int)size;
    case JSON_FALSE: return snprintf(buf, size, "false") < (int)size;
    default: return 0;
  }
}

static rc_status json_value(json_t *v, const char *source, const char *key, char **out, rc_error *err) {
  size_t n = json_is_array(v) ? json_array_size(v) : 1, cap = 64 * n + 4096, len = 0;
  char *buf = rc_calloc(cap, 1, "config value", err);
  if (!buf) return RC_ENOMEM;
  for (size_t k = 0; k < n; k++) {
    json_t *item = json_is_array(v) ? json_array_get(v, k) : v;
    if (k) buf[len++] = ',';
    if (json_is_array(item) || !json_text(item, buf + len, cap - len)) {
      free(buf);
      return rc_error_set(err, RC_EINVAL, "%s: key '%s': expected a string, a number, true, false or a list of them",
                          source, key);
    }
    len += strlen(buf + len);
  }
  *out = buf;
  return RC_OK;
}

static rc_status read_json(FILE *fp, rc_config *c, rc_error *err) {
  json_error_t je;
  json_t *root = json_loadf(fp, JSON_REJECT_DUPLICATES, &je);
  if (!root) return rc_error_set(err, RC_EINVAL, "%s:%d: invalid JSON: %s", c->source, je.line, je.text);
  json_t *obj = json_object_get(root, "settings");
  const char *section = "settings";
  if (!obj) {
    obj = root;
    section = "";
  }
  rc_status st = RC_OK;
  if (!json_is_object(obj))
    st = rc_error_set(err, RC_EINVAL, "%s: expected a JSON object of settings (or a summary.json with \"settings\")",
                      c->source);
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    char *text = NULL;
    if (st) break;
    st = json_value(v, c->source, key, &text, err);
    if (!st && !config_add(c, section, key, text, 0)) st = rc_error_set(err, RC_ENOMEM, "%s: out of memory", c->source);
    free(text);
  }
  /* a summary.json's input files: entries of section "input_files", key the
   * option, value the recorded FNV-1a 64 hash of the file's content */
  json_t *files = obj != root ? json_object_get(root, "input_files") : NULL;
  json_object_foreach(files, key, v) {
    const char *hash = json_string_value(json_object_get(v, "fnv1a64"));
    if (st) break;
    if (!hash) st = rc_error_set(err, RC_EINVAL, "%s: input_files.%s has no \"fnv1a64\" hash", c->source, key);
    else if (!config_add(c, "input_files", key, hash, 0)) st = rc_error_set(err, RC_ENOMEM, "%s: out of memory", c->source);
  }
  json_decref(root);
  return st;
}

rc_status rc_config_read(const char *path, rc_config **out, rc_error *err) {
  *out = NULL;
  FILE *fp;
  double size = 0;
  /* INI: the file, its longest line and the entries; JSON: jansson's tree */
  rc_status st0 = rc_input_open(path, "config file", &fp, &size, err);
  if (st0) return st0;
  if (size > CONFIG_MAX_BYTES) {
    fclose(fp);
    return rc_error_set(err, RC_EINVAL, "config file '%s' is %.0f bytes: too large for an experiment file (at most %d)",
                        path, size, CONFIG_MAX_BYTES);
  }
  char desc[600];
  snprintf(desc, sizeof desc, "reading config file '%.400s' (%.0f bytes)", path, size);
  if ((st0 = rc_memory_check(8.0 * size, desc, err))) {
    fclose(fp);
    return st0;
  }
  rc_config *c = rc_calloc(1, sizeof *c, "config", err);
  if (c) c->source = strdup(path);
  if (!c || !c->source) {
    fclose(fp);
    rc_config_free(c);
    return rc_error_set(err, RC_ENOMEM, "out of memory reading '%s'", path);
  }
  /* JSON or INI, by content: after an optional UTF-8 byte-order mark and white
   * space, a JSON text starts with '{' or '['; an INI section '[name]' starts
   * with '[' too, so '[' followed by '{', '[', '"', ']', '-' or a digit is JSON
   * (and then refused unless it is an object of settings) */
  unsigned char head[3];
  size_t nh = fread(head, 1, 3, fp);
  long skip = nh == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF ? 3 : 0;
  fseek(fp, skip, SEEK_SET);
  int ch;
  while ((ch = getc(fp)) == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {}
  c->is_json = ch == '{';
  if (ch == '[') { /* '[1,2]' or '[ {...' is JSON; '[data]' is an INI section */
    int next;
    while ((next = getc(fp)) == ' ' || next == '\t' || next == '\r' || next == '\n') {}
    c->is_json = next == '{' || next == '[' || next == '"' || next == ']' || next == '-' || (next >= '0' && next <= '9');
  }
  fseek(fp, skip, SEEK_SET);
  rc_status st = c->is_json ? read_json(fp, c, err) : read_ini(fp, size, c, err);
  fclose(fp);
  if (st) {
    rc_config_free(c);
    return st;
  }
  *out = c;
  return RC_OK;
}
