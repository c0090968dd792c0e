/* SPDX-License-Identifier: MIT */
/* The SQL expression language and the SELECT compiler: the text and the
 * parameters each construct compiles to on SQLite and PostgreSQL (the
 * expected strings are what SQLAlchemy 1.4.46 renders for the same
 * statements, and the tutorial's lines are copied from its echo log), the
 * type rules and their error messages, sticky errors, and selects run on a
 * real database: a SQLite file under CALX_TEST_TMP, or CALX_TEST_URL. */
#include <stdint.h>

#include "calx.h"
#include "sql/compiler.h"
#include "sql/text.h"
#include "test.h"
#include "alloc_fail.h"
#include "sql_expect.h"
#include "sql_db.h"

static calx_loop *loop;
static const char *dir;
static char db_url[1024];   /* the database the execution tests use */

static const calx_dialect *const lite = &calx__dialect_sqlite;
static const calx_dialect *const pg = &calx__dialect_postgresql;

/* ---- tables ---- */

static const calx_column team_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT, .index = true },
    { .name = "headquarters", .type = CALX_COL_TEXT },
};
static const calx_table team = { .name = "team", .columns = team_cols, .ncolumns = 3 };

static const calx_column hero_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT, .index = true },
    { .name = "secret_name", .type = CALX_COL_TEXT },
    { .name = "age", .type = CALX_COL_INT64, .nullable = true, .index = true },
    { .name = "team_id", .type = CALX_COL_INT64, .nullable = true, .foreign_key = "team.id" },
};
static const calx_table hero = { .name = "hero", .columns = hero_cols, .ncolumns = 5 };

enum { H_ID, H_NAME, H_SECRET, H_AGE, H_TEAM };

static const calx_column gadget_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "label", .type = CALX_COL_TEXT },
    { .name = "active", .type = CALX_COL_BOOL, .nullable = true },
    { .name = "score", .type = CALX_COL_DOUBLE, .nullable = true },
    { .name = "data", .type = CALX_COL_BLOB, .nullable = true },
    { .name = "made", .type = CALX_COL_TIMESTAMP, .nullable = true },
    { .name = "small", .type = CALX_COL_INT32, .nullable = true },
};
static const calx_table gadget = { .name = "gadget", .columns = gadget_cols, .ncolumns = 7 };

enum { G_ID, G_LABEL, G_ACTIVE, G_SCORE, G_DATA, G_MADE, G_SMALL };

/* Names SQLAlchemy quotes: a reserved table and column, mixed case, a
 * space; and one it leaves alone although it starts with '_'. */
static const calx_column order_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "select", .type = CALX_COL_TEXT },
    { .name = "Mixed", .type = CALX_COL_INT64 },
    { .name = "a b", .type = CALX_COL_INT64 },
    { .name = "_x", .type = CALX_COL_INT64 },
};
static const calx_table order_t = { .name = "order", .columns = order_cols, .ncolumns = 5 };

#define HERO_COLS "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id \nFROM hero"
#define HERO_WHERE HERO_COLS " \nWHERE "

#define H(i) calx_col(&hero, (i))
#define G(i) calx_col(&gadget, (i))

/* ---- compiling ---- */

/* WHERE e over hero, on d: the text after "WHERE ". */
#define EXPECT_WHERE(d, e, where, params)                                     \
    EXPECT(calx_select_where(calx_select_new(&hero), (e)), (d), 0, HERO_WHERE where, params)

#define GADGET_WHERE                                                          \
    "SELECT gadget.id, gadget.label, gadget.active, gadget.score, gadget.data, "   \
    "gadget.made, gadget.small \nFROM gadget \nWHERE "
#define EXPECT_GWHERE(d, e, where, params)                                    \
    EXPECT(calx_select_where(calx_select_new(&gadget), (e)), (d), 0, GADGET_WHERE where, params)

/* An expression that must be an error node: wrapped in a select, the
 * select and its compilation report code and message. */
static void expect_error_q(int line, calx_expr *e, int code, const char *message)
{
    calx_select *q = calx_select_where(calx_select_new(&hero), e);
    calx_error err;
    CHECK(calx_select_error(q, &err) == code);
    if (err.code != code || strcmp(err.message, message) != 0) {
        fprintf(stderr, "  line %d: got error %d \"%s\"\n    expected %d \"%s\"\n", line,
                err.code, err.message, code, message);
        test_failed_now = 1;
    }
    calx_compiled c;
    calx_error err2;
    CHECK_INT(calx__select_compile(q, lite, 0, &c, &err2), code);
    CHECK_STR(err2.message, err.message);
    CHECK(c.sql == NULL && c.params == NULL && c.nparams == 0);
    calx__compiled_free(&c);
    calx_select_free(q);
}
#define EXPECT_ERROR(e, code, message) expect_error_q(__LINE__, (e), (code), (message))

/* ---- the tutorial's statements ---- */

TEST(tutorial_selects_match_sqlalchemy)
{
    EXPECT(calx_select_new(&hero), lite, 0, HERO_COLS, "()");
    EXPECT(calx_select_where(calx_select_new(&hero), calx_eq(H(H_NAME), "Deadpond")), lite, 0,
           HERO_WHERE "hero.name = ?", "('Deadpond',)");
    calx_select *q = calx_select_new(&hero);
    calx_select_where(q, calx_ge(H(H_AGE), 35));
    calx_select_where(q, calx_lt(H(H_AGE), 60));
    EXPECT(q, lite, 0, HERO_WHERE "hero.age >= ? AND hero.age < ?", "(35, 60)");
    /* session.get(Hero, 1): labels. */
    EXPECT(calx_select_where(calx_select_new(&hero), calx_eq(H(H_ID), calx_lit(calx_int(1)))),
           lite, CALX_COMPILE_LABELS,
           "SELECT hero.id AS hero_id, hero.name AS hero_name, hero.secret_name AS "
           "hero_secret_name, hero.age AS hero_age, hero.team_id AS hero_team_id \nFROM hero "
           "\nWHERE hero.id = ?",
           "(1,)");
    EXPECT(calx_select_offset(calx_select_limit(calx_select_new(&hero), 2), 1), lite, 0,
           HERO_COLS "\n LIMIT ? OFFSET ?", "(2, 1)");
    /* The lazy load of team.heroes puts the parameter first. */
    EXPECT(calx_select_where(calx_select_new(&hero), calx_eq(calx_lit(calx_int(1)), H(H_TEAM))),
           lite, CALX_COMPILE_LABELS,
           "SELECT hero.id AS hero_id, hero.name AS hero_name, hero.secret_name AS "
           "hero_secret_name, hero.age AS hero_age, hero.team_id AS hero_team_id \nFROM hero "
           "\nWHERE ? = hero.team_id",
           "(1,)");
    EXPECT(calx_select_where(calx_select_new(&team), calx_eq(calx_col(&team, 1), "Preventers")),
           lite, 0, "SELECT team.id, team.name, team.headquarters \nFROM team \nWHERE team.name = ?",
           "('Preventers',)");
}

/* ---- operators ---- */

TEST(comparison_operators)
{
    for (int k = 0; k < 2; k++) {
        const calx_dialect *d = k ? pg : lite;
        EXPECT_WHERE(d, calx_eq(H(H_AGE), 1), "hero.age = ?", "(1,)");
        EXPECT_WHERE(d, calx_ne(H(H_AGE), 2), "hero.age != ?", "(2,)");
        EXPECT_WHERE(d, calx_lt(H(H_AGE), 3), "hero.age < ?", "(3,)");
        EXPECT_WHERE(d, calx_le(H(H_AGE), 4), "hero.age <= ?", "(4,)");
        EXPECT_WHERE(d, calx_gt(H(H_AGE), 5), "hero.age > ?", "(5,)");
        EXPECT_WHERE(d, calx_ge(H(H_AGE), 6), "hero.age >= ?", "(6,)");
        EXPECT_WHERE(d, calx_like(H(H_NAME), "D%"), "hero.name LIKE ?", "('D%',)");
        EXPECT_WHERE(d, calx_not_like(H(H_NAME), "D%"), "hero.name NOT LIKE ?", "('D%',)");
        EXPECT_WHERE(d, calx_eq(H(H_AGE), H(H_TEAM)), "hero.age = hero.team_id", "()");
        EXPECT_WHERE(d, calx_binop(CALX_OP_GE, H(H_ID), calx_lit_int(7)), "hero.id >= ?", "(7,)");
        EXPECT_WHERE(d, calx_is_null(H(H_AGE)), "hero.age IS NULL", "()");
        EXPECT_WHERE(d, calx_is_not_null(H(H_AGE)), "hero.age IS NOT NULL", "()");
        EXPECT_WHERE(d, calx_eq(calx_lit_int(1), calx_lit_int(2)), "? = ?", "(1, 2)");
        EXPECT_WHERE(d, calx_like(calx_lit_text("a"), "b"), "? LIKE ?", "('a', 'b')");
        /* Comparisons of comparisons are grouped. */
        EXPECT_WHERE(d, calx_eq(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 2)),
                     "(hero.age > ?) = (hero.age < ?)", "(1, 2)");
        EXPECT_WHERE(d, calx_is_null(calx_like(H(H_NAME), "a%")), "(hero.name LIKE ?) IS NULL",
                     "('a%',)");
    }
}

