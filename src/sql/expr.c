/* SPDX-License-Identifier: MIT */
/* The expression builders for leaves and operators: typed nodes with sticky
 * errors (see calx/sql.h); functions, CASE, CAST and labels are func.c's.
 * Type checks and literal conversions happen here, when a node is built,
 * so that the error names the column and value at fault and the compiler
 * never meets a tree it cannot render. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/value_int.h"
#include "sql/convert.h"
#include "sql/ddl.h"
#include "sql/expr_int.h"
#include "sql/select_int.h"
#include "sql/user_type.h"

/* ---- error nodes ---- */

/* Static error nodes for when there is no memory to make one, and for NULL
 * arguments (most likely a builder that failed for want of memory). They
 * are never written to, and calx_expr_free leaves them alone. */
static calx_error oom_error = {
    .code = CALX_ERR_NOMEM,
    .message = "out of memory building an SQL expression",
};
static calx_error null_error = {
    .code = CALX_ERR_NOMEM,
    .message = "out of memory building an SQL expression (an expression argument is NULL)",
};
static calx_expr oom_node = { .kind = CALX_X_ERROR, .u.error = &oom_error };
static calx_expr null_node = { .kind = CALX_X_ERROR, .u.error = &null_error };

static bool is_static(const calx_expr *e)
{
    return e == &oom_node || e == &null_node;
}

calx_expr *calx__expr_errorf(int code, const char *fmt, ...)
{
    calx_expr *e = calloc(1, sizeof *e);
    calx_error *err = calloc(1, sizeof *err);
    if (!e || !err) {
        free(e);
        free(err);
        return &oom_node;
    }
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    e->kind = CALX_X_ERROR;
    e->u.error = err;
    return e;
}

/* This file's short name for it. */
#define error_node calx__expr_errorf

calx_expr *calx__expr_oom(void)
{
    return &oom_node;
}

static calx_expr *new_node(calx_xkind kind, calx_xtype type)
{
    calx_expr *e = calloc(1, sizeof *e);
    if (e) {
        e->kind = kind;
        e->type = type;
    }
    return e;
}

calx_expr *calx__expr_new(calx_xkind kind, calx_xtype type)
{
    return new_node(kind, type);
}

calx_expr *calx__expr_new2(calx_xkind kind, calx_xtype type, calx_expr *a, calx_expr *b)
{
    calx_expr *e = new_node(kind, type);
    if (!e) {
        calx_expr_free(a);
        calx_expr_free(b);
    }
    return e;
}

void calx_expr_free(calx_expr *e)
{
    if (!e || is_static(e))
        return;
    switch (e->kind) {
    case CALX_X_ERROR: free(e->u.error); break;
    case CALX_X_COL:
    case CALX_X_EXCLUDED: break;
    case CALX_X_LIT: free(e->u.lit.bytes); break;
    case CALX_X_BINOP:
        calx_expr_free(e->u.bin.a);
        calx_expr_free(e->u.bin.b);
        break;
    case CALX_X_ISNULL:
    case CALX_X_NOT: calx_expr_free(e->u.a); break;
    case CALX_X_IN:
        calx_expr_free(e->u.in.a);
        free(e->u.in.vals);
        free(e->u.in.bytes);
        break;
    case CALX_X_AND:
    case CALX_X_OR:
        for (size_t i = 0; i < e->u.list.n; i++)
            calx_expr_free(e->u.list.items[i]);
        free(e->u.list.items);
        break;
    case CALX_X_BETWEEN:
        calx_expr_free(e->u.between.a);
        calx_expr_free(e->u.between.lo);
        calx_expr_free(e->u.between.hi);
        break;
    case CALX_X_TRUTH: break;
    case CALX_X_FUNC:
    case CALX_X_CASE:
    case CALX_X_CAST:
    case CALX_X_LABEL: calx__func_free_parts(e); break;
    case CALX_X_JSON:
        calx_expr_free(e->u.json.a);
        calx_expr_free(e->u.json.step);
        break;
    case CALX_X_ARRAY:
        calx_expr_free(e->u.arr.a);
        calx_expr_free(e->u.arr.b);
        break;
    /* select */
    case CALX_X_SUBQUERY:
    case CALX_X_EXISTS:
    case CALX_X_IN_SELECT:
        calx_expr_free(e->u.sub.a);
        calx_select_free(e->u.sub.q);
        break;
    }
    free(e);
}

void calx__expr_each_child(const calx_expr *e, void (*fn)(const calx_expr *, void *), void *arg)
{
    switch (e->kind) {
    case CALX_X_BINOP:
        fn(e->u.bin.a, arg);
        fn(e->u.bin.b, arg);
        return;
    case CALX_X_ISNULL:
    case CALX_X_NOT: fn(e->u.a, arg); return;
    case CALX_X_IN: fn(e->u.in.a, arg); return;
    case CALX_X_AND:
    case CALX_X_OR:
        for (size_t i = 0; i < e->u.list.n; i++)
            fn(e->u.list.items[i], arg);
        return;
    /* operators and functions */
    case CALX_X_BETWEEN:
        fn(e->u.between.a, arg);
        fn(e->u.between.lo, arg);
        fn(e->u.between.hi, arg);
        return;
    case CALX_X_FUNC:
        for (size_t i = 0; i < e->u.func.n; i++)
            fn(e->u.func.args[i], arg);
        return;
    case CALX_X_CASE:
        for (size_t i = 0; i < 2 * e->u.kase.n; i++)
            fn(e->u.kase.items[i], arg);
        if (e->u.kase.else_)
            fn(e->u.kase.else_, arg);
        return;
    case CALX_X_CAST: fn(e->u.cast.a, arg); return;
    case CALX_X_LABEL: fn(e->u.label.a, arg); return;
    case CALX_X_JSON:
        fn(e->u.json.a, arg);
        fn(e->u.json.step, arg);
        return;
    case CALX_X_ARRAY:
        fn(e->u.arr.a, arg);
        if (e->u.arr.b)
            fn(e->u.arr.b, arg);
        return;
    /* select: the left side of IN (SELECT ...); the select is not an
     * expression of this one. */
    case CALX_X_IN_SELECT: fn(e->u.sub.a, arg); return;
    case CALX_X_ERROR:
    case CALX_X_COL:
    case CALX_X_LIT:
    case CALX_X_TRUTH:
    case CALX_X_SUBQUERY:
    case CALX_X_EXISTS:
    case CALX_X_EXCLUDED: return;
    }
}

