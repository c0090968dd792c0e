/* SPDX-License-Identifier: MIT */
/* The richer column types on a real database (issue #11): a model with a
 * field of every kind, nullable and not, written through the session and
 * read back after commit expired it, field by field and exactly; NULL,
 * zero and the extremes of each type; comparisons, ordering, BETWEEN and
 * aggregates done by the database through Core selects; primary keys of
 * each type that can be one, found by calx_session_get through the
 * identity map; the mistakes, each with an error naming model, field and
 * value; echo and repr as SQLAlchemy and SQLModel print them.
 *
 * Each case runs on a fresh database (tests/backend.h: a SQLite file, or
 * a new schema on the PostgreSQL server CALX_TEST_URL names), so the same
 * file runs as test_column_types and test_column_types_pg; the engine,
 * echo capture and task are tests/orm_test.h's. */
#include <stdint.h>
#include <stdlib.h>

#include "backend.h"
#include "calx.h"
#include "test.h"

/* ---- models ---- */

enum mood { MOOD_SAD, MOOD_OK, MOOD_HAPPY };
static const char *const mood_names[] = { "sad", "ok", "happy" };
static const calx_enum mood_enum = { .name = "mood", .names = mood_names, .n = 3 };

#define Item_FIELDS(F, M)                                                     \
    F(M, id,         UUID,          FACTORY(calx_uuid4_factory), .primary_key = true) \
    F(M, name,       TEXT,          REQUIRED)                                 \
    F(M, price,      DECIMAL,       REQUIRED, .precision = 10, .scale = 2)    \
    F(M, day,        DATE,          REQUIRED)                                 \
    F(M, at_time,    TIME,          REQUIRED)                                 \
    F(M, local,      DATETIME,      REQUIRED)                                 \
    F(M, instant,    TIMESTAMP,     REQUIRED)                                 \
    F(M, span,       INTERVAL,      REQUIRED)                                 \
    F(M, doc,        JSON,          REQUIRED)                                 \
    F(M, mood,       ENUM,          REQUIRED, .enum_type = &mood_enum)        \
    F(M, o_price,    OPT_DECIMAL,   NONE, .precision = 10, .scale = 2)        \
    F(M, o_ref,      OPT_UUID,      NONE)                                     \
    F(M, o_day,      OPT_DATE,      NONE)                                     \
    F(M, o_time,     OPT_TIME,      NONE)                                     \
    F(M, o_local,    OPT_DATETIME,  NONE)                                     \
    F(M, o_instant,  OPT_TIMESTAMP, NONE)                                     \
    F(M, o_span,     OPT_INTERVAL,  NONE)                                     \
    F(M, o_doc,      OPT_JSON,      NONE)                                     \
    F(M, o_mood,     OPT_ENUM,      NONE, .enum_type = &mood_enum)
CALX_MODEL(Item, "item")
CALX_MODEL_DEFINE(Item, "item")

/* The widest decimal SQLite keeps (18 digits), and the other extremes. */
#define Extreme_FIELDS(F, M)                                                  \
    F(M, id,       OPT_INT64, NONE, .primary_key = true)                      \
    F(M, amount,   DECIMAL,   REQUIRED, .precision = 18, .scale = 4)          \
    F(M, day,      DATE,      REQUIRED)                                       \
    F(M, at_time,  TIME,      REQUIRED)                                       \
    F(M, local,    DATETIME,  REQUIRED)                                       \
    F(M, instant,  TIMESTAMP, REQUIRED)                                       \
    F(M, span,     INTERVAL,  REQUIRED)                                       \
    F(M, doc,      JSON,      REQUIRED)
CALX_MODEL(Extreme, "extreme")
CALX_MODEL_DEFINE(Extreme, "extreme")

/* PostgreSQL's 38 digits, which SQLite refuses at create_all. */
#define Wide_FIELDS(F, M)                                                     \
    F(M, id,     OPT_INT64, NONE, .primary_key = true)                        \
    F(M, amount, DECIMAL,   REQUIRED, .precision = 38, .scale = 10)
CALX_MODEL(Wide, "wide")
CALX_MODEL_DEFINE(Wide, "wide")

/* A primary key of each other type that can be one. */
#define KeyText_FIELDS(F, M)                                                  \
    F(M, code, TEXT, REQUIRED, .primary_key = true)                           \
    F(M, note, TEXT, REQUIRED)
CALX_MODEL(KeyText, "key_text")
CALX_MODEL_DEFINE(KeyText, "key_text")

#define KeyDec_FIELDS(F, M)                                                   \
    F(M, code, DECIMAL, REQUIRED, .primary_key = true, .precision = 10, .scale = 2) \
    F(M, note, TEXT,    REQUIRED)
CALX_MODEL(KeyDec, "key_dec")
CALX_MODEL_DEFINE(KeyDec, "key_dec")

#define KeyDate_FIELDS(F, M)                                                  \
    F(M, day,  DATE, REQUIRED, .primary_key = true)                           \
    F(M, note, TEXT, REQUIRED)
CALX_MODEL(KeyDate, "key_date")
CALX_MODEL_DEFINE(KeyDate, "key_date")

/* An enum column alone, for names written behind the ORM's back. */
#define Feeling_FIELDS(F, M)                                                  \
    F(M, id,   OPT_INT64, NONE, .primary_key = true)                          \
    F(M, mood, ENUM,      REQUIRED, .enum_type = &mood_enum)
CALX_MODEL(Feeling, "feeling")
CALX_MODEL_DEFINE(Feeling, "feeling")

/* A server default read back at insert, and an onupdate (SQLAlchemy's
 * server_default=func.now(), onupdate=...). A text key: rows whose keys
 * are given read their defaults back too. */
#define Note_FIELDS(F, M)                                                     \
    F(M, id,         OPT_INT64,     NONE, .primary_key = true)                \
    F(M, body,       TEXT,          REQUIRED)                                 \
    F(M, created_at, OPT_TIMESTAMP, NONE, .server_default = "CURRENT_TIMESTAMP") \
    F(M, updated_at, OPT_TIMESTAMP, NONE, .onupdate = calx_now_utc)
CALX_MODEL(Note, "note")
CALX_MODEL_DEFINE(Note, "note")

#define Tag_FIELDS(F, M)                                                      \
    F(M, code,       TEXT,          REQUIRED, .primary_key = true)            \
    F(M, made_at,    OPT_TIMESTAMP, NONE, .server_default = "CURRENT_TIMESTAMP")
CALX_MODEL(Tag, "tag")
CALX_MODEL_DEFINE(Tag, "tag")

/* An enum with SQLAlchemy's create_constraint=True: a CHECK where enums
 * are not native. */
static const calx_enum checked_mood = { .name = "checked_mood", .names = mood_names, .n = 3,
                                        .check = true };
#define Checked_FIELDS(F, M)                                                  \
    F(M, id,   OPT_INT64, NONE, .primary_key = true)                          \
    F(M, mood, ENUM,      REQUIRED, .enum_type = &checked_mood)
CALX_MODEL(Checked, "checked")
CALX_MODEL_DEFINE(Checked, "checked")

/* Every scalar type whose values a many-row INSERT sends as one array a
 * column on PostgreSQL (the sentinel form over arrays). */
#define Reading_FIELDS(F, M)                                                  \
    F(M, id,      OPT_INT64,     NONE, .primary_key = true)                   \
    F(M, label,   TEXT,          REQUIRED)                                    \
    F(M, price,   OPT_DECIMAL,   NONE, .precision = 10, .scale = 2)           \
    F(M, ref,     OPT_UUID,      NONE)                                        \
    F(M, day,     OPT_DATE,      NONE)                                        \
    F(M, at_time, OPT_TIME,      NONE)                                        \
    F(M, local,   OPT_DATETIME,  NONE)                                        \
    F(M, instant, OPT_TIMESTAMP, NONE)                                        \
    F(M, span,    OPT_INTERVAL,  NONE)                                        \
    F(M, score,   OPT_DOUBLE,    NONE)                                        \
    F(M, flag,    OPT_BOOL,      NONE)                                        \
    F(M, small,   OPT_INT32,     NONE)
CALX_MODEL(Reading, "reading")
CALX_MODEL_DEFINE(Reading, "reading")

#define ITEM(f) CALX_C(Item, f)

/* ---- the harness: orm_test.h's engine, echo capture and task (after
 * the models, whose functions name their own err), on a fresh database
 * per case ---- */

#include "orm_test.h"
#include "orm_db.h"

/* The first log line containing what (static copy), or NULL. */
static const char *log_line(const char *what)
{
    static char line[8192];
    for (const char *p = logbuf; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n < sizeof line) {
            memcpy(line, p, n);
            line[n] = '\0';
            if (strstr(line, what))
                return line;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

static bool pg(void)
{
    return test_backend_pg();
}


/* Runs sql (text, no rows wanted) on a connection of its own. */
static int run_sql(const char *sql, calx_error *e)
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    int rc = calx_await(calx_engine_connect(engine, e), &c, e);
    if (rc == 0)
        rc = calx_await(calx_conn_execute(c, sql, NULL, e), &r, e);
    if (rc == 0)
        rc = calx_await(calx_conn_commit(c, e), NULL, e);
    /* A statement that failed is rolled back before the connection goes:
     * closed with the transaction open, it would go back to the pool and be
     * rolled back there, in the background, and on SQLite the next case's
     * drop_all (it reads, then writes) could meet its write lock. */
    if (rc && c) {
        calx_error ignored;
        calx_await(calx_conn_rollback(c, &ignored), NULL, &ignored);
    }
    calx_result_free(r);
    calx_conn_close(c);
    return rc;
}

/* Runs q on a connection of its own: the buffered result, or NULL (the
 * case failed). q is freed. */
static calx_result *run_select(calx_select *q)
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    if (calx_await(calx_engine_connect(engine, &err), &c, &err) == 0)
        CHECK_OK(calx_await(calx_conn_execute_select(c, q, &err), &r, &err), &err);
    else
        CHECK_OK(1, &err);
    calx_conn_close(c);
    calx_select_free(q);
    return r;
}

