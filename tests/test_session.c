/* SPDX-License-Identifier: MIT */
/* AsyncSession on a real database: the identity map, the unit of work,
 * object states, expire_on_commit, autoflush, autocommit, savepoints, one
 * task at a time, and queries. Runs on the database CALX_TEST_URL names
 * (a fresh SQLite file when it is unset), so the same tests run on
 * PostgreSQL. Echoed SQL is checked by its dialect-neutral prefix. */
#include "alloc_fail.h"
#include "calx.h"
#include "core/blocks.h"
#include "core/evloop.h"
#include "driver/postgres.h"
#include "driver/sqlite.h"
#include "engine/engine_int.h"
#include "engine/sql_memo.h"
#include "models.h"
/* A model over a view whose name fails as it is read (not in the tests'
 * metadata: a test makes the view); declared before orm_test.h, whose
 * global err its functions' parameters would shadow. */
#define Oddity_FIELDS(F, M)                                                   \
    F(M, id,   OPT_INT64, NONE, .primary_key = true)                          \
    F(M, name, TEXT,      REQUIRED)
CALX_MODEL(Oddity, "oddity")
#include "orm_test.h"
#include "orm/session_int.h"
#include "test.h"

CALX_MODEL_DEFINE(Team, "team")
CALX_MODEL_DEFINE(Hero, "hero")
CALX_MODEL_DEFINE(Gadget, "gadget")
CALX_MODEL_DEFINE(Oddity, "oddity")

/* ---- tests ---- */

/* n heroes "<prefix> i" (age i) in hs, each added to s. */
static void add_heroes(calx_session *s, Hero **hs, int n, const char *prefix)
{
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s %d", prefix, i);
        hs[i] = hero(name, "s", i);
        CHECK_OK(calx_session_add(s, hs[i], &err), &err);
    }
}

/* A row whose INTEGER holds more than the model's INT32 field (SQLite's
 * columns hold 64 bits whatever was declared) fails the load, naming
 * the field and the value; it is not cut to its low 32 bits. */
TASK_TEST(a_load_refuses_a_value_past_an_int32_field_naming_it)
{
    if (strcmp(calx_engine_dialect(engine), "postgresql") == 0)
        SKIP("PostgreSQL's INTEGER column cannot hold it in the first place");
    calx_session *s = new_session();
    calx_connection *c = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c,
                                          "INSERT INTO gadget (code, power, weight, active, "
                                          "serial, made_at) VALUES ('big', 3000000000, 1.5, 1, "
                                          "7, '2024-01-01 00:00:00.000000')",
                                          NULL, &err),
                        NULL, &err),
             &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    calx_select *q = calx_select_new(CALX_TABLE(Gadget));
    calx_select_where(q, calx_binop(CALX_OP_EQ, calx_col(CALX_TABLE(Gadget),
                                                         CALX_FIELD(Gadget, code)),
                                    calx_lit(calx_text("big"))));
    calx_objlist l;
    CHECK_INT(calx_session_all(s, q, &l, &err), CALX_ERR_DATA);
    CHECK_STR(err.message,
              "Gadget.power (INT32) cannot hold 3000000000, the value the database returned");
    calx_select_free(q);
    calx_session_free(s);
}

TASK_TEST(commit_inserts_and_fills_generated_keys)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    CHECK(!CALX_IS_NULL(t[0]->id) && !CALX_IS_NULL(t[1]->id));
    CHECK(t[0]->id.value != t[1]->id.value);
    CHECK(h[0]->team_id.value == t[1]->id.value);
    CHECK_INT(calx_obj_state(h[2]), CALX_STATE_PERSISTENT);
    /* One execute-many per table: the rows of a table go together. */
    CHECK_INT(log_count("INSERT INTO team ("), 1);
    CHECK_INT(log_count("INSERT INTO hero ("), 1);
    if (strcmp(calx_engine_dialect(engine), "postgresql") == 0) {
        /* The rows go as one array a column (the sentinel form over
         * arrays), each echoed as a list. */
        CHECK_CONTAINS(logbuf, "(['Preventers', 'Z-Force'], ['Sharp Tower', "
                               "\"Sister Margaret's Bar\"])");
    } else {
        CHECK_CONTAINS(logbuf, "'Preventers', 'Sharp Tower'");
        CHECK_CONTAINS(logbuf, "'Z-Force', \"Sister Margaret's Bar\"");
    }
    CHECK_INT(log_count("COMMIT"), 2);
    CHECK_INT(count_rows("hero"), 3);
    /* Keys reached the objects whose rows made them. */
    Hero *back = NULL;
    calx_session *s2 = new_session();
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(h[1]->id.value), &back, &err), &err);
    CHECK(back && strcmp(back->name, "Rusty-Man") == 0);
    calx_session_free(s2);
    calx_session_free(s);
}

TASK_TEST(a_large_flush_is_one_statement_and_keys_reach_their_objects)
{
    enum { N = 1000 };
    calx_session *s = new_session();
    Hero *hs[N];
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "h%d", i);
        /* Every tenth has its key given: a different column set, so the
         * runs interleave. */
        hs[i] = i % 10 == 9 ? CALX_NEW(Hero, &err, .id = CALX_SOME(100000 + i), .name = name,
                                       .secret_name = "s", .age = CALX_SOME(i))
                            : CALX_NEW(Hero, &err, .name = name, .secret_name = "s",
                                       .age = CALX_SOME(i));
        CHECK_OK(calx_session_add(s, hs[i], &err), &err);
    }
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    /* 100 runs of 9 generated keys (on PostgreSQL each one INSERT of 9
     * rows in the sentinel form, on SQLite an execute-many) and 100 of 1
     * given key, all in one batch. */
    CHECK_INT(log_count("INSERT INTO hero"), 200);
    calx_session *s2 = new_session();
    int right = 0;
    for (int i = 0; i < N; i++) {
        Hero *back = NULL;
        if (calx_session_get(s2, &Hero_model, calx_int(hs[i]->id.value), &back, &err) == 0 &&
            back && back->age.value == i)
            right++;
    }
    CHECK_INT(right, N);
    calx_session_free(s2);
    /* The same rows changed: one UPDATE statement for all of them. */
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    for (int i = 0; i < N; i++)
        CALX_SET(hs[i]->age, i + 1);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET age="), 1);
    CHECK_CONTAINS(logbuf, "displaying 10 of 1000 total bound parameter sets");
    calx_session_free(s);
}

/* The objects of loads of a chunk or fewer rows (a get, a page of a
 * list) are malloc's until the session holds a block's worth; then they,
 * and every object of a load of more rows than its first chunk, come from
 * blocks (core/blocks.h), which live while any object in them does. */
TASK_TEST(a_large_load_takes_blocks_and_an_object_the_program_keeps_outlives_its_session)
{
    enum { N = 3000, LONG = 1000 };
    static char secret[LONG + 16];
    calx_session *s = new_session();
    for (int i = 0; i < N; i++) {
        snprintf(secret, sizeof secret, "%0*d", LONG, i);
        Hero *h = CALX_NEW(Hero, &err, .name = "many", .secret_name = secret, .age = CALX_SOME(i));
        CHECK_OK(calx_session_add(s, h, &err), &err);
    }
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);

    size_t mapped = calx__blocks_mapped();
    /* Two loads of 900 objects of about 1.2 KB: the first's are malloc's,
     * the second's from malloc's until the session holds 2 MiB of them. */
    s = new_session();
    calx_objlist small[2];
    for (int k = 0; k < 2; k++) {
        calx_select *q = calx_select_new(CALX_TABLE(Hero));
        calx_select_where(q, calx_and(calx_binop(CALX_OP_GE, CALX_C(Hero, age),
                                                 calx_lit(calx_int(900 * k))),
                                      calx_binop(CALX_OP_LT, CALX_C(Hero, age),
                                                 calx_lit(calx_int(900 * (k + 1))))));
        calx_select_order_by(q, CALX_C(Hero, age), CALX_ASC);
        CHECK_OK(calx_session_all(s, q, &small[k], &err), &err);
        calx_select_free(q);
        CHECK_INT(small[k].n, 900);
    }
    CHECK(!calx__obj_hdr(small[0].items[0])->in_block);
    CHECK(!calx__obj_hdr(small[0].items[899])->in_block);
    CHECK(!calx__obj_hdr(small[1].items[0])->in_block);
    CHECK(calx__obj_hdr(small[1].items[899])->in_block);
    calx_objlist_free(&small[0]);
    calx_objlist_free(&small[1]);
    calx_session_free(s);
    CHECK(calx__blocks_mapped() == mapped);

    /* All 3,000 at once: more than the first chunk, so a block's from the
     * first. */
    s = new_session();
    calx_select *q = calx_select_new(CALX_TABLE(Hero));
    calx_select_order_by(q, CALX_C(Hero, age), CALX_ASC);
    calx_objlist l;
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    calx_select_free(q);
    CHECK_INT(l.n, N);
    CHECK(calx__obj_hdr(l.items[0])->in_block);
    CHECK(calx__obj_hdr(l.items[N - 1])->in_block);
    CHECK(calx__blocks_mapped() > mapped);
    int right = 0;
    for (int i = 0; i < N; i++) {
        Hero *h = l.items[i];
        snprintf(secret, sizeof secret, "%0*d", LONG, i);
        right += h->age.value == i && strcmp(h->secret_name, secret) == 0;
    }
    CHECK_INT(right, N);
    /* An object in a block changes, flushes and expires as any other. */
    Hero *last = l.items[N - 1];
    CALX_SET(last->age, -1);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET age="), 1);
    CHECK_OK(calx_session_refresh(s, last, &err), &err);
    CHECK_INT(last->age.value, -1);
    /* The program takes it; the session goes; it stays whole until freed,
     * and then its block goes too. */
    CHECK_OK(calx_session_expunge(s, last, &err), &err);
    calx_objlist_free(&l);
    calx_session_free(s);
    CHECK(calx__blocks_mapped() > mapped);
    snprintf(secret, sizeof secret, "%0*d", LONG, N - 1);
    CHECK_STR(last->secret_name, secret);
    CHECK_INT(last->age.value, -1);
    CHECK_INT(calx_obj_free(last), 0);
    CHECK(calx__blocks_mapped() == mapped);
}

TASK_TEST(a_flush_of_1000_objects_is_one_round_trip)
{
    enum { N = 1000 };
    calx_session *s = new_session();
    Hero *first = NULL;
    /* Open the session's connection first, to read its counters. */
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(1), &first, &err), &err);
    bool pg = strcmp(calx_engine_dialect(engine), "postgresql") == 0;
    calx_pg_stats before = { 0 }, after = { 0 };
    if (pg)
        calx__pg_conn_stats(calx__conn_dconn(s->conn), &before);
    for (int i = 0; i < N; i++)
        CHECK_OK(calx_session_add(s, hero("Many", "m", i), &err), &err);
    log_reset();
    uint64_t wakeups = calx__loop_io_wakeups(loop);
    CHECK_OK(calx_session_flush(s, &err), &err);
    wakeups = calx__loop_io_wakeups(loop) - wakeups;
    CHECK_INT(log_count("INSERT INTO hero"), 1);
    if (!pg)
        CHECK_CONTAINS(logbuf, "displaying 10 of 1000 total bound parameter sets");
    if (pg) {
        /* One multi-row INSERT in SQLAlchemy 2.0's sentinel form over one
         * array a column, its keys coming back with it: no round trip to
         * draw them first. */
        calx__pg_conn_stats(calx__conn_dconn(s->conn), &after);
        CHECK_INT(after.round_trips - before.round_trips, 1);
        CHECK_CONTAINS(logbuf, "INSERT INTO hero (name, secret_name, age, team_id) SELECT p0, "
                               "p1, p2, p3 FROM unnest(CAST($1 AS VARCHAR[]), CAST($2 AS "
                               "VARCHAR[]), CAST($3 AS BIGINT[]), CAST($4 AS BIGINT[])) WITH "
                               "ORDINALITY AS imp_sen(p0, p1, p2, p3, sen_counter) ORDER BY "
                               "sen_counter RETURNING hero.id\n");
        /* Each array's list is cut in the middle, as SQLAlchemy cuts a
         * long value. */
        CHECK_CONTAINS(logbuf, "[0, 1, 2, 3, ");
        CHECK_CONTAINS(logbuf, " characters truncated) ... ");
        CHECK_CONTAINS(logbuf, "997, 998, 999], [None, ");
        /* The same seen from the loop rather than the driver's counter:
         * the replies came in a few reads of the socket, where waiting
         * for each row's result would have woken the loop 1,000 times. */
        if (wakeups >= 100)
            fprintf(stderr, "  %llu socket wakeups for one flush\n",
                    (unsigned long long)wakeups);
        CHECK(wakeups >= 1 && wakeups < 100);
    }
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("hero"), N);
    calx_session_free(s);
}

