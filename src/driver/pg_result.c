/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: what results mean -- SQLSTATEs classified into
 * calx's error codes, and values decoded into calx values by column type.
 *
 * Values become int2/int4/int8/oid -> INTEGER, float4/float8 -> REAL,
 * bool -> BOOLEAN, bytea -> BLOB, NULL -> NULL, numeric -> DECIMAL, uuid
 * -> UUID, the date and time types -> calx's, json/jsonb -> JSON, their
 * one-dimensional arrays -> ARRAY, and everything else TEXT in
 * PostgreSQL's own spelling (its output function's); a numeric NaN,
 * infinity or number past 38 digits stays text, so that no digit is lost.
 *
 * Text or binary. libpq asks for one result format for all the columns
 * of a statement, and must ask before it has seen them; a user type's
 * binary form cannot be read at all. So a statement's rows come in binary
 * only when every column's type has a binary decoder below, known before
 * it runs: a query run alone learns it from its Describe (pg_pipeline.c),
 * any other prepared statement from its first execution (its result types
 * cannot change afterwards: the server fails it with 0A000 instead), a
 * streamed query's cursor from its first FETCH. Everything else -- those
 * first executions, unnamed statements (PgBouncer,
 * statement_cache_size=0), any statement with a column of another type --
 * comes in text. Each binary decoder gives exactly the value the text
 * path gives for the same datum: float4 through its shortest decimal
 * (what float4out prints), numeric as the decimal numeric_out's text
 * parses to, jsonb without its version byte; the text of the dates and
 * times is read in the default DateStyle and IntervalStyle only, their
 * binary form in any. A binary value that is malformed fails the request
 * (CALX_ERR_INTERNAL), never decodes to something else; a value calx
 * cannot hold (a date's infinity, year 10000, 24:00, an array of two
 * dimensions) fails it with CALX_ERR_DATA naming the column and the value.
 *
 * The codecs are one table by OID (codec_for): a type gains a binary
 * decoder, or a calx value type of its own, by changing its row there. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array_text.h"
#include "core/number_text.h"
#include "core/types_int.h"
#include "core/value_int.h"
#include "driver/pg_int.h"
#include "driver/sqlscan.h"
#include "driver/rowset.h"

/* The class psycopg2 gives an SQLSTATE (what SQLAlchemy users see), with
 * lost connections and serialization failures singled out. */
int calx__pg_errcode(const char *st)
{
    if (!st || strlen(st) != 5)
        return CALX_ERR_DATABASE;
    if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0)
        return CALX_ERR_SERIALIZATION;  /* serialization failure, deadlock: retry */
    if (strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0)
        return CALX_ERR_DISCONNECT;     /* admin / crash shutdown, cannot connect now */
    if (strcmp(st, "08P01") == 0)
        return CALX_ERR_OPERATIONAL;    /* protocol violation: the session lives on */
    if (strcmp(st, "57014") == 0)
        return CALX_ERR_OPERATIONAL;    /* query canceled (not by us) */
    static const struct {
        const char cls[3];
        int code;
    } classes[] = {
        { "0A", CALX_ERR_NOT_SUPPORTED }, { "08", CALX_ERR_DISCONNECT },
        { "20", CALX_ERR_PROGRAMMING },   { "21", CALX_ERR_PROGRAMMING },
        { "22", CALX_ERR_DATA },          { "23", CALX_ERR_INTEGRITY },
        { "24", CALX_ERR_INTERNAL },      { "25", CALX_ERR_INTERNAL },
        { "26", CALX_ERR_INTERNAL },      { "27", CALX_ERR_OPERATIONAL },
        { "28", CALX_ERR_OPERATIONAL },   { "2B", CALX_ERR_INTERNAL },
        { "2D", CALX_ERR_INTERNAL },      { "2F", CALX_ERR_INTERNAL },
        { "34", CALX_ERR_OPERATIONAL },   { "38", CALX_ERR_INTERNAL },
        { "39", CALX_ERR_INTERNAL },      { "3B", CALX_ERR_INTERNAL },
        { "3D", CALX_ERR_PROGRAMMING },   { "3F", CALX_ERR_PROGRAMMING },
        { "40", CALX_ERR_OPERATIONAL },   { "42", CALX_ERR_PROGRAMMING },
        { "44", CALX_ERR_PROGRAMMING },   { "53", CALX_ERR_OPERATIONAL },
        { "54", CALX_ERR_OPERATIONAL },   { "55", CALX_ERR_OPERATIONAL },
        { "57", CALX_ERR_OPERATIONAL },   { "58", CALX_ERR_OPERATIONAL },
        { "72", CALX_ERR_OPERATIONAL },   { "F0", CALX_ERR_INTERNAL },
        { "HV", CALX_ERR_OPERATIONAL },   { "P0", CALX_ERR_INTERNAL },
        { "XX", CALX_ERR_INTERNAL },
    };
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++)
        if (st[0] == classes[i].cls[0] && st[1] == classes[i].cls[1])
            return classes[i].code;
    return CALX_ERR_DATABASE;
}

/* A decoder's answer: the value, no memory, bytes that are no value of
 * the type (a malformed binary value), or a value of the type that calx's
 * C types cannot hold (a date's infinity, a year outside 1-9999, a time of
 * 24:00), which fails the request naming the column and the value. */
typedef enum pg_dec { DEC_OK, DEC_NOMEM, DEC_BAD, DEC_RANGE } pg_dec;

/* Decodes one value of a column's type, given its bytes as libpq hands
 * them over (text: NUL-terminated at s[len]). */
typedef pg_dec (*pg_decode_fn)(calx_rowset *rs, calx_value *v, const char *s, size_t len);