calx_expr *calx__expr_from_error(const calx_error *err)
{
    return error_node(err->code, "%s", err->message);
}

void calx__expr_free_all(calx_expr *const *kids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        calx_expr_free(kids[i]);
}

/* The first of kids[0..n) that is NULL or an error, as the node to return;
 * every other kid is freed. NULL when all are good (nothing freed). */
static calx_expr *take_error(calx_expr *const *kids, size_t n)
{
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (!kids[i] || kids[i]->kind == CALX_X_ERROR)
            bad = i;
    if (bad == n)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (i != bad)
            calx_expr_free(kids[i]);
    return kids[bad] ? kids[bad] : &null_node;
}

calx_expr *calx__expr_take_error(calx_expr *const *kids, size_t n)
{
    return take_error(kids, n);
}

/* ---- descriptions for messages ---- */

const char *calx__xtype_name(calx_xtype t)
{
    switch (t) {
    case CALX_XT_NULL: return "NULL";
    case CALX_XT_INT: return "INTEGER";
    case CALX_XT_REAL: return "REAL";
    case CALX_XT_BOOL: return "BOOLEAN";
    case CALX_XT_TEXT: return "TEXT";
    case CALX_XT_BLOB: return "BLOB";
    case CALX_XT_TIMESTAMP: return "TIMESTAMP";
    case CALX_XT_DECIMAL: return "DECIMAL";
    case CALX_XT_UUID: return "UUID";
    case CALX_XT_DATE: return "DATE";
    case CALX_XT_TIME: return "TIME";
    case CALX_XT_DATETIME: return "DATETIME";
    case CALX_XT_INTERVAL: return "INTERVAL";
    case CALX_XT_JSON: return "JSON";
    case CALX_XT_ARRAY: return "ARRAY";
    case CALX_XT_ANY: return "ANY";
    }
    return "?";
}

static const char *article(calx_xtype t)
{
    return t == CALX_XT_INT || t == CALX_XT_ANY ? "an" : "a";
}

const char *calx__expr_name(const calx_expr *e)
{
    switch (e->kind) {
    case CALX_X_LABEL: return e->u.label.name;
    case CALX_X_FUNC: return e->u.func.name;
    case CALX_X_COL:
        if (e->u.col.t)
            return e->u.col.t->columns[e->u.col.index].name;
        /* A subquery's column: the name the subquery gives it, unless that
         * is an anonymous one, given only when a statement compiles. */
        {
            calx__colname n;
            calx__select_colname(e->u.col.f->q, e->u.col.index, true, &n);
            return n.key ? NULL : n.base;
        }
    default: return NULL;
    }
}

void calx__expr_describe(const calx_expr *e, char *buf, size_t size)
{
    if (e->kind == CALX_X_COL) {
        char from[160];
        calx__fromref_describe(calx__col_fromref(e), from, sizeof from);
        calx__colname n = { .base = NULL };
        if (e->u.col.t)
            n.base = e->u.col.t->columns[e->u.col.index].name;
        else
            calx__select_colname(e->u.col.f->q, e->u.col.index, true, &n);
        snprintf(buf, size, "%s.%s (%s)", from, n.key ? "(unnamed)" : n.base,
                 calx__xtype_name(e->type));
    } else if (e->kind == CALX_X_LIT && e->type == CALX_XT_NULL) {
        snprintf(buf, size, "NULL");
    } else if (e->kind == CALX_X_FUNC) {
        snprintf(buf, size, "%s() (%s)", e->u.func.name, calx__xtype_name(e->type));
    } else if (e->kind == CALX_X_LABEL) {
        calx__expr_describe(e->u.label.a, buf, size);
    } else {
        snprintf(buf, size, "%s %s %s", article(e->type), calx__xtype_name(e->type),
                 e->kind == CALX_X_LIT ? "value" : "expression");
    }
}

/* ---- leaves ---- */

bool calx__xtype_of_col(calx_coltype ct, calx_xtype *out)
{
    switch (ct) {
    case CALX_COL_INT32:
    case CALX_COL_INT64: *out = CALX_XT_INT; return true;
    case CALX_COL_DOUBLE: *out = CALX_XT_REAL; return true;
    case CALX_COL_BOOL: *out = CALX_XT_BOOL; return true;
    case CALX_COL_TEXT: *out = CALX_XT_TEXT; return true;
    case CALX_COL_BLOB: *out = CALX_XT_BLOB; return true;
    case CALX_COL_TIMESTAMP: *out = CALX_XT_TIMESTAMP; return true;
    case CALX_COL_DECIMAL: *out = CALX_XT_DECIMAL; return true;
    case CALX_COL_UUID: *out = CALX_XT_UUID; return true;
    case CALX_COL_DATE: *out = CALX_XT_DATE; return true;
    case CALX_COL_TIME: *out = CALX_XT_TIME; return true;
    case CALX_COL_DATETIME: *out = CALX_XT_DATETIME; return true;
    case CALX_COL_INTERVAL: *out = CALX_XT_INTERVAL; return true;
    case CALX_COL_JSON: *out = CALX_XT_JSON; return true;
    case CALX_COL_ENUM: *out = CALX_XT_TEXT; return true;
    case CALX_COL_ARRAY: *out = CALX_XT_ARRAY; return true;
    }
    return false;
}

