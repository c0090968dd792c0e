/* SPDX-License-Identifier: MIT */
/* Operators and functions in expressions (SQLAlchemy 2.0 Core's BETWEEN,
 * LIKE ... ESCAPE, ILIKE, contains / startswith / endswith, arithmetic,
 * ||, IS DISTINCT FROM, CASE, CAST, func.*, labels, inline True / False):
 * the text and parameters each compiles to on SQLite and on PostgreSQL (the
 * expected strings are what SQLAlchemy renders for the same expression;
 * where 1.4 and 2.0 differ, 2.0's), the type rules and their errors, the
 * out-of-memory paths of every builder, and the value each computes on a
 * real database: a SQLite file under CALX_TEST_TMP, or a fresh schema on
 * the server CALX_TEST_URL names (tests/backend.h). */
#include <stdint.h>

#include "backend.h"
#include "calx.h"
#include "sql/compiler_int.h"
#include "test.h"
#include "alloc_fail.h"
#include "sql_expect.h"
#include "sql_db.h"

static calx_loop *loop;
static const char *dir;

static const calx_dialect *const lite = &calx__dialect_sqlite;
static const calx_dialect *const pg = &calx__dialect_postgresql;

/* ---- tables ---- */

static const calx_column hero_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT },
    { .name = "secret_name", .type = CALX_COL_TEXT },
    { .name = "age", .type = CALX_COL_INT64, .nullable = true },
    { .name = "team_id", .type = CALX_COL_INT64, .nullable = true },
};
static const calx_table hero = { .name = "hero", .columns = hero_cols, .ncolumns = 5 };
enum { H_ID, H_NAME, H_SECRET, H_AGE, H_TEAM };

static const calx_column gadget_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "active", .type = CALX_COL_BOOL, .nullable = true },
    { .name = "score", .type = CALX_COL_DOUBLE, .nullable = true },
    { .name = "data", .type = CALX_COL_BLOB, .nullable = true },
    { .name = "made", .type = CALX_COL_TIMESTAMP, .nullable = true },
};
static const calx_table gadget = { .name = "gadget", .columns = gadget_cols, .ncolumns = 5 };
enum { G_ID, G_ACTIVE, G_SCORE, G_DATA, G_MADE };

/* The reference's link model: is_leader BOOLEAN NOT NULL. */
static const calx_column link_cols[] = {
    { .name = "hero_id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "mission_id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "is_leader", .type = CALX_COL_BOOL },
};
static const calx_table link_t = { .name = "heromissionlink", .columns = link_cols,
                                   .ncolumns = 3 };

#define H(i) calx_col(&hero, (i))
#define G(i) calx_col(&gadget, (i))

/* ---- compiling ---- */

/* e as a columns-clause item (a label with its AS) for d. */
static int compile_item(const calx_expr *e, const calx_dialect *d, calx_compiled *out,
                        calx_error *err)
{
    memset(out, 0, sizeof *out);
    if (e->kind == CALX_X_ERROR) {
        *err = *e->u.error;
        return err->code;
    }
    calx__sqlc c = { .d = d };
    calx__sqlc_labeled(&c, e);
    return calx__sqlc_finish(&c, out, "an expression", err);
}

static void expect_on(int line, const calx_expr *e, const calx_dialect *d, const char *sql,
                      const char *params)
{
    calx_compiled c;
    calx_error err;
    if (compile_item(e, d, &c, &err)) {
        fprintf(stderr, "  line %d (%s): compile failed: %s\n", line, d->name, err.message);
        test_failed_now = 1;
        return;
    }
    char p[1024];
    fmt_params(&c, p, sizeof p);
    if (strcmp(c.sql, sql) != 0 || strcmp(p, params) != 0) {
        fprintf(stderr, "  line %d (%s):\n    got      \"%s\" %s\n    expected \"%s\" %s\n",
                line, d->name, c.sql, p, sql, params);
        test_failed_now = 1;
    }
    size_t marks = 0;
    for (const char *s = c.sql; *s; s++)
        marks += *s == '?';
    CHECK_INT(marks, c.nparams);
    calx__compiled_free(&c);
}

/* e's text on SQLite and on PostgreSQL, same parameters; frees e. */
static void expect2(int line, calx_expr *e, const char *lite_sql, const char *pg_sql,
                    const char *params)
{
    expect_on(line, e, lite, lite_sql, params);
    expect_on(line, e, pg, pg_sql, params);
    calx_expr_free(e);
}
#define EXPECT2(e, lsql, psql, params) expect2(__LINE__, (e), (lsql), (psql), (params))
#define EXPECT_BOTH(e, sql, params) expect2(__LINE__, (e), (sql), (sql), (params))

/* An expression that must be an error node with code and message; a select
 * given it keeps the error and compiling reports it. Frees e. */
static void expect_error(int line, calx_expr *e, int code, const char *message)
{
    calx_select *q = calx_select_where(calx_select_new(&hero), e);
    calx_error err;
    int rc = calx_select_error(q, &err);
    if (rc != code || strcmp(err.message, message) != 0) {
        fprintf(stderr, "  line %d: got error %d \"%s\"\n    expected %d \"%s\"\n", line, rc,
                rc ? err.message : "", code, message);
        test_failed_now = 1;
    }
    calx_compiled c;
    CHECK_INT(calx__select_compile(q, lite, 0, &c, &err), code);
    calx__compiled_free(&c);
    calx_select_free(q);
}
#define EXPECT_ERROR(e, code, message) expect_error(__LINE__, (e), (code), (message))

/* The type of e, then frees it. */
static calx_xtype type_of(calx_expr *e)
{
    calx_xtype t = e->kind == CALX_X_ERROR ? (calx_xtype)-1 : e->type;
    calx_expr_free(e);
    return t;
}

/* ---- operators ---- */

TEST(between_and_its_negation)
{
    EXPECT_BOTH(calx_between(H(H_AGE), 30, 40), "hero.age BETWEEN ? AND ?", "(30, 40)");
    EXPECT_BOTH(calx_not(calx_between(H(H_AGE), 30, 40)), "hero.age NOT BETWEEN ? AND ?",
           "(30, 40)");
    EXPECT_BOTH(calx_between(calx_add(H(H_AGE), 1), H(H_ID), calx_mul(H(H_ID), 2)),
           "hero.age + ? BETWEEN hero.id AND hero.id * ?", "(1, 2)");
    EXPECT_BOTH(calx_between(G(G_SCORE), 1, 2.5), "gadget.score BETWEEN ? AND ?", "(1r, 2.5r)");
    EXPECT_BOTH(calx_between(H(H_NAME), "A", "M"), "hero.name BETWEEN ? AND ?", "('A', 'M')");
    EXPECT_BOTH(calx_and(calx_between(H(H_AGE), 1, 2), calx_gt(H(H_ID), 3)),
           "hero.age BETWEEN ? AND ? AND hero.id > ?", "(1, 2, 3)");
    CHECK_INT(type_of(calx_between(H(H_AGE), 1, 2)), CALX_XT_BOOL);
}

TEST(like_with_escape_and_ilike_per_dialect)
{
    EXPECT_BOTH(calx_like_escape(H(H_NAME), "a/%", '/'), "hero.name LIKE ? ESCAPE '/'", "('a/%',)");
    EXPECT_BOTH(calx_not_like_escape(H(H_NAME), "a/%", '/'), "hero.name NOT LIKE ? ESCAPE '/'",
           "('a/%',)");
    EXPECT_BOTH(calx_not(calx_like_escape(H(H_NAME), "a!%", '!')), "hero.name NOT LIKE ? ESCAPE '!'",
           "('a!%',)");
    EXPECT_BOTH(calx_like_escape(H(H_NAME), "a'%", '\''), "hero.name LIKE ? ESCAPE ''''", "('a'%',)");
    /* ILIKE where the database has it; lower() LIKE lower() where not. */
    EXPECT2(calx_ilike(H(H_NAME), "d%"), "lower(hero.name) LIKE lower(?)",
            "hero.name ILIKE ?", "('d%',)");
    EXPECT2(calx_not_ilike(H(H_NAME), "d%"), "lower(hero.name) NOT LIKE lower(?)",
            "hero.name NOT ILIKE ?", "('d%',)");
    EXPECT2(calx_not(calx_ilike(H(H_NAME), "d%")), "lower(hero.name) NOT LIKE lower(?)",
            "hero.name NOT ILIKE ?", "('d%',)");
    EXPECT2(calx_binop_escape(CALX_OP_ILIKE, H(H_NAME), calx_lit_text("d/%"), '/'),
            "lower(hero.name) LIKE lower(?) ESCAPE '/'", "hero.name ILIKE ? ESCAPE '/'",
            "('d/%',)");
    EXPECT_BOTH(calx_like(calx_lower(H(H_NAME)), "a%"), "lower(hero.name) LIKE ?", "('a%',)");
}

