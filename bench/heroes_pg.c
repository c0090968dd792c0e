/* SPDX-License-Identifier: MIT */
/* heroes_pg.c — see heroes_db.h. */
#include "heroes_db.h"

#include "bench_common.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

const char *const HEROES_PG_DDL[] = {
    "CREATE TABLE team (\n\tid SERIAL NOT NULL, \n\tname VARCHAR NOT NULL, \n"
    "\theadquarters VARCHAR NOT NULL, \n\tPRIMARY KEY (id)\n)",
    "CREATE TABLE hero (\n\tid SERIAL NOT NULL, \n\tname VARCHAR NOT NULL, \n"
    "\tsecret_name VARCHAR NOT NULL, \n\tage INTEGER, \n\tteam_id INTEGER, \n"
    "\tPRIMARY KEY (id), \n\tFOREIGN KEY(team_id) REFERENCES team (id)\n)",
    "CREATE INDEX ix_hero_name ON hero (name)",
    "CREATE INDEX ix_hero_age ON hero (age)",
    NULL,
};

static void fail(PGconn *c, PGresult *r, const char *what)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    bench_die("setup: %s: %s", what, msg);
}

static void exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail(c, r, sql);
    PQclear(r);
}

static PGconn *connect_or_die(const char *url)
{
    if (!url || !*url)
        bench_die("no PostgreSQL URL: pass --pg-url or set CALX_TEST_PG_URL (bench/run.sh starts a server)");
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        PQfinish(c);
        bench_die("cannot connect to %s: %s", url, msg);
    }
    exec(c, "SET client_min_messages = warning");
    return c;
}

static void drop(PGconn *c)
{
    exec(c, "DROP TABLE IF EXISTS hero");
    exec(c, "DROP TABLE IF EXISTS team");
}

void heroes_pg_drop(const char *url)
{
    PGconn *c = connect_or_die(url);
    drop(c);
    PQfinish(c);
}

void heroes_pg_create(const char *url, long teams, long n)
{
    PGconn *c = connect_or_die(url);
    drop(c);
    for (const char *const *d = HEROES_PG_DDL; *d; d++)
        exec(c, *d);
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT INTO team (name, headquarters) SELECT 'team-' || j, 'hq-' || j FROM generate_series(1, %ld) AS j",
             teams);
    exec(c, sql);
    PGresult *r = PQexec(c, "COPY hero (name, secret_name, age, team_id) FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN)
        fail(c, r, "COPY hero");
    PQclear(r);
    char buf[65536];
    size_t used = 0;
    for (long i = 1; i <= n; i++) {
        int32_t age;
        char agebuf[16] = "\\N";
        if (hero_age(i, &age))
            snprintf(agebuf, sizeof agebuf, "%d", (int)age);
        used += (size_t)snprintf(buf + used, sizeof buf - used, "hero-%ld\tsecret-%ld\t%s\t%ld\n", i, i, agebuf,
                                 hero_team_of(i, teams));
        if (used > sizeof buf - 128 || i == n) {
            if (PQputCopyData(c, buf, (int)used) != 1)
                fail(c, NULL, "COPY hero");
            used = 0;
        }
    }
    if (PQputCopyEnd(c, NULL) != 1)
        fail(c, NULL, "COPY hero");
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail(c, r, "COPY hero");
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    exec(c, "ANALYZE team");
    exec(c, "ANALYZE hero");
    PQfinish(c);
}
