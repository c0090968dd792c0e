/* SPDX-License-Identifier: MIT */
/* Parameters typed as the column they meet, on a real PostgreSQL server
 * (issue 16's B6, issue 11's arrays): an integer compared with an INTEGER
 * column goes as int4, so that PostgreSQL can hash an IN list (int4 = int8
 * has no common hash function: every row would be compared with every
 * key); an array meeting an array column goes in binary as the column's
 * array type. What the server was told is read back from
 * pg_prepared_statements.parameter_types, on the one connection the
 * engine's pool holds; for a statement that streams (a cursor, never a
 * prepared statement), from the driver's count of what it sent.
 *
 * Needs CALX_TEST_PG_URL (make test starts a server); without it every
 * case is skipped. Each run works in a schema of its own. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "calx.h"
#include "driver/postgres.h"
#include "engine/engine_int.h"
#include "test.h"

#define PtTeam_FIELDS(F, M)                                                   \
    F(M, id,   OPT_INT32, NONE,     .primary_key = true)                      \
    F(M, name, TEXT,      REQUIRED)
#define PtTeam_RELATIONS(R, M)                                                \
    R(M, heroes, PtHero, ONE_TO_MANY, .back_populates = "team", .order_by = "id")

#define PtHero_FIELDS(F, M)                                                   \
    F(M, id,      OPT_INT32, NONE,     .primary_key = true)                   \
    F(M, name,    TEXT,      REQUIRED)                                        \
    F(M, team_id, OPT_INT32, NONE,     .foreign_key = "pt_team.id")
#define PtHero_RELATIONS(R, M)                                                \
    R(M, team, PtTeam, MANY_TO_ONE, .back_populates = "heroes")

CALX_MODEL_WITH_RELATIONS(PtTeam, "pt_team")
CALX_MODEL_WITH_RELATIONS(PtHero, "pt_hero")
CALX_MODEL_DEFINE_WITH_RELATIONS(PtTeam, "pt_team")
CALX_MODEL_DEFINE_WITH_RELATIONS(PtHero, "pt_hero")

/* A Core table: an INTEGER key, a BIGINT, and arrays of INTEGER and TEXT. */
static const calx_column tag_columns[] = {
    { .name = "id", .type = CALX_COL_INT32, .primary_key = true },
    { .name = "big", .type = CALX_COL_INT64, .nullable = true },
    { .name = "nums", .type = CALX_COL_ARRAY, .array_of = CALX_COL_INT32, .nullable = true },
    { .name = "words", .type = CALX_COL_ARRAY, .array_of = CALX_COL_TEXT, .nullable = true },
};
static const calx_table tags = { "pt_tags", tag_columns, 4, NULL };
enum { TAG_ID, TAG_BIG, TAG_NUMS, TAG_WORDS };

static calx_loop *loop;
static calx_engine *engine;
static calx_error err;
static char url[2048];

/* ---- helpers ---- */

/* The parameter types of the prepared statements whose text is LIKE
 * pattern, in the order they were prepared, joined by " ": "{integer}
 * {double precision}". Read on the pool's one connection, where the
 * statements were prepared. */
static void prepared_types(const char *pattern, char *out, size_t n)
{
    out[0] = '\0';
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(engine, &err), &c, &err), &err);
    if (!c)
        return;
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c,
                                         "SELECT parameter_types::text FROM "
                                         "pg_prepared_statements WHERE statement LIKE ? "
                                         "ORDER BY prepare_time",
                                         CALX_PARAMS(CALX_V(calx_text(pattern))), &err),
                       &r, &err),
             &err);
    for (size_t i = 0; r && i < calx_result_nrows(r); i++) {
        const calx_value *v = calx_row_value(calx_result_row(r, i), 0);
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%.*s", i ? " " : "", (int)v->u.s.len, v->u.s.ptr);
    }
    calx_result_free(r);
    calx_conn_close(c);
    calx_loop_run(loop);
}

/* Runs q on a connection of the engine: its rows' first column as
 * integers into ids (at most max), and how many rows there were; -1 with
 * err set when it failed. q is freed. */
