/* SPDX-License-Identifier: MIT */
/* The insides of expressions, shared by the builders (expr.c: leaves and
 * operators; func.c: functions, CASE, CAST, labels; select.c) and the
 * compiler (compile_expr.c and the statement compilers). */
#ifndef CALX_SQL_EXPR_INT_H
#define CALX_SQL_EXPR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "calx/sql.h"
#include "driver/driver.h"

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
    /* ---- operators and functions (expr.c, func.c) ---- */
    CALX_X_BETWEEN,  /* a [NOT] BETWEEN lo AND hi */
    CALX_X_TRUTH,    /* a bool compared with a BOOLEAN, inline: true / false, or 1 / 0 */
    CALX_X_FUNC,     /* name(args), count(*), the dialect's current time */
    CALX_X_CASE,     /* CASE WHEN c THEN r ... [ELSE e] END */
    CALX_X_CAST,     /* CAST(a AS <the dialect's type name>) */
    CALX_X_LABEL,    /* a AS name in a columns clause; a anywhere else */
    CALX_X_JSON,     /* a JSON path step a[step] (json.c), read as u.json.as says, or
                        a @> step (CALX_JSON_CONTAINS): the dialect renders it */
    CALX_X_ARRAY,    /* an array operation (array.c), u.arr.op: the dialect renders it */
    /* select (subqueries in expressions: expr.c's "subqueries" section) */
    CALX_X_SUBQUERY, /* (SELECT ...): a scalar subquery (u.sub) */
    CALX_X_EXISTS,   /* EXISTS (SELECT ...) (u.sub) */
    CALX_X_IN_SELECT, /* a [NOT] IN (SELECT ...) (u.sub, with a) */
    /* dml (insert.c) */
    CALX_X_EXCLUDED  /* excluded.column (u.col): the row an INSERT ... ON CONFLICT
                        DO UPDATE proposed */
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
    CALX_XT_TIMESTAMP,
    CALX_XT_DECIMAL,
    CALX_XT_UUID,
    CALX_XT_DATE,
    CALX_XT_TIME,
    CALX_XT_DATETIME,
    CALX_XT_INTERVAL,
    CALX_XT_JSON,
    CALX_XT_ARRAY,   /* a one-dimensional array; its column's array_of says of what */
    CALX_XT_ANY      /* calx_func_n's result type 0: compares with everything */
} calx_xtype;

/* What a JSON node gives (CALX_X_JSON). */
typedef enum calx_json_as {
    CALX_JSON_VALUE,    /* the JSON found, as JSON */
    CALX_JSON_TEXT,     /* a string's text (SQLAlchemy's as_string()) */
    CALX_JSON_INT,      /* as_integer() */
    CALX_JSON_REAL,     /* as_float() */
    CALX_JSON_BOOL,     /* as_boolean() */
    CALX_JSON_CONTAINS  /* a @> step: step's JSON is contained in a */
} calx_json_as;

/* What an array node does (CALX_X_ARRAY): a is the array. */
typedef enum calx_array_op {
    CALX_ARRAY_ANY,       /* b = ANY (a) */
    CALX_ARRAY_CONTAINS,  /* a @> b, b an array */
    CALX_ARRAY_OVERLAPS,  /* a && b, b an array */
    CALX_ARRAY_LENGTH     /* array_length(a, 1); b NULL */
} calx_array_op;

/* The most steps a JSON path takes. */
#define CALX__JSON_PATH_MAX 32

/* json.c: the steps of the path ending at e, first step first, into steps
 * (room for CALX__JSON_PATH_MAX), and their number; and the JSON the path
 * starts from. For the dialects' json_path. */
size_t calx__json_path_steps(const struct calx_expr *e, const struct calx_expr **steps);
const struct calx_expr *calx__json_path_base(const struct calx_expr *e);

/* How a function node renders (CALX_X_FUNC). */
typedef enum calx_funcform {
    CALX_FUNC_CALL,  /* name(arg, ...) */
    CALX_FUNC_STAR,  /* name(*): count(*) */
    CALX_FUNC_NOW    /* the dialect's current_timestamp text */
} calx_funcform;

/* Where a LIKE's pattern gets SQLAlchemy's '%' (contains, startswith,
 * endswith): '%' || pattern || '%'. */
enum { CALX_WRAP_BEFORE = 1, CALX_WRAP_AFTER = 2 };

