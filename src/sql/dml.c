/* SPDX-License-Identifier: MIT */
/* What INSERT, UPDATE and DELETE share while they are built: the sticky
 * first error, finding a column by name, typing a value against its column
 * by the rules of an assignment, WHERE, RETURNING and the extra FROM
 * tables, and the walk that checks which tables an expression's columns
 * belong to. The statements themselves are insert.c, update.c and
 * delete.c; their text is compile_dml.c's. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/nomem.h"
#include "sql/convert.h"
#include "sql/dml_int.h"
#include "sql/from_int.h"
#include "sql/user_type.h"

void calx__dml_fail(calx__dml *s, int code, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = true;
    memset(&s->err, 0, sizeof s->err);
    s->err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err.message, sizeof s->err.message, fmt, ap);
    va_end(ap);
}

void calx__dml_fail_with(calx__dml *s, const calx_error *e)
{
    if (s->failed)
        return;
    s->failed = true;
    s->err = *e;
}

void calx__dml_init(calx__dml *s, const calx_table *t, const char *verb)
{
    s->t = t;
    s->verb = verb;
    if (!t) {
        calx__dml_fail(s, CALX_ERR_ARGUMENT, "%s: the table is NULL", verb);
        return;
    }
    if (!t->name || !t->columns || t->ncolumns == 0) {
        calx__dml_fail(s, CALX_ERR_ARGUMENT, "%s: table %s has no %s", verb,
                       t->name ? t->name : "(unnamed)", t->name ? "columns" : "name");
        return;
    }
    for (size_t i = 0; i < t->ncolumns; i++)
        if (!t->columns[i].name) {
            calx__dml_fail(s, CALX_ERR_ARGUMENT, "%s: column %zu of table %s has no name", verb,
                           i, t->name);
            return;
        }
}

void calx__dml_free(calx__dml *s)
{
    calx_expr_free(s->where);
    for (size_t i = 0; i < s->nreturning; i++)
        calx_expr_free(s->returning[i]);
    free(s->returning);
    free(s->froms);
    for (size_t i = 0; i < s->nkept; i++)
        free(s->kept[i]);
    free(s->kept);
}

int calx__dml_error(const calx__dml *s, calx_error *err)
{
    if (s->failed) {
        if (err)
            *err = s->err;
        return s->err.code;
    }
    calx_error_clear(err);
    return CALX_OK;
}

long calx__dml_column(calx__dml *s, const char *name, const char *clause)
{
    if (s->failed)
        return -1;
    if (!name) {
        calx__dml_fail(s, CALX_ERR_ARGUMENT, "%s: the column name is NULL", clause);
        return -1;
    }
    const calx_table *t = s->t;
    for (size_t i = 0; i < t->ncolumns; i++)
        if (strcmp(t->columns[i].name, name) == 0)
            return (long)i;
    calx__dml_fail(s, CALX_ERR_ARGUMENT, "%s: table %s has no column '%s'", clause, t->name,
                   name);
    return -1;
}

bool calx__dml_take(calx__dml *s, calx_expr *e, const char *clause)
{
    if (s->failed) {
        calx_expr_free(e);
        return false;
    }
    if (!e) {
        calx__dml_fail(s, CALX_ERR_NOMEM, "out of memory building an SQL expression (%s got NULL)",
                       clause);
        return false;
    }
    if (e->kind == CALX_X_ERROR) {
        calx__dml_fail_with(s, e->u.error);
        calx_expr_free(e);
        return false;
    }
    return true;
}

/* ---- typing values ---- */

bool calx__dml_column_type(calx__dml *s, size_t col, calx_xtype *out)
{
    if (calx__xtype_of_col(s->t->columns[col].type, out))
        return true;
    calx__dml_fail(s, CALX_ERR_ARGUMENT, "column %s of table %s has no valid type",
                   s->t->columns[col].name, s->t->name);
    return false;
}

