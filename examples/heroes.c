/* SPDX-License-Identifier: MIT */
/* The SQLModel tutorial in C: the Team and Hero models declared once,
 * create_all, adding teams and heroes, select with where / first / one /
 * offset / limit, get through the identity map, update, delete, a flush
 * rolled back, and then several tasks, each with its own session, sharing
 * the engine's pool. Echo is on: compare with SQLAlchemy's output in
 * ../shared/reference/sqlmodel_tutorial.echo.txt.
 *
 *     make demo                           (build/heroes.db, recreated each run)
 *     DATABASE_URL=postgresql://... ./heroes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calx.h"

/* class Team(SQLModel, table=True) */
#define Team_FIELDS(F, M)                                                     \
    F(M, id,           OPT_INT64, NONE,     .primary_key = true)              \
    F(M, name,         TEXT,      REQUIRED, .index = true)                    \
    F(M, headquarters, TEXT,      REQUIRED)
CALX_MODEL(Team, "team")
CALX_MODEL_DEFINE(Team, "team")

/* class Hero(SQLModel, table=True) */
#define Hero_FIELDS(F, M)                                                     \
    F(M, id,          OPT_INT64, NONE,     .primary_key = true)               \
    F(M, name,        TEXT,      REQUIRED, .index = true)                     \
    F(M, secret_name, TEXT,      REQUIRED)                                    \
    F(M, age,         OPT_INT64, NONE,     .index = true)                     \
    F(M, team_id,     OPT_INT64, NONE,     .foreign_key = "team.id")
CALX_MODEL(Hero, "hero")
CALX_MODEL_DEFINE(Hero, "hero")

#define NWORKERS 8

static calx_engine *engine;
static calx_sessionmaker *Session;

/* Python's `with Session(engine) as session:` ends with close(): the
 * rollback is awaited, so the log reads in order. */
static void done(calx_session *s)
{
    calx_error err;
    calx_session_close(s, &err);
    calx_session_free(s);
}

static void step(const char *title)
{
    printf("\n### %s\n", title);
    fflush(stdout);
}

static void print_obj(const char *label, const void *obj)
{
    printf("%s", label);
    if (obj)
        calx_obj_print(obj, stdout);
    else
        printf("None");
    printf("\n");
    fflush(stdout);
}

/* A list of objects as Python prints one: [Hero(...), Hero(...)]. */
static void print_list(const char *label, const calx_objlist *l)
{
    printf("%s[", label);
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            printf(", ");
        calx_obj_print(l->items[i], stdout);
    }
    printf("]\n");
    fflush(stdout);
}

#define TRY(call)                                                             \
    do {                                                                      \
        if ((call) != 0) {                                                    \
            fprintf(stderr, "heroes: %s failed: %s: %s\n", #call,              \
                    calx_errcode_name(err.code), err.message);                \
            return (void *)1;                                                 \
        }                                                                     \
    } while (0)

static calx_select *hero_named(const char *name)
{
    return calx_select_where(calx_select_new(CALX_TABLE(Hero)), calx_eq(CALX_C(Hero, name), name));
}

/* One of several concurrent tasks: its own session, from the same pool. */
static void *worker(void *arg)
{
    calx_error err;
    int id = (int)(intptr_t)arg;
    calx_session *s = calx_sessionmaker_session(Session, &err);
    if (!s)
        return (void *)1;
    char name[32];
    snprintf(name, sizeof name, "Sidekick-%d", id);
    Hero *h = CALX_NEW(Hero, &err, .name = name, .secret_name = "Anonymous",
                       .age = CALX_SOME(20 + id));
    void *rc = NULL;
    if (!h || calx_session_add(s, h, &err) || calx_session_commit(s, &err)) {
        fprintf(stderr, "heroes: worker %d: %s\n", id, err.message);
        rc = (void *)1;
    }
    calx_session_free(s);
    return rc;
}

