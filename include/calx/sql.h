/* SPDX-License-Identifier: MIT */
/* calx — the SQL expression language and SELECT (SQLAlchemy Core's
 * select() with its joins, grouping, subqueries, CTEs and set operations;
 * the SELECT section below says how each renders).
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
 * 0 or 1 against a BOOLEAN column is a bool, rendered inline as
 * SQLAlchemy renders True / False; an integer against a REAL column binds
 * a real) or is an error (an integer against TEXT). = and != against NULL
 * become IS NULL and IS NOT NULL, as in SQLAlchemy. Comparisons, IS NULL,
 * IN, LIKE, BETWEEN, AND, OR and NOT are BOOLEAN; arithmetic, functions,
 * CASE and CAST are typed by what they compute (see each); where(), AND,
 * OR and NOT take only BOOLEAN expressions (a BOOLEAN column alone is a
 * condition).
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
/* Internal to CALX_X: p NULL is SQL NULL; any other pointer gives an
 * error node (CALX_ERR_ARGUMENT) saying only NULL is taken. */
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
    CALX_OP_NOT_LIKE,  /* NOT LIKE */
    CALX_OP_ADD,       /* +    INTEGER or REAL */
    CALX_OP_SUB,       /* -    */
    CALX_OP_MUL,       /* *    */
    CALX_OP_DIV,       /* /    true division, REAL (see below) */
    CALX_OP_MOD,       /* %    INTEGER only */
    CALX_OP_CONCAT,    /* ||   TEXT only */
    CALX_OP_ILIKE,     /* ILIKE; lower(a) LIKE lower(b) where the database has none */
    CALX_OP_NOT_ILIKE, /* NOT ILIKE */
    CALX_OP_IS_DISTINCT_FROM,     /* IS DISTINCT FROM (SQLite: IS NOT) */
    CALX_OP_IS_NOT_DISTINCT_FROM  /* IS NOT DISTINCT FROM (SQLite: IS) */
} calx_opcode;

/* a op b, owning a and b. A literal on either side is converted to the
 * other side's type.
 *
 * Comparisons (= != < <= > >=, LIKE, ILIKE, IS [NOT] DISTINCT FROM) are
 * BOOLEAN. = and != against NULL give IS NULL / IS NOT NULL; IS [NOT]
 * DISTINCT FROM takes NULL as it is. A bool compared (=, !=, IS [NOT]
 * DISTINCT FROM) with a BOOLEAN expression renders inline, as SQLAlchemy
 * renders Python's True and False: "heromissionlink.is_leader = 0" on
 * SQLite, "= false" on PostgreSQL, no parameter. In C, true and false are
 * the ints 1 and 0, so the integers 0 and 1 count as bools there.
 *
 * Arithmetic (+ - * / %) takes INTEGER and REAL: INTEGER op INTEGER is
 * INTEGER, with a REAL it is REAL. / is true division, as in SQLAlchemy
 * 2.0, and REAL: 7 / 2 is 3.5. Both databases divide integers to an
 * integer, so the right side is made a non-integer as SQLAlchemy 2.0 does
 * it per dialect: "hero.age / (? + 0.0)" on SQLite, "hero.age / CAST(? AS
 * NUMERIC)" on PostgreSQL (CAST(? AS DOUBLE PRECISION) for a REAL right
 * side). PostgreSQL's NUMERIC reaches calx as exact text, like any NUMERIC.
 * % is INTEGER only. || joins TEXT. Parentheses follow SQLAlchemy: only
 * where precedence needs them, none in a + b + c, (a - b) - c kept.
 *
 * Error nodes (CALX_ERR_TYPE) name the cause: "cannot compare hero.name
 * (TEXT) with an INTEGER value", "cannot add hero.name (TEXT) to an
 * INTEGER value", "LIKE needs TEXT on both sides, not hero.age (INTEGER)",
 * NULL with an operator other than = != and IS [NOT] DISTINCT FROM;
 * CALX_ERR_ARGUMENT for an unknown op. */
CALX_API calx_expr *calx_binop(calx_opcode op, calx_expr *a, calx_expr *b);

/* a LIKE b ESCAPE 'c' (op one of LIKE, NOT LIKE, ILIKE, NOT ILIKE), as
 * calx_binop; c is rendered inline and must be printable ASCII (an error
 * node, CALX_ERR_ARGUMENT, otherwise or for another op). */
CALX_API calx_expr *calx_binop_escape(calx_opcode op, calx_expr *a, calx_expr *b, char c);

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
/* calx_ilike(col, "d%"): "hero.name ILIKE ?"; "lower(hero.name) LIKE lower(?)" on SQLite. */
#define calx_ilike(a, b) calx_binop(CALX_OP_ILIKE, CALX_X(a), CALX_X(b))
#define calx_not_ilike(a, b) calx_binop(CALX_OP_NOT_ILIKE, CALX_X(a), CALX_X(b))
/* calx_like_escape(col, "10/%", '/'): "hero.name LIKE ? ESCAPE '/'" (10% exactly). */
#define calx_like_escape(a, b, c) calx_binop_escape(CALX_OP_LIKE, CALX_X(a), CALX_X(b), (c))
#define calx_not_like_escape(a, b, c)                                        \
    calx_binop_escape(CALX_OP_NOT_LIKE, CALX_X(a), CALX_X(b), (c))
