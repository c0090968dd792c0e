/* SPDX-License-Identifier: MIT */
/* SQL text compilation: :name and ? to both paramstyles, what is not a
 * parameter (strings, identifiers, comments, casts, escapes), repeated
 * names, binding several sets through one plan, and every error. */
#include "sql/dialect.h"
#include "sql/text.h"
#include "test.h"

static const calx_paramstyle QMARK = CALX_PARAMSTYLE_QMARK;
static const calx_paramstyle DOLLAR = CALX_PARAMSTYLE_DOLLAR;

/* Compiles sql, which must succeed, and checks the SQL it gives. */
static void check_sql(const char *sql, const calx_params *params,
                      calx_paramstyle style, const char *want,
                      size_t want_slots)
{
    calx_text_plan plan;
    calx_error err;
    calx_error_clear(&err);
    CHECK_OK(calx__text_compile(sql, params, style, &plan, &err), &err);
    CHECK_STR(plan.sql, want);
    CHECK_INT(plan.nslots, want_slots);
    calx__text_plan_free(&plan);
}

/* Compiles sql, which must fail with CALX_ERR_ARGUMENT; returns the
 * message in a static buffer. */
static const char *compile_error(const char *sql, const calx_params *params,
                                 calx_paramstyle style)
{
    static char msg[sizeof ((calx_error *)0)->message];
    calx_text_plan plan;
    calx_error err;
    calx_error_clear(&err);
    CHECK_INT(calx__text_compile(sql, params, style, &plan, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    /* A failed compile leaves the plan empty. */
    CHECK(plan.sql == NULL && plan.nslots == 0 && plan.names == NULL &&
          plan.slot_param == NULL);
    calx__text_plan_free(&plan);
    snprintf(msg, sizeof msg, "%s", err.message);
    return msg;
}

TEST(named_both_styles)
{
    const calx_params *p = CALX_PARAMS(CALX_P("name", calx_text("Deadpond")),
                                       CALX_P("age", calx_int(30)));
    const char *sql = "SELECT * FROM hero WHERE name = :name AND age >= :age";
    calx_text_plan plan;
    calx_error err;

    CHECK_OK(calx__text_compile(sql, p, DOLLAR, &plan, &err), &err);
    CHECK_STR(plan.sql, "SELECT * FROM hero WHERE name = $1 AND age >= $2");
    CHECK_INT(plan.nslots, 2);
    CHECK_STR(plan.names[0], "name");
    CHECK_STR(plan.names[1], "age");
    CHECK_INT(plan.slot_param[0], 0);
    CHECK_INT(plan.slot_param[1], 1);
    calx__text_plan_free(&plan);
    CHECK(plan.sql == NULL && plan.names == NULL);
    calx__text_plan_free(&plan);  /* twice is harmless */
    calx__text_plan_free(NULL);

    CHECK_OK(calx__text_compile(sql, p, QMARK, &plan, &err), &err);
    CHECK_STR(plan.sql, "SELECT * FROM hero WHERE name = ? AND age >= ?");
    calx__text_plan_free(&plan);
}

TEST(positional_both_styles)
{
    const calx_params *p = CALX_PARAMS(CALX_V(calx_int(1)), CALX_V(calx_text("x")));
    calx_text_plan plan;
    calx_error err;

    CHECK_OK(calx__text_compile("UPDATE t SET a=? WHERE b=?", p, DOLLAR, &plan, &err), &err);
    CHECK_STR(plan.sql, "UPDATE t SET a=$1 WHERE b=$2");
    CHECK_INT(plan.nslots, 2);
    CHECK(plan.names[0] == NULL && plan.names[1] == NULL);
    CHECK_INT(plan.slot_param[0], 0);
    CHECK_INT(plan.slot_param[1], 1);
    calx__text_plan_free(&plan);

    check_sql("UPDATE t SET a=? WHERE b=?", p, QMARK, "UPDATE t SET a=? WHERE b=?", 2);
}

TEST(repeated_names)
{
    const calx_params *p = CALX_PARAMS(CALX_P("b", calx_int(2)), CALX_P("a", calx_int(1)));
    calx_text_plan plan;
    calx_error err;

    CHECK_OK(calx__text_compile("SELECT :a, :b, :a, :a_1", CALX_PARAMS(
                 CALX_P("b", calx_int(2)), CALX_P("a", calx_int(1)),
                 CALX_P("a_1", calx_int(3))), DOLLAR, &plan, &err), &err);
    CHECK_STR(plan.sql, "SELECT $1, $2, $3, $4");
    CHECK_INT(plan.nslots, 4);
    CHECK_STR(plan.names[2], "a");
    CHECK_INT(plan.slot_param[0], 1);
    CHECK_INT(plan.slot_param[1], 0);
    CHECK_INT(plan.slot_param[2], 1);
    CHECK_INT(plan.slot_param[3], 2);
    calx__text_plan_free(&plan);

    /* Extra named values the SQL does not use are allowed. */
    check_sql("SELECT :a", p, QMARK, "SELECT ?", 1);
    check_sql("SELECT 1", p, QMARK, "SELECT 1", 0);
}

TEST(not_parameters)
{
    const calx_params *p = CALX_PARAMS(CALX_P("x", calx_int(1)));
    /* Strings (with '' escapes), quoted identifiers, comments. */
    check_sql("SELECT ':x ?', 'it''s :x', \"col:x?\", \"a\"\"?\" -- :x ?\n"
              "/* :x ? */ FROM t WHERE c = :x",
              p, DOLLAR,
              "SELECT ':x ?', 'it''s :x', \"col:x?\", \"a\"\"?\" -- :x ?\n"
              "/* :x ? */ FROM t WHERE c = $1", 1);
    /* Casts, a ':' after a word (slices, times), ':' not before a name. */
    check_sql("SELECT :x::int, a::text, arr[lo:hi], arr[1:2], f(a := 1), : x, :1",
              p, DOLLAR,
              "SELECT $1::int, a::text, arr[lo:hi], arr[1:2], f(a := 1), : x, :1", 1);
    /* \: and \? are literal, without the backslash; other \ stay. */
    check_sql("SELECT '\\:x', data \\? 'k', data \\?| a, 10\\:30, a \\ b, :x",
              p, DOLLAR,
              "SELECT '\\:x', data ? 'k', data ?| a, 10:30, a \\ b, $1", 1);
    /* An unterminated string or comment runs to the end. */
    check_sql("SELECT :x, 'abc :y", p, QMARK, "SELECT ?, 'abc :y", 1);
    check_sql("SELECT :x /* :y", p, QMARK, "SELECT ? /* :y", 1);
    check_sql("SELECT :x -- :y", p, QMARK, "SELECT ? -- :y", 1);
    check_sql("", NULL, QMARK, "", 0);
    /* A - or / that starts nothing. */
    check_sql("SELECT 4-:x/2", p, QMARK, "SELECT 4-?/2", 1);
}

TEST(postgresql_lexing)
{
    const calx_params *p = CALX_PARAMS(CALX_P("x", calx_int(1)));
    /* E'' strings take backslash escapes; plain strings do not. */
    check_sql("SELECT E'it\\'s :y', e'\\\\', :x", p, DOLLAR,
              "SELECT E'it\\'s :y', e'\\\\', $1", 1);
    check_sql("SELECT some'a\\', :x", p, DOLLAR, "SELECT some'a\\', $1", 1);
    /* Dollar quotes, with and without a tag. */
    check_sql("DO $$ BEGIN PERFORM :y; END $$; SELECT :x", p, DOLLAR,
              "DO $$ BEGIN PERFORM :y; END $$; SELECT $1", 1);
    check_sql("SELECT $fn$ :y $$ ? $fn$, :x", p, DOLLAR,
              "SELECT $fn$ :y $$ ? $fn$, $1", 1);
    check_sql("SELECT a$b, :x, $ :x", CALX_PARAMS(CALX_P("x", calx_int(1))), DOLLAR,
              "SELECT a$b, $1, $ $2", 2);
    /* Nested comments in PostgreSQL, not in SQLite. */
    check_sql("/* a /* :y */ :y */ SELECT :x", p, DOLLAR,
              "/* a /* :y */ :y */ SELECT $1", 1);
    check_sql("/* a /* :y */ SELECT :x", p, QMARK, "/* a /* :y */ SELECT ?", 1);
}

TEST(sqlite_lexing)
{
    const calx_params *p = CALX_PARAMS(CALX_P("x", calx_int(1)));
    check_sql("SELECT [a:x?], `b:x?`, $1, :x", p, QMARK,
              "SELECT [a:x?], `b:x?`, $1, ?", 1);
    /* In PostgreSQL those are a subscript and a plain character. */
    check_sql("SELECT arr[:x]", p, DOLLAR, "SELECT arr[$1]", 1);
    check_sql("SELECT [unterminated :x", p, QMARK, "SELECT [unterminated :x", 0);
    /* SQLite has no E'' strings: the backslash is a plain character. */
    check_sql("SELECT e'\\' :x", p, QMARK, "SELECT e'\\' ?", 1);
}

TEST(many_slots)
{
    /* Enough to grow the slot arrays and reach two-digit placeholders. */
    char sql[2048] = "SELECT ";
    calx_param items[40];
    char names[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "p%d", i);
        items[39 - i] = (calx_param)CALX_P(names[i], calx_int(i));
        strcat(sql, i ? ", :" : ":");
        strcat(sql, names[i]);
    }
    calx_params p = { items, 40 };
    calx_text_plan plan;
    calx_error err;
    CHECK_OK(calx__text_compile(sql, &p, DOLLAR, &plan, &err), &err);
    CHECK_INT(plan.nslots, 40);
    CHECK_CONTAINS(plan.sql, "$9, $10, ");
    CHECK_CONTAINS(plan.sql, ", $40");
    calx_value out[40];
    CHECK_OK(calx__text_bind(&plan, &p, out, &err), &err);
    for (int i = 0; i < 40; i++) {
        CHECK_INT(plan.slot_param[i], 39 - i);
        CHECK_INT(out[i].u.i, i);
    }
    calx__text_plan_free(&plan);
}

TEST(no_params)
{
    check_sql("SELECT 1", NULL, DOLLAR, "SELECT 1", 0);
    check_sql("SELECT 1", &(const calx_params){ NULL, 0 }, DOLLAR, "SELECT 1", 0);
    calx_text_plan plan;
    calx_error err;
    CHECK_OK(calx__text_compile("SELECT '?'", NULL, QMARK, &plan, &err), &err);
    CHECK_OK(calx__text_bind(&plan, NULL, NULL, &err), &err);
    CHECK_OK(calx__text_bind(&plan, CALX_PARAMS(CALX_P("unused", calx_int(1))),
                             NULL, &err), &err);
    CHECK_INT(calx__text_bind(&plan, CALX_PARAMS(CALX_V(calx_int(1))), NULL, &err),
              CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "the statement has 0 positional parameters (?) but "
                           "1 value was given");
    calx__text_plan_free(&plan);
}

TEST(errors)
{
    const char *m;

    m = compile_error("SELECT :a, :b", CALX_PARAMS(CALX_P("a", calx_int(1))), DOLLAR);
    CHECK_STR(m, "A value is required for bind parameter 'b'");
    m = compile_error("SELECT :a", NULL, DOLLAR);
    CHECK_STR(m, "A value is required for bind parameter 'a'");

    m = compile_error("SELECT ?, ?", CALX_PARAMS(CALX_V(calx_int(1)), CALX_V(calx_int(2)),
                                                 CALX_V(calx_int(3))), QMARK);
    CHECK_STR(m, "the statement has 2 positional parameters (?) but 3 values were given");
    m = compile_error("SELECT ?", NULL, QMARK);
    CHECK_STR(m, "the statement has 1 positional parameter (?) but 0 values were given");
    m = compile_error("SELECT 1", CALX_PARAMS(CALX_V(calx_int(1)), CALX_V(calx_int(2))), QMARK);
    CHECK_STR(m, "the statement has 0 positional parameters (?) but 2 values were given");

    m = compile_error("SELECT :a, ?", CALX_PARAMS(CALX_P("a", calx_int(1))), QMARK);
    CHECK_STR(m, "the statement mixes named (:name) and positional (?) parameters "
                 "at character 12");
    m = compile_error("SELECT ?, :a", NULL, DOLLAR);
    CHECK_CONTAINS(m, "mixes named (:name) and positional (?) parameters at character 11");

    m = compile_error("SELECT :a", CALX_PARAMS(CALX_P("a", calx_int(1)), CALX_V(calx_int(2))),
                      QMARK);
    CHECK_STR(m, "parameters must be all named or all positional, but value 1 is "
                 "named and value 2 is not");
    m = compile_error("SELECT ?", CALX_PARAMS(CALX_V(calx_int(2)), CALX_P("a", calx_int(1))),
                      QMARK);
    CHECK_CONTAINS(m, "value 1 is positional and value 2 is not");

    m = compile_error("SELECT ?", CALX_PARAMS(CALX_P("a", calx_int(1))), QMARK);
    CHECK_STR(m, "the statement has positional parameters (?) but named values were given");
    m = compile_error("SELECT :a", CALX_PARAMS(CALX_V(calx_int(1))), QMARK);
    CHECK_STR(m, "the statement has named parameters (:a) but positional values were given");

    m = compile_error("SELECT :a", CALX_PARAMS(CALX_P("a", calx_int(1)),
                                               CALX_P("b", calx_int(2)),
                                               CALX_P("a", calx_int(3))), QMARK);
    CHECK_STR(m, "bind parameter 'a' is given more than once");
    m = compile_error("SELECT 1", CALX_PARAMS(CALX_P("a", calx_int(1)),
                                              CALX_P("a", calx_int(3))), QMARK);
    CHECK_CONTAINS(m, "given more than once");

    m = compile_error("SELECT $1, :a", CALX_PARAMS(CALX_P("a", calx_int(1))), DOLLAR);
    CHECK_STR(m, "'$1' at character 8 is a driver placeholder; write :name or ? "
                 "(calx numbers parameters itself)");
    m = compile_error("SELECT ?12", NULL, QMARK);
    CHECK_CONTAINS(m, "'?12' at character 8 is a driver placeholder");

    m = compile_error(NULL, NULL, QMARK);
    CHECK_STR(m, "the SQL text is NULL");
    m = compile_error("SELECT 1", &(const calx_params){ NULL, 2 }, QMARK);
    CHECK_CONTAINS(m, "no array");

    /* A failure after some slots were made frees them (ASan / valgrind). */
    m = compile_error("SELECT :a, :b, :c, :d, :e, :f, :g, :h, :i, ?", NULL, DOLLAR);
    CHECK_CONTAINS(m, "mixes");
    m = compile_error("SELECT :a, :b, :c, :d, :e, :f, :g, :h, :i, :zz",
                      CALX_PARAMS(CALX_P("a", calx_int(1))), DOLLAR);
    CHECK_STR(m, "A value is required for bind parameter 'b'");
}

TEST(bind_many_sets)
{
    calx_text_plan plan;
    calx_error err;
    calx_value out[3];

    CHECK_OK(calx__text_compile("INSERT INTO t VALUES (:a, :b, :a)",
                                CALX_PARAMS(CALX_P("a", calx_int(1)),
                                            CALX_P("b", calx_text("one"))),
                               QMARK, &plan, &err), &err);
    CHECK_STR(plan.sql, "INSERT INTO t VALUES (?, ?, ?)");

    /* The same order as at compile time: the fast path. */
    CHECK_OK(calx__text_bind(&plan, CALX_PARAMS(CALX_P("a", calx_int(2)),
                                                CALX_P("b", calx_text("two"))),
                            out, &err), &err);
    CHECK_INT(out[0].type, CALX_INT);
    CHECK_INT(out[0].u.i, 2);
    CHECK_INT(out[1].type, CALX_TEXT);
    CHECK(out[1].u.s.len == 3 && memcmp(out[1].u.s.ptr, "two", 3) == 0);
    CHECK_INT(out[2].u.i, 2);

    /* Another order, extra names, a NULL value: found by name. */
    const char *three = "three";
    CHECK_OK(calx__text_bind(&plan, CALX_PARAMS(CALX_P("zz", calx_int(0)),
                                                CALX_P("b", calx_text(three)),
                                                CALX_P("a", calx_null())),
                            out, &err), &err);
    CHECK_INT(out[0].type, CALX_NULL);
    CHECK_INT(out[2].type, CALX_NULL);
    CHECK(out[1].u.s.ptr == three);  /* shallow: the caller's memory */

    /* Fewer values than the first set: the fast-path index is past the end. */
    CHECK_OK(calx__text_bind(&plan, CALX_PARAMS(CALX_P("b", calx_int(5)),
                                                CALX_P("a", calx_int(4))),
                            out, &err), &err);
    CHECK_INT(out[0].u.i, 4);
    CHECK_INT(out[1].u.i, 5);

    /* A set without b. */
    CHECK_INT(calx__text_bind(&plan, CALX_PARAMS(CALX_P("a", calx_int(1))), out, &err),
              CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "A value is required for bind parameter 'b'");
    CHECK_INT(calx__text_bind(&plan, NULL, out, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "A value is required for bind parameter 'a'");
    CHECK_INT(calx__text_bind(&plan, CALX_PARAMS(CALX_V(calx_int(1))), out, &err),
              CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "the statement has named parameters (:a) but positional "
                           "values were given");
    CHECK_INT(calx__text_bind(&plan, CALX_PARAMS(CALX_P("a", calx_int(1)),
                                                 CALX_V(calx_int(1))), out, &err),
              CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "all named or all positional");
    calx__text_plan_free(&plan);

    /* Positional sets. */
    CHECK_OK(calx__text_compile("INSERT INTO t VALUES (?, ?)",
                                CALX_PARAMS(CALX_V(calx_int(1)), CALX_V(calx_int(2))),
                                DOLLAR, &plan, &err), &err);
    CHECK_STR(plan.sql, "INSERT INTO t VALUES ($1, $2)");
    CHECK_OK(calx__text_bind(&plan, CALX_PARAMS(CALX_V(calx_real(1.5)),
                                                CALX_V(calx_bool(true))),
                            out, &err), &err);
    CHECK_INT(out[0].type, CALX_REAL);
    CHECK(out[0].u.d == 1.5);
    CHECK_INT(out[1].type, CALX_BOOL);
    CHECK(out[1].u.b);
    CHECK_INT(calx__text_bind(&plan, CALX_PARAMS(CALX_V(calx_int(1))), out, &err),
              CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "the statement has 2 positional parameters (?) but "
                           "1 value was given");
    CHECK_INT(calx__text_bind(&plan, CALX_PARAMS(CALX_P("a", calx_int(1))), out, &err),
              CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "the statement has positional parameters (?) but named "
                           "values were given");
    CHECK_INT(calx__text_bind(&plan, NULL, out, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "but 0 values were given");
    calx__text_plan_free(&plan);
}

int main(void)
{
    RUN(named_both_styles);
    RUN(positional_both_styles);
    RUN(repeated_names);
    RUN(not_parameters);
    RUN(postgresql_lexing);
    RUN(sqlite_lexing);
    RUN(many_slots);
    RUN(no_params);
    RUN(errors);
    RUN(bind_many_sets);
    return TEST_REPORT();
}
