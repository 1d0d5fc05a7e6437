/* cleanup.c: the temporary files this process has open (io.h), so that a
 * program's signal handler can remove them before it ends. The library only
 * keeps the list; it installs no handler (that is the program's business:
 * src/cli/main.c does it for the command). Registering and walking the list
 * are lock-free, and rc_cleanup_now() only calls async-signal-safe functions
 * (getpid, unlink), so it may run inside a handler. Entries carry the pid that
 * registered them: a forked child (a sweep worker) never removes its parent's
 * files. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "repcollapse/io.h"

#define CLEANUP_SLOTS 64

typedef struct {
  atomic_int state; /* 0 free, 1 being filled, 2 registered */
  pid_t pid;
  char path[4200];
} cleanup_slot;

static cleanup_slot slots[CLEANUP_SLOTS];

int rc_cleanup_register(const char *path) {
  if (!path || strlen(path) >= sizeof slots[0].path) return -1;
  for (int k = 0; k < CLEANUP_SLOTS; k++) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&slots[k].state, &expected, 1)) continue;
    slots[k].pid = getpid();
    snprintf(slots[k].path, sizeof slots[k].path, "%s", path);
    atomic_store(&slots[k].state, 2);
    return k;
  }
  return -1; /* full: the file is then only removed by its writer (or, stale, by the next run) */
}

void rc_cleanup_unregister(int slot) {
  if (slot >= 0 && slot < CLEANUP_SLOTS) atomic_store(&slots[slot].state, 0);
}

void rc_cleanup_now(void) {
  pid_t me = getpid();
  for (int k = 0; k < CLEANUP_SLOTS; k++)
    if (atomic_load(&slots[k].state) == 2 && slots[k].pid == me) unlink(slots[k].path);
}
