/* SPDX-License-Identifier: MIT */
/* Writing through relationships, on a real database: save-update brings
 * in what a relationship reaches, the flush sets the foreign keys (a
 * pending parent's key first, in an earlier round), many-to-many pairs
 * become link rows, self-referential rows go parents first and cycles are
 * broken with an UPDATE, and a failure in a later round leaves the session
 * to a rollback as a failed single batch does. The reference is
 * ../shared/reference/sqlmodel_relationships.py's echo. Runs on the
 * database CALX_TEST_URL names (a fresh SQLite file when it is unset), so
 * the same tests run on PostgreSQL (test_rel_writing_pg). */
#include "calx.h"
#include "backend.h"
#include "rel_models.h"

/* A tree whose parent key is NOT NULL: two rows that are each other's
 * parent cannot be ordered. */
#define Node_FIELDS(F, M)                                                     \
    F(M, id,         OPT_INT64, NONE,     .primary_key = true)                \
    F(M, name,       TEXT,      REQUIRED)                                     \
    F(M, parent_id,  INT64,     DEFAULT(0), .foreign_key = "node.id")
#define Node_RELATIONS(R, M)                                                  \
    R(M, parent, Node, MANY_TO_ONE, .back_populates = "children")             \
    R(M, children, Node, ONE_TO_MANY, .back_populates = "parent")
CALX_MODEL_WITH_RELATIONS(Node, "node")

/* A gang whose members the database deletes with it (ON DELETE CASCADE),
 * so the relationship need not load them: passive_deletes. */
#define Gang_FIELDS(F, M)                                                     \
    F(M, id,    OPT_INT64, NONE,     .primary_key = true)                     \
    F(M, name,  TEXT,      REQUIRED)
#define Gang_RELATIONS(R, M)                                                  \
    R(M, members, Member, ONE_TO_MANY, .back_populates = "gang",              \
      .cascade = "all", .passive_deletes = true)
#define Member_FIELDS(F, M)                                                   \
    F(M, id,       OPT_INT64, NONE,     .primary_key = true)                  \
    F(M, name,     TEXT,      REQUIRED)                                       \
    F(M, gang_id,  INT64,     REQUIRED, .foreign_key = "gang.id",             \
                                        .on_delete = "CASCADE")
#define Member_RELATIONS(R, M)                                                \
    R(M, gang, Gang, MANY_TO_ONE, .back_populates = "members")
/* A tree of categories deleted with its root (cascade delete): the rows
 * must go leaves first, whatever their keys. */
#define Category_FIELDS(F, M)                                                 \
    F(M, id,         OPT_INT64, NONE,     .primary_key = true)                \
    F(M, name,       TEXT,      REQUIRED)                                     \
    F(M, parent_id,  OPT_INT64, NONE,     .foreign_key = "category.id")
#define Category_RELATIONS(R, M)                                              \
    R(M, parent, Category, MANY_TO_ONE, .back_populates = "children")         \
    R(M, children, Category, ONE_TO_MANY, .back_populates = "parent",         \
      .cascade = "all, delete-orphan")
CALX_MODEL_WITH_RELATIONS(Category, "category")
CALX_MODEL_WITH_RELATIONS(Gang, "gang")
CALX_MODEL_WITH_RELATIONS(Member, "member")

#include "orm_test.h"
#include "test.h"

REL_MODELS_DEFINE
CALX_MODEL_DEFINE_WITH_RELATIONS(Node, "node")
CALX_MODEL_DEFINE_WITH_RELATIONS(Category, "category")
CALX_MODEL_DEFINE_WITH_RELATIONS(Gang, "gang")
CALX_MODEL_DEFINE_WITH_RELATIONS(Member, "member")


#define TEAM_HEROES CALX_REL(Team, heroes)
#define HERO_TEAM CALX_REL(Hero, team)
#define HERO_MISSIONS CALX_REL(Hero, missions)
#define MISSION_HEROES CALX_REL(Mission, heroes)
#define EMP_REPORTS CALX_REL(Employee, reports)