/* ---- values ---- */

static calx_decimal dec(const char *s)
{
    calx_decimal d = { 0 };
    CHECK_OK(calx_decimal_parse(s, strlen(s), &d, &err), &err);
    return d;
}

static calx_uuid uuid(const char *s)
{
    calx_uuid u = { { 0 } };
    CHECK_OK(calx_uuid_parse(s, strlen(s), &u, &err), &err);
    return u;
}

static calx_date date(const char *s)
{
    calx_date d = 0;
    CHECK_OK(calx_date_parse(s, strlen(s), &d, &err), &err);
    return d;
}

static calx_time tod(const char *s)
{
    calx_time t = 0;
    CHECK_OK(calx_time_parse(s, strlen(s), &t, &err), &err);
    return t;
}

static calx_datetime naive(const char *s)
{
    calx_datetime dt = 0;
    CHECK_OK(calx_datetime_parse(s, strlen(s), &dt, &err), &err);
    return dt;
}

static calx_timestamp instant(const char *s)
{
    calx_timestamp ts = 0;
    CHECK_OK(calx_timestamp_parse(s, strlen(s), &ts, &err), &err);
    return ts;
}

static calx_interval interval(const char *s)
{
    calx_interval iv = { 0, 0, 0 };
    CHECK_OK(calx_interval_parse(s, strlen(s), &iv, &err), &err);
    return iv;
}

/* The same decimal: equal value and the same scale (1.10 is not 1.1 here). */
#define CHECK_DEC(a, b)                                                       \
    do {                                                                      \
        calx_decimal a__ = (a), b__ = (b);                                    \
        char ta__[CALX_DECIMAL_TEXT_SIZE], tb__[CALX_DECIMAL_TEXT_SIZE];      \
        calx_decimal_format(a__, ta__, sizeof ta__);                          \
        calx_decimal_format(b__, tb__, sizeof tb__);                          \
        CHECK_STR(ta__, tb__);                                                \
    } while (0)

#define CHECK_UUID(a, b) CHECK(calx_uuid_cmp((a), (b)) == 0)

/* An interval as the database gives it back: as written on PostgreSQL;
 * on SQLite (stored as a time after 1970-01-01) normalised as Python's
 * timedelta, 0 <= micros < 1 day, the same length. */
static calx_interval stored_iv(calx_interval iv)
{
    if (test_backend_pg())
        return iv;
    int64_t day = INT64_C(86400000000);
    int64_t total = (int64_t)iv.days * day + iv.micros;
    int64_t days = total / day, micros = total % day;
    if (micros < 0) {
        micros += day;
        days--;
    }
    return (calx_interval){ iv.months, (int32_t)days, micros };
}

#define CHECK_IV(a, b)                                                        \
    do {                                                                      \
        calx_interval a__ = (a), b__ = (b);                                   \
        CHECK_INT(a__.months, b__.months);                                    \
        CHECK_INT(a__.days, b__.days);                                        \
        CHECK_INT(a__.micros, b__.micros);                                    \
    } while (0)

/* Every field of two Items the same, exactly. */
static void check_items_equal(const Item *a, const Item *b)
{
    CHECK_UUID(a->id, b->id);
    CHECK_STR(a->name, b->name);
    CHECK_DEC(a->price, b->price);
    CHECK_INT(a->day, b->day);
    CHECK_INT(a->at_time, b->at_time);
    CHECK_INT(a->local, b->local);
    CHECK_INT(a->instant, b->instant);
    CHECK_IV(a->span, stored_iv(b->span));
    CHECK_STR(a->doc, b->doc);
    CHECK_INT(a->mood, b->mood);
    CHECK_INT(a->o_price.valid, b->o_price.valid);
    if (a->o_price.valid && b->o_price.valid)
        CHECK_DEC(a->o_price.value, b->o_price.value);
    CHECK_INT(a->o_ref.valid, b->o_ref.valid);
    if (a->o_ref.valid && b->o_ref.valid)
        CHECK_UUID(a->o_ref.value, b->o_ref.value);
    CHECK_INT(a->o_day.valid, b->o_day.valid);
    CHECK_INT(a->o_day.value * a->o_day.valid, b->o_day.value * b->o_day.valid);
    CHECK_INT(a->o_time.valid, b->o_time.valid);
    CHECK_INT(a->o_time.value * a->o_time.valid, b->o_time.value * b->o_time.valid);
    CHECK_INT(a->o_local.valid, b->o_local.valid);
    CHECK_INT(a->o_local.value * a->o_local.valid, b->o_local.value * b->o_local.valid);
    CHECK_INT(a->o_instant.valid, b->o_instant.valid);
    CHECK_INT(a->o_instant.value * a->o_instant.valid,
              b->o_instant.value * b->o_instant.valid);
    CHECK_INT(a->o_span.valid, b->o_span.valid);
    if (a->o_span.valid && b->o_span.valid)
        CHECK_IV(a->o_span.value, stored_iv(b->o_span.value));
    CHECK((a->o_doc == NULL) == (b->o_doc == NULL));
    if (a->o_doc && b->o_doc)
        CHECK_STR(a->o_doc, b->o_doc);
    CHECK_INT(a->o_mood.valid, b->o_mood.valid);
    CHECK_INT(a->o_mood.value * a->o_mood.valid, b->o_mood.value * b->o_mood.valid);
}

/* A copy of an Item's values (its texts still the object's: only for
 * comparing while the object lives). */
static Item snapshot(const Item *it)
{
    Item c;
    memcpy(&c, it, sizeof c);
    return c;
}

/* An Item with every field set, the nullable ones too. */
static Item *full_item(const char *name)
{
    Item *it = CALX_NEW(Item, &err, .name = name, .price = dec("19.99"),
                        .day = date("2024-02-29"), .at_time = tod("13:45:00.250000"),
                        .local = naive("2024-02-29 13:45:00"),
                        .instant = instant("2024-02-29 13:45:00+05:30"),
                        .span = interval("P1DT2H3M4.5S"),
                        .doc = "{\"tags\": [\"a\", \"b\"], \"n\": 1.5, \"ok\": true}",
                        .mood = MOOD_HAPPY, .o_price = CALX_SOME(dec("-0.01")),
                        .o_ref = CALX_SOME(uuid("12345678-1234-5678-1234-567812345678")),
                        .o_day = CALX_SOME(date("1999-12-31")),
                        .o_time = CALX_SOME(tod("00:00:01")),
                        .o_local = CALX_SOME(naive("2000-01-01 00:00:00.000001")),
                        .o_instant = CALX_SOME(instant("2000-01-01 00:00:00Z")),
                        .o_span = CALX_SOME(interval("-PT1.5S")), .o_doc = "[1, 2, 3]",
                        .o_mood = CALX_SOME(MOOD_SAD));
    if (!it)
        fprintf(stderr, "  CALX_NEW(Item): %s\n", err.message);
    CHECK(it != NULL);
    return it;
}

/* ---- a model with every kind ---- */