static void *tutorial(void *unused)
{
    calx_error err;
    calx_metadata *md = calx_metadata_new(&err);
    TRY(calx_metadata_add(md, CALX_TABLE(Team), &err));
    TRY(calx_metadata_add(md, CALX_TABLE(Hero), &err));

    step("create_all");
    TRY(calx_await(calx_engine_create_all(engine, md, &err), NULL, &err));
    calx_metadata_free(md);

    step("create teams and heroes, commit");
    calx_session *s = calx_sessionmaker_session(Session, &err);
    Team *preventers = CALX_NEW(Team, &err, .name = "Preventers", .headquarters = "Sharp Tower");
    Team *z_force = CALX_NEW(Team, &err, .name = "Z-Force",
                             .headquarters = "Sister Margaret's Bar");
    TRY(calx_session_add(s, preventers, &err));
    TRY(calx_session_add(s, z_force, &err));
    TRY(calx_session_commit(s, &err));
    /* Python reloads each expired team when .id is read (one SELECT per
     * object); C reads the struct, and the program chooses to reload: one
     * SELECT for all the expired objects of a table. */
    TRY(calx_session_reload_expired(s, &err));
    Hero *deadpond = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson",
                              .team_id = z_force->id);
    Hero *rusty_man = CALX_NEW(Hero, &err, .name = "Rusty-Man", .secret_name = "Tommy Sharp",
                               .age = CALX_SOME(48), .team_id = preventers->id);
    Hero *spider_boy = CALX_NEW(Hero, &err, .name = "Spider-Boy",
                                .secret_name = "Pedro Parqueador");
    TRY(calx_session_add_all(s, (void *[]){ deadpond, rusty_man, spider_boy }, 3, &err));
    TRY(calx_session_commit(s, &err));
    TRY(calx_session_refresh(s, deadpond, &err));
    print_obj("Created hero: ", deadpond);
    printf("identity_map: ");
    calx_session_print_identity_map(s, stdout);
    done(s);

    step("select all");
    s = calx_sessionmaker_session(Session, &err);
    calx_select *q = calx_select_new(CALX_TABLE(Hero));
    calx_objlist heroes;
    TRY(calx_session_all(s, q, &heroes, &err));
    for (size_t i = 0; i < heroes.n; i++)
        print_obj("", heroes.items[i]);
    calx_objlist_free(&heroes);
    calx_select_free(q);
    done(s);

    step("select where, first, one");
    s = calx_sessionmaker_session(Session, &err);
    Hero *hero = NULL;
    q = hero_named("Deadpond");
    TRY(CALX_FIRST(s, Hero, q, &hero, &err));
    calx_select_free(q);
    print_obj("first: ", hero);
    q = calx_select_new(CALX_TABLE(Hero));
    calx_select_where(q, calx_ge(CALX_C(Hero, age), 35));
    calx_select_where(q, calx_lt(CALX_C(Hero, age), 60));
    TRY(calx_session_all(s, q, &heroes, &err));
    print_list("where age range: ", &heroes);
    calx_objlist_free(&heroes);
    calx_select_free(q);
    TRY(CALX_GET(s, Hero, calx_int(1), &hero, &err));
    print_obj("get 1 (from identity map? no SQL expected if loaded): ", hero);
    TRY(CALX_GET(s, Hero, calx_int(9001), &hero, &err));
    print_obj("get 9001: ", hero);
    q = calx_select_offset(calx_select_limit(calx_select_new(CALX_TABLE(Hero)), 2), 1);
    TRY(calx_session_all(s, q, &heroes, &err));
    print_list("offset/limit: ", &heroes);
    calx_objlist_free(&heroes);
    calx_select_free(q);
    done(s);

    step("update");
    s = calx_sessionmaker_session(Session, &err);
    q = hero_named("Spider-Boy");
    TRY(CALX_ONE(s, Hero, q, &hero, &err));
    CALX_SET(hero->age, 16);
    TRY(calx_session_add(s, hero, &err));
    TRY(calx_session_commit(s, &err));
    TRY(calx_session_refresh(s, hero, &err));
    print_obj("Updated hero: ", hero);
    done(s);

    step("assign a team by key");
    s = calx_sessionmaker_session(Session, &err);
    TRY(CALX_ONE(s, Hero, q, &hero, &err));
    Team *team = NULL;
    calx_select *tq = calx_select_new(CALX_TABLE(Team));
    calx_select_where(tq, calx_eq(CALX_C(Team, name), "Preventers"));
    TRY(CALX_ONE(s, Team, tq, &team, &err));
    calx_select_free(tq);
    hero->team_id = team->id;
    TRY(calx_session_commit(s, &err));
    TRY(calx_session_refresh(s, hero, &err));
    print_obj("Spider-Boy: ", hero);
    tq = calx_select_new(CALX_TABLE(Hero));
    calx_select_where(tq, calx_eq(CALX_C(Hero, team_id), team->id.value));
    TRY(calx_session_all(s, tq, &heroes, &err));
    print_list("Preventers heroes: ", &heroes);
    calx_objlist_free(&heroes);
    calx_select_free(tq);
    done(s);

    step("delete");
    s = calx_sessionmaker_session(Session, &err);
    TRY(CALX_ONE(s, Hero, q, &hero, &err));
    TRY(calx_session_delete(s, hero, &err));
    TRY(calx_session_commit(s, &err));
    TRY(CALX_FIRST(s, Hero, q, &hero, &err));
    print_obj("after delete: ", hero);
    calx_select_free(q);
    done(s);

    step("rollback");
    s = calx_sessionmaker_session(Session, &err);
    Hero *temp = CALX_NEW(Hero, &err, .name = "Temp", .secret_name = "x");
    TRY(calx_session_add(s, temp, &err));
    TRY(calx_session_flush(s, &err));
    printf("flushed id: %lld\n", (long long)temp->id.value);
    TRY(calx_session_rollback(s, &err));
    printf("after rollback, in session: %s\n", calx_session_contains(s, temp) ? "True" : "False");
    done(s);

    step("validation");
    Hero *nameless = CALX_NEW(Hero, &err, .secret_name = "Nobody");
    printf("Hero without a name: %s (%s)\n", nameless ? "created" : "refused", err.message);

    step("concurrent tasks, one session each, one pool");
    calx_future *fs[NWORKERS];
    for (intptr_t i = 0; i < NWORKERS; i++)
        fs[i] = calx_spawn(calx_loop_default(), worker, (void *)(i + 1), NULL, &err);
    int failed = 0;
    for (int i = 0; i < NWORKERS; i++) {
        void *rc = NULL;
        if (calx_await(fs[i], &rc, &err) || rc)
            failed++;
    }
    s = calx_sessionmaker_session(Session, &err);
    q = calx_select_new(CALX_TABLE(Hero));
    calx_select_where(q, calx_like(CALX_C(Hero, name), "Sidekick-%"));
    TRY(calx_session_all(s, q, &heroes, &err));
    printf("%d tasks committed %zu sidekicks (%d failed)\n", NWORKERS, heroes.n, failed);
    calx_objlist_free(&heroes);
    calx_select_free(q);
    done(s);
    char *status = calx_engine_status(engine);
    printf("%s\n", status);
    free(status);
    return (void *)(intptr_t)failed;
}