/* A session whose relationships stay loaded across commits. */
static calx_session *keep_session(void)
{
    calx_session *s = calx_session_new(
        &(calx_session_opts){ .bind = engine, .no_expire_on_commit = true }, &err);
    CHECK(s != NULL);
    return s;
}

/* A session (keep: whose relationships stay loaded across commits) with
 * the tutorial's teams and heroes committed. */
static calx_session *seeded(bool keep, Team **t, Hero **h)
{
    calx_session *s = keep ? keep_session() : new_session();
    seed(s, t, h);
    return s;
}

static Team *team(const char *name, const char *hq)
{
    Team *t = CALX_NEW(Team, &err, .name = name, .headquarters = hq);
    CHECK(t != NULL);
    return t;
}

static Employee *employee(const char *name)
{
    Employee *e = CALX_NEW(Employee, &err, .name = name);
    CHECK(e != NULL);
    return e;
}

/* SQL run and committed on a connection of its own, as another program. */
static void exec_sql(const char *sql)
{
    calx_connection *c = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, sql, NULL, &err), NULL, &err), &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
}

/* The echo's parameters, as SQLite's log shows them (PostgreSQL's
 * many-row INSERT puts them in another form). */
static void check_params(const char *want)
{
    if (!test_backend_pg())
        CHECK_CONTAINS(logbuf, want);
}

TASK_TEST(pending_teams_and_heroes_go_in_one_commit_with_the_keys_filled_in)
{
    /* The reference's "create heroes with teams through the relationship
     * attribute": only the heroes are added; their teams come with them. */
    calx_session *s = new_session();
    Team *preventers = team("Preventers", "Sharp Tower");
    Team *z_force = team("Z-Force", "Sister Margaret's Bar");
    Hero *deadpond = hero("Deadpond", "Dive Wilson", -1);
    deadpond->team = z_force;
    Hero *rusty = hero("Rusty-Man", "Tommy Sharp", 48);
    rusty->team = preventers;
    Hero *spider = hero("Spider-Boy", "Pedro Parqueador", -1);
    CHECK_OK(calx_session_add(s, deadpond, &err), &err);
    CHECK_OK(calx_session_add(s, rusty, &err), &err);
    CHECK_OK(calx_session_add(s, spider, &err), &err);
    CHECK(calx_session_contains(s, z_force) && calx_session_contains(s, preventers));
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(z_force->id.value, 1);
    CHECK_INT(preventers->id.value, 2);
    CHECK_INT(deadpond->id.value, 1);
    CHECK(deadpond->team_id.valid && deadpond->team_id.value == 1);
    CHECK(rusty->team_id.valid && rusty->team_id.value == 2);
    CHECK(!spider->team_id.valid);
    CHECK_INT(spider->id.value, 3);
    /* Teams first (their keys come back), then the heroes; one COMMIT. */
    CHECK_INT(log_count("INSERT INTO team"), 1);
    CHECK_INT(log_count("INSERT INTO hero"), 1);
    CHECK(log_pos("INSERT INTO team") < log_pos("INSERT INTO hero"));
    CHECK_INT(log_count("COMMIT"), 1);
    CHECK(log_pos("COMMIT") > log_pos("INSERT INTO hero"));
    check_params("('Z-Force', \"Sister Margaret's Bar\"), ('Preventers', 'Sharp Tower')");
    check_params("('Deadpond', 'Dive Wilson', None, 1), ('Rusty-Man', 'Tommy Sharp', 48, 2), "
                 "('Spider-Boy', 'Pedro Parqueador', None, None)");
    calx_session_free(s);
}

TASK_TEST(appending_to_a_collection_sets_the_other_side_and_the_childs_key)
{
    calx_session *s = new_session();
    Team *wakaland = team("Wakaland", "Wakaland Capital City");
    Hero *black_lion = hero("Black Lion", "Trevor Challa", 35);
    CHECK_OK(calx_rel_append(wakaland, TEAM_HEROES, black_lion, &err), &err);
    /* back_populates: before any flush. */
    CHECK(black_lion->team == wakaland);
    CHECK_OK(calx_session_add(s, wakaland, &err), &err);
    CHECK_INT(calx_obj_state(black_lion), CALX_STATE_PENDING);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(black_lion->team_id.valid && black_lion->team_id.value == wakaland->id.value);
    check_params("('Black Lion', 'Trevor Challa', 35, 1)");
    CHECK(log_pos("INSERT INTO team") < log_pos("INSERT INTO hero"));
    calx_session_free(s);
}

