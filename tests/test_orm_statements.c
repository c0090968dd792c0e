/* SPDX-License-Identifier: MIT */
/* ORM-enabled statements on a real database: selects of several entities
 * and columns whose rows are objects through the identity map
 * (calx_session_rows), and bulk UPDATE / DELETE with synchronize_session.
 * Runs on the database CALX_TEST_URL names (a fresh SQLite file when it is
 * unset), so the same tests run on PostgreSQL. */
#include "calx.h"
#include "backend.h"
#include "models.h"
#include "orm_test.h"
#include "engine/engine_int.h"
#include "engine/stmt_cache.h"
#include "orm/session_int.h"
#include "test.h"

CALX_MODEL_DEFINE(Team, "team")
CALX_MODEL_DEFINE(Hero, "hero")
CALX_MODEL_DEFINE(Gadget, "gadget")

#define HERO(f) calx_col(CALX_TABLE(Hero), CALX_FIELD(Hero, f))
#define TEAM(f) calx_col(CALX_TABLE(Team), CALX_FIELD(Team, f))

/* select(Hero, Team), joined when join is not 0 (1 inner, 2 outer). */
static calx_select *heroes_with_teams(int join)
{
    calx_select *q = calx_select_new(CALX_TABLE(Hero));
    calx_select_add_entity(q, CALX_TABLE(Team));
    if (join)
        calx_select_join(q, CALX_TABLE(Team), NULL, join == 2 ? CALX_JOIN_LEFT : CALX_JOIN_INNER);
    return q;
}

TASK_TEST(rows_of_two_entities_are_objects_of_the_identity_map)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    calx_session_expire_all(s);
    calx_select *q = calx_select_where(heroes_with_teams(1), calx_eq(TEAM(name), "Preventers"));
    log_reset();
    calx_entity_rows *rows = NULL;
    CHECK_OK(calx_session_rows(s, q, &rows, &err), &err);
    CHECK(strstr(logbuf, "FROM hero JOIN team ON team.id = hero.team_id") != NULL);
    CHECK_INT(calx_entity_rows_count(rows), 1);
    CHECK_INT(calx_entity_rows_width(rows), 2);
    Hero *rusty = calx_entity_rows_object(rows, 0, 0);
    Team *preventers = calx_entity_rows_object(rows, 0, 1);
    /* The objects the session already held, refreshed from the row. */
    CHECK(rusty == h[1]);
    CHECK(preventers == t[0]);
    CHECK_STR(rusty->name, "Rusty-Man");
    CHECK_STR(preventers->headquarters, "Sharp Tower");
    CHECK(calx_entity_rows_value(rows, 0, 0) == NULL);
    calx_entity_rows_free(rows);
    calx_select_free(q);
    calx_session_free(s);
}

TASK_TEST(an_outer_join_gives_a_null_object_for_the_missing_side)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    calx_select *q = calx_select_order_by(heroes_with_teams(2), HERO(id), CALX_ASC);
    log_reset();
    calx_entity_rows *rows = NULL;
    CHECK_OK(calx_session_rows(s, q, &rows, &err), &err);
    CHECK(strstr(logbuf, "FROM hero LEFT OUTER JOIN team ON team.id = hero.team_id ORDER BY hero.id") != NULL);
    CHECK_INT(calx_entity_rows_count(rows), 3);
    CHECK(calx_entity_rows_object(rows, 0, 1) == t[1]);
    CHECK(calx_entity_rows_object(rows, 1, 1) == t[0]);
    Hero *spider = calx_entity_rows_object(rows, 2, 0);
    CHECK_STR(spider->name, "Spider-Boy");
    CHECK(calx_entity_rows_object(rows, 2, 1) == NULL);
    calx_entity_rows_free(rows);
    calx_select_free(q);
    calx_session_free(s);
}