TEST(contains_startswith_endswith_escape_their_value)
{
    /* SQLAlchemy's autoescape=True: '/', '%' and '_' get a '/'. */
    EXPECT_BOTH(calx_contains(H(H_NAME), "a%b"), "hero.name LIKE '%' || ? || '%' ESCAPE '/'",
           "('a/%b',)");
    EXPECT_BOTH(calx_not(calx_contains(H(H_NAME), "a%b")),
           "hero.name NOT LIKE '%' || ? || '%' ESCAPE '/'", "('a/%b',)");
    EXPECT_BOTH(calx_startswith(H(H_NAME), "a_/"), "hero.name LIKE ? || '%' ESCAPE '/'",
           "('a/_//',)");
    EXPECT_BOTH(calx_endswith(H(H_NAME), "x"), "hero.name LIKE '%' || ? ESCAPE '/'", "('x',)");
    EXPECT_BOTH(calx_contains(H(H_NAME), ""), "hero.name LIKE '%' || ? || '%' ESCAPE '/'", "('',)");
    /* The value is copied and escaped: the caller's buffer may change. */
    char buf[8] = "50%";
    calx_expr *e = calx_contains(H(H_SECRET), buf);
    strcpy(buf, "zz");
    EXPECT_BOTH(e, "hero.secret_name LIKE '%' || ? || '%' ESCAPE '/'", "('50/%',)");
}

TEST(arithmetic_follows_sqlalchemy_precedence)
{
    EXPECT_BOTH(calx_gt(calx_add(H(H_AGE), 1), 5), "hero.age + ? > ?", "(1, 5)");
    EXPECT_BOTH(calx_add(calx_add(H(H_AGE), 1), H(H_ID)), "hero.age + ? + hero.id", "(1,)");
    EXPECT_BOTH(calx_add(H(H_AGE), calx_add(H(H_ID), 1)), "hero.age + hero.id + ?", "(1,)");
    EXPECT_BOTH(calx_sub(calx_sub(H(H_AGE), 1), H(H_ID)), "(hero.age - ?) - hero.id", "(1,)");
    EXPECT_BOTH(calx_sub(H(H_AGE), calx_sub(H(H_ID), 1)), "hero.age - (hero.id - ?)", "(1,)");
    EXPECT_BOTH(calx_mul(calx_add(H(H_AGE), 1), 2), "(hero.age + ?) * ?", "(1, 2)");
    EXPECT_BOTH(calx_add(H(H_AGE), calx_mul(H(H_ID), 2)), "hero.age + hero.id * ?", "(2,)");
    EXPECT_BOTH(calx_mul(calx_mul(H(H_AGE), 2), 3), "hero.age * ? * ?", "(2, 3)");
    EXPECT_BOTH(calx_sub(calx_add(H(H_AGE), 1), 2), "(hero.age + ?) - ?", "(1, 2)");
    EXPECT_BOTH(calx_mod(H(H_AGE), 3), "hero.age % ?", "(3,)");
    EXPECT_BOTH(calx_mod(calx_add(H(H_AGE), 1), 3), "(hero.age + ?) % ?", "(1, 3)");
    EXPECT_BOTH(calx_eq(calx_add(H(H_AGE), 1), calx_sub(H(H_ID), 1)), "hero.age + ? = hero.id - ?",
           "(1, 1)");
    EXPECT_BOTH(calx_add(calx_count(H(H_ID)), 1), "count(hero.id) + ?", "(1,)");
    EXPECT2(calx_add(calx_cast(H(H_AGE), CALX_COL_DOUBLE), 1), "CAST(hero.age AS FLOAT) + ?",
            "CAST(hero.age AS DOUBLE PRECISION) + ?", "(1r,)");
    /* Result types: INTEGER op INTEGER is INTEGER, with a REAL it is REAL;
     * an INTEGER literal against a REAL is bound as a real. */
    CHECK_INT(type_of(calx_add(H(H_AGE), 1)), CALX_XT_INT);
    CHECK_INT(type_of(calx_mul(H(H_AGE), 1.5)), CALX_XT_REAL);
    CHECK_INT(type_of(calx_sub(G(G_SCORE), H(H_AGE))), CALX_XT_REAL);
    CHECK_INT(type_of(calx_mod(H(H_AGE), 2)), CALX_XT_INT);
    CHECK_INT(type_of(calx_div(H(H_AGE), 2)), CALX_XT_REAL);
    EXPECT_BOTH(calx_add(G(G_SCORE), 1), "gadget.score + ?", "(1r,)");
    EXPECT_BOTH(calx_add(2, calx_lit_int(3)), "? + ?", "(2, 3)");
}

TEST(division_is_true_division_per_dialect)
{
    /* SQLAlchemy 2.0: SQLite's compiler adds 0.0 (CAST(2 AS NUMERIC) is
     * still the integer 2 there), the default one casts to NUMERIC (a REAL
     * right side to its own type). */
    EXPECT2(calx_div(H(H_AGE), 2), "hero.age / (? + 0.0)", "hero.age / CAST(? AS NUMERIC)",
            "(2,)");
    EXPECT2(calx_div(G(G_SCORE), 2), "gadget.score / (? + 0.0)",
            "gadget.score / CAST(? AS DOUBLE PRECISION)", "(2r,)");
    EXPECT2(calx_div(H(H_AGE), G(G_SCORE)), "hero.age / (gadget.score + 0.0)",
            "hero.age / CAST(gadget.score AS DOUBLE PRECISION)", "()");
    /* A quotient is REAL: an integer divided into it is bound as a real. */
    EXPECT2(calx_div(calx_div(H(H_AGE), 2), 3), "(hero.age / (? + 0.0)) / (? + 0.0)",
            "(hero.age / CAST(? AS NUMERIC)) / CAST(? AS DOUBLE PRECISION)", "(2, 3r)");
    EXPECT2(calx_div(H(H_AGE), calx_add(H(H_ID), 1)), "hero.age / ((hero.id + ?) + 0.0)",
            "hero.age / CAST((hero.id + ?) AS NUMERIC)", "(1,)");
    EXPECT2(calx_add(calx_div(H(H_AGE), 2), 1), "hero.age / (? + 0.0) + ?",
            "hero.age / CAST(? AS NUMERIC) + ?", "(2, 1r)");
}

TEST(concatenation)
{
    EXPECT_BOTH(calx_concat(H(H_NAME), H(H_SECRET)), "hero.name || hero.secret_name", "()");
    EXPECT_BOTH(calx_concat(H(H_NAME), "x"), "hero.name || ?", "('x',)");
    EXPECT_BOTH(calx_concat(calx_concat(H(H_NAME), H(H_SECRET)), "z"),
           "hero.name || hero.secret_name || ?", "('z',)");
    EXPECT_BOTH(calx_like(calx_concat(H(H_NAME), "x"), "a"), "hero.name || ? LIKE ?", "('x', 'a')");
    EXPECT_BOTH(calx_eq(H(H_NAME), calx_concat(H(H_NAME), "x")), "hero.name = hero.name || ?",
           "('x',)");
    EXPECT_BOTH(calx_concat(calx_lower(H(H_NAME)), calx_upper(H(H_SECRET))),
           "lower(hero.name) || upper(hero.secret_name)", "()");
    CHECK_INT(type_of(calx_concat(H(H_NAME), "x")), CALX_XT_TEXT);
}

