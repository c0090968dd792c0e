/* SPDX-License-Identifier: MIT */
/* INSERT, UPDATE, DELETE and upsert: the text and parameters each compiles
 * to on SQLite and PostgreSQL (the expected strings are what SQLAlchemy
 * renders for the same statements; the tutorial's are copied from its echo
 * log), the errors that name their cause, and the statements run on a real
 * database (a SQLite file under CALX_TEST_TMP, or a fresh schema on
 * CALX_TEST_URL's PostgreSQL), checking the rows they leave, the rows they
 * return and the rows they report affected. */
#include <stdint.h>

#include "backend.h"
#include "calx.h"
#include "core/buf.h"
#include "driver/postgres.h"
#include "engine/engine_int.h"
#include "sql/compiler.h"
#include "sql/ddl.h"
#include "test.h"
#include "alloc_fail.h"
#include "sql_expect.h"
#include "sql_db.h"

static calx_loop *loop;
static const char *dir;

static const calx_dialect *const lite = &calx__dialect_sqlite;
static const calx_dialect *const pg = &calx__dialect_postgresql;

/* ---- tables ---- */

static const calx_column team_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT, .unique = true },
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

/* Where INSERT ... SELECT copies heroes to: the same columns. */
static const calx_table archive = { .name = "hero_archive", .columns = hero_cols,
                                    .ncolumns = 5 };

static const calx_column link_cols[] = {
    { .name = "hero_id", .type = CALX_COL_INT64, .primary_key = true,
      .foreign_key = "hero.id" },
    { .name = "mission_id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "is_leader", .type = CALX_COL_BOOL },
};
static const calx_table hmlink = { .name = "heromissionlink", .columns = link_cols,
                                 .ncolumns = 3 };

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

/* Many rows of few columns, for the split at max_params. */
static const calx_column tag_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "label", .type = CALX_COL_TEXT },
    { .name = "n", .type = CALX_COL_INT64 },
    { .name = "odd", .type = CALX_COL_BOOL },
};
static const calx_table tag = { .name = "tag", .columns = tag_cols, .ncolumns = 4 };

/* Names SQLAlchemy quotes. */
static const calx_column order_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "select", .type = CALX_COL_TEXT },
    { .name = "Mixed", .type = CALX_COL_INT64 },
};
static const calx_table order_t = { .name = "order", .columns = order_cols, .ncolumns = 3 };

#define H(name) calx_col_named(&hero, (name))
#define NAMES(...) (const char *[]){ __VA_ARGS__ }, sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *)
#define ROW(...) ((const calx_value[]){ __VA_ARGS__ })

/* ---- compiling ---- */

static void check_marks(int line, const char *sql, size_t nparams)
{
    size_t marks = 0;
    for (const char *s = sql; *s; s++)
        marks += *s == '?';
    if (marks != nparams) {
        fprintf(stderr, "  line %d: %zu markers for %zu parameters\n", line, marks, nparams);
        test_failed_now = 1;
    }
}

static void expect_text(int line, const calx_dialect *d, int rc, const calx_error *err,
                        const calx_compiled *c, const char *sql, const char *params)
{
    if (rc) {
        fprintf(stderr, "  line %d (%s): compile failed: %s\n", line, d->name, err->message);
        test_failed_now = 1;
        return;
    }
    char p[2048];
    fmt_params(c, p, sizeof p);
    if (strcmp(c->sql, sql) != 0 || strcmp(p, params) != 0) {
        fprintf(stderr, "  line %d (%s):\n    got      \"%s\" %s\n    expected \"%s\" %s\n",
                line, d->name, c->sql, p, sql, params);
        test_failed_now = 1;
    }
    check_marks(line, c->sql, c->nparams);
}

/* An insert that compiles to one text run once; s is freed. */
static void expect_ins(int line, calx_insert *s, const calx_dialect *d, const char *sql,
                       const char *params)
{
    calx_compiled_list l;
    calx_error err;
    int rc = calx__insert_compile(s, d, &l, &err);
    if (!rc && (l.n != 1 || l.parts[0].nsets != 1)) {
        fprintf(stderr, "  line %d: %zu parts\n", line, l.n);
        test_failed_now = 1;
    } else {
        expect_text(line, d, rc, &err, rc ? NULL : &l.parts[0].c, sql, params);
    }
    calx__compiled_list_free(&l);
    calx_insert_free(s);
}
#define EXPECT_INS(s, d, sql, params) expect_ins(__LINE__, (s), (d), (sql), (params))

static void expect_upd(int line, calx_update *s, const calx_dialect *d, const char *sql,
                       const char *params)
{
    calx_compiled c;
    calx_error err;
    int rc = calx__update_compile(s, d, &c, &err);
    expect_text(line, d, rc, &err, &c, sql, params);
    calx__compiled_free(&c);
    calx_update_free(s);
}
#define EXPECT_UPD(s, d, sql, params) expect_upd(__LINE__, (s), (d), (sql), (params))

static void expect_del(int line, calx_delete *s, const calx_dialect *d, const char *sql,
                       const char *params)
{
    calx_compiled c;
    calx_error err;
    int rc = calx__delete_compile(s, d, &c, &err);
    expect_text(line, d, rc, &err, &c, sql, params);
    calx__compiled_free(&c);
    calx_delete_free(s);
}
#define EXPECT_DEL(s, d, sql, params) expect_del(__LINE__, (s), (d), (sql), (params))

/* A statement that must fail with code and message, at calx_<kind>_error
 * and at compile alike; s is freed. */
static void expect_error(int line, int rc1, const calx_error *e1, int rc2, const calx_error *e2,
                         int code, const char *message)
{
    if (rc1 != code || strcmp(e1->message, message) != 0) {
        fprintf(stderr, "  line %d: got error %d \"%s\"\n    expected %d \"%s\"\n", line, rc1,
                e1->message, code, message);
        test_failed_now = 1;
    }
    if (rc2 != rc1 || strcmp(e2->message, e1->message) != 0) {
        fprintf(stderr, "  line %d: compile said %d \"%s\"\n", line, rc2, e2->message);
        test_failed_now = 1;
    }
}

static void expect_ins_error(int line, calx_insert *s, int code, const char *message)
{
    calx_error e1, e2;
    calx_compiled_list l;
    int rc1 = calx_insert_error(s, &e1);
    int rc2 = calx__insert_compile(s, lite, &l, &e2);
    expect_error(line, rc1, &e1, rc2, &e2, code, message);
    CHECK(l.n == 0 && l.parts == NULL);
    calx__compiled_list_free(&l);
    calx_insert_free(s);
}
#define EXPECT_INS_ERROR(s, code, msg) expect_ins_error(__LINE__, (s), (code), (msg))

static void expect_upd_error(int line, calx_update *s, int code, const char *message)
{
    calx_error e1, e2;
    calx_compiled c;
    int rc1 = calx_update_error(s, &e1);
    int rc2 = calx__update_compile(s, pg, &c, &e2);
    expect_error(line, rc1, &e1, rc2, &e2, code, message);
    CHECK(c.sql == NULL);
    calx__compiled_free(&c);
    calx_update_free(s);
}
#define EXPECT_UPD_ERROR(s, code, msg) expect_upd_error(__LINE__, (s), (code), (msg))

static void expect_del_error(int line, calx_delete *s, int code, const char *message)
{
    calx_error e1, e2;
    calx_compiled c;
    int rc1 = calx_delete_error(s, &e1);
    int rc2 = calx__delete_compile(s, pg, &c, &e2);
    expect_error(line, rc1, &e1, rc2, &e2, code, message);
    CHECK(c.sql == NULL);
    calx__compiled_free(&c);
    calx_delete_free(s);
}
#define EXPECT_DEL_ERROR(s, code, msg) expect_del_error(__LINE__, (s), (code), (msg))

/* ---- INSERT ---- */

TEST(an_insert_of_one_row_renders_as_sqlalchemy)
{
    /* The tutorial's INSERT: columns in the table's order, whatever the
     * order of the calls; every value bound, None too. */
    for (int k = 0; k < 2; k++) {
        const calx_dialect *d = k ? pg : lite;
        calx_insert *s = calx_insert_new(&hero);
        calx_insert_set(s, "team_id", NULL);
        calx_insert_set(s, "age", 48);
        calx_insert_set(s, "secret_name", "Tommy Sharp");
        calx_insert_set(s, "name", "Rusty-Man");
        EXPECT_INS(s, d, "INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)",
                   "('Rusty-Man', 'Tommy Sharp', 48, None)");
    }
    /* A later value for a column replaces the earlier one. */
    calx_insert *s = calx_insert_set(calx_insert_new(&team), "name", "A");
    calx_insert_set(s, "name", "B");
    EXPECT_INS(s, lite, "INSERT INTO team (name) VALUES (?)", "('B',)");
    /* No values: the database's defaults. */
    EXPECT_INS(calx_insert_new(&team), lite, "INSERT INTO team DEFAULT VALUES", "()");
    EXPECT_INS(calx_insert_new(&team), pg, "INSERT INTO team DEFAULT VALUES", "()");
    /* Values convert to the column's type. */
    s = calx_insert_new(&gadget);
    calx_insert_set(s, "active", 1);
    calx_insert_set(s, "score", 2);
    calx_insert_set(s, "small", 7.0);
    calx_insert_set(s, "made", "2024-01-02 03:04:05Z");
    calx_insert_set(s, "data", calx_blob("\x01z", 2));
    EXPECT_INS(s, lite,
               "INSERT INTO gadget (active, score, data, made, small) VALUES (?, ?, ?, ?, ?)",
               "(True, 2r, b'\x01z', datetime.datetime(2024, 1, 2, 3, 4, 5, "
               "tzinfo=datetime.timezone.utc), 7)");
    /* RETURNING, table-qualified as Core renders it. */
    s = calx_insert_set(calx_insert_new(&hero), "name", "X");
    calx_insert_set(s, "secret_name", "Y");
    calx_insert_returning(s, H("id"));
    calx_insert_returning(s, H("name"));
    EXPECT_INS(s, pg, "INSERT INTO hero (name, secret_name) VALUES (?, ?) RETURNING hero.id, "
                      "hero.name",
               "('X', 'Y')");
    /* Quoted names. */
    s = calx_insert_set(calx_insert_new(&order_t), "Mixed", 1);
    calx_insert_set(s, "select", "x");
    EXPECT_INS(s, pg, "INSERT INTO \"order\" (\"select\", \"Mixed\") VALUES (?, ?)", "('x', 1)");
}