static long select_ids(calx_select *q, long *ids, size_t max)
{
    calx_connection *c = NULL;
    long n = -1;
    if (calx_wait(calx_engine_connect(engine, &err), &c, &err) == 0) {
        calx_result *r = NULL;
        if (calx_wait(calx_conn_execute_select(c, q, &err), &r, &err) == 0) {
            n = (long)calx_result_nrows(r);
            for (long i = 0; i < n && (size_t)i < max; i++)
                ids[i] = (long)calx_row_value(calx_result_row(r, (size_t)i), 0)->u.i;
        }
        calx_result_free(r);
        calx_conn_close(c);
        calx_loop_run(loop);
    }
    calx_select_free(q);
    return n;
}

/* SELECT pt_tags.id, ... FROM pt_tags WHERE cond ORDER BY pt_tags.id. */
static calx_select *tags_where(calx_expr *cond)
{
    calx_select *q = calx_select_new(&tags);
    calx_select_where(q, cond);
    return calx_select_order_by(q, calx_col(&tags, TAG_ID), CALX_ASC);
}

static void insert_tag(int id, calx_value big, calx_value nums, calx_value words)
{
    calx_insert *s = calx_insert_new(&tags);
    calx_insert_value(s, "id", calx_lit(calx_int(id)));
    calx_insert_value(s, "big", calx_lit(big));
    calx_insert_value(s, "nums", calx_lit(nums));
    calx_insert_value(s, "words", calx_lit(words));
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(engine, &err), &c, &err), &err);
    if (c) {
        CHECK_OK(calx_wait(calx_conn_execute_insert(c, s, &err), NULL, &err), &err);
        CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
        calx_conn_close(c);
        calx_loop_run(loop);
    }
    calx_insert_free(s);
}

/* ---- the ORM's statements ---- */

/* Three teams of two heroes each, committed. */
static void *add_teams(void *arg)
{
    (void)arg;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    for (int t = 1; t <= 3; t++) {
        char name[16];
        snprintf(name, sizeof name, "team %d", t);
        PtTeam *team = CALX_NEW(PtTeam, &err, .id = CALX_SOME(t), .name = name);
        CHECK_OK(calx_session_add(s, team, &err), &err);
        for (int h = 0; h < 2; h++) {
            snprintf(name, sizeof name, "hero %d", 2 * t + h);
            PtHero *hero = CALX_NEW(PtHero, &err, .id = CALX_SOME(2 * t + h), .name = name,
                                    .team_id = CALX_SOME(t));
            CHECK_OK(calx_session_add(s, hero, &err), &err);
        }
    }
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
    return NULL;
}

static void *load_teams_with_heroes(void *arg)
{
    (void)arg;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    calx_select *q = calx_select_new(CALX_TABLE(PtTeam));
    calx_loader selectin[] = { CALX_SELECTINLOAD(CALX_REL(PtTeam, heroes)) };
    calx_exec_opts o = { .loaders = selectin, .nloaders = 1 };
    calx_objlist l = { 0 };
    CHECK_OK(calx_session_execute(s, q, &o, &l, &err), &err);
    CHECK_INT(l.n, 3);
    for (size_t i = 0; i < l.n; i++) {
        PtTeam *t = l.items[i];
        CHECK_INT(t->heroes.n, 2);
        for (size_t k = 0; k < t->heroes.n; k++)
            CHECK_INT(((PtHero *)t->heroes.items[k])->team_id.value, t->id.value);
    }
    calx_objlist_free(&l);
    calx_select_free(q);
    calx_session_free(s);
    return NULL;
}

static void *get_hero(void *arg)
{
    (void)arg;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    PtHero *h = NULL;
    CHECK_OK(CALX_GET(s, PtHero, calx_int(3), &h, &err), &err);
    CHECK(h && !strcmp(h->name, "hero 3"));
    calx_session_free(s);
    return NULL;
}

static void in_task(void *(*fn)(void *))
{
    calx_error e;
    CHECK_OK(calx_wait(calx_spawn(loop, fn, NULL, NULL, &e), NULL, &e), &e);
}