static const char *article(calx_xtype t)
{
    return t == CALX_XT_INT ? "an" : "a";
}

/* The assignment rules: what a column of type `to` takes (calx/sql.h).
 * Returns NULL, having converted *v, or why not (a static phrase, or one
 * written into buf). */
static const char *assign(calx_value *v, calx_xtype to, const calx_column *c, char *buf,
                          size_t n)
{
    calx_coltype ct = c->type;
    calx_xtype from = calx__xtype_of_value(v->type);
    if (from == CALX_XT_NULL)
        return NULL;
    switch (to) {
    case CALX_XT_INT:
        if (from == CALX_XT_BOOL) {
            *v = calx_int(v->u.b);
        } else if (from == CALX_XT_REAL) {
            double d = v->u.d;
            /* Only a real that is an integer: 35.5 into an INTEGER column
             * would lose its fraction (PostgreSQL rounds, SQLite keeps a
             * real in an INTEGER column). In range first, so the cast is
             * defined (NaN fails it); no floor(), so that a static link
             * needs no libm, which calx.pc and the CMake package do not
             * name. */
            if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
                  (double)(int64_t)d == d)) {
                snprintf(buf, n, "the REAL value %g: it is not a whole number", d);
                return buf;
            }
            *v = calx_int((int64_t)d);
        } else if (from != CALX_XT_INT) {
            break;
        }
        if (ct == CALX_COL_INT32 && (v->u.i < INT32_MIN || v->u.i > INT32_MAX)) {
            snprintf(buf, n, "the INTEGER value %lld: out of range for a 32-bit column",
                     (long long)v->u.i);
            return buf;
        }
        return NULL;
    case CALX_XT_REAL:
        if (from == CALX_XT_INT)
            *v = calx_real((double)v->u.i);
        else if (from != CALX_XT_REAL)
            break;
        return NULL;
    case CALX_XT_BOOL:
        if (from == CALX_XT_INT && (v->u.i == 0 || v->u.i == 1)) {
            *v = calx_bool(v->u.i == 1);
            return NULL;
        }
        if (from == CALX_XT_INT) {
            snprintf(buf, n, "the INTEGER value %lld: only 0 and 1 convert to BOOLEAN",
                     (long long)v->u.i);
            return buf;
        }
        if (from != CALX_XT_BOOL)
            break;
        return NULL;
    case CALX_XT_TEXT:
        if (from != CALX_XT_TEXT)
            break;
        if (ct == CALX_COL_ENUM && calx__enum_index(c->enum_type, v->u.s.ptr, v->u.s.len) < 0) {
            snprintf(buf, n, "'%.*s': not a name of enum type %s", (int)(v->u.s.len > 60 ? 60 : v->u.s.len),
                     v->u.s.ptr, c->enum_type->name);
            return buf;
        }
        return NULL;
    default:
        if (calx__xtype_is_rich(to))
            return calx__value_into_column(v, to, c, buf, n);
        if (to == CALX_XT_ARRAY && from == CALX_XT_ARRAY && ct == CALX_COL_ARRAY)
            return calx__array_into_column(v, c, buf, n);
        if (from == to)
            return NULL;
        break;
    }
    snprintf(buf, n, "%s %s value", article(from), calx__xtype_name(from));
    return buf;
}

/* *v made column c's stored value by its user type, its bytes kept by s. */
static bool user_bind(calx__dml *s, const calx_column *c, calx_value *v, const char *where)
{
    calx_type_scratch scratch;
    calx_error err;
    char *owned = NULL;
    calx__type_scratch_init(&scratch);
    int rc = calx__user_type_bind(c, v, &scratch, &err);
    if (!rc)
        rc = calx__user_type_keep(v, &owned, &err);
    calx__type_scratch_done(&scratch);
    if (!rc && owned && !calx__grow(&s->kept, &s->kept_cap, s->nkept + 1, sizeof *s->kept))
        rc = calx__nomem(&err, "keeping a converted value");
    if (rc) {
        free(owned);
        calx__dml_fail(s, rc, "%s: %s", where, err.message);
        return false;
    }
    if (owned)
        s->kept[s->nkept++] = owned;
    return true;
}

