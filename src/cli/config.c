/* config.c: `--config FILE` for every subcommand. The keys of an experiment
 * file are the names of the command-line options (from the option table, so
 * every new option gets a key for free), with '-' or '_'. The file's settings
 * become options placed before the command line's, so a flag given on the
 * command line overrides the file, key by key. Sections are free labels for
 * readers ([data], [model], [init], [run]); a key that is an option of another
 * subcommand is skipped, so one file serves `data`, `spectrum` and `run`; a
 * key that is no option at all, a repeated key or a bad value is an error
 * naming the file, the line and the key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "repcollapse/config.h"
#include "repcollapse/io.h"

static int fail(const char *cmd, int code, const char *msg) {
  fprintf(cli_stderr(), "repcollapse %s: error: %s\n", cmd, msg);
  return code;
}

/* argv index of `--config` (or `--config=`), skipping option values; -1 if none, -2 if given twice */
static int find_config(int argc, char **argv, int first, const char **path) {
  int at = -1;
  for (int k = first; k < argc; k++) {
    const char *a = argv[k];
    if (strncmp(a, "--", 2) != 0) continue;
    const char *eq = strchr(a + 2, '=');
    size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    int has_arg = 0, group = 0;
    if (!cli_option_find(a + 2, len, &has_arg, &group)) continue;
    if (len == 6 && !strncmp(a + 2, "config", 6)) {
      if (at >= 0) return -2;
      at = k;
      *path = eq ? eq + 1 : (k + 1 < argc ? argv[k + 1] : NULL);
    }
    if (has_arg && !eq) k++;
  }
  return at;
}

static int parse_bool(const char *v, int *b) {
  static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
  for (int k = 0; k < 4; k++) {
    if (!strcmp(v, yes[k])) return *b = 1;
    if (!strcmp(v, no[k])) return (*b = 0) == 0;
  }
  return 0;
}

/* where an entry comes from, for messages: "exp.ini:7: key 'per_class'" */
static char *entry_origin(const rc_config *c, const rc_config_entry *e) {
  char buf[600];
  if (e->line) snprintf(buf, sizeof buf, "%.400s:%d: key '%.100s'", c->source, e->line, e->key);
  else snprintf(buf, sizeof buf, "%.400s: key '%.100s'", c->source, e->key);
  return strdup(buf);
}

/* append one argument (owned) with its origin (owned, may be NULL) */
static int push(cli_options *o, char *arg, char *origin) {
  char **a = realloc(o->args, (size_t)(o->nargs + 2) * sizeof *a);
  if (a) o->args = a;
  char **g = realloc(o->origins, (size_t)(o->nargs + 2) * sizeof *g);
  if (g) o->origins = g;
  if (!a || !g || !arg) {
    free(arg);
    free(origin);
    return 0;
  }
  o->args[o->nargs] = arg;
  o->origins[o->nargs] = origin;
  o->nargs++;
  o->args[o->nargs] = NULL;
  o->origins[o->nargs] = NULL;
  return 1;
}

/* whether argv[first..) gives --name itself (then the file's value is not used) */
static int given_on_command_line(int argc, char **argv, int first, const char *name) {
  size_t len = strlen(name);
  for (int k = first; k < argc; k++)
    if (!strncmp(argv[k], "--", 2) && !strncmp(argv[k] + 2, name, len) && (argv[k][2 + len] == '\0' || argv[k][2 + len] == '='))
      return 1;
  return 0;
}

/* A summary.json records the hash of each input file: the file its settings
 * name must still have that content, unless --allow-changed-inputs (or the
 * command line names another file). */
static int check_input(const rc_config *c, const rc_config_entry *e, int argc, char **argv, int first, const char *cmd,
                       int allow) {
  if (allow || given_on_command_line(argc, argv, first, e->key)) return 0;
  const char *path = NULL;
  for (size_t q = 0; q < c->n; q++)
    if (strcmp(c->entry[q].section, "input_files") && !strcmp(c->entry[q].key, e->key)) path = c->entry[q].value;
  if (!path) return 0; /* not a setting of the file: nothing is read from it */
  uint64_t h = 0;
  rc_error err;
  rc_error_clear(&err);
  char msg[1400];
  if (rc_input_hash(path, "input file", &h, &err)) {
    snprintf(msg, sizeof msg, "%s: %s", c->source, err.msg);
    return fail(cmd, 1, msg);
  }
  char now[24];
  snprintf(now, sizeof now, "%016llx", (unsigned long long)h);
  if (!strcmp(now, e->value)) return 0;
  snprintf(msg, sizeof msg,
           "%.400s: --%.60s file '%.400s' changed since the run it records (FNV-1a 64 %.20s, now %s); "
           "give --allow-changed-inputs to use it as it is now",
           c->source, e->key, path, e->value, now);
  return fail(cmd, 2, msg);
}

