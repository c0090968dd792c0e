/* SPDX-License-Identifier: MIT */
/* The INSERT, UPDATE and DELETE compiler, following SQLAlchemy's
 * SQLCompiler.visit_insert / visit_update / visit_delete and its SQLite
 * and PostgreSQL dialects (update_from_clause, delete_extra_from_clause,
 * visit_on_conflict_do_nothing / _do_update), so a calx log and a
 * SQLAlchemy log of the same statement read the same:
 *
 *     INSERT INTO hero (name, age) VALUES (?, ?), (?, ?)
 *         ON CONFLICT (name) DO UPDATE SET age = excluded.age RETURNING hero.id
 *     UPDATE hero SET age=? FROM team WHERE hero.team_id = team.id RETURNING hero.id
 *     DELETE FROM hero USING team WHERE hero.team_id = team.id
 *
 * (each on one line). Columns come in the table's column order; a value
 * that is a literal is always bound, NULL too, so the text depends on the
 * statement's shape alone. Expressions are compile_expr.c's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/nomem.h"
#include "sql/compiler_int.h"
#include "sql/convert.h"
#include "sql/ddl.h"
#include "sql/dml_int.h"
#include "sql/from_int.h"
#include "sql/ident.h"

static void put_ident(calx__sqlc *c, const char *name)
{
    calx__sql_put_ident(&c->b, c->d, name, false);
}

/* A SET or VALUES value: a literal is a parameter, even NULL (SQLAlchemy
 * binds None there); anything else is rendered, in parentheses unless it
 * is an atom (a column, a function, a subquery), as SQLAlchemy groups a
 * value (value.self_group()): "age=(hero.age + ?)". */
static void put_value(calx__sqlc *c, const calx_column *col, const calx_expr *e)
{
    if (e->kind == CALX_X_LIT)
        calx__sqlc_bind_typed(c, &e->u.lit.v, calx__column_dtype(col, false));
    else
        calx__sqlc_operand(c, e, CALX__PREC_ATOM - 1, false);
}

static void returning_clause(calx__sqlc *c, const calx__dml *s)
{
    for (size_t i = 0; i < s->nreturning; i++) {
        calx__sqlc_put(c, i ? ", " : " RETURNING ");
        calx__sqlc_expr(c, s->returning[i], false);
    }
}

/* The ORM's fetch (calx__update_compile_ex): " RETURNING" every column of
 * the table, or its primary key only. */
static void returning_table(calx__sqlc *c, const calx_table *t, bool key_only)
{
    bool first = true;
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (key_only && !t->columns[i].primary_key)
            continue;
        calx__sqlc_put(c, first ? " RETURNING " : ", ");
        first = false;
        calx__sqlc_column(c, t, i);
    }
}

static void where_clause(calx__sqlc *c, const calx_expr *where)
{
    if (where) {
        calx__sqlc_put(c, " WHERE ");
        calx__sqlc_expr(c, where, true);
    }
}

/* " FROM a, b" (UPDATE) or " USING a, b" (DELETE). */
static void extra_froms(calx__sqlc *c, const calx__dml *s, const char *keyword)
{
    for (size_t i = 0; i < s->nfroms; i++) {
        calx__sqlc_put(c, i ? ", " : keyword);
        put_ident(c, s->froms[i]->name);
    }
}

/* The statement's tables as the FROM items its expressions see: a
 * subquery in its WHERE correlates to them, as SQLAlchemy's DML compilers
 * set correlate_froms. */
typedef struct dml_scope {
    struct calx__scope scope;
    calx__fromref *items;
} dml_scope;

static void enter_scope(calx__sqlc *c, const calx__dml *s, dml_scope *ds)
{
    ds->items = malloc((1 + s->nfroms) * sizeof *ds->items);
    if (!ds->items) {
        c->oom = true;
        return;
    }
    ds->items[0] = (calx__fromref){ s->t, NULL };
    for (size_t i = 0; i < s->nfroms; i++)
        ds->items[1 + i] = (calx__fromref){ s->froms[i], NULL };
    ds->scope = (struct calx__scope){ ds->items, 1 + s->nfroms, NULL };
    c->scope = &ds->scope;
}

static void leave_scope(calx__sqlc *c, dml_scope *ds)
{
    c->scope = NULL;
    free(ds->items);
}