TEST(many_rows_render_one_values_list)
{
    for (int k = 0; k < 2; k++) {
        const calx_dialect *d = k ? pg : lite;
        calx_insert *s = calx_insert_new(&hero);
        /* Given in another order than the table's: rendered in the
         * table's, each row's values moved along. */
        calx_insert_columns(s, NAMES("age", "name", "secret_name"));
        calx_insert_row(s, ROW(calx_int(48), calx_text("Rusty-Man"), calx_text("Tommy Sharp")));
        calx_insert_row(s, ROW(calx_null(), calx_text("Spider-Boy"), calx_text("Pedro")));
        calx_insert_returning(s, H("id"));
        EXPECT_INS(s, d,
                   "INSERT INTO hero (name, secret_name, age) VALUES (?, ?, ?), (?, ?, ?) "
                   "RETURNING hero.id",
                   "('Rusty-Man', 'Tommy Sharp', 48, 'Spider-Boy', 'Pedro', None)");
    }
    /* Values are copied and converted: the caller's buffer may change. */
    char buf[8] = "abc";
    calx_insert *s = calx_insert_new(&gadget);
    calx_insert_columns(s, NAMES("label", "active", "score"));
    calx_insert_row(s, ROW(calx_text(buf), calx_int(0), calx_int(3)));
    strcpy(buf, "XYZ");
    EXPECT_INS(s, lite, "INSERT INTO gadget (label, active, score) VALUES (?, ?, ?)",
               "('abc', False, 3r)");
}