DB_TEST(every_kind_goes_in_through_the_session_and_comes_back_exactly_after_commit,
        CALX_TABLE(Item))
{
    calx_session *s = new_session();
    Item *full = full_item("full");
    Item *bare = CALX_NEW(Item, &err, .name = "bare", .price = dec("5"),
                          .day = date("2024-01-01"), .at_time = tod("00:00:00"),
                          .local = naive("2024-01-01 00:00:00"),
                          .instant = instant("2024-01-01 00:00:00Z"),
                          .span = interval("PT0S"), .doc = "{}", .mood = MOOD_OK);
    CHECK(full && bare);
    if (!full || !bare)
        return;
    /* The factory made a random version 4 key. */
    CHECK_INT(full->id.bytes[6] >> 4, 4);
    CHECK(calx_uuid_cmp(full->id, bare->id) != 0);
    Item want_full = snapshot(full), want_bare = snapshot(bare);
    char *doc_full = strdup(full->doc), *odoc_full = strdup(full->o_doc), *doc_bare = strdup(bare->doc);
    want_full.name = "full";
    want_bare.name = "bare";
    want_full.doc = doc_full;
    want_full.o_doc = odoc_full;
    want_bare.doc = doc_bare;
    /* A whole number comes back at the column's scale: 5 is 5.00. */
    want_bare.price = dec("5.00");
    CHECK_OK(calx_session_add_all(s, (void *[]){ full, bare }, 2, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(calx_obj_expired(full));
    /* Read again: the same objects, reloaded from their rows. */
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(!calx_obj_expired(full));
    check_items_equal(full, &want_full);
    check_items_equal(bare, &want_bare);
    CHECK(!bare->o_price.valid && !bare->o_ref.valid && !bare->o_day.valid &&
          !bare->o_time.valid && !bare->o_local.valid && !bare->o_instant.valid &&
          !bare->o_span.valid && bare->o_doc == NULL && !bare->o_mood.valid);
    calx_session_free(s);

    /* And in a new session, from the database alone. */
    s = new_session();
    Item *again = NULL;
    CHECK_OK(calx_session_get(s, &Item_model, calx_value_uuid(want_full.id), &again, &err), &err);
    CHECK(again != NULL);
    if (again)
        check_items_equal(again, &want_full);
    calx_session_free(s);
    free(doc_full);
    free(odoc_full);
    free(doc_bare);
}

DB_TEST(create_all_makes_the_enum_type_before_the_table_and_drop_all_drops_it,
        CALX_TABLE(Item))
{
    const char *create = log_line("CREATE TABLE item");
    CHECK(create != NULL);
    if (pg()) {
        char *type_line = strdup(log_line("CREATE TYPE mood") ? log_line("CREATE TYPE mood") : "");
        CHECK_STR(type_line, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
        free(type_line);
        CHECK(strstr(logbuf, "CREATE TYPE mood") < strstr(logbuf, "CREATE TABLE item"));
        CHECK(strstr(logbuf, "\tmood mood NOT NULL") != NULL);
        CHECK(strstr(logbuf, "\tprice NUMERIC(10, 2) NOT NULL") != NULL);
        CHECK(strstr(logbuf, "\tid UUID NOT NULL") != NULL);
    } else {
        CHECK(strstr(logbuf, "\tmood VARCHAR(5) NOT NULL") != NULL);
        CHECK(strstr(logbuf, "\tprice NUMERIC(10, 2) NOT NULL") != NULL);
        CHECK(strstr(logbuf, "\tid CHAR(32) NOT NULL") != NULL);
    }
    const char *count_types =
        pg() ? "SELECT count(*) FROM pg_type WHERE typname = 'mood' AND "
               "typnamespace = current_schema()::regnamespace"
             : "SELECT count(*) FROM sqlite_master WHERE name = 'item'";
    calx_connection *c = NULL;
    calx_result *r = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, count_types, NULL, &err), &r, &err), &err);
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 1);
    calx_result_free(r);
    r = NULL;
    calx_conn_close(c);
    c = NULL;
    log_reset();
    CHECK_OK(calx_await(calx_engine_drop_all(engine, md, &err), NULL, &err), &err);
    if (pg()) {
        CHECK(log_line("DROP TYPE mood") != NULL);
        CHECK(strstr(logbuf, "DROP TABLE item") < strstr(logbuf, "DROP TYPE mood"));
    }
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, count_types, NULL, &err), &r, &err), &err);
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 0);
    calx_result_free(r);
    calx_conn_close(c);
    /* Made again for the harness's drop_all: create_all twice over works. */
    CHECK_OK(calx_await(calx_engine_create_all(engine, md, &err), NULL, &err), &err);
}

/* ---- round trips ---- */

