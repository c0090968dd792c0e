/* SPDX-License-Identifier: MIT */
/* Relationships, as the relationship chapters of the SQLModel tutorial
 * use them: heroes created with their teams through the relationship, a
 * hero appended to a team's collection (the other side set at once), a
 * many-to-one and a one-to-many loaded on demand, eager loading with
 * selectinload and joinedload, a hero taken out of a team, a many-to-many
 * through a link model with a field of its own, and a cascade delete.
 *
 * Where Python's sync code loads a relationship when an attribute is read
 * (and SQLAlchemy's asyncio raises MissingGreenlet instead), calx loads
 * it when the program says so: a loader option on the query, or
 * calx_session_load. The SQL echoed has the shapes of
 * ../shared/reference/sqlmodel_relationships.echo.txt (make test compares
 * the steps, through tests/compare-reference.sh).
 *
 *     build/relationships                       (relationships.db here)
 *     DATABASE_URL=postgresql://... build/relationships
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calx.h"

#define HeroMissionLink_FIELDS(F, M)                                          \
    F(M, hero_id,     OPT_INT64, NONE,  .primary_key = true,                  \
                                        .foreign_key = "hero.id")             \
    F(M, mission_id,  OPT_INT64, NONE,  .primary_key = true,                  \
                                        .foreign_key = "mission.id")          \
    F(M, is_leader,   BOOL,      DEFAULT(false))

#define Team_FIELDS(F, M)                                                     \
    F(M, id,           OPT_INT64, NONE,     .primary_key = true)              \
    F(M, name,         TEXT,      REQUIRED, .index = true)                    \
    F(M, headquarters, TEXT,      REQUIRED)
#define Team_RELATIONS(R, M)                                                  \
    R(M, heroes, Hero, ONE_TO_MANY, .back_populates = "team",                 \
      .cascade = "all, delete-orphan")

#define Mission_FIELDS(F, M)                                                  \
    F(M, id,           OPT_INT64, NONE,     .primary_key = true)              \
    F(M, title,        TEXT,      REQUIRED)
#define Mission_RELATIONS(R, M)                                               \
    R(M, heroes, Hero, MANY_TO_MANY, .back_populates = "missions",            \
      .link = &HeroMissionLink_model)

#define Hero_FIELDS(F, M)                                                     \
    F(M, id,          OPT_INT64, NONE,     .primary_key = true)               \
    F(M, name,        TEXT,      REQUIRED, .index = true)                     \
    F(M, secret_name, TEXT,      REQUIRED)                                    \
    F(M, age,         OPT_INT64, NONE,     .index = true)                     \
    F(M, team_id,     OPT_INT64, NONE,     .foreign_key = "team.id")
#define Hero_RELATIONS(R, M)                                                  \
    R(M, team, Team, MANY_TO_ONE, .back_populates = "heroes")                 \
    R(M, missions, Mission, MANY_TO_MANY, .back_populates = "heroes",         \
      .link = &HeroMissionLink_model)

CALX_MODEL(HeroMissionLink, "heromissionlink")
CALX_MODEL_WITH_RELATIONS(Team, "team")
CALX_MODEL_WITH_RELATIONS(Mission, "mission")
CALX_MODEL_WITH_RELATIONS(Hero, "hero")
CALX_MODEL_DEFINE(HeroMissionLink, "heromissionlink")
CALX_MODEL_DEFINE_WITH_RELATIONS(Team, "team")
CALX_MODEL_DEFINE_WITH_RELATIONS(Mission, "mission")
CALX_MODEL_DEFINE_WITH_RELATIONS(Hero, "hero")

static calx_engine *engine;
static calx_session_opts opts;


#define TRY(call)                                                             \
    do {                                                                      \
        if ((call) != 0) {                                                    \
            fprintf(stderr, "relationships: %s failed: %s: %s\n", #call,      \
                    calx_errcode_name(err.code), err.message);                \
            return 1;                                                         \
        }                                                                     \
    } while (0)

static void step(const char *title)
{
    printf("\n### %s\n", title);
    fflush(stdout);
}

/* select(Model).where(Model.<field> == value), one row: *out. */
static int one_where(calx_session *s, const calx_model *m, calx_expr *col, const char *value,
                     void *out, calx_error *err)
{
    calx_select *q = calx_select_where(calx_select_new(&m->table), calx_eq(col, value));
    int rc = calx_session_one(s, q, out, err);
    calx_select_free(q);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Python's print(label, sorted(names)): ['a', 'b']. */
static void print_sorted(const char *label, const char **names, size_t n)
{
    qsort(names, n, sizeof *names, by_name);
    printf("%s[", label);
    for (size_t i = 0; i < n; i++)
        printf("%s'%s'", i ? ", " : "", names[i]);
    printf("]\n");
}

static void print_heroes(const char *label, const Mission *m)
{
    const char *names[16];
    size_t n = 0;
    for (size_t i = 0; i < m->heroes.n && n < 16; i++)
        names[n++] = m->heroes.items[i]->name;
    print_sorted(label, names, n);
}

static void print_missions(const char *label, const Hero *h)
{
    const char *titles[16];
    size_t n = 0;
    for (size_t i = 0; i < h->missions.n && n < 16; i++)
        titles[n++] = h->missions.items[i]->title;
    print_sorted(label, titles, n);
}

static int create_all(void)
{
    calx_error err;
    /* Every model this program defines (SQLModel.metadata). */
    calx_metadata *md = calx_models_metadata(&err);
    if (!md)
        TRY(err.code);
    int rc = calx_await(calx_engine_drop_all(engine, md, &err), NULL, &err);
    /* Only the DDL of create_all is the reference's step. */
    step("create_all (link table included)");
    if (!rc)
        rc = calx_await(calx_engine_create_all(engine, md, &err), NULL, &err);
    calx_metadata_free(md);
    TRY(rc);
    return 0;
}

static int create_with_teams(void)
{
    calx_error err;
    step("create heroes with teams through the relationship attribute");
    calx_session *s = calx_session_new(&opts, &err);
    Team *preventers = CALX_NEW(Team, &err, .name = "Preventers", .headquarters = "Sharp Tower");
    Team *z_force = CALX_NEW(Team, &err, .name = "Z-Force",
                             .headquarters = "Sister Margaret's Bar");
    Hero *deadpond = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson");
    deadpond->team = z_force;       /* a many-to-one is a pointer: set it */
    Hero *rusty = CALX_NEW(Hero, &err, .name = "Rusty-Man", .secret_name = "Tommy Sharp",
                           .age = CALX_SOME(48));
    rusty->team = preventers;
    Hero *spider = CALX_NEW(Hero, &err, .name = "Spider-Boy",
                            .secret_name = "Pedro Parqueador");
    /* Adding a hero adds the team it reaches (cascade save-update). */
    TRY(calx_session_add(s, deadpond, &err));
    TRY(calx_session_add(s, rusty, &err));
    TRY(calx_session_add(s, spider, &err));
    TRY(calx_session_commit(s, &err));
    TRY(calx_session_refresh(s, deadpond, &err));
    printf("Deadpond's team id: %lld\n", (long long)deadpond->team_id.value);
    TRY(calx_session_close(s, &err));
    calx_session_free(s);
    return 0;
}

static int append_to_collection(void)
{
    calx_error err;
    step("append to a one-to-many collection (back_populates sets the other side)");
    calx_session *s = calx_session_new(&opts, &err);
    Team *wakaland = CALX_NEW(Team, &err, .name = "Wakaland",
                              .headquarters = "Wakaland Capital City");
    Hero *black_lion = CALX_NEW(Hero, &err, .name = "Black Lion", .secret_name = "Trevor Challa",
                                .age = CALX_SOME(35));
    TRY(calx_rel_append(wakaland, CALX_REL(Team, heroes), black_lion, &err));
    printf("before flush, black_lion.team is wakaland: %s\n",
           black_lion->team == wakaland ? "True" : "False");
    TRY(calx_session_add(s, wakaland, &err));
    TRY(calx_session_commit(s, &err));
    TRY(calx_session_refresh(s, black_lion, &err));
    printf("Black Lion: ");
    calx_obj_println(black_lion, stdout);
    TRY(calx_session_close(s, &err));
    calx_session_free(s);
    return 0;
}

static int load_on_demand(void)
{
    calx_error err;
    step("read a many-to-one, then a one-to-many (lazy loads in sync code)");
    calx_session *s = calx_session_new(&opts, &err);
    Hero *hero;
    TRY(one_where(s, &Hero_model, CALX_C(Hero, name), "Rusty-Man", &hero, &err));
    /* Python loads hero.team when it is read; calx when it is asked to. */
    TRY(calx_session_load(s, hero, CALX_REL(Hero, team), &err));
    printf("Rusty-Man's team: %s\n", hero->team->name);
    Team *team;
    TRY(one_where(s, &Team_model, CALX_C(Team, name), "Preventers", &team, &err));
    TRY(calx_session_load(s, team, CALX_REL(Team, heroes), &err));
    const char *names[16];
    size_t n = 0;
    for (size_t i = 0; i < team->heroes.n && n < 16; i++)
        names[n++] = team->heroes.items[i]->name;
    print_sorted("Preventers heroes: ", names, n);
    TRY(calx_session_close(s, &err));
    calx_session_free(s);
    return 0;
}

static int eager_loading(void)
{
    calx_error err;
    step("eager loading: selectinload");
    calx_session *s = calx_session_new(&opts, &err);
    calx_select *q = calx_select_order_by(calx_select_new(CALX_TABLE(Team)), CALX_C(Team, id), CALX_ASC);
    calx_loader selectin[] = { CALX_SELECTINLOAD(CALX_REL(Team, heroes)) };
    calx_objlist teams = { 0 };
    TRY(calx_session_execute(s, q, &(calx_exec_opts){ .loaders = selectin, .nloaders = 1 },
                             &teams, &err));
    calx_select_free(q);
    for (size_t i = 0; i < teams.n; i++) {
        const Team *t = teams.items[i];
        printf("%s -> [", t->name);
        for (size_t k = 0; k < t->heroes.n; k++)
            printf("%s'%s'", k ? ", " : "", t->heroes.items[k]->name);
        printf("]\n");
    }
    calx_objlist_free(&teams);
    TRY(calx_session_close(s, &err));
    calx_session_free(s);

    step("eager loading: joinedload");
    s = calx_session_new(&opts, &err);
    q = calx_select_order_by(calx_select_new(CALX_TABLE(Hero)), CALX_C(Hero, id), CALX_ASC);
    calx_loader joined[] = { CALX_JOINEDLOAD(CALX_REL(Hero, team)) };
    calx_objlist heroes = { 0 };
    TRY(calx_session_execute(s, q, &(calx_exec_opts){ .loaders = joined, .nloaders = 1 },
                             &heroes, &err));
    calx_select_free(q);
    for (size_t i = 0; i < heroes.n; i++) {
        const Hero *h = heroes.items[i];
        printf("%s -> %s\n", h->name, h->team ? h->team->name : "None");
    }
    calx_objlist_free(&heroes);
    TRY(calx_session_close(s, &err));
    calx_session_free(s);
    return 0;
}

static int remove_from_team(void)
{
    calx_error err;
    step("remove a hero from a team (hero.team = None)");
    calx_session *s = calx_session_new(&opts, &err);
    Hero *spider;
    Team *preventers;
    TRY(one_where(s, &Hero_model, CALX_C(Hero, name), "Spider-Boy", &spider, &err));
    TRY(one_where(s, &Team_model, CALX_C(Team, name), "Preventers", &preventers, &err));
    spider->team = preventers;
    TRY(calx_session_commit(s, &err));
    /* The commit unloaded spider.team: say that it is now none. */
    TRY(calx_rel_set(spider, CALX_REL(Hero, team), NULL, &err));
    TRY(calx_session_commit(s, &err));
    TRY(calx_session_refresh(s, spider, &err));
    printf("Spider-Boy without team: ");
    calx_obj_println(spider, stdout);
    TRY(calx_session_close(s, &err));
    calx_session_free(s);
    return 0;
}

static int many_to_many(void)
{
    calx_error err;
    step("many-to-many through a link model with an extra field");
    calx_session *s = calx_session_new(&opts, &err);
    Hero *rusty, *deadpond;
    TRY(one_where(s, &Hero_model, CALX_C(Hero, name), "Rusty-Man", &rusty, &err));
    TRY(one_where(s, &Hero_model, CALX_C(Hero, name), "Deadpond", &deadpond, &err));
    Mission *rescue = CALX_NEW(Mission, &err, .title = "Rescue");
    Mission *heist = CALX_NEW(Mission, &err, .title = "Heist");
    /* A new mission's collection is loaded (empty); the heroes' missions
     * are not loaded, and stay so: the link rows say it all. */
    TRY(calx_rel_append(rescue, CALX_REL(Mission, heroes), rusty, &err));
    TRY(calx_rel_append(rescue, CALX_REL(Mission, heroes), deadpond, &err));
    TRY(calx_rel_append(heist, CALX_REL(Mission, heroes), deadpond, &err));
    TRY(calx_session_add(s, rescue, &err));
    TRY(calx_session_add(s, heist, &err));
    TRY(calx_session_commit(s, &err));
    HeroMissionLink *link;
    calx_select *q = calx_select_new(CALX_TABLE(HeroMissionLink));
    calx_select_where(q, calx_and(calx_eq(CALX_C(HeroMissionLink, hero_id), rusty->id.value),
                                  calx_eq(CALX_C(HeroMissionLink, mission_id), rescue->id.value)));
    TRY(calx_session_one(s, q, &link, &err));
    calx_select_free(q);
    link->is_leader = true;
    TRY(calx_session_commit(s, &err));
    calx_objlist missions = { 0 };
    q = calx_select_order_by(calx_select_new(CALX_TABLE(Mission)), CALX_C(Mission, id), CALX_ASC);
    TRY(calx_session_all(s, q, &missions, &err));
    calx_select_free(q);
    for (size_t i = 0; i < missions.n; i++) {
        Mission *m = missions.items[i];
        TRY(calx_session_load(s, m, CALX_REL(Mission, heroes), &err));
        char label[64];
        snprintf(label, sizeof label, "%s -> ", m->title);
        print_heroes(label, m);
    }
    calx_objlist_free(&missions);
    TRY(calx_session_load(s, deadpond, CALX_REL(Hero, missions), &err));
    print_missions("Deadpond's missions: ", deadpond);
    TRY(calx_rel_remove(deadpond, CALX_REL(Hero, missions), heist, &err));
    TRY(calx_session_commit(s, &err));
    TRY(calx_session_load(s, deadpond, CALX_REL(Hero, missions), &err));
    print_missions("after remove: ", deadpond);
    TRY(calx_session_close(s, &err));
    calx_session_free(s);
    return 0;
}

static int cascade_delete(void)
{
    calx_error err;
    step("cascade delete: deleting a team deletes its heroes (delete-orphan)");
    calx_session *s = calx_session_new(&opts, &err);
    Team *wakaland;
    TRY(one_where(s, &Team_model, CALX_C(Team, name), "Wakaland", &wakaland, &err));
    TRY(calx_session_delete(s, wakaland, &err));
    TRY(calx_session_commit(s, &err));
    calx_select *q = calx_select_where(calx_select_new(CALX_TABLE(Hero)),
                                       calx_eq(CALX_C(Hero, name), "Black Lion"));
    Hero *left;
    TRY(calx_session_first(s, q, &left, &err));
    calx_select_free(q);
    printf("Black Lion left: %s\n", left ? "a hero" : "None");
    TRY(calx_session_close(s, &err));
    calx_session_free(s);
    return 0;
}

static void *run(void *unused)
{
    (void)unused;
    opts = (calx_session_opts){ .bind = engine };
    int rc = create_all() || create_with_teams() || append_to_collection() ||
             load_on_demand() || eager_loading() || remove_from_team() || many_to_many() ||
             cascade_delete();
    return rc ? (void *)1 : NULL;
}

int main(void)
{
    calx_error err;
    setvbuf(stdout, NULL, _IOLBF, 0); /* interleave with the echo on stderr */
    const char *url = getenv("DATABASE_URL");
    if (!url || !*url) {
        url = "sqlite:///relationships.db";
        unlink("relationships.db");
        unlink("relationships.db-wal");
        unlink("relationships.db-shm");
    }
    engine = calx_create_engine(url, &(calx_engine_opts){ .echo = true }, &err);
    if (!engine) {
        fprintf(stderr, "relationships: %s\n", err.message);
        return 1;
    }
    void *failed = (void *)1;
    int rc = calx_wait(calx_spawn(calx_loop_default(), run, NULL, NULL, &err), &failed, &err);
    if (rc)
        fprintf(stderr, "relationships: %s\n", err.message);
    calx_engine_free(engine);
    calx_loop_free_default();
    return rc || failed ? 1 : 0;
}