TEST(is_distinct_from_per_dialect)
{
    EXPECT2(calx_is_distinct_from(H(H_AGE), 3), "hero.age IS NOT ?",
            "hero.age IS DISTINCT FROM ?", "(3,)");
    EXPECT2(calx_is_not_distinct_from(H(H_AGE), 3), "hero.age IS ?",
            "hero.age IS NOT DISTINCT FROM ?", "(3,)");
    EXPECT2(calx_not(calx_is_distinct_from(H(H_AGE), 3)), "hero.age IS ?",
            "hero.age IS NOT DISTINCT FROM ?", "(3,)");
    EXPECT2(calx_is_distinct_from(H(H_AGE), NULL), "hero.age IS NOT NULL",
            "hero.age IS DISTINCT FROM NULL", "()");
    EXPECT2(calx_is_not_distinct_from(H(H_AGE), H(H_TEAM)), "hero.age IS hero.team_id",
            "hero.age IS NOT DISTINCT FROM hero.team_id", "()");
    EXPECT2(calx_is_distinct_from(G(G_ACTIVE), 0), "gadget.active IS NOT 0",
            "gadget.active IS DISTINCT FROM false", "()");
}

TEST(bools_compared_with_booleans_render_inline)
{
    /* The reference's delete(HeroMissionLink).where(is_leader == False). */
    calx_select *q = calx_select_where(calx_select_new(&link_t),
                                       calx_eq(calx_col(&link_t, 2), false));
    calx_compiled c;
    calx_error err;
    CHECK_OK(calx__select_compile(q, lite, 0, &c, &err), &err);
    CHECK_STR(c.sql, "SELECT heromissionlink.hero_id, heromissionlink.mission_id, "
                     "heromissionlink.is_leader \nFROM heromissionlink \nWHERE "
                     "heromissionlink.is_leader = 0");
    CHECK_INT(c.nparams, 0);
    calx__compiled_free(&c);
    CHECK_OK(calx__select_compile(q, pg, 0, &c, &err), &err);
    CHECK_CONTAINS(c.sql, "WHERE heromissionlink.is_leader = false");
    CHECK_INT(c.nparams, 0);
    calx__compiled_free(&c);
    calx_select_free(q);
    EXPECT2(calx_eq(G(G_ACTIVE), calx_lit_bool(true)), "gadget.active = 1",
            "gadget.active = true", "()");
    EXPECT2(calx_ne(G(G_ACTIVE), true), "gadget.active != 1", "gadget.active != true", "()");
    EXPECT2(calx_not(calx_eq(G(G_ACTIVE), false)), "gadget.active != 0",
            "gadget.active != false", "()");
    EXPECT2(calx_eq(calx_gt(H(H_AGE), 3), true), "(hero.age > ?) = 1", "(hero.age > ?) = true",
            "(3,)");
    /* Bound elsewhere: in IN, against INTEGER, standing alone. */
    EXPECT_BOTH(calx_in(G(G_ACTIVE), calx_bool(true)), "gadget.active IN (?)", "(True,)");
    EXPECT_BOTH(calx_eq(H(H_AGE), calx_lit_bool(true)), "hero.age = ?", "(1,)");
}

/* ---- functions, CASE, CAST, labels ---- */

TEST(functions_and_their_types)
{
    EXPECT_BOTH(calx_count(H(H_ID)), "count(hero.id)", "()");
    EXPECT_BOTH(calx_count_all(), "count(*)", "()");
    EXPECT_BOTH(calx_sum(H(H_AGE)), "sum(hero.age)", "()");
    EXPECT_BOTH(calx_avg(H(H_AGE)), "avg(hero.age)", "()");
    EXPECT_BOTH(calx_min(H(H_NAME)), "min(hero.name)", "()");
    EXPECT_BOTH(calx_max(H(H_AGE)), "max(hero.age)", "()");
    EXPECT_BOTH(calx_coalesce(H(H_AGE), calx_lit_int(0)), "coalesce(hero.age, ?)", "(0,)");
    EXPECT_BOTH(calx_lower(H(H_NAME)), "lower(hero.name)", "()");
    EXPECT_BOTH(calx_upper(H(H_NAME)), "upper(hero.name)", "()");
    EXPECT_BOTH(calx_length(H(H_NAME)), "length(hero.name)", "()");
    EXPECT_BOTH(calx_abs(calx_sub(H(H_AGE), 50)), "abs(hero.age - ?)", "(50,)");
    EXPECT2(calx_now(), "CURRENT_TIMESTAMP", "now()", "()");
    EXPECT_BOTH(calx_ge(calx_count(H(H_ID)), 1), "count(hero.id) >= ?", "(1,)");
    EXPECT_BOTH(calx_func("json_extract", 0, H(H_NAME), calx_lit_text("$.a")),
           "json_extract(hero.name, ?)", "('$.a',)");
    EXPECT_BOTH(calx_func_n("random", CALX_COL_INT64, NULL, 0), "random()", "()");
    EXPECT_BOTH(calx_func("pg_catalog.upper", CALX_COL_TEXT, H(H_NAME)),
           "pg_catalog.upper(hero.name)", "()");
    CHECK_INT(type_of(calx_count(H(H_NAME))), CALX_XT_INT);
    CHECK_INT(type_of(calx_count_all()), CALX_XT_INT);
    CHECK_INT(type_of(calx_sum(H(H_AGE))), CALX_XT_INT);
    CHECK_INT(type_of(calx_sum(G(G_SCORE))), CALX_XT_REAL);
    CHECK_INT(type_of(calx_avg(H(H_AGE))), CALX_XT_REAL);
    CHECK_INT(type_of(calx_min(H(H_NAME))), CALX_XT_TEXT);
    CHECK_INT(type_of(calx_max(G(G_MADE))), CALX_XT_TIMESTAMP);
    CHECK_INT(type_of(calx_length(G(G_DATA))), CALX_XT_INT);
    CHECK_INT(type_of(calx_abs(G(G_SCORE))), CALX_XT_REAL);
    CHECK_INT(type_of(calx_now()), CALX_XT_TIMESTAMP);
    CHECK_INT(type_of(calx_coalesce(H(H_AGE), calx_lit_real(0.5))), CALX_XT_REAL);
    CHECK_INT(type_of(calx_coalesce(calx_lit(calx_null()), calx_lit_text("x"))), CALX_XT_TEXT);
    CHECK_INT(type_of(calx_coalesce(calx_lit_int(1), G(G_SCORE))), CALX_XT_REAL);
    CHECK_INT(type_of(calx_func_n("f", CALX_COL_BOOL, NULL, 0)), CALX_XT_BOOL);
    /* "Any" compares with everything, and its literal keeps its type. */
    CHECK_INT(type_of(calx_func_n("f", 0, NULL, 0)), CALX_XT_ANY);
    EXPECT_BOTH(calx_eq(calx_func_n("f", 0, NULL, 0), "x"), "f() = ?", "('x',)");
    EXPECT_BOTH(calx_eq(calx_func_n("f", 0, NULL, 0), 2), "f() = ?", "(2,)");
    EXPECT_BOTH(calx_lt(H(H_NAME), calx_func("g", 0, H(H_AGE))), "hero.name < g(hero.age)", "()");
    EXPECT_BOTH(calx_add(calx_func_n("f", 0, NULL, 0), 1), "f() + ?", "(1,)");
    EXPECT_BOTH(calx_like(calx_func_n("f", 0, NULL, 0), "a%"), "f() LIKE ?", "('a%',)");
    /* Literals in a coalesce take the first column's type. */
    EXPECT_BOTH(calx_coalesce(G(G_SCORE), calx_lit_int(0), calx_lit(calx_null())),
           "coalesce(gadget.score, ?, NULL)", "(0r,)");
}