/* Frees what c holds (a compile that stops half-way). */
static void drop(calx__sqlc *c)
{
    calx__sqlc_release(c);
    calx__buf_free(&c->b);
    free(c->params);
    free(c->srcs);
    free(c->types);
    memset(c, 0, sizeof *c);
}

/* What the statement needs of the dialect: RETURNING, and FROM / USING
 * (`form`, "UPDATE ... FROM") where from_ok says whether it has them. */
static int check_dialect(const calx__dml *s, const calx_dialect *d, bool from_ok,
                         const char *form, calx_error *err)
{
    if (s->nreturning && !d->supports_returning)
        return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                              "%s %s ... RETURNING: %s does not support RETURNING", s->verb,
                              s->t->name, d->display_name);
    if (s->nfroms && !from_ok)
        return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                              "%s %s %s %s: %s does not support %s; use a subquery in WHERE "
                              "instead",
                              s->verb, s->t->name, strstr(form, "FROM") ? "... FROM" : "USING",
                              s->froms[0]->name, d->display_name, form);
    return CALX_OK;
}

/* Hands c to *out, unless it binds more parameters than one statement of
 * the dialect may carry (then c is freed and the error names the limit). */
static int finish(calx__sqlc *c, const calx__dml *s, calx_compiled *out, const char *what,
                  calx_error *err)
{
    const calx_dialect *d = c->d;
    size_t n = c->nparams;
    if (n > d->max_params && !c->oom && !c->failed) {
        drop(c);
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s %s binds %zu parameters, more than the %u one %s statement "
                              "may carry",
                              s->verb, s->t->name, n, d->max_params, d->display_name);
    }
    return calx__sqlc_finish(c, out, what, err);
}

static int begin(void *out, size_t size, const calx_dialect *d, const void *s,
                 const char *what, calx_error *err)
{
    if (out)
        memset(out, 0, size);
    if (!out || !d)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "compiling %s: %s is NULL", what,
                              out ? "the dialect" : "out");
    if (!s)
        return calx__nomem(err, "creating %s", what);
    return CALX_OK;
}

/* ---- UPDATE, DELETE ---- */

/* Refuses the ORM's fetch on a dialect without RETURNING. */
static int check_fetch(const calx_dialect *d, bool fetch, calx_error *err)
{
    if (fetch && !d->supports_returning)
        return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                              "%s has no RETURNING, which synchronize_session 'fetch' needs",
                              d->display_name);
    return CALX_OK;
}

/* keep_srcs: out->srcs too (the statement cache's calx__statement_compile). */
static int update_compile(const calx_update *s, const calx_dialect *d, bool fetch,
                          bool keep_srcs, calx_compiled *out, calx_error *err)
{
    int rc = begin(out, sizeof *out, d, s, "an update", err);
    if (rc || (rc = calx__update_check(s, err)) ||
        (rc = check_dialect(&s->base, d, d->supports_update_from, "UPDATE ... FROM", err)) ||
        (rc = check_fetch(d, fetch, err)))
        return rc;
    const calx_table *t = s->base.t;
    calx__sqlc c = { .d = d, .keep_srcs = keep_srcs };
    dml_scope scope;
    enter_scope(&c, &s->base, &scope);
    calx__sqlc_put(&c, "UPDATE ");
    put_ident(&c, t->name);
    bool first = true;
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (!s->set[i])
            continue;
        /* SQLAlchemy writes "col=value" in SET, without spaces, and never
         * the table's name there, even with FROM. */
        calx__sqlc_put(&c, first ? " SET " : ", ");
        first = false;
        put_ident(&c, t->columns[i].name);
        calx__sqlc_put(&c, "=");
        put_value(&c, &t->columns[i], s->set[i]);
    }
    extra_froms(&c, &s->base, " FROM ");
    where_clause(&c, s->base.where);
    returning_clause(&c, &s->base);
    if (fetch)
        returning_table(&c, t, false);
    leave_scope(&c, &scope);
    return finish(&c, &s->base, out, "an update", err);
}

int calx__update_compile(const calx_update *s, const calx_dialect *d, calx_compiled *out,
                         calx_error *err)
{
    return update_compile(s, d, false, false, out, err);
}

int calx__update_compile_ex(const calx_update *s, const calx_dialect *d, bool fetch,
                            calx_compiled *out, calx_error *err)
{
    return update_compile(s, d, fetch, false, out, err);
}

