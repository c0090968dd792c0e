/* SPDX-License-Identifier: MIT */
/* Results: a view over driver rowsets with SQLAlchemy's accessors, typed
 * getters, and chunked streaming.
 *
 * A NULL result or row is "no rows at all": the read-only accessors give
 * the empty answer (0 columns, no row, -1 for a column index) rather than
 * crash, because the natural code path after a failed or empty query hands
 * them NULL (calx_row_int(row, calx_row_col(row, "n")) on no row). Calls
 * that report errors say CALX_ERR_ARGUMENT instead. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calx/result.h"
#include "core/chars.h"
#include "core/nomem.h"
#include "core/number_text.h"
#include "core/value_int.h"
#include "core/zeroed.h"
#include "engine/engine_int.h"
#include "sql/user_type.h"

struct calx_row {
    const calx_result *r;
    const calx_value *vals;
};

struct calx_result {
    calx_rowset *rs;          /* the rows held; NULL when there are none */
    calx_rowset *rest;        /* a batch's later statements' rows */
    calx_row *rows;           /* one view per row held: &one_row, or allocated */
    size_t rows_cap;          /* views rows has room for */
    calx_row one_row;         /* the view of a one-row result (a get by key) */
    size_t pos;               /* the iteration */
    size_t chunk;             /* streaming: rows the next fetch asks for */
    size_t chunk_max;         /* ... growing to this many (connection.c) */
    calx_connection *conn;    /* streaming: set while more rows may come */
    int64_t rowcount;
    int64_t lastrowid;
    const calx_column **types; /* streaming: the columns' stored forms (owned) */
    size_t ntypes;
    /* The rowset whose arena holds this struct (calx__result_new), freed
     * last; NULL when the struct is malloc's. */
    calx_rowset *home;
};

/* *v, made by a conversion, copied into rs where it lives elsewhere:
 * bytes when copy_bytes or when they are in scratch (the dialect's text),
 * an array's items when they moved from old_items (the dialect's array,
 * in its room; its elements are C values, never bytes). */
static int keep_in_rows(calx_rowset *rs, calx_value *v, bool copy_bytes, const char *scratch,
                        const calx_value *old_items, calx_error *err)
{
    if (calx__value_is_bytes(v) && (copy_bytes || v->u.s.ptr == scratch)) {
        const char *copy = calx__rowset_copy(rs, v->u.s.ptr, v->u.s.len);
        if (!copy)
            return calx__nomem(err, "reading a result");
        v->u.s.ptr = copy;
    } else if (v->type == CALX_ARRAY && v->u.array.items != old_items) {
        calx_value *items = calx__rowset_alloc_values(rs, v->u.array.n);
        if (!items)
            return calx__nomem(err, "reading a result");
        if (v->u.array.n)
            memcpy(items, v->u.array.items, v->u.array.n * sizeof *items);
        v->u.array.items = items;
    }
    return 0;
}

/* Column k of a row made the column's type: the dialect's stored_value,
 * then a user type's result; what they made copied into rs. */
static int convert_value(const calx_dialect *d, const calx_column *c, calx_rowset *rs,
                         calx_value *v, calx_error *err)
{
    char scratch[CALX_BIND_SCRATCH_SIZE];
    calx_type_scratch room;
    calx__type_scratch_init(&room);
    const calx_value *old_items = v->type == CALX_ARRAY ? v->u.array.items : NULL;
    int rc = d->stored_value ? d->stored_value(c, v, scratch, &room, err) : 0;
    if (!rc && c->user_type)
        rc = calx__user_type_result(c, v, &room, err);
    if (!rc)
        rc = keep_in_rows(rs, v, c->user_type != NULL, scratch, old_items, err);
    calx__type_scratch_done(&room);
    return rc;
}

int calx__rowset_convert(const calx_dialect *d, const calx_column *const *types,
                         size_t ntypes, calx_rowset *rs, calx_error *err)
{
    if (!types || !rs)
        return 0;
    size_t n = ntypes < rs->ncols ? ntypes : rs->ncols;
    for (size_t i = 0; i < rs->nrows; i++) {
        calx_value *row = rs->vals + i * rs->ncols;
        for (size_t k = 0; k < n; k++) {
            int rc;
            if (types[k] && (rc = convert_value(d, types[k], rs, &row[k], err)))
                return rc;
        }
    }
    return 0;
}

