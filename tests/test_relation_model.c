/* SPDX-License-Identifier: MIT */
/* Relationships as declared: the struct members, the foreign key found
 * from the fields, the checks that name a bad declaration, and the write
 * helpers keeping back_populates' side in step before any flush. No
 * database (test_relationships has the loading and the flush). */
#include "rel_models.h"
#include "alloc_fail.h"
#include "orm/object.h"
#include "orm/relation.h"
#include "test.h"

REL_MODELS_DEFINE

/* A model with two foreign keys to team: a relationship must name one. */
#define Match_FIELDS(F, M)                                                    \
    F(M, id,       OPT_INT64, NONE, .primary_key = true)                      \
    F(M, home_id,  OPT_INT64, NONE, .foreign_key = "team.id")                 \
    F(M, away_id,  OPT_INT64, NONE, .foreign_key = "team.id")
#define Match_RELATIONS(R, M)                                                 \
    R(M, home, Team, MANY_TO_ONE)                                             \
    R(M, away, Team, MANY_TO_ONE, .foreign_key = "match.away_id")             \
    R(M, team, Team, MANY_TO_ONE, .foreign_key = "match.home_id",             \
      .back_populates = "nothing")                                            \
    R(M, rival, Team, MANY_TO_ONE, .foreign_key = "match.away_id",            \
      .back_populates = "heroes")                                             \
    R(M, odd, Team, MANY_TO_ONE, .foreign_key = "match.away_id",              \
      .cascade = "save-update, explode")
CALX_MODEL_WITH_RELATIONS(Match, "match")
CALX_MODEL_DEFINE_WITH_RELATIONS(Match, "match")

static calx_error err;

static Team *team(const char *name)
{
    Team *t = CALX_NEW(Team, &err, .name = name, .headquarters = "HQ");
    CHECK(t != NULL);
    return t;
}

static Hero *hero(const char *name)
{
    Hero *h = CALX_NEW(Hero, &err, .name = name, .secret_name = "?");
    CHECK(h != NULL);
    return h;
}

TEST(relationships_are_members_of_the_struct_and_data_of_the_model)
{
    CHECK_INT(Team_model.nrelations, 1);
    CHECK_INT(Hero_model.nrelations, 3);
    CHECK_INT(HeroMissionLink_model.nrelations, 0);
    const calx_relation *r = CALX_REL(Hero, team);
    CHECK(r == &Hero_model.relations[0]);
    CHECK_STR(r->name, "team");
    CHECK_INT(r->kind, CALX_MANY_TO_ONE);
    CHECK(r->owner == &Hero_model && r->target == &Team_model);
    CHECK(CALX_REL(Team, heroes)->target == &Hero_model);
    CHECK(calx_model_relation(&Hero_model, "missions") == CALX_REL(Hero, missions));
    CHECK(calx_model_relation(&Hero_model, "nope") == NULL);
    CHECK(calx_model_relation_at(&Hero_model, offsetof(Hero, name)) == NULL);
    /* The fields come first, and the snapshot copies only them. */
    CHECK(Hero_model.fields_size <= offsetof(Hero, team));
    CHECK_INT(Team_model.table.ncolumns, 3);
    /* The members have their C types. */
    Hero h = { 0 };
    Team t = { 0 };
    h.team = &t;
    t.heroes.items = (Hero *[]){ &h };
    t.heroes.n = 1;
    CHECK(t.heroes.items[0]->team == &t);
}