/* The counters of the pool's one connection. */
static calx_pg_stats pool_stats(void)
{
    calx_pg_stats st = { 0 };
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(engine, &err), &c, &err), &err);
    if (!c)
        return st;
    calx__pg_conn_stats(calx__conn_dconn(c), &st);
    calx_conn_close(c);
    calx_loop_run(loop);
    return st;
}

TEST(a_selectinload_sends_the_keys_of_its_in_list_as_int4_to_an_integer_column)
{
    in_task(add_teams);
    calx_pg_stats before = pool_stats();
    in_task(load_teams_with_heroes);
    calx_pg_stats after = pool_stats();
    /* The teams' SELECT has no parameters; the heroes' IN list has the
     * three teams' keys, and its rows stream (a cursor), so they are
     * counted as the driver sent them. int8 keys would leave PostgreSQL no
     * hash for the IN list. */
    CHECK_INT(after.int4_params - before.int4_params, 3);
    CHECK_INT(after.int8_params - before.int8_params, 0);
}

/* After the first case's flush: its INSERTs took their INTEGER columns'
 * values as int4 (the names as text, typed by the server: unknown). */
TEST(a_flush_sends_the_values_of_integer_columns_as_int4)
{
    char types[1024];
    prepared_types("INSERT INTO pt_hero %", types, sizeof types);
    CHECK_CONTAINS(types, "integer");
    CHECK(!strstr(types, "bigint"));
    prepared_types("INSERT INTO pt_team %", types, sizeof types);
    CHECK_CONTAINS(types, "integer");
    CHECK(!strstr(types, "bigint"));
}

TEST(a_get_by_key_sends_an_integer_key_as_int4)
{
    in_task(get_hero);
    char types[256];
    prepared_types("%FROM pt_hero %WHERE pt_hero.id = $1", types, sizeof types);
    CHECK_STR(types, "{integer}");
}

static void *load_team_of_hero(void *arg)
{
    (void)arg;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    PtHero *h = NULL;
    CHECK_OK(CALX_GET(s, PtHero, calx_int(5), &h, &err), &err);
    CHECK_OK(calx_session_load(s, h, CALX_REL(PtHero, team), &err), &err);
    CHECK(h->team && h->team->id.value == 2);
    calx_session_free(s);
    return NULL;
}

/* Runs fn twice, then checks that the statement LIKE pattern was
 * prepared with the parameter types want: a load the server keeps
 * prepared, not a cursor (parsed and planned every time). */
static void check_prepared_after(void *(*fn)(void *), const char *pattern, const char *want)
{
    in_task(fn);
    in_task(fn);
    char types[256];
    prepared_types(pattern, types, sizeof types);
    CHECK_STR(types, want);
}

TEST(a_lazy_load_of_one_object_is_a_prepared_statement_not_a_cursor)
{
    /* One owner's load, as a web handler's per request. */
    check_prepared_after(load_team_of_hero, "%FROM pt_team %WHERE pt_team.id = $1", "{integer}");
}

static void *load_teams_of_heroes(void *arg)
{
    (void)arg;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, &err);
    calx_select *q = calx_select_new(CALX_TABLE(PtHero));
    calx_objlist l = { 0 };
    CHECK_OK(calx_session_execute(s, q, NULL, &l, &err), &err);
    CHECK_INT(l.n, 6);
    CHECK_OK(calx_session_load_many(s, l.items, l.n, CALX_REL(PtHero, team), &err), &err);
    for (size_t i = 0; i < l.n; i++) {
        PtHero *h = l.items[i];
        CHECK(h->team && h->team->id.value == h->team_id.value);
    }
    calx_objlist_free(&l);
    calx_select_free(q);
    calx_session_free(s);
    return NULL;
}

TEST(a_list_of_many_to_ones_is_a_prepared_statement_not_a_cursor)
{
    /* A row a key at most: nothing to stream, as one object's load. */
    check_prepared_after(load_teams_of_heroes, "%FROM pt_team %WHERE pt_team.id IN (%",
                         "{integer,integer,integer}");
}

/* ---- Core ---- */