void calx__result_keep_types(calx_result *r, const calx_column **types, size_t n)
{
    free(r->types);
    r->types = types;
    r->ntypes = n;
}

const calx_column *const *calx__result_types(const calx_result *r, size_t *n)
{
    *n = r->ntypes;
    return r->types;
}

static void drop_rows(calx_result *r)
{
    if (r->rows != &r->one_row)
        free(r->rows);
    r->rows = NULL;
    r->rows_cap = 0;
}

/* Room for n row views: a result made for a batch or a stream takes room
 * for its largest set or chunk at once (calx__result_new), so that moving
 * to the next one never needs memory it could fail to get. */
static int reserve_rows(calx_result *r, size_t n)
{
    if (n <= r->rows_cap)
        return 0;
    calx_row *rows = n == 1 ? &r->one_row : malloc(n * sizeof *rows);
    if (!rows)
        return -1;
    drop_rows(r);
    r->rows = rows;
    r->rows_cap = n;
    return 0;
}

static int index_rows(calx_result *r)
{
    r->pos = 0;
    size_t n = r->rs ? r->rs->nrows : 0;
    if (n == 0)
        return 0;
    if (reserve_rows(r, n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        r->rows[i].r = r;
        r->rows[i].vals = r->rs->vals + i * r->rs->ncols;
    }
    return 0;
}

/* Frees rs unless r lives in it (home, freed last by calx_result_free). */
static void free_rows(calx_result *r, calx_rowset *rs)
{
    if (rs != r->home)
        calx__rowset_free(rs);
}

calx_result *calx__result_new(calx_rowset *rs, calx_connection *stream_conn, size_t fetch_rows,
                              size_t fetch_max)
{
    /* A result whose rows are all here lives in its rowset's arena when
     * the block being filled has room (a get by key's has): one malloc and
     * one free less per statement. A stream's first rowset is freed when
     * the next chunk comes, so its result is malloc's. */
    calx_result *r = rs && !stream_conn ? calx__rowset_room(rs, sizeof *r) : NULL;
    if (r) {
        memset(r, 0, sizeof *r);
        r->home = rs;
    } else if (!(r = calx__alloc_zeroed(sizeof *r))) {
        calx__rowset_free(rs);
        return NULL;
    }
    /* One statement at a time: a batch's later rowsets wait in rest. */
    if (rs && rs->next) {
        r->rest = rs->next;
        rs->next = NULL;
    }
    r->rs = rs;
    r->rowcount = rs ? rs->rowcount : -1;
    r->lastrowid = rs ? rs->lastrowid : 0;
    r->conn = stream_conn;
    r->chunk = fetch_rows ? fetch_rows : rs && rs->nrows ? rs->nrows : 1000;
    r->chunk_max = fetch_max > r->chunk ? fetch_max : r->chunk;
    size_t most = stream_conn ? r->chunk_max : 0;
    for (const calx_rowset *s = rs; s; s = s == rs ? r->rest : s->next)
        most = s->nrows > most ? s->nrows : most;
    if (reserve_rows(r, most) != 0 || index_rows(r) != 0) {
        drop_rows(r);
        calx__rowset_free(r->rest);
        if (!r->home)
            free(r);
        calx__rowset_free(rs);
        return NULL;
    }
    return r;
}

bool calx_result_nextset(calx_result *r)
{
    if (!r || !r->rest)
        return false;
    calx_rowset *next = r->rest;
    r->rest = next->next;
    next->next = NULL;
    free_rows(r, r->rs);  /* the home stays, rows and all, until the result goes */
    r->rs = next;
    r->rowcount = next->rowcount;
    r->lastrowid = next->lastrowid;
    r->chunk = next->nrows ? next->nrows : 1000;
    if (index_rows(r) != 0)
        next->nrows = 0; /* out of memory: show no rows rather than bad ones */
    return true;
}

calx_rowset *calx__result_set_chunk(calx_result *r, calx_rowset *rs)
{
    calx_rowset *spent = NULL;
    if (rs && r->rs && rs != r->rs) {
        if (r->rs != r->home)
            spent = r->rs;
        r->rs = rs;
    } else if (rs) {
        r->rs = rs;
    }
    if (index_rows(r) != 0 && r->rs)
        r->rs->nrows = 0; /* out of memory: show no rows rather than bad ones */
    return spent;
}

void calx__result_detach(calx_result *r)
{
    r->conn = NULL;
}

void calx_result_free(calx_result *r)
{
    if (!r)
        return;
    if (r->conn)
        calx__conn_stream_done(r->conn, true);
    free_rows(r, r->rs);
    calx__rowset_free(r->rest);
    drop_rows(r);
    free(r->types);
    if (r->home)
        calx__rowset_free(r->home);  /* r with it */
    else
        free(r);
}

size_t calx_result_ncols(const calx_result *r)
{
    return r && r->rs ? r->rs->ncols : 0;
}

const char *calx_result_colname(const calx_result *r, size_t i)
{
    return i < calx_result_ncols(r) ? r->rs->colnames[i] : NULL;
}

int calx_result_colindex(const calx_result *r, const char *name)
{
    for (size_t i = 0; name && i < calx_result_ncols(r); i++)
        if (strcmp(r->rs->colnames[i], name) == 0)
            return (int)i;
    return -1;
}

int64_t calx_result_rowcount(const calx_result *r)
{
    return r ? r->rowcount : -1;
}

int64_t calx_result_lastrowid(const calx_result *r)
{
    return r ? r->lastrowid : 0;
}

size_t calx_result_nrows(const calx_result *r)
{
    return r && r->rs ? r->rs->nrows : 0;
}

const calx_row *calx_result_row(const calx_result *r, size_t i)
{
    return i < calx_result_nrows(r) ? &r->rows[i] : NULL;
}

const calx_row *calx_result_next(calx_result *r)
{
    if (!r || r->pos >= calx_result_nrows(r))
        return NULL;
    return &r->rows[r->pos++];
}

const calx_row *calx__result_ahead(const calx_result *r, size_t k)
{
    return r && r->pos ? calx_result_row(r, r->pos - 1 + k) : NULL;
}

bool calx_result_more(const calx_result *r)
{
    return r && r->conn != NULL;
}

/* The error of a call that needs a result and was given NULL. */
static int no_result(calx_error *err, const char *call)
{
    return calx_error_set(err, CALX_ERR_ARGUMENT, "%s was given a NULL result "
                          "(check the error of the call that should have made it)",
                          call);
}

calx_future *calx_result_fetch(calx_result *r, calx_error *err)
{
    if (!r) {
        no_result(err, "calx_result_fetch");
        return NULL;
    }
    if (!r->conn) {
        calx_error_set(err, CALX_ERR_STATE, "the result has no more rows to fetch");
        return NULL;
    }
    /* The driver reads ahead what the next fetch will ask for. */
    size_t rows = r->chunk, next = calx__next_chunk(rows, r->chunk_max);
    calx_future *f = calx__conn_fetch(r->conn, r, rows, next, err);
    if (f)
        r->chunk = next;
    return f;
}

int calx_result_anext(calx_result *r, const calx_row **row, calx_error *err)
{
    if (!r) {
        *row = NULL;
        return no_result(err, "calx_result_anext");
    }
    for (;;) {
        *row = calx_result_next(r);
        if (*row || !r->conn)
            return 0;
        int rc = calx_await(calx_result_fetch(r, err), NULL, err);
        if (rc)
            return rc;
    }
}

const calx_row *calx_result_first(const calx_result *r)
{
    return calx_result_row(r, 0);
}

int calx_result_one_or_none(const calx_result *r, const calx_row **row, calx_error *err)
{
    size_t n = calx_result_nrows(r);
    *row = NULL;
    if (!r)
        return no_result(err, "calx_result_one_or_none");
    if (n > 1 || (n == 1 && r->conn))
        return calx_error_set(err, CALX_ERR_MULTIPLE_RESULTS,
                              "Multiple rows were found when one or none was required");
    *row = calx_result_row(r, 0);
    return 0;
}

int calx_result_one(const calx_result *r, const calx_row **row, calx_error *err)
{
    size_t n = calx_result_nrows(r);
    *row = NULL;
    if (!r)
        return no_result(err, "calx_result_one");
    if (n == 0)
        return calx_error_set(err, CALX_ERR_NO_RESULT,
                              "No row was found when one was required");
    if (n > 1 || r->conn)
        return calx_error_set(err, CALX_ERR_MULTIPLE_RESULTS,
                              "Multiple rows were found when exactly one was required");
    *row = calx_result_row(r, 0);
    return 0;
}

calx_value calx_result_scalar(const calx_result *r)
{
    const calx_row *row = calx_result_first(r);
    if (!row || calx_result_ncols(r) == 0)
        return calx_null();
    return row->vals[0];
}

int calx_result_scalar_one(const calx_result *r, calx_value *out, calx_error *err)
{
    const calx_row *row;
    if (!r)
        return no_result(err, "calx_result_scalar_one");
    int rc = calx_result_one(r, &row, err);
    if (rc)
        return rc;
    if (calx_result_ncols(r) == 0)
        return calx_error_set(err, CALX_ERR_NO_RESULT, "the result has no columns");
    *out = row->vals[0];
    return 0;
}

/* ---- getters ---- */

static const calx_value null_value;

int calx_row_col(const calx_row *row, const char *name)
{
    return row ? calx_result_colindex(row->r, name) : -1;
}

const calx_value *calx_row_value(const calx_row *row, int col)
{
    if (!row || col < 0 || (size_t)col >= calx_result_ncols(row->r))
        return &null_value;
    return &row->vals[col];
}

bool calx_row_isnull(const calx_row *row, int col)
{
    return calx_row_value(row, col)->type == CALX_NULL;
}

/* A real as an int64, truncated toward zero. Converting a double that int64
 * cannot hold is undefined in C, so those saturate (as Rust's "as" and
 * numpy's clip do) and NaN, which has no integer at all, gives 0. */
static int64_t real_to_int(double d)
{
    /* 2^63: the first double past INT64_MAX; -2^63 itself converts exactly. */
    const double two_63 = 9223372036854775808.0;

    if (isnan(d))
        return 0;
    if (d >= two_63)
        return INT64_MAX;
    if (d < -two_63)
        return INT64_MIN;
    return (int64_t)d;
}

/* A text that is a decimal number and nothing else ("48.0000000000000000",
 * "-12", "1e3"), as PostgreSQL's NUMERIC arrives (the driver keeps it exact
 * as text: avg(), sum() of a BIGINT, numeric columns): true with its
 * nearest double in *d, and with *i when it is an integer that fits. */
static bool numeric_text(const calx_value *v, double *d, int64_t *i, bool *is_int)
{
    char buf[401];
    if (v->type == CALX_DECIMAL) {
        /* A decimal's text: its nearest double, or its integer. */
        calx_decimal_format(calx_value_get_decimal(v), buf, sizeof buf);
    } else {
        if (v->type != CALX_TEXT || !v->u.s.ptr || v->u.s.len == 0 || v->u.s.len > 400)
            return false;
        memcpy(buf, v->u.s.ptr, v->u.s.len);
        buf[v->u.s.len] = '\0';
    }
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n')
        return false;
    char *end;
    errno = 0;
    long long n = strtoll(buf, &end, 10);
    *is_int = *end == '\0' && errno == 0;
    if (*is_int) {
        *i = n;
        *d = (double)n;
        return true;
    }
    *d = calx__text_double(buf, &end);
    /* "nan" and "inf" are text to SQL, not numbers that came back. */
    return *end == '\0' && (calx__ascii_is_digit(buf[0]) || buf[0] == '-' || buf[0] == '+' ||
                             buf[0] == '.');
}

int64_t calx_row_int(const calx_row *row, int col)
{
    const calx_value *v = calx_row_value(row, col);
    double d;
    int64_t i;
    bool is_int;
    switch (v->type) {
    case CALX_INT: return v->u.i;
    case CALX_BOOL: return v->u.b;
    case CALX_REAL: return real_to_int(v->u.d);
    case CALX_TEXT:
    case CALX_DECIMAL:
        if (numeric_text(v, &d, &i, &is_int))
            return is_int ? i : real_to_int(d);
        return 0;
    default: return 0;
    }
}

double calx_row_real(const calx_row *row, int col)
{
    const calx_value *v = calx_row_value(row, col);
    double d;
    int64_t i;
    bool is_int;
    switch (v->type) {
    case CALX_REAL: return v->u.d;
    case CALX_INT: return (double)v->u.i;
    case CALX_BOOL: return v->u.b;
    case CALX_TEXT:
    case CALX_DECIMAL: return numeric_text(v, &d, &i, &is_int) ? d : 0.0;
    default: return 0.0;
    }
}

bool calx_row_bool(const calx_row *row, int col)
{
    const calx_value *v = calx_row_value(row, col);
    switch (v->type) {
    case CALX_BOOL: return v->u.b;
    case CALX_INT: return v->u.i != 0;
    case CALX_REAL: return v->u.d != 0.0;
    default: return false;
    }
}

const char *calx_row_text(const calx_row *row, int col)
{
    const calx_value *v = calx_row_value(row, col);
    return calx__value_is_bytes(v) ? v->u.s.ptr : NULL;
}

const void *calx_row_blob(const calx_row *row, int col, size_t *len)
{
    const calx_value *v = calx_row_value(row, col);
    bool bytes = calx__value_is_bytes(v);
    if (len)
        *len = bytes ? v->u.s.len : 0;
    return bytes ? v->u.s.ptr : NULL;
}

/* The strict getters: NULL or another type is an error naming the column. */
static int want(const calx_row *row, int col, calx_type t, const calx_value **out,
                calx_error *err)
{
    if (!row)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "no row to read column %d "
                              "from (the result had no row)", col);
    const calx_value *v = calx_row_value(row, col);
    const char *name = calx_result_colname(row->r, col < 0 ? (size_t)-1 : (size_t)col);
    if (!name)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "no column %d in this row", col);
    if (v->type == t || (t == CALX_BOOL && v->type == CALX_INT) ||
        (t == CALX_REAL && v->type == CALX_INT)) {
        *out = v;
        return 0;
    }
    return calx_error_set(err, CALX_ERR_TYPE, "column '%s' is %s, not %s", name,
                          calx_type_name(v->type), calx_type_name(t));
}

