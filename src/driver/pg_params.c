/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: parameters, how calx values become what libpq
 * sends.
 *
 * Parameters go with the type calx knows: int8, float8, bool, bytea and
 * the richer types (numeric, uuid, the dates and times, interval; JSON
 * aside) in binary format with their OIDs (no formatting here, no parsing
 * on the server, and no DateStyle or TimeZone reading them), text, JSON and
 * NULL as "unknown" in text format, typed by the server from context (a
 * binary "unknown" would be read by whatever type the server infers, and
 * text bytes are the same in either format), an ARRAY as its array input
 * text, typed by the server as well. Where the statement says what a
 * parameter meets (calx_dstmt's types: the column it is compared with or
 * written into), an integer meeting an INTEGER column goes as int4 (an
 * int8 would meet the column with no common hash function: an IN list
 * could not be hashed) and an array as its column's array type in the
 * binary array format. Every parameter of a request is checked before
 * anything is queued, so that a bad value fails the request with nothing
 * sent. It is a file of its own so that how a value is sent is decided in
 * one place: another format or type changes this file, not the pipeline
 * that queues what it lays out. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/types_int.h"
#include "core/value_int.h"
#include "core/number_text.h"
#include "driver/pg_int.h"
#include "driver/sqlscan.h"

#define PG_MAX_PARAMS 65535   /* the protocol's limit per statement */

/* Room for n parameters in the per-set arrays libpq takes. */
static bool ensure_param_arrays(pg_conn *c, size_t n)
{
    if (n <= c->pcap)
        return true;
    const char **v = realloc(c->pvals, n * sizeof *v);
    if (v)
        c->pvals = v;
    int *l = v ? realloc(c->plens, n * sizeof *l) : NULL;
    if (l)
        c->plens = l;
    int *f = l ? realloc(c->pfmts, n * sizeof *f) : NULL;
    if (f)
        c->pfmts = f;
    Oid *t = f ? realloc(c->ptypes, n * sizeof *t) : NULL;
    if (t)
        c->ptypes = t;
    if (!t)
        return false;
    c->pcap = n;
    return true;
}

/* ---- types from the statement ----
 *
 * What each column type's values go as when the statement says a
 * parameter meets such a column (calx_dstmt's types): the OID of a value
 * alone (0: left to the value, and a text to the server, which types it
 * from the column), of an array's elements and of the array; the calx
 * value type a column's values are is calx__dtype_value_type's. A value of
 * another type (35.5 compared with an INTEGER column) goes as it would
 * without the hint. */
typedef struct dtype_info {
    Oid scalar, element, array;
} dtype_info;

static const dtype_info dtypes[] = {
    [CALX_DTYPE_INT32] = { OID_INT4, OID_INT4, OID_INT4_ARRAY },
    [CALX_DTYPE_INT64] = { OID_INT8, OID_INT8, OID_INT8_ARRAY },
    [CALX_DTYPE_DOUBLE] = { OID_FLOAT8, OID_FLOAT8, OID_FLOAT8_ARRAY },
    [CALX_DTYPE_BOOL] = { OID_BOOL, OID_BOOL, OID_BOOL_ARRAY },
    /* calx's TEXT columns are VARCHAR on PostgreSQL */
    [CALX_DTYPE_TEXT] = { 0, OID_VARCHAR, OID_VARCHAR_ARRAY },
    [CALX_DTYPE_TIMESTAMP] = { OID_TIMESTAMPTZ, OID_TIMESTAMPTZ, OID_TIMESTAMPTZ_ARRAY },
    [CALX_DTYPE_DECIMAL] = { OID_NUMERIC, OID_NUMERIC, OID_NUMERIC_ARRAY },
    [CALX_DTYPE_UUID] = { OID_UUID, OID_UUID, OID_UUID_ARRAY },
    [CALX_DTYPE_DATE] = { OID_DATE, OID_DATE, OID_DATE_ARRAY },
    [CALX_DTYPE_TIME] = { OID_TIME, OID_TIME, OID_TIME_ARRAY },
    [CALX_DTYPE_DATETIME] = { OID_TIMESTAMP, OID_TIMESTAMP, OID_TIMESTAMP_ARRAY },
    [CALX_DTYPE_INTERVAL] = { OID_INTERVAL, OID_INTERVAL, OID_INTERVAL_ARRAY },
    /* json's binary form is its text, so a JSON[] column's arrays go in
     * binary as json[] (its OID fixed, 199); a value alone stays untyped */
    [CALX_DTYPE_JSON] = { 0, OID_JSON, OID_JSON_ARRAY },
};

