/* SPDX-License-Identifier: MIT */
/* Joins, aggregates and bulk statements, as the later chapters of the
 * SQLModel tutorial and the SQLAlchemy queries its users write next:
 * select(Hero, Team) with a WHERE, with a JOIN and with an outer JOIN,
 * count / avg with GROUP BY and HAVING, count(*), and a bulk UPDATE and
 * DELETE through the session. The data is the tutorial's at that point;
 * echo is on, and each step prints the rows SQLModel prints: compare with
 * the same steps of ../shared/reference/sqlmodel_relationships.echo.txt
 * (make test does, through tests/compare-reference.sh).
 *
 *     build/queries                       (queries.db in the current directory)
 *     DATABASE_URL=postgresql://... build/queries
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "calx.h"

#define Team_FIELDS(F, M)                                                     \
    F(M, id,           OPT_INT64, NONE,     .primary_key = true)              \
    F(M, name,         TEXT,      REQUIRED, .index = true)                    \
    F(M, headquarters, TEXT,      REQUIRED)
CALX_MODEL(Team, "team")
CALX_MODEL_DEFINE(Team, "team")

#define Mission_FIELDS(F, M)                                                  \
    F(M, id,           OPT_INT64, NONE,     .primary_key = true)              \
    F(M, title,        TEXT,      REQUIRED)
CALX_MODEL(Mission, "mission")
CALX_MODEL_DEFINE(Mission, "mission")

#define Hero_FIELDS(F, M)                                                     \
    F(M, id,          OPT_INT64, NONE,     .primary_key = true)               \
    F(M, name,        TEXT,      REQUIRED, .index = true)                     \
    F(M, secret_name, TEXT,      REQUIRED)                                    \
    F(M, age,         OPT_INT64, NONE,     .index = true)                     \
    F(M, team_id,     OPT_INT64, NONE,     .foreign_key = "team.id")
CALX_MODEL(Hero, "hero")
CALX_MODEL_DEFINE(Hero, "hero")

/* The link model of Hero and Mission, with a field of its own. */
#define HeroMissionLink_FIELDS(F, M)                                          \
    F(M, hero_id,     OPT_INT64, NONE,  .primary_key = true,                  \
                                        .foreign_key = "hero.id")             \
    F(M, mission_id,  OPT_INT64, NONE,  .primary_key = true,                  \
                                        .foreign_key = "mission.id")          \
    F(M, is_leader,   BOOL,      DEFAULT(false))
CALX_MODEL(HeroMissionLink, "heromissionlink")
CALX_MODEL_DEFINE(HeroMissionLink, "heromissionlink")

static calx_engine *engine;


#define TRY(call)                                                             \
    do {                                                                      \
        if ((call) != 0) {                                                    \
            fprintf(stderr, "queries: %s failed: %s: %s\n", #call,            \
                    calx_errcode_name(err.code), err.message);                \
            return (void *)1;                                                 \
        }                                                                     \
    } while (0)

static void step(const char *title)
{
    printf("\n### %s\n", title);
    fflush(stdout);
}

/* A value as Python's repr prints it in a tuple: 'text', 1, 48.0, None. */
static void print_value(const calx_value *v)
{
    switch (v->type) {
    case CALX_NULL: printf("None"); break;
    case CALX_INT: printf("%lld", (long long)v->u.i); break;
    case CALX_BOOL: printf(v->u.b ? "True" : "False"); break;
    case CALX_REAL:
        if (v->u.d == floor(v->u.d) && fabs(v->u.d) < 1e15)
            printf("%.1f", v->u.d);
        else
            printf("%.17g", v->u.d);
        break;
    case CALX_TEXT: printf("'%.*s'", (int)v->u.s.len, v->u.s.ptr); break;
    case CALX_BLOB: printf("b'...'"); break;
    default: printf("<%s>", calx_type_name(v->type)); break;
    }
}

/* The tutorial's data when its relationship chapters reach these steps:
 * three teams, four heroes (Spider-Boy in none), two missions, Rusty-Man
 * leading the rescue with Deadpond. */
