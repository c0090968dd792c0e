/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the PostgreSQL driver's value decoding
 * (src/driver/pg_result.c): the codecs by column type (codec_for), which
 * turn one value, text or binary format, into a calx value. They are
 * static and need no PGresult, so this file includes pg_result.c itself
 * and calls them straight, with the bytes libpq would hand over
 * (PQgetvalue: a C string in text format, any bytes and a length in
 * binary) and a type OID. The same bytes go to calx__pg_errcode as an
 * SQLSTATE.
 *
 * The first input byte picks the format (its top bit: binary) and the type
 * OID (the ones decoded specially, text, or the byte itself as an unknown
 * OID); the rest is the value, in text format up to a NUL as PQgetvalue's
 * would be. Properties: no crash, leak or undefined behaviour; a value has
 * the calx type the column type maps to (a date or time never text, an
 * array's elements all of its element type); text comes back byte for
 * byte; a well-formed hex bytea decodes to its bytes; a binary value is
 * decoded or refused (DEC_BAD, or DEC_RANGE for a date calx cannot hold),
 * and a decoded binary numeric or uuid reads as the server's text would
 * (digits, one point, one leading minus). A broken
 * property is an abort, so libFuzzer keeps the input. */
#include "driver/pg_result.c"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

/* What pg_result.c's codecs do for one text-format value. */
static bool decode_value(calx_rowset *rs, calx_value *v, Oid type, const char *s, size_t len)
{
    return codec_for(type)->text(rs, v, s, len) == DEC_OK;
}

static void broken(const char *what, Oid type, const char *s)
{
    fprintf(stderr, "pg value property broken: %s\n  type %u, value '%s'\n", what,
            (unsigned)type, s);
    abort();
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* A hex bytea with only hex digits, in pairs, must decode to its bytes. */
static void check_hex(const calx_value *v, Oid type, const char *s, size_t len)
{
    if (len % 2 != 0)
        return;
    for (size_t i = 2; i < len; i++)
        if (hex_digit((unsigned char)s[i]) < 0)
            return;
    for (size_t i = 0; i < v->u.s.len; i++) {
        int byte = hex_digit((unsigned char)s[2 + 2 * i]) * 16 +
                   hex_digit((unsigned char)s[3 + 2 * i]);
        if ((unsigned char)v->u.s.ptr[i] != byte)
            broken("a hex bytea decodes to other bytes", type, s);
    }
}

/* Whether calx type t is what a column type's values may become: its own
 * calx value, or text where a value has none (NaN, 'infinity', a number
 * past 38 digits). A date or time calx cannot hold is an error
 * (DEC_RANGE), never text; binary is never text where text has a value. */
static bool type_ok(Oid type, calx_type t, bool binary)
{
    switch (type) {
    case OID_BOOL: return t == CALX_BOOL;
    case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID: return t == CALX_INT;
    case OID_FLOAT4: case OID_FLOAT8: return t == CALX_REAL;
    case OID_BYTEA: return t == CALX_BLOB;
    case OID_JSON: case OID_JSONB: return t == CALX_JSON;
    case OID_NUMERIC: return t == CALX_DECIMAL || t == CALX_TEXT;
    case OID_UUID: return t == CALX_UUID || (t == CALX_TEXT && !binary);
    case OID_TIMESTAMPTZ: return t == CALX_TIMESTAMP;
    case OID_TIMESTAMP: return t == CALX_DATETIME;
    case OID_DATE: return t == CALX_DATE;
    case OID_TIME: return t == CALX_TIME;
    case OID_INTERVAL: return t == CALX_INTERVAL;
    default: {
        /* An array calx decodes, or in text format its text when the text
         * is no array calx knows. */
        calx_type elem;
        if (array_elem(type, &elem))
            return t == CALX_ARRAY || (t == CALX_TEXT && !binary);
        return t == CALX_TEXT;
    }
    }
}

/* An array is one calx takes (calx__value_ok: every element NULL or of its
 * element type), of the element type its column type maps to. */
static void check_array(const calx_value *v, Oid type, const char *s)
{
    calx_type elem;
    if (v->type != CALX_ARRAY)
        return;
    if (!array_elem(type, &elem) || v->elem != elem)
        broken("an array's element type is not its column type's", type, s);
    if (!calx__value_ok(v))
        broken("an array holds an element of another type", type, s);
}

/* Whether a value keeps its text's bytes (text, and JSON). */
static bool is_text(const calx_value *v)
{
    return v->type == CALX_TEXT || v->type == CALX_JSON;
}

static const Oid types[] = { OID_BOOL,  OID_BYTEA,   OID_INT8,   OID_INT2,    OID_INT4,
                             OID_OID,   OID_FLOAT4,  OID_FLOAT8, OID_TEXT,    OID_NUMERIC,
                             OID_UUID,  OID_JSONB,   OID_VARCHAR, OID_TIMESTAMPTZ,
                             OID_DATE,  OID_TIME,    OID_TIMESTAMP, OID_INTERVAL,
                             OID_INT4_ARRAY, OID_TEXT_ARRAY, OID_NUMERIC_ARRAY,
                             OID_DATE_ARRAY, OID_FLOAT8_ARRAY, OID_UUID_ARRAY };
#define NTYPES (sizeof types / sizeof *types)

/* One binary-format value: decoded or refused, never anything else. */
static void binary_case(Oid type, const char *s, size_t len)
{
    calx_rowset *rs = calx__rowset_new(1);
    calx_value *v = rs ? calx__rowset_add_row(rs) : NULL;
    pg_decode_fn fn = codec_for(type)->binary;
    pg_dec d = v && fn ? fn(rs, v, s, len) : DEC_BAD;
    if (d == DEC_OK) {
        if (!type_ok(type, v->type, true))
            broken("a binary value's calx type does not match the column type", type, "(binary)");
        check_array(v, type, "(binary)");
        if (is_text(v) && v->u.s.ptr[v->u.s.len] != '\0')
            broken("binary text is not NUL-terminated", type, "(binary)");
        if (is_text(v) && memchr(v->u.s.ptr, 0, v->u.s.len))
            broken("binary text holds a NUL", type, "(binary)");
        /* A numeric left as text is a NaN, an infinity, or digits past 38. */
        if (type == OID_NUMERIC && v->type == CALX_TEXT &&
            !isalpha((unsigned char)v->u.s.ptr[v->u.s.len ? v->u.s.len - 1 : 0])) {
            const char *p = v->u.s.ptr;
            size_t points = 0;
            if (*p == '-')
                p++;
            if (!isdigit((unsigned char)*p))
                broken("a binary numeric does not start with a digit", type, v->u.s.ptr);
            for (; *p; p++)
                if (*p == '.')
                    points++;
                else if (!isdigit((unsigned char)*p))
                    broken("a binary numeric holds other than digits", type, v->u.s.ptr);
            if (points > 1)
                broken("a binary numeric has two points", type, v->u.s.ptr);
        }
        /* A binary numeric decodes as its text (numeric_out's) parses. */
        if (type == OID_NUMERIC) {
            calx_value via_text = calx_null();
            if (bin_numeric_text(rs, &via_text, s, len) != DEC_OK ||
                (via_text.type == CALX_TEXT &&
                 text_decimal(rs, &via_text, via_text.u.s.ptr, via_text.u.s.len) != DEC_OK))
                broken("a binary numeric decodes but its text does not", type, "(binary)");
            if (via_text.type != v->type ||
                (v->type == CALX_DECIMAL &&
                 (via_text.scale != v->scale || via_text.u.dec.lo != v->u.dec.lo ||
                  via_text.u.dec.hi != v->u.dec.hi)))
                broken("a binary numeric differs from its text's decimal", type, "(binary)");
        }
        if (type == OID_UUID && v->type != CALX_UUID)
            broken("a binary uuid is not a UUID", type, "(binary)");
        if (type == OID_BYTEA && (v->u.s.len != len || memcmp(v->u.s.ptr, s, len) != 0))
            broken("a binary bytea does not come back byte for byte", type, "(binary)");
    }
    calx__rowset_free(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    Oid type = (data[0] & 0x7f) < NTYPES ? types[data[0] & 0x7f] : (Oid)(data[0] & 0x7f) + 1000;
    if (data[0] & 0x80) {
        binary_case(type, (const char *)data + 1, size - 1);
        return 0;
    }
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    size_t len = strlen(s);

    int code = calx__pg_errcode(s);
    if (code <= CALX_OK || code >= CALX_ERR__COUNT)
        broken("an SQLSTATE class outside calx's error codes", type, s);

    calx_rowset *rs = calx__rowset_new(1);
    calx_value *v = rs ? calx__rowset_add_row(rs) : NULL;
    if (v && decode_value(rs, v, type, s, len)) {
        if (!type_ok(type, v->type, false))
            broken("the value's calx type does not match the column type", type, s);
        check_array(v, type, s);
        if (is_text(v) && (v->u.s.len != len || memcmp(v->u.s.ptr, s, len) != 0))
            broken("text does not come back byte for byte", type, s);
        if (is_text(v) && v->u.s.ptr[len] != '\0')
            broken("text is not NUL-terminated", type, s);
        if (type == OID_BYTEA && len >= 2 && s[0] == '\\' && s[1] == 'x')
            check_hex(v, type, s, len);
    }
    calx__rowset_free(rs);
    free(s);
    return 0;
}
