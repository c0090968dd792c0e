/* SPDX-License-Identifier: MIT */
/* DELETE statements (SQLAlchemy's delete()): WHERE, RETURNING, and
 * PostgreSQL's DELETE ... USING other tables. The first error is kept
 * (sticky); which tables the expressions may name is checked once the
 * statement is whole (calx__delete_check). compile_dml.c renders the
 * text. */
#include <stdlib.h>

#include "core/nomem.h"
#include "sql/dml_int.h"

calx_delete *calx_delete_new(const calx_table *t)
{
    calx_delete *s = calloc(1, sizeof *s);
    if (s)
        calx__dml_init(&s->base, t, "DELETE FROM");
    return s;
}

void calx_delete_free(calx_delete *s)
{
    if (!s)
        return;
    calx__dml_free(&s->base);
    free(s);
}

calx_delete *calx_delete_where(calx_delete *s, calx_expr *cond)
{
    if (!s) {
        calx_expr_free(cond);
        return NULL;
    }
    calx__dml_where(&s->base, &s->base.where, cond, "WHERE");
    return s;
}

calx_delete *calx_delete_returning(calx_delete *s, calx_expr *e)
{
    if (!s) {
        calx_expr_free(e);
        return NULL;
    }
    calx__dml_returning(&s->base, e);
    return s;
}

calx_delete *calx_delete_using(calx_delete *s, const calx_table *other)
{
    if (s)
        calx__dml_from(&s->base, other, "USING");
    return s;
}

int calx__delete_check(const calx_delete *s, calx_error *err)
{
    int rc = calx__dml_error(&s->base, err);
    return rc ? rc : calx__dml_check_clauses(&s->base, err);
}

int calx_delete_error(const calx_delete *s, calx_error *err)
{
    if (!s)
        return calx__nomem(err, "creating a delete");
    return calx__delete_check(s, err);
}
