/* SPDX-License-Identifier: MIT */
/* What every driver checks of a request, and the notes drivers add to an
 * error. Which driver serves which URL is the registry's
 * (src/engine/registry.c). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "driver/driver.h"

int calx__dreq_check(const char *driver, const calx_dconn *c, const calx_dreq *req,
                     calx_dreq_cb cb, calx_error *err)
{
    if (!c || !req || !cb || (req->nstmts && !req->stmts))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s request: connection, request and callback are required",
                              driver);
    if ((unsigned)req->op > CALX_DOP_CLOSE_CURSOR)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "unknown driver operation %d",
                              (int)req->op);
    for (size_t i = 0; i < req->nstmts; i++) {
        const calx_dstmt *st = &req->stmts[i];
        if (!st->sql || (st->nparams && st->nsets && !st->params) ||
            (st->nparams && st->nsets > SIZE_MAX / st->nparams))
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "statement %zu of the request is malformed", i + 1);
    }
    return 0;
}

void calx__error_note(calx_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    size_t len = strlen(err->message);
    if (len + 3 >= sizeof err->message)
        return;
    char note[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    snprintf(err->message + len, sizeof err->message - len, " (%s)", note);
}

void calx__error_note_where(calx_error *err, const calx_dreq *req, size_t stmt, size_t set)
{
    size_t nsets = req->stmts[stmt].nsets;
    if (req->nstmts > 1 && nsets > 1)
        calx__error_note(err, "statement %zu of %zu, parameter set %zu of %zu", stmt + 1,
                         req->nstmts, set + 1, nsets);
    else if (req->nstmts > 1)
        calx__error_note(err, "statement %zu of %zu", stmt + 1, req->nstmts);
    else if (nsets > 1)
        calx__error_note(err, "parameter set %zu of %zu", set + 1, nsets);
}

calx_type calx__dtype_value_type(calx_dtype t)
{
    switch ((calx_dtype)((unsigned)t & ~(unsigned)CALX_DTYPE_ARRAY)) {
    case CALX_DTYPE_INT32:
    case CALX_DTYPE_INT64: return CALX_INT;
    case CALX_DTYPE_DOUBLE: return CALX_REAL;
    case CALX_DTYPE_BOOL: return CALX_BOOL;
    case CALX_DTYPE_TEXT: return CALX_TEXT;
    case CALX_DTYPE_TIMESTAMP: return CALX_TIMESTAMP;
    case CALX_DTYPE_DECIMAL: return CALX_DECIMAL;
    case CALX_DTYPE_UUID: return CALX_UUID;
    case CALX_DTYPE_DATE: return CALX_DATE;
    case CALX_DTYPE_TIME: return CALX_TIME;
    case CALX_DTYPE_DATETIME: return CALX_DATETIME;
    case CALX_DTYPE_INTERVAL: return CALX_INTERVAL;
    case CALX_DTYPE_JSON: return CALX_JSON;
    default: return CALX_NULL;
    }
}
