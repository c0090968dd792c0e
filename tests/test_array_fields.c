/* SPDX-License-Identifier: MIT */
/* ARRAY fields of models (issue #11): a model's field holding a
 * PostgreSQL array of texts, decimals or dates, nullable and not. The
 * constructor copies the array and checks its elements against the
 * column; the session writes it, reads it back after commit expired it,
 * sees a change made with calx_obj_set_array and flushes it; Core's array
 * operators find the rows; merge copies it; repr prints it as SQLModel
 * prints a list. Arrays of a native enum hold the enum's C values (bound
 * as its names, shown as its members) and arrays of JSON their texts.
 * SQLite has no arrays: there the constructor and validation are checked,
 * and create_all's refusal.
 *
 * Each case runs on a fresh database (tests/backend.h), so the same file
 * runs as test_array_fields and test_array_fields_pg. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "calx.h"
#include "test.h"

#define Tagged_FIELDS(F, M)                                                   \
    F(M, id,     OPT_INT64, NONE,     .primary_key = true)                    \
    F(M, name,   TEXT,      REQUIRED)                                         \
    F(M, tags,   ARRAY,     REQUIRED, .array_of = CALX_COL_TEXT)              \
    F(M, scores, OPT_ARRAY, NONE,     .array_of = CALX_COL_DECIMAL,           \
                                      .precision = 6, .scale = 2)             \
    F(M, days,   OPT_ARRAY, NONE,     .array_of = CALX_COL_DATE)
CALX_MODEL(Tagged, "tagged")
CALX_MODEL_DEFINE(Tagged, "tagged")

enum mood { MOOD_SAD, MOOD_OK, MOOD_HAPPY };
static const char *const mood_names[] = { "sad", "ok", "happy" };
static const calx_enum mood_enum = { .name = "mood", .names = mood_names, .n = 3 };

#define Ticket_FIELDS(F, M)                                                   \
    F(M, id,     OPT_INT64, NONE,     .primary_key = true)                    \
    F(M, moods,  ARRAY,     REQUIRED, .array_of = CALX_COL_ENUM,              \
                                      .enum_type = &mood_enum)                \
    F(M, docs,   OPT_ARRAY, NONE,     .array_of = CALX_COL_JSON)
CALX_MODEL(Ticket, "ticket")
CALX_MODEL_DEFINE(Ticket, "ticket")

#include "orm_test.h"
#include "orm_db.h"

#define TAGGED(f) CALX_C(Tagged, f)
#define TICKET(f) CALX_C(Ticket, f)

static calx_decimal dec(const char *s)
{
    calx_decimal d = { 0 };
    CHECK_OK(calx_decimal_parse(s, strlen(s), &d, &err), &err);
    return d;
}

static calx_date date(const char *s)
{
    calx_date d = 0;
    CHECK_OK(calx_date_parse(s, strlen(s), &d, &err), &err);
    return d;
}

/* The repr of obj (a static buffer). */
static const char *repr(const void *obj)
{
    static char buf[512];
    calx_obj_repr(obj, buf, sizeof buf);
    return buf;
}

/* A Tagged with tags ("red", NULL, "blue"), scores (1.5, 20) and no days;
 * the caller's arrays are reused at once, to show the object copied them. */
static Tagged *new_tagged(const char *name)
{
    calx_value tags[] = { calx_text("red"), calx_null(), calx_text("blue") };
    calx_value scores[] = { calx_value_decimal(dec("1.5")), calx_value_decimal(dec("20")) };
    Tagged *t = CALX_NEW(Tagged, &err, .name = name,
                         .tags = calx_value_array(CALX_TEXT, tags, 3),
                         .scores = calx_value_array(CALX_DECIMAL, scores, 2));
    tags[0] = calx_text("overwritten");
    return t;
}