TASK_TEST(a_many_to_one_set_directly_through_rel_set_or_to_null_updates_the_key)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded(true, t, h);
    Hero *spider = h[2];
    log_reset();
    spider->team = t[0];
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET team_id="), 1);
    check_params("(1, 3)");
    CHECK_INT(spider->team_id.value, t[0]->id.value);

    log_reset();
    CHECK_OK(calx_rel_set(spider, HERO_TEAM, t[1], &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    check_params("(2, 3)");
    CHECK_INT(spider->team_id.value, t[1]->id.value);

    /* The reference's "hero.team = None". */
    log_reset();
    spider->team = NULL;
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET team_id="), 1);
    check_params("(None, 3)");
    CHECK(!spider->team_id.valid);

    /* Nothing changed since: no statement. */
    log_reset();
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("UPDATE"), 0);
    calx_session_free(s);
}

TASK_TEST(a_many_to_one_set_while_unloaded_is_written_even_to_null)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded(false, t, h);
    calx_session *s2 = new_session();
    Hero *rusty = NULL;
    CHECK_OK(calx_session_get(s2, &Hero_model, calx_int(2), &rusty, &err), &err);
    CHECK(!calx_is_loaded(rusty, HERO_TEAM));
    log_reset();
    CHECK_OK(calx_rel_set(rusty, HERO_TEAM, NULL, &err), &err);
    CHECK_OK(calx_session_commit(s2, &err), &err);
    CHECK_INT(log_count("UPDATE hero SET team_id="), 1);
    check_params("(None, 2)");
    calx_session_free(s2);
    calx_session_free(s);
}

TASK_TEST(a_self_referential_tree_goes_in_parents_first_in_one_flush)
{
    calx_session *s = new_session();
    Employee *boss = employee("Boss");
    Employee *ann = employee("Ann"), *bob = employee("Bob"), *cy = employee("Cy");
    CHECK_OK(calx_rel_append(boss, EMP_REPORTS, ann, &err), &err);
    CHECK_OK(calx_rel_append(boss, EMP_REPORTS, bob, &err), &err);
    cy->manager = ann;
    /* Added from the leaf: save-update reaches the rest through the
     * managers and the reports. */
    CHECK_OK(calx_session_add(s, cy, &err), &err);
    CHECK(calx_session_contains(s, boss) && calx_session_contains(s, bob));
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(!boss->manager_id.valid);
    CHECK_INT(ann->manager_id.value, boss->id.value);
    CHECK_INT(bob->manager_id.value, boss->id.value);
    CHECK_INT(cy->manager_id.value, ann->id.value);
    CHECK(boss->id.value < ann->id.value && ann->id.value < cy->id.value);
    /* Three rounds, one transaction, one COMMIT at the end. */
    CHECK_INT(log_count("INSERT INTO employee"), 3);
    CHECK_INT(log_count("COMMIT"), 1);
    CHECK_INT(count_rows("employee"), 4);
    calx_session_free(s);
}

TASK_TEST(a_self_referential_tree_with_given_keys_is_one_batch_parents_first)
{
    calx_session *s = new_session();
    Employee *boss = CALX_NEW(Employee, &err, .id = CALX_SOME(10), .name = "Boss");
    Employee *ann = CALX_NEW(Employee, &err, .id = CALX_SOME(11), .name = "Ann");
    ann->manager = boss;
    CHECK_OK(calx_session_add(s, ann, &err), &err); /* ann is added before boss */
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(ann->manager_id.value, 10);
    CHECK_INT(log_count("INSERT INTO employee"), 1);
    check_params("[(10, 'Boss', None), (11, 'Ann', 10)]");
    calx_session_free(s);
}

