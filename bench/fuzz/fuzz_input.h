/* fuzz_input.h: what the fuzz targets share: the input as a file the code
 * under test opens by name (an in-memory file, /proc/self/fd/N, so the real
 * reading path runs without touching the disk) or as a NUL-terminated string,
 * and a small memory budget so that a huge size in an input is refused, not
 * allocated. */
#ifndef RC_FUZZ_INPUT_H
#define RC_FUZZ_INPUT_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Every target runs under a small memory budget (REPCOLLAPSE_MEMORY_LIMIT,
 * core/memory.h): a huge size in an input must be refused, not allocated.
 * (Defined here, once per target binary: each includes this header once.) */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  setenv("REPCOLLAPSE_MEMORY_LIMIT", "64M", 1);
  return 0;
}

/* An in-memory file holding data; its name goes into path. Returns the fd (close it), or -1. */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t path_size) {
  int fd = memfd_create("fuzz-input", 0);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) {
      close(fd);
      return -1;
    }
    done += (size_t)w;
  }
  snprintf(path, path_size, "/proc/self/fd/%d", fd);
  return fd;
}

/* A NUL-terminated copy of data (free it). */
static inline char *fuzz_string(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

#endif
