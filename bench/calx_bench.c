/* SPDX-License-Identifier: MIT */
/* calx_bench.c — the heroes cases through calx's ORM: table models, a
 * session, its identity map and unit of work, exactly as a program would
 * write them (bench/README.md, "the contract of calx_bench.c"). The models
 * declare their relationships (Team.heroes, Hero.team), as a program using
 * them would, for every case: B1-B5 must not pay for what they do not use,
 * and B6 loads the teams with their heroes through them.
 *
 *   calx_bench --backend sqlite|postgresql --case B1..B6 [--journal delete|wal]
 *              [--variant worker_reads (B3, SQLite) | selectinload | joinedload (B6)]
 *
 * Setup (heroes_db.h) is untimed; the engine and its first connection are
 * open before the clock starts. Every case checks its work afterwards. */
#include "bench_common.h"
#include "heroes_db.h"

#include <calx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* INT32 where the tables (heroes_pg.c, heroes_sqlite.c) have INTEGER, as
 * SQLModel's int is: calx sends a parameter as the column it meets. */
#define Team_FIELDS(F, M)                                                     \
    F(M, id,           OPT_INT32, NONE,     .primary_key = true)              \
    F(M, name,         TEXT,      REQUIRED, .index = true)                    \
    F(M, headquarters, TEXT,      REQUIRED)
#define Team_RELATIONS(R, M)                                                  \
    R(M, heroes, Hero, ONE_TO_MANY, .back_populates = "team")

#define Hero_FIELDS(F, M)                                                     \
    F(M, id,          OPT_INT32, NONE,     .primary_key = true)               \
    F(M, name,        TEXT,      REQUIRED, .index = true)                     \
    F(M, secret_name, TEXT,      REQUIRED)                                    \
    F(M, age,         OPT_INT32, NONE,     .index = true)                     \
    F(M, team_id,     OPT_INT32, NONE,     .foreign_key = "team.id")
#define Hero_RELATIONS(R, M)                                                  \
    R(M, team, Team, MANY_TO_ONE, .back_populates = "heroes")

CALX_MODEL_WITH_RELATIONS(Team, "team")
CALX_MODEL_WITH_RELATIONS(Hero, "hero")
CALX_MODEL_DEFINE_WITH_RELATIONS(Team, "team")
CALX_MODEL_DEFINE_WITH_RELATIONS(Hero, "hero")

static bench_sizes sz;
static bench_opts opt;
static bool pg;
static bool worker_reads;   /* --variant worker_reads (SQLite) */
static const char *variant; /* what bench_emit reports */
static char path[4096];
static calx_engine *engine;
static calx_sessionmaker *maker;