/* calx_add(age, 1): "hero.age + ?"; calx_sub, calx_mul, calx_div, calx_mod alike. */
#define calx_add(a, b) calx_binop(CALX_OP_ADD, CALX_X(a), CALX_X(b))
#define calx_sub(a, b) calx_binop(CALX_OP_SUB, CALX_X(a), CALX_X(b))
#define calx_mul(a, b) calx_binop(CALX_OP_MUL, CALX_X(a), CALX_X(b))
#define calx_div(a, b) calx_binop(CALX_OP_DIV, CALX_X(a), CALX_X(b))
#define calx_mod(a, b) calx_binop(CALX_OP_MOD, CALX_X(a), CALX_X(b))
/* calx_concat(name, "!"): "hero.name || ?". */
#define calx_concat(a, b) calx_binop(CALX_OP_CONCAT, CALX_X(a), CALX_X(b))
/* calx_is_distinct_from(age, 3): "hero.age IS DISTINCT FROM ?" ("IS NOT ?" on SQLite). */
#define calx_is_distinct_from(a, b) calx_binop(CALX_OP_IS_DISTINCT_FROM, CALX_X(a), CALX_X(b))
#define calx_is_not_distinct_from(a, b)                                      \
    calx_binop(CALX_OP_IS_NOT_DISTINCT_FROM, CALX_X(a), CALX_X(b))

/* a BETWEEN lo AND hi (BOOLEAN), owning all three; lo and hi are typed as
 * comparisons with a are. calx_not gives NOT BETWEEN.
 * calx_between(age, 30, 40): "hero.age BETWEEN ? AND ?". */
CALX_API calx_expr *calx_between_expr(calx_expr *a, calx_expr *lo, calx_expr *hi);
#define calx_between(a, lo, hi) calx_between_expr(CALX_X(a), CALX_X(lo), CALX_X(hi))

/* SQLAlchemy's contains / startswith / endswith with autoescape=True: s
 * must be a TEXT value (not NULL, not a column), whose '/', '%' and '_' are
 * escaped with '/', so it matches as written:
 * calx_contains(name, "50%"): "hero.name LIKE '%' || ? || '%' ESCAPE '/'"
 * with '50/%'; calx_startswith: "LIKE ? || '%' ESCAPE '/'"; calx_endswith:
 * "LIKE '%' || ? ESCAPE '/'". calx_not gives NOT LIKE. Error nodes
 * (CALX_ERR_TYPE) when a is not TEXT or s is not a TEXT value. */
typedef enum calx_matchkind {
    CALX_MATCH_CONTAINS,
    CALX_MATCH_STARTSWITH,
    CALX_MATCH_ENDSWITH
} calx_matchkind;
CALX_API calx_expr *calx_text_match(calx_matchkind how, calx_expr *a, calx_expr *s);
#define calx_contains(a, s) calx_text_match(CALX_MATCH_CONTAINS, CALX_X(a), CALX_X(s))
#define calx_startswith(a, s) calx_text_match(CALX_MATCH_STARTSWITH, CALX_X(a), CALX_X(s))
#define calx_endswith(a, s) calx_text_match(CALX_MATCH_ENDSWITH, CALX_X(a), CALX_X(s))

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

/* ---- functions, CASE, CAST, labels ---- */

/* name(args[0], ..., args[n-1]): SQLAlchemy's func.<name>(...) for any SQL
 * function, owning the n args (not the array; args may be NULL when n is
 * 0). result is the column type of its value, or 0 for "any": a value of
 * any type, which compares with everything (give CALX_COL_BOOL for a
 * function used as a condition). name is copied and rendered as written:
 * letters, digits, '_' and '.', not starting with a digit.
 * calx_func("json_extract", 0, col, calx_lit_text("$.a")):
 * "json_extract(t.doc, ?)". Error nodes: CALX_ERR_ARGUMENT for another
 * name or an unknown result type. */
CALX_API calx_expr *calx_func_n(const char *name, calx_coltype result,
                                calx_expr *const *args, size_t n);
#define calx_func(name, result, ...)                                         \
    calx_func_n((name), (result), (calx_expr *const[]){ __VA_ARGS__ },        \
                sizeof((calx_expr *const[]){ __VA_ARGS__ }) / sizeof(calx_expr *))

/* The typed functions, each owning its argument(s). Error nodes
 * (CALX_ERR_TYPE) name the function and the argument of the wrong type.
 *   calx_count(col)      count(hero.id), INTEGER
 *   calx_count_all()     count(*), INTEGER
 *   calx_sum(col)        sum(hero.age), INTEGER, REAL or DECIMAL, as its argument
 *   calx_avg(col)        avg(hero.age), REAL
 *   calx_min(col)        min(hero.age), calx_max: max(...), as the argument
 *   calx_lower(col)      lower(hero.name), calx_upper: upper(...), TEXT
 *   calx_length(col)     length(hero.name), INTEGER (TEXT or BLOB)
 *   calx_abs(e)          abs(hero.age - ?), INTEGER or REAL, as the argument
 *   calx_now()           the current time, TIMESTAMP: CURRENT_TIMESTAMP on
 *                        SQLite, now() on PostgreSQL
 * avg and abs take INTEGER or REAL, sum a DECIMAL too; lower and upper TEXT. In a
 * select's columns clause a function is labelled after its name, as
 * SQLAlchemy's anonymous labels are: "count(hero.id) AS count_1". */
