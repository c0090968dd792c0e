/* SQL dialects: what the SQL layer needs to know about each database.
 *
 * Small for now (the paramstyle and two capabilities); the SQL expression
 * compiler will grow it. Dialects are static and never freed. */
#ifndef CALX_SQL_DIALECT_H
#define CALX_SQL_DIALECT_H

#include <stdbool.h>

/* How a dialect's SQL marks bound parameters. */
typedef enum calx_paramstyle {
    CALX_PARAMSTYLE_QMARK,   /* ? ? ?      (SQLite) */
    CALX_PARAMSTYLE_DOLLAR   /* $1 $2 $3   (PostgreSQL) */
} calx_paramstyle;

typedef struct calx_dialect {
    const char *name;            /* "sqlite", "postgresql": calx_url's dialect */
    calx_paramstyle paramstyle;
    bool supports_returning;     /* INSERT/UPDATE/DELETE ... RETURNING */
    bool supports_savepoints;    /* SAVEPOINT / RELEASE / ROLLBACK TO */
} calx_dialect;

extern const calx_dialect calx_dialect_sqlite;
extern const calx_dialect calx_dialect_postgresql;

/* The dialect called name ("sqlite", "postgresql", or its alias
 * "postgres"), or NULL for any other name or NULL. Static; never freed. */
const calx_dialect *calx_dialect_for(const char *name);

#endif