TEST(the_foreign_key_is_found_from_the_fields)
{
    calx__relinfo ri;
    CHECK_OK(calx__rel_resolve(CALX_REL(Hero, team), &ri, &err), &err);
    CHECK_INT(ri.local, CALX_FIELD(Hero, team_id));
    CHECK_INT(ri.remote, CALX_FIELD(Team, id));
    CHECK(ri.back == CALX_REL(Team, heroes));
    CHECK_OK(calx__rel_resolve(CALX_REL(Team, heroes), &ri, &err), &err);
    CHECK_INT(ri.local, CALX_FIELD(Team, id));
    CHECK_INT(ri.remote, CALX_FIELD(Hero, team_id));
    CHECK(ri.cascade & CALX__CASCADE_DELETE);
    CHECK(ri.cascade & CALX__CASCADE_DELETE_ORPHAN);
    CHECK(ri.cascade & CALX__CASCADE_SAVE_UPDATE);
    CHECK_INT(ri.order_field, CALX_FIELD(Hero, id));
    CHECK_OK(calx__rel_resolve(CALX_REL(Hero, missions), &ri, &err), &err);
    CHECK_INT(ri.link_local, CALX_FIELD(HeroMissionLink, hero_id));
    CHECK_INT(ri.link_remote, CALX_FIELD(HeroMissionLink, mission_id));
    CHECK_INT(ri.local, CALX_FIELD(Hero, id));
    CHECK_INT(ri.remote, CALX_FIELD(Mission, id));
    CHECK(ri.back == CALX_REL(Mission, heroes));
    /* The default cascade is save-update and merge. */
    CHECK_INT(ri.cascade, CALX__CASCADE_SAVE_UPDATE | CALX__CASCADE_MERGE);
    /* Self-referential: both directions on employee.manager_id. */
    CHECK_OK(calx__rel_resolve(CALX_REL(Employee, manager), &ri, &err), &err);
    CHECK_INT(ri.local, CALX_FIELD(Employee, manager_id));
    CHECK_INT(ri.remote, CALX_FIELD(Employee, id));
    CHECK_OK(calx__rel_resolve(CALX_REL(Employee, reports), &ri, &err), &err);
    CHECK_INT(ri.local, CALX_FIELD(Employee, id));
    CHECK_INT(ri.remote, CALX_FIELD(Employee, manager_id));
    CHECK_INT(ri.order_field, CALX_FIELD(Employee, name));
    /* One-to-one: the key is the target's. */
    CHECK_OK(calx__rel_resolve(CALX_REL(Hero, passport), &ri, &err), &err);
    CHECK_INT(ri.remote, CALX_FIELD(Passport, hero_id));
    const calx_model *all[] = { &Team_model, &Hero_model, &Mission_model,
                                &HeroMissionLink_model, &Passport_model, &Employee_model };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        CHECK_OK(calx_model_check(all[i], &err), &err);
}

