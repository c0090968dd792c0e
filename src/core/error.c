/* Errors: codes, their names, and filling a calx_error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "calx/error.h"

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
