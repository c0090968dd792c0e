/* SPDX-License-Identifier: MIT */
/* The expression compiler, following SQLAlchemy's SQLCompiler and its
 * SQLite and PostgreSQL dialects (sqlalchemy/sql/compiler.py,
 * dialects/.../base.py): the same parentheses (only where precedence needs
 * them), the same negations and the same empty IN, so a calx log and a
 * SQLAlchemy log of the same condition read the same. Statements
 * (compile_select.c and the others) render their clauses around it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/nomem.h"
#include "sql/compiler_int.h"
#include "sql/convert.h"
#include "sql/ident.h"

void calx__sqlc_params_insert(calx__sqlc *c, size_t at, const calx_param *p,
                              const calx_value *const *srcs, const calx_dtype *types,
                              size_t n)
{
    if (!n)
        return;
    if (!calx__grow(&c->params, &c->cap, c->nparams + n, sizeof *c->params) ||
        !calx__grow(&c->srcs, &c->srcs_cap, c->nparams + n, sizeof *c->srcs) ||
        !calx__grow(&c->types, &c->types_cap, c->nparams + n, sizeof *c->types)) {
        c->oom = true;
        return;
    }
    size_t tail = c->nparams - at;
    memmove(c->params + at + n, c->params + at, tail * sizeof *c->params);
    memmove(c->srcs + at + n, c->srcs + at, tail * sizeof *c->srcs);
    memmove(c->types + at + n, c->types + at, tail * sizeof *c->types);
    memcpy(c->params + at, p, n * sizeof *p);
    memcpy(c->srcs + at, srcs, n * sizeof *srcs);
    if (types)
        memcpy(c->types + at, types, n * sizeof *types);
    else
        memset(c->types + at, 0, n * sizeof *c->types);
    c->nparams += n;
}

static void bind_from(calx__sqlc *c, calx_value v, const calx_value *src, calx_dtype type)
{
    calx_param p = { NULL, v };
    calx__sqlc_params_insert(c, c->nparams, &p, &src, &type, 1);
    calx__sqlc_put(c, "?");
}

void calx__sqlc_bind(calx__sqlc *c, const calx_value *v)
{
    bind_from(c, *v, v, CALX_DTYPE_VALUE);
}

void calx__sqlc_bind_typed(calx__sqlc *c, const calx_value *v, calx_dtype type)
{
    bind_from(c, *v, v, type);
}

void calx__sqlc_bind_const(calx__sqlc *c, calx_value v)
{
    bind_from(c, v, NULL, CALX_DTYPE_VALUE);
}

static bool native_bool(const calx__sqlc *c)
{
    return c->d->supports_native_boolean;
}

/* How tightly a binary operator binds (SQLAlchemy's _PRECEDENCE). */
static int op_prec(calx_opcode op)
{
    switch (op) {
    case CALX_OP_MUL:
    case CALX_OP_DIV:
    case CALX_OP_MOD: return CALX__PREC_MUL;
    case CALX_OP_ADD:
    case CALX_OP_SUB: return CALX__PREC_ADD;
    case CALX_OP_CONCAT: return CALX__PREC_CONCAT;
    default: return CALX__PREC_CMP;
    }
}

/* How tightly e's rendering binds, to decide its parentheses. */
static int prec(const calx__sqlc *c, const calx_expr *e)
{
    switch (e->kind) {
    case CALX_X_COL:
    case CALX_X_LIT:
    case CALX_X_EXCLUDED: return CALX__PREC_ATOM;
    case CALX_X_BINOP: return op_prec(e->u.bin.op);
    case CALX_X_ISNULL: return CALX__PREC_CMP;
    case CALX_X_IN:
        if (e->negated)
            return CALX__PREC_ATOM;      /* NOT IN brings its own parentheses */
        if (e->u.in.n == 0 && c->d->empty_in_is_and)
            return CALX__PREC_AND;       /* "a IN (NULL) AND (1 != 1)" */
        return CALX__PREC_CMP;
    case CALX_X_AND: return CALX__PREC_AND;
    case CALX_X_OR: return CALX__PREC_OR;
    case CALX_X_NOT:
        /* Without native booleans NOT col is "col = 0", a comparison. */
        if (calx__expr_is_bool_atom(e->u.a) && !native_bool(c))
            return CALX__PREC_CMP;
        return CALX__PREC_NOT;
    /* select */
    case CALX_X_SUBQUERY: return CALX__PREC_ATOM;   /* brings its parentheses */
    case CALX_X_EXISTS:
        /* SQLAlchemy groups EXISTS as any operand: "(EXISTS (...)) AND x". */
        return CALX__PREC_TOP;
    case CALX_X_IN_SELECT: return e->negated ? CALX__PREC_ATOM : CALX__PREC_CMP;
    case CALX_X_BETWEEN: return CALX__PREC_CMP;
    case CALX_X_LABEL: return prec(c, e->u.label.a);
    case CALX_X_TRUTH:
    case CALX_X_FUNC:
    case CALX_X_CASE:
    case CALX_X_CAST:
    case CALX_X_JSON:    /* the dialect brings its parentheses */
    case CALX_X_ARRAY:
    case CALX_X_ERROR: break;
    }
    return CALX__PREC_ATOM;
}