/* ---- text format ---- */

static pg_dec text_as_is(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    const char *copy = calx__rowset_copy(rs, s, len);
    if (!copy)
        return DEC_NOMEM;
    v->type = CALX_TEXT;
    v->u.s.ptr = copy;
    v->u.s.len = len;
    return DEC_OK;
}

static pg_dec text_bool(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs, (void)len;
    *v = calx_bool(s[0] == 't');
    return DEC_OK;
}

static pg_dec text_int(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs, (void)len;
    *v = calx_int((int64_t)strtoll(s, NULL, 10));
    return DEC_OK;
}

static pg_dec text_float(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs, (void)len;
    *v = calx_real(calx__text_double(s, NULL));
    return DEC_OK;
}

static pg_dec text_bytea(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
        size_t n = (len - 2) / 2;
        char *dst = calx__rowset_alloc(rs, n);
        if (!dst)
            return DEC_NOMEM;
        for (size_t i = 0; i < n; i++) {
            unsigned hi = (unsigned char)s[2 + 2 * i], lo = (unsigned char)s[3 + 2 * i];
            hi = hi <= '9' ? hi - '0' : (hi | 0x20) - 'a' + 10;
            lo = lo <= '9' ? lo - '0' : (lo | 0x20) - 'a' + 10;
            dst[i] = (char)((hi << 4) | lo);
        }
        v->type = CALX_BLOB;
        v->u.s.ptr = dst;
        v->u.s.len = n;
        return DEC_OK;
    }
    /* bytea_output = escape */
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)s, &n);
    if (!raw)
        return DEC_NOMEM;
    const char *copy = calx__rowset_copy(rs, raw, n);
    PQfreemem(raw);
    if (!copy)
        return DEC_NOMEM;
    v->type = CALX_BLOB;
    v->u.s.ptr = copy;
    v->u.s.len = n;
    return DEC_OK;
}

/* ---- binary format (network byte order) ---- */

static uint16_t be16(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    return (uint16_t)(u[0] << 8 | u[1]);
}

static uint32_t be32(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static uint64_t be64(const char *s)
{
    return (uint64_t)be32(s) << 32 | be32(s + 4);
}

static pg_dec bin_bool(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 1)
        return DEC_BAD;
    *v = calx_bool(s[0] != 0);
    return DEC_OK;
}

static pg_dec bin_int2(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 2)
        return DEC_BAD;
    *v = calx_int((int16_t)be16(s));
    return DEC_OK;
}

static pg_dec bin_int4(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 4)
        return DEC_BAD;
    *v = calx_int((int32_t)be32(s));
    return DEC_OK;
}

static pg_dec bin_oid(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 4)
        return DEC_BAD;
    *v = calx_int((int64_t)be32(s));
    return DEC_OK;
}

static pg_dec bin_int8(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 8)
        return DEC_BAD;
    *v = calx_int((int64_t)be64(s));
    return DEC_OK;
}

/* float4 as the text path reads it: float4out prints the shortest decimal
 * that reads back as the same float, and strtod reads that decimal as the
 * double nearest to it (0.1f comes back as 0.1, not 0.100000001490116). */
static pg_dec bin_float4(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 4)
        return DEC_BAD;
    uint32_t bits = be32(s);
    float f;
    memcpy(&f, &bits, sizeof f);
    if (isnan(f) || isinf(f)) {
        *v = calx_real(isnan(f) ? (double)NAN : (double)f);
        return DEC_OK;
    }
    *v = calx_real(calx__float_as_decimal(f));
    return DEC_OK;
}

static pg_dec bin_float8(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 8)
        return DEC_BAD;
    uint64_t bits = be64(s);
    double d;
    memcpy(&d, &bits, sizeof d);
    *v = calx_real(isnan(d) ? (double)NAN : d);
    return DEC_OK;
}

static pg_dec bin_bytea(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    const char *copy = calx__rowset_copy(rs, s, len);
    if (!copy)
        return DEC_NOMEM;
    v->type = CALX_BLOB;
    v->u.s.ptr = copy;
    v->u.s.len = len;
    return DEC_OK;
}

/* text, varchar, bpchar, name, unknown, json: the same bytes as their
 * text form (both in the client encoding). */
static pg_dec bin_text(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    if (len && memchr(s, 0, len))
        return DEC_BAD;
    return text_as_is(rs, v, s, len);
}

/* jsonb: a version byte (1), then the text jsonb_out prints. */
static pg_dec bin_jsonb(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    if (len < 1 || s[0] != 1)
        return DEC_BAD;
    return bin_text(rs, v, s + 1, len - 1);
}

/* uuid: its 16 bytes. */
static pg_dec bin_uuid(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 16)
        return DEC_BAD;
    calx_uuid u;
    memcpy(u.bytes, s, 16);
    *v = calx_value_uuid(u);
    return DEC_OK;
}

/* numeric: ndigits, weight, sign, dscale (16 bits each), then ndigits
 * base-10000 digits, the first of weight 10000^weight. Spelt as
 * numeric_out does (get_str_from_var): the integer part without leading
 * zeros ("0" when there is none), then exactly dscale decimals. */
#define NUMERIC_POS 0x0000
#define NUMERIC_NEG 0x4000
#define NUMERIC_NAN 0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000
#define NUMERIC_DSCALE_MAX 0x3FFF

