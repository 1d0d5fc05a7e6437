/* config.h: experiment files, read into a list of `key = value` entries.
 *
 * Two formats: an INI file (libinih; `[sections]`, `key = value` or
 * `key: value`, comments starting with ';' or '#' at the start of a line and
 * ' ;' inline) and JSON (the "settings" object of a summary.json, or a JSON
 * object of settings; a list value is joined with commas). JSON is told by
 * content: after an optional UTF-8 byte-order mark and blanks, '{', or '['
 * followed by a JSON value (an INI section is '[name]'). The library only reads: which keys
 * exist and what their values mean is the caller's business (the CLI maps
 * keys onto its options), so errors about a key name the entry's line. */
#ifndef REPCOLLAPSE_CONFIG_H
#define REPCOLLAPSE_CONFIG_H

#include <stddef.h>

#include "repcollapse/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  char *section; /* INI section ("" before the first); "settings" or "" for JSON,
                  * "input_files" for a summary.json's hashes of its input files
                  * (key: the option naming the file, value: its FNV-1a 64, hex) */
  char *key;
  char *value;   /* as written (leading and trailing blanks stripped) */
  int line;      /* 1-based line of the file (0 for JSON, which has none per key) */
} rc_config_entry;

typedef struct {
  char *source; /* the file's name, for messages */
  int is_json;
  size_t n;
  rc_config_entry *entry;
} rc_config;

/** Read an experiment file. Errors name the file and, for a malformed line,
 * the line: "exp.ini:7: expected 'key = value' or '[section]'". */
rc_status rc_config_read(const char *path, rc_config **out, rc_error *err);

void rc_config_free(rc_config *c);

#ifdef __cplusplus
}
#endif

#endif
