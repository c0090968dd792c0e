/* SPDX-License-Identifier: MIT */
/* heroes_sqlite.c — see heroes_db.h. */
#include "heroes_db.h"

#include "bench_common.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const HEROES_SQLITE_DDL[] = {
    "CREATE TABLE team (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, \n"
    "\theadquarters VARCHAR NOT NULL, \n\tPRIMARY KEY (id)\n)",
    "CREATE TABLE hero (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, \n"
    "\tsecret_name VARCHAR NOT NULL, \n\tage INTEGER, \n\tteam_id INTEGER, \n"
    "\tPRIMARY KEY (id), \n\tFOREIGN KEY(team_id) REFERENCES team (id)\n)",
    "CREATE INDEX ix_hero_name ON hero (name)",
    "CREATE INDEX ix_hero_age ON hero (age)",
    NULL,
};

static void check(sqlite3 *db, int rc, int want, const char *what)
{
    if (rc != want)
        bench_die("setup: %s: %s (%d)", what, sqlite3_errmsg(db), rc);
}

static void exec(sqlite3 *db, const char *sql) { check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, sql); }

void heroes_sqlite_remove(const char *path)
{
    static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
    char buf[4096];
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
        snprintf(buf, sizeof buf, "%s%s", path, suffix[i]);
        unlink(buf);
    }
}

void heroes_sqlite_create(const char *path, const char *journal, long teams, long n)
{
    heroes_sqlite_remove(path);
    sqlite3 *db;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK)
        bench_die("cannot create %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_stmt *st;
    if (!strcmp(journal, "wal")) {
        /* WAL persists in the file: every later connection uses it. */
        check(db, sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL), SQLITE_OK, "journal_mode");
        check(db, sqlite3_step(st), SQLITE_ROW, "journal_mode");
        if (strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)
            bench_die("%s: journal_mode is %s, not wal", path, sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    for (const char *const *d = HEROES_SQLITE_DDL; *d; d++)
        exec(db, *d);
    exec(db, "BEGIN");
    check(db, sqlite3_prepare_v2(db, "INSERT INTO team (name, headquarters) VALUES (?, ?)", -1, &st, NULL),
          SQLITE_OK, "insert team");
    for (long j = 1; j <= teams; j++) {
        char name[32], hq[32];
        int nl = snprintf(name, sizeof name, "team-%ld", j);
        int hl = snprintf(hq, sizeof hq, "hq-%ld", j);
        sqlite3_bind_text(st, 1, name, nl, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hq, hl, SQLITE_STATIC);
        check(db, sqlite3_step(st), SQLITE_DONE, "insert team");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    check(db,
          sqlite3_prepare_v2(db, "INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)", -1, &st,
                             NULL),
          SQLITE_OK, "insert hero");
    for (long i = 1; i <= n; i++) {
        char name[32], secret[32];
        int32_t age;
        int nl = hero_name(i, name), sl = hero_secret(i, secret);
        sqlite3_bind_text(st, 1, name, nl, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, secret, sl, SQLITE_STATIC);
        if (hero_age(i, &age))
            sqlite3_bind_int(st, 3, age);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, hero_team_of(i, teams));
        check(db, sqlite3_step(st), SQLITE_DONE, "insert hero");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    exec(db, "COMMIT");
    check(db, sqlite3_close(db), SQLITE_OK, "close");
}