TEST(null_comparisons_become_is_null)
{
    EXPECT_WHERE(lite, calx_eq(H(H_AGE), NULL), "hero.age IS NULL", "()");
    EXPECT_WHERE(lite, calx_ne(H(H_AGE), calx_null()), "hero.age IS NOT NULL", "()");
    EXPECT_WHERE(lite, calx_eq(calx_lit_text(NULL), H(H_AGE)), "hero.age IS NULL", "()");
    EXPECT_WHERE(lite, calx_eq(H(H_NAME), (const char *)NULL), "hero.name IS NULL", "()");
    EXPECT_WHERE(lite, calx_eq(H(H_NAME), calx_lit(calx_textn(NULL, 0))), "hero.name IS NULL", "()");
    EXPECT_WHERE(lite, calx_eq(calx_lit(calx_null()), calx_lit(calx_null())), "NULL IS NULL",
                 "()");
    EXPECT_WHERE(pg, calx_not(calx_eq(H(H_AGE), NULL)), "hero.age IS NOT NULL", "()");
}

TEST(in_lists)
{
    EXPECT_WHERE(lite, calx_in(H(H_ID), calx_int(1), calx_int(2), calx_int(3)),
                 "hero.id IN (?, ?, ?)", "(1, 2, 3)");
    EXPECT_WHERE(pg, calx_in(H(H_NAME), calx_text("a"), calx_text("b")),
                 "hero.name IN (?, ?)", "('a', 'b')");
    EXPECT_WHERE(lite, calx_in(H(H_AGE), calx_int(1), calx_null()), "hero.age IN (?, NULL)",
                 "(1,)");
    /* NOT IN always carries its parentheses, as in SQLAlchemy. */
    EXPECT_WHERE(lite, calx_not(calx_in(H(H_ID), calx_int(1), calx_int(2))),
                 "(hero.id NOT IN (?, ?))", "(1, 2)");
    EXPECT_WHERE(lite, calx_or(calx_not(calx_in(H(H_ID), calx_int(1))), calx_gt(H(H_AGE), 1)),
                 "(hero.id NOT IN (?)) OR hero.age > ?", "(1, 1)");
    /* Values are copied: the caller's buffer may change afterwards. */
    char buf[8] = "abc";
    calx_value vals[1] = { calx_text(buf) };
    calx_expr *e = calx_in_values(H(H_NAME), vals, 1);
    strcpy(buf, "XYZ");
    vals[0] = calx_int(99);
    EXPECT_WHERE(lite, e, "hero.name IN (?)", "('abc',)");
}

TEST(empty_in_per_dialect)
{
    EXPECT_WHERE(lite, calx_in_values(H(H_ID), NULL, 0),
                 "hero.id IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)", "()");
    EXPECT_WHERE(lite, calx_not(calx_in_values(H(H_ID), NULL, 0)),
                 "(hero.id NOT IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1))", "()");
    EXPECT_WHERE(lite, calx_and(calx_in_values(H(H_ID), NULL, 0), calx_gt(H(H_AGE), 1)),
                 "hero.id IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1) AND hero.age > ?", "(1,)");
    EXPECT_WHERE(pg, calx_in_values(H(H_ID), NULL, 0), "hero.id IN (NULL) AND (1 != 1)", "()");
    EXPECT_WHERE(pg, calx_not(calx_in_values(H(H_ID), NULL, 0)),
                 "(hero.id NOT IN (NULL) OR (1 = 1))", "()");
    EXPECT_WHERE(pg, calx_and(calx_in_values(H(H_ID), NULL, 0), calx_gt(H(H_AGE), 1)),
                 "hero.id IN (NULL) AND (1 != 1) AND hero.age > ?", "(1,)");
    EXPECT_WHERE(pg, calx_or(calx_in_values(H(H_ID), NULL, 0), calx_eq(H(H_AGE), 1)),
                 "hero.id IN (NULL) AND (1 != 1) OR hero.age = ?", "(1,)");
    /* As an operand the PostgreSQL form is grouped whole. */
    EXPECT_WHERE(pg, calx_is_null(calx_in_values(H(H_ID), NULL, 0)),
                 "(hero.id IN (NULL) AND (1 != 1)) IS NULL", "()");
}

TEST(and_or_parentheses_only_where_needed)
{
    EXPECT_WHERE(lite, calx_and(calx_gt(H(H_AGE), 1), calx_or(calx_lt(H(H_AGE), 2),
                                                              calx_eq(H(H_NAME), "x"))),
                 "hero.age > ? AND (hero.age < ? OR hero.name = ?)", "(1, 2, 'x')");
    EXPECT_WHERE(lite, calx_or(calx_and(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 2)),
                               calx_eq(H(H_NAME), "x")),
                 "hero.age > ? AND hero.age < ? OR hero.name = ?", "(1, 2, 'x')");
    /* Nested ANDs and ORs flatten. */
    EXPECT_WHERE(lite, calx_and(calx_gt(H(H_AGE), 1), calx_and(calx_lt(H(H_AGE), 5),
                                                               calx_eq(H(H_NAME), "x"))),
                 "hero.age > ? AND hero.age < ? AND hero.name = ?", "(1, 5, 'x')");
    EXPECT_WHERE(pg, calx_or(calx_or(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 5)),
                             calx_eq(H(H_NAME), "x")),
                 "hero.age > ? OR hero.age < ? OR hero.name = ?", "(1, 5, 'x')");
    /* One item is itself. */
    EXPECT_WHERE(lite, calx_and(calx_gt(H(H_AGE), 1)), "hero.age > ?", "(1,)");
    /* where(a OR b).where(c) groups the OR. */
    calx_select *q = calx_select_new(&hero);
    calx_select_where(q, calx_or(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 5)));
    calx_select_where(q, calx_eq(H(H_NAME), "x"));
    EXPECT(q, lite, 0, HERO_WHERE "(hero.age > ? OR hero.age < ?) AND hero.name = ?",
           "(1, 5, 'x')");
    EXPECT_WHERE(lite, calx_or(calx_is_null(H(H_AGE)), calx_eq(H(H_AGE), 2)),
                 "hero.age IS NULL OR hero.age = ?", "(2,)");
    /* and_n over an array. */
    calx_expr *items[3] = { calx_gt(H(H_ID), 1), calx_gt(H(H_ID), 2), calx_gt(H(H_ID), 3) };
    EXPECT_WHERE(lite, calx_and_n(items, 3), "hero.id > ? AND hero.id > ? AND hero.id > ?",
                 "(1, 2, 3)");
}

TEST(not_negates_like_sqlalchemy)
{
    EXPECT_WHERE(lite, calx_not(calx_eq(H(H_NAME), "x")), "hero.name != ?", "('x',)");
    EXPECT_WHERE(lite, calx_not(calx_ne(H(H_AGE), 1)), "hero.age = ?", "(1,)");
    EXPECT_WHERE(lite, calx_not(calx_lt(H(H_AGE), 3)), "hero.age >= ?", "(3,)");
    EXPECT_WHERE(lite, calx_not(calx_le(H(H_AGE), 3)), "hero.age > ?", "(3,)");
    EXPECT_WHERE(lite, calx_not(calx_gt(H(H_AGE), 3)), "hero.age <= ?", "(3,)");
    EXPECT_WHERE(lite, calx_not(calx_ge(H(H_AGE), 3)), "hero.age < ?", "(3,)");
    EXPECT_WHERE(lite, calx_not(calx_like(H(H_NAME), "D%")), "hero.name NOT LIKE ?", "('D%',)");
    EXPECT_WHERE(lite, calx_not(calx_not_like(H(H_NAME), "x")), "hero.name LIKE ?", "('x',)");
    EXPECT_WHERE(lite, calx_not(calx_is_null(H(H_AGE))), "hero.age IS NOT NULL", "()");
    EXPECT_WHERE(lite, calx_not(calx_is_not_null(H(H_AGE))), "hero.age IS NULL", "()");
    EXPECT_WHERE(lite, calx_not(calx_not(calx_gt(H(H_AGE), 1))), "hero.age > ?", "(1,)");
    EXPECT_WHERE(lite, calx_not(calx_and(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 2))),
                 "NOT (hero.age > ? AND hero.age < ?)", "(1, 2)");
    EXPECT_WHERE(pg, calx_not(calx_or(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 2))),
                 "NOT (hero.age > ? OR hero.age < ?)", "(1, 2)");
    EXPECT_WHERE(lite, calx_not(calx_not(calx_and(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 2)))),
                 "NOT (NOT (hero.age > ? AND hero.age < ?))", "(1, 2)");
    EXPECT_WHERE(lite, calx_and(calx_not(calx_or(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 0))),
                                calx_gt(H(H_AGE), 1)),
                 "NOT (hero.age > ? OR hero.age < ?) AND hero.age > ?", "(1, 0, 1)");
    EXPECT_WHERE(lite, calx_eq(calx_not(calx_and(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 2))),
                               true),
                 "(NOT (hero.age > ? AND hero.age < ?)) = 1", "(1, 2)");
}