TEST(the_constructor_copies_an_array_and_validation_checks_its_elements)
{
    Tagged *t = new_tagged("a");
    CHECK_OK(t ? 0 : err.code, &err);
    if (!t)
        return;
    CHECK_INT(t->tags.type, CALX_ARRAY);
    CHECK_INT(t->tags.u.array.n, 3);
    CHECK(t->tags.u.array.items[0].u.s.len == 3 &&
          memcmp(t->tags.u.array.items[0].u.s.ptr, "red", 3) == 0);
    CHECK_INT(t->tags.u.array.items[1].type, CALX_NULL);
    CHECK_INT(t->days.type, CALX_NULL);
    CHECK_STR(repr(t), "Tagged(id=None, name='a', tags=['red', None, 'blue'], "
                       "scores=[Decimal('1.5'), Decimal('20')], days=None)");
    /* The empty array is not NULL. */
    CHECK_INT(calx_obj_set_array(t, &t->days, calx_value_array(CALX_DATE, NULL, 0)), 0);
    CHECK_INT(t->days.type, CALX_ARRAY);
    CHECK_INT(t->days.u.array.n, 0);
    CHECK_STR(repr(t), "Tagged(id=None, name='a', tags=['red', None, 'blue'], "
                       "scores=[Decimal('1.5'), Decimal('20')], days=[])");
    CHECK_OK(calx_obj_validate(t, &err), &err);
    /* An element the column cannot take; a decimal past its scale. */
    calx_value bad_days[] = { calx_text("2024-02-29"), calx_text("2024-02-30") };
    CHECK_INT(calx_obj_set_array(t, &t->days, calx_value_array(CALX_TEXT, bad_days, 2)), 0);
    CHECK_INT(calx_obj_validate(t, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Tagged.days: ");
    CHECK_CONTAINS(err.message, "element 2");
    CHECK_CONTAINS(err.message, "2024-02-30");
    calx_value flags[] = { calx_bool(true) };
    CHECK_INT(calx_obj_set_array(t, &t->days, calx_value_array(CALX_BOOL, flags, 1)), 0);
    CHECK_INT(calx_obj_validate(t, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "element 1 is a BOOLEAN");
    /* Mixed element types are no array value at all. */
    calx_value mixed[] = { calx_value_date(date("2024-02-29")), calx_int(3) };
    CHECK_INT(calx_obj_set_array(t, &t->days, calx_value_array(CALX_DATE, mixed, 2)),
              CALX_ERR_ARGUMENT);
    calx_value fine[] = { calx_value_date(date("2024-02-29")) };
    CHECK_INT(calx_obj_set_array(t, &t->days, calx_value_array(CALX_DATE, fine, 1)), 0);
    calx_value sharp[] = { calx_value_decimal(dec("1.234")) };
    CHECK_INT(calx_obj_set_array(t, &t->scores, calx_value_array(CALX_DECIMAL, sharp, 1)),
              0);
    CHECK_INT(calx_obj_validate(t, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Tagged.scores: ");
    CHECK_CONTAINS(err.message, "more than 2 digits after the point");
    /* Not an array at all. */
    CHECK_INT(calx_obj_set_array(t, &t->days, calx_text("2024-02-29")), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_obj_set_array(t, (calx_value *)&t->name, calx_null()), CALX_ERR_ARGUMENT);
    calx_obj_free(t);

    /* A required array left out, and a value that is not an array. */
    Tagged *none = CALX_NEW(Tagged, &err, .name = "b");
    CHECK(none == NULL);
    CHECK_STR(err.message, "Tagged.tags: field required");
    none = CALX_NEW(Tagged, &err, .name = "b", .tags = calx_text("red"));
    CHECK(none == NULL);
    CHECK_CONTAINS(err.message, "Tagged.tags: an ARRAY field takes an ARRAY value");
}

/* The names of the rows cond selects through the session, joined. */
static void names_where(calx_session *s, calx_expr *cond, char *out)
{
    calx_select *q = calx_select_where(calx_select_new(CALX_TABLE(Tagged)), cond);
    calx_select_order_by(q, TAGGED(name), CALX_ASC);
    calx_objlist l = { 0 };
    out[0] = '\0';
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    for (size_t i = 0; i < l.n; i++)
        strcat(out, ((Tagged *)l.items[i])->name);
    calx_objlist_free(&l);
    calx_select_free(q);
}

TEST(an_enum_array_holds_c_values_checked_against_the_enum_and_shown_as_members)
{
    calx_value moods[] = { calx_int(MOOD_HAPPY), calx_null(), calx_int(MOOD_SAD) };
    calx_value docs[] = { calx_value_json("{\"a\": 1}"), calx_null() };
    Ticket *t = CALX_NEW(Ticket, &err, .moods = calx_value_array(CALX_INT, moods, 3),
                         .docs = calx_value_array(CALX_JSON, docs, 2));
    CHECK_OK(t ? 0 : err.code, &err);
    if (!t)
        return;
    CHECK_STR(repr(t), "Ticket(id=None, moods=[<mood.happy: 'happy'>, None, <mood.sad: "
                       "'sad'>], docs=['{\"a\": 1}', None])");
    calx_value past[] = { calx_int(3) };
    CHECK_INT(calx_obj_set_array(t, &t->moods, calx_value_array(CALX_INT, past, 1)), 0);
    CHECK_INT(calx_obj_validate(t, &err), CALX_ERR_VALIDATION);
    CHECK_STR(err.message, "Ticket.moods: an ARRAY whose element 1 is 3, not a value of enum "
                           "type mood (it has 3)");
    calx_value named[] = { calx_text("ok"), calx_text("glad") };
    CHECK_INT(calx_obj_set_array(t, &t->moods, calx_value_array(CALX_TEXT, named, 2)), 0);
    CHECK_INT(calx_obj_validate(t, &err), CALX_ERR_VALIDATION);
    CHECK_STR(err.message, "Ticket.moods: an ARRAY whose element 2 is 'glad', not a name of "
                           "enum type mood");
    calx_value not_json[] = { calx_text("{oops") };
    CHECK_INT(calx_obj_set_array(t, &t->moods, calx_value_array(CALX_TEXT, named, 1)), 0);
    CHECK_INT(calx_obj_set_array(t, &t->docs, calx_value_array(CALX_TEXT, not_json, 1)), 0);
    CHECK_INT(calx_obj_validate(t, &err), CALX_ERR_VALIDATION);
    CHECK_STR(err.message, "Ticket.docs: an ARRAY whose element 1 is invalid JSON at byte 1 of "
                           "'{oops' (the column's elements are JSON)");
    calx_obj_free(t);
}

static void enum_round_trip(void);

TEST(enum_and_json_arrays_round_trip_through_the_session_on_postgresql)
{
    static const calx_table *const tables[] = { CALX_TABLE(Ticket) };
    if (test_backend_pg())
        in_db(tables, 1, enum_round_trip);
}

static void enum_round_trip(void)
{
    calx_session *s = new_session();
    calx_value moods[] = { calx_int(MOOD_HAPPY), calx_null(), calx_int(MOOD_SAD) };
    calx_value docs[] = { calx_value_json("[1, {\"b\": null}]"), calx_null() };
    Ticket *a = CALX_NEW(Ticket, &err, .moods = calx_value_array(CALX_INT, moods, 3),
                         .docs = calx_value_array(CALX_JSON, docs, 2));
    Ticket *b = CALX_NEW(Ticket, &err, .moods = calx_value_array(CALX_INT, NULL, 0));
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK_OK(calx_session_add(s, a, &err), &err);
    CHECK_OK(calx_session_add(s, b, &err), &err);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    /* Bound as the names PostgreSQL's enum takes. */
    CHECK(strstr(logbuf, "['happy', None, 'sad']") != NULL);

    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK_STR(repr(a), "Ticket(id=1, moods=[<mood.happy: 'happy'>, None, <mood.sad: 'sad'>], "
                       "docs=['[1, {\"b\": null}]', None])");
    CHECK_STR(repr(b), "Ticket(id=2, moods=[], docs=None)");
    CHECK_INT(a->moods.elem, CALX_INT);
    CHECK_INT(a->moods.u.array.items[0].u.i, MOOD_HAPPY);

    /* Found by the database's operators; a change is flushed. */
    calx_select *q = calx_select_where(calx_select_new(CALX_TABLE(Ticket)),
                                       calx_any(calx_lit_text("sad"), TICKET(moods)));
    calx_objlist l = { 0 };
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    CHECK(l.n == 1 && l.items[0] == a);
    calx_objlist_free(&l);
    calx_select_free(q);
    calx_value more[] = { calx_int(MOOD_OK) };
    CHECK_INT(calx_obj_set_array(b, &b->moods, calx_value_array(CALX_INT, more, 1)), 0);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);

    s = new_session();
    Ticket *got = NULL;
    CHECK_OK(calx_session_get(s, &Ticket_model, calx_int(2), &got, &err), &err);
    if (got)
        CHECK_STR(repr(got), "Ticket(id=2, moods=[<mood.ok: 'ok'>], docs=None)");
    calx_session_free(s);

    /* A name the program's enum lacks, loaded: an error naming it. */
    calx_connection *c = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    if (!c)
        return;
    CHECK_OK(calx_await(calx_conn_execute(c, "ALTER TYPE mood ADD VALUE 'angry'", NULL, &err),
                        NULL, &err),
             &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, "UPDATE ticket SET moods = '{angry}' WHERE id = 2",
                                          NULL, &err),
                        NULL, &err),
             &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    s = new_session();
    got = NULL;
    CHECK_INT(calx_session_get(s, &Ticket_model, calx_int(2), &got, &err), CALX_ERR_DATA);
    CHECK_CONTAINS(err.message, "column moods: the database holds 'angry' (array element 1), "
                                "which is not a name of enum type mood");
    calx_session_free(s);
}

static void round_trip(void);

TEST(arrays_round_trip_through_the_session_on_postgresql)
{
    static const calx_table *const tables[] = { CALX_TABLE(Tagged) };
    if (test_backend_pg())
        in_db(tables, 1, round_trip);
}

static void round_trip(void)
{
    calx_session *s = new_session();
    Tagged *a = new_tagged("a");
    calx_value only[] = { calx_text("green") };
    Tagged *b = CALX_NEW(Tagged, &err, .name = "b",
                         .tags = calx_value_array(CALX_TEXT, only, 1),
                         .days = calx_value_array(CALX_DATE, NULL, 0));
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK_OK(calx_session_add(s, a, &err), &err);
    CHECK_OK(calx_session_add(s, b, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);

    /* Expired by the commit, read back from the database. */
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK_STR(repr(a), "Tagged(id=1, name='a', tags=['red', None, 'blue'], "
                       "scores=[Decimal('1.50'), Decimal('20.00')], days=None)");
    CHECK_STR(repr(b), "Tagged(id=2, name='b', tags=['green'], scores=None, days=[])");

    /* The database's array operators find them. */
    char names[16];
    names_where(s, calx_array_contains(TAGGED(tags), calx_value_array(CALX_TEXT, only, 1)),
                names);
    CHECK_STR(names, "b");
    names_where(s, calx_any(calx_lit_text("blue"), TAGGED(tags)), names);
    CHECK_STR(names, "a");

    /* A change is seen and flushed; an unchanged array is not written. */
    log_reset();
    calx_value more[] = { calx_text("green"), calx_text("gold") };
    CHECK_INT(calx_obj_set_array(b, &b->tags, calx_value_array(CALX_TEXT, more, 2)), 0);
    CHECK_INT(calx_obj_set_text(a, &a->name, "a2"), 0);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(strstr(logbuf, "UPDATE tagged SET tags=") != NULL);
    CHECK(strstr(logbuf, "['green', 'gold']") != NULL);
    CHECK(strstr(logbuf, "SET name=") != NULL);
    CHECK(strstr(logbuf, "SET name=$1, tags") == NULL);
    calx_session_free(s);

    /* A new session reads the change; merge copies arrays into it. */
    s = new_session();
    Tagged *got = NULL;
    CHECK_OK(calx_session_get(s, &Tagged_model, calx_int(2), &got, &err), &err);
    CHECK(got != NULL);
    if (got)
        CHECK_STR(repr(got), "Tagged(id=2, name='b', tags=['green', 'gold'], scores=None, "
                             "days=[])");
    CHECK_OK(calx_session_expunge(s, got, &err), &err);
    calx_session *s2 = new_session();
    Tagged *merged = NULL;
    CHECK_OK(calx_session_merge(s2, got, &merged, &err), &err);
    calx_obj_free(got);
    CHECK(merged != NULL);
    if (merged)
        CHECK_STR(repr(merged), "Tagged(id=2, name='b', tags=['green', 'gold'], scores=None, "
                                "days=[])");
    calx_session_free(s2);
    calx_session_free(s);
}

TEST(sqlite_refuses_an_array_column_at_create_all)
{
    if (test_backend_pg())
        return;
    char url[1200];
    CHECK(test_fresh_url(url, sizeof url, dir, ++seq, NULL) != NULL);
    engine = calx_create_engine(url, &(calx_engine_opts){ .loop = loop }, &err);
    md = calx_metadata_new(&err);
    CHECK_OK(calx_metadata_add(md, CALX_TABLE(Tagged), &err), &err);
    int rc = calx_wait(calx_engine_create_all(engine, md, &err), NULL, &err);
    CHECK_INT(rc, CALX_ERR_NOT_SUPPORTED);
    CHECK_CONTAINS(err.message, "tagged.tags");
    calx_engine_free(engine);
    calx_loop_run(loop);
    engine = NULL;
    calx_metadata_free(md);
    md = NULL;
}

int main(void)
{
    dir = test_tmpdir("test_array_fields");
    calx_error e;
    loop = calx_loop_new(NULL, &e);
    RUN(the_constructor_copies_an_array_and_validation_checks_its_elements);
    RUN(arrays_round_trip_through_the_session_on_postgresql);
    RUN(an_enum_array_holds_c_values_checked_against_the_enum_and_shown_as_members);
    RUN(enum_and_json_arrays_round_trip_through_the_session_on_postgresql);
    RUN(sqlite_refuses_an_array_column_at_create_all);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
