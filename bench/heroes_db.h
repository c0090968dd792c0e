/* SPDX-License-Identifier: MIT */
/* heroes_db.h — untimed setup shared by the C benchmark programs: a fresh
 * database holding the heroes schema, the teams (B1-B5: BENCH_TEAMS; B6:
 * its own number) and, for the cases that read, heroes 1..n, hero i in team
 * 1 + i % teams (hero_team_of). Made with the raw drivers and closed again, so every
 * C implementation (raw_sqlite, raw_libpq, calx_bench) starts each case from
 * the same state, opens its own connection, and does not carry the setup's
 * memory into B2's peak RSS. */
#ifndef CALX_BENCH_HEROES_DB_H
#define CALX_BENCH_HEROES_DB_H

/* The DDL SQLModel and SQLAlchemy emit for the heroes models. */
extern const char *const HEROES_SQLITE_DDL[];
extern const char *const HEROES_PG_DDL[];

/* SQLite: removes path (and its -journal, -wal, -shm), creates it with the
 * schema, journal_mode "delete" (SQLite's default) or "wal", teams 1..teams
 * and heroes 1..n (one prepared INSERT, one transaction, nothing kept in
 * memory). */
void heroes_sqlite_create(const char *path, const char *journal, long teams, long n);
void heroes_sqlite_remove(const char *path);

/* PostgreSQL: drops and recreates the tables at url, teams 1..teams,
 * heroes 1..n through COPY, then ANALYZE. */
void heroes_pg_create(const char *url, long teams, long n);
/* Drops the tables. */
void heroes_pg_drop(const char *url);

#endif