CALX_API calx_expr *calx_count(calx_expr *e);
CALX_API calx_expr *calx_count_all(void);
CALX_API calx_expr *calx_sum(calx_expr *e);
CALX_API calx_expr *calx_avg(calx_expr *e);
CALX_API calx_expr *calx_min(calx_expr *e);
CALX_API calx_expr *calx_max(calx_expr *e);
CALX_API calx_expr *calx_lower(calx_expr *e);
CALX_API calx_expr *calx_upper(calx_expr *e);
CALX_API calx_expr *calx_length(calx_expr *e);
CALX_API calx_expr *calx_abs(calx_expr *e);
CALX_API calx_expr *calx_now(void);

/* coalesce(args...), owning the n args (n >= 1): typed as its first
 * argument that is not a literal (literals are converted to it, INTEGER and
 * REAL mix as REAL), or else its first non-NULL literal.
 * calx_coalesce(age, calx_lit_int(0)): "coalesce(hero.age, ?)". Error
 * nodes: CALX_ERR_TYPE for arguments that do not mix, naming the
 * position; CALX_ERR_ARGUMENT for n == 0. */
CALX_API calx_expr *calx_coalesce_n(calx_expr *const *args, size_t n);
#define calx_coalesce(...)                                                   \
    calx_coalesce_n((calx_expr *const[]){ __VA_ARGS__ },                     \
                    sizeof((calx_expr *const[]){ __VA_ARGS__ }) / sizeof(calx_expr *))

/* CASE WHEN conds[0] THEN results[0] ... [ELSE else_] END, owning the n
 * conditions and results (not the arrays) and else_ (NULL: no ELSE, so
 * NULL when nothing matches). Each condition is BOOLEAN; the CASE is typed
 * by its results, as coalesce. calx_case(else_or_NULL, cond, result, ...)
 * takes the pairs in order: calx_case(calx_lit_text("young"),
 * calx_gt(age, 30), calx_lit_text("old")): "CASE WHEN (hero.age > ?) THEN ?
 * ELSE ? END". Error nodes: CALX_ERR_TYPE (a condition not BOOLEAN, results
 * that do not mix), CALX_ERR_ARGUMENT (n == 0, an odd number of
 * calx_case arguments). */
CALX_API calx_expr *calx_case_n(calx_expr *const *conds, calx_expr *const *results, size_t n,
                                calx_expr *else_);
/* Internal to calx_case: pairs[0..npairs_x2) alternate condition, result. */
CALX_API calx_expr *calx_case_pairs_(calx_expr *const *pairs, size_t npairs_x2, calx_expr *else_);
#define calx_case(else_, ...)                                                \
    calx_case_pairs_((calx_expr *const[]){ __VA_ARGS__ },                    \
                     sizeof((calx_expr *const[]){ __VA_ARGS__ }) / sizeof(calx_expr *), (else_))

/* CAST(e AS <the dialect's name for type>), of type `type`, owning e:
 * calx_cast(age, CALX_COL_TEXT): "CAST(hero.age AS VARCHAR)". The names are
 * the dialect's DDL names (INTEGER / BIGINT, FLOAT / DOUBLE PRECISION, ...).
 * Error node (CALX_ERR_ARGUMENT) for an unknown type. */
CALX_API calx_expr *calx_cast(calx_expr *e, calx_coltype type);

/* ---- JSON (SQLAlchemy's JSON comparator) ----
 *
 * A path into a JSON column, each key and index bound:
 *
 *     calx_json_as_text(calx_json_get(calx_json_get(CALX_C(Item, data), "a"), "b"))
 *         SQLAlchemy's item.data["a"]["b"].as_string():
 *         PostgreSQL  ((item.data -> ?) ->> ?)
 *         SQLite      JSON_EXTRACT(item.data, '$' || '.' || JSON_QUOTE(?) || ...)
 *
 * calx_json_get steps into an object's member, calx_json_at into an array's
 * element (0 first); both take and give JSON. The calx_json_as_* read a
 * path's last step as text (a string's characters, unquoted), an integer, a
 * real or a bool, to compare or select. calx_json_contains(json, "{...}")
 * is PostgreSQL's @> (as jsonb; the JSON text is bound); SQLite has no such
 * operator, and compiling it there is CALX_ERR_NOT_SUPPORTED.
 *
 * Each takes ownership of its expression arguments. Errors (as a node that
 * fails the statement): json not of JSON type, or already read as text
 * (CALX_ERR_TYPE); a NULL key or JSON text, an as_* of something that is
 * no path, a path of more than 32 steps (CALX_ERR_ARGUMENT). */
CALX_API calx_expr *calx_json_get(calx_expr *json, const char *key);
CALX_API calx_expr *calx_json_at(calx_expr *json, int64_t index);
CALX_API calx_expr *calx_json_as_text(calx_expr *path);
CALX_API calx_expr *calx_json_as_int(calx_expr *path);
CALX_API calx_expr *calx_json_as_real(calx_expr *path);
CALX_API calx_expr *calx_json_as_bool(calx_expr *path);
CALX_API calx_expr *calx_json_contains(calx_expr *json, const char *json_text);

