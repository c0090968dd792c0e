/* SPDX-License-Identifier: MIT */
/* INSERT statements (SQLAlchemy's insert()): one row of values (any
 * expression without columns), many rows of plain values copied in and
 * typed per column, or the rows of a select; RETURNING; and the upsert
 * clause ON CONFLICT (...) DO NOTHING / DO UPDATE SET ... [WHERE ...],
 * which SQLite and PostgreSQL spell alike. The first error is kept
 * (sticky); compile_dml.c renders the text, splitting many rows at the
 * dialect's parameter limit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/nomem.h"
#include "core/value_int.h"
#include "sql/dml_int.h"
#include "sql/select_int.h"

/* The bytes of the rows' text and blob values: chunks that never move, so
 * a value's pointer stays good while more rows come. */
struct calx__rows_chunk {
    calx__rows_chunk *next;
    size_t used, cap;
    char data[];
};

enum { BYTES_CHUNK = 16384 };

static char *bytes_alloc(calx_insert *s, size_t n)
{
    calx__rows_chunk *ch = s->bytes;
    if (!ch || ch->cap - ch->used < n) {
        size_t cap = n > BYTES_CHUNK ? n : BYTES_CHUNK;
        if (cap > SIZE_MAX - sizeof *ch)
            return NULL;
        ch = malloc(sizeof *ch + cap);
        if (!ch)
            return NULL;
        ch->used = 0;
        ch->cap = cap;
        ch->next = s->bytes;
        s->bytes = ch;
    }
    char *p = ch->data + ch->used;
    ch->used += n;
    return p;
}

calx_insert *calx_insert_new(const calx_table *t)
{
    calx_insert *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    calx__dml_init(&s->base, t, "INSERT INTO");
    if (s->base.failed)
        return s;
    s->values = calloc(t->ncolumns, sizeof *s->values);
    s->conflict_set = calloc(t->ncolumns, sizeof *s->conflict_set);
    if (!s->values || !s->conflict_set)
        calx__dml_fail(&s->base, CALX_ERR_NOMEM, "out of memory creating an insert");
    return s;
}

void calx_insert_free(calx_insert *s)
{
    if (!s)
        return;
    size_t n = s->values || s->conflict_set ? s->base.t->ncolumns : 0;
    for (size_t i = 0; s->values && i < n; i++)
        calx_expr_free(s->values[i]);
    for (size_t i = 0; s->conflict_set && i < n; i++)
        calx_expr_free(s->conflict_set[i]);
    free(s->values);
    free(s->conflict_set);
    free(s->cols);
    free(s->pos);
    free(s->types);
    free(s->rows);
    while (s->bytes) {
        calx__rows_chunk *next = s->bytes->next;
        free(s->bytes);
        s->bytes = next;
    }
    calx_select_free(s->select);
    free(s->conflict_cols);
    calx_expr_free(s->conflict_where);
    calx__dml_free(&s->base);
    free(s);
}

int calx_insert_error(const calx_insert *s, calx_error *err)
{
    if (!s)
        return calx__nomem(err, "creating an insert");
    return calx__insert_check(s, err);
}

/* Which form the insert has taken: values one by one, rows, or a select.
 * The forms do not mix (SQLAlchemy refuses it too). */
static bool has_values(const calx_insert *s)
{
    for (size_t i = 0; i < s->base.t->ncolumns; i++)
        if (s->values[i])
            return true;
    return false;
}

static bool form_free(calx_insert *s, const char *call)
{
    const char *taken = s->select ? "a select (calx_insert_from_select)"
                        : s->cols ? "rows (calx_insert_columns)"
                        : has_values(s) ? "single values (calx_insert_value)"
                                        : NULL;
    if (!taken)
        return true;
    calx__dml_fail(&s->base, CALX_ERR_ARGUMENT,
                   "%s: INSERT INTO %s already has %s; one insert takes one of single values, "
                   "rows or a select",
                   call, s->base.t->name, taken);
    return false;
}