const calx_column *calx__expr_column(const calx_expr *e)
{
    if ((e->kind != CALX_X_COL && e->kind != CALX_X_EXCLUDED) || !e->u.col.t)
        return NULL;
    return &e->u.col.t->columns[e->u.col.index];
}

calx_expr *calx_col(const calx_table *t, size_t index)
{
    if (!t)
        return error_node(CALX_ERR_ARGUMENT, "calx_col: the table is NULL");
    if (index >= t->ncolumns)
        return error_node(CALX_ERR_ARGUMENT,
                          "table %s has no column at index %zu (it has %zu columns)",
                          t->name ? t->name : "(unnamed)", index, t->ncolumns);
    const calx_column *c = &t->columns[index];
    calx_xtype type;
    if (!t->name || !c->name || !calx__xtype_of_col(c->type, &type))
        return error_node(CALX_ERR_ARGUMENT, "column %zu of table %s has no %s", index,
                          t->name ? t->name : "(unnamed)",
                          !t->name || !c->name ? "name" : "valid type");
    return calx__col_node(t, NULL, index, type);
}

calx_expr *calx__col_node(const calx_table *t, const calx_from *f, size_t index,
                          calx_xtype type)
{
    calx_expr *e = new_node(CALX_X_COL, type);
    if (!e)
        return &oom_node;
    e->u.col.t = t;
    e->u.col.f = f;
    e->u.col.index = index;
    return e;
}

calx_expr *calx_col_named(const calx_table *t, const char *name)
{
    if (!t || !name)
        return error_node(CALX_ERR_ARGUMENT, "calx_col_named: the %s is NULL",
                          t ? "column name" : "table");
    for (size_t i = 0; i < t->ncolumns; i++)
        if (t->columns[i].name && strcmp(t->columns[i].name, name) == 0)
            return calx_col(t, i);
    return error_node(CALX_ERR_ARGUMENT, "table %s has no column '%s'",
                      t->name ? t->name : "(unnamed)", name);
}

calx_xtype calx__xtype_of_value(calx_type t)
{
    switch (t) {
    case CALX_NULL: return CALX_XT_NULL;
    case CALX_INT: return CALX_XT_INT;
    case CALX_REAL: return CALX_XT_REAL;
    case CALX_TEXT: return CALX_XT_TEXT;
    case CALX_BLOB: return CALX_XT_BLOB;
    case CALX_BOOL: return CALX_XT_BOOL;
    case CALX_DECIMAL: return CALX_XT_DECIMAL;
    case CALX_UUID: return CALX_XT_UUID;
    case CALX_DATE: return CALX_XT_DATE;
    case CALX_TIME: return CALX_XT_TIME;
    case CALX_DATETIME: return CALX_XT_DATETIME;
    case CALX_TIMESTAMP: return CALX_XT_TIMESTAMP;
    case CALX_INTERVAL: return CALX_XT_INTERVAL;
    case CALX_JSON: return CALX_XT_JSON;
    case CALX_ARRAY: return CALX_XT_ARRAY;
    }
    return CALX_XT_NULL;
}

/* A value calx_lit and calx_in_values accept: a known type, and bytes
 * behind any length. */
static bool value_ok(const calx_value *v)
{
    return calx__value_ok(v);
}

calx_expr *calx_lit(calx_value v)
{
    if (!value_ok(&v))
        return error_node(CALX_ERR_ARGUMENT,
                          "calx_lit: not a valid value (type %d, or text/blob bytes NULL)",
                          (int)v.type);
    calx_expr *e = new_node(CALX_X_LIT, calx__xtype_of_value(v.type));
    if (!e)
        return &oom_node;
    size_t keep = calx__value_keep_size(&v);
    if (keep) {
        if (!(e->u.lit.bytes = malloc(keep))) {
            free(e);
            return &oom_node;
        }
        char *p = e->u.lit.bytes;
        calx__value_keep(&v, &p);
    }
    e->u.lit.v = v;
    return e;
}

calx_expr *calx_lit_int(long long v)
{
    return calx_lit(calx_int((int64_t)v));
}

calx_expr *calx_lit_real(double v)
{
    return calx_lit(calx_real(v));
}

calx_expr *calx_lit_bool(bool v)
{
    return calx_lit(calx_bool(v));
}

calx_expr *calx_lit_text(const char *s)
{
    return calx_lit(calx_text(s));
}

calx_expr *calx_x_ptr_(const void *p)
{
    if (p)
        return error_node(CALX_ERR_ARGUMENT,
                          "CALX_X: a pointer that is neither a calx_expr * nor text "
                          "(only NULL, meaning SQL NULL, is taken)");
    return calx_lit(calx_null());
}

/* ---- conversions ---- */

/* Converts *v, compared with other (of type to), to to's type, as
 * SQLAlchemy coerces a literal to the column's type. where names the
 * value's place for the message ("" or " (IN value 2)"). */