TEST(a_bad_declaration_gets_an_error_naming_it)
{
    calx__relinfo ri;
    CHECK_INT(calx__rel_resolve(CALX_REL(Match, home), &ri, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "Match.home: Match has 2 foreign keys to team (match.home_id, "
                           "match.away_id); name one with .foreign_key");
    CHECK_OK(calx__rel_resolve(CALX_REL(Match, away), &ri, &err), &err);
    CHECK_INT(ri.local, CALX_FIELD(Match, away_id));
    CHECK_INT(calx__rel_resolve(CALX_REL(Match, team), &ri, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "Match.team: back_populates names 'nothing', which is not a "
                           "relationship of Team");
    CHECK_INT(calx__rel_resolve(CALX_REL(Match, rival), &ri, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "Match.rival: back_populates names Team.heroes, which does not point "
                           "back at it");
    CHECK_INT(calx__rel_resolve(CALX_REL(Match, odd), &ri, &err), CALX_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "Match.odd: unknown cascade word 'explode'");
    CHECK_INT(calx_model_check(&Match_model, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_model_check(NULL, &err), CALX_ERR_ARGUMENT);
}

TEST(a_new_objects_relationships_are_loaded_and_empty)
{
    Hero *h = hero("Deadpond");
    CHECK(calx_is_loaded(h, CALX_REL(Hero, team)));
    CHECK(calx_is_loaded(h, CALX_REL(Hero, missions)));
    CHECK(h->team == NULL && h->missions.n == 0);
    CHECK_OK(calx_rel_check(h, CALX_REL(Hero, team), &err), &err);
    /* A relationship of another model is no relationship of h. */
    CHECK(!calx_is_loaded(h, CALX_REL(Team, heroes)));
    CHECK(!calx_is_loaded(NULL, CALX_REL(Hero, team)));
    CHECK_INT(calx_rel_check(h, CALX_REL(Team, heroes), &err), CALX_ERR_ARGUMENT);
    /* Unloaded reads as unloaded, and raise names the relationship. */
    calx__rel_unload_all(calx__obj_hdr(h));
    CHECK(!calx_is_loaded(h, CALX_REL(Hero, team)));
    CHECK_INT(calx_rel_check(h, CALX_REL(Hero, team), &err), CALX_ERR_NOT_LOADED);
    CHECK_STR(err.message, "Hero.team is not loaded: load it with a loader option or "
                           "calx_session_load");
    CHECK_STR(calx_errcode_name(err.code), "NotLoadedError");
    calx_obj_free(h);
}

TEST(appending_sets_the_other_side_before_any_flush)
{
    /* The reference's "black_lion.team is wakaland: True". */
    Team *wakaland = team("Wakaland");
    Hero *black_lion = hero("Black Lion");
    CHECK_OK(calx_rel_append(wakaland, CALX_REL(Team, heroes), black_lion, &err), &err);
    CHECK(black_lion->team == wakaland);
    CHECK_INT(wakaland->heroes.n, 1);
    CHECK(wakaland->heroes.items[0] == black_lion);
    /* Appending again changes nothing. */
    CHECK_OK(calx_rel_append(wakaland, CALX_REL(Team, heroes), black_lion, &err), &err);
    CHECK_INT(wakaland->heroes.n, 1);
    /* Setting the many-to-one moves the hero between collections. */
    Team *preventers = team("Preventers");
    CHECK_OK(calx_rel_set(black_lion, CALX_REL(Hero, team), preventers, &err), &err);
    CHECK_INT(wakaland->heroes.n, 0);
    CHECK_INT(preventers->heroes.n, 1);
    CHECK(preventers->heroes.items[0] == black_lion);
    /* Removing clears the many-to-one. */
    CHECK_OK(calx_rel_remove(preventers, CALX_REL(Team, heroes), black_lion, &err), &err);
    CHECK(black_lion->team == NULL);
    CHECK_INT(preventers->heroes.n, 0);
    /* The team's collection is delete-orphan: the hero is marked. */
    CHECK(calx__obj_hdr(black_lion)->orphan);
    CHECK_OK(calx_rel_set(black_lion, CALX_REL(Hero, team), NULL, &err), &err);
    calx_obj_free(wakaland);
    calx_obj_free(preventers);
    calx_obj_free(black_lion);
}

TEST(many_to_many_appends_keep_both_collections_in_step)
{
    Mission *rescue = CALX_NEW(Mission, &err, .title = "Rescue");
    Hero *rusty = hero("Rusty-Man");
    CHECK_OK(calx_rel_append(rescue, CALX_REL(Mission, heroes), rusty, &err), &err);
    CHECK_INT(rusty->missions.n, 1);
    CHECK(rusty->missions.items[0] == rescue);
    CHECK_OK(calx_rel_remove(rusty, CALX_REL(Hero, missions), rescue, &err), &err);
    CHECK_INT(rusty->missions.n, 0);
    CHECK_INT(rescue->heroes.n, 0);
    calx_obj_free(rescue);
    calx_obj_free(rusty);
}

TEST(one_to_one_moves_the_target_from_its_old_owner)
{
    Passport *p = CALX_NEW(Passport, &err, .number = "X1");
    Hero *a = hero("A"), *b = hero("B");
    CHECK_OK(calx_rel_set(a, CALX_REL(Hero, passport), p, &err), &err);
    CHECK(p->hero == a);
    CHECK_OK(calx_rel_set(b, CALX_REL(Hero, passport), p, &err), &err);
    CHECK(p->hero == b);
    CHECK(a->passport == NULL);
    CHECK(b->passport == p);
    calx_obj_free(p);
    calx_obj_free(a);
    calx_obj_free(b);
}

TEST(the_helpers_refuse_the_wrong_model_and_the_wrong_kind)
{
    Team *t = team("T");
    Hero *h = hero("H");
    Mission *m = CALX_NEW(Mission, &err, .title = "M");
    CHECK_INT(calx_rel_append(t, CALX_REL(Team, heroes), m, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "Team.heroes holds Hero objects, not Mission");
    CHECK_INT(t->heroes.n, 0);
    CHECK_INT(calx_rel_set(h, CALX_REL(Hero, team), m, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "Hero.team holds Team objects, not Mission");
    CHECK_INT(calx_rel_set(t, CALX_REL(Team, heroes), h, &err), CALX_ERR_ARGUMENT);
    CHECK_STR(err.message, "Team.heroes is a collection: use calx_rel_append / calx_rel_remove");
    CHECK_INT(calx_rel_append(h, CALX_REL(Hero, team), t, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_rel_append(t, CALX_REL(Hero, missions), m, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_rel_append(t, CALX_REL(Team, heroes), NULL, &err), CALX_ERR_ARGUMENT);
    CHECK_INT(calx_rel_append(NULL, CALX_REL(Team, heroes), h, &err), CALX_ERR_ARGUMENT);
    /* An unloaded collection is not changed blind. */
    calx__rel_unload_all(calx__obj_hdr(t));
    CHECK_INT(calx_rel_append(t, CALX_REL(Team, heroes), h, &err), CALX_ERR_NOT_LOADED);
    CHECK_STR(err.message, "Team.heroes is not loaded: load it (calx_session_load) before "
                           "changing it");
    calx_obj_free(t);
    calx_obj_free(h);
    calx_obj_free(m);
}

/* Builds a team of three heroes through the helpers, moves one to another
 * team, removes one; frees everything. Returns the first error. */
static int build_teams(calx_error *e)
{
    Team *t = CALX_NEW(Team, e, .name = "T", .headquarters = "HQ");
    Team *u = CALX_NEW(Team, e, .name = "U", .headquarters = "HQ");
    Hero *h[3] = { CALX_NEW(Hero, e, .name = "a", .secret_name = "?"),
                   CALX_NEW(Hero, e, .name = "b", .secret_name = "?"),
                   CALX_NEW(Hero, e, .name = "c", .secret_name = "?") };
    Mission *m = CALX_NEW(Mission, e, .title = "M");
    int rc = t && u && h[0] && h[1] && h[2] && m ? 0 : e->code;
    for (int i = 0; i < 3 && !rc; i++)
        rc = calx_rel_append(t, CALX_REL(Team, heroes), h[i], e);
    if (!rc)
        rc = calx_rel_set(h[1], CALX_REL(Hero, team), u, e);
    if (!rc)
        rc = calx_rel_remove(t, CALX_REL(Team, heroes), h[2], e);
    for (int i = 0; i < 3 && !rc; i++)
        rc = calx_rel_append(m, CALX_REL(Mission, heroes), h[i], e);
    if (!rc && (t->heroes.n != 1 || u->heroes.n != 1 || h[2]->team || m->heroes.n != 3 ||
                h[0]->missions.n != 1))
        rc = calx_error_set(e, CALX_ERR_INTERNAL, "the collections are not as built");
    /* Whatever failed, the two sides of every relationship agree: a
     * helper that fails changes nothing. */
    for (int i = 0; i < 3 && t && u && m; i++) {
        if (!h[i])
            continue;
        bool in_t = false, in_u = false, in_m = false, has_m = false;
        for (size_t k = 0; k < t->heroes.n; k++)
            in_t |= t->heroes.items[k] == h[i];
        for (size_t k = 0; k < u->heroes.n; k++)
            in_u |= u->heroes.items[k] == h[i];
        for (size_t k = 0; k < m->heroes.n; k++)
            in_m |= m->heroes.items[k] == h[i];
        for (size_t k = 0; k < h[i]->missions.n; k++)
            has_m |= h[i]->missions.items[k] == m;
        if (in_t != (h[i]->team == t) || in_u != (h[i]->team == u) || in_m != has_m) {
            rc = calx_error_set(e, CALX_ERR_INTERNAL, "hero %d's sides are out of step", i);
            break;
        }
    }
    calx_obj_free(t);
    calx_obj_free(u);
    for (int i = 0; i < 3; i++)
        calx_obj_free(h[i]);
    calx_obj_free(m);
    return rc;
}

static void oom_attempt(void *arg, long k)
{
    (void)arg;
    calx_error e;
    int rc = build_teams(&e);
    alloc_fail_stop();
    if (rc != 0 && rc != CALX_ERR_NOMEM) {
        fprintf(stderr, "  failing allocation %ld%s: rc %d %s\n", k, fail_rest ? " and after" : "",
                rc, e.message);
        test_failed_now = 1;
    }
}

/* Fails each allocation in turn (then each with all after it): every
 * failure comes out as CALX_ERR_NOMEM, never a crash, and under ASan or
 * valgrind never a leak. */
TEST(out_of_memory_in_the_helpers_is_reported_and_leaks_nothing)
{
    CHECK_OK(build_teams(&err), &err);
    for (int rest = 0; rest < 2; rest++)
        CHECK(alloc_fail_sweep(rest, oom_attempt, NULL) > 10);
}

int main(void)
{
    RUN(relationships_are_members_of_the_struct_and_data_of_the_model);
    RUN(the_foreign_key_is_found_from_the_fields);
    RUN(a_bad_declaration_gets_an_error_naming_it);
    RUN(a_new_objects_relationships_are_loaded_and_empty);
    RUN(appending_sets_the_other_side_before_any_flush);
    RUN(many_to_many_appends_keep_both_collections_in_step);
    RUN(one_to_one_moves_the_target_from_its_old_owner);
    RUN(the_helpers_refuse_the_wrong_model_and_the_wrong_kind);
    RUN(out_of_memory_in_the_helpers_is_reported_and_leaks_nothing);
    return TEST_REPORT();
}