calx_insert *calx_insert_value(calx_insert *s, const char *column, calx_expr *e)
{
    if (!s) {
        calx_expr_free(e);
        return NULL;
    }
    if (!s->base.failed && (s->select || s->cols))
        form_free(s, "calx_insert_value");
    long col = calx__dml_column(&s->base, column, "INSERT values");
    if (col < 0) {
        calx_expr_free(e);
        return s;
    }
    if (e && e->kind != CALX_X_ERROR) {
        char clause[300];
        snprintf(clause, sizeof clause, "INSERT INTO %s value for %s", s->base.t->name, column);
        calx_error bad;
        if (calx__dml_check_expr(&s->base, e, clause, false, false, &bad)) {
            calx__dml_fail_with(&s->base, &bad);
            calx_expr_free(e);
            return s;
        }
    }
    char where[300];
    snprintf(where, sizeof where, "INSERT INTO %s", s->base.t->name);
    calx__dml_set_value(&s->base, s->values, (size_t)col, e, where);
    return s;
}

/* Resolves the n names into s->cols (in the order given), refusing an
 * unknown or repeated one. */
static bool take_names(calx_insert *s, const char *const *names, size_t n, const char *call)
{
    if (s->base.failed)
        return false;
    if (n == 0 || !names) {
        calx__dml_fail(&s->base, CALX_ERR_ARGUMENT, "%s: INSERT INTO %s needs at least one column",
                       call, s->base.t->name);
        return false;
    }
    if (!form_free(s, call))
        return false;
    size_t *cols = malloc(n * sizeof *cols);
    if (!cols) {
        calx__dml_fail(&s->base, CALX_ERR_NOMEM, "out of memory naming the columns of an insert");
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        long col = calx__dml_column(&s->base, names[k], call);
        if (col < 0) {
            free(cols);
            return false;
        }
        for (size_t j = 0; j < k; j++)
            if (cols[j] == (size_t)col) {
                calx__dml_fail(&s->base, CALX_ERR_ARGUMENT, "%s: column '%s' is named twice",
                               call, names[k]);
                free(cols);
                return false;
            }
        cols[k] = (size_t)col;
    }
    s->cols = cols;
    s->ncols = n;
    return true;
}

calx_insert *calx_insert_columns(calx_insert *s, const char *const *names, size_t n)
{
    if (!s || !take_names(s, names, n, "calx_insert_columns"))
        return s;
    /* Values are kept, and rendered, in the table's column order, as
     * SQLAlchemy renders an insert's columns: sort the columns and
     * remember where each given value goes. */
    s->pos = malloc(n * sizeof *s->pos);
    s->types = malloc(n * sizeof *s->types);
    if (!s->pos || !s->types) {
        calx__dml_fail(&s->base, CALX_ERR_NOMEM, "out of memory naming the columns of an insert");
        return s;
    }
    for (size_t k = 0; k < n; k++) {
        size_t rank = 0;
        for (size_t j = 0; j < n; j++)
            rank += s->cols[j] < s->cols[k];
        s->pos[k] = rank;
    }
    size_t *sorted = malloc(n * sizeof *sorted);
    if (!sorted) {
        calx__dml_fail(&s->base, CALX_ERR_NOMEM, "out of memory naming the columns of an insert");
        return s;
    }
    for (size_t k = 0; k < n; k++)
        sorted[s->pos[k]] = s->cols[k];
    free(s->cols);
    s->cols = sorted;
    for (size_t k = 0; k < n; k++)
        if (!calx__dml_column_type(&s->base, s->cols[k], &s->types[k]))
            return s;
    return s;
}

/* A value calx_insert_row accepts: a known type, and bytes behind any
 * length. */
static bool value_ok(const calx_value *v)
{
    if ((unsigned)v->type > CALX_BOOL && v->type != CALX_ARRAY)
        return false;
    return calx__value_ok(v);
}