TEST(core_comparisons_bind_as_their_columns_int4_for_integer_and_int8_for_bigint)
{
    insert_tag(1, calx_int(10), calx_null(), calx_null());
    long ids[4];
    calx_expr *both[] = { calx_eq(calx_col(&tags, TAG_ID), 1),
                          calx_eq(calx_col(&tags, TAG_BIG), 10) };
    CHECK_INT(select_ids(tags_where(calx_and_n(both, 2)), ids, 4), 1);
    CHECK_INT(ids[0], 1);
    char types[256];
    prepared_types("%WHERE pt_tags.id = $1 AND pt_tags.big = $2%", types, sizeof types);
    CHECK_STR(types, "{integer,bigint}");
}

TEST(one_text_run_with_an_integer_and_then_a_real_is_prepared_once_for_each_type)
{
    insert_tag(2, calx_null(), calx_null(), calx_null());
    long ids[4];
    CHECK_INT(select_ids(tags_where(calx_ge(calx_col(&tags, TAG_ID), 2)), ids, 4), 1);
    /* The same text: a statement prepared for int4 must not take a real. */
    CHECK_INT(select_ids(tags_where(calx_ge(calx_col(&tags, TAG_ID), 0.5)), ids, 4), 2);
    CHECK_INT(ids[0], 1);
    CHECK_INT(select_ids(tags_where(calx_ge(calx_col(&tags, TAG_ID), 2)), ids, 4), 1);
    char types[256];
    prepared_types("%WHERE pt_tags.id >= $1 ORDER BY%", types, sizeof types);
    CHECK_STR(types, "{integer} {\"double precision\"}");
}

TEST(an_integer_beyond_int4_meeting_an_integer_column_is_a_data_error_naming_the_parameter)
{
    long ids[4];
    calx_expr *both[] = { calx_eq(calx_col(&tags, TAG_BIG), 1),
                          calx_eq(calx_col(&tags, TAG_ID), 3000000000LL) };
    CHECK_INT(select_ids(tags_where(calx_and_n(both, 2)), ids, 4), -1);
    CHECK_INT(err.code, CALX_ERR_DATA);
    CHECK_CONTAINS(err.message, "parameter 2 is 3000000000");
    CHECK_CONTAINS(err.message, "INTEGER column");
    /* Nothing was sent: the pool's connection goes on. */
    CHECK_INT(select_ids(tags_where(calx_eq(calx_col(&tags, TAG_ID), 1)), ids, 4), 1);
}

TEST(an_array_meeting_an_array_column_goes_in_binary_as_the_columns_array_type)
{
    calx_value nums[] = { calx_int(7), calx_null(), calx_int(-2147483647 - 1) };
    calx_value words[] = { calx_text("a,b"), calx_text("quote \" and \\ back"), calx_text(""),
                           calx_text("NULL") };
    insert_tag(3, calx_null(), calx_value_array(CALX_INT, nums, 3),
               calx_value_array(CALX_TEXT, words, 4));
    insert_tag(4, calx_null(), calx_value_array(CALX_INT, NULL, 0),
               calx_value_array(CALX_TEXT, NULL, 0));
    char types[256];
    prepared_types("INSERT INTO pt_tags %", types, sizeof types);
    CHECK_STR(types, "{integer,bigint,integer[],\"character varying[]\"}");

    /* What the server stored is what was sent, texts byte for byte. */
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(engine, &err), &c, &err), &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c,
                                         "SELECT array_to_string(nums, '|', '~'), "
                                         "array_to_string(words, '|'), cardinality(words) "
                                         "FROM pt_tags WHERE id = 3",
                                         NULL, &err),
                       &r, &err),
             &err);
    if (r && calx_result_nrows(r) == 1) {
        const calx_row *row = calx_result_row(r, 0);
        CHECK_STR(calx_row_value(row, 0)->u.s.ptr, "7|~|-2147483648");
        CHECK_STR(calx_row_value(row, 1)->u.s.ptr, "a,b|quote \" and \\ back||NULL");
        CHECK_INT(calx_row_value(row, 2)->u.i, 4);
    } else {
        CHECK(!"row 3 read back");
    }
    calx_result_free(r);
    calx_conn_close(c);
    calx_loop_run(loop);

    /* @> and ANY take the column's array and element types. */
    long ids[4];
    calx_value want[] = { calx_int(-2147483647 - 1) };
    CHECK_INT(select_ids(tags_where(calx_array_contains(calx_col(&tags, TAG_NUMS),
                                                        calx_value_array(CALX_INT, want, 1))),
                         ids, 4),
              1);
    CHECK_INT(ids[0], 3);
    calx_value word[] = { calx_text("quote \" and \\ back") };
    CHECK_INT(select_ids(tags_where(calx_array_contains(calx_col(&tags, TAG_WORDS),
                                                        calx_value_array(CALX_TEXT, word, 1))),
                         ids, 4),
              1);
    CHECK_INT(select_ids(tags_where(calx_any(calx_lit(calx_int(7)), calx_col(&tags, TAG_NUMS))),
                         ids, 4),
              1);
    CHECK_INT(ids[0], 3);
    prepared_types("%WHERE (pt_tags.nums @> $1)%", types, sizeof types);
    CHECK_STR(types, "{integer[]}");
    prepared_types("%WHERE (pt_tags.words @> $1)%", types, sizeof types);
    CHECK_STR(types, "{\"character varying[]\"}");
    prepared_types("%WHERE $1 = ANY (pt_tags.nums)%", types, sizeof types);
    CHECK_STR(types, "{integer}");
}

