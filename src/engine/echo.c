/* SPDX-License-Identifier: MIT */
/* echo: statements, parameters and transaction events logged the way
 * SQLAlchemy logs them, so a calx log reads like a SQLAlchemy one. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/logging.h"
#include "core/number_text.h"
#include "core/value_repr.h"
#include "engine/engine_int.h"

#define LOGGER "calx.engine.Engine"
#define MAX_SETS_SHOWN 10   /* as SQLAlchemy: at most 10 parameter sets */
#define MAX_CHARS 300       /* longer values are cut in the middle */

static void echo_v(const calx_engine *e, const char *tag, const char *fmt, va_list ap)
{
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    if (msg && *tag) {
        char *tagged = NULL;
        if (asprintf(&tagged, "%s%s", tag, msg) < 0)
            tagged = NULL;
        free(msg);
        msg = tagged;
    }
    if (msg) {
        calx__log_emit(e->log, e->log_udata, CALX_LOG_INFO, LOGGER, msg);
        free(msg);
    }
}

void calx__echo(const calx_engine *e, const char *fmt, ...)
{
    if (!e->echo)
        return;
    va_list ap;
    va_start(ap, fmt);
    echo_v(e, "", fmt, ap);
    va_end(ap);
}

void calx__echo_tagged(const calx_engine *e, const char *tag, const char *fmt, ...)
{
    if (!e->echo)
        return;
    va_list ap;
    va_start(ap, fmt);
    echo_v(e, tag, fmt, ap);
    va_end(ap);
}

/* Python's repr of a str: single quotes unless the text has a ' and no ". */
static void put_text(calx_buf *b, const char *s, size_t n)
{
    bool has_single = memchr(s, '\'', n) != NULL;
    bool has_double = memchr(s, '"', n) != NULL;
    char q = has_single && !has_double ? '"' : '\'';
    size_t show = n;
    if (n > MAX_CHARS)
        show = MAX_CHARS / 2;
    calx__buf_put(b, &q, 1);
    for (int part = 0; part < (n > MAX_CHARS ? 2 : 1); part++) {
        const char *p = part == 0 ? s : s + n - show;
        for (size_t i = 0; i < show; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c == (unsigned char)q || c == '\\')
                calx__buf_printf(b, "\\%c", c);
            else if (c == '\n')
                calx__buf_put(b, "\\n", 2);
            else if (c == '\t')
                calx__buf_put(b, "\\t", 2);
            else if (c < 0x20)
                calx__buf_printf(b, "\\x%02x", c);
            else
                calx__buf_put(b, (const char *)&c, 1);
        }
        if (part == 0 && n > MAX_CHARS)
            calx__buf_printf(b, " ... (%zu characters truncated) ... ", n - 2 * show);
    }
    calx__buf_put(b, &q, 1);
}

/* At most this many values of one tuple are shown, as SQLAlchemy's
 * max_params: a multi-row INSERT has thousands. */
#define MAX_PARAMS_SHOWN 100

static void put_value(calx_buf *b, const calx_value *v, bool native_bool);

/* An array as Python prints a list, cut in the middle past MAX_CHARS as
 * SQLAlchemy cuts any value's repr (the arrays of a many-row INSERT's
 * columns have a thousand elements). */
static void put_list(calx_buf *b, const calx_value *v, bool native_bool)
{
    calx_buf whole = { 0 };
    calx__buf_put(&whole, "[", 1);
    for (size_t i = 0; i < v->u.array.n; i++) {
        if (i)
            calx__buf_put(&whole, ", ", 2);
        put_value(&whole, &v->u.array.items[i], native_bool);
    }
    calx__buf_put(&whole, "]", 1);
    size_t n = whole.len, half = MAX_CHARS / 2;
    if (whole.oom || !whole.p) {
        calx__buf_puts(b, "[...]");   /* out of memory: the echo says less */
    } else if (n <= MAX_CHARS) {
        calx__buf_put(b, whole.p, n);
    } else {
        calx__buf_put(b, whole.p, half);
        calx__buf_printf(b, " ... (%zu characters truncated) ... ", n - 2 * half);
        calx__buf_put(b, whole.p + n - half, half);
    }
    calx__buf_free(&whole);
}