/* The entry of t's scalar or element type; NULL for none. */
static const dtype_info *dtype_of(calx_dtype t)
{
    unsigned k = (unsigned)t & ~(unsigned)CALX_DTYPE_ARRAY;
    if (k == 0 || k >= sizeof dtypes / sizeof *dtypes)
        return NULL;
    return &dtypes[k];
}

/* What parameter k of st meets (CALX_DTYPE_VALUE when st says nothing). */
static calx_dtype hint_at(const calx_dstmt *st, size_t k)
{
    return st->types ? st->types[k % st->nparams] : CALX_DTYPE_VALUE;
}

/* The entry an ARRAY v goes in binary by: hint is an array type whose
 * elements are of v's element type. NULL: v goes as its text. */
static const dtype_info *binary_array(const calx_value *v, calx_dtype hint)
{
    if (!(hint & CALX_DTYPE_ARRAY))
        return NULL;
    const dtype_info *d = dtype_of(hint);
    return d && calx__dtype_value_type(hint) == v->elem ? d : NULL;
}

/* An integer that meets an INTEGER column (or is an element of an
 * INTEGER[] one's) and goes as int4. */
static bool fits_int4(int64_t i)
{
    return i >= INT32_MIN && i <= INT32_MAX;
}

static size_t array_text_size(const calx_value *v);
static size_t array_binary_size(const calx_value *v, const dtype_info *d);
static bool in_range(const calx_value *v);

/* The elements of an ARRAY v that goes in binary as d says: each in
 * calx's range (they are laid out here, not parsed by the server), an
 * INTEGER[] column's within int4. at names the parameter. */
static bool array_elements_ok(pg_conn *c, const calx_value *v, const dtype_info *d,
                              size_t at)
{
    for (size_t i = 0; i < v->u.array.n; i++) {
        const calx_value *e = &v->u.array.items[i];
        if (!in_range(e)) {
            calx__pg_failf(c, CALX_ERR_DATA,
                           "parameter %zu, array element %zu, is a %s outside calx's range (a "
                           "decimal of at most 38 digits, years 1-9999, a time of day from "
                           "00:00 to below 24:00)",
                           at, i + 1, calx_type_name(e->type));
            return false;
        }
        if (e->type == CALX_INT && d->element == OID_INT4 && !fits_int4(e->u.i)) {
            calx__pg_failf(c, CALX_ERR_DATA,
                           "parameter %zu, array element %zu, is %lld, outside the range of "
                           "the INTEGER[] column's elements it meets (-2147483648 to "
                           "2147483647)",
                           at, i + 1, (long long)e->u.i);
            return false;
        }
    }
    return true;
}

/* An ARRAY parameter calx can send: elements of its type or NULL, texts
 * without NUL bytes, and its form (binary as hint says, else its text)
 * within PostgreSQL's 1 GB. */
static bool array_ok(pg_conn *c, const calx_value *v, calx_dtype hint, size_t at)
{
    if (!calx__value_ok(v)) {
        calx__pg_failf(c, CALX_ERR_ARGUMENT,
                       "parameter %zu is an ARRAY whose elements are not all of its element "
                       "type %s or NULL (or of a type no array holds)",
                       at, calx_type_name(v->elem));
        return false;
    }
    for (size_t i = 0; i < v->u.array.n; i++) {
        const calx_value *e = &v->u.array.items[i];
        if (calx__value_is_bytes(e) && e->u.s.len && memchr(e->u.s.ptr, 0, e->u.s.len)) {
            calx__pg_failf(c, CALX_ERR_DATA,
                           "PostgreSQL text cannot contain a NUL byte (parameter %zu, array "
                           "element %zu)", at, i + 1);
            return false;
        }
    }
    const dtype_info *d = binary_array(v, hint);
    if (d && !array_elements_ok(c, v, d, at))
        return false;
    if ((d ? array_binary_size(v, d) : array_text_size(v)) > INT32_MAX) {
        calx__pg_failf(c, CALX_ERR_DATA, "parameter %zu is larger than PostgreSQL takes (1 GB)",
                       at);
        return false;
    }
    return true;
}

/* Whether a decimal, date, time or date-time v is one calx holds (at most
 * 38 digits and a scale of 0-38; years 1-9999, a time of day below 24:00),
 * as a value made by calx's own functions always is; any other value is. */