TEST(an_array_element_beyond_int4_is_a_data_error_naming_the_parameter_and_the_element)
{
    long ids[4];
    calx_value nums[] = { calx_int(1), calx_int(1LL << 40) };
    CHECK_INT(select_ids(tags_where(calx_array_contains(calx_col(&tags, TAG_NUMS),
                                                        calx_value_array(CALX_INT, nums, 2))),
                         ids, 4),
              -1);
    CHECK_INT(err.code, CALX_ERR_DATA);
    CHECK_CONTAINS(err.message, "parameter 1, array element 2, is 1099511627776");
}

TEST(sql_text_parameters_are_still_typed_from_their_values)
{
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(engine, &err), &c, &err), &err);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT id FROM pt_tags WHERE id = ? -- text",
                                         CALX_PARAMS(CALX_V(calx_int(1))), &err),
                       &r, &err),
             &err);
    CHECK_INT(r ? calx_result_nrows(r) : 0, 1);
    calx_result_free(r);
    calx_conn_close(c);
    calx_loop_run(loop);
    char types[256];
    prepared_types("%WHERE id = $1 -- text", types, sizeof types);
    /* Text has no column to go by: a bare integer is an int8. */
    CHECK_STR(types, "{bigint}");
}

/* A program may run in a German locale, where the C library writes 1.5
 * as "1,5" and reads "1.5" as 1. What calx sends (an array of reals whose
 * type the text leaves open goes as text: '{1.5,2.25}') and what it reads
 * in text (all of a result whose columns calx cannot all read in binary:
 * the point here) keep their fractions there. */
TEST(in_a_german_locale_reals_go_and_come_back_with_their_fractions)
{
    const char *why = test_locale_enter(test_tmpdir("test_pg_param_types"), "de_DE",
                                        "de_DE.UTF-8");
    if (why)
        SKIP(why);
    char printed[32];
    snprintf(printed, sizeof printed, "%g", 1.5);
    bool bites = strcmp(printed, "1.5") != 0;   /* what calx must not use */
    calx_connection *c = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(engine, &err), &c, &err), &err);
    calx_value xs[] = { calx_real(1.5), calx_real(2.25) };
    /* Twice: as it runs first, and prepared. */
    for (int run = 0; run < 2 && c; run++) {
        calx_result *r = NULL;
        CHECK_OK(calx_wait(calx_conn_execute(c,
                                             "SELECT cardinality(CAST(? AS FLOAT8[])) AS n, "
                                             "(CAST(? AS FLOAT8[]))[2] AS second, "
                                             "CAST(1.5 AS FLOAT8) AS d, CAST(0.25 AS REAL) AS f, "
                                             "CAST('(1,2)' AS POINT) AS p",
                                             CALX_PARAMS(CALX_V(calx_value_array(CALX_REAL, xs, 2)),
                                                         CALX_V(calx_value_array(CALX_REAL, xs, 2))),
                                             &err),
                           &r, &err),
                 &err);
        const calx_row *row = r ? calx_result_first(r) : NULL;
        CHECK(row != NULL);
        if (row) {
            CHECK_INT(calx_row_int(row, 0), 2);
            CHECK(calx_row_real(row, 1) == 2.25);
            CHECK(calx_row_real(row, 2) == 1.5);
            CHECK(calx_row_real(row, 3) == 0.25);
        }
        calx_result_free(r);
    }
    calx_conn_close(c);
    calx_loop_run(loop);
    test_locale_leave();
    if (!bites)
        SKIP("this C library writes '.' as the decimal point in de_DE.UTF-8: nothing to tell apart");
}