/* The split, with a dialect that takes 10 parameters a statement. */
TEST(rows_beyond_the_parameter_limit_split_into_full_statements_and_a_rest)
{
    calx_dialect tiny = calx__dialect_sqlite;
    tiny.max_params = 10;
    calx_insert *s = calx_insert_new(&tag);
    calx_insert_columns(s, NAMES("id", "label", "n"));
    for (int i = 1; i <= 7; i++) {
        char label[16];
        snprintf(label, sizeof label, "t%d", i);
        calx_insert_row(s, ROW(calx_int(i), calx_text(label), calx_int(i * 10)));
    }
    calx_compiled_list l;
    calx_error err;
    CHECK_OK(calx__insert_compile(s, &tiny, &l, &err), &err);
    /* Three rows (nine parameters) to a statement: twice, then one. */
    CHECK_INT(l.n, 2);
    if (l.n == 2) {
        CHECK_STR(l.parts[0].c.sql,
                  "INSERT INTO tag (id, label, n) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)");
        CHECK_INT(l.parts[0].nsets, 2);
        char p[512];
        fmt_params(&l.parts[0].c, p, sizeof p);
        CHECK_STR(p, "(1, 't1', 10, 2, 't2', 20, 3, 't3', 30, 4, 't4', 40, 5, 't5', 50, 6, 't6', "
                     "60)");
        CHECK_STR(l.parts[1].c.sql, "INSERT INTO tag (id, label, n) VALUES (?, ?, ?)");
        CHECK_INT(l.parts[1].nsets, 1);
        fmt_params(&l.parts[1].c, p, sizeof p);
        CHECK_STR(p, "(7, 't7', 70)");
    }
    calx__compiled_list_free(&l);
    /* The clauses after the rows repeat in every statement, and count
     * against the limit: ON CONFLICT's parameter leaves room for 3 rows
     * of 3 (9 + 1). */
    calx_insert_on_conflict_do_update(s, NAMES("id"));
    calx_insert_on_conflict_set(s, "n", calx_lit_int(0));
    CHECK_OK(calx__insert_compile(s, &tiny, &l, &err), &err);
    CHECK_INT(l.n, 2);
    if (l.n == 2) {
        CHECK_STR(l.parts[1].c.sql,
                  "INSERT INTO tag (id, label, n) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE "
                  "SET n = ?");
        char p[512];
        fmt_params(&l.parts[0].c, p, sizeof p);
        CHECK_STR(p, "(1, 't1', 10, 2, 't2', 20, 3, 't3', 30, 0, 4, 't4', 40, 5, 't5', 50, 6, "
                     "'t6', 60, 0)");
    }
    calx__compiled_list_free(&l);
    /* Exactly full: one part, run twice. */
    tiny.max_params = 12;
    calx_insert_free(s);
    s = calx_insert_new(&tag);
    calx_insert_columns(s, NAMES("id", "label", "n"));
    for (int i = 1; i <= 8; i++)
        calx_insert_row(s, ROW(calx_int(i), calx_text("x"), calx_int(i)));
    CHECK_OK(calx__insert_compile(s, &tiny, &l, &err), &err);
    CHECK_INT(l.n, 1);
    CHECK_INT(l.n ? l.parts[0].nsets : 0, 2);
    calx__compiled_list_free(&l);
    /* One row that alone has more values than a statement may bind. */
    tiny.max_params = 2;
    CHECK_INT(calx__insert_compile(s, &tiny, &l, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "INSERT INTO tag: more rows than one statement may bind: a row of 3 "
                           "values (with 0 parameters besides) is already more than the 2 one "
                           "SQLite statement may carry");
    CHECK(l.n == 0);
    calx_insert_free(s);
    /* A single row of values too. */
    s = calx_insert_set(calx_insert_new(&tag), "id", 1);
    calx_insert_set(s, "label", "x");
    calx_insert_set(s, "n", 2);
    CHECK_INT(calx__insert_compile(s, &tiny, &l, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "INSERT INTO tag binds 3 parameters, more than the 2 one SQLite "
                           "statement may carry");
    calx_insert_free(s);
}

TEST(insert_from_a_select)
{
    calx_insert *s = calx_insert_new(&archive);
    calx_select *q = calx_select_where(calx_select_new(&hero), calx_gt(H("age"), 30));
    calx_insert_from_select(s, NAMES("id", "name", "secret_name", "age", "team_id"), q);
    calx_insert_returning(s, calx_col_named(&archive, "id"));
    EXPECT_INS(s, lite,
               "INSERT INTO hero_archive (id, name, secret_name, age, team_id) SELECT hero.id, "
               "hero.name, hero.secret_name, hero.age, hero.team_id \nFROM hero \nWHERE "
               "hero.age > ? RETURNING hero_archive.id",
               "(30,)");
}

TEST(upserts_render_alike_on_both_dialects)
{
    for (int k = 0; k < 2; k++) {
        const calx_dialect *d = k ? pg : lite;
        calx_insert *s = calx_insert_set(calx_insert_new(&team), "name", "Preventers");
        calx_insert_set(s, "headquarters", "Sharp Tower");
        calx_insert_on_conflict_do_nothing(s, NAMES("name"));
        EXPECT_INS(s, d,
                   "INSERT INTO team (name, headquarters) VALUES (?, ?) ON CONFLICT (name) DO "
                   "NOTHING",
                   "('Preventers', 'Sharp Tower')");
        s = calx_insert_set(calx_insert_new(&team), "name", "Preventers");
        calx_insert_on_conflict_do_nothing(s, NULL, 0);
        EXPECT_INS(s, d, "INSERT INTO team (name) VALUES (?) ON CONFLICT DO NOTHING",
                   "('Preventers',)");
        /* DO UPDATE: SET in the table's column order, "col = value", the
         * existing row's columns table-qualified. */
        s = calx_insert_new(&hero);
        calx_insert_columns(s, NAMES("id", "name", "secret_name", "age"));
        calx_insert_row(s, ROW(calx_int(1), calx_text("D"), calx_text("S"), calx_int(5)));
        calx_insert_on_conflict_do_update(s, NAMES("id"));
        calx_insert_on_conflict_set(s, "secret_name", calx_excluded(&hero, "secret_name"));
        calx_insert_on_conflict_set(s, "age", calx_excluded(&hero, "age"));
        calx_insert_on_conflict_where(s, calx_lt(H("age"), calx_excluded(&hero, "age")));
        calx_insert_returning(s, H("id"));
        EXPECT_INS(s, d,
                   "INSERT INTO hero (id, name, secret_name, age) VALUES (?, ?, ?, ?) ON "
                   "CONFLICT (id) DO UPDATE SET secret_name = excluded.secret_name, age = "
                   "excluded.age WHERE hero.age < excluded.age RETURNING hero.id",
                   "(1, 'D', 'S', 5)");
    }
    /* A literal in DO UPDATE is bound after the rows. */
    calx_insert *s = calx_insert_set(calx_insert_new(&hmlink), "hero_id", 1);
    calx_insert_set(s, "mission_id", 2);
    calx_insert_set(s, "is_leader", true);
    calx_insert_on_conflict_do_update(s, NAMES("hero_id", "mission_id"));
    calx_insert_on_conflict_set(s, "is_leader", calx_lit_int(0));
    EXPECT_INS(s, pg,
               "INSERT INTO heromissionlink (hero_id, mission_id, is_leader) VALUES (?, ?, ?) "
               "ON CONFLICT (hero_id, mission_id) DO UPDATE SET is_leader = ?",
               "(1, 2, True, False)");
}

/* ---- UPDATE, DELETE ---- */

TEST(updates_render_as_sqlalchemy)
{
    for (int k = 0; k < 2; k++) {
        const calx_dialect *d = k ? pg : lite;
        /* The relationships tutorial's bulk update. */
        EXPECT_UPD(calx_update_where(calx_update_set(calx_update_new(&hero), "age", 16),
                                     calx_is_null(H("age"))),
                   d, "UPDATE hero SET age=? WHERE hero.age IS NULL", "(16,)");
        /* The flush's form: SET in the table's order, then the key. */
        calx_update *s = calx_update_set(calx_update_new(&hero), "team_id", 2);
        calx_update_set(s, "name", "X");
        calx_update_where(s, calx_eq(H("id"), 7));
        EXPECT_UPD(s, d, "UPDATE hero SET name=?, team_id=? WHERE hero.id = ?", "('X', 2, 7)");
        /* Values from expressions: SQLAlchemy groups them. */
        s = calx_update_set(calx_update_new(&hero), "age", calx_add(H("age"), 1));
        calx_update_set(s, "name", calx_concat(H("name"), "!"));
        calx_update_where(s, calx_eq(H("id"), 7));
        EXPECT_UPD(s, d, "UPDATE hero SET name=(hero.name || ?), age=(hero.age + ?) WHERE hero.id = ?",
                   "('!', 1, 7)");
        s = calx_update_set(calx_update_new(&hero), "age", calx_coalesce(H("age"), calx_lit_int(0)));
        EXPECT_UPD(s, d, "UPDATE hero SET age=coalesce(hero.age, ?)", "(0,)");
        /* A value from another column; NULL bound; RETURNING. */
        s = calx_update_set(calx_update_new(&hero), "age", H("team_id"));
        calx_update_set(s, "secret_name", NULL);
        calx_update_where(s, calx_gt(H("id"), 3));
        calx_update_where(s, calx_lt(H("id"), 9));
        calx_update_returning(s, H("id"));
        calx_update_returning(s, H("age"));
        EXPECT_UPD(s, d,
                   "UPDATE hero SET secret_name=?, age=hero.team_id WHERE hero.id > ? AND "
                   "hero.id < ? RETURNING hero.id, hero.age",
                   "(None, 3, 9)");
        /* UPDATE ... FROM: the other table's columns in SET and WHERE,
         * its name once in FROM. */
        s = calx_update_set(calx_update_new(&hero), "secret_name",
                            calx_col_named(&team, "headquarters"));
        calx_update_where(s, calx_eq(H("team_id"), calx_col_named(&team, "id")));
        calx_update_from(s, &team);
        calx_update_where(s, calx_eq(calx_col_named(&team, "name"), "Preventers"));
        calx_update_from(s, &team);
        EXPECT_UPD(s, d,
                   "UPDATE hero SET secret_name=team.headquarters FROM team WHERE hero.team_id "
                   "= team.id AND team.name = ?",
                   "('Preventers',)");
    }
    /* Boolean columns: a value is bound, a condition is SQLite's "= 1". */
    calx_update *s = calx_update_set(calx_update_new(&hmlink), "is_leader", 1);
    calx_update_where(s, calx_not(calx_col_named(&hmlink, "is_leader")));
    EXPECT_UPD(s, lite, "UPDATE heromissionlink SET is_leader=? WHERE heromissionlink.is_leader = 0",
               "(True,)");
    s = calx_update_set(calx_update_new(&hmlink), "is_leader", 1);
    calx_update_where(s, calx_not(calx_col_named(&hmlink, "is_leader")));
    EXPECT_UPD(s, pg, "UPDATE heromissionlink SET is_leader=? WHERE NOT heromissionlink.is_leader",
               "(True,)");
    /* A dialect without UPDATE ... FROM says so. */
    calx_dialect old = calx__dialect_sqlite;
    old.supports_update_from = false;
    s = calx_update_set(calx_update_new(&hero), "age", 1);
    calx_update_from(s, &team);
    calx_compiled c;
    calx_error err;
    CHECK_INT(calx__update_compile(s, &old, &c, &err), CALX_ERR_NOT_SUPPORTED);
    CHECK_STR(err.message, "UPDATE hero ... FROM team: SQLite does not support UPDATE ... FROM; "
                           "use a subquery in WHERE instead");
    calx_update_free(s);
}

TEST(deletes_render_as_sqlalchemy)
{
    /* The relationships tutorial's bulk delete. */
    EXPECT_DEL(calx_delete_where(calx_delete_new(&hmlink),
                                 calx_not(calx_col_named(&hmlink, "is_leader"))),
               lite, "DELETE FROM heromissionlink WHERE heromissionlink.is_leader = 0", "()");
    EXPECT_DEL(calx_delete_where(calx_delete_new(&hmlink),
                                 calx_not(calx_col_named(&hmlink, "is_leader"))),
               pg, "DELETE FROM heromissionlink WHERE NOT heromissionlink.is_leader", "()");
    for (int k = 0; k < 2; k++) {
        const calx_dialect *d = k ? pg : lite;
        EXPECT_DEL(calx_delete_where(calx_delete_new(&hero), calx_eq(H("id"), 3)), d,
                   "DELETE FROM hero WHERE hero.id = ?", "(3,)");
        EXPECT_DEL(calx_delete_new(&hero), d, "DELETE FROM hero", "()");
        calx_delete *s = calx_delete_where(calx_delete_new(&hero), calx_gt(H("age"), 90));
        calx_delete_returning(s, H("id"));
        calx_delete_returning(s, H("name"));
        EXPECT_DEL(s, d, "DELETE FROM hero WHERE hero.age > ? RETURNING hero.id, hero.name",
                   "(90,)");
    }
    /* USING: PostgreSQL's, refused on SQLite by name. */
    calx_delete *s = calx_delete_using(calx_delete_new(&hero), &team);
    calx_delete_where(s, calx_eq(H("team_id"), calx_col_named(&team, "id")));
    calx_delete_where(s, calx_eq(calx_col_named(&team, "name"), "Z-Force"));
    EXPECT_DEL(s, pg,
               "DELETE FROM hero USING team WHERE hero.team_id = team.id AND team.name = ?",
               "('Z-Force',)");
    s = calx_delete_using(calx_delete_new(&hero), &team);
    calx_delete_where(s, calx_eq(H("team_id"), calx_col_named(&team, "id")));
    calx_compiled c;
    calx_error err;
    CHECK_INT(calx__delete_compile(s, lite, &c, &err), CALX_ERR_NOT_SUPPORTED);
    CHECK_STR(err.message, "DELETE FROM hero USING team: SQLite does not support DELETE ... "
                           "USING; use a subquery in WHERE instead");
    CHECK(c.sql == NULL);
    calx_delete_free(s);
    /* RETURNING on a dialect without it. */
    calx_dialect old = calx__dialect_sqlite;
    old.supports_returning = false;
    s = calx_delete_returning(calx_delete_new(&hero), H("id"));
    CHECK_INT(calx__delete_compile(s, &old, &c, &err), CALX_ERR_NOT_SUPPORTED);
    CHECK_STR(err.message, "DELETE FROM hero ... RETURNING: SQLite does not support RETURNING");
    calx_delete_free(s);
    /* An upsert on a dialect without one. */
    old = calx__dialect_sqlite;
    old.upsert = CALX_UPSERT_NONE;
    calx_insert *ins = calx_insert_on_conflict_do_nothing(calx_insert_new(&team), NULL, 0);
    calx_compiled_list l;
    CHECK_INT(calx__insert_compile(ins, &old, &l, &err), CALX_ERR_NOT_SUPPORTED);
    CHECK_STR(err.message, "INSERT INTO team ... ON CONFLICT: SQLite has no ON CONFLICT upsert");
    calx_insert_free(ins);
}

/* A subquery in an UPDATE's or DELETE's clauses correlates to the
 * statement's table, as SQLAlchemy's DML compilers correlate: its FROM
 * leaves the table out. */
TEST(subqueries_correlate_to_the_statement)
{
    for (int k = 0; k < 2; k++) {
        const calx_dialect *d = k ? pg : lite;
        calx_select *q = calx_select_columns(calx_col_named(&team, "headquarters"));
        calx_select_where(q, calx_eq(calx_col_named(&team, "id"), H("team_id")));
        calx_update *u = calx_update_set(calx_update_new(&hero), "secret_name",
                                         calx_scalar_subquery(q));
        q = calx_select_columns(calx_col_named(&team, "id"));
        calx_select_where(q, calx_eq(calx_col_named(&team, "name"), "Preventers"));
        calx_update_where(u, calx_in_select(H("team_id"), q));
        EXPECT_UPD(u, d,
                   "UPDATE hero SET secret_name=(SELECT team.headquarters \nFROM team \nWHERE "
                   "team.id = hero.team_id) WHERE hero.team_id IN (SELECT team.id \nFROM team "
                   "\nWHERE team.name = ?)",
                   "('Preventers',)");
        q = calx_select_columns(H("id"));
        calx_select_where(q, calx_eq(H("team_id"), calx_col_named(&team, "id")));
        calx_select_where(q, calx_gt(H("age"), 40));
        calx_delete *del = calx_delete_where(calx_delete_new(&team), calx_not(calx_exists(q)));
        EXPECT_DEL(del, d,
                   "DELETE FROM team WHERE NOT (EXISTS (SELECT hero.id \nFROM hero \nWHERE "
                   "hero.team_id = team.id AND hero.age > ?))",
                   "(40,)");
    }
    /* INSERT ... SELECT of chosen columns. */
    calx_select *q = calx_select_columns(H("name"), H("secret_name"));
    calx_select_where(q, calx_is_null(H("team_id")));
    calx_insert *s = calx_insert_from_select(calx_insert_new(&team),
                                             NAMES("name", "headquarters"), q);
    EXPECT_INS(s, pg,
               "INSERT INTO team (name, headquarters) SELECT hero.name, hero.secret_name \nFROM "
               "hero \nWHERE hero.team_id IS NULL",
               "()");
}

/* ---- bad cases ---- */

TEST(errors_name_the_cause)
{
    /* A column of another table in an UPDATE's SET, WHERE, RETURNING. */
    EXPECT_UPD_ERROR(calx_update_set(calx_update_new(&hero), "name", calx_col_named(&team, "name")),
                     CALX_ERR_ARGUMENT,
                     "UPDATE hero SET name refers to team.name, but the statement is UPDATE hero "
                     "alone: add team with calx_update_from, or name it in a subquery");
    EXPECT_UPD_ERROR(calx_update_where(calx_update_set(calx_update_new(&hero), "age", 1),
                                       calx_eq(calx_col_named(&team, "id"), 1)),
                     CALX_ERR_ARGUMENT,
                     "WHERE refers to team.id, but the statement is UPDATE hero alone: add team "
                     "with calx_update_from, or name it in a subquery");
    EXPECT_UPD_ERROR(calx_update_returning(calx_update_set(calx_update_new(&hero), "age", 1),
                                           calx_col_named(&team, "id")),
                     CALX_ERR_ARGUMENT,
                     "RETURNING refers to team.id, but the statement is UPDATE hero alone: add "
                     "team with calx_update_from, or name it in a subquery");
    EXPECT_DEL_ERROR(calx_delete_where(calx_delete_new(&hero), calx_eq(calx_col_named(&team, "id"), 1)),
                     CALX_ERR_ARGUMENT,
                     "WHERE refers to team.id, but the statement is DELETE FROM hero alone: add "
                     "team with calx_delete_using, or name it in a subquery");
    /* ... and in an INSERT's values, where no column may be. */
    EXPECT_INS_ERROR(calx_insert_set(calx_insert_new(&hero), "name", calx_col_named(&team, "name")),
                     CALX_ERR_ARGUMENT,
                     "INSERT INTO hero value for name refers to team.name, but an INSERT's values "
                     "cannot name columns (use calx_insert_from_select to insert what a query "
                     "reads)");
    EXPECT_INS_ERROR(calx_insert_returning(calx_insert_new(&hero), calx_col_named(&team, "id")),
                     CALX_ERR_ARGUMENT,
                     "RETURNING refers to team.id, but the statement is INSERT INTO hero");
    /* Unknown columns. */
    EXPECT_UPD_ERROR(calx_update_set(calx_update_new(&hero), "nmae", "x"), CALX_ERR_ARGUMENT,
                     "UPDATE SET: table hero has no column 'nmae'");
    EXPECT_INS_ERROR(calx_insert_set(calx_insert_new(&hero), "nmae", "x"), CALX_ERR_ARGUMENT,
                     "INSERT values: table hero has no column 'nmae'");
    EXPECT_INS_ERROR(calx_insert_columns(calx_insert_new(&hero), NAMES("name", "agee")),
                     CALX_ERR_ARGUMENT, "calx_insert_columns: table hero has no column 'agee'");
    EXPECT_INS_ERROR(calx_insert_columns(calx_insert_new(&hero), NAMES("name", "name")),
                     CALX_ERR_ARGUMENT, "calx_insert_columns: column 'name' is named twice");
    EXPECT_INS_ERROR(calx_insert_on_conflict_do_nothing(calx_insert_new(&hero), NAMES("nid")),
                     CALX_ERR_ARGUMENT, "ON CONFLICT: table hero has no column 'nid'");
    EXPECT_UPD_ERROR(calx_update_set(calx_update_new(&hero), NULL, 1), CALX_ERR_ARGUMENT,
                     "UPDATE SET: the column name is NULL");
    /* Type mismatches, naming the column (and the row). */
    EXPECT_UPD_ERROR(calx_update_set(calx_update_new(&hero), "age", "old"), CALX_ERR_TYPE,
                     "UPDATE hero SET: column age (INTEGER) cannot take a TEXT value");
    EXPECT_UPD_ERROR(calx_update_set(calx_update_new(&hero), "name", H("age")), CALX_ERR_TYPE,
                     "UPDATE hero SET: column name (TEXT) cannot take hero.age (INTEGER)");
    EXPECT_INS_ERROR(calx_insert_set(calx_insert_new(&hero), "age", 35.5), CALX_ERR_TYPE,
                     "INSERT INTO hero: column age (INTEGER) cannot take the REAL value 35.5: it "
                     "is not a whole number");
    EXPECT_INS_ERROR(calx_insert_set(calx_insert_new(&gadget), "active", 2), CALX_ERR_TYPE,
                     "INSERT INTO gadget: column active (BOOLEAN) cannot take the INTEGER value "
                     "2: only 0 and 1 convert to BOOLEAN");
    EXPECT_INS_ERROR(calx_insert_set(calx_insert_new(&gadget), "small", 3000000000LL),
                     CALX_ERR_TYPE,
                     "INSERT INTO gadget: column small (INTEGER) cannot take the INTEGER value "
                     "3000000000: out of range for a 32-bit column");
    EXPECT_INS_ERROR(calx_insert_set(calx_insert_new(&gadget), "data", "text"), CALX_ERR_TYPE,
                     "INSERT INTO gadget: column data (BLOB) cannot take a TEXT value");
    calx_insert *s = calx_insert_new(&hero);
    calx_insert_columns(s, NAMES("name", "age"));
    calx_insert_row(s, ROW(calx_text("a"), calx_int(1)));
    calx_insert_row(s, ROW(calx_text("b"), calx_int(2)));
    calx_insert_row(s, ROW(calx_text("c"), calx_text("three")));
    calx_insert_row(s, ROW(calx_int(4), calx_int(4)));
    EXPECT_INS_ERROR(s, CALX_ERR_TYPE,
                     "INSERT INTO hero, row 3: column age (INTEGER) cannot take a TEXT value");
    calx_value bad = calx_int(1);
    bad.type = (calx_type)77;
    s = calx_insert_columns(calx_insert_new(&hero), NAMES("age"));
    EXPECT_INS_ERROR(calx_insert_row(s, &bad), CALX_ERR_ARGUMENT,
                     "INSERT INTO hero, row 1: the value for column age is not a valid value "
                     "(type 77, or text/blob bytes NULL)");
    EXPECT_UPD_ERROR(calx_update_where(calx_update_set(calx_update_new(&hero), "age", 1), H("age")),
                     CALX_ERR_TYPE, "WHERE takes a BOOLEAN expression, not hero.age (INTEGER)");
    /* An error node inside: the first error wins. */
    EXPECT_UPD_ERROR(calx_update_where(calx_update_set(calx_update_new(&hero), "age", 1),
                                       calx_eq(H("name"), 5)),
                     CALX_ERR_TYPE, "cannot compare hero.name (TEXT) with an INTEGER value");
    s = calx_insert_set(calx_insert_new(&hero), "age", "x");
    calx_insert_set(s, "nope", 1);
    EXPECT_INS_ERROR(s, CALX_ERR_TYPE,
                     "INSERT INTO hero: column age (INTEGER) cannot take a TEXT value");
    /* Shapes that cannot be rendered. */
    EXPECT_UPD_ERROR(calx_update_where(calx_update_new(&hero), calx_eq(H("id"), 1)),
                     CALX_ERR_ARGUMENT, "UPDATE hero has nothing to SET (calx_update_value)");
    EXPECT_INS_ERROR(calx_insert_columns(calx_insert_new(&hero), NAMES("name")), CALX_ERR_ARGUMENT,
                     "INSERT INTO hero has columns for its rows but no rows (calx_insert_row)");
    EXPECT_INS_ERROR(calx_insert_row(calx_insert_new(&hero), ROW(calx_int(1))), CALX_ERR_ARGUMENT,
                     "calx_insert_row: INSERT INTO hero has no columns for its rows (call "
                     "calx_insert_columns first)");
    EXPECT_INS_ERROR(calx_insert_columns(calx_insert_set(calx_insert_new(&hero), "name", "x"),
                                         NAMES("age")),
                     CALX_ERR_ARGUMENT,
                     "calx_insert_columns: INSERT INTO hero already has single values "
                     "(calx_insert_value); one insert takes one of single values, rows or a "
                     "select");
    EXPECT_INS_ERROR(calx_insert_set(calx_insert_columns(calx_insert_new(&hero), NAMES("age")),
                                     "name", "x"),
                     CALX_ERR_ARGUMENT,
                     "calx_insert_value: INSERT INTO hero already has rows (calx_insert_columns); "
                     "one insert takes one of single values, rows or a select");
    EXPECT_INS_ERROR(calx_insert_on_conflict_do_update(calx_insert_new(&hero), NULL, 0),
                     CALX_ERR_ARGUMENT,
                     "calx_insert_on_conflict_do_update: ON CONFLICT DO UPDATE needs the columns "
                     "of a unique index or the primary key to tell a conflict by");
    EXPECT_INS_ERROR(calx_insert_on_conflict_set(calx_insert_new(&hero), "age", calx_lit_int(1)),
                     CALX_ERR_ARGUMENT,
                     "ON CONFLICT DO UPDATE SET: INSERT INTO hero has no ON CONFLICT DO UPDATE "
                     "(call calx_insert_on_conflict_do_update first)");
    EXPECT_INS_ERROR(calx_insert_on_conflict_do_update(calx_insert_new(&hero), NAMES("id")),
                     CALX_ERR_ARGUMENT,
                     "INSERT INTO hero ... ON CONFLICT DO UPDATE has nothing to SET "
                     "(calx_insert_on_conflict_set)");
    s = calx_insert_on_conflict_do_nothing(calx_insert_new(&hero), NULL, 0);
    EXPECT_INS_ERROR(calx_insert_on_conflict_do_nothing(s, NULL, 0), CALX_ERR_ARGUMENT,
                     "calx_insert_on_conflict_do_nothing: INSERT INTO hero already has an ON "
                     "CONFLICT clause");
    /* excluded only where an upsert's DO UPDATE is. */
    s = calx_insert_on_conflict_do_update(calx_insert_new(&hero), NAMES("id"));
    calx_insert_on_conflict_set(s, "name", calx_excluded(&team, "name"));
    EXPECT_INS_ERROR(s, CALX_ERR_ARGUMENT,
                     "ON CONFLICT DO UPDATE SET names excluded.name, which only an INSERT INTO "
                     "team's ON CONFLICT DO UPDATE may use");
    EXPECT_UPD_ERROR(calx_update_set(calx_update_new(&hero), "name", calx_excluded(&hero, "name")),
                     CALX_ERR_ARGUMENT,
                     "UPDATE hero SET name names excluded.name, which only an INSERT INTO hero's "
                     "ON CONFLICT DO UPDATE may use");
    EXPECT_INS_ERROR(calx_insert_set(calx_insert_new(&hero), "name", calx_excluded(&hero, "nm")),
                     CALX_ERR_ARGUMENT, "table hero has no column 'nm'");
    /* A select of another width than the columns named. */
    EXPECT_INS_ERROR(calx_insert_from_select(calx_insert_new(&team), NAMES("name"),
                                             calx_select_new(&hero)),
                     CALX_ERR_ARGUMENT,
                     "calx_insert_from_select: INSERT INTO team names 1 columns but its select "
                     "has 5");
    /* A column of an alias is not the statement's table. */
    calx_from *mgr = calx_alias_new(&hero, "mgr");
    EXPECT_UPD_ERROR(calx_update_where(calx_update_set(calx_update_new(&hero), "age", 1),
                                       calx_eq(calx_from_col(mgr, "id"), 1)),
                     CALX_ERR_ARGUMENT,
                     "WHERE refers to mgr.id, but the statement is UPDATE hero alone: add mgr "
                     "with calx_update_from, or name it in a subquery");
    calx_from_free(mgr);
    /* FROM / USING of the statement's own table. */
    EXPECT_UPD_ERROR(calx_update_from(calx_update_set(calx_update_new(&hero), "age", 1), &hero),
                     CALX_ERR_ARGUMENT,
                     "UPDATE hero FROM hero: the statement's own table cannot be one of its FROM "
                     "tables");
    /* Tables the statement cannot use. */
    EXPECT_INS_ERROR(calx_insert_new(NULL), CALX_ERR_ARGUMENT, "INSERT INTO: the table is NULL");
    static const calx_table empty = { .name = "empty" };
    EXPECT_UPD_ERROR(calx_update_new(&empty), CALX_ERR_ARGUMENT,
                     "UPDATE: table empty has no columns");
    EXPECT_DEL_ERROR(calx_delete_new(NULL), CALX_ERR_ARGUMENT, "DELETE FROM: the table is NULL");

    /* NULL statements: every call is safe, arguments are freed. */
    calx_error err;
    CHECK(calx_insert_value(NULL, "name", calx_lit_text("x")) == NULL);
    CHECK(calx_insert_columns(NULL, NAMES("a")) == NULL);
    CHECK(calx_insert_row(NULL, ROW(calx_int(1))) == NULL);
    CHECK(calx_insert_from_select(NULL, NAMES("a"), calx_select_new(&hero)) == NULL);
    CHECK(calx_insert_returning(NULL, H("id")) == NULL);
    CHECK(calx_insert_on_conflict_do_nothing(NULL, NULL, 0) == NULL);
    CHECK(calx_insert_on_conflict_do_update(NULL, NAMES("a")) == NULL);
    CHECK(calx_insert_on_conflict_set(NULL, "a", H("id")) == NULL);
    CHECK(calx_insert_on_conflict_where(NULL, calx_gt(H("id"), 1)) == NULL);
    CHECK(calx_update_value(NULL, "a", H("id")) == NULL);
    CHECK(calx_update_where(NULL, calx_gt(H("id"), 1)) == NULL);
    CHECK(calx_update_returning(NULL, H("id")) == NULL);
    CHECK(calx_update_from(NULL, &team) == NULL);
    CHECK(calx_delete_where(NULL, calx_gt(H("id"), 1)) == NULL);
    CHECK(calx_delete_returning(NULL, H("id")) == NULL);
    CHECK(calx_delete_using(NULL, &team) == NULL);
    CHECK_INT(calx_insert_error(NULL, &err), CALX_ERR_NOMEM);
    CHECK_STR(err.message, "out of memory creating an insert");
    CHECK_INT(calx_update_error(NULL, &err), CALX_ERR_NOMEM);
    CHECK_INT(calx_delete_error(NULL, &err), CALX_ERR_NOMEM);
    calx_compiled_list l;
    calx_compiled c;
    CHECK_INT(calx__insert_compile(NULL, lite, &l, &err), CALX_ERR_NOMEM);
    CHECK_INT(calx__update_compile(NULL, lite, &c, &err), CALX_ERR_NOMEM);
    CHECK_INT(calx__delete_compile(NULL, lite, &c, &err), CALX_ERR_NOMEM);
    calx_delete *d = calx_delete_new(&hero);
    CHECK_INT(calx__delete_compile(d, NULL, &c, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx__delete_compile(d, lite, NULL, &err), CALX_ERR_ARGUMENT);
    calx_delete_free(d);
    calx_insert_free(NULL);
    calx_update_free(NULL);
    calx_delete_free(NULL);
    calx__compiled_list_free(NULL);
    /* An error node passed to a later call keeps the first error. */
    calx_update *u = calx_update_set(calx_update_new(&hero), "age", calx_col_named(&hero, "x"));
    calx_update_set(u, "name", 5);
    CHECK_INT(calx_update_error(u, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "table hero has no column 'x'");
    CHECK_INT(calx_update_error(u, NULL), CALX_ERR_ARGUMENT);
    calx_update_free(u);
}

/* ---- the flush's statements ---- */

TEST(the_flush_gets_its_statements_from_the_sql_layer)
{
    calx_error err;
    /* By primary key: SET columns in the table's order, then the key. */
    char *sql = calx__update_by_key_sql(lite, &hero, 1u << 3 | 1u << 1, &err);
    CHECK_STR(sql, "UPDATE hero SET name=?, age=? WHERE hero.id = ?");
    free(sql);
    sql = calx__update_by_key_sql(pg, &hmlink, 1u << 2, &err);
    CHECK_STR(sql, "UPDATE heromissionlink SET is_leader=? WHERE heromissionlink.hero_id = ? "
                   "AND heromissionlink.mission_id = ?");
    free(sql);
    sql = calx__delete_by_key_sql(lite, &hmlink, &err);
    CHECK_STR(sql, "DELETE FROM heromissionlink WHERE heromissionlink.hero_id = ? AND "
                   "heromissionlink.mission_id = ?");
    free(sql);
    /* A boolean key is bound, not written inline as a bool literal is. */
    static const calx_column flag_cols[] = {
        { .name = "on", .type = CALX_COL_BOOL, .primary_key = true },
        { .name = "n", .type = CALX_COL_INT64 },
    };
    static const calx_table flag = { .name = "flag", .columns = flag_cols, .ncolumns = 2 };
    sql = calx__delete_by_key_sql(pg, &flag, &err);
    CHECK_STR(sql, "DELETE FROM flag WHERE flag.\"on\" = ?");
    free(sql);
    /* INSERT: one row, many rows, the sentinel form with its key. */
    calx_insert *s = calx__insert_of_columns(&hero, 0x1e, -1, 0);
    CHECK_OK(calx__insert_shape_sql(s, lite, 1, CALX__ROWS_VALUES, &sql, &err), &err);
    CHECK_STR(sql, "INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)");
    free(sql);
    CHECK_OK(calx__insert_shape_sql(s, pg, 2, CALX__ROWS_VALUES, &sql, &err), &err);
    CHECK_STR(sql, "INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?), "
                   "(?, ?, ?, ?)");
    free(sql);
    calx_insert_free(s);
    s = calx__insert_of_columns(&hero, 0x6, 0, 0);
    CHECK_OK(calx__insert_shape_sql(s, pg, 3, CALX__ROWS_SENTINEL, &sql, &err), &err);
    CHECK_STR(sql, "INSERT INTO hero (name, secret_name) SELECT CAST(p0 AS VARCHAR), CAST(p1 AS "
                   "VARCHAR) FROM (VALUES (?, ?, 0), (?, ?, 1), (?, ?, 2)) AS imp_sen(p0, p1, "
                   "sen_counter) ORDER BY sen_counter RETURNING hero.id");
    free(sql);
    CHECK_OK(calx__insert_shape_sql(s, pg, 1, CALX__ROWS_VALUES, &sql, &err), &err);
    CHECK_STR(sql, "INSERT INTO hero (name, secret_name) VALUES (?, ?) RETURNING hero.id");
    free(sql);
    /* The sentinel form over arrays: one typed array a column, one text
     * for any number of rows. */
    CHECK(calx__insert_arrays_ok(s, pg));
    CHECK_OK(calx__insert_shape_sql(s, pg, 3, CALX__ROWS_ARRAYS, &sql, &err), &err);
    CHECK_STR(sql, "INSERT INTO hero (name, secret_name) SELECT p0, p1 FROM unnest(CAST(? AS "
                   "VARCHAR[]), CAST(? AS VARCHAR[])) WITH ORDINALITY AS imp_sen(p0, p1, "
                   "sen_counter) ORDER BY sen_counter RETURNING hero.id");
    free(sql);
    /* SQLite has no arrays, nor unnest. */
    CHECK(!calx__insert_arrays_ok(s, lite));
    CHECK_INT(calx__insert_shape_sql(s, lite, 3, CALX__ROWS_ARRAYS, &sql, &err),
              CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "INSERT INTO hero: its rows cannot go as arrays on SQLite");
    calx_insert_free(s);
    /* A column whose values are no array of their own (bytes) keeps the
     * VALUES form; every scalar type of the others is typed in its array. */
    s = calx__insert_of_columns(&gadget, 0x7e, -1, 0);
    CHECK(!calx__insert_arrays_ok(s, pg));
    calx_insert_free(s);
    s = calx__insert_of_columns(&gadget, 0x6e, -1, 0);
    CHECK(calx__insert_arrays_ok(s, pg));
    CHECK_OK(calx__insert_shape_sql(s, pg, 1, CALX__ROWS_ARRAYS, &sql, &err), &err);
    CHECK_STR(sql, "INSERT INTO gadget (label, active, score, made, small) SELECT p0, p1, p2, p3, "
                   "p4 FROM unnest(CAST(? AS VARCHAR[]), CAST(? AS BOOLEAN[]), CAST(? AS DOUBLE "
                   "PRECISION[]), CAST(? AS TIMESTAMP WITH TIME ZONE[]), CAST(? AS INTEGER[])) "
                   "WITH ORDINALITY AS imp_sen(p0, p1, p2, p3, p4, sen_counter) ORDER BY "
                   "sen_counter");
    free(sql);
    calx_insert_free(s);
    s = calx__insert_of_columns(&hero, 0x6, 0, 0);
    CHECK_INT(calx__insert_shape_sql(s, pg, 0, CALX__ROWS_VALUES, &sql, &err), CALX_ERR_ARGUMENT);
    calx_insert_free(s);
    /* No columns: DEFAULT VALUES, one row only. */
    s = calx__insert_of_columns(&hero, 0, 0, 0);
    CHECK_OK(calx__insert_shape_sql(s, pg, 1, CALX__ROWS_VALUES, &sql, &err), &err);
    CHECK_STR(sql, "INSERT INTO hero DEFAULT VALUES RETURNING hero.id");
    free(sql);
    CHECK_INT(calx__insert_shape_sql(s, pg, 2, CALX__ROWS_VALUES, &sql, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "INSERT INTO hero: no text for 2 rows of this insert");
    calx_insert_free(s);
}

/* The flush writes tables in the order create_all makes them, by one sort
 * with one rule for cycles. */
TEST(the_flush_orders_tables_as_create_all_does)
{
    const calx_table *in[] = { &hmlink, &gadget, &hero, &team };
    const calx_table *out[4];
    calx_error err;
    CHECK_OK(calx__tables_sorted(in, 4, out, "the flush", &err), &err);
    CHECK(out[0] == &gadget && out[1] == &team && out[2] == &hero && out[3] == &hmlink);
    /* A reference to a table not in the list is not followed. */
    CHECK_OK(calx__tables_sorted(in, 1, out, "the flush", &err), &err);
    CHECK(out[0] == &hmlink);
    static const calx_column a_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "b_id", .type = CALX_COL_INT64, .nullable = true, .foreign_key = "b.id" },
    };
    static const calx_column b_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "a_id", .type = CALX_COL_INT64, .nullable = true, .foreign_key = "a.id" },
    };
    static const calx_table a = { .name = "a", .columns = a_cols, .ncolumns = 2 };
    static const calx_table b = { .name = "b", .columns = b_cols, .ncolumns = 2 };
    const calx_table *cyc[] = { &team, &a, &b };
    CHECK_INT(calx__tables_sorted(cyc, 3, out, "the flush", &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "foreign keys form a cycle: a -> b -> a (the flush cannot order these "
                           "tables)");
}

/* ---- out of memory ---- */

/* Builds and compiles one statement of each kind through every builder
 * that allocates; returns the first failure, or 0. */
static int build_everything(calx_error *err, char **sql)
{
    calx_dialect tiny = calx__dialect_postgresql;
    tiny.max_params = 8;
    *sql = NULL;
    calx_buf all = { 0 };
    calx_insert *s = calx_insert_new(&hero);
    calx_insert_columns(s, NAMES("name", "secret_name", "age"));
    for (int i = 0; i < 5; i++)
        calx_insert_row(s, ROW(calx_text("n"), calx_text("s"), i ? calx_int(i) : calx_null()));
    calx_insert_on_conflict_do_update(s, NAMES("id"));
    calx_insert_on_conflict_set(s, "age", calx_excluded(&hero, "age"));
    calx_insert_on_conflict_where(s, calx_lt(H("age"), calx_excluded(&hero, "age")));
    calx_insert_returning(s, H("id"));
    calx_compiled_list l;
    int rc = calx__insert_compile(s, &tiny, &l, err);
    for (size_t i = 0; !rc && i < l.n; i++)
        calx__buf_printf(&all, "%s;", l.parts[i].c.sql);
    calx__compiled_list_free(&l);
    calx_insert_free(s);
    if (rc == 0) {
        s = calx_insert_new(&archive);
        calx_insert_from_select(s, NAMES("id", "name", "secret_name", "age", "team_id"),
                                calx_select_where(calx_select_new(&hero), calx_gt(H("id"), 1)));
        rc = calx__insert_compile(s, &tiny, &l, err);
        if (!rc)
            calx__buf_printf(&all, "%s;", l.parts[0].c.sql);
        calx__compiled_list_free(&l);
        calx_insert_free(s);
    }
    if (rc == 0) {
        calx_update *u = calx_update_set(calx_update_new(&hero), "name", "x");
        calx_update_set(u, "age", H("team_id"));
        calx_update_from(u, &team);
        calx_update_where(u, calx_eq(H("team_id"), calx_col_named(&team, "id")));
        calx_update_where(u, calx_gt(H("id"), 1));
        calx_update_returning(u, H("id"));
        calx_compiled c;
        rc = calx__update_compile(u, &tiny, &c, err);
        if (!rc)
            calx__buf_printf(&all, "%s;", c.sql);
        calx__compiled_free(&c);
        calx_update_free(u);
    }
    if (rc == 0) {
        calx_delete *d = calx_delete_using(calx_delete_new(&hero), &team);
        calx_delete_where(d, calx_eq(H("team_id"), calx_col_named(&team, "id")));
        calx_delete_returning(d, H("id"));
        calx_compiled c;
        rc = calx__delete_compile(d, &tiny, &c, err);
        if (!rc)
            calx__buf_printf(&all, "%s", c.sql);
        calx__compiled_free(&c);
        calx_delete_free(d);
    }
    if (rc == 0) {
        *sql = calx__buf_take(&all);
        if (!*sql)
            rc = calx_error_set(err, CALX_ERR_NOMEM, "out of memory (the test's buffer)");
    }
    calx__buf_free(&all);
    return rc;
}

static void oom_attempt(void *arg, long k)
{
    const char *want = arg;
    calx_error err;
    char *sql = NULL;
    int rc = build_everything(&err, &sql);
    alloc_fail_stop();
    if (!(rc == CALX_ERR_NOMEM || (rc == 0 && strcmp(sql, want) == 0))) {
        fprintf(stderr, "  failing allocation %ld%s: rc %d %s\n", k, fail_rest ? " and after" : "",
                rc, rc ? err.message : sql);
        test_failed_now = 1;
    }
    free(sql);
}

/* Fails each allocation in turn (then each with all after it) while
 * building and compiling: every failure must come out as an error (never
 * a crash, and under ASan or valgrind never a leak), and a success must be
 * the full text. */
TEST(out_of_memory_anywhere_is_reported_and_leaks_nothing)
{
    calx_error err;
    char *want = NULL;
    CHECK_OK(build_everything(&err, &want), &err);
    CHECK_STR(want,
              "INSERT INTO hero (name, secret_name, age) VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT "
              "(id) DO UPDATE SET age = excluded.age WHERE hero.age < excluded.age RETURNING "
              "hero.id;"
              "INSERT INTO hero (name, secret_name, age) VALUES (?, ?, ?) ON CONFLICT (id) DO "
              "UPDATE SET age = excluded.age WHERE hero.age < excluded.age RETURNING hero.id;"
              "INSERT INTO hero_archive (id, name, secret_name, age, team_id) SELECT hero.id, "
              "hero.name, hero.secret_name, hero.age, hero.team_id \nFROM hero \nWHERE hero.id > "
              "?;"
              "UPDATE hero SET name=?, age=hero.team_id FROM team WHERE hero.team_id = team.id "
              "AND hero.id > ? RETURNING hero.id;"
              "DELETE FROM hero USING team WHERE hero.team_id = team.id RETURNING hero.id");
    for (int rest = 0; rest < 2; rest++)
        CHECK(alloc_fail_sweep(rest, oom_attempt, want) > 30);  /* it reached the builders */
    free(want);
}

/* ---- execution ---- */

static bool on_pg;

static calx_result *run(calx_future *f)
{
    calx_error err;
    calx_result *r = NULL;
    if (calx_wait(f, &r, &err)) {
        fprintf(stderr, "  failed: %s\n", err.message);
        test_failed_now = 1;
        return NULL;
    }
    return r;
}

/* Runs s (freed) and returns its rowcount, or -100 on failure. */
static int64_t ins(calx_insert *s)
{
    calx_error err;
    calx_result *r = run(calx_conn_execute_insert(conn, s, &err));
    if (!r && err.code)
        fprintf(stderr, "  insert: %s\n", err.message);
    calx_insert_free(s);
    int64_t n = r ? calx_result_rowcount(r) : -100;
    calx_result_free(r);
    return n;
}

static int64_t upd(calx_update *s)
{
    calx_error err;
    calx_result *r = run(calx_conn_execute_update(conn, s, &err));
    calx_update_free(s);
    int64_t n = r ? calx_result_rowcount(r) : -100;
    calx_result_free(r);
    return n;
}

static int64_t del(calx_delete *s)
{
    calx_error err;
    calx_result *r = run(calx_conn_execute_delete(conn, s, &err));
    calx_delete_free(s);
    int64_t n = r ? calx_result_rowcount(r) : -100;
    calx_result_free(r);
    return n;
}

/* The rows of q (freed), ordered by its first column, as "1:Deadpond:-|2:..."
 * with the columns given (by index, "-" for NULL). */
static const char *rows_of(calx_select *q, const int *cols, size_t ncols)
{
    static char out[4096];
    calx_select_order_by(q, calx_col(calx_select_table(q), 0), CALX_ASC);
    calx_error err;
    calx_result *r = run(calx_conn_execute_select(conn, q, &err));
    calx_select_free(q);
    size_t len = 0;
    out[0] = '\0';
    for (const calx_row *row; r && (row = calx_result_next(r)) && len < sizeof out - 64;) {
        if (len)
            len += (size_t)snprintf(out + len, sizeof out - len, "|");
        for (size_t k = 0; k < ncols; k++) {
            int c = cols[k];
            const calx_value *v = calx_row_value(row, c);
            const char *sep = k ? ":" : "";
            if (!v || v->type == CALX_NULL)
                len += (size_t)snprintf(out + len, sizeof out - len, "%s-", sep);
            else if (v->type == CALX_TEXT)
                len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", sep, v->u.s.ptr);
            else
                len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", sep,
                                        (long long)calx_row_int(row, c));
        }
    }
    calx_result_free(r);
    return out;
}
#define COLS(...) (const int[]){ __VA_ARGS__ }, sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int)
#define HEROES(...) rows_of(calx_select_new(&hero), COLS(__VA_ARGS__))

TEST(setup_database)
{
    on_pg = test_backend_pg();
    const calx_table *all[] = { &team, &hero, &archive, &hmlink, &gadget, &tag };
    sql_db_open(loop, dir, NULL, all, sizeof all / sizeof *all, false, NULL);
}

TEST(inserts_write_their_rows_and_report_them)
{
    if (!conn)
        SKIP("no connection: setup_database failed");
    /* One row at a time, keys from the database, RETURNING them. */
    const char *teams[][2] = { { "Preventers", "Sharp Tower" },
                               { "Z-Force", "Sister Margaret's Bar" } };
    for (int i = 0; i < 2; i++) {
        calx_insert *s = calx_insert_set(calx_insert_new(&team), "name", teams[i][0]);
        calx_insert_set(s, "headquarters", teams[i][1]);
        calx_insert_returning(s, calx_col_named(&team, "id"));
        calx_error err;
        calx_result *r = run(calx_conn_execute_insert(conn, s, &err));
        calx_insert_free(s);
        CHECK_INT(calx_result_rowcount(r), 1);
        CHECK_INT(calx_result_nrows(r), 1);
        CHECK_STR(calx_result_colname(r, 0), "id");
        CHECK_INT(calx_row_int(calx_result_first(r), 0), i + 1);
        calx_result_free(r);
    }
    /* Many rows in one statement, NULLs among them. */
    calx_insert *s = calx_insert_new(&hero);
    calx_insert_columns(s, NAMES("name", "secret_name", "age", "team_id"));
    calx_insert_row(s, ROW(calx_text("Deadpond"), calx_text("Dive Wilson"), calx_null(), calx_int(2)));
    calx_insert_row(s, ROW(calx_text("Rusty-Man"), calx_text("Tommy Sharp"), calx_int(48), calx_int(1)));
    calx_insert_row(s, ROW(calx_text("Spider-Boy"), calx_text("Pedro Parqueador"), calx_null(),
                           calx_null()));
    calx_insert_row(s, ROW(calx_text("Tarantula"), calx_text("Natalia Roman-on"), calx_int(32),
                           calx_int(1)));
    CHECK_INT(ins(s), 4);
    /* One row with explicit values and a default-less column left out. */
    s = calx_insert_set(calx_insert_new(&hero), "name", "Black Lion");
    calx_insert_set(s, "secret_name", "Trevor Challa");
    calx_insert_set(s, "age", 35);
    calx_insert_set(s, "team_id", 1);
    CHECK_INT(ins(s), 1);
    CHECK_STR(HEROES(0, 1, 3, 4), "1:Deadpond:-:2|2:Rusty-Man:48:1|3:Spider-Boy:-:-|"
                                  "4:Tarantula:32:1|5:Black Lion:35:1");
    /* Types convert on the way in. */
    s = calx_insert_new(&gadget);
    calx_insert_columns(s, NAMES("id", "label", "active", "score", "small"));
    calx_insert_row(s, ROW(calx_int(1), calx_text("on"), calx_int(1), calx_int(2), calx_real(3.0)));
    calx_insert_row(s, ROW(calx_int(2), calx_text("off"), calx_bool(false), calx_real(0.5),
                           calx_null()));
    CHECK_INT(ins(s), 2);
    calx_select *q = calx_select_where(calx_select_new(&gadget),
                                       calx_gt(calx_col_named(&gadget, "score"), 1));
    CHECK_STR(rows_of(q, COLS(0, 2, 6)), "1:1:3");
    /* A violated constraint is the database's IntegrityError. */
    s = calx_insert_set(calx_insert_new(&team), "id", 1);
    calx_insert_set(s, "name", "Dup");
    calx_insert_set(s, "headquarters", "x");
    calx_error err;
    CHECK(calx_wait(calx_conn_execute_insert(conn, s, &err), NULL, &err) == CALX_ERR_INTEGRITY);
    calx_insert_free(s);
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
    /* The rollback took every insert since the last commit: do them once
     * more, then commit. */
    CHECK_STR(HEROES(0), "");
}

/* The heroes and teams the later cases work on, committed. */
static void seed(void)
{
    calx_error err;
    calx_insert *s = calx_insert_new(&team);
    calx_insert_columns(s, NAMES("id", "name", "headquarters"));
    calx_insert_row(s, ROW(calx_int(1), calx_text("Preventers"), calx_text("Sharp Tower")));
    calx_insert_row(s, ROW(calx_int(2), calx_text("Z-Force"), calx_text("Sister Margaret's Bar")));
    CHECK_INT(ins(s), 2);
    s = calx_insert_new(&hero);
    calx_insert_columns(s, NAMES("id", "name", "secret_name", "age", "team_id"));
    calx_insert_row(s, ROW(calx_int(1), calx_text("Deadpond"), calx_text("Dive Wilson"),
                           calx_null(), calx_int(2)));
    calx_insert_row(s, ROW(calx_int(2), calx_text("Rusty-Man"), calx_text("Tommy Sharp"),
                           calx_int(48), calx_int(1)));
    calx_insert_row(s, ROW(calx_int(3), calx_text("Spider-Boy"), calx_text("Pedro Parqueador"),
                           calx_null(), calx_null()));
    calx_insert_row(s, ROW(calx_int(4), calx_text("Tarantula"), calx_text("Natalia Roman-on"),
                           calx_int(32), calx_int(1)));
    calx_insert_row(s, ROW(calx_int(5), calx_text("Black Lion"), calx_text("Trevor Challa"),
                           calx_int(35), calx_int(1)));
    calx_insert_row(s, ROW(calx_int(6), calx_text("Dr. Weird"), calx_text("Steve Weird"),
                           calx_int(36), calx_int(2)));
    CHECK_INT(ins(s), 6);
    s = calx_insert_new(&hmlink);
    calx_insert_columns(s, NAMES("hero_id", "mission_id", "is_leader"));
    calx_insert_row(s, ROW(calx_int(1), calx_int(1), calx_bool(true)));
    calx_insert_row(s, ROW(calx_int(2), calx_int(1), calx_bool(false)));
    calx_insert_row(s, ROW(calx_int(2), calx_int(2), calx_int(1)));
    calx_insert_row(s, ROW(calx_int(3), calx_int(2), calx_int(0)));
    CHECK_INT(ins(s), 4);
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
}

TEST(updates_change_the_rows_they_match_and_count_them)
{
    if (!conn)
        SKIP("no connection: setup_database failed");
    seed();
    /* The bulk update of the relationships tutorial. */
    CHECK_INT(upd(calx_update_where(calx_update_set(calx_update_new(&hero), "age", 16),
                                    calx_is_null(H("age")))),
              2);
    CHECK_STR(HEROES(0, 3), "1:16|2:48|3:16|4:32|5:35|6:36");
    /* age = age + 1, the arithmetic in the database. */
    CHECK_INT(upd(calx_update_where(calx_update_set(calx_update_new(&hero), "age",
                                                    calx_add(H("age"), 1)),
                                    calx_gt(H("age"), 30))),
              4);
    CHECK_STR(HEROES(0, 3), "1:16|2:49|3:16|4:33|5:36|6:37");
    /* Nothing matched: 0 rows, not an error. */
    CHECK_INT(upd(calx_update_where(calx_update_set(calx_update_new(&hero), "age", 1),
                                    calx_eq(H("id"), 99))),
              0);
    /* A value from another column of the row. */
    CHECK_INT(upd(calx_update_where(calx_update_set(calx_update_new(&hero), "age", H("team_id")),
                                    calx_eq(H("name"), "Deadpond"))),
              1);
    CHECK_STR(HEROES(0, 3), "1:2|2:49|3:16|4:33|5:36|6:37");
    /* NULL, and RETURNING the rows changed. */
    calx_update *s = calx_update_set(calx_update_new(&hero), "team_id", NULL);
    calx_update_where(s, calx_ge(H("age"), 35));
    calx_update_returning(s, H("id"));
    calx_update_returning(s, H("name"));
    calx_error err;
    calx_result *r = run(calx_conn_execute_update(conn, s, &err));
    calx_update_free(s);
    CHECK_INT(calx_result_rowcount(r), 3);
    CHECK_INT(calx_result_nrows(r), 3);
    CHECK_STR(calx_result_colname(r, 1), "name");
    int64_t sum = 0;
    for (const calx_row *row; (row = calx_result_next(r));)
        sum += calx_row_int(row, 0);
    CHECK_INT(sum, 2 + 5 + 6);
    calx_result_free(r);
    CHECK_STR(HEROES(0, 4), "1:2|2:-|3:-|4:1|5:-|6:-");
    /* UPDATE ... FROM, on both databases. */
    s = calx_update_set(calx_update_new(&hero), "secret_name", calx_col_named(&team, "headquarters"));
    calx_update_from(s, &team);
    calx_update_where(s, calx_eq(H("team_id"), calx_col_named(&team, "id")));
    CHECK_INT(upd(s), 2);
    CHECK_STR(HEROES(0, 2), "1:Sister Margaret's Bar|2:Tommy Sharp|3:Pedro Parqueador|"
                            "4:Sharp Tower|5:Trevor Challa|6:Steve Weird");
    /* Booleans. */
    s = calx_update_set(calx_update_new(&hmlink), "is_leader", 1);
    calx_update_where(s, calx_not(calx_col_named(&hmlink, "is_leader")));
    CHECK_INT(upd(s), 2);
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
    CHECK_STR(HEROES(0, 3), "1:-|2:48|3:-|4:32|5:35|6:36");
}

TEST(deletes_remove_the_rows_they_match_and_count_them)
{
    if (!conn)
        SKIP("no connection: setup_database failed");
    calx_error err;
    /* The bulk delete of the relationships tutorial. */
    CHECK_INT(del(calx_delete_where(calx_delete_new(&hmlink),
                                    calx_not(calx_col_named(&hmlink, "is_leader")))),
              2);
    calx_delete *s = calx_delete_where(calx_delete_new(&hmlink), calx_eq(calx_col_named(&hmlink, "hero_id"), 2));
    calx_delete_returning(s, calx_col_named(&hmlink, "mission_id"));
    calx_result *r = run(calx_conn_execute_delete(conn, s, &err));
    calx_delete_free(s);
    CHECK_INT(calx_result_rowcount(r), 1);
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 2);
    calx_result_free(r);
    CHECK_STR(rows_of(calx_select_new(&hmlink), COLS(0, 1)), "1:1");
    CHECK_INT(del(calx_delete_where(calx_delete_new(&hero), calx_eq(H("id"), 99))), 0);
    /* No WHERE: every row. */
    CHECK_INT(del(calx_delete_new(&hmlink)), 1);
    /* DELETE ... USING on PostgreSQL; an error naming SQLite there, with
     * nothing run. */
    s = calx_delete_using(calx_delete_new(&hero), &team);
    calx_delete_where(s, calx_eq(H("team_id"), calx_col_named(&team, "id")));
    calx_delete_where(s, calx_eq(calx_col_named(&team, "name"), "Z-Force"));
    if (on_pg) {
        CHECK_INT(del(s), 2);
        CHECK_STR(HEROES(0), "2|3|4|5");
    } else {
        CHECK(calx_conn_execute_delete(conn, s, &err) == NULL);
        CHECK_INT(err.code, CALX_ERR_NOT_SUPPORTED);
        CHECK_CONTAINS(err.message, "SQLite does not support DELETE ... USING");
        calx_delete_free(s);
    }
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
    CHECK_STR(HEROES(0), "1|2|3|4|5|6");
}

