/* hash.h (private): FNV-1a 64-bit, the checksum of checkpoint files and the
 * fingerprint of a run's settings (not cryptographic: it detects corruption
 * and mismatches, not tampering). */
#ifndef RC_HASH_H
#define RC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define RC_HASH_INIT UINT64_C(14695981039346656037)

static inline uint64_t rc_hash_bytes(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= UINT64_C(1099511628211);
  }
  return h;
}

#endif
