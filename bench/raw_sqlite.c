/* SPDX-License-Identifier: MIT */
/* raw_sqlite.c — the heroes cases B1-B4 and B6 on raw sqlite3: the limit an
 * ORM on SQLite can approach. One prepared statement stepped in one
 * transaction, rows read into a C struct array (strings into an arena).
 * B6 loads the teams with their heroes two ways: variant two_queries (the
 * teams, then their heroes WHERE team_id IN (...), joined in memory: what
 * selectinload does) and join (one SELECT ... LEFT OUTER JOIN: joinedload).
 *
 *   raw_sqlite --case B1|B2|B3|B4|B6 [--variant V] [--journal delete|wal] [--dir DIR]
 *
 * Each case makes its own fresh database file DIR/raw_sqlite-<case>.db (and
 * removes it afterwards). Every implementation keeps SQLite's defaults
 * (journal_mode=delete, synchronous=FULL, foreign_keys off, 2 MB page cache)
 * except the journal mode when --journal wal. */
#include "bench_common.h"
#include "heroes_db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char INSERT_SQL[] = "INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)";
static const char SELECT_ALL_SQL[] = "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id FROM hero";
static const char SELECT_PK_SQL[] =
    "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id FROM hero WHERE hero.id = ?";
static const char SELECT_FIRST_SQL[] =
    "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id FROM hero ORDER BY hero.id LIMIT ?";
static const char UPDATE_SQL[] = "UPDATE hero SET age=? WHERE hero.id = ?";
static const char SELECT_TEAMS_SQL[] = "SELECT team.id, team.name, team.headquarters FROM team";
static const char SELECT_JOIN_SQL[] =
    "SELECT team.id, team.name, team.headquarters, hero.id, hero.name, hero.secret_name, hero.age, "
    "hero.team_id FROM team LEFT OUTER JOIN hero ON team.id = hero.team_id";

static bench_sizes sz;
static bench_opts opt;

static void check(sqlite3 *db, int rc, int want, const char *what)
{
    if (rc != want)
        bench_die("%s: %s (%d)", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
}

static void exec(sqlite3 *db, const char *sql) { check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, sql); }

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    check(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, sql);
    return st;
}

static long scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = prepare(db, sql);
    check(db, sqlite3_step(st), SQLITE_ROW, sql);
    long v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A fresh database file for this case (heroes_db.h), opened. */
static sqlite3 *fresh_db(char *path, size_t pathsz, const char *journal, long teams, long n)
{
    snprintf(path, pathsz, "%s/raw_sqlite-%s-%s.db", opt.dir, opt.case_name, journal);
    heroes_sqlite_create(path, journal, teams, n);
    sqlite3 *db;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK)
        bench_die("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return db;
}

static void close_db(sqlite3 *db, const char *path)
{
    check(db, sqlite3_close(db), SQLITE_OK, "close");
    heroes_sqlite_remove(path);
}

/* Builds heroes 1..n as structs, inserts them with one prepared statement
 * in one transaction, and reads each new id back: B1. */
static void insert_heroes(sqlite3 *db, long n, hero_vec *hv, str_arena *ar)
{
    hero_vec_reserve(hv, (size_t)n);
    for (long i = 1; i <= n; i++) {
        char buf[32];
        hero *h = hero_vec_push(hv);
        h->name = arena_copy(ar, buf, (size_t)hero_name(i, buf));
        h->secret_name = arena_copy(ar, buf, (size_t)hero_secret(i, buf));
        h->age_null = !hero_age(i, &h->age);
        h->team_id = hero_team(i);
    }
    exec(db, "BEGIN");
    sqlite3_stmt *st = prepare(db, INSERT_SQL);
    for (size_t k = 0; k < hv->n; k++) {
        hero *h = &hv->v[k];
        sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, h->secret_name, -1, SQLITE_STATIC);
        if (h->age_null)
            sqlite3_bind_null(st, 3);
        else
            sqlite3_bind_int(st, 3, h->age);
        sqlite3_bind_int64(st, 4, h->team_id);
        check(db, sqlite3_step(st), SQLITE_DONE, "insert hero");
        sqlite3_reset(st);
        h->id = sqlite3_last_insert_rowid(db);
    }
    sqlite3_finalize(st);
    exec(db, "COMMIT");
}

