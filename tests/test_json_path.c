/* SPDX-License-Identifier: MIT */
/* JSON in expressions: paths into a JSON column (calx_json_get / _at, read
 * as JSON, text, integer, real or bool) and PostgreSQL's containment. The
 * SQL each dialect renders, with every key bound (never in the text), then
 * the rows each database returns for them (a SQLite file, or a schema on
 * the server CALX_TEST_URL names), and the mistakes with their errors. */
#include "backend.h"
#include "calx.h"
#include "sql/compiler.h"
#include "test.h"
#include "sql_expect.h"
#include "sql_db.h"

static calx_loop *loop;
static const char *dir;
static bool on_pg;

static const calx_dialect *const lite = &calx__dialect_sqlite;
static const calx_dialect *const pg = &calx__dialect_postgresql;

static const calx_column doc_cols[] = {
    { .name = "id", .type = CALX_COL_INT64, .primary_key = true },
    { .name = "name", .type = CALX_COL_TEXT },
    { .name = "data", .type = CALX_COL_JSON, .nullable = true },
};
static const calx_table doc = { .name = "doc", .columns = doc_cols, .ncolumns = 3 };

#define ID calx_col(&doc, 0)
#define NAME calx_col(&doc, 1)
#define DATA calx_col(&doc, 2)

static calx_select *where(calx_expr *cond)
{
    calx_select *q = calx_select_columns(ID);
    calx_select_from(q, &doc);
    return calx_select_order_by(calx_select_where(q, cond), ID, CALX_ASC);
}

/* Runs q (and frees it): its result, or NULL with "ERR message" in out
 * (out_size bytes) and the transaction rolled back. */
static calx_result *run(calx_select *q, char *out, size_t out_size)
{
    calx_error err;
    calx_result *r = NULL;
    int rc = calx_wait(calx_conn_execute_select(conn, q, &err), &r, &err);
    calx_select_free(q);
    if (rc) {
        snprintf(out, out_size, "ERR %s", err.message);
        calx_wait(calx_conn_rollback(conn, &err), NULL, &err);
        return NULL;
    }
    return r;
}

/* The ids a condition selects, "1,3", or "ERR message". */
static const char *ids(calx_expr *cond)
{
    static char out[600];
    calx_result *r = run(where(cond), out, sizeof out);
    if (!r)
        return out;
    size_t n = 0;
    out[0] = '\0';
    for (const calx_row *row; (row = calx_result_next(r));)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld", n ? "," : "",
                              (long long)calx_row_int(row, 0));
    calx_result_free(r);
    return out;
}

/* The text of the one value a select of e for document id gives. */
static const char *value_of(calx_expr *e, int id)
{
    static char out[600];
    calx_select *q = calx_select_columns(e);
    calx_select_from(q, &doc);
    calx_select_where(q, calx_eq(ID, id));
    calx_result *r = run(q, out, sizeof out);
    if (!r)
        return out;
    const calx_row *row = calx_result_first(r);
    const calx_value *v = calx_row_value(row, 0);
    if (v->type == CALX_NULL)
        snprintf(out, sizeof out, "None");
    else if (v->type == CALX_INT)
        snprintf(out, sizeof out, "%lld", (long long)v->u.i);
    else if (v->type == CALX_REAL)
        snprintf(out, sizeof out, "%g", v->u.d);
    else if (v->type == CALX_BOOL)
        snprintf(out, sizeof out, "%s", v->u.b ? "true" : "false");
    else
        snprintf(out, sizeof out, "%s", calx_row_text(row, 0));
    calx_result_free(r);
    return out;
}

/* JSON text without the spaces PostgreSQL's json keeps and SQLite drops. */
static const char *squeeze(const char *s)
{
    static char out[256];
    size_t n = 0;
    for (bool in_str = false; *s && n + 1 < sizeof out; s++) {
        if (*s == '"')
            in_str = !in_str;
        if (in_str || *s != ' ')
            out[n++] = *s;
    }
    out[n] = '\0';
    return out;
}

TEST(setup_database)
{
    on_pg = test_backend_pg();
    const calx_table *all[] = { &doc };
    if (!sql_db_open(loop, dir, NULL, all, 1, false, NULL))
        return;
    static const char *const docs[][2] = {
        { "axe", "{\"kind\": \"tool\", \"stats\": {\"hp\": 12, \"weight\": 2.5}, "
                 "\"tags\": [\"sharp\", \"heavy\"], \"sold\": true, \"o'k\": \"quoted\"}" },
        { "bow", "{\"kind\": \"weapon\", \"stats\": {\"hp\": 7, \"weight\": 0.75}, "
                 "\"tags\": [\"ranged\"], \"sold\": false}" },
        { "cup", "{\"kind\": \"tool\", \"stats\": {\"hp\": 1}, \"tags\": []}" },
        { "dud", NULL },
    };
    calx_error err;
    for (int i = 0; i < 4; i++) {
        calx_insert *s = calx_insert_new(&doc);
        calx_insert_set(s, "id", i + 1);
        calx_insert_set(s, "name", docs[i][0]);
        calx_insert_set(s, "data", docs[i][1] ? calx_value_json(docs[i][1]) : calx_null());
        calx_result *r = NULL;
        CHECK_OK(calx_wait(calx_conn_execute_insert(conn, s, &err), &r, &err), &err);
        calx_result_free(r);
        calx_insert_free(s);
    }
    CHECK_OK(calx_wait(calx_conn_commit(conn, &err), NULL, &err), &err);
}