static int delete_compile(const calx_delete *s, const calx_dialect *d, bool fetch,
                          bool keep_srcs, calx_compiled *out, calx_error *err)
{
    int rc = begin(out, sizeof *out, d, s, "a delete", err);
    if (rc || (rc = calx__delete_check(s, err)) ||
        (rc = check_dialect(&s->base, d, d->supports_delete_using, "DELETE ... USING", err)) ||
        (rc = check_fetch(d, fetch, err)))
        return rc;
    calx__sqlc c = { .d = d, .keep_srcs = keep_srcs };
    dml_scope scope;
    enter_scope(&c, &s->base, &scope);
    calx__sqlc_put(&c, "DELETE FROM ");
    put_ident(&c, s->base.t->name);
    extra_froms(&c, &s->base, " USING ");
    where_clause(&c, s->base.where);
    returning_clause(&c, &s->base);
    if (fetch)
        returning_table(&c, s->base.t, true);
    leave_scope(&c, &scope);
    return finish(&c, &s->base, out, "a delete", err);
}

int calx__delete_compile(const calx_delete *s, const calx_dialect *d, calx_compiled *out,
                         calx_error *err)
{
    return delete_compile(s, d, false, false, out, err);
}

int calx__delete_compile_ex(const calx_delete *s, const calx_dialect *d, bool fetch,
                            calx_compiled *out, calx_error *err)
{
    return delete_compile(s, d, fetch, false, out, err);
}

/* ---- INSERT ---- */

/* "INSERT INTO t (a, b)": the columns in cols, or, for one row of values,
 * those given a value. Returns how many. */
static size_t insert_head(calx__sqlc *c, const calx_insert *s)
{
    const calx_table *t = s->base.t;
    calx__sqlc_put(c, "INSERT INTO ");
    put_ident(c, t->name);
    size_t n = 0;
    if (s->cols) {
        for (size_t k = 0; k < s->ncols; k++) {
            calx__sqlc_put(c, k ? ", " : " (");
            put_ident(c, t->columns[s->cols[k]].name);
        }
        n = s->ncols;
    } else {
        for (size_t i = 0; i < t->ncolumns; i++) {
            if (!s->values[i])
                continue;
            calx__sqlc_put(c, n++ ? ", " : " (");
            put_ident(c, t->columns[i].name);
        }
    }
    if (n)
        calx__sqlc_put(c, ")");
    return n;
}

/* What follows the rows: ON CONFLICT ... and RETURNING ... */
static void insert_tail(calx__sqlc *c, const calx_insert *s)
{
    const calx_table *t = s->base.t;
    dml_scope scope;
    enter_scope(c, &s->base, &scope);
    if (s->conflict) {
        calx__sqlc_put(c, " ON CONFLICT");
        for (size_t k = 0; k < s->nconflict; k++) {
            calx__sqlc_put(c, k ? ", " : " (");
            put_ident(c, t->columns[s->conflict_cols[k]].name);
        }
        if (s->nconflict)
            calx__sqlc_put(c, ")");
        if (s->conflict == CALX__CONFLICT_NOTHING) {
            calx__sqlc_put(c, " DO NOTHING");
        } else {
            /* "col = value", with spaces, unlike an UPDATE's SET. */
            bool first = true;
            for (size_t i = 0; i < t->ncolumns; i++) {
                if (!s->conflict_set[i])
                    continue;
                calx__sqlc_put(c, first ? " DO UPDATE SET " : ", ");
                first = false;
                put_ident(c, t->columns[i].name);
                calx__sqlc_put(c, " = ");
                put_value(c, &t->columns[i], s->conflict_set[i]);
            }
            where_clause(c, s->conflict_where);
        }
    }
    returning_clause(c, &s->base);
    leave_scope(c, &scope);
}

static int add_part(calx_compiled_list *out, calx_compiled *c, size_t nsets, calx_error *err)
{
    calx_compiled_part *p = realloc(out->parts, (out->n + 1) * sizeof *p);
    if (!p) {
        calx__compiled_free(c);
        return calx__nomem(err, "compiling an insert");
    }
    out->parts = p;
    out->parts[out->n++] = (calx_compiled_part){ *c, nsets };
    return CALX_OK;
}

/* " AS imp_sen(p0, ..., sen_counter) ORDER BY sen_counter": the sentinel
 * forms' names for their n values and counter, and the order the rows go
 * in by. */
