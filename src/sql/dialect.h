/* SQL dialects: what the SQL layer needs to know about each database.
 *
 * The paramstyle and the capabilities the DDL and SELECT compilers need.
 * Dialects are static and never freed. */
#ifndef CALX_SQL_DIALECT_H
#define CALX_SQL_DIALECT_H

#include <stdbool.h>

/* Which database a dialect is, for the forms a compiler renders per
 * database (LIMIT without OFFSET, the empty IN). */
typedef enum calx_dialect_id {
    CALX_DIALECT_SQLITE = 1,
    CALX_DIALECT_POSTGRESQL
} calx_dialect_id;

/* How a dialect's SQL marks bound parameters. */
typedef enum calx_paramstyle {
    CALX_PARAMSTYLE_QMARK,   /* ? ? ?      (SQLite) */
    CALX_PARAMSTYLE_DOLLAR   /* $1 $2 $3   (PostgreSQL) */
} calx_paramstyle;

typedef struct calx_dialect {
    const char *name;            /* "sqlite", "postgresql": calx_url's dialect */
    calx_dialect_id id;
    calx_paramstyle paramstyle;
    bool supports_returning;     /* INSERT/UPDATE/DELETE ... RETURNING */
    bool supports_savepoints;    /* SAVEPOINT / RELEASE / ROLLBACK TO */
    bool supports_native_boolean;   /* false: a boolean column standing alone as a
                                       condition renders "col = 1" ("col = 0"
                                       negated), as SQLAlchemy does on SQLite */
    bool supports_ilike;         /* false: ILIKE renders lower(a) LIKE lower(b) */
    bool supports_update_from;   /* UPDATE t SET ... FROM other */
    bool supports_delete_using;  /* DELETE FROM t USING other */
    unsigned max_params;         /* the most bound parameters one statement may carry */
} calx_dialect;

extern const calx_dialect calx__dialect_sqlite;
extern const calx_dialect calx__dialect_postgresql;

/* The dialect called name ("sqlite", "postgresql", or its alias
 * "postgres"), or NULL for any other name or NULL. Static; never freed. */
const calx_dialect *calx__dialect_for(const char *name);

#endif
