/* SPDX-License-Identifier: MIT */
/* The database registry: every registered scheme and alias reaches its
 * dialect and its driver, through the URL parser and through an engine;
 * an unknown scheme is refused naming itself and the known ones; and
 * every row's dialect is complete, so a new database cannot leave a fact
 * or a hook out. */
#include <stdint.h>

#include "calx.h"
#include "driver/sqlite.h"
#include "engine/registry.h"
#include "test.h"

static calx_loop *loop;

/* Parses url, which must name a registered database; its row, or NULL. */
static const calx__database *row_of(const char *url)
{
    calx_error err;
    calx_url *u = calx_url_parse(url, &err);
    if (!u) {
        fprintf(stderr, "  parse('%s'): %s\n", url, err.message);
        return NULL;
    }
    const calx__database *db = calx__database_for(u->dialect, &err);
    calx_url_free(u);
    return db;
}

TEST(each_registered_name_and_alias_maps_to_its_dialect_and_driver)
{
    const calx__database *sqlite = calx__database_for("sqlite", NULL);
    const calx__database *pg = calx__database_for("postgresql", NULL);
    CHECK(sqlite && sqlite->dialect == &calx__dialect_sqlite &&
          sqlite->driver == &calx__sqlite_driver);
    CHECK(pg && pg->dialect == &calx__dialect_postgresql &&
          pg->driver == &calx__postgres_driver);
    CHECK(calx__database_for("postgres", NULL) == pg);

    CHECK(row_of("sqlite://") == sqlite);
    CHECK(row_of("sqlite+aiosqlite:///app.db") == sqlite);
    CHECK(row_of("SQLite:///app.db") == sqlite);
    CHECK(row_of("postgresql://u@h/db") == pg);
    CHECK(row_of("postgres://u@h/db") == pg);
    CHECK(row_of("Postgres+asyncpg://u@h/db") == pg);
}

TEST(every_row_parses_under_its_name_and_aliases_and_names_its_dialect)
{
    const calx__database *db;
    size_t n = 0;
    for (size_t i = 0; (db = calx__database_at(i)) != NULL; i++, n++) {
        char url[96];
        /* The row's name is the dialect's: calx_engine_dialect says it. */
        CHECK_STR(db->scheme.name, db->dialect->name);
        snprintf(url, sizeof url, "%s:///somewhere", db->scheme.name);
        CHECK(row_of(url) == db);
        for (const char *const *a = db->scheme.aliases; a && *a; a++) {
            snprintf(url, sizeof url, "%s:///somewhere", *a);
            CHECK(row_of(url) == db);
        }
    }
    CHECK_INT(n, 2);
}

TEST(an_alias_is_normalised_to_the_registered_name)
{
    calx_error err;
    calx_url *u = calx_url_parse("postgres://scott@localhost/test", &err);
    CHECK(u != NULL);
    if (u)
        CHECK_STR(u->dialect, "postgresql");
    calx_url_free(u);
}