TEST(boolean_columns_as_conditions)
{
    /* SQLite has no native booleans: SQLAlchemy compares with 1 / 0. */
    EXPECT_GWHERE(lite, G(G_ACTIVE), "gadget.active = 1", "()");
    EXPECT_GWHERE(lite, calx_not(G(G_ACTIVE)), "gadget.active = 0", "()");
    EXPECT_GWHERE(lite, calx_not(calx_not(G(G_ACTIVE))), "gadget.active = 1", "()");
    EXPECT_GWHERE(lite, calx_and(G(G_ACTIVE), calx_or(calx_gt(G(G_SCORE), 1), calx_not(G(G_ACTIVE)))),
                  "gadget.active = 1 AND (gadget.score > ? OR gadget.active = 0)", "(1r,)");
    EXPECT_GWHERE(lite, calx_and(calx_lit_bool(true), calx_gt(G(G_ID), 1)), "? = 1 AND gadget.id > ?",
                  "(True, 1)");
    EXPECT_GWHERE(pg, G(G_ACTIVE), "gadget.active", "()");
    EXPECT_GWHERE(pg, calx_not(G(G_ACTIVE)), "NOT gadget.active", "()");
    EXPECT_GWHERE(pg, calx_or(G(G_ACTIVE), calx_not(G(G_ACTIVE))),
                  "gadget.active OR NOT gadget.active", "()");
    EXPECT_GWHERE(pg, calx_not(calx_lit_bool(true)), "NOT ?", "(True,)");
    /* As an operand the column is a value; its negation is grouped (where
     * SQLAlchemy renders "NOT gadget.active = true", which PostgreSQL reads
     * as NOT (gadget.active = true)). A bool compared with it is inline, as
     * SQLAlchemy renders True / False. */
    EXPECT_GWHERE(lite, calx_eq(G(G_ACTIVE), true), "gadget.active = 1", "()");
    EXPECT_GWHERE(lite, calx_eq(calx_not(G(G_ACTIVE)), calx_lit_bool(true)),
                  "(gadget.active = 0) = 1", "()");
    EXPECT_GWHERE(pg, calx_eq(calx_not(G(G_ACTIVE)), calx_lit_bool(true)),
                  "(NOT gadget.active) = true", "()");
    EXPECT_GWHERE(lite, calx_is_null(G(G_ACTIVE)), "gadget.active IS NULL", "()");
}

TEST(literals_take_the_column_type)
{
    bool yes = true;
    /* int against BOOLEAN is a bool (C's true is an int, 1 too), compared
     * inline as SQLAlchemy renders True / False. */
    EXPECT_GWHERE(lite, calx_eq(G(G_ACTIVE), 1), "gadget.active = 1", "()");
    EXPECT_GWHERE(lite, calx_eq(G(G_ACTIVE), 0), "gadget.active = 0", "()");
    EXPECT_GWHERE(lite, calx_eq(G(G_ACTIVE), yes), "gadget.active = 1", "()");
    EXPECT_GWHERE(lite, calx_eq(0, G(G_ACTIVE)), "0 = gadget.active", "()");
    EXPECT_GWHERE(pg, calx_ne(G(G_ACTIVE), 0), "gadget.active != false", "()");
    /* int against REAL binds a real; real against INTEGER stays real. */
    EXPECT_GWHERE(lite, calx_gt(G(G_SCORE), 2), "gadget.score > ?", "(2r,)");
    EXPECT_GWHERE(lite, calx_gt(G(G_SMALL), 2.5), "gadget.small > ?", "(2.5r,)");
    EXPECT_GWHERE(lite, calx_gt(G(G_SMALL), 2.5f), "gadget.small > ?", "(2.5r,)");
    /* bool against INTEGER binds 0 / 1. */
    EXPECT_GWHERE(lite, calx_eq(G(G_SMALL), yes), "gadget.small = ?", "(1,)");
    /* Other C integer types. */
    EXPECT_GWHERE(lite, calx_eq(G(G_SMALL), (unsigned char)200), "gadget.small = ?", "(200,)");
    EXPECT_GWHERE(lite, calx_eq(G(G_SMALL), (short)-3), "gadget.small = ?", "(-3,)");
    EXPECT_GWHERE(lite, calx_eq(G(G_SMALL), 7ul), "gadget.small = ?", "(7,)");
    EXPECT_GWHERE(lite, calx_eq(G(G_SMALL), (int64_t)INT64_MAX), "gadget.small = ?",
                  "(9223372036854775807,)");
    /* A calx_value goes through calx_lit. */
    EXPECT_GWHERE(lite, calx_eq(G(G_DATA), calx_blob("\x01z", 2)), "gadget.data = ?",
                  "(b'\x01z',)");
    /* Text compared with an instant is read as one; it must say its
     * offset (a naive text is refused: nothing is shifted silently). */
    EXPECT_GWHERE(lite, calx_ge(G(G_MADE), "2024-01-01 05:30:00+05:30"), "gadget.made >= ?",
                  "(datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc),)");
    EXPECT_ERROR(calx_ge(G(G_MADE), "2024-01-01 00:00:00"), CALX_ERR_TYPE,
                 "cannot compare gadget.made (TIMESTAMP) with invalid timestamp "
                 "'2024-01-01 00:00:00': it has no UTC offset (\"Z\", \"+HH:MM\"): an "
                 "instant needs one (read a naive value as a datetime)");
    /* INTEGER and REAL columns compare. */
    EXPECT_GWHERE(lite, calx_lt(G(G_SMALL), G(G_SCORE)), "gadget.small < gadget.score", "()");
    /* IN converts each value. */
    EXPECT_GWHERE(lite, calx_in(G(G_ACTIVE), calx_int(1), calx_int(0)),
                  "gadget.active IN (?, ?)", "(True, False)");
    EXPECT_GWHERE(lite, calx_in(G(G_SCORE), calx_int(1), calx_real(2.5)),
                  "gadget.score IN (?, ?)", "(1r, 2.5r)");
}