static void put_sentinel_order(calx_buf *b, size_t n)
{
    calx__buf_puts(b, " AS imp_sen(");
    for (size_t k = 0; k < n; k++)
        calx__buf_printf(b, "p%zu, ", k);
    calx__buf_puts(b, "sen_counter) ORDER BY sen_counter");
}

/* The sentinel form over arrays: unnest gives the k-th elements of all
 * the arrays as row k, and WITH ORDINALITY numbers it k. The arrays are
 * typed, so the values need no cast of their own. */
static void put_arrays(calx_buf *b, const calx_insert *s, const calx_dialect *d)
{
    size_t n = s->ncols;
    for (size_t k = 0; k < n; k++)
        calx__buf_printf(b, "%sp%zu", k ? ", " : " SELECT ", k);
    calx__buf_puts(b, " FROM unnest(");
    for (size_t k = 0; k < n; k++) {
        calx__buf_puts(b, k ? ", CAST(? AS " : "CAST(? AS ");
        calx__buf_puts(b, d->type_names[s->base.t->columns[s->cols[k]].type]);
        calx__buf_puts(b, "[])");
    }
    calx__buf_puts(b, ") WITH ORDINALITY");
    put_sentinel_order(b, n);
}

/* The text of `rows` rows of s's columns: head + the rows in form +
 * tail. The rows' parameters are each row's values in s's column order,
 * row after row (in CALX__ROWS_ARRAYS one array a column); the tail's
 * follow. */
static char *rows_text(const calx_insert *s, const calx_dialect *d, const char *head,
                       const char *tail, size_t rows, calx__rows_form form)
{
    size_t n = s->ncols;
    calx_buf b = { 0 };
    calx__buf_puts(&b, head);
    if (form == CALX__ROWS_ARRAYS) {
        put_arrays(&b, s, d);
        calx__buf_puts(&b, tail ? tail : "");
        return calx__buf_take(&b);
    }
    if (form == CALX__ROWS_SENTINEL) {
        /* SQLAlchemy 2.0's insertmanyvalues with a sentinel: the rows come
         * out of the VALUES in the order of their counter, so keys the
         * database makes as it inserts (a sequence) follow that order.
         * Each value is cast to its column's type, as the VALUES list
         * alone would type it from its first row. */
        for (size_t k = 0; k < n; k++) {
            const calx_column *c = &s->base.t->columns[s->cols[k]];
            calx__buf_printf(&b, "%sCAST(p%zu AS ", k ? ", " : " SELECT ", k);
            /* The type's bare name, as SQLAlchemy casts (VARCHAR, NUMERIC);
             * an enum and an array need their whole type. */
            if (c->type == CALX_COL_ENUM || c->type == CALX_COL_ARRAY)
                calx__ddl_put_type(&b, d, c);
            else
                calx__buf_puts(&b, d->type_names[c->type]);
            calx__buf_puts(&b, ")");
        }
        calx__buf_puts(&b, " FROM (VALUES ");
    } else {
        calx__buf_puts(&b, " VALUES ");
    }
    for (size_t r = 0; r < rows; r++) {
        calx__buf_puts(&b, r ? ", (" : "(");
        for (size_t k = 0; k < n; k++)
            calx__buf_puts(&b, k ? ", ?" : "?");
        if (form == CALX__ROWS_SENTINEL)
            calx__buf_printf(&b, ", %zu", r);
        calx__buf_puts(&b, ")");
    }
    if (form == CALX__ROWS_SENTINEL) {
        calx__buf_puts(&b, ")");
        put_sentinel_order(&b, n);
    }
    calx__buf_puts(&b, tail ? tail : "");
    return calx__buf_take(&b);
}

/* A part of nsets chunks of `rows` rows from row first, each followed by
 * the tail's parameters. */