TASK_TEST(a_flush_of_2500_new_objects_on_postgresql_splits_into_several_multirow_inserts)
{
    if (strcmp(calx_engine_dialect(engine), "postgresql") != 0)
        SKIP("multi-row INSERTs are PostgreSQL's: SQLite takes an execute-many");
    enum { N = 2500 };
    calx_session *s = new_session();
    Hero *first = NULL;
    /* Open the session's connection first, to read its counters. */
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(1), &first, &err), &err);
    calx_pg_stats before = { 0 }, after = { 0 };
    calx__pg_conn_stats(calx__conn_dconn(s->conn), &before);
    Hero **hs = malloc(N * sizeof *hs);
    add_heroes(s, hs, N, "split");
    log_reset();
    CHECK_OK(calx_session_flush(s, &err), &err);
    /* More rows than one statement takes (1,000, SQLAlchemy's page size):
     * the full chunks as one execute-many of one text, the rest as one
     * more statement, all in one pipeline. */
    CHECK_INT(log_count("INSERT INTO hero"), 2);
    calx__pg_conn_stats(calx__conn_dconn(s->conn), &after);
    CHECK_INT(after.round_trips - before.round_trips, 1);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("hero"), N);
    /* Every object's key finds its own row, in whichever statement it
     * went. */
    calx_session *s2 = new_session();
    int right = 0;
    for (int i = 0; i < N; i++) {
        Hero *back = NULL;
        char name[32];
        snprintf(name, sizeof name, "split %d", i);
        if (!CALX_IS_NULL(hs[i]->id) &&
            calx_session_get(s2, &Hero_model, calx_int(hs[i]->id.value), &back, &err) == 0 &&
            back && strcmp(back->name, name) == 0 && back->age.value == i)
            right++;
    }
    CHECK_INT(right, N);
    calx_session_free(s2);
    calx_session_free(s);
    free(hs);
}

/* A flush that a segment holds (4,000 operations: flush.c) goes as one
 * batch with its COMMIT: one INSERT echoed, one round trip. */
TASK_TEST(a_flush_of_4000_objects_is_one_batch)
{
    enum { N = 4000 };
    calx_session *s = new_session();
    for (int i = 0; i < N; i++)
        CHECK_OK(calx_session_add(s, hero("one batch", "s", i % 100), &err), &err);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("INSERT INTO hero"), 1);
    CHECK_INT(count_rows("hero"), N);
    calx_session_free(s);
}

/* A flush of more operations than a segment sends them a segment at a
 * time, each while the next is planned: still one transaction, every row
 * in the order added, every key on its object. */
TASK_TEST(a_flush_of_10000_objects_goes_in_segments_and_every_key_finds_its_row)
{
    enum { N = 10000 };
    calx_session *s = new_session();
    Hero **hs = malloc(N * sizeof *hs);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "seg %d", i);
        hs[i] = hero(name, "s", i % 100);
        CHECK_OK(calx_session_add(s, hs[i], &err), &err);
    }
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    /* Three segments, one INSERT (an execute-many) each at least. */
    CHECK(log_count("INSERT INTO hero") >= 3);
    CHECK_INT(log_count("COMMIT"), 1);
    CHECK_INT(count_rows("hero"), N);
    int rising = 0;
    for (int i = 1; i < N; i++)
        rising += hs[i]->id.value > hs[i - 1]->id.value;
    CHECK_INT(rising, N - 1);
    /* Each segment's objects became persistent (the first while the
     * later segments ran): in the identity map, where a get finds the
     * very object (expired by the commit, so refreshed). */
    int mapped = 0;
    for (int i = 0; i < N; i += 97) {
        Hero *same = NULL;
        mapped += calx_obj_state(hs[i]) == CALX_STATE_PERSISTENT &&
                  calx_session_get(s, &Hero_model, calx_int(hs[i]->id.value), &same, &err) == 0 &&
                  same == hs[i];
    }
    CHECK_INT(mapped, (N + 96) / 97);
    calx_session *s2 = new_session();
    int right = 0;
    for (int i = 0; i < N; i += 97) {
        Hero *back = NULL;
        char name[32];
        snprintf(name, sizeof name, "seg %d", i);
        right += calx_session_get(s2, &Hero_model, calx_int(hs[i]->id.value), &back, &err) == 0 &&
                 back && strcmp(back->name, name) == 0;
    }
    CHECK_INT(right, (N + 96) / 97);
    calx_session_free(s2);
    calx_session_free(s);
    free(hs);
}

/* n gadgets added to s (the caller frees the array), gadget dup with the
 * code of one committed before: its INSERT fails on the unique code. */
static Gadget **gadgets_with_a_duplicate(calx_session *s, int n, int dup)
{
    Gadget *g0 = CALX_NEW(Gadget, &err, .code = "same", .serial = 0);
    CHECK_OK(calx_session_add(s, g0, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    Gadget **gs = malloc(n * sizeof *gs);
    for (int i = 0; i < n; i++) {
        char code[16];
        snprintf(code, sizeof code, "c%d", i);
        gs[i] = CALX_NEW(Gadget, &err, .code = i == dup ? "same" : code, .serial = i + 1);
        CHECK(gs[i] != NULL);
        CHECK_OK(calx_session_add(s, gs[i], &err), &err);
    }
    return gs;
}

/* The segments before a failing one ran in the transaction, and went with
 * it: nothing of the flush is committed, its objects get no key, and the
 * session works again after the rollback. */
TASK_TEST(a_flush_whose_last_segment_fails_commits_none_of_its_earlier_segments)
{
    enum { N = 9000 };
    calx_session *s = new_session();
    Gadget **gs = gadgets_with_a_duplicate(s, N, N - 1);
    log_reset();
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "[SQL: INSERT INTO gadget (");
    CHECK(log_count("INSERT INTO gadget") >= 3);
    CHECK_INT(log_count("COMMIT"), 0);
    CHECK(calx_session_needs_rollback(s));
    CHECK(CALX_IS_NULL(gs[0]->id));
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK_INT(count_rows("gadget"), 1);
    CHECK_INT(calx_obj_state(gs[0]), CALX_STATE_TRANSIENT);
    Gadget *after = CALX_NEW(Gadget, &err, .code = "after", .serial = -1);
    CHECK_OK(calx_session_add(s, after, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("gadget"), 2);
    calx_session_free(s);   /* frees the rolled-back gadgets: s owns them */
    free(gs);
}

/* A segment is made (its values copied) while the one before runs; when
 * that one fails, the segment made behind it is dropped unsent: of 13,000
 * rows, segments 1 to 3 went (1,000, 2,000 and 4,000 rows; echo shows
 * each segment's INSERT once), the fourth, made while the third failed,
 * never did. */
TASK_TEST(a_flush_whose_middle_segment_fails_drops_the_segment_made_behind_it)
{
    enum { N = 13000 };
    calx_session *s = new_session();
    Gadget **gs = gadgets_with_a_duplicate(s, N, 6000);
    size_t mapped = s->map_n;
    log_reset();
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "[SQL: INSERT INTO gadget (");
    CHECK_INT(log_count("INSERT INTO gadget"), 3);
    CHECK_INT(log_count("COMMIT"), 0);
    CHECK(CALX_IS_NULL(gs[0]->id));
    CHECK(CALX_IS_NULL(gs[N - 1]->id));
    /* The first two segments' rows were in when the third failed: their
     * objects are pending again all the same, none in the identity map. */
    int pending = 0;
    for (int i = 0; i < N; i++)
        pending += calx_obj_state(gs[i]) == CALX_STATE_PENDING;
    CHECK_INT(pending, N);
    CHECK_INT(s->map_n, mapped);
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK_INT(count_rows("gadget"), 1);
    Gadget *after = CALX_NEW(Gadget, &err, .code = "after", .serial = -1);
    CHECK_OK(calx_session_add(s, after, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("gadget"), 2);
    calx_session_free(s);
    free(gs);
}

/* On SQLite a get by key reads its row on the loop thread at once (the
 * driver's read_row), straight into the object; a row whose texts do not
 * fit the room a get keeps for them (4 KiB) is read the usual way, whole;
 * a key with no row is NULL either way. Each get echoes its SELECT, the
 * transaction's first its BEGIN before it. */
TASK_TEST(a_get_reads_its_row_at_once_on_sqlite_and_a_larger_row_the_usual_way)
{
    calx_session *s = new_session();
    char big[6000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    Hero *small = CALX_NEW(Hero, &err, .name = "Small", .secret_name = "s", .age = CALX_SOME(9));
    Hero *large = CALX_NEW(Hero, &err, .name = "Large", .secret_name = big);
    CHECK_OK(calx_session_add_all(s, (void *[]){ small, large }, 2, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    int64_t ids[2] = { small->id.value, large->id.value };
    calx_session_free(s);

    s = new_session();
    Hero *x = NULL, *y = NULL, *none = NULL;
    log_reset();
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[0]), &x, &err), &err);
    CHECK(x && strcmp(x->name, "Small") == 0 && strcmp(x->secret_name, "s") == 0 &&
          x->age.value == 9 && x->id.value == ids[0]);
    CHECK(log_pos("BEGIN (implicit)") >= 0 && log_pos("SELECT hero.id") > log_pos("BEGIN"));
    calx_connection *c = s->conn ? s->conn : s->read_conn;
    bool sqlite = c && calx__conn_dconn(c)->driver == &calx__sqlite_driver;
    calx_sqlite_stats before, after;
    if (sqlite)
        calx__sqlite_conn_stats(calx__conn_dconn(c), &before);
    log_reset();
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[1]), &y, &err), &err);
    CHECK(y && strcmp(y->name, "Large") == 0 && strcmp(y->secret_name, big) == 0);
    CHECK_INT(log_count("SELECT hero.id"), 1);
    CHECK_INT(log_count("BEGIN"), 0);
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[1] + 1000), &none, &err), &err);
    CHECK(none == NULL);
    if (sqlite) {
        /* (With inline_reads=false, test_session_worker, nothing runs on
         * the loop thread: the first get had not either.) */
        bool on_loop = before.inline_runs > 0;
        calx__sqlite_conn_stats(calx__conn_dconn(c), &after);
        CHECK_INT(after.requests - before.requests, 2);
        CHECK_INT(after.read_rows - before.read_rows, on_loop ? 1 : 0); /* the missing key's */
        CHECK_INT(after.inline_runs - before.inline_runs, on_loop ? 2 : 0);
    }
    /* The objects are the identity map's: a get again is no SQL. */
    Hero *again = NULL;
    log_reset();
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[0]), &again, &err), &err);
    CHECK(again == x);
    CHECK_INT(loglen, 0);
    calx_session_free(s);
}

/* The tutorial's rows seeded, then a fresh session (returned) with
 * Rusty-Man got in it (*x); ids: the three heroes' keys. */