static bool in_range(const calx_value *v)
{
    switch (v->type) {
    case CALX_DECIMAL:
        return v->scale >= 0 && v->scale <= CALX_DECIMAL_MAX_SCALE &&
               calx_decimal_digits(calx_value_get_decimal(v)) <= CALX_DECIMAL_MAX_DIGITS;
    case CALX_DATE:
        return v->u.i >= CALX__DATE_MIN && v->u.i <= CALX__DATE_MAX;
    case CALX_TIME:
        return v->u.i >= 0 && v->u.i < CALX__USEC_PER_DAY;
    case CALX_DATETIME:
    case CALX_TIMESTAMP:
        return v->u.i >= CALX__DATE_MIN * CALX__USEC_PER_DAY &&
               v->u.i < (CALX__DATE_MAX + 1) * CALX__USEC_PER_DAY;
    default:
        return true;
    }
}

/* Checks every parameter of the request before anything is queued, so
 * that a bad value fails the request with nothing sent. */
bool calx__pg_check_params(pg_conn *c, const calx_dreq *req)
{
    for (size_t i = 0; i < req->nstmts; i++) {
        const calx_dstmt *st = &req->stmts[i];
        if (st->nparams > PG_MAX_PARAMS) {
            calx__pg_failf(c, CALX_ERR_PROGRAMMING,
                           "a PostgreSQL statement takes at most %d parameters; this one has %zu",
                           PG_MAX_PARAMS, st->nparams);
            return false;
        }
        if (calx__sql_starts_with_word(calx__sql_skip_space(st->sql, false), "COPY")) {
            calx__pg_failf(c, CALX_ERR_NOT_SUPPORTED,
                           "COPY is not supported by the calx PostgreSQL driver (it runs every "
                           "statement in pipeline mode); insert with execute-many instead");
            return false;
        }
        for (size_t k = 0; k < st->nparams * st->nsets; k++) {
            const calx_value *v = &st->params[k];
            if ((v->type == CALX_TEXT || v->type == CALX_JSON) && v->u.s.len &&
                memchr(v->u.s.ptr, 0, v->u.s.len)) {
                calx__pg_failf(c, CALX_ERR_DATA,
                               "PostgreSQL text cannot contain a NUL byte (parameter %zu%s); "
                               "send bytes as a blob",
                               k % st->nparams + 1, st->nsets > 1 ? " of a parameter set" : "");
                return false;
            }
            if ((unsigned)v->type > CALX_ARRAY) {
                calx__pg_failf(c, CALX_ERR_ARGUMENT, "parameter %zu has an unknown value type %d",
                               k % st->nparams + 1, (int)v->type);
                return false;
            }
            calx_dtype hint = hint_at(st, k);
            if (v->type == CALX_ARRAY && !array_ok(c, v, hint, k % st->nparams + 1))
                return false;
            if (v->type == CALX_INT && hint == CALX_DTYPE_INT32 && !fits_int4(v->u.i)) {
                calx__pg_failf(c, CALX_ERR_DATA,
                               "parameter %zu%s is %lld, outside the range of the INTEGER "
                               "column it meets (-2147483648 to 2147483647)",
                               k % st->nparams + 1, st->nsets > 1 ? " of a parameter set" : "",
                               (long long)v->u.i);
                return false;
            }
            if (!in_range(v)) {
                calx__pg_failf(c, CALX_ERR_DATA,
                               "parameter %zu is a %s outside calx's range (a decimal of at "
                               "most 38 digits, years 1-9999, a time of day from 00:00 to "
                               "below 24:00)",
                               k % st->nparams + 1, calx_type_name(v->type));
                return false;
            }
            if ((v->type == CALX_TEXT || v->type == CALX_BLOB || v->type == CALX_JSON) &&
                v->u.s.len > INT32_MAX) {
                calx__pg_failf(c, CALX_ERR_DATA,
                               "parameter %zu is larger than PostgreSQL takes (1 GB)",
                               k % st->nparams + 1);
                return false;
            }
        }
    }
    return true;
}

/* Room for the text of any value of the richer types. */
#define RICH_TEXT_SIZE 64
_Static_assert(RICH_TEXT_SIZE >= CALX_DECIMAL_TEXT_SIZE && RICH_TEXT_SIZE >= CALX_UUID_TEXT_SIZE &&
               RICH_TEXT_SIZE >= CALX_DATETIME_TEXT_SIZE, "room for every text form");