static int expand_entries(const rc_config *c, int groups, const char *cmd, cli_options *o, int argc, char **argv,
                          int first) {
  char msg[1200];
  const int allow = given_on_command_line(argc, argv, first, "allow-changed-inputs");
  for (size_t k = 0; k < c->n; k++) {
    const rc_config_entry *e = &c->entry[k];
    if (c->is_json && !strcmp(e->section, "input_files")) {
      int rc = check_input(c, e, argc, argv, first, cmd, allow);
      if (rc) return rc;
      continue;
    }
    char *origin = entry_origin(c, e), key[128];
    if (!origin) return fail(cmd, 1, "out of memory");
    snprintf(key, sizeof key, "%s", e->key);
    for (char *p = key; *p; p++)
      if (*p == '_') *p = '-';
    int has_arg = 0, group = 0, known = strlen(e->key) < sizeof key - 1 && cli_option_find(key, strlen(key), &has_arg, &group);
    const char *why = !known ? "is not an option of repcollapse (see repcollapse <command> --help)"
                      : (!strcmp(key, "config") || !strcmp(key, "help") || !strcmp(key, "resume"))
                          ? "cannot be set in a config file (give it on the command line)"
                          : NULL;
    for (size_t q = 0; !why && q < k; q++) {
      char other[128];
      snprintf(other, sizeof other, "%s", c->entry[q].key);
      for (char *p = other; *p; p++)
        if (*p == '_') *p = '-';
      if (!strcmp(other, key)) why = "is given twice in the file";
    }
    int on = 1;
    if (!why && !has_arg && !parse_bool(e->value, &on)) why = "expects true or false";
    if (why) {
      snprintf(msg, sizeof msg, "%s %s (value '%.60s')", origin, why, e->value);
      free(origin);
      return fail(cmd, 2, msg);
    }
    if (!(group & groups) || !on) { /* an option of another subcommand, or a flag set to false */
      free(origin);
      continue;
    }
    size_t len = strlen(key) + strlen(e->value) + 4;
    char *arg = malloc(len);
    if (arg) snprintf(arg, len, has_arg ? "--%s=%s" : "--%s", key, e->value);
    if (!push(o, arg, origin)) return fail(cmd, 1, "out of memory");
  }
  return 0;
}

int cli_config_expand(int argc, char **argv, int first, int groups, const char *cmd, cli_options *o) {
  const char *path = NULL;
  int at = find_config(argc, argv, first, &path);
  if (at == -1) return 0;
  if (at == -2) return fail(cmd, 2, "--config given twice");
  if (!path || !*path) return fail(cmd, 2, "option '--config' needs a value");
  if (at >= 0 && strncmp(argv[at], "--config=", 9) != 0 && cli_value_is_option(path)) {
    char msg[400];
    snprintf(msg, sizeof msg, "option '--config' needs a value (got the option '%.200s'; write --config=VALUE for a "
             "value starting with --)", path);
    return fail(cmd, 2, msg);
  }
  rc_config *c = NULL;
  rc_error err;
  rc_error_clear(&err);
  if (rc_config_read(path, &c, &err)) return fail(cmd, err.code == RC_EINVAL ? 2 : 1, err.msg);
  int rc = 0;
  for (int k = 0; k < first && !rc; k++)
    if (!push(o, strdup(argv[k]), NULL)) rc = fail(cmd, 1, "out of memory");
  if (!rc) rc = expand_entries(c, groups, cmd, o, argc, argv, first);
  int skip = strchr(argv[at], '=') ? 1 : 2;
  for (int k = first; k < argc && !rc; k++) {
    if (k == at) {
      k += skip - 1;
      continue;
    }
    if (!push(o, strdup(argv[k]), NULL)) rc = fail(cmd, 1, "out of memory");
  }
  rc_config_free(c);
  return rc;
}