/* A call that must work; err is the caller's calx_error. */
#define OK(call)                                                              \
    do {                                                                      \
        if ((call) != 0)                                                      \
            bench_die("%s: %s", #call, err.message);                          \
    } while (0)

static const char *backend(void)
{
    return pg ? "postgresql" : "sqlite";
}

/* A fresh database holding the teams and n heroes, and an engine on it
 * with one connection already open (so the clock does not time the
 * connect). */
static void fresh(const char *journal, long teams, long n)
{
    calx_error err;
    char url[4200];
    if (pg) {
        heroes_pg_create(opt.pg_url, teams, n);
        snprintf(url, sizeof url, "%s", opt.pg_url);
    } else {
        snprintf(path, sizeof path, "%s/calx_bench-%s-%s.db", opt.dir, opt.case_name, journal);
        heroes_sqlite_create(path, journal, teams, n);
        /* --variant worker_reads: every statement on the connection's
         * worker (inline_reads=false), what a get cost before reads ran on
         * the loop thread by default (docs/sqlite.md). */
        snprintf(url, sizeof url, "sqlite:///%s%s", path,
                 worker_reads ? "?inline_reads=false" : "");
    }
    engine = calx_create_engine(url, &(calx_engine_opts){ .pool_size = BENCH_POOL_SIZE,
                                                          .max_overflow = BENCH_MAX_OVERFLOW },
                                &err);
    if (!engine) {
        if (err.code == CALX_ERR_NOT_SUPPORTED) {
            fprintf(stderr, "calx_bench: %s\n", err.message);
            exit(77);
        }
        bench_die("create_engine: %s", err.message);
    }
    maker = calx_sessionmaker_new(&(calx_session_opts){ .bind = engine }, &err);
    calx_connection *c = NULL;
    if (calx_wait(calx_engine_connect(engine, &err), &c, &err))
        bench_die("connect: %s", err.message);
    calx_conn_close(c);
    calx_loop_run(calx_loop_default());
}

static void done(void)
{
    calx_sessionmaker_free(maker);
    calx_engine_free(engine);
    calx_loop_run(calx_loop_default());
    if (!pg)
        heroes_sqlite_remove(path);
}

static void verify(const Hero *h)
{
    char buf[32];
    int32_t age = 0;
    bool has_age = hero_age(h->id.value, &age);
    hero_name(h->id.value, buf);
    if (strcmp(h->name, buf) || CALX_IS_NULL(h->age) == has_age ||
        (has_age && h->age.value != age) || h->team_id.value != hero_team(h->id.value))
        bench_die("hero %lld read back wrong", (long long)h->id.value);
}

static long count_heroes(void)
{
    calx_error err;
    calx_connection *c = NULL;
    calx_result *r = NULL;
    OK(calx_await(calx_engine_connect(engine, &err), &c, &err));
    OK(calx_await(calx_conn_execute(c, "SELECT count(*) FROM hero",
                                    NULL, &err), &r, &err));
    long n = (long)calx_row_int(calx_result_row(r, 0), 0);
    calx_result_free(r);
    calx_conn_close(c);
    return n;
}

static long sum_ages(void)
{
    calx_error err;
    calx_connection *c = NULL;
    calx_result *r = NULL;
    OK(calx_await(calx_engine_connect(engine, &err), &c, &err));
    OK(calx_await(calx_conn_execute(c, "SELECT coalesce(sum(coalesce(age, 0)), 0) FROM hero",
                                    NULL, &err), &r, &err));
    long n = (long)calx_row_int(calx_result_row(r, 0), 0);
    calx_result_free(r);
    calx_conn_close(c);
    return n;
}

/* ---- the cases, each run inside a task ---- */

static void *b1(void *journal)
{
    calx_error err;
    calx_session *s = calx_sessionmaker_session(maker, &err);
    Hero **hs = bench_xmalloc((size_t)sz.heroes * sizeof *hs);
    double t0 = bench_timed_begin();
    for (long i = 1; i <= sz.heroes; i++) {
        char name[32], secret[32];
        int32_t age;
        hero_name(i, name);
        hero_secret(i, secret);
        Hero *h = hero_age(i, &age)
                      ? CALX_NEW(Hero, &err, .name = name, .secret_name = secret,
                                 .age = CALX_SOME(age), .team_id = CALX_SOME(hero_team(i)))
                      : CALX_NEW(Hero, &err, .name = name, .secret_name = secret,
                                 .team_id = CALX_SOME(hero_team(i)));
        if (!h)
            bench_die("new hero: %s", err.message);
        OK(calx_session_add(s, h, &err));
        hs[i - 1] = h;
    }
    OK(calx_session_commit(s, &err));
    double t1 = bench_timed_end();
    for (long i = 0; i < sz.heroes; i++)
        if (hs[i]->id.value != i + 1)
            bench_die("B1: hero %ld got id %lld", i + 1, (long long)hs[i]->id.value);
    if (count_heroes() != sz.heroes)
        bench_die("B1: wrong row count");
    bench_emit(&(bench_rec){ .case_name = "B1", .backend = backend(), .impl = "calx", .variant = variant,
                             .journal = pg ? NULL : journal, .ops = sz.heroes,
                             .seconds = t1 - t0 });
    free(hs);
    calx_session_free(s);
    return NULL;
}

static void *b2(void *unused)
{
    calx_error err;
    long base = bench_maxrss_kb();
    calx_session *s = calx_sessionmaker_session(maker, &err);
    calx_select *q = calx_select_new(CALX_TABLE(Hero));
    calx_objlist l;
    double t0 = bench_timed_begin();
    OK(calx_session_all(s, q, &l, &err));
    double t1 = bench_timed_end();
    long peak = bench_maxrss_kb();
    if ((long)l.n != sz.heroes)
        bench_die("B2: loaded %zu heroes, not %ld", l.n, sz.heroes);
    for (size_t k = 0; k < l.n; k += 997)
        verify(l.items[k]);
    bench_emit(&(bench_rec){ .case_name = "B2", .backend = backend(), .impl = "calx", .variant = variant,
                             .journal = pg ? NULL : "delete", .ops = sz.heroes,
                             .seconds = t1 - t0, .peak_rss_kb = peak, .base_rss_kb = base });
    calx_objlist_free(&l);
    calx_select_free(q);
    calx_session_free(s);
    return NULL;
}

/* One pass of gets. With lat, each get is timed alone; without, only the
 * pass is: an identity-map hit costs tens of nanoseconds, about what the
 * two clock reads around it cost on a VM, so the warm mean comes from a
 * pass timed whole and its p99 from a second pass timed get by get. */
static double b3_pass(calx_session *s, bench_lat *lat)
{
    calx_error err;
    double start = bench_now();
    for (long i = 0; i < sz.gets; i++) {
        long pk = bench_get_pk(i, sz.heroes);
        Hero *h = NULL;
        double t = lat ? bench_now() : 0;
        OK(calx_session_get(s, &Hero_model, calx_int(pk), &h, &err));
        if (lat)
            lat_add(lat, (bench_now() - t) * 1e6);
        if (!h || h->id.value != pk)
            bench_die("B3: got the wrong hero for %ld", pk);
    }
    return bench_now() - start;
}

static void *b3(void *unused)
{
    calx_error err;
    calx_session *s = calx_sessionmaker_session(maker, &err);
    bench_lat cold = { 0 }, warm = { 0 };
    /* The cold pass alone is the profile's timed part (bench/profile.sh). */
    bench_timed_begin();
    double tc = b3_pass(s, &cold);
    bench_timed_end();
    double tw = b3_pass(s, NULL);
    b3_pass(s, &warm);
    for (long i = 0; i < sz.gets; i += 101) {
        Hero *h = NULL;
        OK(calx_session_get(s, &Hero_model, calx_int(bench_get_pk(i, sz.heroes)), &h, &err));
        verify(h);
    }
    bench_emit(&(bench_rec){ .case_name = "B3", .backend = backend(), .impl = "calx", .variant = variant,
                             .journal = pg ? NULL : "delete", .phase = "cold", .ops = sz.gets,
                             .seconds = tc, .mean_us = lat_mean(&cold), .p99_us = lat_p99(&cold) });
    bench_emit(&(bench_rec){ .case_name = "B3", .backend = backend(), .impl = "calx", .variant = variant,
                             .journal = pg ? NULL : "delete", .phase = "warm", .ops = sz.gets,
                             .seconds = tw, .mean_us = tw / (double)sz.gets * 1e6,
                             .p99_us = lat_p99(&warm),
                             .note = "identity map hits: no SQL; mean from the pass timed whole, "
                                     "p99 from a pass timing each get" });
    lat_free(&cold);
    lat_free(&warm);
    calx_session_free(s);
    return NULL;
}

static void *b4(void *unused)
{
    calx_error err;
    long before = sum_ages();
    calx_session *s = calx_sessionmaker_session(maker, &err);
    calx_select *q = calx_select_new(CALX_TABLE(Hero));
    calx_select_order_by(q, calx_col(CALX_TABLE(Hero), CALX_FIELD(Hero, id)), CALX_ASC);
    calx_select_limit(q, sz.updates);
    calx_objlist l;
    double t0 = bench_timed_begin();
    OK(calx_session_all(s, q, &l, &err));
    for (size_t k = 0; k < l.n; k++) {
        Hero *h = l.items[k];
        CALX_SET(h->age, (CALX_IS_NULL(h->age) ? 0 : h->age.value) + 1);
    }
    OK(calx_session_commit(s, &err));
    double t1 = bench_timed_end();
    long after = sum_ages();
    if ((long)l.n != sz.updates || after - before != sz.updates)
        bench_die("B4: %zu heroes loaded, ages grew by %ld, expected %ld", l.n, after - before,
                  sz.updates);
    bench_emit(&(bench_rec){ .case_name = "B4", .backend = backend(), .impl = "calx", .variant = variant,
                             .journal = pg ? NULL : "delete", .ops = sz.updates,
                             .seconds = t1 - t0 });
    calx_objlist_free(&l);
    calx_select_free(q);
    calx_session_free(s);
    return NULL;
}

/* B5: BENCH_CLIENTS tasks share the transactions; each transaction is a
 * new session, a get by random key, an age set, a commit. */
static long b5_next;
static uint64_t b5_rng = BENCH_SEED;
static bench_lat b5_lat;

static void *b5_client(void *unused)
{
    calx_error err;
    while (b5_next < sz.txns) {
        b5_next++;
        long pk = bench_rand_pk(&b5_rng, sz.heroes);
        double t = bench_now();
        calx_session *s = calx_sessionmaker_session(maker, &err);
        Hero *h = NULL;
        OK(calx_session_get(s, &Hero_model, calx_int(pk), &h, &err));
        if (!h)
            bench_die("B5: no hero %ld", pk);
        CALX_SET(h->age, (CALX_IS_NULL(h->age) ? 0 : h->age.value) + 1);
        OK(calx_session_commit(s, &err));
        calx_session_free(s);
        lat_add(&b5_lat, (bench_now() - t) * 1e6);
    }
    return NULL;
}

/* One connection of B5's warm-up: held while the others are checked out. */
static void *b5_warm(void *unused)
{
    calx_error err;
    calx_connection *c = NULL;
    OK(calx_await(calx_engine_connect(engine, &err), &c, &err));
    OK(calx_await(calx_conn_execute(c, BENCH_B5_WARM_SQL, NULL, &err), NULL, &err));
    OK(calx_await(calx_conn_rollback(c, &err), NULL, &err));
    calx_conn_close(c);
    return NULL;
}

static void *b5(void *unused)
{
    calx_error err;
    /* The pool opens its connections before the clock starts, as raw
     * libpq's are open (bench/README.md, B5). */
    calx_future *warm[BENCH_POOL_SIZE + BENCH_MAX_OVERFLOW];
    for (int i = 0; i < BENCH_POOL_SIZE + BENCH_MAX_OVERFLOW; i++)
        warm[i] = calx_spawn(calx_loop_default(), b5_warm, NULL, NULL, &err);
    for (int i = 0; i < BENCH_POOL_SIZE + BENCH_MAX_OVERFLOW; i++)
        OK(calx_await(warm[i], NULL, &err));
    long before = sum_ages();
    calx_future *fs[BENCH_CLIENTS];
    double t0 = bench_timed_begin();
    for (int i = 0; i < BENCH_CLIENTS; i++)
        fs[i] = calx_spawn(calx_loop_default(), b5_client, NULL, NULL, &err);
    for (int i = 0; i < BENCH_CLIENTS; i++)
        OK(calx_await(fs[i], NULL, &err));
    double t1 = bench_timed_end();
    bench_check_b5(b5_next, sum_ages() - before, sz.txns, sz.heroes);
    bench_emit(&(bench_rec){ .case_name = "B5", .backend = backend(), .impl = "calx", .variant = variant,
                             .ops = sz.txns, .seconds = t1 - t0, .mean_us = lat_mean(&b5_lat),
                             .p99_us = lat_p99(&b5_lat) });
    lat_free(&b5_lat);
    return NULL;
}

/* B6: every team with its heroes, through a loader option (--variant
 * selectinload: one SELECT of the teams, one SELECT ... IN of their heroes;
 * joinedload: one SELECT ... LEFT OUTER JOIN). */
static void *b6(void *joined)
{
    calx_error err;
    calx_session *s = calx_sessionmaker_session(maker, &err);
    calx_select *q = calx_select_new(CALX_TABLE(Team));
    calx_loader selectin[] = { CALX_SELECTINLOAD(CALX_REL(Team, heroes)) };
    calx_loader join[] = { CALX_JOINEDLOAD(CALX_REL(Team, heroes)) };
    calx_exec_opts o = { .loaders = joined ? join : selectin, .nloaders = 1 };
    calx_objlist l;
    double t0 = bench_timed_begin();
    OK(calx_session_execute(s, q, &o, &l, &err));
    double t1 = bench_timed_end();
    b6_check c;
    b6_check_begin(&c, sz.b6_teams);
    long heroes = 0;
    for (size_t j = 0; j < l.n; j++) {
        Team *t = l.items[j];
        OK(calx_rel_check(t, CALX_REL(Team, heroes), &err));
        b6_check_team(&c, t->id.value, t->name, t->headquarters, t->heroes.n);
        for (size_t k = 0; k < t->heroes.n; k++) {
            const Hero *h = t->heroes.items[k];
            b6_check_hero(&c, t->id.value, h->id.value, h->name, h->secret_name, CALX_IS_NULL(h->age),
                          h->age.value, h->team_id.value);
        }
        heroes += (long)t->heroes.n;
    }
    b6_check_end(&c, l.n);
    bench_emit(&(bench_rec){ .case_name = "B6", .backend = backend(), .impl = "calx", .variant = variant,
                             .journal = pg ? NULL : "delete", .ops = heroes, .seconds = t1 - t0 });
    calx_objlist_free(&l);
    calx_select_free(q);
    calx_session_free(s);
    return NULL;
}

static void run(void *(*fn)(void *), void *arg)
{
    calx_error err;
    if (calx_wait(calx_spawn(calx_loop_default(), fn, arg, NULL, &err), NULL, &err))
        bench_die("%s: %s", opt.case_name, err.message);
}

int main(int argc, char **argv)
{
    bench_parse_args(argc, argv, &opt);
    sz = bench_sizes_get();
    pg = opt.backend && !strcmp(opt.backend, "postgresql");
    if (pg && (!opt.pg_url || !*opt.pg_url))
        bench_die("--backend postgresql needs --pg-url or CALX_TEST_PG_URL");
    if (!strcmp(opt.case_name, "B6")) {
        /* Each loader on a fresh database, as raw C's two ways. */
        static const char *const loaders[] = { "selectinload", "joinedload", NULL };
        bool known = !opt.variant;
        for (const char *const *v = loaders; *v; v++) {
            if (!bench_want(&opt, *v))
                continue;
            known = true;
            variant = *v;
            fresh("delete", sz.b6_teams, sz.b6_teams * BENCH_B6_PER_TEAM);
            run(b6, (void *)(uintptr_t)!strcmp(*v, "joinedload"));
            done();
        }
        calx_loop_free_default();
        if (!known) {
            fprintf(stderr, "calx_bench: B6 has no variant %s (selectinload, joinedload)\n", opt.variant);
            return 77;
        }
        return 0;
    }
    if (opt.variant && strcmp(opt.variant, "worker_reads")) {
        fprintf(stderr, "calx_bench: no variant %s (there is worker_reads, on SQLite)\n",
                opt.variant);
        return 77;
    }
    if (opt.variant && pg) {
        fprintf(stderr, "calx_bench: worker_reads is a SQLite option\n");
        return 77;
    }
    worker_reads = opt.variant != NULL;
    variant = opt.variant;
    if (!strcmp(opt.case_name, "B5") && !pg) {
        fprintf(stderr, "calx_bench: B5 runs on PostgreSQL only\n");
        return 77;
    }
    const char *journal = opt.journal ? opt.journal : "delete";
    bool b1case = !strcmp(opt.case_name, "B1");
    fresh(journal, BENCH_TEAMS, b1case ? 0 : sz.heroes);
    if (b1case)
        run(b1, (void *)journal);
    else if (!strcmp(opt.case_name, "B2"))
        run(b2, NULL);
    else if (!strcmp(opt.case_name, "B3"))
        run(b3, NULL);
    else if (!strcmp(opt.case_name, "B4"))
        run(b4, NULL);
    else if (!strcmp(opt.case_name, "B5"))
        run(b5, NULL);
    else
        bench_die("unknown case %s", opt.case_name);
    done();
    calx_loop_free_default();
    return 0;
}