/* A value of the richer types as PostgreSQL's input text, into out
 * (RICH_TEXT_SIZE bytes), for an array's elements; returns its type's OID.
 * An instant goes with its offset (+00:00), so the session's TimeZone
 * never shifts it. */
static Oid rich_text(const calx_value *v, char *out)
{
    switch (v->type) {
    case CALX_DECIMAL:
        calx_decimal_format(calx_value_get_decimal(v), out, RICH_TEXT_SIZE);
        return OID_NUMERIC;
    case CALX_UUID:
        calx_uuid_format(v->u.uuid, out);
        return OID_UUID;
    case CALX_DATE:
        calx_date_format((calx_date)v->u.i, out, RICH_TEXT_SIZE);
        return OID_DATE;
    case CALX_TIME:
        calx_time_format(v->u.i, out, RICH_TEXT_SIZE);
        return OID_TIME;
    case CALX_DATETIME:
        calx_datetime_format(v->u.i, out, RICH_TEXT_SIZE);
        return OID_TIMESTAMP;
    case CALX_TIMESTAMP:
        calx_timestamp_format(v->u.i, 0, out, RICH_TEXT_SIZE);
        return OID_TIMESTAMPTZ;
    case CALX_INTERVAL:
        calx_interval_format(v->u.interval, out, RICH_TEXT_SIZE);
        return OID_INTERVAL;
    default:
        out[0] = '\0';
        return 0;
    }
}

/* ---- the richer types in binary ----
 *
 * Each as its type's receive function reads it (integer_datetimes, every
 * server since 10): numeric as base-10000 digits; uuid as its 16 bytes;
 * date as int32 days and time, timestamp and timestamptz as int64
 * microseconds, since 2000-01-01 for the dates; interval as int64
 * microseconds, int32 days, int32 months. No session setting (DateStyle,
 * TimeZone, IntervalStyle) reads them, and the server parses nothing. */

/* Room for any of them: a numeric of 38 digits is 8 bytes of header and
 * at most 11 digits of 4 (10 for 38 digits, one more for the point's
 * alignment), 2 bytes each. */
#define RICH_BINARY_SIZE 32
_Static_assert(8 + 2 * ((CALX_DECIMAL_MAX_DIGITS + 6) / 4 + 1) <= RICH_BINARY_SIZE &&
               RICH_BINARY_SIZE >= 16, "room for every binary form");

static void put_be16(char *p, uint16_t v)
{
    p[0] = (char)(v >> 8);
    p[1] = (char)(v & 0xff);
}

static void put_be32(char *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)(v & 0xffff));
}

static void put_be64(char *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)(v & 0xffffffff));
}

/* float8send's bits; a NaN as the text path's "NaN" reads (PostgreSQL's
 * one NaN, positive). */
static void put_float8(char *p, double d)
{
    double x = isnan(d) ? (double)NAN : d;
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    put_be64(p, bits);
}

/* floor(e / 4) for the decimal exponents of a decimal's digits (-38..37). */
static int group_of(int e)
{
    return e >= 0 ? e / 4 : -((-e + 3) / 4);
}

/* A decimal as numeric_recv reads it: ndigits, weight, sign, dscale, then
 * the base-10000 digits from the most significant, each group of 4
 * decimal digits aligned on the point (group g weighs 10000^g), without
 * leading or trailing zero groups (numeric's own stripped form); dscale is
 * the decimal's scale, so 1.10 stays 1.10. Returns the length. */
