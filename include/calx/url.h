/* SPDX-License-Identifier: MIT */
/* calx — database URLs.
 *
 *   sqlite:///relative/path.db      a file relative to the working directory
 *   sqlite:////absolute/path.db     an absolute path
 *   sqlite://  sqlite:///:memory:   an in-memory database
 *   sqlite:///app.db?mode=ro&journal_mode=wal&busy_timeout=5000
 *   postgresql://user:password@host:5432/dbname?sslmode=disable
 *   postgresql://user@h1:5432,h2:5433/db?target_session_attrs=read-write
 *
 * The aliases sqlite+aiosqlite:// and postgresql+asyncpg:// (and any other
 * "+driver" suffix on those two dialects) are accepted, so URLs from Python
 * configurations work unchanged. Components are percent-decoded.
 *
 * The split is SQLAlchemy's make_url's, except that an '@' past the first
 * '/' or '?' belongs to the database or query, as in libpq, whenever what
 * comes before is a valid host list: postgresql://h:5432/db@x is the
 * database "db@x" on h. A password holding '/' or '?' unescaped still
 * parses where libpq's reading is no valid URL (u:pa/ss@h).
 */
#ifndef CALX_URL_H
#define CALX_URL_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_url_host {
    char *host;     /* decoded; "" when absent */
    int port;       /* 0 when absent */
} calx_url_host;

typedef struct calx_url_param {
    char *key;      /* decoded */
    char *value;    /* decoded; "" for a key with no '=' */
} calx_url_param;

/* A driver option given beside the URL (an engine's connect_args): SQLite
 * pragmas ("journal_mode" = "wal", "busy_timeout" = "5000", ...), libpq
 * keywords for PostgreSQL. */
typedef struct calx_kv {
    const char *key;
    const char *value;
} calx_kv;

typedef struct calx_url {
    char *dialect;        /* the registered database the scheme names, "sqlite"
                             or "postgresql" (an alias, "postgres", normalised) */
    char *driver;         /* the "+driver" suffix as written, or NULL */
    char *username;       /* NULL when absent */
    char *password;       /* NULL when absent; never printed by calx */
    char *host;           /* first host, NULL when absent */
    int port;             /* first host's port, 0 when absent */
    size_t nhosts;        /* number of hosts (postgresql multi-host URLs) */
    calx_url_host *hosts;
    char *database;       /* sqlite: the file path, or NULL for memory; pg: dbname or NULL */
    bool memory;          /* an in-memory database (sqlite:// or sqlite:///:memory:) */
    size_t nquery;        /* query options in the order written */
    calx_url_param *query;
} calx_url;

/* Parses a database URL. Returns a new calx_url, owned by the caller (free
 * with calx_url_free), or NULL with err filled: CALX_ERR_URL with a message
 * that says what is wrong and at which character, the password masked (a
 * scheme no registered database has is named, with the ones calx knows);
 * CALX_ERR_ARGUMENT when url is NULL; CALX_ERR_NOMEM. The message quotes the
 * URL with the password (and any ?password= value) as ***, and character
 * positions count from 1 in that quoted URL. err may be NULL. */
CALX_API calx_url *calx_url_parse(const char *url, calx_error *err);

/* Frees a URL from calx_url_parse or calx_url_copy. NULL is a no-op. */
CALX_API void calx_url_free(calx_url *url);

/* A deep copy, owned by the caller (free with calx_url_free); NULL when
 * memory runs out or url is NULL. */
CALX_API calx_url *calx_url_copy(const calx_url *url);

/* Renders the URL back to a string, the password (and the value of any
 * query option whose name ends in "password") shown as *** unless
 * hide_password is false. Every character that would change the parse is
 * %-encoded, so calx_url_parse of the result (with hide_password false)
 * gives back the same fields. Returns a malloc'd string owned by the caller
 * (free with free()), or NULL when memory runs out or url is NULL. */
CALX_API char *calx_url_render(const calx_url *url, bool hide_password);

/* The value of query option key (last one wins), or NULL, also when url or
 * key is NULL; owned by url. */
CALX_API const char *calx_url_query_get(const calx_url *url, const char *key);

#ifdef __cplusplus
}
#endif
#endif