TASK_TEST(a_cycle_of_nullable_keys_is_broken_with_an_update_after_the_inserts)
{
    calx_session *s = new_session();
    Employee *a = employee("A"), *b = employee("B");
    a->manager = b;
    b->manager = a;
    CHECK_OK(calx_session_add(s, a, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(a->manager_id.value, b->id.value);
    CHECK_INT(b->manager_id.value, a->id.value);
    CHECK_INT(log_count("UPDATE employee SET manager_id="), 1);
    CHECK(log_pos("UPDATE employee") > log_pos("INSERT INTO employee"));
    /* The database has what the objects say. */
    calx_session *s2 = new_session();
    Employee *a2 = NULL;
    CHECK_OK(calx_session_get(s2, &Employee_model, calx_int(a->id.value), &a2, &err), &err);
    CHECK_INT(a2->manager_id.value, b->id.value);
    calx_session_free(s2);
    calx_session_free(s);
}

TASK_TEST(a_cycle_of_not_null_keys_is_an_error_naming_it_and_sends_nothing)
{
    calx_session *s = new_session();
    Node *a = CALX_NEW(Node, &err, .name = "a"), *b = CALX_NEW(Node, &err, .name = "b");
    a->parent = b;
    b->parent = a;
    CHECK_OK(calx_session_add(s, a, &err), &err);
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "Node.parent (node.parent_id, NOT NULL)");
    CHECK_INT(log_count("INSERT"), 0);
    CHECK(!calx_session_needs_rollback(s));
    calx_session_free(s);
}

TASK_TEST(a_many_to_many_pair_is_a_link_row_inserted_and_deleted_with_the_collection)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded(true, t, h);
    Hero *deadpond = h[0], *rusty = h[1];
    Mission *rescue = CALX_NEW(Mission, &err, .title = "Rescue");
    Mission *heist = CALX_NEW(Mission, &err, .title = "Heist");
    CHECK_OK(calx_rel_append(rescue, MISSION_HEROES, rusty, &err), &err);
    CHECK_OK(calx_rel_append(rescue, MISSION_HEROES, deadpond, &err), &err);
    CHECK_OK(calx_rel_append(heist, MISSION_HEROES, deadpond, &err), &err);
    /* back_populates: the heroes' collections hold the missions too, and
     * the flush makes one link row per pair, not one per side. */
    CHECK_INT(deadpond->missions.n, 2);
    log_reset();
    CHECK_OK(calx_session_add(s, rescue, &err), &err);
    CHECK_OK(calx_session_add(s, heist, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("INSERT INTO mission"), 1);
    CHECK_INT(log_count("INSERT INTO heromissionlink (hero_id, mission_id, is_leader)"), 1);
    CHECK(log_pos("INSERT INTO mission") < log_pos("INSERT INTO heromissionlink"));
    check_params("[(2, 1, 0), (1, 1, 0), (1, 2, 0)]");
    CHECK_INT(count_rows("heromissionlink"), 3);

    /* The link objects are the identity map's: a select sees them. */
    calx_select *q = calx_select_new(CALX_TABLE(HeroMissionLink));
    calx_objlist links;
    CHECK_OK(calx_session_all(s, q, &links, &err), &err);
    CHECK_INT(links.n, 3);
    calx_objlist_free(&links);
    calx_select_free(q);

    log_reset();
    CHECK_OK(calx_rel_remove(deadpond, HERO_MISSIONS, heist, &err), &err);
    CHECK_INT(heist->heroes.n, 0);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("DELETE FROM heromissionlink WHERE heromissionlink.hero_id = "), 1);
    check_params("(1, 2)");
    CHECK_INT(count_rows("heromissionlink"), 2);
    calx_session_free(s);
}