static int rows_part(calx_compiled_list *out, const calx_insert *s, const calx_dialect *d,
                     const char *head, const calx__sqlc *tail, size_t first, size_t rows,
                     size_t nsets, calx_error *err)
{
    size_t n = s->ncols, per = rows * n + tail->nparams;
    bool keep = tail->keep_srcs;
    calx_compiled c = { .sql = rows_text(s, d, head, tail->b.p, rows, CALX__ROWS_VALUES),
                        .nparams = per * nsets };
    c.params = c.nparams ? malloc(c.nparams * sizeof *c.params) : NULL;
    c.srcs = c.nparams && keep ? malloc(c.nparams * sizeof *c.srcs) : NULL;
    c.types = c.nparams ? malloc(c.nparams * sizeof *c.types) : NULL;
    if (!c.sql || (c.nparams && (!c.params || !c.types || (keep && !c.srcs)))) {
        calx__compiled_free(&c);
        return calx__nomem(err, "compiling an insert");
    }
    calx_param *p = c.params;
    const calx_value **src = c.srcs;
    calx_dtype *type = c.types;
    for (size_t set = 0; set < nsets; set++) {
        const calx_value *v = s->rows + (first + set * rows) * n;
        for (size_t i = 0; i < rows * n; i++) {
            *p++ = (calx_param){ NULL, v[i] };
            *type++ = calx__column_dtype(&s->base.t->columns[s->cols[i % n]], false);
            if (keep)
                *src++ = &v[i];
        }
        if (tail->nparams) {
            memcpy(p, tail->params, tail->nparams * sizeof *p);
            memcpy(type, tail->types, tail->nparams * sizeof *type);
        }
        p += tail->nparams;
        type += tail->nparams;
        if (keep && tail->nparams) {
            memcpy(src, tail->srcs, tail->nparams * sizeof *src);
            src += tail->nparams;
        }
    }
    return add_part(out, &c, nsets, err);
}

/* Many rows: as many to a statement as the dialect's parameter limit
 * allows; the full statements share one text (one part run once per
 * chunk), the rows left over get their own. */
static int compile_rows(const calx_insert *s, const calx_dialect *d, bool keep_srcs,
                        calx_compiled_list *out, calx_error *err)
{
    calx__sqlc head = { .d = d }, tail = { .d = d, .keep_srcs = keep_srcs };
    insert_head(&head, s);
    insert_tail(&tail, s);
    int rc = CALX_OK;
    if (head.b.oom || head.oom || tail.b.oom || tail.oom) {
        rc = calx__nomem(err, "compiling an insert");
        goto done;
    }
    if (tail.failed) {
        rc = tail.err.code;
        if (err)
            *err = tail.err;
        goto done;
    }
    size_t room = d->max_params > tail.nparams ? d->max_params - tail.nparams : 0;
    size_t per = room / s->ncols;
    if (per == 0) {
        rc = calx_error_set(err, CALX_ERR_ARGUMENT,
                            "INSERT INTO %s: more rows than one statement may bind: a row of %zu "
                            "values (with %zu parameters besides) is already more than the %u "
                            "one %s statement may carry",
                            s->base.t->name, s->ncols, tail.nparams, d->max_params,
                            d->display_name);
        goto done;
    }
    size_t full = s->nrows / per, rest = s->nrows % per;
    if (full)
        rc = rows_part(out, s, d, head.b.p, &tail, 0, per, full, err);
    if (!rc && rest)
        rc = rows_part(out, s, d, head.b.p, &tail, full * per, rest, 1, err);
done:
    drop(&head);
    drop(&tail);
    return rc;
}

static int insert_compile(const calx_insert *s, const calx_dialect *d, bool keep_srcs,
                          calx_compiled_list *out, calx_error *err)
{
    int rc = begin(out, sizeof *out, d, s, "an insert", err);
    if (rc || (rc = calx__insert_check(s, err)) ||
        (rc = check_dialect(&s->base, d, true, "", err)))
        return rc;
    if (s->conflict && d->upsert != CALX_UPSERT_ON_CONFLICT)
        return calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                              "INSERT INTO %s ... ON CONFLICT: %s has no ON CONFLICT upsert",
                              s->base.t->name, d->display_name);
    if (s->cols && !s->select) {
        rc = compile_rows(s, d, keep_srcs, out, err);
        if (rc)
            calx__compiled_list_free(out);
        return rc;
    }
    calx__sqlc c = { .d = d, .keep_srcs = keep_srcs };
    size_t n = insert_head(&c, s);
    if (s->select) {
        /* INSERT INTO t (a, b) SELECT ...: the select's text and
         * parameters go in as they are. */
        calx_compiled q;
        if ((rc = calx__select_compile(s->select, d, CALX_COMPILE_SOURCES, &q, err))) {
            drop(&c);
            return rc;
        }
        calx__sqlc_put(&c, " ");
        calx__sqlc_put(&c, q.sql);
        calx__sqlc_params_insert(&c, c.nparams, q.params, q.srcs, q.types, q.nparams);
        calx__compiled_free(&q);
    } else if (n == 0) {
        calx__sqlc_put(&c, " DEFAULT VALUES");
    } else {
        calx__sqlc_put(&c, " VALUES (");
        bool first = true;
        for (size_t i = 0; i < s->base.t->ncolumns; i++) {
            if (!s->values[i])
                continue;
            if (!first)
                calx__sqlc_put(&c, ", ");
            first = false;
            put_value(&c, &s->base.t->columns[i], s->values[i]);
        }
        calx__sqlc_put(&c, ")");
    }
    insert_tail(&c, s);
    calx_compiled one;
    if ((rc = finish(&c, &s->base, &one, "an insert", err)))
        return rc;
    return add_part(out, &one, 1, err);
}