static calx_expr *coerce(calx_value *v, calx_xtype to, const calx_expr *other,
                         const char *where)
{
    calx_xtype from = calx__xtype_of_value(v->type);
    const calx_column *col = calx__expr_column(other);
    if (from == CALX_XT_ARRAY && to == CALX_XT_ARRAY && col && col->type == CALX_COL_ARRAY) {
        char why[200];
        if (!calx__array_into_column(v, col, why, sizeof why))
            return NULL;
        char what[200];
        calx__expr_describe(other, what, sizeof what);
        return error_node(CALX_ERR_TYPE, "cannot compare %s with %s%s", what, why, where);
    }
    /* An enum column holds its names: a text that is none of them is a
     * mistake (SQLAlchemy's LookupError), not a comparison that matches
     * nothing. So is one compared with an enum array's elements (ANY). */
    if (from == CALX_XT_TEXT && col && calx__column_enum(col) &&
        calx__enum_index(col->enum_type, v->u.s.ptr, v->u.s.len) < 0) {
        char what[200];
        calx__expr_describe(other, what, sizeof what);
        return error_node(CALX_ERR_TYPE, "cannot compare %s with '%.*s'%s: not a name of enum "
                          "type %s", what, (int)(v->u.s.len > 60 ? 60 : v->u.s.len),
                          v->u.s.ptr, where, col->enum_type->name);
    }
    /* A decimal still goes to its column's scale below: SQLite compares
     * NUMERIC(10, 2) as integers of hundredths, so 10.5 must bind as 10.50. */
    if ((from == to && to != CALX_XT_DECIMAL) || from == CALX_XT_NULL || to == CALX_XT_NULL ||
        to == CALX_XT_ANY)
        return NULL;
    switch (to) {
    case CALX_XT_INT:
        if (from == CALX_XT_REAL)
            return NULL;     /* age >= 35.5 means what it says */
        if (from == CALX_XT_BOOL) {
            *v = calx_int(v->u.b);
            return NULL;
        }
        break;
    case CALX_XT_REAL:
        if (from == CALX_XT_INT) {
            *v = calx_real((double)v->u.i);
            return NULL;
        }
        break;
    case CALX_XT_BOOL:
        if (from == CALX_XT_INT && (v->u.i == 0 || v->u.i == 1)) {
            *v = calx_bool(v->u.i == 1);
            return NULL;
        }
        if (from == CALX_XT_INT) {
            char what[200];
            calx__expr_describe(other, what, sizeof what);
            return error_node(CALX_ERR_TYPE,
                              "cannot compare %s with the INTEGER value %lld%s: only 0 "
                              "and 1 convert to BOOLEAN",
                              what, (long long)v->u.i, where);
        }
        break;
    default:
        if (calx__xtype_is_rich(to)) {
            char why[200];
            if (!calx__value_into_column(v, to, calx__expr_column(other), why, sizeof why))
                return NULL;
            char what[200];
            calx__expr_describe(other, what, sizeof what);
            return error_node(CALX_ERR_TYPE, "cannot compare %s with %s%s", what, why,
                              where);
        }
        break;
    }
    char what[200];
    calx__expr_describe(other, what, sizeof what);
    return error_node(CALX_ERR_TYPE, "cannot compare %s with %s %s value%s", what,
                      article(from), calx__xtype_name(from), where);
}

/* lit, compared with column c of a user type, made c's stored value; NULL
 * or an error node. */
static calx_expr *user_bind(calx_expr *lit, const calx_column *c, const char *where)
{
    calx_type_scratch scratch;
    calx_error err;
    calx_value v = lit->u.lit.v;
    char *owned = NULL;
    calx__type_scratch_init(&scratch);
    int rc = calx__user_type_bind(c, &v, &scratch, &err);
    if (!rc)
        rc = calx__user_type_keep(&v, &owned, &err);
    calx__type_scratch_done(&scratch);
    if (rc)
        return error_node(rc, "%s%s", err.message, where);
    free(lit->u.lit.bytes);   /* after the copy: v may have pointed into it */
    lit->u.lit.bytes = owned;
    lit->u.lit.v = v;
    lit->type = calx__xtype_of_value(v.type);
    return NULL;
}

calx_expr *calx__expr_coerce(calx_expr *lit, calx_xtype to, const calx_expr *other,
                             const char *where)
{
    const calx_column *c = calx__expr_column(other);
    if (c && c->user_type && !lit->u.lit.stored) {
        calx_expr *fail = user_bind(lit, c, where);
        if (fail)
            return fail;
    }
    calx_expr *fail = coerce(&lit->u.lit.v, to, other, where);
    lit->type = calx__xtype_of_value(lit->u.lit.v.type);
    /* Sent as the column's type where the driver types parameters: an
     * array column's elements' when the literal meets them (ANY). */
    lit->u.lit.dtype =
        calx__column_dtype(c, c && c->type == CALX_COL_ARRAY && to != CALX_XT_ARRAY);
    return fail;
}

bool calx__xtype_comparable(calx_xtype a, calx_xtype b)
{
    if (a == b || a == CALX_XT_ANY || b == CALX_XT_ANY)
        return true;
    return (a == CALX_XT_INT || a == CALX_XT_REAL) && (b == CALX_XT_INT || b == CALX_XT_REAL);
}

static bool is_null_lit(const calx_expr *e)
{
    return e->kind == CALX_X_LIT && e->type == CALX_XT_NULL;
}

/* ---- operators ---- */

static const char *const op_sql[] = {
    [CALX_OP_EQ] = "=",         [CALX_OP_NE] = "!=",         [CALX_OP_LT] = "<",
    [CALX_OP_LE] = "<=",        [CALX_OP_GT] = ">",          [CALX_OP_GE] = ">=",
    [CALX_OP_LIKE] = "LIKE",    [CALX_OP_NOT_LIKE] = "NOT LIKE",
    [CALX_OP_ADD] = "+",        [CALX_OP_SUB] = "-",         [CALX_OP_MUL] = "*",
    [CALX_OP_DIV] = "/",        [CALX_OP_MOD] = "%",         [CALX_OP_CONCAT] = "||",
    [CALX_OP_ILIKE] = "ILIKE",  [CALX_OP_NOT_ILIKE] = "NOT ILIKE",
    [CALX_OP_IS_DISTINCT_FROM] = "IS DISTINCT FROM",
    [CALX_OP_IS_NOT_DISTINCT_FROM] = "IS NOT DISTINCT FROM",
};

