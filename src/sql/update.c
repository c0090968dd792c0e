/* SPDX-License-Identifier: MIT */
/* UPDATE statements (SQLAlchemy's update()): SET values from any
 * expression of the table's columns (age = age + 1), WHERE, RETURNING,
 * and UPDATE ... FROM other tables. The first error is kept (sticky);
 * which tables the expressions may name is checked once the statement is
 * whole (calx__update_check), so that calx_update_from may come after the
 * WHERE that needs it. A column with an onupdate factory is SET to its
 * value unless the statement sets it (set_onupdate), made anew each time
 * the statement runs (calx__update_refresh). compile_dml.c renders
 * the text. */
#include <stdio.h>
#include <stdlib.h>

#include "core/nomem.h"
#include "core/value_int.h"
#include "sql/dml_int.h"
#include "sql/onupdate.h"

/* SET column = the onupdate factory's value, for every column that has
 * one: a literal, so the extra SET is the statement's shape and the value
 * is bound (and listed by its cache key). A calx_update_value of the
 * column replaces it, as SQLAlchemy applies onupdate only to a column the
 * statement does not otherwise set. */
static void set_onupdate(calx_update *s)
{
    const calx_table *t = s->base.t;
    for (size_t i = 0; i < t->ncolumns && !s->base.failed; i++) {
        const calx_column *c = &t->columns[i];
        if (!c->onupdate)
            continue;
        calx_value v;
        void *owned;
        calx_error err;
        if (calx__onupdate_value(c, &v, &owned, &err)) {
            calx__dml_fail(&s->base, err.code, "UPDATE %s SET %s: %s", t->name, c->name,
                           err.message);
            return;
        }
        char where[300];
        snprintf(where, sizeof where, "UPDATE %s SET", t->name);
        calx_expr *e = calx_lit(v);
        free(owned);
        if (e->kind == CALX_X_LIT) {
            e->u.lit.stored = true;     /* the factory writes the stored type */
            e->u.lit.onupdate = true;
        }
        calx__dml_set_value(&s->base, s->set, i, e, where);
    }
}

int calx__update_refresh(calx_update *s, calx_error *err)
{
    if (!s || s->base.failed || !s->set)
        return 0;
    const calx_table *t = s->base.t;
    for (size_t i = 0; i < t->ncolumns; i++) {
        calx_expr *e = s->set[i];
        if (!e || e->kind != CALX_X_LIT || !e->u.lit.onupdate)
            continue;
        const calx_column *c = &t->columns[i];
        calx_value v;
        void *owned;
        calx_xtype to;
        int rc = calx__onupdate_value(c, &v, &owned, err);
        if (rc)
            return rc;
        /* As the statement's builder took it: brought to the column. */
        char *bytes = NULL;
        size_t n = calx__value_keep_size(&v);
        if (n && !(bytes = malloc(n))) {
            free(owned);
            return calx__nomem(err, "running an UPDATE");
        }
        char *p = bytes;
        if (n)
            calx__value_keep(&v, &p);
        free(owned);
        if (!calx__xtype_of_col(c->type, &to) ||
            !calx__dml_convert(&s->base, i, to, &v, true, "UPDATE SET")) {
            free(bytes);
            return calx__dml_error(&s->base, err);
        }
        free(e->u.lit.bytes);
        e->u.lit.bytes = bytes;
        e->u.lit.v = v;
    }
    return 0;
}

calx_update *calx__update_new_ex(const calx_table *t, bool onupdate)
{
    calx_update *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    calx__dml_init(&s->base, t, "UPDATE");
    if (s->base.failed)
        return s;
    s->set = calloc(t->ncolumns, sizeof *s->set);
    if (!s->set)
        calx__dml_fail(&s->base, CALX_ERR_NOMEM, "out of memory creating an update");
    else if (onupdate)
        set_onupdate(s);
    return s;
}

calx_update *calx_update_new(const calx_table *t)
{
    return calx__update_new_ex(t, true);
}

void calx_update_free(calx_update *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->set && i < s->base.t->ncolumns; i++)
        calx_expr_free(s->set[i]);
    free(s->set);
    calx__dml_free(&s->base);
    free(s);
}

calx_update *calx_update_value(calx_update *s, const char *column, calx_expr *e)
{
    if (!s) {
        calx_expr_free(e);
        return NULL;
    }
    long col = calx__dml_column(&s->base, column, "UPDATE SET");
    if (col < 0) {
        calx_expr_free(e);
        return s;
    }
    char where[300];
    snprintf(where, sizeof where, "UPDATE %s SET", s->base.t->name);
    calx__dml_set_value(&s->base, s->set, (size_t)col, e, where);
    return s;
}

calx_update *calx_update_where(calx_update *s, calx_expr *cond)
{
    if (!s) {
        calx_expr_free(cond);
        return NULL;
    }
    calx__dml_where(&s->base, &s->base.where, cond, "WHERE");
    return s;
}

calx_update *calx_update_returning(calx_update *s, calx_expr *e)
{
    if (!s) {
        calx_expr_free(e);
        return NULL;
    }
    calx__dml_returning(&s->base, e);
    return s;
}

calx_update *calx_update_from(calx_update *s, const calx_table *other)
{
    if (s)
        calx__dml_from(&s->base, other, "FROM");
    return s;
}

int calx__update_check(const calx_update *s, calx_error *err)
{
    const calx__dml *b = &s->base;
    int rc = calx__dml_error(b, err);
    if (rc)
        return rc;
    bool any = false;
    for (size_t i = 0; i < b->t->ncolumns; i++) {
        if (!s->set[i])
            continue;
        any = true;
        char clause[300];
        snprintf(clause, sizeof clause, "UPDATE %s SET %s", b->t->name, b->t->columns[i].name);
        if ((rc = calx__dml_check_expr(b, s->set[i], clause, true, false, err)))
            return rc;
    }
    if (!any)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "UPDATE %s has nothing to SET (calx_update_value)", b->t->name);
    return calx__dml_check_clauses(b, err);
}

int calx_update_error(const calx_update *s, calx_error *err)
{
    if (!s)
        return calx__nomem(err, "creating an update");
    return calx__update_check(s, err);
}