static pg_dec bin_numeric_text(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    if (len < 8)
        return DEC_BAD;
    int ndigits = (int16_t)be16(s);
    int weight = (int16_t)be16(s + 2);
    unsigned sign = be16(s + 4);
    unsigned dscale = be16(s + 6);
    if (ndigits < 0 || len != 8 + 2 * (size_t)ndigits)
        return DEC_BAD;
    const char *special = sign == NUMERIC_NAN    ? "NaN"
                          : sign == NUMERIC_PINF ? "Infinity"
                          : sign == NUMERIC_NINF ? "-Infinity"
                                                 : NULL;
    if (special)
        return text_as_is(rs, v, special, strlen(special));
    if ((sign != NUMERIC_POS && sign != NUMERIC_NEG) || dscale > NUMERIC_DSCALE_MAX)
        return DEC_BAD;
    for (int i = 0; i < ndigits; i++)
        if (be16(s + 8 + 2 * i) > 9999)
            return DEC_BAD;
    size_t room = 1 + (weight >= 0 ? 4 * ((size_t)weight + 1) : 1) + 1 + dscale + 4;
    char *out = calx__rowset_alloc(rs, room);
    if (!out)
        return DEC_NOMEM;
    char *p = out;
    if (sign == NUMERIC_NEG)
        *p++ = '-';
    int d;
    if (weight < 0) {
        d = weight + 1;
        *p++ = '0';
    } else {
        for (d = 0; d <= weight; d++) {
            unsigned dig = d < ndigits ? be16(s + 8 + 2 * d) : 0;
            char four[4] = { (char)('0' + dig / 1000), (char)('0' + dig / 100 % 10),
                             (char)('0' + dig / 10 % 10), (char)('0' + dig % 10) };
            int from = 0;
            if (d == 0)  /* the first group without its leading zeros */
                while (from < 3 && four[from] == '0')
                    from++;
            memcpy(p, four + from, (size_t)(4 - from));
            p += 4 - from;
        }
    }
    if (dscale > 0) {
        *p++ = '.';
        char *end = p + dscale;
        for (unsigned i = 0; i < dscale; d++, i += 4) {
            unsigned dig = d >= 0 && d < ndigits ? be16(s + 8 + 2 * d) : 0;
            p[0] = (char)('0' + dig / 1000);
            p[1] = (char)('0' + dig / 100 % 10);
            p[2] = (char)('0' + dig / 10 % 10);
            p[3] = (char)('0' + dig % 10);
            p += 4;
        }
        p = end;
    }
    *p = '\0';
    v->type = CALX_TEXT;
    v->u.s.ptr = out;
    v->u.s.len = (size_t)(p - out);
    return DEC_OK;
}

/* A numeric as a decimal, from its text (text_decimal below); NaN, the
 * infinities and numbers beyond 38 digits stay text. */
static pg_dec text_decimal(calx_rowset *rs, calx_value *v, const char *s, size_t len);

/* A numeric's base-10000 digits straight into a decimal of scale dscale,
 * the value numeric_out's text would parse to (digits past dscale cut, as
 * it cuts them); false, nothing written, when that text would not parse
 * to a decimal (a special, more than 38 digits, a scale above 38) or the
 * bytes are malformed: bin_numeric_text then decides. */
static bool bin_numeric_direct(calx_value *v, const char *s, size_t len)
{
    if (len < 8)
        return false;
    int ndigits = (int16_t)be16(s);
    int weight = (int16_t)be16(s + 2);
    unsigned sign = be16(s + 4), dscale = be16(s + 6);
    if (ndigits < 0 || len != 8 + 2 * (size_t)ndigits ||
        (sign != NUMERIC_POS && sign != NUMERIC_NEG) || dscale > CALX_DECIMAL_MAX_SCALE)
        return false;
    for (int k = 0; k < ndigits; k++)   /* those past dscale too */
        if (be16(s + 8 + 2 * k) > 9999)
            return false;
    /* 10^38 - 1, the largest coefficient. */
    const unsigned __int128 most = (unsigned __int128)UINT64_C(10000000000000000000) *
                                       UINT64_C(10000000000000000000) - 1;
    static const unsigned pow10[5] = { 1, 10, 100, 1000, 10000 };
    unsigned __int128 coef = 0;
    int lowest = -(int)((dscale + 3) / 4);   /* the last group dscale reaches */
    for (int g = weight >= 0 ? weight : -1; g >= lowest; g--) {
        int k = weight - g;
        unsigned dig = k >= 0 && k < ndigits ? be16(s + 8 + 2 * k) : 0;
        unsigned keep = 4;   /* decimal digits of this group kept */
        if (g == lowest && g < 0 && dscale % 4)
            keep = dscale % 4;
        if (coef > most / 10000)
            return false;
        coef = coef * pow10[keep] + dig / pow10[4 - keep];
        if (coef > most)
            return false;
    }
    if (sign == NUMERIC_NEG)
        coef = -coef;
    v->type = CALX_DECIMAL;
    v->scale = (int32_t)dscale;
    v->u.dec.lo = (uint64_t)coef;
    v->u.dec.hi = (int64_t)(uint64_t)(coef >> 64);
    return true;
}

static pg_dec bin_numeric(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    if (bin_numeric_direct(v, s, len))
        return DEC_OK;
    pg_dec rc = bin_numeric_text(rs, v, s, len);
    if (rc == DEC_OK)
        rc = text_decimal(rs, v, v->u.s.ptr, v->u.s.len);
    return rc;
}

/* ---- dates and times, binary (integer_datetimes) ----
 *
 * date: int32 days since 2000-01-01; time: int64 microseconds since
 * midnight; timestamp and timestamptz: int64 microseconds since
 * 2000-01-01 00:00 (UTC for timestamptz); interval: int64 microseconds,
 * int32 days, int32 months. Their infinities are the extreme integers. No
 * session setting changes these bytes, unlike the text (DateStyle,
 * IntervalStyle, TimeZone). */