static bool is_like_op(calx_opcode op)
{
    return op == CALX_OP_LIKE || op == CALX_OP_NOT_LIKE || op == CALX_OP_ILIKE ||
           op == CALX_OP_NOT_ILIKE;
}

static bool is_arith_op(calx_opcode op)
{
    return op >= CALX_OP_ADD && op <= CALX_OP_MOD;
}

static bool is_distinct_op(calx_opcode op)
{
    return op == CALX_OP_IS_DISTINCT_FROM || op == CALX_OP_IS_NOT_DISTINCT_FROM;
}

static calx_expr *is_null_node(calx_expr *a, bool negated)
{
    calx_expr *e = new_node(CALX_X_ISNULL, CALX_XT_BOOL);
    if (!e) {
        calx_expr_free(a);
        return &oom_node;
    }
    e->negated = negated;
    e->u.a = a;
    return e;
}

/* The type check of a comparison a op b (op: = != < <= > >=, IS [NOT]
 * DISTINCT FROM, BETWEEN's bounds): a literal converts to the other side's
 * type, two other expressions must be comparable. NULL when fine, else an
 * error node; a and b are never freed. */
static calx_expr *check_compare(calx_expr *a, calx_expr *b)
{
    char wa[200], wb[200];
    if (b->kind == CALX_X_LIT)      /* both literals too: the right one follows */
        return calx__expr_coerce(b, a->type, a, "");
    if (a->kind == CALX_X_LIT)
        return calx__expr_coerce(a, b->type, b, "");
    if (calx__xtype_comparable(a->type, b->type))
        return NULL;
    calx__expr_describe(a, wa, sizeof wa);
    calx__expr_describe(b, wb, sizeof wb);
    return error_node(CALX_ERR_TYPE, "cannot compare %s with %s", wa, wb);
}

static bool numeric(calx_xtype t)
{
    return t == CALX_XT_INT || t == CALX_XT_REAL || t == CALX_XT_ANY;
}

/* The type check of arithmetic, and its result type in *type: INTEGER op
 * INTEGER is INTEGER, with a REAL it is REAL (an INTEGER literal against a
 * REAL becomes a real, as in a comparison), / is always REAL (true
 * division), % takes INTEGER only; ANY gives ANY. */
static calx_expr *check_arith(calx_opcode op, calx_expr *a, calx_expr *b, calx_xtype *type)
{
    char wa[200], wb[200];
    calx__expr_describe(a, wa, sizeof wa);
    calx__expr_describe(b, wb, sizeof wb);
    if (!numeric(a->type) || !numeric(b->type)) {
        switch (op) {
        case CALX_OP_ADD:
            return error_node(CALX_ERR_TYPE, "cannot add %s to %s", wa, wb);
        case CALX_OP_SUB:
            return error_node(CALX_ERR_TYPE, "cannot subtract %s from %s", wb, wa);
        case CALX_OP_MUL:
            return error_node(CALX_ERR_TYPE, "cannot multiply %s by %s", wa, wb);
        case CALX_OP_DIV:
            return error_node(CALX_ERR_TYPE, "cannot divide %s by %s", wa, wb);
        default:
            return error_node(CALX_ERR_TYPE, "cannot take %s modulo %s", wa, wb);
        }
    }
    if (op == CALX_OP_MOD && (a->type == CALX_XT_REAL || b->type == CALX_XT_REAL))
        return error_node(CALX_ERR_TYPE, "%% takes INTEGER operands, not %s",
                                a->type == CALX_XT_REAL ? wa : wb);
    if (b->kind == CALX_X_LIT && a->type == CALX_XT_REAL)
        calx__expr_coerce(b, CALX_XT_REAL, a, "");
    else if (a->kind == CALX_X_LIT && b->type == CALX_XT_REAL)
        calx__expr_coerce(a, CALX_XT_REAL, b, "");
    if (a->type == CALX_XT_ANY || b->type == CALX_XT_ANY)
        *type = CALX_XT_ANY;
    else if (op == CALX_OP_DIV || a->type == CALX_XT_REAL || b->type == CALX_XT_REAL)
        *type = CALX_XT_REAL;
    else
        *type = CALX_XT_INT;
    return NULL;
}

static bool textual(calx_xtype t)
{
    return t == CALX_XT_TEXT || t == CALX_XT_ANY;
}

/* SQLAlchemy renders a comparison with Python's True / False inline
 * (true / false, or 1 / 0 without native booleans), never bound: a bool
 * literal compared with a BOOLEAN expression becomes a TRUTH node. */
static void inline_truth(calx_expr *a, calx_expr *b)
{
    if (b->kind == CALX_X_LIT && b->u.lit.v.type == CALX_BOOL && a->type == CALX_XT_BOOL)
        b->kind = CALX_X_TRUTH;
    else if (a->kind == CALX_X_LIT && a->u.lit.v.type == CALX_BOOL && b->type == CALX_XT_BOOL &&
             b->kind != CALX_X_LIT)
        a->kind = CALX_X_TRUTH;
}

