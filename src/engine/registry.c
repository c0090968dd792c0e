/* SPDX-License-Identifier: MIT */
/* The database registry: which URL schemes calx accepts, and for each the
 * dialect that renders its SQL and the driver that talks to it. One row
 * per database; nothing else in calx lists the databases. calx_url_parse
 * is defined here, since only this floor knows the schemes: it hands the
 * rows down to core's parser (core/url_scheme.h). */
#include <string.h>

#include "driver/sqlite.h"
#include "engine/engine_int.h"
#include "engine/registry.h"

static const char *const postgresql_aliases[] = { "postgres", NULL };

/* A backend left out of the build (CMake's CALX_WITH_SQLITE=OFF,
 * CALX_WITH_POSTGRESQL=OFF) keeps its row without a driver, so that its
 * URLs are still recognized and refused with the reason, not taken for an
 * unknown database. Its dialect stays: it needs no client library, and
 * compiling SQL for the database needs no connection. */
#if CALX_WITH_SQLITE
#define SQLITE_URL_FORM (&calx__sqlite_url_form)
#define SQLITE_DRIVER (&calx__sqlite_driver)
#else
#define SQLITE_URL_FORM NULL
#define SQLITE_DRIVER NULL
#endif
#if CALX_WITH_POSTGRESQL
#define POSTGRESQL_DRIVER (&calx__postgres_driver)
#else
#define POSTGRESQL_DRIVER NULL
#endif

static const calx__database databases[] = {
    { { "sqlite", NULL, SQLITE_URL_FORM }, &calx__dialect_sqlite, SQLITE_DRIVER,
      "CALX_WITH_SQLITE" },
    { { "postgresql", postgresql_aliases, NULL }, &calx__dialect_postgresql,
      POSTGRESQL_DRIVER, "CALX_WITH_POSTGRESQL" },
};

const calx__database *calx__database_at(size_t i)
{
    return i < sizeof databases / sizeof *databases ? &databases[i] : NULL;
}

static const calx__url_scheme *scheme_at(size_t i)
{
    const calx__database *db = calx__database_at(i);
    return db ? &db->scheme : NULL;
}

const calx__database *calx__database_for(const char *scheme, calx_error *err)
{
    char known[256];
    for (size_t i = 0; scheme && i < sizeof databases / sizeof *databases; i++) {
        const calx__database *db = &databases[i];
        if (strcmp(db->scheme.name, scheme) == 0)
            return db;
        for (const char *const *a = db->scheme.aliases; a && *a; a++)
            if (strcmp(*a, scheme) == 0)
                return db;
    }
    calx__url_schemes_list(scheme_at, known, sizeof known);
    if (!scheme || !*scheme)
        calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                       "the database URL names no database; calx supports %s", known);
    else
        calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                       "no database '%.64s' is registered; calx supports %s", scheme,
                       known);
    return NULL;
}

const calx__database *calx__database_built(const char *scheme, calx_error *err)
{
    const calx__database *db = calx__database_for(scheme, err);
    if (db && !db->driver) {
        calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                       "this calx was built without %s support (CMake option %s=OFF), so "
                       "it cannot open %s:// URLs; rebuild calx with -D%s=ON",
                       db->dialect->display_name, db->build_option, db->scheme.name,
                       db->build_option);
        return NULL;
    }
    return db;
}

const calx__database *calx__engine_database(const calx_engine *e)
{
    return e->database;
}

calx_url *calx_url_parse(const char *url, calx_error *err)
{
    return calx__url_parse_among(url, scheme_at, err);
}
