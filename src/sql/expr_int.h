/* The insides of expressions, shared by the builders (expr.c, select.c)
 * and the compiler (compile_expr.c and the statement compilers). */
#ifndef CALX_SQL_EXPR_INT_H
#define CALX_SQL_EXPR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "calx/sql.h"

typedef enum calx_xkind {
    CALX_X_ERROR,    /* carries an error; never rendered */
    CALX_X_COL,      /* table.column */
    CALX_X_LIT,      /* a bound parameter, or NULL */
    CALX_X_BINOP,    /* a op b */
    CALX_X_ISNULL,   /* a IS [NOT] NULL */
    CALX_X_IN,       /* a [NOT] IN (...) */
    CALX_X_AND,
    CALX_X_OR,
    CALX_X_NOT,      /* NOT (a), or a negated boolean column / literal */
    /* select (subqueries in expressions: expr.c's "subqueries" section) */
    CALX_X_SUBQUERY, /* (SELECT ...): a scalar subquery (u.sub) */
    CALX_X_EXISTS,   /* EXISTS (SELECT ...) (u.sub) */
    CALX_X_IN_SELECT /* a [NOT] IN (SELECT ...) (u.sub, with a) */
} calx_xkind;

/* An expression's type. Column types map onto these (INT32 and INT64 are
 * INTEGER, DOUBLE is REAL). */
typedef enum calx_xtype {
    CALX_XT_NULL,    /* the NULL literal only */
    CALX_XT_INT,
    CALX_XT_REAL,
    CALX_XT_BOOL,
    CALX_XT_TEXT,
    CALX_XT_BLOB,
    CALX_XT_TIMESTAMP
} calx_xtype;

struct calx_expr {
    calx_xkind kind;
    calx_xtype type;
    bool negated;                /* ISNULL: IS NOT NULL; IN: NOT IN */
    union {
        calx_error *error;       /* ERROR */
        /* A column of a FROM item: the table t's column index (f NULL: of
         * t itself; f an alias of t: of the alias), or, t NULL, the
         * index-th column of the subquery or CTE f. */
        struct {
            const calx_table *t;
            const calx_from *f;
            size_t index;
        } col;
        struct {
            calx_value v;        /* text and blob point into bytes */
            char *bytes;
        } lit;
        struct {
            calx_opcode op;
            calx_expr *a, *b;
        } bin;
        calx_expr *a;            /* ISNULL, NOT */
        struct {
            calx_expr *a;
            calx_value *vals;    /* text and blob point into bytes */
            size_t n;
            char *bytes;
        } in;
        struct {
            calx_expr **items;   /* two or more */
            size_t n;
        } list;                  /* AND, OR */
        struct {
            calx_select *q;      /* owned */
            calx_expr *a;        /* IN_SELECT: the left side, owned */
        } sub;                   /* SUBQUERY, EXISTS, IN_SELECT */
    } u;
};

/* The type's name in messages: "INTEGER", "REAL", "BOOLEAN", "TEXT",
 * "BLOB", "TIMESTAMP", "NULL". */
const char *calx__xtype_name(calx_xtype t);

/* Writes what e is, for an error message: "hero.name (TEXT)", "an
 * INTEGER value", "a BOOLEAN expression". */
void calx__expr_describe(const calx_expr *e, char *buf, size_t size);

/* A column node of table t's column index, seen through f (NULL: t
 * itself), or of the subquery / CTE f's index-th column (t NULL), of type
 * type. Never NULL (the static out-of-memory node instead). */
calx_expr *calx__col_node(const calx_table *t, const calx_from *f, size_t index,
                          calx_xtype type);

/* The xtype of a column type; false for a value that is no column type. */
bool calx__xtype_of_col(calx_coltype ct, calx_xtype *out);

/* An error node carrying err's code and message (the static out-of-memory
 * node when there is no memory for one). */
calx_expr *calx__expr_from_error(const calx_error *err);

/* Calls fn(child, arg) for each expression e owns directly, in the order
 * they are rendered; the selects of subqueries are not expressions and
 * are not visited (their FROM and correlation are their own). Used by the
 * select to find the FROM items an expression names. */
void calx__expr_each_child(const calx_expr *e, void (*fn)(const calx_expr *, void *),
                           void *arg);

/* A BOOLEAN column or literal: standing alone as a condition it renders
 * "x = 1" on dialects without native booleans. */
static inline bool calx__expr_is_bool_atom(const calx_expr *e)
{
    return (e->kind == CALX_X_COL || e->kind == CALX_X_LIT) && e->type == CALX_XT_BOOL;
}

#endif
