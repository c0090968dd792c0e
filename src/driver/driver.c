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