TEST(case_is_typed_by_its_results)
{
    EXPECT_BOTH(calx_case(calx_lit_text("young"), calx_gt(H(H_AGE), 30), calx_lit_text("old"),
                     calx_lt(H(H_AGE), 10), calx_lit_text("kid")),
           "CASE WHEN (hero.age > ?) THEN ? WHEN (hero.age < ?) THEN ? ELSE ? END",
           "(30, 'old', 10, 'kid', 'young')");
    EXPECT_BOTH(calx_case(calx_lit_int(0), G(G_ACTIVE), calx_lit_int(1)),
           "CASE WHEN gadget.active THEN ? ELSE ? END", "(1, 0)");
    EXPECT2(calx_case(calx_lit_int(0), calx_not(G(G_ACTIVE)), calx_lit_int(1)),
            "CASE WHEN gadget.active = 0 THEN ? ELSE ? END",
            "CASE WHEN NOT gadget.active THEN ? ELSE ? END", "(1, 0)");
    EXPECT_BOTH(calx_case(NULL, calx_gt(H(H_AGE), 1), H(H_AGE)),
           "CASE WHEN (hero.age > ?) THEN hero.age END", "(1,)");
    EXPECT_BOTH(calx_add(calx_case(calx_lit_int(0), calx_gt(H(H_AGE), 1), H(H_AGE)), 1),
           "CASE WHEN (hero.age > ?) THEN hero.age ELSE ? END + ?", "(1, 0, 1)");
    EXPECT_BOTH(calx_case(calx_lit_int(0), calx_and(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 9)),
                     calx_lit_int(1)),
           "CASE WHEN (hero.age > ? AND hero.age < ?) THEN ? ELSE ? END", "(1, 9, 1, 0)");
    /* The literals take the first column's type (INTEGER against REAL is a
     * real); the type is the results'. */
    EXPECT_BOTH(calx_case(calx_lit_int(0), calx_gt(H(H_AGE), 1), G(G_SCORE)),
           "CASE WHEN (hero.age > ?) THEN gadget.score ELSE ? END", "(1, 0r)");
    calx_expr *conds[2] = { calx_gt(H(H_AGE), 1), calx_is_null(H(H_AGE)) };
    calx_expr *results[2] = { H(H_AGE), calx_lit_real(0.5) };
    CHECK_INT(type_of(calx_case_n(conds, results, 2, NULL)), CALX_XT_REAL);
    CHECK_INT(type_of(calx_case(NULL, calx_gt(H(H_AGE), 1), calx_lit_text("x"))),
              CALX_XT_TEXT);
}

TEST(cast_names_the_dialects_type)
{
    EXPECT_BOTH(calx_cast(H(H_AGE), CALX_COL_TEXT), "CAST(hero.age AS VARCHAR)", "()");
    EXPECT_BOTH(calx_cast(H(H_NAME), CALX_COL_INT32), "CAST(hero.name AS INTEGER)", "()");
    EXPECT2(calx_cast(H(H_NAME), CALX_COL_INT64), "CAST(hero.name AS INTEGER)",
            "CAST(hero.name AS BIGINT)", "()");
    EXPECT2(calx_cast(H(H_AGE), CALX_COL_DOUBLE), "CAST(hero.age AS FLOAT)",
            "CAST(hero.age AS DOUBLE PRECISION)", "()");
    EXPECT2(calx_cast(H(H_NAME), CALX_COL_TIMESTAMP), "CAST(hero.name AS DATETIME)",
            "CAST(hero.name AS TIMESTAMP WITH TIME ZONE)", "()");
    EXPECT2(calx_cast(H(H_NAME), CALX_COL_BLOB), "CAST(hero.name AS BLOB)",
            "CAST(hero.name AS BYTEA)", "()");
    EXPECT_BOTH(calx_cast(calx_lit_text("5"), CALX_COL_INT32), "CAST(? AS INTEGER)", "('5',)");
    EXPECT_BOTH(calx_cast(calx_add(H(H_AGE), 1), CALX_COL_TEXT), "CAST(hero.age + ? AS VARCHAR)",
           "(1,)");
    CHECK_INT(type_of(calx_cast(H(H_AGE), CALX_COL_TEXT)), CALX_XT_TEXT);
    CHECK_INT(type_of(calx_cast(H(H_NAME), CALX_COL_BOOL)), CALX_XT_BOOL);
}

TEST(labels_render_as_and_names_are_reachable)
{
    EXPECT_BOTH(calx_label(calx_add(H(H_AGE), 1), "next_age"), "hero.age + ? AS next_age", "(1,)");
    EXPECT_BOTH(calx_label(calx_count_all(), "n"), "count(*) AS n", "()");
    /* Quoted as any name is. */
    EXPECT_BOTH(calx_label(H(H_AGE), "Age Now"), "hero.age AS \"Age Now\"", "()");
    EXPECT2(calx_label(H(H_AGE), "user"), "hero.age AS user", "hero.age AS \"user\"", "()");
    /* Anywhere but a columns clause a label is its expression. */
    EXPECT_BOTH(calx_gt(calx_label(calx_add(H(H_AGE), 1), "x"), 3), "hero.age + ? > ?", "(1, 3)");
    EXPECT_BOTH(calx_mul(calx_label(calx_add(H(H_AGE), 1), "x"), 3), "(hero.age + ?) * ?", "(1, 3)");
    /* The names the select compiler labels by: count_1 comes from "count". */
    calx_expr *e = calx_label(calx_avg(H(H_AGE)), "mean");
    CHECK_STR(calx__expr_name(e), "mean");
    CHECK_STR(calx__expr_name(e->u.label.a), "avg");
    CHECK_INT(e->type, CALX_XT_REAL);
    calx_expr_free(e);
    e = calx_count_all();
    CHECK_STR(calx__expr_name(e), "count");
    calx_expr_free(e);
    e = calx_now();
    CHECK_STR(calx__expr_name(e), "now");
    calx_expr_free(e);
    e = H(H_AGE);
    CHECK_STR(calx__expr_name(e), "age");
    calx_expr_free(e);
    e = calx_add(H(H_AGE), 1);
    CHECK(calx__expr_name(e) == NULL);
    calx_expr_free(e);
}

/* ---- errors ---- */