/* A value as SQLAlchemy logs it: after its bind processing, so a bool is
 * 1 / 0 on a database without a native boolean (SQLite's INTEGER),
 * True / False elsewhere. */
static void put_value(calx_buf *b, const calx_value *v, bool native_bool)
{
    switch (v->type) {
    case CALX_NULL: calx__buf_put(b, "None", 4); break;
    case CALX_INT: calx__buf_printf(b, "%lld", (long long)v->u.i); break;
    case CALX_REAL: {
        char text[40];
        calx__double_text(text, sizeof text, 17, v->u.d);
        calx__buf_puts(b, text);
        break;
    }
    case CALX_BOOL:
        if (!native_bool)
            calx__buf_put(b, v->u.b ? "1" : "0", 1);
        else
            calx__buf_put(b, v->u.b ? "True" : "False", v->u.b ? 4 : 5);
        break;
    case CALX_TEXT:
    case CALX_JSON: /* SQLAlchemy's JSON type binds the serialized text */
        put_text(b, v->u.s.ptr, v->u.s.len);
        break;
    case CALX_ARRAY:
        put_list(b, v, native_bool);
        break;
    default: calx__value_rich_repr(b, v); break;
    case CALX_BLOB:
        calx__buf_put(b, "b'", 2);
        for (size_t i = 0; i < v->u.s.len && i < MAX_CHARS / 4; i++)
            calx__buf_printf(b, "\\x%02x", (unsigned char)v->u.s.ptr[i]);
        if (v->u.s.len > MAX_CHARS / 4)
            calx__buf_printf(b, "... (%zu bytes)", v->u.s.len);
        calx__buf_put(b, "'", 1);
        break;
    }
}

static void put_tuple(calx_buf *b, const calx_value *vals, size_t n, bool native_bool)
{
    calx__buf_put(b, "(", 1);
    for (size_t i = 0; i < n; i++) {
        if (n > MAX_PARAMS_SHOWN && i == MAX_PARAMS_SHOWN / 2) {
            calx__buf_printf(b, ", ... %zu parameters truncated ... ", n - MAX_PARAMS_SHOWN);
            i = n - MAX_PARAMS_SHOWN / 2;
        } else if (i) {
            calx__buf_put(b, ", ", 2);
        }
        put_value(b, &vals[i], native_bool);
    }
    if (n == 1)
        calx__buf_put(b, ",", 1);
    calx__buf_put(b, ")", 1);
}

void calx__echo_params(const calx_engine *e, const char *badge, const calx_value *vals,
                       size_t nparams, size_t nsets)
{
    if (!e->echo)
        return;
    calx_buf b = { 0 };
    calx__buf_printf(&b, "[%s] ", badge);
    bool native_bool = e->dialect->supports_native_boolean;
    if (nsets <= 1) {
        put_tuple(&b, vals, nsets ? nparams : 0, native_bool);
    } else {
        calx__buf_put(&b, "[", 1);
        size_t shown = nsets <= MAX_SETS_SHOWN ? nsets : MAX_SETS_SHOWN;
        for (size_t i = 0; i < shown; i++) {
            size_t set = i;
            if (nsets > MAX_SETS_SHOWN && i >= shown / 2) {
                if (i == shown / 2)
                    calx__buf_printf(&b, "  ... displaying %d of %zu total bound parameter "
                                  "sets ...  ", MAX_SETS_SHOWN, nsets);
                set = nsets - (shown - i);
            } else if (i) {
                calx__buf_put(&b, ", ", 2);
            }
            if (nsets > MAX_SETS_SHOWN && i > shown / 2)
                calx__buf_put(&b, ", ", 2);
            put_tuple(&b, vals + set * nparams, nparams, native_bool);
        }
        calx__buf_put(&b, "]", 1);
    }
    char *line = calx__buf_take(&b);
    if (line)
        calx__log_emit(e->log, e->log_udata, CALX_LOG_INFO, LOGGER, line);
    free(line);
}

void calx__echo_seconds(char *buf, size_t n, double s)
{
    int digits = 5;
    for (double shown = 1e-5; s > 0 && s < shown && digits < 9; shown /= 10)
        digits++;
    calx__double_fixed(buf, n, digits, s);
}
