/* SPDX-License-Identifier: MIT */
/* Loading relationships on a real database: on demand (one object: the
 * lazy load's SQL; a list: selectin's), the loader options of a query
 * (selectin, joined, chained, noload, raise) and the models' .lazy, each
 * kind (many-to-one, one-to-many, one-to-one, many-to-many through a link
 * model, self-referential), the identity map (one object per key),
 * batching at the dialect's parameter limit, and unloading: commit,
 * rollback, expire, expunge. Rows are seeded with plain foreign-key fields
 * and link objects, so nothing here depends on writing through
 * relationships. Runs on the database CALX_TEST_URL names (a fresh SQLite
 * file when it is unset), so the same tests run on PostgreSQL. */
#include "rel_models.h"

#include "driver/sqlite.h"

/* Models whose relationships load by default (.lazy): a squad's members
 * by selectin, a member's squad joined, a member's gear never on its own
 * (raise). */
#define Squad_FIELDS(F, M)                                                    \
    F(M, id,    OPT_INT64, NONE,     .primary_key = true)                     \
    F(M, name,  TEXT,      REQUIRED)
#define Squad_RELATIONS(R, M)                                                 \
    R(M, members, Member, ONE_TO_MANY, .back_populates = "squad",             \
      .order_by = "id", .lazy = CALX_LOAD_SELECT_IN)
#define Member_FIELDS(F, M)                                                   \
    F(M, id,        OPT_INT64, NONE,     .primary_key = true)                 \
    F(M, name,      TEXT,      REQUIRED)                                      \
    F(M, squad_id,  OPT_INT64, NONE,     .foreign_key = "squad.id")
#define Member_RELATIONS(R, M)                                                \
    R(M, squad, Squad, MANY_TO_ONE, .back_populates = "members",              \
      .lazy = CALX_LOAD_JOINED)                                               \
    R(M, gear, Gear, ONE_TO_MANY, .lazy = CALX_LOAD_RAISE)
#define Gear_FIELDS(F, M)                                                     \
    F(M, id,         OPT_INT64, NONE,     .primary_key = true)                \
    F(M, member_id,  OPT_INT64, NONE,     .foreign_key = "member.id")
CALX_MODEL_WITH_RELATIONS(Squad, "squad")
CALX_MODEL_WITH_RELATIONS(Member, "member")
CALX_MODEL(Gear, "gear")
CALX_MODEL_DEFINE_WITH_RELATIONS(Squad, "squad")
CALX_MODEL_DEFINE_WITH_RELATIONS(Member, "member")
CALX_MODEL_DEFINE(Gear, "gear")

#include "backend.h"
#include "orm_test.h"
#include "driver/postgres.h"
#include "engine/engine_int.h"
#include "orm/session_int.h"

REL_MODELS_DEFINE

#define HERO(f) calx_col(CALX_TABLE(Hero), CALX_FIELD(Hero, f))
#define TEAM(f) calx_col(CALX_TABLE(Team), CALX_FIELD(Team, f))

/* Whether the log holds sql as one statement: its lines, '?' written as
 * the dialect writes parameters ($1, $2, ... on PostgreSQL). */
static bool logged(const char *sql)
{
    char want[2048];
    size_t n = 0;
    int k = 0;
    for (const char *p = sql; *p && n + 8 < sizeof want; p++) {
        if (*p == '?' && test_backend_pg())
            n += (size_t)snprintf(want + n, sizeof want - n, "$%d", ++k);
        else
            want[n++] = *p;
    }
    want[n] = '\0';
    for (const char *p = logbuf; (p = strstr(p, want)) != NULL; p++) {
        /* The whole statement: a line start before it, a line end after. */
        char after = p[n];
        if ((p == logbuf || p[-1] == '\n') && (after == '\n' || after == '\0'))
            return true;
    }
    return false;
}

/* SELECTs in the log. */
static int selects(void)
{
    return log_count("SELECT ");
}

/* ---- the rows ---- */

typedef struct world {
    int64_t preventers, z_force, wakaland;
    int64_t deadpond, rusty, spider, black_lion;
    int64_t rescue, heist;
    int64_t boss, ann, bob, cy;
} world;

static world W;