/* url with "options=-csearch_path=<schema>" added. */
static void url_in_schema(const char *base, const char *schema)
{
    snprintf(url, sizeof url, "%s%soptions=-csearch_path%%3D%s", base,
             strchr(base, '?') ? "&" : "?", schema);
}

int main(void)
{
    const char *base = getenv("CALX_TEST_PG_URL");
    if (!base || !*base) {
        printf("skipped: CALX_TEST_PG_URL not set\n");
        return 77;
    }
    loop = calx_loop_new(NULL, &err);
    char schema[64];
    snprintf(schema, sizeof schema, "calx_ptypes_%d", (int)getpid());
    /* The schema, made on an engine of the server's default search path. */
    calx_engine *admin = calx_create_engine(base, &(calx_engine_opts){ .loop = loop }, &err);
    calx_connection *c = NULL;
    char sql[160];
    if (!admin || calx_wait(calx_engine_connect(admin, &err), &c, &err) ||
        calx_wait(calx_conn_execute(c, "SELECT 1", NULL, &err), NULL, &err)) {
        fprintf(stderr, "cannot reach CALX_TEST_PG_URL: %s\n", err.message);
        return 1;
    }
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    calx_wait(calx_conn_execute(c, sql, NULL, &err), NULL, &err);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    CHECK_OK(calx_wait(calx_conn_execute(c, sql, NULL, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);

    /* One connection in the pool: pg_prepared_statements is per connection. */
    url_in_schema(base, schema);
    engine = calx_create_engine(url, &(calx_engine_opts){ .loop = loop, .pool_size = 1,
                                                          .max_overflow = CALX_OVERFLOW_NONE },
                                &err);
    calx_metadata *md = calx_metadata_new(&err);
    calx_metadata_add(md, CALX_TABLE(PtTeam), &err);
    calx_metadata_add(md, CALX_TABLE(PtHero), &err);
    calx_metadata_add(md, &tags, &err);
    if (!engine || calx_wait(calx_engine_create_all(engine, md, &err), NULL, &err)) {
        fprintf(stderr, "setup: %s\n", err.message);
        return 1;
    }

    RUN(a_selectinload_sends_the_keys_of_its_in_list_as_int4_to_an_integer_column);
    RUN(a_flush_sends_the_values_of_integer_columns_as_int4);
    RUN(a_get_by_key_sends_an_integer_key_as_int4);
    RUN(a_lazy_load_of_one_object_is_a_prepared_statement_not_a_cursor);
    RUN(a_list_of_many_to_ones_is_a_prepared_statement_not_a_cursor);
    RUN(core_comparisons_bind_as_their_columns_int4_for_integer_and_int8_for_bigint);
    RUN(one_text_run_with_an_integer_and_then_a_real_is_prepared_once_for_each_type);
    RUN(an_integer_beyond_int4_meeting_an_integer_column_is_a_data_error_naming_the_parameter);
    RUN(an_array_meeting_an_array_column_goes_in_binary_as_the_columns_array_type);
    RUN(an_array_element_beyond_int4_is_a_data_error_naming_the_parameter_and_the_element);
    RUN(sql_text_parameters_are_still_typed_from_their_values);
    RUN(in_a_german_locale_reals_go_and_come_back_with_their_fractions);

    calx_engine_free(engine);
    calx_metadata_free(md);
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    CHECK_OK(calx_wait(calx_conn_execute(c, sql, NULL, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    calx_engine_free(admin);
    calx_loop_run(loop);
    calx_loop_free(loop);
    return TEST_REPORT();
}
