/* SPDX-License-Identifier: MIT */
/* The compiler's working state, shared by the files that render SQL:
 * compile_expr.c (expressions), compile_select.c (SELECT) and the
 * statement compilers built on them. One calx__sqlc collects the text and
 * the bound parameters of one statement; every value is bound, never
 * written into the text. */
#ifndef CALX_SQL_COMPILER_INT_H
#define CALX_SQL_COMPILER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "sql/compiler.h"
#include "sql/expr_int.h"

struct calx__selstate;   /* compile_select.c: a statement's anonymous names and CTEs */
/* The FROM items of a statement being rendered (a select's, a join's
 * members each; an UPDATE's or DELETE's table and its FROM / USING
 * tables), and those of the statement around it: what its columns may
 * name, and what a subquery inside correlates to. */
struct calx__scope {
    const struct calx__fromref *items;
    size_t n;
    const struct calx__scope *up;   /* NULL at a statement's top and in a
                                       derived table, which sees nothing
                                       outside it */
};

typedef struct calx__sqlc {
    calx_buf b;
    const calx_dialect *d;
    calx_param *params;
    /* Where each parameter's value comes from, beside params: a value of
     * the statement's own tree, or NULL for a constant the compiler adds
     * (SQLite's LIMIT -1). The statement cache (cache_key.h) binds a later
     * statement of the same shape through them. */
    const calx_value **srcs;
    /* What each parameter meets (calx__column_dtype), beside params: the
     * driver may type it so (an INTEGER column's int4). */
    calx_dtype *types;
    size_t nparams, cap, srcs_cap, types_cap;
    bool keep_srcs;          /* finish hands srcs to the compiled form */
    bool oom;
    /* select: the statement's anonymous names ("team_1", "count_1") and
     * CTEs, made when first needed (owned when own_sel; finish frees it),
     * and the FROM items of the selects being rendered around the current
     * point, for correlation and for checking columns. */
    struct calx__selstate *sel;
    bool own_sel;
    const struct calx__scope *scope;
    /* A mistake only compiling finds (a column of something not in FROM):
     * the first is kept and finish reports it. */
    bool failed;
    calx_error err;
} calx__sqlc;

/* Operator precedence, SQLAlchemy's numbers (sql/operators.py _PRECEDENCE):
 * a child is parenthesized when it binds no tighter than its parent. */
enum {
    CALX__PREC_TOP = 0,
    CALX__PREC_OR = 2,
    CALX__PREC_AND = 3,
    CALX__PREC_DESC = 3,     /* ORDER BY x DESC */
    CALX__PREC_NOT = 4,
    CALX__PREC_CMP = 5,      /* = != < <= > >= LIKE IN IS BETWEEN */
    CALX__PREC_CONCAT = 6,   /* || */
    CALX__PREC_ADD = 7,      /* + - */
    CALX__PREC_MUL = 8,      /* * / % */
    CALX__PREC_ATOM = 100
};

static inline void calx__sqlc_put(calx__sqlc *c, const char *s)
{
    calx__buf_puts(&c->b, s);
}

/* Appends a '?' and binds *v to it, a value of the statement's tree
 * (shallow: text and blobs keep pointing at the node's bytes; v is
 * recorded as the parameter's source), meeting no column. Out of memory
 * sets c->oom. */
void calx__sqlc_bind(calx__sqlc *c, const calx_value *v);

/* As calx__sqlc_bind, for a value that meets a column of type `type`
 * (calx__column_dtype; the literal's own dtype). */
void calx__sqlc_bind_typed(calx__sqlc *c, const calx_value *v, calx_dtype type);

/* Appends a '?' and binds v, a constant of the compiler's or the
 * dialect's own that no statement holds (no source: the statement cache
 * keeps the value itself). */
void calx__sqlc_bind_const(calx__sqlc *c, calx_value v);

/* Inserts n parameters (values p, sources srcs, either NULL for n 0;
 * types, NULL for none) at parameter index at, without writing a '?': for
 * text compiled apart (a select inside an INSERT, a CTE's body) whose
 * markers are in place. */
void calx__sqlc_params_insert(calx__sqlc *c, size_t at, const calx_param *p,
                              const calx_value *const *srcs, const calx_dtype *types,
                              size_t n);

/* Renders e. as_condition: e stands alone as a condition (WHERE, an item
 * of AND / OR, under NOT), where a boolean column without native booleans
 * must be compared ("hero.active = 1"), as SQLAlchemy renders it. */
void calx__sqlc_expr(calx__sqlc *c, const calx_expr *e, bool as_condition);

/* e as an operand of an operator of precedence p: parenthesized when it
 * binds no tighter. */
void calx__sqlc_operand(calx__sqlc *c, const calx_expr *e, int p, bool as_condition);

/* e as an item of a columns clause: a label (calx_label) renders "e AS
 * name", the name quoted as the dialect needs; anything else renders as
 * calx__sqlc_expr(c, e, false). Anonymous labels (count_1) are the select
 * compiler's: calx__expr_name gives the name to number. */
void calx__sqlc_labeled(calx__sqlc *c, const calx_expr *e);

/* "table.column", each name quoted as the dialect needs. */
void calx__sqlc_column(calx__sqlc *c, const calx_table *t, size_t index);

/* Records a compile error in c unless it has one (the first wins). */
void calx__sqlc_fail(calx__sqlc *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- in compile_select.c ---- */

/* The column node col: "hero.name", "mgr.name", "team_1.id", "anon_1.n". */
void calx__sqlc_colref(calx__sqlc *c, const calx_expr *col);

/* Renders q as a subquery in an expression (the parentheses are the
 * caller's), correlated to the select around it; with no select around
 * it, as a statement of its own (with its WITH clause). */
void calx__sqlc_subselect(calx__sqlc *c, const calx_select *q);

/* Frees what c's select state holds, when c owns it (finish calls it). */
void calx__sqlc_release(calx__sqlc *c);

/* Hands c's text and parameters to *out, or frees them and reports
 * CALX_ERR_NOMEM ("out of memory compiling <what>") when any step ran out
 * of memory. c is empty afterwards either way. */
int calx__sqlc_finish(calx__sqlc *c, calx_compiled *out, const char *what, calx_error *err);

#endif