int calx__insert_compile(const calx_insert *s, const calx_dialect *d, calx_compiled_list *out,
                         calx_error *err)
{
    return insert_compile(s, d, false, out, err);
}

bool calx__insert_arrays_ok(const calx_insert *s, const calx_dialect *d)
{
    if (!d->supports_unnest_rows || !s->cols || s->select || s->conflict)
        return false;
    for (size_t k = 0; k < s->ncols; k++) {
        const calx_column *c = &s->base.t->columns[s->cols[k]];
        calx_type holds = calx__dtype_value_type(calx__column_dtype(c, false));
        if (c->user_type || c->type == CALX_COL_ARRAY || holds == CALX_NULL ||
            holds == CALX_JSON)
            return false;
    }
    return true;
}

int calx__insert_shape_sql(const calx_insert *s, const calx_dialect *d, size_t rows,
                           calx__rows_form form, char **sql, calx_error *err)
{
    *sql = NULL;
    int rc;
    if (!s)
        return calx__nomem(err, "creating an insert");
    if ((rc = calx__dml_error(&s->base, err)) || (rc = check_dialect(&s->base, d, true, "", err)))
        return rc;
    if (form == CALX__ROWS_ARRAYS && !calx__insert_arrays_ok(s, d))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "INSERT INTO %s: its rows cannot go as arrays on %s",
                              s->base.t->name, d->display_name);
    if (rows == 0 || ((!s->cols || s->select) && rows != 1))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "INSERT INTO %s: no text for %zu rows of this insert",
                              s->base.t->name, rows);
    if (!s->cols || s->select) {
        /* One row of single values (DEFAULT VALUES when there are none),
         * or a select, compiled as a statement. */
        calx_compiled_list l;
        if ((rc = calx__insert_compile(s, d, &l, err)))
            return rc;
        *sql = l.parts[0].c.sql;
        l.parts[0].c.sql = NULL;
        calx__compiled_list_free(&l);
        return CALX_OK;
    }
    calx__sqlc head = { .d = d }, tail = { .d = d };
    insert_head(&head, s);
    insert_tail(&tail, s);
    if (!head.b.oom && !head.oom && !tail.b.oom && !tail.oom && !tail.failed)
        *sql = rows_text(s, d, head.b.p, tail.b.p, rows, form);
    rc = tail.failed ? tail.err.code : CALX_OK;
    if (tail.failed && err)
        *err = tail.err;
    else if (!*sql)
        rc = calx__nomem(err, "compiling an insert");
    drop(&head);
    drop(&tail);
    return rc;
}

void calx__compiled_list_free(calx_compiled_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        calx__compiled_free(&l->parts[i].c);
    free(l->parts);
    memset(l, 0, sizeof *l);
}

/* ---- any statement ---- */

int calx__statement_compile(calx__stmt_ref st, const calx_dialect *d, calx_compiled_list *out,
                            calx_error *err)
{
    if (st.kind == CALX__STMT_INSERT)
        return insert_compile(st.u.insert, d, true, out, err);
    memset(out, 0, sizeof *out);
    calx_compiled one;
    int rc;
    switch (st.kind) {
    case CALX__STMT_SELECT:
        rc = calx__select_compile(st.u.select, d, CALX_COMPILE_SOURCES, &one, err);
        break;
    case CALX__STMT_UPDATE: rc = update_compile(st.u.update, d, false, true, &one, err); break;
    default: rc = delete_compile(st.u.del, d, false, true, &one, err); break;
    }
    return rc ? rc : add_part(out, &one, 1, err);
}