TEST(upserts_insert_skip_or_update_on_both_databases)
{
    if (!conn)
        SKIP("no connection: setup_database failed");
    calx_error err;
    /* DO NOTHING: the new team goes in, the existing name is skipped. */
    calx_insert *s = calx_insert_new(&team);
    calx_insert_columns(s, NAMES("id", "name", "headquarters"));
    calx_insert_row(s, ROW(calx_int(3), calx_text("Preventers"), calx_text("Elsewhere")));
    calx_insert_row(s, ROW(calx_int(4), calx_text("Avengers"), calx_text("Tower")));
    calx_insert_on_conflict_do_nothing(s, NAMES("name"));
    calx_insert_returning(s, calx_col_named(&team, "id"));
    calx_result *r = run(calx_conn_execute_insert(conn, s, &err));
    calx_insert_free(s);
    CHECK_INT(calx_result_rowcount(r), 1);
    CHECK_INT(calx_result_nrows(r), 1);
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 4);
    calx_result_free(r);
    /* DO UPDATE from the proposed row, where the condition holds. */
    s = calx_insert_new(&hero);
    calx_insert_columns(s, NAMES("id", "name", "secret_name", "age"));
    calx_insert_row(s, ROW(calx_int(2), calx_text("Rusty-Man"), calx_text("T. Sharp"), calx_int(49)));
    calx_insert_row(s, ROW(calx_int(4), calx_text("Tarantula"), calx_text("N. R."), calx_int(20)));
    calx_insert_row(s, ROW(calx_int(7), calx_text("Captain North America"),
                           calx_text("Esteban Rogelios"), calx_int(93)));
    calx_insert_on_conflict_do_update(s, NAMES("id"));
    calx_insert_on_conflict_set(s, "secret_name", calx_excluded(&hero, "secret_name"));
    calx_insert_on_conflict_set(s, "age", calx_add(H("age"), calx_excluded(&hero, "age")));
    calx_insert_on_conflict_where(s, calx_lt(H("age"), calx_excluded(&hero, "age")));
    /* Hero 2 updated (48 < 49: 48 + 49), hero 4 left (32 > 20), hero 7
     * new. */
    CHECK_INT(ins(s), 2);
    CHECK_STR(HEROES(0, 2, 3), "1:Dive Wilson:-|2:T. Sharp:97|3:Pedro Parqueador:-|"
                               "4:Natalia Roman-on:32|5:Trevor Challa:35|6:Steve Weird:36|"
                               "7:Esteban Rogelios:93");
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
}

