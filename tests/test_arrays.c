/* SPDX-License-Identifier: MIT */
/* PostgreSQL arrays (issue #11): ARRAY columns' DDL, array values written
 * and read back exactly (empty, with NULLs, texts with quotes, commas,
 * braces, backslashes and non-ASCII), through Core and through plain SQL,
 * and ANY / @> / && / array_length in queries, with their SQL. On SQLite,
 * which has no arrays, the refusals. */
#include "backend.h"
#include "calx.h"
#include "sql/compiler.h"
#include "sql/ddl.h"
#include "test.h"
#include "sql_expect.h"
#include "sql_db.h"

static calx_loop *loop;
static const char *dir;
static bool on_pg;

static const calx_dialect *const lite = &calx__dialect_sqlite;
static const calx_dialect *const pg = &calx__dialect_postgresql;

static const calx_column post_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "scores", .type = CALX_COL_ARRAY, .array_of = CALX_COL_INT32, .nullable = true },
    { .name = "tags", .type = CALX_COL_ARRAY, .array_of = CALX_COL_TEXT, .nullable = true },
    { .name = "prices", .type = CALX_COL_ARRAY, .array_of = CALX_COL_DECIMAL, .precision = 10,
      .scale = 2, .nullable = true },
};
static const calx_table post = { .name = "post", .columns = post_cols, .ncolumns = 4 };

#define ID calx_col(&post, 0)
#define SCORES calx_col(&post, 1)
#define TAGS calx_col(&post, 2)
#define PRICES calx_col(&post, 3)

#define ARR(elem, ...)                                                                  \
    calx_value_array(elem, (const calx_value[]){ __VA_ARGS__ },                         \
                     sizeof((const calx_value[]){ __VA_ARGS__ }) / sizeof(calx_value))
#define EMPTY(elem) calx_value_array(elem, NULL, 0)

static const char *weird[] = { "a\"b", "c,d", "{e}", "f\\g", "h\xc3\xa9", "NULL", "", " sp " };

/* An array as Python prints a list: [1, None, 'a"b', 1.50]. */
static void show(const calx_value *v, char *out, size_t size)
{
    size_t n = 0;
    if (v->type != CALX_ARRAY) {
        snprintf(out, size, "%s", v->type == CALX_NULL ? "None" : calx_type_name(v->type));
        return;
    }
    n += (size_t)snprintf(out + n, size - n, "[");
    for (size_t i = 0; i < v->u.array.n && n < size; i++) {
        const calx_value *e = &v->u.array.items[i];
        const char *sep = i ? ", " : "";
        if (e->type == CALX_NULL)
            n += (size_t)snprintf(out + n, size - n, "%sNone", sep);
        else if (e->type == CALX_INT)
            n += (size_t)snprintf(out + n, size - n, "%s%lld", sep, (long long)e->u.i);
        else if (e->type == CALX_TEXT)
            n += (size_t)snprintf(out + n, size - n, "%s'%.*s'", sep, (int)e->u.s.len,
                                  e->u.s.ptr);
        else if (e->type == CALX_DECIMAL) {
            char d[CALX_DECIMAL_TEXT_SIZE];
            calx_decimal_format(calx_value_get_decimal(e), d, sizeof d);
            n += (size_t)snprintf(out + n, size - n, "%s%s", sep, d);
        } else
            n += (size_t)snprintf(out + n, size - n, "%s?%s", sep, calx_type_name(e->type));
    }
    if (n < size)
        snprintf(out + n, size - n, "] of %s", calx_type_name(v->elem));
}

static calx_select *where(calx_expr *cond)
{
    calx_select *q = calx_select_columns(ID);
    calx_select_from(q, &post);
    return calx_select_order_by(calx_select_where(q, cond), ID, CALX_ASC);
}

/* The ids a condition selects, "1,3", or "ERR message". */
static const char *ids(calx_expr *cond)
{
    static char out[600];
    calx_error err;
    calx_result *r = NULL;
    calx_select *q = where(cond);
    int rc = calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err);
    calx_select_free(q);
    if (rc) {
        snprintf(out, sizeof out, "ERR %s", err.message);
        calx_wait(calx_conn_rollback(conn, &err), NULL, &err);
        return out;
    }
    size_t n = 0;
    out[0] = '\0';
    for (const calx_row *row; (row = calx_result_next(r));)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld", n ? "," : "",
                              (long long)calx_row_int(row, 0));
    calx_result_free(r);
    return out;
}

