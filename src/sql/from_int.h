/* SPDX-License-Identifier: MIT */
/* FROM items: tables, aliases, subqueries and CTEs, and the questions the
 * select asks about them. Shared by from.c (the calx_from builders),
 * select.c (FROM inference, joins and their foreign keys), expr.c (columns
 * of a FROM item) and compile_select.c (their names and renderings). */
#ifndef CALX_SQL_FROM_INT_H
#define CALX_SQL_FROM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "sql/expr_int.h"

typedef enum calx__from_kind {
    CALX__FROM_ALIAS = 1,    /* t AS name */
    CALX__FROM_SUBQUERY,     /* (SELECT ...) AS name */
    CALX__FROM_CTE           /* WITH name AS (SELECT ...) ... FROM name */
} calx__from_kind;

struct calx_from {
    calx__from_kind kind;
    const calx_table *t;     /* ALIAS: the table aliased */
    calx_select *q;          /* SUBQUERY, CTE: owned; a recursive CTE with its
                                recursive part: the UNION ALL of the two */
    char *name;              /* NULL: anonymous, named per statement */
    bool recursive;          /* CTE: WITH RECURSIVE */
    bool has_recursive_part; /* calx_cte_union_all was called */
    bool failed;
    calx_error err;          /* the first error, when failed */
};

/* One FROM item as a select sees it: a table (f NULL), or an alias,
 * subquery or CTE (f; t is then the aliased table, or NULL). */
typedef struct calx__fromref {
    const calx_table *t;
    const calx_from *f;
} calx__fromref;

/* The FROM item a column node belongs to. */
static inline calx__fromref calx__col_fromref(const calx_expr *e)
{
    return (calx__fromref){ e->u.col.t, e->u.col.f };
}

/* The same FROM item: the same alias, subquery or CTE, or tables of the
 * same name (SQL knows a table by its name). */
static inline bool calx__fromref_eq(calx__fromref a, calx__fromref b)
{
    if (a.f || b.f)
        return a.f == b.f;
    return a.t == b.t || (a.t && b.t && a.t->name && b.t->name &&
                          strcmp(a.t->name, b.t->name) == 0);
}

/* The table whose columns and foreign keys the item has (a table, or the
 * table aliased); NULL for a subquery or CTE. */
static inline const calx_table *calx__fromref_table(calx__fromref r)
{
    return r.f ? (r.f->kind == CALX__FROM_ALIAS ? r.f->t : NULL) : r.t;
}

/* What r is called in messages: "hero", "mgr", "team (alias)", "counts",
 * "(subquery)". Anonymous names are given only when a statement compiles,
 * so messages describe them. */
void calx__fromref_describe(calx__fromref r, char *buf, size_t size);

/* The number of columns r has. */
size_t calx__fromref_ncolumns(calx__fromref r);

/* A new column node of r's index-th column. */
calx_expr *calx__fromref_col(calx__fromref r, size_t index);

#endif
