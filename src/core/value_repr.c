/* SPDX-License-Identifier: MIT */
/* Python's repr of the richer values: what SQLAlchemy's echo log and
 * SQLModel's repr print for a Decimal, a UUID, a date, a time, a datetime
 * (naive or in UTC) and a timedelta. Each function follows the Python
 * source it imitates (decimal.Decimal.__str__, datetime's __repr__s), so
 * that calx's logs read as the Python programs' logs do. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/types_int.h"
#include "core/value_repr.h"

void calx__decimal_repr(calx_buf *b, calx_decimal d)
{
    /* Decimal.__str__: plain digits when the exponent is at most 0 and the
     * adjusted exponent at least -6; else one digit before the point and
     * "E-n". calx's exponent is -scale, never above 0. */
    char text[CALX_DECIMAL_TEXT_SIZE];
    calx_decimal_format(d, text, sizeof text);
    const char *digits = text[0] == '-' ? text + 1 : text;
    char coef[CALX_DECIMAL_TEXT_SIZE];
    int nc = 0;
    for (const char *p = digits; *p; p++) {
        if (*p != '.' && (nc > 0 || *p != '0'))
            coef[nc++] = *p;
    }
    if (nc == 0)
        coef[nc++] = '0';
    int exp = -(d.scale < 0 ? 0 : d.scale > CALX_DECIMAL_MAX_SCALE ? CALX_DECIMAL_MAX_SCALE
                                                                    : d.scale);
    int leftdigits = exp + nc;
    calx__buf_puts(b, "Decimal('");
    if (leftdigits > -6) {
        calx__buf_puts(b, text);
    } else {
        if (digits != text)
            calx__buf_puts(b, "-");
        calx__buf_put(b, coef, 1);
        if (nc > 1) {
            calx__buf_puts(b, ".");
            calx__buf_put(b, coef + 1, (size_t)nc - 1);
        }
        calx__buf_printf(b, "E%+d", leftdigits - 1);
    }
    calx__buf_puts(b, "')");
}

void calx__uuid_repr(calx_buf *b, calx_uuid u)
{
    char text[CALX_UUID_TEXT_SIZE];
    calx_uuid_format(u, text);
    calx__buf_printf(b, "UUID('%s')", text);
}

/* 'out of range', as a formatter writes it, for what Python cannot hold. */
static void out_of_range(calx_buf *b)
{
    char text[CALX_DATETIME_TEXT_SIZE];
    calx_date_format(CALX__DATE_MAX + 1, text, sizeof text);
    calx__buf_printf(b, "'%s'", text);
}

void calx__date_repr(calx_buf *b, calx_date d)
{
    if (d < CALX__DATE_MIN || d > CALX__DATE_MAX) {
        out_of_range(b);
        return;
    }
    int y, m, dd;
    calx_date_parts(d, &y, &m, &dd);
    calx__buf_printf(b, "datetime.date(%d, %d, %d)", y, m, dd);
}

/* "H, M[, S[, US]]": a time's arguments as the reprs write them, the
 * trailing zero seconds and microseconds left off. */
static void time_args(calx_buf *b, calx_time t)
{
    int64_t secs = t / CALX__USEC_PER_SEC;
    int us = (int)(t % CALX__USEC_PER_SEC), s = (int)(secs % 60);
    calx__buf_printf(b, "%d, %d", (int)(secs / 3600), (int)(secs / 60 % 60));
    if (us)
        calx__buf_printf(b, ", %d, %d", s, us);
    else if (s)
        calx__buf_printf(b, ", %d", s);
}

void calx__time_repr(calx_buf *b, calx_time t)
{
    if (t < 0 || t >= CALX__USEC_PER_DAY) {
        out_of_range(b);
        return;
    }
    calx__buf_puts(b, "datetime.time(");
    time_args(b, t);
    calx__buf_puts(b, ")");
}

/* "datetime.datetime(Y, M, D, H, M[, S[, US]]" without its ")"; false
 * (and 'out of range' written) outside years 1-9999. */
static bool datetime_head(calx_buf *b, calx_datetime dt)
{
    calx_date d;
    calx_time t;
    calx_datetime_split(dt, &d, &t);
    if (d < CALX__DATE_MIN || d > CALX__DATE_MAX) {
        out_of_range(b);
        return false;
    }
    int y, m, dd;
    calx_date_parts(d, &y, &m, &dd);
    calx__buf_printf(b, "datetime.datetime(%d, %d, %d, ", y, m, dd);
    time_args(b, t);
    return true;
}

void calx__datetime_repr(calx_buf *b, calx_datetime dt)
{
    if (datetime_head(b, dt))
        calx__buf_puts(b, ")");
}

void calx__timestamp_repr(calx_buf *b, calx_timestamp ts)
{
    if (datetime_head(b, ts))
        calx__buf_puts(b, ", tzinfo=datetime.timezone.utc)");
}

void calx__interval_repr(calx_buf *b, calx_interval iv)
{
    if (iv.months != 0) {
        char text[CALX_DATETIME_TEXT_SIZE];
        calx_interval_format(iv, text, sizeof text);
        calx__buf_printf(b, "'%s'", text);
        return;
    }
    /* timedelta's normal form: days (any sign), 0 <= seconds < 86400,
     * 0 <= microseconds < 10^6; its repr names the parts that are not 0. */
    __int128 total = (__int128)iv.days * CALX__USEC_PER_DAY + iv.micros;
    __int128 days = total / CALX__USEC_PER_DAY, rem = total % CALX__USEC_PER_DAY;
    if (rem < 0) {
        rem += CALX__USEC_PER_DAY;
        days--;
    }
    long long secs = (long long)(rem / CALX__USEC_PER_SEC);
    long long us = (long long)(rem % CALX__USEC_PER_SEC);
    calx__buf_puts(b, "datetime.timedelta(");
    const char *sep = "";
    if (days) {
        calx__buf_printf(b, "days=%lld", (long long)days);
        sep = ", ";
    }
    if (secs) {
        calx__buf_printf(b, "%sseconds=%lld", sep, secs);
        sep = ", ";
    }
    if (us)
        calx__buf_printf(b, "%smicroseconds=%lld", sep, us);
    if (!days && !secs && !us)
        calx__buf_puts(b, "0");
    calx__buf_puts(b, ")");
}

bool calx__value_rich_repr(calx_buf *b, const calx_value *v)
{
    switch (v->type) {
    case CALX_DECIMAL: calx__decimal_repr(b, calx_value_get_decimal(v)); return true;
    case CALX_UUID: calx__uuid_repr(b, v->u.uuid); return true;
    case CALX_DATE: calx__date_repr(b, (calx_date)v->u.i); return true;
    case CALX_TIME: calx__time_repr(b, v->u.i); return true;
    case CALX_DATETIME: calx__datetime_repr(b, v->u.i); return true;
    case CALX_TIMESTAMP: calx__timestamp_repr(b, v->u.i); return true;
    case CALX_INTERVAL: calx__interval_repr(b, v->u.interval); return true;
    default: return false;
    }
}
