/* calx — the SQL expression language and SELECT (SQLAlchemy Core's
 * select(), where(), order_by(), limit(), offset()).
 *
 *     calx_select *q = calx_select_new(&hero_table);
 *     calx_select_where(q, calx_ge(calx_col_named(&hero_table, "age"), 35));
 *     calx_select_where(q, calx_lt(calx_col_named(&hero_table, "age"), 60));
 *     calx_select_order_by(q, calx_col(&hero_table, 0), CALX_DESC);
 *     calx_await(calx_conn_execute_select(conn, q, &err), &result, &err);
 *     calx_select_free(q);
 *
 * renders, byte for byte as SQLAlchemy does on SQLite,
 *
 *     SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id
 *     FROM hero
 *     WHERE hero.age >= ? AND hero.age < ? ORDER BY hero.id DESC
 *
 * with every value a bound parameter.
 *
 * Ownership. Every builder returns a new heap node and takes ownership of
 * the nodes passed to it: a parent owns its children, a select owns what is
 * given to it. A node never given to a parent or a select is freed with
 * calx_expr_free. A node belongs to one parent: build it again to use it
 * twice.
 *
 * Sticky errors. Builders never return NULL. A mistake (comparing a TEXT
 * column with an integer, an unknown column name, AND over a non-boolean)
 * or running out of memory gives an error node instead, which carries the
 * error; a parent built over an error node is that error node (the first
 * error in argument order wins; the other children are freed). A select
 * given an error node keeps the first error, and calx_select_error,
 * compiling and executing report it. So a chain of builders is checked
 * once, at the end. A NULL expression argument counts as out of memory.
 *
 * Typing. Every expression has a type. A comparison between an expression
 * and a literal converts the literal to the expression's type (an integer
 * against a BOOLEAN column binds a bool, an integer against a REAL column
 * binds a real) or is an error (an integer against TEXT). = and != against
 * NULL become IS NULL and IS NOT NULL, as in SQLAlchemy. Comparisons, IS
 * NULL, IN, LIKE, AND, OR and NOT are BOOLEAN; where(), AND, OR and NOT
 * take only BOOLEAN expressions (a BOOLEAN column alone is a condition).
 */
#ifndef CALX_SQL_H
#define CALX_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "export.h"
#include "schema.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_expr calx_expr;
typedef struct calx_select calx_select;

typedef enum calx_order { CALX_ASC = 0, CALX_DESC } calx_order;

/* ---- leaves ---- */

/* The column t->columns[index], rendered "table.column". t is kept by
 * pointer and must outlive the expression. An index out of range is an
 * error node (CALX_ERR_ARGUMENT); so is t NULL. */
CALX_API calx_expr *calx_col(const calx_table *t, size_t index);

/* The column of t called name. Error node (CALX_ERR_ARGUMENT) when t has
 * no such column ("table hero has no column 'nmae'"), or t or name is
 * NULL. */
CALX_API calx_expr *calx_col_named(const calx_table *t, const char *name);

/* A bound parameter holding v. Text and blobs are copied, so v's memory may
 * be reused at once. SQL NULL (calx_null()) is rendered NULL, never bound.
 * Error node (CALX_ERR_ARGUMENT) for an unknown value type or text with a
 * NULL pointer and a length. */
CALX_API calx_expr *calx_lit(calx_value v);
CALX_API calx_expr *calx_lit_int(long long v);
CALX_API calx_expr *calx_lit_real(double v);
CALX_API calx_expr *calx_lit_bool(bool v);
/* NUL-terminated text, copied; NULL s gives SQL NULL. */
CALX_API calx_expr *calx_lit_text(const char *s);

/* Internal to CALX_X (a calx_expr * stands for itself; a void * must be
 * NULL and means SQL NULL). */
static inline calx_expr *calx_x_expr_(calx_expr *e)
{
    return e;
}
CALX_API calx_expr *calx_x_ptr_(const void *p);

/* CALX_X(x): x as an expression, by its C type: a calx_expr * is itself;
 * char * and const char * are text (NULL: SQL NULL); bool is a bool; the
 * integer types are integers (stdbool's true and false are ints: against a
 * BOOLEAN column they convert); float and double are reals; a calx_value is
 * calx_lit(x); NULL ((void *)0) is SQL NULL. Another type does not
 * compile. */