TEST(correlated_subqueries_update_and_delete_on_both_databases)
{
    if (!conn)
        SKIP("no connection: setup_database failed");
    calx_error err;
    /* Each hero's secret name becomes its team's headquarters. */
    calx_select *q = calx_select_columns(calx_col_named(&team, "headquarters"));
    calx_select_where(q, calx_eq(calx_col_named(&team, "id"), H("team_id")));
    calx_update *u = calx_update_set(calx_update_new(&hero), "secret_name", calx_scalar_subquery(q));
    calx_update_where(u, calx_is_not_null(H("team_id")));
    CHECK_INT(upd(u), 5);
    CHECK_STR(HEROES(0, 2), "1:Sister Margaret's Bar|2:Sharp Tower|3:Pedro Parqueador|"
                            "4:Sharp Tower|5:Sharp Tower|6:Sister Margaret's Bar");
    /* Z-Force's heroes go (after their links), then the teams left
     * without a hero over 40. */
    CHECK_INT(del(calx_delete_new(&hmlink)), 4);
    q = calx_select_columns(calx_col_named(&team, "id"));
    calx_select_where(q, calx_eq(calx_col_named(&team, "name"), "Z-Force"));
    CHECK_INT(del(calx_delete_where(calx_delete_new(&hero), calx_in_select(H("team_id"), q))), 2);
    q = calx_select_columns(H("id"));
    calx_select_where(q, calx_eq(H("team_id"), calx_col_named(&team, "id")));
    calx_select_where(q, calx_gt(H("age"), 40));
    CHECK_INT(del(calx_delete_where(calx_delete_new(&team), calx_not(calx_exists(q)))), 1);
    CHECK_STR(rows_of(calx_select_new(&team), COLS(0, 1)), "1:Preventers");
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
}