TEST(type_errors_name_the_cause)
{
    EXPECT_ERROR(calx_eq(H(H_NAME), 5), CALX_ERR_TYPE,
                 "cannot compare hero.name (TEXT) with an INTEGER value");
    EXPECT_ERROR(calx_eq(5.5, H(H_NAME)), CALX_ERR_TYPE,
                 "cannot compare hero.name (TEXT) with a REAL value");
    EXPECT_ERROR(calx_eq(H(H_AGE), "x"), CALX_ERR_TYPE,
                 "cannot compare hero.age (INTEGER) with a TEXT value");
    EXPECT_ERROR(calx_eq(G(G_ACTIVE), 2), CALX_ERR_TYPE,
                 "cannot compare gadget.active (BOOLEAN) with the INTEGER value 2: only 0 and 1 "
                 "convert to BOOLEAN");
    EXPECT_ERROR(calx_eq(G(G_ACTIVE), 1.0), CALX_ERR_TYPE,
                 "cannot compare gadget.active (BOOLEAN) with a REAL value");
    EXPECT_ERROR(calx_eq(G(G_SCORE), calx_lit_bool(true)), CALX_ERR_TYPE,
                 "cannot compare gadget.score (REAL) with a BOOLEAN value");
    EXPECT_ERROR(calx_eq(G(G_DATA), "x"), CALX_ERR_TYPE,
                 "cannot compare gadget.data (BLOB) with a TEXT value");
    EXPECT_ERROR(calx_eq(G(G_MADE), 5), CALX_ERR_TYPE,
                 "cannot compare gadget.made (TIMESTAMP) with an INTEGER value");
    EXPECT_ERROR(calx_eq(H(H_NAME), H(H_AGE)), CALX_ERR_TYPE,
                 "cannot compare hero.name (TEXT) with hero.age (INTEGER)");
    EXPECT_ERROR(calx_eq(G(G_ACTIVE), G(G_SMALL)), CALX_ERR_TYPE,
                 "cannot compare gadget.active (BOOLEAN) with gadget.small (INTEGER)");
    EXPECT_ERROR(calx_eq(calx_lit_text("a"), calx_lit_int(1)), CALX_ERR_TYPE,
                 "cannot compare a TEXT value with an INTEGER value");
    EXPECT_ERROR(calx_eq(calx_gt(H(H_AGE), 1), "yes"), CALX_ERR_TYPE,
                 "cannot compare a BOOLEAN expression with a TEXT value");
    EXPECT_ERROR(calx_like(H(H_AGE), "1%"), CALX_ERR_TYPE,
                 "LIKE needs TEXT on both sides, not hero.age (INTEGER)");
    EXPECT_ERROR(calx_not_like(H(H_NAME), 1), CALX_ERR_TYPE,
                 "NOT LIKE needs TEXT on both sides, not an INTEGER value");
    EXPECT_ERROR(calx_lt(H(H_AGE), NULL), CALX_ERR_TYPE,
                 "cannot compare hero.age (INTEGER) with NULL using <: only = and != take NULL "
                 "(they render IS NULL / IS NOT NULL)");
    EXPECT_ERROR(calx_like(calx_null(), H(H_NAME)), CALX_ERR_TYPE,
                 "cannot compare hero.name (TEXT) with NULL using LIKE: only = and != take NULL "
                 "(they render IS NULL / IS NOT NULL)");
    EXPECT_ERROR(calx_in(H(H_ID), calx_int(1), calx_text("two")), CALX_ERR_TYPE,
                 "cannot compare hero.id (INTEGER) with a TEXT value (IN value 2)");
    EXPECT_ERROR(calx_in(G(G_ACTIVE), calx_int(1), calx_int(5)), CALX_ERR_TYPE,
                 "cannot compare gadget.active (BOOLEAN) with the INTEGER value 5 (IN value 2): "
                 "only 0 and 1 convert to BOOLEAN");
    EXPECT_ERROR(calx_and(calx_gt(H(H_AGE), 1), H(H_NAME)), CALX_ERR_TYPE,
                 "AND takes BOOLEAN expressions, not hero.name (TEXT)");
    EXPECT_ERROR(calx_or(calx_lit_int(1), calx_gt(H(H_AGE), 1)), CALX_ERR_TYPE,
                 "OR takes BOOLEAN expressions, not an INTEGER value");
    EXPECT_ERROR(calx_not(H(H_AGE)), CALX_ERR_TYPE,
                 "NOT takes BOOLEAN expressions, not hero.age (INTEGER)");
    EXPECT_ERROR(calx_and_n(NULL, 0), CALX_ERR_ARGUMENT, "AND needs at least one condition");
    EXPECT_ERROR(calx_or_n((calx_expr *const[]){ NULL }, 0), CALX_ERR_ARGUMENT,
                 "OR needs at least one condition");
    EXPECT_ERROR(calx_binop((calx_opcode)42, H(H_AGE), calx_lit_int(1)), CALX_ERR_ARGUMENT,
                 "calx_binop: unknown operator 42");
    EXPECT_ERROR(calx_in_values(H(H_ID), NULL, 2), CALX_ERR_ARGUMENT,
                 "calx_in_values: 2 values but vals is NULL");
    calx_value bad = calx_int(1);
    bad.type = (calx_type)77;
    EXPECT_ERROR(calx_eq(H(H_ID), calx_lit(bad)), CALX_ERR_ARGUMENT,
                 "calx_lit: not a valid value (type 77, or text/blob bytes NULL)");
    EXPECT_ERROR(calx_in_values(H(H_ID), &bad, 1), CALX_ERR_ARGUMENT,
                 "IN value 1 is not a valid value");
    calx_value dangling = { .type = CALX_TEXT, .u.s = { NULL, 3 } };
    EXPECT_ERROR(calx_eq(H(H_NAME), calx_lit(dangling)), CALX_ERR_ARGUMENT,
                 "calx_lit: not a valid value (type 3, or text/blob bytes NULL)");
    int x = 1;
    EXPECT_ERROR(calx_eq(H(H_ID), (void *)&x), CALX_ERR_ARGUMENT,
                 "CALX_X: a pointer that is neither a calx_expr * nor text (only NULL, meaning "
                 "SQL NULL, is taken)");
}

TEST(column_lookup_errors)
{
    EXPECT_ERROR(calx_eq(calx_col_named(&hero, "nmae"), "x"), CALX_ERR_ARGUMENT,
                 "table hero has no column 'nmae'");
    EXPECT_ERROR(calx_eq(calx_col(&hero, 9), 1), CALX_ERR_ARGUMENT,
                 "table hero has no column at index 9 (it has 5 columns)");
    EXPECT_ERROR(calx_is_null(calx_col(NULL, 0)), CALX_ERR_ARGUMENT, "calx_col: the table is NULL");
    EXPECT_ERROR(calx_is_null(calx_col_named(&hero, NULL)), CALX_ERR_ARGUMENT,
                 "calx_col_named: the column name is NULL");
    static const calx_column untyped_cols[] = { { .name = "x" } };
    static const calx_table untyped = { .name = "u", .columns = untyped_cols, .ncolumns = 1 };
    EXPECT_ERROR(calx_is_null(calx_col(&untyped, 0)), CALX_ERR_ARGUMENT,
                 "column 0 of table u has no valid type");
    EXPECT_WHERE(lite, calx_eq(calx_col_named(&hero, "secret_name"), "Dive Wilson"),
                 "hero.secret_name = ?", "('Dive Wilson',)");
}

TEST(first_error_wins_and_children_are_freed)
{
    /* Two errors: the first argument's is kept, the second freed. */
    EXPECT_ERROR(calx_and(calx_eq(H(H_NAME), 1), calx_eq(H(H_AGE), "x"), calx_gt(H(H_AGE), 1)),
                 CALX_ERR_TYPE, "cannot compare hero.name (TEXT) with an INTEGER value");
    EXPECT_ERROR(calx_or(calx_gt(H(H_AGE), 1), calx_eq(calx_col(&hero, 77), 1),
                         calx_eq(H(H_NAME), 1)),
                 CALX_ERR_ARGUMENT, "table hero has no column at index 77 (it has 5 columns)");
    /* An error deep inside surfaces through every layer. */
    EXPECT_ERROR(calx_not(calx_and(calx_gt(H(H_AGE), 1),
                                   calx_or(calx_is_null(H(H_AGE)),
                                           calx_in(calx_col_named(&hero, "nope"), calx_int(1))))),
                 CALX_ERR_ARGUMENT, "table hero has no column 'nope'");
    EXPECT_ERROR(calx_is_not_null(calx_eq(H(H_NAME), 2)), CALX_ERR_TYPE,
                 "cannot compare hero.name (TEXT) with an INTEGER value");
    /* NULL arguments are out of memory, and take the others with them. */
    const char *nullmsg = "out of memory building an SQL expression (an expression argument is NULL)";
    EXPECT_ERROR(calx_binop(CALX_OP_EQ, NULL, H(H_AGE)), CALX_ERR_NOMEM, nullmsg);
    EXPECT_ERROR(calx_binop(CALX_OP_EQ, H(H_AGE), NULL), CALX_ERR_NOMEM, nullmsg);
    EXPECT_ERROR(calx_and(calx_gt(H(H_AGE), 1), NULL), CALX_ERR_NOMEM, nullmsg);
    EXPECT_ERROR(calx_not(NULL), CALX_ERR_NOMEM, nullmsg);
    EXPECT_ERROR(calx_is_null(NULL), CALX_ERR_NOMEM, nullmsg);
    EXPECT_ERROR(calx_in_values(NULL, (calx_value[]){ calx_int(1) }, 1), CALX_ERR_NOMEM, nullmsg);
    /* The static node passes through parents and frees are no-ops. */
    calx_expr *e = calx_not(NULL);
    calx_expr_free(e);
    calx_expr_free(e);
    e = calx_and(calx_not(NULL), calx_eq(H(H_NAME), 1));
    calx_expr_free(e);
    EXPECT_ERROR(calx_and(calx_eq(H(H_AGE), 1), calx_not(calx_and(calx_not(NULL)))),
                 CALX_ERR_NOMEM, nullmsg);
    /* Expressions never given to a select are freed by calx_expr_free. */
    calx_expr_free(calx_and(calx_gt(H(H_AGE), 1), calx_like(H(H_NAME), "x"),
                            calx_in(H(H_ID), calx_int(1), calx_int(2))));
    calx_expr_free(calx_eq(H(H_NAME), 3));
    calx_expr_free(NULL);
}