static void *seed(calx_session *s)
{
    calx_error err;
    Team *z_force = CALX_NEW(Team, &err, .name = "Z-Force", .headquarters = "Sister Margaret's Bar");
    Team *preventers = CALX_NEW(Team, &err, .name = "Preventers", .headquarters = "Sharp Tower");
    Team *wakaland = CALX_NEW(Team, &err, .name = "Wakaland",
                              .headquarters = "Wakaland Capital City");
    Mission *rescue = CALX_NEW(Mission, &err, .title = "Rescue");
    Mission *heist = CALX_NEW(Mission, &err, .title = "Heist");
    TRY(calx_session_add_all(s, (void *[]){ z_force, preventers, wakaland, rescue, heist }, 5,
                             &err));
    TRY(calx_session_flush(s, &err));
    Hero *deadpond = CALX_NEW(Hero, &err, .name = "Deadpond", .secret_name = "Dive Wilson",
                              .team_id = z_force->id);
    Hero *rusty = CALX_NEW(Hero, &err, .name = "Rusty-Man", .secret_name = "Tommy Sharp",
                           .age = CALX_SOME(48), .team_id = preventers->id);
    Hero *spider = CALX_NEW(Hero, &err, .name = "Spider-Boy", .secret_name = "Pedro Parqueador");
    Hero *black_lion = CALX_NEW(Hero, &err, .name = "Black Lion", .secret_name = "Trevor Challa",
                                .age = CALX_SOME(35), .team_id = wakaland->id);
    TRY(calx_session_add_all(s, (void *[]){ deadpond, rusty, spider, black_lion }, 4, &err));
    TRY(calx_session_flush(s, &err));
    HeroMissionLink *lead = CALX_NEW(HeroMissionLink, &err, .hero_id = rusty->id,
                                     .mission_id = rescue->id, .is_leader = true);
    HeroMissionLink *joined = CALX_NEW(HeroMissionLink, &err, .hero_id = deadpond->id,
                                       .mission_id = rescue->id);
    TRY(calx_session_add_all(s, (void *[]){ lead, joined }, 2, &err));
    TRY(calx_session_commit(s, &err));
    return NULL;
}

/* Prints each row of q (through the session) with print_row. */
static int each_row(calx_session *s, calx_select *q, void (*print_row)(const calx_entity_rows *, size_t),
                    calx_error *err)
{
    calx_entity_rows *rows = NULL;
    int rc = calx_session_rows(s, q, &rows, err);
    for (size_t i = 0; !rc && i < calx_entity_rows_count(rows); i++)
        print_row(rows, i);
    calx_entity_rows_free(rows);
    calx_select_free(q);
    return rc;
}

static void hero_and_team(const calx_entity_rows *r, size_t i)
{
    const Hero *h = calx_entity_rows_object(r, i, 0);
    const Team *t = calx_entity_rows_object(r, i, 1);
    printf("Hero: %s Team: %s\n", h->name, t ? t->name : "None");
}

static void preventer(const calx_entity_rows *r, size_t i)
{
    const Hero *h = calx_entity_rows_object(r, i, 0);
    const Team *t = calx_entity_rows_object(r, i, 1);
    printf("Preventer: %s %s\n", h->name, t->headquarters);
}

static void tuple(const calx_entity_rows *r, size_t i)
{
    printf("(");
    for (size_t k = 0; k < calx_entity_rows_width(r); k++) {
        if (k)
            printf(", ");
        print_value(calx_entity_rows_value(r, i, k));
    }
    printf(")\n");
}

static void count(const calx_entity_rows *r, size_t i)
{
    printf("count: ");
    print_value(calx_entity_rows_value(r, i, 0));
    printf("\n");
}

/* select(Hero, Team) */
static calx_select *hero_and_team_select(void)
{
    return calx_select_add_entity(calx_select_new(CALX_TABLE(Hero)), CALX_TABLE(Team));
}

