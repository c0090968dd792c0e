/* SPDX-License-Identifier: MIT */
/* The SQLite driver's URLs and options: how a URL names the file (its
 * form, for the URL parser), and what the URL's query and connect_args may
 * say (SQLite's URI options mode, cache and vfs, calx's begin,
 * inline_reads and timeout, Python's sqlite3.connect arguments, and any
 * pragma SQLite knows), checked strictly before anything is opened, since SQLite itself
 * ignores an unknown pragma and takes a bad value as 0 without a word.
 * Parsed into the connection by connect, and checked once more, alone, by
 * calx_create_engine (check_options). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chars.h"
#include "core/nomem.h"
#include "core/number_text.h"
#include "core/spell.h"
#include "driver/sqlite_int.h"

/* ---- the URL's form ---- */

/* No database, or ":memory:", is an in-memory database, as in SQLAlchemy. */
static void finish_url(calx_url *u)
{
    if (!u->database || strcmp(u->database, ":memory:") == 0) {
        free(u->database);
        u->database = NULL;
        u->memory = true;
    }
}

const calx__url_form calx__sqlite_url_form = {
    .path_only = "sqlite:///relative/path.db, sqlite:////absolute/path.db or sqlite://",
    .finish = finish_url,
};

static bool is_identifier(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* What may be pasted after "PRAGMA x =": words and numbers, nothing that
 * could end the statement or open a string. */
static bool is_pragma_value(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
            return false;
    return true;
}

/* Sets pragma key to value, a later setting of the same key replacing an
 * earlier one in place. */
static int set_pragma(calx_sqlite_conn *c, const char *key, const char *value,
                      calx_error *err)
{
    char *v = strdup(value);
    if (!v)
        return calx__nomem(err, "copying options");
    for (size_t i = 0; i < c->npragmas; i++) {
        if (calx__ascii_casecmp(c->pragmas[i].key, key) == 0) {
            free(c->pragmas[i].value);
            c->pragmas[i].value = v;
            return 0;
        }
    }
    calx_sqlite_pragma *grown = realloc(c->pragmas, (c->npragmas + 1) * sizeof *grown);
    char *k = strdup(key);
    if (grown)
        c->pragmas = grown;
    if (!grown || !k) {
        free(k);
        free(v);
        return calx__nomem(err, "copying options");
    }
    c->pragmas[c->npragmas].key = k;
    c->pragmas[c->npragmas].value = v;
    c->npragmas++;
    return 0;
}

/* One URL query option or connect_args entry. */
static int take_option(calx_sqlite_conn *c, const char *key, const char *value,
                       const char **mode, calx_error *err)
{
    if (!key)
        return calx_error_set(err, CALX_ERR_ARGUMENT, "a connect_args entry has no key");
    if (!value)
        value = "";
    if (strcmp(key, "mode") == 0) {
        *mode = value;
        return 0;
    }
    if (strcmp(key, "vfs") == 0) {
        /* SQLite's URI option: the VFS to open the file with, by its
         * registered name. Reads then never run inline: only calx's own
         * VFS can keep them from blocking the loop (sqlite_vfs.c). */
        char *name = strdup(value);
        if (!name)
            return calx__nomem(err, "copying options");
        free(c->vfs);
        c->vfs = name;
        return 0;
    }
    if (strcmp(key, "cache") == 0) {
        /* SQLite's URI option: shared cache is what READ UNCOMMITTED acts on. */
        c->open_flags &= ~(SQLITE_OPEN_SHAREDCACHE | SQLITE_OPEN_PRIVATECACHE);
        if (strcmp(value, "shared") == 0)
            c->open_flags |= SQLITE_OPEN_SHAREDCACHE;
        else if (strcmp(value, "private") == 0)
            c->open_flags |= SQLITE_OPEN_PRIVATECACHE;
        else
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "invalid value '%.100s' for cache: SQLite supports "
                                  "shared and private",
                                  value);
        return 0;
    }
    /* Options of Python's sqlite3.connect that mean nothing here, accepted
     * so that connect_args copied from a Python configuration still work
     * (isolation_level belongs to the engine's own option). */
    static const char *const python_only[] = {
        "uri", "check_same_thread", "detect_types", "cached_statements",
        "isolation_level", "factory",
    };
    for (size_t i = 0; i < sizeof python_only / sizeof *python_only; i++)
        if (strcmp(key, python_only[i]) == 0)
            return 0;
    if (strcmp(key, "begin") == 0) {
        /* Python 3.12's sqlite3 autocommit=False takes "DEFERRED" too. */
        if (!calx__ascii_casecmp(value, "deferred"))
            c->begin_sql = NULL;
        else if (!calx__ascii_casecmp(value, "immediate"))
            c->begin_sql = "BEGIN IMMEDIATE";
        else if (!calx__ascii_casecmp(value, "exclusive"))
            c->begin_sql = "BEGIN EXCLUSIVE";
        else
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "invalid value '%.100s' for begin: expected deferred, "
                                  "immediate or exclusive",
                                  value);
        return 0;
    }
    if (strcmp(key, "inline_reads") == 0) {
        /* calx's own option: see try_inline. */
        if (!strcmp(value, "1") || !calx__ascii_casecmp(value, "true") ||
            !calx__ascii_casecmp(value, "on") || !calx__ascii_casecmp(value, "yes"))
            c->inline_reads = true;
        else if (!strcmp(value, "0") || !calx__ascii_casecmp(value, "false") ||
                 !calx__ascii_casecmp(value, "off") || !calx__ascii_casecmp(value, "no"))
            c->inline_reads = false;
        else
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "invalid value '%.100s' for inline_reads: expected true or false",
                                  value);
        return 0;
    }
    if (strcmp(key, "timeout") == 0) {
        /* Seconds, as sqlite3.connect(timeout=...) takes them. */
        char *end;
        errno = 0;
        double secs = calx__text_double(value, &end);
        if (!*value || *end || errno || !isfinite(secs) || secs < 0 ||
            secs > INT_MAX / 1000.0)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "invalid value '%.100s' for timeout: expected seconds",
                                  value);
        c->busy_ms = (int)(secs * 1000 + 0.5);
        char ms[32];
        snprintf(ms, sizeof ms, "%d", c->busy_ms);
        return set_pragma(c, "busy_timeout", ms, err);
    }
    if (calx__ascii_casecmp(key, "busy_timeout") == 0) {
        /* Milliseconds, as SQLite's pragma takes them; SQLite itself would
         * take "abc" as 0 without a word. */
        char *end;
        errno = 0;
        long ms = strtol(value, &end, 10);
        if (!*value || *end || errno || ms < 0 || ms > INT_MAX)
            return calx_error_set(err, CALX_ERR_ARGUMENT,
                                  "invalid value '%.100s' for busy_timeout: expected "
                                  "milliseconds, a whole number from 0",
                                  value);
        c->busy_ms = (int)ms;
        return set_pragma(c, "busy_timeout", value, err);
    }
    if (calx__ascii_casecmp(key, "journal_mode") == 0)
        c->journal_set = true;
    if (!is_identifier(key))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "unknown SQLite pragma '%.100s' (from the URL or connect_args)",
                              key);
    if (!is_pragma_value(value))
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "invalid value '%.100s' for pragma '%s': only letters, "
                              "digits, '_', '.' and '-' are allowed",
                              value, key);
    return set_pragma(c, key, value, err);
}