/* ---- arrays (SQLAlchemy's ARRAY comparator; PostgreSQL only) ----
 *
 *     calx_any(calx_lit_int(7), CALX_C(Post, scores))
 *         PostgreSQL  ? = ANY (post.scores)
 *     calx_array_contains(CALX_C(Post, tags),
 *                         calx_value_array(CALX_TEXT, (calx_value[]){ calx_text("c") }, 1))
 *         PostgreSQL  (post.tags @> ?)          the array bound as one value
 *
 * calx_any(value, array) is value = ANY (array) (SQLAlchemy's
 * value == any_(array)); calx_array_contains(array, items) is array @>
 * items (every element of items is in array), calx_array_overlaps
 * array && items (an element in common), calx_array_length(array)
 * array_length(array, 1), NULL for an empty array. A literal value, and
 * items, take the array column's element type as a comparison does
 * ('2024-02-29' for DATE[], 1.5 at NUMERIC(10, 2)[]'s scale); items are
 * copied. SQLite has no arrays: compiling any of these there is
 * CALX_ERR_NOT_SUPPORTED.
 *
 * Each takes ownership of its expression arguments. Errors (as a node that
 * fails the statement): array not of ARRAY type, a value or an element
 * that does not convert (CALX_ERR_TYPE); items not an ARRAY, or not a
 * valid one, a NULL value (CALX_ERR_ARGUMENT). */
CALX_API calx_expr *calx_any(calx_expr *value, calx_expr *array);
CALX_API calx_expr *calx_array_contains(calx_expr *array, calx_value items);
CALX_API calx_expr *calx_array_overlaps(calx_expr *array, calx_value items);
CALX_API calx_expr *calx_array_length(calx_expr *array);

/* e AS name in a select's columns clause (e alone anywhere else), owning
 * e; name is copied and quoted as the dialect needs.
 * calx_label(calx_add(age, 1), "next_age"): "hero.age + ? AS next_age".
 * Error node (CALX_ERR_ARGUMENT) for a NULL or empty name. */
CALX_API calx_expr *calx_label(calx_expr *e, const char *name);

/* Frees e and everything it owns. For an expression that no select or
 * parent took; NULL and error nodes are fine. */
CALX_API void calx_expr_free(calx_expr *e);

/* ---- SELECT ----
 *
 * SQLAlchemy 2.0's select(), rendered as it renders it:
 *
 *     select(Hero, Team).join(Team).where(Team.name == "Preventers")
 *
 *     calx_select *q = calx_select_new(&hero);
 *     calx_select_add_entity(q, &team);
 *     calx_select_join(q, &team, NULL, CALX_JOIN_INNER);
 *     calx_select_where(q, calx_eq(calx_col_named(&team, "name"), "Preventers"));
 *
 *     SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id,
 *     team.id AS id_1, team.name AS name_1, team.headquarters
 *     FROM hero JOIN team ON team.id = hero.team_id
 *     WHERE team.name = ?
 *
 * The columns clause. A select lists entities (every column of a table,
 * alias, subquery or CTE) and expressions, in the order added. A column
 * whose name an earlier one already has is labelled as SQLAlchemy labels
 * it ("team.id AS id_1"; the same column twice: "hero.id AS id__1"); an
 * expression that is not a column is always labelled, anonymously
 * ("count(hero.id) AS count_1", "hero.age > ? AS anon_1"); the numbers
 * count per name through the whole statement. A result's columns have
 * those names, so calx_row_col(row, "count_1") finds one.
 *
 * FROM. As in SQLAlchemy, what the columns and the WHERE conditions name
 * is in FROM ("select(Hero, Team).where(Hero.team_id == Team.id)" is
 * "FROM hero, team"), then what calx_select_from and the joins add; a
 * table that is part of a join appears only inside it. ORDER BY, GROUP BY,
 * HAVING and ON add nothing: a column there of something not in FROM is an
 * error when the select compiles ("ORDER BY refers to team.name, but team
 * is not in the FROM clause ..."). A select used as a subquery in an
 * expression (calx_scalar_subquery, calx_exists, calx_in_select) leaves
 * out of its FROM what the enclosing select has in its own, when it would
 * have more than one FROM item otherwise (SQLAlchemy's auto-correlation):
 * "EXISTS (SELECT hero.id FROM hero WHERE hero.team_id = team.id)".
 *
 * Tables, aliases, subqueries and CTEs are kept by pointer and must
 * outlive the selects that use them.
 */

/* ORDER BY direction, with NULLS FIRST / NULLS LAST OR-ed in:
 * calx_select_order_by(q, col, CALX_DESC | CALX_NULLS_LAST) renders
 * "hero.age DESC NULLS LAST". */
typedef enum calx_order {
    CALX_ASC = 0,
    CALX_DESC = 1,
    CALX_NULLS_FIRST = 2,
    CALX_NULLS_LAST = 4
} calx_order;

/* calx_select_join: "JOIN", "LEFT OUTER JOIN", "FULL OUTER JOIN". */
typedef enum calx_join_kind {
    CALX_JOIN_INNER = 0,
    CALX_JOIN_LEFT,
    CALX_JOIN_FULL
} calx_join_kind;

/* A FROM item that is not a plain table: an alias of a table, a subquery
 * (derived table) or a common table expression. Made by the calx_*_new
 * functions below, owned by the caller (calx_from_free), kept by pointer by
 * the selects and expressions that use it. NULL only when out of memory;
 * every function taking one accepts NULL (a sticky CALX_ERR_NOMEM).
 * Mistakes (a NULL table, a failed select) stick to the item: its columns
 * are error nodes and a select given it keeps the error. */
typedef struct calx_from calx_from;