static calx_session *seed_and_reopen(int64_t ids[3], Hero **x)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    for (int i = 0; i < 3; i++)
        ids[i] = h[i]->id.value;
    calx_session_free(s);
    s = new_session();
    *x = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[1]), x, &err), &err);
    return s;
}

/* A get as above, in a task of the smallest stack calx gives (32 KiB):
 * the get's room for its row sits on that stack, SQLite's frames below
 * it, and so does the flush's room for its arrays when the change is
 * committed. */
static void *get_on_a_small_stack(void *arg)
{
    (void)arg;
    int64_t ids[3];
    Hero *x;
    calx_session *s = seed_and_reopen(ids, &x);
    bool right = x && strcmp(x->name, "Rusty-Man") == 0 && x->age.value == 48;
    if (right) {
        CALX_SET(x->age, 49);
        CHECK_OK(calx_session_commit(s, &err), &err);
    }
    calx_session_free(s);
    s = new_session();
    x = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[1]), &x, &err), &err);
    right = right && x && x->age.value == 49;
    calx_session_free(s);
    return right ? &err : NULL;
}

TEST(a_get_runs_in_a_task_of_the_smallest_stack)
{
    setup();
    calx_error e;
    void *right = NULL;
    CHECK_OK(calx_wait(calx_spawn(loop, get_on_a_small_stack, NULL,
                                  &(calx_task_opts){ .stack_size = 1 }, &e),
                       &right, &e),
             &e);
    CHECK(right != NULL);
    teardown();
}

/* A get whose SELECT fails as it runs (not as it is prepared: on SQLite
 * it is the read run at once, calx_driver.read_row) fails with the
 * database's message and the SQL that failed, as an execute's error
 * does; the session is rolled back and reads on. */
TASK_TEST(a_get_whose_select_fails_as_it_runs_names_the_sql_and_the_session_reads_on)
{
    bool pg = strcmp(calx_engine_dialect(engine), "postgresql") == 0;
    calx_connection *c = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, "DROP VIEW IF EXISTS oddity", NULL, &err), NULL,
                        &err),
             &err);
    const char *view = pg ? "CREATE VIEW oddity AS SELECT CAST(1 AS BIGINT) AS id, "
                            "CAST(1 / CAST(random() * 0 AS INTEGER) AS TEXT) AS name"
                          : "CREATE VIEW oddity AS SELECT 1 AS id, json('not json') AS name";
    CHECK_OK(calx_await(calx_conn_execute(c, view, NULL, &err), NULL, &err), &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);

    int64_t ids[3];
    Hero *x;
    calx_session *s = seed_and_reopen(ids, &x);
    calx_connection *sc = s->conn ? s->conn : s->read_conn;
    bool sqlite = sc && calx__conn_dconn(sc)->driver == &calx__sqlite_driver;
    calx_sqlite_stats before, after;
    if (sqlite)
        calx__sqlite_conn_stats(calx__conn_dconn(sc), &before);
    Oddity *o = NULL;
    calx_error e;
    CHECK(calx_session_get(s, &Oddity_model, calx_int(1), &o, &e) != 0);
    CHECK(o == NULL);
    CHECK(strstr(e.message, pg ? "division by zero" : "malformed JSON") != NULL);
    CHECK(strstr(e.message, "[SQL: SELECT oddity.id") != NULL);
    if (sqlite && before.inline_runs > 0) {
        calx__sqlite_conn_stats(calx__conn_dconn(sc), &after);
        CHECK_INT(after.read_rows - before.read_rows, 1);   /* it ran at once */
    }
    CHECK_OK(calx_session_rollback(s, &err), &err);
    Hero *y = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[2]), &y, &err), &err);
    CHECK(y && strcmp(y->name, "Spider-Boy") == 0);
    calx_session_free(s);

    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, "DROP VIEW oddity", NULL, &err), NULL, &err),
             &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
}

TASK_TEST(a_commit_rides_with_its_flush)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    Hero *x = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(h[0]->id.value), &x, &err), &err);
    bool pg = strcmp(calx_engine_dialect(engine), "postgresql") == 0;
    calx_pg_stats before = { 0 }, after = { 0 };
    calx_dconn *dc = calx__conn_dconn(s->conn);
    if (pg)
        calx__pg_conn_stats(dc, &before);
    /* INSERTs only: the COMMIT goes in the flush's own batch. */
    Hero *fresh = hero("Tarantula", "Natalia Roman-on", 32);
    CHECK_OK(calx_session_add(s, fresh, &err), &err);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(log_pos("INSERT INTO hero") >= 0 && log_pos("COMMIT") > log_pos("INSERT INTO hero"));
    CHECK_INT(log_count("COMMIT"), 1);
    if (pg) {
        calx__pg_conn_stats(dc, &after); /* the connection is pooled, not closed */
        CHECK_INT(after.round_trips - before.round_trips, 1);
        before = after;
    }
    /* An UPDATE's row count must be checked (StaleDataError) before
     * anything commits. On SQLite the count is read, then the COMMIT
     * sent; on PostgreSQL the statement checks it itself (a data-modifying
     * WITH that fails when it matched no row) and the COMMIT rides in its
     * round trip, the first time too (a committing request is not
     * described first). */
    for (int round = 0; round < 2; round++) {
        CHECK_OK(calx_session_get(s, &Hero_model, calx_int(h[0]->id.value), &x, &err), &err);
        if (pg) {
            dc = calx__conn_dconn(s->conn);
            calx__pg_conn_stats(dc, &before);
        }
        CALX_SET(x->age, 77 + round);
        log_reset();
        CHECK_OK(calx_session_commit(s, &err), &err);
        CHECK(log_pos("UPDATE hero SET age=") >= 0 && log_pos("COMMIT") > log_pos("UPDATE hero"));
        CHECK_INT(log_count("COMMIT"), 1);
        if (pg) {
            const char *sent = "WITH row_check AS (UPDATE hero SET age=$1 WHERE hero.id = $2 "
                               "RETURNING 1) SELECT 1 / count(*) FROM row_check\n";
            CHECK_INT(strncmp(logbuf, sent, strlen(sent)), 0);
            calx__pg_conn_stats(dc, &after);
            CHECK_INT(after.round_trips - before.round_trips, 1);
        }
    }
    CHECK(!calx_session_in_transaction(s));
    calx_session *s2 = new_session();
    Hero *y = NULL;
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(h[0]->id.value), &y, &err), &err);
    CHECK(y && y->age.value == 78);
    calx_session_free(s2);
    calx_session_free(s);
}

TASK_TEST(identity_map_gives_one_object_per_key)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    calx_session *s2 = new_session();
    Hero *a = NULL, *b = NULL;
    log_reset();
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(h[0]->id.value), &a, &err), &err);
    CHECK_INT(log_count("SELECT hero.id AS hero_id, hero.name AS hero_name"), 1);
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(h[0]->id.value), &b, &err), &err);
    CHECK(a == b);
    CHECK_INT(log_count("SELECT"), 1); /* the second get ran no SQL */
    /* A query row for an object in the map gives that same object. */
    calx_select *q = where_name("Deadpond");
    Hero *c = NULL;
    CHECK_OK(calx_session_one(s2, q, &c, &err), &err);
    CHECK(c == a);
    calx_select_free(q);
    CHECK_INT(calx_session_identity_count(s2), 1);
    void *objs[4];
    CHECK_INT(calx_session_identity_map(s2, objs, 4), 1);
    CHECK(objs[0] == a);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    calx_session_print_identity_map(s2, f);
    fclose(f);
    char expect[256];
    snprintf(expect, sizeof expect,
             "{('Hero', (%lld,)): Hero(id=%lld, name='Deadpond', secret_name='Dive Wilson', "
             "age=None, team_id=%lld)}\n",
             (long long)a->id.value, (long long)a->id.value, (long long)t[1]->id.value);
    CHECK_STR(buf, expect);
    free(buf);
    /* A get that misses the map and the table. */
    Hero *none = (Hero *)1;
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(9001), &none, &err), &err);
    CHECK(none == NULL);
    CHECK_INT(calx_session_get_one(s2, &Hero_model, calx_int(9001), &none, &err),
              CALX_ERR_NO_RESULT);
    CHECK_INT(calx_session_get_key(s2, &Hero_model, (calx_value[]){ calx_int(1), calx_int(2) }, 2,
                                   &none, &err),
              CALX_ERR_ARGUMENT);
    calx_session_free(s2);
    calx_session_free(s);
}

TASK_TEST(a_flushed_change_of_primary_key_moves_the_object_in_the_identity_map)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    calx_session *s2 = new_session();
    Hero *a = NULL, *b = NULL;
    int64_t old_id = h[0]->id.value, new_id = old_id + 1000;
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(old_id), &a, &err), &err);
    CHECK(a != NULL);
    CALX_SET(a->id, new_id);
    CALX_SET(a->age, 31);   /* a field besides the key, in the same UPDATE */
    CHECK_OK(calx_session_flush(s2, &err), &err);
    /* The map answers the new key with the same object, without SQL. */
    log_reset();
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(new_id), &b, &err), &err);
    CHECK(b == a);
    CHECK_INT(log_count("SELECT"), 0);
    /* The old key is no longer the object's: the get asks the database,
     * which has no such row now. */
    b = (Hero *)1;
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(old_id), &b, &err), &err);
    CHECK(b == NULL);
    CHECK_INT(log_count("SELECT"), 1);
    CHECK_INT(calx_session_identity_count(s2), 1);
    calx_session_free(s2);
    calx_session_free(s);
}

/* A get the identity map answers is memory only: it works from plain
 * code, outside any task, and sends no SQL. The session is filled in a
 * task first; the get comes after that task has ended. */
static calx_session *hit_session;
static Hero *hit_hero;

static void load_for_a_hit(void)
{
    Team *t[2];
    Hero *h[3];
    seed(hit_session, t, h);
    CHECK_OK(calx_session_reload_expired(hit_session, &err), &err); /* not expired now */
    hit_hero = h[2];
}

TEST(identity_map_hit_needs_no_task_and_no_sql)
{
    setup();
    hit_session = new_session();
    hit_hero = NULL;
    calx_error e;
    CHECK_OK(calx_wait(calx_spawn(loop, task_main, (void *)load_for_a_hit, NULL, &e), NULL, &e),
             &e);
    CHECK(hit_hero != NULL);
    CHECK(!calx_in_task());
    log_reset();
    Hero *x = NULL;
    if (hit_hero)
        CHECK_OK(calx_session_get(hit_session, &Hero_model, calx_int(hit_hero->id.value), &x,
                                  &err), &err);
    CHECK(x != NULL && x == hit_hero);
    CHECK_INT(loglen, 0);
    calx_session_free(hit_session);
    teardown();
}

/* A session per request (a web handler's) must not compile the same
 * statements again: a get's SELECT and a flush's UPDATE by key are made
 * once per engine and serve every session bound to it. */
TASK_TEST(sessions_of_one_engine_share_their_statements_by_key)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    int64_t id = h[0]->id.value;
    calx_session_free(s);
    const char *texts[2][2];
    for (int round = 0; round < 2; round++) {
        s = new_session();
        Hero *x = NULL;
        log_reset();
        CHECK_OK(calx_session_get(s, &Hero_model, calx_int(id), &x, &err), &err);
        CHECK(x != NULL);
        CHECK_INT(log_count("SELECT hero.id"), 1);
        CALX_SET(x->age, 40 + round);
        CHECK_OK(calx_session_commit(s, &err), &err);
        CHECK_INT(log_count("UPDATE hero SET age="), 1);
        const calx__memo_text *get = calx__engine_memo_find(engine, &Hero_model,
                                                            CALX__MEMO_GET, 0);
        /* (In the form that checks its row where the dialect has one: a
         * commit's.) */
        bool checked = engine->dialect->row_check_open != NULL;
        const calx__memo_text *update = calx__engine_memo_find(
            engine, &Hero_model, checked ? CALX__MEMO_UPDATE_CHECKED : CALX__MEMO_UPDATE,
            1u << 3);
        CHECK(get != NULL && update != NULL);
        texts[round][0] = get ? get->sql : NULL;
        texts[round][1] = update ? update->sql : NULL;
        calx_session_free(s);
    }
    /* The second session used the first one's texts. */
    CHECK(texts[0][0] == texts[1][0]);
    CHECK(texts[0][1] == texts[1][1]);
    s = new_session();
    Hero *x = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(id), &x, &err), &err);
    CHECK(x != NULL && x->age.value == 41);
    calx_session_free(s);
}

