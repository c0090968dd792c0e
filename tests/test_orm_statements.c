/* ORM-enabled statements on a real database: selects of several entities
 * and columns whose rows are objects through the identity map
 * (calx_session_rows), and bulk UPDATE / DELETE with synchronize_session.
 * Runs on the database CALX_TEST_URL names (a fresh SQLite file when it is
 * unset), so the same tests run on PostgreSQL. */
#include "calx.h"
#include "models.h"
#include "orm_test.h"
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
    RUN(an_outer_join_gives_a_null_object_for_the_missing_side);
    RUN(an_entity_and_an_aggregate_make_an_object_and_a_value_per_row);
    RUN(rows_of_a_bad_select_report_its_error_and_hand_back_nothing);
    calx_metadata_free(md);
    calx_loop_free(loop);
    return TEST_REPORT();
}
