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
    CALX_X_NOT       /* NOT (a), or a negated boolean column / literal */
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
        struct {
            const calx_table *t;
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
    } u;
};

/* The type's name in messages: "INTEGER", "REAL", "BOOLEAN", "TEXT",
 * "BLOB", "TIMESTAMP", "NULL". */
const char *calx__xtype_name(calx_xtype t);

/* Writes what e is, for an error message: "hero.name (TEXT)", "an
 * INTEGER value", "a BOOLEAN expression". */
void calx__expr_describe(const calx_expr *e, char *buf, size_t size);

/* A BOOLEAN column or literal: standing alone as a condition it renders
 * "x = 1" on dialects without native booleans. */
static inline bool calx__expr_is_bool_atom(const calx_expr *e)
{
    return (e->kind == CALX_X_COL || e->kind == CALX_X_LIT) && e->type == CALX_XT_BOOL;
}

#endif
