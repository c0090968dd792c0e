/* SPDX-License-Identifier: MIT */
/* JSON_VALUE fields (issue #11): a JSON column held as jansson's parsed
 * json_t. The constructor and calx_obj_set_json_new take the caller's
 * reference (valgrind and ASan see any leak); the value round-trips
 * through the session; a change made inside the value is seen and
 * flushed, an unchanged value is never rewritten, so the database keeps
 * its own text; SQL NULL and JSON null stay apart; text jansson cannot
 * hold is an error naming the field; a rollback brings the database's
 * value back; merge copies the value; repr prints it as SQLModel prints a
 * dict.
 *
 * Each case runs on a fresh database (tests/backend.h), so the same file
 * runs as test_json_fields and test_json_fields_pg. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "calx.h"
#include "test.h"

static int empty_object(void *p, calx_error *err)
{
    (void)err;
    *(json_t **)p = json_object();
    return 0;
}

#define Doc_FIELDS(F, M)                                                      \
    F(M, id,    OPT_INT64,      NONE,     .primary_key = true)                \
    F(M, title, TEXT,           REQUIRED)                                     \
    F(M, body,  JSON_VALUE,     FACTORY(empty_object))                        \
    F(M, meta,  OPT_JSON_VALUE, NONE)
CALX_MODEL(Doc, "doc")
CALX_MODEL_DEFINE(Doc, "doc")

/* Fields with buffer slots (JSON_VALUE, BLOB, TEXT, JSON) between scalars:
 * only those fields have slots, so each must find its own. */
#define Mixed_FIELDS(F, M)                                                    \
    F(M, id,    OPT_INT64,      NONE,     .primary_key = true)                \
    F(M, body,  JSON_VALUE,     FACTORY(empty_object))                        \
    F(M, n,     INT32,          REQUIRED)                                     \
    F(M, pic,   OPT_BLOB,       NONE)                                         \
    F(M, note,  TEXT,           REQUIRED)                                     \
    F(M, score, OPT_DOUBLE,     NONE)                                         \
    F(M, meta,  OPT_JSON_VALUE, NONE)                                         \
    F(M, raw,   OPT_JSON,       NONE)                                         \
    F(M, done,  BOOL,           REQUIRED)
CALX_MODEL(Mixed, "mixed")
CALX_MODEL_DEFINE(Mixed, "mixed")

#include "orm_test.h"
#include "orm_db.h"

/* The repr of obj (a static buffer). */
static const char *repr(const void *obj)
{
    static char buf[512];
    calx_obj_repr(obj, buf, sizeof buf);
    return buf;
}

/* Runs sql (text, its first row's first column wanted: a static copy of
 * its text, or "NULL") on a connection of its own, and commits. */
static const char *text_sql(const char *sql)
{
    static char out[256];
    calx_connection *c = NULL;
    calx_result *r = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, sql, NULL, &err), &r, &err), &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    const calx_row *row = calx_result_first(r);
    const char *t = calx_row_text(row, 0);
    snprintf(out, sizeof out, "%s", t ? t : calx_row_isnull(row, 0) ? "NULL" : "?");
    calx_result_free(r);
    calx_conn_close(c);
    return out;
}