static calx_expr *binop(calx_opcode op, calx_expr *a, calx_expr *b, char escape, unsigned wrap)
{
    calx_expr *kids[2] = { a, b };
    calx_expr *bad = take_error(kids, 2);
    if (bad)
        return bad;
    calx_expr *fail = NULL;
    calx_xtype type = CALX_XT_BOOL;
    char wa[200], wb[200];
    if ((unsigned)op > CALX_OP_IS_NOT_DISTINCT_FROM) {
        fail = error_node(CALX_ERR_ARGUMENT, "calx_binop: unknown operator %d", (int)op);
    } else if (is_arith_op(op)) {
        fail = check_arith(op, a, b, &type);
    } else if (op == CALX_OP_CONCAT) {
        type = CALX_XT_TEXT;
        if (!textual(a->type) || !textual(b->type)) {
            calx__expr_describe(a, wa, sizeof wa);
            calx__expr_describe(b, wb, sizeof wb);
            fail = error_node(CALX_ERR_TYPE, "cannot concatenate %s with %s: || takes TEXT",
                                    wa, wb);
        }
    } else if ((is_null_lit(a) || is_null_lit(b)) && !is_distinct_op(op)) {
        if (op == CALX_OP_EQ || op == CALX_OP_NE) {
            /* SQLAlchemy's col == None: IS NULL, never "= NULL", which is
             * never true. */
            calx_expr *other = is_null_lit(b) ? a : b;
            calx_expr_free(other == a ? b : a);
            return is_null_node(other, op == CALX_OP_NE);
        }
        calx__expr_describe(is_null_lit(a) ? b : a, wa, sizeof wa);
        fail = error_node(CALX_ERR_TYPE,
                                "cannot compare %s with NULL using %s: only = and != take NULL "
                                "(they render IS NULL / IS NOT NULL)",
                                wa, op_sql[op]);
    } else if (is_like_op(op)) {
        if (!textual(a->type) || !textual(b->type)) {
            calx__expr_describe(!textual(a->type) ? a : b, wa, sizeof wa);
            fail = error_node(CALX_ERR_TYPE, "%s needs TEXT on both sides, not %s",
                                    op_sql[op], wa);
        }
    } else if (!is_null_lit(a) && !is_null_lit(b)) {
        fail = check_compare(a, b);
    }
    calx_expr *e = fail ? NULL : new_node(CALX_X_BINOP, type);
    if (!e) {
        calx_expr_free(a);
        calx_expr_free(b);
        return fail ? fail : &oom_node;
    }
    if (op == CALX_OP_EQ || op == CALX_OP_NE || is_distinct_op(op))
        inline_truth(a, b);
    e->u.bin.op = op;
    e->u.bin.a = a;
    e->u.bin.b = b;
    e->u.bin.escape = escape;
    e->u.bin.wrap = (unsigned char)wrap;
    return e;
}

calx_expr *calx_binop(calx_opcode op, calx_expr *a, calx_expr *b)
{
    return binop(op, a, b, 0, 0);
}

calx_expr *calx_binop_escape(calx_opcode op, calx_expr *a, calx_expr *b, char c)
{
    /* Rendered inline between quotes: printable ASCII only, so that no
     * quote or encoding question arises ('\'' is doubled). */
    if (!is_like_op(op) || c < '!' || c > '~') {
        calx_expr *kids[2] = { a, b };
        calx_expr *bad = take_error(kids, 2);
        if (bad)
            return bad;
        calx__expr_free_all(kids, 2);
        if (!is_like_op(op))
            return error_node(CALX_ERR_ARGUMENT,
                                    "calx_binop_escape: ESCAPE goes with LIKE and ILIKE, not "
                                    "operator %d",
                                    (int)op);
        return error_node(CALX_ERR_ARGUMENT,
                                "calx_binop_escape: the ESCAPE character must be printable "
                                "ASCII, not %d",
                                (int)(unsigned char)c);
    }
    return binop(op, a, b, c, 0);
}

calx_expr *calx_text_match(calx_matchkind how, calx_expr *a, calx_expr *s)
{
    static const char *const names[] = { "contains", "startswith", "endswith" };
    static const unsigned wraps[] = { CALX_WRAP_BEFORE | CALX_WRAP_AFTER, CALX_WRAP_AFTER,
                                      CALX_WRAP_BEFORE };
    calx_expr *kids[2] = { a, s };
    calx_expr *bad = take_error(kids, 2);
    if (bad)
        return bad;
    calx_expr *fail = NULL;
    char what[200];
    if ((unsigned)how > CALX_MATCH_ENDSWITH) {
        fail = error_node(CALX_ERR_ARGUMENT, "calx_text_match: unknown kind %d", (int)how);
    } else if (s->kind != CALX_X_LIT || s->type != CALX_XT_TEXT) {
        /* As SQLAlchemy's autoescape: only a value can be escaped. */
        calx__expr_describe(s, what, sizeof what);
        fail = error_node(CALX_ERR_TYPE, "%s escapes a TEXT value, not %s", names[how],
                                what);
    } else if (!textual(a->type)) {
        calx__expr_describe(a, what, sizeof what);
        fail = error_node(CALX_ERR_TYPE, "%s needs TEXT, not %s", names[how], what);
    }
    if (fail) {
        calx__expr_free_all(kids, 2);
        return fail;
    }
    /* '/', '%' and '_' get a '/' before them: the value matches as written. */
    size_t len = s->u.lit.v.u.s.len, n = 0;
    char *esc = malloc(2 * len + 1);
    if (!esc) {
        calx__expr_free_all(kids, 2);
        return &oom_node;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = s->u.lit.bytes[i];
        if (ch == '/' || ch == '%' || ch == '_')
            esc[n++] = '/';
        esc[n++] = ch;
    }
    esc[n] = '\0';
    free(s->u.lit.bytes);
    s->u.lit.bytes = esc;
    s->u.lit.v = calx_textn(esc, n);
    return binop(CALX_OP_LIKE, a, s, '/', wraps[how]);
}