/* SQLAlchemy's table.alias(name) / aliased(): "team AS t". name NULL gives
 * an anonymous alias, named per statement as SQLAlchemy names it
 * ("team AS team_1"). The name is copied. A table can so appear twice in
 * one FROM (a self-join, a table joined through two keys). */
CALX_API calx_from *calx_alias_new(const calx_table *t, const char *name);

/* A derived table: "(SELECT ...) AS name", owning q. name NULL gives an
 * anonymous one ("AS anon_1"). Its columns are q's, under the names q's
 * columns clause gives them ("count_1" for an unlabelled count()), so
 * subquery columns are rendered "name AS name" inside it. */
CALX_API calx_from *calx_subquery_new(calx_select *q, const char *name);

/* A common table expression: "WITH name AS (SELECT ...) SELECT ... FROM
 * name", owning q. The WITH clause goes in front of the statement that
 * uses it, however deep the use (a subquery in WHERE too), each CTE once,
 * after the CTEs it uses itself. name NULL: anonymous ("anon_1"). */
CALX_API calx_from *calx_cte_new(calx_select *q, const char *name);

/* A recursive CTE, owning anchor: "WITH RECURSIVE name(col, ...) AS
 * (anchor UNION ALL recursive)". The recursive part, added with
 * calx_cte_union_all, selects from the CTE itself through its columns
 * (calx_from_col(cte, "n")), which are anchor's. Returns cte (NULL stays
 * NULL); cte takes recursive. A second calx_cte_union_all, or one on a CTE
 * not made recursive, is a sticky CALX_ERR_ARGUMENT, as is a recursive part
 * with another number of columns. */
CALX_API calx_from *calx_cte_recursive_new(calx_select *anchor, const char *name);
CALX_API calx_from *calx_cte_union_all(calx_from *cte, calx_select *recursive);

/* The column of f called name (an alias: the table's column; a subquery
 * or CTE: the name its columns clause gives), or by position. Error node
 * (CALX_ERR_ARGUMENT) when f has no such column ("subquery counts has no
 * column 'x'"), carrying f's own error when f has one, and out of memory
 * for f NULL. A subquery's anonymous names (count_1) are given per
 * statement, so find such a column by position, or label it. */
CALX_API calx_expr *calx_from_col(const calx_from *f, const char *name);
CALX_API calx_expr *calx_from_col_at(const calx_from *f, size_t index);

/* CALX_OK, or the error f holds, copied into err (err may be NULL). */
CALX_API int calx_from_error(const calx_from *f, calx_error *err);

/* Frees f and the select it owns. NULL is a no-op. Free it after every
 * select that uses it. */
CALX_API void calx_from_free(calx_from *f);

/* SELECT every column of t, owned by the caller (calx_select_free): a
 * select(Hero). t is kept by pointer and must outlive the select. NULL
 * only when out of memory; every calx_select_* function accepts NULL (the
 * builders below free what they are given and return NULL;
 * calx_select_error reports CALX_ERR_NOMEM). t NULL gives a select holding
 * an error. */
CALX_API calx_select *calx_select_new(const calx_table *t);

/* SELECT of the n expressions cols[0 .. n), owning them (not the array):
 * select(Team.name, func.count(Hero.id)). n == 0 gives a select with no
 * columns yet, for calx_select_add_*; compiling a select that still has
 * none is an error. An error node among them is the select's sticky
 * error; cols NULL with n > 0 counts as out of memory. */
CALX_API calx_select *calx_select_columns_n(calx_expr *const *cols, size_t n);

/* calx_select_columns(a, b, ...) over calx_expr *. */
#define calx_select_columns(...)                                             \
    calx_select_columns_n((calx_expr *const[]){ __VA_ARGS__ },               \
                          sizeof((calx_expr *const[]){ __VA_ARGS__ }) / sizeof(calx_expr *))

/* Adds every column of t (of f: an alias, subquery or CTE) to the columns
 * clause, after those already there: select(Hero, Team). Returns q. */
CALX_API calx_select *calx_select_add_entity(calx_select *q, const calx_table *t);
CALX_API calx_select *calx_select_add_entity_from(calx_select *q, const calx_from *f);

/* Adds the expression e to the columns clause; q takes e. Returns q. */
CALX_API calx_select *calx_select_add_column(calx_select *q, calx_expr *e);

/* SELECT DISTINCT. Returns q. */
CALX_API calx_select *calx_select_distinct(calx_select *q);

/* select_from(t): adds t (f) to FROM, after what the columns and WHERE
 * name; the left side for the joins that follow. Already there: nothing
 * changes. select(func.count()).select_from(Hero) is
 * "SELECT count(*) AS count_1 FROM hero". Returns q. */
CALX_API calx_select *calx_select_from(calx_select *q, const calx_table *t);
CALX_API calx_select *calx_select_from_from(calx_select *q, const calx_from *f);

/* Joins t (f) to what q selects from; q takes on. As SQLAlchemy's
 * select.join(): the left side is the FROM item (or the join made so far)
 * that can join to t: with on given, the one whose columns on names; else
 * the one with a foreign key to or from t. The ON clause, when on is NULL,
 * is the one foreign key between the two: "FROM hero JOIN team ON team.id
 * = hero.team_id" (the referenced column first); joined to a join, the
 * key to its last table is looked for first. Sticky errors
 * (CALX_ERR_ARGUMENT) name the cause: no foreign key between the two, or
 * several ("cannot join team to match: more than one foreign key links
 * them (match.home_id -> team.id, match.away_id -> team.id); give the ON
 * clause"), a left side that none or several FROM items could be, t
 * already in the join (join an alias: calx_alias_new), an unknown kind, an
 * on that is not BOOLEAN. The kind is CALX_JOIN_INNER, CALX_JOIN_LEFT
 * (isouter=True) or CALX_JOIN_FULL (full=True). Returns q. */