int calx_row_get_int(const calx_row *row, int col, int64_t *out, calx_error *err)
{
    const calx_value *v = NULL;
    int rc = want(row, col, CALX_INT, &v, err);
    if (rc == 0)
        *out = v->u.i;
    return rc;
}

int calx_row_get_real(const calx_row *row, int col, double *out, calx_error *err)
{
    const calx_value *v = NULL;
    int rc = want(row, col, CALX_REAL, &v, err);
    if (rc == 0)
        *out = v->type == CALX_INT ? (double)v->u.i : v->u.d;
    return rc;
}

int calx_row_get_bool(const calx_row *row, int col, bool *out, calx_error *err)
{
    const calx_value *v = NULL;
    int rc = want(row, col, CALX_BOOL, &v, err);
    if (rc == 0)
        *out = v->type == CALX_INT ? v->u.i != 0 : v->u.b;
    return rc;
}

int calx_row_get_text(const calx_row *row, int col, const char **out, calx_error *err)
{
    const calx_value *v = NULL;
    int rc = want(row, col, CALX_TEXT, &v, err);
    if (rc == 0)
        *out = v->u.s.ptr;
    return rc;
}

int calx_row_get_blob(const calx_row *row, int col, const void **out, size_t *len,
                      calx_error *err)
{
    const calx_value *v = NULL;
    int rc = want(row, col, CALX_BLOB, &v, err);
    if (rc == 0) {
        *out = v->u.s.ptr;
        *len = v->u.s.len;
    }
    return rc;
}