TEST(an_unknown_scheme_is_refused_naming_it_and_the_known_ones)
{
    calx_error err;
    CHECK(calx_url_parse("mysql://u:pwd@h/db", &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_URL);
    CHECK_STR(err.message, "invalid database URL 'mysql://u:***@h/db': unsupported "
                           "dialect 'mysql' (calx supports sqlite, postgresql, postgres) "
                           "at character 1");

    /* A close misspelling is offered the name meant. */
    CHECK(calx_url_parse("postgre://h/db", &err) == NULL);
    CHECK_CONTAINS(err.message, "did you mean 'postgres'?");
    CHECK(calx_url_parse("sqlit:///x.db", &err) == NULL);
    CHECK_CONTAINS(err.message, "did you mean 'sqlite'?");

    CHECK(calx__database_for("mysql", &err) == NULL);
    CHECK_INT(err.code, CALX_ERR_NOT_SUPPORTED);
    CHECK_STR(err.message, "no database 'mysql' is registered; calx supports sqlite, "
                           "postgresql, postgres");
    CHECK(calx__database_for(NULL, &err) == NULL);
    CHECK_CONTAINS(err.message, "names no database; calx supports sqlite");
    CHECK(calx__database_for("", NULL) == NULL);   /* err may be NULL */
    /* Lookups take the parsed, lowercase name. */
    CHECK(calx__database_for("SQLITE", NULL) == NULL);
}

TEST(an_engine_talks_to_the_database_its_scheme_names)
{
    calx_error err;
    /* Nothing connects before the first checkout: no server is needed. */
    static const struct {
        const char *url, *dialect;
    } cases[] = {
        { "sqlite://", "sqlite" },
        { "postgresql://scott@localhost:1/test", "postgresql" },
        { "postgres+asyncpg://scott@localhost:1/test", "postgresql" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        calx_engine *e = calx_create_engine(cases[i].url,
                                            &(calx_engine_opts){ .loop = loop }, &err);
        CHECK(e != NULL);
        if (!e) {
            fprintf(stderr, "  %s: %s\n", cases[i].url, err.message);
            continue;
        }
        CHECK_STR(calx_engine_dialect(e), cases[i].dialect);
        const calx__database *db = calx__engine_database(e);
        CHECK(db == calx__database_for(cases[i].dialect, NULL));
        calx_engine_free(e);
        calx_loop_run(loop);
    }
    CHECK(calx_create_engine("mssql://h/db", &(calx_engine_opts){ .loop = loop }, &err) ==
          NULL);
    CHECK_CONTAINS(err.message, "unsupported dialect 'mssql'");
}

TEST(a_file_database_url_form_belongs_to_its_driver)
{
    calx_error err;
    /* The SQLite driver's form: no authority, and no path is memory. */
    CHECK(calx__database_for("sqlite", NULL)->scheme.form == &calx__sqlite_url_form);
    CHECK(calx__database_for("postgresql", NULL)->scheme.form == NULL);
    calx_url *u = calx_url_parse("sqlite:///:memory:", &err);
    CHECK(u && u->memory && !u->database);
    calx_url_free(u);
    CHECK(calx_url_parse("sqlite://host/x.db", &err) == NULL);
    CHECK_CONTAINS(err.message, "sqlite URLs have no user name, password, host or port");
    /* A server URL with no database is not a memory database. */
    u = calx_url_parse("postgresql://h", &err);
    CHECK(u && !u->memory && !u->database);
    calx_url_free(u);
}

TEST(every_dialect_has_every_fact_and_hook)
{
    const calx__database *db;
    for (size_t i = 0; (db = calx__database_at(i)) != NULL; i++) {
        const calx_dialect *d = db->dialect;
        CHECK(d->display_name && d->current_timestamp && d->reserved_words);
        CHECK(d->identifier_quote != 0);
        for (int t = CALX_COL_INT32; t <= CALX_COL_TIMESTAMP; t++)
            CHECK(d->type_names[t] != NULL);
        CHECK(d->empty_in && d->empty_not_in);
        CHECK(d->limit_offset && d->has_table);
        CHECK(d->max_params > 0);
        CHECK(d->key_strategy >= CALX_KEYS_LASTROWID &&
              d->key_strategy <= CALX_KEYS_SEQUENCE_PREFETCH);
        /* Prefetching keys needs the SQL that draws them. */
        CHECK(d->key_strategy != CALX_KEYS_SEQUENCE_PREFETCH || d->sequence_prefetch_sql);
        /* RETURNING keys need RETURNING. */
        CHECK(d->key_strategy != CALX_KEYS_RETURNING || d->supports_returning);
        CHECK(db->driver->name && strcmp(db->driver->name, d->name) == 0);
    }
}

int main(void)
{
    calx_error err;
    loop = calx_loop_new(NULL, &err);
    RUN(each_registered_name_and_alias_maps_to_its_dialect_and_driver);
    RUN(every_row_parses_under_its_name_and_aliases_and_names_its_dialect);
    RUN(an_alias_is_normalised_to_the_registered_name);
    RUN(an_unknown_scheme_is_refused_naming_it_and_the_known_ones);
    RUN(an_engine_talks_to_the_database_its_scheme_names);
    RUN(a_file_database_url_form_belongs_to_its_driver);
    RUN(every_dialect_has_every_fact_and_hook);
    calx_loop_free(loop);
    return TEST_REPORT();
}
