/* SPDX-License-Identifier: MIT */
/* PostgreSQL arrays (issue #11): ARRAY columns' DDL, array values written
 * and read back exactly (empty, with NULLs, texts with quotes, commas,
 * braces, backslashes and non-ASCII), through Core and through plain SQL,
 * and ANY / @> / && / array_length in queries, with their SQL. Arrays of
 * a native enum (their names bound, their C values read back, an unknown
 * name an error) and of JSON. On SQLite, which has no arrays, the
 * refusals. */
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

enum mood { MOOD_SAD, MOOD_OK, MOOD_HAPPY };
static const char *const mood_names[] = { "sad", "ok", "happy" };
static const calx_enum mood_enum = { .name = "mood", .names = mood_names, .n = 3 };

static const calx_column ticket_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "moods", .type = CALX_COL_ARRAY, .array_of = CALX_COL_ENUM,
      .enum_type = &mood_enum, .nullable = true },
    { .name = "docs", .type = CALX_COL_ARRAY, .array_of = CALX_COL_JSON, .nullable = true },
};
static const calx_table ticket = { .name = "ticket", .columns = ticket_cols, .ncolumns = 3 };

#define TID calx_col(&ticket, 0)
#define MOODS calx_col(&ticket, 1)
#define DOCS calx_col(&ticket, 2)

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
        else if (e->type == CALX_TEXT || e->type == CALX_JSON)
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

/* The ids q (freed here) selects, "1,3", or "ERR message". */
static const char *ids_of(calx_select *q)
{
    static char out[600];
    calx_error err;
    calx_result *r = NULL;
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

/* The ids of posts a condition selects. */
static const char *ids(calx_expr *cond)
{
    return ids_of(where(cond));
}

TEST(ddl_is_postgresqls_and_sqlite_refuses_it_naming_the_column)
{
    calx_error err;
    char *sql = calx__ddl_create_table(pg, &post, &err);
    CHECK_STR(sql, "\nCREATE TABLE post (\n\tid BIGSERIAL NOT NULL, \n\tscores INTEGER[], "
                   "\n\ttags VARCHAR[], \n\tprices NUMERIC(10, 2)[], \n\tPRIMARY KEY (id)\n)\n\n");
    free(sql);
    /* An enum's array is of its native type, made by create_all. */
    sql = calx__ddl_create_table(pg, &ticket, &err);
    CHECK_STR(sql, "\nCREATE TABLE ticket (\n\tid BIGSERIAL NOT NULL, \n\tmoods mood[], "
                   "\n\tdocs JSON[], \n\tPRIMARY KEY (id)\n)\n\n");
    free(sql);
    CHECK(calx__ddl_create_table(lite, &ticket, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_NOT_SUPPORTED);
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
                           "any column type but BLOB and ARRAY (it is 0)");
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
    const calx_table *all[] = { &post, &ticket };
    if (!sql_db_open(loop, dir, NULL, all, on_pg ? 2 : 0, false, NULL))
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
    /* Enum arrays by C value or by name; JSON arrays of JSON or of text
     * that is JSON. */
    calx_value tickets[][3] = {
        { calx_int(1), ARR(CALX_INT, calx_int(MOOD_HAPPY), calx_null(), calx_int(MOOD_SAD)),
          ARR(CALX_JSON, calx_value_json("{\"a\": [1, \"x,y\"]}"), calx_null(),
              calx_value_json("\"q\\\"\"")) },
        { calx_int(2), EMPTY(CALX_INT), EMPTY(CALX_JSON) },
        { calx_int(3), ARR(CALX_TEXT, calx_text("ok")), calx_null() },
        { calx_int(4), calx_null(), ARR(CALX_TEXT, calx_text("[1, 2]")) },
    };
    s = calx_insert_new(&ticket);
    calx_insert_columns(s, (const char *const[]){ "id", "moods", "docs" }, 3);
    for (int i = 0; i < 4; i++)
        calx_insert_row(s, tickets[i]);
    CHECK_OK(calx_wait(calx_conn_execute_insert(conn, s, &err), &r, &err), &err);
    calx_result_free(r);
    calx_insert_free(s);
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
}

/* The ids of tickets cond (or NULL) selects, ordered by order_by. */
static const char *ticket_ids(calx_expr *cond, calx_expr *order_by)
{
    calx_select *q = calx_select_columns(TID);
    calx_select_from(q, &ticket);
    if (cond)
        calx_select_where(q, cond);
    return ids_of(calx_select_order_by(q, order_by, CALX_ASC));
}

TEST(enum_and_json_arrays_read_back_as_c_values_and_json)
{
    if (!on_pg)
        return;
    calx_error err;
    /* Twice: a prepared statement's rows come in binary from its second
     * run where every column's type has a binary decoder (json[]; an
     * enum array's type is the database's own, so it stays text). */
    for (int run = 0; run < 2; run++) {
        calx_select *q = calx_select_columns(TID, MOODS, DOCS);
        calx_select_from(q, &ticket);
        calx_select_order_by(q, TID, CALX_ASC);
        calx_result *r = NULL;
        int rc = calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err);
        calx_select_free(q);
        CHECK_OK(rc, &err);
        if (rc)
            return;
        char got[4][2][200];
        int k = 0;
        for (const calx_row *row; (row = calx_result_next(r)) && k < 4; k++)
            for (int c = 0; c < 2; c++)
                show(calx_row_value(row, (size_t)c + 1), got[k][c], sizeof got[k][c]);
        CHECK_INT(k, 4);
        CHECK_STR(got[0][0], "[2, None, 0] of INTEGER");
        CHECK_STR(got[0][1], "['{\"a\": [1, \"x,y\"]}', None, '\"q\\\"\"'] of JSON");
        CHECK_STR(got[1][0], "[] of INTEGER");
        CHECK_STR(got[1][1], "[] of JSON");
        CHECK_STR(got[2][0], "[1] of INTEGER");
        CHECK_STR(got[2][1], "None");
        CHECK_STR(got[3][0], "None");
        CHECK_STR(got[3][1], "['[1, 2]'] of JSON");
        calx_result_free(r);
    }
    /* JSON[] alone, so its rows come in binary the second time. */
    for (int run = 0; run < 2; run++) {
        calx_result *r = NULL;
        CHECK_OK(calx_wait(calx_conn_execute(conn, "SELECT docs FROM ticket WHERE id = 1", NULL,
                                             &err),
                           &r, &err),
                 &err);
        const calx_row *row = r ? calx_result_first(r) : NULL;
        char got[200] = "";
        if (row)
            show(calx_row_value(row, 0), got, sizeof got);
        CHECK_STR(got, "['{\"a\": [1, \"x,y\"]}', None, '\"q\\\"\"'] of JSON");
        calx_result_free(r);
    }
    /* Plain SQL knows no column: an enum array is PostgreSQL's text. */
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_conn_execute(conn, "SELECT moods FROM ticket WHERE id = 1", NULL,
                                         &err),
                       &r, &err),
             &err);
    const calx_row *row = r ? calx_result_first(r) : NULL;
    if (row)
        CHECK_STR(calx_row_text(row, 0), "{happy,NULL,sad}");
    calx_result_free(r);
}