CALX_API calx_select *calx_select_join(calx_select *q, const calx_table *t, calx_expr *on,
                                       calx_join_kind kind);
CALX_API calx_select *calx_select_join_from(calx_select *q, const calx_from *f,
                                            calx_expr *on, calx_join_kind kind);

/* Adds a WHERE condition, ANDed with those of earlier calls; q takes cond.
 * Returns q, to chain. A sticky error (see above) when cond is an error
 * node or NULL, or is not BOOLEAN. */
CALX_API calx_select *calx_select_where(calx_select *q, calx_expr *cond);

/* Adds a GROUP BY term, after those of earlier calls; q takes e. Returns
 * q. Sticky errors as calx_select_where (any type is allowed). */
CALX_API calx_select *calx_select_group_by(calx_select *q, calx_expr *e);

/* Adds a HAVING condition, ANDed with those of earlier calls; q takes
 * cond: "GROUP BY team.name HAVING count(hero.id) >= ?". Returns q. Sticky
 * errors as calx_select_where. */
CALX_API calx_select *calx_select_having(calx_select *q, calx_expr *cond);

/* Adds an ORDER BY term, after those of earlier calls; q takes e. dir is
 * CALX_ASC or CALX_DESC, with CALX_NULLS_FIRST or CALX_NULLS_LAST OR-ed in
 * (both, or other bits, are a sticky CALX_ERR_ARGUMENT). A label of the
 * columns clause (calx_label with the same name) is written by its name:
 * "ORDER BY n DESC". On a compound select (calx_union ...) a column or
 * label is written by its name alone, the result column of that name
 * ("ORDER BY name"). Returns q. Sticky errors as calx_select_where (any
 * type is allowed). */
CALX_API calx_select *calx_select_order_by(calx_select *q, calx_expr *e, calx_order dir);

/* LIMIT n / OFFSET n, bound as parameters; a later call replaces an
 * earlier one. Returns q. A negative n is a sticky CALX_ERR_ARGUMENT
 * (PostgreSQL refuses it; SQLite would read it as "no limit"). */
CALX_API calx_select *calx_select_limit(calx_select *q, long long n);
CALX_API calx_select *calx_select_offset(calx_select *q, long long n);

/* Compound selects: "a UNION b", "UNION ALL", "INTERSECT", "EXCEPT",
 * owning a and b; the result is a select too (run it, order it, limit it,
 * use it as a subquery or a CTE). calx_select_order_by / _limit / _offset
 * on it apply to the whole: "SELECT hero.name FROM hero UNION SELECT
 * team.name FROM team ORDER BY name LIMIT ? OFFSET ?". Other clauses
 * (where, joins, columns ...) are a sticky error on it: filter it as a
 * subquery. calx_union(calx_union(a, b), c) is SQLAlchemy's union(a, b,
 * c): "a UNION b UNION c"; a member that is a compound of another kind, or
 * has its own ORDER BY / LIMIT, is parenthesized as SQLAlchemy does, which
 * PostgreSQL takes and SQLite refuses. Sticky errors: the members' own (the
 * first wins), members with different numbers of columns (CALX_ERR_ARGUMENT
 * "UNION: select 1 has 2 columns, select 2 has 3"); NULL is out of memory. */
CALX_API calx_select *calx_union(calx_select *a, calx_select *b);
CALX_API calx_select *calx_union_all(calx_select *a, calx_select *b);
CALX_API calx_select *calx_intersect(calx_select *a, calx_select *b);
CALX_API calx_select *calx_except(calx_select *a, calx_select *b);

/* ---- subqueries in expressions ---- */

/* A scalar subquery, "(SELECT max(hero.age) AS max_1 FROM hero)", owning
 * q, of the type of q's one column; correlated as described above. Error
 * node (CALX_ERR_ARGUMENT) when q has not exactly one column; q's own
 * error when it has one. */
CALX_API calx_expr *calx_scalar_subquery(calx_select *q);

/* EXISTS (SELECT ...), BOOLEAN, owning q; calx_not gives NOT (EXISTS ...). */
CALX_API calx_expr *calx_exists(calx_select *q);

/* a IN (SELECT ...), BOOLEAN, owning a and q; calx_not gives NOT IN. Error
 * nodes: q with other than one column (CALX_ERR_ARGUMENT), a column of a
 * type a does not compare with (CALX_ERR_TYPE). */
CALX_API calx_expr *calx_in_select(calx_expr *a, calx_select *q);

/* The table of q's first entity when q's columns clause starts with every
 * column of a table (calx_select_new, or calx_select_add_entity first),
 * else NULL (also for q NULL). The ORM loads that table's objects from
 * the first columns. */
CALX_API const calx_table *calx_select_table(const calx_select *q);

/* CALX_OK, or the first error q met, copied into err (err may be NULL).
 * Errors found only when q compiles (a column of something not in FROM)
 * are reported by compiling and executing. */
CALX_API int calx_select_error(const calx_select *q, calx_error *err);