/* PostgreSQL's epoch in calx's microseconds since 1970-01-01. */
#define PG_EPOCH_USEC (PG_EPOCH_DAYS * CALX__USEC_PER_DAY)
/* The microseconds since PostgreSQL's epoch calx holds: years 1-9999. */
#define PG_USEC_MIN ((CALX__DATE_MIN - PG_EPOCH_DAYS) * CALX__USEC_PER_DAY)
#define PG_USEC_MAX ((CALX__DATE_MAX + 1 - PG_EPOCH_DAYS) * CALX__USEC_PER_DAY - 1)

static pg_dec bin_date(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 4)
        return DEC_BAD;
    int64_t day = (int32_t)be32(s) + PG_EPOCH_DAYS;
    if (day < CALX__DATE_MIN || day > CALX__DATE_MAX)
        return DEC_RANGE;   /* infinity (INT32_MAX, INT32_MIN) included */
    *v = calx_value_date((calx_date)day);
    return DEC_OK;
}

static pg_dec bin_time(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 8)
        return DEC_BAD;
    int64_t us = (int64_t)be64(s);
    if (us < 0 || us >= CALX__USEC_PER_DAY)
        return DEC_RANGE;   /* 24:00:00, which PostgreSQL takes */
    *v = calx_value_time(us);
    return DEC_OK;
}

/* timestamp (naive) and timestamptz (an instant) alike: microseconds. */
static pg_dec bin_micros(calx_value *v, const char *s, size_t len, calx_type t)
{
    if (len != 8)
        return DEC_BAD;
    int64_t us = (int64_t)be64(s);
    if (us < PG_USEC_MIN || us > PG_USEC_MAX)
        return DEC_RANGE;   /* infinity (INT64_MAX, INT64_MIN) included */
    *v = calx__value_i(t, us + PG_EPOCH_USEC);
    return DEC_OK;
}

static pg_dec bin_datetime(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    return bin_micros(v, s, len, CALX_DATETIME);
}

static pg_dec bin_timestamp(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    return bin_micros(v, s, len, CALX_TIMESTAMP);
}

/* PostgreSQL 17's infinite intervals: every part at its maximum, or at
 * its minimum. */
static bool interval_infinite(int64_t us, int32_t days, int32_t months)
{
    return (us == INT64_MAX && days == INT32_MAX && months == INT32_MAX) ||
           (us == INT64_MIN && days == INT32_MIN && months == INT32_MIN);
}

static pg_dec bin_interval(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    if (len != 16)
        return DEC_BAD;
    calx_interval iv = { .micros = (int64_t)be64(s),
                         .days = (int32_t)be32(s + 8),
                         .months = (int32_t)be32(s + 12) };
    if (interval_infinite(iv.micros, iv.days, iv.months))
        return DEC_RANGE;
    *v = calx_value_interval(iv);
    return DEC_OK;
}

/* ---- the richer types from their text ---- */

/* A value of type t parsed from PostgreSQL's text output; what does not
 * parse (a NaN, more than 38 digits) stays text. */
static pg_dec text_parsed(calx_rowset *rs, calx_value *v, const char *s, size_t len,
                          calx_type t)
{
    if (calx__value_parse(t, s, len, v, NULL) == 0)
        return DEC_OK;
    return text_as_is(rs, v, s, len);
}

static pg_dec text_decimal(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    return text_parsed(rs, v, s, len, CALX_DECIMAL);
}

static pg_dec text_uuid(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    return text_parsed(rs, v, s, len, CALX_UUID);
}

/* A date or time from its text, as the binary decoders above decide: what
 * does not parse ('infinity', a year outside 1-9999, 24:00:00, text in
 * another DateStyle or IntervalStyle) is DEC_RANGE, an error naming the
 * column and the text, never a value of another type. */
static pg_dec text_datetime_parsed(calx_value *v, const char *s, size_t len, calx_type t)
{
    return calx__value_parse(t, s, len, v, NULL) == 0 ? DEC_OK : DEC_RANGE;
}

static pg_dec text_date(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    return text_datetime_parsed(v, s, len, CALX_DATE);
}

static pg_dec text_time(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    return text_datetime_parsed(v, s, len, CALX_TIME);
}

static pg_dec text_datetime(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    return text_datetime_parsed(v, s, len, CALX_DATETIME);
}

static pg_dec text_timestamp(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    return text_datetime_parsed(v, s, len, CALX_TIMESTAMP);
}

static pg_dec text_interval(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    (void)rs;
    return text_datetime_parsed(v, s, len, CALX_INTERVAL);
}

/* json and jsonb: their text, as JSON. */
static pg_dec as_json(pg_dec rc, calx_value *v)
{
    if (rc == DEC_OK)
        v->type = CALX_JSON;
    return rc;
}

static pg_dec text_json(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    return as_json(text_as_is(rs, v, s, len), v);
}

static pg_dec bin_json(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    return as_json(bin_text(rs, v, s, len), v);
}

static pg_dec bin_jsonb_value(calx_rowset *rs, calx_value *v, const char *s, size_t len)
{
    return as_json(bin_jsonb(rs, v, s, len), v);
}

/* ---- arrays, from their text ----
 *
 * array_out's form, read by core/array_text.c. Each element is decoded by
 * its type's own text decoder, into a CALX_ARRAY whose items live in the
 * rows' arena. A multi-dimensional array (which calx's values cannot
 * hold) stays text. */

/* The codecs' decoders of a type (below). */
static pg_decode_fn text_decoder(Oid type);
static pg_decode_fn binary_decoder(Oid type);