static int numeric_binary(calx_decimal d, char *out)
{
    unsigned __int128 mag = (unsigned __int128)(uint64_t)d.hi << 64 | d.lo;
    bool neg = d.hi < 0;
    if (neg)
        mag = -mag;
    /* Decimal digits, the least significant first: digit i has exponent
     * i - scale. */
    uint8_t dec[CALX_DECIMAL_MAX_DIGITS + 1];
    int n = 0;
    for (; mag && n < (int)sizeof dec; mag /= 10)
        dec[n++] = (uint8_t)(mag % 10);
    uint16_t groups[RICH_BINARY_SIZE / 2] = { 0 };
    int low = group_of(-d.scale);
    int top = low, bottom = INT32_MAX;
    static const uint16_t pow10[4] = { 1, 10, 100, 1000 };
    for (int i = 0; i < n; i++) {
        int e = i - d.scale, g = group_of(e);
        groups[g - low] = (uint16_t)(groups[g - low] + dec[i] * pow10[e - 4 * g]);
    }
    for (int g = low; n && g <= group_of(n - 1 - d.scale); g++)
        if (groups[g - low]) {
            top = g;
            if (bottom == INT32_MAX)
                bottom = g;
        }
    int ndigits = n ? top - bottom + 1 : 0;
    put_be16(out, (uint16_t)ndigits);
    put_be16(out + 2, (uint16_t)(int16_t)(ndigits ? top : 0));
    put_be16(out + 4, neg ? 0x4000 : 0x0000);
    put_be16(out + 6, (uint16_t)d.scale);
    for (int k = 0; k < ndigits; k++)
        put_be16(out + 8 + 2 * k, groups[top - k - low]);
    return 8 + 2 * ndigits;
}

/* A value of the richer types other than JSON in its binary form, into out
 * (RICH_BINARY_SIZE bytes); returns its length and sets *oid to its
 * type's. The value is in range (calx__pg_check_params). */
static int rich_binary(const calx_value *v, char *out, Oid *oid)
{
    switch (v->type) {
    case CALX_DECIMAL:
        *oid = OID_NUMERIC;
        return numeric_binary(calx_value_get_decimal(v), out);
    case CALX_UUID:
        *oid = OID_UUID;
        memcpy(out, v->u.uuid.bytes, 16);
        return 16;
    case CALX_DATE:
        *oid = OID_DATE;
        put_be32(out, (uint32_t)(int32_t)(v->u.i - PG_EPOCH_DAYS));
        return 4;
    case CALX_TIME:
        *oid = OID_TIME;
        put_be64(out, (uint64_t)v->u.i);
        return 8;
    case CALX_DATETIME:
    case CALX_TIMESTAMP:
        *oid = v->type == CALX_DATETIME ? OID_TIMESTAMP : OID_TIMESTAMPTZ;
        put_be64(out, (uint64_t)(v->u.i - PG_EPOCH_DAYS * CALX__USEC_PER_DAY));
        return 8;
    case CALX_INTERVAL:
        *oid = OID_INTERVAL;
        put_be64(out, (uint64_t)v->u.interval.micros);
        put_be32(out + 8, (uint32_t)v->u.interval.days);
        put_be32(out + 12, (uint32_t)v->u.interval.months);
        return 16;
    default:
        *oid = 0;
        return 0;
    }
}

/* ---- arrays ----
 *
 * An ARRAY that meets an array column (calx_dstmt's types) goes in the
 * binary array format as array_recv reads it, typed as the column's array
 * type: the number of dimensions (1, or 0 for the empty array), whether
 * there are NULLs, the element type's OID, the length and lower bound (1)
 * of the dimension, then each element as its length (-1 for NULL) and its
 * binary form. Any other (SQL text's) goes as PostgreSQL's array input
 * text, {"1","2",NULL}: every element that is not NULL double-quoted, its
 * " and \ escaped with a backslash (array_in accepts a quoted number, date
 * or decimal as well as a bare one, and no text is then mistaken for NULL
 * or cut at a comma or brace). Its type is left to the server (OID 0), as
 * a text's is: an int8[] would meet an INTEGER[] column's @> and && with
 * no operator (PostgreSQL coerces no array to a narrower one), so the
 * column's own array type is taken from context; a statement without one
 * needs a CAST. */

/* Room for an element's text, unquoted: a text's bytes, each possibly
 * escaped; any other value's form. */
#define SCALAR_TEXT_SIZE (RICH_TEXT_SIZE > 32 ? RICH_TEXT_SIZE : 32)

/* Room for v's array text and its NUL. */
static size_t array_text_size(const calx_value *v)
{
    size_t n = 3;
    for (size_t i = 0; i < v->u.array.n; i++) {
        const calx_value *e = &v->u.array.items[i];
        n += 3 + (calx__value_is_bytes(e) ? 2 * e->u.s.len : SCALAR_TEXT_SIZE);
    }
    return n;
}

