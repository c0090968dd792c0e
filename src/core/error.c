/* SPDX-License-Identifier: MIT */
/* Errors: codes, their names, and filling a calx_error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "calx/error.h"
#include "core/nomem.h"

static const char *const names[CALX_ERR__COUNT] = {
    [CALX_OK] = "OK",
    [CALX_ERR_NOMEM] = "MemoryError",
    [CALX_ERR_ARGUMENT] = "ArgumentError",
    [CALX_ERR_URL] = "URLError",
    [CALX_ERR_STATE] = "InvalidRequestError",
    [CALX_ERR_BUSY] = "BusyError",
    [CALX_ERR_CANCELED] = "CancelledError",
    [CALX_ERR_TIMEOUT] = "TimeoutError",
    [CALX_ERR_CLOSED] = "ResourceClosedError",
    [CALX_ERR_NO_RESULT] = "NoResultFound",
    [CALX_ERR_MULTIPLE_RESULTS] = "MultipleResultsFound",
    [CALX_ERR_TYPE] = "TypeError",
    [CALX_ERR_INTEGRITY] = "IntegrityError",
    [CALX_ERR_OPERATIONAL] = "OperationalError",
    [CALX_ERR_PROGRAMMING] = "ProgrammingError",
    [CALX_ERR_DATA] = "DataError",
    [CALX_ERR_NOT_SUPPORTED] = "NotSupportedError",
    [CALX_ERR_INTERNAL] = "InternalError",
    [CALX_ERR_DISCONNECT] = "DisconnectionError",
    [CALX_ERR_SERIALIZATION] = "SerializationError",
    [CALX_ERR_DATABASE] = "DatabaseError",
    [CALX_ERR_VALIDATION] = "ValidationError",
    [CALX_ERR_STALE_DATA] = "StaleDataError",
    [CALX_ERR_NOT_LOADED] = "NotLoadedError",
    [CALX_ERR_AMBIGUOUS_COMMIT] = "AmbiguousCommitError",
};

const char *calx_errcode_name(int code)
{
    if (code < 0 || code >= CALX_ERR__COUNT || !names[code])
        return "UnknownError";
    return names[code];
}

void calx_error_clear(calx_error *err)
{
    if (!err)
        return;
    err->code = CALX_OK;
    err->driver_code = 0;
    err->sqlstate[0] = '\0';
    err->message[0] = '\0';
}

int calx_error_set(calx_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->driver_code = 0;
    err->sqlstate[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

size_t calx_error_str(const calx_error *err, char *buf, size_t size)
{
    int n;
    if (!err)
        n = snprintf(buf, size, "(no error)");
    else if (err->code == CALX_OK)
        n = snprintf(buf, size, "OK");
    else if (err->sqlstate[0] && err->driver_code)
        n = snprintf(buf, size, "%s: %s (SQLSTATE %s, code %d)", calx_errcode_name(err->code),
                     err->message, err->sqlstate, err->driver_code);
    else if (err->sqlstate[0])
        n = snprintf(buf, size, "%s: %s (SQLSTATE %s)", calx_errcode_name(err->code),
                     err->message, err->sqlstate);
    else if (err->driver_code)
        n = snprintf(buf, size, "%s: %s (code %d)", calx_errcode_name(err->code), err->message,
                     err->driver_code);
    else
        n = snprintf(buf, size, "%s: %s", calx_errcode_name(err->code), err->message);
    return n < 0 ? 0 : (size_t)n;
}

void calx_error_print(const calx_error *err, FILE *f)
{
    /* message (511) + class + SQLSTATE and code fit in 640. */
    char line[640];
    calx_error_str(err, line, sizeof line);
    fprintf(f ? f : stderr, "%s\n", line);
}

int calx__nomem(calx_error *err, const char *doing, ...)
{
    if (!doing)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory");
    char what[sizeof ((calx_error *)0)->message];
    va_list ap;
    va_start(ap, doing);
    vsnprintf(what, sizeof what, doing, ap);
    va_end(ap);
    return calx_error_set(err, CALX_ERR_NOMEM, "out of memory %s", what);
}