/* The array types calx decodes: name, OID, element OID, element calx
 * type. One list for the table, the decoders and the codecs below. */
#define PG_ARRAYS(X)                                                                    \
    X(bool, OID_BOOL_ARRAY, OID_BOOL, CALX_BOOL)                                        \
    X(name, OID_NAME_ARRAY, OID_NAME, CALX_TEXT)                                        \
    X(int2, OID_INT2_ARRAY, OID_INT2, CALX_INT)                                         \
    X(int4, OID_INT4_ARRAY, OID_INT4, CALX_INT)                                         \
    X(text, OID_TEXT_ARRAY, OID_TEXT, CALX_TEXT)                                        \
    X(bpchar, OID_BPCHAR_ARRAY, OID_BPCHAR, CALX_TEXT)                                  \
    X(varchar, OID_VARCHAR_ARRAY, OID_VARCHAR, CALX_TEXT)                               \
    X(int8, OID_INT8_ARRAY, OID_INT8, CALX_INT)                                         \
    X(float4, OID_FLOAT4_ARRAY, OID_FLOAT4, CALX_REAL)                                  \
    X(float8, OID_FLOAT8_ARRAY, OID_FLOAT8, CALX_REAL)                                  \
    X(oid, OID_OID_ARRAY, OID_OID, CALX_INT)                                            \
    X(timestamp, OID_TIMESTAMP_ARRAY, OID_TIMESTAMP, CALX_DATETIME)                     \
    X(date, OID_DATE_ARRAY, OID_DATE, CALX_DATE)                                        \
    X(time, OID_TIME_ARRAY, OID_TIME, CALX_TIME)                                        \
    X(timestamptz, OID_TIMESTAMPTZ_ARRAY, OID_TIMESTAMPTZ, CALX_TIMESTAMP)              \
    X(interval, OID_INTERVAL_ARRAY, OID_INTERVAL, CALX_INTERVAL)                        \
    X(numeric, OID_NUMERIC_ARRAY, OID_NUMERIC, CALX_DECIMAL)                            \
    X(uuid, OID_UUID_ARRAY, OID_UUID, CALX_UUID)                                        \
    X(json, OID_JSON_ARRAY, OID_JSON, CALX_JSON)                                        \
    X(jsonb, OID_JSONB_ARRAY, OID_JSONB, CALX_JSON)

/* The element type of an array type, and the calx type its elements
 * decode to; 0 for a type that is no array calx decodes. */
static Oid array_elem(Oid type, calx_type *elem)
{
    switch (type) {
#define ARRAY_ELEM(name, oid, elem_oid, calx_t)                                         \
    case oid:                                                                           \
        *elem = calx_t;                                                                 \
        return elem_oid;
        PG_ARRAYS(ARRAY_ELEM)
#undef ARRAY_ELEM
    default:
        return 0;
    }
}

/* items[0..n) as v, a CALX_ARRAY of elem whose items live in the rows'
 * arena; DEC_RANGE when an element is not of elem (a numeric NaN, which
 * decodes to text: an array holds one type). */
static pg_dec array_value(calx_rowset *rs, calx_value *v, calx_type elem,
                          const calx_value *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].type != CALX_NULL && items[i].type != elem)
            return DEC_RANGE;
    calx_value *at = calx__rowset_alloc_values(rs, n);
    if (!at)
        return DEC_NOMEM;
    if (n)
        memcpy(at, items, n * sizeof *items);
    *v = calx_value_array(elem, at, n);
    return DEC_OK;
}

static pg_dec text_array(calx_rowset *rs, calx_value *v, const char *s, size_t len, Oid type)
{
    calx_type elem = CALX_TEXT;
    Oid et = array_elem(type, &elem);
    pg_decode_fn decode = text_decoder(et);
    bool nested;
    const char *p = calx__array_text_start(s, &nested);
    if (!p)   /* more dimensions than calx's arrays have, or text calx does not know */
        return nested ? DEC_RANGE : text_as_is(rs, v, s, len);
    size_t most = calx__array_text_most(p);
    char *buf = malloc(len + 1);
    calx_value *items = malloc(most * sizeof *items);
    if (!buf || !items) {
        free(buf);
        free(items);
        return DEC_NOMEM;
    }
    pg_dec rc = DEC_OK;
    size_t n = 0;
    if (*p == '}') {
        p++;
    } else {
        for (;;) {
            const char *end;
            size_t elen;
            bool null;
            if (n == most || !calx__array_text_element(p, &end, buf, &elen, &null)) {
                rc = DEC_BAD;
                break;
            }
            items[n] = calx_null();
            if (!null && (rc = decode(rs, &items[n], buf, elen)) != DEC_OK)
                break;
            n++;
            p = end + 1;
            if (*end == '}')
                break;
        }
    }
    if (rc == DEC_OK && *p != '\0')
        rc = DEC_BAD;
    if (rc == DEC_BAD)   /* text calx does not know: left as text */
        rc = text_as_is(rs, v, s, len);
    else if (rc == DEC_OK)
        rc = array_value(rs, v, elem, items, n);
    free(buf);
    free(items);
    return rc;
}

/* An array in binary (array_send): int32 dimensions, int32 flags, the
 * element type's OID, per dimension its int32 length and lower bound,
 * then each element as an int32 length (-1 for NULL) and its bytes in the
 * element type's binary form, decoded by that type's binary decoder. No
 * dimension is the empty array; more than one is DEC_RANGE, as in text. */