TEST(paths_render_as_sqlalchemy_with_every_key_bound)
{
    calx_expr *hp = calx_json_as_int(calx_json_get(calx_json_get(DATA, "stats"), "hp"));
    calx_select *q = where(calx_gt(hp, 10));
    calx_select *q2 = where(calx_gt(
        calx_json_as_int(calx_json_get(calx_json_get(DATA, "stats"), "hp")), 10));
    expect_q(__LINE__, q, lite, 0,
             "SELECT doc.id \nFROM doc \nWHERE JSON_EXTRACT(doc.data, '$' || '.' || "
             "JSON_QUOTE(?) || '.' || JSON_QUOTE(?)) > ? ORDER BY doc.id",
             "('stats', 'hp', 10)");
    expect_q(__LINE__, q2, pg, 0,
             "SELECT doc.id \nFROM doc \nWHERE CAST(((doc.data -> ?) ->> ?) AS INTEGER) > ? "
             "ORDER BY doc.id",
             "('stats', 'hp', 10)");
    /* An index, and the JSON itself (quoted back into JSON on SQLite). */
    q = calx_select_columns(calx_json_at(calx_json_get(DATA, "tags"), 0));
    calx_select_from(q, &doc);
    q2 = calx_select_columns(calx_json_at(calx_json_get(DATA, "tags"), 0));
    calx_select_from(q2, &doc);
    expect_q(__LINE__, q, lite, CALX_COMPILE_LABELS,
             "SELECT JSON_QUOTE(JSON_EXTRACT(doc.data, '$' || '.' || JSON_QUOTE(?) || '[' || ? "
             "|| ']')) AS anon_1 \nFROM doc",
             "('tags', 0)");
    expect_q(__LINE__, q2, pg, CALX_COMPILE_LABELS,
             "SELECT ((doc.data -> ?) -> CAST(? AS INTEGER)) AS anon_1 \nFROM doc",
             "('tags', 0)");
}

TEST(paths_read_members_and_elements_as_each_type)
{
    CHECK_STR(ids(calx_eq(calx_json_as_text(calx_json_get(DATA, "kind")), "tool")), "1,3");
    CHECK_STR(ids(calx_gt(calx_json_as_int(calx_json_get(calx_json_get(DATA, "stats"), "hp")),
                          5)),
              "1,2");
    CHECK_STR(ids(calx_lt(calx_json_as_real(calx_json_get(calx_json_get(DATA, "stats"),
                                                          "weight")),
                          1.0)),
              "2");
    CHECK_STR(ids(calx_eq(calx_json_as_bool(calx_json_get(DATA, "sold")), true)), "1");
    CHECK_STR(ids(calx_eq(calx_json_as_text(calx_json_at(calx_json_get(DATA, "tags"), 1)),
                          "heavy")),
              "1");
    /* A missing member, and a NULL document, are SQL NULL. */
    CHECK_STR(ids(calx_is_null(calx_json_as_text(calx_json_get(DATA, "kind")))), "4");
    CHECK_STR(value_of(calx_json_as_text(calx_json_get(DATA, "nothing")), 1), "None");
    /* A key with a quote in it is a value like any other. */
    CHECK_STR(value_of(calx_json_as_text(calx_json_get(DATA, "o'k")), 1), "quoted");
    /* Read as JSON, a member is JSON text on both databases. */
    CHECK_STR(squeeze(value_of(calx_json_get(DATA, "stats"), 2)),
              "{\"hp\":7,\"weight\":0.75}");
    CHECK_STR(value_of(calx_json_at(calx_json_get(DATA, "tags"), 0), 1), "\"sharp\"");
}

TEST(containment_is_postgresqls_and_refused_on_sqlite)
{
    const char *got = ids(calx_json_contains(DATA, "{\"kind\": \"tool\", \"tags\": []}"));
    if (on_pg)
        CHECK_STR(got, "1,3");
    else
        CHECK_STR(got, "ERR SQLite has no JSON containment (PostgreSQL's @>)");
    calx_select *q = where(calx_json_contains(DATA, "{\"sold\": true}"));
    expect_q(__LINE__, q, pg, 0,
             "SELECT doc.id \nFROM doc \nWHERE (CAST(doc.data AS JSONB) @> CAST(? AS JSONB)) "
             "ORDER BY doc.id",
             "('{\"sold\": true}',)");
}

TEST(mistakes_name_their_cause)
{
    calx_error err;
    calx_select *q = where(calx_eq(calx_json_as_text(calx_json_get(NAME, "x")), "y"));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_STR(err.message, "calx_json_get: doc.name (TEXT) is not JSON");
    calx_select_free(q);
    q = where(calx_eq(calx_json_as_text(DATA), "y"));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message,
              "calx_json_as_text takes a JSON path (calx_json_get, calx_json_at), not doc.data "
              "(JSON)");
    calx_select_free(q);
    q = where(calx_is_null(calx_json_get(calx_json_as_text(calx_json_get(DATA, "a")), "b")));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    calx_select_free(q);
    q = where(calx_is_null(calx_json_get(DATA, NULL)));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "calx_json_get: the key is NULL");
    calx_select_free(q);
    calx_expr *deep = DATA;
    for (int i = 0; i < 40; i++)
        deep = calx_json_get(deep, "k");
    q = where(calx_is_null(deep));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "calx_json_get: a JSON path of more than 32 steps");
    calx_select_free(q);
}

TEST(teardown_database)
{
    sql_db_close(loop, true);
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    dir = test_tmpdir("test_json_path");
    RUN(setup_database);
    RUN(paths_render_as_sqlalchemy_with_every_key_bound);
    RUN(paths_read_members_and_elements_as_each_type);
    RUN(containment_is_postgresqls_and_refused_on_sqlite);
    RUN(mistakes_name_their_cause);
    RUN(teardown_database);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