TEST(the_constructor_takes_the_callers_reference_and_repr_prints_a_dict)
{
    Doc *d = CALX_NEW(Doc, &err, .title = "a",
                      .body = json_pack("{s:i, s:[b, n, s], s:f}", "a", 1, "b", 1, "x", "r",
                                        0.25),
                      .meta = json_null());
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_STR(repr(d), "Doc(id=None, title='a', body={'a': 1, 'b': [True, None, 'x'], "
                       "'r': 0.25}, meta=None)");
    /* FACTORY gives each object its own value; SQL NULL is not JSON null. */
    Doc *e = CALX_NEW(Doc, &err, .title = "e");
    CHECK(e && json_is_object(e->body) && json_object_size(e->body) == 0 && e->meta == NULL);
    CHECK(e && e->body != d->body);
    /* Replacing a value releases the old one; a wrong field releases the new. */
    CHECK_INT(calx_obj_set_json_new(d, &d->body, json_string("s")), 0);
    CHECK_INT(calx_obj_set_json_new(d, (json_t **)&d->title, json_string("t")),
              CALX_ERR_ARGUMENT);
    CHECK_INT(calx_obj_set_json_new(NULL, NULL, json_string("u")), CALX_ERR_ARGUMENT);
    /* A required value left NULL. */
    CHECK_INT(calx_obj_set_json_new(e, &e->body, NULL), 0);
    CHECK_INT(calx_obj_validate(e, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Doc.body: none is not an allowed value");
    calx_obj_free(d);
    calx_obj_free(e);
    /* A constructor that fails still releases what it was given. */
    Doc *bad = CALX_NEW(Doc, &err, .body = json_pack("{s:i}", "leak", 1));
    CHECK(bad == NULL);
    CHECK_STR(err.message, "Doc.title: field required");
}

DB_TEST(a_value_round_trips_and_a_change_inside_it_is_flushed, CALX_TABLE(Doc))
{
    calx_session *s = new_session();
    Doc *d = CALX_NEW(Doc, &err, .title = "a",
                      .body = json_pack("{s:i, s:[i, i]}", "n", 1, "list", 2, 3),
                      .meta = json_null());
    Doc *e = CALX_NEW(Doc, &err, .title = "e");
    CHECK(d && e);
    if (!d || !e)
        return;
    CHECK_OK(calx_session_add(s, d, &err), &err);
    CHECK_OK(calx_session_add(s, e, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    /* JSON null is the text null; SQL NULL is NULL. */
    CHECK_STR(text_sql("SELECT meta FROM doc WHERE id = 1"), "null");
    CHECK_STR(text_sql("SELECT meta FROM doc WHERE id = 2"), "NULL");

    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK_STR(repr(d), "Doc(id=1, title='a', body={'n': 1, 'list': [2, 3]}, meta=None)");
    CHECK(json_is_null(d->meta));
    CHECK(e->meta == NULL && json_object_size(e->body) == 0);

    /* Nothing changed: nothing written. */
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(strstr(logbuf, "UPDATE") == NULL);
    /* A change inside the value, with no setter called, is seen. */
    json_array_append_new(json_object_get(d->body, "list"), json_integer(4));
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK(strstr(logbuf, "UPDATE doc SET body=") != NULL);
    CHECK(strstr(logbuf, "{\"n\":1,\"list\":[2,3,4]}") != NULL);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_STR(text_sql("SELECT body FROM doc WHERE id = 1"), "{\"n\":1,\"list\":[2,3,4]}");

    /* Undone by a rollback: the database's value comes back. */
    json_object_set_new(d->body, "gone", json_true());
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(json_object_get(d->body, "gone") == NULL);
    CHECK_INT(json_array_size(json_object_get(d->body, "list")), 3);
    calx_session_free(s);
}

DB_TEST(a_value_the_program_did_not_change_keeps_the_databases_text, CALX_TABLE(Doc))
{
    text_sql("INSERT INTO doc (id, title, body) VALUES (1, 'a', '{\"x\": 0.1, \"y\": 1.10}') "
             "RETURNING id");
    calx_session *s = new_session();
    Doc *d = NULL;
    CHECK_OK(calx_session_get(s, &Doc_model, calx_int(1), &d, &err), &err);
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK(json_real_value(json_object_get(d->body, "x")) == 0.1);
    CHECK_INT(calx_obj_set_text(d, &d->title, "b"), 0);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(strstr(logbuf, "UPDATE doc SET title=") != NULL);
    CHECK(strstr(logbuf, "body=") == NULL);
    CHECK_STR(text_sql("SELECT body FROM doc WHERE id = 1"), "{\"x\": 0.1, \"y\": 1.10}");

    /* A merge copies the value, deep. */
    CHECK_OK(calx_session_expunge(s, d, &err), &err);
    calx_session *s2 = new_session();
    Doc *m = NULL;
    CHECK_OK(calx_session_merge(s2, d, &m, &err), &err);
    CHECK(m && m->body != d->body && json_equal(m->body, d->body));
    calx_obj_free(d);
    calx_session_free(s2);
    calx_session_free(s);
}

DB_TEST(json_jansson_cannot_hold_is_an_error_naming_the_field, CALX_TABLE(Doc))
{
    text_sql("INSERT INTO doc (id, title, body) VALUES (1, 'big', "
             "'{\"n\": 123456789012345678901234567890}') RETURNING id");
    calx_session *s = new_session();
    Doc *d = NULL;
    CHECK_INT(calx_session_get(s, &Doc_model, calx_int(1), &d, &err), CALX_ERR_DATA);
    CHECK_CONTAINS(err.message, "Doc.body: the JSON '{\"n\": 123456789012345678901234567890}' "
                                "cannot be held: ");
    CHECK_CONTAINS(err.message, "too big");
    calx_session_free(s);
}

/* Sets every slotted field of x to a value made from tag. */
static void change_mixed(Mixed *x, const char *tag)
{
    char buf[64];
    snprintf(buf, sizeof buf, "{\"tag\":\"%s\"}", tag);
    CHECK_INT(calx_obj_set_json_new(x, &x->body, json_pack("{s:s}", "tag", tag)), 0);
    CHECK_INT(calx_obj_set_blob(x, &x->pic, tag, strlen(tag)), 0);
    CHECK_INT(calx_obj_set_text(x, &x->note, tag), 0);
    CHECK_INT(calx_obj_set_json_new(x, &x->meta, json_string(tag)), 0);
    CHECK_INT(calx_obj_set_text(x, &x->raw, buf), 0);
}

/* Whether every slotted field of x holds what change_mixed(x, tag) set. */
static bool mixed_is(const Mixed *x, const char *tag)
{
    char buf[64];
    snprintf(buf, sizeof buf, "{\"tag\":\"%s\"}", tag);
    return json_is_object(x->body) &&
           strcmp(json_string_value(json_object_get(x->body, "tag")), tag) == 0 &&
           x->pic.data && x->pic.len == strlen(tag) && memcmp(x->pic.data, tag, x->pic.len) == 0 &&
           strcmp(x->note, tag) == 0 && json_is_string(x->meta) &&
           strcmp(json_string_value(x->meta), tag) == 0 && x->raw && strcmp(x->raw, buf) == 0;
}

DB_TEST(fields_with_buffers_between_scalars_round_trip_flush_and_roll_back,
        CALX_TABLE(Mixed))
{
    calx_session *s = new_session();
    Mixed *x = CALX_NEW(Mixed, &err, .n = 7, .note = "first", .score = CALX_SOME(2.5),
                        .done = true);
    CHECK(x != NULL);
    if (!x)
        return;
    change_mixed(x, "a");
    CHECK_OK(calx_session_add(s, x, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_STR(text_sql("SELECT note FROM mixed WHERE id = 1"), "a");

    /* Read back into a new object: every field where it belongs. */
    CHECK_OK(calx_session_expunge(s, x, &err), &err);
    calx_obj_free(x);
    x = NULL;
    CHECK_OK(calx_session_get(s, &Mixed_model, calx_int(1), &x, &err), &err);
    CHECK(x && mixed_is(x, "a") && x->n == 7 && x->score.valid && x->score.value == 2.5 &&
          x->done);
    if (!x)
        return;

    /* A change of each is flushed; one of none writes nothing. */
    change_mixed(x, "b");
    x->n = 8;
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_STR(text_sql("SELECT note FROM mixed WHERE id = 1"), "b");
    CHECK_STR(text_sql("SELECT CAST(n AS TEXT) FROM mixed WHERE id = 1"), "8");
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(mixed_is(x, "b"));
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(strstr(logbuf, "UPDATE") == NULL);

    /* A savepoint rolled back puts each field back from the snapshot. */
    CHECK_OK(calx_session_begin_nested(s, &err), &err);
    change_mixed(x, "c");
    CHECK_OK(calx_session_flush(s, &err), &err);
    change_mixed(x, "d");
    CHECK_OK(calx_session_rollback_nested(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(mixed_is(x, "b"));
    /* And a rollback of the transaction. */
    change_mixed(x, "e");
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(mixed_is(x, "b") && x->n == 8);
    CHECK_STR(text_sql("SELECT note FROM mixed WHERE id = 1"), "b");
    calx_session_free(s);
}

int main(void)
{
    dir = test_tmpdir("test_json_fields");
    calx_error e;
    loop = calx_loop_new(NULL, &e);
    RUN(the_constructor_takes_the_callers_reference_and_repr_prints_a_dict);
    RUN(a_value_round_trips_and_a_change_inside_it_is_flushed);
    RUN(a_value_the_program_did_not_change_keeps_the_databases_text);
    RUN(json_jansson_cannot_hold_is_an_error_naming_the_field);
    RUN(fields_with_buffers_between_scalars_round_trip_flush_and_roll_back);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
