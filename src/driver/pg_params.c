/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: parameters, how calx values become what libpq
 * sends.
 *
 * Parameters go with the type calx knows: int8, float8, bool and bytea in
 * binary format (no formatting here, no parsing on the server), text and
 * NULL as "unknown" in text format, typed by the server from context (a
 * binary "unknown" would be read by whatever type the server infers, and
 * text bytes are the same in either format), an ARRAY as its array input
 * text, typed by the server as well. Every parameter of a request is checked before
 * anything is queued, so that a bad value fails the request with nothing
 * sent. It is a file of its own so that how a value is sent is decided in
 * one place: another format or type changes this file, not the pipeline
 * that queues what it lays out. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/value_int.h"
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

static size_t array_text_size(const calx_value *v);

/* An ARRAY parameter calx can send: elements of its type or NULL, texts
 * without NUL bytes, and its text form within PostgreSQL's 1 GB. */
static bool array_ok(pg_conn *c, const calx_value *v, size_t at)
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
        if (e->type == CALX_TEXT && e->u.s.len && memchr(e->u.s.ptr, 0, e->u.s.len)) {
            calx__pg_failf(c, CALX_ERR_DATA,
                           "PostgreSQL text cannot contain a NUL byte (parameter %zu, array "
                           "element %zu)", at, i + 1);
            return false;
        }
    }
    if (array_text_size(v) > INT32_MAX) {
        calx__pg_failf(c, CALX_ERR_DATA, "parameter %zu is larger than PostgreSQL takes (1 GB)",
                       at);
        return false;
    }
    return true;
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
            if (v->type == CALX_ARRAY && !array_ok(c, v, k % st->nparams + 1))
                return false;
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
 * (RICH_TEXT_SIZE bytes); returns its type's OID. An instant goes with
 * its offset (+00:00), so the session's TimeZone never shifts it. */
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

/* ---- arrays ----
 *
 * An ARRAY goes as PostgreSQL's array input text, {"1","2",NULL}: every
 * element that is not NULL double-quoted, its " and \ escaped with a
 * backslash (array_in accepts a quoted number, date or decimal as well as
 * a bare one, and no text is then mistaken for NULL or cut at a comma or
 * brace). Its type is left to the server (OID 0), as a text's is: an
 * int8[] would meet an INTEGER[] column's @> and && with no operator
 * (PostgreSQL coerces no array to a narrower one), so the column's own
 * array type is taken from context; a statement without one needs a CAST. */

/* Room for an element's text, unquoted: a text's bytes, each possibly
 * escaped; any other value's form. */
#define SCALAR_TEXT_SIZE (RICH_TEXT_SIZE > 32 ? RICH_TEXT_SIZE : 32)

/* Room for v's array text and its NUL. */
static size_t array_text_size(const calx_value *v)
{
    size_t n = 3;
    for (size_t i = 0; i < v->u.array.n; i++) {
        const calx_value *e = &v->u.array.items[i];
        n += 3 + (e->type == CALX_TEXT ? 2 * e->u.s.len : SCALAR_TEXT_SIZE);
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
            snprintf(out, SCALAR_TEXT_SIZE, "%.17g", e->u.d);
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
        if (e->type == CALX_TEXT) {
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

/* Writes v into p in network byte order. */
static void put_be64(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (char)(v & 0xff);
}

/* Lays one parameter set out as libpq takes it: int8, float8, bool and
 * bytea in binary, text NUL-ended in text format, the richer types as
 * their input text with their OIDs. */
bool calx__pg_bind_set(pg_conn *c, const calx_value *vals, size_t n)
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
        case CALX_ARRAY:
            need += array_text_size(&vals[i]);
            break;
        default:
            if (calx__value_is_rich(&vals[i]))
                need += RICH_TEXT_SIZE;
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
        c->plens[i] = 0;
        c->pfmts[i] = 0;
        c->ptypes[i] = 0;
        switch (v->type) {
        case CALX_INT:
            c->ptypes[i] = OID_INT8;
            c->pfmts[i] = 1;
            c->plens[i] = 8;
            c->pvals[i] = p;
            put_be64(p, (uint64_t)v->u.i);
            p += 8;
            break;
        case CALX_REAL: {
            /* float8send's bits; a NaN as the text path's "NaN" reads
             * (PostgreSQL's one NaN, positive). */
            double d = isnan(v->u.d) ? (double)NAN : v->u.d;
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            c->ptypes[i] = OID_FLOAT8;
            c->pfmts[i] = 1;
            c->plens[i] = 8;
            c->pvals[i] = p;
            put_be64(p, bits);
            p += 8;
            break;
        }
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
            c->ptypes[i] = rich_text(v, p);
            c->pvals[i] = p;
            p += strlen(p) + 1;
            break;
        case CALX_ARRAY:
            c->pvals[i] = p;   /* type unknown: the context's array type */
            p += array_text(v, p) + 1;
            break;
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