TEST(enum_arrays_compare_and_sort_in_the_database_by_the_enums_order)
{
    if (!on_pg)
        return;
    /* The enum's order (sad < ok < happy), not the names': [ok] before
     * [happy, ...]. */
    CHECK_STR(ticket_ids(NULL, MOODS), "2,3,1,4");
    CHECK_STR(ticket_ids(calx_any(calx_lit_text("sad"), MOODS), TID), "1");
    CHECK_STR(ticket_ids(calx_array_contains(MOODS, ARR(CALX_INT, calx_int(MOOD_OK))), TID),
              "3");
    CHECK_STR(ticket_ids(calx_array_contains(MOODS, EMPTY(CALX_INT)), TID), "1,2,3");
    CHECK_STR(ticket_ids(calx_array_overlaps(MOODS, ARR(CALX_TEXT, calx_text("happy"),
                                                        calx_text("ok"))),
                         TID),
              "1,3");
    CHECK_STR(ticket_ids(calx_eq(calx_array_length(DOCS), 3), TID), "1");
    /* json has no equality in PostgreSQL: comparing a JSON[] column's
     * elements is refused when the statement is compiled, naming the
     * column, not by the server. */
    calx_error err;
    calx_expr *json_conds[] = {
        calx_any(calx_lit(calx_value_json("{}")), DOCS),
        calx_array_contains(DOCS, ARR(CALX_JSON, calx_value_json("1"))),
        calx_array_overlaps(DOCS, ARR(CALX_JSON, calx_value_json("1"))),
    };
    for (size_t k = 0; k < sizeof json_conds / sizeof json_conds[0]; k++) {
        calx_result *r = NULL;
        calx_select *jq = calx_select_where(calx_select_columns(TID), json_conds[k]);
        CHECK_INT(calx_wait(calx_conn_execute_select(conn, jq, &err), &r, &err),
                  CALX_ERR_NOT_SUPPORTED);
        CHECK_STR(err.message, "ticket.docs (ARRAY) is JSON[]: PostgreSQL's json has no "
                               "equality, so ANY, @> and && cannot compare its elements "
                               "(array_length can)");
        calx_result_free(r);
        calx_select_free(jq);
    }
    /* A value that is no member is refused before anything is sent. */
    calx_select *q = calx_select_where(calx_select_columns(TID),
                                       calx_array_contains(MOODS, ARR(CALX_INT, calx_int(3))));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_CONTAINS(err.message, "element 1 is 3, not a value of enum type mood (it has 3)");
    calx_select_free(q);
    q = calx_select_where(calx_select_columns(TID),
                          calx_array_overlaps(MOODS, ARR(CALX_TEXT, calx_text("glad"))));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_CONTAINS(err.message, "element 1 is 'glad', not a name of enum type mood");
    calx_select_free(q);
    q = calx_select_where(calx_select_columns(TID), calx_any(calx_lit_text("glad"), MOODS));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_STR(err.message, "cannot compare ticket.moods (ARRAY) with 'glad' (ANY): not a name "
                           "of enum type mood");
    calx_select_free(q);
}