static const char *col_text(sqlite3_stmt *st, int col, str_arena *ar)
{
    return arena_copy(ar, (const char *)sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
}

/* The hero columns of the current row, from column c (id, name,
 * secret_name, age, team_id), into *h. */
static void read_hero_at(sqlite3_stmt *st, int c, hero *h, str_arena *ar)
{
    h->id = sqlite3_column_int64(st, c);
    h->name = col_text(st, c + 1, ar);
    h->secret_name = col_text(st, c + 2, ar);
    h->age_null = sqlite3_column_type(st, c + 3) == SQLITE_NULL;
    h->age = h->age_null ? 0 : sqlite3_column_int(st, c + 3);
    h->team_null = sqlite3_column_type(st, c + 4) == SQLITE_NULL;
    h->team_id = h->team_null ? 0 : sqlite3_column_int64(st, c + 4);
}

/* The current row of a hero SELECT into *h. */
static void read_hero(sqlite3_stmt *st, hero *h, str_arena *ar) { read_hero_at(st, 0, h, ar); }

static void verify_hero(const hero *h)
{
    char buf[32];
    int32_t age = 0;
    bool has_age = hero_age(h->id, &age);
    hero_name(h->id, buf);
    if (strcmp(h->name, buf) || h->age_null == has_age || (has_age && h->age != age) ||
        h->team_id != hero_team(h->id))
        bench_die("hero %lld read back wrong", (long long)h->id);
}

static void case_b1(const char *journal)
{
    char path[4096];
    sqlite3 *db = fresh_db(path, sizeof path, journal, BENCH_TEAMS, 0);
    hero_vec hv = {0};
    str_arena ar = {0};
    double t0 = bench_timed_begin();
    insert_heroes(db, sz.heroes, &hv, &ar);
    double t1 = bench_timed_end();
    if (hv.v[0].id != 1 || hv.v[hv.n - 1].id != sz.heroes || scalar(db, "SELECT count(*) FROM hero") != sz.heroes)
        bench_die("B1: wrong ids or row count");
    bench_emit(&(bench_rec){.case_name = "B1", .backend = "sqlite", .impl = "raw_c", .variant = "prepared",
                            .journal = journal, .ops = sz.heroes, .seconds = t1 - t0});
    hero_vec_free(&hv);
    arena_free(&ar);
    close_db(db, path);
}

static void case_b2(void)
{
    char path[4096];
    sqlite3 *db = fresh_db(path, sizeof path, "delete", BENCH_TEAMS, sz.heroes);
    long base = bench_maxrss_kb();
    hero_vec hv = {0};
    str_arena ar = {0};
    double t0 = bench_timed_begin();
    sqlite3_stmt *st = prepare(db, SELECT_ALL_SQL);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        read_hero(st, hero_vec_push(&hv), &ar);
    check(db, rc, SQLITE_DONE, SELECT_ALL_SQL);
    sqlite3_finalize(st);
    double t1 = bench_timed_end();
    long peak = bench_maxrss_kb();
    if ((long)hv.n != sz.heroes)
        bench_die("B2: loaded %zu heroes, not %ld", hv.n, sz.heroes);
    for (size_t k = 0; k < hv.n; k += 997)
        verify_hero(&hv.v[k]);
    bench_emit(&(bench_rec){.case_name = "B2", .backend = "sqlite", .impl = "raw_c", .variant = "prepared",
                            .journal = "delete", .ops = sz.heroes, .seconds = t1 - t0,
                            .peak_rss_kb = peak, .base_rss_kb = base});
    hero_vec_free(&hv);
    arena_free(&ar);
    close_db(db, path);
}

/* One pass of B3's gets; returns its wall time. */
static double b3_pass(sqlite3 *db, sqlite3_stmt *st, hero_vec *hv, str_arena *ar, bench_lat *lat)
{
    double start = bench_now();
    for (long i = 0; i < sz.gets; i++) {
        long pk = bench_get_pk(i, sz.heroes);
        double t = bench_now();
        sqlite3_bind_int64(st, 1, pk);
        check(db, sqlite3_step(st), SQLITE_ROW, "get hero");
        read_hero(st, hero_vec_push(hv), ar);
        sqlite3_reset(st);
        lat_add(lat, (bench_now() - t) * 1e6);
    }
    return bench_now() - start;
}

static void case_b3(void)
{
    char path[4096];
    sqlite3 *db = fresh_db(path, sizeof path, "delete", BENCH_TEAMS, sz.heroes);
    hero_vec hv = {0};
    str_arena ar = {0};
    bench_lat cold = {0}, warm = {0};
    /* One read transaction for both passes, as one session holds one. */
    exec(db, "BEGIN");
    sqlite3_stmt *st = prepare(db, SELECT_PK_SQL);
    /* The cold pass alone is the profile's timed part (bench/profile.sh). */
    bench_timed_begin();
    double tc = b3_pass(db, st, &hv, &ar, &cold);
    bench_timed_end();
    double tw = b3_pass(db, st, &hv, &ar, &warm);
    sqlite3_finalize(st);
    exec(db, "COMMIT");
    for (size_t k = 0; k < hv.n; k += 101) {
        verify_hero(&hv.v[k]);
        if (hv.v[k].id != bench_get_pk((long)(k % (size_t)sz.gets), sz.heroes))
            bench_die("B3: got the wrong hero");
    }
    bench_emit(&(bench_rec){.case_name = "B3", .backend = "sqlite", .impl = "raw_c", .variant = "prepared",
                            .journal = "delete", .phase = "cold", .ops = sz.gets, .seconds = tc,
                            .mean_us = lat_mean(&cold), .p99_us = lat_p99(&cold)});
    bench_emit(&(bench_rec){.case_name = "B3", .backend = "sqlite", .impl = "raw_c", .variant = "prepared",
                            .journal = "delete", .phase = "warm", .ops = sz.gets, .seconds = tw,
                            .mean_us = lat_mean(&warm), .p99_us = lat_p99(&warm),
                            .note = "no identity map: warm repeats the lookup"});
    lat_free(&cold);
    lat_free(&warm);
    hero_vec_free(&hv);
    arena_free(&ar);
    close_db(db, path);
}

static void case_b4(void)
{
    char path[4096];
    sqlite3 *db = fresh_db(path, sizeof path, "delete", BENCH_TEAMS, sz.heroes);
    long before = scalar(db, "SELECT coalesce(sum(coalesce(age, 0)), 0) FROM hero");
    hero_vec hv = {0};
    str_arena ar = {0};
    double t0 = bench_timed_begin();
    exec(db, "BEGIN");
    sqlite3_stmt *st = prepare(db, SELECT_FIRST_SQL);
    sqlite3_bind_int64(st, 1, sz.updates);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        read_hero(st, hero_vec_push(&hv), &ar);
    check(db, rc, SQLITE_DONE, SELECT_FIRST_SQL);
    sqlite3_finalize(st);
    st = prepare(db, UPDATE_SQL);
    for (size_t k = 0; k < hv.n; k++) {
        hero *h = &hv.v[k];
        h->age = hero_new_age(h);
        h->age_null = false;
        sqlite3_bind_int(st, 1, h->age);
        sqlite3_bind_int64(st, 2, h->id);
        check(db, sqlite3_step(st), SQLITE_DONE, UPDATE_SQL);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    exec(db, "COMMIT");
    double t1 = bench_timed_end();
    long after = scalar(db, "SELECT coalesce(sum(coalesce(age, 0)), 0) FROM hero");
    if ((long)hv.n != sz.updates || after - before != sz.updates)
        bench_die("B4: %zu heroes loaded, ages grew by %ld, expected %ld", hv.n, after - before, sz.updates);
    bench_emit(&(bench_rec){.case_name = "B4", .backend = "sqlite", .impl = "raw_c", .variant = "prepared",
                            .journal = "delete", .ops = sz.updates, .seconds = t1 - t0});
    hero_vec_free(&hv);
    arena_free(&ar);
    close_db(db, path);
}

/* ---- B6 relationships ---------------------------------------------------------- */

/* The team columns of the current row (id, name, headquarters) as a new team. */
static void read_team(sqlite3_stmt *st, team_set *ts, str_arena *ar)
{
    team *t = team_set_add(ts, sqlite3_column_int64(st, 0));
    t->name = col_text(st, 1, ar);
    t->headquarters = col_text(st, 2, ar);
}

/* The heroes of the teams in ts: SELECT ... WHERE hero.team_id IN (?, ...),
 * as many statements as SQLite's limit on parameters needs. */
static void load_heroes_in(sqlite3 *db, const team_set *ts, hero_vec *hv, str_arena *ar)
{
    size_t limit = (size_t)sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    const char head[] = "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id FROM hero "
                        "WHERE hero.team_id IN (";
    for (size_t at = 0; at < ts->n;) {
        size_t k = ts->n - at < limit ? ts->n - at : limit;
        char *sql = bench_xmalloc(sizeof head + 3 * k + 2);
        size_t len = sizeof head - 1;
        memcpy(sql, head, len);
        for (size_t j = 0; j < k; j++) {
            memcpy(sql + len, j ? ", ?" : "?", j ? 3 : 1);
            len += j ? 3 : 1;
        }
        memcpy(sql + len, ")", 2);
        sqlite3_stmt *st = prepare(db, sql);
        free(sql);
        for (size_t j = 0; j < k; j++)
            sqlite3_bind_int64(st, (int)j + 1, ts->v[at + j].id);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            read_hero(st, hero_vec_push(hv), ar);
        check(db, rc, SQLITE_DONE, "SELECT heroes IN");
        sqlite3_finalize(st);
        at += k;
    }
}

static void b6_variant(sqlite3 *db, const char *variant)
{
    team_set ts = {0};
    hero_vec hv = {0};
    str_arena ar = {0};
    int rc;
    double t0 = bench_timed_begin();
    if (!strcmp(variant, "two_queries")) {
        /* One read transaction: both queries see one snapshot, as in a session. */
        exec(db, "BEGIN");
        sqlite3_stmt *st = prepare(db, SELECT_TEAMS_SQL);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            read_team(st, &ts, &ar);
        check(db, rc, SQLITE_DONE, SELECT_TEAMS_SQL);
        sqlite3_finalize(st);
        load_heroes_in(db, &ts, &hv, &ar);
        exec(db, "COMMIT");
    } else { /* join: a team's columns repeat on each of its rows; read them once */
        sqlite3_stmt *st = prepare(db, SELECT_JOIN_SQL);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (!team_set_find(&ts, sqlite3_column_int64(st, 0)))
                read_team(st, &ts, &ar);
            if (sqlite3_column_type(st, 3) != SQLITE_NULL)
                read_hero_at(st, 3, hero_vec_push(&hv), &ar);
        }
        check(db, rc, SQLITE_DONE, SELECT_JOIN_SQL);
        sqlite3_finalize(st);
    }
    team_set_attach(&ts, &hv);
    double t1 = bench_timed_end();
    team_set_check_b6(&ts, sz.b6_teams);
    bench_emit(&(bench_rec){.case_name = "B6", .backend = "sqlite", .impl = "raw_c", .variant = variant,
                            .journal = "delete", .ops = (long)hv.n, .seconds = t1 - t0});
    team_set_free(&ts);
    hero_vec_free(&hv);
    arena_free(&ar);
}

static void case_b6(void)
{
    static const char *const variants[] = {"two_queries", "join", NULL};
    for (const char *const *v = variants; *v; v++) {
        if (!bench_want(&opt, *v))
            continue;
        char path[4096];
        sqlite3 *db = fresh_db(path, sizeof path, "delete", sz.b6_teams, sz.b6_teams * BENCH_B6_PER_TEAM);
        b6_variant(db, *v);
        close_db(db, path);
    }
}

int main(int argc, char **argv)
{
    bench_parse_args(argc, argv, &opt);
    sz = bench_sizes_get();
    if (opt.backend && strcmp(opt.backend, "sqlite"))
        bench_die("raw_sqlite runs only --backend sqlite");
    bool b6 = !strcmp(opt.case_name, "B6");
    if (opt.variant && (b6 ? strcmp(opt.variant, "two_queries") && strcmp(opt.variant, "join")
                           : strcmp(opt.variant, "prepared")))
        bench_die("raw_sqlite's variants: prepared (B1-B4), two_queries and join (B6)");
    if (strcmp(opt.journal, "delete") && strcmp(opt.case_name, "B1"))
        bench_die("--journal wal applies to B1 only");
    if (!strcmp(opt.case_name, "B1"))
        case_b1(opt.journal);
    else if (!strcmp(opt.case_name, "B2"))
        case_b2();
    else if (!strcmp(opt.case_name, "B3"))
        case_b3();
    else if (!strcmp(opt.case_name, "B4"))
        case_b4();
    else if (b6)
        case_b6();
    else if (!strcmp(opt.case_name, "B5"))
        bench_die("B5 runs on PostgreSQL only");
    else
        bench_die("unknown case %s", opt.case_name);
    sqlite3_shutdown();
    return 0;
}