static pg_dec bin_array(calx_rowset *rs, calx_value *v, const char *s, size_t len, Oid type)
{
    calx_type elem = CALX_TEXT;
    Oid et = array_elem(type, &elem);
    pg_decode_fn decode = binary_decoder(et);
    if (len < 12 || be32(s + 8) != et || be32(s + 4) > 1)
        return DEC_BAD;
    int32_t ndim = (int32_t)be32(s);
    if (ndim == 0)
        return len == 12 ? array_value(rs, v, elem, NULL, 0) : DEC_BAD;
    if (ndim < 0 || (size_t)ndim > (len - 12) / 8)
        return DEC_BAD;
    if (ndim > 1)
        return DEC_RANGE;
    int32_t n = (int32_t)be32(s + 12);
    const char *p = s + 20, *end = s + len;
    /* Each element takes 4 bytes at least. */
    if (n < 0 || (size_t)n > (size_t)(end - p) / 4)
        return DEC_BAD;
    calx_value *items = malloc((n ? (size_t)n : 1) * sizeof *items);
    if (!items)
        return DEC_NOMEM;
    pg_dec rc = DEC_OK;
    for (int32_t i = 0; i < n && rc == DEC_OK; i++) {
        items[i] = calx_null();
        if (end - p < 4) {
            rc = DEC_BAD;
            break;
        }
        int32_t elen = (int32_t)be32(p);
        p += 4;
        if (elen == -1)
            continue;
        if (elen < 0 || elen > end - p) {
            rc = DEC_BAD;
            break;
        }
        rc = decode(rs, &items[i], p, (size_t)elen);
        p += elen;
    }
    if (rc == DEC_OK && p != end)
        rc = DEC_BAD;
    if (rc == DEC_OK)
        rc = array_value(rs, v, elem, items, (size_t)n);
    free(items);
    return rc;
}

/* A text and a binary decoder per array type, each knowing its OID. */
#define ARRAY_DECODERS(name, oid, elem_oid, calx_t)                                     \
    static pg_dec text_array_##name(calx_rowset *rs, calx_value *v, const char *s,      \
                                    size_t len)                                         \
    {                                                                                   \
        return text_array(rs, v, s, len, oid);                                          \
    }                                                                                   \
    static pg_dec bin_array_##name(calx_rowset *rs, calx_value *v, const char *s,       \
                                   size_t len)                                          \
    {                                                                                   \
        return bin_array(rs, v, s, len, oid);                                           \
    }
PG_ARRAYS(ARRAY_DECODERS)
#undef ARRAY_DECODERS

/* ---- the codecs, by type OID ---- */

typedef struct pg_codec {
    pg_decode_fn text;        /* the text form */
    pg_decode_fn binary;      /* the binary form; NULL: rows with this type
                                 are asked for in text */
} pg_codec;

static const pg_codec codec_text_only = { text_as_is, NULL };