TASK_TEST(an_object_of_the_wrong_model_in_a_relationship_fails_the_flush_naming_it)
{
    calx_session *s = new_session();
    Hero *h = hero("Deadpond", "Dive Wilson", -1);
    Mission *m = CALX_NEW(Mission, &err, .title = "Rescue");
    Team *z = team("Z-Force", "Sister Margaret's Bar");
    CHECK_INT(calx_rel_append(m, MISSION_HEROES, z, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "Mission.heroes holds Hero objects, not Team");
    calx_obj_free(z);
    h->team = (Team *)(void *)m; /* what the compiler would refuse without the cast */
    CHECK_INT(calx_session_add(s, h, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "Hero.team holds Team objects, not Mission");
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "Hero.team holds Team objects, not Mission");
    CHECK_INT(log_count("INSERT"), 0);
    h->team = NULL;
    calx_obj_free(m);
    calx_session_free(s);
}

TASK_TEST(a_failure_in_a_later_round_needs_a_rollback_which_restores_the_objects)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded(false, t, h);
    Hero *spider = h[2];
    Team *wakaland = team("Wakaland", "Wakaland Capital City");
    spider->team = wakaland;   /* round 1: the team; round 2: spider's UPDATE */
    exec_sql("DELETE FROM hero WHERE id = 3");
    log_reset();
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_STALE_DATA);

    CHECK(log_pos("INSERT INTO team") >= 0 && log_pos("UPDATE hero") > log_pos("INSERT INTO team"));
    CHECK(calx_session_needs_rollback(s));
    /* As a failed single batch leaves them: the team still pending, its
     * key given back. */
    CHECK_INT(calx_obj_state(wakaland), CALX_STATE_PENDING);
    CHECK(!wakaland->id.valid);
    CHECK_INT(calx_session_flush(s, &err), CALX_ERR_STATE);
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK(!calx_session_needs_rollback(s));
    CHECK_INT(calx_obj_state(wakaland), CALX_STATE_TRANSIENT);
    CHECK(!spider->team_id.valid);   /* back to what the database had */
    CHECK_INT(count_rows("team"), 2);
    spider->team = NULL;
    calx_session_free(s);
}

