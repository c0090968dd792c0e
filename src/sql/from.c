/* SPDX-License-Identifier: MIT */
/* FROM items that are not plain tables: aliases ("team AS t"), subqueries
 * used as tables ("(SELECT ...) AS counts") and common table expressions
 * ("WITH counts AS (...)"), with their columns. An item keeps the first
 * mistake made building it, as a select does, and hands it on to every
 * column and select that uses it. Their SQL is compile_select.c's. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/nomem.h"
#include "sql/select_int.h"

static void fail(calx_from *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(calx_from *f, int code, const char *fmt, ...)
{
    if (f->failed)
        return;
    f->failed = true;
    f->err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err.message, sizeof f->err.message, fmt, ap);
    va_end(ap);
}

/* A new item of kind, named name (copied; NULL: anonymous). NULL when out
 * of memory. */
static calx_from *new_from(calx__from_kind kind, const char *name)
{
    calx_from *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->kind = kind;
    if (name && !(f->name = strdup(name))) {
        free(f);
        return NULL;
    }
    return f;
}

calx_from *calx_alias_new(const calx_table *t, const char *name)
{
    calx_from *f = new_from(CALX__FROM_ALIAS, name);
    if (!f)
        return NULL;
    f->t = t;
    if (!t)
        fail(f, CALX_ERR_ARGUMENT, "calx_alias_new: the table is NULL");
    else if (!t->name || !t->columns || !t->ncolumns)
        fail(f, CALX_ERR_ARGUMENT, "calx_alias_new: table %s has no %s",
             t->name ? t->name : "(unnamed)", t->name ? "columns" : "name");
    else if (name && !*name)
        fail(f, CALX_ERR_ARGUMENT, "calx_alias_new: the name of an alias of %s is empty "
             "(NULL gives an anonymous one)", t->name);
    return f;
}

/* A subquery or CTE over q. */
static calx_from *select_from(calx__from_kind kind, calx_select *q, const char *name,
                              const char *fn)
{
    calx_from *f = new_from(kind, name);
    if (!f) {
        calx_select_free(q);
        return NULL;
    }
    f->q = q;
    calx_error err;
    if (calx_select_error(q, &err)) {
        f->failed = true;
        f->err = err;
    } else if (calx__select_ncols(q) == 0) {
        fail(f, CALX_ERR_ARGUMENT, "%s: the select has no columns", fn);
    } else if (name && !*name) {
        fail(f, CALX_ERR_ARGUMENT, "%s: the name is empty (NULL gives an anonymous one)", fn);
    }
    return f;
}

calx_from *calx_subquery_new(calx_select *q, const char *name)
{
    return select_from(CALX__FROM_SUBQUERY, q, name, "calx_subquery_new");
}

calx_from *calx_cte_new(calx_select *q, const char *name)
{
    return select_from(CALX__FROM_CTE, q, name, "calx_cte_new");
}

calx_from *calx_cte_recursive_new(calx_select *anchor, const char *name)
{
    calx_from *f = select_from(CALX__FROM_CTE, anchor, name, "calx_cte_recursive_new");
    if (f)
        f->recursive = true;
    return f;
}

calx_from *calx_cte_union_all(calx_from *cte, calx_select *recursive)
{
    if (!cte || cte->failed) {
        calx_select_free(recursive);
        return cte;
    }
    if (cte->kind != CALX__FROM_CTE || !cte->recursive || cte->has_recursive_part) {
        fail(cte, CALX_ERR_ARGUMENT, "calx_cte_union_all: %s",
             cte->kind != CALX__FROM_CTE ? "not a CTE"
             : !cte->recursive ? "the CTE was not made by calx_cte_recursive_new"
                               : "the CTE has its recursive part already");
        calx_select_free(recursive);
        return cte;
    }
    if (!recursive) {
        fail(cte, CALX_ERR_NOMEM, "out of memory building a recursive CTE (its recursive part "
             "is NULL)");
        return cte;
    }
    /* The anchor and the recursive part as one UNION ALL: the CTE's
     * columns stay the anchor's. */
    calx_select *u = calx_union_all(cte->q, recursive);
    cte->q = u;
    calx_error err;
    if (calx_select_error(u, &err)) {
        cte->failed = true;
        cte->err = err;
    }
    cte->has_recursive_part = true;
    return cte;
}

/* ---- columns ---- */

void calx__fromref_describe(calx__fromref r, char *buf, size_t size)
{
    const calx_from *f = r.f;
    if (!f)
        snprintf(buf, size, "%s", r.t->name);
    else if (f->name)
        snprintf(buf, size, "%s", f->name);
    else if (f->kind == CALX__FROM_ALIAS)
        snprintf(buf, size, "%s (alias)", f->t ? f->t->name : "?");
    else
        snprintf(buf, size, "(%s)", f->kind == CALX__FROM_CTE ? "CTE" : "subquery");
}