bool calx__dml_convert(calx__dml *s, size_t col, calx_xtype to, calx_value *v, bool stored,
                       const char *where)
{
    char why[240];
    const calx_column *c = &s->t->columns[col];
    if (c->user_type && !stored && !user_bind(s, c, v, where))
        return false;
    const char *bad = assign(v, to, c, why, sizeof why);
    if (!bad)
        return true;
    calx__dml_fail(s, CALX_ERR_TYPE, "%s: column %s (%s) cannot take %s", where, c->name,
                   calx__xtype_name(to), bad);
    return false;
}

void calx__dml_set_value(calx__dml *s, calx_expr **slots, size_t col, calx_expr *e,
                         const char *clause)
{
    if (!calx__dml_take(s, e, clause))
        return;
    calx_xtype to;
    if (!calx__dml_column_type(s, col, &to)) {
        calx_expr_free(e);
        return;
    }
    if (e->kind == CALX_X_LIT) {
        if (!calx__dml_convert(s, col, to, &e->u.lit.v, e->u.lit.stored, clause)) {
            calx_expr_free(e);
            return;
        }
        e->type = calx__xtype_of_value(e->u.lit.v.type);
    } else if (e->type != to && !((e->type == CALX_XT_INT || e->type == CALX_XT_REAL) &&
                                  (to == CALX_XT_INT || to == CALX_XT_REAL))) {
        char what[200];
        calx__expr_describe(e, what, sizeof what);
        calx__dml_fail(s, CALX_ERR_TYPE, "%s: column %s (%s) cannot take %s", clause,
                       s->t->columns[col].name, calx__xtype_name(to), what);
        calx_expr_free(e);
        return;
    }
    calx_expr_free(slots[col]);
    slots[col] = e;
}

/* ---- clauses ---- */

void calx__dml_where(calx__dml *s, calx_expr **where, calx_expr *cond, const char *clause)
{
    if (!calx__dml_take(s, cond, clause))
        return;
    if (cond->type != CALX_XT_BOOL) {
        char what[200];
        calx__expr_describe(cond, what, sizeof what);
        calx__dml_fail(s, CALX_ERR_TYPE, "%s takes a BOOLEAN expression, not %s", clause, what);
        calx_expr_free(cond);
        return;
    }
    if (!*where) {
        *where = cond;
        return;
    }
    /* where(a).where(b) is WHERE a AND b, flattened like and_(). */
    calx_expr *both = calx_and(*where, cond);
    *where = NULL;
    if (both->kind == CALX_X_ERROR) {
        calx__dml_fail_with(s, both->u.error);
        calx_expr_free(both);
        return;
    }
    *where = both;
}

void calx__dml_returning(calx__dml *s, calx_expr *e)
{
    if (!calx__dml_take(s, e, "RETURNING"))
        return;
    if (!calx__grow(&s->returning, &s->returning_cap, s->nreturning + 1, sizeof *s->returning)) {
        calx__dml_fail(s, CALX_ERR_NOMEM, "out of memory adding a RETURNING column");
        calx_expr_free(e);
        return;
    }
    s->returning[s->nreturning++] = e;
}