TEST(type_errors_name_the_cause)
{
    EXPECT_ERROR(calx_add(H(H_NAME), 1), CALX_ERR_TYPE,
                 "cannot add hero.name (TEXT) to an INTEGER value");
    EXPECT_ERROR(calx_gt(calx_sub(H(H_AGE), "x"), 1), CALX_ERR_TYPE,
                 "cannot subtract a TEXT value from hero.age (INTEGER)");
    EXPECT_ERROR(calx_gt(calx_mul(G(G_ACTIVE), 2), 1), CALX_ERR_TYPE,
                 "cannot multiply gadget.active (BOOLEAN) by an INTEGER value");
    EXPECT_ERROR(calx_gt(calx_div(H(H_AGE), G(G_MADE)), 1), CALX_ERR_TYPE,
                 "cannot divide hero.age (INTEGER) by gadget.made (TIMESTAMP)");
    EXPECT_ERROR(calx_gt(calx_mod(G(G_SCORE), 2), 1), CALX_ERR_TYPE,
                 "% takes INTEGER operands, not gadget.score (REAL)");
    EXPECT_ERROR(calx_gt(calx_mod(H(H_AGE), calx_lit(calx_null())), 1), CALX_ERR_TYPE,
                 "cannot take hero.age (INTEGER) modulo NULL");
    EXPECT_ERROR(calx_eq(calx_concat(H(H_NAME), 1), "x"), CALX_ERR_TYPE,
                 "cannot concatenate hero.name (TEXT) with an INTEGER value: || takes TEXT");
    EXPECT_ERROR(calx_eq(calx_add(H(H_AGE), 1), "x"), CALX_ERR_TYPE,
                 "cannot compare an INTEGER expression with a TEXT value");
    EXPECT_ERROR(calx_between(H(H_AGE), 1, "z"), CALX_ERR_TYPE,
                 "cannot compare hero.age (INTEGER) with a TEXT value");
    EXPECT_ERROR(calx_between(H(H_AGE), NULL, 3), CALX_ERR_TYPE,
                 "cannot compare hero.age (INTEGER) with NULL using BETWEEN");
    EXPECT_ERROR(calx_ilike(H(H_AGE), "1%"), CALX_ERR_TYPE,
                 "ILIKE needs TEXT on both sides, not hero.age (INTEGER)");
    EXPECT_ERROR(calx_like_escape(H(H_NAME), "a", '\n'), CALX_ERR_ARGUMENT,
                 "calx_binop_escape: the ESCAPE character must be printable ASCII, not 10");
    EXPECT_ERROR(calx_binop_escape(CALX_OP_EQ, H(H_NAME), calx_lit_text("a"), '/'),
                 CALX_ERR_ARGUMENT,
                 "calx_binop_escape: ESCAPE goes with LIKE and ILIKE, not operator 0");
    EXPECT_ERROR(calx_contains(H(H_NAME), H(H_SECRET)), CALX_ERR_TYPE,
                 "contains escapes a TEXT value, not hero.secret_name (TEXT)");
    EXPECT_ERROR(calx_startswith(H(H_NAME), NULL), CALX_ERR_TYPE,
                 "startswith escapes a TEXT value, not NULL");
    EXPECT_ERROR(calx_endswith(H(H_AGE), "1"), CALX_ERR_TYPE,
                 "endswith needs TEXT, not hero.age (INTEGER)");
    EXPECT_ERROR(calx_text_match((calx_matchkind)9, H(H_NAME), calx_lit_text("a")),
                 CALX_ERR_ARGUMENT, "calx_text_match: unknown kind 9");
    EXPECT_ERROR(calx_is_distinct_from(H(H_AGE), "x"), CALX_ERR_TYPE,
                 "cannot compare hero.age (INTEGER) with a TEXT value");
    EXPECT_ERROR(calx_gt(calx_sum(H(H_NAME)), 1), CALX_ERR_TYPE,
                 "sum() takes INTEGER, REAL or DECIMAL, not hero.name (TEXT)");
    EXPECT_ERROR(calx_gt(calx_avg(G(G_ACTIVE)), 1), CALX_ERR_TYPE,
                 "avg() takes INTEGER or REAL, not gadget.active (BOOLEAN)");
    EXPECT_ERROR(calx_eq(calx_lower(H(H_AGE)), "a"), CALX_ERR_TYPE,
                 "lower() takes TEXT, not hero.age (INTEGER)");
    EXPECT_ERROR(calx_gt(calx_length(H(H_AGE)), 1), CALX_ERR_TYPE,
                 "length() takes TEXT or BLOB, not hero.age (INTEGER)");
    EXPECT_ERROR(calx_gt(calx_max(calx_lit(calx_null())), 1), CALX_ERR_TYPE,
                 "max() takes a typed value, not NULL");
    EXPECT_ERROR(calx_eq(calx_length(H(H_NAME)), "x"), CALX_ERR_TYPE,
                 "cannot compare length() (INTEGER) with a TEXT value");
    EXPECT_ERROR(calx_eq(calx_coalesce(H(H_AGE), calx_lit_text("x")), 1), CALX_ERR_TYPE,
                 "cannot compare hero.age (INTEGER) with a TEXT value (coalesce argument 2)");
    EXPECT_ERROR(calx_eq(calx_coalesce(H(H_AGE), H(H_NAME)), 1), CALX_ERR_TYPE,
                 "cannot mix hero.age (INTEGER) with hero.name (TEXT) (coalesce argument 2)");
    EXPECT_ERROR(calx_coalesce_n(NULL, 0), CALX_ERR_ARGUMENT,
                 "coalesce() needs at least one argument");
    EXPECT_ERROR(calx_eq(calx_case(calx_lit_text("x"), calx_gt(H(H_AGE), 1), H(H_AGE)), 1),
                 CALX_ERR_TYPE,
                 "cannot compare hero.age (INTEGER) with a TEXT value (CASE result 2)");
    EXPECT_ERROR(calx_eq(calx_case(NULL, H(H_AGE), calx_lit_int(1)), 1), CALX_ERR_TYPE,
                 "CASE condition 1 is hero.age (INTEGER), not BOOLEAN");
    EXPECT_ERROR(calx_case_n(NULL, NULL, 0, NULL), CALX_ERR_ARGUMENT,
                 "CASE needs at least one WHEN ... THEN pair");
    EXPECT_ERROR(calx_case(NULL, calx_gt(H(H_AGE), 1), H(H_AGE), calx_lt(H(H_AGE), 2)),
                 CALX_ERR_ARGUMENT,
                 "calx_case: 3 arguments after ELSE; it takes condition, result pairs");
    EXPECT_ERROR(calx_eq(calx_cast(H(H_AGE), (calx_coltype)0), 1), CALX_ERR_ARGUMENT,
                 "calx_cast: unknown column type 0");
    EXPECT_ERROR(calx_eq(calx_func_n("x; DROP TABLE hero", 0, NULL, 0), 1), CALX_ERR_ARGUMENT,
                 "calx_func_n: 'x; DROP TABLE hero' is not a plain SQL function name (letters, "
                 "digits, '_' and '.', not starting with a digit)");
    EXPECT_ERROR(calx_eq(calx_func_n("1f", 0, NULL, 0), 1), CALX_ERR_ARGUMENT,
                 "calx_func_n: '1f' is not a plain SQL function name (letters, digits, '_' and "
                 "'.', not starting with a digit)");
    EXPECT_ERROR(calx_eq(calx_func_n("f", (calx_coltype)99, NULL, 0), 1), CALX_ERR_ARGUMENT,
                 "calx_func_n: unknown result type 99 for f()");
    EXPECT_ERROR(calx_eq(calx_label(H(H_AGE), ""), 1), CALX_ERR_ARGUMENT,
                 "calx_label: the name is empty");
    EXPECT_ERROR(calx_eq(calx_label(H(H_AGE), NULL), 1), CALX_ERR_ARGUMENT,
                 "calx_label: the name is NULL");
    EXPECT_ERROR(calx_not(calx_add(H(H_AGE), 1)), CALX_ERR_TYPE,
                 "NOT takes BOOLEAN expressions, not an INTEGER expression");
    EXPECT_ERROR(calx_and(calx_gt(H(H_AGE), 1), calx_count(H(H_ID))), CALX_ERR_TYPE,
                 "AND takes BOOLEAN expressions, not count() (INTEGER)");
}