TEST(ddl_is_postgresqls_and_sqlite_refuses_it_naming_the_column)
{
    calx_error err;
    char *sql = calx__ddl_create_table(pg, &post, &err);
    CHECK_STR(sql, "\nCREATE TABLE post (\n\tid BIGSERIAL NOT NULL, \n\tscores INTEGER[], "
                   "\n\ttags VARCHAR[], \n\tprices NUMERIC(10, 2)[], \n\tPRIMARY KEY (id)\n)\n\n");
    free(sql);
    CHECK(calx__ddl_create_table(lite, &post, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_NOT_SUPPORTED);
    CHECK_STR(err.message, "column post.scores: SQLite has no ARRAY type (arrays are "
                           "PostgreSQL's); store a JSON column instead");
    /* array_of is checked when the table is added. */
    static const calx_column bad_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
        { .name = "x", .type = CALX_COL_ARRAY },
    };
    static const calx_table bad = { .name = "bad", .columns = bad_cols, .ncolumns = 2 };
    calx_metadata *m = calx_metadata_new(&err);
    CHECK_INT(calx_metadata_add(m, &bad, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "column bad.x: an ARRAY column needs array_of, the elements' type: "
                           "any column type but BLOB, JSON, ENUM and ARRAY (it is 0)");
    static const calx_column stray_cols[] = {
        { .name = "id", .type = CALX_COL_INT64, .primary_key = true,
          .array_of = CALX_COL_INT64 },
    };
    static const calx_table stray = { .name = "stray", .columns = stray_cols, .ncolumns = 1 };
    CHECK_INT(calx_metadata_add(m, &stray, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "column stray.id: array_of is for ARRAY columns");
    calx_metadata_free(m);
}

TEST(setup_database)
{
    on_pg = test_backend_pg();
    const calx_table *all[] = { &post };
    if (!sql_db_open(loop, dir, NULL, all, on_pg ? 1 : 0, false, NULL))
        return;
    if (!on_pg)
        return;
    calx_value tags[8];
    for (int i = 0; i < 8; i++)
        tags[i] = calx_text(weird[i]);
    calx_value rows[][4] = {
        { calx_int(1), ARR(CALX_INT, calx_int(1), calx_int(2), calx_int(3)),
          calx_value_array(CALX_TEXT, tags, 8),
          ARR(CALX_TEXT, calx_text("1.5"), calx_null(), calx_text("-0.25")) },
        { calx_int(2), EMPTY(CALX_INT), EMPTY(CALX_TEXT), EMPTY(CALX_DECIMAL) },
        { calx_int(3), ARR(CALX_INT, calx_null(), calx_int(7)),
          ARR(CALX_TEXT, calx_text("x"), calx_null(), calx_text("y")), calx_null() },
    };
    calx_error err;
    calx_insert *s = calx_insert_new(&post);
    calx_insert_columns(s, (const char *const[]){ "id", "scores", "tags", "prices" }, 4);
    for (int i = 0; i < 3; i++)
        calx_insert_row(s, rows[i]);
    /* The values were copied: the caller's arrays may change now. */
    tags[0] = calx_text("changed");
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute_insert(conn, s, &err), &r, &err), &err);
    calx_result_free(r);
    calx_insert_free(s);
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
}

TEST(arrays_read_back_exactly_through_core_and_plain_sql)
{
    if (!on_pg)
        return;
    calx_error err;
    for (int plain = 0; plain < 2; plain++) {
        calx_result *r = NULL;
        int rc;
        if (plain) {
            rc = calx_wait(calx_conn_execute(conn, "SELECT id, scores, tags, prices FROM post "
                                                   "ORDER BY id", NULL, &err),
                           &r, &err);
        } else {
            calx_select *q = calx_select_columns(ID, SCORES, TAGS, PRICES);
            calx_select_from(q, &post);
            calx_select_order_by(q, ID, CALX_ASC);
            rc = calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err);
            calx_select_free(q);
        }
        CHECK_OK(rc, &err);
        if (rc)
            return;
        char got[3][3][400];
        int k = 0;
        for (const calx_row *row; (row = calx_result_next(r)) && k < 3; k++)
            for (int c = 0; c < 3; c++)
                show(calx_row_value(row, (size_t)c + 1), got[k][c], sizeof got[k][c]);
        CHECK_INT(k, 3);
        CHECK_STR(got[0][0], "[1, 2, 3] of INTEGER");
        CHECK_STR(got[0][1], "['a\"b', 'c,d', '{e}', 'f\\g', 'h\xc3\xa9', 'NULL', '', ' sp '] "
                             "of TEXT");
        CHECK_STR(got[0][2], "[1.50, None, -0.25] of DECIMAL");
        CHECK_STR(got[1][0], "[] of INTEGER");
        CHECK_STR(got[1][1], "[] of TEXT");
        CHECK_STR(got[1][2], "[] of DECIMAL");
        CHECK_STR(got[2][0], "[None, 7] of INTEGER");
        CHECK_STR(got[2][1], "['x', None, 'y'] of TEXT");
        CHECK_STR(got[2][2], "None");
        calx_result_free(r);
    }
    /* An array bound to plain SQL, and its text as PostgreSQL prints it. */
    calx_value t = calx_value_array(CALX_TEXT, (calx_value[]){ calx_text(weird[0]),
                                                               calx_text(weird[3]),
                                                               calx_null() }, 3);
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(conn, "SELECT CAST(? AS TEXT[])::text, CAST(? AS BIGINT[])::text",
                                         CALX_PARAMS(CALX_V(t), CALX_V(ARR(CALX_INT,
                                                                           calx_int(-5)))),
                                         &err),
                       &r, &err),
             &err);
    const calx_row *row = r ? calx_result_first(r) : NULL;
    if (row) {
        CHECK_STR(calx_row_text(row, 0), "{\"a\\\"b\",\"f\\\\g\",NULL}");
        CHECK_STR(calx_row_text(row, 1), "{-5}");
    }
    calx_result_free(r);
}