TEST(select_sticky_errors)
{
    calx_error err;
    /* The first error stays; later calls are ignored but still take and
     * free what they are given. */
    calx_select *q = calx_select_new(&hero);
    calx_select_where(q, calx_gt(H(H_AGE), 1));
    CHECK_INT(calx_select_error(q, &err), CALX_OK);
    CHECK_INT(err.code, CALX_OK);
    calx_select_where(q, calx_eq(H(H_NAME), 1));
    calx_select_where(q, calx_eq(H(H_AGE), "x"));
    calx_select_order_by(q, H(H_AGE), CALX_DESC);
    calx_select_limit(q, -5);
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_STR(err.message, "cannot compare hero.name (TEXT) with an INTEGER value");
    CHECK_INT(calx_select_error(q, NULL), CALX_ERR_TYPE);
    calx_select_free(q);

    EXPECT_ERROR(H(H_AGE), CALX_ERR_TYPE, "WHERE takes a BOOLEAN expression, not hero.age (INTEGER)");
    EXPECT_ERROR(calx_lit_text("x"), CALX_ERR_TYPE, "WHERE takes a BOOLEAN expression, not a TEXT value");
    EXPECT_ERROR(NULL, CALX_ERR_NOMEM,
                 "out of memory building an SQL expression (WHERE got NULL)");
    /* A condition on another table puts it in FROM, as in SQLAlchemy
     * (test_select has the joins). */
    EXPECT(calx_select_where(calx_select_new(&hero), calx_eq(calx_col(&team, 0), 1)), lite, 0,
           "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id \nFROM hero, "
           "team \nWHERE team.id = ?",
           "(1,)");

    /* ORDER BY adds nothing to FROM: a column of a table not there is an
     * error when the select compiles. */
    q = calx_select_order_by(calx_select_new(&hero), calx_col(&team, 1), CALX_ASC);
    CHECK_INT(calx_select_error(q, &err), CALX_OK);
    calx_compiled c;
    CHECK_INT(calx__select_compile(q, lite, 0, &c, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "ORDER BY refers to team.name, but team is not in the FROM clause of "
                           "its select (FROM hero); join it, add it with calx_select_from, or "
                           "select a column of it");
    CHECK(c.sql == NULL);
    calx_select_free(q);
    q = calx_select_order_by(calx_select_new(&hero), H(H_AGE), (calx_order)9);
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "ORDER BY: unknown direction 9 (CALX_ASC or CALX_DESC, with one of "
                           "CALX_NULLS_FIRST and CALX_NULLS_LAST OR-ed in)");
    calx_select_free(q);
    q = calx_select_order_by(calx_select_new(&hero), calx_col_named(&hero, "x"), CALX_ASC);
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "table hero has no column 'x'");
    calx_select_free(q);
    q = calx_select_limit(calx_select_new(&hero), -1);
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "LIMIT must not be negative (got -1)");
    calx_select_free(q);
    q = calx_select_offset(calx_select_new(&hero), -2);
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "OFFSET must not be negative (got -2)");
    calx_select_free(q);

    /* A table the select cannot use. */
    q = calx_select_new(NULL);
    CHECK(q != NULL);
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "calx_select_new: the table is NULL");
    calx_select_where(q, calx_gt(H(H_AGE), 1));
    CHECK(calx_select_table(q) == NULL);
    calx_select_free(q);
    static const calx_table empty = { .name = "empty" };
    q = calx_select_new(&empty);
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "calx_select_new: table empty has no columns");
    calx_select_free(q);

    /* NULL selects: every call is safe, arguments are freed. */
    CHECK(calx_select_where(NULL, calx_gt(H(H_AGE), 1)) == NULL);
    CHECK(calx_select_order_by(NULL, H(H_AGE), CALX_ASC) == NULL);
    CHECK(calx_select_limit(NULL, 1) == NULL);
    CHECK(calx_select_offset(NULL, 1) == NULL);
    CHECK(calx_select_table(NULL) == NULL);
    CHECK_INT(calx_select_error(NULL, &err), CALX_ERR_NOMEM);
    CHECK_STR(err.message, "out of memory creating a select");
    CHECK_INT(calx__select_compile(NULL, lite, 0, &c, &err), CALX_ERR_NOMEM);
    CHECK(c.sql == NULL);
    q = calx_select_new(&hero);
    CHECK_INT(calx__select_compile(q, NULL, 0, &c, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx__select_compile(q, lite, 0, NULL, &err), CALX_ERR_ARGUMENT);
    calx_select_free(q);
    calx_select_free(NULL);
    calx__compiled_free(NULL);
    CHECK(calx_select_table(q = calx_select_new(&hero)) == &hero);
    calx_select_free(q);
}

/* ---- ORDER BY, LIMIT, OFFSET ---- */

TEST(order_by)
{
    calx_select *q = calx_select_new(&hero);
    calx_select_where(q, calx_gt(H(H_AGE), 3));
    calx_select_order_by(q, H(H_AGE), CALX_DESC);
    calx_select_order_by(q, H(H_ID), CALX_ASC);
    calx_select_limit(q, 2);
    EXPECT(q, lite, 0, HERO_WHERE "hero.age > ? ORDER BY hero.age DESC, hero.id\n LIMIT ? OFFSET ?",
           "(3, 2, 0)");
    q = calx_select_order_by(calx_select_new(&hero), H(H_AGE), CALX_DESC);
    calx_select_order_by(q, H(H_ID), CALX_ASC);
    EXPECT(q, pg, 0, HERO_COLS " ORDER BY hero.age DESC, hero.id", "()");
    /* Expressions: grouped under DESC only when they bind as loosely. */
    q = calx_select_order_by(calx_select_new(&hero),
                             calx_and(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 3)), CALX_DESC);
    calx_select_order_by(q, calx_or(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 3)), CALX_ASC);
    calx_select_order_by(q, calx_is_null(H(H_AGE)), CALX_DESC);
    calx_select_order_by(q, calx_not(calx_in(H(H_AGE), calx_int(1))), CALX_DESC);
    calx_select_order_by(q, calx_not(calx_and(calx_gt(H(H_AGE), 1), calx_lt(H(H_AGE), 3))),
                         CALX_DESC);
    EXPECT(q, lite, 0,
           HERO_COLS " ORDER BY (hero.age > ? AND hero.age < ?) DESC, hero.age > ? OR hero.age < ?, "
                     "hero.age IS NULL DESC, (hero.age NOT IN (?)) DESC, "
                     "NOT (hero.age > ? AND hero.age < ?) DESC",
           "(1, 3, 1, 3, 1, 1, 3)");
    q = calx_select_order_by(calx_select_new(&gadget), calx_not(G(G_ACTIVE)), CALX_DESC);
    calx_select_order_by(q, G(G_ACTIVE), CALX_DESC);
    EXPECT(q, lite, 0,
           "SELECT gadget.id, gadget.label, gadget.active, gadget.score, gadget.data, gadget.made, "
           "gadget.small \nFROM gadget ORDER BY gadget.active = 0 DESC, gadget.active DESC",
           "()");
    q = calx_select_order_by(calx_select_new(&gadget), calx_not(G(G_ACTIVE)), CALX_DESC);
    EXPECT(q, pg, 0,
           "SELECT gadget.id, gadget.label, gadget.active, gadget.score, gadget.data, gadget.made, "
           "gadget.small \nFROM gadget ORDER BY NOT gadget.active DESC",
           "()");
}

TEST(limit_offset_per_dialect)
{
    EXPECT(calx_select_offset(calx_select_limit(calx_select_new(&hero), 2), 1), lite, 0,
           HERO_COLS "\n LIMIT ? OFFSET ?", "(2, 1)");
    EXPECT(calx_select_limit(calx_select_new(&hero), 2), lite, 0,
           HERO_COLS "\n LIMIT ? OFFSET ?", "(2, 0)");
    EXPECT(calx_select_offset(calx_select_new(&hero), 1), lite, 0,
           HERO_COLS "\n LIMIT ? OFFSET ?", "(-1, 1)");
    EXPECT(calx_select_offset(calx_select_limit(calx_select_new(&hero), 2), 1), pg, 0,
           HERO_COLS " \n LIMIT ? OFFSET ?", "(2, 1)");
    EXPECT(calx_select_limit(calx_select_new(&hero), 2), pg, 0, HERO_COLS " \n LIMIT ?", "(2,)");
    EXPECT(calx_select_offset(calx_select_new(&hero), 1), pg, 0,
           HERO_COLS "\n LIMIT ALL OFFSET ?", "(1,)");
    /* A later call replaces an earlier one; 0 is a limit. */
    calx_select *q = calx_select_limit(calx_select_new(&hero), 5);
    calx_select_limit(q, 0);
    calx_select_offset(q, 9);
    calx_select_offset(q, 3);
    EXPECT(q, lite, 0, HERO_COLS "\n LIMIT ? OFFSET ?", "(0, 3)");
    /* Parameters come in text order: WHERE, ORDER BY, LIMIT, OFFSET. */
    q = calx_select_where(calx_select_new(&hero), calx_eq(H(H_NAME), "a"));
    calx_select_order_by(q, calx_eq(H(H_AGE), 7), CALX_DESC);
    calx_select_offset(q, 4);
    calx_select_limit(q, 3);
    EXPECT(q, pg, 0, HERO_WHERE "hero.name = ? ORDER BY hero.age = ? DESC \n LIMIT ? OFFSET ?",
           "('a', 7, 3, 4)");
}

