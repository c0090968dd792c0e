/* SPDX-License-Identifier: MIT */
/* The process-wide log handler. */
#include <stdio.h>

#include "calx/log.h"
#include "core/logging.h"

static calx_log_fn handler;
static void *handler_udata;

void calx_log_set_handler(calx_log_fn fn, void *udata)
{
    handler = fn;
    handler_udata = udata;
}

const char *calx_log_level_name(calx_log_level level)
{
    switch (level) {
    case CALX_LOG_DEBUG: return "DEBUG";
    case CALX_LOG_INFO: return "INFO";
    case CALX_LOG_WARNING: return "WARNING";
    case CALX_LOG_ERROR: return "ERROR";
    }
    return "LOG";
}

void calx__log_emit(calx_log_fn fn, void *udata, calx_log_level level,
                    const char *logger, const char *message)
{
    if (!fn) {
        fn = handler;
        udata = handler_udata;
    }
    if (fn) {
        fn(udata, level, logger, message);
        return;
    }
    /* One fprintf per record, so concurrent records do not interleave. */
    fprintf(stderr, "%s %s %s\n", calx_log_level_name(level), logger, message);
}