TEST(any_and_containment_render_and_select)
{
    calx_select *q = where(calx_any(calx_lit_int(2), SCORES));
    EXPECT(q, pg, 0,
           "SELECT post.id \nFROM post \nWHERE ? = ANY (post.scores) ORDER BY post.id", "(2,)");
    q = where(calx_array_contains(TAGS, ARR(CALX_TEXT, calx_text("x"))));
    EXPECT(q, pg, 0,
           "SELECT post.id \nFROM post \nWHERE (post.tags @> ?) ORDER BY post.id", "(ARRAY,)");
    q = where(calx_gt(calx_array_length(SCORES), 1));
    EXPECT(q, pg, 0,
           "SELECT post.id \nFROM post \nWHERE array_length(post.scores, 1) > ? ORDER BY "
           "post.id",
           "(1,)");
    /* On SQLite each is a compile error naming the dialect. */
    calx_compiled c;
    calx_error err;
    q = where(calx_any(calx_lit_int(2), SCORES));
    CHECK_INT(calx__select_compile(q, lite, 0, &c, &err), CALX_ERR_NOT_SUPPORTED);
    CHECK_STR(err.message, "SQLite has no arrays (ANY, @>, && and array_length are "
                           "PostgreSQL's)");
    calx__compiled_free(&c);
    calx_select_free(q);
    if (!on_pg)
        return;
    CHECK_STR(ids(calx_any(calx_lit_int(2), SCORES)), "1");
    CHECK_STR(ids(calx_any(calx_lit_text("c,d"), TAGS)), "1");
    CHECK_STR(ids(calx_array_contains(TAGS, ARR(CALX_TEXT, calx_text("y"), calx_text("x")))),
              "3");
    CHECK_STR(ids(calx_array_contains(SCORES, EMPTY(CALX_INT))), "1,2,3");
    CHECK_STR(ids(calx_array_overlaps(SCORES, ARR(CALX_INT, calx_int(7), calx_int(3)))),
              "1,3");
    /* Literals take the column's element type: an integer into NUMERIC(10, 2)[]. */
    CHECK_STR(ids(calx_array_contains(PRICES, ARR(CALX_INT, calx_int(0)))), "");
    CHECK_STR(ids(calx_array_contains(PRICES, ARR(CALX_TEXT, calx_text("1.5")))), "1");
    CHECK_STR(ids(calx_eq(calx_array_length(TAGS), 8)), "1");
    CHECK_STR(ids(calx_is_null(calx_array_length(SCORES))), "2");
}

TEST(mistakes_name_their_cause)
{
    calx_error err;
    calx_select *q = where(calx_any(calx_lit_int(1), ID));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_STR(err.message, "calx_any: post.id (INTEGER) is not an ARRAY");
    calx_select_free(q);
    q = where(calx_array_contains(TAGS, calx_int(1)));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "calx_array_contains: the items are INTEGER, not an ARRAY");
    calx_select_free(q);
    q = where(calx_array_contains(SCORES, ARR(CALX_TEXT, calx_text("x"))));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_STR(err.message, "cannot compare post.scores (ARRAY) with an ARRAY whose element 1 "
                           "is a TEXT (the column's elements are INTEGER) (@>)");
    calx_select_free(q);
    q = where(calx_array_contains(PRICES, ARR(CALX_TEXT, calx_text("1.555"))));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    calx_select_free(q);
    /* Elements of another type than the array's are refused. */
    q = where(calx_array_contains(SCORES, ARR(CALX_INT, calx_text("x"))));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    calx_select_free(q);
    if (on_pg)
        return;
    /* SQLite's driver refuses an array parameter. */
    calx_result *r = NULL;
    CHECK_INT(calx_wait(calx_conn_execute(conn, "SELECT ?",
                                          CALX_PARAMS(CALX_V(ARR(CALX_INT, calx_int(1)))), &err),
                        &r, &err),
              CALX_ERR_NOT_SUPPORTED);
    calx_result_free(r);
}

TEST(teardown_database)
{
    sql_db_close(loop, on_pg);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_arrays");
    RUN(ddl_is_postgresqls_and_sqlite_refuses_it_naming_the_column);
    RUN(setup_database);
    RUN(arrays_read_back_exactly_through_core_and_plain_sql);
    RUN(any_and_containment_render_and_select);
    RUN(mistakes_name_their_cause);
    RUN(teardown_database);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