void calx__sqlc_operand(calx__sqlc *c, const calx_expr *e, int p, bool as_condition)
{
    bool group = prec(c, e) <= p;
    if (group)
        calx__sqlc_put(c, "(");
    calx__sqlc_expr(c, e, as_condition);
    if (group)
        calx__sqlc_put(c, ")");
}

void calx__sqlc_column(calx__sqlc *c, const calx_table *t, size_t index)
{
    calx__sql_put_ident(&c->b, c->d, t->name, false);
    calx__sqlc_put(c, ".");
    calx__sql_put_ident(&c->b, c->d, t->columns[index].name, false);
}

static void in_list(calx__sqlc *c, const calx_expr *e)
{
    bool neg = e->negated;
    /* The values were made the column's (in_values): each is sent as its
     * type, so that PostgreSQL can hash the list. */
    calx_dtype type = calx__column_dtype(calx__expr_column(e->u.in.a), false);
    if (neg)
        calx__sqlc_put(c, "(");
    calx__sqlc_operand(c, e->u.in.a, CALX__PREC_CMP, false);
    calx__sqlc_put(c, neg ? " NOT IN (" : " IN (");
    if (e->u.in.n == 0) {
        /* SQLAlchemy's empty IN: a set that is empty on each dialect
         * (the dialect's empty_in / empty_not_in). */
        calx__sqlc_put(c, neg ? c->d->empty_not_in : c->d->empty_in);
    } else {
        for (size_t i = 0; i < e->u.in.n; i++) {
            if (i)
                calx__sqlc_put(c, ", ");
            /* None in an IN list renders NULL in SQLAlchemy, unbound. */
            if (e->u.in.vals[i].type == CALX_NULL)
                calx__sqlc_put(c, "NULL");
            else
                calx__sqlc_bind_typed(c, &e->u.in.vals[i], type);
        }
    }
    calx__sqlc_put(c, ")");
    if (neg)
        calx__sqlc_put(c, ")");
}

/* ---- operators and functions ---- */

/* A child of the binary operator parent: SQLAlchemy leaves a + b + c,
 * a * b * c and a || b || c without parentheses (the operators it calls
 * associative), and otherwise groups a child that binds no tighter. */
static void bin_operand(calx__sqlc *c, const calx_expr *parent, const calx_expr *child)
{
    calx_opcode op = parent->u.bin.op;
    if (child->kind == CALX_X_BINOP && child->u.bin.op == op &&
        (op == CALX_OP_ADD || op == CALX_OP_MUL || op == CALX_OP_CONCAT))
        calx__sqlc_expr(c, child, false);
    else
        calx__sqlc_operand(c, child, op_prec(op), false);
}

/* The right side of "/": true division, per the dialect (SQLAlchemy 2.0's
 * visit_truediv_binary and SQLite's override of it). */
static void truediv_right(calx__sqlc *c, const calx_expr *e)
{
    const calx_expr *b = e->u.bin.b;
    switch (c->d->truediv) {
    case CALX_TRUEDIV_NATIVE: bin_operand(c, e, b); return;
    case CALX_TRUEDIV_PLUS_REAL:
        calx__sqlc_put(c, "(");
        bin_operand(c, e, b);
        calx__sqlc_put(c, " + 0.0)");
        return;
    case CALX_TRUEDIV_CAST:
        calx__sqlc_put(c, "CAST(");
        bin_operand(c, e, b);
        calx__sqlc_put(c, " AS ");
        calx__sqlc_put(c, b->type == CALX_XT_REAL ? c->d->type_names[CALX_COL_DOUBLE]
                                                  : "NUMERIC");
        calx__sqlc_put(c, ")");
        return;
    }
}