TASK_TEST(flush_updates_only_changed_columns)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    calx_session *s2 = new_session();
    Hero *sb = NULL;
    calx_select *q = where_name("Spider-Boy");
    CHECK_OK(calx_session_one(s2, q, &sb, &err), &err);
    calx_select_free(q);
    log_reset();
    CHECK_OK(calx_session_flush(s2, &err), &err);
    CHECK_INT(log_count("UPDATE"), 0); /* nothing changed: no statement */
    CALX_SET(sb->age, 16);
    CHECK_OK(calx_session_commit(s2, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET age="), 1);
    CHECK_INT(log_count("UPDATE"), 1);
    /* Two columns, one of them a text pointed at the program's memory. */
    char newname[] = "Spider-Man";
    sb->name = newname;
    CALX_SET_NULL(sb->age);
    log_reset();
    CHECK_OK(calx_session_commit(s2, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET name=?, age=?") + log_count("UPDATE hero SET name=$1, age=$2"), 1);
    CHECK(sb->name != newname); /* copied in at the flush */
    CHECK_STR(sb->name, "Spider-Man");
    calx_session *s3 = new_session();
    Hero *again = NULL;
    CHECK_OK(calx_session_get(s3, &Hero_model, calx_int(h[2]->id.value), &again, &err), &err);
    CHECK_STR(again->name, "Spider-Man");
    CHECK(CALX_IS_NULL(again->age));
    calx_session_free(s3);
    calx_session_free(s2);
    calx_session_free(s);
}

/* The ids in the order the last execute-many of prefix in the log bound
 * them (the key is each set's last value); their count. */
static size_t logged_ids(const char *prefix, long long *ids, size_t cap)
{
    int at = log_pos(prefix);
    CHECK(at >= 0);
    if (at < 0)
        return 0;
    const char *p = strstr(logbuf + at, "] [(");
    size_t n = 0;
    while (p && n < cap && (p = strchr(p, '(')) != NULL) {
        const char *end = strchr(p, ')');
        const char *last = end;
        while (last > p && last[-1] != ' ' && last[-1] != '(')
            last--;
        ids[n++] = atoll(last);
        p = end;
        if (end[1] != ',')
            break;
    }
    return n;
}

/* SQLAlchemy's order, so that two flushes touching the same rows take
 * their locks in the same order and cannot deadlock on each other. */
TASK_TEST(updates_and_deletes_go_in_key_order_whatever_order_the_objects_changed_in)
{
    calx_session *s = new_session();
    enum { N = 8 };
    Hero *h[N];
    add_heroes(s, h, N, "hero");
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session *s2 = new_session();
    Hero *mine[N];
    for (int k = 0; k < N; k++) {
        int i = (k * 5 + 3) % N;   /* every hero once, in no order */
        CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(h[i]->id.value), &mine[k], &err),
                 &err);
        CALX_SET(mine[k]->age, 100 + k);
    }
    log_reset();
    CHECK_OK(calx_session_flush(s2, &err), &err);
    long long ids[N];
    size_t n = logged_ids("UPDATE hero SET age=", ids, N);
    CHECK_INT(n, N);
    for (size_t i = 1; i < n; i++)
        CHECK(ids[i - 1] < ids[i]);
    for (int k = 0; k < N; k++)
        CHECK_OK(calx_session_delete(s2, mine[(k * 3 + 1) % N], &err), &err);
    log_reset();
    CHECK_OK(calx_session_commit(s2, &err), &err);
    n = logged_ids("DELETE FROM hero", ids, N);
    CHECK_INT(n, N);
    for (size_t i = 1; i < n; i++)
        CHECK(ids[i - 1] < ids[i]);
    calx_session_free(s2);
    calx_session_free(s);
}

/* A DELETE whose row another program deleted first is SQLAlchemy's
 * StaleDataError, and the commit it was part of commits nothing: on
 * SQLite from the count read back before the COMMIT, on PostgreSQL from
 * the statement's own check with the COMMIT behind it. */
TASK_TEST(a_commit_whose_delete_finds_no_row_fails_and_commits_nothing)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    int64_t gone = h[0]->id.value, kept = h[1]->id.value;
    calx_session_free(s);
    /* Loaded, then the read transaction ended (SQLite's would keep the
     * other connection's DELETE from committing), the objects kept. */
    s = calx_session_new(&(calx_session_opts){ .bind = engine, .no_expire_on_commit = true },
                         &err);
    Hero *a = NULL, *b = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(gone), &a, &err), &err);
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(kept), &b, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_connection *c = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, "DELETE FROM hero WHERE id = :id",
                                          CALX_PARAMS(CALX_P("id", calx_int(gone))), &err),
                        NULL, &err), &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    CHECK_OK(calx_session_delete(s, a, &err), &err);
    CALX_SET(b->age, 99);
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_STALE_DATA);
    CHECK_STR(err.message, "DELETE statement on table 'hero' expected to delete 1 row(s); "
                           "Only 0 were matched.");
    CHECK(calx_session_needs_rollback(s));
    CHECK_OK(calx_session_rollback(s, &err), &err);
    calx_session_free(s);
    s = new_session();
    Hero *again = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(kept), &again, &err), &err);
    CHECK(again && again->age.value == 48);   /* the UPDATE beside it was not committed */
    calx_session_free(s);
}

TASK_TEST(delete_and_states)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    Hero *fresh = hero("Temp", "x", -1);
    CHECK_INT(calx_obj_state(fresh), CALX_STATE_TRANSIENT);
    CHECK_INT(calx_session_delete(s, fresh, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "is not persisted");
    CHECK_OK(calx_session_add(s, fresh, &err), &err);
    CHECK_INT(calx_obj_state(fresh), CALX_STATE_PENDING);
    CHECK(calx_session_contains(s, fresh));
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK_INT(calx_obj_state(fresh), CALX_STATE_PERSISTENT);
    CHECK_OK(calx_session_delete(s, h[2], &err), &err);
    log_reset();
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK_INT(log_count("DELETE FROM hero WHERE hero.id = "), 1);
    CHECK_INT(calx_obj_state(h[2]), CALX_STATE_DELETED);
    CHECK(calx_session_contains(s, h[2]));
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(calx_obj_state(h[2]), CALX_STATE_DETACHED);
    CHECK(!calx_session_contains(s, h[2]));
    Hero *gone = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(h[2]->id.value), &gone, &err), &err);
    CHECK(gone == NULL);
    CHECK_INT(count_rows("hero"), 3);
    /* A deleted object's memory stays valid: the session still owns it. */
    CHECK_STR(h[2]->name, "Spider-Boy");
    CHECK_INT(calx_obj_free(h[2]), CALX_ERR_STATE);
    calx_session_free(s);
}