int main(void)
{
    calx_error err;
    setvbuf(stdout, NULL, _IOLBF, 0); /* interleave with the echo on stderr */
    const char *url = getenv("DATABASE_URL");
    if (!url || !*url) {
        url = "sqlite:///heroes.db";
        /* The tutorial starts from an empty database (and no log of an
         * earlier one: calx puts a file database in WAL mode). */
        unlink("heroes.db");
        unlink("heroes.db-wal");
        unlink("heroes.db-shm");
    } else {
        /* Another database: drop the tutorial's tables first, quietly. */
        calx_engine *quiet = calx_create_engine(url, NULL, &err);
        calx_metadata *md = calx_metadata_new(&err);
        if (!quiet || !md) {
            fprintf(stderr, "heroes: %s\n", err.message);
            return 1;
        }
        calx_metadata_add(md, CALX_TABLE(Team), &err);
        calx_metadata_add(md, CALX_TABLE(Hero), &err);
        if (calx_wait(calx_engine_drop_all(quiet, md, &err), NULL, &err))
            fprintf(stderr, "heroes: drop_all: %s\n", err.message);
        calx_metadata_free(md);
        calx_engine_free(quiet);
    }
    engine = calx_create_engine(url, &(calx_engine_opts){ .echo = true, .pool_size = 5 }, &err);
    if (!engine) {
        fprintf(stderr, "heroes: %s\n", err.message);
        return 1;
    }
    Session = calx_sessionmaker_new(&(calx_session_opts){ .bind = engine }, &err);
    void *failed = (void *)1;
    int rc = calx_wait(calx_spawn(calx_loop_default(), tutorial, NULL, NULL, &err), &failed, &err);
    if (rc)
        fprintf(stderr, "heroes: %s\n", err.message);
    calx_sessionmaker_free(Session);
    calx_engine_free(engine);
    calx_loop_free_default();  /* finishes the connections' closes */
    return rc || failed ? 1 : 0;
}