/* An element's text (not a text's, not NULL's) into out (SCALAR_TEXT_SIZE). */
static void scalar_text(const calx_value *e, char *out)
{
    switch (e->type) {
    case CALX_INT:
        snprintf(out, SCALAR_TEXT_SIZE, "%lld", (long long)e->u.i);
        break;
    case CALX_REAL:
        if (isnan(e->u.d))
            strcpy(out, "NaN");
        else if (isinf(e->u.d))
            strcpy(out, e->u.d > 0 ? "Infinity" : "-Infinity");
        else
            calx__double_text(out, SCALAR_TEXT_SIZE, 17, e->u.d);
        break;
    case CALX_BOOL:
        strcpy(out, e->u.b ? "t" : "f");
        break;
    default:
        rich_text(e, out);
        break;
    }
}

/* v's array text into p (array_text_size bytes), NUL-terminated; returns
 * its length. */
static size_t array_text(const calx_value *v, char *p)
{
    char *start = p;
    *p++ = '{';
    for (size_t i = 0; i < v->u.array.n; i++) {
        const calx_value *e = &v->u.array.items[i];
        if (i)
            *p++ = ',';
        if (e->type == CALX_NULL) {
            memcpy(p, "NULL", 4);
            p += 4;
            continue;
        }
        char buf[SCALAR_TEXT_SIZE];
        const char *s = buf;
        size_t len;
        if (e->type == CALX_TEXT || e->type == CALX_JSON) {
            s = e->u.s.ptr;
            len = e->u.s.len;
        } else {
            scalar_text(e, buf);
            len = strlen(buf);
        }
        *p++ = '"';
        for (size_t k = 0; k < len; k++) {
            if (s[k] == '"' || s[k] == '\\')
                *p++ = '\\';
            *p++ = s[k];
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return (size_t)(p - start);
}

/* The binary form of a scalar e that is not NULL, as an element of type
 * d->element, into out (room for its text's length, or RICH_BINARY_SIZE);
 * returns its length. */
static size_t element_binary(const calx_value *e, const dtype_info *d, char *out)
{
    Oid ignored;
    switch (e->type) {
    case CALX_INT:
        if (d->element == OID_INT4) {
            put_be32(out, (uint32_t)(int32_t)e->u.i);
            return 4;
        }
        put_be64(out, (uint64_t)e->u.i);
        return 8;
    case CALX_REAL:
        put_float8(out, e->u.d);
        return 8;
    case CALX_BOOL:
        out[0] = e->u.b ? 1 : 0;
        return 1;
    case CALX_TEXT:
    case CALX_JSON:   /* json_recv reads the text */
        if (e->u.s.len)
            memcpy(out, e->u.s.ptr, e->u.s.len);
        return e->u.s.len;
    default:
        return (size_t)rich_binary(e, out, &ignored);
    }
}

/* Room for v's binary array form as d types it. */
static size_t array_binary_size(const calx_value *v, const dtype_info *d)
{
    size_t n = 20;
    for (size_t i = 0; i < v->u.array.n; i++) {
        const calx_value *e = &v->u.array.items[i];
        n += 4;
        if (calx__value_is_bytes(e))
            n += e->u.s.len;
        else if (e->type != CALX_NULL)
            n += d->element == OID_INT4 ? 4 : e->type == CALX_BOOL ? 1 : RICH_BINARY_SIZE;
    }
    return n;
}

/* v's binary array form into p (array_binary_size bytes); returns its
 * length. */
static size_t array_binary(const calx_value *v, const dtype_info *d, char *p)
{
    size_t n = v->u.array.n;
    bool nulls = false;
    for (size_t i = 0; i < n; i++)
        nulls |= v->u.array.items[i].type == CALX_NULL;
    put_be32(p, n ? 1 : 0);
    put_be32(p + 4, nulls);
    put_be32(p + 8, d->element);
    size_t at = 12;
    if (n) {
        put_be32(p + 12, (uint32_t)n);
        put_be32(p + 16, 1);
        at = 20;
    }
    for (size_t i = 0; i < n; i++) {
        const calx_value *e = &v->u.array.items[i];
        if (e->type == CALX_NULL) {
            put_be32(p + at, UINT32_MAX);   /* -1: NULL */
            at += 4;
            continue;
        }
        size_t len = element_binary(e, d, p + at + 4);
        put_be32(p + at, (uint32_t)len);
        at += 4 + len;
    }
    return at;
}

/* Lays one parameter set out as libpq takes it: int8 (int4 where it meets
 * an INTEGER column), float8, bool, bytea and the richer types (JSON
 * aside) in binary with their OIDs, text and JSON NUL-ended in text
 * format, an array in binary as the array column it meets, else as its
 * input text; a NULL typed as its column, when there is one. */
bool calx__pg_bind_set(pg_conn *c, const calx_value *vals, const calx_dtype *types,
                       size_t n)
{
    if (!ensure_param_arrays(c, n ? n : 1)) {
        calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory binding parameters");
        return false;
    }
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        switch (vals[i].type) {
        case CALX_INT:
        case CALX_REAL:
            need += 8;
            break;
        case CALX_TEXT:
        case CALX_JSON:
            need += vals[i].u.s.len + 1;
            break;
        case CALX_ARRAY: {
            const dtype_info *d = binary_array(&vals[i], types ? types[i] : CALX_DTYPE_VALUE);
            need += d ? array_binary_size(&vals[i], d) : array_text_size(&vals[i]);
            break;
        }
        default:
            if (calx__value_is_rich(&vals[i]))
                need += RICH_BINARY_SIZE;
            break;
        }
    }
    if (need > c->scratch_cap) {
        char *s = realloc(c->scratch, need);
        if (!s) {
            calx__pg_failf(c, CALX_ERR_NOMEM, "out of memory binding parameters");
            return false;
        }
        c->scratch = s;
        c->scratch_cap = need;
    }
    char *p = c->scratch;
    for (size_t i = 0; i < n; i++) {
        const calx_value *v = &vals[i];
        calx_dtype hint = types ? types[i] : CALX_DTYPE_VALUE;
        c->plens[i] = 0;
        c->pfmts[i] = 0;
        c->ptypes[i] = 0;
        switch (v->type) {
        case CALX_NULL: {
            /* Typed as its column, so that the statement's types do not
             * depend on which values are NULL (one prepared statement). */
            const dtype_info *d = dtype_of(hint);
            if (d)
                c->ptypes[i] = hint & CALX_DTYPE_ARRAY ? d->array : d->scalar;
            c->pvals[i] = NULL;
            break;
        }
        case CALX_INT:
            if (hint == CALX_DTYPE_INT32) {   /* in range (calx__pg_check_params) */
                c->stats.int4_params++;
                c->ptypes[i] = OID_INT4;
                c->pfmts[i] = 1;
                c->plens[i] = 4;
                c->pvals[i] = p;
                put_be32(p, (uint32_t)(int32_t)v->u.i);
                p += 4;
                break;
            }
            c->stats.int8_params++;
            c->ptypes[i] = OID_INT8;
            c->pfmts[i] = 1;
            c->plens[i] = 8;
            c->pvals[i] = p;
            put_be64(p, (uint64_t)v->u.i);
            p += 8;
            break;
        case CALX_REAL:
            c->ptypes[i] = OID_FLOAT8;
            c->pfmts[i] = 1;
            c->plens[i] = 8;
            c->pvals[i] = p;
            put_float8(p, v->u.d);
            p += 8;
            break;
        case CALX_BOOL:
            c->ptypes[i] = OID_BOOL;
            c->pfmts[i] = 1;
            c->plens[i] = 1;
            c->pvals[i] = v->u.b ? "\1" : "\0";
            break;
        case CALX_TEXT:
        case CALX_JSON: /* type unknown: the column says json or jsonb */
            c->pvals[i] = p;
            if (v->u.s.len)
                memcpy(p, v->u.s.ptr, v->u.s.len);
            p[v->u.s.len] = '\0';
            p += v->u.s.len + 1;
            break;
        default:
            if (!calx__value_is_rich(v)) {
                c->pvals[i] = NULL;
                break;
            }
            c->pfmts[i] = 1;
            c->plens[i] = rich_binary(v, p, &c->ptypes[i]);
            c->pvals[i] = p;
            p += c->plens[i];
            break;
        case CALX_ARRAY: {
            const dtype_info *d = binary_array(v, hint);
            c->pvals[i] = p;
            if (d) {           /* the column's array type, in binary */
                c->ptypes[i] = d->array;
                c->pfmts[i] = 1;
                c->plens[i] = (int)array_binary(v, d, p);
                p += c->plens[i];
            } else {           /* type unknown: the context's array type */
                p += array_text(v, p) + 1;
            }
            break;
        }
        case CALX_BLOB:
            c->ptypes[i] = OID_BYTEA;
            c->pfmts[i] = 1;
            c->pvals[i] = v->u.s.ptr ? v->u.s.ptr : "";
            c->plens[i] = (int)v->u.s.len;
            break;
        }
    }
    return true;
}