/* ---- the richer types ---- */

/* The value of column col for a getter of type t: of that type, or text
 * (what a database without the type returned to plain SQL) that parse
 * reads. */
typedef int (*parse_fn)(const char *s, size_t n, void *out, calx_error *err);

static int want_rich(const calx_row *row, int col, calx_type t, parse_fn parse,
                     const calx_value **out, const char **text, calx_error *err)
{
    *text = NULL;
    const calx_value *v = calx_row_value(row, col);
    if (row && v->type == CALX_TEXT && parse) {
        if (calx_result_colname(row->r, col < 0 ? (size_t)-1 : (size_t)col) == NULL)
            return calx_error_set(err, CALX_ERR_ARGUMENT, "no column %d in this row", col);
        *text = v->u.s.ptr;
        *out = v;
        return 0;
    }
    return want(row, col, t, out, err);
}

/* Reads text for a getter, naming the column in the error. */
static int parse_column(const calx_row *row, int col, const calx_value *v, parse_fn parse,
                        void *out, calx_error *err)
{
    int rc = parse(v->u.s.ptr, v->u.s.len, out, err);
    if (rc)
        calx__error_note(err, "column '%s'", calx_result_colname(row->r, (size_t)col));
    return rc;
}

#define RICH_GETTER(name, ctype, t, parse, member)                                 \
    static int parse_##name(const char *s, size_t n, void *out, calx_error *err)  \
    {                                                                             \
        return parse(s, n, (ctype *)out, err);                                    \
    }                                                                             \
    int calx_row_get_##name(const calx_row *row, int col, ctype *out, calx_error *err) \
    {                                                                             \
        const calx_value *v = NULL;                                               \
        const char *text;                                                         \
        int rc = want_rich(row, col, t, parse_##name, &v, &text, err);            \
        if (rc == 0 && text)                                                      \
            return parse_column(row, col, v, parse_##name, out, err);             \
        if (rc == 0)                                                              \
            *out = v->u.member;                                                   \
        return rc;                                                                \
    }

RICH_GETTER(uuid, calx_uuid, CALX_UUID, calx_uuid_parse, uuid)
RICH_GETTER(date, calx_date, CALX_DATE, calx_date_parse, i)
RICH_GETTER(time, calx_time, CALX_TIME, calx_time_parse, i)
RICH_GETTER(datetime, calx_datetime, CALX_DATETIME, calx_datetime_parse, i)
RICH_GETTER(timestamp, calx_timestamp, CALX_TIMESTAMP, calx_timestamp_parse, i)
RICH_GETTER(interval, calx_interval, CALX_INTERVAL, calx_interval_parse, interval)

static int parse_decimal(const char *s, size_t n, void *out, calx_error *err)
{
    return calx_decimal_parse(s, n, out, err);
}

int calx_row_get_decimal(const calx_row *row, int col, calx_decimal *out, calx_error *err)
{
    const calx_value *v = calx_row_value(row, col);
    if (row && v->type == CALX_INT && calx_result_colname(row->r, (size_t)col)) {
        *out = calx_decimal_of(v->u.i, 0);
        return 0;
    }
    const char *text;
    int rc = want_rich(row, col, CALX_DECIMAL, parse_decimal, &v, &text, err);
    if (rc == 0 && text)
        return parse_column(row, col, v, parse_decimal, out, err);
    if (rc == 0)
        *out = calx_value_get_decimal(v);
    return rc;
}

/* The lenient getters: the strict one's value, or the zero it started with. */
#define LENIENT(type, name)                                                   \
    type calx_row_##name(const calx_row *row, int col)                        \
    {                                                                         \
        type out;                                                             \
        memset(&out, 0, sizeof out);                                          \
        calx_row_get_##name(row, col, &out, NULL);                            \
        return out;                                                           \
    }
LENIENT(calx_decimal, decimal)
LENIENT(calx_uuid, uuid)
LENIENT(calx_date, date)
LENIENT(calx_time, time)
LENIENT(calx_datetime, datetime)
LENIENT(calx_timestamp, timestamp)
LENIENT(calx_interval, interval)
