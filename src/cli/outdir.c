/* outdir.c: a failed command leaves no empty output directory behind. Before
 * a command may create its --out directory, the missing part of the path
 * (the leaf and any missing parents) is noted; after a failure, those of
 * them that are still empty are removed again, leaf first. Directories that
 * existed before, or that hold anything (another process's files, a partial
 * result kept for --resume), are never touched: rmdir removes only empty
 * directories. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

#define MAX_MISSING 64

static char *missing[MAX_MISSING]; /* paths this process may create, leaf first */
static size_t n_missing;

static void forget(void) {
  for (size_t k = 0; k < n_missing; k++) free(missing[k]);
  n_missing = 0;
}

void cli_outdir_begin(const char *path) {
  forget();
  if (!path || !*path) return;
  char *p = strdup(path);
  if (!p) return;
  size_t len = strlen(p);
  while (len > 1 && p[len - 1] == '/') p[--len] = '\0';
  struct stat sb;
  while (n_missing < MAX_MISSING && lstat(p, &sb) != 0 && errno == ENOENT) {
    missing[n_missing] = strdup(p);
    if (!missing[n_missing]) break;
    n_missing++;
    char *slash = strrchr(p, '/');
    if (!slash || slash == p) break;
    while (slash > p && slash[-1] == '/') slash--;
    *slash = '\0';
  }
  free(p);
}

void cli_outdir_end(const char *path, int rc) {
  (void)path;
  if (rc != 0)
    for (size_t k = 0; k < n_missing; k++)
      if (rmdir(missing[k]) != 0) break; /* not empty (or not made here): keep it and its parents */
  forget();
}