TEST(labels_and_quoting)
{
    calx_select *q = calx_select_where(calx_select_new(&order_t),
                                       calx_eq(calx_col(&order_t, 1), "x"));
    calx_select_order_by(q, calx_col(&order_t, 2), CALX_ASC);
    EXPECT(q, lite, 0,
           "SELECT \"order\".id, \"order\".\"select\", \"order\".\"Mixed\", \"order\".\"a b\", "
           "\"order\"._x \nFROM \"order\" \nWHERE \"order\".\"select\" = ? ORDER BY "
           "\"order\".\"Mixed\"",
           "('x',)");
    q = calx_select_where(calx_select_new(&order_t), calx_eq(calx_col(&order_t, 1), "x"));
    calx_select_order_by(q, calx_col(&order_t, 2), CALX_ASC);
    EXPECT(q, lite, CALX_COMPILE_LABELS,
           "SELECT \"order\".id AS order_id, \"order\".\"select\" AS order_select, "
           "\"order\".\"Mixed\" AS \"order_Mixed\", \"order\".\"a b\" AS \"order_a b\", "
           "\"order\"._x AS order__x \nFROM \"order\" \nWHERE \"order\".\"select\" = ? "
           "ORDER BY \"order\".\"Mixed\"",
           "('x',)");
    EXPECT(calx_select_where(calx_select_new(&order_t), calx_eq(calx_col(&order_t, 3), 1)), pg,
           0,
           "SELECT \"order\".id, \"order\".\"select\", \"order\".\"Mixed\", \"order\".\"a b\", "
           "\"order\"._x \nFROM \"order\" \nWHERE \"order\".\"a b\" = ?",
           "(1,)");
    /* "user" is reserved on PostgreSQL only. */
    static const calx_column ucols[] = { { .name = "id", .type = CALX_COL_INT64 } };
    static const calx_table user_t = { .name = "user", .columns = ucols, .ncolumns = 1 };
    EXPECT(calx_select_new(&user_t), lite, 0, "SELECT user.id \nFROM user", "()");
    EXPECT(calx_select_new(&user_t), pg, CALX_COMPILE_LABELS,
           "SELECT \"user\".id AS user_id \nFROM \"user\"", "()");
}

TEST(compiled_params_point_into_the_select)
{
    calx_select *q = calx_select_where(calx_select_new(&hero), calx_eq(H(H_NAME), "Deadpond"));
    calx_compiled c1, c2;
    calx_error err;
    CHECK_OK(calx__select_compile(q, lite, 0, &c1, &err), &err);
    CHECK_OK(calx__select_compile(q, lite, 0, &c2, &err), &err);
    /* Compiling twice gives the same text, and the text value is the
     * select's own copy, NUL-terminated. */
    CHECK_STR(c1.sql, c2.sql);
    CHECK_INT(c1.nparams, 1);
    CHECK(c1.params[0].name == NULL);
    CHECK(c1.params[0].value.u.s.ptr == c2.params[0].value.u.s.ptr);
    CHECK_STR(c1.params[0].value.u.s.ptr, "Deadpond");
    CHECK_INT(c1.params[0].value.u.s.len, 8);
    calx__compiled_free(&c1);
    calx__compiled_free(&c2);
    CHECK(c1.sql == NULL && c1.params == NULL && c1.nparams == 0);
    calx__compiled_free(&c1);
    /* The text the engine will compile: ? becomes $n on PostgreSQL. */
    calx_select_limit(q, 3);
    CHECK_OK(calx__select_compile(q, pg, 0, &c1, &err), &err);
    calx_text_plan plan;
    calx_params params = { c1.params, c1.nparams };
    CHECK_OK(calx__text_compile(c1.sql, &params, CALX_PARAMSTYLE_DOLLAR, &plan, &err), &err);
    CHECK_STR(plan.sql, HERO_WHERE "hero.name = $1 \n LIMIT $2");
    calx__text_plan_free(&plan);
    calx__compiled_free(&c1);
    calx_select_free(q);
}

/* ---- out of memory ---- */

/* Builds and compiles a select that uses every builder and path that
 * allocates: copies of text, IN lists, flattening, ORDER BY growth,
 * labels; with bad, an error node too. Returns the compile status; *sql
 * gets the text. */
static int build_everything(const calx_dialect *d, bool bad, calx_error *err, char **sql)
{
    *sql = NULL;
    calx_select *q = calx_select_new(&hero);
    calx_select_where(q, calx_and(calx_eq(H(H_NAME), "Deadpond"),
                                  calx_or(calx_in(H(H_ID), calx_int(1), calx_int(2)),
                                          calx_not(calx_like(H(H_NAME), "D%")))));
    calx_select_where(q, calx_is_not_null(H(H_AGE)));
    calx_select_where(q, calx_or(calx_in(calx_col_named(&hero, "secret_name"), calx_text("a"),
                                         bad ? calx_blob("b", 1) : calx_text("b")),
                                 calx_gt(H(H_AGE), 1)));
    for (int i = 0; i < 6; i++)
        calx_select_order_by(q, calx_col(&hero, (size_t)i % 5), i % 2 ? CALX_DESC : CALX_ASC);
    calx_select_limit(q, 10);
    calx_select_offset(q, 2);
    calx_compiled c;
    int rc = calx__select_compile(q, d, CALX_COMPILE_LABELS, &c, err);
    if (rc == 0) {
        *sql = c.sql;
        c.sql = NULL;
    }
    calx__compiled_free(&c);
    calx_select_free(q);
    /* Expressions dropped without a select, one an error node. */
    calx_expr_free(calx_and(calx_eq(G(G_ACTIVE), 1), calx_not(G(G_ACTIVE)),
                            calx_in_values(G(G_SCORE), (calx_value[]){ calx_int(1) }, 1)));
    calx_expr_free(calx_eq(G(G_ACTIVE), 3));
    return rc;
}

struct oom_case {
    bool bad;
    const char *want;
};

static void oom_attempt(void *arg, long k)
{
    struct oom_case *cs = arg;
    calx_error err;
    char *sql = NULL;
    int rc = build_everything(lite, cs->bad, &err, &sql);
    alloc_fail_stop();
    bool ok = rc == CALX_ERR_NOMEM ||
              (cs->bad ? rc == CALX_ERR_TYPE : rc == 0 && strcmp(sql, cs->want) == 0);
    if (!ok) {
        fprintf(stderr, "  failing allocation %ld%s: rc %d %s\n", k, fail_rest ? " and after" : "",
                rc, rc ? err.message : sql);
        test_failed_now = 1;
    }
    free(sql);
}

/* Fails each allocation in turn (then each with all after it) while
 * building and compiling: every failure must come out as an error (never a
 * crash, and under ASan or valgrind never a leak), and a success must be
 * the full text. */
TEST(out_of_memory_anywhere_is_reported_and_leaks_nothing)
{
    calx_error err;
    char *want = NULL, *sql = NULL;
    CHECK_OK(build_everything(lite, false, &err, &want), &err);
    CHECK_STR(want, "SELECT hero.id AS hero_id, hero.name AS hero_name, hero.secret_name AS "
                    "hero_secret_name, hero.age AS hero_age, hero.team_id AS hero_team_id \nFROM "
                    "hero \nWHERE hero.name = ? AND (hero.id IN (?, ?) OR hero.name NOT LIKE ?) "
                    "AND hero.age IS NOT NULL AND (hero.secret_name IN (?, ?) OR hero.age > ?) "
                    "ORDER BY hero.id, hero.name DESC, hero.secret_name, hero.age DESC, "
                    "hero.team_id, hero.id DESC\n LIMIT ? OFFSET ?");
    CHECK_INT(build_everything(lite, true, &err, &sql), CALX_ERR_TYPE);
    CHECK_STR(err.message, "cannot compare hero.secret_name (TEXT) with a BLOB value (IN value 2)");
    for (int mode = 0; mode < 4; mode++) {
        struct oom_case cs = { .bad = mode & 1, .want = want };
        CHECK(alloc_fail_sweep(mode & 2, oom_attempt, &cs) > 20);  /* it reached the builders */
    }
    free(want);
}

/* ---- execution ---- */