TASK_TEST(flush_orders_parents_first_and_deletes_children_first)
{
    calx_session *s = new_session();
    /* The child is added first; the flush still inserts the parent first. */
    Hero *hh = hero("Kid", "k", 10);
    CALX_SET(hh->team_id, 77);
    Team *tt = CALX_NEW(Team, &err, .id = CALX_SOME(77), .name = "T", .headquarters = "H");
    CHECK_OK(calx_session_add(s, hh, &err), &err);
    CHECK_OK(calx_session_add(s, tt, &err), &err);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    int ti = log_pos("INSERT INTO team"), hi = log_pos("INSERT INTO hero");
    CHECK(ti >= 0 && hi > ti);
    CHECK_INT(tt->id.value, 77); /* a key given is kept */
    /* Within a table, INSERTs go in the order added. */
    Hero *a = hero("A1", "a", -1), *b = hero("B2", "b", -1), *c = hero("C3", "c", -1);
    CHECK_OK(calx_session_add_all(s, (void *[]){ c, a, b }, 3, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK(c->id.value < a->id.value && a->id.value < b->id.value);
    CHECK_OK(calx_session_delete(s, tt, &err), &err);
    CHECK_OK(calx_session_delete(s, hh, &err), &err);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    int td = log_pos("DELETE FROM team"), hd = log_pos("DELETE FROM hero");
    CHECK(hd >= 0 && td > hd);
    calx_session_free(s);
}

TASK_TEST(rollback_expunges_pending_restores_deleted_and_expires)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    Hero *tmp = hero("Temp", "x", -1);
    CHECK_OK(calx_session_add(s, tmp, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK(!CALX_IS_NULL(tmp->id));
    Hero *unflushed = hero("Never", "n", -1);
    CHECK_OK(calx_session_add(s, unflushed, &err), &err);
    CHECK_OK(calx_session_delete(s, h[0], &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    CALX_SET(h[1]->age, 99);
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK(!calx_session_contains(s, tmp));          /* "in session: False" */
    CHECK_INT(calx_obj_state(tmp), CALX_STATE_TRANSIENT);
    CHECK_INT(calx_obj_state(unflushed), CALX_STATE_TRANSIENT);
    CHECK_INT(calx_obj_state(h[0]), CALX_STATE_PERSISTENT); /* its DELETE undone */
    CHECK(calx_obj_expired(h[1]));
    CHECK_INT(h[1]->age.value, 48);                 /* the change not flushed is gone */
    CHECK_INT(count_rows("hero"), 3);
    /* The session can go on. */
    Hero *x = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(h[0]->id.value), &x, &err), &err);
    CHECK(x == h[0] && !calx_obj_expired(h[0]));
    /* An expunged transient object is the program's to free. */
    CHECK_OK(calx_session_expunge(s, tmp, &err), &err);
    CHECK_OK(calx_obj_free(tmp), &err);
    calx_session_free(s);
}

TASK_TEST(failed_flush_needs_rollback_and_keeps_committed_data)
{
    calx_session *s = new_session();
    Gadget *g1 = CALX_NEW(Gadget, &err, .code = "same", .serial = 1);
    CHECK_OK(calx_session_add(s, g1, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    Gadget *g2 = CALX_NEW(Gadget, &err, .code = "other", .serial = 2);
    Gadget *g3 = CALX_NEW(Gadget, &err, .code = "same", .serial = 3);
    CHECK_OK(calx_session_add_all(s, (void *[]){ g2, g3 }, 2, &err), &err);
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_INTEGRITY);
    CHECK(calx_session_needs_rollback(s));
    Gadget *x = NULL;
    CHECK_INT(calx_session_get(s, &Gadget_model, calx_int(999), &x, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "first issue calx_session_rollback()");
    CHECK_CONTAINS(err.message, "Original exception was:");
    CHECK_INT(calx_session_flush(s, &err), CALX_ERR_STATE);
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK(!calx_session_needs_rollback(s));
    CHECK_INT(count_rows("gadget"), 1);              /* committed data intact */
    CHECK_INT(calx_obj_state(g2), CALX_STATE_TRANSIENT);
    /* Usable again. */
    g3->code = "third";
    CHECK_OK(calx_session_add(s, g3, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("gadget"), 2);
    calx_session_free(s);
}

TASK_TEST(validation_failure_sends_nothing)
{
    calx_session *s = new_session();
    Gadget *g = CALX_NEW(Gadget, &err, .code = "ok", .serial = 1);
    CHECK_OK(calx_session_add(s, g, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    g->power = 500;
    log_reset();
    CHECK_INT(calx_session_flush(s, &err), CALX_ERR_VALIDATION);
    CHECK_CONTAINS(err.message, "Gadget.power: ensure this value is less than or equal to 100");
    CHECK_INT(log_count("UPDATE"), 0);
    CHECK(!calx_session_needs_rollback(s));
    g->power = 50;
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
}

TASK_TEST(expire_on_commit_reloads_one_query_per_table)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    for (int i = 0; i < 3; i++)
        CHECK(calx_obj_expired(h[i]));
    CHECK(calx_obj_expired(t[0]));
    /* Another session changes a row behind this one's back. */
    calx_session *other = new_session();
    Hero *o = NULL;
    CHECK_OK(calx_session_get(other, &Hero_model, calx_int(h[1]->id.value), &o, &err), &err);
    CALX_SET(o->age, 49);
    CHECK_OK(calx_session_commit(other, &err), &err);
    calx_session_free(other);
    /* A change the program makes while expired survives the reload. */
    CALX_SET(h[0]->age, 30);
    log_reset();
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK_INT(log_count("SELECT hero."), 1);
    CHECK_INT(log_count("SELECT team."), 1);
    CHECK_INT(log_count("SELECT"), 2);
    CHECK_INT(h[1]->age.value, 49);
    CHECK(!calx_obj_expired(h[1]));
    CHECK_INT(h[0]->age.value, 30);
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET age="), 1);
    /* A get of an expired object reloads the expired objects of its table. */
    log_reset();
    Hero *x = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(h[2]->id.value), &x, &err), &err);
    CHECK(x == h[2]);
    CHECK_INT(log_count("SELECT"), 1);
    CHECK(!calx_obj_expired(h[0]) && !calx_obj_expired(h[1]));
    CHECK(calx_obj_expired(t[0])); /* other tables wait */
    calx_session_free(s);
}

TASK_TEST(no_expire_on_commit_keeps_objects_loaded)
{
    calx_session *s = calx_session_new(
        &(calx_session_opts){ .bind = engine, .no_expire_on_commit = true }, &err);
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    CHECK(!calx_obj_expired(h[0]));
    log_reset();
    Hero *x = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(h[0]->id.value), &x, &err), &err);
    CHECK_INT(log_count("SELECT"), 0);
    calx_session_free(s);
}

TASK_TEST(refresh_and_expire)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    CHECK_OK(calx_session_refresh(s, h[0], &err), &err);
    CHECK(!calx_obj_expired(h[0]));
    CHECK_STR(h[0]->secret_name, "Dive Wilson");
    CALX_SET(h[0]->age, 5);
    CHECK_OK(calx_session_refresh(s, h[0], &err), &err); /* drops the change */
    CHECK(CALX_IS_NULL(h[0]->age));
    CHECK_OK(calx_session_expire(s, h[0], &err), &err);
    CHECK(calx_obj_expired(h[0]));
    calx_session_expire_all(s);
    CHECK(calx_obj_expired(t[1]));
    /* The row is deleted elsewhere (after this session's transaction ends:
     * an open SQLite read transaction would hold the writer off). */
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session *other = new_session();
    Hero *o = NULL;
    CHECK_OK(calx_session_get(other, &Hero_model, calx_int(h[2]->id.value), &o, &err), &err);
    CHECK_OK(calx_session_delete(other, o, &err), &err);
    CHECK_OK(calx_session_commit(other, &err), &err);
    calx_session_free(other);
    CHECK_INT(calx_session_refresh(s, h[2], &err), CALX_ERR_NO_RESULT);
    CHECK_CONTAINS(err.message, "Could not refresh instance");
    /* Reloading every expired object turns the gone one detached. */
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK_INT(calx_obj_state(h[2]), CALX_STATE_DETACHED);
    CHECK_INT(calx_obj_state(h[1]), CALX_STATE_PERSISTENT);
    calx_session_free(s);
}

TASK_TEST(autoflush_before_queries)
{
    calx_session *s = new_session();
    Hero *h = hero("Auto", "a", 1);
    CHECK_OK(calx_session_add(s, h, &err), &err);
    calx_select *q = where_name("Auto");
    Hero *found = NULL;
    log_reset();
    CHECK_OK(calx_session_first(s, q, &found, &err), &err);
    CHECK(found == h);
    CHECK(log_pos("INSERT INTO hero") >= 0 && log_pos("SELECT hero.") > log_pos("INSERT INTO hero"));
    /* close waits for the rollback: the next writer finds no lock. */
    CHECK_OK(calx_session_close(s, &err), &err);
    calx_session_free(s);

    s = calx_session_new(&(calx_session_opts){ .bind = engine, .no_autoflush = true }, &err);
    Hero *h2 = hero("Auto", "b", 2);
    CHECK_OK(calx_session_add(s, h2, &err), &err);
    calx_objlist l;
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    CHECK_INT(l.n, 0); /* not flushed, not seen */
    calx_objlist_free(&l);
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    CHECK_INT(l.n, 1);
    CHECK(l.n && l.items[0] == h2);
    calx_objlist_free(&l);
    calx_select_free(q);
    calx_session_free(s);
}

TASK_TEST(autocommit_commits_every_flush)
{
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine, .autocommit = true },
                                       &err);
    Hero *h = hero("Solo", "s", 3);
    CHECK_OK(calx_session_add(s, h, &err), &err);
    log_reset();
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK_INT(log_count("COMMIT"), 1);
    CHECK(!calx_session_in_transaction(s));
    CHECK_INT(count_rows("hero"), 1);
    calx_session_free(s);
}

TASK_TEST(no_autobegin_needs_begin)
{
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine, .no_autobegin = true },
                                       &err);
    Hero *x = NULL;
    CHECK_INT(calx_session_get(s, &Hero_model, calx_int(1), &x, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "Autobegin is disabled");
    CHECK_OK(calx_session_begin(s, &err), &err);
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(1), &x, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
}

/* What was pending at begin_nested is flushed by it, so stays; what was
 * added after and never flushed leaves with the savepoint. */
TASK_TEST(savepoint_rollback_drops_the_objects_added_since_and_keeps_those_added_before)
{
    calx_session *s = new_session();
    Hero *before = hero("Before", "b", 30);
    CHECK_OK(calx_session_add(s, before, &err), &err);
    CHECK_OK(calx_session_begin_nested(s, &err), &err);
    CHECK_INT(calx_obj_state(before), CALX_STATE_PERSISTENT);
    Hero *after = hero("After", "a", 31), *later = hero("Later", "l", 32);
    CHECK_OK(calx_session_add(s, after, &err), &err);
    CHECK_OK(calx_session_add(s, later, &err), &err);
    CHECK_INT(calx_obj_state(after), CALX_STATE_PENDING);
    CHECK_OK(calx_session_rollback_nested(s, &err), &err);
    CHECK_INT(calx_obj_state(after), CALX_STATE_TRANSIENT);
    CHECK_INT(calx_obj_state(later), CALX_STATE_TRANSIENT);
    CHECK(!calx_session_contains(s, after));
    CHECK_INT(calx_obj_state(before), CALX_STATE_PERSISTENT);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("hero"), 1);
    /* Added again, a dropped object is pending in the session as any new one. */
    CHECK_OK(calx_session_add(s, after, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("hero"), 2);
    calx_session_free(s);
}

