/* input.h (private): opening a file the user gave us (observations, an
 * experiment file, a checkpoint, a sweep's records) so that nothing can make
 * a reader hang or exhaust memory: only regular files are read (a directory,
 * a FIFO, /dev/zero or a socket is refused at once, naming what it is), and
 * the size is known before the first byte, for the memory budget. */
#ifndef RC_INPUT_H
#define RC_INPUT_H

#include <stdio.h>

#include "repcollapse/error.h"

/* Open `path` for reading. `what` names it in messages ("observations file").
 * A missing file is RC_EIO ("cannot read <what> '<path>': No such file ...");
 * anything but a regular file is RC_EINVAL. *size: its size in bytes. */
rc_status rc_input_open(const char *path, const char *what, FILE **fp, double *size, rc_error *err);

/* The same, and refuse (RC_ENOMEM, with the figures) a file whose reading
 * would need more than `bytes_per_byte` x its size of memory beyond the budget. */
rc_status rc_input_open_budget(const char *path, const char *what, double bytes_per_byte, FILE **fp, double *size,
                               rc_error *err);

/* json_load_file for a file the user may have given (a sweep's records and
 * manifest, a run's summary.json): the same signature, but only a regular
 * file within the memory budget (8 x its size) is read; otherwise NULL with
 * the reason in je->text ("it is a FIFO (named pipe), not a regular file"). */
#include <jansson.h>
json_t *rc_input_json_load(const char *path, size_t flags, json_error_t *je);

#endif