/* Frees q and every expression it owns. NULL is a no-op. */
CALX_API void calx_select_free(calx_select *q);

/* ---- INSERT, UPDATE, DELETE ----
 *
 * SQLAlchemy Core's insert(), update() and delete(), built and checked as
 * a select is: every builder takes ownership of the expressions and the
 * select given to it, returns the statement to chain, accepts a NULL
 * statement (freeing what it was given), and keeps the first error
 * (sticky), which calx_<kind>_error, compiling and executing report. A
 * statement given a NULL statement pointer stays NULL; calx_<kind>_error
 * says CALX_ERR_NOMEM for it. Tables are kept by pointer and must outlive
 * the statement. Run them with calx_conn_execute_insert / _update /
 * _delete (calx/connection.h); the result's calx_result_rowcount is the
 * number of rows written, and a RETURNING clause's rows are its rows.
 *
 * Values are typed against their column as a comparison's literal is
 * (calx_lit), with the rules of an assignment: an integer into a REAL
 * column becomes a real, 0 / 1 into a BOOLEAN column a bool, a real with
 * no fraction into an INTEGER column an integer, text into a TIMESTAMP
 * column stays text (ISO 8601); anything else is a CALX_ERR_TYPE naming
 * the column ("INSERT INTO hero: column age (INTEGER) cannot take a TEXT
 * value"). NULL is always bound as a parameter, so a statement's text
 * does not depend on which values are NULL. Columns are rendered in the
 * table's column order, whatever the order of the calls, as SQLAlchemy
 * renders them.
 *
 * Texts, byte for byte as SQLAlchemy renders them on SQLite:
 *
 *     INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)
 *     UPDATE hero SET age=? WHERE hero.age IS NULL
 *     DELETE FROM heromissionlink WHERE heromissionlink.is_leader = 0
 */

typedef struct calx_insert calx_insert;
typedef struct calx_update calx_update;
typedef struct calx_delete calx_delete;

/* INSERT INTO t, owned by the caller (calx_insert_free). NULL only when
 * out of memory. With no values at all it is "INSERT INTO t DEFAULT
 * VALUES". t NULL, or a table without a name or columns, is a sticky
 * CALX_ERR_ARGUMENT. */
CALX_API calx_insert *calx_insert_new(const calx_table *t);

/* One row, one value per call: the value of column `column` is e (any
 * expression without columns: a literal, arithmetic over literals, a
 * function), taken by s. A later value for the same column replaces the
 * earlier one (SQLAlchemy's values() merge). Sticky errors: no such column
 * ("table hero has no column 'nmae'"), a value of the wrong type, a column
 * inside e, e an error node, and calling this on an insert that has rows
 * (calx_insert_columns) or a select.
 *
 *     calx_insert_set(ins, "name", "Deadpond");
 *     calx_insert_set(ins, "age", calx_lit_int(48));  */
CALX_API calx_insert *calx_insert_value(calx_insert *s, const char *column, calx_expr *e);
#define calx_insert_set(s, column, x) calx_insert_value((s), (column), CALX_X(x))

/* Many rows: names the n columns every row gives, in the order
 * calx_insert_row's values come. Once, before the rows; sticky errors for
 * an unknown or repeated name, n == 0, a second call, and an insert with
 * single values or a select. names is read, not kept. */
CALX_API calx_insert *calx_insert_columns(calx_insert *s, const char *const *names, size_t n);

/* Adds a row: vals holds one value per column named by
 * calx_insert_columns, copied (text and blobs too: vals may be reused at
 * once) and converted to the column's type. A value that does not convert
 * is a sticky CALX_ERR_TYPE naming the column and the row ("INSERT INTO
 * hero, row 3: column age (INTEGER) cannot take a TEXT value"). Rows that
 * need more parameters than one statement of the dialect may carry
 * (calx_dialect max_params: 32766 on SQLite, 65535 on PostgreSQL) are
 * split into several statements, which calx_conn_execute_insert runs as
 * one request: the rows affected are their sum, and RETURNING rows come
 * statement by statement in row order of the split, each statement's in
 * the order the database gives them (which neither database promises to
 * be VALUES order: return a key to tell rows apart). A row that alone has
 * more values than a statement may bind fails at compile ("more rows than
 * one statement may bind").
 *
 *     calx_insert_columns(ins, (const char *[]){ "name", "age" }, 2);
 *     calx_insert_row(ins, (calx_value[]){ calx_text("Rusty-Man"), calx_int(48) });  */
CALX_API calx_insert *calx_insert_row(calx_insert *s, const calx_value *vals);

/* INSERT INTO t (names...) SELECT ...: the rows of q (taken by s) go into
 * the n columns named, in that order, which must match q's columns (the
 * database checks the count). Sticky errors as calx_insert_columns.
 *
 *     calx_insert_from_select(ins, (const char *[]){ "name" }, 1, q);  */
CALX_API calx_insert *calx_insert_from_select(calx_insert *s, const char *const *names,
                                              size_t n, calx_select *q);

/* Adds e (taken by s; columns of the inserted table) to the RETURNING
 * clause, after those of earlier calls: "RETURNING hero.id".
 *
 *     calx_insert_returning(ins, calx_col_named(&hero, "id"));  */
CALX_API calx_insert *calx_insert_returning(calx_insert *s, calx_expr *e);