TASK_TEST(an_entity_and_an_aggregate_make_an_object_and_a_value_per_row)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    calx_select *q = calx_select_new(CALX_TABLE(Team));
    calx_select_add_column(q, calx_count(HERO(id)));
    calx_select_join(q, CALX_TABLE(Hero), NULL, CALX_JOIN_INNER);
    calx_select_group_by(q, TEAM(id));
    calx_select_order_by(q, TEAM(name), CALX_ASC);
    calx_entity_rows *rows = NULL;
    CHECK_OK(calx_session_rows(s, q, &rows, &err), &err);
    CHECK_INT(calx_entity_rows_count(rows), 2);
    CHECK_INT(calx_entity_rows_width(rows), 2);
    CHECK(calx_entity_rows_object(rows, 0, 0) == t[0]);
    CHECK(calx_entity_rows_object(rows, 0, 1) == NULL);
    const calx_value *n = calx_entity_rows_value(rows, 0, 1);
    CHECK(n != NULL && n->type == CALX_INT && n->u.i == 1);
    calx_entity_rows_free(rows);
    calx_select_free(q);
    calx_session_free(s);
}

TASK_TEST(rows_of_a_bad_select_report_its_error_and_hand_back_nothing)
{
    calx_session *s = new_session();
    calx_select *q = calx_select_where(calx_select_new(CALX_TABLE(Hero)), calx_eq(HERO(name), 3));
    calx_entity_rows *rows = (calx_entity_rows *)1;
    CHECK(calx_session_rows(s, q, &rows, &err) == CALX_ERR_TYPE);
    CHECK(rows == NULL);
    CHECK(strstr(err.message, "hero.name") != NULL);
    calx_select_free(q);
    calx_session_free(s);
}

/* ---- bulk UPDATE and DELETE ---- */

/* Seeds the tutorial's rows and loads every hero, so the session holds
 * them loaded (a commit expires them). h gets them by id. */
static calx_session *seeded_and_loaded(Team **t, Hero **h)
{
    calx_session *s = new_session();
    seed(s, t, h);
    calx_objlist l;
    calx_select *q = calx_select_new(CALX_TABLE(Hero));
    CHECK_OK(calx_session_all(s, q, &l, &err), &err);
    calx_objlist_free(&l);
    calx_select_free(q);
    log_reset();
    return s;
}

TASK_TEST(a_bulk_update_evaluated_in_memory_updates_the_loaded_objects)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded_and_loaded(t, h);
    calx_update *u = calx_update_where(calx_update_set(calx_update_new(CALX_TABLE(Hero)), "age", 0),
                                       calx_is_null(HERO(age)));
    int64_t n = -1;
    CHECK_OK(calx_session_execute_update(s, u, CALX_SYNC_AUTO, &n, &err), &err);
    CHECK_INT(n, 2);
    /* SQLAlchemy's text, and no RETURNING: the objects were evaluated. */
    CHECK(strstr(logbuf, test_backend_pg() ? "UPDATE hero SET age=$1 WHERE hero.age IS NULL"
                                           : "UPDATE hero SET age=? WHERE hero.age IS NULL"));
    CHECK(strstr(logbuf, "RETURNING") == NULL);
    CHECK(h[0]->age.valid && h[0]->age.value == 0);
    CHECK(h[2]->age.valid && h[2]->age.value == 0);
    CHECK(h[1]->age.value == 48);
    /* Loaded values, not changes: nothing to flush. */
    CHECK(!calx__flush_needed(s, true));
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("hero WHERE age = 0"), 2);
    calx_update_free(u);
    calx_session_free(s);
}

TASK_TEST(a_bulk_update_that_cannot_be_evaluated_fetches_the_rows_it_changed)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded_and_loaded(t, h);
    /* LIKE's case rules differ between databases: auto fetches. */
    calx_update *u = calx_update_where(
        calx_update_set(calx_update_new(CALX_TABLE(Hero)), "secret_name", "Wade Wilson"),
        calx_like(HERO(name), "Dead%"));
    int64_t n = -1;
    CHECK_OK(calx_session_execute_update(s, u, CALX_SYNC_AUTO, &n, &err), &err);
    CHECK_INT(n, 1);
    CHECK(strstr(logbuf, "RETURNING hero.id") != NULL);
    CHECK_STR(h[0]->secret_name, "Wade Wilson");
    CHECK_STR(h[1]->secret_name, "Tommy Sharp");
    CHECK(!calx__flush_needed(s, true));
    calx_update_free(u);
    calx_session_free(s);
}