/* a LIKE b [ESCAPE 'c'], with contains' '%' around b; ILIKE as
 * lower(a) LIKE lower(b) where the dialect has none. */
static void like(calx__sqlc *c, const calx_expr *e)
{
    calx_opcode op = e->u.bin.op;
    bool ilike = op == CALX_OP_ILIKE || op == CALX_OP_NOT_ILIKE;
    bool lower = ilike && !c->d->supports_ilike;
    bool neg = op == CALX_OP_NOT_LIKE || op == CALX_OP_NOT_ILIKE;
    calx__sqlc_put(c, lower ? "lower(" : "");
    calx__sqlc_operand(c, e->u.bin.a, CALX__PREC_CMP, false);
    calx__sqlc_put(c, lower ? ")" : "");
    calx__sqlc_put(c, neg ? " NOT" : "");
    calx__sqlc_put(c, ilike && !lower ? " ILIKE " : " LIKE ");
    calx__sqlc_put(c, lower ? "lower(" : "");
    if (e->u.bin.wrap & CALX_WRAP_BEFORE)
        calx__sqlc_put(c, "'%' || ");
    calx__sqlc_operand(c, e->u.bin.b, CALX__PREC_CMP, false);
    if (e->u.bin.wrap & CALX_WRAP_AFTER)
        calx__sqlc_put(c, " || '%'");
    calx__sqlc_put(c, lower ? ")" : "");
    if (e->u.bin.escape) {
        calx__sqlc_put(c, " ESCAPE ");
        char lit[5] = { '\'', e->u.bin.escape, '\'', 0, 0 };
        if (e->u.bin.escape == '\'') {    /* a quote is doubled */
            lit[2] = '\'';
            lit[3] = '\'';
        }
        calx__sqlc_put(c, lit);
    }
}

static void binop(calx__sqlc *c, const calx_expr *e)
{
    static const char *const ops[] = {
        [CALX_OP_EQ] = " = ",   [CALX_OP_NE] = " != ", [CALX_OP_LT] = " < ",
        [CALX_OP_LE] = " <= ",  [CALX_OP_GT] = " > ",  [CALX_OP_GE] = " >= ",
        [CALX_OP_ADD] = " + ",  [CALX_OP_SUB] = " - ", [CALX_OP_MUL] = " * ",
        [CALX_OP_DIV] = " / ",  [CALX_OP_MOD] = " % ", [CALX_OP_CONCAT] = " || ",
    };
    calx_opcode op = e->u.bin.op;
    switch (op) {
    case CALX_OP_LIKE:
    case CALX_OP_NOT_LIKE:
    case CALX_OP_ILIKE:
    case CALX_OP_NOT_ILIKE:
        like(c, e);
        return;
    case CALX_OP_IS_DISTINCT_FROM:
    case CALX_OP_IS_NOT_DISTINCT_FROM:
        calx__sqlc_operand(c, e->u.bin.a, CALX__PREC_CMP, false);
        calx__sqlc_put(c, " ");
        calx__sqlc_put(c, op == CALX_OP_IS_DISTINCT_FROM ? c->d->is_distinct_from
                                                         : c->d->is_not_distinct_from);
        calx__sqlc_put(c, " ");
        calx__sqlc_operand(c, e->u.bin.b, CALX__PREC_CMP, false);
        return;
    default:
        break;
    }
    bin_operand(c, e, e->u.bin.a);
    calx__sqlc_put(c, ops[op]);
    if (op == CALX_OP_DIV)
        truediv_right(c, e);
    else
        bin_operand(c, e, e->u.bin.b);
}

/* A CASE condition: SQLAlchemy groups every one but a column, a function,
 * and a boolean column's negation ("CASE WHEN (hero.age > ?) THEN"). */
static void case_condition(calx__sqlc *c, const calx_expr *cond)
{
    bool bare = prec(c, cond) == CALX__PREC_ATOM ||
                (cond->kind == CALX_X_NOT && calx__expr_is_bool_atom(cond->u.a));
    calx__sqlc_put(c, bare ? "" : "(");
    calx__sqlc_expr(c, cond, false);
    calx__sqlc_put(c, bare ? "" : ")");
}