#define CALX_X(x)                                                            \
    _Generic((x),                                                            \
        calx_expr *: calx_x_expr_,                                           \
        char *: calx_lit_text,                                               \
        const char *: calx_lit_text,                                         \
        void *: calx_x_ptr_,                                                 \
        const void *: calx_x_ptr_,                                           \
        bool: calx_lit_bool,                                                 \
        char: calx_lit_int,                                                  \
        signed char: calx_lit_int,                                           \
        unsigned char: calx_lit_int,                                         \
        short: calx_lit_int,                                                 \
        unsigned short: calx_lit_int,                                        \
        int: calx_lit_int,                                                   \
        unsigned int: calx_lit_int,                                          \
        long: calx_lit_int,                                                  \
        unsigned long: calx_lit_int,                                         \
        long long: calx_lit_int,                                             \
        unsigned long long: calx_lit_int,                                    \
        float: calx_lit_real,                                                \
        double: calx_lit_real,                                               \
        long double: calx_lit_real,                                          \
        calx_value: calx_lit)(x)

/* ---- operators ---- */

typedef enum calx_opcode {
    CALX_OP_EQ,        /* =    */
    CALX_OP_NE,        /* !=   */
    CALX_OP_LT,        /* <    */
    CALX_OP_LE,        /* <=   */
    CALX_OP_GT,        /* >    */
    CALX_OP_GE,        /* >=   */
    CALX_OP_LIKE,      /* LIKE, TEXT only */
    CALX_OP_NOT_LIKE   /* NOT LIKE */
} calx_opcode;

/* a op b, a BOOLEAN expression owning a and b. A literal on either side is
 * converted to the other side's type; = and != against NULL give IS NULL /
 * IS NOT NULL. Error nodes (CALX_ERR_TYPE) for types that do not compare
 * ("cannot compare hero.name (TEXT) with an INTEGER value"), LIKE on
 * anything but TEXT, and NULL with an operator other than = and !=;
 * CALX_ERR_ARGUMENT for an unknown op. */
CALX_API calx_expr *calx_binop(calx_opcode op, calx_expr *a, calx_expr *b);

/* The operators over anything CALX_X takes: calx_eq(col, 35),
 * calx_eq(col, "Deadpond"), calx_lt(col_a, col_b). */
#define calx_eq(a, b) calx_binop(CALX_OP_EQ, CALX_X(a), CALX_X(b))
#define calx_ne(a, b) calx_binop(CALX_OP_NE, CALX_X(a), CALX_X(b))
#define calx_lt(a, b) calx_binop(CALX_OP_LT, CALX_X(a), CALX_X(b))
#define calx_le(a, b) calx_binop(CALX_OP_LE, CALX_X(a), CALX_X(b))
#define calx_gt(a, b) calx_binop(CALX_OP_GT, CALX_X(a), CALX_X(b))
#define calx_ge(a, b) calx_binop(CALX_OP_GE, CALX_X(a), CALX_X(b))
#define calx_like(a, b) calx_binop(CALX_OP_LIKE, CALX_X(a), CALX_X(b))
#define calx_not_like(a, b) calx_binop(CALX_OP_NOT_LIKE, CALX_X(a), CALX_X(b))

/* a IS NULL, a IS NOT NULL (BOOLEAN), owning a. */
CALX_API calx_expr *calx_is_null(calx_expr *a);
CALX_API calx_expr *calx_is_not_null(calx_expr *a);

/* a IN (?, ?, ...), owning a; the n values are copied (vals may be reused
 * at once) and each converted to a's type as a comparison converts it
 * (CALX_ERR_TYPE naming the value's position otherwise); a NULL value
 * renders NULL. n == 0 is SQLAlchemy's empty IN, always false and valid on
 * each dialect: "a IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)" on SQLite,
 * "a IN (NULL) AND (1 != 1)" on PostgreSQL. vals NULL with n > 0 is an
 * error node. */