TASK_TEST(evaluate_refuses_what_it_cannot_compute_and_runs_nothing)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded_and_loaded(t, h);
    calx_update *u = calx_update_where(
        calx_update_set(calx_update_new(CALX_TABLE(Hero)), "secret_name", "x"),
        calx_like(HERO(name), "Dead%"));
    CHECK(calx_session_execute_update(s, u, CALX_SYNC_EVALUATE, NULL, &err) == CALX_ERR_ARGUMENT);
    CHECK(strstr(err.message, "CALX_SYNC_FETCH") != NULL);
    CHECK(strstr(logbuf, "UPDATE") == NULL);
    CHECK_STR(h[0]->secret_name, "Dive Wilson");
    /* The session is still usable. */
    CHECK_OK(calx_session_rollback(s, &err), &err);
    calx_update_free(u);
    calx_session_free(s);
}

TASK_TEST(sync_none_leaves_the_objects_as_they_were)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded_and_loaded(t, h);
    calx_update *u = calx_update_set(calx_update_new(CALX_TABLE(Hero)), "age", 7);
    int64_t n = -1;
    CHECK_OK(calx_session_execute_update(s, u, CALX_SYNC_NONE, &n, &err), &err);
    CHECK_INT(n, 3);
    CHECK(h[1]->age.value == 48);
    CHECK_OK(calx_session_refresh(s, h[1], &err), &err);
    CHECK(h[1]->age.value == 7);
    calx_update_free(u);
    calx_session_free(s);
}

TASK_TEST(a_bulk_delete_marks_the_objects_it_deleted_by_evaluate_and_by_fetch)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded_and_loaded(t, h);
    calx_delete *d = calx_delete_where(calx_delete_new(CALX_TABLE(Hero)),
                                       calx_eq(HERO(name), "Spider-Boy"));
    int64_t n = -1;
    CHECK_OK(calx_session_execute_delete(s, d, CALX_SYNC_AUTO, &n, &err), &err);
    CHECK_INT(n, 1);
    CHECK(strstr(logbuf, test_backend_pg() ? "DELETE FROM hero WHERE hero.name = $1"
                                           : "DELETE FROM hero WHERE hero.name = ?"));
    CHECK(calx_obj_state(h[2]) == CALX_STATE_DELETED);
    CHECK(calx_obj_state(h[0]) == CALX_STATE_PERSISTENT);
    calx_delete_free(d);
    d = calx_delete_where(calx_delete_new(CALX_TABLE(Hero)), calx_like(HERO(name), "Dead%"));
    CHECK_OK(calx_session_execute_delete(s, d, CALX_SYNC_FETCH, &n, &err), &err);
    CHECK_INT(n, 1);
    CHECK(strstr(logbuf, "RETURNING hero.id") != NULL);
    CHECK(calx_obj_state(h[0]) == CALX_STATE_DELETED);
    CHECK(calx_obj_state(h[1]) == CALX_STATE_PERSISTENT);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("hero"), 1);
    calx_delete_free(d);
    calx_session_free(s);
}