calx_expr *calx_between_expr(calx_expr *a, calx_expr *lo, calx_expr *hi)
{
    calx_expr *kids[3] = { a, lo, hi };
    calx_expr *bad = take_error(kids, 3);
    if (bad)
        return bad;
    calx_expr *fail = NULL;
    char what[200];
    if (is_null_lit(a) || is_null_lit(lo) || is_null_lit(hi)) {
        calx__expr_describe(is_null_lit(a) ? lo : a, what, sizeof what);
        fail = error_node(CALX_ERR_TYPE, "cannot compare %s with NULL using BETWEEN", what);
    } else if (!(fail = check_compare(a, lo))) {
        fail = check_compare(a, hi);
    }
    calx_expr *e = fail ? NULL : new_node(CALX_X_BETWEEN, CALX_XT_BOOL);
    if (!e) {
        calx__expr_free_all(kids, 3);
        return fail ? fail : &oom_node;
    }
    e->u.between.a = a;
    e->u.between.lo = lo;
    e->u.between.hi = hi;
    return e;
}

calx_expr *calx_is_null(calx_expr *a)
{
    if (!a || a->kind == CALX_X_ERROR)
        return a ? a : &null_node;
    return is_null_node(a, false);
}

calx_expr *calx_is_not_null(calx_expr *a)
{
    if (!a || a->kind == CALX_X_ERROR)
        return a ? a : &null_node;
    return is_null_node(a, true);
}

static calx_expr *in_values(calx_expr *a, const calx_value *vals, size_t n);

/* a IN vals, a a column of a user type: the values made the stored ones
 * first. */
static calx_expr *in_user_values(calx_expr *a, const calx_column *c, const calx_value *vals,
                                 size_t n)
{
    calx_value *stored = malloc(n * sizeof *stored);
    if (!stored) {
        calx_expr_free(a);
        return &oom_node;
    }
    calx_type_scratch scratch;
    calx__type_scratch_init(&scratch);
    calx_expr *e = NULL;
    for (size_t i = 0; i < n && !e; i++) {
        calx_error err;
        stored[i] = vals[i];
        if (value_ok(&stored[i]) && calx__user_type_bind(c, &stored[i], &scratch, &err)) {
            calx_expr_free(a);
            e = error_node(err.code, "%s (IN value %zu)", err.message, i + 1);
        }
    }
    if (!e)
        e = in_values(a, stored, n);   /* copies the values */
    calx__type_scratch_done(&scratch);
    free(stored);
    return e;
}

calx_expr *calx_in_values(calx_expr *a, const calx_value *vals, size_t n)
{
    if (!a || a->kind == CALX_X_ERROR)
        return a ? a : &null_node;
    if (n && !vals) {
        calx_expr_free(a);
        return error_node(CALX_ERR_ARGUMENT, "calx_in_values: %zu values but vals is NULL", n);
    }
    const calx_column *c = calx__expr_column(a);
    if (c && c->user_type && n)
        return in_user_values(a, c, vals, n);
    return in_values(a, vals, n);
}

static calx_expr *in_values(calx_expr *a, const calx_value *vals, size_t n)
{
    size_t nbytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (!value_ok(&vals[i])) {
            calx_expr_free(a);
            return error_node(CALX_ERR_ARGUMENT, "IN value %zu is not a valid value", i + 1);
        }
        nbytes += calx__value_keep_size(&vals[i]);
    }
    calx_expr *e = new_node(CALX_X_IN, CALX_XT_BOOL);
    if (!e || (n && !(e->u.in.vals = malloc(n * sizeof *vals))) ||
        (nbytes && !(e->u.in.bytes = malloc(nbytes)))) {
        if (e)
            free(e->u.in.vals);
        free(e);
        calx_expr_free(a);
        return &oom_node;
    }
    e->u.in.a = a;
    e->u.in.n = n;
    char *p = e->u.in.bytes;
    for (size_t i = 0; i < n; i++) {
        calx_value v = vals[i];
        calx__value_keep(&v, &p);
        char where[48];
        snprintf(where, sizeof where, " (IN value %zu)", i + 1);
        calx_expr *fail = coerce(&v, a->type, a, where);
        if (fail) {
            calx_expr_free(e);
            return fail;
        }
        e->u.in.vals[i] = v;
    }
    return e;
}

/* ---- AND, OR, NOT ---- */

static calx_expr *not_boolean(const char *op, calx_expr *bad)
{
    char what[200];
    calx__expr_describe(bad, what, sizeof what);
    return error_node(CALX_ERR_TYPE, "%s takes BOOLEAN expressions, not %s", op, what);
}

static calx_expr *list_n(calx_xkind kind, calx_expr *const *items, size_t n)
{
    const char *name = kind == CALX_X_AND ? "AND" : "OR";
    if (n && !items)
        return &null_node;
    calx_expr *bad = take_error(items, n);
    if (bad)
        return bad;
    if (n == 0)
        return error_node(CALX_ERR_ARGUMENT, "%s needs at least one condition", name);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i]->type != CALX_XT_BOOL) {
            calx_expr *fail = not_boolean(name, items[i]);
            for (size_t k = 0; k < n; k++)
                calx_expr_free(items[k]);
            return fail;
        }
        total += items[i]->kind == kind ? items[i]->u.list.n : 1;
    }
    if (n == 1)
        return items[0];
    calx_expr *e = new_node(kind, CALX_XT_BOOL);
    if (!e || !(e->u.list.items = malloc(total * sizeof *e->u.list.items))) {
        free(e);
        for (size_t k = 0; k < n; k++)
            calx_expr_free(items[k]);
        return &oom_node;
    }
    /* a AND (b AND c) is a AND b AND c: the nested list's items move up
     * and its shell is freed. */
    for (size_t i = 0; i < n; i++) {
        calx_expr *it = items[i];
        if (it->kind == kind) {
            memcpy(e->u.list.items + e->u.list.n, it->u.list.items,
                   it->u.list.n * sizeof *it->u.list.items);
            e->u.list.n += it->u.list.n;
            free(it->u.list.items);
            free(it);
        } else {
            e->u.list.items[e->u.list.n++] = it;
        }
    }
    return e;
}

