/* repcollapse.h: umbrella header of the repcollapse library.
 * Stages: data -> model -> spectrum/integrate -> metrics -> io. */
#ifndef REPCOLLAPSE_H
#define REPCOLLAPSE_H
#include "repcollapse/error.h"
#include "repcollapse/data.h"
#include "repcollapse/model.h"
#include "repcollapse/spectrum.h"
#include "repcollapse/integrate.h"
#include "repcollapse/metrics.h"
#include "repcollapse/io.h"
#include "repcollapse/run.h"
#include "repcollapse/teacher.h"
#include "repcollapse/optimizer.h"
#include "repcollapse/engine.h"
#include "repcollapse/inputs.h"
#include "repcollapse/command.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Library version ("0.1.0") and the source commit it was built from. */
const char *rc_version(void);
const char *rc_source_commit(void);
#ifdef __cplusplus
}
#endif

#endif