TASK_TEST(a_rolled_back_bulk_delete_gives_the_objects_back)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded_and_loaded(t, h);
    calx_delete *d = calx_delete_where(calx_delete_new(CALX_TABLE(Hero)),
                                       calx_eq(HERO(name), "Spider-Boy"));
    CHECK_OK(calx_session_execute_delete(s, d, CALX_SYNC_EVALUATE, NULL, &err), &err);
    CHECK(calx_obj_state(h[2]) == CALX_STATE_DELETED);
    /* As for a flush's DELETE: the rollback restores the row and the
     * object, persistent and in the identity map again. */
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK(calx_obj_state(h[2]) == CALX_STATE_PERSISTENT);
    Hero *again = NULL;
    CHECK_OK(calx_session_get(s, &Hero_model, calx_int(h[2]->id.value), &again, &err), &err);
    CHECK(again == h[2]);
    CHECK_INT(count_rows("hero"), 3);
    calx_delete_free(d);
    calx_session_free(s);
}

TASK_TEST(orm_queries_of_the_same_shape_are_compiled_once_and_echo_says_cached)
{
    calx_session *s = new_session();
    Team *t[2];
    Hero *h[3];
    seed(s, t, h);
    calx__stmt_cache_stats before, after;
    calx__stmt_cache_stats_read(engine->stmts, &before);
    log_reset();
    const char *names[] = { "Deadpond", "Rusty-Man", "Spider-Boy" };
    for (int i = 0; i < 3; i++) {
        calx_select *q = where_name(names[i]);
        Hero *got = NULL;
        CHECK_OK(calx_session_one(s, q, &got, &err), &err);
        CHECK(got == h[i]);
        calx_select_free(q);
    }
    calx__stmt_cache_stats_read(engine->stmts, &after);
    CHECK_INT(after.misses - before.misses, 1);
    CHECK_INT(after.hits - before.hits, 2);
    CHECK_INT(log_count("[generated in "), 1);
    CHECK_INT(log_count("[cached since "), 2);
    /* Rows of entities too: select(Hero, Team) twice, compiled once. */
    calx__stmt_cache_stats_read(engine->stmts, &before);
    for (int i = 0; i < 2; i++) {
        calx_select *q = calx_select_add_entity(calx_select_new(CALX_TABLE(Hero)),
                                                CALX_TABLE(Team));
        calx_select_where(q, calx_eq(CALX_C(Hero, team_id), CALX_C(Team, id)));
        calx_entity_rows *rows = NULL;
        CHECK_OK(calx_session_rows(s, q, &rows, &err), &err);
        CHECK_INT(calx_entity_rows_count(rows), 2);
        calx_entity_rows_free(rows);
        calx_select_free(q);
    }
    calx__stmt_cache_stats_read(engine->stmts, &after);
    CHECK_INT(after.misses - before.misses, 1);
    CHECK_INT(after.hits - before.hits, 1);
    calx_session_free(s);
}

int main(void)
{
    dir = test_tmpdir("test_orm_statements");
    calx_error e;
    loop = calx_loop_new(NULL, &e);
    md = calx_metadata_new(&e);
    calx_metadata_add(md, CALX_TABLE(Team), &e);
    calx_metadata_add(md, CALX_TABLE(Hero), &e);
    calx_metadata_add(md, CALX_TABLE(Gadget), &e);
    RUN(rows_of_two_entities_are_objects_of_the_identity_map);
    RUN(orm_queries_of_the_same_shape_are_compiled_once_and_echo_says_cached);
    RUN(an_outer_join_gives_a_null_object_for_the_missing_side);
    RUN(an_entity_and_an_aggregate_make_an_object_and_a_value_per_row);
    RUN(rows_of_a_bad_select_report_its_error_and_hand_back_nothing);
    RUN(a_bulk_update_evaluated_in_memory_updates_the_loaded_objects);
    RUN(a_bulk_update_that_cannot_be_evaluated_fetches_the_rows_it_changed);
    RUN(evaluate_refuses_what_it_cannot_compute_and_runs_nothing);
    RUN(sync_none_leaves_the_objects_as_they_were);
    RUN(a_bulk_delete_marks_the_objects_it_deleted_by_evaluate_and_by_fetch);
    RUN(a_rolled_back_bulk_delete_gives_the_objects_back);
    calx_metadata_free(md);
    calx_loop_free(loop);
    return TEST_REPORT();
}