/* Upsert, on SQLite and PostgreSQL alike: ON CONFLICT (names...) DO
 * NOTHING, where the n names are the columns of a unique index or the
 * primary key (n == 0, names NULL: ON CONFLICT DO NOTHING, any
 * conflict).
 *
 *     calx_insert_on_conflict_do_nothing(ins, (const char *[]){ "name" }, 1);  */
CALX_API calx_insert *calx_insert_on_conflict_do_nothing(calx_insert *s,
                                                         const char *const *names, size_t n);

/* ON CONFLICT (names...) DO UPDATE SET ...: the SET values come from
 * calx_insert_on_conflict_set, an optional condition from
 * calx_insert_on_conflict_where. n must be at least 1. One ON CONFLICT
 * per insert: a second is a sticky error. */
CALX_API calx_insert *calx_insert_on_conflict_do_update(calx_insert *s,
                                                        const char *const *names, size_t n);

/* SET column = e in the DO UPDATE (after calx_insert_on_conflict_do_update;
 * sticky error otherwise). e may name the inserted table's columns (the
 * row already there) and calx_excluded (the row proposed), and is typed as
 * calx_insert_value's values. Rendered "name = excluded.name".
 *
 *     calx_insert_on_conflict_set(ins, "age", calx_excluded(&hero, "age"));  */
CALX_API calx_insert *calx_insert_on_conflict_set(calx_insert *s, const char *column,
                                                  calx_expr *e);

/* DO UPDATE ... WHERE cond (BOOLEAN; ANDed with earlier calls): rows
 * whose condition is false are left as they are. */
CALX_API calx_insert *calx_insert_on_conflict_where(calx_insert *s, calx_expr *cond);

/* The column of the row an INSERT ... ON CONFLICT DO UPDATE proposed,
 * "excluded.age" (SQLAlchemy's stmt.excluded.age). Only valid in
 * calx_insert_on_conflict_set and _where of an insert into t. Error node
 * as calx_col_named. */
CALX_API calx_expr *calx_excluded(const calx_table *t, const char *column);

/* CALX_OK, or the first error s met, copied into err (err may be NULL);
 * CALX_ERR_NOMEM for a NULL s. */
CALX_API int calx_insert_error(const calx_insert *s, calx_error *err);

/* Frees s and what it owns. NULL is a no-op. */
CALX_API void calx_insert_free(calx_insert *s);

/* UPDATE t, owned by the caller (calx_update_free); NULL only when out of
 * memory. Needs at least one SET value (compile fails otherwise). */
CALX_API calx_update *calx_update_new(const calx_table *t);

/* SET column = e, taken by s; a later value for the column replaces the
 * earlier one. e may name columns of t and of the calx_update_from
 * tables, and is typed as calx_insert_value's values. Rendered
 * "age=?" (SQLAlchemy's SET has no spaces).
 *
 *     calx_update_set(upd, "age", 16);
 *     calx_update_set(upd, "age", calx_col_named(&hero, "team_id"));  */
CALX_API calx_update *calx_update_value(calx_update *s, const char *column, calx_expr *e);
#define calx_update_set(s, column, x) calx_update_value((s), (column), CALX_X(x))

/* Adds a WHERE condition (BOOLEAN), ANDed with earlier ones. Columns of a
 * table that is neither t nor a calx_update_from table fail at compile
 * (and calx_update_error), naming the column.
 *
 *     calx_update_where(upd, calx_is_null(calx_col_named(&hero, "age")));  */
CALX_API calx_update *calx_update_where(calx_update *s, calx_expr *cond);

/* Adds e to the RETURNING clause, as calx_insert_returning. */
CALX_API calx_update *calx_update_returning(calx_update *s, calx_expr *e);

/* UPDATE t SET ... FROM other WHERE ...: other's columns may then be used
 * in SET, WHERE and RETURNING. other is kept by pointer; t itself is a
 * sticky error. Compiling for a dialect without supports_update_from
 * fails with CALX_ERR_NOT_SUPPORTED naming the dialect.
 *
 *     calx_update_from(upd, &team);  */
CALX_API calx_update *calx_update_from(calx_update *s, const calx_table *other);

/* As calx_insert_error and calx_insert_free. */
CALX_API int calx_update_error(const calx_update *s, calx_error *err);
CALX_API void calx_update_free(calx_update *s);

/* DELETE FROM t, owned by the caller (calx_delete_free); NULL only when
 * out of memory. Without a WHERE it deletes every row, as SQL does. */
CALX_API calx_delete *calx_delete_new(const calx_table *t);

/* As calx_update_where and calx_update_returning.
 *
 *     calx_delete_where(del, calx_eq(calx_col_named(&link, "is_leader"), false));  */
CALX_API calx_delete *calx_delete_where(calx_delete *s, calx_expr *cond);
CALX_API calx_delete *calx_delete_returning(calx_delete *s, calx_expr *e);

/* DELETE FROM t USING other WHERE ... (PostgreSQL's form): other's
 * columns may then be used in WHERE and RETURNING. Compiling for a
 * dialect without supports_delete_using (SQLite) fails with
 * CALX_ERR_NOT_SUPPORTED naming the dialect: use a subquery there. */
CALX_API calx_delete *calx_delete_using(calx_delete *s, const calx_table *other);

/* As calx_insert_error and calx_insert_free. */
CALX_API int calx_delete_error(const calx_delete *s, calx_error *err);
CALX_API void calx_delete_free(calx_delete *s);

#ifdef __cplusplus
}
#endif
#endif