TEST(first_error_wins_through_every_builder)
{
    const char *nullmsg = "out of memory building an SQL expression (an expression argument is NULL)";
    const char *bad = "table hero has no column 'nope'";
    calx_expr *(*const one[])(calx_expr *) = { calx_count, calx_sum,   calx_avg,   calx_min,
                                               calx_max,   calx_lower, calx_upper, calx_length,
                                               calx_abs };
    for (size_t i = 0; i < sizeof one / sizeof *one; i++) {
        EXPECT_ERROR(calx_is_null(one[i](calx_col_named(&hero, "nope"))), CALX_ERR_ARGUMENT, bad);
        EXPECT_ERROR(calx_is_null(one[i](NULL)), CALX_ERR_NOMEM, nullmsg);
    }
    EXPECT_ERROR(calx_is_null(calx_cast(NULL, CALX_COL_TEXT)), CALX_ERR_NOMEM, nullmsg);
    EXPECT_ERROR(calx_is_null(calx_label(calx_col_named(&hero, "nope"), "x")), CALX_ERR_ARGUMENT,
                 bad);
    EXPECT_ERROR(calx_between(H(H_AGE), calx_col_named(&hero, "nope"), calx_add(H(H_NAME), 1)),
                 CALX_ERR_ARGUMENT, bad);
    EXPECT_ERROR(calx_between_expr(H(H_AGE), calx_lit_int(1), NULL), CALX_ERR_NOMEM, nullmsg);
    EXPECT_ERROR(calx_contains(calx_col_named(&hero, "nope"), "x"), CALX_ERR_ARGUMENT, bad);
    EXPECT_ERROR(calx_like_escape(H(H_NAME), calx_col_named(&hero, "nope"), '\n'),
                 CALX_ERR_ARGUMENT, bad);
    EXPECT_ERROR(calx_is_null(calx_coalesce(H(H_AGE), calx_add(H(H_NAME), 1),
                                            calx_col_named(&hero, "nope"))),
                 CALX_ERR_TYPE, "cannot add hero.name (TEXT) to an INTEGER value");
    EXPECT_ERROR(calx_is_null(calx_func("f", 0, H(H_AGE), calx_col_named(&hero, "nope"))),
                 CALX_ERR_ARGUMENT, bad);
    EXPECT_ERROR(calx_is_null(calx_func_n("f", 0, NULL, 2)), CALX_ERR_NOMEM, nullmsg);
    EXPECT_ERROR(calx_is_null(calx_coalesce_n(NULL, 2)), CALX_ERR_NOMEM, nullmsg);
    /* CASE: reading order is when, then, ..., else. */
    EXPECT_ERROR(calx_is_null(calx_case(calx_col_named(&hero, "nope"),
                                        calx_gt(H(H_AGE), 1), calx_add(H(H_NAME), 1))),
                 CALX_ERR_TYPE, "cannot add hero.name (TEXT) to an INTEGER value");
    EXPECT_ERROR(calx_is_null(calx_case(calx_add(H(H_NAME), 1), calx_gt(H(H_AGE), 1),
                                        H(H_AGE))),
                 CALX_ERR_TYPE, "cannot add hero.name (TEXT) to an INTEGER value");
    EXPECT_ERROR(calx_is_null(calx_case(NULL, calx_gt(H(H_AGE), 1), NULL)), CALX_ERR_NOMEM,
                 nullmsg);
    calx_expr *conds[1] = { calx_gt(H(H_AGE), 1) };
    EXPECT_ERROR(calx_is_null(calx_case_n(conds, NULL, 1, calx_lit_int(1))), CALX_ERR_NOMEM,
                 nullmsg);
    /* Dropped without a select: everything is freed (ASan, valgrind). */
    calx_expr_free(calx_case(calx_lit_int(0), calx_gt(H(H_AGE), 1), calx_sum(H(H_AGE)),
                             calx_between(H(H_AGE), 1, 2), calx_abs(H(H_ID))));
    calx_expr_free(calx_label(calx_cast(calx_coalesce(H(H_AGE), calx_lit_int(1)),
                                        CALX_COL_TEXT),
                              "x"));
    calx_expr_free(calx_contains(H(H_NAME), "a_b"));
    calx_expr_free(calx_func("f", 0, H(H_AGE), calx_now(), calx_count_all()));
}

/* ---- out of memory ---- */

/* Builds every construct of this file into one condition and compiles it
 * for d: every builder's allocations and the compiler's. With bad, a type
 * error too. Returns the compile status; *sql gets the text. */
static int build_everything(const calx_dialect *d, bool bad, calx_error *err, char **sql)
{
    *sql = NULL;
    calx_select *q = calx_select_new(&hero);
    calx_expr *items[] = {
        calx_between(calx_add(H(H_AGE), 1), 1, calx_mul(H(H_ID), 2)),
        calx_like_escape(calx_concat(H(H_NAME), "x"), "a/%", '/'),
        calx_ilike(calx_lower(H(H_NAME)), "d%"),
        calx_not(calx_contains(H(H_SECRET), "5_%")),
        calx_is_distinct_from(calx_div(H(H_AGE), 2), calx_mod(H(H_ID), 3)),
        calx_gt(calx_case(calx_lit_int(0), calx_gt(H(H_AGE), 1), calx_sum(H(H_AGE)),
                          calx_is_null(H(H_AGE)), calx_count_all()),
                calx_coalesce(calx_avg(H(H_AGE)), calx_lit_int(0))),
        calx_eq(calx_label(calx_cast(H(H_AGE), CALX_COL_TEXT), "s"),
                bad ? calx_lit_int(1) : calx_upper(H(H_NAME))),
        calx_ge(calx_func("f", 0, H(H_AGE), calx_now()), calx_abs(calx_sub(H(H_AGE), 50))),
        calx_ne(calx_length(H(H_NAME)), calx_max(calx_min(H(H_ID)))),
    };
    calx_select_where(q, calx_and_n(items, sizeof items / sizeof *items));
    calx_compiled c;
    int rc = calx__select_compile(q, d, 0, &c, err);
    if (rc == 0) {
        *sql = c.sql;
        c.sql = NULL;
    }
    calx__compiled_free(&c);
    calx_select_free(q);
    return rc;
}

/* Fails each allocation in turn (then each with all after it): every
 * failure comes out as an error, never a crash or (under ASan or
 * valgrind) a leak, and a success is the full text. */
TEST(out_of_memory_anywhere_is_reported_and_leaks_nothing)
{
    calx_error err;
    char *want = NULL, *sql = NULL;
    CHECK_OK(build_everything(lite, false, &err, &want), &err);
    CHECK_STR(want, "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id \nFROM "
                    "hero \nWHERE hero.age + ? BETWEEN ? AND hero.id * ? AND hero.name || ? LIKE "
                    "? ESCAPE '/' AND lower(lower(hero.name)) LIKE lower(?) AND "
                    "hero.secret_name NOT LIKE '%' || ? || '%' ESCAPE '/' AND hero.age / (? + "
                    "0.0) IS NOT hero.id % ? AND CASE WHEN (hero.age > ?) THEN sum(hero.age) "
                    "WHEN (hero.age IS NULL) THEN count(*) ELSE ? END > coalesce(avg(hero.age), "
                    "?) AND CAST(hero.age AS VARCHAR) = upper(hero.name) AND f(hero.age, "
                    "CURRENT_TIMESTAMP) >= abs(hero.age - ?) AND length(hero.name) != "
                    "max(min(hero.id))");
    CHECK_INT(build_everything(pg, true, &err, &sql), CALX_ERR_TYPE);
    CHECK_STR(err.message, "cannot compare a TEXT expression with an INTEGER value");
    for (int mode = 0; mode < 4; mode++) {
        bool bad = mode & 1, rest = mode & 2;
        long k = 0;
        for (;; k++) {
            nalloc = 0;
            fail_at = k;
            fail_rest = rest;
            int rc = build_everything(lite, bad, &err, &sql);
            long used = nalloc;
            fail_at = -1;
            bool ok = rc == CALX_ERR_NOMEM ||
                      (bad ? rc == CALX_ERR_TYPE : rc == 0 && strcmp(sql, want) == 0);
            if (!ok) {
                fprintf(stderr, "  failing allocation %ld%s: rc %d %s\n", k,
                        rest ? " and after" : "", rc, rc ? err.message : sql);
                test_failed_now = 1;
            }
            free(sql);
            if (k >= used)
                break;
        }
        CHECK(k > 40);
    }
    free(want);
}

/* ---- on the database ---- */

static const calx_dialect *db;   /* the connection's dialect */

/* The tutorial's heroes, and one whose name has LIKE's special characters. */
static const struct {
    const char *name, *secret;
    int age;          /* 0: NULL */
    int team;         /* 0: NULL */
} heroes[] = {
    { "Deadpond", "Dive Wilson", 0, 2 },
    { "Rusty-Man", "Tommy Sharp", 48, 1 },
    { "Spider-Boy", "Pedro Parqueador", 0, 0 },
    { "Tarantula", "Natalia Roman-on", 32, 1 },
    { "Black Lion", "Trevor Challa", 35, 1 },
    { "Dr. Weird", "Steve Weird", 36, 2 },
    { "Captain North America", "Esteban Rogelios", 93, 2 },
    { "50% Off_Guy/2", "n/a", 7, 0 },
};