TASK_TEST(deleting_a_team_deletes_its_heroes_and_their_link_rows_children_first)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded(true, t, h);
    Mission *rescue = CALX_NEW(Mission, &err, .title = "Rescue");
    CHECK_OK(calx_rel_append(rescue, MISSION_HEROES, h[0], &err), &err);
    CHECK_OK(calx_session_add(s, rescue, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    /* A session that has loaded nothing: the cascade loads what it needs. */
    calx_session *s2 = new_session();
    Team *z_force = NULL;
    CHECK_OK(calx_session_get(s2, &Team_model, calx_int(2), &z_force, &err), &err);
    log_reset();
    CHECK_OK(calx_session_delete(s2, z_force, &err), &err);
    CHECK_OK(calx_session_commit(s2, &err), &err);
    CHECK(log_pos("WHERE ? = hero.team_id") >= 0 || log_pos("WHERE $1 = hero.team_id") >= 0);
    int link = log_pos("DELETE FROM heromissionlink"), hero_del = log_pos("DELETE FROM hero WHERE"),
        team_del = log_pos("DELETE FROM team");
    CHECK(link >= 0 && link < hero_del && hero_del < team_del);
    CHECK_INT(count_rows("hero"), 2);
    CHECK_INT(count_rows("team"), 1);
    CHECK_INT(count_rows("heromissionlink"), 0);
    calx_session_free(s2);
    calx_session_free(s);
}

TASK_TEST(a_hero_removed_from_a_delete_orphan_collection_is_deleted)
{
    Team *t[2];
    Hero *h[3];
    calx_session *s = seeded(false, t, h);
    Team *preventers = t[0];
    CHECK_OK(calx_session_load(s, preventers, TEAM_HEROES, &err), &err);
    CHECK_INT(preventers->heroes.n, 1);
    Hero *rusty = preventers->heroes.items[0];
    log_reset();
    CHECK_OK(calx_rel_remove(preventers, TEAM_HEROES, rusty, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("DELETE FROM hero WHERE hero.id = "), 1);
    CHECK_INT(log_count("UPDATE"), 0);
    CHECK_INT(count_rows("hero"), 2);
    calx_session_free(s);
}

TASK_TEST(deleting_a_manager_without_delete_cascade_sets_the_reports_key_null)
{
    calx_session *s = new_session();
    Employee *boss = employee("Boss"), *ann = employee("Ann");
    ann->manager = boss;
    CHECK_OK(calx_session_add(s, ann, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    log_reset();
    CHECK_OK(calx_session_delete(s, boss, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("UPDATE employee SET manager_id="), 1);
    CHECK(log_pos("UPDATE employee") < log_pos("DELETE FROM employee"));
    CHECK_INT(count_rows("employee"), 1);
    calx_session_free(s);
}

TASK_TEST(deleting_a_parent_whose_not_null_children_are_not_cascaded_names_them_and_sends_nothing)
{
    calx_session *s = new_session();
    exec_sql("INSERT INTO node (id, name, parent_id) VALUES (1, 'root', 1)");
    exec_sql("INSERT INTO node (id, name, parent_id) VALUES (2, 'leaf', 1)");
    Node *root = NULL;
    CHECK_OK(calx_session_get(s, &Node_model, calx_int(1), &root, &err), &err);
    log_reset();
    CHECK_OK(calx_session_delete(s, root, &err), &err);
    CHECK_INT(calx_session_commit(s, &err), CALX_ERR_INTEGRITY);
    CHECK_CONTAINS(err.message, "deleting a Node would set node.parent_id to NULL on a Node it "
                                "holds through Node.children, but the column is NOT NULL");
    CHECK_INT(log_count("DELETE"), 0);
    CHECK_INT(log_count("UPDATE"), 0);
    CHECK_INT(count_rows("node"), 2);
    calx_session_free(s);
}

TASK_TEST(passive_deletes_leaves_the_unloaded_children_to_the_databases_on_delete_cascade)
{
    exec_sql("INSERT INTO gang (id, name) VALUES (1, 'Z')");
    exec_sql("INSERT INTO member (id, name, gang_id) VALUES (1, 'a', 1)");
    exec_sql("INSERT INTO member (id, name, gang_id) VALUES (2, 'b', 1)");
    calx_session *s = new_session();
    Gang *g = NULL;
    CHECK_OK(calx_session_get(s, &Gang_model, calx_int(1), &g, &err), &err);
    CHECK(!calx_is_loaded(g, CALX_REL(Gang, members)));
    log_reset();
    CHECK_OK(calx_session_delete(s, g, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    /* The members were never loaded, nor deleted one by one: the database
     * deleted them with their gang. */
    CHECK_INT(log_count("SELECT member"), 0);
    CHECK_INT(log_count("DELETE FROM member"), 0);
    CHECK_INT(log_count("DELETE FROM gang"), 1);
    CHECK_INT(count_rows("member"), 0);
    calx_session_free(s);
}

TASK_TEST(without_passive_deletes_loaded_children_are_deleted_by_the_flush_first)
{
    exec_sql("INSERT INTO gang (id, name) VALUES (1, 'Z')");
    exec_sql("INSERT INTO member (id, name, gang_id) VALUES (1, 'a', 1)");
    calx_session *s = new_session();
    Gang *g = NULL;
    CHECK_OK(calx_session_get(s, &Gang_model, calx_int(1), &g, &err), &err);
    /* Loaded, the members are the session's to delete, children first. */
    CHECK_OK(calx_session_load(s, g, CALX_REL(Gang, members), &err), &err);
    CHECK_INT(g->members.n, 1);
    log_reset();
    CHECK_OK(calx_session_delete(s, g, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(log_count("DELETE FROM member"), 1);
    CHECK(log_pos("DELETE FROM member") < log_pos("DELETE FROM gang"));
    CHECK_INT(count_rows("member"), 0);
    calx_session_free(s);
}

TASK_TEST(a_one_to_one_set_on_the_parent_writes_the_childs_key_and_moves_it)
{
    calx_session *s = keep_session();
    Hero *a = hero("A", "a", -1), *b = hero("B", "b", -1);
    Passport *p = CALX_NEW(Passport, &err, .number = "X-1");
    CHECK(p != NULL);
    /* The key is the passport's: setting it from the hero's side fills
     * passport.hero_id once the hero has its key. */
    CHECK_OK(calx_rel_set(a, CALX_REL(Hero, passport), p, &err), &err);
    CHECK(p->hero == a);
    CHECK_OK(calx_session_add_all(s, (void *[]){ a, b }, 2, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(calx_session_contains(s, p));
    CHECK(p->hero_id.valid && p->hero_id.value == a->id.value);
    /* Moved to b: b's key, and a has none. */
    CHECK_OK(calx_rel_set(b, CALX_REL(Hero, passport), p, &err), &err);
    CHECK(a->passport == NULL && p->hero == b);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(p->hero_id.value == b->id.value);
    calx_session_free(s);
}

TASK_TEST(deleting_a_self_referential_tree_deletes_the_leaves_before_their_parents)
{
    /* Keys in the order a tree is usually made: the root first. */
    exec_sql("INSERT INTO category (id, name, parent_id) VALUES (1, 'root', NULL)");
    exec_sql("INSERT INTO category (id, name, parent_id) VALUES (2, 'branch', 1)");
    exec_sql("INSERT INTO category (id, name, parent_id) VALUES (3, 'leaf', 2)");
    exec_sql("INSERT INTO category (id, name, parent_id) VALUES (4, 'other leaf', 1)");
    calx_session *s = new_session();
    Category *root = NULL;
    CHECK_OK(calx_session_get(s, &Category_model, calx_int(1), &root, &err), &err);
    log_reset();
    CHECK_OK(calx_session_delete(s, root, &err), &err);
    /* The database checks each key as the rows go: a parent before its
     * child would fail the commit. */
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK_INT(count_rows("category"), 0);
    check_params("[(3,), (4,), (2,), (1,)]");
    calx_session_free(s);
}

int main(void)
{
    dir = test_tmpdir("test_rel_writing");
    calx_error e;
    loop = calx_loop_new(NULL, &e);
    md = rel_models_metadata();
    calx_metadata_add(md, CALX_TABLE(Node), &e);
    calx_metadata_add(md, CALX_TABLE(Category), &e);
    calx_metadata_add(md, CALX_TABLE(Gang), &e);
    calx_metadata_add(md, CALX_TABLE(Member), &e);
    RUN(pending_teams_and_heroes_go_in_one_commit_with_the_keys_filled_in);
    RUN(appending_to_a_collection_sets_the_other_side_and_the_childs_key);
    RUN(a_many_to_one_set_directly_through_rel_set_or_to_null_updates_the_key);
    RUN(a_many_to_one_set_while_unloaded_is_written_even_to_null);
    RUN(a_self_referential_tree_goes_in_parents_first_in_one_flush);
    RUN(a_self_referential_tree_with_given_keys_is_one_batch_parents_first);
    RUN(a_cycle_of_nullable_keys_is_broken_with_an_update_after_the_inserts);
    RUN(a_cycle_of_not_null_keys_is_an_error_naming_it_and_sends_nothing);
    RUN(a_many_to_many_pair_is_a_link_row_inserted_and_deleted_with_the_collection);
    RUN(an_object_of_the_wrong_model_in_a_relationship_fails_the_flush_naming_it);
    RUN(a_failure_in_a_later_round_needs_a_rollback_which_restores_the_objects);
    RUN(deleting_a_team_deletes_its_heroes_and_their_link_rows_children_first);
    RUN(a_hero_removed_from_a_delete_orphan_collection_is_deleted);
    RUN(deleting_a_manager_without_delete_cascade_sets_the_reports_key_null);
    RUN(deleting_a_parent_whose_not_null_children_are_not_cascaded_names_them_and_sends_nothing);
    RUN(a_one_to_one_set_on_the_parent_writes_the_childs_key_and_moves_it);
    RUN(deleting_a_self_referential_tree_deletes_the_leaves_before_their_parents);
    RUN(passive_deletes_leaves_the_unloaded_children_to_the_databases_on_delete_cascade);
    RUN(without_passive_deletes_loaded_children_are_deleted_by_the_flush_first);
    /* On PostgreSQL the tables live on in the server's database, where
     * the other ORM tests drop and make hero and team: these tables
     * reference them, so they go. */
    setup();
    CHECK_OK(calx_wait(calx_engine_drop_all(engine, md, &e), NULL, &e), &e);
    teardown();
    calx_metadata_free(md);
    calx_loop_free(loop);
    test_backend_cleanup();
    return TEST_REPORT();
}
