/* memory.h (private): how much memory a run may use, so that a run that
 * cannot fit is refused before it starts, with the estimate. */
#ifndef RC_MEMORY_H
#define RC_MEMORY_H

#include "repcollapse/error.h"

/* Bytes a run may use: 80% of the physical memory, lowered by RLIMIT_AS and
 * by the environment variable REPCOLLAPSE_MEMORY_LIMIT (bytes, or a number
 * with a k, M or G suffix: powers of 1000). */
double rc_memory_limit(void);

/* RC_EINVAL naming REPCOLLAPSE_MEMORY_LIMIT when it is set but not a size. */
rc_status rc_memory_env_check(rc_error *err);

/* RC_OK if `bytes` fit within rc_memory_limit(); otherwise RC_ENOMEM with a
 * message "<what> needs about X GB of memory, more than the Y GB allowed (...)". */
rc_status rc_memory_check(double bytes, const char *what, rc_error *err);

/* A byte count for messages: "512 kB", "3.2 GB", "393 TB". */
const char *rc_format_bytes(double bytes, char *buf, size_t size);

#endif