size_t calx__fromref_ncolumns(calx__fromref r)
{
    if (!r.f)
        return r.t->ncolumns;
    if (r.f->kind == CALX__FROM_ALIAS)
        return r.f->t->ncolumns;
    return calx__select_ncols(r.f->q);
}

calx_expr *calx__fromref_col(calx__fromref r, size_t index)
{
    if (!r.f || r.f->kind == CALX__FROM_ALIAS) {
        const calx_table *t = calx__fromref_table(r);
        calx_xtype type;
        if (!calx__xtype_of_col(t->columns[index].type, &type)) {
            calx_error err = { .code = CALX_ERR_ARGUMENT };
            snprintf(err.message, sizeof err.message, "column %zu of table %s has no valid type",
                     index, t->name);
            return calx__expr_from_error(&err);
        }
        return calx__col_node(t, r.f, index, type);
    }
    return calx__col_node(NULL, r.f, index, calx__select_col(r.f->q, index)->type);
}

/* What f is called in a column error: "alias mgr", "subquery counts",
 * "an alias of team". */
static void what_is(const calx_from *f, char *buf, size_t size)
{
    const char *kind = f->kind == CALX__FROM_ALIAS      ? "alias"
                       : f->kind == CALX__FROM_SUBQUERY ? "subquery"
                                                        : "CTE";
    if (f->name)
        snprintf(buf, size, "%s %s", kind, f->name);
    else if (f->kind == CALX__FROM_ALIAS)
        snprintf(buf, size, "an alias of %s", f->t->name);
    else
        snprintf(buf, size, "an anonymous %s", kind);
}

/* NULL when f can give columns; else the error node to return. */
static calx_expr *unusable(const calx_from *f)
{
    static const calx_error nomem = {
        .code = CALX_ERR_NOMEM,
        .message = "out of memory building an SQL expression (the FROM item is NULL)",
    };
    if (!f)
        return calx__expr_from_error(&nomem);
    if (f->failed)
        return calx__expr_from_error(&f->err);
    return NULL;
}

calx_expr *calx_from_col_at(const calx_from *f, size_t index)
{
    calx_expr *bad = unusable(f);
    if (bad)
        return bad;
    calx__fromref r = { f->kind == CALX__FROM_ALIAS ? f->t : NULL, f };
    size_t n = calx__fromref_ncolumns(r);
    if (index >= n) {
        char what[200];
        what_is(f, what, sizeof what);
        calx_error err = { .code = CALX_ERR_ARGUMENT };
        snprintf(err.message, sizeof err.message, "%s has no column at index %zu (it has %zu)",
                 what, index, n);
        return calx__expr_from_error(&err);
    }
    return calx__fromref_col(r, index);
}

calx_expr *calx_from_col(const calx_from *f, const char *name)
{
    calx_expr *bad = unusable(f);
    if (bad)
        return bad;
    calx__fromref r = { f->kind == CALX__FROM_ALIAS ? f->t : NULL, f };
    size_t n = calx__fromref_ncolumns(r);
    bool anon = false;    /* f has a column whose name is given at compile */
    for (size_t i = 0; name && i < n; i++) {
        if (r.t) {
            if (r.t->columns[i].name && strcmp(r.t->columns[i].name, name) == 0)
                return calx__fromref_col(r, i);
            continue;
        }
        calx__colname cn;
        calx__select_colname(f->q, i, true, &cn);
        if (!cn.key && strcmp(cn.base, name) == 0)
            return calx__fromref_col(r, i);
        anon |= cn.key != NULL;
    }
    char what[200];
    what_is(f, what, sizeof what);
    calx_error err = { .code = CALX_ERR_ARGUMENT };
    if (!name)
        snprintf(err.message, sizeof err.message, "calx_from_col: the column name is NULL");
    else
        snprintf(err.message, sizeof err.message, "%s has no column '%s'%s", what, name,
                 !anon ? "" : " (an unlabelled expression's name is given when the statement "
                            "compiles: take it by position, or label it)");
    return calx__expr_from_error(&err);
}

int calx_from_error(const calx_from *f, calx_error *err)
{
    if (!f)
        return calx__nomem(err, "creating a FROM item");
    if (f->failed) {
        if (err)
            *err = f->err;
        return f->err.code;
    }
    calx_error_clear(err);
    return CALX_OK;
}

void calx_from_free(calx_from *f)
{
    if (!f)
        return;
    calx_select_free(f->q);
    free(f->name);
    free(f);
}
