/* The SELECT compiler, following SQLAlchemy's SQLCompiler.visit_select
 * and its SQLite and PostgreSQL dialects: the same clause separators
 * (" \nFROM ", " \nWHERE ", " ORDER BY ", each dialect's LIMIT / OFFSET),
 * so a calx log and a SQLAlchemy log of the same query read the same.
 * Expressions are compile_expr.c's. */
#include <stdlib.h>
#include <string.h>

#include "sql/compiler_int.h"
#include "sql/select_int.h"
#include "sql/ident.h"

/* LIMIT / OFFSET, each dialect's limit_clause (its limit_offset hook),
 * values bound. */
static void limit_clause(calx__sqlc *c, const calx_select *q)
{
    if (q->has_limit || q->has_offset)
        c->d->limit_offset(c, q->has_limit ? &q->limit : NULL,
                           q->has_offset ? &q->offset : NULL);
}

int calx__select_compile(const calx_select *q, const calx_dialect *d, unsigned flags,
                         calx_compiled *out, calx_error *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !d)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "calx__select_compile: %s is NULL",
                              out ? "the dialect" : "out");
    int rc = calx_select_error(q, err);
    if (rc)
        return rc;
    calx__sqlc c = { .d = d };
    const calx_table *t = q->t;
    calx__sqlc_put(&c, "SELECT ");
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (i)
            calx__sqlc_put(&c, ", ");
        calx__sqlc_column(&c, t, i);
        if (flags & CALX_COMPILE_LABELS) {
            /* SQLAlchemy's label is "<table>_<column>", quoted by the same
             * rule as any name. */
            calx_buf label = { 0 };
            calx__buf_printf(&label, "%s_%s", t->name, t->columns[i].name);
            calx__sqlc_put(&c, " AS ");
            if (label.oom)
                c.oom = true;
            else
                calx__sql_put_ident(&c.b, d, label.p, false);
            calx__buf_free(&label);
        }
    }
    calx__sqlc_put(&c, " \nFROM ");
    calx__sql_put_ident(&c.b, d, t->name, false);
    if (q->where) {
        calx__sqlc_put(&c, " \nWHERE ");
        calx__sqlc_expr(&c, q->where, true);
    }
    for (size_t i = 0; i < q->norder; i++) {
        calx__sqlc_put(&c, i ? ", " : " ORDER BY ");
        const calx_order_term *o = &q->order[i];
        calx__sqlc_operand(&c, o->e, o->dir == CALX_DESC ? CALX__PREC_DESC : CALX__PREC_TOP - 1, false);
        if (o->dir == CALX_DESC)
            calx__sqlc_put(&c, " DESC");
    }
    limit_clause(&c, q);
    return calx__sqlc_finish(&c, out, "a select", err);
}