calx_insert *calx_insert_row(calx_insert *s, const calx_value *vals)
{
    if (!s || s->base.failed)
        return s;
    const char *table = s->base.t->name;
    if (!s->pos) {
        calx__dml_fail(&s->base, CALX_ERR_ARGUMENT,
                       "calx_insert_row: INSERT INTO %s has no columns for its rows (call "
                       "calx_insert_columns first)",
                       table);
        return s;
    }
    if (!vals) {
        calx__dml_fail(&s->base, CALX_ERR_ARGUMENT, "calx_insert_row: the values are NULL");
        return s;
    }
    size_t n = s->ncols;
    /* The rows are one array of values, n to a row: its capacity counts
     * values. */
    if (!calx__grow(&s->rows, &s->rows_cap, (s->nrows + 1) * n, sizeof *s->rows)) {
        calx__dml_fail(&s->base, CALX_ERR_NOMEM, "out of memory adding a row to an insert");
        return s;
    }
    calx_value *row = s->rows + s->nrows * n;
    char where[300];
    snprintf(where, sizeof where, "INSERT INTO %s, row %zu", table, s->nrows + 1);
    for (size_t k = 0; k < n; k++) {
        calx_value v = vals[k];
        size_t at = s->pos[k];
        if (!value_ok(&v)) {
            calx__dml_fail(&s->base, CALX_ERR_ARGUMENT,
                           "%s: the value for column %s is not a valid value (type %d, or "
                           "text/blob bytes NULL)",
                           where, s->base.t->columns[s->cols[at]].name, (int)v.type);
            return s;
        }
        /* Copied first: an array's elements are converted in place. */
        size_t keep = calx__value_keep_size(&v);
        if (keep) {
            char *p = bytes_alloc(s, keep);
            if (!p) {
                calx__dml_fail(&s->base, CALX_ERR_NOMEM, "out of memory adding a row to an insert");
                return s;
            }
            calx__value_keep(&v, &p);
        }
        if (!calx__dml_convert(&s->base, s->cols[at], s->types[at], &v, false, where))
            return s;
        row[at] = v;
    }
    s->nrows++;
    return s;
}

calx_insert *calx_insert_from_select(calx_insert *s, const char *const *names, size_t n,
                                     calx_select *q)
{
    if (!s) {
        calx_select_free(q);
        return NULL;
    }
    if (!s->base.failed && !q) {
        calx__dml_fail(&s->base, CALX_ERR_NOMEM, "out of memory creating a select (INSERT INTO "
                       "%s ... SELECT got NULL)", s->base.t->name);
        return s;
    }
    calx_error qerr;
    if (!s->base.failed && calx_select_error(q, &qerr))
        calx__dml_fail_with(&s->base, &qerr);
    if (!take_names(s, names, n, "calx_insert_from_select")) {
        calx_select_free(q);
        return s;
    }
    s->select = q;
    if (calx__select_ncols(q) != n)
        calx__dml_fail(&s->base, CALX_ERR_ARGUMENT,
                       "calx_insert_from_select: INSERT INTO %s names %zu columns but its "
                       "select has %zu",
                       s->base.t->name, n, calx__select_ncols(q));
    return s;
}

calx_insert *calx_insert_returning(calx_insert *s, calx_expr *e)
{
    if (!s) {
        calx_expr_free(e);
        return NULL;
    }
    if (e && e->kind != CALX_X_ERROR && !s->base.failed) {
        calx_error bad;
        if (calx__dml_check_expr(&s->base, e, "RETURNING", true, false, &bad)) {
            calx__dml_fail_with(&s->base, &bad);
            calx_expr_free(e);
            return s;
        }
    }
    calx__dml_returning(&s->base, e);
    return s;
}

/* ---- ON CONFLICT ---- */

static calx_insert *on_conflict(calx_insert *s, const char *const *names, size_t n,
                                calx__conflict kind, const char *call)
{
    if (!s || s->base.failed)
        return s;
    if (s->conflict) {
        calx__dml_fail(&s->base, CALX_ERR_ARGUMENT,
                       "%s: INSERT INTO %s already has an ON CONFLICT clause", call,
                       s->base.t->name);
        return s;
    }
    if (kind == CALX__CONFLICT_UPDATE && n == 0) {
        calx__dml_fail(&s->base, CALX_ERR_ARGUMENT,
                       "%s: ON CONFLICT DO UPDATE needs the columns of a unique index or the "
                       "primary key to tell a conflict by",
                       call);
        return s;
    }
    if (n && !names) {
        calx__dml_fail(&s->base, CALX_ERR_ARGUMENT, "%s: %zu columns but names is NULL", call, n);
        return s;
    }
    size_t *cols = n ? malloc(n * sizeof *cols) : NULL;
    if (n && !cols) {
        calx__dml_fail(&s->base, CALX_ERR_NOMEM, "out of memory adding ON CONFLICT");
        return s;
    }
    for (size_t k = 0; k < n; k++) {
        long col = calx__dml_column(&s->base, names[k], "ON CONFLICT");
        if (col < 0) {
            free(cols);
            return s;
        }
        cols[k] = (size_t)col;
    }
    s->conflict = kind;
    s->conflict_cols = cols;
    s->nconflict = n;
    return s;
}