static void ops_expr(calx__sqlc *c, const calx_expr *e)
{
    switch (e->kind) {
    case CALX_X_BETWEEN:
        calx__sqlc_operand(c, e->u.between.a, CALX__PREC_CMP, false);
        calx__sqlc_put(c, e->negated ? " NOT BETWEEN " : " BETWEEN ");
        calx__sqlc_operand(c, e->u.between.lo, CALX__PREC_CMP, false);
        calx__sqlc_put(c, " AND ");
        calx__sqlc_operand(c, e->u.between.hi, CALX__PREC_CMP, false);
        return;
    case CALX_X_TRUTH: {
        /* SQLAlchemy's visit_true / visit_false. */
        bool v = e->u.lit.v.u.b;
        if (c->d->supports_native_boolean)
            calx__sqlc_put(c, v ? "true" : "false");
        else
            calx__sqlc_put(c, v ? "1" : "0");
        return;
    }
    case CALX_X_FUNC:
        if (e->u.func.form == CALX_FUNC_NOW) {
            calx__sqlc_put(c, c->d->current_timestamp);
            return;
        }
        calx__sqlc_put(c, e->u.func.name);
        calx__sqlc_put(c, "(");
        if (e->u.func.form == CALX_FUNC_STAR)
            calx__sqlc_put(c, "*");
        for (size_t i = 0; i < e->u.func.n; i++) {
            calx__sqlc_put(c, i ? ", " : "");
            calx__sqlc_expr(c, e->u.func.args[i], false);
        }
        calx__sqlc_put(c, ")");
        return;
    case CALX_X_CASE:
        calx__sqlc_put(c, "CASE");
        for (size_t i = 0; i < e->u.kase.n; i++) {
            calx__sqlc_put(c, " WHEN ");
            case_condition(c, e->u.kase.items[2 * i]);
            calx__sqlc_put(c, " THEN ");
            calx__sqlc_expr(c, e->u.kase.items[2 * i + 1], false);
        }
        if (e->u.kase.else_) {
            calx__sqlc_put(c, " ELSE ");
            calx__sqlc_expr(c, e->u.kase.else_, false);
        }
        calx__sqlc_put(c, " END");
        return;
    case CALX_X_CAST:
        calx__sqlc_put(c, "CAST(");
        calx__sqlc_expr(c, e->u.cast.a, false);
        calx__sqlc_put(c, " AS ");
        calx__sqlc_put(c, c->d->type_names[e->u.cast.to]);
        calx__sqlc_put(c, ")");
        return;
    case CALX_X_LABEL:
        /* Outside a columns clause a label is its expression. */
        calx__sqlc_expr(c, e->u.label.a, false);
        return;
    case CALX_X_JSON:
        if (e->u.json.as == CALX_JSON_CONTAINS && !c->d->json_contains)
            calx__sqlc_fail(c, CALX_ERR_NOT_SUPPORTED,
                            "%s has no JSON containment (PostgreSQL's @>)", c->d->display_name);
        else if (e->u.json.as == CALX_JSON_CONTAINS)
            c->d->json_contains(c, e);
        else
            c->d->json_path(c, e);
        return;
    case CALX_X_ARRAY:
        if (!c->d->array_op)
            calx__sqlc_fail(c, CALX_ERR_NOT_SUPPORTED,
                            "%s has no arrays (ANY, @>, && and array_length are PostgreSQL's)",
                            c->d->display_name);
        else
            c->d->array_op(c, e);
        return;
    default:
        return;
    }
}

void calx__sqlc_labeled(calx__sqlc *c, const calx_expr *e)
{
    if (e->kind != CALX_X_LABEL) {
        calx__sqlc_expr(c, e, false);
        return;
    }
    calx__sqlc_expr(c, e->u.label.a, false);
    calx__sqlc_put(c, " AS ");
    calx__sql_put_ident(&c->b, c->d, e->u.label.name, false);
}