/* The codec of a column type. Types not listed come as TEXT, in text. */
static const pg_codec *codec_for(Oid type)
{
    static const pg_codec boolean = { text_bool, bin_bool }, bytea = { text_bytea, bin_bytea },
                          int2 = { text_int, bin_int2 }, int4 = { text_int, bin_int4 },
                          int8 = { text_int, bin_int8 }, oid = { text_int, bin_oid },
                          float4 = { text_float, bin_float4 },
                          float8 = { text_float, bin_float8 }, text = { text_as_is, bin_text },
                          json = { text_json, bin_json }, jsonb = { text_json, bin_jsonb_value },
                          numeric = { text_decimal, bin_numeric }, uuid = { text_uuid, bin_uuid },
                          date = { text_date, bin_date }, time = { text_time, bin_time },
                          datetime = { text_datetime, bin_datetime },
                          timestamp = { text_timestamp, bin_timestamp },
                          interval = { text_interval, bin_interval };
    switch (type) {
    case OID_BOOL: return &boolean;
    case OID_BYTEA: return &bytea;
    case OID_INT2: return &int2;
    case OID_INT4: return &int4;
    case OID_INT8: return &int8;
    case OID_OID: return &oid;
    case OID_FLOAT4: return &float4;
    case OID_FLOAT8: return &float8;
    case OID_TEXT:
    case OID_VARCHAR:
    case OID_BPCHAR:
    case OID_NAME:
    case OID_UNKNOWN: return &text;
    case OID_JSON: return &json;
    case OID_JSONB: return &jsonb;
    case OID_NUMERIC: return &numeric;
    case OID_UUID: return &uuid;
    /* Dates and times: binary where the statement allows, for their text
     * follows DateStyle and IntervalStyle (calx reads only the defaults,
     * ISO and postgres) and their binary form follows nothing. */
    case OID_DATE: return &date;
    case OID_TIME: return &time;
    case OID_TIMESTAMP: return &datetime;
    case OID_TIMESTAMPTZ: return &timestamp;
    case OID_INTERVAL: return &interval;
    /* Arrays of the types above, in either format, one dimension. */
#define ARRAY_CASE(name, oid, elem_oid, calx_t)                                         \
    case oid: {                                                                         \
        static const pg_codec codec = { text_array_##name, bin_array_##name };          \
        return &codec;                                                                  \
    }
    PG_ARRAYS(ARRAY_CASE)
#undef ARRAY_CASE
    default: return &codec_text_only;
    }
}

static pg_decode_fn text_decoder(Oid type)
{
    return codec_for(type)->text;
}

static pg_decode_fn binary_decoder(Oid type)
{
    return codec_for(type)->binary;
}

pg_fmt calx__pg_rows_format(const PGresult *res)
{
    int nf = PQnfields(res);
    for (int i = 0; i < nf; i++)
        if (!codec_for(PQftype(res, i))->binary)
            return PG_FMT_TEXT;
    return PG_FMT_BINARY;
}

/* Rows changed by a command, from its tag ("INSERT 0 5", "UPDATE 3"), or
 * -1 for one that changes none. */
static int64_t changed_rows(const PGresult *res)
{
    const char *tag = PQcmdStatus((PGresult *)res);
    if (!tag || !(calx__sql_starts_with_word(tag, "INSERT") || calx__sql_starts_with_word(tag, "UPDATE") ||
                  calx__sql_starts_with_word(tag, "DELETE") || calx__sql_starts_with_word(tag, "MERGE")))
        return -1;
    return strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
}

/* The decoder of column col of res, in the format its values came in;
 * NULL for a binary column of a type without a binary decoder. */
static pg_decode_fn column_decoder(const PGresult *res, int col)
{
    const pg_codec *codec = codec_for(PQftype(res, col));
    return PQfformat(res, col) == 1 ? codec->binary : codec->text;
}

/* A binary date, time or array calx does not hold, spelt for an error message
 * into buf (n bytes): "infinity", "10000-01-01", "4714-11-24 BC",
 * "24:00:00". */
static void describe_binary(Oid type, const char *s, size_t len, char *buf, size_t n)
{
    int64_t us = 0, day = 0;
    bool has_day = false, has_time = false;
    switch (type) {
    case OID_DATE:
        if (len == 4) {
            int32_t d = (int32_t)be32(s);
            if (d == INT32_MAX || d == INT32_MIN) {
                snprintf(buf, n, "%sinfinity", d < 0 ? "-" : "");
                return;
            }
            day = d + PG_EPOCH_DAYS;
            has_day = true;
        }
        break;
    case OID_TIME:
        if (len == 8) {
            us = (int64_t)be64(s);
            has_time = us >= 0;
        }
        break;
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ:
        if (len == 8) {
            int64_t t = (int64_t)be64(s);
            if (t == INT64_MAX || t == INT64_MIN) {
                snprintf(buf, n, "%sinfinity", t < 0 ? "-" : "");
                return;
            }
            /* Floored, so that a time before 2000 has its own date. */
            day = t / CALX__USEC_PER_DAY - (t % CALX__USEC_PER_DAY < 0);
            us = t - day * CALX__USEC_PER_DAY;
            day += PG_EPOCH_DAYS;
            has_day = has_time = true;
        }
        break;
    case OID_INTERVAL:
        if (len == 16) {
            snprintf(buf, n, "%sinfinity", (int64_t)be64(s) < 0 ? "-" : "");
            return;
        }
        break;
    default: {
        calx_type elem;
        if (array_elem(type, &elem) && len >= 4) {
            int32_t ndim = (int32_t)be32(s);
            if (ndim > 1)
                snprintf(buf, n, "(an array of %d dimensions)", (int)ndim);
            else
                snprintf(buf, n, "(an array with an element calx cannot hold)");
            return;
        }
        break;
    }
    }
    if (!has_day && !has_time) {
        snprintf(buf, n, "(%zu bytes)", len);
        return;
    }
    int64_t y = 0;
    unsigned m = 0, d = 0;
    if (has_day)
        calx__civil_from_days(day, &y, &m, &d);
    char date[48] = "", clock[32] = "";
    if (has_day)   /* year 0 is 1 BC, as PostgreSQL counts */
        snprintf(date, sizeof date, "%04lld-%02u-%02u%s", (long long)(y > 0 ? y : 1 - y), m, d,
                 has_time ? " " : "");
    if (has_time)
        snprintf(clock, sizeof clock, "%02lld:%02lld:%02lld.%06lld",
                 (long long)(us / 3600000000), (long long)(us / 60000000 % 60),
                 (long long)(us / 1000000 % 60), (long long)(us % 1000000));
    snprintf(buf, n, "%s%s%s%s", date, clock, has_day && y <= 0 ? " BC" : "",
             type == OID_TIMESTAMPTZ ? " UTC" : "");
}

/* A column type's name in an error message. */
static const char *pg_type_name(Oid type)
{
    switch (type) {
    case OID_DATE: return "date";
    case OID_TIME: return "time";
    case OID_TIMESTAMP: return "timestamp";
    case OID_TIMESTAMPTZ: return "timestamptz";
    case OID_INTERVAL: return "interval";
    default: {
        calx_type elem;
        return array_elem(type, &elem) ? "array" : "value";
    }
    }
}

/* The error for a value the decoder found outside calx's types: the
 * column, the type and the value (its text, or its binary form spelt). */
static int out_of_range(const PGresult *res, int row, int col, calx_error *err)
{
    Oid type = PQftype(res, col);
    const char *s = PQgetvalue(res, row, col);
    size_t len = (size_t)PQgetlength(res, row, col);
    char shown[96];
    if (PQfformat(res, col) == 1)
        describe_binary(type, s, len, shown, sizeof shown);
    else
        snprintf(shown, sizeof shown, "%.*s%s", (int)(len < 80 ? len : 80), s,
                 len > 80 ? "..." : "");
    calx_type elem;
    bool array = array_elem(type, &elem) != 0;
    return calx_error_set(err, CALX_ERR_DATA,
                          "column \"%s\" holds the %s '%s', which calx cannot hold (%s)",
                          PQfname(res, col), pg_type_name(type), shown,
                          array ? "its arrays have one dimension and elements of one type: "
                                  "no numeric NaN or infinity, dates of years 1-9999"
                                : "its dates are of years 1-9999, with no infinity, and its "
                                  "times of day below 24:00; a date or time read as text must "
                                  "be in DateStyle ISO and IntervalStyle postgres");
}

/* The rowset's hold on a result (calx__rowset_hold). */
static void clear_result(void *res)
{
    PQclear(res);
}

static const char *column_name(void *res, size_t i)
{
    return PQfname(res, (int)i);
}

/* Whether rs's column names are res's. */
static bool same_names(const calx_rowset *rs, const PGresult *res, int nf)
{
    if (rs->ncols != (size_t)nf)
        return false;
    for (int i = 0; i < nf; i++)
        if (strcmp(rs->colnames[i], PQfname(res, i)) != 0)
            return false;
    return true;
}

/* A new rowset for res's nf columns, named by the statement's shared names
 * (made from res when *names is NULL), or by copies of res's names when
 * there is no statement to keep them (names NULL). The kept names are
 * compared with res's each time, a strcmp a column (a prepared statement's
 * result types cannot change under it, but a server may let a renamed
 * column through); names that differ are made again. NULL on no memory. */
static calx_rowset *rowset_for(PGresult *res, int nf, calx_colnames **names)
{
    calx_rowset *rs;
    if (names && nf > 0) {
        rs = *names ? calx__rowset_new_named(*names) : NULL;
        if (rs && same_names(rs, res, nf))
            return rs;
        calx__rowset_free(rs);
        calx__colnames_release(*names);
        *names = calx__colnames_new((size_t)nf, column_name, res);
        if (*names && (rs = calx__rowset_new_named(*names)))
            return rs;
    }
    rs = calx__rowset_new((size_t)nf);
    for (int i = 0; rs && i < nf; i++)
        if (calx__rowset_set_colname(rs, (size_t)i, PQfname(res, i)) != 0) {
            calx__rowset_free(rs);
            rs = NULL;
        }
    return rs;
}

int calx__pg_add_rows(calx_rowset **slot, PGresult *res, calx_colnames **names, bool *kept,
                      calx_error *err)
{
    *kept = false;
    calx_rowset *rs = *slot;
    int nf = PQnfields(res);
    if (!rs || (rs->ncols == 0 && rs->nrows == 0 && nf > 0)) {
        calx_rowset *fresh = rowset_for(res, nf, names);
        if (!fresh)
            goto nomem;
        if (rs) {
            fresh->rowcount = rs->rowcount;
            calx__rowset_free(rs);
        }
        rs = *slot = fresh;
    }
    /* SQLite's rule: -1 for a statement that only reads, else the sum of
     * the rows changed (0 for DDL). */
    int64_t changed = changed_rows(res);
    if (changed >= 0)
        rs->rowcount = (rs->rowcount < 0 ? 0 : rs->rowcount) + changed;
    else if (PQresultStatus(res) == PGRES_COMMAND_OK && rs->rowcount < 0)
        rs->rowcount = 0;
    if ((size_t)nf != rs->ncols)
        return 0;  /* a parameter set whose result has other columns: none to add */
    int nt = PQntuples(res);
    /* Room for the result's rows at once (a FETCH's 1,000 rows grew by
     * doubling: 80 reallocs of a B2 load, each a copy of the rows so far),
     * twice the room at least, since an execute-many adds a result of a
     * row or two per parameter set. */
    size_t need = rs->nrows + (size_t)nt;
    if (need > rs->cap && calx__rowset_reserve(rs, need > 2 * rs->cap ? need : 2 * rs->cap))
        goto nomem;
    enum { NDEC = 64 };
    pg_decode_fn decs[NDEC];
    bool in_place = false;
    for (int i = 0; i < nf && i < NDEC; i++) {
        decs[i] = column_decoder(res, i);
        in_place |= decs[i] == text_as_is || decs[i] == bin_text;
    }
    /* A text column's values are read where libpq put them (NUL-ended in
     * either format), not copied: the rowset holds res until its rows go.
     * Only here, where the bytes are res's: the decoders are also given
     * bytes of their own (an array's elements). */
    if (in_place && nt > 0) {
        if (calx__rowset_hold(rs, res, clear_result))
            goto nomem;
        *kept = true;
    }
    for (int r = 0; r < nt; r++) {
        calx_value *row = calx__rowset_add_row(rs);
        if (!row)
            goto nomem;
        for (int col = 0; col < nf; col++) {
            /* A NULL's length is 0, so only an empty value needs
             * PQgetisnull: one libpq call less a value (each checks its
             * row and column numbers). */
            size_t len = (size_t)PQgetlength(res, r, col);
            if (len == 0 && PQgetisnull(res, r, col))
                continue;  /* the row starts all NULL */
            const char *s = PQgetvalue(res, r, col);
            pg_decode_fn fn = col < NDEC ? decs[col] : column_decoder(res, col);
            if (*kept && col < NDEC && (fn == text_as_is || fn == bin_text)) {
                if (fn == bin_text && len && memchr(s, 0, len))
                    return calx_error_set(err, CALX_ERR_INTERNAL,
                                          "PostgreSQL sent a malformed binary value of type %u "
                                          "in column \"%s\"", (unsigned)PQftype(res, col),
                                          PQfname(res, col));
                row[col] = (calx_value){ .type = CALX_TEXT, .u.s = { s, len } };
                continue;
            }
            pg_dec d = fn ? fn(rs, &row[col], s, len) : DEC_BAD;
            if (d == DEC_NOMEM)
                goto nomem;
            if (d == DEC_RANGE)
                return out_of_range(res, r, col, err);
            if (d == DEC_BAD)
                return calx_error_set(err, CALX_ERR_INTERNAL,
                                      "PostgreSQL sent a malformed binary value of type %u in "
                                      "column \"%s\"", (unsigned)PQftype(res, col),
                                      PQfname(res, col));
        }
    }
    return 0;
nomem:
    return calx_error_set(err, CALX_ERR_NOMEM, "out of memory reading a row");
}