DB_TEST(null_and_zero_values_round_trip_as_themselves, CALX_TABLE(Item))
{
    calx_session *s = new_session();
    /* Zero of every kind, in the nullable fields too: valid, not NULL. */
    Item *zero = CALX_NEW(Item, &err, .name = "", .price = dec("0.00"), .day = 0, .at_time = 0,
                          .local = 0, .instant = 0, .span = interval("PT0S"), .doc = "null",
                          .mood = MOOD_SAD, .o_price = CALX_SOME(dec("0.00")),
                          .o_ref = CALX_SOME(uuid("00000000-0000-0000-0000-000000000000")),
                          .o_day = CALX_SOME(0), .o_time = CALX_SOME(0),
                          .o_local = CALX_SOME(0), .o_instant = CALX_SOME(0),
                          .o_span = CALX_SOME(interval("PT0S")), .o_doc = "0",
                          .o_mood = CALX_SOME(MOOD_SAD));
    CHECK(zero != NULL);
    if (!zero)
        return;
    Item want = snapshot(zero);
    CHECK_OK(calx_session_add(s, zero, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    want.name = "";
    want.doc = "null";
    want.o_doc = "0";
    check_items_equal(zero, &want);
    CHECK(zero->o_price.valid && zero->o_ref.valid && zero->o_day.valid && zero->o_time.valid &&
          zero->o_local.valid && zero->o_instant.valid && zero->o_span.valid &&
          zero->o_doc != NULL && zero->o_mood.valid);
    CHECK_STR(zero->doc, "null");
    char text[CALX_DATETIME_TEXT_SIZE];
    calx_date_format(zero->day, text, sizeof text);
    CHECK_STR(text, "1970-01-01");

    /* A value set to NULL afterwards is written as NULL. */
    CALX_SET_NULL(zero->o_price);
    CALX_SET_NULL(zero->o_ref);
    CALX_SET_NULL(zero->o_day);
    CALX_SET_NULL(zero->o_time);
    CALX_SET_NULL(zero->o_local);
    CALX_SET_NULL(zero->o_instant);
    CALX_SET_NULL(zero->o_span);
    CHECK_INT(calx_obj_set_text(zero, &zero->o_doc, NULL), 0);
    CALX_SET_NULL(zero->o_mood);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(!zero->o_price.valid && !zero->o_ref.valid && !zero->o_day.valid &&
          !zero->o_time.valid && !zero->o_local.valid && !zero->o_instant.valid &&
          !zero->o_span.valid && zero->o_doc == NULL && !zero->o_mood.valid);
    /* The database holds NULLs, not zeros. */
    calx_select *q = calx_select_where(calx_select_columns(calx_count_all()),
                                       calx_is_null(ITEM(o_price)));
    q = calx_select_where(q, calx_is_null(ITEM(o_day)));
    q = calx_select_where(q, calx_is_null(ITEM(o_doc)));
    calx_result *r = run_select(q);
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 1);
    calx_result_free(r);
    calx_session_free(s);
}

static Extreme *extreme(const char *amount, const char *day, const char *t, const char *local,
                        const char *inst, const char *span, const char *doc)
{
    Extreme *x = CALX_NEW(Extreme, &err, .amount = dec(amount), .day = date(day),
                          .at_time = tod(t), .local = naive(local), .instant = instant(inst),
                          .span = interval(span), .doc = doc);
    if (!x)
        fprintf(stderr, "  CALX_NEW(Extreme): %s\n", err.message);
    CHECK(x != NULL);
    return x;
}

DB_TEST(extremes_of_each_type_round_trip, CALX_TABLE(Extreme))
{
    /* 100 nested arrays around a unicode string. */
    char deep[400] = "";
    for (int i = 0; i < 100; i++)
        strcat(deep, "[");
    strcat(deep, "\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    for (int i = 0; i < 100; i++)
        strcat(deep, "]");
    const char *unicode = "{\"name\": \"Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\", "
                          "\"esc\": \"\\u00e9\\n\"}";
    Extreme *x[6];
    x[0] = extreme("99999999999999.9999", "0001-01-01", "00:00:00", "0001-01-01 00:00:00",
                   "0001-01-01 00:00:00+00:00", "PT0S", deep);
    x[1] = extreme("-99999999999999.9999", "9999-12-31", "23:59:59.999999",
                   "9999-12-31 23:59:59.999999", "9999-12-31 23:59:59.999999+00:00",
                   "-P3DT4H5M6.000001S", unicode);
    x[2] = extreme("-0.0001", "2024-02-29", "12:00:00", "2024-02-29 23:59:59.999999",
                   "2024-02-29 23:15:00+05:30", "P-1DT-0.000001S", "[]");
    x[3] = extreme("0.0001", "2000-02-29", "00:00:00.000001", "1900-03-01 00:00:00",
                   "2024-02-29 08:15:00-09:30", "P10000D", "\"\"");
    x[4] = extreme("12345678901234.5678", "1969-12-31", "23:59:59", "1969-12-31 23:59:59",
                   "1969-12-31 23:59:59.999999Z", "-PT0.000001S", "-1.5");
    x[5] = NULL;
    for (int i = 0; i < 5; i++)
        if (!x[i])
            return;
    /* The two offsets name the instant they mean. */
    CHECK_INT(x[2]->instant, instant("2024-02-29 17:45:00Z"));
    CHECK_INT(x[3]->instant, instant("2024-02-29 17:45:00Z"));
    Extreme want[5];
    char *docs[5];
    for (int i = 0; i < 5; i++) {
        want[i] = *x[i];
        docs[i] = strdup(x[i]->doc);
        want[i].doc = docs[i];
    }
    calx_session *s = new_session();
    CHECK_OK(calx_session_add_all(s, (void **)x, 5, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    for (int i = 0; i < 5; i++) {
        CHECK_DEC(x[i]->amount, want[i].amount);
        CHECK_INT(x[i]->day, want[i].day);
        CHECK_INT(x[i]->at_time, want[i].at_time);
        CHECK_INT(x[i]->local, want[i].local);
        CHECK_INT(x[i]->instant, want[i].instant);
        CHECK_IV(x[i]->span, stored_iv(want[i].span));
        CHECK(calx_interval_cmp(x[i]->span, want[i].span) == 0);
        CHECK_STR(x[i]->doc, want[i].doc);
        free(docs[i]);
    }
    char text[CALX_DATETIME_TEXT_SIZE];
    calx_datetime_format(x[1]->local, text, sizeof text);
    CHECK_STR(text, "9999-12-31 23:59:59.999999");
    calx_time_format(x[1]->at_time, text, sizeof text);
    CHECK_STR(text, "23:59:59.999999");
    calx_timestamp_format(x[2]->instant, -570, text, sizeof text);
    CHECK_STR(text, "2024-02-29 08:15:00-09:30");
    calx_session_free(s);

    /* Months in an interval: PostgreSQL keeps them; SQLite's storage (a
     * date-time after 1970-01-01) cannot, and the flush says so. */
    s = new_session();
    Extreme *months = extreme("1", "2024-02-29", "00:00:00", "2024-02-29 00:00:00",
                              "2024-02-29 00:00:00Z", "-P1Y2M-3D", "1");
    if (!months) {
        calx_session_free(s);
        return;
    }
    CHECK_OK(calx_session_add(s, months, &err), &err);
    int rc = calx_session_commit(s, &err);
    if (pg()) {
        CHECK_OK(rc, &err);
        CHECK_OK(calx_session_reload_expired(s, &err), &err);
        CHECK_IV(months->span, ((calx_interval){ -14, 3, 0 }));
    } else {
        CHECK_INT(rc, CALX_ERR_DATA);
        CHECK_CONTAINS(err.message, "span");
        CHECK_CONTAINS(err.message, "month");
        CHECK_OK(calx_session_rollback(s, &err), &err);
    }
    calx_session_free(s);
}

static void thirty_eight_digits_body(void);

TEST(thirty_eight_digits_round_trip_on_postgresql)
{
    if (!pg())
        SKIP("SQLite keeps at most 18 digits (the next case)");
    static const calx_table *const tables[] = { CALX_TABLE(Wide) };
    in_db(tables, 1, thirty_eight_digits_body);
}

static void thirty_eight_digits_body(void)
{
    const char *texts[] = { "9999999999999999999999999999.9999999999",
                            "-9999999999999999999999999999.9999999999",
                            "-0.0000000001", "1234567890123456789012345678.0123456789" };
    calx_session *s = new_session();
    Wide *w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = CALX_NEW(Wide, &err, .amount = dec(texts[i]));
        CHECK(w[i] != NULL);
        if (!w[i])
            return;
    }
    CHECK_OK(calx_session_add_all(s, (void **)w, 4, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    for (int i = 0; i < 4; i++)
        CHECK_DEC(w[i]->amount, dec(texts[i]));
    /* sum() of the extremes, exactly. */
    calx_result *r = run_select(calx_select_columns(calx_sum(CALX_C(Wide, amount))));
    calx_decimal sum = { 0 };
    CHECK_OK(calx_row_get_decimal(calx_result_first(r), 0, &sum, &err), &err);
    CHECK_DEC(sum, dec("1234567890123456789012345678.0123456788"));
    calx_result_free(r);
    calx_session_free(s);
}

TEST(sqlite_refuses_a_decimal_of_more_than_18_digits_at_create_all)
{
    if (pg())
        SKIP("PostgreSQL keeps 38 digits (the case before)");
    char url[1200];
    CHECK(test_fresh_url(url, sizeof url, dir, ++seq, NULL) != NULL);
    engine = calx_create_engine(url, &(calx_engine_opts){ .loop = loop }, &err);
    CHECK(engine != NULL);
    if (!engine)
        return;
    md = calx_metadata_new(&err);
    CHECK_OK(calx_metadata_add(md, CALX_TABLE(Wide), &err), &err);
    int rc = calx_wait(calx_engine_create_all(engine, md, &err), NULL, &err);
    CHECK_INT(rc, CALX_ERR_NOT_SUPPORTED);
    CHECK_CONTAINS(err.message, "wide.amount");
    CHECK_CONTAINS(err.message, "18");
    /* Nothing was made. */
    calx_connection *c = NULL;
    calx_result *r = NULL;
    CHECK_OK(calx_wait(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_wait(calx_conn_execute(c, "SELECT count(*) FROM sqlite_master", NULL, &err),
                       &r, &err),
             &err);
    CHECK_INT(calx_row_int(calx_result_first(r), 0), 0);
    calx_result_free(r);
    calx_conn_close(c);
    calx_engine_free(engine);
    calx_loop_run(loop);
    engine = NULL;
    calx_metadata_free(md);
    md = NULL;
}

/* ---- the database compares, orders and sums ---- */

static const char *const order_uuids[] = {
    "ffffffff-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001",
    "7fffffff-ffff-4fff-bfff-ffffffffffff", "80000000-0000-4000-8000-000000000000",
    "0fffffff-ffff-4fff-bfff-fffffffffffe",
};

static void add_priced(calx_session *s)
{
    static const struct {
        const char *name, *price, *day, *inst;
    } rows[] = {
        { "a", "10.50", "2024-02-29", "2024-03-01 00:00:00+05:30" }, /* 02-29 18:30Z */
        { "b", "-5.25", "0001-01-01", "2024-02-29 08:00:00-09:30" }, /* 02-29 17:30Z */
        { "c", "10.51", "9999-12-31", "2024-02-29 18:00:00Z" },
        { "d", "100.00", "2023-12-31", "1970-01-01 00:00:00Z" },
        { "e", "9.99", "2024-03-01", "2024-02-29 17:30:00.000001Z" },
    };
    for (int i = 0; i < 5; i++) {
        Item *it = CALX_NEW(Item, &err, .id = uuid(order_uuids[i]), .name = rows[i].name,
                            .price = dec(rows[i].price), .day = date(rows[i].day),
                            .at_time = 0, .local = 0, .instant = instant(rows[i].inst),
                            .span = interval("PT0S"), .doc = "{}", .mood = MOOD_OK);
        CHECK(it != NULL);
        if (it)
            CHECK_OK(calx_session_add(s, it, &err), &err);
    }
    CHECK_OK(calx_session_commit(s, &err), &err);
}

/* The names of q's rows (its first column), joined: "abc". */
static void names_of(calx_select *q, char *out)
{
    calx_result *r = run_select(q);
    out[0] = '\0';
    for (size_t i = 0; r && i < calx_result_nrows(r); i++)
        strcat(out, calx_row_text(calx_result_row(r, i), 0));
    calx_result_free(r);
}

static calx_select *names_ordered(calx_expr *by, calx_order order)
{
    return calx_select_order_by(calx_select_columns(ITEM(name)), by, order);
}

DB_TEST(the_database_compares_orders_and_sums_the_new_types, CALX_TABLE(Item))
{
    calx_session *s = new_session();
    add_priced(s);
    calx_session_free(s);
    char names[32];

    /* WHERE price > 10.5, as a decimal and as text. */
    calx_select *q = calx_select_where(names_ordered(ITEM(name), CALX_ASC),
                                       calx_gt(ITEM(price), calx_value_decimal(dec("10.5"))));
    names_of(q, names);
    CHECK_STR(names, "cd");
    names_of(calx_select_where(names_ordered(ITEM(name), CALX_ASC), calx_gt(ITEM(price), "10.5")),
             names);
    CHECK_STR(names, "cd");
    names_of(calx_select_where(names_ordered(ITEM(name), CALX_ASC), calx_lt(ITEM(price), 0)),
             names);
    CHECK_STR(names, "b");

    /* ORDER BY each type: the database's order is the values' order. */
    names_of(names_ordered(ITEM(price), CALX_ASC), names);
    CHECK_STR(names, "beacd");
    names_of(names_ordered(ITEM(day), CALX_ASC), names);
    CHECK_STR(names, "bdaec");
    names_of(names_ordered(ITEM(day), CALX_DESC), names);
    CHECK_STR(names, "ceadb");
    names_of(names_ordered(ITEM(instant), CALX_ASC), names);
    CHECK_STR(names, "dbeca");
    /* UUIDs in byte order, as calx_uuid_cmp orders them. */
    names_of(names_ordered(ITEM(id), CALX_ASC), names);
    CHECK_STR(names, "becda");

    /* BETWEEN on dates, bounds included; a date literal given as text. */
    names_of(calx_select_where(names_ordered(ITEM(day), CALX_ASC),
                               calx_between(ITEM(day), calx_value_date(date("2023-12-31")),
                                            "2024-02-29")),
             names);
    CHECK_STR(names, "da");
    /* An instant compared with an aware text: the same instant at +05:30. */
    names_of(calx_select_where(names_ordered(ITEM(name), CALX_ASC),
                               calx_eq(ITEM(instant), "2024-02-29 23:00:00+05:30")),
             names);
    CHECK_STR(names, "b");
    /* A UUID compared with its text, with or without hyphens. */
    names_of(calx_select_where(names_ordered(ITEM(name), CALX_ASC),
                               calx_eq(ITEM(id), "7FFFFFFFFFFF4FFFBFFFFFFFFFFFFFFF")),
             names);
    CHECK_STR(names, "c");

    /* sum, min and max come back as exact decimals (on SQLite, the sum of
     * the scaled integers, made a decimal through the select's column). */
    calx_result *r = run_select(calx_select_columns(calx_sum(ITEM(price)), calx_min(ITEM(price)),
                                                    calx_max(ITEM(price)), calx_min(ITEM(day)),
                                                    calx_max(ITEM(day)),
                                                    calx_max(ITEM(instant))));
    const calx_row *row = calx_result_first(r);
    calx_decimal d = { 0 };
    CHECK_OK(calx_row_get_decimal(row, 0, &d, &err), &err);
    CHECK_DEC(d, dec("125.75"));
    CHECK_OK(calx_row_get_decimal(row, 1, &d, &err), &err);
    CHECK_DEC(d, dec("-5.25"));
    CHECK_OK(calx_row_get_decimal(row, 2, &d, &err), &err);
    CHECK_DEC(d, dec("100.00"));
    calx_date day = 0;
    CHECK_OK(calx_row_get_date(row, 3, &day, &err), &err);
    CHECK_INT(day, date("0001-01-01"));
    CHECK_OK(calx_row_get_date(row, 4, &day, &err), &err);
    CHECK_INT(day, date("9999-12-31"));
    calx_timestamp ts = 0;
    CHECK_OK(calx_row_get_timestamp(row, 5, &ts, &err), &err);
    CHECK_INT(ts, instant("2024-02-29 18:30:00Z"));
    /* The lenient getters read the same values. */
    CHECK_DEC(calx_row_decimal(row, 0), dec("125.75"));
    CHECK_INT(calx_row_date(row, 4), date("9999-12-31"));
    CHECK_INT(calx_row_timestamp(row, 5), instant("2024-02-29 18:30:00Z"));
    calx_result_free(r);

    /* A whole row through a Core select: every column its type. */
    r = run_select(calx_select_where(calx_select_new(CALX_TABLE(Item)), calx_eq(ITEM(name), "e")));
    row = calx_result_first(r);
    calx_uuid u;
    CHECK_OK(calx_row_get_uuid(row, 0, &u, &err), &err);
    CHECK_UUID(u, uuid(order_uuids[4]));
    CHECK_OK(calx_row_get_decimal(row, 2, &d, &err), &err);
    CHECK_DEC(d, dec("9.99"));
    CHECK_STR(calx_row_text(row, 9), "ok");
    CHECK(calx_row_isnull(row, 10));
    CHECK_UUID(calx_row_uuid(row, 0), uuid(order_uuids[4]));
    CHECK_DEC(calx_row_decimal(row, 2), dec("9.99"));
    /* ... and give the zero for NULL, another type, no column or no row. */
    CHECK_DEC(calx_row_decimal(row, 10), calx_decimal_of(0, 0));
    CHECK_UUID(calx_row_uuid(row, 1), (calx_uuid){ { 0 } });
    CHECK_INT(calx_row_date(row, 99), 0);
    calx_interval none = calx_row_interval(NULL, 0);
    CHECK(none.months == 0 && none.days == 0 && none.micros == 0);
    CHECK_INT(calx_row_time(NULL, 0), 0);
    CHECK_INT(calx_row_datetime(row, 1), 0);
    calx_result_free(r);
}

/* Several rows with generated keys go in as one statement (PostgreSQL's
 * sentinel form casts each value to its column's type: an enum's is its
 * own type's name). */
DB_TEST(many_rows_with_an_enum_go_in_one_statement_and_keep_their_keys, CALX_TABLE(Feeling))
{
    calx_session *s = new_session();
    Feeling *f[3];
    for (int i = 0; i < 3; i++) {
        f[i] = CALX_NEW(Feeling, &err, .mood = i);
        CHECK(f[i] != NULL);
        if (f[i])
            CHECK_OK(calx_session_add(s, f[i], &err), &err);
    }
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    if (pg())
        CHECK(log_line("CAST(p0 AS mood)") != NULL);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    for (int i = 0; i < 3; i++)
        if (f[i]) {
            CHECK_INT(f[i]->id.value, i + 1);
            CHECK_INT(f[i]->mood, i);
        }
    calx_session_free(s);
}

/* Rows of every scalar type, texts an array literal would have to quote
 * and NULLs among the values: in one statement (on PostgreSQL one array a
 * column), each key to its own object, each value back as it went in. */
DB_TEST(many_rows_of_every_scalar_type_go_in_one_statement_and_come_back_as_they_went,
        CALX_TABLE(Reading))
{
    static const char *const labels[] = { "plain", "it's \"quoted\"", "back\\slash, {braces}",
                                          "NULL", "", "\xc3\xbcnicode \xe2\x9c\x93" };
    enum { N = 6 };
    calx_session *s = new_session();
    Reading *r[N];
    for (int i = 0; i < N; i++) {
        /* The odd rows leave every optional field NULL; the even ones set
         * each to a value of its own. */
        r[i] = i % 2 ? CALX_NEW(Reading, &err, .label = labels[i])
                     : CALX_NEW(Reading, &err, .label = labels[i],
                                .price = CALX_SOME(dec(i ? "-0.05" : "12345678.90")),
                                .ref = CALX_SOME(uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
                                .day = CALX_SOME(date(i ? "1999-12-31" : "2024-02-29")),
                                .at_time = CALX_SOME(tod("23:59:59.999999")),
                                .local = CALX_SOME(naive("2001-02-03 04:05:06.7")),
                                .instant = CALX_SOME(instant("2020-06-30 12:00:00Z")),
                                .span = CALX_SOME(interval("P2DT3H")),
                                .score = CALX_SOME(i * 0.5 - 1e300),
                                .flag = CALX_SOME(i == 4), .small = CALX_SOME(-2147483647 + i));
        CHECK(r[i] != NULL);
        if (!r[i])
            return;
        CHECK_OK(calx_session_add(s, r[i], &err), &err);
    }
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    if (pg()) {
        CHECK_INT(log_count("INSERT INTO reading"), 1);
        CHECK(log_line("FROM unnest(CAST($1 AS VARCHAR[]), CAST($2 AS NUMERIC[]), ") != NULL);
    }
    calx_session *s2 = new_session();
    for (int i = 0; i < N; i++) {
        CHECK(r[i]->id.valid);
        Reading *b = NULL;
        CHECK_OK(calx_session_get(s2, &Reading_model, calx_int(r[i]->id.value), &b, &err), &err);
        CHECK(b != NULL);
        if (!b)
            continue;
        CHECK_STR(b->label, labels[i]);
        bool set = i % 2 == 0;
        CHECK_INT(b->price.valid, set);
        CHECK_INT(b->ref.valid, set);
        CHECK_INT(b->day.valid, set);
        CHECK_INT(b->at_time.valid, set);
        CHECK_INT(b->local.valid, set);
        CHECK_INT(b->instant.valid, set);
        CHECK_INT(b->span.valid, set);
        CHECK_INT(b->score.valid, set);
        CHECK_INT(b->flag.valid, set);
        CHECK_INT(b->small.valid, set);
        if (!set)
            continue;
        CHECK_DEC(b->price.value, dec(i ? "-0.05" : "12345678.90"));
        CHECK_UUID(b->ref.value, uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
        CHECK_INT(b->day.value, date(i ? "1999-12-31" : "2024-02-29"));
        CHECK_INT(b->at_time.value, tod("23:59:59.999999"));
        CHECK_INT(b->local.value, naive("2001-02-03 04:05:06.7"));
        CHECK_INT(b->instant.value, instant("2020-06-30 12:00:00Z"));
        CHECK_IV(b->span.value, stored_iv(interval("P2DT3H")));
        CHECK(b->score.value == i * 0.5 - 1e300);
        CHECK_INT(b->flag.value, i == 4);
        CHECK_INT(b->small.value, -2147483647 + i);
    }
    calx_session_free(s2);
    calx_session_free(s);
}

/* The database itself refuses a name that is not the enum's: PostgreSQL's
 * enum type, SQLite's CHECK (create_constraint=True). */
DB_TEST(the_database_refuses_a_name_the_enum_does_not_have, CALX_TABLE(Checked))
{
    if (!pg())
        CHECK(log_line("CONSTRAINT checked_mood CHECK (mood IN ('sad', 'ok', 'happy'))") != NULL);
    CHECK_OK(run_sql("INSERT INTO checked (id, mood) VALUES (1, 'happy')", &err), &err);
    int rc = run_sql("INSERT INTO checked (id, mood) VALUES (2, 'grumpy')", &err);
    CHECK(rc == CALX_ERR_INTEGRITY || rc == CALX_ERR_DATA);
    CHECK_CONTAINS(err.message, pg() ? "checked_mood" : "CHECK constraint failed");
}

/* Core's RETURNING gives each column its type, as a select does (on
 * SQLite a NUMERIC comes back as its scaled integer, a timestamp as text,
 * unless the statement's columns say what they are). */
DB_TEST(returning_gives_a_core_statements_columns_their_types, CALX_TABLE(KeyDec),
        CALX_TABLE(Note))
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    calx_insert *ins = calx_insert_new(CALX_TABLE(KeyDec));
    calx_insert_value(ins, "code", CALX_X(calx_value_decimal(dec("1.1"))));
    calx_insert_value(ins, "note", CALX_X("one"));
    calx_insert_returning(ins, CALX_C(KeyDec, code));
    CHECK_OK(calx_await(calx_conn_execute_insert(c, ins, &err), &r, &err), &err);
    calx_decimal d = { 0 };
    CHECK_OK(calx_row_get_decimal(calx_result_first(r), 0, &d, &err), &err);
    CHECK_DEC(d, dec("1.10"));
    calx_result_free(r);
    calx_insert_free(ins);

    ins = calx_insert_new(CALX_TABLE(Note));
    calx_insert_value(ins, "body", CALX_X("b"));
    calx_insert_returning(ins, CALX_C(Note, created_at));
    CHECK_OK(calx_await(calx_conn_execute_insert(c, ins, &err), &r, &err), &err);
    const calx_value *v = calx_row_value(calx_result_first(r), 0);
    CHECK(v && v->type == CALX_TIMESTAMP);
    calx_result_free(r);
    calx_insert_free(ins);

    calx_update *upd = calx_update_set(calx_update_new(CALX_TABLE(KeyDec)), "note", "two");
    calx_update_returning(upd, CALX_C(KeyDec, code));
    CHECK_OK(calx_await(calx_conn_execute_update(c, upd, &err), &r, &err), &err);
    CHECK_DEC(calx_row_decimal(calx_result_first(r), 0), dec("1.10"));
    calx_result_free(r);
    calx_update_free(upd);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
}

/* ---- keys ---- */

DB_TEST(a_key_of_each_type_finds_its_object_through_the_identity_map, CALX_TABLE(Item),
        CALX_TABLE(KeyText), CALX_TABLE(KeyDec), CALX_TABLE(KeyDate))
{
    calx_session *s = new_session();
    Item *it = full_item("keyed");
    KeyText *kt = CALX_NEW(KeyText, &err, .code = "caf\xc3\xa9", .note = "text");
    KeyDec *kd = CALX_NEW(KeyDec, &err, .code = dec("1.10"), .note = "decimal");
    KeyDec *kd2 = CALX_NEW(KeyDec, &err, .code = dec("-1.10"), .note = "negative");
    KeyDate *kdt = CALX_NEW(KeyDate, &err, .day = date("2024-02-29"), .note = "date");
    CHECK(it && kt && kd && kd2 && kdt);
    if (!(it && kt && kd && kd2 && kdt))
        return;
    calx_uuid id = it->id;
    char idtext[CALX_UUID_TEXT_SIZE];
    calx_uuid_format(id, idtext);
    CHECK_OK(calx_session_add_all(s, (void *[]){ it, kt, kd, kd2, kdt }, 5, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);

    /* In the same session: the same objects (reloaded, as commit expired them). */
    void *got = NULL;
    CHECK_OK(calx_session_get(s, &Item_model, calx_value_uuid(id), &got, &err), &err);
    CHECK(got == it);
    CHECK_OK(calx_session_get(s, &KeyText_model, calx_text("caf\xc3\xa9"), &got, &err), &err);
    CHECK(got == kt);
    CHECK_OK(calx_session_get(s, &KeyDec_model, calx_value_decimal(dec("1.10")), &got, &err),
             &err);
    CHECK(got == kd);
    CHECK_OK(calx_session_get(s, &KeyDate_model, calx_value_date(date("2024-02-29")), &got, &err),
             &err);
    CHECK(got == kdt);
    calx_session_free(s);

    /* In a new session: loaded once, then from the identity map with no SQL,
     * whichever spelling of the key. */
    s = new_session();
    Item *a = NULL, *b = NULL;
    CHECK_OK(calx_session_get(s, &Item_model, calx_text(idtext), &a, &err), &err);
    CHECK(a != NULL);
    if (a)
        CHECK_UUID(a->id, id);
    log_reset();
    CHECK_OK(calx_session_get(s, &Item_model, calx_value_uuid(id), &b, &err), &err);
    CHECK(a == b);
    char hex[33];
    for (int i = 0, j = 0; i < 36; i++)
        if (idtext[i] != '-')
            hex[j++] = idtext[i] >= 'a' ? (char)(idtext[i] - 'a' + 'A') : idtext[i];
    hex[32] = '\0';
    CHECK_OK(calx_session_get(s, &Item_model, calx_text(hex), &b, &err), &err);
    CHECK(a == b);
    CHECK(strstr(logbuf, "SELECT") == NULL);

    KeyDec *d1 = NULL, *d2 = NULL, *d3 = NULL;
    CHECK_OK(calx_session_get(s, &KeyDec_model, calx_value_decimal(dec("1.1")), &d1, &err), &err);
    CHECK(d1 != NULL);
    if (d1) {
        CHECK_STR(d1->note, "decimal");
        CHECK_DEC(d1->code, dec("1.10"));
    }
    CHECK_OK(calx_session_get(s, &KeyDec_model, calx_value_decimal(dec("1.100")), &d2, &err),
             &err);
    CHECK(d1 == d2);
    CHECK_OK(calx_session_get(s, &KeyDec_model, calx_text("-1.1"), &d3, &err), &err);
    CHECK(d3 != NULL && d3 != d1);
    if (d3)
        CHECK_STR(d3->note, "negative");
    KeyDate *t1 = NULL, *t2 = NULL;
    CHECK_OK(calx_session_get(s, &KeyDate_model, calx_text("2024-02-29"), &t1, &err), &err);
    CHECK_OK(calx_session_get(s, &KeyDate_model, calx_value_date(date("2024-02-29")), &t2, &err),
             &err);
    CHECK(t1 != NULL && t1 == t2);
    KeyText *x = NULL;
    CHECK_OK(calx_session_get(s, &KeyText_model, calx_text("cafe"), &x, &err), &err);
    CHECK(x == NULL);
    KeyDate *y = NULL;
    CHECK_OK(calx_session_get(s, &KeyDate_model, calx_value_date(date("2024-03-01")), &y, &err),
             &err);
    CHECK(y == NULL);
    calx_session_free(s);
}

DB_TEST(changed_fields_are_updated_and_rows_deleted_by_keys_of_every_type, CALX_TABLE(Item),
        CALX_TABLE(KeyDec), CALX_TABLE(KeyDate))
{
    calx_session *s = new_session();
    Item *it = full_item("changing");
    KeyDec *kd = CALX_NEW(KeyDec, &err, .code = dec("-7.25"), .note = "decimal");
    KeyDate *kdt = CALX_NEW(KeyDate, &err, .day = date("0001-01-01"), .note = "date");
    CHECK(it && kd && kdt);
    if (!(it && kd && kdt))
        return;
    CHECK_OK(calx_session_add_all(s, (void *[]){ it, kd, kdt }, 3, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    /* Every field changed: one UPDATE by the UUID key. */
    it->price = dec("20.01");
    it->day = date("2024-03-01");
    it->at_time = tod("23:59:59.999999");
    it->local = naive("0001-01-01 00:00:00");
    it->instant = instant("2024-02-29 08:15:00-09:30");
    it->span = interval("P2D");
    CHECK_INT(calx_obj_set_text(it, &it->doc, "{\"changed\": [true]}"), 0);
    it->mood = MOOD_SAD;
    CALX_SET(it->o_price, dec("1.00"));
    CALX_SET(it->o_ref, uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
    CALX_SET(it->o_day, date("9999-12-31"));
    CALX_SET(it->o_time, tod("12:00:00"));
    CALX_SET(it->o_local, naive("9999-12-31 23:59:59.999999"));
    CALX_SET(it->o_instant, instant("1970-01-01 00:00:00Z"));
    CALX_SET(it->o_span, interval("PT1S"));
    CHECK_INT(calx_obj_set_text(it, &it->o_doc, "\"text\""), 0);
    CALX_SET(it->o_mood, MOOD_HAPPY);
    kd->note = "decimal, changed";
    kdt->note = "date, changed";
    Item want = snapshot(it);
    char *doc = strdup(it->doc), *odoc = strdup(it->o_doc);
    want.name = "changing";
    want.doc = doc;
    want.o_doc = odoc;
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(strstr(logbuf, "UPDATE item SET price=") != NULL);
    CHECK(strstr(logbuf, "UPDATE key_dec SET note=") != NULL);
    CHECK(strstr(logbuf, "UPDATE key_date SET note=") != NULL);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    check_items_equal(it, &want);
    CHECK_STR(kd->note, "decimal, changed");
    CHECK_STR(kdt->note, "date, changed");
    free(doc);
    free(odoc);

    /* And deleted by those keys. */
    CHECK_OK(calx_session_delete(s, it, &err), &err);
    CHECK_OK(calx_session_delete(s, kd, &err), &err);
    CHECK_OK(calx_session_delete(s, kdt, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("item"), 0);
    calx_session_free(s);
    s = new_session();
    KeyDec *gone = NULL;
    CHECK_OK(calx_session_get(s, &KeyDec_model, calx_value_decimal(dec("-7.25")), &gone, &err),
             &err);
    CHECK(gone == NULL);
    KeyDate *gone2 = NULL;
    CHECK_OK(calx_session_get(s, &KeyDate_model, calx_text("0001-01-01"), &gone2, &err), &err);
    CHECK(gone2 == NULL);
    calx_session_free(s);
}

/* ---- mistakes ---- */

DB_TEST(bad_values_give_errors_naming_model_field_and_value, CALX_TABLE(Item),
        CALX_TABLE(Feeling))
{
    /* A decimal out of NUMERIC(10, 2): too many digits, or places. */
    Item *bad = CALX_NEW(Item, &err, .name = "x", .price = dec("123456789.00"), .day = 0,
                         .at_time = 0, .local = 0, .instant = 0, .span = interval("PT0S"),
                         .doc = "{}", .mood = MOOD_OK);
    CHECK(bad == NULL);
    CHECK_INT(err.code, CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Item.price");
    CHECK_CONTAINS(err.message, "123456789.00");
    bad = CALX_NEW(Item, &err, .name = "x", .price = dec("1.234"), .day = 0, .at_time = 0,
                   .local = 0, .instant = 0, .span = interval("PT0S"), .doc = "{}",
                   .mood = MOOD_OK);
    CHECK(bad == NULL);
    CHECK_INT(err.code, CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Item.price");
    CHECK_CONTAINS(err.message, "1.234");
    bad = CALX_NEW(Item, &err, .name = "x", .price = dec("1"), .day = 0, .at_time = 0,
                   .local = 0, .instant = 0, .span = interval("PT0S"), .doc = "{}",
                   .mood = MOOD_OK, .o_price = CALX_SOME(dec("-100000000")));
    CHECK(bad == NULL);
    CHECK_INT(err.code, CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Item.o_price");
    CHECK_CONTAINS(err.message, "-100000000");

    /* Invalid JSON. */
    bad = CALX_NEW(Item, &err, .name = "x", .price = dec("1"), .day = 0, .at_time = 0,
                   .local = 0, .instant = 0, .span = interval("PT0S"), .doc = "{\"a\": }",
                   .mood = MOOD_OK);
    CHECK(bad == NULL);
    CHECK_INT(err.code, CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Item.doc");
    bad = CALX_NEW(Item, &err, .name = "x", .price = dec("1"), .day = 0, .at_time = 0,
                   .local = 0, .instant = 0, .span = interval("PT0S"), .doc = "{}",
                   .mood = MOOD_OK, .o_doc = "[1, 2");
    CHECK(bad == NULL);
    CHECK_INT(err.code, CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Item.o_doc");

    /* An enum value out of range, at construction and at the flush. */
    bad = CALX_NEW(Item, &err, .name = "x", .price = dec("1"), .day = 0, .at_time = 0,
                   .local = 0, .instant = 0, .span = interval("PT0S"), .doc = "{}", .mood = 7);
    CHECK(bad == NULL);
    CHECK_INT(err.code, CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Item.mood");
    CHECK_CONTAINS(err.message, "7");
    CHECK_CONTAINS(err.message, "mood");
    bad = CALX_NEW(Item, &err, .name = "x", .price = dec("1"), .day = 0, .at_time = 0,
                   .local = 0, .instant = 0, .span = interval("PT0S"), .doc = "{}",
                   .mood = MOOD_OK, .o_mood = CALX_SOME(-1));
    CHECK(bad == NULL);
    CHECK_INT(err.code, CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Item.o_mood");
    CHECK_CONTAINS(err.message, "-1");

    calx_session *s = new_session();
    Item *it = full_item("later");
    if (!it)
        return;
    CHECK_OK(calx_session_add(s, it, &err), &err);
    it->mood = 3;
    CHECK_INT(calx_session_flush(s, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Item.mood");
    CHECK_CONTAINS(err.message, "3");
    it->mood = MOOD_SAD;
    it->price = dec("0.001");
    CHECK_INT(calx_session_flush(s, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Item.price");
    CHECK_CONTAINS(err.message, "0.001");
    it->price = dec("0.10");
    CHECK_OK(calx_session_commit(s, &err), &err);

    /* An invalid UUID text compared with a UUID column. */
    calx_select *q = calx_select_where(calx_select_new(CALX_TABLE(Item)),
                                       calx_eq(ITEM(id), "not-a-uuid-at-all"));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_CONTAINS(err.message, "not-a-uuid-at-all");
    CHECK_CONTAINS(err.message, "item.id");
    calx_select_free(q);
    /* A decimal literal beyond the column's scale, a date that is not one. */
    q = calx_select_where(calx_select_new(CALX_TABLE(Item)), calx_eq(ITEM(price), "1.005"));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_CONTAINS(err.message, "1.005");
    calx_select_free(q);
    q = calx_select_where(calx_select_new(CALX_TABLE(Item)), calx_eq(ITEM(day), "2023-02-29"));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_CONTAINS(err.message, "2023-02-29");
    calx_select_free(q);
    /* A name the enum does not have, in a comparison or an IN list; its
     * own names compare. */
    q = calx_select_where(calx_select_new(CALX_TABLE(Item)), calx_eq(ITEM(mood), "grumpy"));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_STR(err.message, "cannot compare item.mood (TEXT) with 'grumpy': not a name of enum "
                           "type mood");
    calx_select_free(q);
    q = calx_select_where(calx_select_new(CALX_TABLE(Item)),
                          calx_in(ITEM(mood), calx_text("sad"), calx_text("angry")));
    CHECK_INT(calx_select_error(q, &err), CALX_ERR_TYPE);
    CHECK_CONTAINS(err.message, "'angry'");
    calx_select_free(q);
    q = calx_select_where(calx_select_new(CALX_TABLE(Item)), calx_in(ITEM(mood), calx_text("sad"), calx_text("ok")));
    CHECK_OK(calx_select_error(q, &err), &err);
    calx_select_free(q);
    /* And through the session's get. */
    Item *none = NULL;
    CHECK(calx_session_get(s, &Item_model, calx_text("zzzz"), &none, &err) != 0);
    CHECK_CONTAINS(err.message, "zzzz");
    calx_session_free(s);

    /* A name the enum does not have, written behind the ORM's back:
     * SQLite stores it and loading names it; PostgreSQL's type refuses it. */
    calx_error e2;
    int rc = run_sql("INSERT INTO feeling (id, mood) VALUES (1, 'grumpy')", &e2);
    if (pg()) {
        CHECK(rc != 0);
        CHECK_CONTAINS(e2.message, "grumpy");
        CHECK_CONTAINS(e2.message, "mood");
    } else {
        CHECK_OK(rc, &e2);
        s = new_session();
        Feeling *f = NULL;
        rc = calx_session_get(s, &Feeling_model, calx_int(1), &f, &err);
        CHECK_INT(rc, CALX_ERR_DATA);
        CHECK_CONTAINS(err.message, "Feeling.mood");
        CHECK_CONTAINS(err.message, "grumpy");
        calx_session_free(s);
    }
    /* A name it has, written the same way, loads. */
    CHECK_OK(run_sql("INSERT INTO feeling (id, mood) VALUES (2, 'happy')", &e2), &e2);
    s = new_session();
    Feeling *f = NULL;
    CHECK_OK(calx_session_get(s, &Feeling_model, calx_int(2), &f, &err), &err);
    CHECK(f != NULL && f->mood == MOOD_HAPPY);
    calx_session_free(s);
}

/* ---- echo and repr ---- */

DB_TEST(echo_prints_the_parameters_as_sqlalchemy_does, CALX_TABLE(Item))
{
    calx_session *s = new_session();
    Item *it = CALX_NEW(Item, &err, .id = uuid("12345678-1234-5678-1234-567812345678"),
                        .name = "echo", .price = dec("1.10"), .day = date("2024-02-29"),
                        .at_time = tod("13:45:00"), .local = naive("2024-02-29 13:45:00.5"),
                        .instant = instant("2024-02-29 13:45:00+05:30"),
                        .span = interval("P1DT2H"), .doc = "{\"a\": 1}", .mood = MOOD_HAPPY);
    CHECK(it != NULL);
    if (!it)
        return;
    CHECK_OK(calx_session_add(s, it, &err), &err);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    const char *insert = log_line("INSERT INTO item");
    CHECK(insert != NULL);
    /* The parameters are the line after the statement. */
    const char *at = strstr(logbuf, "INSERT INTO item");
    const char *params = at ? strchr(at, '\n') : NULL;
    char line[2048] = "";
    if (params) {
        const char *end = strchr(params + 1, '\n');
        size_t n = end ? (size_t)(end - params - 1) : strlen(params + 1);
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, params + 1, n);
        line[n] = '\0';
    }
    if (pg()) {
        CHECK_CONTAINS(line, "(UUID('12345678-1234-5678-1234-567812345678'), 'echo', "
                             "Decimal('1.10'), datetime.date(2024, 2, 29), "
                             "datetime.time(13, 45), "
                             "datetime.datetime(2024, 2, 29, 13, 45, 0, 500000), "
                             "datetime.datetime(2024, 2, 29, 8, 15, "
                             "tzinfo=datetime.timezone.utc), "
                             "datetime.timedelta(days=1, seconds=7200), '{\"a\": 1}', 'happy'");
    } else {
        /* SQLite's log shows what is stored, as SQLAlchemy's does. */
        CHECK_CONTAINS(line, "('12345678123456781234567812345678', 'echo', 110, '2024-02-29', ");
        CHECK_CONTAINS(line, "'happy'");
    }
    calx_session_free(s);
}

DB_TEST(repr_prints_the_values_as_sqlmodel_does, CALX_TABLE(Item))
{
    calx_session *s = new_session();
    Item *it = CALX_NEW(Item, &err, .id = uuid("12345678-1234-5678-1234-567812345678"),
                        .name = "repr", .price = dec("19.99"), .day = date("2024-02-29"),
                        .at_time = tod("13:45:00.25"), .local = naive("2024-02-29 13:45:00"),
                        .instant = instant("2024-02-29 13:45:00+05:30"),
                        .span = interval("-PT1.5S"), .doc = "{\"a\": [1]}", .mood = MOOD_HAPPY,
                        .o_price = CALX_SOME(dec("-0.05")), .o_day = CALX_SOME(date("0001-01-01")),
                        .o_mood = CALX_SOME(MOOD_SAD));
    CHECK(it != NULL);
    if (!it)
        return;
    const char *want =
        "Item(id=UUID('12345678-1234-5678-1234-567812345678'), name='repr', "
        "price=Decimal('19.99'), day=datetime.date(2024, 2, 29), "
        "at_time=datetime.time(13, 45, 0, 250000), "
        "local=datetime.datetime(2024, 2, 29, 13, 45), "
        "instant=datetime.datetime(2024, 2, 29, 8, 15, tzinfo=datetime.timezone.utc), "
        "span=datetime.timedelta(days=-1, seconds=86398, microseconds=500000), "
        "doc='{\"a\": [1]}', mood=<mood.happy: 'happy'>, o_price=Decimal('-0.05'), "
        "o_ref=None, o_day=datetime.date(1, 1, 1), o_time=None, o_local=None, "
        "o_instant=None, o_span=None, o_doc=None, o_mood=<mood.sad: 'sad'>)";
    char buf[1024];
    calx_obj_repr(it, buf, sizeof buf);
    CHECK_STR(buf, want);
    /* The same after a trip through the database. */
    CHECK_OK(calx_session_add(s, it, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    calx_obj_repr(it, buf, sizeof buf);
    CHECK_STR(buf, want);
    calx_session_free(s);
}


/* ---- server defaults and onupdate ---- */

/* The test's clock, UTC. */
static calx_timestamp now_utc(void)
{
    calx_timestamp t = 0;
    calx_now_utc(&t, NULL);
    return t;
}

/* Within a few seconds of the test's clock (SQLite's CURRENT_TIMESTAMP
 * has whole seconds). */
static bool recent(calx_opt_timestamp t)
{
    calx_timestamp now = now_utc();
    return t.valid && t.value > now - 5000000 && t.value <= now + 1000000;
}

DB_TEST(a_server_default_is_in_the_object_after_the_flush_without_a_refresh, CALX_TABLE(Note),
        CALX_TABLE(Tag))
{
    calx_session *s = new_session();
    calx_timestamp past = instant("2001-02-03 04:05:06Z");
    Note *n[3] = { CALX_NEW(Note, &err, .body = "a"), CALX_NEW(Note, &err, .body = "b"),
                   CALX_NEW(Note, &err, .body = "c", .created_at = CALX_SOME(past)) };
    Tag *t[2] = { CALX_NEW(Tag, &err, .code = "x"), CALX_NEW(Tag, &err, .code = "y") };
    CHECK(n[0] && n[1] && n[2] && t[0] && t[1]);
    if (!(n[0] && n[1] && n[2] && t[0] && t[1]))
        return;
    CHECK_OK(calx_session_add_all(s, (void *[]){ n[0], n[1], n[2], t[0], t[1] }, 5, &err), &err);
    log_reset();
    CHECK_OK(calx_session_flush(s, &err), &err);
    /* The rows that left it to the database read it back in the INSERT. */
    const char *ins = log_line("INSERT INTO note (body, updated_at)");
    CHECK(ins && strstr(ins, "RETURNING note.id, note.created_at"));
    ins = log_line("INSERT INTO tag (code)");
    CHECK(ins && strstr(ins, "RETURNING tag.made_at"));
    CHECK(n[0]->id.valid && n[1]->id.valid && n[2]->id.valid && n[0]->id.value != n[1]->id.value);
    CHECK(recent(n[0]->created_at) && recent(n[1]->created_at));
    CHECK(n[2]->created_at.valid && n[2]->created_at.value == past);
    CHECK(recent(t[0]->made_at) && recent(t[1]->made_at));
    /* The snapshot holds it too: nothing changed, nothing to write. */
    log_reset();
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK(strstr(logbuf, "UPDATE") == NULL);
    /* The database holds what the object does. */
    calx_timestamp got = n[0]->created_at.value;
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(n[0]->created_at.valid && n[0]->created_at.value == got);
    calx_session_free(s);
}

DB_TEST(onupdate_sets_the_field_on_an_update_flush_only, CALX_TABLE(Note))
{
    calx_session *s = new_session();
    Note *n = CALX_NEW(Note, &err, .body = "first");
    CHECK(n != NULL);
    if (!n)
        return;
    CHECK_OK(calx_session_add(s, n, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK(!n->updated_at.valid);   /* not on INSERT */
    log_reset();
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK(strstr(logbuf, "UPDATE") == NULL);   /* not when nothing changed */
    n->body = "second";
    log_reset();
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK(log_line("UPDATE note SET body=") && strstr(log_line("UPDATE note SET body="),
                                                      "updated_at="));
    CHECK(recent(n->updated_at));
    /* Seen as written: flushed again, no UPDATE. */
    log_reset();
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK(strstr(logbuf, "UPDATE") == NULL);
    /* A value the program sets in that UPDATE is kept. */
    calx_timestamp mine = instant("2020-01-01 00:00:00Z");
    n->body = "third";
    CALX_SET(n->updated_at, mine);
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK(n->updated_at.valid && n->updated_at.value == mine);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(n->updated_at.valid && n->updated_at.value == mine);
    CHECK_STR(n->body, "third");
    calx_session_free(s);
}

/* Runs upd (freed) on a connection of its own and commits. */
static void run_update(calx_update *upd)
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute_update(c, upd, &err), &r, &err), &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_result_free(r);
    calx_conn_close(c);
    calx_update_free(upd);
}

/* updated_at of row id (NULL: not valid). */
static calx_opt_timestamp updated_at_of(int64_t id)
{
    calx_result *r = run_select(calx_select_where(
        calx_select_columns(CALX_C(Note, updated_at)), calx_eq(CALX_C(Note, id), CALX_X(id))));
    const calx_value *v = r ? calx_row_value(calx_result_first(r), 0) : NULL;
    calx_opt_timestamp t = { 0, false };
    if (v && v->type == CALX_TIMESTAMP)
        t = (calx_opt_timestamp){ v->u.i, true };
    calx_result_free(r);
    return t;
}

DB_TEST(a_core_update_sets_an_onupdate_column_it_does_not_set, CALX_TABLE(Note))
{
    CHECK_OK(run_sql("INSERT INTO note (id, body) VALUES (1, 'a'), (2, 'b')", &err), &err);
    calx_update *upd = calx_update_set(calx_update_new(&Note_model.table), "body", "changed");
    calx_update_where(upd, calx_eq(CALX_C(Note, id), CALX_X(1)));
    log_reset();
    run_update(upd);
    CHECK(log_line("UPDATE note SET body=") &&
          strstr(log_line("UPDATE note SET body="), "updated_at="));
    CHECK(recent(updated_at_of(1)));
    CHECK(!updated_at_of(2).valid);
    /* Set by the statement, the column keeps the statement's value. */
    calx_timestamp mine = instant("2020-01-01 00:00:00Z");
    upd = calx_update_set(calx_update_new(&Note_model.table), "updated_at",
                          calx_value_timestamp(mine));
    calx_update_where(upd, calx_eq(CALX_C(Note, id), CALX_X(2)));
    run_update(upd);
    calx_opt_timestamp t = updated_at_of(2);
    CHECK(t.valid && t.value == mine);

    /* One statement run twice binds the factory's value of each run. */
    upd = calx_update_set(calx_update_new(&Note_model.table), "body", "again");
    calx_update_where(upd, calx_eq(CALX_C(Note, id), CALX_X(1)));
    calx_connection *c = NULL;
    calx_result *r = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    calx_opt_timestamp runs[2];
    for (int k = 0; k < 2; k++) {
        CHECK_OK(calx_await(calx_sleep(loop, 2, &err), NULL, &err), &err);
        CHECK_OK(calx_await(calx_conn_execute_update(c, upd, &err), &r, &err), &err);
        calx_result_free(r);
        CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
        runs[k] = updated_at_of(1);
    }
    CHECK(recent(runs[0]) && recent(runs[1]) && runs[1].value > runs[0].value);
    calx_conn_close(c);
    calx_update_free(upd);
}

/* The ORM's bulk UPDATE (update(Note).values(...) through the session)
 * sets an onupdate column too, and the objects it holds get the value. */
DB_TEST(a_bulk_update_through_the_session_sets_an_onupdate_column, CALX_TABLE(Note))
{
    calx_session *s = new_session();
    Note *a = CALX_NEW(Note, &err, .body = "a"), *b = CALX_NEW(Note, &err, .body = "b");
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK_OK(calx_session_add(s, a, &err), &err);
    CHECK_OK(calx_session_add(s, b, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    calx_update *upd = calx_update_set(calx_update_new(&Note_model.table), "body", "bulk");
    calx_update_where(upd, calx_eq(CALX_C(Note, body), "a"));
    int64_t n = 0;
    CHECK_OK(calx_session_execute_update(s, upd, CALX_SYNC_FETCH, &n, &err), &err);
    calx_update_free(upd);
    CHECK_INT(n, 1);
    CHECK_STR(a->body, "bulk");
    CHECK(recent(a->updated_at));
    CHECK(!b->updated_at.valid);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
    CHECK(recent(updated_at_of(1)));
    CHECK(!updated_at_of(2).valid);
}

int main(void)
{
    dir = test_tmpdir("test_column_types");
    calx_error e;
    loop = calx_loop_new(NULL, &e);
    RUN(every_kind_goes_in_through_the_session_and_comes_back_exactly_after_commit);
    RUN(create_all_makes_the_enum_type_before_the_table_and_drop_all_drops_it);
    RUN(null_and_zero_values_round_trip_as_themselves);
    RUN(extremes_of_each_type_round_trip);
    RUN(thirty_eight_digits_round_trip_on_postgresql);
    RUN(sqlite_refuses_a_decimal_of_more_than_18_digits_at_create_all);
    RUN(the_database_compares_orders_and_sums_the_new_types);
    RUN(many_rows_with_an_enum_go_in_one_statement_and_keep_their_keys);
    RUN(many_rows_of_every_scalar_type_go_in_one_statement_and_come_back_as_they_went);
    RUN(the_database_refuses_a_name_the_enum_does_not_have);
    RUN(returning_gives_a_core_statements_columns_their_types);
    RUN(a_key_of_each_type_finds_its_object_through_the_identity_map);
    RUN(changed_fields_are_updated_and_rows_deleted_by_keys_of_every_type);
    RUN(bad_values_give_errors_naming_model_field_and_value);
    RUN(echo_prints_the_parameters_as_sqlalchemy_does);
    RUN(repr_prints_the_values_as_sqlmodel_does);
    RUN(a_server_default_is_in_the_object_after_the_flush_without_a_refresh);
    RUN(onupdate_sets_the_field_on_an_update_flush_only);
    RUN(a_core_update_sets_an_onupdate_column_it_does_not_set);
    RUN(a_bulk_update_through_the_session_sets_an_onupdate_column);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