TEST(insert_from_select_copies_the_rows_the_query_reads)
{
    if (!conn)
        SKIP("no connection: setup_database failed");
    calx_error err;
    calx_insert *s = calx_insert_new(&archive);
    calx_insert_from_select(s, NAMES("id", "name", "secret_name", "age", "team_id"),
                            calx_select_where(calx_select_new(&hero), calx_gt(H("age"), 33)));
    CHECK_INT(ins(s), 3);
    CHECK_STR(rows_of(calx_select_new(&archive), COLS(0, 1)), "2:Rusty-Man|5:Black Lion|6:Dr. Weird");
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
}

/* More rows than one statement may bind, at the real limits (32766 on
 * SQLite, 65535 on PostgreSQL): 4 values a row, 16,400 rows. */
TEST(a_split_insert_runs_in_one_request_and_sums_what_it_did)
{
    if (!conn)
        SKIP("no connection: setup_database failed");
    enum { N = 16400 };
    calx_error err;
    calx_insert *s = calx_insert_new(&tag);
    calx_insert_columns(s, NAMES("id", "label", "n", "odd"));
    for (int i = 1; i <= N; i++) {
        char label[24];
        snprintf(label, sizeof label, "tag-%d", i);
        calx_insert_row(s, ROW(calx_int(i), calx_text(label), calx_int(i * 2), calx_int(i % 2)));
    }
    calx_insert_returning(s, calx_col_named(&tag, "id"));
    calx_compiled_list l;
    CHECK_OK(calx__insert_compile(s, calx_conn_engine(conn)->dialect, &l, &err), &err);
    /* SQLite: 8191 rows a statement, twice, and 18; PostgreSQL: 16383
     * once, and 17. */
    CHECK_INT(l.n, 2);
    CHECK_INT(l.n ? l.parts[0].nsets : 0, on_pg ? 1 : 2);
    calx__compiled_list_free(&l);
    calx_pg_stats before = { 0 }, after = { 0 };
    if (on_pg)
        calx__pg_conn_stats(calx__conn_dconn(conn), &before);
    calx_result *r = run(calx_conn_execute_insert(conn, s, &err));
    calx_insert_free(s);
    if (on_pg) {
        calx__pg_conn_stats(calx__conn_dconn(conn), &after);
        CHECK_INT(after.round_trips - before.round_trips, 1);
    }
    CHECK_INT(calx_result_rowcount(r), N);
    CHECK_INT(calx_result_nrows(r), N);
    CHECK(!calx_result_nextset(r));
    /* Every key came back once. */
    static bool seen[N + 1];
    memset(seen, 0, sizeof seen);
    size_t distinct = 0;
    for (const calx_row *row; (row = calx_result_next(r));) {
        int64_t id = calx_row_int(row, 0);
        if (id >= 1 && id <= N && !seen[id]) {
            seen[id] = true;
            distinct++;
        }
    }
    CHECK_INT(distinct, N);
    calx_result_free(r);
    calx_select *q = calx_select_where(calx_select_new(&tag),
                                       calx_in(calx_col_named(&tag, "id"), calx_int(1),
                                               calx_int(8191), calx_int(8192), calx_int(N)));
    CHECK_STR(rows_of(q, COLS(0, 1, 2, 3)),
              "1:tag-1:2:1|8191:tag-8191:16382:1|8192:tag-8192:16384:0|16400:tag-16400:32800:0");
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
    /* A failure in a later part: the earlier rows went in, the request
     * failed naming the part; a rollback takes them back. */
    s = calx_insert_new(&tag);
    calx_insert_columns(s, NAMES("id", "label", "n", "odd"));
    for (int i = 1; i <= N; i++)
        calx_insert_row(s, ROW(calx_int(N + i - (i == N ? N : 0)), calx_text("x"), calx_int(i),
                               calx_int(0)));
    CHECK_INT(calx_wait(calx_conn_execute_insert(conn, s, &err), NULL, &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "statement 2 of 2");
    calx_insert_free(s);
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
    q = calx_select_where(calx_select_new(&tag), calx_gt(calx_col_named(&tag, "id"), N));
    CHECK_STR(rows_of(q, COLS(0)), "");
}

TEST(statements_fail_before_running_when_they_cannot_be_compiled)
{
    if (!conn)
        SKIP("no connection: setup_database failed");
    calx_error err;
    CHECK_OK(calx_wait(calx_conn_rollback(conn, &err), NULL, &err), &err);
    calx_update *u = calx_update_set(calx_update_new(&hero), "age", "x");
    CHECK(calx_conn_execute_update(conn, u, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_TYPE);
    CHECK(!calx_conn_in_transaction(conn));   /* nothing ran: no autobegin */
    calx_update_free(u);
    CHECK(calx_conn_execute_insert(conn, NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_NOMEM);
    CHECK(calx_conn_execute_update(NULL, NULL, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_CLOSED);
    calx_delete *d = calx_delete_new(&hero);
    CHECK(calx_conn_execute_delete(NULL, d, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_CLOSED);
    calx_delete_free(d);
}

TEST(teardown_database)
{
    sql_db_close(loop, false);
    test_backend_cleanup();
}

/* A batch's later statements' rows under out of memory: with allocation
 * k failing, the batch either fails with CALX_ERR_NOMEM or every
 * statement's rows are there, never a set that reads as empty. */
static void batch_attempt(void *arg, long k)
{
    (void)arg;
    (void)k;
    calx_error err;
    const calx_stmt st[2] = { { .sql = "SELECT 1 UNION ALL SELECT 2" },
                              { .sql = "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3" } };
    calx_result *r = NULL;
    int rc = calx_wait(calx_conn_execute_batch(conn, st, 2, &err), &r, &err);
    size_t first = rc ? 0 : calx_result_nrows(r);
    bool next = !rc && calx_result_nextset(r);
    size_t second = next ? calx_result_nrows(r) : 0;
    alloc_fail_stop();
    if (rc) {
        CHECK_INT(rc, CALX_ERR_NOMEM);
    } else {
        CHECK_INT(first, 2);
        CHECK(next);
        CHECK_INT(second, 3);
    }
    calx_result_free(r);
    calx_error ignored;
    calx_wait(calx_conn_rollback(conn, &ignored), NULL, &ignored);
}

TEST(a_batch_that_runs_out_of_memory_fails_or_gives_every_statement_its_rows)
{
    if (!conn)
        SKIP("no connection: setup_database failed");
    /* The sweep reached allocations of the batch: two at the fewest, its
     * operation's arrays (one block) and the result's row index; the
     * operation, the rowsets and a PostgreSQL connection's rowset slots
     * are kept from the sweep's earlier attempts. */
    for (int rest = 0; rest < 2; rest++)
        CHECK(alloc_fail_sweep(rest, batch_attempt, NULL) >= 2);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_dml");
    RUN(an_insert_of_one_row_renders_as_sqlalchemy);
    RUN(many_rows_render_one_values_list);
    RUN(rows_beyond_the_parameter_limit_split_into_full_statements_and_a_rest);
    RUN(insert_from_a_select);
    RUN(upserts_render_alike_on_both_dialects);
    RUN(updates_render_as_sqlalchemy);
    RUN(deletes_render_as_sqlalchemy);
    RUN(subqueries_correlate_to_the_statement);
    RUN(errors_name_the_cause);
    RUN(the_flush_gets_its_statements_from_the_sql_layer);
    RUN(the_flush_orders_tables_as_create_all_does);
    RUN(out_of_memory_anywhere_is_reported_and_leaks_nothing);
    RUN(setup_database);
    RUN(inserts_write_their_rows_and_report_them);
    RUN(updates_change_the_rows_they_match_and_count_them);
    RUN(deletes_remove_the_rows_they_match_and_count_them);
    RUN(upserts_insert_skip_or_update_on_both_databases);
    RUN(correlated_subqueries_update_and_delete_on_both_databases);
    RUN(insert_from_select_copies_the_rows_the_query_reads);
    RUN(a_split_insert_runs_in_one_request_and_sums_what_it_did);
    RUN(a_batch_that_runs_out_of_memory_fails_or_gives_every_statement_its_rows);
    RUN(statements_fail_before_running_when_they_cannot_be_compiled);
    RUN(teardown_database);
    calx_loop_free(loop);
    return TEST_REPORT();
}