static int64_t add_team(calx_session *s, const char *name, const char *hq)
{
    Team *t = CALX_NEW(Team, &err, .name = name, .headquarters = hq);
    CHECK_OK(calx_session_add(s, t, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    return t->id.value;
}

static int64_t add_hero(calx_session *s, const char *name, int64_t team)
{
    Hero *h = CALX_NEW(Hero, &err, .name = name, .secret_name = "x");
    if (team)
        CALX_SET(h->team_id, team);
    CHECK_OK(calx_session_add(s, h, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    return h->id.value;
}

static void add_link(calx_session *s, int64_t hero_id, int64_t mission_id)
{
    HeroMissionLink *l = CALX_NEW(HeroMissionLink, &err, .hero_id = CALX_SOME(hero_id),
                                  .mission_id = CALX_SOME(mission_id));
    CHECK_OK(calx_session_add(s, l, &err), &err);
}

static int64_t add_employee(calx_session *s, const char *name, int64_t manager)
{
    Employee *e = CALX_NEW(Employee, &err, .name = name);
    if (manager)
        CALX_SET(e->manager_id, manager);
    CHECK_OK(calx_session_add(s, e, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    return e->id.value;
}

/* The reference's teams, heroes and missions, a passport and a small
 * company, committed by a session of their own; then a fresh session
 * (an empty identity map) with the log emptied. */
static calx_session *seeded(void)
{
    calx_session *s = new_session();
    W.preventers = add_team(s, "Preventers", "Sharp Tower");
    W.z_force = add_team(s, "Z-Force", "Sister Margaret's Bar");
    W.wakaland = add_team(s, "Wakaland", "Wakaland Capital City");
    W.deadpond = add_hero(s, "Deadpond", W.z_force);
    W.rusty = add_hero(s, "Rusty-Man", W.preventers);
    W.spider = add_hero(s, "Spider-Boy", 0);
    W.black_lion = add_hero(s, "Black Lion", W.wakaland);
    Mission *m1 = CALX_NEW(Mission, &err, .title = "Rescue");
    Mission *m2 = CALX_NEW(Mission, &err, .title = "Heist");
    CHECK_OK(calx_session_add_all(s, (void *[]){ m1, m2 }, 2, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    W.rescue = m1->id.value;
    W.heist = m2->id.value;
    add_link(s, W.rusty, W.rescue);
    add_link(s, W.deadpond, W.rescue);
    add_link(s, W.deadpond, W.heist);
    Passport *p = CALX_NEW(Passport, &err, .number = "P-48", .hero_id = CALX_SOME(W.rusty));
    CHECK_OK(calx_session_add(s, p, &err), &err);
    W.boss = add_employee(s, "Boss", 0);
    W.bob = add_employee(s, "Bob", W.boss);
    W.ann = add_employee(s, "Ann", W.boss);
    W.cy = add_employee(s, "Cy", W.ann);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
    log_reset();
    return new_session();
}

/* A fifth hero, "Second", of team, committed. */
static Hero *second_hero(calx_session *s, int64_t team)
{
    Hero *h = CALX_NEW(Hero, &err, .name = "Second", .secret_name = "s",
                       .team_id = CALX_SOME(team));
    CHECK_OK(calx_session_add(s, h, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    return h;
}

static void *get(calx_session *s, const calx_model *m, int64_t id)
{
    void *o = NULL;
    CHECK_OK(calx_session_get(s, m, calx_int(id), &o, &err), &err);
    CHECK(o != NULL);
    return o;
}

/* Every object of a select, ordered by its id. */
static calx_objlist all_of(calx_session *s, const calx_model *m, const calx_exec_opts *o)
{
    calx_select *q = calx_select_new(&m->table);
    calx_select_order_by(q, calx_col(&m->table, 0), CALX_ASC);
    calx_objlist l;
    CHECK_OK(calx_session_execute(s, q, o, &l, &err), &err);
    calx_select_free(q);
    return l;
}

/* ---- on demand: one object ---- */

TASK_TEST(loading_a_many_to_one_sends_the_lazy_loads_select_by_key)
{
    calx_session *s = seeded();
    Hero *rusty = get(s, &Hero_model, W.rusty);
    CHECK(!calx_is_loaded(rusty, CALX_REL(Hero, team)));
    log_reset();
    CHECK_OK(calx_session_load(s, rusty, CALX_REL(Hero, team), &err), &err);
    CHECK(logged("SELECT team.id AS team_id, team.name AS team_name, team.headquarters AS "
                 "team_headquarters \nFROM team \nWHERE team.id = ?"));
    CHECK(calx_is_loaded(rusty, CALX_REL(Hero, team)));
    CHECK(rusty->team != NULL);
    CHECK_STR(rusty->team->name, "Preventers");
    /* The team is the identity map's. */
    CHECK(get(s, &Team_model, W.preventers) == rusty->team);
    calx_session_free(s);
}

TASK_TEST(a_many_to_one_in_the_identity_map_loads_with_no_sql)
{
    calx_session *s = seeded();
    Team *preventers = get(s, &Team_model, W.preventers);
    Hero *rusty = get(s, &Hero_model, W.rusty);
    log_reset();
    CHECK_OK(calx_session_load(s, rusty, CALX_REL(Hero, team), &err), &err);
    CHECK_INT(selects(), 0);
    CHECK(rusty->team == preventers);
    calx_session_free(s);
}

TASK_TEST(a_null_foreign_key_loads_as_no_target_with_no_sql)
{
    calx_session *s = seeded();
    Hero *spider = get(s, &Hero_model, W.spider);
    log_reset();
    CHECK_OK(calx_session_load(s, spider, CALX_REL(Hero, team), &err), &err);
    CHECK_INT(selects(), 0);
    CHECK(calx_is_loaded(spider, CALX_REL(Hero, team)));
    CHECK(spider->team == NULL);
    calx_session_free(s);
}

TASK_TEST(loading_a_one_to_many_binds_the_parents_key_on_the_left)
{
    calx_session *s = seeded();
    Team *preventers = get(s, &Team_model, W.preventers);
    log_reset();
    CHECK_OK(calx_session_load(s, preventers, CALX_REL(Team, heroes), &err), &err);
    CHECK(logged("SELECT hero.id AS hero_id, hero.name AS hero_name, hero.secret_name AS "
                 "hero_secret_name, hero.age AS hero_age, hero.team_id AS hero_team_id \n"
                 "FROM hero \nWHERE ? = hero.team_id ORDER BY hero.id"));
    CHECK_INT(preventers->heroes.n, 1);
    CHECK_STR(preventers->heroes.items[0]->name, "Rusty-Man");
    /* back_populates' many-to-one is known from the same rows. */
    CHECK(calx_is_loaded(preventers->heroes.items[0], CALX_REL(Hero, team)));
    CHECK(preventers->heroes.items[0]->team == preventers);
    calx_session_free(s);
}

TASK_TEST(loading_a_many_to_many_goes_through_the_link_table)
{
    calx_session *s = seeded();
    Hero *deadpond = get(s, &Hero_model, W.deadpond);
    log_reset();
    CHECK_OK(calx_session_load(s, deadpond, CALX_REL(Hero, missions), &err), &err);
    CHECK(logged("SELECT mission.id AS mission_id, mission.title AS mission_title \n"
                 "FROM mission, heromissionlink \nWHERE ? = heromissionlink.hero_id AND "
                 "mission.id = heromissionlink.mission_id ORDER BY mission.id"));
    CHECK_INT(deadpond->missions.n, 2);
    CHECK_STR(deadpond->missions.items[0]->title, "Rescue");
    CHECK_STR(deadpond->missions.items[1]->title, "Heist");
    calx_session_free(s);
}

/* One owner's load compiles its SELECT once per engine and binds the
 * owner's key each time: session after session (a web handler's), each
 * owner gets its own targets, never the first owner's. */
TASK_TEST(one_owners_load_in_session_after_session_binds_that_owners_key)
{
    calx_session *s = seeded();
    calx_session_free(s);
    const struct {
        int64_t hero;
        const char *team;
        size_t missions;
    } want[] = { { W.rusty, "Preventers", 1 }, { W.deadpond, "Z-Force", 2 },
                 { W.black_lion, "Wakaland", 0 }, { W.rusty, "Preventers", 1 } };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        s = new_session();
        Hero *h = get(s, &Hero_model, want[i].hero);
        CHECK_OK(calx_session_load(s, h, CALX_REL(Hero, team), &err), &err);
        CHECK(h->team != NULL);
        if (h->team)
            CHECK_STR(h->team->name, want[i].team);
        CHECK_OK(calx_session_load(s, h, CALX_REL(Hero, missions), &err), &err);
        CHECK_INT(h->missions.n, want[i].missions);
        calx_session_free(s);
        /* And the other way: the team's heroes are that team's. */
        s = new_session();
        Team *t = get(s, &Team_model, i % 2 ? W.z_force : W.preventers);
        CHECK_OK(calx_session_load(s, t, CALX_REL(Team, heroes), &err), &err);
        CHECK_INT(t->heroes.n, 1);
        if (t->heroes.n)
            CHECK_STR(t->heroes.items[0]->name, i % 2 ? "Deadpond" : "Rusty-Man");
        calx_session_free(s);
    }
}

TASK_TEST(loading_a_one_to_one_gives_one_object_or_none)
{
    calx_session *s = seeded();
    Hero *rusty = get(s, &Hero_model, W.rusty);
    Hero *spider = get(s, &Hero_model, W.spider);
    log_reset();
    CHECK_OK(calx_session_load(s, rusty, CALX_REL(Hero, passport), &err), &err);
    CHECK(logged("SELECT passport.id AS passport_id, passport.number AS passport_number, "
                 "passport.hero_id AS passport_hero_id \nFROM passport \n"
                 "WHERE ? = passport.hero_id"));
    CHECK(rusty->passport != NULL);
    CHECK_STR(rusty->passport->number, "P-48");
    CHECK(rusty->passport->hero == rusty);
    CHECK_OK(calx_session_load(s, spider, CALX_REL(Hero, passport), &err), &err);
    CHECK(calx_is_loaded(spider, CALX_REL(Hero, passport)));
    CHECK(spider->passport == NULL);
    calx_session_free(s);
}

TASK_TEST(a_self_referential_relationship_loads_managers_and_reports)
{
    calx_session *s = seeded();
    Employee *boss = get(s, &Employee_model, W.boss);
    Employee *cy = get(s, &Employee_model, W.cy);
    CHECK_OK(calx_session_load(s, boss, CALX_REL(Employee, reports), &err), &err);
    CHECK(logged("SELECT employee.id AS employee_id, employee.name AS employee_name, "
                 "employee.manager_id AS employee_manager_id \nFROM employee \n"
                 "WHERE ? = employee.manager_id ORDER BY employee.name"));
    CHECK_INT(boss->reports.n, 2);
    CHECK_STR(boss->reports.items[0]->name, "Ann");
    CHECK_STR(boss->reports.items[1]->name, "Bob");
    log_reset();
    CHECK_OK(calx_session_load(s, cy, CALX_REL(Employee, manager), &err), &err);
    CHECK_INT(selects(), 0);  /* Ann came with the boss's reports */
    CHECK(cy->manager == boss->reports.items[0]);
    CHECK_OK(calx_session_load(s, boss, CALX_REL(Employee, manager), &err), &err);
    CHECK(boss->manager == NULL);
    calx_session_free(s);
}

TASK_TEST(loading_again_gives_the_databases_rows_and_keeps_unflushed_changes)
{
    calx_session *s = seeded();
    Team *preventers = get(s, &Team_model, W.preventers);
    Hero *rusty = get(s, &Hero_model, W.rusty);
    CHECK_OK(calx_session_load(s, preventers, CALX_REL(Team, heroes), &err), &err);
    CHECK_INT(preventers->heroes.n, 1);
    /* A row the collection does not know yet, written by its key alone. */
    Hero *h = CALX_NEW(Hero, &err, .name = "Newbie", .secret_name = "n",
                       .team_id = CALX_SOME(W.preventers));
    CHECK_OK(calx_session_add(s, h, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    calx_obj_set_text(rusty, &rusty->name, "Rusty (unsaved)");
    CHECK_OK(calx_session_load(s, preventers, CALX_REL(Team, heroes), &err), &err);
    CHECK_INT(preventers->heroes.n, 2);
    CHECK(preventers->heroes.items[0] == rusty);
    CHECK_STR(rusty->name, "Rusty (unsaved)");
    if (preventers->heroes.n == 2)
        CHECK(preventers->heroes.items[1] == h);
    calx_session_free(s);
}

TASK_TEST(loading_refuses_what_is_not_a_persistent_object_of_the_relationships_model)
{
    calx_session *s = seeded();
    Team *preventers = get(s, &Team_model, W.preventers);
    CHECK(calx_session_load(s, preventers, CALX_REL(Hero, team), &err) == CALX_ERR_ARGUMENT);
    CHECK(strstr(err.message, "Hero.team") != NULL);
    Hero *fresh = CALX_NEW(Hero, &err, .name = "N", .secret_name = "n");
    CHECK(calx_session_load(s, fresh, CALX_REL(Hero, team), &err) == CALX_ERR_ARGUMENT);
    CHECK(strstr(err.message, "not persistent") != NULL);
    calx_obj_free(fresh);
    CHECK(calx_session_load(s, NULL, CALX_REL(Hero, team), &err) == CALX_ERR_ARGUMENT);
    CHECK(calx_session_load(s, preventers, NULL, &err) == CALX_ERR_ARGUMENT);
    CHECK_OK(calx_session_load_many(s, NULL, 0, CALX_REL(Hero, team), &err), &err);
    calx_session_free(s);
}

/* ---- on demand: a list ---- */

TASK_TEST(loading_a_list_of_parents_is_one_select_in_with_the_key_first)
{
    calx_session *s = seeded();
    calx_objlist teams = all_of(s, &Team_model, NULL);
    CHECK_INT(teams.n, 3);
    log_reset();
    CHECK_OK(calx_session_load_many(s, teams.items, teams.n, CALX_REL(Team, heroes), &err),
             &err);
    CHECK_INT(selects(), 1);
    CHECK(logged("SELECT hero.team_id AS hero_team_id, hero.id AS hero_id, hero.name AS "
                 "hero_name, hero.secret_name AS hero_secret_name, hero.age AS hero_age \n"
                 "FROM hero \nWHERE hero.team_id IN (?, ?, ?) ORDER BY hero.id"));
    Team *z = teams.items[1];
    CHECK_INT(z->heroes.n, 1);
    CHECK_STR(z->heroes.items[0]->name, "Deadpond");
    CHECK_STR(((Team *)teams.items[2])->heroes.items[0]->name, "Black Lion");
    calx_objlist_free(&teams);
    calx_session_free(s);
}

TASK_TEST(a_list_of_many_to_ones_skips_keys_the_identity_map_has_and_shares_targets)
{
    calx_session *s = seeded();
    Team *preventers = get(s, &Team_model, W.preventers);
    second_hero(s, W.z_force);
    calx_session_expunge_all(s);
    preventers = get(s, &Team_model, W.preventers);
    calx_objlist heroes = all_of(s, &Hero_model, NULL);
    CHECK_INT(heroes.n, 5);
    log_reset();
    CHECK_OK(calx_session_load_many(s, heroes.items, heroes.n, CALX_REL(Hero, team), &err),
             &err);
    CHECK(logged("SELECT team.id AS team_id, team.name AS team_name, team.headquarters AS "
                 "team_headquarters \nFROM team \nWHERE team.id IN (?, ?)"));
    Hero *deadpond = heroes.items[0], *rusty = heroes.items[1], *spider = heroes.items[2];
    Hero *second = heroes.items[4];
    CHECK(rusty->team == preventers);
    CHECK(deadpond->team != NULL && deadpond->team == second->team);
    CHECK(calx_is_loaded(spider, CALX_REL(Hero, team)) && spider->team == NULL);
    calx_objlist_free(&heroes);
    calx_session_free(s);
}

TASK_TEST(a_list_of_many_to_manys_is_one_select_through_the_link)
{
    calx_session *s = seeded();
    calx_objlist missions = all_of(s, &Mission_model, NULL);
    log_reset();
    CHECK_OK(calx_session_load_many(s, missions.items, missions.n, CALX_REL(Mission, heroes),
                                    &err), &err);
    CHECK_INT(selects(), 1);
    CHECK(logged("SELECT heromissionlink.mission_id AS heromissionlink_mission_id, hero.id AS "
                 "hero_id, hero.name AS hero_name, hero.secret_name AS hero_secret_name, "
                 "hero.age AS hero_age, hero.team_id AS hero_team_id \nFROM hero JOIN "
                 "heromissionlink ON hero.id = heromissionlink.hero_id \n"
                 "WHERE heromissionlink.mission_id IN (?, ?) ORDER BY hero.id"));
    Mission *rescue = missions.items[0], *heist = missions.items[1];
    CHECK_INT(rescue->heroes.n, 2);
    CHECK_STR(rescue->heroes.items[0]->name, "Deadpond");
    CHECK_STR(rescue->heroes.items[1]->name, "Rusty-Man");
    CHECK_INT(heist->heroes.n, 1);
    /* One object per key: Deadpond is the same in both. */
    CHECK(heist->heroes.items[0] == rescue->heroes.items[0]);
    calx_objlist_free(&missions);
    calx_session_free(s);
}

/* ---- loader options on queries ---- */

static calx_objlist query(calx_session *s, const calx_model *m, const calx_loader *l, size_t n)
{
    calx_exec_opts o = { .loaders = l, .nloaders = n };
    return all_of(s, m, &o);
}

TASK_TEST(selectinload_sends_one_select_in_for_the_querys_objects)
{
    calx_session *s = seeded();
    calx_loader l[] = { CALX_SELECTINLOAD(CALX_REL(Team, heroes)) };
    calx_objlist teams = query(s, &Team_model, l, 1);
    CHECK_INT(selects(), 2);
    CHECK(logged("SELECT team.id, team.name, team.headquarters \nFROM team ORDER BY team.id"));
    CHECK(logged("SELECT hero.team_id AS hero_team_id, hero.id AS hero_id, hero.name AS "
                 "hero_name, hero.secret_name AS hero_secret_name, hero.age AS hero_age \n"
                 "FROM hero \nWHERE hero.team_id IN (?, ?, ?) ORDER BY hero.id"));
    for (size_t i = 0; i < teams.n; i++)
        CHECK(calx_is_loaded(teams.items[i], CALX_REL(Team, heroes)));
    CHECK_STR(((Team *)teams.items[0])->heroes.items[0]->name, "Rusty-Man");
    calx_objlist_free(&teams);
    /* Loaded already: a second query loads nothing again. */
    log_reset();
    teams = query(s, &Team_model, l, 1);
    CHECK_INT(selects(), 1);
    calx_objlist_free(&teams);
    calx_session_free(s);
}

TASK_TEST(joinedload_outer_joins_an_alias_of_the_target_as_the_reference_does)
{
    calx_session *s = seeded();
    second_hero(s, W.z_force);
    calx_session_expunge_all(s);
    log_reset();
    calx_loader l[] = { CALX_JOINEDLOAD(CALX_REL(Hero, team)) };
    calx_objlist heroes = query(s, &Hero_model, l, 1);
    CHECK_INT(selects(), 1);
    CHECK(logged("SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id, "
                 "team_1.id AS id_1, team_1.name AS name_1, team_1.headquarters \n"
                 "FROM hero LEFT OUTER JOIN team AS team_1 ON team_1.id = hero.team_id "
                 "ORDER BY hero.id"));
    CHECK_INT(heroes.n, 5);
    Hero *deadpond = heroes.items[0], *spider = heroes.items[2], *second = heroes.items[4];
    CHECK_STR(deadpond->team->name, "Z-Force");
    /* One object per key: the same Team for both heroes of Z-Force. */
    CHECK(deadpond->team == second->team);
    CHECK(calx_is_loaded(spider, CALX_REL(Hero, team)) && spider->team == NULL);
    calx_objlist_free(&heroes);
    calx_session_free(s);
}

TASK_TEST(a_joined_collection_takes_each_parent_once)
{
    calx_session *s = seeded();
    Hero *h = second_hero(s, W.preventers);
    log_reset();
    calx_loader l[] = { CALX_JOINEDLOAD(CALX_REL(Team, heroes)) };
    calx_objlist teams = query(s, &Team_model, l, 1);
    CHECK(logged("SELECT team.id, team.name, team.headquarters, hero_1.id AS id_1, "
                 "hero_1.name AS name_1, hero_1.secret_name, hero_1.age, hero_1.team_id \n"
                 "FROM team LEFT OUTER JOIN hero AS hero_1 ON team.id = hero_1.team_id "
                 "ORDER BY team.id, hero_1.id"));
    CHECK_INT(teams.n, 3);
    Team *preventers = teams.items[0];
    CHECK_INT(preventers->heroes.n, 2);
    CHECK_STR(preventers->heroes.items[0]->name, "Rusty-Man");
    CHECK(preventers->heroes.items[1] == h);
    CHECK(h->team == preventers);
    calx_objlist_free(&teams);
    calx_session_free(s);
}

TASK_TEST(a_joined_many_to_many_joins_the_link_then_the_target)
{
    calx_session *s = seeded();
    calx_loader l[] = { CALX_JOINEDLOAD(CALX_REL(Hero, missions)) };
    calx_objlist heroes = query(s, &Hero_model, l, 1);
    CHECK(logged("SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id, "
                 "mission_1.id AS id_1, mission_1.title \nFROM hero LEFT OUTER JOIN "
                 "heromissionlink AS heromissionlink_1 ON hero.id = heromissionlink_1.hero_id "
                 "LEFT OUTER JOIN mission AS mission_1 ON mission_1.id = "
                 "heromissionlink_1.mission_id ORDER BY hero.id, mission_1.id"));
    Hero *deadpond = heroes.items[0], *spider = heroes.items[2];
    CHECK_INT(deadpond->missions.n, 2);
    CHECK_STR(deadpond->missions.items[1]->title, "Heist");
    CHECK(calx_is_loaded(spider, CALX_REL(Hero, missions)) && spider->missions.n == 0);
    calx_objlist_free(&heroes);
    calx_session_free(s);
}

TASK_TEST(a_self_referential_joinedload_aliases_the_same_table)
{
    calx_session *s = seeded();
    calx_loader l[] = { CALX_JOINEDLOAD(CALX_REL(Employee, manager)) };
    calx_objlist staff = query(s, &Employee_model, l, 1);
    CHECK(logged("SELECT employee.id, employee.name, employee.manager_id, employee_1.id AS "
                 "id_1, employee_1.name AS name_1, employee_1.manager_id AS manager_id_1 \n"
                 "FROM employee LEFT OUTER JOIN employee AS employee_1 ON employee_1.id = "
                 "employee.manager_id ORDER BY employee.id"));
    CHECK_INT(staff.n, 4);
    Employee *boss = staff.items[0], *cy = staff.items[3];
    CHECK(boss->manager == NULL && calx_is_loaded(boss, CALX_REL(Employee, manager)));
    CHECK(cy->manager == staff.items[2]);
    calx_objlist_free(&staff);
    calx_session_free(s);
}

TASK_TEST(chained_loaders_load_the_relationships_of_what_they_loaded)
{
    calx_session *s = seeded();
    calx_loader l[] = { CALX_SELECTINLOAD(CALX_REL(Team, heroes), CALX_REL(Hero, missions)) };
    calx_objlist teams = query(s, &Team_model, l, 1);
    CHECK_INT(selects(), 3);
    CHECK(logged("SELECT heromissionlink.hero_id AS heromissionlink_hero_id, mission.id AS "
                 "mission_id, mission.title AS mission_title \nFROM mission JOIN "
                 "heromissionlink ON mission.id = heromissionlink.mission_id \n"
                 "WHERE heromissionlink.hero_id IN (?, ?, ?) ORDER BY mission.id"));
    Hero *deadpond = ((Team *)teams.items[1])->heroes.items[0];
    CHECK_INT(deadpond->missions.n, 2);
    calx_objlist_free(&teams);
    calx_session_free(s);
    /* Joined all the way: one statement, alias to alias. */
    s = new_session();
    log_reset();
    calx_loader j[] = { CALX_JOINEDLOAD(CALX_REL(Team, heroes), CALX_REL(Hero, missions)) };
    teams = query(s, &Team_model, j, 1);
    CHECK_INT(selects(), 1);
    CHECK(strstr(logbuf, "FROM team LEFT OUTER JOIN hero AS hero_1 ON team.id = hero_1.team_id "
                         "LEFT OUTER JOIN heromissionlink AS heromissionlink_1 ON hero_1.id = "
                         "heromissionlink_1.hero_id LEFT OUTER JOIN mission AS mission_1 ON "
                         "mission_1.id = heromissionlink_1.mission_id ORDER BY team.id, "
                         "hero_1.id, mission_1.id") != NULL);
    deadpond = ((Team *)teams.items[1])->heroes.items[0];
    CHECK_INT(deadpond->missions.n, 2);
    CHECK_STR(deadpond->missions.items[0]->title, "Rescue");
    calx_objlist_free(&teams);
    calx_session_free(s);
    /* Joined, then selectin below it. */
    s = new_session();
    log_reset();
    calx_loader m[] = { CALX_JOINEDLOAD(CALX_REL(Team, heroes)),
                        CALX_SELECTINLOAD(CALX_REL(Team, heroes), CALX_REL(Hero, missions)) };
    teams = query(s, &Team_model, m, 2);
    CHECK_INT(selects(), 2);
    deadpond = ((Team *)teams.items[1])->heroes.items[0];
    CHECK_INT(deadpond->missions.n, 2);
    calx_objlist_free(&teams);
    calx_session_free(s);
}

TASK_TEST(noload_gives_loaded_and_empty_with_no_sql)
{
    calx_session *s = seeded();
    calx_loader l[] = { CALX_NOLOAD(CALX_REL(Hero, team)), CALX_NOLOAD(CALX_REL(Hero, missions)) };
    calx_objlist heroes = query(s, &Hero_model, l, 2);
    CHECK_INT(selects(), 1);
    Hero *rusty = heroes.items[1];
    CHECK(calx_is_loaded(rusty, CALX_REL(Hero, team)) && rusty->team == NULL);
    CHECK(calx_is_loaded(rusty, CALX_REL(Hero, missions)) && rusty->missions.n == 0);
    CHECK_OK(calx_rel_check(rusty, CALX_REL(Hero, team), &err), &err);
    calx_objlist_free(&heroes);
    calx_session_free(s);
}

TASK_TEST(raiseload_leaves_unloaded_and_rel_check_names_the_relationship)
{
    calx_session *s = seeded();
    calx_loader l[] = { CALX_RAISELOAD(CALX_REL(Hero, team)) };
    calx_objlist heroes = query(s, &Hero_model, l, 1);
    CHECK_INT(selects(), 1);
    Hero *rusty = heroes.items[1];
    CHECK(!calx_is_loaded(rusty, CALX_REL(Hero, team)) && rusty->team == NULL);
    CHECK(calx_rel_check(rusty, CALX_REL(Hero, team), &err) == CALX_ERR_NOT_LOADED);
    CHECK_STR(err.message, "'Hero.team' is not available due to lazy='raise'");
    /* Loading it explicitly is always allowed, and ends the raise. */
    CHECK_OK(calx_session_load(s, rusty, CALX_REL(Hero, team), &err), &err);
    CHECK_OK(calx_rel_check(rusty, CALX_REL(Hero, team), &err), &err);
    calx_objlist_free(&heroes);
    calx_session_free(s);
}

/* ---- the models' .lazy ---- */

static calx_session *squads(int64_t *alpha, int64_t *ann)
{
    calx_session *s = new_session();
    Squad *a = CALX_NEW(Squad, &err, .name = "Alpha");
    Squad *b = CALX_NEW(Squad, &err, .name = "Beta");
    CHECK_OK(calx_session_add_all(s, (void *[]){ a, b }, 2, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    Member *m1 = CALX_NEW(Member, &err, .name = "Ann", .squad_id = CALX_SOME(a->id.value));
    Member *m2 = CALX_NEW(Member, &err, .name = "Ben", .squad_id = CALX_SOME(a->id.value));
    Member *m3 = CALX_NEW(Member, &err, .name = "Cat", .squad_id = CALX_SOME(b->id.value));
    CHECK_OK(calx_session_add_all(s, (void *[]){ m1, m2, m3 }, 3, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    *alpha = a->id.value;
    *ann = m1->id.value;
    calx_session_free(s);
    log_reset();
    return new_session();
}

TASK_TEST(a_models_lazy_applies_when_a_query_names_no_loader)
{
    int64_t alpha, ann;
    calx_session *s = squads(&alpha, &ann);
    calx_objlist l = all_of(s, &Squad_model, NULL);
    CHECK_INT(selects(), 2);   /* the squads, their members IN (...) */
    Squad *a = l.items[0];
    CHECK_INT(a->members.n, 2);
    /* The members' squad (JOINED, the way back) is not loaded again in a
     * circle: the rows gave it. */
    CHECK(a->members.items[0]->squad == a);
    calx_objlist_free(&l);
    /* A query of members joins their squads; gear is raise. */
    calx_session_expunge_all(s);
    log_reset();
    l = all_of(s, &Member_model, NULL);
    CHECK(strstr(logbuf, "FROM member LEFT OUTER JOIN squad AS squad_1 ON squad_1.id = "
                         "member.squad_id ORDER BY member.id") != NULL);
    Member *m = l.items[0];
    CHECK(m->squad != NULL && calx_is_loaded(m, CALX_REL(Member, squad)));
    CHECK(calx_rel_check(m, CALX_REL(Member, gear), &err) == CALX_ERR_NOT_LOADED);
    CHECK(strstr(err.message, "lazy='raise'") != NULL);
    /* An option overrides the default. */
    calx_objlist_free(&l);
    calx_session_expunge_all(s);
    log_reset();
    calx_loader lo[] = { CALX_NOLOAD(CALX_REL(Member, squad)) };
    l = query(s, &Member_model, lo, 1);
    CHECK_INT(selects(), 1);
    CHECK(strstr(logbuf, "squad_1") == NULL);
    calx_objlist_free(&l);
    calx_session_free(s);
}

TASK_TEST(a_models_lazy_applies_to_get_rows_refresh_and_expired_reloads)
{
    int64_t alpha, ann;
    calx_session *s = squads(&alpha, &ann);
    Squad *a = get(s, &Squad_model, alpha);
    CHECK(calx_is_loaded(a, CALX_REL(Squad, members)));
    CHECK_INT(a->members.n, 2);
    /* Expired by the commit, reloaded with its eager relationship. */
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(!calx_is_loaded(a, CALX_REL(Squad, members)));
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(calx_is_loaded(a, CALX_REL(Squad, members)));
    /* A refresh reloads it too. */
    CHECK_OK(calx_session_refresh(s, a, &err), &err);
    CHECK(calx_is_loaded(a, CALX_REL(Squad, members)) && a->members.n == 2);
    /* Entities of a select of rows. */
    calx_session_expunge_all(s);
    calx_select *q = calx_select_new(CALX_TABLE(Squad));
    calx_entity_rows *rows = NULL;
    CHECK_OK(calx_session_rows(s, q, &rows, &err), &err);
    Squad *first = calx_entity_rows_object(rows, 0, 0);
    CHECK(calx_is_loaded(first, CALX_REL(Squad, members)));
    calx_entity_rows_free(rows);
    calx_select_free(q);
    calx_session_free(s);
}

/* A model's .lazy = JOINED outside a query: a get joins it in its own
 * SELECT; objects no joined query made (expired ones reloaded, a
 * refresh, a select of rows) load it with a SELECT of their own. It was
 * left unloaded on these paths. */
TASK_TEST(a_models_joined_lazy_loads_with_get_refresh_rows_and_expired_reloads)
{
    int64_t alpha, ann;
    calx_session *s = squads(&alpha, &ann);
    Member *m = NULL;
    CHECK_OK(CALX_GET(s, Member, calx_int(ann), &m, &err), &err);
    CHECK(m != NULL && calx_is_loaded(m, CALX_REL(Member, squad)));
    CHECK(m->squad != NULL && m->squad->id.value == alpha);
    CHECK_INT(selects(), 1);   /* the member joined to its squad (not back to members) */
    CHECK(strstr(logbuf, "FROM member LEFT OUTER JOIN squad AS squad_1 ON squad_1.id = "
                         "member.squad_id \nWHERE member.id = ") != NULL);
    /* Expired by the commit, then reloaded. */
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(!calx_is_loaded(m, CALX_REL(Member, squad)));
    CHECK_OK(calx_session_reload_expired(s, &err), &err);
    CHECK(calx_is_loaded(m, CALX_REL(Member, squad)) && m->squad != NULL);
    CHECK_OK(calx_session_refresh(s, m, &err), &err);
    CHECK(calx_is_loaded(m, CALX_REL(Member, squad)) && m->squad != NULL);
    calx_session_expunge_all(s);
    calx_select *q = calx_select_new(CALX_TABLE(Member));
    calx_entity_rows *rows = NULL;
    CHECK_OK(calx_session_rows(s, q, &rows, &err), &err);
    Member *first = calx_entity_rows_object(rows, 0, 0);
    CHECK(calx_is_loaded(first, CALX_REL(Member, squad)) && first->squad != NULL);
    calx_entity_rows_free(rows);
    calx_select_free(q);
    calx_session_free(s);
}

/* ---- a get with loader options ---- */

/* What the SQLite driver counted on s's connection. */
static calx_sqlite_stats sqlite_stats(calx_session *s)
{
    calx_connection *conn = NULL;
    calx_sqlite_stats st = { 0 };
    CHECK_OK(calx__session_read_conn(s, &conn, &err), &err);
    if (conn)
        calx__sqlite_conn_stats(calx__conn_dconn(conn), &st);
    return st;
}

TASK_TEST(a_get_with_joinedload_brings_the_target_in_its_own_select)
{
    calx_session *s = seeded();
    calx_loader l[] = { CALX_JOINEDLOAD(CALX_REL(Hero, team)) };
    calx_exec_opts o = { .loaders = l, .nloaders = 1 };
    calx_sqlite_stats before = sqlite_stats(s);
    Hero *rusty = NULL;
    CHECK_OK(CALX_GET_OPTS(s, Hero, calx_int(W.rusty), &o, &rusty, &err), &err);
    CHECK_INT(selects(), 1);
    CHECK(logged("SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id, "
                 "team_1.id AS id_1, team_1.name AS name_1, team_1.headquarters \n"
                 "FROM hero LEFT OUTER JOIN team AS team_1 ON team_1.id = hero.team_id \n"
                 "WHERE hero.id = ?"));
    CHECK(rusty != NULL && calx_is_loaded(rusty, CALX_REL(Hero, team)));
    CHECK_STR(rusty->team->name, "Preventers");
    /* No row: NULL, no error. A hero with no team: loaded, NULL. */
    Hero *none = rusty;
    CHECK_OK(CALX_GET_OPTS(s, Hero, calx_int(999999), &o, &none, &err), &err);
    CHECK(none == NULL);
    Hero *spider = NULL;
    CHECK_OK(CALX_GET_OPTS(s, Hero, calx_int(W.spider), &o, &spider, &err), &err);
    CHECK(calx_is_loaded(spider, CALX_REL(Hero, team)) && spider->team == NULL);
    /* Again, the text made once per engine: the same columns read. */
    Hero *deadpond = NULL;
    CHECK_OK(CALX_GET_OPTS(s, Hero, calx_int(W.deadpond), &o, &deadpond, &err), &err);
    CHECK_STR(deadpond->team->name, "Z-Force");
    CHECK_STR(deadpond->team->headquarters, "Sister Margaret's Bar");
    /* On SQLite each of these four gets, joining a to-one relationship
     * (one row at most), had its row read at once (calx_driver.read_row);
     * a joined collection's rows go the usual way, and load whole. */
    calx_sqlite_stats after = sqlite_stats(s);
    if (!test_backend_pg())
        CHECK_INT(after.read_rows - before.read_rows, 4);
    calx_loader tl[] = { CALX_JOINEDLOAD(CALX_REL(Team, heroes)) };
    calx_exec_opts to = { .loaders = tl, .nloaders = 1 };
    add_hero(s, "Tarantula", W.preventers);  /* two rows to join */
    before = sqlite_stats(s);
    Team *preventers = NULL;
    CHECK_OK(CALX_GET_OPTS(s, Team, calx_int(W.preventers), &to, &preventers, &err), &err);
    CHECK(preventers && calx_is_loaded(preventers, CALX_REL(Team, heroes)) &&
          preventers->heroes.n == 2);
    after = sqlite_stats(s);
    CHECK_INT(after.read_rows - before.read_rows, 0);
    /* selectinload: the hero, then its missions through the link. */
    calx_session_expunge_all(s);
    log_reset();
    calx_loader sl[] = { CALX_SELECTINLOAD(CALX_REL(Hero, missions)) };
    o = (calx_exec_opts){ .loaders = sl, .nloaders = 1 };
    CHECK_OK(CALX_GET_OPTS(s, Hero, calx_int(W.deadpond), &o, &deadpond, &err), &err);
    CHECK_INT(selects(), 2);
    CHECK(calx_is_loaded(deadpond, CALX_REL(Hero, missions)) && deadpond->missions.n == 2);
    calx_session_free(s);
}

/* SQLAlchemy's get returns an object its identity map holds without
 * applying the options, so the relationship stays unloaded and reading
 * it under asyncio fails; here the options load what is not loaded. */
TASK_TEST(a_get_with_loaders_answered_by_the_identity_map_loads_what_they_name)
{
    calx_session *s = seeded();
    Hero *rusty = get(s, &Hero_model, W.rusty);
    CHECK(!calx_is_loaded(rusty, CALX_REL(Hero, team)));
    log_reset();
    calx_loader l[] = { CALX_JOINEDLOAD(CALX_REL(Hero, team)) };
    calx_exec_opts o = { .loaders = l, .nloaders = 1 };
    Hero *again = NULL;
    CHECK_OK(CALX_GET_OPTS(s, Hero, calx_int(W.rusty), &o, &again, &err), &err);
    CHECK(again == rusty);
    /* No SELECT of the hero: one of its team, by key. */
    CHECK_INT(selects(), 1);
    CHECK(strstr(logbuf, "FROM team \nWHERE team.id IN (") != NULL);
    CHECK(calx_is_loaded(rusty, CALX_REL(Hero, team)));
    CHECK_STR(rusty->team->name, "Preventers");
    /* Loaded now: no SQL at all. */
    log_reset();
    CHECK_OK(CALX_GET_OPTS(s, Hero, calx_int(W.rusty), &o, &again, &err), &err);
    CHECK(again == rusty);
    CHECK_INT(selects(), 0);
    calx_session_free(s);
}

TASK_TEST(a_get_with_populate_existing_reloads_the_object_the_map_holds)
{
    calx_session *s = seeded();
    Hero *rusty = get(s, &Hero_model, W.rusty);
    CHECK_OK(calx_obj_set_text(rusty, &rusty->name, "Not flushed"), &err);
    log_reset();
    calx_exec_opts o = { .populate_existing = true };
    Hero *again = NULL;
    CHECK_OK(CALX_GET_OPTS(s, Hero, calx_int(W.rusty), &o, &again, &err), &err);
    CHECK(again == rusty);
    CHECK_INT(selects(), 1);
    CHECK_STR(rusty->name, "Rusty-Man");
    /* Without it the map answers, the change kept, no SQL. */
    CHECK_OK(calx_obj_set_text(rusty, &rusty->name, "Kept"), &err);
    log_reset();
    CHECK_OK(CALX_GET(s, Hero, calx_int(W.rusty), &again, &err), &err);
    CHECK_INT(selects(), 0);
    CHECK_STR(rusty->name, "Kept");
    calx_session_free(s);
}

/* ---- batching ---- */

static int batch_selects;

static void count_batches(void *udata, calx_log_level level, const char *logger, const char *msg)
{
    (void)udata;
    (void)level;
    (void)logger;
    static const char head[] = "SELECT hero.team_id AS hero_team_id";
    if (strncmp(msg, head, sizeof head - 1) == 0)
        batch_selects++;
}

TASK_TEST(a_list_past_the_parameter_limit_is_loaded_in_batches)
{
    /* More teams than one statement may bind on either database
     * (max_params: 32766 on SQLite, 65535 on PostgreSQL). */
    enum { N = 70000 };
    size_t max = test_backend_pg() ? 65535 : 32766;
    calx_session *s = new_session();
    Hero *first = CALX_NEW(Hero, &err, .name = "First", .secret_name = "f");
    CHECK_OK(calx_session_add(s, first, &err), &err);
    CHECK_OK(calx_session_commit(s, &err), &err);
    calx_session_free(s);
    calx_connection *c = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c,
        "INSERT INTO team (id, name, headquarters) WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL "
        "SELECT x + 1 FROM n WHERE x < 70000) SELECT x, 'T', 'H' FROM n", NULL, &err), NULL,
        &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c, "UPDATE hero SET team_id = 70000", NULL, &err),
                        NULL, &err), &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    /* A session of its own engine, counting the batches as they go. */
    char url[600];
    const char *env = getenv("CALX_TEST_URL");
    if (env && *env)
        snprintf(url, sizeof url, "%s", env);
    else
        snprintf(url, sizeof url, "sqlite:///%s/s%d.db", dir, seq);
    calx_engine *counted = calx_create_engine(
        url, &(calx_engine_opts){ .loop = loop, .echo = true, .log = count_batches }, &err);
    CHECK(counted != NULL);
    s = calx_session_new(&(calx_session_opts){ .bind = counted }, &err);
    calx_objlist teams = all_of(s, &Team_model, NULL);
    CHECK_INT(teams.n, N);
    batch_selects = 0;
    CHECK_OK(calx_session_load_many(s, teams.items, teams.n, CALX_REL(Team, heroes), &err),
             &err);
    CHECK_INT(batch_selects, (N + max - 1) / max);
    Team *last = teams.items[N - 1];
    CHECK_INT(last->heroes.n, 1);
    CHECK(calx_is_loaded(teams.items[0], CALX_REL(Team, heroes)));
    CHECK_INT(((Team *)teams.items[0])->heroes.n, 0);
    calx_objlist_free(&teams);
    calx_session_free(s);
    calx_engine_free(counted);
}

TASK_TEST(a_selectinload_of_more_rows_than_a_chunk_streams_them_and_attaches_every_one)
{
    /* 12,001 heroes of two teams: the IN's rows arrive in three chunks of
     * CALX__LOAD_CHUNK_ROWS, each attached to its team as it comes. */
    enum { N = 12001 };
    calx_connection *c = NULL;
    CHECK_OK(calx_await(calx_engine_connect(engine, &err), &c, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c,
        "INSERT INTO team (id, name, headquarters) VALUES (1, 'Odd', 'o'), (2, 'Even', 'e')",
        NULL, &err), NULL, &err), &err);
    CHECK_OK(calx_await(calx_conn_execute(c,
        "INSERT INTO hero (id, name, secret_name, team_id) WITH RECURSIVE n(x) AS (SELECT 1 "
        "UNION ALL SELECT x + 1 FROM n WHERE x < 12001) SELECT x, 'H', 's', 2 - x % 2 FROM n",
        NULL, &err), NULL, &err), &err);
    CHECK_OK(calx_await(calx_conn_commit(c, &err), NULL, &err), &err);
    calx_conn_close(c);
    calx_session *s = new_session();
    calx_objlist teams = all_of(s, &Team_model, NULL);
    CHECK_INT(teams.n, 2);
    calx_connection *conn = NULL;
    CHECK_OK(calx__session_read_conn(s, &conn, &err), &err);
    calx_pg_stats before = { 0 }, after = { 0 };
    if (test_backend_pg())
        calx__pg_conn_stats(calx__conn_dconn(conn), &before);
    CHECK_OK(calx_session_load_many(s, teams.items, teams.n, CALX_REL(Team, heroes), &err),
             &err);
    if (test_backend_pg()) {
        /* DECLARE with the first FETCH, then a FETCH a chunk: the rows
         * never sat in the client whole. */
        calx__pg_conn_stats(calx__conn_dconn(conn), &after);
        CHECK(after.round_trips - before.round_trips >= 3);
    }
    size_t seen = 0;
    for (size_t t = 0; t < teams.n; t++) {
        Team *team = teams.items[t];
        CHECK_INT(team->heroes.n, t == 0 ? N / 2 + 1 : N / 2);
        /* A load of more rows than its first chunk takes the session's
         * blocks from its first row (session_int.h's calx__load_begin),
         * not malloc's until the session holds 2 MiB of objects. */
        CHECK(team->heroes.n && calx__obj_hdr(team->heroes.items[0])->in_block);
        int64_t last = 0;
        for (size_t k = 0; k < team->heroes.n; k++) {
            const Hero *h = team->heroes.items[k];
            CHECK(h->team == team);
            CHECK(h->id.value > last && h->id.value % 2 == (t == 0 ? 1 : 0));
            CHECK(get(s, &Hero_model, h->id.value) == h);
            last = h->id.value;
            seen++;
        }
    }
    CHECK_INT(seen, N);
    calx_objlist_free(&teams);
    calx_session_free(s);
}

/* ---- unloading ---- */

TASK_TEST(a_commit_unloads_a_loaded_collection_which_then_loads_again)
{
    calx_session *s = seeded();
    Team *preventers = get(s, &Team_model, W.preventers);
    CHECK_OK(calx_session_load(s, preventers, CALX_REL(Team, heroes), &err), &err);
    CHECK_INT(preventers->heroes.n, 1);
    CHECK_OK(calx_session_commit(s, &err), &err);
    CHECK(!calx_is_loaded(preventers, CALX_REL(Team, heroes)));
    CHECK_INT(preventers->heroes.n, 0);
    CHECK(calx_rel_check(preventers, CALX_REL(Team, heroes), &err) == CALX_ERR_NOT_LOADED);
    CHECK(strstr(err.message, "Team.heroes is not loaded") != NULL);
    CHECK_OK(calx_session_load(s, preventers, CALX_REL(Team, heroes), &err), &err);
    CHECK_INT(preventers->heroes.n, 1);
    CHECK_STR(preventers->heroes.items[0]->name, "Rusty-Man");
    calx_session_free(s);
}

TASK_TEST(a_rollback_unloads_a_loaded_collection_which_then_loads_again)
{
    calx_session *s = seeded();
    Team *preventers = get(s, &Team_model, W.preventers);
    CHECK_OK(calx_session_load(s, preventers, CALX_REL(Team, heroes), &err), &err);
    Hero *h = CALX_NEW(Hero, &err, .name = "Gone", .secret_name = "g",
                       .team_id = CALX_SOME(W.preventers));
    CHECK_OK(calx_session_add(s, h, &err), &err);
    CHECK_OK(calx_session_flush(s, &err), &err);
    CHECK_OK(calx_session_load(s, preventers, CALX_REL(Team, heroes), &err), &err);
    CHECK_INT(preventers->heroes.n, 2);
    CHECK_OK(calx_session_rollback(s, &err), &err);
    CHECK(!calx_is_loaded(preventers, CALX_REL(Team, heroes)));
    CHECK_INT(preventers->heroes.n, 0);
    CHECK_OK(calx_session_load(s, preventers, CALX_REL(Team, heroes), &err), &err);
    CHECK_INT(preventers->heroes.n, 1);
    calx_session_free(s);
}

TASK_TEST(expire_unloads_relationships_as_it_expires_fields)
{
    calx_session *s = seeded();
    Hero *rusty = get(s, &Hero_model, W.rusty);
    CHECK_OK(calx_session_load(s, rusty, CALX_REL(Hero, team), &err), &err);
    CHECK_OK(calx_session_expire(s, rusty, &err), &err);
    CHECK(!calx_is_loaded(rusty, CALX_REL(Hero, team)));
    CHECK(rusty->team == NULL);
    CHECK_OK(calx_session_load(s, rusty, CALX_REL(Hero, team), &err), &err);
    CHECK(rusty->team != NULL && !calx_obj_expired(rusty));
    calx_session_expire_all(s);
    CHECK(!calx_is_loaded(rusty, CALX_REL(Hero, team)));
    calx_session_free(s);
}

TASK_TEST(expunging_a_target_unloads_every_relationship_holding_it)
{
    calx_session *s = seeded();
    Team *preventers = get(s, &Team_model, W.preventers);
    Hero *rusty = get(s, &Hero_model, W.rusty);
    Hero *deadpond = get(s, &Hero_model, W.deadpond);
    CHECK_OK(calx_session_load(s, preventers, CALX_REL(Team, heroes), &err), &err);
    CHECK_OK(calx_session_load(s, deadpond, CALX_REL(Hero, team), &err), &err);
    CHECK(rusty->team == preventers);
    CHECK_OK(calx_session_expunge(s, preventers, &err), &err);
    /* Its holders are unloaded: no pointer to it is left in s. */
    CHECK(!calx_is_loaded(rusty, CALX_REL(Hero, team)));
    CHECK(rusty->team == NULL);
    CHECK(calx_is_loaded(deadpond, CALX_REL(Hero, team)));
    /* And so is the object that left. */
    CHECK(!calx_is_loaded(preventers, CALX_REL(Team, heroes)));
    CHECK_INT(preventers->heroes.n, 0);
    calx_obj_free(preventers);
    /* Loading again makes a new object for the key. */
    CHECK_OK(calx_session_load(s, rusty, CALX_REL(Hero, team), &err), &err);
    CHECK(rusty->team != NULL);
    CHECK_STR(rusty->team->name, "Preventers");
    /* expunge_all unloads them all. */
    CHECK_OK(calx_session_load(s, rusty->team, CALX_REL(Team, heroes), &err), &err);
    calx_session_expunge_all(s);
    CHECK(!calx_is_loaded(rusty, CALX_REL(Hero, team)));
    calx_session_free(s);
}

int main(void)
{
    dir = test_tmpdir("test_rel_loading");
    calx_error e;
    loop = calx_loop_new(NULL, &e);
    md = rel_models_metadata();
    calx_metadata_add(md, CALX_TABLE(Squad), &e);
    calx_metadata_add(md, CALX_TABLE(Member), &e);
    calx_metadata_add(md, CALX_TABLE(Gear), &e);
    RUN(loading_a_many_to_one_sends_the_lazy_loads_select_by_key);
    RUN(a_many_to_one_in_the_identity_map_loads_with_no_sql);
    RUN(a_null_foreign_key_loads_as_no_target_with_no_sql);
    RUN(loading_a_one_to_many_binds_the_parents_key_on_the_left);
    RUN(loading_a_many_to_many_goes_through_the_link_table);
    RUN(one_owners_load_in_session_after_session_binds_that_owners_key);
    RUN(loading_a_one_to_one_gives_one_object_or_none);
    RUN(a_self_referential_relationship_loads_managers_and_reports);
    RUN(loading_again_gives_the_databases_rows_and_keeps_unflushed_changes);
    RUN(loading_refuses_what_is_not_a_persistent_object_of_the_relationships_model);
    RUN(loading_a_list_of_parents_is_one_select_in_with_the_key_first);
    RUN(a_list_of_many_to_ones_skips_keys_the_identity_map_has_and_shares_targets);
    RUN(a_list_of_many_to_manys_is_one_select_through_the_link);
    RUN(selectinload_sends_one_select_in_for_the_querys_objects);
    RUN(joinedload_outer_joins_an_alias_of_the_target_as_the_reference_does);
    RUN(a_joined_collection_takes_each_parent_once);
    RUN(a_joined_many_to_many_joins_the_link_then_the_target);
    RUN(a_self_referential_joinedload_aliases_the_same_table);
    RUN(chained_loaders_load_the_relationships_of_what_they_loaded);
    RUN(noload_gives_loaded_and_empty_with_no_sql);
    RUN(raiseload_leaves_unloaded_and_rel_check_names_the_relationship);
    RUN(a_models_lazy_applies_when_a_query_names_no_loader);
    RUN(a_models_lazy_applies_to_get_rows_refresh_and_expired_reloads);
    RUN(a_models_joined_lazy_loads_with_get_refresh_rows_and_expired_reloads);
    RUN(a_get_with_joinedload_brings_the_target_in_its_own_select);
    RUN(a_get_with_loaders_answered_by_the_identity_map_loads_what_they_name);
    RUN(a_get_with_populate_existing_reloads_the_object_the_map_holds);
    RUN(a_list_past_the_parameter_limit_is_loaded_in_batches);
    RUN(a_selectinload_of_more_rows_than_a_chunk_streams_them_and_attaches_every_one);
    RUN(a_commit_unloads_a_loaded_collection_which_then_loads_again);
    RUN(a_rollback_unloads_a_loaded_collection_which_then_loads_again);
    RUN(expire_unloads_relationships_as_it_expires_fields);
    RUN(expunging_a_target_unloads_every_relationship_holding_it);
    /* The tables go: on PostgreSQL the next ORM test shares the database,
     * and its DROP TABLE hero would meet passport's foreign key. */
    setup();
    CHECK_OK(calx_wait(calx_engine_drop_all(engine, md, &err), NULL, &err), &err);
    teardown();
    calx_metadata_free(md);
    calx_loop_free(loop);
    return TEST_REPORT();
}
