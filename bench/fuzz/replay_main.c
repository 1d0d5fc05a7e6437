/* replay_main.c: runs a fuzz target without libFuzzer, on the files named on
 * the command line (a regression input, a seed): how ctest replays every
 * crash the fuzzer ever found, in the release and the sanitizer builds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  for (int k = 1; k < argc; k++) {
    FILE *fp = fopen(argv[k], "rb");
    if (!fp) {
      fprintf(stderr, "replay: cannot read %s\n", argv[k]);
      return 1;
    }
    uint8_t *buf = NULL;
    size_t size = 0, cap = 0, got;
    do {
      if (size == cap) {
        uint8_t *bigger = realloc(buf, cap = cap ? 2 * cap : 4096);
        if (!bigger) abort();
        buf = bigger;
      }
      got = fread(buf + size, 1, cap - size, fp);
      size += got;
    } while (got > 0);
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
  }
  printf("replayed %d inputs\n", argc - 1);
  return 0;
}