/* The log, one message each, badge timings cut to "T" ("[generated in
 * Ts]", "[cached since Ts ago]") as the reference's cannot match them. */
static char logmsgs[64][1024];
static size_t nlog;

static void capture(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    if (nlog == 64)
        return;
    char *m = logmsgs[nlog++];
    snprintf(m, sizeof logmsgs[0], "%s", msg);
    char *t = NULL;
    if (strncmp(m, "[generated in ", 14) == 0)
        t = m + 14;
    else if (strncmp(m, "[cached since ", 14) == 0)
        t = m + 14;
    if (t) {
        char *end = strpbrk(t, "s");   /* "0.00012s]", "0.0004979s ago]" */
        if (end) {
            memmove(t + 1, end, strlen(end) + 1);
            t[0] = 'T';
        }
    }
}

static bool on_sqlite;

/* The tutorial's heroes and a few more, ids 1..7. */
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
};

TEST(setup_database)
{
    calx_error err;
    char url[700];
    const char *env = getenv("CALX_TEST_URL");
    if (env && *env)
        snprintf(url, sizeof url, "%s", env);
    else
        snprintf(url, sizeof url, "sqlite:///%s/expr.db", dir);
    snprintf(db_url, sizeof db_url, "%s", url);
    on_sqlite = strncmp(url, "sqlite", 6) == 0;
    /* A database from an earlier run (CALX_TEST_URL) starts over. */
    const calx_table *all[] = { &team, &hero, &gadget };
    if (!sql_db_open(loop, dir, url, all, sizeof all / sizeof *all, true, capture))
        return;
    CHECK_OK(run_sql("INSERT INTO team (name, headquarters) VALUES (?, ?)",
                     CALX_PARAMS(CALX_V(calx_text("Preventers")), CALX_V(calx_text("Sharp Tower")))),
             &err);
    CHECK_OK(run_sql("INSERT INTO team (name, headquarters) VALUES (?, ?)",
                     CALX_PARAMS(CALX_V(calx_text("Z-Force")),
                                 CALX_V(calx_text("Sister Margaret's Bar")))),
             &err);
    for (size_t i = 0; i < sizeof heroes / sizeof heroes[0]; i++)
        CHECK_OK(run_sql("INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)",
                         CALX_PARAMS(CALX_V(calx_text(heroes[i].name)),
                                     CALX_V(calx_text(heroes[i].secret)),
                                     CALX_V(heroes[i].age ? calx_int(heroes[i].age) : calx_null()),
                                     CALX_V(heroes[i].team ? calx_int(heroes[i].team)
                                                           : calx_null()))),
                 &err);
    CHECK_OK(run_sql("INSERT INTO gadget (label, active, score, data, made, small) VALUES "
                     "(?, ?, ?, ?, ?, ?)",
                     CALX_PARAMS(CALX_V(calx_text("on")), CALX_V(calx_bool(true)),
                                 CALX_V(calx_real(1.5)), CALX_V(calx_blob("\x01\x02", 2)),
                                 CALX_V(calx_text("2024-01-02 03:04:05")), CALX_V(calx_int(3)))),
             &err);
    CHECK_OK(run_sql("INSERT INTO gadget (label, active, score, data, made, small) VALUES "
                     "(?, ?, ?, ?, ?, ?)",
                     CALX_PARAMS(CALX_V(calx_text("off")), CALX_V(calx_bool(false)),
                                 CALX_V(calx_real(2.0)), CALX_V(calx_blob("\x03", 1)),
                                 CALX_V(calx_text("2023-06-01 00:00:00")), CALX_V(calx_int(2)))),
             &err);
    CHECK_OK(run_sql("INSERT INTO gadget (label) VALUES (?)",
                     CALX_PARAMS(CALX_V(calx_text("unknown")))),
             &err);
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
}

/* Runs q (and frees it); returns the ids of the rows, in the order given
 * ("1,5,7"), or "ERR <message>". sorted: sort them (no ORDER BY). */
static const char *ids_of(calx_select *q, bool sorted)
{
    static char out[600];
    calx_error err;
    calx_result *r = NULL;
    if (!conn) {
        calx_select_free(q);
        return "no connection";
    }
    int rc = calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err);
    calx_select_free(q);
    if (rc) {
        snprintf(out, sizeof out, "ERR %s", err.message);
        return out;
    }
    int64_t ids[64];
    size_t n = 0;
    for (const calx_row *row; (row = calx_result_next(r)) && n < 64;)
        ids[n++] = calx_row_int(row, 0);
    calx_result_free(r);
    for (size_t i = 1; sorted && i < n; i++)
        for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
            int64_t t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", i ? "," : "",
                                (long long)ids[i]);
    return out;
}

#define HW(e) ids_of(calx_select_where(calx_select_new(&hero), (e)), true)
#define GW(e) ids_of(calx_select_where(calx_select_new(&gadget), (e)), true)

TEST(execute_each_operator)
{
    CHECK_STR(ids_of(calx_select_new(&hero), true), "1,2,3,4,5,6,7");
    CHECK_STR(HW(calx_eq(H(H_NAME), "Deadpond")), "1");
    CHECK_STR(HW(calx_ne(H(H_TEAM), 1)), "1,6,7");      /* NULL team: not != 1 */
    CHECK_STR(HW(calx_lt(H(H_AGE), 36)), "4,5");
    CHECK_STR(HW(calx_le(H(H_AGE), 36)), "4,5,6");
    CHECK_STR(HW(calx_gt(H(H_AGE), 36)), "2,7");
    CHECK_STR(HW(calx_ge(H(H_AGE), 36)), "2,6,7");
    CHECK_STR(HW(calx_ge(H(H_AGE), 35.5)), "2,6,7");
    CHECK_STR(HW(calx_in(H(H_ID), calx_int(2), calx_int(4), calx_int(99))), "2,4");
    CHECK_STR(HW(calx_in(H(H_NAME), calx_text("Tarantula"), calx_text("Dr. Weird"))), "4,6");
    CHECK_STR(HW(calx_in(H(H_AGE), calx_int(48), calx_null())), "2");
    CHECK_STR(HW(calx_in_values(H(H_ID), NULL, 0)), "");
    CHECK_STR(HW(calx_not(calx_in_values(H(H_ID), NULL, 0))), "1,2,3,4,5,6,7");
    CHECK_STR(HW(calx_not(calx_in(H(H_ID), calx_int(1), calx_int(2)))), "3,4,5,6,7");
    CHECK_STR(HW(calx_like(H(H_NAME), "D%")), "1,6");
    CHECK_STR(HW(calx_like(H(H_NAME), "%-Man")), "2");
    /* Patterns chosen to match the same rows on SQLite, whose LIKE ignores
     * ASCII case, and on PostgreSQL, whose LIKE does not. */
    CHECK_STR(HW(calx_not_like(H(H_NAME), "%a%")), "3,6");
    CHECK_STR(HW(calx_is_null(H(H_AGE))), "1,3");
    CHECK_STR(HW(calx_is_not_null(H(H_TEAM))), "1,2,4,5,6,7");
    CHECK_STR(HW(calx_eq(H(H_AGE), NULL)), "1,3");
    CHECK_STR(HW(calx_and(calx_ge(H(H_AGE), 35), calx_lt(H(H_AGE), 60))), "2,5,6");
    CHECK_STR(HW(calx_or(calx_eq(H(H_ID), 1), calx_gt(H(H_AGE), 40))), "1,2,7");
    CHECK_STR(HW(calx_and(calx_eq(H(H_TEAM), 2),
                          calx_or(calx_is_null(H(H_AGE)), calx_gt(H(H_AGE), 90)))),
              "1,7");
    CHECK_STR(HW(calx_not(calx_and(calx_eq(H(H_TEAM), 1), calx_gt(H(H_AGE), 33)))), "1,4,6,7");
    CHECK_STR(HW(calx_not(calx_eq(H(H_NAME), "Deadpond"))), "2,3,4,5,6,7");
    CHECK_STR(HW(calx_eq(calx_lit_int(1), H(H_TEAM))), "2,4,5");
    /* Two where()s. */
    calx_select *q = calx_select_new(&hero);
    calx_select_where(q, calx_ge(H(H_AGE), 35));
    calx_select_where(q, calx_lt(H(H_AGE), 60));
    CHECK_STR(ids_of(q, true), "2,5,6");
}