calx_insert *calx_insert_on_conflict_do_nothing(calx_insert *s, const char *const *names,
                                                size_t n)
{
    return on_conflict(s, names, n, CALX__CONFLICT_NOTHING, "calx_insert_on_conflict_do_nothing");
}

calx_insert *calx_insert_on_conflict_do_update(calx_insert *s, const char *const *names,
                                               size_t n)
{
    return on_conflict(s, names, n, CALX__CONFLICT_UPDATE, "calx_insert_on_conflict_do_update");
}

/* An expression of DO UPDATE: the table's columns and excluded only. */
static bool conflict_expr_ok(calx_insert *s, calx_expr *e, const char *clause)
{
    if (s->base.failed || !e || e->kind == CALX_X_ERROR)
        return true;          /* calx__dml_take reports these */
    if (s->conflict != CALX__CONFLICT_UPDATE) {
        calx__dml_fail(&s->base, CALX_ERR_ARGUMENT,
                       "%s: INSERT INTO %s has no ON CONFLICT DO UPDATE (call "
                       "calx_insert_on_conflict_do_update first)",
                       clause, s->base.t->name);
        return false;
    }
    calx_error bad;
    if (calx__dml_check_expr(&s->base, e, clause, true, true, &bad)) {
        calx__dml_fail_with(&s->base, &bad);
        return false;
    }
    return true;
}

calx_insert *calx_insert_on_conflict_set(calx_insert *s, const char *column, calx_expr *e)
{
    if (!s) {
        calx_expr_free(e);
        return NULL;
    }
    if (!conflict_expr_ok(s, e, "ON CONFLICT DO UPDATE SET")) {
        calx_expr_free(e);
        return s;
    }
    long col = calx__dml_column(&s->base, column, "ON CONFLICT DO UPDATE SET");
    if (col < 0) {
        calx_expr_free(e);
        return s;
    }
    calx__dml_set_value(&s->base, s->conflict_set, (size_t)col, e, "ON CONFLICT DO UPDATE SET");
    return s;
}

calx_insert *calx_insert_on_conflict_where(calx_insert *s, calx_expr *cond)
{
    if (!s) {
        calx_expr_free(cond);
        return NULL;
    }
    if (!conflict_expr_ok(s, cond, "ON CONFLICT DO UPDATE WHERE")) {
        calx_expr_free(cond);
        return s;
    }
    calx__dml_where(&s->base, &s->conflict_where, cond, "ON CONFLICT DO UPDATE WHERE");
    return s;
}

calx_expr *calx_excluded(const calx_table *t, const char *column)
{
    /* A column node in all but its kind: the same lookup, type and
     * errors as calx_col_named. */
    calx_expr *e = calx_col_named(t, column);
    if (e->kind == CALX_X_COL)
        e->kind = CALX_X_EXCLUDED;
    return e;
}

/* ---- whole-statement checks ---- */

int calx__insert_check(const calx_insert *s, calx_error *err)
{
    int rc = calx__dml_error(&s->base, err);
    if (rc)
        return rc;
    const char *table = s->base.t->name;
    if (s->cols && !s->select && s->nrows == 0)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "INSERT INTO %s has columns for its rows but no rows "
                              "(calx_insert_row)",
                              table);
    if (s->conflict == CALX__CONFLICT_UPDATE) {
        bool any = false;
        for (size_t i = 0; i < s->base.t->ncolumns; i++)
            any |= s->conflict_set[i] != NULL;
        if (!any)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "INSERT INTO %s ... ON CONFLICT DO UPDATE has nothing to SET "
                                  "(calx_insert_on_conflict_set)",
                                  table);
    }
    return CALX_OK;
}