TEST(an_enum_name_unknown_to_the_program_read_back_is_an_error_naming_column_and_value)
{
    if (!on_pg)
        return;
    calx_error err;
    /* The database's type gains a name the C enum lacks. */
    CHECK_OK(calx_wait(calx_conn_execute(conn, "ALTER TYPE mood ADD VALUE 'angry'", NULL, &err),
                       NULL, &err),
             &err);
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
    CHECK_OK(calx_wait(calx_conn_execute(conn, "INSERT INTO ticket (id, moods) VALUES "
                                               "(5, '{ok,angry}')", NULL, &err),
                       NULL, &err),
             &err);
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
    calx_select *q = calx_select_where(calx_select_columns(TID, MOODS), calx_eq(TID, 5));
    calx_result *r = NULL;
    CHECK_INT(calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err), CALX_ERR_DATA);
    CHECK_STR(err.message, "column moods: the database holds 'angry' (array element 2), which "
                           "is not a name of enum type mood");
    calx_result_free(r);
    calx_wait(calx_conn_rollback(conn, &err), NULL, &err);
    /* Nor can calx hold an array of two dimensions, which the column
     * takes. */
    CHECK_OK(calx_wait(calx_conn_execute(conn, "UPDATE ticket SET moods = '{{sad},{ok}}' "
                                               "WHERE id = 5", NULL, &err),
                       NULL, &err),
             &err);
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
    r = NULL;
    CHECK_INT(calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err), CALX_ERR_DATA);
    CHECK_STR(err.message, "column moods: '{{sad},{ok}}' is not a one-dimensional array (calx's "
                           "arrays have one) of enum type mood");
    calx_result_free(r);
    calx_select_free(q);
    calx_wait(calx_conn_rollback(conn, &err), NULL, &err);
    /* The connection goes on. */
    CHECK_STR(ticket_ids(calx_eq(TID, 5), TID), "5");
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
    /* Compiled for PostgreSQL, ANY on a JSON[] column is refused (json has
     * no equality); array_length still compiles. No server needed. */
    q = calx_select_where(calx_select_columns(TID), calx_any(calx_lit(calx_value_json("1")), DOCS));
    CHECK_INT(calx__select_compile(q, pg, 0, &c, &err), CALX_ERR_NOT_SUPPORTED);
    CHECK_CONTAINS(err.message, "ticket.docs (ARRAY) is JSON[]");
    calx__compiled_free(&c);
    calx_select_free(q);
    q = calx_select_where(calx_select_columns(TID), calx_eq(calx_array_length(DOCS), 1));
    CHECK_INT(calx__select_compile(q, pg, 0, &c, &err), 0);
    calx__compiled_free(&c);
    calx_select_free(q);
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
    RUN(enum_and_json_arrays_read_back_as_c_values_and_json);
    RUN(enum_arrays_compare_and_sort_in_the_database_by_the_enums_order);
    RUN(an_enum_name_unknown_to_the_program_read_back_is_an_error_naming_column_and_value);
    RUN(teardown_database);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