TEST(execute_booleans_and_conversions)
{
    CHECK_STR(GW(G(G_ACTIVE)), "1");
    CHECK_STR(GW(calx_not(G(G_ACTIVE))), "2");
    CHECK_STR(GW(calx_eq(G(G_ACTIVE), 0)), "2");
    CHECK_STR(GW(calx_eq(G(G_ACTIVE), 1)), "1");
    CHECK_STR(GW(calx_is_null(G(G_ACTIVE))), "3");
    CHECK_STR(GW(calx_or(G(G_ACTIVE), calx_is_null(G(G_SCORE)))), "1,3");
    CHECK_STR(GW(calx_gt(G(G_SCORE), 1)), "1,2");
    CHECK_STR(GW(calx_eq(G(G_SCORE), 2)), "2");
    CHECK_STR(GW(calx_le(G(G_SMALL), G(G_SCORE))), "2");  /* 2 <= 2.0; 3 > 1.5 */
    CHECK_STR(GW(calx_eq(G(G_DATA), calx_blob("\x03", 1))), "2");
    CHECK_STR(GW(calx_ge(G(G_MADE), "2024-01-01 00:00:00Z")), "1");
}

TEST(execute_order_limit_offset)
{
    calx_select *q = calx_select_order_by(calx_select_new(&hero), H(H_AGE), CALX_DESC);
    calx_select_order_by(q, H(H_ID), CALX_ASC);
    calx_select_where(q, calx_is_not_null(H(H_AGE)));
    CHECK_STR(ids_of(q, false), "7,2,6,5,4");
    q = calx_select_order_by(calx_select_new(&hero), H(H_NAME), CALX_ASC);
    CHECK_STR(ids_of(q, false), "5,7,1,6,2,3,4");
    q = calx_select_order_by(calx_select_new(&hero), H(H_ID), CALX_ASC);
    calx_select_offset(q, 1);
    calx_select_limit(q, 2);
    CHECK_STR(ids_of(q, false), "2,3");
    q = calx_select_order_by(calx_select_new(&hero), H(H_ID), CALX_DESC);
    calx_select_limit(q, 3);
    CHECK_STR(ids_of(q, false), "7,6,5");
    q = calx_select_order_by(calx_select_new(&hero), H(H_ID), CALX_ASC);
    calx_select_offset(q, 5);
    CHECK_STR(ids_of(q, false), "6,7");
    q = calx_select_order_by(calx_select_new(&hero), H(H_ID), CALX_ASC);
    calx_select_limit(q, 0);
    CHECK_STR(ids_of(q, false), "");
    /* Ordered by a condition: the rows where it holds come first (on a
     * column without NULLs, which the two databases sort apart). */
    q = calx_select_order_by(calx_select_new(&hero), calx_gt(H(H_ID), 4), CALX_DESC);
    calx_select_order_by(q, H(H_ID), CALX_ASC);
    calx_select_limit(q, 4);
    CHECK_STR(ids_of(q, false), "5,6,7,1");
}

TEST(execute_select_errors)
{
    calx_error err;
    /* A sticky error fails at once, before anything runs. */
    calx_select *q = calx_select_where(calx_select_new(&hero), calx_eq(H(H_NAME), 3));
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
    CHECK(!calx_conn_in_transaction(conn));
    CHECK(calx_conn_execute_select(conn, q, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_TYPE);
    CHECK_STR(err.message, "cannot compare hero.name (TEXT) with an INTEGER value");
    CHECK(!calx_conn_in_transaction(conn));   /* nothing ran: no autobegin */
    calx_select_free(q);
    CHECK(calx_conn_execute_select(conn, NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_NOMEM);
    q = calx_select_new(&hero);
    CHECK(calx_conn_execute_select(NULL, q, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_CLOSED);
    /* The connection is still usable, and q may go as soon as the call
     * returns. */
    calx_result *r = NULL;
    calx_future *f = calx_conn_execute_select(conn, q, &err);
    calx_select_free(q);
    CHECK_OK(calx_wait(f, &r, &err), &err);
    CHECK_INT(calx_result_nrows(r), 7);
    CHECK_INT(calx_result_ncols(r), 5);
    CHECK_STR(calx_result_colname(r, 3), "age");
    calx_result_free(r);
    /* A select of a table that does not exist: the database's error. */
    static const calx_column gcols[] = { { .name = "id", .type = CALX_COL_INT64 } };
    static const calx_table ghost = { .name = "ghost", .columns = gcols, .ncolumns = 1 };
    q = calx_select_where(calx_select_new(&ghost), calx_eq(calx_col(&ghost, 0), 1));
    CHECK(calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err) != 0);
    /* OperationalError on SQLite, ProgrammingError on PostgreSQL, as
     * SQLAlchemy classifies "no such table". */
    CHECK(err.code == CALX_ERR_OPERATIONAL || err.code == CALX_ERR_PROGRAMMING);
    CHECK_CONTAINS(err.message, "ghost");
    calx_select_free(q);
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
}

/* With echo on, the selects log as SQLAlchemy's do in the tutorial's
 * log, parameter lines included. */
TEST(echo_matches_the_tutorial_log)
{
    if (!on_sqlite)
        SKIP("SQLite only: the reference log is SQLAlchemy's on SQLite");
    if (!conn)
        SKIP("no connection: setup_database failed");
    calx_error err;
    calx_engine *e = calx_conn_engine(conn);
    calx_conn_close(conn);
    conn = NULL;
    calx_engine *echo = NULL;
    echo = calx_create_engine(db_url, &(calx_engine_opts){ .loop = loop, .echo = true, .log = capture },
                              &err);
    CHECK(echo != NULL);
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(echo, &err), &c, &err), &err);
    nlog = 0;
    calx_result *r = NULL;
    calx_select *q = calx_select_where(calx_select_new(&hero), calx_eq(H(H_NAME), "Deadpond"));
    CHECK_OK(calx_wait(calx_conn_execute_select(c, q, &err), &r, &err), &err);
    calx_result_free(r);
    calx_select_free(q);
    q = calx_select_new(&hero);
    calx_select_where(q, calx_ge(H(H_AGE), 35));
    calx_select_where(q, calx_lt(H(H_AGE), 60));
    CHECK_OK(calx_wait(calx_conn_execute_select(c, q, &err), &r, &err), &err);
    calx_result_free(r);
    calx_select_free(q);
    q = calx_select_offset(calx_select_limit(calx_select_new(&hero), 2), 1);
    CHECK_OK(calx_wait(calx_conn_execute_select(c, q, &err), &r, &err), &err);
    CHECK_INT(calx_result_nrows(r), 2);
    calx_result_free(r);
    calx_select_free(q);
    q = calx_select_where(calx_select_new(&hero), calx_eq(H(H_NAME), "Spider-Boy"));
    CHECK_OK(calx_wait(calx_conn_execute_select(c, q, &err), &r, &err), &err);
    calx_result_free(r);
    calx_select_free(q);
    calx_conn_close(c);
    calx_engine_free(echo);
    calx_loop_run(loop);
    /* The reference's lines for the same statements. */
    static const char *const want[] = {
        "BEGIN (implicit)",
        HERO_WHERE "hero.name = ?",
        "[generated in Ts] ('Deadpond',)",
        HERO_WHERE "hero.age >= ? AND hero.age < ?",
        "[generated in Ts] (35, 60)",
        HERO_COLS "\n LIMIT ? OFFSET ?",
        "[generated in Ts] (2, 1)",
        HERO_WHERE "hero.name = ?",
        "[cached since Ts ago] ('Spider-Boy',)",
        "ROLLBACK",
    };
    CHECK_INT(nlog, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < nlog && i < sizeof want / sizeof want[0]; i++)
        CHECK_STR(logmsgs[i], want[i]);
    /* Back to a plain connection for the tests after. */
    CHECK_OK(calx_wait(calx_engine_connect(e, &err), &conn, &err), &err);
}

TEST(teardown_database)
{
    sql_db_close(loop, true);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_expr");
    RUN(tutorial_selects_match_sqlalchemy);
    RUN(comparison_operators);
    RUN(null_comparisons_become_is_null);
    RUN(in_lists);
    RUN(empty_in_per_dialect);
    RUN(and_or_parentheses_only_where_needed);
    RUN(not_negates_like_sqlalchemy);
    RUN(boolean_columns_as_conditions);
    RUN(literals_take_the_column_type);
    RUN(type_errors_name_the_cause);
    RUN(column_lookup_errors);
    RUN(first_error_wins_and_children_are_freed);
    RUN(select_sticky_errors);
    RUN(order_by);
    RUN(limit_offset_per_dialect);
    RUN(labels_and_quoting);
    RUN(compiled_params_point_into_the_select);
    RUN(out_of_memory_anywhere_is_reported_and_leaks_nothing);
    RUN(setup_database);
    RUN(execute_each_operator);
    RUN(execute_booleans_and_conversions);
    RUN(execute_order_limit_offset);
    RUN(execute_select_errors);
    RUN(echo_matches_the_tutorial_log);
    RUN(teardown_database);
    calx_loop_free(loop);
    return TEST_REPORT();
}
