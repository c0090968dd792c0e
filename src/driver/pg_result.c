/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: what results mean -- SQLSTATEs classified into
 * calx's error codes, and text-format values decoded into calx values by
 * column type.
 *
 * Results come in text format and are decoded by column type:
 * int2/int4/int8/oid -> INTEGER, float4/float8 -> REAL, bool -> BOOLEAN,
 * bytea -> BLOB, NULL -> NULL, and everything else TEXT in PostgreSQL's
 * own spelling -- numeric included, so that no digit of a decimal is lost.
 * (Binary result format would save the parsing; text keeps every type
 * readable.) */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The value type PostgreSQL's type `type` reads into, for the richer
 * types; CALX_NULL for the others. */
static calx_type rich_type(Oid type)
{
    switch (type) {
    case OID_NUMERIC: return CALX_DECIMAL;
    case OID_UUID: return CALX_UUID;
    case OID_DATE: return CALX_DATE;
    case OID_TIME: return CALX_TIME;
    case OID_TIMESTAMP: return CALX_DATETIME;
    case OID_TIMESTAMPTZ: return CALX_TIMESTAMP;
    case OID_INTERVAL: return CALX_INTERVAL;
    default: return CALX_NULL;
    }
}

/* A value of the richer types from PostgreSQL's text output (DateStyle
 * ISO, IntervalStyle postgres: the defaults). False when type is not one
 * of them or the text does not parse. */
static bool decode_rich(calx_value *v, Oid type, const char *s, size_t len)
{
    calx_type t = rich_type(type);
    return t != CALX_NULL && calx__value_parse(t, s, len, v, NULL) == 0;
}

/* Decodes one text-format value of column type `type` into v. */
static bool decode_value(calx_rowset *rs, calx_value *v, Oid type, const char *s, size_t len)
{
    switch (type) {
    case OID_BOOL:
        *v = calx_bool(s[0] == 't');
        return true;
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        *v = calx_int((int64_t)strtoll(s, NULL, 10));
        return true;
    case OID_FLOAT4:
    case OID_FLOAT8:
        *v = calx_real(strtod(s, NULL));
        return true;
    case OID_BYTEA:
        if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
            size_t n = (len - 2) / 2;
            char *dst = calx__rowset_alloc(rs, n);
            if (!dst)
                return false;
            for (size_t i = 0; i < n; i++) {
                unsigned hi = (unsigned char)s[2 + 2 * i], lo = (unsigned char)s[3 + 2 * i];
                hi = hi <= '9' ? hi - '0' : (hi | 0x20) - 'a' + 10;
                lo = lo <= '9' ? lo - '0' : (lo | 0x20) - 'a' + 10;
                dst[i] = (char)((hi << 4) | lo);
            }
            v->type = CALX_BLOB;
            v->u.s.ptr = dst;
            v->u.s.len = n;
            return true;
        } else {
            /* bytea_output = escape */
            size_t n = 0;
            unsigned char *raw = PQunescapeBytea((const unsigned char *)s, &n);
            if (!raw)
                return false;
            const char *copy = calx__rowset_copy(rs, raw, n);
            PQfreemem(raw);
            if (!copy)
                return false;
            v->type = CALX_BLOB;
            v->u.s.ptr = copy;
            v->u.s.len = n;
            return true;
        }
    default:
        /* The richer types parse into their values; what does not parse
         * (NUMERIC beyond 38 digits or NaN, 'infinity') stays text. */
        if (decode_rich(v, type, s, len))
            return true;
        {
            const char *copy = calx__rowset_copy(rs, s, len);
            if (!copy)
                return false;
            v->type = type == OID_JSON || type == OID_JSONB ? CALX_JSON : CALX_TEXT;
            v->u.s.ptr = copy;
            v->u.s.len = len;
            return true;
        }
    }
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

bool calx__pg_add_rows(calx_rowset **slot, const PGresult *res)
{
    calx_rowset *rs = *slot;
    int nf = PQnfields(res);
    if (!rs || (rs->ncols == 0 && rs->nrows == 0 && nf > 0)) {
        calx_rowset *fresh = calx__rowset_new((size_t)nf);
        if (!fresh)
            goto nomem;
        for (int i = 0; i < nf; i++)
            if (calx__rowset_set_colname(fresh, (size_t)i, PQfname(res, i)) != 0) {
                calx__rowset_free(fresh);
                goto nomem;
            }
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
        return true;  /* a parameter set whose result has other columns: none to add */
    int nt = PQntuples(res);
    Oid types[64];
    for (int i = 0; i < nf && i < 64; i++)
        types[i] = PQftype(res, i);
    for (int r = 0; r < nt; r++) {
        calx_value *row = calx__rowset_add_row(rs);
        if (!row)
            goto nomem;
        for (int col = 0; col < nf; col++) {
            if (PQgetisnull(res, r, col))
                continue;  /* the row starts all NULL */
            if (!decode_value(rs, &row[col], col < 64 ? types[col] : PQftype(res, col),
                              PQgetvalue(res, r, col), (size_t)PQgetlength(res, r, col)))
                goto nomem;
        }
    }
    return true;
nomem:
    return false;
}