struct calx_expr {
    calx_xkind kind;
    calx_xtype type;
    bool negated;                /* ISNULL: IS NOT NULL; IN: NOT IN; BETWEEN: NOT BETWEEN */
    union {
        calx_error *error;       /* ERROR */
        /* A column of a FROM item: the table t's column index (f NULL: of
         * t itself; f an alias of t: of the alias), or, t NULL, the
         * index-th column of the subquery or CTE f. */
        struct {
            const calx_table *t;
            const calx_from *f;
            size_t index;
        } col;                   /* COL, EXCLUDED */
        struct {
            calx_value v;        /* text and blob point into bytes */
            char *bytes;
            bool stored;         /* v is a column's stored value already:
                                    its user type leaves it (calx__column_slot) */
            bool onupdate;       /* v is made anew by its column's onupdate
                                    at each execution (calx__update_refresh) */
            calx_dtype dtype;    /* the column v meets (calx__expr_coerce,
                                    calx__column_slot), which the driver may
                                    type it as; 0: none */
        } lit;
        struct {
            calx_opcode op;
            calx_expr *a, *b;
            char escape;         /* LIKE family: the ESCAPE character, or 0 */
            unsigned char wrap;  /* LIKE family: CALX_WRAP_* bits */
        } bin;                   /* BINOP (comparisons, LIKE, arithmetic, ||) */
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
        struct {
            calx_expr *a, *lo, *hi;
        } between;
        struct {
            char *name;          /* owned; "count", "lower", ...: the select
                                    compiler's anonymous label (count_1) */
            calx_expr **args;    /* owned, n of them; NULL when n is 0 */
            size_t n;
            calx_funcform form;
        } func;
        struct {
            calx_expr **items;   /* owned: when[0], then[0], when[1], then[1], ... */
            size_t n;            /* WHEN ... THEN pairs, at least one */
            calx_expr *else_;    /* or NULL */
        } kase;
        struct {
            calx_expr *a;
            calx_coltype to;
        } cast;
        struct {
            calx_expr *a;
            char *name;          /* owned; rendered "a AS name" in a columns
                                    clause (calx__sqlc_labeled) */
        } label;
        struct {
            calx_expr *a;        /* the JSON (a column, or a path's earlier step) */
            calx_expr *step;     /* a TEXT key, an INT index, or CONTAINS' JSON */
            calx_json_as as;
        } json;
        struct {
            calx_expr *a;        /* the array */
            calx_expr *b;        /* ANY's value, CONTAINS' and OVERLAPS' array, or NULL */
            calx_array_op op;
        } arr;
    } u;
};

/* The type's name in messages: "INTEGER", "REAL", "BOOLEAN", "TEXT",
 * "BLOB", "TIMESTAMP", "DECIMAL", ..., "NULL". */
const char *calx__xtype_name(calx_xtype t);

/* Writes what e is, for an error message: "hero.name (TEXT)", "an
 * INTEGER value", "a BOOLEAN expression". */
void calx__expr_describe(const calx_expr *e, char *buf, size_t size);

/* A column node of table t's column index, seen through f (NULL: t
 * itself), or of the subquery / CTE f's index-th column (t NULL), of type
 * type. Never NULL (the static out-of-memory node instead). */
calx_expr *calx__col_node(const calx_table *t, const calx_from *f, size_t index,
                          calx_xtype type);

/* The xtype of a column type; false for a value that is no column type.
 * An ENUM column is TEXT: its values are the names. */
bool calx__xtype_of_col(calx_coltype ct, calx_xtype *out);

/* The xtype of a value's type (CALX_XT_NULL for NULL). */
calx_xtype calx__xtype_of_value(calx_type t);

/* The column a column node stands for, NULL for any other node (and for
 * a subquery's column). */
const calx_column *calx__expr_column(const calx_expr *e);

/* An error node carrying err's code and message (the static out-of-memory
 * node when there is no memory for one). */
calx_expr *calx__expr_from_error(const calx_error *err);

/* Calls fn(child, arg) for each expression e owns directly, in the order
 * they are rendered; the selects of subqueries are not expressions and
 * are not visited (their FROM and correlation are their own). Used by the
 * select to find the FROM items an expression names. */
void calx__expr_each_child(const calx_expr *e, void (*fn)(const calx_expr *, void *),
                           void *arg);

/* The name a columns clause labels e by: a label's name (calx_label), a
 * function's name ("count" for count(hero.id), from which the select
 * compiler makes SQLAlchemy's anonymous "count_1"), a column's name; NULL
 * for anything else. */
const char *calx__expr_name(const calx_expr *e);

/* ---- === in expr.c: shared by the builders === ---- */

/* A new node of kind and type, zeroed otherwise; NULL when out of memory. */
calx_expr *calx__expr_new(calx_xkind kind, calx_xtype type);

/* A new node of kind and type for a builder that takes two operands a and
 * b (either may be NULL): NULL when out of memory, a and b freed then, so
 * the builder returns calx__expr_oom(). */
calx_expr *calx__expr_new2(calx_xkind kind, calx_xtype type, calx_expr *a, calx_expr *b);

/* A new error node carrying code and the printf-formatted message; never
 * NULL (the static out-of-memory node when even that fails). */
calx_expr *calx__expr_errorf(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The static out-of-memory node; calx_expr_free leaves it alone. */
calx_expr *calx__expr_oom(void);

/* The first of kids[0..n) that is NULL or an error, as the node to return
 * (the static node for a NULL); every other kid is freed. NULL when all
 * are good (nothing freed). */
calx_expr *calx__expr_take_error(calx_expr *const *kids, size_t n);

/* Frees kids[0..n) (the array is the caller's). */
void calx__expr_free_all(calx_expr *const *kids, size_t n);

/* Converts the literal lit, compared with other, to to's type as a
 * comparison converts it (an INTEGER 0 or 1 to BOOLEAN, an INTEGER to
 * REAL). NULL when it converts or needs nothing, else an error node ("cannot
 * compare <other> with a TEXT value<where>"); lit is never freed. */
calx_expr *calx__expr_coerce(calx_expr *lit, calx_xtype to, const calx_expr *other,
                             const char *where);

/* Whether values of types a and b compare (equal types, INTEGER with
 * REAL, ANY with anything). */
bool calx__xtype_comparable(calx_xtype a, calx_xtype b);

/* ---- === in func.c === ---- */

/* Frees what a FUNC, CASE, CAST or LABEL node owns (not the node). */
void calx__func_free_parts(calx_expr *e);

/* A BOOLEAN column or literal: standing alone as a condition it renders
 * "x = 1" on dialects without native booleans. */
static inline bool calx__expr_is_bool_atom(const calx_expr *e)
{
    return (e->kind == CALX_X_COL || e->kind == CALX_X_LIT) && e->type == CALX_XT_BOOL;
}

#endif
