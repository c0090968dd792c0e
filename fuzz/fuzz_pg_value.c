/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the PostgreSQL driver's value decoding
 * (src/driver/pg_result.c): decode_value, which turns one text-format
 * value of a given column type into a calx value. It is static and needs
 * no PGresult, so this file includes pg_result.c itself and calls it
 * straight, with the bytes libpq would hand over (PQgetvalue: a C string)
 * and a type OID. The same bytes go to calx__pg_errcode as an SQLSTATE.
 *
 * The first input byte picks the type OID (the ones decoded specially,
 * text, or the byte itself as an unknown OID); the rest is the value, up
 * to a NUL as PQgetvalue's would be. Properties: no crash, leak or
 * undefined behaviour; the value has the calx type the column type maps
 * to; text comes back byte for byte; a well-formed hex bytea decodes to
 * its bytes. A broken property is an abort, so libFuzzer keeps the input. */
#include "driver/pg_result.c"

#include <stdint.h>
#include <stdio.h>

#define OID_TEXT 25

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const Oid types[] = { OID_BOOL, OID_BYTEA, OID_INT8, OID_INT2, OID_INT4,
                                 OID_OID, OID_FLOAT4, OID_FLOAT8, OID_TEXT };
    const size_t ntypes = sizeof types / sizeof *types;

    if (size == 0)
        return 0;
    Oid type = data[0] < ntypes ? types[data[0]] : (Oid)data[0] + 1000;
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
        calx_type want = CALX_TEXT;
        switch (type) {
        case OID_BOOL: want = CALX_BOOL; break;
        case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID: want = CALX_INT; break;
        case OID_FLOAT4: case OID_FLOAT8: want = CALX_REAL; break;
        case OID_BYTEA: want = CALX_BLOB; break;
        default: break;
        }
        if (v->type != want)
            broken("the value's calx type does not match the column type", type, s);
        if (want == CALX_TEXT && (v->u.s.len != len || memcmp(v->u.s.ptr, s, len) != 0))
            broken("text does not come back byte for byte", type, s);
        if (want == CALX_TEXT && v->u.s.ptr[len] != '\0')
            broken("text is not NUL-terminated", type, s);
        if (type == OID_BYTEA && len >= 2 && s[0] == '\\' && s[1] == 'x')
            check_hex(v, type, s, len);
    }
    calx__rowset_free(rs);
    free(s);
    return 0;
}
