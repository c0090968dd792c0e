/* SELECT statements: one table, its columns, WHERE, ORDER BY, LIMIT and
 * OFFSET, with the first error kept (sticky) so that a chain of calls is
 * checked once, when it is compiled or run. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/select_int.h"

static void fail(calx_select *q, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the error unless q has one already: the first wins. */
static void fail(calx_select *q, int code, const char *fmt, ...)
{
    if (q->failed)
        return;
    q->failed = true;
    q->err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->err.message, sizeof q->err.message, fmt, ap);
    va_end(ap);
}

static void fail_with(calx_select *q, const calx_error *e)
{
    if (q->failed)
        return;
    q->failed = true;
    q->err = *e;
}

calx_select *calx_select_new(const calx_table *t)
{
    calx_select *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->t = t;
    if (!t)
        fail(q, CALX_ERR_ARGUMENT, "calx_select_new: the table is NULL");
    else if (!t->name || !t->columns || t->ncolumns == 0)
        fail(q, CALX_ERR_ARGUMENT, "calx_select_new: table %s has no %s",
             t->name ? t->name : "(unnamed)", t->name ? "columns" : "name");
    else
        for (size_t i = 0; i < t->ncolumns; i++)
            if (!t->columns[i].name) {
                fail(q, CALX_ERR_ARGUMENT, "calx_select_new: column %zu of table %s has no name",
                     i, t->name);
                break;
            }
    return q;
}

void calx_select_free(calx_select *q)
{
    if (!q)
        return;
    calx_expr_free(q->where);
    for (size_t i = 0; i < q->norder; i++)
        calx_expr_free(q->order[i].e);
    free(q->order);
    free(q);
}

/* A column of another table than q's, or NULL. The select has one FROM
 * table: SQLAlchemy would add the other table to FROM (a cross join), which
 * is never what a condition on it means without a join. */
static const calx_expr *foreign_column(const calx_select *q, const calx_expr *e)
{
    const calx_expr *f = NULL;
    switch (e->kind) {
    case CALX_X_COL:
        if (e->u.col.t != q->t && strcmp(e->u.col.t->name, q->t->name) != 0)
            return e;
        return NULL;
    case CALX_X_BINOP:
        if ((f = foreign_column(q, e->u.bin.a)))
            return f;
        return foreign_column(q, e->u.bin.b);
    case CALX_X_ISNULL:
    case CALX_X_NOT: return foreign_column(q, e->u.a);
    case CALX_X_IN: return foreign_column(q, e->u.in.a);
    case CALX_X_AND:
    case CALX_X_OR:
        for (size_t i = 0; i < e->u.list.n; i++)
            if ((f = foreign_column(q, e->u.list.items[i])))
                return f;
        return NULL;
    default: return NULL;
    }
}

/* Checks e for clause (error node, NULL, foreign column). Returns true
 * when q keeps it; otherwise e is freed and q holds the error. */
static bool accept(calx_select *q, calx_expr *e, const char *clause)
{
    if (q->failed) {
        calx_expr_free(e);
        return false;
    }
    if (!e) {
        fail(q, CALX_ERR_NOMEM, "out of memory building an SQL expression (%s got NULL)",
             clause);
        return false;
    }
    if (e->kind == CALX_X_ERROR) {
        fail_with(q, e->u.error);
        calx_expr_free(e);
        return false;
    }
    const calx_expr *f = foreign_column(q, e);
    if (f) {
        const calx_table *t = f->u.col.t;
        fail(q, CALX_ERR_ARGUMENT,
             "%s refers to %s.%s, but the select is FROM %s alone (joins are not "
             "supported yet)",
             clause, t->name, t->columns[f->u.col.index].name, q->t->name);
        calx_expr_free(e);
        return false;
    }
    return true;
}

calx_select *calx_select_where(calx_select *q, calx_expr *cond)
{
    if (!q) {
        calx_expr_free(cond);
        return NULL;
    }
    if (!accept(q, cond, "WHERE"))
        return q;
    if (cond->type != CALX_XT_BOOL) {
        char what[200];
        calx__expr_describe(cond, what, sizeof what);
        fail(q, CALX_ERR_TYPE, "WHERE takes a BOOLEAN expression, not %s", what);
        calx_expr_free(cond);
        return q;
    }
    if (!q->where) {
        q->where = cond;
        return q;
    }
    /* where(a).where(b) is WHERE a AND b, flattened like and_(). */
    calx_expr *both = calx_and(q->where, cond);
    q->where = NULL;
    if (both->kind == CALX_X_ERROR) {
        fail_with(q, both->u.error);
        calx_expr_free(both);
        return q;
    }
    q->where = both;
    return q;
}

calx_select *calx_select_order_by(calx_select *q, calx_expr *e, calx_order dir)
{
    if (!q) {
        calx_expr_free(e);
        return NULL;
    }
    if (!accept(q, e, "ORDER BY"))
        return q;
    if (dir != CALX_ASC && dir != CALX_DESC) {
        fail(q, CALX_ERR_ARGUMENT, "ORDER BY: unknown direction %d", (int)dir);
        calx_expr_free(e);
        return q;
    }
    if (q->norder == q->order_cap) {
        size_t cap = q->order_cap ? 2 * q->order_cap : 4;
        calx_order_term *o = realloc(q->order, cap * sizeof *o);
        if (!o) {
            fail(q, CALX_ERR_NOMEM, "out of memory adding an ORDER BY term");
            calx_expr_free(e);
            return q;
        }
        q->order = o;
        q->order_cap = cap;
    }
    q->order[q->norder++] = (calx_order_term){ e, dir };
    return q;
}

calx_select *calx_select_limit(calx_select *q, long long n)
{
    if (!q || q->failed)
        return q;
    if (n < 0) {
        fail(q, CALX_ERR_ARGUMENT, "LIMIT must not be negative (got %lld)", n);
        return q;
    }
    q->has_limit = true;
    q->limit = calx_int((int64_t)n);
    return q;
}

calx_select *calx_select_offset(calx_select *q, long long n)
{
    if (!q || q->failed)
        return q;
    if (n < 0) {
        fail(q, CALX_ERR_ARGUMENT, "OFFSET must not be negative (got %lld)", n);
        return q;
    }
    q->has_offset = true;
    q->offset = calx_int((int64_t)n);
    return q;
}

const calx_table *calx_select_table(const calx_select *q)
{
    return q ? q->t : NULL;
}

int calx_select_error(const calx_select *q, calx_error *err)
{
    if (!q)
        return calx_error_set(err, CALX_ERR_NOMEM, "out of memory creating a select");
    if (q->failed) {
        if (err)
            *err = q->err;
        return q->err.code;
    }
    calx_error_clear(err);
    return CALX_OK;
}