calx_expr *calx_and_n(calx_expr *const *items, size_t n)
{
    return list_n(CALX_X_AND, items, n);
}

calx_expr *calx_or_n(calx_expr *const *items, size_t n)
{
    return list_n(CALX_X_OR, items, n);
}

calx_expr *calx_not(calx_expr *a)
{
    if (!a || a->kind == CALX_X_ERROR)
        return a ? a : &null_node;
    if (a->type != CALX_XT_BOOL) {
        calx_expr *fail = not_boolean("NOT", a);
        calx_expr_free(a);
        return fail;
    }
    switch (a->kind) {
    case CALX_X_BINOP: {
        /* SQLAlchemy's negation table for comparisons. */
        static const calx_opcode neg[] = {
            [CALX_OP_EQ] = CALX_OP_NE,   [CALX_OP_NE] = CALX_OP_EQ,
            [CALX_OP_LT] = CALX_OP_GE,   [CALX_OP_LE] = CALX_OP_GT,
            [CALX_OP_GT] = CALX_OP_LE,   [CALX_OP_GE] = CALX_OP_LT,
            [CALX_OP_LIKE] = CALX_OP_NOT_LIKE, [CALX_OP_NOT_LIKE] = CALX_OP_LIKE,
            [CALX_OP_ILIKE] = CALX_OP_NOT_ILIKE, [CALX_OP_NOT_ILIKE] = CALX_OP_ILIKE,
            [CALX_OP_IS_DISTINCT_FROM] = CALX_OP_IS_NOT_DISTINCT_FROM,
            [CALX_OP_IS_NOT_DISTINCT_FROM] = CALX_OP_IS_DISTINCT_FROM,
        };
        /* Every BOOLEAN operator is a comparison with a negation. */
        a->u.bin.op = neg[a->u.bin.op];
        return a;
    }
    case CALX_X_ISNULL:
    case CALX_X_IN:
    case CALX_X_BETWEEN:
    case CALX_X_IN_SELECT:
        a->negated = !a->negated;
        return a;
    case CALX_X_NOT:
        /* NOT NOT col is col; NOT NOT (a AND b) stays, as in SQLAlchemy. */
        if (calx__expr_is_bool_atom(a->u.a)) {
            calx_expr *inner = a->u.a;
            free(a);
            return inner;
        }
        break;
    default:
        break;
    }
    calx_expr *e = new_node(CALX_X_NOT, CALX_XT_BOOL);
    if (!e) {
        calx_expr_free(a);
        return &oom_node;
    }
    e->u.a = a;
    return e;
}

/* ---- subqueries (select) ---- */

/* NULL when q can stand in an expression with ncols columns (0: any);
 * else the error node to return, q and a freed. */
static calx_expr *subquery_unusable(calx_select *q, calx_expr *a, size_t ncols,
                                    const char *what)
{
    calx_error err;
    calx_expr *bad = NULL;
    if (!q) {
        bad = error_node(CALX_ERR_NOMEM, "out of memory building %s (the select is NULL)", what);
    } else if (calx_select_error(q, &err)) {
        bad = calx__expr_from_error(&err);
    } else if (ncols && calx__select_ncols(q) != ncols) {
        size_t n = calx__select_ncols(q);
        bad = error_node(CALX_ERR_ARGUMENT, "%s needs a select of one column, not %zu", what, n);
    }
    if (bad) {
        calx_expr_free(a);
        calx_select_free(q);
    }
    return bad;
}

static calx_expr *sub_node(calx_xkind kind, calx_xtype type, calx_select *q, calx_expr *a)
{
    calx_expr *e = new_node(kind, type);
    if (!e) {
        calx_expr_free(a);
        calx_select_free(q);
        return &oom_node;
    }
    e->u.sub.q = q;
    e->u.sub.a = a;
    return e;
}

calx_expr *calx_scalar_subquery(calx_select *q)
{
    calx_expr *bad = subquery_unusable(q, NULL, 1, "a scalar subquery");
    if (bad)
        return bad;
    return sub_node(CALX_X_SUBQUERY, calx__select_col(q, 0)->type, q, NULL);
}

calx_expr *calx_exists(calx_select *q)
{
    calx_expr *bad = subquery_unusable(q, NULL, 0, "EXISTS");
    if (bad)
        return bad;
    return sub_node(CALX_X_EXISTS, CALX_XT_BOOL, q, NULL);
}

calx_expr *calx_in_select(calx_expr *a, calx_select *q)
{
    if (!a || a->kind == CALX_X_ERROR) {
        calx_select_free(q);
        return a ? a : &null_node;
    }
    calx_expr *bad = subquery_unusable(q, a, 1, "IN (SELECT ...)");
    if (bad)
        return bad;
    const calx_expr *col = calx__select_col(q, 0);
    calx_expr *fail = NULL;
    char wa[200], wb[200];
    if (a->kind == CALX_X_LIT) {
        /* A value IN a column: converted as a comparison converts it. */
        fail = coerce(&a->u.lit.v, col->type, col, " (IN (SELECT ...))");
        a->type = calx__xtype_of_value(a->u.lit.v.type);
    } else if (col->type != CALX_XT_NULL && a->type != CALX_XT_NULL &&
               !calx__xtype_comparable(a->type, col->type)) {
        calx__expr_describe(a, wa, sizeof wa);
        calx__expr_describe(col, wb, sizeof wb);
        fail = error_node(CALX_ERR_TYPE, "cannot compare %s with %s IN (SELECT ...)", wa, wb);
    }
    if (fail) {
        calx_expr_free(a);
        calx_select_free(q);
        return fail;
    }
    return sub_node(CALX_X_IN_SELECT, CALX_XT_BOOL, q, a);
}