TASK_TEST(savepoint_rollback_expires_only_what_changed_since)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CALX_SET(h[0]->age, 20);          /* before the savepoint: kept */
    CHECK_OK(calx_session_begin_nested(s, &err), &err);
    CALX_SET(h[1]->age, 70);          /* after: undone */
    Hero *n = hero("Nested", "n", -1);
    CHECK_OK(calx_session_add(s, n, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK_OK(calx_session_rollback_nested(s, &err), &err);
    CHECK(!calx_obj_expired(h[0]));
    CHECK_INT(h[0]->age.value, 20);
    CHECK(calx_obj_expired(h[1]));
    CHECK(!calx_obj_expired(h[2]));
    CHECK_INT(calx_obj_state(n), CALX_STATE_TRANSIENT);
    CHECK_OK(calx_session_begin_nested(s, &err), &err);
    CALX_SET(h[2]->age, 12);
    CHECK_OK(calx_session_commit_nested(s, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session *s2 = new_session();
    calx_select *q = calx_select_new(CALX_TABLE(Hero));
    calx_select_order_by(q, calx_col(CALX_TABLE(Hero), CALX_FIELD(Hero, id)), CALX_ASC);
    calx_objlist l;
    CHECK_OK(calx_session_all(s2, q, &l, &err), &err);
    CHECK_INT(l.n, 3);
    if (l.n == 3) {
        CHECK_INT(((Hero *)l.items[0])->age.value, 20);
        CHECK_INT(((Hero *)l.items[1])->age.value, 48);
        CHECK_INT(((Hero *)l.items[2])->age.value, 12);
    }
    calx_objlist_free(&l);
    calx_select_free(q);
    calx_session_free(s2);
    calx_session_free(s);
}

static calx_session *shared;
static int busy_seen;

static void *second_user(void *arg)
{
    calx_error e;
    Hero *x = NULL;
    if (calx_session_get(shared, &Hero_model, calx_int(12345), &x, &e) == CALX_ERR_BUSY)
        busy_seen++;
    return NULL;
}

TASK_TEST(one_task_at_a_time)
{
    shared = new_session();
    busy_seen = 0;
    /* The second task runs while the first is suspended in its get. */
    calx_future *f = calx_spawn(loop, second_user, NULL, NULL, &err);
    Hero *x = NULL;
    CHECK_OK(calx_session_get(shared, &Hero_model, calx_int(54321), &x, &err), &err);
    CHECK_OK(calx_await(f, NULL, &err), &err);
    CHECK_INT(busy_seen, 1);
    CHECK_OK(calx_session_get(shared, &Hero_model, calx_int(1), &x, &err), &err);
    calx_session_free(shared);
}

static void *worker(void *arg)
{
    calx_error e;
    int id = (int)(intptr_t)arg;
    calx_session *s = calx_session_new(&(calx_session_opts){ .bind = engine }, &e);
    char name[32];
    snprintf(name, sizeof name, "w%d", id);
    Hero *h = CALX_NEW(Hero, &e, .name = name, .secret_name = "s", .age = CALX_SOME(id));
    int rc = calx_session_add(s, h, &e);
    if (!rc)
        rc = calx_session_commit(s, &e);
    Hero *back = NULL;
    if (!rc)
        rc = calx_session_get(s, &Hero_model, calx_int(h->id.value), &back, &e);
    if (!rc && (back != h || back->age.value != id))
        rc = -1;
    calx_session_free(s);
    return rc ? NULL : arg;
}

TASK_TEST(many_sessions_in_many_tasks_share_the_pool)
{
    enum { N = 40 };
    calx_future *fs[N];
    for (int i = 0; i < N; i++)
        fs[i] = calx_spawn(loop, worker, (void *)(intptr_t)(i + 1), NULL, &err);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        void *v = NULL;
        if (calx_await(fs[i], &v, &err) == 0 && v)
            ok++;
    }
    CHECK_INT(ok, N);
    CHECK_INT(count_rows("hero"), N);
}

TASK_TEST(queries_where_order_limit_offset)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    const calx_table *H = CALX_TABLE(Hero);
    size_t age = CALX_FIELD(Hero, age), name = CALX_FIELD(Hero, name);
    calx_objlist l;
    calx_select *q = calx_select_new(H);
    calx_select_where(q, calx_ge(calx_col(H, age), 35));
    calx_select_where(q, calx_lt(calx_col(H, age), 60));
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    CHECK_INT(l.n, 1);
    CHECK(l.n == 1 && l.items[0] == h[1]);
    CHECK_CONTAINS(logbuf, "WHERE hero.age >= ");
    calx_objlist_free(&l);
    calx_select_free(q);

    q = calx_select_new(H);
    calx_select_order_by(q, calx_col(H, CALX_FIELD(Hero, id)), CALX_ASC);
    calx_select_offset(calx_select_limit(q, 2), 1);
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    CHECK_INT(l.n, 2);
    CHECK(l.n == 2 && l.items[0] == h[1] && l.items[1] == h[2]);
    calx_objlist_free(&l);
    calx_select_free(q);

    q = calx_select_new(H);
    calx_select_where(q, calx_or(calx_is_null(calx_col(H, age)),
                                 calx_like(calx_col(H, name), "Rusty%")));
    calx_select_order_by(q, calx_col(H, name), CALX_DESC);
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    CHECK_INT(l.n, 3);
    CHECK(l.n == 3 && l.items[0] == h[2] && l.items[2] == h[0]);
    calx_objlist_free(&l);
    calx_select_free(q);

    q = calx_select_new(H);
    calx_select_where(q, calx_in(calx_col(H, name), calx_text("Deadpond"), calx_text("Nobody")));
    Hero *one = NULL;
    CHECK_OK(calx_session_one(s, q, &one, &err), &err);
    CHECK(one == h[0]);
    calx_select_free(q);

    q = calx_select_new(H);
    calx_select_where(q, calx_not(calx_eq(calx_col(H, name), "Deadpond")));
    CHECK_INT(calx_session_one(s, q, &one, &err), CALX_ERR_MULTIPLE_RESULTS);
    CHECK(one == NULL);
    CHECK_INT(calx_session_one_or_none(s, q, &one, &err), CALX_ERR_MULTIPLE_RESULTS);
    calx_select_free(q);

    q = where_name("Nobody");
    CHECK_INT(calx_session_one(s, q, &one, &err), CALX_ERR_NO_RESULT);
    CHECK_OK(calx_session_one_or_none(s, q, &one, &err), &err);
    CHECK(one == NULL);
    CHECK_OK(calx_session_first(s, q, &one, &err), &err);
    CHECK(one == NULL);
    calx_select_free(q);

    /* A bad expression reports at execution, naming the cause. */
    q = calx_select_new(H);
    calx_select_where(q, calx_eq(calx_col(H, name), 5));
    CHECK_INT(calx_session_all(s, q, &l, &err), CALX_ERR_TYPE);
    CHECK_CONTAINS(err.message, "hero.name");
    calx_select_free(q);
    calx_session_free(s);
}

TASK_TEST(rows_do_not_overwrite_objects_unless_populate_existing)
{
    /* no_autoflush keeps the in-memory change unflushed for this check. */
    calx_session *s = calx_session_new(
        &(calx_session_opts){ .bind = engine, .no_autoflush = true }, &err);
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK_OK(calx_obj_set_text(h[0], &h[0]->secret_name, "changed in memory"), &err);
    calx_select *q = where_name("Deadpond");
    calx_objlist l;
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    CHECK(l.n == 1 && l.items[0] == h[0]);
    CHECK_STR(h[0]->secret_name, "changed in memory");
    calx_objlist_free(&l);
    CHECK_OK(calx_session_execute(s, q, &(calx_exec_opts){ .populate_existing = true }, &l, &err),
             &err);
    CHECK_STR(h[0]->secret_name, "Dive Wilson");
    calx_objlist_free(&l);
    calx_select_free(q);
    calx_session_free(s);
}

TASK_TEST(merge_copies_onto_the_session_object)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    long long id = h[1]->id.value;
    Hero *outside = CALX_NEW(Hero, &err, .id = CALX_SOME(id), .name = "Rusty-Man",
                             .secret_name = "Tony", .age = CALX_SOME(50));
    calx_session *s2 = new_session();
    Hero *m = NULL;
    CHECK_OK(calx_session_merge(s2, outside, &m, &err), &err);
    if (!m) {
        calx_session_free(s2);
        calx_session_free(s);
        return;
    }
    CHECK(m != outside);
    CHECK_STR(m->secret_name, "Tony");
    CHECK_INT(calx_obj_state(m), CALX_STATE_PERSISTENT);
    CHECK_INT(calx_obj_state(outside), CALX_STATE_TRANSIENT);
    log_reset();
    CHECK_OK(calx_session_commit(s2, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET secret_name="), 1);
    /* No key: a new pending object. */
    Hero *nokey = hero("Newbie", "n", -1), *m2 = NULL;
    CHECK_OK(calx_session_merge(s2, nokey, &m2, &err), &err);
    CHECK_INT(calx_obj_state(m2), CALX_STATE_PENDING);
    CHECK_OK(calx_session_commit(s2, &err), &err);
    CHECK_INT(count_rows("hero"), 4);
    calx_obj_free(outside);
    calx_obj_free(nokey);
    calx_session_free(s2);
    calx_session_free(s);
}

TASK_TEST(expunge_and_close)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    CHECK_OK(calx_session_expunge(s, h[0], &err), &err);
    CHECK_INT(calx_obj_state(h[0]), CALX_STATE_DETACHED);
    CHECK_OK(calx_obj_free(h[0]), &err);            /* the program's now */
    Hero *x = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(h[1]->id.value), &x, &err), &err);
    calx_pool_stats st;
    calx_engine_stats(engine, &st);
    CHECK_INT(st.checked_out, 1);
    CHECK_OK(calx_session_close(s, &err), &err);
    calx_engine_stats(engine, &st);
    CHECK_INT(st.checked_out, 0);                    /* the connection went back */
    CHECK_INT(calx_obj_state(h[1]), CALX_STATE_DETACHED);
    CHECK_STR(h[1]->name, "Rusty-Man");              /* still readable */
    CHECK_INT(calx_session_identity_count(s), 0);
    /* The session can be used again; a detached object can come back. */
    CHECK_OK(calx_session_add(s, h[1], &err), &err);
    CHECK_INT(calx_obj_state(h[1]), CALX_STATE_PERSISTENT);
    CALX_SET(h[1]->age, 1);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_expunge_all(s);
    calx_session_free(s);
}

/* The identity map keeps its objects in the order they entered it and
 * gives the places of those that left back once they are half of it:
 * after 280 of 300 heroes are expunged and brought back, every hero is
 * found in the map (the same object, no SQL), and the map lists each once,
 * in key order. */
TASK_TEST(an_identity_map_that_lost_most_of_its_objects_finds_each_one_it_holds)
{
    enum { N = 300, KEEP_EVERY = 15 };
    calx_session *s = new_session();
    Hero **h = calloc(N, sizeof *h);
    long long *ids = calloc(N, sizeof *ids);
    add_heroes(s, h, N, "Hero");
    CHECK_OK(calx_session_commit(s, &err), &err);
    for (int i = 0; i < N; i++)
        ids[i] = h[i]->id.value;
    for (int i = 0; i < N; i++) {
        if (i % KEEP_EVERY == 0)
            continue;
        CHECK_OK(calx_session_expunge(s, h[i], &err), &err);
        CHECK_OK(calx_obj_free(h[i]), &err);
        h[i] = NULL;
    }
    CHECK_INT(calx_session_identity_count(s), N / KEEP_EVERY);
    /* The kept heroes, expired by the commit, are read again in place. */
    for (int i = 0; i < N; i++) {
        Hero *x = NULL;
        CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[i]), &x, &err), &err);
        CHECK(x != NULL && (!h[i] || x == h[i]));
        h[i] = x;
    }
    CHECK_INT(calx_session_identity_count(s), N);
    log_reset();
    for (int i = 0; i < N; i++) {
        Hero *x = NULL;
        CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[i]), &x, &err), &err);
        CHECK(x != NULL && x == h[i]);
    }
    CHECK_INT(loglen, 0);
    void **all = calloc(N + 1, sizeof *all);
    CHECK_INT(calx_session_identity_map(s, all, N + 1), N);
    for (int i = 0; i < N; i++)
        CHECK(all[i] == h[i]);
    free(all);
    calx_session_free(s);
    free(h);
    free(ids);
}