static void *queries(void *unused)
{
    calx_error err;
    calx_metadata *md = calx_metadata_new(&err);
    TRY(calx_metadata_add(md, CALX_TABLE(Team), &err));
    TRY(calx_metadata_add(md, CALX_TABLE(Mission), &err));
    TRY(calx_metadata_add(md, CALX_TABLE(Hero), &err));
    TRY(calx_metadata_add(md, CALX_TABLE(HeroMissionLink), &err));
    TRY(calx_await(calx_engine_drop_all(engine, md, &err), NULL, &err));
    TRY(calx_await(calx_engine_create_all(engine, md, &err), NULL, &err));
    calx_metadata_free(md);
    calx_session_opts opts = { .bind = engine };
    calx_session *s = calx_session_new(&opts, &err);
    if (!s || seed(s))
        return (void *)1;
    calx_session_free(s);

    step("join: select(Hero, Team).where(Hero.team_id == Team.id)");
    s = calx_session_new(&opts, &err);
    TRY(each_row(s, calx_select_where(hero_and_team_select(),
                                      calx_eq(CALX_C(Hero, team_id), CALX_C(Team, id))),
                 hero_and_team, &err));
    TRY(calx_session_close(s, &err));
    calx_session_free(s);

    step("join: select(Hero, Team).join(Team)");
    s = calx_session_new(&opts, &err);
    calx_select *q = calx_select_join(hero_and_team_select(), CALX_TABLE(Team), NULL, CALX_JOIN_INNER);
    TRY(each_row(s, calx_select_where(q, calx_eq(CALX_C(Team, name), "Preventers")), preventer, &err));
    TRY(calx_session_close(s, &err));
    calx_session_free(s);

    step("left outer join: select(Hero, Team).join(Team, isouter=True)");
    s = calx_session_new(&opts, &err);
    q = calx_select_join(hero_and_team_select(), CALX_TABLE(Team), NULL, CALX_JOIN_LEFT);
    TRY(each_row(s, calx_select_order_by(q, CALX_C(Hero, id), CALX_ASC), hero_and_team, &err));
    TRY(calx_session_close(s, &err));
    calx_session_free(s);

    step("aggregates: count heroes per team, average age, having");
    s = calx_session_new(&opts, &err);
    q = calx_select_columns(CALX_C(Team, name), calx_count(CALX_C(Hero, id)),
                            calx_avg(CALX_C(Hero, age)));
    calx_select_join(q, CALX_TABLE(Hero), calx_eq(CALX_C(Hero, team_id), CALX_C(Team, id)),
                     CALX_JOIN_INNER);
    calx_select_group_by(q, CALX_C(Team, name));
    calx_select_having(q, calx_ge(calx_count(CALX_C(Hero, id)), 1));
    calx_select_order_by(q, CALX_C(Team, name), CALX_ASC);
    TRY(each_row(s, q, tuple, &err));
    q = calx_select_from(calx_select_columns(calx_count_all()), CALX_TABLE(Hero));
    TRY(each_row(s, q, count, &err));
    TRY(calx_session_close(s, &err));
    calx_session_free(s);

    step("bulk update and delete statements");
    s = calx_session_new(&opts, &err);
    int64_t n = 0;
    calx_update *u = calx_update_set(calx_update_new(CALX_TABLE(Hero)), "age", 0);
    calx_update_where(u, calx_eq(CALX_C(Hero, age), NULL));
    TRY(calx_session_execute_update(s, u, CALX_SYNC_AUTO, &n, &err));
    calx_update_free(u);
    printf("rows updated: %lld\n", (long long)n);
    calx_delete *d = calx_delete_new(CALX_TABLE(HeroMissionLink));
    calx_delete_where(d, calx_eq(CALX_C(HeroMissionLink, is_leader), false));
    TRY(calx_session_execute_delete(s, d, CALX_SYNC_AUTO, &n, &err));
    calx_delete_free(d);
    printf("links deleted: %lld\n", (long long)n);
    TRY(calx_session_commit(s, &err));
    calx_session_free(s);
    return NULL;
}

int main(void)
{
    calx_error err;
    setvbuf(stdout, NULL, _IOLBF, 0); /* interleave with the echo on stderr */
    const char *url = getenv("DATABASE_URL");
    if (!url || !*url) {
        url = "sqlite:///queries.db";
        unlink("queries.db");
        unlink("queries.db-wal");
        unlink("queries.db-shm");
    }
    engine = calx_create_engine(url, &(calx_engine_opts){ .echo = true }, &err);
    if (!engine) {
        fprintf(stderr, "queries: %s\n", err.message);
        return 1;
    }
    void *failed = (void *)1;
    int rc = calx_wait(calx_spawn(calx_loop_default(), queries, NULL, NULL, &err), &failed, &err);
    if (rc)
        fprintf(stderr, "queries: %s\n", err.message);
    calx_engine_free(engine);
    calx_loop_free_default();
    return rc || failed ? 1 : 0;
}
