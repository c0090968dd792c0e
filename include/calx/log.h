/* SPDX-License-Identifier: MIT */
/* calx — logging.
 *
 * calx logs through one handler: stderr by default, or a function the
 * program sets. Engines with echo on log their SQL here, in SQLAlchemy's
 * form, under the logger name "calx.engine.Engine"; echo_pool logs under
 * "calx.pool" names.
 */
#ifndef CALX_LOG_H
#define CALX_LOG_H

#include "export.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef enum calx_log_level {
    CALX_LOG_DEBUG = 10,
    CALX_LOG_INFO = 20,
    CALX_LOG_WARNING = 30,
    CALX_LOG_ERROR = 40
} calx_log_level;

/* A log handler. logger is a dotted name ("calx.engine.Engine"); message is
 * one record, which may span lines. Both are valid only during the call. */
typedef void (*calx_log_fn)(void *udata, calx_log_level level,
                            const char *logger, const char *message);

/* Sets the process-wide handler (NULL restores the default, which writes
 * "LEVEL logger message" lines to stderr). Set it before starting loops on
 * other threads: the handler itself is not locked. */
CALX_API void calx_log_set_handler(calx_log_fn fn, void *udata);

/* The name of a level: "DEBUG", "INFO", "WARNING", "ERROR"; "LOG" for any
 * other value. Static, never NULL. */
CALX_API const char *calx_log_level_name(calx_log_level level);

#ifdef __cplusplus
}
#endif
#endif