TASK_TEST(every_field_kind_round_trips)
{
    calx_session *s = new_session();
    Gadget *g = CALX_NEW(Gadget, &err, .code = "all", .serial = 1234567890123LL,
                         .power = 0, .weight = -2.25, .active = false, .note = "",
                         .ratio = CALX_SOME(0.0), .flag = CALX_SOME(true),
                         .small = CALX_SOME(-7), .data = { "\0\xff\0", 3 },
                         .made_at = 1714566615250000LL, .seen_at = CALX_SOME(0));
    Gadget *n = CALX_NEW(Gadget, &err, .code = "nulls", .serial = 0);
    CHECK_OK(calx_session_add_all(s, (void *[]){ g, n }, 2, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session *s2 = new_session();
    Gadget *a = NULL, *b = NULL;
    CHECK_OK(calx_session_get(s2, &Gadget_model, calx_int(g->id.value), &a, &err), &err);
    CHECK_OK(calx_session_get(s2, &Gadget_model, calx_int(n->id.value), &b, &err), &err);
    if (a && b) {
        CHECK_STR(a->code, "all");
        CHECK(a->serial == 1234567890123LL && a->power == 0 && a->weight == -2.25);
        CHECK(!a->active);
        CHECK_STR(a->note, "");                       /* "" is not NULL */
        CHECK(a->ratio.valid && a->ratio.value == 0.0);
        CHECK(a->flag.valid && a->flag.value);
        CHECK(a->small.valid && a->small.value == -7);
        CHECK(a->data.len == 3 && memcmp(a->data.data, "\0\xff\0", 3) == 0);
        CHECK_INT(a->made_at, 1714566615250000LL);
        CHECK(a->seen_at.valid && a->seen_at.value == 0);
        CHECK(b->note == NULL && CALX_IS_NULL(b->ratio) && CALX_IS_NULL(b->flag));
        CHECK(CALX_IS_NULL(b->small) && b->data.data == NULL && CALX_IS_NULL(b->seen_at));
        CHECK(b->active); /* DEFAULT(true) */
    }
    calx_session_free(s2);
    calx_session_free(s);
}

/* SQLite: a transaction that began by reading cannot take the write lock
 * while another connection writes; the error says so and what to do, and
 * begin=immediate avoids it (the second writer waits instead). */
static calx_engine *immediate_engine;
static long long b_id;

static void *second_writer(void *arg)
{
    calx_error e;
    calx_session *sb = calx_session_new(&(calx_session_opts){ .bind = immediate_engine }, &e);
    Hero *h = NULL;
    int rc = calx_session_get(sb, &Hero_model, calx_int(b_id), &h, &e);
    if (!rc && h) {
        CALX_SET(h->age, 2);
        rc = calx_session_commit(sb, &e);
    }
    calx_session_free(sb);
    return rc || !h ? NULL : arg;
}

TASK_TEST(sqlite_lock_upgrade_is_explained_and_begin_immediate_waits)
{
    if (strcmp(calx_engine_dialect(engine), "sqlite") != 0)
        SKIP("SQLite only: a read transaction's lock upgrade");
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    long long id0 = h[0]->id.value, id1 = h[1]->id.value;
    calx_session_free(s); /* h[] go with it */
    calx_session *sa = new_session(), *sb = new_session();
    Hero *a = NULL, *b = NULL;
    CHECK_OK(calx_session_get(sa, &Hero_model, calx_int(id0), &a, &err), &err);
    CHECK_OK(calx_session_get(sb, &Hero_model, calx_int(id1), &b, &err), &err);
    CALX_SET(b->age, 1);
    CHECK_OK(calx_session_flush(sb, &err), &err);   /* sb holds the write lock */
    CALX_SET(a->age, 1);
    CHECK_INT(calx_session_flush(sa, &err), CALX_ERR_OPERATIONAL);
    CHECK_CONTAINS(err.message, "database is locked");
    CHECK_CONTAINS(err.message, "began by reading");
    CHECK_CONTAINS(err.message, "begin=immediate");
    CHECK_OK(calx_session_rollback(sa, &err), &err);
    CHECK_OK(calx_session_rollback(sb, &err), &err);
    calx_session_free(sa);
    calx_session_free(sb);

    /* begin=immediate: the second writer waits for the first to commit. */
    char url[1100];
    const char *env = getenv("CALX_TEST_URL");
    if (env && *env)
        snprintf(url, sizeof url, "%s%sbegin=immediate", env, strchr(env, '?') ? "&" : "?");
    else
        snprintf(url, sizeof url, "sqlite:///%s/s%d.db?begin=immediate", dir, seq);
    immediate_engine = calx_create_engine(url, &(calx_engine_opts){ .loop = loop }, &err);
    CHECK(immediate_engine != NULL);
    if (!immediate_engine)
        return;
    b_id = id1;
    sa = calx_session_new(&(calx_session_opts){ .bind = immediate_engine }, &err);
    CHECK_OK(calx_session_get(sa, &Hero_model, calx_int(id0), &a, &err), &err);
    calx_future *f = calx_spawn(loop, second_writer, (void *)1, NULL, &err);
    CHECK_OK(calx_await(calx_sleep(loop, 50, &err), NULL, &err), &err);
    CALX_SET(a->age, 3);
    CHECK_OK(calx_session_commit(sa, &err), &err);
    void *ok = NULL;
    CHECK_OK(calx_await(f, &ok, &err), &err);
    CHECK(ok != NULL);
    calx_session_free(sa);
    calx_session *check = new_session();
    Hero *x = NULL, *y = NULL;
    CHECK_OK(calx_session_get(check, &Hero_model, calx_int(id0), &x, &err), &err);
    CHECK_OK(calx_session_get(check, &Hero_model, calx_int(id1), &y, &err), &err);
    CHECK(x && x->age.value == 3 && y && y->age.value == 2);
    calx_session_free(check);
    calx_engine_free(immediate_engine);
}

/* ---- objects crossing sessions: one owner each ---- */

/* The ids of the seeded heroes, with the session that made them gone. */
static void seed_ids(long long *ids)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    for (int i = 0; i < 3; i++)
        ids[i] = h[i]->id.value;
    calx_session_free(s);
}

TASK_TEST(an_object_added_to_a_second_session_is_freed_by_that_session_only)
{
    long long ids[3];
    seed_ids(ids);
    calx_session *s1 = new_session(), *s2 = new_session();
    Hero *h = NULL;
    CHECK_OK(calx_session_get(s1, &Hero_model, calx_int(ids[1]), &h, &err), &err);
    CHECK(h != NULL);
    if (!h) {
        calx_session_free(s1);
        calx_session_free(s2);
        return;
    }
    CHECK_OK(calx_session_close(s1, &err), &err);
    CHECK_INT(calx_obj_state(h), CALX_STATE_DETACHED);
    CHECK_OK(calx_session_add(s2, h, &err), &err);
    CHECK_INT(calx_obj_state(h), CALX_STATE_PERSISTENT);
    /* s2 owns h now: freeing s1 leaves it alone. */
    calx_session_free(s1);
    CHECK_STR(h->name, "Rusty-Man");
    CALX_SET(h->age, 49);
    log_reset();
    CHECK_OK(calx_session_commit(s2, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET age="), 1);
    CHECK_INT(calx_obj_free(h), CALX_ERR_STATE);
    calx_session_free(s2);
}

TASK_TEST(an_object_rolled_back_out_of_one_session_can_be_added_to_another)
{
    calx_session *s1 = new_session(), *s2 = new_session();
    Hero *h = hero("Tarantula", "Natalia Roman-on", 32);
    CHECK_OK(calx_session_add(s1, h, &err), &err);
    CHECK_OK(calx_session_flush(s1, &err), &err);
    CHECK_OK(calx_session_rollback(s1, &err), &err);
    CHECK_INT(calx_obj_state(h), CALX_STATE_TRANSIENT);
    CHECK_OK(calx_session_add(s2, h, &err), &err);
    calx_session_free(s1);
    CHECK_OK(calx_session_commit(s2, &err), &err);
    CHECK_INT(count_rows("hero"), 1);
    CHECK_STR(h->secret_name, "Natalia Roman-on");
    calx_session_free(s2);
}

TASK_TEST(an_object_expunged_from_one_session_can_be_added_to_another)
{
    long long ids[3];
    seed_ids(ids);
    calx_session *s1 = new_session(), *s2 = new_session();
    Hero *h = NULL;
    CHECK_OK(calx_session_get(s1, &Hero_model, calx_int(ids[0]), &h, &err), &err);
    CHECK_OK(calx_session_expunge(s1, h, &err), &err);
    CHECK_OK(calx_session_add(s2, h, &err), &err);
    calx_session_free(s1);
    CHECK_STR(h->name, "Deadpond");
    CHECK_INT(calx_obj_free(h), CALX_ERR_STATE);     /* s2's */
    calx_session_free(s2);
}

TASK_TEST(expunge_refuses_an_object_another_session_owns)
{
    long long ids[3];
    seed_ids(ids);
    calx_session *s1 = new_session(), *s2 = new_session();
    Hero *a = NULL, *b = NULL;
    CHECK_OK(calx_session_get(s1, &Hero_model, calx_int(ids[0]), &a, &err), &err);
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(ids[1]), &b, &err), &err);
    CHECK_OK(calx_session_close(s1, &err), &err);
    CHECK_INT(calx_session_expunge(s2, a, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "is not present in this Session");
    /* Neither session's objects were disturbed. */
    CHECK_STR(b->name, "Rusty-Man");
    CHECK(calx_session_contains(s2, b));
    CHECK_INT(calx_obj_free(a), CALX_ERR_STATE);     /* still s1's */
    calx_session_free(s2);
    calx_session_free(s1);
}

TASK_TEST(merge_keeps_the_source_with_its_owner)
{
    long long ids[3];
    seed_ids(ids);
    calx_session *s1 = new_session(), *s2 = new_session();
    Hero *h = NULL, *m = NULL;
    CHECK_OK(calx_session_get(s1, &Hero_model, calx_int(ids[2]), &h, &err), &err);
    CHECK_OK(calx_session_merge(s2, h, &m, &err), &err);
    CHECK(m != NULL && m != h);
    CHECK(calx_session_contains(s1, h));
    CHECK(!calx_session_contains(s2, h));
    /* Each session frees its own: the copy outlives the source's session. */
    calx_session_free(s1);
    CHECK(m && strcmp(m->name, "Spider-Boy") == 0);
    calx_session_free(s2);
}

TASK_TEST(an_object_inserted_and_deleted_in_a_rolled_back_transaction_leaves_the_session)
{
    calx_session *s1 = new_session(), *s2 = new_session();
    Hero *h = hero("Black Lion", "Trevor Challa", 35);
    CHECK_OK(calx_session_add(s1, h, &err), &err);
    CHECK_OK(calx_session_flush(s1, &err), &err);
    CHECK_OK(calx_session_delete(s1, h, &err), &err);
    CHECK_OK(calx_session_flush(s1, &err), &err);
    CHECK_OK(calx_session_rollback(s1, &err), &err);
    CHECK_INT(calx_obj_state(h), CALX_STATE_TRANSIENT);
    CHECK_INT(calx_session_identity_count(s1), 0);
    /* The same inside a savepoint. */
    Hero *g = hero("Princess Sure-E", "Sure-E", 15);
    CHECK_OK(calx_session_begin_nested(s1, &err), &err);
    CHECK_OK(calx_session_add(s1, g, &err), &err);
    CHECK_OK(calx_session_flush(s1, &err), &err);
    CHECK_OK(calx_session_delete(s1, g, &err), &err);
    CHECK_OK(calx_session_flush(s1, &err), &err);
    CHECK_OK(calx_session_rollback_nested(s1, &err), &err);
    CHECK_INT(calx_obj_state(g), CALX_STATE_TRANSIENT);
    CHECK_INT(calx_session_identity_count(s1), 0);
    CHECK_OK(calx_session_rollback(s1, &err), &err);
    /* Out of s1 entirely: another session can take it. */
    CHECK_OK(calx_session_add(s2, h, &err), &err);
    calx_session_free(s1);                           /* frees g, not h */
    CHECK_OK(calx_session_commit(s2, &err), &err);
    CHECK_INT(count_rows("hero"), 1);
    calx_session_free(s2);
}

TASK_TEST(an_object_marked_for_delete_whose_row_is_gone_is_not_deleted_again)
{
    long long ids[3];
    seed_ids(ids);
    calx_session *s1 = new_session(), *s2 = new_session();
    Hero *h = NULL, *other = NULL;
    CHECK_OK(calx_session_get(s1, &Hero_model, calx_int(ids[0]), &h, &err), &err);
    CHECK_OK(calx_session_commit(s1, &err), &err);   /* h expired */
    CHECK_OK(calx_session_delete(s1, h, &err), &err);
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(ids[0]), &other, &err), &err);
    CHECK_OK(calx_session_delete(s2, other, &err), &err);
    CHECK_OK(calx_session_commit(s2, &err), &err);
    /* The reload finds no row: h is detached, and its pending DELETE goes. */
    CHECK_OK(calx_session_reload_expired(s1, &err), &err);
    CHECK_INT(calx_obj_state(h), CALX_STATE_DETACHED);
    log_reset();
    CHECK_OK(calx_session_commit(s1, &err), &err);
    CHECK_INT(log_count("DELETE"), 0);
    calx_session_free(s2);
    calx_session_free(s1);
}

/* ---- conformance with SQLAlchemy ---- */

TASK_TEST(get_returns_an_object_deleted_but_not_yet_flushed)
{
    long long ids[3];
    seed_ids(ids);
    calx_session *s = new_session();
    Hero *h = NULL, *again = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[1]), &h, &err), &err);
    CHECK_OK(calx_session_delete(s, h, &err), &err);
    log_reset();
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[1]), &again, &err), &err);
    CHECK(again == h);                               /* still persistent until the flush */
    CHECK_INT(calx_obj_state(h), CALX_STATE_PERSISTENT);
    CHECK_INT(log_count("DELETE"), 0);
    CHECK_OK(calx_session_expire(s, h, &err), &err); /* expired: reloaded, still returned */
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[1]), &again, &err), &err);
    CHECK(again == h);
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK_INT(calx_obj_state(h), CALX_STATE_DELETED);
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(ids[1]), &again, &err), &err);
    CHECK(again == NULL);                            /* its DELETE is flushed */
    calx_session_free(s);
}

TASK_TEST(one_or_none_on_two_rows_says_one_or_none_was_required)
{
    long long ids[3];
    seed_ids(ids);
    calx_session *s = new_session();
    calx_select *q = calx_select_new(CALX_TABLE(Hero));
    Hero *one = NULL;
    CHECK_INT(calx_session_one_or_none(s, q, &one, &err), CALX_ERR_MULTIPLE_RESULTS);
    CHECK_STR(err.message, "Multiple rows were found when one or none was required");
    CHECK(one == NULL);
    CHECK_INT(calx_session_one(s, q, &one, &err), CALX_ERR_MULTIPLE_RESULTS);
    CHECK_STR(err.message, "Multiple rows were found when exactly one was required");
    calx_select_free(q);
    calx_session_free(s);
}

