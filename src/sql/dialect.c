/* The dialects calx supports. */
#include <string.h>

#include "sql/dialect.h"

/* RETURNING needs SQLite 3.35 (2021); every SQLite calx builds against is
 * newer (Debian 12 ships 3.40). */
const calx_dialect calx__dialect_sqlite = {
    .name = "sqlite",
    .id = CALX_DIALECT_SQLITE,
    .paramstyle = CALX_PARAMSTYLE_QMARK,
    .supports_returning = true,
    .supports_savepoints = true,
    .supports_native_boolean = false,
};

const calx_dialect calx__dialect_postgresql = {
    .name = "postgresql",
    .id = CALX_DIALECT_POSTGRESQL,
    .paramstyle = CALX_PARAMSTYLE_DOLLAR,
    .supports_returning = true,
    .supports_savepoints = true,
    .supports_native_boolean = true,
};

const calx_dialect *calx__dialect_for(const char *name)
{
    if (!name)
        return NULL;
    if (strcmp(name, "sqlite") == 0)
        return &calx__dialect_sqlite;
    if (strcmp(name, "postgresql") == 0 || strcmp(name, "postgres") == 0)
        return &calx__dialect_postgresql;
    return NULL;
}