int calx__sqlite_parse_options(calx_sqlite_conn *c, const calx_url *url, const calx_kv *args,
                               size_t nargs, const char *iso, calx_error *err)
{
    c->busy_ms = CALX_SQLITE_BUSY_MS;
    c->inline_reads = true;
    if (!iso || calx__ascii_casecmp(iso, "SERIALIZABLE") == 0) {
        c->iso = CALX_SQLITE_SERIALIZABLE;
    } else if (calx__ascii_casecmp(iso, "READ UNCOMMITTED") == 0 ||
               calx__ascii_casecmp(iso, "READ_UNCOMMITTED") == 0) {
        c->iso = CALX_SQLITE_READ_UNCOMMITTED;
    } else if (calx__ascii_casecmp(iso, "AUTOCOMMIT") == 0) {
        c->iso = CALX_SQLITE_AUTOCOMMIT;
    } else {
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "isolation level '%.100s' is not supported by SQLite; "
                              "use SERIALIZABLE, READ UNCOMMITTED or AUTOCOMMIT",
                              iso);
    }

    const char *mode = NULL;
    int rc;
    for (size_t i = 0; i < url->nquery; i++)
        if ((rc = take_option(c, url->query[i].key, url->query[i].value, &mode, err)) != 0)
            return rc;
    for (size_t i = 0; i < nargs; i++)
        if ((rc = take_option(c, args[i].key, args[i].value, &mode, err)) != 0)
            return rc;

    bool memory = url->memory || !url->database;
    if (!mode || strcmp(mode, "rwc") == 0) {
        c->open_flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    } else if (strcmp(mode, "rw") == 0) {
        c->open_flags |= SQLITE_OPEN_READWRITE;
    } else if (strcmp(mode, "ro") == 0) {
        c->open_flags |= SQLITE_OPEN_READONLY;
    } else if (strcmp(mode, "memory") == 0) {
        c->open_flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        memory = true;
    } else {
        return calx_error_set(err, CALX_ERR_ARGUMENT,
                              "invalid value '%.100s' for mode: SQLite supports ro, rw, "
                              "rwc and memory",
                              mode);
    }
    c->filename = strdup(memory ? ":memory:" : url->database);
    if (!c->filename)
        return calx__nomem(err, "copying the URL");
    return 0;
}

