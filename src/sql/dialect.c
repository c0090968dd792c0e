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
    .supports_ilike = false,
    .supports_update_from = true,    /* since 3.33 (2020) */
    .supports_delete_using = false,
    .max_params = 32766,             /* SQLITE_MAX_VARIABLE_NUMBER since 3.32 */
};

const calx_dialect calx__dialect_postgresql = {
    .name = "postgresql",
    .id = CALX_DIALECT_POSTGRESQL,
    .paramstyle = CALX_PARAMSTYLE_DOLLAR,
    .supports_returning = true,
    .supports_savepoints = true,
    .supports_native_boolean = true,
    .supports_ilike = true,
    .supports_update_from = true,
    .supports_delete_using = true,
    .max_params = 65535,             /* the protocol's 16-bit parameter count */
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