void calx__dml_from(calx__dml *s, const calx_table *other, const char *clause)
{
    if (s->failed)
        return;
    if (!other || !other->name || !other->columns) {
        calx__dml_fail(s, CALX_ERR_ARGUMENT, "%s %s %s: the table is NULL or has no %s", s->verb,
                       s->t->name, clause, other && !other->name ? "name" : "columns");
        return;
    }
    if (other == s->t || strcmp(other->name, s->t->name) == 0) {
        calx__dml_fail(s, CALX_ERR_ARGUMENT,
                       "%s %s %s %s: the statement's own table cannot be one of its %s tables",
                       s->verb, s->t->name, clause, other->name, clause);
        return;
    }
    for (size_t i = 0; i < s->nfroms; i++)
        if (s->froms[i] == other)
            return;
    if (!calx__grow(&s->froms, &s->froms_cap, s->nfroms + 1, sizeof *s->froms)) {
        calx__dml_fail(s, CALX_ERR_NOMEM, "out of memory adding a %s table", clause);
        return;
    }
    s->froms[s->nfroms++] = other;
}

/* ---- which tables an expression names ---- */

typedef struct column_walk {
    const calx__dml *s;
    bool columns, excluded_ok;
    const calx_expr *bad;        /* the first column the statement may not name */
} column_walk;

static bool allowed_item(const calx__dml *s, calx__fromref r)
{
    if (calx__fromref_eq(r, (calx__fromref){ s->t, NULL }))
        return true;
    for (size_t i = 0; i < s->nfroms; i++)
        if (calx__fromref_eq(r, (calx__fromref){ s->froms[i], NULL }))
            return true;
    return false;
}

/* Visits e's columns, outside its subqueries (which name their own FROM
 * items and correlate to the statement's at compile). */
static void visit_columns(const calx_expr *e, void *arg)
{
    column_walk *w = arg;
    if (w->bad)
        return;
    if (e->kind == CALX_X_COL) {
        if (!w->columns || !allowed_item(w->s, calx__col_fromref(e)))
            w->bad = e;
    } else if (e->kind == CALX_X_EXCLUDED) {
        if (!w->excluded_ok || !calx__fromref_eq(calx__col_fromref(e),
                                                 (calx__fromref){ w->s->t, NULL }))
            w->bad = e;
    } else {
        calx__expr_each_child(e, visit_columns, w);
    }
}

int calx__dml_check_expr(const calx__dml *s, const calx_expr *e, const char *clause,
                         bool columns, bool excluded_ok, calx_error *err)
{
    column_walk w = { s, columns, excluded_ok, NULL };
    if (e)
        visit_columns(e, &w);
    const calx_expr *f = w.bad;
    if (!f)
        return CALX_OK;
    char item[160];
    calx__fromref_describe(calx__col_fromref(f), item, sizeof item);
    const calx_table *t = calx__fromref_table(calx__col_fromref(f));
    char col[200];
    if (t)
        snprintf(col, sizeof col, "%s.%s", item, t->columns[f->u.col.index].name);
    else
        snprintf(col, sizeof col, "column %zu of %s", f->u.col.index + 1, item);
    if (f->kind == CALX_X_EXCLUDED)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s names excluded.%s, which only an INSERT INTO %s's ON CONFLICT "
                              "DO UPDATE may use",
                              clause, t->columns[f->u.col.index].name, t->name);
    if (!columns)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s refers to %s, but an INSERT's values cannot name columns "
                              "(use calx_insert_from_select to insert what a query reads)",
                              clause, col);
    if (strcmp(s->verb, "INSERT INTO") == 0)
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "%s refers to %s, but the statement is INSERT INTO %s", clause, col,
                              s->t->name);
    bool upd = strcmp(s->verb, "UPDATE") == 0;
    return calx_error_set(err, CALX_ERR_ARGUMENT,
                          "%s refers to %s, but the statement is %s %s alone: add %s with "
                          "calx_%s_%s, or name it in a subquery",
                          clause, col, s->verb, s->t->name, item, upd ? "update" : "delete",
                          upd ? "from" : "using");
}

int calx__dml_check_clauses(const calx__dml *s, calx_error *err)
{
    int rc = calx__dml_check_expr(s, s->where, "WHERE", true, false, err);
    for (size_t i = 0; !rc && i < s->nreturning; i++)
        rc = calx__dml_check_expr(s, s->returning[i], "RETURNING", true, false, err);
    return rc;
}
