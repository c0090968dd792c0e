/* Choosing a driver for a URL's dialect. */
#include <string.h>

#include "driver/driver.h"

/* The driver for url's dialect: a static object, not to be freed. NULL
 * with CALX_ERR_NOT_SUPPORTED for a dialect calx has no driver for. */
const calx_driver *calx_driver_for(const calx_url *url, calx_error *err)
{
    if (!url || !url->dialect || !*url->dialect) {
        calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                       "the database URL names no dialect; calx supports sqlite and postgresql");
        return NULL;
    }
    if (strcmp(url->dialect, "sqlite") == 0)
        return &calx_sqlite_driver;
    if (strcmp(url->dialect, "postgresql") == 0)
        return &calx_postgres_driver;
    calx_error_set(err, CALX_ERR_NOT_SUPPORTED,
                   "no driver for the database dialect '%s'; calx supports sqlite "
                   "and postgresql",
                   url->dialect);
    return NULL;
}