CALX_API calx_expr *calx_in_values(calx_expr *a, const calx_value *vals, size_t n);

/* calx_in(col, calx_int(1), calx_int(2)): IN over the values listed (at
 * least one; use calx_in_values(a, NULL, 0) for an empty IN). */
#define calx_in(a, ...)                                                      \
    calx_in_values(CALX_X(a), (const calx_value[]){ __VA_ARGS__ },           \
                   sizeof((const calx_value[]){ __VA_ARGS__ }) / sizeof(calx_value))

/* items[0] AND items[1] AND ... (OR for calx_or_n), owning the n items
 * (not the array). Nested ANDs flatten (a AND b AND c), an OR inside an AND
 * is parenthesized, one item is returned as it is. Error nodes:
 * CALX_ERR_TYPE for an item that is not BOOLEAN, CALX_ERR_ARGUMENT for
 * n == 0 (items may then be NULL); items NULL with n > 0 counts as out of
 * memory. */
CALX_API calx_expr *calx_and_n(calx_expr *const *items, size_t n);
CALX_API calx_expr *calx_or_n(calx_expr *const *items, size_t n);

/* calx_and(a, b, ...) and calx_or(a, b, ...) over calx_expr *. */
#define calx_and(...)                                                        \
    calx_and_n((calx_expr *const[]){ __VA_ARGS__ },                          \
               sizeof((calx_expr *const[]){ __VA_ARGS__ }) / sizeof(calx_expr *))
#define calx_or(...)                                                         \
    calx_or_n((calx_expr *const[]){ __VA_ARGS__ },                           \
              sizeof((calx_expr *const[]){ __VA_ARGS__ }) / sizeof(calx_expr *))

/* NOT a, owning a (BOOLEAN only, else CALX_ERR_TYPE). As SQLAlchemy, a
 * comparison is negated in place (NOT (a = b) is a != b, NOT (a < b) is
 * a >= b, LIKE / NOT LIKE, IS NULL / IS NOT NULL, IN / NOT IN), NOT NOT of
 * a boolean column is the column, and anything else renders NOT (...). */
CALX_API calx_expr *calx_not(calx_expr *a);

/* Frees e and everything it owns. For an expression that no select or
 * parent took; NULL and error nodes are fine. */
CALX_API void calx_expr_free(calx_expr *e);

/* ---- SELECT ---- */

/* SELECT every column of t FROM t, owned by the caller (calx_select_free).
 * t is kept by pointer and must outlive the select. NULL only when out of
 * memory; every calx_select_* function accepts NULL (the builders below
 * free what they are given and return NULL; calx_select_error reports
 * CALX_ERR_NOMEM). t NULL gives a select holding an error. */
CALX_API calx_select *calx_select_new(const calx_table *t);

/* Adds a WHERE condition, ANDed with those of earlier calls; q takes cond.
 * Returns q, to chain. A sticky error (see above) when cond is an error
 * node or NULL, is not BOOLEAN, or names a column of another table (joins
 * are not supported yet). */
CALX_API calx_select *calx_select_where(calx_select *q, calx_expr *cond);

/* Adds an ORDER BY term, after those of earlier calls; q takes e. Returns
 * q. Sticky errors as calx_select_where (any type is allowed). */
CALX_API calx_select *calx_select_order_by(calx_select *q, calx_expr *e, calx_order dir);

/* LIMIT n / OFFSET n, bound as parameters; a later call replaces an
 * earlier one. Returns q. A negative n is a sticky CALX_ERR_ARGUMENT
 * (PostgreSQL refuses it; SQLite would read it as "no limit"). */
CALX_API calx_select *calx_select_limit(calx_select *q, long long n);
CALX_API calx_select *calx_select_offset(calx_select *q, long long n);

/* The table q selects from (NULL for q NULL). */
CALX_API const calx_table *calx_select_table(const calx_select *q);

/* CALX_OK, or the first error q met, copied into err (err may be NULL). */
CALX_API int calx_select_error(const calx_select *q, calx_error *err);

/* Frees q and every expression it owns. NULL is a no-op. */
CALX_API void calx_select_free(calx_select *q);

#ifdef __cplusplus
}
#endif
#endif
