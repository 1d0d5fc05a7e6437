/* threads.h (private): how many OpenMP threads the library uses. Every
 * parallel region asks rc_thread_count, so a thread count from anywhere (the
 * --threads option, OMP_NUM_THREADS, OpenMP's default) is bounded by the same
 * cap: libgomp reads OMP_NUM_THREADS when it is loaded, before main, and
 * OMP_NUM_THREADS=100000 would otherwise make it start 100000 threads (and
 * crash). The stack size OpenMP would give each thread (OMP_STACKSIZE,
 * GOMP_STACKSIZE) is checked against the memory budget before the first
 * parallel region, so a typo there is a message, not a failed thread start. */
#ifndef RC_THREADS_H
#define RC_THREADS_H

#include "repcollapse/error.h"

/* The most threads a parallel region gets (the same cap as --threads). */
#define RC_MAX_THREADS 4096

/* requested > 0: min(requested, RC_MAX_THREADS); otherwise OpenMP's default
 * (OMP_NUM_THREADS or the number of cores), capped the same way. */
int rc_thread_count(int requested);

/* RC_OK, or RC_EINVAL naming the variable when OMP_STACKSIZE / GOMP_STACKSIZE
 * asks for a thread stack larger than the memory budget. */
rc_status rc_threads_check_env(rc_error *err);

#endif