void calx__sqlc_expr(calx__sqlc *c, const calx_expr *e, bool as_condition)
{
    switch (e->kind) {
    case CALX_X_COL:
        calx__sqlc_colref(c, e);
        break;
    case CALX_X_LIT:
        if (e->u.lit.v.type == CALX_NULL)
            calx__sqlc_put(c, "NULL");
        else
            calx__sqlc_bind_typed(c, &e->u.lit.v, e->u.lit.dtype);
        break;
    case CALX_X_BINOP:
        binop(c, e);
        return;
    case CALX_X_ISNULL:
        calx__sqlc_operand(c, e->u.a, CALX__PREC_CMP, false);
        calx__sqlc_put(c, e->negated ? " IS NOT NULL" : " IS NULL");
        return;
    case CALX_X_IN:
        in_list(c, e);
        return;
    case CALX_X_AND:
    case CALX_X_OR: {
        int p = e->kind == CALX_X_AND ? CALX__PREC_AND : CALX__PREC_OR;
        for (size_t i = 0; i < e->u.list.n; i++) {
            if (i)
                calx__sqlc_put(c, e->kind == CALX_X_AND ? " AND " : " OR ");
            /* Same-precedence children need none: AND is flattened, and
             * PostgreSQL's empty IN is an AND itself. */
            calx__sqlc_operand(c, e->u.list.items[i], p - 1, true);
        }
        return;
    }
    case CALX_X_NOT:
        if (calx__expr_is_bool_atom(e->u.a)) {
            if (native_bool(c)) {
                calx__sqlc_put(c, "NOT ");
                calx__sqlc_expr(c, e->u.a, false);
            } else {
                calx__sqlc_expr(c, e->u.a, false);
                calx__sqlc_put(c, " = 0");
            }
            return;
        }
        calx__sqlc_put(c, "NOT (");
        calx__sqlc_expr(c, e->u.a, true);
        calx__sqlc_put(c, ")");
        return;
    /* select */
    case CALX_X_SUBQUERY:
    case CALX_X_EXISTS:
        calx__sqlc_put(c, e->kind == CALX_X_EXISTS ? "EXISTS (" : "(");
        calx__sqlc_subselect(c, e->u.sub.q);
        calx__sqlc_put(c, ")");
        return;
    case CALX_X_IN_SELECT:
        /* NOT IN carries its own parentheses, as the list form does. */
        if (e->negated)
            calx__sqlc_put(c, "(");
        calx__sqlc_operand(c, e->u.sub.a, CALX__PREC_CMP, false);
        calx__sqlc_put(c, e->negated ? " NOT IN (" : " IN (");
        calx__sqlc_subselect(c, e->u.sub.q);
        calx__sqlc_put(c, e->negated ? "))" : ")");
        return;
    case CALX_X_BETWEEN:
    case CALX_X_TRUTH:
    case CALX_X_FUNC:
    case CALX_X_CASE:
    case CALX_X_CAST:
    case CALX_X_LABEL:
    case CALX_X_JSON:
    case CALX_X_ARRAY:
        ops_expr(c, e);
        return;
    /* dml */
    case CALX_X_EXCLUDED:
        calx__sqlc_put(c, "excluded.");
        calx__sql_put_ident(&c->b, c->d, e->u.col.t->columns[e->u.col.index].name, false);
        break;
    case CALX_X_ERROR:
        return;
    }
    /* A column or literal. */
    if (as_condition && e->type == CALX_XT_BOOL && !native_bool(c))
        calx__sqlc_put(c, " = 1");
}

/* ---- the compiled form ---- */

void calx__sqlc_fail(calx__sqlc *c, int code, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = true;
    c->err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err.message, sizeof c->err.message, fmt, ap);
    va_end(ap);
}

int calx__sqlc_finish(calx__sqlc *c, calx_compiled *out, const char *what, calx_error *err)
{
    calx__sqlc_release(c);
    char *sql = calx__buf_take(&c->b);
    if (!sql || c->oom || c->failed) {
        calx_error failure = c->err;
        bool failed = c->failed && !c->oom && sql;
        free(sql);
        free(c->params);
        free(c->srcs);
        free(c->types);
        memset(c, 0, sizeof *c);
        if (failed) {
            if (err)
                *err = failure;
            return failure.code;
        }
        return calx__nomem(err, "compiling %s", what);
    }
    out->sql = sql;
    out->params = c->params;
    out->nparams = c->nparams;
    out->srcs = c->keep_srcs ? c->srcs : NULL;
    if (!c->keep_srcs)
        free(c->srcs);
    out->types = c->types;
    memset(c, 0, sizeof *c);
    return CALX_OK;
}

void calx__compiled_free(calx_compiled *c)
{
    if (!c)
        return;
    free(c->sql);
    free(c->params);
    free(c->srcs);
    free(c->types);
    memset(c, 0, sizeof *c);
}