TASK_TEST(a_flush_that_breaks_a_constraint_names_the_failing_statement)
{
    calx_session *s = new_session();
    Gadget *g1 = CALX_NEW(Gadget, &err, .code = "same", .serial = 1);
    CHECK_OK(calx_session_add(s, g1, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    /* Alone in its flush. */
    Gadget *dup = CALX_NEW(Gadget, &err, .code = "same", .serial = 2);
    CHECK_OK(calx_session_add(s, dup, &err), &err);
    CHECK_INT(calx_session_flush(s, &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "[SQL: INSERT INTO gadget (");
    CHECK_OK(calx_session_rollback(s, &err), &err);
    /* Third of three statements (an UPDATE of gadget, an INSERT into hero
     * before it): the message names the INSERT that failed. */
    g1->serial = 5;
    Hero *h = hero("Dr. Weird", "Steve Weird", 36);
    Gadget *dup2 = CALX_NEW(Gadget, &err, .code = "same", .serial = 3);
    CHECK_OK(calx_session_add_all(s, (void *[]){ h, dup2 }, 2, &err), &err);
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "[SQL: INSERT INTO gadget (");
    CHECK(!strstr(err.message, "[SQL: INSERT INTO hero"));
    CHECK(!strstr(err.message, "[SQL: UPDATE"));
    /* Quoted as echo showed it, in the dialect's paramstyle. */
    const char *quoted = strstr(err.message, "[SQL: ");
    char sql[400] = "";
    if (quoted)
        snprintf(sql, sizeof sql, "%.*s", (int)strcspn(quoted + 6, "]"), quoted + 6);
    CHECK(sql[0] && log_pos(sql) >= 0);
    /* The session's later refusal quotes it too. */
    CHECK_INT(calx_session_flush(s, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "[SQL: INSERT INTO gadget (");
    CHECK_OK(calx_session_rollback(s, &err), &err);
    calx_session_free(s);                            /* frees dup, dup2 and h: s owns them */
}

TEST(database_calls_outside_a_task_are_refused)
{
    setup();
    calx_session *s = new_session();
    Hero *x = NULL;
    CHECK_INT(calx_session_get(s, &Hero_model, calx_int(1), &x, &err), CALX_ERR_STATE);
    CHECK_CONTAINS(err.message, "inside a calx task");
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_STATE);
    /* Memory-only calls work anywhere. */
    Hero *h = hero("Outside", "o", -1);
    CHECK_OK(calx_session_add(s, h, &err), &err);
    CHECK(calx_session_new(&(calx_session_opts){ 0 }, &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_ARGUMENT);
    calx_sessionmaker *mk = calx_sessionmaker_new(&(calx_session_opts){ .bind = engine }, &err);
    calx_session *s2 = calx_sessionmaker_session(mk, &err);
    CHECK(s2 != NULL);
    calx_session_free(s2);
    calx_sessionmaker_free(mk);
    calx_session_free(s);
    teardown();
}

/* A flush of new rows (on PostgreSQL one INSERT over arrays, on SQLite an
 * execute-many), more than the flush holds room for on its stack (its
 * arrays move to the heap: calx__grow_room), or a commit carrying one,
 * with allocation k failing:
 * either every row is written or the call says out of memory, and then
 * none is, or the message says the transaction is committed (the COMMIT
 * ran before the failure) and all are; the session and the engine stay
 * usable, and nothing leaks (the sanitizer runs say so). */
static long long oom_rows_before;
#define OOM_ROWS 6   /* more than flush.c's ROOM_OPS */

static void delete_oom_rows(void)
{
    calx_connection *c = NULL;
    calx_result *r = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, "DELETE FROM hero WHERE name = 'Oom'", NULL, &err),
                        &r, &err), &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_result_free(r);
    calx_conn_close(c);
}

static void flush_attempt(void *commit, long k)
{
    long at = fail_at;
    fail_at = -1;   /* the set-up allocates freely */
    calx_session *s = new_session();
    if (!s)
        return;
    for (int i = 0; i < OOM_ROWS; i++)
        CHECK_OK(calx_session_add(s, hero("Oom", "o", i), &err), &err);
    nalloc = 0;
    fail_at = at;
    calx_error e;
    int rc = commit ? calx_session_commit(s, &e) : calx_session_flush(s, &e);
    alloc_fail_stop();
    if (!rc && !commit)
        CHECK_OK(calx_session_commit(s, &err), &err);
    if (rc) {
        if (rc != CALX_ERR_NOMEM)
            fprintf(stderr, "  allocation %ld: %s\n", k, e.message);
        CHECK_INT(rc, CALX_ERR_NOMEM);
        CHECK_OK(calx_session_rollback(s, &err), &err);
        bool committed = strstr(e.message, "the transaction is committed") != NULL;
        long long n = count_rows("hero");
        if (n != oom_rows_before + (committed ? OOM_ROWS : 0))
            fprintf(stderr, "  allocation %ld%s: %s\n", k, fail_rest ? " on" : "", e.message);
        CHECK_INT(n, oom_rows_before + (committed ? OOM_ROWS : 0));
    } else {
        CHECK_INT(count_rows("hero"), oom_rows_before + OOM_ROWS);
    }
    delete_oom_rows();
    calx_session_free(s);
}

TASK_TEST(a_flush_that_runs_out_of_memory_anywhere_writes_all_or_nothing_and_says_which)
{
    oom_rows_before = count_rows("hero");
    for (int commit = 0; commit < 2; commit++)
        for (int rest = 0; rest < 2; rest++)   /* it reached the flush: */
            CHECK(alloc_fail_sweep(rest, flush_attempt, commit ? &commit : NULL) > 20);
    /* And after it all, a flush as any other. */
    calx_session *s = new_session();
    CHECK_OK(calx_session_add(s, hero("After", "a", 1), &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
    CHECK_INT(count_rows("hero"), oom_rows_before + 1);
}

/* A get by key and a query with allocation k failing: each either gives
 * what the database holds or says out of memory, and the session goes on
 * to read the same rows right after (nothing leaks: the sanitizer runs). */
static long long read_oom_id;

static void read_attempt(void *arg, long k)
{
    (void)arg;
    (void)k;
    long at = fail_at;
    fail_at = -1;
    calx_session *s = new_session();
    if (!s)
        return;
    nalloc = 0;
    fail_at = at;
    calx_error e;
    Hero *h = NULL;
    int rc = calx_session_get(s, &Hero_model, calx_int(read_oom_id), &h, &e);
    calx_objlist l = { 0 };
    calx_select *q = NULL;
    int rq = 0;
    if (!rc) {
        q = calx_select_new(CALX_TABLE(Hero));
        rq = q ? calx_session_all(s, q, &l, &e) : CALX_ERR_NOMEM;
    }
    alloc_fail_stop();
    if (rc || rq) {
        CHECK_INT(rc ? rc : rq, CALX_ERR_NOMEM);
    } else {
        CHECK(h && strcmp(h->name, "Read") == 0);
        CHECK_INT(l.n, 3);
    }
    calx_objlist_free(&l);
    calx_select_free(q);
    /* The same session reads them after. */
    calx_session_rollback(s, &e);
    h = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(read_oom_id), &h, &err), &err);
    CHECK(h && strcmp(h->name, "Read") == 0);
    calx_session_free(s);
}

TASK_TEST(a_get_or_query_that_runs_out_of_memory_anywhere_says_so_and_the_session_reads_on)
{
    calx_session *s = new_session();
    Hero *hs[3] = { hero("Read", "r", 1), hero("Read2", "r", 2), hero("Read3", "r", 3) };
    for (int i = 0; i < 3; i++)
        CHECK_OK(calx_session_add(s, hs[i], &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    read_oom_id = hs[0]->id.value;
    calx_session_free(s);
    long long before = count_rows("hero");
    CHECK_INT(before, 3);
    for (int rest = 0; rest < 2; rest++)
        CHECK(alloc_fail_sweep(rest, read_attempt, NULL) > 10);
}

int main(void)
{
    dir = test_tmpdir("test_session");
    calx_error e;
    loop = calx_loop_new(NULL, &e);
    md = calx_metadata_new(&e);
    calx_metadata_add(md, CALX_TABLE(Team), &e);
    calx_metadata_add(md, CALX_TABLE(Hero), &e);
    calx_metadata_add(md, CALX_TABLE(Gadget), &e);
    RUN(commit_inserts_and_fills_generated_keys);
    RUN(a_load_refuses_a_value_past_an_int32_field_naming_it);
    RUN(a_flush_that_runs_out_of_memory_anywhere_writes_all_or_nothing_and_says_which);
    RUN(a_get_or_query_that_runs_out_of_memory_anywhere_says_so_and_the_session_reads_on);
    RUN(a_large_flush_is_one_statement_and_keys_reach_their_objects);
    RUN(a_large_load_takes_blocks_and_an_object_the_program_keeps_outlives_its_session);
    RUN(a_flush_of_1000_objects_is_one_round_trip);
    RUN(a_flush_of_2500_new_objects_on_postgresql_splits_into_several_multirow_inserts);
    RUN(a_flush_of_4000_objects_is_one_batch);
    RUN(a_flush_of_10000_objects_goes_in_segments_and_every_key_finds_its_row);
    RUN(a_flush_whose_last_segment_fails_commits_none_of_its_earlier_segments);
    RUN(a_flush_whose_middle_segment_fails_drops_the_segment_made_behind_it);
    RUN(a_get_reads_its_row_at_once_on_sqlite_and_a_larger_row_the_usual_way);
    RUN(a_get_runs_in_a_task_of_the_smallest_stack);
    RUN(a_get_whose_select_fails_as_it_runs_names_the_sql_and_the_session_reads_on);
    RUN(a_commit_rides_with_its_flush);
    RUN(identity_map_gives_one_object_per_key);
    RUN(a_flushed_change_of_primary_key_moves_the_object_in_the_identity_map);
    RUN(identity_map_hit_needs_no_task_and_no_sql);
    RUN(sessions_of_one_engine_share_their_statements_by_key);
    RUN(flush_updates_only_changed_columns);
    RUN(updates_and_deletes_go_in_key_order_whatever_order_the_objects_changed_in);
    RUN(a_commit_whose_delete_finds_no_row_fails_and_commits_nothing);
    RUN(delete_and_states);
    RUN(flush_orders_parents_first_and_deletes_children_first);
    RUN(rollback_expunges_pending_restores_deleted_and_expires);
    RUN(failed_flush_needs_rollback_and_keeps_committed_data);
    RUN(validation_failure_sends_nothing);
    RUN(expire_on_commit_reloads_one_query_per_table);
    RUN(no_expire_on_commit_keeps_objects_loaded);
    RUN(refresh_and_expire);
    RUN(autoflush_before_queries);
    RUN(autocommit_commits_every_flush);
    RUN(no_autobegin_needs_begin);
    RUN(savepoint_rollback_drops_the_objects_added_since_and_keeps_those_added_before);
    RUN(savepoint_rollback_expires_only_what_changed_since);
    RUN(one_task_at_a_time);
    RUN(many_sessions_in_many_tasks_share_the_pool);
    RUN(queries_where_order_limit_offset);
    RUN(rows_do_not_overwrite_objects_unless_populate_existing);
    RUN(merge_copies_onto_the_session_object);
    RUN(expunge_and_close);
    RUN(an_identity_map_that_lost_most_of_its_objects_finds_each_one_it_holds);
    RUN(every_field_kind_round_trips);
    RUN(sqlite_lock_upgrade_is_explained_and_begin_immediate_waits);
    RUN(an_object_added_to_a_second_session_is_freed_by_that_session_only);
    RUN(an_object_rolled_back_out_of_one_session_can_be_added_to_another);
    RUN(an_object_expunged_from_one_session_can_be_added_to_another);
    RUN(expunge_refuses_an_object_another_session_owns);
    RUN(merge_keeps_the_source_with_its_owner);
    RUN(an_object_inserted_and_deleted_in_a_rolled_back_transaction_leaves_the_session);
    RUN(an_object_marked_for_delete_whose_row_is_gone_is_not_deleted_again);
    RUN(get_returns_an_object_deleted_but_not_yet_flushed);
    RUN(one_or_none_on_two_rows_says_one_or_none_was_required);
    RUN(a_flush_that_breaks_a_constraint_names_the_failing_statement);
    RUN(database_calls_outside_a_task_are_refused);
    calx_metadata_free(md);
    calx_loop_free(loop);
    return TEST_REPORT();
}