TEST(setup_database)
{
    calx_error err;
    db = test_backend_pg() ? pg : lite;
    const calx_table *all[] = { &hero, &gadget, &link_t };
    if (!sql_db_open(loop, dir, NULL, all, sizeof all / sizeof *all, false, NULL))
        return;
    for (size_t i = 0; i < sizeof heroes / sizeof heroes[0]; i++)
        CHECK_OK(run_sql("INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)",
                         CALX_PARAMS(CALX_V(calx_text(heroes[i].name)),
                                     CALX_V(calx_text(heroes[i].secret)),
                                     CALX_V(heroes[i].age ? calx_int(heroes[i].age) : calx_null()),
                                     CALX_V(heroes[i].team ? calx_int(heroes[i].team)
                                                           : calx_null()))),
                 &err);
    CHECK_OK(run_sql("INSERT INTO gadget (active, score, data, made) VALUES (?, ?, ?, ?)",
                     CALX_PARAMS(CALX_V(calx_bool(true)), CALX_V(calx_real(1.5)),
                                 CALX_V(calx_blob("\x01\x02", 2)),
                                 CALX_V(calx_text("2024-01-02 03:04:05")))),
             &err);
    CHECK_OK(run_sql("INSERT INTO gadget (active, score) VALUES (?, ?)",
                     CALX_PARAMS(CALX_V(calx_bool(false)), CALX_V(calx_real(2.0)))),
             &err);
    CHECK_OK(run_sql("INSERT INTO heromissionlink (hero_id, mission_id, is_leader) VALUES "
                     "(1, 1, ?), (2, 1, ?), (1, 2, ?)",
                     CALX_PARAMS(CALX_V(calx_bool(true)), CALX_V(calx_bool(false)),
                                 CALX_V(calx_bool(false)))),
             &err);
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
}

/* Runs "SELECT e FROM t [WHERE t.id = id]" (id 0: every row, for
 * aggregates) and prints the one value as its type reads: "3", "3.5r",
 * "'x'", "True", "NULL". PostgreSQL's NUMERIC (avg, sum of BIGINT, true
 * division) reaches calx as exact text: an INTEGER or REAL expression reads
 * it as a number, as a typed result column would. Frees e. */
static const char *value_of(const calx_table *t, calx_expr *e, int id)
{
    static char out[600];
    calx_xtype type = e->kind == CALX_X_ERROR ? CALX_XT_NULL : e->type;
    if (e->kind == CALX_X_ERROR) {
        snprintf(out, sizeof out, "ERR %s", e->u.error->message);
        calx_expr_free(e);
        return out;
    }
    calx__sqlc c = { .d = db };
    calx__sqlc_put(&c, "SELECT ");
    calx__sqlc_labeled(&c, e);
    calx__sqlc_put(&c, " FROM ");
    calx__sqlc_put(&c, t->name);
    if (id) {
        calx__sqlc_put(&c, " WHERE id = ");
        calx__sqlc_bind_const(&c, calx_int(id));
    }
    calx_compiled comp;
    calx_error err;
    calx_result *r = NULL;
    if (calx__sqlc_finish(&c, &comp, "a test", &err)) {
        calx_expr_free(e);
        return "ERR nomem";
    }
    calx_params params = { comp.params, comp.nparams };
    int rc = conn ? calx_wait(calx_conn_execute(conn, comp.sql, &params, &err), &r, &err) : -1;
    calx__compiled_free(&comp);
    calx_expr_free(e);
    if (rc) {
        snprintf(out, sizeof out, "ERR %s", conn ? err.message : "no connection");
        return out;
    }
    const calx_row *row = calx_result_first(r);
    const calx_value *v = row ? calx_row_value(row, 0) : NULL;
    if (!v) {
        snprintf(out, sizeof out, "no row");
    } else if (v->type == CALX_NULL) {
        snprintf(out, sizeof out, "NULL");
    } else if (type == CALX_XT_BOOL && (v->type == CALX_BOOL || v->type == CALX_INT)) {
        snprintf(out, sizeof out, "%s", calx_row_bool(row, 0) ? "True" : "False");
    } else if (type == CALX_XT_INT && (v->type == CALX_TEXT || v->type == CALX_DECIMAL)) {
        snprintf(out, sizeof out, "%lld", (long long)calx_row_int(row, 0));
    } else if (type == CALX_XT_REAL && (v->type == CALX_TEXT || v->type == CALX_DECIMAL)) {
        snprintf(out, sizeof out, "%gr", calx_row_real(row, 0));
    } else if (type == CALX_XT_REAL) {
        snprintf(out, sizeof out, "%gr", calx_row_real(row, 0));
    } else if (v->type == CALX_INT) {
        snprintf(out, sizeof out, "%lld", (long long)v->u.i);
    } else if (v->type == CALX_REAL) {
        snprintf(out, sizeof out, "%gr", v->u.d);
    } else if (v->type == CALX_BOOL) {
        snprintf(out, sizeof out, "%s", v->u.b ? "True" : "False");
    } else if (v->type == CALX_TEXT) {
        snprintf(out, sizeof out, "'%.*s'", (int)v->u.s.len, v->u.s.ptr);
    } else {
        snprintf(out, sizeof out, "blob");
    }
    calx_result_free(r);
    return out;
}
#define HV(e, id) value_of(&hero, (e), (id))
#define GV(e, id) value_of(&gadget, (e), (id))

/* Runs SELECT * FROM hero WHERE cond; the ids, sorted. */
static const char *ids_where(calx_expr *cond)
{
    static char out[600];
    calx_select *q = calx_select_where(calx_select_new(&hero), cond);
    calx_select_order_by(q, H(H_ID), CALX_ASC);
    calx_error err;
    calx_result *r = NULL;
    int rc = conn ? calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err) : -1;
    calx_select_free(q);
    if (rc) {
        snprintf(out, sizeof out, "ERR %s", conn ? err.message : "no connection");
        return out;
    }
    size_t len = 0;
    out[0] = '\0';
    for (const calx_row *row; (row = calx_result_next(r));)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", len ? "," : "",
                                (long long)calx_row_int(row, 0));
    calx_result_free(r);
    return out;
}

TEST(execute_operators)
{
    CHECK_STR(ids_where(calx_between(H(H_AGE), 32, 36)), "4,5,6");
    CHECK_STR(ids_where(calx_not(calx_between(H(H_AGE), 32, 36))), "2,7,8");
    /* LIKE's '_' and '%' are wildcards unless escaped. */
    CHECK_STR(ids_where(calx_like(H(H_NAME), "%_%")), "1,2,3,4,5,6,7,8");
    CHECK_STR(ids_where(calx_like_escape(H(H_NAME), "%!_%", '!')), "8");
    CHECK_STR(ids_where(calx_contains(H(H_NAME), "%")), "8");
    CHECK_STR(ids_where(calx_contains(H(H_NAME), "_")), "8");
    CHECK_STR(ids_where(calx_contains(H(H_NAME), "-")), "2,3");
    CHECK_STR(ids_where(calx_contains(H(H_SECRET), "/")), "8");
    CHECK_STR(ids_where(calx_not(calx_contains(H(H_NAME), "e"))), "2,4,5,8");
    CHECK_STR(ids_where(calx_startswith(H(H_NAME), "50%")), "8");
    CHECK_STR(ids_where(calx_startswith(H(H_NAME), "D")), "1,6");
    CHECK_STR(ids_where(calx_endswith(H(H_NAME), "y/2")), "8");
    CHECK_STR(ids_where(calx_endswith(H(H_NAME), "_2")), "");
    /* ILIKE ignores case on both databases (PostgreSQL's LIKE does not). */
    CHECK_STR(ids_where(calx_ilike(H(H_NAME), "d%")), "1,6");
    CHECK_STR(ids_where(calx_not_ilike(H(H_NAME), "%A%")), "3,6,8");
    CHECK_STR(ids_where(calx_eq(calx_add(H(H_AGE), 1), 49)), "2");
    CHECK_STR(ids_where(calx_eq(calx_mod(H(H_AGE), 2), 0)), "2,4,6");
    CHECK_STR(ids_where(calx_gt(calx_div(H(H_AGE), 2), 17.5)), "2,6,7");
    CHECK_STR(ids_where(calx_eq(calx_concat(H(H_NAME), "!"), "Deadpond!")), "1");
    CHECK_STR(ids_where(calx_is_distinct_from(H(H_AGE), 32)), "1,2,3,5,6,7,8");
    CHECK_STR(ids_where(calx_is_not_distinct_from(H(H_AGE), NULL)), "1,3");
    CHECK_STR(ids_where(calx_is_not_distinct_from(H(H_AGE), H(H_TEAM))), "3");
    CHECK_STR(ids_where(calx_eq(calx_case(calx_lit_text("b"), calx_gt(H(H_AGE), 40),
                                          calx_lit_text("a")),
                                "a")),
              "2,7");
    CHECK_STR(ids_where(calx_eq(calx_cast(H(H_AGE), CALX_COL_TEXT), "35")), "5");
    CHECK_STR(ids_where(calx_gt(calx_length(H(H_NAME)), 12)), "7,8");
    CHECK_STR(ids_where(calx_eq(calx_coalesce(H(H_AGE), calx_lit_int(0)), 0)), "1,3");
    CHECK_STR(ids_where(calx_ge(calx_now(), "2020-01-01 00:00:00Z")), "1,2,3,4,5,6,7,8");
    /* The reference's bulk delete condition selects the non-leaders. */
    calx_select *q = calx_select_where(calx_select_new(&link_t),
                                       calx_eq(calx_col(&link_t, 2), false));
    calx_error err;
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err), &err);
    CHECK_INT(calx_result_nrows(r), 2);
    calx_result_free(r);
    calx_select_free(q);
}