/* Frees what parse_options filled in. */
void calx__sqlite_options_free(calx_sqlite_conn *c)
{
    for (size_t i = 0; i < c->npragmas; i++) {
        free(c->pragmas[i].key);
        free(c->pragmas[i].value);
    }
    free(c->pragmas);
    free(c->filename);
    free(c->vfs);
}

/* Writes "; did you mean 'journal_mode'?" into buf when a pragma SQLite
 * knows, or one of calx's own options, is within a typo of the unknown
 * name; "" otherwise. */
static void suggest_option(sqlite3 *db, const char *name, char *buf, size_t n)
{
    static const char *const own[] = { "mode", "cache", "vfs", "begin", "inline_reads",
                                       "timeout" };
    const char *best = NULL;
    size_t best_distance = CALX_SPELL_FAR;
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (calx__spell_better(name, own[i], &best_distance))
            best = own[i];
    char pragma[CALX_SPELL_MAX_NAME + 1] = "";
    sqlite3_stmt *all = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_pragma_list", -1, &all, NULL) ==
        SQLITE_OK) {
        while (sqlite3_step(all) == SQLITE_ROW) {
            const char *known = (const char *)sqlite3_column_text(all, 0);
            if (known && calx__spell_better(name, known, &best_distance)) {
                snprintf(pragma, sizeof pragma, "%s", known);
                best = pragma;
            }
        }
    }
    sqlite3_finalize(all);
    if (best)
        snprintf(buf, n, "; did you mean '%s'?", best);
    else if (n)
        buf[0] = '\0';
}

/* Unknown pragmas are silently ignored by SQLite, so a typo would go
 * unnoticed: check c's pragma names against the list this build of SQLite
 * knows, on db. A build without introspection pragmas cannot check, and
 * does not. */
int calx__sqlite_check_pragma_names(const calx_sqlite_conn *c, sqlite3 *db, calx_error *err)
{
    sqlite3_stmt *known = NULL;
    if (!c->npragmas ||
        sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_pragma_list WHERE name = ?1 COLLATE NOCASE",
                           -1, &known, NULL) != SQLITE_OK)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < c->npragmas && !rc; i++) {
        sqlite3_bind_text(known, 1, c->pragmas[i].key, -1, SQLITE_STATIC);
        if (sqlite3_step(known) != SQLITE_ROW) {
            char guess[80];
            suggest_option(db, c->pragmas[i].key, guess, sizeof guess);
            rc = calx_error_set(err, CALX_ERR_ARGUMENT,
                                "unknown SQLite pragma '%s' (from the URL or connect_args)%s",
                                c->pragmas[i].key, guess);
        }
        sqlite3_reset(known);
    }
    sqlite3_finalize(known);
    return rc;
}

/* The driver's check_options (driver.h): the options parsed as connect
 * parses them, and the pragma names checked on a throwaway in-memory
 * database (nothing is opened on disk). */
int calx__sqlite_check_options(const calx_url *url, const calx_kv *args, size_t nargs,
                               const char *isolation_level, calx_error *err)
{
    calx_sqlite_conn *c = calloc(1, sizeof *c);
    if (!c)
        return calx__nomem(err, "checking options");
    int rc = calx__sqlite_parse_options(c, url, args, nargs, isolation_level, err);
    sqlite3 *db = NULL;
    if (!rc && c->npragmas) {
        if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
            rc = calx__sqlite_check_pragma_names(c, db, err);
        sqlite3_close_v2(db);
    }
    calx__sqlite_options_free(c);
    free(c);
    return rc;
}

/* The value of option key, connect_args over the URL's; NULL if unset. */
static const char *option_value(const calx_url *url, const calx_kv *args, size_t nargs,
                                const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < url->nquery; i++)
        if (url->query[i].key && calx__ascii_casecmp(url->query[i].key, key) == 0)
            v = url->query[i].value;
    for (size_t i = 0; args && i < nargs; i++)
        if (args[i].key && calx__ascii_casecmp(args[i].key, key) == 0)
            v = args[i].value;
    return v;
}

/* The driver's describe (driver.h): the journal mode, since calx's
 * default (WAL for a file) differs from SQLite's. */
void calx__sqlite_describe(const calx_url *url, const calx_kv *args, size_t nargs, char *buf,
                           size_t n)
{
    const char *journal = option_value(url, args, nargs, "journal_mode");
    const char *mode = option_value(url, args, nargs, "mode");
    if (!journal) {
        if (url->memory || !url->database || (mode && strcmp(mode, "memory") == 0))
            journal = "memory";
        else if (mode && strcmp(mode, "ro") == 0)
            journal = NULL;  /* whatever the file has: read-only cannot change it */
        else
            journal = "wal";
    }
    if (journal)
        snprintf(buf, n, ", journal_mode=%s", journal);
    else if (n)
        buf[0] = '\0';
}
