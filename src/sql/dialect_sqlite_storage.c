/* SPDX-License-Identifier: MIT */
/* How SQLite stores the types it does not have: the SQLite dialect's
 * bind_value and stored_value hooks (dialect.h), kept apart from its SQL
 * forms (dialect_sqlite.c) because both directions of one storage format
 * belong side by side.
 *
 *   DECIMAL    an INTEGER of units of 10^-scale: NUMERIC(10, 2)'s 19.99 is
 *              1999. Exact, and it sorts, compares, sums and indexes as a
 *              number in SQL, which text would not and REAL would only
 *              approximately (SQLAlchemy's SQLite Numeric goes through
 *              float and warns so). The value reaching here is already at
 *              its column's scale (convert.c); 18 digits always fit.
 *   UUID       CHAR(32): 32 lower-case hex digits, SQLAlchemy's Uuid.
 *   DATE, TIME, DATETIME   SQLAlchemy's storage formats, fixed width so
 *              text order is time order: "2024-02-29", "13:45:00.250000",
 *              "2024-02-29 13:45:00.250000".
 *   TIMESTAMP  the instant in UTC, in the DATETIME format (SQLAlchemy
 *              drops the offset of an aware datetime on SQLite; calx
 *              converts to UTC first, so the instant is kept).
 *   INTERVAL   SQLAlchemy's Interval: the DATETIME 1970-01-01 plus the
 *              interval. A month has no fixed length, so an interval with
 *              months cannot be stored; read back, days and microseconds
 *              come normalised as Python's timedelta (0 <= micros < 1 day).
 *   JSON       its text. A column declared JSON has numeric affinity, so a
 *              document that is a bare number (0, 1.5) comes back as an
 *              INTEGER or a REAL: it is turned back into JSON text (the
 *              value kept, not its spelling: 1.50 reads back 1.5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/number_text.h"
#include "core/types_int.h"
#include "sql/convert.h"
#include "sql/dialect.h"

#define DAY_MICROS INT64_C(86400000000)

/* SQLAlchemy's SQLite DATETIME storage format, always with microseconds. */
static size_t put_datetime(calx_datetime dt, char *out)
{
    calx_date d;
    calx_time t;
    int y, mo, dd;
    calx_datetime_split(dt, &d, &t);
    calx_date_parts(d, &y, &mo, &dd);
    int64_t s = t / 1000000;
    return (size_t)snprintf(out, CALX_BIND_SCRATCH_SIZE,
                            "%04d-%02d-%02d %02d:%02d:%02d.%06d", y, mo, dd, (int)(s / 3600),
                            (int)(s / 60 % 60), (int)(s % 60), (int)(t % 1000000));
}

static bool datetime_in_range(calx_datetime dt)
{
    calx_date d;
    int y;
    calx_datetime_split(dt, &d, NULL);
    calx_date_parts(d, &y, NULL, NULL);
    return y >= 1 && y <= 9999;
}

int calx__sqlite_bind_value(const calx_value *v, calx_value *out, char *scratch,
                            calx_error *err)
{
    size_t n = 0;
    switch (v->type) {
    case CALX_DECIMAL: {
        calx_decimal d = calx_value_get_decimal(v);
        int64_t i;
        if (!calx__decimal_to_scaled_int64(d, d.scale, &i)) {
            char text[CALX_DECIMAL_TEXT_SIZE];
            calx_decimal_format(d, text, sizeof text);
            return calx_error_set(err, CALX_ERR_DATA,
                                  "the decimal %s does not fit SQLite's NUMERIC storage "
                                  "(a 64-bit integer of its last digits)",
                                  text);
        }
        *out = calx_int(i);
        return 0;
    }
    case CALX_UUID:
        for (size_t k = 0; k < 16; k++)
            snprintf(scratch + 2 * k, 3, "%02x", v->u.uuid.bytes[k]);
        n = 32;
        break;
    case CALX_DATE: {
        int y, mo, d;
        calx_date_parts((calx_date)v->u.i, &y, &mo, &d);
        n = (size_t)snprintf(scratch, CALX_BIND_SCRATCH_SIZE, "%04d-%02d-%02d", y, mo, d);
        break;
    }
    case CALX_TIME: {
        int64_t s = v->u.i / 1000000;
        n = (size_t)snprintf(scratch, CALX_BIND_SCRATCH_SIZE, "%02d:%02d:%02d.%06d",
                             (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60),
                             (int)(v->u.i % 1000000));
        break;
    }
    case CALX_DATETIME:
    case CALX_TIMESTAMP:
        if (!datetime_in_range(v->u.i))
            return calx_error_set(err, CALX_ERR_DATA, "a %s outside the years 1 to 9999",
                                  calx_type_name(v->type));
        n = put_datetime(v->u.i, scratch);
        break;
    case CALX_INTERVAL: {
        const calx_interval *iv = &v->u.interval;
        if (iv->months)
            return calx_error_set(err, CALX_ERR_DATA,
                                  "an interval of %d months: SQLite stores intervals as "
                                  "a time after 1970-01-01, where a month has no fixed length",
                                  (int)iv->months);
        n = put_datetime((int64_t)iv->days * DAY_MICROS + iv->micros, scratch);
        break;
    }
    case CALX_JSON:
        *out = calx_textn(v->u.s.ptr, v->u.s.len);
        return 0;
    default:
        *out = *v;
        return 0;
    }
    *out = calx_textn(scratch, n);
    return 0;
}