TEST(execute_values)
{
    CHECK_STR(HV(calx_add(H(H_AGE), 1), 2), "49");
    CHECK_STR(HV(calx_sub(calx_sub(H(H_AGE), 8), 10), 2), "30");
    CHECK_STR(HV(calx_sub(H(H_AGE), calx_sub(H(H_ID), 10)), 2), "56");
    CHECK_STR(HV(calx_mul(calx_add(H(H_AGE), 2), 2), 2), "100");
    CHECK_STR(HV(calx_add(H(H_AGE), calx_mul(H(H_ID), 3)), 2), "54");
    CHECK_STR(HV(calx_mod(H(H_AGE), 5), 2), "3");
    CHECK_STR(HV(calx_add(H(H_AGE), 0.5), 2), "48.5r");
    /* True division: 7 / 2 is 3.5 on both, not 3. */
    CHECK_STR(HV(calx_div(H(H_AGE), 2), 8), "3.5r");
    CHECK_STR(HV(calx_div(calx_lit_int(7), calx_lit_int(2)), 8), "3.5r");
    CHECK_STR(HV(calx_div(calx_div(H(H_AGE), 2), 2), 2), "12r");
    CHECK_STR(HV(calx_div(H(H_AGE), calx_lit_real(4.0)), 8), "1.75r");
    CHECK_STR(GV(calx_div(G(G_SCORE), 2), 1), "0.75r");
    CHECK_STR(HV(calx_concat(calx_concat(H(H_NAME), " aka "), H(H_SECRET)), 1),
              "'Deadpond aka Dive Wilson'");
    CHECK_STR(HV(calx_upper(H(H_NAME)), 1), "'DEADPOND'");
    CHECK_STR(HV(calx_lower(H(H_NAME)), 1), "'deadpond'");
    CHECK_STR(HV(calx_length(H(H_NAME)), 1), "8");
    CHECK_STR(HV(calx_abs(calx_sub(H(H_AGE), 50)), 2), "2");
    CHECK_STR(HV(calx_coalesce(H(H_AGE), calx_lit_int(-1)), 1), "-1");
    CHECK_STR(HV(calx_cast(H(H_AGE), CALX_COL_TEXT), 2), "'48'");
    CHECK_STR(HV(calx_cast(calx_lit_text("12"), CALX_COL_INT64), 2), "12");
    CHECK_STR(HV(calx_add(calx_cast(H(H_AGE), CALX_COL_DOUBLE), 0.25), 2), "48.25r");
    CHECK_STR(HV(calx_case(calx_lit_text("young"), calx_gt(H(H_AGE), 40), calx_lit_text("old")),
                 2),
              "'old'");
    CHECK_STR(HV(calx_case(NULL, calx_gt(H(H_AGE), 40), calx_lit_text("old")), 4), "NULL");
    CHECK_STR(HV(calx_case(calx_lit_int(0), calx_gt(H(H_AGE), 40), H(H_AGE)), 4), "0");
    CHECK_STR(HV(calx_label(calx_between(H(H_AGE), 40, 50), "mid"), 2), "True");
    CHECK_STR(HV(calx_is_distinct_from(H(H_AGE), NULL), 1), "False");
    CHECK_STR(HV(calx_is_not_distinct_from(H(H_AGE), H(H_TEAM)), 3), "True");
    CHECK_STR(HV(calx_contains(H(H_NAME), "Off_"), 8), "True");
    CHECK_STR(GV(calx_case(calx_lit_int(0), G(G_ACTIVE), calx_lit_int(1)), 1), "1");
    CHECK_STR(GV(calx_case(calx_lit_int(0), calx_not(G(G_ACTIVE)), calx_lit_int(1)), 1), "0");
    CHECK_STR(GV(calx_eq(G(G_ACTIVE), false), 2), "True");
    /* Aggregates over every hero. */
    CHECK_STR(HV(calx_count(H(H_AGE)), 0), "6");
    CHECK_STR(HV(calx_count_all(), 0), "8");
    CHECK_STR(HV(calx_sum(H(H_AGE)), 0), "251");
    CHECK_STR(HV(calx_avg(H(H_TEAM)), 0), "1.5r");
    CHECK_STR(HV(calx_min(H(H_AGE)), 0), "7");
    CHECK_STR(HV(calx_max(H(H_NAME)), 0), "'Tarantula'");
    CHECK_STR(HV(calx_label(calx_count_all(), "n"), 0), "8");
    CHECK_STR(HV(calx_is_not_null(calx_now()), 1), "True");
}

/* In a columns clause a function's column is named after it, numbered as
 * SQLAlchemy's anonymous labels are (count_1, count_2), and a label's by
 * it (the reference's aggregate statements are test_select's). */
TEST(functions_and_labels_name_their_columns)
{
    calx_error err;
    calx_result *r = NULL;
    calx_select *q;
    /* select(func.count()).select_from(Hero) */
    q = calx_select_from(calx_select_columns(calx_count_all()), &hero);
    EXPECT(q, lite, 0, "SELECT count(*) AS count_1 \nFROM hero", "()");
    q = calx_select_from(calx_select_columns(calx_count_all()), &hero);
    CHECK_OK(calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err), &err);
    calx_select_free(q);
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 8);
    calx_result_free(r);
    /* Two of one function are numbered; a label names its column. */
    q = calx_select_columns(calx_count(H(H_ID)), calx_count(H(H_AGE)), calx_max(H(H_AGE)),
                            calx_label(calx_add(calx_max(H(H_AGE)), 1), "next"));
    EXPECT(q, pg, 0,
           "SELECT count(hero.id) AS count_1, count(hero.age) AS count_2, max(hero.age) AS max_1, "
           "max(hero.age) + ? AS next \nFROM hero",
           "(1,)");
    q = calx_select_columns(calx_label(calx_add(H(H_AGE), 1), "next_age"));
    calx_select_where(q, calx_eq(H(H_ID), 2));
    CHECK_OK(calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err), &err);
    calx_select_free(q);
    CHECK_STR(calx_result_colname(r, 0), "next_age");
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 49);
    calx_result_free(r);
    EXPECT(calx_select_columns(calx_now()), lite, 0, "SELECT CURRENT_TIMESTAMP AS now_1", "()");
    EXPECT(calx_select_columns(calx_now()), pg, 0, "SELECT now() AS now_1", "()");
}

TEST(teardown_database)
{
    sql_db_close(loop, true);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_sql_ops");
    RUN(between_and_its_negation);
    RUN(like_with_escape_and_ilike_per_dialect);
    RUN(contains_startswith_endswith_escape_their_value);
    RUN(arithmetic_follows_sqlalchemy_precedence);
    RUN(division_is_true_division_per_dialect);
    RUN(concatenation);
    RUN(is_distinct_from_per_dialect);
    RUN(bools_compared_with_booleans_render_inline);
    RUN(functions_and_their_types);
    RUN(case_is_typed_by_its_results);
    RUN(cast_names_the_dialects_type);
    RUN(labels_render_as_and_names_are_reachable);
    RUN(type_errors_name_the_cause);
    RUN(first_error_wins_through_every_builder);
    RUN(out_of_memory_anywhere_is_reported_and_leaks_nothing);
    RUN(setup_database);
    RUN(execute_operators);
    RUN(execute_values);
    RUN(functions_and_labels_name_their_columns);
    RUN(teardown_database);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
