/* SPDX-License-Identifier: MIT */
/* Emitting log records (the handler is set through calx/log.h). */
#ifndef CALX_CORE_LOGGING_H
#define CALX_CORE_LOGGING_H

#include "calx/log.h"

/* Sends one record to fn (an engine's own handler) or, when fn is NULL, to
 * the process-wide handler, or to stderr when none is set. */
void calx__log_emit(calx_log_fn fn, void *udata, calx_log_level level,
                    const char *logger, const char *message);

#endif