/* A DATETIME-format text (no offset) as microseconds on its own clock. */
static int stored_datetime(const calx_column *c, const calx_value *v, calx_datetime *dt,
                           calx_error *err)
{
    calx_error e;
    if (calx_datetime_parse(v->u.s.ptr, v->u.s.len, dt, &e) != 0)
        return calx_error_set(err, CALX_ERR_DATA, "column %s: %s", c->name, e.message);
    return 0;
}

/* A JSON number SQLite's affinity made of the text, as JSON text in
 * scratch: the integer, or the shortest text that reads back as the same
 * double. */
static void json_number_text(calx_value *v, char *scratch)
{
    int n = 0;
    if (v->type == CALX_INT) {
        n = snprintf(scratch, CALX_BIND_SCRATCH_SIZE, "%lld", (long long)v->u.i);
    } else {
        n = calx__double_shortest(scratch, CALX_BIND_SCRATCH_SIZE, v->u.d);
    }
    *v = calx_value_json(scratch);
    v->u.s.len = (size_t)n;
}

int calx__sqlite_stored_value(const calx_column *c, calx_value *v, char *scratch,
                              calx_type_scratch *room, calx_error *err)
{
    (void)room;   /* SQLite has no arrays */
    if (v->type == CALX_NULL)
        return 0;
    calx_datetime dt;
    switch (c->type) {
    case CALX_COL_JSON:
        if (v->type == CALX_INT || v->type == CALX_REAL) {
            json_number_text(v, scratch);
            return 0;
        }
        break;
    case CALX_COL_DECIMAL:
        if (v->type == CALX_INT) {
            *v = calx_value_decimal(calx__decimal_from_scaled_int64(v->u.i, c->scale));
            return 0;
        }
        if (v->type == CALX_REAL)
            return calx_error_set(err, CALX_ERR_DATA,
                                  "column %s holds the REAL value %.17g, not the scaled "
                                  "integer calx stores for NUMERIC(%d, %d) on SQLite",
                                  c->name, v->u.d, c->precision, c->scale);
        break;
    case CALX_COL_TIMESTAMP:
        /* UTC with no offset, as calx stores it; an offset is honoured. */
        if (v->type == CALX_TEXT && !memchr(v->u.s.ptr, '+', v->u.s.len) &&
            !memchr(v->u.s.ptr, 'Z', v->u.s.len) &&
            !(v->u.s.len > 19 && memchr(v->u.s.ptr + 19, '-', v->u.s.len - 19))) {
            if (stored_datetime(c, v, &dt, err))
                return err->code;
            *v = calx_value_timestamp(dt);
            return 0;
        }
        break;
    case CALX_COL_INTERVAL:
        if (v->type == CALX_TEXT) {
            if (stored_datetime(c, v, &dt, err))
                return err->code;
            int64_t days = dt / DAY_MICROS, micros = dt % DAY_MICROS;
            if (micros < 0) {
                micros += DAY_MICROS;
                days--;
            }
            *v = calx_value_interval((calx_interval){ 0, (int32_t)days, micros });
            return 0;
        }
        break;
    default:
        break;
    }
    return calx__value_from_text(c, v, err);
}
